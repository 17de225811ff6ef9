/*
 * citus/dist_rewrite.h
 *		Rewriting rows of Citus tables with values computed on the
 *		coordinator (dist_rewrite.c).
 */
#ifndef PX_CITUS_DIST_REWRITE_H
#define PX_CITUS_DIST_REWRITE_H

#include "postgres.h"
#include "nodes/pg_list.h"
#include "px_core.h"
#include "citus/dist_shards.h"

/*
 * erase_subject's anonymization of the subject's rows (subject_column =
 * subject, of type subjtype) of a hash-distributed or reference table:
 * masked_columns (names) get their default rule's value.  Runs as the
 * table's owner, inside the request.  Returns the rows rewritten.
 */
extern int64 px_citus_anonymize_subject(Oid relid, PxCitusKind kind, const char *dist_column,
										const char *subject_column, Oid subjtype, Datum subject,
										List *masked_columns);

/* reencrypt of a reference table's column; returns the rows rewritten. */
extern int64 px_citus_reencrypt_reference(Oid relid, const char *colname, px_value_type vtype,
										  int32 active, int32 batch_rows);

#endif							/* PX_CITUS_DIST_REWRITE_H */
