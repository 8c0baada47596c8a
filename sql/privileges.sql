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

-- The configuration is unchanged.
SELECT name, max_connections FROM pool_governor.tenants ORDER BY name;

DROP ROLE regress_pgov_user;
DROP ROLE regress_pgov_monitor;
