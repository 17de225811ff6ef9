/*
 * citus/purpose_marker.h
 *		The declared purpose reaches the nodes of the shards
 *		(purpose_marker.c).
 */
#ifndef PX_CITUS_PURPOSE_MARKER_H
#define PX_CITUS_PURPOSE_MARKER_H

#include "postgres.h"

/* Installs the planner hook; after Citus's (privacy_ext loads after it). */
extern void px_install_purpose_marker(void);

/* Assign hook of privacy.purpose: a change forgets this backend's cached plans under Citus. */
extern void px_purpose_marker_assign(const char *newval, void *extra);

#endif							/* PX_CITUS_PURPOSE_MARKER_H */
