/*
 * audit/events.h
 *		The audit trail: settings, events and the sinks they go to
 *		(audit/events.c), and counting values read per call site.
 */
#ifndef PX_AUDIT_EVENTS_H
#define PX_AUDIT_EVENTS_H

#include "postgres.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "px_core.h"

#define PX_AUDIT_SINK_LOG	0x01
#define PX_AUDIT_SINK_TABLE	0x02

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

extern int	px_audit_sinks;
extern uint64 px_audit_generation;
extern int	px_audit_suppressed;

extern bool px_check_audit(char **newval, void **extra, GucSource source);
extern void px_assign_audit(const char *newval, void *extra);
extern void px_install_audit_hooks(void);
extern void px_audit_event(const char *action, const char *object, int64 count,
						   const char *detail);
extern char *px_audit_detail(const char *name, const char *value);
extern void px_audit_note_purpose(const char *purpose);
extern void px_audit_bind(PxAuditSite *site, FmgrInfo *flinfo, PxAuditAction action,
						  Oid relid, const char *column, uint32 key_id);

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

/* Whether the site's counter counts key_id's values read now. */
static inline bool
px_audit_site_bound(const PxAuditSite *site, uint32 key_id)
{
	return site->generation == px_audit_generation && site->key_id == key_id &&
		site->userid == GetUserId();
}

/* One more value under key_id read at this call site (inline: per row). */
static inline void
px_audit_count(PxAuditSite *site, FmgrInfo *flinfo, PxAuditAction action,
			   Oid relid, const char *column, uint32 key_id)
{
	if (!px_audit_counting())
		return;
	if (unlikely(!px_audit_site_bound(site, key_id)))
		px_audit_bind(site, flinfo, action, relid, column, key_id);
	(*site->counter)++;
}

#endif							/* PX_AUDIT_EVENTS_H */
