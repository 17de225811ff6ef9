/*
 * masking/transparent.c
 *		Transparent masking: a masked role that reads a masked table itself
 *		reads the table's masking view instead, and may not write to it.
 *
 * A masked role (privacy.masked_roles, made by mask_role) holds no
 * privilege on the tables that have masking views; before 1.1 reading one
 * by name was an error.  Now every statement a masked role sends is looked
 * at after parse analysis: when its range tables name a table that has a
 * masking view (masked.<table>, checked to be a view of schema masked
 * reading that table), the statement is analysed again with each name of
 * the table replaced by the name of its view, aliased with the table's
 * name.  The query that results is the one the role would have written
 * against masked.<table>: the same column types (an encrypted column is the
 * masked text), the same operators, the view's security barrier (the role's
 * predicates only ever see masked values), the view's consent filter, and
 * the view's privileges (SELECT on the view for the role, the table read as
 * the view's owner).  It costs what reading the view costs: the rewriter
 * expands the view as it would have.
 *
 * Why analyse again instead of editing the analysed query: the view's
 * columns need not have the table's types (an encrypted column is text in
 * the view), so operators and functions chosen against the table would be
 * wrong.  The statement's text is parsed again (parse analysis keeps where
 * each statement starts), in the parse mode that accepts it (PL/pgSQL
 * expressions and assignments have their own), and the statement found
 * there is analysed with the original parse state's hooks (parameters,
 * PL/pgSQL variables).  Statements analysed from within another one (the
 * query of CREATE VIEW, COPY (query) TO and PREPARE) are found inside it.
 *
 * Utility statements: COPY table TO becomes COPY (SELECT columns FROM view)
 * TO (pg_dump's data); LOCK TABLE of the table locks the view, which locks
 * the table with the view owner's rights (pg_dump's locks); COPY FROM and
 * TRUNCATE are refused like INSERT, UPDATE, DELETE and MERGE, with
 * SQLSTATE 42501.
 *
 * Plan caching: a query that reads a masked table, whoever analysed it, is
 * marked as depending on the role (as row security does), so a cached plan
 * (PREPARE, PL/pgSQL, SET ROLE, SECURITY DEFINER) is analysed again when
 * it is used by another role.
 *
 * pg_dump's sessions may not expand views (restrict_nonsystem_relation_kind):
 * there a masked role's masking views are expanded here, before the
 * rewriter, as the rewriter would (see expand_masking_view).
 *
 * Nothing here widens what a masked role can read: a statement that still
 * names a masked table after the rewrite is refused, and the executor's
 * permission check (transparent_check_perms) refuses every masked role's
 * read or write of a masked table (or, through a parent without a masking
 * view, of its masked partitions and children) with its own rights, on
 * paths that skip parse analysis (BEGIN ATOMIC bodies, rules, views made
 * before masking) and for roles granted the table again
 * (pg_read_all_data, PUBLIC).  It also refuses a masked role's deletes and
 * key updates of a table a masked table references (masked_referencing).
 */
#include "errors.h"
#include "catalog.h"
#include "masking/transparent.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_attrdef.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_policy.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_statistic_ext.h"
#include "catalog/pg_statistic_ext_data.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "parser/analyze.h"
#include "parser/parse_func.h"
#include "parser/parse_node.h"
#include "parser/parse_type.h"
#include "parser/parser.h"
#include "parser/parsetree.h"
#include "rewrite/prs2lock.h"
#include "rewrite/rewriteHandler.h"
#include "rewrite/rewriteManip.h"
#include "rewrite/rewriteSupport.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/regproc.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

static post_parse_analyze_hook_type prev_post_parse_analyze = NULL;
static ExecutorCheckPerms_hook_type prev_check_perms = NULL;
static bool in_transparent_masking = false;

/* A relation looked at, and its masking view (InvalidOid: none). */
typedef struct LookedUp
{
	Oid			relid;
	Oid			view;
} LookedUp;

typedef struct FindContext
{
	List	   *looked_up;		/* LookedUp *, shared by every walk of a statement */
	Oid			first_masked;	/* a masked table the statement reads, if any */
	Oid			written;		/* a masked table the statement writes, if any */
} FindContext;

/* The snapshot lookups read with: the statement's, or the catalogs'. */
static Snapshot
lookup_snapshot(void)
{
	return ActiveSnapshotSet() ? GetActiveSnapshot() : NULL;
}

/*
 * Two registries are read for every statement: privacy.masked_roles
 * (whether a role is masked) and privacy.masking_views (whether a table
 * has a masking view).  Each backend keeps what it read of them while the
 * registry's invalidation triggers are enabled (<name>, a statement
 * trigger for local changes, and <name>_replica, a row trigger for a
 * logical replication apply worker's; sql/parts/1.1/
 * 99_registry_invalidation.sql): any change to the table sends a relcache
 * invalidation when it commits, which empties what was kept.  Answers are
 * read with a fresh snapshot, never a transaction's older one: a change
 * this snapshot does not see commits after it was taken, and sends its
 * invalidation later still.  Without the triggers (a database still at
 * 1.0, or one of them disabled) and in parallel mode nothing is kept.
 */
static bool
registry_invalidates(Relation rel, const char *trigger)
{
	TriggerDesc *trigdesc = rel->trigdesc;
	char		replica[NAMEDATALEN];
	bool		local = false;
	bool		replicated = false;
	int			i;

	if (trigdesc == NULL)
		return false;
	snprintf(replica, sizeof(replica), "%s_replica", trigger);
	for (i = 0; i < trigdesc->numtriggers; i++)
	{
		Trigger    *trig = &trigdesc->triggers[i];

		if (trig->tgenabled == TRIGGER_DISABLED)
			continue;
		if (strcmp(trig->tgname, trigger) == 0)
			local = true;
		else if (strcmp(trig->tgname, replica) == 0)
			replicated = true;
	}
	return local && replicated;
}

#define MASKING_VIEWS_INVALIDATION_TRIGGER "masking_views_cache_invalidation"
/* A longer name (none the extension writes) is read every time. */
#define REGISTERED_VIEW_NAME_MAX (2 * NAMEDATALEN + 8)

typedef struct RegisteredView
{
	Oid			relid;			/* hash key */
	bool		found;			/* the registry has a row for it */
	char		view_name[REGISTERED_VIEW_NAME_MAX];
} RegisteredView;

static HTAB *registered_views = NULL;
static Oid	registered_views_registry = InvalidOid;
static bool registered_views_listening = false;

static void
registered_views_reset(void)
{
	if (registered_views != NULL)
	{
		hash_destroy(registered_views);
		registered_views = NULL;
	}
}

static void
masking_views_relation_changed(Oid relid)
{
	if (!OidIsValid(relid) || relid == registered_views_registry)
		registered_views_reset();
}

/*
 * The view name privacy.masking_views (relid registry) holds for a table,
 * or NULL.  The caller checks that it names a masking view of the table.
 */
static const char *
registered_view_name(Oid registry, Oid relid)
{
	bool		cacheable = !IsInParallelMode();
	RegisteredView *entry;
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	char	   *view_name = NULL;

	if (cacheable)
	{
		if (!registered_views_listening)
		{
			px_catalog_on_relation_change(masking_views_relation_changed);
			registered_views_listening = true;
		}
		if (registry != registered_views_registry)
		{
			registered_views_reset();
			registered_views_registry = registry;
		}
		if (registered_views != NULL &&
			(entry = hash_search(registered_views, &relid, HASH_FIND, NULL)) != NULL)
			return entry->found ? pstrdup(entry->view_name) : NULL;
	}
	rel = table_open(registry, AccessShareLock);
	ScanKeyInit(&key, Anum_masking_views_relid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, InvalidOid, false,
							  cacheable ? px_catalog_snapshot() : lookup_snapshot(), 1, &key);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		name = heap_getattr(tup, Anum_masking_views_view_name,
										RelationGetDescr(rel), &isnull);

		if (!isnull)
			view_name = TextDatumGetCString(name);
	}
	systable_endscan(scan);
	/* the table open may have emptied the cache: it is looked up again */
	if (cacheable && registry == registered_views_registry &&
		registry_invalidates(rel, MASKING_VIEWS_INVALIDATION_TRIGGER) &&
		(view_name == NULL || strlen(view_name) < REGISTERED_VIEW_NAME_MAX))
	{
		if (registered_views == NULL)
		{
			HASHCTL		ctl;

			ctl.keysize = sizeof(Oid);
			ctl.entrysize = sizeof(RegisteredView);
			ctl.hcxt = CacheMemoryContext;
			registered_views = hash_create("privacy_ext masking views", 64, &ctl,
										   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		}
		entry = hash_search(registered_views, &relid, HASH_ENTER, NULL);
		entry->found = view_name != NULL;
		if (view_name != NULL)
			strlcpy(entry->view_name, view_name, REGISTERED_VIEW_NAME_MAX);
	}
	table_close(rel, AccessShareLock);
	return view_name;
}

/*
 * The pg_depend rows of an object: with dependents, those of the objects
 * that depend on it (each as the dependent object, with the column of the
 * object it depends on in objectSubId), else those of the objects it
 * depends on (each as the referenced object).  A list of ObjectAddress *.
 */
static List *
depend_rows(bool dependents, Oid classid, Oid objid)
{
	Relation	dep;
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *result = NIL;

	dep = table_open(DependRelationId, AccessShareLock);
	ScanKeyInit(&key[0], dependents ? Anum_pg_depend_refclassid : Anum_pg_depend_classid,
				BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(classid));
	ScanKeyInit(&key[1], dependents ? Anum_pg_depend_refobjid : Anum_pg_depend_objid,
				BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(objid));
	scan = systable_beginscan(dep, dependents ? DependReferenceIndexId : DependDependerIndexId,
							  true, NULL, 2, key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend d = (Form_pg_depend) GETSTRUCT(tup);
		ObjectAddress *addr = palloc(sizeof(ObjectAddress));

		addr->classId = dependents ? d->classid : d->refclassid;
		addr->objectId = dependents ? d->objid : d->refobjid;
		addr->objectSubId = d->refobjsubid;
		result = lappend(result, addr);
	}
	systable_endscan(scan);
	table_close(dep, AccessShareLock);
	return result;
}

/* Whether view's query reads relid (its _RETURN rule depends on it). */
static bool
view_reads(Oid view, Oid relid)
{
	Oid			rule = get_rewrite_oid(view, "_RETURN", true);
	ListCell   *lc;

	if (!OidIsValid(rule))
		return false;
	foreach(lc, depend_rows(false, RewriteRelationId, rule))
	{
		ObjectAddress *ref = (ObjectAddress *) lfirst(lc);

		if (ref->classId == RelationRelationId && ref->objectId == relid)
			return true;
	}
	return false;
}

/*
 * The masking view of a table: the view privacy.masking_views names for
 * it, if that is a view of schema masked that reads the table (the
 * registry is writable by administrators: a name from it is not trusted
 * without this).  The catalogs, the extension's schema and schema masked
 * itself have none, and are not looked up.
 */
Oid
px_masking_view_of(Oid relid)
{
	Oid			relnsp = get_rel_namespace(relid);
	Oid			masked_nsp = get_namespace_oid("masked", true);
	Oid			registry = px_privacy_relid("masking_views");
	const char *view_name;
	Oid			view;

	if (!OidIsValid(relnsp) || !OidIsValid(masked_nsp) || !OidIsValid(registry) ||
		relnsp == PG_CATALOG_NAMESPACE || relnsp == masked_nsp || relnsp == px_schema_oid())
		return InvalidOid;
	view_name = registered_view_name(registry, relid);
	if (view_name == NULL)
		return InvalidOid;
	{
		/* to_regclass(): NULL, not an error, for a view that is gone. */
		LOCAL_FCINFO(fcinfo, 1);
		Datum		found;

		InitFunctionCallInfoData(*fcinfo, NULL, 1, InvalidOid, NULL, NULL);
		fcinfo->args[0].value = CStringGetTextDatum(view_name);
		fcinfo->args[0].isnull = false;
		found = to_regclass(fcinfo);
		view = fcinfo->isnull ? InvalidOid : DatumGetObjectId(found);
	}
	if (!OidIsValid(view) || get_rel_relkind(view) != RELKIND_VIEW ||
		get_rel_namespace(view) != masked_nsp || !view_reads(view, relid))
		return InvalidOid;
	return view;
}

static Oid
masking_view_of(FindContext *ctx, Oid relid)
{
	ListCell   *lc;
	LookedUp   *l;

	foreach(lc, ctx->looked_up)
	{
		l = (LookedUp *) lfirst(lc);
		if (l->relid == relid)
			return l->view;
	}
	l = palloc(sizeof(LookedUp));
	l->relid = relid;
	l->view = px_masking_view_of(relid);
	ctx->looked_up = lappend(ctx->looked_up, l);
	return l->view;
}

/*
 * The masking view of relid or, for a partition or an inheritance child,
 * of its nearest ancestor that has one: a child holds rows of its masked
 * parent, which a masked role reads only through the parent's view.
 */
static Oid
masking_view_covering(FindContext *ctx, Oid relid)
{
	Oid			view = masking_view_of(ctx, relid);
	Relation	inh;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *parents = NIL;
	ListCell   *lc;

	if (OidIsValid(view) || !has_superclass(relid))
		return view;
	inh = table_open(InheritsRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_inherits_inhrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(inh, InheritsRelidSeqnoIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
		parents = lappend_oid(parents, ((Form_pg_inherits) GETSTRUCT(tup))->inhparent);
	systable_endscan(scan);
	table_close(inh, AccessShareLock);
	foreach(lc, parents)
	{
		view = masking_view_covering(ctx, lfirst_oid(lc));
		if (OidIsValid(view))
			return view;
	}
	return InvalidOid;
}

/*
 * Whether a role is masked (privacy.masked_roles), asked for every relation
 * of every statement: kept per backend as the registries are (above), and
 * emptied by renaming or dropping a role too (the registry names roles).
 */
#define MASKED_ROLE_CACHE_SIZE 16
#define MASKED_ROLES_INVALIDATION_TRIGGER "masked_roles_cache_invalidation"

typedef struct MaskedRoleAnswer
{
	Oid			roleid;
	bool		masked;
} MaskedRoleAnswer;

static MaskedRoleAnswer masked_role_cache[MASKED_ROLE_CACHE_SIZE];
static int	masked_role_cache_len = 0;
static int	masked_role_cache_next = 0;
static Oid	masked_role_cache_registry = InvalidOid;
static bool masked_role_cache_listening = false;

static void
masked_role_cache_reset(void)
{
	masked_role_cache_len = 0;
	masked_role_cache_next = 0;
}

static void
masked_roles_relation_changed(Oid relid)
{
	if (!OidIsValid(relid) || relid == masked_role_cache_registry)
		masked_role_cache_reset();
}

static bool
role_is_masked(Oid roleid)
{
	Oid			registry = px_privacy_relid("masked_roles");
	bool		cacheable = !IsInParallelMode();
	char	   *user;
	NameData	name;
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	bool		masked;
	int			i;

	if (!OidIsValid(registry))
		return false;
	if (cacheable)
	{
		if (!masked_role_cache_listening)
		{
			px_catalog_on_relation_change(masked_roles_relation_changed);
			px_catalog_on_role_change(masked_role_cache_reset);
			masked_role_cache_listening = true;
		}
		if (registry != masked_role_cache_registry)
		{
			masked_role_cache_reset();
			masked_role_cache_registry = registry;
		}
		for (i = 0; i < masked_role_cache_len; i++)
			if (masked_role_cache[i].roleid == roleid)
				return masked_role_cache[i].masked;
	}
	user = GetUserNameFromId(roleid, true);
	if (user == NULL)
		return false;
	namestrcpy(&name, user);
	rel = table_open(registry, AccessShareLock);
	ScanKeyInit(&key, Anum_masked_roles_role_name, BTEqualStrategyNumber, F_NAMEEQ,
				NameGetDatum(&name));
	scan = systable_beginscan(rel, InvalidOid, false,
							  cacheable ? px_catalog_snapshot() : lookup_snapshot(), 1, &key);
	masked = HeapTupleIsValid(systable_getnext(scan));
	systable_endscan(scan);

	/*
	 * A change this snapshot does not see commits after it was taken, and
	 * sends its invalidation later still, emptying the cache again.
	 */
	if (cacheable && registry_invalidates(rel, MASKED_ROLES_INVALIDATION_TRIGGER) &&
		registry == masked_role_cache_registry)
	{
		masked_role_cache[masked_role_cache_next].roleid = roleid;
		masked_role_cache[masked_role_cache_next].masked = masked;
		masked_role_cache_next = (masked_role_cache_next + 1) % MASKED_ROLE_CACHE_SIZE;
		if (masked_role_cache_len < MASKED_ROLE_CACHE_SIZE)
			masked_role_cache_len++;
	}
	table_close(rel, AccessShareLock);
	return masked;
}

static bool
current_user_is_masked(void)
{
	return role_is_masked(GetUserId());
}

static void
refuse_write(Oid relid)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied for table %s", get_rel_name(relid)),
			 errdetail("Role \"%s\" is masked: it reads this table through its masking view and may not change it.",
					   GetUserNameFromId(GetUserId(), false)),
			 errhint("Change masked tables as a role that is not masked.")));
}

/*
 * A write of a table that a masked table references (masked_referencing):
 * whether it fails tells the masked table's keys.
 */
static void
refuse_referenced_write(Oid relid, Oid referencing, Oid user)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied for table %s", get_rel_name(relid)),
			 errdetail("Role \"%s\" is masked, and masked table %s has a foreign key to this table: whether a row may be deleted or its key changed would tell which values that table holds.",
					   GetUserNameFromId(user, false), get_rel_name(referencing)),
			 errhint("Delete, truncate or change the keys of this table as a role that is not masked.")));
}

static void
refuse_read(Oid relid, Oid view)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("masked role \"%s\" cannot read table %s in this statement",
					GetUserNameFromId(GetUserId(), false), get_rel_name(relid)),
			 errhint("Read it through its masking view, masked.%s.", quote_identifier(get_rel_name(view)))));
}

/* ---------------------------------------------------------------------
 * Finding the masked tables an analysed statement reads and writes
 * --------------------------------------------------------------------- */
static bool find_walker(Node *node, FindContext *ctx);
static Node *utility_query(Node *stmt);

static void
find_in_query(Query *q, FindContext *ctx)
{
	if (q->utilityStmt != NULL)
	{
		Node	   *inner = utility_query(q->utilityStmt);

		if (inner != NULL && IsA(inner, Query))
			find_in_query((Query *) inner, ctx);
	}
	if (q->resultRelation > 0 && q->commandType != CMD_SELECT &&
		q->resultRelation <= list_length(q->rtable))
	{
		RangeTblEntry *target = rt_fetch(q->resultRelation, q->rtable);

		if (target->rtekind == RTE_RELATION && OidIsValid(masking_view_of(ctx, target->relid)))
			ctx->written = target->relid;
	}
	(void) query_tree_walker(q, find_walker, ctx, QTW_EXAMINE_RTES_BEFORE);
}

static bool
find_walker(Node *node, FindContext *ctx)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		find_in_query((Query *) node, ctx);
		return false;
	}
	if (IsA(node, RangeTblEntry))
	{
		RangeTblEntry *rte = (RangeTblEntry *) node;

		/*
		 * A table read with another role's rights is a masking view's read,
		 * expanded here already: EXPLAIN calls this hook again on the query
		 * it was given.  No analysis of a statement's text sets it.
		 */
		if (rte->rtekind == RTE_RELATION && !OidIsValid(ctx->first_masked) &&
			!OidIsValid(rte->checkAsUser) &&
			OidIsValid(masking_view_of(ctx, rte->relid)))
			ctx->first_masked = rte->relid;
		return false;
	}
	return expression_tree_walker(node, find_walker, ctx);
}

/* ---------------------------------------------------------------------
 * Rewriting the statement's text: table names become view names
 * --------------------------------------------------------------------- */
typedef struct SubstituteContext
{
	FindContext *find;
	List	   *cte_names;		/* names WITH defines anywhere in the statement */
} SubstituteContext;

/* The query of a utility statement analysed with it, or NULL. */
static Node *
utility_query(Node *stmt)
{
	if (IsA(stmt, ExplainStmt))
		return ((ExplainStmt *) stmt)->query;
	if (IsA(stmt, CreateTableAsStmt))
		return ((CreateTableAsStmt *) stmt)->query;
	if (IsA(stmt, DeclareCursorStmt))
		return ((DeclareCursorStmt *) stmt)->query;
	return NULL;
}

static bool
cte_names_walker(Node *node, SubstituteContext *ctx)
{
	Node	   *inner;

	if (node == NULL)
		return false;
	if ((inner = utility_query(node)) != NULL)
		return cte_names_walker(inner, ctx);
	if (IsA(node, CommonTableExpr))
		ctx->cte_names = lappend(ctx->cte_names, ((CommonTableExpr *) node)->ctename);
	return raw_expression_tree_walker(node, cte_names_walker, ctx);
}

static bool
names_cte(SubstituteContext *ctx, RangeVar *rv)
{
	ListCell   *lc;

	if (rv->schemaname != NULL)
		return false;
	foreach(lc, ctx->cte_names)
		if (strcmp((char *) lfirst(lc), rv->relname) == 0)
			return true;
	return false;
}

/*
 * rv, naming a masked table, names its masking view instead (in place).
 * ONLY stays: PostgreSQL ignores it on a view, restrict_only_reads() gives
 * it its meaning.
 */
static void
substitute(RangeVar *rv, Oid view)
{
	if (rv->alias == NULL)
		rv->alias = makeAlias(rv->relname, NIL);
	rv->catalogname = NULL;
	rv->schemaname = get_namespace_name(get_rel_namespace(view));
	rv->relname = get_rel_name(view);
}

static bool
substitute_walker(Node *node, SubstituteContext *ctx)
{
	Node	   *inner;

	if (node == NULL)
		return false;
	if (IsA(node, RangeVar))
	{
		RangeVar   *rv = (RangeVar *) node;
		Oid			relid;
		Oid			view;

		/* A name WITH defines may mean the CTE: left alone (fails closed). */
		if (!names_cte(ctx, rv))
		{
			relid = RangeVarGetRelid(rv, NoLock, true);
			if (OidIsValid(relid) && OidIsValid(view = masking_view_of(ctx->find, relid)))
				substitute(rv, view);
		}
		return false;
	}
	/* Utility statements whose query is analysed with them. */
	if ((inner = utility_query(node)) != NULL)
		return substitute_walker(inner, ctx);
	return raw_expression_tree_walker(node, substitute_walker, ctx);
}

/* raw_parser(), or NIL where the text is not valid in that mode. */
static List *
parse_quietly(const char *text, RawParseMode mode)
{
	MemoryContext cxt = CurrentMemoryContext;
	List	   *result = NIL;

	PG_TRY();
	{
		result = raw_parser(text, mode);
	}
	PG_CATCH();
	{
		/* Only the parser ran: no lock, buffer or file to release. */
		MemoryContextSwitchTo(cxt);
		FlushErrorState();
		result = NIL;
	}
	PG_END_TRY();
	return result;
}

/* The raw statement at query's place in its text, parsed in mode. */
static Node *
statement_at_in_mode(ParseState *pstate, Query *query, RawParseMode mode)
{
	ListCell   *lc;

	if (pstate->p_sourcetext == NULL)
		return NULL;
	foreach(lc, parse_quietly(pstate->p_sourcetext, mode))
	{
		RawStmt    *raw = lfirst_node(RawStmt, lc);

		if (raw->stmt_location == query->stmt_location)
			return raw->stmt;
	}
	return NULL;
}

/* The raw statement at query's place, parsed as SQL statements are. */
static Node *
statement_at(ParseState *pstate, Query *query)
{
	return statement_at_in_mode(pstate, query, RAW_PARSE_DEFAULT);
}

/*
 * The statement whose analysis is query, in mode: queries analysed from
 * within another statement are found inside it.
 */
static Node *
find_raw_statement(ParseState *pstate, Query *query, RawParseMode mode)
{
	Node	   *stmt = statement_at_in_mode(pstate, query, mode);

	if (stmt != NULL && query->commandType != CMD_UTILITY)
	{
		if (IsA(stmt, ViewStmt))
			stmt = ((ViewStmt *) stmt)->query;
		else if (IsA(stmt, CopyStmt))
			stmt = ((CopyStmt *) stmt)->query;
		else if (IsA(stmt, PrepareStmt))
			stmt = ((PrepareStmt *) stmt)->query;
	}
	return stmt;
}

/*
 * Whether a new analysis has the shape of the first one: each table became
 * one view, nothing else changed in the range table or the target list.  A
 * text that two parse modes accept with different meanings ("(SELECT ...)"
 * is a statement, and a PL/pgSQL expression) is told apart by this.
 */
static bool
same_shape(Query *a, Query *b)
{
	return a->commandType == b->commandType &&
		list_length(a->rtable) == list_length(b->rtable) &&
		list_length(a->targetList) == list_length(b->targetList) &&
		(a->utilityStmt == NULL) == (b->utilityStmt == NULL);
}

/*
 * Analyses the statement of query again, with masking views for masked
 * tables, and puts the result in its place.  The text is parsed in each
 * mode PL/pgSQL may have used, until one gives back the statement analysed.
 */
static void
reanalyze(ParseState *pstate, Query *query, FindContext *find)
{
	static const RawParseMode modes[] = {
		RAW_PARSE_DEFAULT, RAW_PARSE_PLPGSQL_EXPR, RAW_PARSE_PLPGSQL_ASSIGN1,
		RAW_PARSE_PLPGSQL_ASSIGN2, RAW_PARSE_PLPGSQL_ASSIGN3
	};
	size_t		i;

	for (i = 0; i < lengthof(modes); i++)
	{
		Node	   *stmt = find_raw_statement(pstate, query, modes[i]);
		SubstituteContext sub = {find, NIL};
		RawStmt    *raw;
		ParseState *again;
		Query	   *masked;
		FindContext check = {find->looked_up, InvalidOid, InvalidOid};

		if (stmt == NULL)
			continue;
		(void) cte_names_walker(stmt, &sub);
		(void) substitute_walker(stmt, &sub);

		raw = makeNode(RawStmt);
		raw->stmt = stmt;
		raw->stmt_location = query->stmt_location;
		raw->stmt_len = query->stmt_len;
		again = make_parsestate(NULL);
		again->p_sourcetext = pstate->p_sourcetext;
		again->p_queryEnv = pstate->p_queryEnv;
		again->p_pre_columnref_hook = pstate->p_pre_columnref_hook;
		again->p_post_columnref_hook = pstate->p_post_columnref_hook;
		again->p_paramref_hook = pstate->p_paramref_hook;
		again->p_coerce_param_hook = pstate->p_coerce_param_hook;
		again->p_ref_hook_state = pstate->p_ref_hook_state;
		again->p_resolve_unknowns = pstate->p_resolve_unknowns;
		masked = transformTopLevelStmt(again, raw);
		free_parsestate(again);
		if (!same_shape(query, masked))
			continue;

		/* Every masked table must have gone: a CTE's name, say, hid one. */
		find_in_query(masked, &check);
		if (OidIsValid(check.first_masked))
			refuse_read(check.first_masked, masking_view_of(&check, check.first_masked));

		masked->queryId = query->queryId;
		masked->hasRowSecurity = true;
		*query = *masked;
		return;
	}
	refuse_read(find->first_masked, masking_view_of(find, find->first_masked));
}

/* ---------------------------------------------------------------------
 * COPY, LOCK and TRUNCATE
 * --------------------------------------------------------------------- */

/*
 * SELECT columns FROM [ONLY] view AS alias, for COPY (query) TO.  ONLY
 * where the view stands for a table: COPY of a table copies its own rows,
 * not its children's.
 */
static Node *
select_from_view(Oid view, const char *alias, List *columns, bool only)
{
	SelectStmt *sel = makeNode(SelectStmt);
	RangeVar   *rv = makeRangeVar(get_namespace_name(get_rel_namespace(view)),
								  get_rel_name(view), -1);
	ListCell   *lc;

	rv->alias = makeAlias(alias, NIL);
	rv->inh = !only;
	if (columns == NIL)
	{
		ColumnRef  *star = makeNode(ColumnRef);
		ResTarget  *target = makeNode(ResTarget);

		star->fields = list_make1(makeNode(A_Star));
		star->location = -1;
		target->val = (Node *) star;
		target->location = -1;
		sel->targetList = list_make1(target);
	}
	foreach(lc, columns)
	{
		ColumnRef  *column = makeNode(ColumnRef);
		ResTarget  *target = makeNode(ResTarget);

		column->fields = list_make1(makeString(pstrdup(strVal(lfirst(lc)))));
		column->location = -1;
		target->val = (Node *) column;
		target->location = -1;
		sel->targetList = lappend(sel->targetList, target);
	}
	sel->fromClause = list_make1(rv);
	return (Node *) sel;
}

static Oid	masked_descendant(FindContext *find, Oid relid);
static Oid	masked_referencing(FindContext *find, Oid relid, bool descendants,
							   RangeTblEntry *updating);

static void
mask_utility(Query *query)
{
	Node	   *stmt = query->utilityStmt;
	FindContext find = {NIL, InvalidOid, InvalidOid};
	ListCell   *lc;

	if (IsA(stmt, CopyStmt))
	{
		CopyStmt   *copy = (CopyStmt *) stmt;
		Oid			relid;
		Oid			view;

		if (copy->relation == NULL)
			return;
		relid = RangeVarGetRelid(copy->relation, NoLock, true);
		if (!OidIsValid(relid))
			return;
		/*
		 * COPY masked.<table> TO (what a masked role's search_path makes of
		 * COPY <table> TO): a view cannot be copied from; its query can.
		 */
		if (!copy->is_from && get_rel_relkind(relid) == RELKIND_VIEW &&
			get_rel_namespace(relid) == get_namespace_oid("masked", true))
		{
			copy = copyObject(copy);
			copy->query = select_from_view(relid, copy->relation->relname, copy->attlist, false);
			copy->relation = NULL;
			copy->attlist = NIL;
			query->utilityStmt = (Node *) copy;
			return;
		}
		if (!OidIsValid(view = masking_view_of(&find, relid)) || !current_user_is_masked())
			return;
		if (copy->is_from)
			refuse_write(relid);
		copy = copyObject(copy);
		copy->query = select_from_view(view, copy->relation->relname, copy->attlist, true);
		copy->relation = NULL;
		copy->attlist = NIL;
		query->utilityStmt = (Node *) copy;
	}
	else if (IsA(stmt, LockStmt))
	{
		LockStmt   *lock = (LockStmt *) stmt;
		List	   *relations = NIL;
		bool		changed = false;
		int			masked = -1;	/* not known yet */

		foreach(lc, lock->relations)
		{
			RangeVar   *rv = lfirst_node(RangeVar, lc);
			Oid			relid = RangeVarGetRelid(rv, NoLock, true);
			Oid			view;

			if (OidIsValid(relid) && OidIsValid(view = masking_view_of(&find, relid)))
			{
				if (masked < 0)
					masked = current_user_is_masked() ? 1 : 0;
				if (masked)
				{
					/* Locking the view locks the table with its owner's rights. */
					rv = makeRangeVar(get_namespace_name(get_rel_namespace(view)),
									  get_rel_name(view), rv->location);
					changed = true;
				}
			}
			relations = lappend(relations, rv);
		}
		if (changed)
		{
			lock = copyObject(lock);
			lock->relations = relations;
			query->utilityStmt = (Node *) lock;
		}
	}
	else if (IsA(stmt, TruncateStmt))
	{
		foreach(lc, ((TruncateStmt *) stmt)->relations)
		{
			RangeVar   *rv = lfirst_node(RangeVar, lc);
			Oid			relid = RangeVarGetRelid(rv, NoLock, true);

			/*
			 * A partition or child of a masked table is the masked table's
			 * rows; a parent (unless ONLY) empties its masked children too.
			 */
			Oid			referencing;

			if (!OidIsValid(relid) || !current_user_is_masked())
				continue;
			if (OidIsValid(masking_view_covering(&find, relid)) ||
				(rv->inh && OidIsValid(masked_descendant(&find, relid))))
				refuse_write(relid);
			/* CASCADE would empty the masked table, which refers to it. */
			if (OidIsValid(referencing = masked_referencing(&find, relid, rv->inh, NULL)))
				refuse_referenced_write(relid, referencing, GetUserId());
		}
	}
}

/* ---------------------------------------------------------------------
 * Sessions that may not expand views (pg_dump)
 *
 * pg_dump sets restrict_nonsystem_relation_kind = view, so that no view of
 * a user runs code in its session; the rewriter then refuses every view
 * it would expand, masking views too.  For a masked role the masking views
 * are the only way to its tables, and they are the extension's own
 * construction (schema masked holds views only, made by administrators):
 * they are expanded here, before the rewriter, the way the rewriter
 * expands a view (ApplyRetrieveRule): the view's query becomes a subquery,
 * the view's permission check stays on its entry in there (SELECT on the
 * view, as the querying role), its tables are read with its owner's
 * rights, and its security barrier stays.  Other views are still refused.
 * --------------------------------------------------------------------- */
/* Which views expand_in_query() and reads_masked_view_walker() look for. */
typedef struct MaskedViewReads
{
	Oid			masked_nsp;
	bool		only;			/* only views read ONLY */
} MaskedViewReads;

static bool expand_walker(Node *node, MaskedViewReads *which);

static void
expand_masking_view(Query *q, Index rti, RangeTblEntry *rte)
{
	Relation	view = table_open(rte->relid, NoLock);	/* locked by analysis */
	RuleLock   *rules = view->rd_rules;
	RewriteRule *rule;
	Query	   *action;
	RangeTblEntry *old;

	if (rules == NULL || rules->numLocks != 1 ||
		(rule = rules->rules[0])->event != CMD_SELECT || list_length(rule->actions) != 1)
		elog(ERROR, "masking view \"%s\" has no single SELECT rule", RelationGetRelationName(view));
	if (get_parse_rowmark(q, rti) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for view %s", RelationGetRelationName(view)),
				 errdetail("Masking views cannot lock rows.")));
	action = copyObject(linitial_node(Query, rule->actions));
	AcquireRewriteLocks(action, true, false);
	old = rt_fetch(PRS2_OLD_VARNO, action->rtable);
	Assert(old->relid == rte->relid);
	old->requiredPerms = rte->requiredPerms;
	old->checkAsUser = rte->checkAsUser;
	old->selectedCols = rte->selectedCols;

	rte->rtekind = RTE_SUBQUERY;
	rte->subquery = action;
	rte->security_barrier = RelationIsSecurityView(view);
	rte->relid = InvalidOid;
	rte->relkind = 0;
	rte->rellockmode = 0;
	rte->tablesample = NULL;
	rte->inh = false;
	rte->requiredPerms = 0;
	rte->checkAsUser = InvalidOid;
	rte->selectedCols = NULL;
	rte->insertedCols = NULL;
	rte->updatedCols = NULL;
	rte->extraUpdatedCols = NULL;
	table_close(view, NoLock);
}

/*
 * A view read ONLY (restrict_only_reads) has its reads of tables made ONLY
 * as it is expanded.
 */
static void
expand_in_query(Query *q, MaskedViewReads *which)
{
	ListCell   *lc;
	Index		rti = 0;

	foreach(lc, q->rtable)
	{
		RangeTblEntry *rte = (RangeTblEntry *) lfirst(lc);
		bool		only;
		ListCell   *inner;

		rti++;
		/* Entries no Var uses (a view's own OLD entry) are not read. */
		if (rte->rtekind != RTE_RELATION || rte->relkind != RELKIND_VIEW ||
			(which->only && rte->inh) || get_rel_namespace(rte->relid) != which->masked_nsp ||
			!rangeTableEntry_used((Node *) q, rti, 0))
			continue;
		only = !rte->inh;
		expand_masking_view(q, rti, rte);
		foreach(inner, only ? rte->subquery->rtable : NIL)
		{
			RangeTblEntry *read = (RangeTblEntry *) lfirst(inner);

			if (read->rtekind == RTE_RELATION && read->relkind != RELKIND_VIEW)
				read->inh = false;
		}
	}
	(void) query_tree_walker(q, expand_walker, which, 0);
}

static bool
expand_walker(Node *node, MaskedViewReads *which)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		expand_in_query((Query *) node, which);
		return false;
	}
	return expression_tree_walker(node, expand_walker, which);
}

/* Whether q reads a view of schema masked (ONLY, if asked), at any depth. */
static bool
reads_masked_view_walker(Node *node, MaskedViewReads *reads)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, reads_masked_view_walker, reads,
								 QTW_EXAMINE_RTES_BEFORE);
	if (IsA(node, RangeTblEntry))
	{
		RangeTblEntry *rte = (RangeTblEntry *) node;

		return rte->rtekind == RTE_RELATION && rte->relkind == RELKIND_VIEW &&
			get_rel_namespace(rte->relid) == reads->masked_nsp &&
			(!reads->only || !rte->inh);
	}
	return expression_tree_walker(node, reads_masked_view_walker, reads);
}

/*
 * The query of a masked role's statement in which its reads of masking
 * views (read ONLY, if reads->only) may be expanded, or NULL: the statement's
 * own query, or that of EXPLAIN or a cursor; not one that is stored (a
 * view's or a materialized view's), which must keep naming the view, nor,
 * unless plain_ctas, that of CREATE TABLE AS.  The cheap tests first: the
 * statement's text is parsed again only for a masked role reading a view.
 */
static Query *
masked_role_view_reads(ParseState *pstate, Query *query, bool plain_ctas, MaskedViewReads *reads)
{
	Query	   *target = query;
	Node	   *raw;

	if (query->commandType == CMD_UTILITY)
	{
		Node	   *stmt = query->utilityStmt;
		Node	   *inner = utility_query(stmt);

		if (inner == NULL || !IsA(inner, Query) ||
			(IsA(stmt, CreateTableAsStmt) &&
			 (!plain_ctas || ((CreateTableAsStmt *) stmt)->objtype != OBJECT_TABLE)))
			return NULL;
		target = (Query *) inner;
	}
	reads->masked_nsp = get_namespace_oid("masked", true);
	if (!OidIsValid(reads->masked_nsp) || !reads_masked_view_walker((Node *) target, reads) ||
		!current_user_is_masked())
		return NULL;
	/* The query of CREATE VIEW is stored: it keeps naming the view. */
	raw = statement_at(pstate, query);
	if (raw != NULL && IsA(raw, ViewStmt))
		return NULL;
	return target;
}

/*
 * In a session that may not expand views, a masked role's reads of masking
 * views are expanded here (pg_dump makes no CREATE TABLE AS).
 */
static void
expand_for_restricted_session(ParseState *pstate, Query *query)
{
	MaskedViewReads all = {InvalidOid, false};
	Query	   *target;

	if ((restrict_nonsystem_relation_kind & RESTRICT_RELKIND_VIEW) == 0)
		return;
	if ((target = masked_role_view_reads(pstate, query, false, &all)) != NULL)
		expand_in_query(target, &all);
}

/*
 * ONLY t, as a masked role writes it, reads t's own rows, masked: t's
 * masking view reads t with its children (substitute() keeps the ONLY, but
 * the rewriter ignores it on a view), so the view is expanded here and its
 * reads of tables made ONLY.  COPY t TO, which copies t's own rows, is
 * read ONLY the same way (select_from_view).  A masked role's own view
 * stores its query: there the view keeps its meaning, children included.
 */
static void
restrict_only_reads(ParseState *pstate, Query *query)
{
	MaskedViewReads only = {InvalidOid, true};
	Query	   *target;

	if ((target = masked_role_view_reads(pstate, query, true, &only)) != NULL)
	{
		expand_in_query(target, &only);
		/* A cached plan is analysed again for another role. */
		query->hasRowSecurity = true;
	}
}

/*
 * DDL of a masked role, refused before it runs when it would attach code to
 * a masked table (or a partition or child of one) or tie a table to one:
 * a CHECK constraint or an index expression is evaluated over every clear
 * row while the command runs (a NOTICE it raises is on its way to the
 * client before any ddl_command_end trigger could object), a trigger sees
 * each row written, and a foreign key to a masked table tells which values
 * it holds.  A new partition's bound is checked against the rows of the
 * parent's default partition, a table attached as a partition against its
 * bound (an error says whether some row is in a range), and an attached
 * table's rows are then read through its new parent.  Maintenance (VACUUM,
 * ANALYZE, REINDEX, CLUSTER, REFRESH MATERIALIZED VIEW) evaluates the
 * index, partial-index and statistics expressions over the clear rows (a
 * BRIN summary does in plain VACUUM too).  An owner, a database owner
 * (who may VACUUM and ANALYZE every table), or a role holding TRIGGER or
 * REFERENCES (through PUBLIC, say), could otherwise read what its queries
 * see masked.  Nor may it change what a masked table uses and others run
 * over its rows: a domain of its columns (refuse_masked_domain), a
 * function its objects call (refuse_masked_function).  The event trigger
 * privacy_masking_guards checks the objects the command made once more
 * (46_masking_guards.sql).
 */
#define MASKED_DDL_CODE "DDL on the table would run code over the rows it reads masked."
#define MASKED_DDL_REFERENCE "a foreign key would tell which values the table holds."
#define MASKED_DDL_PARTITION "partitions and children tied to the table are checked against its rows, or show them through another table."
#define MASKED_DDL_MAINTENANCE "maintenance evaluates the table's index and statistics expressions over the rows it reads masked."

/*
 * A partition or inheritance child of relid, at any level, whose rows a
 * masking view covers: its own, or that of another of its ancestors (a
 * child of two parents, one masked, holds masked rows that the other
 * parent would show).  InvalidOid: none.  relhassubclass first: a table
 * without children, the common case, costs no pg_inherits scan.
 */
static Oid
masked_descendant(FindContext *find, Oid relid)
{
	ListCell   *lc;

	if (!has_subclass(relid))
		return InvalidOid;
	foreach(lc, find_all_inheritors(relid, NoLock, NULL))
		if (lfirst_oid(lc) != relid && OidIsValid(masking_view_covering(find, lfirst_oid(lc))))
			return lfirst_oid(lc);
	return InvalidOid;
}

/*
 * The table whose TOAST table toast is (InvalidOid: none), by the TOAST
 * table's internal dependency on it.
 */
static Oid
toast_owner(Oid toast)
{
	Relation	dep = table_open(DependRelationId, AccessShareLock);
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			owner = InvalidOid;

	ScanKeyInit(&key[0], Anum_pg_depend_classid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(RelationRelationId));
	ScanKeyInit(&key[1], Anum_pg_depend_objid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(toast));
	scan = systable_beginscan(dep, DependDependerIndexId, true, NULL, 2, key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend d = (Form_pg_depend) GETSTRUCT(tup);

		if (d->deptype == DEPENDENCY_INTERNAL && d->refclassid == RelationRelationId)
		{
			owner = d->refobjid;
			break;
		}
	}
	systable_endscan(scan);
	table_close(dep, AccessShareLock);
	return owner;
}

/*
 * Whether relid holds rows of a masked table: it is one, a partition or
 * child of one, or the parent of one (commands on a parent recurse into
 * its partitions and children, and reading it reads theirs).
 */
static bool
holds_masked_rows(FindContext *find, Oid relid)
{
	return OidIsValid(masking_view_covering(find, relid)) ||
		OidIsValid(masked_descendant(find, relid));
}

/*
 * A relation holding masked rows (holds_masked_rows) with a column of type
 * typid, or of a type built on it: a domain over it (at any level), an
 * array or range of it, a composite type or a table whose row type has
 * such a column, used as a column type in turn.  Columns depend on their
 * type in pg_depend, as types do on the types they are built on.
 * InvalidOid: none.
 */
static Oid
masked_column_of_type(FindContext *find, Oid typid)
{
	List	   *pending = list_make1_oid(typid);
	List	   *seen = list_make1_oid(typid);

	while (pending != NIL)
	{
		Oid			type = linitial_oid(pending);
		ListCell   *lc;

		pending = list_delete_first(pending);
		foreach(lc, depend_rows(true, TypeRelationId, type))
		{
			ObjectAddress *dep = (ObjectAddress *) lfirst(lc);
			Oid			next = InvalidOid;

			if (dep->classId == TypeRelationId)
				next = dep->objectId;
			else if (dep->classId == RelationRelationId)
			{
				if (holds_masked_rows(find, dep->objectId))
					return dep->objectId;
				next = get_rel_type_id(dep->objectId);
			}
			if (OidIsValid(next) && !list_member_oid(seen, next))
			{
				seen = lappend_oid(seen, next);
				pending = lappend_oid(pending, next);
			}
		}
	}
	return InvalidOid;
}

/* A column of a catalog row found by its OID (InvalidOid: no such row). */
static Oid
catalog_row_oid(Oid catalog, Oid oidindex, AttrNumber oidcol, Oid objid, AttrNumber col)
{
	Relation	rel = table_open(catalog, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			result = InvalidOid;
	bool		isnull;

	ScanKeyInit(&key, oidcol, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(objid));
	scan = systable_beginscan(rel, oidindex, true, NULL, 1, &key);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Datum		value = heap_getattr(tup, col, RelationGetDescr(rel), &isnull);

		if (!isnull)
			result = DatumGetObjectId(value);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return result;
}

/*
 * The relation holding masked rows, if any, whose object is dep (a row of
 * pg_depend's dependent side): an index, a partition key, a constraint
 * (a domain's: its columns), a trigger, a default or generated column, a
 * policy, statistics, a rule (on the relation, or of a view or
 * materialized view reading it), a type (a domain's default, a range's
 * functions: its columns).
 */
static Oid
masked_relation_of_object(FindContext *find, ObjectAddress *dep)
{
	Oid			relid = InvalidOid;

	switch (dep->classId)
	{
		case RelationRelationId:
			relid = dep->objectId;
			if (get_rel_relkind(relid) == RELKIND_INDEX ||
				get_rel_relkind(relid) == RELKIND_PARTITIONED_INDEX)
				relid = IndexGetRelation(relid, true);
			break;
		case ConstraintRelationId:
			relid = catalog_row_oid(ConstraintRelationId, ConstraintOidIndexId,
									Anum_pg_constraint_oid, dep->objectId,
									Anum_pg_constraint_conrelid);
			if (!OidIsValid(relid))	/* a domain's */
				return masked_column_of_type(find,
											 catalog_row_oid(ConstraintRelationId, ConstraintOidIndexId,
															 Anum_pg_constraint_oid, dep->objectId,
															 Anum_pg_constraint_contypid));
			break;
		case TriggerRelationId:
			relid = catalog_row_oid(TriggerRelationId, TriggerOidIndexId,
									Anum_pg_trigger_oid, dep->objectId,
									Anum_pg_trigger_tgrelid);
			break;
		case AttrDefaultRelationId:
			relid = catalog_row_oid(AttrDefaultRelationId, AttrDefaultOidIndexId,
									Anum_pg_attrdef_oid, dep->objectId,
									Anum_pg_attrdef_adrelid);
			break;
		case PolicyRelationId:
			relid = catalog_row_oid(PolicyRelationId, PolicyOidIndexId,
									Anum_pg_policy_oid, dep->objectId,
									Anum_pg_policy_polrelid);
			break;
		case StatisticExtRelationId:
			relid = catalog_row_oid(StatisticExtRelationId, StatisticExtOidIndexId,
									Anum_pg_statistic_ext_oid, dep->objectId,
									Anum_pg_statistic_ext_stxrelid);
			break;
		case RewriteRelationId:
			{
				ListCell   *lc;

				relid = catalog_row_oid(RewriteRelationId, RewriteOidIndexId,
										Anum_pg_rewrite_oid, dep->objectId,
										Anum_pg_rewrite_ev_class);
				if (OidIsValid(relid) && holds_masked_rows(find, relid))
					return relid;
				foreach(lc, depend_rows(false, RewriteRelationId, dep->objectId))
				{
					ObjectAddress *ref = (ObjectAddress *) lfirst(lc);

					if (ref->classId == RelationRelationId && holds_masked_rows(find, ref->objectId))
						return ref->objectId;
				}
				return InvalidOid;
			}
		case TypeRelationId:
			return masked_column_of_type(find, dep->objectId);
		default:
			return InvalidOid;
	}
	return OidIsValid(relid) && holds_masked_rows(find, relid) ? relid : InvalidOid;
}

/*
 * A relation holding masked rows whose objects call funcid, directly or
 * through an operator, an aggregate or a SQL-standard function body
 * (BEGIN ATOMIC) that calls it: redefining the function changes code
 * others run over the clear rows (ANALYZE, REINDEX and autovacuum evaluate
 * index expressions, every write runs constraints, triggers and defaults,
 * every read the policies).  A function called from a PL/pgSQL body is not
 * in pg_depend: the README says so.  The extension's own functions (the
 * masking views call them) are not a masked role's to redefine.
 * InvalidOid: none.
 */
static Oid
masked_relation_calling(FindContext *find, Oid funcid)
{
	List	   *pending = NIL;
	List	   *seen_procs = list_make1_oid(funcid);
	List	   *seen_operators = NIL;
	ObjectAddress *start = palloc(sizeof(ObjectAddress));
	Oid			extension = get_extension_oid("privacy_ext", true);

	if (OidIsValid(extension) && getExtensionOfObject(ProcedureRelationId, funcid) == extension)
		return InvalidOid;
	start->classId = ProcedureRelationId;
	start->objectId = funcid;
	start->objectSubId = 0;
	pending = list_make1(start);
	while (pending != NIL)
	{
		ObjectAddress *obj = (ObjectAddress *) linitial(pending);
		ListCell   *lc;

		pending = list_delete_first(pending);
		foreach(lc, depend_rows(true, obj->classId, obj->objectId))
		{
			ObjectAddress *dep = (ObjectAddress *) lfirst(lc);
			Oid			relid;

			if (dep->classId == ProcedureRelationId)
			{
				if (!list_member_oid(seen_procs, dep->objectId))
				{
					seen_procs = lappend_oid(seen_procs, dep->objectId);
					pending = lappend(pending, dep);
				}
			}
			else if (dep->classId == OperatorRelationId)
			{
				if (!list_member_oid(seen_operators, dep->objectId))
				{
					seen_operators = lappend_oid(seen_operators, dep->objectId);
					pending = lappend(pending, dep);
				}
			}
			else if (OidIsValid(relid = masked_relation_of_object(find, dep)))
				return relid;
		}
	}
	return InvalidOid;
}

/*
 * Whether a write of relid touches column attnum: any write, without
 * updating (a DELETE, a TRUNCATE); else an UPDATE of the column, named in
 * updating (whose relation is relid or, for a child that the write
 * reaches through its parent, the parent: the same column by name).
 */
static bool
write_touches(RangeTblEntry *updating, Oid relid, AttrNumber attnum)
{
	AttrNumber	column = attnum;

	if (updating == NULL)
		return true;
	if (relid != updating->relid)
	{
		char	   *name = get_attname(relid, attnum, true);

		if (name == NULL)
			return false;
		column = get_attnum(updating->relid, name);
		if (column == InvalidAttrNumber)
			return false;
	}
	return bms_is_member(column - FirstLowInvalidHeapAttributeNumber, updating->updatedCols);
}

/*
 * A relation holding masked rows with a foreign key to relid (or, with
 * descendants, to a partition or child of it) on a column the write
 * touches (write_touches): whether a referenced row may be deleted, or
 * its key changed, tells which values the masked table holds (the error
 * even prints the key), and ON DELETE/UPDATE actions change its rows.
 * A foreign key depends on the referenced columns in pg_depend.
 * InvalidOid: none.
 */
static Oid
masked_referencing(FindContext *find, Oid relid, bool descendants, RangeTblEntry *updating)
{
	List	   *rels = list_make1_oid(relid);
	ListCell   *rl;

	if (descendants && has_subclass(relid))
		rels = find_all_inheritors(relid, NoLock, NULL);
	foreach(rl, rels)
	{
		Oid			rel = lfirst_oid(rl);
		ListCell   *lc;

		foreach(lc, depend_rows(true, RelationRelationId, rel))
		{
			ObjectAddress *dep = (ObjectAddress *) lfirst(lc);
			HeapTuple	tup;
			Form_pg_constraint con;
			Oid			referencing = InvalidOid;

			if (dep->classId != ConstraintRelationId || dep->objectSubId <= 0 ||
				!write_touches(updating, rel, dep->objectSubId))
				continue;
			tup = SearchSysCache1(CONSTROID, ObjectIdGetDatum(dep->objectId));
			if (!HeapTupleIsValid(tup))
				continue;
			con = (Form_pg_constraint) GETSTRUCT(tup);
			if (con->contype == CONSTRAINT_FOREIGN && con->confrelid == rel)
				referencing = con->conrelid;
			ReleaseSysCache(tup);
			if (OidIsValid(referencing) && holds_masked_rows(find, referencing))
				return referencing;
		}
	}
	return InvalidOid;
}

static void
refuse_masked_relid(FindContext *find, Oid relid, const char *action, const char *why)
{
	if (!OidIsValid(relid) || !holds_masked_rows(find, relid))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to %s masked table %s", action, get_rel_name(relid)),
			 errdetail("Role \"%s\" is masked: %s", GetUserNameFromId(GetUserId(), false), why),
			 errhint("Run it as a role that is not masked.")));
}

static void
refuse_masked_target(FindContext *find, RangeVar *rv, const char *action, const char *why)
{
	if (rv != NULL)
		refuse_masked_relid(find, RangeVarGetRelid(rv, NoLock, true), action, why);
}

static void
refuse_foreign_keys(FindContext *find, List *constraints)
{
	ListCell   *lc;

	foreach(lc, constraints)
	{
		Constraint *c = (Constraint *) lfirst(lc);

		if (IsA(c, Constraint) && c->contype == CONSTR_FOREIGN)
			refuse_masked_target(find, c->pktable, "reference", MASKED_DDL_REFERENCE);
	}
}

/*
 * A maintenance command without a relation processes every table the role
 * may maintain (its own; every table, for the database's owner), masked
 * ones too: a masked role names its tables.
 */
static void
refuse_maintain_all(const char *command)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("masked role \"%s\" cannot run %s without naming its tables",
					GetUserNameFromId(GetUserId(), false), command),
			 errdetail("It would also process the masked tables the role may maintain."),
			 errhint("Name the tables, or run it as a role that is not masked.")));
}

/* The statements guard_masked_ddl looks at. */
static bool
is_guarded_ddl(Node *stmt)
{
	switch (nodeTag(stmt))
	{
		case T_AlterTableStmt:
		case T_IndexStmt:
		case T_CreateTrigStmt:
		case T_RuleStmt:
		case T_CreatePolicyStmt:
		case T_AlterPolicyStmt:
		case T_CreateStatsStmt:
		case T_CreateStmt:
		case T_CreateForeignTableStmt:
		case T_VacuumStmt:
		case T_ReindexStmt:
		case T_ClusterStmt:
		case T_RefreshMatViewStmt:
		case T_AlterDomainStmt:
		case T_CreateFunctionStmt:
		case T_AlterFunctionStmt:
			return true;
		default:
			return false;
	}
}

/*
 * ALTER DOMAIN ... ADD CONSTRAINT, VALIDATE CONSTRAINT and SET NOT NULL
 * check every stored value of the domain (of every column of it, of a
 * domain over it, inside a composite type): a CHECK's function sees them,
 * and whether the command fails says whether some value passes a probe.
 * A domain's owner need not own the tables using it.  Dropping a
 * constraint, NOT NULL or a default reads no row.
 */
static void
refuse_masked_domain(FindContext *find, AlterDomainStmt *alter)
{
	Oid			domain;
	Oid			relid;

	if (alter->subtype != 'C' && alter->subtype != 'V' && alter->subtype != 'O')
		return;
	domain = LookupTypeNameOid(NULL, makeTypeNameFromNameList(alter->typeName), true);
	if (!OidIsValid(domain) || get_typtype(domain) != TYPTYPE_DOMAIN ||
		!OidIsValid(relid = masked_column_of_type(find, domain)))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to alter domain %s: masked table %s stores values of it",
					format_type_be(domain), get_rel_name(relid)),
			 errdetail("Role \"%s\" is masked: a constraint added to the domain, or validated, is checked against every stored value of it, the masked table's too.",
					   GetUserNameFromId(GetUserId(), false)),
			 errhint("Run it as a role that is not masked.")));
}

/*
 * The function CREATE OR REPLACE would replace (InvalidOid: it creates
 * one): the function of that name and signature in the schema it is
 * created in, as ProcedureCreate finds it (a procedure's OUT parameters
 * are in its signature, a function's are not).
 */
static Oid
replaced_function(CreateFunctionStmt *create)
{
	Oid			argtypes[FUNC_MAX_ARGS];
	int			nargs = 0;
	char	   *name;
	Oid			nsp;
	ListCell   *lc;

	if (!create->replace)
		return InvalidOid;
	foreach(lc, create->parameters)
	{
		FunctionParameter *param = lfirst_node(FunctionParameter, lc);

		if (param->mode == FUNC_PARAM_TABLE ||
			(param->mode == FUNC_PARAM_OUT && !create->is_procedure))
			continue;
		if (nargs >= FUNC_MAX_ARGS)
			return InvalidOid;
		argtypes[nargs] = LookupTypeNameOid(NULL, param->argType, true);
		if (!OidIsValid(argtypes[nargs]))
			return InvalidOid;	/* a type that does not exist: no such function */
		nargs++;
	}
	nsp = QualifiedNameGetCreationNamespace(create->funcname, &name);
	return GetSysCacheOid3(PROCNAMEARGSNSP, Anum_pg_proc_oid, CStringGetDatum(name),
						   PointerGetDatum(buildoidvector(argtypes, nargs)),
						   ObjectIdGetDatum(nsp));
}

/*
 * CREATE OR REPLACE and ALTER of a function that objects of a masked table
 * call (masked_relation_calling): a new body, SECURITY DEFINER or a SET
 * would run as others (a superuser's REINDEX, autovacuum, a writer that is
 * not masked) over the clear rows, and could copy them where the masked
 * role reads.
 */
static void
refuse_masked_function(FindContext *find, Oid funcid)
{
	Oid			relid;

	if (!OidIsValid(funcid) || !OidIsValid(relid = masked_relation_calling(find, funcid)))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to change function %s: an object of masked table %s calls it",
					format_procedure(funcid), get_rel_name(relid)),
			 errdetail("Role \"%s\" is masked: the function runs over the rows it reads masked when others write, read or maintain the table (an index, a constraint, a trigger, a default, a policy, a rule or statistics call it).",
					   GetUserNameFromId(GetUserId(), false)),
			 errhint("Run it as a role that is not masked.")));
}

static void
guard_masked_ddl(Node *stmt)
{
	FindContext find = {NIL, InvalidOid, InvalidOid};
	ListCell   *lc;

	switch (nodeTag(stmt))
	{
		case T_AlterTableStmt:
			refuse_masked_target(&find, ((AlterTableStmt *) stmt)->relation, "change", MASKED_DDL_CODE);
			foreach(lc, ((AlterTableStmt *) stmt)->cmds)
			{
				AlterTableCmd *cmd = (AlterTableCmd *) lfirst(lc);

				if (cmd->def == NULL)
					continue;
				if (IsA(cmd->def, Constraint))
					refuse_foreign_keys(&find, list_make1(cmd->def));
				else if (IsA(cmd->def, ColumnDef))
					refuse_foreign_keys(&find, ((ColumnDef *) cmd->def)->constraints);
				else if (IsA(cmd->def, PartitionCmd))	/* ATTACH, DETACH PARTITION */
					refuse_masked_target(&find, ((PartitionCmd *) cmd->def)->name, "partition",
										 MASKED_DDL_PARTITION);
				else if (IsA(cmd->def, RangeVar))	/* INHERIT, NO INHERIT */
					refuse_masked_target(&find, (RangeVar *) cmd->def, "inherit from",
										 MASKED_DDL_PARTITION);
			}
			break;
		case T_IndexStmt:
			refuse_masked_target(&find, ((IndexStmt *) stmt)->relation, "change", MASKED_DDL_CODE);
			break;
		case T_CreateTrigStmt:
			refuse_masked_target(&find, ((CreateTrigStmt *) stmt)->relation, "change", MASKED_DDL_CODE);
			break;
		case T_RuleStmt:
			refuse_masked_target(&find, ((RuleStmt *) stmt)->relation, "change", MASKED_DDL_CODE);
			break;
		case T_CreatePolicyStmt:
			refuse_masked_target(&find, ((CreatePolicyStmt *) stmt)->table, "change", MASKED_DDL_CODE);
			break;
		case T_AlterPolicyStmt:
			refuse_masked_target(&find, ((AlterPolicyStmt *) stmt)->table, "change", MASKED_DDL_CODE);
			break;
		case T_CreateStatsStmt:
			foreach(lc, ((CreateStatsStmt *) stmt)->relations)
				if (IsA(lfirst(lc), RangeVar))
					refuse_masked_target(&find, (RangeVar *) lfirst(lc), "change", MASKED_DDL_CODE);
			break;
		case T_CreateStmt:
		case T_CreateForeignTableStmt:	/* a CreateStmt first */
			{
				CreateStmt *create = (CreateStmt *) stmt;

				/* PARTITION OF names its parent here too. */
				foreach(lc, create->inhRelations)
					refuse_masked_target(&find, lfirst_node(RangeVar, lc),
										 create->partbound != NULL ? "partition" : "inherit from",
										 MASKED_DDL_PARTITION);
				refuse_foreign_keys(&find, create->constraints);
				foreach(lc, create->tableElts)
				{
					Node	   *elt = (Node *) lfirst(lc);

					if (IsA(elt, Constraint))
						refuse_foreign_keys(&find, list_make1(elt));
					else if (IsA(elt, ColumnDef))
						refuse_foreign_keys(&find, ((ColumnDef *) elt)->constraints);
				}
			}
			break;
		case T_VacuumStmt:
			{
				VacuumStmt *vacuum = (VacuumStmt *) stmt;
				const char *command = vacuum->is_vacuumcmd ? "VACUUM" : "ANALYZE";

				if (vacuum->rels == NIL)
					refuse_maintain_all(command);
				foreach(lc, vacuum->rels)
					refuse_masked_target(&find, lfirst_node(VacuumRelation, lc)->relation,
										 vacuum->is_vacuumcmd ? "vacuum" : "analyze",
										 MASKED_DDL_MAINTENANCE);
			}
			break;
		case T_ReindexStmt:
			{
				ReindexStmt *reindex = (ReindexStmt *) stmt;

				if (reindex->kind == REINDEX_OBJECT_SCHEMA)
					refuse_maintain_all("REINDEX SCHEMA");
				else if (reindex->kind == REINDEX_OBJECT_DATABASE)
					refuse_maintain_all("REINDEX DATABASE");
				else if (reindex->kind == REINDEX_OBJECT_TABLE)
					refuse_masked_target(&find, reindex->relation, "reindex", MASKED_DDL_MAINTENANCE);
				else if (reindex->kind == REINDEX_OBJECT_INDEX)
				{
					Oid			index = RangeVarGetRelid(reindex->relation, NoLock, true);

					if (OidIsValid(index))
						refuse_masked_relid(&find, IndexGetRelation(index, true), "reindex",
											MASKED_DDL_MAINTENANCE);
				}
				/* REINDEX SYSTEM: the catalogs, which have no masking view. */
			}
			break;
		case T_ClusterStmt:
			if (((ClusterStmt *) stmt)->relation == NULL)
				refuse_maintain_all("CLUSTER");
			refuse_masked_target(&find, ((ClusterStmt *) stmt)->relation, "cluster", MASKED_DDL_MAINTENANCE);
			break;
		case T_RefreshMatViewStmt:
			refuse_masked_target(&find, ((RefreshMatViewStmt *) stmt)->relation, "refresh",
								 MASKED_DDL_MAINTENANCE);
			break;
		case T_AlterDomainStmt:
			refuse_masked_domain(&find, (AlterDomainStmt *) stmt);
			break;
		case T_CreateFunctionStmt:
			refuse_masked_function(&find, replaced_function((CreateFunctionStmt *) stmt));
			break;
		case T_AlterFunctionStmt:
			{
				AlterFunctionStmt *alter = (AlterFunctionStmt *) stmt;

				refuse_masked_function(&find, LookupFuncWithArgs(alter->objtype, alter->func, true));
			}
			break;
		default:
			break;
	}
}

static void
mask_statement(ParseState *pstate, Query *query)
{
	FindContext find = {NIL, InvalidOid, InvalidOid};

	if (query->commandType == CMD_UTILITY)
	{
		Node	   *stmt = query->utilityStmt;

		if (is_guarded_ddl(stmt) && current_user_is_masked())
		{
			guard_masked_ddl(stmt);
			return;
		}
		if (IsA(stmt, CopyStmt) || IsA(stmt, LockStmt) || IsA(stmt, TruncateStmt))
		{
			mask_utility(query);
			return;
		}
		if (!IsA(stmt, ExplainStmt) && !IsA(stmt, CreateTableAsStmt) &&
			!IsA(stmt, DeclareCursorStmt))
			return;
	}
	find_in_query(query, &find);
	if (OidIsValid(find.first_masked) || OidIsValid(find.written))
	{
		/* Whoever analysed it, a cached plan is analysed again for another role. */
		query->hasRowSecurity = true;
		if (current_user_is_masked())
		{
			if (OidIsValid(find.written))
				refuse_write(find.written);
			reanalyze(pstate, query, &find);
		}
	}
	restrict_only_reads(pstate, query);
	expand_for_restricted_session(pstate, query);
}

static void
transparent_post_parse_analyze(ParseState *pstate, Query *query, JumbleState *jstate)
{
	if (prev_post_parse_analyze)
		prev_post_parse_analyze(pstate, query, jstate);
	if (in_transparent_masking || !IsTransactionState() || !OidIsValid(px_schema_oid()))
		return;
	in_transparent_masking = true;
	PG_TRY();
	{
		mask_statement(pstate, query);
	}
	PG_FINALLY();
	{
		in_transparent_masking = false;
	}
	PG_END_TRY();
}

/*
 * The executor's last check, for every path that reaches it without parse
 * analysis (a BEGIN ATOMIC body, a rule's action, a view made before the
 * role was masked, a role granted the table again through
 * pg_read_all_data or PUBLIC): no masked role reads or writes a masked
 * table with its own rights.  The table read inside its masking view is
 * read with the view owner's rights, and passes.
 */
static bool
transparent_check_perms(List *range_table, bool ereport_on_violation)
{
	FindContext find = {NIL, InvalidOid, InvalidOid};
	Oid			masked_user = InvalidOid;
	Oid			unmasked_user = InvalidOid;
	ListCell   *lc;

	if (prev_check_perms && !prev_check_perms(range_table, ereport_on_violation))
		return false;
	if (in_transparent_masking || !OidIsValid(px_schema_oid()))
		return true;
	foreach(lc, range_table)
	{
		RangeTblEntry *rte = (RangeTblEntry *) lfirst(lc);
		Oid			user;

		if (rte->rtekind != RTE_RELATION || rte->requiredPerms == 0 ||
			(rte->relkind != RELKIND_RELATION && rte->relkind != RELKIND_PARTITIONED_TABLE &&
			 rte->relkind != RELKIND_FOREIGN_TABLE && rte->relkind != RELKIND_MATVIEW &&
			 rte->relkind != RELKIND_TOASTVALUE))
			continue;
		user = OidIsValid(rte->checkAsUser) ? rte->checkAsUser : GetUserId();

		/*
		 * Planner statistics hold column values (most common values,
		 * histogram bounds).  pg_stats shows them to whoever may read the
		 * column, which a masked role may through PUBLIC or
		 * pg_read_all_data: a masked session reads none, whoever owns the
		 * view that reads them.
		 */
		if ((rte->relid == StatisticRelationId || rte->relid == StatisticExtDataRelationId) &&
			GetUserId() != unmasked_user && current_user_is_masked())
		{
			if (!ereport_on_violation)
				return false;
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied for planner statistics"),
					 errdetail("Role \"%s\" is masked: statistics show the values of the columns it reads masked.",
							   GetUserNameFromId(GetUserId(), false))));
		}
		if (user == unmasked_user)
			continue;
		if (get_rel_namespace(rte->relid) == PG_CATALOG_NAMESPACE)
			continue;
		if (user != masked_user)
		{
			if (!role_is_masked(user))
			{
				unmasked_user = user;
				continue;
			}
			masked_user = user;
		}

		/*
		 * A TOAST table (readable through pg_read_all_data) holds its
		 * table's long values out of line, in clear: a masked role reads
		 * none of a masked table's.
		 */
		if (rte->relkind == RELKIND_TOASTVALUE)
		{
			Oid			owner = toast_owner(rte->relid);

			if (!OidIsValid(owner) || !holds_masked_rows(&find, owner))
				continue;
			if (!ereport_on_violation)
				return false;
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied for table %s", get_rel_name(rte->relid)),
					 errdetail("Role \"%s\" is masked: this TOAST table holds the long values of %s, which it reads only masked.",
							   GetUserNameFromId(user, false), get_rel_name(owner))));
		}
		if (!OidIsValid(masking_view_covering(&find, rte->relid)))
		{
			Oid			descendant;
			Oid			referencing;

			/*
			 * A table a masked table references: deleting its rows, or
			 * changing the keys referenced, fails (or cascades) by the
			 * masked table's values.  An UPDATE of other columns, an
			 * INSERT, a read are the role's as before.
			 */
			if ((rte->requiredPerms & (ACL_DELETE | ACL_UPDATE)) &&
				OidIsValid(referencing = masked_referencing(&find, rte->relid, rte->inh,
															(rte->requiredPerms & ACL_DELETE) ? NULL : rte)))
			{
				if (!ereport_on_violation)
					return false;
				refuse_referenced_write(rte->relid, referencing, user);
			}

			/*
			 * A parent without a masking view, read or written with its
			 * children (not ONLY; an INSERT into a partitioned table is
			 * routed to its partitions): the children's entries the
			 * planner adds require no permission, so a masked partition or
			 * child is refused here, on its parent's entry.
			 */
			if (!rte->inh &&
				!(rte->relkind == RELKIND_PARTITIONED_TABLE && (rte->requiredPerms & ACL_INSERT)))
				continue;
			if (!OidIsValid(descendant = masked_descendant(&find, rte->relid)))
				continue;
			if (!ereport_on_violation)
				return false;
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied for table %s", get_rel_name(rte->relid)),
					 errdetail("Role \"%s\" is masked, and %s, a partition or child of this table, holds rows a masking view masks: through this table it would read or change them.",
							   GetUserNameFromId(user, false), get_rel_name(descendant)),
					 errhint("Create a masking view for %s too (privacy.create_masking_view), or read masked.%s; ONLY %s reads none of its children's rows.",
							 get_rel_name(rte->relid),
							 quote_identifier(get_rel_name(masking_view_covering(&find, descendant))),
							 get_rel_name(rte->relid))));
		}
		if (!ereport_on_violation)
			return false;
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s", get_rel_name(rte->relid)),
				 errdetail("Role \"%s\" is masked: it reads this table only through its masking view.",
						   GetUserNameFromId(user, false)),
				 errhint("Read it through its masking view, masked.%s.",
						 quote_identifier(get_rel_name(masking_view_covering(&find, rte->relid))))));
	}
	return true;
}

void
px_install_transparent_masking(void)
{
	prev_post_parse_analyze = post_parse_analyze_hook;
	post_parse_analyze_hook = transparent_post_parse_analyze;
	prev_check_perms = ExecutorCheckPerms_hook;
	ExecutorCheckPerms_hook = transparent_check_perms;
}
