-- Per-node budgets: node_limits rows replace a tenant's cap and reserve on
-- the nodes they name.  This server is a primary without a name
-- (pool_governor.node_name = ''), capacity 97.
\set VERBOSITY default

SELECT name, max_connections, reserved_connections FROM pool_governor.tenants ORDER BY name;
SELECT node_name, role, role_since IS NOT NULL AS since_known, in_recovery
FROM pool_governor.node_status;

-- The founding case: reporting only on the standbys (cap 0 on the
-- primary), the shop smaller on a standby, and a node of its own.
INSERT INTO pool_governor.node_limits (node, tenant, max_connections, reserved_connections)
VALUES ('primary', 'reporting', 0, 0),
	   ('standby', 'shop', 20, 5),
	   ('pg3', 'shop', 10, 2);
SELECT pool_governor.reload() > 0 AS published;
SELECT tenant, max_connections, reserved_connections, limits_from
FROM pool_governor.tenant_status
WHERE tenant IN ('shop', 'reporting', 'inventory') ORDER BY tenant;
-- what this node would enforce as a standby: its role's rows
SELECT * FROM pool_governor.node_budgets
WHERE tenant IN ('shop', 'reporting', 'inventory') ORDER BY tenant;

-- Each row is checked with the loader's words, and nothing changes.
INSERT INTO pool_governor.node_limits VALUES ('standby', 'inventory', -1, 0);
INSERT INTO pool_governor.node_limits VALUES ('standby', 'inventory', 10, -1);
INSERT INTO pool_governor.node_limits VALUES ('standby', 'inventory', 10, 11);
INSERT INTO pool_governor.node_limits VALUES ('', 'inventory', 10, 0);
INSERT INTO pool_governor.node_limits VALUES (repeat('n', 64), 'inventory', 10, 0);
INSERT INTO pool_governor.node_limits VALUES ('standby', 'nobody', 10, 0);
INSERT INTO pool_governor.node_limits VALUES ('standby', 'inventory', 10, NULL);
-- The primary's rows are checked against its capacity: the tenants reserve
-- 20 + 10 (reporting's 0 here), and 68 more is above 97.
UPDATE pool_governor.node_limits SET max_connections = NULL, reserved_connections = 68
WHERE node = 'primary' AND tenant = 'reporting';
-- 67 fits exactly
UPDATE pool_governor.node_limits SET max_connections = NULL, reserved_connections = 67
WHERE node = 'primary' AND tenant = 'reporting';
-- A standby's rows cannot be: its capacity is its own, checked when it
-- loads them (a standby that cannot fit them scales its reserves).
UPDATE pool_governor.node_limits SET max_connections = 500, reserved_connections = 500
WHERE node = 'standby' AND tenant = 'shop';
UPDATE pool_governor.node_limits SET max_connections = 0, reserved_connections = 0
WHERE node = 'primary' AND tenant = 'reporting';
UPDATE pool_governor.node_limits SET max_connections = 20, reserved_connections = 5
WHERE node = 'standby' AND tenant = 'shop';
SELECT node, tenant, max_connections, reserved_connections
FROM pool_governor.node_limits ORDER BY node, tenant;

-- A tenant renamed or removed takes its rows along.
UPDATE pool_governor.tenants SET name = 'webshop' WHERE name = 'shop';
SELECT node, tenant FROM pool_governor.node_limits ORDER BY node, tenant;
UPDATE pool_governor.tenants SET name = 'shop' WHERE name = 'webshop';

-- The node's name cannot be a role's.
ALTER SYSTEM SET pool_governor.node_name = 'primary';
ALTER SYSTEM SET pool_governor.node_name = 'standby';
SET pool_governor.node_name = 'pg3';

-- pg_monitor reads the rows and the budgets; it cannot write them.
SET ROLE pg_monitor;
SELECT count(*) FROM pool_governor.node_limits;
SELECT count(*) > 0 AS some FROM pool_governor.node_budgets;
SELECT node_name, role IS NOT NULL AS decided, in_recovery FROM pool_governor.node_status;
INSERT INTO pool_governor.node_limits VALUES ('standby', 'inventory', 1, 0);
RESET ROLE;

DELETE FROM pool_governor.node_limits;
SELECT pool_governor.reload() > 0 AS published;
SELECT tenant, max_connections, limits_from FROM pool_governor.tenant_status
WHERE tenant = 'reporting';

-- One quota for the cluster (1.7): checked at write time, whether or not
-- pool_governor.etcd_endpoints is set.  A quota is at least 1.
UPDATE pool_governor.tenants SET cluster_max_connections = 0 WHERE name = 'shop';
UPDATE pool_governor.tenants SET cluster_max_connections = -3 WHERE name = 'shop';
-- A floor needs a quota, and a node's name (a role's row would give it to
-- every node in the role).
INSERT INTO pool_governor.node_limits (node, tenant, max_connections, cluster_floor)
VALUES ('pg1', 'shop', 40, 2);
UPDATE pool_governor.tenants SET cluster_max_connections = 10 WHERE name = 'shop';
INSERT INTO pool_governor.node_limits (node, tenant, max_connections, cluster_floor)
VALUES ('standby', 'shop', 40, 2);
INSERT INTO pool_governor.node_limits (node, tenant, max_connections, cluster_floor)
VALUES ('pg1', 'shop', 40, -1);
-- The floors together fit in the quota.
INSERT INTO pool_governor.node_limits (node, tenant, max_connections, cluster_floor)
VALUES ('pg1', 'shop', 40, 4), ('pg2', 'shop', 40, 4), ('pg3', 'shop', 40, 3);
INSERT INTO pool_governor.node_limits (node, tenant, max_connections, cluster_floor)
VALUES ('pg1', 'shop', 40, 4), ('pg2', 'shop', 40, 4), ('pg3', 'shop', 40, 2);
UPDATE pool_governor.tenants SET cluster_max_connections = 9 WHERE name = 'shop';
SELECT node, cluster_floor FROM pool_governor.node_limits ORDER BY node;
-- Without pool_governor.etcd_endpoints nothing asks etcd: the quota is shown,
-- not enforced (this server has no pool_governor.node_name: no floor here).
SELECT pool_governor.reload() > 0 AS published;
SELECT tenant, cluster_max_connections, cluster_floor, granted, allowed,
       cluster_held, lease_expires, etcd_reachable, problem
FROM pool_governor.cluster_status;
ALTER SYSTEM SET pool_governor.cluster_name = 'a/b';
ALTER SYSTEM SET pool_governor.etcd_endpoints = 'etcd1:2379';
SET ROLE pg_monitor;
SELECT count(*) FROM pool_governor.cluster_status;
RESET ROLE;
DELETE FROM pool_governor.node_limits;
UPDATE pool_governor.tenants SET cluster_max_connections = NULL WHERE name = 'shop';
