/*
 * purpose_scope.h
 *		The declared purpose (privacy.purpose), read by has_consent and the
 *		audit trail, and privacy.purpose_scope: whether a purpose may be
 *		declared for a whole session or only for a transaction (see
 *		purpose_scope.c).
 */
#ifndef PX_PURPOSE_SCOPE_H
#define PX_PURPOSE_SCOPE_H

#include "postgres.h"
#include "nodes/nodes.h"
#include "utils/guc.h"

typedef enum PxPurposeScope
{
	PX_PURPOSE_SCOPE_SESSION,
	PX_PURPOSE_SCOPE_TRANSACTION
} PxPurposeScope;

/* The value of privacy.purpose (checked by consent/registry.c). */
extern char *px_purpose;

extern int	px_purpose_scope;

extern void px_define_purpose_scope(void);

/* For privacy.purpose's check hook: may a value from source be taken? */
extern bool px_purpose_scope_allows(const char *newval, GucSource source);

/* Where the declared purpose is used: refuse one the scope does not allow. */
extern void px_purpose_scope_check_in_force(void);
extern const char *px_purpose_show(void);

/* After a utility command: RESET / TO DEFAULT never give the connection's purpose. */
extern void px_purpose_scope_after_utility(Node *parsetree);

#endif							/* PX_PURPOSE_SCOPE_H */
