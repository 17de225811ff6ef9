/*
 * masking/guard.h
 *		The masking guard: a parse-analysis hook that lets apply_mask run
 *		only where a masking view put it (masking/guard.c).
 */
#ifndef PX_MASKING_GUARD_H
#define PX_MASKING_GUARD_H

#include "postgres.h"

extern void px_install_mask_guard(void);

#endif							/* PX_MASKING_GUARD_H */
