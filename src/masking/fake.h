/*
 * masking/fake.h
 *		Fake values in the backend (masking/fake.c): the fake('kind') rule
 *		and privacy.mask_fake(), under a key derived from the root key.
 */
#ifndef PX_MASKING_FAKE_H
#define PX_MASKING_FAKE_H

#include "postgres.h"

#include "px_mask.h"

/*
 * The fake of kind_name (a px_fake_kind name) for s[0..len), or NULL when
 * the kind is unknown or no key could be derived.
 */
extern text *px_fake_text(const char *kind_name, size_t kind_len, const char *s, size_t len);

#endif							/* PX_MASKING_FAKE_H */
