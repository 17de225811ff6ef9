# Crashes at the worst moment.  Each operation that changes encrypted data,
# key material or consent is stopped dead in the middle - its backend killed
# with SIGKILL (the postmaster then restarts every process and replays the
# WAL) or the postmaster killed with SIGKILL and its children with it (the
# next start runs crash recovery) - and afterwards:
#   - no value is lost or unreadable: every row decrypts, to its old or its
#     new state, and exactly one of them;
#   - a destroyed key is fully destroyed (no version opens, PXK02, status
#     'destroyed', no grants) or fully intact (every version opens);
#   - an erasure is all or nothing, its audit event with it;
#   - consent answers (has_consent, and the rows a purpose sees through kept
#     consent sets) equal privacy.consent_state;
#   - amcheck's bt_index_check passes on every index of a deterministic column.
# The crash points:
#   1. reencrypt of a CRASH_ROWS-row table (default 200000 here; `make soak`
#      runs it with 1000000), parked at a random row by a lock another
#      session holds, twice (backend, then postmaster);
#   2. destroy_key stopped before it changed anything, and after it has
#      made its catalog changes but before its commit overwrites the key
#      material (a lock held by another session parks it there, so the
#      moment is exact);
#   3. erase_subject over three tables, parked after deleting from all of
#      them, before it withdraws the consents;
#   4. a burst of consent changes from two writers while two readers keep
#      consent sets, killed twice (a writer backend, then the postmaster).
# rewrap_keys and anonymize_table have crash tests of their own, in the
# branches that add them.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PrivacyExtNode;
use Test::More;
use Time::HiRes qw(usleep);

my $rows = $ENV{CRASH_ROWS} // 200000;
my $crash_points = 0;

# Crash recovery after a rewrite of 1M rows can take longer than pg_ctl's
# default 60 s under load; frequent checkpoints keep the WAL to replay short.
$ENV{PGCTLTIMEOUT} = ($PostgreSQL::Test::Utils::timeout_default || 180) * 3;
my $node = PrivacyExtNode::new_node('crash', PrivacyExtNode::random_key_hex(),
	conf => "restart_after_crash = on\nmax_prepared_transactions = 5\n"
	  . "max_wal_size = 256MB\ncheckpoint_timeout = 30s\n"
	  . "log_line_prefix = '%m [%p] %e '\nprivacy.audit = 'log,table'\n");

$node->safe_psql('postgres', q{
	CREATE EXTENSION privacy_ext;
	CREATE EXTENSION amcheck;
	SELECT privacy.create_key('hr');
	CREATE ROLE crm LOGIN;
	SELECT privacy.grant_key('hr', 'crm');
});

# Wait until the backend running a statement matching $like is waiting on a
# lock (or, with $state 'active', simply running it).
sub wait_for_backend
{
	my ($like, $wait) = @_;
	my $cond = $wait eq 'lock' ? "wait_event_type = 'Lock'" : "state = 'active'";
	$node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE query LIKE '$like' AND $cond")
	  or die "backend running $like never got to $wait";
	return $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE query LIKE '$like' AND $cond");
}

# Whether a process is still running (an exited child of the killed
# postmaster may stay a zombie here, with nothing left to hold).
sub alive
{
	my ($pid) = @_;
	open(my $fh, '<', "/proc/$pid/stat") or return 0;
	my $stat = <$fh>;
	close($fh);
	return defined $stat && $stat =~ /\) (\S)/ && $1 ne 'Z';
}

# The two ways to crash: SIGKILL to one backend (the postmaster's crash
# restart), or SIGKILL to the postmaster (crash recovery at the next start).
sub crash
{
	my ($how, $pid) = @_;
	$crash_points++;
	if ($how eq 'backend')
	{
		my $log_offset = -s $node->logfile;

		kill 'KILL', $pid;
		# The postmaster notices, restarts all processes and replays the WAL.
		# Wait for that in the log: polling at once can reach the server
		# before it saw the crash, or while its psql dies on "in recovery
		# mode" before it read the query (a broken pipe, seen in CI).
		$node->wait_for_log(qr/all server processes terminated; reinitializing/, $log_offset);
		$node->wait_for_log(qr/database system is ready to accept connections/, $log_offset);
		$node->poll_query_until('postgres', 'SELECT true')
		  or die 'the server did not come back after a crash';
	}
	else
	{
		# SIGKILL to the postmaster, then to its children: a backend busy in
		# a loop (the consent writers) would not notice the postmaster gone
		# for a long time, and the next start needs them gone.  The whole
		# server dies at once, as in a power cut (less the OS page cache).
		my ($postmaster) = slurp_file($node->data_dir . '/postmaster.pid') =~ /^(\d+)/
		  or die 'no postmaster.pid';
		my @children = grep { /^\d+$/ } split /\s+/, `pgrep -P $postmaster`;
		my $log_offset = -s $node->logfile;
		$node->kill9;
		kill 'KILL', @children if @children;
		for (1 .. 600)
		{
			last unless grep { alive($_) } @children;
			usleep(100_000);
		}
		# The start refuses while the old postmaster's pid exists, even as a
		# zombie nobody has reaped yet: wait for it, and if it stays a zombie,
		# remove its lock file, as an administrator would for a dead server.
		for (1 .. 300)
		{
			last unless -e "/proc/$postmaster";
			usleep(100_000);
		}
		unlink($node->data_dir . '/postmaster.pid')
		  if -e "/proc/$postmaster" && !alive($postmaster);
		$node->start;
		ok($node->log_contains('database system was interrupted', $log_offset),
			'after a SIGKILL of the postmaster, the start ran crash recovery');
	}
}

# amcheck on every btree index over a column of a deterministic type
# (PostgreSQL 15's amcheck has no check for hash indexes).
sub check_det_indexes
{
	my ($label) = @_;
	my $indexes = $node->safe_psql('postgres', q{
		SELECT string_agg(DISTINCT i.indexrelid::regclass::text, ',')
		  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		  JOIN pg_am am ON am.oid = c.relam AND am.amname = 'btree'
		  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
		 WHERE a.atttypid = 'privacy.encrypted_text_det'::regtype});
	ok($indexes ne '', "$label: there are deterministic-column indexes to check ($indexes)");
	my ($ret, $out, $err) = $node->psql('postgres', q{
		SELECT bt_index_check(i.indexrelid, true)
		  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		  JOIN pg_am am ON am.oid = c.relam AND am.amname = 'btree'
		 WHERE EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = i.indrelid
		                AND a.attnum = ANY (i.indkey)
		                AND a.atttypid = 'privacy.encrypted_text_det'::regtype)});
	is($ret . $err, '0', "$label: bt_index_check (with heapallindexed) passes on $indexes");
}

######################################################################
# 1. reencrypt of a large table
######################################################################
$node->safe_psql('postgres', qq{
	CREATE TABLE big (id int PRIMARY KEY, ssn privacy.encrypted_text('hr'),
	                  email privacy.encrypted_text_det('hr'));
	INSERT INTO big SELECT g, 'ssn-' || g, 'u' || g || '\@example.com'
	  FROM generate_series(1, $rows) g;
	CREATE INDEX big_email ON big (email);
	SELECT privacy.rotate_key('hr');
});

# Every row as it was written, in the old or the new version, nothing else.
sub check_big
{
	my ($label, $old, $new) = @_;
	my $bad = $node->safe_psql('postgres', qq{
		SELECT count(*) FILTER (WHERE privacy.decrypt(ssn) IS DISTINCT FROM 'ssn-' || id)
		       || ' ' || count(*) FILTER (WHERE privacy.decrypt(email) IS DISTINCT FROM 'u' || id || '\@example.com')
		       || ' ' || count(*) FILTER (WHERE privacy.envelope_key_version(ssn) NOT IN ($old, $new))
		       || ' ' || count(*)
		  FROM big});
	is($bad, "0 0 0 $rows", "$label: all $rows rows decrypt to what was written, under version $old or $new");
	is($node->safe_psql('postgres', q{
		SET enable_seqscan = off;
		SELECT id FROM big WHERE email = 'u4242@example.com'}), '4242',
		"$label: an equality lookup through the deterministic index finds its row");
}

for my $how ('backend', 'postmaster')
{
	my $from = $node->safe_psql('postgres', q{SELECT active_version FROM privacy.keys WHERE name = 'hr'});
	# A row at a random place is locked by another session: the rewrite,
	# in batches of 5000 rows, waits there with part of the table rewritten
	# (or, if it leaves locked rows for its final pass, all but that row).
	my $locked = int($rows * (0.1 + rand(0.8)));
	my $holder = $node->background_psql('postgres');
	$holder->query_safe("BEGIN; SELECT 1 FROM big WHERE id = $locked FOR UPDATE");
	my $bg = $node->background_psql('postgres', on_error_stop => 0);
	$bg->query_until(qr/started/, "\\echo started\nSELECT privacy.reencrypt('big', 'ssn', 5000);\n");
	my $pid = wait_for_backend('SELECT privacy.reencrypt%', 'lock');
	ok($pid, "reencrypt ($how kill): under way, waiting at row $locked, when killed");
	crash($how, $pid);
	eval { $bg->quit };
	eval { $holder->quit };
	check_big("reencrypt killed ($how)", $from - 1 > 0 ? $from - 1 : 1, $from);
	check_det_indexes("reencrypt killed ($how)");
	# The interrupted rewrite runs to the end afterwards.
	$node->safe_psql('postgres', q{SELECT privacy.reencrypt('big', 'ssn')});
	check_big("reencrypt rerun after the $how crash", $from, $from);
	$node->safe_psql('postgres', q{SELECT privacy.rotate_key('hr')}) if $how eq 'backend';
}

######################################################################
# 2. destroy_key
######################################################################
# A key with three versions, each in use, and a grant.
sub make_doomed
{
	my ($name) = @_;
	$node->safe_psql('postgres', qq{
		SELECT privacy.create_key('$name');
		SELECT privacy.grant_key('$name', 'crm');
		CREATE TABLE t_$name (v int, r privacy.encrypted_text('$name'), d privacy.encrypted_text_det('$name'));
		CREATE INDEX ON t_$name (d);
		INSERT INTO t_$name VALUES (1, 'one', 'one');
		SELECT privacy.rotate_key('$name');
		INSERT INTO t_$name VALUES (2, 'two', 'two');
		SELECT privacy.rotate_key('$name');
		INSERT INTO t_$name VALUES (3, 'three', 'three');
	});
}

# Fully intact or fully destroyed; returns which.
sub key_state
{
	my ($name, $label) = @_;
	my @opened;
	for my $v (1 .. 3)
	{
		my ($ret, $out, $err) = $node->psql('postgres',
			"SELECT privacy.decrypt(r) || '/' || privacy.decrypt(d) FROM t_$name WHERE v = $v",
			extra_params => [ '-v', 'VERBOSITY=verbose' ]);
		push @opened, $ret == 0 ? "ok:$out" : ($err =~ /ERROR:\s+([0-9A-Z]{5}):/ ? "err:$1" : "err:$err");
	}
	my $catalog = $node->safe_psql('postgres', qq{
		SELECT status || ' ' || coalesce(array_length(granted_to, 1), 0) FROM privacy.keys WHERE name = '$name'});
	my ($ret, $out, $err) = $node->psql('postgres', "INSERT INTO t_$name VALUES (4, 'four', 'four')",
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	my $write = $ret == 0 ? 'ok' : ($err =~ /ERROR:\s+([0-9A-Z]{5}):/ ? "err:$1" : "err:$err");
	$node->safe_psql('postgres', "DELETE FROM t_$name WHERE v = 4");
	my $state = join(' ', @opened, $catalog, $write);
	note("$label: $state");
	return 'intact' if $state eq 'ok:one/one ok:two/two ok:three/three active 1 ok';
	return 'destroyed' if $state eq 'err:PXK02 err:PXK02 err:PXK02 destroyed 0 err:PXK02';
	return "half: $state";
}

# The material is overwritten only at the commit (key_admin.c, queue_wipe):
# a crash before it leaves the key whole, wherever the function was.
for my $case (['before', 'privacy.data_keys', 'intact'], ['before_commit', 'privacy.data_key_versions', 'intact'])
{
	my ($name, $lock_table, $want) = @$case;
	my $key = "doomed_$name";
	make_doomed($key);
	is(key_state($key, "$key before"), 'intact', "destroy_key $name: the key works before");
	# Another session holds the row destroy_key has to update next.
	my $holder = $node->background_psql('postgres');
	$holder->query_safe("BEGIN; SELECT 1 FROM $lock_table WHERE key_id = (SELECT id FROM privacy.keys WHERE name = '$key') FOR UPDATE");
	my $bg = $node->background_psql('postgres', on_error_stop => 0);
	$bg->query_until(qr/started/, "\\echo started\nSELECT privacy.destroy_key('$key', 'destroy $key');\n");
	my $pid = wait_for_backend('SELECT privacy.destroy_key%', 'lock');
	# Whatever it wrote so far reaches the WAL on disk, as any other commit would make it.
	$node->safe_psql('postgres', 'SELECT pg_switch_wal()');
	crash('backend', $pid);
	eval { $bg->quit };
	eval { $holder->quit };
	is(key_state($key, "$key after the crash"), $want,
		"destroy_key killed $name: the key is fully $want");
	# Running it again afterwards does (or completes) the destruction, once.
	is($node->safe_psql('postgres', "SELECT privacy.destroy_key('$key', 'destroy $key')"), 't',
		"destroy_key killed $name: run again, it succeeds");
	my ($ret, $out, $err) = $node->psql('postgres', "SELECT privacy.destroy_key('$key', 'destroy $key')",
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	like($err, qr/PXK02/, "destroy_key killed $name: and a third time the key is already destroyed");
	is(key_state($key, "$key destroyed again"), 'destroyed', "destroy_key killed $name: then fully destroyed");
	is($node->safe_psql('postgres', qq{
		SELECT destroyed_at IS NOT NULL FROM privacy.keys WHERE name = '$key';
		SELECT count(*) FROM privacy.data_key_versions v JOIN privacy.keys k ON k.id = v.key_id
		 WHERE k.name = '$key' AND v.wrapped_key IS NOT NULL}), "t\n0",
		"destroy_key killed $name: the catalog says destroyed, no wrapped key is left");
	check_det_indexes("destroy_key killed $name");
}

######################################################################
# 3. erase_subject over several tables
######################################################################
$node->safe_psql('postgres', q{
	SELECT privacy.create_purpose('marketing', 'consent');
	SELECT privacy.grant_purpose('crm', 'marketing');
	CREATE TABLE people (pid text PRIMARY KEY, email privacy.encrypted_text_det('hr'), ssn privacy.encrypted_text('hr'));
	CREATE TABLE orders (oid int PRIMARY KEY, pid text REFERENCES people, item privacy.encrypted_text('hr'));
	CREATE TABLE notes (nid int PRIMARY KEY, pid text, body privacy.encrypted_text('hr'));
	CREATE INDEX ON people (email);
	INSERT INTO people SELECT 's' || g, 's' || g || '@example.com', 'ssn' || g FROM generate_series(1, 50) g;
	INSERT INTO orders SELECT g, 's' || (g % 50 + 1), 'item' || g FROM generate_series(1, 1000) g;
	INSERT INTO notes SELECT g, 's' || (g % 50 + 1), 'note' || g FROM generate_series(1, 1000) g;
	SELECT privacy.protect_table('people', 'pid');
	SELECT privacy.protect_table('orders', 'pid');
	SELECT privacy.protect_table('notes', 'pid');
	SELECT privacy.grant_consent('s' || g, 'marketing') FROM generate_series(1, 50) g;
});
my $subject_rows = q{
	SELECT (SELECT count(*) FROM people WHERE pid = 's7') || ' ' ||
	       (SELECT count(*) FROM orders WHERE pid = 's7') || ' ' ||
	       (SELECT count(*) FROM notes WHERE pid = 's7') || ' ' ||
	       privacy.has_consent('s7', 'marketing') || ' ' ||
	       (SELECT count(*) FROM privacy.audit_log WHERE action = 'erase' AND object = 's7')};
is($node->safe_psql('postgres', $subject_rows), '1 20 20 true 0', 'erase_subject: the subject has rows in three tables');
for my $how ('backend', 'postmaster')
{
	my $holder = $node->background_psql('postgres');
	$holder->query_safe(q{BEGIN; SELECT 1 FROM privacy.consent_state WHERE subject = 's7' FOR UPDATE});
	my $bg = $node->background_psql('postgres', on_error_stop => 0);
	my $pid = $bg->query_safe('SELECT pg_backend_pid()');
	$bg->query_until(qr/started/, "\\echo started\nSELECT privacy.erase_subject('s7');\n");
	wait_for_backend('SELECT privacy.erase_subject%', 'lock');
	$node->safe_psql('postgres', 'SELECT pg_switch_wal()');
	crash($how, $pid);
	eval { $bg->quit };
	eval { $holder->quit };
	is($node->safe_psql('postgres', $subject_rows), '1 20 20 true 0',
		"erase_subject killed ($how) after its deletes: nothing of it remains, no audit event");
	check_det_indexes("erase_subject killed ($how)");
}
$node->safe_psql('postgres', q{SELECT privacy.erase_subject('s7')});
is($node->safe_psql('postgres', $subject_rows), '0 0 0 false 1', 'erase_subject rerun: all of it');

######################################################################
# 4. a burst of consent changes, with kept consent sets in other backends
######################################################################
$node->safe_psql('postgres', q{
	CREATE TABLE crowd (person text PRIMARY KEY, email privacy.encrypted_text_det('hr'));
	INSERT INTO crowd SELECT 'm' || g, 'm' || g || '@example.com' FROM generate_series(1, 2000) g;
	CREATE INDEX ON crowd (email);
	SELECT privacy.protect_table('crowd', 'person');
	GRANT SELECT ON crowd TO crm;
	SELECT privacy.grant_consent('m' || g, 'marketing') FROM generate_series(1, 2000, 2) g;
});
# What consent_state says, and what the answers say.
my $truth = q{SELECT count(*) FROM privacy.consent_state
	WHERE purpose = 'marketing' AND subject LIKE 'm%' AND granted};
my $answers = q{SELECT count(*) FROM crowd WHERE privacy.has_consent(person, 'marketing')};
my $visible = q{SET ROLE crm; SET privacy.purpose = 'marketing'; SELECT count(*) FROM crowd};
my $writer_sql = q{
	DO $$
	BEGIN
	  FOR i IN 1..1000000 LOOP
	    IF random() < 0.5 THEN
	      PERFORM privacy.grant_consent('m' || (1 + floor(random() * 2000))::int, 'marketing');
	    ELSE
	      PERFORM privacy.withdraw_consent('m' || (1 + floor(random() * 2000))::int, 'marketing');
	    END IF;
	    COMMIT;
	  END LOOP;
	END $$;
};
for my $how ('backend', 'postmaster')
{
	my @readers = map { $node->background_psql('postgres', on_error_stop => 0) } 1 .. 2;
	for my $r (@readers)
	{
		$r->query_safe($visible);
		$r->query_safe($visible);
		is($r->query_safe('RESET ROLE; SELECT count(*) FROM privacy.consent_cache_info()'), '1',
			"consent burst ($how): a reader keeps a consent set");
		$r->query_safe($visible);
	}
	my @writers = map { $node->background_psql('postgres', on_error_stop => 0) } 1 .. 2;
	my @pids = map { $_->query_safe('SELECT pg_backend_pid()') } @writers;
	$_->query_until(qr/started/, "\\echo started\n$writer_sql\n") for @writers;
	# Readers read while the writers change consents.
	for (1 .. 10)
	{
		$_->query($visible) for @readers;
		usleep(100_000);
	}
	crash($how, $pids[0]);
	eval { $_->quit } for @writers, @readers;
	my $t = $node->safe_psql('postgres', $truth);
	is($node->safe_psql('postgres', $answers), $t, "consent burst killed ($how): has_consent equals consent_state ($t)");
	my $r = $node->background_psql('postgres');
	is($r->query_safe($visible), $t, "consent burst killed ($how): the rows a purpose sees equal consent_state");
	is($r->query_safe($visible), $t, "consent burst killed ($how): again, from a kept set");
	$r->query_safe('RESET ROLE');
	is($r->query_safe('SELECT count(*) FROM privacy.consent_cache_info()'), '1',
		"consent burst killed ($how): sets are kept again");
	$node->safe_psql('postgres', q{SELECT privacy.withdraw_consent('m1', 'marketing'); SELECT privacy.grant_consent('m2', 'marketing')});
	$t = $node->safe_psql('postgres', $truth);
	is($r->query_safe("SET ROLE crm; $visible"), $t, "consent burst killed ($how): later changes reach the kept set");
	$r->quit;
	check_det_indexes("consent burst killed ($how)");
}

######################################################################
# The log: the crashes were crashes, and nothing internal was raised.
######################################################################
my $log = slurp_file($node->logfile);
my $kills = () = $log =~ /terminated by signal 9/g;
ok($kills >= 1, "the backend kills were crash restarts ($kills)");
unlike($log, qr/TRAP:|\] XX00[012] /, 'no assertion failure and no internal or corruption error in the log');
note("crash points tried: $crash_points");
is($crash_points, 8, 'eight crash points were tried');

$node->stop;
done_testing();
