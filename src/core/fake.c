/*
 * fake.c
 *		Realistic fake values for the fake('kind') rule and
 *		privacy.mask_fake() (px_mask.h): names, cities and countries from the
 *		shipped dictionaries (px_dict.h), and e-mail addresses, phone numbers,
 *		company names and IBANs composed from them or from digits.
 *
 * Every choice is made with bytes of HMAC-SHA-256(key, kind name, 0, attempt,
 * input) (OpenSSL), so a fake is the same for the same input under the same key, and
 * nobody without the key can compute which input gave which fake.  What is
 * composed stays out of real use where a reserved range exists:
 *	e-mail	 local part from a fake first and last name, at example.com,
 *			 example.org or example.net (reserved by RFC 2606: no mailbox);
 *	phone	 +1-NPA-555-01XX, the North American numbers 555-0100 to 555-0199
 *			 reserved for fictional use, behind a well-formed area code;
 *	IBAN	 a German, Austrian, British or Dutch IBAN with random bank and
 *			 account digits and correct mod-97 check digits (ISO 13616);
 *			 there is no reserved range, so it may happen to be an account;
 *	company	 last names with a suffix from the list below (our own).
 * Backend-free: the caller supplies the key.
 */
#include "px_dict.h"
#include "px_mask.h"

#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

static const char *const fake_kind_names[PX_FAKE_KIND_COUNT] = {
	"first_name", "last_name", "email", "phone", "city", "country", "company", "iban"
};

/* Company suffixes: our own short list, generic English business words. */
static const char *const company_suffixes[] = {
	"Ltd", "Inc", "LLC", "Group", "Holdings", "Partners", "Associates", "Industries",
	"Systems", "Consulting", "Trading", "Logistics", "Labs", "Works", "Services", "& Co"
};

#define NSUFFIXES ((int) (sizeof(company_suffixes) / sizeof(company_suffixes[0])))

/* IBAN formats: country, BBAN length, letters at the start of the BBAN. */
typedef struct IbanFormat
{
	const char *country;
	int			bban_len;
	int			bban_letters;
} IbanFormat;

static const IbanFormat iban_formats[] = {
	{"DE", 18, 0},				/* 8-digit bank code, 10-digit account */
	{"AT", 16, 0},				/* 5-digit bank code, 11-digit account */
	{"GB", 18, 4},				/* 4-letter bank, 6-digit sort code, 8-digit account */
	{"NL", 14, 4}				/* 4-letter bank, 10-digit account */
};

/* Attempts with a fresh HMAC before a composed fake is changed by hand. */
#define FAKE_ATTEMPTS 4

bool
px_fake_kind_from_name(const char *s, size_t len, px_fake_kind *kind)
{
	int			i;

	if (s == NULL)
		return false;
	for (i = 0; i < PX_FAKE_KIND_COUNT; i++)
		if (strlen(fake_kind_names[i]) == len && memcmp(fake_kind_names[i], s, len) == 0)
		{
			*kind = (px_fake_kind) i;
			return true;
		}
	return false;
}

const char *
px_fake_kind_name(px_fake_kind kind)
{
	if ((int) kind < 0 || kind >= PX_FAKE_KIND_COUNT)
		return NULL;
	return fake_kind_names[kind];
}

/* A stream of choices taken from one MAC. */
typedef struct Choices
{
	uint8_t		mac[32];
	int			pos;
} Choices;

static uint32_t
choose(Choices *c, uint32_t n)
{
	uint32_t	v;

	/* 4 bytes per choice, 8 choices per MAC: more than any kind takes */
	if (c->pos > 28)
		c->pos = 0;
	v = ((uint32_t) c->mac[c->pos] << 24) | ((uint32_t) c->mac[c->pos + 1] << 16) |
		((uint32_t) c->mac[c->pos + 2] << 8) | c->mac[c->pos + 3];
	c->pos += 4;
	return n == 0 ? 0 : v % n;
}

/*
 * HMAC-SHA-256 under one key, with the OpenSSL context kept between calls:
 * fetching the algorithm and setting the key is most of an HMAC's cost on
 * short values.  One key at a time (the backend has one fake key); another
 * key sets the context up again.
 */
static EVP_MAC_CTX *mac_ctx = NULL;
static uint8_t mac_ctx_key[32];

static bool
mac_begin(const uint8_t key[32])
{
	OSSL_PARAM	params[2];

	params[0] = OSSL_PARAM_construct_utf8_string("digest", (char *) "SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (mac_ctx != NULL && memcmp(mac_ctx_key, key, 32) == 0)
		return EVP_MAC_init(mac_ctx, NULL, 0, NULL) == 1;
	if (mac_ctx == NULL)
	{
		EVP_MAC    *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);

		if (mac == NULL)
			return false;
		mac_ctx = EVP_MAC_CTX_new(mac);
		EVP_MAC_free(mac);
		if (mac_ctx == NULL)
			return false;
	}
	if (EVP_MAC_init(mac_ctx, key, 32, params) != 1)
	{
		EVP_MAC_CTX_free(mac_ctx);
		mac_ctx = NULL;
		return false;
	}
	memcpy(mac_ctx_key, key, 32);
	return true;
}

/* HMAC(key, kind name, 0, attempt, input): the choices of one attempt. */
static bool
mac_for(px_fake_kind kind, const uint8_t key[32], int attempt, const char *in, size_t len,
		Choices *c)
{
	uint8_t		prefix[24];
	size_t		name_len = strlen(fake_kind_names[kind]);
	size_t		out_len = 0;

	memcpy(prefix, fake_kind_names[kind], name_len);
	prefix[name_len] = 0;
	prefix[name_len + 1] = (uint8_t) attempt;
	c->pos = 0;
	return mac_begin(key) &&
		EVP_MAC_update(mac_ctx, prefix, name_len + 2) == 1 &&
		(len == 0 || EVP_MAC_update(mac_ctx, (const unsigned char *) in, len) == 1) &&
		EVP_MAC_final(mac_ctx, c->mac, &out_len, sizeof(c->mac)) == 1 && out_len == 32;
}

static unsigned char
lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char) (c + ('a' - 'A')) : c;
}

/*
 * Byte i of s with case folded: ASCII letters, and the upper-case letters
 * of Latin-1 (UTF-8 C3 80..9E but the multiplication sign, the only accents
 * the dictionaries hold) to their lower-case form, which keeps the length.
 */
static unsigned char
folded_at(const char *s, size_t i)
{
	unsigned char c = (unsigned char) s[i];

	if (c >= 'A' && c <= 'Z')
		return (unsigned char) (c + ('a' - 'A'));
	/* 0xC3 is a lead byte, never a continuation, so s[i] follows it in one character */
	if (i > 0 && (unsigned char) s[i - 1] == 0xC3 && c >= 0x80 && c <= 0x9E && c != 0x97)
		return (unsigned char) (c + 0x20);
	return c;
}

/* Equal with case folded as above (every other byte compared exactly). */
static bool
same_text(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t		i;

	if (alen != blen)
		return false;
	for (i = 0; i < alen; i++)
		if (folded_at(a, i) != folded_at(b, i))
			return false;
	return true;
}

/* Copy with a bound; returns the new length (out always NUL-terminated). */
static size_t
append(char *out, size_t n, const char *s)
{
	size_t		len;

	if (s == NULL)
	{
		out[n] = '\0';
		return n;
	}
	len = strlen(s);

	if (len > PX_FAKE_MAX - 1 - n)
		len = PX_FAKE_MAX - 1 - n;
	memcpy(out + n, s, len);
	out[n + len] = '\0';
	return n + len;
}

/*
 * A dictionary entry that is not the input: the chosen one, or the next
 * one that differs from the input with case folded (entries are unique
 * without ASCII case, so that is nearly always the neighbour; Latin-1 case
 * may make two entries the same).
 */
static const char *
dict_pick(PxDictKind dict, Choices *c, const char *in, size_t len)
{
	int			size = px_dict_size(dict);
	int			i = (int) choose(c, (uint32_t) size);
	int			tried;

	/* a build without data/dict has empty dictionaries: no fake, not a crash */
	if (size < 2)
		return NULL;
	for (tried = 0; tried < size; tried++)
	{
		const char *e = px_dict_entry(dict, (i + tried) % size);

		if (!same_text(e, strlen(e), in, len))
			return e;
	}
	return NULL;
}

/*
 * A name folded into an e-mail local part: ASCII letters lowercased, the
 * Latin-1 accented letters (UTF-8 C3 xx) to their base letter, everything
 * else (spaces, hyphens, apostrophes, other scripts) dropped.
 */
static size_t
fold_for_email(const char *name, char *out, size_t cap)
{
	/* U+00C0 .. U+00FF; '\0' where no letter is meant */
	static const char latin1[65] =
		"aaaaaaaceeeeiiiidnooooo\0ouuuuyts"
		"aaaaaaaceeeeiiiidnooooo\0ouuuuyty";
	const unsigned char *s = (const unsigned char *) name;
	size_t		n = 0;

	while (*s && n + 1 < cap)
	{
		if ((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9'))
			out[n++] = (char) *s++;
		else if (*s >= 'A' && *s <= 'Z')
			out[n++] = (char) lower(*s++);
		else if (*s == 0xC3 && s[1] >= 0x80 && s[1] <= 0xBF)
		{
			char		base = latin1[s[1] - 0x80];

			if (base)
				out[n++] = base;
			s += 2;
		}
		else
			s++;
	}
	if (n == 0)
		out[n++] = 'x';
	out[n] = '\0';
	return n;
}

static size_t
make_email(Choices *c, char *out)
{
	static const char *const tlds[] = {"com", "org", "net"};
	char		first[64];
	char		last[64];
	char		buf[24];
	size_t		n = 0;

	fold_for_email(dict_pick(PX_DICT_FIRST_NAMES, c, NULL, 0), first, sizeof(first));
	fold_for_email(dict_pick(PX_DICT_LAST_NAMES, c, NULL, 0), last, sizeof(last));
	switch (choose(c, 4))
	{
		case 0:
			n = append(out, n, first);
			n = append(out, n, ".");
			n = append(out, n, last);
			break;
		case 1:
			n = append(out, n, first);
			n = append(out, n, "_");
			n = append(out, n, last);
			break;
		case 2:
			buf[0] = first[0];
			buf[1] = '\0';
			n = append(out, n, buf);
			n = append(out, n, last);
			break;
		default:
			n = append(out, n, first);
			n = append(out, n, ".");
			n = append(out, n, last);
			snprintf(buf, sizeof(buf), "%u", (unsigned) (10 + choose(c, 90)));
			n = append(out, n, buf);
			break;
	}
	snprintf(buf, sizeof(buf), "@example.%s", tlds[choose(c, 3)]);
	return append(out, n, buf);
}

static size_t
make_phone(Choices *c, char *out)
{
	int			a = 2 + (int) choose(c, 8);
	int			b = (int) choose(c, 9);	/* 0-8: no 9 in an area code's middle */
	int			d = (int) choose(c, 10);

	if (b == 1 && d == 1)
		d = 2;					/* N11 codes are service codes */
	return (size_t) snprintf(out, PX_FAKE_MAX, "+1-%d%d%d-555-01%02u", a, b, d,
							 (unsigned) choose(c, 100));
}

static size_t
make_company(Choices *c, char *out)
{
	const char *a = dict_pick(PX_DICT_LAST_NAMES, c, NULL, 0);
	const char *b = dict_pick(PX_DICT_LAST_NAMES, c, NULL, 0);
	const char *suffix = company_suffixes[choose(c, NSUFFIXES)];
	size_t		n = 0;

	switch (choose(c, 3))
	{
		case 0:
			n = append(out, n, a);
			n = append(out, n, " ");
			n = append(out, n, suffix);
			break;
		case 1:
			n = append(out, n, a);
			n = append(out, n, " & ");
			n = append(out, n, b);
			break;
		default:
			n = append(out, n, a);
			n = append(out, n, "-");
			n = append(out, n, b);
			n = append(out, n, " ");
			n = append(out, n, suffix);
			break;
	}
	return n;
}

/*
 * The remainder mod 97 of an IBAN's digits, its first four characters
 * moved to the end and letters read as 10..35 (ISO 13616); -1 for a
 * character that is neither a digit nor an ASCII letter.
 */
static int
iban_mod97(const char *s, size_t len)
{
	int			r = 0;
	size_t		i;

	for (i = 0; i < len; i++)
	{
		unsigned char ch = (unsigned char) s[(i + 4) % len];

		if (ch >= '0' && ch <= '9')
			r = (r * 10 + (ch - '0')) % 97;
		else if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z'))
		{
			int			v = lower(ch) - 'a' + 10;

			r = (r * 100 + v) % 97;
		}
		else
			return -1;
	}
	return r;
}

bool
px_iban_valid(const char *s, size_t len)
{
	size_t		i;

	if (s == NULL || len < 5 || len > 34)
		return false;
	for (i = 0; i < 2; i++)
		if (!(s[i] >= 'A' && s[i] <= 'Z'))
			return false;
	for (i = 2; i < 4; i++)
		if (!(s[i] >= '0' && s[i] <= '9'))
			return false;
	return iban_mod97(s, len) == 1;
}

/* Check digits of country + "00" + bban written into out[2..3]. */
static void
iban_set_check(char *out, size_t len)
{
	int			r;

	out[2] = '0';
	out[3] = '0';
	r = 98 - iban_mod97(out, len);
	out[2] = (char) ('0' + r / 10);
	out[3] = (char) ('0' + r % 10);
}

static size_t
make_iban(Choices *c, char *out)
{
	const IbanFormat *f = &iban_formats[choose(c, 4)];
	size_t		len = 4 + (size_t) f->bban_len;
	int			i;
	uint32_t	v = 0;

	memcpy(out, f->country, 2);
	for (i = 0; i < f->bban_len; i++)
	{
		/* four characters from each 32-bit choice (26^4 < 2^32) */
		if (i % 4 == 0)
			v = choose(c, 0xFFFFFFFFu);
		if (i < f->bban_letters)
		{
			out[4 + i] = (char) ('A' + v % 26);
			v /= 26;
		}
		else
		{
			out[4 + i] = (char) ('0' + v % 10);
			v /= 10;
		}
	}
	out[len] = '\0';
	iban_set_check(out, len);
	return len;
}

/* A deterministic change of a composed fake, for when it equals the input. */
static size_t
change(px_fake_kind kind, char *out, size_t n)
{
	switch (kind)
	{
		case PX_FAKE_PHONE:
		case PX_FAKE_IBAN:
			/* the last digit of the number or account */
			out[n - 1] = (char) (out[n - 1] == '9' ? '0' : out[n - 1] + 1);
			if (kind == PX_FAKE_IBAN)
				iban_set_check(out, n);
			return n;
		case PX_FAKE_EMAIL:
			memmove(out + 1, out, n + 1 < PX_FAKE_MAX ? n + 1 : PX_FAKE_MAX - 1);
			out[0] = 'x';
			out[PX_FAKE_MAX - 1] = '\0';
			return strlen(out);
		default:
			/* company: a different length cannot be the same text */
			if (n + 4 < PX_FAKE_MAX)
				return append(out, n, " Ltd");
			out[n - 1] = '\0';
			return n - 1;
	}
}

size_t
px_fake(px_fake_kind kind, const uint8_t key[32], const char *in, size_t len, char out[PX_FAKE_MAX])
{
	Choices		c;
	size_t		n = 0;
	int			attempt;

	out[0] = '\0';
	if ((int) kind < 0 || kind >= PX_FAKE_KIND_COUNT || key == NULL)
		return 0;
	if (in == NULL)
		len = 0;
	for (attempt = 0; attempt < FAKE_ATTEMPTS; attempt++)
	{
		if (!mac_for(kind, key, attempt, in, len, &c))
		{
			out[0] = '\0';
			return 0;
		}
		switch (kind)
		{
			case PX_FAKE_FIRST_NAME:
				return append(out, 0, dict_pick(PX_DICT_FIRST_NAMES, &c, in, len));
			case PX_FAKE_LAST_NAME:
				return append(out, 0, dict_pick(PX_DICT_LAST_NAMES, &c, in, len));
			case PX_FAKE_CITY:
				return append(out, 0, dict_pick(PX_DICT_CITIES, &c, in, len));
			case PX_FAKE_COUNTRY:
				return append(out, 0, dict_pick(PX_DICT_COUNTRIES, &c, in, len));
			default:
				break;
		}
		if ((kind == PX_FAKE_EMAIL || kind == PX_FAKE_COMPANY) &&
			(px_dict_size(PX_DICT_FIRST_NAMES) < 2 || px_dict_size(PX_DICT_LAST_NAMES) < 2))
			return 0;
		switch (kind)
		{
			case PX_FAKE_EMAIL:
				n = make_email(&c, out);
				break;
			case PX_FAKE_PHONE:
				n = make_phone(&c, out);
				break;
			case PX_FAKE_COMPANY:
				n = make_company(&c, out);
				break;
			case PX_FAKE_IBAN:
				n = make_iban(&c, out);
				break;
			default:
				return 0;
		}
		if (!same_text(out, n, in, len))
			return n;
	}
	/* FAKE_ATTEMPTS fakes all equal to the input: change the last one */
	return change(kind, out, n);
}
