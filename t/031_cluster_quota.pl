# One quota for the whole cluster (issue 29): a real etcd and three nodes,
# a primary and two pg_basebackup standbys, each holding its grants of the
# shop's cluster quota under its own lease.  The shop's quota is 6, each
# node's floor 1, its own cap 20: grants share the 3 seats above the floors.
#   - a burst on one node takes the seats the others do not use, and the
#     governed shop sessions of the three, sampled every 50 ms, never sum
#     above the quota;
#   - seats one node gives back reach another node's waiting logins;
#   - a standby promoted keeps its grant and its lease;
#   - etcd stopped (SIGSTOP): each node falls back to its floor before its
#     lease can expire, admits nothing above it, and takes grants again
#     once etcd continues;
#   - a node killed: its grant returns to the others after the TTL;
#   - bad input: a floor sum above the quota, a negative quota, a floor on a
#     role's row, a bad cluster name, endpoints that do not answer.
use strict;
use warnings;
use lib 't';

use PgovTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use HTTP::Tiny;
use JSON::PP qw(encode_json decode_json);
use MIME::Base64 qw(encode_base64);
use Time::HiRes qw(time usleep);

plan skip_all => 'etcd is not installed (Debian package etcd-server; scripts/setup installs it)'
  unless grep { -x "$_/etcd" } split /:/, $ENV{PATH};

my $dir = PostgreSQL::Test::Utils::tempdir;
my $etcd = start_etcd($dir);
my $ttl = 3;

sub cluster_conf
{
	my ($name, $endpoints) = @_;
	return qq{
pool_governor.node_name = '$name'
pool_governor.etcd_endpoints = '$endpoints'
pool_governor.cluster_name = 'pgov_t031'
pool_governor.lease_ttl = '${ttl}s'
};
}

my $p1 = governed_node('p1', init => { allows_streaming => 1 },
	conf => cluster_conf('p1', $etcd->{url}));
$p1->safe_psql('postgres', 'CREATE ROLE shop LOGIN');
# the DBA's way: one transaction for the tenant, one for its rule, one for
# the floors
write_config($p1, q{
INSERT INTO pool_governor.tenants (name, max_connections, max_waiting, wait_timeout, cluster_max_connections)
VALUES ('shop', 20, 10, '6 s', 6);
});
write_config($p1, "INSERT INTO pool_governor.rules (tenant, role_name) VALUES ('shop', 'shop');");
write_config($p1, q{
INSERT INTO pool_governor.node_limits (node, tenant, max_connections, reserved_connections, cluster_floor)
VALUES ('p1', 'shop', 20, 0, 1), ('p2', 'shop', 20, 0, 1), ('p3', 'shop', 20, 0, 1);
});

$p1->backup('backup');
my %node = (p1 => $p1);
for my $name (qw(p2 p3))
{
	my $n = PostgreSQL::Test::Cluster->new($name);
	$n->init_from_backup($p1, 'backup', has_streaming => 1);
	$n->append_conf('postgresql.conf', cluster_conf($name, $etcd->{url}));
	$n->start;
	$node{$name} = $n;
}
my @names = qw(p1 p2 p3);

sub status
{
	my ($n, $cols) = @_;
	return $n->safe_psql('postgres',
		"SELECT $cols FROM pool_governor.cluster_status WHERE tenant = 'shop'");
}

for my $name (@names)
{
	ok($node{$name}->poll_query_until('postgres',
			"SELECT lease_expires IS NOT NULL AND etcd_reachable AND allowed = 1 AND cluster_held IS NOT NULL FROM pool_governor.cluster_status WHERE tenant = 'shop'"),
		"$name holds a lease, and the shop its floor of 1 there")
	  or diag(status($node{$name}, '*'));
}

# The governed shop sessions of the three nodes, sampled every 50 ms by a
# child process while the steps below run; the most it saw is read at the
# end.
my $samples = "$dir/samples";
my $sampler = fork();
die "fork: $!" unless defined $sampler;
if ($sampler == 0)
{
	# a node that is down (p3, killed below) counts 0: its sessions are gone
	my @conn = map { $node{$_}->connstr('postgres') . ' connect_timeout=2' } @names;
	open(my $out, '>', $samples) or die;
	$out->autoflush(1);
	for (;;)
	{
		my $sum = 0;
		for my $c (@conn)
		{
			my $v = `psql -XAtq -d "$c" -c "SELECT connected FROM pool_governor.tenant_status WHERE tenant = 'shop'" 2>/dev/null`;
			$sum += $1 if $v =~ /^(\d+)$/m;
		}
		print $out "$sum\n";
		usleep(50_000);
	}
}
sub most_seen
{
	my @v = split /\n/, slurp_file($samples);
	my $most = 0;
	$most = $_ > $most ? $_ : $most for @v;
	return ($most, scalar @v);
}

# 1. A burst of 5 on p1: its floor, and what the others do not use
# (6 - 3 floors = 3 grantable): 4 admitted, the fifth waits, then is
# refused.
my $b1 = burst($p1, 'shop', 5);
is($b1->{result}{admitted}, 4, 'a burst of 5 on p1 gets its floor and the 3 seats no other node uses');
is($b1->{result}{refused}, 1, '  and no more');
like(join("\n", @{ $b1->{result}{failures} }),
	qr/too many connections for tenant "shop".*cluster quota of 6/s,
	'  the refusal names the cluster quota');
is(status($p1, 'granted || \' \' || allowed || \' \' || cluster_held'), '3 4 6',
	'p1: granted 3, allows 4, the cluster holds 6');

# 2. p2 wants 3: its floor at once, then the seats p1 gives back once its
# sessions leave (within a renewal or two)
my $b2 = burst($node{p2}, 'shop', 3, nowait => 1);
$node{p2}->poll_query_until('postgres',
	"SELECT waiting = 2 FROM pool_governor.tenant_status WHERE tenant = 'shop'")
  or die 'p2\'s logins did not wait';
my $freed = time;
$b1->cmd('close 3');
my $r2 = $b2->result;
my $took = time - $freed;
is($r2->{admitted}, 3, 'p2 admits all 3 once p1 gave back the seats its sessions left');
diag(sprintf('seats given back on p1 reached p2\'s waiting logins in %.2f s (renewals every %.1f s)',
		$took, $ttl / 3));
cmp_ok($took, '<', 4, '  within the logins\' wait');
is(status($node{p2}, 'granted || \' \' || allowed'), '2 3', 'p2: granted 2, allows 3');

# A promotion changes nothing: the grants are in etcd, not on the primary,
# and the promoted node's worker keeps its lease
$node{p2}->promote;
ok($node{p2}->poll_query_until('postgres',
		"SELECT role = 'primary' FROM pool_governor.node_status"),
	'p2 promoted: governed as a primary');
is(status($node{p2}, 'granted || \' \' || allowed || \' \' || (lease_expires > now())'), '2 3 true',
	'  with its grant and its lease, as before the promotion');

# 3. etcd stopped: no node admits above its floor, each falls back to it
# before its lease can expire
kill 'STOP', $etcd->{pid};
my $stopped = time;
for my $name (@names)
{
	ok($node{$name}->poll_query_until('postgres',
			"SELECT allowed = 1 AND granted = 0 FROM pool_governor.cluster_status WHERE tenant = 'shop'"),
		"$name falls back to its floor while etcd is stopped");
}
my $fell = time - $stopped;
cmp_ok($fell, '<', $ttl + 1, sprintf('  within the TTL and a tick (%.2f s)', $fell));
my $b3 = burst($node{p3}, 'shop', 2);
is($b3->{result}{admitted}, 1, 'p3 admits its floor of 1 and no more while etcd is stopped');
my $more = $b1->cmd('open 1');
is($more->{admitted}, 0, 'p1, above its floor, admits nothing');
like($node{p1}->safe_psql('postgres',
		"SELECT string_agg(event, ',') FROM pool_governor.events WHERE event IN ('lease lost', 'etcd unreachable')"),
	qr/etcd unreachable/, 'p1 logged etcd unreachable');
kill 'CONT', $etcd->{pid};
ok($node{p1}->poll_query_until('postgres',
		"SELECT lease_expires > now() AND etcd_reachable FROM pool_governor.cluster_status WHERE tenant = 'shop'"),
	'p1 holds a lease again once etcd continues');
like($node{p1}->safe_psql('postgres',
		"SELECT string_agg(event, ',') FROM pool_governor.events WHERE event = 'etcd back'"),
	qr/etcd back/, '  and logged etcd back');

# 4. p3 takes a grant, then is killed: the others get it after the TTL
$b3->finish;
$b1->finish;
$b2->finish;
for my $name (@names)
{
	$node{$name}->poll_query_until('postgres',
		"SELECT connected = 0 FROM pool_governor.tenant_status WHERE tenant = 'shop'")
	  or die "$name did not empty";
}
my $b4 = burst($node{p3}, 'shop', 4);
is($b4->{result}{admitted}, 4, 'p3 takes the 3 grantable seats');
$node{p3}->stop('immediate');
my $killed = time;
my $b5 = burst($p1, 'shop', 3, nowait => 1);
my $r5 = $b5->result;
my $back = time - $killed;
is($r5->{admitted}, 3, 'p1 gets them once p3\'s lease has expired');
cmp_ok($back, '>=', $ttl - 1, sprintf('  not before p3\'s lease expired (%.2f s after the kill)', $back));
$b4->finish;
$b5->finish;
$node{p3}->start;

kill 'KILL', $sampler;
waitpid($sampler, 0);
my ($most, $n) = most_seen();
cmp_ok($n, '>', 100, "$n samples of the three nodes' shop sessions");
cmp_ok($most, '<=', 6, "their sum never exceeded the quota of 6 (most seen: $most)");

# 5. Bad input, refused at write time in the loader's words
my ($rc, $out, $err) = $p1->psql('postgres',
	"UPDATE pool_governor.node_limits SET cluster_floor = 5 WHERE node = 'p2'");
like($err, qr/cluster floors of tenant "shop" exceed its cluster quota.*sum to 7; its cluster_max_connections is 6/s,
	'floors above the quota are refused, with their sum');
($rc, $out, $err) = $p1->psql('postgres',
	"UPDATE pool_governor.tenants SET cluster_max_connections = -1 WHERE name = 'shop'");
like($err, qr/cluster_max_connections of tenant "shop" must be at least 1/,
	'a negative quota is refused');
($rc, $out, $err) = $p1->psql('postgres',
	"INSERT INTO pool_governor.node_limits (node, tenant, max_connections, cluster_floor) VALUES ('standby', 'shop', 20, 1)");
like($err, qr/cluster_floor of tenant "shop" is given for the role "standby", not a node/,
	'a floor on a role\'s row is refused');
is($p1->safe_psql('postgres', 'SELECT sum(cluster_floor) FROM pool_governor.node_limits'), '3',
	'  and nothing changed');
($rc, $out, $err) = $p1->psql('postgres', "ALTER SYSTEM SET pool_governor.cluster_name = 'pgov/t031'");
like($err, qr/invalid value for parameter "pool_governor.cluster_name".*letters, digits/s,
	'a cluster name that is not a key prefix is refused');
($rc, $out, $err) = $p1->psql('postgres', "ALTER SYSTEM SET pool_governor.etcd_endpoints = '127.0.0.1:2379'");
like($err, qr/is not an http:\/\/ or https:\/\/ URL/, 'an endpoint without its scheme is refused');

# A tenant whose quota is dropped: the grant this node holds for it is
# deleted from etcd at its next renewal (attached to the lease the node
# renews, it would stay for ever)
sub grants_in_etcd
{
	my ($tenant) = @_;
	my $prefix = "pgov_t031/quota/$tenant/grant/";
	(my $end = $prefix) =~ s/\/$/0/;
	my $r = HTTP::Tiny->new(timeout => 5)->post("$etcd->{url}/v3/kv/range",
		{ content => encode_json({ key => encode_base64($prefix, ''),
				range_end => encode_base64($end, ''), count_only => JSON::PP::true }) });
	die "etcd: $r->{status} $r->{content}" unless $r->{success};
	return decode_json($r->{content})->{count} // 0;
}
$p1->safe_psql('postgres', 'CREATE ROLE batch LOGIN');
write_config($p1, q{
INSERT INTO pool_governor.tenants (name, max_connections, max_waiting, wait_timeout, cluster_max_connections)
VALUES ('batch', 5, 5, '6 s', 3);
});
write_config($p1, "INSERT INTO pool_governor.rules (tenant, role_name) VALUES ('batch', 'batch');");
my $batch = burst($p1, 'batch', 1);
is($batch->{result}{admitted}, 1, 'batch, with no floor, logs in on p1 under a grant');
is(grants_in_etcd('batch'), 1, '  which etcd holds');
write_config($p1, "UPDATE pool_governor.tenants SET cluster_max_connections = NULL WHERE name = 'batch';");
my $gone;
for (1 .. 100)
{
	last if ($gone = grants_in_etcd('batch') == 0);
	usleep(100_000);
}
ok($gone, 'batch\'s quota dropped: p1 deletes its grant from etcd');
$batch->finish;

# endpoints that do not answer: the floor, and cluster_status says why
my $dead = PostgreSQL::Test::Cluster::get_free_port();
$p1->safe_psql('postgres', "ALTER SYSTEM SET pool_governor.etcd_endpoints = 'http://127.0.0.1:$dead'");
$p1->reload;
ok($p1->poll_query_until('postgres',
		"SELECT NOT etcd_reachable AND allowed = 1 AND problem LIKE 'etcd does not answer%' FROM pool_governor.cluster_status WHERE tenant = 'shop'"),
	'endpoints that do not answer: the floor, and cluster_status says why')
  or diag(status($p1, '*'));
my $b6 = burst($p1, 'shop', 2);
is($b6->{result}{admitted}, 1, '  one login (the floor) is admitted');
$b6->finish;
# and no etcd at all: the node's own numbers
$p1->safe_psql('postgres', "ALTER SYSTEM SET pool_governor.etcd_endpoints = ''");
$p1->reload;
ok($p1->poll_query_until('postgres',
		"SELECT allowed = 20 AND etcd_reachable IS NULL FROM pool_governor.cluster_status WHERE tenant = 'shop'"),
	'without etcd_endpoints the quota is not enforced: the node\'s own cap of 20');

$_->stop for values %node;
stop_pid($etcd->{pid});
done_testing();
