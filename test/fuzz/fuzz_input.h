/*
 * fuzz_input.h
 *		Turning a libFuzzer input into the parameters of one differential
 *		test case (the fuzz_*_diff targets).
 *
 * Bytes are taken from the input in order; once it is used up they come
 * from a generator seeded by the whole input, so a short input still gives
 * a 4 KiB plaintext and every input names exactly one test case (a crash
 * found is reproduced by its input file alone).  Lengths are drawn from a
 * mix of ranges so that the code paths' edges (the GCM short path's 64-byte
 * text and 32-byte AAD limits, block boundaries, empty strings) come up far
 * more often than a uniform draw over 0..4096 would give them.
 */
#ifndef FUZZ_INPUT_H
#define FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>

typedef struct fuzz_input
{
	const uint8_t *data;
	size_t		left;
	uint64_t	state;			/* splitmix64, for bytes past the input's end */
} fuzz_input;

static inline void
fi_init(fuzz_input *in, const uint8_t *data, size_t size)
{
	uint64_t	h = 0xcbf29ce484222325ULL;	/* FNV-1a of the input */
	size_t		i;

	for (i = 0; i < size; i++)
		h = (h ^ data[i]) * 0x100000001b3ULL;
	in->data = data;
	in->left = size;
	in->state = h;
}

static inline uint8_t
fi_byte(fuzz_input *in)
{
	uint64_t	z;

	if (in->left > 0)
	{
		in->left--;
		return *in->data++;
	}
	z = (in->state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (uint8_t) (z ^ (z >> 31));
}

static inline void
fi_bytes(fuzz_input *in, uint8_t *out, size_t len)
{
	size_t		i;

	for (i = 0; i < len; i++)
		out[i] = fi_byte(in);
}

static inline uint32_t
fi_u32(fuzz_input *in)
{
	uint32_t	v = 0;
	int			i;

	for (i = 0; i < 4; i++)
		v = (v << 8) | fi_byte(in);
	return v;
}

/* A length in 0..max: near-edge ranges weighted above the uniform one. */
static inline size_t
fi_length(fuzz_input *in, size_t max)
{
	uint8_t		kind = fi_byte(in) % 4;
	uint32_t	r = fi_u32(in);
	size_t		limit;

	switch (kind)
	{
		case 0:
			limit = 17;			/* empty, sub-block, one block */
			break;
		case 1:
			limit = 80;			/* around the GCM short path's limits */
			break;
		case 2:
			limit = 300;
			break;
		default:
			limit = max;
			break;
	}
	if (limit > max)
		limit = max;
	return (size_t) (r % (uint32_t) (limit + 1));
}

/* A differential test's failure: say what differed, then abort for libFuzzer. */
#define FUZZ_CHECK(cond, what) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "differential check failed: %s (%s:%d)\n", \
					(what), __FILE__, __LINE__); \
			abort(); \
		} \
	} while (0)

#endif							/* FUZZ_INPUT_H */
