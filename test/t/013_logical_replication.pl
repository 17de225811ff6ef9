# Logical replication with privacy_ext on both sides, following the
# README's "Logical replication" steps: a subscriber holding the same root
# key gets the schema from pg_dump --schema-only, and the extension's own
# tables (keys, grants, purposes, consents, rules) travel in the same
# publication as the user tables.  The initial sync copies every row of a
# protected table; inserts, updates, deletes, consent changes, key
# rotation and revocation replicate; the subscriber decrypts, masks and
# filters.  A replication role that row security would hide every row from
# fails loudly instead of copying nothing.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PrivacyExtNode;
use Test::More;

my $root_hex = PrivacyExtNode::random_key_hex();
my $pub = PrivacyExtNode::new_node('publisher', $root_hex, conf => "wal_level = logical\nmax_wal_senders = 10\nmax_replication_slots = 10\n");
$pub->restart;
my $sub = PrivacyExtNode::new_node('subscriber', $root_hex);

my $globals = q{
	CREATE ROLE lr_payroll LOGIN;
	CREATE ROLE lr_support LOGIN;
	CREATE ROLE lr_crm LOGIN;
};
$pub->safe_psql('postgres', $globals);
$sub->safe_psql('postgres', $globals);    # pg_dumpall --globals-only, in real life

$pub->safe_psql('postgres', q{
	CREATE EXTENSION privacy_ext;
	SELECT privacy.create_key('hr');
	SELECT privacy.grant_key('hr', 'lr_payroll');
	CREATE TABLE staff (id int PRIMARY KEY, ssn privacy.encrypted_text('hr'),
	                    email privacy.encrypted_text_det('hr'));
	CREATE INDEX ON staff (email);
	INSERT INTO staff SELECT g, 'LR-SSN-' || g, 'lr' || g || '@example.com' FROM generate_series(1, 100) g;
	GRANT SELECT ON staff TO lr_payroll;
	SELECT privacy.set_mask('staff', 'ssn', 'partial(0, ''***'', 2)');
	SELECT privacy.set_mask('staff', 'id', 'none');   -- 1.1: clear only by saying so
	SELECT privacy.create_masking_view('staff');
	SELECT privacy.mask_role('lr_support');
	SELECT privacy.create_purpose('lr_news', 'consent');
	SELECT privacy.grant_purpose('lr_crm', 'lr_news');
	CREATE TABLE readers (reader_id text PRIMARY KEY, note text);
	INSERT INTO readers SELECT 'r' || g, 'note ' || g FROM generate_series(1, 40) g;
	GRANT SELECT ON readers TO lr_crm;
	SELECT privacy.protect_table('readers', 'reader_id');
	SELECT privacy.grant_consent('r' || g, 'lr_news') FROM generate_series(1, 10) g;
});

# 1. The schema, as pg_dump --schema-only writes it.
my ($stdout, $stderr);
IPC::Run::run([ 'pg_dump', '--schema-only', '-h', $pub->host, '-p', $pub->port, 'postgres' ],
	'>', \$stdout, '2>', \$stderr) or die "pg_dump failed: $stderr";
$sub->safe_psql('postgres', $stdout);
ok(1, 'the subscriber has the schema (pg_dump --schema-only)');

# 2. One publication: the user tables and the extension's own.
$pub->safe_psql('postgres', q{
	DO $$ BEGIN
	    EXECUTE (SELECT format('CREATE PUBLICATION privacy_pub FOR TABLE public.staff, public.readers, %s',
	                           string_agg(t::text, ', ')) FROM privacy.replicated_tables() t);
	END $$
});
my $connstr = 'host=' . $pub->host . ' port=' . $pub->port . ' dbname=postgres';
$sub->safe_psql('postgres', "CREATE SUBSCRIPTION privacy_sub CONNECTION '$connstr' PUBLICATION privacy_pub");
$sub->wait_for_subscription_sync($pub, 'privacy_sub');

# 3. The initial sync brought everything.
is($sub->safe_psql('postgres', 'SELECT count(*) FROM readers'), '40',
	'the initial sync copied every row of the protected table');
is($sub->safe_psql('postgres', q{SELECT privacy.decrypt(ssn) FROM staff WHERE email = 'lr42@example.com'}),
	'LR-SSN-42', 'the subscriber decrypts and finds by the deterministic column');
is($sub->safe_psql('postgres', q{SET ROLE lr_payroll; SELECT count(privacy.decrypt(ssn)) FROM staff}),
	'100', 'the key grant reached the subscriber');
is($sub->safe_psql('postgres', q{SET ROLE lr_support; SELECT ssn FROM masked.staff WHERE id = 42}),
	'***42', 'the subscriber masks');
is($sub->safe_psql('postgres', q{SET ROLE lr_crm; SET privacy.purpose = 'lr_news'; SELECT count(*) FROM readers}),
	'10', 'the subscriber filters by consent');
is($sub->safe_psql('postgres', q{SET ROLE lr_crm; SELECT count(*) FROM readers}),
	'0', 'no purpose on the subscriber: no rows');

# 4. Changes replicate: rows, consents, rotation, revocation.
my $bg = $sub->background_psql('postgres', on_error_stop => 0);
$bg->query_safe('SET ROLE lr_payroll');
is($bg->query_safe('SELECT count(privacy.decrypt(ssn)) FROM staff'), '100',
	'a subscriber session decrypts (its permission is cached)');
$pub->safe_psql('postgres', q{
	SELECT privacy.rotate_key('hr');
	INSERT INTO staff VALUES (101, 'LR-SSN-101', 'lr101@example.com');
	UPDATE staff SET ssn = 'LR-SSN-1-new' WHERE id = 1;
	DELETE FROM staff WHERE id = 2;
	SELECT privacy.withdraw_consent('r1', 'lr_news');
	SELECT privacy.grant_consent('r20', 'lr_news');
	INSERT INTO readers VALUES ('r41', 'new reader');
	SELECT privacy.grant_consent('r41', 'lr_news');
});
$pub->wait_for_catchup('privacy_sub');
is($sub->safe_psql('postgres', q{SELECT privacy.decrypt(ssn) || ':' || privacy.envelope_key_version(ssn) FROM staff WHERE id = 101}),
	'LR-SSN-101:2', 'a row sealed under the rotated key decrypts on the subscriber');
is($sub->safe_psql('postgres', q{SELECT privacy.decrypt(ssn) FROM staff WHERE id = 1}), 'LR-SSN-1-new', 'updates replicate');
is($sub->safe_psql('postgres', q{SELECT count(*) FROM staff WHERE id = 2}), '0', 'deletes replicate');
is($sub->safe_psql('postgres', q{SET ROLE lr_crm; SET privacy.purpose = 'lr_news';
	SELECT string_agg(reader_id, ',' ORDER BY reader_id) FROM readers WHERE reader_id IN ('r1', 'r20', 'r41')}),
	'r20,r41', 'consent changes replicate and are honoured');
is($bg->query_safe('SELECT count(privacy.decrypt(ssn)) FROM staff WHERE id = 101'), '1',
	'the open subscriber session uses the rotated key');
$pub->safe_psql('postgres', q{SELECT privacy.revoke_key('hr', 'lr_payroll')});
$pub->wait_for_catchup('privacy_sub');
my ($ret) = $bg->query('SELECT count(privacy.decrypt(ssn)) FROM staff');
like($bg->{stderr}, qr/permission denied for privacy_ext key/,
	'a revocation on the publisher is in force in an open subscriber session at its next statement');
# The subscriber's backends keep whether a role is masked: the replicated
# privacy.masked_roles row empties that (its replica row trigger).
$bg->{stderr} = '';    # the refusal above
is($bg->query_safe('SELECT pg_typeof(ssn) FROM staff WHERE id = 42'), 'privacy.encrypted_text',
	'the subscriber session reads its own column unmasked');
$pub->safe_psql('postgres', q{SELECT privacy.mask_role('lr_payroll')});
$pub->wait_for_catchup('privacy_sub');
# mask_role's grant on the masking view is DDL, which does not replicate:
# the masked role's read, sent to masked.staff, is refused there.
$bg->{stderr} = '';
$bg->query('SELECT ssn FROM staff WHERE id = 42');
like($bg->{stderr}, qr/permission denied for view staff/,
	'a mask_role on the publisher is in force in an open subscriber session at its next statement');
$bg->quit;

# The extension's own tables are published: its DDL bookkeeping and rule
# changes still update and delete them (privacy.mask_rules has no primary
# key: its replica identity is the whole row), and the changes replicate.
my ($rc, $out, $err) = $pub->psql('postgres', q{
	CREATE TABLE lr_scratch (a int); ALTER TABLE lr_scratch RENAME COLUMN a TO b; DROP TABLE lr_scratch;
	SELECT privacy.set_mask('staff', 'ssn', 'partial(0, ''###'', 2)');
});
is($rc, 0, 'DDL and a changed masking rule work on the publisher') or diag($err);
$pub->wait_for_catchup('privacy_sub');
is($sub->safe_psql('postgres', q{SELECT rule FROM privacy.mask_rules WHERE column_name = 'ssn' AND role_name IS NULL}),
	q{partial(0, '###', 2)}, 'a changed masking rule replicates');

# 5. A replication role that row security would hide every row from.
$pub->safe_psql('postgres', q{
	CREATE ROLE lr_repl LOGIN REPLICATION;
	GRANT SELECT ON ALL TABLES IN SCHEMA public TO lr_repl;
	GRANT SELECT ON ALL TABLES IN SCHEMA privacy TO lr_repl;
	CREATE PUBLICATION readers_pub FOR TABLE public.readers;
});
like($pub->safe_psql('postgres', q{SELECT string_agg(array_to_string(findings, ' | '), ' | ') FROM privacy.inventory WHERE array_to_string(findings, ' ') LIKE '%replication role%'}),
	qr/lr_repl/, 'the inventory flags the publication of a protected table a replication role would copy nothing of');
$sub->safe_psql('postgres', 'CREATE DATABASE other');
$sub->safe_psql('other', q{CREATE EXTENSION privacy_ext; CREATE TABLE readers (reader_id text PRIMARY KEY, note text)});
my $offset = -s $pub->logfile;
$sub->safe_psql('other', "CREATE SUBSCRIPTION readers_sub CONNECTION '$connstr user=lr_repl' PUBLICATION readers_pub");
ok($pub->wait_for_log(qr/logical replication cannot copy the rows of protected tables as role "lr_repl"/, $offset),
	'the initial sync as a role without BYPASSRLS fails loudly on the publisher');
is($sub->safe_psql('other', 'SELECT count(*) FROM readers'), '0', 'and the subscriber holds no partial copy');
$pub->safe_psql('postgres', 'ALTER ROLE lr_repl BYPASSRLS');
$sub->poll_query_until('other', q{SELECT count(*) = 41 FROM readers}) or diag('sync did not complete');
is($sub->safe_psql('other', 'SELECT count(*) FROM readers'), '41', 'with BYPASSRLS the sync copies every row');

$sub->stop;
$pub->stop;
done_testing();
