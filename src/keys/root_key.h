/*
 * keys/root_key.h
 *		The root keys: the current one, loaded once (at server start when
 *		preloaded) from privacy.root_key_command or privacy.root_key_file,
 *		and during a rotation the previous one, from
 *		privacy.previous_root_key_command or _file (keys/root_key.c).
 */
#ifndef PX_ROOT_KEY_H
#define PX_ROOT_KEY_H

#include "postgres.h"
#include "px_core.h"

/* The settings naming where the root key comes from (defined by module.c). */
extern char *px_root_key_command;
extern char *px_root_key_file;
extern char *px_previous_root_key_command;
extern char *px_previous_root_key_file;

extern void px_root_key_load_at_start(void);
extern const uint8_t *px_root_key(void);
extern const uint8_t *px_previous_root_key(void);
extern void px_root_key_check_value(uint8_t out[PX_KEY_CHECK_LEN]);
extern const uint8_t *px_root_key_for_check(const uint8_t check[PX_KEY_CHECK_LEN], bool *is_current);
extern uint64 px_root_key_generation(void);

#endif							/* PX_ROOT_KEY_H */
