/*-------------------------------------------------------------------------
 *
 * board.h
 *		The seat board in shared memory (the tenants' counters and queues,
 *		one slot per backend, the totals: seats.h) and the generation it
 *		follows, with every operation on them.  The worker's control
 *		block (control.h) and the logins' counters (loginstats.h) are
 *		regions of their own.
 *
 * board.c is the only taker of the board's lock; seats.c (with
 * clusterseats.c, share.c and publish.c) is the pure state machine that
 * changes the fields, driven by board.c alone: under its own holds, or under
 * one it takes for a change the worker names (pgov_board_change: the
 * cluster quota's).  boardread.c's copies read the board (const) inside a
 * hold that board.c takes for them (pgov_board_read).
 *
 * Locking protocol
 * ----------------
 * The board's lock guards seats alone: the tenants, the slots, the totals
 * (default tenant entry included, and the role whose numbers are in
 * force) and the generation the board follows (and when it was loaded).
 * The control lock is never taken while it is held.  A login's decision
 * and its counter update are one EXCLUSIVE hold, which is what makes the
 * quota exact under any burst.  Under it a login does O(1) work but for
 * one walk of PostgreSQL's free PGPROC list when it is about to wait or to
 * have its refusal held back (pacing: the walk stops at the slots the
 * reserves need), when a seat is released or a waiter leaves its queue the
 * walk of the tenants with waiters that finds whom to wake (O(tenants with
 * waiters), then O(log) a seat handed, and it stops once PGOV_WAKE_MAX are
 * chosen), and, once per promotion, the first login's switch of every
 * tenant to the primary's numbers (O(tenants)), and the O(1) check that
 * its tenant's cluster grant has not run out (pgov_seat_cluster_lapse, by
 * the login's own clock reading).  The cluster quota's fields (each
 * tenant's grant, its time and what the cluster holds; totals.cluster_on)
 * are guarded by this lock too; the worker changes them through
 * pgov_board_change, O(1) a tenant, O(tenants) to turn the quota on or
 * off.  No clock is read under
 * it: every caller passes the time it read before taking the lock.  Two
 * fields are read without the lock, as hints only, each decided again
 * under it: the role (pgov_follow_role) and whether any tenant is above
 * its cap (totals.ac_head, which the drain pass reads to skip the lock
 * altogether when none is).  Publication, the views and the sampler copy
 * arrays under it.
 *
 * The generation is written holding both the rules' lock and this one
 * (rules.h: rules first, then the board), so either is enough to read it;
 * a login classifies under the rules' lock, then decides under this one,
 * and starts again if the generation moved in between.
 *
 * The logins' counters (timing, set-up times, wake-ups) are a region of
 * their own: loginstats.h.
 *
 * Nothing under this lock may ereport(ERROR), allocate or read a catalog:
 * the exit callback that gives a seat back needs it and runs during FATAL
 * handling.  HaveNFreeProcs() takes ProcStructLock, a spinlock, always the
 * innermost.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGOV_BOARD_H
#define PGOV_BOARD_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "storage/lwlock.h"

#include "configuration.h"
#include "rules.h"
#include "seats.h"

/* The board as a reader sees it under the lock (pgov_board_read). */
typedef struct PgovBoardMoment
{
	const PgovBoard *board;
	uint64		generation;
	TimestampTz loaded_at;
} PgovBoardMoment;

typedef void (*PgovBoardReader) (const PgovBoardMoment *m, void *arg);

/* A governed session of a tenant whose drain is due (pgov_board_drain_due). */
typedef struct PgovDrainSession
{
	int			slot;
	int			pid;
	TimestampTz entered_at;
	int			due;			/* index into the due tenants */
	PgovWho		who;
} PgovDrainSession;

/* Shared memory */
extern Size pgov_board_shmem_size(void);
extern void pgov_board_attach(void *base, LWLock *lock, bool init);
extern void pgov_board_restore(void);
extern bool pgov_attached(void);
extern int	pgov_board_nslots(void);

/* Logins (the hook and its exit callback) */
extern void pgov_login_exempt(int slotno, const PgovWho *who, TimestampTz now,
							  bool ordinary);
extern bool pgov_login_decide(int slotno, const PgovWho *who,
							  const PgovPlace *place, TimestampTz entered,
							  TimestampTz deadline_cap, PgovVerdict *v);
extern void pgov_login_release(int slotno, int pid);

/* The worker */
extern uint64 pgov_publish(const PgovConfig *cfg);
extern void pgov_wake_waiters(void);
extern TimestampTz pgov_turn_ends(void);
extern void pgov_follow_role(void);
extern int	pgov_board_drain_due(TimestampTz now, PgovDrainDue *due,
								 char (*names)[NAMEDATALEN], int *due_of,
								 PgovDrainSession *sessions, int *nsessions);
extern bool pgov_board_drain_mark(const PgovDrainSession *session,
								  const PgovDrainDue *due);
extern void pgov_board_count_drained(const PgovDrainDue *due, int n);

/* The worker's sync with the live sessions (sync.c) */
typedef enum PgovSlotPick
{
	PGOV_PICK_STALE,			/* governed, classified by an older generation */
	PGOV_PICK_EXEMPTION			/* governed, or exempt in an ordinary slot */
} PgovSlotPick;

typedef enum PgovMove
{
	PGOV_MOVE_RECLASSIFY,
	PGOV_MOVE_MAKE_EXEMPT,
	PGOV_MOVE_MAKE_GOVERNED
} PgovMove;

extern int	pgov_board_copy_slots(PgovSlotPick pick, PgovSlot *copy,
								  int *todo, uint64 *generation);
extern bool pgov_board_move(int slotno, const PgovSlot *was, PgovMove move,
							const PgovPlace *place, TimestampTz now);
extern int	pgov_board_strays(int *pids, int npids, int *scratch);
extern bool pgov_board_adoptable(int slotno, int pid);
extern bool pgov_board_adopt(int slotno, int pid, const PgovWho *who,
							 bool exempt, bool ordinary,
							 const PgovPlace *place, TimestampTz now);
extern int	pgov_board_slot_pid(int slotno);
extern bool pgov_board_reclaim(int slotno, int pid, TimestampTz now,
							   PgovReleased *out);

/* Anyone */
extern uint64 pgov_generation(void);
extern int	pgov_board_role(void);
extern bool pgov_reset_stats(const char *tenant);

/* A tenant under a cluster quota, as the worker's cluster pass copies it
 * (pgov_board_cluster_tenants, boardread.h). */
typedef struct PgovClusterTenant
{
	int			entry;
	uint32		incarnation;
	char		name[NAMEDATALEN];
	int			quota;
	int			floor;			/* this node's, in the role in force */
	int			floors;			/* every node's, summed */
	int			cap;			/* its own cap here; PGOV_NO_CAP = none */
	int			connected;
	int			waiting;
	int			granted;
	TimestampTz until;
	int			held;			/* -1 = not known */
} PgovClusterTenant;

/* A change of the pure machine the worker asks for (the cluster quota's):
 * returns whether a cap was raised (waiters are then woken). */
typedef bool (*PgovBoardChange) (PgovBoard *b, int64_t now, void *arg);
extern void pgov_board_change(PgovBoardChange change, void *arg);

/* Runs a reader under the lock, SHARED: the copies of boardread.h */
extern void pgov_board_read(PgovBoardReader reader, void *arg);

#endif							/* PGOV_BOARD_H */
