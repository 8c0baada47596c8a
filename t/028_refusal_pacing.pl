# A retry storm (issue 27): a tenant at its cap whose clients reconnect as
# soon as they are refused gets its refusals answered later while they keep
# coming (pool_governor.refusal_pacing, 1 s by default), so each client
# tries again later; a lone refusal is answered at once.  The held answers
# keep their backend slots, but never the slots a reserve or the server's
# own reserve needs: another tenant's reserved seats and a superuser still
# get in during the storm.  With the setting at 0 every refusal is answered
# at once.  The side-by-side numbers (other tenants' login times with and
# without pacing) are bench/retry_storm's.
use strict;
use warnings;
use lib 't';

use IPC::Run;
use PgovTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

# a small server: 30 slots, 3 for superusers
my $node = governed_node('pacing', conf => "max_connections = 30\npool_governor.history_size = 0\n");
$node->safe_psql('postgres', 'CREATE ROLE a LOGIN; CREATE ROLE r LOGIN;');
# the DBA's way: tenants, then rules, each in its own transaction
write_config($node, "INSERT INTO pool_governor.tenants (name, max_connections) VALUES ('a', 1);");
write_config($node, "INSERT INTO pool_governor.tenants (name, max_connections, reserved_connections) VALUES ('r', 5, 5);");
write_config($node, "INSERT INTO pool_governor.rules (tenant, role_name) VALUES ('a', 'a'), ('r', 'r');");
is($node->safe_psql('postgres', 'SHOW pool_governor.refusal_pacing'), '1s', 'pacing is on by default, at most 1 s');

my $holder = burst($node, 'a', 1);
is($holder->{result}{admitted}, 1, 'tenant a is full');

# One login as a, timed, with its error text.
sub login_a
{
	my ($o, $e) = ('', '');
	my $t0 = time;
	IPC::Run::run([ 'psql', '-X', '-h', '127.0.0.1', '-p', $node->port, '-U', 'a',
			'-d', 'postgres', '-Atc', 'SELECT 1' ], '>', \$o, '2>', \$e);
	return (time - $t0, $e);
}

# The held answers of the refusal events since event $since: a list of ms
# (0 for an answer not held).
sub holds_since
{
	my ($since) = @_;
	return map { /answer held (\d+) ms/ ? $1 : 0 } split /\n/,
	  $node->safe_psql('postgres',
		"SELECT detail FROM (SELECT row_number() OVER () AS n, * FROM pool_governor.events) e WHERE n > $since AND event = 'refused' ORDER BY n");
}
sub events_now
{
	return $node->safe_psql('postgres', 'SELECT count(*) FROM pool_governor.events');
}

# 1. A lone refusal after a quiet time is answered at once.
my $mark = events_now();
my ($secs, $err) = login_a();
like($err, qr/too many connections for tenant "a"/, 'a lone login of a full tenant is refused');
is(join(',', holds_since($mark)), '0', '  and its answer is not held back');

# 2. A storm: 5 clients that reconnect at once, 12 rounds.  The answers are
# held back longer as the refusals keep coming, up to the setting.
$mark = events_now();
my $storm = burst($node, 'a', 0);
my $res = $storm->cmd('churn 5 12');
like($res->{text}, qr/admitted=0 refused=60 /, 'the storm: 60 logins, all refused');
my @holds = holds_since($mark);
is(scalar(@holds), 60, '  each an event');
# (each hold is spread between half and all of it, by the login's pid, so
# that the storm's clients do not all come back at once)
my @sorted = sort { $a <=> $b } @holds[10 .. $#holds];
cmp_ok($sorted[0], '>=', 500, "  once the storm is on, each held back at least half the setting ($sorted[0] ms the least)");
@sorted = sort { $a <=> $b } @holds;
cmp_ok($sorted[-1], '<=', 1000, "  none longer than the setting ($sorted[-1] ms the most)");
cmp_ok($sorted[-1] - $sorted[10], '>', 0, '  and not all alike');
my $paced = $node->safe_psql('postgres', "SELECT paced FROM pool_governor.tenant_status WHERE tenant = 'a'");
is($paced, scalar(grep { $_ > 0 } @holds), "  tenant_status.paced counts the held answers ($paced)");
# a client that comes back at once is held back (its event says how
# long), which is a floor on how long its refusal took; its message is the
# refusal's, unchanged
$mark = events_now();
($secs, $err) = login_a();
like($err, qr/DETAIL:  Tenant "a" holds 1 of its 1 connections \(0 reserved\)\.\n/,
	'the next refusal has the refusal\'s words, unchanged');
my ($held) = holds_since($mark);
cmp_ok($held, '>', 0, "  its answer was held back ($held ms)");
cmp_ok($secs * 1000, '>=', $held, '  and it took at least that long (' . int($secs * 1000) . ' ms)');

# 3. The held answers never take the slots the reserves need: 20 clients
# storm while r takes its 5 reserved seats and a superuser connects.  An
# answer is held only while 3 (superusers) + 2 (margin) + r's unused
# reserved seats stay free: with a's session, 30 - 1 - 10 leave 19 slots
# for held answers at most, so of 20 logins at once some are answered at
# once.  (Logins in flight take slots too, held or not: 1 + 20 + r's 5 stay
# within the 27 slots PostgreSQL lets ordinary roles use.)
$mark = events_now();
$storm->{in} .= "churn 20 10\n";
$storm->{h}->pump_nb;
# wait until the storm is on: held answers among the events
$node->poll_query_until('postgres',
	"SELECT count(*) > 0 FROM (SELECT row_number() OVER () AS n, * FROM pool_governor.events) e WHERE n > $mark AND detail LIKE '%answer held%'")
  or die 'the storm did not start';
my $r = burst($node, 'r', 5);
is($r->{result}{admitted}, 5, 'during the storm, tenant r takes its 5 reserved seats')
  or diag($r->{result}{text});
is($node->safe_psql('postgres', 'SELECT 1'), '1', '  and a superuser connects');
$res = $storm->_answer(3 * $PostgreSQL::Test::Utils::timeout_default);
like($res->{text}, qr/admitted=0 refused=200 other=0/, 'the storm\'s 200 logins were all refused by the governor')
  or diag($res->{text});
@holds = holds_since($mark);
cmp_ok(scalar(grep { $_ == 0 } @holds[40 .. $#holds]), '>', 0,
	'  some answered at once, for want of free slots beyond the reserves');
$r->finish;

# 4. refusal_pacing = 0: every answer at once, storm or not.
set_and_wait($node, 'pool_governor.refusal_pacing', '0');
$mark = events_now();
$paced = $node->safe_psql('postgres', "SELECT paced FROM pool_governor.tenant_status WHERE tenant = 'a'");
$res = $storm->cmd('churn 5 12');
like($res->{text}, qr/admitted=0 refused=60 /, 'with pacing off, the same storm is refused');
is(join(',', grep { $_ > 0 } holds_since($mark)), '', '  and no answer is held back');
is($node->safe_psql('postgres', "SELECT paced FROM pool_governor.tenant_status WHERE tenant = 'a'"),
	$paced, '  (tenant_status.paced stays where it was)');
$mark = events_now();
login_a();
is(join(',', holds_since($mark)), '0', '  nor the next one');

$storm->finish;
$holder->finish;
$node->stop;
done_testing();
