/*
 * discovery/recognise.c
 *		SQL-callable side of personal-data detection: the per-value
 *		recognisers of src/core/detect.c applied to text and jsonb values,
 *		which column types are sampled and how, and a column's best
 *		category from its sample's counts.  The sampling itself (which
 *		tables, TABLESAMPLE, privileges) is privacy.detect_personal_data()
 *		in sql/parts/1.1/88_discovery.sql.
 *
 * Nothing here returns, logs or reports a value: only category bits and
 * counts leave these functions.
 */
#include "postgres.h"

#include "catalog.h"

#include "px_detect.h"

#include "access/detoast.h"
#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

/* Longer values match no category (e-mail addresses, the longest, stop at 254). */
#define MAX_VALUE_BYTES 1024

/* Strings of one jsonb value looked at: enough to judge, bounded in time. */
#define MAX_JSONB_STRINGS 256

/* How a column of a type is sampled, and which categories it can hold. */
typedef enum SampleKind
{
	SAMPLE_NONE = 0,			/* not sampled; not judged by name either */
	SAMPLE_TEXT,				/* value::text */
	SAMPLE_JSONB,				/* value::jsonb, its string values */
	SAMPLE_DATE,				/* to_char(value, 'YYYY-MM-DD') */
	SAMPLE_NUMBER,				/* value::text, judged as a number's digits */
	SAMPLE_INET					/* value::text */
} SampleKind;

static SampleKind
sample_kind(Oid type, unsigned *categories)
{
	Oid			base = getBaseType(type);
	unsigned	all = PX_DETECT_BIT(PX_DETECT_COUNT) - 1;

	*categories = 0;
	switch (base)
	{
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
			*categories = all;
			return SAMPLE_TEXT;
		case JSONBOID:
		case JSONOID:
			*categories = all;
			return SAMPLE_JSONB;
		case DATEOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			*categories = PX_DETECT_BIT(PX_DETECT_DATE_OF_BIRTH);
			return SAMPLE_DATE;
		case INT4OID:
		case INT8OID:
		case NUMERICOID:
			/* numbers that are identifiers: card numbers, phones, SSNs, ZIP codes */
			*categories = PX_DETECT_BIT(PX_DETECT_PAYMENT_CARD) | PX_DETECT_BIT(PX_DETECT_PHONE) |
				PX_DETECT_BIT(PX_DETECT_US_SSN) | PX_DETECT_BIT(PX_DETECT_POSTAL_CODE);
			return SAMPLE_NUMBER;
		case INETOID:
		case CIDROID:
			*categories = PX_DETECT_BIT(PX_DETECT_IP_ADDRESS);
			return SAMPLE_INET;
		default:
			break;
	}
	/* citext, from whichever schema it was installed in */
	{
		HeapTuple	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(base));
		bool		is_citext = false;

		if (HeapTupleIsValid(tup))
		{
			is_citext = strcmp(NameStr(((Form_pg_type) GETSTRUCT(tup))->typname), "citext") == 0;
			ReleaseSysCache(tup);
		}
		if (is_citext)
		{
			*categories = all;
			return SAMPLE_TEXT;
		}
	}
	return SAMPLE_NONE;
}

/* The year of the current transaction's start: where ages are counted from. */
static int
current_year(void)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;

	if (timestamp2tm(GetCurrentTransactionStartTimestamp(), &tz, &tm, &fsec, NULL, NULL) != 0)
		return 2000;			/* unreachable for a real transaction start */
	return tm.tm_year;
}

static bool
blank(const char *s, size_t len)
{
	size_t		i;

	for (i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return false;
	return true;
}

/*
 * privacy.detect_value_categories(value text) RETURNS int: the categories
 * the value matches as bits (see px_detect.h), NULL for an empty or blank
 * value (not counted in a sample).
 */
PG_FUNCTION_INFO_V1(px_detect_value_categories);
Datum
px_detect_value_categories(PG_FUNCTION_ARGS)
{
	text	   *value;
	const char *s;
	size_t		len;

	/*
	 * No category is longer than this: a long value (a document, a blob of
	 * text) matches none, and is not detoasted to find that out.
	 */
	if (toast_raw_datum_size(PG_GETARG_DATUM(0)) > MAX_VALUE_BYTES + VARHDRSZ)
		PG_RETURN_INT32(0);
	value = PG_GETARG_TEXT_PP(0);
	s = VARDATA_ANY(value);
	len = VARSIZE_ANY_EXHDR(value);
	if (blank(s, len))
		PG_RETURN_NULL();
	PG_RETURN_INT32((int32) px_detect_value(s, len, current_year()));
}

/*
 * privacy.detect_number_categories(value text) RETURNS int: the same for the
 * text of a number column's value (px_detect_number: card numbers, postal
 * codes, the digit shapes of SSNs and phones), NULL for an empty or blank
 * value.
 */
PG_FUNCTION_INFO_V1(px_detect_number_categories);
Datum
px_detect_number_categories(PG_FUNCTION_ARGS)
{
	text	   *value;
	const char *s;
	size_t		len;

	/* a number this long (numeric prints up to 131072 digits) is no identifier */
	if (toast_raw_datum_size(PG_GETARG_DATUM(0)) > MAX_VALUE_BYTES + VARHDRSZ)
		PG_RETURN_INT32(0);
	value = PG_GETARG_TEXT_PP(0);
	s = VARDATA_ANY(value);
	len = VARSIZE_ANY_EXHDR(value);
	if (blank(s, len))
		PG_RETURN_NULL();
	PG_RETURN_INT32((int32) px_detect_number(s, len));
}

/*
 * privacy.detect_jsonb_categories(value jsonb) RETURNS int: the categories
 * matched by any of the value's non-blank strings (object keys aside; at
 * most MAX_JSONB_STRINGS of them), NULL when it has none.
 */
PG_FUNCTION_INFO_V1(px_detect_jsonb_categories);
Datum
px_detect_jsonb_categories(PG_FUNCTION_ARGS)
{
	Jsonb	   *jb = PG_GETARG_JSONB_P(0);
	JsonbIterator *it = JsonbIteratorInit(&jb->root);
	JsonbValue	v;
	JsonbIteratorToken r;
	unsigned	bits = 0;
	int			strings = 0;
	int			year = current_year();

	while (strings < MAX_JSONB_STRINGS && (r = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		if ((r == WJB_VALUE || r == WJB_ELEM) && v.type == jbvString &&
			!blank(v.val.string.val, v.val.string.len))
		{
			strings++;
			bits |= px_detect_value(v.val.string.val, v.val.string.len, year);
		}
	}
	if (strings == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT32((int32) bits);
}

/*
 * privacy.detect_sampling(column_type regtype) RETURNS text: how a column
 * of that type is sampled ('text', 'jsonb', 'date', 'number', 'inet'), or
 * NULL for a type detection leaves alone.
 */
PG_FUNCTION_INFO_V1(px_detect_sampling);
Datum
px_detect_sampling(PG_FUNCTION_ARGS)
{
	unsigned	categories;

	px_require_type(PG_GETARG_OID(0));
	switch (sample_kind(PG_GETARG_OID(0), &categories))
	{
		case SAMPLE_TEXT:
			PG_RETURN_TEXT_P(cstring_to_text("text"));
		case SAMPLE_JSONB:
			PG_RETURN_TEXT_P(cstring_to_text("jsonb"));
		case SAMPLE_DATE:
			PG_RETURN_TEXT_P(cstring_to_text("date"));
		case SAMPLE_NUMBER:
			PG_RETURN_TEXT_P(cstring_to_text("number"));
		case SAMPLE_INET:
			PG_RETURN_TEXT_P(cstring_to_text("inet"));
		case SAMPLE_NONE:
			break;
	}
	PG_RETURN_NULL();
}

/*
 * privacy.detect_column_score(column_name name, column_type regtype,
 *     sampled bigint, matched bigint[], OUT category text, OUT confidence real):
 * the column's most likely category among those its type can hold, from
 * the number of values sampled and matched[i] (those matching bit i of
 * px_detect_value: a category, then a digit shape; an array of the
 * categories alone counts no shapes), and its name; NULL category when
 * none reaches the reporting threshold.
 */
PG_FUNCTION_INFO_V1(px_detect_column_score);
Datum
px_detect_column_score(PG_FUNCTION_ARGS)
{
	Name		column_name = PG_GETARG_NAME(0);
	Oid			column_type = PG_GETARG_OID(1);
	int64		sampled = PG_GETARG_INT64(2);
	ArrayType  *matched_array = PG_GETARG_ARRAYTYPE_P(3);
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	int64		matched[PX_DETECT_VALUE_BITS] = {0};
	unsigned	categories;
	PxNameHint	hint;
	int			best = -1;
	double		best_conf = 0.0;
	TupleDesc	tupdesc;
	Datum		values[2];
	bool		isnull[2] = {true, true};
	int			c;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);

	if (ARR_NDIM(matched_array) > 1 || ARR_ELEMTYPE(matched_array) != INT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("matched must be a one-dimensional bigint array")));
	deconstruct_array(matched_array, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &elems, &nulls, &nelems);
	if (nelems != 0 && nelems != PX_DETECT_COUNT && nelems != PX_DETECT_VALUE_BITS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("matched must have %d elements, one per category and digit shape, %d, one per category, or none",
						PX_DETECT_VALUE_BITS, PX_DETECT_COUNT)));
	for (c = 0; c < nelems; c++)
		matched[c] = nulls[c] ? 0 : DatumGetInt64(elems[c]);
	if (sampled < 0)
		sampled = 0;

	if (sample_kind(column_type, &categories) != SAMPLE_NONE)
	{
		hint = px_detect_column_name(NameStr(*column_name), strlen(NameStr(*column_name)));
		for (c = 0; c < PX_DETECT_COUNT; c++)
		{
			double		conf;
			int64		shaped = 0;
			int			sh;

			if (!(categories & PX_DETECT_BIT(c)))
				continue;
			for (sh = 0; sh < PX_SHAPE_COUNT; sh++)
				if (px_detect_shape_category(sh) == c)
					shaped += matched[PX_DETECT_COUNT + sh];
			conf = px_detect_confidence_shaped(c, (long) sampled, (long) matched[c], (long) shaped, hint);
			if (conf > best_conf)
			{
				best = c;
				best_conf = conf;
			}
		}
	}
	if (best >= 0 && best_conf >= PX_DETECT_REPORT_THRESHOLD)
	{
		values[0] = CStringGetTextDatum(px_detect_category_name(best));
		values[1] = Float4GetDatum((float4) best_conf);
		isnull[0] = isnull[1] = false;
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, isnull)));
}
