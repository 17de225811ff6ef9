/*
 * citus/shard_policies.h
 *		The consent policies stay restrictive on the shards of a Citus
 *		table (shard_policies.c).
 */
#ifndef PX_CITUS_SHARD_POLICIES_H
#define PX_CITUS_SHARD_POLICIES_H

#include "postgres.h"

/* Installs the ProcessUtility hook that corrects Citus's CREATE POLICY. */
extern void px_install_shard_policies(void);

#endif							/* PX_CITUS_SHARD_POLICIES_H */
