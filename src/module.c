/*
 * module.c
 *		Module entry point: PG_MODULE_MAGIC and the privacy.* settings.
 */
#include "errors.h"
#include "keys/key_admin.h"
#include "keys/root_key.h"
#include "consent/registry.h"
#include "consent/watch.h"
#include "consent/parallel_run.h"
#include "consent/planner_stats.h"
#include "audit/counts.h"
#include "audit/events.h"
#include "audit/relay.h"
#include "masking/guard.h"
#include "types/literal_binding.h"
#include "types/det_lists.h"
#include "citus/dist_routing.h"
#include "masking/transparent.h"
#include "citus/shard_view.h"
#include "citus/purpose_marker.h"
#include "citus/shard_policies.h"
#include "log_redact.h"
#include "purpose_scope.h"
#include "roles/role_names.h"
#include "statement.h"
#include "foreign_calls.h"
#include "consent/reading_roles.h"

#include <limits.h>

#include "miscadmin.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

/* Settings read only through GetConfigOption / current_setting. */
static char *px_default_key = NULL;
static char *px_audit_setting = NULL;

void		_PG_init(void);

void
_PG_init(void)
{
	/* First: its callback must run after every other one (key_admin.c). */
	px_install_key_wipes();

	DefineCustomStringVariable("privacy.root_key_command",
							   "Command whose standard output is the 256-bit root key as 64 hex digits.",
							   "Run once at server start when privacy_ext is in shared_preload_libraries, "
							   "otherwise once per backend on first use.",
							   &px_root_key_command,
							   "",
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("privacy.root_key_file",
							   "Path of a file (mode 0600) holding the 256-bit root key as 64 hex digits.",
							   "Used when privacy.root_key_command is empty.",
							   &px_root_key_file,
							   "",
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);

	/*
	 * The previous root key, needed only while privacy.rewrap_keys() moves
	 * the data keys from it to the current one (README, "Changing the root
	 * key").  Same forms as the current key's settings.
	 */
	DefineCustomStringVariable("privacy.previous_root_key_command",
							   "Command printing the previous root key (64 hex digits) during a root key rotation.",
							   "Data keys still wrapped under it stay readable until privacy.rewrap_keys() "
							   "has rewrapped them under the current root key.",
							   &px_previous_root_key_command,
							   "",
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("privacy.previous_root_key_file",
							   "Path of a file (mode 0600) holding the previous root key during a root key rotation.",
							   "Used when privacy.previous_root_key_command is empty.",
							   &px_previous_root_key_file,
							   "",
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("privacy.default_key",
							   "Key name given to encrypted columns declared without a type modifier.",
							   NULL,
							   &px_default_key,
							   "",
							   PGC_USERSET,
							   0,
							   NULL, NULL, NULL);

	px_define_purpose_scope();

	DefineCustomStringVariable("privacy.purpose",
							   "The processing purpose this session declares.",
							   "Rows of protected tables are visible only for subjects whose consent, "
							   "or whose purpose's legal basis, covers it.",
							   &px_purpose,
							   "",
							   PGC_USERSET,
							   0,
							   px_check_purpose, px_purpose_marker_assign, px_purpose_show);

	DefineCustomStringVariable("privacy.audit",
							   "Where audit events go: off, log, table, or log,table.",
							   "log: one \"privacy_audit:\" line per event in the server log; "
							   "table: privacy.audit_log (the log where it cannot be written).",
							   &px_audit_setting,
							   "log",
							   PGC_SUSET,
							   GUC_LIST_INPUT,
							   px_check_audit, px_assign_audit, NULL);

	DefineCustomIntVariable("privacy.consent_cache_size",
							"Memory a backend may keep, per purpose, for the consenting subjects it has read.",
							"A backend that has checked many subjects for a purpose reads all who consent "
							"into memory and keeps them across statements while it can prove them exact "
							"(needs shared_preload_libraries). 0 keeps them for one statement only.",
							&px_consent_cache_kb,
							65536, 0, MAX_KILOBYTES,
							PGC_USERSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	/* Defines privacy.log_statement_literals: before the prefix is reserved. */
	px_install_log_redaction();
	MarkGUCPrefixReserved("privacy");

	/*
	 * Loaded into the postmaster: fetch the root key now, so the command
	 * runs once and every backend inherits the key.  A missing or invalid
	 * key stops the server here, loudly, instead of failing later.
	 */
	if (process_shared_preload_libraries_in_progress)
	{
		px_root_key_load_at_start();
		px_install_consent_cache();
	}
	/* Before the statement hooks: its run is then inside a new statement epoch. */
	px_install_consent_parallel_run(process_shared_preload_libraries_in_progress);
	px_install_consent_planner_stats();
	px_install_consent_reading_roles();
	px_install_statement_hooks();
	px_install_foreign_calls();
	/* Before the guard: its hook runs this one first, then checks the result. */
	px_install_transparent_masking();
	px_install_mask_guard();
	/* After the guard: its hook runs first, so a query it accepts is checked by the guard already. */
	px_install_shard_view();
	px_install_purpose_marker();
	px_install_shard_policies();
	px_install_literal_binding();
	px_install_role_names();
	px_install_audit_hooks();
	px_install_audit_relay();
	px_install_dist_routing();
	/* After the Citus routing: its hook, run second, sees IN lists bound. */
	px_install_det_lists();
}
