/*
 * keys/root_key.c
 *		Obtaining the root key: privacy.root_key_command,
 *		privacy.root_key_file, or the development-mode key file; and,
 *		while the root key is being changed, the previous one from
 *		privacy.previous_root_key_command or privacy.previous_root_key_file.
 *
 * Root keys only ever live in this process's memory.  They never enter
 * SQL, a table, a setting's value or a log line; every message below names
 * the source of a problem, never the bytes read.
 *
 * Each wrapped data key records the check value of the root key that
 * wrapped it (keywrap.c), so a reader picks the root key by that value:
 * during a rotation (README, "Changing the root key") versions under the
 * previous key and versions already rewrapped under the current one are
 * both readable, and privacy.rewrap_keys() moves them all to the current.
 */
#include "errors.h"
#include "keys/root_key.h"

#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "miscadmin.h"
#include "port.h"
#include "storage/fd.h"
#include "utils/memutils.h"

/* The settings naming the root keys (module.c defines them). */
char	   *px_root_key_command = NULL;
char	   *px_root_key_file = NULL;
char	   *px_previous_root_key_command = NULL;
char	   *px_previous_root_key_file = NULL;

/* Development-mode key file, relative to the data directory. */
#define DEV_KEY_FILE "privacy_ext_root.key"

/*
 * Longer input than this cannot be a 64-hex-digit key plus a newline.
 * Sources are read into KEY_SOURCE_BUF bytes, one more than this, so that
 * longer input is seen, and refused, rather than cut to a valid key.
 */
#define MAX_KEY_SOURCE_LEN 256
#define KEY_SOURCE_BUF (MAX_KEY_SOURCE_LEN + 1)

/* One root key: the current one, or the previous one during a rotation. */
typedef struct RootKeySlot
{
	bool		loaded;
	bool		present;		/* false: the previous key is not configured */
	uint8_t		key[PX_KEY_LEN];
	uint8_t		check[PX_KEY_CHECK_LEN];
	/* The settings the key came from, to notice a reload that changed them. */
	char		loaded_command[MAXPGPATH * 2];
	char		loaded_file[MAXPGPATH];
} RootKeySlot;

static RootKeySlot current_slot;
static RootKeySlot previous_slot;
static uint64 root_key_gen = 0;

static bool
setting_is_set(const char *value)
{
	return value != NULL && value[0] != '\0';
}

/*
 * Parse 64 hex digits, optionally followed by whitespace, into key.  text
 * is a KEY_SOURCE_BUF buffer, wiped here; len is what the source held,
 * more than MAX_KEY_SOURCE_LEN when it held more than the buffer.
 * "source" names where the text came from, for the error message only.
 */
static void
parse_key_text(char *text, size_t len, const char *source, uint8_t key[PX_KEY_LEN])
{
	px_status	status;

	if (len > MAX_KEY_SOURCE_LEN)
	{
		px_wipe(text, KEY_SOURCE_BUF);
		ereport(ERROR,
				(errcode(ERRCODE_PX_ROOT_KEY),
				 errmsg("privacy_ext root key from %s is invalid", source),
				 errdetail("The root key must be exactly 64 hexadecimal digits (256 bits); the input is longer than %d bytes.",
						   MAX_KEY_SOURCE_LEN),
				 errhidestmt(true)));
	}
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' ||
					   text[len - 1] == ' ' || text[len - 1] == '\t'))
		len--;
	status = px_hex_decode(text, len, key, PX_KEY_LEN);
	px_wipe(text, KEY_SOURCE_BUF);
	if (status != PX_OK)
		ereport(ERROR,
				(errcode(ERRCODE_PX_ROOT_KEY),
				 errmsg("privacy_ext root key from %s is invalid", source),
				 errdetail("The root key must be exactly 64 hexadecimal digits (256 bits)."),
				 errhidestmt(true)));
}

static void
load_from_command(const char *command, const char *setting, uint8_t key[PX_KEY_LEN])
{
	char		buf[KEY_SOURCE_BUF];
	char		drain[64];
	size_t		len = 0;
	size_t		n;
	FILE	   *pipe;
	int			rc;

	fflush(NULL);
	pipe = popen(command, "r");
	if (pipe == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_PX_ROOT_KEY),
				 errmsg("could not run %s: %m", setting)));
	while (len < sizeof(buf) &&
		   (n = fread(buf + len, 1, sizeof(buf) - len, pipe)) > 0)
		len += n;
	/* Drain anything longer so the command is not killed by SIGPIPE. */
	while (len == sizeof(buf) && fread(drain, 1, sizeof(drain), pipe) > 0)
		;
	px_wipe(drain, sizeof(drain));
	rc = pclose(pipe);
	if (rc != 0)
	{
		px_wipe(buf, sizeof(buf));
		ereport(ERROR,
				(errcode(ERRCODE_PX_ROOT_KEY),
				 errmsg("%s failed: %s", setting, wait_result_to_str(rc)),
				 errhint("The command's own message, if any, is in the server log just above.")));
	}
	parse_key_text(buf, len, setting, key);
}

/*
 * Read a key file.  "source" names the setting (or the development key
 * file) in every message: with two root key settings, the path alone does
 * not say which one to fix.
 */
static void
load_from_file(const char *path, const char *source, uint8_t key[PX_KEY_LEN])
{
	char		buf[KEY_SOURCE_BUF];
	struct stat st;
	ssize_t		n;
	size_t		len = 0;
	int			fd;

	/*
	 * O_NONBLOCK: a FIFO (or a device) would otherwise block the open, and
	 * the postmaster with it, before fstat could refuse it.  fstat on the
	 * open descriptor, not stat before opening, so the file checked is the
	 * file read.  It changes nothing for the regular file read below.
	 */
	fd = open(path, O_RDONLY | O_NONBLOCK | PG_BINARY, 0);
	if (fd < 0)
		ereport(ERROR,
				(errcode(ERRCODE_PX_ROOT_KEY),
				 errmsg("could not open privacy_ext root key file \"%s\" (%s): %m", path, source)));
	if (fstat(fd, &st) != 0)
	{
		close(fd);
		ereport(ERROR,
				(errcode(ERRCODE_PX_ROOT_KEY),
				 errmsg("could not stat privacy_ext root key file \"%s\" (%s): %m", path, source)));
	}
	if (!S_ISREG(st.st_mode))
	{
		close(fd);
		ereport(ERROR,
				(errcode(ERRCODE_PX_ROOT_KEY),
				 errmsg("privacy_ext root key file \"%s\" (%s) is not a regular file", path, source),
				 errdetail("The file must be a regular file with mode 0600 or stricter.")));
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
	{
		close(fd);
		ereport(ERROR,
				(errcode(ERRCODE_PX_ROOT_KEY),
				 errmsg("privacy_ext root key file \"%s\" (%s) is accessible by group or others",
						path, source),
				 errdetail("The file must be a regular file with mode 0600 or stricter."),
				 errhint("Run: chmod 0600 \"%s\"", path)));
	}
	while (len < sizeof(buf) &&
		   (n = read(fd, buf + len, sizeof(buf) - len)) > 0)
		len += n;
	close(fd);
	parse_key_text(buf, len, source, key);
}

/*
 * Development mode: create a random key file in the data directory the
 * first time, with O_EXCL so two backends racing cannot both write one.
 */
static void
load_dev_key(uint8_t key[PX_KEY_LEN])
{
	char		path[MAXPGPATH];
	int			fd;

	snprintf(path, sizeof(path), "%s/%s", DataDir, DEV_KEY_FILE);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | PG_BINARY, S_IRUSR | S_IWUSR);
	if (fd >= 0)
	{
		static const char hexdigits[] = "0123456789abcdef";
		uint8_t		fresh[PX_KEY_LEN];
		char		text[2 * PX_KEY_LEN + 1];
		int			i;
		bool		ok;

		if (px_random_bytes(fresh, sizeof(fresh)) != PX_OK)
		{
			close(fd);
			unlink(path);
			ereport(ERROR,
					(errcode(ERRCODE_PX_ROOT_KEY),
					 errmsg("could not generate a development root key")));
		}
		for (i = 0; i < PX_KEY_LEN; i++)
		{
			text[2 * i] = hexdigits[fresh[i] >> 4];
			text[2 * i + 1] = hexdigits[fresh[i] & 0x0F];
		}
		text[2 * PX_KEY_LEN] = '\n';
		ok = write(fd, text, sizeof(text)) == (ssize_t) sizeof(text) && pg_fsync(fd) == 0;
		px_wipe(fresh, sizeof(fresh));
		px_wipe(text, sizeof(text));
		close(fd);
		if (!ok)
		{
			unlink(path);
			ereport(ERROR,
					(errcode(ERRCODE_PX_ROOT_KEY),
					 errmsg("could not write development root key file \"%s\": %m", path)));
		}
	}
	else if (errno != EEXIST)
		ereport(ERROR,
				(errcode(ERRCODE_PX_ROOT_KEY),
				 errmsg("could not create development root key file \"%s\": %m", path)));

	load_from_file(path, "the development key file", key);
	/*
	 * A WARNING at server start; in a backend (library not preloaded) the
	 * same text goes to the server log only, so clients are not disturbed.
	 */
	ereport(IsUnderPostmaster ? LOG : WARNING,
			(errmsg("privacy_ext is in development mode: the root key is stored in \"%s\"", path),
			 errdetail("Development mode is not for production: anyone with a copy of the data directory can decrypt."),
			 errhint("Set privacy.root_key_command or privacy.root_key_file.")));
}

/*
 * Load one slot from its command or file.  The current key falls back to
 * the development key file; the previous key is simply absent when neither
 * of its settings is set.  On error the slot is left unloaded and empty.
 */
static void
load_slot(RootKeySlot *slot, const char *command, const char *file, bool is_previous)
{
	uint8_t		key[PX_KEY_LEN];
	px_status	status;

	slot->loaded = false;
	slot->present = false;
	px_wipe(slot->key, sizeof(slot->key));

	if (setting_is_set(command))
		load_from_command(command, is_previous ? "privacy.previous_root_key_command" :
						  "privacy.root_key_command", key);
	else if (setting_is_set(file))
		load_from_file(file, is_previous ? "privacy.previous_root_key_file" :
					   "privacy.root_key_file", key);
	else if (!is_previous)
		load_dev_key(key);
	else
		goto done;

	status = px_root_key_check(key, slot->check);
	if (status != PX_OK)
	{
		px_wipe(key, sizeof(key));
		ereport(ERROR,
				(errcode(ERRCODE_PX_ROOT_KEY),
				 errmsg("could not compute the check value of the privacy_ext root key")));
	}
	memcpy(slot->key, key, PX_KEY_LEN);
	px_wipe(key, sizeof(key));
	slot->present = true;

done:
	strlcpy(slot->loaded_command, command ? command : "", sizeof(slot->loaded_command));
	strlcpy(slot->loaded_file, file ? file : "", sizeof(slot->loaded_file));
	slot->loaded = true;
	root_key_gen++;
}

static bool
slot_is_current(const RootKeySlot *slot, const char *command, const char *file)
{
	return slot->loaded &&
		strcmp(command ? command : "", slot->loaded_command) == 0 &&
		strcmp(file ? file : "", slot->loaded_file) == 0;
}

/* Both slots, each loaded again if its settings changed since. */
static void
ensure_loaded(void)
{
	if (!slot_is_current(&current_slot, px_root_key_command, px_root_key_file))
		load_slot(&current_slot, px_root_key_command, px_root_key_file, false);
	if (!slot_is_current(&previous_slot, px_previous_root_key_command,
						 px_previous_root_key_file))
	{
		load_slot(&previous_slot, px_previous_root_key_command,
				  px_previous_root_key_file, true);
		if (previous_slot.present &&
			memcmp(previous_slot.check, current_slot.check, PX_KEY_CHECK_LEN) == 0)
			ereport(IsUnderPostmaster ? LOG : WARNING,
					(errmsg("privacy_ext previous root key is the same as the current root key"),
					 errhint("Set privacy.root_key_command or privacy.root_key_file to the new key.")));
	}
}

void
px_root_key_load_at_start(void)
{
	ensure_loaded();
}

/*
 * The current root key, loaded on first use in a backend whose library was
 * not preloaded, and again when a configuration reload changed its source.
 */
const uint8_t *
px_root_key(void)
{
	ensure_loaded();
	return current_slot.key;
}

/* The previous root key, or NULL when none is configured. */
const uint8_t *
px_previous_root_key(void)
{
	ensure_loaded();
	return previous_slot.present ? previous_slot.key : NULL;
}

/* The current root key's check value. */
void
px_root_key_check_value(uint8_t out[PX_KEY_CHECK_LEN])
{
	ensure_loaded();
	memcpy(out, current_slot.check, PX_KEY_CHECK_LEN);
}

/*
 * The root key whose check value is "check": the current one or the
 * previous one; NULL when the server has neither.  *is_current says which.
 */
const uint8_t *
px_root_key_for_check(const uint8_t check[PX_KEY_CHECK_LEN], bool *is_current)
{
	ensure_loaded();
	*is_current = false;
	if (memcmp(check, current_slot.check, PX_KEY_CHECK_LEN) == 0)
	{
		*is_current = true;
		return current_slot.key;
	}
	if (previous_slot.present && memcmp(check, previous_slot.check, PX_KEY_CHECK_LEN) == 0)
		return previous_slot.key;
	return NULL;
}

/* Changes whenever a different root key may have been loaded. */
uint64
px_root_key_generation(void)
{
	ensure_loaded();
	return root_key_gen;
}
