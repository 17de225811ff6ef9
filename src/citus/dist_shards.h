/*
 * citus/dist_shards.h
 *		Hash-distributed tables and statements run on each of their shards
 *		(dist_shards.c).
 */
#ifndef PX_CITUS_DIST_SHARDS_H
#define PX_CITUS_DIST_SHARDS_H

#include "postgres.h"

/* What kind of Citus table a relation is. */
typedef enum PxCitusKind
{
	PX_CITUS_NONE,				/* not a Citus table, or no Citus */
	PX_CITUS_HASH,				/* hash-distributed */
	PX_CITUS_REFERENCE,			/* a reference table (a placement per node) */
	PX_CITUS_OTHER				/* a Citus local, append- or range-distributed table */
} PxCitusKind;

/*
 * relid's kind; for a hash-distributed table *dist_column (if not NULL) is
 * set to its distribution column's name, NULL otherwise.
 */
extern PxCitusKind px_citus_table_kind(Oid relid, char **dist_column);

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
