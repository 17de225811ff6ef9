# The audit trail of distributed queries (issue 21, point 5): at the
# coordinator, one event per statement, action, table column, key and role,
# named by table (never by shard), counting the rows of every shard, and
# attributed to the coordinator session's user, role and purpose.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use FindBin;
use lib "$FindBin::RealBin/../../perl";
use PrivacyExtNode;
use CitusCluster;
use Test::More;

plan skip_all => 'Citus is not installed' unless CitusCluster::available();

my $cluster = CitusCluster->new('audit', PrivacyExtNode::random_key_hex(),
	conf => "privacy.audit = 'log,table'\n");
my $coord = $cluster->coordinator;
my @workers = $cluster->workers;

$coord->safe_psql('postgres', q{
CREATE EXTENSION privacy_ext;
SELECT privacy.create_key('k');
SELECT privacy.create_purpose('analytics', 'consent');
CREATE ROLE reader LOGIN;
CREATE ROLE outsider LOGIN;
SELECT privacy.grant_key('k', 'reader');
SELECT privacy.grant_purpose('reader', 'analytics');
CREATE TABLE t (id int, email privacy.encrypted_text('k'));
SELECT create_distributed_table('t', 'id', shard_count => 32);
INSERT INTO t SELECT g, 'user' || g || '@example.com' FROM generate_series(1, 1000) g;
CREATE TABLE ref (id int, secret privacy.encrypted_text('k'));
SELECT create_reference_table('ref');
INSERT INTO ref SELECT g, 'secret ' || g FROM generate_series(1, 10) g;
CREATE TABLE plain (id int);
SELECT create_distributed_table('plain', 'id');
GRANT SELECT ON t, ref, plain TO reader, outsider;
});

# Events written after the mark, as action|object|count|key|session user|role|purpose.
sub mark { return $_[0]->safe_psql('postgres', 'SELECT coalesce(max(event_id), 0) FROM privacy.audit_log'); }
sub events_since
{
	my ($node, $mark, $actions) = @_;
	$actions //= "'decrypt', 'masked_read', 'unmask'";
	return $node->safe_psql('postgres', qq{
		SELECT action || '|' || coalesce(object, '') || '|' || count || '|' || coalesce(detail->>'key', '')
		       || '|' || session_user_name || '|' || current_role_name || '|' || coalesce(purpose, '')
		  FROM privacy.audit_log WHERE event_id > $mark AND action IN ($actions) ORDER BY event_id});
}
sub as_role
{
	my ($role, $sql) = @_;
	my ($ret, $out, $err) = $coord->psql('postgres', $sql, extra_params => [ '-U', $role ]);
	return ($ret, $out, $err);
}


# One statement as a role; returns its output, and fails the test on an error
# or on a relay message reaching the client.
my $client_msgs = '';
sub run_as
{
	my ($role, $sql, $name) = @_;
	my ($ret, $out, $err) = as_role($role, $sql);
	is($ret, 0, "$name: runs") or diag($err);
	$client_msgs .= $err;
	return $out;
}

# The coordinator's decrypt/masking events of one statement.
sub coord_events
{
	my ($role, $sql, $name) = @_;
	my $m = mark($coord);
	run_as($role, $sql, $name);
	return events_since($coord, $m);
}

my $set = "SET privacy.purpose = 'analytics'; ";
is(coord_events('reader', $set . 'SELECT privacy.decrypt(email) FROM t', 'multi-shard'),
	'decrypt|public.t.email|1000|k|reader|reader|analytics',
	'multi-shard query over 32 shards: one event at the coordinator, by table, count 1000');
is(coord_events('reader', $set . 'SELECT privacy.decrypt(email) FROM t WHERE id = 7', 'router'),
	'decrypt|public.t.email|1|k|reader|reader|analytics', 'router query: count 1');
is(coord_events('reader', $set . 'SELECT count(privacy.decrypt(email)) FROM t', 'aggregate'),
	'decrypt|public.t.email|1000|k|reader|reader|analytics', 'aggregate over decrypt: count 1000');
is(coord_events('reader', 'SELECT email::text FROM t WHERE id <= 100', 'cast'),
	'decrypt|public.t.email|100|k|reader|reader|', 'cast to text with a filter: count 100, no purpose');
is(coord_events('reader', $set . 'SELECT privacy.decrypt(secret) FROM ref', 'reference'),
	'decrypt|public.ref.secret|10|k|reader|reader|analytics',
	'reference table (read from a placement on the coordinator): named by table');
# The two events of one statement come in no set order (the reference
# table's counts are the coordinator's, the distributed table's relayed).
my @join_events = split(/\n/, coord_events('reader', $set . 'SELECT privacy.decrypt(t.email), privacy.decrypt(r.secret) '
	  . 'FROM t JOIN ref r ON r.id = t.id', 'join'));
is(join("\n", sort @join_events),
	"decrypt|public.ref.secret|10|k|reader|reader|analytics\ndecrypt|public.t.email|10|k|reader|reader|analytics",
	'join of a distributed and a reference table: one event per column');
is(coord_events('postgres', 'SET ROLE reader; ' . $set . 'SELECT privacy.decrypt(email) FROM t WHERE id <= 50',
	'set role'), 'decrypt|public.t.email|50|k|postgres|reader|analytics',
	"the coordinator session's identity: session user postgres, current role reader (the workers' sessions are reader's)");
is(coord_events('reader', 'SELECT count(*) FROM plain', 'plain'), '',
	'no protected column read: no event');

# The workers keep their own record, named by table and marked as relayed.
my $worker_sql = q{SELECT coalesce(sum(count) FILTER (WHERE object = 'public.t.email'), 0) || '|'
	  || count(*) FILTER (WHERE object NOT IN ('public.t.email', 'public.ref.secret')
	                         OR NOT coalesce((detail->>'relayed')::bool, false))
	  FROM privacy.audit_log WHERE action = 'decrypt'};
my @wsum = map { $_->safe_psql('postgres', $worker_sql) } @workers;
my ($wtotal, $wbad) = (0, 0);
for (@wsum) { my ($s, $b) = split /\|/; $wtotal += $s; $wbad += $b; }
ok($wtotal > 0, "workers' own events: $wtotal values decrypted there");
is($wbad, 0, "workers' own events: all named by table and marked relayed");

# Prepared statements (the generic plan after five runs) and a cursor.
is(coord_events('reader', $set . 'PREPARE p(int) AS SELECT privacy.decrypt(email) FROM t WHERE id = $1; '
	  . join(' ', map { "EXECUTE p($_);" } 1 .. 7), 'prepared'),
	join("\n", ('decrypt|public.t.email|1|k|reader|reader|analytics') x 7),
	'prepared router statement, 7 runs: 7 events of count 1');
is(coord_events('reader', $set . 'PREPARE q AS SELECT privacy.decrypt(email) FROM t; '
	  . join(' ', map { "EXECUTE q;" } 1 .. 6), 'prepared multi-shard'),
	join("\n", ('decrypt|public.t.email|1000|k|reader|reader|analytics') x 6),
	'prepared multi-shard statement, 6 runs: 6 events of count 1000');
my $cursor = coord_events('reader', $set . 'BEGIN; DECLARE c CURSOR FOR SELECT privacy.decrypt(email) FROM t; '
	  . 'FETCH 10 FROM c; FETCH 10 FROM c; CLOSE c; COMMIT', 'cursor');
my $csum = 0;
$csum += (split /\|/)[2] for split /\n/, $cursor;
is($csum, 1000, 'cursor: the workers decrypted every row for the first FETCH, all counted');
unlike($cursor, qr/^(?!decrypt\|public\.t\.email\|\d+\|k\|reader\|reader\|analytics$)/m,
	'cursor: events by table, for the reader');

# A failing statement: counts up to the error are still on record (the log:
# the table goes with the rollback), at the coordinator.
{
	my $log_pos = -s $coord->logfile;
	my ($ret, $out, $err) = as_role('reader',
		$set . 'SELECT privacy.decrypt(email), 1 / (id - 7) FROM t WHERE id = 7');
	isnt($ret, 0, 'failing router statement fails');
	$client_msgs .= $err;
	my $log = slurp_file($coord->logfile, $log_pos);
	like($log, qr/privacy_audit: \{[^\n]*"action":"decrypt"[^\n]*"current_role":"reader"[^\n]*"object":"public\.t\.email","count":1,/,
		'failing statement: its decrypt on the worker is logged at the coordinator');
}

# Masking: a masking view and transparent masking over a distributed table,
# counted as on a local copy of the same table.
$coord->safe_psql('postgres', q{
CREATE TABLE emp (id int PRIMARY KEY, name text, email text);
CREATE TABLE emp_local (id int PRIMARY KEY, name text, email text);
INSERT INTO emp SELECT g, 'Person ' || g, 'user' || g || '@example.com' FROM generate_series(1, 100) g;
INSERT INTO emp_local SELECT * FROM emp;
SELECT create_distributed_table('emp', 'id', shard_count => 8);
SELECT privacy.set_mask(tab, 'id', 'none'), privacy.set_mask(tab, 'email', 'email'),
       privacy.create_masking_view(tab) FROM (VALUES ('emp'), ('emp_local')) v(tab);
CREATE ROLE support LOGIN;
SELECT privacy.mask_role('support');
});
for my $case (['masking view', 'SELECT id, name, email FROM masked.%s'],
	['transparent masking', 'SELECT id, name, email FROM %s'],
	['masking view, router', 'SELECT email FROM masked.%s WHERE id = 3'])
{
	my ($what, $sql) = @$case;
	my $local = join("\n", sort split /\n/, coord_events('support', sprintf($sql, 'emp_local'), "$what, local"));
	$local =~ s/emp_local/emp/g;
	my $dist = join("\n", sort split /\n/, coord_events('support', sprintf($sql, 'emp'), "$what, distributed"));
	isnt($local, '', "$what: the local table has events");
	is($dist, $local, "$what: the distributed table's events at the coordinator are the local table's");
}

# Nowhere in the coordinator's trail a shard's name.
is($coord->safe_psql('postgres', q{SELECT count(*) FROM privacy.audit_log WHERE object ~ '_[0-9]{4,}'}), '0',
	"no shard name in the coordinator's privacy.audit_log");
unlike(slurp_file($coord->logfile), qr/privacy_audit: [^\n]*"object":"[^"]*_\d{4,}/,
	"no shard name in the coordinator's privacy_audit log lines");

# A forged relay by an ordinary role charges that role, and goes nowhere.
is(coord_events('outsider', q{DO $$BEGIN RAISE WARNING 'privacy_ext:audit-relay v1 decrypt public t email k 5'; END$$},
	'forged relay'), 'decrypt|public.t.email|5|k|outsider|outsider|',
	'a forged relay message: counts charged to the forger only');
is(coord_events('outsider', q{SET ROLE outsider; DO $$BEGIN RAISE WARNING 'privacy_ext:audit-relay v1 decrypt public t email k 5;bogus'; END$$},
	'malformed relay'), 'decrypt|public.t.email|5|k|outsider|outsider|',
	'a malformed item ends the message: the well-formed ones before it count');

# No relay text in any server log nor in what the clients were told.
unlike($client_msgs, qr/audit-relay/, 'no relay message reached a client');
for my $node ($cluster->nodes)
{
	unlike(slurp_file($node->logfile), qr/audit-relay/, 'no relay message in the log of ' . $node->name);
}

# citus.worker_min_messages above WARNING, or log_min_messages above
# WARNING on the coordinator, would drop the relay: such a statement is
# refused, a statement without protected columns runs.
for my $setting ('SET citus.worker_min_messages = error', 'SET citus.worker_min_messages = off')
{
	my ($ret, $out, $err) = as_role('reader', "$setting; SELECT count(privacy.decrypt(email)) FROM t");
	isnt($ret, 0, "$setting: a read of protected columns of a Citus table is refused");
	like($err, qr/cannot audit this statement.*Citus table "t".*citus\.worker_min_messages/s,
		"$setting: the error says why");
	is(run_as('reader', "$setting; SELECT count(*) FROM plain", "$setting, plain"), '0',
		"$setting: a table without protected columns is read");
}
{
	my ($ret, $out, $err) = $coord->psql('postgres',
		'SET log_min_messages = error; SELECT count(privacy.decrypt(email)) FROM t');
	isnt($ret, 0, 'log_min_messages = error on the coordinator: refused');
	like($err, qr/log_min_messages/, 'log_min_messages = error: the error says why');
	is(run_as('reader', 'SET citus.worker_min_messages = warning; SELECT count(privacy.decrypt(email)) FROM t',
		'warning'), '1000', 'citus.worker_min_messages = warning: runs');
}

# Parallel plans on the workers: their parallel workers' counts go up
# through the leader, and are written once on the node.
for my $w (@workers)
{
	$w->safe_psql('postgres', q{
		ALTER SYSTEM SET force_parallel_mode = on;
		ALTER SYSTEM SET parallel_setup_cost = 0;
		ALTER SYSTEM SET parallel_tuple_cost = 0;
		ALTER SYSTEM SET min_parallel_table_scan_size = 0;
		SELECT pg_reload_conf();
	});
}
my %wmark = map { $_->name => mark($_) } @workers;
is(coord_events('reader', $set . 'SELECT count(privacy.decrypt(email)) FROM t', 'parallel on the workers'),
	'decrypt|public.t.email|1000|k|reader|reader|analytics',
	'parallel plans on the workers: the coordinator counts 1000');

# The same on a worker, in a session named as Citus names its own (anyone
# may): a parallel plan over one shard; its client gets one relay with the
# shard's count, and the node's table and log the statement's one event
# (the parallel workers hand their counts to the leader, README "Audit
# trail"), each value once.
{
	my $w = $workers[0];
	my $shard = $w->safe_psql('postgres', q{SET citus.override_table_visibility = off;
		SELECT relname FROM pg_class WHERE relname ~ '^t_[0-9]+$' ORDER BY relname LIMIT 1});
	my $rows = $w->safe_psql('postgres', "SET citus.override_table_visibility = off; SELECT count(*) FROM $shard");
	my $wm = mark($w);
	my $log_pos = -s $w->logfile;
	my ($ret, $out, $err) = $w->psql('postgres',
		"SET citus.override_table_visibility = off; SET parallel_leader_participation = off; "
		  . "SELECT count(privacy.decrypt(email)) FROM $shard",
		extra_params => [ '-U', 'reader' ],
		connstr => 'dbname=postgres application_name=citus_internal_test');
	is($out, $rows, "parallel scan of shard $shard on a worker: $rows rows");
	my @relays = $err =~ /privacy_ext:audit-relay v1 ([^\n]*)/g;
	is(join(',', @relays), "decrypt public t email k $rows",
		'one relay message with the parallel workers\' counts and the leader\'s');
	my $own = $w->safe_psql('postgres', "SELECT count(*) || ':' || coalesce(sum(count), 0) FROM privacy.audit_log "
		  . "WHERE event_id > $wm AND action = 'decrypt'");
	my $logged = 0;
	$logged += $_ for slurp_file($w->logfile, $log_pos) =~ /privacy_audit: [^\n]*"object":"public\.t\.email","count":(\d+)/g;
	is($own, "1:$rows",
		"the node's table has the statement's one event, the parallel workers' counts in it (the leader not participating)");
	is($logged, $rows, 'the node\'s log has every value once (leader and parallel workers)');
}

$cluster->stop;
done_testing();
