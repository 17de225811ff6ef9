/*
 * config_refs.h
 *		References between the extension's own tables (see config_refs.c).
 */
#ifndef PX_CONFIG_REFS_H
#define PX_CONFIG_REFS_H

#include "postgres.h"
#include "fmgr.h"

extern Datum px_config_reference_check(PG_FUNCTION_ARGS);
extern Datum px_config_reference_parent(PG_FUNCTION_ARGS);
extern Datum px_purpose_tree_check(PG_FUNCTION_ARGS);

#endif							/* PX_CONFIG_REFS_H */
