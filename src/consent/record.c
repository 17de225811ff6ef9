/*
 * consent/record.c
 *		Recording consent: privacy.grant_consent() and
 *		privacy.withdraw_consent(), the only way (but a superuser's) into
 *		privacy.consent_state and privacy.consent_events.
 *
 * Nobody but a superuser may write those tables, so a consent cannot
 * change without its event, and an event cannot be written with an author
 * or a time of the caller's choosing.  The writes are done by SECURITY
 * DEFINER functions (privacy.record_consent_grant/_withdraw, owned by the
 * extension's owner, executable by nobody else), which cannot know who
 * called them: inside a SECURITY DEFINER function current_user is its
 * owner.  So the public entry points are these C functions, which run as
 * their caller: they check the caller (superuser, or the privileges of
 * privacy_consent_manager or privacy_admin, as 1.0 did), take the caller's
 * session_user and current_user from the server, and call the writer
 * through the function manager, which (unlike a call from SQL) checks no
 * EXECUTE privilege.  The writer sets the event's time from the server
 * clock.
 */
#include "errors.h"
#include "admin.h"

#include "access/detoast.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "utils/acl.h"
#include "utils/builtins.h"

#define MAX_WRITER_ARGS 8
/* Subject ids are keys (an email, a uuid, a customer number), not documents. */
#define MAX_SUBJECT_BYTES 1024
/* Evidence is a reference (a form version, a document id), not the document. */
#define MAX_EVIDENCE_BYTES 65536

/* Whether the current user may record consent (1.0's require_consent_manager()). */
static void
require_consent_recorder(void)
{
	if (px_is_consent_manager())
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to record consent"),
			 errhint("Recording consent requires membership in privacy_consent_manager or privacy_admin.")));
}

/*
 * What every consent is recorded for: clear errors rather than a
 * constraint's (or an index's, for a subject too long to index).  The
 * purpose is checked by the writer, which reads the registry.
 */
static void
check_consent_input(FunctionCallInfo fcinfo, int evidence_arg)
{
	Size		subject_bytes;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("subject and purpose must not be NULL")));
	subject_bytes = toast_raw_datum_size(PG_GETARG_DATUM(0)) - VARHDRSZ;
	if (subject_bytes == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("subject must not be empty")));
	if (subject_bytes > MAX_SUBJECT_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("subject is too long"),
				 errdetail("It has %zu bytes; at most %d are allowed.", subject_bytes,
						   MAX_SUBJECT_BYTES)));
	if (!PG_ARGISNULL(evidence_arg) &&
		toast_raw_datum_size(PG_GETARG_DATUM(evidence_arg)) - VARHDRSZ > MAX_EVIDENCE_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("consent evidence is too large"),
				 errdetail("At most %d bytes of evidence are allowed.", MAX_EVIDENCE_BYTES),
				 errhint("Record a reference to the evidence (a form version, a document id) rather than the document.")));
}

static Datum
name_datum(Oid role)
{
	Name		n = (Name) palloc0(NAMEDATALEN);

	namestrcpy(n, GetUserNameFromId(role, false));
	return NameGetDatum(n);
}

/*
 * Call privacy.<writer>(session_user, current_user, <the caller's
 * arguments>), whose argument types are argtypes (the two names first).
 */
static Datum
call_writer(FunctionCallInfo fcinfo, const char *writer, const Oid *argtypes, int nargs,
			bool *isnull)
{
	List	   *fname = list_make2(makeString("privacy"), makeString(pstrdup(writer)));
	Oid			fn;
	FmgrInfo	flinfo;
	Datum		result;
	int			i;

	LOCAL_FCINFO(call, MAX_WRITER_ARGS);

	Assert(nargs == PG_NARGS() + 2 && nargs <= MAX_WRITER_ARGS);
	fn = LookupFuncName(fname, nargs, argtypes, false);
	fmgr_info(fn, &flinfo);
	InitFunctionCallInfoData(*call, &flinfo, nargs, PG_GET_COLLATION(), NULL, NULL);
	call->args[0].value = name_datum(GetSessionUserId());
	call->args[0].isnull = false;
	call->args[1].value = name_datum(GetUserId());
	call->args[1].isnull = false;
	for (i = 0; i < PG_NARGS(); i++)
	{
		call->args[i + 2].value = PG_GETARG_DATUM(i);
		call->args[i + 2].isnull = PG_ARGISNULL(i);
	}
	result = FunctionCallInvoke(call);
	*isnull = call->isnull;
	return result;
}

/* privacy.grant_consent(subject, purpose, expires_at, policy_version, evidence) */
PG_FUNCTION_INFO_V1(px_grant_consent);
Datum
px_grant_consent(PG_FUNCTION_ARGS)
{
	static const Oid argtypes[] = {NAMEOID, NAMEOID, TEXTOID, TEXTOID, TIMESTAMPTZOID,
	TEXTOID, JSONBOID};
	bool		isnull;

	require_consent_recorder();
	check_consent_input(fcinfo, 4);
	(void) call_writer(fcinfo, "record_consent_grant", argtypes, lengthof(argtypes), &isnull);
	PG_RETURN_VOID();
}

/* privacy.withdraw_consent(subject, purpose, evidence): whether there was a consent to withdraw */
PG_FUNCTION_INFO_V1(px_withdraw_consent);
Datum
px_withdraw_consent(PG_FUNCTION_ARGS)
{
	static const Oid argtypes[] = {NAMEOID, NAMEOID, TEXTOID, TEXTOID, JSONBOID};
	bool		isnull;
	Datum		found;

	require_consent_recorder();
	check_consent_input(fcinfo, 2);
	found = call_writer(fcinfo, "record_consent_withdraw", argtypes, lengthof(argtypes), &isnull);

	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(found);
}
