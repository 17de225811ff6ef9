/*
 * catalog.h
 *		The extension's own tables: finding them by name, the column
 *		positions of every one of them, the snapshot backend caches read
 *		them with, and the invalidation callbacks those caches listen to
 *		(catalog.c), and telling the extension's encrypted types.
 *
 * Column positions follow sql/privacy_ext--1.0.sql and sql/parts/1.1/:
 * a released table only gains columns at its end, so these never move.
 */
#ifndef PX_CATALOG_H
#define PX_CATALOG_H

#include "postgres.h"

#include "access/htup.h"
#include "storage/lockdefs.h"
#include "utils/relcache.h"
#include "utils/snapshot.h"

#include "px_core.h"

/* The schema the extension's tables and functions live in. */
#define PX_SCHEMA "privacy"

/* privacy.data_keys */
#define Anum_data_keys_key_id				1
#define Anum_data_keys_name					2
#define Anum_data_keys_active_version		3
#define Anum_data_keys_destroyed_at			4
#define Anum_data_keys_created_at			5
#define Anum_data_keys_created_by			6

/* privacy.data_key_versions */
#define Anum_key_versions_key_id			1
#define Anum_key_versions_version			2
#define Anum_key_versions_wrapped_key		3
#define Anum_key_versions_root_check		4
#define Anum_key_versions_created_at		5

/* privacy.root_derivation_key (1.1, sql/parts/1.1/86_root_rotation.sql) */
#define Anum_root_derivation_one_row		1
#define Anum_root_derivation_wrapped_key	2
#define Anum_root_derivation_root_check		3
#define Anum_root_derivation_created_at		4

/* privacy.key_grants */
#define Anum_key_grants_key_id				1
#define Anum_key_grants_grantee				2
#define Anum_key_grants_grantee_name		3
#define Anum_key_grants_granted_at			4
#define Anum_key_grants_granted_by			5

/* privacy.mask_rules */
#define Anum_mask_rules_relid				1
#define Anum_mask_rules_attnum				2
#define Anum_mask_rules_column_name			3
#define Anum_mask_rules_role_name			4
#define Anum_mask_rules_rule				5
#define Anum_mask_rules_created_at			6
#define Anum_mask_rules_created_by			7

/* privacy.masking_views */
#define Anum_masking_views_relid			1
#define Anum_masking_views_view_name		2

/* privacy.masked_roles */
#define Anum_masked_roles_role_name			1
#define Anum_masked_roles_revoked			2

/* privacy.masking_view_rebuilds (1.1) */
#define Anum_masking_view_rebuilds_relid		1
#define Anum_masking_view_rebuilds_view_name	2
#define Anum_masking_view_rebuilds_view_owner	3
#define Anum_masking_view_rebuilds_view_acl		4

/* privacy.purposes */
#define Anum_purposes_name					1
#define Anum_purposes_legal_basis			2
#define Anum_purposes_parent				3
#define Anum_purposes_description			4
#define Anum_purposes_created_at			5

/* privacy.purpose_grants */
#define Anum_purpose_grants_purpose			1
#define Anum_purpose_grants_role			2

/* privacy.policy_versions */
#define Anum_policy_versions_ordinal		1
#define Anum_policy_versions_version		2
#define Anum_policy_versions_reconsent		3
#define Anum_policy_versions_created_at		4

/* privacy.consent_state */
#define Anum_consent_subject				1
#define Anum_consent_purpose				2
#define Anum_consent_granted				3
#define Anum_consent_expires				4
#define Anum_consent_ordinal				5
#define Anum_consent_updated_at				6

/* privacy.consent_events */
#define Anum_consent_events_event_id		1
#define Anum_consent_events_at				2
#define Anum_consent_events_subject			3
#define Anum_consent_events_purpose			4
#define Anum_consent_events_action			5
#define Anum_consent_events_expires_at		6
#define Anum_consent_events_policy_version	7
#define Anum_consent_events_evidence		8
#define Anum_consent_events_session_user	9
#define Anum_consent_events_current_role	10

/* privacy.protected_tables */
#define Anum_protected_tables_relid			1
#define Anum_protected_tables_subject_column 2
#define Anum_protected_tables_on_erase		3

/*
 * The row security policy protect_table() gives a protected table for
 * SELECT (1.0 permissive, 1.1 restrictive: 97_consent_policies.sql); its
 * _update and _delete siblings are named alike.
 */
#define PX_CONSENT_SELECT_POLICY			"privacy_consent_select"

/*
 * Whether the table has the consent policy protect_table() gave it (read
 * from the relcache: no registry scan).  The caller holds a lock on it.
 */
extern bool px_relation_consent_protected(Oid relid);

/* privacy.audit_log */
#define Anum_audit_log_event_id				1
#define Anum_audit_log_at					2
#define Anum_audit_log_session_user			3
#define Anum_audit_log_current_role			4
#define Anum_audit_log_purpose				5
#define Anum_audit_log_action				6
#define Anum_audit_log_object				7
#define Anum_audit_log_count				8
#define Anum_audit_log_detail				9

/* privacy.classifications */
#define Anum_classifications_relid			1
#define Anum_classifications_column_name	2
#define Anum_classifications_level			3
#define Anum_classifications_category		4
#define Anum_classifications_classified_at	5
#define Anum_classifications_classified_by	6

/*
 * The encrypted types, by the one test every module uses (a type, not a
 * domain over one: callers look through domains themselves where they
 * should), and the same list for SQL run by the extension.
 */
extern bool px_encrypted_type(Oid typid, px_value_type *type);

/* A type OID from an argument (regtype): an error (42704) for one that is not a type. */
extern void px_require_type(Oid typid);
extern const char *px_encrypted_type_name(px_value_type type);

/*
 * Where a column's values are encrypted: its type followed down to the
 * encrypted types at the bottom, through domains (to any depth; the key is
 * the typmod a domain gives its base type, as getBaseTypeAndTypmod() reads
 * it), true arrays (an array's typmod is its elements') and the fields of
 * composite types (a table's row type too; each field with its own typmod).
 * The one definition of "which columns are under key K": the key functions
 * (keys/key_usage.c) call it, and privacy.encrypted_columns, which the
 * inventory, discovery and the report read, is made of it.  fn is called
 * once per encrypted type reached, with the type, the key (-1: none), the
 * shape and
 * for PX_SHAPE_ARRAY the number of unnests that reach the values (an array
 * of a domain over an array takes two).  A range type is not followed:
 * only encrypted_text_det has the btree operator class a range's subtype
 * needs, and its values are all under version 1, never dropped.
 */
typedef enum PxValueShape
{
	PX_SHAPE_VALUE,				/* the value itself, through domains */
	PX_SHAPE_ARRAY,				/* the elements of (nested) arrays */
	PX_SHAPE_COMPOSITE			/* under a field of a composite type */
} PxValueShape;

typedef void (*PxEncryptedLeaf) (Oid typid, px_value_type type, int32 key_id,
								 PxValueShape shape, int array_depth, void *arg);

extern void px_walk_encrypted_type(Oid typid, int32 typmod, PxValueShape shape,
								   PxEncryptedLeaf fn, void *arg);
extern const char *px_value_shape_name(PxValueShape shape);

#define PX_ENCRYPTED_TYPE_OIDS_SQL \
	"pg_catalog.to_regtype('privacy.encrypted_text'), " \
	"pg_catalog.to_regtype('privacy.encrypted_bytea'), " \
	"pg_catalog.to_regtype('privacy.encrypted_text_det')"

/* The schema's OID, or InvalidOid when the extension is not installed. */
extern Oid	px_schema_oid(void);

/*
 * Whether relid belongs to the system (made by initdb: the catalogs,
 * information_schema, TOAST tables) or to privacy_ext's own schema: no
 * registry may make privacy_ext read or rewrite it as its owner.
 */
extern bool px_system_or_extension_relation(Oid relid);

/*
 * Whether a rule of rel that fires now (as the rewriter decides:
 * session_replication_role and the rule's enabling) replaces its UPDATE
 * (DO INSTEAD, DO INSTEAD NOTHING): an UPDATE the extension issues to
 * rewrite the table's values (reencrypt, static masking) would then
 * rewrite nothing, its count taken for the table's.
 */
extern bool px_rule_replaces_update(Relation rel);

/* A table of the schema by name, or InvalidOid when there is none. */
extern Oid	px_privacy_relid(const char *name);

/*
 * For a row read with px_catalog_snapshot(): fails (40001) when the row was
 * read with the transaction's snapshot, in a parallel query under
 * REPEATABLE READ or SERIALIZABLE, and a transaction that committed since
 * has deleted or updated it (a revoked grant, a key's changed state).
 * what names the state in the message.
 */
extern void px_require_current_row(HeapTuple tup, const char *what);

/*
 * Opens a table of the schema; an ERROR saying the extension is not
 * installed when it is missing.  *relid_out (if given) receives its OID,
 * for the caller's invalidation callback to compare with.
 */
extern Relation px_open_privacy_table(const char *name, LOCKMODE lockmode, Oid *relid_out);

/*
 * The snapshot a backend cache of these tables reads with: the latest
 * committed state, so that a change committed by another session is seen
 * by the next statement.  A parallel query cannot take a new snapshot: it
 * reads with its own, and the caller keeps what it read only until its
 * transaction ends.
 */
extern Snapshot px_catalog_snapshot(void);

/*
 * Invalidation: a backend cache of these tables registers a function to
 * be called when a relation changes (InvalidOid: maybe all of them; no
 * catalog access allowed there: compare with OIDs seen when reading), and
 * one for any change of roles or role memberships.  Registering the same
 * function again does nothing.  One pair of PostgreSQL callbacks serves
 * them all.
 */
typedef void (*PxRelationChanged) (Oid relid);
typedef void (*PxRolesChanged) (void);

extern void px_catalog_on_relation_change(PxRelationChanged fn);
extern void px_catalog_on_role_change(PxRolesChanged fn);

#endif							/* PX_CATALOG_H */
