/*
 * subjects.c
 *		Data-subject requests: privacy.export_subject() (right of access) and
 *		privacy.erase_subject() (right to erasure).
 *
 * Both read every table registered with privacy.protect_table() by its
 * subject column.  The caller must be a superuser or in privacy_admin.
 * Each table is read and changed as its owner, inside a security-restricted
 * operation, the way VACUUM and ANALYZE run a table's code: the table's
 * triggers, policies and index expressions never run with more rights than
 * their owner already has.  Encrypted columns are decrypted here in C on the
 * caller's authority (never through SQL the table's code could also call),
 * and search_path is pinned to pg_catalog with every generated name quoted.
 *
 * The request's own reach.  A request covers all of the subject's rows,
 * whatever they consented to, so while it runs has_consent() passes the
 * subject's rows, privacy.anonymize_value() may run and the values the
 * request reads are not counted one by one (the request is one audit
 * event).  All three hold only for the request's own statements: the code
 * of a table's owner that those statements fire (triggers, policy or
 * constraint functions, index expressions, defaults) runs as it would
 * outside a request.  The boundary is the function manager: while a
 * request runs, every function that is neither built in nor a member of
 * this extension is called through the fmgr hook below, which counts the
 * calls in progress ("foreign" code); the request's reach is in force only
 * while none is.  A BEFORE ROW trigger's simple PL/pgSQL expressions run
 * inside the request's own executor run, but inside the trigger's function
 * call, so they are foreign too.  The consent bypass is further limited to
 * the request's subject (as the subject column's type prints it, and, while
 * an erasure anonymizes a table, the one value its subject column gets), so
 * even code taken for the request's own sees no other subject's rows.  A
 * static masking run passes every subject (it rewrites every row), so its
 * own queries may read no protected table but the one it rewrites.
 */
#include "errors.h"
#include "subjects.h"
#include "subject_match.h"
#include "catalog.h"
#include "keys/key_store.h"
#include "types/encrypted.h"
#include "audit/counts.h"
#include "audit/events.h"
#include "admin.h"
#include "log_redact.h"
#include "citus/dist_rewrite.h"

#include <ctype.h>

#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/partition.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "nodes/makefuncs.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

typedef struct ProtectedTable
{
	Oid			relid;
	char	   *subject_column;
	bool		anonymize;
	bool		done;

	/*
	 * Its statements read and change the table ONLY, its inheritance
	 * children being entries of their own: an anonymizing erasure rewrites
	 * each child by the child's rules (a statement on the parent would set
	 * only the parent's columns, leaving the child's own ones in clear).
	 */
	bool		only;
} ProtectedTable;


/* The request running in this backend, if any (see subjects.h). */
PxRequestKind px_request_in_progress = PX_REQUEST_NONE;

/*
 * Calls in progress through the fmgr hook while a request runs, innermost
 * last: whether each is foreign code (a function neither built in nor of
 * this extension).  foreign_calls counts the foreign ones; the request's
 * reach holds while it is 0.
 */
static bool *call_stack = NULL;
static int	call_stack_top = 0;
static int	call_stack_size = 0;
static int	foreign_calls = 0;

/* This extension, for telling its functions from a table owner's. */
static Oid	request_extension = InvalidOid;

/* The subject of the table being read or erased, as its column type prints it. */
static const char *request_subject = NULL;
static size_t request_subject_len = 0;

/*
 * While an erasure rewrites the subject's rows of a table registered with
 * on_erase => 'anonymize': the subject column's anonymized value, as
 * has_consent() sees it ("" for NULL).  The rewritten rows name it, and
 * PostgreSQL checks them against the table's SELECT and UPDATE policies
 * (the generated UPDATE reads the subject column), so the request's own
 * code must pass that value too -- that one value, not every subject: a
 * policy of the owner's may hold a subquery over another protected table
 * (built-in functions only, so not foreign code), and would otherwise read
 * every subject's rows of it during the rewrite.
 */
static const char *request_rewritten = NULL;
static size_t request_rewritten_len = 0;

/*
 * A static masking run passes every subject, since it rewrites every row
 * of its table, so its own queries must read no other protected table
 * (refuse_other_protected): the registered tables, read when the run starts
 * (nothing the run lets run can change them), and the table being
 * rewritten (request_rewriting), whose partitions and inheritance children
 * hold rows of its own.  In the request's SPI memory.
 */
static List *request_protected = NIL;
static Oid	request_rewriting = InvalidOid;
static List *request_rewriting_family = NIL;

static bool request_hooks_installed = false;
static needs_fmgr_hook_type prev_needs_fmgr_hook = NULL;
static fmgr_hook_type prev_fmgr_hook = NULL;
static ExecutorRun_hook_type prev_executor_run = NULL;

static List *load_protected_tables(void);
static char *qualified_name(Oid relid);

/* Functions of this extension are the request's own code (built-in ones never reach the hook). */
static bool
request_own_function(Oid fn_oid)
{
	return OidIsValid(request_extension) &&
		getExtensionOfObject(ProcedureRelationId, fn_oid) == request_extension;
}

/* Route every other function fmgr_info() looks up during a request through the hook. */
static bool
request_needs_fmgr_hook(Oid fn_oid)
{
	if (prev_needs_fmgr_hook && prev_needs_fmgr_hook(fn_oid))
		return true;
	return px_request_in_progress != PX_REQUEST_NONE && !request_own_function(fn_oid);
}

/*
 * Entering foreign code ends the request's reach until it returns: values
 * it decrypts are counted like any others.  A call starts and ends under
 * the same request state (a request begins and ends inside its own call),
 * so the stack is balanced; errors unwind through FHET_ABORT.
 */
static void
request_fmgr_hook(FmgrHookEventType event, FmgrInfo *flinfo, Datum *private)
{
	if (prev_fmgr_hook)
		prev_fmgr_hook(event, flinfo, private);
	if (px_request_in_progress == PX_REQUEST_NONE)
		return;
	if (event == FHET_START)
	{
		bool		foreign;

		/*
		 * *private lives as long as the FmgrInfo (a trigger's, called per
		 * row): it keeps the answer unless another module's hook owns it.
		 */
		if (prev_fmgr_hook == NULL && DatumGetInt32(*private) != 0)
			foreign = DatumGetInt32(*private) == 2;
		else
		{
			foreign = !request_own_function(flinfo->fn_oid);
			if (prev_fmgr_hook == NULL)
				*private = Int32GetDatum(foreign ? 2 : 1);
		}

		if (call_stack_top == call_stack_size)
		{
			int			size = call_stack_size == 0 ? 16 : call_stack_size * 2;

			call_stack = call_stack == NULL ?
				MemoryContextAlloc(TopMemoryContext, sizeof(bool) * size) :
				repalloc(call_stack, sizeof(bool) * size);
			call_stack_size = size;
		}
		call_stack[call_stack_top++] = foreign;
		if (foreign && foreign_calls++ == 0)
			px_audit_resume();	/* counted like any other read */
	}
	else if (call_stack_top > 0)
	{
		if (call_stack[--call_stack_top] && --foreign_calls == 0)
			px_audit_suspend();
	}
}

static void
request_xact_callback(XactEvent event, void *arg)
{
	/*
	 * A failed request leaves nothing switched on (audit/counts.c puts counting
	 * back the same way).  Registered before the first request starts.
	 */
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
	{
		px_request_in_progress = PX_REQUEST_NONE;
		call_stack_top = 0;
		foreign_calls = 0;
		request_subject = NULL;
		request_rewritten = NULL;
		request_protected = NIL;
		request_rewriting = InvalidOid;
		request_rewriting_family = NIL;
	}
}

/* Whether relid is a registered protected table or a partition of one. */
static bool
request_reads_protected(Oid relid)
{
	ListCell   *lc;

	if (list_member_oid(request_protected, relid))
		return true;
	if (!get_rel_relispartition(relid))
		return false;
	foreach(lc, get_partition_ancestors(relid))
		if (list_member_oid(request_protected, lfirst_oid(lc)))
			return true;
	return false;
}

/*
 * A static masking run's own statements pass every subject: a query run by
 * them reading another protected table -- a subquery in a policy or a rule
 * of the owner's, a query a built-in function such as query_to_xml() runs
 * from the table's expressions, a masking view, a cursor another function
 * opened and a built-in (cursor_to_xml) fetches from -- would read every
 * subject's rows of it.  It is refused before it runs (each time it runs:
 * a cursor may have been opened before the run, or by foreign code), so
 * the run fails with nothing changed.  Code of others the run fires has no
 * bypass (foreign_calls) and reads as usual; so do referential integrity
 * queries, which PostgreSQL runs as the table's owner without row-level
 * security (SECURITY_NOFORCE_RLS), and in which has_consent() gives no
 * bypass either (px_request_covers_subject).
 * Looked at only while a run is in progress.
 */
static void
refuse_other_protected(List *range_table)
{
	ListCell   *lc;

	if (!px_request_scope() || InNoForceRLSOperation())
		return;
	foreach(lc, range_table)
	{
		RangeTblEntry *rte = (RangeTblEntry *) lfirst(lc);

		if (rte->rtekind != RTE_RELATION ||
			list_member_oid(request_rewriting_family, rte->relid) ||
			!request_reads_protected(rte->relid))
			continue;
		if (px_request_in_progress == PX_REQUEST_ANONYMIZE)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("cannot anonymize %s: a query of the run reads protected table %s",
							OidIsValid(request_rewriting) ? qualified_name(request_rewriting) : "a table",
							qualified_name(rte->relid)),
					 errdetail("While a table is rewritten, consent filtering passes every subject for the run's own queries."),
					 errhint("Drop or change the policy, rule or constraint of the table that reads it (a PL/pgSQL function reading it sees the rows its purpose covers), and run it again.")));
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot %s the subject's rows of %s: a query of the request reads protected table %s",
						px_request_in_progress == PX_REQUEST_EXPORT ? "export" : "erase",
						qualified_name(request_rewriting), qualified_name(rte->relid)),
				 errdetail("While a data-subject request runs, consent filtering passes the subject's rows for its own queries: a policy or rule reading another protected table would carry them out of it."),
				 errhint("Drop or change the policy or rule of the table that reads it, and run the request again; nothing was changed.")));
	}
}

static void
request_executor_run(QueryDesc *queryDesc, ScanDirection direction, uint64 count,
					 bool execute_once)
{
	/* an export or an erasure: while it reads or changes one table's rows */
	bool		rule_action;

	if (unlikely(px_request_in_progress == PX_REQUEST_ANONYMIZE ||
				 (px_request_in_progress != PX_REQUEST_NONE && OidIsValid(request_rewriting))))
		refuse_other_protected(queryDesc->plannedstmt->rtable);

	/*
	 * A query a rule of the table added to the request's statement (DO
	 * ALSO: it does not set the command's tag) is the owner's code, like a
	 * trigger: what it decrypts is counted, as outside a request.
	 */
	rule_action = px_request_in_progress != PX_REQUEST_NONE && !queryDesc->plannedstmt->canSetTag &&
		queryDesc->plannedstmt->commandType != CMD_UTILITY;
	if (!rule_action)
	{
		if (prev_executor_run)
			prev_executor_run(queryDesc, direction, count, execute_once);
		else
			standard_ExecutorRun(queryDesc, direction, count, execute_once);
		return;
	}
	if (foreign_calls++ == 0)
		px_audit_resume();
	PG_TRY();
	{
		if (prev_executor_run)
			prev_executor_run(queryDesc, direction, count, execute_once);
		else
			standard_ExecutorRun(queryDesc, direction, count, execute_once);
	}
	PG_FINALLY();
	{
		if (px_request_in_progress != PX_REQUEST_NONE && foreign_calls > 0 && --foreign_calls == 0)
			px_audit_suspend();
	}
	PG_END_TRY();
}

static void
install_request_hooks(void)
{
	if (request_hooks_installed)
		return;
	prev_needs_fmgr_hook = needs_fmgr_hook;
	needs_fmgr_hook = request_needs_fmgr_hook;
	prev_fmgr_hook = fmgr_hook;
	fmgr_hook = request_fmgr_hook;
	prev_executor_run = ExecutorRun_hook;
	ExecutorRun_hook = request_executor_run;
	RegisterXactCallback(request_xact_callback, NULL);
	request_hooks_installed = true;
}

/* Whether the innermost code running is the request's own (see the top). */
bool
px_request_scope(void)
{
	return px_request_in_progress != PX_REQUEST_NONE && foreign_calls == 0;
}

/*
 * has_consent()'s bypass: the request's own statement, reading its subject
 * (or, while an erasure anonymizes a table, the value the subject's rows
 * get); for a static masking run (masking/static.c), which rewrites every
 * row of its tables, any subject -- but not inside PostgreSQL's
 * referential-integrity work (SECURITY_NOFORCE_RLS): a cascaded UPDATE or
 * SET DEFAULT evaluates the referencing table's expressions, whose
 * built-ins (query_to_xml) would read other protected tables with the
 * bypass, and refuse_other_protected() lets those queries run.  Without it
 * they read what the referencing table's owner may.
 */
bool
px_request_covers_subject(const char *subject, size_t len)
{
	if (!px_request_scope())
		return false;
	if (px_request_in_progress == PX_REQUEST_ANONYMIZE)
		return !InNoForceRLSOperation();
	return (request_subject != NULL && len == request_subject_len &&
			memcmp(subject, request_subject, len) == 0) ||
		(request_rewritten != NULL && len == request_rewritten_len &&
		 memcmp(subject, request_rewritten, len) == 0);
}

static void
require_request_rights(const char *what)
{
	if (px_is_privacy_admin())
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to %s a data subject", what),
			 errhint("Data-subject requests need superuser or membership in role \"%s\".",
					 PX_ADMIN_ROLE)));
}

static char *
subject_arg(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("subject must not be NULL")));
	/*
	 * An empty id names no person; a table may well hold '' in many rows
	 * (a placeholder), and erasing "subject ''" would erase them all.
	 */
	if (VARSIZE_ANY_EXHDR(PG_GETARG_TEXT_PP(0)) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("subject must not be empty")));
	return text_to_cstring(PG_GETARG_TEXT_PP(0));
}

/*
 * The start of a request's JSON result, {"subject": ..., made before the
 * request connects to SPI: SPI's memory ends with the request.
 */
static void
begin_document(StringInfo buf, const char *subject)
{
	initStringInfo(buf);
	appendStringInfoString(buf, "{\"subject\": ");
	escape_json(buf, subject);
}

void
px_request_begin(PxRequestContext *rc, PxRequestKind kind)
{
	/* A request's reach cannot be lent to another started from code it fired. */
	if (px_request_in_progress != PX_REQUEST_NONE)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("a data-subject request cannot start inside another")));
	install_request_hooks();
	request_extension = get_extension_oid("privacy_ext", true);
	call_stack_top = 0;
	foreign_calls = 0;
	request_subject = NULL;
	request_rewritten = NULL;
	request_protected = NIL;
	request_rewriting = InvalidOid;
	request_rewriting_family = NIL;
	rc->guc_level = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	{
		ListCell   *lc;

		foreach(lc, load_protected_tables())
			request_protected = lappend_oid(request_protected,
											((ProtectedTable *) lfirst(lc))->relid);
	}
	/* The request is audited as one event, not as the values it reads. */
	px_audit_suspend();
	px_request_in_progress = kind;
}

/* Also run, through PG_FINALLY, when the request fails. */
void
px_request_reset(void)
{
	if (px_request_in_progress != PX_REQUEST_NONE && foreign_calls == 0)
		px_audit_resume();
	px_request_in_progress = PX_REQUEST_NONE;
	call_stack_top = 0;
	foreign_calls = 0;
	request_subject = NULL;
	request_rewritten = NULL;
	request_protected = NIL;
	request_rewriting = InvalidOid;
	request_rewriting_family = NIL;
}

/*
 * A static masking run starts on a table (masking/static.c), and an export
 * or an erasure reads or changes one registered table at a time (between
 * two, InvalidOid): the table, its partitions and its inheritance children
 * are the ones its queries may read among the protected tables
 * (refuse_other_protected).
 */
void
px_request_rewriting(Oid relid)
{
	request_rewriting = relid;
	request_rewriting_family = OidIsValid(relid) ? find_all_inheritors(relid, NoLock, NULL) : NIL;
}

void
px_request_end(PxRequestContext *rc)
{
	px_request_reset();
	SPI_finish();
	AtEOXact_GUC(true, rc->guc_level);
}

/*
 * Run one generated statement on a protected table as the table's owner,
 * in a security-restricted operation.
 */
static int
execute_as_owner(Oid relid, const char *sql, Oid paramtype, Datum param, bool read_only)
{
	PxSavedUser saved;
	volatile int rc;

	px_become_table_owner(relid, &saved);
	PG_TRY();
	{
		rc = SPI_execute_with_args(sql, 1, &paramtype, &param, NULL, read_only, 0);
	}
	PG_FINALLY();
	{
		px_restore_user(&saved);
	}
	PG_END_TRY();
	return rc;
}

static char *
qualified_name(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
}

/*
 * A request runs as the table's owner, under the table's row-level
 * security (forced by protect_table): a policy of the owner's own (a
 * tenant policy, say) can hide some of the subject's rows from it, and an
 * export would then leave them out, an erasure leave them in place, with
 * nothing said.  So the rows are counted once more with no policy in the
 * way (as the bootstrap superuser, in a security-restricted operation: a
 * count by the subject column's built-in equality runs none of the owner's
 * code), and a request that did not reach them all fails.  Foreign tables
 * (their rows are the server's to count, under a user mapping of the
 * superuser's) and Citus tables are left out of the count.
 */
static int64
count_every_row(Oid relid, bool only, const char *where, Oid paramtype, Datum param,
				bool after_changes)
{
	List	   *rels = find_all_inheritors(relid, NoLock, NULL);
	ListCell   *lc;
	PxSavedUser saved;
	StringInfoData query;
	volatile int rc;
	bool		isnull;
	char	   *dist_column;

	/* ONLY a table that is not partitioned counts that table alone */
	if (only && get_rel_relkind(relid) != RELKIND_PARTITIONED_TABLE)
		rels = list_make1_oid(relid);
	foreach(lc, rels)
	{
		char		kind = get_rel_relkind(lfirst_oid(lc));

		if (kind == RELKIND_FOREIGN_TABLE)
			return -1;
		/*
		 * The count runs as the bootstrap superuser because a table's
		 * count runs none of its owner's code.  A registered table its
		 * owner turned into a view since (CREATE RULE "_RETURN") would run
		 * the view's query, the owner's functions, as the superuser.
		 */
		if (kind != RELKIND_RELATION && kind != RELKIND_PARTITIONED_TABLE)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("protected table %s is not a table any more", qualified_name(lfirst_oid(lc))),
					 errhint("Remove it from privacy.protected_tables, or protect a table; nothing was changed.")));
	}
	if (px_citus_table_kind(relid, &dist_column) != PX_CITUS_NONE)
		return -1;
	initStringInfo(&query);
	appendStringInfo(&query, "SELECT pg_catalog.count(*) FROM %s%s t WHERE %s",
					 only && get_rel_relkind(relid) != RELKIND_PARTITIONED_TABLE ? "ONLY " : "",
					 qualified_name(relid), where);
	px_become_owner(BOOTSTRAP_SUPERUSERID, &saved);
	PG_TRY();
	{
		/* after_changes: not read-only, so that it sees the request's own writes */
		rc = SPI_execute_with_args(query.data, 1, &paramtype, &param, NULL, !after_changes, 1);
	}
	PG_FINALLY();
	{
		px_restore_user(&saved);
	}
	PG_END_TRY();
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not count the subject's rows of %s", qualified_name(relid));
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* Every row of relid (not its children), counted as above: for static masking. */
int64
px_count_all_rows(Oid relid)
{
	return count_every_row(relid, true, "true", INT4OID, Int32GetDatum(0), false);
}

static void
require_every_row_reached(Oid relid, int64 total, uint64 reached)
{
	if (total < 0 || (uint64) total <= reached)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("the request reached " INT64_FORMAT " of the subject's " INT64_FORMAT " rows of %s",
					(int64) reached, total, qualified_name(relid)),
			 errdetail("Data-subject requests read and change protected tables as their owner, under the table's policies and triggers: a policy hides the rows from the owner, or a BEFORE trigger of the table skipped them."),
			 errhint("Make the table's other policies let its owner (role \"%s\") see every row, or disable the trigger, then repeat the request; nothing was changed.",
					 GetUserNameFromId(px_relation_owner(relid, false), false))));
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

		/*
		 * protect_table refuses them, but privacy_admin may write the
		 * registry itself: a catalog (pg_proc, pg_authid) or the
		 * extension's own audit log, read and rewritten as its owner, the
		 * bootstrap superuser, would be a superuser's power.
		 */
		if (px_system_or_extension_relation(relid))
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("protected table %s belongs to the system or to privacy_ext", qualified_name(relid)),
					 errdetail("privacy.protected_tables names it, but data-subject requests read and change only users' tables."),
					 errhint("Remove it from privacy.protected_tables; nothing was read or changed.")));
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

	request_subject = NULL;		/* until this table's statement is set up */
	if (attnum == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("subject column \"%s\" of protected table %s does not exist",
						t->subject_column, qualified_name(t->relid)),
				 errhint("Register the table again with privacy.protect_table().")));
	type = get_atttype(t->relid, attnum);

	/*
	 * The types protect_table accepts, checked again here: the column may
	 * have been retyped since, or the registry written by hand, and the
	 * subject is read below with the type's input function as the caller
	 * (a domain's CHECK, the owner's code, would run with the caller's
	 * rights).
	 */
	if (type != TEXTOID && type != VARCHAROID && type != INT8OID && type != INT4OID &&
		type != UUIDOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("subject column \"%s\" of protected table %s has type %s",
						t->subject_column, qualified_name(t->relid), format_type_be(type)),
				 errhint("Subjects are text, varchar, bigint, integer or uuid: change the column back, or register the table again with privacy.protect_table(); nothing was read or changed.")));
	if (type == VARCHAROID)
		type = TEXTOID;
	if (!subject_fits(subject, type))
		return false;
	getTypeInputInfo(type, &input, &ioparam);
	*param = OidInputFunctionCall(input, (char *) subject, ioparam, -1);
	*paramtype = type;
	{
		/* has_consent() sees the subject as the column's type prints it */
		Oid			output;
		bool		varlena;
		char	   *printed;

		getTypeOutputInfo(type, &output, &varlena);
		printed = OidOutputFunctionCall(output, *param);

		/*
		 * Only the subject's own text form is this subject: '007', '+7' or
		 * an upper-case uuid read as the column's type would find the rows
		 * of subject '7' or of the canonical uuid, whose consents are kept
		 * under that text (has_consent keys them so), not under the request's.
		 */
		if (strcmp(printed, subject) != 0)
			return false;
		request_subject = printed;
		request_subject_len = strlen(request_subject);
	}
	px_subject_match(where, t->relid, t->subject_column, 1);
	return true;
}

/*
 * A column of a protected table whose type holds encrypted values, in any
 * shape px_walk_encrypted_type() reaches them: its values are rendered
 * here in C, every encrypted value in them opened.
 */
typedef struct ExportColumn
{
	char	   *name;
	Oid			typid;
	int32		typmod;
} ExportColumn;

static void
note_encrypted_leaf(Oid typid, px_value_type type, int32 key_id,
					PxValueShape shape, int array_depth, void *arg)
{
	*(bool *) arg = true;
}

/*
 * Whether values of typid hold encrypted values, in any shape: by the one
 * walk the key functions and the inventory use (catalog.c), so that what
 * an export opens is what they count as encrypted.
 */
static bool
holds_encrypted(Oid typid, int32 typmod)
{
	bool		found = false;

	px_walk_encrypted_type(typid, typmod, PX_SHAPE_VALUE, note_encrypted_leaf, &found);
	return found;
}

/*
 * The export query: the clear columns as one jsonb (to_jsonb keeps their
 * types), then each encrypted column's value, opened in C below.  A table
 * with inheritance children is read with ONLY: each child is exported
 * under its own name, with its own columns (see expand_children).
 */
static char *
export_query(ProtectedTable *t, const char *where, List **enc_columns)
{
	StringInfoData plain;
	StringInfoData enc;
	StringInfoData query;
	HeapTuple	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(t->relid));
	int			natts;
	char		relkind;
	AttrNumber	a;

	if (!HeapTupleIsValid(tp))
		elog(ERROR, "cache lookup failed for relation %u", t->relid);
	natts = ((Form_pg_class) GETSTRUCT(tp))->relnatts;
	relkind = ((Form_pg_class) GETSTRUCT(tp))->relkind;
	ReleaseSysCache(tp);
	initStringInfo(&plain);
	initStringInfo(&enc);
	*enc_columns = NIL;
	for (a = 1; a <= natts; a++)
	{
		HeapTuple	at = SearchSysCache2(ATTNUM, ObjectIdGetDatum(t->relid), Int16GetDatum(a));
		Form_pg_attribute att;

		if (!HeapTupleIsValid(at))
			continue;
		att = (Form_pg_attribute) GETSTRUCT(at);
		if (!att->attisdropped)
		{
			const char *name = quote_identifier(NameStr(att->attname));

			if (holds_encrypted(att->atttypid, att->atttypmod))
			{
				ExportColumn *c = palloc0(sizeof(ExportColumn));

				c->name = pstrdup(NameStr(att->attname));
				c->typid = att->atttypid;
				c->typmod = att->atttypmod;
				*enc_columns = lappend(*enc_columns, c);
				appendStringInfo(&enc, ", t.%s", name);
			}
			else
				appendStringInfo(&plain, "%st.%s", plain.len > 0 ? ", " : "", name);
		}
		ReleaseSysCache(at);
	}
	initStringInfo(&query);
	if (plain.len > 0)
		appendStringInfo(&query, "SELECT (SELECT pg_catalog.to_jsonb(p.*) FROM (SELECT %s) p)%s",
						 plain.data, enc.data);
	else
		appendStringInfo(&query, "SELECT '{}'::pg_catalog.jsonb%s", enc.data);
	/* A partitioned table has no rows of its own: ONLY would find none. */
	appendStringInfo(&query, " FROM %s%s t WHERE %s",
					 relkind == RELKIND_PARTITIONED_TABLE ? "" : "ONLY ",
					 qualified_name(t->relid), where);
	return query.data;
}

/*
 * Why a stored value cannot be opened, or NULL when it can.  An export
 * flags such a value with {"unreadable": reason} rather than failing or
 * passing the envelope off as data.
 */
static const char *
unreadable_reason(bytea *env, px_value_type type)
{
	px_header	hdr;
	PxKeyRef	ref;

	if (px_header_read((uint8_t *) VARDATA_ANY(env), VARSIZE_ANY_EXHDR(env), &hdr) != PX_OK ||
		hdr.type != type)
		return "malformed value";
	if (hdr.key_id == PX_TRANSIT_KEY_ID)
		return "not bound to a key";
	if (!px_key_exists(hdr.key_id))
		return "unknown key";
	if (px_key_destroyed(hdr.key_id))
		return "key destroyed";
	if (!px_key_ref_for_version(hdr.key_id, hdr.key_version, true, &ref))
		return "key version dropped";
	return NULL;
}

/* One stored value as JSON: its plaintext, or a marker saying why not. */
static void
append_opened_value(StringInfo doc, bytea *env, px_value_type type, void **open_cache)
{
	const char *reason = unreadable_reason(env, type);
	struct varlena *plain;
	size_t		n;

	if (reason == NULL)
		plain = px_open_for_masking(env, type, open_cache, CurrentMemoryContext, -1);
	else
		plain = NULL;
	if (plain == NULL)
	{
		appendStringInfoString(doc, "{\"unreadable\": ");
		escape_json(doc, reason ? reason : "not bound to a key");
		appendStringInfoChar(doc, '}');
		return;
	}
	n = VARSIZE(plain) - VARHDRSZ;
	if (type == PX_TYPE_BYTEA)
	{
		/* as to_jsonb renders bytea: "\\x" and hex digits */
		char	   *hex = palloc(2 * n + 3);
		size_t		i;

		hex[0] = '\\';
		hex[1] = 'x';
		for (i = 0; i < n; i++)
			snprintf(hex + 2 + 2 * i, 3, "%02x", (unsigned char) VARDATA(plain)[i]);
		hex[2 + 2 * n] = '\0';
		escape_json(doc, hex);
		px_wipe(hex, 2 * n + 2);
	}
	else
	{
		char	   *str = text_to_cstring((text *) plain);

		escape_json(doc, str);
		px_wipe(str, n);
	}
	px_wipe(VARDATA(plain), n);
}

/* The protected table whose rows export_table renders (append_plain_value). */
static Oid	export_rendering_relid = InvalidOid;

/*
 * A value that holds nothing encrypted, as to_jsonb renders it (a plain
 * field of a composite type beside an encrypted one, say).  to_jsonb reads
 * its argument's type from the call expression, so it is given one.  It
 * runs as the table's owner, as the export's query does: to_jsonb calls a
 * type's cast to json, which the owner may have made (a cast of its enum,
 * its own function), and which as the caller would run with the caller's
 * rights.
 */
static void
append_plain_value(StringInfo doc, Datum v, Oid typid)
{
	FmgrInfo	flinfo;
	Jsonb	   *volatile j = NULL;
	PxSavedUser saved;

	fmgr_info(F_TO_JSONB, &flinfo);
	flinfo.fn_expr = (Node *) makeFuncExpr(F_TO_JSONB, JSONBOID,
										   list_make1(makeNullConst(typid, -1, InvalidOid)),
										   InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
	Assert(OidIsValid(export_rendering_relid));
	px_become_table_owner(export_rendering_relid, &saved);
	PG_TRY();
	{
		j = DatumGetJsonbP(FunctionCall1(&flinfo, v));
	}
	PG_FINALLY();
	{
		px_restore_user(&saved);
	}
	PG_END_TRY();
	appendStringInfoString(doc, JsonbToCString(NULL, &j->root, VARSIZE(j)));
}

static void append_encrypted_value(StringInfo doc, Datum v, Oid typid, int32 typmod,
								   void **open_cache);

/* A non-NULL value of any type as JSON, every encrypted value in it opened. */
static void
append_export_value(StringInfo doc, Datum v, Oid typid, int32 typmod, void **open_cache)
{
	if (holds_encrypted(typid, typmod))
		append_encrypted_value(doc, v, typid, typmod, open_cache);
	else
		append_plain_value(doc, v, typid);
}

/*
 * Elements [*pos, ...) of an array value, dimension dim onwards, as nested
 * JSON arrays, the way to_jsonb renders a multidimensional array.  An
 * element may itself be an array (of a domain over an array) or a
 * composite value: each is rendered whole, nested as to_jsonb nests it.
 */
static void
append_array_dim(StringInfo doc, int ndim, const int *dims, int dim, Datum *elems,
				 bool *nulls, int *pos, Oid elemtype, int32 typmod, void **open_cache)
{
	int			i;

	appendStringInfoChar(doc, '[');
	for (i = 0; i < dims[dim]; i++)
	{
		if (i > 0)
			appendStringInfoString(doc, ", ");
		if (dim + 1 < ndim)
			append_array_dim(doc, ndim, dims, dim + 1, elems, nulls, pos, elemtype, typmod,
							 open_cache);
		else
		{
			if (nulls[*pos])
				appendStringInfoString(doc, "null");
			else
				append_encrypted_value(doc, elems[*pos], elemtype, typmod, open_cache);
			(*pos)++;
		}
	}
	appendStringInfoChar(doc, ']');
}

/*
 * An array whose elements hold encrypted values (an array's typmod is its
 * elements', as the walk reads it).
 */
static void
append_export_array(StringInfo doc, Datum v, int32 typmod, void **open_cache)
{
	ArrayType  *arr = DatumGetArrayTypeP(v);
	Oid			elemtype = ARR_ELEMTYPE(arr);
	int16		elmlen;
	bool		elmbyval;
	char		elmalign;
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	int			pos = 0;

	get_typlenbyvalalign(elemtype, &elmlen, &elmbyval, &elmalign);
	deconstruct_array(arr, elemtype, elmlen, elmbyval, elmalign, &elems, &nulls, &nelems);
	if (ARR_NDIM(arr) == 0)
		appendStringInfoString(doc, "[]");
	else
		append_array_dim(doc, ARR_NDIM(arr), ARR_DIMS(arr), 0, elems, nulls, &pos, elemtype,
						 typmod, open_cache);
}

/*
 * A composite value with an encrypted field (at some depth), as to_jsonb
 * renders it: an object of its live fields, NULL ones included, each
 * field followed with its own type and typmod, as the walk follows it.
 */
static void
append_export_composite(StringInfo doc, Datum v, void **open_cache)
{
	HeapTupleHeader td = DatumGetHeapTupleHeader(v);
	TupleDesc	desc = lookup_rowtype_tupdesc(HeapTupleHeaderGetTypeId(td),
											  HeapTupleHeaderGetTypMod(td));
	HeapTupleData tuple;
	bool		first = true;
	int			i;

	tuple.t_len = HeapTupleHeaderGetDatumLength(td);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = td;
	appendStringInfoChar(doc, '{');
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		bool		isnull;
		Datum		field;

		if (att->attisdropped)
			continue;
		appendStringInfoString(doc, first ? "" : ", ");
		first = false;
		escape_json(doc, NameStr(att->attname));
		appendStringInfoString(doc, ": ");
		field = heap_getattr(&tuple, i + 1, desc, &isnull);
		if (isnull)
			appendStringInfoString(doc, "null");
		else
			append_export_value(doc, field, att->atttypid, att->atttypmod, open_cache);
	}
	appendStringInfoChar(doc, '}');
	ReleaseTupleDesc(desc);
}

/*
 * A non-NULL value of a type that holds encrypted values: through its
 * domains (to any depth) down to an encrypted type, an array or a
 * composite type, as px_walk_encrypted_type() follows them.
 */
static void
append_encrypted_value(StringInfo doc, Datum v, Oid typid, int32 typmod, void **open_cache)
{
	int32		basemod = typmod;
	Oid			base = getBaseTypeAndTypmod(typid, &basemod);
	px_value_type type;

	/* Nesting is bounded by the catalogs (no type contains itself). */
	check_stack_depth();
	if (px_encrypted_type(base, &type))
		append_opened_value(doc, DatumGetByteaPP(v), type, open_cache);
	else if (OidIsValid(get_element_type(base)))
		append_export_array(doc, v, basemod, open_cache);
	else if (type_is_rowtype(base))
		append_export_composite(doc, v, open_cache);
	else
		append_plain_value(doc, v, typid);
}

/* One row of an export, as JSON, with its encrypted columns opened. */
static void
append_export_row(StringInfo doc, HeapTuple tuple, TupleDesc desc, List *enc_columns,
				  void **open_cache)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tuple, desc, 1, &isnull);
	char	   *json = isnull ? "{}" : JsonbToCString(NULL, &DatumGetJsonbP(d)->root, 0);
	size_t		len = strlen(json);
	bool		empty = (len <= 2);
	ListCell   *lc;
	int			col = 2;

	appendBinaryStringInfo(doc, json, (int) len - 1);	/* without the '}' */
	foreach(lc, enc_columns)
	{
		ExportColumn *c = (ExportColumn *) lfirst(lc);
		Datum		v = SPI_getbinval(tuple, desc, col++, &isnull);

		appendStringInfoString(doc, empty ? "" : ", ");
		empty = false;
		escape_json(doc, c->name);
		appendStringInfoString(doc, ": ");
		if (isnull)
			appendStringInfoString(doc, "null");
		else
			append_encrypted_value(doc, v, c->typid, c->typmod, open_cache);
	}
	appendStringInfoChar(doc, '}');
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
 * The subject's rows of a privacy relation (consents, consent_events) as a
 * JSON array, without the subject column, in order_by order.
 */
static const char *
consent_rows_json(const char *relation, const char *order_by, Datum subject)
{
	Oid			texttype = TEXTOID;
	char	   *query = psprintf("SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(r)"
								 " OPERATOR(pg_catalog.-) 'subject'::pg_catalog.text ORDER BY r.%s)"
								 " FROM privacy.%s r WHERE r.subject OPERATOR(pg_catalog.=) $1",
								 order_by, relation);

	if (SPI_execute_with_args(query, 1, &texttype, &subject, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read privacy.%s", relation);
	return jsonb_result_text();
}

/*
 * A table's descendants registered themselves are requested under their
 * own registration (subject column, on_erase), once: the parent's
 * statement leaves their rows out, and those of their own descendants
 * (a sub-partitioned partition's rows are in its leaves; an inheritance
 * grandchild's go with the child registered).  (A partitioned table is
 * read with its partitions; a parent with inheritance children is erased
 * with them.)  tables may also list children expanded by expand_children:
 * they too have a statement of their own.
 */
static void
exclude_registered_descendants(StringInfo where, Oid relid, List *tables)
{
	List	   *family = find_all_inheritors(relid, NoLock, NULL);
	List	   *excluded = NIL;
	ListCell   *lc;
	ListCell   *lt;
	bool		any = false;

	foreach(lc, family)
	{
		Oid			member = lfirst_oid(lc);

		if (member == relid || list_member_oid(excluded, member))
			continue;
		foreach(lt, tables)
		{
			if (((ProtectedTable *) lfirst(lt))->relid != member)
				continue;
			excluded = list_concat_unique_oid(excluded, find_all_inheritors(member, NoLock, NULL));
			break;
		}
	}
	foreach(lc, excluded)
	{
		appendStringInfo(where, "%s%u", any ? "," : " AND t.tableoid OPERATOR(pg_catalog.<>) ALL ('{",
						 lfirst_oid(lc));
		any = true;
	}
	if (any)
		appendStringInfoString(where, "}'::pg_catalog.oid[])");
}

/* The subject's rows in one protected table, as a JSON array; returns the count. */
static uint64
export_table(StringInfo doc, ProtectedTable *t, const char *subject, List *tables)
{
	StringInfoData where;
	Oid			paramtype;
	Datum		param;
	List	   *enc_columns;
	char	   *query;
	void	   *open_cache = NULL;
	uint64		i;
	uint64		n;

	initStringInfo(&where);
	if (!subject_condition(t, subject, &where, &paramtype, &param))
	{
		appendStringInfoString(doc, "[]");
		return 0;
	}
	if (get_rel_relkind(t->relid) == RELKIND_PARTITIONED_TABLE)
		exclude_registered_descendants(&where, t->relid, tables);
	query = export_query(t, where.data, &enc_columns);
	if (execute_as_owner(t->relid, query, paramtype, param, true) != SPI_OK_SELECT)
		elog(ERROR, "could not read %s", qualified_name(t->relid));
	n = SPI_processed;
	{
		SPITupleTable *rows = SPI_tuptable;

		require_every_row_reached(t->relid, count_every_row(t->relid, true, where.data, paramtype, param, false), n);
		SPI_tuptable = rows;
	}
	appendStringInfoChar(doc, '[');
	export_rendering_relid = t->relid;
	for (i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoString(doc, ", ");
		append_export_row(doc, SPI_tuptable->vals[i], SPI_tuptable->tupdesc, enc_columns,
						  &open_cache);
	}
	export_rendering_relid = InvalidOid;
	appendStringInfoChar(doc, ']');
	return n;
}

/*
 * The tables an export reads: the protected ones and, after each, its
 * inheritance children (all levels, each once), with the parent's subject
 * column.  Each is read with ONLY, so a child's rows appear once, under its
 * own name and with its own columns; a child protected itself keeps its
 * own registration.  Partitions need no entry: their rows, which have the
 * partitioned table's columns, are read through it.  An erasure expands
 * the anonymizing tables only (anonymizing_only), whose children are
 * rewritten by their own rules; a DELETE reaches a parent's children as
 * they are.
 */
/*
 * The relations a deleting registration's DELETE reaches: its table's
 * partitions and children at every level, but for the subtrees of the
 * tables registered themselves (exclude_registered_descendants).  A child
 * that a deleting parent reaches and an anonymizing one expands (multiple
 * inheritance) is deleted: left out of the anonymizing expansion, it would
 * be anonymized first and so escape the DELETE, keeping the deleting
 * parent's columns (an IBAN) as they were.
 */
static List *
deletion_reach(List *tables)
{
	List	   *reach = NIL;
	ListCell   *lc;
	ListCell   *lt;

	foreach(lc, tables)
	{
		ProtectedTable *d = (ProtectedTable *) lfirst(lc);
		List	   *family;
		List	   *excluded = NIL;
		ListCell   *lf;

		if (d->anonymize)
			continue;
		family = find_all_inheritors(d->relid, NoLock, NULL);
		foreach(lf, family)
		{
			Oid			member = lfirst_oid(lf);

			if (member == d->relid || list_member_oid(excluded, member))
				continue;
			foreach(lt, tables)
				if (((ProtectedTable *) lfirst(lt))->relid == member)
				{
					excluded = list_concat_unique_oid(excluded, find_all_inheritors(member, NoLock, NULL));
					break;
				}
		}
		foreach(lf, family)
			if (!list_member_oid(excluded, lfirst_oid(lf)))
				reach = list_append_unique_oid(reach, lfirst_oid(lf));
	}
	return reach;
}

static List *
expand_children(List *tables, bool anonymizing_only)
{
	List	   *deleted = anonymizing_only ? deletion_reach(tables) : NIL;
	List	   *result = NIL;
	List	   *seen = NIL;
	ListCell   *lc;
	int			i;

	foreach(lc, tables)
		seen = lappend_oid(seen, ((ProtectedTable *) lfirst(lc))->relid);
	foreach(lc, tables)
	{
		List	   *level = list_make1(lfirst(lc));

		if (anonymizing_only && !((ProtectedTable *) lfirst(lc))->anonymize)
		{
			result = lappend(result, lfirst(lc));
			continue;
		}

		for (i = 0; i < list_length(level); i++)
		{
			ProtectedTable *t = (ProtectedTable *) list_nth(level, i);
			Oid			argtype = OIDOID;
			Datum		relid = ObjectIdGetDatum(t->relid);
			uint64		j;

			t->only = get_rel_relkind(t->relid) != RELKIND_PARTITIONED_TABLE;
			result = lappend(result, t);
			if (SPI_execute_with_args("SELECT i.inhrelid FROM pg_catalog.pg_inherits i"
									  " JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) i.inhrelid"
									  " WHERE i.inhparent OPERATOR(pg_catalog.=) $1"
									  " AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,f}'::pg_catalog.\"char\"[])"
									  " AND NOT c.relispartition"
									  " ORDER BY i.inhrelid::pg_catalog.regclass::pg_catalog.text",
									  1, &argtype, &relid, NULL, true, 0) != SPI_OK_SELECT)
				elog(ERROR, "could not read pg_inherits");
			for (j = 0; j < SPI_processed; j++)
			{
				bool		isnull;
				Oid			child = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[j],
																   SPI_tuptable->tupdesc, 1, &isnull));
				ProtectedTable *c;

				if (list_member_oid(seen, child) || list_member_oid(deleted, child))
					continue;
				seen = lappend_oid(seen, child);
				c = palloc0(sizeof(ProtectedTable));
				c->relid = child;
				c->subject_column = t->subject_column;
				c->anonymize = t->anonymize;
				level = lappend(level, c);
			}
		}
	}
	return result;
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
	PxRequestContext rc;
	StringInfoData doc;
	int64		rows = 0;
	int			ntables = 0;
	Datum		subject_datum = CStringGetTextDatum(subject);
	Jsonb	   *result;

	require_request_rights("export");
	begin_document(&doc, subject);
	appendStringInfoString(&doc, ", \"exported_at\": ");
	escape_json(&doc, timestamptz_to_str(GetCurrentTransactionStartTimestamp()));
	appendStringInfoString(&doc, ", \"tables\": {");

	px_request_begin(&rc, PX_REQUEST_EXPORT);
	PG_TRY();
	{
		List	   *tables = expand_children(load_protected_tables(), false);
		ListCell   *lc;

		foreach(lc, tables)
		{
			ProtectedTable *t = (ProtectedTable *) lfirst(lc);

			appendStringInfoString(&doc, ntables++ > 0 ? ", " : "");
			escape_json(&doc, qualified_name(t->relid));
			appendStringInfoString(&doc, ": ");
			px_request_rewriting(t->relid);
			rows += (int64) export_table(&doc, t, subject, tables);
			px_request_rewriting(InvalidOid);
		}
		appendStringInfo(&doc, "}, \"consents\": %s",
						 consent_rows_json("consents", "purpose", subject_datum));
		appendStringInfo(&doc, ", \"consent_history\": %s}",
						 consent_rows_json("consent_events", "event_id", subject_datum));
	}
	PG_FINALLY();
	{
		px_request_reset();
	}
	PG_END_TRY();
	px_request_end(&rc);

	/* The document holds plaintext: it is returned, never logged. */
	px_note_plaintext_out();
	result = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(doc.data)));
	px_wipe(doc.data, doc.len);
	px_audit_event("export", subject, rows, psprintf("{\"tables\": %d}", ntables));
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

/*
 * The columns with a default rule (other than 'none'), rewritten by an
 * anonymizing erasure (px_anonymized_columns: an inheritance child's
 * inherited column follows its parent's rule where the child declares
 * none); the subject column must be one of them.
 */
static List *
anonymized_columns(ProtectedTable *t)
{
	List	   *cols = px_anonymized_columns(t->relid);
	ListCell   *lc;

	foreach(lc, cols)
		if (strcmp(((PxAnonymizedColumn *) lfirst(lc))->name, t->subject_column) == 0)
			return cols;
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("protected table %s is anonymized on erasure, but its subject column \"%s\" has no default masking rule",
					qualified_name(t->relid), t->subject_column),
			 errdetail("Its rows would still name the subject."),
			 errhint("Give the column a rule with privacy.set_mask(), or protect the table with on_erase => 'delete'.")));
	return NIL;					/* keep the compiler quiet */
}

List *
px_anonymized_columns(Oid relid)
{
	Oid			argtype = OIDOID;
	Datum		arg = ObjectIdGetDatum(relid);
	List	   *cols = NIL;
	uint64		i;

	/*
	 * up: relid and its ancestors, nearest first; each column's nearest
	 * declaration decides, 'none' included.  Of a child's several parents
	 * (at one depth) declaring rules for a column, a rule that masks wins
	 * over 'none', then pg_inherits' order: the child's rows are rows of
	 * each parent, and a rewrite of one must not leave them in clear
	 * because another shows the column.
	 */
	if (SPI_execute_with_args("WITH RECURSIVE up(relid, depth, path) AS ("
							  " SELECT $1, 0, '{}'::pg_catalog.int4[]"
							  " UNION ALL SELECT i.inhparent, up.depth OPERATOR(pg_catalog.+) 1,"
							  " up.path OPERATOR(pg_catalog.||) i.inhseqno"
							  " FROM pg_catalog.pg_inherits i, up WHERE i.inhrelid OPERATOR(pg_catalog.=) up.relid),"
							  " decided AS (SELECT DISTINCT ON (a.attnum) a.attnum, a.attname::pg_catalog.text AS name,"
							  " r.rule, up.relid"
							  " FROM up JOIN privacy.mask_rules r ON r.relid::pg_catalog.oid OPERATOR(pg_catalog.=) up.relid"
							  " AND r.role_name IS NULL"
							  " JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) $1"
							  " AND a.attname OPERATOR(pg_catalog.=) r.column_name"
							  " AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped"
							  " AND a.attgenerated OPERATOR(pg_catalog.=) ''"
							  " ORDER BY a.attnum, up.depth, r.rule OPERATOR(pg_catalog.=) 'none', up.path)"
							  " SELECT name, relid FROM decided WHERE rule OPERATOR(pg_catalog.<>) 'none'"
							  " ORDER BY attnum",
							  1, &argtype, &arg, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read privacy.mask_rules");
	for (i = 0; i < SPI_processed; i++)
	{
		PxAnonymizedColumn *c = palloc(sizeof(PxAnonymizedColumn));
		bool		isnull;

		c->name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		c->rules_relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
														SPI_tuptable->tupdesc, 2, &isnull));
		cols = lappend(cols, c);
	}
	return cols;
}

/* The table whose default rule t's subject column follows (see anonymized_columns). */
static Oid
subject_rules_relid(ProtectedTable *t)
{
	ListCell   *lc;

	foreach(lc, anonymized_columns(t))
	{
		PxAnonymizedColumn *c = (PxAnonymizedColumn *) lfirst(lc);

		if (strcmp(c->name, t->subject_column) == 0)
			return c->rules_relid;
	}
	return t->relid;			/* not reached: anonymized_columns refuses */
}

/* UPDATE ... SET each column with a default rule to its masked value. */
static char *
anonymize_assignments(ProtectedTable *t, List *cols)
{
	StringInfoData set;
	ListCell   *lc;

	initStringInfo(&set);
	foreach(lc, cols)
	{
		PxAnonymizedColumn *c = (PxAnonymizedColumn *) lfirst(lc);

		if (set.len > 0)
			appendStringInfoString(&set, ", ");
		px_append_anonymized_assignment(&set, t->relid, c->name,
										quote_literal_cstr(qualified_name(c->rules_relid)));
	}
	return set.data;
}

/*
 * The masked value is cast to the column's base type (for an array of a
 * domain, to the array of the element's base type), so that the assignment
 * coerces it back into the domain and checks the domain's constraints.
 * anonymize_value() returns its argument's type, and PostgreSQL checks no
 * domain constraint on a function's result: without the cast a rule's
 * output that the domain forbids (a fake too long, a CHECK it fails) was
 * stored as it was, and a dump of the table would then fail to restore.
 */
void
px_append_anonymized_assignment(StringInfo buf, Oid relid, const char *col, const char *rules_sql)
{
	Oid			coltype = get_atttype(relid, get_attnum(relid, col));
	Oid			base = getBaseType(coltype);
	Oid			elem = get_element_type(base);
	Oid			cast_to = InvalidOid;
	px_value_type value_type;

	/*
	 * An encrypted column (or an array of one): its masked value is text, which the
	 * assignment seals under the column's key (and checks its domain).
	 */
	if (px_encrypted_type(base, &value_type) ||
		(OidIsValid(elem) && px_encrypted_type(getBaseType(elem), &value_type)))
		cast_to = InvalidOid;
	else if (base != coltype)
		cast_to = base;
	else if (OidIsValid(elem) && getBaseType(elem) != elem)
		cast_to = get_array_type(getBaseType(elem));

	appendStringInfo(buf, "%s = privacy.anonymize_value(t.%s, %s, %s)",
					 quote_identifier(col), quote_identifier(col), rules_sql,
					 quote_literal_cstr(col));
	if (OidIsValid(cast_to))
		appendStringInfo(buf, "::%s", format_type_be_qualified(cast_to));
}

/*
 * The subject column's value once anonymized, as has_consent() sees it
 * (its type's text form; "" for NULL, has_consent's no subject).  Every
 * rule is a function of the value alone, so this is the value the UPDATE
 * writes into each of the subject's rows; it is computed the same way, as
 * the owner, by anonymize_value() of the column's type.  (Were a rule ever
 * not, the rewritten rows would fail the policies: the erasure would fail,
 * with nothing changed and nothing more shown.)
 */
static char *
rewritten_subject(ProtectedTable *t, Oid paramtype, Datum param)
{
	Oid			coltype = get_atttype(t->relid, get_attnum(t->relid, t->subject_column));
	char	   *query = psprintf("SELECT privacy.anonymize_value($1::%s, %s, %s)::pg_catalog.text",
								 format_type_be_qualified(coltype),
								 quote_literal_cstr(qualified_name(subject_rules_relid(t))),
								 quote_literal_cstr(t->subject_column));
	bool		isnull;
	Datum		d;

	if (execute_as_owner(t->relid, query, paramtype, param, true) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "could not anonymize the subject of %s", qualified_name(t->relid));
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? "" : text_to_cstring(DatumGetTextPP(d));
}

/*
 * An anonymized subject column must name nobody.  A rule that gives back
 * the subject itself (generalize(10) of 10) would leave its rows naming it:
 * refused when the table has rows of the subject (total, -1 when not
 * counted).  A rule that turns the erased subject into another subject's
 * id (generalize(10) makes 12 a 10, partial() makes 'c12' a 'c1') would
 * hand the rows to that subject, shown under its consents and exported as
 * its own: refused when the value is a subject of the consent registry,
 * now or in its history (the value is not quoted: it is an id).  The
 * table's own rows cannot tell: the rows of earlier erasures carry the
 * same value (REDACTED) by design.
 */
static void
refuse_rewritten_subject_taken(ProtectedTable *t, int64 total)
{
	Datum		value = CStringGetTextDatum(request_rewritten);
	Oid			texttype = TEXTOID;
	bool		isnull;

	if (request_rewritten[0] == '\0')
		return;
	if (request_subject != NULL && strcmp(request_rewritten, request_subject) == 0)
	{
		if (total == 0)
			return;
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot anonymize the subject's rows of %s: the rule of its subject column \"%s\" keeps the subject",
						qualified_name(t->relid), t->subject_column),
				 errdetail("The anonymized rows would still name the subject."),
				 errhint("Give the subject column a rule that names nobody (redact, null, hash), or protect the table with on_erase => 'delete'; nothing was changed.")));
	}
	if (SPI_execute_with_args("SELECT EXISTS (SELECT 1 FROM privacy.consent_state c WHERE c.subject = $1)"
							  " OR EXISTS (SELECT 1 FROM privacy.consent_events e WHERE e.subject = $1)",
							  1, &texttype, &value, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the consent registry");
	if (DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot anonymize the subject's rows of %s: the rule of its subject column \"%s\" gives them to another subject",
						qualified_name(t->relid), t->subject_column),
				 errdetail("The anonymized value names a subject of the consent registry: the rows would be shown and exported as that subject's."),
				 errhint("Give the subject column a rule that names nobody (redact, null, hash), or protect the table with on_erase => 'delete'; nothing was changed.")));
}

/*
 * A table's part of an erasure; returns the rows deleted or anonymized.
 * A distributed or reference Citus table is anonymized with values
 * computed on the coordinator (citus/dist_rewrite.c): Citus refuses the
 * UPDATE below, its functions and casts not being immutable.
 */
static uint64
erase_table(ProtectedTable *t, const char *where, Oid paramtype, Datum param)
{
	StringInfoData query;
	int			rc_spi;
	int64		total;

	initStringInfo(&query);
	if (t->anonymize)
	{
		List	   *cols = anonymized_columns(t);
		char	   *dist_column;
		PxCitusKind kind = px_citus_table_kind(t->relid, &dist_column);

		if (kind == PX_CITUS_HASH || kind == PX_CITUS_REFERENCE)
		{
			/* a Citus table has no inheritance children: its own rules, by name */
			List	   *names = NIL;
			ListCell   *lc;

			foreach(lc, cols)
				names = lappend(names, ((PxAnonymizedColumn *) lfirst(lc))->name);
			return (uint64) px_citus_anonymize_subject(t->relid, kind, dist_column,
													   t->subject_column, paramtype, param, names);
		}
		appendStringInfo(&query, "UPDATE %s%s t SET %s WHERE %s", t->only ? "ONLY " : "",
						 qualified_name(t->relid), anonymize_assignments(t, cols), where);
	}
	else
		appendStringInfo(&query, "DELETE FROM %s t WHERE %s", qualified_name(t->relid), where);
	/* after the request's earlier changes: a parent's erasure may have reached this table's rows */
	total = count_every_row(t->relid, t->only, where, paramtype, param, true);
	if (t->anonymize)
	{
		request_rewritten = rewritten_subject(t, paramtype, param);
		request_rewritten_len = strlen(request_rewritten);
		refuse_rewritten_subject_taken(t, total);
	}
	rc_spi = execute_as_owner(t->relid, query.data, paramtype, param, false);
	request_rewritten = NULL;
	if (rc_spi == SPI_OK_REWRITTEN)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot erase the subject's rows of %s: a DO INSTEAD rule replaces its %s",
						qualified_name(t->relid), t->anonymize ? "UPDATE" : "DELETE"),
				 errhint("Drop or disable the rule (ALTER TABLE ... DISABLE RULE) for the request; nothing was changed.")));
	if (rc_spi != SPI_OK_UPDATE && rc_spi != SPI_OK_DELETE)
		elog(ERROR, "could not erase from %s", qualified_name(t->relid));
	require_every_row_reached(t->relid, total, SPI_processed);
	return SPI_processed;
}

/*
 * privacy.erase_subject(subject): deletes the subject's rows in every
 * protected table, or anonymizes them for good where the table was
 * registered with on_erase => 'anonymize', and withdraws every consent.
 * All or nothing: it runs in the caller's transaction.
 */
/*
 * After every table: none may hold the subject's rows any more.  Code the
 * erasure fired (an audit trigger of a table erased later, say) can write
 * them back into a table already done; the erasure then fails, with
 * nothing changed, rather than report them erased.  An anonymized table
 * whose rule gives the subject column the subject itself is left out: an
 * erasure that found rows of the subject there was refused already
 * (refuse_rewritten_subject_taken).
 */
static void
require_subject_gone(List *tables, const char *subject)
{
	ListCell   *lc;

	foreach(lc, tables)
	{
		ProtectedTable *t = (ProtectedTable *) lfirst(lc);
		StringInfoData where;
		Oid			paramtype;
		Datum		param;
		int64		left;

		initStringInfo(&where);
		if (!subject_condition(t, subject, &where, &paramtype, &param))
			continue;
		exclude_registered_descendants(&where, t->relid, tables);
		if (t->anonymize && strcmp(rewritten_subject(t, paramtype, param), subject) == 0)
			continue;
		left = count_every_row(t->relid, t->only, where.data, paramtype, param, true);
		if (left > 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("%s holds " INT64_FORMAT " of the subject's rows again after the erasure reached it",
							qualified_name(t->relid), left),
					 errdetail("Code the erasure fired (a trigger of another protected table, say) wrote them."),
					 errhint("Disable or change that code, then repeat the request; nothing was changed.")));
	}
}

/*
 * What an erasure changed beyond its own statements.  A foreign key with
 * ON DELETE CASCADE / SET NULL / SET DEFAULT (or ON UPDATE CASCADE, when an
 * anonymizing erasure rewrites a referenced subject column) deletes or
 * updates rows of other tables, unprotected ones or rows of other subjects
 * in a protected one, and a data protection officer reading the summary must
 * see them.  The tables are those that reference a protected table through
 * a chain of foreign keys; what each had deleted and updated in this
 * transaction (pg_stat_get_xact_tuples_*, which counts with track_counts
 * on, the default) is read before and after, and the erasure's own
 * statements are taken off.
 */
typedef struct TableChanges
{
	Oid			relid;
	int64		deleted;
	int64		updated;
} TableChanges;

static List *
referencing_changes(List *tables)
{
	Datum	   *oids = palloc(sizeof(Datum) * Max(list_length(tables), 1));
	int			n = 0;
	ListCell   *lc;
	Oid			argtype = OIDARRAYOID;
	Datum		arg;
	List	   *changes = NIL;
	uint64		i;

	foreach(lc, tables)
		oids[n++] = ObjectIdGetDatum(((ProtectedTable *) lfirst(lc))->relid);
	arg = PointerGetDatum(construct_array(oids, n, OIDOID, sizeof(Oid), true, TYPALIGN_INT));
	if (SPI_execute_with_args("WITH RECURSIVE"
							  " tree(relid) AS (SELECT pg_catalog.unnest($1)"
							  " UNION SELECT i.inhrelid FROM pg_catalog.pg_inherits i, tree"
							  " WHERE i.inhparent OPERATOR(pg_catalog.=) tree.relid),"
							  " r(relid) AS (SELECT relid FROM tree"
							  " UNION SELECT c.conrelid FROM pg_catalog.pg_constraint c, r"
							  " WHERE c.contype OPERATOR(pg_catalog.=) 'f'"
							  " AND c.confrelid OPERATOR(pg_catalog.=) r.relid),"
							  " up(relid, anc, depth) AS (SELECT relid, relid, 0 FROM r"
							  " UNION ALL SELECT up.relid, i.inhparent, up.depth OPERATOR(pg_catalog.+) 1"
							  " FROM up, pg_catalog.pg_inherits i WHERE i.inhrelid OPERATOR(pg_catalog.=) up.anc),"
							  " tagged AS (SELECT r.relid, COALESCE("
							  "(SELECT up.anc FROM up WHERE up.relid OPERATOR(pg_catalog.=) r.relid"
							  " AND up.anc OPERATOR(pg_catalog.=) ANY ($1) ORDER BY up.depth LIMIT 1),"
							  " (SELECT up.anc FROM up WHERE up.relid OPERATOR(pg_catalog.=) r.relid"
							  " ORDER BY up.depth DESC LIMIT 1)) AS report_as FROM r)"
							  " SELECT report_as,"
							  " pg_catalog.sum(pg_catalog.pg_stat_get_xact_tuples_deleted(relid))::pg_catalog.int8,"
							  " pg_catalog.sum(pg_catalog.pg_stat_get_xact_tuples_updated(relid))::pg_catalog.int8"
							  " FROM tagged GROUP BY report_as ORDER BY report_as",
							  1, &argtype, &arg, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read pg_constraint");
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		TableChanges *c = palloc(sizeof(TableChanges));
		bool		isnull;

		c->relid = DatumGetObjectId(SPI_getbinval(tup, desc, 1, &isnull));
		c->deleted = DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull));
		c->updated = DatumGetInt64(SPI_getbinval(tup, desc, 3, &isnull));
		changes = lappend(changes, c);
	}
	return changes;
}

/*
 * Appends ', "cascaded": {"<table>": {"deleted": n, "updated": m}, ...}'
 * for the tables whose rows changed between before and after beyond the
 * erasure's own statements (own: TableChanges of the protected tables'
 * steps); nothing when no row elsewhere changed.
 */
static void
append_cascaded(StringInfo summary, List *before, List *after, List *own)
{
	ListCell   *la;
	bool		any = false;

	foreach(la, after)
	{
		TableChanges *a = (TableChanges *) lfirst(la);
		int64		deleted = a->deleted;
		int64		updated = a->updated;
		ListCell   *lb;

		foreach(lb, before)
		{
			TableChanges *b = (TableChanges *) lfirst(lb);

			if (b->relid == a->relid)
			{
				deleted -= b->deleted;
				updated -= b->updated;
			}
		}
		foreach(lb, own)
		{
			TableChanges *o = (TableChanges *) lfirst(lb);

			if (o->relid == a->relid)
			{
				deleted -= o->deleted;
				updated -= o->updated;
			}
		}
		/*
		 * An anonymizing step's update that moves a row to another
		 * partition is counted as a delete (and an insert) there.
		 */
		if (updated < 0)
		{
			deleted += updated;
			updated = 0;
		}
		if (deleted <= 0 && updated <= 0)
			continue;
		appendStringInfoString(summary, any ? ", " : ", \"cascaded\": {");
		any = true;
		escape_json(summary, qualified_name(a->relid));
		appendStringInfo(summary, ": {\"deleted\": " INT64_FORMAT ", \"updated\": " INT64_FORMAT "}",
						 Max(deleted, 0), Max(updated, 0));
	}
	if (any)
		appendStringInfoChar(summary, '}');
}

PG_FUNCTION_INFO_V1(px_erase_subject);
Datum
px_erase_subject(PG_FUNCTION_ARGS)
{
	char	   *subject = subject_arg(fcinfo);
	PxRequestContext rc;
	StringInfoData summary;
	int64		rows = 0;
	int64		withdrawn = 0;
	Oid			texttype = TEXTOID;
	Datum		subject_datum = CStringGetTextDatum(subject);
	Jsonb	   *result;
	List	   *changes_before = NIL;
	List	   *changes_after = NIL;
	List	   *own_changes = NIL;
	StringInfoData cascaded;

	require_request_rights("erase");
	/*
	 * A transaction snapshot does not see the subject's rows committed
	 * after it was taken, nor consents granted since: they would survive,
	 * with the erasure reported done.
	 */
	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("cannot erase a subject in a REPEATABLE READ or SERIALIZABLE transaction"),
				 errdetail("The transaction's snapshot does not see rows and consents committed after it was taken, which would survive the erasure."),
				 errhint("Run it in a READ COMMITTED transaction.")));
	initStringInfo(&cascaded);	/* here: it outlives the request's SPI memory */
	begin_document(&summary, subject);
	appendStringInfoString(&summary, ", \"tables\": {");

	px_request_begin(&rc, PX_REQUEST_ERASE);
	PG_TRY();
	{
		List	   *tables = erase_order(expand_children(load_protected_tables(), true));
		ListCell   *lc;
		bool		first = true;

		changes_before = referencing_changes(tables);
		foreach(lc, tables)
		{
			ProtectedTable *t = (ProtectedTable *) lfirst(lc);
			StringInfoData where;
			Oid			paramtype;
			Datum		param;
			uint64		n = 0;

			initStringInfo(&where);
			if (subject_condition(t, subject, &where, &paramtype, &param))
			{
				exclude_registered_descendants(&where, t->relid, tables);
				px_request_rewriting(t->relid);
				n = erase_table(t, where.data, paramtype, param);
				px_request_rewriting(InvalidOid);
				if (n > 0)
				{
					TableChanges *own = palloc0(sizeof(TableChanges));

					own->relid = t->relid;
					if (t->anonymize)
						own->updated = (int64) n;
					else
						own->deleted = (int64) n;
					own_changes = lappend(own_changes, own);
				}
			}
			rows += (int64) n;
			appendStringInfoString(&summary, first ? "" : ", ");
			first = false;
			escape_json(&summary, qualified_name(t->relid));
			appendStringInfo(&summary, ": {\"%s\": " UINT64_FORMAT "}",
							 t->anonymize ? "anonymized" : "deleted", n);
		}

		require_subject_gone(tables, subject);
		changes_after = referencing_changes(tables);
		append_cascaded(&cascaded, changes_before, changes_after, own_changes);
		if (SPI_execute_with_args("SELECT privacy.withdraw_consent(c.subject, c.purpose,"
								  " '{\"reason\": \"erase_subject\"}'::pg_catalog.jsonb)"
								  " FROM privacy.consent_state c"
								  " WHERE c.subject OPERATOR(pg_catalog.=) $1 AND c.granted"
								  " ORDER BY c.purpose",
								  1, &texttype, &subject_datum, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not withdraw consents");
		withdrawn = (int64) SPI_processed;
	}
	PG_FINALLY();
	{
		px_request_reset();
	}
	PG_END_TRY();
	px_request_end(&rc);
	appendStringInfo(&summary, "}, \"rows\": " INT64_FORMAT ", \"consents_withdrawn\": " INT64_FORMAT,
					 rows, withdrawn);
	appendStringInfo(&summary, "%s}", cascaded.data);

	result = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(summary.data)));
	px_audit_event("erase", subject, rows, summary.data);
	PG_RETURN_JSONB_P(result);
}
