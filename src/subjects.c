/*
 * subjects.c
 *		Data-subject requests: privacy.export_subject() (right of access) and
 *		privacy.erase_subject() (right to erasure).
 *
 * Both read every table registered with privacy.protect_table() by its
 * subject column.  Rows there are filtered by consent, and a request must
 * see all of a subject's rows whatever they consented to, so the work runs
 * as the extension's owner (a superuser: privacy_ext is not a trusted
 * extension), with search_path pinned to pg_catalog and every generated
 * name quoted.  The caller is checked first: superuser or privacy_admin.
 */
#include "privacy_ext.h"

#include <ctype.h>

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#define ADMIN_ROLE "privacy_admin"

typedef struct ProtectedTable
{
	Oid			relid;
	char	   *subject_column;
	bool		anonymize;
	bool		done;
} ProtectedTable;

/* The identity a request runs under, and how to go back. */
typedef struct RequestContext
{
	Oid			save_userid;
	int			save_sec;
	int			guc_level;
} RequestContext;

static void
require_request_rights(const char *what)
{
	Oid			admin = get_role_oid(ADMIN_ROLE, true);

	if (superuser() || (OidIsValid(admin) && has_privs_of_role(GetUserId(), admin)))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to %s a data subject", what),
			 errhint("Data-subject requests need superuser or membership in role \"%s\".",
					 ADMIN_ROLE)));
}

static char *
subject_arg(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("subject must not be NULL")));
	return text_to_cstring(PG_GETARG_TEXT_PP(0));
}

static void
begin_request(RequestContext *rc)
{
	Oid			nsp = get_namespace_oid("privacy", false);
	Oid			relid = get_relname_relid("protected_tables", nsp);
	HeapTuple	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tp))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tp))->relowner;
	ReleaseSysCache(tp);

	GetUserIdAndSecContext(&rc->save_userid, &rc->save_sec);
	SetUserIdAndSecContext(owner, rc->save_sec | SECURITY_LOCAL_USERID_CHANGE);
	rc->guc_level = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	/* The request is audited as one event, not as the decryptions it does. */
	px_audit_suppressed++;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
}

static void
end_request(RequestContext *rc)
{
	SPI_finish();
	px_audit_suppressed--;
	AtEOXact_GUC(true, rc->guc_level);
	SetUserIdAndSecContext(rc->save_userid, rc->save_sec);
}

/*
 * Whether the subject id can be a value of the subject column's type; if
 * not, the table holds nothing about it (a text id against an integer
 * column is not an error, just no rows).
 */
static bool
subject_fits(const char *s, Oid type)
{
	size_t		len = strlen(s);
	size_t		i;
	int			digits = 0;

	switch (type)
	{
		case INT4OID:
		case INT8OID:
			{
				char	   *end;
				long long	v;

				if (len == 0 || len > 20 || isspace((unsigned char) s[0]))
					return false;
				errno = 0;
				v = strtoll(s, &end, 10);
				if (errno != 0 || *end != '\0')
					return false;
				return type == INT8OID || (v >= PG_INT32_MIN && v <= PG_INT32_MAX);
			}
		case UUIDOID:
			for (i = 0; i < len; i++)
			{
				if (isxdigit((unsigned char) s[i]))
					digits++;
				else if (s[i] != '-' && s[i] != '{' && s[i] != '}')
					return false;
			}
			return digits == 32 && len <= 38;
		default:
			return true;
	}
}

static char *
qualified_name(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
}

/* The registered tables that still exist, in a stable order. */
static List *
load_protected_tables(void)
{
	List	   *tables = NIL;
	uint64		i;

	if (SPI_execute("SELECT relid::pg_catalog.oid, subject_column::pg_catalog.text,"
					" on_erase OPERATOR(pg_catalog.=) 'anonymize'"
					" FROM privacy.protected_tables ORDER BY relid::pg_catalog.text",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read privacy.protected_tables");
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Oid			relid = DatumGetObjectId(SPI_getbinval(tup, desc, 1, &isnull));
		ProtectedTable *t;

		if (get_rel_name(relid) == NULL)
			continue;			/* dropped since */
		t = palloc0(sizeof(ProtectedTable));
		t->relid = relid;
		t->subject_column = SPI_getvalue(tup, desc, 2);
		t->anonymize = DatumGetBool(SPI_getbinval(tup, desc, 3, &isnull));
		tables = lappend(tables, t);
	}
	return tables;
}

/*
 * The WHERE clause finding the subject's rows, and its parameter; false
 * when the subject cannot be in this table.
 */
static bool
subject_condition(ProtectedTable *t, const char *subject, StringInfo where,
				  Oid *paramtype, Datum *param)
{
	AttrNumber	attnum = get_attnum(t->relid, t->subject_column);
	Oid			type;
	Oid			input;
	Oid			ioparam;

	if (attnum == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("subject column \"%s\" of protected table %s does not exist",
						t->subject_column, qualified_name(t->relid)),
				 errhint("Register the table again with privacy.protect_table().")));
	type = get_atttype(t->relid, attnum);
	if (type == VARCHAROID)
		type = TEXTOID;
	if (!subject_fits(subject, type))
		return false;
	getTypeInputInfo(type, &input, &ioparam);
	*param = OidInputFunctionCall(input, (char *) subject, ioparam, -1);
	*paramtype = type;
	appendStringInfo(where, "%s OPERATOR(pg_catalog.=) $1", quote_identifier(t->subject_column));
	return true;
}

static bool
is_encrypted_type(Oid type)
{
	char	   *name = format_type_be(type);

	return strcmp(name, "privacy.encrypted_text") == 0 ||
		strcmp(name, "privacy.encrypted_bytea") == 0 ||
		strcmp(name, "privacy.encrypted_text_det") == 0;
}

/*
 * The select list for an export: every column, encrypted ones decrypted;
 * a column under a destroyed key reads as NULL (its values are gone).
 */
static char *
export_columns(Oid relid)
{
	StringInfoData cols;
	HeapTuple	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	int			natts;
	AttrNumber	a;

	if (!HeapTupleIsValid(tp))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	natts = ((Form_pg_class) GETSTRUCT(tp))->relnatts;
	ReleaseSysCache(tp);
	initStringInfo(&cols);
	for (a = 1; a <= natts; a++)
	{
		HeapTuple	at = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid), Int16GetDatum(a));
		Form_pg_attribute att;
		const char *name;

		if (!HeapTupleIsValid(at))
			continue;
		att = (Form_pg_attribute) GETSTRUCT(at);
		if (att->attisdropped)
		{
			ReleaseSysCache(at);
			continue;
		}
		name = quote_identifier(NameStr(att->attname));
		if (cols.len > 0)
			appendStringInfoString(&cols, ", ");
		if (is_encrypted_type(att->atttypid))
		{
			uint32		key_id = att->atttypmod > 0 ? (uint32) att->atttypmod : 0;

			if (key_id != 0 && (!px_key_exists(key_id) || px_key_destroyed(key_id)))
				appendStringInfo(&cols, "NULL::pg_catalog.text AS %s", name);
			else
				appendStringInfo(&cols, "privacy.decrypt(%s) AS %s", name, name);
		}
		else
			appendStringInfoString(&cols, name);
		ReleaseSysCache(at);
	}
	return cols.data;
}

static char *
jsonb_result_text(void)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

	if (isnull)
		return "[]";
	return JsonbToCString(NULL, &DatumGetJsonbP(d)->root, 0);
}

/*
 * privacy.export_subject(subject): one jsonb document with the subject's
 * rows in every protected table (decrypted), current consents and consent
 * history.
 */
PG_FUNCTION_INFO_V1(px_export_subject);
Datum
px_export_subject(PG_FUNCTION_ARGS)
{
	char	   *subject = subject_arg(fcinfo);
	RequestContext rc;
	StringInfoData doc;
	List	   *tables;
	ListCell   *lc;
	int64		rows = 0;
	bool		first = true;
	Oid			texttype = TEXTOID;
	Datum		subject_datum = CStringGetTextDatum(subject);
	Jsonb	   *result;

	require_request_rights("export");
	begin_request(&rc);

	initStringInfo(&doc);
	appendStringInfoString(&doc, "{\"subject\": ");
	escape_json(&doc, subject);
	appendStringInfoString(&doc, ", \"exported_at\": ");
	escape_json(&doc, timestamptz_to_str(GetCurrentTransactionStartTimestamp()));
	appendStringInfoString(&doc, ", \"tables\": {");

	tables = load_protected_tables();
	foreach(lc, tables)
	{
		ProtectedTable *t = (ProtectedTable *) lfirst(lc);
		StringInfoData where;
		StringInfoData query;
		Oid			paramtype;
		Datum		param;

		if (!first)
			appendStringInfoString(&doc, ", ");
		first = false;
		escape_json(&doc, qualified_name(t->relid));
		appendStringInfoString(&doc, ": ");
		initStringInfo(&where);
		if (!subject_condition(t, subject, &where, &paramtype, &param))
		{
			appendStringInfoString(&doc, "[]");
			continue;
		}
		initStringInfo(&query);
		appendStringInfo(&query,
						 "SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(s)), pg_catalog.count(*)"
						 " FROM (SELECT %s FROM %s WHERE %s) s",
						 export_columns(t->relid), qualified_name(t->relid), where.data);
		if (SPI_execute_with_args(query.data, 1, &paramtype, &param, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read %s", qualified_name(t->relid));
		appendStringInfoString(&doc, jsonb_result_text());
		{
			bool		isnull;

			rows += DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2,
												&isnull));
		}
	}

	if (SPI_execute_with_args("SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(c)"
							  " OPERATOR(pg_catalog.-) 'subject'::pg_catalog.text ORDER BY c.purpose)"
							  " FROM privacy.consents c WHERE c.subject OPERATOR(pg_catalog.=) $1",
							  1, &texttype, &subject_datum, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read privacy.consents");
	appendStringInfo(&doc, "}, \"consents\": %s", jsonb_result_text());
	if (SPI_execute_with_args("SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(e)"
							  " OPERATOR(pg_catalog.-) 'subject'::pg_catalog.text ORDER BY e.event_id)"
							  " FROM privacy.consent_events e WHERE e.subject OPERATOR(pg_catalog.=) $1",
							  1, &texttype, &subject_datum, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read privacy.consent_events");
	appendStringInfo(&doc, ", \"consent_history\": %s}", jsonb_result_text());

	end_request(&rc);

	/* The document holds plaintext: build it outside SPI, never log it. */
	result = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(doc.data)));
	px_audit_event("export", subject, rows, psprintf("{\"tables\": %d}", list_length(tables)));
	PG_RETURN_JSONB_P(result);
}

/*
 * Children first: a table whose rows reference another protected table is
 * erased before it, so that foreign keys without ON DELETE CASCADE hold.
 */
static List *
erase_order(List *tables)
{
	List	   *order = NIL;
	int			n = list_length(tables);
	int			placed = 0;

	while (placed < n)
	{
		ListCell   *lc;
		ProtectedTable *pick = NULL;

		foreach(lc, tables)
		{
			ProtectedTable *t = (ProtectedTable *) lfirst(lc);
			ListCell   *lc2;
			bool		referenced = false;
			Oid			argtypes[2] = {OIDOID, OIDOID};
			Datum		values[2];

			if (t->done)
				continue;
			foreach(lc2, tables)
			{
				ProtectedTable *other = (ProtectedTable *) lfirst(lc2);

				if (other->done || other == t)
					continue;
				values[0] = ObjectIdGetDatum(other->relid);
				values[1] = ObjectIdGetDatum(t->relid);
				if (SPI_execute_with_args("SELECT 1 FROM pg_catalog.pg_constraint"
										  " WHERE contype OPERATOR(pg_catalog.=) 'f'"
										  " AND conrelid OPERATOR(pg_catalog.=) $1"
										  " AND confrelid OPERATOR(pg_catalog.=) $2",
										  2, argtypes, values, NULL, true, 1) != SPI_OK_SELECT)
					elog(ERROR, "could not read pg_constraint");
				if (SPI_processed > 0)
				{
					referenced = true;
					break;
				}
			}
			if (!referenced)
			{
				pick = t;
				break;
			}
		}
		if (pick == NULL)		/* a cycle: take the next one, let the FKs say */
			foreach(lc, tables)
				if (!((ProtectedTable *) lfirst(lc))->done)
				{
					pick = (ProtectedTable *) lfirst(lc);
					break;
				}
		pick->done = true;
		order = lappend(order, pick);
		placed++;
	}
	return order;
}

/* UPDATE ... SET each column with a default rule to its masked value. */
static char *
anonymize_assignments(ProtectedTable *t)
{
	StringInfoData set;
	Oid			argtype = OIDOID;
	Datum		relid = ObjectIdGetDatum(t->relid);
	bool		subject_masked = false;
	uint64		i;
	char	   *table_literal = quote_literal_cstr(qualified_name(t->relid));

	if (SPI_execute_with_args("SELECT column_name::pg_catalog.text FROM privacy.mask_rules"
							  " WHERE relid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass"
							  " AND role_name IS NULL AND rule OPERATOR(pg_catalog.<>) 'none'"
							  " ORDER BY attnum",
							  1, &argtype, &relid, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read privacy.mask_rules");
	initStringInfo(&set);
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *col = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);

		if (get_attnum(t->relid, col) == InvalidAttrNumber)
			continue;
		if (strcmp(col, t->subject_column) == 0)
			subject_masked = true;
		appendStringInfo(&set, "%s%s = privacy.anonymize_value(%s, %s, %s)",
						 set.len > 0 ? ", " : "", quote_identifier(col), quote_identifier(col),
						 table_literal, quote_literal_cstr(col));
	}
	if (!subject_masked)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("protected table %s is anonymized on erasure, but its subject column \"%s\" has no default masking rule",
						qualified_name(t->relid), t->subject_column),
				 errdetail("Its rows would still name the subject."),
				 errhint("Give the column a rule with privacy.set_mask(), or protect the table with on_erase => 'delete'.")));
	return set.data;
}

/*
 * privacy.erase_subject(subject): deletes the subject's rows in every
 * protected table, or anonymizes them for good where the table was
 * registered with on_erase => 'anonymize', and withdraws every consent.
 * All or nothing: it runs in the caller's transaction.
 */
PG_FUNCTION_INFO_V1(px_erase_subject);
Datum
px_erase_subject(PG_FUNCTION_ARGS)
{
	char	   *subject = subject_arg(fcinfo);
	RequestContext rc;
	StringInfoData summary;
	List	   *tables;
	ListCell   *lc;
	int64		rows = 0;
	int64		withdrawn;
	bool		first = true;
	Oid			texttype = TEXTOID;
	Datum		subject_datum = CStringGetTextDatum(subject);
	Jsonb	   *result;

	require_request_rights("erase");
	begin_request(&rc);

	initStringInfo(&summary);
	appendStringInfoString(&summary, "{\"subject\": ");
	escape_json(&summary, subject);
	appendStringInfoString(&summary, ", \"tables\": {");

	tables = erase_order(load_protected_tables());
	foreach(lc, tables)
	{
		ProtectedTable *t = (ProtectedTable *) lfirst(lc);
		StringInfoData where;
		StringInfoData query;
		Oid			paramtype;
		Datum		param;
		int			rc_spi;
		uint64		n = 0;

		initStringInfo(&where);
		if (subject_condition(t, subject, &where, &paramtype, &param))
		{
			initStringInfo(&query);
			if (t->anonymize)
				appendStringInfo(&query, "UPDATE %s SET %s WHERE %s", qualified_name(t->relid),
								 anonymize_assignments(t), where.data);
			else
				appendStringInfo(&query, "DELETE FROM %s WHERE %s", qualified_name(t->relid),
								 where.data);
			rc_spi = SPI_execute_with_args(query.data, 1, &paramtype, &param, NULL, false, 0);
			if (rc_spi != SPI_OK_UPDATE && rc_spi != SPI_OK_DELETE)
				elog(ERROR, "could not erase from %s", qualified_name(t->relid));
			n = SPI_processed;
		}
		rows += n;
		if (!first)
			appendStringInfoString(&summary, ", ");
		first = false;
		escape_json(&summary, qualified_name(t->relid));
		appendStringInfo(&summary, ": {\"%s\": " UINT64_FORMAT "}",
						 t->anonymize ? "anonymized" : "deleted", n);
	}

	if (SPI_execute_with_args("SELECT privacy.withdraw_consent(c.subject, c.purpose,"
							  " '{\"reason\": \"erase_subject\"}'::pg_catalog.jsonb)"
							  " FROM privacy.consent_state c"
							  " WHERE c.subject OPERATOR(pg_catalog.=) $1 AND c.granted"
							  " ORDER BY c.purpose",
							  1, &texttype, &subject_datum, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not withdraw consents");
	withdrawn = (int64) SPI_processed;
	appendStringInfo(&summary, "}, \"rows\": " INT64_FORMAT ", \"consents_withdrawn\": " INT64_FORMAT "}",
					 rows, withdrawn);

	end_request(&rc);

	result = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(summary.data)));
	px_audit_event("erase", subject, rows, summary.data);
	PG_RETURN_JSONB_P(result);
}
