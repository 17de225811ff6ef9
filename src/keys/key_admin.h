/*
 * keys/key_admin.h
 *		Key management: create, rotate, grant, revoke, destroy
 *		(keys/key_admin.c).
 */
#ifndef PX_KEY_ADMIN_H
#define PX_KEY_ADMIN_H

#include "postgres.h"

extern void px_check_key_name(const char *name);

/*
 * Overwrites, in place, the stored wrapped key bytes of key_id's version
 * (0: every version): what destroy_key and drop_key_version do before
 * their updates, and what a Citus node does when it applies theirs
 * (citus/sync_apply.c).  Not undone by a rollback.
 */
extern void px_wipe_wrapped_keys(uint32 key_id, uint32 version);

/*
 * Registers the commit-time overwrite of destroyed key material.  Called
 * first thing in _PG_init: PostgreSQL calls transaction callbacks newest
 * first, so every other privacy_ext pre-commit check, registered after it,
 * runs (and can still fail the commit) before any material is overwritten.
 */
extern void px_install_key_wipes(void);

#endif							/* PX_KEY_ADMIN_H */
