/*
 * keywrap.c
 *		Data keys wrapped under the root key, the root-key check value,
 *		key ids derived from key names, hex decoding and randomness.
 *
 * A wrapped data key is nonce(12) || AES-256-GCM(root, data key)(32) ||
 * tag(16), with additional data "pxk1" || key id || key version (big-endian),
 * so a wrapped key copied to another id or version does not unwrap.
 */
#include "px_core.h"

#include <string.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#define WRAP_AAD_LEN 12

static void
wrap_aad(uint32_t key_id, uint32_t key_version, uint8_t aad[WRAP_AAD_LEN])
{
	px_header	hdr;

	/* Reuse the envelope's big-endian writer for the two integers. */
	uint8_t		tmp[PX_HEADER_LEN];

	hdr.version = 0;
	hdr.type = 0;
	hdr.key_id = key_id;
	hdr.key_version = key_version;
	px_header_write(&hdr, tmp);
	memcpy(aad, "pxk1", 4);
	memcpy(aad + 4, tmp + 2, 8);
}

px_status
px_wrap_key(const uint8_t root[PX_KEY_LEN], uint32_t key_id,
			uint32_t key_version, const uint8_t nonce[PX_NONCE_LEN],
			const uint8_t data_key[PX_KEY_LEN], uint8_t out[PX_WRAPPED_KEY_LEN])
{
	px_aead    *aead = px_aead_new(root);
	uint8_t		aad[WRAP_AAD_LEN];
	px_status	status;

	if (aead == NULL)
		return PX_ERR_CRYPTO;
	wrap_aad(key_id, key_version, aad);
	memcpy(out, nonce, PX_NONCE_LEN);
	status = px_gcm_seal(aead, nonce, aad, WRAP_AAD_LEN, data_key, PX_KEY_LEN,
						 out + PX_NONCE_LEN, out + PX_NONCE_LEN + PX_KEY_LEN);
	px_aead_free(aead);
	return status;
}

px_status
px_unwrap_key(const uint8_t root[PX_KEY_LEN], uint32_t key_id,
			  uint32_t key_version, const uint8_t *wrapped, size_t wrapped_len,
			  uint8_t data_key[PX_KEY_LEN])
{
	px_aead    *aead;
	uint8_t		aad[WRAP_AAD_LEN];
	px_status	status;

	if (wrapped_len != PX_WRAPPED_KEY_LEN)
		return PX_ERR_MALFORMED;
	aead = px_aead_new(root);
	if (aead == NULL)
		return PX_ERR_CRYPTO;
	wrap_aad(key_id, key_version, aad);
	status = px_gcm_open(aead, wrapped, aad, WRAP_AAD_LEN,
						 wrapped + PX_NONCE_LEN, PX_KEY_LEN,
						 wrapped + PX_NONCE_LEN + PX_KEY_LEN, data_key);
	px_aead_free(aead);
	return status;
}

/*
 * First 8 bytes of HMAC-SHA-256(root, "privacy_ext root key check v1").
 * Stored beside each wrapped key so that a wrong root key is reported as
 * such instead of as a corrupt data key.
 */
px_status
px_root_key_check(const uint8_t root[PX_KEY_LEN], uint8_t out[PX_KEY_CHECK_LEN])
{
	static const char label[] = "privacy_ext root key check v1";
	uint8_t		mac[32];
	size_t		mac_len = 0;

	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, root, PX_KEY_LEN,
				  (const unsigned char *) label, sizeof(label) - 1,
				  mac, sizeof(mac), &mac_len) == NULL || mac_len != sizeof(mac))
		return PX_ERR_CRYPTO;
	memcpy(out, mac, PX_KEY_CHECK_LEN);
	return PX_OK;
}

/*
 * Key id = first 31 bits of SHA-256("privacy_ext key id v1" || 0 || name),
 * never 0 (0 marks a session-local transit value).  Deriving the id from
 * the name means a column's type modifier can be resolved from the name
 * alone, which is what pg_dump's output needs: it creates tables before it
 * restores the keys table.
 */
uint32_t
px_key_id_from_name(const char *name, size_t len)
{
	static const char label[] = "privacy_ext key id v1";
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t		digest[32];
	unsigned int digest_len = 0;
	uint32_t	id = 0;

	if (md != NULL &&
		EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
		EVP_DigestUpdate(md, label, sizeof(label)) == 1 &&	/* with its NUL */
		EVP_DigestUpdate(md, name, len) == 1 &&
		EVP_DigestFinal_ex(md, digest, &digest_len) == 1)
		id = (((uint32_t) digest[0] << 24) | ((uint32_t) digest[1] << 16) |
			  ((uint32_t) digest[2] << 8) | digest[3]) & 0x7FFFFFFF;
	EVP_MD_CTX_free(md);
	return id == 0 ? 1 : id;
}

/* A hex digit's value, -1 for anything else. */
int
px_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes exactly out_len bytes from exactly 2 * out_len hex digits. */
px_status
px_hex_decode(const char *hex, size_t hex_len, uint8_t *out, size_t out_len)
{
	size_t		i;

	if (hex_len != 2 * out_len)
		return PX_ERR_MALFORMED;
	for (i = 0; i < out_len; i++)
	{
		int			hi = px_hex_digit(hex[2 * i]);
		int			lo = px_hex_digit(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
		{
			px_wipe(out, out_len);
			return PX_ERR_MALFORMED;
		}
		out[i] = (uint8_t) ((hi << 4) | lo);
	}
	return PX_OK;
}

px_status
px_random_bytes(uint8_t *buf, size_t len)
{
	if (len > 0x7FFFFFFF || RAND_bytes(buf, (int) len) != 1)
		return PX_ERR_RANDOM;
	return PX_OK;
}

/* HKDF-SHA-256 (RFC 5869) through OpenSSL's EVP_KDF. */
px_status
px_hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
			   const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len)
{
	EVP_KDF    *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM	params[5];
	int			n = 0;
	px_status	status = PX_ERR_CRYPTO;

	if (ctx != NULL)
	{
		params[n++] = OSSL_PARAM_construct_utf8_string("digest", (char *) "SHA256", 0);
		params[n++] = OSSL_PARAM_construct_octet_string("key", (void *) ikm, ikm_len);
		if (salt_len > 0)
			params[n++] = OSSL_PARAM_construct_octet_string("salt", (void *) salt, salt_len);
		params[n++] = OSSL_PARAM_construct_octet_string("info", (void *) info, info_len);
		params[n] = OSSL_PARAM_construct_end();
		if (EVP_KDF_derive(ctx, out, out_len, params) == 1)
			status = PX_OK;
	}
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return status;
}

/*
 * A sub-key for one purpose, named by its label: HKDF-SHA-256 with an empty
 * salt and the label as info, so no two purposes share key bytes.
 */
px_status
px_derive_key(const uint8_t *ikm, size_t ikm_len, const char *label,
			  uint8_t *out, size_t out_len)
{
	return px_hkdf_sha256(ikm, ikm_len, NULL, 0, (const uint8_t *) label, strlen(label),
						  out, out_len);
}

/*
 * px_derive_key() split in its two HKDF steps.  The derivation key is the
 * extract step's output (the PRK, HMAC-SHA-256 with an all-zero salt over
 * the input key); expanding it with a label gives exactly what
 * px_derive_key(ikm, label) gives.  Keys derived from the root key are made
 * this way so that a root key rotation can keep them: the derivation key of
 * the original root key is stored wrapped under the current root key
 * (README, "Changing the root key"), and it reveals neither root key.
 */
static px_status
hkdf_step(const char *mode, const uint8_t *key, size_t key_len,
		  const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len)
{
	EVP_KDF    *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM	params[5];
	int			n = 0;
	px_status	status = PX_ERR_CRYPTO;

	if (ctx != NULL)
	{
		params[n++] = OSSL_PARAM_construct_utf8_string("digest", (char *) "SHA256", 0);
		params[n++] = OSSL_PARAM_construct_utf8_string("mode", (char *) mode, 0);
		params[n++] = OSSL_PARAM_construct_octet_string("key", (void *) key, key_len);
		if (info != NULL)
			params[n++] = OSSL_PARAM_construct_octet_string("info", (void *) info, info_len);
		params[n] = OSSL_PARAM_construct_end();
		if (EVP_KDF_derive(ctx, out, out_len, params) == 1)
			status = PX_OK;
	}
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return status;
}

px_status
px_derivation_key(const uint8_t *ikm, size_t ikm_len, uint8_t out[PX_KEY_LEN])
{
	return hkdf_step("EXTRACT_ONLY", ikm, ikm_len, NULL, 0, out, PX_KEY_LEN);
}

px_status
px_derive_from_derivation_key(const uint8_t prk[PX_KEY_LEN], const char *label,
							  uint8_t *out, size_t out_len)
{
	return hkdf_step("EXPAND_ONLY", prk, PX_KEY_LEN, (const uint8_t *) label, strlen(label),
					 out, out_len);
}

/*
 * Nonces drawn from a buffer of CSPRNG output: one RAND_bytes call costs
 * about as much for 4 KB as for 12 bytes, several times the cost of
 * sealing a short value.  Each nonce is handed out once.  "owner" names the
 * process using the pool; a pool reached from a different owner (a forked
 * child) is discarded, so two processes never share buffered nonces.
 */
px_status
px_nonce_next(px_nonce_pool *pool, long owner, uint8_t nonce[PX_NONCE_LEN])
{
	if (pool->owner != owner || pool->pos + PX_NONCE_LEN > sizeof(pool->buf))
	{
		if (RAND_bytes(pool->buf, (int) sizeof(pool->buf)) != 1)
		{
			pool->pos = sizeof(pool->buf);
			return PX_ERR_RANDOM;
		}
		pool->pos = 0;
		pool->owner = owner;
	}
	memcpy(nonce, pool->buf + pool->pos, PX_NONCE_LEN);
	memset(pool->buf + pool->pos, 0, PX_NONCE_LEN);
	pool->pos += PX_NONCE_LEN;
	return PX_OK;
}

/* HMAC-SHA-256 through OpenSSL. */
px_status
px_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len,
			   uint8_t out[32])
{
	size_t		out_len = 0;

	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, key_len, msg, msg_len,
				  out, 32, &out_len) == NULL || out_len != 32)
		return PX_ERR_CRYPTO;
	return PX_OK;
}
