/* pool_governor--1.1--1.2.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pool_governor UPDATE TO '1.2'" to load this file. \quit

-- The samples taken after a time: what health and sizing look at, read
-- without copying the rest of the history.
CREATE FUNCTION pool_governor.raw_history_since(since timestamptz,
	OUT sample_time timestamptz, OUT tenant text, OUT connected int,
	OUT active int, OUT idle int, OUT idle_in_transaction int,
	OUT waiting int, OUT admitted int, OUT rejected int)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pgov_history_since_1_2'
LANGUAGE C VOLATILE STRICT;
REVOKE ALL ON FUNCTION pool_governor.raw_history_since(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pool_governor.raw_history_since(timestamptz) TO pg_monitor;

CREATE OR REPLACE VIEW pool_governor.recent AS
SELECT t.tenant,
	   coalesce(h.admitted, 0) AS admitted_1m,
	   coalesce(e.refused, 0) AS rejected_1m,
	   coalesce(e.waits, 0) AS waits_1m
FROM pool_governor.raw_tenants() t
	 LEFT JOIN (SELECT tenant, sum(admitted) AS admitted
				FROM pool_governor.raw_history_since(pg_catalog.now() - pool_governor.health_window())
				GROUP BY tenant) h USING (tenant)
	 LEFT JOIN (SELECT tenant,
					   count(*) FILTER (WHERE event IN ('refused', 'wait timeout')) AS refused,
					   count(*) FILTER (WHERE event IN ('admitted after wait', 'wait timeout',
														'wait abandoned')) AS waits
				FROM pool_governor.raw_events()
				WHERE event_time > pg_catalog.now() - pool_governor.health_window()
				GROUP BY tenant) e USING (tenant);

-- recommend() reads the history of its window once, not all of it once per
-- tenant: with thousands of tenants the sizing view answered in minutes.
CREATE OR REPLACE FUNCTION pool_governor.recommend(
	"window" interval DEFAULT '15 min',
	headroom float8 DEFAULT 0.15,
	app_memory_per_connection_mb int DEFAULT 10,
	app_memory_budget_mb int DEFAULT 400)
RETURNS TABLE (tenant text, max_connections int, samples int, peak_active int,
	p95_active int, p99_active int, peak_connected int, saturation float8,
	pool_saturated bool, recommended_min int, recommended_max int,
	quota_too_small bool, memory_needed_mb int, memory_ok bool, advice text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	-- size_pool() looks at its samples in no particular order
	WITH window_samples AS (
		SELECT h.tenant,
			   array_agg(ROW(h.sample_time, h.tenant, h.connected, h.active, h.idle,
							 h.idle_in_transaction, h.waiting, h.admitted,
							 h.rejected)::pool_governor.history) AS samples
		FROM pool_governor.raw_history_since(now() - "window") h
		GROUP BY h.tenant),
	-- a tenant without samples gets the same answer as any other: ask once
	-- (which also checks the arguments)
	no_samples AS MATERIALIZED (
		SELECT * FROM pool_governor.size_pool('{}', NULL, headroom,
			app_memory_per_connection_mb, app_memory_budget_mb))
	SELECT t.tenant, t.max_connections, s.samples_used, s.peak_active,
		   s.p95_active, s.p99_active, s.peak_connected, round(s.saturation::numeric, 3)::float8,
		   s.pool_saturated, s.recommended_min, s.recommended_max,
		   s.quota_too_small, s.memory_needed_mb, s.memory_ok, s.advice
	FROM pool_governor.raw_tenants() t
		 LEFT JOIN window_samples w ON w.tenant = t.tenant
		 CROSS JOIN LATERAL (
			 SELECT * FROM pool_governor.size_pool(
				 w.samples, t.max_connections, headroom,
				 app_memory_per_connection_mb, app_memory_budget_mb)
			 WHERE w.samples IS NOT NULL
			 UNION ALL
			 SELECT * FROM no_samples WHERE w.samples IS NULL) s
	WHERE t.configured
	ORDER BY t.tenant
$$;

-- How waiters are woken: a released seat wakes only the waiters that can
-- take it (the head of each queue that would be admitted), so requeued, the
-- wake-ups after which the waiter still had to wait, stays small however
-- many logins wait.
CREATE FUNCTION pool_governor.raw_wakeups(
	OUT woken bigint, OUT admitted bigint, OUT requeued bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'pgov_wakeups_1_2'
LANGUAGE C VOLATILE STRICT;

CREATE VIEW pool_governor.wakeups AS
SELECT woken, admitted, requeued FROM pool_governor.raw_wakeups();

REVOKE ALL ON FUNCTION pool_governor.raw_wakeups() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pool_governor.raw_wakeups() TO pg_monitor;
GRANT SELECT ON pool_governor.wakeups TO pg_monitor;
