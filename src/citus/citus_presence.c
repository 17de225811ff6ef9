/*
 * citus/citus_presence.c
 *		Is Citus here, is this node its coordinator, how many workers.
 *
 * Every answer is read from the catalogs once per transaction (the local
 * transaction id tells a new one): adding a node or creating the citus
 * extension is seen by the next transaction.  Citus's own tables are read
 * through SPI by name, only after the citus extension is known to exist.
 */
#include "citus/citus_presence.h"

#include "commands/extension.h"
#include "executor/spi.h"
#include "storage/proc.h"
#include "utils/guc.h"

typedef struct CitusPresence
{
	LocalTransactionId lxid;	/* the transaction the answers are for */
	bool		present;
	bool		group_known;
	int32		group;
	bool		workers_known;
	int			workers;
} CitusPresence;

static CitusPresence presence = {InvalidLocalTransactionId};

/* The answers of the current transaction: starts over in a new one. */
static CitusPresence *
current(void)
{
	if (presence.lxid != MyProc->lxid || presence.lxid == InvalidLocalTransactionId)
	{
		presence.lxid = MyProc->lxid;
		presence.present = OidIsValid(get_extension_oid("citus", true));
		presence.group_known = false;
		presence.workers_known = false;
	}
	return &presence;
}

bool
px_citus_present(void)
{
	return current()->present;
}

/* One int4 from a query over Citus's tables, or dflt when it gives no row. */
static int32
query_int(const char *sql, int32 dflt)
{
	int32		result = dflt;
	bool		isnull;

	SPI_connect();
	if (SPI_execute(sql, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the Citus metadata");
	if (SPI_processed == 1)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			result = DatumGetInt32(d);
	}
	SPI_finish();
	return result;
}

int32
px_citus_local_group(void)
{
	CitusPresence *p = current();

	if (!p->present)
		return -1;
	if (!p->group_known)
	{
		p->group = query_int("SELECT groupid FROM pg_catalog.pg_dist_local_group", -1);
		p->group_known = true;
	}
	return p->group;
}

bool
px_citus_is_coordinator(void)
{
	return px_citus_local_group() == PX_CITUS_COORDINATOR_GROUP;
}

int
px_citus_worker_count(void)
{
	CitusPresence *p = current();

	if (!p->present)
		return 0;
	if (!p->workers_known)
	{
		p->workers = query_int("SELECT pg_catalog.count(*)::int4 FROM pg_catalog.pg_dist_node"
							   " WHERE noderole OPERATOR(pg_catalog.=) 'primary'"
							   " AND groupid OPERATOR(pg_catalog.<>) 0",
							   0);
		p->workers_known = true;
	}
	return p->workers;
}

bool
px_citus_internal_session(void)
{
	const char *name = GetConfigOption("application_name", true, false);

	return name != NULL && strncmp(name, "citus_internal", strlen("citus_internal")) == 0 &&
		px_citus_present();
}
