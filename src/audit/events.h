/*
 * audit/events.h
 *		The audit trail's events and the sinks they go to: privacy.audit,
 *		the server log and privacy.audit_log (audit/events.c).
 */
#ifndef PX_AUDIT_EVENTS_H
#define PX_AUDIT_EVENTS_H

#include "postgres.h"
#include "datatype/timestamp.h"
#include "utils/guc.h"

#define PX_AUDIT_SINK_LOG	0x01
#define PX_AUDIT_SINK_TABLE	0x02

/* The sinks privacy.audit names (PX_AUDIT_SINK_*); 0: auditing is off. */
extern int	px_audit_sinks;

typedef struct PxAuditEvent
{
	TimestampTz at;
	const char *action;
	const char *object;			/* NULL: none */
	int64		count;
	const char *detail;			/* JSON object text, or NULL */
	const char *session_user_name;
	const char *current_role_name;
	const char *purpose;		/* NULL or "": none declared */
} PxAuditEvent;

extern bool px_check_audit(char **newval, void **extra, GucSource source);
extern void px_assign_audit(const char *newval, void *extra);

/* An event that happens once, with the session's identity: written now. */
extern void px_audit_event(const char *action, const char *object, int64 count,
						   const char *detail);
extern char *px_audit_detail(const char *name, const char *value);

/*
 * Writes one event to the sinks; table_ok false: the log only (the table
 * cannot be written now).  px_audit_writing() tells the statement hooks
 * that the INSERT they see is the audit trail's own.
 */
extern void px_audit_write_event(const PxAuditEvent *ev, bool table_ok);
extern bool px_audit_writing(void);

/* What the log sink's lines start with, before a space and the event's JSON. */
#define PX_AUDIT_LOG_PREFIX "privacy_audit:"

/*
 * For the emit_log_hook: the text the server log gets for a report whose
 * message would be message there.  A message that reads as an audit event
 * (starts with "privacy_audit") but is not the log sink's own line comes
 * back marked as no event (palloc'd); any other comes back as it is.
 */
extern const char *px_audit_log_text(const ErrorData *edata, const char *message);
extern void px_install_audit_events(void);

#endif							/* PX_AUDIT_EVENTS_H */
