# A real PgBouncer in transaction pooling mode in front of the server, with
# privacy.purpose_scope = transaction: concurrent pgbench clients declare
# one of two purposes, or none, with SET LOCAL in each transaction and
# count the protected rows they see; every transaction checks its count,
# so a purpose leaking from another client's transaction fails the run.
# A session-level SET is refused; with purpose_scope = session it would
# leak to the next client on the same server connection (shown too).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PrivacyExtNode;
use Test::More;

my $pgbouncer = '/usr/sbin/pgbouncer';
plan skip_all => 'pgbouncer missing (test/setup_deps.sh installs it)' unless -x $pgbouncer;

my $node = PrivacyExtNode::new_node('pooled', PrivacyExtNode::random_key_hex(),
	conf => "privacy.purpose_scope = 'transaction'\nmax_connections = 40\n");
$node->safe_psql('postgres', q{
	CREATE ROLE pb_app LOGIN;
	CREATE EXTENSION privacy_ext;
	SELECT privacy.create_purpose('pb_alpha', 'consent');
	SELECT privacy.create_purpose('pb_beta', 'consent');
	SELECT privacy.grant_purpose('pb_app', 'pb_alpha');
	SELECT privacy.grant_purpose('pb_app', 'pb_beta');
	CREATE TABLE pb_docs (subject text PRIMARY KEY);
	INSERT INTO pb_docs SELECT 's' || g FROM generate_series(1, 100) g;
	GRANT SELECT ON pb_docs TO pb_app;
	SELECT privacy.protect_table('pb_docs', 'subject');
	SELECT privacy.grant_consent('s' || g, 'pb_alpha') FROM generate_series(1, 30) g;
	SELECT privacy.grant_consent('s' || g, 'pb_beta') FROM generate_series(61, 100) g;
});

# PgBouncer on a loopback port, transaction pooling, two server connections.
my $dir = PostgreSQL::Test::Utils::tempdir;
my $bport = PostgreSQL::Test::Cluster::get_free_port();
open(my $fh, '>', "$dir/userlist.txt") or die;
print $fh qq{"pb_app" ""\n"postgres" ""\n};
close($fh);
my $host = $node->host;
my $pport = $node->port;
open($fh, '>', "$dir/pgbouncer.ini") or die;
print $fh <<"INI";
[databases]
postgres = host=$host port=$pport dbname=postgres
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bport
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
default_pool_size = 2
max_client_conn = 50
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
admin_users = postgres
INI
close($fh);
system($pgbouncer, '-d', "$dir/pgbouncer.ini") == 0 or BAIL_OUT('pgbouncer did not start');
END { system("kill \$(cat $dir/pgbouncer.pid) 2>/dev/null") if $dir && -f "$dir/pgbouncer.pid"; }
my @via = ('-h', '127.0.0.1', '-p', $bport, '-U', 'pb_app', '-d', 'postgres');
for (1 .. 50)
{
	last if system('psql', '-X', '-q', @via, '-c', 'SELECT 1', '-o', '/dev/null') == 0;
	sleep 0.2;
}

# Each transaction declares a purpose (or none) and checks what it sees:
# alpha 30 rows, beta 40, none 0; a wrong count divides by zero.
open($fh, '>', "$dir/mix.sql") or die;
print $fh <<'SQL';
\set p random(0, 2)
BEGIN;
SELECT set_config('privacy.purpose', (ARRAY['pb_alpha', 'pb_beta', ''])[:p + 1], true);
SELECT 1 / (count(*) = (ARRAY[30, 40, 0])[:p + 1])::int FROM pb_docs;
SELECT 1 / (current_setting('privacy.purpose') = (ARRAY['pb_alpha', 'pb_beta', ''])[:p + 1])::int;
END;
SQL
close($fh);
my ($out, $err);
my $ok = IPC::Run::run([ 'pgbench', '-n', '-c', '8', '-j', '2', '-t', '150', '-f', "$dir/mix.sql", @via ],
	'>', \$out, '2>', \$err, IPC::Run::timeout(180));
ok($ok, 'pgbench through PgBouncer: 8 clients x 150 transactions, every count as its own purpose allows')
  or diag("$out\n$err");
like($out, qr/number of transactions actually processed: 1200\/1200/, 'all 1200 transactions ran');
my ($failed) = $out =~ /number of failed transactions: (\d+)/;
is($failed // 0, 0, 'no transaction saw another purpose\'s rows');

# A session-level declaration is refused, through the pooler and directly.
my ($rc, $o, $e) = (0, '', '');
IPC::Run::run([ 'psql', '-X', @via, '-c', q{SET privacy.purpose = 'pb_alpha'} ], '>', \$o, '2>', \$e);
like($e, qr/privacy\.purpose can only be declared for a transaction/, 'a plain SET is refused with a clear error');
($rc, $o, $e) = $node->psql('postgres', q{BEGIN; SELECT set_config('privacy.purpose', 'pb_alpha', false); COMMIT;});
like($e, qr/can only be declared for a transaction/, 'set_config(..., false) is refused at commit');
$ENV{PGOPTIONS} = '-c privacy.purpose=pb_alpha';
($rc, $o, $e) = $node->psql('postgres', 'SELECT 1');
delete $ENV{PGOPTIONS};
like($e, qr/can only be declared for a transaction/, 'a purpose in the connection options is refused');
is($node->safe_psql('postgres', q{SET ROLE pb_app; BEGIN; SET LOCAL privacy.purpose = 'pb_beta'; SELECT count(*) FROM pb_docs; COMMIT;}),
	'40', 'SET LOCAL declares a purpose for its transaction');

# The scope set by ALTER DATABASE ... SET: at connection start the role's
# settings and the connection's options are applied before the database's,
# so the check when they are set cannot refuse them; the purpose in force is
# checked again where it is used.
$node->safe_psql('postgres', q{
	ALTER SYSTEM SET privacy.purpose_scope = 'session';
	SELECT pg_reload_conf();
	ALTER DATABASE postgres SET privacy.purpose_scope = 'transaction';
	ALTER ROLE pb_app SET privacy.purpose = 'pb_alpha';
});
my $direct = $node->connstr('postgres') . ' user=pb_app';
IPC::Run::run([ 'psql', '-X', '-A', '-t', '-d', $direct, '-c', 'SHOW privacy.purpose_scope', '-c', 'SELECT count(*) FROM pb_docs' ],
	'>', \$o, '2>', \$e);
like($o, qr/^transaction$/m, 'ALTER DATABASE ... SET chose the scope');
like($e, qr/can only be declared for a transaction.*\n.*source: user/s,
	'a purpose from ALTER ROLE ... SET is refused where it is used, with the scope from ALTER DATABASE');
unlike($o, qr/^30$/m, 'and shows no row');
$node->safe_psql('postgres', 'ALTER ROLE pb_app RESET privacy.purpose');
$ENV{PGOPTIONS} = '-c privacy.purpose=pb_alpha';
IPC::Run::run([ 'psql', '-X', '-A', '-t', '-d', $direct, '-c', 'SELECT count(*) FROM pb_docs' ], '>', \$o, '2>', \$e);
delete $ENV{PGOPTIONS};
like($e, qr/can only be declared for a transaction.*\n.*source: client/s,
	'a purpose in the connection options is refused too');
IPC::Run::run([ 'psql', '-X', '-A', '-t', '-d', $direct, '-c',
	q{BEGIN; SET LOCAL privacy.purpose = 'pb_beta'; SELECT count(*) FROM pb_docs; COMMIT;} ], '>', \$o, '2>', \$e);
like($o, qr/^40$/m, 'SET LOCAL still declares a purpose there');
$node->safe_psql('postgres', q{
	ALTER DATABASE postgres RESET privacy.purpose_scope;
	ALTER SYSTEM RESET privacy.purpose_scope;
	SELECT pg_reload_conf();
});

# What the setting prevents: with purpose_scope = session, a client's SET
# stays on the server connection and the next client sees its rows.
$node->safe_psql('postgres', q{ALTER SYSTEM SET privacy.purpose_scope = 'session'; SELECT pg_reload_conf();});
system('psql', '-X', '-q', '-h', '127.0.0.1', '-p', $bport, '-U', 'postgres', '-d', 'pgbouncer', '-c', 'RECONNECT postgres', '-o', '/dev/null');
sleep 1;
my $leak = '';
IPC::Run::run([ 'psql', '-X', '-A', '-t', @via, '-c', q{SET privacy.purpose = 'pb_alpha'} ], '>', \$o, '2>', \$e);
for (1 .. 4)
{
	IPC::Run::run([ 'psql', '-X', '-A', '-t', @via, '-c', 'SELECT count(*) FROM pb_docs' ], '>', \$o, '2>', \$e);
	chomp $o;
	$leak .= "$o,";
}
like($leak, qr/\b30\b/, 'without it, another client of the pool sees the rows of a purpose it never declared');

done_testing();
