# No lost seat: every way a governed backend can end gives its seat back,
# and thousands of connect/disconnect cycles end exactly at zero.
use strict;
use warnings;
use lib 't';

use PgovTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# (the churn below is a storm of refusals: answered at once here, as this
# test counts seats, not time; t/028 is pacing's)
my $node = governed_node('seats', conf => "pool_governor.refusal_pacing = 0\n");
$node->safe_psql('postgres', q{
CREATE ROLE shop LOGIN;
CREATE ROLE limited LOGIN CONNECTION LIMIT 1;
CREATE ROLE churner LOGIN;
INSERT INTO pool_governor.tenants (name, max_connections, reserved_connections)
VALUES ('shop', 8, 2), ('lim', 5, 0), ('other', NULL, 0);
INSERT INTO pool_governor.rules (tenant, role_name)
VALUES ('shop', 'shop'), ('lim', 'limited'), ('other', 'churner');
SELECT pool_governor.reload();
});

# f. Refused later by the role's CONNECTION LIMIT: the seat comes back.
my $lim = burst($node, 'limited', 1);
is($lim->{result}{admitted}, 1, 'the role holds its one connection');
my ($ret, $out, $err) = $node->psql('postgres', 'SELECT 1', extra_params => [ '-U', 'limited' ]);
like($err, qr/too many connections for role "limited"/,
	'a second login is refused by the role CONNECTION LIMIT, after the governor admitted it');
ok(wait_connected($node, 'lim', 1), 'and its governor seat came back');
is(tenant_row($node, 'lim')->{admitted}, 2, 'both logins passed the governor');
$lim->finish;

# Refused later because the database does not exist.
($ret, $out, $err) = $node->psql('postgres', 'SELECT 1',
	extra_params => [ '-U', 'shop', '-d', 'no_such_db' ]);
like($err, qr/database "no_such_db" does not exist/, 'a login to a missing database fails');
ok(wait_connected($node, 'shop', 0), 'and leaves no seat taken');

# Failed authentication never counts.
$node->safe_psql('postgres', "ALTER ROLE shop PASSWORD 'secret'");
$node->append_conf('pg_hba.conf', '');
my $hba = $node->data_dir . '/pg_hba.conf';
PostgreSQL::Test::Utils::append_to_file($hba, '');
open my $fh, '<', $hba or die;
my @hba = <$fh>;
close $fh;
open $fh, '>', $hba or die;
print $fh "local all shop scram-sha-256\n", @hba;
close $fh;
$node->reload;
my $admitted = tenant_row($node, 'shop')->{admitted};
($ret, $out, $err) = $node->psql('postgres', 'SELECT 1',
	extra_params => [ '-U', 'shop', '-w' ]);
isnt($ret, 0, 'a login without its password fails authentication');
is(tenant_row($node, 'shop')->{admitted}, $admitted, 'and is not counted');
open $fh, '>', $hba or die;
print $fh @hba;
close $fh;
$node->reload;

# Ended by pg_terminate_backend.
my $shop = burst($node, 'shop', 5);
is($shop->{result}{admitted}, 5, 'shop opens 5');
$node->safe_psql('postgres',
	"SELECT pg_terminate_backend(pid) FROM pool_governor.sessions WHERE tenant = 'shop'");
ok(wait_connected($node, 'shop', 0), 'terminating them gives every seat back');
$shop->finish;

# The client goes away.
$shop = burst($node, 'shop', 5);
$shop->{h}->kill_kill;
ok(wait_connected($node, 'shop', 0), 'a client that disappears gives its seats back');

# g. Churn: thousands of connect/disconnect cycles from parallel clients.
# Each round opens 10 shop logins at once against a cap of 8: at most 8 are
# admitted every round when alone; two churners share the 8.  Meanwhile
# pgbench churns another
# tenant with a new connection per transaction.
my $pgbench = IPC::Run::start(
	[
		'pgbench', '-n', '-C', '-c', '4', '-j', '2', '-t', '250',
		'-f', ($ENV{TESTDIR} // '.') . '/t/select1.sql', '-h', $node->host, '-p', $node->port,
		'-U', 'churner', 'postgres'
	],
	'>', \my $pgbench_out, '2>', \my $pgbench_err);
my @churn = map { burst($node, 'shop', 0) } 1 .. 2;
# both churners get their command before either is waited for
$churn[$_]{in} .= "churn 10 150\n" for 0 .. 1;
$_->{h}->pump_nb for @churn;
# 3,000 logins and 1,000 pgbench connections: on a loaded machine this takes
# minutes, so the wait is sized for the work, not the harness's default
my @res = map { $_->_answer(3 * $PostgreSQL::Test::Utils::timeout_default) } @churn;
$pgbench->finish;
like($pgbench_out, qr/number of transactions actually processed: 1000\/1000/,
	'pgbench completed 1000 connect/disconnect cycles in another tenant');
my $total_admitted = 0;
for my $i (0 .. 1)
{
	like($res[$i]{text}, qr/churn admitted=\d+ refused=\d+ other=0/, "churner $i: no unexpected failure");
	$res[$i]{text} =~ /churn admitted=(\d+) refused=(\d+) other=\d+ fewest=(\d+) most=(\d+)/;
	$total_admitted += $1;
	cmp_ok($4, '<=', 8, "churner $i: never more than 8 admitted in one round");
}
$_->finish for @churn;
my $cycles = $total_admitted + 1000;
cmp_ok($cycles, '>=', 2000, "at least 2000 admitted connect/disconnect cycles ($cycles)");
note("churn: $cycles admitted cycles; shop: $res[0]{text}$res[1]{text}");

ok($node->poll_query_until('postgres',
		'SELECT sum(connected) = 0 FROM pool_governor.tenant_status'),
	'after the churn every tenant is back at connected = 0');
my $row = tenant_row($node, 'shop');
cmp_ok($row->{peak_connected}, '<=', 8, 'shop peak_connected never went above its cap');
is($row->{peak_connected}, 8, 'and reached it');
is($node->safe_psql('postgres', 'SELECT shared_free FROM pool_governor.health'),
	97 - 2 - 1, 'every shared seat is free again (shop\'s 2 reserved are set aside, and this query\'s superuser session holds one)');

$node->stop;
done_testing();
