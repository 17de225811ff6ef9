/*
 * statement.h
 *		Statement boundaries at every depth, and what is refreshed at them.
 *
 * "The next statement" of the contract (a revoke, a destroyed key, a
 * withdrawal, an expiry in force) means the next executor run at any depth:
 * a top-level statement, each statement of a PL/pgSQL or SQL function, each
 * FETCH of a cursor, each EXECUTE of a prepared statement, each utility
 * command, and every transaction start and end (a procedure's COMMIT).
 * Each such boundary bumps px_statement_epoch.  Per-call-site caches kept in
 * fn_extra (which PL/pgSQL keeps across statements, and a cursor across
 * FETCHes) record the epoch they were validated in and validate again when
 * it has moved; px_statement_refresh() first takes in the invalidations
 * other sessions committed, even when the statement's locks were already
 * held (when LockRelationOid would not have looked).
 */
#ifndef PX_STATEMENT_H
#define PX_STATEMENT_H

#include "postgres.h"
#include "datatype/timestamp.h"

extern uint64 px_statement_epoch;

/*
 * Whether the library was loaded at server start (shared_preload_libraries):
 * recorded when the hooks are installed and inherited by every backend.
 * Masking views and the log redaction need it (their hooks must be in place
 * before a session's first statement).
 */
extern bool px_loaded_at_start;

extern void px_install_statement_hooks(void);

/* Takes in pending invalidations once per epoch; call before revalidating. */
extern void px_statement_refresh(void);

/* The time consent expiry is judged at: taken once per epoch. */
extern TimestampTz px_statement_now(void);

/* Whether a cache validated in epoch *seen is still current (inline: per row). */
static inline bool
px_statement_current(uint64 seen)
{
	return seen == px_statement_epoch;
}

#endif							/* PX_STATEMENT_H */
