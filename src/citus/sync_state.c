/*
 * citus/sync_state.c
 *		Whether this backend is applying a change shipped by the Citus
 *		coordinator.  A backend-local flag, set and cleared around one
 *		change by citus/sync_apply.c (also on error).
 */
#include "citus/sync_state.h"

static bool applying = false;

bool
px_sync_applying(void)
{
	return applying;
}

void
px_sync_set_applying(bool value)
{
	applying = value;
}
