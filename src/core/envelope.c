/*
 * envelope.c
 *		The version-1 envelope (see px_core.h) and its ASCII armor.
 */
#include "px_core.h"

#include <string.h>

static const char base64_chars[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

const char *
px_status_message(px_status status)
{
	switch (status)
	{
		case PX_OK:
			return "success";
		case PX_ERR_MALFORMED:
			return "malformed envelope";
		case PX_ERR_AUTH:
			return "authentication failed";
		case PX_ERR_CRYPTO:
			return "cryptographic library failure";
		case PX_ERR_RANDOM:
			return "random number generator failure";
		case PX_ERR_TOO_LONG:
			return "value too long";
	}
	return "unknown status";
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) (v >> 24);
	p[1] = (uint8_t) (v >> 16);
	p[2] = (uint8_t) (v >> 8);
	p[3] = (uint8_t) v;
}

static uint32_t
get_be32(const uint8_t *p)
{
	return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) |
		((uint32_t) p[2] << 8) | (uint32_t) p[3];
}

void
px_header_write(const px_header *hdr, uint8_t *out)
{
	out[0] = hdr->version;
	out[1] = hdr->type;
	put_be32(out + 2, hdr->key_id);
	put_be32(out + 6, hdr->key_version);
}

px_status
px_header_read(const uint8_t *env, size_t env_len, px_header *hdr)
{
	if (env_len < PX_HEADER_LEN || env[0] != PX_FORMAT_V1)
		return PX_ERR_MALFORMED;
	if (env[1] < PX_TYPE_TEXT || env[1] > PX_TYPE_TEXT_DET)
		return PX_ERR_MALFORMED;
	if (env_len < (env[1] == PX_TYPE_TEXT_DET ? PX_DET_OVERHEAD : PX_ENVELOPE_OVERHEAD))
		return PX_ERR_MALFORMED;
	hdr->version = env[0];
	hdr->type = env[1];
	hdr->key_id = get_be32(env + 2);
	hdr->key_version = get_be32(env + 6);
	return PX_OK;
}

size_t
px_envelope_len(size_t plaintext_len)
{
	return plaintext_len + PX_ENVELOPE_OVERHEAD;
}

size_t
px_envelope_plaintext_len(size_t envelope_len)
{
	return envelope_len < PX_ENVELOPE_OVERHEAD ? 0 : envelope_len - PX_ENVELOPE_OVERHEAD;
}

px_status
px_envelope_seal(px_aead *aead, const px_header *hdr, px_nonce_pool *pool, long owner,
				 const uint8_t *pt, size_t pt_len, uint8_t *out)
{
	if (pt_len > PX_MAX_PLAINTEXT)
		return PX_ERR_TOO_LONG;
	px_header_write(hdr, out);
	return px_gcm_seal_fresh(aead, pool, owner, out, PX_HEADER_LEN, pt, pt_len,
							 out + PX_HEADER_LEN,
							 out + PX_HEADER_LEN + PX_NONCE_LEN,
							 out + PX_HEADER_LEN + PX_NONCE_LEN + pt_len);
}

px_status
px_envelope_open(px_aead *aead, const uint8_t *env, size_t env_len,
				 uint8_t *pt, size_t *pt_len)
{
	size_t		ct_len;
	px_status	status;

	if (env_len < PX_ENVELOPE_OVERHEAD || env[0] != PX_FORMAT_V1)
		return PX_ERR_MALFORMED;
	ct_len = env_len - PX_ENVELOPE_OVERHEAD;
	status = px_gcm_open(aead, env + PX_HEADER_LEN, env, PX_HEADER_LEN,
						 env + PX_HEADER_LEN + PX_NONCE_LEN, ct_len,
						 env + env_len - PX_TAG_LEN, pt);
	if (status == PX_OK)
		*pt_len = ct_len;
	return status;
}

bool
px_armor_has_prefix(const char *s, size_t len)
{
	return len >= PX_ARMOR_PREFIX_LEN &&
		memcmp(s, PX_ARMOR_PREFIX, PX_ARMOR_PREFIX_LEN) == 0;
}

size_t
px_armor_len(size_t env_len)
{
	return PX_ARMOR_PREFIX_LEN + 4 * ((env_len + 2) / 3);
}

void
px_armor_encode(const uint8_t *env, size_t env_len, char *out)
{
	size_t		i;
	char	   *p = out;

	memcpy(p, PX_ARMOR_PREFIX, PX_ARMOR_PREFIX_LEN);
	p += PX_ARMOR_PREFIX_LEN;
	for (i = 0; i + 2 < env_len; i += 3)
	{
		uint32_t	v = ((uint32_t) env[i] << 16) | ((uint32_t) env[i + 1] << 8) | env[i + 2];

		*p++ = base64_chars[(v >> 18) & 0x3F];
		*p++ = base64_chars[(v >> 12) & 0x3F];
		*p++ = base64_chars[(v >> 6) & 0x3F];
		*p++ = base64_chars[v & 0x3F];
	}
	if (i < env_len)
	{
		uint32_t	v = (uint32_t) env[i] << 16;

		if (i + 1 < env_len)
			v |= (uint32_t) env[i + 1] << 8;
		*p++ = base64_chars[(v >> 18) & 0x3F];
		*p++ = base64_chars[(v >> 12) & 0x3F];
		*p++ = (i + 1 < env_len) ? base64_chars[(v >> 6) & 0x3F] : '=';
		*p++ = '=';
	}
}

size_t
px_armor_max_decoded_len(size_t armor_len)
{
	if (armor_len < PX_ARMOR_PREFIX_LEN)
		return 0;
	return (armor_len - PX_ARMOR_PREFIX_LEN) / 4 * 3 + 3;
}

static int
base64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Strict decoder: the body must be canonical padded base64 with no
 * whitespace, so that every envelope has exactly one text form.
 */
px_status
px_armor_decode(const char *s, size_t len, uint8_t *out, size_t *out_len)
{
	const char *body;
	size_t		body_len;
	size_t		i;
	size_t		n = 0;

	if (!px_armor_has_prefix(s, len))
		return PX_ERR_MALFORMED;
	body = s + PX_ARMOR_PREFIX_LEN;
	body_len = len - PX_ARMOR_PREFIX_LEN;
	if (body_len == 0 || body_len % 4 != 0)
		return PX_ERR_MALFORMED;

	for (i = 0; i < body_len; i += 4)
	{
		int			a = base64_value(body[i]);
		int			b = base64_value(body[i + 1]);
		int			c = base64_value(body[i + 2]);
		int			d = base64_value(body[i + 3]);
		bool		last = (i + 4 == body_len);

		if (a < 0 || b < 0)
			return PX_ERR_MALFORMED;
		if (last && body[i + 2] == '=' && body[i + 3] == '=')
		{
			if (b & 0x0F)
				return PX_ERR_MALFORMED;	/* non-canonical */
			out[n++] = (uint8_t) ((a << 2) | (b >> 4));
			break;
		}
		if (c < 0)
			return PX_ERR_MALFORMED;
		if (last && body[i + 3] == '=')
		{
			if (c & 0x03)
				return PX_ERR_MALFORMED;
			out[n++] = (uint8_t) ((a << 2) | (b >> 4));
			out[n++] = (uint8_t) ((b << 4) | (c >> 2));
			break;
		}
		if (d < 0)
			return PX_ERR_MALFORMED;
		out[n++] = (uint8_t) ((a << 2) | (b >> 4));
		out[n++] = (uint8_t) ((b << 4) | (c >> 2));
		out[n++] = (uint8_t) ((c << 6) | d);
	}
	*out_len = n;
	return PX_OK;
}

/*
 * Deterministic envelope (type PX_TYPE_TEXT_DET), version 1:
 *
 *	offset	size	field
 *	0		10		header, as above (the AES-SIV associated data)
 *	10		16		synthetic IV V
 *	26		1+n		AES-SIV ciphertext of (type byte || plaintext)
 *
 * The type byte in front of the plaintext keeps the SIV input non-empty:
 * OpenSSL's AES-SIV (and implementations built on it) refuse an empty
 * plaintext, and the empty string must still be decryptable elsewhere.
 */
size_t
px_det_envelope_len(size_t plaintext_len)
{
	return PX_HEADER_LEN + PX_SIV_TAG_LEN + 1 + plaintext_len;
}

px_status
px_det_seal(px_siv *siv, const px_header *hdr, const uint8_t *pt, size_t pt_len,
			uint8_t *out)
{
	const uint8_t *ad[1];
	size_t		ad_len[1] = {PX_HEADER_LEN};
	uint8_t    *body = out + PX_HEADER_LEN + PX_SIV_TAG_LEN;

	if (pt_len > PX_MAX_PLAINTEXT)
		return PX_ERR_TOO_LONG;
	px_header_write(hdr, out);
	ad[0] = out;
	/* Lay out (type || plaintext) where the ciphertext goes; seal in place. */
	body[0] = hdr->type;
	memcpy(body + 1, pt, pt_len);
	return px_siv_seal(siv, ad, ad_len, 1, body, pt_len + 1,
					   out + PX_HEADER_LEN, body);
}

/*
 * Opens a deterministic envelope into out (env_len - 26 bytes): on success
 * out[0] is the type byte and the plaintext is the *pt_len bytes after it.
 */
px_status
px_det_open(px_siv *siv, const uint8_t *env, size_t env_len, uint8_t *out, size_t *pt_len)
{
	const uint8_t *ad[1];
	size_t		ad_len[1] = {PX_HEADER_LEN};
	size_t		body_len;
	px_status	status;

	if (env_len < px_det_envelope_len(0) || env[0] != PX_FORMAT_V1)
		return PX_ERR_MALFORMED;
	body_len = env_len - PX_HEADER_LEN - PX_SIV_TAG_LEN;
	ad[0] = env;
	status = px_siv_open(siv, ad, ad_len, 1, env + PX_HEADER_LEN,
						 env + PX_HEADER_LEN + PX_SIV_TAG_LEN, body_len, out);
	if (status == PX_OK && out[0] != env[1])
	{
		px_wipe(out, body_len);
		status = PX_ERR_MALFORMED;
	}
	if (status == PX_OK)
		*pt_len = body_len - 1;
	return status;
}
