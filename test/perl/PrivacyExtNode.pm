# A PostgreSQL::Test::Cluster node with privacy_ext preloaded and a root key
# file of its own, for the TAP tests in test/t.
package PrivacyExtNode;

use strict;
use warnings;
use PostgreSQL::Test::Cluster;

# new_node(name, root_key_hex, [allows_streaming => 1], [conf => "extra lines"],
#          [preload => "citus,privacy_ext"]: the preload list, privacy_ext alone by default):
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
	my $preload = $opts{preload} // 'privacy_ext';
	$node->append_conf('postgresql.conf',
		"shared_preload_libraries = '$preload'\n"
		  . "privacy.root_key_file = '$keyfile'\n"
		  . ($opts{conf} // ''));
	$node->start;
	return $node;
}

# The shared fixture of the standby and audit tests: key 'hr', table staff
# (ssn encrypted, email deterministic) masked for role support, purpose
# marketing granted to role crm, table customers protected by consent with
# c1 consenting.
sub create_fixture
{
	my ($node) = @_;
	$node->safe_psql('postgres', q{
	CREATE EXTENSION privacy_ext;
	SELECT privacy.create_key('hr');
	CREATE TABLE staff (id int PRIMARY KEY, ssn privacy.encrypted_text('hr'), email privacy.encrypted_text_det('hr'));
	INSERT INTO staff VALUES (1, '123-45-6789', 'ann@example.com'), (2, '987-65-4321', 'bob@example.com');
	SELECT privacy.set_mask('staff', 'ssn', 'partial(0, ''***-**-'', 4)');
	SELECT privacy.set_mask('staff', 'id', 'none');   -- 1.1: clear only by saying so
	SELECT privacy.create_masking_view('staff');
	CREATE ROLE support LOGIN;
	SELECT privacy.mask_role('support');
	SELECT privacy.create_purpose('marketing', 'consent');
	CREATE ROLE crm LOGIN;
	SELECT privacy.grant_purpose('crm', 'marketing');
	CREATE TABLE customers (customer_id text PRIMARY KEY);
	INSERT INTO customers VALUES ('c1'), ('c2');
	GRANT SELECT ON customers TO crm;
	SELECT privacy.protect_table('customers', 'customer_id');
	SELECT privacy.grant_consent('c1', 'marketing');
});
}

# A random 256-bit key as 64 hex digits.
sub random_key_hex
{
	return join('', map { sprintf('%02x', int(rand(256))) } 1 .. 32);
}

1;
