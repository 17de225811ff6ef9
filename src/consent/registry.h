/*
 * consent/registry.h
 *		The purpose registry: purposes, who may use them, the policy version
 *		that last required re-consent, cached per backend (consent/registry.c),
 *		and the check hook of privacy.purpose.
 */
#ifndef PX_CONSENT_REGISTRY_H
#define PX_CONSENT_REGISTRY_H

#include "postgres.h"
#include "utils/guc.h"

/* Probes of the primary key, in a statement or a backend, before reading a set. */
#define PROBE_LIMIT 256

typedef struct PxPurpose
{
	char		name[NAMEDATALEN];
	bool		needs_consent;	/* legal basis 'consent' */
	int			parent;			/* index, -1 for none */
} PxPurpose;

typedef struct PxPurposeGrant
{
	int			purpose;
	char		role[NAMEDATALEN];
} PxPurposeGrant;

typedef struct PxRegistry
{
	bool		valid;
	int			npurposes;
	PxPurpose  *purposes;
	int			ngrants;
	PxPurposeGrant *grants;
	int32		min_ordinal;	/* consents under older policy versions are void */
	Oid			consent_relid;	/* privacy.consent_state and its primary key */
	Oid			consent_index;
	bool		change_trigger_ok;	/* consent_state's change trigger is in place */
	int64		cross_threshold;	/* probes before a backend reads a set to keep */
} PxRegistry;

/* The registry as last loaded (read-only outside registry.c); valid until invalidated. */
extern PxRegistry px_registry;
/* Bumped by every reload: call sites holding purpose indexes compare it. */
extern uint64 px_registry_generation;

extern void px_load_registry(void);
extern int	px_find_purpose(const char *name);
extern bool px_may_use_purpose(int p);
extern bool px_may_use_purpose_as(int p, Oid userid);
extern bool px_check_purpose(char **newval, void **extra, GucSource source);

#endif							/* PX_CONSENT_REGISTRY_H */
