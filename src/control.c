/*-------------------------------------------------------------------------
 *
 * control.c
 *		Owner of the control block (control.h has the locking protocol):
 *		the worker's handshake, reload() tickets, the commit flag, the
 *		database state, why health is not ok, and the worker's progress.
 *
 * These lived beside the seats, under the board's lock, until 1.7; every
 * committing configuration write and every reload() then contended with
 * logins for it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "storage/condition_variable.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "utils/timestamp.h"

#include "control.h"

typedef struct ControlShared
{
	LWLock	   *lock;
	ConditionVariable load_cv;	/* broadcast when the worker ends a load */

	/* lock */
	int			worker_pid;
	PGPROC	   *worker_proc;
	bool		config_dirty;	/* a committed change awaits loading */
	uint64		load_requested; /* reload() tickets handed out */
	uint64		load_done;		/* tickets the worker has served */
	bool		load_ok;		/* how the last served load went */
	char		load_problem[PGOV_PROBLEM_LEN];
	PgovProblemLevel problem_level; /* the tables refused, or NONE */
	char		problem[PGOV_PROBLEM_LEN];
	PgovProblemLevel fit_level[PGOV_NROLES];	/* what is wrong with the
												 * numbers in each role */
	char		fit_problem[PGOV_NROLES][PGOV_PROBLEM_LEN];
	char		node_name[NAMEDATALEN]; /* the numbers were resolved for */
	PgovDbState db_state;
	int			db_misses;		/* checks that found no database, in a row */
	PgovClusterNode cluster;	/* the worker's lease (cluster quota) */

	/* atomics, no lock */
	pg_atomic_uint64 worker_ticks;	/* ticks the worker has ended */
	pg_atomic_uint64 worker_loads;	/* reads of the tables it has ended */
} ControlShared;

static ControlShared *cs = NULL;

Size
pgov_control_shmem_size(void)
{
	return MAXALIGN(sizeof(ControlShared));
}

void
pgov_control_attach(void *base, LWLock *lock, bool init)
{
	cs = (ControlShared *) base;
	if (!init)
		return;
	memset(cs, 0, sizeof(*cs));
	cs->lock = lock;
	ConditionVariableInit(&cs->load_cv);
	pg_atomic_init_u64(&cs->worker_ticks, 0);
	pg_atomic_init_u64(&cs->worker_loads, 0);
}

/* Says why health is not ok (level NONE: it is).  Returns whether that
 * changed what health said, so that the caller logs a problem once. */
bool
pgov_set_problem(PgovProblemLevel level, const char *problem)
{
	bool		changed;

	if (problem == NULL)
		problem = "";
	LWLockAcquire(cs->lock, LW_EXCLUSIVE);
	changed = cs->problem_level != level || strcmp(cs->problem, problem) != 0;
	cs->problem_level = level;
	strlcpy(cs->problem, problem, PGOV_PROBLEM_LEN);
	LWLockRelease(cs->lock);
	return changed;
}

/*
 * Records what is wrong with cfg's numbers in each role (pgov_fit_config),
 * for health.  Returns whether the problem of role (the numbers in force)
 * changed and is one, so that the caller logs cfg->problem[role] once.
 */
bool
pgov_set_fit(const PgovConfig *cfg, int role)
{
	int			r;
	bool		changed;

	LWLockAcquire(cs->lock, LW_EXCLUSIVE);
	changed = cs->fit_level[role] != cfg->level[role] ||
		strcmp(cs->fit_problem[role], cfg->problem[role]) != 0;
	for (r = 0; r < PGOV_NROLES; r++)
	{
		cs->fit_level[r] = cfg->level[r];
		strlcpy(cs->fit_problem[r], cfg->problem[r], PGOV_PROBLEM_LEN);
	}
	LWLockRelease(cs->lock);
	return changed && cfg->level[role] != PGOV_PROBLEM_NONE;
}

/* The node_name the numbers published were resolved for. */
void
pgov_set_node_name(const char *node_name)
{
	LWLockAcquire(cs->lock, LW_EXCLUSIVE);
	strlcpy(cs->node_name, node_name, NAMEDATALEN);
	LWLockRelease(cs->lock);
}

/* The node_name the numbers in force were resolved for, into buf
 * (NAMEDATALEN). */
void
pgov_control_node_name(char *buf)
{
	LWLockAcquire(cs->lock, LW_SHARED);
	strlcpy(buf, cs->node_name, NAMEDATALEN);
	LWLockRelease(cs->lock);
}

/* The worker says where its lease stands (cluster quota). */
void
pgov_set_cluster_node(const PgovClusterNode *node)
{
	LWLockAcquire(cs->lock, LW_EXCLUSIVE);
	cs->cluster = *node;
	LWLockRelease(cs->lock);
}

void
pgov_cluster_node(PgovClusterNode *out)
{
	LWLockAcquire(cs->lock, LW_SHARED);
	*out = cs->cluster;
	LWLockRelease(cs->lock);
}

/* What health says of the control block when role's numbers are in force
 * (the tables' problem first, else that role's fit), in one hold. */
void
pgov_control_state(int role, PgovControlState *out)
{
	memset(out, 0, sizeof(*out));
	LWLockAcquire(cs->lock, LW_SHARED);
	out->worker_pid = cs->worker_pid;
	if (cs->problem_level != PGOV_PROBLEM_NONE)
	{
		out->level = cs->problem_level;
		strlcpy(out->problem, cs->problem, sizeof(out->problem));
	}
	else
	{
		out->level = cs->fit_level[role];
		strlcpy(out->problem, cs->fit_problem[role], sizeof(out->problem));
	}
	strlcpy(out->node_name, cs->node_name, NAMEDATALEN);
	LWLockRelease(cs->lock);
}

/*
 * reload() and the worker meet here: reload() takes a ticket and waits
 * until the worker has served a load that started after the ticket was
 * taken, so that load saw every commit the caller made before.
 */
uint64
pgov_request_load(void)
{
	uint64		ticket;
	PGPROC	   *proc;

	LWLockAcquire(cs->lock, LW_EXCLUSIVE);
	ticket = ++cs->load_requested;
	proc = cs->worker_proc;
	LWLockRelease(cs->lock);
	if (proc != NULL)
		SetLatch(&proc->procLatch);
	return ticket;
}

/* The worker, before reading the tables: the tickets this load serves. */
uint64
pgov_load_begin(void)
{
	uint64		ticket;

	LWLockAcquire(cs->lock, LW_SHARED);
	ticket = cs->load_requested;
	LWLockRelease(cs->lock);
	return ticket;
}

void
pgov_load_end(uint64 ticket, bool ok, const char *problem)
{
	LWLockAcquire(cs->lock, LW_EXCLUSIVE);
	if (ticket > cs->load_done)
		cs->load_done = ticket;
	cs->load_ok = ok;
	strlcpy(cs->load_problem, problem ? problem : "", PGOV_PROBLEM_LEN);
	LWLockRelease(cs->lock);
	ConditionVariableBroadcast(&cs->load_cv);
}

/* Is there work for the worker beside a reload() ticket?  Lock held. */
static bool
load_pending(void)
{
	return cs->config_dirty || cs->load_requested > cs->load_done;
}

/*
 * Waits (interruptibly) until ticket is served.  Returns false on timeout;
 * otherwise how that load went.  (The generation it published, if any, is
 * the board's by then: the worker publishes before it ends the load.)
 */
bool
pgov_wait_load(uint64 ticket, int timeout_ms, bool *ok, char *problem)
{
	TimestampTz until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);
	bool		served;

	for (;;)
	{
		long		left;

		LWLockAcquire(cs->lock, LW_SHARED);
		served = cs->load_done >= ticket;
		*ok = cs->load_ok;
		strlcpy(problem, cs->load_problem, PGOV_PROBLEM_LEN);
		LWLockRelease(cs->lock);
		if (served)
			break;
		left = (long) ((until - GetCurrentTimestamp()) / 1000);
		if (left <= 0)
			break;
		(void) ConditionVariableTimedSleep(&cs->load_cv, Min(left, 1000),
										   PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();
	return served;
}

/*
 * The worker: is a load wanted (a committed change, or a reload() ticket
 * not yet served)?  Clears the commit flag.  The worker also wakes for
 * every waiter woken (to watch its turn), so the usual answer, "no", is
 * read under a SHARED hold.
 */
bool
pgov_load_wanted(void)
{
	bool		pending;
	bool		dirty;

	LWLockAcquire(cs->lock, LW_SHARED);
	pending = load_pending();
	dirty = cs->config_dirty;
	LWLockRelease(cs->lock);
	if (!dirty)
		return pending;
	LWLockAcquire(cs->lock, LW_EXCLUSIVE);
	pending = load_pending();
	cs->config_dirty = false;
	LWLockRelease(cs->lock);
	return pending;
}

/* Tells the worker a committed change awaits loading. */
void
pgov_wake_worker(void)
{
	PGPROC	   *proc;

	if (cs == NULL)
		return;
	LWLockAcquire(cs->lock, LW_EXCLUSIVE);
	cs->config_dirty = true;
	proc = cs->worker_proc;
	LWLockRelease(cs->lock);
	if (proc != NULL)
		SetLatch(&proc->procLatch);
}

/*
 * Sets the worker's latch, from a login that woke waiters: the worker hands
 * the seat of a woken waiter that lets its turn pass to the next one.  The
 * worker's PGPROC is read without the lock (logins call this): a stale one
 * only gets a latch set that nobody waits on.
 */
void
pgov_nudge_worker(void)
{
	PGPROC	   *worker = ((volatile ControlShared *) cs)->worker_proc;

	if (worker != NULL && worker != MyProc)
		SetLatch(&worker->procLatch);
}

void
pgov_worker_attach(void)
{
	LWLockAcquire(cs->lock, LW_EXCLUSIVE);
	cs->worker_pid = MyProcPid;
	cs->worker_proc = MyProc;
	cs->config_dirty = true;	/* load at start */
	LWLockRelease(cs->lock);
}

void
pgov_worker_detach(void)
{
	LWLockAcquire(cs->lock, LW_EXCLUSIVE);
	if (cs->worker_pid == MyProcPid)
	{
		cs->worker_pid = 0;
		cs->worker_proc = NULL;
	}
	LWLockRelease(cs->lock);
}

/* What the worker last found of its database. */
PgovDbState
pgov_db_state(void)
{
	PgovDbState state;

	LWLockAcquire(cs->lock, LW_SHARED);
	state = cs->db_state;
	LWLockRelease(cs->lock);
	return state;
}

/*
 * Records what the worker found of its database.  Returns, for READY, how
 * many checks in a row had missed it before; for MISSING, how many have
 * now, this one included; else 0.
 */
int
pgov_db_note(PgovDbState state)
{
	int			result = 0;

	LWLockAcquire(cs->lock, LW_EXCLUSIVE);
	if (state == PGOV_DB_READY)
	{
		result = cs->db_misses;
		cs->db_misses = 0;
	}
	else if (state == PGOV_DB_MISSING)
		result = ++cs->db_misses;
	cs->db_state = state;
	LWLockRelease(cs->lock);
	return result;
}

/*
 * The worker ended a tick (reconcile, sync, sample) or a read of the
 * tables: pool_governor.worker shows the counts, so that a DBA sees the
 * worker is alive and a test can wait for it to have looked.
 */
void
pgov_worker_progress(bool tick, bool load)
{
	if (tick)
		pg_atomic_fetch_add_u64(&cs->worker_ticks, 1);
	if (load)
		pg_atomic_fetch_add_u64(&cs->worker_loads, 1);
}

void
pgov_worker_counts(int *pid, uint64 *ticks, uint64 *loads)
{
	LWLockAcquire(cs->lock, LW_SHARED);
	*pid = cs->worker_pid;
	LWLockRelease(cs->lock);
	*ticks = pg_atomic_read_u64(&cs->worker_ticks);
	*loads = pg_atomic_read_u64(&cs->worker_loads);
}
