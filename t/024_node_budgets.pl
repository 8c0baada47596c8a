# Per-node budgets on a primary and a streaming standby, and what a role
# change does to them: node_limits rows by role and by name, the first
# login after a promotion judged by the primary's numbers (no worker tick
# in between), and a former primary brought back as a standby, which
# enforces the standby's numbers and then the replicated tables, never its
# own earlier primary numbers.  (t/025 does the same through Patroni.)
use strict;
use warnings;
use lib 't';

use PgovTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $pg1 = governed_node('pg1',
	init => { allows_streaming => 1 },
	conf => "pool_governor.node_name = 'pg1'\n");
founding_case($pg1);
my $gen = generation($pg1);
# reporting only on the standbys; the shop small on a standby; pg2's own
# inventory budget.  Written as a DBA would, a statement at a time.
$pg1->safe_psql('postgres',
	"INSERT INTO pool_governor.node_limits VALUES ('primary', 'reporting', 0, 0)");
$pg1->safe_psql('postgres',
	"INSERT INTO pool_governor.node_limits VALUES ('standby', 'shop', 3, 0)");
$pg1->safe_psql('postgres',
	"INSERT INTO pool_governor.node_limits VALUES ('pg2', 'inventory', 2, 0)");
wait_generation_after($pg1, $gen);
ok($pg1->poll_query_until('postgres',
		"SELECT count(*) = 3 FROM pool_governor.node_budgets WHERE standby_from <> 'tenants' OR primary_from <> 'tenants' OR tenant = 'inventory'"),
	'the primary has published the three rows');

is($pg1->safe_psql('postgres',
		"SELECT string_agg(tenant || ' ' || coalesce(max_connections::text, 'none') || ' ' || limits_from, ', ' ORDER BY tenant) FROM pool_governor.tenant_status WHERE tenant IN ('shop', 'inventory', 'reporting')"),
	'inventory 30 tenants, reporting 0 primary, shop 40 tenants',
	'on the primary: its role\'s row for reporting, the tenants\' numbers elsewhere');
my ($rc, $out, $err) = $pg1->psql('postgres', 'SELECT 1',
	connstr => $pg1->connstr('postgres') . ' user=reporting');
like($err, qr/too many connections for tenant "reporting".*holds 0 of its 0 connections/s,
	'a reporting login on the primary is refused: its cap there is 0');

$pg1->backup('backup');
my $pg2 = PostgreSQL::Test::Cluster->new('pg2');
$pg2->init_from_backup($pg1, 'backup', has_streaming => 1);
# no worker tick for an hour: only a login can switch the numbers
$pg2->append_conf('postgresql.conf', qq{
pool_governor.node_name = 'pg2'
pool_governor.sample_interval = '1h'
});
$pg2->start;
$pg1->wait_for_catchup($pg2);

ok($pg2->poll_query_until('postgres',
		"SELECT string_agg(tenant || ' ' || coalesce(max_connections::text, 'none') || ' ' || limits_from, ', ' ORDER BY tenant) = 'inventory 2 pg2, reporting none tenants, shop 3 standby' FROM pool_governor.tenant_status WHERE tenant IN ('shop', 'inventory', 'reporting')"),
	'on the standby pg2: its name\'s row, its role\'s row, and the tenants\' numbers');
is($pg2->safe_psql('postgres', 'SELECT node_name || \' \' || role FROM pool_governor.node_status'),
	'pg2 standby', 'node_status says whose numbers are in force');

my $shop = burst($pg2, 'shop', 5);
is($shop->{result}{admitted}, 3, 'the standby admits 3 of 5 shop logins (its cap of 3)');
is($shop->{result}{refused}, 2, 'and refuses 2');
my $rep = burst($pg2, 'reporting', 4);
is($rep->{result}{admitted}, 4, 'reporting, without a cap on a standby, is admitted there');
my $inv = burst($pg2, 'inventory', 3);
is($inv->{result}{admitted}, 2, 'inventory: pg2\'s own budget of 2');

# Promotion, as a switchover does it: the primary stops cleanly first (its
# last WAL reaches pg2, so it can follow pg2 later without a rewind), then
# pg2 is promoted.  pg_ctl promote -w returns once recovery has ended; the
# first governed login after it is a reporting one.
$pg1->stop('fast');
$pg2->promote;
my $first = burst($pg2, 'reporting', 1);
is($first->{result}{refused}, 1,
	'the first login after the promotion is judged by the primary\'s numbers: reporting refused');
like($first->{result}{failures}[0] // '', qr/tenant "reporting".*holds 4 of its 0 connections/s,
	'its message counts the 4 reporting sessions from before, against the primary\'s cap of 0');
$first->finish;
is($pg2->safe_psql('postgres',
		"SELECT string_agg(tenant || ' ' || coalesce(max_connections::text, 'none') || ' ' || connected || ' ' || limits_from, ', ' ORDER BY tenant) FROM pool_governor.tenant_status WHERE tenant IN ('shop', 'inventory', 'reporting')"),
	'inventory 2 2 pg2, reporting 0 4 primary, shop 40 3 tenants',
	'the new primary: its name\'s row still first, then its role\'s; counts kept');
is($pg2->safe_psql('postgres',
		"SELECT count(*) FROM pool_governor.events WHERE event = 'role changed' AND detail LIKE '%now the primary%'"),
	'1', 'one "role changed" event');
my $more = burst($pg2, 'shop', 10);
is($more->{result}{admitted}, 10, 'the shop, 3 held, gets 10 more under the primary\'s cap of 40');
is($pg2->safe_psql('postgres', q{
SELECT string_agg(t.tenant || ' ' || t.connected || '=' || coalesce(a.n, 0), ', ' ORDER BY t.tenant)
FROM pool_governor.tenant_status t
LEFT JOIN (SELECT usename AS tenant, count(*) AS n FROM pg_stat_activity
		   WHERE backend_type = 'client backend' GROUP BY usename) a USING (tenant)
WHERE t.tenant IN ('shop', 'inventory', 'reporting')}),
	'inventory 2=2, reporting 4=4, shop 13=13', 'the new primary\'s counts equal its sessions');
$_->finish for ($shop, $rep, $inv, $more);

# The old primary comes back as pg2's standby.  While it is down, the
# budget of a standby changes.
$pg2->safe_psql('postgres',
	"UPDATE pool_governor.node_limits SET max_connections = 2 WHERE node = 'standby' AND tenant = 'shop'");
$pg1->enable_streaming($pg2);
$pg1->append_conf('postgresql.conf', "pool_governor.sample_interval = '200ms'\n");
$pg1->start;
$pg2->wait_for_catchup($pg1);
my $demoted = burst($pg1, 'shop', 5);
ok($demoted->{result}{admitted} <= 3,
	"the demoted node's first logins are judged as a standby (admitted $demoted->{result}{admitted} of 5, never the primary's 40)");
$demoted->finish;
ok($pg1->poll_query_until('postgres',
		"SELECT max_connections = 2 AND limits_from = 'standby' FROM pool_governor.tenant_status WHERE tenant = 'shop'"),
	'then it enforces the replicated tables: the standby budget changed while it was down');
is($pg1->safe_psql('postgres', 'SELECT node_name || \' \' || role FROM pool_governor.node_status'),
	'pg1 standby', 'pg1 says it is a standby');
$demoted = burst($pg1, 'shop', 4);
is($demoted->{result}{admitted}, 2, 'and admits 2 of 4 shop logins');
($rc, $out, $err) = $pg1->psql('postgres', 'SELECT 1',
	connstr => $pg1->connstr('postgres') . ' user=reporting');
is($rc, 0, 'reporting logs in on the standby pg1 (its cap of 0 is the primary\'s)');
$demoted->finish;

# A node's name, changed by a reload, takes effect without a restart.
$pg1->append_conf('postgresql.conf', "pool_governor.node_name = 'pg2'\n");
$pg1->reload;
ok($pg1->poll_query_until('postgres',
		"SELECT max_connections = 2 AND limits_from = 'pg2' FROM pool_governor.tenant_status WHERE tenant = 'inventory'"),
	'renamed pg2 by a reload, pg1 enforces pg2\'s row');

# A standby's rows are checked by the standby: reserves that do not fit its
# capacity (97 here) are scaled there, health critical saying so, while the
# primary, where the row was accepted, is not affected.
$pg2->safe_psql('postgres',
	"INSERT INTO pool_governor.node_limits VALUES ('standby', 'reporting', NULL, 194)");
ok($pg1->poll_query_until('postgres',
		"SELECT status = 'critical' AND status_reason IS NOT NULL FROM pool_governor.health"),
	'the standby cannot fit the standby rows: health critical');
like($pg1->safe_psql('postgres', 'SELECT status_reason FROM pool_governor.health'),
	qr/^the tenants reserve 194 seats but the governed capacity is 97: caps are enforced and every reserve is scaled by 97\/194/,
	'and says why');
is($pg1->safe_psql('postgres',
		"SELECT reserved_connections || ' ' || limits_from FROM pool_governor.tenant_status WHERE tenant = 'reporting'"),
	'97 standby', 'reporting\'s reserve there is scaled to 97 of 194');
is($pg2->safe_psql('postgres', "SELECT coalesce(status_reason, 'none') FROM pool_governor.health"),
	'none', 'the primary has nothing to say of its own numbers');
$pg2->safe_psql('postgres', "DELETE FROM pool_governor.node_limits WHERE tenant = 'reporting' AND node = 'standby'");
ok($pg1->poll_query_until('postgres', "SELECT status_reason IS NULL FROM pool_governor.health"),
	'the row gone, the standby has nothing to say either');

$pg1->stop;
$pg2->stop;
done_testing();
