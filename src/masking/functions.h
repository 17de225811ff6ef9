/*
 * masking/functions.h
 *		The SQL-callable masking functions (masking/functions.c) that a
 *		masking rule applies directly (masking/rules.c).
 */
#ifndef PX_MASKING_FUNCTIONS_H
#define PX_MASKING_FUNCTIONS_H

#include "postgres.h"

#include "fmgr.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "keys/key_store.h"

extern Datum px_generalize_numeric(PG_FUNCTION_ARGS);
extern Datum px_generalize_date(PG_FUNCTION_ARGS);
extern Datum px_generalize_timestamp(PG_FUNCTION_ARGS);
extern Datum px_generalize_timestamptz(PG_FUNCTION_ARGS);
extern Datum px_noise_int4(PG_FUNCTION_ARGS);
extern Datum px_noise_int8(PG_FUNCTION_ARGS);
extern Datum px_noise_float8(PG_FUNCTION_ARGS);
extern Datum px_noise_numeric(PG_FUNCTION_ARGS);
extern Numeric px_noise_numeric_value(Numeric v, double r);
extern bool px_hash_key(const char *name, uint32 *key_id, PxKeyRef *ref);
extern text *px_hash_text(const PxKeyRef *ref, const char *s, size_t len);
extern Datum px_redact_placeholder(Oid type, bool *isnull);

/*
 * A masked text of len bytes must fit a varlena: refused up front (54000)
 * rather than by palloc's "invalid memory alloc request size" (XX000),
 * which says nothing of why.  The message names sizes, never the value.
 */
static inline void
px_check_masked_len(size_t len)
{
	if (unlikely(len > MaxAllocSize - VARHDRSZ))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("masked value would exceed 1 GB"),
				 errdetail("The masked value would be %zu bytes long.", len),
				 errhint("Mask a shorter value, or use a shorter padding.")));
}

#endif							/* PX_MASKING_FUNCTIONS_H */
