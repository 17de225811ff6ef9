/*
 * consent.c
 *		Purposes, the declared purpose (privacy.purpose) and has_consent(),
 *		the function row-level security policies of protected tables call.
 *
 * The purpose registry (purposes, who may use them, the policy version
 * that last required re-consent) is small and read for every statement, so
 * it is cached per backend and invalidated, like the key caches, by
 * triggers on its tables.  Consent itself is never cached across
 * statements: a withdrawal committed by another session is seen by the
 * next statement of every session.  Within a statement, has_consent first
 * probes the consent table's primary key; once a statement has probed many
 * subjects, it loads the consenting subjects of the purpose into a set of
 * 64-bit keyed hashes and answers from it.
 */
#include "privacy_ext.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

/* Column positions, as created by the extension script. */
#define Anum_purposes_name			1
#define Anum_purposes_legal_basis	2
#define Anum_purposes_parent		3
#define Anum_purpose_grants_purpose	1
#define Anum_purpose_grants_role	2
#define Anum_policy_versions_ordinal 1
#define Anum_policy_versions_reconsent 3
#define Anum_consent_subject		1
#define Anum_consent_purpose		2
#define Anum_consent_granted		3
#define Anum_consent_expires		4
#define Anum_consent_ordinal		5

/* Probes of the primary key before a statement switches to a hash set. */
#define PROBE_LIMIT 256
/* Largest set of consenting subjects one statement builds (16 bytes each). */
#define SET_LIMIT (16 * 1024 * 1024)
#define MAX_CHAIN 16

char	   *px_purpose = NULL;

typedef struct Purpose
{
	char		name[NAMEDATALEN];
	bool		needs_consent;	/* legal basis 'consent' */
	int			parent;			/* index, -1 for none */
} Purpose;

typedef struct PurposeGrant
{
	int			purpose;
	char		role[NAMEDATALEN];
} PurposeGrant;

typedef struct Registry
{
	bool		valid;
	int			npurposes;
	Purpose    *purposes;
	int			ngrants;
	PurposeGrant *grants;
	int32		min_ordinal;	/* consents under older policy versions are void */
	Oid			consent_relid;	/* privacy.consent_state and its primary key */
	Oid			consent_index;
} Registry;

static Registry registry;

/* may_use_purpose() answers for one user, reset with the registry and on role changes. */
static Oid	may_use_user = InvalidOid;
static int8 *may_use_answer = NULL;		/* per purpose: -1 unknown, 0 no, 1 yes */
static bool role_callback_set = false;

static void
roles_changed(Datum arg, int cacheid, uint32 hashvalue)
{
	may_use_user = InvalidOid;
}
static MemoryContext registry_cxt = NULL;
static Oid	registry_oids[5];
static bool registry_callback_set = false;

static void
registry_invalidate(Datum arg, Oid relid)
{
	int			i;

	for (i = 0; i < 5; i++)
		if (!OidIsValid(relid) || relid == registry_oids[i])
			registry.valid = false;
}

static Relation
open_privacy_table(const char *name, Oid *oid_out)
{
	Oid			nsp = get_namespace_oid("privacy", true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid(name, nsp) : InvalidOid;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("privacy_ext is not installed in this database")));
	if (oid_out)
		*oid_out = relid;
	return table_open(relid, AccessShareLock);
}

static Snapshot
registry_snapshot(void)
{
	return IsInParallelMode() ?
		(ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot()) :
		GetLatestSnapshot();
}

static int
find_purpose(const char *name)
{
	int			i;

	for (i = 0; i < registry.npurposes; i++)
		if (strcmp(registry.purposes[i].name, name) == 0)
			return i;
	return -1;
}

static void
load_registry(void)
{
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tup;
	MemoryContext old;
	char	  **parents;
	int			cap;
	int			i;

	if (registry.valid)
		return;
	if (!registry_callback_set)
	{
		CacheRegisterRelcacheCallback(registry_invalidate, (Datum) 0);
		registry_callback_set = true;
	}
	if (registry_cxt == NULL)
		registry_cxt = AllocSetContextCreate(TopMemoryContext, "privacy_ext purposes",
											 ALLOCSET_SMALL_SIZES);
	MemoryContextReset(registry_cxt);
	may_use_answer = NULL;
	may_use_user = InvalidOid;
	old = MemoryContextSwitchTo(registry_cxt);
	memset(&registry, 0, sizeof(registry));

	cap = 16;
	registry.purposes = palloc(sizeof(Purpose) * cap);
	parents = palloc(sizeof(char *) * cap);
	rel = open_privacy_table("purposes", &registry_oids[0]);
	scan = systable_beginscan(rel, InvalidOid, false, registry_snapshot(), 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		TupleDesc	desc = RelationGetDescr(rel);
		bool		isnull;
		Purpose    *p;
		Datum		parent;

		if (registry.npurposes == cap)
		{
			cap *= 2;
			registry.purposes = repalloc(registry.purposes, sizeof(Purpose) * cap);
			parents = repalloc(parents, sizeof(char *) * cap);
		}
		p = &registry.purposes[registry.npurposes];
		strlcpy(p->name, TextDatumGetCString(heap_getattr(tup, Anum_purposes_name, desc, &isnull)),
				NAMEDATALEN);
		p->needs_consent = strcmp(TextDatumGetCString(heap_getattr(tup, Anum_purposes_legal_basis,
																   desc, &isnull)), "consent") == 0;
		parent = heap_getattr(tup, Anum_purposes_parent, desc, &isnull);
		parents[registry.npurposes] = isnull ? NULL : TextDatumGetCString(parent);
		registry.npurposes++;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	for (i = 0; i < registry.npurposes; i++)
		registry.purposes[i].parent = parents[i] ? find_purpose(parents[i]) : -1;

	cap = 16;
	registry.grants = palloc(sizeof(PurposeGrant) * cap);
	rel = open_privacy_table("purpose_grants", &registry_oids[1]);
	scan = systable_beginscan(rel, InvalidOid, false, registry_snapshot(), 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		TupleDesc	desc = RelationGetDescr(rel);
		bool		isnull;
		PurposeGrant *g;

		if (registry.ngrants == cap)
		{
			cap *= 2;
			registry.grants = repalloc(registry.grants, sizeof(PurposeGrant) * cap);
		}
		g = &registry.grants[registry.ngrants];
		g->purpose = find_purpose(TextDatumGetCString(heap_getattr(tup, Anum_purpose_grants_purpose,
																   desc, &isnull)));
		strlcpy(g->role, NameStr(*DatumGetName(heap_getattr(tup, Anum_purpose_grants_role, desc, &isnull))),
				NAMEDATALEN);
		registry.ngrants++;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	rel = open_privacy_table("policy_versions", &registry_oids[2]);
	scan = systable_beginscan(rel, InvalidOid, false, registry_snapshot(), 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		TupleDesc	desc = RelationGetDescr(rel);
		bool		isnull;
		int32		ordinal = DatumGetInt32(heap_getattr(tup, Anum_policy_versions_ordinal, desc, &isnull));

		if (DatumGetBool(heap_getattr(tup, Anum_policy_versions_reconsent, desc, &isnull)) &&
			ordinal > registry.min_ordinal)
			registry.min_ordinal = ordinal;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	rel = open_privacy_table("consent_state", &registry.consent_relid);
	registry.consent_index = get_relname_relid("consent_state_pkey", RelationGetNamespace(rel));
	table_close(rel, AccessShareLock);
	registry_oids[3] = registry.consent_relid;
	registry_oids[4] = registry.consent_index;

	MemoryContextSwitchTo(old);
	registry.valid = true;
}

/* May the current user process data for purpose p (or is it superuser)? */
static bool
may_use_purpose_uncached(int p)
{
	Oid			userid = GetUserId();
	int			i;

	if (superuser_arg(userid))
		return true;
	for (i = 0; i < registry.ngrants; i++)
	{
		Oid			role;

		if (registry.grants[i].purpose != p)
			continue;
		role = get_role_oid(registry.grants[i].role, true);
		if (OidIsValid(role) && has_privs_of_role(userid, role))
			return true;
	}
	return false;
}

static bool
may_use_purpose(int p)
{
	Oid			userid = GetUserId();
	int			i;

	if (!role_callback_set)
	{
		CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, roles_changed, (Datum) 0);
		CacheRegisterSyscacheCallback(AUTHOID, roles_changed, (Datum) 0);
		role_callback_set = true;
	}
	if (may_use_user != userid || may_use_answer == NULL)
	{
		may_use_answer = MemoryContextAlloc(registry_cxt, Max(registry.npurposes, 1));
		for (i = 0; i < registry.npurposes; i++)
			may_use_answer[i] = -1;
		may_use_user = userid;
	}
	if (may_use_answer[p] < 0)
		may_use_answer[p] = may_use_purpose_uncached(p) ? 1 : 0;
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

	if (*newval == NULL || (*newval)[0] == '\0')
		return true;
	if (!IsTransactionState() || !OidIsValid(get_namespace_oid("privacy", true)) ||
		!OidIsValid(get_relname_relid("purposes", get_namespace_oid("privacy", true))))
		return true;
	load_registry();
	p = find_purpose(*newval);
	if (p < 0)
	{
		GUC_check_errcode(ERRCODE_UNDEFINED_OBJECT);
		GUC_check_errmsg("processing purpose \"%s\" does not exist", *newval);
		return false;
	}
	if (!may_use_purpose(p))
	{
		GUC_check_errcode(ERRCODE_INSUFFICIENT_PRIVILEGE);
		GUC_check_errmsg("role \"%s\" may not process data for purpose \"%s\"",
						 GetUserNameFromId(GetUserId(), false), *newval);
		return false;
	}
	/* SET and set_config() declare a purpose; other sources only restore one. */
	if (source == PGC_S_SESSION)
		px_audit_note_purpose(*newval);
	return true;
}

/* ---------------------------------------------------------------------
 * has_consent
 * --------------------------------------------------------------------- */
typedef struct SubjectSet
{
	uint64	   *slots;			/* 0 = empty */
	uint64		mask;
	uint64		count;
} SubjectSet;

typedef struct ConsentCache
{
	char		purpose[NAMEDATALEN];	/* resolved purpose ("" = none yet) */
	Oid			checked_user;
	bool		needs_consent;
	int			nchain;
	char		chain[MAX_CHAIN][NAMEDATALEN];	/* the purpose and its ancestors */
	Datum		chain_datum[MAX_CHAIN];	/* the same, as text */
	TimestampTz now;
	int			probes;
	bool		have_set;
	bool		set_overflow;
	SubjectSet	set;
} ConsentCache;

static uint64
subject_hash(const char *s, size_t len)
{
	uint64		h = hash_bytes_extended((const unsigned char *) s, (int) len, UINT64CONST(0x7072697661637921));

	return h == 0 ? 1 : h;
}

static void
set_add(SubjectSet *set, uint64 h)
{
	uint64		i = h & set->mask;

	while (set->slots[i] != 0)
	{
		if (set->slots[i] == h)
			return;
		i = (i + 1) & set->mask;
	}
	set->slots[i] = h;
	set->count++;
}

static bool
set_contains(const SubjectSet *set, uint64 h)
{
	uint64		i = h & set->mask;

	while (set->slots[i] != 0)
	{
		if (set->slots[i] == h)
			return true;
		i = (i + 1) & set->mask;
	}
	return false;
}

static bool
consent_row_valid(HeapTuple tup, TupleDesc desc, TimestampTz now)
{
	bool		isnull;
	Datum		expires;

	if (!DatumGetBool(heap_getattr(tup, Anum_consent_granted, desc, &isnull)) || isnull)
		return false;
	expires = heap_getattr(tup, Anum_consent_expires, desc, &isnull);
	if (!isnull && DatumGetTimestampTz(expires) <= now)
		return false;
	if (DatumGetInt32(heap_getattr(tup, Anum_consent_ordinal, desc, &isnull)) < registry.min_ordinal)
		return false;
	return true;
}

/* Valid consent of subject to one of the chain's purposes, by primary key. */
static bool
probe(ConsentCache *cc, const char *subject, size_t len)
{
	Relation	rel = table_open(registry.consent_relid, AccessShareLock);
	text	   *subj = cstring_to_text_with_len(subject, (int) len);
	bool		found = false;
	int			i;

	for (i = 0; i < cc->nchain && !found; i++)
	{
		ScanKeyData skey[2];
		SysScanDesc scan;
		HeapTuple	tup;

		ScanKeyEntryInitialize(&skey[0], 0, Anum_consent_subject, BTEqualStrategyNumber,
							   InvalidOid, C_COLLATION_OID, F_TEXTEQ, PointerGetDatum(subj));
		ScanKeyEntryInitialize(&skey[1], 0, Anum_consent_purpose, BTEqualStrategyNumber,
							   InvalidOid, C_COLLATION_OID, F_TEXTEQ, cc->chain_datum[i]);
		scan = systable_beginscan(rel, registry.consent_index, true, GetActiveSnapshot(), 2, skey);
		if (HeapTupleIsValid(tup = systable_getnext(scan)))
			found = consent_row_valid(tup, RelationGetDescr(rel), cc->now);
		systable_endscan(scan);
	}
	table_close(rel, AccessShareLock);
	return found;
}

/* Load every subject with valid consent to the chain into one hash set. */
static void
build_set(ConsentCache *cc, MemoryContext mcxt)
{
	Relation	rel = table_open(registry.consent_relid, AccessShareLock);
	uint64		cap = 1024;
	int			i;

	cc->set.slots = MemoryContextAllocZero(mcxt, sizeof(uint64) * cap);
	cc->set.mask = cap - 1;
	cc->set.count = 0;
	for (i = 0; i < cc->nchain && !cc->set_overflow; i++)
	{
		ScanKeyData skey;
		SysScanDesc scan;
		HeapTuple	tup;

		ScanKeyEntryInitialize(&skey, 0, Anum_consent_purpose, BTEqualStrategyNumber,
							   InvalidOid, C_COLLATION_OID, F_TEXTEQ, cc->chain_datum[i]);
		scan = systable_beginscan(rel, InvalidOid, false, GetActiveSnapshot(), 1, &skey);
		while (HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			bool		isnull;
			text	   *s;

			if (!consent_row_valid(tup, RelationGetDescr(rel), cc->now))
				continue;
			if (cc->set.count * 2 >= cap)
			{
				/* Grow: rehash into twice the slots, up to the limit. */
				SubjectSet	bigger;
				uint64		j;

				if (cap * 2 > SET_LIMIT)
				{
					cc->set_overflow = true;
					break;
				}
				bigger.slots = MemoryContextAllocZero(mcxt, sizeof(uint64) * cap * 2);
				bigger.mask = cap * 2 - 1;
				bigger.count = 0;
				for (j = 0; j < cap; j++)
					if (cc->set.slots[j] != 0)
						set_add(&bigger, cc->set.slots[j]);
				pfree(cc->set.slots);
				cc->set = bigger;
				cap *= 2;
			}
			s = DatumGetTextPP(heap_getattr(tup, Anum_consent_subject, RelationGetDescr(rel), &isnull));
			set_add(&cc->set, subject_hash(VARDATA_ANY(s), VARSIZE_ANY_EXHDR(s)));
		}
		systable_endscan(scan);
	}
	table_close(rel, AccessShareLock);
	if (cc->set_overflow)
	{
		/* Too many to hold: keep probing the index instead. */
		pfree(cc->set.slots);
		cc->set.slots = NULL;
		return;
	}
	cc->have_set = true;
}

/* Resolve the purpose (declared or given) for this call site. */
static ConsentCache *
consent_cache(FunctionCallInfo fcinfo, const char *purpose)
{
	ConsentCache *cc = (ConsentCache *) fcinfo->flinfo->fn_extra;
	int			p;

	if (cc != NULL && strcmp(cc->purpose, purpose) == 0 && cc->checked_user == GetUserId())
		return cc;
	load_registry();
	p = find_purpose(purpose);
	if (p < 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("processing purpose \"%s\" does not exist", purpose)));
	if (!may_use_purpose(p))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("role \"%s\" may not process data for purpose \"%s\"",
						GetUserNameFromId(GetUserId(), false), purpose),
				 errhint("A key administrator can allow it with privacy.grant_purpose().")));
	if (cc == NULL)
		cc = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(ConsentCache));
	else
	{
		if (cc->set.slots)
			pfree(cc->set.slots);
		memset(cc, 0, sizeof(ConsentCache));
	}
	strlcpy(cc->purpose, purpose, NAMEDATALEN);
	cc->checked_user = GetUserId();
	cc->needs_consent = registry.purposes[p].needs_consent;
	cc->now = GetCurrentStatementStartTimestamp();
	/* Consent to a parent purpose covers its children. */
	while (p >= 0 && cc->nchain < MAX_CHAIN)
	{
		strlcpy(cc->chain[cc->nchain], registry.purposes[p].name, NAMEDATALEN);
		cc->chain_datum[cc->nchain] =
			PointerGetDatum(MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, VARHDRSZ + NAMEDATALEN));
		SET_VARSIZE(DatumGetPointer(cc->chain_datum[cc->nchain]), VARHDRSZ + strlen(cc->chain[cc->nchain]));
		memcpy(VARDATA(DatumGetPointer(cc->chain_datum[cc->nchain])), cc->chain[cc->nchain],
			   strlen(cc->chain[cc->nchain]));
		cc->nchain++;
		p = registry.purposes[p].parent;
	}
	fcinfo->flinfo->fn_extra = cc;
	return cc;
}

static bool
has_consent(FunctionCallInfo fcinfo, const char *subject, size_t len, const char *purpose)
{
	ConsentCache *cc;

	/* A data-subject request reads all of the subject's rows. */
	if (unlikely(px_request_in_progress != PX_REQUEST_NONE))
		return true;
	/* No purpose declared: nothing is visible. */
	if (purpose == NULL || purpose[0] == '\0')
		return false;
	cc = consent_cache(fcinfo, purpose);
	if (!cc->needs_consent)
		return true;			/* another legal basis covers every subject */
	if (cc->have_set)
		return set_contains(&cc->set, subject_hash(subject, len));
	if (++cc->probes > PROBE_LIMIT && !cc->set_overflow)
	{
		build_set(cc, fcinfo->flinfo->fn_mcxt);
		if (cc->have_set)
			return set_contains(&cc->set, subject_hash(subject, len));
	}
	return probe(cc, subject, len);
}

/* The explicit purpose (second argument) or the declared one. */
static const char *
purpose_arg(FunctionCallInfo fcinfo)
{
	if (PG_NARGS() > 1)
		return PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	return px_purpose;
}

PG_FUNCTION_INFO_V1(px_has_consent_text);
Datum
px_has_consent_text(PG_FUNCTION_ARGS)
{
	text	   *subject;

	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(false);	/* no subject, no consent */
	subject = PG_GETARG_TEXT_PP(0);
	PG_RETURN_BOOL(has_consent(fcinfo, VARDATA_ANY(subject), VARSIZE_ANY_EXHDR(subject),
							   purpose_arg(fcinfo)));
}

/* Integer and uuid subjects are keyed by their text form, built here, not by a cast per row. */
PG_FUNCTION_INFO_V1(px_has_consent_int8);
Datum
px_has_consent_int8(PG_FUNCTION_ARGS)
{
	char		buf[32];
	int			n;

	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(false);
	n = snprintf(buf, sizeof(buf), INT64_FORMAT, PG_GETARG_INT64(0));
	PG_RETURN_BOOL(has_consent(fcinfo, buf, (size_t) n, purpose_arg(fcinfo)));
}

PG_FUNCTION_INFO_V1(px_has_consent_int4);
Datum
px_has_consent_int4(PG_FUNCTION_ARGS)
{
	char		buf[16];
	int			n;

	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(false);
	n = snprintf(buf, sizeof(buf), "%d", PG_GETARG_INT32(0));
	PG_RETURN_BOOL(has_consent(fcinfo, buf, (size_t) n, purpose_arg(fcinfo)));
}

PG_FUNCTION_INFO_V1(px_has_consent_uuid);
Datum
px_has_consent_uuid(PG_FUNCTION_ARGS)
{
	static const char hex[] = "0123456789abcdef";
	pg_uuid_t  *u;
	char		buf[37];
	int			i;
	int			n = 0;

	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(false);
	u = PG_GETARG_UUID_P(0);
	for (i = 0; i < UUID_LEN; i++)
	{
		if (i == 4 || i == 6 || i == 8 || i == 10)
			buf[n++] = '-';
		buf[n++] = hex[u->data[i] >> 4];
		buf[n++] = hex[u->data[i] & 0x0F];
	}
	PG_RETURN_BOOL(has_consent(fcinfo, buf, (size_t) n, purpose_arg(fcinfo)));
}
