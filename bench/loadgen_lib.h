/*
 * loadgen_lib.h: the parts of the load generator that need neither libpq
 * nor threads: argument parsing, the arrival schedule, percentiles and
 * error classification.  Tested alone by bench/test_loadgen.
 */
#ifndef LOADGEN_LIB_H
#define LOADGEN_LIB_H

#include <stddef.h>

#define LG_MAX_APPS 8
#define LG_MAX_PHASES 16

typedef enum LgPhaseKind
{
	LG_STEADY,					/* constant rate */
	LG_RAMP,					/* linear from rate to rate_end */
	LG_BURST,					/* a sudden step to rate */
	LG_IDLE						/* no arrivals */
} LgPhaseKind;

typedef struct LgPhase
{
	LgPhaseKind kind;
	double		seconds;
	double		rate;			/* requests per second at the start */
	double		rate_end;		/* at the end (ramp); = rate otherwise */
} LgPhase;

typedef enum LgMode
{
	LG_MODE_POOL,				/* a client-side pool, like the application's */
	LG_MODE_CONNECT				/* a new connection for every request */
} LgMode;

typedef struct LgApp
{
	char		name[64];
	char		role[64];
	char		app_name[64];
	LgMode		mode;
	int			pool_min;
	int			pool_max;
	int			acquire_timeout_ms;
	int			work_min_ms;	/* server time of one request */
	int			work_max_ms;
	int			reads_pct;		/* the rest are writes */
	int			nphases;
	LgPhase		phases[LG_MAX_PHASES];
} LgApp;

typedef struct LgConfig
{
	char		conninfo[512];	/* without user / application_name */
	char	   *init_conninfo;	/* create the schema with this, then exit
								 * unless apps are given */
	double		scale;			/* multiplies every phase's length */
	char	   *csv_path;
	char	   *json_path;
	unsigned	seed;
	int			napps;
	LgApp		apps[LG_MAX_APPS];
} LgConfig;

/* Why a request failed. */
typedef enum LgError
{
	LG_OK = 0,
	LG_ERR_POOL_TIMEOUT,		/* the client pool had no connection in time */
	LG_ERR_REFUSED,				/* the server refused the login, 53300 */
	LG_ERR_OTHER
} LgError;

/* Parses argv; on error writes a message into err and returns -1. */
extern int	lg_parse_args(int argc, char **argv, LgConfig *cfg, char *err, size_t errlen);
extern int	lg_parse_app(const char *spec, LgApp *app, char *err, size_t errlen);
extern int	lg_parse_phases(const char *spec, LgApp *app, char *err, size_t errlen);
extern const char *lg_usage(void);

/* Arrival schedule: the rate at time t seconds, and the total length. */
extern double lg_rate_at(const LgApp *app, double scale, double t);
extern double lg_schedule_seconds(const LgApp *app, double scale);
extern double lg_segment_end(const LgApp *app, double scale, double t);

/* Nearest-rank percentile of sorted values (n > 0, 0 < p <= 100). */
extern double lg_percentile(const double *sorted, size_t n, double p);
extern void lg_sort(double *values, size_t n);

/* Monotonic time, in seconds, and a sleep until such a time. */
extern double lg_now_s(void);
extern void lg_sleep_until(double t);

/* SQLSTATE from a libpq verbose error text ("FATAL:  53300: ..."), or "". */
extern void lg_sqlstate_from_message(const char *msg, char out[6]);
extern LgError lg_classify_connect_error(const char *sqlstate);
extern const char *lg_error_name(LgError e);

#endif
