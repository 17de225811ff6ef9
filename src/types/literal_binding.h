/*
 * types/literal_binding.h
 *		Sealing INSERT and UPDATE literals once, under their column's key, at
 *		the end of parse analysis (types/literal_binding.c).
 */
#ifndef PX_TYPES_LITERAL_BINDING_H
#define PX_TYPES_LITERAL_BINDING_H

#include "postgres.h"

/* Installs the post-parse-analysis and utility hooks (from _PG_init). */
extern void px_install_literal_binding(void);

#endif							/* PX_TYPES_LITERAL_BINDING_H */
