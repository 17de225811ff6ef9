/*
 * keys/root_key.c
 *		Obtaining the root key: privacy.root_key_command,
 *		privacy.root_key_file, or the development-mode key file.
 *
 * The root key only ever lives in this process's memory.  It never enters
 * SQL, a table, a setting's value or a log line; every message below names
 * the source of a problem, never the bytes read.
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

/* privacy.root_key_command and privacy.root_key_file (module.c defines them). */
char	   *px_root_key_command = NULL;
char	   *px_root_key_file = NULL;

/* Development-mode key file, relative to the data directory. */
#define DEV_KEY_FILE "privacy_ext_root.key"

/* Longer input than this cannot be a 64-hex-digit key plus a newline. */
#define MAX_KEY_SOURCE_LEN 256

static uint8_t root_key[PX_KEY_LEN];
static bool root_key_loaded = false;
static uint64 root_key_gen = 0;

/* The settings the loaded key came from, to notice a reload that changed them. */
static char loaded_command[MAXPGPATH * 2];
static char loaded_file[MAXPGPATH];

static bool
setting_is_set(const char *value)
{
	return value != NULL && value[0] != '\0';
}

/*
 * Parse 64 hex digits, optionally followed by whitespace, into root_key.
 * "source" names where the text came from, for the error message only.
 */
static void
parse_key_text(char *text, size_t len, const char *source)
{
	px_status	status;

	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' ||
					   text[len - 1] == ' ' || text[len - 1] == '\t'))
		len--;
	status = px_hex_decode(text, len, root_key, PX_KEY_LEN);
	px_wipe(text, MAX_KEY_SOURCE_LEN);
	if (status != PX_OK)
		ereport(ERROR,
				(errcode(ERRCODE_PX_ROOT_KEY),
				 errmsg("privacy_ext root key from %s is invalid", source),
				 errdetail("The root key must be exactly 64 hexadecimal digits (256 bits)."),
				 errhidestmt(true)));
}

static void
load_from_command(const char *command)
{
	char		buf[MAX_KEY_SOURCE_LEN + 1];
	size_t		len = 0;
	size_t		n;
	FILE	   *pipe;
	int			rc;

	fflush(NULL);
	pipe = popen(command, "r");
	if (pipe == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_PX_ROOT_KEY),
				 errmsg("could not run privacy.root_key_command: %m")));
	while (len < sizeof(buf) - 1 &&
		   (n = fread(buf + len, 1, sizeof(buf) - 1 - len, pipe)) > 0)
		len += n;
	/* Drain anything longer so the command is not killed by SIGPIPE. */
	while (fread(buf + len, 1, 1, pipe) == 1)
		len = sizeof(buf);
	rc = pclose(pipe);
	if (rc != 0)
	{
		px_wipe(buf, sizeof(buf));
		ereport(ERROR,
				(errcode(ERRCODE_PX_ROOT_KEY),
				 errmsg("privacy.root_key_command failed: %s", wait_result_to_str(rc))));
	}
	parse_key_text(buf, len > MAX_KEY_SOURCE_LEN ? MAX_KEY_SOURCE_LEN : len,
				   "privacy.root_key_command");
}

static void
load_from_file(const char *path, const char *source)
{
	char		buf[MAX_KEY_SOURCE_LEN + 1];
	struct stat st;
	ssize_t		n;
	size_t		len = 0;
	int			fd;

	fd = open(path, O_RDONLY | PG_BINARY, 0);
	if (fd < 0)
		ereport(ERROR,
				(errcode(ERRCODE_PX_ROOT_KEY),
				 errmsg("could not open privacy_ext root key file \"%s\": %m", path)));
	if (fstat(fd, &st) != 0)
	{
		close(fd);
		ereport(ERROR,
				(errcode(ERRCODE_PX_ROOT_KEY),
				 errmsg("could not stat privacy_ext root key file \"%s\": %m", path)));
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0 || !S_ISREG(st.st_mode))
	{
		close(fd);
		ereport(ERROR,
				(errcode(ERRCODE_PX_ROOT_KEY),
				 errmsg("privacy_ext root key file \"%s\" is accessible by group or others", path),
				 errdetail("The file must be a regular file with mode 0600 or stricter."),
				 errhint("Run: chmod 0600 \"%s\"", path)));
	}
	while (len < MAX_KEY_SOURCE_LEN &&
		   (n = read(fd, buf + len, MAX_KEY_SOURCE_LEN - len)) > 0)
		len += n;
	close(fd);
	parse_key_text(buf, len, source);
}

/*
 * Development mode: create a random key file in the data directory the
 * first time, with O_EXCL so two backends racing cannot both write one.
 */
static void
load_dev_key(void)
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

	load_from_file(path, "the development key file");
	/*
	 * A WARNING at server start; in a backend (library not preloaded) the
	 * same text goes to the server log only, so clients are not disturbed.
	 */
	ereport(IsUnderPostmaster ? LOG : WARNING,
			(errmsg("privacy_ext is in development mode: the root key is stored in \"%s\"", path),
			 errdetail("Development mode is not for production: anyone with a copy of the data directory can decrypt."),
			 errhint("Set privacy.root_key_command or privacy.root_key_file.")));
}

static void
load_root_key(void)
{
	const char *command = px_root_key_command;
	const char *file = px_root_key_file;

	root_key_loaded = false;
	px_wipe(root_key, sizeof(root_key));

	if (setting_is_set(command))
		load_from_command(command);
	else if (setting_is_set(file))
		load_from_file(file, "privacy.root_key_file");
	else
		load_dev_key();

	strlcpy(loaded_command, command ? command : "", sizeof(loaded_command));
	strlcpy(loaded_file, file ? file : "", sizeof(loaded_file));
	root_key_loaded = true;
	root_key_gen++;
}

void
px_root_key_load_at_start(void)
{
	load_root_key();
}

/*
 * The root key, loaded on first use in a backend whose library was not
 * preloaded, and again when a configuration reload changed its source.
 */
const uint8_t *
px_root_key(void)
{
	const char *command = px_root_key_command ? px_root_key_command : "";
	const char *file = px_root_key_file ? px_root_key_file : "";

	if (!root_key_loaded ||
		strcmp(command, loaded_command) != 0 ||
		strcmp(file, loaded_file) != 0)
		load_root_key();
	return root_key;
}

/* Changes whenever a different root key may have been loaded. */
uint64
px_root_key_generation(void)
{
	(void) px_root_key();
	return root_key_gen;
}
