# Bounded admission waits: a burst waits briefly for a seat instead of
# failing, first come first served, never past its bounds.
use strict;
use warnings;
use lib 't';

use PgovTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $node = governed_node('waits');
$node->safe_psql('postgres', q{
CREATE ROLE shop LOGIN;
CREATE ROLE quick LOGIN;
CREATE ROLE flood LOGIN;
INSERT INTO pool_governor.tenants (name, max_connections, max_waiting, wait_timeout)
VALUES ('shop', 2, 3, '60s'), ('quick', 1, 5, '3s'), ('flood', 1, 200, '50s');
INSERT INTO pool_governor.rules (tenant, role_name)
VALUES ('shop', 'shop'), ('quick', 'quick'), ('flood', 'flood');
SELECT pool_governor.reload();
});

sub waiting_is
{
	my ($tenant, $n) = @_;
	return $node->poll_query_until('postgres',
		"SELECT waiting = $n FROM pool_governor.tenant_status WHERE tenant = '$tenant'");
}

# A login that finds no seat waits, and gets the seat released within the
# timeout.
my $held = burst($node, 'shop', 2);
is($held->{result}{admitted}, 2, 'shop is at its cap of 2');
my $a = burst($node, 'shop', 1, nowait => 1);
ok(waiting_is('shop', 1), 'a third login waits instead of being refused');
is($node->safe_psql('postgres',
		"SELECT state, waited_ms >= 0 FROM pool_governor.sessions WHERE tenant = 'shop' AND state = 'waiting'"),
	'waiting|t', 'sessions shows it waiting');

# First come, first served: b arrives after a and must not overtake it.
my $b = burst($node, 'shop', 1, nowait => 1);
ok(waiting_is('shop', 2), 'a fourth login queues behind the third');
my $c = burst($node, 'shop', 1, nowait => 1);
ok(waiting_is('shop', 3), 'a fifth as well: max_waiting (3) is reached');

# max_waiting honoured: the next login is refused at once.
my $t0 = time;
my $d = burst($node, 'shop', 1);
is($d->{result}{refused}, 1, 'with 3 waiting, a sixth login is refused');
cmp_ok(time - $t0, '<', 30, 'at once, not after the 60 s wait_timeout');

$held->cmd('close 1');
is($a->result->{admitted}, 1, 'the first waiter gets the released seat');
is($node->safe_psql('postgres', "SELECT waiting FROM pool_governor.tenant_status WHERE tenant = 'shop'"),
	'2', 'the others still wait');
$held->cmd('close 1');
is($b->result->{admitted}, 1, 'the second waiter gets the next seat');
$a->cmd('close 1');
is($c->result->{admitted}, 1, 'and the third the one after');
my $row = tenant_row($node, 'shop');
is($row->{waited}, 3, 'tenant_status counts 3 logins admitted after a wait');
is($row->{connected}, 2, 'shop is at its cap again, never above');
is($row->{peak_connected}, 2, 'peak_connected never passed the cap');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pool_governor.events WHERE tenant = 'shop' AND event = 'admitted after wait'"),
	'3', 'each is an event');
$_->finish for ($b, $c, $d);
$a->finish;
$held->finish;

# A login that times out is refused with 53300 after about the timeout.
my $q = burst($node, 'quick', 1);
my $late = burst($node, 'quick', 1, nowait => 1);
my $res = $late->result;
is($res->{refused}, 1, 'a login that waits out wait_timeout is refused');
like($res->{failures}[0], qr/^refused 53300 too many connections for tenant "quick".*the login waited \d+ ms for a seat/,
	'with 53300 and how long it waited');
cmp_ok($res->{seconds}, '>=', 2.9, 'not before the 3 s timeout');
cmp_ok($res->{seconds}, '<', 30, 'nor long after it');
$row = tenant_row($node, 'quick');
is($row->{wait_timeouts}, 1, 'tenant_status counts the timeout');
is($row->{rejected}, 1, 'as a refusal');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pool_governor.events WHERE tenant = 'quick' AND event = 'wait timeout'"),
	'1', 'and logs it as an event');
$late->finish;

# A waiter killed with pg_terminate_backend leaves the counters exact.
my $killed = burst($node, 'quick', 1, nowait => 1);
ok(waiting_is('quick', 1), 'a login waits');
$node->safe_psql('postgres',
	"SELECT pg_terminate_backend(pid) FROM pool_governor.sessions WHERE state = 'waiting'");
is($killed->result->{admitted}, 0, 'terminating the waiter ends its login');
ok(waiting_is('quick', 0), 'it no longer waits');
$row = tenant_row($node, 'quick');
is($row->{connected}, 1, 'and took no seat');

# A waiter whose client goes away takes nothing and gives nothing back twice.
my $gone = burst($node, 'quick', 1, nowait => 1);
ok(waiting_is('quick', 1), 'another login waits');
$gone->{h}->kill_kill;
ok(waiting_is('quick', 0), 'its client goes away: it stops waiting');
is(tenant_row($node, 'quick')->{connected}, 1, 'the seat holder is still counted once');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pool_governor.events WHERE tenant = 'quick' AND event = 'wait abandoned'"),
	'2', 'both abandoned waits are events');
$q->cmd('close 1');
ok(wait_connected($node, 'quick', 0), 'quick drains to exactly 0');

# Waiters can never lock a superuser out: logins stop waiting (and are
# refused at once) while the server's free slots are down to
# superuser_reserved_connections plus a margin.
my $hold = burst($node, 'flood', 1);
my $flood = burst($node, 'flood', 110, nowait => 1);
ok($node->poll_query_until('postgres',
		"SELECT waiting + rejected >= 109 FROM pool_governor.tenant_status WHERE tenant = 'flood'"),
	'a flood of 110 logins: some wait, the rest are refused');
my $waiting = $node->safe_psql('postgres', "SELECT waiting FROM pool_governor.tenant_status WHERE tenant = 'flood'");
cmp_ok($waiting, '<=', 100 - 3 - 2 - 1, "no more logins wait ($waiting) than leave the superuser slots free");
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'a superuser logs in while the server is full of waiters');
$flood->{h}->kill_kill;
$hold->finish;
ok($node->poll_query_until('postgres',
		'SELECT sum(waiting) = 0 AND sum(connected) = 0 FROM pool_governor.tenant_status'),
	'when the flood leaves, every counter is back at 0');

$node->stop;
done_testing();
