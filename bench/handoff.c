/*
 * bench/handoff: what one fair hand-off costs in the seat machine
 * (src/seats.c), with N tenants that have logins waiting.
 *
 * The board: capacity 100 held by tenant h; N tenants t0..t(N-1), weights
 * 1 to 1000, each with one login waiting.  One hand-off is what the server
 * does under the board's lock when a seat is freed: h's session leaves
 * (release), the waiters to wake are chosen (pgov_seat_wakeable: the seat
 * goes to the lowest shared seats held per weight), and the woken waiter
 * decides (pgov_seat_decide, which checks the same rule).  Each hand-off
 * starts from the same board (copied back outside the measured part).
 *
 * Prints the median nanoseconds of a hand-off over the rounds; run under
 * callgrind with --toggle-collect=handoff_once for instructions
 * (bench/handoff_cost does both, side by side, for 1, 100, 1,000 and
 * 10,000 tenants).  Every tenant holds no shared seat, so every key ties
 * on held per weight and is told apart by its login's age: the most work
 * a hand-off can do for that many tenants.
 *
 * With FREE, what is measured instead is one choice of whom to wake when
 * FREE shared seats are free at once (a raised capacity, a promotion, an
 * admission after a wait): pgov_seat_wakeable with room for the 64 wake-ups
 * the server asks for; the longest and the median of the rounds.
 *
 * Usage: bench/handoff N [ROUNDS [FREE]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "seats.h"
#include "publish.h"
#include "share.h"

#define CAPACITY 100

static bool
always_free(void *ctx, int n)
{
	(void) ctx;
	(void) n;
	return true;
}

static int
decide(PgovBoard *b, int slot, int tenant, int64_t t)
{
	PgovAsk		ask;
	PgovVerdict v;

	memset(&ask, 0, sizeof(ask));
	ask.tenant = tenant;
	ask.generation = 1;
	ask.now = t;
	ask.capacity = CAPACITY;
	ask.slot_limit = 1000000;
	ask.deadline_cap = t + 3600000000LL;
	ask.have_free_slots = always_free;
	pgov_seat_decide(b, slot, &ask, &v);
	return v.outcome;
}

/* Wake-ups the server asks for at most in one change (board.c). */
#define WAKE_MAX 64

/* The measured part with FREE: whom FREE free seats wake. */
__attribute__((noinline)) static int
wake_many(PgovBoard *b, int free_seats, int64_t t)
{
	int			woken[WAKE_MAX];

	return pgov_seat_wakeable(b, b->totals->sum_held + free_seats, true, t,
							  woken, WAKE_MAX);
}

/* The measured part: one seat freed and handed on. */
__attribute__((noinline)) static int
handoff_once(PgovBoard *b, int holder_slot, int64_t t)
{
	int			woken[4];
	int			n;

	pgov_seat_release(b, holder_slot, b->slots[holder_slot].pid, t, NULL);
	n = pgov_seat_wakeable(b, CAPACITY, true, t, woken, 4);
	if (n != 1)
		return -1;
	return decide(b, woken[0], b->slots[woken[0]].tenant, t) == PGOV_SEAT_ADMITTED ? 0 : -1;
}

static int
cmp64(const void *a, const void *b)
{
	int64_t		x = *(const int64_t *) a;
	int64_t		y = *(const int64_t *) b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	int			ntenants = argc > 1 ? atoi(argv[1]) : 1000;
	int			rounds = argc > 2 ? atoi(argv[2]) : 2000;
	int			free_seats = argc > 3 ? atoi(argv[3]) : 0;
	int			nslots = CAPACITY + ntenants + 8;
	int			maxt = ntenants + 2;
	PgovSeatTotals totals;
	PgovSeatTotals totals0;
	PgovTenant *tenants = calloc(maxt, sizeof(PgovTenant));
	PgovTenant *tenants0 = calloc(maxt, sizeof(PgovTenant));
	PgovSlot   *slots = calloc(nslots, sizeof(PgovSlot));
	PgovSlot   *slots0 = calloc(nslots, sizeof(PgovSlot));
	PgovTenantDef *defs = calloc(ntenants + 1, sizeof(PgovTenantDef));
	int		   *map = calloc(ntenants + 1, sizeof(int));
	int64_t    *ns = calloc(rounds, sizeof(int64_t));
	PgovBoard	b = {&totals, tenants, maxt, slots, nslots, calloc(maxt, sizeof(PgovShareEntry))};
	int64_t		t = 1000000;
	int			slot = 0;
	int			i;
	int			h;

	if (ntenants < 1 || rounds < 1)
	{
		fprintf(stderr, "usage: %s N [ROUNDS]\n", argv[0]);
		return 2;
	}
	for (i = 0; i < ntenants; i++)
	{
		snprintf(defs[i].name, PGOV_NAME_LEN, "t%06d", i);
		defs[i].max_connections = PGOV_NO_CAP;
		defs[i].max_waiting = 10;
		defs[i].wait_timeout_ms = 3600000;
		defs[i].weight = 1 + i % 1000;
	}
	strcpy(defs[ntenants].name, "~h");	/* sorts last */
	defs[ntenants].max_connections = PGOV_NO_CAP;
	defs[ntenants].weight = 1;
	pgov_board_init(&b);
	if (!pgov_seat_publish(&b, defs, ntenants + 1, NULL, PGOV_ROLE_UNKNOWN, "default", NULL, 1, t, map))
		return 1;
	h = map[ntenants];
	for (i = 0; i < CAPACITY; i++)
	{
		PgovWho		w = {0};

		pgov_seat_claim(&b, slot, slot + 1, &w, ++t);
		if (decide(&b, slot++, h, t) != PGOV_SEAT_ADMITTED)
			return 1;
	}
	for (i = 0; i < ntenants; i++)
	{
		PgovWho		w = {0};

		pgov_seat_claim(&b, slot, slot + 1, &w, ++t);
		if (decide(&b, slot++, map[i], t) != PGOV_SEAT_QUEUED)
			return 1;
	}
	totals0 = totals;
	memcpy(tenants0, tenants, sizeof(PgovTenant) * maxt);
	memcpy(slots0, slots, sizeof(PgovSlot) * nslots);

	for (i = 0; i < rounds; i++)
	{
		struct timespec t0,
					t1;

		totals = totals0;
		memcpy(tenants, tenants0, sizeof(PgovTenant) * maxt);
		memcpy(slots, slots0, sizeof(PgovSlot) * nslots);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (free_seats > 0)
		{
			int			n = wake_many(&b, free_seats, t + 1000);

			if (n != (free_seats < ntenants ? free_seats : ntenants) &&
				n != WAKE_MAX)
				return 1;
		}
		else if (handoff_once(&b, i % CAPACITY, t + 1000) != 0)
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ns[i] = (int64_t) (t1.tv_sec - t0.tv_sec) * 1000000000 + (t1.tv_nsec - t0.tv_nsec);
	}
	qsort(ns, rounds, sizeof(int64_t), cmp64);
	printf("tenants_waiting=%d free=%d rounds=%d median_ns=%lld p90_ns=%lld max_ns=%lld\n",
		   ntenants, free_seats, rounds, (long long) ns[rounds / 2],
		   (long long) ns[rounds * 9 / 10], (long long) ns[rounds - 1]);
	return 0;
}
