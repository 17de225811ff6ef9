/*
 * citus/dist_routing.h
 *		Deterministic lookups routed to one shard on Citus (dist_routing.c).
 */
#ifndef PX_CITUS_DIST_ROUTING_H
#define PX_CITUS_DIST_ROUTING_H

#include "postgres.h"

/* Installs the planner hook; without Citus it only passes queries on. */
extern void px_install_dist_routing(void);

#endif							/* PX_CITUS_DIST_ROUTING_H */
