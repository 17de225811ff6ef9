/*
 * consent/registry.c
 *		The purpose registry: purposes, who may use them, and the policy
 *		version that last required re-consent; and privacy.purpose's check.
 *
 * The registry is small and read for every statement, so it is cached per
 * backend and invalidated, like the key caches, by triggers on its tables
 * (through catalog.c's relcache callback), and on role changes.
 */
#include "errors.h"
#include "consent/registry.h"
#include "audit/counts.h"
#include "catalog.h"
#include "purpose_scope.h"

#include "access/genam.h"
#include "access/parallel.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "access/xact.h"
#include "catalog/pg_trigger.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "replication/walsender.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "commands/trigger.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "statement.h"


PxRegistry	px_registry;
uint64		px_registry_generation = 0;	/* bumped by every reload */

/* px_may_use_purpose() answers for one user, reset with the px_registry and on role changes. */
static Oid	may_use_user = InvalidOid;
static int8 *may_use_answer = NULL;		/* per purpose: -1 unknown, 0 no, 1 yes */

static void
roles_changed(void)
{
	may_use_user = InvalidOid;
}
static MemoryContext registry_cxt = NULL;
/* An invalidation came while the registry was being read: read it again next time. */
static bool registry_changed_in_load = false;
static Oid	registry_oids[5];
/* The statement epoch a registry read in parallel mode is good for; 0: any. */
static uint64 registry_read_in_epoch = 0;
static uint64 registry_content = 0;	/* registry_content_hash() of the last read */

static void
registry_invalidate(Oid relid)
{
	int			i;

	for (i = 0; i < 5; i++)
		if (!OidIsValid(relid) || relid == registry_oids[i])
		{
			px_registry.valid = false;
			registry_changed_in_load = true;
		}
}

int
px_find_purpose(const char *name)
{
	int			i;

	for (i = 0; i < px_registry.npurposes; i++)
		if (strcmp(px_registry.purposes[i].name, name) == 0)
			return i;
	return -1;
}

/*
 * Whether every change to consent_state runs privacy.consent_state_changed
 * (consent/watch.c), enabled ALWAYS, for every row and for TRUNCATE.  A set
 * of consenting subjects is kept across statements only then: a superuser
 * who disables the trigger turns the cache off, not the checks.
 */
static bool
change_trigger_in_place(Relation rel)
{
	TriggerDesc *td = rel->trigdesc;
	bool		rows = false;
	bool		truncate = false;
	int			i;

	if (td == NULL)
		return false;
	for (i = 0; i < td->numtriggers; i++)
	{
		Trigger    *t = &td->triggers[i];
		char	   *fn = get_func_name(t->tgfoid);

		if (fn == NULL || strcmp(fn, "consent_state_changed") != 0 ||
			get_func_namespace(t->tgfoid) != RelationGetNamespace(rel) ||
			t->tgenabled != TRIGGER_FIRES_ALWAYS || t->tgnattr != 0 || t->tgqual != NULL)
			continue;
		if (TRIGGER_FOR_ROW(t->tgtype) && TRIGGER_FOR_BEFORE(t->tgtype) &&
			TRIGGER_FOR_INSERT(t->tgtype) && TRIGGER_FOR_UPDATE(t->tgtype) &&
			TRIGGER_FOR_DELETE(t->tgtype))
			rows = true;
		if (TRIGGER_FOR_TRUNCATE(t->tgtype))
			truncate = true;
	}
	return rows && truncate;
}

/* What the registry says, as one hash: its purposes, grants and tables. */
static uint64
registry_content_hash(void)
{
	uint64		h = 0;
	int			i;

#define MIX(ptr, len) (h = hash_bytes_extended((const unsigned char *) (ptr), (len), h))
	for (i = 0; i < px_registry.npurposes; i++)
	{
		const PxPurpose *p = &px_registry.purposes[i];

		MIX(p->name, strlen(p->name) + 1);
		MIX(&p->needs_consent, sizeof(p->needs_consent));
		MIX(&p->parent, sizeof(p->parent));
	}
	MIX(&px_registry.npurposes, sizeof(int));
	for (i = 0; i < px_registry.ngrants; i++)
	{
		const PxPurposeGrant *g = &px_registry.grants[i];

		MIX(&g->purpose, sizeof(g->purpose));
		MIX(g->role, strlen(g->role) + 1);
	}
	MIX(&px_registry.ngrants, sizeof(int));
	MIX(&px_registry.min_ordinal, sizeof(px_registry.min_ordinal));
	MIX(&px_registry.consent_relid, sizeof(Oid));
	MIX(&px_registry.consent_index, sizeof(Oid));
	MIX(&px_registry.change_trigger_ok, sizeof(bool));
#undef MIX
	return h;
}

void
px_load_registry(void)
{
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tup;
	MemoryContext old;
	char	  **parents;
	int			cap;
	int			i;
	uint64		previous = registry_content;
	uint64		content;

	/*
	 * Read in parallel mode, the registry was read under the statement's
	 * snapshot (no newer one may be taken then), which may predate the
	 * change whose invalidation made it read: good for that statement
	 * only.
	 */
	bool		reread = false;

	if (px_registry.valid && registry_read_in_epoch != 0 &&
		registry_read_in_epoch != px_statement_epoch)
	{
		px_registry.valid = false;
		reread = true;
	}
	if (px_registry.valid)
		return;
	registry_read_in_epoch = IsInParallelMode() ? px_statement_epoch : 0;
	registry_changed_in_load = false;
	px_catalog_on_relation_change(registry_invalidate);
	if (registry_cxt == NULL)
		registry_cxt = AllocSetContextCreate(TopMemoryContext, "privacy_ext purposes",
											 ALLOCSET_SMALL_SIZES);
	MemoryContextReset(registry_cxt);
	may_use_answer = NULL;
	may_use_user = InvalidOid;
	old = MemoryContextSwitchTo(registry_cxt);
	memset(&px_registry, 0, sizeof(px_registry));

	cap = 16;
	px_registry.purposes = palloc(sizeof(PxPurpose) * cap);
	parents = palloc(sizeof(char *) * cap);
	rel = px_open_privacy_table("purposes", AccessShareLock, &registry_oids[0]);
	scan = systable_beginscan(rel, InvalidOid, false, px_catalog_snapshot(), 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		TupleDesc	desc = RelationGetDescr(rel);
		bool		isnull;
		PxPurpose  *p;
		Datum		parent;
		char	   *name;

		if (px_registry.npurposes == cap)
		{
			cap *= 2;
			px_registry.purposes = repalloc(px_registry.purposes, sizeof(PxPurpose) * cap);
			parents = repalloc(parents, sizeof(char *) * cap);
		}
		p = &px_registry.purposes[px_registry.npurposes];
		name = TextDatumGetCString(heap_getattr(tup, Anum_purposes_name, desc, &isnull));

		/*
		 * A name too long for the registry (created before 1.1 refused them,
		 * or written by a superuser) is left out, never cut: cut, it could be
		 * another purpose's name and lend that purpose its legal basis.  Left
		 * out, it cannot be declared, and a purpose naming it as parent
		 * inherits nothing from it.
		 */
		if (strlen(name) >= NAMEDATALEN)
			continue;
		strlcpy(p->name, name, NAMEDATALEN);
		p->needs_consent = strcmp(TextDatumGetCString(heap_getattr(tup, Anum_purposes_legal_basis,
																   desc, &isnull)), "consent") == 0;
		parent = heap_getattr(tup, Anum_purposes_parent, desc, &isnull);
		parents[px_registry.npurposes] = isnull ? NULL : TextDatumGetCString(parent);
		px_registry.npurposes++;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	for (i = 0; i < px_registry.npurposes; i++)
		px_registry.purposes[i].parent = parents[i] ? px_find_purpose(parents[i]) : -1;

	cap = 16;
	px_registry.grants = palloc(sizeof(PxPurposeGrant) * cap);
	rel = px_open_privacy_table("purpose_grants", AccessShareLock, &registry_oids[1]);
	scan = systable_beginscan(rel, InvalidOid, false, px_catalog_snapshot(), 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		TupleDesc	desc = RelationGetDescr(rel);
		bool		isnull;
		PxPurposeGrant *g;

		if (px_registry.ngrants == cap)
		{
			cap *= 2;
			px_registry.grants = repalloc(px_registry.grants, sizeof(PxPurposeGrant) * cap);
		}
		g = &px_registry.grants[px_registry.ngrants];
		g->purpose = px_find_purpose(TextDatumGetCString(heap_getattr(tup, Anum_purpose_grants_purpose,
																   desc, &isnull)));
		strlcpy(g->role, NameStr(*DatumGetName(heap_getattr(tup, Anum_purpose_grants_role, desc, &isnull))),
				NAMEDATALEN);
		px_registry.ngrants++;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	rel = px_open_privacy_table("policy_versions", AccessShareLock, &registry_oids[2]);
	scan = systable_beginscan(rel, InvalidOid, false, px_catalog_snapshot(), 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		TupleDesc	desc = RelationGetDescr(rel);
		bool		isnull;
		int32		ordinal = DatumGetInt32(heap_getattr(tup, Anum_policy_versions_ordinal, desc, &isnull));

		if (DatumGetBool(heap_getattr(tup, Anum_policy_versions_reconsent, desc, &isnull)) &&
			ordinal > px_registry.min_ordinal)
			px_registry.min_ordinal = ordinal;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	rel = px_open_privacy_table("consent_state", AccessShareLock, &px_registry.consent_relid);
	px_registry.consent_index = px_privacy_relid("consent_state_pkey");
	px_registry.change_trigger_ok = change_trigger_in_place(rel);

	/*
	 * Reading a set scans consent_state (about 13 us a page of ~135 rows,
	 * against about 3 us a probe): a backend reads one to keep after as many
	 * probes as half the table's pages, an eighth of what reading it costs,
	 * so a big table's scan is paid only by a backend that probes a lot.
	 */
	px_registry.cross_threshold = Max(PROBE_LIMIT, (int64) RelationGetNumberOfBlocks(rel) / 2);
	table_close(rel, AccessShareLock);
	registry_oids[3] = px_registry.consent_relid;
	registry_oids[4] = px_registry.consent_index;

	MemoryContextSwitchTo(old);
	/*
	 * A new generation drops what was derived from the old registry (call
	 * sites' purposes, the backend's consent sets).  A registry read in
	 * parallel mode is read again at the next statement (above), mostly to
	 * find it unchanged: that read keeps the generation when it is.
	 */
	content = registry_content_hash();
	if (!reread || content != previous)
		px_registry_generation++;
	registry_content = content;
	/* this call answers from what it read; the next one reads again */
	px_registry.valid = !registry_changed_in_load;
}

/* May the current user process data for purpose p (or is it superuser)? */
static bool
may_use_purpose_uncached(int p, Oid userid)
{
	int			i;

	if (superuser_arg(userid))
		return true;
	for (i = 0; i < px_registry.ngrants; i++)
	{
		Oid			role;

		if (px_registry.grants[i].purpose != p)
			continue;
		role = get_role_oid(px_registry.grants[i].role, true);
		if (OidIsValid(role) && has_privs_of_role(userid, role))
			return true;
	}
	return false;
}

/* px_may_use_purpose() for another role (not cached: a rare check). */
bool
px_may_use_purpose_as(int p, Oid userid)
{
	if (userid == GetUserId())
		return px_may_use_purpose(p);
	return may_use_purpose_uncached(p, userid);
}

bool
px_may_use_purpose(int p)
{
	Oid			userid = GetUserId();
	int			i;

	px_catalog_on_role_change(roles_changed);
	if (may_use_user != userid || may_use_answer == NULL)
	{
		may_use_answer = MemoryContextAlloc(registry_cxt, Max(px_registry.npurposes, 1));
		for (i = 0; i < px_registry.npurposes; i++)
			may_use_answer[i] = -1;
		may_use_user = userid;
	}
	if (may_use_answer[p] < 0)
		may_use_answer[p] = may_use_purpose_uncached(p, userid) ? 1 : 0;
	return may_use_answer[p] == 1;
}

/*
 * Check hook of privacy.purpose: an unknown purpose, or one the current
 * role was not granted, is refused and nothing is set.  Outside a
 * transaction (server start, a role's default) there is nothing to check
 * against; has_consent checks again when the purpose is used.
 */
bool
px_check_purpose(char **newval, void **extra, GucSource source)
{
	int			p;

	if (!px_purpose_scope_allows(*newval, source))
		return false;
	if (*newval == NULL || (*newval)[0] == '\0')
		return true;

	/*
	 * A parallel worker restores its leader's value, which the leader
	 * checked; has_consent() in the worker answers from the leader's
	 * decisions (consent/parallel.c).  Reading the registry here would also
	 * take the worker's first snapshot before the restore of
	 * transaction_deferrable, which then fails.
	 */
	if (InitializingParallelWorker || IsParallelWorker())
		return true;
	if (!IsTransactionState() || !OidIsValid(px_privacy_relid("purposes")))
		return true;

	/*
	 * A value checked without being set (PGC_S_TEST: a function's SET
	 * clause, ALTER ROLE ... SET) while function bodies are not checked:
	 * pg_restore creates functions before the purposes' rows are loaded,
	 * as it creates them before the schemas their search_path names.  The
	 * purpose is checked, as always, when the value is applied (a call of
	 * the function, a session start).
	 */
	if (source == PGC_S_TEST && !check_function_bodies)
		return true;
	px_statement_refresh();
	px_load_registry();
	p = px_find_purpose(*newval);
	if (p < 0)
	{
		GUC_check_errcode(ERRCODE_UNDEFINED_OBJECT);
		GUC_check_errmsg("processing purpose \"%s\" does not exist", px_name_for_message(*newval));
		return false;
	}
	if (!px_may_use_purpose(p))
	{
		GUC_check_errcode(ERRCODE_INSUFFICIENT_PRIVILEGE);
		GUC_check_errmsg("role \"%s\" may not process data for purpose \"%s\"",
						 GetUserNameFromId(GetUserId(), false), *newval);
		return false;
	}
	/*
	 * SET and set_config() declare a purpose, and so do a role's or a
	 * database's setting and the connection's options (a pooler's, or
	 * PGOPTIONS), applied as the session starts; other sources only
	 * restore one.
	 */
	if (source == PGC_S_SESSION || source == PGC_S_CLIENT || source == PGC_S_USER ||
		source == PGC_S_DATABASE || source == PGC_S_DATABASE_USER)
		px_audit_note_purpose(*newval);
	return true;
}

