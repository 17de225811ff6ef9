/*
 * citus/shard_view.c
 *		A masking view's query, sent by the Citus coordinator to the node of
 *		a shard, reads the shard with the view's rights.
 *
 * Citus expands views on the coordinator: a read of masked.<table> over a
 * distributed or reference table reaches each shard's node as the view's
 * query, a subquery of the shard, run there as the reader.  The reader
 * holds SELECT on the view, not on the table (mask_role takes it away), so
 * without this the node refuses the shard; and a deparsed subquery is no
 * security barrier any more.  Here, after parse analysis on that node, a
 * query level that has the masking view's shape is given back what the
 * view gives locally:
 *
 *	- it reads one relation, a shard of table T (citus/shard_map.c) that has
 *	  a masking view V, and the reader holds SELECT on V on this node;
 *	- every column of the shard it reads is the value of an apply_mask call
 *	  (the masking guard has checked that each names its own column and T),
 *	  or the subject given to has_consent; system columns are no data;
 *	- its WHERE is only has_consent calls, purpose markers and "true"
 *	  (citus/purpose_marker.c), and when T is protected, one of them asks
 *	  for the consent of the subject column; no sublinks, no aggregates,
 *	  no grouping, no set operations;
 *
 * then the shard is read with V's owner's rights (its checkAsUser, and so
 * the row security policies that would apply to V's owner) and, when the
 * level is a subquery, that subquery becomes a security barrier again, so
 * the reader's predicates run after the consent filter and see only masked
 * values.  A reader who writes such a query to a node by hand gets exactly
 * what V shows it, no more: the masked values of the consenting subjects.
 * Any other query is left alone (the node's permission checks refuse it).
 */
#include "errors.h"
#include "catalog.h"
#include "citus/shard_map.h"
#include "citus/shard_view.h"
#include "masking/transparent.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "parser/analyze.h"
#include "parser/parsetree.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/catcache.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

static post_parse_analyze_hook_type prev_post_parse_analyze = NULL;

#define MAX_FUNCS 16

typedef struct ShapeFuncs
{
	Oid			apply_mask[MAX_FUNCS];
	int			napply;
	Oid			has_consent[MAX_FUNCS];
	int			nconsent;
	Oid			marker[MAX_FUNCS];
	int			nmarker;
} ShapeFuncs;

static int
lookup_funcs(const char *name, Oid *oids)
{
	Oid			nsp = px_schema_oid();
	CatCList   *list;
	int			i;
	int			n = 0;

	if (!OidIsValid(nsp))
		return 0;
	list = SearchSysCacheList1(PROCNAMEARGSNSP, CStringGetDatum(name));
	for (i = 0; i < list->n_members && n < MAX_FUNCS; i++)
	{
		Form_pg_proc proc = (Form_pg_proc) GETSTRUCT(&list->members[i]->tuple);

		if (proc->pronamespace == nsp)
			oids[n++] = proc->oid;
	}
	ReleaseSysCacheList(list);
	return n;
}

static bool
in_list(Oid f, const Oid *oids, int n)
{
	int			i;

	for (i = 0; i < n; i++)
		if (oids[i] == f)
			return true;
	return false;
}

typedef struct ShapeContext
{
	ShapeFuncs *funcs;
	int			varno;			/* the shard's range table index */
	AttrNumber	subject;		/* T's subject column, 0: T is not protected */
	bool		ok;
} ShapeContext;

static Node *
strip_relabel(Node *n)
{
	while (n != NULL && IsA(n, RelabelType))
		n = (Node *) ((RelabelType *) n)->arg;
	return n;
}

/* Whether node is a Var of the shard at this level (of column attno if not 0). */
static bool
shard_var(Node *node, ShapeContext *ctx, AttrNumber attno)
{
	node = strip_relabel(node);
	return node != NULL && IsA(node, Var) && ((Var *) node)->varlevelsup == 0 &&
		((Var *) node)->varno == ctx->varno && ((Var *) node)->varattno > 0 &&
		(attno == 0 || ((Var *) node)->varattno == attno);
}

/* apply_mask(column, ...), or has_consent or a marker of the subject column */
static bool
allowed_reader(FuncExpr *f, ShapeContext *ctx)
{
	if (f->args == NIL)
		return false;
	if (in_list(f->funcid, ctx->funcs->apply_mask, ctx->funcs->napply))
		return shard_var(linitial(f->args), ctx, 0);
	if (ctx->subject != 0 && (in_list(f->funcid, ctx->funcs->has_consent, ctx->funcs->nconsent) ||
							  in_list(f->funcid, ctx->funcs->marker, ctx->funcs->nmarker)))
		return shard_var(linitial(f->args), ctx, ctx->subject);
	return false;
}

/* Every shard column read goes to apply_mask or has_consent. */
static bool
shape_walker(Node *node, ShapeContext *ctx)
{
	if (node == NULL || !ctx->ok)
		return false;
	if (IsA(node, Var))
	{
		Var		   *v = (Var *) node;

		if (v->varlevelsup == 0 && v->varno == ctx->varno && v->varattno >= 0)
			ctx->ok = false;
		return false;
	}
	if (IsA(node, FuncExpr))
	{
		FuncExpr   *f = (FuncExpr *) node;

		if (allowed_reader(f, ctx))
		{
			ListCell   *lc;

			for_each_from(lc, f->args, 1)
				if (shape_walker(lfirst(lc), ctx))
					return true;
			return false;
		}
	}
	if (IsA(node, SubLink) || IsA(node, Query))
	{
		ctx->ok = false;
		return false;
	}
	return expression_tree_walker(node, shape_walker, ctx);
}

/* T's subject column when T is protected (privacy.protected_tables), else NULL. */
static char *
protected_subject(Oid table)
{
	Oid			registry = px_privacy_relid("protected_tables");
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	char	   *subject = NULL;

	if (!OidIsValid(registry))
		return NULL;
	rel = table_open(registry, AccessShareLock);
	ScanKeyInit(&key, Anum_protected_tables_relid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(table));
	scan = systable_beginscan(rel, InvalidOid, false,
							  ActiveSnapshotSet() ? GetActiveSnapshot() : NULL, 1, &key);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, Anum_protected_tables_subject_column,
									 RelationGetDescr(rel), &isnull);

		if (!isnull)
			subject = pstrdup(NameStr(*DatumGetName(d)));
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return subject;
}

/*
 * The WHERE of a view-shaped level: only has_consent calls of the subject
 * column (at least one when T is protected), purpose markers and true.
 */
static bool
quals_shaped(Node *quals, ShapeContext *ctx)
{
	List	   *items;
	ListCell   *lc;
	bool		filtered = (ctx->subject == 0);

	if (quals == NULL)
		return filtered;
	items = IsA(quals, BoolExpr) && ((BoolExpr *) quals)->boolop == AND_EXPR ?
		((BoolExpr *) quals)->args : list_make1(quals);
	foreach(lc, items)
	{
		Node	   *item = lfirst(lc);
		FuncExpr   *f;

		/* Citus writes WHERE true for a subplan it reads whole. */
		if (IsA(item, Const) && ((Const *) item)->consttype == BOOLOID &&
			!((Const *) item)->constisnull && DatumGetBool(((Const *) item)->constvalue))
			continue;
		if (!IsA(item, FuncExpr))
			return false;
		f = (FuncExpr *) item;
		if (in_list(f->funcid, ctx->funcs->marker, ctx->funcs->nmarker))
			continue;
		if (ctx->subject == 0 || !in_list(f->funcid, ctx->funcs->has_consent, ctx->funcs->nconsent) ||
			!allowed_reader(f, ctx))
			return false;
		filtered = true;
	}
	/* And what the calls read: no other column of the shard. */
	(void) shape_walker(quals, ctx);
	return filtered && ctx->ok;
}

/* If q is a masking view's query over a shard: its shard's RTE and V's owner. */
static RangeTblEntry *
view_shaped(Query *q, ShapeFuncs *funcs, Oid *owner)
{
	RangeTblEntry *rte;
	RangeTblRef *ref;
	ShapeContext ctx;
	Oid			table;
	Oid			view;
	HeapTuple	tup;
	char	   *subject;

	if (q->commandType != CMD_SELECT || q->hasSubLinks || q->hasAggs || q->hasWindowFuncs ||
		q->hasTargetSRFs || q->setOperations != NULL || q->cteList != NIL ||
		q->groupClause != NIL || q->groupingSets != NIL || q->havingQual != NULL ||
		q->rowMarks != NIL || q->jointree == NULL ||
		list_length(q->rtable) != 1 || list_length(q->jointree->fromlist) != 1)
		return NULL;
	ref = (RangeTblRef *) linitial(q->jointree->fromlist);
	if (!IsA(ref, RangeTblRef) || ref->rtindex != 1)
		return NULL;
	rte = rt_fetch(1, q->rtable);
	if (rte->rtekind != RTE_RELATION || rte->requiredPerms != ACL_SELECT ||
		OidIsValid(rte->checkAsUser) || rte->tablesample != NULL)
		return NULL;
	table = px_citus_shard_parent(rte->relid);
	if (!OidIsValid(table) || !OidIsValid(view = px_masking_view_of(table)))
		return NULL;
	if (pg_class_aclcheck(view, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		return NULL;
	ctx.funcs = funcs;
	ctx.varno = 1;
	ctx.subject = 0;
	ctx.ok = true;
	subject = protected_subject(table);
	if (subject != NULL && (ctx.subject = get_attnum(rte->relid, subject)) == InvalidAttrNumber)
		return NULL;			/* protected, subject column not found: no view shape */
	(void) shape_walker((Node *) q->targetList, &ctx);
	(void) shape_walker((Node *) q->sortClause, &ctx);
	(void) shape_walker(q->limitCount, &ctx);
	(void) shape_walker(q->limitOffset, &ctx);
	if (!ctx.ok || !quals_shaped(q->jointree->quals, &ctx))
		return NULL;
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(view));
	if (!HeapTupleIsValid(tup))
		return NULL;
	*owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return rte;
}

static bool shard_view_walker(Node *node, ShapeFuncs *funcs);

static void
shard_view_query(Query *q, RangeTblEntry *enclosing, ShapeFuncs *funcs)
{
	RangeTblEntry *shard;
	Oid			owner;

	shard = view_shaped(q, funcs, &owner);
	if (shard != NULL)
	{
		shard->checkAsUser = owner;
		if (enclosing != NULL)
			enclosing->security_barrier = true;
		return;
	}
	(void) query_tree_walker(q, shard_view_walker, funcs, QTW_EXAMINE_RTES_BEFORE);
}

static bool
shard_view_walker(Node *node, ShapeFuncs *funcs)
{
	if (node == NULL)
		return false;
	if (IsA(node, RangeTblEntry))
	{
		RangeTblEntry *rte = (RangeTblEntry *) node;

		if (rte->rtekind == RTE_SUBQUERY && rte->subquery != NULL)
			shard_view_query(rte->subquery, rte, funcs);
		return false;			/* its subquery is done */
	}
	if (IsA(node, Query))
	{
		shard_view_query((Query *) node, NULL, funcs);
		return false;
	}
	return expression_tree_walker(node, shard_view_walker, funcs);
}

static void
px_shard_view_post_parse_analyze(ParseState *pstate, Query *query, JumbleState *jstate)
{
	ShapeFuncs	funcs;

	if (prev_post_parse_analyze)
		prev_post_parse_analyze(pstate, query, jstate);
	/* Cheap exits: no Citus, a utility statement (COPY's query comes here itself), no privacy schema. */
	if (query->utilityStmt != NULL || !px_citus_loaded())
		return;
	funcs.napply = lookup_funcs("apply_mask", funcs.apply_mask);
	if (funcs.napply == 0)
		return;
	funcs.nconsent = lookup_funcs("has_consent", funcs.has_consent);
	funcs.nmarker = lookup_funcs("shard_purpose", funcs.marker);
	shard_view_query(query, NULL, &funcs);
}

void
px_install_shard_view(void)
{
	prev_post_parse_analyze = post_parse_analyze_hook;
	post_parse_analyze_hook = px_shard_view_post_parse_analyze;
}
