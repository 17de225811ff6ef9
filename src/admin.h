/*
 * admin.h
 *		Who administers privacy_ext, and running SQL as a table's owner
 *		(admin.c).
 */
#ifndef PX_ADMIN_H
#define PX_ADMIN_H

#include "postgres.h"

/* The role whose members administer keys, rules, purposes and requests. */
#define PX_ADMIN_ROLE "privacy_admin"

/* The role whose members may record consent (besides administrators). */
#define PX_CONSENT_MANAGER_ROLE "privacy_consent_manager"

/* Superuser, or a member of privacy_admin. */
extern bool px_is_privacy_admin(void);

/* Superuser, privacy_admin, or a member of privacy_consent_manager. */
extern bool px_is_consent_manager(void);

/* ERROR (42501) unless px_is_privacy_admin(): privacy.require_admin(). */
extern void px_require_privacy_admin(void);

/* ERROR (42501) unless px_is_privacy_admin(): the key-management check. */
extern void px_require_key_admin(void);

/*
 * Running as a table's owner: code that reads or writes a table on behalf
 * of the extension (the audit log, the columns under a key, a subject's
 * rows) runs as the owner in a security-restricted operation, so that it
 * neither depends on the caller's privileges nor lets the owner's code
 * (triggers, defaults) act with them.  px_become_owner saves the current
 * user in *saved; px_restore_user (in PG_FINALLY where an error may
 * follow) puts it back.
 */
/*
 * Running as another role (a table's owner, the extension's owner), in a
 * security-restricted operation and under search_path = pg_catalog,
 * pg_temp: the caller's search_path must not choose the functions and
 * operators of what runs with the other role's rights.
 */
typedef struct PxSavedUser
{
	Oid			userid;
	int			sec_context;
	int			guc_level;
	int			foreign_calls_level;	/* px_foreign_calls_as_owner_begin()'s, or -1 */
} PxSavedUser;

/*
 * Becoming a superuser (the extension's owner, the bootstrap superuser)
 * also opens a foreign_calls.h window: what PostgreSQL runs of other
 * roles' code over the tables read meanwhile runs as its owner.
 */
extern void px_become_owner(Oid owner, PxSavedUser *saved);

/*
 * px_become_owner for running a user table's owner's code (its triggers,
 * policies, defaults: static masking, data-subject requests, detection's
 * samples): refused (55000) to a caller without the owner's privileges
 * while the session has temporary tables or types, which unqualified names
 * in that code would find first.
 */
extern void px_become_table_owner(Oid relid, PxSavedUser *saved);
extern void px_restore_user(const PxSavedUser *saved);
/* The extension's owner; the caller is connected to SPI. */
extern Oid	px_extension_owner(void);

/*
 * SPI_execute_with_args as the extension's owner, in a security-restricted
 * operation: the writes to the key tables, which their administrators may
 * read but change only through the key functions (and so only with an
 * audit event).  The caller is connected to SPI.
 */
extern int	px_execute_as_extension_owner(const char *sql, int nargs, Oid *argtypes,
										  Datum *values, bool read_only, long count);

/* A relation's owner; InvalidOid if it is gone and missing_ok. */
extern Oid	px_relation_owner(Oid relid, bool missing_ok);

#endif							/* PX_ADMIN_H */
