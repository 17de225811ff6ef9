/*
 * types/encrypted.c
 *		privacy.encrypted_text and privacy.encrypted_bytea: I/O, type
 *		modifier, casts and decryption.
 *
 * A stored value is the binary envelope of px_core.h; its text form is the
 * armor "pxe1:<base64>".  The type modifier is the id of the column's key.
 *
 * How plaintext becomes a value under the right key:
 *	- text/bytea -> encrypted type (assignment cast): the cast function gets
 *	  the target type modifier and seals under that key directly.
 *	- COPY and binary input pass the column's type modifier to the input
 *	  function, which seals under that key directly.
 *	- A literal or bind parameter is read with type modifier -1, before the
 *	  column is known.  It becomes a transit value (key id 0, under a key
 *	  derived from the root key) and the length-coercion cast to the column's
 *	  type modifier re-seals it under the column's key.  A value under any
 *	  other key is never re-sealed: that would let a role move ciphertext to
 *	  a key it holds and read it.
 */
#include "errors.h"
#include "types/encrypted.h"
#include "types/pending_literal.h"
#include "catalog.h"
#include "keys/key_store.h"
#include "keys/key_admin.h"
#include "audit/counts.h"
#include "log_redact.h"
#include "statement.h"
#include "citus/citus_presence.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

#define CACHE_SLOTS 4

/* Nonces for this backend; MyProcPid tells a forked child to refill. */
static px_nonce_pool nonce_pool;

/*
 * Per-call-site state, kept in fn_extra: the key new values are sealed
 * under, the key versions values were opened with, and the decrypt
 * permission of the current user.  Key tables are therefore read once per
 * statement and key, not per row.
 *
 * An FmgrInfo can outlive its statement: PL/pgSQL keeps its expressions'
 * across statements and transactions, a cursor across FETCHes.  The key
 * state below is valid for one statement epoch only (statement.h): at the
 * first call of a new epoch it is dropped and looked up again from
 * keys/key_store.c's caches, which have then taken in every revoke, rotation and
 * destruction committed before the statement.  That also keeps the
 * pointers into key_store's material cache from outliving the material.
 */
typedef struct PxCallCache
{
	uint64		epoch;			/* statement epoch the key state is valid in */
	bool		have_seal;
	PxKeyRef	seal;
	int			nopen;
	PxKeyRef	open[CACHE_SLOTS];	/* aead NULL: key not restored yet */
	Oid			perm_user;
	PxKeyRef	hot;			/* last version opened for perm_user, allowed */
	uint8		hot_header[PX_HEADER_LEN];	/* ... and the header naming it */
	PxKeyRef	mask_hot;		/* masking: last version opened (no grant needed) */
	uint8		mask_hot_header[PX_HEADER_LEN];	/* ... the header naming it */
	uint32		mask_hot_key_id;	/* ... and its key */
	size_t		mask_pt_len;	/* the open's output (a field: no stack canary per row) */
	size_t		hot_pt_len;		/* ... and privacy.decrypt()'s per-row open's */
	PxKeyRef	transit;
	int			nperm;
	uint32		perm_key[CACHE_SLOTS];
	bool		perm_ok[CACHE_SLOTS];
	bytea	   *memo_in;		/* deterministic coercion: last input ... */
	uint32		memo_key;		/* ... the key it was bound to ... */
	bytea	   *memo_out;		/* ... and its result */
	char	   *key_name;		/* privacy.encrypt(): last key name seen */
	uint32		named_key_id;
	PxAuditSite audit;			/* decrypt: this statement's counter */
} PxCallCache;

/*
 * A scan's next rows, fetched ahead.  Heap pages store their tuples from
 * the page's end downwards, so the rows after this one lie just below the
 * value being opened; the scan touches each of their cache lines first
 * inside the decryption, where the miss stalls the row (perf, masked read
 * of two encrypted columns: the envelope's first load took 69% of the
 * masking open's samples, 21% with this).  A prefetch never faults and
 * only warms the cache: outside a heap page it costs a wasted fetch.
 */
static inline void
prefetch_next_rows(const uint8_t *env)
{
	__builtin_prefetch(env - 256);
	__builtin_prefetch(env - 512);
}

/*
 * A new statement epoch: forget every key, version, permission and binding
 * looked up before it.  The audit counter rebinds by its own rules.
 */
static void
revalidate_cache(PxCallCache *cache)
{
	px_statement_refresh();
	cache->have_seal = false;
	cache->nopen = 0;
	cache->perm_user = InvalidOid;
	cache->nperm = 0;
	memset(&cache->hot, 0, sizeof(cache->hot));
	memset(&cache->mask_hot, 0, sizeof(cache->mask_hot));
	memset(&cache->transit, 0, sizeof(cache->transit));
	if (cache->memo_in != NULL)
	{
		pfree(cache->memo_in);
		pfree(cache->memo_out);
		cache->memo_in = cache->memo_out = NULL;
	}
	if (cache->key_name != NULL)
	{
		pfree(cache->key_name);
		cache->key_name = NULL;
	}
	cache->epoch = px_statement_epoch;
}

/* The cache, valid for this statement (inline: per row, one compare). */
static inline PxCallCache *
current_cache(PxCallCache *cache)
{
	if (unlikely(!px_statement_current(cache->epoch)))
		revalidate_cache(cache);
	return cache;
}

static PxCallCache *
call_cache(FunctionCallInfo fcinfo)
{
	if (fcinfo->flinfo->fn_extra == NULL)
		fcinfo->flinfo->fn_extra = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt,
														  sizeof(PxCallCache));
	return current_cache((PxCallCache *) fcinfo->flinfo->fn_extra);
}

static const char *
key_label(uint32 key_id)
{
	char	   *name = px_key_name(key_id);

	return name ? psprintf("\"%s\"", name) : psprintf("with id %u", key_id);
}

/*
 * Seals and opens made by this backend, for privacy.crypto_counters(): how
 * tests show that each write path seals a value once.
 */
static uint64 seal_count = 0;
static uint64 open_count = 0;

/* Seal plaintext under key_id (PX_TRANSIT_KEY_ID for a transit value). */
static bytea *
seal_value(PxCallCache *cache, uint32 key_id, px_value_type type,
		   const char *pt, size_t pt_len)
{
	bool		det = (type == PX_TYPE_TEXT_DET);
	px_header	hdr;
	PxKeyRef	transit;
	PxKeyRef   *ref;
	bytea	   *result;
	size_t		env_len;
	px_status	status;

	px_note_plaintext_in();
	if (pt_len > PX_MAX_PLAINTEXT)
		px_report_status(PX_ERR_TOO_LONG, true);
	if (key_id == PX_TRANSIT_KEY_ID)
	{
		px_transit_key_ref(&transit);
		ref = &transit;
	}
	else
	{
		if (!cache->have_seal || cache->seal.key_id != key_id)
		{
			px_key_ref_for_encrypt(key_id, det, &cache->seal);
			cache->have_seal = true;
		}
		ref = &cache->seal;
	}
	hdr.version = PX_FORMAT_V1;
	hdr.type = (uint8_t) type;
	hdr.key_id = key_id;
	hdr.key_version = ref->key_version;

	env_len = det ? px_det_envelope_len(pt_len) : px_envelope_len(pt_len);
	result = palloc(VARHDRSZ + env_len);
	SET_VARSIZE(result, VARHDRSZ + env_len);
	if (det)
		status = px_det_seal(ref->siv, &hdr, (const uint8_t *) pt, pt_len,
							 (uint8_t *) VARDATA(result));
	else
		status = px_envelope_seal(ref->aead, &hdr, &nonce_pool, (long) MyProcPid,
								  (const uint8_t *) pt, pt_len, (uint8_t *) VARDATA(result));
	px_report_status(status, true);
	seal_count++;
	return result;
}

/*
 * The keys for an envelope's key version, or NULL when the key is unknown
 * and unknown keys are tolerated (restoring a dump: see verify_envelope).
 */
static PxKeyRef *
open_ref(PxCallCache *cache, const px_header *hdr, bool missing_ok)
{
	int			i;
	PxKeyRef	ref;

	if (hdr->key_id == PX_TRANSIT_KEY_ID)
	{
		px_transit_key_ref(&cache->transit);
		return &cache->transit;
	}
	for (i = 0; i < cache->nopen; i++)
		if (cache->open[i].key_id == hdr->key_id &&
			cache->open[i].key_version == hdr->key_version)
			return cache->open[i].aead ? &cache->open[i] : NULL;

	if (!px_key_ref_for_version(hdr->key_id, hdr->key_version, missing_ok, &ref))
	{
		ref.key_id = hdr->key_id;
		ref.key_version = hdr->key_version;
		ref.aead = NULL;
		ref.siv = NULL;
	}
	/* Keep the newest CACHE_SLOTS versions seen; a scan rarely meets more. */
	if (cache->nopen == CACHE_SLOTS)
	{
		memmove(&cache->open[0], &cache->open[1], sizeof(PxKeyRef) * (CACHE_SLOTS - 1));
		cache->nopen--;
	}
	cache->open[cache->nopen++] = ref;
	return ref.aead ? &cache->open[cache->nopen - 1] : NULL;
}

/* Plaintext length of an envelope of type, or 0 for a malformed length. */
static size_t
plaintext_len(px_value_type type, size_t env_len)
{
	if (type == PX_TYPE_TEXT_DET)
		return env_len >= px_det_envelope_len(0) ? env_len - px_det_envelope_len(0) : 0;
	return px_envelope_plaintext_len(env_len);
}

/*
 * Open env into out, which has room for plaintext_len() bytes plus one byte
 * before it (out[-1]): the deterministic form decrypts its type byte there.
 */
static px_status
open_into(const PxKeyRef *ref, px_value_type type, const uint8_t *env, size_t len,
		  uint8_t *out, size_t *pt_len)
{
	if (type == PX_TYPE_TEXT_DET)
		return px_det_open(ref->siv, env, len, out - 1, pt_len);
	return px_envelope_open(ref->aead, env, len, out, pt_len);
}

static void
read_header(const uint8_t *env, size_t len, px_value_type type, px_header *hdr)
{
	px_report_status(px_header_read(env, len, hdr), true);
	if (hdr->type != type)
		ereport(ERROR,
				(errcode(ERRCODE_PX_WRONG_TYPE),
				 errmsg("envelope holds a %s value, not %s",
						px_encrypted_type_name(hdr->type), px_encrypted_type_name(type)),
				 px_errhide()));
}

static void
check_column_key(const px_header *hdr, int32 typmod)
{
	if (typmod >= 0 && hdr->key_id != (uint32) typmod)
		ereport(ERROR,
				(errcode(ERRCODE_PX_WRONG_KEY),
				 errmsg("value is encrypted under key %s, but the column requires key %s",
						key_label(hdr->key_id), key_label((uint32) typmod)),
				 errhint("Decrypt and re-encrypt it: privacy.decrypt(value) cast to the column's type."),
				 px_errhide()));
}

/*
 * An envelope arriving as input must authenticate under its key, so that a
 * tampered or relabelled value is refused instead of stored.  While
 * check_function_bodies is off, as in pg_dump's output, a key that does not
 * exist yet is tolerated: pg_dump restores user tables' data independently
 * of the key tables, and the value is authenticated when first decrypted.
 * So is a destroyed key (the key tables came first): its values are noise
 * for good, but refusing them would lose their rows' other columns.
 */
static void
verify_envelope(PxCallCache *cache, const uint8_t *env, size_t len,
				px_value_type type, int32 typmod)
{
	px_header	hdr;
	PxKeyRef   *ref;
	uint8_t    *scratch;
	size_t		pt_len;
	px_status	status;

	read_header(env, len, type, &hdr);
	check_column_key(&hdr, typmod);
	/*
	 * With check_function_bodies off (a restore), a value whose key is not
	 * restored yet, or was destroyed (nothing can open it, in the dump or
	 * here), is taken as it is; but only then: a version missing from a
	 * live key that has its versions (any role may turn the setting off) is
	 * a relabelled envelope, refused as always.
	 */
	ref = open_ref(cache, &hdr, !check_function_bodies &&
				   (hdr.key_id == PX_TRANSIT_KEY_ID || !px_key_has_versions(hdr.key_id) ||
					px_key_destroyed(hdr.key_id)));
	if (ref == NULL)
		return;
	scratch = palloc(plaintext_len(type, len) + 1);
	status = open_into(ref, type, env, len, scratch + 1, &pt_len);
	px_wipe(scratch, plaintext_len(type, len) + 1);
	pfree(scratch);

	/*
	 * The same tolerance for a transit value (a column default in the
	 * dump) after a root key rotation: its key comes from the root
	 * derivation key, which the dump restores with the extension's tables,
	 * after the tables that use it (keys/key_store.c).
	 */
	if (status == PX_ERR_AUTH && hdr.key_id == PX_TRANSIT_KEY_ID && !check_function_bodies)
		return;
	px_report_status(status, true);
}

static void
check_decrypt_permission(PxCallCache *cache, uint32 key_id)
{
	Oid			userid = GetUserId();
	int			i;
	bool		allowed;

	if (cache->perm_user != userid)
	{
		cache->perm_user = userid;
		cache->nperm = 0;
		cache->hot.aead = NULL;
	}
	for (i = 0; i < cache->nperm; i++)
		if (cache->perm_key[i] == key_id)
		{
			if (cache->perm_ok[i])
				return;
			break;
		}
	if (i == cache->nperm)
	{
		allowed = px_may_decrypt(key_id);
		if (cache->nperm < CACHE_SLOTS)
		{
			cache->perm_key[cache->nperm] = key_id;
			cache->perm_ok[cache->nperm] = allowed;
			cache->nperm++;
		}
		if (allowed)
			return;
	}
	/* Destruction also drops the grants: say what is final. */
	if (px_key_destroyed(key_id))
		px_report_destroyed_key(key_id);
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied for privacy_ext key %s", key_label(key_id)),
			 errhint("A key administrator can allow it with privacy.grant_key()."),
			 px_errhide()));
}

/*
 * Open an envelope into a new varlena (text and bytea share the layout).
 * for_user: check the current user's grant; false only when re-sealing a
 * transit value, whose plaintext came from this session's own input.
 */
static struct varlena *
open_value(PxCallCache *cache, const uint8_t *env, size_t len, px_value_type type,
		   bool for_user)
{
	px_header	hdr;
	PxKeyRef   *ref;
	struct varlena *result;
	size_t		pt_len;
	px_status	status;

	if (for_user)
		px_note_plaintext_out();
	/*
	 * Fast path: the same header as the previous row's (format, type, key
	 * and version, all checked then), same user.  The open below checks
	 * the length and authenticates the header with the value.
	 */
	if (for_user && cache->hot.aead != NULL && len >= PX_HEADER_LEN &&
		memcmp(env, cache->hot_header, PX_HEADER_LEN) == 0 && env[1] == (uint8) type &&
		cache->perm_user == GetUserId())
		ref = &cache->hot;
	else
	{
		read_header(env, len, type, &hdr);
		if (hdr.key_id == PX_TRANSIT_KEY_ID && for_user)
			ereport(ERROR,
					(errcode(ERRCODE_PX_UNBOUND_VALUE),
					 errmsg("value is not encrypted under a key"),
					 errdetail("Typed input becomes a %s value only when it is cast to a type "
							   "naming a key, such as %s('keyname'), or stored in such a column.",
							   px_encrypted_type_name(type), px_encrypted_type_name(type)),
					 px_errhide()));
		if (for_user)
			check_decrypt_permission(cache, hdr.key_id);
		ref = open_ref(cache, &hdr, false);
		if (for_user)
		{
			cache->hot = *ref;
			memcpy(cache->hot_header, env, PX_HEADER_LEN);
		}
	}

	/*
	 * Decrypt straight into the result.  A deterministic envelope decrypts
	 * a type byte first, which lands in the last byte of the varlena header
	 * and is overwritten by SET_VARSIZE below.
	 */
	result = palloc(VARHDRSZ + plaintext_len(type, len));
	status = open_into(ref, type, env, len, (uint8_t *) VARDATA(result), &pt_len);
	px_report_status(status, true);
	open_count++;
	SET_VARSIZE(result, VARHDRSZ + pt_len);
	return result;
}

/* ---------------------------------------------------------------------
 * Input and output
 * --------------------------------------------------------------------- */

/*
 * Plaintext given as text input (str is NUL-terminated; for the bytea type
 * it is bytea's input syntax), sealed under key_id, or left pending for
 * its column's key when wait is set (types/pending_literal.h).
 */
static bytea *
seal_text_input(PxCallCache *cache, const char *str, size_t len, px_value_type type,
				uint32 key_id, bool wait)
{
	bytea	   *result;

	px_note_plaintext_in();
	if (type == PX_TYPE_BYTEA)
	{
		bytea	   *plain = DatumGetByteaPP(DirectFunctionCall1(byteain, CStringGetDatum(str)));

		result = wait
			? px_literal_make_pending(type, VARDATA_ANY(plain), VARSIZE_ANY_EXHDR(plain))
			: seal_value(cache, key_id, type, VARDATA_ANY(plain), VARSIZE_ANY_EXHDR(plain));
		px_wipe(VARDATA_ANY(plain), VARSIZE_ANY_EXHDR(plain));
		return result;
	}
	if (!wait)
		return seal_value(cache, key_id, type, str, len);
	if (len > PX_MAX_PLAINTEXT)
		px_report_status(PX_ERR_TOO_LONG, true);
	return px_literal_make_pending(type, str, len);
}

/* An armored envelope given as input, checked (see verify_envelope). */
static bytea *
decode_armored(PxCallCache *cache, const char *str, size_t len, px_value_type type,
			   int32 typmod)
{
	bytea	   *env = palloc(VARHDRSZ + px_armor_max_decoded_len(len));
	size_t		env_len;

	px_report_status(px_armor_decode(str, len, (uint8_t *) VARDATA(env), &env_len), true);
	SET_VARSIZE(env, VARHDRSZ + env_len);
	verify_envelope(cache, (uint8_t *) VARDATA(env), env_len, type, typmod);
	return env;
}
static Datum
encrypted_in(FunctionCallInfo fcinfo, px_value_type type)
{
	char	   *str = PG_GETARG_CSTRING(0);
	int32		typmod = PG_GETARG_INT32(2);
	PxCallCache *cache = call_cache(fcinfo);
	size_t		len = strlen(str);
	uint32		key_id = typmod >= 0 ? (uint32) typmod : PX_TRANSIT_KEY_ID;
	bool		wait;

	if (px_armor_has_prefix(str, len))
		PG_RETURN_BYTEA_P(decode_armored(cache, str, len, type, typmod));

	/*
	 * A literal the parser is coercing to an INSERT or UPDATE column waits
	 * for the column's key instead of being sealed twice (see
	 * types/pending_literal.h).
	 */
	wait = typmod < 0 && px_literal_can_wait();
	PG_RETURN_BYTEA_P(seal_text_input(cache, str, len, type, key_id, wait));
}

static Datum
encrypted_out(FunctionCallInfo fcinfo)
{
	bytea	   *env = PG_GETARG_BYTEA_PP(0);
	size_t		len = VARSIZE_ANY_EXHDR(env);
	size_t		armor_len = px_armor_len(len);
	char	   *out;

	/*
	 * The armor is a third larger than the envelope: a value above about
	 * 805 MB encrypts and decrypts, but has no text form under the 1 GB
	 * allocation limit.  Say so instead of failing in palloc (XX000).
	 */
	if (armor_len + 1 > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("encrypted value too large for its text form"),
				 errdetail("Its envelope is %zu bytes; the armored text would exceed 1 GB.", len),
				 errhint("Decrypt it, or read it with binary COPY.")));
	out = palloc(armor_len + 1);
	px_armor_encode((const uint8_t *) VARDATA_ANY(env), len, out);
	out[armor_len] = '\0';
	PG_RETURN_CSTRING(out);
}

static Datum
encrypted_recv(FunctionCallInfo fcinfo, px_value_type type)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int32		typmod = PG_GETARG_INT32(2);
	int			len = buf->len - buf->cursor;
	bytea	   *env = palloc(VARHDRSZ + len);

	pq_copymsgbytes(buf, VARDATA(env), len);
	SET_VARSIZE(env, VARHDRSZ + len);
	verify_envelope(call_cache(fcinfo), (uint8_t *) VARDATA(env), len, type, typmod);
	PG_RETURN_BYTEA_P(env);
}

static Datum
encrypted_send(FunctionCallInfo fcinfo)
{
	bytea	   *env = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbytes(&buf, VARDATA_ANY(env), VARSIZE_ANY_EXHDR(env));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(px_encrypted_text_in);
Datum
px_encrypted_text_in(PG_FUNCTION_ARGS)
{
	return encrypted_in(fcinfo, PX_TYPE_TEXT);
}

PG_FUNCTION_INFO_V1(px_encrypted_text_det_in);
Datum
px_encrypted_text_det_in(PG_FUNCTION_ARGS)
{
	return encrypted_in(fcinfo, PX_TYPE_TEXT_DET);
}

PG_FUNCTION_INFO_V1(px_encrypted_text_det_recv);
Datum
px_encrypted_text_det_recv(PG_FUNCTION_ARGS)
{
	return encrypted_recv(fcinfo, PX_TYPE_TEXT_DET);
}

PG_FUNCTION_INFO_V1(px_encrypted_bytea_in);
Datum
px_encrypted_bytea_in(PG_FUNCTION_ARGS)
{
	return encrypted_in(fcinfo, PX_TYPE_BYTEA);
}

PG_FUNCTION_INFO_V1(px_encrypted_out);
Datum
px_encrypted_out(PG_FUNCTION_ARGS)
{
	return encrypted_out(fcinfo);
}

PG_FUNCTION_INFO_V1(px_encrypted_text_recv);
Datum
px_encrypted_text_recv(PG_FUNCTION_ARGS)
{
	return encrypted_recv(fcinfo, PX_TYPE_TEXT);
}

PG_FUNCTION_INFO_V1(px_encrypted_bytea_recv);
Datum
px_encrypted_bytea_recv(PG_FUNCTION_ARGS)
{
	return encrypted_recv(fcinfo, PX_TYPE_BYTEA);
}

PG_FUNCTION_INFO_V1(px_encrypted_send);
Datum
px_encrypted_send(PG_FUNCTION_ARGS)
{
	return encrypted_send(fcinfo);
}

/* ---------------------------------------------------------------------
 * Type modifier: the key
 * --------------------------------------------------------------------- */

/*
 * Accepts a key name, or a numeric key id (what typmodout prints for a key
 * that no longer exists).  A key that does not exist is an error, except
 * while check_function_bodies is off, as pg_dump's output sets it: the dump
 * creates tables before it restores the key tables, and the id is derived
 * from the name, so the column is correct once the keys arrive.  The same
 * holds for the tables Citus creates on a node it is adding, before the
 * key store reaches it (citus/citus_presence.h).
 */
PG_FUNCTION_INFO_V1(px_encrypted_typmod_in);
Datum
px_encrypted_typmod_in(PG_FUNCTION_ARGS)
{
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(0);
	Datum	   *elems;
	int			nelems;
	char	   *arg;
	uint32		key_id;
	bool		unknown_ok;

	deconstruct_array(arr, CSTRINGOID, -2, false, TYPALIGN_CHAR, &elems, NULL, &nelems);
	if (nelems != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("an encrypted type takes exactly one modifier: the key name"),
				 errhint("For example: privacy.encrypted_text('hr').")));
	arg = DatumGetCString(elems[0]);
	unknown_ok = !check_function_bodies || px_citus_internal_session();

	if (arg[0] >= '0' && arg[0] <= '9')
	{
		char	   *end;
		unsigned long v = strtoul(arg, &end, 10);

		if (*end != '\0' || v == 0 || v > PG_INT32_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid privacy_ext key id \"%s\"", arg)));
		key_id = (uint32) v;
		if (!unknown_ok && !px_key_exists(key_id))
			ereport(ERROR,
					(errcode(ERRCODE_PX_UNKNOWN_KEY),
					 errmsg("privacy_ext key with id %u does not exist", key_id)));
	}
	else
	{
		px_check_key_name(arg);
		key_id = px_key_id_for_name(arg, unknown_ok);
		if (key_id == 0)
			key_id = px_key_id_from_name(arg, strlen(arg));
	}
	PG_RETURN_INT32((int32) key_id);
}

PG_FUNCTION_INFO_V1(px_encrypted_typmod_out);
Datum
px_encrypted_typmod_out(PG_FUNCTION_ARGS)
{
	int32		typmod = PG_GETARG_INT32(0);
	char	   *name;

	if (typmod < 0)
		PG_RETURN_CSTRING(pstrdup(""));
	name = px_key_name((uint32) typmod);
	PG_RETURN_CSTRING(name ? psprintf("('%s')", name) : psprintf("(%d)", typmod));
}

/* ---------------------------------------------------------------------
 * Casts
 * --------------------------------------------------------------------- */

/*
 * Re-seal a transit value under key_id.  No permission check: the
 * plaintext came from the caller's own input, and the result stays under
 * a key the caller still needs a grant to read.
 */
static bytea *
bind_transit(PxCallCache *cache, const uint8_t *env, size_t len, px_value_type type,
			 uint32 key_id)
{
	struct varlena *plain = open_value(cache, env, len, type, false);
	bytea	   *result = seal_value(cache, key_id, type, VARDATA(plain),
									VARSIZE(plain) - VARHDRSZ);

	px_wipe(VARDATA(plain), VARSIZE(plain) - VARHDRSZ);
	pfree(plain);
	return result;
}

/*
 * For masking views (masking/rules.c): the plaintext of a stored value without
 * a grant check, or NULL for a transit value.  The caller masks it before
 * anything leaves the server, or checks the grant itself.  *cachep holds
 * this file's per-call-site key cache, allocated in mcxt on first use.
 */
struct varlena *
px_open_for_masking(bytea *env, px_value_type type, void **cachep, MemoryContext mcxt,
					int32 column_typmod)
{
	PxCallCache *cache = (PxCallCache *) *cachep;
	px_header	hdr;

	if (cache == NULL)
		*cachep = cache = MemoryContextAllocZero(mcxt, sizeof(PxCallCache));
	current_cache(cache);
	px_note_plaintext_out();
	read_header((uint8_t *) VARDATA_ANY(env), VARSIZE_ANY_EXHDR(env), type, &hdr);
	if (hdr.key_id == PX_TRANSIT_KEY_ID)
		return NULL;
	check_column_key(&hdr, column_typmod);
	return open_value(cache, (uint8_t *) VARDATA_ANY(env), VARSIZE_ANY_EXHDR(env), type, false);
}

/*
 * px_open_for_masking_into()'s key version for a header other than the
 * previous value's, remembered as the hot one; NULL for a transit value.
 * The column's key is checked here: the hot header passed this check (the
 * cache is the call site's, whose column does not change).  Apart, so that
 * the per-row path keeps a small frame.
 */
static pg_noinline PxKeyRef *
masking_ref(PxCallCache *cache, const uint8_t *env, size_t len, px_value_type type,
			uint32 *key_id, int32 column_typmod)
{
	px_header	hdr;
	PxKeyRef   *ref;

	read_header(env, len, type, &hdr);
	*key_id = hdr.key_id;
	if (hdr.key_id == PX_TRANSIT_KEY_ID)
		return NULL;
	check_column_key(&hdr, column_typmod);
	ref = open_ref(cache, &hdr, false);
	cache->mask_hot = *ref;
	memcpy(cache->mask_hot_header, env, PX_HEADER_LEN);
	cache->mask_hot_key_id = hdr.key_id;
	return ref;
}

/*
 * px_open_for_masking() without a new varlena: the plaintext of env
 * decrypted into the caller's scratch buffer (len + 1 bytes suffice: a
 * plaintext is shorter than its envelope; it starts at scratch + 1), for a
 * masking view that masks it from there and wipes it.  The envelope's
 * header is read once: *key_id is its key.  Returns the plaintext's length,
 * or PX_OPEN_TRANSIT, with nothing decrypted, for a transit value.
 */
size_t
px_open_for_masking_into(const uint8_t *env, size_t len, px_value_type type, void **cachep,
						 MemoryContext mcxt, uint8_t *scratch, uint32 *key_id,
						 int32 column_typmod)
{
	PxCallCache *cache = (PxCallCache *) *cachep;
	PxKeyRef   *ref;
	size_t		pt_len;

	if (unlikely(cache == NULL))
		*cachep = cache = MemoryContextAllocZero(mcxt, sizeof(PxCallCache));
	current_cache(cache);
	px_note_plaintext_out();
	prefetch_next_rows(env);

	/*
	 * Per row: the same header as the previous value's (read and checked
	 * then, in this statement: revalidate_cache() forgets it) names the same
	 * key version.  The open below checks the length and authenticates the
	 * header with the value, as it does after read_header().
	 */
	if (likely(cache->mask_hot.aead != NULL) && len >= PX_HEADER_LEN &&
		memcmp(env, cache->mask_hot_header, PX_HEADER_LEN) == 0 && env[1] == (uint8) type)
	{
		ref = &cache->mask_hot;
		*key_id = cache->mask_hot_key_id;
	}
	else if ((ref = masking_ref(cache, env, len, type, key_id, column_typmod)) == NULL)
		return PX_OPEN_TRANSIT;
	px_report_status(open_into(ref, type, env, len, scratch + 1, &cache->mask_pt_len), true);
	pt_len = cache->mask_pt_len;
	open_count++;
	return pt_len;
}

/* For types/det_ops.c: bind a deterministic transit value, without a call cache. */
bytea *
px_det_bind_transit(bytea *env, uint32 key_id)
{
	PxCallCache cache;

	memset(&cache, 0, sizeof(cache));
	current_cache(&cache);
	return bind_transit(&cache, (uint8_t *) VARDATA_ANY(env), VARSIZE_ANY_EXHDR(env),
						PX_TYPE_TEXT_DET, key_id);
}

/* For types/literal_binding.c: seal a literal once, under key_id. */
bytea *
px_seal_for_key(px_value_type type, uint32 key_id, const char *pt, size_t len)
{
	PxCallCache cache;

	memset(&cache, 0, sizeof(cache));
	current_cache(&cache);
	return seal_value(&cache, key_id, type, pt, len);
}

/*
 * For types/literal_binding.c: the plaintext of env sealed again under the
 * same key's active version, with a fresh nonce (no permission check: the
 * value stays under its key).  *cachep holds this file's per-call-site key
 * cache, allocated in mcxt on first use.
 */
bytea *
px_reseal_under_own_key(bytea *env, void **cachep, MemoryContext mcxt)
{
	PxCallCache *cache = (PxCallCache *) *cachep;
	const uint8_t *data = (const uint8_t *) VARDATA_ANY(env);
	size_t		len = VARSIZE_ANY_EXHDR(env);
	px_header	hdr;
	struct varlena *plain;
	bytea	   *result;

	if (cache == NULL)
		*cachep = cache = MemoryContextAllocZero(mcxt, sizeof(PxCallCache));
	current_cache(cache);
	px_report_status(px_header_read(data, len, &hdr), true);
	plain = open_value(cache, data, len, (px_value_type) hdr.type, false);
	result = seal_value(cache, hdr.key_id, (px_value_type) hdr.type, VARDATA(plain),
						VARSIZE(plain) - VARHDRSZ);
	px_wipe(VARDATA(plain), VARSIZE(plain) - VARHDRSZ);
	pfree(plain);
	return result;
}

/*
 * privacy.crypto_counters(): the seals and opens this backend has made, for
 * tests that check how often a write path encrypts.
 */
PG_FUNCTION_INFO_V1(px_crypto_counters);
Datum
px_crypto_counters(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("privacy.crypto_counters() must return a row")));
	values[0] = Int64GetDatum((int64) seal_count);
	values[1] = Int64GetDatum((int64) open_count);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

/*
 * An envelope bound to the key typmod names: as it is when already under
 * that key (or typmod is -1), re-sealed under it when it is a transit
 * value, refused when it is under another key.  memo_cxt keeps the
 * deterministic memo.
 */
static bytea *
coerce_to_key(PxCallCache *cache, MemoryContext memo_cxt, bytea *env, px_value_type type,
			  int32 typmod)
{
	px_header	hdr;
	bytea	   *result;
	size_t		len = VARSIZE_ANY_EXHDR(env);

	if (typmod < 0)
		return env;
	read_header((uint8_t *) VARDATA_ANY(env), len, type, &hdr);
	if (hdr.key_id == (uint32) typmod)
		return env;
	if (hdr.key_id != PX_TRANSIT_KEY_ID)
		check_column_key(&hdr, typmod);

	/*
	 * A deterministic result depends only on the input and the key: remember
	 * the last pair, so a literal compared row by row is encrypted once per
	 * query.  The key is not constant per call site (the type modifier is an
	 * argument: privacy.encrypted_text_det(v, k.id, false) over many keys).
	 */
	if (type == PX_TYPE_TEXT_DET && cache->memo_in != NULL &&
		cache->memo_key == (uint32) typmod &&
		VARSIZE_ANY_EXHDR(cache->memo_in) == len &&
		memcmp(VARDATA_ANY(cache->memo_in), VARDATA_ANY(env), len) == 0)
		return cache->memo_out;

	result = bind_transit(cache, (uint8_t *) VARDATA_ANY(env), len, type, (uint32) typmod);
	if (type == PX_TYPE_TEXT_DET)
	{
		MemoryContext old = MemoryContextSwitchTo(memo_cxt);

		if (cache->memo_in != NULL)
		{
			pfree(cache->memo_in);
			pfree(cache->memo_out);
		}
		cache->memo_in = (bytea *) PG_DETOAST_DATUM_COPY(PointerGetDatum(env));
		cache->memo_key = (uint32) typmod;
		cache->memo_out = (bytea *) PG_DETOAST_DATUM_COPY(PointerGetDatum(result));
		MemoryContextSwitchTo(old);
	}
	return result;
}

/* encrypted -> encrypted with a type modifier: bind a transit value to the key. */
static Datum
encrypted_coerce(FunctionCallInfo fcinfo, px_value_type type)
{
	bytea	   *env = PG_GETARG_BYTEA_PP(0);
	int32		typmod = PG_GETARG_INT32(1);

	if (typmod < 0)
		PG_RETURN_BYTEA_P(env);
	PG_RETURN_BYTEA_P(coerce_to_key(call_cache(fcinfo), fcinfo->flinfo->fn_mcxt, env, type,
									typmod));
}

PG_FUNCTION_INFO_V1(px_encrypted_text_coerce);
Datum
px_encrypted_text_coerce(PG_FUNCTION_ARGS)
{
	return encrypted_coerce(fcinfo, PX_TYPE_TEXT);
}

PG_FUNCTION_INFO_V1(px_encrypted_text_det_coerce);
Datum
px_encrypted_text_det_coerce(PG_FUNCTION_ARGS)
{
	return encrypted_coerce(fcinfo, PX_TYPE_TEXT_DET);
}

PG_FUNCTION_INFO_V1(px_encrypted_bytea_coerce);
Datum
px_encrypted_bytea_coerce(PG_FUNCTION_ARGS)
{
	return encrypted_coerce(fcinfo, PX_TYPE_BYTEA);
}

/* ---------------------------------------------------------------------
 * privacy.encrypted_input: a bind parameter on its way to a column's key
 *
 * types/literal_binding.c gives this type to a bind parameter whose type
 * the client left open and that only feeds an encrypted column, so that
 * the server's parameter conversion does not seal it (it would seal in
 * transit, and the column's cast would open and seal again).  The value is
 * what the client sent, tagged with its format; the assignment cast to an
 * encrypted type then does exactly what that type's input (text format)
 * or receive function (binary format) and the cast to the key would have
 * done, with one seal.  Its output never shows the value.
 * --------------------------------------------------------------------- */
#define INPUT_FORMAT_TEXT	't'
#define INPUT_FORMAT_BINARY 'b'

static bytea *
make_input(char format, const char *data, size_t len)
{
	bytea	   *result = palloc(VARHDRSZ + 1 + len);

	SET_VARSIZE(result, VARHDRSZ + 1 + len);
	VARDATA(result)[0] = format;
	memcpy(VARDATA(result) + 1, data, len);
	return result;
}

PG_FUNCTION_INFO_V1(px_encrypted_input_in);
Datum
px_encrypted_input_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);

	px_note_plaintext_in();
	PG_RETURN_BYTEA_P(make_input(INPUT_FORMAT_TEXT, str, strlen(str)));
}

PG_FUNCTION_INFO_V1(px_encrypted_input_recv);
Datum
px_encrypted_input_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			len = buf->len - buf->cursor;
	bytea	   *result = make_input(INPUT_FORMAT_BINARY, buf->data + buf->cursor, len);

	buf->cursor = buf->len;
	PG_RETURN_BYTEA_P(result);
}

/*
 * What a privacy.encrypted_input value shows: never the value (it is
 * plaintext), only what it is.  It exists between the Bind message and the
 * cast to a column's key; nothing needs to print it.
 */
#define INPUT_PLACEHOLDER "(privacy.encrypted_input)"

PG_FUNCTION_INFO_V1(px_encrypted_input_out);
Datum
px_encrypted_input_out(PG_FUNCTION_ARGS)
{
	PG_RETURN_CSTRING(pstrdup(INPUT_PLACEHOLDER));
}

PG_FUNCTION_INFO_V1(px_encrypted_input_send);
Datum
px_encrypted_input_send(PG_FUNCTION_ARGS)
{
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbytes(&buf, INPUT_PLACEHOLDER, strlen(INPUT_PLACEHOLDER));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* encrypted_input -> encrypted type (typmod): the type's input, then the key. */
static Datum
input_to_encrypted(FunctionCallInfo fcinfo, px_value_type type)
{
	bytea	   *in = PG_GETARG_BYTEA_PP(0);
	int32		typmod = PG_GETARG_INT32(1);
	PxCallCache *cache = call_cache(fcinfo);
	const char *data = VARDATA_ANY(in) + 1;
	size_t		len = VARSIZE_ANY_EXHDR(in) - 1;
	uint32		key_id = typmod >= 0 ? (uint32) typmod : PX_TRANSIT_KEY_ID;
	bytea	   *env;

	if (VARSIZE_ANY_EXHDR(in) < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("malformed privacy.encrypted_input value")));
	if (VARDATA_ANY(in)[0] == INPUT_FORMAT_BINARY)
	{
		/* What encrypted_recv would have received. */
		env = palloc(VARHDRSZ + len);
		memcpy(VARDATA(env), data, len);
		SET_VARSIZE(env, VARHDRSZ + len);
		verify_envelope(cache, (uint8_t *) VARDATA(env), len, type, -1);
		PG_RETURN_BYTEA_P(coerce_to_key(cache, fcinfo->flinfo->fn_mcxt, env, type, typmod));
	}
	if (px_armor_has_prefix(data, len))
	{
		env = decode_armored(cache, data, len, type, -1);
		PG_RETURN_BYTEA_P(coerce_to_key(cache, fcinfo->flinfo->fn_mcxt, env, type, typmod));
	}
	/* What the type's input would have done, sealing under the key at once. */
	PG_RETURN_BYTEA_P(seal_text_input(cache, pnstrdup(data, len), len, type, key_id, false));
}

PG_FUNCTION_INFO_V1(px_encrypted_input_to_text);
Datum
px_encrypted_input_to_text(PG_FUNCTION_ARGS)
{
	return input_to_encrypted(fcinfo, PX_TYPE_TEXT);
}

PG_FUNCTION_INFO_V1(px_encrypted_input_to_text_det);
Datum
px_encrypted_input_to_text_det(PG_FUNCTION_ARGS)
{
	return input_to_encrypted(fcinfo, PX_TYPE_TEXT_DET);
}

PG_FUNCTION_INFO_V1(px_encrypted_input_to_bytea);
Datum
px_encrypted_input_to_bytea(PG_FUNCTION_ARGS)
{
	return input_to_encrypted(fcinfo, PX_TYPE_BYTEA);
}

/* text/bytea -> encrypted: always encrypts, whatever the plaintext looks like. */
static Datum
encrypt_cast(FunctionCallInfo fcinfo, px_value_type type)
{
	struct varlena *plain = PG_GETARG_VARLENA_PP(0);
	int32		typmod = PG_GETARG_INT32(1);

	PG_RETURN_BYTEA_P(seal_value(call_cache(fcinfo),
								 typmod >= 0 ? (uint32) typmod : PX_TRANSIT_KEY_ID,
								 type, VARDATA_ANY(plain), VARSIZE_ANY_EXHDR(plain)));
}

PG_FUNCTION_INFO_V1(px_text_to_encrypted);
Datum
px_text_to_encrypted(PG_FUNCTION_ARGS)
{
	return encrypt_cast(fcinfo, PX_TYPE_TEXT);
}

PG_FUNCTION_INFO_V1(px_text_to_encrypted_det);
Datum
px_text_to_encrypted_det(PG_FUNCTION_ARGS)
{
	return encrypt_cast(fcinfo, PX_TYPE_TEXT_DET);
}

PG_FUNCTION_INFO_V1(px_bytea_to_encrypted);
Datum
px_bytea_to_encrypted(PG_FUNCTION_ARGS)
{
	return encrypt_cast(fcinfo, PX_TYPE_BYTEA);
}

/*
 * The key named by argument 1, resolved once per call site as long as the
 * name stays the same from row to row.
 */
static uint32
named_key(FunctionCallInfo fcinfo, PxCallCache *cache)
{
	text	   *name = PG_GETARG_TEXT_PP(1);
	size_t		len = VARSIZE_ANY_EXHDR(name);

	if (cache->key_name == NULL || strlen(cache->key_name) != len ||
		memcmp(cache->key_name, VARDATA_ANY(name), len) != 0)
	{
		char	   *cname = text_to_cstring(name);

		cache->named_key_id = px_key_id_for_name(cname, false);
		if (cache->key_name != NULL)
			pfree(cache->key_name);
		cache->key_name = MemoryContextStrdup(fcinfo->flinfo->fn_mcxt, cname);
	}
	return cache->named_key_id;
}

/* privacy.encrypt(plaintext, key name): explicit encryption under a named key. */
PG_FUNCTION_INFO_V1(px_encrypt_text);
Datum
px_encrypt_text(PG_FUNCTION_ARGS)
{
	struct varlena *plain = PG_GETARG_VARLENA_PP(0);
	PxCallCache *cache = call_cache(fcinfo);

	PG_RETURN_BYTEA_P(seal_value(cache, named_key(fcinfo, cache), PX_TYPE_TEXT,
								 VARDATA_ANY(plain), VARSIZE_ANY_EXHDR(plain)));
}

PG_FUNCTION_INFO_V1(px_encrypt_bytea);
Datum
px_encrypt_bytea(PG_FUNCTION_ARGS)
{
	struct varlena *plain = PG_GETARG_VARLENA_PP(0);
	PxCallCache *cache = call_cache(fcinfo);

	PG_RETURN_BYTEA_P(seal_value(cache, named_key(fcinfo, cache), PX_TYPE_BYTEA,
								 VARDATA_ANY(plain), VARSIZE_ANY_EXHDR(plain)));
}

/*
 * privacy.decrypt() and the explicit casts to text and bytea.  Each value
 * returned in clear is counted for the audit trail (one event per
 * statement and column, written when the statement ends).
 */
static pg_noinline Datum
decrypt_counted_slow(FunctionCallInfo fcinfo, px_value_type type)
{
	bytea	   *env = PG_GETARG_BYTEA_PP(0);
	uint8_t    *data = (uint8_t *) VARDATA_ANY(env);
	size_t		len = VARSIZE_ANY_EXHDR(env);
	PxCallCache *cache = call_cache(fcinfo);
	struct varlena *plain = open_value(cache, data, len, type, true);

	/*
	 * open_value() for a user leaves the key it opened with in cache->hot:
	 * the envelope's key, without reading its header a second time per row.
	 */
	px_audit_count(&cache->audit, fcinfo->flinfo, PX_AUDIT_DECRYPT, InvalidOid, NULL,
				   cache->hot.key_id);
	PG_RETURN_POINTER(plain);
}

/*
 * The per-row path of decrypt_counted(): open_value()'s fast path without
 * its calls.  A short envelope stored inline (no detoast call) whose header
 * is the previous row's, opened for the same user in this statement (the
 * key version and the grant checked then: revalidate_cache() forgets them).
 * The current user is read once, and no local has its address taken (no
 * stack canary per row).  Everything else goes through
 * decrypt_counted_slow(), which does what this does.
 */
static pg_attribute_always_inline Datum
decrypt_counted(FunctionCallInfo fcinfo, px_value_type type)
{
	struct varlena *v = (struct varlena *) PG_GETARG_POINTER(0);
	PxCallCache *cache = (PxCallCache *) fcinfo->flinfo->fn_extra;
	Oid			userid = GetUserId();
	const uint8_t *env;
	size_t		len;
	struct varlena *result;

	if (unlikely(cache == NULL || !px_statement_current(cache->epoch) ||
				 !VARATT_IS_1B(v) || VARATT_IS_1B_E(v)))
		return decrypt_counted_slow(fcinfo, type);
	env = (const uint8_t *) VARDATA_1B(v);
	len = VARSIZE_1B(v) - VARHDRSZ_SHORT;
	prefetch_next_rows(env);
	if (unlikely(cache->hot.aead == NULL || len < PX_HEADER_LEN ||
				 memcmp(env, cache->hot_header, PX_HEADER_LEN) != 0 ||
				 env[1] != (uint8) type || cache->perm_user != userid))
		return decrypt_counted_slow(fcinfo, type);
	px_note_plaintext_out();
	result = palloc(VARHDRSZ + plaintext_len(type, len));
	px_report_status(open_into(&cache->hot, type, env, len, (uint8_t *) VARDATA(result),
							   &cache->hot_pt_len), true);
	open_count++;
	SET_VARSIZE(result, VARHDRSZ + cache->hot_pt_len);
	px_audit_count_as(&cache->audit, fcinfo->flinfo, PX_AUDIT_DECRYPT, InvalidOid, NULL,
					  cache->hot.key_id, userid);
	PG_RETURN_POINTER(result);
}

PG_FUNCTION_INFO_V1(px_decrypt_text);
Datum
px_decrypt_text(PG_FUNCTION_ARGS)
{
	return decrypt_counted(fcinfo, PX_TYPE_TEXT);
}

PG_FUNCTION_INFO_V1(px_decrypt_text_det);
Datum
px_decrypt_text_det(PG_FUNCTION_ARGS)
{
	return decrypt_counted(fcinfo, PX_TYPE_TEXT_DET);
}

/*
 * privacy.reseal(value): the same plaintext under the key's active version
 * (privacy.reencrypt()'s worker).  No permission check: the value stays
 * under the same key, so nobody can read more than before.
 */
static Datum
reseal(FunctionCallInfo fcinfo, px_value_type type)
{
	bytea	   *env = PG_GETARG_BYTEA_PP(0);
	size_t		len = VARSIZE_ANY_EXHDR(env);
	PxCallCache *cache = call_cache(fcinfo);
	px_header	hdr;
	struct varlena *plain;
	bytea	   *result;

	read_header((uint8_t *) VARDATA_ANY(env), len, type, &hdr);
	if (hdr.key_id == PX_TRANSIT_KEY_ID)
		PG_RETURN_BYTEA_P(env);
	plain = open_value(cache, (uint8_t *) VARDATA_ANY(env), len, type, false);
	result = seal_value(cache, hdr.key_id, type, VARDATA(plain), VARSIZE(plain) - VARHDRSZ);
	px_wipe(VARDATA(plain), VARSIZE(plain) - VARHDRSZ);
	PG_RETURN_BYTEA_P(result);
}

PG_FUNCTION_INFO_V1(px_reseal_text);
Datum
px_reseal_text(PG_FUNCTION_ARGS)
{
	return reseal(fcinfo, PX_TYPE_TEXT);
}

PG_FUNCTION_INFO_V1(px_reseal_bytea);
Datum
px_reseal_bytea(PG_FUNCTION_ARGS)
{
	return reseal(fcinfo, PX_TYPE_BYTEA);
}

PG_FUNCTION_INFO_V1(px_decrypt_bytea);
Datum
px_decrypt_bytea(PG_FUNCTION_ARGS)
{
	return decrypt_counted(fcinfo, PX_TYPE_BYTEA);
}

/* privacy.envelope_info(): the header fields, for tests and operations. */
PG_FUNCTION_INFO_V1(px_envelope_key_id);
Datum
px_envelope_key_id(PG_FUNCTION_ARGS)
{
	bytea	   *env = PG_GETARG_BYTEA_PP(0);
	px_header	hdr;

	px_report_status(px_header_read((uint8_t *) VARDATA_ANY(env), VARSIZE_ANY_EXHDR(env), &hdr),
					 false);
	PG_RETURN_INT32((int32) hdr.key_id);
}

PG_FUNCTION_INFO_V1(px_envelope_key_version);
Datum
px_envelope_key_version(PG_FUNCTION_ARGS)
{
	bytea	   *env = PG_GETARG_BYTEA_PP(0);
	px_header	hdr;

	px_report_status(px_header_read((uint8_t *) VARDATA_ANY(env), VARSIZE_ANY_EXHDR(env), &hdr),
					 false);
	PG_RETURN_INT32((int32) hdr.key_version);
}
