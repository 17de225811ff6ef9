# A Citus cluster for the tests of test/citus: a coordinator and two workers,
# each a PostgreSQL::Test::Cluster node listening on 127.0.0.1 only, with
# citus and privacy_ext preloaded (citus first, as Citus requires) and the
# same root key file content on every node (README, "Running on Citus").
# The coordinator is in the metadata (citus_set_coordinator_host), so
# reference tables have a placement on every node.
package CitusCluster;

use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use PrivacyExtNode;
use File::Spec;

# available(): true when Citus is installed beside the server under test.
sub available
{
	my $pg_config = $ENV{PG_CONFIG} // 'pg_config';
	chomp(my $pkglib = `$pg_config --pkglibdir`);
	chomp(my $share = `$pg_config --sharedir`);
	return -f "$pkglib/citus.so" && -f "$share/extension/citus.control";
}

# new(prefix, root_hex, conf => "extra lines", workers => 2): started,
# citus created on every node, workers added; privacy_ext is NOT created yet
# (tests do it on the coordinator, as a DBA would).
sub new
{
	my ($class, $prefix, $root_hex, %opts) = @_;
	my $self = bless { nodes => [] }, $class;
	my $nworkers = $opts{workers} // 2;
	for my $i (0 .. $nworkers)
	{
		push @{ $self->{nodes} },
		  _start_node($i == 0 ? "${prefix}_coord" : "${prefix}_worker$i", $root_hex, $opts{conf});
	}
	$self->{prefix} = $prefix;
	$self->{root_hex} = $root_hex;
	$self->{conf} = $opts{conf};
	my $coord = $self->coordinator;
	$coord->safe_psql('postgres',
		"SELECT citus_set_coordinator_host('127.0.0.1', " . $coord->port . ')');
	for my $w ($self->workers)
	{
		$coord->safe_psql('postgres',
			"SELECT citus_add_node('127.0.0.1', " . $w->port . ')');
	}
	return $self;
}

# A node configured like the others, started, with citus created.
sub _start_node
{
	my ($name, $root_hex, $conf) = @_;
	my $node = PrivacyExtNode::new_node($name, $root_hex,
		preload => 'citus,privacy_ext',
		conf => "listen_addresses = '127.0.0.1'\n"
		  . "max_prepared_transactions = 50\n"
		  . "citus.shard_count = 4\n"
		  . "citus.shard_replication_factor = 1\n"
		  . "fsync = off\n"
		  . ($conf // ''));
	$node->safe_psql('postgres', 'CREATE EXTENSION citus');
	return $node;
}

# add_worker(): one more worker, started and added with citus_add_node
# (README, "Running on Citus": adding a node); returns it.
sub add_worker
{
	my ($self) = @_;
	my $n = scalar @{ $self->{nodes} };
	my $node = _start_node("$self->{prefix}_worker$n", $self->{root_hex}, $self->{conf});
	$self->coordinator->safe_psql('postgres',
		"SELECT citus_add_node('127.0.0.1', " . $node->port . ')');
	push @{ $self->{nodes} }, $node;
	return $node;
}

sub coordinator { return $_[0]->{nodes}[0]; }
sub workers { my $n = $_[0]->{nodes}; return @{$n}[ 1 .. $#$n ]; }
sub nodes { return @{ $_[0]->{nodes} }; }

# safe_psql_all(sql): the same SQL on every node; returns the outputs.
sub safe_psql_all
{
	my ($self, $sql, %params) = @_;
	return map { $_->safe_psql('postgres', $sql, %params) } $self->nodes;
}

# Stops every node.
sub stop
{
	my ($self) = @_;
	$_->stop for reverse $self->nodes;
}

1;
