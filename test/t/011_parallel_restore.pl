# Restores of every kind users run: a directory dump taken with -j 4 and
# restored with pg_restore -j 4 into a new database and into a second
# cluster holding the same root key; --inserts and --column-inserts scripts;
# --schema-only followed by --data-only; a --list whose data entries were
# put in reverse order.  Each restore exits 0 and the restored database
# decrypts, masks and filters exactly as the source.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PrivacyExtNode;
use Test::More;

my $root_hex = PrivacyExtNode::random_key_hex();
my $node = PrivacyExtNode::new_node('prsrc', $root_hex, conf => "privacy.audit = 'log,table'\n");
my $other = PrivacyExtNode::new_node('prdst', $root_hex);

my $roles = q{
	CREATE ROLE pr_payroll LOGIN;
	CREATE ROLE pr_support LOGIN;
	CREATE ROLE pr_crm LOGIN;
};
$node->safe_psql('postgres', $roles);
$other->safe_psql('postgres', $roles);    # roles are global: restored first (pg_dumpall --globals-only)

$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('src', q{
	CREATE EXTENSION privacy_ext;
	SELECT privacy.create_key('hr');
	SELECT privacy.create_key('pay');
	CREATE TABLE staff (id int PRIMARY KEY, name text,
	                    ssn privacy.encrypted_text('hr'),
	                    email privacy.encrypted_text_det('hr') UNIQUE,
	                    doc privacy.encrypted_bytea('pay'));
	INSERT INTO staff SELECT g, 'n' || g, 'PR-SSN-' || g, 'pr' || g || '@example.com', ('\x0a' || lpad(to_hex(g), 2, '0'))::bytea
	  FROM generate_series(1, 50) g;
	SELECT privacy.rotate_key('hr');
	INSERT INTO staff VALUES (51, 'rotated', 'PR-SSN-51', 'pr51@example.com', '\x51');
	SELECT privacy.grant_key('hr', 'pr_payroll');
	GRANT SELECT ON staff TO pr_payroll;
	SELECT privacy.set_mask('staff', 'ssn', 'partial(0, ''***'', 2)');
	SELECT privacy.set_mask('staff', 'ssn', 'none', role => 'pr_payroll');
	SELECT privacy.set_mask('staff', 'id', 'none');   -- 1.1: clear only by saying so
	SELECT privacy.create_masking_view('staff');
	SELECT privacy.mask_role('pr_support');
	SELECT privacy.create_purpose('news', 'consent');
	SELECT privacy.create_purpose('news.weekly', 'consent', parent => 'news');
	SELECT privacy.grant_purpose('pr_crm', 'news.weekly');
	CREATE TABLE readers (reader_id text PRIMARY KEY, mail privacy.encrypted_text('pay'));
	INSERT INTO readers SELECT 'r' || g, 'mail-' || g FROM generate_series(1, 30) g;
	GRANT SELECT ON readers TO pr_crm;
	SELECT privacy.protect_table('readers', 'reader_id');
	-- a masking view of a protected table: rebuilt during the restore
	SELECT privacy.set_mask('readers', 'reader_id', 'none');
	SELECT privacy.create_masking_view('readers');
	SELECT privacy.grant_purpose('pr_support', 'news.weekly');
	-- a function declaring a purpose: restored before the purposes' rows
	CREATE FUNCTION weekly_readers() RETURNS bigint LANGUAGE sql
	    SET privacy.purpose = 'news.weekly' AS 'SELECT count(*) FROM public.readers';
	SELECT privacy.grant_consent('r' || g, 'news') FROM generate_series(1, 12) g;
	SELECT privacy.withdraw_consent('r3', 'news');
	SELECT privacy.classify('staff', 'ssn', 'sensitive', 'national_id');
	SELECT count(privacy.decrypt(ssn)) FROM staff;
});

# What every restored database must show, as the source does.
my @checks = (
	[ 'decrypt', '', q{SELECT md5(string_agg(id || privacy.decrypt(ssn) || privacy.decrypt(email) || encode(privacy.decrypt(doc), 'hex'), ',' ORDER BY id)) FROM staff} ],
	[ 'key versions', '', q{SELECT string_agg(privacy.envelope_key_version(ssn)::text, '' ORDER BY id) FROM staff} ],
	[ 'det lookup', '', q{SELECT id FROM staff WHERE email = 'pr42@example.com'} ],
	[ 'grant', 'pr_payroll', q{SELECT count(privacy.decrypt(ssn)) FROM staff} ],
	[ 'masked view', 'pr_support', q{SELECT md5(string_agg(ssn, ',' ORDER BY id)) FROM masked.staff} ],
	[ 'unmasked for payroll rule', '', q{SELECT string_agg(role_name || '=' || rule, ',' ORDER BY role_name) FROM privacy.mask_rules} ],
	[ 'consent filter', 'pr_crm', q{SET privacy.purpose = 'news.weekly'; SELECT count(*) || ':' || md5(string_agg(reader_id, ',' ORDER BY reader_id)) FROM readers} ],
	[ 'no purpose', 'pr_crm', q{SELECT count(*) FROM readers} ],
	[ 'masked consent view', 'pr_support', q{SET privacy.purpose = 'news.weekly'; SELECT count(*) FROM masked.readers} ],
	[ 'history', '', q{SELECT count(*) || ':' || count(*) FILTER (WHERE action = 'withdraw') FROM privacy.consent_events} ],
	[ 'audit rows', '', q{SELECT count(*) > 0 FROM privacy.audit_log WHERE action = 'decrypt'} ],
	[ 'inventory', '', q{SELECT count(*) FROM privacy.classifications} ],
	[ 'keys', '', q{SELECT string_agg(name || ':' || active_version || ':' || versions::text, ',' ORDER BY name) FROM privacy.keys} ],
);
sub run_check
{
	my ($n, $db, $role, $sql) = @_;
	return $n->safe_psql($db, ($role ? "SET ROLE $role; " : '') . $sql);
}
my %expected = map { $_->[0] => run_check($node, 'src', $_->[1], $_->[2]) } @checks;
is($expected{'consent filter'} =~ /^11:/ ? 1 : 0, 1, 'the source shows 11 consenting readers (sanity)');

sub compare_all
{
	my ($n, $db, $label) = @_;
	for my $c (@checks)
	{
		is(run_check($n, $db, $c->[1], $c->[2]), $expected{ $c->[0] }, "$label: $c->[0] as in the source");
	}
}

my $tmp = PostgreSQL::Test::Utils::tempdir;
my ($host, $port) = ($node->host, $node->port);

# Directory format, 4 jobs each way.
command_ok([ 'pg_dump', '-h', $host, '-p', $port, '-Fd', '-j', '4', '-f', "$tmp/dir", 'src' ],
	'pg_dump -Fd -j 4');
$node->safe_psql('postgres', 'CREATE DATABASE par');
command_ok([ 'pg_restore', '-h', $host, '-p', $port, '-j', '4', '--exit-on-error', '-d', 'par', "$tmp/dir" ],
	'pg_restore -j 4 into a new database exits 0');
compare_all($node, 'par', 'pg_restore -j 4, same cluster');

$other->safe_psql('postgres', 'CREATE DATABASE par');
command_ok([ 'pg_restore', '-h', $other->host, '-p', $other->port, '-j', '4', '--exit-on-error', '-d', 'par', "$tmp/dir" ],
	'pg_restore -j 4 into a second cluster exits 0');
compare_all($other, 'par', 'pg_restore -j 4, second cluster');

# The data entries in reverse order of the list.
my ($list) = run_command([ 'pg_restore', '-l', "$tmp/dir" ]);
my @lines = split /\n/, $list;
my @data = grep { /TABLE DATA/ } @lines;
ok(scalar(@data) >= 10, 'the dump has a data entry per table, the extension\'s included');
# Put the reversed data entries where the first data entry stood.
my @reordered;
my $placed = 0;
for my $l (@lines)
{
	if ($l =~ /TABLE DATA/)
	{
		push @reordered, reverse(@data) unless $placed++;
		next;
	}
	push @reordered, $l;
}
open(my $fh, '>', "$tmp/list.txt") or die;
print $fh join("\n", @reordered), "\n";
close($fh);
$node->safe_psql('postgres', 'CREATE DATABASE reordered');
command_ok([ 'pg_restore', '-h', $host, '-p', $port, '--exit-on-error', '-L', "$tmp/list.txt", '-d', 'reordered', "$tmp/dir" ],
	'pg_restore -L with the data entries reversed exits 0');
compare_all($node, 'reordered', 'reordered --list');

# --schema-only, then --data-only (as after a schema migration).
$node->safe_psql('postgres', 'CREATE DATABASE twostep');
command_ok([ 'pg_restore', '-h', $host, '-p', $port, '--exit-on-error', '--schema-only', '-d', 'twostep', "$tmp/dir" ],
	'pg_restore --schema-only exits 0');
command_ok([ 'pg_restore', '-h', $host, '-p', $port, '--exit-on-error', '--data-only', '-j', '4', '-d', 'twostep', "$tmp/dir" ],
	'pg_restore --data-only -j 4 exits 0');
compare_all($node, 'twostep', '--schema-only then --data-only');

# Plain scripts with INSERT statements, replayed by psql.
for my $mode ('--inserts', '--column-inserts')
{
	(my $db = $mode) =~ s/\W//g;
	command_ok([ 'pg_dump', '-h', $host, '-p', $port, $mode, '-f', "$tmp/$db.sql", 'src' ], "pg_dump $mode");
	my $script = slurp_file("$tmp/$db.sql");
	unlike($script, qr/PR-SSN-/, "the $mode script holds no plaintext");
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', $host, '-p', $port, '-d', $db, '-f', "$tmp/$db.sql" ],
		"the $mode script restores with ON_ERROR_STOP");
	compare_all($node, $db, $mode);
}

# The triggers that replaced the foreign keys still guard ordinary writes.
my ($rc, $out, $err) = $node->psql('src', q{INSERT INTO privacy.key_grants VALUES (12345, 'pr_crm', 'pr_crm')});
like($err, qr/references data_keys "12345", which does not exist/, 'a grant of a missing key is refused outside a restore');
($rc, $out, $err) = $node->psql('src', q{DELETE FROM privacy.purposes WHERE name = 'news'});
like($err, qr/still referenced/, 'a purpose with children or consents cannot be deleted');
$node->safe_psql('src', q{SELECT privacy.create_key('pr_gone'); SELECT privacy.rotate_key('pr_gone');
	DELETE FROM privacy.data_keys WHERE name = 'pr_gone'});
is($node->safe_psql('src', q{SELECT count(*) FROM privacy.data_key_versions v
	WHERE NOT EXISTS (SELECT 1 FROM privacy.data_keys k WHERE k.key_id = v.key_id)}), '0',
	'deleting a key row deletes its versions');

$node->stop;
$other->stop;
done_testing();
