/*
 * roles/role_names.h
 *		privacy_ext's registries that name roles follow DROP ROLE and
 *		ALTER ROLE ... RENAME (see role_names.c).
 */
#ifndef PX_ROLE_NAMES_H
#define PX_ROLE_NAMES_H

extern void px_install_role_names(void);

#endif							/* PX_ROLE_NAMES_H */
