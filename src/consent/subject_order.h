/*
 * consent/subject_order.h
 *		The subjects of a consent set whose consent never expires, as a
 *		sorted list (core px_ordered.h), built while the consent table is
 *		read for the set (consent/subject_order.c).  has_consent() follows
 *		it with a cursor when a scan meets its subjects in order.
 */
#ifndef PX_CONSENT_SUBJECT_ORDER_H
#define PX_CONSENT_SUBJECT_ORDER_H

#include "postgres.h"
#include "px_ordered.h"

typedef struct PxSubjectOrder
{
	px_ordered_keys keys;		/* n = 0: no list */
	MemoryContext cxt;			/* its memory, a child of the set's */
} PxSubjectOrder;

typedef struct PxOrderItem
{
	uint32		off;
	uint32		len;
} PxOrderItem;

/* Subjects collected in the order read, then sorted by px_order_finish(). */
typedef struct PxOrderBuilder
{
	MemoryContext cxt;
	char	   *bytes;
	Size		used;
	Size		cap;
	PxOrderItem *items;
	uint32		n;
	uint32		cap_n;
	bool		failed;			/* too large to list: the set goes without */
} PxOrderBuilder;

extern void px_order_start(PxOrderBuilder *b, MemoryContext parent);
extern void px_order_add(PxOrderBuilder *b, const char *subject, size_t len);
extern void px_order_finish(PxOrderBuilder *b, PxSubjectOrder *order);
extern void px_order_drop(PxSubjectOrder *order);

#endif							/* PX_CONSENT_SUBJECT_ORDER_H */
