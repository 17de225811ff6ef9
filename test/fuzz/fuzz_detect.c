/*
 * libFuzzer target: the personal-data recognisers (px_detect.h) on arbitrary
 * bytes, as values, as numbers' text and as column names, and the
 * confidence from any counts.
 */
#include "px_detect.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *) data;
	char	   *copy;
	unsigned	bits;
	PxNameHint	hint;
	int			c;

	/* a copy of exactly size bytes, so that ASan sees any read past the end */
	copy = malloc(size ? size : 1);
	if (size)
		memcpy(copy, s, size);
	bits = px_detect_value(copy, size, 2026);
	if (bits >> PX_DETECT_VALUE_BITS)
		abort();				/* a category or digit shape that does not exist */
	if (bits != px_detect_value(copy, size, 2026))
		abort();				/* not a function of the value */
	if ((bits & PX_DETECT_BIT(PX_DETECT_EMAIL)) && bits != PX_DETECT_BIT(PX_DETECT_EMAIL))
		abort();				/* an e-mail address is nothing else */
	for (c = 0; c < PX_SHAPE_COUNT; c++)
		if ((bits & PX_DETECT_SHAPE_BIT(c)) && (bits & PX_DETECT_BIT(px_detect_shape_category(c))))
			abort();			/* a category's format and its bare digits at once */
	bits = px_detect_number(copy, size);
	if (bits >> PX_DETECT_VALUE_BITS)
		abort();
	if (bits & ~(PX_DETECT_BIT(PX_DETECT_PAYMENT_CARD) | PX_DETECT_BIT(PX_DETECT_POSTAL_CODE) |
				 PX_DETECT_SHAPE_BIT(PX_SHAPE_US_SSN) | PX_DETECT_SHAPE_BIT(PX_SHAPE_PHONE)))
		abort();				/* a number is no e-mail, IBAN, name... */
	hint = px_detect_column_name(copy, size);
	if ((hint.strong | hint.weak) >> PX_DETECT_COUNT || (hint.strong & hint.weak))
		abort();
	for (c = -1; c <= PX_DETECT_COUNT; c++)
	{
		long		sampled = size > 0 ? data[0] : 0;
		long		matched = size > 1 ? data[1] : 0;
		long		shaped = size > 2 ? data[2] : 0;
		double		conf = px_detect_confidence(c, sampled, matched, hint);

		if (!(conf >= 0.0 && conf <= 1.0))
			abort();
		conf = px_detect_confidence_shaped(c, sampled, matched, shaped, hint);
		if (!(conf >= 0.0 && conf <= 1.0))
			abort();
	}
	free(copy);
	return 0;
}
