/*
 * masking/functions.c
 *		SQL-callable masking functions over the backend-free core
 *		(src/core/mask_algorithms.c).  None raises an error for any value: NULL in
 *		gives NULL out, and a parameter that a rule declaration would reject
 *		(a negative count, a step <= 0, an unknown unit) gives NULL.  The
 *		one error: a masked text longer than a text may be (54000).
 */
#include "errors.h"
#include "keys/key_store.h"
#include "masking/functions.h"
#include "px_mask.h"

#include <float.h>
#include <math.h>

#include "common/int.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

static text *
text_from(const char *buf, size_t len)
{
	return cstring_to_text_with_len(buf, (int) len);
}

PG_FUNCTION_INFO_V1(px_mask_partial_fn);
Datum
px_mask_partial_fn(PG_FUNCTION_ARGS)
{
	text	   *in = PG_GETARG_TEXT_PP(0);
	int32		prefix = PG_GETARG_INT32(1);
	text	   *pad = PG_GETARG_TEXT_PP(2);
	int32		suffix = PG_GETARG_INT32(3);
	size_t		len = VARSIZE_ANY_EXHDR(in);
	size_t		pad_len = VARSIZE_ANY_EXHDR(pad);
	/* only the result's bytes, not the value's and the padding's: a long value keeps little */
	size_t		max_len = px_mask_partial_len(VARDATA_ANY(in), len, prefix, pad_len, suffix);
	char	   *out;

	/* A long padding can make the result longer than any text may be. */
	px_check_masked_len(max_len - 1);
	out = MemoryContextAllocHuge(CurrentMemoryContext, max_len);
	len = px_mask_partial(VARDATA_ANY(in), len, prefix, VARDATA_ANY(pad), pad_len, suffix, out);
	px_check_masked_len(len);
	PG_RETURN_TEXT_P(text_from(out, len));
}

PG_FUNCTION_INFO_V1(px_mask_email_fn);
Datum
px_mask_email_fn(PG_FUNCTION_ARGS)
{
	text	   *in = PG_GETARG_TEXT_PP(0);
	size_t		len = VARSIZE_ANY_EXHDR(in);
	/* the capacity may pass palloc's limit; the result, usually short, may not */
	char	   *out = MemoryContextAllocHuge(CurrentMemoryContext, len + 8);

	len = px_mask_email(VARDATA_ANY(in), len, out);
	px_check_masked_len(len);
	PG_RETURN_TEXT_P(text_from(out, len));
}

PG_FUNCTION_INFO_V1(px_mask_credit_card_fn);
Datum
px_mask_credit_card_fn(PG_FUNCTION_ARGS)
{
	text	   *in = PG_GETARG_TEXT_PP(0);
	size_t		len = VARSIZE_ANY_EXHDR(in);
	/* never longer than the value: nothing to check */
	char	   *out = palloc(len + 1);

	len = px_mask_credit_card(VARDATA_ANY(in), len, out);
	PG_RETURN_TEXT_P(text_from(out, len));
}

/*
 * The key a hash('key') rule or mask_hash() pseudonymizes under: version 1
 * of the named data key (stable across rotations, joinable).  False for an
 * unknown key and for a destroyed one, which can pseudonymize nothing any
 * more: the caller gives NULL, never an error (a masking view's other
 * columns stay readable).  key_store.c's caches are current for the
 * statement, so a destroyed key gives NULL from the next one on.
 */
bool
px_hash_key(const char *name, uint32 *key_id, PxKeyRef *ref)
{
	*key_id = px_key_id_for_name(name, true);
	return *key_id != 0 && !px_key_destroyed(*key_id) &&
		px_key_ref_for_version(*key_id, 1, true, ref);
}

/* 32 hex digits of the HMAC-SHA-256 of s under ref's hash key. */
text *
px_hash_text(const PxKeyRef *ref, const char *s, size_t len)
{
	uint8_t		mac[32];
	char		hex[33];
	int			i;

	px_report_status(px_hmac_sha256(ref->hash_key, PX_KEY_LEN, (const uint8_t *) s, len, mac),
					 true);
	for (i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	return cstring_to_text(hex);
}

/*
 * mask_hash(value, key): keyed pseudonym as 32 hex digits, for roles
 * granted the key (42501 for the others: the pseudonym is the key's use).
 * An unknown or destroyed key gives NULL, as any unusable parameter does.
 */
PG_FUNCTION_INFO_V1(px_mask_hash_fn);
Datum
px_mask_hash_fn(PG_FUNCTION_ARGS)
{
	text	   *in = PG_GETARG_TEXT_PP(0);
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	uint32		key_id;
	PxKeyRef	ref;

	/* Destruction also drops the grants: a destroyed key is NULL, not 42501. */
	if (!px_hash_key(name, &key_id, &ref))
		PG_RETURN_NULL();
	if (!px_may_decrypt(key_id))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for privacy_ext key \"%s\"", name),
				 errhint("A key administrator can allow it with privacy.grant_key()."),
				 px_errhide()));
	PG_RETURN_TEXT_P(px_hash_text(&ref, VARDATA_ANY(in), VARSIZE_ANY_EXHDR(in)));
}

/* ---- generalize -------------------------------------------------------- */
PG_FUNCTION_INFO_V1(px_generalize_int4);
Datum
px_generalize_int4(PG_FUNCTION_ARGS)
{
	int32		step = PG_GETARG_INT32(1);

	int64		bucket;

	if (step <= 0)
		PG_RETURN_NULL();
	/* The lowest bucket may start below int4's range: clamp, never wrap. */
	bucket = px_generalize_int(PG_GETARG_INT32(0), step);
	PG_RETURN_INT32(bucket < PG_INT32_MIN ? PG_INT32_MIN : (int32) bucket);
}

PG_FUNCTION_INFO_V1(px_generalize_int8);
Datum
px_generalize_int8(PG_FUNCTION_ARGS)
{
	int64		step = PG_GETARG_INT64(1);

	if (step <= 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64(px_generalize_int(PG_GETARG_INT64(0), step));
}

PG_FUNCTION_INFO_V1(px_generalize_float8);
Datum
px_generalize_float8(PG_FUNCTION_ARGS)
{
	float8		step = PG_GETARG_FLOAT8(1);

	if (!(step > 0) || isinf(step))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(px_generalize_double(PG_GETARG_FLOAT8(0), step));
}

PG_FUNCTION_INFO_V1(px_generalize_numeric);
Datum
px_generalize_numeric(PG_FUNCTION_ARGS)
{
	Numeric		v = PG_GETARG_NUMERIC(0);
	Numeric		step = PG_GETARG_NUMERIC(1);
	Datum		rest;
	Datum		bound;

	if (numeric_is_nan(step) || numeric_is_inf(step) ||
		DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(step),
										  DirectFunctionCall1(int4_numeric, Int32GetDatum(0)))) <= 0)
		PG_RETURN_NULL();
	if (numeric_is_nan(v) || numeric_is_inf(v))
		PG_RETURN_NUMERIC(v);
	/*
	 * v minus its remainder, exact: numeric_div rounds its quotient to a
	 * scale, so floor(v / step) * step could land above v (2e19 by 3).
	 * The remainder takes v's sign; below zero the bound is a step lower.
	 */
	rest = DirectFunctionCall2(numeric_mod, NumericGetDatum(v), NumericGetDatum(step));
	bound = DirectFunctionCall2(numeric_sub, NumericGetDatum(v), rest);
	if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, rest,
										  DirectFunctionCall1(int4_numeric, Int32GetDatum(0)))) < 0)
		bound = DirectFunctionCall2(numeric_sub, bound, NumericGetDatum(step));
	/* A multiple of the step, written to the step's scale (exact) */
	PG_RETURN_DATUM(DirectFunctionCall2(numeric_round, bound,
										DirectFunctionCall1(numeric_scale, NumericGetDatum(step))));
}

/* 'month', 'year' or 'decade'; NULL for anything else. */
static const char *
unit_of(text *t)
{
	char	   *u = text_to_cstring(t);

	if (strcmp(u, "month") == 0 || strcmp(u, "year") == 0 || strcmp(u, "decade") == 0)
		return u;
	return NULL;
}

/*
 * First day of the month, year or decade holding a day (days since
 * 2000-01-01), computed on the calendar directly so that it works at the
 * very ends of the date range; a decade that would start before the first
 * representable day starts there instead.
 */
static int32
truncate_day(int32 day, const char *unit)
{
	int			y;
	int			m;
	int			d;
	int64		julian;

	j2date(day + POSTGRES_EPOCH_JDATE, &y, &m, &d);
	if (strcmp(unit, "month") == 0)
		d = 1;
	else
	{
		m = 1;
		d = 1;
		if (strcmp(unit, "decade") == 0)
			y -= ((y % 10) + 10) % 10;
	}
	julian = date2j(y, m, d);
	if (julian < DATETIME_MIN_JULIAN)
		julian = DATETIME_MIN_JULIAN;
	return (int32) (julian - POSTGRES_EPOCH_JDATE);
}

PG_FUNCTION_INFO_V1(px_generalize_date);
Datum
px_generalize_date(PG_FUNCTION_ARGS)
{
	DateADT		d = PG_GETARG_DATEADT(0);
	const char *unit = unit_of(PG_GETARG_TEXT_PP(1));

	if (unit == NULL)
		PG_RETURN_NULL();
	if (DATE_NOT_FINITE(d))
		PG_RETURN_DATEADT(d);
	PG_RETURN_DATEADT(truncate_day(d, unit));
}

/* Midnight of the truncated day of ts, at UTC, kept inside the timestamp range. */
static Timestamp
truncate_timestamp(Timestamp ts, const char *unit)
{
	int64		day = ts / USECS_PER_DAY;
	Timestamp	result;

	if (ts < 0 && ts % USECS_PER_DAY != 0)
		day--;
	result = (Timestamp) truncate_day((int32) day, unit) * USECS_PER_DAY;
	return result < MIN_TIMESTAMP ? MIN_TIMESTAMP : result;
}

PG_FUNCTION_INFO_V1(px_generalize_timestamp);
Datum
px_generalize_timestamp(PG_FUNCTION_ARGS)
{
	Timestamp	ts = PG_GETARG_TIMESTAMP(0);
	const char *unit = unit_of(PG_GETARG_TEXT_PP(1));

	if (unit == NULL)
		PG_RETURN_NULL();
	if (TIMESTAMP_NOT_FINITE(ts))
		PG_RETURN_TIMESTAMP(ts);
	PG_RETURN_TIMESTAMP(truncate_timestamp(ts, unit));
}

/*
 * timestamptz: truncated in the session's time zone, like date_trunc; at
 * the far ends of the range, where a time zone could push the result out
 * of range, at UTC.
 */
PG_FUNCTION_INFO_V1(px_generalize_timestamptz);
Datum
px_generalize_timestamptz(PG_FUNCTION_ARGS)
{
	TimestampTz ts = PG_GETARG_TIMESTAMPTZ(0);
	const char *unit = unit_of(PG_GETARG_TEXT_PP(1));
	int64		margin = (int64) 366 * 20 * USECS_PER_DAY;

	if (unit == NULL)
		PG_RETURN_NULL();
	if (TIMESTAMP_NOT_FINITE(ts))
		PG_RETURN_TIMESTAMPTZ(ts);
	if (ts < MIN_TIMESTAMP + margin || ts > END_TIMESTAMP - margin)
		PG_RETURN_TIMESTAMPTZ(truncate_timestamp(ts, unit));
	return DirectFunctionCall2(timestamptz_trunc, CStringGetTextDatum(unit), TimestampTzGetDatum(ts));
}

/* ---- noise ------------------------------------------------------------- */

/*
 * Noise in [-ratio * |v|, ratio * |v|], the same for the same value every
 * time (HMAC under a key derived from the root key), so repeating a query
 * and averaging gains nothing.
 */
static double
noisy(double v, double ratio, const char *tag)
{
	uint8_t		mac[32];
	char		buf[64];
	int			n = snprintf(buf, sizeof(buf), "%s:%.17g", tag, v);

	if (px_noise_mac((const uint8_t *) buf, (size_t) n, mac) != PX_OK)
		return v;
	return v + fabs(v) * ratio * px_noise_unit(mac);
}

/* A finite value's noise, kept finite: 1.7e308 plus its noise overflows. */
static double
noisy_finite(double v, double ratio)
{
	return fmax(fmin(noisy(v, ratio, "float"), DBL_MAX), -DBL_MAX);
}

static bool
ratio_ok(double r)
{
	return r > 0 && r <= 1;
}

/*
 * An integer's noise, rounded, then kept within floor(ratio * |v|) of v:
 * rounding alone could step past the bound (8 at 0.1 is 8 +- 0.8, and
 * rint() made 8.7 into 9).  The bounds are integers, saturated at int64's
 * limits (a double cannot hold every int64 there); int4's caller clamps
 * to its own range.
 */
static int64
noisy_int(int64 v, double r)
{
	double		n = rint(noisy((double) v, r, "int"));
	double		bound = floor(fabs((double) v) * r);
	int64		b = bound >= 9223372036854775807.0 ? PG_INT64_MAX : (int64) bound;
	int64		x;
	int64		lo;
	int64		hi;

	x = n >= 9223372036854775807.0 ? PG_INT64_MAX :
		n <= -9223372036854775808.0 ? PG_INT64_MIN : (int64) n;
	if (pg_sub_s64_overflow(v, b, &lo))
		lo = PG_INT64_MIN;
	if (pg_add_s64_overflow(v, b, &hi))
		hi = PG_INT64_MAX;
	return x < lo ? lo : x > hi ? hi : x;
}

PG_FUNCTION_INFO_V1(px_noise_int4);
Datum
px_noise_int4(PG_FUNCTION_ARGS)
{
	int32		v = PG_GETARG_INT32(0);
	double		r = PG_GETARG_FLOAT8(1);
	int64		n;

	if (!ratio_ok(r))
		PG_RETURN_NULL();
	n = noisy_int(v, r);
	PG_RETURN_INT32(n > PG_INT32_MAX ? PG_INT32_MAX : n < PG_INT32_MIN ? PG_INT32_MIN : (int32) n);
}

PG_FUNCTION_INFO_V1(px_noise_int8);
Datum
px_noise_int8(PG_FUNCTION_ARGS)
{
	double		r = PG_GETARG_FLOAT8(1);

	if (!ratio_ok(r))
		PG_RETURN_NULL();
	PG_RETURN_INT64(noisy_int(PG_GETARG_INT64(0), r));
}

PG_FUNCTION_INFO_V1(px_noise_float8);
Datum
px_noise_float8(PG_FUNCTION_ARGS)
{
	float8		v = PG_GETARG_FLOAT8(0);
	double		r = PG_GETARG_FLOAT8(1);

	if (!ratio_ok(r))
		PG_RETURN_NULL();
	if (isnan(v) || isinf(v))
		PG_RETURN_FLOAT8(v);
	PG_RETURN_FLOAT8(noisy_finite(v, r));
}

/*
 * A numeric's noise, or NULL when there is none to add: beyond float8's
 * range (1e400) the noise could not be computed, and the value itself
 * would be the value in clear.  The noise rule (masking/rules.c, jsonb
 * rules) shows NULL then, as mask_noise() does.
 */
Numeric
px_noise_numeric_value(Numeric v, double r)
{
	double		d;

	if (numeric_is_nan(v) || numeric_is_inf(v))
		return v;
	d = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, NumericGetDatum(v)));
	if (isinf(d))
		return NULL;
	return DatumGetNumeric(DirectFunctionCall1(float8_numeric, Float8GetDatum(noisy_finite(d, r))));
}

PG_FUNCTION_INFO_V1(px_noise_numeric);
Datum
px_noise_numeric(PG_FUNCTION_ARGS)
{
	Numeric		v = PG_GETARG_NUMERIC(0);
	double		r = PG_GETARG_FLOAT8(1);
	Numeric		result;

	if (!ratio_ok(r))
		PG_RETURN_NULL();
	result = px_noise_numeric_value(v, r);
	if (result == NULL)
		PG_RETURN_NULL();
	PG_RETURN_NUMERIC(result);
}

/* ---- redact ------------------------------------------------------------ */

/*
 * A fixed placeholder of a type, by its category: 'REDACTED' for strings,
 * 0 for numbers (money, oid too), the epoch for dates and timestamps,
 * midnight for times, false for booleans, an empty bytea; *isnull for any
 * other type.  The one definition for privacy.mask_redact() and the redact
 * rule (masking/rules.c), so that the two show the same.
 */
Datum
px_redact_placeholder(Oid type, bool *isnull)
{
	Oid			base = getBaseType(type);
	char		category;
	bool		preferred;
	const char *literal = NULL;
	Oid			input;
	Oid			ioparam;

	get_type_category_preferred(base, &category, &preferred);
	switch (category)
	{
		case TYPCATEGORY_STRING:
			literal = "REDACTED";
			break;
		case TYPCATEGORY_NUMERIC:
			literal = "0";
			break;
		case TYPCATEGORY_DATETIME:
			literal = (base == TIMEOID || base == TIMETZOID) ? "00:00" : "1970-01-01";
			break;
		case TYPCATEGORY_BOOLEAN:
			literal = "false";
			break;
		default:
			break;
	}
	if (base == BYTEAOID)
		literal = "\\x";
	*isnull = (literal == NULL);
	if (literal == NULL)
		return (Datum) 0;

	/*
	 * The base type's input: a domain's would run its CHECK, code of the
	 * domain's owner, with the rights of whoever reads the masking view (a
	 * superuser too), where reading the column runs none; and a CHECK the
	 * placeholder fails would fail every read.  A rewrite that stores the
	 * value (anonymize_table, erase_subject) checks the domain when it
	 * assigns it, as the table's owner.
	 */
	getTypeInputInfo(base, &input, &ioparam);
	return OidInputFunctionCall(input, (char *) literal, ioparam, -1);
}

PG_FUNCTION_INFO_V1(px_mask_redact_fn);
Datum
px_mask_redact_fn(PG_FUNCTION_ARGS)
{
	Oid			type = get_fn_expr_argtype(fcinfo->flinfo, 0);
	bool		isnull;
	Datum		result;

	if (!OidIsValid(type))
		PG_RETURN_NULL();
	result = px_redact_placeholder(type, &isnull);
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}
