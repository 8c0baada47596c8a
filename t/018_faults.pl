# Three faults an attacker found in 1.2, each with the numbers it was found
# with: sessions opened while the governor was off hid behind waiters and
# over-admitted their tenant; a woken waiter whose process stalled held a
# free seat for its whole wait; and one tenant's refusals erased another
# tenant's health.
use strict;
use warnings;
use lib 't';

use PgovTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $node = governed_node('faults');
$node->safe_psql('postgres', q{
CREATE ROLE r4 LOGIN;
CREATE ROLE r5 LOGIN;
CREATE ROLE waiter LOGIN;
CREATE ROLE victim LOGIN;
CREATE ROLE noisy LOGIN;
});

# 1. Adoption is not skipped because logins are waiting.  capx cap 3 (r5);
# busy cap 1, 10 may wait 50 s (r4).  Mode off: 3 r5 sessions; mode
# enforce; 1 r4 holder and 3 r4 waiters.
write_config($node, q{
INSERT INTO pool_governor.tenants (name, max_connections, max_waiting, wait_timeout)
VALUES ('capx', 3, 0, '0'), ('busy', 1, 10, '50 s');
INSERT INTO pool_governor.rules (tenant, role_name) VALUES ('capx', 'r5'), ('busy', 'r4');
});
set_and_wait($node, 'pool_governor.mode', 'off');
my $r5 = burst($node, 'r5', 3);
is($r5->{result}{admitted}, 3, 'with the governor off, 3 r5 sessions log in');
set_and_wait($node, 'pool_governor.mode', 'enforce');
my $holder = burst($node, 'r4', 1);
is($holder->{result}{admitted}, 1, 'busy holds its one seat');
my @waiters;
for my $k (1 .. 3)
{
	# one at a time, so that the queue's order is known
	push @waiters, burst($node, 'r4', 1, nowait => 1);
	$node->poll_query_until('postgres',
		"SELECT waiting = $k FROM pool_governor.tenant_status WHERE tenant = 'busy'")
	  or die "busy login $k did not queue";
}
ok(wait_connected($node, 'capx', 3),
	'the 3 sessions are adopted into capx while 3 logins wait in busy');
like($node->safe_psql('postgres',
		"SELECT detail FROM pool_governor.events WHERE event = 'sessions adopted'"),
	qr/^3 sessions/, 'with an event saying so');
my $more = $r5->cmd('open 3');
is($more->{admitted}, 0, 'no more r5 login gets in past the cap of 3');
is($more->{refused}, 3, 'all 3 are refused');
like($more->{failures}[0], qr/too many connections for tenant "capx".*holds 3 of its 3 connections/,
	'naming capx and its numbers');
is($node->safe_psql('postgres',
		"SELECT count(*) || '/' || (SELECT connected FROM pool_governor.tenant_status WHERE tenant = 'capx') FROM pg_stat_activity WHERE usename = 'r5'"),
	'3/3', '3 live r5 sessions against a cap of 3, all counted');
$r5->finish;
$holder->finish;
for my $w (@waiters)
{
	is($w->result->{admitted}, 1, 'each busy waiter is admitted in turn');
	$w->finish;
}
ok(wait_connected($node, 'capx', 0) && wait_connected($node, 'busy', 0), 'both drain');

# 2. A woken waiter that does not run passes its seat on.  wt cap 2, 10 may
# wait 20 s; 2 holders; a waiter whose backend is then stopped (SIGSTOP);
# two more waiters; one holder leaves.
write_config($node, q{
INSERT INTO pool_governor.tenants (name, max_connections, max_waiting, wait_timeout)
VALUES ('wt', 2, 10, '20 s');
INSERT INTO pool_governor.rules (tenant, role_name) VALUES ('wt', 'waiter');
});
my $holders = burst($node, 'waiter', 2);
is($holders->{result}{admitted}, 2, 'wt holds its 2 seats');
my $stalled = burst($node, 'waiter', 1, nowait => 1);
$node->poll_query_until('postgres',
	"SELECT waiting = 1 FROM pool_governor.tenant_status WHERE tenant = 'wt'")
  or die 'no first waiter';
my $stalled_pid = $node->safe_psql('postgres',
	"SELECT pid FROM pool_governor.sessions WHERE tenant = 'wt' AND state = 'waiting'");
my $stalled_since = time;
kill 'STOP', $stalled_pid;
my @later;
for my $k (2 .. 3)
{
	push @later, burst($node, 'waiter', 1, nowait => 1);
	$node->poll_query_until('postgres',
		"SELECT waiting = $k FROM pool_governor.tenant_status WHERE tenant = 'wt'")
	  or die "waiter $k did not queue";
}
my $freed = time;
$holders->cmd('close 1');
my $second = $later[0]->result;
my $handoff = time - $freed;
is($second->{admitted}, 1, 'the second waiter takes the seat the stopped one does not');
cmp_ok($handoff, '<', 5, "within its turn and a worker wake-up (took ${\ sprintf('%.2f', $handoff)} s, not the 20 s wait)");
is(tenant_row($node, 'wt')->{connected}, 2, 'wt is at its cap again: 2 of 2');
is($node->safe_psql('postgres',
		"SELECT count(*) || '/' || count(*) FILTER (WHERE pid = $stalled_pid) FROM pool_governor.sessions WHERE tenant = 'wt' AND state = 'waiting'"),
	'2/1', 'the stopped waiter and the third one still wait');
my $woken = $node->safe_psql('postgres', 'SELECT woken FROM pool_governor.wakeups');
wait_worker($node, ticks => 3);
is($node->safe_psql('postgres', 'SELECT woken FROM pool_governor.wakeups'), $woken,
	'the stopped waiter is not woken again tick after tick');
$holders->cmd('close 1');
is($later[1]->result->{admitted}, 1,
	'the next free seat goes to the third waiter: the stopped one is still passed over');
$later[$_]->finish for 0 .. 1;
ok(wait_connected($node, 'wt', 0), 'the second and third waiters left again: both seats are free');

# Resumed after its own 20 s wait ended, with a seat free, it is refused:
# no login is admitted after its wait_timeout.
my $left = 20.5 - (time - $stalled_since);
usleep($left * 1e6) if $left > 0;
kill 'CONT', $stalled_pid;
my $late = $stalled->result;
is($late->{admitted}, 0, 'the stopped waiter, resumed after its 20 s, is not admitted');
like($late->{failures}[0], qr/wait for a connection seat in tenant "wt" timed out/,
	'it is told its wait timed out');
$stalled->finish;
$holders->finish;
ok(wait_connected($node, 'wt', 0), 'wt drains');

# A tenant whose cap drops to 0 refuses its waiters at once.
$holders = burst($node, 'waiter', 2);
my $w0 = burst($node, 'waiter', 1, nowait => 1);
$node->poll_query_until('postgres',
	"SELECT waiting = 1 FROM pool_governor.tenant_status WHERE tenant = 'wt'")
  or die 'no waiter';
write_config($node, "UPDATE pool_governor.tenants SET max_connections = 0 WHERE name = 'wt';");
my $r0 = $w0->result;
is($r0->{refused}, 1, 'with its cap lowered to 0, a waiting login is refused');
cmp_ok($r0->{seconds}, '<', 10, 'at once, not after its 20 s wait');
$w0->finish;
$holders->finish;
ok(wait_connected($node, 'wt', 0), 'wt drains');

# 3. Health comes from each tenant's own counters.  victim (cap 1) gets 5
# refusals; then an ordinary role whose own tenant is full (noisy, cap 0)
# makes 1,100 refused logins, more than the event ring holds.
write_config($node, q{
INSERT INTO pool_governor.tenants (name, max_connections) VALUES ('victim', 1), ('noisy', 0);
INSERT INTO pool_governor.rules (tenant, role_name) VALUES ('victim', 'victim'), ('noisy', 'noisy');
});
my $v = burst($node, 'victim', 6);
is($v->{result}{admitted}, 1, 'victim holds its one seat');
is($v->{result}{refused}, 5, 'and 5 of its logins are refused');
is($node->safe_psql('postgres',
		"SELECT admitted_1m || '/' || rejected_1m || '/' || health FROM pool_governor.recent JOIN pool_governor.tenant_status USING (tenant) WHERE tenant = 'victim'"),
	'1/5/critical', 'victim: 1 admitted, 5 refused in the window, critical');
my $n = burst($node, 'noisy', 0);
my $churn = $n->cmd('churn 50 22');
is($churn->{refused}, 1100, 'noisy makes 1,100 refused logins');
$n->finish;
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pool_governor.events WHERE tenant = 'victim' AND event = 'refused'"),
	'0', "victim's refusals are gone from the shared, bounded event ring");
is($node->safe_psql('postgres',
		"SELECT admitted_1m || '/' || rejected_1m || '/' || health FROM pool_governor.recent JOIN pool_governor.tenant_status USING (tenant) WHERE tenant = 'victim'"),
	'1/5/critical', 'but its health still counts 1 admitted, 5 refused: critical');
is($node->safe_psql('postgres',
		"SELECT rejected_1m FROM pool_governor.recent WHERE tenant = 'noisy'"),
	'1100', "and noisy's own 1,100 are counted to noisy");
$v->finish;

$node->stop;
done_testing();
