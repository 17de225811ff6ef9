/*
 * px_dict.h
 *		The dictionaries shipped with privacy_ext (data/dict/, see SOURCES.md
 *		there for their origin and licence), compiled into the library.
 *
 * Used by fake values (an entry chosen by a keyed hash of the input) and by
 * personal-data detection (is this word a known first name?).  Backend-free:
 * no postgres.h, no allocation.
 */
#ifndef PX_DICT_H
#define PX_DICT_H

#include <stdbool.h>
#include <stddef.h>

/* In the order of data/dict/ file names given to gen_dict_data.sh (sorted). */
typedef enum PxDictKind
{
	PX_DICT_CITIES = 0,
	PX_DICT_COUNTRIES,
	PX_DICT_FIRST_NAMES,
	PX_DICT_LAST_NAMES,
	PX_DICT_COUNT
} PxDictKind;

typedef struct PxDictionary
{
	const char *name;			/* file name without .txt */
	const char *const *entries; /* sorted by ASCII-lowercased bytes */
	int			count;
} PxDictionary;

extern const PxDictionary px_dictionaries[PX_DICT_COUNT];

/* Number of entries, or 0 for an unknown kind. */
extern int	px_dict_size(PxDictKind kind);

/* Entry number index (0 <= index < size), or NULL when out of range. */
extern const char *px_dict_entry(PxDictKind kind, int index);

/*
 * Whether s[0..len) is an entry, ASCII letters compared without case (bytes
 * >= 0x80 compared exactly, so "José" matches "josé" but not "JOSÉ").
 */
extern bool px_dict_contains(PxDictKind kind, const char *s, size_t len);

#endif							/* PX_DICT_H */
