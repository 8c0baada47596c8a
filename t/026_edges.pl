# Faults at the edges of drain and exemption (issue 26): a drain_grace too
# large to compare is refused, not enforced as 0; exemption follows the
# setting in force, so a superuser is never drained while exempt; the drain
# ends no session that has started a query since it looked; above_cap_since
# is noted in monitor mode too.
use strict;
use warnings;
use lib 't';

use PgovTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes;

my $node = governed_node('edges');
$node->safe_psql('postgres', q{
CREATE ROLE g LOGIN;
CREATE ROLE su LOGIN SUPERUSER;
CREATE ROLE q LOGIN;
CREATE ROLE m LOGIN;
});
# the DBA's way: tenants, then rules, each in its own transaction
write_config($node, q{
INSERT INTO pool_governor.tenants (name, max_connections, drain, drain_grace)
VALUES ('g', 10, 'idle', '1 s'), ('s', 10, 'idle', '0 s'),
	   ('q', 5, 'idle', '0 s'), ('m', 1, 'natural', '30 s');
});
write_config($node, q{
INSERT INTO pool_governor.rules (tenant, role_name)
VALUES ('g', 'g'), ('s', 'su'), ('q', 'q'), ('m', 'm');
});


sub scalar_sql { return $node->safe_psql('postgres', $_[0]); }

sub tenant_field
{
	my ($tenant, $expr) = @_;
	return scalar_sql("SELECT $expr FROM pool_governor.tenant_status WHERE tenant = '$tenant'");
}

# --- 1. drain_grace: a documented maximum, every negative value refused ---
my ($ok, $out, $err);
for my $bad ('1000000 years', '7 days 1 ms', '-1 us', '-1 s')
{
	my $gen = generation($node);
	$ok = $node->psql('postgres',
		"UPDATE pool_governor.tenants SET drain_grace = '$bad' WHERE name = 'g'",
		stdout => \$out, stderr => \$err);
	isnt($ok, 0, "drain_grace '$bad' is refused at write time");
	like($err, $bad =~ /^-/ ? qr/drain_grace of tenant "g" must not be negative/
		: qr/drain_grace of tenant "g" exceeds 7 days/, "  with the loader's words");
	is(tenant_field('g', 'drain_grace'), '00:00:01', '  and nothing changed');
}

# the maximum itself is accepted, and a tenant above its cap with that grace
# is not drained: 6 idle sessions, the cap lowered from 10 to 2
write_config($node, "UPDATE pool_governor.tenants SET drain_grace = '7 days' WHERE name = 'g';");
my $g = burst($node, 'g', 6);
is($g->{result}{admitted}, 6, 'g: 6 sessions');
write_config($node, "UPDATE pool_governor.tenants SET max_connections = 2 WHERE name = 'g';");
wait_worker($node, ticks => 5);
is(tenant_field('g', "connected || '/' || drained || '/' || (above_cap_since IS NOT NULL)"),
	'6/0/true', "a grace of 7 days drains nothing after 5 ticks above the cap");
$g->finish;

# --- 2. exemption follows the setting in force ---
set_and_wait($node, 'pool_governor.exempt_superusers', 'off');
my $su = burst($node, 'su', 4);
is($su->{result}{admitted}, 4, 'su: 4 sessions with exempt_superusers off');
ok(wait_connected($node, 's', 4), 'counted in their tenant');
set_and_wait($node, 'pool_governor.exempt_superusers', 'on');
ok($node->poll_query_until('postgres',
	"SELECT connected = 0 FROM pool_governor.tenant_status WHERE tenant = 's'"),
	'with exempt_superusers back on, they leave their tenant\'s count');
# (the asking session is a superuser too, exempt again)
is(scalar_sql('SELECT exempt_connected FROM pool_governor.health'), 5,
	'and are counted apart, with the asking session');
write_config($node, "UPDATE pool_governor.tenants SET max_connections = 1 WHERE name = 's';");
wait_worker($node, ticks => 4);
is(scalar_sql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'su'"), 4,
	'capping their tenant at 1 with drain idle ends none of them');
is(tenant_field('s', 'drained'), 0, 'drained stays 0');
set_and_wait($node, 'pool_governor.exempt_superusers', 'off');
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE usename = 'su'"),
	'no longer exempt, they join the tenant and drain like any other');
is(tenant_field('s', "connected || '/' || drained"), '1/3', 's: 1 of its 1, 3 drained');
$su->finish;
set_and_wait($node, 'pool_governor.exempt_superusers', 'on');

# --- 4. the drain ends no session that started a query since it looked ---
# q's sessions open one after another, so q-0 has been idle the longest:
# the drain picks it first
my %q;
for my $i (0 .. 4)
{
	$q{"q-$i"} = burst($node, 'q', 1, app => "q-$i");
	die "q-$i was not admitted" unless $q{"q-$i"}{result}{admitted} == 1;
	Time::HiRes::sleep(0.05);
}
my $q0 = scalar_sql("SELECT pid FROM pool_governor.sessions WHERE application_name = 'q-0'");
# the test-only pause holds the drain between its look and its signal
set_and_wait($node, 'pool_governor.drain_test_pause', '3s');
write_config($node, "UPDATE pool_governor.tenants SET max_connections = 3 WHERE name = 'q';"); # 5 of 3
$node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE query LIKE 'pool_governor: drain paused%'")
  or die 'the drain did not pause';
# while it is paused, the session it picked starts a query
my $busy = $q{'q-0'}->cmd('busy 1 2');
$node->poll_query_until('postgres',
	"SELECT count(*) = 0 FROM pg_stat_activity WHERE query LIKE 'pool_governor: drain paused%'")
  or die 'the drain did not go on';
$q{'q-0'}->cmd('settle');
is(scalar_sql("SELECT count(*) FROM pg_stat_activity WHERE pid = $q0"), 1,
	"the session that started a query during the drain's pause runs it and lives on");
ok($node->poll_query_until('postgres',
	"SELECT connected = 3 FROM pool_governor.tenant_status WHERE tenant = 'q'"),
	'q is back at its cap of 3');
is(scalar_sql("SELECT string_agg(application_name, ' ' ORDER BY application_name) FROM pool_governor.sessions WHERE tenant = 'q'"),
	'q-0 q-3 q-4', 'the idle ones were ended in its place, the longest idle first');
set_and_wait($node, 'pool_governor.drain_test_pause', '0');
$_->finish for values %q;

# --- 5. above_cap_since in monitor mode ---
set_and_wait($node, 'pool_governor.mode', 'monitor');
my $m = burst($node, 'm', 3);
is($m->{result}{admitted}, 3, 'monitor mode admits 3 past a cap of 1');
wait_worker($node, ticks => 2);
is(tenant_field('m', "connected || '/' || (above_cap_since IS NOT NULL)"), '3/true',
	'above_cap_since says since when m is above its cap, in monitor mode too');
$m->finish;
ok(wait_connected($node, 'm', 0), 'm empties');
is(tenant_field('m', 'above_cap_since IS NULL'), 't', 'and is no longer above it');
set_and_wait($node, 'pool_governor.mode', 'enforce');

done_testing();
