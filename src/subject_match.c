/*
 * subject_match.c
 *		The condition finding one subject's rows of a protected table.
 *
 * A module of its own: the requests (subjects.c) and the Citus paths they
 * call (citus/dist_rewrite.c) both write it, and neither includes the other.
 */
#include "errors.h"
#include "subject_match.h"

#include "utils/lsyscache.h"
#include "utils/builtins.h"

/*
 * "t.column = $paramno", matching the subject's rows of relid: the subject's
 * exact id only.  Under a nondeterministic collation (case-insensitive,
 * say) the column's = also finds other subjects' rows ('Alice' for
 * 'alice'), whose consents and requests are their own (has_consent() and
 * the consent registry compare exact text), so such a column is compared
 * under "C" as well; its own comparison stays, for its indexes.
 */
void
px_subject_match(StringInfo buf, Oid relid, const char *column, int paramno)
{
	const char *col = quote_identifier(column);
	Oid			type;
	int32		typmod;
	Oid			collation;

	get_atttypetypmodcoll(relid, get_attnum(relid, column), &type, &typmod, &collation);
	appendStringInfo(buf, "t.%s OPERATOR(pg_catalog.=) $%d", col, paramno);
	if (OidIsValid(collation) && !get_collation_isdeterministic(collation))
		appendStringInfo(buf, " AND t.%s OPERATOR(pg_catalog.=) $%d COLLATE pg_catalog.\"C\"",
						 col, paramno);
}
