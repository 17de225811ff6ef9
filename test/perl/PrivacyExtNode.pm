# A PostgreSQL::Test::Cluster node with privacy_ext preloaded and a root key
# file of its own, for the TAP tests in test/t.
package PrivacyExtNode;

use strict;
use warnings;
use PostgreSQL::Test::Cluster;

# new_node(name, root_key_hex, [allows_streaming => 1], [conf => "extra lines"]):
# initialised, configured and started; its key file is basedir/root.key.
sub new_node
{
	my ($name, $root_hex, %opts) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(allows_streaming => $opts{allows_streaming} // 0);
	my $keyfile = $node->basedir . '/root.key';
	open(my $fh, '>', $keyfile) or die "could not write $keyfile: $!";
	print $fh "$root_hex\n";
	close($fh);
	chmod(0600, $keyfile) or die "chmod $keyfile: $!";
	$node->append_conf('postgresql.conf',
		"shared_preload_libraries = 'privacy_ext'\n"
		  . "privacy.root_key_file = '$keyfile'\n"
		  . ($opts{conf} // ''));
	$node->start;
	return $node;
}

# A random 256-bit key as 64 hex digits.
sub random_key_hex
{
	return join('', map { sprintf('%02x', int(rand(256))) } 1 .. 32);
}

1;
