/*
 * privacy_ext.h
 *		Declarations shared by the backend glue of privacy_ext.
 */
#ifndef PRIVACY_EXT_H
#define PRIVACY_EXT_H

#include "errors.h"
#include "admin.h"

#include "fmgr.h"
#include "utils/guc.h"
#include "utils/snapshot.h"

#include "px_core.h"
#include "miscadmin.h"

/* Key id 0 marks a transit value: typed input not yet bound to a key. */
#define PX_TRANSIT_KEY_ID 0

/* GUCs (module.c) */
extern char *px_root_key_command;
extern char *px_root_key_file;
extern char *px_default_key;
extern char *px_audit_setting;

/* keys/root_key.c */
extern void px_root_key_load_at_start(void);
extern const uint8_t *px_root_key(void);
extern uint64 px_root_key_generation(void);

/* keys/key_store.c: keys for encryption and decryption, with backend caches */
typedef struct PxKeyRef
{
	uint32		key_id;
	uint32		key_version;
	px_aead    *aead;			/* AES-256-GCM under the data key */
	px_siv	   *siv;			/* AES-256-SIV under a key derived from it */
	const uint8_t *hash_key;	/* HMAC key for mask_hash, derived from it */
} PxKeyRef;

extern void px_transit_key_ref(PxKeyRef *ref);
extern bool px_key_ref_for_encrypt(uint32 key_id, bool deterministic, PxKeyRef *ref);
extern bool px_key_ref_for_version(uint32 key_id, uint32 key_version, bool missing_ok,
								   PxKeyRef *ref);
extern bool px_may_decrypt(uint32 key_id);
extern char *px_key_name(uint32 key_id);
extern bool px_key_exists(uint32 key_id);
extern bool px_key_destroyed(uint32 key_id);
extern uint32 px_key_id_for_name(const char *name, bool missing_ok);
extern void px_report_destroyed_key(uint32 key_id);
extern px_status px_noise_mac(const uint8_t *msg, size_t len, uint8_t out[32]);

/* keys/key_admin.c: key management */
extern void px_check_key_name(const char *name);

/* types/encrypted.c */
extern bool px_encrypted_type(Oid typid, px_value_type *type);
extern bytea *px_det_bind_transit(bytea *env, uint32 key_id);
extern struct varlena *px_open_for_masking(bytea *env, px_value_type type, void **cachep,
											   MemoryContext mcxt);

/* keys/key_usage.c: where keys are used */
extern char *px_first_use_of_version(uint32 key_id, uint32 version);

/* consent/policy.c */
extern char *px_purpose;
extern bool px_check_purpose(char **newval, void **extra, GucSource source);

/* consent/watch.c: keeping a set of consenting subjects exact across statements */
typedef struct PxConsentWatch
{
	uint64		seen;			/* ring entries already marked */
	uint64	   *dirty;			/* subjects changed since the set was read */
	int			ndirty;
	TransactionId xmax;			/* the set's snapshot: xmax and sorted xip */
	uint32		xcnt;
	TransactionId *xip;
} PxConsentWatch;

extern int	px_consent_cache_kb;
extern void px_install_consent_cache(void);
extern bool px_consent_cache_available(void);
extern uint64 px_consent_hash(const char *subject, size_t len);
extern bool px_consent_watch_start(PxConsentWatch *w, Snapshot snap, MemoryContext cxt);
extern bool px_consent_watch_catch_up(PxConsentWatch *w);
extern bool px_consent_watch_dirty(const PxConsentWatch *w, uint64 h);
extern bool px_consent_watch_covers(const PxConsentWatch *w, Snapshot snap);

/* audit/events.c: the audit trail */
#define PX_AUDIT_SINK_LOG	0x01
#define PX_AUDIT_SINK_TABLE	0x02

typedef enum PxAuditAction
{
	PX_AUDIT_DECRYPT,
	PX_AUDIT_MASKED_READ,
	PX_AUDIT_UNMASK
} PxAuditAction;

/*
 * A call site's counter for the current statement (in its fn_extra): bound
 * to one statement, one key and one role; a value under another key, or
 * read under another role (a SECURITY DEFINER function), binds again.  The
 * column a decrypt call site reads is resolved once per statement and kept
 * here, so that a site alternating between keys row by row rebinds with a
 * hash lookup, without walking the plan again.  Zero-initialized.
 */
typedef struct PxAuditSite
{
	uint64		generation;
	uint32		key_id;
	Oid			userid;
	int64	   *counter;
	uint64		column_generation;	/* statement the column was resolved in */
	const void *column_query;	/* ... and the query running then */
	Oid			column_relid;	/* InvalidOid: not a table column */
	NameData	column_name;
} PxAuditSite;

extern int	px_audit_sinks;
extern uint64 px_audit_generation;
extern int	px_audit_suppressed;

extern bool px_check_audit(char **newval, void **extra, GucSource source);
extern void px_assign_audit(const char *newval, void *extra);
extern void px_install_audit_hooks(void);
extern void px_audit_event(const char *action, const char *object, int64 count,
						   const char *detail);
extern char *px_audit_detail(const char *name, const char *value);
extern void px_audit_note_purpose(const char *purpose);
extern void px_audit_bind(PxAuditSite *site, FmgrInfo *flinfo, PxAuditAction action,
						  Oid relid, const char *column, uint32 key_id);

/* Whether values read now are counted: auditing is on, no request running. */
static inline bool
px_audit_counting(void)
{
	return px_audit_sinks != 0 && px_audit_suppressed == 0;
}

/* The key id an envelope names, for an audit counter (0 if unreadable). */
static inline uint32
px_audit_key_of(const uint8_t *env, size_t len)
{
	px_header	hdr;

	return px_header_read(env, len, &hdr) == PX_OK ? hdr.key_id : 0;
}

/* Whether the site's counter counts key_id's values read now. */
static inline bool
px_audit_site_bound(const PxAuditSite *site, uint32 key_id)
{
	return site->generation == px_audit_generation && site->key_id == key_id &&
		site->userid == GetUserId();
}

/* One more value under key_id read at this call site (inline: per row). */
static inline void
px_audit_count(PxAuditSite *site, FmgrInfo *flinfo, PxAuditAction action,
			   Oid relid, const char *column, uint32 key_id)
{
	if (!px_audit_counting())
		return;
	if (unlikely(!px_audit_site_bound(site, key_id)))
		px_audit_bind(site, flinfo, action, relid, column, key_id);
	(*site->counter)++;
}

/* subjects.c: data-subject requests */
typedef enum PxRequestKind
{
	PX_REQUEST_NONE = 0,
	PX_REQUEST_EXPORT,
	PX_REQUEST_ERASE
} PxRequestKind;

/*
 * While a request runs, has_consent() passes the subject's rows and, for an
 * erasure, privacy.anonymize_value() may run, but only in the request's own
 * statements, never in code of a table's owner they fire (subjects.c).
 * Reset when the request ends or fails, and at every transaction abort.
 */
extern PxRequestKind px_request_in_progress;
extern bool px_request_scope(void);
extern bool px_request_covers_subject(const char *subject, size_t len);

/* masking/guard.c */
extern bool px_loaded_at_start;
extern void px_install_mask_guard(void);

#endif							/* PRIVACY_EXT_H */
