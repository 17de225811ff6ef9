/* libFuzzer target: the text masking functions on arbitrary bytes and parameters. */
#include "px_mask.h"

#include <stdlib.h>
#include <string.h>

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int			prefix;
	int			suffix;
	size_t		pad_len;
	const char *pad;
	const char *in;
	size_t		len;
	char	   *out;
	size_t		n;

	if (size < 3)
		return 0;
	prefix = (int) (signed char) data[0];
	suffix = (int) (signed char) data[1];
	pad_len = data[2] % 8;
	if (size - 3 < pad_len)
		return 0;
	pad = (const char *) data + 3;
	in = pad + pad_len;
	len = size - 3 - pad_len;
	out = malloc(len + pad_len + 8);

	n = px_mask_partial(in, len, prefix, pad, pad_len, suffix, out);
	if (n > len + pad_len + 1 || (n == len && memcmp(out, in, len) == 0))
		abort();			/* over capacity, or the value itself */
	n = px_mask_email(in, len, out);
	if (n > len + 8)
		abort();
	n = px_mask_credit_card(in, len, out);
	if (n > len)
		abort();			/* one output byte at most per input byte */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char) out[i] >= 0x80)
			abort();		/* a character outside ASCII is never copied */
	free(out);
	return 0;
}
