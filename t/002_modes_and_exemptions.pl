# Modes (enforce, monitor, off) and who is never refused.
use strict;
use warnings;
use lib 't';

use PgovTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = governed_node('modes', init => { allows_streaming => 1 });
founding_case($node);
$node->safe_psql('postgres', q{
CREATE ROLE admin LOGIN SUPERUSER;
UPDATE pool_governor.tenants SET max_connections = 5, reserved_connections = 2
WHERE name = 'shop';
INSERT INTO pool_governor.rules (priority, tenant, role_name) VALUES (1, 'shop', 'admin');
SELECT pool_governor.reload();
});


# c. monitor mode admits everything and counts what it would have refused.
set_and_wait($node, 'pool_governor.mode', 'monitor');
my $shop = burst($node, 'shop', 12);
is($shop->{result}{admitted}, 12, 'monitor mode admits all 12 logins past a cap of 5');
my $row = tenant_row($node, 'shop');
is($row->{would_reject}, 7, 'and counts exactly 7 would_reject');
is($row->{rejected}, 0, 'and rejects nothing');
is($row->{connected}, 12, 'connected counts them all');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pool_governor.events WHERE event = 'would refuse' AND tenant = 'shop'"),
	'7', 'each would-be refusal is an event');
$shop->finish;
ok(wait_connected($node, 'shop', 0), 'shop drains');

# Back to enforce: the cap holds again.
set_and_wait($node, 'pool_governor.mode', 'enforce');
$shop = burst($node, 'shop', 8);
is($shop->{result}{admitted}, 5, 'enforce mode admits 5 of 8');
is($shop->{result}{refused}, 3, 'and refuses 3');

# d. Superusers are exempt: past the cap of the tenant their rule names.
my $before = $node->safe_psql('postgres', 'SELECT exempt_connected FROM pool_governor.health');
my $admin = burst($node, 'admin', 3);
is($admin->{result}{admitted}, 3, 'a superuser logs in past a full tenant');
is($node->safe_psql('postgres', 'SELECT exempt_connected FROM pool_governor.health'),
	$before + 3, 'superusers are counted apart');
is(tenant_row($node, 'shop')->{connected}, 5, 'and not in the tenant');
$admin->finish;

# With exempt_superusers off, a superuser is governed like anyone.
set_and_wait($node, 'pool_governor.exempt_superusers', 'off');
$admin = burst($node, 'admin', 1);
is($admin->{result}{refused}, 1, 'with exempt_superusers off, a superuser counts against the cap');
$admin->finish;
set_and_wait($node, 'pool_governor.exempt_superusers', 'on');

# Replication connections are exempt.
$node->safe_psql('postgres', "CREATE ROLE repl LOGIN REPLICATION;
INSERT INTO pool_governor.rules (priority, tenant, role_name) VALUES (1, 'shop', 'repl');
SELECT pool_governor.reload();");
my ($ret, $out, $err) = $node->psql('postgres', 'IDENTIFY_SYSTEM',
	extra_params => [ '-d', 'replication=database dbname=postgres', '-U', 'repl' ]);
is($ret, 0, 'a replication connection is admitted while its tenant is full');

# off: the hook does nothing at all.
set_and_wait($node, 'pool_governor.mode', 'off');
my $more = burst($node, 'shop', 4);
is($more->{result}{admitted}, 4, 'mode off admits past the cap');
is(tenant_row($node, 'shop')->{connected}, 5, 'and counts nothing');
$more->finish;
$shop->finish;

$node->stop;
done_testing();
