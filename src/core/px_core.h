/*
 * px_core.h
 *		Backend-free core of privacy_ext: envelope format, ASCII armor,
 *		AES-256-GCM, data-key wrapping, hex and key-id helpers.
 *
 * Nothing here includes postgres.h, so the core can be unit-tested and
 * fuzzed without a server.  Functions return a px_status and never exit;
 * output buffers are supplied by the caller, whose size is given by the
 * matching *_len() helper.  The only allocation is the OpenSSL cipher
 * context owned by a px_aead, which the caller frees with px_aead_free().
 *
 * Envelope, version 1 (all integers big-endian):
 *
 *	offset	size	field
 *	0		1		format version (1)
 *	1		1		value type (px_value_type)
 *	2		4		key id
 *	6		4		key version
 *	10		12		nonce
 *	22		n		ciphertext (n = plaintext length)
 *	22+n	16		GCM tag
 *
 * The 10 header bytes are the GCM additional authenticated data, so a value
 * relabelled to another type, key or key version fails authentication.
 */
#ifndef PX_CORE_H
#define PX_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PX_KEY_LEN			32
#define PX_NONCE_LEN		12
#define PX_TAG_LEN			16
#define PX_HEADER_LEN		10
#define PX_FORMAT_V1		1
#define PX_ENVELOPE_OVERHEAD (PX_HEADER_LEN + PX_NONCE_LEN + PX_TAG_LEN)
#define PX_DET_OVERHEAD		(PX_HEADER_LEN + 16 + 1)

/* Text form of an envelope: this prefix followed by standard base64. */
#define PX_ARMOR_PREFIX		"pxe1:"
#define PX_ARMOR_PREFIX_LEN 5

/* Wrapped data key: nonce || AES-256-GCM(root key, data key) || tag */
#define PX_WRAPPED_KEY_LEN	(PX_NONCE_LEN + PX_KEY_LEN + PX_TAG_LEN)
#define PX_KEY_CHECK_LEN	8

/* Largest plaintext accepted: keeps every length computation in range. */
#define PX_MAX_PLAINTEXT	((size_t) 0x3FFFFFFF - 1024)

typedef enum px_status
{
	PX_OK = 0,
	PX_ERR_MALFORMED,			/* not an envelope: bad length, version, armor */
	PX_ERR_AUTH,				/* tag mismatch: tampered, truncated, wrong key */
	PX_ERR_CRYPTO,				/* OpenSSL failed unexpectedly */
	PX_ERR_RANDOM,				/* CSPRNG failed */
	PX_ERR_TOO_LONG				/* input exceeds PX_MAX_PLAINTEXT */
} px_status;

typedef enum px_value_type
{
	PX_TYPE_TEXT = 1,			/* privacy.encrypted_text, AES-256-GCM */
	PX_TYPE_BYTEA = 2,			/* privacy.encrypted_bytea, AES-256-GCM */
	PX_TYPE_TEXT_DET = 3		/* privacy.encrypted_text_det, AES-SIV */
} px_value_type;

typedef struct px_header
{
	uint8_t		version;
	uint8_t		type;
	uint32_t	key_id;
	uint32_t	key_version;
} px_header;

/* An AES-256-GCM key with its OpenSSL contexts, set up once and reused. */
typedef struct px_aead px_aead;

/* An AES-SIV key (RFC 5297; 32 bytes: AES-128-SIV, 64 bytes: AES-256-SIV). */
typedef struct px_siv px_siv;

#define PX_SIV_TAG_LEN		16
#define PX_SIV_KEY_LEN		64

extern const char *px_status_message(px_status status);

/* --- header and envelope ------------------------------------------------ */
extern void px_header_write(const px_header *hdr, uint8_t *out);
extern px_status px_header_read(const uint8_t *env, size_t envlen, px_header *hdr);
extern size_t px_envelope_len(size_t plaintext_len);
extern size_t px_envelope_plaintext_len(size_t envelope_len);

/* --- AES-256-GCM -------------------------------------------------------- */
extern px_aead *px_aead_new(const uint8_t key[PX_KEY_LEN]);
extern void px_aead_free(px_aead *aead);
extern bool px_gcm_short_path(px_aead *aead, bool enable);
extern px_status px_gcm_seal(px_aead *aead, const uint8_t nonce[PX_NONCE_LEN],
							 const uint8_t *aad, size_t aad_len,
							 const uint8_t *pt, size_t pt_len,
							 uint8_t *ct, uint8_t tag[PX_TAG_LEN]);
extern px_status px_gcm_open(px_aead *aead, const uint8_t nonce[PX_NONCE_LEN],
							 const uint8_t *aad, size_t aad_len,
							 const uint8_t *ct, size_t ct_len,
							 const uint8_t tag[PX_TAG_LEN], uint8_t *pt);

/*
 * Open an envelope (pt must hold px_envelope_plaintext_len(env_len) bytes;
 * px_envelope_seal is declared with the nonce pool below).
 * px_envelope_open checks the header only for length and version: the
 * caller has already chosen the key from px_header_read().
 */
extern px_status px_envelope_open(px_aead *aead, const uint8_t *env, size_t env_len,
								  uint8_t *pt, size_t *pt_len);

/* --- AES-SIV (siv.c) ---------------------------------------------------- */
extern px_siv *px_siv_new(const uint8_t *key, size_t key_len);
extern void px_siv_free(px_siv *siv);
extern px_status px_siv_seal(px_siv *siv, const uint8_t *const *ad, const size_t *ad_len,
							 int n_ad, const uint8_t *pt, size_t pt_len,
							 uint8_t v[PX_SIV_TAG_LEN], uint8_t *ct);
extern px_status px_siv_open(px_siv *siv, const uint8_t *const *ad, const size_t *ad_len,
							 int n_ad, const uint8_t v[PX_SIV_TAG_LEN],
							 const uint8_t *ct, size_t ct_len, uint8_t *pt);

/* Deterministic envelopes (envelope.c): header || SIV || E(type || plaintext). */
extern size_t px_det_envelope_len(size_t plaintext_len);
extern px_status px_det_seal(px_siv *siv, const px_header *hdr, const uint8_t *pt,
							 size_t pt_len, uint8_t *out);
extern px_status px_det_open(px_siv *siv, const uint8_t *env, size_t env_len,
							 uint8_t *out, size_t *pt_len);

/* --- ASCII armor -------------------------------------------------------- */
extern bool px_armor_has_prefix(const char *s, size_t len);
extern size_t px_armor_len(size_t env_len);
extern void px_armor_encode(const uint8_t *env, size_t env_len, char *out);
extern size_t px_armor_max_decoded_len(size_t armor_len);
extern px_status px_armor_decode(const char *s, size_t len, uint8_t *out, size_t *out_len);

/* --- root key, data-key wrapping, key ids ------------------------------- */
extern px_status px_wrap_key(const uint8_t root[PX_KEY_LEN], uint32_t key_id,
							 uint32_t key_version, const uint8_t nonce[PX_NONCE_LEN],
							 const uint8_t data_key[PX_KEY_LEN],
							 uint8_t out[PX_WRAPPED_KEY_LEN]);
extern px_status px_unwrap_key(const uint8_t root[PX_KEY_LEN], uint32_t key_id,
							   uint32_t key_version, const uint8_t *wrapped,
							   size_t wrapped_len, uint8_t data_key[PX_KEY_LEN]);
extern px_status px_root_key_check(const uint8_t root[PX_KEY_LEN],
								   uint8_t out[PX_KEY_CHECK_LEN]);
extern uint32_t px_key_id_from_name(const char *name, size_t len);
extern int	px_hex_digit(char c);
extern px_status px_hex_decode(const char *hex, size_t hex_len,
							   uint8_t *out, size_t out_len);
extern px_status px_hkdf_sha256(const uint8_t *ikm, size_t ikm_len,
								const uint8_t *salt, size_t salt_len,
								const uint8_t *info, size_t info_len,
								uint8_t *out, size_t out_len);
extern px_status px_derive_key(const uint8_t *ikm, size_t ikm_len, const char *label,
							 uint8_t *out, size_t out_len);
extern px_status px_derivation_key(const uint8_t *ikm, size_t ikm_len,
								   uint8_t out[PX_KEY_LEN]);
extern px_status px_derive_from_derivation_key(const uint8_t prk[PX_KEY_LEN], const char *label,
											   uint8_t *out, size_t out_len);
extern px_status px_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *msg,
								size_t msg_len, uint8_t out[32]);
extern px_status px_random_bytes(uint8_t *buf, size_t len);

/* A buffer of CSPRNG output from which nonces are taken (keywrap.c). */
typedef struct px_nonce_pool
{
	uint8_t		buf[PX_NONCE_LEN * 341];	/* 4092 bytes */
	size_t		pos;
	long		owner;			/* process id of the filler; 0 = empty */
} px_nonce_pool;

extern px_status px_nonce_next(px_nonce_pool *pool, long owner,
							   uint8_t nonce[PX_NONCE_LEN]);

/*
 * Seal under a fresh random nonce, drawn from pool for the process owner
 * (its pid: a forked child never reuses its parent's nonces); the nonce is
 * written to nonce, or, for a complete envelope, into the envelope (out
 * must hold px_envelope_len(pt_len) bytes).
 */
extern px_status px_gcm_seal_fresh(px_aead *aead, px_nonce_pool *pool, long owner,
								   const uint8_t *aad, size_t aad_len,
								   const uint8_t *pt, size_t pt_len,
								   uint8_t nonce[PX_NONCE_LEN], uint8_t *ct,
								   uint8_t tag[PX_TAG_LEN]);
extern px_status px_envelope_seal(px_aead *aead, const px_header *hdr,
								  px_nonce_pool *pool, long owner,
								  const uint8_t *pt, size_t pt_len, uint8_t *out);
extern void px_wipe(void *buf, size_t len);

/*
 * Wipe the first len bytes of buf rounded up to whole 8-byte words (the
 * buffer must hold them and be 8-byte aligned): for a short plaintext
 * wiped per row, where px_wipe()'s OPENSSL_cleanse costs a call and a byte
 * loop.  As OPENSSL_cleanse, stores the compiler may not drop: the empty
 * asm statement takes buf and clobbers memory, so the stores are done
 * before it (and, in the loop, keep the stores from becoming a memset call).
 */
static inline void
px_wipe_words(void *buf, size_t len)
{
#if defined(__GNUC__)
	uint64_t   *w = (uint64_t *) buf;
	size_t		i;

	for (i = 0; i < (len + 7) / 8; i++)
	{
		w[i] = 0;
		__asm__ __volatile__("" : : "r"(w) : "memory");
	}
#else
	px_wipe(buf, (len + 7) / 8 * 8);
#endif
}

#endif							/* PX_CORE_H */
