# Static masking is all or nothing across a crash.  A backend killed with
# SIGKILL in the middle of privacy.anonymize_table() costs a crash restart;
# after recovery every row is exactly in its old state (the run never
# committed), and every encrypted value decrypts.  A run that committed
# just before a crash is there in full after recovery.  A hot standby
# refuses to run it.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PrivacyExtNode;
use Test::More;
use Time::HiRes qw(usleep);

my $rows = 150000;
my $node = PrivacyExtNode::new_node('anon', PrivacyExtNode::random_key_hex(),
	allows_streaming => 1, conf => "restart_after_crash = on\n");
$node->safe_psql('postgres', qq{
	CREATE EXTENSION privacy_ext;
	SELECT privacy.create_key('hr');
	CREATE TABLE people (id int PRIMARY KEY, email text NOT NULL, ssn privacy.encrypted_text('hr'));
	INSERT INTO people SELECT g, 'user' || g || '\@example.com', lpad(g::text, 3, '0') || '-45-' || lpad(g::text, 4, '0')
	  FROM generate_series(1, $rows) g;
	SELECT privacy.set_mask('people', 'email', 'email');
	SELECT privacy.set_mask('people', 'ssn', 'partial(0, ''***-**-'', 4)');
	SELECT privacy.rotate_key('hr');
	CREATE TABLE people_before AS SELECT id, email, privacy.decrypt(ssn) AS ssn FROM people;
	CHECKPOINT;
});

# Each row: old (as before), new (as the default rules make it), or neither;
# decrypting every value also proves that each one still opens.
my $states = q{
	SELECT count(*) FILTER (WHERE p.email = b.email AND privacy.decrypt(p.ssn) = b.ssn) AS old,
	       count(*) FILTER (WHERE p.email = privacy.mask_email(b.email)
	                          AND privacy.decrypt(p.ssn) = '***-**-' || right(b.ssn, 4)
	                          AND privacy.envelope_key_version(p.ssn) = 2) AS new,
	       count(*) AS total
	  FROM people p FULL JOIN people_before b USING (id)};

# A hot standby refuses, before touching anything.
$node->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('anon_standby');
$standby->init_from_backup($node, 'base', has_streaming => 1);
$standby->start;
$node->wait_for_catchup($standby);
my ($ret, $out, $err) = $standby->psql('postgres', q{SELECT privacy.anonymize_table('people')});
isnt($ret, 0, 'a hot standby refuses anonymize_table');
like($err, qr/cannot anonymize tables during recovery/, '... with a clear message');
($ret, $out, $err) = $standby->psql('postgres', q{SELECT privacy.anonymize_database()});
like($err, qr/cannot anonymize tables during recovery/, '... and anonymize_database');
$standby->stop;

# Killed mid-run: the table's file grows as batches write new row versions;
# the backend is killed once a good part of them is written, while the
# statement is still running.
my $size0 = $node->safe_psql('postgres', q{SELECT pg_relation_size('people')});
my $bg = $node->background_psql('postgres', on_error_stop => 0);
my $pid = $bg->query_safe('SELECT pg_backend_pid()');
$bg->query_until(qr/started/, "\\echo started\nSELECT privacy.anonymize_table('people');\n");
my $grown = 0;
for (my $i = 0; $i < 600; $i++)
{
	my $size = $node->safe_psql('postgres', q{SELECT pg_relation_size('people')});
	if ($size > $size0 * 1.3) { $grown = 1; last; }
	usleep(50_000);
}
ok($grown, 'the run was writing new row versions');
is($node->safe_psql('postgres', qq{SELECT state FROM pg_stat_activity WHERE pid = $pid}),
	'active', 'and was still running when killed');
kill 'KILL', $pid;
eval { $bg->quit };
$node->poll_query_until('postgres', 'SELECT true') or die 'server did not come back';
ok($node->log_contains('terminated by signal 9'), 'it was a crash restart');
is($node->safe_psql('postgres', $states), "$rows|0|$rows",
	'after recovery: every row in its old state, every value decrypts');

# Committed, then a crash: the whole run is there after recovery.
is($node->safe_psql('postgres', q{SELECT privacy.anonymize_table('people')}), $rows,
	'a run to the end rewrites every row');
$bg = $node->background_psql('postgres', on_error_stop => 0);
$pid = $bg->query_safe('SELECT pg_backend_pid()');
my $restarts = () = slurp_file($node->logfile) =~ /terminated by signal 9/g;
kill 'KILL', $pid;
eval { $bg->quit };
$node->poll_query_until('postgres', 'SELECT true') or die 'server did not come back';
my $restarts_after = () = slurp_file($node->logfile) =~ /terminated by signal 9/g;
cmp_ok($restarts_after, '>', $restarts, 'a second crash restart');
is($node->safe_psql('postgres', $states), "0|$rows|$rows",
	'after recovery: every row in its new state, every value decrypts');

$node->stop;
done_testing();
