# The application's side (issue 18): for each pool library people use, a
# real application on the real library, configured from
# pool_governor.pool_config(), with its tenant at its cap while the pool
# wants to grow.  The pool waits up to wait_timeout, gets 53300 with the
# tenant's message, does not flood the server with reconnects (the login
# attempts per second the governor refused are counted), and recovers by
# itself when seats free up.  A library that is not installed is skipped,
# saying so; scripts/setup installs them all.
use strict;
use warnings;
use lib 't';

use IPC::Run;
use PgovTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $apps = ($ENV{TESTDIR} // '.') . '/test/apps';
my $java_cp = join ':', map { "/usr/share/java/$_.jar" } qw(HikariCP postgresql slf4j-api slf4j-simple);

# history off: pool_config() sizes every library's pool the same way (to
# the quota, nothing sampled), whatever ran before it
my $node = governed_node('apps', conf => "pool_governor.history_size = 0\n");
$node->safe_psql('postgres', 'CREATE ROLE app LOGIN');
write_config($node, q{
INSERT INTO pool_governor.tenants (name, max_connections, max_waiting, wait_timeout)
VALUES ('app', 3, 10, '1 s');
});
write_config($node, "INSERT INTO pool_governor.rules (tenant, role_name) VALUES ('app', 'app');");

sub settings
{
	my ($lib) = @_;
	return $node->safe_psql('postgres',
		"SELECT json_object_agg(setting, value) FROM pool_governor.pool_config('app', '$lib')");
}

sub setting
{
	my ($lib, $name) = @_;
	return $node->safe_psql('postgres',
		"SELECT value FROM pool_governor.pool_config('app', '$lib') WHERE setting = '$name'");
}

# Whether a command runs and succeeds (a library present): 1 if so, 0 if
# it fails or is not there at all (IPC::Run dies on a missing command).
sub runs
{
	my @cmd = @_;
	my ($o, $e);
	return eval { IPC::Run::run(\@cmd, '>', \$o, '2>', \$e) } ? 1 : 0;
}

my %numbers;

# PgBouncer stops however the test ends
my $bouncer;
END
{
	local $?;
	$bouncer->kill_kill if $bouncer;
}

# One library: holders take 2 of app's 3 seats, the application starts (its
# pool opens its one connection) and runs 4 request loops; for 4 s the pool
# wants to grow and cannot; then the holders leave.
sub exercise
{
	my ($lib, $library_log, @cmd) = @_;
	# (a PgBouncer in front keeps its min_pool_size of 1 open meanwhile)
	my $open = $lib =~ /^pgbouncer/ ? 1 : 0;
	$node->poll_query_until('postgres',
		"SELECT connected <= $open FROM pool_governor.tenant_status WHERE tenant = 'app'")
	  or die "app still has sessions:\n" . $node->safe_psql('postgres',
		"SELECT s.*, a.state, a.backend_type FROM pool_governor.sessions s LEFT JOIN pg_stat_activity a USING (pid)");
	my $holders = burst($node, 'app', 2, app => 'holder');
	is($holders->{result}{admitted}, 2, "$lib: 2 of app's 3 seats are held");

	my ($in, $out, $err) = ('', '', '');
	my $h = IPC::Run::start(\@cmd, '<', \$in, '>', \$out, '2>', \$err,
		IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
	eval { $h->pump until $out =~ /^ready$/m; 1 }
	  or die "$lib: the application did not start: $@\nstdout:\n$out\nstderr:\n$err";
	my $t0 = $node->safe_psql('postgres', 'SELECT now()');
	Time::HiRes::sleep(4);
	my ($t1, $refused, $period) = split /\|/, $node->safe_psql('postgres',
		"SELECT now(), (SELECT count(*) FROM pool_governor.events WHERE tenant = 'app'
		                  AND event IN ('refused', 'wait timeout') AND event_time BETWEEN '$t0' AND now()),
		        extract(epoch FROM now() - '$t0'::timestamptz)");
	my $rate = $refused / $period;

	$holders->finish;
	my $released = time;
	my $grown = $node->poll_query_until('postgres',
		"SELECT count(*) >= 2 FROM pool_governor.sessions WHERE tenant = 'app'
		   AND application_name IS DISTINCT FROM 'holder' AND state <> 'waiting'");
	my $recovery = time - $released;
	Time::HiRes::sleep(0.5);
	$h->finish;
	# what the application saw, and what the library logged (HikariCP
	# logs a failed connection attempt, at DEBUG, and PgBouncer in its log,
	# and both serve the request from the connections they have)
	my @refusals = ($out =~ /^refusal: (.*)$/mg,
		grep { /too many connections for tenant/ } split /\n/,
		$err . ($library_log ? slurp_file($library_log) : ''));
	my ($ok, $errors) = $out =~ /^summary ok=(\d+) errors=(\d+)$/m;

	ok(scalar(grep { /too many connections for tenant "app"/ } @refusals) > 0,
		"$lib: the pool gets the refusal with the tenant's message (what the application or the library's log shows)")
	  or diag("stdout:\n$out\nstderr:\n$err");
	note("$lib: first refusal as the application sees it: " . ($refusals[0] // '(none)'));
	ok($refused > 0, "$lib: the governor refused the pool's growth ($refused refusals)");
	cmp_ok($rate, '<=', 3,
		sprintf('%s: no reconnect storm: %.2f refused logins a second while at the cap (cap 3, wait_timeout 1 s)', $lib, $rate));
	ok($grown, sprintf('%s: the pool grows again by itself once seats free up (%.2f s)', $lib, $recovery));
	ok(defined $ok && $ok > 0, "$lib: requests were served throughout (" . ($ok // 0) . " ok, " . ($errors // 0) . ' failed)');
	$numbers{$lib} = sprintf('%.2f refused logins/s at the cap, recovered %.2f s after seats freed, %d requests ok, %d failed',
		$rate, $recovery, $ok // 0, $errors // 0);
}

my $host = $node->host;
my $port = $node->port;

# Each library with each refusal code (tenants.refusal_sqlstate): what it
# does with 57P03 is measured as with 53300, not assumed
for my $code ('53300', '57P03')
{
	# (53300 is the default: the tenant refuses with it to begin with)
	write_config($node, "UPDATE pool_governor.tenants SET refusal_sqlstate = '$code' WHERE name = 'app';")
	  unless $code eq '53300';
	SKIP:
	{
		skip 'python3-psycopg-pool is not installed', 6
		  unless runs('python3', '-c', 'import psycopg_pool');
		exercise("psycopg_pool $code", undef, 'python3', "$apps/pool_app.py", 'psycopg_pool', $host, $port, 'app', settings('psycopg_pool'));
	}

	SKIP:
	{
		skip 'python3-sqlalchemy or python3-psycopg2 is not installed', 6
		  unless runs('python3', '-c', 'import sqlalchemy, psycopg2');
		exercise("sqlalchemy $code", undef, 'python3', "$apps/pool_app.py", 'sqlalchemy', $host, $port, 'app', settings('sqlalchemy'));
	}

	SKIP:
	{
		skip 'libhikaricp-java, libpostgresql-jdbc-java or a JDK is not installed', 6
		  unless -r '/usr/share/java/HikariCP.jar' && -r '/usr/share/java/postgresql.jar' && runs('javac', '-version');
		my $classes = PostgreSQL::Test::Utils::tempdir;
		IPC::Run::run([ 'javac', '-cp', $java_cp, '-d', $classes, "$apps/PoolApp.java" ])
		  or die 'PoolApp.java does not compile';
		exercise("hikaricp $code", undef, 'java', '-Dorg.slf4j.simpleLogger.log.com.zaxxer.hikari=debug',
			'-cp', "$classes:$java_cp", 'PoolApp', '127.0.0.1', $port, 'app',
			map { setting('hikaricp', $_) } qw(maximumPoolSize minimumIdle connectionTimeout idleTimeout loginTimeout));
	}

	SKIP:
	{
		# node-postgres comes from the npm registry: scripts/setup installs it
		# under NODE_PATH
		skip 'node-postgres (npm pg) is not installed', 6
		  unless runs('node', '-e', 'require("pg")');
		exercise("node-postgres $code", undef, 'node', "$apps/pool_app.js", $host, $port, 'app', settings('node-postgres'));
	}

	SKIP:
	{
		skip 'pgbouncer is not installed', 6 unless -x '/usr/sbin/pgbouncer';
		# its clients are psycopg connections (the 17 to 19 roots have
		# PgBouncer, for t/027, but no psycopg)
		skip 'python3-psycopg is not installed', 6
		  unless runs('python3', '-c', 'import psycopg');
		my $dir = PostgreSQL::Test::Utils::tempdir;
		my $bport = PostgreSQL::Test::Cluster::get_free_port();
		my $ini = "[databases]\npostgres = host=127.0.0.1 port=$port dbname=postgres user=app\n\n[pgbouncer]\n"
		  . "listen_addr = 127.0.0.1\nlisten_port = $bport\nunix_socket_dir =\nauth_type = any\n"
		  . "pool_mode = transaction\nlogfile = $dir/pgbouncer.log\npidfile = $dir/pgbouncer.pid\n";
		# the tenant's pool settings, as pool_config('app', 'pgbouncer') gives them
		$ini .= join '', map { my ($k, $v) = split /\|/; "$k = $v\n" } split /\n/,
		  $node->safe_psql('postgres', "SELECT setting, value FROM pool_governor.pool_config('app', 'pgbouncer') WHERE setting NOT LIKE 'tenants.%'");
		PostgreSQL::Test::Utils::append_to_file("$dir/pgbouncer.ini", $ini);
		$bouncer = IPC::Run::start([ '/usr/sbin/pgbouncer', "$dir/pgbouncer.ini" ], '>', "$dir/out", '2>&1');
		my $up;
		for (1 .. 100)
		{
			last if ($up = runs('psql', '-X', '-h', '127.0.0.1', '-p', $bport, '-U', 'app', '-d', 'postgres', '-c', 'SELECT 1'));
			Time::HiRes::sleep(0.1);
		}
		die "pgbouncer did not start:\n" . slurp_file("$dir/out") unless $up;
		exercise("pgbouncer $code", "$dir/pgbouncer.log", 'python3', "$apps/pool_app.py", 'pgbouncer', '127.0.0.1', $bport, 'app', '{}');
		$bouncer->signal('INT');		# PgBouncer's "shut down now"
		$bouncer->finish;
		undef $bouncer;
	}
}

note("$_: $numbers{$_}") for sort keys %numbers;
done_testing();
