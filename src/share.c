/*-------------------------------------------------------------------------
 *
 * share.c
 *		The fair hand-off of the shared seats and the wake-up set: whom a
 *		free seat goes to when logins of several tenants wait (the lowest
 *		shared seats held per weight first, then the oldest login; FIFO
 *		within a tenant), which waiters a change of the board wakes, and
 *		when the earliest woken waiter's turn ends.
 *
 * Pure, like seats.c: no PostgreSQL header, the unit tests drive it against
 * a reference model.  board.c calls pgov_seat_wakeable and
 * pgov_seat_turn_ends holding the board's lock; seats.c's decision asks
 * pgov_seats_handed_before.  Nothing allocates or fails.
 *
 *-------------------------------------------------------------------------
 */
#include "share.h"

#include <string.h>

/* The first waiter from slot k on (along its queue) whose turn has not
 * passed, or -1. */
static int
in_turn_from(const PgovBoard *b, int k, int64_t now)
{
	for (; k >= 0; k = b->slots[k].wait_next)
		if (!pgov_turn_passed(&b->slots[k], now))
			return k;
	return -1;
}

/*
 * The first waiter of t whose turn has not passed, or -1: the one that
 * takes the tenant's next seat.  Usually the head; a head that was woken
 * and has not come to decide within its turn is passed over (it keeps its
 * place, and takes a seat when it decides and one is free).
 */
static int
next_in_turn(const PgovBoard *b, const PgovTenant *t, int64_t now)
{
	return in_turn_from(b, t->wait_head, now);
}

/* Shared seats a tenant holds: those above its reserve. */
static int
shared_held(const PgovTenant *t)
{
	return t->connected > t->reserved_connections ?
		t->connected - t->reserved_connections : 0;
}

/*
 * The first of t's waiters in turn that needs a shared seat (those before
 * it take the tenant's unused reserved seats), or -1; *room is how many of
 * its waiters, from that one on, its cap leaves room for.
 */
static int
first_shared_waiter(const PgovBoard *b, const PgovTenant *t, int64_t now,
					int *room)
{
	int			skip = t->reserved_connections - t->connected;
	int			w = next_in_turn(b, t, now);

	*room = t->max_connections == PGOV_NO_CAP ? b->nslots :
		t->max_connections - t->connected;
	if (skip > 0)
	{
		*room -= skip;
		while (w >= 0 && skip-- > 0)
			w = in_turn_from(b, b->slots[w].wait_next, now);
	}
	return *room > 0 ? w : -1;
}

void
pgov_share_key(const PgovBoard *b, const PgovTenant *t, int handed, int slotno,
		  PgovShareKey *key)
{
	key->held = shared_held(t) + handed;
	key->weight = pgov_tenant_weight(t);
	key->since = b->slots[slotno].entered_at;
	key->order = slotno;
}

/*
 * Fair share: how many of the free shared seats go to waiters of tenants
 * other than tenant before a login with key (pgov_share_before), counting
 * no further than limit.  A tenant's successive waiters stand at one more
 * seat held each, so each queue is walked only while it comes first.
 * O(tenants with waiters + limit).
 */
int
pgov_seats_handed_before(const PgovBoard *b, int tenant, const PgovShareKey *key,
					int limit, int64_t now)
{
	int			n = 0;
	int			i;

	for (i = b->totals->wq_head; i >= 0 && n < limit; i = b->tenants[i].wq_next)
	{
		const PgovTenant *x = &b->tenants[i];
		int			room;
		int			w;
		int			k;

		if (i == tenant)
			continue;
		/* held per weight already above the login's: none of x's first */
		if ((int64_t) shared_held(x) * key->weight >
			(int64_t) key->held * pgov_tenant_weight(x))
			continue;
		w = first_shared_waiter(b, x, now, &room);
		for (k = 0; w >= 0 && k < room && n < limit; k++)
		{
			PgovShareKey c;

			pgov_share_key(b, x, k, w, &c);
			if (!pgov_share_before(&c, key))
				break;
			n++;
			w = in_turn_from(b, b->slots[w].wait_next, now);
		}
	}
	return n;
}

/* Adds slot w to the wake set, unless (with mark) its wake-up is already
 * on the way. */
static void
wake_one(PgovBoard *b, int w, bool mark, int64_t now, int *slots, int max,
		 int *n)
{
	if (*n >= max || (mark && b->slots[w].woken))
		return;
	if (mark)
	{
		b->slots[w].woken = true;
		b->slots[w].woken_at = now;
	}
	slots[(*n)++] = w;
}

/*
 * The fair hand-off's candidates, the tenants whose next waiter wants a
 * shared seat, are a binary heap in b->heap, least first by the share key
 * of that waiter (pgov_share_before, a total order: the same choice a walk
 * of every candidate makes).  Each entry carries its key, so that ordering
 * them reads no tenant or slot.
 */
static void
heap_down(PgovShareEntry *h, int n, int i)
{
	for (;;)
	{
		int			l = 2 * i + 1;
		int			least = i;
		PgovShareEntry swap;

		if (l < n && pgov_share_before(&h[l].key, &h[least].key))
			least = l;
		if (l + 1 < n && pgov_share_before(&h[l + 1].key, &h[least].key))
			least = l + 1;
		if (least == i)
			return;
		swap = h[i];
		h[i] = h[least];
		h[least] = swap;
		i = least;
	}
}

/*
 * The waiters to wake because they can take a seat now: the first waiter
 * in turn (next_in_turn) of each tenant below its reserve and below its
 * cap; then the free shared seats are handed out one at a time, as
 * pgov_seat_decide() hands them, each to the waiter of lowest shared seats
 * held per weight (fair share), and the first waiter of each tenant that
 * gets one is woken.  Nobody else is: a released seat wakes one waiter,
 * not every waiter of every tenant, and a woken waiter is one that will be
 * admitted.  With mark, a waiter already woken and still in its turn is not
 * woken again (its wake-up is on the way), and those returned are marked
 * woken at now; without, only the tenants' scratch fields are written.  At
 * most max slots are written to slots[], in the order they are chosen;
 * returns how many.  The hand-off stops as soon as slots[] is full, every
 * queue's first waiter has a seat, or the seats run out: O(tenants with
 * waiters) for the first pass, then O(log(tenants with waiters)) per seat
 * handed, so that many free seats cost no more than a few walks.
 */
int
pgov_seat_wakeable(PgovBoard *b, int capacity, bool mark, int64_t now,
				   int *slots, int max)
{
	int			shared_free = capacity - b->totals->sum_held;
	int			n = 0;
	int			waiting_for_one = 0;
	int			nheap = 0;
	PgovShareEntry *h = b->heap;
	int			i;

	/* each queue's first waiter; the shared seats' candidates */
	for (i = b->totals->wq_head; i >= 0 && n < max; i = b->tenants[i].wq_next)
	{
		PgovTenant *t = &b->tenants[i];
		int			w;

		t->share_given = 0;
		t->share_next = first_shared_waiter(b, t, now, &t->share_room);
		if (t->connected < t->reserved_connections)
		{
			/* its first waiter takes a reserved seat */
			if (t->max_connections == PGOV_NO_CAP ||
				t->connected < t->max_connections)
			{
				if ((w = next_in_turn(b, t, now)) >= 0)
					wake_one(b, w, mark, now, slots, max, &n);
			}
		}
		else if (t->share_next >= 0)
			waiting_for_one++;
		if (t->share_next < 0 || shared_free <= 0)
			continue;
		/* the least candidate first, on the way: all one free seat needs */
		h[nheap].tenant = i;
		pgov_share_key(b, t, 0, t->share_next, &h[nheap].key);
		if (nheap > 0 && pgov_share_before(&h[nheap].key, &h[0].key))
		{
			PgovShareEntry swap = h[0];

			h[0] = h[nheap];
			h[nheap] = swap;
		}
		nheap++;
	}
	/* more seats than one: the candidates become a heap (the least is
	 * already first, which the heap keeps) */
	if (shared_free > 1)
		for (i = nheap / 2 - 1; i >= 0; i--)
			heap_down(h, nheap, i);

	/* the shared seats, one at a time, each to the lowest held per weight */
	while (nheap > 0 && shared_free > 0 && waiting_for_one > 0 && n < max)
	{
		PgovTenant *best = &b->tenants[h[0].tenant];

		if (best->share_given == 0 &&
			best->connected >= best->reserved_connections)
		{
			wake_one(b, best->share_next, mark, now, slots, max, &n);
			waiting_for_one--;
		}
		best->share_given++;
		if (--shared_free == 0)
			break;
		best->share_next = best->share_given < best->share_room ?
			in_turn_from(b, b->slots[best->share_next].wait_next, now) : -1;
		if (best->share_next < 0)
			h[0] = h[--nheap];
		else
			pgov_share_key(b, best, best->share_given, best->share_next, &h[0].key);
		heap_down(h, nheap, 0);
	}
	return n;
}

/*
 * When the earliest turn still running after now ends (0: none): the worker
 * looks again then, so that a seat no woken waiter takes goes to the next
 * one within a turn.  O(tenants with waiters + woken waiters).
 */
int64_t
pgov_seat_turn_ends(const PgovBoard *b, int64_t now)
{
	int64_t		earliest = 0;
	int			i;

	for (i = b->totals->wq_head; i >= 0; i = b->tenants[i].wq_next)
	{
		const PgovTenant *t = &b->tenants[i];
		int			w;

		for (w = t->wait_head; w >= 0; w = b->slots[w].wait_next)
		{
			const PgovSlot *s = &b->slots[w];

			if (!s->woken)
				break;
			if (pgov_turn_passed(s, now))
				continue;
			if (earliest == 0 || s->woken_at + PGOV_TURN_US < earliest)
				earliest = s->woken_at + PGOV_TURN_US;
		}
	}
	return earliest;
}

