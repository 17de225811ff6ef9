# Real clients with their default settings: pgJDBC (Debian's
# libpostgresql-jdbc-java), psycopg2 and psycopg 3 (Debian's packages), over
# TCP on the loopback address.  test/clients/ holds the client programs;
# each prints "ok - ..." / "not ok - ..." lines, taken here as tests.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PrivacyExtNode;
use Test::More;

my $clients = "$FindBin::RealBin/../clients";
my $jar = '/usr/share/java/postgresql.jar';
plan skip_all => 'pgJDBC, java, psycopg2 or psycopg 3 missing (test/setup_deps.sh installs them)'
  unless -f $jar && system('/usr/bin/java -version >/dev/null 2>&1') == 0
  && system('/usr/bin/python3 -c "import psycopg, psycopg2" 2>/dev/null') == 0;

my $node = PrivacyExtNode::new_node('clients', PrivacyExtNode::random_key_hex(),
	conf => "listen_addresses = '127.0.0.1'\n");
$node->restart;
$node->safe_psql('postgres', q{
	CREATE DATABASE cl;
	CREATE ROLE cl_app LOGIN;
	CREATE ROLE cl_other LOGIN;
});
$node->safe_psql('cl', q{
	CREATE EXTENSION privacy_ext;
	SELECT privacy.create_key('cl_hr');
	SELECT privacy.grant_key('cl_hr', 'cl_app');
	CREATE TABLE cl_people (id int PRIMARY KEY,
	                        ssn privacy.encrypted_text('cl_hr'),
	                        email privacy.encrypted_text_det('cl_hr'),
	                        doc privacy.encrypted_bytea('cl_hr'));
	CREATE INDEX cl_people_email ON cl_people (email);
	INSERT INTO cl_people SELECT g, 'fill-' || g, 'fill' || g || '@example.com', NULL FROM generate_series(1000, 3000) g;
	ANALYZE cl_people;
	GRANT SELECT, INSERT ON cl_people TO cl_app, cl_other;
	SELECT privacy.create_purpose('cl_marketing', 'consent');
	SELECT privacy.grant_purpose('cl_app', 'cl_marketing');
	CREATE TABLE cl_customers (customer_id text PRIMARY KEY);
	INSERT INTO cl_customers VALUES ('a'), ('b'), ('c');
	GRANT SELECT ON cl_customers TO cl_app;
	SELECT privacy.protect_table('cl_customers', 'customer_id');
	SELECT privacy.grant_consent('a', 'cl_marketing');
	SELECT privacy.grant_consent('b', 'cl_marketing');
	-- the README's examples
	CREATE TABLE people (id int PRIMARY KEY, email privacy.encrypted_text_det('cl_hr'),
	                     ssn privacy.encrypted_text('cl_hr'));
	CREATE INDEX ON people (email);
	GRANT SELECT, INSERT ON people TO cl_app;
	SELECT privacy.create_purpose('support', 'contract');
	SELECT privacy.grant_purpose('cl_app', 'support');
});

sub run_client
{
	my ($label, @cmd) = @_;
	my ($stdout, $stderr);
	my $ok = IPC::Run::run(\@cmd, '>', \$stdout, '2>', \$stderr,
		IPC::Run::timeout(300));
	my @lines = grep { /^(not )?ok - / } split /\n/, $stdout;
	for my $l (@lines)
	{
		my ($not, $what) = $l =~ /^(not )?ok - (.*)$/;
		ok(!$not, $what);
	}
	cmp_ok(scalar(@lines), '>=', 10, "$label ran its checks");
	ok($ok, "$label exited 0") or diag("stdout:\n$stdout\nstderr:\n$stderr");
}

my $port = $node->port;
run_client('pgJDBC', '/usr/bin/java', '-cp', $jar, "$clients/JdbcClient.java", $port, 'cl');
run_client('psycopg', '/usr/bin/python3', "$clients/psycopg_clients.py", $port, 'cl');

# The README's examples ("Using it from applications"), verbatim, run as
# they are: pgJDBC, psycopg 3, node-postgres (installed from npm here).
my $readme = slurp_file(($ENV{PRIVACY_SRC} // "$FindBin::RealBin/../..") . '/README.md');
my %example = (
	'ReadmeJdbc.java' => [ [ '/usr/bin/java', '-cp', $jar ], { JDBC_URL => "jdbc:postgresql://127.0.0.1:$port/cl?user=cl_app" }, '1 123-45-6789' ],
	'readme_psycopg.py' => [ ['/usr/bin/python3'], { DSN => "host=127.0.0.1 port=$port dbname=cl user=cl_app" }, '2 987-65-4321' ],
	'readme_node.js' => [ ['node'], { DATABASE_URL => "postgresql://cl_app\@127.0.0.1:$port/cl" }, '3 555-01-0003' ],
);
my $npm_dir = PostgreSQL::Test::Utils::tempdir;
my ($npm_out, $npm_err);
my $npm_ok = IPC::Run::run([ 'npm', 'install', '--no-audit', '--no-fund', '--silent', '--prefix', $npm_dir, 'pg@8' ],
	'>', \$npm_out, '2>', \$npm_err, IPC::Run::timeout(300));
ok($npm_ok, 'node-postgres installs from npm') or diag($npm_err);
for my $file (sort keys %example)
{
	my ($cmd, $env, $expect) = @{ $example{$file} };
	my $code = slurp_file("$clients/readme/$file");
	ok(index($readme, $code) >= 0, "the README shows $file verbatim");
	local %ENV = (%ENV, %$env, NODE_PATH => "$npm_dir/node_modules");
	my ($out, $err);
	IPC::Run::run([ @$cmd, "$clients/readme/$file" ], '>', \$out, '2>', \$err, IPC::Run::timeout(300));
	is($out =~ s/\s+$//r, $expect, "the README's $file runs and prints what it should") or diag($err);
}

# What the clients wrote is stored encrypted.
is($node->safe_psql('cl', q{SELECT count(*) FROM cl_people
	WHERE ssn::text IS NOT NULL AND format('%s', ssn) NOT LIKE 'pxe1:%'}), '0',
	'every stored value is an envelope');

$node->stop;
done_testing();
