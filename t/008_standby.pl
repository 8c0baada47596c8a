# On a streaming standby: the configuration arrives by WAL replay, where no
# trigger fires; the worker's periodic re-read applies it, and the standby
# enforces the quotas on its own logins.
use strict;
use warnings;
use lib 't';

use PgovTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = governed_node('primary', init => { allows_streaming => 1 });
founding_case($primary);
$primary->safe_psql('postgres', "UPDATE pool_governor.tenants SET max_connections = 3, reserved_connections = 0 WHERE name = 'shop'");
$primary->backup('backup');

my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'backup', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);

ok($standby->poll_query_until('postgres',
		"SELECT max_connections = 3 FROM pool_governor.tenant_status WHERE tenant = 'shop'"),
	'the standby\'s worker loads the replicated configuration');
my $shop = burst($standby, 'shop', 5);
is($shop->{result}{admitted}, 3, 'and the standby enforces the cap on its own logins');
is($shop->{result}{refused}, 2, 'refusing the rest');
$shop->finish;

my $gen = $standby->safe_psql('postgres', 'SELECT config_generation FROM pool_governor.health');
$primary->safe_psql('postgres', "UPDATE pool_governor.tenants SET max_connections = 5 WHERE name = 'shop'");
$primary->wait_for_catchup($standby);
ok($standby->poll_query_until('postgres',
		"SELECT max_connections = 5 AND config_generation > $gen FROM pool_governor.tenant_status, pool_governor.health WHERE tenant = 'shop'"),
	'a change committed on the primary is applied on the standby without a restart');
$shop = burst($standby, 'shop', 6);
is($shop->{result}{admitted}, 5, 'the new cap holds on the standby');
$shop->finish;

$standby->stop;
$primary->stop;
done_testing();
