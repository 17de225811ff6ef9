/*
 * keys/key_admin.c
 *		Key management: create, rotate, grant, revoke, destroy, and drop an
 *		unused version.  Superuser or members of privacy_admin only.
 *
 * Writes go through SQL (SPI) so that the key tables' triggers invalidate
 * every backend's key caches (keys/key_store.c) when the change commits.
 * They run as the extension's owner (px_execute_as_extension_owner): the
 * key administrators read the key tables but have no write privilege on
 * them, so that no key is created, granted, revoked or destroyed without
 * its audit event.
 */
#include "errors.h"
#include "keys/key_admin.h"
#include "catalog.h"
#include "keys/root_key.h"
#include "keys/key_store.h"
#include "keys/key_usage.h"
#include "audit/events.h"
#include "admin.h"
#include "citus/sync_ship.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/heap.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

/* ---------------------------------------------------------------------
 * Key management (SQL-callable)
 * --------------------------------------------------------------------- */
/*
 * Key names are lower-case identifiers (letters, digits, '_', '.', '-',
 * starting with a letter or '_'), so they need no quoting inside a type
 * modifier and can never be mistaken for a numeric key id.
 */
void
px_check_key_name(const char *name)
{
	if (!px_key_name_valid(name))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("invalid privacy_ext key name \"%s\"", px_name_for_message(name)),
				 errdetail("A key name is 1 to %d characters: lower-case letters, digits, "
						   "'_', '.' and '-', starting with a letter or '_'.",
						   NAMEDATALEN - 1)));
}

/* Wrap a fresh random data key for (key_id, version); returns the two bytea values. */
static void
new_wrapped_key(uint32 key_id, uint32 version, Datum *wrapped, Datum *check)
{
	const uint8_t *root = px_root_key();
	uint8_t		data_key[PX_KEY_LEN];
	uint8_t		nonce[PX_NONCE_LEN];
	bytea	   *w = palloc(VARHDRSZ + PX_WRAPPED_KEY_LEN);
	bytea	   *c = palloc(VARHDRSZ + PX_KEY_CHECK_LEN);
	px_status	status;

	status = px_random_bytes(data_key, sizeof(data_key));
	if (status == PX_OK)
		status = px_random_bytes(nonce, sizeof(nonce));
	if (status == PX_OK)
		status = px_wrap_key(root, key_id, version, nonce, data_key,
							 (uint8_t *) VARDATA(w));
	px_wipe(data_key, sizeof(data_key));
	if (status == PX_OK)
		status = px_root_key_check(root, (uint8_t *) VARDATA(c));
	px_report_status(status, false);
	SET_VARSIZE(w, VARHDRSZ + PX_WRAPPED_KEY_LEN);
	SET_VARSIZE(c, VARHDRSZ + PX_KEY_CHECK_LEN);
	*wrapped = PointerGetDatum(w);
	*check = PointerGetDatum(c);
}

static void
insert_key_version(uint32 key_id, uint32 version)
{
	Oid			argtypes[4] = {INT4OID, INT4OID, BYTEAOID, BYTEAOID};
	Datum		values[4];

	values[0] = Int32GetDatum((int32) key_id);
	values[1] = Int32GetDatum((int32) version);
	new_wrapped_key(key_id, version, &values[2], &values[3]);
	if (px_execute_as_extension_owner("INSERT INTO privacy.data_key_versions"
									  " (key_id, version, wrapped_key, root_key_check)"
									  " VALUES ($1, $2, $3, $4)",
									  4, argtypes, values, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not store privacy_ext data key");
}

/* create_key's refusal of a name whose key id is taken (by it or another name). */
static void
report_existing_key(const char *name, const char *existing)
{
	ereport(ERROR,
			(errcode(ERRCODE_DUPLICATE_OBJECT),
			 strcmp(existing, name) == 0 ?
			 errmsg("privacy_ext key \"%s\" already exists", name) :
			 errmsg("privacy_ext key name \"%s\" collides with existing key \"%s\"",
					name, existing),
			 strcmp(existing, name) == 0 ? 0 :
			 errhint("Key ids are derived from names; choose another name.")));
}

PG_FUNCTION_INFO_V1(px_create_key);
Datum
px_create_key(PG_FUNCTION_ARGS)
{
	char	   *name;
	uint32		key_id;
	char	   *existing;
	Oid			argtypes[3] = {INT4OID, TEXTOID, NAMEOID};
	Datum		values[3];
	NameData	creator;

	px_require_argument(fcinfo, 0, "key name");
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	px_require_key_admin();
	px_check_key_name(name);
	key_id = px_key_id_from_name(name, strlen(name));
	existing = px_key_name(key_id);
	if (existing != NULL)
		report_existing_key(name, existing);

	SPI_connect();
	values[0] = Int32GetDatum((int32) key_id);
	values[1] = CStringGetTextDatum(name);
	namestrcpy(&creator, GetUserNameFromId(GetUserId(), false));
	values[2] = NameGetDatum(&creator);

	/*
	 * A concurrent create_key of the same name (or of one with the same key
	 * id) commits between the check above and this insert: the insert waits
	 * for it and then inserts nothing, and the same refusal as above follows
	 * instead of the unique index's 23505.  (In REPEATABLE READ and
	 * SERIALIZABLE the insert fails with 40001 instead: retry.)
	 */
	if (px_execute_as_extension_owner("INSERT INTO privacy.data_keys (key_id, name, active_version, created_by)"
									  " VALUES ($1, $2, 1, $3) ON CONFLICT DO NOTHING",
									  3, argtypes, values, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not store privacy_ext key");
	if (SPI_processed != 1)
	{
		existing = px_key_name(key_id);
		report_existing_key(name, existing != NULL ? existing : name);
	}
	insert_key_version(key_id, 1);
	SPI_finish();
	px_audit_event("key_create", name, 1, NULL);

	PG_RETURN_INT32((int32) key_id);
}

PG_FUNCTION_INFO_V1(px_rotate_key);
Datum
px_rotate_key(PG_FUNCTION_ARGS)
{
	char	   *name;
	uint32		key_id;
	uint32		version;
	bool		isnull;
	Oid			argtypes[1] = {INT4OID};
	Datum		values[1];

	px_require_argument(fcinfo, 0, "key name");
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	px_require_key_admin();
	key_id = px_key_id_for_name(name, false);
	/* Version 1 overwritten by a destruction a crash cut short (key_store.c). */
	if (px_key_destroyed(key_id))
		px_report_destroyed_key(key_id);

	SPI_connect();
	values[0] = Int32GetDatum((int32) key_id);
	/* The row lock serializes concurrent rotations of one key. */
	if (px_execute_as_extension_owner("UPDATE privacy.data_keys"
									  " SET active_version = active_version OPERATOR(pg_catalog.+) 1"
									  " WHERE key_id OPERATOR(pg_catalog.=) $1 AND destroyed_at IS NULL"
									  " RETURNING active_version",
									  1, argtypes, values, false, 0) != SPI_OK_UPDATE_RETURNING)
		elog(ERROR, "could not rotate privacy_ext key");
	if (SPI_processed != 1)
		px_report_destroyed_key(key_id);
	version = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	insert_key_version(key_id, version);
	SPI_finish();
	px_audit_event("key_rotate", name, 1, psprintf("{\"version\": %d}", version));

	PG_RETURN_INT32((int32) version);
}

static void
change_grant(FunctionCallInfo fcinfo, bool grant)
{
	char	   *name;
	char	   *role;
	uint32		key_id;
	Oid			roleid;
	Oid			argtypes[4] = {INT4OID, OIDOID, NAMEOID, NAMEOID};
	Datum		values[4];
	NameData	rolename;
	NameData	grantor;
	uint64		changed;

	px_require_argument(fcinfo, 0, "key name");
	px_require_argument(fcinfo, 1, "role");
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	role = text_to_cstring(PG_GETARG_TEXT_PP(1));
	px_require_key_admin();
	key_id = px_key_id_for_name(name, false);
	/* A destroyed key has nothing left to grant (its grants went with it). */
	if (grant && px_key_destroyed(key_id))
		px_report_destroyed_key(key_id);
	/* As get_role_oid(role, false) reports it, without echoing any length of input. */
	roleid = get_role_oid(role, true);
	if (!OidIsValid(roleid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("role \"%s\" does not exist", px_name_for_message(role))));
	namestrcpy(&rolename, role);

	SPI_connect();
	values[0] = Int32GetDatum((int32) key_id);
	values[1] = ObjectIdGetDatum(roleid);
	values[2] = NameGetDatum(&rolename);
	namestrcpy(&grantor, GetUserNameFromId(GetUserId(), false));
	values[3] = NameGetDatum(&grantor);
	if (px_execute_as_extension_owner(grant ?
									  "INSERT INTO privacy.key_grants (key_id, grantee, grantee_name, granted_by)"
									  " VALUES ($1, $2::pg_catalog.regrole, $3, $4) ON CONFLICT (key_id, grantee)"
									  " DO UPDATE SET grantee_name = EXCLUDED.grantee_name" :
									  "DELETE FROM privacy.key_grants"
									  " WHERE key_id OPERATOR(pg_catalog.=) $1"
									  " AND grantee OPERATOR(pg_catalog.=) $2::pg_catalog.regrole",
									  grant ? 4 : 2, argtypes, values, false, 0) < 0)
		elog(ERROR, "could not change privacy_ext key grant");
	changed = SPI_processed;
	SPI_finish();
	/* A revoke of a grant that did not exist is on record, with count 0. */
	px_audit_event(grant ? "key_grant" : "key_revoke", name, (int64) changed, px_audit_detail("role", role));
}

PG_FUNCTION_INFO_V1(px_grant_key);
Datum
px_grant_key(PG_FUNCTION_ARGS)
{
	change_grant(fcinfo, true);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(px_revoke_key);
Datum
px_revoke_key(PG_FUNCTION_ARGS)
{
	change_grant(fcinfo, false);
	PG_RETURN_VOID();
}

/*
 * Overwrite the stored wrapped key bytes (and check value) of key_id's
 * versions in place, version 0 meaning all of them: every row version the
 * table still holds (SnapshotAny), live or not, so that no older version
 * (one destroy_key or drop_key_version has just replaced or deleted, or one
 * left by a rewrap) keeps them for VACUUM to find.  This is not undone by a
 * rollback: destroy_key and drop_key_version queue it for their
 * transaction's commit (queue_wipe), and refuse to run in a transaction
 * block.
 */
void
px_wipe_wrapped_keys(uint32 key_id, uint32 version)
{
	Relation	rel = px_open_key_table(PX_TABLE_VERSIONS, RowExclusiveLock);
	TupleDesc	desc = RelationGetDescr(rel);
	ScanKeyData skey;
	SysScanDesc scan;
	HeapTuple	tup;

	ScanKeyInit(&skey, Anum_key_versions_key_id, BTEqualStrategyNumber, F_INT4EQ,
				Int32GetDatum((int32) key_id));
	scan = systable_beginscan(rel, InvalidOid, false, SnapshotAny, 1, &skey);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		HeapTuple	copy;
		bool		isnull;
		int			attnums[2] = {Anum_key_versions_wrapped_key, Anum_key_versions_root_check};
		int			i;
		bool		changed = false;

		if (version != 0 &&
			DatumGetInt32(heap_getattr(tup, Anum_key_versions_version, desc, &isnull)) != (int32) version)
			continue;
		copy = heap_copytuple(tup);
		for (i = 0; i < 2; i++)
		{
			Pointer		p = DatumGetPointer(heap_getattr(copy, attnums[i], desc, &isnull));

			/* A short bytea stored inline in the copy: zero it where it lies. */
			if (!isnull && !VARATT_IS_COMPRESSED(p) && !VARATT_IS_EXTERNAL(p))
			{
				px_wipe(VARDATA_ANY(p), VARSIZE_ANY_EXHDR(p));
				changed = true;
			}
		}
		if (changed)
			heap_inplace_update(rel, copy);
		heap_freetuple(copy);
	}
	systable_endscan(scan);

	/*
	 * ANALYZE's samples of the material (histogram_bounds, most_common_vals)
	 * would outlive the overwrite and show through pg_stats.  The columns'
	 * statistics target is 0 (sql/parts/1.1/99_key_material_no_statistics.sql),
	 * so there are none unless someone set one back: delete them anyway.
	 */
	RemoveStatistics(RelationGetRelid(rel), Anum_key_versions_wrapped_key);
	RemoveStatistics(RelationGetRelid(rel), Anum_key_versions_root_check);
	table_close(rel, RowExclusiveLock);
	CommandCounterIncrement();
}

/*
 * Overwrites waiting for their transaction's commit.  destroy_key and
 * drop_key_version change the key tables transactionally and queue the
 * in-place overwrite of the material here; it runs just before the commit
 * (XACT_EVENT_PRE_COMMIT), once the statements that called them have
 * succeeded.  Were it done at the call, a statement failing after it (a
 * later row's error, a DO block raising) would roll the catalog back over
 * material already gone: a key counting as destroyed without its
 * destroyed_at, its audit row or the removal of its grants.  A queued
 * overwrite whose change a rolled-back subtransaction undid is skipped
 * (wipe_still_wanted).
 */
typedef struct PendingWipe
{
	uint32		key_id;
	uint32		version;		/* drop_key_version's; 0: destroy_key's, all */
	char	   *name;
} PendingWipe;

static List *pending_wipes = NIL;

/* Whether the queued change is still there, seen by this transaction. */
static bool
wipe_still_wanted(const PendingWipe *w)
{
	Oid			argtypes[2] = {INT4OID, INT4OID};
	Datum		values[2];
	bool		wanted;

	values[0] = Int32GetDatum((int32) w->key_id);
	values[1] = Int32GetDatum((int32) w->version);
	SPI_connect();
	if (w->version == 0)
	{
		if (SPI_execute_with_args("SELECT 1 FROM privacy.data_keys"
								  " WHERE key_id OPERATOR(pg_catalog.=) $1 AND destroyed_at IS NOT NULL",
								  1, argtypes, values, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read privacy.data_keys");
		wanted = SPI_processed == 1;
	}
	else
	{
		if (SPI_execute_with_args("SELECT 1 FROM privacy.data_key_versions"
								  " WHERE key_id OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2",
								  2, argtypes, values, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read privacy.data_key_versions");
		wanted = SPI_processed == 0;
	}
	SPI_finish();
	return wanted;
}

static void
run_pending_wipes(void)
{
	List	   *todo = pending_wipes;
	ListCell   *lc;

	/* Taken off first: an error here aborts, and the abort must not retry. */
	pending_wipes = NIL;
	CommandCounterIncrement();
	/* Past the last statement: no snapshot is active any more. */
	PushActiveSnapshot(GetTransactionSnapshot());
	foreach(lc, todo)
	{
		PendingWipe *w = (PendingWipe *) lfirst(lc);

		if (!wipe_still_wanted(w))
			continue;
		if (w->version != 0)
		{
			px_citus_ship_wipe(w->key_id, w->version);
			px_wipe_wrapped_keys(w->key_id, w->version);
			continue;
		}

		/*
		 * Version 1 first: once its material is overwritten, the key counts
		 * as destroyed even if the server crashes before the commit record
		 * is written (key_store.c, key_row), because the overwrite survives
		 * the crash and the catalog changes do not.  drop_key_version never
		 * overwrites version 1, so a wiped version 1 can only mean a
		 * destruction under way.  On a Citus coordinator every node is told
		 * first (citus/sync_ship.c): a node that cannot be reached fails
		 * the commit before any material is overwritten here.
		 */
		px_citus_ship_wipe(w->key_id, PX_DET_KEY_VERSION);
		px_citus_ship_wipe(w->key_id, 0);
		px_wipe_wrapped_keys(w->key_id, PX_DET_KEY_VERSION);
		px_wipe_wrapped_keys(w->key_id, 0);
		/* The record of who destroyed which key (never any key bytes). */
		ereport(LOG,
				(errmsg("privacy_ext key \"%s\" (id %u) destroyed by role \"%s\"",
						w->name, w->key_id, GetUserNameFromId(GetUserId(), false))));
	}
	PopActiveSnapshot();
}

static void
wipe_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			if (pending_wipes != NIL)
				run_pending_wipes();
			break;
		case XACT_EVENT_PRE_PREPARE:
			/* Unreachable (both functions refuse transaction blocks), but never silently lost. */
			if (pending_wipes != NIL)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot prepare a transaction that destroys privacy_ext key material")));
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
			/* The list lived in TopTransactionContext, which goes now. */
			pending_wipes = NIL;
			break;
		default:
			break;
	}
}

static void
queue_wipe(uint32 key_id, uint32 version, const char *name)
{
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
	PendingWipe *w = palloc(sizeof(PendingWipe));

	w->key_id = key_id;
	w->version = version;
	w->name = pstrdup(name);
	pending_wipes = lappend(pending_wipes, w);
	MemoryContextSwitchTo(old);
}

/*
 * The overwrite cannot be undone, so it must be the last privacy_ext step
 * of the commit that can fail: a pre-commit check failing after it (a
 * session-wide privacy.purpose under privacy.purpose_scope = 'transaction',
 * an unbound encrypted literal) would roll back destroyed_at, the audit row
 * and the removal of the grants over material already gone.  Transaction
 * callbacks run newest first (CallXactCallbacks), so registering this one
 * before any other (see _PG_init) makes it run after all of them; callbacks
 * registered later, including lazily on first use, run before it too.
 */
void
px_install_key_wipes(void)
{
	static bool registered = false;

	if (registered)
		return;
	RegisterXactCallback(wipe_xact_callback, NULL);
	registered = true;
}

/*
 * privacy.destroy_key(name, confirm): crypto-shredding.  Every version's
 * key material is overwritten and removed; values under the key can never
 * be decrypted again.  confirm must read 'destroy <name>'.
 */
PG_FUNCTION_INFO_V1(px_destroy_key);
Datum
px_destroy_key(PG_FUNCTION_ARGS)
{
	char	   *name;
	char	   *confirm;
	char	   *expected;
	uint32		key_id;
	Oid			argtypes[1] = {INT4OID};
	Datum		values[1];

	/* Not STRICT (confirm may be NULL), so the name is checked here. */
	px_require_argument(fcinfo, 0, "key name");
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	confirm = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	expected = psprintf("destroy %s", name);
	px_require_key_admin();
	key_id = px_key_id_for_name(name, false);

	/*
	 * The contract's call, destroy_key(name), destroys; a confirmation, when
	 * given (scripts that build it from a variable), must name this key, so
	 * that a script holding the wrong name stops before anything is lost.
	 */
	if (confirm != NULL && strcmp(confirm, expected) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the confirmation does not name privacy_ext key \"%s\"", name),
				 errdetail("Destruction cannot be undone: every value encrypted under the key becomes unreadable for good."),
				 errhint("Pass confirm => '%s'.", expected)));
	if (IsTransactionBlock())
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("privacy.destroy_key() cannot run inside a transaction block"),
				 errdetail("The key material is overwritten for good when the transaction commits; run it as a transaction of its own.")));

	SPI_connect();
	values[0] = Int32GetDatum((int32) key_id);
	if (px_execute_as_extension_owner("UPDATE privacy.data_keys SET destroyed_at = pg_catalog.now()"
									  " WHERE key_id OPERATOR(pg_catalog.=) $1 AND destroyed_at IS NULL",
									  1, argtypes, values, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not destroy privacy_ext key");
	if (SPI_processed != 1)
		px_report_destroyed_key(key_id);

	/* The overwrite waits for the commit (see queue_wipe). */
	if (px_execute_as_extension_owner("UPDATE privacy.data_key_versions"
									  " SET wrapped_key = NULL, root_key_check = NULL"
									  " WHERE key_id OPERATOR(pg_catalog.=) $1",
									  1, argtypes, values, false, 0) != SPI_OK_UPDATE ||
		px_execute_as_extension_owner("DELETE FROM privacy.key_grants"
									  " WHERE key_id OPERATOR(pg_catalog.=) $1",
									  1, argtypes, values, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not destroy privacy_ext key");
	SPI_finish();
	queue_wipe(key_id, 0, name);
	px_audit_event("key_destroy", name, 1, NULL);
	PG_RETURN_BOOL(true);
}

/*
 * Wait until every transaction of this database that began before this one
 * has ended.  One that read the key before its rotation may have sealed
 * values under the old version that it has not committed yet (the scan
 * below cannot see them), and one may hold a snapshot (a pg_dump's, a
 * REPEATABLE READ reader's) that still sees rows under it and would find
 * its material overwritten.  As CREATE INDEX CONCURRENTLY does, wait for
 * their virtual transaction locks; lock_timeout and statement_timeout
 * apply, and a deadlock is detected as any other.
 */
static void
wait_for_older_transactions(void)
{
	int			n;
	int			i;
	VirtualTransactionId *older = GetCurrentVirtualXIDs(InvalidTransactionId, false, false,
														 PROC_IN_VACUUM, &n);

	for (i = 0; i < n; i++)
		(void) VirtualXactLock(older[i], true);
	pfree(older);
}

/*
 * privacy.drop_key_version(name, version): remove an old version that no
 * value uses any more (see privacy.reencrypt()).  The active version and
 * version 1, which deterministic values are sealed under, are kept.
 */
PG_FUNCTION_INFO_V1(px_drop_key_version);
Datum
px_drop_key_version(PG_FUNCTION_ARGS)
{
	char	   *name;
	int32		version;
	uint32		key_id;
	char	   *user;
	Oid			argtypes[2] = {INT4OID, INT4OID};
	Datum		values[2];
	bool		isnull;

	px_require_argument(fcinfo, 0, "key name");
	px_require_argument(fcinfo, 1, "key version");
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	version = PG_GETARG_INT32(1);
	px_require_key_admin();
	key_id = px_key_id_for_name(name, false);
	if (px_key_destroyed(key_id))
		px_report_destroyed_key(key_id);

	/*
	 * As for destroy_key: the wrapped key is overwritten in place when the
	 * transaction commits, and a prepared transaction or a block's later
	 * statements stand between the two.
	 */
	if (IsTransactionBlock())
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("privacy.drop_key_version() cannot run inside a transaction block"),
				 errdetail("The version's key material is overwritten for good when the transaction commits; run it as a transaction of its own.")));

	SPI_connect();
	values[0] = Int32GetDatum((int32) key_id);
	values[1] = Int32GetDatum(version);
	/* Lock the key row: no rotation or drop runs beside us. */
	if (px_execute_as_extension_owner("SELECT active_version FROM privacy.data_keys"
									  " WHERE key_id OPERATOR(pg_catalog.=) $1 FOR UPDATE",
									  1, argtypes, values, false, 0) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "could not lock privacy_ext key");
	if (DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) == version)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("version %d is the active version of privacy_ext key \"%s\"", version, name),
				 errhint("Rotate the key first.")));
	if (version == PX_DET_KEY_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("version %d of privacy_ext key \"%s\" cannot be dropped", version, name),
				 errdetail("Deterministic values are always sealed under version %d.", PX_DET_KEY_VERSION)));
	if (SPI_execute_with_args("SELECT 1 FROM privacy.data_key_versions"
							  " WHERE key_id OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2",
							  2, argtypes, values, NULL, false, 0) != SPI_OK_SELECT ||
		SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_PX_UNKNOWN_KEY),
				 errmsg("privacy_ext key \"%s\" has no version %d", name, version)));
	wait_for_older_transactions();
	/* ...and look with a snapshot taken after they ended */
	PushActiveSnapshot(GetLatestSnapshot());
	user = px_first_use_of_version(key_id, version);
	PopActiveSnapshot();
	if (user != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("version %d of privacy_ext key \"%s\" is still in use by %s", version, name, user),
				 errhint("Run privacy.reencrypt() on that column first.")));
	if (px_execute_as_extension_owner("DELETE FROM privacy.data_key_versions"
									  " WHERE key_id OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2",
									  2, argtypes, values, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not drop privacy_ext key version");
	SPI_finish();
	/* The deleted row's material is overwritten at the commit (queue_wipe). */
	queue_wipe(key_id, (uint32) version, name);
	px_audit_event("key_drop_version", name, 1, psprintf("{\"version\": %d}", version));
	PG_RETURN_VOID();
}
