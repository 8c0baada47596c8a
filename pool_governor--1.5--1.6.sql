/* pool_governor--1.5--1.6.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pool_governor UPDATE TO '1.6'" to load this file. \quit

--
-- The SQLSTATE of a tenant's refusals: '53300' (too_many_connections, as
-- before) or '57P03' (cannot_connect_now).  PgBouncer 1.21 and later take
-- 57P03 as temporary: a pool with no server connection keeps its clients
-- queued and retries, where 53300 fails every client queued in it.  The
-- message, DETAIL and HINT are the same either way.  Checked by the
-- validation trigger, with the loader's words.
--
ALTER TABLE pool_governor.tenants
	ADD COLUMN refusal_sqlstate text NOT NULL DEFAULT '53300';

--
-- Every view from one moment.  tenant_status and health keep their columns
-- (names, types, order; tenant_status gains refusal_sqlstate at the end),
-- so views built on them go on working; each row
-- set now comes from one C function that copies the board under one hold of
-- its lock, and each tenant's health from one rule, written once in C
-- (pgov_tenant_health), where a read of health took the lock nine times.
--
CREATE FUNCTION pool_governor.raw_tenant_status(
	OUT tenant text, OUT max_connections int, OUT reserved_connections int,
	OUT connected int, OUT active bigint, OUT idle bigint,
	OUT idle_in_transaction bigint, OUT waiting int, OUT peak_connected int,
	OUT peak_at timestamptz, OUT admitted bigint, OUT rejected bigint,
	OUT would_reject bigint, OUT waited bigint, OUT wait_timeouts bigint,
	OUT avg_wait_ms numeric, OUT max_wait_ms numeric, OUT utilization numeric,
	OUT health text, OUT stats_reset timestamptz, OUT configured bool,
	OUT weight int, OUT drain text, OUT drain_grace interval, OUT drained bigint,
	OUT above_cap_since timestamptz, OUT limits_from text, OUT refusal_sqlstate text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pgov_tenant_status_1_6'
LANGUAGE C VOLATILE STRICT;
-- raw functions are the views' plumbing: pg_monitor's, not PUBLIC's
REVOKE ALL ON FUNCTION pool_governor.raw_tenant_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pool_governor.raw_tenant_status() TO pg_monitor;

CREATE FUNCTION pool_governor.raw_health(
	OUT status text, OUT mode text, OUT capacity int, OUT server_max_connections int,
	OUT connected int, OUT exempt_connected int, OUT reserved_unused int,
	OUT shared_free int, OUT waiting int, OUT rejected bigint, OUT tenants int,
	OUT config_generation bigint, OUT config_loaded_at timestamptz,
	OUT worker_pid int, OUT status_reason text)
RETURNS record
AS 'MODULE_PATHNAME', 'pgov_health_1_6'
LANGUAGE C VOLATILE STRICT;
REVOKE ALL ON FUNCTION pool_governor.raw_health() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pool_governor.raw_health() TO pg_monitor;

CREATE OR REPLACE VIEW pool_governor.tenant_status AS
SELECT * FROM pool_governor.raw_tenant_status();

CREATE OR REPLACE VIEW pool_governor.health AS
SELECT * FROM pool_governor.raw_health();

--
-- Pool advice.  recommend() can size one tenant alone (for_tenant), which
-- pool_config() asks for, instead of sizing every tenant to keep one, and
-- says a bad instances in one line.  pool_config() never advises a maximum
-- of 0: a cap of 0, or more instances than seats, is an error saying why
-- and what to change.
--
DROP VIEW pool_governor.sizing;
DROP FUNCTION pool_governor.recommend(interval, float8, int, int, int, interval,
	interval, float8, interval, interval, interval);
CREATE FUNCTION pool_governor.recommend(
	"window" interval DEFAULT '15 min',
	headroom float8 DEFAULT 0.15,
	app_memory_per_connection_mb int DEFAULT 10,
	app_memory_budget_mb int DEFAULT 400,
	instances int DEFAULT 1,
	p95_target interval DEFAULT '2 s',
	acquire_max interval DEFAULT '15 s',
	error_budget float8 DEFAULT 0.001,
	startup_target interval DEFAULT '5 s',
	request_time interval DEFAULT '400 ms',
	connect_time interval DEFAULT NULL,
	for_tenant text DEFAULT NULL)
RETURNS TABLE (tenant text, max_connections int, samples int, peak_active int,
	p95_active int, p99_active int, peak_connected int, saturation float8,
	pool_saturated bool, recommended_min int, recommended_max int,
	quota_too_small bool, memory_needed_mb int, memory_ok bool, advice text,
	per_instance_min int, per_instance_max int, connect_ms float8,
	connect_timeout_s int, acquire_timeout_ms int, queue_max int, startup_ms int,
	startup_ok bool)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	measured float8;
	conn_ms float8;
	conn_why text;
BEGIN
	-- said here, so that its context is one line (from a function called
	-- here it would be three, from within the query below the whole query)
	IF instances IS NULL OR instances < 1 THEN
		RAISE EXCEPTION 'instances must be at least 1'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('instances is %s.', coalesce(instances::text, 'NULL')),
				  HINT = 'Give the number of application instances, each with its own pool, that share the tenant''s quota.';
	END IF;
	IF error_budget IS NULL OR error_budget <= 0 OR error_budget >= 1 THEN
		RAISE EXCEPTION 'error_budget must be between 0 and 1'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'It is the share of requests that may fail for want of a connection: 0.001 is 0.1%.';
	END IF;
	SELECT percentile_disc(0.95) WITHIN GROUP (ORDER BY s.setup_us) / 1000.0
	INTO measured FROM pool_governor.raw_setup_times() s;
	IF connect_time IS NOT NULL THEN
		conn_ms := extract(epoch FROM connect_time) * 1000;
		conn_why := format('a connection takes %s ms to open (given)', round(conn_ms::numeric, 1));
	ELSIF measured IS NOT NULL THEN
		conn_ms := measured;
		conn_why := format('a connection takes %s ms to open here (p95 of the last logins, measured by the governor from backend start to admission; the network and TLS add to it)',
			round(conn_ms::numeric, 1));
	ELSE
		conn_ms := 100;
		conn_why := 'no login measured yet: 100 ms assumed to open a connection';
	END IF;

	RETURN QUERY
	WITH window_samples AS (
		SELECT h.tenant,
			   array_agg(ROW(h.sample_time, h.tenant, h.connected, h.active, h.idle,
							 h.idle_in_transaction, h.waiting, h.admitted,
							 h.rejected)::pool_governor.history) AS samples,
			   -- the demand exceeded in only error_budget of the samples
			   percentile_disc(1 - error_budget) WITHIN GROUP (ORDER BY h.active) AS budget_active
		FROM pool_governor.raw_history_since(now() - "window") h
		WHERE for_tenant IS NULL OR h.tenant = for_tenant
		GROUP BY h.tenant),
	no_samples AS MATERIALIZED (
		SELECT * FROM pool_governor.size_pool('{}', NULL, headroom,
			app_memory_per_connection_mb, app_memory_budget_mb)),
	sized AS (
		SELECT t.tenant, t.max_connections, t.wait_timeout_ms, w.budget_active, s.*,
			   -- pool-exhaustion errors within the budget: the max covers
			   -- the demand of all but error_budget of the samples
			   CASE WHEN s.recommended_max IS NOT NULL AND NOT s.pool_saturated
						 AND w.budget_active IS NOT NULL
						 AND ceil(w.budget_active * (1 + headroom)) > s.recommended_max
					THEN least(ceil(w.budget_active * (1 + headroom))::int,
							   coalesce(t.max_connections, 2147483647))
					ELSE s.recommended_max END AS max_for_budget
		FROM pool_governor.raw_tenants() t
			 LEFT JOIN window_samples w ON w.tenant = t.tenant
			 CROSS JOIN LATERAL (
				 SELECT * FROM pool_governor.size_pool(
					 w.samples, t.max_connections, headroom,
					 app_memory_per_connection_mb, app_memory_budget_mb)
				 WHERE w.samples IS NOT NULL
				 UNION ALL
				 SELECT * FROM no_samples WHERE w.samples IS NULL) s
		WHERE t.configured AND (for_tenant IS NULL OR t.tenant = for_tenant))
	SELECT z.tenant, z.max_connections, z.samples_used, z.peak_active,
		   z.p95_active, z.p99_active, z.peak_connected, round(z.saturation::numeric, 3)::float8,
		   z.pool_saturated, z.recommended_min, z.max_for_budget,
		   z.quota_too_small, z.memory_needed_mb, z.memory_ok,
		   concat_ws('; ', z.advice,
					 CASE WHEN z.max_for_budget > z.recommended_max THEN
						 format('max raised to %s: the demand exceeded %s active in only %s%% of the samples (the error budget)',
								z.max_for_budget, z.budget_active, round((error_budget * 100)::numeric, 2)) END,
					 conn_why, p.plan_advice),
		   p.per_instance_min, p.per_instance_max,
		   round(conn_ms::numeric, 3)::float8, p.connect_timeout_s, p.acquire_timeout_ms,
		   p.queue_max, p.startup_ms, p.startup_ok
	FROM sized z
		 CROSS JOIN LATERAL pool_governor.plan_pool(
			 z.max_connections, z.wait_timeout_ms, z.recommended_min, z.max_for_budget,
			 recommend.instances, conn_ms,
			 (extract(epoch FROM p95_target) * 1000)::int,
			 (extract(epoch FROM acquire_max) * 1000)::int,
			 (extract(epoch FROM startup_target) * 1000)::int,
			 (extract(epoch FROM request_time) * 1000)::int) p
	ORDER BY z.tenant;
END
$$;


CREATE VIEW pool_governor.sizing AS
SELECT * FROM pool_governor.recommend();
GRANT SELECT ON pool_governor.sizing TO pg_monitor;

-- The settings of one tenant's application pool in its library's own
-- words (1.4), now computed for that tenant alone.
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
	IF r.per_instance_max IS NULL OR r.per_instance_max < 1 THEN
		RAISE EXCEPTION 'tenant "%" has % seats for % instances', pool_config.tenant,
				r.max_connections, instances
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('Each instance''s pool would have %s / %s = 0 connections, and a pool of 0 means no limit to PgBouncer and 10 to node-postgres.',
								  r.max_connections, instances),
				  HINT = CASE WHEN lib = 'pgbouncer'
							  THEN format('Use fewer PgBouncers (at most %s) or a higher cap (at least %s).',
										  r.max_connections, instances)
							  ELSE format('Use fewer instances (at most %s), a higher cap (at least %s), or a PgBouncer in front of the instances (pool_config(%L, ''pgbouncer'')).',
										  r.max_connections, instances, pool_config.tenant) END;
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
		RETURN QUERY VALUES
			('max_db_connections', pmax::text, format('server connections this PgBouncer opens to the tenant''s database, within its share of the tenant''s %s: PgBouncer queues its clients instead of the governor refusing them', cap_text)),
			('default_pool_size', pmax::text, 'server connections per user and database pair (the tenant''s role)'),
			('min_pool_size', pmin::text, 'server connections kept open: the median demand'),
			('reserve_pool_size', '0', 'no reserve above the pool: the governor''s cap is hard, a reserve pool beyond it would be refused'),
			('server_connect_timeout', bconn_t::text, format('seconds: longer than the governor''s wait for a seat (tenants.wait_timeout, %s s) plus the time a connection takes to open, so that a server login waiting for a seat is not given up', bwait_s)),
			('server_login_retry', '1', 'seconds PgBouncer waits after a refused server login before the next: each attempt first waits up to tenants.wait_timeout in the governor, so retrying after 1 s is no storm'),
			('query_wait_timeout', bwait_s::text, 'seconds a client waits for a server connection before PgBouncer drops it: as long as the governor''s wait, so that a client is served whenever a seat frees within it'),
			('server_idle_timeout', idle_s::text, 'seconds an idle server connection above min_pool_size stays open, so that another instance''s clients get its seat'),
			('tenants.wait_timeout', format('%s s', bwait_s), format('the governor''s side (UPDATE pool_governor.tenants SET wait_timeout = ...): a server login this PgBouncer opens while the tenant is full waits up to %s s for a seat instead of being refused, and the clients queued behind it wait with it.  This is what keeps PgBouncer 1.18 to 1.20''s clients queued: they fail every client of a pool with no server connection at the first refused server login, on any SQLSTATE', bwait_s)),
			('tenants.max_waiting', greatest(coalesce(r.tenant_max_waiting, 0), pmax * instances)::text, format('the governor''s side: up to %s server logins may wait at once, the pools of %s PgBouncer%s of %s connections', pmax * instances, instances, CASE WHEN instances > 1 THEN 's' ELSE '' END, pmax)),
			('tenants.refusal_sqlstate', '57P03', 'the governor''s side: a login still without a seat when its wait ends is refused with 57P03 (cannot_connect_now), which PgBouncer 1.21 and later take as temporary: they keep their clients queued and retry every server_login_retry until query_wait_timeout, where 53300 fails every client queued in a pool with no server connection');
	END IF;
END
$$;
