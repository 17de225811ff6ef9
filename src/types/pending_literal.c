/*
 * types/pending_literal.c
 *		Literals waiting to be sealed once under their column's key (see
 *		pending_literal.h for the why).
 *
 * A pending value is laid out like an envelope header, so anything that
 * reads it by mistake fails cleanly (too short to be an envelope; it names
 * the key id 0xFFFFFFFF, which no key can have: ids are 31-bit):
 *
 *	offset	size	field
 *	0		1		format version (1)
 *	1		1		value type
 *	2		4		0xFFFFFFFF
 *	6		4		0
 *	10		4		handle (index in this backend's list)
 *	14		16		token: random per value, so a handle alone names nothing
 *
 * The plaintexts live in a memory context of their own under
 * TopMemoryContext, each tagged with the subtransaction that made it; an
 * aborted subtransaction wipes its own, and the end of the transaction
 * wipes them all.  A commit (or PREPARE TRANSACTION) that would leave one
 * behind fails instead: the value would otherwise be lost.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "parser/parse_node.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "catalog.h"
#include "errors.h"
#include "types/pending_literal.h"

#define PENDING_KEY_ID		0xFFFFFFFFu
#define PENDING_TOKEN_LEN	16
#define PENDING_LEN			(PX_HEADER_LEN + 4 + PENDING_TOKEN_LEN)

typedef struct PendingLiteral
{
	bool		in_use;
	px_value_type type;
	SubTransactionId subxact;
	const void *analysis;		/* the top-level ParseState that made it */
	uint64		serial;			/* order of making (px_literal_mark) */
	uint8		token[PENDING_TOKEN_LEN];
	char	   *plaintext;
	size_t		len;
} PendingLiteral;

static MemoryContext pending_cxt = NULL;
static PendingLiteral *pending = NULL;
static int	npending_slots = 0;
static int	npending_live = 0;
static int	unhooked_utility_depth = 0;
static uint64 pending_serial = 0;

/* The analysis px_literal_can_wait() last said yes for (its top ParseState). */
static const void *waiting_analysis = NULL;

/* The parser's error-position callback (parse_node.c keeps it static). */
static void (*parser_position_callback) (void *arg) = NULL;

static void
put_be32(uint8 *p, uint32 v)
{
	p[0] = (uint8) (v >> 24);
	p[1] = (uint8) (v >> 16);
	p[2] = (uint8) (v >> 8);
	p[3] = (uint8) v;
}

static uint32
get_be32(const uint8 *p)
{
	return ((uint32) p[0] << 24) | ((uint32) p[1] << 16) | ((uint32) p[2] << 8) | p[3];
}

static void
release_slot(PendingLiteral *slot)
{
	if (!slot->in_use)
		return;
	px_wipe(slot->plaintext, slot->len);
	pfree(slot->plaintext);
	slot->plaintext = NULL;
	slot->in_use = false;
	npending_live--;
}

static void
release_all(void)
{
	int			i;

	for (i = 0; i < npending_slots; i++)
		release_slot(&pending[i]);
	npending_live = 0;
}

static void
pending_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PARALLEL_PRE_COMMIT:
		case XACT_EVENT_PRE_PREPARE:
			if (npending_live > 0)
				ereport(ERROR,
						(errcode(ERRCODE_INTERNAL_ERROR),
						 errmsg("an encrypted literal was never bound to a key"),
						 errhint("Cast the literal to the column's type, as in "
								 "'...'::privacy.encrypted_text('keyname').")));
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			release_all();
			unhooked_utility_depth = 0;
			break;
	}
}

static void
pending_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						 SubTransactionId parentSubid, void *arg)
{
	int			i;

	if (event != SUBXACT_EVENT_ABORT_SUB)
		return;
	for (i = 0; i < npending_slots; i++)
		if (pending[i].in_use && pending[i].subxact >= mySubid)
			release_slot(&pending[i]);
}

void
px_pending_literal_init(void)
{
	ParseState *pstate = make_parsestate(NULL);
	ParseCallbackState pcb;

	/* Learn the callback's address by installing it once, for nothing. */
	setup_parser_errposition_callback(&pcb, pstate, -1);
	parser_position_callback = pcb.errcallback.callback;
	cancel_parser_errposition_callback(&pcb);
	free_parsestate(pstate);

	RegisterXactCallback(pending_xact_callback, NULL);
	RegisterSubXactCallback(pending_subxact_callback, NULL);
}

void
px_literal_enter_unhooked_utility(void)
{
	unhooked_utility_depth++;
}

void
px_literal_leave_unhooked_utility(void)
{
	if (unhooked_utility_depth > 0)
		unhooked_utility_depth--;
}

/*
 * A column a literal may reach only through the column's own type: arrays,
 * composites and ranges call the element input with typmod -1 as well, and
 * their values would hide a pending element where nobody binds it.
 */
static bool
column_type_is_plain(Oid typid)
{
	Oid			base = getBaseType(typid);
	char		typtype = get_typtype(base);
	Oid			elem;

	if (typtype == TYPTYPE_COMPOSITE || typtype == TYPTYPE_RANGE ||
		typtype == TYPTYPE_MULTIRANGE || typtype == TYPTYPE_PSEUDO)
		return false;
	elem = get_element_type(base);
	if (OidIsValid(elem))
	{
		px_value_type unused;

		return !px_encrypted_type(getBaseType(elem), &unused) &&
			get_typtype(getBaseType(elem)) == TYPTYPE_BASE;
	}
	return true;
}

bool
px_literal_can_wait(void)
{
	ErrorContextCallback *top = error_context_stack;
	ParseState *pstate;
	Relation	rel;
	int			i;

	if (parser_position_callback == NULL || unhooked_utility_depth > 0 ||
		top == NULL || top->callback != parser_position_callback || top->arg == NULL)
		return false;
	pstate = ((ParseCallbackState *) top->arg)->pstate;
	if (pstate == NULL ||
		(pstate->p_expr_kind != EXPR_KIND_INSERT_TARGET &&
		 pstate->p_expr_kind != EXPR_KIND_UPDATE_TARGET))
		return false;
	rel = pstate->p_target_relation;
	if (rel == NULL || !IsTransactionState())
		return false;
	waiting_analysis = pstate;
	while (((const ParseState *) waiting_analysis)->parentParseState != NULL)
		waiting_analysis = ((const ParseState *) waiting_analysis)->parentParseState;
	for (i = 0; i < RelationGetDescr(rel)->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel), i);

		if (!att->attisdropped && !column_type_is_plain(att->atttypid))
			return false;
	}
	return true;
}

bytea *
px_literal_make_pending(px_value_type type, const char *pt, size_t len)
{
	PendingLiteral *slot = NULL;
	bytea	   *result;
	uint8	   *p;
	int			i;

	if (pending_cxt == NULL)
		pending_cxt = AllocSetContextCreate(TopMemoryContext, "privacy_ext pending literals",
											ALLOCSET_SMALL_SIZES);
	for (i = 0; i < npending_slots; i++)
		if (!pending[i].in_use)
		{
			slot = &pending[i];
			break;
		}
	if (slot == NULL)
	{
		int			grown = npending_slots == 0 ? 16 : npending_slots * 2;

		pending = pending == NULL
			? MemoryContextAllocZero(pending_cxt, sizeof(PendingLiteral) * grown)
			: repalloc(pending, sizeof(PendingLiteral) * grown);
		memset(&pending[npending_slots], 0, sizeof(PendingLiteral) * (grown - npending_slots));
		i = npending_slots;
		npending_slots = grown;
		slot = &pending[i];
	}

	slot->plaintext = MemoryContextAlloc(pending_cxt, len + 1);
	memcpy(slot->plaintext, pt, len);
	slot->plaintext[len] = '\0';
	slot->len = len;
	slot->type = type;
	slot->subxact = GetCurrentSubTransactionId();
	slot->analysis = waiting_analysis;
	slot->serial = ++pending_serial;
	if (!pg_strong_random(slot->token, PENDING_TOKEN_LEN))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate random bytes")));
	slot->in_use = true;
	npending_live++;

	result = palloc(VARHDRSZ + PENDING_LEN);
	SET_VARSIZE(result, VARHDRSZ + PENDING_LEN);
	p = (uint8 *) VARDATA(result);
	p[0] = PX_FORMAT_V1;
	p[1] = (uint8) type;
	put_be32(p + 2, PENDING_KEY_ID);
	put_be32(p + 6, 0);
	put_be32(p + 10, (uint32) i);
	memcpy(p + 14, slot->token, PENDING_TOKEN_LEN);
	return result;
}

static PendingLiteral *
find_slot(const bytea *env)
{
	const uint8 *p;
	uint32		handle;

	if (npending_live == 0 || VARSIZE_ANY_EXHDR(env) != PENDING_LEN)
		return NULL;
	p = (const uint8 *) VARDATA_ANY(env);
	if (p[0] != PX_FORMAT_V1 || get_be32(p + 2) != PENDING_KEY_ID)
		return NULL;
	handle = get_be32(p + 10);
	if (handle >= (uint32) npending_slots || !pending[handle].in_use ||
		pending[handle].type != (px_value_type) p[1] ||
		memcmp(pending[handle].token, p + 14, PENDING_TOKEN_LEN) != 0)
		return NULL;
	return &pending[handle];
}

const char *
px_literal_pending_text(const bytea *env, px_value_type *type, size_t *len)
{
	PendingLiteral *slot = find_slot(env);

	if (slot == NULL)
		return NULL;
	*type = slot->type;
	*len = slot->len;
	return slot->plaintext;
}

void
px_literal_release(const bytea *env)
{
	PendingLiteral *slot = find_slot(env);

	if (slot != NULL)
		release_slot(slot);
}

int
px_literal_pending_count(void)
{
	return npending_live;
}

void
px_literal_release_analysis(const void *analysis)
{
	int			i;

	for (i = 0; i < npending_slots; i++)
		if (pending[i].in_use && pending[i].analysis == analysis)
			release_slot(&pending[i]);
}

uint64
px_literal_mark(void)
{
	return pending_serial;
}

void
px_literal_release_since(uint64 mark)
{
	int			i;

	for (i = 0; i < npending_slots && npending_live > 0; i++)
		if (pending[i].in_use && pending[i].serial > mark)
			release_slot(&pending[i]);
}
