/*
 * masking/fake.c
 *		The fake('kind') rule and privacy.mask_fake(value, kind) over the
 *		backend-free generator (src/core/fake.c).
 *
 * The key is HKDF-SHA-256 of the root key with its own label, so fakes are
 * the same in every backend and database of the cluster, and nobody without
 * the root key can compute the mapping.  It is derived from the root
 * derivation key, like the noise key, so rotating the root key with
 * privacy.rewrap_keys() keeps every fake (see README, "Fake data").
 */
#include "errors.h"
#include "keys/key_store.h"
#include "keys/root_key.h"
#include "masking/fake.h"

#include "utils/builtins.h"

static uint8_t fake_key[PX_KEY_LEN];
static uint64 fake_key_gen = 0;
static bool fake_key_ready = false;

/*
 * The derived key.  It comes from the root derivation key (keys/key_store.c),
 * as the noise and transit keys do, so a root-key rotation with
 * privacy.rewrap_keys() leaves every fake as it was.
 */
static const uint8_t *
current_fake_key(void)
{
	uint64		gen = px_root_key_generation();

	if (fake_key_ready && gen == fake_key_gen)
		return fake_key;
	fake_key_ready = false;
	if (px_root_key() == NULL)
		return NULL;
	px_root_derived_key("privacy_ext fake v1", fake_key, PX_KEY_LEN);
	fake_key_gen = gen;
	fake_key_ready = true;
	return fake_key;
}

text *
px_fake_text(const char *kind_name, size_t kind_len, const char *s, size_t len)
{
	px_fake_kind kind;
	const uint8_t *key;
	char		out[PX_FAKE_MAX];
	size_t		n;

	if (!px_fake_kind_from_name(kind_name, kind_len, &kind))
		return NULL;
	key = current_fake_key();
	if (key == NULL)
		return NULL;
	n = px_fake(kind, key, s, len, out);
	if (n == 0)
		return NULL;
	return cstring_to_text_with_len(out, (int) n);
}

/*
 * privacy.mask_fake(value, kind): NULL for an unknown kind, otherwise a
 * fake that is never the value.  EXECUTE is for privacy_admin only (see
 * sql/parts/1.1/82_masking_fake_jsonb.sql): whoever can call it can compute
 * the fakes of guessed values and so undo a masking view's fakes.
 */
PG_FUNCTION_INFO_V1(px_mask_fake_fn);
Datum
px_mask_fake_fn(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);
	text	   *kind = PG_GETARG_TEXT_PP(1);
	text	   *result;

	result = px_fake_text(VARDATA_ANY(kind), VARSIZE_ANY_EXHDR(kind),
						  VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value));
	if (result == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(result);
}
