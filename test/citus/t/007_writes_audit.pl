# Writes on distributed tables (issue 21, point 5): INSERT ... SELECT of
# plaintext into encrypted columns (from a local and from a distributed
# table), COPY, reencrypt after a rotation, export_subject and
# erase_subject.  Each INSERT ... SELECT row gets its own nonce.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use FindBin;
use lib "$FindBin::RealBin/../../perl";
use PrivacyExtNode;
use CitusCluster;
use Test::More;

plan skip_all => 'Citus is not installed' unless CitusCluster::available();

my $cluster = CitusCluster->new('writes', PrivacyExtNode::random_key_hex());
my $coord = $cluster->coordinator;
my @workers = $cluster->workers;

$coord->safe_psql('postgres', 'CREATE EXTENSION privacy_ext');
$coord->safe_psql('postgres', "SELECT privacy.create_key('k')");
$coord->safe_psql('postgres', q{
	CREATE TABLE customers (id int, subject text, email privacy.encrypted_text_det('k'),
	                        name privacy.encrypted_text('k'), note privacy.encrypted_bytea('k'));
	SELECT create_distributed_table('customers', 'id');
	CREATE TABLE staging (id int, subject text, email text, name varchar, note bytea);
	INSERT INTO staging SELECT i, 's' || (i % 7), 'c' || i || '@x', 'same name', '\x0102'
	  FROM generate_series(1, 200) i;
});

# INSERT ... SELECT from a local table, with and without a column list.
$coord->safe_psql('postgres', q{
	INSERT INTO customers SELECT id, subject, email, name, note FROM staging WHERE id <= 100;
	INSERT INTO customers (id, subject, email, name, note)
	  SELECT id, subject, email, name, note FROM staging WHERE id > 100 ORDER BY id;
});
is($coord->safe_psql('postgres', q{
	SELECT count(*), count(*) FILTER (WHERE name::text = 'same name'),
	       count(*) FILTER (WHERE email::text = 'c' || id || '@x'), bool_and(note::bytea = '\x0102')
	  FROM customers}), '200|200|200|t', 'INSERT ... SELECT from a local table: 200 rows, values decrypt');
my @env = split /\n/, $coord->safe_psql('postgres', 'SELECT name FROM customers');
my %seen = map { $_ => 1 } @env;
is(scalar(keys %seen), 200, 'the same plaintext in 200 rows: 200 different envelopes (a nonce per row)');
is($coord->safe_psql('postgres', "SELECT id FROM customers WHERE email = 'c42\@x'"), '42',
	'a deterministic value written by INSERT ... SELECT is found by lookup');

# INSERT ... SELECT between distributed tables (the SELECT runs on the workers).
$coord->safe_psql('postgres', q{
	CREATE TABLE copies (id int, name privacy.encrypted_text('k'));
	SELECT create_distributed_table('copies', 'id', colocate_with => 'customers');
	INSERT INTO copies SELECT id, name::text || ' copy' FROM customers;
});
is($coord->safe_psql('postgres', "SELECT count(*), min(name::text) FROM copies"), '200|same name copy',
	'INSERT ... SELECT between distributed tables');

# COPY into the distributed table, text and csv.
$coord->safe_psql('postgres', "COPY customers (id, subject, email, name) FROM STDIN;\n"
	  . "301\ts1\tcopy1\@x\tCopied One\n302\ts2\tcopy2\@x\tCopied Two\n\\.\n");
$coord->safe_psql('postgres', "COPY customers (id, subject, email, name) FROM STDIN WITH (FORMAT csv);\n"
	  . "303,s3,copy3\@x,\"Copied, Three\"\n\\.\n");
is($coord->safe_psql('postgres', q{
	SELECT string_agg(name::text, '|' ORDER BY id) FROM customers WHERE id > 300}),
	'Copied One|Copied Two|Copied, Three', 'COPY (text and csv) into encrypted columns');
is($coord->safe_psql('postgres', "SELECT id FROM customers WHERE email = 'copy3\@x'"), '303',
	'a deterministic value written by COPY is found by lookup');

# reencrypt after a rotation: every shard rewritten, count returned.
$coord->safe_psql('postgres', "SELECT privacy.rotate_key('k')");
$coord->safe_psql('postgres', "INSERT INTO customers (id, subject, name) VALUES (400, 's9', 'new version')");
is($coord->safe_psql('postgres', q{
	SELECT string_agg(v || ':' || c, ',' ORDER BY v) FROM
	  (SELECT privacy.envelope_key_version(name) v, count(*) c FROM customers GROUP BY 1) s}),
	'1:203,2:1', 'before reencrypt: 203 rows under version 1');
is($coord->safe_psql('postgres', "SELECT privacy.reencrypt('customers', 'name', 50)"), '203',
	'reencrypt of a distributed table: 203 rows rewritten');
is($coord->safe_psql('postgres', q{
	SELECT string_agg(v || ':' || c, ',' ORDER BY v) FROM
	  (SELECT privacy.envelope_key_version(name) v, count(*) c FROM customers GROUP BY 1) s}),
	'2:204', 'after reencrypt: every row under version 2');
is($coord->safe_psql('postgres', "SELECT count(*) FROM customers WHERE name::text = 'same name'"), '200',
	'values still decrypt after reencrypt');
is($coord->safe_psql('postgres', "SELECT privacy.reencrypt('customers', 'name')"), '0',
	'reencrypt again: nothing to do');
is($coord->safe_psql('postgres', "SELECT privacy.reencrypt('customers', 'email')"), '0',
	'reencrypt of the deterministic column: nothing to do');

# Data-subject requests on the distributed table.
$coord->safe_psql('postgres', "SELECT privacy.protect_table('customers', 'subject')");
is($coord->safe_psql('postgres', q{
	SELECT jsonb_array_length(privacy.export_subject('s3') -> 'tables' -> 'public.customers')}),
	'30', 'export_subject: the subject\'s 30 rows');
is($coord->safe_psql('postgres', q{
	SELECT e ->> 'name', e ->> 'email' FROM
	  jsonb_array_elements(privacy.export_subject('s3') -> 'tables' -> 'public.customers') e
	 WHERE (e ->> 'id')::int = 303}), 'Copied, Three|copy3@x', 'export_subject decrypts the rows');
is($coord->safe_psql('postgres', q{
	SELECT privacy.erase_subject('s3') -> 'tables' -> 'public.customers' ->> 'deleted'}),
	'30', 'erase_subject deletes the 30 rows');
is($coord->safe_psql('postgres', "SELECT count(*) FROM customers WHERE subject = 's3'"), '0',
	'none of them left');
is($coord->safe_psql('postgres', "SELECT count(*) FROM customers"), '174', 'the others stay');

$cluster->stop;
done_testing();
