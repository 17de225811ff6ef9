/*
 * key_tables.h
 *		Column positions of privacy_ext's key tables, as created by
 *		sql/privacy_ext--1.0.sql (new columns go at the end).
 */
#ifndef PX_KEY_TABLES_H
#define PX_KEY_TABLES_H

#define Anum_data_keys_key_id			1
#define Anum_data_keys_name				2
#define Anum_data_keys_active_version	3
#define Anum_data_keys_destroyed_at		4

#define Anum_key_versions_key_id		1
#define Anum_key_versions_version		2
#define Anum_key_versions_wrapped_key	3
#define Anum_key_versions_root_check	4

#define Anum_key_grants_key_id			1
#define Anum_key_grants_grantee			2
#define Anum_key_grants_grantee_name	3

/* Which key table px_open_key_table() opens. */
#define PX_TABLE_KEYS		0
#define PX_TABLE_VERSIONS	1
#define PX_TABLE_GRANTS		2

/* Deterministic values always use this version's key: see key_store.c. */
#define PX_DET_KEY_VERSION 1

#include "utils/rel.h"
#include "storage/lockdefs.h"

extern Oid	px_key_table_oid(int which);
extern Relation px_open_key_table(int which, LOCKMODE lockmode);

#endif							/* PX_KEY_TABLES_H */
