# Helpers shared by pool_governor's TAP tests: a governed node, and bursts of
# simultaneous logins held open by test/connburst.
package PgovTest;

use strict;
use warnings;

use Exporter 'import';
use IO::Socket::INET;
use HTTP::Tiny;
use IPC::Run;
use POSIX ();
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

our @EXPORT = qw(governed_node founding_case burst tenant_row wait_connected
  wait_generation_after generation counts write_config superusers_gone
  wait_worker set_and_wait start_pgbouncer has_ended spawn stop_pid start_etcd);

my $connburst = ($ENV{TESTDIR} // '.') . '/test/connburst';

# A node with the governor preloaded, the founding case's server sizing
# (max_connections 100, 3 reserved for superusers: capacity 97), and the
# extension created.  TCP on 127.0.0.1 as well as the Unix socket.
sub governed_node
{
	my ($name, %opts) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(%{ $opts{init} // {} });
	$node->append_conf(
		'postgresql.conf', qq{
shared_preload_libraries = 'pool_governor'
max_connections = 100
superuser_reserved_connections = 3
listen_addresses = '127.0.0.1'
pool_governor.sample_interval = '200ms'
log_min_messages = info
} . ($opts{conf} // ''));
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION pool_governor')
	  unless $opts{no_extension};
	return $node;
}

# The founding case: shop (cap 40, 20 reserved), inventory (cap 30, 10
# reserved), reporting (no cap), one login role each, placed by role name.
sub founding_case
{
	my ($node) = @_;
	my $gen = $node->safe_psql('postgres',
		'SELECT config_generation FROM pool_governor.health');
	$node->safe_psql(
		'postgres', q{
CREATE ROLE shop LOGIN;
CREATE ROLE inventory LOGIN;
CREATE ROLE reporting LOGIN;
INSERT INTO pool_governor.tenants (name, max_connections, reserved_connections)
VALUES ('shop', 40, 20), ('inventory', 30, 10), ('reporting', NULL, 0);
INSERT INTO pool_governor.rules (tenant, role_name)
VALUES ('shop', 'shop'), ('inventory', 'inventory'), ('reporting', 'reporting');
});
	wait_generation_after($node, $gen);
}

# Waits until the worker has published a generation newer than $gen.
sub wait_generation_after
{
	my ($node, $gen) = @_;
	$node->poll_query_until('postgres',
		"SELECT config_generation > $gen FROM pool_governor.health")
	  or die "no configuration newer than generation $gen was published";
}

# The generation in force.
sub generation
{
	my ($node) = @_;
	return $node->safe_psql('postgres',
		'SELECT config_generation FROM pool_governor.health');
}

# Every tenant's connected count, as "name:n,name:n" in name order.
sub counts
{
	my ($node) = @_;
	return $node->safe_psql('postgres',
		"SELECT string_agg(tenant || ':' || connected, ',' ORDER BY tenant) FROM pool_governor.tenant_status"
	);
}

# Writes configuration in one transaction and waits until the worker has
# published it.
sub write_config
{
	my ($node, $sql) = @_;
	my $gen = generation($node);
	$node->safe_psql('postgres', "BEGIN;\n$sql\nCOMMIT;");
	wait_generation_after($node, $gen);
}

# Waits until the worker has ended ticks => N more ticks and loads => N more
# reads of the tables than when called (pool_governor.worker): what a test
# waits for before it asserts that something did not happen.  A read still
# under way when called may count as the first: ask for 2 to be sure one
# started after.
sub wait_worker
{
	my ($node, %more) = @_;
	my ($ticks, $loads) = split /\|/,
	  $node->safe_psql('postgres', 'SELECT ticks, loads FROM pool_governor.worker');
	$ticks += $more{ticks} // 0;
	$loads += $more{loads} // 0;
	$node->poll_query_until('postgres',
		"SELECT ticks >= $ticks AND loads >= $loads FROM pool_governor.worker")
	  or die "the worker did not reach $ticks ticks and $loads loads";
}

# Sets a setting in postgresql.conf, reloads, and waits until a new session
# sees the value (current_setting: settings hidden from pg_settings too).
sub set_and_wait
{
	my ($node, $setting, $value) = @_;
	$node->append_conf('postgresql.conf', "$setting = '$value'");
	$node->reload;
	$node->poll_query_until('postgres',
		"SELECT current_setting('$setting') = '$value'")
	  or die "$setting did not change";
}

# One tenant_status row as a hash.
sub tenant_row
{
	my ($node, $tenant) = @_;
	my @cols = qw(connected peak_connected admitted rejected would_reject
	  waiting waited wait_timeouts max_connections reserved_connections);
	my $row = $node->safe_psql('postgres',
		    'SELECT '
		  . join(', ', map { "coalesce(" . $_ . "::text, '')" } @cols)
		  . " FROM pool_governor.tenant_status WHERE tenant = '$tenant'");
	my %h;
	@h{@cols} = split /\|/, $row, -1;
	return \%h;
}

# Waits until tenant $tenant has exactly $n connections counted.
sub wait_connected
{
	my ($node, $tenant, $n) = @_;
	return $node->poll_query_until('postgres',
		"SELECT connected = $n FROM pool_governor.tenant_status WHERE tenant = '$tenant'"
	);
}

# Waits until no superuser session but the asking one holds an ordinary
# slot, then a moment for that one's backend to exit: each such session
# lowers the capacity in force by one, so a burst whose exact count depends
# on it must not race the test's own queries.
sub superusers_gone
{
	my ($node) = @_;
	$node->poll_query_until('postgres',
		'SELECT exempt_connected = 1 FROM pool_governor.health')
	  or die 'superuser sessions did not go away';
	Time::HiRes::sleep(0.3);
}

# A burst of $n simultaneous logins, held open: returns an object whose
# ->{result} says how the burst went and whose ->cmd sends more commands.
# With nowait => 1 it returns at once (logins that wait for a seat are still
# pending); ->result then waits for the outcome.
sub burst
{
	my ($node, $user, $n, %opts) = @_;
	my $conninfo = join ' ',
	  'host=' . ($opts{tcp} ? '127.0.0.1' : $node->host),
	  'port=' . $node->port,
	  'dbname=' . ($opts{dbname} // 'postgres'),
	  "user=$user",
	  ($opts{app} ? "application_name=$opts{app}" : ());
	my $self = bless { in => '', out => '', err => '' }, 'PgovTest::Burst';
	$self->{timer} = IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default);
	$self->{h} = IPC::Run::start([ $connburst, $conninfo, $n ],
		'<', \$self->{in}, '>', \$self->{out}, '2>', \$self->{err},
		$self->{timer});
	$self->{started} = time;
	$self->{result} = $self->_answer unless $opts{nowait};
	return $self;
}

# Starts a program in the background, its output to $log; returns its pid.
sub spawn
{
	my ($log, @cmd) = @_;
	my $pid = fork();
	die "fork: $!" unless defined $pid;
	if ($pid == 0)
	{
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>>', $log) or die "$log: $!";
		open(STDERR, '>&', \*STDOUT);
		exec(@cmd) or die "exec $cmd[0]: $!";
	}
	return $pid;
}

# Signals a process spawned above ($signal, TERM by default) and waits up
# to 30 s for it to end.
sub stop_pid
{
	my ($pid, $signal) = @_;
	return unless $pid;
	kill $signal // 'TERM', $pid;
	for (1 .. 300)
	{
		last if waitpid($pid, POSIX::WNOHANG()) != 0;
		Time::HiRes::usleep(100_000);
	}
}

# A one-member etcd (Debian's etcd-server) in a directory of its own, on
# free ports; returns {pid, port, url, log}, once it answers.  The caller
# stops it with stop_pid($etcd->{pid}).
sub start_etcd
{
	my ($dir) = @_;
	my $port = PostgreSQL::Test::Cluster::get_free_port();
	my $peer = PostgreSQL::Test::Cluster::get_free_port();
	my $etcd = { port => $port, url => "http://127.0.0.1:$port", log => "$dir/etcd.log" };
	$etcd->{pid} = spawn($etcd->{log}, 'etcd', '--name', 'e1',
		'--data-dir', "$dir/etcd",
		'--listen-client-urls', $etcd->{url},
		'--advertise-client-urls', $etcd->{url},
		'--listen-peer-urls', "http://127.0.0.1:$peer",
		'--initial-advertise-peer-urls', "http://127.0.0.1:$peer",
		'--initial-cluster', "e1=http://127.0.0.1:$peer");
	my $http = HTTP::Tiny->new(timeout => 2);
	for (1 .. 10 * $PostgreSQL::Test::Utils::timeout_default)
	{
		return $etcd if $http->get("$etcd->{url}/version")->{success};
		Time::HiRes::usleep(100_000);
	}
	die "etcd did not answer:\n" . PostgreSQL::Test::Utils::slurp_file($etcd->{log});
}

# Whether an IPC::Run harness's process has ended, reading what it wrote so
# far.  IPC::Run's pump_nb dies "process ended prematurely" when the process
# ended since the last look (its pipes closed in one pump, the child reaped
# in the next): that is an end, not an error.
sub has_ended
{
	my ($h) = @_;
	return 1 unless $h->pumpable;
	my $ok = eval { $h->pump_nb; 1 };
	die $@ unless $ok || $@ =~ /process ended prematurely/;
	return !$ok || !$h->pumpable;
}

# A real PgBouncer (/usr/sbin/pgbouncer) in front of $node's database
# postgres as role $user, transaction pooling, configured with PgBouncer's
# side of pool_governor.pool_config($tenant, 'pgbouncer', $instances), then
# %override (setting => value) on top.  Returns a handle: ->{port}, ->stop.
# PgBouncer listens before it has a server connection, so the handle is
# returned once it accepts a TCP connection.
sub start_pgbouncer
{
	my ($node, $user, $tenant, $instances, %override) = @_;
	my $dir = PostgreSQL::Test::Utils::tempdir;
	my $bport = PostgreSQL::Test::Cluster::get_free_port();
	my %set = split /[|\n]/, $node->safe_psql('postgres',
		"SELECT setting, value FROM pool_governor.pool_config('$tenant', 'pgbouncer', $instances) WHERE setting NOT LIKE 'tenants.%'");
	%set = (%set, %override);
	my $ini = "[databases]\npostgres = host=127.0.0.1 port=" . $node->port
	  . " dbname=postgres user=$user\n\n[pgbouncer]\n"
	  . "listen_addr = 127.0.0.1\nlisten_port = $bport\nunix_socket_dir =\nauth_type = any\n"
	  . "pool_mode = transaction\nlogfile = $dir/pgbouncer.log\npidfile = $dir/pgbouncer.pid\n"
	  . join('', map { "$_ = $set{$_}\n" } sort keys %set);
	PostgreSQL::Test::Utils::append_to_file("$dir/pgbouncer.ini", $ini);
	my $self = bless { port => $bport, dir => $dir, settings => \%set }, 'PgovTest::Bouncer';
	$self->{h} = IPC::Run::start([ '/usr/sbin/pgbouncer', "$dir/pgbouncer.ini" ],
		'>', "$dir/out", '2>&1');
	for (1 .. 100)
	{
		my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $bport);
		return $self if $sock;
		Time::HiRes::sleep(0.1);
	}
	die "pgbouncer did not start:\n" . slurp_file("$dir/out");
}

package PgovTest::Bouncer;

# PgBouncer's "shut down now"
sub stop
{
	my ($self) = @_;
	return unless $self->{h};
	$self->{h}->signal('INT');
	$self->{h}->finish;
	delete $self->{h};
}

sub DESTROY
{
	my ($self) = @_;
	local $?;
	$self->{h}->kill_kill if $self->{h};
}

package PgovTest::Burst;

use Time::HiRes qw(time);

# Parses "admitted=A refused=R other=O" and the failure lines that follow.
sub _parse
{
	my ($text) = @_;
	my %r = (text => $text, failures => []);
	if ($text =~ /admitted=(\d+) refused=(\d+) other=(\d+)/)
	{
		@r{qw(admitted refused other)} = ($1, $2, $3);
	}
	push @{ $r{failures} }, $1 while $text =~ /^((?:refused|other) .*)$/mg;
	return \%r;
}

# Waits for a command's answer; $seconds (default: the harness's timeout)
# for commands whose work is long by design.
sub _answer
{
	my ($self, $seconds) = @_;
	$self->{timer}->start($seconds // $PostgreSQL::Test::Utils::timeout_default);
	$self->{h}->pump until $self->{out} =~ /^ok$/m;
	$self->{out} =~ s/\A(.*?)^ok\n//ms;
	return _parse($1);
}

# Sends one command ("close 5", "open 3", "busy 2 10", ...) and returns the
# parsed answer.
sub cmd
{
	my ($self, $line) = @_;
	$self->{in} .= "$line\n";
	return $self->_answer;
}

# The burst's outcome (waiting for it if started with nowait), with the
# seconds it took in ->{seconds}.
sub result
{
	my ($self) = @_;
	unless ($self->{result})
	{
		$self->{result} = $self->_answer;
		$self->{result}{seconds} = time - $self->{started};
	}
	return $self->{result};
}

sub finish
{
	my ($self) = @_;
	$self->{in} .= "quit\n";
	$self->{h}->finish;
}

1;
