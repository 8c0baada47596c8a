/*-------------------------------------------------------------------------
 *
 * sync.c
 *		The worker's sync of the seat board with the live sessions, every
 *		tick: sessions classified by an older generation moved to where
 *		the rules in force place them, sessions that passed no hook
 *		adopted, exemption following the setting in force, and the seats
 *		of processes that exited without giving them back reclaimed.
 *
 * Everything that reads a backend's status or the catalog (memberships,
 * superuser) happens here, outside the board's lock; each change is then
 * asked of board.c, which applies it under the lock only if the slot still
 * holds the same session.  Worker only.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "miscadmin.h"
#include "pgstat.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "utils/backend_status.h"
#include "utils/timestamp.h"

#include "board.h"
#include "compat.h"
#include "events.h"
#include "identity.h"
#include "rules.h"
#include "sync.h"

static int
pid_cmp(const void *a, const void *b)
{
	int			x = *(const int *) a;
	int			y = *(const int *) b;

	return (x > y) - (x < y);
}

/* Where the rules in force place who (its memberships read here). */
static void
place_of(const PgovWho *who, PgovPlace *place)
{
	PgovGroups	groups;

	memset(&groups, 0, sizeof(groups));
	pgov_rules_place(who, &groups, place);
	pgov_groups_free(&groups);
}

/*
 * Counts the client sessions that hold no slot (they logged in while the
 * governor was off) from their own backend status: role, database, current
 * application_name and address.  Returns how many were adopted.
 */
static int
adopt_strays(int nslots)
{
	int		   *pids;
	int		   *scratch = palloc(sizeof(int) * nslots);
	int			npids = 0;
	int			nstray;
	int			nbackends;
	int			adopted = 0;
	int			i;

	/*
	 * A stray is a started client session that holds no slot.  Each started
	 * session is looked up among the slots' holders (pgov_seat_strays); only
	 * the strays cost a proc array lookup.
	 */
	pgstat_clear_snapshot();
	nbackends = pgstat_fetch_stat_numbackends();
	pids = palloc(sizeof(int) * (nbackends + 1));
	for (i = 1; i <= nbackends; i++)
	{
		LocalPgBackendStatus *l = PGOV_LOCAL_BEENTRY(i);

		if (l && (l->backendStatus.st_backendType == B_BACKEND ||
				  l->backendStatus.st_backendType == B_WAL_SENDER) &&
			!PGOV_BACKEND_STARTING(&l->backendStatus))
			pids[npids++] = l->backendStatus.st_procpid;
	}
	nstray = pgov_board_strays(pids, npids, scratch);

	for (i = 1; i <= nbackends && nstray > 0; i++)
	{
		LocalPgBackendStatus *l = PGOV_LOCAL_BEENTRY(i);
		PgBackendStatus *be;
		PGPROC	   *proc;
		int			slotno;
		bool		exempt;
		PgovWho		who;
		PgovPlace	place;

		if (l == NULL)
			continue;
		be = &l->backendStatus;
		if ((be->st_backendType != B_BACKEND && be->st_backendType != B_WAL_SENDER) ||
			PGOV_BACKEND_STARTING(be) ||
			bsearch(&be->st_procpid, pids, nstray, sizeof(int), pid_cmp) == NULL)
			continue;
		proc = BackendPidGetProc(be->st_procpid);
		if (proc == NULL)
			continue;
		slotno = PGOV_PROCNO(proc);
		if (slotno < 0 || slotno >= nslots ||
			!pgov_board_adoptable(slotno, be->st_procpid))
			continue;

		pgov_who_from_backend(be, &who);
		exempt = pgov_who_is_exempt(&who, be->st_backendType == B_WAL_SENDER);
		memset(&place, 0, sizeof(place));
		if (!exempt)
			place_of(&who, &place);
		if (pgov_board_adopt(slotno, be->st_procpid, &who, exempt,
							 be->st_backendType == B_BACKEND, &place,
							 GetCurrentTimestamp()))
			adopted++;
	}
	pgstat_clear_snapshot();
	pfree(pids);
	pfree(scratch);
	return adopted;
}

/*
 * Keeps the counters equal to the live sessions under the rules in force
 * (worker, every tick):
 * - a governed session classified by an older generation (it logged in
 *   while a publication was being planned) is classified and moved;
 * - with adopt, a client backend that holds no slot (it logged in while the
 *   governor was off) is counted from its own backend status.
 * Catalog reads happen outside the board's lock; each move is re-checked
 * under it.
 */
void
pgov_sync_sessions(bool adopt)
{
	int			nslots = pgov_board_nslots();
	int		   *todo = palloc(sizeof(int) * nslots);
	PgovSlot   *copy = palloc(sizeof(PgovSlot) * nslots);
	uint64		generation;
	int			n;
	int			i;

	n = pgov_board_copy_slots(PGOV_PICK_STALE, copy, todo, &generation);
	for (i = 0; i < n; i++)
	{
		PgovPlace	place;

		place_of(&copy[i].who, &place);
		(void) pgov_board_move(todo[i], &copy[i], PGOV_MOVE_RECLASSIFY,
							   &place, GetCurrentTimestamp());
	}
	/* a session moved out of a tenant may have freed a seat there */
	if (n > 0)
		pgov_wake_waiters();

	if (adopt)
	{
		int			adopted = adopt_strays(nslots);

		if (adopted > 0)
			pgov_event_add(PGOV_EV_ADOPTED, NULL, NULL,
						   "%d sessions that logged in without the governor are now counted",
						   adopted);
	}
	pfree(todo);
	pfree(copy);
}

/*
 * Exemption follows the setting in force (worker, every tick): a governed
 * session that is exempt now leaves its tenant's count and is counted
 * apart; an exempt session in an ordinary slot (a superuser, never a
 * walsender) that is no longer exempt joins the tenant the rules place it
 * in.  pool_governor.exempt_superusers and the role's attributes are read
 * outside the lock (in the caller's transaction: on 16 and later,
 * membership in pg_use_reserved_connections is a catalog read); each move
 * is made under it only if the slot still holds the same session in the
 * same state.  Returns how many moved.
 */
int
pgov_sync_exemption(void)
{
	int			nslots = pgov_board_nslots();
	PgovSlot   *copy = palloc(sizeof(PgovSlot) * nslots);
	int		   *todo = palloc(sizeof(int) * nslots);
	uint64		generation;
	int			n;
	int			to_exempt = 0;
	int			to_governed = 0;
	int			i;

	n = pgov_board_copy_slots(PGOV_PICK_EXEMPTION, copy, todo, &generation);
	for (i = 0; i < n; i++)
	{
		PgovSlot   *c = &copy[i];
		bool		exempt = pgov_who_is_exempt(&c->who, false);
		PgovPlace	place;

		if (exempt == (c->state == PGOV_SLOT_EXEMPT))
			continue;
		memset(&place, 0, sizeof(place));
		if (exempt)
			to_exempt += pgov_board_move(todo[i], c, PGOV_MOVE_MAKE_EXEMPT,
										 &place, GetCurrentTimestamp());
		else
		{
			place_of(&c->who, &place);
			to_governed += pgov_board_move(todo[i], c, PGOV_MOVE_MAKE_GOVERNED,
										   &place, GetCurrentTimestamp());
		}
	}
	pfree(copy);
	pfree(todo);
	/* a session that left its tenant freed a seat there */
	if (to_exempt > 0)
		pgov_wake_waiters();
	if (to_exempt > 0 || to_governed > 0)
		pgov_event_add(PGOV_EV_EXEMPTION, NULL, NULL,
					   "exemption follows the setting in force: %d sessions now counted apart, %d now counted in their tenant",
					   to_exempt, to_governed);
	return to_exempt + to_governed;
}

/*
 * Frees the slots of backends that exited without giving their seat back.
 * A slot is indexed by its PGPROC and the exit callback runs before the
 * PGPROC is released, so a slot whose PGPROC now holds another pid, or
 * whose process is gone, has leaked.  A backend still in the hook owns its
 * PGPROC and is never taken for a leak.  The scan reads pids without the
 * lock; each suspect is released under it, only if still the same pid.
 */
void
pgov_reconcile(void)
{
	int			nslots = pgov_board_nslots();
	int			i;

	for (i = 0; i < nslots; i++)
	{
		int			pid = pgov_board_slot_pid(i);
		PgovReleased out;

		if (pid == 0)
			continue;
		if (ProcGlobal->allProcs[i].pid == pid &&
			!(kill(pid, 0) != 0 && errno == ESRCH))
			continue;
		if (pgov_board_reclaim(i, pid, GetCurrentTimestamp(), &out))
		{
			pgov_wake_waiters();
			ereport(LOG,
					(errmsg("pool_governor reclaimed the seat of process %d, which exited without returning it",
							pid)));
			pgov_event_add(PGOV_EV_SLOT_RECLAIMED, out.tenant[0] ? out.tenant : NULL,
						   &out.who, "process %d exited without returning its seat", pid);
		}
	}
}
