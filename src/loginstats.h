/*-------------------------------------------------------------------------
 *
 * loginstats.h
 *		The logins' counters in shared memory: the time the hook takes (a
 *		histogram), the set-up times of the last logins admitted at once
 *		(a ring) and what became of woken waiters.
 *
 * loginstats.c is the only code that touches them.  They are a region of
 * their own, all atomics and no lock, so that counting a login never
 * lengthens the board's lock: logins write them after their decision, the
 * views read them at any time (each counter is exact; a reading of several
 * may mix moments by a login or two).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGOV_LOGINSTATS_H
#define PGOV_LOGINSTATS_H

#include "postgres.h"

#include "storage/lwlock.h"

/*
 * The time the hook takes for a login that does not wait, as a histogram:
 * bucket i counts logins decided in under 2^i microseconds, the last one
 * the rest.
 */
#define PGOV_TIMING_BUCKETS 20

/* The set-up times of the last logins admitted without a wait (backend
 * start to admission), for the pool advice. */
#define PGOV_SETUP_RING 1024

/* Shared memory (its lock is not used) */
extern Size pgov_loginstats_shmem_size(void);
extern void pgov_loginstats_attach(void *base, LWLock *lock, bool init);

/* Logins and the board's wake-ups */
extern void pgov_timing_record(uint64 ns);
extern void pgov_setup_record(int64 us);
extern void pgov_count_woken(int n);
extern void pgov_count_wakeup(bool admitted);

/* The views, and pool_governor.reset_stats() */
extern void pgov_login_timing(uint64 *hist, uint64 *logins, uint64 *ns_total);
extern int	pgov_login_setup_times(int32 *out);
extern void pgov_login_wakeups(uint64 *woken, uint64 *admitted,
							   uint64 *requeued);
extern void pgov_login_timing_reset(void);

#endif							/* PGOV_LOGINSTATS_H */
