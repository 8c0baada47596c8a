/*-------------------------------------------------------------------------
 *
 * shmem.c
 *		pool_governor's shared memory: one segment, carved into the regions
 *		of the table below, each with one lock and one owning file.
 *
 * The table is the layout: the size requested at shmem_request_hook and
 * the carving at shmem_startup_hook both walk it, so they cannot disagree.
 * Each owner sizes its region and attaches to it (creating it the first
 * time); nothing else touches a region or takes its lock:
 *
 *		board	board.c		tenants, slots, totals
 *		logins	loginstats.c	the logins' counters (atomics: its lock unused)
 *		control	control.c	the worker's handshake, reload() tickets, the
 *							commit flag, problems, the worker's progress
 *		rules	rules.c		published rules and their index
 *		events	events.c	the event ring
 *		history	history.c	the history rings
 *
 * Locks are taken in this order when two are held: rules, then board.  The
 * control, event and history locks are never taken holding another.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"

#include "board.h"
#include "control.h"
#include "events.h"
#include "history.h"
#include "loginstats.h"
#include "rules.h"
#include "settings.h"
#include "shmem.h"

typedef struct PgovRegion
{
	const char *name;
	Size		(*size) (void);
	void		(*attach) (void *base, LWLock *lock, bool init);
} PgovRegion;

static const PgovRegion regions[] = {
	{"board", pgov_board_shmem_size, pgov_board_attach},
	{"control", pgov_control_shmem_size, pgov_control_attach},
	{"logins", pgov_loginstats_shmem_size, pgov_loginstats_attach},
	{"rules", pgov_rules_shmem_size, pgov_rules_attach},
	{"events", pgov_events_shmem_size, pgov_events_attach},
	{"history", pgov_history_shmem_size, pgov_history_attach},
};

#define PGOV_NUM_REGIONS lengthof(regions)

static Size
total_size(void)
{
	Size		size = 0;
	int			i;

	for (i = 0; i < PGOV_NUM_REGIONS; i++)
		size = add_size(size, MAXALIGN(regions[i].size()));
	return size;
}

/* One lock per region, in the table's order. */
void
pgov_shmem_request(void)
{
	RequestAddinShmemSpace(total_size());
	RequestNamedLWLockTranche("pool_governor", PGOV_NUM_REGIONS);
}

/*
 * Creates (postmaster) or attaches to the regions.  On creation the
 * configuration in force before a stop or a crash is restored from the
 * snapshot file before any login is accepted (board.c).
 */
void
pgov_shmem_startup(void)
{
	bool		found;
	char	   *p;
	LWLockPadded *locks = NULL;
	int			i;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	p = ShmemInitStruct("pool_governor", total_size(), &found);
	if (!found)
		locks = GetNamedLWLockTranche("pool_governor");
	for (i = 0; i < PGOV_NUM_REGIONS; i++)
	{
		regions[i].attach(p, found ? NULL : &locks[i].lock, !found);
		p += MAXALIGN(regions[i].size());
	}
	if (!found)
		pgov_board_restore();
	LWLockRelease(AddinShmemInitLock);
}
