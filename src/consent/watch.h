/*
 * consent/watch.h
 *		The change watch: a shared-memory ring of changed subjects that
 *		keeps a backend's set of consenting subjects exact across
 *		statements (consent/watch.c).
 */
#ifndef PX_CONSENT_WATCH_H
#define PX_CONSENT_WATCH_H

#include "postgres.h"
#include "utils/snapshot.h"

/* Slots of a watch's table of dirty subjects (open addressing, 0 = empty). */
#define PX_CONSENT_DIRTY_SLOTS 16384

typedef struct PxConsentWatch
{
	uint64		seen;			/* ring entries already marked */
	uint64	   *dirty;			/* subjects changed since the set was read */
	int			ndirty;
	TransactionId xmax;			/* the set's snapshot: xmax and sorted xip */
	uint32		xcnt;
	TransactionId *xip;
} PxConsentWatch;

extern int	px_consent_cache_kb;
extern void px_install_consent_cache(void);
extern bool px_consent_cache_available(void);
extern uint64 px_consent_hash(const char *subject, size_t len);
extern bool px_consent_watch_start(PxConsentWatch *w, Snapshot snap, MemoryContext cxt);
extern bool px_consent_watch_catch_up(PxConsentWatch *w);
extern bool px_consent_watch_covers(const PxConsentWatch *w, Snapshot snap);

/*
 * Whether subject h changed since the set was read (as far as the last
 * catch-up knows).  Inline: asked for every row answered from a set.
 */
static inline bool
px_consent_watch_dirty(const PxConsentWatch *w, uint64 h)
{
	uint64		i;

	if (w->ndirty == 0)
		return false;
	i = h & (PX_CONSENT_DIRTY_SLOTS - 1);
	while (w->dirty[i] != 0)
	{
		if (w->dirty[i] == h)
			return true;
		i = (i + 1) & (PX_CONSENT_DIRTY_SLOTS - 1);
	}
	return false;
}

#endif							/* PX_CONSENT_WATCH_H */
