/*
 * consent/planner_stats.h
 *		No planner statistics for a query the consent policy filters
 *		(consent/planner_stats.c).
 */
#ifndef PX_CONSENT_PLANNER_STATS_H
#define PX_CONSENT_PLANNER_STATS_H

#include "postgres.h"

extern void px_install_consent_planner_stats(void);

#endif							/* PX_CONSENT_PLANNER_STATS_H */
