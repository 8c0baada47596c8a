# What differs between the PostgreSQL versions (docs/operations.md, "Versions"):
# capacity and exemption with 16's reserved_connections and
# pg_use_reserved_connections, the PoolGovernorSeat wait event (17+), and the
# module's name and version in its magic block (18+).
use strict;
use warnings;
use lib 't';

use PgovTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = governed_node('versions');
my $major = $node->safe_psql('postgres', 'SHOW server_version_num') / 10000;
$major = int($major);
note("PostgreSQL $major");
if ($major >= 16)
{
	$node->append_conf('postgresql.conf', "reserved_connections = 5\n");
	$node->restart;
}
$node->safe_psql('postgres', q{
CREATE ROLE ops LOGIN;
CREATE ROLE w LOGIN;
INSERT INTO pool_governor.tenants (name, max_connections, max_waiting, wait_timeout)
VALUES ('closed', 0, 0, '0'), ('w', 1, 1, '20 s');
INSERT INTO pool_governor.rules (tenant, role_name) VALUES ('closed', 'ops'), ('w', 'w');
});
$node->poll_query_until('postgres', 'SELECT tenants = 3 FROM pool_governor.health')
  or die 'configuration not loaded';

# Capacity: max_connections less the slots PostgreSQL keeps from ordinary
# roles (superuser_reserved_connections, and reserved_connections on 16+),
# less this query's own superuser session.
is($node->safe_psql('postgres', 'SELECT capacity + exempt_connected FROM pool_governor.health'),
	$major >= 16 ? '92' : '97',
	$major >= 16 ? 'capacity is 100 - 3 superuser - 5 reserved slots'
	  : 'capacity is 100 - 3 superuser slots');

# Members of pg_use_reserved_connections (16+) are let into PostgreSQL's
# reserved slots; the governor exempts them like superusers.
if ($major >= 16)
{
	$node->safe_psql('postgres', 'GRANT pg_use_reserved_connections TO ops');
	my $b = burst($node, 'ops', 2);
	is($b->{result}{admitted}, 2,
		'a member of pg_use_reserved_connections gets in although its tenant is closed');
	is($node->safe_psql('postgres',
			"SELECT t.connected || '/' || h.exempt_connected FROM pool_governor.tenant_status t, pool_governor.health h WHERE t.tenant = 'closed'"),
		'0/3', 'counted apart, as exempt (with this query\'s session)');
	$b->finish;
}
else
{
	my $b = burst($node, 'ops', 1);
	is($b->{result}{refused}, 1, 'before 16 there is no such role: ops is governed like anyone');
	$b->finish;
}

# A waiting login's wait event.
my $held = burst($node, 'w', 1);
my $waiter = burst($node, 'w', 1, nowait => 1);
$node->poll_query_until('postgres',
	"SELECT waiting = 1 FROM pool_governor.tenant_status WHERE tenant = 'w'")
  or die 'no waiter';
SKIP:
{
	skip 'custom wait events arrived in 17', 1 if $major < 17;
	is($node->safe_psql('postgres',
			"SELECT type FROM pg_wait_events WHERE name = 'PoolGovernorSeat'"),
		'Extension', 'the PoolGovernorSeat wait event is registered');
}
SKIP:
{
	skip 'logins are listed in pg_stat_activity while they authenticate from 18 on', 1
	  if $major < 18;
	is($node->safe_psql('postgres',
			"SELECT a.wait_event_type || ':' || a.wait_event FROM pg_stat_activity a JOIN pool_governor.sessions s USING (pid) WHERE s.state = 'waiting'"),
		'Extension:PoolGovernorSeat', 'pg_stat_activity shows the waiting login on PoolGovernorSeat');
}
$held->finish;
is($waiter->result->{admitted}, 1, 'the waiter gets the seat once it is free');
$waiter->finish;

SKIP:
{
	skip 'PG_MODULE_MAGIC_EXT arrived in 18', 1 if $major < 18;
	my ($default) = slurp_file(($ENV{TESTDIR} // '.') . '/pool_governor.control')
	  =~ /^default_version = '([^']+)'/m;
	is($node->safe_psql('postgres',
			"SELECT module_name || ' ' || version FROM pg_get_loaded_modules() WHERE file_name = 'pool_governor.so'"),
		"pool_governor $default", 'the module names itself and the version the control file installs');
}
$node->stop;
done_testing();
