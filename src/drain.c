/*-------------------------------------------------------------------------
 *
 * drain.c
 *		The worker's drain pass: a tenant with drain = 'idle' that has been
 *		above its cap (a lowered cap, or a new rule that moved sessions into
 *		it) for its drain_grace has its idle sessions above the cap ended,
 *		the longest idle first.
 *
 * Only a session that its backend status shows 'idle' (not active, not
 * idle in a transaction), read again just before its signal, is ever
 * ended; exempt sessions hold no governed seat and are never looked at, and
 * a session exempt by the setting in force when it would be ended is left.  The board says which sessions are the
 * tenant's and how many are above the cap (board.c, pgov_board_drain_due);
 * each is marked on the board before its process is signalled, so that a
 * session that takes a moment to exit is not counted twice and no second
 * one is ended in its place.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/backend_status.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "board.h"
#include "compat.h"
#include "drain.h"
#include "events.h"
#include "identity.h"
#include "settings.h"

/* What a client backend is doing, by pid. */
typedef struct Activity
{
	int			pid;
	bool		idle;			/* 'idle': not active, not in a transaction */
	TimestampTz since;			/* when it became idle */
} Activity;

typedef struct Candidate
{
	int			session;		/* index into the sessions */
	TimestampTz since;
	int			pid;
} Candidate;

static int
activity_cmp(const void *a, const void *b)
{
	int			x = ((const Activity *) a)->pid;
	int			y = ((const Activity *) b)->pid;

	return (x > y) - (x < y);
}

/* The longest idle first (then the lower pid, so the order is total). */
static int
candidate_cmp(const void *a, const void *b)
{
	const Candidate *x = a;
	const Candidate *y = b;

	if (x->since != y->since)
		return x->since < y->since ? -1 : 1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Every client backend's activity, sorted by pid; *n receives how many. */
static Activity *
read_activity(int *n)
{
	int			nbackends;
	Activity   *a;
	int			i;

	pgstat_clear_snapshot();
	nbackends = pgstat_fetch_stat_numbackends();
	a = palloc(sizeof(Activity) * (nbackends + 1));
	*n = 0;
	for (i = 1; i <= nbackends; i++)
	{
		LocalPgBackendStatus *l = PGOV_LOCAL_BEENTRY(i);
		PgBackendStatus *be = l ? &l->backendStatus : NULL;

		if (be == NULL || be->st_procpid <= 0 || be->st_backendType != B_BACKEND)
			continue;
		a[*n].pid = be->st_procpid;
		a[*n].idle = (be->st_state == STATE_IDLE);
		a[*n].since = be->st_state_start_timestamp;
		(*n)++;
	}
	qsort(a, *n, sizeof(Activity), activity_cmp);
	return a;
}

/*
 * pool_governor.drain_test_pause: holds the pass between its look at the
 * sessions and its signals, so that a test can change a session's state in
 * between.  Shown in pg_stat_activity while it lasts.
 */
static void
test_pause(void)
{
	TimestampTz until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													pgov_drain_test_pause_ms);
	long		left;

	pgstat_report_activity(STATE_RUNNING, "pool_governor: drain paused (drain_test_pause)");
	while ((left = (long) ((until - GetCurrentTimestamp()) / 1000)) > 0)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 left, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	pgstat_report_activity(STATE_IDLE, NULL);
}

/*
 * Is process pid still idle since since (its state read again, each entry
 * copied under PostgreSQL's st_changecount protocol)?  A session that has
 * sent a query since the pass looked, or ran one and is idle again, is
 * left alone.  O(backends): a fresh copy of the backends' status.
 */
static bool
still_idle(int pid, TimestampTz since)
{
	int			nbackends;
	int			i;

	pgstat_clear_snapshot();
	nbackends = pgstat_fetch_stat_numbackends();
	for (i = 1; i <= nbackends; i++)
	{
		LocalPgBackendStatus *l = PGOV_LOCAL_BEENTRY(i);
		PgBackendStatus *be = l ? &l->backendStatus : NULL;

		if (be == NULL || be->st_procpid != pid)
			continue;
		return be->st_state == STATE_IDLE && be->st_state_start_timestamp == since;
	}
	return false;
}

/* The pass's arrays, for the worker's life: allocated once, not per tick. */
static PgovDrainDue *due = NULL;
static char (*names)[NAMEDATALEN] = NULL;
static int *due_of = NULL;
static PgovDrainSession *sessions = NULL;
static Candidate *cand = NULL;

static void
allocate_arrays(int nslots)
{
	int			i;

	due = MemoryContextAlloc(TopMemoryContext, sizeof(PgovDrainDue) * pgov_max_tenants);
	names = MemoryContextAlloc(TopMemoryContext, NAMEDATALEN * (Size) pgov_max_tenants);
	due_of = MemoryContextAlloc(TopMemoryContext, sizeof(int) * pgov_max_tenants);
	for (i = 0; i < pgov_max_tenants; i++)
		due_of[i] = -1;
	sessions = MemoryContextAlloc(TopMemoryContext, sizeof(PgovDrainSession) * nslots);
	cand = MemoryContextAlloc(TopMemoryContext, sizeof(Candidate) * nslots);
}

/*
 * One drain pass (the worker's tick; enforce mode only).  The board is
 * asked first, under a SHARED hold that costs nothing when no tenant is
 * above its cap; the backends' status is read only when a drain is due.
 * Each session is checked again just before its signal: still exempt-free
 * (exemption follows the setting in force) and still idle since the same
 * moment.  The window left between that read and the signal is stated in
 * the log line of each session ended.  Called in a transaction (the
 * exemption check reads the catalog).  Allocates (the status copies) in the
 * caller's memory context, which the worker resets after each pass.
 */
void
pgov_drain_idle(void)
{
	TimestampTz now = GetCurrentTimestamp();
	int			nslots = pgov_board_nslots();
	Activity   *activity = NULL;
	int			nactivity = 0;
	int			nsessions;
	int			ndue;
	int			d;

	if (pgov_mode != PGOV_MODE_ENFORCE)
		return;
	if (due == NULL)
		allocate_arrays(nslots);
	ndue = pgov_board_drain_due(now, due, names, due_of, sessions, &nsessions);
	if (ndue == 0 || nsessions == 0)
		return;

	activity = read_activity(&nactivity);
	if (pgov_drain_test_pause_ms > 0)
		test_pause();
	for (d = 0; d < ndue; d++)
	{
		int			n = 0;
		int			ended = 0;
		int			i;

		if (due[d].excess <= 0)
			continue;
		for (i = 0; i < nsessions; i++)
		{
			Activity	key;
			Activity   *a;

			if (sessions[i].due != d)
				continue;
			key.pid = sessions[i].pid;
			a = bsearch(&key, activity, nactivity, sizeof(Activity), activity_cmp);
			if (a == NULL || !a->idle)
				continue;
			cand[n].session = i;
			cand[n].since = a->since;
			cand[n].pid = a->pid;
			n++;
		}
		qsort(cand, n, sizeof(Candidate), candidate_cmp);
		for (i = 0; i < n && ended < due[d].excess; i++)
		{
			PgovDrainSession *s = &sessions[cand[i].session];
			double		idle_s = (double) (now - cand[i].since) / USECS_PER_SEC;
			double		above_s = (double) (now - due[d].above_since) / USECS_PER_SEC;
			TimestampTz checked;
			TimestampTz signalled;

			/* exempt now: the worker's next sync counts it apart */
			if (pgov_who_is_exempt(&s->who, false))
				continue;
			checked = GetCurrentTimestamp();
			if (!still_idle(s->pid, cand[i].since))
				continue;
			if (!pgov_board_drain_mark(s, &due[d]))
				continue;
			if (kill(s->pid, SIGTERM) != 0)
				continue;		/* it has just exited: its seat is given back */
			signalled = GetCurrentTimestamp();
			ended++;
			ereport(LOG,
					(errmsg("pool_governor ended idle session of process %d in tenant \"%s\"",
							s->pid, names[d]),
					 errdetail("It was idle for %.1f s; the tenant held %d connections, above its cap of %d for %.1f s (drain 'idle'). Its state was read again %lld us before the signal.",
							   idle_s, due[d].connected, due[d].max_connections, above_s,
							   (long long) (signalled - checked))));
			pgov_event_add(PGOV_EV_DRAINED, names[d], &s->who,
						   "process %d ended: idle %.1f s; %d connected, above cap %d for %.1f s",
						   s->pid, idle_s, due[d].connected,
						   due[d].max_connections, above_s);
		}
		if (ended > 0)
			pgov_board_count_drained(&due[d], ended);
	}
	pgstat_clear_snapshot();
}
