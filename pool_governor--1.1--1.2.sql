/* pool_governor--1.1--1.2.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pool_governor UPDATE TO '1.2'" to load this file. \quit

-- recommend() reads the history once, not once per tenant: with thousands
-- of tenants the sizing view answered in minutes.
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
	WITH window_samples AS (
		SELECT h.tenant, array_agg(h ORDER BY h.sample_time) AS samples
		FROM pool_governor.history h
		WHERE h.sample_time > now() - "window"
		GROUP BY h.tenant)
	SELECT t.tenant, t.max_connections, s.samples_used, s.peak_active,
		   s.p95_active, s.p99_active, s.peak_connected, round(s.saturation::numeric, 3)::float8,
		   s.pool_saturated, s.recommended_min, s.recommended_max,
		   s.quota_too_small, s.memory_needed_mb, s.memory_ok, s.advice
	FROM pool_governor.raw_tenants() t
		 LEFT JOIN window_samples w ON w.tenant = t.tenant
		 CROSS JOIN LATERAL pool_governor.size_pool(
			 coalesce(w.samples, '{}'), t.max_connections, headroom,
			 app_memory_per_connection_mb, app_memory_budget_mb) s
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
