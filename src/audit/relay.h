/*
 * audit/relay.h
 *		Audit counts of a Citus worker sent up to the coordinator, which
 *		writes the statement's events (audit/relay.c).
 */
#ifndef PX_AUDIT_RELAY_H
#define PX_AUDIT_RELAY_H

#include "postgres.h"

/* What the message says starts so; "v1" is the version of what follows. */
#define PX_AUDIT_RELAY_PREFIX "privacy_ext:audit-relay "

/*
 * In a session Citus opened: what was counted since the last relay, as
 * one message to the coordinator (nothing elsewhere).
 */
extern void px_audit_relay_pending(void);

/*
 * For the emit_log_hook, first: whether edata is a relay message, in which
 * case its counts are merged into the running statement's and it goes
 * neither to the server log nor to the client.  An error in a session
 * Citus opened sends the pending counts up before it.
 */
extern bool px_audit_relay_intercept(ErrorData *edata);

/*
 * Installs the executor hook that sends a worker's counts up when a run
 * ends, and on the coordinator refuses a statement reading protected
 * columns of a Citus table while the relay could not be heard.  After
 * px_install_audit_hooks().
 */
extern void px_install_audit_relay(void);

#endif							/* PX_AUDIT_RELAY_H */
