/*
 * errors.c
 *		Turning the core's status codes into errors with privacy_ext's
 *		SQLSTATEs (errors.h).
 */
#include "errors.h"

#include "mb/pg_wchar.h"

/* Turns a failed core status code into an ERROR (px_report_status's slow path). */
void
px_report_failure(px_status status, bool hide)
{
	switch (status)
	{
		case PX_OK:
			break;
		case PX_ERR_MALFORMED:
			ereport(ERROR,
					(errcode(ERRCODE_PX_MALFORMED),
					 errmsg("malformed privacy_ext envelope"),
					 hide ? px_errhide() : 0));
			break;
		case PX_ERR_AUTH:
			ereport(ERROR,
					(errcode(ERRCODE_PX_AUTH_FAILED),
					 errmsg("privacy_ext envelope failed authentication"),
					 errdetail("The value was tampered with, truncated, or relabelled."),
					 hide ? px_errhide() : 0));
			break;
		case PX_ERR_TOO_LONG:
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("value too long to encrypt"),
					 hide ? px_errhide() : 0));
			break;
		case PX_ERR_RANDOM:
		case PX_ERR_CRYPTO:
			ereport(ERROR,
					(errcode(ERRCODE_PX_CRYPTO),
					 errmsg("privacy_ext cryptographic operation failed: %s",
							px_status_message(status)),
					 hide ? px_errhide() : 0));
			break;
	}
	elog(ERROR, "privacy_ext: unexpected status %d", (int) status);
}


/*
 * A name (of a key, a role) to show in an error message.  Valid names are
 * shorter than NAMEDATALEN bytes and shown whole; longer input (up to a
 * gigabyte of text) is shown as its first PX_MESSAGE_NAME_MAX bytes, cut
 * at a character boundary, and "...", so a message stays readable and the
 * server log does not fill with it.
 */
void
px_require_argument(FunctionCallInfo fcinfo, int argno, const char *what)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", what)));
}

const char *
px_name_for_message(const char *name)
{
	int			len = strlen(name);
	int			clip;

	if (len <= PX_MESSAGE_NAME_MAX)
		return name;
	clip = pg_mbcliplen(name, len, PX_MESSAGE_NAME_MAX);
	return psprintf("%.*s...", clip, name);
}
