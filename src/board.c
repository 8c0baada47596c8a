/*-------------------------------------------------------------------------
 *
 * board.c
 *		Owner of the seat board and its lock (board.h has the locking
 *		protocol): every login's claim, decision and release, whom to wake,
 *		publication, the moves the worker's sync asks for (sync.c), the
 *		drain's marks, and the lock's hold for the copies the views read
 *		(boardread.c).
 *
 * seats.c (with share.c and publish.c) is the pure state machine behind
 * the board; this file is its only caller, and calls it holding the
 * board's lock.  A publication also installs the rules, through rules.c,
 * holding both locks (rules first).  Every function here that takes the
 * lock is the only code that touches the fields it guards.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/postmaster.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/shmem.h"
#include "utils/backend_status.h"
#include "utils/timestamp.h"

#include "board.h"
#include "clusterseats.h"
#include "compat.h"
#include "control.h"
#include "events.h"
#include "identity.h"
#include "loginstats.h"
#include "publish.h"
#include "settings.h"
#include "share.h"
#include "snapshot.h"

StaticAssertDecl(PGOV_NAME_LEN == NAMEDATALEN,
				 "policy.h's name length must be PostgreSQL's NAMEDATALEN");
StaticAssertDecl(sizeof(Oid) == sizeof(uint32_t),
				 "role OIDs are kept as uint32_t in the pure code");

typedef struct BoardShared
{
	LWLock	   *lock;

	/* lock */
	PgovSeatTotals totals;
	uint64		generation;		/* written holding the rules' lock too */
	TimestampTz loaded_at;
} BoardShared;

static BoardShared *bs = NULL;
static PgovBoard board;			/* tenants [max_tenants], slots [nslots] */

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

static int	role_after(int role);
static bool follow_role_locked(int role, TimestampTz now, PgovWakeList *w);
static void report_role(int role);

Size
pgov_board_shmem_size(void)
{
	Size		size = MAXALIGN(sizeof(BoardShared));

	size = add_size(size, MAXALIGN(mul_size(pgov_max_tenants, sizeof(PgovTenant))));
	size = add_size(size, MAXALIGN(mul_size(MaxBackends, sizeof(PgovSlot))));
	size = add_size(size, MAXALIGN(mul_size(pgov_max_tenants, sizeof(PgovShareEntry))));
	return size;
}

/*
 * Attaches to the board (init: creates it).  After a crash the postmaster
 * makes a new segment and every backend is gone, so zero counters are
 * exactly right.
 */
void
pgov_board_attach(void *base, LWLock *lock, bool init)
{
	char	   *p = base;

	bs = (BoardShared *) p;
	p += MAXALIGN(sizeof(BoardShared));
	board.totals = &bs->totals;
	board.tenants = (PgovTenant *) p;
	board.max_tenants = pgov_max_tenants;
	p += MAXALIGN(mul_size(pgov_max_tenants, sizeof(PgovTenant)));
	board.slots = (PgovSlot *) p;
	board.nslots = MaxBackends;
	p += MAXALIGN(mul_size(MaxBackends, sizeof(PgovSlot)));
	board.heap = (PgovShareEntry *) p;
	if (!init)
		return;

	memset(bs, 0, sizeof(*bs));
	bs->lock = lock;
	pgov_board_init(&board);
	pgov_board_window(&board, (int64) pgov_health_window_s * USECS_PER_SEC);
}

/* Is shared memory there (the library was preloaded)? */
bool
pgov_attached(void)
{
	return bs != NULL;
}

int
pgov_board_nslots(void)
{
	return board.nslots;
}

/* Makes cfg the configuration in force under generation, placing each live
 * session by plan (NULL: none is planned), rules and board alike.  Caller
 * holds the rules' lock (pgov_rules_lock) and the board's, EXCLUSIVE.
 * Nothing here can fail: the tenants' count was checked against
 * max_tenants when the configuration was validated. */
static void
publish_locked(const PgovPrepared *pp, const PgovPlan *plan, int *map,
			   int role, uint64 generation, TimestampTz now)
{
	const PgovConfig *cfg = pp->cfg;

	/* a tenant with a cluster quota has its floor and grant as its cap
	 * while etcd is named (from the first login after a start: grants
	 * come later, from the worker) */
	pgov_seat_cluster_on(&board, pgov_etcd_endpoints[0] != '\0', now);
	if (!pgov_seat_publish(&board, cfg->tenants, cfg->ntenants,
							cfg->numbers[0] ? cfg->numbers : NULL, role,
							cfg->default_tenant, plan, generation, now, map))
		elog(PANIC, "pool_governor: a validated configuration did not fit");
	pgov_rules_install(pp, map, bs->totals.default_tenant, generation);
	bs->generation = generation;
	bs->loaded_at = now;
}

/*
 * The postmaster, once the board exists and before any backend does: the
 * configuration in force before the stop or crash comes back from the
 * snapshot file, so the governor never starts open.  Without a file (a new
 * installation) generation 0 is the default tenant alone, with no cap.
 */
void
pgov_board_restore(void)
{
	PgovConfig	cfg;
	PgovPrepared pp;
	uint64		generation = 0;
	char		problem[PGOV_PROBLEM_LEN];
	int		   *map;
	int			role;
	TimestampTz now;

	problem[0] = '\0';
	memset(&cfg, 0, sizeof(cfg));
	if (pgov_snapshot_read(&cfg, &generation, problem, sizeof(problem)))
	{
		/* the server may have changed while it was down */
		strlcpy(cfg.default_tenant, pgov_default_tenant, NAMEDATALEN);
		pgov_fit_config(&cfg);
		/* each distinct problem once: the roles' numbers are often the same */
		for (role = 0; role < PGOV_NROLES; role++)
			if (cfg.level[role] != PGOV_PROBLEM_NONE &&
				(role == 0 || strcmp(cfg.problem[role], cfg.problem[0]) != 0))
				ereport(LOG, (errmsg("pool_governor: %s", cfg.problem[role])));
		problem[0] = '\0';
	}
	else
	{
		memset(&cfg, 0, sizeof(cfg));
		strlcpy(cfg.default_tenant, pgov_default_tenant, NAMEDATALEN);
		strlcpy(cfg.node_name, pgov_node_name, NAMEDATALEN);
		generation = 0;
	}
	pgov_rules_prepare(&pp, &cfg);
	map = palloc(sizeof(int) * Max(cfg.ntenants, 1));
	now = generation ? GetCurrentTimestamp() : 0;
	pgov_rules_lock();
	LWLockAcquire(bs->lock, LW_EXCLUSIVE);
	/* the role is the first login's to say: a standby or not */
	publish_locked(&pp, NULL, map, PGOV_ROLE_UNKNOWN, generation, now);
	LWLockRelease(bs->lock);
	pgov_rules_unlock();
	/* the control block's part, once the board's lock is released: the
	 * two locks are never held together */
	pgov_set_node_name(cfg.node_name);
	/* a snapshot that cannot be used is critical until the tables load */
	pgov_set_problem(problem[0] ? PGOV_PROBLEM_CRITICAL : PGOV_PROBLEM_NONE,
					 problem);
	(void) pgov_set_fit(&cfg, 0);
	pgov_rules_unprepare(&pp);
	pfree(map);
	pgov_free_config(&cfg);
}

/* The role whose numbers are in force (PGOV_ROLE_UNKNOWN before the first
 * login said). */
int
pgov_board_role(void)
{
	int			role;

	LWLockAcquire(bs->lock, LW_SHARED);
	role = bs->totals.role;
	LWLockRelease(bs->lock);
	return role;
}

/* The generation the board follows. */
uint64
pgov_generation(void)
{
	uint64		generation;

	LWLockAcquire(bs->lock, LW_SHARED);
	generation = bs->generation;
	LWLockRelease(bs->lock);
	return generation;
}

/*
 * The waiters that can take a seat now, the head of each queue that would
 * be admitted and no more (pgov_seat_wakeable).  With mark those already
 * woken are left out and the others marked.  bs->lock held EXCLUSIVE
 * either way: the fair hand-off writes the tenants' scratch fields.
 */
static void
collect_wakeable(PgovWakeList *w, bool mark, TimestampTz now)
{
	int			capacity = pgov_capacity_in_force(&board, pgov_capacity(),
												  pgov_slot_limit());

	w->n = pgov_seat_wakeable(&board, capacity, mark, (int64) now, w->slots,
							  PGOV_WAKE_MAX);
}

/*
 * After the lock: wakes the waiters of slots (each sleeps on its latch),
 * and the worker, which hands the seat of a woken waiter that lets its turn
 * pass to the next one (pgov_wake_waiters at pgov_turn_ends()).
 */
static void
wake_slots(const int *slots, int n)
{
	int			i;

	for (i = 0; i < n; i++)
		SetLatch(&ProcGlobal->allProcs[slots[i]].procLatch);
	if (n > 0)
	{
		pgov_count_woken(n);
		pgov_nudge_worker();
	}
}

/* Wakes whoever can take a seat now, after anything that may have freed
 * seats without a login's help (a slot reclaimed, sessions reclassified). */
void
pgov_wake_waiters(void)
{
	PgovWakeList w;
	TimestampTz now = GetCurrentTimestamp();

	LWLockAcquire(bs->lock, LW_EXCLUSIVE);
	collect_wakeable(&w, true, now);
	LWLockRelease(bs->lock);
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
	TimestampTz now = GetCurrentTimestamp();

	LWLockAcquire(bs->lock, LW_SHARED);
	ends = pgov_seat_turn_ends(&board, (int64) now);
	LWLockRelease(bs->lock);
	return (TimestampTz) ends;
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
	int			role = pgov_node_role();
	PgovWakeList w;
	bool		switched;

	w.n = 0;
	LWLockAcquire(bs->lock, LW_EXCLUSIVE);
	stale = pgov_seat_claim(&board, slotno, MyProcPid, who, now);
	pgov_seat_exempt(&board, slotno, ordinary, now);
	/* what this session reads of the governor is in the node's role */
	switched = bs->totals.role != role && follow_role_locked(role, now, &w);
	LWLockRelease(bs->lock);
	report_reclaimed(stale);
	wake_slots(w.slots, w.n);
	if (switched)
		report_role(role);
}

static bool
have_free_slots(void *ctx, int n)
{
	return PGOV_HAVE_FREE_PROCS(n);
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
	bool		switched;
	int			role = pgov_node_role();

	ask.tenant = place->tenant;
	ask.rule_id = place->rule_id;
	ask.generation = place->generation;
	ask.now = GetCurrentTimestamp();
	ask.capacity = pgov_capacity();
	ask.slot_limit = pgov_slot_limit();
	ask.monitor = (pgov_mode == PGOV_MODE_MONITOR);
	ask.deadline_cap = deadline_cap;
	ask.keep_free = PGOV_RESERVED_SLOTS + PGOV_WAIT_SLOT_MARGIN;
	ask.pace_max_ms = pgov_refusal_pacing_ms;
	ask.have_free_slots = have_free_slots;
	ask.ctx = NULL;

	LWLockAcquire(bs->lock, LW_EXCLUSIVE);
	/* O(1) unless pool_governor.health_window was changed */
	pgov_board_window(&board, (int64) pgov_health_window_s * USECS_PER_SEC);
	if (entered != 0)
		stale = pgov_seat_claim(&board, slotno, MyProcPid, who, entered);
	current = (bs->generation == place->generation);
	w.n = 0;
	/* the first login after a promotion is judged by the primary's numbers */
	switched = bs->totals.role != role && follow_role_locked(role, ask.now, NULL);
	if (current)
	{
		/* a grant whose time is up is given up by the login's own clock
		 * reading: the worker may be late to take it back */
		pgov_seat_cluster_lapse(&board, &board.tenants[ask.tenant], ask.now);
		pgov_seat_decide(&board, slotno, &ask, v);
	}
	/* a waiter left its queue, or a cap was raised: others may fit now */
	if ((current && v->after_wait && v->outcome != PGOV_SEAT_QUEUED) || switched)
		collect_wakeable(&w, true, ask.now);
	LWLockRelease(bs->lock);
	report_reclaimed(stale);
	if (switched)
		report_role(role);
	wake_slots(w.slots, w.n);
	if (!current)
		return false;

	if (v->outcome == PGOV_SEAT_ADMITTED && v->after_wait)
		pgov_event_add(PGOV_EV_ADMITTED_AFTER_WAIT, v->tenant, who,
					   "admitted after waiting %d ms", v->waited_ms);
	if (v->would_refuse)
		pgov_event_add(PGOV_EV_WOULD_REFUSE, v->tenant, who,
					   "monitor mode: would refuse (%s), %d connected",
					   v->decision == PGOV_REFUSE_CAP ? "tenant at its cap" :
					   v->decision == PGOV_REFUSE_QUEUE ? "earlier logins waiting" :
					   v->decision == PGOV_REFUSE_SHARE ? "free seats due to other tenants first" :
					   "no shared seat free", v->connected);
	if (v->outcome == PGOV_SEAT_REFUSED)
	{
		char		held[48] = "";

		if (v->pace_ms > 0)
			snprintf(held, sizeof(held), ", answer held %d ms", v->pace_ms);
		pgov_event_add(v->timed_out ? PGOV_EV_WAIT_TIMEOUT : PGOV_EV_REFUSED,
					   v->tenant, who,
					   "%d connected, %s, %d reserved, %d of %d seats held, %d waiting%s%s",
					   v->connected, pgov_cap_text(v->max_connections, cap, sizeof(cap)),
					   v->reserved, v->sum_held, v->capacity, v->waiting,
					   v->timed_out ? ", wait timed out" : "", held);
	}
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
	TimestampTz now = GetCurrentTimestamp();

	w.n = 0;
	LWLockAcquire(bs->lock, LW_EXCLUSIVE);
	released = pgov_seat_release(&board, slotno, pid, now, &out);
	if (released)
		collect_wakeable(&w, true, now);
	LWLockRelease(bs->lock);

	if (!released)
		return;
	wake_slots(w.slots, w.n);
	if (out.state == PGOV_SLOT_WAITING)
		pgov_event_add(PGOV_EV_WAIT_ABANDONED, out.tenant, &out.who,
					   "login left while waiting for a seat");
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
	int			nslots = board.nslots;
	PgovPlan   *plan = palloc0(sizeof(PgovPlan) * nslots);
	int		   *todo = palloc(sizeof(int) * nslots);
	PgovWho    *who = palloc(sizeof(PgovWho) * nslots);
	int		   *waiters = palloc(sizeof(int) * nslots);
	int			nwaiters = 0;
	int		   *map = palloc(sizeof(int) * Max(cfg->ntenants, 1));
	PgovPrepared pp;
	uint64		generation;
	int			attempt;
	int			role = pgov_node_role();
	int			role_before;
	TimestampTz now = 0;

	pgov_rules_prepare(&pp, cfg);

	for (attempt = 0;; attempt++)
	{
		int			n = 0;
		int			i;
		bool		complete = true;

		LWLockAcquire(bs->lock, LW_SHARED);
		for (i = 0; i < nslots; i++)
		{
			PgovSlot   *s = &board.slots[i];

			if (s->state != PGOV_SLOT_GOVERNED ||
				(plan[i].pid == s->pid && plan[i].entered_at == s->entered_at))
				continue;
			plan[i].pid = s->pid;
			plan[i].entered_at = s->entered_at;
			who[n] = s->who;
			todo[n++] = i;
		}
		LWLockRelease(bs->lock);

		for (i = 0; i < n; i++)
			pgov_rules_place_prepared(&pp, &who[i], &plan[todo[i]].def,
									  &plan[todo[i]].rule_id);

		now = GetCurrentTimestamp();
		pgov_rules_lock();
		LWLockAcquire(bs->lock, LW_EXCLUSIVE);
		for (i = 0; i < nslots && complete; i++)
		{
			PgovSlot   *s = &board.slots[i];

			complete = s->state != PGOV_SLOT_GOVERNED ||
				(plan[i].pid == s->pid && plan[i].entered_at == s->entered_at);
		}
		if (complete || attempt + 1 >= PGOV_PLAN_ATTEMPTS)
			break;
		LWLockRelease(bs->lock);
		pgov_rules_unlock();
	}

	/* waiters decide again under the new rules */
	for (attempt = 0; attempt < nslots; attempt++)
		if (board.slots[attempt].state == PGOV_SLOT_WAITING)
			waiters[nwaiters++] = attempt;
	generation = bs->generation + 1;
	role_before = bs->totals.role;
	role = role_after(role);
	publish_locked(&pp, plan, map, role, generation, now);
	LWLockRelease(bs->lock);
	pgov_rules_unlock();
	pgov_set_node_name(cfg->node_name);
	if (role_before != PGOV_ROLE_UNKNOWN && role_before != role)
		report_role(role);
	pgov_rules_unprepare(&pp);
	wake_slots(waiters, nwaiters);

	pfree(waiters);
	pfree(plan);
	pfree(todo);
	pfree(who);
	pfree(map);
	return generation;
}

/*
 * The role to enforce when role is what the caller saw: a node goes from
 * standby to primary and never back while it runs (a demoted node restarts,
 * with a new board), so a login that looked before a promotion and takes
 * the lock after one that looked later does not switch the board back.
 * Caller holds bs->lock.
 */
static int
role_after(int role)
{
	return bs->totals.role == PGOV_ROLE_PRIMARY ? PGOV_ROLE_PRIMARY : role;
}

/* Caller holds bs->lock EXCLUSIVE: the numbers of role become those in
 * force; w (unless NULL) gets the waiters a raised cap lets in. */
static bool
follow_role_locked(int role, TimestampTz now, PgovWakeList *w)
{
	if (!pgov_seat_set_role(&board, role_after(role), now))
		return false;
	if (w)
		collect_wakeable(w, true, now);
	return true;
}

static void
report_role(int role)
{
	pgov_event_add(PGOV_EV_ROLE, NULL, NULL, "this node is now %s: its numbers as %s are in force",
				   role == PGOV_ROLE_STANDBY ? "a standby" : "the primary",
				   pgov_role_name(role));
}

/*
 * Makes the numbers in force those of the role this node has now, when
 * they are not yet: the first call after a standby's promotion switches
 * them.  Logins do the same within their decision (pgov_login_decide);
 * this is for the worker's tick and for sessions that decide nothing.
 */
void
pgov_follow_role(void)
{
	int			role = pgov_node_role();
	PgovWakeList w;
	bool		switched;
	TimestampTz now;

	/* a stale read only costs a lock: the role is checked again under it */
	if (((volatile PgovSeatTotals *) &bs->totals)->role == role)
		return;
	w.n = 0;
	now = GetCurrentTimestamp();
	LWLockAcquire(bs->lock, LW_EXCLUSIVE);
	switched = follow_role_locked(role, now, &w);
	LWLockRelease(bs->lock);
	wake_slots(w.slots, w.n);
	if (switched)
		report_role(role);
}

/*
 * The worker's sync with the live sessions (sync.c) reads their identity
 * and the catalog outside the lock, then asks here, under it, for each
 * change: a copy of the slots to look at, and each move applied only if
 * the slot still holds the same session.
 */

/* Copies the slots that pick selects (with their indexes into todo);
 * returns how many, and the generation in force. */
int
pgov_board_copy_slots(PgovSlotPick pick, PgovSlot *copy, int *todo,
					  uint64 *generation)
{
	int			n = 0;
	int			i;

	LWLockAcquire(bs->lock, LW_SHARED);
	*generation = bs->generation;
	for (i = 0; i < board.nslots; i++)
	{
		PgovSlot   *s = &board.slots[i];
		bool		take;

		if (pick == PGOV_PICK_STALE)
			take = s->state == PGOV_SLOT_GOVERNED && s->generation != bs->generation;
		else
			take = s->state == PGOV_SLOT_GOVERNED ||
				(s->state == PGOV_SLOT_EXEMPT && s->ordinary);
		if (take)
		{
			copy[n] = *s;
			todo[n++] = i;
		}
	}
	LWLockRelease(bs->lock);
	return n;
}

/*
 * Moves the session that slot slotno held when copied into *was: to the
 * tenant place says (RECLASSIFY, MAKE_GOVERNED: only while place's
 * generation is in force) or out of its tenant (MAKE_EXEMPT).  Returns
 * whether it moved.
 */
bool
pgov_board_move(int slotno, const PgovSlot *was, PgovMove move,
				const PgovPlace *place, TimestampTz now)
{
	PgovSlot   *s = &board.slots[slotno];
	bool		moved = false;

	LWLockAcquire(bs->lock, LW_EXCLUSIVE);
	if (s->pid == was->pid && s->entered_at == was->entered_at)
	{
		switch (move)
		{
			case PGOV_MOVE_RECLASSIFY:
				if (bs->generation == place->generation)
					moved = pgov_seat_reclassify(&board, slotno, place->tenant,
												 place->rule_id,
												 place->generation, now);
				break;
			case PGOV_MOVE_MAKE_EXEMPT:
				if (s->state == was->state)
					moved = pgov_seat_make_exempt(&board, slotno, now);
				break;
			case PGOV_MOVE_MAKE_GOVERNED:
				if (s->state == was->state && bs->generation == place->generation)
					moved = pgov_seat_make_governed(&board, slotno, place->tenant,
													place->rule_id,
													place->generation, now);
				break;
		}
	}
	LWLockRelease(bs->lock);
	return moved;
}

/* Of the sorted pids of started client sessions, keeps (sorted, first)
 * those no slot holds; returns how many (pgov_seat_strays). */
int
pgov_board_strays(int *pids, int npids, int *scratch)
{
	int			n;

	LWLockAcquire(bs->lock, LW_SHARED);
	n = pgov_seat_strays(&board, pids, npids, scratch);
	LWLockRelease(bs->lock);
	return n;
}

/* May slot slotno take in process pid?  (Free, and pid is not the session
 * that just gave it back.)  A hint: pgov_board_adopt decides again. */
bool
pgov_board_adoptable(int slotno, int pid)
{
	bool		ok;

	LWLockAcquire(bs->lock, LW_SHARED);
	ok = board.slots[slotno].pid == 0 && board.slots[slotno].last_pid != pid;
	LWLockRelease(bs->lock);
	return ok;
}

/* Counts a session that passed no hook, in slot slotno, if its process is
 * still there and place's generation is in force (exempt: counted apart). */
bool
pgov_board_adopt(int slotno, int pid, const PgovWho *who, bool exempt,
				 bool ordinary, const PgovPlace *place, TimestampTz now)
{
	bool		adopted;

	LWLockAcquire(bs->lock, LW_EXCLUSIVE);
	adopted = ProcGlobal->allProcs[slotno].pid == pid &&
		(exempt || bs->generation == place->generation) &&
		pgov_seat_adopt(&board, slotno, pid, who, exempt, ordinary,
						place->tenant, place->rule_id, place->generation, now);
	LWLockRelease(bs->lock);
	return adopted;
}

/* The pid slot slotno holds, read without the lock (a hint). */
int
pgov_board_slot_pid(int slotno)
{
	return ((volatile PgovSlot *) &board.slots[slotno])->pid;
}

/* Gives back what process pid, gone, still holds in slot slotno. */
bool
pgov_board_reclaim(int slotno, int pid, TimestampTz now, PgovReleased *out)
{
	bool		released;

	LWLockAcquire(bs->lock, LW_EXCLUSIVE);
	released = pgov_seat_release(&board, slotno, pid, now, out);
	LWLockRelease(bs->lock);
	return released;
}

/*
 * The drain pass's look at the board: the tenants whose drain is due
 * (pgov_seat_drain_due; their names to names[]) and the governed sessions
 * of each that are not already being ended, to sessions[] (*nsessions).
 * due, names and due_of have room for pgov_max_tenants, sessions for every
 * slot: the caller allocates them once, nothing is allocated under the
 * lock.  due_of (a tenant entry's index into due, or -1) is all -1 on
 * entry and is left so.  The excess of each tenant already counts the
 * sessions asked to end.  No hold at all while no tenant is above its cap;
 * else a SHARED one, O(tenants above their cap) when none is due, O(slots)
 * when some are.
 */
int
pgov_board_drain_due(TimestampTz now, PgovDrainDue *due,
					 char (*names)[NAMEDATALEN], int *due_of,
					 PgovDrainSession *sessions, int *nsessions)
{
	int			ndue;
	int			i;
	int			d;

	*nsessions = 0;
	/* no tenant above its cap (read without the lock: a stale answer only
	 * waits for the next tick): nothing to take the lock for */
	if (((volatile PgovSeatTotals *) &bs->totals)->ac_head < 0)
		return 0;
	LWLockAcquire(bs->lock, LW_SHARED);
	ndue = pgov_seat_drain_due(&board, (int64) now, due, pgov_max_tenants);
	for (d = 0; d < ndue; d++)
	{
		memcpy(names[d], board.tenants[due[d].tenant].name, NAMEDATALEN);
		due_of[due[d].tenant] = d;
	}
	for (i = 0; i < board.nslots && ndue > 0; i++)
	{
		PgovSlot   *s = &board.slots[i];

		if (s->state != PGOV_SLOT_GOVERNED || (d = due_of[s->tenant]) < 0)
			continue;
		if (s->ending)
		{
			due[d].excess--;
			continue;
		}
		sessions[*nsessions].slot = i;
		sessions[*nsessions].pid = s->pid;
		sessions[*nsessions].entered_at = s->entered_at;
		sessions[*nsessions].due = d;
		sessions[*nsessions].who = s->who;
		(*nsessions)++;
	}
	for (d = 0; d < ndue; d++)
		due_of[due[d].tenant] = -1;
	LWLockRelease(bs->lock);
	return ndue;
}

/*
 * Marks a session as being ended by the drain, if its slot still holds it
 * as a governed session of the same tenant: false if not (it left, or
 * moved).  A marked session no longer counts toward its tenant's excess.
 */
bool
pgov_board_drain_mark(const PgovDrainSession *session, const PgovDrainDue *due)
{
	PgovSlot   *s = &board.slots[session->slot];
	bool		ok;

	LWLockAcquire(bs->lock, LW_EXCLUSIVE);
	ok = s->pid == session->pid && s->entered_at == session->entered_at &&
		s->state == PGOV_SLOT_GOVERNED && s->tenant == due->tenant &&
		board.tenants[due->tenant].incarnation == due->incarnation &&
		!s->ending;
	if (ok)
		s->ending = true;
	LWLockRelease(bs->lock);
	return ok;
}

void
pgov_board_count_drained(const PgovDrainDue *due, int n)
{
	LWLockAcquire(bs->lock, LW_EXCLUSIVE);
	pgov_seat_count_drained(&board, due->tenant, due->incarnation, n);
	LWLockRelease(bs->lock);
}

/* Zeroes the cumulative counters of one tenant, or of all (NULL).  Returns
 * false when there is no such tenant. */
bool
pgov_reset_stats(const char *tenant)
{
	TimestampTz now = GetCurrentTimestamp();
	int			idx = -1;

	LWLockAcquire(bs->lock, LW_EXCLUSIVE);
	if (tenant)
		idx = pgov_find_tenant_entry(&board, tenant);
	if (tenant == NULL || idx >= 0)
		pgov_board_reset_stats(&board, idx, now);
	LWLockRelease(bs->lock);
	return tenant == NULL || idx >= 0;
}

/*
 * Runs change on the board under its lock EXCLUSIVE, with the time read
 * before it: a change of the pure machine the worker asks for (the cluster
 * quota's, clusterseats.c).  When it says a cap was raised, the waiters who
 * can now take a seat are woken.
 */
void
pgov_board_change(PgovBoardChange change, void *arg)
{
	TimestampTz now = GetCurrentTimestamp();
	PgovWakeList w;

	w.n = 0;
	LWLockAcquire(bs->lock, LW_EXCLUSIVE);
	if (change(&board, (int64) now, arg))
		collect_wakeable(&w, true, now);
	LWLockRelease(bs->lock);
	wake_slots(w.slots, w.n);
}

/*
 * Runs reader on the board under its lock SHARED, for the copies the views
 * and the sampler read (boardread.c): a reader copies into memory its
 * caller allocated before and does nothing else.
 */
void
pgov_board_read(PgovBoardReader reader, void *arg)
{
	PgovBoardMoment m;

	LWLockAcquire(bs->lock, LW_SHARED);
	m.board = &board;
	m.generation = bs->generation;
	m.loaded_at = bs->loaded_at;
	reader(&m, arg);
	LWLockRelease(bs->lock);
}
