# A tenant's connected count is always the number of live governed sessions
# that the configuration in force classifies into it (issue 7): whatever
# order the DBA writes things in, whenever rules change, after the governor
# was off; reserved seats stay real when backend slots run out; a refusal
# says what was decided.
use strict;
use warnings;
use lib 't';

use PgovTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = governed_node('counts', no_extension => 1);
$node->safe_psql('postgres', q{
CREATE ROLE shop LOGIN;
CREATE ROLE analyst LOGIN;
CREATE ROLE batch LOGIN;
CREATE ROLE q LOGIN;
});

# 1. Logins before any configuration; then the tenant and its rule written
# the way psql in autocommit does, one transaction each, with a pause
# longer than the worker's periodic re-read (5 s) in between.
my $early = burst($node, 'shop', 3);
is($early->{result}{admitted}, 3, 'three logins before any configuration are admitted');
$node->safe_psql('postgres', 'CREATE EXTENSION pool_governor');
my $gen = generation($node);
$node->safe_psql('postgres',
	"INSERT INTO pool_governor.tenants (name, max_connections) VALUES ('shop', 4)");
wait_generation_after($node, $gen);
is(counts($node), 'default:3,shop:0',
	'with the tenant alone committed, the early logins are in the default tenant');
sleep 6;
$gen = generation($node);
$node->safe_psql('postgres',
	"INSERT INTO pool_governor.rules (tenant, role_name) VALUES ('shop', 'shop')");
wait_generation_after($node, $gen);
is(counts($node), 'default:0,shop:3', 'the rule, committed later, moves them into shop');
my $r = $early->cmd('open 2');
is($r->{admitted}, 1, 'they count against the cap of 4: one more login is admitted');
is($r->{refused}, 1, 'and the next is refused');
$early->finish;
ok(wait_connected($node, 'shop', 0), 'shop drains');

# 2. A new rule moves live sessions: 5 analysts in default, then a tenant
# with cap 6 and a rule for them, in one transaction.
my $an = burst($node, 'analyst', 5);
is(counts($node), 'default:5,shop:0', 'five analyst sessions are in default');
write_config($node, q{
INSERT INTO pool_governor.tenants (name, max_connections) VALUES ('bi', 6);
INSERT INTO pool_governor.rules (tenant, role_name) VALUES ('bi', 'analyst');
});
is(counts($node), 'bi:5,default:0,shop:0', 'the new rule moves all five into bi');
$r = $an->cmd('open 6');
is($r->{admitted}, 1, 'bi admits 1 more, up to its cap of 6');
is($r->{refused}, 5, 'and refuses 5: 6 live sessions, not 11');
like($r->{failures}[0], qr/too many connections for tenant "bi".*holds 6 of its 6 connections/,
	'the refusal counts the moved sessions');
$an->finish;
ok(wait_connected($node, 'bi', 0), 'bi drains');

# 3. Sessions that start while mode = off are counted once enforcement
# resumes, from their own backend data.
write_config($node, q{
INSERT INTO pool_governor.tenants (name, max_connections) VALUES ('batch', 5);
INSERT INTO pool_governor.rules (tenant, role_name) VALUES ('batch', 'batch');
});
$node->append_conf('postgresql.conf', "pool_governor.mode = off\n");
$node->reload;
$node->poll_query_until('postgres', "SELECT mode = 'off' FROM pool_governor.health")
  or die 'mode did not switch to off';
my $batch = burst($node, 'batch', 7);
is($batch->{result}{admitted}, 7, 'with the governor off, 7 batch logins get in past the cap of 5');
is(tenant_row($node, 'batch')->{connected}, 0, 'and nothing counts them');
$node->append_conf('postgresql.conf', "pool_governor.mode = enforce\n");
$node->reload;
ok(wait_connected($node, 'batch', 7), 'once enforcement resumes, the 7 sessions are adopted into batch');
like($node->safe_psql('postgres',
		"SELECT detail FROM pool_governor.events WHERE event = 'sessions adopted'"),
	qr/^7 sessions/, 'with an event saying so');
$r = $batch->cmd('open 1');
is($r->{refused}, 1, 'batch is over its cap: the next login is refused');
$batch->cmd('close 3');
ok(wait_connected($node, 'batch', 4), 'adopted sessions give their seat back when they leave');
$r = $batch->cmd('open 2');
is($r->{admitted}, 1, 'then exactly one more fits under the cap');
is($r->{refused}, 1, 'and the other is refused');
$batch->finish;
ok(wait_connected($node, 'batch', 0), 'batch drains');

# 5. A refusal caused by first come, first served says so.  Two logins
# wait; the first is stopped (SIGSTOP) and so is the worker, so that a freed
# seat stays free with the second waiter (never woken: a stopped waiter's
# turn is passed on by the worker) still ahead of a new login.
$node->append_conf('postgresql.conf', "pool_governor.capacity = 4\n");
$node->reload;
write_config($node, q{
INSERT INTO pool_governor.tenants (name, max_connections, max_waiting, wait_timeout)
VALUES ('q', 40, 2, '30 s');
INSERT INTO pool_governor.rules (tenant, role_name) VALUES ('q', 'q');
});
is($node->safe_psql('postgres', 'SELECT capacity FROM pool_governor.health'), '4',
	'capacity is lowered to 4');
for my $cap ('40', 'NULL')
{
	write_config($node, "UPDATE pool_governor.tenants SET max_connections = $cap WHERE name = 'q';")
	  if $cap eq 'NULL';
	my $held = burst($node, 'q', 4);
	is($held->{result}{admitted}, 4, "q (cap $cap) takes all 4 seats");
	my @waiters;
	for my $k (1 .. 2)
	{
		push @waiters, burst($node, 'q', 1, nowait => 1);
		$node->poll_query_until('postgres',
			"SELECT waiting = $k FROM pool_governor.tenant_status WHERE tenant = 'q'")
		  or die "no waiter $k";
	}
	my $first = $node->safe_psql('postgres',
		"SELECT pid FROM pool_governor.raw_sessions() WHERE slot_state = 'waiting' ORDER BY entered_at LIMIT 1");
	my $worker = $node->safe_psql('postgres', 'SELECT pid FROM pool_governor.worker');
	kill 'STOP', $first;
	kill 'STOP', $worker;
	$held->cmd('close 1');
	ok(wait_connected($node, 'q', 3), 'a seat is freed while the first waiter cannot take it');
	my $late = burst($node, 'q', 1);
	is($late->{result}{refused}, 1, 'a new login is refused');
	my $msg = $late->{result}{failures}[0];
	like($msg, qr/earlier logins are waiting for a connection seat in tenant "q"/,
		"the message says logins are waiting ahead (cap $cap)");
	my $captext = $cap eq 'NULL' ? 'no cap' : "cap $cap";
	like($msg, qr/Tenant "q" holds 3 connections \($captext, 0 reserved\) and 2 earlier logins wait for the next free seat/,
		'with the numbers of the decision');
	unlike($msg, qr/-1|too many connections/, 'not "too many connections", no cap of -1');
	$late->finish;
	kill 'CONT', $worker;
	kill 'CONT', $first;
	$held->finish;
	is($_->result->{admitted}, 1, 'each waiter then takes a seat') for @waiters;
	$_->finish for @waiters;
	ok(wait_connected($node, 'q', 0), 'q drains');
}
$node->stop;

# 4. Reserved seats are real seats, PostgreSQL's own slot limit included:
# max_connections 30 (27 for ordinary roles), shop reserves 10, reporting
# may queue 50 logins.  One superuser session stays open throughout to
# watch (a transient one would take a slot at the wrong moment).
my $small = governed_node('slots', conf => "max_connections = 30\n");
$small->safe_psql('postgres', q{
CREATE ROLE shop LOGIN;
CREATE ROLE reporting LOGIN;
INSERT INTO pool_governor.tenants (name, max_connections, reserved_connections, max_waiting, wait_timeout)
VALUES ('shop', 10, 10, 0, '0'), ('reporting', 10, 0, 50, '20 s');
INSERT INTO pool_governor.rules (tenant, role_name) VALUES ('shop', 'shop'), ('reporting', 'reporting');
});
$small->poll_query_until('postgres', 'SELECT tenants = 3 FROM pool_governor.health')
  or die 'configuration not loaded';
my $watch = $small->background_psql('postgres');
sub watch
{
	my ($sql) = @_;
	my $v = $watch->query_safe($sql);
	chomp $v;
	return $v;
}
sub watch_until
{
	my ($sql, $want) = @_;
	for (1 .. 600)
	{
		return 1 if watch($sql) eq $want;
		usleep(50_000);
	}
	return 0;
}
my $rep = burst($small, 'reporting', 10);
is($rep->{result}{admitted}, 10, 'reporting takes its 10');
my @waiters;
for my $k (1 .. 8)
{
	push @waiters, burst($small, 'reporting', 1, nowait => 1);
	watch_until("SELECT waiting + rejected FROM pool_governor.tenant_status WHERE tenant = 'reporting'", $k)
	  or die "login $k was not decided";
}
# 30 slots - 10 reporting - 1 watcher = 19 free; a waiter may wait only while
# at least 3 (superuser_reserved) + 10 (shop's unused reserve) + 2 stay free.
is(watch("SELECT waiting || '/' || rejected FROM pool_governor.tenant_status WHERE tenant = 'reporting'"),
	'4/4', 'only 4 reporting logins may wait; 4 more are refused');
is(watch('SELECT capacity || ' . "'/'" . ' || reserved_unused || ' . "'/'" . ' || shared_free FROM pool_governor.health'),
	'26/10/6', 'health: 26 seats in force (27 less the watcher), 10 reserved unused, 6 shared free');
my $shop = burst($small, 'shop', 10);
is($shop->{result}{admitted}, 10, 'shop still gets all 10 of its reserved seats');
is($shop->{result}{other}, 0, 'none refused by PostgreSQL for lack of a slot');
my ($ret) = $small->psql('postgres', 'SELECT 1');
is($ret, 0, 'and a superuser can still log in');
$shop->finish;
$rep->finish;
for my $w (@waiters)
{
	$w->result;
	$w->finish;
}
$watch->quit;
ok($small->poll_query_until('postgres',
		'SELECT sum(connected) = 0 AND sum(waiting) = 0 FROM pool_governor.tenant_status'),
	'every seat and queue place is given back');
$small->stop;
done_testing();
