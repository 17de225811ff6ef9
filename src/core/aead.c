/*
 * aead.c
 *		AES-256-GCM with the key set up once and reused for every value.
 *
 * Why not EVP's AES-256-GCM cipher: in OpenSSL 3.0 each EVP AEAD operation
 * goes through provider parameter plumbing (a fresh IV, the tag passed as
 * an OSSL_PARAM, string-keyed lookups) that costs about 180 ns even for a
 * 20-byte value, several times the cipher work itself.  The AES block
 * cipher here is always OpenSSL's: an EVP AES-256-ECB context keyed once,
 * so AES-NI is used where present.  The GCM mode around it is
 *  - for values up to 64 bytes on x86-64 CPUs with carry-less multiply:
 *    all the value's keystream from one EVP call, and GHASH computed here
 *    with PCLMULQDQ against precomputed powers of H, reduced once, the
 *    share of the AAD (the envelope header) and of the length block kept
 *    per header and length (about 40 ns to seal or open a 22-byte value,
 *    against 90-100 ns);
 *  - otherwise OpenSSL's own GCM mode (CRYPTO_gcm128_*, the code its
 *    provider wraps) driving that ECB context.
 * test/unit/test_core.c holds both paths to the GCM specification's
 * vectors and to EVP AES-256-GCM for every length and AAD length around
 * the short path's limits.
 */
#include "px_core.h"
#include "px_block.h"

#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/modes.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#define PX_GCM_CLMUL 1
#include <immintrin.h>
#endif

/* Counter blocks encrypted per EVP call when producing keystream. */
#define CTR_BATCH 16

/* Below this length, one EVP call per block beats building counter batches. */
#define SHORT_VALUE 64

/* Values up to this many blocks get all their keystream from one EVP call. */
#define PRECOMPUTED_BLOCKS 4

/* The carry-less-multiply path: up to 64 bytes of text, 32 bytes of AAD. */
#define SHORT_TEXT_MAX 64
#define SHORT_AAD_MAX 32
#define SHORT_KEYSTREAM_BLOCKS (1 + SHORT_TEXT_MAX / 16)
#define SHORT_GHASH_BLOCKS (SHORT_AAD_MAX / 16 + SHORT_TEXT_MAX / 16 + 1)

/*
 * px_gcm_seal_fresh draws nonces FRESH_BATCH at a time and computes their
 * first FRESH_BLOCKS keystream blocks (E(J0) for the tag, then text up to
 * 32 bytes) in one EVP call, instead of one call of ~23 ns per value.
 */
#define FRESH_BATCH 32
#define FRESH_BLOCKS 3
#define FRESH_TEXT_MAX (16 * (FRESH_BLOCKS - 1))

struct px_aead
{
	EVP_CIPHER_CTX *ecb;		/* AES-256-ECB, keyed once */
	GCM128_CONTEXT *gcm;		/* GHASH key and per-operation state */
	int			failed;			/* set when an EVP call inside a callback fails */
	int			nprecomputed;	/* valid blocks in counters/keystream */
	int			next_block;		/* the one GCM is expected to ask for next */
	unsigned char counters[16 * PRECOMPUTED_BLOCKS];
	unsigned char keystream[16 * PRECOMPUTED_BLOCKS];
	bool		clmul;			/* short values take the carry-less-multiply path */
	unsigned char hpow[SHORT_GHASH_BLOCKS][16]; /* H^1.. for it, reflected */
	/* ghash_tail()'s cache: the last AAD seen and, per text length, its tail */
	size_t		tail_aad_len;
	unsigned char tail_aad[2][16];	/* zero-padded */
	bool		tail_valid[SHORT_TEXT_MAX + 1];
	unsigned char tail[SHORT_TEXT_MAX + 1][16];
	/* fresh nonces with their keystream, for px_gcm_seal_fresh */
	long		fresh_owner;	/* process that filled them; 0 = none */
	int			fresh_next;		/* first unused one */
	unsigned char fresh_nonce[FRESH_BATCH][PX_NONCE_LEN];
	unsigned char fresh_stream[FRESH_BATCH][16 * FRESH_BLOCKS];
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
	if (!px_aes_blocks(aead->ecb, in, out, 16))
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

		for (i = 0; i < n; i++, ctr++)
			write_counter(counters + 16 * i, ivec, ctr);
		if (!px_aes_blocks(aead->ecb, counters, stream, 16 * n))
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

/*
 * Short values on x86-64: GCM computed here from one EVP call for all the
 * keystream plus GHASH with the carry-less multiply instruction.  OpenSSL's
 * CRYPTO_gcm128_* path costs about 100 ns for a 22-byte value, most of it
 * per-call bookkeeping (IV setup, one callback per block, the AAD and tag
 * steps each reducing separately); here the message's GHASH blocks are
 * multiplied by precomputed powers of H and reduced once.  Only the GHASH
 * field arithmetic is ours: AES is OpenSSL's, and both paths are held to
 * the specification's vectors and to EVP AES-256-GCM by test/unit.
 */
#if defined(PX_GCM_CLMUL)

/* Byte order reversal: a GCM block becomes a bit-reflected 128-bit integer. */
#define GHASH_BSWAP _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)

__attribute__((target("pclmul,ssse3")))
static inline __m128i
ghash_load(const unsigned char *p)
{
	return _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *) p), GHASH_BSWAP);
}

/* Accumulate the 256-bit carry-less product a*b as lo, middle and hi words. */
__attribute__((target("pclmul,ssse3")))
static inline void
clmul_add(__m128i a, __m128i b, __m128i *lo, __m128i *mid, __m128i *hi)
{
	*lo = _mm_xor_si128(*lo, _mm_clmulepi64_si128(a, b, 0x00));
	*hi = _mm_xor_si128(*hi, _mm_clmulepi64_si128(a, b, 0x11));
	*mid = _mm_xor_si128(*mid, _mm_xor_si128(_mm_clmulepi64_si128(a, b, 0x01),
											 _mm_clmulepi64_si128(a, b, 0x10)));
}

/* A 128-bit shift right by k (1..63), across the two 64-bit lanes. */
__attribute__((target("pclmul,ssse3")))
static inline __m128i
shr128(__m128i x, int k)
{
	return _mm_or_si128(_mm_srli_epi64(x, k), _mm_slli_epi64(_mm_srli_si128(x, 8), 64 - k));
}

/*
 * Reduce a sum of products to one field element.  In the reflected form
 * integer bit i is the coefficient of x^(127-i), so the 255-bit product of
 * two elements, shifted left by one, holds the low-degree half in its high
 * 128 bits (hi) and x^128 times the high-degree half in its low 128 bits
 * (L).  With x^128 = x^7 + x^2 + x + 1, L contributes L*(1 + x + x^2 + x^7),
 * where multiplying by x^k is a right shift by k: the bits a shift pushes
 * out (degree 128 and up) are first folded back in as Q, whose own shifts
 * stay inside 128 bits.
 */
__attribute__((target("pclmul,ssse3")))
static inline __m128i
ghash_reduce(__m128i lo, __m128i mid, __m128i hi)
{
	__m128i		l,
				q;

	lo = _mm_xor_si128(lo, _mm_slli_si128(mid, 8));
	hi = _mm_xor_si128(hi, _mm_srli_si128(mid, 8));
	/* (hi:lo) <<= 1 as one 256-bit integer */
	hi = _mm_or_si128(_mm_slli_epi64(hi, 1),
					  _mm_or_si128(_mm_slli_si128(_mm_srli_epi64(hi, 63), 8),
								   _mm_srli_si128(_mm_srli_epi64(lo, 63), 8)));
	l = _mm_or_si128(_mm_slli_epi64(lo, 1), _mm_slli_si128(_mm_srli_epi64(lo, 63), 8));
	/* Q: L's low 7 bits, as (L << 127) ^ (L << 126) ^ (L << 121) */
	q = _mm_slli_si128(_mm_xor_si128(_mm_xor_si128(_mm_slli_epi64(l, 63),
												   _mm_slli_epi64(l, 62)),
									 _mm_slli_epi64(l, 57)), 8);
	l = _mm_xor_si128(l, q);
	return _mm_xor_si128(hi, _mm_xor_si128(_mm_xor_si128(l, shr128(l, 1)),
										   _mm_xor_si128(shr128(l, 2), shr128(l, 7))));
}

__attribute__((target("pclmul,ssse3")))
static __m128i
ghash_mul(__m128i a, __m128i b)
{
	__m128i		lo = _mm_setzero_si128(),
				mid = _mm_setzero_si128(),
				hi = _mm_setzero_si128();

	clmul_add(a, b, &lo, &mid, &hi);
	return ghash_reduce(lo, mid, hi);
}

/* H, H^2, ..., H^SHORT_GHASH_BLOCKS in reflected form, for the short path. */
__attribute__((target("pclmul,ssse3")))
static void
ghash_powers(px_aead *aead, const unsigned char h_block[16])
{
	__m128i		h = ghash_load(h_block);
	__m128i		p = h;
	int			i;

	for (i = 0; i < SHORT_GHASH_BLOCKS; i++)
	{
		_mm_storeu_si128((__m128i *) aead->hpow[i], p);
		p = ghash_mul(p, h);
	}
}

/* Keystream block i, keeping only its first len bytes (the rest zero). */
static inline __m128i
keystream_block(const unsigned char *stream, int i, size_t len)
{
	return _mm_and_si128(_mm_loadu_si128((const __m128i *) (stream + 16 * i)), px_block_mask(len));
}

/*
 * GHASH of a short message: its m blocks (the AAD padded, the text
 * padded, the bit lengths) are sum B_i * H^(m-i+1), reduced once.  The
 * text's blocks are summed per value; the AAD's and the length block's
 * part, the "tail", depends only on the AAD and the text's length, which
 * are the same for every value of a column under one key version (the
 * AAD is the envelope header): ghash_tail() keeps it per length for the
 * last AAD.  Reduction is linear, so the two parts are reduced apart and
 * added.
 */
typedef struct ghash_sum
{
	__m128i		lo,
				mid,
				hi;
	int			power;			/* H^power multiplies the next block */
} ghash_sum;

__attribute__((target("pclmul,ssse3")))
static inline void
ghash_add(const px_aead *aead, ghash_sum *sum, __m128i block)
{
	clmul_add(_mm_shuffle_epi8(block, GHASH_BSWAP),
			  _mm_loadu_si128((const __m128i *) aead->hpow[--sum->power]),
			  &sum->lo, &sum->mid, &sum->hi);
}

/* The sum for text_len bytes of text: its blocks take H^(blocks+1) .. H^2. */
__attribute__((target("pclmul,ssse3")))
static inline void
ghash_start(ghash_sum *sum, size_t text_len)
{
	sum->lo = sum->mid = sum->hi = _mm_setzero_si128();
	sum->power = (int) ((text_len + 15) / 16) + 1;
}

/* The tail computed: AAD blocks times H^m .. H^(text blocks + 2), lengths times H. */
__attribute__((target("pclmul,ssse3")))
static __attribute__((noinline)) __m128i
ghash_tail_compute(const px_aead *aead, const unsigned char *aad, size_t aad_len,
				   size_t text_len)
{
	ghash_sum	sum;
	size_t		off;

	sum.lo = sum.mid = sum.hi = _mm_setzero_si128();
	sum.power = (int) ((aad_len + 15) / 16 + (text_len + 15) / 16) + 1;
	for (off = 0; off < aad_len; off += 16)
		ghash_add(aead, &sum, load_block(aad + off, aad_len - off < 16 ? aad_len - off : 16));
	clmul_add(_mm_set_epi64x((long long) (aad_len * 8), (long long) (text_len * 8)),
			  _mm_loadu_si128((const __m128i *) aead->hpow[0]), &sum.lo, &sum.mid, &sum.hi);
	return ghash_reduce(sum.lo, sum.mid, sum.hi);
}

/*
 * The tail for this AAD and text length (both at most the short path's
 * limits), from the cache when the AAD is the last one seen.  Both are
 * public (the envelope header and the value's length), so comparing them
 * with branches leaks nothing.
 */
__attribute__((target("pclmul,ssse3")))
static inline __m128i
ghash_tail(px_aead *aead, const unsigned char *aad, size_t aad_len, size_t text_len)
{
	__m128i		a0 = load_block(aad, aad_len < 16 ? aad_len : 16);
	__m128i		a1 = aad_len > 16 ? load_block(aad + 16, aad_len - 16) : _mm_setzero_si128();
	__m128i		t;

	if (__builtin_expect(aad_len != aead->tail_aad_len ||
						 !px_blocks_equal(a0, _mm_loadu_si128((const __m128i *) aead->tail_aad[0])) ||
						 !px_blocks_equal(a1, _mm_loadu_si128((const __m128i *) aead->tail_aad[1])),
						 0))
	{
		aead->tail_aad_len = aad_len;
		_mm_storeu_si128((__m128i *) aead->tail_aad[0], a0);
		_mm_storeu_si128((__m128i *) aead->tail_aad[1], a1);
		memset(aead->tail_valid, 0, sizeof(aead->tail_valid));
	}
	if (__builtin_expect(aead->tail_valid[text_len], 1))
		return _mm_loadu_si128((const __m128i *) aead->tail[text_len]);
	t = ghash_tail_compute(aead, aad, aad_len, text_len);
	_mm_storeu_si128((__m128i *) aead->tail[text_len], t);
	aead->tail_valid[text_len] = true;
	return t;
}

/* The tag: the text's sum reduced, plus the tail, xor E(K, J0). */
__attribute__((target("pclmul,ssse3")))
static inline __m128i
ghash_finish(ghash_sum *sum, __m128i tail, const unsigned char *stream)
{
	return _mm_xor_si128(_mm_shuffle_epi8(_mm_xor_si128(ghash_reduce(sum->lo, sum->mid, sum->hi),
														tail), GHASH_BSWAP),
						 _mm_loadu_si128((const __m128i *) stream));
}

/* Keystream for a short value: E(J0) for the tag, then E(J0+1), ... */
static bool
short_keystream(px_aead *aead, const uint8_t nonce[PX_NONCE_LEN], size_t text_len,
				unsigned char *stream)
{
	unsigned char counters[16 * SHORT_KEYSTREAM_BLOCKS];
	int			n = 1 + (int) ((text_len + 15) / 16);
	int			i;

	for (i = 0; i < n; i++)
		write_counter(counters + 16 * i, nonce, (uint32_t) (i + 1));
	return px_aes_blocks(aead->ecb, counters, stream, (size_t) (16 * n));
}

/* Seal with the keystream E(J0), E(J0+1), ... already computed. */
__attribute__((target("pclmul,ssse3")))
static void
seal_with_stream(px_aead *aead, const unsigned char *stream,
				 const uint8_t *aad, size_t aad_len,
				 const uint8_t *pt, size_t pt_len, uint8_t *ct, uint8_t tag[PX_TAG_LEN])
{
	ghash_sum	sum;
	__m128i		tail = ghash_tail(aead, aad, aad_len, pt_len);
	size_t		off;
	int			i;

	ghash_start(&sum, pt_len);
	for (off = 0, i = 1; off < pt_len; off += 16, i++)
	{
		size_t		n = pt_len - off < 16 ? pt_len - off : 16;
		__m128i		c = _mm_xor_si128(load_block(pt + off, n), keystream_block(stream, i, n));

		store_block(ct + off, c, n);
		ghash_add(aead, &sum, c);
	}
	_mm_storeu_si128((__m128i *) tag, ghash_finish(&sum, tail, stream));
}

static px_status
seal_short(px_aead *aead, const uint8_t nonce[PX_NONCE_LEN],
		   const uint8_t *aad, size_t aad_len,
		   const uint8_t *pt, size_t pt_len, uint8_t *ct, uint8_t tag[PX_TAG_LEN])
{
	unsigned char stream[16 * SHORT_KEYSTREAM_BLOCKS];

	if (!short_keystream(aead, nonce, pt_len, stream))
	{
		px_wipe(ct, pt_len);
		return PX_ERR_CRYPTO;
	}
	seal_with_stream(aead, stream, aad, aad_len, pt, pt_len, ct, tag);
	px_wipe_blocks(stream, 1 + (pt_len + 15) / 16);
	return PX_OK;
}

/*
 * The next batch of fresh nonces, each drawn from the CSPRNG pool, and
 * their keystream.  The batch belongs to one process: a child forked after
 * it was filled must not reuse its nonces, so the owner is checked on use.
 */
static bool
fresh_refill(px_aead *aead, px_nonce_pool *pool, long owner)
{
	unsigned char counters[FRESH_BATCH][16 * FRESH_BLOCKS];
	int			i,
				j;

	aead->fresh_owner = 0;
	aead->fresh_next = FRESH_BATCH;
	for (i = 0; i < FRESH_BATCH; i++)
	{
		if (px_nonce_next(pool, owner, aead->fresh_nonce[i]) != PX_OK)
			return false;
		for (j = 0; j < FRESH_BLOCKS; j++)
			write_counter(counters[i] + 16 * j, aead->fresh_nonce[i], (uint32_t) (j + 1));
	}
	if (!px_aes_blocks(aead->ecb, counters[0], aead->fresh_stream[0], sizeof(counters)))
		return false;
	aead->fresh_owner = owner;
	aead->fresh_next = 0;
	return true;
}

/*
 * Open with the keystream E(J0), E(J0+1), ... already computed (the caller
 * wipes it).  Authenticates before decrypting: a forged value never becomes
 * plaintext; its output buffer is cleared, as on the general path.
 */
__attribute__((target("pclmul,ssse3")))
static px_status
open_with_stream(px_aead *aead, const unsigned char *stream,
				 const uint8_t *aad, size_t aad_len,
				 const uint8_t *ct, size_t ct_len, const uint8_t tag[PX_TAG_LEN], uint8_t *pt)
{
	__m128i		tail = ghash_tail(aead, aad, aad_len, ct_len);
	ghash_sum	sum;
	size_t		off;
	int			i;

	ghash_start(&sum, ct_len);
	for (off = 0; off < ct_len; off += 16)
		ghash_add(aead, &sum, load_block(ct + off, ct_len - off < 16 ? ct_len - off : 16));
	if (!px_blocks_equal(ghash_finish(&sum, tail, stream),
						 _mm_loadu_si128((const __m128i *) tag)))
	{
		px_wipe(pt, ct_len);
		return PX_ERR_AUTH;
	}
	for (off = 0, i = 1; off < ct_len; off += 16, i++)
	{
		size_t		n = ct_len - off < 16 ? ct_len - off : 16;

		store_block(pt + off, _mm_xor_si128(load_block(ct + off, n),
											keystream_block(stream, i, n)), n);
	}
	return PX_OK;
}

static px_status
open_short(px_aead *aead, const uint8_t nonce[PX_NONCE_LEN],
		   const uint8_t *aad, size_t aad_len,
		   const uint8_t *ct, size_t ct_len, const uint8_t tag[PX_TAG_LEN], uint8_t *pt)
{
	unsigned char stream[16 * SHORT_KEYSTREAM_BLOCKS];
	px_status	status;

	if (!short_keystream(aead, nonce, ct_len, stream))
	{
		px_wipe(pt, ct_len);
		return PX_ERR_CRYPTO;
	}
	status = open_with_stream(aead, stream, aad, aad_len, ct, ct_len, tag, pt);
	px_wipe_blocks(stream, 1 + (ct_len + 15) / 16);
	return status;
}

#endif							/* PX_GCM_CLMUL */

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
#if defined(PX_GCM_CLMUL)
	if (__builtin_cpu_supports("pclmul") && __builtin_cpu_supports("ssse3"))
	{
		unsigned char zero[16] = {0};
		unsigned char h[16];

		aes_block(zero, h, aead);
		if (!aead->failed)
		{
			ghash_powers(aead, h);
			aead->clmul = true;
		}
		OPENSSL_cleanse(h, sizeof(h));
		aead->failed = 0;
	}
#endif
	return aead;
}

/*
 * Turn the short-value path off (or back on where the CPU has it) so the
 * unit tests hold both paths to the same vectors; returns whether it is on.
 */
bool
px_gcm_short_path(px_aead *aead, bool enable)
{
#if defined(PX_GCM_CLMUL)
	aead->clmul = enable && __builtin_cpu_supports("pclmul") &&
		__builtin_cpu_supports("ssse3");
#else
	(void) enable;
#endif
	return aead->clmul;
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
	/* the powers of H and the batch's keystream */
	OPENSSL_cleanse(aead, sizeof(*aead));
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

	aead->nprecomputed = 0;
	if (n > PRECOMPUTED_BLOCKS)
		return;
	for (i = 0; i < n; i++)
		write_counter(aead->counters + 16 * i, nonce, (uint32_t) (i + 1));
	if (px_aes_blocks(aead->ecb, aead->counters, aead->keystream, (size_t) (16 * n)))
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
	px_status	status;

#if defined(PX_GCM_CLMUL)
	if (aead->clmul && pt_len <= SHORT_TEXT_MAX && aad_len <= SHORT_AAD_MAX)
		return seal_short(aead, nonce, aad, aad_len, pt, pt_len, ct, tag);
#endif
	status = start(aead, nonce, aad, aad_len, pt_len);

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

/*
 * Seal under a fresh nonce from the CSPRNG (written to nonce), as
 * px_gcm_seal.  Short values take a nonce from the current batch with its
 * keystream computed ahead; the batch's unused keystream is as sensitive
 * as the key it came from, lives beside it and is wiped as it is used.
 */
px_status
px_gcm_seal_fresh(px_aead *aead, px_nonce_pool *pool, long owner,
				  const uint8_t *aad, size_t aad_len,
				  const uint8_t *pt, size_t pt_len,
				  uint8_t nonce[PX_NONCE_LEN], uint8_t *ct, uint8_t tag[PX_TAG_LEN])
{
	px_status	status;

#if defined(PX_GCM_CLMUL)
	if (aead->clmul && pt_len <= FRESH_TEXT_MAX && aad_len <= SHORT_AAD_MAX)
	{
		int			i;

		if ((aead->fresh_owner != owner || aead->fresh_next >= FRESH_BATCH) &&
			!fresh_refill(aead, pool, owner))
		{
			px_wipe(ct, pt_len);
			return PX_ERR_RANDOM;
		}
		i = aead->fresh_next++;
		memcpy(nonce, aead->fresh_nonce[i], PX_NONCE_LEN);
		seal_with_stream(aead, aead->fresh_stream[i], aad, aad_len, pt, pt_len, ct, tag);
		px_wipe_blocks(aead->fresh_stream[i], FRESH_BLOCKS);
		memset(aead->fresh_nonce[i], 0, PX_NONCE_LEN);
		return PX_OK;
	}
#endif
	status = px_nonce_next(pool, owner, nonce);
	if (status != PX_OK)
	{
		px_wipe(ct, pt_len);
		return status;
	}
	return px_gcm_seal(aead, nonce, aad, aad_len, pt, pt_len, ct, tag);
}

px_status
px_gcm_open(px_aead *aead, const uint8_t nonce[PX_NONCE_LEN],
			const uint8_t *aad, size_t aad_len,
			const uint8_t *ct, size_t ct_len,
			const uint8_t tag[PX_TAG_LEN], uint8_t *pt)
{
	px_status	status;

#if defined(PX_GCM_CLMUL)
	if (aead->clmul && ct_len <= SHORT_TEXT_MAX && aad_len <= SHORT_AAD_MAX)
		return open_short(aead, nonce, aad, aad_len, ct, ct_len, tag, pt);
#endif
	status = start(aead, nonce, aad, aad_len, ct_len);

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
