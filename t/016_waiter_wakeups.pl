# A released seat wakes only who can take it (issue 12): 1,000 logins wait
# over 10 tenants (cap 1 each, held), queued in a known order; when the
# holders leave, each tenant's queue drains first come, first served, every
# waiter woken once and admitted at that wake-up.  A broadcast would wake
# all 1,000 on each of the 1,000 releases (about half a million wake-ups
# that find no seat); pool_governor.wakeups counts them.
use strict;
use warnings;
use lib 't';

use PgovTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $ntenants = 10;
my $per_tenant = 100;
my $waiters = $ntenants * $per_tenant;

# 10 holders + 1,000 waiters + the test's own sessions, with the slots a
# waiter must leave free (superuser_reserved_connections + 2)
my $node = governed_node('wakeups', conf => qq{
max_connections = 1040
authentication_timeout = '10min'
pool_governor.event_log_size = 4096
});

write_config($node, join "\n",
	(map { "CREATE ROLE w$_ LOGIN;" } 0 .. $ntenants - 1),
	(map { "INSERT INTO pool_governor.tenants VALUES ('w$_', 1, 0, $per_tenant, '5 min');" } 0 .. $ntenants - 1),
	(map { "INSERT INTO pool_governor.rules (tenant, role_name) VALUES ('w$_', 'w$_');" } 0 .. $ntenants - 1));

my @holders = map { burst($node, "w$_", 1) } 0 .. $ntenants - 1;
is((grep { $_->{result}{admitted} == 1 } @holders), $ntenants, 'each tenant\'s one seat is held');

# Round r starts one login per tenant, application_name "wT-r", and waits
# until they are all queued: within a tenant, the queue is in round order.
# The logins are started by one connburst (each leaves as soon as it is
# admitted) and the queue is watched from one session: a process per login
# or per poll would spend minutes here.
my $waiter = burst($node, 'w0', 0);
my $watch = $node->background_psql('postgres');
my $started = time;
for my $r (0 .. $per_tenant - 1)
{
	$waiter->cmd(sprintf('start user=w%d application_name=w%d-%03d', $_, $_, $r))
	  for 0 .. $ntenants - 1;
	my $queued = $ntenants * ($r + 1);
	my $deadline = time + $PostgreSQL::Test::Utils::timeout_default;
	until ($watch->query_safe(
		"SELECT count(*) FROM pool_governor.raw_sessions() WHERE slot_state = 'waiting'") == $queued)
	{
		die "round $r: $queued logins did not queue" if time > $deadline;
		Time::HiRes::sleep(0.01);
	}
}
note(sprintf('%d logins queued in %.1f s', $waiters, time - $started));
is($node->safe_psql('postgres', 'SELECT waiting FROM pool_governor.health'), $waiters,
	"$waiters logins wait, $per_tenant in each of $ntenants tenants");
my ($woken0, $admitted0, $requeued0) = split /\|/,
  $node->safe_psql('postgres', 'SELECT woken, admitted, requeued FROM pool_governor.wakeups');

# The holders leave: every admitted waiter runs its query and leaves too,
# which gives the seat to the next in its tenant.
$started = time;
$_->finish for @holders;
my $deadline = time + $PostgreSQL::Test::Utils::timeout_default;
until ($waiter->cmd('passed')->{text} =~ /passed=$waiters refused=0 other=0 pending=0/)
{
	die 'the queues did not drain' if time > $deadline;
	Time::HiRes::sleep(0.05);
}
note(sprintf('%d waiters drained in %.1f s', $waiters, time - $started));
is($node->safe_psql('postgres',
	"SELECT sum(waited) || '/' || sum(wait_timeouts) || '/' || sum(rejected) FROM pool_governor.tenant_status WHERE tenant LIKE 'w%'"),
	"$waiters/0/0", 'all 1,000 were admitted after their wait; none timed out or was refused');

my ($woken, $admitted, $requeued) = split /\|/,
  $node->safe_psql('postgres', 'SELECT woken, admitted, requeued FROM pool_governor.wakeups');
my $sent = $woken - $woken0;
note("wake-ups during the drain: $sent sent, then admitted " . ($admitted - $admitted0)
	  . ', still waiting ' . ($requeued - $requeued0));
is($admitted - $admitted0, $waiters, 'each waiter was admitted at a wake-up');
cmp_ok($requeued - $requeued0, '<=', $ntenants,
	'and hardly any wake-up found no seat (a broadcast: ~500,000)');
# one wake-up a waiter; the worker repeats one only for a waiter that has
# not decided within its turn (PGOV_TURN_MS, 250 ms) after it was woken (a
# very slow CPU queue)
cmp_ok($sent, '<=', $waiters * 1.1, 'about one wake-up was sent per waiter');

# First come, first served within each tenant: admissions in round order.
my $fifo = 0;
for my $t (0 .. $ntenants - 1)
{
	my @order = split /,/, $node->safe_psql('postgres',
		"SELECT string_agg(application_name, ',' ORDER BY event_time) FROM pool_governor.events "
		  . "WHERE event = 'admitted after wait' AND tenant = 'w$t'");
	my @expected = map { sprintf('w%d-%03d', $t, $_) } 0 .. $per_tenant - 1;
	$fifo++ if "@order" eq "@expected";
	diag("tenant w$t admitted in the order @order") if "@order" ne "@expected";
}
is($fifo, $ntenants, 'every tenant\'s queue drained first come, first served');
$watch->quit;
$waiter->finish;

$node->stop;
done_testing();
