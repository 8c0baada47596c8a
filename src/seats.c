/*-------------------------------------------------------------------------
 *
 * seats.c
 *		The seat state machine (see seats.h for the transitions).
 *
 * Every function keeps three things equal at all times, which the unit
 * tests check against a reference model after every step:
 *		tenant.connected = the GOVERNED slots in that tenant;
 *		tenant.waiting   = the WAITING slots queued in it = its queue length;
 *		totals           = the sums of the above (sum_held included).
 * Nothing allocates or fails: board.c calls these holding the board's lock, and
 * the exit callback that gives a seat back runs during FATAL handling.
 *
 *-------------------------------------------------------------------------
 */
#include "seats.h"
#include "share.h"

#include <stdlib.h>
#include <string.h>

static int
held(const PgovTenant *t)
{
	return pgov_held(t->connected, t->reserved_connections);
}

/* Is t above its cap?  (Publications, role switches and reclassifications
 * put it there, and monitor mode, which admits past the cap.) */
static bool
above_cap(const PgovTenant *t)
{
	return t->in_use && t->max_connections != PGOV_NO_CAP &&
		t->connected > t->max_connections;
}

static void
above_list_join(PgovBoard *b, PgovTenant *t, int64_t now)
{
	int			idx = (int) (t - b->tenants);

	t->above_cap_since = now > 0 ? now : 1;
	t->ac_prev = -1;
	t->ac_next = b->totals->ac_head;
	if (t->ac_next >= 0)
		b->tenants[t->ac_next].ac_prev = idx;
	b->totals->ac_head = idx;
}

static void
above_list_leave(PgovBoard *b, PgovTenant *t)
{
	if (t->ac_prev >= 0)
		b->tenants[t->ac_prev].ac_next = t->ac_next;
	else
		b->totals->ac_head = t->ac_next;
	if (t->ac_next >= 0)
		b->tenants[t->ac_next].ac_prev = t->ac_prev;
	t->ac_prev = t->ac_next = -1;
	t->above_cap_since = 0;
}

/* Notes since when t is above its cap, or that it no longer is, after its
 * count moved: O(1), so it is exact at every moment, in every mode.  The
 * tenants above their cap are listed, so the drain looks at them alone. */
static void
above_cap_note(PgovBoard *b, PgovTenant *t, int64_t now)
{
	bool		above = above_cap(t);

	if (above && t->above_cap_since == 0)
		above_list_join(b, t, now);
	else if (!above && t->above_cap_since != 0)
		above_list_leave(b, t);
}

/* The same for every tenant, after caps changed (a publication, a role
 * switch): the list is made again, the times of those still above kept.
 * O(tenants). */
void
pgov_seat_note_above_cap(PgovBoard *b, int64_t now)
{
	int			i;

	b->totals->ac_head = -1;
	for (i = 0; i < b->totals->ntenants; i++)
	{
		PgovTenant *t = &b->tenants[i];
		int64_t		since = t->above_cap_since;

		t->above_cap_since = 0;
		t->ac_prev = t->ac_next = -1;
		if (!above_cap(t))
			continue;
		above_list_join(b, t, since != 0 ? since : now);
	}
}

/* Moves a tenant's connected count, keeping the totals and its peak. */
static void
tenant_count(PgovBoard *b, PgovTenant *t, int delta, int64_t now)
{
	int			before = held(t);

	t->connected += delta;
	b->totals->connected += delta;
	b->totals->sum_held += held(t) - before;
	if (t->connected > t->peak_connected)
	{
		t->peak_connected = t->connected;
		t->peak_at = now;
	}
	above_cap_note(b, t, now);
}

/* The list of tenants with waiters: a tenant joins it at the tail when its
 * queue begins and leaves it when its queue empties. */
static void
waiting_tenants_join(PgovBoard *b, PgovTenant *t)
{
	int			idx = (int) (t - b->tenants);

	t->wq_prev = b->totals->wq_tail;
	t->wq_next = -1;
	if (b->totals->wq_tail >= 0)
		b->tenants[b->totals->wq_tail].wq_next = idx;
	else
		b->totals->wq_head = idx;
	b->totals->wq_tail = idx;
}

static void
waiting_tenants_leave(PgovBoard *b, PgovTenant *t)
{
	if (t->wq_prev >= 0)
		b->tenants[t->wq_prev].wq_next = t->wq_next;
	else
		b->totals->wq_head = t->wq_next;
	if (t->wq_next >= 0)
		b->tenants[t->wq_next].wq_prev = t->wq_prev;
	else
		b->totals->wq_tail = t->wq_prev;
	t->wq_prev = t->wq_next = -1;
}

static void
enqueue(PgovBoard *b, PgovTenant *t, int slotno)
{
	PgovSlot   *s = &b->slots[slotno];

	if (t->waiting == 0)
		waiting_tenants_join(b, t);
	s->woken = false;

	s->wait_prev = t->wait_tail;
	s->wait_next = -1;
	if (t->wait_tail >= 0)
		b->slots[t->wait_tail].wait_next = slotno;
	else
		t->wait_head = slotno;
	t->wait_tail = slotno;
	t->waiting++;
}

static void
dequeue(PgovBoard *b, PgovTenant *t, int slotno)
{
	PgovSlot   *s = &b->slots[slotno];

	if (s->wait_prev >= 0)
		b->slots[s->wait_prev].wait_next = s->wait_next;
	else
		t->wait_head = s->wait_next;
	if (s->wait_next >= 0)
		b->slots[s->wait_next].wait_prev = s->wait_prev;
	else
		t->wait_tail = s->wait_prev;
	s->wait_prev = s->wait_next = -1;
	t->waiting--;
	if (t->waiting == 0)
		waiting_tenants_leave(b, t);
}

typedef enum RecentKind
{
	RECENT_ADMITTED,
	RECENT_REFUSED,
	RECENT_WAITED
} RecentKind;

/* Counts one login's outcome in its tenant's current step.  O(1). */
static void
recent_note(PgovBoard *b, PgovTenant *t, int64_t now, RecentKind kind)
{
	int64_t		width = b->totals->recent_width_us;
	int64_t		stamp;
	PgovRecentBucket *k;

	if (width <= 0 || now < 0)
		return;
	stamp = now / width;
	k = &t->recent[stamp % PGOV_RECENT_BUCKETS];
	if (k->stamp != stamp)
	{
		memset(k, 0, sizeof(*k));
		k->stamp = stamp;
	}
	switch (kind)
	{
		case RECENT_ADMITTED:
			k->admitted++;
			break;
		case RECENT_REFUSED:
			k->refused++;
			break;
		case RECENT_WAITED:
			k->waits++;
			break;
	}
}

static int
ms_since(int64_t from, int64_t to)
{
	return to > from ? (int) ((to - from) / 1000) : 0;
}

void
pgov_board_init(PgovBoard *b)
{
	int			i;

	memset(b->totals, 0, sizeof(*b->totals));
	b->totals->default_tenant = -1;
	b->totals->wq_head = b->totals->wq_tail = -1;
	b->totals->ac_head = -1;
	b->totals->role = PGOV_ROLE_UNKNOWN;
	memset(b->tenants, 0, sizeof(PgovTenant) * b->max_tenants);
	for (i = 0; i < b->max_tenants; i++)
	{
		b->tenants[i].wait_head = b->tenants[i].wait_tail = -1;
		b->tenants[i].wq_prev = b->tenants[i].wq_next = -1;
		b->tenants[i].ac_prev = b->tenants[i].ac_next = -1;
	}
	memset(b->slots, 0, sizeof(PgovSlot) * b->nslots);
	for (i = 0; i < b->nslots; i++)
	{
		b->slots[i].tenant = PGOV_TENANT_NONE;
		b->slots[i].wait_prev = b->slots[i].wait_next = -1;
	}
}

/*
 * Governed seats in force: the configured capacity, but never more than the
 * max_connections slots a non-superuser can still get.  Each exempt session
 * in such a slot (a superuser) takes one from the governed tenants, exactly
 * as PostgreSQL's superuser_reserved_connections check counts it.
 */
int
pgov_capacity_in_force(const PgovBoard *b, int capacity, int slot_limit)
{
	int			by_slots = slot_limit - b->totals->exempt_ordinary;
	int			c = capacity < by_slots ? capacity : by_slots;

	return c > 0 ? c : 0;
}

/* Reserved seats no session sits in: sum of max(reserved - connected, 0). */
int
pgov_reserved_unused(const PgovBoard *b)
{
	return b->totals->sum_held - b->totals->connected;
}

int
pgov_find_tenant_entry(const PgovBoard *b, const char *name)
{
	int			i;

	for (i = 0; i < b->totals->ntenants; i++)
		if (b->tenants[i].in_use && strcmp(b->tenants[i].name, name) == 0)
			return i;
	return -1;
}

/*
 * A login takes its slot.  A slot still held by another pid belongs to a
 * backend that exited without giving it back: that is returned first, so a
 * slot can never leak a seat.  Returns the pid reclaimed, or 0.
 */
int
pgov_seat_claim(PgovBoard *b, int slotno, int pid, const PgovWho *who,
				int64_t now)
{
	PgovSlot   *s = &b->slots[slotno];
	int			stale = 0;

	if (s->pid != 0)
	{
		stale = s->pid != pid ? s->pid : 0;
		pgov_seat_release(b, slotno, s->pid, now, NULL);
	}
	s->pid = pid;
	s->state = PGOV_SLOT_CLAIMED;
	s->ordinary = false;
	s->tenant = PGOV_TENANT_NONE;
	s->rule_id = 0;
	s->generation = 0;
	s->entered_at = now;
	s->admitted_at = 0;
	s->deadline = 0;
	s->waited_ms = 0;
	s->ending = false;
	s->wait_prev = s->wait_next = -1;
	s->who = *who;
	return stale;
}

void
pgov_seat_exempt(PgovBoard *b, int slotno, bool ordinary, int64_t now)
{
	PgovSlot   *s = &b->slots[slotno];

	s->state = PGOV_SLOT_EXEMPT;
	s->ordinary = ordinary;
	s->admitted_at = now;
	b->totals->exempt_connected++;
	if (ordinary)
		b->totals->exempt_ordinary++;
}

static void
verdict_numbers(const PgovBoard *b, const PgovTenant *t, int capacity,
				PgovVerdict *v)
{
	memcpy(v->tenant, t->name, PGOV_NAME_LEN);
	v->connected = t->connected;
	v->max_connections = t->max_connections;
	v->reserved = t->reserved_connections;
	v->weight = pgov_tenant_weight(t);
	v->refusal = t->refusal;
	v->waiting = t->waiting;
	v->sum_held = b->totals->sum_held;
	v->capacity = capacity;
	if (b->totals->cluster_on && t->cluster_quota > 0 &&
		t->max_connections != t->by_role[pgov_numbers_role(b->totals->role)].max_connections)
		v->cluster_quota = t->cluster_quota;
}

/*
 * Decides a CLAIMED or WAITING slot's login against its tenant (ask->tenant,
 * classified by the rules in force): admit it, queue it (or leave it
 * queued), or refuse it, which frees the slot.
 */
void
pgov_seat_decide(PgovBoard *b, int slotno, const PgovAsk *ask, PgovVerdict *v)
{
	PgovSlot   *s = &b->slots[slotno];
	PgovTenant *t = &b->tenants[ask->tenant];
	int			capacity = pgov_capacity_in_force(b, ask->capacity, ask->slot_limit);
	bool		queued;
	int			ahead;
	int			k;
	bool		late;

	memset(v, 0, sizeof(*v));
	s->woken = false;

	/* a waiter the rules now place elsewhere leaves its old queue */
	if (s->state == PGOV_SLOT_WAITING && s->tenant != ask->tenant)
	{
		dequeue(b, &b->tenants[s->tenant], slotno);
		s->state = PGOV_SLOT_CLAIMED;
		s->tenant = PGOV_TENANT_NONE;
	}
	queued = (s->state == PGOV_SLOT_WAITING);

	/*
	 * First come, first served: a login goes ahead of no waiter before it
	 * but those that let their turn pass.  In the usual queue (nobody
	 * passed over) this looks at the head alone.
	 */
	ahead = 0;
	for (k = t->wait_head; k >= 0 && k != slotno; k = b->slots[k].wait_next)
		if (!pgov_turn_passed(&b->slots[k], ask->now))
		{
			ahead = 1;
			break;
		}
	/* no login is admitted after its own wait has ended */
	late = queued && !ask->monitor && ask->now >= s->deadline;

	v->decision = pgov_decide(t->connected, t->max_connections,
							  t->reserved_connections, b->totals->sum_held,
							  capacity, ahead);

	/*
	 * Fair share: a login that needs a shared seat takes one only if the
	 * free ones are not all due, first, to waiters of tenants holding fewer
	 * shared seats per weight (or as many, and waiting since earlier).
	 * When nobody else waits this costs nothing.
	 */
	if (v->decision == PGOV_ADMIT &&
		t->connected >= t->reserved_connections &&
		b->totals->wq_head >= 0)
	{
		int			shared_free = capacity - b->totals->sum_held;
		PgovShareKey key;

		pgov_share_key(b, t, 0, slotno, &key);
		if (pgov_seats_handed_before(b, ask->tenant, &key, shared_free,
								ask->now) >= shared_free)
			v->decision = PGOV_REFUSE_SHARE;
	}
	v->after_wait = queued;
	verdict_numbers(b, t, capacity, v);

	if (!late && (v->decision == PGOV_ADMIT || ask->monitor))
	{
		if (queued)
		{
			dequeue(b, t, slotno);
			s->waited_ms = ms_since(s->entered_at, ask->now);
			t->waited++;
			t->wait_ms_total += s->waited_ms;
			if (s->waited_ms > t->wait_ms_max)
				t->wait_ms_max = s->waited_ms;
		}
		s->state = PGOV_SLOT_GOVERNED;
		s->tenant = ask->tenant;
		s->rule_id = ask->rule_id;
		s->generation = ask->generation;
		s->admitted_at = ask->now;
		tenant_count(b, t, 1, ask->now);
		t->admitted++;
		recent_note(b, t, ask->now, RECENT_ADMITTED);
		if (queued)
			recent_note(b, t, ask->now, RECENT_WAITED);
		if (v->decision != PGOV_ADMIT)
		{
			t->would_reject++;
			v->would_refuse = true;
		}
		v->outcome = PGOV_SEAT_ADMITTED;
		v->waited_ms = s->waited_ms;
		return;
	}

	if (queued)
	{
		if (ask->now < s->deadline)
		{
			v->outcome = PGOV_SEAT_QUEUED;
			v->deadline = s->deadline;
			return;
		}
		dequeue(b, t, slotno);
		t->wait_timeouts++;
		recent_note(b, t, ask->now, RECENT_WAITED);
		v->timed_out = true;
		v->waiting = t->waiting;
	}
	else if (t->wait_timeout_ms > 0 && t->waiting < t->max_waiting &&
			 (t->max_connections != 0 ||
			  (b->totals->cluster_on && t->cluster_quota > 0 &&
			   t->by_role[pgov_numbers_role(b->totals->role)].max_connections != 0)))
	{
		/* (a tenant whose cap is 0 never has a seat: nobody waits for one,
		 * unless the 0 is a floor of 0 that a grant may raise) */
		int64_t		deadline = s->entered_at + t->wait_timeout_ms * 1000;

		if (deadline > ask->deadline_cap)
			deadline = ask->deadline_cap;

		/*
		 * A waiter holds a backend slot: it may wait only while enough stay
		 * free for every tenant's unused reserved seats and the server's own
		 * reserve.  Asked last, as it walks PostgreSQL's free list.
		 */
		if (ask->now < deadline &&
			ask->have_free_slots(ask->ctx,
								 ask->keep_free + pgov_reserved_unused(b)))
		{
			s->state = PGOV_SLOT_WAITING;
			s->tenant = ask->tenant;
			s->rule_id = ask->rule_id;
			s->generation = ask->generation;
			s->deadline = deadline;
			enqueue(b, t, slotno);
			v->outcome = PGOV_SEAT_QUEUED;
			v->deadline = deadline;
			return;
		}
	}

	/*
	 * Pacing: a login refused outright (one that waited has been held
	 * already) while its tenant's refusals keep coming gets its answer
	 * later.  It holds its backend slot meanwhile, so only while the slots
	 * every reserve and the server's own reserve need stay free, as for a
	 * waiter; and never past the login's authentication_timeout.
	 */
	if (!queued && !ask->monitor)
	{
		int			pace = pgov_pace_refusal(&t->pace, ask->now,
											 ask->pace_max_ms);
		int64_t		left_ms = (ask->deadline_cap - ask->now) / 1000;

		if (pace > left_ms)
			pace = left_ms > 0 ? (int) left_ms : 0;
		if (pace > 0 &&
			ask->have_free_slots(ask->ctx,
								 ask->keep_free + pgov_reserved_unused(b)))
		{
			v->pace_ms = pgov_pace_spread(pace, (uint32_t) s->pid);
			t->paced++;
		}
	}

	t->rejected++;
	b->totals->rejected_total++;
	recent_note(b, t, ask->now, RECENT_REFUSED);
	v->outcome = PGOV_SEAT_REFUSED;
	v->waited_ms = ms_since(s->entered_at, ask->now);
	s->last_pid = s->pid;
	s->pid = 0;
	s->state = PGOV_SLOT_FREE;
	s->tenant = PGOV_TENANT_NONE;
}

/*
 * Gives back whatever slotno holds for process pid: a seat, a place in a
 * queue, an exempt count.  Returns false when the slot is not pid's, so a
 * second call gives nothing back twice; a pid leaving a free slot is
 * remembered there, so the worker never adopts a session that has left.
 */
bool
pgov_seat_release(PgovBoard *b, int slotno, int pid, int64_t now,
				  PgovReleased *out)
{
	PgovSlot   *s = &b->slots[slotno];
	PgovTenant *t = s->tenant >= 0 ? &b->tenants[s->tenant] : NULL;

	if (s->pid != pid || pid == 0)
	{
		if (s->pid == 0)
			s->last_pid = pid;
		return false;
	}
	if (out)
	{
		out->state = s->state;
		if (t)
			memcpy(out->tenant, t->name, PGOV_NAME_LEN);
		else
			out->tenant[0] = '\0';
		out->who = s->who;
	}
	switch (s->state)
	{
		case PGOV_SLOT_GOVERNED:
			tenant_count(b, t, -1, 0);
			break;
		case PGOV_SLOT_WAITING:
			dequeue(b, t, slotno);
			recent_note(b, t, now, RECENT_WAITED);
			break;
		case PGOV_SLOT_EXEMPT:
			b->totals->exempt_connected--;
			if (s->ordinary)
				b->totals->exempt_ordinary--;
			break;
		case PGOV_SLOT_CLAIMED:
		case PGOV_SLOT_FREE:
			break;
	}
	s->last_pid = pid;
	s->pid = 0;
	s->state = PGOV_SLOT_FREE;
	s->tenant = PGOV_TENANT_NONE;
	s->ordinary = false;
	return true;
}

/*
 * Moves a governed session to the tenant the rules in force place it in.
 * Nothing is refused or terminated: a tenant pushed above its cap drains.
 */
bool
pgov_seat_reclassify(PgovBoard *b, int slotno, int tenant, int64_t rule_id,
					 uint64_t generation, int64_t now)
{
	PgovSlot   *s = &b->slots[slotno];

	if (s->state != PGOV_SLOT_GOVERNED)
		return false;
	s->generation = generation;
	s->rule_id = rule_id;
	if (s->tenant != tenant)
	{
		tenant_count(b, &b->tenants[s->tenant], -1, now);
		s->tenant = tenant;
		tenant_count(b, &b->tenants[tenant], 1, now);
	}
	return true;
}

/*
 * Exemption follows the setting in force: a governed session that is
 * exempt now (pool_governor.exempt_superusers turned on, its role made a
 * superuser) leaves its tenant's count and is counted apart, in its
 * ordinary slot; it is never drained.
 */
bool
pgov_seat_make_exempt(PgovBoard *b, int slotno, int64_t now)
{
	PgovSlot   *s = &b->slots[slotno];

	if (s->state != PGOV_SLOT_GOVERNED)
		return false;
	tenant_count(b, &b->tenants[s->tenant], -1, now);
	s->tenant = PGOV_TENANT_NONE;
	s->rule_id = 0;
	s->ending = false;
	pgov_seat_exempt(b, slotno, true, s->admitted_at);
	return true;
}

/*
 * The other way: a session counted apart in an ordinary slot that is no
 * longer exempt joins the tenant the rules in force place it in.  It is
 * never refused (it is already in); a tenant pushed above its cap drains,
 * as after a publication.  A replication connection is always exempt and
 * holds no ordinary slot: it never moves.
 */
bool
pgov_seat_make_governed(PgovBoard *b, int slotno, int tenant,
						int64_t rule_id, uint64_t generation, int64_t now)
{
	PgovSlot   *s = &b->slots[slotno];

	if (s->state != PGOV_SLOT_EXEMPT || !s->ordinary)
		return false;
	b->totals->exempt_connected--;
	b->totals->exempt_ordinary--;
	s->ordinary = false;
	s->state = PGOV_SLOT_GOVERNED;
	s->tenant = tenant;
	s->rule_id = rule_id;
	s->generation = generation;
	s->ending = false;
	tenant_count(b, &b->tenants[tenant], 1, now);
	return true;
}

static int
int_cmp(const void *a, const void *b)
{
	int			x = *(const int *) a;
	int			y = *(const int *) b;

	return (x > y) - (x < y);
}

/*
 * Which of the started client sessions pids[0..n) hold no slot: the ones
 * the worker adopts.  Each is looked up among the slots' holders: a count
 * cannot tell, because a login still deciding or waiting holds a slot but
 * is no started session yet, so "no more sessions than slots in use" can
 * hide a stray behind every waiter.  The strays are moved to the front of
 * pids, sorted; returns how many.  scratch has room for nslots ints.
 * O((n + slots) log slots); read-only on the board.
 */
int
pgov_seat_strays(const PgovBoard *b, int *pids, int n, int *scratch)
{
	int			nheld = 0;
	int			nstray = 0;
	int			i;

	for (i = 0; i < b->nslots; i++)
		if (b->slots[i].pid != 0)
			scratch[nheld++] = b->slots[i].pid;
	qsort(scratch, nheld, sizeof(int), int_cmp);
	for (i = 0; i < n; i++)
		if (pids[i] != 0 &&
			bsearch(&pids[i], scratch, nheld, sizeof(int), int_cmp) == NULL)
			pids[nstray++] = pids[i];
	qsort(pids, nstray, sizeof(int), int_cmp);
	return nstray;
}

/*
 * Counts a live session that holds no slot (it logged in while the governor
 * was off): governed in tenant, or exempt.  Refused when the slot is taken,
 * or when pid is the one that last gave it back (it has left).
 */
bool
pgov_seat_adopt(PgovBoard *b, int slotno, int pid, const PgovWho *who,
				bool exempt, bool ordinary, int tenant, int64_t rule_id,
				uint64_t generation, int64_t now)
{
	PgovSlot   *s = &b->slots[slotno];

	if (s->pid != 0 || s->last_pid == pid || pid == 0)
		return false;
	pgov_seat_claim(b, slotno, pid, who, now);
	if (exempt)
	{
		pgov_seat_exempt(b, slotno, ordinary, now);
		return true;
	}
	s->state = PGOV_SLOT_GOVERNED;
	s->tenant = tenant;
	s->rule_id = rule_id;
	s->generation = generation;
	s->admitted_at = now;
	tenant_count(b, &b->tenants[tenant], 1, now);
	return true;
}

/*
 * This node now has role (a standby was promoted, or a node not yet
 * decided says what it is): every tenant's numbers become those of the
 * role, the totals follow.  A tenant left above a lowered cap drains as
 * after a publication.  Returns whether anything changed: the caller wakes
 * waiters, as a raised cap may let them in.  O(tenants).
 */
bool
pgov_seat_set_role(PgovBoard *b, int role, int64_t now)
{
	PgovSeatTotals *tot = b->totals;
	int			i;

	if (tot->role == role)
		return false;
	tot->role = role;
	tot->role_since = now;
	tot->sum_held = 0;
	for (i = 0; i < tot->ntenants; i++)
	{
		PgovTenant *t = &b->tenants[i];

		if (!t->in_use)
			continue;
		t->max_connections = pgov_tenant_cap(b, t, role);
		t->reserved_connections = t->by_role[pgov_numbers_role(role)].reserved_connections;
		tot->sum_held += held(t);
	}
	pgov_seat_note_above_cap(b, now);
	return true;
}

/*
 * A tenant's cap on this node in role: its numbers there, and while the
 * cluster quota is on (pool_governor.etcd_endpoints) and the tenant has
 * one, at most its floor and the seats etcd granted this node.
 */
int
pgov_tenant_cap(const PgovBoard *b, const PgovTenant *t, int role)
{
	const PgovNodeNumbers *n = &t->by_role[pgov_numbers_role(role)];
	int			allow;

	if (!b->totals->cluster_on || t->cluster_quota <= 0)
		return n->max_connections;
	allow = n->cluster_floor + t->cluster_granted;
	return n->max_connections == PGOV_NO_CAP || allow < n->max_connections ?
		allow : n->max_connections;
}

/* Has t been above its cap for its drain_grace at now?  Compared in
 * milliseconds, so that no grace can overflow (a clock that went back
 * makes nothing due). */
static bool
grace_passed(const PgovTenant *t, int64_t now)
{
	return now >= t->above_cap_since &&
		(now - t->above_cap_since) / 1000 >= t->drain_grace_ms;
}

/*
 * The tenants whose drain is due at now: drain 'idle', above the cap since
 * drain_grace ago or longer.  At most max go to due[]; returns how many.
 * Read-only; O(tenants above their cap), nothing at all when none is.
 */
int
pgov_seat_drain_due(const PgovBoard *b, int64_t now, PgovDrainDue *due, int max)
{
	int			n = 0;
	int			i;

	for (i = b->totals->ac_head; i >= 0 && n < max; i = b->tenants[i].ac_next)
	{
		const PgovTenant *t = &b->tenants[i];

		if (t->drain != PGOV_DRAIN_IDLE || !grace_passed(t, now))
			continue;
		due[n].tenant = i;
		due[n].incarnation = t->incarnation;
		due[n].excess = t->connected - t->max_connections;
		due[n].connected = t->connected;
		due[n].max_connections = t->max_connections;
		due[n].above_since = t->above_cap_since;
		n++;
	}
	return n;
}

/* Counts n sessions ended by a drain in entry tenant, if it is still the
 * same tenant. */
void
pgov_seat_count_drained(PgovBoard *b, int tenant, uint32_t incarnation, int n)
{
	PgovTenant *t = &b->tenants[tenant];

	if (t->in_use && t->incarnation == incarnation)
		t->drained += n;
}

/* Zeroes the cumulative counters of one tenant (index), or of all (-1). */
void
pgov_board_reset_stats(PgovBoard *b, int tenant, int64_t now)
{
	int			i;

	for (i = 0; i < b->totals->ntenants; i++)
	{
		PgovTenant *t = &b->tenants[i];

		if (!t->in_use || (tenant >= 0 && i != tenant))
			continue;
		t->peak_connected = t->connected;
		t->peak_at = now;
		t->admitted = t->rejected = t->would_reject = 0;
		t->waited = t->wait_timeouts = 0;
		t->wait_ms_total = t->wait_ms_max = 0;
		t->drained = 0;
		t->paced = 0;
		t->stats_reset = now;
	}
	if (tenant < 0)
		b->totals->rejected_total = 0;
}

/*
 * Sets the width of a recent[] step from the health window (window_us over
 * PGOV_RECENT_BUCKETS - 1, rounded up).  A new width starts every tenant's
 * recent counts afresh: steps of another width cannot be summed.
 */
void
pgov_board_window(PgovBoard *b, int64_t window_us)
{
	int64_t		width = (window_us + PGOV_RECENT_BUCKETS - 2) /
		(PGOV_RECENT_BUCKETS - 1);
	int			i;

	if (width < 1)
		width = 1;
	if (b->totals->recent_width_us == width)
		return;
	b->totals->recent_width_us = width;
	for (i = 0; i < b->max_tenants; i++)
		memset(b->tenants[i].recent, 0, sizeof(b->tenants[i].recent));
}

/*
 * A tenant's logins over the health window: the current step and the
 * PGOV_RECENT_BUCKETS - 1 before it, so between the window and one step
 * more.  O(PGOV_RECENT_BUCKETS).
 */
void
pgov_tenant_recent(const PgovBoard *b, int tenant, int64_t now,
				   PgovRecent *out)
{
	const PgovTenant *t = &b->tenants[tenant];
	int64_t		width = b->totals->recent_width_us;
	int64_t		current;
	int			i;

	memset(out, 0, sizeof(*out));
	if (width <= 0 || now < 0)
		return;
	current = now / width;
	for (i = 0; i < PGOV_RECENT_BUCKETS; i++)
	{
		const PgovRecentBucket *k = &t->recent[i];

		if (k->stamp > current - PGOV_RECENT_BUCKETS && k->stamp <= current)
		{
			out->admitted += k->admitted;
			out->refused += k->refused;
			out->waits += k->waits;
		}
	}
}
