/*
 * foreign_calls.h
 *		Code of other roles reached while privacy_ext reads user tables as a
 *		superuser runs as its own owner (foreign_calls.c).
 */
#ifndef PX_FOREIGN_CALLS_H
#define PX_FOREIGN_CALLS_H

#include "postgres.h"

/*
 * Between begin and end (nested freely; an error ends every window at the
 * end of its transaction), a function that is neither built in nor
 * privacy_ext's, called while the current user is a superuser, runs as its
 * owner in a security-restricted operation -- as if SECURITY DEFINER.
 * PostgreSQL runs such code when it plans or executes a query over a table
 * (an IMMUTABLE function of a partial index predicate, folded at plan
 * time; a domain's CHECK), and the roles whose code it is must never get a
 * superuser's rights from privacy_ext's own scans.
 */
/*
 * begin returns what end takes back; queries in the window get no parallel
 * workers (a worker would run such code outside it).
 */
extern int	px_foreign_calls_as_owner_begin(void);
extern void px_foreign_calls_as_owner_end(int guc_level);

extern void px_install_foreign_calls(void);

#endif							/* PX_FOREIGN_CALLS_H */
