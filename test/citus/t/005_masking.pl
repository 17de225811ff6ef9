# Masking views and transparent masking on Citus tables: the masking guard
# accepts a shard of the named table and nothing else (src/citus/shard_map.c),
# a masking view's query reads the shards with the view's rights and as a
# security barrier (src/citus/shard_view.c), with the leak resistance of a
# local table: predicates see masked values only, errors carry no clear
# value, columns without rules are redacted; reference tables too.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use FindBin;
use lib "$FindBin::RealBin/../../perl";
use PrivacyExtNode;
use CitusCluster;
use Test::More;

plan skip_all => 'Citus is not installed' unless CitusCluster::available();

my $cluster = CitusCluster->new('masking', PrivacyExtNode::random_key_hex());
my $coord = $cluster->coordinator;
my ($w1) = $cluster->workers;

$coord->safe_psql('postgres', q{
CREATE EXTENSION privacy_ext;
CREATE TABLE emp (id int PRIMARY KEY, name text, email text, subject text);
INSERT INTO emp SELECT g, 'Person ' || g, 'user' || g || '@example.com', 's' || g
  FROM generate_series(1, 8) g;
SELECT create_distributed_table('emp', 'id');
SELECT privacy.set_mask('emp', 'id', 'none');
SELECT privacy.set_mask('emp', 'email', 'email');
SELECT privacy.set_mask('emp', 'subject', 'none');
SELECT privacy.create_masking_view('emp');
CREATE TABLE office (code text PRIMARY KEY, phone text, city text);
INSERT INTO office VALUES ('PAR', '+33 1 23 45 67 89', 'Paris'), ('BER', '+49 30 1234567', 'Berlin');
SELECT create_reference_table('office');
SELECT privacy.set_mask('office', 'code', 'none');
SELECT privacy.set_mask('office', 'phone', 'partial(0, ''***'', 2)');
SELECT privacy.create_masking_view('office');
CREATE ROLE support LOGIN;
SELECT privacy.mask_role('support');
});


sub as_support { return $coord->psql('postgres', $_[0], extra_params => [ '-U', 'support' ]); }
sub support_ok
{
	my ($sql, $want, $name) = @_;
	my ($ret, $out, $err) = as_support($sql);
	is($ret, 0, "$name: runs") or diag($err);
	is($out, $want, $name);
}

my $masked_rows = join("\n", map { "$_|REDACTED|u***\@e***.com" } 1 .. 8);
# The masking view, as its owner and as a masked role.
is($coord->safe_psql('postgres', 'SELECT id, name, email FROM masked.emp ORDER BY id'), $masked_rows,
	'masking view over a distributed table, read by its owner');
support_ok('SELECT id, name, email FROM masked.emp ORDER BY id', $masked_rows,
	'masking view over a distributed table, read by a masked role');
support_ok('SELECT id, name, email FROM emp ORDER BY id', $masked_rows,
	'transparent masking: the masked role reads the distributed table by name');
support_ok('SELECT count(*) FROM emp', '8', 'an aggregate over the masked table');
# The coordinator's combine query (grouping, ordering, a subquery) sees the
# workers' masked values only.
support_ok('SELECT email, count(*) FROM emp GROUP BY email ORDER BY 1', 'u***@e***.com|8',
	'GROUP BY a masked column: the workers group masked values');
support_ok('SELECT min(email), max(name), count(DISTINCT email) FROM emp', 'u***@e***.com|REDACTED|1',
	'min, max and count(DISTINCT) combine masked values');
support_ok("SELECT count(*) FROM emp WHERE email = 'user3\@example.com' OR email LIKE 'user%'", '0',
	'a predicate with a clear value finds nothing');
support_ok('SELECT count(*) FROM emp WHERE email IN (SELECT email FROM emp WHERE id = 1)', '8',
	'a subquery compares masked values');
support_ok('SELECT id, email FROM emp WHERE id = 3', '3|u***@e***.com', 'a lookup by id');
support_ok("COPY (SELECT id, email FROM emp ORDER BY id) TO STDOUT WITH (FORMAT csv)",
	join("\n", map { "$_,u***\@e***.com" } 1 .. 8), 'COPY (SELECT ...) TO: masked values');
my ($ret, $out, $err) = as_support('COPY emp TO STDOUT');
is($ret, 0, 'COPY emp TO runs') or diag($err);
unlike($out, qr/example\.com|Person/, 'COPY emp TO: no clear value');

# Leak attempts: predicates see masked values only.
support_ok("SELECT count(*) FROM emp WHERE email = 'user1\@example.com'", '0',
	'equality with a clear value finds nothing');
support_ok("SELECT count(*) FROM masked.emp WHERE email = 'user1\@example.com'", '0',
	'... through the view too');
support_ok("SELECT count(*) FROM emp WHERE email LIKE 'user1%'", '0', 'LIKE on the clear prefix finds nothing');
support_ok("SELECT count(*) FROM emp WHERE email LIKE 'u***%'", '8', 'LIKE sees the masked values');
support_ok("SELECT count(*) FROM emp WHERE name LIKE 'Person%'", '0',
	'a column without a rule is redacted for predicates too');
($ret, $out, $err) = as_support("SELECT email::int FROM emp");
isnt($ret, 0, 'a failing cast is an error');
unlike($err, qr/example\.com/, '... that carries no clear value');
like($err, qr/\Q***\E/, '... (it shows the masked one)');
($ret, $out, $err) = as_support("SELECT count(*) FROM emp e JOIN masked.emp m USING (id) WHERE m.email <> e.email");
is($out, '0', 'a join of the table and its view compares masked values with masked values');

# Reference table.
support_ok('SELECT code, phone, city FROM office ORDER BY code',
	"BER|***67|REDACTED\nPAR|***89|REDACTED", 'transparent masking of a reference table');
support_ok("SELECT count(*) FROM masked.office WHERE phone LIKE '+33%'", '0',
	'reference table: predicates see masked values');
support_ok('SELECT e.id, o.phone FROM emp e CROSS JOIN office o WHERE e.id = 1 ORDER BY o.code',
	"1|***67\n1|***89", 'a join of a distributed and a reference table');

# Consent on the masking view of a protected distributed table.
$coord->safe_psql('postgres', q{
SELECT privacy.create_purpose('support', 'consent');
SELECT privacy.grant_purpose('support', 'support');
SELECT privacy.protect_table('emp', 'subject');
SELECT privacy.grant_consent('s' || g, 'support') FROM generate_series(1, 3) g;
});
support_ok('SELECT count(*) FROM emp', '0', 'protected and masked: no purpose, no rows');
support_ok("SET privacy.purpose = 'support'; SELECT id, email FROM emp ORDER BY id",
	join("\n", map { "$_|u***\@e***.com" } 1 .. 3), 'protected and masked: the consenting subjects, masked');

# On a worker, by hand: the shards stay closed to the masked role.
my $shard = $coord->safe_psql('postgres',
	"SELECT shard_name('emp'::regclass, shardid) FROM pg_dist_shard_placement p JOIN pg_dist_shard s USING (shardid)"
	  . " WHERE logicalrelid = 'emp'::regclass AND p.nodeport = " . $w1->port . ' ORDER BY shardid LIMIT 1');
my $other = $coord->safe_psql('postgres',
	"SELECT shard_name('office'::regclass, shardid) FROM pg_dist_shard WHERE logicalrelid = 'office'::regclass");
sub on_worker { return $w1->psql('postgres', $_[0], extra_params => [ '-U', 'support' ]); }
($ret, $out, $err) = on_worker("SELECT email FROM $shard");
like($err, qr/permission denied/, 'worker: the shard itself is refused');
($ret, $out, $err) = on_worker("SELECT x FROM (SELECT email AS x FROM $shard) s");
like($err, qr/permission denied/, 'worker: a subquery reading a clear column is refused');
($ret, $out, $err) = on_worker("SELECT x FROM (SELECT privacy.apply_mask(email, 'public.emp'::regclass, 'email') AS x FROM $shard) s");
like($err, qr/permission denied/, 'worker: a masking view\'s shape without its consent filter is refused');
($ret, $out, $err) = on_worker("SET privacy.purpose = 'support'; SELECT count(*) FROM (SELECT privacy.apply_mask(email, 'public.emp'::regclass, 'email') AS x FROM $shard WHERE privacy.has_consent(subject) AND email LIKE 'user%') s");
like($err, qr/permission denied/, 'worker: a predicate on a clear column inside the shape is refused');
($ret, $out, $err) = on_worker("SELECT x FROM (SELECT privacy.apply_mask(email, 'public.emp'::regclass, 'name') AS x FROM $shard) s");
like($err, qr/may only mask the column it names/, 'worker: the guard refuses a shard column under another name');
($ret, $out, $err) = on_worker("SELECT privacy.apply_mask(phone, 'public.emp'::regclass, 'email') FROM $other");
like($err, qr/may only mask the column it names/, 'worker: the guard refuses a shard of another table');
($ret, $out, $err) = on_worker("SET privacy.purpose = 'support'; SELECT x FROM (SELECT privacy.apply_mask(email, 'public.emp'::regclass, 'email') AS x FROM $shard WHERE privacy.has_consent(subject)) s");
is($ret, 0, 'worker: the masking view\'s own shape reads the shard') or diag($err);
unlike($out, qr/example\.com/, '... masked values only');

# A look-alike of a shard, made by a role that may create tables: refused.
$coord->safe_psql('postgres', 'CREATE ROLE maker LOGIN; GRANT CREATE ON SCHEMA public TO maker');
# The name of a real shard of emp, placed on the other worker: only its owner differs.
my $fake = $coord->safe_psql('postgres',
	"SELECT shard_name('emp'::regclass, shardid) FROM pg_dist_shard_placement p JOIN pg_dist_shard s USING (shardid)"
	  . " WHERE logicalrelid = 'emp'::regclass AND p.nodeport <> " . $w1->port . ' ORDER BY shardid LIMIT 1');
$w1->safe_psql('postgres', "CREATE TABLE public.$fake (email text); INSERT INTO public.$fake VALUES ('x\@y.z')",
	extra_params => [ '-U', 'maker' ]);
($ret, $out, $err) = $w1->psql('postgres', "SELECT privacy.apply_mask(email, 'public.emp'::regclass, 'email') FROM public.$fake",
	extra_params => [ '-U', 'maker' ]);
like($err, qr/may only mask the column it names/, 'worker: a table named like a shard is no shard');

# Not yet on Citus (README): the masking view of a distributed table with
# a row-level security policy of its own evaluates the policy through its
# policy function, which the workers do not have: refused, never the rows
# the tenant policy hides.
$coord->safe_psql('postgres', q{
	CREATE TABLE tenanted (id int, tenant int, email text);
	INSERT INTO tenanted SELECT g, g % 2, 'tenant' || g || '@example.com' FROM generate_series(1, 10) g;
	SELECT create_distributed_table('tenanted', 'id');
	ALTER TABLE tenanted ENABLE ROW LEVEL SECURITY;
	CREATE POLICY tenant_one ON tenanted FOR SELECT USING (tenant = 1);
	SELECT privacy.set_mask('tenanted', 'email', 'email');
	SELECT privacy.set_mask('tenanted', 'id', 'none');
	SELECT privacy.create_masking_view('tenanted');
	GRANT SELECT ON masked.tenanted TO support;
});
($ret, $out, $err) = $coord->psql('postgres', 'SELECT count(*) FROM masked.tenanted', extra_params => [ '-U', 'support' ]);
like($err, qr/function masked\.row_policies_\d+\(\S*tenanted_\d+\) does not exist/,
	'a masking view with the table\'s own policy in it: refused on the workers');
is($out, '', '... no rows, so none its tenant policy hides');

$cluster->stop;
done_testing();
