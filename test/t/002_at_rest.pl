# At rest: the plaintext of an encrypted column appears nowhere in the
# table's files (heap and TOAST), nor in WAL, after INSERT, UPDATE, VACUUM.
# A plain-text control column in the same rows proves the search works.
use strict;
use warnings;
use File::Find;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PrivacyExtNode;
use Test::More;

my $node = PrivacyExtNode::new_node('atrest', '5c' x 32);

my $secret_short = 'SECRET-SSN-7391-4462';
my $secret_update = 'SECRET-UPDATED-5518';
my $secret_long_unit = 'SECRET-LONG-PAYLOAD-';
my $secret_bytes = 'SECRET-BYTEA-0042';
my $secret_det = 'SECRET-DET-MAIL-3310';
my $control = 'CONTROL-PLAIN-9911';

$node->safe_psql('postgres', qq{
	CREATE EXTENSION privacy_ext;
	SELECT privacy.create_key('disk');
	CREATE TABLE people (id int, note text,
	                     ssn privacy.encrypted_text('disk'),
	                     doc privacy.encrypted_bytea('disk'),
	                     mail privacy.encrypted_text_det('disk'));
	-- literal, typed text, COPY-free paths; a long value goes to TOAST
	INSERT INTO people VALUES (1, '$control', '$secret_short', convert_to('$secret_bytes', 'UTF8'), '$secret_det');
	INSERT INTO people SELECT 2, 'x', repeat('$secret_long_unit', 500)::text, NULL;
	INSERT INTO people SELECT g, 'filler', 'filler-' || g, NULL FROM generate_series(3, 200) g;
	UPDATE people SET ssn = '$secret_update' WHERE id = 1;
	UPDATE people SET ssn = ssn WHERE id = 2;
	DELETE FROM people WHERE id > 100;
});
$node->safe_psql('postgres', 'VACUUM people');
$node->safe_psql('postgres', 'CHECKPOINT');

# The values are really there, under the key.
is($node->safe_psql('postgres', 'SELECT privacy.decrypt(ssn) FROM people WHERE id = 1'),
	$secret_update, 'updated value decrypts');
is($node->safe_psql('postgres', 'SELECT length(privacy.decrypt(ssn)) FROM people WHERE id = 2'),
	length($secret_long_unit) * 500, 'long value decrypts');
my $toast_pages = $node->safe_psql('postgres', q{
	SELECT pg_relation_size(reltoastrelid) FROM pg_class WHERE relname = 'people'});
cmp_ok($toast_pages, '>', 0, 'the long value was stored in TOAST');

my $datadir = $node->data_dir;
my @files;
foreach my $rel ('people', '(SELECT reltoastrelid FROM pg_class WHERE relname = \'people\')')
{
	my $path = $node->safe_psql('postgres',
		$rel eq 'people' ? q{SELECT pg_relation_filepath('people')}
		  : "SELECT pg_relation_filepath($rel)");
	push @files, glob("$datadir/$path*");
}
cmp_ok(scalar(@files), '>=', 2, 'found heap and TOAST files');
my $table_bytes = join('', map { slurp_file($_) } @files);

like($table_bytes, qr/\Q$control\E/, 'control: plain text column is readable in the heap file');
foreach my $s ($secret_short, $secret_update, $secret_long_unit, $secret_bytes, $secret_det)
{
	unlike($table_bytes, qr/\Q$s\E/, "heap and TOAST files do not contain '$s'");
}

# WAL carries the same tuples: no plaintext there either.
my $wal_bytes = '';
find(sub { $wal_bytes .= slurp_file($_) if -f $_ && /^[0-9A-F]{24}$/ }, "$datadir/pg_wal");
cmp_ok(length($wal_bytes), '>', 0, 'read WAL segments');
like($wal_bytes, qr/\Q$control\E/, 'control: plain text column is readable in WAL');
foreach my $s ($secret_short, $secret_update, $secret_long_unit, $secret_bytes, $secret_det)
{
	unlike($wal_bytes, qr/\Q$s\E/, "WAL does not contain '$s'");
}

$node->stop;
done_testing();
