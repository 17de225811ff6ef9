/*
 * keys.c
 *		Data keys: the key tables, the per-backend cache of unwrapped keys,
 *		grants, and the key-management functions.
 *
 * Data keys are stored wrapped under the root key in privacy.data_key_versions.
 * Readers find them with a direct heap scan instead of SQL, so a role that
 * may write an encrypted column needs no privilege on the key tables, and
 * no query text is ever planned on the hot path.  Each statement looks a key
 * up once (callers keep a PxKeyRef in fn_extra); the unwrapped key and its
 * keyed cipher contexts are cached for the life of the backend and reused
 * as long as the stored wrapped bytes are unchanged.
 */
#include "privacy_ext.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

/* Column numbers of the key tables, as created by privacy_ext--1.0.sql. */
#define Anum_data_keys_key_id			1
#define Anum_data_keys_name				2
#define Anum_data_keys_active_version	3
#define Anum_data_keys_destroyed_at		4

#define Anum_key_versions_key_id		1
#define Anum_key_versions_version		2
#define Anum_key_versions_wrapped_key	3
#define Anum_key_versions_root_check	4

#define Anum_key_grants_key_id			1
#define Anum_key_grants_grantee			2
#define Anum_key_grants_grantee_name	3

#define KEY_ADMIN_ROLE "privacy_admin"

typedef struct KeyCacheKey
{
	uint32		key_id;
	uint32		key_version;
} KeyCacheKey;

typedef struct KeyCacheEntry
{
	KeyCacheKey tag;
	uint64		root_gen;		/* root key generation it was unwrapped under */
	uint8_t		wrapped[PX_WRAPPED_KEY_LEN];	/* to notice a replaced key */
	px_aead    *aead;
} KeyCacheEntry;

static HTAB *key_cache = NULL;
static px_aead *transit_aead = NULL;
static uint64 transit_root_gen = 0;

/* The row of privacy.data_keys a lookup needs. */
typedef struct KeyRow
{
	bool		found;
	bool		destroyed;
	uint32		active_version;
	char	   *name;
} KeyRow;

/* ---------------------------------------------------------------------
 * Error reporting for core status codes
 * --------------------------------------------------------------------- */
void
px_report_status(px_status status, bool hide)
{
	switch (status)
	{
		case PX_OK:
			return;
		case PX_ERR_MALFORMED:
			ereport(ERROR,
					(errcode(ERRCODE_PX_MALFORMED),
					 errmsg("malformed privacy_ext envelope"),
					 hide ? px_errhide() : 0));
			break;
		case PX_ERR_AUTH:
			ereport(ERROR,
					(errcode(ERRCODE_PX_AUTH_FAILED),
					 errmsg("privacy_ext envelope failed authentication"),
					 errdetail("The value was tampered with, truncated, or relabelled."),
					 hide ? px_errhide() : 0));
			break;
		case PX_ERR_TOO_LONG:
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("value too long to encrypt"),
					 hide ? px_errhide() : 0));
			break;
		case PX_ERR_RANDOM:
		case PX_ERR_CRYPTO:
			ereport(ERROR,
					(errcode(ERRCODE_PX_CRYPTO),
					 errmsg("privacy_ext cryptographic operation failed: %s",
							px_status_message(status)),
					 hide ? px_errhide() : 0));
			break;
	}
}

/* ---------------------------------------------------------------------
 * Direct reads of the key tables
 * --------------------------------------------------------------------- */
static Relation
open_key_table(const char *relname)
{
	Oid			nsp = get_namespace_oid("privacy", true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid(relname, nsp) : InvalidOid;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("privacy_ext is not installed in this database"),
				 errhint("Run CREATE EXTENSION privacy_ext.")));
	return table_open(relid, AccessShareLock);
}

static Snapshot
key_snapshot(void)
{
	return ActiveSnapshotSet() ? GetActiveSnapshot() : GetLatestSnapshot();
}

static void
read_key_row(uint32 key_id, KeyRow *row)
{
	Relation	rel = open_key_table("data_keys");
	ScanKeyData skey;
	SysScanDesc scan;
	HeapTuple	tup;

	memset(row, 0, sizeof(*row));
	ScanKeyInit(&skey, Anum_data_keys_key_id, BTEqualStrategyNumber, F_INT4EQ,
				Int32GetDatum((int32) key_id));
	scan = systable_beginscan(rel, InvalidOid, false, key_snapshot(), 1, &skey);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		TupleDesc	desc = RelationGetDescr(rel);
		bool		isnull;

		row->found = true;
		row->name = TextDatumGetCString(heap_getattr(tup, Anum_data_keys_name, desc, &isnull));
		row->active_version = DatumGetInt32(heap_getattr(tup, Anum_data_keys_active_version,
														 desc, &isnull));
		(void) heap_getattr(tup, Anum_data_keys_destroyed_at, desc, &isnull);
		row->destroyed = !isnull;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

/* Returns false when the version row does not exist; *destroyed when its key is gone. */
static bool
read_wrapped_key(uint32 key_id, uint32 key_version, uint8_t wrapped[PX_WRAPPED_KEY_LEN],
				 uint8_t check[PX_KEY_CHECK_LEN], bool *destroyed)
{
	Relation	rel = open_key_table("data_key_versions");
	ScanKeyData skey[2];
	SysScanDesc scan;
	HeapTuple	tup;
	bool		found = false;

	*destroyed = false;
	ScanKeyInit(&skey[0], Anum_key_versions_key_id, BTEqualStrategyNumber, F_INT4EQ,
				Int32GetDatum((int32) key_id));
	ScanKeyInit(&skey[1], Anum_key_versions_version, BTEqualStrategyNumber, F_INT4EQ,
				Int32GetDatum((int32) key_version));
	scan = systable_beginscan(rel, InvalidOid, false, key_snapshot(), 2, skey);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		TupleDesc	desc = RelationGetDescr(rel);
		bool		wrapped_null;
		bool		check_null;
		Datum		wrapped_d = heap_getattr(tup, Anum_key_versions_wrapped_key, desc, &wrapped_null);
		Datum		check_d = heap_getattr(tup, Anum_key_versions_root_check, desc, &check_null);

		found = true;
		if (wrapped_null || check_null)
			*destroyed = true;
		else
		{
			bytea	   *w = DatumGetByteaPP(wrapped_d);
			bytea	   *c = DatumGetByteaPP(check_d);

			if (VARSIZE_ANY_EXHDR(w) != PX_WRAPPED_KEY_LEN ||
				VARSIZE_ANY_EXHDR(c) != PX_KEY_CHECK_LEN)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("wrapped data key %u version %u has an invalid length",
								key_id, key_version)));
			memcpy(wrapped, VARDATA_ANY(w), PX_WRAPPED_KEY_LEN);
			memcpy(check, VARDATA_ANY(c), PX_KEY_CHECK_LEN);
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/* ---------------------------------------------------------------------
 * Key lookup for encryption and decryption
 * --------------------------------------------------------------------- */
static void
init_key_cache(void)
{
	HASHCTL		ctl;

	ctl.keysize = sizeof(KeyCacheKey);
	ctl.entrysize = sizeof(KeyCacheEntry);
	ctl.hcxt = TopMemoryContext;
	key_cache = hash_create("privacy_ext data keys", 16, &ctl,
							HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

static void
report_unknown_key(uint32 key_id)
{
	ereport(ERROR,
			(errcode(ERRCODE_PX_UNKNOWN_KEY),
			 errmsg("privacy_ext key with id %u does not exist", key_id),
			 errhint("The key was dropped, or this database has not restored its keys.")));
}

static void
report_destroyed_key(uint32 key_id)
{
	ereport(ERROR,
			(errcode(ERRCODE_PX_KEY_DESTROYED),
			 errmsg("privacy_ext key with id %u has been destroyed", key_id),
			 errdetail("Values encrypted under a destroyed key can never be decrypted.")));
}

bool
px_key_ref_for_version(uint32 key_id, uint32 key_version, bool missing_ok, PxKeyRef *ref)
{
	uint8_t		wrapped[PX_WRAPPED_KEY_LEN];
	uint8_t		check[PX_KEY_CHECK_LEN];
	uint8_t		expected_check[PX_KEY_CHECK_LEN];
	uint8_t		data_key[PX_KEY_LEN];
	const uint8_t *root;
	uint64		root_gen;
	bool		destroyed;
	bool		found;
	KeyCacheKey tag;
	KeyCacheEntry *entry;
	px_status	status;

	if (!read_wrapped_key(key_id, key_version, wrapped, check, &destroyed))
	{
		if (missing_ok)
			return false;
		if (px_key_exists(key_id))
			ereport(ERROR,
					(errcode(ERRCODE_PX_UNKNOWN_KEY),
					 errmsg("privacy_ext key with id %u has no version %u", key_id, key_version)));
		report_unknown_key(key_id);
	}
	if (destroyed)
		report_destroyed_key(key_id);

	root = px_root_key();
	root_gen = px_root_key_generation();

	if (key_cache == NULL)
		init_key_cache();
	tag.key_id = key_id;
	tag.key_version = key_version;
	entry = hash_search(key_cache, &tag, HASH_ENTER, &found);
	if (found && entry->aead != NULL && entry->root_gen == root_gen &&
		memcmp(entry->wrapped, wrapped, PX_WRAPPED_KEY_LEN) == 0)
	{
		ref->key_id = key_id;
		ref->key_version = key_version;
		ref->aead = entry->aead;
		return true;
	}
	if (found && entry->aead != NULL)
		px_aead_free(entry->aead);
	entry->aead = NULL;

	status = px_root_key_check(root, expected_check);
	if (status != PX_OK)
		px_report_status(status, false);
	if (memcmp(expected_check, check, PX_KEY_CHECK_LEN) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_PX_ROOT_KEY_MISMATCH),
				 errmsg("privacy_ext data key %u was wrapped under a different root key", key_id),
				 errhint("Check privacy.root_key_command or privacy.root_key_file: "
						 "the server is not using the root key these keys were created with.")));

	status = px_unwrap_key(root, key_id, key_version, wrapped, PX_WRAPPED_KEY_LEN, data_key);
	if (status == PX_OK)
	{
		entry->aead = px_aead_new(data_key);
		px_wipe(data_key, sizeof(data_key));
		if (entry->aead == NULL)
			status = PX_ERR_CRYPTO;
	}
	if (status == PX_ERR_AUTH)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("wrapped data key %u version %u failed authentication", key_id, key_version),
				 errdetail("The stored key was modified or moved to another key id or version.")));
	if (status != PX_OK)
		px_report_status(status, false);

	entry->root_gen = root_gen;
	memcpy(entry->wrapped, wrapped, PX_WRAPPED_KEY_LEN);
	ref->key_id = key_id;
	ref->key_version = key_version;
	ref->aead = entry->aead;
	return true;
}

/* The key and active version new values under key_id are sealed with. */
bool
px_key_ref_for_encrypt(uint32 key_id, PxKeyRef *ref)
{
	KeyRow		row;

	read_key_row(key_id, &row);
	if (!row.found)
		report_unknown_key(key_id);
	if (row.destroyed)
		report_destroyed_key(key_id);
	return px_key_ref_for_version(key_id, row.active_version, false, ref);
}

/*
 * Transit values hold typed input (a literal, a bind parameter) until a
 * cast binds them to a column's key.  Their key is derived from the root
 * key, so any backend of the cluster can bind a transit value it finds in a
 * stored expression such as a column default.
 */
px_aead *
px_transit_aead(void)
{
	const uint8_t *root = px_root_key();
	uint64		gen = px_root_key_generation();

	if (transit_aead == NULL || transit_root_gen != gen)
	{
		uint8_t		k[PX_KEY_LEN];
		px_status	status;

		if (transit_aead != NULL)
			px_aead_free(transit_aead);
		transit_aead = NULL;
		status = px_derive_key(root, PX_KEY_LEN, "privacy_ext transit v1", k, sizeof(k));
		if (status == PX_OK)
		{
			transit_aead = px_aead_new(k);
			if (transit_aead == NULL)
				status = PX_ERR_CRYPTO;
		}
		px_wipe(k, sizeof(k));
		px_report_status(status, false);
		transit_root_gen = gen;
	}
	return transit_aead;
}

bool
px_key_exists(uint32 key_id)
{
	KeyRow		row;

	read_key_row(key_id, &row);
	return row.found;
}

/* The key's name, or NULL when there is no such key. */
char *
px_key_name(uint32 key_id)
{
	KeyRow		row;

	read_key_row(key_id, &row);
	return row.found ? row.name : NULL;
}

/*
 * May the current user decrypt under key_id?  Superusers may; anyone else
 * needs a grant to a role whose privileges they have (directly or through
 * membership with INHERIT).
 */
bool
px_may_decrypt(uint32 key_id)
{
	Oid			userid = GetUserId();
	Relation	rel;
	ScanKeyData skey;
	SysScanDesc scan;
	HeapTuple	tup;
	bool		allowed = false;

	if (superuser_arg(userid))
		return true;
	rel = open_key_table("key_grants");
	ScanKeyInit(&skey, Anum_key_grants_key_id, BTEqualStrategyNumber, F_INT4EQ,
				Int32GetDatum((int32) key_id));
	scan = systable_beginscan(rel, InvalidOid, false, key_snapshot(), 1, &skey);
	while (!allowed && HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		bool		name_isnull;
		Oid			grantee = DatumGetObjectId(heap_getattr(tup, Anum_key_grants_grantee,
															RelationGetDescr(rel), &isnull));
		Name		granted_name = DatumGetName(heap_getattr(tup, Anum_key_grants_grantee_name,
															 RelationGetDescr(rel), &name_isnull));
		char	   *current_name;

		if (isnull || name_isnull)
			continue;
		current_name = GetUserNameFromId(grantee, true);
		if (current_name != NULL && strcmp(current_name, NameStr(*granted_name)) == 0 &&
			has_privs_of_role(userid, grantee))
			allowed = true;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return allowed;
}

/* ---------------------------------------------------------------------
 * Key management (SQL-callable)
 * --------------------------------------------------------------------- */
static void
require_key_admin(void)
{
	Oid			admin = get_role_oid(KEY_ADMIN_ROLE, true);

	if (superuser())
		return;
	if (OidIsValid(admin) && has_privs_of_role(GetUserId(), admin))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to manage privacy_ext keys"),
			 errhint("Key management requires superuser or membership in role \"%s\".",
					 KEY_ADMIN_ROLE)));
}

/*
 * Key names are lower-case identifiers (letters, digits, '_', '.', '-',
 * starting with a letter or '_'), so they need no quoting inside a type
 * modifier and can never be mistaken for a numeric key id.
 */
void
px_check_key_name(const char *name)
{
	size_t		len = strlen(name);
	size_t		i;
	bool		ok = len > 0 && len < NAMEDATALEN &&
		((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_');

	for (i = 0; ok && i < len; i++)
	{
		char		c = name[i];

		ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			c == '_' || c == '.' || c == '-';
	}
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("invalid privacy_ext key name \"%s\"", name),
				 errdetail("A key name is 1 to %d characters: lower-case letters, digits, "
						   "'_', '.' and '-', starting with a letter or '_'.",
						   NAMEDATALEN - 1)));
}

/* Resolve an existing key by name; 0 or ERROR when there is none. */
uint32
px_key_id_for_name(const char *name, bool missing_ok)
{
	uint32		key_id = px_key_id_from_name(name, strlen(name));
	KeyRow		row;

	read_key_row(key_id, &row);
	if (row.found && strcmp(row.name, name) == 0)
		return key_id;
	if (missing_ok)
		return 0;
	ereport(ERROR,
			(errcode(ERRCODE_PX_UNKNOWN_KEY),
			 errmsg("privacy_ext key \"%s\" does not exist", name),
			 errhint("Create it with privacy.create_key('%s').", name)));
	return 0;					/* keep compiler quiet */
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
	if (SPI_execute_with_args("INSERT INTO privacy.data_key_versions"
							  " (key_id, version, wrapped_key, root_key_check)"
							  " VALUES ($1, $2, $3, $4)",
							  4, argtypes, values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not store privacy_ext data key");
}

PG_FUNCTION_INFO_V1(px_create_key);
Datum
px_create_key(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	uint32		key_id;
	KeyRow		row;
	Oid			argtypes[2] = {INT4OID, TEXTOID};
	Datum		values[2];

	require_key_admin();
	px_check_key_name(name);
	key_id = px_key_id_from_name(name, strlen(name));
	read_key_row(key_id, &row);
	if (row.found)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 strcmp(row.name, name) == 0 ?
				 errmsg("privacy_ext key \"%s\" already exists", name) :
				 errmsg("privacy_ext key name \"%s\" collides with existing key \"%s\"",
						name, row.name),
				 strcmp(row.name, name) == 0 ? 0 :
				 errhint("Key ids are derived from names; choose another name.")));

	SPI_connect();
	values[0] = Int32GetDatum((int32) key_id);
	values[1] = CStringGetTextDatum(name);
	if (SPI_execute_with_args("INSERT INTO privacy.data_keys (key_id, name, active_version)"
							  " VALUES ($1, $2, 1)",
							  2, argtypes, values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not store privacy_ext key");
	insert_key_version(key_id, 1);
	SPI_finish();

	PG_RETURN_INT32((int32) key_id);
}

PG_FUNCTION_INFO_V1(px_rotate_key);
Datum
px_rotate_key(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	uint32		key_id;
	uint32		version;
	bool		isnull;
	Oid			argtypes[1] = {INT4OID};
	Datum		values[1];

	require_key_admin();
	key_id = px_key_id_for_name(name, false);

	SPI_connect();
	values[0] = Int32GetDatum((int32) key_id);
	/* The row lock serializes concurrent rotations of one key. */
	if (SPI_execute_with_args("UPDATE privacy.data_keys"
							  " SET active_version = active_version OPERATOR(pg_catalog.+) 1"
							  " WHERE key_id OPERATOR(pg_catalog.=) $1 AND destroyed_at IS NULL"
							  " RETURNING active_version",
							  1, argtypes, values, NULL, false, 0) != SPI_OK_UPDATE_RETURNING)
		elog(ERROR, "could not rotate privacy_ext key");
	if (SPI_processed != 1)
		report_destroyed_key(key_id);
	version = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	insert_key_version(key_id, version);
	SPI_finish();

	PG_RETURN_INT32((int32) version);
}

static void
change_grant(FunctionCallInfo fcinfo, bool grant)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *role = text_to_cstring(PG_GETARG_TEXT_PP(1));
	uint32		key_id;
	Oid			roleid;
	Oid			argtypes[3] = {INT4OID, OIDOID, NAMEOID};
	Datum		values[3];
	NameData	rolename;

	require_key_admin();
	key_id = px_key_id_for_name(name, false);
	roleid = get_role_oid(role, false);
	namestrcpy(&rolename, role);

	SPI_connect();
	values[0] = Int32GetDatum((int32) key_id);
	values[1] = ObjectIdGetDatum(roleid);
	values[2] = NameGetDatum(&rolename);
	if (SPI_execute_with_args(grant ?
							  "INSERT INTO privacy.key_grants (key_id, grantee, grantee_name)"
							  " VALUES ($1, $2::pg_catalog.regrole, $3) ON CONFLICT (key_id, grantee)"
							  " DO UPDATE SET grantee_name = EXCLUDED.grantee_name" :
							  "DELETE FROM privacy.key_grants"
							  " WHERE key_id OPERATOR(pg_catalog.=) $1"
							  " AND grantee OPERATOR(pg_catalog.=) $2::pg_catalog.regrole",
							  grant ? 3 : 2, argtypes, values, NULL, false, 0) < 0)
		elog(ERROR, "could not change privacy_ext key grant");
	SPI_finish();
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
