/*
 * keys/key_admin.h
 *		Key management: create, rotate, grant, revoke, destroy
 *		(keys/key_admin.c).
 */
#ifndef PX_KEY_ADMIN_H
#define PX_KEY_ADMIN_H

#include "postgres.h"

extern void px_check_key_name(const char *name);

#endif							/* PX_KEY_ADMIN_H */
