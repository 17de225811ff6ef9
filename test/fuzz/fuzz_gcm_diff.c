/*
 * libFuzzer target: our AES-256-GCM (aead.c, both its carry-less-multiply
 * short path and its general path, px_gcm_seal_fresh and the envelope
 * functions) against OpenSSL's EVP AES-256-GCM, on random keys, nonces,
 * associated data and plaintexts of 0 to 4096 bytes.  Fails (abort) on any
 * difference in ciphertext or tag, on a value one side accepts and the
 * other rejects, and when a single flipped bit (at a random position of
 * nonce, AAD, ciphertext or tag) is accepted by anyone or leaves plaintext
 * in our output buffer.  Each key also seals under a second AAD of the
 * same length and opens under the first again (the short path caches
 * GHASH work per AAD).
 */
#include "px_core.h"
#include "fuzz_input.h"

#include <string.h>
#include <openssl/evp.h>

#define MAX_TEXT 4096
#define MAX_AAD 200

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static EVP_CIPHER_CTX *evp;

static bool
evp_seal(const uint8_t *key, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
		 const uint8_t *pt, size_t len, uint8_t *ct, uint8_t *tag)
{
	int			outl;

	if (EVP_EncryptInit_ex(evp, EVP_aes_256_gcm(), NULL, key, nonce) != 1)
		return false;
	if (aad_len > 0 && EVP_EncryptUpdate(evp, NULL, &outl, aad, (int) aad_len) != 1)
		return false;
	if (len > 0 && (EVP_EncryptUpdate(evp, ct, &outl, pt, (int) len) != 1 || outl != (int) len))
		return false;
	return EVP_EncryptFinal_ex(evp, ct + len, &outl) == 1 &&
		EVP_CIPHER_CTX_ctrl(evp, EVP_CTRL_AEAD_GET_TAG, PX_TAG_LEN, tag) == 1;
}

/* Whether EVP accepts (nonce, aad, ct, tag); the plaintext goes to pt. */
static bool
evp_open(const uint8_t *key, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
		 const uint8_t *ct, size_t len, const uint8_t *tag, uint8_t *pt)
{
	int			outl;
	uint8_t		t[PX_TAG_LEN];

	memcpy(t, tag, PX_TAG_LEN);
	if (EVP_DecryptInit_ex(evp, EVP_aes_256_gcm(), NULL, key, nonce) != 1)
		return false;
	if (aad_len > 0 && EVP_DecryptUpdate(evp, NULL, &outl, aad, (int) aad_len) != 1)
		return false;
	if (len > 0 && EVP_DecryptUpdate(evp, pt, &outl, ct, (int) len) != 1)
		return false;
	if (EVP_CIPHER_CTX_ctrl(evp, EVP_CTRL_AEAD_SET_TAG, PX_TAG_LEN, t) != 1)
		return false;
	return EVP_DecryptFinal_ex(evp, pt + len, &outl) == 1;
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
	static uint8_t pt[MAX_TEXT], ct[MAX_TEXT], ct2[MAX_TEXT], back[MAX_TEXT + 16];
	static uint8_t env[MAX_TEXT + PX_ENVELOPE_OVERHEAD];
	static px_nonce_pool pool;
	fuzz_input	in;
	uint8_t		key[PX_KEY_LEN], nonce[PX_NONCE_LEN], aad[MAX_AAD];
	uint8_t		tag[PX_TAG_LEN], tag2[PX_TAG_LEN];
	size_t		aad_len, len, region, bit, env_len, out_len;
	px_aead    *paths[2];
	px_header	hdr;
	int			p;

	if (evp == NULL)
		evp = EVP_CIPHER_CTX_new();
	fi_init(&in, data, size);
	fi_bytes(&in, key, sizeof(key));
	fi_bytes(&in, nonce, sizeof(nonce));
	aad_len = fi_length(&in, MAX_AAD);
	fi_bytes(&in, aad, aad_len);
	len = fi_length(&in, MAX_TEXT);
	fi_bytes(&in, pt, len);

	/* paths[0]: short path where the CPU has it; paths[1]: general path only. */
	paths[0] = px_aead_new(key);
	paths[1] = px_aead_new(key);
	FUZZ_CHECK(paths[0] != NULL && paths[1] != NULL, "px_aead_new");
	px_gcm_short_path(paths[1], false);

	FUZZ_CHECK(evp_seal(key, nonce, aad, aad_len, pt, len, ct2, tag2), "EVP seal");
	for (p = 0; p < 2; p++)
	{
		FUZZ_CHECK(px_gcm_seal(paths[p], nonce, aad, aad_len, pt, len, ct, tag) == PX_OK,
				   "px_gcm_seal");
		FUZZ_CHECK(memcmp(ct, ct2, len) == 0, "ciphertext differs from EVP");
		FUZZ_CHECK(memcmp(tag, tag2, PX_TAG_LEN) == 0, "tag differs from EVP");
		memset(back, 0xAA, len);
		FUZZ_CHECK(px_gcm_open(paths[p], nonce, aad, aad_len, ct2, len, tag2, back) == PX_OK &&
				   memcmp(back, pt, len) == 0, "px_gcm_open rejects or garbles EVP's value");
	}
	FUZZ_CHECK(evp_open(key, nonce, aad, aad_len, ct2, len, tag2, back) &&
			   memcmp(back, pt, len) == 0, "EVP rejects its own value");

	/*
	 * Another AAD of the same length, then the first again, on the same
	 * keys: the short path's GHASH of AAD and lengths is cached per AAD.
	 */
	if (aad_len > 0)
	{
		uint8_t		aad2[MAX_AAD];
		uint8_t		ct3[MAX_TEXT], tag3[PX_TAG_LEN];

		memcpy(aad2, aad, aad_len);
		aad2[fi_byte(&in) % aad_len] ^= (uint8_t) (1 + fi_byte(&in) % 255);
		FUZZ_CHECK(evp_seal(key, nonce, aad2, aad_len, pt, len, ct3, tag3), "EVP seal");
		for (p = 0; p < 2; p++)
		{
			FUZZ_CHECK(px_gcm_seal(paths[p], nonce, aad2, aad_len, pt, len, ct, tag) == PX_OK &&
					   memcmp(ct, ct3, len) == 0 && memcmp(tag, tag3, PX_TAG_LEN) == 0,
					   "a second AAD seals unlike EVP");
			FUZZ_CHECK(px_gcm_open(paths[p], nonce, aad, aad_len, ct3, len, tag3, back) ==
					   PX_ERR_AUTH, "a value opens under the AAD seen before");
			FUZZ_CHECK(px_gcm_open(paths[p], nonce, aad, aad_len, ct2, len, tag2, back) == PX_OK &&
					   memcmp(back, pt, len) == 0, "the first AAD no longer opens");
		}
	}

	/* One flipped bit: nonce, AAD, ciphertext or tag. */
	{
		uint8_t		fnonce[PX_NONCE_LEN], faad[MAX_AAD], ftag[PX_TAG_LEN];
		size_t		sizes[4] = {PX_NONCE_LEN, aad_len, len, PX_TAG_LEN};
		uint8_t    *bufs[4] = {fnonce, faad, ct, ftag};

		memcpy(fnonce, nonce, sizeof(fnonce));
		memcpy(faad, aad, aad_len);
		memcpy(ct, ct2, len);
		memcpy(ftag, tag2, sizeof(ftag));
		region = fi_byte(&in) % 4;
		if (sizes[region] == 0)
			region = 3;
		bit = fi_u32(&in) % (8 * sizes[region]);
		bufs[region][bit / 8] ^= (uint8_t) (1 << (bit % 8));
		for (p = 0; p < 2; p++)
		{
			memset(back, 0xAA, len);
			FUZZ_CHECK(px_gcm_open(paths[p], fnonce, faad, aad_len, ct, len, ftag, back) ==
					   PX_ERR_AUTH, "a flipped bit is accepted by px_gcm_open");
			FUZZ_CHECK(all_zero(back, len), "rejected value left plaintext in the buffer");
		}
		FUZZ_CHECK(!evp_open(key, fnonce, faad, aad_len, ct, len, ftag, back),
				   "a flipped bit is accepted by EVP");
	}

	/* Fresh nonces from the pool: EVP opens what px_gcm_seal_fresh seals. */
	for (p = 0; p < 2; p++)
	{
		FUZZ_CHECK(px_gcm_seal_fresh(paths[p], &pool, 1, aad, aad_len, pt, len, nonce, ct,
									 tag) == PX_OK, "px_gcm_seal_fresh");
		FUZZ_CHECK(evp_open(key, nonce, aad, aad_len, ct, len, tag, back) &&
				   memcmp(back, pt, len) == 0, "EVP rejects px_gcm_seal_fresh's value");
	}

	/* Envelopes: the 10 header bytes are the AAD. */
	hdr.version = PX_FORMAT_V1;
	hdr.type = (uint8_t) (1 + fi_byte(&in) % 3);
	hdr.key_id = fi_u32(&in);
	hdr.key_version = fi_u32(&in);
	env_len = px_envelope_len(len);
	FUZZ_CHECK(px_envelope_seal(paths[fi_byte(&in) & 1], &hdr, &pool, 1, pt, len, env) == PX_OK,
			   "px_envelope_seal");
	FUZZ_CHECK(evp_open(key, env + PX_HEADER_LEN, env, PX_HEADER_LEN,
						env + PX_HEADER_LEN + PX_NONCE_LEN, len, env + env_len - PX_TAG_LEN, back) &&
			   memcmp(back, pt, len) == 0, "EVP rejects an envelope");
	for (p = 0; p < 2; p++)
		FUZZ_CHECK(px_envelope_open(paths[p], env, env_len, back, &out_len) == PX_OK &&
				   out_len == len && memcmp(back, pt, len) == 0, "px_envelope_open");
	bit = fi_u32(&in) % (8 * env_len);
	env[bit / 8] ^= (uint8_t) (1 << (bit % 8));
	for (p = 0; p < 2; p++)
		FUZZ_CHECK(px_envelope_open(paths[p], env, env_len, back, &out_len) != PX_OK,
				   "an envelope with a flipped bit opens");
	FUZZ_CHECK(!evp_open(key, env + PX_HEADER_LEN, env, PX_HEADER_LEN,
						 env + PX_HEADER_LEN + PX_NONCE_LEN, len, env + env_len - PX_TAG_LEN, back),
			   "EVP accepts an envelope with a flipped bit");
	/* The intact envelope truncated by one byte: never accepted. */
	env[bit / 8] ^= (uint8_t) (1 << (bit % 8));
	for (p = 0; p < 2; p++)
		FUZZ_CHECK(px_envelope_open(paths[p], env, env_len - 1, back, &out_len) != PX_OK,
				   "a truncated envelope opens");

	px_aead_free(paths[0]);
	px_aead_free(paths[1]);
	return 0;
}
