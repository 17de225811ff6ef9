/*
 * masking/transparent.h
 *		Transparent masking: a masked role's reads of a masked table become
 *		reads of its masking view, and its writes to one are refused
 *		(masking/transparent.c).
 */
#ifndef PX_MASKING_TRANSPARENT_H
#define PX_MASKING_TRANSPARENT_H

#include "postgres.h"

/* Installs the parse-analysis hook; before the masking guard's. */
extern void px_install_transparent_masking(void);

#endif							/* PX_MASKING_TRANSPARENT_H */
