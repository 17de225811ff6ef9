/*
 * test_core.c
 *		Unit tests of the backend-free core (src/core), in TAP format.
 *
 * AES-256-GCM known answers: test cases 13-16 of McGrew & Viega, "The
 * Galois/Counter Mode of Operation (GCM)" (the 256-bit-key cases, also in
 * NIST's GCM test vectors); checked against the copy in GNU Nettle's
 * testsuite/gcm-test.c.  AES-SIV: RFC 5297 appendix A.1 and A.2.  HKDF:
 * RFC 5869 test cases 1 and 3.  Values marked "python" were computed
 * independently with Python's hashlib/hmac/cryptography.
 */
#include "px_core.h"
#include "px_mask.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

static int checks = 0;
static int failures = 0;

static void
check(int ok, const char *what)
{
	checks++;
	if (!ok)
		failures++;
	printf("%s %d - %s\n", ok ? "ok" : "not ok", checks, what);
}

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
		char		what[128];
		int			bit;

		unhex(v->key, key);
		unhex(v->iv, iv);
		aad_len = unhex(v->aad, aad);
		pt_len = unhex(v->pt, pt);
		unhex(v->ct, ct);
		unhex(v->tag, tag);
		aead = px_aead_new(key);

		check(px_gcm_seal(aead, iv, aad, aad_len, pt, pt_len, out_ct, out_tag) == PX_OK &&
			  memcmp(out_ct, ct, pt_len) == 0 && memcmp(out_tag, tag, 16) == 0,
			  (snprintf(what, sizeof(what), "%s: seal gives the published ciphertext and tag", v->name), what));
		check(px_gcm_open(aead, iv, aad, aad_len, ct, pt_len, tag, out_pt) == PX_OK &&
			  memcmp(out_pt, pt, pt_len) == 0,
			  (snprintf(what, sizeof(what), "%s: open gives the plaintext", v->name), what));

		/* Every single-bit change is rejected, and no plaintext is left behind. */
		{
			int			all_rejected = 1;
			int			all_wiped = 1;

			for (bit = 0; bit < 8 * 16; bit += 7)
			{
				uint8_t		t2[16];

				memcpy(t2, tag, 16);
				t2[bit / 8] ^= (uint8_t) (1 << (bit % 8));
				memset(out_pt, 0xAA, sizeof(out_pt));
				if (px_gcm_open(aead, iv, aad, aad_len, ct, pt_len, t2, out_pt) != PX_ERR_AUTH)
					all_rejected = 0;
				if (!all_zero(out_pt, pt_len))
					all_wiped = 0;
			}
			for (bit = 0; bit < (int) (8 * pt_len); bit += 13)
			{
				uint8_t		c2[64];

				memcpy(c2, ct, pt_len);
				c2[bit / 8] ^= (uint8_t) (1 << (bit % 8));
				memset(out_pt, 0xAA, sizeof(out_pt));
				if (px_gcm_open(aead, iv, aad, aad_len, c2, pt_len, tag, out_pt) != PX_ERR_AUTH)
					all_rejected = 0;
				if (!all_zero(out_pt, pt_len))
					all_wiped = 0;
			}
			for (bit = 0; bit < 96; bit += 11)
			{
				uint8_t		iv2[12];

				memcpy(iv2, iv, 12);
				iv2[bit / 8] ^= (uint8_t) (1 << (bit % 8));
				if (px_gcm_open(aead, iv2, aad, aad_len, ct, pt_len, tag, out_pt) != PX_ERR_AUTH)
					all_rejected = 0;
			}
			if (aad_len > 0)
			{
				uint8_t		a2[64];

				memcpy(a2, aad, aad_len);
				a2[0] ^= 1;
				if (px_gcm_open(aead, iv, a2, aad_len, ct, pt_len, tag, out_pt) != PX_ERR_AUTH)
					all_rejected = 0;
			}
			check(all_rejected, (snprintf(what, sizeof(what), "%s: any flipped bit in tag, ciphertext, nonce or AAD fails authentication", v->name), what));
			check(all_wiped, (snprintf(what, sizeof(what), "%s: a failed open zeroes the output buffer", v->name), what));
		}
		px_aead_free(aead);
	}
}

/* GCM through the core agrees with OpenSSL's EVP AES-256-GCM on random inputs of every short length. */
static void
test_gcm_against_evp(void)
{
	uint8_t		key[32], iv[12], aad[10], pt[200], ct[200], tag[16], ct2[200], tag2[16];
	px_aead    *aead;
	size_t		len;
	int			agree = 1;

	px_random_bytes(key, sizeof(key));
	aead = px_aead_new(key);
	for (len = 0; len <= 130; len++)
	{
		EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
		int			outl;

		px_random_bytes(iv, sizeof(iv));
		px_random_bytes(aad, sizeof(aad));
		px_random_bytes(pt, len);
		px_gcm_seal(aead, iv, aad, sizeof(aad), pt, len, ct, tag);
		EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, iv);
		EVP_EncryptUpdate(ctx, NULL, &outl, aad, sizeof(aad));
		EVP_EncryptUpdate(ctx, ct2, &outl, pt, (int) len);
		EVP_EncryptFinal_ex(ctx, ct2 + len, &outl);
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag2);
		EVP_CIPHER_CTX_free(ctx);
		if (memcmp(ct, ct2, len) != 0 || memcmp(tag, tag2, 16) != 0)
			agree = 0;
	}
	check(agree, "GCM matches OpenSSL EVP AES-256-GCM for plaintext lengths 0..130");
	px_aead_free(aead);
}

static void
test_envelope(void)
{
	static const size_t lengths[] = {0, 1, 15, 16, 17, 1000, 1048576};
	uint8_t		key[32];
	px_aead    *aead;
	size_t		i;
	char		what[160];

	px_random_bytes(key, sizeof(key));
	aead = px_aead_new(key);
	for (i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++)
	{
		size_t		len = lengths[i];
		uint8_t    *pt = malloc(len + 1);
		uint8_t    *env = malloc(px_envelope_len(len));
		uint8_t    *out = malloc(len + 1);
		uint8_t		nonce[PX_NONCE_LEN];
		px_header	hdr = {PX_FORMAT_V1, PX_TYPE_TEXT, 0x01020304, 7};
		px_header	back;
		size_t		out_len = 0;
		size_t		cut;
		int			ok;

		px_random_bytes(pt, len);
		px_random_bytes(nonce, sizeof(nonce));
		ok = px_envelope_seal(aead, &hdr, nonce, pt, len, env) == PX_OK &&
			px_header_read(env, px_envelope_len(len), &back) == PX_OK &&
			back.version == 1 && back.type == PX_TYPE_TEXT &&
			back.key_id == 0x01020304 && back.key_version == 7 &&
			memcmp(env + 10, nonce, PX_NONCE_LEN) == 0 &&
			px_envelope_len(len) == len + 38 &&
			px_envelope_open(aead, env, px_envelope_len(len), out, &out_len) == PX_OK &&
			out_len == len && memcmp(out, pt, len) == 0;
		snprintf(what, sizeof(what), "envelope round trip, %zu-byte plaintext, header fields and length", len);
		check(ok, what);

		/* Header bytes are authenticated: type, key id, key version. */
		ok = 1;
		{
			static const int header_bytes[] = {1, 2, 5, 6, 9};
			size_t		h;

			for (h = 0; h < 5; h++)
			{
				env[header_bytes[h]] ^= 0x01;
				if (px_envelope_open(aead, env, px_envelope_len(len), out, &out_len) != PX_ERR_AUTH)
					ok = 0;
				env[header_bytes[h]] ^= 0x01;
			}
		}
		snprintf(what, sizeof(what), "envelope (%zu bytes): a changed type, key id or key version fails authentication", len);
		check(ok, what);

		/* Truncation never opens. */
		ok = 1;
		for (cut = 1; cut <= px_envelope_len(len) && cut <= 64; cut++)
		{
			px_status	s = px_envelope_open(aead, env, px_envelope_len(len) - cut, out, &out_len);

			if (s != PX_ERR_MALFORMED && s != PX_ERR_AUTH)
				ok = 0;
		}
		snprintf(what, sizeof(what), "envelope (%zu bytes): every truncation is malformed or fails authentication", len);
		check(ok, what);
		free(pt);
		free(env);
		free(out);
	}

	{
		uint8_t		env[64] = {0};
		px_header	hdr;

		env[0] = 2;
		env[1] = PX_TYPE_TEXT;
		check(px_header_read(env, sizeof(env), &hdr) == PX_ERR_MALFORMED,
			  "format version 2 is malformed");
		env[0] = 1;
		env[1] = 9;
		check(px_header_read(env, sizeof(env), &hdr) == PX_ERR_MALFORMED,
			  "unknown type byte is malformed");
		env[1] = 0;
		check(px_header_read(env, sizeof(env), &hdr) == PX_ERR_MALFORMED,
			  "type byte 0 is malformed");
		env[1] = PX_TYPE_BYTEA;
		check(px_header_read(env, PX_ENVELOPE_OVERHEAD - 1, &hdr) == PX_ERR_MALFORMED,
			  "shorter than the fixed overhead is malformed");
	}
	px_aead_free(aead);
}

static void
test_armor(void)
{
	uint8_t		env[64];
	uint8_t		back[64];
	char		armor[128];
	size_t		len;
	size_t		back_len;
	int			ok = 1;
	int			matches_openssl = 1;

	for (len = 38; len <= 45; len++)
	{
		unsigned char ref[128];

		px_random_bytes(env, len);
		px_armor_encode(env, len, armor);
		armor[px_armor_len(len)] = '\0';
		if (strncmp(armor, "pxe1:", 5) != 0 || strlen(armor) != px_armor_len(len) ||
			px_armor_decode(armor, strlen(armor), back, &back_len) != PX_OK ||
			back_len != len || memcmp(back, env, len) != 0)
			ok = 0;
		EVP_EncodeBlock(ref, env, (int) len);
		if (strcmp((char *) ref, armor + 5) != 0)
			matches_openssl = 0;
	}
	check(ok, "armor round trip for envelope lengths 38..45 (all padding cases)");
	check(matches_openssl, "armor body equals OpenSSL's base64 (EVP_EncodeBlock)");

	{
		size_t		big = 1048576;
		uint8_t    *e = malloc(big);
		char	   *a = malloc(px_armor_len(big) + 1);
		uint8_t    *b = malloc(px_armor_max_decoded_len(px_armor_len(big)));

		px_random_bytes(e, big);
		px_armor_encode(e, big, a);
		check(px_armor_decode(a, px_armor_len(big), b, &back_len) == PX_OK &&
			  back_len == big && memcmp(b, e, big) == 0, "armor round trip for 1 MiB");
		free(e);
		free(a);
		free(b);
	}

	{
		static const char *bad[] = {
			"AQEAAAAA", "pxe2:AQEA", "pxe1:", "pxe1:AQE", "pxe1:AQEAA",
			"pxe1:AQ!A", "pxe1:AQ A", "pxe1:AQ\nA", "pxe1:A=AA", "pxe1:AA=A",
			"pxe1:QR==", "pxe1:QUJ=", "pxe1:====", "pxe1:AQEA===="
		};
		size_t		i;
		int			all = 1;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			if (px_armor_decode(bad[i], strlen(bad[i]), back, &back_len) != PX_ERR_MALFORMED)
			{
				all = 0;
				printf("# accepted bad armor: %s\n", bad[i]);
			}
		check(all, "armor decoder rejects missing prefix, bad length, bad characters, whitespace, misplaced and non-canonical padding");
		check(px_armor_decode("pxe1:QQ==", 9, back, &back_len) == PX_OK && back_len == 1 && back[0] == 'A',
			  "armor decoder accepts canonical padding");
	}
}

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
	uint8_t		root[32], other_root[32], dk[32], back[32], nonce[12], wrapped[PX_WRAPPED_KEY_LEN];
	uint8_t		check1[8], check2[8], check3[8], expected[8];

	px_random_bytes(root, sizeof(root));
	px_random_bytes(other_root, sizeof(other_root));
	px_random_bytes(dk, sizeof(dk));
	px_random_bytes(nonce, sizeof(nonce));

	check(px_wrap_key(root, 42, 3, nonce, dk, wrapped) == PX_OK &&
		  px_unwrap_key(root, 42, 3, wrapped, sizeof(wrapped), back) == PX_OK &&
		  memcmp(back, dk, 32) == 0, "data key wrap and unwrap round trip");
	check(memcmp(wrapped, nonce, 12) == 0 && !contains(wrapped, sizeof(wrapped), dk, 8),
		  "wrapped key starts with its nonce and does not hold the key in clear");
	check(px_unwrap_key(other_root, 42, 3, wrapped, sizeof(wrapped), back) == PX_ERR_AUTH,
		  "unwrap under another root key fails");
	check(px_unwrap_key(root, 43, 3, wrapped, sizeof(wrapped), back) == PX_ERR_AUTH,
		  "unwrap as another key id fails");
	check(px_unwrap_key(root, 42, 4, wrapped, sizeof(wrapped), back) == PX_ERR_AUTH,
		  "unwrap as another key version fails");
	wrapped[20] ^= 0x40;
	check(px_unwrap_key(root, 42, 3, wrapped, sizeof(wrapped), back) == PX_ERR_AUTH,
		  "unwrap of a flipped bit fails");
	check(px_unwrap_key(root, 42, 3, wrapped, sizeof(wrapped) - 1, back) == PX_ERR_MALFORMED,
		  "unwrap of a wrong length is malformed");

	px_root_key_check(root, check1);
	px_root_key_check(root, check2);
	px_root_key_check(other_root, check3);
	check(memcmp(check1, check2, 8) == 0 && memcmp(check1, check3, 8) != 0,
		  "root key check value is deterministic and differs between root keys");
	memset(root, 0x11, sizeof(root));
	px_root_key_check(root, check1);
	unhex("174f18fc99bd6d84", expected);	/* python: HMAC-SHA256(0x11*32, label)[:8] */
	check(memcmp(check1, expected, 8) == 0, "root key check value matches an independent HMAC-SHA-256");

	{
		uint8_t		transit[32];
		uint8_t		want[32];

		unhex("e77f5c8a1802ee7295660ec950f0881afb9acb8c7c617d60e6eef16de2f41a81", want);	/* python HKDF */
		check(px_derive_key(root, 32, "privacy_ext transit v1", transit, 32) == PX_OK &&
			  memcmp(transit, want, 32) == 0, "transit key derivation matches an independent HKDF-SHA-256");
	}
}

static void
test_key_ids_hex_random(void)
{
	uint8_t		out[4];
	uint8_t		n1[12], n2[12];
	uint32_t	hr = px_key_id_from_name("hr", 2);

	check(hr == 180784068u, "key id of 'hr' matches an independent SHA-256 computation");	/* python */
	check(hr == px_key_id_from_name("hr", 2) && hr != px_key_id_from_name("hr2", 3) &&
		  hr != 0 && hr < 0x80000000u, "key ids are deterministic, distinct, nonzero and 31-bit");
	check(px_hex_decode("0aFf10Bc", 8, out, 4) == PX_OK && out[0] == 0x0a && out[1] == 0xff &&
		  out[2] == 0x10 && out[3] == 0xbc, "hex decode accepts both cases");
	check(px_hex_decode("0aFf10B", 7, out, 4) == PX_ERR_MALFORMED, "hex decode rejects a wrong length");
	check(px_hex_decode("0aFf10Bg", 8, out, 4) == PX_ERR_MALFORMED, "hex decode rejects a non-hex digit");
	check(px_hex_decode("0a f10Bc", 8, out, 4) == PX_ERR_MALFORMED, "hex decode rejects whitespace");

	px_random_bytes(n1, sizeof(n1));
	px_random_bytes(n2, sizeof(n2));
	check(memcmp(n1, n2, 12) != 0, "two random nonces differ");

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
		check(distinct, "nonce pool hands out distinct nonces across refills");
		px_nonce_next(&pool, 1, a);
		px_nonce_next(&pool, 2, b);
		check(pool.owner == 2 && pool.pos == 12, "nonce pool refills when used by another process");
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

		check(px_siv_seal(siv, ad, adl, 1, pt, pt_len, v, ct) == PX_OK &&
			  memcmp(v, want, 16) == 0 && memcmp(ct, want + 16, pt_len) == 0,
			  "AES-SIV RFC 5297 A.1: seal gives the published V and ciphertext");
		check(px_siv_open(siv, ad, adl, 1, v, ct, pt_len, back) == PX_OK &&
			  memcmp(back, pt, pt_len) == 0, "AES-SIV RFC 5297 A.1: open gives the plaintext");
		v[3] ^= 0x10;
		check(px_siv_open(siv, ad, adl, 1, v, ct, pt_len, back) == PX_ERR_AUTH && all_zero(back, pt_len),
			  "AES-SIV: a flipped bit in V fails authentication and zeroes the output");
		v[3] ^= 0x10;
		ct[pt_len - 1] ^= 0x01;
		check(px_siv_open(siv, ad, adl, 1, v, ct, pt_len, back) == PX_ERR_AUTH,
			  "AES-SIV: a flipped bit in the ciphertext fails authentication");
		ct[pt_len - 1] ^= 0x01;
		ad1[0] ^= 0x01;
		check(px_siv_open(siv, ad, adl, 1, v, ct, pt_len, back) == PX_ERR_AUTH,
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

		check(px_siv_seal(siv, ad, adl, 3, pt, pt_len, v, ct) == PX_OK &&
			  memcmp(v, want, 16) == 0 && memcmp(ct, want + 16, pt_len) == 0,
			  "AES-SIV RFC 5297 A.2: seal gives the published V and ciphertext");
		check(px_siv_open(siv, ad, adl, 3, v, ct, pt_len, back) == PX_OK &&
			  memcmp(back, pt, pt_len) == 0, "AES-SIV RFC 5297 A.2: open gives the plaintext");
	}
	px_siv_free(siv);
	check(px_siv_new(key, 48) == NULL, "AES-SIV refuses a key that is neither 32 nor 64 bytes");
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
	check(agree, "AES-256-SIV matches OpenSSL EVP AES-256-SIV for plaintext lengths 1..130");
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
	check(px_hkdf_sha256(ikm, 22, salt, 13, info, 10, okm, 42) == PX_OK && memcmp(okm, want, 42) == 0,
		  "HKDF-SHA-256 RFC 5869 test case 1");
	unhex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8", want);
	check(px_hkdf_sha256(ikm, 22, NULL, 0, NULL, 0, okm, 42) == PX_OK && memcmp(okm, want, 42) == 0,
		  "HKDF-SHA-256 RFC 5869 test case 3 (empty salt and info)");
}

static void
test_det_envelope(void)
{
	static const size_t lengths[] = {0, 1, 15, 16, 17, 1000};
	uint8_t		key[64];
	px_siv	   *siv;
	size_t		i;
	char		what[128];

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
		snprintf(what, sizeof(what), "deterministic envelope, %zu-byte plaintext: same input, same bytes; round trip", len);
		check(ok, what);
		env[2] ^= 0x01;
		check(px_det_open(siv, env, px_det_envelope_len(len), out, &out_len) == PX_ERR_AUTH,
			  "deterministic envelope: a relabelled key id fails authentication");
		env[2] ^= 0x01;
		check(px_det_open(siv, env, px_det_envelope_len(len) - 1, out, &out_len) != PX_OK,
			  "deterministic envelope: truncation never opens");
		free(pt);
		free(env);
		free(env2);
		free(out);
	}
	px_siv_free(siv);
}

/* Valid UTF-8 (no split characters) in s[0..len). */
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
	check(never_equal, "mask_partial never returns its input, whatever the counts and padding");
	check(utf8_ok, "mask_partial never splits a UTF-8 character");
	check(px_mask_partial("123-45-6789", 11, 0, "***-**-", 7, 4, out) == 11 &&
		  memcmp(out, "***-**-6789", 11) == 0, "mask_partial keeps the last four characters");
	check(px_mask_email("ann@example.com", 15, out) == 13 && memcmp(out, "a***@e***.com", 13) == 0,
		  "mask_email masks local part and domain, keeps the TLD");
	check(px_mask_email("x@y@z.org", 9, out) == 13 && memcmp(out, "x***@z***.org", 13) == 0,
		  "mask_email splits at the last '@'");
	check(px_mask_credit_card("4111-1111-1111-1111", 19, out) == 19 &&
		  memcmp(out, "****-****-****-1111", 19) == 0, "mask_credit_card keeps the last four digits");
	check(px_generalize_int(-1, 10) == -10 && px_generalize_int(19, 10) == 10 &&
		  px_generalize_int(INT64_MIN, 10) <= INT64_MIN + 10, "generalize floors, also below zero, without overflow");
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
		check(in_range, "noise unit stays within [-1, 1]");
	}
}

static void
test_rule_parser(void)
{
	static const char *good[][2] = {
		{"none", "none"}, {" NULL ", "null"}, {"redact", "redact"}, {"Email", "email"},
		{"credit_card", "credit_card"},
		{"partial(0, '***-**-', 4)", "partial(0, '***-**-', 4)"},
		{"partial( 2 ,'it''s', 0 )", "partial(2, 'it''s', 0)"},
		{"hash('pseudo')", "hash('pseudo')"}, {"generalize(10)", "generalize(10)"},
		{"generalize('decade')", "generalize('decade')"}, {"noise(0.25)", "noise(0.25)"},
		{"value 'n/a'", "value 'n/a'"}};
	static const char *bad[] = {
		"", "shuffle", "partial(-1, '*', 1)", "partial(1, '*')", "partial(1, *, 1)",
		"partial(1.5, '*', 1)", "hash(pseudo)", "hash('unterminated)", "generalize(0)",
		"generalize(-5)", "generalize('week')", "noise(0)", "noise(1.5)", "noise(nan)",
		"value", "email; DROP TABLE t", "value 'x' || current_user", "redact()", "none none",
		/* found by fuzz_rule: a huge integer once reached an int conversion */
		"partial(-1555555555555555555555555", "partial(1, '*', 99999999999999999999)"};
	size_t		i;
	int			ok = 1;
	int			refused = 1;
	char		out[2 * PX_RULE_TEXT_MAX + 64];

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
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
			!px_rule_parse(out, n, &again, &error, &at) || again.kind != rule.kind)
		{
			printf("# bad canonical form for %s: %.*s\n", good[i][0], (int) n, out);
			ok = 0;
		}
	}
	check(ok, "rule parser accepts every form and its canonical text parses back the same");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		px_mask_rule rule;
		const char *error = NULL;
		size_t		at = 0;

		if (px_rule_parse(bad[i], strlen(bad[i]), &rule, &error, &at) || error == NULL)
		{
			printf("# accepted bad rule: %s\n", bad[i]);
			refused = 0;
		}
	}
	check(refused, "rule parser refuses unknown rules, wrong arity, bad parameters and trailing SQL");
}

int
main(void)
{
	test_gcm_vectors();
	test_gcm_against_evp();
	test_envelope();
	test_armor();
	test_key_wrapping();
	test_key_ids_hex_random();
	test_siv_vectors();
	test_siv_against_evp();
	test_hkdf_vectors();
	test_det_envelope();
	test_masking_core();
	test_rule_parser();
	printf("1..%d\n", checks);
	printf("core unit tests: %d passed, %d failed\n", checks - failures, failures);
	return failures == 0 ? 0 : 1;
}
