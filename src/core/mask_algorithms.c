/*
 * mask_algorithms.c
 *		Masking algorithms on UTF-8 text and numbers (see px_mask.h).
 */
#include "px_mask.h"

#include <math.h>
#include <string.h>

static bool
is_continuation(unsigned char c)
{
	return (c & 0xC0) == 0x80;
}

size_t
px_utf8_chars(const char *s, size_t len)
{
	size_t		n = 0;
	size_t		i;

	for (i = 0; i < len; i++)
		if (!is_continuation((unsigned char) s[i]))
			n++;
	return n;
}

/* Byte offset where character number `chars` starts (len if past the end). */
static size_t
offset_of_char(const char *s, size_t len, size_t chars)
{
	size_t		i = 0;
	size_t		seen = 0;

	while (i < len)
	{
		if (!is_continuation((unsigned char) s[i]))
		{
			if (seen == chars)
				return i;
			seen++;
		}
		i++;
	}
	return len;
}

/*
 * Byte offset where the last `chars` characters start (0 if there are not
 * that many), found from the end: a partial mask keeps a few characters
 * of the end, and walking back over them is cheaper than counting all.
 */
static size_t
offset_of_last_chars(const char *s, size_t len, size_t chars)
{
	size_t		i = len;
	size_t		seen = 0;

	/*
	 * The usual case: the last `chars` bytes are ASCII, so each is a
	 * character and no byte needs the continuation test (which the loop
	 * below makes, for the same answer).
	 */
	if (chars <= len)
	{
		unsigned char any = 0;
		size_t		j;

		for (j = len - chars; j < len; j++)
			any |= (unsigned char) s[j];
		if ((any & 0x80) == 0)
			return len - chars;
	}
	while (seen < chars && i > 0)
	{
		i--;
		if (!is_continuation((unsigned char) s[i]))
			seen++;
	}
	return i;
}

/*
 * Copy n bytes.  The pieces a mask keeps are a few bytes long, for which a
 * call to memcpy() costs more than the copy: up to 16 bytes are moved with
 * two overlapping fixed-size copies, which compilers inline.
 */
static inline void
copy_piece(char *out, const char *in, size_t n)
{
	if (n >= 8 && n <= 16)
	{
		memcpy(out, in, 8);
		memcpy(out + n - 8, in + n - 8, 8);
	}
	else if (n >= 4 && n < 8)
	{
		memcpy(out, in, 4);
		memcpy(out + n - 4, in + n - 4, 4);
	}
	else if (n > 0 && n < 4)
	{
		out[0] = in[0];
		out[n / 2] = in[n / 2];
		out[n - 1] = in[n - 1];
	}
	else if (n > 16)
		memcpy(out, in, n);
}

size_t
px_mask_partial(const char *in, size_t len, int prefix, const char *pad,
				size_t pad_len, int suffix, char *out)
{
	size_t		keep_front = prefix > 0 ? (size_t) prefix : 0;
	size_t		keep_back = suffix > 0 ? (size_t) suffix : 0;
	size_t		front_end = offset_of_char(in, len, keep_front);
	size_t		back_start = offset_of_last_chars(in, len, keep_back);
	size_t		n = 0;

	/*
	 * More characters than prefix + suffix exactly when the kept front ends
	 * before the kept back starts (with fewer than prefix characters the
	 * front ends at len; with fewer than suffix the back starts at 0).
	 */
	if (front_end < back_start)
	{
		copy_piece(out, in, front_end);
		n = front_end;
		copy_piece(out + n, pad, pad_len);
		n += pad_len;
		copy_piece(out + n, in + back_start, len - back_start);
		n += len - back_start;
	}
	else
	{
		copy_piece(out, pad, pad_len);
		n = pad_len;
	}
	/* Never hand back the value itself (short values, padding equal to it). */
	if (n == len && memcmp(out, in, len) == 0)
		out[n++] = '*';
	return n;
}

size_t
px_mask_partial_len(const char *in, size_t len, int prefix, size_t pad_len, int suffix)
{
	size_t		keep_front = prefix > 0 ? (size_t) prefix : 0;
	size_t		keep_back = suffix > 0 ? (size_t) suffix : 0;
	size_t		front_end = offset_of_char(in, len, keep_front);
	size_t		back_start = offset_of_last_chars(in, len, keep_back);

	/* as px_mask_partial() decides, plus its '*' for a result equal to the value */
	if (front_end < back_start)
		return front_end + pad_len + (len - back_start) + 1;
	return pad_len + 1;
}

/*
 * The bytes of s's first character: any stray continuation bytes before
 * it, its lead byte and its continuation bytes (offset_of_char(s, len, 1)).
 */
static inline size_t
first_char_len(const char *s, size_t len)
{
	size_t		i = 0;

	/* ASCII, the usual case */
	if (len > 1 && !is_continuation((unsigned char) s[0]) &&
		!is_continuation((unsigned char) s[1]))
		return 1;
	while (i < len && is_continuation((unsigned char) s[i]))
		i++;
	if (i < len)
		i++;
	while (i < len && is_continuation((unsigned char) s[i]))
		i++;
	return i;
}

/* First character of s (whole UTF-8 sequence), then "***". */
static inline size_t
first_char_stars(const char *s, size_t len, char *out)
{
	size_t		first;

	/* a one-byte first character, the usual case: one store, no copy_piece() branches */
	if (len > 1 && !is_continuation((unsigned char) s[0]) &&
		!is_continuation((unsigned char) s[1]))
	{
		out[0] = s[0];
		memcpy(out + 1, "***", 3);
		return 4;
	}
	first = first_char_len(s, len);
	copy_piece(out, s, first);
	memcpy(out + first, "***", 3);
	return first + 3;
}

/*
 * The last byte c of s, or NULL: eight bytes at a time from the end, then
 * byte by byte within the eight that hold it (or the fewer left at the
 * start).
 */
static inline const char *
last_byte(const char *s, size_t len, char c)
{
	const uint64_t ones = UINT64_C(0x0101010101010101);
	const uint64_t low7 = UINT64_C(0x7f7f7f7f7f7f7f7f);
	const uint64_t pattern = ones * (unsigned char) c;

	while (len >= 8)
	{
		uint64_t	w;
		uint64_t	zero;

		memcpy(&w, s + len - 8, 8);
		w ^= pattern;
		/* bit 7 of each byte of w that is zero, i.e. of each byte equal to c (exact) */
		zero = ~(((w & low7) + low7) | w | low7);
		if (zero != 0)
		{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			/* the last of them is the most significant: no byte loop */
			return s + len - 8 + (63 - __builtin_clzll(zero)) / 8;
#else
			break;
#endif
		}
		len -= 8;
	}
	for (; len > 0; len--)
		if (s[len - 1] == c)
			return s + len - 1;
	return NULL;
}

size_t
px_mask_email(const char *in, size_t len, char *out)
{
	const char *at = NULL;
	const char *domain;
	size_t		domain_len;
	const char *dot;
	size_t		n;

	/* The last '@', and the domain's last '.': searched from the end. */
	at = last_byte(in, len, '@');
	if (at == NULL)
		return first_char_stars(in, len, out);

	n = first_char_stars(in, (size_t) (at - in), out);
	out[n++] = '@';
	domain = at + 1;
	domain_len = len - (size_t) (domain - in);
	dot = last_byte(domain, domain_len, '.');
	if (dot == NULL)
		return n + first_char_stars(domain, domain_len, out + n);
	n += first_char_stars(domain, (size_t) (dot - domain), out + n);
	copy_piece(out + n, dot, domain_len - (size_t) (dot - domain));
	return n + domain_len - (size_t) (dot - domain);
}

size_t
px_mask_credit_card(const char *in, size_t len, char *out)
{
	size_t		digits = 0;
	size_t		seen = 0;
	size_t		keep_from;
	size_t		i;
	size_t		n = 0;

	for (i = 0; i < len; i++)
		if (in[i] >= '0' && in[i] <= '9')
			digits++;

	keep_from = digits > 4 ? digits - 4 : digits;
	for (i = 0; i < len; i++)
	{
		char		c = in[i];

		if (c >= '0' && c <= '9')
			out[n++] = (seen++ >= keep_from) ? c : '*';
		else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
			out[n++] = '*';
		else if ((unsigned char) c >= 0x80)
		{
			/*
			 * A character outside ASCII may be a digit of another script
			 * (full-width, Arabic-Indic): one '*' for the whole character,
			 * never its bytes.  Continuation bytes add nothing.
			 */
			if (((unsigned char) c & 0xC0) != 0x80)
				out[n++] = '*';
		}
		else
			out[n++] = c;
	}
	return n;
}

int64_t
px_generalize_int(int64_t v, int64_t step)
{
	int64_t		q;

	if (step <= 0)
		return v;
	q = v / step;
	if (v % step != 0 && v < 0)
		q--;
	/* q * step cannot overflow: |q * step| <= |v| + step within range */
	if (q < INT64_MIN / step)
		return INT64_MIN;
	return q * step;
}

/*
 * An integer floored to a multiple of a step given as a double (a rule's
 * parameter): the largest multiple of step not above v, then the largest
 * integer not above that.  A whole step below 2^63 is exact integer
 * arithmetic; a step of 2^63 or more has 0 as the only multiple in range at
 * or below a value >= 0 (INT64_MIN below 0, as for px_generalize_int); a
 * fractional step is computed in long double (64-bit mantissa: every int64
 * and the step are exact) and corrected by one step should the quotient's
 * rounding have carried it above v.  step must be > 0 and finite.
 */
int64_t
px_generalize_int_by(int64_t v, double step)
{
	long double q;
	long double r;

	if (!(step > 0) || isinf(step) || isnan(step))
		return v;
	if (step >= 9223372036854775808.0)
		return v >= 0 ? 0 : INT64_MIN;
	if (step == floor(step))
		return px_generalize_int(v, (int64_t) step);
	q = floorl((long double) v / (long double) step);
	r = q * (long double) step;
	if (r > (long double) v)
		r -= (long double) step;
	r = floorl(r);
	if (r < (long double) INT64_MIN)
		return INT64_MIN;
	return (int64_t) r;
}

double
px_generalize_double(double v, double step)
{
	double		quotient;
	double		rest;

	if (!(step > 0) || isnan(v) || isinf(v) || isinf(step))
		return v;
	quotient = v / step;
	if (!isinf(quotient))
		return floor(quotient) * step;
	/*
	 * A step so small that v / step overflows (1e308 by 1e-308): the bucket's
	 * lower bound from the remainder instead, never Infinity.
	 */
	rest = fmod(v, step);
	return rest < 0 ? v - rest - step : v - rest;
}

double
px_noise_unit(const uint8_t mac[32])
{
	uint64_t	x = 0;
	int			i;

	for (i = 0; i < 8; i++)
		x = (x << 8) | mac[i];
	/* 53 random bits to [0, 1), then to [-1, 1]. */
	return ((double) (x >> 11) / 9007199254740992.0) * 2.0 - 1.0;
}
