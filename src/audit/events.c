/*
 * audit/events.c
 *		The audit trail: who decrypted, unmasked, consented, managed keys or
 *		served a data-subject request, and when.
 *
 * Events go to the sinks named by privacy.audit: "log" (one line per event
 * in the server log, prefixed "privacy_audit: " and followed by a JSON
 * object; written at once, so it survives a rollback) and "table"
 * (privacy.audit_log, written in the current transaction).  Where the table
 * cannot be written (a hot standby, a read-only transaction, a parallel
 * worker, an aborted transaction) the event goes to the log instead.
 *
 * Decryptions and reads through masking views happen per row; they are
 * counted per call site and flushed as one event per statement, action,
 * column and key when the outermost statement ends.  An event never holds
 * a value: only names, counts and the session's identity.
 */
#include "errors.h"
#include "audit/events.h"
#include "keys/key_store.h"
#include "purpose_scope.h"
#include "admin.h"
#include "catalog.h"
#include "restore.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "parser/parsetree.h"
#include "tcop/pquery.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/portal.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

int			px_audit_sinks = PX_AUDIT_SINK_LOG;
uint64		px_audit_generation = 1;
int			px_audit_suppressed = 0;

static const char *const action_names[] = {
	[PX_AUDIT_DECRYPT] = "decrypt",
	[PX_AUDIT_MASKED_READ] = "masked_read",
	[PX_AUDIT_UNMASK] = "unmask",
};

/* One counter per action, column, key and role within a statement. */
typedef struct CountKey
{
	int			action;
	Oid			relid;
	NameData	column;
	uint32		key_id;
	Oid			userid;
} CountKey;

/*
 * Names are resolved when the counter is created, inside a healthy
 * transaction: an aborting transaction may no longer read the catalogs,
 * but its counts must still reach the log.
 */
typedef struct CountEntry
{
	CountKey	key;
	int64		count;
	char		object[3 * NAMEDATALEN + 8];
	char		key_name[NAMEDATALEN];
	char		session_user_name[NAMEDATALEN];
	char		current_role_name[NAMEDATALEN];
	char		purpose[NAMEDATALEN];
} CountEntry;

static HTAB *counts = NULL;
static MemoryContext audit_context = NULL;

/* SET privacy.purpose, noted by the check hook, written at statement end. */
static bool purpose_pending = false;
static char pending_purpose[NAMEDATALEN];
static char pending_session_user[NAMEDATALEN];
static char pending_current_role[NAMEDATALEN];

/* The query being run: decrypt call sites find their column in its plan. */
static QueryDesc *running_query = NULL;
static int	run_depth = 0;
static bool flushing = false;

static ExecutorRun_hook_type prev_executor_run = NULL;
static ExecutorEnd_hook_type prev_executor_end = NULL;
static ProcessUtility_hook_type prev_process_utility = NULL;

/* ---------------------------------------------------------------------
 * The privacy.audit setting
 * --------------------------------------------------------------------- */
static bool
parse_sinks(const char *value, int *sinks)
{
	char	   *copy = pstrdup(value);
	List	   *items;
	ListCell   *lc;

	*sinks = 0;
	if (!SplitIdentifierString(copy, ',', &items))
		return false;
	foreach(lc, items)
	{
		const char *item = (const char *) lfirst(lc);

		if (pg_strcasecmp(item, "log") == 0)
			*sinks |= PX_AUDIT_SINK_LOG;
		else if (pg_strcasecmp(item, "table") == 0)
			*sinks |= PX_AUDIT_SINK_TABLE;
		else if (pg_strcasecmp(item, "off") == 0 || pg_strcasecmp(item, "none") == 0)
		{
			if (list_length(items) != 1)
				return false;
		}
		else
			return false;
	}
	return true;
}

static void note_setting_change(const char *value, GucSource source);

bool
px_check_audit(char **newval, void **extra, GucSource source)
{
	int			sinks;
	int		   *result;

	if (!parse_sinks(*newval, &sinks))
	{
		GUC_check_errdetail("Valid values are \"off\", \"log\", \"table\" and \"log,table\".");
		return false;
	}
	/* GUC extra data is malloc()ed: the GUC machinery free()s it. */
	result = (int *) malloc(sizeof(int));
	if (result == NULL)
		return false;
	*result = sinks;
	*extra = result;
	note_setting_change(*newval, source);
	return true;
}

void
px_assign_audit(const char *newval, void *extra)
{
	px_audit_sinks = *(int *) extra;
}

/* ---------------------------------------------------------------------
 * Writing one event
 * --------------------------------------------------------------------- */
typedef struct AuditEvent
{
	TimestampTz at;
	const char *action;
	const char *object;			/* NULL: none */
	int64		count;
	const char *detail;			/* JSON object text, or NULL */
	const char *session_user_name;
	const char *current_role_name;
	const char *purpose;		/* NULL or "": none declared */
} AuditEvent;

static void
json_field(StringInfo buf, const char *name, const char *value)
{
	appendStringInfo(buf, ",\"%s\":", name);
	if (value == NULL || value[0] == '\0')
		appendStringInfoString(buf, "null");
	else
		escape_json(buf, value);
}

static void
write_log(const AuditEvent *ev)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"at\":");
	escape_json(&buf, timestamptz_to_str(ev->at));
	json_field(&buf, "action", ev->action);
	json_field(&buf, "session_user", ev->session_user_name);
	json_field(&buf, "current_role", ev->current_role_name);
	json_field(&buf, "purpose", ev->purpose);
	json_field(&buf, "object", ev->object);
	appendStringInfo(&buf, ",\"count\":" INT64_FORMAT ",\"detail\":%s}",
					 ev->count, ev->detail ? ev->detail : "null");
	/* The statement may hold plaintext literals: never log it with this. */
	ereport(LOG,
			(errmsg_internal("privacy_audit: %s", buf.data),
			 errhidestmt(true), errhidecontext(true)));
	pfree(buf.data);
}

/*
 * A session changing privacy.audit (a superuser: the setting is SUSET) is
 * itself on record, in the log, whatever the sinks: turning auditing off
 * leaves a trace.
 */
static void
note_setting_change(const char *value, GucSource source)
{
	AuditEvent	ev;

	if (source != PGC_S_SESSION || !IsTransactionState() || IsParallelWorker() ||
		InitializingParallelWorker)
		return;
	ev.at = GetCurrentTimestamp();
	ev.action = "audit_setting";
	ev.object = value;
	ev.count = 1;
	ev.detail = NULL;
	ev.session_user_name = GetUserNameFromId(GetSessionUserId(), true);
	ev.current_role_name = GetUserNameFromId(GetUserId(), true);
	ev.purpose = px_purpose;
	write_log(&ev);
}

static Oid
audit_log_relid(void)
{
	return px_privacy_relid("audit_log");
}

/* Whether this backend may write privacy.audit_log now. */
static bool
table_writable(void)
{
	return IsTransactionState() && !IsAbortedTransactionBlockState() &&
		!RecoveryInProgress() && !XactReadOnly && !IsInParallelMode() &&
		!IsParallelWorker();
}

/*
 * Insert as the table's owner (the extension's), so that nobody needs, or
 * gets, INSERT on the audit log.  Every name in the statement is qualified
 * and the values are parameters; search_path is pinned all the same.
 */
static void
write_table(const AuditEvent *ev, Oid relid)
{
	Oid			owner;
	PxSavedUser saved;
	Oid			argtypes[8] = {TIMESTAMPTZOID, NAMEOID, NAMEOID, TEXTOID, TEXTOID, TEXTOID,
	INT8OID, JSONBOID};
	Datum		values[8];
	char		nulls[8] = "        ";
	volatile bool pushed_snapshot = false;
	int			guc_level;

	owner = px_relation_owner(relid, true);
	if (!OidIsValid(owner))
		return;

	values[0] = TimestampTzGetDatum(ev->at);
	values[1] = DirectFunctionCall1(namein, CStringGetDatum(ev->session_user_name));
	values[2] = DirectFunctionCall1(namein, CStringGetDatum(ev->current_role_name));
	if (ev->purpose && ev->purpose[0])
		values[3] = CStringGetTextDatum(ev->purpose);
	else
		nulls[3] = 'n';
	values[4] = CStringGetTextDatum(ev->action);
	if (ev->object)
		values[5] = CStringGetTextDatum(ev->object);
	else
		nulls[5] = 'n';
	values[6] = Int64GetDatum(ev->count);
	if (ev->detail)
		values[7] = DirectFunctionCall1(jsonb_in, CStringGetDatum(ev->detail));
	else
		nulls[7] = 'n';

	px_become_owner(owner, &saved);
	guc_level = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	/* At the end of a top-level statement its snapshot is already gone. */
	if (!ActiveSnapshotSet())
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		pushed_snapshot = true;
	}
	PG_TRY();
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (SPI_execute_with_args("INSERT INTO privacy.audit_log (at, session_user_name, "
								  "current_role_name, purpose, action, object, count, detail) "
								  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
								  8, argtypes, values, nulls, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not write to privacy.audit_log");
		SPI_finish();
	}
	PG_FINALLY();
	{
		px_restore_user(&saved);
	}
	PG_END_TRY();
	AtEOXact_GUC(true, guc_level);
	if (pushed_snapshot)
		PopActiveSnapshot();
}

static void
write_event(const AuditEvent *ev, bool table_ok)
{
	bool		to_log = (px_audit_sinks & PX_AUDIT_SINK_LOG) != 0;
	Oid			relid = InvalidOid;

	if (px_audit_sinks & PX_AUDIT_SINK_TABLE)
	{
		if (table_ok && table_writable())
			relid = audit_log_relid();
		if (!OidIsValid(relid))
			to_log = true;		/* the log is the fallback, never nothing */
	}
	if (OidIsValid(relid))
	{
		bool		save_flushing = flushing;

		flushing = true;
		PG_TRY();
		{
			write_table(ev, relid);
		}
		PG_CATCH();
		{
			/* The statement fails, but what it read is still on record. */
			flushing = save_flushing;
			if (!to_log)
				write_log(ev);
			PG_RE_THROW();
		}
		PG_END_TRY();
		flushing = save_flushing;
	}
	if (to_log)
		write_log(ev);
}

static void
copy_name(char *dst, const char *src)
{
	strlcpy(dst, src ? src : "", NAMEDATALEN);
}

/*
 * An event that happens once (a key created, a consent recorded, a subject
 * exported): written now, with the session's identity.
 */
/*
 * An event under the given identity: the consent writers run as the
 * extension's owner (SECURITY DEFINER), but the event is the caller's, as
 * the consent event row records it.
 */
static void
audit_event_as(const char *action, const char *object, int64 count, const char *detail,
			   const char *session_user_name, const char *current_role_name)
{
	AuditEvent	ev;

	if (px_audit_sinks == 0)
		return;
	ev.at = GetCurrentTimestamp();
	ev.action = action;
	ev.object = object;
	ev.count = count;
	ev.detail = detail;
	ev.session_user_name = session_user_name;
	ev.current_role_name = current_role_name;
	ev.purpose = px_purpose;
	write_event(&ev, true);
}

void
px_audit_event(const char *action, const char *object, int64 count, const char *detail)
{
	audit_event_as(action, object, count, detail,
				   GetUserNameFromId(GetSessionUserId(), true),
				   GetUserNameFromId(GetUserId(), true));
}

/* A JSON object with one string member, for event details. */
char *
px_audit_detail(const char *name, const char *value)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	escape_json(&buf, name);
	appendStringInfoChar(&buf, ':');
	if (value)
		escape_json(&buf, value);
	else
		appendStringInfoString(&buf, "null");
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/* ---------------------------------------------------------------------
 * Per-statement counts
 * --------------------------------------------------------------------- */
static bool
contains_walker(Node *node, Node *target)
{
	if (node == NULL)
		return false;
	if (node == target)
		return true;
	return expression_tree_walker(node, contains_walker, target);
}

static bool
plan_exprs_contain(Plan *plan, Node *target)
{
	if (contains_walker((Node *) plan->targetlist, target) ||
		contains_walker((Node *) plan->qual, target))
		return true;
	switch (nodeTag(plan))
	{
		case T_NestLoop:
		case T_MergeJoin:
		case T_HashJoin:
			return contains_walker((Node *) ((Join *) plan)->joinqual, target);
		case T_Result:
			return contains_walker(((Result *) plan)->resconstantqual, target);
		case T_ModifyTable:
			return contains_walker((Node *) ((ModifyTable *) plan)->returningLists, target);
		case T_IndexScan:
			return contains_walker((Node *) ((IndexScan *) plan)->indexqualorig, target);
		case T_BitmapHeapScan:
			return contains_walker((Node *) ((BitmapHeapScan *) plan)->bitmapqualorig, target);
		default:
			return false;
	}
}

/* The plan node whose expressions hold target, searched depth first. */
static Plan *
find_plan(Plan *plan, Node *target)
{
	Plan	   *found = NULL;
	ListCell   *lc;
	List	   *children = NIL;

	if (plan == NULL)
		return NULL;
	if (plan_exprs_contain(plan, target))
		return plan;
	if ((found = find_plan(plan->lefttree, target)) != NULL ||
		(found = find_plan(plan->righttree, target)) != NULL)
		return found;
	switch (nodeTag(plan))
	{
		case T_Append:
			children = ((Append *) plan)->appendplans;
			break;
		case T_MergeAppend:
			children = ((MergeAppend *) plan)->mergeplans;
			break;
		case T_SubqueryScan:
			children = list_make1(((SubqueryScan *) plan)->subplan);
			break;
		default:
			break;
	}
	foreach(lc, children)
		if ((found = find_plan((Plan *) lfirst(lc), target)) != NULL)
			return found;
	return NULL;
}

static Node *
strip_relabel(Node *node)
{
	while (node && IsA(node, RelabelType))
		node = (Node *) ((RelabelType *) node)->arg;
	return node;
}

/*
 * The table column that column varattno of varno, evaluated at a plan node,
 * reads, if it reads one.  Special varnos name the node's children.
 */
static bool
resolve_var(PlannedStmt *stmt, Plan *plan, int varno, AttrNumber varattno,
			Oid *relid, AttrNumber *attnum, int depth)
{
	Plan	   *child = NULL;
	TargetEntry *tle;
	Node	   *expr;

	if (depth > 64)
		return false;
	if (varno == OUTER_VAR)
		child = plan->lefttree;
	else if (varno == INNER_VAR)
		child = plan->righttree;
	else if (varno == INDEX_VAR)
	{
		if (!IsA(plan, IndexOnlyScan))
			return false;
		tle = get_tle_by_resno(((IndexOnlyScan *) plan)->indextlist, varattno);
		expr = tle ? strip_relabel((Node *) tle->expr) : NULL;
		if (expr == NULL || !IsA(expr, Var))
			return false;
		varno = ((Scan *) plan)->scanrelid;
		varattno = ((Var *) expr)->varattno;
	}
	if (child == NULL)
	{
		RangeTblEntry *rte;

		if (varno < 1 || varno > list_length(stmt->rtable))
			return false;
		rte = rt_fetch(varno, stmt->rtable);
		if (rte->rtekind == RTE_RELATION)
		{
			*relid = rte->relid;
			*attnum = varattno;
			return varattno > 0;
		}
		if (rte->rtekind != RTE_SUBQUERY || !IsA(plan, SubqueryScan))
			return false;
		child = ((SubqueryScan *) plan)->subplan;
	}
	if (child == NULL)
		return false;
	tle = get_tle_by_resno(child->targetlist, varattno);
	expr = tle ? strip_relabel((Node *) tle->expr) : NULL;
	if (expr == NULL || !IsA(expr, Var) || ((Var *) expr)->varlevelsup != 0)
		return false;
	return resolve_var(stmt, child, ((Var *) expr)->varno, ((Var *) expr)->varattno,
					   relid, attnum, depth + 1);
}

/* The column whose values a decrypt call site receives, if it can be told. */
static bool
call_site_column(FmgrInfo *flinfo, Oid *relid, AttrNumber *attnum)
{
	PlannedStmt *stmt;
	Node	   *fexpr = flinfo ? flinfo->fn_expr : NULL;
	Node	   *arg;
	Plan	   *plan;
	ListCell   *lc;

	if (running_query == NULL || fexpr == NULL || !IsA(fexpr, FuncExpr) ||
		list_length(((FuncExpr *) fexpr)->args) < 1)
		return false;
	arg = strip_relabel(linitial(((FuncExpr *) fexpr)->args));
	if (!IsA(arg, Var))
		return false;
	stmt = running_query->plannedstmt;
	plan = find_plan(stmt->planTree, fexpr);
	if (plan == NULL)
		foreach(lc, stmt->subplans)
			if ((plan = find_plan((Plan *) lfirst(lc), fexpr)) != NULL)
				break;
	if (plan == NULL)
		return false;
	if (((Var *) arg)->varlevelsup != 0)
		return false;
	return resolve_var(stmt, plan, ((Var *) arg)->varno, ((Var *) arg)->varattno,
					   relid, attnum, 0);
}

static void
ensure_counts(void)
{
	HASHCTL		ctl;

	if (counts != NULL)
		return;
	if (audit_context == NULL)
		audit_context = AllocSetContextCreate(TopMemoryContext, "privacy_ext audit",
											  ALLOCSET_SMALL_SIZES);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(CountKey);
	ctl.entrysize = sizeof(CountEntry);
	ctl.hcxt = audit_context;
	counts = hash_create("privacy_ext audit counts", 16, &ctl,
						 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/*
 * First use of a call site in this statement: find (or create) its counter.
 * relid and column are known to masking calls; decrypt calls look for
 * their argument's column in the running plan.  key_id: the values' key.
 */
void
px_audit_bind(PxAuditSite *site, FmgrInfo *flinfo, PxAuditAction action,
			  Oid relid, const char *column, uint32 key_id)
{
	CountKey	key;
	CountEntry *entry;
	bool		found;

	memset(&key, 0, sizeof(key));
	key.action = action;
	key.key_id = key_id;
	key.userid = GetUserId();
	if (!OidIsValid(relid))
	{
		/* Once per statement and site: the plan walk is the costly part. */
		if (site->column_generation != px_audit_generation ||
			site->column_query != (const void *) running_query)
		{
			AttrNumber	attnum;
			const char *name = NULL;
			Oid			found = InvalidOid;

			if (call_site_column(flinfo, &found, &attnum))
				name = get_attname(found, attnum, true);
			site->column_relid = name ? found : InvalidOid;
			namestrcpy(&site->column_name, name ? name : "");
			site->column_generation = px_audit_generation;
			site->column_query = (const void *) running_query;
		}
		relid = site->column_relid;
		column = NameStr(site->column_name);
	}
	key.relid = relid;
	if (OidIsValid(relid))
		namestrcpy(&key.column, column);

	ensure_counts();
	entry = (CountEntry *) hash_search(counts, &key, HASH_ENTER, &found);
	if (!found)
	{
		char	   *relname = OidIsValid(relid) ? get_rel_name(relid) : NULL;

		entry->count = 0;
		entry->object[0] = '\0';
		if (relname != NULL)
			snprintf(entry->object, sizeof(entry->object), "%s.%s",
					 quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
												relname),
					 quote_identifier(column));
		copy_name(entry->key_name, key_id ? px_key_name(key_id) : NULL);
		copy_name(entry->session_user_name, GetUserNameFromId(GetSessionUserId(), true));
		copy_name(entry->current_role_name, GetUserNameFromId(key.userid, true));
		copy_name(entry->purpose, px_purpose);
	}
	site->counter = &entry->count;
	site->generation = px_audit_generation;
	site->key_id = key_id;
	site->userid = key.userid;
}

/* SET privacy.purpose = '...' passed its checks: an event at statement end. */
void
px_audit_note_purpose(const char *purpose)
{
	if (px_audit_sinks == 0 || IsParallelWorker() || InitializingParallelWorker ||
		!IsTransactionState())
		return;
	copy_name(pending_purpose, purpose);
	copy_name(pending_session_user, GetUserNameFromId(GetSessionUserId(), true));
	copy_name(pending_current_role, GetUserNameFromId(GetUserId(), true));
	purpose_pending = true;
}

/*
 * Write what this statement counted.  The counters are taken first, so an
 * error while writing cannot write them twice.
 */
static void
flush(bool table_ok)
{
	CountEntry *entries = NULL;
	int			n = 0;
	bool		had_purpose = purpose_pending;
	char		purpose[NAMEDATALEN];
	char		su[NAMEDATALEN];
	char		cr[NAMEDATALEN];
	int			i;

	if (flushing)
		return;
	purpose_pending = false;
	if (had_purpose)
	{
		memcpy(purpose, pending_purpose, NAMEDATALEN);
		memcpy(su, pending_session_user, NAMEDATALEN);
		memcpy(cr, pending_current_role, NAMEDATALEN);
	}
	if (counts != NULL)
	{
		HASH_SEQ_STATUS seq;
		CountEntry *e;
		long		total = hash_get_num_entries(counts);

		if (total > 0)
		{
			entries = palloc(sizeof(CountEntry) * total);
			hash_seq_init(&seq, counts);
			while ((e = (CountEntry *) hash_seq_search(&seq)) != NULL)
				if (e->count > 0)
					entries[n++] = *e;
		}
		hash_destroy(counts);
		counts = NULL;
		MemoryContextReset(audit_context);
		px_audit_generation++;
	}
	if (px_audit_sinks == 0)
		return;
	if (had_purpose)
	{
		AuditEvent	ev = {GetCurrentTimestamp(), "purpose_declared", purpose, 1, NULL,
		su, cr, purpose};

		write_event(&ev, table_ok);
	}
	for (i = 0; i < n; i++)
	{
		CountEntry *e = &entries[i];
		char		detail[NAMEDATALEN * 2 + 16];
		AuditEvent	ev;

		detail[0] = '\0';
		if (e->key_name[0])
		{
			/* Key names are restricted to [a-z0-9_.-]: no escaping needed. */
			snprintf(detail, sizeof(detail), "{\"key\": \"%s\"}", e->key_name);
		}
		ev.at = GetCurrentTimestamp();
		ev.action = action_names[e->key.action];
		ev.object = e->object[0] ? e->object : NULL;
		ev.count = e->count;
		ev.detail = detail[0] ? detail : NULL;
		ev.session_user_name = e->session_user_name;
		ev.current_role_name = e->current_role_name;
		ev.purpose = e->purpose;
		write_event(&ev, table_ok);
	}
}

/* ---------------------------------------------------------------------
 * Statement boundaries
 * --------------------------------------------------------------------- */
static void
px_executor_run(QueryDesc *queryDesc, ScanDirection direction, uint64 count, bool execute_once)
{
	QueryDesc  *save_query = running_query;
	int			save_depth = run_depth;

	running_query = queryDesc;
	run_depth++;
	PG_TRY();
	{
		if (prev_executor_run)
			prev_executor_run(queryDesc, direction, count, execute_once);
		else
			standard_ExecutorRun(queryDesc, direction, count, execute_once);
	}
	PG_FINALLY();
	{
		running_query = save_query;
		run_depth = save_depth;
	}
	PG_END_TRY();
}

static void
px_executor_end(QueryDesc *queryDesc)
{
	if (prev_executor_end)
		prev_executor_end(queryDesc);
	else
		standard_ExecutorEnd(queryDesc);
	if (run_depth == 0 && (counts != NULL || purpose_pending))
		flush(true);
}

static void
px_process_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
				   ProcessUtilityContext context, ParamListInfo params,
				   QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	if (prev_process_utility)
		prev_process_utility(pstmt, queryString, readOnlyTree, context, params,
							 queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
								queryEnv, dest, qc);
	if (run_depth == 0 && (counts != NULL || purpose_pending))
		flush(true);
}

/*
 * Counts a statement left behind (a rollback, an error, a call outside any
 * executor) are written to the log: the table may no longer be writable,
 * and dropping them would hide a decryption.
 */
static void
px_audit_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PRE_PREPARE:

			/*
			 * Counts still pending when a transaction commits: reads no
			 * statement end flushed, such as a procedure's simple
			 * expressions before its COMMIT, or anything read since the
			 * last statement ended.  They belong in the table in the
			 * transaction that did the reads, which can still write here
			 * (deferred triggers have fired; privacy.audit_log has no
			 * insert triggers).  write_event() falls back to the log where
			 * the table cannot be written.
			 */
			if (counts != NULL || purpose_pending)
				flush(true);
			break;
		case XACT_EVENT_PARALLEL_PRE_COMMIT:
			if (counts != NULL || purpose_pending)
				flush(false);
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			/* A failed data-subject request leaves counting switched on. */
			px_audit_suppressed = 0;
			flushing = false;
			running_query = NULL;
			run_depth = 0;
			if (counts != NULL || purpose_pending)
				flush(false);
			break;
		default:
			break;
	}
}

void
px_install_audit_hooks(void)
{
	prev_executor_run = ExecutorRun_hook;
	ExecutorRun_hook = px_executor_run;
	prev_executor_end = ExecutorEnd_hook;
	ExecutorEnd_hook = px_executor_end;
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = px_process_utility;
	RegisterXactCallback(px_audit_xact_callback, NULL);
}

/* ---------------------------------------------------------------------
 * SQL-callable
 * --------------------------------------------------------------------- */

/*
 * Trigger on privacy.consent_events: every recorded grant and withdrawal is
 * an audit event.  A trigger, so that nobody can call it to forge one.
 */
PG_FUNCTION_INFO_V1(px_audit_consent_event);
Datum
px_audit_consent_event(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	tupdesc;
	HeapTuple	tuple;
	char	   *subject;
	char	   *purpose;
	char	   *action;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("privacy.audit_consent_event() must be fired by INSERT, for each row")));
	tuple = trigdata->tg_trigtuple;
	/* A restore (COPY, or pg_dump --inserts) replays the history: no new event. */
	if (px_restoring())
		return PointerGetDatum(tuple);
	tupdesc = trigdata->tg_relation->rd_att;
	subject = SPI_getvalue(tuple, tupdesc, SPI_fnumber(tupdesc, "subject"));
	purpose = SPI_getvalue(tuple, tupdesc, SPI_fnumber(tupdesc, "purpose"));
	action = SPI_getvalue(tuple, tupdesc, SPI_fnumber(tupdesc, "action"));
	/* The identity the event row records: the caller of grant/withdraw_consent. */
	audit_event_as(action && strcmp(action, "grant") == 0 ? "consent_grant" : "consent_withdraw",
				   purpose, 1, px_audit_detail("subject", subject),
				   SPI_getvalue(tuple, tupdesc, SPI_fnumber(tupdesc, "session_user_name")),
				   SPI_getvalue(tuple, tupdesc, SPI_fnumber(tupdesc, "current_role_name")));
	return PointerGetDatum(tuple);
}
