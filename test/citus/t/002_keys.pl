# The cluster-wide key store (issue 21, point 1): create, grant, revoke,
# rotate and destroy made on the coordinator are in force on every node
# when they commit, through the reference table privacy.cluster_sync;
# refused on every node while a worker is unreachable; material wiped on
# every node; only the extension's owner may ship changes; no key bytes in
# a worker's log when an apply fails there.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use FindBin;
use lib "$FindBin::RealBin/../../perl";
use PrivacyExtNode;
use CitusCluster;
use Test::More;

plan skip_all => 'Citus is not installed' unless CitusCluster::available();

my $root_hex = PrivacyExtNode::random_key_hex();
my $cluster = CitusCluster->new('keys', $root_hex);
my $coord = $cluster->coordinator;
my ($w1, $w2) = $cluster->workers;

# One SQL text on a node: (stdout, stderr), never dying.
sub run
{
	my ($node, $sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', $sql);
	return ($out, $err);
}

# What a node's key tables say, wrapped bytes included (compared, never printed).
my $state_sql = q{SELECT coalesce(string_agg(format('%s|%s|%s|%s', k.name, k.key_id, k.active_version,
                         k.destroyed_at IS NOT NULL), ';' ORDER BY k.key_id), '') || ' / ' ||
       (SELECT coalesce(string_agg(format('%s|%s|%s|%s', v.key_id, v.version, md5(v.wrapped_key),
                         md5(v.root_key_check)), ';' ORDER BY v.key_id, v.version), '')
          FROM privacy.data_key_versions v) || ' / ' ||
       (SELECT coalesce(string_agg(format('%s|%s|%s', g.key_id, g.grantee::text, g.grantee_name), ';'
                         ORDER BY g.key_id, g.grantee::text), '')
          FROM privacy.key_grants g)
  FROM privacy.data_keys k};
sub state { return $_[0]->safe_psql('postgres', $state_sql); }

sub same_everywhere
{
	my ($what) = @_;
	my $c = state($coord);
	for my $w ($w1, $w2)
	{
		is(state($w), $c, "$what: worker " . $w->name . ' holds what the coordinator holds');
	}
	return $c;
}

$coord->safe_psql('postgres', q{
	CREATE EXTENSION privacy_ext;
	CREATE ROLE clerk LOGIN;
	CREATE ROLE mallory LOGIN;
	SELECT privacy.create_key('hr');
	SELECT privacy.grant_key('hr', 'clerk');
});
my $s = same_everywhere('create_key, grant_key');
like($s, qr/^hr\|\d+\|1\|f \/ \d+\|1\|\w{32}\|\w{32} \/ \d+\|clerk\|clerk$/,
	'the key, its version and its grant are there');
is($coord->safe_psql('postgres', 'SELECT count(*) FROM privacy.cluster_sync'), '0',
	'the sync table stores nothing');
is($w1->safe_psql('postgres', q{SELECT g.grantee::oid = r.oid FROM privacy.key_grants g
	JOIN pg_roles r ON r.rolname = 'clerk'}), 't', "a grant names the worker's own role OID");

# A key operation rolled back reaches no node.
$coord->safe_psql('postgres', q{BEGIN; SELECT privacy.create_key('tmp'); ROLLBACK;});
is($w1->safe_psql('postgres', q{SELECT count(*) FROM privacy.data_keys WHERE name = 'tmp'}), '0',
	'a rolled back create_key is not on a worker');

# A distributed table under the key: its shards are made on the workers.
$coord->safe_psql('postgres', q{
	CREATE TABLE staff (id int PRIMARY KEY, ssn privacy.encrypted_text('hr'),
	                    email privacy.encrypted_text_det('hr'));
	SELECT create_distributed_table('staff', 'id');
	INSERT INTO staff VALUES (1, 's1', 'e1'), (2, 's2', 'e2'), (3, 's3', 'e3'), (4, 's4', 'e4'),
	                         (5, 's5', 'e5'), (6, 's6', 'e6'), (7, 's7', 'e7'), (8, 's8', 'e8');
	GRANT SELECT ON staff TO clerk;
});
is($coord->safe_psql('postgres', q{SELECT count(DISTINCT nodeport) FROM pg_dist_shard_placement p
	JOIN pg_dist_shard s USING (shardid) WHERE s.logicalrelid = 'staff'::regclass}), '2',
	'staff has shards on both workers');
is($coord->safe_psql('postgres', q{SET ROLE clerk; SELECT string_agg(ssn::text || email::text, ',' ORDER BY id) FROM staff}),
	's1e1,s2e2,s3e3,s4e4,s5e5,s6e6,s7e7,s8e8', 'clerk decrypts every row, on both workers');

# Rotation: new values sealed under version 2, on every shard.
$coord->safe_psql('postgres', q{SELECT privacy.rotate_key('hr')});
same_everywhere('rotate_key');
$coord->safe_psql('postgres', q{INSERT INTO staff VALUES (11, 'n1', 'f1'), (12, 'n2', 'f2'), (13, 'n3', 'f3'), (14, 'n4', 'f4'),
	(15, 'n5', 'f5'), (16, 'n6', 'f6'), (17, 'n7', 'f7'), (18, 'n8', 'f8')});
is($coord->safe_psql('postgres', q{SELECT string_agg(DISTINCT privacy.envelope_key_version(ssn)::text, ',')
	FROM staff WHERE id > 10}), '2', 'writes after the rotation use version 2 on every shard');
is($coord->safe_psql('postgres', q{SELECT count(DISTINCT nodeport) FROM pg_dist_shard_placement
	WHERE shardid IN (SELECT get_shard_id_for_distribution_column('staff', id) FROM staff WHERE id > 10)}), '2',
	'and those writes went to both workers');

# Revocation: in force at the next statement of a session whose worker
# connections (and their key caches) are already warm.
my ($out, $err) = run($coord, q{
	SET ROLE clerk;
	SELECT count(ssn::text) FROM staff;
	RESET ROLE;
	SELECT privacy.revoke_key('hr', 'clerk');
	SET ROLE clerk;
	SELECT count(ssn::text) FROM staff;
});
like($out, qr/^16$/m, 'before the revoke the session decrypts all rows');
like($err, qr/permission denied for privacy_ext key "hr".*\n.*\n?.*while executing command on 127\.0\.0\.1/,
	'after the revoke the next statement fails on a worker');
same_everywhere('revoke_key');
($out, $err) = run($coord, q{
	SET ROLE clerk;
	SELECT count(*) FROM staff;
	RESET ROLE;
	SELECT privacy.grant_key('hr', 'clerk');
	SET ROLE clerk;
	SELECT count(ssn::text) FROM staff;
});
like($out, qr/^16$/m, 'granted again: the next statement decrypts') or diag($err);

# --- an unreachable worker: every key operation refused, nothing changed ---
$coord->safe_psql('postgres', q{SELECT privacy.create_key('other')});
my $before = same_everywhere('before the worker stops');
$w2->stop;
for my $op (
	[ 'create_key', q{SELECT privacy.create_key('late')} ],
	[ 'grant_key', q{SELECT privacy.grant_key('other', 'clerk')} ],
	[ 'revoke_key', q{SELECT privacy.revoke_key('hr', 'clerk')} ],
	[ 'rotate_key', q{SELECT privacy.rotate_key('hr')} ],
	[ 'destroy_key', q{SELECT privacy.destroy_key('other', 'destroy other')} ])
{
	($out, $err) = run($coord, $op->[1]);
	like($err, qr/connection to the remote node .*127\.0\.0\.1:\d+ failed/,
		"$op->[0] with a worker down is refused, naming the node");
}
is(state($coord), $before, 'nothing changed on the coordinator');
is(state($w1), $before, 'nothing changed on the reachable worker');
is($coord->safe_psql('postgres', q{SELECT count(*) FROM privacy.data_key_versions v
	JOIN privacy.data_keys k USING (key_id) WHERE k.name = 'other' AND v.wrapped_key <> '\x'::bytea
	AND v.wrapped_key <> decode(repeat('00', 60), 'hex')}), '1',
	"the refused destroy overwrote none of the coordinator's key material");
$w2->start;
is(state($w2), $before, 'the stopped worker missed nothing');
$coord->safe_psql('postgres', q{SELECT privacy.create_key('late'); SELECT privacy.grant_key('other', 'clerk')});
same_everywhere('with the worker back, operations work');

# --- destroy: material wiped in place on every node ------------------------
my %file;
my %wrapped;
for my $n ($coord, $w1, $w2)
{
	$file{ $n->name } = $n->data_dir . '/' . $n->safe_psql('postgres',
		q{SELECT pg_relation_filepath('privacy.data_key_versions')});
	$wrapped{ $n->name } = [ split /\n/, $n->safe_psql('postgres', q{SELECT encode(wrapped_key, 'hex')
		FROM privacy.data_key_versions v JOIN privacy.data_keys k USING (key_id) WHERE k.name = 'hr'}) ];
	$n->safe_psql('postgres', 'CHECKPOINT');
	my $bytes = unpack('H*', slurp_file($file{ $n->name }));
	is(scalar(grep { index($bytes, $_) >= 0 } @{ $wrapped{ $n->name } }), 2,
		'control: both wrapped versions of hr are in the key file of ' . $n->name);
}
my %log_offset = map { $_->name => -s $_->logfile } ($coord, $w1, $w2);
$coord->safe_psql('postgres', q{SELECT privacy.destroy_key('hr', 'destroy hr')});
for my $n ($coord, $w1, $w2)
{
	$n->safe_psql('postgres', 'VACUUM privacy.data_key_versions');
	$n->safe_psql('postgres', 'CHECKPOINT');
	my $bytes = unpack('H*', slurp_file($file{ $n->name }));
	is(scalar(grep { index($bytes, $_) >= 0 } @{ $wrapped{ $n->name } }), 0,
		'after destroy_key no wrapped version of hr is left in the key file of ' . $n->name);
}
same_everywhere('destroy_key');
($out, $err) = run($coord, q{SELECT count(ssn::text) FROM staff});
like($err, qr/has been destroyed/, 'decrypt of the distributed table after destroy fails: destroyed');
($out, $err) = run($coord, q{SELECT count(email::text) FROM staff});
like($err, qr/has been destroyed/, 'and for the deterministic column too');
for my $n ($coord, $w1, $w2)
{
	my $log = substr(slurp_file($n->logfile), $log_offset{ $n->name });
	ok(!(grep { index($log, $_) >= 0 } @{ $wrapped{ $n->name } }), 'no wrapped key in the log of ' . $n->name);
}

# --- who may ship --------------------------------------------------------
$coord->safe_psql('postgres', q{GRANT privacy_admin TO mallory; GRANT INSERT ON privacy.cluster_sync TO mallory});
($out, $err) = run($coord, q{SET ROLE mallory;
	INSERT INTO privacy.cluster_sync VALUES (99, 'key_grants', 'DELETE', '{}', NULL)});
like($err, qr/permission denied to apply a change of privacy_ext's tables/,
	'a role granted INSERT on the sync table is still refused by the nodes');
($out, $err) = run($w1, q{SELECT privacy.citus_wipe_key_version(1, 0)});
like($err, qr/runs only while a change of the Citus coordinator is applied/,
	'the in-place wipe is refused outside an apply, even to a superuser');
# privacy_admin members administer keys: the ship runs as the extension's owner.
$coord->safe_psql('postgres', q{SET ROLE mallory; SELECT privacy.create_key('by_admin')});
is($w2->safe_psql('postgres', q{SELECT count(*) FROM privacy.data_keys WHERE name = 'by_admin'}), '1',
	'a privacy_admin member (not the owner) creates a key that reaches the workers');

# --- a failing apply leaves no key material in the worker's log -----------
# A worker that refuses new versions (planted for the test): create_key fails
# there with the wrapped key in the shipped row.
$w1->safe_psql('postgres', q{
	SET citus.enable_ddl_propagation = off;
	CREATE FUNCTION public.refuse() RETURNS trigger LANGUAGE plpgsql AS
	  $$BEGIN RAISE EXCEPTION 'planted refusal'; END$$;
	CREATE TRIGGER refuse BEFORE INSERT ON privacy.data_key_versions
	  FOR EACH ROW EXECUTE FUNCTION public.refuse();
});
my $w1_offset = -s $w1->logfile;
($out, $err) = run($coord, q{SELECT privacy.create_key('refused')});
like($err, qr/planted refusal/, 'the planted refusal on a worker refuses create_key');
is($coord->safe_psql('postgres', q{SELECT count(*) FROM privacy.data_keys WHERE name = 'refused'}), '0',
	'and the key is not on the coordinator');
my $w1_log = substr(slurp_file($w1->logfile), $w1_offset);
like($w1_log, qr/planted refusal/, 'control: the refusal is in the worker log');
unlike($w1_log, qr/[0-9a-f]{100}/, 'no key-sized hex (a wrapped key) in the worker log');
unlike($w1_log, qr/$root_hex/, 'no root key in the worker log');
$w1->safe_psql('postgres', q{SET citus.enable_ddl_propagation = off; DROP TRIGGER refuse ON privacy.data_key_versions});

# --- rewrap (changing the root key): the new wrapping reaches every node ----
$coord->safe_psql('postgres', q{
	CREATE TABLE notes (id int PRIMARY KEY, body privacy.encrypted_text('other'));
	SELECT create_distributed_table('notes', 'id');
	INSERT INTO notes VALUES (1, 'b1'), (2, 'b2'), (3, 'b3'), (4, 'b4'), (5, 'b5'), (6, 'b6');
});
my $new_root = PrivacyExtNode::random_key_hex();
for my $n ($coord, $w1, $w2)
{
	my $new_file = $n->basedir . '/root2.key';
	open(my $fh, '>', $new_file) or die "$new_file: $!";
	print $fh "$new_root\n";
	close($fh);
	chmod(0600, $new_file) or die;
	# (postgresql.conf, last setting wins: Citus keeps its own in postgresql.auto.conf)
	$n->append_conf('postgresql.conf', "privacy.root_key_file = '$new_file'\n"
		  . "privacy.previous_root_key_file = '" . $n->basedir . "/root.key'\n");
	$n->restart;
}
my $before_rewrap = same_everywhere('before rewrap');
isnt($coord->safe_psql('postgres', 'SELECT privacy.rewrap_keys()'), '0', 'rewrap_keys() rewraps versions');
my $after_rewrap = same_everywhere('rewrap_keys');
isnt($after_rewrap, $before_rewrap, 'the workers hold the new wrapping');
is($w2->safe_psql('postgres', q{SELECT count(*) FROM privacy.data_key_versions
	WHERE wrapped_key IS NOT NULL AND root_key_check <> privacy.root_key_check()}), '0',
	"every version on a worker is under the new root key, by the worker's own check value");
my @derivation = map { $_->safe_psql('postgres', q{SELECT md5(wrapped_key) FROM privacy.root_derivation_key}) }
  ($coord, $w1, $w2);
ok($derivation[0] ne '' && $derivation[1] eq $derivation[0] && $derivation[2] eq $derivation[0],
	"the rewrap's stored root derivation key is the same on every node");
# The old root key leaves the workers: what they decrypt is under the new one.
for my $n ($w1, $w2)
{
	$n->append_conf('postgresql.conf', "privacy.previous_root_key_file = ''\n");
	$n->restart;
}
is($coord->safe_psql('postgres', q{SELECT string_agg(body::text, ',' ORDER BY id) FROM notes}),
	'b1,b2,b3,b4,b5,b6', 'workers without the old root key decrypt every row after the rewrap');

$cluster->stop;
done_testing();
