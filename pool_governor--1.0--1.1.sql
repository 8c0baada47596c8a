/* pool_governor--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pool_governor UPDATE TO '1.1'" to load this file. \quit

-- The C functions that read the configuration tables run the same way
-- whoever calls them: no name is resolved through a schema a user can
-- create objects in (CVE-2018-1058).
ALTER FUNCTION pool_governor.config_trigger() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION pool_governor.reload() SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION pool_governor.reload() IS
	'Has the worker apply the committed configuration now; returns the generation in force';

-- raw_state gains the seats non-superusers can have, the reserved seats
-- nobody sits in, and why health is not ok; health shows them.
DROP VIEW pool_governor.health;
DROP FUNCTION pool_governor.raw_state();

CREATE FUNCTION pool_governor.raw_state(
	OUT mode text, OUT capacity int, OUT server_max_connections int,
	OUT sum_held int, OUT exempt_connected int, OUT unclassified int,
	OUT rejected bigint, OUT tenants int, OUT config_generation bigint,
	OUT config_loaded_at timestamptz, OUT worker_pid int, OUT event_log_size int,
	OUT slot_limit int, OUT reserved_unused int, OUT problem_level text,
	OUT problem text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pgov_state_1_1'
LANGUAGE C VOLATILE STRICT;

-- capacity is the governed seats in force: pool_governor.capacity, less one
-- for every exempt session (a superuser) in an ordinary connection slot.
-- status is the worst of the tenants' health and the governor's own
-- problem, which status_reason explains (NULL when there is none).
CREATE VIEW pool_governor.health AS
SELECT CASE greatest(
			coalesce((SELECT max(CASE health WHEN 'critical' THEN 2
											 WHEN 'warning' THEN 1 ELSE 0 END)
					  FROM pool_governor.tenant_status), 0),
			CASE st.problem_level WHEN 'critical' THEN 2
								  WHEN 'warning' THEN 1 ELSE 0 END)
		   WHEN 2 THEN 'critical' WHEN 1 THEN 'warning' ELSE 'ok' END AS status,
	   st.mode,
	   st.capacity,
	   st.server_max_connections,
	   (SELECT coalesce(sum(connected), 0)::int FROM pool_governor.raw_tenants()) AS connected,
	   st.exempt_connected,
	   st.reserved_unused,
	   greatest(st.capacity - st.sum_held, 0) AS shared_free,
	   (SELECT coalesce(sum(waiting), 0)::int FROM pool_governor.raw_tenants()) AS waiting,
	   st.rejected,
	   st.tenants,
	   st.config_generation,
	   st.config_loaded_at,
	   st.worker_pid,
	   st.problem AS status_reason
FROM pool_governor.raw_state() st;

REVOKE ALL ON FUNCTION pool_governor.raw_state() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pool_governor.raw_state() TO pg_monitor;
GRANT SELECT ON pool_governor.health TO pg_monitor;
