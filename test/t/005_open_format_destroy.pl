# The ciphertext format is open: an independent implementation (Python's
# cryptography package) decrypts a GCM value and an AES-SIV value from the
# root key file alone.  And crypto-shredding: after destroy_key the key
# material is gone from the keys table's files, and the event is in the log.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PrivacyExtNode;
use Test::More;

my $root_hex = PrivacyExtNode::random_key_hex();
my $node = PrivacyExtNode::new_node('openformat', $root_hex);
my $keyfile = $node->basedir . '/root.key';

$node->safe_psql('postgres', q{
	CREATE EXTENSION privacy_ext;
	SELECT privacy.create_key('open');
	SELECT privacy.rotate_key('open');
	CREATE TABLE t (r privacy.encrypted_text('open'), d privacy.encrypted_text_det('open'),
	                b privacy.encrypted_bytea('open'));
	INSERT INTO t VALUES ('GCM plaintext, Zoë', 'SIV plaintext, 東京', '\x00ff10');
});

# What an outsider gets: the root key file, the wrapped keys, the envelopes.
my $keys = $node->safe_psql('postgres', q{
	SELECT key_id || ' ' || version || ' ' || encode(wrapped_key, 'hex')
	  FROM privacy.data_key_versions ORDER BY version});
my ($armor_r, $armor_d, $armor_b) = split /\|/, $node->safe_psql('postgres', q{
	SELECT privacy.encrypted_text_out(r)::text || '|' || privacy.encrypted_text_det_out(d)::text
	       || '|' || privacy.encrypted_bytea_out(b)::text FROM t});

my $py = <<'PY';
import base64, struct, sys
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives import hashes

root = bytes.fromhex(open(sys.argv[1]).read().strip())
data_keys = {}
for line in sys.argv[2].split("\n"):
    key_id, version, wrapped = line.split()
    w = bytes.fromhex(wrapped)
    aad = b"pxk1" + struct.pack(">II", int(key_id), int(version))
    data_keys[(int(key_id), int(version))] = AESGCM(root).decrypt(w[:12], w[12:], aad)

for armor in sys.argv[3:]:
    assert armor.startswith("pxe1:")
    env = base64.b64decode(armor[5:])
    fmt, vtype, key_id, version = struct.unpack(">BBII", env[:10])
    assert fmt == 1
    if vtype in (1, 2):            # AES-256-GCM: nonce, ciphertext, tag; header as AAD
        pt = AESGCM(data_keys[(key_id, version)]).decrypt(env[10:22], env[22:], env[:10])
    else:                          # AES-SIV under HKDF(data key, "privacy_ext siv v1")
        siv_key = HKDF(algorithm=hashes.SHA256(), length=64, salt=None,
                       info=b"privacy_ext siv v1").derive(data_keys[(key_id, version)])
        body = AESSIV(siv_key).decrypt(env[10:], [env[:10]])
        assert body[0] == vtype
        pt = body[1:]
    print(pt.hex())
PY
my ($stdout, $stderr);
IPC::Run::run([ 'python3', '-c', $py, $keyfile, $keys, $armor_r, $armor_d, $armor_b ],
	'>', \$stdout, '2>', \$stderr);
my @out = split /\n/, $stdout;
is(scalar(@out), 3, 'Python decrypted three envelopes') or diag($stderr);
is(pack('H*', $out[0] // ''), "GCM plaintext, Zo\xc3\xab", 'GCM value decrypted outside PostgreSQL');
is(pack('H*', $out[1] // ''), "SIV plaintext, \xe6\x9d\xb1\xe4\xba\xac", 'AES-SIV value decrypted outside PostgreSQL');
is($out[2] // '', '00ff10', 'bytea value decrypted outside PostgreSQL');

# --- destroy ---------------------------------------------------------------
my @wrapped = map { (split / /)[2] } split /\n/, $keys;
my $versions_file = $node->data_dir . '/' . $node->safe_psql('postgres',
	q{SELECT pg_relation_filepath('privacy.data_key_versions')});
$node->safe_psql('postgres', 'CHECKPOINT');
my $before = unpack('H*', slurp_file($versions_file));
ok((grep { index($before, $_) >= 0 } @wrapped) == 2, 'control: wrapped keys are in the keys table file');

my $log_offset = -s $node->logfile;
$node->safe_psql('postgres', q{SELECT privacy.destroy_key('open', 'destroy open')});
$node->safe_psql('postgres', 'VACUUM privacy.data_key_versions');
$node->safe_psql('postgres', 'CHECKPOINT');
my $after = unpack('H*', slurp_file($versions_file));
ok((grep { index($after, $_) >= 0 } @wrapped) == 0,
	'after destroy_key and VACUUM no wrapped key is left in the keys table file');
my ($ret, $out, $err) = $node->psql('postgres', 'SELECT privacy.decrypt(r) FROM t');
like($err, qr/has been destroyed/, 'decrypt after destroy fails with "destroyed"');
($ret, $out, $err) = $node->psql('postgres', '\set VERBOSITY sqlstate' . "\n" . 'SELECT privacy.decrypt(d) FROM t');
like($err, qr/PXK02/, 'its SQLSTATE is PXK02');
my $log = substr(slurp_file($node->logfile), $log_offset);
like($log, qr/privacy_ext key "open" \(id \d+\) destroyed by role "\w+"/, 'destroy is in the server log');
unlike($log, qr/$root_hex/, 'no root key bytes in the log');
ok(!(grep { index($log, $_) >= 0 } @wrapped), 'no wrapped key bytes in the log');

$node->stop;
done_testing();
