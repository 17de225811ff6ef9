/*
 * purpose_scope.c
 *		privacy.purpose_scope = 'transaction': a purpose is declared for one
 *		transaction only (SET LOCAL, set_config(..., true)).
 *
 * Behind a pooler in transaction mode (PgBouncer's pool_mode = transaction)
 * consecutive transactions on one server connection belong to different
 * clients, so a purpose declared with a plain SET would be in force for
 * whichever client's transaction comes next, showing it the rows of a
 * purpose it never declared.  With the setting, a declaration that would
 * outlive its transaction is refused:
 *
 *	- a plain SET or set_config(..., false) in the transaction: the commit
 *	  fails (the variable's GUC stack says whether a value set at session
 *	  level would survive; it cannot be told apart earlier, as the check hook
 *	  does not learn whether a SET is LOCAL);
 *	- a value from the connection's options, ALTER ROLE / DATABASE ... SET:
 *	  refused by privacy.purpose's check hook.
 *
 * A function's SET clause (restored when the function returns) stays
 * allowed; RESET and SET ... TO DEFAULT give no purpose, never one the
 * connection applied.  PGC_SUSET: only a superuser, ALTER SYSTEM or
 * postgresql.conf chooses the scope, never the pooled clients.
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "nodes/parsenodes.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"

#include "purpose_scope.h"

/* privacy.purpose, the purpose this session declares (module.c defines it). */
char	   *px_purpose = NULL;
int			px_purpose_scope = PX_PURPOSE_SCOPE_SESSION;

static const struct config_enum_entry purpose_scope_options[] = {
	{"session", PX_PURPOSE_SCOPE_SESSION, false},
	{"transaction", PX_PURPOSE_SCOPE_TRANSACTION, false},
	{NULL, 0, false}
};

static struct config_generic *purpose_guc = NULL;

static struct config_generic *
find_purpose_guc(void)
{
	struct config_generic **vars;
	int			n;
	int			i;

	if (purpose_guc != NULL)
		return purpose_guc;
	vars = get_guc_variables();
	n = GetNumConfigOptions();
	for (i = 0; i < n; i++)
		if (strcmp(vars[i]->name, "privacy.purpose") == 0)
			return purpose_guc = vars[i];
	return NULL;
}

/*
 * The value a plain SET in this transaction leaves for the session, or NULL.
 * At commit of the top transaction the subtransactions have merged their
 * entries, so the variable's stack holds at most this transaction's one.
 */
static const char *
session_value_set_here(void)
{
	struct config_generic *gen = find_purpose_guc();
	GucStack   *stack;

	if (gen == NULL || gen->vartype != PGC_STRING || (stack = gen->stack) == NULL)
		return NULL;
	if (stack->state == GUC_SET)
		return *((struct config_string *) gen)->variable;
	if (stack->state == GUC_SET_LOCAL)
		return stack->masked.val.stringval;
	return NULL;
}

static void
purpose_scope_xact_callback(XactEvent event, void *arg)
{
	const char *kept;

	/*
	 * A parallel worker restores the leader's settings for its session, in a
	 * transaction of its own: they are the leader's, checked there.
	 */
	if (px_purpose_scope != PX_PURPOSE_SCOPE_TRANSACTION || IsParallelWorker() ||
		(event != XACT_EVENT_PRE_COMMIT && event != XACT_EVENT_PRE_PREPARE))
		return;
	kept = session_value_set_here();
	if (kept != NULL && kept[0] != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_CANT_CHANGE_RUNTIME_PARAM),
				 errmsg("privacy.purpose can only be declared for a transaction"),
				 errdetail("privacy.purpose_scope is \"transaction\": a purpose declared for the "
						   "session would stay in force for the next transaction on this connection."),
				 errhint("Use SET LOCAL privacy.purpose, or set_config('privacy.purpose', ..., true), "
						 "inside the transaction.")));
}

/*
 * Whether a value from source is one the connection applied for the whole
 * session (its options, ALTER ROLE / DATABASE ... SET), which the scope
 * "transaction" never lets be in force.
 */
static bool
connection_source(GucSource source)
{
	switch (source)
	{
		case PGC_S_GLOBAL:
		case PGC_S_DATABASE:
		case PGC_S_USER:
		case PGC_S_DATABASE_USER:
		case PGC_S_CLIENT:
			return true;
		default:
			return false;
	}
}

bool
px_purpose_scope_allows(const char *newval, GucSource source)
{
	if (px_purpose_scope != PX_PURPOSE_SCOPE_TRANSACTION || newval == NULL || newval[0] == '\0' ||
		InitializingParallelWorker || IsParallelWorker())
		return true;
	if (!connection_source(source))
		return true;
	GUC_check_errcode(ERRCODE_CANT_CHANGE_RUNTIME_PARAM);
	GUC_check_errmsg("privacy.purpose can only be declared for a transaction");
	GUC_check_errhint("privacy.purpose_scope is \"transaction\": use SET LOCAL privacy.purpose "
					  "inside each transaction.");
	return false;
}

/*
 * The check hook cannot see everything: at connection start the options
 * and the role's settings are applied before the database's, so with the
 * scope set by ALTER DATABASE ... SET the hook still saw "session" when it
 * let a role's or the connection's purpose in; and a purpose a session set
 * before a reload switched the scope stays set.  Such a purpose is also the
 * variable's reset value, which RESET, SET [LOCAL] ... TO DEFAULT and
 * set_config(..., NULL, ...) bring back without calling the check hook, and
 * which then has an entry on the variable's stack like a declaration.  So
 * the purpose is checked again where it is used, by where its value came
 * from: with the scope "transaction", a purpose in force must have been set
 * in this transaction (SET LOCAL, set_config(..., true), a function's SET
 * clause: source "session" with an entry on the variable's stack), or come
 * from the server's configuration (postgresql.conf, ALTER SYSTEM, the
 * command line), which every connection shares alike.
 */
/*
 * Whether the purpose the variable holds is one the scope "transaction"
 * keeps out of force (see below).
 */
static bool
held_but_not_in_force(void)
{
	struct config_generic *gen;

	if (px_purpose_scope != PX_PURPOSE_SCOPE_TRANSACTION || px_purpose == NULL || px_purpose[0] == '\0' ||
		IsParallelWorker())
		return false;
	gen = find_purpose_guc();
	return gen != NULL &&
		(connection_source(gen->source) || (gen->source == PGC_S_SESSION && gen->stack == NULL));
}

/*
 * SHOW, current_setting() and a function's SET privacy.purpose FROM
 * CURRENT read the variable through this: a purpose that is not in force
 * shows as none, so FROM CURRENT cannot carry the role's or connection's
 * purpose into a function's SET clause, where it would be declared.
 */
const char *
px_purpose_show(void)
{
	if (held_but_not_in_force())
		return "";
	return px_purpose != NULL ? px_purpose : "";
}

void
px_purpose_scope_check_in_force(void)
{
	struct config_generic *gen;

	if (!held_but_not_in_force())
		return;
	gen = find_purpose_guc();
	ereport(ERROR,
			(errcode(ERRCODE_CANT_CHANGE_RUNTIME_PARAM),
			 errmsg("privacy.purpose can only be declared for a transaction"),
			 errdetail("privacy.purpose_scope is \"transaction\", and the purpose in force was set for the session (source: %s).",
					   GucSource_Names[gen->source]),
			 errhint("Use SET LOCAL privacy.purpose inside each transaction. RESET privacy.purpose ends the "
					 "session's purpose; one from ALTER ROLE or ALTER DATABASE ... SET, or from the "
					 "connection options, comes back with each new connection until it is removed there.")));
}

/*
 * After RESET privacy.purpose, SET [LOCAL] privacy.purpose TO DEFAULT,
 * RESET ALL or DISCARD ALL (from the utility hook, statement.c): these ask
 * for no declared purpose, but give the reset value, which may be a purpose
 * the connection applied for the session.  With the scope "transaction"
 * that one is never in force, so no purpose is set instead, for the
 * transaction or the session as the command was.  (set_config(..., NULL,
 * ...) does not come here; the check where the purpose is used refuses what
 * it brings back.)
 */
void
px_purpose_scope_after_utility(Node *parsetree)
{
	struct config_generic *gen;
	bool		is_local = false;

	if (px_purpose_scope != PX_PURPOSE_SCOPE_TRANSACTION || parsetree == NULL)
		return;
	if (IsA(parsetree, VariableSetStmt))
	{
		VariableSetStmt *stmt = (VariableSetStmt *) parsetree;

		if (stmt->kind == VAR_RESET_ALL)
			is_local = false;
		else if ((stmt->kind == VAR_SET_DEFAULT || stmt->kind == VAR_RESET) &&
				 stmt->name != NULL && pg_strcasecmp(stmt->name, "privacy.purpose") == 0)
			is_local = stmt->is_local;
		else
			return;
	}
	else if (!IsA(parsetree, DiscardStmt) || ((DiscardStmt *) parsetree)->target != DISCARD_ALL)
		return;
	gen = find_purpose_guc();
	if (gen == NULL || px_purpose == NULL || px_purpose[0] == '\0' || !connection_source(gen->source))
		return;
	(void) set_config_option("privacy.purpose", "", PGC_USERSET, PGC_S_SESSION,
							 is_local ? GUC_ACTION_LOCAL : GUC_ACTION_SET, true, 0, false);
}

void
px_define_purpose_scope(void)
{
	DefineCustomEnumVariable("privacy.purpose_scope",
							 "Whether a processing purpose may be declared for a session or only for a transaction.",
							 "transaction: only SET LOCAL privacy.purpose (or set_config(..., true)) is "
							 "accepted, for connection poolers in transaction mode.",
							 &px_purpose_scope,
							 PX_PURPOSE_SCOPE_SESSION,
							 purpose_scope_options,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);
	RegisterXactCallback(purpose_scope_xact_callback, NULL);
}
