# The declared purpose reaches the workers (src/citus/purpose_marker.c):
# consent policies of a distributed table, evaluated on the shards' nodes,
# see the purpose the coordinator's session declared with SET or SET LOCAL,
# none after RESET (no rows), the new one in a prepared statement after a
# change, and a withdrawal by the next statement; a purpose the role was
# not granted cannot be slipped in through the marker.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use FindBin;
use lib "$FindBin::RealBin/../../perl";
use PrivacyExtNode;
use CitusCluster;
use Test::More;

plan skip_all => 'Citus is not installed' unless CitusCluster::available();

my $cluster = CitusCluster->new('purpose', PrivacyExtNode::random_key_hex());
my $coord = $cluster->coordinator;

$coord->safe_psql('postgres', q{
CREATE EXTENSION privacy_ext;
SELECT privacy.create_purpose('analytics', 'consent');
SELECT privacy.create_purpose('billing', 'consent');
SELECT privacy.create_purpose('research', 'consent');
CREATE ROLE analyst LOGIN;
CREATE ROLE outsider LOGIN;
SELECT privacy.grant_purpose('analyst', 'analytics');
SELECT privacy.grant_purpose('analyst', 'billing');
CREATE TABLE cust (id int PRIMARY KEY, subject text, note text);
INSERT INTO cust SELECT g, 's' || g, 'note ' || g FROM generate_series(1, 8) g;
SELECT create_distributed_table('cust', 'id');
SELECT privacy.protect_table('cust', 'subject');
GRANT SELECT, UPDATE ON cust TO analyst, outsider;
SELECT privacy.grant_consent('s' || g, 'analytics') FROM generate_series(1, 5) g;
SELECT privacy.grant_consent('s' || g, 'billing') FROM generate_series(4, 8) g;
});


# Citus writes the policies to the shards without AS RESTRICTIVE: the
# consent policies stay restrictive there (src/citus/shard_policies.c), or
# each shard would OR them with privacy_consent_allow_select (every row).
for my $w ($cluster->workers)
{
	is($w->safe_psql('postgres', q{SELECT count(*) > 1, bool_or(polpermissive) FROM pg_policy
	                              WHERE polname = 'privacy_consent_select'}),
		't|f', 'the consent policy is restrictive on every shard of ' . $w->name);
	my $shard = $w->safe_psql('postgres', q{SET citus.show_shards_for_app_name_prefixes = '*';
		SELECT c.oid::regclass FROM pg_class c WHERE c.relname LIKE 'cust\_%' AND c.relkind = 'r' LIMIT 1});
	is($w->safe_psql('postgres', "SET ROLE analyst; SELECT count(*) FROM $shard"), '0',
		'a shard read on ' . $w->name . ' with no purpose declared shows no row');
}

# What a statement returns for the analyst through the coordinator.
sub as_analyst { return $coord->safe_psql('postgres', $_[0], extra_params => [ '-U', 'analyst' ]); }

# Ids 1..5 consent to analytics (sum 15), 4..8 to billing (sum 30).
my $sum = 'SELECT coalesce(sum(id), 0) FROM cust';
is(as_analyst($sum), '0', 'no purpose declared: no rows from the workers');
is(as_analyst("SET privacy.purpose = 'analytics'; $sum"), '15',
	'session SET reaches the workers (multi-shard)');
is(as_analyst("SET privacy.purpose = 'analytics'; SELECT count(*) FROM cust WHERE id = 2"), '1',
	'router query: a consenting subject');
is(as_analyst("SET privacy.purpose = 'analytics'; SELECT count(*) FROM cust WHERE id = 7"), '0',
	'router query: a subject that did not consent to the purpose');
is(as_analyst("BEGIN; SET LOCAL privacy.purpose = 'billing'; $sum; COMMIT"), '30',
	'SET LOCAL reaches the workers');
is(as_analyst("SET privacy.purpose = 'analytics'; BEGIN; SET LOCAL privacy.purpose = 'billing'; $sum; COMMIT; $sum"),
	"30\n15", 'after COMMIT the session purpose is back, on the workers too');
is(as_analyst("SET privacy.purpose = 'analytics'; RESET privacy.purpose; $sum"), '0',
	'RESET: no purpose, no rows');
is($coord->safe_psql('postgres', 'SHOW citus.propagate_set_commands'), 'none',
	'no Citus setting changed by hand');

# Prepared statements: generic plans (the sixth execution on) included.
my $prep = "PREPARE q AS $sum; PREPARE r(int) AS SELECT count(*) FROM cust WHERE id = \$1;"
  . "SET privacy.purpose = 'analytics';"
  . join('', map { 'EXECUTE q; EXECUTE r(2);' } 1 .. 6)
  . "SET privacy.purpose = 'billing'; EXECUTE q; EXECUTE r(2); EXECUTE r(7);"
  . "RESET privacy.purpose; EXECUTE q; EXECUTE r(7);";
is(as_analyst($prep), join("\n", ("15\n1") x 6, 30, 0, 1, 0, 0),
	'prepared statements follow SET and RESET, generic plans too');

# PL/pgSQL's cached plans, and a function's SET clause.
$coord->safe_psql('postgres', q{
CREATE FUNCTION cust_sum() RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN RETURN (SELECT coalesce(sum(id), 0) FROM cust); END $$;
CREATE FUNCTION cust_sum_billing() RETURNS bigint LANGUAGE sql SET privacy.purpose = 'billing'
  AS $$ SELECT coalesce(sum(id), 0) FROM cust $$;
});
is(as_analyst("SET privacy.purpose = 'analytics'; SELECT cust_sum(); SET privacy.purpose = 'billing'; SELECT cust_sum(); SET privacy.purpose = 'analytics'; SELECT cust_sum_billing(); SELECT cust_sum()"),
	"15\n30\n30\n15", "PL/pgSQL's cached plan and a function's SET clause");

# Writes: UPDATE on the shards sees the purpose.
is(as_analyst("SET privacy.purpose = 'analytics'; WITH u AS (UPDATE cust SET note = note RETURNING id) SELECT count(*) FROM u"),
	'5', 'UPDATE through the coordinator changes the consenting rows only');

# The marker cannot be forged: a role without the purpose gets an error, not rows.
my ($ret, $out, $err) = $coord->psql('postgres',
	"SELECT count(*) FROM cust WHERE privacy.shard_purpose(subject, 'analytics')",
	extra_params => [ '-U', 'outsider' ]);
isnt($ret, 0, 'a hand-written marker for a purpose not granted is refused');
like($err, qr/may not process data for purpose "analytics"/, '... by the purpose check');
($ret, $out, $err) = $coord->psql('postgres',
	"SELECT count(*) FROM cust WHERE privacy.shard_purpose(subject, 'research')",
	extra_params => [ '-U', 'analyst' ]);
isnt($ret, 0, 'analyst: a marker for a purpose it was not granted is refused too');
is(as_analyst("SELECT count(*) FROM cust WHERE privacy.shard_purpose(subject, '')"), '0',
	'an empty marker: no rows');

# A withdrawal on the coordinator: the next statement does not see the subject.
$coord->safe_psql('postgres', "SELECT privacy.withdraw_consent('s2', 'analytics')");
is(as_analyst("SET privacy.purpose = 'analytics'; $sum"), '13',
	'a withdrawal is honoured by the next statement on the workers');

$cluster->stop;
done_testing();
