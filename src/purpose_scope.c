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
 * A function's SET clause (restored when the function returns) and RESET
 * stay allowed.  PGC_SUSET: only a superuser, ALTER SYSTEM or
 * postgresql.conf chooses the scope, never the pooled clients.
 */
#include "postgres.h"

#include "access/xact.h"
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

	if (px_purpose_scope != PX_PURPOSE_SCOPE_TRANSACTION ||
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

bool
px_purpose_scope_allows(const char *newval, GucSource source)
{
	if (px_purpose_scope != PX_PURPOSE_SCOPE_TRANSACTION || newval == NULL || newval[0] == '\0')
		return true;
	switch (source)
	{
		case PGC_S_GLOBAL:
		case PGC_S_DATABASE:
		case PGC_S_USER:
		case PGC_S_DATABASE_USER:
		case PGC_S_CLIENT:
			GUC_check_errcode(ERRCODE_CANT_CHANGE_RUNTIME_PARAM);
			GUC_check_errmsg("privacy.purpose can only be declared for a transaction");
			GUC_check_errhint("privacy.purpose_scope is \"transaction\": use SET LOCAL privacy.purpose "
							  "inside each transaction.");
			return false;
		default:
			return true;
	}
}

/*
 * The check hook cannot see everything: at connection start the options
 * and the role's settings are applied before the database's, so with the
 * scope set by ALTER DATABASE ... SET the hook still saw "session" when it
 * let a role's or the connection's purpose in; and a purpose a session set
 * before a reload switched the scope stays set.  So the purpose is checked
 * again where it is used: with the scope "transaction", a purpose in force
 * must have been set in this transaction (SET LOCAL, set_config(..., true),
 * a function's SET clause: an entry on the variable's stack), or come from
 * the server's configuration (postgresql.conf, ALTER SYSTEM, the command
 * line), which every connection shares alike.
 */
void
px_purpose_scope_check_in_force(void)
{
	struct config_generic *gen;

	if (px_purpose_scope != PX_PURPOSE_SCOPE_TRANSACTION || px_purpose == NULL || px_purpose[0] == '\0')
		return;
	gen = find_purpose_guc();
	if (gen == NULL || gen->stack != NULL)
		return;
	switch (gen->source)
	{
		case PGC_S_GLOBAL:
		case PGC_S_DATABASE:
		case PGC_S_USER:
		case PGC_S_DATABASE_USER:
		case PGC_S_CLIENT:
		case PGC_S_SESSION:
			ereport(ERROR,
					(errcode(ERRCODE_CANT_CHANGE_RUNTIME_PARAM),
					 errmsg("privacy.purpose can only be declared for a transaction"),
					 errdetail("privacy.purpose_scope is \"transaction\", and the purpose in force was set for the session (source: %s).",
							   GucSource_Names[gen->source]),
					 errhint("Use SET LOCAL privacy.purpose inside each transaction; RESET privacy.purpose clears the session's.")));
			break;
		default:
			break;
	}
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
