# Draining a tenant above a lowered cap (issue 20): with drain = 'idle' the
# worker ends the tenant's idle sessions above its cap, the longest idle
# first, once it has been above the cap for drain_grace; never an active
# session, never one idle in a transaction.  With drain = 'natural' nothing
# is ended.  Each ended session is an event and counts in drained.
use strict;
use warnings;
use lib 't';

use PgovTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $node = governed_node('drain');
$node->safe_psql('postgres', 'CREATE ROLE d LOGIN; CREATE ROLE n LOGIN;');
write_config($node, q{
INSERT INTO pool_governor.tenants (name, max_connections, drain, drain_grace)
VALUES ('d', 10, 'idle', '2 s'), ('n', 4, 'natural', '2 s');
});
write_config($node, q{
INSERT INTO pool_governor.rules (tenant, role_name) VALUES ('d', 'd'), ('n', 'n');
});

# d's 10 sessions open one after another (d-00 first), so that the longer a
# session has been idle, the lower its number; d-00 and d-01 then run a
# long query
my %s;
for my $i (0 .. 9)
{
	my $app = sprintf 'd-%02d', $i;
	$s{$app} = burst($node, 'd', 1, app => $app);
	die "$app was not admitted" unless $s{$app}{result}{admitted} == 1;
	Time::HiRes::sleep(0.05);
}
$s{$_}->cmd('busy 1 600') for qw(d-00 d-01);
my @n = map { burst($node, 'n', 1, app => "n-$_") } 0 .. 3;
$node->poll_query_until('postgres',
	"SELECT count(*) FILTER (WHERE state = 'active') = 2 AND count(*) FILTER (WHERE state = 'idle') = 8 FROM pool_governor.sessions WHERE tenant = 'd'")
  or die 'd: not 2 active and 8 idle';

my %pid = split /[|\n]/, $node->safe_psql('postgres',
	"SELECT application_name, pid FROM pool_governor.sessions WHERE tenant IN ('d', 'n')");

# the DBA lowers both caps in one transaction
write_config($node, q{
UPDATE pool_governor.tenants SET max_connections = 5 WHERE name = 'd';
UPDATE pool_governor.tenants SET max_connections = 2 WHERE name = 'n';
});
# Once d has been above its cap for its 2 s of grace, two worker ticks are
# enough: waits for them, then until d's sessions that are left number
# $left.  Returns when d went above its cap.
sub drain_pass
{
	my ($left) = @_;
	my $since = $node->safe_psql('postgres',
		"SELECT above_cap_since FROM pool_governor.tenant_status WHERE tenant = 'd'");
	die 'd is not above its cap' if $since eq '';
	$node->poll_query_until('postgres',
		"SELECT now() >= '$since'::timestamptz + interval '2 s'")
	  or die 'the grace did not pass';
	wait_worker($node, ticks => 2);
	$node->poll_query_until('postgres',
		"SELECT count(*) = $left FROM pool_governor.raw_sessions() r JOIN pg_stat_activity a USING (pid) WHERE r.tenant = 'd'")
	  or die 'the drained sessions did not exit';
	return $since;
}

# (drain_pass dies unless d is above its cap: 10 of 5 from the publication)
my $since = drain_pass(5);

is($node->safe_psql('postgres',
	"SELECT string_agg(application_name, ' ' ORDER BY application_name) FROM pool_governor.sessions WHERE tenant = 'd'"),
	'd-00 d-01 d-07 d-08 d-09',
	'exactly the 5 longest-idle sessions were ended; both active ones live on');
my $row = tenant_row($node, 'd');
is("$row->{connected}/$row->{max_connections}", '5/5', 'd holds 5 of its 5');
is($node->safe_psql('postgres', "SELECT drained FROM pool_governor.tenant_status WHERE tenant = 'd'"),
	5, 'tenant_status.drained counts them');

my @ev = split /\n/, $node->safe_psql('postgres',
	"SELECT detail FROM pool_governor.events WHERE event = 'idle session ended' AND tenant = 'd' ORDER BY event_time");
is(scalar @ev, 5, 'one event each, naming the tenant');
is(join(' ', map { /process (\d+) ended/ ? $1 : '?' } @ev),
	join(' ', map { $pid{ sprintf 'd-%02d', $_ } } 2 .. 6),
	'the events name d-02 to d-06, the longest idle first');
like($ev[0], qr/ended: idle \d+\.\d s; 10 connected, above cap 5 for \d+\.\d s/,
	'and say how long it was idle and which limit caused it');
ok($node->safe_psql('postgres',
	"SELECT min(event_time) >= '$since'::timestamptz + interval '2 s' FROM pool_governor.events WHERE event = 'idle session ended'") eq 't',
	'none was ended before drain_grace had passed');
is($node->safe_psql('postgres', "SELECT above_cap_since IS NULL FROM pool_governor.tenant_status WHERE tenant = 'd'"),
	't', 'at its cap, d is no longer above it');

# 'natural': n stays above its cap, nothing is ended
is($node->safe_psql('postgres',
	"SELECT connected || '/' || drained FROM pool_governor.tenant_status WHERE tenant = 'n'"),
	'4/0', "n (drain 'natural') keeps its 4 sessions above its cap of 2");

# an idle-in-transaction session is never ended: d-07 opens a transaction,
# the cap goes down to 2; of the 3 above it only d-08 and d-09 are idle
$s{'d-07'}->cmd('idle_tx 1');
$node->poll_query_until('postgres',
	"SELECT state = 'idle in transaction' FROM pool_governor.sessions WHERE application_name = 'd-07'")
  or die 'd-07 is not idle in a transaction';
write_config($node, "UPDATE pool_governor.tenants SET max_connections = 2 WHERE name = 'd';");
drain_pass(3);
wait_worker($node, ticks => 2);
is($node->safe_psql('postgres',
	"SELECT string_agg(application_name, ' ' ORDER BY application_name) FROM pool_governor.sessions WHERE tenant = 'd'"),
	'd-00 d-01 d-07', 'the active and the idle-in-transaction sessions live on, above the cap');
is($node->safe_psql('postgres',
	"SELECT connected || '/' || drained FROM pool_governor.tenant_status WHERE tenant = 'd'"),
	'3/7', 'd holds 3 (cap 2), 7 ended in all, and no more while none is idle');

# the long queries' connbursts are stopped, not asked to quit
$s{$_}{h}->kill_kill for qw(d-00 d-01);
delete @s{qw(d-00 d-01)};
$_->finish for values %s, @n;
done_testing();
