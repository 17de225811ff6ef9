# Values near PostgreSQL's 1 GB limits.  An envelope's armored text form is a
# third larger than the envelope, so a value above about 805 MB encrypts and
# decrypts but has no text form: reading it as text is a clear 54000, not an
# internal error from the allocator, and the value stays readable by decrypt
# and by binary COPY.  Kept out of pg_regress because of its memory (a few GB
# in one backend) and its time under AddressSanitizer.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PrivacyExtNode;
use Test::More;

my $node = PrivacyExtNode::new_node('huge', PrivacyExtNode::random_key_hex());
# In memory, not in a table: storing 800 MB twice (heap and WAL) would only
# make the test slow.
$node->safe_psql('postgres', q{
	CREATE EXTENSION privacy_ext;
	SELECT privacy.create_key('huge');
});
my %huge = (
	encrypted_text  => q{privacy.encrypt(repeat('x', 810000000), 'huge')},
	encrypted_bytea => q{privacy.encrypt(convert_to(repeat('y', 810000000), 'UTF8'), 'huge')});

for my $type (sort keys %huge)
{
	my ($rc, $out, $err) = $node->psql('postgres',
		"SELECT privacy.${type}_out($huge{$type})::text IS NULL",
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	isnt($rc, 0, "$type above the text limit: text output refused");
	like($err, qr/ERROR:\s+54000: encrypted value too large for its text form/,
		"$type above the text limit: 54000 with its own message");
	unlike($err, qr/XX000|invalid memory alloc/, "$type above the text limit: not an allocator error");
}

# The value itself is intact: decrypt reads it whole, binary COPY carries it.
is($node->safe_psql('postgres', "SELECT octet_length(privacy.decrypt($huge{encrypted_text}))"),
	'810000000', 'the huge value still decrypts whole');
my $copyfile = $node->basedir . '/big.bin';
$node->safe_psql('postgres', "COPY (SELECT $huge{encrypted_text}) TO '$copyfile' WITH (FORMAT binary)");
ok(-s $copyfile > 810000000, 'binary COPY writes the huge envelope');

# Below the limit the text form round-trips (text COPY out and in).
my $textfile = $node->basedir . '/mid.txt';
is($node->safe_psql('postgres', qq{
	CREATE TABLE mid (v privacy.encrypted_text('huge'));
	COPY (SELECT privacy.encrypt(repeat('z', 10000000), 'huge')) TO '$textfile';
	COPY mid FROM '$textfile';
	SELECT privacy.decrypt(v) = repeat('z', 10000000) FROM mid}), 't',
	'a 10 MB value round-trips through its armored text form');

$node->stop;
done_testing();
