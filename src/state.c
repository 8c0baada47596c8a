/*-------------------------------------------------------------------------
 *
 * state.c
 *		pool_governor's shared memory and every operation that changes it.
 *
 * The seat board (seats.c) is a pure state machine; this file is its only
 * caller, and the only code that changes shared memory: the hook, the
 * loader, the worker and the views ask it.
 *
 * Locking protocol
 * ----------------
 * pgov->config_lock guards the published rules (pgov_rules, their index
 *		pgov_rule_keys, pgov->nrules).  A login holds it SHARED while it
 *		classifies itself (a few binary searches of the index, then the
 *		candidate rules); only a publication takes it EXCLUSIVE.
 *		Classification never reads a catalog: a role's memberships are
 *		computed before the lock is taken (PgovGroups).
 *
 * pgov->lock guards the board (tenants, slots, totals) and the fields of
 *		PgovShared marked "lock".  A login's decision and its counter update
 *		are one EXCLUSIVE hold, which is what makes the quota exact under any
 *		burst.  What a login does under it is O(1) but for one walk of
 *		PostgreSQL's free PGPROC list, and only when it is about to wait.
 *		Publication and the views' snapshots copy arrays under it.
 *
 * pgov->generation is written holding both locks, so either is enough to
 *		read it.  A login classifies under config_lock, then decides under
 *		lock and starts again if the generation moved in between.
 *
 * pgov->event_lock guards the event ring, pgov->history_lock the history
 *		ring (written only by the worker).  Neither is taken while holding
 *		another of our locks.
 *
 * Lock order when two are held: config_lock, then lock.  HaveNFreeProcs()
 * takes ProcStructLock, a spinlock, always the innermost.
 *
 * Nothing under our locks may ereport(ERROR), allocate or read a catalog:
 * the exit callback that gives a seat back needs these locks and runs
 * during FATAL handling.
 *
 * Publication is done by the worker alone (and by the postmaster, from the
 * snapshot file, before any backend exists), so there is one publisher and
 * nothing for anyone else to serialize on.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>
#include <stdarg.h>

#include "commands/dbcommands.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/postmaster.h"
#include "storage/ipc.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/shmem.h"
#include "utils/acl.h"
#include "utils/backend_status.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "pool_governor.h"
#include "state.h"

StaticAssertDecl(PGOV_NAME_LEN == NAMEDATALEN,
				 "policy.h's name length must be PostgreSQL's NAMEDATALEN");
StaticAssertDecl(sizeof(Oid) == sizeof(uint32_t),
				 "role OIDs are kept as uint32_t in the pure code");

PgovShared *pgov = NULL;
PgovBoard	pgov_board;
PgovRule   *pgov_rules = NULL;
PgovRuleKey *pgov_rule_keys = NULL;
PgovEvent  *pgov_events = NULL;
PgovHistoryRing *pgov_history_rings = NULL;
PgovSample *pgov_samples = NULL;
TimestampTz *pgov_tick_times = NULL;

#define PGOV_NUM_LWLOCKS 4

/* Backend slots kept free beyond superuser_reserved_connections and the
 * tenants' unused reserves before anyone may wait: waiters hold one each. */
#define PGOV_WAIT_SLOT_MARGIN	2

/*
 * Waiters woken at most by one change of the board.  More than that can
 * take a seat only when that many tenants' heads can: each admitted waiter
 * wakes the next ones, and the worker's tick wakes any left.
 */
#define PGOV_WAKE_MAX			64

typedef struct PgovWakeList
{
	int			n;
	int			slots[PGOV_WAKE_MAX];
} PgovWakeList;

/* Tries to plan every session before a publication takes the locks. */
#define PGOV_PLAN_ATTEMPTS		20

static Size
pgov_shmem_size(void)
{
	Size		size = MAXALIGN(sizeof(PgovShared));

	size = add_size(size, MAXALIGN(mul_size(pgov_max_tenants, sizeof(PgovTenant))));
	size = add_size(size, MAXALIGN(mul_size(pgov_max_rules, sizeof(PgovRule))));
	size = add_size(size, MAXALIGN(mul_size(pgov_max_rules, sizeof(PgovRuleKey))));
	size = add_size(size, MAXALIGN(mul_size(MaxBackends, sizeof(PgovSlot))));
	size = add_size(size, MAXALIGN(mul_size(pgov_event_log_size, sizeof(PgovEvent))));
	size = add_size(size, MAXALIGN(mul_size(pgov_history_size, sizeof(TimestampTz))));
	size = add_size(size, MAXALIGN(mul_size(pgov_history_tenants, sizeof(PgovHistoryRing))));
	size = add_size(size, MAXALIGN(mul_size(mul_size(pgov_history_size, pgov_history_tenants),
											sizeof(PgovSample))));
	return size;
}

void
pgov_shmem_request(void)
{
	RequestAddinShmemSpace(pgov_shmem_size());
	RequestNamedLWLockTranche("pool_governor", PGOV_NUM_LWLOCKS);
}

/* A configuration made ready to publish outside the locks. */
typedef struct PgovPrepared
{
	const PgovConfig *cfg;
	PgovRuleKey *keys;			/* the rules' index [nrules] */
	int			first_group;
	int		   *map;			/* scratch: entry of each tenant [ntenants] */
} PgovPrepared;

static void prepare(PgovPrepared *pp, const PgovConfig *cfg);
static void unprepare(PgovPrepared *pp);
static void publish_locked(const PgovPrepared *pp, const PgovPlan *plan,
						   uint64 generation, TimestampTz now);

/*
 * Creates or attaches to the shared state.  After a crash the postmaster
 * makes a new segment and every backend is gone, so zero counters are
 * exactly right.  The configuration in force before the stop or crash comes
 * back from the snapshot file before any login is accepted: the governor
 * never starts open.  Without a file (a new installation) generation 0 is
 * the default tenant alone, with no cap.
 */
void
pgov_shmem_startup(void)
{
	bool		found;
	char	   *p;
	int			i;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	pgov = ShmemInitStruct("pool_governor", pgov_shmem_size(), &found);

	p = (char *) pgov + MAXALIGN(sizeof(PgovShared));
	pgov_board.totals = &pgov->totals;
	pgov_board.tenants = (PgovTenant *) p;
	pgov_board.max_tenants = pgov_max_tenants;
	p += MAXALIGN(mul_size(pgov_max_tenants, sizeof(PgovTenant)));
	pgov_rules = (PgovRule *) p;
	p += MAXALIGN(mul_size(pgov_max_rules, sizeof(PgovRule)));
	pgov_rule_keys = (PgovRuleKey *) p;
	p += MAXALIGN(mul_size(pgov_max_rules, sizeof(PgovRuleKey)));
	pgov_board.slots = (PgovSlot *) p;
	pgov_board.nslots = MaxBackends;
	p += MAXALIGN(mul_size(MaxBackends, sizeof(PgovSlot)));
	pgov_events = (PgovEvent *) p;
	p += MAXALIGN(mul_size(pgov_event_log_size, sizeof(PgovEvent)));
	pgov_tick_times = (TimestampTz *) p;
	p += MAXALIGN(mul_size(pgov_history_size, sizeof(TimestampTz)));
	pgov_history_rings = (PgovHistoryRing *) p;
	p += MAXALIGN(mul_size(pgov_history_tenants, sizeof(PgovHistoryRing)));
	pgov_samples = (PgovSample *) p;

	if (!found)
	{
		LWLockPadded *locks = GetNamedLWLockTranche("pool_governor");
		PgovConfig	cfg;
		PgovPrepared pp;
		uint64		generation = 0;
		char		problem[PGOV_PROBLEM_LEN];
		PgovProblemLevel level = PGOV_PROBLEM_NONE;

		memset(pgov, 0, pgov_shmem_size());
		pgov->lock = &locks[0].lock;
		pgov->config_lock = &locks[1].lock;
		pgov->event_lock = &locks[2].lock;
		pgov->history_lock = &locks[3].lock;
		ConditionVariableInit(&pgov->load_cv);
		pg_atomic_init_u64(&pgov->hook_logins, 0);
		pg_atomic_init_u64(&pgov->wakeups, 0);
		pg_atomic_init_u64(&pgov->wakeups_admitted, 0);
		pg_atomic_init_u64(&pgov->wakeups_requeued, 0);
		pg_atomic_init_u64(&pgov->worker_ticks, 0);
		pg_atomic_init_u64(&pgov->worker_loads, 0);
		pg_atomic_init_u64(&pgov->hook_ns_total, 0);
		pg_atomic_init_u64(&pgov->hook_ns_max, 0);
		for (i = 0; i < PGOV_TIMING_BUCKETS; i++)
			pg_atomic_init_u64(&pgov->hook_hist[i], 0);
		pgov_board_init(&pgov_board);
		pgov_board_window(&pgov_board, (int64) pgov_health_window_s * USECS_PER_SEC);
		for (i = 0; i < pgov_history_tenants; i++)
			pgov_history_rings[i].tenant = -1;

		problem[0] = '\0';
		if (pgov_snapshot_read(&cfg, &generation, problem, sizeof(problem)))
		{
			/* the server may have changed while it was down */
			strlcpy(cfg.default_tenant, pgov_default_tenant, NAMEDATALEN);
			level = pgov_fit_config(&cfg, problem, sizeof(problem));
			if (level != PGOV_PROBLEM_NONE)
				ereport(LOG, (errmsg("pool_governor: %s", problem)));
		}
		else
		{
			memset(&cfg, 0, sizeof(cfg));
			strlcpy(cfg.default_tenant, pgov_default_tenant, NAMEDATALEN);
			generation = 0;
			if (problem[0])
				level = PGOV_PROBLEM_CRITICAL;
		}
		prepare(&pp, &cfg);
		LWLockAcquire(pgov->config_lock, LW_EXCLUSIVE);
		LWLockAcquire(pgov->lock, LW_EXCLUSIVE);
		publish_locked(&pp, NULL, generation, generation ? GetCurrentTimestamp() : 0);
		pgov->problem_level = level;
		strlcpy(pgov->problem, problem, PGOV_PROBLEM_LEN);
		LWLockRelease(pgov->lock);
		LWLockRelease(pgov->config_lock);
		unprepare(&pp);
		if (cfg.tenants)
			pfree(cfg.tenants);
		if (cfg.rules)
			pfree(cfg.rules);
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Governed seats as configured: the setting, or every max_connections slot
 * PostgreSQL does not keep for its own reserves. */
int
pgov_capacity(void)
{
	if (pgov_capacity_setting >= 0)
		return Min(pgov_capacity_setting, pgov_slot_limit());
	return pgov_slot_limit();
}

/* max_connections slots a non-superuser can have. */
int
pgov_slot_limit(void)
{
	return Max(MaxConnections - PGOV_RESERVED_SLOTS, 0);
}

/*
 * Where rules (with their index) place a login: the position of the first
 * matching rule, or -1.  Returns false when a +group rule needs the login's
 * memberships first (groups not computed): the caller computes them outside
 * our locks (pgov_role_groups) and asks again.
 */
static bool
classify_rules(const PgovRuleIndex *ix, const PgovWho *who,
			   const PgovGroups *groups, int *rule)
{
	PgovLogin	login;

	login.role_name = who->role_name;
	login.database_name = who->database_name;
	login.application_name = who->application_name;
	login.addr = who->has_addr ? &who->addr : NULL;
	login.groups = groups->computed ? groups->oids : NULL;
	login.ngroups = groups->computed ? groups->n : 0;
	*rule = pgov_classify_indexed(ix, &login);
	return *rule != PGOV_NEED_GROUPS;
}

/*
 * Where the rules in force place a login.  Returns false when a +group rule
 * needs the login's memberships: compute them (pgov_role_groups) and call
 * again.
 */
bool
pgov_classify_published(const PgovWho *who, PgovGroups *groups,
						PgovPlace *place)
{
	PgovRuleIndex ix;
	int			r;
	bool		ok;

	LWLockAcquire(pgov->config_lock, LW_SHARED);
	ix.rules = pgov_rules;
	ix.nrules = pgov->nrules;
	ix.keys = pgov_rule_keys;
	ix.first_group = pgov->first_group;
	ok = classify_rules(&ix, who, groups, &r);
	place->generation = pgov->generation;
	if (ok && r >= 0)
	{
		place->tenant = pgov_rules[r].tenant;
		place->rule_id = pgov_rules[r].id;
	}
	else
	{
		place->tenant = pgov->totals.default_tenant;
		place->rule_id = 0;
	}
	LWLockRelease(pgov->config_lock);
	return ok;
}

/*
 * The waiters that can take a seat now, the head of each queue that would
 * be admitted and no more (pgov_seat_wakeable).  With mark (pgov->lock held
 * EXCLUSIVE) those already woken are left out and the others marked;
 * without (SHARED is enough) every such head is listed.
 */
static void
collect_wakeable(PgovWakeList *w, bool mark)
{
	int			capacity = pgov_capacity_in_force(&pgov_board, pgov_capacity(),
												  pgov_slot_limit());

	w->n = pgov_seat_wakeable(&pgov_board, capacity, mark,
							  GetCurrentTimestamp(), w->slots, PGOV_WAKE_MAX);
}

/*
 * After the lock: wakes the waiters of slots (each sleeps on its latch),
 * and the worker, which hands the seat of a woken waiter that lets its turn
 * pass to the next one (pgov_wake_waiters at pgov_turn_ends()).  The
 * worker's PGPROC is read without the lock: a stale one only gets a latch
 * set that nobody waits on.
 */
static void
wake_slots(const int *slots, int n)
{
	PGPROC	   *worker = pgov->worker_proc;
	int			i;

	for (i = 0; i < n; i++)
		SetLatch(&ProcGlobal->allProcs[slots[i]].procLatch);
	if (n > 0)
	{
		pg_atomic_fetch_add_u64(&pgov->wakeups, n);
		if (worker != NULL && worker != MyProc)
			SetLatch(&worker->procLatch);
	}
}

/* Wakes whoever can take a seat now, after anything that may have freed
 * seats without a login's help (a slot reclaimed, sessions reclassified). */
void
pgov_wake_waiters(void)
{
	PgovWakeList w;

	LWLockAcquire(pgov->lock, LW_EXCLUSIVE);
	collect_wakeable(&w, true);
	LWLockRelease(pgov->lock);
	wake_slots(w.slots, w.n);
}

/*
 * When the earliest turn of a woken waiter that is still running ends, or
 * 0 if none is (worker: it calls pgov_wake_waiters then, which passes a seat that a
 * stalled waiter did not take to the next one).
 */
TimestampTz
pgov_turn_ends(void)
{
	int64		ends;

	LWLockAcquire(pgov->lock, LW_SHARED);
	ends = pgov_seat_turn_ends(&pgov_board, GetCurrentTimestamp());
	LWLockRelease(pgov->lock);
	return (TimestampTz) ends;
}

/* A woken waiter decided again: admitted, or still waiting (a wake-up that
 * was of no use to it). */
void
pgov_count_wakeup(bool admitted)
{
	pg_atomic_fetch_add_u64(admitted ? &pgov->wakeups_admitted :
							&pgov->wakeups_requeued, 1);
}

/* After the lock: a slot still held by a backend that left is reclaimed. */
static void
report_reclaimed(int stale)
{
	if (stale)
		pgov_event_add(PGOV_EV_SLOT_RECLAIMED, NULL, NULL,
					   "slot of process %d, which exited without returning it, reclaimed at login",
					   stale);
}

/* An exempt login takes its slot: counted apart, never refused. */
void
pgov_login_exempt(int slotno, const PgovWho *who, TimestampTz now,
				  bool ordinary)
{
	int			stale;

	LWLockAcquire(pgov->lock, LW_EXCLUSIVE);
	stale = pgov_seat_claim(&pgov_board, slotno, MyProcPid, who, now);
	pgov_seat_exempt(&pgov_board, slotno, ordinary, now);
	LWLockRelease(pgov->lock);
	report_reclaimed(stale);
}

static bool
have_free_slots(void *ctx, int n)
{
	return PGOV_HAVE_FREE_PROCS(n);
}

/* "cap 40" or "no cap", for messages: buf when there is a cap. */
const char *
pgov_cap_text(int max_connections, char *buf, size_t len)
{
	if (max_connections == PGOV_NO_CAP)
		return "no cap";
	snprintf(buf, len, "cap %d", max_connections);
	return buf;
}

/*
 * Decides this login's slot: admitted, queued (or still queued) or refused,
 * with the numbers in *v.  The first call (entered != 0) also claims the
 * slot, in the same hold of the lock.  Returns false, deciding nothing, when
 * the rules changed since place was computed: classify again (the slot is
 * claimed all the same).
 */
bool
pgov_login_decide(int slotno, const PgovWho *who, const PgovPlace *place,
				  TimestampTz entered, TimestampTz deadline_cap,
				  PgovVerdict *v)
{
	PgovAsk		ask;
	PgovWakeList w;
	char		cap[32];
	int			stale = 0;
	bool		current;

	ask.tenant = place->tenant;
	ask.rule_id = place->rule_id;
	ask.generation = place->generation;
	ask.now = GetCurrentTimestamp();
	ask.capacity = pgov_capacity();
	ask.slot_limit = pgov_slot_limit();
	ask.monitor = (pgov_mode == PGOV_MODE_MONITOR);
	ask.deadline_cap = deadline_cap;
	ask.keep_free = PGOV_RESERVED_SLOTS + PGOV_WAIT_SLOT_MARGIN;
	ask.have_free_slots = have_free_slots;
	ask.ctx = NULL;

	LWLockAcquire(pgov->lock, LW_EXCLUSIVE);
	/* O(1) unless pool_governor.health_window was changed */
	pgov_board_window(&pgov_board, (int64) pgov_health_window_s * USECS_PER_SEC);
	if (entered != 0)
		stale = pgov_seat_claim(&pgov_board, slotno, MyProcPid, who, entered);
	current = (pgov->generation == place->generation);
	w.n = 0;
	if (current)
	{
		pgov_seat_decide(&pgov_board, slotno, &ask, v);
		/* a waiter left its queue: the next one may fit now */
		if (v->after_wait && v->outcome != PGOV_SEAT_QUEUED)
			collect_wakeable(&w, true);
	}
	LWLockRelease(pgov->lock);
	report_reclaimed(stale);
	if (!current)
		return false;
	wake_slots(w.slots, w.n);

	if (v->outcome == PGOV_SEAT_ADMITTED && v->after_wait)
		pgov_event_add(PGOV_EV_ADMITTED_AFTER_WAIT, v->tenant, who,
					   "admitted after waiting %d ms", v->waited_ms);
	if (v->would_refuse)
		pgov_event_add(PGOV_EV_WOULD_REFUSE, v->tenant, who,
					   "monitor mode: would refuse (%s), %d connected",
					   v->decision == PGOV_REFUSE_CAP ? "tenant at its cap" :
					   v->decision == PGOV_REFUSE_QUEUE ? "earlier logins waiting" :
					   "no shared seat free", v->connected);
	if (v->outcome == PGOV_SEAT_REFUSED)
		pgov_event_add(v->timed_out ? PGOV_EV_WAIT_TIMEOUT : PGOV_EV_REFUSED,
					   v->tenant, who,
					   "%d connected, %s, %d reserved, %d of %d seats held, %d waiting%s",
					   v->connected, pgov_cap_text(v->max_connections, cap, sizeof(cap)),
					   v->reserved, v->sum_held, v->capacity, v->waiting,
					   v->timed_out ? ", wait timed out" : "");
	return true;
}

/*
 * Gives back what process pid holds in slotno (exit callback).  An
 * abandoned wait is logged.
 */
void
pgov_login_release(int slotno, int pid)
{
	PgovReleased out;
	PgovWakeList w;
	bool		released;

	w.n = 0;
	LWLockAcquire(pgov->lock, LW_EXCLUSIVE);
	released = pgov_seat_release(&pgov_board, slotno, pid,
								 GetCurrentTimestamp(), &out);
	if (released)
		collect_wakeable(&w, true);
	LWLockRelease(pgov->lock);

	if (!released)
		return;
	wake_slots(w.slots, w.n);
	if (out.state == PGOV_SLOT_WAITING)
		pgov_event_add(PGOV_EV_WAIT_ABANDONED, out.tenant, &out.who,
					   "login left while waiting for a seat");
}

/* Builds what publishing cfg needs, outside the locks (it allocates). */
static void
prepare(PgovPrepared *pp, const PgovConfig *cfg)
{
	pp->cfg = cfg;
	pp->keys = palloc(sizeof(PgovRuleKey) * Max(cfg->nrules, 1));
	pp->first_group = pgov_index_rules(cfg->rules, cfg->nrules, pp->keys);
	pp->map = palloc(sizeof(int) * Max(cfg->ntenants, 1));
}

static void
unprepare(PgovPrepared *pp)
{
	pfree(pp->keys);
	pfree(pp->map);
}

/*
 * Makes pp's configuration the one in force under generation, placing each
 * governed session by plan (NULL: no session is planned).  Caller holds
 * config_lock and lock EXCLUSIVE.  Nothing here can fail: the tenants'
 * count was checked against max_tenants when the configuration was
 * validated.
 */
static void
publish_locked(const PgovPrepared *pp, const PgovPlan *plan,
			   uint64 generation, TimestampTz now)
{
	const PgovConfig *cfg = pp->cfg;
	int			i;

	if (!pgov_board_publish(&pgov_board, cfg->tenants, cfg->ntenants,
							cfg->default_tenant, plan, generation, now,
							pp->map))
		elog(PANIC, "pool_governor: a validated configuration did not fit");
	for (i = 0; i < cfg->nrules; i++)
	{
		pgov_rules[i] = cfg->rules[i];
		pgov_rules[i].tenant = pp->map[cfg->rules[i].tenant];
	}
	memcpy(pgov_rule_keys, pp->keys, sizeof(PgovRuleKey) * cfg->nrules);
	pgov->first_group = pp->first_group;
	pgov->nrules = cfg->nrules;
	pgov->generation = generation;
	pgov->loaded_at = now;
}

/* Tenant entries cfg needs in shared memory: the one count that the write
 * trigger and the loader both check against max_tenants. */
int
pgov_tenant_entries_for(const PgovConfig *cfg)
{
	return pgov_tenant_entries_needed(cfg->tenants, cfg->ntenants,
									  cfg->default_tenant);
}

/*
 * Makes cfg (validated) the configuration in force, as the next generation,
 * and moves every live governed session to the tenant cfg places it in.
 * The placement is computed outside the locks (it may read a role's
 * memberships) for the sessions alive then; if more logged in meanwhile,
 * they are planned in another pass, so that normally every session moves
 * within the same critical section that publishes.  A session still
 * unplanned after that keeps its old generation and is moved by the
 * worker's next pgov_sync_sessions().  Worker only.
 */
uint64
pgov_publish(const PgovConfig *cfg)
{
	int			nslots = pgov_board.nslots;
	PgovPlan   *plan = palloc0(sizeof(PgovPlan) * nslots);
	int		   *todo = palloc(sizeof(int) * nslots);
	PgovWho    *who = palloc(sizeof(PgovWho) * nslots);
	int		   *waiters = palloc(sizeof(int) * nslots);
	int			nwaiters = 0;
	PgovGroups	groups;
	PgovPrepared pp;
	PgovRuleIndex ix;
	uint64		generation;
	int			attempt;

	prepare(&pp, cfg);
	ix.rules = cfg->rules;
	ix.nrules = cfg->nrules;
	ix.keys = pp.keys;
	ix.first_group = pp.first_group;

	for (attempt = 0;; attempt++)
	{
		int			n = 0;
		int			i;
		bool		complete = true;

		LWLockAcquire(pgov->lock, LW_SHARED);
		for (i = 0; i < nslots; i++)
		{
			PgovSlot   *s = &pgov_board.slots[i];

			if (s->state != PGOV_SLOT_GOVERNED ||
				(plan[i].pid == s->pid && plan[i].entered_at == s->entered_at))
				continue;
			plan[i].pid = s->pid;
			plan[i].entered_at = s->entered_at;
			who[n] = s->who;
			todo[n++] = i;
		}
		LWLockRelease(pgov->lock);

		for (i = 0; i < n; i++)
		{
			PgovPlan   *pl = &plan[todo[i]];
			int			r;

			memset(&groups, 0, sizeof(groups));
			if (!classify_rules(&ix, &who[i], &groups, &r))
			{
				pgov_role_groups(who[i].roleid, &groups);
				classify_rules(&ix, &who[i], &groups, &r);
			}
			pl->def = r >= 0 ? cfg->rules[r].tenant : -1;
			pl->rule_id = r >= 0 ? cfg->rules[r].id : 0;
			if (groups.oids)
				pfree(groups.oids);
		}

		LWLockAcquire(pgov->config_lock, LW_EXCLUSIVE);
		LWLockAcquire(pgov->lock, LW_EXCLUSIVE);
		for (i = 0; i < nslots && complete; i++)
		{
			PgovSlot   *s = &pgov_board.slots[i];

			complete = s->state != PGOV_SLOT_GOVERNED ||
				(plan[i].pid == s->pid && plan[i].entered_at == s->entered_at);
		}
		if (complete || attempt + 1 >= PGOV_PLAN_ATTEMPTS)
			break;
		LWLockRelease(pgov->lock);
		LWLockRelease(pgov->config_lock);
	}

	/* waiters decide again under the new rules */
	for (attempt = 0; attempt < nslots; attempt++)
		if (pgov_board.slots[attempt].state == PGOV_SLOT_WAITING)
			waiters[nwaiters++] = attempt;
	generation = pgov->generation + 1;
	publish_locked(&pp, plan, generation, GetCurrentTimestamp());
	LWLockRelease(pgov->lock);
	LWLockRelease(pgov->config_lock);
	unprepare(&pp);
	wake_slots(waiters, nwaiters);

	pfree(waiters);
	pfree(plan);
	pfree(todo);
	pfree(who);
	return generation;
}

/* Says why health is not ok (level NONE: it is).  Returns whether that
 * changed what health said, so that the caller logs a problem once. */
bool
pgov_set_problem(PgovProblemLevel level, const char *problem)
{
	bool		changed;

	if (problem == NULL)
		problem = "";
	LWLockAcquire(pgov->lock, LW_EXCLUSIVE);
	changed = pgov->problem_level != level || strcmp(pgov->problem, problem) != 0;
	pgov->problem_level = level;
	strlcpy(pgov->problem, problem, PGOV_PROBLEM_LEN);
	LWLockRelease(pgov->lock);
	return changed;
}

static int
pid_cmp(const void *a, const void *b)
{
	int			x = *(const int *) a;
	int			y = *(const int *) b;

	return (x > y) - (x < y);
}

static void
who_from_backend(PgBackendStatus *be, PgovWho *who)
{
	const struct sockaddr_storage *ss = &be->st_clientaddr.addr;
	char	   *name;

	memset(who, 0, sizeof(*who));
	who->roleid = be->st_userid;
	name = GetUserNameFromId(be->st_userid, true);
	strlcpy(who->role_name, name ? name : "", NAMEDATALEN);
	name = get_database_name(be->st_databaseid);
	strlcpy(who->database_name, name ? name : "", NAMEDATALEN);
	strlcpy(who->application_name, be->st_appname ? be->st_appname : "", NAMEDATALEN);
	pgov_who_set_addr(who, ss);
}

/* Classifies who by the rules in force, computing memberships if asked. */
static void
place_of(const PgovWho *who, PgovPlace *place)
{
	PgovGroups	groups;

	memset(&groups, 0, sizeof(groups));
	if (!pgov_classify_published(who, &groups, place))
	{
		pgov_role_groups(who->roleid, &groups);
		pgov_classify_published(who, &groups, place);
	}
	if (groups.oids)
		pfree(groups.oids);
}

/*
 * Keeps the counters equal to the live sessions under the rules in force
 * (worker, every tick):
 * - a governed session classified by an older generation (it logged in
 *   while a publication was being planned) is classified and moved;
 * - with adopt, a client backend that holds no slot (it logged in while the
 *   governor was off) is counted from its own backend status: its role,
 *   database, current application_name and address.
 * Catalog reads happen outside our locks; each move is re-checked under it.
 */
void
pgov_sync_sessions(bool adopt)
{
	int			nslots = pgov_board.nslots;
	int		   *todo = palloc(sizeof(int) * nslots);
	PgovSlot   *copy = palloc(sizeof(PgovSlot) * nslots);
	uint64		generation;
	int			n = 0;
	int			i;
	int			nbackends;
	int			adopted = 0;

	LWLockAcquire(pgov->lock, LW_SHARED);
	generation = pgov->generation;
	for (i = 0; i < nslots; i++)
	{
		PgovSlot   *s = &pgov_board.slots[i];

		if (s->state == PGOV_SLOT_GOVERNED && s->generation != generation)
		{
			copy[n] = *s;
			todo[n++] = i;
		}
	}
	LWLockRelease(pgov->lock);

	for (i = 0; i < n; i++)
	{
		PgovPlace	place;
		PgovSlot   *s = &pgov_board.slots[todo[i]];

		place_of(&copy[i].who, &place);
		LWLockAcquire(pgov->lock, LW_EXCLUSIVE);
		if (s->pid == copy[i].pid && s->entered_at == copy[i].entered_at &&
			pgov->generation == place.generation)
			pgov_seat_reclassify(&pgov_board, todo[i], place.tenant,
								 place.rule_id, place.generation,
								 GetCurrentTimestamp());
		LWLockRelease(pgov->lock);
	}
	/* a session moved out of a tenant may have freed a seat there */
	if (n > 0)
		pgov_wake_waiters();

	if (adopt)
	{
		int		   *pids;
		int		   *scratch = palloc(sizeof(int) * nslots);
		int			npids = 0;
		int			nstray;

		/*
		 * A stray is a started client session that holds no slot.  Each
		 * started session is looked up among the slots' holders
		 * (pgov_seat_strays); only the strays cost a proc array lookup.
		 */
		pgstat_clear_snapshot();
		nbackends = pgstat_fetch_stat_numbackends();
		pids = palloc(sizeof(int) * (nbackends + 1));
		for (i = 1; i <= nbackends; i++)
		{
			LocalPgBackendStatus *l = PGOV_LOCAL_BEENTRY(i);

			if (l && (l->backendStatus.st_backendType == B_BACKEND ||
					  l->backendStatus.st_backendType == B_WAL_SENDER) &&
				!PGOV_BACKEND_STARTING(&l->backendStatus))
				pids[npids++] = l->backendStatus.st_procpid;
		}
		LWLockAcquire(pgov->lock, LW_SHARED);
		nstray = pgov_seat_strays(&pgov_board, pids, npids, scratch);
		LWLockRelease(pgov->lock);

		for (i = 1; i <= nbackends && nstray > 0; i++)
		{
			LocalPgBackendStatus *l = PGOV_LOCAL_BEENTRY(i);
			PgBackendStatus *be;
			PGPROC	   *proc;
			int			slotno;
			bool		candidate;
			bool		exempt;
			PgovWho		who;
			PgovPlace	place;

			if (l == NULL)
				continue;
			be = &l->backendStatus;
			if ((be->st_backendType != B_BACKEND && be->st_backendType != B_WAL_SENDER) ||
				PGOV_BACKEND_STARTING(be) ||
				bsearch(&be->st_procpid, pids, nstray, sizeof(int), pid_cmp) == NULL)
				continue;
			proc = BackendPidGetProc(be->st_procpid);
			if (proc == NULL)
				continue;
			slotno = PGOV_PROCNO(proc);
			if (slotno < 0 || slotno >= nslots)
				continue;
			LWLockAcquire(pgov->lock, LW_SHARED);
			candidate = pgov_board.slots[slotno].pid == 0 &&
				pgov_board.slots[slotno].last_pid != be->st_procpid;
			LWLockRelease(pgov->lock);
			if (!candidate)
				continue;

			who_from_backend(be, &who);
			exempt = be->st_backendType == B_WAL_SENDER ||
				(pgov_exempt_superusers && pgov_role_is_exempt(be->st_userid));
			memset(&place, 0, sizeof(place));
			if (!exempt)
				place_of(&who, &place);

			LWLockAcquire(pgov->lock, LW_EXCLUSIVE);
			if (ProcGlobal->allProcs[slotno].pid == be->st_procpid &&
				(exempt || pgov->generation == place.generation) &&
				pgov_seat_adopt(&pgov_board, slotno, be->st_procpid, &who,
								exempt, be->st_backendType == B_BACKEND,
								place.tenant, place.rule_id, place.generation,
								GetCurrentTimestamp()))
				adopted++;
			LWLockRelease(pgov->lock);
		}
		pgstat_clear_snapshot();
		pfree(pids);
		pfree(scratch);
		if (adopted > 0)
			pgov_event_add(PGOV_EV_ADOPTED, NULL, NULL,
						   "%d sessions that logged in without the governor are now counted",
						   adopted);
	}
	pfree(todo);
	pfree(copy);
}

/*
 * Frees the slots of backends that exited without giving their seat back.
 * A slot is indexed by its PGPROC and the exit callback runs before the
 * PGPROC is released, so a slot whose PGPROC now holds another pid, or
 * whose process is gone, has leaked.  A backend still in the hook owns its
 * PGPROC and is never taken for a leak.  The scan reads pids without the
 * lock; each suspect is released under it, only if still the same pid.
 */
void
pgov_reconcile(void)
{
	int			i;

	for (i = 0; i < pgov_board.nslots; i++)
	{
		int			pid = pgov_board.slots[i].pid;
		PgovReleased out;
		bool		released;

		if (pid == 0)
			continue;
		if (ProcGlobal->allProcs[i].pid == pid &&
			!(kill(pid, 0) != 0 && errno == ESRCH))
			continue;

		LWLockAcquire(pgov->lock, LW_EXCLUSIVE);
		released = pgov_seat_release(&pgov_board, i, pid,
									 GetCurrentTimestamp(), &out);
		LWLockRelease(pgov->lock);

		if (released)
		{
			pgov_wake_waiters();
			ereport(LOG,
					(errmsg("pool_governor reclaimed the seat of process %d, which exited without returning it",
							pid)));
			pgov_event_add(PGOV_EV_SLOT_RECLAIMED, out.tenant[0] ? out.tenant : NULL,
						   &out.who, "process %d exited without returning its seat", pid);
		}
	}
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

	LWLockAcquire(pgov->lock, LW_EXCLUSIVE);
	ticket = ++pgov->load_requested;
	proc = pgov->worker_proc;
	LWLockRelease(pgov->lock);
	if (proc != NULL)
		SetLatch(&proc->procLatch);
	return ticket;
}

/* The worker, before reading the tables: the tickets this load serves. */
uint64
pgov_load_begin(void)
{
	uint64		ticket;

	LWLockAcquire(pgov->lock, LW_SHARED);
	ticket = pgov->load_requested;
	LWLockRelease(pgov->lock);
	return ticket;
}

void
pgov_load_end(uint64 ticket, bool ok, const char *problem)
{
	LWLockAcquire(pgov->lock, LW_EXCLUSIVE);
	if (ticket > pgov->load_done)
		pgov->load_done = ticket;
	pgov->load_ok = ok;
	strlcpy(pgov->load_problem, problem ? problem : "", PGOV_PROBLEM_LEN);
	LWLockRelease(pgov->lock);
	ConditionVariableBroadcast(&pgov->load_cv);
}

/* Is there work for the worker beside a reload() ticket? */
static bool
load_pending(void)
{
	return pgov->config_dirty || pgov->load_requested > pgov->load_done;
}

/*
 * Waits (interruptibly) until ticket is served.  Returns false on timeout;
 * otherwise how that load went, and the generation in force.
 */
bool
pgov_wait_load(uint64 ticket, int timeout_ms, bool *ok, char *problem,
			   uint64 *generation)
{
	TimestampTz until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);
	bool		served;

	for (;;)
	{
		long		left;

		LWLockAcquire(pgov->lock, LW_SHARED);
		served = pgov->load_done >= ticket;
		*ok = pgov->load_ok;
		strlcpy(problem, pgov->load_problem, PGOV_PROBLEM_LEN);
		*generation = pgov->generation;
		LWLockRelease(pgov->lock);
		if (served)
			break;
		left = (long) ((until - GetCurrentTimestamp()) / 1000);
		if (left <= 0)
			break;
		(void) ConditionVariableTimedSleep(&pgov->load_cv, Min(left, 1000),
										   PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();
	return served;
}

/*
 * Records what the worker found of its database.  Returns, for QUERY, the
 * state; for READY, how many checks had missed it; for MISSING, how many
 * have now, this one included.
 */
int
pgov_db_state(PgovDbState note)
{
	int			result;

	LWLockAcquire(pgov->lock, LW_EXCLUSIVE);
	switch (note)
	{
		case PGOV_DB_QUERY:
			result = pgov->db_state;
			break;
		case PGOV_DB_READY:
			result = pgov->db_misses;
			pgov->db_misses = 0;
			pgov->db_state = note;
			break;
		case PGOV_DB_MISSING:
			result = ++pgov->db_misses;
			pgov->db_state = note;
			break;
		default:
			result = 0;
			pgov->db_state = note;
			break;
	}
	LWLockRelease(pgov->lock);
	return result;
}

void
pgov_worker_attach(void)
{
	LWLockAcquire(pgov->lock, LW_EXCLUSIVE);
	pgov->worker_pid = MyProcPid;
	pgov->worker_proc = MyProc;
	pgov->config_dirty = true;	/* load at start */
	LWLockRelease(pgov->lock);
}

void
pgov_worker_detach(void)
{
	LWLockAcquire(pgov->lock, LW_EXCLUSIVE);
	if (pgov->worker_pid == MyProcPid)
	{
		pgov->worker_pid = 0;
		pgov->worker_proc = NULL;
	}
	LWLockRelease(pgov->lock);
}

/* The worker: is a load asked for?  Clears the commit flag. */
bool
pgov_take_dirty(void)
{
	bool		pending;

	LWLockAcquire(pgov->lock, LW_EXCLUSIVE);
	pending = load_pending();
	pgov->config_dirty = false;
	LWLockRelease(pgov->lock);
	return pending;
}

/* Tells the worker a committed change awaits loading. */
void
pgov_wake_worker(void)
{
	PGPROC	   *proc;

	if (pgov == NULL)
		return;
	LWLockAcquire(pgov->lock, LW_EXCLUSIVE);
	pgov->config_dirty = true;
	proc = pgov->worker_proc;
	LWLockRelease(pgov->lock);
	if (proc != NULL)
		SetLatch(&proc->procLatch);
}

/* Zeroes the cumulative counters of one tenant, or of all (NULL).  Returns
 * false when there is no such tenant. */
bool
pgov_reset_stats(const char *tenant)
{
	TimestampTz now = GetCurrentTimestamp();
	int			idx = -1;

	LWLockAcquire(pgov->lock, LW_EXCLUSIVE);
	if (tenant)
		idx = pgov_find_tenant_entry(&pgov_board, tenant);
	if (tenant == NULL || idx >= 0)
		pgov_board_reset_stats(&pgov_board, idx, now);
	LWLockRelease(pgov->lock);
	if (tenant == NULL)
		pgov_timing_reset();
	return tenant == NULL || idx >= 0;
}

const char *
pgov_event_kind_name(PgovEventKind kind)
{
	switch (kind)
	{
		case PGOV_EV_REFUSED:
			return "refused";
		case PGOV_EV_WAIT_TIMEOUT:
			return "wait timeout";
		case PGOV_EV_ADMITTED_AFTER_WAIT:
			return "admitted after wait";
		case PGOV_EV_WOULD_REFUSE:
			return "would refuse";
		case PGOV_EV_CONFIG_LOADED:
			return "config loaded";
		case PGOV_EV_CONFIG_REFUSED:
			return "config refused";
		case PGOV_EV_SLOT_RECLAIMED:
			return "slot reclaimed";
		case PGOV_EV_WAIT_ABANDONED:
			return "wait abandoned";
		case PGOV_EV_ADOPTED:
			return "sessions adopted";
	}
	return "unknown";
}

const char *
pgov_slot_state_name(PgovSlotState state)
{
	switch (state)
	{
		case PGOV_SLOT_FREE:
			return "free";
		case PGOV_SLOT_CLAIMED:
			return "starting";
		case PGOV_SLOT_GOVERNED:
			return "governed";
		case PGOV_SLOT_WAITING:
			return "waiting";
		case PGOV_SLOT_EXEMPT:
			return "exempt";
	}
	return "unknown";
}

/*
 * Appends to the event ring.  The detail is formatted before the lock is
 * taken; the copy under it is O(1).  Must not be called holding lock.
 */
void
pgov_event_add(PgovEventKind kind, const char *tenant, const PgovWho *who,
			   const char *fmt,...)
{
	PgovEvent	ev;
	va_list		args;

	if (pgov == NULL || pgov_event_log_size <= 0)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.time = GetCurrentTimestamp();
	ev.kind = kind;
	if (tenant)
		strlcpy(ev.tenant, tenant, NAMEDATALEN);
	if (who)
	{
		ev.has_who = true;
		ev.who = *who;
	}
	va_start(args, fmt);
	vsnprintf(ev.detail, sizeof(ev.detail), fmt, args);
	va_end(args);

	LWLockAcquire(pgov->event_lock, LW_EXCLUSIVE);
	pgov_events[pgov->events_written % pgov_event_log_size] = ev;
	pgov->events_written++;
	LWLockRelease(pgov->event_lock);
}

/* Adds one login's time in the hook to the timing histogram. */
void
pgov_timing_record(uint64 ns)
{
	uint64		us = ns / 1000;
	int			bucket = 0;

	while (bucket < PGOV_TIMING_BUCKETS - 1 && us >= (UINT64CONST(1) << bucket))
		bucket++;
	pg_atomic_fetch_add_u64(&pgov->hook_hist[bucket], 1);
	pg_atomic_fetch_add_u64(&pgov->hook_logins, 1);
	pg_atomic_fetch_add_u64(&pgov->hook_ns_total, (int64) ns);
	if (ns > pg_atomic_read_u64(&pgov->hook_ns_max))
		pg_atomic_write_u64(&pgov->hook_ns_max, ns);
}

void
pgov_timing_reset(void)
{
	int			i;

	pg_atomic_write_u64(&pgov->hook_logins, 0);
	pg_atomic_write_u64(&pgov->hook_ns_total, 0);
	pg_atomic_write_u64(&pgov->hook_ns_max, 0);
	for (i = 0; i < PGOV_TIMING_BUCKETS; i++)
		pg_atomic_write_u64(&pgov->hook_hist[i], 0);
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
		pg_atomic_fetch_add_u64(&pgov->worker_ticks, 1);
	if (load)
		pg_atomic_fetch_add_u64(&pgov->worker_loads, 1);
}
