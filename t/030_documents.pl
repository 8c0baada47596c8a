# The documents show what the code does: every SQL example in README.md and
# docs/*.md runs, in the order a reader meets it (the README's founding case
# first, on which the reference's examples build), against a governed
# server; and every version the documents name is the control file's.
use strict;
use warnings;
use lib 't';

use PgovTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $top = $ENV{TESTDIR} // '.';
my ($version) = slurp_file("$top/pool_governor.control") =~ /^default_version = '([\d.]+)'/m
  or die 'no default_version in pool_governor.control';

# The ```sql blocks of a document: [line, text] each.
sub sql_blocks
{
	my ($file) = @_;
	my (@blocks, $cur, $start);
	my $n = 0;
	for my $line (split /\n/, slurp_file($file))
	{
		$n++;
		if (!defined $cur && $line =~ /^```sql\s*$/) { $cur = ''; $start = $n + 1; next }
		if (defined $cur && $line =~ /^```\s*$/) { push @blocks, [ $start, $cur ]; undef $cur; next }
		$cur .= "$line\n" if defined $cur;
	}
	die "$file: a ```sql block is not closed" if defined $cur;
	return @blocks;
}

my @files = ("$top/README.md", sort glob("$top/docs/*.md"));
my $node = governed_node('documents', no_extension => 1);
# the login roles the examples name (rules name roles; roles are the DBA's)
$node->safe_psql('postgres', 'CREATE ROLE shop LOGIN; CREATE ROLE inventory LOGIN; CREATE ROLE reporting LOGIN; CREATE ROLE app LOGIN;');

my $ran = 0;
for my $file (@files)
{
	(my $name = $file) =~ s{^\Q$top\E/}{};
	for my $b (sql_blocks($file))
	{
		my ($line, $sql) = @$b;
		my ($ret, $out, $err) = $node->psql('postgres', $sql, on_error_stop => 1);
		is($ret, 0, "$name, the example at line $line runs") or diag("$sql\n$err");
		$ran++;
		# the README's founding case comes first; the reference's examples
		# about one application's pool name the tenant "app"
		if ($name eq 'README.md' && $sql =~ /CREATE EXTENSION/)
		{
			$node->safe_psql('postgres',
				"INSERT INTO pool_governor.tenants (name, max_connections) VALUES ('app', 3); SELECT pool_governor.reload();");
		}
	}
}
cmp_ok($ran, '>=', 4, "every SQL example ran ($ran)");

# What the examples did, where it can be seen: the founding case is in
# force, and the reference's node_limits and PgBouncer rows were applied.
is($node->safe_psql('postgres',
		"SELECT string_agg(tenant || ':' || coalesce(max_connections::text, '-') || '/' || reserved_connections, ',' ORDER BY tenant) FROM pool_governor.tenant_status WHERE tenant IN ('shop', 'inventory', 'reporting')"),
	'inventory:30/10,reporting:0/0,shop:40/20',
	'the README\'s founding case is in force, with docs/operations.md\'s node_limits (reporting never on the primary)');
is($node->safe_psql('postgres', "SELECT refusal_sqlstate FROM pool_governor.tenants WHERE name = 'app'"),
	'57P03', 'the PgBouncer example\'s governor side was applied');
ok($node->poll_query_until('postgres',
		"SELECT cluster_max_connections = 40 AND allowed = 40 FROM pool_governor.cluster_status WHERE tenant = 'shop'"),
	'the cluster quota example is in place (not enforced here: no etcd_endpoints)');

# Versions named by the documents and the packaging are the control file's.
like(slurp_file("$top/README.md"), qr/pool-governor_\Q$version\E\.0_amd64\.deb/,
	"the README's install line names the package of version $version");
for my $file (@files)
{
	(my $name = $file) =~ s{^\Q$top\E/}{};
	my @other = grep { $_ ne "$version.0" } slurp_file($file) =~ /pool-governor_(\d+\.\d+\.\d+)_/g;
	is("@other", '', "$name names no other package version");
}
like(slurp_file("$top/CHANGELOG.md"), qr/^## \Q$version\E\n/m, "CHANGELOG.md has a section for $version");
my ($first) = slurp_file("$top/CHANGELOG.md") =~ /^## (\S+)/m;
is($first, $version, '  and it is the first');
my ($deb) = slurp_file("$top/debian/changelog") =~ /^pool-governor \(([^)]+)\)/;
is($deb, "$version.0", 'debian/changelog\'s latest entry is the same version');

# The front page stays a front page.
my $lines = () = slurp_file("$top/README.md") =~ /\n/g;
cmp_ok($lines, '<=', 300, "README.md is at most 300 lines ($lines)");

$node->stop;
done_testing();
