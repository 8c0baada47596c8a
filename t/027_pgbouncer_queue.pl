# PgBouncer in front (issue 27): a PgBouncer whose pool has no server
# connection when its tenant is full fails every client queued in it at the
# first refused server login.  With both sides of pool_config('app',
# 'pgbouncer') applied (PgBouncer's settings in its ini, the tenants.* rows
# with UPDATE pool_governor.tenants), its server login waits in the governor
# for a seat and its clients with it: all 10 are served once the seats free.
# Without the governor's side, the same 10 fail at once (the test bites).
# And what each PgBouncer does with the SQLSTATE: 1.21 and later keep their
# clients queued on 57P03 (retrying every server_login_retry), 1.18 fails
# them on either code; and libpq with several hosts goes on to the next on
# 57P03 only.  Real PgBouncer: 1.18 on Debian 12, 1.24 in the 17
# root.
use strict;
use warnings;
use lib 't';

use IPC::Run;
use PgovTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $pgbouncer = '/usr/sbin/pgbouncer';
plan skip_all => 'pgbouncer is not installed' unless -x $pgbouncer;
my ($major, $minor) = `$pgbouncer --version` =~ /PgBouncer (\d+)\.(\d+)/
  or die 'cannot tell the version of pgbouncer';
my $keeps_queue_on_57p03 = $major > 1 || $minor >= 21;
note("PgBouncer $major.$minor");

my $node = governed_node('bouncer', conf => "pool_governor.history_size = 0\n");
my $port = $node->port;
$node->safe_psql('postgres', 'CREATE ROLE app LOGIN');
# the issue's tenant: 2 seats, a wait of 1 s, nobody may wait
write_config($node, q{
INSERT INTO pool_governor.tenants (name, max_connections, wait_timeout)
VALUES ('app', 2, '1 s');
});
write_config($node, "INSERT INTO pool_governor.rules (tenant, role_name) VALUES ('app', 'app');");

# A PgBouncer configured from PgBouncer's side of pool_config (one
# instance); returns its port.
my $bouncer;
sub start_bouncer
{
	$bouncer = start_pgbouncer($node, 'app', 'app', 1);
	return $bouncer->{port};
}

sub stop_bouncer
{
	$bouncer->stop;
	undef $bouncer;
}

# The tenant full with sessions that do not come through PgBouncer (another
# instance's), then a PgBouncer started, whose pool has no server
# connection, and 10 clients through it; the seats freed 4 s after the
# clients came: how many were served, how many failed, when the first one
# ended after the seats freed (negative: before), and the first failure's
# words.
sub ten_clients
{
	my $holders = burst($node, 'app', 2, app => 'holder');
	die 'the holders did not get the seats' unless $holders->{result}{admitted} == 2;
	my $bport = start_bouncer();
	my @c;
	for my $i (1 .. 10)
	{
		my %c = (out => '', err => '');
		$c{h} = IPC::Run::start(
			[ 'psql', '-X', '-h', '127.0.0.1', '-p', $bport, '-U', 'app', '-d', 'postgres',
				'-Atc', 'SELECT 1' ],
			'>', \$c{out}, '2>', \$c{err},
			IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
		push @c, \%c;
	}
	my $started = time;
	my $freed;
	# each client's end, as it comes; the holders leave 4 s after the
	# clients came (or once every client has ended)
	while (grep { !$_->{end} } @c)
	{
		for my $c (grep { !$_->{end} } @c)
		{
			$c->{end} = time if has_ended($c->{h});
		}
		if (!$freed && (time - $started >= 4 || !grep { !$_->{end} } @c))
		{
			$holders->finish;
			$freed = time;
		}
		die 'the clients did not end' if time - $started > $PostgreSQL::Test::Utils::timeout_default;
		Time::HiRes::sleep(0.02);
	}
	$freed //= do { $holders->finish; time };
	my ($served, $failed) = (0, 0);
	my $first = 9e99;
	for my $c (@c)
	{
		$c->{h}->finish;
		if ($c->{h}->result == 0 && $c->{out} =~ /^1$/m) { $served++ }
		else { $failed++ }
		$first = $c->{end} if $c->{end} < $first;
	}
	my ($why) = map { $_->{err} } grep { $_->{err} ne '' } @c;
	my $last = 0;
	$last = $_->{end} > $last ? $_->{end} : $last for @c;
	diag(sprintf("PgBouncer $major.$minor: %d served, %d failed; ends from %.2f s to %.2f s after the clients came, the seats freed at %.2f s",
		$served, $failed, $first - $started, $last - $started, $freed - $started));
	stop_bouncer();
	wait_connected($node, 'app', 0) or die 'the tenant did not empty';
	return ($served, $failed, $first - $freed, $why // '');
}

# 1. Without the governor's side (the tenant as it was: no wait, 53300):
# the first refused server login fails all 10 at once, on any version.
my ($served, $failed, $after, $why) = ten_clients();
is("$served/$failed", '0/10', "PgBouncer $major.$minor without the governor's side: all 10 clients fail");
like($why, qr/too many connections for tenant "app"|server login has been failing/,
	'  with the governor\'s refusal (or PgBouncer\'s word for it)');
cmp_ok($after, '<', 0, sprintf('  before the seats free (%.2f s)', $after));

# 2. Both sides applied, the DBA's way: each tenants.* row an UPDATE of its
# own, PgBouncer started with its rows
my %gov = split /[|\n]/, $node->safe_psql('postgres',
	"SELECT substr(setting, 9), value FROM pool_governor.pool_config('app', 'pgbouncer') WHERE setting LIKE 'tenants.%'");
is(join(' ', sort keys %gov), 'max_waiting refusal_sqlstate wait_timeout',
	'pool_config gives the governor\'s side as tenants.<column> rows');
for my $col (sort keys %gov)
{
	write_config($node, "UPDATE pool_governor.tenants SET $col = '$gov{$col}' WHERE name = 'app';");
}
is($node->safe_psql('postgres', "SELECT refusal_sqlstate FROM pool_governor.tenant_status WHERE tenant = 'app'"),
	'57P03', 'tenant_status says the refusal code in force');
($served, $failed, $after, $why) = ten_clients();
is("$served/$failed", '10/0', "PgBouncer $major.$minor with both sides: all 10 clients are served")
  or diag($why);
cmp_ok($after, '>=', 0, sprintf('  none before the seats free (the first %.2f s after)', $after));

# 3. What PgBouncer does with 57P03 when the governor's wait is short (1 s,
# the seats freed after 4 s): 1.21 and later keep the clients queued and
# retry, 1.18 fails them
write_config($node, "UPDATE pool_governor.tenants SET wait_timeout = '1 s' WHERE name = 'app';");
($served, $failed, $after, $why) = ten_clients();
if ($keeps_queue_on_57p03)
{
	is("$served/$failed", '10/0', "PgBouncer $major.$minor keeps its clients queued on 57P03: all 10 served")
	  or diag($why);
}
else
{
	is("$served/$failed", '0/10', "PgBouncer $major.$minor fails its queued clients on 57P03 too");
}

# 4. libpq with several hosts (what a multi-host conninfo does with each
# code): it goes on to the next host when the first answers 57P03, as for
# "the database system is starting up", and gives up with the refusal on
# 53300
my $other = PostgreSQL::Test::Cluster->new('other');
$other->init;
$other->append_conf('postgresql.conf', "listen_addresses = '127.0.0.1'\n");
$other->start;
$other->safe_psql('postgres', 'CREATE ROLE app LOGIN');
write_config($node, "UPDATE pool_governor.tenants SET wait_timeout = '0' WHERE name = 'app';");
for my $code ('53300', '57P03')
{
	write_config($node, "UPDATE pool_governor.tenants SET refusal_sqlstate = '$code' WHERE name = 'app';");
	my $holders = burst($node, 'app', 2, app => 'holder');
	my ($o, $e) = ('', '');
	IPC::Run::run([ 'psql', '-X', '-Atc', 'SHOW port',
			"host=127.0.0.1,127.0.0.1 port=$port," . $other->port . ' user=app dbname=postgres' ],
		'>', \$o, '2>', \$e);
	chomp $o;
	if ($code eq '57P03')
	{
		is($o, $other->port, "libpq (several hosts) goes on to the next host when the first refuses with $code")
		  or diag($e);
	}
	else
	{
		is($o, '', "libpq (several hosts) stops at the first host's refusal with $code");
		like($e, qr/too many connections for tenant "app"/, '  and says it');
	}
	$holders->finish;
	wait_connected($node, 'app', 0) or die 'the tenant did not empty';
}
$other->stop;

$node->stop;
done_testing();
