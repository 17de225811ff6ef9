/*
 * subject_match.h
 *		The condition finding one subject's rows of a protected table, for
 *		the requests (subjects.c) and their Citus paths (citus/dist_rewrite.c).
 */
#ifndef PX_SUBJECT_MATCH_H
#define PX_SUBJECT_MATCH_H

#include "postgres.h"
#include "lib/stringinfo.h"

extern void px_subject_match(StringInfo buf, Oid relid, const char *column, int paramno);

#endif
