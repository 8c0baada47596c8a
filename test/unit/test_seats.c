/*
 * Unit test of the seat state machine (src/seats.c) against a reference
 * model: random logins, waits, re-decisions, logouts, reclassifications,
 * adoptions and publications.  After every step the board's counters,
 * queues and totals must equal what the model derives from its own slots,
 * nothing may be negative, a login is never admitted past its tenant's cap
 * (outside monitor mode), and every outcome is the one the model expects.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "clusterseats.h"
#include "seats.h"
#include "publish.h"
#include "share.h"

#define NSLOTS		24
#define NTENANTS	5			/* t0..t4; the model's index 5 is "default" */
#define DFLT		NTENANTS
#define MAXT		8			/* board entries */
#define SLOT_LIMIT	20			/* max_connections less reserved slots */
#define KEEP_FREE	2

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t) rng_state;
}

typedef struct MTenant
{
	bool		exists;			/* configured (default always exists) */
	PgovTenantDef def;
} MTenant;

typedef struct MSlot
{
	PgovSlotState state;
	int			tenant;			/* model index */
	bool		ordinary;
	uint64_t	seq;			/* queue order */
	int			pid;
	int			last_pid;
	int64_t		entered;
	int64_t		deadline;
	int64_t		woken_at;		/* WAITING, woken for a seat; 0 = not */
} MSlot;

static MTenant mt[NTENANTS + 1];
static MSlot ms[NSLOTS];
static int64_t m_above_since[NTENANTS + 1];	/* the model's: 0 = not above */
static int	exemption_moves = 0;
static int64_t m_drained[NTENANTS + 1];
static int	drains_checked = 0;
static int	drained_sessions = 0;
static uint64_t next_seq = 1;
static int	next_pid = 100;
static int64_t now = 1000000;
static int	capacity = 18;
/* per-node budgets: each tenant's numbers in both roles, and the role
 * whose numbers the board enforces (PGOV_ROLE_UNKNOWN: the primary's) */
static PgovNodeNumbers m_by_role[PGOV_NROLES][NTENANTS + 1];
static int	m_role = PGOV_ROLE_UNKNOWN;
static int	role_switches = 0;

static PgovSeatTotals totals;
static PgovTenant tenants[MAXT];
static PgovSlot slots[NSLOTS];
static PgovShareEntry heap[MAXT];
static PgovBoard board = {&totals, tenants, MAXT, slots, NSLOTS, heap};

static int	mismatches = 0;
static int	over_cap = 0;
static int	outcome_wrong = 0;

static const char *
mname(int m)
{
	static const char *names[] = {"t0", "t1", "t2", "t3", "t4", "default"};

	return names[m];
}

/* The board's entry for model tenant m (-1 if none). */
static int
entry(int m)
{
	return pgov_find_tenant_entry(&board, mname(m));
}

static int
m_connected(int m)
{
	int			n = 0;

	for (int i = 0; i < NSLOTS; i++)
		n += ms[i].state == PGOV_SLOT_GOVERNED && ms[i].tenant == m;
	return n;
}

static int
m_waiting(int m)
{
	int			n = 0;

	for (int i = 0; i < NSLOTS; i++)
		n += ms[i].state == PGOV_SLOT_WAITING && ms[i].tenant == m;
	return n;
}

static int
m_used_slots(void)
{
	int			n = 0;

	for (int i = 0; i < NSLOTS; i++)
		n += ms[i].state != PGOV_SLOT_FREE;
	return n;
}

static int
m_exempt(bool ordinary_only)
{
	int			n = 0;

	for (int i = 0; i < NSLOTS; i++)
		n += ms[i].state == PGOV_SLOT_EXEMPT && (!ordinary_only || ms[i].ordinary);
	return n;
}

static int
m_held(int m)
{
	int			c = m_connected(m);
	int			r = mt[m].def.reserved_connections;

	return c > r ? c : r;
}

static int
m_sum_held(void)
{
	int			s = 0;

	for (int m = 0; m <= NTENANTS; m++)
		if (mt[m].exists)
			s += m_held(m);
	return s;
}

static bool
free_slots(void *ctx, int n)
{
	(void) ctx;
	return NSLOTS - m_used_slots() >= n;
}

/* A woken waiter that has not decided within its turn is passed over. */
static bool
m_passed(int k)
{
	return ms[k].state == PGOV_SLOT_WAITING && ms[k].woken_at != 0 &&
		now - ms[k].woken_at >= PGOV_TURN_US;
}

/* The model's first waiter of tenant entry e whose turn has not passed. */
static int
m_next_in_turn(int e)
{
	for (int s = tenants[e].wait_head; s >= 0; s = slots[s].wait_next)
		if (!m_passed(s))
			return s;
	return -1;
}

/* The model's in-turn waiters of tenant m, in arrival order. */
static int
m_in_turn(int m, int *out)
{
	int			n = 0;

	for (int k = 0; k < NSLOTS; k++)
		if (ms[k].state == PGOV_SLOT_WAITING && ms[k].tenant == m && !m_passed(k))
		{
			int			j = n++;

			while (j > 0 && ms[out[j - 1]].seq > ms[k].seq)
			{
				out[j] = out[j - 1];
				j--;
			}
			out[j] = k;
		}
	return n;
}

/*
 * The model's waiters of tenant m that want shared seats, in the order they
 * would take them: its in-turn waiters after those its unused reserve
 * seats take, as many as its cap leaves room for.
 */
static int
m_shared_candidates(int m, int *out)
{
	int			all[NSLOTS];
	int			n = m_in_turn(m, all);
	int			conn = m_connected(m);
	int			skip = mt[m].def.reserved_connections - conn;
	int			room = mt[m].def.max_connections == PGOV_NO_CAP ? NSLOTS :
		mt[m].def.max_connections - conn;
	int			c = 0;

	if (skip < 0)
		skip = 0;
	room -= skip;
	for (int k = skip; k < n && c < room; k++)
		out[c++] = all[k];
	return c;
}

static int
m_weight(int m)
{
	return mt[m].def.weight > 0 ? mt[m].def.weight : 1;
}

static int
m_shared_held(int m)
{
	int			h = m_connected(m) - mt[m].def.reserved_connections;

	return h > 0 ? h : 0;
}

/* Fair share, as docs/admission.md says it: lowest shared seats held per weight,
 * then the oldest login (then the lower slot). */
static bool
m_first(int ma, int ha, int sa, int mb, int hb, int sb)
{
	double		ra = (double) ha / m_weight(ma);
	double		rb = (double) hb / m_weight(mb);

	if (ra != rb)
		return ra < rb;
	if (ms[sa].entered != ms[sb].entered)
		return ms[sa].entered < ms[sb].entered;
	return sa < sb;
}

/*
 * The model's hand-off of the free shared seats, one at a time, each to the
 * first wanting login by m_first.  With login >= 0 (a login of tenant lm
 * that wants one, itself no waiter of a queue in the model's candidates):
 * does it get one?  Otherwise the slots of the waiters that get the first
 * seat of their tenant go to woken[] (*nwoken).
 */
static int	fair_passes = 0;
static int	fair_refusals = 0;

static bool
m_hand_off(int free_seats, int login, int lm, int *woken, int *nwoken)
{
	int			cand[NTENANTS + 1][NSLOTS];
	int			ncand[NTENANTS + 1];
	int			given[NTENANTS + 1];

	for (int m = 0; m <= NTENANTS; m++)
	{
		given[m] = 0;
		ncand[m] = (mt[m].exists && (login < 0 || m != lm)) ?
			m_shared_candidates(m, cand[m]) : 0;
	}
	for (int seat = 0; seat < free_seats; seat++)
	{
		int			bm = -1;

		for (int m = 0; m <= NTENANTS; m++)
		{
			if (given[m] >= ncand[m])
				continue;
			if (bm < 0 ||
				m_first(m, m_shared_held(m) + given[m], cand[m][given[m]],
						bm, m_shared_held(bm) + given[bm], cand[bm][given[bm]]))
				bm = m;
		}
		if (login >= 0 &&
			(bm < 0 || m_first(lm, m_shared_held(lm), login,
							   bm, m_shared_held(bm) + given[bm], cand[bm][given[bm]])))
			return true;
		if (bm < 0)
			break;
		if (login >= 0)
			fair_passes++;
		if (login < 0 && given[bm] == 0 &&
			m_connected(bm) >= mt[bm].def.reserved_connections)
			woken[(*nwoken)++] = cand[bm][0];
		given[bm]++;
	}
	return false;
}

/*
 * The waiters a released seat wakes: in each queue that pgov_decide()
 * admits, only the first waiter whose turn has not passed, no more needing
 * a shared seat than are free; nobody is left asleep while a waiter in
 * turn could be admitted; and the next turn to end is the earliest one.
 */
static int	wake_wrong = 0;
static int	wake_prefixes = 0;

static int
slot_cmp(const void *a, const void *b)
{
	return *(const int *) a - *(const int *) b;
}

static int	passed_over = 0;
static int	late_refusals = 0;

static void
check_wakeable(void)
{
	int			cap = pgov_capacity_in_force(&board, capacity, SLOT_LIMIT);
	int			woken[MAXT];
	int			n = pgov_seat_wakeable(&board, cap, false, now, woken, MAXT);
	int			shared = 0;
	bool		any_admissible = false;

	/* a full slots[] stops the hand-off: the first max of the same order */
	for (int k = 1; k <= 3 && k < n; k++)
	{
		int			part[3];

		if (pgov_seat_wakeable(&board, cap, false, now, part, k) != k ||
			memcmp(part, woken, sizeof(int) * k) != 0)
			wake_wrong++;
		wake_prefixes++;
	}

	for (int i = 0; i < n; i++)
	{
		PgovSlot   *s = &slots[woken[i]];
		PgovTenant *t;

		if (s->state != PGOV_SLOT_WAITING)
		{
			wake_wrong++;
			continue;
		}
		t = &tenants[s->tenant];
		if (m_next_in_turn(s->tenant) != woken[i] ||
			pgov_decide(t->connected, t->max_connections, t->reserved_connections,
						totals.sum_held, cap, 0) != PGOV_ADMIT)
			wake_wrong++;
		if (t->connected >= t->reserved_connections)
			shared++;
	}
	if (shared > 0 && shared > cap - totals.sum_held)
		wake_wrong++;
	for (int e = 0; e < MAXT; e++)
	{
		PgovTenant *t = &tenants[e];

		if (t->in_use && t->waiting > 0 && m_next_in_turn(e) >= 0 &&
			pgov_decide(t->connected, t->max_connections, t->reserved_connections,
						totals.sum_held, cap, 0) == PGOV_ADMIT)
			any_admissible = true;
	}
	if (any_admissible && n == 0)
		wake_wrong++;

	/* exactly the model's: the first in turn of each tenant below its
	 * reserve, and of each that the fair hand-off gives a shared seat */
	{
		int			expect[MAXT * 2];
		int			ne = 0;
		int			got[MAXT];
		int			by_slots = SLOT_LIMIT - m_exempt(true);
		int			cap_in_force = capacity < by_slots ? capacity : by_slots;

		if (cap_in_force < 0)
			cap_in_force = 0;
		for (int m = 0; m <= NTENANTS; m++)
		{
			int			turn[NSLOTS];
			int			conn = m_connected(m);

			if (mt[m].exists && conn < mt[m].def.reserved_connections &&
				(mt[m].def.max_connections == PGOV_NO_CAP ||
				 conn < mt[m].def.max_connections) &&
				m_in_turn(m, turn) > 0)
				expect[ne++] = turn[0];
		}
		m_hand_off(cap_in_force - m_sum_held(), -1, -1, expect, &ne);
		memcpy(got, woken, sizeof(int) * n);
		qsort(expect, ne, sizeof(int), slot_cmp);
		qsort(got, n, sizeof(int), slot_cmp);
		if (ne != n || memcmp(expect, got, sizeof(int) * n) != 0)
			wake_wrong++;
	}

	/* the next turn to end: the earliest woken waiter still in its turn */
	{
		int64_t		expect = 0;

		for (int k = 0; k < NSLOTS; k++)
			if (ms[k].state == PGOV_SLOT_WAITING && ms[k].woken_at != 0 &&
				!m_passed(k) &&
				(expect == 0 || ms[k].woken_at + PGOV_TURN_US < expect))
				expect = ms[k].woken_at + PGOV_TURN_US;
		if (pgov_seat_turn_ends(&board, now) != expect)
			wake_wrong++;
	}

	/* marking: those listed but already woken are left out, the others
	 * marked once, then none of them again; then the board is restored */
	{
		int			marked[MAXT];
		int			again[MAXT];
		int			expect[MAXT];
		int			ne = 0;
		bool		saved_woken[NSLOTS];
		int64_t		saved_at[NSLOTS];
		int			nm,
					na;

		for (int k = 0; k < NSLOTS; k++)
		{
			saved_woken[k] = slots[k].woken;
			saved_at[k] = slots[k].woken_at;
		}
		for (int i = 0; i < n; i++)
			if (!slots[woken[i]].woken)
				expect[ne++] = woken[i];
		nm = pgov_seat_wakeable(&board, cap, true, now, marked, MAXT);
		na = pgov_seat_wakeable(&board, cap, true, now, again, MAXT);
		if (nm != ne || memcmp(marked, expect, sizeof(int) * ne) != 0)
			wake_wrong++;
		for (int i = 0; i < na; i++)
			for (int k = 0; k < nm; k++)
				if (again[i] == marked[k])
					wake_wrong++;
		for (int k = 0; k < NSLOTS; k++)
		{
			slots[k].woken = saved_woken[k];
			slots[k].woken_at = saved_at[k];
		}
	}
}

/* Compares every counter and queue with the model. */
static void
compare(void)
{
	int			total = 0;

	for (int m = 0; m <= NTENANTS; m++)
	{
		int			e = entry(m);
		uint64_t	last = 0;
		int			walked = 0;

		if (!mt[m].exists)
		{
			if (e >= 0)
				mismatches++;
			continue;
		}
		if (e < 0)
		{
			mismatches++;
			continue;
		}
		if (tenants[e].connected != m_connected(m) ||
			tenants[e].waiting != m_waiting(m) ||
			tenants[e].connected < 0 || tenants[e].waiting < 0 ||
			tenants[e].max_connections != mt[m].def.max_connections)
			mismatches++;
		/* the queue, walked, is the model's waiters in arrival order */
		for (int s = tenants[e].wait_head; s >= 0; s = slots[s].wait_next)
		{
			if (ms[s].state != PGOV_SLOT_WAITING || ms[s].tenant != m ||
				ms[s].seq <= last)
				mismatches++;
			last = ms[s].seq;
			if (++walked > NSLOTS)
				break;
		}
		if (walked != m_waiting(m))
			mismatches++;
		if (tenants[e].above_cap_since != m_above_since[m])
			mismatches++;
		total += m_connected(m);
	}
	/* the tenants above their cap are listed, each once, and no other */
	{
		int			listed = 0;
		int			above = 0;

		for (int e = totals.ac_head; e >= 0; e = tenants[e].ac_next)
		{
			if (tenants[e].above_cap_since == 0 || !tenants[e].in_use ||
				(tenants[e].ac_next >= 0 && tenants[tenants[e].ac_next].ac_prev != e))
				mismatches++;
			if (++listed > MAXT)
				break;
		}
		for (int m = 0; m <= NTENANTS; m++)
			if (mt[m].exists && m_above_since[m] != 0)
				above++;
		if (listed != above)
			mismatches++;
	}
	/* the tenants with waiters are listed, each once, and no other */
	{
		int			listed = 0;
		int			with_waiters = 0;

		for (int e = totals.wq_head; e >= 0; e = tenants[e].wq_next)
		{
			if (tenants[e].waiting <= 0 || !tenants[e].in_use)
				mismatches++;
			if (++listed > MAXT)
				break;
		}
		for (int e = 0; e < MAXT; e++)
			if (tenants[e].in_use && tenants[e].waiting > 0)
				with_waiters++;
		if (listed != with_waiters)
			mismatches++;
	}
	check_wakeable();
	if (totals.connected != total || totals.sum_held != m_sum_held() ||
		totals.exempt_connected != m_exempt(false) ||
		totals.exempt_ordinary != m_exempt(true) ||
		entry(DFLT) != totals.default_tenant)
		mismatches++;
	for (int i = 0; i < NSLOTS; i++)
		if (slots[i].state != ms[i].state || slots[i].pid != ms[i].pid ||
			(ms[i].state == PGOV_SLOT_GOVERNED &&
			 slots[i].tenant != entry(ms[i].tenant)) ||
			(ms[i].state == PGOV_SLOT_WAITING &&
			 slots[i].woken != (ms[i].woken_at != 0)))
			mismatches++;
}

/* A random configuration: t0..t4 each present or not, random limits. */
static void
random_config(PgovTenantDef *defs, int *ndefs)
{
	int			reserve_left = capacity;

	*ndefs = 0;
	for (int m = 0; m < NTENANTS; m++)
	{
		PgovTenantDef *d;

		mt[m].exists = (rng() % 5) != 0;
		if (!mt[m].exists)
			continue;
		d = &defs[(*ndefs)++];
		memset(d, 0, sizeof(*d));
		strcpy(d->name, mname(m));
		d->max_connections = rng() % 4 == 0 ? PGOV_NO_CAP : (int) (rng() % 8);
		d->reserved_connections = (int) (rng() % 4);
		if (d->max_connections != PGOV_NO_CAP && d->reserved_connections > d->max_connections)
			d->reserved_connections = d->max_connections;
		if (d->reserved_connections > reserve_left)
			d->reserved_connections = reserve_left;
		reserve_left -= d->reserved_connections;
		d->max_waiting = (int) (rng() % 6);
		d->wait_timeout_ms = rng() % 3 == 0 ? 0 : (int64_t) (rng() % 3000);
		d->weight = rng() % 3 == 0 ? 1 : 1 + (int) (rng() % 5);
		d->drain = rng() % 2 ? PGOV_DRAIN_IDLE : PGOV_DRAIN_NATURAL;
		d->drain_grace_ms = (int64_t) (rng() % 3) * 500;
		mt[m].def = *d;
		m_by_role[PGOV_ROLE_PRIMARY][m] = (PgovNodeNumbers) {
			d->max_connections, d->reserved_connections, PGOV_FROM_TENANTS, 0, 0
		};
	}
	/* a standby's numbers: their own caps and reserves, fitting the same
	 * capacity */
	reserve_left = capacity;
	for (int m = 0; m < NTENANTS; m++)
	{
		PgovNodeNumbers *n = &m_by_role[PGOV_ROLE_STANDBY][m];

		if (!mt[m].exists)
			continue;
		if (rng() % 2)
		{
			*n = m_by_role[PGOV_ROLE_PRIMARY][m];
			n->reserved_connections = n->reserved_connections > reserve_left ?
				reserve_left : n->reserved_connections;
		}
		else
		{
			n->max_connections = rng() % 4 == 0 ? PGOV_NO_CAP : (int) (rng() % 8);
			n->reserved_connections = (int) (rng() % 4);
			if (n->max_connections != PGOV_NO_CAP && n->reserved_connections > n->max_connections)
				n->reserved_connections = n->max_connections;
			if (n->reserved_connections > reserve_left)
				n->reserved_connections = reserve_left;
			n->from = PGOV_FROM_ROLE;
		}
		reserve_left -= n->reserved_connections;
		mt[m].def.max_connections = m_by_role[m_role == PGOV_ROLE_STANDBY][m].max_connections;
		mt[m].def.reserved_connections = m_by_role[m_role == PGOV_ROLE_STANDBY][m].reserved_connections;
	}
	mt[DFLT].exists = true;
	memset(&mt[DFLT].def, 0, sizeof(mt[DFLT].def));
	strcpy(mt[DFLT].def.name, "default");
	mt[DFLT].def.max_connections = PGOV_NO_CAP;
}

static int
model_index(const char *name)
{
	for (int m = 0; m <= NTENANTS; m++)
		if (strcmp(mname(m), name) == 0)
			return m;
	return -1;
}

/* When each model tenant went above its cap, as the board notes it (at a
 * publication and at each drain pass). */
static void
m_note_above_cap(void)
{
	for (int m = 0; m <= NTENANTS; m++)
	{
		bool		above = mt[m].exists &&
			mt[m].def.max_connections != PGOV_NO_CAP &&
			m_connected(m) > mt[m].def.max_connections;

		if (!above)
			m_above_since[m] = 0;
		else if (m_above_since[m] == 0)
			m_above_since[m] = now;
	}
}

/*
 * A drain pass: the tenants due are exactly the model's (drain 'idle',
 * above the cap for drain_grace), each with its excess; then some of each
 * due tenant's sessions above the cap end (the worker's part, not the seat
 * machine's) and are counted.
 */
static void
drain_step(void)
{
	PgovDrainDue due[MAXT];
	int			n = pgov_seat_drain_due(&board, now, due, MAXT);
	int			expect = 0;

	m_note_above_cap();
	for (int m = 0; m <= NTENANTS; m++)
	{
		PgovDrainDue *d = NULL;
		bool		is_due = m_above_since[m] != 0 &&
			mt[m].def.drain == PGOV_DRAIN_IDLE &&
			now - m_above_since[m] >= mt[m].def.drain_grace_ms * 1000;

		for (int k = 0; k < n; k++)
			if (due[k].tenant == entry(m))
				d = &due[k];
		if (is_due != (d != NULL))
		{
			mismatches++;
			continue;
		}
		if (!is_due)
			continue;
		expect++;
		drains_checked++;
		if (d->excess != m_connected(m) - mt[m].def.max_connections ||
			d->above_since != m_above_since[m] ||
			tenants[d->tenant].above_cap_since != m_above_since[m])
			mismatches++;
		/* some of the sessions above the cap are idle and end */
		{
			int			end = (int) (rng() % (d->excess + 1));
			int			ended = 0;

			for (int i = 0; i < NSLOTS && ended < end; i++)
				if (ms[i].state == PGOV_SLOT_GOVERNED && ms[i].tenant == m)
				{
					if (!pgov_seat_release(&board, i, ms[i].pid, now, NULL))
						mismatches++;
					ms[i].last_pid = ms[i].pid;
					ms[i].pid = 0;
					ms[i].state = PGOV_SLOT_FREE;
					ended++;
				}
			pgov_seat_count_drained(&board, d->tenant, d->incarnation, ended);
			m_drained[m] += ended;
			drained_sessions += ended;
		}
	}
	if (n != expect)
		mismatches++;
	for (int m = 0; m <= NTENANTS; m++)
		if (mt[m].exists && tenants[entry(m)].drained != m_drained[m])
			mismatches++;
}

static void
publish(uint64_t generation)
{
	PgovTenantDef defs[NTENANTS];
	PgovPlan	plan[NSLOTS];
	int			map[NTENANTS];
	int			ndefs;
	PgovNodeNumbers prim[NTENANTS];
	PgovNodeNumbers stby[NTENANTS];
	PgovNodeNumbers *numbers[PGOV_NROLES] = {prim, stby};
	int			role = PGOV_ROLE_UNKNOWN;

	random_config(defs, &ndefs);
	for (int d = 0; d < ndefs; d++)
	{
		prim[d] = m_by_role[PGOV_ROLE_PRIMARY][model_index(defs[d].name)];
		stby[d] = m_by_role[PGOV_ROLE_STANDBY][model_index(defs[d].name)];
	}
	/* now and then the publisher says the role, as the worker does */
	if (rng() % 4 == 0)
	{
		role = (int) (rng() % 2);
		m_role = role;
		for (int m = 0; m < NTENANTS; m++)
		{
			mt[m].def.max_connections = m_by_role[role][m].max_connections;
			mt[m].def.reserved_connections = m_by_role[role][m].reserved_connections;
		}
	}
	memset(plan, 0, sizeof(plan));
	for (int i = 0; i < NSLOTS; i++)
	{
		if (ms[i].state == PGOV_SLOT_WAITING)
			ms[i].state = PGOV_SLOT_CLAIMED;
		ms[i].woken_at = 0;
		if (ms[i].state != PGOV_SLOT_GOVERNED)
			continue;
		if (rng() % 4 != 0)
		{
			/* planned: to a random tenant of the new configuration */
			int			d = (int) (rng() % (ndefs + 1)) - 1;

			plan[i].pid = ms[i].pid;
			plan[i].entered_at = ms[i].entered;
			plan[i].def = d;
			ms[i].tenant = d >= 0 ? model_index(defs[d].name) : DFLT;
		}
		else if (!mt[ms[i].tenant].exists)
			ms[i].tenant = DFLT;	/* unplanned, tenant gone */
	}
	for (int m = 0; m < NTENANTS; m++)
		if (!mt[m].exists)
			m_drained[m] = 0;
	if (!pgov_seat_publish(&board, defs, ndefs, numbers, role, "default", plan, generation,
							now, map))
		mismatches++;
	m_note_above_cap();
	for (int d = 0; d < ndefs; d++)
		if (map[d] != entry(model_index(defs[d].name)))
			mismatches++;
}

/* A random tenant of the configuration in force (model index). */
static int
random_tenant(void)
{
	for (;;)
	{
		int			m = (int) (rng() % (NTENANTS + 1));

		if (mt[m].exists)
			return m;
	}
}

/* Sessions that logged in while the governor was off: they hold their
 * PGPROC (index) but no slot on the board, until the worker adopts them. */
static int	stray[NSLOTS];
static int	strays_found = 0;

static int
model_pid_cmp(const void *a, const void *b)
{
	return *(const int *) a - *(const int *) b;
}

static int
free_slot(void)
{
	int			start = (int) (rng() % NSLOTS);

	for (int k = 0; k < NSLOTS; k++)
		if (ms[(start + k) % NSLOTS].state == PGOV_SLOT_FREE &&
			stray[(start + k) % NSLOTS] == 0)
			return (start + k) % NSLOTS;
	return -1;
}

static int
slot_in(PgovSlotState a, PgovSlotState b)
{
	int			start = (int) (rng() % NSLOTS);

	for (int k = 0; k < NSLOTS; k++)
	{
		int			i = (start + k) % NSLOTS;

		if (ms[i].state == a || ms[i].state == b)
			return i;
	}
	return -1;
}

static PgovWho
who_of(int pid)
{
	PgovWho		w;

	memset(&w, 0, sizeof(w));
	w.roleid = (uint32_t) pid;
	return w;
}

/* What the model expects decide() to do, applied to the model. */
static PgovSeatOutcome
model_decide(int i, int m, bool monitor)
{
	MSlot	   *s = &ms[i];
	PgovTenantDef *d = &mt[m].def;
	int			by_slots = SLOT_LIMIT - m_exempt(true);
	int			cap_in_force = capacity < by_slots ? capacity : by_slots;
	int			conn = m_connected(m);
	bool		queued;
	int			ahead = 0;
	bool		admit;

	if (cap_in_force < 0)
		cap_in_force = 0;
	s->woken_at = 0;
	if (s->state == PGOV_SLOT_WAITING && s->tenant != m)
		s->state = PGOV_SLOT_CLAIMED;
	queued = s->state == PGOV_SLOT_WAITING;
	/* first come, first served, but for waiters that let their turn pass */
	for (int k = 0; k < NSLOTS; k++)
		if (ms[k].state == PGOV_SLOT_WAITING && ms[k].tenant == m &&
			(!queued || ms[k].seq < s->seq))
		{
			if (m_passed(k))
				passed_over++;
			else
				ahead++;
		}

	admit = !(d->max_connections != PGOV_NO_CAP && conn >= d->max_connections) &&
		!(conn >= d->reserved_connections && m_sum_held() >= cap_in_force) &&
		ahead == 0;
	/* fair share: a shared seat only if the hand-off gives it one */
	if (admit && conn >= d->reserved_connections &&
		!m_hand_off(cap_in_force - m_sum_held(), i, m, NULL, NULL))
	{
		fair_refusals++;
		admit = false;
	}
	/* no login is admitted after its own wait ended */
	if (queued && !monitor && now >= s->deadline)
	{
		if (admit)
			late_refusals++;
		admit = false;
	}
	if (admit || monitor)
	{
		s->state = PGOV_SLOT_GOVERNED;
		s->tenant = m;
		return PGOV_SEAT_ADMITTED;
	}
	if (queued)
	{
		if (now < s->deadline)
			return PGOV_SEAT_QUEUED;
	}
	else if (d->wait_timeout_ms > 0 && m_waiting(m) < d->max_waiting &&
			 d->max_connections != 0)
	{
		int64_t		deadline = s->entered + d->wait_timeout_ms * 1000;
		int			unused = m_sum_held();

		if (deadline > s->entered + 10000000)
			deadline = s->entered + 10000000;
		for (int t = 0; t <= NTENANTS; t++)
			if (mt[t].exists)
				unused -= m_connected(t);
		if (now < deadline && free_slots(NULL, KEEP_FREE + unused))
		{
			s->state = PGOV_SLOT_WAITING;
			s->tenant = m;
			s->seq = next_seq++;
			s->deadline = deadline;
			return PGOV_SEAT_QUEUED;
		}
	}
	s->last_pid = s->pid;
	s->pid = 0;
	s->state = PGOV_SLOT_FREE;
	return PGOV_SEAT_REFUSED;
}

static void
decide(int i, int m)
{
	PgovAsk		ask;
	PgovVerdict v;
	bool		monitor = rng() % 50 == 0;
	PgovSeatOutcome expect;

	memset(&ask, 0, sizeof(ask));
	ask.tenant = entry(m);
	ask.generation = 1;
	ask.now = now;
	ask.capacity = capacity;
	ask.slot_limit = SLOT_LIMIT;
	ask.monitor = monitor;
	ask.deadline_cap = ms[i].entered + 10000000;
	ask.keep_free = KEEP_FREE;
	ask.have_free_slots = free_slots;

	/* the model first: the callback reads the model's slots as they were */
	pgov_seat_decide(&board, i, &ask, &v);
	expect = model_decide(i, m, monitor);
	if (v.outcome != expect)
		outcome_wrong++;
	if (v.outcome == PGOV_SEAT_ADMITTED && !monitor &&
		mt[m].def.max_connections != PGOV_NO_CAP &&
		tenants[entry(m)].connected > mt[m].def.max_connections)
		over_cap++;
}

static void
step(void)
{
	int			op = (int) (rng() % 100);
	int			i;

	now += rng() % 400000;
	if (op < 35)
	{
		/* a new login */
		PgovWho		w;

		if ((i = free_slot()) < 0)
			return;
		w = who_of(next_pid);
		pgov_seat_claim(&board, i, next_pid, &w, now);
		ms[i] = (MSlot)
		{
			PGOV_SLOT_CLAIMED, -1, false, 0, next_pid, ms[i].last_pid, now, 0, 0
		};
		next_pid++;
		if (rng() % 10 == 0)
		{
			bool		ordinary = rng() % 2;

			pgov_seat_exempt(&board, i, ordinary, now);
			ms[i].state = PGOV_SLOT_EXEMPT;
			ms[i].ordinary = ordinary;
			return;
		}
		decide(i, random_tenant());
	}
	else if (op < 60)
	{
		/* a waiter (or a login sent back by a publication) decides again,
		 * now and then classified elsewhere */
		if ((i = slot_in(PGOV_SLOT_WAITING, PGOV_SLOT_CLAIMED)) < 0)
			return;
		/* a woken waiter is often slow to come (a stopped process) */
		if (ms[i].woken_at != 0 && rng() % 4 != 0)
			return;
		decide(i, ms[i].state == PGOV_SLOT_WAITING && rng() % 5 ?
			   ms[i].tenant : random_tenant());
	}
	else if (op < 68)
	{
		/* seats are handed out: the waiters in turn are woken (and may
		 * then not come to decide for a while: a stalled process) */
		int			cap = pgov_capacity_in_force(&board, capacity, SLOT_LIMIT);
		int			marked[MAXT];
		int			nm = pgov_seat_wakeable(&board, cap, true, now, marked, MAXT);

		for (int k = 0; k < nm; k++)
			ms[marked[k]].woken_at = now;
	}
	else if (op < 85)
	{
		/* a session or a waiter leaves; a second release gives nothing */
		PgovReleased out;
		int			pid;

		if ((i = slot_in(PGOV_SLOT_GOVERNED, rng() % 2 ? PGOV_SLOT_WAITING :
						 PGOV_SLOT_EXEMPT)) < 0)
			return;
		pid = ms[i].pid;
		if (!pgov_seat_release(&board, i, pid, now, &out) || out.state != ms[i].state)
			mismatches++;
		if (pgov_seat_release(&board, i, pid, now, NULL))
			mismatches++;
		ms[i].state = PGOV_SLOT_FREE;
		ms[i].last_pid = pid;
		ms[i].pid = 0;
	}
	else if (op < 90)
	{
		/* a standby promoted (or a node that had not said yet): the
		 * numbers of the role in force change at once */
		int			role = (int) (rng() % 2);
		bool		expect = m_role != role;

		if (pgov_seat_set_role(&board, role, now) != expect)
			mismatches++;
		if (totals.role != role)
			mismatches++;
		m_role = role;
		for (int m = 0; m < NTENANTS; m++)
		{
			mt[m].def.max_connections = m_by_role[role][m].max_connections;
			mt[m].def.reserved_connections = m_by_role[role][m].reserved_connections;
		}
		/* the same role again changes nothing, noted or not */
		if (expect)
			m_note_above_cap();
		role_switches += expect;
	}
	else if (op < 92)
	{
		/* a governed session reclassified */
		int			m = random_tenant();

		if (rng() % 2)
		{
			/* exemption follows the setting in force: a governed session
			 * is counted apart, an exempt one in an ordinary slot joins a
			 * tenant (a walsender's slot never moves) */
			bool		expect;

			if ((i = slot_in(PGOV_SLOT_GOVERNED, PGOV_SLOT_EXEMPT)) < 0)
				return;
			exemption_moves++;
			if (ms[i].state == PGOV_SLOT_GOVERNED)
			{
				if (!pgov_seat_make_exempt(&board, i, now))
					mismatches++;
				ms[i].state = PGOV_SLOT_EXEMPT;
				ms[i].ordinary = true;
				return;
			}
			expect = ms[i].ordinary;
			if (pgov_seat_make_governed(&board, i, entry(m), 1, 1, now) != expect)
				mismatches++;
			if (expect)
			{
				ms[i].state = PGOV_SLOT_GOVERNED;
				ms[i].ordinary = false;
				ms[i].tenant = m;
			}
			return;
		}
		if ((i = slot_in(PGOV_SLOT_GOVERNED, PGOV_SLOT_GOVERNED)) < 0)
			return;
		if (!pgov_seat_reclassify(&board, i, entry(m), 1, 1, now))
			mismatches++;
		ms[i].tenant = m;
	}
	else if (op < 94)
	{
		/* a session logs in while the governor is off: no slot */
		if ((i = free_slot()) < 0)
			return;
		if (rng() % 2)
		{
			/* one that logged in while off leaves first: its exit marks
			 * the free slot, and it is never adopted */
			int			gone = next_pid++;
			PgovWho		w = who_of(gone);

			if (pgov_seat_release(&board, i, gone, now, NULL))
				mismatches++;
			ms[i].last_pid = gone;
			if (pgov_seat_adopt(&board, i, gone, &w, false, false,
								entry(random_tenant()), 0, 1, now))
				mismatches++;
		}
		stray[i] = next_pid++;
	}
	else if (op < 97)
	{
		/*
		 * The worker's adoption pass, with whatever waiters and deciding
		 * logins the board has: the started sessions are the governed and
		 * exempt ones and the strays (a login still in the hook is not
		 * one), listed in any order; exactly the strays hold no slot.
		 */
		int			pids[NSLOTS];
		int			scratch[NSLOTS];
		int			expect[NSLOTS];
		int			n = 0;
		int			nexpect = 0;
		int			nstray;

		for (int k = 0; k < NSLOTS; k++)
		{
			if (ms[k].state == PGOV_SLOT_GOVERNED || ms[k].state == PGOV_SLOT_EXEMPT)
				pids[n++] = ms[k].pid;
			if (stray[k] != 0)
				pids[n++] = stray[k];
		}
		for (int k = n - 1; k > 0; k--)
		{
			int			j = (int) (rng() % (k + 1));
			int			tmp = pids[k];

			pids[k] = pids[j];
			pids[j] = tmp;
		}
		/* the model's strays, in pid order */
		for (int k = 0; k < NSLOTS; k++)
			if (stray[k] != 0)
				expect[nexpect++] = stray[k];
		qsort(expect, nexpect, sizeof(int), model_pid_cmp);
		nstray = pgov_seat_strays(&board, pids, n, scratch);
		if (nstray != nexpect || memcmp(pids, expect, sizeof(int) * nexpect) != 0)
			mismatches++;
		strays_found += nstray;

		for (int k = 0; k < NSLOTS; k++)
		{
			PgovWho		w;
			bool		exempt = rng() % 4 == 0;
			int			m = random_tenant();

			if (stray[k] == 0)
				continue;
			w = who_of(stray[k]);
			if (!pgov_seat_adopt(&board, k, stray[k], &w, exempt, true,
								 entry(m), 0, 1, now))
				mismatches++;
			ms[k] = (MSlot)
			{
				exempt ? PGOV_SLOT_EXEMPT : PGOV_SLOT_GOVERNED, m, exempt, 0,
					stray[k], ms[k].last_pid, now, 0, 0
			};
			stray[k] = 0;
		}
	}
	else if (op < 99)
		drain_step();
	else
	{
		if (rng() % 3 == 0)
			capacity = 10 + (int) (rng() % 15);
		publish(2);
	}
}

/* An ask of tenant e at t, generation 1, deciding before deadline_us
 * from t; the caller sets the rest. */
static void
ask_at(PgovAsk *ask, int e, int64_t t, int64_t deadline_us)
{
	memset(ask, 0, sizeof(*ask));
	ask->tenant = e;
	ask->generation = 1;
	ask->now = t;
	ask->deadline_cap = t + deadline_us;
}

/* A login decides by ask in slot: a new login claims its (free) slot, a
 * waiter decides again in its own. */
static PgovVerdict
decide_in(int slot, const PgovAsk *ask)
{
	PgovVerdict v;
	PgovWho		w = who_of(next_pid);

	if (board.slots[slot].state == PGOV_SLOT_FREE)
		pgov_seat_claim(&board, slot, next_pid++, &w, ask->now);
	pgov_seat_decide(&board, slot, ask, &v);
	return v;
}

/* A login of tenant e into slot at t, kept when admitted. */
static PgovVerdict
login_in(int slot, int e, int64_t t, int capacity)
{
	PgovAsk		ask;

	ask_at(&ask, e, t, 10000000);
	ask.capacity = capacity;
	ask.slot_limit = capacity;
	ask.have_free_slots = free_slots;
	return decide_in(slot, &ask);
}

/* One login of tenant entry e at time t in slot 1 (given back if
 * admitted and leave). */
static PgovSeatOutcome
login_at(int e, int64_t t, bool leave)
{
	int			slot = leave ? 1 : 0;
	PgovVerdict v = login_in(slot, e, t, 100);

	if (leave && v.outcome == PGOV_SEAT_ADMITTED)
		pgov_seat_release(&board, slot, next_pid - 1, t, NULL);
	return v.outcome;
}

/*
 * Health's counters: per tenant, exact, over the health window (one step
 * more at most), and no other tenant's refusals touch them.
 */
static void
test_recent(void)
{
	PgovTenantDef defs[2];
	int			map[2];
	int64_t		t0 = INT64_C(800000000000000);	/* some day in 2025 */
	int64_t		window = INT64_C(60000000);
	PgovRecent	r;
	int			refused = 0;
	int			a,
				b;

	memset(defs, 0, sizeof(defs));
	strcpy(defs[0].name, "noisy");
	defs[0].max_connections = 0;
	strcpy(defs[1].name, "victim");
	defs[1].max_connections = 1;
	memset(ms, 0, sizeof(ms));
	pgov_board_init(&board);
	pgov_board_window(&board, window);
	CHECK(pgov_seat_publish(&board, defs, 2, NULL, PGOV_ROLE_UNKNOWN, "default", NULL, 1, t0, map));
	a = map[0];
	b = map[1];

	/* victim: one admitted (held in slot 0), five refused (slot 2) */
	CHECK(login_at(b, t0, false) == PGOV_SEAT_ADMITTED);
	for (int i = 0; i < 5; i++)
		refused += login_in(2, b, t0 + 1000, 100).outcome == PGOV_SEAT_REFUSED;
	CHECK(refused == 5);
	refused = 0;
	/* the noisy neighbour: 1,100 refusals */
	for (int i = 0; i < 1100; i++)
		refused += login_at(a, t0 + 2000 + i, true) == PGOV_SEAT_REFUSED;
	CHECK(refused == 1100);

	pgov_tenant_recent(&board, b, t0 + 5000000, &r);
	CHECK(r.admitted == 1 && r.refused == 5 && r.waits == 0);
	pgov_tenant_recent(&board, a, t0 + 5000000, &r);
	CHECK(r.admitted == 0 && r.refused == 1100);
	/* still in the window a minute later, gone one step after that */
	pgov_tenant_recent(&board, b, t0 + window, &r);
	CHECK(r.admitted == 1 && r.refused == 5);
	pgov_tenant_recent(&board, b, t0 + window + window / 15 + 1000001, &r);
	CHECK(r.admitted == 0 && r.refused == 0);
	/* a new window width starts afresh */
	pgov_board_window(&board, window * 2);
	pgov_tenant_recent(&board, a, t0 + 5000000, &r);
	CHECK(r.refused == 0);
}

/*
 * Pacing refusals in the seat machine: a refusal outright is held back as
 * its tenant's run of refusals says (policy.c), spread by its pid, only
 * while the free slots
 * cover keep_free and every unused reserve, never past the login's
 * deadline, never after a wait (that login was held already) and never in
 * monitor mode; each held refusal is counted.
 */
static int	pace_free_slots;	/* what pace_slots says is free */
static int	pace_asked;			/* the most it was asked for */

static bool
pace_slots(void *ctx, int n)
{
	(void) ctx;
	pace_asked = n;
	return pace_free_slots >= n;
}

static PgovVerdict
paced_login(int slot, int e, int64_t t, int pace_max_ms, bool monitor)
{
	PgovAsk		ask;

	ask_at(&ask, e, t, 5000000);
	ask.capacity = 100;
	ask.slot_limit = 100;
	ask.monitor = monitor;
	ask.keep_free = 5;
	ask.pace_max_ms = pace_max_ms;
	ask.have_free_slots = pace_slots;
	return decide_in(slot, &ask);
}

static void
test_pacing(void)
{
	PgovTenantDef defs[2];
	int			map[2];
	int64_t		t0 = INT64_C(800000000000000);
	int64_t		ms1 = 1000;
	PgovVerdict v;
	int			a,
				r;

	memset(defs, 0, sizeof(defs));
	strcpy(defs[0].name, "stormy");
	defs[0].max_connections = 1;
	defs[0].max_waiting = 1;
	defs[0].wait_timeout_ms = 100;
	strcpy(defs[1].name, "reserved");
	defs[1].max_connections = PGOV_NO_CAP;
	defs[1].reserved_connections = 7;
	memset(ms, 0, sizeof(ms));
	pgov_board_init(&board);
	CHECK(pgov_seat_publish(&board, defs, 2, NULL, PGOV_ROLE_UNKNOWN, "default", NULL, 1, t0, map));
	a = map[0];
	r = map[1];
	pace_free_slots = 50;

	/* the seat taken; a login that waits and times out is not paced */
	CHECK(paced_login(0, a, t0, 1000, false).outcome == PGOV_SEAT_ADMITTED);
	CHECK(paced_login(1, a, t0, 1000, false).outcome == PGOV_SEAT_QUEUED);
	v = paced_login(2, a, t0 + ms1, 1000, false);	/* the queue is full */
	CHECK(v.outcome == PGOV_SEAT_REFUSED && v.pace_ms == 0);	/* first */
	v = paced_login(2, a, t0 + 20 * ms1, 1000, false);
	CHECK(v.outcome == PGOV_SEAT_REFUSED && v.pace_ms == pgov_pace_spread(19 * PGOV_PACE_RAMP, (uint32_t) (next_pid - 1)));
	/* the free slots asked for: keep_free + the 7 unused reserved seats */
	CHECK(pace_asked == 5 + 7);
	v = paced_login(1, a, t0 + 200 * ms1, 1000, false);	/* the waiter */
	CHECK(v.outcome == PGOV_SEAT_REFUSED && v.timed_out && v.pace_ms == 0);
	/* a new waiter fills the queue again: the logins below are refused */
	CHECK(paced_login(1, a, t0 + 200 * ms1, 1000, false).outcome == PGOV_SEAT_QUEUED);
	/* a storm: held back up to the most */
	for (int i = 1; i <= 100; i++)
		v = paced_login(2, a, t0 + 200 * ms1 + i * 20 * ms1, 1000, false);
	CHECK(v.outcome == PGOV_SEAT_REFUSED && v.pace_ms == pgov_pace_spread(1000, (uint32_t) (next_pid - 1)));
	/* too few free slots: answered at once, the run still noted */
	pace_free_slots = 11;
	v = paced_login(2, a, t0 + 2220 * ms1, 1000, false);
	CHECK(v.outcome == PGOV_SEAT_REFUSED && v.pace_ms == 0);
	pace_free_slots = 12;
	v = paced_login(2, a, t0 + 2240 * ms1, 1000, false);
	CHECK(v.pace_ms == pgov_pace_spread(1000, (uint32_t) (next_pid - 1)));
	/* a reserved tenant's login taking one of its seats needs no more */
	CHECK(paced_login(3, r, t0 + 2250 * ms1, 1000, false).outcome == PGOV_SEAT_ADMITTED);
	pace_free_slots = 11;
	v = paced_login(2, a, t0 + 2260 * ms1, 1000, false);
	CHECK(v.pace_ms == pgov_pace_spread(1000, (uint32_t) (next_pid - 1)) && pace_asked == 5 + 6);
	/* never past the login's deadline (5 s here): the run is 7.8 s old */
	v = paced_login(2, a, t0 + 7800 * ms1, 10000, false);
	CHECK(v.pace_ms == pgov_pace_spread(5000, (uint32_t) (next_pid - 1)));
	/* monitor mode refuses nobody, so holds nothing back */
	v = paced_login(2, a, t0 + 7820 * ms1, 1000, true);
	CHECK(v.outcome == PGOV_SEAT_ADMITTED && v.pace_ms == 0);
	pgov_seat_release(&board, 2, next_pid - 1, t0 + 7820 * ms1, NULL);
	/* 0 turns it off */
	v = paced_login(2, a, t0 + 7840 * ms1, 0, false);
	CHECK(v.outcome == PGOV_SEAT_REFUSED && v.pace_ms == 0);
	/* every held answer counted: 1 + 100 + 2 + 1 */
	CHECK(board.tenants[a].paced == 104);
	CHECK(board.tenants[r].paced == 0);
}

/*
 * Fair share, docs/admission.md's example: capacity 20, no reserves, h holds all
 * 20; a (weight wa) queues na logins, then b (weight wb) nb.  h's sessions
 * leave one at a time; after each, the woken waiters decide.  Returns the
 * order in which the seats went ("abab..."); each release must wake
 * exactly one waiter, and it must be admitted.
 */
#define FAIR_SLOTS 64

static bool
always_free(void *ctx, int n)
{
	(void) ctx;
	(void) n;
	return true;
}

/* A login in slot decides in tenant (capacity 20). */
static PgovSeatOutcome
fair_decide(PgovBoard *fb, int slot, int tenant, int64_t t)
{
	PgovAsk		ask;
	PgovVerdict v;

	memset(&ask, 0, sizeof(ask));
	ask.tenant = tenant;
	ask.generation = 1;
	ask.now = t;
	ask.capacity = 20;
	ask.slot_limit = 100;
	ask.deadline_cap = t + 100000000;
	ask.have_free_slots = always_free;
	pgov_seat_decide(fb, slot, &ask, &v);
	return v.outcome;
}

static void
fair_round(int wa, int na, int wb, int nb, int releases, char *order)
{
	static PgovSeatTotals ft;
	static PgovTenant ften[4];
	static PgovSlot fslots[FAIR_SLOTS];
	PgovShareEntry fheap[4];
	PgovBoard	fb = {&ft, ften, 4, fslots, FAIR_SLOTS, fheap};
	PgovTenantDef defs[3];
	int			map[3];
	int64_t		t = 5000000;
	int			slot = 0;
	int			pid = 1;
	int			wrong = 0;

	memset(defs, 0, sizeof(defs));
	strcpy(defs[0].name, "a");
	defs[0].max_connections = PGOV_NO_CAP;
	defs[0].weight = wa;
	strcpy(defs[1].name, "b");
	defs[1].max_connections = PGOV_NO_CAP;
	defs[1].weight = wb;
	strcpy(defs[2].name, "h");
	defs[2].max_connections = PGOV_NO_CAP;
	for (int i = 0; i < 3; i++)
	{
		defs[i].max_waiting = 20;
		defs[i].wait_timeout_ms = 10000;
		if (defs[i].weight == 0)
			defs[i].weight = 1;
	}
	pgov_board_init(&fb);
	CHECK(pgov_seat_publish(&fb, defs, 3, NULL, PGOV_ROLE_UNKNOWN, "default", NULL, 1, t, map));

	/* h takes slots 0..19, then a queues, then b */
	for (int step = 0; step < 3; step++)
	{
		int			who = step == 0 ? 2 : step - 1;
		int			n = who == 2 ? 20 : who == 0 ? na : nb;

		for (int k = 0; k < n; k++)
		{
			PgovWho		w = who_of(pid);

			pgov_seat_claim(&fb, slot, pid++, &w, ++t);
			if (fair_decide(&fb, slot, map[who], t) !=
				(who == 2 ? PGOV_SEAT_ADMITTED : PGOV_SEAT_QUEUED))
				wrong++;
			slot++;
		}
	}
	/* h's sessions leave one at a time */
	for (int r = 0; r < releases; r++)
	{
		int			woken[4];
		int			n;

		CHECK(pgov_seat_release(&fb, r, fslots[r].pid, ++t, NULL));
		n = pgov_seat_wakeable(&fb, 20, true, ++t, woken, 4);
		if (n != 1)
		{
			wrong++;
			continue;
		}
		if (fair_decide(&fb, woken[0], fslots[woken[0]].tenant, ++t) !=
			PGOV_SEAT_ADMITTED)
			wrong++;
		order[r] = fb.tenants[fslots[woken[0]].tenant].name[0];
	}
	order[releases] = '\0';
	CHECK(wrong == 0);
}

static void
test_fair_share(void)
{
	char		order[32];
	int			a = 0;

	/* the numbers; a queued first, so it wins the ties */
	fair_round(2, 15, 1, 15, 9, order);
	for (int i = 0; order[i]; i++)
		a += order[i] == 'a';
	printf("fair share: weights 2:1 -> %s\n", order);
	CHECK(strcmp(order, "abaabaaba") == 0);
	CHECK(a == 6);
	/* the founding case: reporting (a, weight 1, queued first)
	 * and shop (b, weight 3): 12 seats go r s s s r s s s r s s s */
	fair_round(1, 15, 3, 15, 12, order);
	CHECK(strcmp(order, "abbbabbbabbb") == 0);
	/* equal weights, a's 15 before b's 2: b's both within the first 4 */
	fair_round(1, 15, 1, 2, 6, order);
	CHECK(strcmp(order, "ababaa") == 0);
	printf("fair share: equal weights, 15 then 2 queued -> %s\n", order);
}

/*
 * Per-node budgets: a board holds each tenant's numbers in both roles and
 * enforces those of the role in force; the switch at a promotion changes
 * caps, reserves and the totals at once.  The founding case on a standby:
 * shop 20 there, 40 on the primary; reporting 30 there, 0 on the primary.
 */
static void
test_roles(void)
{
	PgovTenantDef defs[2];
	PgovNodeNumbers prim[2];
	PgovNodeNumbers stby[2];
	PgovNodeNumbers *numbers[PGOV_NROLES] = {prim, stby};
	int			map[2];
	int64_t		t0 = INT64_C(800000000000000);
	int			shop,
				rep;
	int			slot = 0;
	PgovVerdict v;

	memset(defs, 0, sizeof(defs));
	strcpy(defs[0].name, "reporting");
	defs[0].max_connections = 30;
	defs[0].reserved_connections = 5;
	strcpy(defs[1].name, "shop");
	defs[1].max_connections = 40;
	defs[1].reserved_connections = 10;
	prim[0] = (PgovNodeNumbers) {0, 0, PGOV_FROM_ROLE, 0, 0};
	prim[1] = (PgovNodeNumbers) {40, 10, PGOV_FROM_TENANTS, 0, 0};
	stby[0] = (PgovNodeNumbers) {30, 5, PGOV_FROM_TENANTS, 0, 0};
	stby[1] = (PgovNodeNumbers) {2, 1, PGOV_FROM_ROLE, 0, 0};
	memset(ms, 0, sizeof(ms));
	pgov_board_init(&board);
	CHECK(pgov_seat_publish(&board, defs, 2, numbers, PGOV_ROLE_STANDBY,
							 "default", NULL, 1, t0, map));
	rep = map[0];
	shop = map[1];
	CHECK(board.totals->role == PGOV_ROLE_STANDBY);
	CHECK(board.tenants[shop].max_connections == 2 &&
		  board.tenants[shop].reserved_connections == 1);
	CHECK(board.tenants[rep].max_connections == 30);
	CHECK(board.totals->sum_held == 6);

	/* as a standby: shop's cap is 2, reporting logs in */
	CHECK(login_in(slot++, shop, t0, 100).outcome == PGOV_SEAT_ADMITTED);
	CHECK(login_in(slot++, shop, t0, 100).outcome == PGOV_SEAT_ADMITTED);
	v = login_in(slot++, shop, t0, 100);
	CHECK(v.outcome == PGOV_SEAT_REFUSED && v.max_connections == 2);
	pgov_seat_release(&board, slot - 1, next_pid - 1, t0, NULL);
	for (int i = 0; i < 3; i++)
		CHECK(login_in(slot++, rep, t0, 100).outcome == PGOV_SEAT_ADMITTED);
	CHECK(board.totals->sum_held == 2 + 5);

	/* the same role again changes nothing */
	CHECK(!pgov_seat_set_role(&board, PGOV_ROLE_STANDBY, t0 + 1));

	/* promoted: the primary's numbers, from the first decision on */
	CHECK(pgov_seat_set_role(&board, PGOV_ROLE_PRIMARY, t0 + 1000));
	CHECK(board.totals->role == PGOV_ROLE_PRIMARY && board.totals->role_since == t0 + 1000);
	CHECK(board.tenants[shop].max_connections == 40 &&
		  board.tenants[shop].reserved_connections == 10);
	CHECK(board.tenants[rep].max_connections == 0);
	/* held: shop max(2, 10), reporting max(3, 0) */
	CHECK(board.totals->sum_held == 10 + 3);
	CHECK(board.tenants[rep].above_cap_since == t0 + 1000);
	CHECK(board.tenants[shop].above_cap_since == 0);
	v = login_in(slot++, rep, t0 + 2000, 100);
	CHECK(v.outcome == PGOV_SEAT_REFUSED && v.max_connections == 0 && v.connected == 3);
	CHECK(login_in(slot++, shop, t0 + 2000, 100).outcome == PGOV_SEAT_ADMITTED);
	CHECK(board.tenants[shop].connected == 3 && board.tenants[rep].connected == 3);

	/* a publication keeps the role in force when told none */
	CHECK(pgov_seat_publish(&board, defs, 2, numbers, PGOV_ROLE_UNKNOWN,
							 "default", NULL, 2, t0 + 3000, map));
	CHECK(board.totals->role == PGOV_ROLE_PRIMARY);
	CHECK(board.tenants[map[1]].max_connections == 40);
	/* and without numbers, every role has the tenants' */
	CHECK(pgov_seat_publish(&board, defs, 2, NULL, PGOV_ROLE_STANDBY,
							 "default", NULL, 3, t0 + 4000, map));
	CHECK(board.tenants[map[1]].max_connections == 40 &&
		  board.tenants[map[0]].max_connections == 30);
	CHECK(board.tenants[map[1]].by_role[PGOV_ROLE_PRIMARY].from == PGOV_FROM_TENANTS);
}

/*
 * The cluster quota on the board: a tenant with one has its floor and its
 * grant as its cap while it is on; a grant raises the cap (and says so:
 * the caller wakes waiters), one whose time is up is given up at the next
 * login of the tenant, with no clock read but the login's; off, its own
 * numbers again.  A publication keeps a grant, dropping the quota drops it.
 */
static void
test_cluster(void)
{
	PgovTenantDef defs[1];
	PgovNodeNumbers prim[1];
	PgovNodeNumbers stby[1];
	PgovNodeNumbers *numbers[PGOV_NROLES] = {prim, stby};
	int			map[1];
	int64_t		t0 = INT64_C(800000000000000);
	int			shop;
	int			slot = 0;
	PgovVerdict v;

	memset(defs, 0, sizeof(defs));
	strcpy(defs[0].name, "shop");
	defs[0].max_connections = 10;
	defs[0].cluster_quota = 12;
	prim[0] = (PgovNodeNumbers) {10, 0, PGOV_FROM_NAME, 2, 2};	/* floor 2 */
	stby[0] = prim[0];
	memset(ms, 0, sizeof(ms));
	pgov_board_init(&board);
	CHECK(pgov_seat_publish(&board, defs, 1, numbers, PGOV_ROLE_PRIMARY,
							 "default", NULL, 1, t0, map));
	shop = map[0];
	/* off (no etcd): its own cap */
	CHECK(board.tenants[shop].max_connections == 10);
	CHECK(board.tenants[shop].cluster_held == -1);
	/* on, nothing granted: the floor */
	CHECK(!pgov_seat_cluster_on(&board, true, t0));
	CHECK(board.tenants[shop].max_connections == 2);
	CHECK(login_in(slot++, shop, t0, 100).outcome == PGOV_SEAT_ADMITTED);
	CHECK(login_in(slot++, shop, t0, 100).outcome == PGOV_SEAT_ADMITTED);
	v = login_in(slot++, shop, t0, 100);
	CHECK(v.outcome == PGOV_SEAT_REFUSED && v.max_connections == 2 && v.cluster_quota == 12);
	pgov_seat_release(&board, slot - 1, next_pid - 1, t0, NULL);
	/* a grant of 3 until t0 + 10 s: a cap of 5, raised */
	CHECK(pgov_seat_cluster_grant(&board, shop, 3, t0 + 10000000, 9, t0 + 1));
	CHECK(board.tenants[shop].max_connections == 5 && board.tenants[shop].cluster_held == 9);
	for (int i = 0; i < 3; i++)
		CHECK(login_in(slot++, shop, t0 + 2, 100).outcome == PGOV_SEAT_ADMITTED);
	v = login_in(slot++, shop, t0 + 2, 100);
	CHECK(v.outcome == PGOV_SEAT_REFUSED && v.max_connections == 5);
	pgov_seat_release(&board, slot - 1, next_pid - 1, t0, NULL);
	/* never above its own cap, whatever is granted */
	CHECK(pgov_seat_cluster_grant(&board, shop, 20, t0 + 10000000, 22, t0 + 3));
	CHECK(board.tenants[shop].max_connections == 10);
	CHECK(!pgov_seat_cluster_grant(&board, shop, 3, t0 + 10000000, 9, t0 + 4));
	CHECK(board.tenants[shop].max_connections == 5);
	/* a publication keeps the grant */
	CHECK(pgov_seat_publish(&board, defs, 1, numbers, PGOV_ROLE_UNKNOWN,
							 "default", NULL, 2, t0 + 5, map));
	CHECK(board.tenants[shop].max_connections == 5);
	/* its time up: before the tenant's next login decides, the board gives
	 * it up with the login's clock reading (board.c does, for every login),
	 * and the tenant is above its cap (5 connected, floor 2); not a moment
	 * before */
	CHECK(!pgov_seat_cluster_lapse(&board, &board.tenants[shop], t0 + 9999999));
	CHECK(board.tenants[shop].max_connections == 5);
	CHECK(pgov_seat_cluster_lapse(&board, &board.tenants[shop], t0 + 10000000));
	CHECK(!pgov_seat_cluster_lapse(&board, &board.tenants[shop], t0 + 10000001));
	v = login_in(slot++, shop, t0 + 10000000, 100);
	CHECK(v.outcome == PGOV_SEAT_REFUSED && v.max_connections == 2);
	pgov_seat_release(&board, slot - 1, next_pid - 1, t0, NULL);
	CHECK(board.tenants[shop].cluster_granted == 0);
	CHECK(board.tenants[shop].above_cap_since == t0 + 10000000);
	/* the worker takes a grant back (its lease lost) */
	CHECK(pgov_seat_cluster_grant(&board, shop, 4, t0 + 30000000, 12, t0 + 20000000));
	CHECK(board.tenants[shop].max_connections == 6);
	CHECK(!pgov_seat_cluster_grant(&board, shop, 0, 0, 12, t0 + 20000001));
	CHECK(board.tenants[shop].max_connections == 2);
	/* off again: its own numbers, which let more in */
	CHECK(pgov_seat_cluster_on(&board, false, t0 + 30000001));
	CHECK(board.tenants[shop].max_connections == 10);
	v = login_in(slot++, shop, t0 + 30000002, 100);
	CHECK(v.outcome == PGOV_SEAT_ADMITTED && v.cluster_quota == 0);
	/* a floor of 0: a login waits for the grant that may come */
	prim[0].cluster_floor = 0;
	stby[0].cluster_floor = 0;
	defs[0].wait_timeout_ms = 5000;
	defs[0].max_waiting = 2;
	CHECK(pgov_seat_publish(&board, defs, 1, numbers, PGOV_ROLE_UNKNOWN,
							 "default", NULL, 4, t0 + 30000002, map));
	CHECK(pgov_seat_cluster_on(&board, true, t0 + 30000002) == false);
	CHECK(pgov_seat_cluster_grant(&board, shop, 0, 0, 0, t0 + 30000002) == false);
	CHECK(board.tenants[shop].max_connections == 0);
	v = login_in(slot++, shop, t0 + 30000003, 100);
	CHECK(v.outcome == PGOV_SEAT_QUEUED && v.cluster_quota == 12);
	/* off: its own cap of 10 again, a raise (the caller wakes the waiter) */
	CHECK(pgov_seat_cluster_on(&board, false, t0 + 30000004));
	prim[0].cluster_floor = 2;
	stby[0].cluster_floor = 2;
	defs[0].wait_timeout_ms = 0;
	defs[0].max_waiting = 0;
	/* a publication without the quota drops the grant */
	CHECK(pgov_seat_cluster_on(&board, true, t0 + 30000003) == false);
	CHECK(pgov_seat_cluster_grant(&board, shop, 4, t0 + 40000000, 12, t0 + 30000004));
	defs[0].cluster_quota = 0;
	CHECK(pgov_seat_publish(&board, defs, 1, numbers, PGOV_ROLE_UNKNOWN,
							 "default", NULL, 3, t0 + 30000005, map));
	CHECK(board.tenants[shop].cluster_granted == 0 && board.tenants[shop].max_connections == 10);
	CHECK(!pgov_seat_cluster_grant(&board, shop, 4, t0 + 40000000, 12, t0 + 30000006));
	pgov_seat_cluster_on(&board, false, t0 + 30000007);
}

int
main(void)
{
	int			steps;

	memset(ms, 0, sizeof(ms));
	pgov_board_init(&board);
	publish(1);
	compare();
	for (steps = 0; steps < 200000; steps++)
	{
		step();
		/* the board notes since when a tenant is above its cap at every
		 * change of its count or cap: the model after every step */
		m_note_above_cap();
		compare();
	}
	CHECK(mismatches == 0);
	CHECK(outcome_wrong == 0);
	CHECK(over_cap == 0);
	CHECK(wake_wrong == 0);
	/* the run covered what it claims to */
	CHECK(next_pid - 100 > 10000);
	CHECK(strays_found > 1000);
	CHECK(passed_over > 100);
	CHECK(late_refusals > 100);
	CHECK(fair_passes > 200);
	CHECK(fair_refusals > 50);
	CHECK(drains_checked > 500);
	CHECK(drained_sessions > 500);
	CHECK(role_switches > 1000);
	test_recent();
	test_pacing();
	test_fair_share();
	test_roles();
	test_cluster();
	printf("mismatches=%d outcome_wrong=%d over_cap=%d wake_wrong=%d logins=%d strays=%d passed_over=%d late_refusals=%d fair_passes=%d fair_refusals=%d drains=%d drained=%d role_switches=%d exemption_moves=%d\n",
		   mismatches, outcome_wrong, over_cap, wake_wrong, next_pid - 100,
		   strays_found, passed_over, late_refusals, fair_passes, fair_refusals, drains_checked, drained_sessions,
		   role_switches, exemption_moves);
	CHECK(exemption_moves > 1000);
	printf("wake sets cut short: %d\n", wake_prefixes);
	CHECK(wake_prefixes > 100);
	return check_summary();
}
