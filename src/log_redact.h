/*
 * log_redact.h
 *		Keeping plaintext out of the server log.
 *
 * Paths that take plaintext in (type input, encrypt(), the casts from text
 * and bytea) or hand plaintext out (decrypt, unmasking, data-subject
 * exports) mark the current statement; log_redact.c's emit_log_hook then
 * hides what an error report would otherwise copy into the server log.
 * Marking is a store to a global, cheap enough for every row; a parallel
 * worker's first mark of each kind also goes to its leader.
 *
 * The marks last until the transaction ends (after an error has been
 * reported) and the query string they were set in is done, so a report
 * about a marked statement always sees them, even one about a later
 * statement of the same string, whose STATEMENT line is the whole string; a
 * COMMIT or ROLLBACK inside a running CALL or DO does not end them.  What the hook does
 * with a report is described at the top of log_redact.c.
 */
#ifndef PX_LOG_REDACT_H
#define PX_LOG_REDACT_H

#include "postgres.h"

/* This statement bound plaintext input to an encrypted type. */
extern bool px_log_took_plaintext;
/* This statement produced plaintext (decrypt, unmask, export). */
extern bool px_log_gave_plaintext;

/*
 * The transaction of the marks has ended: they go at the first mark or
 * report of another query string (px_log_end_stale_marks).
 */
extern bool px_log_marks_ending;
extern void px_log_end_stale_marks(void);

/*
 * A mark set for the first time since the marks last ended: in a parallel
 * worker it is handed to the leader as well (log_redact.c), whose reports
 * and later statements a worker's decryption concerns.
 */
#define PX_LOG_TOOK 0x01
#define PX_LOG_GAVE 0x02
extern void px_log_first_mark(uint32 mark);

/* Called from _PG_init before the privacy prefix is reserved. */
extern void px_install_log_redaction(void);

/*
 * A copy of SQL text with the contents of every string constant (and, if
 * numbers, every numeric constant) replaced by a placeholder; palloc'd in
 * the current memory context.  The statement's shape is kept.
 */
extern char *px_redact_sql_literals(const char *sql, bool numbers);

static inline void
px_note_plaintext_in(void)
{
	if (unlikely(px_log_marks_ending))
		px_log_end_stale_marks();
	/* per row: the call is paid once per statement */
	if (unlikely(!px_log_took_plaintext))
		px_log_first_mark(PX_LOG_TOOK);
}

static inline void
px_note_plaintext_out(void)
{
	if (unlikely(px_log_marks_ending))
		px_log_end_stale_marks();
	if (unlikely(!px_log_gave_plaintext))
		px_log_first_mark(PX_LOG_GAVE);
}

#endif							/* PX_LOG_REDACT_H */
