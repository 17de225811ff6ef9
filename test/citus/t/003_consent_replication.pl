# The extension's other tables on every node (issue 21, point 2's tables):
# purposes, purpose grants, policy versions, consents, protected tables,
# masking rules and masked roles made on the coordinator are on every
# worker; a withdrawal committed on the coordinator is honoured by the next
# statement of a transaction already open through the coordinator; a node
# added later gets everything from privacy.citus_sync(), and the shards
# the rebalancer moves to it decrypt and filter as before.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use FindBin;
use lib "$FindBin::RealBin/../../perl";
use PrivacyExtNode;
use CitusCluster;
use Test::More;

plan skip_all => 'Citus is not installed' unless CitusCluster::available();

my $cluster = CitusCluster->new('consent', PrivacyExtNode::random_key_hex());
my $coord = $cluster->coordinator;

my @tables = qw(purposes purpose_grants policy_versions consent_state protected_tables
  mask_rules masked_roles data_keys data_key_versions key_grants);

# A table's rows as text, in a fixed order (timestamps included: they are copied).
sub rows
{
	my ($node, $t) = @_;
	return $node->safe_psql('postgres',
		"SELECT coalesce(string_agg(j, E'\\n' ORDER BY j), '') FROM"
		  . " (SELECT to_jsonb(t)::text AS j FROM privacy.$t t) s");
}

sub same_everywhere
{
	my ($what) = @_;
	for my $t (@tables)
	{
		my $c = rows($coord, $t);
		for my $w ($cluster->workers)
		{
			is(rows($w, $t), $c, "$what: privacy.$t on " . $w->name . ' is the coordinator\'s');
		}
	}
}

$coord->safe_psql('postgres', q{
	CREATE EXTENSION privacy_ext;
	SELECT privacy.create_purpose('marketing', 'consent');
	SELECT privacy.create_purpose('marketing.email', 'consent', 'marketing');
	SELECT privacy.set_policy_version('2026-01');
	CREATE ROLE crm LOGIN;
	SELECT privacy.grant_purpose('crm', 'marketing');
	CREATE TABLE customers (customer_id text PRIMARY KEY, name text);
	SELECT create_distributed_table('customers', 'customer_id');
	INSERT INTO customers SELECT 'c' || g, 'name' || g FROM generate_series(1, 40) g;
	GRANT SELECT ON customers TO crm;
	SELECT privacy.protect_table('customers', 'customer_id');
	SELECT privacy.grant_consent('c1', 'marketing');
	SELECT privacy.grant_consent('c2', 'marketing');
	SELECT privacy.grant_consent('c3', 'marketing');
	SELECT privacy.grant_consent('c4', 'marketing.email');
	SELECT privacy.set_mask('customers', 'name', 'partial(1, ''***'', 0)');
	CREATE ROLE support LOGIN;
	SELECT privacy.mask_role('support');
	SELECT privacy.create_key('hr');
	CREATE ROLE clerk LOGIN;
	SELECT privacy.grant_key('hr', 'clerk');
	CREATE TABLE staff (id int PRIMARY KEY, ssn privacy.encrypted_text('hr'));
	SELECT create_distributed_table('staff', 'id');
	GRANT SELECT ON staff TO clerk;
});
# (VALUES: INSERT ... SELECT into an encrypted column is point 5's.)
$coord->safe_psql('postgres', 'INSERT INTO staff VALUES '
	  . join(', ', map { "($_, 'ssn$_')" } 1 .. 40));
like(rows($coord, 'consent_state'), qr/"c4"/, 'control: the coordinator holds the consents');
same_everywhere('after setup');
is($cluster->workers ? ($cluster->workers)[0]->safe_psql('postgres',
	q{SELECT attnum FROM privacy.mask_rules WHERE column_name = 'name'}) : '', '2',
	"a masking rule carries the worker's attnum");

# Consent filtering through the coordinator: the shards' policies read each
# worker's consent state.  The purpose is declared with SET LOCAL, which
# Citus passes to the workers with citus.propagate_set_commands = 'local'.
my $read_sql = q{SELECT string_agg(customer_id, ',' ORDER BY customer_id) FROM customers};
is($coord->safe_psql('postgres', qq{
	SET citus.propagate_set_commands = 'local'; SET ROLE crm;
	BEGIN; SET LOCAL privacy.purpose = 'marketing'; $read_sql; COMMIT;}),
	'c1,c2,c3', 'crm sees the consenting customers, from both workers');

# A transaction open through the coordinator: the withdrawal committed by
# another session is honoured by its next statement, on the workers.
my $bg = $coord->background_psql('postgres', on_error_stop => 0);
$bg->query_safe(q{SET citus.propagate_set_commands = 'local'});
$bg->query_safe('SET ROLE crm');
$bg->query_safe('BEGIN');
$bg->query_safe(q{SET LOCAL privacy.purpose = 'marketing'});
is($bg->query_safe($read_sql), 'c1,c2,c3', 'the open transaction sees c1, c2, c3');
$coord->safe_psql('postgres', q{SELECT privacy.withdraw_consent('c2', 'marketing')});
is($bg->query_safe($read_sql), 'c1,c3', 'its next statement no longer sees c2, withdrawn meanwhile');
$coord->safe_psql('postgres', q{SELECT privacy.grant_consent('c5', 'marketing')});
is($bg->query_safe($read_sql), 'c1,c3,c5', 'and sees c5 once granted');
$bg->query_safe('COMMIT');
$bg->quit;
same_everywhere('after withdraw and grant');

# Revoking the purpose and unmasking reach the workers too.
$coord->safe_psql('postgres', q{
	SELECT privacy.revoke_purpose('crm', 'marketing');
	SELECT privacy.unmask_role('support');
	SELECT privacy.set_mask('customers', 'name', 'none', 'support');
});
is(($cluster->workers)[1]->safe_psql('postgres',
	q{SELECT count(*) FROM privacy.purpose_grants WHERE role_name = 'crm'}), '0',
	'a revoked purpose grant is gone from the workers');
same_everywhere('after revoke_purpose, unmask_role, a role rule');
$coord->safe_psql('postgres', q{SELECT privacy.grant_purpose('crm', 'marketing')});

# A worker changed by hand (changes made on a worker stay there) ...
my $w1 = ($cluster->workers)[0];
$w1->safe_psql('postgres', q{DELETE FROM privacy.consent_state; DELETE FROM privacy.purpose_grants});
isnt(rows($w1, 'consent_state'), rows($coord, 'consent_state'), 'control: a worker changed by hand differs');

# --- a node added later (and the worker above repaired) ----------------------
my $w3 = $cluster->add_worker;
is($w3->safe_psql('postgres', q{SELECT count(*) FROM privacy.data_keys}), '0',
	'control: the new node has the extension but none of its rows');
my ($ret, $out, $err) = $coord->psql('postgres', q{SELECT privacy.grant_consent('c6', 'marketing')});
like($err, qr/cannot reach Citus node 127\.0\.0\.1:\d+ yet.*\n.*\n.*privacy\.citus_sync\(\)/,
	'until it is given the tables, changes are refused with a hint to privacy.citus_sync()');
$coord->safe_psql('postgres', q{CREATE ROLE keyadm LOGIN; GRANT privacy_admin TO keyadm});
($ret, $out, $err) = $coord->psql('postgres', q{SET ROLE crm; SELECT privacy.citus_sync()});
like($err, qr/permission denied for function citus_sync/, 'a role without privacy_admin may not run citus_sync()');
is($coord->safe_psql('postgres', q{SET ROLE keyadm; SELECT privacy.citus_sync()}), '3',
	'privacy.citus_sync() (by a privacy_admin member) reaches the three workers');
same_everywhere('after citus_sync with a third worker');
$coord->safe_psql('postgres', q{SELECT privacy.grant_consent('c6', 'marketing')});
is(rows($w3, 'consent_state'), rows($coord, 'consent_state'), 'the next consent reaches the new node');

# The rebalancer moves shards there; they decrypt and filter as before.
$coord->safe_psql('postgres', q{SELECT citus_rebalance_start(shard_transfer_mode => 'block_writes');
	SELECT citus_rebalance_wait()});
is($coord->safe_psql('postgres', q{SELECT count(*) > 0 FROM pg_dist_shard_placement
	WHERE nodeport = } . $w3->port . q{ AND shardid IN (SELECT shardid FROM pg_dist_shard
	WHERE logicalrelid IN ('staff'::regclass, 'customers'::regclass))}), 't',
	'the rebalancer moved shards to the new node');
is($coord->safe_psql('postgres', q{SET ROLE clerk; SELECT count(*) FILTER (WHERE ssn::text = 'ssn' || id) FROM staff}),
	'40', 'clerk decrypts all 40 rows, the new node\'s shards included');
is($coord->safe_psql('postgres', qq{
	SET citus.propagate_set_commands = 'local'; SET ROLE crm;
	BEGIN; SET LOCAL privacy.purpose = 'marketing'; $read_sql; COMMIT;}),
	'c1,c3,c5,c6', 'consent filtering is the same with the new node');

$cluster->stop;
done_testing();
