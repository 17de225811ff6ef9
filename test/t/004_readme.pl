# Every ```sql block of README.md runs, in order, on a fresh database.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PrivacyExtNode;
use Test::More;

my $src = $ENV{PRIVACY_SRC} // '.';
my $readme = slurp_file("$src/README.md");
my @blocks = ($readme =~ /^```sql\n(.*?)^```/msg);
cmp_ok(scalar(@blocks), '>=', 3, 'README has SQL examples');

my $node = PrivacyExtNode::new_node('readme', '42' x 32);

my $i = 0;
foreach my $sql (@blocks)
{
	$i++;
	my ($ret, $out, $err) = $node->psql('postgres', $sql, on_error_stop => 1);
	is($ret, 0, "README SQL block $i runs") or diag("$sql\n$err");
}
$node->stop;
done_testing();
