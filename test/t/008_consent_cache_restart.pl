# A backend keeps the set of consenting subjects across statements only when
# it can prove it exact (src/consent/watch.c).  After a restart the shared
# ring of consent changes is empty, so a prepared transaction that changed a
# consent before the restart is unknown to it: no set may be kept until that
# transaction has ended, and its outcome is seen once it has.  A backend
# killed in the middle of a write costs a crash restart, after which the
# same holds.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PrivacyExtNode;
use Test::More;

my $node = PrivacyExtNode::new_node('cache', PrivacyExtNode::random_key_hex(),
	conf => "max_prepared_transactions = 5\nrestart_after_crash = on\n");
$node->safe_psql('postgres', q{
	CREATE EXTENSION privacy_ext;
	SELECT privacy.create_purpose('marketing', 'consent');
	CREATE ROLE crm;
	SELECT privacy.grant_purpose('crm', 'marketing');
	CREATE TABLE crowd (person text PRIMARY KEY);
	INSERT INTO crowd SELECT 'm' || g FROM generate_series(1, 400) g;
	SELECT privacy.protect_table('crowd', 'person');
	GRANT SELECT ON crowd TO crm;
	SELECT privacy.grant_consent('m' || g, 'marketing') FROM generate_series(1, 300) g;
});
# visible rows, then how many sets this backend kept
my $check = q{SET ROLE crm; SET privacy.purpose = 'marketing';
	SELECT count(*) FROM crowd; RESET ROLE; SELECT count(*) FROM privacy.consent_cache_info()};
is($node->safe_psql('postgres', $check), "300\n1", 'a set is kept');

# A withdrawal prepared before a restart, committed after it.
$node->safe_psql('postgres', q{
	BEGIN;
	SELECT privacy.withdraw_consent('m7', 'marketing');
	PREPARE TRANSACTION 'before_restart';
});
$node->restart;
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_prepared_xacts}), '1',
	'the prepared withdrawal survived the restart');
# One reader backend throughout: a set it kept now would go stale at COMMIT PREPARED.
my $reader = $node->background_psql('postgres');
is($reader->query_safe($check), "300\n0",
	'while it is pending: the rows as before, and no set kept');
$node->safe_psql('postgres', q{COMMIT PREPARED 'before_restart'});
is($reader->query_safe($check), "299\n1", 'once committed: the same backend sees it, and keeps a set now');
$reader->quit;

# A backend killed while writing a consent: the postmaster restarts every
# process and shared memory (the ring included); the uncommitted withdrawal
# is gone, sets are kept again, later changes are seen.
my $bg = $node->background_psql('postgres', on_error_stop => 0);
$bg->query_safe('BEGIN');
$bg->query_safe(q{SELECT privacy.withdraw_consent('m8', 'marketing')});
my $pid = $bg->query_safe('SELECT pg_backend_pid()');
my $log_offset = -s $node->logfile;
kill 'KILL', $pid;
eval { $bg->quit };
# The crash restart is over once the server says it is ready again: polling
# alone could connect before the postmaster saw the crash, and then meet
# "the database system is in recovery mode".
$node->wait_for_log(qr/all server processes terminated; reinitializing/, $log_offset);
$node->wait_for_log(qr/database system is ready to accept connections/, $log_offset);
$node->poll_query_until('postgres', 'SELECT true') or die 'server did not come back';
is($node->safe_psql('postgres', $check), "299\n1", 'after a crash restart: the killed withdrawal is not there; a set is kept');
$node->safe_psql('postgres', q{SELECT privacy.withdraw_consent('m8', 'marketing')});
is($node->safe_psql('postgres', $check), "298\n1", 'and later withdrawals are seen');
ok($node->log_contains('terminated by signal 9'), 'it was a crash restart');

$node->stop;
done_testing();
