# History follows the busy tenants (issue 12): with pool_governor.history_
# tenants = 2, two tenants with sessions keep their rings; a third gets no
# history until one of them goes idle, then takes the ring of the one idle
# the longest (whose history goes with it); a tenant with traffic never
# loses its ring to another.
use strict;
use warnings;
use lib 't';

use PgovTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = governed_node('rings', conf => q{
pool_governor.history_tenants = 2
pool_governor.history_size = 50
});
write_config($node, join "\n",
	(map { "CREATE ROLE $_ LOGIN;" } qw(ra rb rc)),
	"INSERT INTO pool_governor.tenants (name) VALUES ('a'), ('b'), ('c');",
	"INSERT INTO pool_governor.rules (tenant, role_name) VALUES ('a', 'ra'), ('b', 'rb'), ('c', 'rc');");

sub tenants_with_history
{
	return $node->safe_psql('postgres',
		"SELECT string_agg(DISTINCT tenant, ',' ORDER BY tenant) FROM pool_governor.history WHERE tenant IN ('a', 'b', 'c')");
}

# samples of $tenant taken after $since
sub sampled_after
{
	my ($tenant, $since) = @_;
	return $node->poll_query_until('postgres',
		"SELECT count(*) >= 3 FROM pool_governor.history WHERE tenant = '$tenant' AND sample_time > '$since'");
}

my $a = burst($node, 'ra', 1);
my $b = burst($node, 'rb', 1);
my $t0 = $node->safe_psql('postgres', 'SELECT now()');
ok(sampled_after('a', $t0) && sampled_after('b', $t0), 'the two busy tenants are sampled');
is(tenants_with_history(), 'a,b', 'the idle tenant c has no history: there is no ring for it');

# c logs in while a and b are both busy: no ring is free, none is taken
my $c = burst($node, 'rc', 1);
my $t1 = $node->safe_psql('postgres', 'SELECT now()');
sampled_after('b', $t1) or die 'the sampler did not tick';
is(tenants_with_history(), 'a,b', 'a busy tenant keeps its ring: c, busy too, gets none');

# a goes idle: c takes a's ring, b keeps its own
$a->finish;
my $t2 = $node->safe_psql('postgres', 'SELECT now()');
ok(sampled_after('c', $t2), 'once a is idle, c is sampled');
is(tenants_with_history(), 'b,c', 'in the ring that was a\'s: a\'s history is gone, b\'s stays');
is($node->safe_psql('postgres', "SELECT min(connected) FROM pool_governor.history WHERE tenant = 'c'"),
	'1', 'c\'s history starts when it took the ring, with its session');
cmp_ok($node->safe_psql('postgres', 'SELECT count(*) FROM pool_governor.history'), '<=', 2 * 50,
	'the history never has more than history_size x history_tenants rows');

$_->finish for $b, $c;
$node->stop;
done_testing();
