/*
 * Tests of the load generator's own logic: argument handling, the arrival
 * schedule, percentiles and the classification of errors.  Ends with
 * "N passed, N failed".
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "loadgen_lib.h"
#include "check.h"


static int
parse(const char *a1, const char *a2, const char *a3, const char *a4, LgConfig *cfg, char *err)
{
	char	   *argv[6] = {"loadgen", (char *) a1, (char *) a2, (char *) a3, (char *) a4, NULL};
	int			argc = 1;

	while (argc < 5 && argv[argc])
		argc++;
	return lg_parse_args(argc, argv, cfg, err, 256);
}

static void
test_args(void)
{
	static LgConfig cfg;
	char		err[256];
	LgApp		app;

	CHECK(parse("--conninfo", "host=/tmp", "--app",
				"name=shop,pool_min=2,pool_max=10,acquire_timeout_ms=15000,phases=steady:20:8;burst:5:80;ramp:10:80-8",
				&cfg, err) == 0);
	CHECK(cfg.napps == 1);
	CHECK(strcmp(cfg.apps[0].role, "shop") == 0 && strcmp(cfg.apps[0].app_name, "shop") == 0);
	CHECK(cfg.apps[0].pool_min == 2 && cfg.apps[0].pool_max == 10);
	CHECK(cfg.apps[0].acquire_timeout_ms == 15000);
	CHECK(cfg.apps[0].work_min_ms == 300 && cfg.apps[0].work_max_ms == 500);
	CHECK(cfg.apps[0].reads_pct == 70);
	CHECK(cfg.apps[0].nphases == 3);
	CHECK(cfg.apps[0].phases[1].kind == LG_BURST && cfg.apps[0].phases[1].rate == 80);
	CHECK(cfg.apps[0].phases[2].kind == LG_RAMP && cfg.apps[0].phases[2].rate_end == 8);

	/* bad arguments are refused with a reason */
	CHECK(parse("--conninfo", "host=/tmp", NULL, NULL, &cfg, err) != 0);
	CHECK(strstr(err, "--app") != NULL);
	CHECK(parse("--app", "name=a,phases=steady:1:1", NULL, NULL, &cfg, err) != 0);
	CHECK(strstr(err, "--conninfo") != NULL);
	CHECK(parse("--bogus", "x", NULL, NULL, &cfg, err) != 0);
	CHECK(strstr(err, "unknown option") != NULL);
	CHECK(parse("--conninfo", NULL, NULL, NULL, &cfg, err) != 0);
	CHECK(parse("--conninfo", "x", "--scale", "-1", &cfg, err) != 0);
	CHECK(parse("--init", "host=/tmp", NULL, NULL, &cfg, err) == 0);

	CHECK(lg_parse_app("name=a,phases=steady:10:5,mode=connect,work_ms=2000-3000,reads=100", &app, err, 256) == 0);
	CHECK(app.mode == LG_MODE_CONNECT && app.work_min_ms == 2000 && app.work_max_ms == 3000);
	CHECK(lg_parse_app("phases=steady:10:5", &app, err, 256) != 0);	/* no name */
	CHECK(lg_parse_app("name=a", &app, err, 256) != 0);	/* no phases */
	CHECK(lg_parse_app("name=a,phases=steady:10:5,pool_max=0", &app, err, 256) != 0);
	CHECK(lg_parse_app("name=a,phases=steady:10:5,pool_min=5,pool_max=2", &app, err, 256) != 0);
	CHECK(lg_parse_app("name=a,phases=steady:10:5,reads=101", &app, err, 256) != 0);
	CHECK(lg_parse_app("name=a,phases=steady:10:5,work_ms=500-300", &app, err, 256) != 0);
	CHECK(lg_parse_app("name=a,phases=steady:10:5,mode=sometimes", &app, err, 256) != 0);
	CHECK(lg_parse_app("name=a;b,phases=steady:10:5", &app, err, 256) != 0);
	CHECK(lg_parse_app("name=a,phases=steady:10:5,colour=red", &app, err, 256) != 0);
	CHECK(lg_parse_app("name=a,phases=wobble:10:5", &app, err, 256) != 0);
	CHECK(lg_parse_app("name=a,phases=steady:0:5", &app, err, 256) != 0);
	CHECK(lg_parse_app("name=a,phases=steady:10", &app, err, 256) != 0);	/* no rate */
	CHECK(lg_parse_app("name=a,phases=steady:10:5-9", &app, err, 256) != 0);	/* two rates */
	CHECK(lg_parse_app("name=a,phases=idle:10", &app, err, 256) == 0);
}

static void
test_schedule(void)
{
	LgApp		app;
	char		err[256];

	CHECK(lg_parse_app("name=a,phases=steady:10:5;ramp:10:0-20;idle:5;burst:5:80", &app, err, 256) == 0);
	CHECK(fabs(lg_schedule_seconds(&app, 1.0) - 30) < 1e-9);
	CHECK(fabs(lg_schedule_seconds(&app, 0.1) - 3) < 1e-9);
	CHECK(lg_rate_at(&app, 1.0, 0) == 5);
	CHECK(lg_rate_at(&app, 1.0, 9.99) == 5);
	CHECK(fabs(lg_rate_at(&app, 1.0, 15) - 10) < 1e-9);	/* half way up the ramp */
	CHECK(lg_rate_at(&app, 1.0, 22) == 0);	/* idle */
	CHECK(lg_rate_at(&app, 1.0, 26) == 80);	/* burst */
	CHECK(lg_rate_at(&app, 1.0, 31) == 0);	/* after the end */
	CHECK(lg_rate_at(&app, 0.5, 6) == 0 + 20 * (1.0 / 5));	/* scaled ramp */

	/* stretches of constant rate: a steady phase ends where it ends, a
	 * ramp is cut in 50 ms steps, past the end there is nothing */
	CHECK(fabs(lg_segment_end(&app, 1.0, 3) - 10) < 1e-9);
	CHECK(fabs(lg_segment_end(&app, 1.0, 12) - 12.05) < 1e-9);
	CHECK(fabs(lg_segment_end(&app, 1.0, 19.99) - 20) < 1e-9);
	CHECK(fabs(lg_segment_end(&app, 1.0, 21) - 25) < 1e-9);
	CHECK(fabs(lg_segment_end(&app, 1.0, 26) - 30) < 1e-9);
	CHECK(fabs(lg_segment_end(&app, 1.0, 31) - 30) < 1e-9);
}

static void
test_percentiles(void)
{
	double		v[100];
	double		one[1] = {42};
	double		few[4] = {40, 10, 30, 20};
	int			i;

	for (i = 0; i < 100; i++)
		v[i] = 100 - i;			/* 100 .. 1, unsorted */
	lg_sort(v, 100);
	CHECK(v[0] == 1 && v[99] == 100);
	CHECK(lg_percentile(v, 100, 50) == 50);
	CHECK(lg_percentile(v, 100, 95) == 95);
	CHECK(lg_percentile(v, 100, 99) == 99);
	CHECK(lg_percentile(v, 100, 100) == 100);
	CHECK(lg_percentile(one, 1, 50) == 42 && lg_percentile(one, 1, 99) == 42);
	lg_sort(few, 4);
	CHECK(lg_percentile(few, 4, 50) == 20);	/* nearest rank: ceil(2) = 2nd */
	CHECK(lg_percentile(few, 4, 51) == 30);
	CHECK(lg_percentile(few, 4, 95) == 40);
	CHECK(lg_percentile(v, 0, 50) == 0);
}

static void
test_classification(void)
{
	char		st[6];

	lg_sqlstate_from_message("connection to server on socket \"/tmp/.s.PGSQL.5432\" failed: "
							 "FATAL:  53300: too many connections for tenant \"shop\"\n"
							 "DETAIL:  Tenant \"shop\" holds 40 of its 40 connections.\n", st);
	CHECK(strcmp(st, "53300") == 0);
	CHECK(lg_classify_connect_error(st) == LG_ERR_REFUSED);

	lg_sqlstate_from_message("connection to server failed: FATAL:  3D000: database \"x\" does not exist\n", st);
	CHECK(strcmp(st, "3D000") == 0);
	CHECK(lg_classify_connect_error(st) == LG_ERR_OTHER);

	/* PostgreSQL's own refusals are 53300 too, and count as refused */
	lg_sqlstate_from_message("FATAL:  53300: sorry, too many clients already\n", st);
	CHECK(lg_classify_connect_error(st) == LG_ERR_REFUSED);

	/* no SQLSTATE: the server is not there */
	lg_sqlstate_from_message("connection to server on socket \"/tmp/.s.PGSQL.1\" failed: No such file or directory\n", st);
	CHECK(st[0] == '\0');
	CHECK(lg_classify_connect_error(st) == LG_ERR_OTHER);
	lg_sqlstate_from_message(NULL, st);
	CHECK(st[0] == '\0');
	/* a FATAL without a verbose SQLSTATE is not mistaken for one */
	lg_sqlstate_from_message("FATAL:  too many connections for role \"x\"\n", st);
	CHECK(st[0] == '\0');

	CHECK(strcmp(lg_error_name(LG_ERR_REFUSED), "refused_53300") == 0);
	CHECK(strcmp(lg_error_name(LG_ERR_POOL_TIMEOUT), "pool_timeout") == 0);
}

int
main(void)
{
	test_args();
	test_schedule();
	test_percentiles();
	test_classification();
	return check_summary();
}
