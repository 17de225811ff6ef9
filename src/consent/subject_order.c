/*
 * consent/subject_order.c
 *		Building the sorted list of a consent set's never-expiring subjects.
 *
 * The subjects are appended as the consent table is read, then sorted once
 * and written out again in sorted order, duplicates dropped (a subject
 * consenting to a purpose and to its parent is read twice): the list's
 * bytes then lie in the order a cursor walks them.  A list past the size
 * limits is not made, and the set answers from its hashes alone.
 */
#include "consent/subject_order.h"

#include "utils/memutils.h"

/* More subjects than a set holds (consent/subject_set.c) are never listed. */
#define ORDER_MAX_SUBJECTS (8 * 1024 * 1024)

void
px_order_start(PxOrderBuilder *b, MemoryContext parent)
{
	memset(b, 0, sizeof(PxOrderBuilder));
	b->cxt = AllocSetContextCreate(parent, "privacy_ext consent subject list",
								   ALLOCSET_DEFAULT_SIZES);
	b->cap = 64 * 1024;
	b->bytes = MemoryContextAlloc(b->cxt, b->cap);
	b->cap_n = 8 * 1024;
	b->items = MemoryContextAlloc(b->cxt, sizeof(PxOrderItem) * b->cap_n);
}

void
px_order_add(PxOrderBuilder *b, const char *subject, size_t len)
{
	if (b->failed)
		return;
	if (b->n == b->cap_n)
	{
		if (b->cap_n >= ORDER_MAX_SUBJECTS)
		{
			b->failed = true;
			return;
		}
		b->cap_n *= 2;
		b->items = repalloc(b->items, sizeof(PxOrderItem) * b->cap_n);
	}
	if (len > MaxAllocSize / 2 || b->used + len > b->cap)
	{
		Size		cap = b->cap;

		while (cap < b->used + len && cap <= MaxAllocSize / 2)
			cap *= 2;
		if (len > MaxAllocSize / 2 || cap < b->used + len || cap > MaxAllocSize)
		{
			b->failed = true;
			return;
		}
		b->bytes = repalloc(b->bytes, cap);
		b->cap = cap;
	}
	memcpy(b->bytes + b->used, subject, len);
	b->items[b->n].off = (uint32) b->used;
	b->items[b->n].len = (uint32) len;
	b->used += len;
	b->n++;
}

static int
item_cmp(const void *a, const void *b, void *arg)
{
	const PxOrderItem *x = (const PxOrderItem *) a;
	const PxOrderItem *y = (const PxOrderItem *) b;
	const char *bytes = (const char *) arg;

	return px_ordered_compare(bytes + x->off, x->len, bytes + y->off, y->len);
}

/*
 * Sort, drop duplicates and lay the bytes out in sorted order.  Without a
 * list (failed, or nothing to list) order->keys.n is 0 and the builder's
 * memory is freed.
 */
void
px_order_finish(PxOrderBuilder *b, PxSubjectOrder *order)
{
	uint32	   *start;
	char	   *bytes;
	uint32		n = 0;
	Size		used = 0;
	uint32		i;

	memset(order, 0, sizeof(PxSubjectOrder));
	if (b->failed || b->n == 0)
	{
		MemoryContextDelete(b->cxt);
		return;
	}
	qsort_arg(b->items, b->n, sizeof(PxOrderItem), item_cmp, b->bytes);
	start = MemoryContextAlloc(b->cxt, sizeof(uint32) * ((Size) b->n + 1));
	bytes = MemoryContextAlloc(b->cxt, Max(b->used, 1));
	for (i = 0; i < b->n; i++)
	{
		const PxOrderItem *it = &b->items[i];

		if (n > 0 && px_ordered_compare(bytes + start[n - 1], used - start[n - 1],
										b->bytes + it->off, it->len) == 0)
			continue;
		start[n++] = (uint32) used;
		memcpy(bytes + used, b->bytes + it->off, it->len);
		used += it->len;
	}
	start[n] = (uint32) used;
	pfree(b->items);
	pfree(b->bytes);
	b->items = NULL;
	b->bytes = NULL;
	order->keys.n = n;
	order->keys.start = start;
	order->keys.bytes = bytes;
	order->cxt = b->cxt;
}

void
px_order_drop(PxSubjectOrder *order)
{
	if (order->cxt != NULL)
		MemoryContextDelete(order->cxt);
	memset(order, 0, sizeof(PxSubjectOrder));
}
