/*
 * audit/counts.h
 *		Counting values read per call site for the audit trail, and the
 *		statement hooks that flush the counts as events (audit/counts.c).
 */
#ifndef PX_AUDIT_COUNTS_H
#define PX_AUDIT_COUNTS_H

#include "postgres.h"
#include "executor/execdesc.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "audit/events.h"
#include "px_core.h"

typedef enum PxAuditAction
{
	PX_AUDIT_DECRYPT,
	PX_AUDIT_MASKED_READ,
	PX_AUDIT_UNMASK
} PxAuditAction;

/*
 * A call site's counter for the current statement (in its fn_extra): bound
 * to one statement, one key and one role; a value under another key, or
 * read under another role (a SECURITY DEFINER function), binds again.  The
 * column a decrypt call site reads is resolved once per statement and kept
 * here, so that a site alternating between keys row by row rebinds with a
 * hash lookup, without walking the plan again.  Zero-initialized.
 */
typedef struct PxAuditSite
{
	uint64		generation;
	uint32		key_id;
	Oid			userid;
	int64	   *counter;
	uint64		column_generation;	/* statement the column was resolved in */
	const void *column_query;	/* ... and the query running then */
	Oid			column_relid;	/* InvalidOid: not a table column */
	NameData	column_name;
} PxAuditSite;

extern uint64 px_audit_generation;
extern int	px_audit_suppressed;

extern void px_install_audit_hooks(void);
extern const char *px_audit_action_name(PxAuditAction action);
extern void px_audit_merge_relayed(PxAuditAction action, Oid relid, const char *column,
								   uint32 key_id, int64 count);

/* A counter's names and what it counted since last taken; never a value. */
typedef struct PxAuditRelayItem
{
	const char *action;			/* "decrypt", "masked_read", "unmask" */
	const char *schema;			/* "": not a table column */
	const char *table;
	const char *column;
	const char *key_name;		/* "": none */
	int64		count;
} PxAuditRelayItem;

extern int	px_audit_take_relay(PxAuditRelayItem **items);

/* Called before the counts are written as events (audit/relay.c sets it). */
extern void (*px_audit_before_flush) (void);
/*
 * Called when an outermost executor run starts (inside its depth, so the
 * callback's own queries are nested) and after it ends; audit/relay.c sets
 * them, so that statement boundaries are tracked by one executor hook.
 */
extern void (*px_audit_outermost_run_start) (QueryDesc *queryDesc);
extern void (*px_audit_outermost_run_end) (void);
extern void px_audit_note_purpose(const char *purpose);
extern void px_audit_bind(PxAuditSite *site, FmgrInfo *flinfo, PxAuditAction action,
						  Oid relid, const char *column, uint32 key_id);

/*
 * A data-subject request is audited as one event, not as the values it
 * reads: it suspends counting while its own code runs, and resumes it
 * around code of a table's owner it fires (subjects.c).  Nested; put back
 * to counting at every transaction abort (counts.c).
 */
static inline void
px_audit_suspend(void)
{
	px_audit_suppressed++;
}

static inline void
px_audit_resume(void)
{
	px_audit_suppressed--;
}

/* Whether values read now are counted: auditing is on, no request running. */
static inline bool
px_audit_counting(void)
{
	return px_audit_sinks != 0 && px_audit_suppressed == 0;
}

/* The key id an envelope names, for an audit counter (0 if unreadable). */
static inline uint32
px_audit_key_of(const uint8_t *env, size_t len)
{
	px_header	hdr;

	return px_header_read(env, len, &hdr) == PX_OK ? hdr.key_id : 0;
}

/* Whether the site's counter counts key_id's values read now by userid. */
static inline bool
px_audit_site_bound(const PxAuditSite *site, uint32 key_id, Oid userid)
{
	return site->generation == px_audit_generation && site->key_id == key_id &&
		site->userid == userid;
}

/*
 * One more value under key_id read at this call site by userid, which the
 * caller read with GetUserId() for this value already (a per-row path that
 * checked its own cache against it need not call it twice).
 */
static inline void
px_audit_count_as(PxAuditSite *site, FmgrInfo *flinfo, PxAuditAction action,
				  Oid relid, const char *column, uint32 key_id, Oid userid)
{
	if (!px_audit_counting())
		return;
	if (unlikely(!px_audit_site_bound(site, key_id, userid)))
		px_audit_bind(site, flinfo, action, relid, column, key_id);
	(*site->counter)++;
}

/* One more value under key_id read at this call site (inline: per row). */
static inline void
px_audit_count(PxAuditSite *site, FmgrInfo *flinfo, PxAuditAction action,
			   Oid relid, const char *column, uint32 key_id)
{
	if (!px_audit_counting())
		return;
	if (unlikely(!px_audit_site_bound(site, key_id, GetUserId())))
		px_audit_bind(site, flinfo, action, relid, column, key_id);
	(*site->counter)++;
}

#endif							/* PX_AUDIT_COUNTS_H */
