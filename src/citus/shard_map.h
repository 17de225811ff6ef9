/*
 * citus/shard_map.h
 *		Which Citus table a relation is a shard of (shard_map.c).  Found at
 *		run time from Citus's catalogs; without Citus no relation is a shard.
 */
#ifndef PX_CITUS_SHARD_MAP_H
#define PX_CITUS_SHARD_MAP_H

#include "postgres.h"

/*
 * The distributed or reference table relid is a shard of, or InvalidOid:
 * relid's name is the one Citus gives a shard of that table (the table's
 * name, "_", a shard id of the table in pg_dist_shard), in the table's
 * schema, with the table's owner.
 */
extern Oid	px_citus_shard_parent(Oid relid);

/*
 * Whether citus.so is loaded into this server (it defines citus.version):
 * a check without catalog access, for hooks to leave at once without Citus.
 * (citus_presence.c says whether the extension is created in the database.)
 */
extern bool px_citus_loaded(void);

#endif							/* PX_CITUS_SHARD_MAP_H */
