# The governor on a Patroni cluster: etcd and three Patroni nodes on
# loopback, the governor preloaded through Patroni's dynamic configuration,
# each node named by pool_governor.node_name.  The tenants are held at
# their caps throughout, the primary's governed capacity full, while:
#   - the leader is killed (its Patroni and its postmaster, SIGKILL): the
#     new leader governs with the primary's numbers from its first login,
#     and its counts equal its sessions;
#   - the old leader rejoins (pg_rewind): it enforces the replicated
#     tables, changed while it was down, not its own old numbers;
#   - patronictl switchover: the old primary enforces the standby's numbers;
#   - Patroni changes a governor setting on every node (edit-config);
# and Patroni's own connections (superuser, replication, rewind) are never
# refused.  Skipped, saying why, where patroni or etcd is not installed.
use strict;
use warnings;
use lib 't';

use File::Path qw(make_path);
use HTTP::Tiny;
use IPC::Run;
use JSON::PP;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(time usleep);

use PgovTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

sub have
{
	my ($cmd) = @_;
	return scalar grep { -x "$_/$cmd" } split /:/, $ENV{PATH};
}
plan skip_all => 'patroni is not installed (Debian package patroni; scripts/setup installs it)'
  unless have('patroni') && have('patronictl');
plan skip_all => 'etcd is not installed (Debian package etcd-server; scripts/setup installs it)'
  unless have('etcd');

my $dir = PostgreSQL::Test::Utils::tempdir;
my $bindir = `pg_config --bindir`;
chomp $bindir;
# The old leader rejoins with pg_rewind, which must be of the server's own
# major: on 16 (scripts/pg16) the clients are 17's, whose pg_rewind refuses
# a 16 data directory, so that step is skipped there, saying why.
my ($server_major) = `$bindir/postgres --version` =~ /(\d+)/;
my ($rewind_major) = (-x "$bindir/pg_rewind" ? `$bindir/pg_rewind --version` : '') =~ /(\d+)/;
my $can_rewind = defined $rewind_major && $rewind_major == $server_major;
my $timeout = $PostgreSQL::Test::Utils::timeout_default;
my $http = HTTP::Tiny->new(timeout => 2);

my %node;
for my $name (qw(pg1 pg2 pg3))
{
	$node{$name} = {
		name => $name,
		port => PostgreSQL::Test::Cluster::get_free_port(),
		api => PostgreSQL::Test::Cluster::get_free_port(),
		data => "$dir/$name/data",
		yml => "$dir/$name/patroni.yml",
		log => "$dir/$name/patroni.log",
	};
}
# connburst's view of a node
sub PgovPatroniNode::host { '127.0.0.1' }
sub PgovPatroniNode::port { $_[0]{port} }
bless $_, 'PgovPatroniNode' for values %node;

my $etcd = start_etcd($dir);
my $etcd_pid = $etcd->{pid};

sub write_patroni_config
{
	my ($n) = @_;
	make_path("$dir/$n->{name}/sock");
	chmod 0700, "$dir/$n->{name}";
	open(my $f, '>', $n->{yml}) or die $!;
	print $f <<"EOF";
scope: pgov
name: $n->{name}
log:
  level: INFO
restapi:
  listen: 127.0.0.1:$n->{api}
  connect_address: 127.0.0.1:$n->{api}
etcd3:
  hosts: 127.0.0.1:$etcd->{port}
bootstrap:
  dcs:
    ttl: 10
    loop_wait: 1
    retry_timeout: 3
    maximum_lag_on_failover: 104857600
    postgresql:
      use_pg_rewind: true
      parameters:
        shared_preload_libraries: pool_governor
        max_connections: 100
        superuser_reserved_connections: 3
        wal_log_hints: 'on'
        hot_standby: 'on'
        pool_governor.capacity: 6
        pool_governor.sample_interval: 200ms
  initdb:
  - encoding: UTF8
  - auth: trust
  pg_hba:
  - local all all trust
  - host all all 127.0.0.1/32 trust
  - host replication all 127.0.0.1/32 trust
postgresql:
  listen: 127.0.0.1:$n->{port}
  connect_address: 127.0.0.1:$n->{port}
  data_dir: $n->{data}
  bin_dir: $bindir
  pgpass: $dir/$n->{name}/pgpass
  authentication:
    superuser:
      username: postgres
      password: secret
    replication:
      username: replicator
      password: secret
    rewind:
      username: postgres
      password: secret
  parameters:
    unix_socket_directories: $dir/$n->{name}/sock
    pool_governor.node_name: $n->{name}
    log_min_messages: info
EOF
	close $f;
}

sub start_patroni
{
	my ($n) = @_;
	$n->{pid} = spawn($n->{log}, 'patroni', $n->{yml});
}

# Patroni's view of a node: GET /patroni (undef when it does not answer).
sub api
{
	my ($n) = @_;
	my $r = $http->get("http://127.0.0.1:$n->{api}/patroni");
	return undef unless $r->{success};
	return decode_json($r->{content});
}

sub is_leader
{
	my ($n) = @_;
	my $s = api($n);
	return $s && $s->{role} =~ /^(master|primary)$/ && $s->{state} eq 'running';
}

sub is_streaming_replica
{
	my ($n) = @_;
	my $r = $http->get("http://127.0.0.1:$n->{api}/replica");
	return $r->{status} == 200;
}

sub wait_for
{
	my ($what, $cond) = @_;
	my $until = time + $timeout;
	while (time < $until)
	{
		return 1 if $cond->();
		usleep(100_000);
	}
	diag("timed out waiting for $what");
	return 0;
}

# One psql command on a node, as $user (default the superuser): (exit
# code, output, errors).
sub sql
{
	my ($n, $query, $user) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'psql', '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1',
			'-h', '127.0.0.1', '-p', $n->{port}, '-U', $user // 'postgres',
			'-d', 'postgres', '-c', $query ],
		'<', \'', '>', \$out, '2>', \$err, IPC::Run::timeout($timeout));
	chomp $out;
	return ($? >> 8, $out, $err);
}

sub safe_sql
{
	my ($n, $query) = @_;
	my ($rc, $out, $err) = sql($n, $query);
	die "psql on $n->{name} failed: $err" if $rc;
	return $out;
}

sub poll_sql
{
	my ($n, $query, $what) = @_;
	return wait_for($what, sub {
		my ($rc, $out) = sql($n, $query);
		return $rc == 0 && $out eq 't';
	});
}

sub shop_numbers
{
	my ($n) = @_;
	return safe_sql($n,
		"SELECT string_agg(tenant || ' ' || coalesce(max_connections::text, 'none') || ' ' || limits_from, ', ' ORDER BY tenant) FROM pool_governor.tenant_status WHERE tenant IN ('shop', 'inventory', 'reporting')");
}

# Every tenant's count against its live sessions, "tenant c=s, ...".
sub counts_vs_sessions
{
	my ($n) = @_;
	return safe_sql($n, q{
SELECT string_agg(t.tenant || ' ' || t.connected || '=' || coalesce(a.n, 0), ', ' ORDER BY t.tenant)
FROM pool_governor.tenant_status t
LEFT JOIN (SELECT usename AS tenant, count(*) AS n FROM pg_stat_activity
		   WHERE backend_type = 'client backend' GROUP BY usename) a USING (tenant)
WHERE t.tenant IN ('shop', 'inventory', 'reporting')});
}

END
{
	# the test's exit code is the harness's, not the last child's
	local $?;
	for my $n (values %node)
	{
		stop_pid($n->{pid}, 'TERM') if $n->{pid};
		if (-f "$n->{data}/postmaster.pid")
		{
			system("$bindir/pg_ctl", '-D', $n->{data}, '-m', 'immediate', 'stop');
		}
	}
	stop_pid($etcd_pid, 'TERM') if $etcd_pid;
	if (!Test::More->builder->is_passing)
	{
		for my $log ("$dir/etcd.log", map { $_->{log} } values %node)
		{
			next unless -f $log;
			diag("---- tail of $log");
			diag(`tail -n 40 $log`);
		}
	}
}

ok(wait_for('etcd', sub { $http->get("$etcd->{url}/version")->{success} }),
	'etcd answers');

write_patroni_config($_) for values %node;
start_patroni($node{pg1});
ok(wait_for('pg1 to lead', sub { is_leader($node{pg1}) }),
	'pg1 bootstraps the cluster and leads it');

# The founding case made small: capacity 6 on every node (Patroni's
# dynamic configuration).  shop cap 4 (2 on a standby), inventory cap 2,
# reporting only on the standbys.
my $pg1 = $node{pg1};
safe_sql($pg1, q{
CREATE EXTENSION pool_governor;
CREATE ROLE shop LOGIN;
CREATE ROLE inventory LOGIN;
CREATE ROLE reporting LOGIN;
});
safe_sql($pg1, q{
INSERT INTO pool_governor.tenants (name, max_connections) VALUES
	('shop', 4), ('inventory', 2), ('reporting', NULL);
INSERT INTO pool_governor.rules (tenant, role_name)
VALUES ('shop', 'shop'), ('inventory', 'inventory'), ('reporting', 'reporting');
});
safe_sql($pg1, "INSERT INTO pool_governor.node_limits VALUES ('primary', 'reporting', 0, 0), ('standby', 'shop', 2, 0)");
ok(poll_sql($pg1, "SELECT max_connections = 0 FROM pool_governor.tenant_status WHERE tenant = 'reporting'",
		'pg1 to publish'), 'the leader publishes the configuration');

start_patroni($node{pg2});
start_patroni($node{pg3});
for my $name (qw(pg2 pg3))
{
	ok(wait_for("$name to stream", sub { is_streaming_replica($node{$name}) }),
		"$name joins as a streaming replica");
	ok(poll_sql($node{$name},
			"SELECT count(*) = 3 FROM pool_governor.tenant_status WHERE tenant IN ('shop', 'inventory', 'reporting')",
			"$name to load"), "$name loads the replicated configuration");
	is(shop_numbers($node{$name}), 'inventory 2 tenants, reporting none tenants, shop 2 standby',
		"$name enforces the standby's numbers");
}
is(shop_numbers($pg1), 'inventory 2 tenants, reporting 0 primary, shop 4 tenants',
	'pg1 enforces the primary\'s');

# The tenants at their caps on every node; on the primary, the whole
# governed capacity (4 + 2 of 6) held.
my %held;
for my $name (qw(pg1 pg2 pg3))
{
	my $n = $node{$name};
	my $want = $name eq 'pg1' ? 4 : 2;
	my $b = burst($n, 'shop', $want + 1, tcp => 1);
	is($b->{result}{admitted}, $want, "$name: shop admitted $want, its cap there");
	is($b->{result}{refused}, 1, "$name: and refused the next");
	my $i = burst($n, 'inventory', 2, tcp => 1);
	is($i->{result}{admitted}, 2, "$name: inventory holds its 2");
	$held{$name} = [ $b, $i ];
}
my ($rc, $out, $err) = sql($pg1, 'SELECT 1', 'reporting');
like($err, qr/too many connections for tenant "reporting"/, 'reporting is refused on the primary');
is(safe_sql($pg1, 'SELECT shared_free FROM pool_governor.health'), '0',
	'the primary\'s governed capacity is full');

# Patroni's own connections while full: its health check over the REST API,
# a change it replicates, patronictl's view of the cluster.
my $h = $http->get("http://127.0.0.1:$pg1->{api}/health");
is($h->{status}, 200, 'Patroni\'s health check on the full primary answers 200');
safe_sql($pg1, 'CREATE TABLE pgov_probe AS SELECT 1 AS x');
for my $name (qw(pg2 pg3))
{
	ok(poll_sql($node{$name}, "SELECT to_regclass('pgov_probe') IS NOT NULL", "$name replay"),
		"replication to $name keeps working");
}

# 1. Kill the leader: its Patroni and its postmaster.
my ($pm) = split /\n/, slurp_file("$pg1->{data}/postmaster.pid");
my $killed = time;
kill 'KILL', $pg1->{pid}, $pm;
waitpid($pg1->{pid}, 0);
delete $pg1->{pid};
$_->finish for @{ $held{pg1} };

# Watch both survivors: who leads, and when a reporting login (admitted on
# a standby, cap 0 on the primary) is first refused.
my ($new, $leader_at, $first_refusal, $refusal) = (undef, undef, undef, '');
my $until = time + $timeout;
while (time < $until && !defined $first_refusal)
{
	for my $name (qw(pg2 pg3))
	{
		my $n = $node{$name};
		if (!defined $leader_at && is_leader($n))
		{
			$leader_at = time;
			$new = $n;
		}
		my ($rc, $out, $err) = sql($n, 'SELECT 1', 'reporting');
		if ($rc != 0 && $err =~ /too many connections for tenant "reporting"/)
		{
			$first_refusal = time;
			$refusal = $err;
			$new //= $n;
			last;
		}
	}
	usleep(20_000);
}
ok(defined $new, 'a survivor takes the lead');
ok(defined $first_refusal, 'and refuses a reporting login');
like($refusal, qr/holds 0 of its 0 connections/, 'by the primary\'s cap of 0');
my ($other) = grep { $_ != $new } @node{qw(pg2 pg3)};
ok(wait_for('the new leader', sub { is_leader($new) }), "$new->{name} leads");
$leader_at //= time;
# when the survivor took the leader key, from its Patroni's log
my $lock_at;
for my $line (split /\n/, slurp_file($new->{log}))
{
	next unless $line =~ /^(\d+)-(\d+)-(\d+) (\d+):(\d+):(\d+),(\d+) INFO: .*(?:promoted self to leader|acquired session lock as a leader)/;
	my $t = POSIX::mktime($6, $5, $4, $3, $2 - 1, $1 - 1900) + $7 / 1000;
	if ($t >= $killed - 1)
	{
		$lock_at = $t;
		last;
	}
}
my $timeline = sprintf('leader killed at 0; %s took the leader key at %s s; refused its first reporting login at %.2f s; Patroni reports it leading at %.2f s',
	$new->{name}, defined $lock_at ? sprintf('%.2f', $lock_at - $killed) : '?',
	$first_refusal - $killed, $leader_at - $killed);
diag("failover timeline: $timeline");
note("failover timeline: $timeline");

is(shop_numbers($new), "inventory 2 tenants, reporting 0 primary, shop 4 tenants",
	'the new leader enforces the primary\'s numbers');
is(safe_sql($new, 'SELECT node_name || \' \' || role FROM pool_governor.node_status'),
	"$new->{name} primary", 'and says so');
# (a reporting login of the watch may still be leaving: its seat goes
# back a moment before pg_stat_activity forgets it)
wait_for('counts to settle', sub { counts_vs_sessions($new) eq 'inventory 2=2, reporting 0=0, shop 2=2' });
is(counts_vs_sessions($new), 'inventory 2=2, reporting 0=0, shop 2=2',
	'its counts equal its sessions (those it held as a standby)');
my $more = burst($new, 'shop', 4, tcp => 1);
is($more->{result}{admitted}, 2, 'the shop gets 2 more under the primary\'s cap of 4');
is($more->{result}{refused}, 2, 'and no more');
push @{ $held{ $new->{name} } }, $more;
is(counts_vs_sessions($new), 'inventory 2=2, reporting 0=0, shop 4=4',
	'counts still equal sessions');
ok(wait_for("$other->{name} to follow", sub { is_streaming_replica($other) }),
	"$other->{name} streams from the new leader while its capacity is full");

# 2. While pg1 is down, a standby's budget changes; then pg1 rejoins.
safe_sql($new, "UPDATE pool_governor.node_limits SET max_connections = 1 WHERE node = 'standby' AND tenant = 'shop'");
my @members = qw(pg2 pg3);
SKIP:
{
	skip "pg1 cannot rejoin: pg_rewind here is " . ($rewind_major // 'missing')
	  . ", the server $server_major (no pg_rewind of the server's own major)", 6
	  unless $can_rewind;
	unshift @members, 'pg1';
	start_patroni($pg1);
	ok(wait_for('pg1 to rejoin', sub { is_streaming_replica($pg1) }),
		'pg1 rejoins as a streaming replica (pg_rewind)');
	my $first = burst($pg1, 'shop', 3, tcp => 1);
	ok($first->{result}{admitted} <= 2,
		"pg1's first shop logins are judged as a standby's ($first->{result}{admitted} of 3 admitted, never the primary's 4)");
	$first->finish;
	ok(poll_sql($pg1, "SELECT max_connections = 1 AND limits_from = 'standby' FROM pool_governor.tenant_status WHERE tenant = 'shop'",
			'pg1 to load'),
		'pg1 enforces the replicated tables, changed while it was down');
	my $one = burst($pg1, 'shop', 3, tcp => 1);
	is($one->{result}{admitted}, 1, 'pg1 admits 1 of 3 shop logins');
	$one->finish;
	is(safe_sql($pg1, 'SELECT node_name || \' \' || role FROM pool_governor.node_status'),
		'pg1 standby', 'pg1 says it is a standby');
	($rc, $out, $err) = sql($pg1, 'SELECT 1', 'reporting');
	is($rc, 0, 'reporting logs in on pg1, now a standby');
}

# 3. Switchover: the new leader hands over to the other survivor.
my ($out_s, $err_s) = ('', '');
IPC::Run::run([ 'patronictl', '-c', $new->{yml}, 'switchover', '--leader', $new->{name},
		'--candidate', $other->{name}, '--force' ],
	'<', \'', '>', \$out_s, '2>', \$err_s, IPC::Run::timeout($timeout));
is($? >> 8, 0, "patronictl switchover to $other->{name} succeeds with the tenants full")
  or diag($out_s . $err_s);
ok(wait_for("$other->{name} to lead", sub { is_leader($other) }), "$other->{name} leads");
ok(wait_for("$new->{name} to stream", sub { is_streaming_replica($new) }),
	"$new->{name} streams from it");
ok(poll_sql($new, "SELECT role = 'standby' FROM pool_governor.node_status", "$new->{name} as standby"),
	"$new->{name}, the old primary, is governed as a standby");
my $demoted = burst($new, 'shop', 3, tcp => 1);
is($demoted->{result}{admitted}, 1, "and enforces the standby's shop cap of 1 (1 of 3 admitted)");
$demoted->finish;
($rc, $out, $err) = sql($other, 'SELECT 1', 'reporting');
like($err, qr/too many connections for tenant "reporting"/,
	"$other->{name}, promoted by the switchover, refuses reporting");

# 4. Patroni changes a governor setting everywhere.
IPC::Run::run([ 'patronictl', '-c', $other->{yml}, 'edit-config', '--force', '-p',
		'pool_governor.capacity=8' ],
	'<', \'', '>', \$out_s, '2>', \$err_s, IPC::Run::timeout($timeout));
is($? >> 8, 0, 'patronictl edit-config sets pool_governor.capacity = 8');
for my $name (@members)
{
	ok(poll_sql($node{$name}, 'SELECT capacity = 8 FROM pool_governor.health', "$name capacity"),
		"$name governs 8 seats after Patroni's reload");
}

# 5. Patroni restarts every node for a setting that needs it: each comes
# back governed from its first login (the snapshot), in its role.
$_->finish for map { @$_ } values %held;
IPC::Run::run([ 'patronictl', '-c', $other->{yml}, 'edit-config', '--force', '-p',
		'pool_governor.max_tenants=2048' ],
	'<', \'', '>', \$out_s, '2>', \$err_s, IPC::Run::timeout($timeout));
is($? >> 8, 0, 'patronictl edit-config sets pool_governor.max_tenants (a restart setting)');
IPC::Run::run([ 'patronictl', '-c', $other->{yml}, 'restart', 'pgov', '--force' ],
	'<', \'', '>', \$out_s, '2>', \$err_s, IPC::Run::timeout($timeout));
is($? >> 8, 0, 'patronictl restart restarts the members') or diag($out_s . $err_s);
for my $name (@members)
{
	ok(poll_sql($node{$name}, "SELECT current_setting('pool_governor.max_tenants') = '2048'",
			"$name restarted"), "$name runs with the new setting");
}
ok(wait_for("$other->{name} to lead", sub { is_leader($other) }), "$other->{name} still leads");
($rc, $out, $err) = sql($other, 'SELECT 1', 'reporting');
like($err, qr/too many connections for tenant "reporting"/,
	'after the restart the primary refuses reporting');
my $again = burst($other, 'shop', 5, tcp => 1);
is($again->{result}{admitted}, 4, 'and holds the shop at 4');
$again->finish;
$again = burst($new, 'shop', 3, tcp => 1);
is($again->{result}{admitted}, 1, 'a standby holds it at 1');
$again->finish;

# 6. One quota for the whole cluster, held in the etcd Patroni runs on: the
# settings through Patroni, a tenant "batch" with a quota of 2 and no
# floors.  A standby takes a grant, then leads after a switchover: the grant
# survives, and its first logins as the primary are judged by it.
IPC::Run::run([ 'patronictl', '-c', $other->{yml}, 'edit-config', '--force',
		'-p', "pool_governor.etcd_endpoints=$etcd->{url}", '-p', 'pool_governor.lease_ttl=3s',
		'-p', 'pool_governor.cluster_name=pgov_t025' ],
	'<', \'', '>', \$out_s, '2>', \$err_s, IPC::Run::timeout($timeout));
is($? >> 8, 0, 'patronictl edit-config sets the etcd endpoints on every node') or diag($out_s . $err_s);
safe_sql($other, 'CREATE ROLE batch LOGIN');
safe_sql($other, q{
INSERT INTO pool_governor.tenants (name, max_connections, max_waiting, wait_timeout, cluster_max_connections)
VALUES ('batch', 4, 2, '5 s', 2);
});
safe_sql($other, "INSERT INTO pool_governor.rules (tenant, role_name) VALUES ('batch', 'batch')");
for my $n ($other, $new)
{
	ok(poll_sql($n, "SELECT lease_expires IS NOT NULL AND allowed = 0 FROM pool_governor.cluster_status WHERE tenant = 'batch'",
			"$n->{name}'s lease"),
		"$n->{name} holds a lease in Patroni's etcd; batch, with no floor, 0 seats there until granted");
}
my $batch = burst($new, 'batch', 1, tcp => 1);
is($batch->{result}{admitted}, 1, "a batch login on the standby $new->{name} waits for a grant and gets it");
is(safe_sql($new, "SELECT granted FROM pool_governor.cluster_status WHERE tenant = 'batch'"), '2',
	'  its grant: the session and one seat more, the whole quota');
IPC::Run::run([ 'patronictl', '-c', $other->{yml}, 'switchover', '--leader', $other->{name},
		'--candidate', $new->{name}, '--force' ],
	'<', \'', '>', \$out_s, '2>', \$err_s, IPC::Run::timeout($timeout));
is($? >> 8, 0, "patronictl switchover to $new->{name}") or diag($out_s . $err_s);
ok(wait_for("$new->{name} to lead", sub { is_leader($new) }), "$new->{name} leads");
my $first = burst($new, 'batch', 2, tcp => 1);
is($first->{result}{admitted} . '/' . $first->{result}{refused}, '1/1',
	"$new->{name}'s first batch logins as the primary are judged by its grant: 1 more, then the quota");
is(safe_sql($new, "SELECT role || ' ' || granted FROM pool_governor.node_status, pool_governor.cluster_status WHERE tenant = 'batch'"),
	'primary 2', '  the grant survived the switchover');
$first->finish;
$batch->finish;

done_testing();
