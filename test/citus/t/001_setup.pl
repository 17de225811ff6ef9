# The cluster the Citus suite runs on: CREATE EXTENSION privacy_ext on the
# coordinator reaches both workers.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use FindBin;
use lib "$FindBin::RealBin/../../perl";
use PrivacyExtNode;
use CitusCluster;
use Test::More;

plan skip_all => 'Citus is not installed' unless CitusCluster::available();

my $cluster = CitusCluster->new('setup', PrivacyExtNode::random_key_hex());
my $coord = $cluster->coordinator;
is($coord->safe_psql('postgres', 'SELECT count(*) FROM pg_dist_node'), '3',
	'coordinator and two workers in the metadata');
$coord->safe_psql('postgres', 'CREATE EXTENSION privacy_ext');
for my $w ($cluster->workers)
{
	is($w->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'privacy_ext'"),
		'1.1', 'privacy_ext 1.1 on worker ' . $w->name);
}
$cluster->stop;
done_testing();
