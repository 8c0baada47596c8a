# Monitoring where DBAs look (monitoring/): the real postgres_exporter with
# our queries, scraped with curl, exact values; promtool on the alert rules
# and their unit tests; a short-lived Prometheus scraping the exporter, where
# the refusal alert is seen firing; the Grafana dashboard's expressions all
# name metrics the exporter serves; the sql_exporter collector's queries run
# as a pg_monitor role.  Everything listens on 127.0.0.1 and is stopped at
# the end.
use strict;
use warnings;
use lib 't';

use IPC::Run;
use JSON::PP;
use PgovTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $exporter = '/usr/bin/prometheus-postgres-exporter';
for my $prog ($exporter, '/usr/bin/prometheus', '/usr/bin/promtool', '/usr/bin/curl')
{
	plan skip_all => "$prog is not installed (scripts/setup installs it)" unless -x $prog;
}
my $dir = $ENV{TESTDIR} // '.';
my $mon = "$dir/monitoring";

# The rules, and their unit tests, with the real promtool.
my ($out, $err);
IPC::Run::run([ 'promtool', 'check', 'rules', "$mon/alerts.yml" ], '>', \$out, '2>', \$err);
like($out . $err, qr/SUCCESS: 6 rules found/, 'promtool check rules: 6 rules');
IPC::Run::run([ 'promtool', 'test', 'rules', "$mon/alerts_test.yml" ], '>', \$out, '2>', \$err);
like($out . $err, qr/SUCCESS/, 'promtool test rules: every alert fires where it should, and only there')
  or diag($out . $err);

# A governed server with shop driven to its cap and refused twice.
my $node = governed_node('monitoring');
founding_case($node);
$node->safe_psql('postgres', 'CREATE ROLE pgov_monitor LOGIN IN ROLE pg_monitor');
write_config($node, "UPDATE pool_governor.tenants SET weight = 3 WHERE name = 'shop';");
# a cluster quota, shown and exported (not enforced: no etcd_endpoints)
write_config($node, "UPDATE pool_governor.tenants SET cluster_max_connections = 120 WHERE name = 'shop';");
my $shop = burst($node, 'shop', 42);
is($shop->{result}{refused}, 2, 'shop holds its 40 seats and is refused twice');

# the exporter and Prometheus stop however the test ends
my ($exp, $prom);
END
{
	local $?;					# the test's exit status, not the helpers'
	$prom->kill_kill if $prom;
	$exp->kill_kill if $exp;
}

my $tmp = PostgreSQL::Test::Utils::tempdir;
my $export_port = PostgreSQL::Test::Cluster::get_free_port();
$exp = IPC::Run::start(
	[
		$exporter, "--web.listen-address=127.0.0.1:$export_port",
		"--extend.query-path=$mon/postgres_exporter.yml",
		'--disable-default-metrics', '--disable-settings-metrics',
		'--no-collector.database', '--no-collector.bgwriter'
	],
	'>', "$tmp/exporter.log", '2>&1',
	init => sub {
		$ENV{DATA_SOURCE_NAME} =
		  "postgresql://pgov_monitor\@127.0.0.1:" . $node->port . "/postgres?sslmode=disable";
	});

sub scrape
{
	my $body = '';
	for (1 .. 100)
	{
		IPC::Run::run([ 'curl', '-sf', "http://127.0.0.1:$export_port/metrics" ],
			'>', \$body, '2>', \my $e);
		# postgres_exporter labels every custom metric with the server
		$body =~ s/server="[^"]*",?//g;
		$body =~ s/,?\}/}/g;
		$body =~ s/\{\}//g;
		return $body if $body =~ /^pool_governor_capacity /m;
		usleep(100_000);
	}
	die "no pool_governor metrics from the exporter:\n$body\n" . slurp_file("$tmp/exporter.log");
}
sub metric
{
	my ($body, $name) = @_;
	return $body =~ /^\Q$name\E (\S+)$/m ? $1 : undef;
}
my $body = scrape();
# the exporter's own session is not a superuser's: it is governed, in default
is(metric($body, 'pool_governor_tenant_connected{tenant="shop"}'), '40', 'shop: 40 connected');
is(metric($body, 'pool_governor_tenant_max_connections{tenant="shop"}'), '40', 'shop: cap 40');
is(metric($body, 'pool_governor_cluster_quota{tenant="shop"}') . ' ' . metric($body, 'pool_governor_cluster_allowed{tenant="shop"}')
	  . ' ' . metric($body, 'pool_governor_cluster_etcd_reachable{tenant="shop"}'),
	'120 40 0', 'shop: a cluster quota of 120, 40 allowed here (its own cap: no etcd), etcd not reached');
is(metric($body, 'pool_governor_tenant_reserved_connections{tenant="shop"}'), '20', 'shop: 20 reserved');
is(metric($body, 'pool_governor_tenant_admitted_total{tenant="shop"}'), '40', 'shop: 40 admitted (a counter)');
is(metric($body, 'pool_governor_tenant_rejected_total{tenant="shop"}'), '2', 'shop: 2 refused (a counter)');
is(metric($body, 'pool_governor_tenant_utilization{tenant="shop"}'), '1', 'shop: utilization 1');
is(metric($body, 'pool_governor_tenant_health{tenant="shop"}'), '2', 'shop: critical (refusals over 0.1%)');
is(metric($body, 'pool_governor_tenant_weight{tenant="shop"}'), '3', 'shop: weight 3');
is(metric($body, 'pool_governor_tenant_drained_total{tenant="shop"}'), '0', 'shop: no session drained (a counter)');
is(metric($body, 'pool_governor_tenant_max_connections{tenant="reporting"}'), '-1', 'reporting: no cap is -1');
is(metric($body, 'pool_governor_tenant_connected{tenant="default"}'), '1', "default: the exporter's own session");
is(metric($body, 'pool_governor_capacity'), '97', 'capacity 97');
is(metric($body, 'pool_governor_reserved_unused'), '10', "inventory's 10 reserved seats are unused");
is(metric($body, 'pool_governor_shared_free'), '46',
	'46 shared seats free (97 - 40 shop - 10 reserved for inventory - 1 exporter)');
is(metric($body, 'pool_governor_worker_up'), '1', 'the worker is up');
is(metric($body, 'pool_governor_config_problem'), '0', 'no configuration problem');
like($body, qr/^# TYPE pool_governor_tenant_rejected_total counter$/m, '_total metrics are counters');
note(join "\n", grep { /^pool_governor_tenant_\w+\{tenant="shop"\}/ } split /\n/, $body);

# The dashboard: valid JSON with a Prometheus datasource variable, and every
# metric its panels query is one the exporter serves.
my %served = map { /^(pool_governor_\w+)/ ? ($1 => 1) : () } split /\n/, $body;
my $dash = eval { decode_json(slurp_file("$mon/grafana-dashboard.json")) };
ok($dash, 'the dashboard is valid JSON') or diag($@);
my ($dsvar) = grep { $_->{type} eq 'datasource' && $_->{query} eq 'prometheus' }
  @{ $dash->{templating}{list} };
ok($dsvar, 'with a Prometheus datasource variable');
my @exprs = map { map { $_->{expr} } @{ $_->{targets} // [] } } @{ $dash->{panels} };
cmp_ok(scalar @exprs, '>=', 8, scalar(@exprs) . ' panel queries');
my @unknown = grep { !$served{$_} } map { /(pool_governor_\w+?)(?:\{|\[|\)|\s|$)/g } @exprs;
is_deeply(\@unknown, [], 'every metric the dashboard queries is served by the exporter');

# The sql_exporter collector: the same queries, runnable by a pg_monitor role.
my $collector = slurp_file("$mon/sql_exporter.collector.yml");
my @queries = $collector =~ /    query: \|\n((?:      .*\n)+)/g;
is(scalar @queries, 3, 'the collector has the 3 queries');
for my $q (@queries)
{
	my ($ret, $o, $e) = $node->psql('postgres', $q, extra_params => [ '-U', 'pgov_monitor' ]);
	is($ret, 0, 'a collector query runs as a pg_monitor role') or diag($e);
}
my @names = $collector =~ /metric_name: (\w+)/g;
my @missing = grep { !$served{$_} } @names;
is_deeply(\@missing, [], 'the collector names the same ' . scalar(@names) . ' metrics as the exporter');

# A short-lived Prometheus scrapes the exporter every second; a new refusal
# makes the refusal alert fire (its "for" is set to 0 here: promtool's unit
# tests above check the real durations).
my $rules = slurp_file("$mon/alerts.yml");
$rules =~ s/for: \d+m/for: 0s/g;
PostgreSQL::Test::Utils::append_to_file("$tmp/alerts.yml", $rules);
my $prom_port = PostgreSQL::Test::Cluster::get_free_port();
PostgreSQL::Test::Utils::append_to_file("$tmp/prometheus.yml", qq{
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $tmp/alerts.yml
scrape_configs:
  - job_name: pool_governor
    static_configs:
      - targets: ['127.0.0.1:$export_port']
});
$prom = IPC::Run::start(
	[
		'prometheus', "--config.file=$tmp/prometheus.yml",
		"--storage.tsdb.path=$tmp/tsdb", "--web.listen-address=127.0.0.1:$prom_port"
	],
	'>', "$tmp/prometheus.log", '2>&1');
sub prom_get
{
	my ($path) = @_;
	my $json = '';
	IPC::Run::run([ 'curl', '-sf', "http://127.0.0.1:$prom_port$path" ], '>', \$json, '2>', \my $e);
	return $json ? eval { decode_json($json) } : undef;
}
my $scraped = 0;
for (1 .. 600)
{
	my $r = prom_get('/api/v1/query?query=pool_governor_tenant_rejected_total');
	if ($r && $r->{status} eq 'success' && @{ $r->{data}{result} })
	{
		$scraped = 1;
		last;
	}
	usleep(100_000);
}
ok($scraped, 'Prometheus scrapes the exporter') or diag(slurp_file("$tmp/prometheus.log"));
# the alert looks at the counter's increase: Prometheus must hold a sample
# of it from before the next refusal, so wait for two scrapes of it
my $samples = 0;
for (1 .. 600)
{
	my $r = prom_get('/api/v1/query?query=count_over_time(pool_governor_tenant_rejected_total%7Btenant%3D%22shop%22%7D%5B1m%5D)');
	$samples = $r->{data}{result}[0]{value}[1] // 0 if $r && $r->{status} eq 'success';
	last if $samples >= 2;
	usleep(100_000);
}
cmp_ok($samples, '>=', 2, 'Prometheus holds two samples of shop\'s refusals before the next one');
my $more = $shop->cmd('open 1');
is($more->{refused}, 1, 'shop is refused once more');
my $firing;
for (1 .. 600)
{
	my $r = prom_get('/api/v1/alerts');
	($firing) = grep {
		     $_->{labels}{alertname} eq 'PoolGovernorTenantRefusingLogins'
		  && $_->{labels}{tenant} eq 'shop'
		  && $_->{state} eq 'firing'
	} @{ $r->{data}{alerts} // [] } if $r;
	last if $firing;
	usleep(100_000);
}
ok($firing, 'the refusal alert fires for shop in Prometheus');
is($firing->{labels}{severity}, 'critical', 'as critical') if $firing;
$shop->finish;
$node->stop;
done_testing();
