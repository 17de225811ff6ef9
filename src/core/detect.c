/*
 * detect.c
 *		Recognisers of personal data for privacy.detect_personal_data()
 *		(px_detect.h): values, column names, and the confidence from both.
 *
 * Each value recogniser is a strict parser of one format, so that decoys
 * (order numbers, product codes, version strings) fail it: card numbers
 * must pass Luhn, IBANs mod 97, SSNs the ranges the SSA issues, dates of
 * birth a calendar check and an age range.  Formats that overlap are
 * settled here once: an SSN or an IPv4 address is not also a phone number.
 */
#include "px_detect.h"
#include "px_dict.h"

#include <string.h>

static const char *const category_names[PX_DETECT_COUNT] = {
	[PX_DETECT_EMAIL] = "email",
	[PX_DETECT_PAYMENT_CARD] = "payment_card",
	[PX_DETECT_IBAN] = "iban",
	[PX_DETECT_US_SSN] = "us_ssn",
	[PX_DETECT_PHONE] = "phone",
	[PX_DETECT_IP_ADDRESS] = "ip_address",
	[PX_DETECT_DATE_OF_BIRTH] = "date_of_birth",
	[PX_DETECT_PERSON_NAME] = "person_name",
	[PX_DETECT_POSTAL_CODE] = "postal_code",
};

const char *
px_detect_category_name(int category)
{
	if (category < 0 || category >= PX_DETECT_COUNT)
		return NULL;
	return category_names[category];
}

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_alnum(unsigned char c)
{
	return is_digit(c) || is_alpha(c);
}

static bool
is_hex(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A letter of a name or a domain: ASCII, or any byte of a UTF-8 sequence. */
static bool
is_word_byte(unsigned char c)
{
	return is_alnum(c) || c >= 0x80;
}

static unsigned char
lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char) (c + ('a' - 'A')) : c;
}

/* --- e-mail --------------------------------------------------------------- */

static bool
email_local_byte(unsigned char c)
{
	return is_word_byte(c) || (c != '\0' && strchr("!#$%&'*+/=?^_`{|}~.-", c) != NULL);
}

bool
px_detect_email(const char *s, size_t len)
{
	size_t		at;
	size_t		i;
	size_t		label_start;
	int			labels = 0;
	bool		tld_ok = true;

	if (len < 6 || len > 254)
		return false;
	for (at = len; at > 0 && s[at - 1] != '@'; at--)
		;
	if (at == 0)
		return false;
	at--;						/* index of the last '@' */
	if (at == 0 || at > 64 || at + 1 >= len)
		return false;
	for (i = 0; i < at; i++)
	{
		if (!email_local_byte((unsigned char) s[i]))
			return false;
		if (s[i] == '.' && (i == 0 || i == at - 1 || s[i - 1] == '.'))
			return false;
	}
	/* the domain: labels of letters, digits and inner hyphens */
	label_start = at + 1;
	for (i = at + 1; i <= len; i++)
	{
		if (i == len || s[i] == '.')
		{
			size_t		llen = i - label_start;
			size_t		j;

			if (llen == 0 || llen > 63 || s[label_start] == '-' || s[i - 1] == '-')
				return false;
			labels++;
			/* the last label decides: a top-level domain of letters */
			tld_ok = llen >= 2;
			for (j = label_start; j < i; j++)
				if (!is_alpha((unsigned char) s[j]) && (unsigned char) s[j] < 0x80)
					tld_ok = false;
			if (llen > 4 && memcmp(s + label_start, "xn--", 4) == 0)
				tld_ok = true;
			label_start = i + 1;
			continue;
		}
		if (!is_word_byte((unsigned char) s[i]) && s[i] != '-')
			return false;
	}
	return labels >= 2 && tld_ok;
}

/* --- phone numbers ---------------------------------------------------------- */

static bool
ssn_shape(const char *s, size_t len)
{
	/* ddd-dd-dddd or ddd dd dddd, ranges aside */
	static const char shape[] = "ddd-dd-dddd";
	size_t		i;

	if (len != 11 || (s[3] != '-' && s[3] != ' ') || s[6] != s[3])
		return false;
	for (i = 0; i < 11; i++)
		if (shape[i] == 'd' && !is_digit((unsigned char) s[i]))
			return false;
	return true;
}

bool
px_detect_phone(const char *s, size_t len)
{
	size_t		i = 0;
	int			digits = 0;
	int			groups = 0;
	int			group_len = 0;
	int			short_groups = 0;	/* groups of one digit after the first */
	int			run_of_separators = 0;
	int			open_parens = 0;
	int			parens = 0;
	bool		plus = false;
	bool		only_dots = true;

	if (len < 7 || len > 32)
		return false;
	if (s[0] == '+')
	{
		plus = true;
		i = 1;
	}
	if (!is_digit((unsigned char) s[len - 1]))
		return false;
	for (; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (is_digit(c))
		{
			digits++;
			group_len++;
			run_of_separators = 0;
			continue;
		}
		if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')' && c != '/')
			return false;
		if (c != '.')
			only_dots = false;
		if (c == '(')
		{
			if (open_parens || parens)
				return false;
			open_parens = 1;
			parens = 1;
		}
		else if (c == ')')
		{
			if (!open_parens)
				return false;
			open_parens = 0;
		}
		if (group_len > 0)
		{
			if (group_len == 1 && groups > 0)
				short_groups++;
			groups++;
			group_len = 0;
		}
		if (++run_of_separators > 2)
			return false;
	}
	if (open_parens)
		return false;
	groups++;					/* the last one: the value ends in a digit */
	if (group_len == 1)
		short_groups++;
	if (plus)
		return digits >= 8 && digits <= 15;
	if (ssn_shape(s, len) || (only_dots && px_detect_ipv4(s, len)))
		return false;
	/* international without '+': 00 and a country code */
	if (s[0] == '0' && len > 1 && s[1] == '0' && digits >= 10 && digits <= 15 && groups >= 2)
		return true;
	/*
	 * national: grouped, so that bare numbers (ids, amounts) stay out; two
	 * groups only after a trunk prefix or an area code in parentheses
	 * (030 12345678, (030) 1234567), not 2024-000123
	 */
	if (groups == 2 && s[0] != '0' && !parens)
		return false;
	return digits >= 9 && digits <= 11 && groups >= 2 && groups <= 6 && short_groups == 0;
}

/* --- payment cards ---------------------------------------------------------- */

bool
px_luhn_valid(const char *digits, size_t n)
{
	int			sum = 0;
	size_t		i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++)
	{
		int			d = digits[n - 1 - i] - '0';

		if (d < 0 || d > 9)
			return false;
		if (i % 2 == 1)
		{
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	return sum % 10 == 0;
}

bool
px_detect_payment_card(const char *s, size_t len)
{
	char		digits[20];
	size_t		n = 0;
	size_t		i;
	size_t		group_len = 0;
	int			groups = 0;
	char		sep = '\0';
	bool		all_same = true;

	if (len < 13 || len > 23)
		return false;
	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (is_digit(c))
		{
			if (n == 19)
				return false;
			digits[n++] = (char) c;
			group_len++;
			continue;
		}
		if (c != ' ' && c != '-')
			return false;
		if (group_len == 0 || (sep != '\0' && c != sep))
			return false;		/* leading, doubled or mixed separators */
		/* groups as printed on cards: 4 first, then 3 to 6 */
		if ((groups == 0 && group_len != 4) || group_len < 3 || group_len > 6)
			return false;
		sep = (char) c;
		groups++;
		group_len = 0;
	}
	if (group_len == 0 || (groups > 0 && (group_len < 3 || group_len > 6)))
		return false;
	if (n < 13)
		return false;
	/* issuer prefixes: 2 (Mastercard 2-series), 3 (Amex, Diners, JCB), 4, 5, 6 */
	if (digits[0] < '2' || digits[0] > '6')
		return false;
	for (i = 1; i < n; i++)
		if (digits[i] != digits[0])
			all_same = false;
	return !all_same && px_luhn_valid(digits, n);
}

/* --- IBAN ------------------------------------------------------------------- */

bool
px_detect_iban(const char *s, size_t len)
{
	char		compact[34];
	size_t		n = 0;
	size_t		i;
	unsigned	remainder = 0;

	if (len < 15 || len > 42)
		return false;
	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c == ' ')
		{
			if (i == 0 || s[i - 1] == ' ' || i == len - 1)
				return false;
			continue;
		}
		if (!is_alnum(c) || n == sizeof(compact))
			return false;
		compact[n++] = (char) (c >= 'a' && c <= 'z' ? c - ('a' - 'A') : c);
	}
	if (n < 15 || !is_alpha((unsigned char) compact[0]) || !is_alpha((unsigned char) compact[1]) ||
		!is_digit((unsigned char) compact[2]) || !is_digit((unsigned char) compact[3]))
		return false;
	/* ISO 13616: the first four characters moved to the end, letters as 10..35 */
	for (i = 0; i < n; i++)
	{
		char		c = compact[(i + 4) % n];

		if (is_digit((unsigned char) c))
			remainder = (remainder * 10 + (unsigned) (c - '0')) % 97;
		else
			remainder = (remainder * 100 + (unsigned) (c - 'A' + 10)) % 97;
	}
	return remainder == 1;
}

/* --- US SSN ----------------------------------------------------------------- */

bool
px_detect_us_ssn(const char *s, size_t len)
{
	int			area;
	int			group;
	int			serial;

	if (!ssn_shape(s, len))
		return false;
	area = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	group = (s[4] - '0') * 10 + (s[5] - '0');
	serial = (s[7] - '0') * 1000 + (s[8] - '0') * 100 + (s[9] - '0') * 10 + (s[10] - '0');
	/* never issued: area 000, 666 and 900-999, group 00, serial 0000 */
	return area != 0 && area != 666 && area < 900 && group != 0 && serial != 0;
}

/* --- digit shapes ------------------------------------------------------------ */

int
px_detect_shape_category(int shape)
{
	switch (shape)
	{
		case PX_SHAPE_US_SSN:
			return PX_DETECT_US_SSN;
		case PX_SHAPE_PHONE:
			return PX_DETECT_PHONE;
		default:
			return -1;
	}
}

static bool
all_digits(const char *s, size_t len)
{
	size_t		i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++)
		if (!is_digit((unsigned char) s[i]))
			return false;
	return true;
}

/* Area, group and serial of nine digits in the ranges the SSA issues. */
static bool
ssn_digits_in_range(const char *d)
{
	int			area = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
	int			group = (d[3] - '0') * 10 + (d[4] - '0');
	int			serial = (d[5] - '0') * 1000 + (d[6] - '0') * 100 + (d[7] - '0') * 10 + (d[8] - '0');

	/* never issued: area 000, 666 and 900-999, group 00, serial 0000 */
	return area != 0 && area != 666 && area < 900 && group != 0 && serial != 0;
}

bool
px_detect_us_ssn_digits(const char *s, size_t len)
{
	return len == 9 && all_digits(s, len) && ssn_digits_in_range(s);
}

bool
px_detect_phone_digits(const char *s, size_t len)
{
	size_t		i;

	if (len < 8 || len > 15 || !all_digits(s, len))
		return false;
	/* 00000000, 99999999999: placeholders, not numbers anyone dials */
	for (i = 1; i < len; i++)
		if (s[i] != s[0])
			return true;
	return false;
}

/* --- IP addresses ------------------------------------------------------------ */

/* A decimal in [0, max] of at most `width` digits at s[*i..len), no leading zero. */
static bool
parse_small_decimal(const char *s, size_t len, size_t *i, int max, int width, int *value)
{
	size_t		start = *i;
	int			v = 0;

	while (*i < len && is_digit((unsigned char) s[*i]) && (int) (*i - start) < width + 1)
	{
		v = v * 10 + (s[*i] - '0');
		(*i)++;
	}
	if (*i == start || (int) (*i - start) > width || v > max)
		return false;
	if (*i - start > 1 && s[start] == '0')
		return false;
	*value = v;
	return true;
}

/* An optional "/prefix" at the end of s[0..len): the length before it, or -1 if malformed. */
static long
strip_prefix_length(const char *s, size_t len, int max)
{
	size_t		slash;
	size_t		i;
	int			v;

	for (slash = len; slash > 0 && s[slash - 1] != '/'; slash--)
		;
	if (slash == 0)
		return (long) len;
	i = slash;
	if (!parse_small_decimal(s, len, &i, max, 3, &v) || i != len)
		return -1;
	return (long) slash - 1;
}

static bool
ipv4_exact(const char *s, size_t len)
{
	size_t		i = 0;
	int			part;
	int			v;

	for (part = 0; part < 4; part++)
	{
		if (part > 0)
		{
			if (i >= len || s[i] != '.')
				return false;
			i++;
		}
		if (!parse_small_decimal(s, len, &i, 255, 3, &v))
			return false;
	}
	return i == len;
}

bool
px_detect_ipv4(const char *s, size_t len)
{
	long		body = strip_prefix_length(s, len, 32);

	if (len < 7 || len > 18 || body < 7)
		return false;
	return ipv4_exact(s, (size_t) body);
}

bool
px_detect_ipv6(const char *s, size_t len)
{
	long		body;
	size_t		n;
	size_t		i = 0;
	int			groups = 0;
	bool		compressed = false;
	size_t		k;

	if (len < 2 || len > 64)
		return false;
	body = strip_prefix_length(s, len, 128);
	if (body < 2)
		return false;
	n = (size_t) body;
	for (k = 0; k < n; k++)
		if (s[k] == '%')		/* zone index: fe80::1%eth0 */
		{
			size_t		z;

			if (k + 1 == n)
				return false;
			for (z = k + 1; z < n; z++)
				if (!is_alnum((unsigned char) s[z]) && s[z] != '_' && s[z] != '.' && s[z] != '-')
					return false;
			n = k;
			break;
		}
	if (n >= 2 && s[0] == ':' && s[1] == ':')
	{
		compressed = true;
		i = 2;
	}
	else if (n >= 1 && s[0] == ':')
		return false;
	while (i < n)
	{
		size_t		start = i;

		while (i < n && is_hex((unsigned char) s[i]) && i - start < 5)
			i++;
		if (i < n && s[i] == '.')
		{
			/* a trailing IPv4 address, two groups' worth */
			if (!ipv4_exact(s + start, n - start))
				return false;
			groups += 2;
			i = n;
			break;
		}
		if (i == start || i - start > 4)
			return false;
		groups++;
		if (i == n)
			break;
		if (s[i] != ':')
			return false;
		i++;
		if (i < n && s[i] == ':')
		{
			if (compressed)
				return false;
			compressed = true;
			i++;
		}
		else if (i == n)
			return false;		/* a single trailing ':' */
	}
	return compressed ? groups <= 7 : groups == 8;
}

/* --- dates of birth ----------------------------------------------------------- */

static int
days_in_month(int year, int month)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
		return 29;
	return days[month - 1];
}

static bool
valid_date(int year, int month, int day)
{
	return month >= 1 && month <= 12 && day >= 1 && day <= days_in_month(year, month);
}

/* Up to `width` digits (at least one) as a number. */
static bool
read_digits(const char *s, size_t len, size_t *i, int min_width, int width, int *value)
{
	size_t		start = *i;
	int			v = 0;

	while (*i < len && is_digit((unsigned char) s[*i]) && (int) (*i - start) < width)
	{
		v = v * 10 + (s[*i] - '0');
		(*i)++;
	}
	if ((int) (*i - start) < min_width)
		return false;
	*value = v;
	return true;
}

bool
px_detect_birth_date(const char *s, size_t len, int current_year)
{
	size_t		i = 0;
	int			a,
				b,
				c;
	char		sep;
	int			year;
	bool		ok;

	if (len < 8 || len > 10)
		return false;
	if (!read_digits(s, len, &i, 1, 4, &a) || i >= len)
		return false;
	sep = s[i];
	if (sep != '-' && sep != '/' && sep != '.')
		return false;
	if (i == 4)
	{
		/* year first: YYYY-MM-DD */
		i++;
		if (!read_digits(s, len, &i, 1, 2, &b) || i >= len || s[i] != sep)
			return false;
		i++;
		if (!read_digits(s, len, &i, 1, 2, &c) || i != len)
			return false;
		year = a;
		ok = valid_date(year, b, c);
	}
	else
	{
		/* day or month first, the year last: DD/MM/YYYY or MM/DD/YYYY */
		if (i > 2)
			return false;
		i++;
		if (!read_digits(s, len, &i, 1, 2, &b) || i >= len || s[i] != sep)
			return false;
		i++;
		if (!read_digits(s, len, &i, 4, 4, &c) || i != len)
			return false;
		year = c;
		ok = valid_date(year, b, a) || valid_date(year, a, b);
	}
	return ok && current_year - year >= 16 && current_year - year <= 110;
}

/* --- postal codes (shape only: the name says what they are) ------------------- */

bool
px_detect_postal_code_shape(const char *s, size_t len)
{
	size_t		i;
	int			digits = 0;
	int			letters = 0;
	int			separators = 0;

	if (len < 3 || len > 10 || !is_alnum((unsigned char) s[0]) || !is_alnum((unsigned char) s[len - 1]))
		return false;
	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (is_digit(c))
			digits++;
		else if (is_alpha(c))
			letters++;
		else if (c == ' ' || c == '-')
			separators++;
		else
			return false;
	}
	/* 75008, 10115, SW1A 1AA, K1A 0B1, 12345-6789, 1234 AB: one separator at most */
	return digits >= 2 && digits <= 9 && letters <= 5 && separators <= 1;
}

/* --- person names ------------------------------------------------------------- */

static bool
name_word_in(PxDictKind kind, const char *w, size_t wlen)
{
	size_t		start = 0;
	size_t		i;

	if (wlen >= 2 && px_dict_contains(kind, w, wlen))
		return true;
	/* Jean-Pierre, Smith-Jones: any part */
	for (i = 0; i <= wlen; i++)
		if (i == wlen || w[i] == '-')
		{
			if (i - start >= 2 && (start > 0 || i < wlen) && px_dict_contains(kind, w + start, i - start))
				return true;
			start = i + 1;
		}
	return false;
}

bool
px_detect_person_name(const char *s, size_t len)
{
	size_t		i = 0;
	int			words = 0;
	int			first_names = 0;
	int			last_names = 0;
	int			unknown = 0;

	if (len < 2 || len > 80)
		return false;
	while (i < len)
	{
		size_t		start = i;
		size_t		wlen;
		size_t		k;

		while (i < len && s[i] != ' ' && s[i] != ',')
			i++;
		wlen = i - start;
		if (wlen == 0)
			return false;
		if (!is_alpha((unsigned char) s[start]) && (unsigned char) s[start] < 0x80)
			return false;
		for (k = start; k < i; k++)
		{
			unsigned char c = (unsigned char) s[k];

			if (!is_alpha(c) && c < 0x80 && c != '-' && c != '\'' && c != '.')
				return false;
		}
		if (++words > 4)
			return false;
		if (name_word_in(PX_DICT_FIRST_NAMES, s + start, wlen))
			first_names++;
		else if (name_word_in(PX_DICT_LAST_NAMES, s + start, wlen))
			last_names++;
		else if (wlen == 2 && s[start + 1] == '.')
			last_names++;		/* an initial: "J." */
		else if ((s[start] >= 'A' && s[start] <= 'Z') || (unsigned char) s[start] >= 0x80)
			unknown++;			/* capitalized: a name the dictionary lacks, or no name */
		else
			return false;
		/* one separator: " ", "," or ", " */
		if (i < len && s[i] == ',')
			i++;
		if (i < len && s[i] == ' ')
			i++;
		if (i == len && (s[len - 1] == ' ' || s[len - 1] == ','))
			return false;
	}
	/*
	 * A known first name with other name-shaped words, or a known surname
	 * with at most one other (Wang Wei: pinyin given names are not in the
	 * dictionary).
	 */
	if (first_names >= 1)
		return unknown <= first_names + last_names;
	return last_names >= 1 && unknown <= 1 && words <= 3;
}

/* --- one value ---------------------------------------------------------------- */

unsigned
px_detect_value(const char *s, size_t len, int current_year)
{
	unsigned	bits = 0;

	while (len > 0 && (s[0] == ' ' || s[0] == '\t' || s[0] == '\n' || s[0] == '\r'))
	{
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' || s[len - 1] == '\r'))
		len--;
	if (len == 0)
		return 0;
	if (px_detect_email(s, len))
		return PX_DETECT_BIT(PX_DETECT_EMAIL);
	if (px_detect_payment_card(s, len))
		bits |= PX_DETECT_BIT(PX_DETECT_PAYMENT_CARD);
	if (px_detect_iban(s, len))
		bits |= PX_DETECT_BIT(PX_DETECT_IBAN);
	if (px_detect_us_ssn(s, len))
		bits |= PX_DETECT_BIT(PX_DETECT_US_SSN);
	if (px_detect_phone(s, len))
		bits |= PX_DETECT_BIT(PX_DETECT_PHONE);
	if (px_detect_ipv4(s, len) || px_detect_ipv6(s, len))
		bits |= PX_DETECT_BIT(PX_DETECT_IP_ADDRESS);
	if (px_detect_birth_date(s, len, current_year))
		bits |= PX_DETECT_BIT(PX_DETECT_DATE_OF_BIRTH);
	if (px_detect_postal_code_shape(s, len))
		bits |= PX_DETECT_BIT(PX_DETECT_POSTAL_CODE);
	if (bits == 0 && px_detect_person_name(s, len))
		bits |= PX_DETECT_BIT(PX_DETECT_PERSON_NAME);
	/*
	 * Bare digits: no format of an SSN or a phone (those need separators or
	 * a '+'), but their digits may be one; the format's bit wins.
	 */
	if (px_detect_us_ssn_digits(s, len) && !(bits & PX_DETECT_BIT(PX_DETECT_US_SSN)))
		bits |= PX_DETECT_SHAPE_BIT(PX_SHAPE_US_SSN);
	if (px_detect_phone_digits(s, len) && !(bits & PX_DETECT_BIT(PX_DETECT_PHONE)))
		bits |= PX_DETECT_SHAPE_BIT(PX_SHAPE_PHONE);
	return bits;
}

unsigned
px_detect_number(const char *s, size_t len)
{
	unsigned	bits = 0;
	char		padded[9];

	/* "-5", "12.50", "1e5", "NaN": amounts and measures, not identifiers */
	if (!all_digits(s, len) || len > 19)
		return 0;
	if (px_detect_payment_card(s, len))
		bits |= PX_DETECT_BIT(PX_DETECT_PAYMENT_CARD);
	if (px_detect_postal_code_shape(s, len))
		bits |= PX_DETECT_BIT(PX_DETECT_POSTAL_CODE);
	/*
	 * An SSN stored as a number loses the zeros of areas 001 to 099: the
	 * smallest, 001-01-0001, prints as 1010001.
	 */
	if (len >= 7 && len <= 9)
	{
		memset(padded, '0', sizeof(padded));
		memcpy(padded + (9 - len), s, len);
		if (ssn_digits_in_range(padded))
			bits |= PX_DETECT_SHAPE_BIT(PX_SHAPE_US_SSN);
	}
	if (px_detect_phone_digits(s, len))
		bits |= PX_DETECT_SHAPE_BIT(PX_SHAPE_PHONE);
	return bits;
}

/* --- column names --------------------------------------------------------------- */

#define MAX_TOKENS	16
#define MAX_TOKEN_LEN 40

typedef struct NameTokens
{
	int			count;
	char		tok[MAX_TOKENS][MAX_TOKEN_LEN + 1];
} NameTokens;

/*
 * Words of a column name, lower-cased: split at anything but letters,
 * digits and UTF-8 bytes, and at camelCase; trailing digits dropped
 * (email2, ipv4).
 */
static void
tokenize(const char *name, size_t len, NameTokens *t)
{
	size_t		i = 0;

	t->count = 0;
	while (i < len && t->count < MAX_TOKENS)
	{
		size_t		n = 0;
		char	   *out = t->tok[t->count];

		while (i < len && !is_word_byte((unsigned char) name[i]))
			i++;
		if (i == len)
			break;
		do
		{
			if (n < MAX_TOKEN_LEN)
				out[n++] = (char) lower((unsigned char) name[i]);
			i++;
		} while (i < len && is_word_byte((unsigned char) name[i]) &&
				 !((name[i] >= 'A' && name[i] <= 'Z') && name[i - 1] >= 'a' && name[i - 1] <= 'z'));
		while (n > 0 && is_digit((unsigned char) out[n - 1]))
			n--;
		out[n] = '\0';
		if (n > 0)
			t->count++;
	}
}

enum
{
	HINT_STRONG = 1,
	HINT_WEAK = 2,
	HINT_PREFIX = 4,			/* a one-word pattern also matches a word starting with it */
	HINT_WHOLE = 8				/* the pattern must be the whole name */
};

typedef struct NamePattern
{
	const char *words;			/* space-separated */
	int			category;		/* -1: a decoy */
	int			flags;
} NamePattern;

static const NamePattern name_patterns[] = {
	/* e-mail */
	{"email", PX_DETECT_EMAIL, HINT_STRONG | HINT_PREFIX},
	{"e mail", PX_DETECT_EMAIL, HINT_STRONG},
	{"courriel", PX_DETECT_EMAIL, HINT_STRONG | HINT_PREFIX},
	{"correo", PX_DETECT_EMAIL, HINT_STRONG | HINT_PREFIX},
	{"youxiang", PX_DETECT_EMAIL, HINT_STRONG},
	{"dianzi youjian", PX_DETECT_EMAIL, HINT_STRONG},
	{"mail", PX_DETECT_EMAIL, HINT_WEAK},
	/* phone */
	{"phone", PX_DETECT_PHONE, HINT_STRONG | HINT_PREFIX},
	{"telephone", PX_DETECT_PHONE, HINT_STRONG | HINT_PREFIX},
	{"t\xc3\xa9l\xc3\xa9phone", PX_DETECT_PHONE, HINT_STRONG | HINT_PREFIX},
	{"telefon", PX_DETECT_PHONE, HINT_STRONG | HINT_PREFIX},
	{"tel\xc3\xa9" "fono", PX_DETECT_PHONE, HINT_STRONG | HINT_PREFIX},
	{"tel", PX_DETECT_PHONE, HINT_STRONG},
	{"mobile", PX_DETECT_PHONE, HINT_STRONG | HINT_PREFIX},
	{"mobil", PX_DETECT_PHONE, HINT_STRONG},
	{"movil", PX_DETECT_PHONE, HINT_STRONG},
	{"m\xc3\xb3vil", PX_DETECT_PHONE, HINT_STRONG},
	{"cellphone", PX_DETECT_PHONE, HINT_STRONG},
	{"msisdn", PX_DETECT_PHONE, HINT_STRONG},
	{"fax", PX_DETECT_PHONE, HINT_STRONG},
	{"dianhua", PX_DETECT_PHONE, HINT_STRONG},
	{"shouji", PX_DETECT_PHONE, HINT_STRONG},
	{"cell", PX_DETECT_PHONE, HINT_WEAK},
	{"handy", PX_DETECT_PHONE, HINT_WEAK},
	{"portable", PX_DETECT_PHONE, HINT_WEAK},
	/* payment cards */
	{"card number", PX_DETECT_PAYMENT_CARD, HINT_STRONG},
	{"card no", PX_DETECT_PAYMENT_CARD, HINT_STRONG},
	{"card num", PX_DETECT_PAYMENT_CARD, HINT_STRONG},
	{"cardnumber", PX_DETECT_PAYMENT_CARD, HINT_STRONG},
	{"cc number", PX_DETECT_PAYMENT_CARD, HINT_STRONG},
	{"cc num", PX_DETECT_PAYMENT_CARD, HINT_STRONG},
	{"ccnumber", PX_DETECT_PAYMENT_CARD, HINT_STRONG},
	{"credit card", PX_DETECT_PAYMENT_CARD, HINT_STRONG},
	{"creditcard", PX_DETECT_PAYMENT_CARD, HINT_STRONG | HINT_PREFIX},
	{"kreditkarte", PX_DETECT_PAYMENT_CARD, HINT_STRONG | HINT_PREFIX},
	{"kartennummer", PX_DETECT_PAYMENT_CARD, HINT_STRONG},
	{"numero carte", PX_DETECT_PAYMENT_CARD, HINT_STRONG},
	{"tarjeta", PX_DETECT_PAYMENT_CARD, HINT_STRONG | HINT_PREFIX},
	{"xinyongka", PX_DETECT_PAYMENT_CARD, HINT_STRONG | HINT_PREFIX},
	{"pan", PX_DETECT_PAYMENT_CARD, HINT_WEAK},
	{"cc", PX_DETECT_PAYMENT_CARD, HINT_WEAK},
	{"card", PX_DETECT_PAYMENT_CARD, HINT_WEAK},
	/* IBAN */
	{"iban", PX_DETECT_IBAN, HINT_STRONG | HINT_PREFIX},
	{"bank account", PX_DETECT_IBAN, HINT_WEAK},
	{"kontonummer", PX_DETECT_IBAN, HINT_WEAK},
	{"rib", PX_DETECT_IBAN, HINT_WEAK},
	/* US SSN */
	{"ssn", PX_DETECT_US_SSN, HINT_STRONG},
	{"social security", PX_DETECT_US_SSN, HINT_STRONG},
	{"socialsecurity", PX_DETECT_US_SSN, HINT_STRONG | HINT_PREFIX},
	/* IP addresses */
	{"ip", PX_DETECT_IP_ADDRESS, HINT_STRONG},
	{"ipv", PX_DETECT_IP_ADDRESS, HINT_STRONG},
	{"ipaddr", PX_DETECT_IP_ADDRESS, HINT_STRONG | HINT_PREFIX},
	{"ipaddress", PX_DETECT_IP_ADDRESS, HINT_STRONG},
	{"remote addr", PX_DETECT_IP_ADDRESS, HINT_STRONG},
	{"remoteaddr", PX_DETECT_IP_ADDRESS, HINT_STRONG},
	/* dates of birth */
	{"dob", PX_DETECT_DATE_OF_BIRTH, HINT_STRONG},
	{"birth", PX_DETECT_DATE_OF_BIRTH, HINT_STRONG | HINT_PREFIX},
	{"born", PX_DETECT_DATE_OF_BIRTH, HINT_STRONG},
	{"geburtsdatum", PX_DETECT_DATE_OF_BIRTH, HINT_STRONG},
	{"geburtstag", PX_DETECT_DATE_OF_BIRTH, HINT_STRONG},
	{"geboren", PX_DETECT_DATE_OF_BIRTH, HINT_STRONG},
	{"naissance", PX_DETECT_DATE_OF_BIRTH, HINT_STRONG | HINT_PREFIX},
	{"datenaissance", PX_DETECT_DATE_OF_BIRTH, HINT_STRONG},
	{"nacimiento", PX_DETECT_DATE_OF_BIRTH, HINT_STRONG | HINT_PREFIX},
	{"fechanacimiento", PX_DETECT_DATE_OF_BIRTH, HINT_STRONG},
	{"cumpleanos", PX_DETECT_DATE_OF_BIRTH, HINT_STRONG},
	{"chusheng", PX_DETECT_DATE_OF_BIRTH, HINT_STRONG | HINT_PREFIX},
	{"shengri", PX_DETECT_DATE_OF_BIRTH, HINT_STRONG},
	/* postal codes */
	{"zip", PX_DETECT_POSTAL_CODE, HINT_STRONG},
	{"zipcode", PX_DETECT_POSTAL_CODE, HINT_STRONG},
	{"postal", PX_DETECT_POSTAL_CODE, HINT_STRONG | HINT_PREFIX},
	{"postcode", PX_DETECT_POSTAL_CODE, HINT_STRONG | HINT_PREFIX},
	{"post code", PX_DETECT_POSTAL_CODE, HINT_STRONG},
	{"plz", PX_DETECT_POSTAL_CODE, HINT_STRONG},
	{"postleitzahl", PX_DETECT_POSTAL_CODE, HINT_STRONG},
	{"code postal", PX_DETECT_POSTAL_CODE, HINT_STRONG},
	{"codepostal", PX_DETECT_POSTAL_CODE, HINT_STRONG},
	{"codigo postal", PX_DETECT_POSTAL_CODE, HINT_STRONG},
	{"c\xc3\xb3" "digo postal", PX_DETECT_POSTAL_CODE, HINT_STRONG},
	{"codpostal", PX_DETECT_POSTAL_CODE, HINT_STRONG},
	{"youbian", PX_DETECT_POSTAL_CODE, HINT_STRONG},
	{"youzheng bianma", PX_DETECT_POSTAL_CODE, HINT_STRONG},
	{"cp", PX_DETECT_POSTAL_CODE, HINT_WEAK | HINT_WHOLE},
	/* person names */
	{"first name", PX_DETECT_PERSON_NAME, HINT_STRONG},
	{"firstname", PX_DETECT_PERSON_NAME, HINT_STRONG},
	{"given name", PX_DETECT_PERSON_NAME, HINT_STRONG},
	{"givenname", PX_DETECT_PERSON_NAME, HINT_STRONG},
	{"last name", PX_DETECT_PERSON_NAME, HINT_STRONG},
	{"lastname", PX_DETECT_PERSON_NAME, HINT_STRONG},
	{"middle name", PX_DETECT_PERSON_NAME, HINT_STRONG},
	{"maiden name", PX_DETECT_PERSON_NAME, HINT_STRONG},
	{"family name", PX_DETECT_PERSON_NAME, HINT_STRONG},
	{"familyname", PX_DETECT_PERSON_NAME, HINT_STRONG},
	{"full name", PX_DETECT_PERSON_NAME, HINT_STRONG},
	{"fullname", PX_DETECT_PERSON_NAME, HINT_STRONG},
	{"surname", PX_DETECT_PERSON_NAME, HINT_STRONG | HINT_PREFIX},
	{"forename", PX_DETECT_PERSON_NAME, HINT_STRONG | HINT_PREFIX},
	{"customer name", PX_DETECT_PERSON_NAME, HINT_STRONG},
	{"client name", PX_DETECT_PERSON_NAME, HINT_STRONG},
	{"contact name", PX_DETECT_PERSON_NAME, HINT_STRONG},
	{"person name", PX_DETECT_PERSON_NAME, HINT_STRONG},
	{"patient name", PX_DETECT_PERSON_NAME, HINT_STRONG},
	{"employee name", PX_DETECT_PERSON_NAME, HINT_STRONG},
	{"prenom", PX_DETECT_PERSON_NAME, HINT_STRONG | HINT_PREFIX},
	{"pr\xc3\xa9nom", PX_DETECT_PERSON_NAME, HINT_STRONG | HINT_PREFIX},
	{"nom famille", PX_DETECT_PERSON_NAME, HINT_STRONG},
	{"nom de famille", PX_DETECT_PERSON_NAME, HINT_STRONG},
	{"vorname", PX_DETECT_PERSON_NAME, HINT_STRONG | HINT_PREFIX},
	{"nachname", PX_DETECT_PERSON_NAME, HINT_STRONG | HINT_PREFIX},
	{"familienname", PX_DETECT_PERSON_NAME, HINT_STRONG | HINT_PREFIX},
	{"apellido", PX_DETECT_PERSON_NAME, HINT_STRONG | HINT_PREFIX},
	{"nombre completo", PX_DETECT_PERSON_NAME, HINT_STRONG},
	{"xingming", PX_DETECT_PERSON_NAME, HINT_STRONG},
	{"mingzi", PX_DETECT_PERSON_NAME, HINT_STRONG},
	{"xingshi", PX_DETECT_PERSON_NAME, HINT_STRONG},
	{"name", PX_DETECT_PERSON_NAME, HINT_WEAK | HINT_WHOLE},
	{"nom", PX_DETECT_PERSON_NAME, HINT_WEAK | HINT_WHOLE},
	{"nombre", PX_DETECT_PERSON_NAME, HINT_WEAK | HINT_WHOLE},
	{"xing", PX_DETECT_PERSON_NAME, HINT_WEAK | HINT_WHOLE},
	{"ming", PX_DETECT_PERSON_NAME, HINT_WEAK | HINT_WHOLE},
	/* decoys: words of columns that hold codes, not people */
	{"version", -1, HINT_PREFIX},
	{"ver", -1, 0},
	{"release", -1, 0},
	{"build", -1, 0},
	{"sku", -1, 0},
	{"product", -1, HINT_PREFIX},
	{"code", -1, 0},
	{"order", -1, HINT_PREFIX},
	{"invoice", -1, HINT_PREFIX},
	{"serial", -1, 0},
	{"reference", -1, 0},
	{"ref", -1, 0},
	{"isbn", -1, 0},
	{"ean", -1, 0},
	{"upc", -1, 0},
	{"tracking", -1, 0},
	{"part", -1, 0},
	{"model", -1, 0},
	{"batch", -1, 0},
	{"lot", -1, 0},
	{"ticket", -1, 0},
	{"checksum", -1, 0},
	{"hash", -1, 0},
	{"uuid", -1, 0},
	{"company", -1, 0},
	{"file", -1, HINT_PREFIX},
	{"host", -1, HINT_PREFIX},
};

/* Whether the pattern's words occur as consecutive tokens. */
static bool
pattern_matches(const NamePattern *p, const NameTokens *t)
{
	char		words[MAX_TOKENS][MAX_TOKEN_LEN + 1];
	int			nwords = 0;
	const char *w = p->words;
	int			start;

	while (*w != '\0' && nwords < MAX_TOKENS)
	{
		size_t		n = 0;

		while (*w != '\0' && *w != ' ' && n < MAX_TOKEN_LEN)
			words[nwords][n++] = *w++;
		words[nwords][n] = '\0';
		nwords++;
		while (*w == ' ')
			w++;
	}
	if (nwords == 0 || nwords > t->count)
		return false;
	if ((p->flags & HINT_WHOLE) && nwords != t->count)
		return false;
	for (start = 0; start + nwords <= t->count; start++)
	{
		int			k;

		for (k = 0; k < nwords; k++)
		{
			const char *tok = t->tok[start + k];

			if (strcmp(tok, words[k]) == 0)
				continue;
			if (nwords == 1 && (p->flags & HINT_PREFIX) &&
				strncmp(tok, words[k], strlen(words[k])) == 0)
				continue;
			break;
		}
		if (k == nwords)
			return true;
	}
	return false;
}

PxNameHint
px_detect_column_name(const char *name, size_t len)
{
	PxNameHint	hint = {0, 0, false};
	NameTokens	t;
	size_t		i;

	tokenize(name, len, &t);
	for (i = 0; i < sizeof(name_patterns) / sizeof(name_patterns[0]); i++)
	{
		const NamePattern *p = &name_patterns[i];

		if (!pattern_matches(p, &t))
			continue;
		if (p->category < 0)
			hint.decoy = true;
		else if (p->flags & HINT_STRONG)
			hint.strong |= PX_DETECT_BIT(p->category);
		else
			hint.weak |= PX_DETECT_BIT(p->category);
	}
	hint.weak &= ~hint.strong;
	return hint;
}

/* --- confidence ------------------------------------------------------------------- */

/* How much a value match alone says, per category. */
static const double value_reliability[PX_DETECT_COUNT] = {
	[PX_DETECT_EMAIL] = 1.0,
	[PX_DETECT_PAYMENT_CARD] = 1.0,
	[PX_DETECT_IBAN] = 1.0,
	[PX_DETECT_US_SSN] = 0.95,
	[PX_DETECT_PHONE] = 0.85,
	[PX_DETECT_IP_ADDRESS] = 0.9,
	[PX_DETECT_DATE_OF_BIRTH] = 0.45,	/* any date of the right years: the name must back it */
	[PX_DETECT_PERSON_NAME] = 0.85,
	[PX_DETECT_POSTAL_CODE] = 0.3,	/* a shape only: postal codes go by name */
};

/*
 * How much a digit shape alone says: below the reporting threshold, so that
 * a column of 9-digit or 10-digit ids is no SSN or phone; with a name that
 * says the category, reported (0.78, as a birth date with its name).
 */
#define SHAPE_RELIABILITY 0.45

#define NAME_STRONG 0.6
#define NAME_WEAK	0.35

double
px_detect_confidence(int category, long sampled, long matched, PxNameHint hint)
{
	return px_detect_confidence_shaped(category, sampled, matched, 0, hint);
}

double
px_detect_confidence_shaped(int category, long sampled, long matched, long shaped,
							PxNameHint hint)
{
	double		fraction = 0.0;
	double		shape_fraction = 0.0;
	double		value_conf;
	double		name_conf = 0.0;
	unsigned	bit;

	if (category < 0 || category >= PX_DETECT_COUNT)
		return 0.0;
	bit = PX_DETECT_BIT(category);
	if (matched < 0)
		matched = 0;
	if (sampled > 0 && matched > 0)
		fraction = matched >= sampled ? 1.0 : (double) matched / (double) sampled;
	/* shaped values are others than the matching ones: together at most all */
	if (sampled > 0 && shaped > 0 && matched < sampled)
		shape_fraction = shaped >= sampled - matched ? 1.0 - fraction : (double) shaped / (double) sampled;
	value_conf = fraction * value_reliability[category] + shape_fraction * SHAPE_RELIABILITY;
	/* the digits of what the name says are no contradiction of it */
	fraction += shape_fraction;
	if (hint.strong & bit)
		name_conf = NAME_STRONG;
	else if (hint.weak & bit)
		name_conf = NAME_WEAK;
	else if (hint.decoy)
		value_conf *= 0.5;
	/* values that do not look like the name says make the name count less */
	if (sampled > 0)
		name_conf *= 0.4 + 0.6 * (fraction * 2.0 > 1.0 ? 1.0 : fraction * 2.0);
	return 1.0 - (1.0 - value_conf) * (1.0 - name_conf);
}
