-- Installing the extension, and where it may not be installed.
\set VERBOSITY terse
CREATE EXTENSION pool_governor;
SELECT extname, extversion, extrelocatable, nspname
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
WHERE extname = 'pool_governor';

-- Only in pool_governor.database: tables elsewhere would be ignored.
SHOW pool_governor.database;
CREATE DATABASE regress_pgov_other;
\c regress_pgov_other
\set VERBOSITY default
-- the message, DETAIL and HINT; not the script's text (PostgreSQL 18 adds it)
\set SHOW_CONTEXT never
CREATE EXTENSION pool_governor;
\c contrib_regression
\set VERBOSITY terse
DROP DATABASE regress_pgov_other;

-- Settings: defaults, and the ones fixed at server start.
SELECT name, setting, unit, context
FROM pg_settings WHERE name LIKE 'pool_governor.%' ORDER BY name;
SET pool_governor.max_tenants = 5;
SET pool_governor.mode = 'monitor';
ALTER SYSTEM SET pool_governor.mode = 'sometimes';
SET pool_governor.no_such_setting = 1;
ALTER SYSTEM SET pool_governor.default_tenant = '';

-- The governed capacity: max_connections - superuser_reserved_connections.
SELECT pool_governor.capacity();
