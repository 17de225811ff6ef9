# No plaintext and no decrypted value in any server log line.  A battery of
# failing statements (and a few warnings), each carrying a distinctive
# plaintext SECRET-<n>-XYZ or decrypting one, runs against a server with
# PostgreSQL's default logging, then with the settings the README
# recommends, then with statement logging turned up (log_statement = all,
# durations, parameters, auto_explain, debug_print_plan); after each run the
# server log written since is searched for the markers.  The client, which
# was allowed to decrypt, still gets the values in its error messages.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use IPC::Run;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PrivacyExtNode;
use Test::More;

my $root_hex = PrivacyExtNode::random_key_hex();
# PostgreSQL::Test::Cluster logs every statement; PostgreSQL's default is none.
my $node = PrivacyExtNode::new_node('log_secrets', $root_hex, conf => "log_statement = none\n");

# The fixture's own plaintexts (SECRET-1nn-XYZ) come back only decrypted.
$node->safe_psql('postgres', q{
	CREATE EXTENSION privacy_ext;
	SELECT privacy.create_key('lk');
	SELECT privacy.create_key('gone');
	CREATE TABLE people (id int PRIMARY KEY, ssn privacy.encrypted_text('lk'),
	                     email privacy.encrypted_text_det('lk') UNIQUE, note text UNIQUE,
	                     old privacy.encrypted_text('gone'));
	INSERT INTO people VALUES (1, 'SECRET-100-XYZ', 'SECRET-101-XYZ', NULL, NULL),
	                          (2, 'SECRET-102-XYZ', 'SECRET-103-XYZ', NULL, NULL);
	SELECT privacy.destroy_key('gone', 'destroy gone');
	CREATE TABLE customers (customer_id text PRIMARY KEY, card privacy.encrypted_text('lk'));
	INSERT INTO customers VALUES ('c1', 'SECRET-104-XYZ');
	SELECT privacy.protect_table('customers', 'customer_id');
	CREATE TYPE pair AS (a int, s privacy.encrypted_text('lk'));
	CREATE TABLE bundles (id int, arr privacy.encrypted_text('lk')[], p pair);
	-- a masked table (plain columns): its constraint violations quote rows
	CREATE TABLE contacts (id int PRIMARY KEY, email text UNIQUE, age int CHECK (age > 0));
	INSERT INTO contacts VALUES (1, 'SECRET-105-XYZ', 30);
	SELECT privacy.set_mask('contacts', 'id', 'none');
	SELECT privacy.set_mask('contacts', 'email', 'email');
	SELECT privacy.create_masking_view('contacts');
	CREATE TABLE contact_refs (email text REFERENCES contacts (email));
	-- a consent-protected table (plain columns), written by its owner, who
	-- bypasses the policy: its rows are personal data all the same
	CREATE TABLE members (member_id text PRIMARY KEY, phone text UNIQUE, age int CHECK (age > 0));
	INSERT INTO members VALUES ('m1', 'SECRET-106-XYZ', 30);
	SELECT privacy.protect_table('members', 'member_id');
	INSERT INTO contact_refs VALUES ('SECRET-105-XYZ');
	CREATE TABLE locks (id int PRIMARY KEY, v text);
	INSERT INTO locks VALUES (1, 'a'), (2, 'b');
	CREATE FUNCTION dec_int(e privacy.encrypted_text) RETURNS int LANGUAGE plpgsql
	    AS $$BEGIN RETURN privacy.decrypt(e)::int; END$$;
	CREATE FUNCTION warn_on(t text) RETURNS void LANGUAGE plpgsql
	    AS $$BEGIN RAISE WARNING 'checked a value'; END$$;
	-- decrypts, then ends its transaction: the value is still in v
	CREATE PROCEDURE dec_commit() LANGUAGE plpgsql
	    AS $$DECLARE v text; BEGIN SELECT privacy.decrypt(ssn) INTO v FROM people WHERE id = 1; COMMIT; PERFORM v::int; END$$;
	CREATE FUNCTION insert_dynamic(t text) RETURNS void LANGUAGE plpgsql
	    AS $$BEGIN EXECUTE format('INSERT INTO people (id, ssn) VALUES (1, %L)', t); END$$;
	-- checked at COMMIT: a deferred unique constraint and a constraint trigger
	CREATE TABLE copies (d text UNIQUE DEFERRABLE INITIALLY DEFERRED);
	CREATE TABLE checked (d text);
	CREATE FUNCTION check_later() RETURNS trigger LANGUAGE plpgsql
	    AS $$BEGIN RAISE EXCEPTION 'bad value %', NEW.d; END$$;
	CREATE CONSTRAINT TRIGGER checked_later AFTER INSERT ON checked DEFERRABLE INITIALLY DEFERRED
	    FOR EACH ROW EXECUTE FUNCTION check_later();
	-- scanned by parallel workers (plans forced by $parallel below)
	CREATE TABLE big (id int, ssn privacy.encrypted_text('lk'), p text);
	INSERT INTO big SELECT g, 'SECRET-' || (1000 + g) || '-XYZ', 'p' || g FROM generate_series(1, 2000) g;
	ANALYZE big;
	-- RETURN QUERY runs its query in parallel; the caller casts the rows
	CREATE FUNCTION big_ssn() RETURNS SETOF text LANGUAGE plpgsql
	    AS $$BEGIN RETURN QUERY SELECT privacy.decrypt(ssn) FROM big WHERE privacy.decrypt(ssn) LIKE '%1999-XYZ'; END$$;
	-- decrypts in a parallel index build's workers, not in its leader,
	-- which scans too but slowly, leaving most blocks to the workers
	CREATE FUNCTION worker_decrypt(e privacy.encrypted_text) RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
	    AS $$BEGIN IF pg_backend_pid()::text = current_setting('px_test.leader', true) THEN
	              PERFORM pg_sleep(0.005); RETURN NULL; END IF;
	          RETURN privacy.decrypt(e); END$$;
});
# A file_fdw table with an encrypted column: its file holds plaintext, and
# a malformed first line (one column too many) is quoted by file_fdw's
# CONTEXT line before any value of it is parsed.
my $fdw_file = $node->basedir . '/foreign_rows.csv';
open(my $fdw_fh, '>', $fdw_file) or die "could not write $fdw_file: $!";
print $fdw_fh "1,SECRET-60-XYZ,extra\n2,SECRET-61-XYZ\n";
close($fdw_fh);
$node->safe_psql('postgres', qq{
	CREATE EXTENSION file_fdw;
	CREATE SERVER files FOREIGN DATA WRAPPER file_fdw;
	CREATE FOREIGN TABLE foreign_people (id int, ssn privacy.encrypted_text('lk'))
	    SERVER files OPTIONS (filename '$fdw_file', format 'csv');
});
# Parallel plans on the small table, all rows read by the workers: the
# leader decrypts nothing itself.
my $parallel = q{SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
	SET max_parallel_workers_per_gather = 2; SET parallel_leader_participation = off;};
my $envelope = $node->safe_psql('postgres', 'SELECT ssn::text FROM people WHERE id = 1');
# One character of the ciphertext changed: it fails authentication.
my $tampered = $envelope;
substr($tampered, -6, 1) = substr($tampered, -6, 1) eq 'A' ? 'B' : 'A';

# Each entry: one psql script; its ERRORs count as failing statements.
my @battery = (
	# errors of the extension
	q{INSERT INTO people VALUES (10, privacy.encrypt('SECRET-1-XYZ', 'nosuchkey'), NULL, NULL, NULL);},
	q{SELECT 'SECRET-2-XYZ'::privacy.encrypted_text('nosuchkey');},
	q{INSERT INTO people (id, old) VALUES (11, 'SECRET-3-XYZ');},
	qq{SELECT privacy.decrypt('$tampered'::privacy.encrypted_text), 'SECRET-4-XYZ';},
	q{SELECT privacy.encrypt('SECRET-5-XYZ', 'gone');},
	q{SELECT 'SECRET-6-XYZ'::privacy.encrypted_text_det('nosuchkey');},
	q{INSERT INTO people (id, ssn) VALUES (12, $$SECRET-7-XYZ$$::text::privacy.encrypted_text('nosuchkey'));},
	q{INSERT INTO people (id, ssn) VALUES (13, $q$SECRET-8-XYZ$q$::privacy.encrypted_text('nosuchkey'));},
	# errors of PostgreSQL in a statement that binds a literal
	q{INSERT INTO people VALUES (1, 'SECRET-9-XYZ', 'SECRET-10-XYZ', NULL, NULL);},
	q{INSERT INTO people VALUES (14, 'SECRET-11-XYZ', 'SECRET-101-XYZ', NULL, NULL);},
	q{INSERT INTO people VALUES (15, 'SECRET-12-XYZ', NULL, NULL, NULL) RETURNING nosuchcol;},
	q{INSERT INTO people VALUES (16, 'SECRET-13-XYZ', NULL, NULL, NULL) RETURNING id +;},
	q{INSERT INTO people VALUES (17, 'SECRET-14-XYZ' RETURNING id;},
	q{UPDATE people SET ssn = 'SECRET-15-XYZ' WHERE id = 1 / 0;},
	q{INSERT INTO people (id, ssn) VALUES (18, E'SECRET-16-XYZ\'s' || nosuchcol);},
	q{INSERT INTO people (id, ssn) VALUES (19, U&'SECRET-17-XYZ') RETURNING 1 / 0;},
	# several statements in one simple query string
	q{SELECT 1 \; INSERT INTO people VALUES (20, 'SECRET-18-XYZ', NULL, NULL, NULL) \; SELECT 1 / 0;},
	q{SELECT 1 / 0 \; INSERT INTO people VALUES (21, 'SECRET-19-XYZ', NULL, NULL, NULL);},
	q{SELECT privacy.decrypt(ssn) FROM people WHERE id = 1 \; SELECT 1 / 0;},
	# a COMMIT between them ends the transaction, not the string's marks
	q{SELECT set_config('px_test.v', privacy.decrypt(ssn), false) FROM people WHERE id = 1 \; COMMIT \;
	  SELECT current_setting('px_test.v')::int;},
	# standard_conforming_strings off: a backslash-escaped quote
	q{SET standard_conforming_strings = off;
	  INSERT INTO people (id, ssn) VALUES (1, 'it\'s SECRET-20-XYZ');},
	q{SET standard_conforming_strings = off \; INSERT INTO people (id, ssn) VALUES (1, 'it\'s SECRET-21-XYZ');},
	# COPY: its CONTEXT line quotes the row or the column value
	qq{COPY people (id, ssn, email) FROM stdin;\n22\tSECRET-22-XYZ\tSECRET-23-XYZ\textra\n\\.\n},
	qq{COPY people (id, ssn, email) FROM stdin;\n23\tSECRET-24-XYZ\n\\.\n},
	qq{COPY people (id, ssn) FROM stdin;\n24\tSECRET-25-XYZ\n1\tSECRET-26-XYZ\n\\.\n},
	# an array or composite column: the message quotes the field
	qq{COPY bundles (id, arr) FROM stdin;\n60\t{SECRET-50-XYZ,"SECRET-51-XYZ}\n\\.\n},
	qq{COPY bundles (id, p) FROM stdin;\n61\t(1,SECRET-52-XYZ\n\\.\n},
	qq{COPY bundles FROM stdin;\nSECRET-53-XYZ\t{}\t(1,x)\n\\.\n},
	# a masked table read in clear: a message quoting one of its values
	q{SELECT email::int FROM contacts;},
	q{SELECT c.id FROM contacts c JOIN people p ON p.id = c.id WHERE c.email::int > 0;},
	# into a masked table: a value one column off is quoted by its message
	qq{COPY contacts FROM stdin;\n7\t30\tSECRET-69-XYZ\n\\.\n},
	# the same into a consent-protected table
	qq{COPY members FROM stdin;\nm7\tx\tSECRET-70-XYZ\n\\.\n},
	# decrypted values in PostgreSQL's messages
	q{SELECT privacy.decrypt(ssn)::int FROM people WHERE id = 1;},
	q{SELECT privacy.decrypt(ssn)::date FROM people WHERE id = 1;},
	q{SELECT privacy.decrypt(ssn)::json FROM people WHERE id = 1;},
	q{SELECT privacy.export_subject('c1')::text::int;},
	q{INSERT INTO people (id, note) SELECT 25 + id, privacy.decrypt(ssn) FROM people WHERE id = 1
	  UNION ALL SELECT 27, privacy.decrypt(ssn) FROM people WHERE id = 1;},
	# decrypted values in privacy_ext's own messages, which quote a name
	q{SELECT privacy.encrypt('x', privacy.decrypt(ssn)) FROM people WHERE id = 1;},
	q{SELECT privacy.has_consent('s1', privacy.decrypt(ssn)) FROM people WHERE id = 1;},
	q{SELECT set_config('privacy.purpose', privacy.decrypt(ssn), false) FROM people WHERE id = 1;},
	# decrypted in a parallel worker, the error rethrown by the leader
	q{SET force_parallel_mode = on; SELECT privacy.decrypt(ssn)::int FROM people;},
	q{SET force_parallel_mode = regress; SELECT privacy.decrypt(ssn)::date FROM people;},
	# decrypted in parallel workers, the value failing in the leader after
	# the parallel part has ended: in the same statement (RETURN QUERY), in a
	# later statement of the transaction (CREATE TABLE AS, SELECT INTO,
	# REFRESH MATERIALIZED VIEW)
	qq{$parallel\n} . q{SELECT v::int FROM big_ssn() v;},
	qq{$parallel\n} . q{BEGIN; CREATE TEMP TABLE par_x AS SELECT privacy.decrypt(ssn) AS s FROM big
	  WHERE privacy.decrypt(ssn) LIKE '%1777-XYZ'; SELECT s::int FROM par_x; ROLLBACK;},
	qq{$parallel\n} . q{BEGIN; SELECT privacy.decrypt(ssn) AS s INTO TEMP par_y FROM big
	  WHERE privacy.decrypt(ssn) LIKE '%1555-XYZ'; SELECT s::date FROM par_y; ROLLBACK;},
	qq{$parallel\n} . q{BEGIN; CREATE MATERIALIZED VIEW par_mv AS SELECT privacy.decrypt(ssn) AS s FROM big
	  WHERE privacy.decrypt(ssn) LIKE '%1333-XYZ' WITH NO DATA; REFRESH MATERIALIZED VIEW par_mv;
	  SET LOCAL max_parallel_workers_per_gather = 0; SELECT s::int FROM par_mv; ROLLBACK;},
	# a plaintext written into the wrong column: PostgreSQL's message quotes it
	q{INSERT INTO people (id, ssn) VALUES ('SECRET-38-XYZ', 'x');},
	# written with escapes, which the message decodes
	q{INSERT INTO people (id, ssn) VALUES (E'\x53ECRET-54-XYZ', 'y');},
	q{INSERT INTO people (id, ssn) VALUES (U&'\0053ECRET-55-XYZ', 'y');},
	q{INSERT INTO people (id, ssn) VALUES (E'\123ECRET-56-XYZ', 'y');},
	# quoted by a CONTEXT line, whole or cut short
	q[SELECT '{"ssn": "SECRET-57-XYZ"'::jsonb;],
	q[SELECT '{"ssn": "SECRET-58-XYZ" x}'::jsonb;],
	# and into the wrong argument: the extension's error names the "key"
	q{SELECT privacy.encrypt('lk', 'SECRET-46-XYZ');},
	q{INSERT INTO people (id, note, ssn) VALUES (32, NULL, 'x'), (NULL, 'SECRET-39-XYZ', 'y');},
	# PL/pgSQL: QUERY and CONTEXT lines
	q{SELECT dec_int(ssn) FROM people WHERE id = 1;},
	q{SELECT insert_dynamic('SECRET-27-XYZ');},
	q{DO $$BEGIN EXECUTE format('INSERT INTO people (id, ssn) VALUES (%s, %L)', 1, 'SECRET-28-XYZ'); END$$;},
	q{DO $$BEGIN EXECUTE 'INSERT INTO people (id, ssn) VALUES (28, ' || quote_literal('SECRET-29-XYZ') || ') RETURNING nosuch'; END$$;},
	q{DO $$DECLARE v text; BEGIN SELECT privacy.decrypt(ssn) INTO v FROM people WHERE id = 1; PERFORM v::int; END$$;},
	q{DO $$BEGIN RAISE EXCEPTION 'failed on %', (SELECT privacy.decrypt(ssn) FROM people WHERE id = 2); END$$;},
	# decrypted values checked at COMMIT (deferred constraint, constraint trigger)
	q{BEGIN; INSERT INTO copies SELECT privacy.decrypt(ssn) FROM people WHERE id = 1;
	  INSERT INTO copies SELECT privacy.decrypt(ssn) FROM people WHERE id = 1; COMMIT;},
	q{BEGIN; INSERT INTO checked SELECT privacy.decrypt(ssn) FROM people WHERE id = 2; COMMIT;},
	q{INSERT INTO checked SELECT privacy.decrypt(ssn) FROM people WHERE id = 2;},
	# a decrypted value spliced into dynamic SQL as text or as a name
	q{DO $$DECLARE v text; BEGIN SELECT privacy.decrypt(ssn) INTO v FROM people WHERE id = 1; EXECUTE format('SELECT %s', v); END$$;},
	q{DO $$DECLARE v text; BEGIN SELECT privacy.decrypt(ssn) INTO v FROM people WHERE id = 1; EXECUTE format('SELECT 1 FROM %I', v); END$$;},
	# ... failing or warning as it runs: the CONTEXT line quotes the SQL, the name in it
	q{DO $$DECLARE v text; BEGIN SELECT privacy.decrypt(ssn) INTO v FROM people WHERE id = 1; EXECUTE format('SELECT 1/0 AS %I', v); END$$;},
	q{DO $$DECLARE v text; BEGIN SELECT privacy.decrypt(ssn) INTO v FROM people WHERE id = 1;
	  EXECUTE format('SELECT pg_terminate_backend(999999) AS %I', v) INTO v; END$$;},
	# a procedure's or DO block's COMMIT / ROLLBACK after a decryption
	q{CALL dec_commit();},
	q{DO $$DECLARE v text; BEGIN SELECT privacy.decrypt(ssn) INTO v FROM people WHERE id = 1; COMMIT; RAISE WARNING 'got %', v; END$$;},
	q{DO $$DECLARE v text; BEGIN SELECT privacy.decrypt(ssn) INTO v FROM people WHERE id = 1; ROLLBACK; EXECUTE format('SELECT 1 FROM %I', v); END$$;},
	q{DO $$DECLARE v text; BEGIN SELECT privacy.decrypt(ssn) INTO v FROM people WHERE id = 2; COMMIT;
	  INSERT INTO people (id, note) VALUES (40, v), (41, v); END$$;},
	# a WITH HOLD cursor: its rows are decrypted at COMMIT and fetched in
	# later transactions, which decrypt nothing themselves
	qq{BEGIN;\nDECLARE held CURSOR WITH HOLD FOR SELECT privacy.decrypt(ssn) FROM people WHERE id IN (1, 2) ORDER BY id;\nCOMMIT;\n}
	  . q{DO $$DECLARE r refcursor := 'held'; v text; BEGIN FETCH r INTO v; PERFORM v::int; END$$;} . "\n"
	  . q{DO $$DECLARE r refcursor := 'held'; v text; BEGIN FETCH r INTO v; RAISE EXCEPTION 'got %', v; END$$;} . "\n",
	qq{DECLARE held2 CURSOR WITH HOLD FOR SELECT privacy.decrypt(ssn) FROM people WHERE id = 1;\n}
	  . q{DO $$DECLARE r refcursor := 'held2'; v text; BEGIN FETCH r INTO v; PERFORM v::date; END$$;} . "\n",
	# a foreign table's bad first line, read and copied
	q{SELECT * FROM foreign_people;},
	q{INSERT INTO people (id, ssn) SELECT id + 100, ssn FROM foreign_people;},
	# PREPARE / EXECUTE
	q{PREPARE ins(int, privacy.encrypted_text) AS INSERT INTO people (id, ssn) VALUES ($1, $2);
	  EXECUTE ins(1, 'SECRET-30-XYZ');
	  EXECUTE ins(29, 'SECRET-31-XYZ'::text::privacy.encrypted_text('nosuchkey'));},
	# a transaction block
	q{BEGIN; INSERT INTO people VALUES (30, 'SECRET-32-XYZ', NULL, NULL, NULL);
	  SELECT nosuchfunction('SECRET-33-XYZ'); ROLLBACK;},
	# log_min_error_statement lowered: warnings and errors with their statement
	q{SET log_min_error_statement = warning;
	  SELECT warn_on('SECRET-34-XYZ');
	  INSERT INTO people VALUES (1, 'SECRET-35-XYZ', NULL, NULL, NULL);
	  DO $$BEGIN RAISE WARNING 'value %', (SELECT privacy.decrypt(ssn) FROM people WHERE id = 2); END$$;},
);

# Extended protocol: pgbench binds :v as parameter $1.
my @pgbench_battery = (
	[ 'INSERT INTO people (id, ssn) VALUES (1, :v);', 'v=SECRET-36-XYZ' ],
	[ 'INSERT INTO people (id, ssn) VALUES (31, :v::privacy.encrypted_text(\'nosuchkey\'));', 'v=SECRET-37-XYZ' ],
	[ 'SELECT privacy.decrypt(ssn)::int FROM people WHERE id = :v;', 'v=1' ],
	# a masked table's constraint violations, the value a parameter: the
	# detail (Key (email)=(...), Failing row contains (...)) is not logged
	[ 'INSERT INTO contacts VALUES (2, :v, 5);', 'v=SECRET-105-XYZ' ],
	[ 'INSERT INTO contacts VALUES (3, :v, -5);', 'v=SECRET-68-XYZ' ],
	[ 'DELETE FROM contacts WHERE email = :v;', 'v=SECRET-105-XYZ' ],
	# and a consent-protected table's, written by its owner
	[ 'INSERT INTO members VALUES (\'m2\', :v, 5);', 'v=SECRET-106-XYZ' ],
	[ 'INSERT INTO members VALUES (\'m3\', :v, -5);', 'v=SECRET-71-XYZ' ],
);

sub run_battery
{
	my ($label) = @_;
	my $errors = 0;
	my $client_saw_value = 0;
	for my $sql (@battery)
	{
		my ($ret, $out, $err) = $node->psql('postgres', $sql, on_error_stop => 0);
		my $n = () = $err =~ /^(?:psql:[^\n]*)?ERROR:  /mg;
		$errors += $n;
		$client_saw_value++ if $err =~ /SECRET-10[0-4]-XYZ/;
	}
	my $i = 0;
	for my $case (@pgbench_battery)
	{
		my ($script, $var) = @$case;
		my $file = $node->basedir . '/pgbench_' . $i++ . '.sql';
		open(my $fh, '>', $file) or die "could not write $file: $!";
		print $fh "$script\n";
		close($fh);
		my ($out, $err) = ('', '');
		IPC::Run::run(
			[ 'pgbench', '-n', '-M', 'extended', '-t', '1', '-D', $var, '-f', $file,
			  '-h', $node->host, '-p', $node->port, 'postgres' ],
			'>', \$out, '2>', \$err);
		$errors++ if $err =~ /ERROR:  /;
		$client_saw_value++ if $err =~ /SECRET-10[0-4]-XYZ/;
	}
	# A deadlock between two sessions: the report quotes both statements.
	my @sessions;
	for my $order ([ 1, 2 ], [ 2, 1 ])
	{
		my ($first, $second) = @$order;
		my $script = "BEGIN;\nUPDATE locks SET v = 'SECRET-4$first-XYZ' WHERE id = $first;\n"
		  . "SELECT pg_sleep(1);\nUPDATE locks SET v = 'SECRET-4$second-XYZ'\n WHERE id = $second;\nCOMMIT;\n";
		my $file = $node->basedir . "/deadlock_$first.sql";
		open(my $fh, '>', $file) or die "could not write $file: $!";
		print $fh $script;
		close($fh);
		my ($out, $err) = ('', '');
		push @sessions, [ IPC::Run::start(
			[ 'psql', '-X', '-d', $node->connstr('postgres'), '-f', $file ],
			'>', \$out, '2>', \$err), \$err ];
	}
	for my $session (@sessions)
	{
		$session->[0]->finish;
		$errors++ if ${ $session->[1] } =~ /ERROR:  deadlock detected/;
	}
	note "$label: $errors failing statements, the client saw a decrypted value $client_saw_value times";
	return ($errors, $client_saw_value);
}

sub check_log
{
	my ($label, $offset, $min_errors) = @_;
	my ($errors, $client_saw_value) = run_battery($label);
	my $log = slurp_file($node->logfile, $offset);
	my @lines = split /\n/, $log;
	my @leaks = grep { /SECRET-\d+-XYZ/ } @lines;
	cmp_ok($errors, '>=', $min_errors, "$label: the battery has at least $min_errors failing statements");
	cmp_ok($client_saw_value, '>=', 5, "$label: the client still gets the decrypted values in its errors");
	my $logged_errors = grep { /\bERROR:  / } @lines;
	cmp_ok($logged_errors, '>=', $errors, "$label: every error is in the server log");
	ok((grep { /STATEMENT:  INSERT INTO people VALUES \(\*\*\*, '\*\*\*'/ } @lines),
		"$label: STATEMENT lines keep the statement's shape");
	ok((grep { /ERROR:  invalid input syntax for type %s: "%s"/ } @lines),
		"$label: a core error on a decrypted value is logged without the value");
	ok((grep { /ERROR:  invalid input syntax for type integer: "\*\*\*"$/ } @lines),
		"$label: a literal quoted back by PostgreSQL's message is masked");
	ok((grep { /ERROR:  privacy_ext key "\*\*\*" does not exist$/ } @lines),
		"$label: a literal quoted back by the extension's error is masked");
	ok((grep { /DETAIL:  The values of this message are not logged: the statement wrote a masked or consent-protected table/ } @lines),
		"$label: a masked or consent-protected table's constraint violation is logged without its detail");
	ok((grep { /WARNING:  %s$/ } @lines),
		"$label: a warning quoting a decrypted value is logged without it");
	ok((grep { /^\s*Process \d+: UPDATE locks SET v = '\*\*\*'$/ } @lines),
		"$label: the deadlock report is logged, without its statements' constants");
	is(scalar(@leaks), 0, "$label: no plaintext in " . scalar(@lines) . " log lines")
	  or diag(join("\n", @leaks));
	return scalar(@lines);
}

my $offset = -s $node->logfile;
check_log('default logging', $offset, 30);

# A parallel index build's workers decrypt: the leader's transaction is
# marked as a serial build's would be (the later error is logged without
# its values, as after a decryption).
$offset = -s $node->logfile;
$node->psql('postgres', q{SET max_parallel_maintenance_workers = 2; SET min_parallel_table_scan_size = 0;
	SET maintenance_work_mem = '256MB';
	BEGIN;
	SELECT set_config('px_test.leader', pg_backend_pid()::text, true);
	CREATE INDEX par_idx ON big ((worker_decrypt(ssn)));
	SELECT 'VISIBLE-7-XYZ'::int AS after_parallel_index;
	ROLLBACK;});
like(slurp_file($node->logfile, $offset),
	qr/ERROR:  invalid input syntax for type %s: "%s"\n[^\n]*DETAIL:  The values of this message are not logged: the statement decrypted protected data\.\n[^\n]*STATEMENT:  SELECT '\*\*\*'::int AS after_parallel_index/,
	'a parallel index build that decrypted in its workers marks the transaction');

# The settings the README recommends ("Keeping plaintext out of logs").
$node->append_conf('postgresql.conf', q{
log_statement = 'none'
log_min_duration_statement = -1
log_min_duration_sample = -1
log_transaction_sample_rate = 0
log_parameter_max_length = 0
log_parameter_max_length_on_error = 0
log_min_error_statement = error
privacy.log_statement_literals = hidden
});
$node->restart;
$offset = -s $node->logfile;
check_log('README settings', $offset, 30);

# Statement logging turned up: the lines PostgreSQL writes before the
# statement runs go through the hook too (the inventory still flags these).
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'privacy_ext, auto_explain'
log_statement = 'all'
log_min_duration_statement = 0
log_parameter_max_length = -1
log_parameter_max_length_on_error = -1
log_min_error_statement = info
auto_explain.log_min_duration = 0
auto_explain.log_analyze = on
auto_explain.log_verbose = on
auto_explain.log_nested_statements = on
debug_print_plan = on
});
$node->restart;
$offset = -s $node->logfile;
my $checked = check_log('statement logging on', $offset, 30);
my $log = slurp_file($node->logfile, $offset);
like($log, qr/LOG:  statement: INSERT INTO people VALUES \(\*\*\*, '\*\*\*'/,
	'statement logging: the statement is logged without its constants');
like($log, qr/parameters: \$1 = '\*\*\*'/, 'bind parameters are logged as placeholders');
like($log, qr/execute <unnamed>: INSERT INTO people \(id, ssn\) VALUES \(\*\*\*, \$1\)/,
	'extended protocol: the executed statement is logged without its constants');
like($log, qr/Query Text: INSERT INTO people/, 'auto_explain plans are logged');

# auto_explain's JSON and YAML plans quote the SQL in JSON strings.
my $plan_id = 50;
for my $format ('json', 'yaml')
{
	$offset = -s $node->logfile;
	$plan_id++;
	$node->psql('postgres', qq{SET auto_explain.log_format = $format;
		INSERT INTO people (id, ssn) VALUES ($plan_id, 'SECRET-47-XYZ');
		SELECT id FROM people WHERE privacy.decrypt(ssn) = 'SECRET-48-XYZ' AND E'\\x53ECRET-49-XYZ"' <> "note";});
	$log = slurp_file($node->logfile, $offset);
	like($log, qr/"?Query Text"?: "INSERT INTO people \(id, ssn\) VALUES \(\*\*\*, '\*\*\*'\)/,
		"auto_explain $format: the plan's query text is logged without its constants");
	like($log, qr/"?Filter"?: "\(\('\*\*\*'::text <> people\.note\) AND \(privacy\.decrypt\(people\.ssn\) = '\*\*\*'::text\)\)"/,
		"auto_explain $format: the plan's conditions are logged without their string constants");
	unlike($log, qr/SECRET-\d+-XYZ/, "auto_explain $format: no plaintext in the plans");
}

# The query text of a plan is a statement's text: its numbers are
# constants, as on a STATEMENT line (a number cast into an encrypted
# column is a plaintext), and so are the numbers of the plan's
# expressions (a PIN compared with a decrypted value); the plan's own
# figures (costs, rows) are kept.
for my $format ('text', 'json', 'yaml')
{
	$offset = -s $node->logfile;
	$node->psql('postgres', qq{SET auto_explain.log_format = $format;
		INSERT INTO people (id, ssn) VALUES (60, 471147114711::text);
		SELECT id FROM people WHERE privacy.decrypt(ssn) = 471147114712::text;
		SELECT id FROM people WHERE id::numeric <> 471147114713 AND length(privacy.decrypt(ssn)) <> 4711471
		    ORDER BY id + 4711472;
		DELETE FROM people WHERE id = 60;});
	$log = slurp_file($node->logfile, $offset);
	like($log, qr/"?Query Text"?: "?INSERT INTO people \(id, ssn\) VALUES \(\*\*\*, \*\*\*::text\)/,
		"auto_explain $format: numbers in the plan's query text are replaced");
	like($log, qr/"?Filter"?: "?\(\(\(people\.id\)::numeric <> '\*\*\*'::numeric\) AND \(length\(privacy\.decrypt\(people\.ssn\)\) <> \*\*\*\)\)/,
		"auto_explain $format: numbers in the plan's expressions are replaced");
	like($log, qr/(cost=\d+\.\d+\.\.\d+\.\d+|"?Total Cost"?: \d+\.\d+)/,
		"auto_explain $format: the plan's costs are kept");
	unlike($log, qr/4711471/, "auto_explain $format: no numeric plaintext in the plans");
}
$node->psql('postgres', 'SELECT 1');

# The structured logs carry the same fields (query, internal query,
# context, message, detail).
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'privacy_ext'
log_statement = 'none'
log_min_duration_statement = -1
log_parameter_max_length = 0
log_parameter_max_length_on_error = -1
log_min_error_statement = error
debug_print_plan = off
log_destination = 'stderr,csvlog,jsonlog'
logging_collector = on
log_directory = 'structured'
log_filename = 'server.log'
});
$node->restart;
my ($errors) = run_battery('csvlog and jsonlog');
my $datadir = $node->data_dir;
for my $file ("$datadir/structured/server.csv", "$datadir/structured/server.json")
{
	my $content = -e $file ? slurp_file($file) : '';
	my $logged = () = $content =~ /ERROR/g;
	cmp_ok($logged, '>=', $errors, "$file has the battery's errors");
	my @leaks = grep { /SECRET-\d+-XYZ/ } split /\n/, $content;
	is(scalar(@leaks), 0, "no plaintext in $file") or diag(join("\n", @leaks));
}
$node->append_conf('postgresql.conf', "log_destination = 'stderr'\nlogging_collector = off\n");
$node->restart;

# A backend killed while it runs a statement: the postmaster's report
# quotes the statement it was running.
$node->append_conf('postgresql.conf', "restart_after_crash = on\n");
$node->restart;
$offset = -s $node->logfile;
my ($sleep_out, $sleep_err) = ('', '');
my $sleeper = IPC::Run::start(
	[ 'psql', '-X', '-d', $node->connstr('postgres'), '-c',
	  q{SELECT pg_sleep(60), 'SECRET-45-XYZ'} ],
	'>', \$sleep_out, '2>', \$sleep_err);
$node->poll_query_until('postgres',
	q{SELECT count(*) = 1 FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%'});
my $victim = $node->safe_psql('postgres',
	q{SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%'});
kill 'KILL', $victim;
$sleeper->finish;
$node->poll_query_until('postgres', 'SELECT true');
$log = slurp_file($node->logfile, $offset);
like($log, qr/Failed process was running: SELECT pg_sleep\(\*\*\*\), '\*\*\*'/,
	'a crashed backend\'s statement is logged without its constants');
unlike($log, qr/SECRET-\d+-XYZ/, 'no plaintext in the crash report');

# privacy.log_statement_literals = shown: literals are logged as written,
# but not the statement of a statement that took or gave plaintext.
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'privacy_ext'
log_statement = 'none'
log_min_duration_statement = -1
log_parameter_max_length = 0
log_parameter_max_length_on_error = 0
log_min_error_statement = error
debug_print_plan = off
privacy.log_statement_literals = shown
});
$node->restart;
$offset = -s $node->logfile;
$node->psql('postgres', q{SELECT 'VISIBLE-1-XYZ'::int;});
$node->psql('postgres', q{INSERT INTO people VALUES (1, 'SECRET-40-XYZ', NULL, NULL, NULL);});
# As the README says: a statement that fails before its plaintext is bound
# is logged as written.
$node->psql('postgres', q{INSERT INTO people VALUES (1, 'VISIBLE-2-XYZ', NULL, NULL, NULL) RETURNING +;});
# A COMMIT or ROLLBACK between the statements of one query string ends a
# transaction, not the string, which a later statement's error logs whole.
$node->psql('postgres', q{INSERT INTO people (id, ssn) VALUES (70, 'SECRET-61-XYZ') \; COMMIT \; SELECT 1 / 0;});
$node->psql('postgres',
	q{BEGIN \; INSERT INTO people (id, ssn) VALUES (71, 'SECRET-62-XYZ') \; COMMIT \; SELECT 'x'::int;});
$node->psql('postgres',
	q{BEGIN \; INSERT INTO people (id, ssn) VALUES (72, 'SECRET-63-XYZ') \; ROLLBACK \; SELECT 1 / 0;});
my ($c_out, $c_err) = ('', '');
IPC::Run::run(
	[ 'psql', '-X', '-d', $node->connstr('postgres'), '-c',
	  q{INSERT INTO people (id, ssn) VALUES (73, 'SECRET-64-XYZ'); COMMIT; SELECT 1 / 0;} ],
	'>', \$c_out, '2>', \$c_err);
# A plaintext taken in by parallel workers (encrypt() in a CREATE TABLE
# AS): a later statement of the string fails, whose STATEMENT line would
# be the whole string.
$node->psql('postgres', qq{$parallel\n}
	. q{CREATE TEMP TABLE par_e AS SELECT privacy.encrypt(p || 'SECRET-67-XYZ', 'lk') AS e FROM big \; SELECT nosuchfunction();});
# The marks end with their string: the session's next string keeps its literals.
$node->psql('postgres', qq{INSERT INTO people (id, ssn) VALUES (74, 'SECRET-65-XYZ');\nSELECT 'VISIBLE-3-XYZ'::int;});
$log = slurp_file($node->logfile, $offset);
like($log, qr/STATEMENT:  SELECT 'VISIBLE-1-XYZ'::int;/, 'shown: a statement without plaintext keeps its literals');
like($log, qr/STATEMENT:  INSERT INTO people VALUES \(1, 'VISIBLE-2-XYZ'/,
	'shown: a statement with a syntax error is logged as written');
like($log, qr/STATEMENT:  SELECT 'VISIBLE-3-XYZ'::int;/,
	'shown: a query string after one that took plaintext keeps its literals');
my $after_commit = () = $log =~ /ERROR:  (?:division by zero|invalid input syntax for type integer: "x")/g;
is($after_commit, 4, 'shown: the statements after a COMMIT or ROLLBACK fail');
unlike($log, qr/SECRET-40-XYZ/, 'shown: the statement that took plaintext is not logged');
unlike($log, qr/SECRET-\d+-XYZ/,
	'shown: nor a later statement of its query string, after a COMMIT or ROLLBACK');

$node->stop;
done_testing();
