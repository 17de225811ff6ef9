# Upgrade from 1.0: a database built under the released 1.0 script, with
# keys, encrypted and deterministic columns, rules, masking views, purposes,
# consents and audit rows, is updated with ALTER EXTENSION privacy_ext
# UPDATE.  Afterwards (a) every value decrypts, masks and filters as it did,
# and new writes, rotations and re-encryption work; (b) the extension's
# objects, their definitions, owners and privileges equal those of a fresh
# CREATE EXTENSION of 1.1 in another database (test/upgrade/catalog_snapshot.sql).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PrivacyExtNode;
use Test::More;

my $node = PrivacyExtNode::new_node('upgrade', PrivacyExtNode::random_key_hex(),
	conf => "privacy.audit = 'log,table'\n");
my $snapshot_sql = slurp_file("$FindBin::RealBin/../upgrade/catalog_snapshot.sql");

my $default = $node->safe_psql('postgres',
	q{SELECT default_version FROM pg_available_extensions WHERE name = 'privacy_ext'});
is($default, '1.1', 'the control file defaults to 1.1');

$node->safe_psql('postgres', 'CREATE DATABASE old');
$node->safe_psql('postgres', 'CREATE DATABASE fresh');

# The 1.0 database, used as 1.0 users did.
$node->safe_psql('old', q{
	CREATE EXTENSION privacy_ext VERSION '1.0';
	CREATE ROLE up_payroll LOGIN;
	CREATE ROLE up_support LOGIN;
	CREATE ROLE up_crm LOGIN;
	SELECT privacy.create_key('hr');
	SELECT privacy.create_key('pay');
	SELECT privacy.grant_key('hr', 'up_payroll');
	CREATE TABLE staff (id int PRIMARY KEY, name text,
	                    ssn privacy.encrypted_text('hr'),
	                    email privacy.encrypted_text_det('hr'),
	                    photo privacy.encrypted_bytea('pay'));
	CREATE INDEX staff_email ON staff (email);
	INSERT INTO staff SELECT g, 'name-' || g, 'ssn-' || g, 'mail' || g || '@example.com',
	                         ('\x' || lpad(to_hex(g), 4, '0'))::bytea
	  FROM generate_series(1, 200) g;
	SELECT privacy.rotate_key('hr');
	INSERT INTO staff VALUES (201, 'after-rotate', 'ssn-201', 'mail201@example.com', '\x00c9');
	GRANT SELECT ON staff TO up_payroll;
	SELECT privacy.set_mask('staff', 'ssn', 'partial(0, ''***-'', 2)');
	SELECT privacy.set_mask('staff', 'ssn', 'none', role => 'up_payroll');
	SELECT privacy.set_mask('staff', 'email', 'email');
	SELECT privacy.create_masking_view('staff');
	SELECT privacy.mask_role('up_support');
	SELECT privacy.create_purpose('marketing', 'consent');
	SELECT privacy.create_purpose('marketing.email', 'consent', parent => 'marketing');
	SELECT privacy.create_purpose('billing', 'contract');
	SELECT privacy.grant_purpose('up_crm', 'marketing');
	SELECT privacy.grant_purpose('up_crm', 'billing');
	CREATE TABLE customers (customer_id text PRIMARY KEY, card privacy.encrypted_text('pay'));
	INSERT INTO customers SELECT 'c' || g, 'card-' || g FROM generate_series(1, 50) g;
	GRANT SELECT ON customers TO up_crm;
	SELECT privacy.protect_table('customers', 'customer_id');
	SELECT privacy.grant_consent('c' || g, 'marketing', evidence => '{"form": "v1"}')
	  FROM generate_series(1, 20) g;
	SELECT privacy.withdraw_consent('c1', 'marketing');
	SELECT privacy.classify('staff', 'ssn', 'sensitive', 'national_id');
	SELECT count(privacy.decrypt(ssn)) FROM staff;
});
is($node->safe_psql('old', q{SELECT extversion FROM pg_extension WHERE extname = 'privacy_ext'}),
	'1.0', 'the old database runs 1.0');

# What 1.0 shows, to compare after the update.
my %checks = (
	decrypt => [ 'postgres', q{SELECT md5(string_agg(id || ':' || privacy.decrypt(ssn) || ':' || privacy.decrypt(email)
	                  || ':' || encode(privacy.decrypt(photo), 'hex'), ',' ORDER BY id)) FROM staff} ],
	versions => [ 'postgres', q{SELECT string_agg(privacy.envelope_key_version(ssn)::text, ',' ORDER BY id) FROM staff} ],
	payroll => [ 'up_payroll', q{SELECT md5(string_agg(privacy.decrypt(ssn), ',' ORDER BY id)) FROM staff} ],
	masked => [ 'up_support', q{SELECT md5(string_agg(id || ':' || ssn || ':' || email || ':' || name, ',' ORDER BY id)) FROM masked.staff} ],
	det_lookup => [ 'postgres', q{SELECT id FROM staff WHERE email = 'mail77@example.com'} ],
	consents => [ 'postgres', q{SELECT count(*) FILTER (WHERE granted) || '/' || count(*) FROM privacy.consents} ],
	history => [ 'postgres', q{SELECT string_agg(action, ',' ORDER BY event_id) FROM privacy.consent_events WHERE subject = 'c1'} ],
	rules => [ 'postgres', q{SELECT string_agg(column_name || ':' || coalesce(role_name, '-') || ':' || rule, ',' ORDER BY 1) FROM privacy.mask_rules
	                           WHERE created_by <> 'privacy_ext 1.1 upgrade'} ],
	keys => [ 'postgres', q{SELECT string_agg(name || ':' || active_version || ':' || status, ',' ORDER BY name) FROM privacy.keys} ],
);
my %before;
$before{$_} = psql_as($node, 'old', @{ $checks{$_} }) for keys %checks;
sub psql_as
{
	my ($n, $db, $role, $sql) = @_;
	my $prefix = $role eq 'postgres' ? '' : "SET ROLE $role; ";
	return $n->safe_psql($db, $prefix . $sql);
}
my $crm_sql = q{SET ROLE up_crm; SET privacy.purpose = 'marketing';
	SELECT count(*) || ':' || string_agg(customer_id, ',' ORDER BY customer_id) FROM customers};
my $crm_before = $node->safe_psql('old', $crm_sql);
like($crm_before, qr/^19:/, '1.0: 19 consenting customers visible for marketing');
my $audit_before = $node->safe_psql('old', q{SELECT count(*) FROM privacy.audit_log});
cmp_ok($audit_before, '>', 0, '1.0 wrote audit rows');
my $explain_sql = q{SET enable_seqscan = off; EXPLAIN (COSTS OFF) SELECT id FROM staff WHERE email = 'mail77@example.com'};
like($node->safe_psql('old', $explain_sql), qr/Index/, '1.0: the deterministic lookup uses the index');

# The update.  Privacy by default (1.1): the columns 1.0 showed in clear in
# its masking views (no rule at all) keep being shown, through rule 'none',
# and the update says so.
my ($update_rc, $update_out, $update_err) = $node->psql('old', 'ALTER EXTENSION privacy_ext UPDATE');
is($update_rc, 0, 'ALTER EXTENSION UPDATE succeeds');
like($update_err, qr/WARNING:  privacy by default: 3 column\(s\) of masking views that privacy_ext 1.0 showed in clear keep being shown in clear/,
	'the update says which columns keep being shown in clear');
is($node->safe_psql('old', q{SELECT string_agg(relid::text || '.' || column_name || ':' || coalesce(role_name, '-') || ':' || rule, ',' ORDER BY 1)
	FROM privacy.mask_rules WHERE created_by = 'privacy_ext 1.1 upgrade'}),
	'staff.id:-:none,staff.name:-:none,staff.photo:-:none',
	'the update declares none for exactly the columns 1.0 showed in clear');
is($node->safe_psql('old', q{SELECT extversion FROM pg_extension WHERE extname = 'privacy_ext'}),
	'1.1', 'ALTER EXTENSION UPDATE brings it to 1.1');

# (a) Everything written under 1.0 works as it did.
for my $k (sort keys %checks)
{
	is(psql_as($node, 'old', @{ $checks{$k} }), $before{$k}, "after the update: $k as before");
}
is($node->safe_psql('old', $crm_sql), $crm_before, 'after the update: consent filtering as before');
like($node->safe_psql('old', $explain_sql), qr/Index/, 'after the update: the lookup still uses the index');
cmp_ok($node->safe_psql('old', q{SELECT count(*) FROM privacy.audit_log}), '>=', $audit_before,
	'after the update: the 1.0 audit rows are kept');
is($node->safe_psql('old', q{SET ROLE up_crm; SELECT count(*) FROM customers}), '0',
	'after the update: no purpose declared, no protected rows');
my ($rc, $out, $err) = $node->psql('old', q{SET ROLE up_support; SELECT privacy.decrypt(ssn) FROM staff LIMIT 1});
isnt($rc, 0, 'after the update: a masked role still cannot decrypt');

# New work under 1.1 on the upgraded database.
$node->safe_psql('old', q{
	INSERT INTO staff VALUES (300, 'new', 'ssn-300', 'mail300@example.com', '\x0300');
	SELECT privacy.rotate_key('hr');
	SELECT privacy.reencrypt('staff', 'ssn');
	SELECT privacy.grant_consent('c1', 'marketing');
	SELECT privacy.withdraw_consent('c2', 'marketing');
});
is($node->safe_psql('old', q{SELECT privacy.decrypt(ssn) FROM staff WHERE email = 'mail300@example.com'}),
	'ssn-300', 'after the update: a new row encrypts and is found by its deterministic column');
is($node->safe_psql('old', q{SELECT count(*) FROM staff WHERE privacy.envelope_key_version(ssn) <> 3}),
	'0', 'after the update: rotation and re-encryption reach every row');
is($node->safe_psql('old', q{SET ROLE up_crm; SET privacy.purpose = 'marketing';
	SELECT count(*) FILTER (WHERE customer_id = 'c1') || ':' || count(*) FILTER (WHERE customer_id = 'c2') FROM customers}),
	'1:0', 'after the update: new consents and withdrawals are honoured');

# (b) The same objects as a fresh install.
$node->safe_psql('fresh', 'CREATE EXTENSION privacy_ext');
my $upgraded = $node->safe_psql('old', $snapshot_sql);
my $fresh = $node->safe_psql('fresh', $snapshot_sql);
cmp_ok(scalar(split /\n/, $fresh), '>', 300, 'the catalog listing covers the extension (over 300 lines)');
like($fresh, qr/^member function privacy\.decrypt\(privacy\.encrypted_text\)$/m,
	'the listing names the functions');
like($fresh, qr/^init-privs /m, 'the listing includes the initial privileges pg_dump uses');
my %up = map { $_ => 1 } split /\n/, $upgraded;
my %fr = map { $_ => 1 } split /\n/, $fresh;
my @only_up = grep { !$fr{$_} } sort keys %up;
my @only_fresh = grep { !$up{$_} } sort keys %fr;
diag("only in the upgraded database: $_") for @only_up[0 .. ($#only_up < 20 ? $#only_up : 19)];
diag("only in the fresh install: $_") for @only_fresh[0 .. ($#only_fresh < 20 ? $#only_fresh : 19)];
is(scalar(@only_up) + scalar(@only_fresh), 0,
	'the upgraded database and a fresh 1.1 install have the same objects, definitions, owners and privileges');

# The comparison can fail: a privilege changed by hand shows up.
$node->safe_psql('old', 'GRANT SELECT ON privacy.mask_rules TO up_support');
isnt($node->safe_psql('old', $snapshot_sql), $fresh, 'a changed privilege makes the listings differ');
$node->safe_psql('old', 'REVOKE SELECT ON privacy.mask_rules FROM up_support');
is($node->safe_psql('old', $snapshot_sql), $fresh, 'and reverting it makes them equal again');

$node->stop;
done_testing();
