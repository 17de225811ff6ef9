/*
 * citus/sync_ship.h
 *		The coordinator's side of the Citus key store (sync_ship.c): every
 *		change of the extension's replicated tables made on the coordinator
 *		is shipped, in the same distributed transaction, to every node
 *		through the reference table privacy.cluster_sync; the capture
 *		triggers are SQL-callable (privacy.citus_sync_capture()).
 */
#ifndef PX_CITUS_SYNC_SHIP_H
#define PX_CITUS_SYNC_SHIP_H

#include "postgres.h"

/*
 * Orders every node to overwrite, in place, key_id's wrapped key bytes of
 * version (0: all versions), before the coordinator overwrites its own:
 * an unreachable node makes this fail before anything is overwritten.
 * Does nothing unless this is a Citus coordinator with workers.
 */
extern void px_citus_ship_wipe(uint32 key_id, uint32 version);

#endif							/* PX_CITUS_SYNC_SHIP_H */
