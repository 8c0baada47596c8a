# Configuration integrity and security (issue 8, rows 1-4 and 7): nothing
# planted in a schema on the search_path runs in the governor, no login role
# can freeze the loader, only committed configuration is enforced, and
# concurrent writers are validated one after the other.
use strict;
use warnings;
use lib 't';

use PgovTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = governed_node('security');
founding_case($node);

# 1. A role with CREATE on public (a database owner, an upgraded cluster)
# plants functions and operators with better-matching signatures than
# pg_catalog's, for everything the governor's SQL used to call; a careless
# DBA even puts public first in the database's search_path.
$node->safe_psql('postgres', q{
CREATE ROLE mallory LOGIN;
GRANT CREATE ON SCHEMA public TO mallory;
ALTER DATABASE postgres SET search_path = public, pg_catalog;
});
my ($ret, $out, $err) = $node->psql('postgres', q{
CREATE TABLE public.pwned (who text, what text);
GRANT INSERT ON public.pwned TO PUBLIC;
CREATE FUNCTION public.escalate(what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO public.pwned VALUES (current_user, what);
	IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
		EXECUTE 'ALTER ROLE mallory SUPERUSER';
	END IF;
END $$;
CREATE FUNCTION public.host(cidr) RETURNS text LANGUAGE plpgsql AS
	$$ BEGIN PERFORM public.escalate('host'); RETURN pg_catalog.host($1::inet); END $$;
CREATE FUNCTION public.masklen(cidr) RETURNS int LANGUAGE plpgsql AS
	$$ BEGIN PERFORM public.escalate('masklen'); RETURN pg_catalog.masklen($1::inet); END $$;
CREATE FUNCTION public.text(cidr) RETURNS text LANGUAGE plpgsql AS
	$$ BEGIN PERFORM public.escalate('text'); RETURN pg_catalog.text($1::inet); END $$;
CREATE FUNCTION public.int8(integer) RETURNS bigint LANGUAGE plpgsql AS
	$$ BEGIN PERFORM public.escalate('int8'); RETURN $1; END $$;
CREATE FUNCTION public.cat(text, text) RETURNS text LANGUAGE plpgsql AS
	$$ BEGIN PERFORM public.escalate('||'); RETURN $1 OPERATOR(pg_catalog.||) $2; END $$;
CREATE OPERATOR public.|| (LEFTARG = text, RIGHTARG = text, FUNCTION = public.cat);
CREATE FUNCTION public.eq(name, text) RETURNS bool LANGUAGE plpgsql AS
	$$ BEGIN PERFORM public.escalate('='); RETURN $1::text OPERATOR(pg_catalog.=) $2; END $$;
CREATE OPERATOR public.= (LEFTARG = name, RIGHTARG = text, FUNCTION = public.eq);
CREATE FUNCTION public.mul(numeric, integer) RETURNS numeric LANGUAGE plpgsql AS
	$$ BEGIN PERFORM public.escalate('*'); RETURN $1 OPERATOR(pg_catalog.*) $2::numeric; END $$;
CREATE OPERATOR public.* (LEFTARG = numeric, RIGHTARG = integer, FUNCTION = public.mul);
}, extra_params => [ '-U', 'mallory' ]);
is($ret, 0, 'mallory plants her functions and operators in public') or diag($err);

# The DBA configures as usual: every column, a CIDR rule, a wait; commits,
# reloads, and the worker re-reads the tables periodically.
my $gen = generation($node);
$node->safe_psql('postgres', q{
INSERT INTO pool_governor.tenants (name, max_connections, max_waiting, wait_timeout)
VALUES ('remote', 5, 2, '3 s');
INSERT INTO pool_governor.rules (tenant, client_addr, application_name) VALUES ('remote', '10.1.0.0/16', 'etl-*');
INSERT INTO pool_governor.rules (tenant, role_name) VALUES ('remote', '+pg_monitor');
SELECT pool_governor.reload();
});
wait_generation_after($node, $gen);
# periodic re-reads and ticks (sessions are reclassified by SQL-free code,
# the tables read by SQL): at least one of each after the publication
wait_worker($node, loads => 2, ticks => 2);
$node->safe_psql('postgres', 'SELECT pool_governor.reload()');
is($node->safe_psql('postgres', 'SELECT count(*) FROM public.pwned'), '0',
	'none of the planted functions or operators ever ran');
is($node->safe_psql('postgres', "SELECT rolsuper FROM pg_roles WHERE rolname = 'mallory'"),
	'f', 'mallory is not a superuser');
is($node->safe_psql('postgres',
		"SELECT max_connections FROM pool_governor.tenant_status WHERE tenant = 'remote'"),
	'5', 'and the configuration was loaded all the same');
$node->safe_psql('postgres', 'ALTER DATABASE postgres RESET search_path');

# 2. Any role that can log in (here one with pg_monitor, which may read the
# tables) holds the advisory lock the loader used to take, and keeps a
# transaction open on the tables: the loader does not care.
$node->safe_psql('postgres', 'CREATE ROLE eve LOGIN IN ROLE pg_monitor');
my $eve = $node->background_psql('postgres', extra_params => [ '-U', 'eve' ]);
$eve->query_safe(q{SELECT pg_advisory_lock(x'706f6f6c676f76'::bigint)});
$eve->query_safe('BEGIN');
$eve->query_safe('SELECT count(*) FROM pool_governor.tenants, pool_governor.rules');
($ret, $out, $err) = $node->psql('postgres',
	'BEGIN; LOCK pool_governor.tenants IN SHARE ROW EXCLUSIVE MODE; COMMIT;',
	extra_params => [ '-U', 'eve' ]);
like($err, qr/permission denied/, 'eve cannot lock the tables against writers');
$gen = generation($node);
$node->safe_psql('postgres',
	"UPDATE pool_governor.tenants SET max_connections = 3, reserved_connections = 0 WHERE name = 'shop'");
wait_generation_after($node, $gen);
($ret, $out) = $node->psql('postgres', 'SELECT pool_governor.reload() > 0', timeout => 60);
is($out, 't', 'reload() answers while eve holds her locks');
my $b = burst($node, 'shop', 4);
is($b->{result}{admitted}, 3, 'and the committed cap of 3 is enforced');
$b->finish;
$eve->quit;

# 3. A change that is rolled back is never enforced, reload() or not.
my $tx = $node->background_psql('postgres', on_error_stop => 0);
$tx->query_safe('BEGIN');
$tx->query_safe("UPDATE pool_governor.tenants SET max_connections = 0 WHERE name = 'shop'");
$tx->query('SELECT pool_governor.reload()');
like($tx->{stderr}, qr/cannot reload the configuration in a transaction that changed it/,
	'reload() is refused in the transaction that changed the tables');
$b = burst($node, 'shop', 4);
is($b->{result}{admitted}, 3, 'while it is open, logins are judged by the committed cap of 3');
$b->finish;
$tx->query('ROLLBACK');
$tx->quit;
$gen = generation($node);
# two periodic re-reads (no reload()): at least one began after the rollback
wait_worker($node, loads => 2);
is(generation($node), $gen, 'nothing is published after the rollback and a periodic re-read');
is(tenant_row($node, 'shop')->{max_connections}, '3', 'shop keeps its committed cap');

# 4. Two transactions each reserve 45 seats; each alone would fit in the
# capacity of 97 beside the 10 reserved already, both together would not.
# The second writer waits for the first and is then refused.
my $t1 = $node->background_psql('postgres', on_error_stop => 0);
my $t2 = $node->background_psql('postgres', on_error_stop => 0);
$t1->query_safe('BEGIN');
$t1->query_safe("INSERT INTO pool_governor.tenants (name, reserved_connections) VALUES ('a', 45)");
$t2->query_safe('BEGIN');
$t2->{stdin} .= "INSERT INTO pool_governor.tenants (name, reserved_connections) VALUES ('b', 45);\n";
$t2->{run}->pump_nb;
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_locks WHERE locktype = 'object' AND NOT granted"),
	'the second writer waits for the first');
$t1->query_safe('COMMIT');
$t2->query('SELECT 1');
like($t2->{stderr}, qr/reserved connections of all tenants exceed the governed capacity/,
	'then sees its rows and is refused');
$t2->query('ROLLBACK');
$t1->quit;
$t2->quit;
is($node->safe_psql('postgres', 'SELECT sum(reserved_connections) FROM pool_governor.tenants'),
	'55', 'the tables hold a valid configuration (10 + 45 reserved)');
$gen = generation($node);
$node->safe_psql('postgres', "INSERT INTO pool_governor.tenants (name) VALUES ('c')");
wait_generation_after($node, $gen);
is($node->safe_psql('postgres', 'SELECT status_reason IS NULL FROM pool_governor.health'),
	't', 'and every later write still loads');
$node->stop;

# 7. The write trigger counts what the loader counts: with max_tenants = 2,
# two tenants and the implicit default tenant do not fit.
my $tiny = governed_node('tiny', conf => "pool_governor.max_tenants = 2\n");
($ret, $out, $err) = $tiny->psql('postgres',
	"INSERT INTO pool_governor.tenants (name) VALUES ('a'), ('b')");
like($err, qr/ERROR:  too many tenants\nDETAIL:  3 tenants would be in use \(counting the default tenant\), but pool_governor.max_tenants is 2\./,
	'two tenants beside the default one are refused at write time');
$gen = generation($tiny);
$tiny->safe_psql('postgres', "INSERT INTO pool_governor.tenants (name) VALUES ('a'), ('default')");
wait_generation_after($tiny, $gen);
is($tiny->safe_psql('postgres', 'SELECT tenants FROM pool_governor.health'), '2',
	'naming the default tenant fits, and the loader agrees');
$tiny->stop;
done_testing();
