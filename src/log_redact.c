/*
 * log_redact.c
 *		Keeping plaintext out of the server log (see log_redact.h).
 */
#include "postgres.h"

#include "log_redact.h"

bool		px_log_took_plaintext = false;
bool		px_log_gave_plaintext = false;

void
px_install_log_redaction(void)
{
}
