/*
 * px_block.h
 *		16-byte blocks on the short-value paths of aead.c (GCM) and siv.c
 *		(AES-SIV): OpenSSL's AES over whole blocks through an EVP ECB
 *		context keyed once, loading and storing a partial block, wiping
 *		the few blocks of keystream a value used.  Core-internal.
 *
 * Why EVP_Cipher and not EVP_EncryptUpdate: both reach the same provider
 * AES code (AES-NI where present), but EVP_EncryptUpdate first runs
 * OpenSSL 3's generic block-buffering layer (partial-block carry-over,
 * padding bookkeeping) that whole blocks with padding off never need: about
 * 120 instructions per call, of some 250, for the two or three blocks of a
 * short value.  EVP_Cipher on a context initialised for encryption hands
 * the blocks straight to the provider's one-shot cipher function.  Its
 * return value is the byte count (OpenSSL 3) or 1 (1.1.1) on success and
 * -1 or 0 on failure, hence "> 0".
 */
#ifndef PX_BLOCK_H
#define PX_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* AES(K) of len bytes (a whole number of blocks, at most INT_MAX); false on failure. */
static inline bool
px_aes_blocks(EVP_CIPHER_CTX *ecb, const unsigned char *in, unsigned char *out, size_t len)
{
	return EVP_Cipher(ecb, out, in, (unsigned int) len) > 0;
}

/*
 * Clear nblocks 16-byte blocks at p (keystream, S2V's state): as
 * OPENSSL_cleanse, a store the compiler may not drop (the empty asm
 * statement takes p and clobbers memory, so the stores must be done
 * before it), but inline: OPENSSL_cleanse of a few blocks costs a call
 * and a byte loop per value.  The statement sits inside the loop so that
 * the compiler cannot turn the loop into a memset call or a "rep stos",
 * whose start-up costs more than the two to five stores a short value
 * needs (perf, AES-SIV open of a 22-byte value on AMD EPYC: three such
 * "rep stos" took half of the open's own samples).
 */
static inline void
px_wipe_blocks(void *p, size_t nblocks)
{
	unsigned char *b = (unsigned char *) p;
	size_t		i;

	for (i = 0; i < nblocks; i++)
	{
#if defined(__SSE2__)
		_mm_storeu_si128((__m128i *) (b + 16 * i), _mm_setzero_si128());
#else
		memset(b + 16 * i, 0, 16);
#endif
#if defined(__GNUC__)
		__asm__ __volatile__("" : : "r"(b) : "memory");
#endif
	}
#if !defined(__GNUC__)
	OPENSSL_cleanse(p, 16 * nblocks);
#endif
}

/*
 * Partial blocks and comparisons with SSE2 registers, on x86-64 (where
 * _mm_cvtsi128_si64 exists): PX_BLOCK_SSE says they are there.
 */
#if defined(__SSE2__) && defined(__x86_64__)
#define PX_BLOCK_SSE 1

/*
 * The first r (0..8) bytes at p as a little-endian integer, zero above.
 * Overlapping fixed-size loads instead of a byte copy into a padded buffer:
 * a 16-byte load of bytes just stored one by one cannot be forwarded by
 * the CPU and stalls (measured: half of GHASH's time).  The branches
 * depend only on the length, which the envelope makes public.
 */
static inline uint64_t
load_upto8(const unsigned char *p, size_t r)
{
	uint32_t	a,
				b;

	if (r >= 4)
	{
		memcpy(&a, p, 4);
		memcpy(&b, p + r - 4, 4);
		return (uint64_t) a | ((uint64_t) b << (8 * (r - 4)));
	}
	if (r == 0)
		return 0;
	return (uint64_t) p[0] | ((uint64_t) p[r >> 1] << (8 * (r >> 1))) |
		((uint64_t) p[r - 1] << (8 * (r - 1)));
}

/* A block of len (0..16) bytes at p, zero-padded; reads no byte past p[len-1]. */
static inline __m128i
load_block(const unsigned char *p, size_t len)
{
	uint64_t	lo;

	if (len == 16)
		return _mm_loadu_si128((const __m128i *) p);
	if (len >= 8)
	{
		memcpy(&lo, p, 8);
		return _mm_set_epi64x((long long) load_upto8(p + 8, len - 8), (long long) lo);
	}
	return _mm_set_epi64x(0, (long long) load_upto8(p, len));
}

static inline void
store_upto8(unsigned char *p, uint64_t x, size_t r)
{
	uint32_t	w;
	uint16_t	h;

	if (r >= 4)
	{
		w = (uint32_t) (x >> (8 * (r - 4)));
		memcpy(p + r - 4, &w, 4);
		w = (uint32_t) x;
		memcpy(p, &w, 4);
	}
	else if (r >= 2)
	{
		h = (uint16_t) (x >> (8 * (r - 2)));
		memcpy(p + r - 2, &h, 2);
		h = (uint16_t) x;
		memcpy(p, &h, 2);
	}
	else if (r == 1)
		p[0] = (unsigned char) x;
}

/* Store the first len (0..16) bytes of v at p. */
static inline void
store_block(unsigned char *p, __m128i v, size_t len)
{
	uint64_t	lo = (uint64_t) _mm_cvtsi128_si64(v);

	if (len == 16)
		_mm_storeu_si128((__m128i *) p, v);
	else if (len >= 8)
	{
		memcpy(p, &lo, 8);
		store_upto8(p + 8, (uint64_t) _mm_cvtsi128_si64(_mm_srli_si128(v, 8)), len - 8);
	}
	else
		store_upto8(p, lo, len);
}

/* A mask keeping a block's first len (0..16) bytes. */
static inline __m128i
px_block_mask(size_t len)
{
	static const unsigned char ones_then_zeros[32] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

	return _mm_loadu_si128((const __m128i *) (ones_then_zeros + 16 - len));
}

/* Whether two blocks are equal, in constant time (one branch on the result). */
static inline bool
px_blocks_equal(__m128i a, __m128i b)
{
	return _mm_movemask_epi8(_mm_cmpeq_epi8(a, b)) == 0xffff;
}
#endif							/* PX_BLOCK_SSE */

#endif							/* PX_BLOCK_H */
