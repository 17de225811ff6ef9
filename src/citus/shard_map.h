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

#endif							/* PX_CITUS_SHARD_MAP_H */
