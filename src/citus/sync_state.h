/*
 * citus/sync_state.h
 *		Whether this backend is applying a change shipped by the Citus
 *		coordinator (sync_state.c): the capture triggers then ship nothing,
 *		and the wipe of key material is allowed.  Set by citus/sync_apply.c
 *		only, for the duration of one change.
 */
#ifndef PX_CITUS_SYNC_STATE_H
#define PX_CITUS_SYNC_STATE_H

#include "postgres.h"

/* The Citus reference table changes are shipped through (schema privacy). */
#define PX_SYNC_TABLE "cluster_sync"

extern bool px_sync_applying(void);
extern void px_sync_set_applying(bool applying);

#endif							/* PX_CITUS_SYNC_STATE_H */
