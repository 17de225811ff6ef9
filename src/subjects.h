/*
 * subjects.h
 *		Data-subject requests: export_subject and erase_subject, and the
 *		reach a running request (or a static masking run, masking/static.c)
 *		lends to has_consent() and anonymize_value() (subjects.c).
 */
#ifndef PX_SUBJECTS_H
#define PX_SUBJECTS_H

#include "postgres.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"

typedef enum PxRequestKind
{
	PX_REQUEST_NONE = 0,
	PX_REQUEST_EXPORT,
	PX_REQUEST_ERASE,
	PX_REQUEST_ANONYMIZE		/* static masking: anonymize_table() (masking/static.c) */
} PxRequestKind;

/*
 * While a request runs, has_consent() passes the subject's rows and, for an
 * erasure, privacy.anonymize_value() may run, but only in the request's own
 * statements, never in code of a table's owner they fire (subjects.c).
 * Reset when the request ends or fails, and at every transaction abort.
 */
extern PxRequestKind px_request_in_progress;
extern bool px_request_scope(void);
extern bool px_request_covers_subject(const char *subject, size_t len);

/* Appends "t.column = $paramno" for the subject's rows of relid, exact ids only. */

/*
 * Running a request: px_request_begin() pins search_path to pg_catalog,
 * connects to SPI and suspends per-value audit counting (the request is
 * one event); px_request_reset() (also in PG_FINALLY) ends the request's
 * reach, px_request_end() then disconnects and restores the settings.
 */
typedef struct PxRequestContext
{
	int			guc_level;		/* the GUC nest level to pop */
} PxRequestContext;

extern void px_request_begin(PxRequestContext *rc, PxRequestKind kind);
extern void px_request_reset(void);
extern void px_request_end(PxRequestContext *rc);

/*
 * A static masking run rewrites relid next: of the protected tables, its
 * own queries may read only relid, its partitions and children; any other
 * fails the run (subjects.c).
 */
extern void px_request_rewriting(Oid relid);

/* Every row of a table, counted as the bootstrap superuser (no policy in the way). */
extern int64 px_count_all_rows(Oid relid);

/*
 * A column that an anonymizing rewrite (erase_subject's, anonymize_table's)
 * sets to its masked value, and the relation whose default rule it follows:
 * the table itself or, for a column it inherits and declares no default
 * rule for, its nearest inheritance ancestor that does (partitions
 * included: a partition's column follows its partitioned table's rule).
 */
typedef struct PxAnonymizedColumn
{
	char	   *name;
	Oid			rules_relid;
} PxAnonymizedColumn;

/*
 * relid's columns with a default rule other than 'none' (the nearest
 * declaration decides, 'none' included), in column order; generated
 * columns are left out (they follow the others).  Reads through SPI.
 */
extern List *px_anonymized_columns(Oid relid);

/*
 * Appends "col = <its masked value>" to an UPDATE's SET list, rules_sql
 * naming the relation whose default rules apply.
 */
extern void px_append_anonymized_assignment(StringInfo buf, Oid relid, const char *col,
											const char *rules_sql);

#endif							/* PX_SUBJECTS_H */
