/*
 * citus/sync_ship.c
 *		The coordinator's side of the Citus key store.
 *
 * On a Citus coordinator with workers, a row trigger on each of the
 * extension's replicated tables (privacy.citus_replicated_tables(): keys,
 * versions, grants, the root derivation key, purposes, purpose grants,
 * policy versions, consent state, masking rules and roles, protected
 * tables...) ships the change it sees, as JSON images of the old and new
 * row, into the reference table privacy.cluster_sync.  Citus writes that
 * row to every node's placement in the same distributed transaction
 * (two-phase commit), where a trigger applies it to the node's own tables
 * (citus/sync_apply.c) and stores nothing.  An unreachable node makes the
 * insert fail, so the change is refused on every node.
 *
 * The first change of a transaction also makes sure the reference table
 * exists (created on first need) and that every node was given a full copy
 * of the tables once (privacy.citus_sync_prepare(), SQL): keys created
 * before Citus or before a node was added reach it then.
 *
 * Shipping runs as the extension's owner: only the owner (or a superuser)
 * may write to privacy.cluster_sync, and the nodes refuse anyone else.
 * Everywhere else (no Citus, a worker, a coordinator alone, a change being
 * applied) the triggers do nothing.
 */
#include "citus/sync_ship.h"
#include "citus/sync_state.h"
#include "citus/citus_presence.h"
#include "admin.h"
#include "catalog.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/rel.h"

/*
 * The transaction whose first change ran privacy.citus_sync_prepare();
 * forgotten when a subtransaction aborts (it may have undone the
 * preparation).
 */
static LocalTransactionId prepared_lxid = InvalidLocalTransactionId;
static bool subxact_callback_registered = false;

static void
forget_preparation(SubXactEvent event, SubTransactionId mySubid,
				   SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		prepared_lxid = InvalidLocalTransactionId;
}

/* Whether changes made here are shipped to other nodes. */
static bool
shipping_here(void)
{
	return !px_sync_applying() && px_citus_present() &&
		px_citus_is_coordinator() && px_citus_worker_count() > 0;
}

/*
 * Runs sql (a SELECT of one of the extension's shipping functions) with
 * args as the extension's owner, after the transaction's preparation if
 * prepare and it has not run yet.  The caller is connected to SPI.
 */
static void
ship_as_owner(const char *sql, int nargs, Oid *argtypes, Datum *values, const char *nulls,
			  int expected, bool prepare)
{
	PxSavedUser saved;

	px_become_owner(px_extension_owner(), &saved);
	PG_TRY();
	{
		if (prepare && prepared_lxid != MyProc->lxid)
		{
			if (!subxact_callback_registered)
			{
				RegisterSubXactCallback(forget_preparation, NULL);
				subxact_callback_registered = true;
			}
			if (SPI_execute("SELECT privacy.citus_sync_prepare()", false, 0) != SPI_OK_SELECT)
				elog(ERROR, "could not prepare the privacy_ext cluster sync");
			prepared_lxid = MyProc->lxid;
		}
		if (SPI_execute_with_args(sql, nargs, argtypes, values, nulls, false, 0) != expected)
			elog(ERROR, "could not ship a privacy_ext change to the Citus nodes");
	}
	PG_FINALLY();
	{
		px_restore_user(&saved);
	}
	PG_END_TRY();
}

/*
 * privacy.citus_sync_capture(): AFTER row trigger (INSERT, UPDATE, DELETE)
 * and AFTER statement trigger (TRUNCATE) on each replicated table.
 */
PG_FUNCTION_INFO_V1(px_citus_sync_capture);
Datum
px_citus_sync_capture(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TriggerEvent event;
	Relation	rel;
	const char *op;
	Oid			argtypes[4];
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("privacy.citus_sync_capture() must be an AFTER trigger")));
	rel = trigdata->tg_relation;
	/* The nodes apply a change by table name to schema privacy. */
	if (RelationGetNamespace(rel) != px_schema_oid())
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("privacy.citus_sync_capture() fires only on privacy_ext's own tables")));
	if (!shipping_here())
		return PointerGetDatum(NULL);

	event = trigdata->tg_event;
	argtypes[0] = TEXTOID;
	argtypes[1] = TEXTOID;
	values[0] = CStringGetTextDatum(RelationGetRelationName(rel));

	SPI_connect();
	if (TRIGGER_FIRED_BY_TRUNCATE(event))
	{
		values[1] = CStringGetTextDatum("TRUNCATE");
		ship_as_owner("SELECT privacy.citus_ship($1, $2, NULL, NULL)", 2, argtypes, values, nulls,
					  SPI_OK_SELECT, true);
	}
	else
	{
		if (!TRIGGER_FIRED_FOR_ROW(event))
			ereport(ERROR,
					(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
					 errmsg("privacy.citus_sync_capture() must be a row trigger for INSERT, UPDATE and DELETE")));
		op = TRIGGER_FIRED_BY_INSERT(event) ? "INSERT" :
			TRIGGER_FIRED_BY_UPDATE(event) ? "UPDATE" : "DELETE";
		values[1] = CStringGetTextDatum(op);
		argtypes[2] = argtypes[3] = rel->rd_rel->reltype;
		if (TRIGGER_FIRED_BY_INSERT(event))
			nulls[2] = 'n';
		else
			values[2] = heap_copy_tuple_as_datum(trigdata->tg_trigtuple, RelationGetDescr(rel));
		if (TRIGGER_FIRED_BY_DELETE(event))
			nulls[3] = 'n';
		else
			values[3] = heap_copy_tuple_as_datum(TRIGGER_FIRED_BY_UPDATE(event) ?
												 trigdata->tg_newtuple : trigdata->tg_trigtuple,
												 RelationGetDescr(rel));
		ship_as_owner("SELECT privacy.citus_ship_row($1, $2, $3, $4)", 4, argtypes, values, nulls, SPI_OK_SELECT, true);
	}
	SPI_finish();
	return PointerGetDatum(NULL);
}

/* privacy.citus_ship_here(): the capture triggers' WHEN condition. */
PG_FUNCTION_INFO_V1(px_citus_ship_here);
Datum
px_citus_ship_here(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(shipping_here());
}

/*
 * privacy.citus_sync(): a full copy of the replicated tables to every
 * node now.  Citus first copies the reference table to nodes added since
 * it was made (replicate_reference_tables(), through connections of its
 * own, hence outside a transaction block).
 */
PG_FUNCTION_INFO_V1(px_citus_sync);
Datum
px_citus_sync(PG_FUNCTION_ARGS)
{
	int32		reached = 0;
	bool		isnull;

	px_require_key_admin();
	if (!px_citus_is_coordinator())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("privacy.citus_sync() runs on the Citus coordinator only")));
	if (IsTransactionBlock())
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("privacy.citus_sync() cannot run inside a transaction block"),
				 errdetail("Citus copies its reference tables to new nodes through connections of its own.")));
	if (px_citus_worker_count() == 0)
		PG_RETURN_INT32(0);

	SPI_connect();
	/* block_writes: privacy.cluster_sync has no replica identity (always empty). */
	ship_as_owner("SELECT pg_catalog.replicate_reference_tables('block_writes')", 0, NULL, NULL, NULL,
				  SPI_OK_SELECT, false);
	/* Every node gets the copy, not only those never given one. */
	ship_as_owner("DELETE FROM privacy.citus_synced_nodes", 0, NULL, NULL, NULL, SPI_OK_DELETE, false);
	ship_as_owner("SELECT privacy.citus_sync_prepare()", 0, NULL, NULL, NULL, SPI_OK_SELECT, false);
	prepared_lxid = MyProc->lxid;
	if (SPI_processed == 1)
		reached = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	PG_RETURN_INT32(reached);
}

void
px_citus_ship_wipe(uint32 key_id, uint32 version)
{
	Oid			argtypes[2] = {INT4OID, INT4OID};
	Datum		values[2];

	if (!shipping_here())
		return;
	values[0] = Int32GetDatum((int32) key_id);
	values[1] = Int32GetDatum((int32) version);
	SPI_connect();
	ship_as_owner("SELECT privacy.citus_ship('data_key_versions', 'WIPE',"
				  " pg_catalog.jsonb_build_object('key_id', $1, 'version', $2), NULL)",
				  2, argtypes, values, NULL, SPI_OK_SELECT, true);
	SPI_finish();
}
