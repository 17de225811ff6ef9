/*
 * keys/root_rotation.c
 *		Changing the root key online: privacy.rewrap_keys() and the check
 *		values the views show (README, "Changing the root key").
 *
 * During a rotation the server holds two root keys (keys/root_key.c): the
 * new one as the current key and the old one as the previous key.  Readers
 * unwrap each data key version under the root key its stored check value
 * names, so values stay readable whichever root key wraps their key.
 * privacy.rewrap_keys() then rewraps, in one transaction, every version not
 * under the current root key; the data keys themselves do not change, so
 * no encrypted value is touched.  It also stores the root derivation key
 * (keys/key_store.c) wrapped under the current root key, which keeps every
 * root-derived key (transit values, noise) as it was.  A crash before the
 * commit leaves every version under the old root key, after it under the
 * new one: the WAL makes the transaction all or nothing.
 */
#include "errors.h"
#include "keys/root_key.h"
#include "keys/key_store.h"
#include "audit/events.h"
#include "admin.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"

/* A bytea of len bytes copied from src, palloc'd. */
static bytea *
make_bytea(const uint8_t *src, size_t len)
{
	bytea	   *b = palloc(VARHDRSZ + len);

	SET_VARSIZE(b, VARHDRSZ + len);
	memcpy(VARDATA(b), src, len);
	return b;
}

/* Wrap key (32 bytes) for (key_id, version) under the current root key. */
static void
wrap_under_current(uint32 key_id, uint32 version, const uint8_t key[PX_KEY_LEN],
				   Datum *wrapped, Datum *check)
{
	uint8_t		nonce[PX_NONCE_LEN];
	uint8_t		out[PX_WRAPPED_KEY_LEN];
	uint8_t		check_value[PX_KEY_CHECK_LEN];
	px_status	status;

	status = px_random_bytes(nonce, sizeof(nonce));
	if (status == PX_OK)
		status = px_wrap_key(px_root_key(), key_id, version, nonce, key, out);
	px_report_status(status, false);
	px_root_key_check_value(check_value);
	*wrapped = PointerGetDatum(make_bytea(out, sizeof(out)));
	*check = PointerGetDatum(make_bytea(check_value, sizeof(check_value)));
}

/*
 * Store the root derivation key under the current root key, unless it is
 * already there or not needed (data keys are under the current root key
 * only: it is still derived from the current root key itself).  Returns
 * whether it wrote.
 */
static bool
rewrap_derivation_key(void)
{
	uint8_t		prk[PX_KEY_LEN];
	uint8_t		current[PX_KEY_CHECK_LEN];
	PxDerivationSource source;
	Oid			argtypes[2] = {BYTEAOID, BYTEAOID};
	Datum		values[2];
	int			rc;

	px_root_key_check_value(current);
	px_root_derivation_key(prk, &source);
	if (source == PX_DERIVATION_STORED)
	{
		if (SPI_execute("SELECT root_key_check FROM privacy.root_derivation_key",
						true, 0) != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "could not read privacy.root_derivation_key");
		else
		{
			bool		isnull;
			bytea	   *c = DatumGetByteaPP(SPI_getbinval(SPI_tuptable->vals[0],
														  SPI_tuptable->tupdesc, 1, &isnull));

			if (!isnull && VARSIZE_ANY_EXHDR(c) == PX_KEY_CHECK_LEN &&
				memcmp(VARDATA_ANY(c), current, PX_KEY_CHECK_LEN) == 0)
			{
				px_wipe(prk, sizeof(prk));
				return false;
			}
		}
	}
	else if (source == PX_DERIVATION_CURRENT)
	{
		px_wipe(prk, sizeof(prk));
		return false;
	}

	wrap_under_current(PX_TRANSIT_KEY_ID, 0, prk, &values[0], &values[1]);
	px_wipe(prk, sizeof(prk));
	rc = SPI_execute_with_args("INSERT INTO privacy.root_derivation_key (wrapped_key, root_key_check)"
							   " VALUES ($1, $2) ON CONFLICT (one_row) DO UPDATE"
							   " SET wrapped_key = EXCLUDED.wrapped_key,"
							   " root_key_check = EXCLUDED.root_key_check,"
							   " created_at = pg_catalog.now()",
							   2, argtypes, values, NULL, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "could not store the privacy_ext root derivation key");
	return true;
}

/*
 * privacy.rewrap_keys(): rewrap every data key version that is not under
 * the current root key; returns how many.  Versions wrapped under neither
 * root key the server has stop it with an error naming the version: the
 * transaction rolls back and nothing changes.
 */
static bool
all_zero(const uint8_t *p, size_t len)
{
	uint8_t		acc = 0;

	for (size_t i = 0; i < len; i++)
		acc |= p[i];
	return acc == 0;
}

PG_FUNCTION_INFO_V1(px_rewrap_keys);
Datum
px_rewrap_keys(PG_FUNCTION_ARGS)
{
	uint8_t		current[PX_KEY_CHECK_LEN];
	SPIPlanPtr	update_plan;
	Oid			argtypes[4] = {INT4OID, INT4OID, BYTEAOID, BYTEAOID};
	SPITupleTable *versions;
	uint64		nversions;
	uint64		i;
	volatile int32 count = 0;
	volatile bool derivation_written;
	PxSavedUser saved;

	px_require_key_admin();
	px_root_key_check_value(current);

	SPI_connect();

	/*
	 * As the extension's owner: the key administrators have no write
	 * privilege on the key tables (keys/key_admin.c).
	 */
	px_become_owner(px_extension_owner(), &saved);
	PG_TRY();
	{
		/*
		 * Readers take no lock that this conflicts with; key creation,
		 * rotation, destruction, dropped versions and a concurrent rewrap wait
		 * until this commits, so no version escapes the rewrap.
		 */
		if (SPI_execute("LOCK TABLE privacy.data_key_versions, privacy.root_derivation_key"
						" IN SHARE ROW EXCLUSIVE MODE", false, 0) != SPI_OK_UTILITY)
			elog(ERROR, "could not lock the privacy_ext key tables");

		derivation_written = rewrap_derivation_key();

		if (SPI_execute("SELECT key_id, version, wrapped_key, root_key_check"
						" FROM privacy.data_key_versions"
						" WHERE wrapped_key IS NOT NULL AND root_key_check IS NOT NULL"
						" ORDER BY key_id, version", false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read privacy_ext key versions");
		versions = SPI_tuptable;
		nversions = SPI_processed;

		update_plan = SPI_prepare("UPDATE privacy.data_key_versions"
								  " SET wrapped_key = $3, root_key_check = $4"
								  " WHERE key_id OPERATOR(pg_catalog.=) $1"
								  " AND version OPERATOR(pg_catalog.=) $2",
								  4, argtypes);
		if (update_plan == NULL)
			elog(ERROR, "could not prepare the privacy_ext key version update");

		for (i = 0; i < nversions; i++)
		{
			HeapTuple	tup = versions->vals[i];
			TupleDesc	desc = versions->tupdesc;
			bool		isnull;
			uint32		key_id = DatumGetInt32(SPI_getbinval(tup, desc, 1, &isnull));
			uint32		version = DatumGetInt32(SPI_getbinval(tup, desc, 2, &isnull));
			bytea	   *w = DatumGetByteaPP(SPI_getbinval(tup, desc, 3, &isnull));
			bytea	   *c = DatumGetByteaPP(SPI_getbinval(tup, desc, 4, &isnull));
			uint8_t		check[PX_KEY_CHECK_LEN];
			uint8_t		data_key[PX_KEY_LEN];
			Datum		values[4];
			px_status	status;

			CHECK_FOR_INTERRUPTS();
			if (VARSIZE_ANY_EXHDR(w) != PX_WRAPPED_KEY_LEN || VARSIZE_ANY_EXHDR(c) != PX_KEY_CHECK_LEN)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("wrapped data key %u version %u has an invalid length", key_id, version)));
			memcpy(check, VARDATA_ANY(c), PX_KEY_CHECK_LEN);
			if (memcmp(check, current, PX_KEY_CHECK_LEN) == 0)
				continue;
			/*
			 * Wiped in place by a drop_key_version whose statement then
			 * failed (the wipe outlives the rollback, the row does not go):
			 * nothing is left to rewrap.
			 */
			if (all_zero((const uint8_t *) VARDATA_ANY(w), PX_WRAPPED_KEY_LEN) &&
				all_zero(check, PX_KEY_CHECK_LEN))
				continue;

			status = px_unwrap_data_key(key_id, version, (const uint8_t *) VARDATA_ANY(w), check,
										data_key);
			if (status == PX_ERR_AUTH)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("wrapped data key %u version %u failed authentication", key_id, version),
						 errdetail("The stored key was modified or moved to another key id or version; "
								   "nothing was rewrapped.")));
			px_report_status(status, false);

			values[0] = Int32GetDatum((int32) key_id);
			values[1] = Int32GetDatum((int32) version);
			wrap_under_current(key_id, version, data_key, &values[2], &values[3]);
			px_wipe(data_key, sizeof(data_key));
			if (SPI_execute_plan(update_plan, values, NULL, false, 0) != SPI_OK_UPDATE ||
				SPI_processed != 1)
				elog(ERROR, "could not rewrap privacy_ext data key %u version %u", key_id, version);
			count++;
		}
	}
	PG_FINALLY();
	{
		px_restore_user(&saved);
	}
	PG_END_TRY();
	SPI_finish();

	px_audit_event("root_key_rewrap", NULL, count,
				   psprintf("{\"root_key_check\": \"%s\", \"derivation_key_rewrapped\": %s}",
							px_check_value_hex(current), derivation_written ? "true" : "false"));
	PG_RETURN_INT32(count);
}

/* privacy.root_key_check(): the current root key's check value (never the key). */
PG_FUNCTION_INFO_V1(px_root_key_check_sql);
Datum
px_root_key_check_sql(PG_FUNCTION_ARGS)
{
	uint8_t		check[PX_KEY_CHECK_LEN];

	px_root_key_check_value(check);
	PG_RETURN_BYTEA_P(make_bytea(check, sizeof(check)));
}

/* privacy.previous_root_key_check(): the previous root key's, or NULL. */
PG_FUNCTION_INFO_V1(px_previous_root_key_check_sql);
Datum
px_previous_root_key_check_sql(PG_FUNCTION_ARGS)
{
	const uint8_t *previous = px_previous_root_key();
	uint8_t		check[PX_KEY_CHECK_LEN];

	if (previous == NULL)
		PG_RETURN_NULL();
	px_report_status(px_root_key_check(previous, check), false);
	PG_RETURN_BYTEA_P(make_bytea(check, sizeof(check)));
}
