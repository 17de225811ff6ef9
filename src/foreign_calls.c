/*
 * foreign_calls.c
 *		While privacy_ext runs SQL over user tables as a superuser -- the
 *		scans of px_become_owner() windows of a superuser (the columns under
 *		a key, a data-subject request's counts), k-anonymity counts a
 *		superuser asked for through the inventory -- code of the tables'
 *		owners that PostgreSQL reaches runs as its owner, not as the
 *		superuser.  The planner folds an IMMUTABLE function of a partial
 *		index predicate or of an inheritance child's CHECK constraint with
 *		the planning role's rights, so a table owner could otherwise get its
 *		function run by the superuser just by having privacy_ext look at the
 *		table (ALTER ROLE ... SUPERUSER from inside it).
 *
 * needs_fmgr_hook routes every function that is not privacy_ext's through
 * fmgr_hook during a window (built-in functions never reach it, and
 * PostgreSQL does not inline a SQL function that needs the hook, so its
 * body cannot slip into the caller's expression); at its start the hook
 * switches to the function's owner when the current user is a superuser.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_proc.h"
#include "commands/extension.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "foreign_calls.h"

static int	window_depth = 0;

/* One entry per call the hook saw start, whether it switched or not. */
typedef struct SwitchedCall
{
	bool		switched;
	Oid			userid;
	int			sec_context;
} SwitchedCall;

static SwitchedCall *calls = NULL;
static int	calls_top = 0;
static int	calls_size = 0;

static needs_fmgr_hook_type prev_needs_fmgr_hook = NULL;
static fmgr_hook_type prev_fmgr_hook = NULL;

int
px_foreign_calls_as_owner_begin(void)
{
	int			guc_level = NewGUCNestLevel();

	(void) set_config_option("max_parallel_workers_per_gather", "0", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	window_depth++;
	return guc_level;
}

/* Also on the way out of an error (PG_FINALLY). */
void
px_foreign_calls_as_owner_end(int guc_level)
{
	if (window_depth > 0)
		window_depth--;
	AtEOXact_GUC(true, guc_level);
}

/* Whether fn_oid belongs to privacy_ext (its functions are its own code). */
static bool
own_function(Oid fn_oid)
{
	Oid			ext = get_extension_oid("privacy_ext", true);

	return OidIsValid(ext) && getExtensionOfObject(ProcedureRelationId, fn_oid) == ext;
}

static bool
foreign_calls_needs_hook(Oid fn_oid)
{
	if (prev_needs_fmgr_hook && prev_needs_fmgr_hook(fn_oid))
		return true;
	return window_depth > 0 && !own_function(fn_oid);
}

static Oid
function_owner(Oid fn_oid)
{
	HeapTuple	tp = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn_oid));
	Oid			owner;

	if (!HeapTupleIsValid(tp))
		elog(ERROR, "cache lookup failed for function %u", fn_oid);
	owner = ((Form_pg_proc) GETSTRUCT(tp))->proowner;
	ReleaseSysCache(tp);
	return owner;
}

static void
foreign_calls_hook(FmgrHookEventType event, FmgrInfo *flinfo, Datum *private)
{
	if (prev_fmgr_hook)
		prev_fmgr_hook(event, flinfo, private);
	if (event == FHET_START)
	{
		SwitchedCall call = {false, InvalidOid, 0};

		if (window_depth > 0 && superuser() && !own_function(flinfo->fn_oid))
		{
			Oid			owner = function_owner(flinfo->fn_oid);

			GetUserIdAndSecContext(&call.userid, &call.sec_context);
			if (owner != call.userid)
			{
				call.switched = true;
				SetUserIdAndSecContext(owner, call.sec_context | SECURITY_LOCAL_USERID_CHANGE |
									   SECURITY_RESTRICTED_OPERATION);
			}
		}
		if (calls_top == calls_size)
		{
			int			size = calls_size == 0 ? 16 : calls_size * 2;

			calls = calls == NULL ?
				MemoryContextAlloc(TopMemoryContext, sizeof(SwitchedCall) * size) :
				repalloc(calls, sizeof(SwitchedCall) * size);
			calls_size = size;
		}
		calls[calls_top++] = call;
	}
	else if (calls_top > 0)
	{
		SwitchedCall *call = &calls[--calls_top];

		if (call->switched)
			SetUserIdAndSecContext(call->userid, call->sec_context);
	}
}

/* An error ends every window; the transaction's abort puts the user back. */
static void
foreign_calls_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
	{
		window_depth = 0;
		calls_top = 0;
	}
}

void
px_install_foreign_calls(void)
{
	prev_needs_fmgr_hook = needs_fmgr_hook;
	needs_fmgr_hook = foreign_calls_needs_hook;
	prev_fmgr_hook = fmgr_hook;
	fmgr_hook = foreign_calls_hook;
	RegisterXactCallback(foreign_calls_xact_callback, NULL);
}
