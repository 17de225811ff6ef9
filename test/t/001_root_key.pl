# Root key sources: privacy.root_key_command, privacy.root_key_file and
# development mode, with and without shared_preload_libraries; refusals of
# bad key files and a wrong root key, with no key bytes in the server log.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $key_a = 'a1' x 32;
my $key_b = 'b2' x 32;

sub write_file_mode
{
	my ($path, $content, $mode) = @_;
	open(my $fh, '>', $path) or die "could not write $path: $!";
	print $fh $content;
	close($fh);
	chmod($mode, $path) or die "chmod $path: $!";
}

sub set_conf
{
	my ($node, $conf) = @_;
	# Replace what earlier calls appended, keeping initdb's settings.
	my $path = $node->data_dir . '/postgresql.auto.conf';
	write_file_mode($path, $conf, 0600);
}

sub log_since
{
	my ($node, $offset) = @_;
	my $log = slurp_file($node->logfile);
	return substr($log, $offset);
}

my $node = PostgreSQL::Test::Cluster->new('rootkey');
$node->init;
my $dir = $node->basedir;

# --- privacy.root_key_file ------------------------------------------------
write_file_mode("$dir/good.key", "$key_a\n", 0600);
set_conf($node, "shared_preload_libraries = 'privacy_ext'\n"
	  . "privacy.root_key_file = '$dir/good.key'\n");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION privacy_ext;
	SELECT privacy.create_key('hr');
	CREATE TABLE t (v privacy.encrypted_text('hr'));
	INSERT INTO t VALUES ('root-key-test-value');
});
is($node->safe_psql('postgres', 'SELECT privacy.decrypt(v) FROM t'),
	'root-key-test-value', 'root_key_file: encrypt and decrypt');

# The setting is hidden from ordinary roles and never holds key bytes.
$node->safe_psql('postgres', 'CREATE ROLE plain_user LOGIN');
my ($ret, $out, $err) = $node->psql('postgres', 'SHOW privacy.root_key_file',
	extra_params => [ '-U', 'plain_user' ]);
isnt($ret, 0, 'root_key_file is not visible to a non-superuser');
like($err, qr/permission denied|must be superuser|privileges of pg_read_all_settings/,
	'non-superuser gets a permission error for the setting');
unlike($node->safe_psql('postgres', 'SELECT string_agg(setting, \',\') FROM pg_settings'),
	qr/$key_a/, 'pg_settings holds no key bytes');
$node->stop;

# Refusals: group/other access, wrong length, not hex.  The server does not
# start, says why, and the log holds none of the file's bytes.
my @bad = (
	[ 'world-readable', "$key_a\n", 0644, qr/accessible by group or others/ ],
	[ 'too short', substr($key_a, 0, 62) . "\n", 0600, qr/exactly 64 hexadecimal digits/ ],
	[ 'not hex', ('zq' x 32) . "\n", 0600, qr/exactly 64 hexadecimal digits/ ],
	[ 'too long', $key_a . "00\n", 0600, qr/exactly 64 hexadecimal digits/ ],
	[ 'empty', '', 0600, qr/exactly 64 hexadecimal digits/ ],
	# Only the first 256 bytes were read, and what followed them ignored.
	[ 'past 256 bytes', $key_a . (' ' x 300) . "junk\n", 0600,
	  qr/root key from privacy.root_key_file is invalid.*\n.*longer than 256 bytes/ ]);
foreach my $case (@bad)
{
	my ($name, $content, $mode, $expect) = @$case;
	write_file_mode("$dir/bad.key", $content, $mode);
	set_conf($node, "shared_preload_libraries = 'privacy_ext'\n"
		  . "privacy.root_key_file = '$dir/bad.key'\n");
	my $offset = -s $node->logfile;
	my $started = $node->start(fail_ok => 1);
	ok(!$started, "root key file $name: server refuses to start");
	my $log = log_since($node, $offset);
	like($log, $expect, "root key file $name: clear message in the log");
	my $secret = $content;
	$secret =~ s/\s+$//;
	if (length($secret) >= 16)
	{
		unlike($log, qr/\Q@{[substr($secret, 0, 16)]}\E/,
			"root key file $name: no key bytes in the log");
	}
	$node->stop('immediate') if $started;
}

# A missing file is refused too.
set_conf($node, "shared_preload_libraries = 'privacy_ext'\n"
	  . "privacy.root_key_file = '$dir/missing.key'\n");
my $offset = -s $node->logfile;
ok(!$node->start(fail_ok => 1), 'missing root key file: server refuses to start');
like(log_since($node, $offset), qr/could not open privacy_ext root key file/,
	'missing root key file: clear message');

# Not a regular file: a FIFO (opening it must not block the postmaster
# until a writer comes) and a directory (mode 0700, so not refused for its
# mode) are refused as such.
use POSIX qw(mkfifo);
mkfifo("$dir/fifo.key", 0600) or die "mkfifo: $!";
mkdir("$dir/dir.key", 0700) or die "mkdir: $!";
foreach my $name ('fifo', 'dir')
{
	set_conf($node, "shared_preload_libraries = 'privacy_ext'\n"
		  . "privacy.root_key_file = '$dir/$name.key'\n");
	$offset = -s $node->logfile;
	ok(!$node->start(fail_ok => 1), "root key file is a $name: server refuses to start");
	like(log_since($node, $offset),
		qr/root key file "\Q$dir\E\/$name.key" \(privacy.root_key_file\) is not a regular file/,
		"root key file is a $name: says it is not a regular file");
}

# Errors about the previous root key's file name that setting, not just the
# path: which of the two settings is wrong is what the administrator needs.
foreach my $case ([ 'missing', "$dir/missing.key", qr/could not open privacy_ext root key file "[^"]*" \(privacy.previous_root_key_file\)/ ],
	[ 'world-readable', "$dir/bad.key", qr/"[^"]*" \(privacy.previous_root_key_file\) is accessible by group or others/ ],
	[ 'a directory', "$dir/dir.key", qr/"[^"]*" \(privacy.previous_root_key_file\) is not a regular file/ ])
{
	my ($name, $path, $expect) = @$case;
	write_file_mode("$dir/bad.key", "$key_b\n", 0644);
	set_conf($node, "shared_preload_libraries = 'privacy_ext'\n"
		  . "privacy.root_key_file = '$dir/good.key'\n"
		  . "privacy.previous_root_key_file = '$path'\n");
	$offset = -s $node->logfile;
	my $started = $node->start(fail_ok => 1);
	ok(!$started, "previous root key file $name: server refuses to start");
	like(log_since($node, $offset), $expect, "previous root key file $name: the message names the setting");
	$node->stop('immediate') if $started;
}

# --- privacy.root_key_command, preloaded: runs once at server start -------
write_file_mode("$dir/keycmd.sh",
	"#!/bin/sh\necho run >> '$dir/keycmd.count'\necho $key_a\n", 0700);
unlink("$dir/keycmd.count");
set_conf($node, "shared_preload_libraries = 'privacy_ext'\n"
	  . "privacy.root_key_command = '$dir/keycmd.sh'\n");
$node->start;
foreach my $i (1 .. 3)
{
	is($node->safe_psql('postgres', 'SELECT privacy.decrypt(v) FROM t'),
		'root-key-test-value', "root_key_command: session $i decrypts");
}
is(scalar(split /\n/, slurp_file("$dir/keycmd.count")), 1,
	'root_key_command ran exactly once for three sessions');
# A reload that leaves the command unchanged does not run it again.
$node->reload;
$node->safe_psql('postgres', 'SELECT privacy.decrypt(v) FROM t');
is(scalar(split /\n/, slurp_file("$dir/keycmd.count")), 1,
	'root_key_command not re-run by a reload');
$node->stop;

# A failing command stops the start.
write_file_mode("$dir/failcmd.sh", "#!/bin/sh\necho $key_a\nexit 3\n", 0700);
set_conf($node, "shared_preload_libraries = 'privacy_ext'\n"
	  . "privacy.root_key_command = '$dir/failcmd.sh'\n");
$offset = -s $node->logfile;
ok(!$node->start(fail_ok => 1), 'failing root_key_command: server refuses to start');
my $log = log_since($node, $offset);
like($log, qr/privacy.root_key_command failed/, 'failing command: clear message');
unlike($log, qr/$key_a/, 'failing command: its output is not logged');

# Output past 256 bytes is refused, not cut to the key before it (nor
# written past the end of the buffer).
write_file_mode("$dir/longcmd.sh", "#!/bin/sh\necho '$key_a" . (' ' x 300) . "junk'\n", 0700);
set_conf($node, "shared_preload_libraries = 'privacy_ext'\n"
	  . "privacy.root_key_command = '$dir/longcmd.sh'\n");
$offset = -s $node->logfile;
ok(!$node->start(fail_ok => 1), 'root_key_command output past 256 bytes: server refuses to start');
$log = log_since($node, $offset);
like($log, qr/root key from privacy.root_key_command is invalid.*\n.*longer than 256 bytes/,
	'output past 256 bytes: the message names the setting');
unlike($log, qr/$key_a|junk/, 'output past 256 bytes: none of it is logged');

# Up to 256 bytes, whitespace after the key is fine.
write_file_mode("$dir/padded.key", $key_a . (' ' x 191) . "\n", 0600);
set_conf($node, "shared_preload_libraries = 'privacy_ext'\n"
	  . "privacy.root_key_file = '$dir/padded.key'\n");
$node->start;
is($node->safe_psql('postgres', 'SELECT privacy.decrypt(v) FROM t'),
	'root-key-test-value', 'a key file of 256 bytes with trailing whitespace is read');
$node->stop;

# --- without shared_preload_libraries: loaded per backend on first use ----
unlink("$dir/keycmd.count");
set_conf($node, "privacy.root_key_command = '$dir/keycmd.sh'\n");
$node->start;
is($node->safe_psql('postgres', 'SELECT privacy.decrypt(v) FROM t'),
	'root-key-test-value', 'without preload: decrypts');
is($node->safe_psql('postgres', q{SELECT privacy.decrypt(privacy.encrypt('x', 'hr'))}),
	'x', 'without preload: encrypts');
is(scalar(split /\n/, slurp_file("$dir/keycmd.count")), 2,
	'without preload: the command runs once per backend that needs the key');
$node->stop;

# --- a wrong root key fails loudly, never with garbage --------------------
write_file_mode("$dir/other.key", "$key_b\n", 0600);
set_conf($node, "shared_preload_libraries = 'privacy_ext'\n"
	  . "privacy.root_key_file = '$dir/other.key'\n");
$node->start;
($ret, $out, $err) = $node->psql('postgres', 'SELECT privacy.decrypt(v) FROM t');
isnt($ret, 0, 'wrong root key: decrypt fails');
like($err, qr/wrapped under a different root key/, 'wrong root key: says so');
is($out, '', 'wrong root key: no output');
$node->stop;

# --- development mode ------------------------------------------------------
my $dev = PostgreSQL::Test::Cluster->new('devmode');
$dev->init;
$dev->append_conf('postgresql.conf', "shared_preload_libraries = 'privacy_ext'\n");
$dev->start;
my $devkey = $dev->data_dir . '/privacy_ext_root.key';
ok(-f $devkey, 'development mode: key file created in the data directory');
is((stat($devkey))[2] & 0777, 0600, 'development mode: key file has mode 0600');
like(slurp_file($dev->logfile), qr/WARNING:  privacy_ext is in development mode/,
	'development mode: WARNING at start');
$dev->safe_psql('postgres', q{
	CREATE EXTENSION privacy_ext;
	SELECT privacy.create_key('dev');
	CREATE TABLE d (v privacy.encrypted_text('dev'));
	INSERT INTO d VALUES ('dev-value');
});
my $devkey_content = slurp_file($devkey);
$offset = -s $dev->logfile;
$dev->restart;
is(slurp_file($devkey), $devkey_content, 'development mode: key file created only once');
is($dev->safe_psql('postgres', 'SELECT privacy.decrypt(v) FROM d'), 'dev-value',
	'development mode: data decrypts after a restart');
like(log_since($dev, $offset), qr/development mode/, 'development mode: WARNING at every start');
$devkey_content =~ s/\s+$//;
unlike(slurp_file($dev->logfile), qr/$devkey_content/, 'development mode: key not in the log');
$dev->stop;

done_testing();
