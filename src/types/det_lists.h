/*
 * types/det_lists.h
 *		IN lists and "= ANY(array)" on privacy.encrypted_text_det columns,
 *		bound to the column's key before planning (types/det_lists.c).
 */
#ifndef PX_TYPES_DET_LISTS_H
#define PX_TYPES_DET_LISTS_H

#include "postgres.h"

/* Installs the planner hook (from _PG_init). */
extern void px_install_det_lists(void);

#endif							/* PX_TYPES_DET_LISTS_H */
