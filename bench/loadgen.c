/*
 * loadgen: plays applications against a PostgreSQL server the way their
 * connection pools would, and reports what their users saw.
 *
 * Each application has a login role and application_name, a client-side
 * pool (min, max, acquire timeout; connections are opened on demand up to
 * max, like HikariCP or SQLAlchemy's QueuePool) or a new connection per
 * request, and an arrival schedule in phases.  Requests are 70% reads and
 * 30% writes by default, against a small e-commerce schema (--init creates
 * it), and each holds its connection for 300-500 ms of server time.
 *
 * Per application it reports requests, latency percentiles measured from
 * the request's arrival (so pool waits count), errors by cause (the pool
 * had no connection within the acquire timeout; the server refused the
 * login with 53300; anything else) and the most connections it held.
 * A server that goes away mid-run shows up as "other" errors.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libpq-fe.h"
#include "loadgen_lib.h"

#define WORKERS_PER_APP 256

typedef struct App
{
	LgApp	   *cfg;
	char		conninfo[1024];
	unsigned	seed;

	/* the client pool */
	pthread_mutex_t mu;
	pthread_cond_t released;
	PGconn	  **idle;
	int			nidle;
	int			open;			/* connections open (idle or in use) */
	int			opening;		/* being opened */
	int			peak_open;

	/* arrivals waiting for a worker */
	pthread_mutex_t qmu;
	pthread_cond_t qcv;
	double	   *queue;
	size_t		qhead,
				qtail,
				qcap;
	int			arrivals_done;

	/* results, under mu */
	long		requests;
	long		ok;
	long		errors[4];
	double	   *latency;
	size_t		nlat,
				latcap;
	char		first_error[4][256];
} App;

static double t0;

/* A blocking connect whose error text carries the SQLSTATE. */
static PGconn *
connect_verbose(const char *conninfo, LgError *err, char *msg, size_t msglen)
{
	PGconn	   *conn = PQconnectStart(conninfo);
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	char		sqlstate[6];

	if (conn == NULL)
	{
		*err = LG_ERR_OTHER;
		snprintf(msg, msglen, "out of memory");
		return NULL;
	}
	PQsetErrorVerbosity(conn, PQERRORS_VERBOSE);
	while (PQstatus(conn) != CONNECTION_BAD && st != PGRES_POLLING_OK &&
		   st != PGRES_POLLING_FAILED)
	{
		struct pollfd pfd = {PQsocket(conn), st == PGRES_POLLING_READING ? POLLIN : POLLOUT, 0};

		if (poll(&pfd, 1, 10000) < 0 && errno != EINTR)
			break;
		st = PQconnectPoll(conn);
	}
	if (PQstatus(conn) == CONNECTION_OK)
	{
		*err = LG_OK;
		return conn;
	}
	lg_sqlstate_from_message(PQerrorMessage(conn), sqlstate);
	*err = lg_classify_connect_error(sqlstate);
	snprintf(msg, msglen, "%s", PQerrorMessage(conn));
	PQfinish(conn);
	return NULL;
}

static void
record(App *a, double arrival, LgError err, const char *msg)
{
	pthread_mutex_lock(&a->mu);
	a->requests++;
	if (err == LG_OK)
	{
		if (a->nlat == a->latcap)
		{
			a->latcap = a->latcap ? a->latcap * 2 : 1024;
			a->latency = realloc(a->latency, a->latcap * sizeof(double));
		}
		a->latency[a->nlat++] = (lg_now_s() - arrival) * 1000.0;
		a->ok++;
	}
	else
	{
		if (a->errors[err]++ == 0 && msg)
		{
			char	   *nl;

			snprintf(a->first_error[err], sizeof(a->first_error[err]), "%s", msg);
			for (nl = a->first_error[err]; *nl; nl++)
				if (*nl == '\n')
					*nl = ' ';
		}
	}
	pthread_mutex_unlock(&a->mu);
}

/* Takes a connection from the pool, opening one if below max, else waits
 * until one is released or the acquire deadline passes. */
static PGconn *
pool_acquire(App *a, double deadline, LgError *err, char *msg, size_t msglen)
{
	PGconn	   *conn;

	pthread_mutex_lock(&a->mu);
	for (;;)
	{
		if (a->nidle > 0)
		{
			conn = a->idle[--a->nidle];
			pthread_mutex_unlock(&a->mu);
			*err = LG_OK;
			return conn;
		}
		if (a->open + a->opening < a->cfg->pool_max)
		{
			a->opening++;
			pthread_mutex_unlock(&a->mu);
			conn = connect_verbose(a->conninfo, err, msg, msglen);
			pthread_mutex_lock(&a->mu);
			a->opening--;
			if (conn)
			{
				a->open++;
				if (a->open > a->peak_open)
					a->peak_open = a->open;
			}
			pthread_cond_signal(&a->released);
			pthread_mutex_unlock(&a->mu);
			return conn;
		}
		if (lg_now_s() >= deadline)
		{
			pthread_mutex_unlock(&a->mu);
			*err = LG_ERR_POOL_TIMEOUT;
			snprintf(msg, msglen, "no connection from the pool (max %d) within %d ms",
					 a->cfg->pool_max, a->cfg->acquire_timeout_ms);
			return NULL;
		}
		{
			struct timespec ts;
			double		d;

			clock_gettime(CLOCK_REALTIME, &ts);
			d = ts.tv_sec + ts.tv_nsec / 1e9 + (deadline - lg_now_s());
			ts.tv_sec = (time_t) d;
			ts.tv_nsec = (long) ((d - (double) ts.tv_sec) * 1e9);
			pthread_cond_timedwait(&a->released, &a->mu, &ts);
		}
	}
}

static void
pool_release(App *a, PGconn *conn)
{
	pthread_mutex_lock(&a->mu);
	if (PQstatus(conn) == CONNECTION_OK)
		a->idle[a->nidle++] = conn;
	else
	{
		PQfinish(conn);
		a->open--;
	}
	pthread_cond_signal(&a->released);
	pthread_mutex_unlock(&a->mu);
}

static int
run_request(App *a, PGconn *conn, unsigned *seed, char *msg, size_t msglen)
{
	char		work[32];
	char		key[32];
	const char *params[2] = {key, work};
	int			ms = a->cfg->work_min_ms +
		(a->cfg->work_max_ms > a->cfg->work_min_ms ?
		 (int) (rand_r(seed) % (unsigned) (a->cfg->work_max_ms - a->cfg->work_min_ms + 1)) : 0);
	int			is_read = (int) (rand_r(seed) % 100) < a->cfg->reads_pct;
	PGresult   *res;
	int			ok;

	snprintf(work, sizeof(work), "%d", ms);
	snprintf(key, sizeof(key), "%d", 1 + (int) (rand_r(seed) % (is_read ? 20 : 1000)));
	res = PQexecParams(conn, is_read ?
					   "SELECT count(*) FROM (SELECT id, name, price FROM shop_products "
					   "WHERE category = $1::int ORDER BY price LIMIT 20) s, "
					   "pg_sleep($2::float8 / 1000)" :
					   "WITH o AS (INSERT INTO shop_orders (product_id, quantity) "
					   "VALUES ($1::int, 1) RETURNING id) "
					   "SELECT (SELECT id FROM o), pg_sleep($2::float8 / 1000)",
					   2, NULL, params, NULL, NULL, 0);
	ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	if (!ok)
		snprintf(msg, msglen, "%s", PQerrorMessage(conn));
	PQclear(res);
	return ok;
}

static void *
worker(void *arg)
{
	App		   *a = arg;
	unsigned	seed;
	char		msg[512];

	pthread_mutex_lock(&a->qmu);
	seed = a->seed++ * 2654435761u;
	pthread_mutex_unlock(&a->qmu);

	for (;;)
	{
		double		arrival;
		PGconn	   *conn;
		LgError		err;

		pthread_mutex_lock(&a->qmu);
		while (a->qhead == a->qtail && !a->arrivals_done)
			pthread_cond_wait(&a->qcv, &a->qmu);
		if (a->qhead == a->qtail)
		{
			pthread_mutex_unlock(&a->qmu);
			return NULL;
		}
		arrival = a->queue[a->qhead++ % a->qcap];
		pthread_mutex_unlock(&a->qmu);

		if (a->cfg->mode == LG_MODE_POOL)
		{
			conn = pool_acquire(a, arrival + a->cfg->acquire_timeout_ms / 1000.0,
								&err, msg, sizeof(msg));
			if (conn == NULL)
			{
				record(a, arrival, err, msg);
				continue;
			}
			err = run_request(a, conn, &seed, msg, sizeof(msg)) ? LG_OK : LG_ERR_OTHER;
			pool_release(a, conn);
		}
		else
		{
			conn = connect_verbose(a->conninfo, &err, msg, sizeof(msg));
			if (conn == NULL)
			{
				record(a, arrival, err, msg);
				continue;
			}
			pthread_mutex_lock(&a->mu);
			if (++a->open > a->peak_open)
				a->peak_open = a->open;
			pthread_mutex_unlock(&a->mu);
			err = run_request(a, conn, &seed, msg, sizeof(msg)) ? LG_OK : LG_ERR_OTHER;
			PQfinish(conn);
			pthread_mutex_lock(&a->mu);
			a->open--;
			pthread_mutex_unlock(&a->mu);
		}
		record(a, arrival, err, msg);
	}
}

/* Poisson arrivals following the schedule's rate, stretch by stretch. */
static void *
dispatcher(void *arg)
{
	App		   *a = arg;
	unsigned	seed = a->seed * 7919u + 17;
	double		total = lg_schedule_seconds(a->cfg, 1.0);
	double		t = 0;

	for (;;)
	{
		double		rate = lg_rate_at(a->cfg, 1.0, t);
		double		seg_end = lg_segment_end(a->cfg, 1.0, t);
		double		u;
		double		next;

		if (t >= total)
			break;
		if (rate <= 0)
		{
			t = seg_end;
			continue;
		}
		/*
		 * Poisson arrivals at this stretch's rate; a gap that would run past
		 * the stretch restarts at its end with the next rate, which is exact
		 * for a memoryless process.
		 */
		u = (rand_r(&seed) + 1.0) / ((double) RAND_MAX + 2.0);
		next = t + -log(u) / rate;
		if (next >= seg_end)
		{
			t = seg_end;
			continue;
		}
		t = next;
		lg_sleep_until(t0 + t);
		pthread_mutex_lock(&a->qmu);
		if (a->qtail - a->qhead == a->qcap)
		{
			size_t		i,
						n = a->qtail - a->qhead;
			double	   *q = malloc(sizeof(double) * a->qcap * 2);

			for (i = 0; i < n; i++)
				q[i] = a->queue[(a->qhead + i) % a->qcap];
			free(a->queue);
			a->queue = q;
			a->qhead = 0;
			a->qtail = n;
			a->qcap *= 2;
		}
		a->queue[a->qtail++ % a->qcap] = lg_now_s();
		pthread_cond_signal(&a->qcv);
		pthread_mutex_unlock(&a->qmu);
	}
	pthread_mutex_lock(&a->qmu);
	a->arrivals_done = 1;
	pthread_cond_broadcast(&a->qcv);
	pthread_mutex_unlock(&a->qmu);
	return NULL;
}

static int
init_schema(const char *conninfo)
{
	PGconn	   *conn = PQconnectdb(conninfo);
	PGresult   *res;

	if (PQstatus(conn) != CONNECTION_OK)
	{
		fprintf(stderr, "loadgen: could not connect for --init: %s", PQerrorMessage(conn));
		PQfinish(conn);
		return 1;
	}
	res = PQexec(conn,
				 "CREATE TABLE IF NOT EXISTS shop_products (id int PRIMARY KEY, "
				 "  name text NOT NULL, category int NOT NULL, price numeric NOT NULL);"
				 "CREATE INDEX IF NOT EXISTS shop_products_category ON shop_products (category, price);"
				 "CREATE TABLE IF NOT EXISTS shop_orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
				 "  product_id int NOT NULL, quantity int NOT NULL, ordered_at timestamptz DEFAULT now());"
				 "INSERT INTO shop_products SELECT i, 'product ' || i, 1 + i % 20, (i % 97) + 0.99 "
				 "  FROM generate_series(1, 1000) i ON CONFLICT DO NOTHING;"
				 "GRANT SELECT ON shop_products TO PUBLIC;"
				 "GRANT SELECT, INSERT ON shop_orders TO PUBLIC;"
				 "ANALYZE shop_products;");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		fprintf(stderr, "loadgen: --init failed: %s", PQerrorMessage(conn));
		PQclear(res);
		PQfinish(conn);
		return 1;
	}
	PQclear(res);
	PQfinish(conn);
	return 0;
}

static void
report(App *apps, int napps, const LgConfig *cfg)
{
	FILE	   *csv = NULL;
	FILE	   *json = NULL;
	int			i;

	if (cfg->csv_path && (csv = fopen(cfg->csv_path, "w")) == NULL)
		fprintf(stderr, "loadgen: could not write %s: %s\n", cfg->csv_path, strerror(errno));
	if (cfg->json_path && (json = fopen(cfg->json_path, "w")) == NULL)
		fprintf(stderr, "loadgen: could not write %s: %s\n", cfg->json_path, strerror(errno));
	if (csv)
		fprintf(csv, "app,requests,ok,pool_timeout,refused_53300,other,error_rate_pct,p50_ms,p95_ms,p99_ms,max_connections\n");
	if (json)
		fprintf(json, "[");

	printf("%-12s %8s %8s %8s %8s %8s %7s %8s %8s %8s %6s\n", "app", "requests", "ok",
		   "pool_to", "refused", "other", "err%", "p50_ms", "p95_ms", "p99_ms", "conns");
	for (i = 0; i < napps; i++)
	{
		App		   *a = &apps[i];
		long		errs = a->errors[1] + a->errors[2] + a->errors[3];
		double		rate = a->requests ? 100.0 * errs / a->requests : 0;
		double		p50,
					p95,
					p99;

		lg_sort(a->latency, a->nlat);
		p50 = lg_percentile(a->latency, a->nlat, 50);
		p95 = lg_percentile(a->latency, a->nlat, 95);
		p99 = lg_percentile(a->latency, a->nlat, 99);
		printf("%-12s %8ld %8ld %8ld %8ld %8ld %7.2f %8.0f %8.0f %8.0f %6d\n",
			   a->cfg->name, a->requests, a->ok, a->errors[1], a->errors[2],
			   a->errors[3], rate, p50, p95, p99, a->peak_open);
		if (csv)
			fprintf(csv, "%s,%ld,%ld,%ld,%ld,%ld,%.3f,%.1f,%.1f,%.1f,%d\n",
					a->cfg->name, a->requests, a->ok, a->errors[1], a->errors[2],
					a->errors[3], rate, p50, p95, p99, a->peak_open);
		if (json)
			fprintf(json, "%s\n {\"app\": \"%s\", \"requests\": %ld, \"ok\": %ld, "
					"\"pool_timeout\": %ld, \"refused_53300\": %ld, \"other\": %ld, "
					"\"error_rate_pct\": %.3f, \"p50_ms\": %.1f, \"p95_ms\": %.1f, "
					"\"p99_ms\": %.1f, \"max_connections\": %d}",
					i ? "," : "", a->cfg->name, a->requests, a->ok, a->errors[1],
					a->errors[2], a->errors[3], rate, p50, p95, p99, a->peak_open);
	}
	for (i = 0; i < napps; i++)
	{
		int			e;

		for (e = 1; e < 4; e++)
			if (apps[i].errors[e])
				printf("  %s, first %s: %.200s\n", apps[i].cfg->name,
					   lg_error_name((LgError) e), apps[i].first_error[e]);
	}
	if (json)
	{
		fprintf(json, "\n]\n");
		fclose(json);
	}
	if (csv)
		fclose(csv);
}

int
main(int argc, char **argv)
{
	static LgConfig cfg;
	char		err[512];
	App		   *apps;
	pthread_t  *threads;
	pthread_attr_t attr;
	int			i,
				j,
				k = 0;

	if (lg_parse_args(argc, argv, &cfg, err, sizeof(err)) != 0)
	{
		if (strcmp(err, "help") == 0)
		{
			fputs(lg_usage(), stdout);
			return 0;
		}
		fprintf(stderr, "loadgen: %s\n\n%s", err, lg_usage());
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (cfg.init_conninfo && init_schema(cfg.init_conninfo) != 0)
		return 1;
	if (cfg.napps == 0)
		return 0;

	apps = calloc(cfg.napps, sizeof(App));
	threads = calloc((size_t) cfg.napps * (WORKERS_PER_APP + 1), sizeof(pthread_t));
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);

	for (i = 0; i < cfg.napps; i++)
	{
		App		   *a = &apps[i];
		LgApp	   *c = &cfg.apps[i];
		int			p;

		/* the schedule is played at the scale asked for */
		for (p = 0; p < c->nphases; p++)
			c->phases[p].seconds *= cfg.scale;
		a->cfg = c;
		a->seed = cfg.seed * 1000003u + (unsigned) i;
		snprintf(a->conninfo, sizeof(a->conninfo), "%s user=%s application_name=%s",
				 cfg.conninfo, c->role, c->app_name);
		pthread_mutex_init(&a->mu, NULL);
		pthread_cond_init(&a->released, NULL);
		pthread_mutex_init(&a->qmu, NULL);
		pthread_cond_init(&a->qcv, NULL);
		a->idle = calloc(c->pool_max, sizeof(PGconn *));
		a->qcap = 1024;
		a->queue = malloc(sizeof(double) * a->qcap);
		if (c->mode == LG_MODE_POOL)
		{
			for (p = 0; p < c->pool_min; p++)
			{
				LgError		e;
				PGconn	   *conn = connect_verbose(a->conninfo, &e, err, sizeof(err));

				if (conn == NULL)
				{
					fprintf(stderr, "loadgen: %s: could not open its pool_min connections: %s",
							c->name, err);
					break;
				}
				a->idle[a->nidle++] = conn;
				a->open++;
			}
			a->peak_open = a->open;
		}
	}

	t0 = lg_now_s();
	for (i = 0; i < cfg.napps; i++)
	{
		for (j = 0; j < WORKERS_PER_APP; j++)
			if (pthread_create(&threads[k], &attr, worker, &apps[i]) == 0)
				k++;
		if (pthread_create(&threads[k], &attr, dispatcher, &apps[i]) == 0)
			k++;
	}
	for (i = 0; i < k; i++)
		pthread_join(threads[i], NULL);

	report(apps, cfg.napps, &cfg);
	for (i = 0; i < cfg.napps; i++)
		for (j = 0; j < apps[i].nidle; j++)
			PQfinish(apps[i].idle[j]);
	return 0;
}
