/*
 * citus/dist_insert_select.h
 *		INSERT ... SELECT into encrypted columns, planned by Citus
 *		(dist_insert_select.c).
 */
#ifndef PX_CITUS_DIST_INSERT_SELECT_H
#define PX_CITUS_DIST_INSERT_SELECT_H

#include "postgres.h"
#include "nodes/parsenodes.h"

/* Moves the casts of an INSERT ... SELECT's outputs into the SELECT. */
extern void px_dist_move_insert_casts(Query *query);

#endif							/* PX_CITUS_DIST_INSERT_SELECT_H */
