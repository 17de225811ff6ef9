/* libFuzzer target: text armor decoding and envelope parsing of arbitrary input. */
#include "px_core.h"

#include <stdlib.h>
#include <string.h>

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static px_aead *aead = NULL;
	size_t		cap = px_armor_max_decoded_len(size) + 1;
	uint8_t    *env = malloc(cap);
	size_t		env_len = 0;
	px_header	hdr;

	if (aead == NULL)
	{
		uint8_t		key[PX_KEY_LEN] = {7};

		aead = px_aead_new(key);
	}
	if (px_armor_decode((const char *) data, size, env, &env_len) == PX_OK)
	{
		if (env_len > cap)
			abort();			/* decoder wrote past its promise */
		if (px_header_read(env, env_len, &hdr) == PX_OK && hdr.type != PX_TYPE_TEXT_DET)
		{
			uint8_t    *pt = malloc(px_envelope_plaintext_len(env_len) + 1);
			size_t		pt_len;

			if (px_envelope_open(aead, env, env_len, pt, &pt_len) == PX_OK)
				abort();		/* random input must never authenticate */
			free(pt);
		}
	}
	free(env);
	return 0;
}
