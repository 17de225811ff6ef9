# privacy.report() rendered by a real browser: headless Chromium (Debian
# package chromium) turns the HTML report into a PNG screenshot and a PDF and
# dumps the DOM it built.  The page must not be blank, its tables must hold
# the rows the catalog says they should (one cell per header in every row),
# and no script may run or exist: a hostile name that escaped its cell would
# retitle the page.  The screenshot and PDF are kept as artefacts in
# test/artifacts/ (PRIVACY_ARTIFACTS overrides; if that is not writable, in
# the TAP run's tmp_check/).  Then the incident report of a scripted
# incident, in the same HTML form.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use File::Path qw(make_path);
use FindBin;
use IPC::Run;
use lib "$FindBin::RealBin/../perl";
use PrivacyExtNode;
use PngStats;
use Test::More;

my ($chromium) = grep { defined && -x } ($ENV{CHROMIUM},
	map { my $d = $_; map { "$d/$_" } qw(chromium chromium-browser) } split(/:/, $ENV{PATH}));
plan skip_all => 'chromium not installed (Debian package chromium; test/setup_deps.sh installs it '
  . 'unless PRIVACY_NO_CHROMIUM is set)'
  unless $chromium;

my $src = $ENV{PRIVACY_SRC} // "$FindBin::RealBin/../..";
my $artifacts = $ENV{PRIVACY_ARTIFACTS} // "$src/test/artifacts";
eval { make_path($artifacts) };
if (!-d $artifacts || !-w $artifacts)
{
	$artifacts = "$PostgreSQL::Test::Utils::tmp_check/artifacts";
	make_path($artifacts);
}
diag("report artefacts in $artifacts");
my $work = PostgreSQL::Test::Utils::tempdir();

# jit off: the catalog views' estimates over never-analyzed tables would have
# JIT compile the test's own queries, for far longer than they run.
my $node = PrivacyExtNode::new_node('report', PrivacyExtNode::random_key_hex(), conf => "jit = off\n");
$node->safe_psql('postgres', q{
CREATE EXTENSION privacy_ext;
SET privacy.audit = 'table';
SELECT privacy.create_key('hr'), privacy.create_key('crm');
SELECT privacy.rotate_key('hr');
CREATE ROLE payroll_app;
CREATE ROLE support;
CREATE ROLE crm_app;
SELECT privacy.grant_key('hr', 'payroll_app');

CREATE TABLE staff (id int PRIMARY KEY, name text, email text, ssn privacy.encrypted_text('hr'), salary int);
INSERT INTO staff VALUES (1, 'Ann', 'ann@example.com', '123-45-6789', 5200),
                         (2, 'Bob', 'bob@example.com', '987-65-4321', 4800),
                         (3, 'Cy', 'cy@example.com', '555-12-3456', 6100);
SELECT privacy.classify('staff', 'ssn', 'sensitive', category => 'national_id');
SELECT privacy.classify('staff', 'name', 'personal', category => 'identity');
SELECT privacy.classify('staff', 'email', 'personal', category => 'contact');
SELECT privacy.classify('staff', 'salary', 'sensitive', category => 'financial');
SELECT privacy.set_mask('staff', 'email', 'email');
SELECT privacy.set_mask('staff', 'name', 'partial(1, ''***'', 0)');
SELECT privacy.create_masking_view('staff');
SELECT privacy.mask_role('support');
GRANT SELECT ON staff TO payroll_app;

CREATE TABLE subscribers (customer_id text PRIMARY KEY, name text, email privacy.encrypted_text('crm'));
INSERT INTO subscribers SELECT 'cust-' || g, 'Subscriber ' || g, 's' || g || '@example.org'
  FROM generate_series(1, 6) g;
SELECT privacy.classify('subscribers', 'name', 'personal', category => 'identity');
SELECT privacy.classify('subscribers', 'email', 'personal', category => 'contact');
SELECT privacy.protect_table('subscribers', 'customer_id');
GRANT SELECT ON subscribers TO crm_app;

SELECT privacy.create_purpose('marketing', 'consent');
SELECT privacy.create_purpose('billing', 'contract', description => 'Invoices and reminders');
SELECT privacy.create_purpose('payroll', 'legal_obligation');
SELECT privacy.grant_purpose('crm_app', 'marketing');
SELECT privacy.grant_purpose('crm_app', 'billing');
SELECT privacy.grant_purpose('payroll_app', 'payroll');
SELECT privacy.grant_consent('cust-' || g, 'marketing') FROM generate_series(1, 5) g;
SELECT privacy.withdraw_consent('cust-2', 'marketing');

-- Hostile names: a script that would retitle the page if it ever ran.
CREATE TABLE "Zoë</td><script>document.title='pwned'</script>" ("note|`*_" text, "Ωμέγα
line" text);
SELECT privacy.classify('"Zoë</td><script>document.title=''pwned''</script>"', 'note|`*_', 'personal',
                        category => E'x"</th>\n|<img src=x>');
CREATE ROLE "auditor</td><b>'|x";
GRANT SELECT ON "Zoë</td><script>document.title='pwned'</script>" TO "auditor</td><b>'|x";
SELECT privacy.create_purpose(E'promo</td><script>document.title=''pwned''</script>', 'consent');
SELECT privacy.grant_purpose('auditor</td><b>''|x', E'promo</td><script>document.title=''pwned''</script>');
});

# A scripted incident for the incident report: payroll_app decrypts, support
# reads the masking view.
my $start = $node->safe_psql('postgres', 'SELECT clock_timestamp()');
$node->safe_psql('postgres', q{
SET privacy.audit = 'table';
SET ROLE payroll_app;
SET privacy.purpose = 'payroll';
SELECT count(privacy.decrypt(ssn)) FROM staff;
SELECT privacy.decrypt(ssn) FROM staff WHERE id = 2;
RESET ROLE;
SET ROLE support;
SELECT * FROM masked.staff;
});
my $end = $node->safe_psql('postgres', 'SELECT clock_timestamp()');

# What the catalog says each table of the report must hold.
my %expected = (
	summary => 13,
	inventory => $node->safe_psql('postgres',
		'SELECT count(*) FROM privacy.inventory WHERE table_name IS NOT NULL'),
	categories => $node->safe_psql('postgres',
		'SELECT count(DISTINCT coalesce(category, \'\')) FROM privacy.inventory WHERE level IS NOT NULL'),
	findings => $node->safe_psql('postgres',
		'SELECT count(*) FROM privacy.inventory, unnest(findings)'),
	purposes => $node->safe_psql('postgres', 'SELECT count(*) FROM privacy.purposes'),
	processing => $node->safe_psql('postgres', 'SELECT count(*) FROM privacy.processing_record'),
	keys_by_status => 1,
	keys => 2,
	consent => $node->safe_psql('postgres', 'SELECT count(*) FROM privacy.purposes'),
	masking => 3,
	masked_roles => 1);
my $detected = -1;
$detected = $node->safe_psql('postgres', 'SELECT count(*) FROM privacy.detect_personal_data(1000)')
  if $node->safe_psql('postgres',
	q{SELECT to_regprocedure('privacy.detect_personal_data(integer)') IS NOT NULL}) eq 't';
$expected{detected} = $detected if $detected > 0;
cmp_ok($expected{$_}, '>', 0, "fixture gives table $_ rows") for qw(inventory findings processing);

# Chromium: headless, on a local file it wrote itself; --no-sandbox because
# its sandbox needs kernel features a container may not give (root always
# needs it), and the page is our own document with no script.
sub chromium
{
	my ($url, @modes) = @_;
	my ($out, $err) = ('', '');
	my $ok = IPC::Run::run(
		[ $chromium, '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
		  '--hide-scrollbars', '--disable-extensions', '--disable-background-networking',
		  '--disable-component-update', '--disable-sync', '--mute-audio', "--user-data-dir=$work/profile", '--window-size=1000,1400', @modes, $url ],
		'<', \undef, '>', \$out, '2>', \$err, IPC::Run::timeout(120));
	return ($ok, $out, $err);
}

# The tables of a DOM: id -> [rows in tbody, whether every row has one cell per header].
sub dom_tables
{
	my ($dom) = @_;
	my %tables;
	while ($dom =~ m{<table id="([a-z_]+)">(.*?)</table>}gs)
	{
		my ($id, $tbl) = ($1, $2);
		my $headers = () = $tbl =~ /<th>/g;
		my ($tbody) = $tbl =~ m{<tbody>(.*)</tbody>}s;
		my @rows = ($tbody // '') =~ m{<tr>(.*?)</tr>}gs;
		my $cells_ok = !grep { scalar(() = $_ =~ /<td>/g) != $headers } @rows;
		$tables{$id} = [ scalar(@rows), $cells_ok ];
	}
	return \%tables;
}

my $html = $node->safe_psql('postgres', 'SELECT privacy.report()');
my $html_file = "$work/report.html";
PostgreSQL::Test::Utils::append_to_file($html_file, $html);
my $png = "$artifacts/report.png";
my $pdf = "$artifacts/report.pdf";
unlink($png, $pdf);
my ($ok, $dom, $err) = chromium("file://$html_file", "--screenshot=$png", "--print-to-pdf=$pdf", '--dump-dom');
ok($ok, 'chromium rendered the report') or diag($err);

# The screenshot: an image of the page's size with text and shaded headers on it.
ok(-s $png, 'screenshot written');
my $img = PngStats::stats($png);
is("$img->{width}x$img->{height}", '1000x1400', 'screenshot has the window size');
my $pixels = $img->{width} * $img->{height};
cmp_ok($img->{dark} / $pixels, '>', 0.005, 'screenshot is not blank: dark (text) pixels');
cmp_ok($img->{dark} / $pixels, '<', 0.5, 'screenshot is not a dark or failed page');
cmp_ok($img->{tinted} / $pixels, '>', 0.01, 'screenshot shows the tinted table headers');

# The PDF: a real PDF of at least one page, with fonts (text, not an image of nothing).
ok(-s $pdf, 'PDF written');
my $pdf_bytes = slurp_file($pdf);
like($pdf_bytes, qr/^%PDF-1\.\d/, 'PDF header');
my $pages = () = $pdf_bytes =~ m{/Type\s*/Page\b(?!s)}g;
cmp_ok($pages, '>=', 2, "PDF has pages ($pages)");
like($pdf_bytes, qr{/Font}, 'PDF carries fonts for its text');

# The DOM Chromium built: the tables and their rows, and nothing run.
my $tables = dom_tables($dom);
foreach my $id (sort keys %expected)
{
	ok(exists $tables->{$id}, "DOM has table $id") or next;
	is($tables->{$id}[0], $expected{$id}, "table $id has $expected{$id} rows");
	ok($tables->{$id}[1], "table $id has one cell per header in every row");
}
if ($detected < 0)
{
	like($dom, qr/detection not available/, 'no detection installed: the report says so');
}
like($dom, qr{<title>Personal data report: postgres</title>}, 'no script retitled the page');
unlike($dom, qr/<script/i, 'no script element in the DOM');
unlike($dom, qr/<img/i, 'no image element in the DOM');
like($dom, qr{Zoë&lt;/td&gt;&lt;script&gt;document\.title='pwned'&lt;/script&gt;}, 'hostile table name shown as text');
like($dom, qr{auditor&lt;/td&gt;&lt;b&gt;'\|x}, 'hostile role name shown as text');
unlike($dom, qr/cust-\d|123-45-6789|ann\@example\.com/, 'no subject id or plaintext in the page');

# The incident report, in the same form (as written: a second browser run
# would double the test's time, and the page is built by the same helpers).
$dom = $node->safe_psql('postgres',
	"SELECT privacy.incident_report('payroll_app', '$start', '$end')");
like($dom, qr{^<!DOCTYPE html>.*</html>$}s, 'incident: a whole HTML page');
$tables = dom_tables($dom);
is($tables->{exposed}[0], 1, 'incident: one column exposed (staff.ssn)');
like($dom, qr{<td>public\.staff</td><td>ssn</td><td>decrypted</td><td>4</td><td>2</td>},
	'incident: staff.ssn decrypted 4 times in 2 statements');
is($tables->{keys}[0], 1, 'incident: one key involved');
is($tables->{purposes}[0], 1, 'incident: one purpose declared');
unlike($dom, qr/support/, 'incident: the other role is not in it');
unlike($dom, qr/123-45-6789|987-65-4321/, 'incident: no plaintext');

$node->stop;
done_testing();
