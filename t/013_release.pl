# What a release promises: META.json follows the PGXN meta spec 1.0.0 and
# names the version the control file installs, and an installation made at
# 1.0 and updated step by step to the default version has exactly the
# schema of a fresh install.
use strict;
use warnings;
use lib 't';

use JSON::PP;
use PgovTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $dir = $ENV{TESTDIR} // '.';

# META.json
my $meta = eval { decode_json(slurp_file("$dir/META.json")) };
ok($meta, 'META.json is valid JSON') or diag($@);
for my $key (qw(name abstract version maintainer license provides meta-spec))
{
	ok(defined $meta->{$key}, "META.json has $key");
}
is($meta->{'meta-spec'}{version}, '1.0.0', 'it follows meta spec 1.0.0');
is($meta->{license}, 'postgresql', 'under the PostgreSQL license, as LICENSE says');
like(slurp_file("$dir/LICENSE"), qr/^PostgreSQL License/, 'LICENSE is the PostgreSQL License');
my ($default) = slurp_file("$dir/pool_governor.control") =~ /^default_version = '([^']+)'/m;
like($meta->{version}, qr/^\Q$default\E\.\d+$/,
	"its version ($meta->{version}) is the control file's default_version ($default)");
is($meta->{provides}{pool_governor}{version}, $meta->{version}, 'and so is the extension it provides');
ok(-f "$dir/$meta->{provides}{pool_governor}{file}", 'the file it names exists');
ok(defined $meta->{prereqs}{runtime}{requires}{PostgreSQL}, 'it says which PostgreSQL it needs');

# The upgrade path: 1.0, then ALTER EXTENSION UPDATE to 1.1 and on to the
# default version, against a fresh install.
my $node = governed_node('release', no_extension => 1);
sub schema
{
	my ($out, $err);
	# --binary-upgrade dumps each member of the extension, as pg_upgrade
	# needs; the OIDs and transaction ids it pins (quoted integers) and
	# pg_dump's random \restrict key differ between any two installs
	IPC::Run::run([ 'pg_dump', '--schema-only', '--binary-upgrade', '--no-owner',
		'-h', $node->host, '-p', $node->port, 'postgres' ], '>', \$out, '2>', \$err)
	  or die "pg_dump failed: $err";
	$out =~ s/^(--|\\(un)?restrict |SELECT pg_catalog\.binary_upgrade_set_next).*\n//mg;
	$out =~ s/'\{\d+(,\d+)*\}'/'{N}'/g;
	$out =~ s/'\d+'/'N'/g;
	return $out;
}
$node->safe_psql('postgres', "CREATE EXTENSION pool_governor VERSION '1.0'");
is($node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'pool_governor'"),
	'1.0', 'version 1.0 installs');
is($node->safe_psql('postgres', 'SELECT count(*) FROM pool_governor.health'), '1',
	'and works with the current library (its health view has 1.0\'s columns)');
$node->safe_psql('postgres', "ALTER EXTENSION pool_governor UPDATE TO '1.1'");
is($node->safe_psql('postgres', 'SELECT count(*) FROM pool_governor.sizing'), '1',
	'1.1 works with the current library');
$node->safe_psql('postgres', 'ALTER EXTENSION pool_governor UPDATE');
is($node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'pool_governor'"),
	$default, "and updates to $default");
my $updated = schema();
$node->safe_psql('postgres', 'DROP EXTENSION pool_governor');
$node->safe_psql('postgres', 'CREATE EXTENSION pool_governor');
is($node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'pool_governor'"),
	$default, "a fresh install is $default");
my $fresh = schema();
like($fresh, qr/CREATE VIEW pool_governor\.health .*status_reason/s,
	'the dump holds the extension\'s objects');
like($fresh, qr/CREATE VIEW pool_governor\.wakeups /, 'with the views of 1.2');
is($updated, $fresh, "an updated 1.0 has exactly the schema of a fresh $default");
$node->stop;
done_testing();
