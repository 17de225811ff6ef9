/*
 * errors.h
 *		privacy_ext's message domain and SQLSTATEs, hiding the statement of
 *		an error raised while a protected value is at hand, and turning the
 *		core's status codes into errors (errors.c).
 *
 * Include it first, instead of postgres.h, in every file that reports.
 */
#ifndef PX_ERRORS_H
#define PX_ERRORS_H

#include "postgres.h"

#include "fmgr.h"

/*
 * Our reports carry the message domain "privacy_ext-15" instead of
 * PostgreSQL's, so that the log redaction (log_redact.c) tells them apart.
 */
#undef TEXTDOMAIN
#define TEXTDOMAIN PG_TEXTDOMAIN("privacy_ext")

/*
 * SQLSTATEs of privacy_ext's own errors, class "PX".  Permission denied for
 * a key uses the standard 42501.
 */
#define ERRCODE_PX_UNKNOWN_KEY		MAKE_SQLSTATE('P','X','K','0','1')
#define ERRCODE_PX_KEY_DESTROYED	MAKE_SQLSTATE('P','X','K','0','2')
#define ERRCODE_PX_WRONG_KEY		MAKE_SQLSTATE('P','X','K','0','3')
#define ERRCODE_PX_UNBOUND_VALUE	MAKE_SQLSTATE('P','X','K','0','4')
#define ERRCODE_PX_AUTH_FAILED		MAKE_SQLSTATE('P','X','A','0','1')
#define ERRCODE_PX_MALFORMED		MAKE_SQLSTATE('P','X','E','0','1')
#define ERRCODE_PX_WRONG_TYPE		MAKE_SQLSTATE('P','X','E','0','2')
#define ERRCODE_PX_ROOT_KEY			MAKE_SQLSTATE('P','X','R','0','1')
#define ERRCODE_PX_ROOT_KEY_MISMATCH MAKE_SQLSTATE('P','X','R','0','2')
#define ERRCODE_PX_CRYPTO			MAKE_SQLSTATE('P','X','C','0','1')

/*
 * Errors raised while a protected value is at hand hide the statement and
 * context from the server log: either may carry the plaintext literal.
 */
#define px_errhide() (errhidestmt(true), errhidecontext(true))

#include "px_core.h"

extern void px_report_failure(px_status status, bool hide) pg_attribute_noreturn();

/* A name as error messages show it: long input clipped (errors.c). */
#define PX_MESSAGE_NAME_MAX 64
extern const char *px_name_for_message(const char *name);

/*
 * The administrative functions that change state (create_key, grant_key,
 * reencrypt, anonymize_table, ...) are not STRICT: a NULL argument would
 * make the call do nothing and answer NULL, which reads like success.  They
 * check each argument with this instead: 22004, naming the argument.
 */
extern void px_require_argument(FunctionCallInfo fcinfo, int argno, const char *what);

/* Turns a core status code into an ERROR; returns on PX_OK (inline: per row). */
static inline void
px_report_status(px_status status, bool hide)
{
	if (unlikely(status != PX_OK))
		px_report_failure(status, hide);
}

#endif							/* PX_ERRORS_H */
