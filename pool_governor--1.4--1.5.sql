/* pool_governor--1.4--1.5.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pool_governor UPDATE TO '1.5'" to load this file. \quit

--
-- Per-node budgets.  A row replaces a tenant's max_connections and
-- reserved_connections on the nodes it names: node is 'primary', 'standby'
-- or a node's pool_governor.node_name.  A node's numbers for a tenant come
-- from the row with its name, else the row for its role, else
-- pool_governor.tenants.  The table replicates with the others: every
-- node of a cluster reads the same rows and picks its own.
--
CREATE TABLE pool_governor.node_limits (
	node text NOT NULL,
	tenant text NOT NULL REFERENCES pool_governor.tenants (name)
		ON UPDATE CASCADE ON DELETE CASCADE,
	max_connections int,			-- NULL: no cap on that node
	reserved_connections int NOT NULL DEFAULT 0,
	PRIMARY KEY (node, tenant)
);
COMMENT ON TABLE pool_governor.node_limits IS
	'A tenant''s cap and reserve on the nodes named: ''primary'', ''standby'' or a pool_governor.node_name';
SELECT pg_catalog.pg_extension_config_dump('pool_governor.node_limits', '');

-- Validated with the other tables, after each statement, and applied at
-- commit: the primary's rows (and its own name's) against its capacity; a
-- standby's when the standby loads them.
CREATE TRIGGER validate_and_apply
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pool_governor.node_limits
	FOR EACH STATEMENT EXECUTE FUNCTION pool_governor.config_trigger();

GRANT SELECT ON pool_governor.node_limits TO pg_monitor;

-- This node's numbers for each tenant in each role, and where they come
-- from ('tenants', 'primary', 'standby' or the node's name).
CREATE FUNCTION pool_governor.raw_node_limits(
	OUT tenant text, OUT limits_from text,
	OUT primary_max_connections int, OUT primary_reserved_connections int,
	OUT primary_from text,
	OUT standby_max_connections int, OUT standby_reserved_connections int,
	OUT standby_from text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pgov_node_limits_1_5'
LANGUAGE C VOLATILE STRICT;
REVOKE ALL ON FUNCTION pool_governor.raw_node_limits() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pool_governor.raw_node_limits() TO pg_monitor;

-- This node: its name, the role whose numbers are in force (NULL until
-- the first login after a start has said), since when, and whether it is
-- in recovery now.
CREATE FUNCTION pool_governor.raw_node(
	OUT node_name text, OUT role text, OUT role_since timestamptz,
	OUT in_recovery bool)
RETURNS record
AS 'MODULE_PATHNAME', 'pgov_node_1_5'
LANGUAGE C VOLATILE STRICT;
REVOKE ALL ON FUNCTION pool_governor.raw_node() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pool_governor.raw_node() TO pg_monitor;

CREATE VIEW pool_governor.node_status AS
SELECT * FROM pool_governor.raw_node();

CREATE VIEW pool_governor.node_budgets AS
SELECT * FROM pool_governor.raw_node_limits();

GRANT SELECT ON pool_governor.node_status, pool_governor.node_budgets TO pg_monitor;

-- tenant_status gains, at the end, where the numbers in force on this
-- node come from.
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
	   f.above_cap_since,
	   coalesce(n.limits_from, 'tenants') AS limits_from
FROM pool_governor.raw_tenants() t
	 CROSS JOIN LATERAL (
		 SELECT CASE WHEN coalesce(t.max_connections, pool_governor.capacity()) > 0
					 THEN round(t.connected::numeric /
								coalesce(t.max_connections, pool_governor.capacity()), 3)
				END AS utilization) u
	 LEFT JOIN pool_governor.recent r USING (tenant)
	 LEFT JOIN pool_governor.raw_tenant_share() f USING (tenant)
	 LEFT JOIN pool_governor.raw_node_limits() n USING (tenant)
	 LEFT JOIN (SELECT tenant,
					   count(*) FILTER (WHERE state IN ('active', 'fastpath function call')) AS active,
					   count(*) FILTER (WHERE state = 'idle') AS idle,
					   count(*) FILTER (WHERE state LIKE 'idle in transaction%') AS idle_in_transaction
				FROM pool_governor.sessions
				WHERE state <> 'waiting'
				GROUP BY tenant) s USING (tenant);

