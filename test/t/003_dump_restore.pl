# pg_dump / restore: keys (wrapped), grants and encrypted columns survive a
# dump restored into a new database of the same cluster; the dump holds no
# plaintext of encrypted columns and no key bytes (root or data key).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PrivacyExtNode;
use Test::More;

my $root_hex = '3e' x 16 . '7a' x 16;
my $node = PrivacyExtNode::new_node('dump', $root_hex);

my @secrets = ('DUMP-SECRET-ALPHA-1', 'DUMP-SECRET-BETA-22', 'Zoë-DUMP-東京-3');
$node->safe_psql('postgres', qq{
	CREATE ROLE dump_reader;
	CREATE EXTENSION privacy_ext;
	SELECT privacy.create_key('hr');
	SELECT privacy.create_key('pay');
	SELECT privacy.rotate_key('hr');
	SELECT privacy.grant_key('hr', 'dump_reader');
	-- a schema whose name sorts before "privacy": its data is restored
	-- before the key tables
	CREATE SCHEMA app;
	CREATE TABLE app.staff (id int PRIMARY KEY,
	                        ssn privacy.encrypted_text('hr'),
	                        card privacy.encrypted_text('pay'),
	                        doc privacy.encrypted_bytea('hr'),
	                        email privacy.encrypted_text_det('hr') UNIQUE);
	INSERT INTO app.staff VALUES (1, '$secrets[0]', '$secrets[1]', '\\x0102', 'DUMP-MAIL-1\@example.com');
	INSERT INTO app.staff VALUES (2, '$secrets[2]', NULL, NULL, 'DUMP-MAIL-2\@example.com');
	SELECT privacy.set_mask('app.staff', 'ssn', 'partial(0, ''***'', 2)');
	SELECT privacy.set_mask('app.staff', 'ssn', 'none', role => 'dump_reader');
	SELECT privacy.create_masking_view('app.staff');
	CREATE ROLE dump_support;
	SELECT privacy.mask_role('dump_support');
	CREATE TABLE public.more (v privacy.encrypted_text('hr'));
	INSERT INTO public.more SELECT 'more-' || g FROM generate_series(1, 100) g;
	SELECT privacy.classify('app.staff', 'ssn', 'sensitive', 'national_id');
	SELECT privacy.create_purpose('news', 'consent');
	CREATE TABLE app.readers (reader_id text PRIMARY KEY);
	INSERT INTO app.readers VALUES ('r1');
	SELECT privacy.protect_table('app.readers', 'reader_id', on_erase => 'delete');
	SELECT privacy.grant_consent('r1', 'news');
	-- Protected trees: a partitioned table and an inheritance parent, with
	-- children added before and after protect_table.  The restore runs
	-- ENABLE ROW LEVEL SECURITY on the parents once the registry is back
	-- and before the children's dumped policies: it must not protect the
	-- children a second time.
	CREATE TABLE app.visits (reader_id text, at date) PARTITION BY RANGE (at);
	CREATE TABLE app.visits_2025 PARTITION OF app.visits FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
	SELECT privacy.protect_table('app.visits', 'reader_id');
	CREATE TABLE app.visits_2026 PARTITION OF app.visits FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
	INSERT INTO app.visits VALUES ('r1', '2025-05-01'), ('r2', '2026-05-01');
	CREATE TABLE app.notes (reader_id text, note text);
	CREATE TABLE app.notes_eu () INHERITS (app.notes);
	SELECT privacy.protect_table('app.notes', 'reader_id');
	CREATE TABLE app.notes_us () INHERITS (app.notes);
	INSERT INTO app.notes_us VALUES ('r1', 'n1'), ('r2', 'n2');
	CREATE ROLE dump_news;
	GRANT USAGE ON SCHEMA app TO dump_news;
	GRANT SELECT ON app.visits, app.visits_2026, app.notes, app.notes_us TO dump_news;
	SELECT privacy.grant_purpose('dump_news', 'news');
});
# A key destroyed before the dump: the key tables (schema privacy) are
# restored before public's data, so the restore meets values under a key it
# already knows as destroyed.  They are kept as they are (noise for good),
# and so are their rows' other columns.
$node->safe_psql('postgres', q{
	SELECT privacy.create_key('gone');
	CREATE TABLE public.shred (id int, note text, s privacy.encrypted_text('gone'));
	INSERT INTO public.shred VALUES (1, 'kept row', NULL), (2, 'shredded row', 'SHREDDED-VALUE');
});
$node->safe_psql('postgres', q{SELECT privacy.destroy_key('gone')});
$node->safe_psql('postgres', q{
	ALTER SYSTEM SET privacy.audit = 'log,table';
	SELECT pg_reload_conf();
});
# Events in privacy.audit_log, to be carried by the dump.
$node->safe_psql('postgres', 'SELECT count(privacy.decrypt(ssn)) FROM app.staff');
my $audit_before = $node->safe_psql('postgres',
	q{SELECT string_agg(action || ':' || coalesce(object, '') || ':' || count, ',' ORDER BY event_id) FROM privacy.audit_log});
like($audit_before, qr/decrypt:app\.staff\.ssn:2/, 'decrypt event in the audit log before the dump');
my $query = q{SELECT id, privacy.decrypt(ssn), privacy.decrypt(card), privacy.decrypt(doc)
	FROM app.staff ORDER BY id};
my $before = $node->safe_psql('postgres', $query);
my $more_before = $node->safe_psql('postgres',
	'SELECT md5(string_agg(privacy.decrypt(v), \',\' ORDER BY 1)) FROM public.more');

my $dump = $node->basedir . '/dump.sql';
$node->command_ok([ 'pg_dump', '-f', $dump, '-d', $node->connstr('postgres') ],
	'pg_dump (plain)');
my $dump_custom = $node->basedir . '/dump.custom';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump_custom, '-d', $node->connstr('postgres') ],
	'pg_dump (custom)');

# Restore the plain dump with psql and the custom one with pg_restore.
$node->safe_psql('postgres', 'CREATE DATABASE restored_plain');
$node->safe_psql('postgres', 'CREATE DATABASE restored_custom');
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', $dump,
	'-d', $node->connstr('restored_plain') ], 'restore plain dump with psql');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', $node->connstr('restored_custom'),
	$dump_custom ], 'restore custom dump with pg_restore');

foreach my $db ('restored_plain', 'restored_custom')
{
	is($node->safe_psql($db, $query), $before, "$db: same plaintext after restore");
	is($node->safe_psql($db,
		'SELECT md5(string_agg(privacy.decrypt(v), \',\' ORDER BY 1)) FROM public.more'),
		$more_before, "$db: second table decrypts too");
	is($node->safe_psql($db, q{SELECT name || ':' || active_version || ':' || array_to_string(granted_to, ',')
		FROM privacy.keys WHERE name = 'hr'}), 'hr:2:dump_reader', "$db: key versions and grants restored");
	is($node->safe_psql($db, q{SELECT format_type(atttypid, atttypmod) FROM pg_attribute
		WHERE attrelid = 'app.staff'::regclass AND attname = 'card'}),
		q{privacy.encrypted_text('pay')}, "$db: column still names its key");
	is($node->safe_psql($db, q{SELECT id FROM app.staff WHERE email = 'DUMP-MAIL-2@example.com'}),
		'2', "$db: deterministic lookup works after restore");
	is($node->safe_psql($db, q{SET ROLE dump_support; SELECT string_agg(ssn, ',' ORDER BY id) FROM masked.staff}),
		'***-1,***-3', "$db: masking view and rules restored; the masked role sees masked values");
	is($node->safe_psql($db, q{SELECT rule FROM privacy.mask_rules WHERE role_name = 'dump_reader'}),
		'none', "$db: role-specific rule restored");
	is($node->safe_psql($db, q{SELECT level || ':' || category FROM privacy.classifications}),
		'sensitive:national_id', "$db: classification restored");
	is($node->safe_psql($db, q{SELECT on_erase FROM privacy.protected_tables WHERE relid = 'app.readers'::regclass}),
		'delete', "$db: protected table and its erasure mode restored");
	is($node->safe_psql($db,
		q{SELECT action || ':' || coalesce(object, '') || ':' || count FROM privacy.audit_log ORDER BY event_id LIMIT 1}),
		$audit_before, "$db: audit log restored");
	is($node->safe_psql($db, q{SELECT count(*) FROM privacy.audit_log WHERE action LIKE 'consent%'}),
		'0', "$db: replaying consent_events in the restore is not audited as new consents");
	is($node->safe_psql($db, q{SELECT string_agg(id || ':' || note || ':' || (s IS NULL), ',' ORDER BY id)
		FROM public.shred}), '1:kept row:true,2:shredded row:false',
		"$db: rows with values under a destroyed key restored, the values kept");
	my ($rc, $out, $err) = $node->psql($db, q{SELECT privacy.decrypt(s) FROM public.shred WHERE id = 2});
	like($err, qr/destroyed/, "$db: a restored value under the destroyed key still fails as destroyed");
	is($node->safe_psql($db, q{SELECT string_agg(c.relname || ':' || c.relforcerowsecurity || ':' ||
			(SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname LIKE 'privacy%'),
			',' ORDER BY c.relname)
		FROM pg_class c WHERE c.relnamespace = 'app'::regnamespace AND c.relkind IN ('r', 'p')
		  AND (c.relname LIKE 'visits%' OR c.relname LIKE 'notes%')}),
		'notes:true:7,notes_eu:true:7,notes_us:true:7,visits:true:7,visits_2025:true:7,visits_2026:true:7',
		"$db: every table of the protected trees has its consent policies, once");
	is($node->safe_psql($db, q{SET ROLE dump_news; SET privacy.purpose = 'news';
		SELECT coalesce((SELECT string_agg(reader_id, ',') FROM app.visits_2026), '') || '|' ||
		       (SELECT string_agg(reader_id || note, ',' ORDER BY note) FROM app.notes_us) || '|' ||
		       (SELECT count(*) FROM app.visits)}),
		'|r1n1|1', "$db: children read directly show only consenting subjects' rows");
	# New writes work in the restored database.
	$node->safe_psql($db, q{INSERT INTO app.staff VALUES (3, 'after-restore', NULL, NULL)});
	is($node->safe_psql($db, 'SELECT privacy.decrypt(ssn) FROM app.staff WHERE id = 3'),
		'after-restore', "$db: encrypts after restore");
}

# The dump holds envelopes, not plaintext, and no key bytes.
my $text = slurp_file($dump);
like($text, qr/pxe1:/, 'dump contains envelopes');
foreach my $s (@secrets, 'more-17', 'DUMP-MAIL-1')
{
	unlike($text, qr/\Q$s\E/, "dump does not contain plaintext '$s'");
}
unlike($text, qr/$root_hex/i, 'dump does not contain the root key');

# Unwrap the data keys with an independent implementation (Python's
# cryptography package) to get their raw bytes, then check the dump for them.
my $wrapped = $node->safe_psql('postgres', q{
	SELECT key_id || ' ' || version || ' ' || encode(wrapped_key, 'hex')
	  FROM privacy.data_key_versions WHERE wrapped_key IS NOT NULL ORDER BY key_id, version});
my $py = <<'PY';
import sys, struct
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
root = bytes.fromhex(sys.argv[1])
for line in sys.stdin.read().split("\n"):
    if not line.strip():
        continue
    key_id, version, wrapped = line.split()
    w = bytes.fromhex(wrapped)
    aad = b"pxk1" + struct.pack(">II", int(key_id), int(version))
    print(AESGCM(root).decrypt(w[:12], w[12:], aad).hex())
PY
my ($stdout, $stderr);
IPC::Run::run([ 'python3', '-c', $py, $root_hex ], '<', \$wrapped, '>', \$stdout, '2>', \$stderr);
my @data_keys = grep { /^[0-9a-f]{64}$/ } split /\n/, $stdout;
is(scalar(@data_keys), 3, 'unwrapped all three data key versions independently') or diag($stderr);
foreach my $k (@data_keys)
{
	my $prefix = substr($k, 0, 24);
	unlike($text, qr/$prefix/i, 'dump does not contain a raw data key');
}

$node->stop;
done_testing();
