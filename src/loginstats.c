/*-------------------------------------------------------------------------
 *
 * loginstats.c
 *		Owner of the logins' counters (loginstats.h): the hook's timing
 *		histogram, the set-up ring and the wake-up counters, all atomics.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "port/atomics.h"
#include "storage/shmem.h"

#include "loginstats.h"

typedef struct LoginStats
{
	pg_atomic_uint64 hook_logins;
	pg_atomic_uint64 hook_ns_total;
	pg_atomic_uint64 hook_hist[PGOV_TIMING_BUCKETS];
	pg_atomic_uint64 wakeups;	/* waiters woken for a seat or new rules */
	pg_atomic_uint64 wakeups_admitted;	/* woken, then admitted */
	pg_atomic_uint64 wakeups_requeued;	/* woken, then still waiting */
	pg_atomic_uint64 setup_logins;	/* set-up times recorded */
	pg_atomic_uint32 setup_us[PGOV_SETUP_RING];	/* a ring, by setup_logins */
} LoginStats;

static LoginStats *ls = NULL;

Size
pgov_loginstats_shmem_size(void)
{
	return MAXALIGN(sizeof(LoginStats));
}

/* Attaches (init: creates, all zero: after a crash every backend is gone). */
void
pgov_loginstats_attach(void *base, LWLock *lock, bool init)
{
	int			i;

	ls = (LoginStats *) base;
	if (!init)
		return;
	pg_atomic_init_u64(&ls->hook_logins, 0);
	pg_atomic_init_u64(&ls->hook_ns_total, 0);
	for (i = 0; i < PGOV_TIMING_BUCKETS; i++)
		pg_atomic_init_u64(&ls->hook_hist[i], 0);
	pg_atomic_init_u64(&ls->wakeups, 0);
	pg_atomic_init_u64(&ls->wakeups_admitted, 0);
	pg_atomic_init_u64(&ls->wakeups_requeued, 0);
	pg_atomic_init_u64(&ls->setup_logins, 0);
	for (i = 0; i < PGOV_SETUP_RING; i++)
		pg_atomic_init_u32(&ls->setup_us[i], 0);
}

/* Adds one login's time in the hook to the timing histogram. */
void
pgov_timing_record(uint64 ns)
{
	uint64		us = ns / 1000;
	int			bucket = 0;

	while (bucket < PGOV_TIMING_BUCKETS - 1 && us >= (UINT64CONST(1) << bucket))
		bucket++;
	pg_atomic_fetch_add_u64(&ls->hook_hist[bucket], 1);
	pg_atomic_fetch_add_u64(&ls->hook_logins, 1);
	pg_atomic_fetch_add_u64(&ls->hook_ns_total, (int64) ns);
}

/*
 * A login admitted without waiting took us microseconds from its backend's
 * start (the connection accepted) to its admission: fork, start-up packet,
 * authentication and the governor's decision, what a pool pays to open a
 * connection on this server (the network and TLS aside).  A ring of the
 * last PGOV_SETUP_RING.
 */
void
pgov_setup_record(int64 us)
{
	uint64		n = pg_atomic_fetch_add_u64(&ls->setup_logins, 1);

	pg_atomic_write_u32(&ls->setup_us[n % PGOV_SETUP_RING],
						(uint32) Min(Max(us, 1), PG_INT32_MAX));
}

/* The board woke n waiters. */
void
pgov_count_woken(int n)
{
	pg_atomic_fetch_add_u64(&ls->wakeups, n);
}

/* A woken waiter decided again: admitted, or still waiting (a wake-up that
 * was of no use to it). */
void
pgov_count_wakeup(bool admitted)
{
	pg_atomic_fetch_add_u64(admitted ? &ls->wakeups_admitted :
							&ls->wakeups_requeued, 1);
}

/* The hook's timing histogram (hist[PGOV_TIMING_BUCKETS]). */
void
pgov_login_timing(uint64 *hist, uint64 *logins, uint64 *ns_total)
{
	int			i;

	for (i = 0; i < PGOV_TIMING_BUCKETS; i++)
		hist[i] = pg_atomic_read_u64(&ls->hook_hist[i]);
	*logins = pg_atomic_read_u64(&ls->hook_logins);
	*ns_total = pg_atomic_read_u64(&ls->hook_ns_total);
}

/* The recorded set-up times (out[PGOV_SETUP_RING]); returns how many. */
int
pgov_login_setup_times(int32 *out)
{
	uint64		n = pg_atomic_read_u64(&ls->setup_logins);
	int			count = (int) Min(n, (uint64) PGOV_SETUP_RING);
	int			i;

	for (i = 0; i < count; i++)
		out[i] = (int32) pg_atomic_read_u32(&ls->setup_us[i]);
	return count;
}

void
pgov_login_wakeups(uint64 *woken, uint64 *admitted, uint64 *requeued)
{
	*woken = pg_atomic_read_u64(&ls->wakeups);
	*admitted = pg_atomic_read_u64(&ls->wakeups_admitted);
	*requeued = pg_atomic_read_u64(&ls->wakeups_requeued);
}

/* Zeroes the hook's timing (pool_governor.reset_stats() of every tenant). */
void
pgov_login_timing_reset(void)
{
	int			i;

	pg_atomic_write_u64(&ls->hook_logins, 0);
	pg_atomic_write_u64(&ls->hook_ns_total, 0);
	for (i = 0; i < PGOV_TIMING_BUCKETS; i++)
		pg_atomic_write_u64(&ls->hook_hist[i], 0);
}
