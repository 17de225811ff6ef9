/*
 * citus/citus_presence.h
 *		Is Citus here, is this node its coordinator, which nodes are there
 *		(citus_presence.c).  Found at run time from the catalogs: privacy_ext
 *		neither links against Citus nor includes its headers, and without
 *		Citus every answer is "no".
 */
#ifndef PX_CITUS_PRESENCE_H
#define PX_CITUS_PRESENCE_H

#include "postgres.h"

/* The group id Citus gives the coordinator (pg_dist_local_group). */
#define PX_CITUS_COORDINATOR_GROUP 0

/* The citus extension is created in this database. */
extern bool px_citus_present(void);

/*
 * This node's Citus group id (pg_dist_local_group), -1 without Citus.
 * A worker knows its group once the coordinator has added it.
 */
extern int32 px_citus_local_group(void);

/* Citus is here and this node is its coordinator (group 0). */
extern bool px_citus_is_coordinator(void);

/*
 * How many primary worker nodes the coordinator's metadata lists
 * (pg_dist_node, groups other than the coordinator's); 0 without Citus.
 */
extern int	px_citus_worker_count(void);

/*
 * The session is one Citus opened to run the coordinator's commands on
 * this node (Citus names such sessions "citus_internal ..." in
 * application_name): e.g. the shell tables Citus creates on a node it is
 * adding, before privacy_ext's own tables reach that node.  Anyone may
 * set application_name: use this only to relax a check that guards no
 * secret.
 */
extern bool px_citus_internal_session(void);

#endif							/* PX_CITUS_PRESENCE_H */
