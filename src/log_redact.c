/*
 * log_redact.c
 *		Keeping plaintext out of the server log (see log_redact.h).
 *
 * An error report can copy plaintext into the server log in four places:
 * the STATEMENT line (the statement text, with its literals), the QUERY
 * line (an internal query: PL/pgSQL's EXECUTE of a string built with %L),
 * the CONTEXT lines (COPY quotes the row or the column value it was
 * reading, PL/pgSQL quotes the SQL statement), and the message and detail
 * of PostgreSQL's own errors about a value (invalid input syntax for type
 * integer: "<value>", Key (x)=(<value>) already exists).  The emit_log_hook
 * here treats them as follows, for every report that goes to the server
 * log; what the client receives is left as PostgreSQL made it.
 *
 * - STATEMENT: whatever the statement did, its string and numeric
 *   constants are replaced by '***' and *** (privacy.log_statement_literals
 *   = hidden, the default).  The flags cannot decide this: a syntax error
 *   happens before any of our code runs, and a query string of several
 *   statements is logged whole for an error in any of them.  The redacted
 *   copy replaces debug_query_string, which PostgresMain resets after an
 *   error and which every statement sets anew; for a report below ERROR
 *   the copy stays in place for the rest of the statement, so later
 *   reports (and current_query()) see the redacted text too.
 *   With privacy.log_statement_literals = shown, statements keep their
 *   literals, except that of a statement marked as below, whose STATEMENT
 *   line is dropped; for the same reasons, a statement that fails before it
 *   is marked (a syntax error, an earlier statement of the string) is
 *   logged as written, which the README says.
 * - Statement text quoted elsewhere loses its constants the same way:
 *   QUERY lines, the SQL of "SQL statement "..."" (and "SQL expression",
 *   "PL/pgSQL assignment") context lines, bound parameters in portal
 *   context lines.
 * - A report is sensitive if the statement took or gave plaintext (the
 *   flags of log_redact.h; COPY FROM counts as taking it), if it is an
 *   error of this extension (its own messages are written to carry no
 *   plaintext, but the statement around them may), or if it is made while
 *   a parallel plan runs.  A parallel worker's marks are handed to its
 *   leader (take_worker_marks), so they count after the parallel part
 *   too.  The CONTEXT lines of a sensitive report keep only what cannot
 *   quote a value (the PL/pgSQL and SQL function lines, the "COPY t, line
 *   n" prefix, "parallel worker"); others become "...".
 * - A report of PostgreSQL (or of another module: its message domain is
 *   not ours) in a statement that gave plaintext, is running a parallel
 *   plan (a worker's report comes with PostgreSQL's domain), or copies
 *   rows into a table with encrypted columns (a bad row is quoted), is logged with its
 *   untranslated message format, without the values (the %s stay), and
 *   without its detail and hint.
 * - Otherwise, a message, detail, hint or context quoting one of the
 *   statement's string constants (its value with escapes decoded, or as
 *   written, or cut short after 8 bytes or more) has it masked as ***: a plaintext written into the
 *   wrong column (invalid input syntax for type integer: "<literal>"), or
 *   passed as a key name to one of our functions (our errors, not our LOG
 *   lines: the audit trail names what it records).
 * - A report (not ours) made while the statement reads a foreign table
 *   the current user may not read itself (a masked role through a masking
 *   view) is changed in place, for the client too: a foreign-data
 *   wrapper's report quotes the data it read (file_fdw's "COPY t, line n:
 *   "<line>"").  It keeps its message format, a detail saying the values
 *   are not shown, and the context lines that cannot quote a value.
 * - Reports that quote other statements have their constants replaced
 *   there too: a deadlock's server-only detail ("Process 12: <statement>")
 *   and the postmaster's "Failed process was running: <statement>".
 * - A message that reads as an audit event ("privacy_audit: ...") but is
 *   not the log sink's own line is logged with a mark saying it is none
 *   (audit/events.c): any role can RAISE one.
 * - Core's statement logging (log_statement, log_min_duration_statement,
 *   the sampling settings, "parameters:" details) and auto_explain's plans
 *   have their constants replaced (numbers are kept in plans, where they
 *   are mostly costs; in a JSON or YAML plan, inside each JSON string), and
 *   debug_print_* trees are dropped.  These settings
 *   are still findings of privacy.inventory: without preloading, the hook
 *   is not there in a backend until the library is loaded.
 *
 * EmitErrorReport sends one ErrorData to the log and then to the client,
 * and a hook may only turn off output_to_server.  A report whose message,
 * context or query must change for the log is therefore not changed: its
 * server output is turned off and a substitute, built from it, is written
 * as LOG_SERVER_ONLY (never sent to the client) and shown with the
 * original severity.  Changed in place are only the STATEMENT line
 * (debug_query_string, which the client never gets), server-only details
 * (a deadlock's, the postmaster's) and core's LOG-level statement-logging
 * lines (a client that asked for LOG messages gets those redacted too).
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "executor/executor.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/ipc.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/portal.h"
#include "utils/snapmgr.h"
#include "utils/typcache.h"
#include "utils/varlena.h"

#include "log_redact.h"
#include "px_core.h"
#include "audit/events.h"
#include "audit/relay.h"
#include "catalog.h"
#include "errors.h"
#include "masking/transparent.h"
#include "statement.h"

bool		px_log_took_plaintext = false;
bool		px_log_gave_plaintext = false;

/* WITH HOLD cursors holding decrypted rows (see keep_plaintext_cursors) */
static List *held_declared = NIL;	/* names, this transaction */
static List *held_plaintext = NIL;	/* HeldCursor, across transactions */
static bool plaintext_cursor_open(void);
static void take_worker_marks(void);

/*
 * The statement is a COPY FROM into a table with an encrypted column
 * (kept like the marks of log_redact.h): PostgreSQL's messages about a bad
 * row quote its input (malformed array literal: "{<plaintext>,..."), which
 * may be any column's if the row is misaligned.
 */
static bool copying_into_encrypted = false;

/*
 * The statement wrote a table that has a masking view or the consent
 * policy of protect_table() (or a partition of one): its rows hold
 * personal data, and a constraint violation's detail quotes the row written ("Key
 * (email)=(...) already exists", "Failing row contains (...)"), or the
 * key of a row deleted that another table still references, bound
 * parameters included, which masking the statement's constants does not
 * reach.
 */
static bool writing_personal_table = false;

/*
 * A COPY FROM into such a table (writing_personal_table): a bad row's message quotes
 * its input ("invalid input syntax for type integer: "<an e-mail address
 * one column off>""), which is no constant of the statement.
 */
static bool copying_into_personal = false;

/* The statement read a table with a masking view in clear. */
static bool reading_masked_clear = false;

/*
 * The statement reads a foreign table the current user may not read
 * itself (through a masking view, whose owner reads it): a foreign-data
 * wrapper's report can quote the data it read (file_fdw: "COPY t, line 2:
 * "<the line>"", or a misplaced value in "invalid input syntax"), which
 * the client, a masked role, must not see.  Set by ExecutorStart, which
 * runs before any row is read; kept like the marks of log_redact.h.
 */
static bool reading_foreign_unreadable = false;

typedef enum
{
	PX_LITERALS_HIDDEN,
	PX_LITERALS_SHOWN
} px_literals_mode;

static const struct config_enum_entry literals_options[] = {
	{"hidden", PX_LITERALS_HIDDEN, false},
	{"shown", PX_LITERALS_SHOWN, false},
	{NULL, 0, false}
};

static int	px_log_statement_literals = PX_LITERALS_HIDDEN;

/* The message domain our own reports carry (errors.h sets TEXTDOMAIN). */
static const char *const px_domain = TEXTDOMAIN;

static emit_log_hook_type prev_emit_log_hook = NULL;
static ProcessUtility_hook_type prev_process_utility = NULL;
static ExecutorStart_hook_type prev_executor_start = NULL;

/*
 * The redacted statement debug_query_string points at, and the text it
 * replaced (to recognise the statement when it ends).  Kept in
 * TopMemoryContext, replaced when another statement needs one.
 */
static char *redacted_statement = NULL;
static const char *redacted_from = NULL;	/* compared, never read */
static char *redacted_original = NULL;	/* a copy of it, to read */

static const char *current_statement_text(void);

/* Scratch memory of one report, reset on the next. */
static MemoryContext redact_cxt = NULL;

/* What a substitute report says instead of the original's texts. */
typedef struct SubstituteText
{
	const char *message;
	const char *detail;			/* the server log's detail */
	const char *hint;
	const char *context;		/* before filter_context */
} SubstituteText;

/* Set while writing a substitute report: the severity it is shown with. */
static bool in_substitute = false;
static int	substitute_elevel = 0;

/* ---------------------------------------------------------------------
 * Constants in SQL text
 * ---------------------------------------------------------------------
 */

#define MARK_STRING 1
#define MARK_NUMBER 2

static inline bool
ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || IS_HIGHBIT_SET(c);
}

static inline bool
ident_cont(char c)
{
	return ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}

static inline bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static void
mark_span(unsigned char *mark, int from, int to, unsigned char bit)
{
	for (int i = from; i < to; i++)
		mark[i] |= bit;
}

/* The index after the quoted string opening at s[i], or len if unterminated. */
static int
scan_quoted(const char *s, int len, int i, bool backslash_escapes)
{
	i++;
	while (i < len)
	{
		if (backslash_escapes && s[i] == '\\')
			i += 2;
		else if (s[i] == '\'')
		{
			if (i + 1 < len && s[i + 1] == '\'')
				i += 2;
			else
				return i + 1;
		}
		else
			i++;
	}
	return len;
}

/* A string constant's kind, by how its value is written between its quotes. */
typedef enum
{
	STRING_PLAIN,				/* '...', N'...' */
	STRING_ESCAPED,				/* E'...' */
	STRING_UNICODE,				/* U&'...' */
	STRING_DOLLAR,				/* $tag$...$tag$ */
	STRING_BITS					/* B'...', X'...' */
} string_kind;

/* Where a string constant's value is written: body to end (the closing quote excluded). */
typedef struct StringSpan
{
	string_kind kind;
	int			body;
	int			end;
} StringSpan;

static void
note_string(List **strings, string_kind kind, int body, int end)
{
	StringSpan *span;

	if (strings == NULL)
		return;
	span = palloc(sizeof(StringSpan));
	span->kind = kind;
	span->body = body;
	span->end = end;
	*strings = lappend(*strings, span);
}

/*
 * Marks the constants of s as one lexer would see them, with backslash
 * escapes in plain '...' strings or not (standard_conforming_strings off
 * or on).  Anything left open (a string, quoted identifier, comment or
 * dollar quote without its end) is marked to the end of the text.  With
 * strings, the string constants are listed there too (StringSpan).
 */
static void
mark_constants(const char *s, int len, bool plain_backslash, bool numbers, unsigned char *mark,
			   List **strings)
{
	int			i = 0;

	while (i < len)
	{
		char		c = s[i];
		int			end;

		if (c == '-' && i + 1 < len && s[i + 1] == '-')
		{
			while (i < len && s[i] != '\n')
				i++;
		}
		else if (c == '/' && i + 1 < len && s[i + 1] == '*')
		{
			int			depth = 1;
			int			start = i;

			i += 2;
			while (i < len && depth > 0)
			{
				if (s[i] == '/' && i + 1 < len && s[i + 1] == '*')
				{
					depth++;
					i += 2;
				}
				else if (s[i] == '*' && i + 1 < len && s[i + 1] == '/')
				{
					depth--;
					i += 2;
				}
				else
					i++;
			}
			if (depth > 0)
				mark_span(mark, start, len, MARK_STRING);
		}
		else if (c == '"')
		{
			int			start = i;

			i++;
			for (;;)
			{
				if (i >= len)
				{
					mark_span(mark, start, len, MARK_STRING);
					break;
				}
				if (s[i] == '"')
				{
					if (i + 1 < len && s[i + 1] == '"')
						i += 2;
					else
					{
						i++;
						break;
					}
				}
				else
					i++;
			}
		}
		else if (c == '\'')
		{
			end = scan_quoted(s, len, i, plain_backslash);
			mark_span(mark, i, end, MARK_STRING);
			note_string(strings, STRING_PLAIN, i + 1, end);
			i = end;
		}
		else if ((c == 'e' || c == 'E') && i + 1 < len && s[i + 1] == '\'')
		{
			end = scan_quoted(s, len, i + 1, true);
			mark_span(mark, i, end, MARK_STRING);
			note_string(strings, STRING_ESCAPED, i + 2, end);
			i = end;
		}
		else if ((c == 'n' || c == 'N') && i + 1 < len && s[i + 1] == '\'')
		{
			end = scan_quoted(s, len, i + 1, plain_backslash);
			mark_span(mark, i, end, MARK_STRING);
			note_string(strings, STRING_PLAIN, i + 2, end);
			i = end;
		}
		else if ((c == 'b' || c == 'B' || c == 'x' || c == 'X') && i + 1 < len && s[i + 1] == '\'')
		{
			end = scan_quoted(s, len, i + 1, false);
			mark_span(mark, i, end, MARK_STRING);
			note_string(strings, STRING_BITS, i + 2, end);
			i = end;
		}
		else if ((c == 'u' || c == 'U') && i + 2 < len && s[i + 1] == '&' && s[i + 2] == '\'')
		{
			end = scan_quoted(s, len, i + 2, false);
			mark_span(mark, i, end, MARK_STRING);
			note_string(strings, STRING_UNICODE, i + 3, end);
			i = end;
		}
		else if (ident_start(c))
		{
			while (i < len && ident_cont(s[i]))
				i++;
		}
		else if (c == '$' && i + 1 < len && is_digit(s[i + 1]))
		{
			/* a parameter: $1 */
			i++;
			while (i < len && is_digit(s[i]))
				i++;
		}
		else if (c == '$')
		{
			int			j = i + 1;

			if (j < len && ident_start(s[j]) && s[j] != '$')
				while (j < len && ident_cont(s[j]) && s[j] != '$')
					j++;
			if (j < len && s[j] == '$')
			{
				int			taglen = j - i + 1;
				int			k = j + 1;
				int			body_end = len;

				end = len;
				for (; k + taglen <= len; k++)
					if (s[k] == '$' && memcmp(s + k, s + i, taglen) == 0)
					{
						body_end = k;
						end = k + taglen;
						break;
					}
				mark_span(mark, i, end, MARK_STRING);
				note_string(strings, STRING_DOLLAR, j + 1, body_end);
				i = end;
			}
			else
				i++;
		}
		else if (is_digit(c) || (c == '.' && i + 1 < len && is_digit(s[i + 1])))
		{
			int			start = i;

			while (i < len && (is_digit(s[i]) || s[i] == '.'))
				i++;
			if (i < len && (s[i] == 'e' || s[i] == 'E'))
			{
				int			j = i + 1;

				if (j < len && (s[j] == '+' || s[j] == '-'))
					j++;
				if (j < len && is_digit(s[j]))
				{
					i = j;
					while (i < len && is_digit(s[i]))
						i++;
				}
			}
			/* trailing junk such as 123abc lexes as a number and a name */
			if (numbers)
				mark_span(mark, start, i, MARK_NUMBER);
		}
		else
			i++;
	}
}

/* The text with each marked run replaced by its placeholder. */
static char *
replace_marked(const char *sql, int len, unsigned char *mark)
{
	StringInfoData out;
	int			i = 0;

	initStringInfo(&out);
	while (i < len)
	{
		if (mark[i])
		{
			unsigned char bits = 0;

			while (i < len && mark[i])
				bits |= mark[i++];
			appendStringInfoString(&out, (bits & MARK_STRING) ? "'***'" : "***");
		}
		else
		{
			int			start = i;

			while (i < len && !mark[i])
				i++;
			appendBinaryStringInfo(&out, sql + start, i - start);
		}
	}
	return out.data;
}

/*
 * The constants of sql marked (numbers too if asked), or NULL for a text
 * too long to be redacted piece by piece.
 */
static unsigned char *
mark_all_constants(const char *sql, bool numbers, int *len)
{
	size_t		full_len = strlen(sql);
	unsigned char *mark;

	/*
	 * The placeholders can make the text longer than it was; text that could
	 * outgrow a palloc chunk is replaced whole (an error here would be an
	 * error while reporting one).
	 */
	if (full_len > MaxAllocSize / 4)
		return NULL;
	*len = (int) full_len;
	mark = palloc0(*len + 1);

	/*
	 * Lexed twice, with and without backslash escapes in plain strings, and
	 * what either reading sees as a constant is replaced: the setting in
	 * force when the text was parsed may not be the one in force now (a SET
	 * earlier in the same query string), and one of the two readings is the
	 * parser's.
	 */
	mark_constants(sql, *len, false, numbers, mark, NULL);
	mark_constants(sql, *len, true, numbers, mark, NULL);
	return mark;
}

char *
px_redact_sql_literals(const char *sql, bool numbers)
{
	int			len;
	unsigned char *mark = mark_all_constants(sql, numbers, &len);
	char	   *result;

	if (mark == NULL)
		return pstrdup("'***'");
	result = replace_marked(sql, len, mark);
	pfree(mark);
	return result;
}

/*
 * Whether a line of a text EXPLAIN plan (after its indentation and "->  ")
 * holds only figures of the plan: a node's line ("Seq Scan on t
 * (cost=0.00..1.01 rows=1 width=4)"), which names but holds no expression,
 * or one whose label is of a statistic ("Rows Removed by Filter: 3").  Any
 * other labelled line may show an expression ("Filter: (x = 1234)",
 * "Output:", "Index Cond:", "Sort Key:", a foreign table's "Remote SQL:"),
 * whose numbers are the statement's constants.
 */
static bool
plan_line_is_figures(const char *line, int len)
{
	static const char *const labels[] = {
		"Planning Time", "Execution Time", "Planning", "Buffers", "I/O Timings",
		"WAL", "Rows Removed by Filter", "Rows Removed by Join Filter",
		"Rows Removed by Index Recheck", "Rows Removed by Conflict Filter",
		"Heap Fetches", "Heap Blocks", "Sort Method", "Workers Planned",
		"Workers Launched", "Buckets", "Batches", "Planned Partitions", "Hits",
		"Subplans Removed", "Tuples Inserted", "Conflicting Tuples",
		"Full-sort Groups", "Pre-sorted Groups", "JIT", "Functions", "Options",
		"Timing", "Query Identifier", "Worker", "Trigger"
	};
	int			i = 0;
	int			label_end;

	while (i < len && line[i] == ' ')
		i++;
	if (len - i >= 4 && strncmp(line + i, "->  ", 4) == 0)
		i += 4;
	for (label_end = i; label_end + 1 < len; label_end++)
		if (line[label_end] == ':' && line[label_end + 1] == ' ')
			break;
	/* a node's line: no label (a quoted name holding ": " reads as one) */
	if (label_end + 1 >= len && !(len > 0 && line[len - 1] == ':'))
		return true;
	if (label_end + 1 >= len)
		label_end = len - 1;
	for (int l = 0; l < (int) lengthof(labels); l++)
	{
		int			llen = strlen(labels[l]);

		if (label_end - i == llen && strncmp(line + i, labels[l], llen) == 0)
			return true;
		/* "Worker 0:", "Trigger t on t:" */
		if ((strcmp(labels[l], "Worker") == 0 || strcmp(labels[l], "Trigger") == 0) &&
			label_end - i > llen && strncmp(line + i, labels[l], llen) == 0 && line[i + llen] == ' ')
			return true;
	}
	return false;
}

/*
 * The plan of a text EXPLAIN: string constants replaced, and numbers on
 * every line that may show an expression; numbers on the lines of costs,
 * times and other figures are kept.  A line that starts inside a string
 * constant (one with a line break) belongs to the line the constant
 * started on.
 */
static char *
redact_text_plan_body(const char *plan)
{
	int			len;
	unsigned char *mark = mark_all_constants(plan, true, &len);
	bool		figures = false;
	int			pos = 0;
	char	   *result;

	if (mark == NULL)
		return pstrdup("'***'");
	while (pos < len)
	{
		const char *nl = memchr(plan + pos, '\n', len - pos);
		int			end = nl ? (int) (nl - plan) : len;

		if (pos == 0 || !(mark[pos - 1] & MARK_STRING))
			figures = plan_line_is_figures(plan + pos, end - pos);
		if (figures)
			for (int i = pos; i < end; i++)
				if (mark[i] == MARK_NUMBER)
					mark[i] = 0;
		pos = end + 1;
	}
	result = replace_marked(plan, len, mark);
	pfree(mark);
	return result;
}

/* ---------------------------------------------------------------------
 * The parts of a report
 * ---------------------------------------------------------------------
 */

static bool
is_our_report(const ErrorData *edata)
{
	return px_domain != NULL && edata->domain != NULL && strcmp(edata->domain, px_domain) == 0;
}

/*
 * A CONTEXT line that cannot quote a value: PL/pgSQL's "PL/pgSQL function
 * f(integer) line 3 at RAISE" (no quote anywhere), "SQL function "f"
 * statement 1", and "parallel worker".
 */
static bool
context_line_is_safe(const char *line, int len)
{
	static const char plpgsql[] = "PL/pgSQL function ";
	static const char sqlfunc[] = "SQL function \"";

	if (len == 15 && strncmp(line, "parallel worker", 15) == 0)
		return true;
	if (len >= (int) strlen(plpgsql) && strncmp(line, plpgsql, strlen(plpgsql)) == 0)
	{
		for (int i = 0; i < len; i++)
			if (line[i] == '\'' || line[i] == '"' || line[i] == '\\')
				return false;
		return true;
	}
	if (len >= (int) strlen(sqlfunc) && strncmp(line, sqlfunc, strlen(sqlfunc)) == 0)
	{
		int			i = strlen(sqlfunc);
		const char *rest;
		int			restlen;

		while (i < len && line[i] != '"')
			i++;
		if (i >= len)
			return false;
		rest = line + i + 1;
		restlen = len - i - 1;
		if (restlen == 0)
			return true;
		if (restlen == (int) strlen(" during startup") && strncmp(rest, " during startup", restlen) == 0)
			return true;
		if (restlen > (int) strlen(" statement ") && strncmp(rest, " statement ", strlen(" statement ")) == 0)
		{
			for (int j = strlen(" statement "); j < restlen; j++)
				if (!is_digit(rest[j]))
					return false;
			return true;
		}
	}
	return false;
}

/* The length of the "COPY t, line 12" prefix of a COPY context line, or 0. */
static int
copy_context_prefix(const char *line, int len)
{
	int			i;

	if (len < 5 || strncmp(line, "COPY ", 5) != 0)
		return 0;
	for (i = 5; i < len && line[i] != ','; i++)
		if (line[i] == '\'' || line[i] == '"' || line[i] == ':')
			return 0;
	if (len - i < 7 || strncmp(line + i, ", line ", 7) != 0)
		return 0;
	i += 7;
	if (i >= len || !is_digit(line[i]))
		return 0;
	while (i < len && is_digit(line[i]))
		i++;
	return i;
}

/*
 * The length of the prefix of a CONTEXT entry that quotes SQL text (SPI's
 * "SQL statement "..."", PL/pgSQL's "SQL expression "..."" and
 * "PL/pgSQL assignment "...""), or 0.
 */
static int
sql_context_prefix(const char *line)
{
	static const char *const prefixes[] = {
		"SQL statement \"", "SQL expression \"", "PL/pgSQL assignment \""
	};

	for (int i = 0; i < (int) lengthof(prefixes); i++)
		if (strncmp(line, prefixes[i], strlen(prefixes[i])) == 0)
			return strlen(prefixes[i]);
	return 0;
}

/*
 * The CONTEXT of a report as the server log gets it.  The SQL text an
 * entry quotes has its constants replaced (it may span lines: it ends at a
 * quote that ends a line), or, once the statement gave out plaintext, is
 * dropped.  Of a sensitive report only the lines that
 * cannot quote a value are kept besides (the COPY prefix of a COPY line),
 * and each run of other lines becomes one "..." line.
 */
static char *
filter_context(const char *context, bool sensitive)
{
	StringInfoData out;
	const char *p = context;
	bool		hidden_run = false;

	initStringInfo(&out);
	while (*p)
	{
		const char *nl = strchr(p, '\n');
		int			len = nl ? (int) (nl - p) : (int) strlen(p);
		int			prefix;

		if ((prefix = sql_context_prefix(p)) > 0)
		{
			const char *sql = p + prefix;
			const char *close = sql;
			char	   *text;

			/* the closing quote: a quote followed by a line end */
			while (*close && !(close[0] == '"' && (close[1] == '\n' || close[1] == '\0')))
				close++;
			text = pnstrdup(sql, close - sql);
			if (out.len > 0)
				appendStringInfoChar(&out, '\n');
			appendBinaryStringInfo(&out, p, prefix);
			/*
			 * After a decryption the SQL may hold a decrypted value anywhere
			 * (EXECUTE format('%I'), a name), not only as a constant: as for
			 * the QUERY line, drop its text.
			 */
			appendStringInfoString(&out, px_log_gave_plaintext ? "..." :
								   px_redact_sql_literals(text, true));
			appendStringInfoChar(&out, '"');
			hidden_run = false;
			p = *close ? close + 1 : close;
			if (*p == '\n')
				p++;
			continue;
		}
		if (!sensitive && (strncmp(p, "unnamed portal ", 15) == 0 || strncmp(p, "portal \"", 8) == 0))
		{
			/* bound parameters: "unnamed portal with parameters: $1 = '...'" */
			if (out.len > 0)
				appendStringInfoChar(&out, '\n');
			appendStringInfoString(&out, px_redact_sql_literals(pnstrdup(p, len), true));
			hidden_run = false;
		}
		else if (!sensitive || context_line_is_safe(p, len))
		{
			if (out.len > 0)
				appendStringInfoChar(&out, '\n');
			appendBinaryStringInfo(&out, p, len);
			hidden_run = false;
		}
		else if ((prefix = copy_context_prefix(p, len)) > 0)
		{
			if (out.len > 0)
				appendStringInfoChar(&out, '\n');
			appendBinaryStringInfo(&out, p, prefix);
			if (prefix < len)
				appendStringInfoString(&out, ": ...");
			hidden_run = false;
		}
		else if (!hidden_run)
		{
			if (out.len > 0)
				appendStringInfoChar(&out, '\n');
			appendStringInfoString(&out, "...");
			hidden_run = true;
		}
		p += len;
		if (*p == '\n')
			p++;
	}
	return out.data;
}

/*
 * Core's statement-logging messages (postgres.c) and auto_explain's plan,
 * by their untranslated format: the position in the message after which
 * the statement (or plan) follows, or -1.  *numbers: whether numeric
 * constants are replaced too (not in a plan, where they are costs).
 */
static int
statement_log_text_start(const ErrorData *edata, bool *numbers)
{
	static const struct
	{
		const char *format;
		const char *before_text;
		bool		numbers;
	}			formats[] = {
		{"statement: %s", "statement: ", true},
		{"duration: %s ms  statement: %s", "  statement: ", true},
		{"parse %s: %s", ": ", true},
		{"duration: %s ms  parse %s: %s", ": ", true},
		{"bind %s%s%s: %s", ": ", true},
		{"duration: %s ms  bind %s%s%s: %s", ": ", true},
		{"%s %s%s%s: %s", ": ", true},	/* execute [fetch from] */
		{"duration: %s ms  %s %s%s%s: %s", ": ", true},
		{"duration: %.3f ms  plan:\n%s", "  plan:\n", false},
	};
	const char *id = edata->message_id;

	if (id == NULL || edata->message == NULL)
		return -1;
	for (int i = 0; i < (int) lengthof(formats); i++)
		if (strcmp(id, formats[i].format) == 0)
		{
			const char *after = edata->message;
			const char *at;

			/* for "parse/bind/execute", skip the statement's name */
			if (strncmp(id, "duration: ", 10) == 0)
			{
				at = strstr(after, " ms ");
				if (at == NULL)
					return 0;
				after = at + 3;
			}
			at = strstr(after, formats[i].before_text);
			*numbers = formats[i].numbers;
			/* translated, or otherwise unexpected: redact it all */
			if (at == NULL)
				return 0;
			return (at - edata->message) + strlen(formats[i].before_text);
		}
	return -1;
}

/* Appends code point c as the server encoding has it (UTF-8; else ASCII only). */
static void
append_code_point(StringInfo out, pg_wchar c)
{
	unsigned char utf8[8];

	if (c == 0)
		return;
	if (c < 0x80)
		appendStringInfoChar(out, (char) c);
	else if (GetDatabaseEncoding() == PG_UTF8 && c <= 0x10FFFF)
	{
		unicode_to_utf8(c, utf8);
		appendBinaryStringInfo(out, (const char *) utf8, pg_utf_mblen(utf8));
	}
}

/*
 * A JSON or YAML plan of auto_explain: the SQL text is inside JSON string
 * literals (YAML's are written the same way), with its double quotes
 * escaped, so the SQL lexer would read each as a quoted name and keep its
 * contents.  Each string is decoded, its string and numeric constants
 * replaced (the query text and expressions are strings: "Filter": "(x =
 * 1234)") and written back as a JSON string; what is outside them (keys of
 * YAML, numbers, which are the plan's costs and other figures,
 * punctuation) is kept.
 */
static char *
redact_structured_plan(const char *plan)
{
	StringInfoData out;
	StringInfoData str;
	const char *p = plan;

	initStringInfo(&out);
	initStringInfo(&str);
	while (*p)
	{
		if (*p != '"')
		{
			appendStringInfoChar(&out, *p++);
			continue;
		}
		resetStringInfo(&str);
		p++;
		while (*p && *p != '"')
		{
			if (*p != '\\')
			{
				appendStringInfoChar(&str, *p++);
				continue;
			}
			p++;
			switch (*p)
			{
				case 'b':
					appendStringInfoChar(&str, '\b');
					break;
				case 'f':
					appendStringInfoChar(&str, '\f');
					break;
				case 'n':
					appendStringInfoChar(&str, '\n');
					break;
				case 'r':
					appendStringInfoChar(&str, '\r');
					break;
				case 't':
					appendStringInfoChar(&str, '\t');
					break;
				case 'u':
					{
						pg_wchar	c = 0;
						int			i;

						for (i = 1; i <= 4 && px_hex_digit(p[i]) >= 0; i++)
							c = c * 16 + px_hex_digit(p[i]);
						append_code_point(&str, c);
						p += i - 1;
					}
					break;
				case '\0':
					p--;
					break;
				default:
					appendStringInfoChar(&str, *p);
					break;
			}
			p++;
		}
		if (*p == '"')
			p++;
		else					/* cut short: nothing of it is kept */
			resetStringInfo(&str);
		escape_json(&out, px_redact_sql_literals(str.data, true));
	}
	return out.data;
}

/*
 * A text plan of auto_explain: "Query Text: <SQL>\n" and the plan.  The SQL
 * is a statement's text, where a number is a constant as it is on a
 * STATEMENT line (123456789::text written into an encrypted column): its
 * numbers are replaced too; in the plan below it, on the lines that may
 * show an expression (redact_text_plan_body).  The SQL may span lines, so where it ends is known only
 * when it is the client's statement (as PostgreSQL set debug_query_string,
 * before a report may have pointed that at a redacted copy); otherwise (a
 * nested statement, an EXECUTE of a prepared statement) numbers are
 * replaced in the whole plan, costs among them.
 */
static char *
redact_text_plan(const char *plan)
{
	static const char prefix[] = "Query Text: ";
	const char *statement = current_statement_text();
	StringInfoData out;
	size_t		len;

	if (strncmp(plan, prefix, sizeof(prefix) - 1) != 0 || statement == NULL)
		return px_redact_sql_literals(plan, true);
	len = strlen(statement);
	if (strncmp(plan + sizeof(prefix) - 1, statement, len) != 0 ||
		plan[sizeof(prefix) - 1 + len] != '\n')
		return px_redact_sql_literals(plan, true);
	initStringInfo(&out);
	appendStringInfoString(&out, prefix);
	appendStringInfoString(&out, px_redact_sql_literals(statement, true));
	appendStringInfoString(&out, redact_text_plan_body(plan + sizeof(prefix) - 1 + len));
	return out.data;
}

/*
 * Whether auto_explain wrote this plan as JSON (it starts with the brace
 * auto_explain puts there) or YAML (its setting, read when the plan is
 * logged, which is the moment auto_explain wrote it).
 */
static bool
plan_is_structured(const char *plan)
{
	const char *format;

	if (plan[0] == '{')
		return true;
	format = GetConfigOption("auto_explain.log_format", true, false);
	return format != NULL && pg_strcasecmp(format, "yaml") == 0;
}

/* Replace a palloc'd field of the report; the old text is freed. */
static void
replace_field(char **field, char *text)
{
	char	   *old = *field;

	*field = MemoryContextStrdup(ErrorContext, text);
	if (old)
		pfree(old);
}

/*
 * A report's message with no value in it: its untranslated format, or,
 * with none (rethrown from a parallel worker), its SQLSTATE.  "shown" for
 * the report itself, "logged" for the log's copy.
 */
static const char *
message_format_only(ErrorData *edata, const char *not_what)
{
	if (edata->message_id)
		return edata->message_id;
	return psprintf("(message of SQLSTATE %s not %s)", unpack_sql_state(edata->sqlerrcode), not_what);
}

/* The detail saying why: "The values of this message are not <what>: <why>." */
static char *
values_hidden_detail(const char *not_what, const char *why)
{
	return psprintf("The values of this message are not %s: %s.", not_what, why);
}

/*
 * A report made while reading a foreign table the current user may not
 * read: its untranslated format for a message (no value in it), no detail
 * or hint, and of its context only what cannot quote a value (the "COPY t,
 * line n" prefix of file_fdw's line).  Changed in the report itself, so
 * the client gets it so too.
 */
static void
hide_foreign_values(ErrorData *edata)
{
	replace_field(&edata->message, (char *) message_format_only(edata, "shown"));
	replace_field(&edata->detail,
				  values_hidden_detail("shown", "the statement read a foreign table the current "
									   "role may not read itself"));
	if (edata->detail_log)
	{
		pfree(edata->detail_log);
		edata->detail_log = NULL;
	}
	if (edata->hint)
	{
		pfree(edata->hint);
		edata->hint = NULL;
	}
	if (edata->context)
		replace_field(&edata->context, filter_context(edata->context, true));
}

/*
 * Whether an auto_explain plan is that of a statement nested in the one
 * the client sent (auto_explain.log_nested_statements): its query text is
 * not the client's.  A JSON or YAML plan quotes it as a JSON string.
 */
static bool
plan_of_nested_statement(const char *plan)
{
	const char *statement = current_statement_text();
	StringInfoData want;
	bool		found;

	if (statement == NULL)
		return true;
	initStringInfo(&want);
	appendStringInfo(&want, "Query Text: %s\n", statement);
	found = strncmp(plan, want.data, want.len) == 0;
	if (!found)
	{
		resetStringInfo(&want);
		escape_json(&want, statement);
		found = strstr(plan, psprintf("\"Query Text\": %s", want.data)) != NULL ||
			strstr(plan, psprintf("Query Text: %s", want.data)) != NULL;
	}
	pfree(want.data);
	return !found;
}

/*
 * Core's LOG lines that carry the statement text: redacted in place (the
 * client, if it asked for LOG messages, gets them redacted too).  A
 * debug_print_* tree holds constants as raw bytes: it is dropped.  Returns
 * whether the report was one of these.
 */
static bool
redact_statement_log(ErrorData *edata)
{
	bool		numbers = true;
	int			start = statement_log_text_start(edata, &numbers);

	if (start >= 0)
	{
		const char *from = edata->message + start;
		char	   *text;
		StringInfoData msg;

		/*
		 * After a decryption a nested statement may be dynamic SQL holding
		 * a decrypted value anywhere (a name, a number spliced with %s),
		 * in its text and in its plan: as for the QUERY line, drop it.
		 */
		if (!numbers && px_log_gave_plaintext && plan_of_nested_statement(from))
			text = "(the plan of a nested statement, not logged: the statement gave out plaintext)";
		/* a plan (numbers kept) may be JSON or YAML */
		else if (!numbers && plan_is_structured(from))
			text = redact_structured_plan(from);
		else if (!numbers)
			text = redact_text_plan(from);
		else
			text = px_redact_sql_literals(from, numbers);

		initStringInfo(&msg);
		appendBinaryStringInfo(&msg, edata->message, start);
		appendStringInfoString(&msg, text);
		replace_field(&edata->message, msg.data);
		/* "parameters: $1 = '...'", "prepare: PREPARE ..." */
		if (edata->detail)
			replace_field(&edata->detail, px_redact_sql_literals(edata->detail, true));
		if (edata->detail_log)
			replace_field(&edata->detail_log, px_redact_sql_literals(edata->detail_log, true));
		return true;
	}
	/* the postmaster's report of a crashed backend quotes its activity */
	if (edata->detail && strncmp(edata->detail, "Failed process was running: ", 28) == 0)
	{
		StringInfoData detail;

		initStringInfo(&detail);
		appendStringInfoString(&detail, "Failed process was running: ");
		appendStringInfoString(&detail, px_redact_sql_literals(edata->detail + 28, true));
		replace_field(&edata->detail, detail.data);
		return true;
	}
	if (edata->message_id && strcmp(edata->message_id, "%s:") == 0 && edata->message &&
		(strcmp(edata->message, "parse tree:") == 0 ||
		 strcmp(edata->message, "rewritten parse tree:") == 0 ||
		 strcmp(edata->message, "plan:") == 0) &&
		edata->detail)
	{
		replace_field(&edata->detail, "(not logged: privacy_ext is loaded)");
		return true;
	}
	return false;
}

/* The length of a "Process 123: " prefix at p, or 0. */
static int
process_query_prefix(const char *p)
{
	int			i = 8;

	if (strncmp(p, "Process ", 8) != 0)
		return 0;
	while (is_digit(p[i]))
		i++;
	if (i == 8 || p[i] != ':' || p[i + 1] != ' ')
		return 0;
	return i + 2;
}

/*
 * A deadlock report's server-only detail ends with each process's statement
 * ("Process 12: <statement>", which may span lines): their constants are
 * replaced.
 */
static void
redact_deadlock_report(ErrorData *edata)
{
	StringInfoData detail;
	const char *p;
	const char *query = NULL;

	if (edata->detail_log == NULL)
		return;
	for (p = edata->detail_log; p != NULL; p = strchr(p, '\n'))
	{
		if (*p == '\n')
			p++;
		if (process_query_prefix(p) > 0)
		{
			query = p;
			break;
		}
	}
	if (query == NULL)
		return;
	initStringInfo(&detail);
	appendBinaryStringInfo(&detail, edata->detail_log, query - edata->detail_log);
	while (*query)
	{
		int			prefix = process_query_prefix(query);
		const char *end = query + prefix;

		/* up to the next line that starts another process's statement */
		for (;;)
		{
			end = strchr(end, '\n');
			if (end == NULL || process_query_prefix(end + 1) > 0)
				break;
			end++;
		}
		if (end == NULL)
			end = query + strlen(query);
		appendBinaryStringInfo(&detail, query, prefix);
		appendStringInfoString(&detail,
							   px_redact_sql_literals(pnstrdup(query + prefix, end - query - prefix), true));
		query = end;
		if (*query == '\n')
		{
			appendStringInfoChar(&detail, '\n');
			query++;
		}
	}
	replace_field(&edata->detail_log, detail.data);
}

/* The hex digits at p, at most n of them, as a number; *used: how many. */
static pg_wchar
hex_digits(const char *p, int n, int *used)
{
	pg_wchar	c = 0;
	int			i;

	for (i = 0; i < n && px_hex_digit(p[i]) >= 0; i++)
		c = c * 16 + px_hex_digit(p[i]);
	*used = i;
	return c;
}

/* The escape character a U&'...' constant ending at end names in UESCAPE 'c', or backslash. */
static char
unicode_escape_char(const char *s, int len, int end)
{
	int			i = end;

	while (i < len && isspace((unsigned char) s[i]))
		i++;
	if (len - i < 7 || pg_strncasecmp(s + i, "uescape", 7) != 0)
		return '\\';
	i += 7;
	while (i < len && isspace((unsigned char) s[i]))
		i++;
	if (len - i >= 3 && s[i] == '\'' && s[i + 2] == '\'')
		return s[i + 1];
	return '\\';
}

/*
 * The value of a string constant as PostgreSQL's messages would quote it:
 * doubled quotes, backslash escapes (E'...', or plain strings read with
 * backslash escapes) and Unicode escapes (U&'...') decoded.  Bit strings
 * are left out (NULL).
 */
static char *
string_value(const char *s, int len, const StringSpan *span, bool plain_backslash)
{
	StringInfoData out;
	bool		backslash = span->kind == STRING_ESCAPED ||
		(span->kind == STRING_PLAIN && plain_backslash);
	char		uescape = '\\';
	int			i = span->body;

	if (span->kind == STRING_BITS)
		return NULL;
	if (span->kind == STRING_DOLLAR)
		return pnstrdup(s + span->body, span->end - span->body);
	if (span->kind == STRING_UNICODE)
		uescape = unicode_escape_char(s, len, span->end);
	initStringInfo(&out);
	while (i < span->end)
	{
		char		c = s[i];
		int			used;

		if (c == '\'')
		{
			if (i + 1 < span->end && s[i + 1] == '\'')
			{
				appendStringInfoChar(&out, '\'');
				i += 2;
				continue;
			}
			break;				/* the closing quote */
		}
		if (backslash && c == '\\' && i + 1 < span->end)
		{
			char		e = s[++i];

			i++;
			switch (e)
			{
				case 'b':
					appendStringInfoChar(&out, '\b');
					break;
				case 'f':
					appendStringInfoChar(&out, '\f');
					break;
				case 'n':
					appendStringInfoChar(&out, '\n');
					break;
				case 'r':
					appendStringInfoChar(&out, '\r');
					break;
				case 't':
					appendStringInfoChar(&out, '\t');
					break;
				case 'x':
					{
						pg_wchar	b = hex_digits(s + i, Min(2, span->end - i), &used);

						if (used == 0)
							appendStringInfoChar(&out, 'x');
						else if (b != 0)
							appendStringInfoChar(&out, (char) b);
						i += used;
					}
					break;
				case 'u':
				case 'U':
					{
						int			n = e == 'u' ? 4 : 8;
						pg_wchar	u = hex_digits(s + i, Min(n, span->end - i), &used);

						if (used < n)
							appendStringInfoChar(&out, e);
						else
							append_code_point(&out, u);
						if (used == n)
							i += used;
					}
					break;
				default:
					if (e >= '0' && e <= '7')
					{
						int			b = e - '0';

						for (used = 0; used < 2 && i < span->end && s[i] >= '0' && s[i] <= '7'; used++)
							b = b * 8 + (s[i++] - '0');
						if ((b & 0xFF) != 0)
							appendStringInfoChar(&out, (char) (b & 0xFF));
					}
					else
						appendStringInfoChar(&out, e);
					break;
			}
			continue;
		}
		if (span->kind == STRING_UNICODE && c == uescape && i + 1 < span->end)
		{
			if (s[i + 1] == uescape)
			{
				appendStringInfoChar(&out, uescape);
				i += 2;
				continue;
			}
			if (s[i + 1] == '+')
			{
				pg_wchar	u = hex_digits(s + i + 2, Min(6, span->end - i - 2), &used);

				if (used == 6)
				{
					append_code_point(&out, u);
					i += 8;
					continue;
				}
			}
			else
			{
				pg_wchar	u = hex_digits(s + i + 1, Min(4, span->end - i - 1), &used);

				if (used == 4)
				{
					append_code_point(&out, u);
					i += 5;
					continue;
				}
			}
		}
		appendStringInfoChar(&out, c);
		i++;
	}
	return out.data;
}

static int
longest_first(const ListCell *a, const ListCell *b)
{
	size_t		la = strlen((const char *) lfirst(a));
	size_t		lb = strlen((const char *) lfirst(b));

	return la > lb ? -1 : la < lb ? 1 : 0;
}

/*
 * The statement's string constants as a message may quote them: their
 * values (escapes decoded) and, as written, the pieces of 3 bytes or more
 * between their quote characters (', $, backslash); the pieces of 3 bytes
 * or more, longest first.
 */
static List *
statement_literal_pieces(const char *statement)
{
	int			len;
	unsigned char *mark;
	List	   *pieces = NIL;

	if (statement == NULL || strlen(statement) > MaxAllocSize / 4)
		return NIL;
	len = strlen(statement);
	mark = palloc0(len + 1);
	for (int reading = 0; reading < 2; reading++)
	{
		List	   *strings = NIL;
		ListCell   *lc;

		mark_constants(statement, len, reading == 1, false, mark, &strings);
		foreach(lc, strings)
		{
			char	   *value = string_value(statement, len, (StringSpan *) lfirst(lc), reading == 1);

			if (value != NULL && strlen(value) >= 3)
				pieces = lappend(pieces, value);
		}
	}
	for (int i = 0; i < len;)
	{
		int			start;

		while (i < len && (!mark[i] || statement[i] == '\'' || statement[i] == '$' || statement[i] == '\\'))
			i++;
		start = i;
		while (i < len && mark[i] && statement[i] != '\'' && statement[i] != '$' && statement[i] != '\\')
			i++;
		if (i - start >= 3)
			pieces = lappend(pieces, pnstrdup(statement + start, i - start));
	}
	pfree(mark);
	/* longest first, so that a piece inside a longer one is not masked first */
	list_sort(pieces, longest_first);
	return pieces;
}

/*
 * A message may quote a constant cut short (JSON data, line 1: {"a": "<the
 * value up to the bad token>): a run of PIECE_HEAD bytes or more that starts
 * a piece is masked too.
 */
#define PIECE_HEAD 8

/*
 * text with every occurrence of the pieces, and of the starts of them (see
 * PIECE_HEAD), replaced by ***; NULL stays NULL.
 */
static char *
mask_pieces(const char *text, List *pieces, bool *changed)
{
	char	   *result;
	ListCell   *lc;

	if (text == NULL)
		return NULL;
	result = pstrdup(text);
	foreach(lc, pieces)
	{
		const char *piece = (const char *) lfirst(lc);
		size_t		plen = strlen(piece);
		/* the start of the piece, then as much of it as follows */
		char	   *head = pnstrdup(piece, Min(plen, PIECE_HEAD));
		size_t		hlen = strlen(head);
		char	   *at;
		StringInfoData out;
		const char *p;

		if (strstr(result, head) == NULL)
			continue;
		initStringInfo(&out);
		p = result;
		while ((at = strstr(p, head)) != NULL)
		{
			size_t		run = hlen;

			while (run < plen && at[run] == piece[run])
				run++;
			/* a run that ends inside a multibyte character takes all of it */
			while ((at[run] & 0xC0) == 0x80)
				run++;
			appendBinaryStringInfo(&out, p, at - p);
			appendStringInfoString(&out, "***");
			p = at + run;
			*changed = true;
		}
		appendStringInfoString(&out, p);
		result = out.data;
	}
	return result;
}

/* Point debug_query_string at a redacted copy of the statement. */
static void
redact_statement(void)
{
	MemoryContext old;
	char	   *copy;

	if (debug_query_string == NULL || debug_query_string == redacted_statement)
		return;
	old = MemoryContextSwitchTo(TopMemoryContext);
	copy = px_redact_sql_literals(debug_query_string, true);
	if (redacted_original)
		pfree(redacted_original);
	redacted_original = pstrdup(debug_query_string);
	MemoryContextSwitchTo(old);
	redacted_from = debug_query_string;
	debug_query_string = copy;
	if (redacted_statement)
		pfree(redacted_statement);
	redacted_statement = copy;
}

/* The statement being run, as PostgreSQL set it (our copy: the original's memory is PostgreSQL's to free). */
static const char *
current_statement_text(void)
{
	if (debug_query_string != NULL && debug_query_string == redacted_statement)
		return redacted_original;
	return debug_query_string;
}

/* The substitute report itself (see emit_substitute). */
static void
write_substitute(ErrorData *edata, const SubstituteText *text, const char *context,
				 const char *query, bool query_changed)
{
	if (!errstart(LOG_SERVER_ONLY, edata->domain))
		return;
	errcode(edata->sqlerrcode);
	errmsg_internal("%s", text->message);
	if (text->detail)
		errdetail_internal("%s", text->detail);
	if (text->hint)
		errhint("%s", text->hint);
	if (context && context[0])
		errcontext("%s", context);
	if (query)
	{
		internalerrquery(query);
		if (!query_changed)
			internalerrposition(edata->internalpos);
	}
	errhidestmt(edata->hide_stmt);
	errfinish(edata->filename, edata->lineno, edata->funcname);
}

/*
 * emit_substitute's guard around the report.  PG_END_TRY restores
 * error_context_stack as it was at PG_TRY, which the caller (such as
 * exec_bind_message, which pops its own callback afterwards) relies on.
 */
static void
emit_substitute_guarded(ErrorData *edata, const SubstituteText *text, const char *context,
						const char *query, bool query_changed)
{
	HOLD_INTERRUPTS();
	in_substitute = true;
	substitute_elevel = edata->elevel;
	PG_TRY();
	{
		error_context_stack = NULL;
		write_substitute(edata, text, context, query, query_changed);
	}
	PG_FINALLY();
	{
		in_substitute = false;
		RESUME_INTERRUPTS();
	}
	PG_END_TRY();
}

/*
 * Writes the substitute of a sensitive report to the server log only; the
 * caller turns off the original's server output.  Context callbacks are
 * not run again (they would quote the value), interrupts are held (a
 * cancel must not be thrown from inside another report).
 */
static void
emit_substitute(ErrorData *edata, const SubstituteText *text, bool sensitive, bool redact_sql)
{
	const char *context = NULL;
	const char *query = NULL;

	if (text->context && !edata->hide_ctx)
		context = redact_sql || sensitive ? filter_context(text->context, sensitive) : text->context;
	/*
	 * After a decryption, dynamic SQL may hold a decrypted value anywhere
	 * (EXECUTE format('%s'), '%I'), not only as a constant: drop its text.
	 */
	if (edata->internalquery && px_log_gave_plaintext)
		query = "...";
	else if (edata->internalquery)
		query = redact_sql || sensitive ? px_redact_sql_literals(edata->internalquery, true)
			: edata->internalquery;
	emit_substitute_guarded(edata, text, context, query,
							query != NULL && strcmp(query, edata->internalquery) != 0);
}

static void
px_emit_log(ErrorData *edata)
{
	bool		ours;
	bool		sensitive;
	const char *values_hidden = NULL;	/* why, if they are */
	SubstituteText text;
	bool		parallel;
	bool		redact_sql;
	bool		needs_substitute = false;
	bool		statement_log = false;
	MemoryContext old;

	/* A Citus worker's audit counts: merged and dropped (audit/relay.c). */
	if (px_audit_relay_intercept(edata))
		return;
	if (in_substitute)
	{
		/* The substitute shows the severity of the report it replaces. */
		edata->elevel = substitute_elevel;
		if (prev_emit_log_hook)
			prev_emit_log_hook(edata);
		return;
	}
	if (!edata->output_to_server)
		goto chain;
	if (px_log_marks_ending)
		px_log_end_stale_marks();
	/* what this backend's parallel workers decrypted, up to now */
	take_worker_marks();
	if (held_plaintext != NIL && !px_log_gave_plaintext && plaintext_cursor_open())
		px_log_gave_plaintext = true;

	if (redact_cxt == NULL)
		redact_cxt = AllocSetContextCreate(TopMemoryContext, "privacy_ext log redaction",
										   ALLOCSET_SMALL_SIZES);
	MemoryContextReset(redact_cxt);
	old = MemoryContextSwitchTo(redact_cxt);

	/*
	 * The leader rethrows a worker's report with PostgreSQL's domain,
	 * whoever raised it (one of our errors, made before the worker marked
	 * anything, loses its "ours"), and without the library preloaded the
	 * workers' marks never reach the leader: so a report while in parallel
	 * mode counts as one from a statement that gave plaintext.  After the
	 * parallel part, the marks the workers handed over (take_worker_marks)
	 * speak for them.
	 */
	ours = is_our_report(edata);
	parallel = IsInParallelMode();
	sensitive = px_log_took_plaintext || px_log_gave_plaintext || ours || parallel;

	/*
	 * In place, for the client too: a foreign-data wrapper's report about
	 * data the current user may not read keeps no value.
	 */
	if (!ours && reading_foreign_unreadable)
		hide_foreign_values(edata);

	/* in place: server-only details, statement-logging lines */
	if (!ours)
	{
		redact_deadlock_report(edata);
		statement_log = edata->elevel <= LOG_SERVER_ONLY && redact_statement_log(edata);
	}

	text.message = edata->message ? edata->message : "missing error text";
	text.detail = edata->detail_log ? edata->detail_log : edata->detail;
	text.hint = edata->hint;
	text.context = edata->context;
	if (statement_log)
		;						/* statement text, already redacted */
	/*
	 * Our own errors and warnings too: they quote their arguments (a key
	 * name, a purpose), which in such a statement may be a decrypted value
	 * (privacy.encrypt(x, privacy.decrypt(c)) names the plaintext as the
	 * key).  Not our LOG lines: the audit trail names what it records.
	 */
	else if ((!ours || edata->elevel >= WARNING) && px_log_gave_plaintext)
		values_hidden = reading_masked_clear ?
			"the statement read a table with a masking view in clear, or decrypted protected data" :
			"the statement decrypted protected data";
	else if (!ours && copying_into_encrypted)
		values_hidden = "the statement copied rows into a table with encrypted columns";
	else if (!ours && copying_into_personal)
		values_hidden = "the statement copied rows into a masked or consent-protected table";
	else if (!ours && parallel)
		values_hidden = "the statement ran a parallel plan, whose workers may have decrypted protected data";
	else if (px_log_statement_literals == PX_LITERALS_HIDDEN && (!ours || edata->elevel >= ERROR))
	{
		/*
		 * A constant of the statement quoted back, as PostgreSQL does in
		 * "invalid input syntax for type integer: "<literal>"" (a plaintext
		 * written into the wrong column), or as our errors name a key given
		 * as a literal (a plaintext passed as the key name): masked like
		 * the STATEMENT line masks it.  Not in our LOG lines: the audit
		 * trail names what it records by design.
		 */
		List	   *pieces = statement_literal_pieces(current_statement_text());
		bool		changed = false;

		text.message = mask_pieces(text.message, pieces, &changed);
		text.detail = mask_pieces(text.detail, pieces, &changed);
		text.hint = mask_pieces(text.hint, pieces, &changed);
		/* a value's input function quotes it there: JSON data, line 1: {... */
		text.context = mask_pieces(text.context, pieces, &changed);
		if (changed)
			needs_substitute = true;
	}
	/*
	 * A constraint violation in a statement that wrote a masked table: its
	 * detail quotes the row, clear values of masked columns among them
	 * (also when they came as bound parameters, which are not constants of
	 * the statement): the log gets no detail.
	 */
	if (!statement_log && !ours && values_hidden == NULL && writing_personal_table &&
		ERRCODE_TO_CATEGORY(edata->sqlerrcode) == ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION &&
		text.detail != NULL)
	{
		text.detail = values_hidden_detail("logged", "the statement wrote a masked or consent-protected "
										   "table, whose values the detail quotes");
		needs_substitute = true;
	}
	if (values_hidden)
	{
		text.message = message_format_only(edata, "logged");
		text.detail = values_hidden_detail("logged", values_hidden);
		text.hint = NULL;
		if (edata->detail || edata->detail_log || edata->hint || edata->message_id == NULL ||
			edata->message == NULL || strcmp(edata->message, edata->message_id) != 0)
			needs_substitute = true;
	}

	if (check_log_of_query(edata))
	{
		if (px_log_statement_literals == PX_LITERALS_HIDDEN)
			redact_statement();
		else if (sensitive)
			edata->hide_stmt = true;
	}

	/*
	 * Statement text quoted in CONTEXT and QUERY loses its constants like
	 * the STATEMENT line; a sensitive report loses more (filter_context).
	 */
	redact_sql = px_log_statement_literals == PX_LITERALS_HIDDEN;
	if ((redact_sql || sensitive) && edata->context && !edata->hide_ctx &&
		strcmp(filter_context(edata->context, sensitive), edata->context) != 0)
		needs_substitute = true;
	if ((redact_sql || sensitive) && edata->internalquery &&
		(px_log_gave_plaintext ||
		 strcmp(px_redact_sql_literals(edata->internalquery, true), edata->internalquery) != 0))
		needs_substitute = true;

	/*
	 * A line that would read as an audit event but is not the log sink's
	 * own (RAISE LOG of a forged one, a parallel worker's event its leader
	 * reports again) is marked as none (audit/events.c).
	 */
	{
		const char *logged = px_audit_log_text(edata, text.message);

		if (logged != text.message)
		{
			text.message = logged;
			needs_substitute = true;
		}
	}

	if (needs_substitute)
	{
		emit_substitute(edata, &text, sensitive, redact_sql);
		edata->output_to_server = false;
		MemoryContextSwitchTo(old);
		return;
	}
	MemoryContextSwitchTo(old);

chain:
	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

/* ---------------------------------------------------------------------
 * SQL-callable
 * ---------------------------------------------------------------------
 */

/* privacy.redact_literals(text): SQL text as the server log gets it. */
PG_FUNCTION_INFO_V1(px_redact_literals);
Datum
px_redact_literals(PG_FUNCTION_ARGS)
{
	char	   *sql = text_to_cstring(PG_GETARG_TEXT_PP(0));

	PG_RETURN_TEXT_P(cstring_to_text(px_redact_sql_literals(sql, true)));
}

/* Whether a list of libraries (a preload setting) names privacy_ext. */
static bool
lists_privacy_ext(const char *setting)
{
	char	   *copy;
	List	   *names;
	ListCell   *lc;
	bool		found = false;

	if (setting == NULL || setting[0] == '\0')
		return false;
	copy = pstrdup(setting);
	if (!SplitDirectoriesString(copy, ',', &names))
		return false;
	foreach(lc, names)
	{
		const char *name = (const char *) lfirst(lc);
		const char *base = strrchr(name, '/');

		base = base ? base + 1 : name;
		if (strcmp(base, "privacy_ext") == 0 || strcmp(base, "privacy_ext" DLSUFFIX) == 0)
			found = true;
	}
	return found;
}

/*
 * privacy.log_redaction_preloaded(): whether every session has the log
 * hook from its start (privacy_ext preloaded by the server, or named in
 * this session's session_preload_libraries), which the inventory reports.
 * Read without the caller's privilege to read these settings.
 */
PG_FUNCTION_INFO_V1(px_log_redaction_preloaded);
Datum
px_log_redaction_preloaded(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(px_loaded_at_start ||
				   lists_privacy_ext(GetConfigOption("session_preload_libraries", true, false)));
}

/* ---------------------------------------------------------------------
 * Parallel workers' marks, handed to their leader
 *
 * A value decrypted (or a plaintext taken in) by a parallel worker reaches
 * the leader as a row, and the leader can carry it past the parallel part
 * of its plan: RETURN QUERY's rows are cast by the calling statement, a
 * CREATE TABLE AS writes them for a later statement of the transaction to
 * read.  Once the parallel part ends the leader is out of parallel mode,
 * so unless the worker's marks are its own those later reports would be
 * logged as if nothing had been decrypted.  So a worker's first mark of
 * each kind is also set in its leader's slot of an array in shared memory
 * (found through the lock group, as audit/counts.c hands over its
 * counts), before the value it concerns leaves the worker; the leader
 * takes the slot's marks into its own before every report it logs and
 * when its transaction ends, so they last as a serial decryption's would.
 * This covers every kind of parallel work the same way: Gather and
 * Gather Merge nodes (queries, CREATE TABLE AS, SELECT INTO, REFRESH
 * MATERIALIZED VIEW, PL/pgSQL's queries) and parallel index builds, whose
 * workers evaluate the index expressions.  Only what the workers did
 * marks the leader: a parallel plan that decrypted nothing leaves later
 * statements' reports as they were.
 *
 * The slot is written at the mark itself, not when the worker ends: a
 * worker that fails after handing rows to a leader whose PL/pgSQL
 * exception block catches the error never ends normally, and the rows it
 * handed over stay (in a RETURN QUERY's result, say).  The audit counts'
 * slots are not reused: they are filled only while auditing is on and can
 * be full, and a mark must reach the leader whatever privacy.audit says.
 *
 * The array needs the library in shared_preload_libraries.  Without it
 * (the library loaded by a session), a leader cannot learn what its
 * workers did and marks itself at the start of every plan that runs in
 * parallel mode and of every utility statement that can build an index
 * in parallel (note_parallel_unseen).
 * ---------------------------------------------------------------------
 */
typedef struct WorkerMarksSlot
{
	slock_t		mutex;
	int32		leader_pid;		/* whose workers' marks these are; 0: none */
	uint32		marks;			/* PX_LOG_TOOK | PX_LOG_GAVE */
} WorkerMarksSlot;

static WorkerMarksSlot *marks_slots = NULL;
static int	marks_nslots = 0;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static Size
marks_slots_size(void)
{
	return mul_size(sizeof(WorkerMarksSlot), (Size) MaxBackends);
}

static void
marks_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(marks_slots_size()));
}

static void
marks_shmem_startup(void)
{
	bool		found;
	int			i;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	marks_slots = ShmemInitStruct("privacy_ext log worker marks", marks_slots_size(), &found);
	if (!found)
		for (i = 0; i < MaxBackends; i++)
		{
			SpinLockInit(&marks_slots[i].mutex);
			marks_slots[i].leader_pid = 0;
			marks_slots[i].marks = 0;
		}
	marks_nslots = MaxBackends;
	LWLockRelease(AddinShmemInitLock);
}

/* Worker: add mark to its leader's slot. */
static void
hand_mark_to_leader(uint32 mark)
{
	PGPROC	   *leader = MyProc != NULL ? MyProc->lockGroupLeader : NULL;
	WorkerMarksSlot *slot;

	if (marks_slots == NULL || leader == NULL || leader == MyProc ||
		leader->pgprocno >= marks_nslots)
		return;
	slot = &marks_slots[leader->pgprocno];
	SpinLockAcquire(&slot->mutex);
	/* left by a backend that had this slot before: not this leader's */
	if (slot->leader_pid != leader->pid)
	{
		slot->leader_pid = leader->pid;
		slot->marks = 0;
	}
	slot->marks |= mark;
	SpinLockRelease(&slot->mutex);
}

/*
 * Leader: its workers' marks become its own.  The slot is read under its
 * lock: a worker sets it before the row it concerns is sent, so a report
 * about that row finds it.
 */
static void
take_worker_marks(void)
{
	WorkerMarksSlot *slot;
	uint32		marks = 0;

	if (marks_slots == NULL || IsParallelWorker() || MyProc == NULL ||
		MyProc->pgprocno >= marks_nslots)
		return;
	slot = &marks_slots[MyProc->pgprocno];
	SpinLockAcquire(&slot->mutex);
	if (slot->leader_pid == MyProcPid)
		marks = slot->marks;
	slot->marks = 0;
	SpinLockRelease(&slot->mutex);
	/* as if the leader had marked now, so the marks end as its own do */
	if (marks & PX_LOG_TOOK)
		px_note_plaintext_in();
	if (marks & PX_LOG_GAVE)
		px_note_plaintext_out();
}

void
px_log_first_mark(uint32 mark)
{
	if (mark & PX_LOG_TOOK)
		px_log_took_plaintext = true;
	if (mark & PX_LOG_GAVE)
		px_log_gave_plaintext = true;
	if (IsParallelWorker())
		hand_mark_to_leader(mark);
}

/*
 * Without the array (the library not preloaded): what the workers of a
 * parallel plan or index build did is unknown to the leader, which counts
 * them as having taken and given plaintext, from the start of the work
 * (its rows may outlive a failure, see above).  Broader than needed, for
 * a configuration the README already advises against.
 */
static void
note_parallel_unseen(void)
{
	if (marks_slots != NULL || IsParallelWorker())
		return;
	px_note_plaintext_in();
	px_note_plaintext_out();
}

/* Whether a utility statement can build an index with parallel workers. */
static bool
may_build_index_in_parallel(const Node *stmt)
{
	if (max_parallel_maintenance_workers <= 0)
		return false;
	/*
	 * CREATE INDEX and REINDEX; ALTER TABLE, CLUSTER, VACUUM FULL and
	 * REFRESH MATERIALIZED VIEW rebuild a table's indexes.
	 */
	return IsA(stmt, IndexStmt) || IsA(stmt, ReindexStmt) || IsA(stmt, AlterTableStmt) ||
		IsA(stmt, ClusterStmt) || IsA(stmt, VacuumStmt) || IsA(stmt, RefreshMatViewStmt);
}

/* ---------------------------------------------------------------------
 * When the marks end
 * ---------------------------------------------------------------------
 */

/*
 * WITH HOLD cursors.  Such a cursor's query runs to its end when the
 * transaction that declared it commits, and its rows, decrypted values
 * among them, are then handed out by FETCHes of later transactions (a SQL
 * FETCH, PL/pgSQL's) that run none of the extension's code, so mark
 * nothing.  The cursors declared in the current transaction are noted
 * here; those alive when it commits with the marks of decrypted data set
 * are kept, by name and creation time, and while any of them is still
 * open every report counts as one from a statement that gave plaintext.
 */
typedef struct HeldCursor
{
	char		name[NAMEDATALEN];
	TimestampTz created;
} HeldCursor;


static void
note_held_cursor(const char *name)
{
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

	held_declared = lappend(held_declared, pstrdup(name));
	MemoryContextSwitchTo(old);
}

/* At commit: the declared cursors that hold decrypted rows from now on. */
static void
keep_plaintext_cursors(bool committed)
{
	ListCell   *lc;

	foreach(lc, held_declared)
	{
		char	   *name = (char *) lfirst(lc);
		Portal		portal = committed && px_log_gave_plaintext ? GetPortalByName(name) : NULL;

		if (portal != NULL && (portal->cursorOptions & CURSOR_OPT_HOLD))
		{
			HeldCursor *held = MemoryContextAlloc(TopMemoryContext, sizeof(HeldCursor));

			MemoryContext old;

			strlcpy(held->name, name, NAMEDATALEN);
			held->created = portal->creation_time;
			/* the list outlives the transaction, as its members do */
			old = MemoryContextSwitchTo(TopMemoryContext);
			held_plaintext = lappend(held_plaintext, held);
			MemoryContextSwitchTo(old);
		}
		pfree(name);
	}
	list_free(held_declared);
	held_declared = NIL;
}

/* Whether a cursor holding decrypted rows is open; forgets closed ones. */
static bool
plaintext_cursor_open(void)
{
	ListCell   *lc;

	foreach(lc, held_plaintext)
	{
		HeldCursor *held = (HeldCursor *) lfirst(lc);
		Portal		portal = GetPortalByName(held->name);

		if (portal != NULL && portal->creation_time == held->created)
			return true;
		held_plaintext = foreach_delete_current(held_plaintext, lc);
		pfree(held);
	}
	return false;
}

static void
clear_marks(void)
{
	px_log_took_plaintext = false;
	px_log_gave_plaintext = false;
	copying_into_encrypted = false;
	writing_personal_table = false;
	copying_into_personal = false;
	reading_masked_clear = false;
	reading_foreign_unreadable = false;
}

/*
 * The marks end with the query string, not at its transaction's end: a
 * COMMIT between two statements of one simple-query string ends a
 * transaction, but a later statement's report still logs the whole string
 * (with the earlier statement's literals) as its STATEMENT line.  So a
 * transaction end only notes the string the marks belong to, by the
 * statement_timestamp() of its client message (constant for the whole
 * string, through a procedure's COMMIT too; a debug_query_string pointer
 * could be reused by the next message), and they go at the first mark or
 * report of another message, or after the string is done
 * (debug_query_string reset: an idle session's reports, its disconnection).
 * A new message within the same microsecond keeps the marks: it is hidden
 * more, never less.
 */
bool		px_log_marks_ending = false;
static TimestampTz marks_message_start = 0;

void
px_log_end_stale_marks(void)
{
	if (debug_query_string != NULL &&
		GetCurrentStatementStartTimestamp() == marks_message_start)
		return;
	clear_marks();
	px_log_marks_ending = false;
}

/*
 * Whether a value of the type can hold an encrypted value: the type, a
 * domain over it, or an array, composite or range with one inside.  A
 * composite nested too deep to look at counts as holding one.
 */
static bool
type_holds_encrypted(Oid typid, int depth)
{
	Oid			base = getBaseType(typid);
	px_value_type unused;
	Oid			inner;
	char		typtype;

	if (depth > 8)
		return true;
	if (px_encrypted_type(base, &unused))
		return true;
	inner = get_element_type(base);
	if (OidIsValid(inner))
		return type_holds_encrypted(inner, depth + 1);
	typtype = get_typtype(base);
	if (typtype == TYPTYPE_RANGE)
		return type_holds_encrypted(get_range_subtype(base), depth + 1);
	if (typtype == TYPTYPE_MULTIRANGE)
		return type_holds_encrypted(get_multirange_range(base), depth + 1);
	if (typtype == TYPTYPE_COMPOSITE)
	{
		TupleDesc	desc = lookup_rowtype_tupdesc(base, -1);
		bool		found = false;

		for (int i = 0; i < desc->natts && !found; i++)
			if (!TupleDescAttr(desc, i)->attisdropped)
				found = type_holds_encrypted(TupleDescAttr(desc, i)->atttypid, depth + 1);
		ReleaseTupleDesc(desc);
		return found;
	}
	return false;
}

/* Whether COPY FROM copies into a table with a column that holds encrypted values. */
static bool
copy_into_encrypted(const CopyStmt *stmt)
{
	Oid			relid;
	Oid			rowtype;

	if (stmt->relation == NULL)
		return false;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (!OidIsValid(relid))
		return false;
	/* its row type has its columns */
	rowtype = get_rel_type_id(relid);
	return OidIsValid(rowtype) && type_holds_encrypted(rowtype, 0);
}

/* Whether a table has a masking view: its rows hold values some roles read only masked. */
static bool
has_masking_view(Oid relid)
{
	return OidIsValid(px_masking_view_of(relid));
}

/*
 * Whether the table, or a partitioned table it is a partition of, passes
 * test.
 */
static bool
table_or_ancestor(Oid relid, bool (*test) (Oid relid))
{
	ListCell   *lc;
	List	   *ancestors;

	if (test(relid))
		return true;
	if (!get_rel_relispartition(relid))
		return false;
	ancestors = get_partition_ancestors(relid);
	foreach(lc, ancestors)
		if (test(lfirst_oid(lc)))
			return true;
	return false;
}

/* Whether a table (or a partitioned table above it) has a masking view. */
static bool
table_is_masked(Oid relid)
{
	return table_or_ancestor(relid, has_masking_view);
}

/*
 * Notes a write into a masked or a consent-protected table (see
 * writing_personal_table).  The consent policy is read from the relcache:
 * the writer is its owner or bypasses row security as often as not, and
 * the rows it writes are personal data all the same.
 */
static void
note_write(Oid relid)
{
	if (!writing_personal_table && OidIsValid(relid) && ActiveSnapshotSet() &&
		(table_is_masked(relid) || table_or_ancestor(relid, px_relation_consent_protected)))
		writing_personal_table = true;
}

/*
 * How many utility statements are running (nested ones count: a CALL in a
 * procedure).  A procedure's or DO block's COMMIT and ROLLBACK end
 * transactions inside a running CALL or DO, whose PL/pgSQL variables still
 * hold what was decrypted before: the marks outlive those transaction ends
 * and start ending at the first one outside any statement (the top-level
 * statement's own commit, or the abort after its error has been reported).
 */
static int	utility_depth = 0;

static void
log_redact_process_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
						   ProcessUtilityContext context, ParamListInfo params,
						   QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	/*
	 * COPY FROM's context lines quote the row being read, and a row can
	 * fail before its encrypted column's input function has run.
	 */
	if (IsA(pstmt->utilityStmt, CopyStmt) && ((CopyStmt *) pstmt->utilityStmt)->is_from)
	{
		px_note_plaintext_in();
		if (copy_into_encrypted((CopyStmt *) pstmt->utilityStmt))
			copying_into_encrypted = true;
		if (((CopyStmt *) pstmt->utilityStmt)->relation)
		{
			/* the lock COPY FROM takes itself, before the relcache is read */
			note_write(RangeVarGetRelid(((CopyStmt *) pstmt->utilityStmt)->relation,
										RowExclusiveLock, true));
			if (writing_personal_table)
				copying_into_personal = true;
		}
	}

	if (marks_slots == NULL && may_build_index_in_parallel(pstmt->utilityStmt))
		note_parallel_unseen();

	if (IsA(pstmt->utilityStmt, DeclareCursorStmt) &&
		(((DeclareCursorStmt *) pstmt->utilityStmt)->options & CURSOR_OPT_HOLD))
		note_held_cursor(((DeclareCursorStmt *) pstmt->utilityStmt)->portalname);

	utility_depth++;
	PG_TRY();
	{
		if (prev_process_utility)
			prev_process_utility(pstmt, queryString, readOnlyTree, context, params,
								 queryEnv, dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
									queryEnv, dest, qc);
	}
	PG_FINALLY();
	{
		utility_depth--;
	}
	PG_END_TRY();
}

/*
 * Marks a statement that reads a foreign table the user may not read, and
 * one that reads a foreign table with an encrypted column: a foreign-data
 * wrapper parses what it reads with the column types' input functions, so
 * such a column's data is plaintext (file_fdw's file), and the wrapper's
 * report about a bad line quotes it ("COPY t, line 1: "...""), before any
 * input function of ours has run to mark the statement.  Treated as a COPY
 * FROM into a table with an encrypted column.  And, without the library
 * preloaded, one that runs in parallel mode.
 */
static void
log_redact_executor_start(QueryDesc *queryDesc, int eflags)
{
	ListCell   *lc;

	/* an earlier string's mark goes first, not after this one is set */
	if (unlikely(px_log_marks_ending))
		px_log_end_stale_marks();
	if (queryDesc->plannedstmt && queryDesc->plannedstmt->parallelModeNeeded)
		note_parallel_unseen();
	if (queryDesc->plannedstmt)
	{
		foreach(lc, queryDesc->plannedstmt->rtable)
		{
			RangeTblEntry *rte = (RangeTblEntry *) lfirst(lc);
			Oid			rowtype;

			/*
			 * A masked table read in clear (by a role that is not masked,
			 * or by a masking view as its owner): PostgreSQL's messages
			 * about its values quote them ("invalid input syntax for type
			 * integer: "<a masked column's value>""), as they would a
			 * decrypted value; the statement gave plaintext out.
			 */
			if (rte->rtekind == RTE_RELATION && !px_log_gave_plaintext &&
				!(eflags & EXEC_FLAG_EXPLAIN_ONLY) && (rte->requiredPerms & ACL_SELECT) &&
				(rte->relkind == RELKIND_RELATION || rte->relkind == RELKIND_PARTITIONED_TABLE ||
				 rte->relkind == RELKIND_MATVIEW) &&
				ActiveSnapshotSet() && table_is_masked(rte->relid))
			{
				px_note_plaintext_out();
				reading_masked_clear = true;
			}
			if (rte->rtekind == RTE_RELATION && !writing_personal_table &&
				(rte->requiredPerms & (ACL_INSERT | ACL_UPDATE | ACL_DELETE)) &&
				(rte->relkind == RELKIND_RELATION || rte->relkind == RELKIND_PARTITIONED_TABLE))
				note_write(rte->relid);
			if (rte->rtekind != RTE_RELATION || rte->relkind != RELKIND_FOREIGN_TABLE)
				continue;
			if (!reading_foreign_unreadable &&
				pg_class_aclcheck(rte->relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
				reading_foreign_unreadable = true;
			if (!copying_into_encrypted)
			{
				rowtype = get_rel_type_id(rte->relid);
				if (OidIsValid(rowtype) && type_holds_encrypted(rowtype, 0))
				{
					px_note_plaintext_in();
					copying_into_encrypted = true;
				}
			}
		}
	}
	if (prev_executor_start)
		prev_executor_start(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

/*
 * After the error of a failed statement has been reported, and at commit,
 * the marks start ending (px_log_end_stale_marks); not at the transaction
 * ends inside a running statement (utility_depth).
 */
static void
log_redact_xact_callback(XactEvent event, void *arg)
{
	/*
	 * The workers are gone by now (a transaction end waits for them): what
	 * they marked ends with the leader's own marks, not in a later
	 * transaction.
	 */
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PREPARE)
	{
		take_worker_marks();
		keep_plaintext_cursors(event == XACT_EVENT_COMMIT);
	}
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			if (utility_depth == 0 && !px_log_marks_ending)
			{
				px_log_marks_ending = true;
				marks_message_start = GetCurrentStatementStartTimestamp();
			}
			break;
		default:
			break;
	}
}

void
px_install_log_redaction(void)
{
	DefineCustomEnumVariable("privacy.log_statement_literals",
							 "Whether the STATEMENT lines of the server log keep constants.",
							 "hidden: string and numeric constants are logged as '***' and ***; "
							 "shown: as written, except that a statement that took or gave "
							 "plaintext is not logged.",
							 &px_log_statement_literals,
							 PX_LITERALS_HIDDEN,
							 literals_options,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = px_emit_log;
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = log_redact_process_utility;
	prev_executor_start = ExecutorStart_hook;
	ExecutorStart_hook = log_redact_executor_start;
	RegisterXactCallback(log_redact_xact_callback, NULL);
	if (process_shared_preload_libraries_in_progress)
	{
		prev_shmem_request_hook = shmem_request_hook;
		shmem_request_hook = marks_shmem_request;
		prev_shmem_startup_hook = shmem_startup_hook;
		shmem_startup_hook = marks_shmem_startup;
	}
}
