/*
 * libFuzzer target: keywrap.c against OpenSSL computed another way.
 *  - px_hkdf_sha256 / px_derive_key (through EVP_KDF) against both
 *    EVP_PKEY_HKDF (the EVP_PKEY_CTX interface) and RFC 5869's extract and
 *    expand written out over EVP_MAC HMAC-SHA-256, for random IKM, salt,
 *    info and output lengths 1..8160 (255 * 32, the RFC's limit; one longer
 *    must be refused by all);
 *  - px_wrap_key / px_unwrap_key, which claim "nonce || AES-256-GCM(root,
 *    data key) || tag with AAD 'pxk1' || key id || key version", against
 *    EVP AES-256-GCM building and opening exactly that, with a flipped bit
 *    anywhere, another key id or version, and a wrong length all refused;
 *  - px_hmac_sha256 and px_root_key_check against EVP_MAC HMAC.
 */
#include "px_core.h"
#include "fuzz_input.h"

#include <string.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#define HKDF_MAX (255 * 32)
#define MAX_IN 300

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static EVP_MAC *hmac;

static bool
mac_sha256(const uint8_t *key, size_t key_len, const uint8_t *m1, size_t l1,
		   const uint8_t *m2, size_t l2, const uint8_t *m3, size_t l3, uint8_t out[32])
{
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(hmac);
	OSSL_PARAM	params[2];
	size_t		out_len = 0;
	bool		ok;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *) "SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	ok = ctx != NULL && EVP_MAC_init(ctx, key, key_len, params) == 1 &&
		EVP_MAC_update(ctx, m1, l1) == 1 && EVP_MAC_update(ctx, m2, l2) == 1 &&
		EVP_MAC_update(ctx, m3, l3) == 1 &&
		EVP_MAC_final(ctx, out, &out_len, 32) == 1 && out_len == 32;
	EVP_MAC_CTX_free(ctx);
	return ok;
}

/* RFC 5869 section 2, over HMAC: PRK = HMAC(salt, IKM), T(i) = HMAC(PRK, T(i-1) || info || i). */
static bool
rfc_hkdf(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
		 const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len)
{
	static const uint8_t zeros[32];
	uint8_t		prk[32], t[32];
	size_t		done = 0, t_len = 0;
	uint8_t		i;

	if (out_len > HKDF_MAX)
		return false;
	if (!mac_sha256(salt_len ? salt : zeros, salt_len ? salt_len : 32, ikm, ikm_len,
					NULL, 0, NULL, 0, prk))
		return false;
	for (i = 1; done < out_len; i++)
	{
		size_t		n = out_len - done < 32 ? out_len - done : 32;

		if (!mac_sha256(prk, 32, t, t_len, info, info_len, &i, 1, t))
			return false;
		t_len = 32;
		memcpy(out + done, t, n);
		done += n;
	}
	return true;
}

static bool
pkey_hkdf(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
		  const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	size_t		len = out_len;
	bool		ok;

	ok = ctx != NULL && EVP_PKEY_derive_init(ctx) == 1 &&
		EVP_PKEY_CTX_set_hkdf_md(ctx, EVP_sha256()) == 1 &&
		EVP_PKEY_CTX_set1_hkdf_key(ctx, ikm, (int) ikm_len) == 1 &&
		(salt_len == 0 || EVP_PKEY_CTX_set1_hkdf_salt(ctx, salt, (int) salt_len) == 1) &&
		EVP_PKEY_CTX_add1_hkdf_info(ctx, info, (int) info_len) == 1 &&
		EVP_PKEY_derive(ctx, out, &len) == 1 && len == out_len;
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

static void
wrap_aad(uint32_t key_id, uint32_t key_version, uint8_t aad[12])
{
	memcpy(aad, "pxk1", 4);
	aad[4] = (uint8_t) (key_id >> 24);
	aad[5] = (uint8_t) (key_id >> 16);
	aad[6] = (uint8_t) (key_id >> 8);
	aad[7] = (uint8_t) key_id;
	aad[8] = (uint8_t) (key_version >> 24);
	aad[9] = (uint8_t) (key_version >> 16);
	aad[10] = (uint8_t) (key_version >> 8);
	aad[11] = (uint8_t) key_version;
}

/* EVP AES-256-GCM seal (enc) or open of a wrapped key; false = refused. */
static bool
evp_wrap(bool enc, const uint8_t root[32], uint32_t id, uint32_t ver,
		 uint8_t wrapped[PX_WRAPPED_KEY_LEN], uint8_t key[32])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t		aad[12], tag[PX_TAG_LEN];
	int			outl;
	bool		ok;

	wrap_aad(id, ver, aad);
	if (enc)
		ok = ctx != NULL &&
			EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, root, wrapped) == 1 &&
			EVP_EncryptUpdate(ctx, NULL, &outl, aad, 12) == 1 &&
			EVP_EncryptUpdate(ctx, wrapped + PX_NONCE_LEN, &outl, key, 32) == 1 &&
			EVP_EncryptFinal_ex(ctx, tag, &outl) == 1 &&
			EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, PX_TAG_LEN,
								wrapped + PX_NONCE_LEN + 32) == 1;
	else
	{
		memcpy(tag, wrapped + PX_NONCE_LEN + 32, PX_TAG_LEN);
		ok = ctx != NULL &&
			EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, root, wrapped) == 1 &&
			EVP_DecryptUpdate(ctx, NULL, &outl, aad, 12) == 1 &&
			EVP_DecryptUpdate(ctx, key, &outl, wrapped + PX_NONCE_LEN, 32) == 1 &&
			EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, PX_TAG_LEN, tag) == 1 &&
			EVP_DecryptFinal_ex(ctx, key + 32, &outl) == 1;
	}
	EVP_CIPHER_CTX_free(ctx);
	return ok;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[HKDF_MAX + 1], want[HKDF_MAX + 1], want2[HKDF_MAX + 1];
	fuzz_input	in;
	uint8_t		ikm[MAX_IN], salt[MAX_IN], info[MAX_IN];
	uint8_t		root[32], dk[32], dk_back[64], nonce[PX_NONCE_LEN];
	uint8_t		wrapped[PX_WRAPPED_KEY_LEN], wrapped2[PX_WRAPPED_KEY_LEN];
	uint8_t		mac[32], mac2[32], check[PX_KEY_CHECK_LEN];
	size_t		ikm_len, salt_len, info_len, out_len, bit;
	uint32_t	id, ver;
	bool		ours, rfc, pkey;
	char		label[64];

	if (hmac == NULL)
	{
		hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
		FUZZ_CHECK(hmac != NULL, "EVP has HMAC");
	}
	fi_init(&in, data, size);
	ikm_len = fi_length(&in, MAX_IN);
	fi_bytes(&in, ikm, ikm_len);
	salt_len = fi_length(&in, MAX_IN);
	fi_bytes(&in, salt, salt_len);
	info_len = fi_length(&in, MAX_IN);
	fi_bytes(&in, info, info_len);
	/* Mostly within the RFC's limit; sometimes just past it. */
	out_len = fi_byte(&in) % 16 == 0 ? HKDF_MAX + 1 - fi_byte(&in) % 2
		: 1 + fi_length(&in, HKDF_MAX - 1);

	/* HKDF: ours, EVP_PKEY's and the RFC's agree on the bytes and on refusal. */
	ours = px_hkdf_sha256(ikm, ikm_len, salt, salt_len, info, info_len, out, out_len) == PX_OK;
	rfc = rfc_hkdf(ikm, ikm_len, salt, salt_len, info, info_len, want, out_len);
	pkey = pkey_hkdf(ikm, ikm_len, salt, salt_len, info, info_len, want2, out_len);
	FUZZ_CHECK(rfc == (out_len <= HKDF_MAX), "the RFC 5869 reference itself");
	FUZZ_CHECK(ours == rfc, "px_hkdf_sha256 accepts/refuses unlike RFC 5869");
	FUZZ_CHECK(pkey == rfc, "EVP_PKEY_HKDF accepts/refuses unlike RFC 5869");
	if (ours)
	{
		FUZZ_CHECK(memcmp(out, want, out_len) == 0, "px_hkdf_sha256 differs from RFC 5869");
		FUZZ_CHECK(memcmp(out, want2, out_len) == 0, "px_hkdf_sha256 differs from EVP_PKEY_HKDF");
	}

	/* px_derive_key: empty salt, the label as info. */
	{
		size_t		label_len = fi_length(&in, sizeof(label) - 1);
		size_t		i;
		size_t		n = out_len > 96 ? 96 : out_len;

		for (i = 0; i < label_len; i++)
			label[i] = (char) (1 + fi_byte(&in) % 255);	/* a C string: no NUL inside */
		label[label_len] = '\0';
		FUZZ_CHECK(px_derive_key(ikm, ikm_len, label, out, n) == PX_OK &&
				   rfc_hkdf(ikm, ikm_len, NULL, 0, (const uint8_t *) label, label_len, want, n) &&
				   memcmp(out, want, n) == 0, "px_derive_key differs from RFC 5869");
	}

	/* Key wrap: ours and EVP's are the same bytes and open each other. */
	fi_bytes(&in, root, sizeof(root));
	fi_bytes(&in, dk, sizeof(dk));
	fi_bytes(&in, nonce, sizeof(nonce));
	id = fi_u32(&in);
	ver = fi_u32(&in);
	FUZZ_CHECK(px_wrap_key(root, id, ver, nonce, dk, wrapped) == PX_OK, "px_wrap_key");
	memcpy(wrapped2, nonce, PX_NONCE_LEN);
	FUZZ_CHECK(evp_wrap(true, root, id, ver, wrapped2, dk), "EVP wrap");
	FUZZ_CHECK(memcmp(wrapped, wrapped2, PX_WRAPPED_KEY_LEN) == 0, "wrapped key differs from EVP");
	FUZZ_CHECK(px_unwrap_key(root, id, ver, wrapped2, PX_WRAPPED_KEY_LEN, dk_back) == PX_OK &&
			   memcmp(dk_back, dk, 32) == 0, "px_unwrap_key of EVP's wrap");
	FUZZ_CHECK(evp_wrap(false, root, id, ver, wrapped, dk_back) && memcmp(dk_back, dk, 32) == 0,
			   "EVP unwrap of ours");
	FUZZ_CHECK(px_unwrap_key(root, id, ver, wrapped, PX_WRAPPED_KEY_LEN - 1 - fi_byte(&in) % 8,
							 dk_back) == PX_ERR_MALFORMED, "a short wrapped key is not refused");
	FUZZ_CHECK(px_unwrap_key(root, id ^ (1u << (fi_byte(&in) % 32)), ver, wrapped,
							 PX_WRAPPED_KEY_LEN, dk_back) == PX_ERR_AUTH,
			   "a wrapped key unwraps under another key id");
	FUZZ_CHECK(px_unwrap_key(root, id, ver ^ (1u << (fi_byte(&in) % 32)), wrapped,
							 PX_WRAPPED_KEY_LEN, dk_back) == PX_ERR_AUTH,
			   "a wrapped key unwraps under another key version");
	bit = fi_u32(&in) % (8 * PX_WRAPPED_KEY_LEN);
	wrapped[bit / 8] ^= (uint8_t) (1 << (bit % 8));
	FUZZ_CHECK(px_unwrap_key(root, id, ver, wrapped, PX_WRAPPED_KEY_LEN, dk_back) == PX_ERR_AUTH,
			   "a wrapped key with a flipped bit unwraps");
	FUZZ_CHECK(!evp_wrap(false, root, id, ver, wrapped, dk_back),
			   "EVP unwraps a wrapped key with a flipped bit");

	/* HMAC and the root-key check value. */
	FUZZ_CHECK(px_hmac_sha256(ikm, ikm_len, info, info_len, mac) == PX_OK &&
			   mac_sha256(ikm, ikm_len, info, info_len, NULL, 0, NULL, 0, mac2) &&
			   memcmp(mac, mac2, 32) == 0, "px_hmac_sha256 differs from EVP_MAC");
	FUZZ_CHECK(px_root_key_check(root, check) == PX_OK &&
			   mac_sha256(root, 32, (const uint8_t *) "privacy_ext root key check v1", 29,
						  NULL, 0, NULL, 0, mac2) &&
			   memcmp(check, mac2, PX_KEY_CHECK_LEN) == 0, "px_root_key_check differs");
	return 0;
}
