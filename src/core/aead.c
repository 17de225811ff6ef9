/*
 * aead.c
 *		AES-256-GCM with the key set up once and reused for every value.
 *
 * Why not EVP's AES-256-GCM cipher: in OpenSSL 3.0 each EVP AEAD operation
 * goes through provider parameter plumbing (a fresh IV, the tag passed as
 * an OSSL_PARAM, string-keyed lookups) that costs about 180 ns even for a
 * 20-byte value, several times the cipher work itself.  The GCM mode here
 * is OpenSSL's own (CRYPTO_gcm128_*, the code its provider wraps), and the
 * AES block cipher is an EVP AES-256-ECB context keyed once, so AES-NI is
 * used where present.  Together they cost about 100 ns per short value.
 * The known-answer tests in test/unit/test_core.c hold this to the GCM
 * specification's vectors.
 */
#include "px_core.h"

#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/modes.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Counter blocks encrypted per EVP call when producing keystream. */
#define CTR_BATCH 16

/* Below this length, one EVP call per block beats building counter batches. */
#define SHORT_VALUE 64

/* Values up to this many blocks get all their keystream from one EVP call. */
#define PRECOMPUTED_BLOCKS 4

struct px_aead
{
	EVP_CIPHER_CTX *ecb;		/* AES-256-ECB, keyed once */
	GCM128_CONTEXT *gcm;		/* GHASH key and per-operation state */
	int			failed;			/* set when an EVP call inside a callback fails */
	int			nprecomputed;	/* valid blocks in counters/keystream */
	int			next_block;		/* the one GCM is expected to ask for next */
	unsigned char counters[16 * PRECOMPUTED_BLOCKS];
	unsigned char keystream[16 * PRECOMPUTED_BLOCKS];
};

/*
 * Whether two counter blocks are equal.  GCM has just written the last four
 * bytes of its counter with a 4-byte store: reading them with a load of the
 * same width lets the CPU forward the store, where an 8-byte load spanning
 * it would stall (measured: most of this callback's time).
 */
static inline bool
same_counter(const unsigned char *a, const unsigned char *b)
{
	uint64_t	a0,
				b0;
	uint32_t	a1,
				b1,
				a2,
				b2;

	memcpy(&a0, a, 8);
	memcpy(&b0, b, 8);
	memcpy(&a1, a + 8, 4);
	memcpy(&b1, b + 8, 4);
	memcpy(&a2, a + 12, 4);
	memcpy(&b2, b + 12, 4);
	return ((a0 ^ b0) | (uint64_t) (a1 ^ b1) | (uint64_t) (a2 ^ b2)) == 0;
}

/*
 * GCM's block callback: one AES block through the keyed ECB context, or,
 * for a counter block of a short value, its keystream block computed ahead
 * by precompute_keystream().
 */
static void
aes_block(const unsigned char in[16], unsigned char out[16], const void *key)
{
	px_aead    *aead = (px_aead *) key;
	int			outl;
	int			i;

	/* GCM asks for the counters in order: try the expected one first. */
	for (i = 0; i < aead->nprecomputed; i++)
	{
		int			j = aead->next_block + i;

		if (j >= aead->nprecomputed)
			j -= aead->nprecomputed;
		if (same_counter(in, aead->counters + 16 * j))
		{
			memcpy(out, aead->keystream + 16 * j, 16);
			aead->next_block = j + 1;
			return;
		}
	}
	if (EVP_EncryptUpdate(aead->ecb, out, &outl, in, 16) != 1 || outl != 16)
		aead->failed = 1;
}

/*
 * Counter block nonce || be32(ctr).  AES reads it back at once with 16-byte
 * loads, which the CPU forwards only from a single 16-byte store: build it
 * in a register where SSE2 is there (x86-64 always), bytes elsewhere.
 */
static inline void
write_counter(unsigned char *c, const uint8_t nonce[PX_NONCE_LEN], uint32_t ctr)
{
#if defined(__SSE2__)
	uint32_t	w[3];

	memcpy(w, nonce, PX_NONCE_LEN);
	_mm_storeu_si128((__m128i *) c,
					 _mm_set_epi32((int) ((ctr >> 24) | ((ctr >> 8) & 0xff00) |
										  ((ctr << 8) & 0xff0000) | (ctr << 24)),
								   (int) w[2], (int) w[1], (int) w[0]));
#else
	memcpy(c, nonce, PX_NONCE_LEN);
	c[12] = (unsigned char) (ctr >> 24);
	c[13] = (unsigned char) (ctr >> 16);
	c[14] = (unsigned char) (ctr >> 8);
	c[15] = (unsigned char) ctr;
#endif
}

/*
 * GCM's counter-mode callback: XOR "blocks" blocks of input with AES of
 * successive counter blocks, the last 32 bits of ivec counting big-endian.
 * Batching the counter blocks into one EVP call keeps long values fast.
 */
static void
aes_ctr32(const unsigned char *in, unsigned char *out, size_t blocks,
		  const void *key, const unsigned char ivec[16])
{
	px_aead    *aead = (px_aead *) key;
	unsigned char counters[16 * CTR_BATCH];
	unsigned char stream[16 * CTR_BATCH];
	size_t		used = blocks < CTR_BATCH ? blocks : CTR_BATCH;
	uint32_t	ctr = ((uint32_t) ivec[12] << 24) | ((uint32_t) ivec[13] << 16) |
		((uint32_t) ivec[14] << 8) | (uint32_t) ivec[15];

	while (blocks > 0)
	{
		size_t		n = blocks < CTR_BATCH ? blocks : CTR_BATCH;
		size_t		i;
		int			outl;

		for (i = 0; i < n; i++, ctr++)
			write_counter(counters + 16 * i, ivec, ctr);
		if (EVP_EncryptUpdate(aead->ecb, stream, &outl, counters, (int) (16 * n)) != 1 ||
			outl != (int) (16 * n))
		{
			aead->failed = 1;
			break;
		}
		for (i = 0; i < 16 * n; i++)
			out[i] = in[i] ^ stream[i];
		in += 16 * n;
		out += 16 * n;
		blocks -= n;
	}
	OPENSSL_cleanse(stream, 16 * used);
}

px_aead *
px_aead_new(const uint8_t key[PX_KEY_LEN])
{
	px_aead    *aead = calloc(1, sizeof(px_aead));

	if (aead == NULL)
		return NULL;
	aead->ecb = EVP_CIPHER_CTX_new();
	if (aead->ecb == NULL ||
		EVP_EncryptInit_ex(aead->ecb, EVP_aes_256_ecb(), NULL, key, NULL) != 1 ||
		EVP_CIPHER_CTX_set_padding(aead->ecb, 0) != 1)
	{
		px_aead_free(aead);
		return NULL;
	}
	/* Derives the GHASH key H = AES(K, 0^128) through aes_block. */
	aead->gcm = CRYPTO_gcm128_new(aead, aes_block);
	if (aead->gcm == NULL || aead->failed)
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
	/* Both release functions cleanse their key material first. */
	if (aead->gcm != NULL)
		CRYPTO_gcm128_release(aead->gcm);
	EVP_CIPHER_CTX_free(aead->ecb);
	free(aead);
}

/*
 * A short value needs AES of only a few counter blocks: J0 = nonce || 1 for
 * the tag mask, then J0 + 1, J0 + 2, ... for the data.  One EVP call for
 * all of them costs little more than one call for a single block.
 */
static void
precompute_keystream(px_aead *aead, const uint8_t nonce[PX_NONCE_LEN], size_t text_len)
{
	int			n = 1 + (int) ((text_len + 15) / 16);
	int			i;
	int			outl;

	aead->nprecomputed = 0;
	if (n > PRECOMPUTED_BLOCKS)
		return;
	for (i = 0; i < n; i++)
		write_counter(aead->counters + 16 * i, nonce, (uint32_t) (i + 1));
	if (EVP_EncryptUpdate(aead->ecb, aead->keystream, &outl, aead->counters, 16 * n) == 1 &&
		outl == 16 * n)
	{
		aead->nprecomputed = n;
		aead->next_block = 0;
	}
}

/* Keystream is as sensitive as the plaintext it covers: drop it after use. */
static void
finish(px_aead *aead)
{
	if (aead->nprecomputed > 0)
		OPENSSL_cleanse(aead->keystream, 16 * aead->nprecomputed);
	aead->nprecomputed = 0;
}

static px_status
start(px_aead *aead, const uint8_t nonce[PX_NONCE_LEN],
	  const uint8_t *aad, size_t aad_len, size_t text_len)
{
	aead->failed = 0;
	aead->nprecomputed = 0;
	if (text_len > PX_MAX_PLAINTEXT || aad_len > PX_MAX_PLAINTEXT)
		return PX_ERR_TOO_LONG;
	precompute_keystream(aead, nonce, text_len);
	CRYPTO_gcm128_setiv(aead->gcm, nonce, PX_NONCE_LEN);
	if (aad_len > 0 && CRYPTO_gcm128_aad(aead->gcm, aad, aad_len) != 0)
		return PX_ERR_CRYPTO;
	return PX_OK;
}

px_status
px_gcm_seal(px_aead *aead, const uint8_t nonce[PX_NONCE_LEN],
			const uint8_t *aad, size_t aad_len,
			const uint8_t *pt, size_t pt_len,
			uint8_t *ct, uint8_t tag[PX_TAG_LEN])
{
	px_status	status = start(aead, nonce, aad, aad_len, pt_len);

	if (status == PX_OK && pt_len > 0 &&
		(pt_len < SHORT_VALUE ?
		 CRYPTO_gcm128_encrypt(aead->gcm, pt, ct, pt_len) :
		 CRYPTO_gcm128_encrypt_ctr32(aead->gcm, pt, ct, pt_len, aes_ctr32)) != 0)
		status = PX_ERR_CRYPTO;
	if (status == PX_OK)
		CRYPTO_gcm128_tag(aead->gcm, tag, PX_TAG_LEN);
	finish(aead);
	if (status == PX_OK && aead->failed)
		status = PX_ERR_CRYPTO;
	if (status != PX_OK && status != PX_ERR_TOO_LONG)
		px_wipe(ct, pt_len);
	return status;
}

px_status
px_gcm_open(px_aead *aead, const uint8_t nonce[PX_NONCE_LEN],
			const uint8_t *aad, size_t aad_len,
			const uint8_t *ct, size_t ct_len,
			const uint8_t tag[PX_TAG_LEN], uint8_t *pt)
{
	px_status	status = start(aead, nonce, aad, aad_len, ct_len);

	if (status == PX_OK && ct_len > 0 &&
		(ct_len < SHORT_VALUE ?
		 CRYPTO_gcm128_decrypt(aead->gcm, ct, pt, ct_len) :
		 CRYPTO_gcm128_decrypt_ctr32(aead->gcm, ct, pt, ct_len, aes_ctr32)) != 0)
		status = PX_ERR_CRYPTO;
	/* CRYPTO_gcm128_finish compares the tags in constant time. */
	if (status == PX_OK && CRYPTO_gcm128_finish(aead->gcm, tag, PX_TAG_LEN) != 0)
		status = PX_ERR_AUTH;
	finish(aead);
	if (status == PX_OK && aead->failed)
		status = PX_ERR_CRYPTO;
	if (status != PX_OK && status != PX_ERR_TOO_LONG)
		px_wipe(pt, ct_len);	/* never hand back unauthenticated plaintext */
	return status;
}

void
px_wipe(void *buf, size_t len)
{
	if (buf != NULL && len > 0)
		OPENSSL_cleanse(buf, len);
}
