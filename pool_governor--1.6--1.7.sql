/* pool_governor--1.6--1.7.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pool_governor UPDATE TO '1.7'" to load this file. \quit

--
-- One quota for the whole cluster (pool_governor.etcd_endpoints): a
-- tenant's cluster_max_connections (NULL: none) holds over every node of
-- the cluster, with grants kept in etcd under each node's lease; a named
-- node's cluster_floor is the seats it may use without asking.  The loader
-- checks them at write time (a quota of at least 1; floors only on rows
-- naming a node, of tenants with a quota, at most the quota together).
--
ALTER TABLE pool_governor.tenants ADD COLUMN cluster_max_connections int;
ALTER TABLE pool_governor.node_limits ADD COLUMN cluster_floor int NOT NULL DEFAULT 0;

CREATE FUNCTION pool_governor.raw_cluster_status(
	OUT tenant text, OUT cluster_max_connections int, OUT cluster_floor int,
	OUT granted int, OUT allowed int, OUT cluster_held int,
	OUT lease_expires timestamptz, OUT last_renewal timestamptz,
	OUT etcd_reachable bool, OUT problem text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pgov_cluster_status_1_7'
LANGUAGE C VOLATILE STRICT;
REVOKE ALL ON FUNCTION pool_governor.raw_cluster_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pool_governor.raw_cluster_status() TO pg_monitor;

-- A row per tenant with a cluster quota: this node's floor and grant, what
-- they allow here now, what the cluster holds as etcd last said, the lease.
CREATE VIEW pool_governor.cluster_status AS
SELECT * FROM pool_governor.raw_cluster_status();
GRANT SELECT ON pool_governor.cluster_status TO pg_monitor;

--
-- Several PgBouncers on one tenant.  pool_config(t, 'pgbouncer', N) for
-- N > 1 gave each PgBouncer a pool of cap / N: a PgBouncer whose clients
-- wanted more waited while another's seats stood idle.  Now each may open
-- up to the tenant's whole demand; the governor keeps their sum at the cap,
-- a server login beyond it waits for a seat, and each PgBouncer gives its
-- idle seats back after server_idle_timeout, a third of that wait, keeping
-- none for ever (min_pool_size 0).  More PgBouncers than seats is no longer
-- an error for PgBouncer's advice (it still is for the application pools).
--

--
-- tenant_status.paced: refusals of the tenant whose answer was held back
-- (pool_governor.refusal_pacing), at the end of the view's columns, so that
-- views built on it go on working.  The raw function changes its columns:
-- the view moves to a new one, which then takes the old one's name.
--
CREATE FUNCTION pool_governor.raw_tenant_status_1_7(
	OUT tenant text, OUT max_connections int, OUT reserved_connections int,
	OUT connected int, OUT active bigint, OUT idle bigint,
	OUT idle_in_transaction bigint, OUT waiting int, OUT peak_connected int,
	OUT peak_at timestamptz, OUT admitted bigint, OUT rejected bigint,
	OUT would_reject bigint, OUT waited bigint, OUT wait_timeouts bigint,
	OUT avg_wait_ms numeric, OUT max_wait_ms numeric, OUT utilization numeric,
	OUT health text, OUT stats_reset timestamptz, OUT configured bool,
	OUT weight int, OUT drain text, OUT drain_grace interval, OUT drained bigint,
	OUT above_cap_since timestamptz, OUT limits_from text, OUT refusal_sqlstate text,
	OUT paced bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pgov_tenant_status_1_7'
LANGUAGE C VOLATILE STRICT;
CREATE OR REPLACE VIEW pool_governor.tenant_status AS
SELECT * FROM pool_governor.raw_tenant_status_1_7();
DROP FUNCTION pool_governor.raw_tenant_status();
ALTER FUNCTION pool_governor.raw_tenant_status_1_7() RENAME TO raw_tenant_status;
-- raw functions are the views' plumbing: pg_monitor's, not PUBLIC's
REVOKE ALL ON FUNCTION pool_governor.raw_tenant_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pool_governor.raw_tenant_status() TO pg_monitor;

--
-- Each raw function that feeds one view takes that view's name (the views
-- follow their functions by OID): raw_backends() is raw_sessions(),
-- raw_node() raw_node_status(), raw_node_limits() raw_node_budgets().
-- They are pg_monitor's plumbing, not the contract: query the views.
--
ALTER FUNCTION pool_governor.raw_backends() RENAME TO raw_sessions;
ALTER FUNCTION pool_governor.raw_node() RENAME TO raw_node_status;
ALTER FUNCTION pool_governor.raw_node_limits() RENAME TO raw_node_budgets;

CREATE OR REPLACE FUNCTION pool_governor.pool_config(
	tenant text,
	library text DEFAULT 'psycopg_pool',
	instances int DEFAULT 1)
RETURNS TABLE (setting text, value text, reason text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r record;
	lib text := lower(library);
	pmax int;
	pmin int;
	acq_s text;
	idle_s int := 60;
	conn_t int;
	wait_ms bigint;
	cap_text text;
	bwait_ms bigint;
	bwait_s int;
	bconn_t int;
	bpool int;
	bmin int;
	bidle int;
	bwaiting int;
	bpool_why text;
BEGIN
	IF lib IS NULL OR lib NOT IN ('psycopg_pool', 'sqlalchemy', 'hikaricp', 'node-postgres', 'pgbouncer') THEN
		RAISE EXCEPTION 'unknown pool library "%"', library
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Use one of psycopg_pool, sqlalchemy, hikaricp, node-postgres, pgbouncer.';
	END IF;
	-- (as recommend() says it, and for the same reason here)
	IF instances IS NULL OR instances < 1 THEN
		RAISE EXCEPTION 'instances must be at least 1'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('instances is %s.', coalesce(instances::text, 'NULL')),
				  HINT = 'Give the number of application instances, each with its own pool, that share the tenant''s quota.';
	END IF;
	-- only the tenant asked for is sized
	SELECT s.*, t.wait_timeout_ms, t.max_waiting AS tenant_max_waiting INTO r
	FROM pool_governor.recommend(instances => pool_config.instances,
								 for_tenant => pool_config.tenant) s
		 JOIN pool_governor.raw_tenants() t USING (tenant)
	WHERE s.tenant = pool_config.tenant;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'tenant "%" does not exist', pool_config.tenant
			USING ERRCODE = 'undefined_object',
				  HINT = 'pool_governor.tenant_status lists the tenants in force.';
	END IF;
	-- no advised maximum is 0: every library reads 0 its own way (PgBouncer
	-- as no limit, node-postgres as 10, psycopg_pool and HikariCP refuse it)
	IF r.max_connections = 0 THEN
		RAISE EXCEPTION 'tenant "%" has a cap of 0: no pool can be advised for it', pool_config.tenant
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A cap of 0 refuses every login of the tenant, and a pool of 0 connections means no limit to PgBouncer and 10 to node-postgres.',
				  HINT = 'Raise the tenant''s max_connections, or give its application no pool.';
	END IF;
	-- (several PgBouncers share the cap by the governor's waits instead:
	-- each may open up to the tenant's whole demand, below)
	IF lib <> 'pgbouncer' AND (r.per_instance_max IS NULL OR r.per_instance_max < 1) THEN
		RAISE EXCEPTION 'tenant "%" has % seats for % instances', pool_config.tenant,
				r.max_connections, instances
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('Each instance''s pool would have %s / %s = 0 connections, and a pool of 0 means no limit to PgBouncer and 10 to node-postgres.',
								  r.max_connections, instances),
				  HINT = format('Use fewer instances (at most %s), a higher cap (at least %s), or a PgBouncer in front of the instances (pool_config(%L, ''pgbouncer'')).',
								r.max_connections, instances, pool_config.tenant);
	END IF;
	pmax := r.per_instance_max;
	pmin := r.per_instance_min;
	conn_t := r.connect_timeout_s;
	wait_ms := r.wait_timeout_ms;
	acq_s := trim_scale(round(r.acquire_timeout_ms / 1000.0, 3))::text;
	cap_text := CASE WHEN r.max_connections IS NULL THEN 'no cap'
					 ELSE format('cap %s', r.max_connections) END;

	IF lib = 'psycopg_pool' THEN
		RETURN QUERY VALUES
			('min_size', pmin::text, format('connections kept open, opened at start-up (%s ms): the median demand', r.startup_ms)),
			('max_size', pmax::text, format('the demand at the peak plus headroom, within this instance''s share of the tenant''s %s', cap_text)),
			('timeout', acq_s, 'seconds a request waits for a connection (getconn/connection()): ' || r.acquire_timeout_ms || ' ms, see sizing.advice'),
			('max_waiting', r.queue_max::text, 'requests that may wait for a connection at once; more fail at once with TooManyRequests instead of timing out later'),
			('max_idle', idle_s::text, 'seconds an idle connection above min_size stays open: a burst''s extra connections give their seats back within a minute (default 600)'),
			('reconnect_timeout', '300', 'seconds the pool keeps trying to open connections that fail (the governor refusing with 53300 is transient) before it calls reconnect_failed; its attempts back off exponentially'),
			('connect_timeout', conn_t::text, format('in the conninfo (libpq, whole seconds): longer than the tenant''s wait_timeout of %s ms, so a login the governor makes wait gets the governor''s answer', wait_ms));
	ELSIF lib = 'sqlalchemy' THEN
		RETURN QUERY VALUES
			('pool_size', pmin::text, 'connections the QueuePool keeps open: the median demand'),
			('max_overflow', (pmax - pmin)::text, format('connections opened beyond pool_size at the peak: pool_size + max_overflow = %s, within this instance''s share of the tenant''s %s', pmax, cap_text)),
			('pool_timeout', acq_s, 'seconds a checkout waits for a connection: ' || r.acquire_timeout_ms || ' ms, see sizing.advice'),
			('pool_pre_ping', 'True', 'checks a connection before use, so one ended by the governor''s drain (or a restart) is replaced instead of failing a request'),
			('pool_recycle', '3600', 'seconds after which a connection is replaced, so none lives for ever'),
			('connect_args', format('{"connect_timeout": %s}', conn_t), format('libpq''s connect timeout (seconds): longer than the tenant''s wait_timeout of %s ms, so a refusal (53300, raised as OperationalError) reaches the application', wait_ms));
	ELSIF lib = 'hikaricp' THEN
		RETURN QUERY VALUES
			('maximumPoolSize', pmax::text, format('the demand at the peak plus headroom, within this instance''s share of the tenant''s %s', cap_text)),
			('minimumIdle', pmin::text, 'idle connections kept: the median demand'),
			('connectionTimeout', r.acquire_timeout_ms::text, 'milliseconds getConnection() waits, a new connection''s login included (see sizing.advice)'),
			('idleTimeout', (idle_s * 1000)::text, 'milliseconds an idle connection above minimumIdle stays open: a burst''s extra connections give their seats back within a minute'),
			('loginTimeout', conn_t::text, format('pgjdbc data source property (seconds, the whole login): longer than the tenant''s wait_timeout of %s ms, so the governor''s refusal (PSQLException, SQLState 53300) is what the pool sees', wait_ms));
	ELSIF lib = 'node-postgres' THEN
		RETURN QUERY VALUES
			('max', pmax::text, format('the demand at the peak plus headroom, within this instance''s share of the tenant''s %s', cap_text)),
			('min', pmin::text, 'idle clients kept open (pg-pool 3.7 and later): the median demand'),
			('connectionTimeoutMillis', r.acquire_timeout_ms::text, format('milliseconds pool.connect() waits for a client, a new connection included: longer than the tenant''s wait_timeout of %s ms, so a refusal (error code 53300) reaches the application', wait_ms)),
			('idleTimeoutMillis', (idle_s * 1000)::text, 'milliseconds an idle client above min stays open: a burst''s extra connections give their seats back within a minute');
	ELSE
		-- Both sides of the advice.  A server login PgBouncer opens while
		-- the tenant is full waits in the governor for a seat, and the
		-- clients queued behind it with it: the wait is as long as a client
		-- would wait for a connection anyway (the acquire timeout), within
		-- authentication_timeout; PgBouncer gives the login longer than
		-- that, and its clients as long.
		bwait_ms := greatest(coalesce(wait_ms, 0),
			least(r.acquire_timeout_ms::bigint,
				  (extract(epoch FROM current_setting('authentication_timeout')::interval) * 1000)::bigint - 5000));
		bwait_s := greatest(1, ceil(bwait_ms / 1000.0)::int);
		bconn_t := bwait_s + greatest(1, ceil(greatest(1000, 4 * r.connect_ms) / 1000.0)::int);
		IF instances = 1 THEN
			bpool := pmax;
			bmin := pmin;
			bidle := idle_s;
			bpool_why := format('server connections this PgBouncer opens to the tenant''s database, within the tenant''s %s: PgBouncer queues its clients instead of the governor refusing them', cap_text);
		ELSE
			-- Several PgBouncers, each with its own pool, share the cap:
			-- each may open up to the tenant's whole demand, so the seats go
			-- where the clients are.  The governor keeps the sum at the cap:
			-- a server login beyond it waits for a seat, which another
			-- PgBouncer gives back when its connection has been idle for
			-- server_idle_timeout, shorter than that wait; none keeps a seat
			-- for ever (min_pool_size 0).
			bpool := least(coalesce(r.max_connections, 2147483647),
						   coalesce(r.recommended_max, r.max_connections, 10));
			bmin := 0;
			bidle := greatest(1, bwait_s / 3);
			bpool_why := format('server connections this PgBouncer opens to the tenant''s database: up to the tenant''s whole demand, though the %s PgBouncers'' pools together (%s) exceed its %s.  The governor keeps their sum at the cap: a server login beyond it waits (tenants.wait_timeout) for a seat another PgBouncer gives back after server_idle_timeout, and its clients stay queued meanwhile', instances, bpool * instances, cap_text);
		END IF;
		-- every pool's logins may wait, but no more than there are slots
		bwaiting := least(bpool::bigint * instances, current_setting('max_connections')::int)::int;
		RETURN QUERY VALUES
			('max_db_connections', bpool::text, bpool_why),
			('default_pool_size', bpool::text, 'server connections per user and database pair (the tenant''s role)'),
			('min_pool_size', bmin::text, CASE WHEN instances = 1 THEN 'server connections kept open: the median demand'
				ELSE 'server connections kept open however idle: none, so that every seat can move to the PgBouncer whose clients need it (each one kept would be a seat the others never get)' END),
			('reserve_pool_size', '0', 'no reserve above the pool: the governor''s cap is hard, a reserve pool beyond it would be refused'),
			('server_connect_timeout', bconn_t::text, format('seconds: longer than the governor''s wait for a seat (tenants.wait_timeout, %s s) plus the time a connection takes to open, so that a server login waiting for a seat is not given up', bwait_s)),
			('server_login_retry', '1', 'seconds PgBouncer waits after a refused server login before the next: each attempt first waits up to tenants.wait_timeout in the governor, so retrying after 1 s is no storm'),
			('query_wait_timeout', bwait_s::text, 'seconds a client waits for a server connection before PgBouncer drops it: as long as the governor''s wait, so that a client is served whenever a seat frees within it'),
			('server_idle_timeout', bidle::text, CASE WHEN instances = 1
				THEN 'seconds an idle server connection above min_pool_size stays open, so that another instance''s clients get its seat'
				ELSE format('seconds an idle server connection stays open: a third of the governor''s wait (%s s), so that a seat this PgBouncer no longer uses goes back while another PgBouncer''s server login still waits for it', bwait_s) END),
			('tenants.wait_timeout', format('%s s', bwait_s), format('the governor''s side (UPDATE pool_governor.tenants SET wait_timeout = ...): a server login this PgBouncer opens while the tenant is full waits up to %s s for a seat instead of being refused, and the clients queued behind it wait with it.  This is what keeps PgBouncer 1.18 to 1.20''s clients queued: they fail every client of a pool with no server connection at the first refused server login, on any SQLSTATE', bwait_s)),
			('tenants.max_waiting', greatest(coalesce(r.tenant_max_waiting, 0), bwaiting)::text, format('the governor''s side: up to %s server logins may wait at once, the pools of %s PgBouncer%s of %s connections%s (each waiting login holds a backend slot, never one a reserve needs)', bwaiting, instances, CASE WHEN instances > 1 THEN 's' ELSE '' END, bpool, CASE WHEN bwaiting < bpool * instances THEN format(', at most max_connections (%s)', bwaiting) ELSE '' END)),
			('tenants.refusal_sqlstate', '57P03', 'the governor''s side: a login still without a seat when its wait ends is refused with 57P03 (cannot_connect_now), which PgBouncer 1.21 and later take as temporary: they keep their clients queued and retry every server_login_retry until query_wait_timeout, where 53300 fails every client queued in a pool with no server connection');
	END IF;
END
$$;

--
-- Privileges: PUBLIC reads nothing of the governor.  recommend() and
-- pool_config() read the history and the tenants in force through raw
-- functions PUBLIC may not execute, so PUBLIC could call them only to fail;
-- capacity() and health_window() told PUBLIC the server's numbers.  All
-- four are pg_monitor's now, as the views are.  (plan_pool() and
-- size_pool() stay PUBLIC: pure arithmetic on the numbers they are given.)
-- health_window() is unused by the extension since 1.3 and kept for
-- callers of its own; current_setting('pool_governor.health_window') says
-- the same.
--
REVOKE ALL ON FUNCTION pool_governor.recommend(interval, float8, int, int, int,
	interval, interval, float8, interval, interval, interval, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION pool_governor.pool_config(text, text, int) FROM PUBLIC;
REVOKE ALL ON FUNCTION pool_governor.capacity() FROM PUBLIC;
REVOKE ALL ON FUNCTION pool_governor.health_window() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pool_governor.recommend(interval, float8, int, int, int,
	interval, interval, float8, interval, interval, interval, text),
	pool_governor.pool_config(text, text, int), pool_governor.capacity(),
	pool_governor.health_window() TO pg_monitor;
