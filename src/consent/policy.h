/*
 * consent/policy.h
 *		has_consent() and privacy.purpose's check against the purpose
 *		registry (consent/policy.c); the setting's value is in
 *		purpose_scope.h.
 */
#ifndef PX_CONSENT_POLICY_H
#define PX_CONSENT_POLICY_H

#include "postgres.h"
#include "utils/guc.h"

extern bool px_check_purpose(char **newval, void **extra, GucSource source);

#endif							/* PX_CONSENT_POLICY_H */
