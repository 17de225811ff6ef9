/*
 * keys/root_key.h
 *		The root key: loaded once (at server start when preloaded) from
 *		privacy.root_key_command or privacy.root_key_file (keys/root_key.c).
 */
#ifndef PX_ROOT_KEY_H
#define PX_ROOT_KEY_H

#include "postgres.h"

/* The settings naming where the root key comes from (defined by module.c). */
extern char *px_root_key_command;
extern char *px_root_key_file;

extern void px_root_key_load_at_start(void);
extern const uint8_t *px_root_key(void);
extern uint64 px_root_key_generation(void);

#endif							/* PX_ROOT_KEY_H */
