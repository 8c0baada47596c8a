# Fair share of the shared seats (issue 20): when logins of several tenants
# wait, a freed shared seat goes to the tenant holding the fewest shared
# seats (connected above its reserve) per weight, ties to the oldest login;
# first come, first served within a tenant; a tenant below its reserve is
# admitted at once, whoever waits.  Before, every freed seat went to the
# tenant whose queue began first (A A A A A A ...).
use strict;
use warnings;
use lib 't';

use PgovTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# capacity 20: h holds 18 of them, r reserves the other 2
my $node = governed_node('fair', conf => "pool_governor.capacity = 20\n");

# written the way a DBA would: roles, then tenants, then rules, each its
# own transaction
$node->safe_psql('postgres', join "\n", map { "CREATE ROLE $_ LOGIN;" } qw(h a b r));
write_config($node, q{
INSERT INTO pool_governor.tenants (name, max_connections, reserved_connections, max_waiting, wait_timeout, weight)
VALUES ('h', NULL, 0, 0, '0', 1), ('a', NULL, 0, 20, '50 s', 2),
       ('b', NULL, 0, 20, '50 s', 1), ('r', 2, 2, 0, '0', 1);
});
write_config($node, q{
INSERT INTO pool_governor.rules (tenant, role_name)
VALUES ('h', 'h'), ('a', 'a'), ('b', 'b'), ('r', 'r');
});

sub waiting_in
{
	my ($tenant) = @_;
	return $node->safe_psql('postgres',
		"SELECT waiting FROM pool_governor.tenant_status WHERE tenant = '$tenant'");
}

# $n logins of $tenant, one at a time, each queued before the next starts
# (application_name tenant-NN, so the arrival order is known)
sub queue_logins
{
	my ($tenant, $n) = @_;
	my $before = waiting_in($tenant);
	my @w;
	for my $i (0 .. $n - 1)
	{
		push @w, burst($node, $tenant, 1, nowait => 1, app => sprintf('%s-%02d', $tenant, $i));
		$node->poll_query_until('postgres',
			"SELECT waiting = @{[ $before + $i + 1 ]} FROM pool_governor.tenant_status WHERE tenant = '$tenant'")
		  or die "login $i of $tenant did not queue";
	}
	return @w;
}

sub connected_in
{
	my ($tenant) = @_;
	return $node->safe_psql('postgres',
		"SELECT connected FROM pool_governor.tenant_status WHERE tenant = '$tenant'");
}

# h's sessions leave one at a time; after each, the seat's taker is
# recorded: returns the order ("abab...")
sub release_one_by_one
{
	my ($h, $n) = @_;
	my $order = '';
	my ($a, $b) = (connected_in('a'), connected_in('b'));
	for my $k (1 .. $n)
	{
		$h->cmd('close 1');
		$node->poll_query_until('postgres',
			"SELECT sum(connected) = @{[ $a + $b + $k ]} FROM pool_governor.tenant_status WHERE tenant IN ('a', 'b')")
		  or die "seat $k was not taken";
		my ($na, $nb) = (connected_in('a'), connected_in('b'));
		$order .= $na > $a + ($order =~ tr/a//) ? 'a' : 'b';
	}
	return $order;
}

sub admission_order
{
	my ($tenant) = @_;
	return $node->safe_psql('postgres',
		"SELECT string_agg(application_name, ' ' ORDER BY admitted_at, application_name) FROM pool_governor.sessions WHERE tenant = '$tenant' AND state <> 'waiting'");
}

# --- weights 2 and 1, 15 waiting in each ---
my $h = burst($node, 'h', 18);
is($h->{result}{admitted}, 18, 'h holds 18 seats: with r\'s reserve, all 20');
my @wa = queue_logins('a', 15);
# 15 logins of a (weight 2) wait, then 15 of b (weight 1): queue_logins
# waits for each to queue, and dies if one does not
my @wb = queue_logins('b', 15);

# below its reserve, r is admitted at once, whoever waits
my $r = burst($node, 'r', 1);
is($r->{result}{admitted}, 1, 'r, below its reserve, is admitted at once while 30 logins wait');

my $order = release_one_by_one($h, 9);
is($order, 'abaabaaba', '9 seats freed one by one: a b a a b a a b a (lowest shared seats per weight; ties to the older)');
is(connected_in('a') . '/' . connected_in('b'), '6/3', 'a (weight 2) got 6, b (weight 1) got 3');
is($node->safe_psql('postgres', 'SELECT shared_free || \'/\' || waiting FROM pool_governor.health'),
	'0/21', 'no seat is left free while 21 logins wait');
is(admission_order('a'), join(' ', map { sprintf 'a-%02d', $_ } 0 .. 5),
	'within a, the admission order is the arrival order');
is(admission_order('b'), join(' ', map { sprintf 'b-%02d', $_ } 0 .. 2),
	'within b too');
my $events = $node->safe_psql('postgres',
	"SELECT count(*) FROM pool_governor.events WHERE event = 'admitted after wait' AND tenant IN ('a', 'b')");
is($events, 9, 'each of the 9 was admitted after its wait (events)');

$_->finish for $h, $r, @wa, @wb;
$node->poll_query_until('postgres',
	"SELECT sum(connected) + sum(waiting) = 0 FROM pool_governor.tenant_status WHERE tenant IN ('a', 'b', 'h')")
  or die 'sessions did not leave';

# --- equal weights: 15 of a queued before 2 of b ---
write_config($node, "UPDATE pool_governor.tenants SET weight = 1 WHERE name = 'a';");
$h = burst($node, 'h', 18);
is($h->{result}{admitted}, 18, 'h holds its 18 seats again');
@wa = queue_logins('a', 15);
@wb = queue_logins('b', 2);
$order = release_one_by_one($h, 6);
is($order, 'ababaa', 'equal weights, a\'s 15 queued first: b\'s 2 are admitted within the first 4 seats');
is(admission_order('b'), 'b-00 b-01', 'in their arrival order');

$_->finish for $h, @wa, @wb;
done_testing();
