/*
 * aead.c
 *		AES-256-GCM over OpenSSL with contexts that are keyed once.
 *
 * Setting up an EVP context (provider lookup, key schedule, GHASH table)
 * costs far more than sealing a short value, so a px_aead keeps one keyed
 * context per direction and each call only supplies a fresh nonce.
 */
#include "px_core.h"

#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

struct px_aead
{
	EVP_CIPHER_CTX *enc;
	EVP_CIPHER_CTX *dec;
};

/* OpenSSL takes int lengths; every caller is bounded by PX_MAX_PLAINTEXT. */
static int
fits_int(size_t len)
{
	return len <= PX_MAX_PLAINTEXT;
}

px_aead *
px_aead_new(const uint8_t key[PX_KEY_LEN])
{
	px_aead    *aead = calloc(1, sizeof(px_aead));

	if (aead == NULL)
		return NULL;
	aead->enc = EVP_CIPHER_CTX_new();
	aead->dec = EVP_CIPHER_CTX_new();
	if (aead->enc == NULL || aead->dec == NULL ||
		EVP_EncryptInit_ex(aead->enc, EVP_aes_256_gcm(), NULL, key, NULL) != 1 ||
		EVP_DecryptInit_ex(aead->dec, EVP_aes_256_gcm(), NULL, key, NULL) != 1)
	{
		px_aead_free(aead);
		return NULL;
	}
	return aead;
}

void
px_aead_free(px_aead *aead)
{
	if (aead == NULL)
		return;
	/* EVP_CIPHER_CTX_free cleanses the key schedule before releasing it. */
	EVP_CIPHER_CTX_free(aead->enc);
	EVP_CIPHER_CTX_free(aead->dec);
	free(aead);
}

px_status
px_gcm_seal(px_aead *aead, const uint8_t nonce[PX_NONCE_LEN],
			const uint8_t *aad, size_t aad_len,
			const uint8_t *pt, size_t pt_len,
			uint8_t *ct, uint8_t tag[PX_TAG_LEN])
{
	EVP_CIPHER_CTX *ctx = aead->enc;
	int			outl;

	if (!fits_int(pt_len) || !fits_int(aad_len))
		return PX_ERR_TOO_LONG;
	if (EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, nonce) != 1)
		return PX_ERR_CRYPTO;
	if (aad_len > 0 &&
		EVP_EncryptUpdate(ctx, NULL, &outl, aad, (int) aad_len) != 1)
		return PX_ERR_CRYPTO;
	if (pt_len > 0 &&
		EVP_EncryptUpdate(ctx, ct, &outl, pt, (int) pt_len) != 1)
		return PX_ERR_CRYPTO;
	if (EVP_EncryptFinal_ex(ctx, ct + pt_len, &outl) != 1 ||
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, PX_TAG_LEN, tag) != 1)
		return PX_ERR_CRYPTO;
	return PX_OK;
}

px_status
px_gcm_open(px_aead *aead, const uint8_t nonce[PX_NONCE_LEN],
			const uint8_t *aad, size_t aad_len,
			const uint8_t *ct, size_t ct_len,
			const uint8_t tag[PX_TAG_LEN], uint8_t *pt)
{
	EVP_CIPHER_CTX *ctx = aead->dec;
	int			outl;

	if (!fits_int(ct_len) || !fits_int(aad_len))
		return PX_ERR_TOO_LONG;
	if (EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, nonce) != 1)
		return PX_ERR_CRYPTO;
	if (aad_len > 0 &&
		EVP_DecryptUpdate(ctx, NULL, &outl, aad, (int) aad_len) != 1)
		return PX_ERR_CRYPTO;
	if (ct_len > 0 &&
		EVP_DecryptUpdate(ctx, pt, &outl, ct, (int) ct_len) != 1)
		return PX_ERR_CRYPTO;
	/* OpenSSL wants a non-const tag buffer; it only reads it. */
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, PX_TAG_LEN,
							(void *) tag) != 1)
		return PX_ERR_CRYPTO;
	if (EVP_DecryptFinal_ex(ctx, pt + ct_len, &outl) != 1)
	{
		/* Never hand back unauthenticated plaintext. */
		px_wipe(pt, ct_len);
		return PX_ERR_AUTH;
	}
	return PX_OK;
}

void
px_wipe(void *buf, size_t len)
{
	if (buf != NULL && len > 0)
		OPENSSL_cleanse(buf, len);
}
