/*-------------------------------------------------------------------------
 *
 * worker.c
 *		The governor worker: loads the configuration, reconciles the backend
 *		slots with the live processes and samples per-tenant history.
 *
 * One background worker, connected to pool_governor.database.  It sleeps on
 * its latch; a committing configuration change sets it (tables.c), so does
 * SIGHUP, and the timeout brings the periodic work: reconciliation and
 * sampling every pool_governor.sample_interval, and a re-read of the tables
 * every few seconds, which is how a standby (whose tables change by WAL
 * replay, with no trigger) and a change made with triggers disabled are
 * noticed.  Periodic re-reads publish only when something changed.
 *
 * The worker is never needed for admission: if it is down, logins are
 * still judged by the last published configuration.
 *
 * It checks that pool_governor.database exists before connecting to it (a
 * first start connected to no database): a missing, renamed or dropped
 * database is reported once, then re-checked with a backoff, instead of a
 * FATAL every second.  Its session runs with search_path = pg_catalog,
 * pg_temp, and each pass of its loop allocates in a context reset at the
 * end of the pass.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "access/genam.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "commands/extension.h"
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
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "board.h"
#include "cluster.h"
#include "compat.h"
#include "control.h"
#include "drain.h"
#include "history.h"
#include "settings.h"
#include "sync.h"
#include "tables.h"
#include "worker.h"

/* How often the tables are re-read even when no commit asked for it. */
#define PGOV_CONFIG_RECHECK_MS	5000

/* Backoff while pool_governor.database is missing: from 5 s up to 5 min. */
#define PGOV_DB_RETRY_MIN_MS	5000
#define PGOV_DB_RETRY_MAX_MS	300000

/* This start of the worker has connected to its database (process-local:
 * each start is a new process).  What the next start should do is in the
 * control block's database state (pgov_db_note), which forget_database
 * resets when a start dies before it connected. */
static bool connected = false;

static bool said_not_installed = false;

static long
ms_until(TimestampTz now, TimestampTz then)
{
	return (long) Max((then - now) / 1000, 0);
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
	pgov_worker_detach();
}

/* A start that dies before it is connected makes the next one check the
 * database again. */
static void
forget_database(int code, Datum arg)
{
	if (!connected)
		pgov_db_note(PGOV_DB_UNKNOWN);
}

/*
 * Does pool_governor.database exist and accept connections?  Connected to
 * no database, only shared catalogs can be read, and after initdb or a
 * crash restart (which removes global/pg_internal.init) not even through
 * their indexes: the relation cache has no entry for them yet, and building
 * one would read pg_class, which needs a database.  So pg_database is
 * scanned as PostgreSQL's own GetDatabaseTuple() scans it before a
 * database is chosen: through its index only once the shared relcache
 * entries exist, by a heap scan before.
 */
static bool
database_ready(void)
{
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	bool		ready = false;

	StartTransactionCommand();
	ScanKeyInit(&key, Anum_pg_database_datname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum(pgov_database));
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = systable_beginscan(rel, DatabaseNameIndexId,
							  criticalSharedRelcachesBuilt, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		ready = ((Form_pg_database) GETSTRUCT(tup))->datallowconn;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	return ready;
}

/*
 * Sleeps ms, whatever sets the latch meanwhile (it is set when a worker
 * starts), unless the postmaster dies or the worker is told to stop.
 */
static void
pause_ms(long ms)
{
	TimestampTz until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);

	for (;;)
	{
		long		left = ms_until(GetCurrentTimestamp(), until);

		if (left <= 0)
			break;
		ResetLatch(MyLatch);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 left, PG_WAIT_EXTENSION);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * The first start of a worker, connected to no database: if the
 * configuration database is there, exit so that the next start (after
 * bgw_restart_time) connects to it; if not, say so once and check again
 * after a growing pause.  Never returns.
 */
static void
check_database(void)
{
	int			misses;

	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	if (database_ready())
	{
		if (pgov_db_note(PGOV_DB_READY) > 0)
			ereport(LOG,
					(errmsg("pool_governor: database \"%s\" is available again; the worker connects to it",
							pgov_database)));
		proc_exit(1);
	}
	misses = pgov_db_note(PGOV_DB_MISSING);
	if (misses == 1)
		ereport(WARNING,
				(errmsg("pool_governor cannot load its configuration: database \"%s\" does not exist or does not accept connections",
						pgov_database),
				 errdetail("The configuration in force stays enforced; the worker checks again with a growing pause and says nothing more until the database is back."),
				 errhint("Create the database, or set pool_governor.database to the database that holds the pool_governor extension and restart the server.")));
	pause_ms(Min((long) PGOV_DB_RETRY_MIN_MS << Min(misses - 1, 10),
				 PGOV_DB_RETRY_MAX_MS));
	proc_exit(1);
}

/* One load, in its own transaction. */
static void
load(void)
{
	MemoryContext cxt = CurrentMemoryContext;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "pool_governor: loading configuration");

	if (OidIsValid(get_extension_oid("pool_governor", true)))
	{
		said_not_installed = false;
		pgov_load_config();
	}
	else
	{
		pgov_unpublish();
		if (!said_not_installed)
			ereport(LOG,
					(errmsg("pool_governor is not installed in database \"%s\"",
							pgov_database),
					 errdetail("Connections are counted in the default tenant, without limits, until a configuration is loaded."),
					 errhint("Run CREATE EXTENSION pool_governor in database \"%s\".",
							 pgov_database)));
		said_not_installed = true;
		/* nothing to load: a reload() waiting gets the generation in force */
		pgov_load_end(pgov_load_begin(), true, NULL);
	}

	PopActiveSnapshot();
	CommitTransactionCommand();
	/* as sync_sessions(): the pass goes on in the caller's context */
	MemoryContextSwitchTo(cxt);
	pgstat_report_activity(STATE_IDLE, NULL);
}

/* Keeps counts equal to the live sessions; needs a transaction for the
 * catalog reads classification may make. */
static void
sync_sessions(void)
{
	MemoryContext cxt = CurrentMemoryContext;

	StartTransactionCommand();
	pgov_sync_sessions(pgov_mode != PGOV_MODE_OFF);
	/* exempt_superusers may have been reloaded, a role's attributes changed */
	if (pgov_mode != PGOV_MODE_OFF)
		(void) pgov_sync_exemption();
	CommitTransactionCommand();
	/* the commit leaves TopMemoryContext current: the pass goes on in its own */
	MemoryContextSwitchTo(cxt);
}

/* The drain pass, in a transaction: whether a session is exempt now is a
 * catalog read (its role's attributes and memberships). */
static void
drain_idle(void)
{
	MemoryContext cxt = CurrentMemoryContext;

	StartTransactionCommand();
	pgov_drain_idle();
	CommitTransactionCommand();
	MemoryContextSwitchTo(cxt);
}

void
pgov_worker_main(Datum arg)
{
	TimestampTz next_recheck;
	TimestampTz next_tick;
	TimestampTz turn_ends;
	MemoryContext pass_cxt;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	if (pgov_db_state() != PGOV_DB_READY)
		check_database();
	before_shmem_exit(forget_database, (Datum) 0);
	BackgroundWorkerInitializeConnection(pgov_database, NULL, 0);
	connected = true;
	pgstat_report_appname("pool_governor worker");
	/* what the worker runs resolves no name through a user's schema */
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);

	pgov_worker_attach();
	before_shmem_exit(worker_detach, (Datum) 0);
	pass_cxt = AllocSetContextCreate(TopMemoryContext, "pool_governor worker pass",
									 ALLOCSET_DEFAULT_SIZES);

	next_recheck = GetCurrentTimestamp();
	next_tick = next_recheck;

	turn_ends = 0;
	for (;;)
	{
		bool		asked;
		TimestampTz now;
		long		timeout;
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			/* capacity, default_tenant or node_name may have changed */
			next_recheck = GetCurrentTimestamp();
		}

		old = MemoryContextSwitchTo(pass_cxt);
		asked = pgov_load_wanted();
		now = GetCurrentTimestamp();
		if (asked || now >= next_recheck)
		{
			load();
			pgov_worker_progress(false, true);
			next_recheck = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													   PGOV_CONFIG_RECHECK_MS);
		}

		now = GetCurrentTimestamp();
		if (now >= next_tick)
		{
			/* a promotion with no login since: the primary's numbers */
			pgov_follow_role();
			pgov_reconcile();
			sync_sessions();
			/* idle sessions above a cap, where drain = 'idle' */
			drain_idle();
			/* a seat may have come from a raised capacity: nobody woke */
			pgov_wake_waiters();
			pgov_history_sample(now);
			pgov_worker_progress(true, false);
			next_tick = TimestampTzPlusMilliseconds(now, pgov_sample_interval_ms);
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(pass_cxt);

		/* the cluster quota: lease and grants in etcd (each request
		 * bounded; nothing when pool_governor.etcd_endpoints is empty) */
		old = MemoryContextSwitchTo(pass_cxt);
		pgov_cluster_pass();
		MemoryContextSwitchTo(old);
		MemoryContextReset(pass_cxt);

		/* a woken waiter that does not take its seat in its turn passes it
		 * on (PGOV_TURN_MS) */
		now = GetCurrentTimestamp();
		if (turn_ends != 0 && now >= turn_ends)
			pgov_wake_waiters();
		turn_ends = pgov_turn_ends();
		timeout = Max(Min(ms_until(now, next_tick), ms_until(now, next_recheck)), 1);
		if (turn_ends != 0)
			timeout = Max(Min(timeout, ms_until(now, turn_ends) + 1), 1);
		timeout = Max(Min(timeout, pgov_cluster_sleep_ms(now)), 1);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 timeout, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
