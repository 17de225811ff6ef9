# pg_dump run as a masked role (transparent masking, 1.1): it succeeds, its
# dump holds the masked values and no plaintext of any masked column (nor of
# a column without a rule, nor of rows without consent), the server log
# holds none either, and the dump restores into a new database.  The same
# dump taken by the owner holds the plaintext, so the checks can fail.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PrivacyExtNode;
use Test::More;

my $node = PrivacyExtNode::new_node('mdump', PrivacyExtNode::random_key_hex(),
	conf => "log_statement = 'all'\n");

# Plaintexts that must not leave the database through the masked dump.
my %secret = (
	name => 'Zelda Quartermaine',
	email => 'zelda.quartermaine@example.com',
	ssn => '987-65-4321',
	note => 'NOTE-SECRET-7731',
	salary => '98765',
	phone => '+31 6 5550 4477',
	unconsented => 'nobody-consented@example.org');
$node->safe_psql('postgres', qq{
	CREATE EXTENSION privacy_ext;
	SELECT privacy.create_key('hr');
	CREATE ROLE dumper LOGIN;
	CREATE SCHEMA app;
	GRANT USAGE ON SCHEMA app TO dumper;
	CREATE TABLE app.staff (id int PRIMARY KEY, name text, email text,
	                        ssn privacy.encrypted_text('hr'), salary int, note text);
	INSERT INTO app.staff VALUES
	  (1, '$secret{name}', '$secret{email}', '$secret{ssn}', $secret{salary}, '$secret{note}'),
	  (2, 'Bo Ek', 'bo\@example.net', '123-45-6789', 40000, NULL);
	SELECT privacy.set_mask('app.staff', 'id', 'none');
	SELECT privacy.set_mask('app.staff', 'name', 'partial(1, ''.'', 0)');
	SELECT privacy.set_mask('app.staff', 'email', 'email');
	SELECT privacy.set_mask('app.staff', 'ssn', 'partial(0, ''***-**-'', 4)');
	-- salary and note: no rule, redacted by default
	SELECT privacy.create_masking_view('app.staff');
	ALTER TABLE app.staff ADD COLUMN phone text;     -- added later: redacted too
	UPDATE app.staff SET phone = '$secret{phone}';
	SELECT privacy.create_purpose('mdump_news', 'consent');
	SELECT privacy.grant_purpose('dumper', 'mdump_news');
	CREATE TABLE public.customers (subject text PRIMARY KEY, email text);
	INSERT INTO public.customers VALUES ('c1', 'c1\@example.com'), ('c2', '$secret{unconsented}');
	SELECT privacy.protect_table('public.customers', 'subject');
	SELECT privacy.set_mask('public.customers', 'subject', 'none');
	SELECT privacy.set_mask('public.customers', 'email', 'email');
	SELECT privacy.create_masking_view('public.customers');
	SELECT privacy.grant_consent('c1', 'mdump_news');
	CREATE TABLE public.lookup (code text);          -- no masking view: read as granted
	INSERT INTO public.lookup VALUES ('LOOKUP-PLAIN');
	GRANT SELECT ON public.lookup TO dumper;
	SELECT privacy.mask_role('dumper');
});

my $masked_dump = $node->basedir . '/masked.sql';
my $masked_custom = $node->basedir . '/masked.custom';
my $owner_dump = $node->basedir . '/owner.sql';
my $dumper = $node->connstr('postgres') . ' user=dumper';
# What a masked role needs: no GRANT statements it could not reproduce, and
# none of the extension's tables (keys, grants, audit), which it may not read.
my @masked_opts = ('--no-privileges', '--exclude-table=privacy.*');

my $log_start = -s $node->logfile;
$node->command_ok([ 'pg_dump', @masked_opts, '-f', $masked_dump, '-d', $dumper ],
	'pg_dump as a masked role succeeds (plain)');
# The purpose comes with the connection, as for any session of the role.
{
	local $ENV{PGOPTIONS} = '-c privacy.purpose=mdump_news';
	$node->command_ok([ 'pg_dump', @masked_opts, '-Fc', '-f', $masked_custom, '-d', $dumper ],
		'pg_dump as a masked role succeeds (custom, with a purpose)');
}
# --inserts reads through a cursor instead of COPY.
my $masked_inserts = $node->basedir . '/masked_inserts.sql';
$node->command_ok([ 'pg_dump', @masked_opts, '--inserts', '-f', $masked_inserts, '-d', $dumper ],
	'pg_dump --inserts as a masked role succeeds');
my $log = slurp_file($node->logfile, $log_start);
$node->command_ok([ 'pg_dump', '-f', $owner_dump, '-d', $node->connstr('postgres') ],
	'pg_dump as the owner');

my $text = slurp_file($masked_dump);
my $inserts = slurp_file($masked_inserts);
foreach my $what (sort keys %secret)
{
	unlike($inserts, qr/\Q$secret{$what}\E/, "masked dump with --inserts: no plaintext ($what)");
}
like($inserts, qr/INSERT INTO app\.staff VALUES \(1, 'Z\.', 'z\*\*\*\@e\*\*\*\.com', '\*\*\*-\*\*-4321', 0, 'REDACTED', 'REDACTED'\);/,
	'masked dump with --inserts: the masked row');
my $owner_text = slurp_file($owner_dump);
foreach my $what (sort keys %secret)
{
	unlike($text, qr/\Q$secret{$what}\E/, "masked dump: no plaintext ($what)");
	unlike($log, qr/\Q$secret{$what}\E/, "server log of the masked dump: no plaintext ($what)");
}
foreach my $what ('name', 'email', 'note', 'salary', 'phone')
{
	like($owner_text, qr/\Q$secret{$what}\E/, "owner's dump: plaintext ($what), the check can fail");
}
like($text, qr/^1\tZ\.\tz\*\*\*\@e\*\*\*\.com\t\*\*\*-\*\*-4321\t0\tREDACTED\tREDACTED$/m,
	'masked dump: the masked row of app.staff');
like($text, qr/^LOOKUP-PLAIN$/m, 'masked dump: a table without masking view, as granted');
unlike($text, qr/^c\d\t/m, 'masked dump without a purpose: no rows of the protected table');
like($text, qr/COPY public\.customers \(subject, email\) FROM stdin;\n\\\.\n/,
	'masked dump: the protected table is there, empty');

# Restore the custom dump into a new database: definitions, then the key
# the encrypted column names (keys are not the masked role's to dump), then
# the data.
$node->safe_psql('postgres', 'CREATE DATABASE restored');
my $restored = $node->connstr('restored');
$node->command_ok([ 'pg_restore', '--exit-on-error', '--section=pre-data', '-d', $restored,
	$masked_custom ], 'restore: definitions');
$node->safe_psql('restored', q{SELECT privacy.create_key('hr')});
$node->command_ok([ 'pg_restore', '--exit-on-error', '--section=data', '--section=post-data',
	'-d', $restored, $masked_custom ], 'restore: data and constraints');
is($node->safe_psql('restored',
	q{SELECT id, name, email, privacy.decrypt(ssn), salary, note, phone FROM app.staff ORDER BY id}),
	"1|Z.|z***\@e***.com|***-**-4321|0|REDACTED|REDACTED\n"
	  . "2|B.|b***\@e***.net|***-**-6789|0||REDACTED",
	'restored: the masked values, encrypted again under the new database\'s key');
is($node->safe_psql('restored', q{SELECT subject, email FROM public.customers}),
	'c1|c***@e***.com', 'restored: only the consented row of the protected table');
is($node->safe_psql('restored', q{SELECT code FROM public.lookup}), 'LOOKUP-PLAIN',
	'restored: the table without masking view');
is($node->safe_psql('restored', q{SELECT count(*) FROM pg_class WHERE relnamespace = 'masked'::regnamespace}),
	'2', 'restored: the masking views came along');

# The masked role still cannot change the tables, and other views stay
# refused in a session that restricts views, as pg_dump's does.
my ($rc, $out, $err) = $node->psql('postgres', 'DELETE FROM app.staff',
	connstr => $dumper, extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/42501/, 'masked role: DELETE refused with 42501');
$node->safe_psql('postgres', q{
	CREATE VIEW public.plain_view AS SELECT code FROM public.lookup;
	GRANT SELECT ON public.plain_view TO dumper;
});
($rc, $out, $err) = $node->psql('postgres',
	"SET restrict_nonsystem_relation_kind = view; SELECT * FROM public.plain_view",
	connstr => $dumper);
like($err, qr/access to non-system view "plain_view" is restricted/,
	'restricted session: views other than masking views are still refused');
($rc, $out, $err) = $node->psql('postgres',
	"SET restrict_nonsystem_relation_kind = view; SELECT name FROM app.staff ORDER BY id",
	connstr => $dumper);
is($out, "Z.\nB.", 'restricted session: a masked read of the table works');

done_testing();
