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

/*
 * The masking view of a table (masked.<table>, named by
 * privacy.masking_views and checked to be a view of schema masked that
 * reads the table), or InvalidOid.
 */
extern Oid	px_masking_view_of(Oid relid);

#endif							/* PX_MASKING_TRANSPARENT_H */
