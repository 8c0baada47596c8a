/*
 * storm: a retry storm against one tenant, and what another tenant's logins
 * see meanwhile (bench/retry_storm runs it).
 *
 * N stormer threads log in as one role in a tight loop, with no back-off:
 * each connects, and when refused connects again at once (an admitted one
 * disconnects and connects again too).  One probe thread logs in as another
 * role every 20 ms and disconnects, timing each login.  (The backend slots
 * the stormers hold are counted on the server's side: bench/retry_storm.)
 *
 * Prints one line of key=value pairs:
 *   refused_per_s     stormers' refused logins a second
 *   probe_p50_ms, probe_p99_ms, probe_max_ms, probes, probe_failed
 *
 * Usage: storm "conninfo of the stormers" "conninfo of the probe" N SECONDS
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libpq-fe.h"
#include "loadgen_lib.h"

#define PROBE_EVERY_MS 20
#define MAX_PROBES 100000

static const char *storm_conninfo;
static const char *probe_conninfo;
static double end_at;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long refused;
static long admitted;
static long other;

static double probe_ms[MAX_PROBES];
static int	nprobes;
static int	probe_failed;

static void *
stormer(void *arg)
{
	while (lg_now_s() < end_at)
	{
		PGconn	   *c = PQconnectdb(storm_conninfo);

		pthread_mutex_lock(&mu);
		if (PQstatus(c) == CONNECTION_OK)
			admitted++;
		else if (strstr(PQerrorMessage(c), "for tenant"))
			refused++;			/* the governor's refusal */
		else
			other++;
		pthread_mutex_unlock(&mu);
		PQfinish(c);
	}
	return arg;
}

static void *
probe(void *arg)
{
	double		next = lg_now_s();

	while (lg_now_s() < end_at && nprobes < MAX_PROBES)
	{
		double		t0 = lg_now_s();
		PGconn	   *c = PQconnectdb(probe_conninfo);
		double		ms = (lg_now_s() - t0) * 1000;

		if (PQstatus(c) == CONNECTION_OK)
			probe_ms[nprobes++] = ms;
		else
		{
			probe_failed++;
			if (probe_failed == 1)
				fprintf(stderr, "probe failed: %s", PQerrorMessage(c));
		}
		PQfinish(c);
		next += PROBE_EVERY_MS / 1000.0;
		lg_sleep_until(next);
	}
	return arg;
}

int
main(int argc, char **argv)
{
	int			n;
	double		seconds;
	double		start;
	pthread_t  *threads;
	pthread_t	prober;

	if (argc != 5)
	{
		fprintf(stderr, "usage: storm STORM_CONNINFO PROBE_CONNINFO N SECONDS\n");
		return 2;
	}
	storm_conninfo = argv[1];
	probe_conninfo = argv[2];
	n = atoi(argv[3]);
	seconds = atof(argv[4]);
	if (n < 0 || seconds <= 0)
	{
		fprintf(stderr, "storm: N must be 0 or more and SECONDS above 0\n");
		return 2;
	}
	threads = calloc(n > 0 ? n : 1, sizeof(pthread_t));
	start = lg_now_s();
	end_at = start + seconds;
	for (int i = 0; i < n; i++)
		pthread_create(&threads[i], NULL, stormer, NULL);
	pthread_create(&prober, NULL, probe, NULL);
	for (int i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
	pthread_join(prober, NULL);
	seconds = lg_now_s() - start;
	lg_sort(probe_ms, nprobes);
	printf("refused_per_s=%.0f admitted=%ld other=%ld probe_p50_ms=%.2f probe_p99_ms=%.2f probe_max_ms=%.2f probes=%d probe_failed=%d\n",
		   refused / seconds, admitted, other, lg_percentile(probe_ms, nprobes, 50), lg_percentile(probe_ms, nprobes, 99),
		   nprobes ? probe_ms[nprobes - 1] : 0.0, nprobes, probe_failed);
	free(threads);
	return 0;
}
