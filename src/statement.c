/*
 * statement.c
 *		Statement boundaries at every depth (see statement.h).
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "tcop/utility.h"
#include "utils/inval.h"
#include "utils/timestamp.h"

#include "statement.h"

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
}

static void
statement_xact_callback(XactEvent event, void *arg)
{
	px_statement_epoch++;
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
