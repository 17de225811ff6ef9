/*
 * libFuzzer target: our AES-SIV (siv.c, RFC 5297 composed over EVP AES-ECB,
 * with its short-message path and its memo of the last associated data)
 * and the deterministic envelopes built on it (envelope.c) against
 * OpenSSL 3's EVP "AES-128-SIV" / "AES-256-SIV" ciphers, on random keys,
 * 0 to 3 associated-data strings and plaintexts of 0 to 4096 bytes.  Fails
 * (abort) on any difference in V or ciphertext, on a value one side accepts
 * and the other rejects, and when a single flipped bit anywhere is
 * accepted by anyone or leaves plaintext in our output buffer.
 *
 * OpenSSL 3.0's EVP SIV refuses an empty plaintext (EVP_EncryptFinal_ex fails
 * for length 0), so for length 0 only our own seal/open agreement and the
 * flipped-bit rejection are checked; the RFC 5297 vectors in
 * test/unit/test_core.c cover S2V's short-string case.
 */
#include "px_core.h"
#include "fuzz_input.h"

#include <string.h>
#include <openssl/evp.h>

#define MAX_TEXT 4096
#define MAX_AD 3
#define MAX_AD_LEN 100

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static EVP_CIPHER *siv128;
static EVP_CIPHER *siv256;

/* EVP's SIV over ad[0..n_ad) and pt; false when EVP refuses the input. */
static bool
evp_seal(const uint8_t *key, size_t key_len, const uint8_t *const *ad, const size_t *ad_len,
		 int n_ad, const uint8_t *pt, size_t len, uint8_t *v, uint8_t *ct)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int			outl;
	int			i;
	bool		ok;

	ok = ctx != NULL &&
		EVP_EncryptInit_ex2(ctx, key_len == 32 ? siv128 : siv256, key, NULL, NULL) == 1;
	for (i = 0; ok && i < n_ad; i++)
		ok = EVP_EncryptUpdate(ctx, NULL, &outl, ad[i], (int) ad_len[i]) == 1;
	ok = ok && EVP_EncryptUpdate(ctx, ct, &outl, pt, (int) len) == 1 &&
		EVP_EncryptFinal_ex(ctx, ct + len, &outl) == 1 &&
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, PX_SIV_TAG_LEN, v) == 1;
	EVP_CIPHER_CTX_free(ctx);
	return ok;
}

static bool
evp_open(const uint8_t *key, size_t key_len, const uint8_t *const *ad, const size_t *ad_len,
		 int n_ad, const uint8_t *v, const uint8_t *ct, size_t len, uint8_t *pt)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t		tag[PX_SIV_TAG_LEN];
	int			outl;
	int			i;
	bool		ok;

	memcpy(tag, v, sizeof(tag));
	ok = ctx != NULL &&
		EVP_DecryptInit_ex2(ctx, key_len == 32 ? siv128 : siv256, key, NULL, NULL) == 1 &&
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, PX_SIV_TAG_LEN, tag) == 1;
	for (i = 0; ok && i < n_ad; i++)
		ok = EVP_DecryptUpdate(ctx, NULL, &outl, ad[i], (int) ad_len[i]) == 1;
	ok = ok && EVP_DecryptUpdate(ctx, pt, &outl, ct, (int) len) == 1 &&
		EVP_DecryptFinal_ex(ctx, pt + len, &outl) == 1;
	EVP_CIPHER_CTX_free(ctx);
	return ok;
}

static bool
all_zero(const uint8_t *p, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pt[MAX_TEXT], ct[MAX_TEXT], ct2[MAX_TEXT + 16], back[MAX_TEXT + 16];
	static uint8_t env[MAX_TEXT + PX_DET_OVERHEAD + 1], body[MAX_TEXT + 1];
	static uint8_t env_out[MAX_TEXT + 2];
	fuzz_input	in;
	uint8_t		key[PX_SIV_KEY_LEN], v[PX_SIV_TAG_LEN], v2[PX_SIV_TAG_LEN];
	uint8_t		ad_buf[MAX_AD][MAX_AD_LEN];
	const uint8_t *ad[MAX_AD];
	size_t		ad_len[MAX_AD];
	size_t		key_len, len, bit, region, env_len, out_len;
	int			n_ad, i, round;
	bool		evp_ok;
	px_siv	   *siv;

	if (siv256 == NULL)
	{
		siv128 = EVP_CIPHER_fetch(NULL, "AES-128-SIV", NULL);
		siv256 = EVP_CIPHER_fetch(NULL, "AES-256-SIV", NULL);
		FUZZ_CHECK(siv128 != NULL && siv256 != NULL, "EVP has AES-SIV");
	}
	fi_init(&in, data, size);
	key_len = (fi_byte(&in) % 4 == 0) ? 32 : PX_SIV_KEY_LEN;
	fi_bytes(&in, key, key_len);
	n_ad = fi_byte(&in) % (MAX_AD + 1);
	for (i = 0; i < n_ad; i++)
	{
		ad_len[i] = fi_length(&in, MAX_AD_LEN);
		fi_bytes(&in, ad_buf[i], ad_len[i]);
		ad[i] = ad_buf[i];
	}
	len = fi_length(&in, MAX_TEXT);
	fi_bytes(&in, pt, len);

	siv = px_siv_new(key, key_len);
	FUZZ_CHECK(siv != NULL, "px_siv_new");

	/* Twice with one context: the second seal may use the memo of the AD. */
	for (round = 0; round < 2; round++)
	{
		FUZZ_CHECK(px_siv_seal(siv, ad, ad_len, n_ad, pt, len, v, ct) == PX_OK, "px_siv_seal");
		evp_ok = evp_seal(key, key_len, ad, ad_len, n_ad, pt, len, v2, ct2);
		FUZZ_CHECK(evp_ok || len == 0, "EVP SIV refuses a non-empty plaintext");
		if (evp_ok)
		{
			FUZZ_CHECK(memcmp(v, v2, PX_SIV_TAG_LEN) == 0, "V differs from EVP");
			FUZZ_CHECK(memcmp(ct, ct2, len) == 0, "ciphertext differs from EVP");
			FUZZ_CHECK(evp_open(key, key_len, ad, ad_len, n_ad, v, ct, len, back) &&
					   memcmp(back, pt, len) == 0, "EVP rejects our value");
		}
		memset(back, 0xAA, len);
		FUZZ_CHECK(px_siv_open(siv, ad, ad_len, n_ad, v, ct, len, back) == PX_OK &&
				   memcmp(back, pt, len) == 0, "px_siv_open rejects or garbles its value");
	}

	/* One flipped bit in V, an AD string or the ciphertext. */
	{
		uint8_t		fad[MAX_AD][MAX_AD_LEN];
		const uint8_t *fadp[MAX_AD];
		uint8_t    *target;
		size_t		target_len;

		for (i = 0; i < n_ad; i++)
		{
			memcpy(fad[i], ad_buf[i], ad_len[i]);
			fadp[i] = fad[i];
		}
		region = fi_byte(&in) % (size_t) (2 + n_ad);
		if (region == 0 || (region == 1 && len == 0) || (region >= 2 && ad_len[region - 2] == 0))
		{
			target = v;
			target_len = PX_SIV_TAG_LEN;
		}
		else if (region == 1)
		{
			target = ct;
			target_len = len;
		}
		else
		{
			target = fad[region - 2];
			target_len = ad_len[region - 2];
		}
		bit = fi_u32(&in) % (8 * target_len);
		target[bit / 8] ^= (uint8_t) (1 << (bit % 8));
		memset(back, 0xAA, len);
		FUZZ_CHECK(px_siv_open(siv, fadp, ad_len, n_ad, v, ct, len, back) == PX_ERR_AUTH,
				   "a flipped bit is accepted by px_siv_open");
		FUZZ_CHECK(all_zero(back, len), "rejected value left plaintext in the buffer");
		if (len > 0)
			FUZZ_CHECK(!evp_open(key, key_len, fadp, ad_len, n_ad, v, ct, len, back),
					   "a flipped bit is accepted by EVP");
	}
	px_siv_free(siv);

	/* Deterministic envelopes: EVP SIV with the header as the one AD string. */
	if (key_len == PX_SIV_KEY_LEN)
	{
		px_header	hdr[2];
		int			h;

		siv = px_siv_new(key, key_len);
		FUZZ_CHECK(siv != NULL, "px_siv_new");
		for (h = 0; h < 2; h++)
		{
			hdr[h].version = PX_FORMAT_V1;
			hdr[h].type = PX_TYPE_TEXT_DET;
			hdr[h].key_id = fi_u32(&in);
			hdr[h].key_version = fi_u32(&in);
		}
		env_len = px_det_envelope_len(len);
		body[0] = PX_TYPE_TEXT_DET;
		memcpy(body + 1, pt, len);
		/* header A, B, then A again: the AD memo must follow the header. */
		for (round = 0; round < 3; round++)
		{
			const uint8_t *ead[1];
			size_t		ead_len[1] = {PX_HEADER_LEN};

			h = round == 1;
			FUZZ_CHECK(px_det_seal(siv, &hdr[h], pt, len, env) == PX_OK, "px_det_seal");
			ead[0] = env;
			FUZZ_CHECK(evp_seal(key, key_len, ead, ead_len, 1, body, len + 1, v2, ct2),
					   "EVP seal of an envelope body");
			FUZZ_CHECK(memcmp(env + PX_HEADER_LEN, v2, PX_SIV_TAG_LEN) == 0 &&
					   memcmp(env + PX_HEADER_LEN + PX_SIV_TAG_LEN, ct2, len + 1) == 0,
					   "deterministic envelope differs from EVP");
			FUZZ_CHECK(px_det_open(siv, env, env_len, env_out, &out_len) == PX_OK &&
					   out_len == len && memcmp(env_out + 1, pt, len) == 0, "px_det_open");
		}
		bit = fi_u32(&in) % (8 * env_len);
		env[bit / 8] ^= (uint8_t) (1 << (bit % 8));
		memset(env_out, 0xAA, len + 1);
		FUZZ_CHECK(px_det_open(siv, env, env_len, env_out, &out_len) != PX_OK,
				   "a deterministic envelope with a flipped bit opens");
		/* A changed version byte is refused before decryption, untouched. */
		if (bit / 8 != 0)
			FUZZ_CHECK(all_zero(env_out, len + 1),
					   "rejected envelope left plaintext in the buffer");
		env[bit / 8] ^= (uint8_t) (1 << (bit % 8));
		FUZZ_CHECK(px_det_open(siv, env, env_len - 1, env_out, &out_len) != PX_OK,
				   "a truncated deterministic envelope opens");
		px_siv_free(siv);
	}
	return 0;
}
