# Configuration is SQL, applied on commit with no restart; classification by
# role, +group, database, application_name glob and client address.
use strict;
use warnings;
use lib 't';

use PgovTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# Logins that arrive before any configuration is loaded are admitted and
# classified as soon as one is.
my $node = governed_node('live', no_extension => 1);
$node->safe_psql('postgres', 'CREATE ROLE shop LOGIN');
my $early = burst($node, 'shop', 3);
is($early->{result}{admitted}, 3, 'logins before any configuration are admitted');
$node->safe_psql('postgres', q{
CREATE EXTENSION pool_governor;
INSERT INTO pool_governor.tenants (name, max_connections) VALUES ('shop', 4);
INSERT INTO pool_governor.rules (tenant, role_name) VALUES ('shop', 'shop');
});
ok($node->poll_query_until('postgres',
		"SELECT connected = 3 FROM pool_governor.tenant_status WHERE tenant = 'shop'"),
	'and counted in their tenant once the configuration loads');
my $r = $early->cmd('open 2');
is($r->{admitted}, 1, 'the early logins count against the cap');
$early->finish;
ok(wait_connected($node, 'shop', 0), 'shop drains');

# e. Raising and lowering a cap by UPDATE + commit changes the next login's
# outcome; existing sessions are untouched.
my $held = burst($node, 'shop', 4);
is($held->{result}{admitted}, 4, 'shop holds its cap of 4');

my $gen = $node->safe_psql('postgres', 'SELECT config_generation FROM pool_governor.health');
$node->safe_psql('postgres', "UPDATE pool_governor.tenants SET max_connections = 6 WHERE name = 'shop'");
wait_generation_after($node, $gen);
$r = $held->cmd('open 3');
is($r->{admitted}, 2, 'after raising the cap to 6, two more logins get in');
is($r->{refused}, 1, 'and the third is refused');

$gen = $node->safe_psql('postgres', 'SELECT config_generation FROM pool_governor.health');
$node->safe_psql('postgres', "UPDATE pool_governor.tenants SET max_connections = 2 WHERE name = 'shop'");
wait_generation_after($node, $gen);
is($held->cmd('count')->{text}, "open=6\n", 'lowering the cap to 2 leaves the 6 sessions alone');
$r = $held->cmd('open 1');
is($r->{refused}, 1, 'but the next login is refused');
like($r->{failures}[0], qr/holds 6 of its 2 connections/, 'and told the tenant is over its cap');
$held->cmd('close 5');
ok(wait_connected($node, 'shop', 1), 'sessions drain below the new cap');
$r = $held->cmd('open 2');
is($r->{admitted}, 1, 'then logins are admitted up to it again');
$held->finish;

# A tenant removed while it has connections: they are counted where the
# rules now place them (the default tenant), and the tenant is gone at once.
$held = burst($node, 'shop', 2);
$gen = $node->safe_psql('postgres', 'SELECT config_generation FROM pool_governor.health');
$node->safe_psql('postgres', "DELETE FROM pool_governor.tenants WHERE name = 'shop'");
wait_generation_after($node, $gen);
is($node->safe_psql('postgres',
		"SELECT string_agg(tenant || ':' || connected, ',' ORDER BY tenant) FROM pool_governor.tenant_status"),
	'default:2', 'a removed tenant\'s sessions move to the default tenant');
$held->finish;
ok(wait_connected($node, 'default', 0), 'and leave from there');

# Classification: every kind of rule, first match by priority.
$node->safe_psql('postgres', q{
CREATE ROLE shoppers NOLOGIN;
CREATE ROLE shop_batch LOGIN IN ROLE shoppers;
CREATE ROLE analyst LOGIN;
CREATE DATABASE shopdb;
INSERT INTO pool_governor.tenants (name) VALUES ('shop'), ('batch'), ('reports'), ('remote'), ('shopdb_users');
INSERT INTO pool_governor.rules (priority, tenant, role_name) VALUES (10, 'shop', 'shop');
INSERT INTO pool_governor.rules (priority, tenant, role_name) VALUES (20, 'batch', '+shoppers');
INSERT INTO pool_governor.rules (priority, tenant, application_name) VALUES (30, 'reports', 'report-??-*');
INSERT INTO pool_governor.rules (priority, tenant, client_addr) VALUES (40, 'remote', '127.0.0.0/8');
INSERT INTO pool_governor.rules (priority, tenant, database_name) VALUES (50, 'shopdb_users', 'shopdb');
SELECT pool_governor.reload();
});

sub tenant_of
{
	my (%o) = @_;
	my $b = burst($node, $o{user}, 1, %o);
	die "login failed: $b->{result}{text}" unless $b->{result}{admitted} == 1;
	my $t = $node->safe_psql('postgres',
		"SELECT tenant || ':' || coalesce(rule_id::text, 'default') FROM pool_governor.sessions");
	$b->finish;
	$node->poll_query_until('postgres', 'SELECT count(*) = 0 FROM pool_governor.sessions');
	$t =~ s/:.*//;
	return $t;
}

is(tenant_of(user => 'shop', app => 'report-eu-1', tcp => 1), 'shop',
	'a role rule of higher priority wins over later matches');
is(tenant_of(user => 'shop_batch'), 'batch', '+group matches a member of the group');
is(tenant_of(user => 'analyst', app => 'report-eu-daily'), 'reports', 'application_name glob');
is(tenant_of(user => 'analyst', app => 'report-europe'), 'default',
	'a glob that does not match falls through to the default tenant');
is(tenant_of(user => 'analyst', tcp => 1), 'remote', 'a TCP login from 127.0.0.1 matches 127.0.0.0/8');
is(tenant_of(user => 'analyst'), 'default', 'a Unix-socket login never matches a client_addr rule');
is(tenant_of(user => 'analyst', dbname => 'shopdb'), 'shopdb_users', 'database_name');

is($node->safe_psql('postgres', 'SELECT sum(connected) FROM pool_governor.tenant_status'),
	'0', 'every classified login gave its seat back');

# h. A configuration made invalid behind the validation (triggers disabled
# by a superuser) is refused by the worker, which keeps the last good one.
$node->safe_psql('postgres', q{
UPDATE pool_governor.tenants SET max_connections = 2 WHERE name = 'batch';
SELECT pool_governor.reload();
ALTER TABLE pool_governor.tenants DISABLE TRIGGER validate_and_apply;
UPDATE pool_governor.tenants SET max_connections = 1, reserved_connections = 5 WHERE name = 'batch';
ALTER TABLE pool_governor.tenants ENABLE TRIGGER validate_and_apply;
});
my $offset = -s $node->logfile;
ok($node->wait_for_log(qr/WARNING:  pool_governor refused its configuration; generation \d+ stays in force/, $offset),
	'the worker refuses the invalid configuration and says so in the log');
ok($node->wait_for_log(qr/reserved_connections of tenant "batch" exceeds its max_connections/, $offset),
	'with the reason');
is($node->safe_psql('postgres',
		"SELECT max_connections, reserved_connections FROM pool_governor.tenant_status WHERE tenant = 'batch'"),
	'2|0', 'the last good configuration stays in force');
my $batch = burst($node, 'shop_batch', 3);
is($batch->{result}{admitted}, 2, 'and logins are judged by it');
$batch->finish;

$node->stop;
done_testing();
