# History sampling and health, with a known load held on the server.
use strict;
use warnings;
use lib 't';

use PgovTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = governed_node('history', conf => "pool_governor.health_window = '4s'\n");
$node->safe_psql('postgres', q{
CREATE ROLE shop LOGIN;
INSERT INTO pool_governor.tenants (name, max_connections, max_waiting, wait_timeout)
VALUES ('shop', 10, 2, '20s');
INSERT INTO pool_governor.rules (tenant, role_name) VALUES ('shop', 'shop');
SELECT pool_governor.reload();
});

sub health { $node->safe_psql('postgres', "SELECT health FROM pool_governor.tenant_status WHERE tenant = 'shop'") }

is(health(), 'ok', 'an idle tenant is ok');

# Hold 6 sessions: 2 active (in pg_sleep), 1 idle in transaction, 3 idle.
my $shop = burst($node, 'shop', 6);
is($shop->{result}{admitted}, 6, 'shop opens 6');
is($shop->cmd('busy 2 60')->{text}, "busy=2\n", 'two run a long query');
is($shop->cmd('idle_tx 1')->{text}, "idle_tx=1\n", 'one sits idle in a transaction');

ok($node->poll_query_until('postgres', q{
	SELECT connected = 6 AND active = 2 AND idle_in_transaction = 1 AND idle = 3
	FROM pool_governor.history WHERE tenant = 'shop'
	ORDER BY sample_time DESC LIMIT 1}),
	'history samples the held load exactly: 6 connected, 2 active, 1 idle in transaction, 3 idle');
is($node->safe_psql('postgres',
		"SELECT active, idle, idle_in_transaction FROM pool_governor.tenant_status WHERE tenant = 'shop'"),
	'2|3|1', 'tenant_status splits the sessions the same way');

# Samples come every sample_interval (200 ms here), never faster.
$node->poll_query_until('postgres',
	"SELECT count(*) >= 10 FROM pool_governor.history WHERE tenant = 'shop'");
my $gaps = $node->safe_psql('postgres', q{
	SELECT min(gap), percentile_disc(0.5) WITHIN GROUP (ORDER BY gap)
	FROM (SELECT extract(epoch FROM sample_time - lag(sample_time) OVER (ORDER BY sample_time)) * 1000 AS gap
		  FROM pool_governor.history WHERE tenant = 'shop') g
	WHERE gap IS NOT NULL});
my ($min_gap, $median_gap) = split /\|/, $gaps;
cmp_ok($min_gap, '>=', 195, "no two samples closer than the 200 ms interval (min $min_gap ms)");
cmp_ok($median_gap, '<', 2000, "samples keep coming (median gap $median_gap ms)");

# The per-sample admitted counts add up to the tenant's admissions.
ok($node->poll_query_until('postgres', q{
	SELECT (SELECT sum(admitted) FROM pool_governor.history WHERE tenant = 'shop')
		 = (SELECT admitted FROM pool_governor.tenant_status WHERE tenant = 'shop')}),
	'history admitted deltas add up to tenant_status.admitted');

# At 80% of its cap a tenant is in warning.
$shop->cmd('open 2');
is(health(), 'warning', 'at 8 of 10 connections the tenant is in warning');
is($node->safe_psql('postgres', 'SELECT status FROM pool_governor.health'), 'warning',
	'and so is the server');

# Refusals above 0.1% of its logins make it critical.
my $more = burst($node, 'shop', 5, nowait => 1);	# 2 in, 2 wait, 1 refused
ok($node->poll_query_until('postgres',
		"SELECT rejected = 1 AND waiting = 2 FROM pool_governor.tenant_status WHERE tenant = 'shop'"),
	'a login was refused and two wait');
is(health(), 'critical', 'refusals (and waiters at the cap) make the tenant critical');
is($node->safe_psql('postgres', 'SELECT status FROM pool_governor.health'), 'critical',
	'the server status is its worst tenant\'s');
ok($node->poll_query_until('postgres', q{
	SELECT sum(rejected) = 1 FROM pool_governor.history WHERE tenant = 'shop'}),
	'history records the refusal');

# Load removed: back to ok once the health window has passed.
$_->{h}->kill_kill for ($shop, $more);
$node->safe_psql('postgres',
	"SELECT pg_terminate_backend(pid) FROM pool_governor.sessions WHERE tenant = 'shop'");
ok(wait_connected($node, 'shop', 0), 'the load leaves');
ok($node->poll_query_until('postgres',
		"SELECT health = 'ok' FROM pool_governor.tenant_status WHERE tenant = 'shop'"),
	'and health returns to ok after the window');
is($node->safe_psql('postgres', 'SELECT status FROM pool_governor.health'), 'ok', 'server ok');

# sizing has a row per tenant from the live history.
is($node->safe_psql('postgres', "SELECT count(*) FROM pool_governor.sizing WHERE tenant = 'shop' AND samples > 0"),
	'1', 'sizing reads the live history');

$node->stop;
done_testing();
