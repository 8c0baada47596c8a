/* pool_governor--1.2--1.3.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pool_governor UPDATE TO '1.3'" to load this file. \quit

-- Each tenant's logins over the health window, from its own counters in
-- shared memory: exact for every tenant, with or without a history ring,
-- and unaffected by any other tenant's traffic (the event ring is shared
-- and bounded: a noisy neighbour's refusals pushed a quiet tenant's out of
-- it, and its health from critical to warning).
CREATE FUNCTION pool_governor.raw_recent(
	OUT tenant text, OUT admitted bigint, OUT rejected bigint, OUT waits bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pgov_recent_1_3'
LANGUAGE C VOLATILE STRICT;
-- raw functions are the views' plumbing: pg_monitor's, not PUBLIC's
REVOKE ALL ON FUNCTION pool_governor.raw_recent() FROM PUBLIC;

-- The columns keep their names (tenant_status and health are built on
-- them); they cover pool_governor.health_window, whatever its length.
CREATE OR REPLACE VIEW pool_governor.recent AS
SELECT tenant,
	   admitted AS admitted_1m,
	   rejected AS rejected_1m,
	   waits AS waits_1m
FROM pool_governor.raw_recent();

-- A rule without a tenant is a not-null violation, said by the column's
-- constraint, not "tenant "<NULL>" does not exist".
CREATE OR REPLACE FUNCTION pool_governor.check_rule_tenant() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NEW.tenant IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pool_governor.tenants WHERE name = NEW.tenant) THEN
		RAISE EXCEPTION 'tenant "%" does not exist', NEW.tenant
			USING ERRCODE = 'foreign_key_violation',
				  DETAIL = format('Rule %s places logins in it.', NEW.id),
				  HINT = 'Add the tenant to pool_governor.tenants first.';
	END IF;
	RETURN NEW;
END
$$;

-- Is the worker alive and doing its work?  ticks counts its periodic passes
-- (reconcile, sessions, history: every sample_interval), loads its reads of
-- the tables (after each commit, reload(), and every 5 s).  Both start
-- again from 0 when the server restarts.
CREATE FUNCTION pool_governor.raw_worker(OUT pid int, OUT ticks bigint, OUT loads bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'pgov_worker_1_3'
LANGUAGE C VOLATILE STRICT;

CREATE VIEW pool_governor.worker AS
SELECT pid, ticks, loads FROM pool_governor.raw_worker();

REVOKE ALL ON FUNCTION pool_governor.raw_worker() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pool_governor.raw_worker() TO pg_monitor;
GRANT EXECUTE ON FUNCTION pool_governor.raw_recent() TO pg_monitor;
-- pg_monitor reads the worker's progress, as it reads health
GRANT SELECT ON pool_governor.worker TO pg_monitor;
