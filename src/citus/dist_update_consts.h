/*
 * citus/dist_update_consts.h
 *		UPDATE of a Citus table with envelopes already under the column's key
 *		(dist_update_consts.c).
 */
#ifndef PX_CITUS_DIST_UPDATE_CONSTS_H
#define PX_CITUS_DIST_UPDATE_CONSTS_H

#include "postgres.h"
#include "nodes/params.h"
#include "nodes/parsenodes.h"

/* Replaces key casts over envelopes already under the key by constants. */
extern void px_dist_fold_update_casts(Query *query, ParamListInfo params);

#endif							/* PX_CITUS_DIST_UPDATE_CONSTS_H */
