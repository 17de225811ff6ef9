/*
 * keys/key_store.h
 *		Data keys for encryption and decryption, with backend caches, and
 *		direct access to the key tables (keys/key_store.c).  The tables'
 *		column positions are in catalog.h.
 */
#ifndef PX_KEY_STORE_H
#define PX_KEY_STORE_H

#include "postgres.h"
#include "storage/lockdefs.h"
#include "utils/relcache.h"
#include "px_core.h"

/* Key id 0 marks a transit value: typed input not yet bound to a key. */
#define PX_TRANSIT_KEY_ID 0

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
extern bool px_key_has_versions(uint32 key_id);
extern bool px_key_destroyed(uint32 key_id);
extern uint32 px_key_id_for_name(const char *name, bool missing_ok);
extern bool px_key_name_valid(const char *name);
extern void px_report_destroyed_key(uint32 key_id);
extern px_status px_noise_mac(const uint8_t *msg, size_t len, uint8_t out[32]);

/* Root keys in use (see keys/root_key.c for where they come from). */
extern px_status px_unwrap_data_key(uint32 key_id, uint32 key_version,
									const uint8_t wrapped[PX_WRAPPED_KEY_LEN],
									const uint8_t check[PX_KEY_CHECK_LEN],
									uint8_t data_key[PX_KEY_LEN]);
extern void px_report_root_key_mismatch(uint32 key_id, uint32 key_version,
										const uint8_t check[PX_KEY_CHECK_LEN]) pg_attribute_noreturn();
extern char *px_check_value_hex(const uint8_t check[PX_KEY_CHECK_LEN]);
/* Where px_root_derivation_key() found the derivation key. */
typedef enum PxDerivationSource
{
	PX_DERIVATION_STORED,		/* privacy.root_derivation_key (after a rotation) */
	PX_DERIVATION_PREVIOUS,		/* the previous root key's (first rotation, not yet rewrapped) */
	PX_DERIVATION_CURRENT		/* the current root key's (never rotated) */
} PxDerivationSource;

extern void px_root_derivation_key(uint8_t prk[PX_KEY_LEN], PxDerivationSource *source);
extern void px_root_derived_key(const char *label, uint8_t *out, size_t out_len);


/* Which key table px_open_key_table() opens. */
#define PX_TABLE_KEYS		0
#define PX_TABLE_VERSIONS	1
#define PX_TABLE_GRANTS		2
#define PX_TABLE_ROOT_DERIVATION	3
#define PX_NUM_KEY_TABLES	4

/* Deterministic values always use this version's key: see key_store.c. */
#define PX_DET_KEY_VERSION 1

extern Oid	px_key_table_oid(int which);
extern Relation px_open_key_table(int which, LOCKMODE lockmode);

#endif							/* PX_KEY_STORE_H */
