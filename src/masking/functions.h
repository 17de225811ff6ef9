/*
 * masking/functions.h
 *		The SQL-callable masking functions (masking/functions.c) that a
 *		masking rule applies directly (masking/rules.c).
 */
#ifndef PX_MASKING_FUNCTIONS_H
#define PX_MASKING_FUNCTIONS_H

#include "postgres.h"

#include "fmgr.h"
#include "keys/key_store.h"

extern Datum px_generalize_numeric(PG_FUNCTION_ARGS);
extern Datum px_generalize_date(PG_FUNCTION_ARGS);
extern Datum px_generalize_timestamp(PG_FUNCTION_ARGS);
extern Datum px_generalize_timestamptz(PG_FUNCTION_ARGS);
extern Datum px_noise_int4(PG_FUNCTION_ARGS);
extern Datum px_noise_int8(PG_FUNCTION_ARGS);
extern Datum px_noise_float8(PG_FUNCTION_ARGS);
extern Datum px_noise_numeric(PG_FUNCTION_ARGS);
extern bool px_hash_key(const char *name, uint32 *key_id, PxKeyRef *ref);
extern text *px_hash_text(const PxKeyRef *ref, const char *s, size_t len);
extern Datum px_redact_placeholder(Oid type, bool *isnull);

#endif							/* PX_MASKING_FUNCTIONS_H */
