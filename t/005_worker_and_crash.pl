# The worker, restarts and crashes: the governor never takes the server
# down, survives its worker's death, and starts exact after a crash.
use strict;
use warnings;
use lib 't';

use PgovTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# Loading the library outside shared_preload_libraries is refused.
my $plain = PostgreSQL::Test::Cluster->new('plain');
$plain->init;
$plain->start;
my ($ret, $out, $err) = $plain->psql('postgres', "LOAD 'pool_governor'");
like($err, qr/ERROR:  pool_governor must be loaded via shared_preload_libraries/,
	'LOAD outside shared_preload_libraries is refused');
like($err, qr/HINT:  Add pool_governor to shared_preload_libraries/, 'with a hint');
($ret, $out, $err) = $plain->psql('postgres', 'CREATE EXTENSION pool_governor');
isnt($ret, 0, 'and so is CREATE EXTENSION');
$plain->stop;

my $node = governed_node('worker', conf => "restart_after_crash = on\n");
founding_case($node);

# The worker is visible and reacts to SIGTERM by restarting.
my $pid = $node->safe_psql('postgres', 'SELECT worker_pid FROM pool_governor.health');
is($node->safe_psql('postgres',
		"SELECT backend_type, datname FROM pg_stat_activity WHERE pid = $pid"),
	'pool_governor worker|postgres', 'the worker shows in pg_stat_activity, in pool_governor.database');
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
ok($node->poll_query_until('postgres',
		"SELECT worker_pid IS NOT NULL AND worker_pid <> $pid FROM pool_governor.health"),
	'a terminated worker is restarted');
my $shop = burst($node, 'shop', 42);
is($shop->{result}{admitted}, 40, 'the quota holds across the worker restart');

# A committed change while the worker is down is applied when it is back.
$node->safe_psql('postgres', 'SELECT pg_terminate_backend(worker_pid) FROM pool_governor.health');
$node->safe_psql('postgres', "UPDATE pool_governor.tenants SET max_connections = 41 WHERE name = 'shop'");
ok($node->poll_query_until('postgres',
		"SELECT max_connections = 41 FROM pool_governor.tenant_status WHERE tenant = 'shop'"),
	'a change committed while the worker was down is loaded when it returns');
$shop->cmd('close 40');
ok(wait_connected($node, 'shop', 0), 'shop drains');
$shop->finish;

# A crash (a backend killed with SIGKILL) restarts the cluster: the counters
# start again from zero, exact, and the configuration is loaded again.
$shop = burst($node, 'shop', 10);
is($shop->{result}{admitted}, 10, 'shop holds 10 before the crash');
my $victim = $node->safe_psql('postgres',
	"SELECT pid FROM pool_governor.sessions WHERE tenant = 'shop' LIMIT 1");
my $old_worker = $node->safe_psql('postgres', 'SELECT pid FROM pool_governor.worker');
my $gen = generation($node);
my $offset = -s $node->logfile;
kill 'KILL', $victim;
$shop->{h}->kill_kill;
ok($node->wait_for_log(qr/all server processes terminated; reinitializing/, $offset),
	'the killed backend makes the server reinitialize');
# the counters live in the new shared memory: loads >= 1 is a load made
# after the crash, by a new worker
ok($node->poll_query_until('postgres',
		"SELECT pid <> $old_worker AND loads >= 1 FROM pool_governor.worker"),
	'after crash recovery a new worker loads the configuration again');
is(generation($node), $gen, 'and finds the generation in force before the crash');
is(tenant_row($node, 'shop')->{connected}, 0, 'and no seat survives the crash');
$shop = burst($node, 'shop', 45);
is($shop->{result}{admitted}, 41, 'the quota is exact after the crash');
$shop->finish;

# A restart keeps the configuration (it lives in the tables): the worker's
# first load after it finds the same generation the snapshot brought back.
$gen = generation($node);
$node->restart;
ok($node->poll_query_until('postgres', 'SELECT loads >= 1 FROM pool_governor.worker'),
	'after a restart the worker loads the configuration');
is(generation($node), $gen, 'the one in force before the restart');
$shop = burst($node, 'shop', 45);
is($shop->{result}{admitted}, 41, 'and enforced');
$shop->finish;

# pg_dump keeps the configuration.
my $dumpfile = $node->basedir . '/dump.sql';
$node->command_ok([ 'pg_dump', '-h', $node->host, '-p', $node->port, '-f', $dumpfile, 'postgres' ],
	'pg_dump runs');
my $text = slurp_file($dumpfile);
like($text, qr/COPY pool_governor\.tenants .*\nshop\t41\t20/s, 'pg_dump saves the tenants');
like($text, qr/COPY pool_governor\.rules /, 'and the rules');

$node->stop;
done_testing();
