/*
 * siv.c
 *		AES-SIV (RFC 5297): deterministic authenticated encryption.
 *
 * Built from OpenSSL's AES through two EVP AES-ECB contexts keyed once (K1
 * for S2V's CMAC, K2 for counter mode); the composition follows RFC 5297
 * section 2.  Why not EVP's "AES-256-SIV" cipher: on OpenSSL 3.0 an SIV
 * context cannot be re-initialised for a new message without its key (the
 * result is wrong), and a fresh context per value costs about 0.8 us to
 * open, several times a whole table row.  test/unit/test_core.c checks this
 * code against RFC 5297's vectors and against EVP "AES-256-SIV" on random
 * inputs, so the two stay byte-for-byte interchangeable.
 */
#include "px_core.h"
#include "px_block.h"

#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define BLOCK 16
#define CTR_BATCH 16

struct px_siv
{
	EVP_CIPHER_CTX *mac;		/* AES(K1), for CMAC */
	EVP_CIPHER_CTX *mac_dec;	/* AES^-1(K1), for checking a tag */
	EVP_CIPHER_CTX *ctr;		/* AES(K2), for counter mode */
	uint8_t		k1sub[BLOCK];	/* CMAC subkeys */
	uint8_t		k2sub[BLOCK];
	uint8_t		d0[BLOCK];		/* CMAC(K1, 0^128): S2V's constant start */

	/*
	 * S2V's state after a single associated-data string, for the last one
	 * seen: an envelope's header is the same for every value under a key
	 * version, so its CMAC need not be recomputed value after value.
	 */
	int			ad_memo_valid;
	size_t		ad_memo_len;
	uint8_t		ad_memo[32];
	uint8_t		ad_memo_d[BLOCK];
};

static inline int
aes(EVP_CIPHER_CTX *ctx, const uint8_t *in, uint8_t *out, size_t len)
{
	return px_aes_blocks(ctx, in, out, len);
}

static void
xor_block(uint8_t *dst, const uint8_t *src)
{
	uint64_t	a[2];
	uint64_t	b[2];

	memcpy(a, dst, BLOCK);
	memcpy(b, src, BLOCK);
	a[0] ^= b[0];
	a[1] ^= b[1];
	memcpy(dst, a, BLOCK);
}

/* Doubling in GF(2^128), RFC 5297 section 2.3. */
static void
dbl(uint8_t b[BLOCK])
{
	uint8_t		carry = b[0] >> 7;
	int			i;

	for (i = 0; i < BLOCK - 1; i++)
		b[i] = (uint8_t) ((b[i] << 1) | (b[i + 1] >> 7));
	b[BLOCK - 1] = (uint8_t) ((b[BLOCK - 1] << 1) ^ (carry ? 0x87 : 0));
}

/* CMAC's last step (RFC 4493): chaining value x, final block of n bytes. */
static int
cmac_finish(px_siv *s, uint8_t x[BLOCK], const uint8_t *final, size_t n, uint8_t out[BLOCK])
{
	uint8_t		last[BLOCK];
	int			ok;

	memcpy(last, final, n);
	if (n == BLOCK)
		xor_block(last, s->k1sub);
	else
	{
		last[n] = 0x80;
		memset(last + n + 1, 0, BLOCK - n - 1);
		xor_block(last, s->k2sub);
	}
	xor_block(x, last);
	ok = aes(s->mac, x, out, BLOCK);
	OPENSSL_cleanse(last, sizeof(last));
	return ok;
}

/*
 * CMAC(K1, msg); if xorend is given (msg_len >= 16), its 16 bytes are
 * XORed into the last 16 bytes of msg first (S2V's "xorend").
 */
static int
cmac(px_siv *s, const uint8_t *msg, size_t len, const uint8_t *xorend, uint8_t out[BLOCK])
{
	uint8_t		x[BLOCK] = {0};
	uint8_t		block[BLOCK];
	size_t		nblocks = len == 0 ? 1 : (len + BLOCK - 1) / BLOCK;
	size_t		xor_from = xorend ? len - BLOCK : len;
	size_t		b;
	size_t		i;
	int			ok;

	for (b = 0; b + 1 < nblocks; b++)
	{
		size_t		off = b * BLOCK;

		if (off + BLOCK <= xor_from)
			xor_block(x, msg + off);
		else
		{
			memcpy(block, msg + off, BLOCK);
			for (i = 0; i < BLOCK; i++)
				if (off + i >= xor_from)
					block[i] ^= xorend[off + i - xor_from];
			xor_block(x, block);
		}
		if (!aes(s->mac, x, x, BLOCK))
			return 0;
	}
	{
		size_t		off = b * BLOCK;
		size_t		n = len - off;

		memcpy(block, msg + off, n);
		for (i = 0; i < n; i++)
			if (off + i >= xor_from)
				block[i] ^= xorend[off + i - xor_from];
		ok = cmac_finish(s, x, block, n, out);
	}
	OPENSSL_cleanse(block, sizeof(block));
	return ok;
}

/* S2V over the associated-data strings and the plaintext, RFC 5297 2.4. */
static int
s2v(px_siv *s, const uint8_t *const *ad, const size_t *ad_len, int n_ad,
	const uint8_t *pt, size_t pt_len, uint8_t v[BLOCK])
{
	uint8_t		d[BLOCK];
	uint8_t		mac[BLOCK];
	int			i;
	int			ok = 1;

	if (n_ad == 1 && s->ad_memo_valid && s->ad_memo_len == ad_len[0] &&
		memcmp(s->ad_memo, ad[0], ad_len[0]) == 0)
		memcpy(d, s->ad_memo_d, BLOCK);
	else
	{
		memcpy(d, s->d0, BLOCK);
		for (i = 0; i < n_ad && ok; i++)
		{
			ok = cmac(s, ad[i], ad_len[i], NULL, mac);
			dbl(d);
			xor_block(d, mac);
		}
		if (!ok)
			return 0;
		if (n_ad == 1 && ad_len[0] <= sizeof(s->ad_memo))
		{
			memset(s->ad_memo, 0, sizeof(s->ad_memo));
			memcpy(s->ad_memo, ad[0], ad_len[0]);
			memcpy(s->ad_memo_d, d, BLOCK);
			s->ad_memo_len = ad_len[0];
			s->ad_memo_valid = 1;
		}
	}
	if (pt_len >= BLOCK)
		ok = cmac(s, pt, pt_len, d, v);
	else
	{
		uint8_t		t[BLOCK];

		dbl(d);
		memcpy(t, pt, pt_len);
		t[pt_len] = 0x80;
		memset(t + pt_len + 1, 0, BLOCK - pt_len - 1);
		xor_block(t, d);
		/* A full block with the K1 subkey: CMAC of exactly 16 bytes. */
		ok = cmac(s, t, BLOCK, NULL, v);
		OPENSSL_cleanse(t, sizeof(t));
	}
	OPENSSL_cleanse(d, sizeof(d));
	return ok;
}

/* Counter mode from Q = V with bits 63 and 31 cleared, 128-bit counter. */
static int
siv_ctr(px_siv *s, const uint8_t v[BLOCK], const uint8_t *in, uint8_t *out, size_t len)
{
	uint8_t		q[BLOCK];
	uint8_t		counters[BLOCK * CTR_BATCH];
	uint8_t		stream[BLOCK * CTR_BATCH];
	size_t		done = 0;
	size_t		used = 0;
	int			ok = 1;

	memcpy(q, v, BLOCK);
	q[8] &= 0x7f;
	q[12] &= 0x7f;
	while (done < len && ok)
	{
		size_t		nblocks = (len - done + BLOCK - 1) / BLOCK;
		size_t		i;
		size_t		n;

		if (nblocks > CTR_BATCH)
			nblocks = CTR_BATCH;
		for (i = 0; i < nblocks; i++)
		{
			int			k;

			memcpy(counters + BLOCK * i, q, BLOCK);
			for (k = BLOCK - 1; k >= 0 && ++q[k] == 0; k--)
				;
		}
		ok = aes(s->ctr, counters, stream, BLOCK * nblocks);
		if (BLOCK * nblocks > used)
			used = BLOCK * nblocks;
		n = len - done < BLOCK * nblocks ? len - done : BLOCK * nblocks;
		for (i = 0; ok && i < n; i++)
			out[done + i] = in[done + i] ^ stream[i];
		done += n;
	}
	OPENSSL_cleanse(stream, used);
	return ok;
}

/*
 * Short values (the common case: an e-mail, a national id) take a path
 * built for how the CPU runs it.  AES-NI reads its 16-byte input with one
 * load, and a CPU forwards a pending store to a load only when one store
 * covers the load: a block assembled from smaller stores just before (the
 * padding byte, S2V's "xorend", a counter) stalled each such load, which
 * cost more than the rest of the short path.  So every block AES or CMAC
 * reads is written with one 16-byte store, or well before it is read: what
 * turns the plaintext into S2V's last string (D at its place, the padding)
 * is laid out before counter mode runs.  Temporaries live in one scratch
 * structure, wiped once; a partial last block is loaded and stored with
 * the overlapping fixed-size accesses of px_block.h, not byte by byte.
 * x86-64 (SSE2) only; elsewhere every value takes the general path.
 *
 * Opening checks the tag without computing it: V = AES(K1, X ^ M_last ^
 * K'), where X is CMAC's chaining value before the last block, holds
 * exactly when X = AES^-1(K1, V) ^ M_last ^ K', AES being a permutation.
 * AES^-1(K1, V) needs nothing but the envelope, so it runs beside counter
 * mode instead of after the plaintext: a two-block value waits for two AES
 * calls in sequence, not three.  Same construction, same results: the
 * unit tests hold both paths to RFC 5297's vectors and to EVP's
 * AES-256-SIV.
 */
#if defined(PX_BLOCK_SSE)
#define SHORT_MSG 64

typedef struct short_scratch
{
	uint8_t		m[SHORT_MSG + BLOCK];	/* S2V's last string, "xorend" and padding applied */
	uint8_t		dz[SHORT_MSG + BLOCK];	/* plaintext xor dz = m */
	uint8_t		stream[SHORT_MSG];
	uint8_t		x[BLOCK];
	uint8_t		d[BLOCK];
	uint8_t		vdec[BLOCK];	/* AES^-1(K1, V): X ^ M_last ^ K' of an authentic value */
	/* not secret (derived from the tag), so not wiped: */
	uint8_t		counters[SHORT_MSG];
} short_scratch;


static inline __m128i
load16(const uint8_t *p)
{
	return _mm_loadu_si128((const __m128i *) p);
}

static inline void
store16(uint8_t *p, __m128i v)
{
	_mm_storeu_si128((__m128i *) p, v);
}

/* S2V's state D after the one associated-data string (memoized per key). */
static int
s2v_ad(px_siv *s, const uint8_t *ad, size_t ad_len, uint8_t d[BLOCK])
{
	uint8_t		mac[BLOCK];

	/* the memo is zero past its length, as load_block pads */
	if (s->ad_memo_valid && s->ad_memo_len == ad_len &&
		(ad_len <= BLOCK ? px_blocks_equal(load_block(ad, ad_len), load16(s->ad_memo))
		 : memcmp(s->ad_memo, ad, ad_len) == 0))
	{
		memcpy(d, s->ad_memo_d, BLOCK);
		return 1;
	}
	if (!cmac(s, ad, ad_len, NULL, mac))
		return 0;
	memcpy(d, s->d0, BLOCK);
	dbl(d);
	xor_block(d, mac);
	if (ad_len <= sizeof(s->ad_memo))
	{
		memset(s->ad_memo, 0, sizeof(s->ad_memo));
		memcpy(s->ad_memo, ad, ad_len);
		memcpy(s->ad_memo_d, d, BLOCK);
		s->ad_memo_len = ad_len;
		s->ad_memo_valid = 1;
	}
	return 1;
}

/* Blocks of S2V's last string for a plaintext of len bytes (RFC 5297 2.4). */
static inline size_t
m_blocks(size_t len)
{
	return len <= BLOCK ? 1 : (len + BLOCK - 1) / BLOCK;
}

/*
 * Wipe what a value of len bytes left in the scratch: the blocks of m, dz
 * and stream it used, x and d (the counters derive from the tag, which is
 * stored in the envelope).  Which blocks were used depends on the length
 * only, which the envelope makes public.
 */
static inline void
wipe_scratch(short_scratch *sc, size_t len)
{
	size_t		n = m_blocks(len);

	px_wipe_blocks(sc->m, n);
	px_wipe_blocks(sc->dz, n);
	px_wipe_blocks(sc->stream, (len + BLOCK - 1) / BLOCK);
	px_wipe_blocks(sc->x, 1);
	px_wipe_blocks(sc->d, 1);
	px_wipe_blocks(sc->vdec, 1);
}

/*
 * Lay out sc->dz so that plaintext xor dz is S2V's last string: with len
 * >= 16, D xored into the last 16 bytes ("xorend") and, for a partial last
 * block, 0x80 after the text; with len < 16, pad(plaintext) xor dbl(D).
 */
static void
prepare_dz(short_scratch *sc, size_t len)
{
	/* all of it, a constant size: a few stores, where a variable-length memset is a call */
	memset(sc->dz, 0, sizeof(sc->dz));
	if (len >= BLOCK)
	{
		memcpy(sc->dz + len - BLOCK, sc->d, BLOCK);
		if (len % BLOCK != 0)
			sc->dz[len] = 0x80;
	}
	else
	{
		dbl(sc->d);
		memcpy(sc->dz, sc->d, BLOCK);
		sc->dz[len] ^= 0x80;
	}
}

/*
 * sc->m: pt xor sc->dz over the text, sc->dz over the padding after it
 * (a partial or empty last block: the text zero-padded, xor dz).
 */
static void
fill_m(short_scratch *sc, const uint8_t *pt, size_t len)
{
	size_t		full = len / BLOCK;
	size_t		i;

	for (i = 0; i < full; i++)
		store16(sc->m + BLOCK * i, _mm_xor_si128(load16(pt + BLOCK * i), load16(sc->dz + BLOCK * i)));
	if (full < m_blocks(len))
		store16(sc->m + BLOCK * full, _mm_xor_si128(load_block(pt + BLOCK * full, len % BLOCK),
													load16(sc->dz + BLOCK * full)));
}

/* CMAC(K1, sc->m): the last block is complete (K1') unless padded (K2'). */
static int
cmac_m(px_siv *s, short_scratch *sc, size_t len, uint8_t out[BLOCK])
{
	size_t		n = m_blocks(len);
	bool		padded = len > BLOCK && len % BLOCK != 0;
	__m128i		x = _mm_setzero_si128();
	size_t		b;

	for (b = 0; b + 1 < n; b++)
	{
		store16(sc->x, _mm_xor_si128(x, load16(sc->m + BLOCK * b)));
		if (!aes(s->mac, sc->x, sc->x, BLOCK))
			return 0;
		x = load16(sc->x);
	}
	x = _mm_xor_si128(x, load16(sc->m + BLOCK * b));
	store16(sc->x, _mm_xor_si128(x, load16(padded ? s->k2sub : s->k1sub)));
	return aes(s->mac, sc->x, out, BLOCK);
}

/* Counter mode's keystream for len bytes into sc->stream (RFC 5297 2.5/2.6). */
static int
keystream(px_siv *s, const uint8_t v[BLOCK], short_scratch *sc, size_t len)
{
	size_t		nblocks = (len + BLOCK - 1) / BLOCK;
	uint64_t	hi;
	uint64_t	lo;
	size_t		i;

	/* V as two big-endian 64-bit halves (SSE2 means x86: little-endian) */
	memcpy(&hi, v, 8);
	memcpy(&lo, v + 8, 8);
	hi = __builtin_bswap64(hi);
	lo = __builtin_bswap64(lo);
	lo &= ~((UINT64_C(1) << 63) | (UINT64_C(1) << 31));	/* Q: bits 63 and 31 cleared */
	for (i = 0; i < nblocks; i++)
	{
		store16(sc->counters + BLOCK * i,
				_mm_set_epi64x((long long) __builtin_bswap64(lo), (long long) __builtin_bswap64(hi)));
		if (++lo == 0)
			hi++;
	}
	return nblocks == 0 || aes(s->ctr, sc->counters, sc->stream, BLOCK * nblocks);
}

static int
seal_short(px_siv *s, const uint8_t *ad, size_t ad_len, const uint8_t *pt, size_t len,
		   uint8_t v[BLOCK], uint8_t *ct, short_scratch *sc)
{
	size_t		full = len / BLOCK;
	size_t		i;

	if (!s2v_ad(s, ad, ad_len, sc->d))
		return 0;
	prepare_dz(sc, len);
	fill_m(sc, pt, len);
	if (!cmac_m(s, sc, len, v) || !keystream(s, v, sc, len))
		return 0;
	/* pt and ct may be the same buffer: each block is read before it is written */
	for (i = 0; i < full; i++)
		store16(ct + BLOCK * i, _mm_xor_si128(load16(pt + BLOCK * i), load16(sc->stream + BLOCK * i)));
	if (len % BLOCK != 0)
		store_block(ct + BLOCK * full,
					_mm_xor_si128(load_block(pt + BLOCK * full, len % BLOCK),
								  load16(sc->stream + BLOCK * full)), len % BLOCK);
	return 1;
}

/*
 * Open into pt; *authentic says whether V is the value's tag (see above).
 * Returns 0 when an AES call fails.
 */
static int
open_short(px_siv *s, const uint8_t *ad, size_t ad_len, const uint8_t v[BLOCK],
		   const uint8_t *ct, size_t len, uint8_t *pt, bool *authentic, short_scratch *sc)
{
	size_t		full = len / BLOCK;
	size_t		n = m_blocks(len);
	bool		padded = len > BLOCK && len % BLOCK != 0;
	__m128i		x = _mm_setzero_si128();
	size_t		i;

	/* first: it depends on nothing that follows, so its latency overlaps theirs */
	if (!aes(s->mac_dec, v, sc->vdec, BLOCK))
		return 0;
	/* laid out first, so that its stores are done when its blocks are read */
	if (!s2v_ad(s, ad, ad_len, sc->d))
		return 0;
	prepare_dz(sc, len);
	if (!keystream(s, v, sc, len))
		return 0;
	/* the plaintext and S2V's last string together, whole blocks */
	for (i = 0; i < full; i++)
	{
		__m128i		p = _mm_xor_si128(load16(ct + BLOCK * i), load16(sc->stream + BLOCK * i));

		store16(pt + BLOCK * i, p);
		store16(sc->m + BLOCK * i, _mm_xor_si128(p, load16(sc->dz + BLOCK * i)));
	}
	/*
	 * A partial or empty last block: the keystream past the text is masked
	 * off, so what lies there in m is the padding of dz alone.
	 */
	if (full < m_blocks(len))
	{
		size_t		rem = len % BLOCK;
		__m128i		p = _mm_xor_si128(load_block(ct + BLOCK * full, rem),
									  _mm_and_si128(load16(sc->stream + BLOCK * full),
													px_block_mask(rem)));

		store_block(pt + BLOCK * full, p, rem);
		store16(sc->m + BLOCK * full, _mm_xor_si128(p, load16(sc->dz + BLOCK * full)));
	}
	/* CMAC's chain up to its last block (as cmac_m), then the check */
	for (i = 0; i + 1 < n; i++)
	{
		store16(sc->x, _mm_xor_si128(x, load16(sc->m + BLOCK * i)));
		if (!aes(s->mac, sc->x, sc->x, BLOCK))
			return 0;
		x = load16(sc->x);
	}
	*authentic = px_blocks_equal(x, _mm_xor_si128(_mm_xor_si128(load16(sc->vdec),
																load16(sc->m + BLOCK * (n - 1))),
												  load16(padded ? s->k2sub : s->k1sub)));
	return 1;
}
#endif							/* PX_BLOCK_SSE */

px_siv *
px_siv_new(const uint8_t *key, size_t key_len)
{
	const EVP_CIPHER *cipher;
	px_siv	   *s;
	uint8_t		zero[BLOCK] = {0};
	size_t		half = key_len / 2;

	if (key_len == 32)
		cipher = EVP_aes_128_ecb();
	else if (key_len == 64)
		cipher = EVP_aes_256_ecb();
	else
		return NULL;
	s = calloc(1, sizeof(px_siv));
	if (s == NULL)
		return NULL;
	s->mac = EVP_CIPHER_CTX_new();
	s->mac_dec = EVP_CIPHER_CTX_new();
	s->ctr = EVP_CIPHER_CTX_new();
	if (s->mac == NULL || s->mac_dec == NULL || s->ctr == NULL ||
		EVP_EncryptInit_ex(s->mac, cipher, NULL, key, NULL) != 1 ||
		EVP_DecryptInit_ex(s->mac_dec, cipher, NULL, key, NULL) != 1 ||
		EVP_CIPHER_CTX_set_padding(s->mac_dec, 0) != 1 ||
		EVP_EncryptInit_ex(s->ctr, cipher, NULL, key + half, NULL) != 1 ||
		EVP_CIPHER_CTX_set_padding(s->mac, 0) != 1 ||
		EVP_CIPHER_CTX_set_padding(s->ctr, 0) != 1 ||
		!aes(s->mac, zero, s->k1sub, BLOCK))
	{
		px_siv_free(s);
		return NULL;
	}
	/* L = AES(K1, 0); K1' = dbl(L); K2' = dbl(K1'); D0 = CMAC(K1, 0^128). */
	dbl(s->k1sub);
	memcpy(s->k2sub, s->k1sub, BLOCK);
	dbl(s->k2sub);
	if (!cmac(s, zero, BLOCK, NULL, s->d0))
	{
		px_siv_free(s);
		return NULL;
	}
	return s;
}

void
px_siv_free(px_siv *s)
{
	if (s == NULL)
		return;
	EVP_CIPHER_CTX_free(s->mac);
	EVP_CIPHER_CTX_free(s->mac_dec);
	EVP_CIPHER_CTX_free(s->ctr);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

px_status
px_siv_seal(px_siv *s, const uint8_t *const *ad, const size_t *ad_len, int n_ad,
			const uint8_t *pt, size_t pt_len, uint8_t v[PX_SIV_TAG_LEN], uint8_t *ct)
{
	if (pt_len > PX_MAX_PLAINTEXT)
		return PX_ERR_TOO_LONG;
#ifdef SHORT_MSG
	if (n_ad == 1 && pt_len <= SHORT_MSG)
	{
		short_scratch sc;
		int			ok = seal_short(s, ad[0], ad_len[0], pt, pt_len, v, ct, &sc);

		wipe_scratch(&sc, pt_len);
		if (!ok)
		{
			OPENSSL_cleanse(ct, pt_len);
			return PX_ERR_CRYPTO;
		}
		return PX_OK;
	}
#endif
	if (!s2v(s, ad, ad_len, n_ad, pt, pt_len, v) || !siv_ctr(s, v, pt, ct, pt_len))
	{
		OPENSSL_cleanse(ct, pt_len);
		return PX_ERR_CRYPTO;
	}
	return PX_OK;
}

px_status
px_siv_open(px_siv *s, const uint8_t *const *ad, const size_t *ad_len, int n_ad,
			const uint8_t v[PX_SIV_TAG_LEN], const uint8_t *ct, size_t ct_len, uint8_t *pt)
{
	uint8_t		check[BLOCK];

	if (ct_len > PX_MAX_PLAINTEXT)
		return PX_ERR_TOO_LONG;
#ifdef SHORT_MSG
	if (n_ad == 1 && ct_len <= SHORT_MSG)
	{
		short_scratch sc;
		bool		authentic = false;
		int			ok = open_short(s, ad[0], ad_len[0], v, ct, ct_len, pt, &authentic, &sc);

		wipe_scratch(&sc, ct_len);
		if (!ok)
		{
			OPENSSL_cleanse(pt, ct_len);
			return PX_ERR_CRYPTO;
		}
		if (!authentic)
		{
			OPENSSL_cleanse(pt, ct_len);	/* never hand back unauthenticated plaintext */
			return PX_ERR_AUTH;
		}
		return PX_OK;
	}
#endif
	if (!siv_ctr(s, v, ct, pt, ct_len) || !s2v(s, ad, ad_len, n_ad, pt, ct_len, check))
	{
		OPENSSL_cleanse(pt, ct_len);
		return PX_ERR_CRYPTO;
	}
	if (CRYPTO_memcmp(check, v, BLOCK) != 0)
	{
		OPENSSL_cleanse(pt, ct_len);	/* never hand back unauthenticated plaintext */
		return PX_ERR_AUTH;
	}
	return PX_OK;
}
