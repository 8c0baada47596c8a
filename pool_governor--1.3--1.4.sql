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

--
-- The application's side: the pool settings that go with the governor's.
--

-- The set-up times of the last 1,024 logins admitted without a wait, in
-- microseconds: backend start (the connection accepted) to admission, what
-- opening a connection costs on this server, the network and TLS aside.
CREATE FUNCTION pool_governor.raw_setup_times(OUT n int, OUT setup_us int)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pgov_setup_times_1_4'
LANGUAGE C VOLATILE STRICT;
REVOKE ALL ON FUNCTION pool_governor.raw_setup_times() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pool_governor.raw_setup_times() TO pg_monitor;

-- The pool's settings besides its size, from the governor's side of the
-- tenant and the SLA: a pure function, tested on given numbers.  Every
-- number says why in plan_advice.
CREATE FUNCTION pool_governor.plan_pool(
	quota int,
	wait_timeout_ms bigint,
	recommended_min int,
	recommended_max int,
	instances int DEFAULT 1,
	connect_ms float8 DEFAULT 100,
	p95_target_ms int DEFAULT 2000,
	acquire_max_ms int DEFAULT 15000,
	startup_target_ms int DEFAULT 5000,
	request_ms int DEFAULT 400,
	OUT per_instance_min int,
	OUT per_instance_max int,
	OUT connect_timeout_s int,
	OUT acquire_timeout_ms int,
	OUT queue_max int,
	OUT startup_ms int,
	OUT startup_ok bool,
	OUT plan_advice text)
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	share int;
	total_max int := recommended_max;
	total_min int := recommended_min;
	why text[] := '{}';
BEGIN
	IF instances IS NULL OR instances < 1 THEN
		RAISE EXCEPTION 'instances must be at least 1'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('instances is %s.', coalesce(instances::text, 'NULL')),
				  HINT = 'Give the number of application instances, each with its own pool, that share the tenant''s quota.';
	END IF;
	IF connect_ms IS NULL OR connect_ms < 0 OR p95_target_ms IS NULL OR p95_target_ms <= 0
	   OR acquire_max_ms IS NULL OR acquire_max_ms <= 0 OR startup_target_ms IS NULL
	   OR startup_target_ms <= 0 OR request_ms IS NULL OR request_ms <= 0 THEN
		RAISE EXCEPTION 'the SLA and timing inputs must be positive'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;

	IF total_max IS NULL THEN
		-- nothing sampled yet: the quota, or a pool of 10 without one
		total_max := coalesce(quota, 10);
		total_min := least(1, total_max);
		why := why || format('no samples yet: sized to %s', CASE WHEN quota IS NULL
			THEN 'a pool of 10 (the tenant has no cap)' ELSE format('the quota of %s', quota) END);
	END IF;
	share := quota / instances;
	per_instance_max := ceil(total_max::numeric / instances)::int;
	IF share IS NOT NULL AND per_instance_max > share THEN
		per_instance_max := share;
	END IF;
	per_instance_min := least(ceil(coalesce(total_min, 0)::numeric / instances)::int, per_instance_max);
	IF instances > 1 THEN
		why := why || format('%s instances share the tenant: max %s and min %s each (%s of %s in all%s)',
			instances, per_instance_max, per_instance_min, per_instance_max * instances, total_max,
			CASE WHEN share IS NOT NULL THEN format('; the cap of %s gives %s each', quota, share) ELSE '' END);
	END IF;
	IF share = 0 THEN
		why := why || format('more instances (%s) than the tenant has seats (%s): some would get none; raise max_connections or use fewer instances',
			instances, quota);
	END IF;

	-- libpq counts connect_timeout in whole seconds, and at least 2
	connect_timeout_s := greatest(2, ceil((coalesce(wait_timeout_ms, 0) +
		greatest(1000, 4 * connect_ms)) / 1000.0)::int);
	why := why || format('connect timeout %s s: longer than the tenant''s wait_timeout (%s ms) plus 4x the %s ms a connection takes to open, so that the governor''s refusal, with its message, reaches the application instead of a client-side timeout',
		connect_timeout_s, coalesce(wait_timeout_ms, 0), round(connect_ms::numeric, 1));

	acquire_timeout_ms := greatest(connect_timeout_s * 1000, least(acquire_max_ms, 5 * p95_target_ms));
	why := why || format('acquire timeout %s ms: a request that has waited 5x the p95 target (%s ms) has missed it anyway, and failing it frees the application''s worker; within the %s ms acquisition limit, and not shorter than the connect timeout, so that a login the governor makes wait is not abandoned',
		acquire_timeout_ms, p95_target_ms, acquire_max_ms);
	IF acquire_timeout_ms > acquire_max_ms THEN
		why := why || format('the tenant''s wait_timeout (%s ms) makes a connection take longer than the %s ms acquisition limit: lower wait_timeout',
			wait_timeout_ms, acquire_max_ms);
	END IF;

	queue_max := greatest(per_instance_max,
		(per_instance_max::bigint * acquire_timeout_ms / request_ms)::int);
	why := why || format('wait queue at most %s requests: what %s connections serve within the acquire timeout at %s ms a request; a longer queue only times out',
		queue_max, per_instance_max, request_ms);

	startup_ms := ceil(per_instance_min * connect_ms)::int;
	startup_ok := startup_ms <= startup_target_ms;
	why := why || format('start-up: %s connections opened one after another take %s ms, %s the %s ms target',
		per_instance_min, startup_ms, CASE WHEN startup_ok THEN 'within' ELSE 'over' END, startup_target_ms);
	plan_advice := array_to_string(why, '; ');
END
$$;

-- recommend() and sizing gain the rest of the pool's settings, the SLA
-- (the founding case's by default) and the instances sharing the quota.
DROP VIEW pool_governor.sizing;
DROP FUNCTION pool_governor.recommend(interval, float8, int, int);
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
	connect_time interval DEFAULT NULL)
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
		WHERE t.configured)
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
-- words: setting is the library's parameter name, value in its units, so
-- that they can be pasted or passed straight in.  They agree with the
-- governor's side of the tenant: the pool's maximum is at most the
-- instance's share of the cap, and its connect timeout is longer than the
-- tenant's wait_timeout, so that a refusal, with its message, reaches the
-- application.
CREATE FUNCTION pool_governor.pool_config(
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
BEGIN
	IF lib IS NULL OR lib NOT IN ('psycopg_pool', 'sqlalchemy', 'hikaricp', 'node-postgres', 'pgbouncer') THEN
		RAISE EXCEPTION 'unknown pool library "%"', library
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Use one of psycopg_pool, sqlalchemy, hikaricp, node-postgres, pgbouncer.';
	END IF;
	-- (plan_pool() refuses instances < 1, through recommend())
	SELECT s.*, t.wait_timeout_ms, t.max_waiting AS tenant_max_waiting INTO r
	FROM pool_governor.recommend(instances => pool_config.instances) s
		 JOIN pool_governor.raw_tenants() t USING (tenant)
	WHERE s.tenant = pool_config.tenant;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'tenant "%" does not exist', pool_config.tenant
			USING ERRCODE = 'undefined_object',
				  HINT = 'pool_governor.tenant_status lists the tenants in force.';
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
		RETURN QUERY VALUES
			('max_db_connections', pmax::text, format('server connections this PgBouncer opens to the tenant''s database, within its share of the tenant''s %s: PgBouncer queues its clients instead of the governor refusing them', cap_text)),
			('default_pool_size', pmax::text, 'server connections per user and database pair (the tenant''s role)'),
			('min_pool_size', pmin::text, 'server connections kept open: the median demand'),
			('reserve_pool_size', '0', 'no reserve above the pool: the governor''s cap is hard, a reserve pool beyond it would be refused'),
			('server_connect_timeout', conn_t::text, format('seconds: longer than the tenant''s wait_timeout of %s ms, so the governor''s answer arrives before PgBouncer gives up', wait_ms)),
			('server_login_retry', greatest(1, ceil(coalesce(wait_ms, 0) / 1000.0)::int)::text, 'seconds PgBouncer waits after a refused server login before the next: at most one attempt per wait_timeout (at least 1 s)'),
			('query_wait_timeout', ceil(r.acquire_timeout_ms / 1000.0)::text, 'seconds a client waits for a server connection before PgBouncer drops it'),
			('server_idle_timeout', idle_s::text, 'seconds an idle server connection above min_pool_size stays open');
	END IF;
END
$$;
GRANT EXECUTE ON FUNCTION pool_governor.pool_config(text, text, int) TO pg_monitor;
