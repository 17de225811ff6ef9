/*
 * types/det_ops.h
 *		What types/det_ops.c shares with the other operators on
 *		privacy.encrypted_text_det (types/det_text_ops.c).
 */
#ifndef PX_DET_OPS_H
#define PX_DET_OPS_H

#include "postgres.h"
#include "nodes/pathnodes.h"

/* The key id a deterministic envelope names (PX_TRANSIT_KEY_ID: unbound). */
extern uint32 px_det_key_id(bytea *v);

/* A value sealed at plan time under key_id, as a plan should hold it. */
extern Node *px_det_plan_constant(PlannerInfo *root, Datum sealed, Oid dettype, int32 key_id);

#endif							/* PX_DET_OPS_H */
