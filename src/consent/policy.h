/*
 * consent/policy.h
 *		What has_consent() (consent/policy.c) offers the parallel machinery
 *		(consent/parallel.c): the leader's preparation of a parallel
 *		statement's consent decisions.
 */
#ifndef PX_CONSENT_POLICY_H
#define PX_CONSENT_POLICY_H

#include "postgres.h"

typedef enum PxWorkerConsent
{
	PX_WORKERS_NEED_NOTHING,	/* workers decide alone and alike (no purpose) */
	PX_WORKERS_PUBLISHED,		/* the leader's decisions are published */
	PX_WORKERS_SERIAL			/* run without workers: they could not answer alike */
} PxWorkerConsent;

/*
 * Leader, before a parallel statement whose plan calls has_consent() runs:
 * decide for the declared purpose and publish the decisions.
 */
extern PxWorkerConsent px_consent_prepare_workers(void);

#endif							/* PX_CONSENT_POLICY_H */
