# Root key rotation across crashes, dumps and replication: a server killed
# while privacy.rewrap_keys() runs leaves every key version readable under
# exactly one of the two root keys (the old one: the rewrap had not
# committed); a completed rotation needs only the new key, on the primary,
# on a streaming hot standby with the same settings, and in a pg_dump
# restored into a cluster holding only the new key.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Digest::SHA qw(hmac_sha256_hex);
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PrivacyExtNode;
use Test::More;

my $old_hex = PrivacyExtNode::random_key_hex();
my $new_hex = PrivacyExtNode::random_key_hex();
sub check_of { substr(hmac_sha256_hex('privacy_ext root key check v1', pack('H*', $_[0])), 0, 16) }
my $old_check = check_of($old_hex);
my $new_check = check_of($new_hex);

my $primary = PrivacyExtNode::new_node('primary', $old_hex, allows_streaming => 1);
my $old_file = $primary->basedir . '/root.key';
my $new_file = $primary->basedir . '/new.key';
open(my $fh, '>', $new_file) or die;
print $fh "$new_hex\n";
close($fh);
chmod(0600, $new_file);

# Many versions (key 'crash_k', one row under each), and values whose keys
# are derived from the root key: a column default (a transit value) and noise.
$primary->safe_psql('postgres', q{
	CREATE EXTENSION privacy_ext;
	SELECT privacy.create_key('crash_k');
	CREATE TABLE vault (id int PRIMARY KEY, secret privacy.encrypted_text('crash_k'),
	                    tag privacy.encrypted_text_det('crash_k'),
	                    note privacy.encrypted_text('crash_k') DEFAULT 'stored default');
	INSERT INTO vault (id, secret, tag) VALUES (1, 'secret-1', 'tag-1');
	DO $$ BEGIN
	  FOR i IN 2..40 LOOP
	    PERFORM privacy.rotate_key('crash_k');
	    INSERT INTO vault (id, secret, tag) VALUES (i, 'secret-' || i, 'tag-' || i);
	  END LOOP;
	END $$;
	SELECT privacy.create_key('hr');
	CREATE TABLE staff (id int PRIMARY KEY, ssn privacy.encrypted_text('hr'));
	INSERT INTO staff VALUES (1, '123-45-6789');
});
my $noise = $primary->safe_psql('postgres', 'SELECT privacy.mask_noise(51234, 0.3)');

# A database that masks but holds no data key: no key version shows which
# root key was in use before the rotation, so its noise must come from the
# previous key during the rotation, and the rewrap must store that.
$primary->safe_psql('postgres', 'CREATE DATABASE maskonly');
$primary->safe_psql('maskonly', q{
	CREATE EXTENSION privacy_ext;
	CREATE TABLE pay (id int, salary numeric);
	INSERT INTO pay VALUES (1, 5000);
	SELECT privacy.set_mask('pay', 'salary', 'noise(0.2)');
	SELECT privacy.create_masking_view('pay');
});
my $mask_noise_q = q{SELECT privacy.mask_noise(100.0, 0.1) || ',' || (SELECT salary FROM masked.pay)};
my $maskonly_noise = $primary->safe_psql('maskonly', $mask_noise_q);
my $all_secrets = join(',', map { "secret-$_" } 1 .. 40);
my $read_all = q{SELECT string_agg(privacy.decrypt(secret), ',' ORDER BY id) FROM vault};
is($primary->safe_psql('postgres', $read_all), $all_secrets, '40 values under 40 key versions');

# A streaming hot standby with the same root key settings.
$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', $read_all), $all_secrets, 'standby reads before the rotation');

# Settings for each phase, written to postgresql.auto.conf (last wins).
sub set_keys
{
	my ($node, $root, $previous) = @_;
	open(my $cf, '>', $node->data_dir . '/postgresql.auto.conf') or die;
	print $cf "privacy.root_key_file = '$root'\n";
	print $cf "privacy.previous_root_key_file = '$previous'\n" if $previous;
	close($cf);
}

# Rotation starts: new key as root key, old key as previous.
set_keys($_, $new_file, $old_file) for ($primary, $standby);
$_->restart for ($primary, $standby);
is($primary->safe_psql('postgres', q{SELECT encode(privacy.root_key_check(), 'hex') || ',' || encode(privacy.previous_root_key_check(), 'hex')}),
	"$new_check,$old_check", 'both root keys loaded at start, by check value');
is($primary->safe_psql('postgres', $read_all), $all_secrets, 'readable during the rotation');
is($primary->safe_psql('maskonly', $mask_noise_q), $maskonly_noise,
	'database without data keys: noise unchanged during the rotation');

# Crash in the middle: a row trigger makes the rewrap wait on an advisory
# lock at version 20 of crash_k, after rewrapping the versions before it
# in its (uncommitted) transaction; then the rewrap's backend is killed.
$primary->safe_psql('postgres', q{
	CREATE FUNCTION hold_rewrap() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
	  IF NEW.version = 20 THEN PERFORM pg_advisory_lock(4242); END IF;
	  RETURN NEW;
	END $$;
	CREATE TRIGGER hold_rewrap BEFORE UPDATE ON privacy.data_key_versions
	  FOR EACH ROW EXECUTE FUNCTION hold_rewrap();
});
my $holder = $primary->background_psql('postgres');
$holder->query_safe('SELECT pg_advisory_lock(4242)');
my $rewrap = $primary->background_psql('postgres', on_error_stop => 0);
$rewrap->query_until(qr/started/, "\\echo started\nSELECT privacy.rewrap_keys();\n");
ok($primary->poll_query_until('postgres',
	q{SELECT count(*) = 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted}),
	'rewrap is held in the middle');
my $rewrap_pid = $primary->safe_psql('postgres',
	q{SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT privacy.rewrap_keys()%'});
ok($rewrap_pid =~ /^\d+$/, 'rewrap backend found');
kill 'KILL', $rewrap_pid;
# The test clusters run with restart_after_crash = off: the postmaster
# stops every process and exits; the next start recovers from the WAL.
my $pidfile = $primary->data_dir . '/postmaster.pid';
for (1 .. 600)
{
	last unless -f $pidfile;
	select(undef, undef, undef, 0.1);
}
eval { $rewrap->quit };
eval { $holder->quit };
$primary->stop('immediate', fail_ok => 1);
my $crash_log = slurp_file($primary->logfile);
like($crash_log, qr/terminated by signal 9/, 'the server went through a crash');
$primary->start;
like(substr(slurp_file($primary->logfile), length($crash_log)), qr/not properly shut down; automatic recovery in progress/,
	'the next start runs crash recovery');

# Every version is under exactly one root key, the same for all: the old one.
is($primary->safe_psql('postgres', q{SELECT string_agg(DISTINCT root_key_check, ',') FROM privacy.key_versions}),
	$old_check, 'after the crash every version is still under the old root key');
$primary->safe_psql('postgres', 'DROP TRIGGER hold_rewrap ON privacy.data_key_versions; DROP FUNCTION hold_rewrap()');
set_keys($primary, $old_file);
$primary->restart;
is($primary->safe_psql('postgres', $read_all), $all_secrets, 'old root key alone reads every version');
set_keys($primary, $new_file);
$primary->restart;
my $unreadable = 0;
for my $id (1 .. 40)
{
	my ($ret, $out, $err) = $primary->psql('postgres', "SELECT privacy.decrypt(secret) FROM vault WHERE id = $id");
	$unreadable++ if $ret != 0 && $err =~ /wrapped under a different root key/;
}
is($unreadable, 40, 'new root key alone reads none of them, with a clear error each time');

# The rotation, completed.
set_keys($primary, $new_file, $old_file);
$primary->restart;
is($primary->safe_psql('postgres', 'SELECT privacy.rewrap_keys()'), '41', 'rewrap_keys() rewraps all 41 versions');
is($primary->safe_psql('maskonly', 'SELECT privacy.rewrap_keys()'), '0', 'database without data keys: nothing to rewrap');
is($primary->safe_psql('maskonly', q{SELECT encode(root_key_check, 'hex') FROM privacy.root_derivation_key}),
	$new_check, 'database without data keys: the derivation key is stored under the new root key');
is($primary->safe_psql('maskonly', $mask_noise_q), $maskonly_noise,
	'database without data keys: noise unchanged after the rewrap');
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', q{SELECT string_agg(DISTINCT root_key || ':' || root_key_check, ',') FROM privacy.key_versions}),
	"current:$new_check", 'standby replays the rewrap');
is($standby->safe_psql('postgres', $read_all), $all_secrets, 'standby reads after the rewrap');

# The old root key is no longer needed anywhere.
set_keys($_, $new_file) for ($primary, $standby);
$_->restart for ($primary, $standby);
is($primary->safe_psql('postgres', $read_all), $all_secrets, 'primary reads with the new root key alone');
$primary->safe_psql('postgres', q{INSERT INTO vault (id, secret, tag) VALUES (41, 'secret-41', 'tag-41')});
is($primary->safe_psql('postgres', q{SELECT privacy.decrypt(note) FROM vault WHERE id = 41}),
	'stored default', 'a column default sealed under the old root key still binds');
is($primary->safe_psql('postgres', 'SELECT privacy.mask_noise(51234, 0.3)'), $noise, 'noise unchanged');
is($primary->safe_psql('maskonly', $mask_noise_q), $maskonly_noise,
	'database without data keys: noise unchanged with the new root key alone');
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', q{SELECT id FROM vault WHERE tag = 'tag-41'}), '41',
	'standby with the new root key alone finds the new row by a deterministic value');
is($standby->safe_psql('postgres', q{SELECT string_agg(privacy.decrypt(secret), ',' ORDER BY id) FROM vault WHERE id IN (1, 41)}),
	'secret-1,secret-41', 'standby decrypts old and new values');
is($standby->safe_psql('postgres', 'SELECT privacy.mask_noise(51234, 0.3)'), $noise, 'standby: noise unchanged');

# pg_dump after the rotation: the key tables carry the new check value and
# no key bytes; a cluster holding only the new root key restores and reads.
my $dump = $primary->basedir . '/after_rotation.sql';
$primary->command_ok([ 'pg_dump', '-f', $dump, '-d', $primary->connstr('postgres') ], 'pg_dump');
my $dump_text = slurp_file($dump);
ok($dump_text =~ /\\\\x$new_check/ && $dump_text !~ /\\\\x$old_check/,
	'dumped key versions and derivation key name the new root key only');
ok($dump_text !~ /$old_hex|$new_hex/i, 'the dump holds no root key');
my $restored = PrivacyExtNode::new_node('restored', $new_hex);
$restored->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', $dump,
	'-d', $restored->connstr('postgres') ], 'restore into a cluster with the new root key');
is($restored->safe_psql('postgres', q{SELECT string_agg(privacy.decrypt(secret), ',' ORDER BY id) FROM vault WHERE id IN (1, 20, 41)}),
	'secret-1,secret-20,secret-41', 'restored cluster decrypts');
$restored->safe_psql('postgres', q{INSERT INTO vault (id, secret, tag) VALUES (42, 'secret-42', 'tag-42')});
is($restored->safe_psql('postgres', q{SELECT privacy.decrypt(note) FROM vault WHERE id = 42}),
	'stored default', 'restored cluster: the restored column default binds');
is($restored->safe_psql('postgres', 'SELECT privacy.mask_noise(51234, 0.3)'), $noise,
	'restored cluster: noise unchanged (derivation key restored)');

# No root key in any server log.
my $logs = slurp_file($primary->logfile) . slurp_file($standby->logfile) . slurp_file($restored->logfile);
ok($logs !~ /$old_hex|$new_hex/i, 'no root key in the server logs');

$_->stop for ($standby, $primary, $restored);
done_testing();
