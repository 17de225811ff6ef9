/*
 * keys/key_tables.h
 *		Direct access to privacy_ext's key tables (keys/key_store.c); their
 *		column positions are in catalog.h.
 */
#ifndef PX_KEY_TABLES_H
#define PX_KEY_TABLES_H

#include "catalog.h"

/* Which key table px_open_key_table() opens. */
#define PX_TABLE_KEYS		0
#define PX_TABLE_VERSIONS	1
#define PX_TABLE_GRANTS		2

/* Deterministic values always use this version's key: see keys/key_store.c. */
#define PX_DET_KEY_VERSION 1

#include "utils/rel.h"
#include "storage/lockdefs.h"

extern Oid	px_key_table_oid(int which);
extern Relation px_open_key_table(int which, LOCKMODE lockmode);

#endif							/* PX_KEY_TABLES_H */
