/*
 * discovery/recognise.c
 *		SQL-callable side of personal-data detection: the per-value
 *		recognisers of src/core/detect.c applied to text and jsonb values,
 *		which column types are sampled and how, and a column's best
 *		category from its sample's counts, and one table's sample read
 *		as the table's owner (detect_sample).  Which tables and columns
 *		are sampled, and how much, is privacy.detect_personal_data() in
 *		sql/parts/1.1/88_discovery.sql.
 *
 * Nothing here returns, logs or reports a value: only category bits and
 * counts leave these functions.
 */
#include "postgres.h"

#include "admin.h"
#include "catalog.h"

#include "px_detect.h"

#include "access/detoast.h"
#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/resowner.h"
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
	SAMPLE_JSONB,				/* a json or jsonb value's string values */
	SAMPLE_DATE,				/* the value as YYYY-MM-DD */
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
 * The text argument of a detection function, false when there is nothing
 * to look at, with the answer in *answer: 0 for a value longer than any
 * category (a document, a blob of text, a numeric of 131072 digits: it
 * matches none, and is not detoasted to find that out), NULL for an empty
 * or blank one (not counted in a sample).
 */
static bool
sample_text(FunctionCallInfo fcinfo, const char **s, size_t *len, Datum *answer)
{
	text	   *value;

	*answer = Int32GetDatum(0);
	if (toast_raw_datum_size(PG_GETARG_DATUM(0)) > MAX_VALUE_BYTES + VARHDRSZ)
		return false;
	value = PG_GETARG_TEXT_PP(0);
	*s = VARDATA_ANY(value);
	*len = VARSIZE_ANY_EXHDR(value);
	fcinfo->isnull = blank(*s, *len);
	return !fcinfo->isnull;
}

/*
 * privacy.detect_value_categories(value text) RETURNS int: the categories
 * the value matches as bits (see px_detect.h), NULL for an empty or blank
 * value.
 */
PG_FUNCTION_INFO_V1(px_detect_value_categories);
Datum
px_detect_value_categories(PG_FUNCTION_ARGS)
{
	const char *s;
	size_t		len;
	Datum		answer;

	if (!sample_text(fcinfo, &s, &len, &answer))
		return answer;
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
	const char *s;
	size_t		len;
	Datum		answer;

	if (!sample_text(fcinfo, &s, &len, &answer))
		return answer;
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
 * privacy.detect_date_categories(value date) RETURNS int: the categories of
 * the date written YYYY-MM-DD (a date of birth), NULL for an infinite one.
 * Written here, not by to_char(value::timestamp): a valid date past the
 * timestamp range (date '300000-01-01') failed that cast, and with it the
 * sample of its whole table.
 */
PG_FUNCTION_INFO_V1(px_detect_date_categories);
Datum
px_detect_date_categories(PG_FUNCTION_ARGS)
{
	DateADT		date = PG_GETARG_DATEADT(0);
	int			year;
	int			month;
	int			day;
	char		buf[64];
	int			len;

	if (DATE_NOT_FINITE(date))
		PG_RETURN_NULL();
	j2date(date + POSTGRES_EPOCH_JDATE, &year, &month, &day);
	/* no one's birth, and to_char has no five-digit YYYY to match */
	if (year > 9999)
		PG_RETURN_INT32(0);
	/* as to_char's YYYY writes a year BC: 1 BC is year 0 here */
	if (year <= 0)
		year = 1 - year;
	len = snprintf(buf, sizeof(buf), "%04d-%02d-%02d", year, month, day);
	PG_RETURN_INT32((int32) px_detect_value(buf, (size_t) len, current_year()));
}

/* One \uXXXX escape's four hex digits, -1 when they are not. */
static int
json_hex4(const char *s, size_t len)
{
	int			v = 0;
	size_t		i;

	if (len < 4)
		return -1;
	for (i = 0; i < 4; i++)
	{
		char		c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/*
 * privacy.detect_json_categories(value json) RETURNS int: what
 * detect_jsonb_categories answers for the value as jsonb, read from the
 * json text itself.  The cast to jsonb fails on values json accepts
 * (\u0000, a number beyond numeric's range, an escape the server encoding
 * has no character for), and one such value failed the sample of its whole
 * table.  json_in has checked the syntax, so a string is a value unless a
 * ':' follows it (a key); escapes are decoded, \u0000 dropped and what the
 * server encoding cannot hold written '?', which no category matches.
 */
PG_FUNCTION_INFO_V1(px_detect_json_categories);
Datum
px_detect_json_categories(PG_FUNCTION_ARGS)
{
	text	   *json = PG_GETARG_TEXT_PP(0);
	const char *s = VARDATA_ANY(json);
	size_t		len = VARSIZE_ANY_EXHDR(json);
	bool		utf8 = GetDatabaseEncoding() == PG_UTF8;
	StringInfoData str;
	unsigned	bits = 0;
	int			strings = 0;
	int			year = current_year();
	size_t		i = 0;

	initStringInfo(&str);
	while (i < len && strings < MAX_JSONB_STRINGS)
	{
		bool		too_long = false;
		size_t		j;

		if (s[i] != '"')
		{
			i++;
			continue;
		}
		resetStringInfo(&str);
		for (i++; i < len && s[i] != '"'; i++)
		{
			char		c = s[i];

			if (str.len > MAX_VALUE_BYTES)
				too_long = true;
			if (c != '\\')
			{
				if (!too_long)
					appendStringInfoChar(&str, c);
				continue;
			}
			if (++i >= len)
				break;
			switch (s[i])
			{
				case 'b':
					c = '\b';
					break;
				case 'f':
					c = '\f';
					break;
				case 'n':
					c = '\n';
					break;
				case 'r':
					c = '\r';
					break;
				case 't':
					c = '\t';
					break;
				case 'u':
					{
						int			cp = json_hex4(s + i + 1, len - i - 1);
						unsigned char utf8buf[8];

						if (cp < 0)
						{
							c = '?';
							break;
						}
						i += 4;
						if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 < len && s[i + 1] == '\\' && s[i + 2] == 'u')
						{
							int			lo = json_hex4(s + i + 3, len - i - 3);

							if (lo >= 0xDC00 && lo <= 0xDFFF)
							{
								cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
								i += 6;
							}
						}
						if (cp == 0)
							continue;
						if (cp < 0x80)
							c = (char) cp;
						else if (utf8 && !(cp >= 0xD800 && cp <= 0xDFFF))
						{
							unicode_to_utf8((pg_wchar) cp, utf8buf);
							if (!too_long)
								appendBinaryStringInfo(&str, (char *) utf8buf,
													   pg_utf_mblen(utf8buf));
							continue;
						}
						else
							c = '?';
					}
					break;
				default:
					/* \" \\ \/ */
					c = s[i];
					break;
			}
			if (!too_long)
				appendStringInfoChar(&str, c);
		}
		i++;					/* past the closing quote */
		if (str.len > MAX_VALUE_BYTES)
			too_long = true;
		for (j = i; j < len && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r'); j++)
			;
		if (j < len && s[j] == ':')
			continue;			/* an object key */
		if (blank(str.data, str.len))
			continue;
		strings++;
		if (!too_long)
			bits |= px_detect_value(str.data, str.len, year);
	}
	pfree(str.data);
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
	/* getBaseType of a type that does not exist fails with XX000. */
	if (!SearchSysCacheExists1(TYPEOID, ObjectIdGetDatum(column_type)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("type with OID %u does not exist", column_type)));

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

/*
 * Whether an error is an interruption of the statement rather than
 * something the sampled read did: ProcessInterrupts() raises those (a
 * cancel request, statement_timeout, lock_timeout, a conflict with
 * recovery).  The owner's code can raise any SQLSTATE with any message,
 * query_canceled and PostgreSQL's own cancellation texts included (and
 * the texts are translated under lc_messages), but not from that function
 * of the server's.
 */
static bool
is_interruption(const ErrorData *edata)
{
	return edata->funcname != NULL && strcmp(edata->funcname, "ProcessInterrupts") == 0 &&
		edata->filename != NULL && strcmp(edata->filename, "postgres.c") == 0;
}

/*
 * Runs the sample query (as the table's owner already) in a subtransaction
 * of its own and returns its one value, NULL in *isnull when no column had
 * a value -- or when the read failed: the error is then dropped, with a
 * WARNING naming the table and the SQLSTATE only, since the owner's
 * policies and casts can put a sampled value in any part of an error.  A
 * plpgsql handler (WHEN OTHERS) leaves query_canceled and assert_failure
 * uncaught, so a policy raising those failed the whole detection, and
 * privacy.report(), with its message.  An interruption (is_interruption)
 * is re-thrown: a cancel or a timeout must still stop the detection.
 */
static Datum
sample_as_owner(const char *query, Oid *argtypes, Datum *args, const char *relname, bool *isnull)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	volatile Datum result = (Datum) 0;
	volatile bool result_isnull = true;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);
	PG_TRY();
	{
		int			rc;
		bool		null;
		Datum		value;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		rc = SPI_execute_with_args(query, 2, argtypes, args, NULL, true, 1);
		if (rc != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "could not sample %s", relname);
		value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &null);
		/* into oldcontext, the context SPI_connect was called in */
		if (!null)
			value = SPI_datumTransfer(value, false, -1);
		SPI_finish();
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
		result = value;
		result_isnull = null;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
		if (is_interruption(edata))
			ReThrowError(edata);
		ereport(WARNING,
				(errmsg("could not sample table %s, judging its columns by name only (SQLSTATE %s)",
						relname, unpack_sql_state(edata->sqlerrcode))));
		FreeErrorData(edata);
		result_isnull = true;
	}
	PG_END_TRY();
	*isnull = result_isnull;
	return result;
}

/*
 * privacy.detect_sample(relation regclass, columns smallint[],
 *     sample_rows integer, percent float8) RETURNS jsonb: the counts of one
 * table's sample, {"<attnum>": [values sampled, [values matching each bit
 * of px_detect_value]]} for each of the columns (of types sample_kind()
 * reads) with a value in a TABLESAMPLE SYSTEM (percent) sample of at most
 * sample_rows rows; NULL when none has, or when the read failed (a
 * WARNING with the table and the SQLSTATE, see sample_as_owner).
 *
 * The caller must administer privacy_ext and may read the columns; the
 * sample is then read as the table's owner in a security-restricted
 * operation, as ANALYZE reads it.  What the query runs of the owner's (its
 * row security policies and the functions they call, a cast of a type of
 * its own) runs with the owner's rights: run as the caller, a policy
 * calling privacy.grant_key() granted keys with the administrator's.  The
 * query is built here from the column types, so the owner's rights serve
 * that one read only; only counts leave it, never a value.
 */
PG_FUNCTION_INFO_V1(px_detect_sample);
Datum
px_detect_sample(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	ArrayType  *columns = PG_GETARG_ARRAYTYPE_P(1);
	int32		sample_rows = PG_GETARG_INT32(2);
	float8		percent = PG_GETARG_FLOAT8(3);
	Oid			userid = GetUserId();
	HeapTuple	tp;
	Form_pg_class relform;
	char		relkind;
	Oid			nspid;
	char	   *relname;
	Datum	   *elems;
	bool	   *nulls;
	int			ncolumns;
	int			i;
	StringInfoData select_list;
	StringInfoData value_list;
	StringInfoData query;
	Oid			argtypes[2] = {FLOAT8OID, INT8OID};
	Datum		args[2];
	PxSavedUser saved;
	volatile Datum result;
	bool		isnull;

	px_require_privacy_admin();
	if (sample_rows < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sample_rows must be a positive number of rows")));
	if (!(percent > 0 && percent <= 100))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("percent must be greater than 0 and at most 100")));

	LockRelationOid(relid, AccessShareLock);
	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tp))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	relform = (Form_pg_class) GETSTRUCT(tp);
	relkind = relform->relkind;
	nspid = relform->relnamespace;
	ReleaseSysCache(tp);
	relname = quote_qualified_identifier(get_namespace_name(nspid), get_rel_name(relid));
	/* tables and materialized views only: a view's query is its owner's code */
	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE &&
		relkind != RELKIND_MATVIEW)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s is not a table or materialized view", relname)));
	if (pg_namespace_aclcheck(nspid, userid, ACL_USAGE) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_SCHEMA, get_namespace_name(nspid));

	if (ARR_NDIM(columns) > 1 || ARR_ELEMTYPE(columns) != INT2OID)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("columns must be a one-dimensional smallint array")));
	deconstruct_array(columns, INT2OID, 2, true, TYPALIGN_SHORT, &elems, &nulls, &ncolumns);
	if (ncolumns == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("at least one column to sample is needed")));

	initStringInfo(&select_list);
	initStringInfo(&value_list);
	for (i = 0; i < ncolumns; i++)
	{
		AttrNumber	attnum;
		Form_pg_attribute att;
		const char *col;
		unsigned	categories;
		SampleKind	kind;
		Oid			base;
		int			j;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("a column number to sample is NULL")));
		attnum = DatumGetInt16(elems[i]);
		for (j = 0; j < i; j++)
			if (DatumGetInt16(elems[j]) == attnum)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("column %d of relation %s is given twice", attnum, relname)));
		tp = attnum > 0 ? SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid), Int16GetDatum(attnum)) : NULL;
		if (!HeapTupleIsValid(tp) || ((Form_pg_attribute) GETSTRUCT(tp))->attisdropped)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column %d of relation %s does not exist", attnum, relname)));
		att = (Form_pg_attribute) GETSTRUCT(tp);
		col = quote_identifier(pstrdup(NameStr(att->attname)));
		kind = sample_kind(att->atttypid, &categories);
		base = getBaseType(att->atttypid);
		ReleaseSysCache(tp);
		if (kind == SAMPLE_NONE)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("column %s of relation %s is of a type detection does not sample",
							col, relname)));
		if (pg_class_aclcheck(relid, userid, ACL_SELECT) != ACLCHECK_OK &&
			pg_attribute_aclcheck(relid, attnum, userid, ACL_SELECT) != ACLCHECK_OK)
			aclcheck_error_col(ACLCHECK_NO_PRIV, get_relkind_objtype(relkind),
							   get_rel_name(relid), get_attname(relid, attnum, false));

		appendStringInfo(&select_list, "%s%s", i > 0 ? ", " : "", col);
		appendStringInfo(&value_list, "%s(%d::pg_catalog.int2, ", i > 0 ? ", " : "", attnum);
		switch (kind)
		{
			/*
			 * No cast that an ordinary value can fail (json to jsonb, a date
			 * to timestamp, a timestamptz to timestamp at the range's ends):
			 * one such value failed the whole table's sample.
			 */
			case SAMPLE_JSONB:
				if (base == JSONOID)
					appendStringInfo(&value_list, "privacy.detect_json_categories(s.%s::pg_catalog.json))", col);
				else
					appendStringInfo(&value_list, "privacy.detect_jsonb_categories(s.%s::pg_catalog.jsonb))", col);
				break;
			case SAMPLE_DATE:
				if (base == DATEOID)
					appendStringInfo(&value_list, "privacy.detect_date_categories(s.%s::pg_catalog.date))", col);
				else
					appendStringInfo(&value_list,
									 "privacy.detect_value_categories(pg_catalog.to_char(s.%s::%s, 'YYYY-MM-DD')))",
									 col, base == TIMESTAMPTZOID ? "pg_catalog.timestamptz" : "pg_catalog.timestamp");
				break;
			case SAMPLE_NUMBER:
				appendStringInfo(&value_list, "privacy.detect_number_categories(s.%s::pg_catalog.text))", col);
				break;
			case SAMPLE_TEXT:
			case SAMPLE_INET:
			case SAMPLE_NONE:
				appendStringInfo(&value_list, "privacy.detect_value_categories(s.%s::pg_catalog.text))", col);
				break;
		}
	}

	/*
	 * Names are qualified, and the function's search_path (pg_catalog,
	 * pg_temp) leaves no operator or sampling method to another schema.
	 */
	initStringInfo(&query);
	appendStringInfoString(&query,
						   "SELECT pg_catalog.jsonb_object_agg(v.attnum, pg_catalog.jsonb_build_array(v.sampled, v.matched)) "
						   "FROM (SELECT x.attnum, pg_catalog.count(*) AS sampled, ARRAY[");
	for (i = 0; i < PX_DETECT_VALUE_BITS; i++)
		appendStringInfo(&query, "%spg_catalog.count(*) FILTER (WHERE x.bits & %d <> 0)",
						 i > 0 ? ", " : "", 1 << i);
	appendStringInfo(&query,
					 "]::pg_catalog.int8[] AS matched "
					 "FROM (SELECT %s FROM %s TABLESAMPLE SYSTEM ($1) LIMIT $2) s "
					 "CROSS JOIN LATERAL (VALUES %s) x(attnum, bits) "
					 "WHERE x.bits IS NOT NULL GROUP BY x.attnum) v",
					 select_list.data, relname, value_list.data);
	args[0] = Float8GetDatum(percent);
	args[1] = Int64GetDatum(sample_rows);

	px_become_table_owner(relid, &saved);
	PG_TRY();
	{
		result = sample_as_owner(query.data, argtypes, args, relname, &isnull);
	}
	PG_FINALLY();
	{
		px_restore_user(&saved);
	}
	PG_END_TRY();
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}
