# Nothing fails open (issue 8, rows 5, 6, 9, 10): the configuration in force
# survives restarts and governs the first login; one that no longer fits is
# enforced scaled, loudly; a damaged table is refused once, never crashes;
# the worker does not leak; DROP EXTENSION and a missing database are
# handled and said once.
use strict;
use warnings;
use lib 't';

use PgovTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

sub count_in_log
{
	my ($node, $re) = @_;
	my $log = slurp_file($node->logfile);
	my @m = $log =~ /$re/g;
	return scalar @m;
}

my $node = governed_node('closed');
$node->safe_psql('postgres', 'CREATE ROLE shop LOGIN; CREATE ROLE inventory LOGIN');
write_config($node, q{
INSERT INTO pool_governor.tenants (name, max_connections, reserved_connections)
VALUES ('shop', 40, 20), ('inventory', 30, 10);
INSERT INTO pool_governor.rules (tenant, role_name) VALUES ('shop', 'shop'), ('inventory', 'inventory');
UPDATE pool_governor.tenants SET max_connections = 2, reserved_connections = 2 WHERE name = 'shop';
UPDATE pool_governor.tenants SET reserved_connections = 28 WHERE name = 'inventory';
});
my $gen = generation($node);

# 5a. After a restart the first logins are governed by the last
# configuration, even with no worker able to load the tables: the database
# it would read is gone, which it reports once.
$node->stop;
$node->append_conf('postgresql.conf', "pool_governor.database = 'gone'\n");
$node->start;
my $b = burst($node, 'shop', 3);
is($b->{result}{admitted}, 2, 'right after the restart, shop is held to its cap of 2');
is($b->{result}{refused}, 1, 'and the third login is refused');
$b->finish;
is(generation($node), $gen, 'by the generation in force before the stop');
my $warned = -s $node->logfile;
ok($node->wait_for_log(qr/WARNING:  pool_governor cannot load its configuration: database "gone" does not exist/),
	'the missing configuration database is reported');
# the worker has checked again since: two exits after the pause it takes
# before each check
ok($node->wait_for_log(
		qr/worker "pool_governor worker".*exited with exit code 1(?s:.*)worker "pool_governor worker".*exited with exit code 1/,
		$warned),
	'the worker checks again after its pauses');
is(count_in_log($node, qr/cannot load its configuration: database "gone"/), 1,
	'once, though the worker has checked again since');
is(count_in_log($node, qr/FATAL:  database "gone" does not exist/), 0,
	'and no FATAL every second');

# 5b. A restart with fewer connection slots: the reserves (2 + 28) no longer
# fit the 17 governed seats.  Caps stay, reserves are scaled by 17/30
# (shop 1, inventory 15), health is critical and says why, and the log says
# so once.
$node->stop;
$node->append_conf('postgresql.conf',
	"pool_governor.database = 'postgres'\nmax_connections = 20\n");
$node->start;
$b = burst($node, 'inventory', 17);
is($b->{result}{admitted}, 16, 'inventory gets its scaled reserve (15) and the one shared seat left');
is($b->{result}{refused}, 1, 'then is refused by the governor');
is($b->{result}{other}, 0, 'not by PostgreSQL');
$b->finish;
is($node->safe_psql('postgres',
		"SELECT string_agg(tenant || ':' || coalesce(max_connections::text, '-') || '/' || reserved_connections, ',' ORDER BY tenant) FROM pool_governor.tenant_status"),
	'default:-/0,inventory:30/15,shop:2/1', 'caps kept, reserves scaled by 17/30');
like($node->safe_psql('postgres', "SELECT status || ': ' || status_reason FROM pool_governor.health"),
	qr/^critical: the tenants reserve 30 seats but the governed capacity is 17: caps are enforced/,
	'health is critical and says why');
wait_worker($node, loads => 2);
is(count_in_log($node, qr/LOG:  pool_governor: the tenants reserve 30 seats/), 1,
	'the log says so once, not at every re-read');
$node->stop;
$node->append_conf('postgresql.conf', "max_connections = 100\n");
$node->start;
ok($node->poll_query_until('postgres', "SELECT status = 'ok' FROM pool_governor.health"),
	'with the slots back, health is ok again');

# 6. A damaged or altered table is refused with one WARNING per problem,
# never a crash or a restart loop; the last good configuration stays.
$node->poll_query_until('postgres', 'SELECT worker_pid IS NOT NULL FROM pool_governor.health')
  or die 'no worker';
my $pid = $node->safe_psql('postgres', 'SELECT worker_pid FROM pool_governor.health');
sub damaged
{
	my ($what, $sql, $warning, $undo) = @_;
	my $offset = -s $node->logfile;
	$node->safe_psql('postgres', $sql);
	ok($node->wait_for_log($warning, $offset), "$what: refused with a WARNING");
	wait_worker($node, loads => 2);
	my $log = substr(slurp_file($node->logfile), $offset);
	my @w = $log =~ /$warning/g;
	is(scalar @w, 1, "$what: said once over two re-reads");
	unlike($log, qr/terminated by signal|server process .* exited/, "$what: nothing crashed");
	is($node->safe_psql('postgres', 'SELECT worker_pid FROM pool_governor.health'), $pid,
		"$what: the worker did not restart");
	my $b = burst($node, 'shop', 3);
	is($b->{result}{admitted}, 2, "$what: shop's cap of 2 is still enforced");
	$b->finish;
	$node->safe_psql('postgres', $undo);
}
damaged('a rule with no tenant', q{
ALTER TABLE pool_governor.rules ALTER COLUMN tenant DROP NOT NULL;
ALTER TABLE pool_governor.rules DISABLE TRIGGER USER;
INSERT INTO pool_governor.rules (tenant, role_name) VALUES (NULL, 'x');
ALTER TABLE pool_governor.rules ENABLE TRIGGER USER;
}, qr/WARNING:  pool_governor refused its configuration.*\n.*DETAIL:  tenant of a row of pool_governor.rules is null/,
	q{DELETE FROM pool_governor.rules WHERE tenant IS NULL;
	  ALTER TABLE pool_governor.rules ALTER COLUMN tenant SET NOT NULL;});
damaged('a renamed column', q{
ALTER TABLE pool_governor.tenants RENAME COLUMN max_connections TO cap;
}, qr/DETAIL:  the configuration tables cannot be read: column "max_connections" does not exist/,
	'ALTER TABLE pool_governor.tenants RENAME COLUMN cap TO max_connections');
damaged('a column widened to bigint', q{
ALTER TABLE pool_governor.tenants DISABLE TRIGGER USER;
ALTER TABLE pool_governor.tenants ALTER COLUMN max_connections TYPE bigint;
UPDATE pool_governor.tenants SET max_connections = 4294967296 WHERE name = 'shop';
ALTER TABLE pool_governor.tenants ENABLE TRIGGER USER;
}, qr/DETAIL:  column "max_connections" of pool_governor.tenants has type bigint, expected integer/,
	q{ALTER TABLE pool_governor.tenants DISABLE TRIGGER USER;
	  UPDATE pool_governor.tenants SET max_connections = 2 WHERE name = 'shop';
	  ALTER TABLE pool_governor.tenants ALTER COLUMN max_connections TYPE integer;
	  ALTER TABLE pool_governor.tenants ENABLE TRIGGER USER;});
is($node->safe_psql('postgres', 'SELECT pool_governor.reload() > 0'), 't',
	'once repaired, the tables load again');

# 10. DROP EXTENSION: its limits stop at once, logged; CREATE EXTENSION
# starts from an empty configuration.
my $offset = -s $node->logfile;
$node->safe_psql('postgres', 'DROP EXTENSION pool_governor');
ok($node->wait_for_log(qr/LOG:  pool_governor: the extension is not installed in database "postgres"; its configuration is no longer enforced/, $offset),
	'dropping the extension unpublishes its configuration, and says so');
$b = burst($node, 'shop', 3);
is($b->{result}{admitted}, 3, 'shop has no cap any more');
$b->finish;
$node->safe_psql('postgres', 'CREATE EXTENSION pool_governor');
is($node->safe_psql('postgres', 'SELECT tenants FROM pool_governor.health'), '1',
	'a new CREATE EXTENSION starts with the default tenant alone');
$node->restart;
$b = burst($node, 'shop', 3);
is($b->{result}{admitted}, 3, 'and the dropped limits do not come back at restart');
$b->finish;
$node->stop;

# 9. The worker does not leak: with history_size = 0 and 1024 tenant
# entries (32 KB a sample before the fix) at 10 samples a second, its
# private memory stays flat.
my $lean = governed_node('lean', conf => q{
pool_governor.history_size = 0
pool_governor.max_tenants = 1024
pool_governor.sample_interval = '100ms'
});
$lean->poll_query_until('postgres', 'SELECT worker_pid IS NOT NULL FROM pool_governor.health')
  or die 'no worker';
$pid = $lean->safe_psql('postgres', 'SELECT worker_pid FROM pool_governor.health');
sub rss_anon_kb
{
	my $status = slurp_file("/proc/$pid/status");
	return $status =~ /^RssAnon:\s+(\d+) kB/m ? $1 : die "no RssAnon for $pid";
}
wait_worker($lean, ticks => 30);
my $before = rss_anon_kb();
wait_worker($lean, ticks => 150);
my $grew = rss_anon_kb() - $before;
cmp_ok($grew, '<', 1024, "the worker's private memory grew by $grew kB over 150 samples");
$lean->stop;
done_testing();
