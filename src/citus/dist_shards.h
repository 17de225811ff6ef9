/*
 * citus/dist_shards.h
 *		Hash-distributed tables and statements run on each of their shards
 *		(dist_shards.c).
 */
#ifndef PX_CITUS_DIST_SHARDS_H
#define PX_CITUS_DIST_SHARDS_H

#include "postgres.h"

/* relid is a Citus table of any kind: distributed, reference (false without Citus). */
extern bool px_citus_table(Oid relid);

/* relid is a hash-distributed Citus table (false without Citus). */
extern bool px_citus_hash_distributed(Oid relid);

/*
 * Runs command_format on every shard of relid, on the node holding it, with
 * %L standing for the shard's name (a quoted literal; any other % doubled),
 * and returns the sum of the int8 each one returns.  Each shard's statement
 * commits on its node on its own: callers use it for work that may be done
 * again (an interrupted run is finished by running it again).  An ERROR
 * naming the shard when one fails.
 */
extern int64 px_citus_sum_over_shards(Oid relid, const char *command_format);

#endif							/* PX_CITUS_DIST_SHARDS_H */
