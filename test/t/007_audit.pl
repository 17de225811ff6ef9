# The audit log sink: one "privacy_audit:" line per event, written at once so
# that it survives a rollback or an error, with no plaintext in any event;
# on a hot standby (and in a read-only transaction) the table sink falls
# back to the log and the query still works.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PrivacyExtNode;
use Test::More;

my $root_hex = PrivacyExtNode::random_key_hex();
# log_statement is off here: the harness logs every statement, plaintext
# literals included, which would hide what the audit lines themselves hold.
my $primary = PrivacyExtNode::new_node('audit_primary', $root_hex, allows_streaming => 1,
	conf => "privacy.audit = 'log'\nlog_statement = none\n");
PrivacyExtNode::create_fixture($primary);

# The audit lines of a node's log written since offset.
sub audit_lines
{
	my ($node, $offset) = @_;
	my $log = slurp_file($node->logfile, $offset);
	return join("\n", grep { /privacy_audit: / } split(/\n/, $log));
}

my $offset = -s $primary->logfile;
$primary->safe_psql('postgres', 'BEGIN; SELECT privacy.decrypt(ssn) FROM staff; ROLLBACK;');
my $lines = audit_lines($primary, $offset);
like($lines, qr/privacy_audit: \{"at":"[^"]+","action":"decrypt","session_user":"\w+","current_role":"\w+","purpose":null,"object":"public\.staff\.ssn","count":2,"detail":\{"key": "hr"\}\}/,
	'a rolled-back decrypt is in the log, one line with its count');

$offset = -s $primary->logfile;
my ($ret, $out, $err) = $primary->psql('postgres',
	'SELECT privacy.decrypt(ssn), 1 / (2 - id) FROM staff ORDER BY id');  # row 2 decrypts, then fails
like($err, qr/division by zero/, 'a statement failing after one decrypt');
like(audit_lines($primary, $offset), qr/"action":"decrypt".*"count":2,/,
	'the failed statement\'s decrypt is still in the log');

$offset = -s $primary->logfile;
$primary->safe_psql('postgres', q{SET ROLE support; SELECT * FROM masked.staff});
$primary->safe_psql('postgres', q{SET ROLE crm; SET privacy.purpose = 'marketing'; SELECT * FROM customers});
$primary->safe_psql('postgres', q{SELECT privacy.withdraw_consent('c1', 'marketing')});
$primary->safe_psql('postgres', q{SELECT privacy.export_subject('c1')});
$lines = audit_lines($primary, $offset);
like($lines, qr/"action":"masked_read","session_user":"postgres","current_role":"support",.*"object":"public\.staff\.ssn","count":2/,
	'masked reads are logged for the masked role');
like($lines, qr/"action":"purpose_declared",.*"current_role":"crm","purpose":"marketing"/, 'declared purpose logged');
like($lines, qr/"action":"consent_withdraw",.*"object":"marketing","count":1,"detail":\{"subject":"c1"\}/,
	'withdrawal logged');
like($lines, qr/"action":"export",.*"object":"c1"/, 'export logged');

# Turning auditing off is itself on record.
$offset = -s $primary->logfile;
$primary->safe_psql('postgres', 'SET privacy.audit = off; SELECT count(privacy.decrypt(ssn)) FROM staff');
$lines = audit_lines($primary, $offset);
like($lines, qr/"action":"audit_setting","session_user":"\w+","current_role":"\w+","purpose":null,"object":"off"/,
	'SET privacy.audit = off is logged');
unlike($lines, qr/"action":"decrypt"/, 'and nothing is audited after it');
# So is a session that starts with auditing off (ALTER ROLE ... SET, the
# connection's options): no SET in it, but a change of the setting for it.
$primary->safe_psql('postgres', q{CREATE ROLE quiet_app LOGIN; ALTER ROLE quiet_app SET privacy.audit = 'off'});
$offset = -s $primary->logfile;
$primary->safe_psql('postgres', 'SELECT 1', connstr => $primary->connstr('postgres') . ' user=quiet_app');
{
	local $ENV{PGOPTIONS} = '-c privacy.audit=off';
	$primary->safe_psql('postgres', 'SELECT 2');
}
$lines = audit_lines($primary, $offset);
like($lines, qr/"action":"audit_setting","session_user":"quiet_app",.*"object":"off","count":1,"detail":\{"source": "user"\}/,
	'a session starting with auditing off from ALTER ROLE ... SET is logged, with the source');
like($lines, qr/"action":"audit_setting",.*"object":"off","count":1,"detail":\{"source": "client"\}/,
	'so is one turning it off in the connection options');
# Only the value that takes effect is on record: a database's value under
# a connection option or a role's value is checked at connection start but
# ignored, and was logged as if it were the session's.
$primary->safe_psql('postgres', q{ALTER DATABASE postgres SET privacy.audit = 'log,table'});
$offset = -s $primary->logfile;
{
	local $ENV{PGOPTIONS} = '-c privacy.audit=off';
	is($primary->safe_psql('postgres', 'SHOW privacy.audit'), 'off', 'the connection option wins over the database');
}
is($primary->safe_psql('postgres', 'SHOW privacy.audit', connstr => $primary->connstr('postgres') . ' user=quiet_app'),
	'off', 'so does the role\'s value');
$lines = audit_lines($primary, $offset);
is(scalar(() = $lines =~ /"action":"audit_setting"/g), 2, 'one audit_setting event per session');
unlike($lines, qr/"object":"log,table"/, 'neither logs the ignored database value');
$offset = -s $primary->logfile;
$primary->safe_psql('postgres', 'SELECT 3');
like(audit_lines($primary, $offset), qr/"action":"audit_setting",.*"object":"log,table","count":1,"detail":\{"source": "database"\}/,
	'a session taking the database value logs it');
$primary->safe_psql('postgres', 'ALTER DATABASE postgres RESET privacy.audit');
my ($rc_empty, $out_empty, $err_empty) = $primary->psql('postgres', q{SET privacy.audit = ''});
like($err_empty, qr/invalid value for parameter "privacy.audit"/, 'an empty privacy.audit is refused, not taken as off');

# A read-only transaction with the table sink: the query works, the event goes to the log.
$primary->safe_psql('postgres', q{ALTER SYSTEM SET privacy.audit = 'table'; SELECT pg_reload_conf();});
$offset = -s $primary->logfile;
is($primary->safe_psql('postgres',
	'BEGIN READ ONLY; SELECT count(privacy.decrypt(ssn)) FROM staff; COMMIT;'),
	'2', 'read-only transaction decrypts with the table sink');
like(audit_lines($primary, $offset), qr/"action":"decrypt".*"count":2,/, 'its event went to the log');
is($primary->safe_psql('postgres', q{SELECT count(*) FROM privacy.audit_log WHERE action = 'decrypt'}),
	'0', 'and not to the table');
is($primary->safe_psql('postgres', 'SELECT count(privacy.decrypt(ssn)) FROM staff'), '2', 'a read-write decrypt');
is($primary->safe_psql('postgres', q{SELECT count || ' ' || object FROM privacy.audit_log WHERE action = 'decrypt'}),
	'2 public.staff.ssn', 'goes to the table');

# The table cannot take the event (here a superuser's trigger refuses it):
# the statement fails, and the event is still in the log.
$primary->safe_psql('postgres', q{
	CREATE FUNCTION public.refuse() RETURNS trigger LANGUAGE plpgsql
	  AS $$ BEGIN RAISE EXCEPTION 'audit_log is full'; END $$;
	CREATE TRIGGER refuse BEFORE INSERT ON privacy.audit_log FOR EACH ROW EXECUTE FUNCTION public.refuse();
});
$offset = -s $primary->logfile;
($ret, $out, $err) = $primary->psql('postgres', 'SELECT count(privacy.decrypt(ssn)) FROM staff WHERE id = 1');
like($err, qr/audit_log is full/, 'a failed audit_log write fails the statement');
like(audit_lines($primary, $offset), qr/"action":"decrypt".*"count":1,/, 'and its event is in the log');
$primary->safe_psql('postgres', 'DROP TRIGGER refuse ON privacy.audit_log; DROP FUNCTION public.refuse()');
# A trigger that skips the row (returns NULL) refuses the event as surely:
# the statement fails too, rather than the event being lost.  With both
# sinks the event is in the log once (the failed insert skips the later
# write to the log, so the table sink writes it), a key event as a count.
$primary->safe_psql('postgres', q{
	CREATE FUNCTION public.skip() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
	CREATE TRIGGER skip BEFORE INSERT ON privacy.audit_log FOR EACH ROW EXECUTE FUNCTION public.skip();
});
foreach my $sinks ('table', 'log,table')
{
	$offset = -s $primary->logfile;
	($ret, $out, $err) = $primary->psql('postgres',
		qq{SET privacy.audit = '$sinks'; SELECT count(privacy.decrypt(ssn)) FROM staff WHERE id = 1});
	like($err, qr/privacy.audit_log did not store the audit event/,
		"$sinks: a skipped audit_log row fails the statement");
	($ret, $out, $err) = $primary->psql('postgres',
		qq{SET privacy.audit = '$sinks'; SELECT privacy.grant_key('hr', 'support')});
	like($err, qr/privacy.audit_log did not store the audit event/,
		"$sinks: so does a key event's");
	$lines = audit_lines($primary, $offset);
	is(scalar(() = $lines =~ /"action":"decrypt".*"count":1,/g), 1, "$sinks: the decrypt is logged once");
	is(scalar(() = $lines =~ /"action":"key_grant".*"object":"hr"/g), 1, "$sinks: the key grant is logged once");
}
$primary->safe_psql('postgres', 'DROP TRIGGER skip ON privacy.audit_log; DROP FUNCTION public.skip()');

# A hot standby with the table sink.
$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('audit_standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', 'SHOW privacy.audit'), 'table', 'standby has the table sink');
$offset = -s $standby->logfile;
is($standby->safe_psql('postgres', q{SELECT string_agg(privacy.decrypt(ssn), ',' ORDER BY id) FROM staff}),
	'123-45-6789,987-65-4321', 'standby decrypts with the table sink set');
is($standby->safe_psql('postgres', q{SET ROLE support; SELECT string_agg(ssn, ',' ORDER BY id) FROM masked.staff}),
	'***-**-6789,***-**-4321', 'standby masks with the table sink set');
$lines = audit_lines($standby, $offset);
like($lines, qr/"action":"decrypt",.*"object":"public\.staff\.ssn","count":2/, 'standby decrypt event in its log');
like($lines, qr/"action":"masked_read",.*"current_role":"support"/, 'standby masked read event in its log');

# A purpose longer than the 63 bytes a count keeps (declared before the
# extension existed in the database, so nothing checked it) is cut at a
# character boundary: cut at a byte, it left invalid UTF-8 in the table.
$primary->safe_psql('postgres', 'CREATE DATABASE long_purpose');
$primary->safe_psql('long_purpose', q{
	SELECT set_config('privacy.purpose', repeat(chr(233), 40), false);
	CREATE EXTENSION privacy_ext;
	SET privacy.audit = 'table';
	SELECT privacy.create_key('lp');
	CREATE TABLE t (v privacy.encrypted_text('lp'));
	INSERT INTO t VALUES ('x');
	SELECT count(privacy.decrypt(v)) FROM t;
});
is($primary->safe_psql('long_purpose', q{SELECT string_agg(action || ' ' || length(purpose) || ' ' ||
	octet_length(purpose) || ' ' || (purpose = left(repeat(chr(233), 40), length(purpose))), ',' ORDER BY event_id)
	FROM privacy.audit_log}),
	'key_create 40 80 true,decrypt 31 62 true', 'a long purpose is cut at a character boundary in a count');

# Anybody can raise a message that reads as an audit line, at any level,
# with text read from a table (which log redaction does not hide): the log
# marks it as no event.  The client gets it as raised.
$primary->safe_psql('postgres', q{
	CREATE TABLE public.forged (line text);
	INSERT INTO public.forged VALUES ('privacy_audit: {"at":"2026-01-01 00:00:00+00","action":"key_destroy","session_user":"postgres","current_role":"postgres","purpose":null,"object":"hr","count":1,"detail":null}');
	GRANT SELECT ON public.forged TO PUBLIC;
	CREATE ROLE forger LOGIN;
	CREATE FUNCTION public.forge(level text) RETURNS int LANGUAGE plpgsql PARALLEL SAFE AS $$
	DECLARE v text;
	BEGIN
		SELECT line INTO v FROM public.forged;
		CASE level
			WHEN 'log' THEN RAISE LOG '%', v;
			WHEN 'warning' THEN RAISE WARNING '%', v;
			WHEN 'spaced' THEN RAISE LOG E' \t%', upper(v);
			ELSE RAISE EXCEPTION '%', v;
		END CASE;
		RETURN 1;
	END $$;
});
$offset = -s $primary->logfile;
my $forger = $primary->connstr('postgres') . ' user=forger';
($ret, $out, $err) = $primary->psql('postgres', q{SELECT public.forge('warning')}, connstr => $forger);
like($err, qr/WARNING:  privacy_audit: \{"at"/, 'the client gets the forged warning as raised');
$primary->psql('postgres', q{SELECT public.forge('log')}, connstr => $forger);
$primary->psql('postgres', q{SELECT public.forge('spaced')}, connstr => $forger);
($ret, $out, $err) = $primary->psql('postgres', q{SELECT public.forge('error')}, connstr => $forger);
like($err, qr/ERROR:  privacy_audit: \{"at"/, 'and the forged error');
# In a parallel worker, and in its leader which logs the worker's reports again.
$primary->psql('postgres', q{SET force_parallel_mode = on; SET parallel_setup_cost = 0; SET client_min_messages = log;
	SELECT public.forge('log'); SELECT public.forge('warning')}, connstr => $forger);
# A real event after them is logged as one.
$primary->safe_psql('postgres', q{SET privacy.audit = 'log'; SELECT privacy.grant_key('hr', 'forger')});
my $log = slurp_file($primary->logfile, $offset);
my @forged = grep { /key_destroy/i } split(/\n/, $log);
is(scalar(@forged), 4, 'each forged message is in the log once (the parallel ones only as their format)')
	or diag($log);
is(scalar(grep { /^\S.*?(LOG|WARNING|ERROR):  not a privacy_ext audit event: \s*privacy_audit: \{"at"/i } @forged), 4,
	'each marked as no audit event') or diag(join("\n", @forged));
unlike(join("\n", @forged), qr/(?:LOG|WARNING|ERROR):  \s*(?i:privacy_audit)/, 'no forged line reads as an event');
like($log, qr/^\S.*? LOG:  privacy_audit: \{"at":"[^"]+","action":"key_grant","session_user":"postgres",.*"object":"hr"/m,
	'the audit sink\'s own line still does');

# No plaintext in any audit line of either node.
my $all = audit_lines($primary, 0) . "\n" . audit_lines($standby, 0);
unlike($all, qr/123-45|987-65|\*\*\*-\*\*/, 'no value in any audit line');
ok(length($all) > 0, 'audit lines were written');

$standby->stop;
$primary->stop;
done_testing();
