/*
 * audit/relay.c
 *		Audit counts of a Citus worker sent up to the coordinator, so that
 *		the coordinator's trail has the statement's events, named by table,
 *		with counts over every shard.
 *
 * A query through the coordinator decrypts or masks on the nodes holding
 * the shards, in sessions Citus opened there.  Such a session, besides
 * writing its own events (marked "relayed", audit/counts.c), sends what it
 * counted up as one NoticeResponse per executor run, with severity
 * WARNING and the text
 *
 *		privacy_ext:audit-relay v1 <item>;<item>...
 *		<item> = <action> <schema> <table> <column> <key> <count>
 *
 * where each name is percent-encoded (bytes outside [A-Za-z0-9_.] as %XX;
 * "-" for none).  It is written to the protocol directly, not through
 * ereport: the worker's log_min_messages, client_min_messages and
 * lc_messages cannot drop or translate it, and it never reaches the
 * worker's server log.
 *
 * On the coordinator, Citus's notice receiver re-raises a worker's
 * message with its level, if at least citus.worker_min_messages, while its
 * custom scan runs (DefaultCitusNoticeReceiver).  An ereport reaches the
 * emit_log_hook only when it goes to the server log (PostgreSQL 15's
 * EmitErrorReport calls the hook when output_to_server): log_min_messages
 * must let WARNING through.  The hook (log_redact.c) hands the message
 * here first; it is merged into the running statement's counts under the
 * coordinator session's user, current role and purpose, never the
 * worker's, and neither logged nor sent to the client.  Anybody can RAISE
 * WARNING the same text: what it can do is add counts charged to itself.
 * Where the relay cannot be heard (worker_min_messages above WARNING,
 * log_min_messages above WARNING), a statement reading protected columns
 * of a Citus table is refused instead of going unaudited.
 */
#include "errors.h"
#include "audit/counts.h"
#include "audit/relay.h"
#include "citus/dist_shards.h"
#include "citus/shard_map.h"
#include "keys/key_store.h"
#include "catalog.h"
#include "masking/transparent.h"

#include "access/relation.h"
#include "access/xact.h"
#include "executor/executor.h"
#include "catalog/namespace.h"
#include "libpq/libpq.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "parser/parsetree.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/typcache.h"

#define RELAY_VERSION "v1 "

static MemoryContext relay_context = NULL;

/* ---------------------------------------------------------------------
 * Sending (a worker)
 * --------------------------------------------------------------------- */
static void
put_name(StringInfo buf, const char *name)
{
	const unsigned char *p;

	if (name == NULL || name[0] == '\0')
	{
		appendStringInfoChar(buf, '-');
		return;
	}
	for (p = (const unsigned char *) name; *p; p++)
	{
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			(*p >= '0' && *p <= '9') || *p == '_' || *p == '.')
			appendStringInfoChar(buf, (char) *p);
		else
			appendStringInfo(buf, "%%%02X", *p);
	}
}

void
px_audit_relay_pending(void)
{
	PxAuditRelayItem *items;
	StringInfoData text;
	StringInfoData msg;
	int			i;
	int			n = px_audit_take_relay(&items);

	if (n == 0)
	{
		if (items)
			pfree(items);
		return;
	}
	/* A background worker, a standalone backend: nobody to tell. */
	if (whereToSendOutput != DestRemote || PG_PROTOCOL_MAJOR(FrontendProtocol) < 3)
	{
		pfree(items);
		return;
	}
	initStringInfo(&text);
	appendStringInfoString(&text, PX_AUDIT_RELAY_PREFIX RELAY_VERSION);
	for (i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoChar(&text, ';');
		put_name(&text, items[i].action);
		appendStringInfoChar(&text, ' ');
		put_name(&text, items[i].schema);
		appendStringInfoChar(&text, ' ');
		put_name(&text, items[i].table);
		appendStringInfoChar(&text, ' ');
		put_name(&text, items[i].column);
		appendStringInfoChar(&text, ' ');
		put_name(&text, items[i].key_name);
		appendStringInfo(&text, " " INT64_FORMAT, items[i].count);
	}

	/* What send_message_to_frontend() writes for a WARNING, untranslated. */
	pq_beginmessage(&msg, 'N');
	pq_sendbyte(&msg, PG_DIAG_SEVERITY);
	pq_sendstring(&msg, "WARNING");
	pq_sendbyte(&msg, PG_DIAG_SEVERITY_NONLOCALIZED);
	pq_sendstring(&msg, "WARNING");
	pq_sendbyte(&msg, PG_DIAG_SQLSTATE);
	pq_sendstring(&msg, "01000");
	pq_sendbyte(&msg, PG_DIAG_MESSAGE_PRIMARY);
	pq_sendstring(&msg, text.data);
	pq_sendbyte(&msg, '\0');
	pq_endmessage(&msg);
	pfree(text.data);
	pfree(items);
}

/* ---------------------------------------------------------------------
 * Receiving (the coordinator)
 * --------------------------------------------------------------------- */
static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * The next field of *p up to a space (or, for the last, the end of the
 * item), decoded into out (NAMEDATALEN); false if malformed.
 */
static bool
get_name(const char **p, char *out, char end)
{
	int			len = 0;
	const char *s = *p;

	if (*s == '-' && (s[1] == end || s[1] == '\0'))
	{
		out[0] = '\0';
		*p = s + 1;
		return true;
	}
	while (*s && *s != end)
	{
		int			c = (unsigned char) *s;

		if (c == '%')
		{
			int			hi = hex_digit(s[1]);
			int			lo = hi >= 0 ? hex_digit(s[2]) : -1;

			if (lo < 0)
				return false;
			c = hi * 16 + lo;
			s += 3;
		}
		else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				 (c >= '0' && c <= '9') || c == '_' || c == '.')
			s++;
		else
			return false;
		if (c == 0 || len >= NAMEDATALEN - 1)
			return false;
		out[len++] = (char) c;
	}
	if (len == 0)
		return false;
	out[len] = '\0';
	*p = s;
	return true;
}

static bool
parse_action(const char *name, PxAuditAction *action)
{
	PxAuditAction a;

	for (a = PX_AUDIT_DECRYPT; a <= PX_AUDIT_UNMASK; a++)
		if (strcmp(name, px_audit_action_name(a)) == 0)
		{
			*action = a;
			return true;
		}
	return false;
}

/*
 * One item, merged.  The table and column are looked up here by name (a
 * shard's name was already turned into its table's on the worker); the
 * key by its name.  What does not resolve is counted with the key only,
 * as a value read outside any column is: counts are never dropped.
 */
static bool
merge_item(const char **p)
{
	char		action_name[NAMEDATALEN];
	char		schema[NAMEDATALEN];
	char		table[NAMEDATALEN];
	char		column[NAMEDATALEN];
	char		key_name[NAMEDATALEN];
	PxAuditAction action;
	Oid			relid = InvalidOid;
	uint32		key_id = 0;
	int64		count = 0;
	const char *s;

	if (!get_name(p, action_name, ' ') || **p != ' ' || !parse_action(action_name, &action))
		return false;
	(*p)++;
	if (!get_name(p, schema, ' ') || *(*p)++ != ' ' ||
		!get_name(p, table, ' ') || *(*p)++ != ' ' ||
		!get_name(p, column, ' ') || *(*p)++ != ' ' ||
		!get_name(p, key_name, ' ') || *(*p)++ != ' ')
		return false;
	s = *p;
	if (*s < '0' || *s > '9')
		return false;
	while (*s >= '0' && *s <= '9')
	{
		if (count > (PG_INT64_MAX - 9) / 10)
			return false;
		count = count * 10 + (*s++ - '0');
	}
	if (*s != '\0' && *s != ';')
		return false;
	*p = s;

	if (schema[0] && table[0] && column[0])
	{
		Oid			nsp = get_namespace_oid(schema, true);

		if (OidIsValid(nsp))
			relid = get_relname_relid(table, nsp);
		if (OidIsValid(relid) && get_attnum(relid, column) == InvalidAttrNumber)
			relid = InvalidOid;
	}
	if (key_name[0])
		key_id = px_key_id_for_name(key_name, true);
	px_audit_merge_relayed(action, relid, column, key_id, count);
	return true;
}

bool
px_audit_relay_intercept(ErrorData *edata)
{
	const char *p;
	MemoryContext old;

	if (edata->message == NULL ||
		strncmp(edata->message, PX_AUDIT_RELAY_PREFIX, strlen(PX_AUDIT_RELAY_PREFIX)) != 0)
	{
		/*
		 * An error about to reach the coordinator: what this statement
		 * counted goes first, while the coordinator still reads its
		 * results (after the error it reads no more).
		 */
		if (edata->elevel >= ERROR && edata->output_to_client)
			px_audit_relay_pending();
		return false;
	}
	/* Ours, forged or not: it goes nowhere. */
	edata->output_to_server = false;
	edata->output_to_client = false;

	/* Catalog lookups need a healthy transaction; an aborting one drops it. */
	if (!px_audit_counting() || !IsTransactionState() || IsAbortedTransactionBlockState() ||
		edata->elevel >= ERROR)
		return true;
	p = edata->message + strlen(PX_AUDIT_RELAY_PREFIX);
	if (strncmp(p, RELAY_VERSION, strlen(RELAY_VERSION)) != 0)
		return true;			/* a version this build does not read */
	p += strlen(RELAY_VERSION);

	if (relay_context == NULL)
		relay_context = AllocSetContextCreate(TopMemoryContext, "privacy_ext audit relay",
											  ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(relay_context);
	while (merge_item(&p) && *p == ';')
		p++;
	MemoryContextSwitchTo(old);
	MemoryContextReset(relay_context);
	return true;
}

/* ---------------------------------------------------------------------
 * Can the relay be heard here?
 * --------------------------------------------------------------------- */

/* Whether a WARNING raised now reaches the emit_log_hook (elog.c's test). */
static bool
warning_reaches_hook(void)
{
	if (log_min_messages == LOG || log_min_messages == LOG_SERVER_ONLY)
		return false;			/* LOG ranks above WARNING for the log */
	return log_min_messages <= WARNING;
}

/* Whether Citus re-raises a worker's WARNING (citus.worker_min_messages). */
static bool
citus_passes_warnings(void)
{
	static const char *const passing[] = {
		"debug5", "debug4", "debug3", "debug2", "debug1", "debug", "log", "info", "notice",
		"warning"
	};
	const char *value = GetConfigOption("citus.worker_min_messages", true, false);
	size_t		i;

	if (value == NULL)
		return true;			/* Citus not loaded: nothing to hear */
	for (i = 0; i < lengthof(passing); i++)
		if (pg_strcasecmp(value, passing[i]) == 0)
			return true;
	return false;
}

/* A column of an encrypted type, or a domain over one. */
static bool
has_encrypted_column(Oid relid)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	bool		found = false;
	px_value_type type;
	int			i;

	for (i = 0; i < desc->natts && !found; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && px_encrypted_type(getBaseType(att->atttypid), &type))
			found = true;
	}
	relation_close(rel, AccessShareLock);
	return found;
}

static void
relay_check(QueryDesc *queryDesc)
{
	const char *why;
	ListCell   *lc;

	if (!px_audit_counting() || !px_citus_loaded())
		return;
	if (!citus_passes_warnings())
		why = "citus.worker_min_messages";
	else if (!warning_reaches_hook())
		why = "log_min_messages";
	else
		return;

	/* Misconfigured: only now is the statement's range table looked at. */
	foreach(lc, queryDesc->plannedstmt->rtable)
	{
		RangeTblEntry *rte = (RangeTblEntry *) lfirst(lc);

		if (rte->rtekind != RTE_RELATION ||
			(rte->relkind != RELKIND_RELATION && rte->relkind != RELKIND_PARTITIONED_TABLE &&
			 rte->relkind != RELKIND_FOREIGN_TABLE))
			continue;
		if (!px_citus_table(rte->relid))
			continue;
		if (has_encrypted_column(rte->relid) || OidIsValid(px_masking_view_of(rte->relid)))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("privacy_ext cannot audit this statement: it reads protected columns "
							"of Citus table \"%s\"", get_rel_name(rte->relid)),
					 errdetail("The workers send their audit counts as WARNING messages, which "
							   "%s = \"%s\" drops on this node.",
							   why, GetConfigOption(why, false, false)),
					 errhint("Set %s to warning or a lower level.", why)));
	}
}

/* ---------------------------------------------------------------------
 * Statement boundaries: audit/counts.c's executor hook calls these
 * --------------------------------------------------------------------- */
void
px_install_audit_relay(void)
{
	px_audit_outermost_run_start = relay_check;
	px_audit_outermost_run_end = px_audit_relay_pending;
	px_audit_before_flush = px_audit_relay_pending;
}
