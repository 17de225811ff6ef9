/*
 * types/pending_literal.h
 *		Literals waiting, for the length of one parse analysis, to be sealed
 *		once under their column's key (types/pending_literal.c).
 *
 * PostgreSQL calls a type's input function for a quoted literal with
 * typmod -1 and only then applies the column's type modifier, so a literal
 * INSERTed into an encrypted column would be sealed twice: under the
 * session's transit key by the input, then opened and sealed under the
 * column's key by the length-coercion cast.  When the input function is
 * called by the parser to coerce an INSERT or UPDATE target (and only
 * then), it returns a *pending* value instead: a header naming no key and a
 * handle, with the plaintext kept in this backend's memory.  Before the
 * same parse analysis ends, types/literal_binding.c replaces every pending
 * value in the query: under a cast to a column's key it is sealed once
 * under that key; anywhere else it is sealed under the transit key, as
 * before.  A pending value never reaches the planner, the executor, a
 * catalog or the disk: a commit with one left over fails, and the memory is
 * wiped at the end of every (sub)transaction that made it.
 */
#ifndef PX_TYPES_PENDING_LITERAL_H
#define PX_TYPES_PENDING_LITERAL_H

#include "postgres.h"
#include "px_core.h"

/* Installs the transaction callbacks and learns the parser's error callback. */
extern void px_pending_literal_init(void);

/*
 * Whether the input function now running was called by the parser to
 * coerce a literal for an INSERT or UPDATE target column of a plain table
 * (no array, composite or range columns), in an analysis that ends in
 * post_parse_analyze_hook (not a rule action or a function body).
 */
extern bool px_literal_can_wait(void);

/* A pending value of type for the plaintext pt[0..len). */
extern bytea *px_literal_make_pending(px_value_type type, const char *pt, size_t len);

/*
 * The plaintext behind a pending value, or NULL when env is not one of this
 * backend's pending values.  *type is the value's type.
 */
extern const char *px_literal_pending_text(const bytea *env, px_value_type *type,
										   size_t *len);

/* Forgets (and wipes) a pending value once it is sealed. */
extern void px_literal_release(const bytea *env);

/* Number of pending values not yet sealed. */
extern int	px_literal_pending_count(void);

/*
 * Forgets (and wipes) the pending values the analysis whose top-level
 * ParseState is analysis made and that are not in its final tree: a hook
 * may have replaced the tree it analysed (transparent masking analyses a
 * masked role's statement again), so they can never be reached.
 */
extern void px_literal_release_analysis(const void *analysis);

/*
 * A mark of the pending values made so far, and the release (and wipe) of
 * those made since a mark and still pending: what an analysis that never
 * reaches post_parse_analyze_hook left behind (see literal_binding.c's
 * planner hook).
 */
extern uint64 px_literal_mark(void);
extern void px_literal_release_since(uint64 mark);

/* Utility statements whose analyses never reach post_parse_analyze_hook. */
extern void px_literal_enter_unhooked_utility(void);
extern void px_literal_leave_unhooked_utility(void);

#endif							/* PX_TYPES_PENDING_LITERAL_H */
