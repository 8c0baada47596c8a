/*-------------------------------------------------------------------------
 *
 * state.c
 *		pool_governor's shared memory and every operation that changes it.
 *
 * Locking protocol
 * ----------------
 * pgov->config_lock guards the published rules (pgov_rules, pgov->nrules).
 *		Logins hold it SHARED while they classify themselves, which is the
 *		only O(rules) work on the login path; only a publication takes it
 *		EXCLUSIVE.
 *
 * pgov->lock guards the tenants (limits and counters), the backend slots and
 *		the totals in PgovShared.  The admission decision and the counter
 *		increment happen under one EXCLUSIVE hold, which is what makes the
 *		quota exact under any burst of logins.  Everything done under it is
 *		O(1) except publication and the views' snapshots, which copy arrays.
 *
 * pgov->generation and the tenants' names are written holding both locks,
 *		so either lock is enough to read them.  A login classifies under
 *		config_lock, then admits under lock, and starts again if the
 *		generation moved in between.
 *
 * pgov->event_lock guards the event ring, pgov->history_lock the history
 *		ring (written only by the worker).  Neither is ever taken while
 *		holding another of our locks, except event_lock after lock is
 *		released; so there is no lock ordering to get wrong.
 *
 * Lock order when two are held: config_lock, then lock.  A login about to
 * wait calls HaveNFreeProcs() holding lock; that takes ProcStructLock, a
 * spinlock, which is always the innermost lock.
 *
 * Nothing under our locks may ereport(ERROR) or allocate: the exit callback
 * that gives a seat back needs these locks and runs during FATAL handling.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <stdarg.h>

#include "miscadmin.h"
#include "postmaster/postmaster.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "utils/timestamp.h"

#include "pool_governor.h"
#include "state.h"

PgovShared *pgov = NULL;
PgovTenant *pgov_tenants = NULL;
PgovRule   *pgov_rules = NULL;
PgovSlot   *pgov_slots = NULL;
PgovEvent  *pgov_events = NULL;
PgovSample *pgov_samples = NULL;
TimestampTz *pgov_tick_times = NULL;
int			pgov_nslots = 0;

#define PGOV_NUM_LWLOCKS 4

static Size
pgov_shmem_size(void)
{
	Size		size = MAXALIGN(sizeof(PgovShared));

	size = add_size(size, MAXALIGN(mul_size(pgov_max_tenants, sizeof(PgovTenant))));
	size = add_size(size, MAXALIGN(mul_size(pgov_max_rules, sizeof(PgovRule))));
	size = add_size(size, MAXALIGN(mul_size(MaxBackends, sizeof(PgovSlot))));
	size = add_size(size, MAXALIGN(mul_size(pgov_event_log_size, sizeof(PgovEvent))));
	size = add_size(size, MAXALIGN(mul_size(pgov_history_size, sizeof(TimestampTz))));
	size = add_size(size, MAXALIGN(mul_size(mul_size(pgov_history_size, pgov_max_tenants),
											sizeof(PgovSample))));
	return size;
}

void
pgov_shmem_request(void)
{
	RequestAddinShmemSpace(pgov_shmem_size());
	RequestNamedLWLockTranche("pool_governor", PGOV_NUM_LWLOCKS);
}

/*
 * Creates or attaches to the shared state.  After a crash the postmaster
 * makes a new segment and every backend is gone, so starting from zero
 * counters is exactly right.
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
	pgov_tenants = (PgovTenant *) p;
	p += MAXALIGN(mul_size(pgov_max_tenants, sizeof(PgovTenant)));
	pgov_rules = (PgovRule *) p;
	p += MAXALIGN(mul_size(pgov_max_rules, sizeof(PgovRule)));
	pgov_slots = (PgovSlot *) p;
	p += MAXALIGN(mul_size(MaxBackends, sizeof(PgovSlot)));
	pgov_events = (PgovEvent *) p;
	p += MAXALIGN(mul_size(pgov_event_log_size, sizeof(PgovEvent)));
	pgov_tick_times = (TimestampTz *) p;
	p += MAXALIGN(mul_size(pgov_history_size, sizeof(TimestampTz)));
	pgov_samples = (PgovSample *) p;
	pgov_nslots = MaxBackends;

	if (!found)
	{
		LWLockPadded *locks = GetNamedLWLockTranche("pool_governor");

		memset(pgov, 0, pgov_shmem_size());
		pgov->lock = &locks[0].lock;
		pgov->config_lock = &locks[1].lock;
		pgov->event_lock = &locks[2].lock;
		pgov->history_lock = &locks[3].lock;
		ConditionVariableInit(&pgov->seat_cv);
		pg_atomic_init_u64(&pgov->hook_logins, 0);
		pg_atomic_init_u64(&pgov->hook_ns_total, 0);
		pg_atomic_init_u64(&pgov->hook_ns_max, 0);
		for (i = 0; i < PGOV_TIMING_BUCKETS; i++)
			pg_atomic_init_u64(&pgov->hook_hist[i], 0);
		for (i = 0; i < pgov_max_tenants; i++)
		{
			pgov_tenants[i].wait_head = -1;
			pgov_tenants[i].wait_tail = -1;
		}
		for (i = 0; i < pgov_nslots; i++)
			pgov_slots[i].wait_prev = pgov_slots[i].wait_next = -1;
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Governed seats: the setting, or every slot not kept for superusers. */
int
pgov_capacity(void)
{
	if (pgov_capacity_setting >= 0)
		return pgov_capacity_setting;
	return Max(MaxConnections - ReservedBackends, 0);
}

/*
 * Moves a tenant's connected count; caller holds lock EXCLUSIVE.  now (the
 * caller's clock, read before the lock) stamps a new peak.
 */
void
pgov_tenant_count(PgovTenant *t, int delta, TimestampTz now)
{
	int			before = pgov_held(t->connected, t->reserved_connections);

	t->connected += delta;
	pgov->sum_held += pgov_held(t->connected, t->reserved_connections) - before;
	if (t->connected > t->peak_connected)
	{
		t->peak_connected = t->connected;
		t->peak_at = now;
	}
}

/* Sets what a claimed slot holds (its who is set when claimed).  Caller
 * holds lock EXCLUSIVE. */
void
pgov_slot_fill(PgovSlot *slot, PgovSlotState state, int tenant, int64 rule_id)
{
	slot->state = state;
	slot->tenant = tenant;
	slot->rule_id = rule_id;
	slot->wait_prev = slot->wait_next = -1;
}

void
pgov_waiter_enqueue(PgovTenant *t, int slotno)
{
	PgovSlot   *s = &pgov_slots[slotno];

	s->wait_prev = t->wait_tail;
	s->wait_next = -1;
	if (t->wait_tail >= 0)
		pgov_slots[t->wait_tail].wait_next = slotno;
	else
		t->wait_head = slotno;
	t->wait_tail = slotno;
	t->waiting++;
}

void
pgov_waiter_dequeue(PgovTenant *t, int slotno)
{
	PgovSlot   *s = &pgov_slots[slotno];

	if (s->wait_prev >= 0)
		pgov_slots[s->wait_prev].wait_next = s->wait_next;
	else
		t->wait_head = s->wait_next;
	if (s->wait_next >= 0)
		pgov_slots[s->wait_next].wait_prev = s->wait_prev;
	else
		t->wait_tail = s->wait_prev;
	s->wait_prev = s->wait_next = -1;
	t->waiting--;
}

/* A removed tenant's entry is freed once nothing refers to it any more. */
static void
tenant_maybe_free(PgovTenant *t)
{
	if (!t->configured && t->connected == 0 && t->waiting == 0)
		t->in_use = false;
}

/*
 * Gives back whatever slot slotno holds for process pid: a seat, a place in
 * a waiter queue, or an exempt count.  Returns false when the slot is not
 * (or no longer) pid's, so a second call gives nothing back twice.  Caller
 * holds lock EXCLUSIVE.
 */
bool
pgov_slot_release(int slotno, int pid, bool *was_waiting)
{
	PgovSlot   *s = &pgov_slots[slotno];
	PgovTenant *t = s->tenant >= 0 ? &pgov_tenants[s->tenant] : NULL;

	if (was_waiting)
		*was_waiting = false;
	if (s->pid == 0 || s->pid != pid)
		return false;

	switch (s->state)
	{
		case PGOV_SLOT_GOVERNED:
			if (t)
				pgov_tenant_count(t, -1, 0);
			else if (s->tenant == PGOV_TENANT_UNCLASSIFIED)
				pgov->unclassified--;
			break;
		case PGOV_SLOT_WAITING:
			if (t)
				pgov_waiter_dequeue(t, slotno);
			if (was_waiting)
				*was_waiting = true;
			break;
		case PGOV_SLOT_EXEMPT:
			pgov->exempt_connected--;
			break;
		case PGOV_SLOT_FREE:
			break;
	}
	if (t)
		tenant_maybe_free(t);
	s->pid = 0;
	s->state = PGOV_SLOT_FREE;
	s->tenant = PGOV_TENANT_EXEMPT;
	return true;
}

/* Index of the in-use tenant called name, or -1.  Either lock suffices. */
int
pgov_find_tenant_locked(const char *name)
{
	int			i;

	for (i = 0; i < pgov->ntenants; i++)
		if (pgov_tenants[i].in_use && strcmp(pgov_tenants[i].name, name) == 0)
			return i;
	return -1;
}

static void
tenant_apply(PgovTenant *t, const PgovTenantDef *def)
{
	int			before = pgov_held(t->connected, t->reserved_connections);

	t->configured = true;
	t->max_connections = def->max_connections;
	t->reserved_connections = def->reserved_connections;
	t->max_waiting = def->max_waiting;
	t->wait_timeout_ms = def->wait_timeout_ms;
	pgov->sum_held += pgov_held(t->connected, t->reserved_connections) - before;
}

static int
tenant_allocate(const char *name, TimestampTz now)
{
	int			i;

	for (i = 0; i < pgov_max_tenants; i++)
	{
		PgovTenant *t = &pgov_tenants[i];
		uint32		incarnation = t->incarnation + 1;

		if (t->in_use)
			continue;
		memset(t, 0, sizeof(*t));
		t->in_use = true;
		t->incarnation = incarnation;
		strlcpy(t->name, name, NAMEDATALEN);
		t->wait_head = t->wait_tail = -1;
		t->stats_reset = now;
		pgov->ntenants = Max(pgov->ntenants, i + 1);
		return i;
	}
	return -1;
}

/*
 * Makes cfg the configuration every new login is judged by, keeping the
 * counters of tenants that stay and letting removed ones drain.  The
 * default tenant always exists: when the tables do not name it, it is
 * published with no cap and no reserve.  Returns the new generation, or 0
 * when the tenants would not fit in pool_governor.max_tenants alongside the
 * removed ones still draining (nothing is changed then).
 */
uint64
pgov_publish(const PgovConfig *cfg, const char *default_tenant)
{
	TimestampTz now = GetCurrentTimestamp();
	PgovTenantDef dflt;
	int			map[PGOV_MAX_TENANTS_LIMIT];
	int			nnew = 0;
	int			nfree = 0;
	int			i;
	bool		need_default;
	uint64		generation;

	need_default = pgov_find_tenant(cfg->tenants, cfg->ntenants, default_tenant) < 0;
	memset(&dflt, 0, sizeof(dflt));
	strlcpy(dflt.name, default_tenant, NAMEDATALEN);
	dflt.max_connections = PGOV_NO_CAP;

	LWLockAcquire(pgov->config_lock, LW_EXCLUSIVE);
	LWLockAcquire(pgov->lock, LW_EXCLUSIVE);

	/* will the new tenants fit beside the ones that stay or drain? */
	for (i = 0; i < cfg->ntenants + (need_default ? 1 : 0); i++)
	{
		const PgovTenantDef *def = i < cfg->ntenants ? &cfg->tenants[i] : &dflt;

		if (pgov_find_tenant_locked(def->name) < 0)
			nnew++;
	}
	for (i = 0; i < pgov_max_tenants; i++)
		if (!pgov_tenants[i].in_use)
			nfree++;
	if (nnew > nfree)
	{
		LWLockRelease(pgov->lock);
		LWLockRelease(pgov->config_lock);
		return 0;
	}

	for (i = 0; i < pgov->ntenants; i++)
		pgov_tenants[i].configured = false;

	for (i = 0; i < cfg->ntenants + (need_default ? 1 : 0); i++)
	{
		const PgovTenantDef *def = i < cfg->ntenants ? &cfg->tenants[i] : &dflt;
		int			idx = pgov_find_tenant_locked(def->name);

		if (idx < 0)
			idx = tenant_allocate(def->name, now);
		Assert(idx >= 0);
		tenant_apply(&pgov_tenants[idx], def);
		if (i < cfg->ntenants)
			map[i] = idx;
	}

	/* removed tenants: free when empty, otherwise drain without limits */
	for (i = 0; i < pgov->ntenants; i++)
	{
		PgovTenant *t = &pgov_tenants[i];

		if (!t->in_use || t->configured)
			continue;
		t->max_connections = PGOV_NO_CAP;
		t->reserved_connections = 0;
		t->max_waiting = 0;
		t->wait_timeout_ms = 0;
		tenant_maybe_free(t);
	}

	/* sum_held from scratch: the reserves changed */
	pgov->sum_held = 0;
	for (i = 0; i < pgov->ntenants; i++)
		if (pgov_tenants[i].in_use)
			pgov->sum_held += pgov_held(pgov_tenants[i].connected,
										pgov_tenants[i].reserved_connections);

	for (i = 0; i < cfg->nrules; i++)
	{
		pgov_rules[i] = cfg->rules[i];
		pgov_rules[i].tenant = map[cfg->rules[i].tenant];
	}
	pgov->nrules = cfg->nrules;
	pgov->config_hash = cfg->hash;
	pgov->generation++;
	pgov->loaded_at = now;
	generation = pgov->generation;

	LWLockRelease(pgov->lock);
	LWLockRelease(pgov->config_lock);

	/* waiters re-check: limits or their classification may have changed */
	ConditionVariableBroadcast(&pgov->seat_cv);
	return generation;
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
