-- Pool sizing advice, computed from synthetic history samples.
\set VERBOSITY terse

-- Samples: one per second, as (connected, active) pairs.
CREATE FUNCTION regress_samples(pairs int[][]) RETURNS pool_governor.history[]
LANGUAGE sql AS $$
	SELECT array_agg(ROW(now() + make_interval(secs => i), 'shop',
						 pairs[i][1], pairs[i][2], pairs[i][1] - pairs[i][2],
						 0, 0, 0, 0)::pool_governor.history ORDER BY i)
	FROM generate_subscripts(pairs, 1) i
$$;

-- The founding incident: a pool of max_size 10, normal traffic using 3 to 6
-- of it, then a flash sale during which all 10 are busy in every sample.
-- The quota is 40, the application has 400 MB for connections at 10 MB each.
SELECT samples_used, peak_active, p99_active, peak_connected,
	   round(saturation::numeric, 2) AS saturation, pool_saturated,
	   recommended_min, recommended_max, quota_too_small, memory_needed_mb,
	   memory_ok, recommended_max BETWEEN 32 AND 40 AS max_between_32_and_40
FROM pool_governor.size_pool(
	regress_samples(ARRAY(
		SELECT ARRAY[10, CASE WHEN i <= 60 THEN 3 + i % 4 ELSE 10 END]
		FROM generate_series(1, 105) i)),
	40);
SELECT advice FROM pool_governor.size_pool(
	regress_samples(ARRAY(
		SELECT ARRAY[10, CASE WHEN i <= 60 THEN 3 + i % 4 ELSE 10 END]
		FROM generate_series(1, 105) i)),
	40);

-- The same demand seen through a pool big enough to show it: 28 to 32
-- active at the peak.  p99 32 plus 15% headroom: 37, within the quota.
SELECT peak_active, p95_active, p99_active, pool_saturated, recommended_min,
	   recommended_max, quota_too_small, memory_needed_mb, memory_ok, advice
FROM pool_governor.size_pool(
	regress_samples(ARRAY(
		SELECT ARRAY[36, CASE WHEN i <= 60 THEN 4 + i % 5 ELSE 28 + i % 5 END]
		FROM generate_series(1, 120) i)),
	40);

-- An idle-heavy pool: 30 connections held, 1 to 3 of them busy.
SELECT p99_active, peak_connected, pool_saturated, recommended_min,
	   recommended_max, quota_too_small, advice
FROM pool_governor.size_pool(
	regress_samples(ARRAY(SELECT ARRAY[30, 1 + i % 3] FROM generate_series(1, 100) i)),
	40);

-- Demand above the quota (seen in monitor mode, where the cap is not
-- enforced): 45 to 50 active against a quota of 40.
SELECT p99_active, pool_saturated, recommended_max, quota_too_small, advice
FROM pool_governor.size_pool(
	regress_samples(ARRAY(SELECT ARRAY[55, 45 + i % 6] FROM generate_series(1, 100) i)),
	40);

-- Saturated at the quota itself: the quota, not the pool, is too small.
SELECT pool_saturated, recommended_max, quota_too_small, advice
FROM pool_governor.size_pool(
	regress_samples(ARRAY(SELECT ARRAY[40, 40] FROM generate_series(1, 50) i)),
	40);

-- A memory budget that cannot pay for the quota.
SELECT recommended_max, memory_needed_mb, memory_ok
FROM pool_governor.size_pool(
	regress_samples(ARRAY(SELECT ARRAY[10, 10] FROM generate_series(1, 50) i)),
	40, 0.15, 10, 250);

-- No samples; bad arguments.
SELECT samples_used, recommended_max, advice
FROM pool_governor.size_pool(ARRAY[]::pool_governor.history[], 40);
SELECT * FROM pool_governor.size_pool(ARRAY[]::pool_governor.history[], 40, -0.1);
SELECT * FROM pool_governor.size_pool(ARRAY[]::pool_governor.history[], 40, 0.15, 0);

-- recommend() and the sizing view: a row per configured tenant.
SELECT tenant, max_connections, samples >= 0 AS sampled
FROM pool_governor.sizing ORDER BY tenant;
SELECT count(*) AS rows FROM pool_governor.recommend('1 hour', 0.3, 5, 1000);

-- The rest of the pool's settings, on given numbers: the founding case
-- (quota 40, no wait, demand min 8 / max 40, connections taking 100 ms to
-- open, p95 target 2 s, acquisition within 15 s, start-up within 5 s,
-- requests of 400 ms).
SELECT per_instance_min, per_instance_max, connect_timeout_s, acquire_timeout_ms,
	   queue_max, startup_ms, startup_ok
FROM pool_governor.plan_pool(40, 0, 8, 40);
SELECT plan_advice FROM pool_governor.plan_pool(40, 0, 8, 40);
-- three instances share the quota: 13 each (not 14: 3 x 14 > 40)
SELECT per_instance_min, per_instance_max, queue_max, plan_advice
FROM pool_governor.plan_pool(40, 0, 8, 40, 3);
-- the tenant makes logins wait 5 s: the connect timeout outlasts it
SELECT connect_timeout_s, acquire_timeout_ms FROM pool_governor.plan_pool(40, 5000, 8, 40);
-- a wait_timeout beyond the acquisition limit is said
SELECT acquire_timeout_ms, plan_advice LIKE '%lower wait_timeout%' AS says_so
FROM pool_governor.plan_pool(40, 20000, 8, 40);
-- slow connections miss the start-up target
SELECT startup_ms, startup_ok FROM pool_governor.plan_pool(40, 0, 8, 40, 1, 900);
-- no samples yet: the quota; more instances than seats is said
SELECT per_instance_min, per_instance_max, plan_advice LIKE 'no samples yet%' AS no_samples
FROM pool_governor.plan_pool(40, 0, NULL, NULL);
SELECT per_instance_max, plan_advice LIKE '%more instances (5) than the tenant has seats (4)%' AS says_so
FROM pool_governor.plan_pool(4, 0, 1, 4, 5);
SELECT * FROM pool_governor.plan_pool(40, 0, 8, 40, 0);

-- recommend() has the same columns for every tenant, and the SLA inputs
SELECT tenant, per_instance_max <= coalesce(max_connections, per_instance_max) AS within_cap,
	   connect_timeout_s >= 2 AS connect_timeout_ok, acquire_timeout_ms <= 15000 AS within_sla
FROM pool_governor.recommend(instances => 2) ORDER BY tenant;
SELECT * FROM pool_governor.recommend(error_budget => 0);

-- pool_config: each library's own names
SELECT setting FROM pool_governor.pool_config('shop');
SELECT setting FROM pool_governor.pool_config('shop', 'sqlalchemy');
SELECT setting FROM pool_governor.pool_config('shop', 'hikaricp');
SELECT setting FROM pool_governor.pool_config('shop', 'node-postgres');
SELECT setting FROM pool_governor.pool_config('shop', 'pgbouncer');
-- PgBouncer: both sides of one advice, the governor's as tenants.<column>
-- rows, and they agree: PgBouncer gives a server login longer than the
-- governor's wait, its clients as long, and room for every pool's logins
WITH b AS (SELECT setting, value FROM pool_governor.pool_config('shop', 'pgbouncer', 2))
SELECT (SELECT value FROM b WHERE setting = 'tenants.refusal_sqlstate') AS refusal_sqlstate,
	   (SELECT value FROM b WHERE setting = 'tenants.wait_timeout') AS wait_timeout,
	   (SELECT value::int FROM b WHERE setting = 'server_connect_timeout') >
	   extract(epoch FROM (SELECT value FROM b WHERE setting = 'tenants.wait_timeout')::interval) AS connect_outlasts_wait,
	   (SELECT value::int FROM b WHERE setting = 'query_wait_timeout') =
	   extract(epoch FROM (SELECT value FROM b WHERE setting = 'tenants.wait_timeout')::interval) AS clients_wait_as_long,
	   (SELECT value::int FROM b WHERE setting = 'tenants.max_waiting') =
	   2 * (SELECT value::int FROM b WHERE setting = 'max_db_connections') AS room_for_both_pools;
-- and they agree with the governor's side: the max within the instance's
-- share of the cap, the connect timeout longer than wait_timeout
UPDATE pool_governor.tenants SET wait_timeout = '3 s', max_waiting = 5 WHERE name = 'shop';
SELECT pool_governor.reload() > 0 AS published;
SELECT (SELECT value::int FROM pool_governor.pool_config('shop', 'psycopg_pool', 3) WHERE setting = 'max_size') AS max_size,
	   (SELECT value::int FROM pool_governor.pool_config('shop', 'psycopg_pool', 3) WHERE setting = 'connect_timeout') AS connect_timeout,
	   (SELECT value::int FROM pool_governor.pool_config('shop', 'hikaricp') WHERE setting = 'loginTimeout') AS login_timeout,
	   (SELECT value::int FROM pool_governor.pool_config('shop', 'node-postgres') WHERE setting = 'connectionTimeoutMillis') AS connection_timeout_ms;
UPDATE pool_governor.tenants SET wait_timeout = '0', max_waiting = 0 WHERE name = 'shop';
-- bad input: a clear error each
SELECT * FROM pool_governor.pool_config('shop', 'c3p0');
SELECT * FROM pool_governor.pool_config('nosuch');
-- (in full: DETAIL and HINT, and a context of one line)
\set VERBOSITY default
SELECT * FROM pool_governor.pool_config('shop', 'psycopg_pool', 0);
SELECT * FROM pool_governor.recommend(instances => 0);
-- no advised maximum is 0: more instances than seats, a cap of 0
INSERT INTO pool_governor.tenants (name, max_connections) VALUES ('regress_none', 0);
SELECT pool_governor.reload() > 0 AS published;
SELECT * FROM pool_governor.pool_config('shop', 'psycopg_pool', 100);
-- (41 PgBouncers on 40 seats is no error: each may take the whole demand,
-- the governor keeps their sum at the cap; 1.7)
SELECT setting, value FROM pool_governor.pool_config('shop', 'pgbouncer', 41);
SELECT * FROM pool_governor.pool_config('regress_none', 'node-postgres');
\set VERBOSITY terse
-- as many instances as seats: one connection each, never 0 (PgBouncers:
-- the whole demand each, within the cap)
SELECT lib, (SELECT min(value::int) FROM pool_governor.pool_config('shop', lib, 40)
			 WHERE setting IN ('max_size', 'maximumPoolSize', 'max', 'max_db_connections')) AS max_each
FROM unnest(ARRAY['psycopg_pool', 'hikaricp', 'node-postgres', 'pgbouncer']) lib;
DELETE FROM pool_governor.tenants WHERE name = 'regress_none';

DROP FUNCTION regress_samples(int[][]);
