/*
 * core_bench.c
 *		The core's short-value AES-256-GCM outside the server: opening and
 *		sealing envelopes of a 22-byte value (an e-mail of the benches) under
 *		one header, against OpenSSL's EVP AES-256-GCM doing the same work on
 *		the same values in the same run, as a ratio.
 *
 * What it shows and what it does not: the cost of px_envelope_open and
 * px_envelope_seal themselves, with the envelopes in cache and one value
 * after another in a tight loop, where the CPU overlaps the AES of one
 * value with the work of the next.  In a server scan each value comes with
 * some thousand instructions of executor work between two opens, so a
 * saving here need not show there (make bench-ab measures that).  Rounds
 * alternate the four loops; the best of the rounds of each is reported,
 * the fastest being the one least disturbed on a shared machine.
 *
 *   make bench-core
 */
/* clock_gettime under -std=c99 */
#define _POSIX_C_SOURCE 199309L

#include "px_core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>

#define VALUES 100000
#define ROUNDS 40
#define VALUE "u000000001@example.org"

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double) t.tv_sec + (double) t.tv_nsec * 1e-9;
}

/* A bench whose crypto fails has nothing to report: say which step, and stop. */
static void
fail(const char *what)
{
	fprintf(stderr, "core_bench: %s failed\n", what);
	exit(1);
}

static uint8_t *envs;
static size_t env_len;
static uint8_t key[PX_KEY_LEN];

static double
open_ours(px_aead *aead)
{
	uint8_t		out[64];
	size_t		len;
	double		t = now();
	int			i;

	for (i = 0; i < VALUES; i++)
		if (px_envelope_open(aead, envs + (size_t) i * env_len, env_len, out, &len) != PX_OK)
			fail("px_envelope_open");
	return (now() - t) / VALUES * 1e9;
}

static double
open_evp(EVP_CIPHER_CTX *ctx)
{
	uint8_t		out[64];
	double		t = now();
	int			i,
				n;

	for (i = 0; i < VALUES; i++)
	{
		const uint8_t *env = envs + (size_t) i * env_len;
		size_t		ct_len = env_len - PX_ENVELOPE_OVERHEAD;

		if (EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, env + PX_HEADER_LEN) != 1 ||
			EVP_DecryptUpdate(ctx, NULL, &n, env, PX_HEADER_LEN) != 1 ||
			EVP_DecryptUpdate(ctx, out, &n, env + PX_HEADER_LEN + PX_NONCE_LEN, (int) ct_len) != 1 ||
			EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, PX_TAG_LEN,
								(void *) (env + env_len - PX_TAG_LEN)) != 1 ||
			EVP_DecryptFinal_ex(ctx, out + n, &n) != 1)
			fail("EVP AES-256-GCM open");
	}
	return (now() - t) / VALUES * 1e9;
}

static double
seal_ours(px_aead *aead, px_nonce_pool *pool, const px_header *hdr)
{
	uint8_t		out[64 + PX_ENVELOPE_OVERHEAD];
	double		t = now();
	int			i;

	for (i = 0; i < VALUES; i++)
		if (px_envelope_seal(aead, hdr, pool, 1, (const uint8_t *) VALUE, strlen(VALUE), out) != PX_OK)
			fail("px_envelope_seal");
	return (now() - t) / VALUES * 1e9;
}

static double
seal_evp(EVP_CIPHER_CTX *ctx, const uint8_t *header)
{
	uint8_t		nonce[PX_NONCE_LEN], out[64], tag[PX_TAG_LEN];
	double		t = now();
	int			i,
				n;

	for (i = 0; i < VALUES; i++)
	{
		/* a nonce per value, as the envelope's; here counted, not drawn */
		memset(nonce, 0, sizeof(nonce));
		memcpy(nonce, &i, sizeof(i));
		if (EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, nonce) != 1 ||
			EVP_EncryptUpdate(ctx, NULL, &n, header, PX_HEADER_LEN) != 1 ||
			EVP_EncryptUpdate(ctx, out, &n, (const uint8_t *) VALUE, (int) strlen(VALUE)) != 1 ||
			EVP_EncryptFinal_ex(ctx, out + n, &n) != 1 ||
			EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, PX_TAG_LEN, tag) != 1)
			fail("EVP AES-256-GCM seal");
	}
	return (now() - t) / VALUES * 1e9;
}

int
main(void)
{
	px_header	hdr = {PX_FORMAT_V1, PX_TYPE_TEXT, 7, 1};
	uint8_t		header[PX_HEADER_LEN];
	px_nonce_pool pool;
	px_aead    *aead;
	EVP_CIPHER_CTX *dec = EVP_CIPHER_CTX_new(),
			   *enc = EVP_CIPHER_CTX_new();
	double		best[4] = {1e9, 1e9, 1e9, 1e9};
	int			r,
				i;

	memset(&pool, 0, sizeof(pool));
	if (px_random_bytes(key, sizeof(key)) != PX_OK || (aead = px_aead_new(key)) == NULL ||
		dec == NULL || enc == NULL ||
		EVP_DecryptInit_ex(dec, EVP_aes_256_gcm(), NULL, key, NULL) != 1 ||
		EVP_EncryptInit_ex(enc, EVP_aes_256_gcm(), NULL, key, NULL) != 1)
		fail("setting up the keys");
	px_header_write(&hdr, header);
	env_len = px_envelope_len(strlen(VALUE));
	envs = malloc((size_t) VALUES * env_len);
	if (envs == NULL)
		fail("allocating the envelopes");
	for (i = 0; i < VALUES; i++)
		if (px_envelope_seal(aead, &hdr, &pool, 1, (const uint8_t *) VALUE, strlen(VALUE),
							 envs + (size_t) i * env_len) != PX_OK)
			fail("sealing the envelopes");
	for (r = 0; r < ROUNDS; r++)
	{
		double		t[4];

		t[0] = open_ours(aead);
		t[1] = open_evp(dec);
		t[2] = seal_ours(aead, &pool, &hdr);
		t[3] = seal_evp(enc, header);
		for (i = 0; i < 4; i++)
			if (t[i] < best[i])
				best[i] = t[i];
	}
	printf("22-byte value, %d values, best of %d rounds (ns per value)\n", VALUES, ROUNDS);
	printf("open:  px_envelope_open %6.1f   EVP AES-256-GCM %6.1f   ratio %.2f\n",
		   best[0], best[1], best[0] / best[1]);
	printf("seal:  px_envelope_seal %6.1f   EVP AES-256-GCM %6.1f   ratio %.2f\n",
		   best[2], best[3], best[2] / best[3]);
	px_aead_free(aead);
	EVP_CIPHER_CTX_free(dec);
	EVP_CIPHER_CTX_free(enc);
	free(envs);
	return 0;
}
