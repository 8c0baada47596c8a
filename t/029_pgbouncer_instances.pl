# Several PgBouncers on one tenant (issue 27): three PgBouncer instances,
# each with its own pool, in front of one tenant whose cap (3) is smaller
# than their pools together (3 each), configured from
# pool_config('app', 'pgbouncer', 3) on both sides.  One instance takes
# every seat and goes idle; the other two, whose pools are empty, get their
# clients served once its idle server connections go back (its
# server_idle_timeout, a third of the governor's wait): no client fails,
# and the tenant's sessions never exceed the cap, sampled every 50 ms.
# With a server_idle_timeout longer than the wait (the one-instance
# advice's 60 s), the same clients fail: the test bites.  Real PgBouncer:
# 1.18 on Debian 12, 1.24 and later in the version roots.
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
my ($version) = `$pgbouncer --version` =~ /PgBouncer (\d+\.\d+)/
  or die 'cannot tell the version of pgbouncer';
note("PgBouncer $version");

my $node = governed_node('instances', conf => "pool_governor.history_size = 0\n");
$node->safe_psql('postgres', 'CREATE ROLE app LOGIN');
write_config($node, "INSERT INTO pool_governor.tenants (name, max_connections) VALUES ('app', 3);");
write_config($node, "INSERT INTO pool_governor.rules (tenant, role_name) VALUES ('app', 'app');");

# The advice for three PgBouncers: each pool may take the whole cap, none
# keeps a seat for ever, idle seats go back within the governor's wait.
my %adv = split /[|\n]/, $node->safe_psql('postgres',
	"SELECT setting, value FROM pool_governor.pool_config('app', 'pgbouncer', 3)");
is("$adv{max_db_connections}/$adv{default_pool_size}/$adv{min_pool_size}", '3/3/0',
	'pool_config for 3 PgBouncers: a pool of 3 each (9 in all for a cap of 3), none kept open');
my ($wait) = $adv{'tenants.wait_timeout'} =~ /^(\d+) s$/ or die 'no wait advised';
cmp_ok($adv{server_idle_timeout}, '<', $wait,
	"server_idle_timeout ($adv{server_idle_timeout} s) is shorter than the governor's wait ($wait s)");
cmp_ok($adv{query_wait_timeout}, '>=', $wait, '  and PgBouncer\'s clients wait as long as the governor\'s wait');
# the governor's side, the DBA's way: one UPDATE each
for my $col (grep { s/^tenants\.// } keys %adv)
{
	write_config($node, "UPDATE pool_governor.tenants SET $col = '$adv{\"tenants.$col\"}' WHERE name = 'app';");
}
is($node->safe_psql('postgres', "SELECT max_waiting FROM pool_governor.raw_tenants() WHERE tenant = 'app'"),
	9, 'the tenant lets the 9 server logins of the three pools wait');

# The most sessions of app at once over $seconds, sampled every 50 ms on
# the server, by the governor's count and by pg_stat_activity.
$node->safe_psql('postgres', q{
CREATE FUNCTION most_app_sessions(seconds float8) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	n_gov int := 0;
	n_act int := 0;
	c int;
	until timestamptz := clock_timestamp() + seconds * interval '1 s';
BEGIN
	WHILE clock_timestamp() < until LOOP
		SELECT connected INTO c FROM pool_governor.tenant_status WHERE tenant = 'app';
		n_gov := greatest(n_gov, c);
		PERFORM pg_stat_clear_snapshot();
		SELECT count(*) INTO c FROM pg_stat_activity WHERE usename = 'app' AND backend_type = 'client backend';
		n_act := greatest(n_act, c);
		PERFORM pg_sleep(0.05);
	END LOOP;
	RETURN n_gov || '/' || n_act;
END $$;
});

# psql clients through a PgBouncer, started at once; each runs $sql.
sub clients
{
	my ($bouncer, $n, $sql) = @_;
	my @c;
	for (1 .. $n)
	{
		my %c = (out => '', err => '');
		$c{h} = IPC::Run::start(
			[ 'psql', '-X', '-h', '127.0.0.1', '-p', $bouncer->{port}, '-U', 'app',
				'-d', 'postgres', '-Atc', $sql ],
			'>', \$c{out}, '2>', \$c{err},
			IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
		push @c, \%c;
	}
	return \@c;
}

# Waits for the clients: (served, failed, the first failure's words).
sub outcome
{
	my ($c) = @_;
	my ($served, $failed, $why) = (0, 0, '');
	for (@$c)
	{
		$_->{h}->finish;
		if ($_->{h}->result == 0 && $_->{out} =~ /^1$/m) { $served++ }
		else { $failed++; $why ||= $_->{err} }
	}
	return ($served, $failed, $why);
}

# Three PgBouncers (with %override on the advice); A's 3 clients take every
# seat for 1 s and leave A's server connections idle; then 4 clients each
# through B and C, whose pools are empty.  Returns B's and C's
# (served, failed, why), the seconds until they all ended, the most
# sessions seen meanwhile, and how many server connections A closed as
# idle (its log).
sub three_instances
{
	my (%override) = @_;
	my @b = map { start_pgbouncer($node, 'app', 'app', 3, %override) } 1 .. 3;
	my ($so, $se) = ('', '');
	my $sampler = IPC::Run::start(
		[ 'psql', '-X', '-At', '-h', $node->host, '-p', $node->port, '-d', 'postgres',
			'-c', 'SELECT most_app_sessions(' . ($wait + 8) . ')' ],
		'>', \$so, '2>', \$se);
	my ($served, $failed, $why) = outcome(clients($b[0], 3, 'SELECT count(*) FROM pg_sleep(1)'));
	die "instance A's clients were not all served: $why" unless $served == 3;
	die 'instance A does not hold every seat'
	  unless $node->safe_psql('postgres', "SELECT connected FROM pool_governor.tenant_status WHERE tenant = 'app'") == 3;
	my $t0 = time;
	my $bc = clients($b[1], 4, 'SELECT 1');
	my $cc = clients($b[2], 4, 'SELECT 1');
	my @res = (outcome($bc), outcome($cc), time - $t0);
	$sampler->finish;
	$_->stop for @b;
	wait_connected($node, 'app', 0) or die 'the tenant did not empty';
	chomp $so;
	my $idle_closed = () = slurp_file("$b[0]{dir}/pgbouncer.log") =~ /closing because: server idle timeout/g;
	return (@res, $so, $idle_closed);
}

my ($bs, $bf, $bwhy, $cs, $cf, $cwhy, $secs, $most, $closed) = three_instances();
diag(sprintf("PgBouncer $version advised: B %d/%d, C %d/%d served/failed in %.1f s; most sessions %s (governor/pg_stat_activity); A closed %d idle",
	$bs, $bf, $cs, $cf, $secs, $most, $closed));
is("$bs/$bf", '4/0', "PgBouncer $version, instance B (pool empty, the tenant full): all 4 clients served")
  or diag($bwhy);
is("$cs/$cf", '4/0', '  and so are instance C\'s') or diag($cwhy);
is($closed, 3, sprintf('  with the seats A gave back, its 3 connections closed as idle (all served in %.1f s)', $secs));
is($most, '3/3', '  and the three PgBouncers never held more than the cap of 3');

# The same with idle connections kept longer than the governor's wait: B's
# and C's server logins wait, are refused, and their clients fail.
($bs, $bf, $bwhy, $cs, $cf, $cwhy, $secs, $most, $closed) = three_instances(server_idle_timeout => 60);
diag(sprintf("PgBouncer $version, server_idle_timeout 60: B %d/%d, C %d/%d served/failed in %.1f s; most %s",
	$bs, $bf, $cs, $cf, $secs, $most));
is("$bs/$bf $cs/$cf", '0/4 0/4',
	'with server_idle_timeout longer than the wait, B\'s and C\'s clients fail (the test bites)');
is($most, '3/3', '  the cap held all the same');

$node->stop;
done_testing();
