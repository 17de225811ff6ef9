/*
 * test_core.c
 *		Unit tests of the backend-free core (src/core), in TAP format.
 *
 * Build and run:  make test/unit/test_core && test/unit/test_core
 * Output: "ok N - ..." / "not ok N - ..." per check, then "1..N", then a
 * summary line; the exit status is 0 only if every check passed.
 *
 * AES-256-GCM known answers: test cases 13-16 of McGrew & Viega, "The
 * Galois/Counter Mode of Operation (GCM)" (the 256-bit-key cases).  The
 * bytes below were compared with the copy in OpenSSL's
 * test/recipes/30-test_evp_data/evpciph_aes_common.txt (openssl/openssl,
 * commit 03dd62ed8f55d09970a4fa767250f9013ad3018c, the four "aes-256-gcm"
 * entries that follow the aes-192-gcm ones) and with GNU Nettle's
 * testsuite/gcm-test.c, and reproduced independently with Python
 * cryptography's AESGCM (ciphertext || tag identical for all four).
 * AES-SIV: RFC 5297 appendix A.1 and A.2.  HKDF: RFC 5869 test cases 1
 * and 3.  Values marked "python" were computed independently with Python's
 * hashlib/hmac/cryptography.
 */
#include "px_core.h"
#include "px_detect.h"
#include "px_dict.h"
#include "px_mask.h"
#include "px_ordered.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <openssl/evp.h>

static int checks = 0;
static int failures = 0;

#if defined(__GNUC__)
static void report(int ok, const char *fmt,...) __attribute__((format(printf, 2, 3)));
#endif

static void
report(int ok, const char *fmt,...)
{
	va_list		ap;

	checks++;
	if (!ok)
		failures++;
	printf("%s %d - ", ok ? "ok" : "not ok", checks);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* CHECK(condition, printf-style description...) */
#define CHECK(cond, ...) report((cond) ? 1 : 0, __VA_ARGS__)

static size_t
unhex(const char *hex, uint8_t *out)
{
	size_t		n = strlen(hex) / 2;

	if (px_hex_decode(hex, 2 * n, out, n) != PX_OK)
	{
		fprintf(stderr, "bad hex in test: %s\n", hex);
		exit(2);
	}
	return n;
}

static int
all_zero(const uint8_t *buf, size_t len)
{
	size_t		i;

	for (i = 0; i < len; i++)
		if (buf[i] != 0)
			return 0;
	return 1;
}

static void *
xmalloc(size_t n)
{
	void	   *p = malloc(n == 0 ? 1 : n);

	if (p == NULL)
	{
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	return p;
}

/* ------------------------------------------------------------------------
 * AES-256-GCM
 * ------------------------------------------------------------------------ */

typedef struct GcmVector
{
	const char *name;
	const char *key;
	const char *iv;
	const char *aad;
	const char *pt;
	const char *ct;
	const char *tag;
} GcmVector;

/* McGrew & Viega test cases 13-16; see the header comment for the sources. */
static const GcmVector gcm_vectors[] = {
	{"GCM test case 13",
		"0000000000000000000000000000000000000000000000000000000000000000",
		"000000000000000000000000", "", "", "",
	"530f8afbc74536b9a963b4f1c4cb738b"},
	{"GCM test case 14",
		"0000000000000000000000000000000000000000000000000000000000000000",
		"000000000000000000000000", "",
		"00000000000000000000000000000000",
		"cea7403d4d606b6e074ec5d3baf39d18",
	"d0d1c8a799996bf0265b98b5d48ab919"},
	{"GCM test case 15",
		"feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
		"cafebabefacedbaddecaf888", "",
		"d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
		"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
		"522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
		"8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
	"b094dac5d93471bdec1a502270e3cc6c"},
	{"GCM test case 16",
		"feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
		"cafebabefacedbaddecaf888",
		"feedfacedeadbeeffeedfacedeadbeefabaddad2",
		"d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
		"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
		"522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
		"8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
	"76fc6ece0f4e1768cddf8853bb2d551b"},
};

enum flip_target
{
	FLIP_CT, FLIP_TAG, FLIP_AAD, FLIP_NONCE
};

static const char *const flip_names[] = {"ciphertext", "tag", "AAD", "nonce"};

/*
 * Flip every bit of one input of px_gcm_open in turn.  Each open must
 * return PX_ERR_AUTH and leave the output buffer (pre-filled with 0xAA)
 * all zero, so no unauthenticated plaintext is handed back.  Returns the
 * number of bits tried; *bad counts the flips that were not handled so.
 */
static size_t
gcm_flip_all(px_aead *aead, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
			 const uint8_t *ct, size_t ct_len, const uint8_t *tag,
			 enum flip_target target, size_t *bad)
{
	uint8_t		n2[PX_NONCE_LEN], t2[PX_TAG_LEN];
	uint8_t    *a2 = xmalloc(aad_len);
	uint8_t    *c2 = xmalloc(ct_len);
	uint8_t    *out = xmalloc(ct_len);
	size_t		nbits;
	size_t		bit;

	switch (target)
	{
		case FLIP_CT:
			nbits = 8 * ct_len;
			break;
		case FLIP_TAG:
			nbits = 8 * PX_TAG_LEN;
			break;
		case FLIP_AAD:
			nbits = 8 * aad_len;
			break;
		default:
			nbits = 8 * PX_NONCE_LEN;
			break;
	}
	*bad = 0;
	for (bit = 0; bit < nbits; bit++)
	{
		uint8_t		mask = (uint8_t) (1u << (bit % 8));
		px_status	s;

		memcpy(n2, nonce, PX_NONCE_LEN);
		memcpy(t2, tag, PX_TAG_LEN);
		if (aad_len > 0)
			memcpy(a2, aad, aad_len);
		if (ct_len > 0)
			memcpy(c2, ct, ct_len);
		switch (target)
		{
			case FLIP_CT:
				c2[bit / 8] ^= mask;
				break;
			case FLIP_TAG:
				t2[bit / 8] ^= mask;
				break;
			case FLIP_AAD:
				a2[bit / 8] ^= mask;
				break;
			default:
				n2[bit / 8] ^= mask;
				break;
		}
		if (ct_len > 0)
			memset(out, 0xAA, ct_len);
		s = px_gcm_open(aead, n2, a2, aad_len, c2, ct_len, t2, out);
		if (s != PX_ERR_AUTH || !all_zero(out, ct_len))
			(*bad)++;
	}
	free(a2);
	free(c2);
	free(out);
	return nbits;
}

static void
gcm_negative(px_aead *aead, const char *name, const uint8_t *nonce,
			 const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len,
			 const uint8_t *tag)
{
	int			t;

	for (t = FLIP_CT; t <= FLIP_NONCE; t++)
	{
		size_t		bad;
		size_t		n = gcm_flip_all(aead, nonce, aad, aad_len, ct, ct_len, tag,
									 (enum flip_target) t, &bad);

		if (n == 0)
			continue;			/* no ciphertext or no AAD in this case */
		CHECK(bad == 0, "%s: each of the %zu single-bit flips of the %s gives PX_ERR_AUTH "
			  "and a zeroed output buffer", name, n, flip_names[t]);
	}
}

/*
 * Which GCM path the GCM tests take: the carry-less-multiply short-value
 * path where the CPU has it, then OpenSSL's GCM mode for every length.
 */
static bool gcm_short = true;

static const char *
gcm_path_label(void)
{
	return gcm_short ? "short path" : "general path";
}

static px_aead *
new_aead(const uint8_t key[32])
{
	px_aead    *aead = px_aead_new(key);

	if (aead != NULL)
		px_gcm_short_path(aead, gcm_short);
	return aead;
}

static void
test_gcm_vectors(void)
{
	size_t		i;

	for (i = 0; i < sizeof(gcm_vectors) / sizeof(gcm_vectors[0]); i++)
	{
		const GcmVector *v = &gcm_vectors[i];
		uint8_t		key[32], iv[12], aad[64], pt[64], ct[64], tag[16];
		uint8_t		out_ct[64], out_tag[16], out_pt[64];
		size_t		aad_len, pt_len;
		px_aead    *aead;

		unhex(v->key, key);
		unhex(v->iv, iv);
		aad_len = unhex(v->aad, aad);
		pt_len = unhex(v->pt, pt);
		unhex(v->ct, ct);
		unhex(v->tag, tag);
		aead = new_aead(key);
		CHECK(aead != NULL, "%s: px_aead_new accepts the key", v->name);
		if (aead == NULL)
			continue;

		memset(out_ct, 0, sizeof(out_ct));
		memset(out_tag, 0, sizeof(out_tag));
		CHECK(px_gcm_seal(aead, iv, aad, aad_len, pt, pt_len, out_ct, out_tag) == PX_OK &&
			  memcmp(out_ct, ct, pt_len) == 0 && memcmp(out_tag, tag, 16) == 0,
			  "%s (%s): seal gives the published ciphertext and tag", v->name, gcm_path_label());
		memset(out_pt, 0xAA, sizeof(out_pt));
		CHECK(px_gcm_open(aead, iv, aad, aad_len, ct, pt_len, tag, out_pt) == PX_OK &&
			  memcmp(out_pt, pt, pt_len) == 0,
			  "%s (%s): open gives the published plaintext", v->name, gcm_path_label());
		gcm_negative(aead, v->name, iv, aad, aad_len, ct, pt_len, tag);
		px_aead_free(aead);
	}
}

/*
 * Bit flips on random data with AAD, at a length that takes the short-value
 * path (< 64 bytes, precomputed keystream) and one that takes the batched
 * counter path; and a wrong key.
 */
static void
test_gcm_negative_random(void)
{
	static const size_t lengths[] = {20, 100};
	uint8_t		key[32], key2[32], nonce[12], aad[10], pt[100], ct[100], tag[16], out[100];
	px_aead    *aead;
	px_aead    *other;
	size_t		i;

	px_random_bytes(key, sizeof(key));
	memcpy(key2, key, sizeof(key));
	key2[31] ^= 0x01;
	aead = new_aead(key);
	other = new_aead(key2);
	for (i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++)
	{
		size_t		len = lengths[i];
		char		name[64];

		snprintf(name, sizeof(name), "GCM (%s), random %zu-byte plaintext, 10-byte AAD",
				 gcm_path_label(), len);
		px_random_bytes(nonce, sizeof(nonce));
		px_random_bytes(aad, sizeof(aad));
		px_random_bytes(pt, len);
		CHECK(px_gcm_seal(aead, nonce, aad, sizeof(aad), pt, len, ct, tag) == PX_OK &&
			  px_gcm_open(aead, nonce, aad, sizeof(aad), ct, len, tag, out) == PX_OK &&
			  memcmp(out, pt, len) == 0, "%s: round trip", name);
		gcm_negative(aead, name, nonce, aad, sizeof(aad), ct, len, tag);
		memset(out, 0xAA, sizeof(out));
		CHECK(px_gcm_open(other, nonce, aad, sizeof(aad), ct, len, tag, out) == PX_ERR_AUTH &&
			  all_zero(out, len), "%s: a key differing in one bit gives PX_ERR_AUTH and a zeroed output", name);
	}
	px_aead_free(aead);
	px_aead_free(other);
}

/*
 * Seal (nonce, aad, pt) with aead and with EVP AES-256-GCM under key: clear
 * *sealed unless ciphertext and tag agree, *opened unless aead opens EVP's
 * output (left in ct2, tag2) to pt.
 */
static void
gcm_alike_evp(px_aead *aead, const uint8_t key[32], const uint8_t nonce[PX_NONCE_LEN],
			  const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t len,
			  uint8_t *ct2, uint8_t tag2[16], int *sealed, int *opened)
{
	uint8_t		ct[200], tag[16], out[200];
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int			outl;

	if (px_gcm_seal(aead, nonce, aad, aad_len, pt, len, ct, tag) != PX_OK ||
		ctx == NULL ||
		EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1 ||
		(aad_len > 0 && EVP_EncryptUpdate(ctx, NULL, &outl, aad, (int) aad_len) != 1) ||
		EVP_EncryptUpdate(ctx, ct2, &outl, pt, (int) len) != 1 ||
		EVP_EncryptFinal_ex(ctx, ct2 + len, &outl) != 1 ||
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag2) != 1 ||
		memcmp(ct, ct2, len) != 0 || memcmp(tag, tag2, 16) != 0)
		*sealed = 0;
	memset(out, 0xAA, sizeof(out));
	if (px_gcm_open(aead, nonce, aad, aad_len, ct2, len, tag2, out) != PX_OK ||
		memcmp(out, pt, len) != 0)
		*opened = 0;
	EVP_CIPHER_CTX_free(ctx);
}

/*
 * GCM through the core agrees with OpenSSL's EVP AES-256-GCM on random
 * inputs: every plaintext length 0..130 with every AAD length 0..40 (both
 * sides of the short path's limits), sealing here and opening EVP's output.
 */
static void
test_gcm_against_evp(void)
{
	uint8_t		key[32], iv[12], aad[40], pt[200], ct2[200], tag2[16];
	px_aead    *aead;
	size_t		len;
	size_t		aad_len;
	int			sealed_alike = 1;
	int			opened_alike = 1;

	px_random_bytes(key, sizeof(key));
	aead = new_aead(key);
	for (len = 0; len <= 130; len++)
		for (aad_len = 0; aad_len <= sizeof(aad); aad_len++)
		{
			px_random_bytes(iv, sizeof(iv));
			px_random_bytes(aad, aad_len);
			px_random_bytes(pt, len);
			gcm_alike_evp(aead, key, iv, aad, aad_len, pt, len, ct2, tag2,
						  &sealed_alike, &opened_alike);
		}
	CHECK(sealed_alike, "GCM (%s) seals as OpenSSL EVP AES-256-GCM for plaintext lengths 0..130, AAD 0..40",
		  gcm_path_label());
	CHECK(opened_alike, "GCM (%s) opens OpenSSL EVP AES-256-GCM's output for plaintext lengths 0..130, AAD 0..40",
		  gcm_path_label());
	px_aead_free(aead);
}

/*
 * The short path keeps the GHASH of the AAD and length blocks per text
 * length for the last AAD (aead.c's ghash_tail): one key used with AADs
 * that alternate (two headers of one length, then AADs of changing
 * lengths, each AAD seen again after others) must seal as EVP and open
 * EVP's output for every text length 0..64 and each change of AAD.
 */
static void
test_gcm_tail_cache(void)
{
	uint8_t		key[32], aads[4][32], pt[64];
	size_t		aad_lens[4] = {10, 10, 0, 32};
	px_aead    *aead;
	int			round,
				sealed_alike = 1,
				opened_alike = 1,
				cases = 0;

	px_random_bytes(key, sizeof(key));
	px_random_bytes(aads[0], sizeof(aads[0]));
	memcpy(aads[1], aads[0], sizeof(aads[1]));
	aads[1][9] ^= 0x01;			/* another key version, as in a header */
	px_random_bytes(aads[2], sizeof(aads[2]));
	px_random_bytes(aads[3], sizeof(aads[3]));
	px_random_bytes(pt, sizeof(pt));
	aead = new_aead(key);
	for (round = 0; round < 4 * 65 * 2; round++)
	{
		int			which = round % 4;
		size_t		len = (size_t) (round / 8);
		const uint8_t *aad = aads[which];
		size_t		aad_len = aad_lens[which];
		uint8_t		nonce[PX_NONCE_LEN], ct2[64], tag2[16], out[64];

		px_random_bytes(nonce, sizeof(nonce));
		gcm_alike_evp(aead, key, nonce, aad, aad_len, pt, len, ct2, tag2,
					  &sealed_alike, &opened_alike);
		/* and the other header of the same length must not authenticate it */
		if (which < 2 && px_gcm_open(aead, nonce, aads[1 - which], aad_len, ct2, len, tag2,
									 out) != PX_ERR_AUTH)
			opened_alike = 0;
		cases++;
	}
	CHECK(sealed_alike && opened_alike,
		  "GCM (%s) seals and opens as EVP with AADs alternating on one key (two headers "
		  "of one length, lengths 0 and 32), every text length 0..64 (%d cases)",
		  gcm_path_label(), cases);
	px_aead_free(aead);
}

/*
 * Sealing under fresh nonces: every length round-trips and opens with EVP,
 * nonces do not repeat, and a forked child never reuses a nonce its parent
 * drew ahead (the short path keeps a batch of nonces with their keystream).
 */
static int
nonce_cmp(const void *a, const void *b)
{
	return memcmp(a, b, PX_NONCE_LEN);
}

static void
child_nonce(px_aead *aead, px_nonce_pool *pool, long owner, uint8_t nonce[PX_NONCE_LEN])
{
	int			fds[2];
	pid_t		pid;
	uint8_t		ct[20], tag[16];

	memset(nonce, 0, PX_NONCE_LEN);
	if (pipe(fds) != 0)
		return;
	pid = fork();
	if (pid == 0)
	{
		uint8_t		mine[PX_NONCE_LEN] = {0};

		px_gcm_seal_fresh(aead, pool, owner == 0 ? (long) getpid() : owner,
						  NULL, 0, (const uint8_t *) "child's value", 13, mine, ct, tag);
		if (write(fds[1], mine, sizeof(mine)) != (ssize_t) sizeof(mine))
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	if (pid > 0)
	{
		if (read(fds[0], nonce, PX_NONCE_LEN) != PX_NONCE_LEN)
			memset(nonce, 0, PX_NONCE_LEN);
		waitpid(pid, NULL, 0);
	}
	close(fds[0]);
}

static void
test_gcm_seal_fresh(void)
{
	enum
	{
		MANY = 3000
	};
	uint8_t		key[32], aad[10], pt[80], ct[80], tag[16], out[80], nonce[12];
	static uint8_t nonces[MANY][PX_NONCE_LEN];
	static px_nonce_pool pool;
	px_aead    *aead;
	size_t		len;
	int			round_trips = 1;
	int			distinct = 1;
	int			i;
	long		me = (long) getpid();
	uint8_t		parent_next[PX_NONCE_LEN], inherited[PX_NONCE_LEN], forked[PX_NONCE_LEN];

	px_random_bytes(key, sizeof(key));
	px_random_bytes(aad, sizeof(aad));
	aead = new_aead(key);
	for (len = 0; len <= 70; len++)
	{
		EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
		int			outl;

		px_random_bytes(pt, len);
		memset(out, 0xAA, sizeof(out));
		if (px_gcm_seal_fresh(aead, &pool, me, aad, sizeof(aad), pt, len, nonce, ct, tag) != PX_OK ||
			px_gcm_open(aead, nonce, aad, sizeof(aad), ct, len, tag, out) != PX_OK ||
			memcmp(out, pt, len) != 0 || ctx == NULL ||
			EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1 ||
			EVP_DecryptUpdate(ctx, NULL, &outl, aad, sizeof(aad)) != 1 ||
			EVP_DecryptUpdate(ctx, out, &outl, ct, (int) len) != 1 ||
			EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag) != 1 ||
			EVP_DecryptFinal_ex(ctx, out + len, &outl) != 1 || memcmp(out, pt, len) != 0)
			round_trips = 0;
		EVP_CIPHER_CTX_free(ctx);
	}
	CHECK(round_trips, "GCM (%s): sealing under fresh nonces round-trips and opens with EVP, lengths 0..70",
		  gcm_path_label());

	for (i = 0; i < MANY; i++)
		px_gcm_seal_fresh(aead, &pool, me, aad, sizeof(aad), pt, 20, nonces[i], ct, tag);
	qsort(nonces, MANY, PX_NONCE_LEN, nonce_cmp);
	for (i = 1; i < MANY; i++)
		if (memcmp(nonces[i - 1], nonces[i], PX_NONCE_LEN) == 0)
			distinct = 0;
	CHECK(distinct, "GCM (%s): %d fresh nonces are all distinct", gcm_path_label(), (int) MANY);

	/*
	 * A child that (wrongly) claimed its parent's identity would draw the
	 * parent's next nonce: this shows the state is inherited, so the check
	 * below can fail.  A child using its own pid draws another one.
	 */
	px_gcm_seal_fresh(aead, &pool, me, aad, sizeof(aad), pt, 20, nonce, ct, tag);
	child_nonce(aead, &pool, me, inherited);
	px_gcm_seal_fresh(aead, &pool, me, aad, sizeof(aad), pt, 20, parent_next, ct, tag);
	CHECK(memcmp(inherited, parent_next, PX_NONCE_LEN) == 0,
		  "GCM (%s): a forked child shares its parent's pending nonces (the hazard)", gcm_path_label());
	child_nonce(aead, &pool, 0, forked);
	px_gcm_seal_fresh(aead, &pool, me, aad, sizeof(aad), pt, 20, parent_next, ct, tag);
	CHECK(!all_zero(forked, PX_NONCE_LEN) && memcmp(forked, parent_next, PX_NONCE_LEN) != 0,
		  "GCM (%s): a forked child sealing under its own pid does not reuse its parent's next nonce",
		  gcm_path_label());
	px_aead_free(aead);
}

/* ------------------------------------------------------------------------
 * Envelope
 * ------------------------------------------------------------------------ */

static void
test_envelope(void)
{
	static const size_t lengths[] = {0, 1, 15, 16, 17, 1000, 1048576};
	uint8_t		key[32];
	px_aead    *aead;
	size_t		i;

	px_random_bytes(key, sizeof(key));
	aead = px_aead_new(key);
	for (i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++)
	{
		size_t		len = lengths[i];
		size_t		env_len = px_envelope_len(len);
		uint8_t    *pt = xmalloc(len);
		uint8_t    *env = xmalloc(env_len);
		uint8_t    *out = xmalloc(len);
		static px_nonce_pool pool;
		uint8_t		first_nonce[PX_NONCE_LEN];
		px_header	hdr = {PX_FORMAT_V1, PX_TYPE_BYTEA, 0x01020304, 0x7A000007};
		px_header	back;
		size_t		out_len = 0;
		size_t		cut;
		size_t		bit;
		size_t		bad;
		int			ok;

		px_random_bytes(pt, len);

		CHECK(env_len == len + 38 && px_envelope_plaintext_len(env_len) == len,
			  "envelope (%zu-byte plaintext): length is plaintext + 38", len);
		ok = px_envelope_seal(aead, &hdr, &pool, 1, pt, len, env) == PX_OK;
		memcpy(first_nonce, env + PX_HEADER_LEN, PX_NONCE_LEN);
		ok = ok && px_envelope_seal(aead, &hdr, &pool, 1, pt, len, env) == PX_OK;
		CHECK(ok, "envelope (%zu-byte plaintext): seal succeeds", len);
		if (!ok)
		{
			free(pt);
			free(env);
			free(out);
			continue;
		}
		memset(&back, 0, sizeof(back));
		CHECK(px_header_read(env, env_len, &back) == PX_OK &&
			  back.version == 1 && back.type == PX_TYPE_BYTEA &&
			  back.key_id == 0x01020304 && back.key_version == 0x7A000007 &&
			  env[0] == 1 && env[1] == PX_TYPE_BYTEA &&
			  env[2] == 0x01 && env[5] == 0x04 && env[6] == 0x7A && env[9] == 0x07,
			  "envelope (%zu-byte plaintext): header reads back version 1, type, key id, key version (big-endian)", len);
		CHECK(memcmp(env + 10, first_nonce, PX_NONCE_LEN) != 0,
			  "envelope (%zu-byte plaintext): sealing the same plaintext twice uses two nonces", len);
		memset(out, 0xAA, len);
		CHECK(px_gcm_open(aead, env + 10, env, 10, env + 22, len, env + 22 + len, out) == PX_OK &&
			  memcmp(out, pt, len) == 0,
			  "envelope (%zu-byte plaintext): GCM opens it as laid out: nonce at 10, header as AAD, tag last", len);
		memset(out, 0xAA, len);
		CHECK(px_envelope_open(aead, env, env_len, out, &out_len) == PX_OK &&
			  out_len == len && memcmp(out, pt, len) == 0,
			  "envelope (%zu-byte plaintext): open returns the plaintext", len);

		/* Header bytes 1..9 (type, key id, key version) are authenticated. */
		bad = 0;
		for (bit = 8; bit < 8 * PX_HEADER_LEN; bit++)
		{
			uint8_t		mask = (uint8_t) (1u << (bit % 8));

			env[bit / 8] ^= mask;
			memset(out, 0xAA, len);
			if (px_envelope_open(aead, env, env_len, out, &out_len) != PX_ERR_AUTH ||
				!all_zero(out, len))
				bad++;
			env[bit / 8] ^= mask;
		}
		CHECK(bad == 0, "envelope (%zu-byte plaintext): each of the 72 single-bit changes to type, key id "
			  "or key version gives PX_ERR_AUTH and a zeroed output", len);

		/* Nonce, ciphertext and tag are authenticated too (one bit each, spread out). */
		bad = 0;
		for (bit = 8 * PX_HEADER_LEN; bit < 8 * env_len;)
		{
			uint8_t		mask = (uint8_t) (1u << (bit % 8));
			int			in_ct = bit >= 8 * (PX_HEADER_LEN + PX_NONCE_LEN) &&
				bit < 8 * (env_len - PX_TAG_LEN);

			env[bit / 8] ^= mask;
			if (px_envelope_open(aead, env, env_len, out, &out_len) != PX_ERR_AUTH)
				bad++;
			env[bit / 8] ^= mask;
			/* every bit up to 1000 bytes; for 1 MiB, every 5th nonce/tag bit and a sample of the rest */
			bit += len <= 1000 ? 1 : in_ct ? 8 * 65536 + 3 : 5;
		}
		CHECK(bad == 0, "envelope (%zu-byte plaintext): flipped bits in nonce, ciphertext or tag give PX_ERR_AUTH", len);

		/* A version byte other than 1 is malformed, for open and for header_read. */
		{
			static const uint8_t versions[] = {0, 2, 3, 0x7F, 0x80, 0xFF};
			size_t		k;

			bad = 0;
			for (k = 0; k < sizeof(versions); k++)
			{
				env[0] = versions[k];
				if (px_envelope_open(aead, env, env_len, out, &out_len) != PX_ERR_MALFORMED ||
					px_header_read(env, env_len, &back) != PX_ERR_MALFORMED)
					bad++;
			}
			env[0] = PX_FORMAT_V1;
			CHECK(bad == 0, "envelope (%zu-byte plaintext): version bytes 0, 2, 3, 127, 128, 255 give "
				  "PX_ERR_MALFORMED from open and header_read", len);
		}

		/*
		 * Truncation by 1..N bytes never opens: every cut for the shorter
		 * envelopes, the first 64 cuts and a few long ones for 1 MiB.
		 */
		bad = 0;
		for (cut = 1; cut <= env_len; cut++)
		{
			px_status	s;

			if (len > 1000 && cut > 64 && cut != env_len / 2 &&
				cut < env_len - PX_ENVELOPE_OVERHEAD - 64)
				continue;
			s = px_envelope_open(aead, env, env_len - cut, out, &out_len);
			if (s != PX_ERR_MALFORMED && s != PX_ERR_AUTH)
				bad++;
		}
		CHECK(bad == 0, "envelope (%zu-byte plaintext): truncations give PX_ERR_MALFORMED or PX_ERR_AUTH, never PX_OK", len);
		CHECK(px_envelope_open(aead, env, env_len, out, &out_len) == PX_OK && memcmp(out, pt, len) == 0,
			  "envelope (%zu-byte plaintext): still opens after the negative tests (buffer restored)", len);
		free(pt);
		free(env);
		free(out);
	}

	/* px_header_read on its own. */
	{
		uint8_t		env[64] = {0};
		px_header	hdr;
		static const uint8_t bad_types[] = {0, 4, 5, 0x7F, 0xFF};
		size_t		k;
		int			all = 1;

		env[0] = 1;
		for (k = 0; k < sizeof(bad_types); k++)
		{
			env[1] = bad_types[k];
			if (px_header_read(env, sizeof(env), &hdr) != PX_ERR_MALFORMED)
				all = 0;
		}
		CHECK(all, "header_read: unknown type bytes 0, 4, 5, 127, 255 give PX_ERR_MALFORMED");
		env[1] = PX_TYPE_TEXT;
		CHECK(px_header_read(env, sizeof(env), &hdr) == PX_OK && hdr.type == PX_TYPE_TEXT,
			  "header_read: type 1 (text) is accepted");
		env[0] = 2;
		CHECK(px_header_read(env, sizeof(env), &hdr) == PX_ERR_MALFORMED,
			  "header_read: format version 2 gives PX_ERR_MALFORMED");
		env[0] = 1;
		env[1] = PX_TYPE_BYTEA;
		CHECK(px_header_read(env, PX_ENVELOPE_OVERHEAD - 1, &hdr) == PX_ERR_MALFORMED &&
			  px_header_read(env, PX_HEADER_LEN - 1, &hdr) == PX_ERR_MALFORMED &&
			  px_header_read(env, 0, &hdr) == PX_ERR_MALFORMED,
			  "header_read: shorter than the fixed overhead gives PX_ERR_MALFORMED");
	}
	px_aead_free(aead);
}

/* ------------------------------------------------------------------------
 * ASCII armor
 * ------------------------------------------------------------------------ */

static int
armor_round_trip(const uint8_t *env, size_t len)
{
	size_t		alen = px_armor_len(len);
	char	   *armor = xmalloc(alen + 1);
	uint8_t    *back = xmalloc(px_armor_max_decoded_len(alen));
	size_t		back_len = 0;
	int			ok;

	memset(armor, '#', alen + 1);
	px_armor_encode(env, len, armor);
	ok = armor[alen] == '#' &&	/* wrote exactly px_armor_len() bytes */
		memchr(armor, '#', alen) == NULL &&
		memcmp(armor, "pxe1:", 5) == 0 &&
		px_armor_decode(armor, alen, back, &back_len) == PX_OK &&
		back_len == len && memcmp(back, env, len) == 0;
	free(armor);
	free(back);
	return ok;
}

static void
test_armor(void)
{
	uint8_t		env[64];
	uint8_t		back[64];
	size_t		len;
	size_t		back_len;

	for (len = 38; len <= 45; len++)
	{
		px_random_bytes(env, len);
		CHECK(px_armor_len(len) == 5 + 4 * ((len + 2) / 3) && armor_round_trip(env, len),
			  "armor round trip, %zu-byte envelope (\"pxe1:\" prefix, length px_armor_len() = %zu, %zu padding)",
			  len, px_armor_len(len), (3 - len % 3) % 3);
	}

	{
		size_t		big = 1048576;
		uint8_t    *e = xmalloc(big);

		px_random_bytes(e, big);
		CHECK(px_armor_len(big) == 5 + 1398104 && armor_round_trip(e, big),
			  "armor round trip, 1 MiB envelope");
		free(e);
	}

	/* The encoder's body equals OpenSSL's base64 on random buffers. */
	{
		uint8_t		buf[300];
		char		armor[5 + 400 + 1];
		unsigned char ref[400 + 1];
		int			agree = 1;
		int			k;

		for (k = 0; k < 2000; k++)
		{
			size_t		n = (size_t) (k % 301);
			int			rl;

			px_random_bytes(buf, n);
			px_armor_encode(buf, n, armor);
			armor[px_armor_len(n)] = '\0';
			rl = EVP_EncodeBlock(ref, buf, (int) n);
			if (rl < 0 || (size_t) rl != px_armor_len(n) - 5 || strcmp((char *) ref, armor + 5) != 0)
				agree = 0;
		}
		CHECK(agree, "armor body equals OpenSSL EVP_EncodeBlock on 2000 random buffers of 0..300 bytes");
	}

	/* The decoder refuses everything but canonical padded base64 after the prefix. */
	{
		static const struct
		{
			const char *s;
			size_t		len;
			const char *why;
		}			bad[] = {
			{"AQEAAAAA", 8, "missing prefix"},
			{"pxe2:AQEA", 9, "wrong prefix"},
			{"PXE1:AQEA", 9, "upper-case prefix"},
			{"pxe1", 4, "truncated prefix"},
			{"", 0, "empty string"},
			{"pxe1:", 5, "empty body"},
			{"pxe1:AQE", 8, "body length 3, not a multiple of 4"},
			{"pxe1:AQEAA", 10, "body length 5, not a multiple of 4"},
			{"pxe1:AQEA=", 10, "extra '=' after a full group"},
			{"pxe1:AQ!A", 9, "invalid character '!'"},
			{"pxe1:AQ-_", 9, "URL-safe alphabet"},
			{"pxe1:AQ\x80" "A", 9, "non-ASCII byte"},
			{"pxe1:AQ\0A", 9, "embedded NUL"},
			{"pxe1:AQ A", 9, "space inside"},
			{"pxe1:AQ\nA", 9, "newline inside"},
			{"pxe1:AQEA\n", 10, "trailing newline"},
			{"pxe1:AQEA\r\n", 11, "trailing CRLF"},
			{" pxe1:AQEA", 10, "leading space"},
			{"pxe1: AQEA", 10, "space after the prefix"},
			{"pxe1:\tAQE", 9, "tab"},
			{"pxe1:A=AA", 9, "'=' in second position"},
			{"pxe1:AA=A", 9, "'=' before a data character"},
			{"pxe1:QQ==QUJD", 13, "padding in a group before the last"},
			{"pxe1:QUI=QUJD", 13, "single '=' in a group before the last"},
			{"pxe1:====", 9, "only padding"},
			{"pxe1:A===", 9, "three '='"},
			{"pxe1:AQEA====", 13, "a group of padding only"},
			{"pxe1:QR==", 9, "non-canonical: unused bits set with '==' (QR==)"},
			{"pxe1:QX==", 9, "non-canonical: unused bits set with '==' (QX==)"},
			{"pxe1:QUJ=", 9, "non-canonical: unused bits set with '=' (QUJ=)"},
			{"pxe1:QUL=", 9, "non-canonical: unused bits set with '=' (QUL=)"},
		};
		size_t		i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			CHECK(px_armor_decode(bad[i].s, bad[i].len, back, &back_len) == PX_ERR_MALFORMED,
				  "armor decode rejects %s", bad[i].why);
		CHECK(px_armor_decode("pxe1:QQ==", 9, back, &back_len) == PX_OK && back_len == 1 && back[0] == 'A' &&
			  px_armor_decode("pxe1:QUI=", 9, back, &back_len) == PX_OK && back_len == 2 &&
			  memcmp(back, "AB", 2) == 0 &&
			  px_armor_decode("pxe1:QUJD", 9, back, &back_len) == PX_OK && back_len == 3 &&
			  memcmp(back, "ABC", 3) == 0,
			  "armor decode accepts canonical padding (QQ==, QUI=, QUJD)");
		CHECK(px_armor_has_prefix("pxe1:", 5) && !px_armor_has_prefix("pxe1", 4) &&
			  !px_armor_has_prefix("pxe2:AAAA", 9), "armor prefix test");
	}
}

/* ------------------------------------------------------------------------
 * Key wrapping, root-key check, key ids, hex, randomness
 * ------------------------------------------------------------------------ */

static int
contains(const uint8_t *hay, size_t hay_len, const uint8_t *needle, size_t needle_len)
{
	size_t		i;

	for (i = 0; i + needle_len <= hay_len; i++)
		if (memcmp(hay + i, needle, needle_len) == 0)
			return 1;
	return 0;
}

static void
test_key_wrapping(void)
{
	uint8_t		root[32], other_root[32], dk[32], back[32], nonce[12];
	uint8_t		wrapped[PX_WRAPPED_KEY_LEN + 1];
	uint8_t		check1[8], check2[8], check3[8], expected[8];
	size_t		bit;
	size_t		bad;

	px_random_bytes(root, sizeof(root));
	memcpy(other_root, root, sizeof(root));
	other_root[0] ^= 0x80;
	px_random_bytes(dk, sizeof(dk));
	px_random_bytes(nonce, sizeof(nonce));

	CHECK(px_wrap_key(root, 42, 3, nonce, dk, wrapped) == PX_OK &&
		  px_unwrap_key(root, 42, 3, wrapped, PX_WRAPPED_KEY_LEN, back) == PX_OK &&
		  memcmp(back, dk, 32) == 0, "data key wrap and unwrap round trip");
	CHECK(memcmp(wrapped, nonce, 12) == 0 && !contains(wrapped, PX_WRAPPED_KEY_LEN, dk, 8),
		  "wrapped key starts with its nonce and does not hold the key in clear");
	memset(back, 0xAA, sizeof(back));
	CHECK(px_unwrap_key(other_root, 42, 3, wrapped, PX_WRAPPED_KEY_LEN, back) == PX_ERR_AUTH &&
		  all_zero(back, 32), "unwrap under a different root key gives PX_ERR_AUTH and a zeroed key");
	CHECK(px_unwrap_key(root, 43, 3, wrapped, PX_WRAPPED_KEY_LEN, back) == PX_ERR_AUTH,
		  "unwrap as a different key id gives PX_ERR_AUTH");
	CHECK(px_unwrap_key(root, 42, 4, wrapped, PX_WRAPPED_KEY_LEN, back) == PX_ERR_AUTH &&
		  px_unwrap_key(root, 42, 3 | 0x80000000u, wrapped, PX_WRAPPED_KEY_LEN, back) == PX_ERR_AUTH,
		  "unwrap as a different key version gives PX_ERR_AUTH");
	CHECK(px_unwrap_key(root, 3, 42, wrapped, PX_WRAPPED_KEY_LEN, back) == PX_ERR_AUTH,
		  "unwrap with key id and key version swapped gives PX_ERR_AUTH");

	bad = 0;
	for (bit = 0; bit < 8 * PX_WRAPPED_KEY_LEN; bit++)
	{
		uint8_t		mask = (uint8_t) (1u << (bit % 8));

		wrapped[bit / 8] ^= mask;
		memset(back, 0xAA, sizeof(back));
		if (px_unwrap_key(root, 42, 3, wrapped, PX_WRAPPED_KEY_LEN, back) != PX_ERR_AUTH ||
			!all_zero(back, 32))
			bad++;
		wrapped[bit / 8] ^= mask;
	}
	CHECK(bad == 0, "each of the 480 single-bit flips of a wrapped key gives PX_ERR_AUTH and a zeroed key");

	wrapped[PX_WRAPPED_KEY_LEN] = 0;
	CHECK(px_unwrap_key(root, 42, 3, wrapped, PX_WRAPPED_KEY_LEN - 1, back) == PX_ERR_MALFORMED &&
		  px_unwrap_key(root, 42, 3, wrapped, PX_WRAPPED_KEY_LEN + 1, back) == PX_ERR_MALFORMED &&
		  px_unwrap_key(root, 42, 3, wrapped, 0, back) == PX_ERR_MALFORMED &&
		  px_unwrap_key(root, 42, 3, wrapped, 32, back) == PX_ERR_MALFORMED,
		  "unwrap of a wrong length (59, 61, 0, 32 bytes) gives PX_ERR_MALFORMED");
	CHECK(px_unwrap_key(root, 42, 3, wrapped, PX_WRAPPED_KEY_LEN, back) == PX_OK &&
		  memcmp(back, dk, 32) == 0, "the wrapped key still unwraps after the negative tests");

	CHECK(px_root_key_check(root, check1) == PX_OK && px_root_key_check(root, check2) == PX_OK &&
		  px_root_key_check(other_root, check3) == PX_OK &&
		  memcmp(check1, check2, 8) == 0 && memcmp(check1, check3, 8) != 0,
		  "root key check value is deterministic and differs between two root keys");
	memset(root, 0x11, sizeof(root));
	px_root_key_check(root, check1);

	/*
	 * Computed independently with python3 (cryptography):
	 *   h = hmac.HMAC(b"\x11" * 32, hashes.SHA256())
	 *   h.update(b"privacy_ext root key check v1"); h.finalize()[:8].hex()
	 * (also hmac/hashlib: same result) = 174f18fc99bd6d84
	 */
	unhex("174f18fc99bd6d84", expected);
	CHECK(memcmp(check1, expected, 8) == 0,
		  "root key check of 0x11 * 32 equals python HMAC-SHA256(root, label)[:8] = 174f18fc99bd6d84");

	{
		uint8_t		transit[32];
		uint8_t		want[32];

		unhex("e77f5c8a1802ee7295660ec950f0881afb9acb8c7c617d60e6eef16de2f41a81", want);	/* python HKDF */
		CHECK(px_derive_key(root, 32, "privacy_ext transit v1", transit, 32) == PX_OK &&
			  memcmp(transit, want, 32) == 0, "transit key derivation matches an independent HKDF-SHA-256");
	}
}

static void
test_key_ids_hex_random(void)
{
	uint8_t		out[4];
	uint8_t		n1[12], n2[12];
	uint32_t	hr = px_key_id_from_name("hr", 2);
	uint32_t	hr2 = px_key_id_from_name("hr2", 3);

	/*
	 * python3: d = hashlib.sha256(b"privacy_ext key id v1\x00" + b"hr").digest()
	 *          int.from_bytes(d[:4], "big") & 0x7fffffff  ->  180784068
	 */
	CHECK(hr == 180784068u, "key id of 'hr' equals python sha256(label || NUL || name)[:4] & 0x7fffffff = 180784068");
	CHECK(hr == px_key_id_from_name("hr", 2), "key id is deterministic");
	CHECK(hr != 0 && hr2 != 0 && hr < 0x80000000u && hr2 < 0x80000000u, "key ids are nonzero and below 2^31");
	CHECK(hr != hr2, "key ids of 'hr' and 'hr2' differ");

	memset(out, 0, sizeof(out));
	CHECK(px_hex_decode("0aff10bc", 8, out, 4) == PX_OK && out[0] == 0x0a && out[1] == 0xff &&
		  out[2] == 0x10 && out[3] == 0xbc, "hex decode accepts lower case");
	memset(out, 0, sizeof(out));
	CHECK(px_hex_decode("0AFF10BC", 8, out, 4) == PX_OK && out[0] == 0x0a && out[1] == 0xff &&
		  out[2] == 0x10 && out[3] == 0xbc, "hex decode accepts upper case");
	memset(out, 0, sizeof(out));
	CHECK(px_hex_decode("0aFf10Bc", 8, out, 4) == PX_OK && out[0] == 0x0a && out[1] == 0xff &&
		  out[2] == 0x10 && out[3] == 0xbc, "hex decode accepts mixed case");
	CHECK(px_hex_decode("0aFf10B", 7, out, 4) == PX_ERR_MALFORMED &&
		  px_hex_decode("0aFf10Bc0", 9, out, 4) == PX_ERR_MALFORMED &&
		  px_hex_decode("0aFf10Bc00", 10, out, 4) == PX_ERR_MALFORMED &&
		  px_hex_decode("", 0, out, 4) == PX_ERR_MALFORMED,
		  "hex decode rejects a wrong length (7, 9, 10, 0 digits for 4 bytes)");
	CHECK(px_hex_decode("0aFf10Bg", 8, out, 4) == PX_ERR_MALFORMED &&
		  px_hex_decode("G0000000", 8, out, 4) == PX_ERR_MALFORMED &&
		  px_hex_decode("0x0a0b0c", 8, out, 4) == PX_ERR_MALFORMED &&
		  px_hex_decode("0a f10Bc", 8, out, 4) == PX_ERR_MALFORMED &&
		  px_hex_decode("0aff10b\0", 8, out, 4) == PX_ERR_MALFORMED &&
		  px_hex_decode("-1ff10bc", 8, out, 4) == PX_ERR_MALFORMED,
		  "hex decode rejects non-hex characters (g, G, x, space, NUL, '-')");

	CHECK(px_random_bytes(n1, sizeof(n1)) == PX_OK && px_random_bytes(n2, sizeof(n2)) == PX_OK &&
		  memcmp(n1, n2, 12) != 0, "two 12-byte random nonces differ");

	{
		static px_nonce_pool pool;
		uint8_t		a[12], b[12];
		int			distinct = 1;
		int			i;

		px_nonce_next(&pool, 1, a);
		for (i = 0; i < 1000; i++)
		{
			px_nonce_next(&pool, 1, b);
			if (memcmp(a, b, 12) == 0)
				distinct = 0;
			memcpy(a, b, 12);
		}
		CHECK(distinct, "nonce pool hands out distinct nonces across refills");
		px_nonce_next(&pool, 1, a);
		px_nonce_next(&pool, 2, b);
		CHECK(pool.owner == 2 && pool.pos == 12, "nonce pool refills when used by another process");
	}
}

static void
test_siv_vectors(void)
{
	uint8_t		key[64], ad1[64], ad2[64], nonce[16], pt[64], want[128], v[16], ct[64], back[64];
	size_t		ad1_len, ad2_len, pt_len;
	px_siv	   *siv;

	/* RFC 5297 A.1: deterministic, one associated-data string. */
	unhex("fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", key);
	ad1_len = unhex("101112131415161718191a1b1c1d1e1f2021222324252627", ad1);
	pt_len = unhex("112233445566778899aabbccddee", pt);
	unhex("85632d07c6e8f37f950acd320a2ecc9340c02b9690c4dc04daef7f6afe5c", want);
	siv = px_siv_new(key, 32);
	{
		const uint8_t *ad[1] = {ad1};
		size_t		adl[1] = {ad1_len};

		CHECK(px_siv_seal(siv, ad, adl, 1, pt, pt_len, v, ct) == PX_OK &&
			  memcmp(v, want, 16) == 0 && memcmp(ct, want + 16, pt_len) == 0,
			  "AES-SIV RFC 5297 A.1: seal gives the published V and ciphertext");
		CHECK(px_siv_open(siv, ad, adl, 1, v, ct, pt_len, back) == PX_OK &&
			  memcmp(back, pt, pt_len) == 0, "AES-SIV RFC 5297 A.1: open gives the plaintext");
		v[3] ^= 0x10;
		CHECK(px_siv_open(siv, ad, adl, 1, v, ct, pt_len, back) == PX_ERR_AUTH && all_zero(back, pt_len),
			  "AES-SIV: a flipped bit in V fails authentication and zeroes the output");
		v[3] ^= 0x10;
		ct[pt_len - 1] ^= 0x01;
		CHECK(px_siv_open(siv, ad, adl, 1, v, ct, pt_len, back) == PX_ERR_AUTH,
			  "AES-SIV: a flipped bit in the ciphertext fails authentication");
		ct[pt_len - 1] ^= 0x01;
		ad1[0] ^= 0x01;
		CHECK(px_siv_open(siv, ad, adl, 1, v, ct, pt_len, back) == PX_ERR_AUTH,
			  "AES-SIV: changed associated data fails authentication");
	}
	px_siv_free(siv);

	/* RFC 5297 A.2: three associated-data strings (AD1, AD2, nonce). */
	unhex("7f7e7d7c7b7a79787776757473727170404142434445464748494a4b4c4d4e4f", key);
	ad1_len = unhex("00112233445566778899aabbccddeeffdeaddadadeaddadaffeeddccbbaa99887766554433221100", ad1);
	ad2_len = unhex("102030405060708090a0", ad2);
	unhex("09f911029d74e35bd84156c5635688c0", nonce);
	pt_len = unhex("7468697320697320736f6d6520706c61696e7465787420746f20656e6372797074207573696e67205349562d414553", pt);
	unhex("7bdb6e3b432667eb06f4d14bff2fbd0fcb900f2fddbe404326601965c889bf17dba77ceb094fa663b7a3f748ba8af829ea64ad544a272e9c485b62a3fd5c0d", want);
	siv = px_siv_new(key, 32);
	{
		const uint8_t *ad[3] = {ad1, ad2, nonce};
		size_t		adl[3] = {ad1_len, ad2_len, 16};

		CHECK(px_siv_seal(siv, ad, adl, 3, pt, pt_len, v, ct) == PX_OK &&
			  memcmp(v, want, 16) == 0 && memcmp(ct, want + 16, pt_len) == 0,
			  "AES-SIV RFC 5297 A.2: seal gives the published V and ciphertext");
		CHECK(px_siv_open(siv, ad, adl, 3, v, ct, pt_len, back) == PX_OK &&
			  memcmp(back, pt, pt_len) == 0, "AES-SIV RFC 5297 A.2: open gives the plaintext");
	}
	px_siv_free(siv);
	CHECK(px_siv_new(key, 48) == NULL, "AES-SIV refuses a key that is neither 32 nor 64 bytes");
}

/* The core's AES-256-SIV equals OpenSSL's EVP "AES-256-SIV" byte for byte. */
static void
test_siv_against_evp(void)
{
	uint8_t		key[64], aad[10], pt[200], v[16], ct[200], v2[16], ct2[200];
	EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, "AES-256-SIV", NULL);
	px_siv	   *siv;
	size_t		len;
	int			agree = 1;

	px_random_bytes(key, sizeof(key));
	siv = px_siv_new(key, 64);
	for (len = 1; len <= 130; len++)	/* OpenSSL 3.0's SIV refuses length 0 */
	{
		EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
		const uint8_t *ad[1] = {aad};
		size_t		adl[1] = {sizeof(aad)};
		int			outl;

		px_random_bytes(aad, sizeof(aad));
		px_random_bytes(pt, len);
		px_siv_seal(siv, ad, adl, 1, pt, len, v, ct);
		if (cipher == NULL ||
			EVP_EncryptInit_ex2(ctx, cipher, key, NULL, NULL) != 1 ||
			EVP_EncryptUpdate(ctx, NULL, &outl, aad, sizeof(aad)) != 1 ||
			EVP_EncryptUpdate(ctx, ct2, &outl, pt, (int) len) != 1 ||
			EVP_EncryptFinal_ex(ctx, ct2 + len, &outl) != 1 ||
			EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, v2) != 1 ||
			memcmp(v, v2, 16) != 0 || memcmp(ct, ct2, len) != 0)
			agree = 0;
		EVP_CIPHER_CTX_free(ctx);
	}
	CHECK(agree, "AES-256-SIV matches OpenSSL EVP AES-256-SIV for plaintext lengths 1..130");

	/*
	 * Opening: EVP's values of every length, each under a header-sized
	 * associated-data string that differs from the one before only in its
	 * last byte, so a wrong hit of the memo of S2V's state would open none.
	 */
	agree = 1;
	px_random_bytes(aad, sizeof(aad));
	for (len = 1; len <= 130; len++)
	{
		EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
		const uint8_t *ad[1] = {aad};
		size_t		adl[1] = {sizeof(aad)};
		uint8_t		back[200];
		int			outl;

		aad[sizeof(aad) - 1] ^= (uint8_t) len;
		px_random_bytes(pt, len);
		memset(back, 0xAA, sizeof(back));
		if (cipher == NULL ||
			EVP_EncryptInit_ex2(ctx, cipher, key, NULL, NULL) != 1 ||
			EVP_EncryptUpdate(ctx, NULL, &outl, aad, sizeof(aad)) != 1 ||
			EVP_EncryptUpdate(ctx, ct2, &outl, pt, (int) len) != 1 ||
			EVP_EncryptFinal_ex(ctx, ct2 + len, &outl) != 1 ||
			EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, v2) != 1 ||
			px_siv_open(siv, ad, adl, 1, v2, ct2, len, back) != PX_OK ||
			memcmp(back, pt, len) != 0 || back[len] != 0xAA)
			agree = 0;
		/* the same value with the last AD byte flipped back: refused */
		aad[sizeof(aad) - 1] ^= 1;
		if (px_siv_open(siv, ad, adl, 1, v2, ct2, len, back) != PX_ERR_AUTH ||
			!all_zero(back, len) || back[len] != 0xAA)
			agree = 0;
		aad[sizeof(aad) - 1] ^= 1;
		EVP_CIPHER_CTX_free(ctx);
	}
	CHECK(agree, "AES-SIV opens OpenSSL EVP AES-256-SIV values of lengths 1..130 exactly, "
		  "writing no byte past them, and refuses each under an AD one bit off");
	EVP_CIPHER_free(cipher);
	px_siv_free(siv);
}

static void
test_hkdf_vectors(void)
{
	uint8_t		ikm[22], salt[13], info[10], okm[42], want[42];

	memset(ikm, 0x0b, sizeof(ikm));
	unhex("000102030405060708090a0b0c", salt);
	unhex("f0f1f2f3f4f5f6f7f8f9", info);
	unhex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865", want);
	CHECK(px_hkdf_sha256(ikm, 22, salt, 13, info, 10, okm, 42) == PX_OK && memcmp(okm, want, 42) == 0,
		  "HKDF-SHA-256 RFC 5869 test case 1");
	unhex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8", want);
	CHECK(px_hkdf_sha256(ikm, 22, NULL, 0, NULL, 0, okm, 42) == PX_OK && memcmp(okm, want, 42) == 0,
		  "HKDF-SHA-256 RFC 5869 test case 3 (empty salt and info)");

	/* The derivation key is RFC 5869's PRK, and expanding it is px_derive_key. */
	{
		uint8_t		prk[32], prk_want[32], direct[64], split[64];
		static const char *const labels[] = {"privacy_ext transit v1", "privacy_ext transit siv v1",
		"privacy_ext noise v1", ""};
		bool		same = true;

		unhex("19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04", prk_want);
		CHECK(px_derivation_key(ikm, 22, prk) == PX_OK && memcmp(prk, prk_want, 32) == 0,
			  "derivation key is the HKDF-SHA-256 PRK of RFC 5869 test case 3");
		for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
			for (size_t len = 16; len <= 64; len += 16)
			{
				memset(direct, 0, sizeof(direct));
				memset(split, 1, sizeof(split));
				if (px_derive_key(ikm, 22, labels[i], direct, len) != PX_OK ||
					px_derive_from_derivation_key(prk, labels[i], split, len) != PX_OK ||
					memcmp(direct, split, len) != 0)
					same = false;
			}
		CHECK(same, "keys expanded from the derivation key equal px_derive_key's, 4 labels, 16..64 bytes");
		CHECK(px_derive_from_derivation_key(prk, "privacy_ext noise v1", split, 32) == PX_OK &&
			  px_derive_from_derivation_key(prk, "privacy_ext transit v1", direct, 32) == PX_OK &&
			  memcmp(split, direct, 32) != 0, "different labels give different keys");
	}
}

static void
test_det_envelope(void)
{
	static const size_t lengths[] = {0, 1, 15, 16, 17, 1000};
	uint8_t		key[64];
	px_siv	   *siv;
	size_t		i;

	px_random_bytes(key, sizeof(key));
	siv = px_siv_new(key, 64);
	for (i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++)
	{
		size_t		len = lengths[i];
		uint8_t    *pt = malloc(len + 1);
		uint8_t    *env = malloc(px_det_envelope_len(len));
		uint8_t    *env2 = malloc(px_det_envelope_len(len));
		uint8_t    *out = malloc(len + 1);
		px_header	hdr = {PX_FORMAT_V1, PX_TYPE_TEXT_DET, 77, 1};
		px_header	back;
		size_t		out_len = 0;
		int			ok;

		px_random_bytes(pt, len);
		ok = px_det_seal(siv, &hdr, pt, len, env) == PX_OK &&
			px_det_seal(siv, &hdr, pt, len, env2) == PX_OK &&
			memcmp(env, env2, px_det_envelope_len(len)) == 0 &&
			px_det_envelope_len(len) == len + 27 &&
			px_header_read(env, px_det_envelope_len(len), &back) == PX_OK &&
			back.type == PX_TYPE_TEXT_DET && back.key_id == 77 &&
			px_det_open(siv, env, px_det_envelope_len(len), out, &out_len) == PX_OK &&
			out_len == len && out[0] == PX_TYPE_TEXT_DET && memcmp(out + 1, pt, len) == 0;
		CHECK(ok, "deterministic envelope, %zu-byte plaintext: same input, same bytes; round trip", len);
		env[2] ^= 0x01;
		CHECK(px_det_open(siv, env, px_det_envelope_len(len), out, &out_len) == PX_ERR_AUTH,
			  "deterministic envelope: a relabelled key id fails authentication");
		env[2] ^= 0x01;
		CHECK(px_det_open(siv, env, px_det_envelope_len(len) - 1, out, &out_len) != PX_OK,
			  "deterministic envelope: truncation never opens");
		free(pt);
		free(env);
		free(env2);
		free(out);
	}
	px_siv_free(siv);
}

/* Valid UTF-8 (no split characters) in s[0..len). */
/*
 * Reference versions of mask_partial and mask_email, as first written
 * (counting every character, scanning forward): the versions in
 * mask_algorithms.c search from the end for speed and must give the same
 * bytes for every input, valid UTF-8 or not.
 */
static int
ref_is_cont(unsigned char c)
{
	return (c & 0xC0) == 0x80;
}

static size_t
ref_offset_of_char(const char *s, size_t len, size_t chars)
{
	size_t		i;
	size_t		seen = 0;

	for (i = 0; i < len; i++)
		if (!ref_is_cont((unsigned char) s[i]))
		{
			if (seen == chars)
				return i;
			seen++;
		}
	return len;
}

static size_t
ref_mask_partial(const char *in, size_t len, int prefix, const char *pad, size_t pad_len,
				 int suffix, char *out)
{
	size_t		nchars = 0;
	size_t		kf = prefix > 0 ? (size_t) prefix : 0;
	size_t		kb = suffix > 0 ? (size_t) suffix : 0;
	size_t		n;
	size_t		i;

	for (i = 0; i < len; i++)
		nchars += !ref_is_cont((unsigned char) in[i]);
	if (nchars > kf + kb)
	{
		size_t		fe = ref_offset_of_char(in, len, kf);
		size_t		bs = ref_offset_of_char(in, len, nchars - kb);

		memcpy(out, in, fe);
		memcpy(out + fe, pad, pad_len);
		memcpy(out + fe + pad_len, in + bs, len - bs);
		n = fe + pad_len + len - bs;
	}
	else
	{
		memcpy(out, pad, pad_len);
		n = pad_len;
	}
	if (n == len && memcmp(out, in, len) == 0)
		out[n++] = '*';
	return n;
}

static size_t
ref_first_char_stars(const char *s, size_t len, char *out)
{
	size_t		first = ref_offset_of_char(s, len, 1);

	memcpy(out, s, first);
	memcpy(out + first, "***", 3);
	return first + 3;
}

static size_t
ref_mask_email(const char *in, size_t len, char *out)
{
	const char *at = NULL;
	const char *dot = NULL;
	const char *domain;
	size_t		dlen;
	size_t		n;
	size_t		i;

	for (i = 0; i < len; i++)
		if (in[i] == '@')
			at = in + i;
	if (at == NULL)
		return ref_first_char_stars(in, len, out);
	n = ref_first_char_stars(in, (size_t) (at - in), out);
	out[n++] = '@';
	domain = at + 1;
	dlen = len - (size_t) (domain - in);
	for (i = 0; i < dlen; i++)
		if (domain[i] == '.')
			dot = domain + i;
	if (dot == NULL)
		return n + ref_first_char_stars(domain, dlen, out + n);
	n += ref_first_char_stars(domain, (size_t) (dot - domain), out + n);
	memcpy(out + n, dot, dlen - (size_t) (dot - domain));
	return n + dlen - (size_t) (dot - domain);
}

/* The fast versions give the reference's bytes: fixed samples, then random ones. */
static void
test_masking_matches_reference(void)
{
	static const char alphabet[] = {'a', 'Z', '@', '.', '-', '*', '\xc3', '\xab', '\x80', '\xe6', '\x9d', '\xf0'};
	/* paddings of every length class the copies treat apart: 0, 1-3, 4-7, 8-16, more */
	static const char *const pads[] = {"", "*", "\xe2\x80\xa6*", "*******", "\xe2\x80\xa6\xe2\x80\xa6**********",
	"#################"};
	char		in[32];
	char		out1[128];
	char		out2[128];
	unsigned int seed = 12345;
	int			partial_same = 1;
	int			email_same = 1;
	int			iter;

	for (iter = 0; iter < 200000; iter++)
	{
		size_t		len;
		size_t		i;
		int			p;
		int			q;
		size_t		n1;
		size_t		n2;
		const char *pad;

		seed = seed * 1103515245u + 12345u;
		len = (seed >> 16) % 24;
		for (i = 0; i < len; i++)
		{
			seed = seed * 1103515245u + 12345u;
			in[i] = alphabet[(seed >> 16) % sizeof(alphabet)];
		}
		p = (int) ((seed >> 8) % 7) - 1;
		q = (int) ((seed >> 4) % 7) - 1;
		pad = pads[(seed >> 20) % (sizeof(pads) / sizeof(pads[0]))];
		n1 = px_mask_partial(in, len, p, pad, strlen(pad), q, out1);
		n2 = ref_mask_partial(in, len, p, pad, strlen(pad), q, out2);
		if (n1 != n2 || memcmp(out1, out2, n1) != 0)
			partial_same = 0;
		n1 = px_mask_email(in, len, out1);
		n2 = ref_mask_email(in, len, out2);
		if (n1 != n2 || memcmp(out1, out2, n1) != 0)
			email_same = 0;
	}
	CHECK(partial_same, "mask_partial (kept ends found from both sides) equals the reference on 200000 random inputs");
	CHECK(email_same, "mask_email (searched from the end) equals the reference on 200000 random inputs");
}

static int
valid_utf8(const char *s, size_t len)
{
	size_t		i = 0;

	while (i < len)
	{
		unsigned char c = (unsigned char) s[i];
		size_t		n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
		size_t		k;

		if (n == 0 || i + n > len)
			return 0;
		for (k = 1; k < n; k++)
			if (((unsigned char) s[i + k] & 0xC0) != 0x80)
				return 0;
		i += n;
	}
	return 1;
}

static void
test_masking_core(void)
{
	static const char *samples[] = {"", "a", "ab", "abc", "123-45-6789", "Zo\xc3\xab \xc3\x85ngstr\xc3\xb6m",
		"\xe6\x9d\xb1\xe4\xba\xac", "\xf0\x9f\x99\x82\xf0\x9f\x99\x82\xf0\x9f\x99\x82", "*", "**"};
	char		out[256];
	size_t		i;
	int			never_equal = 1;
	int			utf8_ok = 1;
	int			p;
	int			q;

	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++)
		for (p = -1; p <= 4; p++)
			for (q = -1; q <= 4; q++)
			{
				const char *pads[] = {"", "*", "\xe2\x80\xa6", samples[i]};
				size_t		k;

				for (k = 0; k < 4; k++)
				{
					size_t		n = px_mask_partial(samples[i], strlen(samples[i]), p, pads[k],
													strlen(pads[k]), q, out);

					if (n == strlen(samples[i]) && memcmp(out, samples[i], n) == 0)
						never_equal = 0;
					if (!valid_utf8(out, n))
						utf8_ok = 0;
				}
			}
	CHECK(never_equal, "mask_partial never returns its input, whatever the counts and padding");
	CHECK(utf8_ok, "mask_partial never splits a UTF-8 character");
	CHECK(px_mask_partial("123-45-6789", 11, 0, "***-**-", 7, 4, out) == 11 &&
		  memcmp(out, "***-**-6789", 11) == 0, "mask_partial keeps the last four characters");
	CHECK(px_mask_email("ann@example.com", 15, out) == 13 && memcmp(out, "a***@e***.com", 13) == 0,
		  "mask_email masks local part and domain, keeps the TLD");
	CHECK(px_mask_email("x@y@z.org", 9, out) == 13 && memcmp(out, "x***@z***.org", 13) == 0,
		  "mask_email splits at the last '@'");
	CHECK(px_mask_credit_card("4111-1111-1111-1111", 19, out) == 19 &&
		  memcmp(out, "****-****-****-1111", 19) == 0, "mask_credit_card keeps the last four digits");
	/* full-width digits (3 bytes each) and Arabic-Indic digits (2 bytes each) are masked, one '*' each */
	CHECK(px_mask_credit_card("\xef\xbc\x91\xef\xbc\x92-\xd9\xa1", 9, out) == 4 &&
		  memcmp(out, "**-*", 4) == 0, "mask_credit_card masks digits of other scripts, never copies them");
	CHECK(isfinite(px_generalize_double(1e308, 1e-308)) && px_generalize_double(1e308, 1e-308) <= 1e308 &&
		  isfinite(px_generalize_double(-1e308, 1e-308)) && px_generalize_double(-1e308, 1e-308) <= -1e308 &&
		  px_generalize_double(-1.7, 0.5) == -2.0 && px_generalize_double(1.7, 0.5) == 1.5,
		  "generalize a double floors to its step, and a tiny step never overflows to Infinity");
	CHECK(px_generalize_int(-1, 10) == -10 && px_generalize_int(19, 10) == 10 &&
		  px_generalize_int(INT64_MIN, 10) <= INT64_MIN + 10, "generalize floors, also below zero, without overflow");
	/* a rule's step is a double: huge and fractional steps on integers */
	CHECK(px_generalize_int_by(51234, 1e19) == 0 && px_generalize_int_by(9876543210, 1e19) == 0 &&
		  px_generalize_int_by(-7, 1e19) == INT64_MIN && px_generalize_int_by(INT64_MAX, 9223372036854775808.0) == 0,
		  "generalize by a step beyond int64 floors every value to 0 (below zero: out of range)");
	CHECK(px_generalize_int_by(51235, 1.5) == 51234 && px_generalize_int_by(51236, 1.5) == 51235 &&
		  px_generalize_int_by(51235, 2.5) == 51235 && px_generalize_int_by(51234, 2.5) == 51232 &&
		  px_generalize_int_by(-1, 1.5) == -2 && px_generalize_int_by(7, 0.5) == 7,
		  "generalize by a fractional step floors to its multiples, then to an integer");
	CHECK(px_generalize_int_by(19, 10.0) == 10 && px_generalize_int_by(INT64_MIN, 1.5) == INT64_MIN &&
		  px_generalize_int_by(INT64_MAX, 3.5) <= INT64_MAX && px_generalize_int_by(INT64_MAX, 3.5) > INT64_MAX - 4,
		  "generalize by a whole step is the integer path; the range ends hold");
	{
		/* against exact integer arithmetic for steps k + 1/2 (2k + 1 halves) */
		int			bad = 0;
		int64_t		v;
		int			k;

		for (k = 1; k < 50; k++)
			for (v = -1000; v <= 1000; v += 7)
			{
				int64_t		halves = 2 * k + 1;
				int64_t		q = (2 * v) / halves - (((2 * v) % halves != 0 && v < 0) ? 1 : 0);
				int64_t		m2 = q * halves;	/* twice the multiple */
				int64_t		want = m2 >= 0 ? m2 / 2 : -((-m2 + 1) / 2);

				if (px_generalize_int_by(v, k + 0.5) != want)
					bad++;
			}
		CHECK(bad == 0, "generalize by k + 0.5 matches exact arithmetic on -1000..1000");
	}
	{
		uint8_t		mac[32];
		int			in_range = 1;
		int			k;

		for (k = 0; k < 1000; k++)
		{
			double		u;

			px_random_bytes(mac, sizeof(mac));
			u = px_noise_unit(mac);
			if (u < -1.0 || u > 1.0)
				in_range = 0;
		}
		CHECK(in_range, "noise unit stays within [-1, 1]");
	}
}

/*
 * Each good[i][0] parses, formats as good[i][1] (its canonical text), and
 * that text parses back to the same rule.
 */
static int
rules_round_trip(const char *const good[][2], size_t ngood)
{
	char		out[PX_RULE_FORMAT_MAX];
	int			ok = 1;

	for (size_t i = 0; i < ngood; i++)
	{
		px_mask_rule rule;
		px_mask_rule again;
		const char *error;
		size_t		at;
		size_t		n;

		if (!px_rule_parse(good[i][0], strlen(good[i][0]), &rule, &error, &at))
		{
			printf("# refused good rule: %s (%s)\n", good[i][0], error);
			ok = 0;
			continue;
		}
		n = px_rule_format(&rule, out);
		if (n != strlen(good[i][1]) || memcmp(out, good[i][1], n) != 0 ||
			!px_rule_parse(out, n, &again, &error, &at) || again.kind != rule.kind ||
			again.nparts != rule.nparts || again.pool_len != rule.pool_len ||
			memcmp(again.pool, rule.pool, rule.pool_len) != 0)
		{
			printf("# bad canonical form for %s: %.*s\n", good[i][0], (int) n, out);
			ok = 0;
		}
	}
	return ok;
}

/* Each bad[i] is refused with a message and a position inside the text. */
static int
rules_refused(const char *const bad[], size_t nbad)
{
	int			refused = 1;

	for (size_t i = 0; i < nbad; i++)
	{
		px_mask_rule rule;
		const char *error = NULL;
		size_t		at = 0;

		if (px_rule_parse(bad[i], strlen(bad[i]), &rule, &error, &at) || error == NULL ||
			at > strlen(bad[i]))
		{
			printf("# accepted bad rule: %s\n", bad[i]);
			refused = 0;
		}
	}
	return refused;
}

static void
test_rule_parser(void)
{
	static const char *const good[][2] = {
		{"none", "none"}, {" NULL ", "null"}, {"redact", "redact"}, {"Email", "email"},
		{"credit_card", "credit_card"},
		{"partial(0, '***-**-', 4)", "partial(0, '***-**-', 4)"},
		{"partial( 2 ,'it''s', 0 )", "partial(2, 'it''s', 0)"},
		{"hash('pseudo')", "hash('pseudo')"}, {"generalize(10)", "generalize(10)"},
		{"generalize('decade')", "generalize('decade')"}, {"noise(0.25)", "noise(0.25)"},
		/* the shortest text that reads back as the same double */
		{"generalize(0.1)", "generalize(0.1)"}, {"generalize(1.5)", "generalize(1.5)"},
		{"generalize(1e19)", "generalize(1e+19)"}, {"noise(0.3333333333333333)", "noise(0.3333333333333333)"},
		{"value 'n/a'", "value 'n/a'"}};
	static const char *const bad[] = {
		"", "shuffle", "partial(-1, '*', 1)", "partial(1, '*')", "partial(1, *, 1)",
		"partial(1.5, '*', 1)", "hash(pseudo)", "hash('unterminated)", "generalize(0)",
		"generalize(-5)", "generalize('week')", "noise(0)", "noise(1.5)", "noise(nan)",
		"value", "email; DROP TABLE t", "value 'x' || current_user", "redact()", "none none",
		/* found by fuzz_rule: a huge integer once reached an int conversion */
		"partial(-1555555555555555555555555", "partial(1, '*', 99999999999999999999)"};
	CHECK(rules_round_trip(good, sizeof(good) / sizeof(good[0])),
		  "rule parser accepts every form and its canonical text parses back the same");
	CHECK(rules_refused(bad, sizeof(bad) / sizeof(bad[0])),
		  "rule parser refuses unknown rules, wrong arity, bad parameters and trailing SQL");
}

/*
 * The compiled dictionaries: every entry of every data/dict file is found
 * (whatever its ASCII case), neighbours and prefixes are not, and the
 * arrays are in the order the binary search needs.
 */
static void
test_dictionaries(void)
{
	static const char *const files[PX_DICT_COUNT] = {
		"data/dict/cities.txt", "data/dict/countries.txt",
		"data/dict/first_names.txt", "data/dict/last_names.txt"};

	for (int k = 0; k < PX_DICT_COUNT; k++)
	{
		FILE	   *f = fopen(files[k], "r");
		char		line[256];
		int			lines = 0,
					found = 0,
					upper_found = 0;
		bool		sorted = true;

		if (f == NULL)
		{
			CHECK(0, "dictionary %s readable (run from the source root)", files[k]);
			continue;
		}
		while (fgets(line, sizeof(line), f) != NULL)
		{
			size_t		n = strcspn(line, "\n");

			if (n == 0)
				continue;
			lines++;
			found += px_dict_contains((PxDictKind) k, line, n);
			for (size_t i = 0; i < n; i++)
				if (line[i] >= 'a' && line[i] <= 'z')
					line[i] = (char) (line[i] - 'a' + 'A');
			upper_found += px_dict_contains((PxDictKind) k, line, n);
		}
		fclose(f);
		for (int i = 1; i < px_dict_size((PxDictKind) k) && sorted; i++)
		{
			const unsigned char *a = (const unsigned char *) px_dict_entry((PxDictKind) k, i - 1);
			const unsigned char *b = (const unsigned char *) px_dict_entry((PxDictKind) k, i);
			unsigned char ca, cb;

			do
			{
				ca = (*a >= 'A' && *a <= 'Z') ? *a + 32 : *a;
				cb = (*b >= 'A' && *b <= 'Z') ? *b + 32 : *b;
				a++, b++;
			} while (ca == cb && ca != 0);
			sorted = ca < cb;
		}
		CHECK(px_dict_size((PxDictKind) k) == lines && lines > 0,
			  "dictionary %s: %d compiled entries, %d lines", px_dictionaries[k].name,
			  px_dict_size((PxDictKind) k), lines);
		CHECK(found == lines, "dictionary %s: every line found (%d of %d)", px_dictionaries[k].name, found, lines);
		CHECK(upper_found == lines, "dictionary %s: found in upper case too (%d of %d)",
			  px_dictionaries[k].name, upper_found, lines);
		CHECK(sorted, "dictionary %s sorted", px_dictionaries[k].name);
	}
	CHECK(px_dict_size(PX_DICT_FIRST_NAMES) >= 1000 && px_dict_size(PX_DICT_LAST_NAMES) >= 1000,
		  "name dictionaries hold at least 1,000 entries each");
	CHECK(px_dict_contains(PX_DICT_FIRST_NAMES, "mary", 4) && px_dict_contains(PX_DICT_FIRST_NAMES, "MARY", 4),
		  "first name found without regard to ASCII case");
	CHECK(!px_dict_contains(PX_DICT_FIRST_NAMES, "Ma", 2) && !px_dict_contains(PX_DICT_FIRST_NAMES, "Maryxx", 6),
		  "prefix and extension of a name are not names");
	CHECK(!px_dict_contains(PX_DICT_FIRST_NAMES, "", 0) && !px_dict_contains(PX_DICT_FIRST_NAMES, NULL, 3),
		  "empty and NULL input are not names");
	CHECK(!px_dict_contains(PX_DICT_COUNT, "Mary", 4) && px_dict_size(PX_DICT_COUNT) == 0 &&
		  px_dict_entry(PX_DICT_FIRST_NAMES, -1) == NULL &&
		  px_dict_entry(PX_DICT_FIRST_NAMES, px_dict_size(PX_DICT_FIRST_NAMES)) == NULL,
		  "unknown kind and out-of-range index give nothing");
}


/* Independent mod-97 check of an IBAN (ISO 13616), on a big-number string. */
static int
iban_ok_reference(const char *iban)
{
	char		digits[128];
	size_t		len = strlen(iban);
	size_t		n = 0;
	int			r = 0;

	if (len < 5 || len > 34)
		return 0;
	for (size_t i = 0; i < len; i++)
	{
		char		ch = iban[(i + 4) % len];

		if (ch >= '0' && ch <= '9')
			digits[n++] = ch;
		else if (ch >= 'A' && ch <= 'Z')
			n += (size_t) sprintf(digits + n, "%d", ch - 'A' + 10);
		else
			return 0;
	}
	for (size_t i = 0; i < n; i++)
		r = (r * 10 + (digits[i] - '0')) % 97;
	return r == 1;
}

/* Byte i with ASCII and Latin-1 (UTF-8 C3 80..9E) upper case folded. */
static unsigned char
fold_byte(const char *s, size_t i)
{
	unsigned char c = (unsigned char) s[i];

	if (c >= 'A' && c <= 'Z')
		return (unsigned char) (c + 32);
	if (i > 0 && (unsigned char) s[i - 1] == 0xC3 && c >= 0x80 && c <= 0x9E && c != 0x97)
		return (unsigned char) (c + 0x20);
	return c;
}

static int
same_ci(const char *a, const char *b, size_t blen)
{
	if (strlen(a) != blen)
		return 0;
	for (size_t i = 0; i < blen; i++)
		if (fold_byte(a, i) != fold_byte(b, i))
			return 0;
	return 1;
}

/*
 * Fake values: the kind names, determinism per key and input, a different
 * key giving other fakes, never the input (every dictionary entry tried as
 * input, and every composed fake fed back), the formats of e-mail, phone
 * and IBAN (check digits verified independently), and bad input.
 */
static void
test_fake(void)
{
	static const PxDictKind dict_of[] = {PX_DICT_FIRST_NAMES, PX_DICT_LAST_NAMES,
		PX_DICT_CITIES, PX_DICT_COUNTRIES};
	static const px_fake_kind kind_of[] = {PX_FAKE_FIRST_NAME, PX_FAKE_LAST_NAME,
		PX_FAKE_CITY, PX_FAKE_COUNTRY};
	uint8_t		key[32];
	uint8_t		key2[32];
	char		a[PX_FAKE_MAX];
	char		b[PX_FAKE_MAX];
	px_fake_kind kind;
	int			ok;

	memset(key, 0x11, sizeof(key));
	memset(key2, 0x22, sizeof(key2));

	ok = 1;
	for (int k = 0; k < PX_FAKE_KIND_COUNT; k++)
		ok &= px_fake_kind_from_name(px_fake_kind_name((px_fake_kind) k),
									 strlen(px_fake_kind_name((px_fake_kind) k)), &kind) &&
			kind == (px_fake_kind) k;
	CHECK(ok && !px_fake_kind_from_name("FIRST_NAME", 10, &kind) &&
		  !px_fake_kind_from_name("", 0, &kind) && !px_fake_kind_from_name("first_nam", 9, &kind) &&
		  !px_fake_kind_from_name("first_name\0", 11, &kind) && !px_fake_kind_from_name(NULL, 3, &kind) &&
		  px_fake_kind_name(PX_FAKE_KIND_COUNT) == NULL,
		  "fake kinds: the eight names and nothing else (case, prefix, NUL, NULL refused)");

	for (int k = 0; k < PX_FAKE_KIND_COUNT; k++)
	{
		int			same = 1,
					differ = 0,
					other_key = 0,
					distinct_inputs = 0;

		for (int i = 0; i < 200; i++)
		{
			char		in[32];
			size_t		n = (size_t) sprintf(in, "input %d", i);
			size_t		la = px_fake((px_fake_kind) k, key, in, n, a);
			size_t		lb = px_fake((px_fake_kind) k, key, in, n, b);

			same &= la > 0 && la == lb && memcmp(a, b, la) == 0 && a[la] == '\0';
			differ += !same_ci(a, in, n);
			lb = px_fake((px_fake_kind) k, key2, in, n, b);
			other_key += strcmp(a, b) != 0;
			n = (size_t) sprintf(in, "input %d", i + 1);
			px_fake((px_fake_kind) k, key, in, n, b);
			distinct_inputs += strcmp(a, b) != 0;
		}
		CHECK(same && differ == 200, "fake %s: deterministic per key and input, never the input",
			  px_fake_kind_name((px_fake_kind) k));
		/* countries: 234 entries, so some collisions are expected */
		CHECK(other_key >= 150 && distinct_inputs >= 150,
			  "fake %s: another key gives another fake (%d of 200), another input too (%d of 200)",
			  px_fake_kind_name((px_fake_kind) k), other_key, distinct_inputs);
	}

	for (size_t d = 0; d < sizeof(dict_of) / sizeof(dict_of[0]); d++)
	{
		int			never = 1;
		int			in_dict = 1;

		/* under 16 keys: an entry that maps to itself is rare under any one */
		for (int i = 0; i < 16 * px_dict_size(dict_of[d]); i++)
		{
			const char *e = px_dict_entry(dict_of[d], i % px_dict_size(dict_of[d]));
			size_t		n;

			memset(key2, 0x30 + i / px_dict_size(dict_of[d]), sizeof(key2));
			n = px_fake(kind_of[d], key2, e, strlen(e), a);
			char		upper[256];
			size_t		j;

			never &= n > 0 && !same_ci(a, e, strlen(e));
			in_dict &= px_dict_contains(dict_of[d], a, n);
			/* upper case, Latin-1 letters too (Zürich -> ZÜRICH) */
			for (j = 0; e[j] && j + 1 < sizeof(upper); j++)
			{
				unsigned char ch = (unsigned char) e[j];

				if (ch >= 'a' && ch <= 'z')
					ch = (unsigned char) (ch - 32);
				else if (j > 0 && (unsigned char) e[j - 1] == 0xC3 && ch >= 0xA0 && ch <= 0xBE &&
						 ch != 0xB7)
					ch = (unsigned char) (ch - 0x20);
				upper[j] = (char) ch;
			}
			upper[j] = '\0';
			n = px_fake(kind_of[d], key2, upper, j, a);
			never &= n > 0 && !same_ci(a, e, strlen(e));
		}
		CHECK(never && in_dict, "fake %s: every dictionary entry as input (and in upper case, Latin-1 too) gets another entry, under 16 keys",
			  px_fake_kind_name(kind_of[d]));
	}

	{
		int			email_ok = 1,
					phone_ok = 1,
					iban_ok = 1,
					company_ok = 1,
					fed_back = 1;

		for (int i = 0; i < 2000; i++)
		{
			char		in[32];
			size_t		n = (size_t) sprintf(in, "%d", i * 7919);
			size_t		m;
			const char *at;

			m = px_fake(PX_FAKE_EMAIL, key, in, n, a);
			at = strchr(a, '@');
			email_ok &= at != NULL && at > a && strlen(a) == m &&
				(strcmp(at, "@example.com") == 0 || strcmp(at, "@example.org") == 0 ||
				 strcmp(at, "@example.net") == 0) &&
				strspn(a, "abcdefghijklmnopqrstuvwxyz0123456789._") == (size_t) (at - a);
			fed_back &= px_fake(PX_FAKE_EMAIL, key, a, m, b) > 0 && strcmp(a, b) != 0;

			m = px_fake(PX_FAKE_PHONE, key, in, n, a);
			phone_ok &= m == 15 && strncmp(a, "+1-", 3) == 0 && a[3] >= '2' && a[3] <= '9' &&
				a[4] >= '0' && a[4] <= '8' && !(a[4] == '1' && a[5] == '1') &&
				strncmp(a + 6, "-555-01", 7) == 0 && a[13] >= '0' && a[13] <= '9' &&
				a[14] >= '0' && a[14] <= '9';
			fed_back &= px_fake(PX_FAKE_PHONE, key, a, m, b) > 0 && strcmp(a, b) != 0;

			m = px_fake(PX_FAKE_IBAN, key, in, n, a);
			iban_ok &= iban_ok_reference(a) && px_iban_valid(a, m) &&
				((strncmp(a, "DE", 2) == 0 && m == 22) || (strncmp(a, "AT", 2) == 0 && m == 20) ||
				 (strncmp(a, "GB", 2) == 0 && m == 22) || (strncmp(a, "NL", 2) == 0 && m == 18));
			fed_back &= px_fake(PX_FAKE_IBAN, key, a, m, b) > 0 && strcmp(a, b) != 0;

			m = px_fake(PX_FAKE_COMPANY, key, in, n, a);
			company_ok &= m > 3 && m < PX_FAKE_MAX && strchr(a, ' ') != NULL;
			fed_back &= px_fake(PX_FAKE_COMPANY, key, a, m, b) > 0 && !same_ci(a, b, strlen(b));
		}
		CHECK(email_ok, "fake email: [a-z0-9._] local part at example.com, .org or .net (RFC 2606)");
		CHECK(phone_ok, "fake phone: +1-NPA-555-01XX, a well-formed area code, not N11");
		CHECK(iban_ok, "fake iban: DE, AT, GB or NL length, mod-97 check digits right (independent check)");
		CHECK(company_ok, "fake company: last names and a suffix");
		CHECK(fed_back, "composed fakes fed back as input give another fake");
	}

	CHECK(!px_iban_valid("DE89370400440532013001", 22) && px_iban_valid("DE89370400440532013000", 22) &&
		  px_iban_valid("GB82WEST12345698765432", 22) && !px_iban_valid("", 0) &&
		  !px_iban_valid("DE8937040044053201300!", 22) && !px_iban_valid(NULL, 5),
		  "IBAN check: known good ones pass, a changed digit and garbage fail");

	{
		static char huge[1 << 20];
		static const char bad_utf8[] = "\xff\xfe\xc3(\xe2\x82";
		int			ok2 = 1;

		memset(huge, 'x', sizeof(huge));
		for (int k = 0; k < PX_FAKE_KIND_COUNT; k++)
		{
			size_t		n;

			n = px_fake((px_fake_kind) k, key, "", 0, a);
			ok2 &= n > 0 && strlen(a) == n;
			n = px_fake((px_fake_kind) k, key, NULL, 0, a);
			ok2 &= n > 0 && strlen(a) == n;
			n = px_fake((px_fake_kind) k, key, huge, sizeof(huge), a);
			ok2 &= n > 0 && strlen(a) == n;
			n = px_fake((px_fake_kind) k, key, bad_utf8, sizeof(bad_utf8) - 1, a);
			ok2 &= n > 0 && strlen(a) == n;
			n = px_fake((px_fake_kind) k, key, "\xe6\x97\xa5\xe6\x9c\xac", 6, a);
			ok2 &= n > 0 && strlen(a) == n;
		}
		ok2 &= px_fake(PX_FAKE_KIND_COUNT, key, "x", 1, a) == 0 && a[0] == '\0';
		ok2 &= px_fake(PX_FAKE_EMAIL, NULL, "x", 1, a) == 0;
		CHECK(ok2, "fake: empty, NULL, 1 MB, invalid UTF-8 and multibyte input get a fake; bad kind or no key nothing");
	}
}

/* JSON paths: canonical forms, refusals, and the jsonb rule built on them. */
static void
test_json_paths(void)
{
	static const char *good[][2] = {
		{"$.a", "$.a"}, {"$.a.b_c.D9", "$.a.b_c.D9"}, {"$.\"a\"", "$.a"},
		{"$.\"x y\"", "$.\"x y\""}, {"$.\"q\\\"\\\\\"", "$.\"q\\\"\\\\\""}, {"$.\"\"", "$.\"\""},
		{"$[*]", "$[*]"}, {"$.items[*].email", "$.items[*].email"}, {"$[007]", "$[7]"},
		{"$[0][1000000]", "$[0][1000000]"}, {"$.\xc3\xa9t\xc3\xa9", "$.\xc3\xa9t\xc3\xa9"},
		{"$.\"it's\"", "$.\"it's\""}};
	static const char *bad[] = {
		"", "a", "$", "$.", "$..a", "$a", "$.a b", "$[", "$[x]", "$[-1]", "$[1", "$[1000001]",
		"$.\"a", "$.\"a\\x\"", "$.\"a\\", "$[*", "$.a.", "$ .a", "$.a[*]x", "$.a-b"};
	px_json_path path;
	px_json_path again;
	const char *error;
	size_t		at;
	char		out[PX_JSON_PATH_FORMAT_MAX];
	int			ok = 1;
	int			refused = 1;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
	{
		size_t		n;

		if (!px_json_path_parse(good[i][0], strlen(good[i][0]), &path, &error, &at))
		{
			printf("# refused good path %s: %s\n", good[i][0], error);
			ok = 0;
			continue;
		}
		n = px_json_path_format(&path, out);
		if (strcmp(out, good[i][1]) != 0 || n != strlen(out) ||
			!px_json_path_parse(out, n, &again, &error, &at) || again.nsteps != path.nsteps)
		{
			printf("# bad canonical path for %s: %s\n", good[i][0], out);
			ok = 0;
		}
	}
	CHECK(ok, "JSON paths: every form accepted, canonical text parses back");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		error = NULL;
		at = 99999;
		if (px_json_path_parse(bad[i], strlen(bad[i]), &path, &error, &at) || error == NULL ||
			at > strlen(bad[i]) + PX_JSON_PATH_MAX)
		{
			printf("# accepted bad path: %s\n", bad[i]);
			refused = 0;
		}
	}
	{
		char		longest[PX_JSON_PATH_MAX + 2];
		char		steps[80];

		memset(longest, 'a', sizeof(longest));
		longest[0] = '$';
		longest[1] = '.';
		refused &= !px_json_path_parse(longest, PX_JSON_PATH_MAX + 1, &path, &error, &at);
		ok = px_json_path_parse(longest, PX_JSON_PATH_MAX, &path, &error, &at) && path.nsteps == 1;
		memset(steps, 0, sizeof(steps));
		steps[0] = '$';
		for (int i = 0; i < 33; i++)
			memcpy(steps + 1 + 2 * i, ".a", 2);
		refused &= !px_json_path_parse(steps, 67, &path, &error, &at);
		ok &= px_json_path_parse(steps, 65, &path, &error, &at) && path.nsteps == 32;
	}
	CHECK(refused, "JSON paths: no '$', no step, bad names, escapes, indexes, too long, too many steps refused");
	CHECK(ok, "JSON paths: the longest path and the most steps accepted");
	{
		/* the step list itself: kinds, index, unescaped keys */
		const char *p = "$.\"a\\\"b\"[3][*].c";

		ok = px_json_path_parse(p, strlen(p), &path, &error, &at) && path.nsteps == 4 &&
			path.steps[0].kind == PX_JSON_STEP_KEY && path.steps[0].key_len == 3 &&
			memcmp(path.keys + path.steps[0].key_off, "a\"b", 3) == 0 &&
			path.steps[1].kind == PX_JSON_STEP_INDEX && path.steps[1].index == 3 &&
			path.steps[2].kind == PX_JSON_STEP_ALL && path.steps[3].kind == PX_JSON_STEP_KEY &&
			memcmp(path.keys + path.steps[3].key_off, "c", 1) == 0;
		CHECK(ok, "JSON paths: steps, index and unescaped member names as written");
	}
}

static void
test_fake_jsonb_rules(void)
{
	static const char *const good[][2] = {
		{"fake('first_name')", "fake('first_name')"}, {"FAKE ( 'iban' )", "fake('iban')"},
		{"jsonb('$.a' email)", "jsonb('$.a' email)"},
		{"jsonb( '$.\"a\"'  EMAIL , '$.b[*]' partial(1,'*',1),'$.c' value 'it''s')",
		 "jsonb('$.a' email, '$.b[*]' partial(1, '*', 1), '$.c' value 'it''s')"},
		{"jsonb('$.n' generalize(10), '$.m' noise(0.5), '$.f' fake('city'), '$.h' hash('k'))",
		 "jsonb('$.n' generalize(10), '$.m' noise(0.5), '$.f' fake('city'), '$.h' hash('k'))"},
		{"jsonb('$.x' none, '$.y' null, '$.z' redact, '$.w' credit_card)",
		 "jsonb('$.x' none, '$.y' null, '$.z' redact, '$.w' credit_card)"},
		{"jsonb('$.\"it''s\"' redact)", "jsonb('$.\"it''s\"' redact)"}};
	static const char *const bad[] = {
		"fake", "fake()", "fake('')", "fake('FIRST_NAME')", "fake('nope')", "fake(first_name)",
		"fake('email', 'x')", "fake('email'", "jsonb", "jsonb()", "jsonb('$.a')", "jsonb('$.a' email,)",
		"jsonb($.a email)", "jsonb('a' email)", "jsonb('$' email)", "jsonb('$.a' shuffle)",
		"jsonb('$.a' email, '$.a' redact)", "jsonb('$.a' email, '$.\"a\"' redact)",
		"jsonb('$.a' jsonb('$.b' email))", "jsonb('$.a' generalize('year'))",
		"jsonb('$.a' fake('nope'))", "jsonb('$.a' email) x", "jsonb('$.a' email",
		"jsonb('$.a' email '$.b' email)", "jsonb('$[-1]' email)", "jsonb('$.a' partial(1, '*'))",
		"jsonb('$.1' email, '$.2' email, '$.3' email, '$.4' email, '$.5' email, '$.6' email, "
		"'$.7' email, '$.8' email, '$.9' email)"};
	CHECK(rules_round_trip(good, sizeof(good) / sizeof(good[0])),
		  "fake and jsonb rules: every form accepted, canonical text parses back the same");
	CHECK(rules_refused(bad, sizeof(bad) / sizeof(bad[0])),
		  "fake and jsonb rules: wrong arity, unknown kinds, bad and repeated paths, nesting, "
		  "date units, too many paths refused");
	{
		/* the largest jsonb rule: 8 parts of the longest paths and strings */
		char		text[8 * 600];
		char		out[PX_RULE_FORMAT_MAX];
		size_t		n = (size_t) sprintf(text, "jsonb(");
		px_mask_rule rule;
		const char *error;
		size_t		at;
		int			ok;

		for (int i = 0; i < 8; i++)
		{
			n += (size_t) sprintf(text + n, "%s'$.%d", i ? ", " : "", i);
			memset(text + n, 'k', 100);
			n += 100;
			n += (size_t) sprintf(text + n, "' value '");
			memset(text + n, '\'', 2 * 20);	/* 20 quotes, doubled */
			n += 40;
			n += (size_t) sprintf(text + n, "'");
		}
		n += (size_t) sprintf(text + n, ")");
		ok = px_rule_parse(text, n, &rule, &error, &at) && rule.nparts == 8;
		ok = ok && px_rule_format(&rule, out) < sizeof(out);
		CHECK(ok, "a jsonb rule of 8 long parts parses and formats within PX_RULE_FORMAT_MAX");
		/* a pool overflow is refused, not truncated */
		n = (size_t) sprintf(text, "jsonb(");
		for (int i = 0; i < 8; i++)
		{
			n += (size_t) sprintf(text + n, "%s'$.%d' value '", i ? ", " : "", i);
			memset(text + n, 'v', 250);
			n += 250;
			n += (size_t) sprintf(text + n, "'");
		}
		n += (size_t) sprintf(text + n, ")");
		error = NULL;
		ok = !px_rule_parse(text, n, &rule, &error, &at) && error != NULL &&
			strstr(error, "too long") != NULL;
		CHECK(ok, "a jsonb rule past its pool is refused (%s)", error ? error : "no message");
	}
}

/* Personal-data recognisers (px_detect.h): each format and its decoys. */
static void
test_detect(void)
{
	static const struct
	{
		const char *value;
		unsigned	expect;		/* the bits px_detect_value must return */
	}			cases[] = {
		{"ann@example.com", PX_DETECT_BIT(PX_DETECT_EMAIL)},
		{"  j.o'neil+tag@mail.example.co.uk ", PX_DETECT_BIT(PX_DETECT_EMAIL)},
		{"jos\xc3\xa9@exampl\xc3\xa9.fr", PX_DETECT_BIT(PX_DETECT_EMAIL)},
		{"ann@localhost", 0},
		{"ann@@example.com", 0},
		{"@example.com", 0},
		{"ann.@example.com", 0},
		{"ann@example.c0m", 0},
		{"ann@-example.com", 0},
		{"4111 1111 1111 1111", PX_DETECT_BIT(PX_DETECT_PAYMENT_CARD)},
		{"4111-1111-1111-1111", PX_DETECT_BIT(PX_DETECT_PAYMENT_CARD)},
		{"5555555555554444", PX_DETECT_BIT(PX_DETECT_PAYMENT_CARD)},
		{"3782 822463 10005", PX_DETECT_BIT(PX_DETECT_PAYMENT_CARD)},
		{"4111111111111112", 0},	/* Luhn fails */
		{"4111 1111-1111 1111", 0}, /* mixed separators */
		{"1111111111111117", 0},	/* no issuer starts with 1 */
		{"4444444444444448", PX_DETECT_BIT(PX_DETECT_PAYMENT_CARD)},
		{"5555555555555555", 0},	/* Luhn-valid? all one digit anyway */
		{"DE89 3704 0044 0532 0130 00", PX_DETECT_BIT(PX_DETECT_IBAN)},
		{"GB82WEST12345698765432", PX_DETECT_BIT(PX_DETECT_IBAN)},
		{"fr1420041010050500013m02606", PX_DETECT_BIT(PX_DETECT_IBAN)},
		{"DE89 3704 0044 0532 0130 01", 0},
		{"GB82WEST1234569876543", 0},
		{"123-45-6789", PX_DETECT_BIT(PX_DETECT_US_SSN)},
		{"123 45 6789", PX_DETECT_BIT(PX_DETECT_US_SSN)},
		{"666-45-6789", 0},
		{"900-45-6789", 0},
		{"123-00-6789", 0},
		{"123-45-0000", 0},
		{"+33 1 23 45 67 89", PX_DETECT_BIT(PX_DETECT_PHONE)},
		{"+14155552671", PX_DETECT_BIT(PX_DETECT_PHONE)},
		{"(415) 555-2671", PX_DETECT_BIT(PX_DETECT_PHONE)},
		{"415-555-2671", PX_DETECT_BIT(PX_DETECT_PHONE)},
		{"030 12345678", PX_DETECT_BIT(PX_DETECT_PHONE)},
		{"0044 20 7946 0958", PX_DETECT_BIT(PX_DETECT_PHONE)},
		{"01.23.45.67.89", PX_DETECT_BIT(PX_DETECT_PHONE)},
		{"4155552671", PX_DETECT_SHAPE_BIT(PX_SHAPE_PHONE)},	/* bare digits: an id as much as a phone */
		{"4915112345601", PX_DETECT_SHAPE_BIT(PX_SHAPE_PHONE)},	/* E.164 without '+' */
		{"123456789", PX_DETECT_SHAPE_BIT(PX_SHAPE_US_SSN) | PX_DETECT_SHAPE_BIT(PX_SHAPE_PHONE) |
		PX_DETECT_BIT(PX_DETECT_POSTAL_CODE)},	/* an SSN's digits, a phone's, a ZIP+4's */
		{"012345678", PX_DETECT_SHAPE_BIT(PX_SHAPE_US_SSN) | PX_DETECT_SHAPE_BIT(PX_SHAPE_PHONE) |
		PX_DETECT_BIT(PX_DETECT_POSTAL_CODE)},
		{"666456789", PX_DETECT_SHAPE_BIT(PX_SHAPE_PHONE) | PX_DETECT_BIT(PX_DETECT_POSTAL_CODE)},
		{"900456789", PX_DETECT_SHAPE_BIT(PX_SHAPE_PHONE) | PX_DETECT_BIT(PX_DETECT_POSTAL_CODE)},
		{"000456789", PX_DETECT_SHAPE_BIT(PX_SHAPE_PHONE) | PX_DETECT_BIT(PX_DETECT_POSTAL_CODE)},
		{"123006789", PX_DETECT_SHAPE_BIT(PX_SHAPE_PHONE) | PX_DETECT_BIT(PX_DETECT_POSTAL_CODE)},
		{"123450000", PX_DETECT_SHAPE_BIT(PX_SHAPE_PHONE) | PX_DETECT_BIT(PX_DETECT_POSTAL_CODE)},
		{"12345678", PX_DETECT_SHAPE_BIT(PX_SHAPE_PHONE) | PX_DETECT_BIT(PX_DETECT_POSTAL_CODE)},	/* text keeps its zeros: no SSN */
		{"1234567", PX_DETECT_BIT(PX_DETECT_POSTAL_CODE)},
		{"0000000000", 0},			/* a placeholder, not a phone */
		{"1234567890123456", 0},	/* 16 digits: no phone, Luhn fails */
		{"378282246310005", PX_DETECT_BIT(PX_DETECT_PAYMENT_CARD) | PX_DETECT_SHAPE_BIT(PX_SHAPE_PHONE)},
		{"+1234567", 0},
		{"1.2.3.4.5.6.7.8.9", 0},
		{"192.168.1.100", PX_DETECT_BIT(PX_DETECT_IP_ADDRESS)},
		{"10.0.0.0/8", PX_DETECT_BIT(PX_DETECT_IP_ADDRESS)},
		{"256.1.1.1", 0},
		{"01.2.3.4", 0},
		{"1.2.3", 0},
		{"2001:db8::1", PX_DETECT_BIT(PX_DETECT_IP_ADDRESS)},
		{"::1", PX_DETECT_BIT(PX_DETECT_IP_ADDRESS)},
		{"fe80::1%eth0", PX_DETECT_BIT(PX_DETECT_IP_ADDRESS)},
		{"2001:0db8:0000:0000:0000:ff00:0042:8329", PX_DETECT_BIT(PX_DETECT_IP_ADDRESS)},
		{"::ffff:192.0.2.128", PX_DETECT_BIT(PX_DETECT_IP_ADDRESS)},
		{"2001:db8::1::2", 0},
		{"2001:db8:1", 0},
		{"12:30", 0},
		{"1985-06-15", PX_DETECT_BIT(PX_DETECT_DATE_OF_BIRTH)},
		{"15/06/1985", PX_DETECT_BIT(PX_DETECT_DATE_OF_BIRTH)},
		{"06/15/1985", PX_DETECT_BIT(PX_DETECT_DATE_OF_BIRTH)},
		{"15.06.1985", PX_DETECT_BIT(PX_DETECT_DATE_OF_BIRTH)},
		{"2024-02-29", 0},			/* a real date, but of a child aged 2 */
		{"1985-02-30", 0},
		{"1899-01-01", 0},
		{"1985-13-01", 0},
		{"Ann Smith", PX_DETECT_BIT(PX_DETECT_PERSON_NAME)},
		{"Smith, Ann", PX_DETECT_BIT(PX_DETECT_PERSON_NAME)},
		{"Jean-Pierre Dupont", PX_DETECT_BIT(PX_DETECT_PERSON_NAME)},
		{"Ann", PX_DETECT_BIT(PX_DETECT_PERSON_NAME)},
		{"Wang", PX_DETECT_BIT(PX_DETECT_PERSON_NAME)},
		{"Wang Wei", PX_DETECT_BIT(PX_DETECT_PERSON_NAME)},
		{"ann smith", PX_DETECT_BIT(PX_DETECT_PERSON_NAME)},
		{"red widget", 0},
		{"2024-000123", 0},
		{"(030) 1234567", PX_DETECT_BIT(PX_DETECT_PHONE)},
		{"Widget Pro 3000", 0},
		{"Deluxe Office Chair", 0},
		{"75008", PX_DETECT_BIT(PX_DETECT_POSTAL_CODE)},
		{"SW1A 1AA", PX_DETECT_BIT(PX_DETECT_POSTAL_CODE)},
		{"ORD-2024-000123", 0},
		{"SKU-AB12-9", 0},
		{"1.4.2", 0},
		{"v2.10.0-beta", 0},
		{"", 0},
		{"   ", 0},
	};
	size_t		i;
	char		huge[5000];
	PxNameHint	h;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		unsigned	got = px_detect_value(cases[i].value, strlen(cases[i].value), 2026);

		CHECK(got == cases[i].expect, "detect \"%s\": bits %#x, expected %#x",
			  cases[i].value, got, cases[i].expect);
	}
	CHECK(!px_detect_us_ssn("123-45 6789", 11), "mixed SSN separators are no SSN");

	/* numbers as a number column prints them */
	{
		static const struct
		{
			const char *value;
			unsigned	expect;
		}			numbers[] = {
			{"123450001", PX_DETECT_SHAPE_BIT(PX_SHAPE_US_SSN) | PX_DETECT_SHAPE_BIT(PX_SHAPE_PHONE) |
			PX_DETECT_BIT(PX_DETECT_POSTAL_CODE)},
			{"12345678", PX_DETECT_SHAPE_BIT(PX_SHAPE_US_SSN) | PX_DETECT_SHAPE_BIT(PX_SHAPE_PHONE) |
			PX_DETECT_BIT(PX_DETECT_POSTAL_CODE)},	/* SSN 012-34-5678 */
			{"1010001", PX_DETECT_SHAPE_BIT(PX_SHAPE_US_SSN) | PX_DETECT_BIT(PX_DETECT_POSTAL_CODE)},	/* 001-01-0001 */
			{"1000001", PX_DETECT_BIT(PX_DETECT_POSTAL_CODE)},	/* 001-00-0001: group 00 */
			{"666123456", PX_DETECT_SHAPE_BIT(PX_SHAPE_PHONE) | PX_DETECT_BIT(PX_DETECT_POSTAL_CODE)},
			{"4915112345601", PX_DETECT_SHAPE_BIT(PX_SHAPE_PHONE)},
			{"14155552671", PX_DETECT_SHAPE_BIT(PX_SHAPE_PHONE)},
			{"4111111111111111", PX_DETECT_BIT(PX_DETECT_PAYMENT_CARD)},
			{"75008", PX_DETECT_BIT(PX_DETECT_POSTAL_CODE)},
			{"2134", PX_DETECT_BIT(PX_DETECT_POSTAL_CODE)},	/* ZIP 02134 */
			{"42", 0},
			{"1", 0},
			{"123450001.00", 0},	/* an amount */
			{"-123450001", 0},
			{"4915112345601.5", 0},
			{"NaN", 0},
			{"Infinity", 0},
			{"", 0},
		};

		for (i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++)
		{
			unsigned	got = px_detect_number(numbers[i].value, strlen(numbers[i].value));

			CHECK(got == numbers[i].expect, "number \"%s\": bits %#x, expected %#x",
				  numbers[i].value, got, numbers[i].expect);
		}
		CHECK(px_detect_shape_category(PX_SHAPE_US_SSN) == PX_DETECT_US_SSN &&
			  px_detect_shape_category(PX_SHAPE_PHONE) == PX_DETECT_PHONE &&
			  px_detect_shape_category(PX_SHAPE_COUNT) == -1 && px_detect_shape_category(-1) == -1,
			  "digit shapes: the category of each, -1 out of range");
	}
	CHECK(px_luhn_valid("79927398713", 11) && !px_luhn_valid("79927398710", 11) &&
		  !px_luhn_valid("7992a398713", 11) && !px_luhn_valid("", 0),
		  "Luhn: the textbook number passes, a changed digit or a letter fails");
	memset(huge, '9', sizeof(huge));
	CHECK(px_detect_value(huge, sizeof(huge), 2026) == 0, "a 5000-digit value matches nothing");
	CHECK(px_detect_value("ann@exa\0mple.com", 16, 2026) == 0, "an embedded NUL is no e-mail");
	CHECK(px_detect_birth_date("1985-06-15", 10, 2100) == false,
		  "the age range follows the current year");
	CHECK(strcmp(px_detect_category_name(PX_DETECT_US_SSN), "us_ssn") == 0 &&
		  px_detect_category_name(PX_DETECT_COUNT) == NULL && px_detect_category_name(-1) == NULL,
		  "category names, NULL out of range");

	/* column names, in several languages */
	{
		static const struct
		{
			const char *name;
			int			category;
			bool		strong;
		}			names[] = {
			{"email", PX_DETECT_EMAIL, true},
			{"CustomerEmailAddress", PX_DETECT_EMAIL, true},
			{"courriel", PX_DETECT_EMAIL, true},
			{"youxiang", PX_DETECT_EMAIL, true},
			{"phone_number", PX_DETECT_PHONE, true},
			{"telefono", PX_DETECT_PHONE, true},
			{"t\xc3\xa9l\xc3\xa9phone", PX_DETECT_PHONE, true},
			{"shouji", PX_DETECT_PHONE, true},
			{"card_number", PX_DETECT_PAYMENT_CARD, true},
			{"iban", PX_DETECT_IBAN, true},
			{"ssn", PX_DETECT_US_SSN, true},
			{"client_ip", PX_DETECT_IP_ADDRESS, true},
			{"ipv6", PX_DETECT_IP_ADDRESS, true},
			{"date_of_birth", PX_DETECT_DATE_OF_BIRTH, true},
			{"birthdate", PX_DETECT_DATE_OF_BIRTH, true},
			{"geburtsdatum", PX_DETECT_DATE_OF_BIRTH, true},
			{"date_naissance", PX_DETECT_DATE_OF_BIRTH, true},
			{"fecha_nacimiento", PX_DETECT_DATE_OF_BIRTH, true},
			{"chusheng_riqi", PX_DETECT_DATE_OF_BIRTH, true},
			{"zip", PX_DETECT_POSTAL_CODE, true},
			{"postleitzahl", PX_DETECT_POSTAL_CODE, true},
			{"code_postal", PX_DETECT_POSTAL_CODE, true},
			{"youbian", PX_DETECT_POSTAL_CODE, true},
			{"first_name", PX_DETECT_PERSON_NAME, true},
			{"LastName", PX_DETECT_PERSON_NAME, true},
			{"prenom", PX_DETECT_PERSON_NAME, true},
			{"pr\xc3\xa9nom", PX_DETECT_PERSON_NAME, true},
			{"nom_de_famille", PX_DETECT_PERSON_NAME, true},
			{"Vorname", PX_DETECT_PERSON_NAME, true},
			{"nachname", PX_DETECT_PERSON_NAME, true},
			{"apellidos", PX_DETECT_PERSON_NAME, true},
			{"xingming", PX_DETECT_PERSON_NAME, true},
			{"name", PX_DETECT_PERSON_NAME, false},
			{"nombre", PX_DETECT_PERSON_NAME, false},
			{"ming", PX_DETECT_PERSON_NAME, false},
		};

		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		{
			h = px_detect_column_name(names[i].name, strlen(names[i].name));
			CHECK((names[i].strong ? h.strong : h.weak) == PX_DETECT_BIT(names[i].category),
				  "column name \"%s\" suggests %s (%s)", names[i].name,
				  px_detect_category_name(names[i].category), names[i].strong ? "strong" : "weak");
		}
	}
	h = px_detect_column_name("product_name", 12);
	CHECK(h.strong == 0 && h.weak == 0 && h.decoy, "product_name: no person, a decoy");
	h = px_detect_column_name("hostname", 8);
	CHECK(h.strong == 0 && h.weak == 0, "hostname: no person");
	h = px_detect_column_name("order_number", 12);
	CHECK(h.strong == 0 && h.weak == 0 && h.decoy, "order_number: a decoy");
	h = px_detect_column_name("zip_code", 8);
	CHECK(h.strong == PX_DETECT_BIT(PX_DETECT_POSTAL_CODE), "zip_code: postal code despite 'code'");
	h = px_detect_column_name("", 0);
	CHECK(h.strong == 0 && h.weak == 0 && !h.decoy, "an empty name suggests nothing");
	memset(huge, 'a', sizeof(huge));
	h = px_detect_column_name(huge, sizeof(huge));
	CHECK(h.strong == 0 && h.weak == 0, "a 5000-byte name suggests nothing");

	/* confidence */
	{
		PxNameHint	none = {0, 0, false};
		PxNameHint	email_name = {PX_DETECT_BIT(PX_DETECT_EMAIL), 0, false};
		PxNameHint	decoy = {0, 0, true};
		double		c_all = px_detect_confidence(PX_DETECT_EMAIL, 100, 100, none);
		double		c_half = px_detect_confidence(PX_DETECT_EMAIL, 100, 50, none);
		double		c_named = px_detect_confidence(PX_DETECT_EMAIL, 100, 50, email_name);
		double		c_name_only = px_detect_confidence(PX_DETECT_EMAIL, 0, 0, email_name);
		double		c_contradicted = px_detect_confidence(PX_DETECT_EMAIL, 100, 0, email_name);
		double		c_decoy = px_detect_confidence(PX_DETECT_PAYMENT_CARD, 100, 10, decoy);

		CHECK(c_all > 0.99 && c_all <= 1.0, "all sampled values e-mails: confidence 1 (%.3f)", c_all);
		CHECK(c_half > 0.49 && c_half < 0.51, "half of them: 0.5 (%.3f)", c_half);
		CHECK(c_named > c_half, "a matching name adds (%.3f > %.3f)", c_named, c_half);
		CHECK(c_name_only >= PX_DETECT_REPORT_THRESHOLD, "the name alone, nothing sampled: reported (%.3f)", c_name_only);
		CHECK(c_contradicted < PX_DETECT_REPORT_THRESHOLD, "the name contradicted by every value: not reported (%.3f)", c_contradicted);
		CHECK(c_decoy < 0.1, "10%% Luhn-valid order numbers: far below the threshold (%.3f)", c_decoy);
		{
			PxNameHint	dob_name = {PX_DETECT_BIT(PX_DETECT_DATE_OF_BIRTH), 0, false};

			CHECK(px_detect_confidence(PX_DETECT_DATE_OF_BIRTH, 100, 100, none) < PX_DETECT_REPORT_THRESHOLD &&
				  px_detect_confidence(PX_DETECT_DATE_OF_BIRTH, 100, 100, dob_name) >= PX_DETECT_REPORT_THRESHOLD,
				  "dates of adults' birth years: reported with a birth-date name only (hire dates are not births)");
		}
		/* digit shapes: evidence for a name, not alone */
		{
			PxNameHint	ssn_name = {PX_DETECT_BIT(PX_DETECT_US_SSN), 0, false};
			PxNameHint	phone_name = {PX_DETECT_BIT(PX_DETECT_PHONE), 0, false};
			PxNameHint	cell_name = {0, PX_DETECT_BIT(PX_DETECT_PHONE), false};
			double		named = px_detect_confidence_shaped(PX_DETECT_US_SSN, 50, 0, 50, ssn_name);
			double		by_name = px_detect_confidence(PX_DETECT_US_SSN, 0, 0, ssn_name);
			double		formatted = px_detect_confidence(PX_DETECT_US_SSN, 50, 50, ssn_name);
			double		alone = px_detect_confidence_shaped(PX_DETECT_US_SSN, 50, 0, 50, none);
			double		phone = px_detect_confidence_shaped(PX_DETECT_PHONE, 50, 0, 50, phone_name);
			double		cell = px_detect_confidence_shaped(PX_DETECT_PHONE, 50, 0, 50, cell_name);
			double		ids = px_detect_confidence_shaped(PX_DETECT_US_SSN, 50, 0, 0, ssn_name);
			double		mixed = px_detect_confidence_shaped(PX_DETECT_PHONE, 100, 60, 40, phone_name);
			double		decoy_ids = px_detect_confidence_shaped(PX_DETECT_PHONE, 100, 0, 100, decoy);

			CHECK(named >= PX_DETECT_REPORT_THRESHOLD && named > by_name && named < formatted,
				  "an ssn column of SSN-shaped numbers: reported, above its name alone, below formatted SSNs (%.3f, %.3f, %.3f)",
				  named, by_name, formatted);
			CHECK(alone < PX_DETECT_REPORT_THRESHOLD,
				  "9-digit numbers with no name: not reported (%.3f)", alone);
			CHECK(phone >= PX_DETECT_REPORT_THRESHOLD && cell >= PX_DETECT_REPORT_THRESHOLD && cell < phone,
				  "a phone column of bare numbers: reported, less for a vaguer name (%.3f, %.3f)", phone, cell);
			CHECK(ids < PX_DETECT_REPORT_THRESHOLD,
				  "an ssn column of small numbers: contradicted, not reported (%.3f)", ids);
			CHECK(mixed > px_detect_confidence(PX_DETECT_PHONE, 100, 60, phone_name) &&
				  mixed <= px_detect_confidence(PX_DETECT_PHONE, 100, 100, phone_name),
				  "formatted and bare phones together: bare ones add, less than formatted (%.3f)", mixed);
			CHECK(decoy_ids < 0.25, "a decoy name halves shapes too (%.3f)", decoy_ids);
			CHECK(px_detect_confidence_shaped(PX_DETECT_US_SSN, 10, 8, 9, ssn_name) <= 1.0 &&
				  px_detect_confidence_shaped(PX_DETECT_US_SSN, 10, 20, 20, none) <= 1.0 &&
				  px_detect_confidence_shaped(PX_DETECT_US_SSN, 0, 0, 5, none) == 0.0 &&
				  px_detect_confidence_shaped(PX_DETECT_US_SSN, 10, -3, -3, none) == 0.0,
				  "shapes and matches beyond the sample capped, negative counts none");
		}
		CHECK(px_detect_confidence(PX_DETECT_COUNT, 1, 1, none) == 0.0 &&
			  px_detect_confidence(PX_DETECT_EMAIL, 5, 9, none) <= 1.0,
			  "unknown category 0; more matches than samples capped");
	}
}


/* ------------------------------------------------------------------------
 * Sorted keys searched from a cursor (has_consent's ordered scans)
 * ------------------------------------------------------------------------ */

typedef struct OrderedFixture
{
	px_ordered_keys keys;
	uint32_t   *start;
	char	   *bytes;
} OrderedFixture;

typedef struct TestKey
{
	char		s[80];
	size_t		len;
} TestKey;

static int
testkey_cmp(const void *a, const void *b)
{
	const TestKey *x = a;
	const TestKey *y = b;

	return px_ordered_compare(x->s, x->len, y->s, y->len);
}

/* The distinct keys of k[0..n) as a px_ordered_keys (k is sorted in place). */
static void
ordered_fixture(OrderedFixture *f, TestKey *k, size_t n)
{
	size_t		i,
				used = 0,
				m = 0;

	qsort(k, n, sizeof(TestKey), testkey_cmp);
	f->start = xmalloc(sizeof(uint32_t) * (n + 1));
	f->bytes = xmalloc(n * 80 + 1);
	for (i = 0; i < n; i++)
	{
		if (m > 0 && testkey_cmp(&k[i], &k[i - 1]) == 0)
			continue;
		f->start[m++] = (uint32_t) used;
		memcpy(f->bytes + used, k[i].s, k[i].len);
		used += k[i].len;
	}
	f->start[m] = (uint32_t) used;
	f->keys.n = (uint32_t) m;
	f->keys.start = f->start;
	f->keys.bytes = f->bytes;
}

static int
truth_find(const OrderedFixture *f, const TestKey *q)
{
	uint32_t	lo = 0,
				hi = f->keys.n;

	while (lo < hi)
	{
		uint32_t	mid = lo + (hi - lo) / 2;
		int			c = px_ordered_compare(f->bytes + f->start[mid], f->start[mid + 1] - f->start[mid],
										   q->s, q->len);

		if (c == 0)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* Run queries through one cursor: wrong answers, and how many it gave (not -1). */
static void
run_cursor(const OrderedFixture *f, px_key_cursor *cur, const TestKey *q, size_t nq,
		   size_t *wrong, size_t *answered)
{
	size_t		i;

	*wrong = *answered = 0;
	for (i = 0; i < nq; i++)
	{
		int			r = px_ordered_find(&f->keys, cur, q[i].s, q[i].len);

		if (r == -1)
			continue;
		(*answered)++;
		if (r != truth_find(f, &q[i]))
			(*wrong)++;
	}
}

static void
test_ordered_keys(void)
{
	enum
	{
		N = 6000
	};
	TestKey    *all = xmalloc(sizeof(TestKey) * N * 2);
	TestKey    *members = xmalloc(sizeof(TestKey) * N * 2);
	TestKey    *queries = xmalloc(sizeof(TestKey) * N * 4);
	OrderedFixture f;
	px_key_cursor cur;
	size_t		nm = 0,
				nq,
				i,
				wrong,
				answered;
	int			shape;

	srand(20261202);
	/* 'c1' .. 'c6000' in table order, about half of them members */
	for (i = 0; i < N; i++)
	{
		all[i].len = (size_t) snprintf(all[i].s, sizeof(all[i].s), "c%zu", i + 1);
		if (rand() % 2 == 0)
			members[nm++] = all[i];
	}
	ordered_fixture(&f, members, nm);
	memset(&cur, 0, sizeof(cur));
	run_cursor(&f, &cur, all, N, &wrong, &answered);
	CHECK(wrong == 0, "ordered keys: subjects c1..c%d in table order, %zu answers, all exact", N, answered);
	CHECK(answered > N * 8 / 10,
		  "ordered keys: the cursor follows subjects in table order (%zu of %d answered)", answered, N);

	/* the same subjects in random order: exact, and mostly left to the caller */
	for (i = 0; i < N; i++)
		queries[i] = all[rand() % N];
	memset(&cur, 0, sizeof(cur));
	run_cursor(&f, &cur, queries, N, &wrong, &answered);
	CHECK(wrong == 0 && answered < N / 10,
		  "ordered keys: random order: exact, and the cursor stops (%zu answered)", answered);

	/* each subject three times (a child table), then descending */
	for (i = 0; i < 3 * (size_t) N; i++)
		queries[i] = all[i / 3];
	memset(&cur, 0, sizeof(cur));
	run_cursor(&f, &cur, queries, 3 * (size_t) N, &wrong, &answered);
	CHECK(wrong == 0 && answered > 3 * (size_t) N * 8 / 10,
		  "ordered keys: repeated subjects in order are followed exactly (%zu answered)", answered);
	for (i = 0; i < (size_t) N; i++)
		queries[i] = all[N - 1 - i];
	run_cursor(&f, &cur, queries, N, &wrong, &answered);
	CHECK(wrong == 0, "ordered keys: the same cursor, subjects descending: exact (%zu answered)", answered);
	free(f.start);
	free(f.bytes);

	/*
	 * Binary keys: empty, embedded zero bytes, prefixes of one another and
	 * long common prefixes past PX_CURSOR_PREFIX, queried in sorted runs
	 * with jumps between them, so every state of the cursor is met.
	 */
	for (shape = 0; shape < 3; shape++)
	{
		size_t		nall = 2 * (size_t) N;
		size_t		run = 0;

		for (i = 0; i < nall; i++)
		{
			size_t		j;
			size_t		lead = shape == 2 ? 60 : (size_t) (rand() % 3);

			all[i].len = lead + (size_t) (rand() % (shape == 0 ? 3 : 12));
			if (all[i].len > sizeof(all[i].s))
				all[i].len = sizeof(all[i].s);
			for (j = 0; j < all[i].len; j++)
				all[i].s[j] = j < lead ? 'p' : (char) (shape == 0 ? rand() % 3 : rand() % 256);
		}
		all[0].len = 0;			/* the empty key */
		nm = 0;
		for (i = 0; i < nall; i++)
			if (rand() % 3 != 0)
				members[nm++] = all[i];
		ordered_fixture(&f, members, nm);
		qsort(all, nall, sizeof(TestKey), testkey_cmp);
		for (nq = 0; nq < 4 * (size_t) N; nq++)
		{
			if (run == 0)
			{
				run = (size_t) (rand() % 400);
				i = (size_t) rand() % nall;
			}
			queries[nq] = all[i];
			i = (i + (size_t) (rand() % 3)) % nall;
			run--;
		}
		memset(&cur, 0, sizeof(cur));
		run_cursor(&f, &cur, queries, nq, &wrong, &answered);
		CHECK(wrong == 0 && answered > 0,
			  "ordered keys: binary keys (shape %d, %u distinct) in runs with jumps: %zu answers, all exact",
			  shape, f.keys.n, answered);

		/* a cursor left by this list, on a list of one key and on an empty one */
		{
			OrderedFixture g;
			TestKey		one = all[nall / 2];
			OrderedFixture e;

			ordered_fixture(&g, &one, 1);
			run_cursor(&g, &cur, queries, nq, &wrong, &answered);
			CHECK(wrong == 0, "ordered keys: shape %d's cursor on a one-key list: exact", shape);
			e.keys.n = 0;
			e.start = xmalloc(sizeof(uint32_t));
			e.start[0] = 0;
			e.bytes = xmalloc(1);
			e.keys.start = e.start;
			e.keys.bytes = e.bytes;
			cur.mode = PX_CURSOR_FOLLOWING;
			cur.pos = 12345;
			CHECK(px_ordered_find(&e.keys, &cur, queries[0].s, queries[0].len) == 0 &&
				  px_ordered_lower_bound(&e.keys, "x", 1) == 0,
				  "ordered keys: an empty list has no key, from a stale position too");
			free(g.start);
			free(g.bytes);
			free(e.start);
			free(e.bytes);
		}
		free(f.start);
		free(f.bytes);
	}
	/*
	 * 'c1' .. 'c200000' in table order: the first thousand subjects lie
	 * thousands of places apart in the list ('c64' ... 'c640000' ...
	 * 'c65'), so the cursor runs out of credit, backs off and comes back.
	 */
	{
		size_t		big = 200000;
		TestKey    *bk = xmalloc(sizeof(TestKey) * big);
		TestKey    *bm = xmalloc(sizeof(TestKey) * big);
		size_t		nbm = 0;

		for (i = 0; i < big; i++)
		{
			bk[i].len = (size_t) snprintf(bk[i].s, sizeof(bk[i].s), "c%zu", i + 1);
			if (rand() % 2 == 0)
				bm[nbm++] = bk[i];
		}
		ordered_fixture(&f, bm, nbm);
		memset(&cur, 0, sizeof(cur));
		run_cursor(&f, &cur, bk, 2000, &wrong, &answered);
		CHECK(wrong == 0 && cur.backoff > 0,
			  "ordered keys: c1..c2000 of 200000: exact, the cursor backed off (%zu answered, backoff %u)",
			  answered, cur.backoff);
		run_cursor(&f, &cur, bk + 2000, big - 2000, &wrong, &answered);
		CHECK(wrong == 0 && answered > (big - 2000) * 9 / 10,
			  "ordered keys: c2001..c200000: exact, followed again (%zu of %zu answered)",
			  answered, big - 2000);
		free(f.start);
		free(f.bytes);
		free(bk);
		free(bm);
	}
	CHECK(px_ordered_compare("ab", 2, "abc", 3) < 0 && px_ordered_compare("abc", 3, "ab", 2) > 0 &&
		  px_ordered_compare("", 0, "", 0) == 0 && px_ordered_compare("b", 1, "abc", 3) > 0 &&
		  px_ordered_compare("a\0", 2, "a", 1) > 0,
		  "ordered keys: bytewise order, a prefix first");
	free(all);
	free(members);
	free(queries);
}

int
main(void)
{
	{
		uint8_t		key[32] = {0};
		px_aead    *probe = px_aead_new(key);

		printf("# GCM short path (carry-less multiply): %s on this CPU\n",
			   probe != NULL && px_gcm_short_path(probe, true) ? "available" : "not available");
		px_aead_free(probe);
	}
	for (int path = 0; path < 2; path++)
	{
		gcm_short = (path == 0);
		test_gcm_vectors();
		test_gcm_negative_random();
		test_gcm_against_evp();
		test_gcm_seal_fresh();
		test_gcm_tail_cache();
	}
	test_envelope();
	test_armor();
	test_key_wrapping();
	test_key_ids_hex_random();
	test_siv_vectors();
	test_siv_against_evp();
	test_hkdf_vectors();
	test_det_envelope();
	test_masking_core();
	test_masking_matches_reference();
	test_rule_parser();
	test_dictionaries();
	test_fake();
	test_json_paths();
	test_fake_jsonb_rules();
	test_detect();
	test_ordered_keys();
	printf("1..%d\n", checks);
	printf("core unit tests: %d passed, %d failed\n", checks - failures, failures);
	return failures == 0 ? 0 : 1;
}
