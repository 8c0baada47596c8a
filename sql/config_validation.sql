-- Writing the configuration: every invalid write is refused with its own
-- error, and changes nothing.
\set VERBOSITY default

-- The founding case (capacity 97).
INSERT INTO pool_governor.tenants (name, max_connections, reserved_connections)
VALUES ('shop', 40, 20), ('inventory', 30, 10), ('reporting', NULL, 0);

-- Negative numbers.
INSERT INTO pool_governor.tenants (name, max_connections) VALUES ('bad', -1);
INSERT INTO pool_governor.tenants (name, reserved_connections) VALUES ('bad', -2);
INSERT INTO pool_governor.tenants (name, max_waiting) VALUES ('bad', -3);
INSERT INTO pool_governor.tenants (name, wait_timeout) VALUES ('bad', '-1 second');

-- Reserved above the tenant's own cap.
UPDATE pool_governor.tenants SET reserved_connections = 41 WHERE name = 'shop';
-- Reserved equal to the cap is fine; so is a cap of 0.
UPDATE pool_governor.tenants SET reserved_connections = 40 WHERE name = 'shop';
UPDATE pool_governor.tenants SET reserved_connections = 20 WHERE name = 'shop';
INSERT INTO pool_governor.tenants (name, max_connections) VALUES ('blocked', 0);

-- Reserved seats of all tenants above the capacity (20 + 10 + 68 > 97).
INSERT INTO pool_governor.tenants (name, reserved_connections) VALUES ('greedy', 68);
-- exactly the capacity is fine
INSERT INTO pool_governor.tenants (name, reserved_connections) VALUES ('greedy', 67);
DELETE FROM pool_governor.tenants WHERE name = 'greedy';

-- Tenant names.
INSERT INTO pool_governor.tenants (name) VALUES ('');
INSERT INTO pool_governor.tenants (name) VALUES (repeat('x', 64));

-- Rules: unknown or missing tenant, malformed glob, bad role and database
-- names.
INSERT INTO pool_governor.rules (tenant, role_name) VALUES ('nobody', 'x');
INSERT INTO pool_governor.rules (tenant, role_name) VALUES (NULL, 'x');
INSERT INTO pool_governor.rules (tenant, application_name) VALUES ('shop', 'shop\');
INSERT INTO pool_governor.rules (tenant, application_name) VALUES ('shop', repeat('a', 64));
INSERT INTO pool_governor.rules (tenant, role_name) VALUES ('shop', '+');
INSERT INTO pool_governor.rules (tenant, role_name) VALUES ('shop', '');
INSERT INTO pool_governor.rules (tenant, database_name) VALUES ('shop', '');
INSERT INTO pool_governor.rules (tenant, client_addr) VALUES ('shop', '10.0.0.1/8');

-- One bad row refuses the whole statement.
INSERT INTO pool_governor.tenants (name, max_connections) VALUES ('ok1', 5), ('bad', -1);
SELECT name, max_connections, reserved_connections, max_waiting, wait_timeout
FROM pool_governor.tenants ORDER BY name;
SELECT count(*) AS rules FROM pool_governor.rules;

-- Valid rules of every kind.
INSERT INTO pool_governor.rules (priority, tenant, role_name) VALUES (10, 'shop', 'shop');
INSERT INTO pool_governor.rules (priority, tenant, role_name) VALUES (20, 'inventory', '+inventory_apps');
INSERT INTO pool_governor.rules (priority, tenant, application_name, database_name)
	VALUES (30, 'reporting', 'report-*', 'contrib_regression');
INSERT INTO pool_governor.rules (priority, tenant, client_addr) VALUES (40, 'reporting', '10.20.0.0/16');
INSERT INTO pool_governor.rules (priority, tenant, client_addr) VALUES (40, 'reporting', '2001:db8::/32');
SELECT priority, tenant, role_name, database_name, application_name, client_addr
FROM pool_governor.rules ORDER BY priority, id;

-- Renaming a tenant carries its rules; deleting it takes them.
UPDATE pool_governor.tenants SET name = 'shop2' WHERE name = 'shop';
SELECT tenant, role_name FROM pool_governor.rules WHERE role_name = 'shop';
UPDATE pool_governor.tenants SET name = 'shop' WHERE name = 'shop2';
DELETE FROM pool_governor.tenants WHERE name = 'blocked';

-- reload() has the worker publish the committed configuration and returns
-- the generation in force; a reload with nothing changed publishes nothing.
SELECT pool_governor.reload() > 0 AS published;
SELECT pool_governor.reload() - pool_governor.reload() AS unchanged_keeps_its_generation;
SELECT tenant, max_connections, reserved_connections, connected
FROM pool_governor.tenant_status ORDER BY tenant;
SELECT tenants, config_generation > 0 AS loaded FROM pool_governor.health;

-- Only committed configuration is ever enforced: reload() is refused in a
-- transaction that changed the tables, even behind disabled triggers...
BEGIN;
ALTER TABLE pool_governor.tenants DISABLE TRIGGER validate_and_apply;
UPDATE pool_governor.tenants SET reserved_connections = 35 WHERE name = 'inventory';
SELECT pool_governor.reload();
ROLLBACK;
-- ... and nothing of that transaction was published.
SELECT tenant, reserved_connections FROM pool_governor.tenant_status WHERE tenant = 'inventory';

-- A malformed configuration committed behind the triggers' back is refused
-- by the loader, and the last good one stays in force.
ALTER TABLE pool_governor.tenants DISABLE TRIGGER validate_and_apply;
UPDATE pool_governor.tenants SET reserved_connections = 35 WHERE name = 'inventory';
ALTER TABLE pool_governor.tenants ENABLE TRIGGER validate_and_apply;
\set VERBOSITY terse
SELECT pool_governor.reload();
\set VERBOSITY default
SELECT tenant, reserved_connections FROM pool_governor.tenant_status WHERE tenant = 'inventory';
SELECT event, detail FROM pool_governor.events WHERE event = 'config refused';
SELECT status, status_reason FROM pool_governor.health;
-- Put right, it loads again and health forgets the problem.
UPDATE pool_governor.tenants SET reserved_connections = 10 WHERE name = 'inventory';
SELECT pool_governor.reload() > 0 AS published;
SELECT status, status_reason FROM pool_governor.health;

-- Bounds: a wait that would outlast authentication_timeout (1 min here),
-- however it is written, and a pattern no client can ever send.
UPDATE pool_governor.tenants SET wait_timeout = '178000000 years' WHERE name = 'shop';
UPDATE pool_governor.tenants SET wait_timeout = '61 s' WHERE name = 'shop';
UPDATE pool_governor.tenants SET wait_timeout = '1 min' WHERE name = 'shop';
-- a wait shorter than the governor counts would silently mean none
UPDATE pool_governor.tenants SET wait_timeout = '0.5 ms' WHERE name = 'shop';
UPDATE pool_governor.tenants SET wait_timeout = '1 ms' WHERE name = 'shop';
UPDATE pool_governor.tenants SET wait_timeout = '0' WHERE name = 'shop';
INSERT INTO pool_governor.rules (tenant, application_name) VALUES ('shop', 'café*');

-- A rule by application_name alone into a tenant with reserved seats is
-- allowed, with a warning: any role can send that name.
INSERT INTO pool_governor.rules (priority, tenant, application_name) VALUES (90, 'shop', 'shop-web*');
DELETE FROM pool_governor.rules WHERE application_name = 'shop-web*';

-- Fair share and drain: a weight from 1 to 1000, a known drain, a grace
-- from 0 to 7 days (not less than a microsecond below zero, not a grace too
-- long to compare); each refused with the loader's words, nothing changed.
UPDATE pool_governor.tenants SET weight = 0 WHERE name = 'shop';
UPDATE pool_governor.tenants SET weight = 1001 WHERE name = 'shop';
UPDATE pool_governor.tenants SET drain = 'kill' WHERE name = 'shop';
UPDATE pool_governor.tenants SET drain_grace = '-1 s' WHERE name = 'shop';
UPDATE pool_governor.tenants SET drain_grace = '-1 us' WHERE name = 'shop';
UPDATE pool_governor.tenants SET drain_grace = '7 days 1 ms' WHERE name = 'shop';
UPDATE pool_governor.tenants SET drain_grace = '1000000 years' WHERE name = 'shop';
UPDATE pool_governor.tenants SET wait_timeout = '-1 us' WHERE name = 'shop';
-- the refusal code: 53300 or 57P03, nothing else
UPDATE pool_governor.tenants SET refusal_sqlstate = '08006' WHERE name = 'shop';
UPDATE pool_governor.tenants SET refusal_sqlstate = '57p03' WHERE name = 'shop';
UPDATE pool_governor.tenants SET refusal_sqlstate = '57P03' WHERE name = 'shop';
SELECT pool_governor.reload() > 0 AS published;
SELECT tenant, refusal_sqlstate FROM pool_governor.tenant_status WHERE tenant = 'shop';
UPDATE pool_governor.tenants SET refusal_sqlstate = DEFAULT WHERE name = 'shop';
SELECT tenant, weight, drain, drain_grace, drained FROM pool_governor.tenant_status
WHERE tenant = 'shop';
-- the founding case's shop weighs 3 against reporting's 1, and is drained
UPDATE pool_governor.tenants SET weight = 3, drain = 'idle', drain_grace = '10 s'
WHERE name = 'shop';
SELECT pool_governor.reload() > 0 AS published;
SELECT tenant, weight, drain, drain_grace, drained, above_cap_since FROM pool_governor.tenant_status
WHERE tenant IN ('shop', 'reporting') ORDER BY tenant;
UPDATE pool_governor.tenants SET weight = 1, drain = 'natural', drain_grace = '30 s'
WHERE name = 'shop';
