# A streaming hot standby decrypts, masks and filters by consent, and sees
# the primary's changes; a wrong root key after a restart fails clearly and
# the data is intact once the right key is back; a dump restores into a
# second cluster holding the same root key.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PrivacyExtNode;
use Test::More;

my $root_hex = PrivacyExtNode::random_key_hex();
my $primary = PrivacyExtNode::new_node('primary', $root_hex, allows_streaming => 1);
my $keyfile = $primary->basedir . '/root.key';
my $fh;
PrivacyExtNode::create_fixture($primary);

$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);

is($standby->safe_psql('postgres', 'SELECT string_agg(privacy.decrypt(ssn), \',\' ORDER BY id) FROM staff'),
	'123-45-6789,987-65-4321', 'standby decrypts');
is($standby->safe_psql('postgres', q{SELECT id FROM staff WHERE email = 'bob@example.com'}),
	'2', 'standby finds rows by a deterministic value');
is($standby->safe_psql('postgres', 'SET ROLE support; SELECT string_agg(ssn, \',\' ORDER BY id) FROM masked.staff'),
	'***-**-6789,***-**-4321', 'standby masks for a masked role');
is($standby->safe_psql('postgres', q{SET ROLE crm; SET privacy.purpose = 'marketing';
	SELECT string_agg(customer_id, ',' ORDER BY 1) FROM customers}),
	'c1', 'standby filters by consent');

# A backend that checks many subjects keeps the consenting ones across
# statements on the primary (changes there run the trigger that keeps the set
# exact), never on the standby: replayed changes run no triggers.
$primary->safe_psql('postgres', q{
	CREATE TABLE crowd (person text PRIMARY KEY);
	INSERT INTO crowd SELECT 'm' || g FROM generate_series(1, 400) g;
	SELECT privacy.protect_table('crowd', 'person');
	GRANT SELECT ON crowd TO crm;
	SELECT privacy.grant_consent('m' || g, 'marketing') FROM generate_series(1, 300) g;
});
$primary->wait_for_catchup($standby);
my $crowd_check = q{SET ROLE crm; SET privacy.purpose = 'marketing';
	SELECT count(*) FROM crowd; RESET ROLE; SELECT count(*) FROM privacy.consent_cache_info()};
is($primary->safe_psql('postgres', $crowd_check), "300
1", 'primary keeps the set of consenting subjects');
is($standby->safe_psql('postgres', $crowd_check), "300
0", 'standby filters the same rows and keeps no set');
$primary->safe_psql('postgres', q{SELECT privacy.withdraw_consent('m7', 'marketing')});
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', $crowd_check), "299
0", 'standby sees a replayed withdrawal');

# The primary's changes reach the standby: a new consent, a withdrawal, a rotation.
$primary->safe_psql('postgres', q{
	SELECT privacy.grant_consent('c2', 'marketing');
	SELECT privacy.withdraw_consent('c1', 'marketing');
	SELECT privacy.rotate_key('hr');
	INSERT INTO staff VALUES (3, '555-12-3456', 'cy@example.com');
});
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', q{SET ROLE crm; SET privacy.purpose = 'marketing';
	SELECT string_agg(customer_id, ',' ORDER BY 1) FROM customers}),
	'c2', 'standby sees the new consent and the withdrawal');
is($standby->safe_psql('postgres', 'SELECT privacy.envelope_key_version(ssn) || \':\' || privacy.decrypt(ssn) FROM staff WHERE id = 3'),
	'2:555-12-3456', 'standby decrypts a value under the rotated key');
my ($ret, $out, $err) = $standby->psql('postgres', q{INSERT INTO staff VALUES (9, 'x', 'y')});
like($err, qr/read-only transaction/, 'standby refuses writes as usual');

# A standby backend keeps whether a role is masked: the primary's mask_role,
# replayed, empties that (the invalidation its commit record carries).
$primary->safe_psql('postgres', q{CREATE ROLE staffer LOGIN; GRANT SELECT ON staff TO staffer});
$primary->wait_for_catchup($standby);
my $sb = $standby->background_psql('postgres', on_error_stop => 0);
$sb->query_safe('SET ROLE staffer');
is($sb->query_safe('SELECT pg_typeof(ssn) FROM staff WHERE id = 1'), 'privacy.encrypted_text',
	'a standby session reads the table unmasked');
$primary->safe_psql('postgres', q{SELECT privacy.mask_role('staffer')});
$primary->wait_for_catchup($standby);
is($sb->query_safe('SELECT ssn FROM staff WHERE id = 1'), '***-**-6789',
	'the primary\'s mask_role is in force in the open standby session at its next statement');
$sb->quit;
$primary->safe_psql('postgres', q{DROP OWNED BY staffer; DROP ROLE staffer});

# A standby session that decrypted stops at its next statement once the
# primary's revoke_key or destroy_key is replayed: the key caches follow the
# invalidations the commit records carry, not anything kept in the
# primary's memory.
$primary->safe_psql('postgres', q{
	SELECT privacy.create_key('ledger');
	CREATE TABLE ledger (id int, note privacy.encrypted_text('ledger'));
	INSERT INTO ledger VALUES (1, 'ledger-secret');
	CREATE ROLE auditor LOGIN; GRANT SELECT ON ledger TO auditor;
	SELECT privacy.grant_key('ledger', 'auditor');
});
$primary->wait_for_catchup($standby);
$sb = $standby->background_psql('postgres', on_error_stop => 0);
$sb->query_safe('SET ROLE auditor');
is($sb->query_safe('SELECT privacy.decrypt(note) FROM ledger'), 'ledger-secret',
	'a granted role decrypts on the standby');
$primary->safe_psql('postgres', q{SELECT privacy.revoke_key('ledger', 'auditor')});
$primary->wait_for_catchup($standby);
my ($sb_out) = $sb->query('SELECT privacy.decrypt(note) FROM ledger');
is($sb_out, '', 'the primary\'s revoke_key: no plaintext in the open standby session');
like($sb->{stderr}, qr/permission denied for privacy_ext key "ledger"/,
	'the primary\'s revoke_key: the open standby session gets the grant error');
$sb->quit;
$sb = $standby->background_psql('postgres', on_error_stop => 0);
is($sb->query_safe('SELECT privacy.decrypt(note) FROM ledger'), 'ledger-secret',
	'a superuser session on the standby decrypts (key material cached)');
$primary->safe_psql('postgres', q{SELECT privacy.destroy_key('ledger', confirm => 'destroy ledger')});
$primary->wait_for_catchup($standby);
($sb_out) = $sb->query('SELECT privacy.decrypt(note) FROM ledger');
is($sb_out, '', 'the primary\'s destroy_key: no plaintext in the open standby session');
like($sb->{stderr}, qr/has been destroyed/, 'the primary\'s destroy_key: the standby session gets PXK02\'s error');
$sb->quit;
$primary->safe_psql('postgres', q{DROP TABLE ledger; DROP ROLE auditor});

# A wrong root key after a restart: a clear error, never garbage; the data is
# intact once the right key is back.
my $wrong = $primary->basedir . '/wrong.key';
open($fh, '>', $wrong) or die;
print $fh PrivacyExtNode::random_key_hex() . "\n";
close($fh);
chmod(0600, $wrong);
$primary->append_conf('postgresql.conf', "privacy.root_key_file = '$wrong'\n");
$primary->restart;
($ret, $out, $err) = $primary->psql('postgres', 'SELECT privacy.decrypt(ssn) FROM staff');
like($err, qr/wrapped under a different root key/, 'wrong root key: a clear error');
is($out, '', 'wrong root key: no output');
($ret, $out, $err) = $primary->psql('postgres', q{INSERT INTO staff VALUES (4, 'x', 'd@example.com')});
like($err, qr/wrapped under a different root key/, 'wrong root key: no writes under it either');
$primary->append_conf('postgresql.conf', "privacy.root_key_file = '$keyfile'\n");
$primary->restart;
is($primary->safe_psql('postgres', 'SELECT string_agg(privacy.decrypt(ssn), \',\' ORDER BY id) FROM staff'),
	'123-45-6789,987-65-4321,555-12-3456', 'right key back: data intact');

# Dump, and restore into a second cluster that holds the same root key.
my $dump = $primary->basedir . '/all.sql';
$primary->command_ok([ 'pg_dump', '-f', $dump, '-d', $primary->connstr('postgres') ], 'pg_dump');
my $second = PrivacyExtNode::new_node('second', $root_hex);
$second->safe_psql('postgres', 'CREATE ROLE support LOGIN; CREATE ROLE crm LOGIN');
$second->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', $dump,
	'-d', $second->connstr('postgres') ], 'restore into a second cluster');
is($second->safe_psql('postgres', 'SELECT string_agg(privacy.decrypt(ssn), \',\' ORDER BY id) FROM staff'),
	'123-45-6789,987-65-4321,555-12-3456', 'second cluster decrypts with the same root key');
is($second->safe_psql('postgres', q{SET ROLE crm; SET privacy.purpose = 'marketing';
	SELECT string_agg(customer_id, ',' ORDER BY 1) FROM customers}),
	'c2', 'second cluster keeps consents and their enforcement');
is($second->safe_psql('postgres', $crowd_check), "299\n1",
	'restored cluster: the change trigger is in place, so sets are kept');

$standby->stop;
$primary->stop;
$second->stop;
done_testing();
