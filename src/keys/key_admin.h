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

#endif							/* PX_KEY_ADMIN_H */
