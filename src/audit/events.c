/*
 * audit/events.c
 *		The audit trail: who decrypted, unmasked, consented, managed keys or
 *		served a data-subject request, and when.  This file writes events to
 *		their sinks; audit/counts.c counts per-row reads and hands them here
 *		as one event per statement, action, column and key.
 *
 * Events go to the sinks named by privacy.audit: "log" (one line per event
 * in the server log, prefixed "privacy_audit: " and followed by a JSON
 * object; written at once, so it survives a rollback) and "table"
 * (privacy.audit_log, written in the current transaction).  Where the table
 * cannot be written (a hot standby, a read-only transaction, a parallel
 * worker, an aborted transaction) the event goes to the log instead.  An
 * event never holds a value: only names, counts and the session's identity.
 */
#include "errors.h"
#include "audit/events.h"
#include "purpose_scope.h"
#include "admin.h"
#include "catalog.h"
#include "restore.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "parser/parsetree.h"
#include "tcop/pquery.h"
#include "tcop/utility.h"
#include "utils/guc_tables.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/portal.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

int			px_audit_sinks = PX_AUDIT_SINK_LOG;

/* An event being written to privacy.audit_log: its own INSERT is no statement to count. */
static bool writing = false;

/*
 * The log sink's own line is being reported: the emit_log_hook lets one
 * line that reads as an event through as it is (px_audit_log_text), and
 * marks every other.
 */
static bool emitting_event = false;

/* ---------------------------------------------------------------------
 * The privacy.audit setting
 * --------------------------------------------------------------------- */
static int	sink_flag(const char *name);

static bool
parse_sinks(const char *value, int *sinks)
{
	char	   *copy = pstrdup(value);
	List	   *items;
	ListCell   *lc;

	*sinks = 0;
	/* An empty list is no value: "off" says what it means. */
	if (!SplitIdentifierString(copy, ',', &items) || items == NIL)
		return false;
	foreach(lc, items)
	{
		const char *item = (const char *) lfirst(lc);

		int			flag = sink_flag(item);

		if (flag != 0)
			*sinks |= flag;
		else if (pg_strcasecmp(item, "off") == 0)
		{
			if (list_length(items) != 1)
				return false;
		}
		else
			return false;
	}
	return true;
}

static void note_setting_change(const char *value, GucSource source);

/*
 * Whether a value of privacy.audit from source takes effect.  At
 * connection start set_config_option() also checks a value from a source
 * of lower priority than the current one (ALTER DATABASE ... SET under a
 * connection option, say), for the reset value it may become, but does
 * not assign it: only the value assigned is the session's, and on record.
 */
static bool
audit_source_wins(GucSource source)
{
	struct config_generic **vars = get_guc_variables();
	int			n = GetNumConfigOptions();
	int			i;

	/*
	 * Looked up each time, not kept: while the library loads, a
	 * placeholder of the same name is replaced and freed.  Few settings
	 * are checked, and only at a session's start or a SET.
	 */
	for (i = 0; i < n; i++)
		if ((vars[i]->flags & GUC_CUSTOM_PLACEHOLDER) == 0 &&
			strcmp(vars[i]->name, "privacy.audit") == 0)
			return vars[i]->source <= source;
	return true;
}

bool
px_check_audit(char **newval, void **extra, GucSource source)
{
	int			sinks;
	int		   *result;

	if (!parse_sinks(*newval, &sinks))
	{
		GUC_check_errdetail("Valid values are \"off\", \"log\", \"table\" and \"log,table\".");
		return false;
	}
	/* GUC extra data is malloc()ed: the GUC machinery free()s it. */
	result = (int *) malloc(sizeof(int));
	if (result == NULL)
		return false;
	*result = sinks;
	*extra = result;
	note_setting_change(*newval, source);
	return true;
}

void
px_assign_audit(const char *newval, void *extra)
{
	px_audit_sinks = *(int *) extra;
}

/* ---------------------------------------------------------------------
 * Writing one event
 * --------------------------------------------------------------------- */
static void
json_field(StringInfo buf, const char *name, const char *value)
{
	appendStringInfo(buf, ",\"%s\":", name);
	if (value == NULL || value[0] == '\0')
		appendStringInfoString(buf, "null");
	else
		escape_json(buf, value);
}

static void
write_log(const PxAuditEvent *ev)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"at\":");
	escape_json(&buf, timestamptz_to_str(ev->at));
	json_field(&buf, "action", ev->action);
	json_field(&buf, "session_user", ev->session_user_name);
	json_field(&buf, "current_role", ev->current_role_name);
	json_field(&buf, "purpose", ev->purpose);
	json_field(&buf, "object", ev->object);
	appendStringInfo(&buf, ",\"count\":" INT64_FORMAT ",\"detail\":%s}",
					 ev->count, ev->detail ? ev->detail : "null");
	/*
	 * The statement may hold plaintext literals: never log it with this.
	 * Reset however the report ends: left set, it would let a forged line
	 * through as an event.
	 */
	emitting_event = true;
	PG_TRY();
	{
		ereport(LOG,
				(errmsg_internal(PX_AUDIT_LOG_PREFIX " %s", buf.data),
				 errhidestmt(true), errhidecontext(true)));
	}
	PG_FINALLY();
	{
		emitting_event = false;
	}
	PG_END_TRY();
	pfree(buf.data);
}

/*
 * A session changing privacy.audit (a superuser: the setting is SUSET) is
 * itself on record, in the log, whatever the sinks: turning auditing off
 * leaves a trace.  So is a session that starts with a value of its own,
 * from ALTER ROLE / DATABASE ... SET or the connection's options (set by a
 * superuser too): that is a change of the server's setting for it, and
 * its detail says where the value came from.
 */
static void
note_setting_change(const char *value, GucSource source)
{
	PxAuditEvent	ev;
	const char *from;

	switch (source)
	{
		case PGC_S_SESSION:
			from = NULL;
			break;
		case PGC_S_GLOBAL:
		case PGC_S_DATABASE:
		case PGC_S_USER:
		case PGC_S_DATABASE_USER:
		case PGC_S_CLIENT:
			from = GucSource_Names[source];
			break;
		default:
			return;
	}
	if (!IsTransactionState() || IsParallelWorker() || InitializingParallelWorker ||
		!audit_source_wins(source))
		return;
	ev.at = GetCurrentTimestamp();
	ev.action = "audit_setting";
	ev.object = value;
	ev.count = 1;
	ev.detail = from == NULL ? NULL : psprintf("{\"source\": \"%s\"}", from);
	ev.session_user_name = GetUserNameFromId(GetSessionUserId(), true);
	ev.current_role_name = GetUserNameFromId(GetUserId(), true);
	ev.purpose = px_purpose;
	write_log(&ev);
}

static Oid
audit_log_relid(void)
{
	return px_privacy_relid("audit_log");
}

/* Whether this backend may write privacy.audit_log now. */
static bool
table_writable(void)
{
	return IsTransactionState() && !IsAbortedTransactionBlockState() &&
		!RecoveryInProgress() && !XactReadOnly && !IsInParallelMode() &&
		!IsParallelWorker();
}

/*
 * Insert as the table's owner (the extension's), so that nobody needs, or
 * gets, INSERT on the audit log.  Every name in the statement is qualified
 * and the values are parameters; search_path is pinned all the same.
 */
static void
write_table(const PxAuditEvent *ev, Oid relid)
{
	Oid			owner;
	PxSavedUser saved;
	Oid			argtypes[8] = {TIMESTAMPTZOID, NAMEOID, NAMEOID, TEXTOID, TEXTOID, TEXTOID,
	INT8OID, JSONBOID};
	Datum		values[8];
	char		nulls[8] = "        ";
	volatile bool pushed_snapshot = false;

	owner = px_relation_owner(relid, true);
	if (!OidIsValid(owner))
		return;

	values[0] = TimestampTzGetDatum(ev->at);
	values[1] = DirectFunctionCall1(namein, CStringGetDatum(ev->session_user_name));
	values[2] = DirectFunctionCall1(namein, CStringGetDatum(ev->current_role_name));
	if (ev->purpose && ev->purpose[0])
		values[3] = CStringGetTextDatum(ev->purpose);
	else
		nulls[3] = 'n';
	values[4] = CStringGetTextDatum(ev->action);
	if (ev->object)
		values[5] = CStringGetTextDatum(ev->object);
	else
		nulls[5] = 'n';
	values[6] = Int64GetDatum(ev->count);
	if (ev->detail)
		values[7] = DirectFunctionCall1(jsonb_in, CStringGetDatum(ev->detail));
	else
		nulls[7] = 'n';

	px_become_owner(owner, &saved);	/* search_path pinned there */
	/* At the end of a top-level statement its snapshot is already gone. */
	if (!ActiveSnapshotSet())
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		pushed_snapshot = true;
	}
	PG_TRY();
	{
		int			rc;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		rc = SPI_execute_with_args("INSERT INTO privacy.audit_log (at, session_user_name, "
								   "current_role_name, purpose, action, object, count, detail) "
								   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
								   8, argtypes, values, nulls, false, 0);

		/*
		 * An INSERT that stored no row (a BEFORE trigger returning NULL, a
		 * rule) refused the event as surely as one that failed: not
		 * checking the row count would lose the event from both sinks.
		 */
		if (rc != SPI_OK_INSERT || SPI_processed != 1)
			ereport(ERROR,
					(errcode(ERRCODE_TRIGGERED_ACTION_EXCEPTION),
					 errmsg("privacy.audit_log did not store the audit event"),
					 errdetail("The event is in the server log."),
					 errhint("Remove the trigger or rule on privacy.audit_log that skips its rows.")));
		SPI_finish();
	}
	PG_FINALLY();
	{
		px_restore_user(&saved);
	}
	PG_END_TRY();
	if (pushed_snapshot)
		PopActiveSnapshot();
}

/*
 * The table sink: false when the table cannot take the event now.  An
 * error while inserting fails the statement, but what it read is still on
 * record: in the log, written here whatever the sinks, since the error
 * skips px_audit_write_event()'s own write to the log.
 */
static bool
sink_table(const PxAuditEvent *ev, bool table_ok)
{
	Oid			relid = InvalidOid;
	bool		save_writing = writing;

	if (table_ok && table_writable())
		relid = audit_log_relid();
	if (!OidIsValid(relid))
		return false;
	writing = true;
	PG_TRY();
	{
		write_table(ev, relid);
	}
	PG_CATCH();
	{
		writing = save_writing;
		write_log(ev);
		PG_RE_THROW();
	}
	PG_END_TRY();
	writing = save_writing;
	return true;
}

/*
 * The sinks privacy.audit may name, in the order an event is written.  The
 * log has no write function here: it is written last, when named or when
 * another sink could not take the event (the log is the fallback, never
 * nothing).  A new sink is one more entry (and its PX_AUDIT_SINK_ flag).
 */
typedef struct AuditSink
{
	const char *name;
	int			flag;
	bool		(*write) (const PxAuditEvent *ev, bool table_ok);
} AuditSink;

static const AuditSink audit_sinks[] = {
	{"table", PX_AUDIT_SINK_TABLE, sink_table},
	{"log", PX_AUDIT_SINK_LOG, NULL},
};

/* The flag of the sink named name (any case), 0 for none. */
static int
sink_flag(const char *name)
{
	size_t		i;

	for (i = 0; i < lengthof(audit_sinks); i++)
		if (pg_strcasecmp(name, audit_sinks[i].name) == 0)
			return audit_sinks[i].flag;
	return 0;
}

void
px_audit_write_event(const PxAuditEvent *ev, bool table_ok)
{
	bool		to_log = (px_audit_sinks & PX_AUDIT_SINK_LOG) != 0;
	size_t		i;

	for (i = 0; i < lengthof(audit_sinks); i++)
		if (audit_sinks[i].write != NULL && (px_audit_sinks & audit_sinks[i].flag) != 0 &&
			!audit_sinks[i].write(ev, table_ok))
			to_log = true;
	if (to_log)
		write_log(ev);
}

/*
 * An event that happens once (a key created, a consent recorded, a subject
 * exported): written now, with the session's identity.
 */
/*
 * An event under the given identity: the consent writers run as the
 * extension's owner (SECURITY DEFINER), but the event is the caller's, as
 * the consent event row records it.
 */
static void
audit_event_as(const char *action, const char *object, int64 count, const char *detail,
			   const char *session_user_name, const char *current_role_name)
{
	PxAuditEvent	ev;

	if (px_audit_sinks == 0)
		return;
	ev.at = GetCurrentTimestamp();
	ev.action = action;
	ev.object = object;
	ev.count = count;
	ev.detail = detail;
	ev.session_user_name = session_user_name;
	ev.current_role_name = current_role_name;
	ev.purpose = px_purpose;
	px_audit_write_event(&ev, true);
}

void
px_audit_event(const char *action, const char *object, int64 count, const char *detail)
{
	audit_event_as(action, object, count, detail,
				   GetUserNameFromId(GetSessionUserId(), true),
				   GetUserNameFromId(GetUserId(), true));
}

/* A JSON object with one string member, for event details. */
char *
px_audit_detail(const char *name, const char *value)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	escape_json(&buf, name);
	appendStringInfoChar(&buf, ':');
	if (value)
		escape_json(&buf, value);
	else
		appendStringInfoString(&buf, "null");
	appendStringInfoChar(&buf, '}');
	return buf.data;
}


bool
px_audit_writing(void)
{
	return writing;
}

/*
 * Anybody can put a line into the server log that reads as an event: RAISE
 * LOG '%', x (x read from a table, so that the statement's redaction does
 * not hide it), at any level, in a parallel worker (whose reports its
 * leader logs again) too.  Such a message, if not the sink's own line,
 * gets NOT_EVENT_PREFIX before it, so that a consumer reading messages that
 * start with "privacy_audit: " takes only events.  Leading white space and
 * case are skipped over, for consumers that match loosely.
 */
#define NOT_EVENT_PREFIX "not a privacy_ext audit event: "

const char *
px_audit_log_text(const ErrorData *edata, const char *message)
{
	const char *p = message;

	if (message == NULL)
		return message;
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' || *p == '\v')
		p++;
	if (pg_strncasecmp(p, "privacy_audit", strlen("privacy_audit")) != 0)
		return message;
	/* The sink's own, once: whatever else is reported meanwhile is not. */
	if (emitting_event && edata->elevel == LOG && p == message &&
		strncmp(message, PX_AUDIT_LOG_PREFIX " ", strlen(PX_AUDIT_LOG_PREFIX " ")) == 0)
	{
		emitting_event = false;
		return message;
	}
	return psprintf(NOT_EVENT_PREFIX "%s", message);
}

/* An error while writing the table was rethrown; nothing is being written after it. */
static void
events_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		writing = false;
}

void
px_install_audit_events(void)
{
	RegisterXactCallback(events_xact_callback, NULL);
}

/* ---------------------------------------------------------------------
 * SQL-callable
 * --------------------------------------------------------------------- */

/*
 * Trigger on privacy.consent_events: every recorded grant and withdrawal is
 * an audit event.  A trigger, so that nobody can call it to forge one; and
 * refused on any other table (a role that may create a table could attach
 * it to one of its own and write events as anyone).
 */
PG_FUNCTION_INFO_V1(px_audit_consent_event);
Datum
px_audit_consent_event(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	tupdesc;
	HeapTuple	tuple;
	char	   *subject;
	char	   *purpose;
	char	   *action;
	char	   *session_user_name;
	char	   *current_role_name;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("privacy.audit_consent_event() must be fired by INSERT, for each row")));
	if (RelationGetRelid(trigdata->tg_relation) != px_privacy_relid("consent_events"))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("privacy.audit_consent_event() fires only on privacy.consent_events")));
	tuple = trigdata->tg_trigtuple;
	/* A restore (COPY, or pg_dump --inserts) replays the history: no new event. */
	if (px_restoring())
		return PointerGetDatum(tuple);
	tupdesc = trigdata->tg_relation->rd_att;
	subject = SPI_getvalue(tuple, tupdesc, SPI_fnumber(tupdesc, "subject"));
	purpose = SPI_getvalue(tuple, tupdesc, SPI_fnumber(tupdesc, "purpose"));
	action = SPI_getvalue(tuple, tupdesc, SPI_fnumber(tupdesc, "action"));
	session_user_name = SPI_getvalue(tuple, tupdesc, SPI_fnumber(tupdesc, "session_user_name"));
	current_role_name = SPI_getvalue(tuple, tupdesc, SPI_fnumber(tupdesc, "current_role_name"));
	/* Written by record_consent_grant/withdraw, which fill every one. */
	if (subject == NULL || purpose == NULL || action == NULL ||
		session_user_name == NULL || current_role_name == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("a consent event needs a subject, a purpose, an action and the roles that recorded it")));
	/* The identity the event row records: the caller of grant/withdraw_consent. */
	audit_event_as(strcmp(action, "grant") == 0 ? "consent_grant" : "consent_withdraw",
				   purpose, 1, px_audit_detail("subject", subject),
				   session_user_name, current_role_name);
	return PointerGetDatum(tuple);
}

