# Two faults an attacker found in 1.2 at start-up: a damaged snapshot file
# kept PostgreSQL from starting, and the worker stayed down after initdb
# and after every crash until some client logged in (and, with a missing
# pool_governor.database, restarted every second instead of backing off).
# The checks here read the server log rather than log in wherever a login
# would hide the fault.
use strict;
use warnings;
use lib 't';

use PgovTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

# Waits until the log, from offset $from, matches $re (at most 60 s);
# returns the text from $from, or undef.
sub log_until
{
	my ($node, $from, $re) = @_;
	for (1 .. 600)
	{
		my $text = substr(slurp_file($node->logfile), $from);
		return $text if $text =~ $re;
		usleep(100_000);
	}
	return undef;
}

sub log_size
{
	my ($node) = @_;
	return -s $node->logfile;
}

# 1. A fresh cluster: no client logs in after the start; the worker must
# come up by itself and say that the extension is not installed.
my $fresh = PostgreSQL::Test::Cluster->new('fresh');
$fresh->init;
$fresh->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pool_governor'
log_min_messages = info
});
ok(!-e $fresh->data_dir . '/global/pg_internal.init',
	'a new cluster has no relation cache init file');
$fresh->start;
my $text = log_until($fresh, 0, qr/pool_governor is not installed in database "postgres"/);
ok(defined $text, 'after initdb, with no login, the worker connects and looks at its database');
unlike($text // '', qr/cannot read pg_class without having selected a database/,
	'without the FATAL that kept it down until a client logged in');
$fresh->stop;

# 2. A crash restart removes the init file again.  The worker is back
# before anyone logs in.
my $node = governed_node('start', conf => "restart_after_crash = on\n");
founding_case($node);
my $hold = $node->background_psql('postgres');
my $pid = $hold->query_safe('SELECT pg_backend_pid()');
chomp $pid;
my $from = log_size($node);
kill 'KILL', $pid;
ok(defined log_until($node, $from, qr/all server processes terminated; reinitializing/),
	'a killed backend makes the server reinitialize');
ok(defined log_until($node, $from, qr/database system is ready to accept connections/),
	'and it comes back');
eval { $hold->quit };
ok(!-e $node->data_dir . '/global/pg_internal.init',
	'the crash removed the relation cache init file');
# no login for 3 s: enough for the worker's first start (which checks the
# database), its exit and its connected start 1 s later
usleep(3_000_000);
my $login = $node->safe_psql('postgres', 'SELECT now()');
my $row = $node->safe_psql('postgres', qq{
SELECT w.datname,
	   w.backend_start < '$login'::timestamptz,
	   w.backend_start - c.backend_start < interval '2.5 s'
FROM pg_stat_activity w, pg_stat_activity c
WHERE w.pid = (SELECT worker_pid FROM pool_governor.health)
  AND c.backend_type = 'checkpointer'});
is($row, 'postgres|t|t',
	'after the crash the worker was connected before the first login, within 2.5 s of the restart');
$text = substr(slurp_file($node->logfile), $from);
unlike($text, qr/cannot read pg_class without having selected a database/,
	'and never failed for want of the init file');

# 3. A missing pool_governor.database: one WARNING, then a growing pause
# (5 s, 10 s, ...), not a FATAL and a restart every second.
$node->append_conf('postgresql.conf', "pool_governor.database = 'nosuchdb'\n");
$from = log_size($node);
$node->restart;
my $t0 = time;
$text = log_until($node, $from,
	qr/background worker "pool_governor worker".*exited with exit code 1(?s:.*)background worker "pool_governor worker".*exited with exit code 1/);
my $took = time - $t0;
ok(defined $text, 'the worker checks for the database again after a pause');
cmp_ok($took, '>=', 5, sprintf('the second check comes after the 5 s pause (%.1f s)', $took));
my @warnings = ($text // '') =~ /WARNING:  pool_governor cannot load its configuration: database "nosuchdb" does not exist/g;
is(scalar @warnings, 1, 'the missing database is reported once');
# (the restart's shutdown ends the previous worker with a FATAL of its own)
unlike($text // '', qr/FATAL:  (?!terminating background worker)/, 'with no FATAL');
like($text // '', qr/HINT:  Create the database, or set pool_governor.database/,
	'and a hint on what to do');
$node->append_conf('postgresql.conf', "pool_governor.database = 'postgres'\n");
$node->restart;
$node->poll_query_until('postgres', 'SELECT worker_pid IS NOT NULL FROM pool_governor.health')
  or die 'the worker did not come back';

# 4. A damaged snapshot never keeps the server from starting.  Each kind of
# damage: a length at offset 24 that asks for 2 GiB or 1 GiB, a truncated
# file, a flipped byte, a directory in its place.
my $snap = $node->data_dir . '/pool_governor.snapshot';
ok(-f $snap, 'the configuration in force is in its snapshot file');
my $good = slurp_file($snap);
my %damage = (
	'a length of 0x7fffffff' => sub { substr($_[0], 24, 4) = pack('V', 0x7fffffff); $_[0] },
	'a length of 0x40000000' => sub { substr($_[0], 24, 4) = pack('V', 0x40000000); $_[0] },
	'a truncated file' => sub { substr($_[0], 0, length($_[0]) - 7) },
	'a flipped byte' => sub { substr($_[0], 100, 1) = chr(ord(substr($_[0], 100, 1)) ^ 0x10); $_[0] },
	'a directory' => undef,);
for my $kind (sort keys %damage)
{
	$node->stop;
	unlink $snap;
	if ($damage{$kind})
	{
		open(my $fh, '>:raw', $snap) or die $!;
		print $fh $damage{$kind}->($good);
		close $fh;
	}
	else
	{
		mkdir $snap or die $!;
	}
	$from = log_size($node);
	my $started = $node->start(fail_ok => 1);
	ok($started, "the server starts with $kind as its snapshot");
	$text = substr(slurp_file($node->logfile), $from);
	my @w = $text =~ /WARNING:  pool_governor: the configuration snapshot "pool_governor.snapshot"/g;
	is(scalar @w, 1, "one WARNING names the file ($kind)");
	unlike($text, qr/invalid memory alloc request|FATAL/, 'no allocation of what the header asks, no FATAL');
	next unless $started;
	$node->poll_query_until('postgres',
		"SELECT max_connections = 40 FROM pool_governor.tenant_status WHERE tenant = 'shop'")
	  or die 'the worker did not load the tables';
	my $shop = burst($node, 'shop', 42);
	is($shop->{result}{admitted}, 40, "and the worker's load enforces the caps ($kind)");
	$shop->finish;
	rmdir $snap if -d $snap;
}
$node->stop;
done_testing();
