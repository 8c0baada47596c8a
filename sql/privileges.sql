-- Who may read and who may change: PUBLIC changes nothing, pg_monitor reads.
\set VERBOSITY terse
CREATE ROLE regress_pgov_user LOGIN;
CREATE ROLE regress_pgov_monitor LOGIN IN ROLE pg_monitor;

SET ROLE regress_pgov_user;
SELECT * FROM pool_governor.tenant_status;
SELECT * FROM pool_governor.health;
SELECT * FROM pool_governor.wakeups;
SELECT * FROM pool_governor.worker;
SELECT * FROM pool_governor.recent;
INSERT INTO pool_governor.tenants (name) VALUES ('regress_x');
SELECT pool_governor.reload();
SELECT pool_governor.reset_stats();
RESET ROLE;

SET ROLE regress_pgov_monitor;
SELECT count(*) > 0 AS can_read FROM pool_governor.tenant_status;
SELECT status IS NOT NULL AS can_read FROM pool_governor.health;
SELECT count(*) >= 0 AS can_read FROM pool_governor.sessions;
SELECT count(*) >= 0 AS can_read FROM pool_governor.events;
SELECT count(*) >= 0 AS can_read FROM pool_governor.history;
SELECT logins >= 0 AS can_read FROM pool_governor.admission_timing;
SELECT count(*) > 0 AS can_read FROM pool_governor.sizing;
SELECT woken >= 0 AND requeued >= 0 AS can_read FROM pool_governor.wakeups;
SELECT ticks >= 0 AND loads >= 0 AS can_read FROM pool_governor.worker;
SELECT count(*) > 0 AS can_read FROM pool_governor.recent;
SELECT count(*) > 0 AS can_read FROM pool_governor.tenants;
SELECT count(*) > 0 AS can_read FROM pool_governor.rules;
INSERT INTO pool_governor.tenants (name) VALUES ('regress_x');
UPDATE pool_governor.tenants SET max_connections = 1;
DELETE FROM pool_governor.rules;
SELECT pool_governor.reload();
SELECT pool_governor.reset_stats();
SELECT pool_governor.reset_stats('shop');
RESET ROLE;

-- PUBLIC executes only the pure arithmetic of the pool advice; every
-- function that reads the governor is pg_monitor's or the owner's (1.7)
SELECT p.proname
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'pool_governor'
  AND has_function_privilege('regress_pgov_user', p.oid, 'EXECUTE')
ORDER BY 1;
SET ROLE regress_pgov_user;
SELECT * FROM pool_governor.pool_config('shop');
SELECT pool_governor.capacity();
RESET ROLE;
SET ROLE regress_pgov_monitor;
SELECT count(*) > 0 AS can_read FROM pool_governor.pool_config('shop');
SELECT pool_governor.capacity() > 0 AS can_read;
SELECT count(*) >= 0 AS can_read FROM pool_governor.node_limits;
SELECT count(*) >= 0 AS can_read FROM pool_governor.node_status;
SELECT count(*) >= 0 AS can_read FROM pool_governor.node_budgets;
INSERT INTO pool_governor.node_limits (node, tenant) VALUES ('primary', 'shop');
RESET ROLE;
SET ROLE regress_pgov_user;
SELECT count(*) FROM pool_governor.node_limits;
SELECT count(*) FROM pool_governor.node_status;
RESET ROLE;

-- The configuration is unchanged.
SELECT name, max_connections FROM pool_governor.tenants ORDER BY name;

DROP ROLE regress_pgov_user;
DROP ROLE regress_pgov_monitor;
