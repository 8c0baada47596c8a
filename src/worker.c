/*-------------------------------------------------------------------------
 *
 * worker.c
 *		The governor worker: loads the configuration, reconciles the backend
 *		slots with the live processes and samples per-tenant history.
 *
 * One background worker, connected to pool_governor.database.  It sleeps on
 * its latch; a committing configuration change sets it (config.c), so does
 * SIGHUP, and the timeout brings the periodic work: reconciliation and
 * sampling every pool_governor.sample_interval, and a re-read of the tables
 * every few seconds, which is how a standby (whose tables change by WAL
 * replay, with no trigger) and a change made with triggers disabled are
 * noticed.  Periodic re-reads publish only when something changed.
 *
 * The worker is never needed for admission: if it is down, logins are
 * still judged by the last published configuration.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "access/xact.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/backend_status.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "pool_governor.h"

/* How often the tables are re-read even when no commit asked for it. */
#define PGOV_CONFIG_RECHECK_MS	5000

static bool said_not_installed = false;

/* Cumulative counters at the previous sample, to report per-tick deltas. */
typedef struct TenantMark
{
	uint32		incarnation;
	int64		admitted;
	int64		rejected;
} TenantMark;

static TenantMark *marks = NULL;

/* What the sampler needs of a slot, copied under the lock. */
typedef struct SlotCopy
{
	int			pid;
	int			tenant;
} SlotCopy;

static long
ms_until(TimestampTz now, TimestampTz then)
{
	return (long) Max((then - now) / 1000, 0);
}

static int
slotcopy_cmp(const void *a, const void *b)
{
	int			pa = ((const SlotCopy *) a)->pid;
	int			pb = ((const SlotCopy *) b)->pid;

	return (pa > pb) - (pa < pb);
}

void
pgov_register_worker(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS |
		BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_ConsistentState;
	worker.bgw_restart_time = 1;
	strlcpy(worker.bgw_library_name, "pool_governor", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "pgov_worker_main", BGW_MAXLEN);
	strlcpy(worker.bgw_name, "pool_governor worker", BGW_MAXLEN);
	strlcpy(worker.bgw_type, "pool_governor worker", BGW_MAXLEN);
	RegisterBackgroundWorker(&worker);
}

static void
worker_detach(int code, Datum arg)
{
	LWLockAcquire(pgov->lock, LW_EXCLUSIVE);
	if (pgov->worker_pid == MyProcPid)
	{
		pgov->worker_pid = 0;
		pgov->worker_proc = NULL;
	}
	LWLockRelease(pgov->lock);
}

static bool
extension_installed(void)
{
	bool		installed;

	SPI_connect();
	if (SPI_execute("SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pool_governor'",
					false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look up pool_governor in pg_extension");
	installed = SPI_processed > 0;
	SPI_finish();
	return installed;
}

/* One load, in its own transaction. */
static void
load(bool only_if_changed)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	/* SPI wants an outer snapshot; each query still takes a fresh one */
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "pool_governor: loading configuration");

	if (extension_installed())
	{
		said_not_installed = false;
		(void) pgov_load_config(WARNING, only_if_changed);
	}
	else if (!said_not_installed)
	{
		ereport(LOG,
				(errmsg("pool_governor is not installed in database \"%s\"",
						pgov_database),
				 errdetail("Connections are counted, and admitted without limits until a configuration is loaded."),
				 errhint("Run CREATE EXTENSION pool_governor in database \"%s\".",
						 pgov_database)));
		said_not_installed = true;
	}

	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
}

/*
 * Frees the slots of backends that exited without giving their seat back.
 * A backend's slot is indexed by its PGPROC, and the exit callback runs
 * before the PGPROC is released, so a slot whose PGPROC now holds another
 * pid, or whose process is gone, has leaked.  A backend still in the hook,
 * authenticating or waiting, owns its PGPROC and is never taken for a leak.
 * The scan reads pids without the lock; each suspect is re-checked under it.
 */
static void
reconcile(void)
{
	int			i;

	for (i = 0; i < pgov_nslots; i++)
	{
		int			pid = pgov_slots[i].pid;
		PgovWho		who;
		char		tenant[NAMEDATALEN] = "";
		bool		released = false;

		if (pid == 0)
			continue;
		if (ProcGlobal->allProcs[i].pid == pid &&
			!(kill(pid, 0) != 0 && errno == ESRCH))
			continue;

		LWLockAcquire(pgov->lock, LW_EXCLUSIVE);
		if (pgov_slots[i].pid == pid)
		{
			who = pgov_slots[i].who;
			if (pgov_slots[i].tenant >= 0)
				strlcpy(tenant, pgov_tenants[pgov_slots[i].tenant].name, NAMEDATALEN);
			released = pgov_slot_release(i, pid, NULL);
		}
		LWLockRelease(pgov->lock);

		if (released)
		{
			ConditionVariableBroadcast(&pgov->seat_cv);
			ereport(LOG,
					(errmsg("pool_governor reclaimed the seat of process %d, which exited without returning it",
							pid)));
			pgov_event_add(PGOV_EV_SLOT_RECLAIMED, tenant[0] ? tenant : NULL,
						   &who, "process %d exited without returning its seat", pid);
		}
	}
}

/*
 * Records one history tick: per tenant, the seats held, how they split by
 * backend state, the waiters, and admissions / refusals since the previous
 * tick.  Costs O(backends log backends); the lock is held only to copy the
 * slots' pids and the tenants' counters.
 */
static void
sample(TimestampTz now)
{
	SlotCopy   *slots = palloc(sizeof(SlotCopy) * pgov_nslots);
	PgovSample *row = palloc0(sizeof(PgovSample) * pgov_max_tenants);
	int			nslots = 0;
	int			nbackends;
	int			i;
	uint64		tick;

	if (pgov_history_size <= 0)
		return;
	if (marks == NULL)
		marks = MemoryContextAllocZero(TopMemoryContext,
									   sizeof(TenantMark) * pgov_max_tenants);

	LWLockAcquire(pgov->lock, LW_SHARED);
	for (i = 0; i < pgov_nslots; i++)
	{
		PgovSlot   *s = &pgov_slots[i];

		if (s->pid != 0 && s->tenant >= 0 && s->state == PGOV_SLOT_GOVERNED)
		{
			slots[nslots].pid = s->pid;
			slots[nslots].tenant = s->tenant;
			nslots++;
		}
	}
	for (i = 0; i < pgov->ntenants; i++)
	{
		PgovTenant *t = &pgov_tenants[i];
		TenantMark *m = &marks[i];

		if (!t->in_use)
			continue;
		if (m->incarnation != t->incarnation)
		{
			/* a tenant new to this entry: its deltas start from zero */
			m->incarnation = t->incarnation;
			m->admitted = 0;
			m->rejected = 0;
		}
		row[i].incarnation = t->incarnation;
		row[i].connected = t->connected;
		row[i].waiting = t->waiting;
		row[i].admitted = (int32) Max(t->admitted - m->admitted, 0);
		row[i].rejected = (int32) Max(t->rejected - m->rejected, 0);
		m->admitted = t->admitted;
		m->rejected = t->rejected;
	}
	LWLockRelease(pgov->lock);

	/* split each tenant's backends by what pg_stat_activity says they do */
	qsort(slots, nslots, sizeof(SlotCopy), slotcopy_cmp);
	pgstat_clear_snapshot();
	nbackends = pgstat_fetch_stat_numbackends();
	for (i = 1; i <= nbackends; i++)
	{
		LocalPgBackendStatus *l = pgstat_fetch_stat_local_beentry(i);
		SlotCopy	key;
		SlotCopy   *hit;

		if (l == NULL)
			continue;
		key.pid = l->backendStatus.st_procpid;
		hit = bsearch(&key, slots, nslots, sizeof(SlotCopy), slotcopy_cmp);
		if (hit == NULL)
			continue;
		switch (l->backendStatus.st_state)
		{
			case STATE_RUNNING:
			case STATE_FASTPATH:
				row[hit->tenant].active++;
				break;
			case STATE_IDLE:
				row[hit->tenant].idle++;
				break;
			case STATE_IDLEINTRANSACTION:
			case STATE_IDLEINTRANSACTION_ABORTED:
				row[hit->tenant].idle_in_transaction++;
				break;
			default:
				break;
		}
	}
	pgstat_clear_snapshot();

	LWLockAcquire(pgov->history_lock, LW_EXCLUSIVE);
	tick = pgov->ticks_written % pgov_history_size;
	pgov_tick_times[tick] = now;
	memcpy(&pgov_samples[tick * pgov_max_tenants], row,
		   sizeof(PgovSample) * pgov_max_tenants);
	pgov->ticks_written++;
	LWLockRelease(pgov->history_lock);

	pfree(slots);
	pfree(row);
}

void
pgov_worker_main(Datum arg)
{
	TimestampTz next_recheck;
	TimestampTz next_tick;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	BackgroundWorkerInitializeConnection(pgov_database, NULL, 0);
	pgstat_report_appname("pool_governor worker");

	LWLockAcquire(pgov->lock, LW_EXCLUSIVE);
	pgov->worker_pid = MyProcPid;
	pgov->worker_proc = MyProc;
	pgov->config_dirty = true;	/* load at start */
	LWLockRelease(pgov->lock);
	before_shmem_exit(worker_detach, (Datum) 0);

	next_recheck = GetCurrentTimestamp();
	next_tick = next_recheck;

	for (;;)
	{
		bool		dirty;
		TimestampTz now;
		long		timeout;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			/* capacity or default_tenant may have changed */
			next_recheck = GetCurrentTimestamp();
		}

		LWLockAcquire(pgov->lock, LW_EXCLUSIVE);
		dirty = pgov->config_dirty;
		pgov->config_dirty = false;
		LWLockRelease(pgov->lock);

		now = GetCurrentTimestamp();
		if (dirty || now >= next_recheck)
		{
			load(!dirty);
			next_recheck = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													   PGOV_CONFIG_RECHECK_MS);
		}

		now = GetCurrentTimestamp();
		if (now >= next_tick)
		{
			reconcile();
			sample(now);
			next_tick = TimestampTzPlusMilliseconds(now, pgov_sample_interval_ms);
		}

		now = GetCurrentTimestamp();
		timeout = Max(Min(ms_until(now, next_tick), ms_until(now, next_recheck)), 1);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 timeout, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
