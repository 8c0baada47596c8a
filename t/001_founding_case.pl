# The founding case (seed/connection-pool-incident.md): max_connections 100,
# 3 seats for superusers, so 97 governed seats; shop may hold 40 with 20
# reserved, inventory 30 with 10 reserved, reporting takes what is left.
use strict;
use warnings;
use lib 't';

use PgovTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = governed_node('founding');
founding_case($node);

# The query's own session is a superuser's in an ordinary slot: it takes one.
is($node->safe_psql('postgres', 'SELECT capacity, exempt_connected FROM pool_governor.health'),
	'96|1', 'capacity is max_connections - superuser_reserved_connections, less one per superuser session');

# a. 45 simultaneous logins as shop: exactly 40 in, 5 refused with 53300.
my $shop = burst($node, 'shop', 45);
is($shop->{result}{admitted}, 40, 'a burst of 45 shop logins admits exactly 40');
is($shop->{result}{refused}, 5, 'and refuses exactly 5 with SQLSTATE 53300');
is($shop->{result}{other}, 0, 'and no login fails for another reason');
like($shop->{result}{failures}[0], qr/^refused 53300 too many connections for tenant "shop"/,
	'the refusal names the tenant');

my $row = tenant_row($node, 'shop');
is($row->{connected}, 40, 'tenant_status counts 40 shop connections');
is($row->{peak_connected}, 40, 'peak_connected is the cap, never above');
is($row->{rejected}, 5, 'tenant_status counts 5 refusals');

# The refusal as a client sees it: primary message, DETAIL and HINT.
my ($ret, $stdout, $stderr) = $node->psql('postgres', 'SELECT 1',
	extra_params => [ '-U', 'shop' ]);
isnt($ret, 0, 'a 41st shop login fails');
like($stderr, qr/FATAL:  too many connections for tenant "shop"/, 'primary message');
like($stderr, qr/DETAIL:  Tenant "shop" holds 40 of its 40 connections \(20 reserved\)\./,
	'DETAIL says how full the tenant is');
like($stderr, qr/HINT:  .*raise max_connections of tenant "shop" in pool_governor\.tenants/,
	'HINT says what to change');

# b. The noisy neighbour: reporting gets exactly capacity - 40 - 10, because
# shop holds 40 and inventory's 10 reserved seats stay free for it.
my $reporting = burst($node, 'reporting', 50);
is($reporting->{result}{admitted}, 97 - 40 - 10,
	'reporting gets exactly capacity - 40 - 10 = 47 seats');
is($reporting->{result}{refused}, 3, 'the rest of its burst is refused');
like($reporting->{result}{failures}[0],
	qr/^refused 53300 no free connection seat for tenant "reporting"/,
	'reporting is told no shared seat is free');

my $inventory = burst($node, 'inventory', 10);
is($inventory->{result}{admitted}, 10, 'inventory still opens its 10 reserved seats');
my $r = $inventory->cmd('open 1');
is($r->{refused}, 1, 'but an 11th inventory login finds no seat');
is($node->safe_psql('postgres', 'SELECT connected, shared_free, reserved_unused FROM pool_governor.health'),
	'97|0|0', 'all 97 governed seats are in use');

# d. A superuser logs in past every cap, and is counted apart.
is($node->safe_psql('postgres', 'SELECT exempt_connected >= 1 FROM pool_governor.health'),
	't', 'a superuser logs in while every governed seat is taken');

# Shop closes 20: it is at its reserve, so the 20 seats are shared again.
# Reporting, trying for 30, gets exactly those 20 and no more.
$shop->cmd('close 20');
ok(wait_connected($node, 'shop', 20), 'shop closed 20');
superusers_gone($node);
$r = $reporting->cmd('open 30');
is($r->{admitted}, 20, 'reporting takes only the 20 freed shared seats');
is($r->{refused}, 10, 'and is refused past them');
$r = $shop->cmd('open 1');
is($r->{refused}, 1, 'shop, at its reserve, waits for a shared seat like anyone');

# Once reporting lets go, shop reopens all 20, and reporting, trying again,
# cannot climb past its share.
$reporting->cmd('close 20');
ok(wait_connected($node, 'reporting', 47), 'reporting back to 47');
superusers_gone($node);
$r = $shop->cmd('open 20');
is($r->{admitted}, 20, 'shop reopens its 20 seats');
$r = $reporting->cmd('open 5');
is($r->{admitted}, 0, 'reporting cannot take them back past its share');
is(tenant_row($node, 'shop')->{peak_connected}, 40, 'shop never exceeded its cap');

$_->finish for ($shop, $reporting, $inventory);
ok(wait_connected($node, $_, 0), "$_ drains to 0") for qw(shop inventory reporting);

# The governor times its own hook: every login that did not wait is counted.
$node->safe_psql('postgres', 'SELECT pool_governor.reset_stats()');
my $three = burst($node, 'shop', 3);
is($node->safe_psql('postgres',
		'SELECT logins, p99_under_us IS NOT NULL FROM pool_governor.admission_timing'),
	'4|t', 'admission_timing counts the 3 shop logins and this query\'s own');
$three->finish;

$node->stop;
done_testing();
