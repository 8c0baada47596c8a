/* pool_governor--1.3--1.4.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pool_governor UPDATE TO '1.4'" to load this file. \quit

-- Fair share and drain.  weight: when logins of several tenants wait for
-- the shared seats (those above the reserves), a free one goes to the
-- tenant holding the fewest shared seats per weight.  drain: what happens
-- to a tenant's sessions above its cap ('natural': they end when their
-- clients disconnect; 'idle': the worker ends idle ones, the longest idle
-- first, once the tenant has been above its cap for drain_grace).  The
-- values are checked by the validation trigger, with the loader's words.
ALTER TABLE pool_governor.tenants
	ADD COLUMN weight int NOT NULL DEFAULT 1,
	ADD COLUMN drain text NOT NULL DEFAULT 'natural',
	ADD COLUMN drain_grace interval NOT NULL DEFAULT '30 s';

CREATE FUNCTION pool_governor.raw_tenant_share(
	OUT tenant text, OUT weight int, OUT drain text, OUT drain_grace_ms bigint,
	OUT drained bigint, OUT above_cap_since timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pgov_share_1_4'
LANGUAGE C VOLATILE STRICT;
REVOKE ALL ON FUNCTION pool_governor.raw_tenant_share() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pool_governor.raw_tenant_share() TO pg_monitor;

-- tenant_status gains, at the end: the weight, drain and drain_grace in
-- force, the sessions the drain ended, and since when the tenant is above
-- its cap.
CREATE OR REPLACE VIEW pool_governor.tenant_status AS
SELECT t.tenant,
	   t.max_connections,
	   t.reserved_connections,
	   t.connected,
	   coalesce(s.active, 0) AS active,
	   coalesce(s.idle, 0) AS idle,
	   coalesce(s.idle_in_transaction, 0) AS idle_in_transaction,
	   t.waiting,
	   t.peak_connected,
	   t.peak_at,
	   t.admitted,
	   t.rejected,
	   t.would_reject,
	   t.waited,
	   t.wait_timeouts,
	   CASE WHEN t.waited > 0
			THEN round((t.wait_ms_total / t.waited)::numeric, 1) END AS avg_wait_ms,
	   round(t.wait_ms_max::numeric, 1) AS max_wait_ms,
	   u.utilization,
	   CASE
		   WHEN r.rejected_1m > 0.001 * (r.admitted_1m + r.rejected_1m)
				OR (t.max_connections IS NOT NULL AND t.connected >= t.max_connections
					AND t.waiting > 0)
			   THEN 'critical'
		   WHEN u.utilization >= 0.8 OR r.waits_1m > 0 OR t.waiting > 0
			   THEN 'warning'
		   ELSE 'ok'
	   END AS health,
	   t.stats_reset,
	   t.configured,
	   coalesce(f.weight, 1) AS weight,
	   coalesce(f.drain, 'natural') AS drain,
	   pg_catalog.make_interval(secs => coalesce(f.drain_grace_ms, 30000) / 1000.0) AS drain_grace,
	   coalesce(f.drained, 0) AS drained,
	   f.above_cap_since
FROM pool_governor.raw_tenants() t
	 CROSS JOIN LATERAL (
		 SELECT CASE WHEN coalesce(t.max_connections, pool_governor.capacity()) > 0
					 THEN round(t.connected::numeric /
								coalesce(t.max_connections, pool_governor.capacity()), 3)
				END AS utilization) u
	 LEFT JOIN pool_governor.recent r USING (tenant)
	 LEFT JOIN pool_governor.raw_tenant_share() f USING (tenant)
	 LEFT JOIN (SELECT tenant,
					   count(*) FILTER (WHERE state IN ('active', 'fastpath function call')) AS active,
					   count(*) FILTER (WHERE state = 'idle') AS idle,
					   count(*) FILTER (WHERE state LIKE 'idle in transaction%') AS idle_in_transaction
				FROM pool_governor.sessions
				WHERE state <> 'waiting'
				GROUP BY tenant) s USING (tenant);
