/* libFuzzer target: opening arbitrary bytes as GCM and AES-SIV envelopes. */
#include "px_core.h"

#include <stdlib.h>
#include <string.h>

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static px_aead *aead = NULL;
	static px_siv *siv = NULL;
	uint8_t    *out = malloc(size + 1);
	size_t		out_len;
	px_header	hdr;

	if (aead == NULL)
	{
		uint8_t		key[PX_SIV_KEY_LEN] = {9};

		aead = px_aead_new(key);
		siv = px_siv_new(key, PX_SIV_KEY_LEN);
	}
	(void) px_header_read(data, size, &hdr);
	if (px_envelope_open(aead, data, size, out, &out_len) == PX_OK)
		abort();
	if (px_det_open(siv, data, size, out, &out_len) == PX_OK)
		abort();
	free(out);
	return 0;
}
