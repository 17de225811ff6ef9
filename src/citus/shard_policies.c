/*
 * citus/shard_policies.c
 *		The consent policies stay restrictive on the shards of a Citus
 *		table, and on the workers' copies of the table.
 *
 * Citus writes a distributed table's row security policies to its shards
 * and to the other nodes' metadata from the catalog, as CREATE POLICY name
 * ON table FOR command TO roles USING (...), and leaves out AS RESTRICTIVE
 * (Citus 12.1 and 13, CreatePolicyCommandForPolicy), whenever it makes a
 * shard: at create_distributed_table, when a policy is created on the
 * table, when a shard is moved, split or copied to a new node.  The consent
 * policies of a protected table (sql/parts/1.1/97_consent_policies.sql) are
 * restrictive, beside a permissive privacy_consent_allow_<command> that
 * allows every row: made permissive, the two are ORed and a shard shows
 * every row, consent or not, purpose or not.
 *
 * So on a node where Citus is loaded, a permissive CREATE POLICY that is
 * one of the extension's consent policies -- named privacy_consent_select,
 * _update or _delete, USING privacy.has_consent(...) -- is made
 * restrictive before it runs, whichever node sent it, whatever the
 * version of the extension in the database: during ALTER EXTENSION UPDATE
 * the coordinator's new policies can reach workers still at 1.0 (1.0, which
 * has no Citus support, made them permissive with no policy allowing every
 * row beside them: restrictive there, a shard shows no row, never every
 * row).
 */
#include "postgres.h"

#include "catalog.h"
#include "citus/shard_map.h"
#include "citus/shard_policies.h"

#include "nodes/parsenodes.h"
#include "tcop/utility.h"

static ProcessUtility_hook_type prev_process_utility = NULL;

/* The consent policies 1.1 creates restrictive (97_consent_policies.sql). */
static const char *const restrictive_consent_policies[] = {
	PX_CONSENT_SELECT_POLICY,
	"privacy_consent_update",
	"privacy_consent_delete",
};

/* Whether qual is a call of privacy.has_consent (or an unqualified has_consent). */
static bool
calls_has_consent(Node *qual)
{
	FuncCall   *call;
	List	   *name;

	if (qual == NULL || !IsA(qual, FuncCall))
		return false;
	call = (FuncCall *) qual;
	name = call->funcname;
	if (strcmp(strVal(llast(name)), "has_consent") != 0)
		return false;
	return list_length(name) == 1 ||
		(list_length(name) == 2 && strcmp(strVal(linitial(name)), PX_SCHEMA) == 0);
}

static bool
is_consent_policy(CreatePolicyStmt *stmt)
{
	size_t		i;

	for (i = 0; i < lengthof(restrictive_consent_policies); i++)
		if (strcmp(stmt->policy_name, restrictive_consent_policies[i]) == 0)
			return calls_has_consent(stmt->qual);
	return false;
}

static void
shard_policies_process_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
							   ProcessUtilityContext context, ParamListInfo params,
							   QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;

	if (IsA(parsetree, CreatePolicyStmt) && ((CreatePolicyStmt *) parsetree)->permissive &&
		is_consent_policy((CreatePolicyStmt *) parsetree) && px_citus_loaded())
	{
		/* The tree may be a cached plan's: change a copy. */
		pstmt = copyObject(pstmt);
		((CreatePolicyStmt *) pstmt->utilityStmt)->permissive = false;
		readOnlyTree = false;
	}
	if (prev_process_utility)
		prev_process_utility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
}

void
px_install_shard_policies(void)
{
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = shard_policies_process_utility;
}
