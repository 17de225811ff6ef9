/*
 * keys/key_usage.h
 *		Where keys are used: versions in use, re-encryption
 *		(keys/key_usage.c).
 */
#ifndef PX_KEY_USAGE_H
#define PX_KEY_USAGE_H

#include "postgres.h"

extern char *px_first_use_of_version(uint32 key_id, uint32 version);

#endif							/* PX_KEY_USAGE_H */
