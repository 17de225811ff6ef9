/*
 * citus/sync_apply.c
 *		A node's side of the Citus key store: applying a change the
 *		coordinator shipped (citus/sync_ship.c).
 *
 * privacy.citus_sync_apply() is a BEFORE INSERT row trigger on every
 * placement of the reference table privacy.cluster_sync.  It applies the
 * shipped change to the node's own tables through SQL
 * (privacy.citus_apply_change(), sql/parts/1.1/99_citus_keys.sql), so the
 * tables' own triggers run as for a local write: key and purpose caches are
 * invalidated at commit, the consent watch sees the changed subjects.  It
 * returns NULL: nothing is stored, so no copy of a wrapped key is left in
 * the reference table.  The node the change came from (the coordinator,
 * whose own placement gets the row too) skips it.
 *
 * Only the extension's owner or a superuser may ship changes: anyone else
 * inserting into the table is refused here, whatever its privileges on the
 * table say.  While a change is applied the capture triggers ship nothing
 * (citus/sync_state.h) and privacy.citus_wipe_key_version() may overwrite
 * key material in place, as destroy_key does on the coordinator.
 */
#include "citus/sync_state.h"
#include "citus/citus_presence.h"
#include "keys/key_admin.h"
#include "admin.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

/* Columns of privacy.cluster_sync (sql/parts/1.1/99_citus_keys.sql). */
#define Anum_cluster_sync_origin		1
#define Anum_cluster_sync_table_name	2
#define Anum_cluster_sync_op			3
#define Anum_cluster_sync_old_row		4
#define Anum_cluster_sync_new_row		5
#define Natts_cluster_sync				5

static void
require_owner(void)
{
	Oid			owner = InvalidOid;

	if (OidIsValid(get_extension_oid("privacy_ext", true)))
	{
		SPI_connect();
		owner = px_extension_owner();
		SPI_finish();
	}
	if (!superuser() && (!OidIsValid(owner) || GetUserId() != owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to apply a change of privacy_ext's tables"),
				 errdetail("Only the owner of the extension ships changes through privacy.%s.",
						   PX_SYNC_TABLE)));
}

PG_FUNCTION_INFO_V1(px_citus_sync_apply);
Datum
px_citus_sync_apply(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	HeapTuple	tuple;
	TupleDesc	desc;
	bool		isnull;
	int32		origin;
	Oid			argtypes[4] = {TEXTOID, TEXTOID, JSONBOID, JSONBOID};
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	int			i;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) || !TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("privacy.citus_sync_apply() must be a BEFORE INSERT row trigger")));
	require_owner();

	tuple = trigdata->tg_trigtuple;
	desc = RelationGetDescr(trigdata->tg_relation);
	if (desc->natts != Natts_cluster_sync)
		elog(ERROR, "privacy.%s has an unexpected shape", PX_SYNC_TABLE);
	origin = DatumGetInt32(heap_getattr(tuple, Anum_cluster_sync_origin, desc, &isnull));
	if (isnull)
		elog(ERROR, "privacy.%s: a change without its origin", PX_SYNC_TABLE);
	/* The origin applied the change itself when it made it. */
	if (origin == px_citus_local_group())
		return PointerGetDatum(NULL);

	for (i = 0; i < 4; i++)
	{
		values[i] = heap_getattr(tuple, Anum_cluster_sync_table_name + i, desc, &isnull);
		nulls[i] = isnull ? 'n' : ' ';
	}
	if (nulls[0] == 'n' || nulls[1] == 'n')
		elog(ERROR, "privacy.%s: a change without its table or operation", PX_SYNC_TABLE);

	px_sync_set_applying(true);
	PG_TRY();
	{
		SPI_connect();
		if (SPI_execute_with_args("SELECT privacy.citus_apply_change($1, $2, $3, $4)",
								  4, argtypes, values, nulls, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not apply a privacy_ext change");
		SPI_finish();
	}
	PG_FINALLY();
	{
		px_sync_set_applying(false);
	}
	PG_END_TRY();

	/* Nothing is stored. */
	return PointerGetDatum(NULL);
}

/*
 * privacy.citus_wipe_key_version(key_id, version): the in-place overwrite
 * of a destroyed or dropped version's material (0: every version), only
 * while a shipped change is applied.
 */
PG_FUNCTION_INFO_V1(px_citus_wipe_key_version);
Datum
px_citus_wipe_key_version(PG_FUNCTION_ARGS)
{
	int32		key_id = PG_GETARG_INT32(0);
	int32		version = PG_GETARG_INT32(1);

	if (!px_sync_applying())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("privacy.citus_wipe_key_version() runs only while a change of the Citus coordinator is applied"),
				 errhint("Use privacy.destroy_key() or privacy.drop_key_version() on the coordinator.")));
	if (key_id <= 0 || version < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid privacy_ext key version %d of key %d", version, key_id)));
	px_wipe_wrapped_keys((uint32) key_id, (uint32) version);
	PG_RETURN_VOID();
}
