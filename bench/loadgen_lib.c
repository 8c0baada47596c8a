/*
 * loadgen_lib.c: argument parsing, arrival schedule, percentiles and error
 * classification of the load generator.  No libpq, no threads.
 */
#include "loadgen_lib.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <time.h>

const char *
lg_usage(void)
{
	return
		"usage: loadgen --conninfo CONNINFO --app SPEC [--app SPEC ...] [options]\n"
		"       loadgen --init CONNINFO\n"
		"\n"
		"Plays one or more applications against a PostgreSQL server.\n"
		"\n"
		"  --conninfo CONNINFO  server to connect to (user and application_name\n"
		"                       come from each --app)\n"
		"  --app SPEC           an application, as comma-separated key=value:\n"
		"      name=NAME            name in the report (required)\n"
		"      role=ROLE            login role (default: the name)\n"
		"      app=APPLICATION_NAME (default: the name)\n"
		"      mode=pool|connect    client pool, or a new connection per request\n"
		"      pool_min=N pool_max=N acquire_timeout_ms=N   the client pool\n"
		"      work_ms=MIN-MAX      server time of one request (default 300-500)\n"
		"      reads=PCT            share of reads, the rest writes (default 70)\n"
		"      phases=P;P;...       arrival schedule; P is KIND:SECONDS[:RATE[-RATE2]]\n"
		"                           KIND steady|ramp|burst|idle, RATE requests/s\n"
		"  --scale X            multiply every phase's length by X (default 1)\n"
		"  --seed N             random seed (default 1)\n"
		"  --csv FILE           also write the report as CSV\n"
		"  --json FILE          also write the report as JSON\n"
		"  --init CONNINFO      create the e-commerce schema (as a role that may)\n";
}

static int
fail(char *err, size_t errlen, const char *fmt, const char *arg)
{
	snprintf(err, errlen, fmt, arg);
	return -1;
}

static int
parse_int(const char *s, int *out, int min, int max)
{
	char	   *end;
	long		v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < min || v > max)
		return -1;
	*out = (int) v;
	return 0;
}

static int
parse_double(const char *s, double *out, double min)
{
	char	   *end;
	double		v = strtod(s, &end);

	if (*s == '\0' || *end != '\0' || !(v >= min) || isinf(v))
		return -1;
	*out = v;
	return 0;
}

/* "KIND:SECONDS[:RATE[-RATE2]]" separated by ';' */
int
lg_parse_phases(const char *spec, LgApp *app, char *err, size_t errlen)
{
	char		buf[1024];
	char	   *save = NULL;
	char	   *tok;

	if (strlen(spec) >= sizeof(buf))
		return fail(err, errlen, "phases too long: %s", spec);
	strcpy(buf, spec);
	app->nphases = 0;
	for (tok = strtok_r(buf, ";", &save); tok; tok = strtok_r(NULL, ";", &save))
	{
		LgPhase    *ph;
		char	   *kind = tok;
		char	   *secs = strchr(tok, ':');
		char	   *rate = NULL;
		char	   *rate2 = NULL;

		if (app->nphases >= LG_MAX_PHASES)
			return fail(err, errlen, "too many phases in \"%s\"", spec);
		ph = &app->phases[app->nphases];
		if (secs == NULL)
			return fail(err, errlen, "phase \"%s\" needs KIND:SECONDS", tok);
		*secs++ = '\0';
		rate = strchr(secs, ':');
		if (rate)
		{
			*rate++ = '\0';
			rate2 = strchr(rate, '-');
			if (rate2)
				*rate2++ = '\0';
		}
		if (strcmp(kind, "steady") == 0)
			ph->kind = LG_STEADY;
		else if (strcmp(kind, "ramp") == 0)
			ph->kind = LG_RAMP;
		else if (strcmp(kind, "burst") == 0)
			ph->kind = LG_BURST;
		else if (strcmp(kind, "idle") == 0)
			ph->kind = LG_IDLE;
		else
			return fail(err, errlen, "unknown phase kind \"%s\" (steady, ramp, burst, idle)", kind);
		if (parse_double(secs, &ph->seconds, 0) != 0 || ph->seconds <= 0)
			return fail(err, errlen, "phase length \"%s\" is not a positive number of seconds", secs);
		ph->rate = ph->rate_end = 0;
		if (ph->kind != LG_IDLE)
		{
			if (rate == NULL || parse_double(rate, &ph->rate, 0) != 0)
				return fail(err, errlen, "phase \"%s\" needs a rate in requests per second", kind);
			ph->rate_end = ph->rate;
			if (rate2)
			{
				if (ph->kind != LG_RAMP)
					return fail(err, errlen, "only a ramp has two rates (\"%s\")", kind);
				if (parse_double(rate2, &ph->rate_end, 0) != 0)
					return fail(err, errlen, "bad end rate \"%s\"", rate2);
			}
		}
		app->nphases++;
	}
	if (app->nphases == 0)
		return fail(err, errlen, "no phases in \"%s\"", spec);
	return 0;
}

int
lg_parse_app(const char *spec, LgApp *app, char *err, size_t errlen)
{
	char		buf[2048];
	char	   *p;
	int			have_phases = 0;

	memset(app, 0, sizeof(*app));
	app->mode = LG_MODE_POOL;
	app->pool_min = 0;
	app->pool_max = 10;
	app->acquire_timeout_ms = 15000;
	app->work_min_ms = 300;
	app->work_max_ms = 500;
	app->reads_pct = 70;

	if (strlen(spec) >= sizeof(buf))
		return fail(err, errlen, "application spec too long: %s", spec);
	strcpy(buf, spec);
	p = buf;
	while (p && *p)
	{
		/* split at the next ',' that is not inside phases=... (';' is used there) */
		char	   *next = strchr(p, ',');
		char	   *eq;
		char	   *key = p;
		char	   *val;

		if (next)
			*next++ = '\0';
		eq = strchr(key, '=');
		if (eq == NULL)
			return fail(err, errlen, "\"%s\" is not key=value", key);
		*eq = '\0';
		val = eq + 1;

		if (strcmp(key, "name") == 0 || strcmp(key, "role") == 0 || strcmp(key, "app") == 0)
		{
			char	   *dst = key[0] == 'n' ? app->name : key[0] == 'r' ? app->role : app->app_name;
			size_t		i;

			if (*val == '\0' || strlen(val) >= 64)
				return fail(err, errlen, "%s must be 1 to 63 characters", key);
			for (i = 0; val[i]; i++)
				if (!isalnum((unsigned char) val[i]) && val[i] != '_' && val[i] != '-')
					return fail(err, errlen, "\"%s\": use letters, digits, _ and -", val);
			strcpy(dst, val);
		}
		else if (strcmp(key, "mode") == 0)
		{
			if (strcmp(val, "pool") == 0)
				app->mode = LG_MODE_POOL;
			else if (strcmp(val, "connect") == 0)
				app->mode = LG_MODE_CONNECT;
			else
				return fail(err, errlen, "mode \"%s\" is neither pool nor connect", val);
		}
		else if (strcmp(key, "pool_min") == 0)
		{
			if (parse_int(val, &app->pool_min, 0, 10000) != 0)
				return fail(err, errlen, "pool_min \"%s\" is not a number from 0 to 10000", val);
		}
		else if (strcmp(key, "pool_max") == 0)
		{
			if (parse_int(val, &app->pool_max, 1, 10000) != 0)
				return fail(err, errlen, "pool_max \"%s\" is not a number from 1 to 10000", val);
		}
		else if (strcmp(key, "acquire_timeout_ms") == 0)
		{
			if (parse_int(val, &app->acquire_timeout_ms, 0, 3600000) != 0)
				return fail(err, errlen, "acquire_timeout_ms \"%s\" is not a number of ms", val);
		}
		else if (strcmp(key, "reads") == 0)
		{
			if (parse_int(val, &app->reads_pct, 0, 100) != 0)
				return fail(err, errlen, "reads \"%s\" is not a percentage", val);
		}
		else if (strcmp(key, "work_ms") == 0)
		{
			char	   *dash = strchr(val, '-');

			if (dash)
				*dash++ = '\0';
			if (parse_int(val, &app->work_min_ms, 0, 3600000) != 0 ||
				parse_int(dash ? dash : val, &app->work_max_ms, 0, 3600000) != 0 ||
				app->work_max_ms < app->work_min_ms)
				return fail(err, errlen, "work_ms \"%s\" is not MIN-MAX milliseconds", val);
		}
		else if (strcmp(key, "phases") == 0)
		{
			if (lg_parse_phases(val, app, err, errlen) != 0)
				return -1;
			have_phases = 1;
		}
		else
			return fail(err, errlen, "unknown application key \"%s\"", key);
		p = next;
	}
	if (app->name[0] == '\0')
		return fail(err, errlen, "an application needs name=%s", "NAME");
	if (!have_phases)
		return fail(err, errlen, "application \"%s\" needs phases=...", app->name);
	if (app->role[0] == '\0')
		strcpy(app->role, app->name);
	if (app->app_name[0] == '\0')
		strcpy(app->app_name, app->name);
	if (app->pool_min > app->pool_max)
		return fail(err, errlen, "application \"%s\": pool_min is above pool_max", app->name);
	return 0;
}

int
lg_parse_args(int argc, char **argv, LgConfig *cfg, char *err, size_t errlen)
{
	int			i;

	memset(cfg, 0, sizeof(*cfg));
	cfg->scale = 1.0;
	cfg->seed = 1;
	for (i = 1; i < argc; i++)
	{
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
			return fail(err, errlen, "%s", "help");
		if (v == NULL)
			return fail(err, errlen, "%s needs a value", a);
		i++;
		if (strcmp(a, "--conninfo") == 0)
		{
			if (strlen(v) >= sizeof(cfg->conninfo))
				return fail(err, errlen, "%s", "conninfo too long");
			strcpy(cfg->conninfo, v);
		}
		else if (strcmp(a, "--app") == 0)
		{
			if (cfg->napps >= LG_MAX_APPS)
				return fail(err, errlen, "%s", "too many applications");
			if (lg_parse_app(v, &cfg->apps[cfg->napps], err, errlen) != 0)
				return -1;
			cfg->napps++;
		}
		else if (strcmp(a, "--scale") == 0)
		{
			if (parse_double(v, &cfg->scale, 0) != 0 || cfg->scale <= 0)
				return fail(err, errlen, "--scale \"%s\" is not a positive number", v);
		}
		else if (strcmp(a, "--seed") == 0)
		{
			int			s;

			if (parse_int(v, &s, 0, 2000000000) != 0)
				return fail(err, errlen, "--seed \"%s\" is not a number", v);
			cfg->seed = (unsigned) s;
		}
		else if (strcmp(a, "--csv") == 0)
			cfg->csv_path = argv[i];
		else if (strcmp(a, "--json") == 0)
			cfg->json_path = argv[i];
		else if (strcmp(a, "--init") == 0)
			cfg->init_conninfo = argv[i];
		else
			return fail(err, errlen, "unknown option \"%s\"", a);
	}
	if (cfg->init_conninfo == NULL || cfg->napps > 0)
	{
		if (cfg->conninfo[0] == '\0')
			return fail(err, errlen, "%s", "--conninfo is required");
		if (cfg->napps == 0)
			return fail(err, errlen, "%s", "at least one --app is required");
	}
	return 0;
}

double
lg_schedule_seconds(const LgApp *app, double scale)
{
	double		total = 0;
	int			i;

	for (i = 0; i < app->nphases; i++)
		total += app->phases[i].seconds * scale;
	return total;
}

/* The phase playing at time t, with its start and end; NULL past the end,
 * where *end is the schedule's length. */
static const LgPhase *
phase_at(const LgApp *app, double scale, double t, double *start, double *end)
{
	int			i;

	*start = *end = 0;
	for (i = 0; i < app->nphases; i++)
	{
		*start = *end;
		*end += app->phases[i].seconds * scale;
		if (t < *end)
			return &app->phases[i];
	}
	return NULL;
}

double
lg_rate_at(const LgApp *app, double scale, double t)
{
	double		start,
				end;
	const LgPhase *ph = phase_at(app, scale, t, &start, &end);

	if (ph == NULL || ph->kind == LG_IDLE)
		return 0;
	if (ph->kind == LG_RAMP)
		return ph->rate + (ph->rate_end - ph->rate) * ((t - start) / (end - start));
	return ph->rate;
}

/*
 * End of the stretch of constant rate that contains time t: the end of its
 * phase, or for a ramp at most 50 ms on (a ramp is played as small steps).
 * Arrivals are drawn stretch by stretch, so a long gap drawn at a low rate
 * can never jump over a burst that starts meanwhile.
 */
double
lg_segment_end(const LgApp *app, double scale, double t)
{
	double		start,
				end;
	const LgPhase *ph = phase_at(app, scale, t, &start, &end);

	if (ph != NULL && ph->kind == LG_RAMP && t + 0.05 < end)
		return t + 0.05;
	return end;
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

void
lg_sort(double *values, size_t n)
{
	if (n > 1)
		qsort(values, n, sizeof(double), cmp_double);
}

/* Nearest rank: the smallest value with at least p% of values at or below. */
double
lg_percentile(const double *sorted, size_t n, double p)
{
	size_t		rank;

	if (n == 0)
		return 0;
	rank = (size_t) ceil(p / 100.0 * (double) n);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

void
lg_sqlstate_from_message(const char *msg, char out[6])
{
	const char *p;

	out[0] = '\0';
	if (msg == NULL)
		return;
	for (p = strstr(msg, "FATAL:  "); p; p = strstr(p + 1, "FATAL:  "))
	{
		const char *s = p + 8;
		int			i;

		for (i = 0; i < 5; i++)
			if (!isalnum((unsigned char) s[i]))
				break;
		if (i == 5 && s[5] == ':')
		{
			memcpy(out, s, 5);
			out[5] = '\0';
			return;
		}
	}
}

LgError
lg_classify_connect_error(const char *sqlstate)
{
	if (sqlstate && strcmp(sqlstate, "53300") == 0)
		return LG_ERR_REFUSED;
	return LG_ERR_OTHER;
}

const char *
lg_error_name(LgError e)
{
	switch (e)
	{
		case LG_OK:
			return "ok";
		case LG_ERR_POOL_TIMEOUT:
			return "pool_timeout";
		case LG_ERR_REFUSED:
			return "refused_53300";
		case LG_ERR_OTHER:
			return "other";
	}
	return "?";
}

/* Monotonic seconds. */
double
lg_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Sleeps until monotonic time t (lg_now_s's clock). */
void
lg_sleep_until(double t)
{
	struct timespec ts;

	ts.tv_sec = (time_t) t;
	ts.tv_nsec = (long) ((t - (double) ts.tv_sec) * 1e9);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}
