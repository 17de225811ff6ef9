/*
 * consent/reading_roles.c
 *		Which role reads a protected table at a has_consent() call site.
 *
 * has_consent() checks that the current user may process data for the
 * declared purpose.  PostgreSQL applies a table's row-level security for
 * the role whose privileges read it, which is not always the current user:
 *  - through a view (not security_invoker), the view's owner;
 *  - in a cursor opened by a SECURITY DEFINER function and fetched by its
 *    caller, the function's owner (the query was planned and started as
 *    it), while the current user at FETCH is the caller.
 * Checking only the current user let any role holding a consent purpose
 * share a view of a protected table with a role holding a purpose of
 * another legal basis, which then saw every row.  The check now also
 * holds for that other role.
 *
 * The running query is tracked by executor hooks: ExecutorStart records
 * who starts each query, ExecutorRun and ExecutorFinish make it the
 * innermost running one.  A call site's subject argument is a column of
 * one of the query's range table entries; that entry's checkAsUser (or the
 * starting role) is the reading role.
 */
#include "errors.h"
#include "consent/reading_roles.h"
#include "admin.h"

#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "nodes/primnodes.h"
#include "parser/parsetree.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

/* A started query: who started it, for as long as its query context lives. */
typedef struct StartedQuery
{
	EState	   *estate;
	Oid			start_user;
	struct StartedQuery *next;
	MemoryContextCallback callback;
} StartedQuery;

static StartedQuery *started = NULL;
static EState *running = NULL;

static ExecutorStart_hook_type prev_executor_start = NULL;
static ExecutorRun_hook_type prev_executor_run = NULL;
static ExecutorFinish_hook_type prev_executor_finish = NULL;

static void
forget_started(void *arg)
{
	StartedQuery *q = (StartedQuery *) arg;
	StartedQuery **p;

	for (p = &started; *p != NULL; p = &(*p)->next)
		if (*p == q)
		{
			*p = q->next;
			break;
		}
	if (running == q->estate)
		running = NULL;
}

static void
reading_roles_executor_start(QueryDesc *queryDesc, int eflags)
{
	StartedQuery *q;

	if (prev_executor_start)
		prev_executor_start(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
	q = MemoryContextAllocZero(queryDesc->estate->es_query_cxt, sizeof(StartedQuery));
	q->estate = queryDesc->estate;
	q->start_user = GetUserId();
	q->next = started;
	started = q;
	q->callback.func = forget_started;
	q->callback.arg = q;
	MemoryContextRegisterResetCallback(queryDesc->estate->es_query_cxt, &q->callback);
}

static void
reading_roles_executor_run(QueryDesc *queryDesc, ScanDirection direction, uint64 count,
						   bool execute_once)
{
	EState	   *outer = running;

	running = queryDesc->estate;
	PG_TRY();
	{
		if (prev_executor_run)
			prev_executor_run(queryDesc, direction, count, execute_once);
		else
			standard_ExecutorRun(queryDesc, direction, count, execute_once);
	}
	PG_FINALLY();
	{
		running = outer;
	}
	PG_END_TRY();
}

static void
reading_roles_executor_finish(QueryDesc *queryDesc)
{
	EState	   *outer = running;

	running = queryDesc->estate;
	PG_TRY();
	{
		if (prev_executor_finish)
			prev_executor_finish(queryDesc);
		else
			standard_ExecutorFinish(queryDesc);
	}
	PG_FINALLY();
	{
		running = outer;
	}
	PG_END_TRY();
}

static StartedQuery *
running_query(void)
{
	StartedQuery *q;

	if (running == NULL)
		return NULL;
	for (q = started; q != NULL; q = q->next)
		if (q->estate == running)
			return q;
	return NULL;
}

/*
 * Whether role owns the masking view of relid or of one of its ancestors:
 * a masking view filters by consent for its readers (README), and is read
 * with its owner's privileges by design.
 */
static bool
owns_masking_view_over(Oid role, Oid relid)
{
	Oid			argtypes[2] = {OIDOID, OIDOID};
	Datum		values[2] = {ObjectIdGetDatum(role), ObjectIdGetDatum(relid)};
	bool		owns;
	volatile int rc = 0;
	PxSavedUser saved;

	SPI_connect();
	/* privacy.masking_views is not readable by every role: as its owner */
	px_become_owner(px_extension_owner(), &saved);
	PG_TRY();
	{
		rc = SPI_execute_with_args("WITH RECURSIVE up(relid) AS ("
							  " SELECT $2 UNION SELECT i.inhparent FROM pg_catalog.pg_inherits i"
							  " JOIN up ON i.inhrelid = up.relid)"
							  " SELECT 1 FROM up, privacy.masking_views m, pg_catalog.pg_class c,"
							  " pg_catalog.pg_namespace n"
							  " WHERE m.relid::pg_catalog.oid = up.relid"
							  " AND c.oid = pg_catalog.to_regclass(m.view_name) AND c.relkind = 'v'"
							  " AND n.oid = c.relnamespace AND n.nspname = 'masked' AND c.relowner = $1",
							  2, argtypes, values, NULL, true, 1);
	}
	PG_FINALLY();
	{
		px_restore_user(&saved);
	}
	PG_END_TRY();
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not look up masking views");
	owns = SPI_processed > 0;
	SPI_finish();
	return owns;
}

static bool
relation_has_row_security(Oid relid)
{
	HeapTuple	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	bool		rls;

	if (!HeapTupleIsValid(tp))
		return false;
	rls = ((Form_pg_class) GETSTRUCT(tp))->relrowsecurity;
	ReleaseSysCache(tp);
	return rls;
}

/* The role reading rte in the started query q, if another than the current user. */
static Oid
reading_role_of(StartedQuery *q, RangeTblEntry *rte)
{
	Oid			role;

	if (rte->rtekind != RTE_RELATION)
		return InvalidOid;
	role = OidIsValid(rte->checkAsUser) ? rte->checkAsUser : q->start_user;
	/* a superuser may process data for every purpose */
	if (role == GetUserId() || superuser_arg(role) || owns_masking_view_over(role, rte->relid))
		return InvalidOid;
	return role;
}

List *
px_consent_reading_roles(FunctionCallInfo fcinfo)
{
	StartedQuery *q;
	Node	   *expr = fcinfo->flinfo->fn_expr;
	Node	   *arg;
	Var		   *var;
	Oid			role;

	q = running_query();
	if (q == NULL)
		return NIL;
	if (expr == NULL || !IsA(expr, FuncExpr) || list_length(((FuncExpr *) expr)->args) < 1)
		return px_consent_reading_roles_of_query();
	/* The subject, through a binary or I/O cast (a varchar column as text). */
	arg = linitial(((FuncExpr *) expr)->args);
	for (;;)
	{
		if (IsA(arg, RelabelType))
			arg = (Node *) ((RelabelType *) arg)->arg;
		else if (IsA(arg, CoerceViaIO))
			arg = (Node *) ((CoerceViaIO *) arg)->arg;
		else if (IsA(arg, FuncExpr) && ((FuncExpr *) arg)->funcformat != COERCE_EXPLICIT_CALL &&
				 list_length(((FuncExpr *) arg)->args) >= 1)
			arg = linitial(((FuncExpr *) arg)->args);
		else
			break;
	}
	/*
	 * A column of one of the query's tables names its entry.  Anything else
	 * -- a column of an index-only scan's index tuple or of a join's input
	 * (special varnos), an expression, a PL/pgSQL parameter -- could be
	 * any table's: every role reading a row-secured table of the query
	 * must then be allowed the purpose.
	 */
	if (!IsA(arg, Var))
		return px_consent_reading_roles_of_query();
	var = (Var *) arg;
	if (var->varlevelsup != 0 || IS_SPECIAL_VARNO(var->varno) || var->varno < 1 ||
		var->varno > (int) q->estate->es_range_table_size)
		return px_consent_reading_roles_of_query();
	role = reading_role_of(q, exec_rt_fetch(var->varno, q->estate));
	return OidIsValid(role) ? list_make1_oid(role) : NIL;
}

List *
px_consent_reading_roles_of_query(void)
{
	StartedQuery *q = running_query();
	List	   *roles = NIL;
	Index		i;

	if (q == NULL)
		return NIL;
	for (i = 1; i <= q->estate->es_range_table_size; i++)
	{
		RangeTblEntry *rte = exec_rt_fetch(i, q->estate);
		Oid			role;

		if (rte->rtekind != RTE_RELATION || !relation_has_row_security(rte->relid))
			continue;
		role = reading_role_of(q, rte);
		if (OidIsValid(role))
			roles = list_append_unique_oid(roles, role);
	}
	return roles;
}

void
px_install_consent_reading_roles(void)
{
	prev_executor_start = ExecutorStart_hook;
	ExecutorStart_hook = reading_roles_executor_start;
	prev_executor_run = ExecutorRun_hook;
	ExecutorRun_hook = reading_roles_executor_run;
	prev_executor_finish = ExecutorFinish_hook;
	ExecutorFinish_hook = reading_roles_executor_finish;
}
