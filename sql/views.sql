-- The views' columns are a contract: tests and users rely on their names.
\set VERBOSITY terse
SELECT table_name, string_agg(column_name, ', ' ORDER BY ordinal_position) AS columns
FROM information_schema.columns
WHERE table_schema = 'pool_governor'
  AND table_name IN ('tenant_status', 'health', 'sessions', 'events', 'history')
GROUP BY table_name ORDER BY table_name;
-- and their types (1.6 made tenant_status and health C functions: the
-- upgrade's CREATE OR REPLACE VIEW would refuse a changed type)
SELECT table_name, string_agg(data_type, ', ' ORDER BY ordinal_position) AS types
FROM information_schema.columns
WHERE table_schema = 'pool_governor' AND table_name IN ('tenant_status', 'health')
GROUP BY table_name ORDER BY table_name;

-- This session is a superuser's: counted apart, not in sessions.  It holds
-- one of the max_connections slots ordinary roles can use (100 less 3 for
-- superuser_reserved_connections), so the governed capacity in force is one
-- seat less for each such session.
SELECT exempt_connected >= 1 AS superuser_counted_apart, mode,
	   capacity = 97 - exempt_connected AS each_superuser_session_takes_a_seat,
	   server_max_connections, status, status_reason
FROM pool_governor.health;
SELECT count(*) AS governed_sessions FROM pool_governor.sessions;

-- The default tenant exists even when the table does not name it.
SELECT tenant, max_connections, reserved_connections, health
FROM pool_governor.tenant_status WHERE tenant = 'default';

-- reset_stats: one tenant, all tenants, an unknown tenant.
SELECT pool_governor.reset_stats('shop');
SELECT pool_governor.reset_stats();
SELECT pool_governor.reset_stats('nobody');
SELECT tenant, admitted, rejected, would_reject, stats_reset IS NOT NULL AS reset
FROM pool_governor.tenant_status ORDER BY tenant;
