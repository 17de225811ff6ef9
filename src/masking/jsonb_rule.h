/*
 * masking/jsonb_rule.h
 *		The jsonb('path' rule, ...) masking rule applied to a jsonb value
 *		(masking/jsonb_rule.c).
 */
#ifndef PX_MASKING_JSONB_RULE_H
#define PX_MASKING_JSONB_RULE_H

#include "postgres.h"

#include "px_mask.h"
#include "utils/jsonb.h"

/*
 * How a text rule masks a string: the caller's own text masking (with its
 * caches), given back the masked text or NULL for JSON null.
 */
typedef text *(*PxMaskTextFn) (void *arg, const px_mask_rule *rule, const char *s, size_t len);

/* The value with every path of the rule masked by its inner rule. */
extern Jsonb *px_mask_jsonb(Jsonb *value, const px_mask_rule *rule,
							PxMaskTextFn mask_text, void *arg);

#endif							/* PX_MASKING_JSONB_RULE_H */
