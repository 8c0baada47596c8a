/*-------------------------------------------------------------------------
 *
 * history.h
 *		Per-tenant history: every sample_interval, each tenant's seats, how
 *		they split by backend state, its waiters and its admissions and
 *		refusals since the tick before, kept in pool_governor.history_tenants
 *		rings of history_size samples that follow the tenants with traffic.
 *
 * Locking protocol (history.c, the only code that touches the rings, the
 * samples and the tick times): its lock guards all of them.  The worker
 * alone writes, holding it EXCLUSIVE for O(tenants) copies and no
 * allocation; readers copy under it SHARED and build rows after releasing
 * it, so a large read never holds up the worker's sampling for longer than
 * a copy.  It is never taken while another lock of pool_governor's is held:
 * the board's numbers are copied (board.c) before.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGOV_HISTORY_H
#define PGOV_HISTORY_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "storage/lwlock.h"

/* One tenant's sample at one worker tick. */
typedef struct PgovSample
{
	uint32		incarnation;	/* of the tenant entry when sampled; 0 = no
								 * sample at that tick */
	int32		connected;
	int32		active;
	int32		idle;
	int32		idle_in_transaction;
	int32		waiting;
	int32		admitted;		/* since the previous sample */
	int32		rejected;
} PgovSample;

/* A row of pool_governor.history: a tenant's sample at a tick. */
typedef struct PgovHistoryRow
{
	TimestampTz time;
	int			tenant;			/* board entry (its name: the caller's copy
								 * of the board, same incarnation) */
	uint32		incarnation;
	PgovSample	sample;
} PgovHistoryRow;

extern Size pgov_history_shmem_size(void);
extern void pgov_history_attach(void *base, LWLock *lock, bool init);
extern void pgov_history_sample(TimestampTz now);
extern int	pgov_history_copy(TimestampTz since, PgovHistoryRow **rows);

#endif							/* PGOV_HISTORY_H */
