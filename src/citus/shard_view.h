/*
 * citus/shard_view.h
 *		A masking view's query sent to a Citus node reads the shard with the
 *		view's rights (shard_view.c).
 */
#ifndef PX_CITUS_SHARD_VIEW_H
#define PX_CITUS_SHARD_VIEW_H

#include "postgres.h"

/* Installs the parse-analysis hook; after the masking guard's. */
extern void px_install_shard_view(void);

#endif							/* PX_CITUS_SHARD_VIEW_H */
