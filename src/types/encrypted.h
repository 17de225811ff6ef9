/*
 * types/encrypted.h
 *		The encrypted column types: which types they are, binding a transit
 *		value to a key, opening a value for masking (types/encrypted.c).
 */
#ifndef PX_TYPES_ENCRYPTED_H
#define PX_TYPES_ENCRYPTED_H

#include "postgres.h"
#include "px_core.h"

extern bytea *px_det_bind_transit(bytea *env, uint32 key_id);
extern bytea *px_reseal_under_own_key(bytea *env, void **cachep, MemoryContext mcxt);
extern bytea *px_seal_for_key(px_value_type type, uint32 key_id, const char *pt, size_t len);
/*
 * column_typmod: the key the column being masked requires (its typmod), or
 * -1; a value under another key is refused (ERRCODE_PX_WRONG_KEY) before
 * it is opened.
 */
extern struct varlena *px_open_for_masking(bytea *env, px_value_type type, void **cachep,
											   MemoryContext mcxt, int32 column_typmod);
/* px_open_for_masking_into()'s answer for a transit value (nothing decrypted) */
#define PX_OPEN_TRANSIT SIZE_MAX
extern size_t px_open_for_masking_into(const uint8_t *env, size_t len, px_value_type type,
									   void **cachep, MemoryContext mcxt, uint8_t *scratch,
									   uint32 *key_id, int32 column_typmod);

#endif							/* PX_TYPES_ENCRYPTED_H */
