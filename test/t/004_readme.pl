# Every ```sql block of README.md runs, in order, on a fresh database.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $src = $ENV{PRIVACY_SRC} // '.';
my $readme = slurp_file("$src/README.md");
my @blocks = ($readme =~ /^```sql\n(.*?)^```/msg);
cmp_ok(scalar(@blocks), '>=', 3, 'README has SQL examples');

my $node = PostgreSQL::Test::Cluster->new('readme');
$node->init;
my $keyfile = $node->basedir . '/root.key';
open(my $fh, '>', $keyfile) or die;
print $fh ('42' x 32) . "\n";
close($fh);
chmod(0600, $keyfile);
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'privacy_ext'\n"
	  . "privacy.root_key_file = '$keyfile'\n");
$node->start;

my $i = 0;
foreach my $sql (@blocks)
{
	$i++;
	my ($ret, $out, $err) = $node->psql('postgres', $sql, on_error_stop => 1);
	is($ret, 0, "README SQL block $i runs") or diag("$sql\n$err");
}
$node->stop;
done_testing();
