# Ten thousand tenants (issue 12): a customer per role, one rule each.  The
# configuration is written the convenient way (two statements) and the way
# a DBA adds one customer later (the tenant, a pause, then its rule, each in
# its own transaction).  The governor holds it in at most 64 MiB of shared
# memory with the default history, keeps an exact cap on the tenant of the
# very last rule, answers its views, and keeps the cap across a restart
# (the snapshot file holds all 10,000).
use strict;
use warnings;
use lib 't';

use PgovTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = governed_node('tenk', conf => q{
pool_governor.max_tenants = 10010
pool_governor.max_rules = 10010
});

my ($shmem, $history) = split /\|/, $node->safe_psql('postgres', q{
SELECT allocated_size, current_setting('pool_governor.history_size')
FROM pg_shmem_allocations WHERE name = 'pool_governor'});
is($history, '3600', 'the default history_size');
cmp_ok($shmem, '<=', 64 * 1024 * 1024,
	"10,010 tenants and rules fit in 64 MiB of shared memory ($shmem bytes)");

$node->safe_psql('postgres', 'CREATE ROLE last_customer LOGIN');
write_config($node, q{
INSERT INTO pool_governor.tenants (name, max_connections)
	SELECT format('customer%s', i), 5 FROM generate_series(1, 9999) i;
INSERT INTO pool_governor.rules (tenant, role_name)
	SELECT format('customer%s', i), format('customer%s', i) FROM generate_series(1, 9999) i;
});
is($node->safe_psql('postgres', 'SELECT tenants FROM pool_governor.health'), '10000',
	'9,999 customers and the default tenant are in force');

# the 10,000th customer, as a DBA adds one: its own transactions, a pause
my $gen = generation($node);
$node->safe_psql('postgres',
	"INSERT INTO pool_governor.tenants (name, max_connections) VALUES ('customer10000', 3)");
wait_generation_after($node, $gen);
sleep 1;
$gen = generation($node);
$node->safe_psql('postgres',
	"INSERT INTO pool_governor.rules (tenant, role_name) VALUES ('customer10000', 'last_customer')");
wait_generation_after($node, $gen);
my $last_rule = $node->safe_psql('postgres',
	'SELECT max(id) FROM pool_governor.rules');
is($node->safe_psql('postgres',
	"SELECT id FROM pool_governor.rules WHERE role_name = 'last_customer'"),
	$last_rule, 'the last customer\'s rule is the last of 10,000');
is($node->safe_psql('postgres', 'SELECT tenants FROM pool_governor.health'), '10001',
	'10,000 customers and the default tenant are in force');

sub cap_holds
{
	my ($when) = @_;
	my $b = burst($node, 'last_customer', 5);
	is($b->{result}{admitted}, 3, "$when: a burst of 5 into the last tenant admits exactly its cap of 3");
	is($b->{result}{refused}, 2, "$when: and refuses 2");
	like($b->{result}{failures}[0],
		qr/^refused 53300 too many connections for tenant "customer10000"/,
		"$when: the refusal names the tenant");
	is($node->safe_psql('postgres',
		"SELECT count(*) || ':' || min(rule_id) FROM pool_governor.sessions WHERE tenant = 'customer10000'"),
		"3:$last_rule", "$when: 3 sessions, placed by the last rule");
	return $b;
}

my $b = cap_holds('live');
is($node->safe_psql('postgres', 'SELECT count(*) FROM pool_governor.tenant_status'), '10001',
	'tenant_status has a row per tenant');
is($node->safe_psql('postgres',
	"SELECT connected || '/' || rejected FROM pool_governor.tenant_status WHERE tenant = 'customer10000'"),
	'3/2', 'and counts the last tenant exactly');
is($node->safe_psql('postgres', 'SELECT count(*) FROM pool_governor.sizing'), '10001',
	'sizing has a row per tenant');
$b->finish;

$node->restart;
is($node->safe_psql('postgres', 'SELECT tenants FROM pool_governor.health'), '10001',
	'after a restart the 10,000 customers are in force from the snapshot');
cap_holds('after a restart')->finish;

$node->stop;
done_testing();
