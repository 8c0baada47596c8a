/*-------------------------------------------------------------------------
 *
 * history.c
 *		Owner of the history rings (history.h has the locking protocol): the
 *		worker's sampling, and the copies the views read.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pgstat.h"
#include "storage/shmem.h"
#include "utils/backend_status.h"
#include "utils/memutils.h"

#include "board.h"
#include "boardread.h"
#include "compat.h"
#include "history.h"
#include "settings.h"

/*
 * A ring of history_size samples, taken by a tenant with traffic: a free
 * one, or the ring of the tenant idle the longest.  It keeps it while it
 * has traffic.
 */
typedef struct HistoryRing
{
	int			tenant;			/* board entry, -1 = free */
	uint32		incarnation;	/* of the entry when the ring was taken */
	uint64		since_tick;		/* first tick sampled for this owner */
	uint64		last_traffic;	/* last tick it had traffic */
} HistoryRing;

typedef struct HistoryShared
{
	LWLock	   *lock;
	uint64		ticks_written;
} HistoryShared;

static HistoryShared *hs = NULL;
static HistoryRing *rings = NULL;	/* [history_tenants] */
static PgovSample *samples = NULL;	/* [history_tenants][history_size] */
static TimestampTz *tick_times = NULL;	/* [history_size] */

/* The worker's: cumulative counters at the previous sample, per entry. */
typedef struct TenantMark
{
	uint32		incarnation;
	int64		admitted;
	int64		rejected;
} TenantMark;

static TenantMark *marks = NULL;

Size
pgov_history_shmem_size(void)
{
	Size		size = MAXALIGN(sizeof(HistoryShared));

	size = add_size(size, MAXALIGN(mul_size(pgov_history_size, sizeof(TimestampTz))));
	size = add_size(size, MAXALIGN(mul_size(pgov_history_tenants, sizeof(HistoryRing))));
	size = add_size(size, MAXALIGN(mul_size(mul_size(pgov_history_size, pgov_history_tenants),
											sizeof(PgovSample))));
	return size;
}

void
pgov_history_attach(void *base, LWLock *lock, bool init)
{
	char	   *p = base;
	int			i;

	hs = (HistoryShared *) p;
	p += MAXALIGN(sizeof(HistoryShared));
	tick_times = (TimestampTz *) p;
	p += MAXALIGN(mul_size(pgov_history_size, sizeof(TimestampTz)));
	rings = (HistoryRing *) p;
	p += MAXALIGN(mul_size(pgov_history_tenants, sizeof(HistoryRing)));
	samples = (PgovSample *) p;
	if (init)
	{
		memset(base, 0, pgov_history_shmem_size());
		hs->lock = lock;
		for (i = 0; i < pgov_history_tenants; i++)
			rings[i].tenant = -1;
	}
}

/* Had the tenant sessions, waiters or logins at this tick? */
static bool
has_traffic(const PgovSample *s)
{
	return s->connected > 0 || s->waiting > 0 || s->admitted > 0 ||
		s->rejected > 0;
}

/*
 * Writes one tick's samples into the tenants' rings (lock held).  Tenants
 * keep their ring while they have traffic.  A tenant with traffic and no
 * ring takes a free one, else the ring of the tenant idle the longest, if
 * that one had no traffic at this tick: so the rings follow the busy
 * tenants, and a tenant that had one keeps its recent history until a
 * busier one needs the ring.  row has ntenants entries; ring_of is scratch
 * of as many.  O(tenants + rings per taken ring).
 */
static void
record_tick(const PgovSample *row, int ntenants, int *ring_of, uint64 tick)
{
	int			nrings = pgov_history_tenants;
	int			r;
	int			i;

	for (i = 0; i < ntenants; i++)
		ring_of[i] = -1;
	for (r = 0; r < nrings; r++)
	{
		HistoryRing *ring = &rings[r];

		/* a ring whose tenant is gone (or its entry reused) is free */
		if (ring->tenant >= 0 && ring->tenant < ntenants &&
			row[ring->tenant].incarnation == ring->incarnation &&
			ring->incarnation != 0)
		{
			ring_of[ring->tenant] = r;
			if (has_traffic(&row[ring->tenant]))
				ring->last_traffic = tick;
		}
		else
			ring->tenant = -1;
	}
	for (i = 0; i < ntenants; i++)
	{
		int			best = -1;

		if (ring_of[i] >= 0 || row[i].incarnation == 0 || !has_traffic(&row[i]))
			continue;
		for (r = 0; r < nrings; r++)
		{
			HistoryRing *ring = &rings[r];

			if (ring->tenant < 0)
			{
				best = r;
				break;
			}
			if (ring->last_traffic < tick &&
				(best < 0 || ring->last_traffic < rings[best].last_traffic))
				best = r;
		}
		if (best < 0)
			break;				/* every ring's tenant is busy */
		if (rings[best].tenant >= 0)
			ring_of[rings[best].tenant] = -1;
		rings[best].tenant = i;
		rings[best].incarnation = row[i].incarnation;
		rings[best].since_tick = tick;
		rings[best].last_traffic = tick;
		ring_of[i] = best;
	}
	for (r = 0; r < nrings; r++)
	{
		HistoryRing *ring = &rings[r];

		if (ring->tenant >= 0)
			samples[(Size) r * pgov_history_size + tick % pgov_history_size] =
				row[ring->tenant];
	}
}

static int
slot_pid_cmp(const void *a, const void *b)
{
	int			pa = ((const PgovSlotOwner *) a)->pid;
	int			pb = ((const PgovSlotOwner *) b)->pid;

	return (pa > pb) - (pa < pb);
}

/*
 * Records one tick (worker): per tenant, the seats held, how they split by
 * backend state, the waiters, and admissions / refusals since the previous
 * tick.  O(backends log backends); the board's lock is held only for its
 * copy (boardread.c), this region's only for the writing, with everything
 * allocated before.
 */
void
pgov_history_sample(TimestampTz now)
{
	PgovSlotOwner *owners;
	PgovTenantCounts *counts;
	PgovSample *row;
	int		   *ring_of;
	int			ntenants;
	int			nowners;
	int			nbackends;
	int			i;
	uint64		tick;

	if (pgov_history_size <= 0 || pgov_history_tenants <= 0)
		return;
	owners = palloc(sizeof(PgovSlotOwner) * MaxBackends);
	counts = palloc(sizeof(PgovTenantCounts) * pgov_max_tenants);
	row = palloc0(sizeof(PgovSample) * pgov_max_tenants);
	ring_of = palloc(sizeof(int) * pgov_max_tenants);
	if (marks == NULL)
		marks = MemoryContextAllocZero(TopMemoryContext,
									   sizeof(TenantMark) * pgov_max_tenants);

	ntenants = pgov_board_counts(counts, owners, &nowners);
	for (i = 0; i < ntenants; i++)
	{
		PgovTenantCounts *t = &counts[i];
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

	/* split each tenant's backends by what pg_stat_activity says they do */
	qsort(owners, nowners, sizeof(PgovSlotOwner), slot_pid_cmp);
	pgstat_clear_snapshot();
	nbackends = pgstat_fetch_stat_numbackends();
	for (i = 1; i <= nbackends; i++)
	{
		LocalPgBackendStatus *l = PGOV_LOCAL_BEENTRY(i);
		PgovSlotOwner key;
		PgovSlotOwner *hit;

		if (l == NULL)
			continue;
		key.pid = l->backendStatus.st_procpid;
		hit = bsearch(&key, owners, nowners, sizeof(PgovSlotOwner), slot_pid_cmp);
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

	LWLockAcquire(hs->lock, LW_EXCLUSIVE);
	tick = hs->ticks_written;
	tick_times[tick % pgov_history_size] = now;
	record_tick(row, ntenants, ring_of, tick);
	hs->ticks_written++;
	LWLockRelease(hs->lock);

	pfree(owners);
	pfree(counts);
	pfree(row);
	pfree(ring_of);
}

/* A ring as a reader copies it. */
typedef struct RingCopy
{
	int			ringno;
	int			tenant;
	uint32		incarnation;
	uint64		since_tick;
} RingCopy;

static int
ring_tenant_cmp(const void *a, const void *b)
{
	int			ta = ((const RingCopy *) a)->tenant;
	int			tb = ((const RingCopy *) b)->tenant;

	return (ta > tb) - (ta < tb);
}

/* Under the lock: the first tick after since (0: the oldest kept). */
static uint64
first_tick_after(TimestampTz since)
{
	uint64		written = hs->ticks_written;
	uint64		oldest = written > (uint64) pgov_history_size ?
		written - pgov_history_size : 0;
	uint64		first;

	if (since == 0)
		return oldest;
	/* ticks are in time order: skip back over those after since */
	first = written;
	while (first > oldest && tick_times[(first - 1) % pgov_history_size] > since)
		first--;
	return first;
}

/*
 * The samples taken after since (0: all of them), oldest tick first, one
 * row per ring with a sample of that tick, in tenant-entry order within a
 * tick; *rows is palloc'd.  Whose a ring is (entry and incarnation) is in
 * each row: the caller names it from its copy of the board, and drops rows
 * of an entry since reused.  The rows are counted under the lock, allocated
 * outside it, then copied under it again (at most as many as counted: ticks
 * written meanwhile are left out).  Bounded by history_size times
 * history_tenants rows, and by the rows of the ticks after since.
 */
int
pgov_history_copy(TimestampTz since, PgovHistoryRow **rows)
{
	RingCopy   *copy;
	int			nrings = 0;
	uint64		first;
	uint64		last;
	uint64		k;
	Size		room;
	int			n = 0;
	int			r;

	*rows = NULL;
	if (pgov_history_size <= 0 || pgov_history_tenants <= 0)
		return 0;
	copy = palloc(sizeof(RingCopy) * pgov_history_tenants);

	LWLockAcquire(hs->lock, LW_SHARED);
	first = first_tick_after(since);
	last = hs->ticks_written;
	for (r = 0; r < pgov_history_tenants; r++)
		nrings += rings[r].tenant >= 0;
	LWLockRelease(hs->lock);

	room = (Size) (last - first) * Max(nrings, 1) + 1;
	*rows = palloc(sizeof(PgovHistoryRow) * room);

	LWLockAcquire(hs->lock, LW_SHARED);
	nrings = 0;
	for (r = 0; r < pgov_history_tenants; r++)
	{
		if (rings[r].tenant < 0)
			continue;
		copy[nrings].ringno = r;
		copy[nrings].tenant = rings[r].tenant;
		copy[nrings].incarnation = rings[r].incarnation;
		copy[nrings].since_tick = rings[r].since_tick;
		nrings++;
	}
	qsort(copy, nrings, sizeof(RingCopy), ring_tenant_cmp);
	first = first_tick_after(since);
	for (k = first; k < hs->ticks_written && (Size) n < room; k++)
	{
		int			tick = (int) (k % pgov_history_size);

		for (r = 0; r < nrings && (Size) n < room; r++)
		{
			PgovHistoryRow *row = &(*rows)[n];

			if (k < copy[r].since_tick)
				continue;
			row->time = tick_times[tick];
			row->tenant = copy[r].tenant;
			row->incarnation = copy[r].incarnation;
			row->sample = samples[(Size) copy[r].ringno * pgov_history_size + tick];
			n++;
		}
	}
	LWLockRelease(hs->lock);
	pfree(copy);
	return n;
}
