/*
 * consent/parallel_run.h
 *		The executor hook that prepares parallel statements calling
 *		has_consent() (consent/parallel_run.c).
 */
#ifndef PX_CONSENT_PARALLEL_RUN_H
#define PX_CONSENT_PARALLEL_RUN_H

#include "postgres.h"

/*
 * From _PG_init, before the statement hooks (statement.h), so that the run
 * is inside its new statement epoch; shared memory only when preloaded.
 */
extern void px_install_consent_parallel_run(bool preloaded);

#endif							/* PX_CONSENT_PARALLEL_RUN_H */
