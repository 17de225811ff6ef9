/*
 * fuzz_fake.c
 *		libFuzzer target: fake values (px_fake) for any input and kind.
 *
 * The first byte picks the kind (values past the last kind included, which
 * must give nothing), the next 32 the key, the rest is the input.  A fake
 * must be a NUL-terminated string of the length returned, below
 * PX_FAKE_MAX, never the input (ASCII and Latin-1 case ignored), the same when asked
 * again, and for IBANs pass the mod-97 check.
 */
#include "px_mask.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int ok, const char *what)
{
	if (!ok)
	{
		fprintf(stderr, "fuzz_fake: %s\n", what);
		abort();
	}
}

/* Byte i with ASCII and Latin-1 (UTF-8 C3 80..9E) upper case folded. */
static unsigned char
fold_byte(const char *s, size_t i)
{
	unsigned char c = (unsigned char) s[i];

	if (c >= 'A' && c <= 'Z')
		return (unsigned char) (c + 32);
	if (i > 0 && (unsigned char) s[i - 1] == 0xC3 && c >= 0x80 && c <= 0x9E && c != 0x97)
		return (unsigned char) (c + 0x20);
	return c;
}

static int
same_ci(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t		i;

	if (alen != blen)
		return 0;
	for (i = 0; i < alen; i++)
		if (fold_byte(a, i) != fold_byte(b, i))
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t		key[32] = {0};
	px_fake_kind kind;
	const char *in;
	size_t		len;
	char	   *exact;
	char		a[PX_FAKE_MAX];
	char		b[PX_FAKE_MAX];
	size_t		na;
	size_t		nb;

	if (size == 0)
		return 0;
	kind = (px_fake_kind) (data[0] % (PX_FAKE_KIND_COUNT + 1));
	memcpy(key, data + 1, size - 1 < 32 ? size - 1 : 32);
	in = (const char *) data + (size > 33 ? 33 : size);
	len = size > 33 ? size - 33 : 0;
	/* the input on the heap, exactly its length: an over-read is caught */
	exact = malloc(len ? len : 1);
	check(exact != NULL, "out of memory");
	memcpy(exact, in, len);
	na = px_fake(kind, key, exact, len, a);
	if (kind == PX_FAKE_KIND_COUNT)
	{
		check(na == 0 && a[0] == '\0', "an unknown kind gave a fake");
		free(exact);
		return 0;
	}
	check(na > 0 && na < PX_FAKE_MAX && a[na] == '\0' && strlen(a) == na,
		  "fake not a string of its length");
	check(!same_ci(a, na, exact, len), "fake equals the input");
	nb = px_fake(kind, key, exact, len, b);
	check(nb == na && memcmp(a, b, na) == 0, "fake not deterministic");
	if (kind == PX_FAKE_IBAN)
		check(px_iban_valid(a, na), "fake IBAN fails its check digits");
	/* the fake as input gets yet another fake */
	nb = px_fake(kind, key, a, na, b);
	check(nb > 0 && !same_ci(b, nb, a, na), "fake of a fake equals it");
	/* IBAN checker on raw bytes: never crashes */
	(void) px_iban_valid(exact, len);
	free(exact);
	return 0;
}
