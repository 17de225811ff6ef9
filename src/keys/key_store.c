/*
 * keys/key_store.c
 *		Reading the key tables, and the per-backend caches over them.
 *
 * Readers find keys with direct heap scans instead of SQL: a role that may
 * write an encrypted column needs no privilege on the key tables, and no
 * query is planned on the data path.  Three caches live for the backend:
 *
 *	- key rows (name, active version, destroyed) by key id;
 *	- decrypt permission by (user, key id);
 *	- unwrapped key material (keyed GCM and SIV contexts) by (key id, version).
 *
 * Any change to a key table fires a trigger that sends a relcache
 * invalidation for it (see privacy.key_tables_changed()), and changes to
 * role membership send syscache invalidations; either marks the caches
 * stale, and the next statement of every backend re-reads what it needs.
 * "The next statement" is the next statement at any depth (statement.h):
 * every entry point takes in the invalidations committed since the last
 * statement boundary, even when the key tables' locks are already held and
 * opening them would not.  Reads use the latest committed state, not the
 * transaction's snapshot (in every isolation level), so what a cache holds
 * is never older than the invalidations it has seen.  Key material is
 * re-read but kept while its wrapped bytes are unchanged.
 *
 * Per-call-site caches (types/encrypted.c) keep pointers to the GCM and
 * SIV contexts of the material cache for one statement epoch and look them
 * up again in the next.  Contexts of material that is dropped or replaced
 * are therefore retired, not freed, and freed at the next epoch, when no
 * call site can still use them.
 *
 * Memory stays bounded whatever the input: keys that do not exist are not
 * cached (any role can ask for any number of names or ids), and the row and
 * permission caches start over when they pass a bound.
 */
#include "errors.h"
#include "keys/key_store.h"
#include "catalog.h"
#include "keys/root_key.h"
#include "statement.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/parallel.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

typedef struct KeyRowEntry
{
	uint32		key_id;			/* hash key */
	bool		found;
	bool		destroyed;
	uint32		active_version;
	char		name[NAMEDATALEN];
} KeyRowEntry;

typedef struct PermKey
{
	Oid			userid;
	uint32		key_id;
} PermKey;

typedef struct PermEntry
{
	PermKey		tag;
	bool		allowed;
} PermEntry;

typedef struct MaterialKey
{
	uint32		key_id;
	uint32		key_version;
} MaterialKey;

typedef struct MaterialEntry
{
	MaterialKey tag;
	bool		verified;		/* checked against the table since the last invalidation */
	uint64		root_gen;		/* root key generation it was unwrapped under */
	uint8_t		wrapped[PX_WRAPPED_KEY_LEN];
	px_aead    *aead;
	px_siv	   *siv;
	uint8_t		hash_key[PX_KEY_LEN];	/* mask_hash's HMAC key */
} MaterialEntry;

/*
 * Bounds of the row and permission caches: far more keys than a database
 * uses, a few hundred kilobytes at most; past it a cache starts over.
 */
#define ROW_CACHE_MAX	4096
#define PERM_CACHE_MAX	4096

/* GCM and SIV contexts waiting for the next epoch to be freed. */
typedef struct RetiredMaterial
{
	px_aead    *aead;
	px_siv	   *siv;
} RetiredMaterial;

static RetiredMaterial *retired = NULL;
static int	nretired = 0;
static int	maxretired = 0;
static uint64 retired_epoch = 0;

/* What key_row() returns for a key that does not exist (never cached). */
static KeyRowEntry missing_row;

/* OIDs of the key tables as last opened, for the invalidation callback. */
static const char *const key_table_names[PX_NUM_KEY_TABLES] =
{"data_keys", "data_key_versions", "key_grants", "root_derivation_key"};
static Oid	key_table_oids[PX_NUM_KEY_TABLES] = {InvalidOid, InvalidOid, InvalidOid, InvalidOid};

static HTAB *row_cache = NULL;
static HTAB *perm_cache = NULL;
static HTAB *material_cache = NULL;
static bool rows_stale = false;
static bool perms_stale = false;
static bool materials_stale = false;
static bool callbacks_registered = false;
static bool drop_at_xact_end = false;

static px_aead *transit_aead = NULL;
static px_siv *transit_siv = NULL;
static uint8_t noise_key[PX_KEY_LEN];
static uint64 transit_root_gen = 0;
static bool transit_stale = false;

static void free_retired(void);

/* ---------------------------------------------------------------------
 * Invalidation
 * --------------------------------------------------------------------- */
static void
mark_all_stale(void)
{
	rows_stale = true;
	perms_stale = true;
	materials_stale = true;
	transit_stale = true;
}

static void
relcache_callback(Oid relid)
{
	/*
	 * Catalog lookups are not allowed here, so compare against the OIDs we
	 * saw when we last opened the tables; InvalidOid means "everything".
	 */
	int			i;

	for (i = 0; i < PX_NUM_KEY_TABLES; i++)
		if (!OidIsValid(relid) || relid == key_table_oids[i])
		{
			mark_all_stale();
			break;
		}
}

static void
role_callback(void)
{
	perms_stale = true;
}

/*
 * Entries read while in parallel mode used an older snapshot: keep them for
 * this transaction only.  Retired contexts go at every transaction end
 * (PREPARE TRANSACTION ends this backend's part of one too): the
 * epoch moves with it, so no call site still uses them.
 */
static void
xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PREPARE ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT)
	{
		free_retired();
		if (drop_at_xact_end)
		{
			mark_all_stale();
			drop_at_xact_end = false;
		}
	}
}

static void
register_callbacks(void)
{
	if (callbacks_registered)
		return;
	px_catalog_on_relation_change(relcache_callback);
	px_catalog_on_role_change(role_callback);
	RegisterXactCallback(xact_callback, NULL);
	callbacks_registered = true;
}

static HTAB *
make_cache(const char *name, Size keysize, Size entrysize)
{
	HASHCTL		ctl;

	ctl.keysize = keysize;
	ctl.entrysize = entrysize;
	ctl.hcxt = TopMemoryContext;
	return hash_create(name, 16, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/* Free the contexts of material no call site has seen (never cached). */
static void
free_material(MaterialEntry *entry)
{
	px_aead_free(entry->aead);
	px_siv_free(entry->siv);
	entry->aead = NULL;
	entry->siv = NULL;
	px_wipe(entry->wrapped, sizeof(entry->wrapped));
	px_wipe(entry->hash_key, sizeof(entry->hash_key));
}

/*
 * Take cached material out of use: its contexts are freed at the next
 * epoch (see the file comment), its other bytes wiped now.
 */
static void
retire_material(MaterialEntry *entry)
{
	if (entry->aead != NULL || entry->siv != NULL)
	{
		if (nretired == maxretired)
		{
			int			newmax = maxretired == 0 ? 8 : maxretired * 2;

			retired = retired == NULL ?
				MemoryContextAlloc(TopMemoryContext, sizeof(RetiredMaterial) * newmax) :
				repalloc(retired, sizeof(RetiredMaterial) * newmax);
			maxretired = newmax;
		}
		retired[nretired].aead = entry->aead;
		retired[nretired].siv = entry->siv;
		nretired++;
		retired_epoch = px_statement_epoch;
	}
	entry->aead = NULL;
	entry->siv = NULL;
	px_wipe(entry->wrapped, sizeof(entry->wrapped));
	px_wipe(entry->hash_key, sizeof(entry->hash_key));
}

static void
free_retired(void)
{
	int			i;

	for (i = 0; i < nretired; i++)
	{
		px_aead_free(retired[i].aead);
		px_siv_free(retired[i].siv);
	}
	nretired = 0;
}

/*
 * Bring the caches up to date: at the first call of an epoch, with the
 * invalidations committed since the last one; at any call, with those seen
 * so far.
 */
static void
refresh_caches(void)
{
	register_callbacks();
	px_statement_refresh();
	if (nretired > 0 && !px_statement_current(retired_epoch))
		free_retired();
	if (rows_stale && row_cache != NULL)
	{
		hash_destroy(row_cache);
		row_cache = NULL;
	}
	if (perms_stale && perm_cache != NULL)
	{
		hash_destroy(perm_cache);
		perm_cache = NULL;
	}
	if (materials_stale && material_cache != NULL)
	{
		HASH_SEQ_STATUS status;
		MaterialEntry *entry;

		hash_seq_init(&status, material_cache);
		while ((entry = hash_seq_search(&status)) != NULL)
			entry->verified = false;
	}
	rows_stale = perms_stale = materials_stale = false;
	if (row_cache == NULL)
		row_cache = make_cache("privacy_ext key rows", sizeof(uint32), sizeof(KeyRowEntry));
	if (perm_cache == NULL)
		perm_cache = make_cache("privacy_ext key permissions", sizeof(PermKey), sizeof(PermEntry));
	if (material_cache == NULL)
		material_cache = make_cache("privacy_ext key material", sizeof(MaterialKey),
									sizeof(MaterialEntry));
}

/* ---------------------------------------------------------------------
 * Direct reads of the key tables
 * --------------------------------------------------------------------- */
/* A key table's OID, or InvalidOid when the extension is not installed. */
Oid
px_key_table_oid(int which)
{
	return px_privacy_relid(key_table_names[which]);
}

Relation
px_open_key_table(int which, LOCKMODE lockmode)
{
	return px_open_privacy_table(key_table_names[which], lockmode, &key_table_oids[which]);
}

/*
 * The latest committed state (see the file comment).  A parallel query
 * cannot take a new snapshot: it reads with its own and keeps what it
 * read only until its transaction ends.
 */
static Snapshot
key_snapshot(void)
{
	if (IsInParallelMode())
		drop_at_xact_end = true;
	return px_catalog_snapshot();
}

/* systable_getnext() of a key table's scan with key_snapshot(): see px_require_current_row. */
static HeapTuple
key_getnext(SysScanDesc scan)
{
	HeapTuple	tup = systable_getnext(scan);

	if (HeapTupleIsValid(tup))
		px_require_current_row(tup, "privacy_ext's key state");
	return tup;
}

static bool read_wrapped_key(uint32 key_id, uint32 key_version,
							 uint8_t wrapped[PX_WRAPPED_KEY_LEN],
							 uint8_t check[PX_KEY_CHECK_LEN], bool *destroyed);

static KeyRowEntry *
key_row(uint32 key_id)
{
	KeyRowEntry *entry;
	KeyRowEntry row;
	bool		found;
	Relation	rel;
	ScanKeyData skey;
	SysScanDesc scan;
	HeapTuple	tup;

	refresh_caches();
	entry = hash_search(row_cache, &key_id, HASH_FIND, &found);
	if (found)
		return entry;

	/* Read into a local copy: an error leaves no half-filled entry behind. */
	memset(&row, 0, sizeof(row));
	row.key_id = key_id;
	rel = px_open_key_table(PX_TABLE_KEYS, AccessShareLock);
	ScanKeyInit(&skey, Anum_data_keys_key_id, BTEqualStrategyNumber, F_INT4EQ,
				Int32GetDatum((int32) key_id));
	scan = systable_beginscan(rel, InvalidOid, false, key_snapshot(), 1, &skey);
	if (HeapTupleIsValid(tup = key_getnext(scan)))
	{
		TupleDesc	desc = RelationGetDescr(rel);
		bool		isnull;

		row.found = true;
		strlcpy(row.name,
				TextDatumGetCString(heap_getattr(tup, Anum_data_keys_name, desc, &isnull)),
				NAMEDATALEN);
		row.active_version = DatumGetInt32(heap_getattr(tup, Anum_data_keys_active_version,
														desc, &isnull));
		(void) heap_getattr(tup, Anum_data_keys_destroyed_at, desc, &isnull);
		row.destroyed = !isnull;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	/*
	 * destroy_key's commit overwrites version 1's material in place before
	 * any other (key_admin.c, run_pending_wipes), and nothing else ever
	 * overwrites version 1 (drop_key_version refuses it).  That overwrite is
	 * not undone by a crash before the commit record is written, while
	 * destroyed_at is: a wiped version 1 is a destruction that had begun,
	 * and the key is destroyed.
	 */
	if (row.found && !row.destroyed)
	{
		uint8_t		wrapped[PX_WRAPPED_KEY_LEN];
		uint8_t		check[PX_KEY_CHECK_LEN];
		bool		wiped = false;

		(void) read_wrapped_key(key_id, PX_DET_KEY_VERSION, wrapped, check, &wiped);
		px_wipe(wrapped, sizeof(wrapped));
		row.destroyed = wiped;
	}

	/* Any role can ask for any number of keys that do not exist. */
	if (!row.found)
	{
		missing_row = row;
		return &missing_row;
	}

	/* Opening the table may have processed invalidations: look again. */
	refresh_caches();
	if (hash_get_num_entries(row_cache) >= ROW_CACHE_MAX)
	{
		hash_destroy(row_cache);
		row_cache = make_cache("privacy_ext key rows", sizeof(uint32), sizeof(KeyRowEntry));
	}
	entry = hash_search(row_cache, &key_id, HASH_ENTER, &found);
	*entry = row;
	return entry;
}

/*
 * Whether bytes are all zero: what destroy_key and drop_key_version leave
 * in place of a wrapped key and its check value (px_wipe), visible after a
 * crash that came before their transaction committed.  A real wrapped key
 * (nonce, ciphertext and tag) is all zero with probability 2^-480.
 */
static bool
all_zero(const uint8_t *p, size_t len)
{
	uint8_t		acc = 0;
	size_t		i;

	for (i = 0; i < len; i++)
		acc |= p[i];
	return acc == 0;
}

/*
 * Returns false when the version row does not exist; *destroyed when its
 * key material is gone (set to NULL, or overwritten in place).
 */
static bool
read_wrapped_key(uint32 key_id, uint32 key_version, uint8_t wrapped[PX_WRAPPED_KEY_LEN],
				 uint8_t check[PX_KEY_CHECK_LEN], bool *destroyed)
{
	Relation	rel = px_open_key_table(PX_TABLE_VERSIONS, AccessShareLock);
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
	if (HeapTupleIsValid(tup = key_getnext(scan)))
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
			if (all_zero(wrapped, PX_WRAPPED_KEY_LEN) && all_zero(check, PX_KEY_CHECK_LEN))
				*destroyed = true;
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
report_unknown_key(uint32 key_id)
{
	ereport(ERROR,
			(errcode(ERRCODE_PX_UNKNOWN_KEY),
			 errmsg("privacy_ext key with id %u does not exist", key_id),
			 errhint("The key was dropped, or this database has not restored its keys.")));
}

void
px_report_destroyed_key(uint32 key_id)
{
	ereport(ERROR,
			(errcode(ERRCODE_PX_KEY_DESTROYED),
			 errmsg("privacy_ext key with id %u has been destroyed", key_id),
			 errdetail("Values encrypted under a destroyed key can never be decrypted.")));
}

/*
 * A stored key wrapped under a root key the server does not have: the
 * previous root key was removed before privacy.rewrap_keys() ran, or the
 * settings name the wrong key.  The message is the one of 1.0 with the
 * version added; during a rotation the detail gives the check values
 * involved (never key bytes).
 */
void
px_report_root_key_mismatch(uint32 key_id, uint32 key_version,
							const uint8_t check[PX_KEY_CHECK_LEN])
{
	const uint8_t *previous = px_previous_root_key();
	uint8_t		current[PX_KEY_CHECK_LEN];
	uint8_t		previous_check[PX_KEY_CHECK_LEN];

	px_root_key_check_value(current);
	if (previous != NULL)
		px_report_status(px_root_key_check(previous, previous_check), false);
	ereport(ERROR,
			(errcode(ERRCODE_PX_ROOT_KEY_MISMATCH),
			 key_id == PX_TRANSIT_KEY_ID ?
			 errmsg("privacy_ext root derivation key was wrapped under a different root key") :
			 errmsg("privacy_ext data key %u version %u was wrapped under a different root key",
					key_id, key_version),
			 previous == NULL ? 0 :
			 errdetail("It needs the root key with check value %s; the current root key "
					   "has %s and the previous root key %s.",
					   px_check_value_hex(check), px_check_value_hex(current),
					   px_check_value_hex(previous_check)),
			 errhint("Check privacy.root_key_command or privacy.root_key_file; during a root key "
					 "rotation, set privacy.previous_root_key_file or "
					 "privacy.previous_root_key_command to the old root key until "
					 "privacy.rewrap_keys() has run.  privacy.key_versions shows the check value "
					 "each version needs.")));
}

/* A check value as 16 lower-case hex digits, palloc'd. */
char *
px_check_value_hex(const uint8_t check[PX_KEY_CHECK_LEN])
{
	static const char hexdigits[] = "0123456789abcdef";
	char	   *out = palloc(2 * PX_KEY_CHECK_LEN + 1);
	int			i;

	for (i = 0; i < PX_KEY_CHECK_LEN; i++)
	{
		out[2 * i] = hexdigits[check[i] >> 4];
		out[2 * i + 1] = hexdigits[check[i] & 0x0F];
	}
	out[2 * PX_KEY_CHECK_LEN] = '\0';
	return out;
}

/*
 * Unwrap a stored key under whichever root key its check value names (the
 * current or, during a rotation, the previous one).  ERROR when the server
 * has neither; PX_ERR_AUTH when the bytes were changed or moved.
 */
px_status
px_unwrap_data_key(uint32 key_id, uint32 key_version, const uint8_t wrapped[PX_WRAPPED_KEY_LEN],
				   const uint8_t check[PX_KEY_CHECK_LEN], uint8_t data_key[PX_KEY_LEN])
{
	bool		is_current;
	const uint8_t *root = px_root_key_for_check(check, &is_current);

	if (root == NULL)
		px_report_root_key_mismatch(key_id, key_version, check);
	return px_unwrap_key(root, key_id, key_version, wrapped, PX_WRAPPED_KEY_LEN, data_key);
}

/* Unwrap a data key and build its GCM and SIV contexts into entry. */
static void
unwrap_into(MaterialEntry *entry, const uint8_t wrapped[PX_WRAPPED_KEY_LEN],
			const uint8_t check[PX_KEY_CHECK_LEN])
{
	uint8_t		data_key[PX_KEY_LEN];
	uint8_t		siv_key[PX_SIV_KEY_LEN];
	uint32		key_id = entry->tag.key_id;
	uint32		key_version = entry->tag.key_version;
	px_status	status;

	status = px_unwrap_data_key(key_id, key_version, wrapped, check, data_key);
	if (status == PX_ERR_AUTH)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("wrapped data key %u version %u failed authentication", key_id, key_version),
				 errdetail("The stored key was modified or moved to another key id or version.")));
	px_report_status(status, false);

	/* GCM uses the data key; SIV a key derived from it, never the same bytes. */
	status = px_derive_key(data_key, PX_KEY_LEN, "privacy_ext siv v1", siv_key, sizeof(siv_key));
	if (status == PX_OK)
		status = px_derive_key(data_key, PX_KEY_LEN, "privacy_ext mask hash v1",
							   entry->hash_key, sizeof(entry->hash_key));
	if (status == PX_OK)
	{
		entry->aead = px_aead_new(data_key);
		entry->siv = px_siv_new(siv_key, sizeof(siv_key));
		if (entry->aead == NULL || entry->siv == NULL)
			status = PX_ERR_CRYPTO;
	}
	px_wipe(data_key, sizeof(data_key));
	px_wipe(siv_key, sizeof(siv_key));
	if (status != PX_OK)
	{
		free_material(entry);
		px_report_status(status, false);
	}
	memcpy(entry->wrapped, wrapped, PX_WRAPPED_KEY_LEN);
	entry->root_gen = px_root_key_generation();
	entry->verified = true;
}

bool
px_key_ref_for_version(uint32 key_id, uint32 key_version, bool missing_ok, PxKeyRef *ref)
{
	MaterialKey tag;
	MaterialEntry *entry;
	MaterialEntry fresh;
	bool		found;
	uint8_t		wrapped[PX_WRAPPED_KEY_LEN];
	uint8_t		check[PX_KEY_CHECK_LEN];
	bool		destroyed;

	refresh_caches();
	tag.key_id = key_id;
	tag.key_version = key_version;
	entry = hash_search(material_cache, &tag, HASH_FIND, &found);
	if (found && entry->verified && entry->root_gen == px_root_key_generation())
		goto done;

	/*
	 * A key whose destruction had begun when the server crashed (see
	 * key_row) is destroyed for every version, also those not yet wiped.
	 */
	if (key_row(key_id)->destroyed)
	{
		if (missing_ok)
			return false;
		px_report_destroyed_key(key_id);
	}
	if (!read_wrapped_key(key_id, key_version, wrapped, check, &destroyed) || destroyed)
	{
		/* Gone: drop whatever this backend still holds of it. */
		entry = hash_search(material_cache, &tag, HASH_FIND, &found);
		if (found)
		{
			retire_material(entry);
			hash_search(material_cache, &tag, HASH_REMOVE, NULL);
		}
		if (missing_ok)
			return false;
		if (destroyed)
			px_report_destroyed_key(key_id);
		if (px_key_exists(key_id))
			ereport(ERROR,
					(errcode(ERRCODE_PX_UNKNOWN_KEY),
					 errmsg("privacy_ext key with id %u has no version %u", key_id, key_version)));
		report_unknown_key(key_id);
	}

	refresh_caches();
	entry = hash_search(material_cache, &tag, HASH_FIND, &found);
	if (found && entry->root_gen == px_root_key_generation() &&
		memcmp(entry->wrapped, wrapped, PX_WRAPPED_KEY_LEN) == 0)
	{
		entry->verified = true;
		goto done;
	}

	/* Unwrap into a local entry first: an error leaves the cache as it was. */
	memset(&fresh, 0, sizeof(fresh));
	fresh.tag = tag;
	unwrap_into(&fresh, wrapped, check);
	entry = hash_search(material_cache, &tag, HASH_ENTER, &found);
	if (found)
		retire_material(entry);
	*entry = fresh;

done:
	ref->key_id = key_id;
	ref->key_version = key_version;
	ref->aead = entry->aead;
	ref->siv = entry->siv;
	ref->hash_key = entry->hash_key;
	return true;
}

/*
 * The key that new values under key_id are sealed with: the active version
 * for randomized types; for the deterministic type always version 1, so
 * equal plaintexts stay equal (and unique) across rotations.
 */
bool
px_key_ref_for_encrypt(uint32 key_id, bool deterministic, PxKeyRef *ref)
{
	KeyRowEntry *row = key_row(key_id);

	if (!row->found)
		report_unknown_key(key_id);
	if (row->destroyed)
		px_report_destroyed_key(key_id);
	return px_key_ref_for_version(key_id,
								  deterministic ? PX_DET_KEY_VERSION : row->active_version,
								  false, ref);
}

/*
 * The derivation key every root-derived key is expanded from (keywrap.c):
 * the one stored in privacy.root_derivation_key, unwrapped, once a root key
 * rotation has stored it there; before that, the derivation key of the
 * root key the cluster started with: during the first rotation the
 * previous root key if data keys are still wrapped under it or none is
 * wrapped under the current one (a database without data keys: nothing
 * shows the current key was in use before), else the current one.
 * (Asking the data keys, not just the settings, keeps swapped settings
 * from deriving, and rewrap_keys() from storing, the wrong key.)
 * A rotation therefore changes none of these keys: transit values stored
 * in expressions (a column default) stay readable, and noise stays the
 * same for the same value.  *source says where the key came from.
 */
static void
versions_under(const uint8_t previous[PX_KEY_CHECK_LEN], const uint8_t current[PX_KEY_CHECK_LEN],
			   bool *under_previous, bool *under_current)
{
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tup;

	*under_previous = *under_current = false;
	if (!OidIsValid(px_key_table_oid(PX_TABLE_VERSIONS)))
		return;
	rel = px_open_key_table(PX_TABLE_VERSIONS, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, key_snapshot(), 0, NULL);
	while (!*under_previous && HeapTupleIsValid(tup = key_getnext(scan)))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, Anum_key_versions_root_check, RelationGetDescr(rel), &isnull);
		bytea	   *c = isnull ? NULL : DatumGetByteaPP(d);

		if (c == NULL || VARSIZE_ANY_EXHDR(c) != PX_KEY_CHECK_LEN)
			continue;
		if (memcmp(VARDATA_ANY(c), previous, PX_KEY_CHECK_LEN) == 0)
			*under_previous = true;
		else if (memcmp(VARDATA_ANY(c), current, PX_KEY_CHECK_LEN) == 0)
			*under_current = true;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

void
px_root_derivation_key(uint8_t prk[PX_KEY_LEN], PxDerivationSource *source)
{
	const uint8_t *previous;
	uint8_t		previous_check[PX_KEY_CHECK_LEN];
	uint8_t		wrapped[PX_WRAPPED_KEY_LEN];
	uint8_t		check[PX_KEY_CHECK_LEN];
	bool		found = false;
	px_status	status;

	refresh_caches();
	if (OidIsValid(px_key_table_oid(PX_TABLE_ROOT_DERIVATION)))
	{
		Relation	rel = px_open_key_table(PX_TABLE_ROOT_DERIVATION, AccessShareLock);
		SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, key_snapshot(), 0, NULL);
		HeapTuple	tup;

		if (HeapTupleIsValid(tup = key_getnext(scan)))
		{
			TupleDesc	desc = RelationGetDescr(rel);
			bool		wnull;
			bool		cnull;
			Datum		wd = heap_getattr(tup, Anum_root_derivation_wrapped_key, desc, &wnull);
			Datum		cd = heap_getattr(tup, Anum_root_derivation_root_check, desc, &cnull);
			bytea	   *w = wnull ? NULL : DatumGetByteaPP(wd);
			bytea	   *c = cnull ? NULL : DatumGetByteaPP(cd);

			if (w == NULL || c == NULL || VARSIZE_ANY_EXHDR(w) != PX_WRAPPED_KEY_LEN ||
				VARSIZE_ANY_EXHDR(c) != PX_KEY_CHECK_LEN)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("the stored privacy_ext root derivation key has an invalid length")));
			memcpy(wrapped, VARDATA_ANY(w), PX_WRAPPED_KEY_LEN);
			memcpy(check, VARDATA_ANY(c), PX_KEY_CHECK_LEN);
			found = true;
		}
		systable_endscan(scan);
		table_close(rel, AccessShareLock);
	}
	if (found)
	{
		*source = PX_DERIVATION_STORED;
		status = px_unwrap_data_key(PX_TRANSIT_KEY_ID, 0, wrapped, check, prk);
		if (status == PX_ERR_AUTH)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("the stored privacy_ext root derivation key failed authentication"),
					 errdetail("privacy.root_derivation_key was modified.")));
		px_report_status(status, false);
		return;
	}
	previous = px_previous_root_key();
	*source = PX_DERIVATION_CURRENT;
	if (previous != NULL)
	{
		uint8_t		current_check[PX_KEY_CHECK_LEN];
		bool		under_previous;
		bool		under_current;

		px_report_status(px_root_key_check(previous, previous_check), false);
		px_root_key_check_value(current_check);
		versions_under(previous_check, current_check, &under_previous, &under_current);
		if (under_previous || !under_current)
			*source = PX_DERIVATION_PREVIOUS;
	}
	status = px_derivation_key(*source == PX_DERIVATION_PREVIOUS ? previous : px_root_key(),
							   PX_KEY_LEN, prk);
	px_report_status(status, false);
}

/* A key for one purpose derived from the root key (see px_root_derivation_key). */
void
px_root_derived_key(const char *label, uint8_t *out, size_t out_len)
{
	uint8_t		prk[PX_KEY_LEN];
	PxDerivationSource source;
	px_status	status;

	px_root_derivation_key(prk, &source);
	status = px_derive_from_derivation_key(prk, label, out, out_len);
	px_wipe(prk, sizeof(prk));
	px_report_status(status, false);
}

/*
 * Transit values hold typed input (a literal, a bind parameter) until a
 * cast binds them to a column's key.  Their keys are derived from the root
 * key, so any backend of the cluster can bind a transit value it finds in a
 * stored expression such as a column default.
 */
static void
load_transit_keys(void)
{
	uint64		gen = px_root_key_generation();
	uint8_t		prk[PX_KEY_LEN];
	uint8_t		k[PX_SIV_KEY_LEN];
	PxDerivationSource source;
	px_status	status;

	refresh_caches();
	if (transit_aead != NULL && transit_root_gen == gen && !transit_stale)
		return;
	px_aead_free(transit_aead);
	px_siv_free(transit_siv);
	transit_aead = NULL;
	transit_siv = NULL;
	px_root_derivation_key(prk, &source);
	status = px_derive_from_derivation_key(prk, "privacy_ext transit v1", k, PX_KEY_LEN);
	if (status == PX_OK)
	{
		transit_aead = px_aead_new(k);
		status = px_derive_from_derivation_key(prk, "privacy_ext transit siv v1", k, PX_SIV_KEY_LEN);
	}
	if (status == PX_OK)
		transit_siv = px_siv_new(k, PX_SIV_KEY_LEN);
	if (status == PX_OK)
		status = px_derive_from_derivation_key(prk, "privacy_ext noise v1", noise_key, PX_KEY_LEN);
	px_wipe(k, sizeof(k));
	px_wipe(prk, sizeof(prk));
	if (status == PX_OK && (transit_aead == NULL || transit_siv == NULL))
		status = PX_ERR_CRYPTO;
	if (status != PX_OK)
	{
		px_aead_free(transit_aead);
		px_siv_free(transit_siv);
		transit_aead = NULL;
		transit_siv = NULL;
		px_report_status(status, false);
	}
	transit_root_gen = gen;
	transit_stale = false;
}

void
px_transit_key_ref(PxKeyRef *ref)
{
	load_transit_keys();
	ref->key_id = PX_TRANSIT_KEY_ID;
	ref->key_version = 0;
	ref->aead = transit_aead;
	ref->siv = transit_siv;
	ref->hash_key = NULL;
}

/* HMAC under the cluster's noise key (derived from the root key). */
px_status
px_noise_mac(const uint8_t *msg, size_t len, uint8_t out[32])
{
	load_transit_keys();
	return px_hmac_sha256(noise_key, PX_KEY_LEN, msg, len, out);
}

bool
px_key_exists(uint32 key_id)
{
	return key_row(key_id)->found;
}

/*
 * Whether any version of key_id is stored.  A key being restored has none
 * yet (pg_restore may load privacy.data_keys before data_key_versions, and
 * the tables using them before either); a live key always has version 1.
 */
bool
px_key_has_versions(uint32 key_id)
{
	Relation	rel = px_open_key_table(PX_TABLE_VERSIONS, AccessShareLock);
	ScanKeyData skey;
	SysScanDesc scan;
	bool		found;

	ScanKeyInit(&skey, Anum_key_versions_key_id, BTEqualStrategyNumber, F_INT4EQ,
				Int32GetDatum((int32) key_id));
	scan = systable_beginscan(rel, InvalidOid, false, key_snapshot(), 1, &skey);
	found = HeapTupleIsValid(key_getnext(scan));
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/* Whether the key exists and was destroyed (its values are gone). */
bool
px_key_destroyed(uint32 key_id)
{
	KeyRowEntry *row = key_row(key_id);

	return row->found && row->destroyed;
}

/* The key's name, or NULL when there is no such key. */
char *
px_key_name(uint32 key_id)
{
	KeyRowEntry *row = key_row(key_id);

	return row->found ? pstrdup(row->name) : NULL;
}

/* Whether name can name a key: lower-case letters, digits, '_', '.', '-'. */
bool
px_key_name_valid(const char *name)
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
	return ok;
}

/* Resolve an existing key by name; 0 or ERROR when there is none. */
uint32
px_key_id_for_name(const char *name, bool missing_ok)
{
	uint32		key_id = px_key_id_from_name(name, strlen(name));
	KeyRowEntry *row = key_row(key_id);

	if (row->found && strcmp(row->name, name) == 0)
		return key_id;
	if (missing_ok)
		return 0;
	/* The hint names a call that works: no key can have an invalid name. */
	if (px_key_name_valid(name))
		ereport(ERROR,
				(errcode(ERRCODE_PX_UNKNOWN_KEY),
				 errmsg("privacy_ext key \"%s\" does not exist", name),
				 errhint("Create it with privacy.create_key('%s').", name)));
	ereport(ERROR,
			(errcode(ERRCODE_PX_UNKNOWN_KEY),
			 errmsg("privacy_ext key \"%s\" does not exist", px_name_for_message(name)),
			 errhint("A key name is 1 to %d characters: lower-case letters, digits, '_', '.' and '-'.", NAMEDATALEN - 1)));
	return 0;					/* keep compiler quiet */
}

/*
 * May the current user decrypt under key_id?  Superusers may; anyone else
 * needs a grant to a role whose privileges they have (directly or through
 * membership with INHERIT), made while that role had its present name.
 */
bool
px_may_decrypt(uint32 key_id)
{
	Oid			userid = GetUserId();
	PermKey		tag;
	PermEntry  *entry;
	bool		found;
	bool		allowed = false;
	Relation	rel;
	ScanKeyData skey;
	SysScanDesc scan;
	HeapTuple	tup;

	if (superuser_arg(userid))
		return true;
	refresh_caches();
	memset(&tag, 0, sizeof(tag));
	tag.userid = userid;
	tag.key_id = key_id;
	entry = hash_search(perm_cache, &tag, HASH_FIND, &found);
	if (found)
		return entry->allowed;

	rel = px_open_key_table(PX_TABLE_GRANTS, AccessShareLock);
	ScanKeyInit(&skey, Anum_key_grants_key_id, BTEqualStrategyNumber, F_INT4EQ,
				Int32GetDatum((int32) key_id));
	scan = systable_beginscan(rel, InvalidOid, false, key_snapshot(), 1, &skey);
	while (!allowed && HeapTupleIsValid(tup = key_getnext(scan)))
	{
		TupleDesc	desc = RelationGetDescr(rel);
		bool		isnull;
		bool		name_isnull;
		Oid			grantee = DatumGetObjectId(heap_getattr(tup, Anum_key_grants_grantee,
															desc, &isnull));
		Name		granted_name = DatumGetName(heap_getattr(tup, Anum_key_grants_grantee_name,
															 desc, &name_isnull));
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

	/* Opening the table may have processed invalidations. */
	refresh_caches();
	if (hash_get_num_entries(perm_cache) >= PERM_CACHE_MAX)
	{
		hash_destroy(perm_cache);
		perm_cache = make_cache("privacy_ext key permissions", sizeof(PermKey), sizeof(PermEntry));
	}
	entry = hash_search(perm_cache, &tag, HASH_ENTER, &found);
	entry->allowed = allowed;
	return allowed;
}

/*
 * privacy.key_tables_changed(): statement trigger on the key tables.  Any
 * change, through the key functions or by hand, invalidates every backend's
 * caches when it commits (and this backend's at once).
 */
PG_FUNCTION_INFO_V1(px_key_tables_changed);
Datum
px_key_tables_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("privacy.key_tables_changed() must be called as a trigger")));
	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigdata->tg_relation));
	return PointerGetDatum(NULL);
}
