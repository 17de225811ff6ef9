# A deterministic distribution column (issue 21, point 4): a lookup by
# literal, by a literal cast to the column's type, by a text value and by
# a bind parameter (typed text, or left for the server to infer) goes to one
# shard (EXPLAIN: Task Count: 1) and finds its row; the hash is the same on
# every node (a worker routes the same lookup) and across a key rotation;
# co-located joins, GROUP BY and a primary key on the column work.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use FindBin;
use lib "$FindBin::RealBin/../../perl";
use PrivacyExtNode;
use CitusCluster;
use Test::More;

plan skip_all => 'Citus is not installed' unless CitusCluster::available();

my $cluster = CitusCluster->new('det', PrivacyExtNode::random_key_hex());
my $coord = $cluster->coordinator;
my @workers = $cluster->workers;

$coord->safe_psql('postgres', 'CREATE EXTENSION privacy_ext');
$coord->safe_psql('postgres', "SELECT privacy.create_key('k')");
$coord->safe_psql('postgres', q{
	CREATE TABLE people (email privacy.encrypted_text_det('k'), name privacy.encrypted_text('k'), n int);
	SELECT create_distributed_table('people', 'email');
	INSERT INTO people SELECT 'u' || i || '@x', 'name ' || i, i FROM generate_series(1, 100) i;
	CREATE TABLE orders (email privacy.encrypted_text_det('k'), amount int);
	SELECT create_distributed_table('orders', 'email', colocate_with => 'people');
	INSERT INTO orders SELECT 'u' || (i % 10 + 1) || '@x', i FROM generate_series(1, 50) i;
});

sub tasks
{
	my ($node, $sql) = @_;
	my $plan = $node->safe_psql('postgres', $sql);
	return $plan =~ /Task Count: (\d+)/ ? $1 : "no task count in:\n$plan";
}

is(tasks($coord, "EXPLAIN (COSTS OFF) SELECT n FROM people WHERE email = 'u7\@x'"), 1,
	'lookup by literal: one task');
is($coord->safe_psql('postgres', "SELECT n FROM people WHERE email = 'u7\@x'"), '7',
	'lookup by literal finds its row');
is(tasks($coord, "EXPLAIN (COSTS OFF) SELECT n FROM people"
	  . " WHERE 'u8\@x'::privacy.encrypted_text_det('k') = email"), 1,
	'lookup by a literal cast to the column type: one task');
is($coord->safe_psql('postgres', "SELECT n FROM people WHERE email = 'u9\@x'::text"), '9',
	'lookup by a text value finds its row');
is($coord->safe_psql('postgres', "SELECT count(*) FROM people WHERE email = 'nobody\@x'"), '0',
	'no row for another value');

# Every row is found by its own lookup: each went to the shard holding it.
my ($rc, $out, $err) = $coord->psql('postgres', q{
	DO $$
	DECLARE i int; got int; missed int := 0;
	BEGIN
		FOR i IN 1..100 LOOP
			EXECUTE format('SELECT n FROM people WHERE email = %L', 'u' || i || '@x') INTO got;
			IF got IS DISTINCT FROM i THEN missed := missed + 1; END IF;
		END LOOP;
		RAISE NOTICE 'missed %', missed;
	END $$});
like($err, qr/missed 0\b/, 'every one of 100 rows found by its single-shard lookup');

# Bind parameters: typed text, and left to the server; custom plans first,
# then the generic plan (the sixth execution on).
my $prepared = $coord->safe_psql('postgres', q{
	PREPARE typed(text) AS SELECT n FROM people WHERE email = $1;
	PREPARE open_type AS SELECT n FROM people WHERE email = $1;
	EXECUTE typed('u1@x'); EXECUTE typed('u2@x'); EXECUTE typed('u3@x');
	EXECUTE typed('u4@x'); EXECUTE typed('u5@x'); EXECUTE typed('u6@x');
	EXECUTE typed('u7@x');
	EXECUTE open_type('u11@x'); EXECUTE open_type('u12@x'); EXECUTE open_type('u13@x');
	EXECUTE open_type('u14@x'); EXECUTE open_type('u15@x'); EXECUTE open_type('u16@x');
	EXECUTE open_type('u17@x');
	EXPLAIN (COSTS OFF) EXECUTE typed('u1@x');
	EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE open_type('u18@x');
});
my @lines = split /\n/, $prepared;
is(join(',', @lines[0 .. 13]), '1,2,3,4,5,6,7,11,12,13,14,15,16,17',
	'prepared lookups (text and untyped parameters, custom and generic plans) find their rows');
my @counts = ($prepared =~ /Task Count: (\d+)/g);
is_deeply(\@counts, [1, 1], 'prepared lookups: one task each');

# The same hash on a worker: Citus's metadata is synced, a worker routes too.
is($workers[0]->safe_psql('postgres', "SELECT n FROM people WHERE email = 'u42\@x'"), '42',
	'a worker routes the same lookup to the same row');
is(tasks($workers[1], "EXPLAIN (COSTS OFF) SELECT n FROM people WHERE email = 'u42\@x'"), 1,
	'a worker plans it as one task');

# A rotation moves no row: deterministic values stay under version 1.
$coord->safe_psql('postgres', "SELECT privacy.rotate_key('k')");
$coord->safe_psql('postgres', "INSERT INTO people VALUES ('late\@x', 'Late', 101)");
is($coord->safe_psql('postgres', "SELECT n FROM people WHERE email = 'u3\@x'"), '3',
	'after rotate_key: an old row found by lookup');
is($coord->safe_psql('postgres', "SELECT n FROM people WHERE email = 'late\@x'"), '101',
	'after rotate_key: a new row found by lookup');
is($coord->safe_psql('postgres', "SELECT count(*) FROM people WHERE privacy.envelope_key_version(email) <> 1"),
	'0', 'deterministic values are all under version 1');

# Joins, GROUP BY and uniqueness on the distribution column.
is($coord->safe_psql('postgres', q{
	SELECT count(*), sum(o.amount) FROM people p JOIN orders o ON o.email = p.email}), '50|1275',
	'co-located join on the deterministic column');
is($coord->safe_psql('postgres', q{
	SELECT p.n, count(*) FROM people p JOIN orders o USING (email)
	 WHERE p.email = 'u1@x' GROUP BY p.n}), '1|5', 'join with a lookup');
is(tasks($coord, q{EXPLAIN (COSTS OFF) SELECT * FROM people p JOIN orders o USING (email)
	 WHERE p.email = 'u1@x'}), 1, 'join with a lookup: one task');
is($coord->safe_psql('postgres', q{
	SELECT string_agg(c::text, ',' ORDER BY e) FROM
	  (SELECT email::text AS e, count(*) AS c FROM orders GROUP BY email) s}),
	'5,5,5,5,5,5,5,5,5,5', 'GROUP BY the deterministic column');
$coord->safe_psql('postgres', q{
	CREATE TABLE accounts (email privacy.encrypted_text_det('k') PRIMARY KEY, v int);
	SELECT create_distributed_table('accounts', 'email');
	INSERT INTO accounts VALUES ('a@x', 1), ('b@x', 2);
});
($rc, $out, $err) = $coord->psql('postgres', "INSERT INTO accounts VALUES ('a\@x', 3)");
like($err, qr/duplicate key value violates unique constraint/, 'primary key on the column: a duplicate refused');
is($coord->safe_psql('postgres', q{
	INSERT INTO accounts VALUES ('a@x', 3) ON CONFLICT (email) DO UPDATE SET v = EXCLUDED.v;
	SELECT v FROM accounts WHERE email = 'a@x'}), '3', 'ON CONFLICT on the column');

# A plan kept across a destroy_key refuses to run (the key check travels
# with the constant to the worker).
($rc, $out, $err) = $coord->psql('postgres', q{
	PREPARE kept AS SELECT v FROM accounts WHERE email = 'b@x';
	EXECUTE kept;
	SELECT privacy.destroy_key('k', confirm => 'destroy k');
	EXECUTE kept;});
like($err, qr/destroyed/, 'a prepared lookup fails once its key is destroyed');

$cluster->stop;
done_testing();
