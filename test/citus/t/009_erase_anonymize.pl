# erase_subject of tables protected with on_erase => 'anonymize' that are
# hash-distributed (subject column beside the distribution column, and as
# the distribution column) or reference tables; all or nothing when one
# node's part fails; reencrypt of a reference table (every placement the
# same bytes); static masking of Citus tables refused (issue 21, point 5).
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use FindBin;
use lib "$FindBin::RealBin/../../perl";
use PrivacyExtNode;
use CitusCluster;
use Test::More;

plan skip_all => 'Citus is not installed' unless CitusCluster::available();

my $cluster = CitusCluster->new('erase', PrivacyExtNode::random_key_hex());
my $coord = $cluster->coordinator;
my @workers = $cluster->workers;

$coord->safe_psql('postgres', 'CREATE EXTENSION privacy_ext');
$coord->safe_psql('postgres', q{
	SELECT privacy.create_key('k');
	SELECT privacy.create_purpose('news', legal_basis => 'consent');
	-- subject beside the distribution column
	CREATE TABLE accounts (id int PRIMARY KEY, subject text, name privacy.encrypted_text('k'), plan text);
	SELECT create_distributed_table('accounts', 'id');
	-- subject as the distribution column
	CREATE TABLE members (subject text, n int, name privacy.encrypted_text('k'), PRIMARY KEY (subject, n));
	SELECT create_distributed_table('members', 'subject');
	-- a reference table
	CREATE TABLE contacts (id int PRIMARY KEY, subject text, name privacy.encrypted_text('k'));
	SELECT create_reference_table('contacts');
	INSERT INTO accounts SELECT i, 's' || (i % 5), 'Account' || i, 'gold' FROM generate_series(1, 50) i;
	INSERT INTO members SELECT 's' || (i % 5), i, 'Member' || i FROM generate_series(1, 50) i;
	INSERT INTO contacts SELECT i, 's' || (i % 5), 'Contact' || i FROM generate_series(1, 20) i;
	SELECT privacy.protect_table(t, 'subject', on_erase => 'anonymize')
	  FROM unnest(ARRAY['accounts', 'members', 'contacts']::regclass[]) t;
	SELECT privacy.set_mask(t, 'subject', 'redact'),
	       privacy.set_mask(t, 'name', 'partial(1, ''***'', 0)')
	  FROM unnest(ARRAY['accounts', 'members', 'contacts']::regclass[]) t;
	SELECT privacy.grant_consent(s, 'news') FROM unnest(ARRAY['s1', 's2', 's3']) s;
});

# Every row of the three tables, placements included, as one digest per placement.
sub placements_digest
{
	return $coord->safe_psql('postgres', q{
		SELECT string_agg(t || ':' || result, ' ' ORDER BY t, nodeport, shardid) FROM (
		  SELECT t, nodeport, shardid, result FROM unnest(ARRAY['accounts', 'members', 'contacts']) t,
		    run_command_on_placements(t::regclass,
		      $$SELECT coalesce(md5(string_agg(x::text, ',' ORDER BY x::text)), '-') FROM %s x$$)) s});
}
sub state
{
	return $coord->safe_psql('postgres', q{
		SELECT (SELECT count(*) FROM accounts WHERE subject = 's2') || '/' ||
		       (SELECT count(*) FROM members WHERE subject = 's2') || '/' ||
		       (SELECT count(*) FROM contacts WHERE subject = 's2') || '/' ||
		       (SELECT count(*) FROM privacy.consent_state WHERE subject = 's2' AND granted)});
}

# 1. The subject's rows anonymized in all three tables, consents withdrawn.
my $summary = $coord->safe_psql('postgres', q{
	SELECT r -> 'tables' -> 'public.accounts' ->> 'anonymized', r -> 'tables' -> 'public.members' ->> 'anonymized',
	       r -> 'tables' -> 'public.contacts' ->> 'anonymized', r ->> 'consents_withdrawn'
	  FROM privacy.erase_subject('s1') r});
is($summary, '10|10|4|1', 'erase_subject: 10 + 10 + 4 rows anonymized, one consent withdrawn');
is($coord->safe_psql('postgres', q{
	SELECT (SELECT count(*) FROM accounts WHERE subject = 's1') + (SELECT count(*) FROM members WHERE subject = 's1')
	     + (SELECT count(*) FROM contacts WHERE subject = 's1')}), '0', 'no row names the subject any more');
is($coord->safe_psql('postgres', q{
	SELECT (SELECT count(*) FROM accounts) || '/' || (SELECT count(*) FROM members) || '/' || (SELECT count(*) FROM contacts)}),
	'50/50/20', 'no row lost or added (the members rows moved to their new shard)');
is($coord->safe_psql('postgres', q{
	SELECT string_agg(DISTINCT name::text, ',') FROM (
	  SELECT name FROM accounts WHERE id % 5 = 1 UNION ALL SELECT name FROM members WHERE n % 5 = 1
	  UNION ALL SELECT name FROM contacts WHERE id % 5 = 1) s}), 'A***,C***,M***',
	'the encrypted names hold their masked values');
is($coord->safe_psql('postgres', q{
	SELECT count(*) FILTER (WHERE name::text LIKE '%***') || '/' || count(DISTINCT plan) || '/' ||
	       bool_and(privacy.envelope_key_id(name) = (SELECT key_id FROM privacy.data_keys WHERE name = 'k'))::int
	  FROM accounts}), '10/1/1', 'only the subject\'s rows changed; the masked values are sealed under the column\'s key');
is($coord->safe_psql('postgres', q{
	SELECT count(*) FROM members m JOIN (SELECT DISTINCT subject FROM members WHERE n % 5 = 1) s USING (subject)}),
	'10', 'the moved members rows are found by their new distribution value');
is($coord->safe_psql('postgres', q{
	SELECT count(DISTINCT result) FROM run_command_on_placements('contacts',
	  $$SELECT md5(string_agg(x::text, ',' ORDER BY id)) FROM %s x$$)}), '1',
	'every placement of the reference table holds the same bytes after the erasure');
is($coord->safe_psql('postgres', q{
	SELECT bool_and(result = '4') FROM run_command_on_placements('contacts',
	  $$SELECT count(*) FROM %s WHERE name::text LIKE '%%***'$$)}), 't',
	'the anonymized values decrypt on every node');
is($coord->safe_psql('postgres', "SELECT count(*) FROM privacy.consent_state WHERE subject = 's1' AND granted"),
	'0', 'the subject\'s consent is withdrawn');

# 2. All or nothing: one node's part fails, nothing changes anywhere.
my $w2 = $workers[1];
my $w2port = $w2->port;
is(state(), '10/10/4/1', 's2 before: its rows and its consent');
my $before = placements_digest();
my ($ref_shard) = $coord->safe_psql('postgres', q{
	SELECT shard_name('contacts', shardid) FROM pg_dist_shard WHERE logicalrelid = 'contacts'::regclass});
# (a trigger on a shard, made on the worker itself, as a DBA would by hand)
my $manual = 'SET citus.enable_ddl_propagation = off; SET citus.enable_manual_changes_to_shards = on;';
$w2->safe_psql('postgres', qq{$manual
	CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS \$\$BEGIN RAISE EXCEPTION 'node refuses'; END\$\$;
	CREATE TRIGGER refuse BEFORE UPDATE ON $ref_shard FOR EACH ROW EXECUTE FUNCTION refuse();
});
my ($rc, $out, $err) = $coord->psql('postgres', "SELECT privacy.erase_subject('s2')");
isnt($rc, 0, 'erase_subject fails when the reference table\'s placement on one worker refuses');
like($err, qr/node refuses/, 'with that node\'s error');
is(state(), '10/10/4/1', 'after the failure: every row and the consent as before');
is(placements_digest(), $before, 'every placement of every table unchanged, on every node');
$w2->safe_psql('postgres', "$manual DROP TRIGGER refuse ON $ref_shard");

# The same with a failing shard of the hash-distributed table: the shard on
# its worker that receives the moved rows (the masked subject's shard).
my $masked_subject = $coord->safe_psql('postgres', 'SELECT subject FROM members WHERE n = 1');
my ($target_shard, $target_port) = split /\|/, $coord->safe_psql('postgres', qq{
	SELECT shard_name('members', s.shardid), n.nodeport
	  FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid) JOIN pg_dist_node n USING (groupid)
	 WHERE s.shardid = get_shard_id_for_distribution_column('members', '$masked_subject'::text)});
my ($target) = grep { $_->port == $target_port } @workers;
my @member_shards = ($target_shard);
$target->safe_psql('postgres', "$manual CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS \$\$BEGIN RAISE EXCEPTION 'node refuses'; END\$\$")
  if $target != $w2;
$target->safe_psql('postgres', $manual . join '', map { "CREATE TRIGGER refuse BEFORE INSERT ON $_ FOR EACH ROW EXECUTE FUNCTION refuse();\n" } @member_shards);
($rc, $out, $err) = $coord->psql('postgres', "SELECT privacy.erase_subject('s2')");
isnt($rc, 0, 'erase_subject fails when a shard on one worker refuses the anonymized rows');
is(placements_digest(), $before, 'again nothing changed on any node');
$target->safe_psql('postgres', $manual . join '', map { "DROP TRIGGER refuse ON $_;\n" } @member_shards);
is($coord->safe_psql('postgres', "SELECT privacy.erase_subject('s2') ->> 'rows'"), '24',
	'without the triggers the same erasure goes through');
is(state(), '0/0/0/0', 's2 erased everywhere');

# 3. A table without a row identity is refused.
$coord->safe_psql('postgres', q{
	CREATE TABLE notes (subject text, body text);
	SELECT create_reference_table('notes');
	INSERT INTO notes VALUES ('s3', 'x');
	SELECT privacy.protect_table('notes', 'subject', on_erase => 'anonymize');
	SELECT privacy.set_mask('notes', 'subject', 'redact');
});
($rc, $out, $err) = $coord->psql('postgres', "SELECT privacy.erase_subject('s3')");
like($err, qr/cannot anonymize the rows of Citus table public\.notes: it has no primary key/,
	'a Citus table without a primary key: refused, with the reason');
is($coord->safe_psql('postgres', "SELECT count(*) FROM accounts WHERE subject = 's3'"), '10',
	'and nothing erased');

# 4. reencrypt of a reference table.
$coord->safe_psql('postgres', q{
	SELECT privacy.rotate_key('k');
	INSERT INTO contacts VALUES (100, 's9', 'New');
});
is($coord->safe_psql('postgres', q{
	SELECT string_agg(v || ':' || c, ',' ORDER BY v) FROM
	  (SELECT privacy.envelope_key_version(name) v, count(*) c FROM contacts GROUP BY 1) s}),
	'1:20,2:1', 'before reencrypt: 20 values under version 1');
is($coord->safe_psql('postgres', q{
	BEGIN; SELECT privacy.reencrypt('contacts', 'name', 7); ROLLBACK;
	SELECT count(DISTINCT result) || '/' || min(result) FROM run_command_on_placements('contacts',
	  $$SELECT count(*) FROM %s WHERE privacy.envelope_key_version(name) = 1$$)}), "20\n1/20",
	'reencrypt in a transaction rolled back: 20 rewritten, then every placement as before');
is($coord->safe_psql('postgres', "SELECT privacy.reencrypt('contacts', 'name', 7)"), '20',
	'reencrypt of a reference table: 20 rows rewritten');
is($coord->safe_psql('postgres', q{
	SELECT string_agg(result, ',') FROM (SELECT DISTINCT result FROM run_command_on_placements('contacts',
	  $$SELECT string_agg(DISTINCT privacy.envelope_key_version(name)::text, ',') FROM %s$$)) s}), '2',
	'every placement: every value under version 2');
is($coord->safe_psql('postgres', q{
	SELECT count(DISTINCT result) || '/' || count(*) FROM run_command_on_placements('contacts',
	  $$SELECT md5(string_agg(name::bytea::text, ',' ORDER BY id)) FROM (SELECT id, privacy.encrypted_text_send(name) name FROM %s) x$$)}),
	'1/3', 'the placements hold the same envelopes, byte for byte');
is($coord->safe_psql('postgres', q{
	SELECT string_agg(DISTINCT result, ',') FROM run_command_on_placements('contacts',
	  $$SELECT count(*) FILTER (WHERE name::text LIKE 'Contact%%' OR name::text LIKE 'C***' OR name::text = 'New') FROM %s$$)}),
	'21', 'every value decrypts on every node');
is($coord->safe_psql('postgres', "SELECT privacy.reencrypt('contacts', 'name')"), '0',
	'reencrypt again: nothing to do');

# 5. Static masking of Citus tables: refused, not a silent no-op.
for my $t ('accounts', 'contacts')
{
	($rc, $out, $err) = $coord->psql('postgres', "SELECT privacy.anonymize_table('$t')");
	like($err, qr/cannot anonymize public\.$t: static masking of Citus tables is not supported/,
		"anonymize_table($t): refused with the reason");
}
($rc, $out, $err) = $coord->psql('postgres', "SELECT privacy.anonymize_database()");
like($err, qr/static masking of Citus tables is not supported/, 'anonymize_database(): refused too');

$cluster->stop;
done_testing();
