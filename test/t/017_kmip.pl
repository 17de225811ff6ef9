# The root key from a real KMIP server: Debian's PyKMIP server on loopback
# with certificates made here, bin/privacy_ext_kmip_key as
# privacy.root_key_command.  Encrypts and decrypts, restarts, rotates the
# root key to a second KMIP key with privacy.rewrap_keys(); an unreachable
# server and a wrong key id stop the server at start with a clear message;
# no key bytes in any log.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Digest::SHA qw(hmac_sha256_hex);
use IO::Socket::INET;
use IPC::Run;
use Test::More;

my $python = '/usr/bin/python3';
if (system("$python -c 'import kmip' >/dev/null 2>&1") != 0)
{
	plan skip_all => 'python3-pykmip is not installed (test/setup_deps.sh installs it)';
}
my $server_bin = '/usr/bin/pykmip-server';

my $bindir = `pg_config --bindir`;
chomp $bindir;
my $helper = "$bindir/privacy_ext_kmip_key";
my $helper_name = 'privacy_ext_kmip_key';
ok(-x $helper, 'privacy_ext_kmip_key is installed with the extension');

my $dir = PostgreSQL::Test::Utils::tempdir('kmip');

# Every failure, also before any server is asked, exits with status 1 and
# one line on stderr (README: privacy.root_key_command logs that line); a
# malformed configuration file's contents are not echoed.
{
	my $pem = "$dir/placeholder.pem";
	open(my $ph, '>', $pem) or die;
	close($ph);
	my @ok_settings = ('--host', '127.0.0.1', '--cert', $pem, '--key', $pem, '--ca', $pem,
		'--key-name', 'k');
	open(my $bc, '>', "$dir/malformed.conf") or die;
	print $bc "[kmip]\nhost = 127.0.0.1\nthis line holds s3cret-value\n";
	close($bc);
	open($bc, '>', "$dir/noheader.conf") or die;
	print $bc "password = s3cret-value\n";
	close($bc);
	my @failures = (
		[ 'an unknown option', [ '--bogus' ], qr/unrecognized arguments: --bogus/ ],
		[ 'an option without its value', [ '--host' ], qr/argument --host: expected one argument/ ],
		[ 'timeout nan', [ @ok_settings, '--timeout', 'nan' ], qr/timeout a finite positive number/ ],
		[ 'timeout inf', [ @ok_settings, '--timeout', 'inf' ], qr/timeout a finite positive number/ ],
		[ 'timeout not a number', [ @ok_settings, '--timeout', 'soon' ], qr/must be numbers/ ],
		[ 'a malformed configuration file', [ '--config', "$dir/malformed.conf" ], qr/is malformed \(ParsingError at line 3\)/ ],
		[ 'a configuration file without a section', [ '--config', "$dir/noheader.conf" ], qr/is malformed/ ],
		[ 'a missing configuration file', [ '--config', "$dir/none.conf" ], qr/cannot read configuration file/ ]);
	foreach my $case (@failures)
	{
		my ($name, $args, $expect) = @$case;
		my ($out, $err) = ('', '');
		IPC::Run::run([ $python, $helper, @$args ], '>', \$out, '2>', \$err);
		my $status = $? >> 8;
		ok($status == 1 && $out eq '' && $err =~ /\A\Q$helper_name\E: [^\n]*\n\z/ && $err =~ $expect
			  && $err !~ /s3cret/,
			"helper, $name: status 1 and one line") or diag("status $status: $err");
	}
}

# A CA, a server certificate for 127.0.0.1 and a client certificate.
sub run_ok
{
	my ($cmd) = @_;
	system("$cmd >>'$dir/openssl.log' 2>&1") == 0 or die "failed: $cmd (see $dir/openssl.log)";
}
open(my $fh, '>', "$dir/ext.cnf") or die;
print $fh <<'EOF';
[srv]
basicConstraints=CA:FALSE
keyUsage=digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1
[cli]
basicConstraints=CA:FALSE
keyUsage=digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth
EOF
close($fh);
run_ok("openssl req -x509 -newkey rsa:2048 -nodes -keyout '$dir/ca.key' -out '$dir/ca.crt' -days 2 -subj /CN=privacy-test-ca");
for my $n ('srv', 'cli')
{
	run_ok("openssl req -newkey rsa:2048 -nodes -keyout '$dir/$n.key' -out '$dir/$n.csr' -subj /CN=privacy-test-$n");
	run_ok("openssl x509 -req -in '$dir/$n.csr' -CA '$dir/ca.crt' -CAkey '$dir/ca.key' -CAcreateserial"
		  . " -out '$dir/$n.crt' -days 2 -extfile '$dir/ext.cnf' -extensions $n");
}
chmod(0600, "$dir/srv.key", "$dir/cli.key");

# The KMIP server, on a free loopback port.
my $port = PostgreSQL::Test::Cluster::get_free_port();
open($fh, '>', "$dir/server.conf") or die;
print $fh <<"EOF";
[server]
hostname=127.0.0.1
port=$port
certificate_path=$dir/srv.crt
key_path=$dir/srv.key
ca_path=$dir/ca.crt
auth_suite=TLS1.2
enable_tls_client_auth=True
logging_level=INFO
database_path=$dir/kmip.db
EOF
close($fh);
my $kmip_pid = fork();
die "fork: $!" unless defined $kmip_pid;
if ($kmip_pid == 0)
{
	open(STDOUT, '>', "$dir/kmip-stdout.log");
	open(STDERR, '>&', \*STDOUT);
	exec($python, $server_bin, '-f', "$dir/server.conf", '-l', "$dir/kmip-server.log")
	  or die "exec: $!";
}
END { kill 'TERM', $kmip_pid if $kmip_pid; }

my $up = 0;
for (1 .. 300)
{
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 1);
	if ($s) { close($s); $up = 1; last; }
	select(undef, undef, undef, 0.1);
}
ok($up, 'PyKMIP server listens on loopback');

# Two 256-bit AES keys on the server, made by the client identity that
# will read them.
my $uids = `$python - <<'EOF' 2>>'$dir/create.log'
import warnings, logging
warnings.simplefilter("ignore"); logging.disable(logging.CRITICAL)
from kmip.pie import client
from kmip.core import enums
c = client.ProxyKmipClient(hostname='127.0.0.1', port=$port, cert='$dir/cli.crt',
                           key='$dir/cli.key', ca='$dir/ca.crt', config_file='/dev/null')
c.open()
print(c.create(enums.CryptographicAlgorithm.AES, 256, name='privacy-root-1'))
print(c.create(enums.CryptographicAlgorithm.AES, 256, name='privacy-root-2'))
print(c.create(enums.CryptographicAlgorithm.AES, 128, name='privacy-short'))
c.close()
EOF`;
my ($uid1, $uid2, $uid_short) = split(/\n/, $uids);
ok(defined $uid2 && $uid1 ne $uid2, 'two AES-256 keys created on the KMIP server');

# The helper's configuration file; key chosen on the command line.
open($fh, '>', "$dir/kmip.conf") or die;
print $fh "[kmip]\nhost = 127.0.0.1\nport = $port\ncert = $dir/cli.crt\nkey = $dir/cli.key\nca = $dir/ca.crt\ntimeout = 5\n";
close($fh);
my $cmd1 = "$helper --config $dir/kmip.conf --key-name privacy-root-1";
my $cmd2 = "$helper --config $dir/kmip.conf --key-id $uid2";

# The key bytes, only to check which key the server uses and that no log
# holds them.
my $hex1 = `$cmd1`;
my $hex2 = `$cmd2`;
chomp($hex1, $hex2);
like($hex1, qr/^[0-9a-f]{64}$/, 'helper prints the key by name as 64 hex digits');
like($hex2, qr/^[0-9a-f]{64}$/, 'helper prints the key by id as 64 hex digits');
isnt($hex1, $hex2, 'the two KMIP keys differ');
my $check1 = substr(hmac_sha256_hex('privacy_ext root key check v1', pack('H*', $hex1)), 0, 16);
my $check2 = substr(hmac_sha256_hex('privacy_ext root key check v1', pack('H*', $hex2)), 0, 16);

my ($out, $err);
my $rc = run_log([ $helper, '--config', "$dir/kmip.conf", '--key-name', 'no-such-key' ],
	'>', \$out, '2>', \$err);
ok(!$rc && $out eq '' && $err =~ /has no key with name no-such-key/,
	'helper: an unknown key name fails with a message and prints nothing');
$rc = run_log([ $helper, '--config', "$dir/kmip.conf" ], '>', \$out, '2>', \$err);
ok(!$rc && $out eq '' && $err =~ /exactly one of --key-name and --key-id/,
	'helper: no key named fails with a message');
$rc = run_log([ $helper, '--config', "$dir/kmip.conf", '--key-id', $uid_short ], '>', \$out, '2>', \$err);
ok(!$rc && $out eq '' && $err =~ /is not a 256-bit AES key/,
	'helper: a 128-bit key is refused');
# A client certificate the server's CA did not sign: TLS refuses it.
run_ok("openssl req -x509 -newkey rsa:2048 -nodes -keyout '$dir/rogue.key' -out '$dir/rogue.crt' -days 2 -subj /CN=rogue");
$rc = run_log([ $helper, '--config', "$dir/kmip.conf", '--cert', "$dir/rogue.crt", '--key', "$dir/rogue.key",
	'--key-name', 'privacy-root-1' ], '>', \$out, '2>', \$err);
ok(!$rc && $out eq '' && $err =~ /privacy_ext_kmip_key: /, 'helper: a client certificate from another CA is refused')
  or diag($err);
# A server certificate from another CA: the helper refuses the server.
$rc = run_log([ $helper, '--config', "$dir/kmip.conf", '--ca', "$dir/rogue.crt",
	'--key-name', 'privacy-root-1' ], '>', \$out, '2>', \$err);
ok(!$rc && $out eq '' && $err =~ /cannot connect to KMIP server/, 'helper: a server it cannot verify is refused')
  or diag($err);

my $node = PostgreSQL::Test::Cluster->new('kmip');
$node->init;
sub set_conf
{
	my ($conf) = @_;
	open(my $cf, '>', $node->data_dir . '/postgresql.auto.conf') or die;
	print $cf "shared_preload_libraries = 'privacy_ext'\n$conf";
	close($cf);
}
set_conf("privacy.root_key_command = '$cmd1'\n");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION privacy_ext;
	SELECT privacy.create_key('hr');
	CREATE TABLE staff (id int PRIMARY KEY, ssn privacy.encrypted_text('hr'),
	                    email privacy.encrypted_text_det('hr'));
	INSERT INTO staff VALUES (1, '123-45-6789', 'ann@example.com');
});
is($node->safe_psql('postgres', q{SELECT encode(privacy.root_key_check(), 'hex')}),
	$check1, 'the server uses the KMIP key as its root key');
is($node->safe_psql('postgres', 'SELECT privacy.decrypt(ssn) FROM staff'),
	'123-45-6789', 'encrypts and decrypts under the KMIP root key');
$node->restart;
is($node->safe_psql('postgres', q{SELECT privacy.decrypt(ssn) FROM staff WHERE email = 'ann@example.com'}),
	'123-45-6789', 'decrypts after a restart (key fetched again)');

# Rotation to the second KMIP key.
set_conf("privacy.root_key_command = '$cmd2'\nprivacy.previous_root_key_command = '$cmd1'\n");
$node->restart;
is($node->safe_psql('postgres', 'SELECT privacy.decrypt(ssn) FROM staff'),
	'123-45-6789', 'during rotation: readable under the previous KMIP key');
is($node->safe_psql('postgres', 'SELECT privacy.rewrap_keys()'), '1', 'rewrap_keys() rewraps the one version');
$node->safe_psql('postgres', q{INSERT INTO staff VALUES (2, '987-65-4321', 'bob@example.com')});
set_conf("privacy.root_key_command = '$cmd2'\n");
$node->restart;
is($node->safe_psql('postgres', q{SELECT encode(privacy.root_key_check(), 'hex')}),
	$check2, 'after rotation the server uses the second KMIP key');
is($node->safe_psql('postgres', q{SELECT string_agg(root_key || ':' || root_key_check, ',') FROM privacy.key_versions}),
	"current:$check2", 'the key version is under the second KMIP key');
is($node->safe_psql('postgres', q{SELECT string_agg(privacy.decrypt(ssn), ',' ORDER BY id) FROM staff}),
	'123-45-6789,987-65-4321', 'old and new values decrypt without the first KMIP key');
$node->stop;

# Failures at start: the server does not start, and says why.
my $closed_port = PostgreSQL::Test::Cluster::get_free_port();
my $offset = -s $node->logfile;
set_conf("privacy.root_key_command = '$helper --config $dir/kmip.conf --port $closed_port --key-id $uid2'\n");
ok(!$node->start(fail_ok => 1), 'unreachable KMIP server: the server does not start');
my $log = substr(slurp_file($node->logfile), $offset);
like($log, qr/cannot connect to KMIP server 127\.0\.0\.1:$closed_port/, 'the log names the unreachable KMIP server');
like($log, qr/privacy\.root_key_command failed/, 'the log names the failing setting');

$offset = -s $node->logfile;
set_conf("privacy.root_key_command = '$helper --config $dir/kmip.conf --key-id 999999'\n");
ok(!$node->start(fail_ok => 1), 'wrong KMIP key id: the server does not start');
$log = substr(slurp_file($node->logfile), $offset);
like($log, qr/has no key with id 999999/, 'the log names the missing key id');

$offset = -s $node->logfile;
set_conf("privacy.root_key_command = '$cmd2'\nprivacy.previous_root_key_command = '$helper --config $dir/kmip.conf --key-name gone'\n");
ok(!$node->start(fail_ok => 1), 'missing previous KMIP key: the server does not start');
$log = substr(slurp_file($node->logfile), $offset);
like($log, qr/privacy\.previous_root_key_command failed/, 'the log names the previous key setting');

set_conf("privacy.root_key_command = '$cmd2'\n");
$node->start;
is($node->safe_psql('postgres', 'SELECT count(*) FROM staff'), '2', 'starts again with the right key');
$node->stop;

# No key bytes in any log: PostgreSQL's, the KMIP server's, the tools'.
my $all = slurp_file($node->logfile);
for my $f (glob("$dir/*.log"))
{
	$all .= slurp_file($f);
}
for my $hex ($hex1, $hex2)
{
	my $upper = uc $hex;
	ok($all !~ /\Q$hex\E/i && $all !~ /\Q$upper\E/, 'no log holds a root key in hex');
}

done_testing();
