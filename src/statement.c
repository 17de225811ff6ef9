/*
 * statement.c
 *		Statement boundaries at every depth (see statement.h).
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "plpgsql.h"
#include "tcop/utility.h"
#include "utils/inval.h"
#include "utils/timestamp.h"

#include "purpose_scope.h"
#include "statement.h"

/* Built with AddressSanitizer (make asan)? */
#if defined(__SANITIZE_ADDRESS__)
#define PX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PX_ASAN 1
#endif
#endif
#ifdef PX_ASAN
#include <sanitizer/asan_interface.h>
#endif

/* Starts at 1: a zeroed cache (epoch 0) is never current. */
uint64		px_statement_epoch = 1;
bool		px_loaded_at_start = false;

static uint64 refreshed_epoch = 0;
static uint64 now_epoch = 0;
static TimestampTz now_at = 0;

static ExecutorRun_hook_type prev_executor_run = NULL;
static ProcessUtility_hook_type prev_process_utility = NULL;

static void
statement_executor_run(QueryDesc *queryDesc, ScanDirection direction, uint64 count,
					   bool execute_once)
{
	px_statement_epoch++;
	if (prev_executor_run)
		prev_executor_run(queryDesc, direction, count, execute_once);
	else
		standard_ExecutorRun(queryDesc, direction, count, execute_once);
}

static void
statement_process_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
						  ProcessUtilityContext context, ParamListInfo params,
						  QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	px_statement_epoch++;
	if (prev_process_utility)
		prev_process_utility(pstmt, queryString, readOnlyTree, context, params,
							 queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
								queryEnv, dest, qc);
	/* RESET privacy.purpose and the like: see purpose_scope.c. */
	px_purpose_scope_after_utility(pstmt->utilityStmt);
}

/*
 * An error leaves the frames between ereport() and its handler by
 * siglongjmp.  With the sanitizer's runtime loaded after the server started
 * (it comes with this library), its longjmp interceptor is not in place, so
 * the abandoned frames' redzones stay poisoned and the next calls that
 * reuse that stack would be reported.  Every error ends in an abort
 * callback, which runs on the handler's frame: forget what lies below it.
 * Nothing happens in a normal build.
 */
static void
forget_abandoned_frames(void)
{
#ifdef PX_ASAN
	char	   *here = (char *) __builtin_frame_address(0);
	size_t		span = (size_t) max_stack_depth * 1024 + 256 * 1024;

	__asan_unpoison_memory_region(here - span, span);
#endif
}

/*
 * Each statement of a PL/pgSQL function is a boundary too, also one that
 * never reaches the executor: PL/pgSQL evaluates a simple expression
 * (x := privacy.decrypt(e), IF, RETURN, RAISE) by itself, so a loop of such
 * statements kept decrypting with a key destroyed or a grant revoked since
 * it started.  PL/pgSQL's instrumentation plugin hears of every statement.
 * One plugin is PL/pgSQL's to call: one installed before this library is
 * called on from here, with the fields PL/pgSQL fills in passed on; one
 * installed later (a debugger) replaces this one, and PL/pgSQL statements
 * are then boundaries only where they run the executor.
 */
static PLpgSQL_plugin statement_plpgsql_plugin;
static PLpgSQL_plugin *prev_plpgsql_plugin = NULL;

static void
plpgsql_func_setup(PLpgSQL_execstate *estate, PLpgSQL_function *func)
{
	if (prev_plpgsql_plugin == NULL)
		return;
	prev_plpgsql_plugin->error_callback = statement_plpgsql_plugin.error_callback;
	prev_plpgsql_plugin->assign_expr = statement_plpgsql_plugin.assign_expr;
	prev_plpgsql_plugin->assign_value = statement_plpgsql_plugin.assign_value;
	prev_plpgsql_plugin->eval_datum = statement_plpgsql_plugin.eval_datum;
	prev_plpgsql_plugin->cast_value = statement_plpgsql_plugin.cast_value;
	if (prev_plpgsql_plugin->func_setup)
		prev_plpgsql_plugin->func_setup(estate, func);
}

static void
plpgsql_func_beg(PLpgSQL_execstate *estate, PLpgSQL_function *func)
{
	if (prev_plpgsql_plugin && prev_plpgsql_plugin->func_beg)
		prev_plpgsql_plugin->func_beg(estate, func);
}

static void
plpgsql_func_end(PLpgSQL_execstate *estate, PLpgSQL_function *func)
{
	if (prev_plpgsql_plugin && prev_plpgsql_plugin->func_end)
		prev_plpgsql_plugin->func_end(estate, func);
}

static void
plpgsql_stmt_beg(PLpgSQL_execstate *estate, PLpgSQL_stmt *stmt)
{
	px_statement_epoch++;
	if (prev_plpgsql_plugin && prev_plpgsql_plugin->stmt_beg)
		prev_plpgsql_plugin->stmt_beg(estate, stmt);
}

static void
plpgsql_stmt_end(PLpgSQL_execstate *estate, PLpgSQL_stmt *stmt)
{
	if (prev_plpgsql_plugin && prev_plpgsql_plugin->stmt_end)
		prev_plpgsql_plugin->stmt_end(estate, stmt);
}

static void
install_plpgsql_plugin(void)
{
	PLpgSQL_plugin **plugin_ptr = (PLpgSQL_plugin **) find_rendezvous_variable("PLpgSQL_plugin");

	prev_plpgsql_plugin = *plugin_ptr;
	statement_plpgsql_plugin.func_setup = plpgsql_func_setup;
	statement_plpgsql_plugin.func_beg = plpgsql_func_beg;
	statement_plpgsql_plugin.func_end = plpgsql_func_end;
	statement_plpgsql_plugin.stmt_beg = plpgsql_stmt_beg;
	statement_plpgsql_plugin.stmt_end = plpgsql_stmt_end;
	*plugin_ptr = &statement_plpgsql_plugin;
}

static void
statement_xact_callback(XactEvent event, void *arg)
{
	px_statement_epoch++;
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		forget_abandoned_frames();
}

static void
statement_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						   SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		forget_abandoned_frames();
}

void
px_install_statement_hooks(void)
{
	px_loaded_at_start = process_shared_preload_libraries_in_progress;
	prev_executor_run = ExecutorRun_hook;
	ExecutorRun_hook = statement_executor_run;
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = statement_process_utility;
	RegisterXactCallback(statement_xact_callback, NULL);
	RegisterSubXactCallback(statement_subxact_callback, NULL);
	install_plpgsql_plugin();
}

void
px_statement_refresh(void)
{
	if (refreshed_epoch == px_statement_epoch)
		return;
	refreshed_epoch = px_statement_epoch;
	if (IsTransactionState())
		AcceptInvalidationMessages();
}

TimestampTz
px_statement_now(void)
{
	if (now_epoch != px_statement_epoch)
	{
		now_epoch = px_statement_epoch;
		now_at = GetCurrentTimestamp();
	}
	return now_at;
}
