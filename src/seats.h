/*-------------------------------------------------------------------------
 *
 * seats.h
 *		The seat state machine: the backend slots, the tenants' counters and
 *		waiter queues, and every transition between them.
 *
 * Like policy.h, nothing here includes a PostgreSQL header: the unit tests
 * drive this code against a reference model.  The arrays live in shared
 * memory; board.c is the only caller of every function that is given a
 * board, always holding the board's lock EXCLUSIVE (SHARED for the
 * read-only helpers), so every field below is protected by that lock unless
 * said otherwise.  (publish.h's pgov_tenant_entries_needed looks at definitions only,
 * no board: the configuration model asks it too.)
 *
 * A slot's life:
 *
 *		FREE --claim--> CLAIMED --decide--> GOVERNED   (admitted)
 *		                   |        |-----> WAITING    (queued in its tenant)
 *		                   |        '-----> FREE       (refused; the answer
 *		                   |                            maybe held back:
 *		                   |                            pacing, policy.h)
 *		                   '--exempt------> EXEMPT     (counted apart)
 *		WAITING --decide--> GOVERNED | WAITING | FREE (timed out)
 *		WAITING --wake--> WAITING, woken: its turn to take a seat
 *		                  (PGOV_TURN_MS; then the next waiter's)
 *		WAITING --publish--> CLAIMED   (decides again under the new rules)
 *		GOVERNED --reclassify--> GOVERNED in another tenant
 *		GOVERNED <--exemption changed--> EXEMPT (an ordinary slot)
 *		FREE --adopt--> GOVERNED | EXEMPT   (a session that passed no hook)
 *		any --release--> FREE
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGOV_SEATS_H
#define PGOV_SEATS_H

#include "policy.h"

/*
 * A woken waiter's turn: a login woken to take a free seat that has not
 * decided within this time (its process is stopped, swapped out, starved)
 * lets the next waiter of its tenant take the seat, and keeps its place at
 * the head of the queue for the seat after.
 */
#define PGOV_TURN_MS	250
#define PGOV_TURN_US	((int64_t) PGOV_TURN_MS * 1000)

/* Slot.tenant when the slot is in no tenant. */
#define PGOV_TENANT_NONE	(-1)

typedef enum PgovSlotState
{
	PGOV_SLOT_FREE = 0,
	PGOV_SLOT_CLAIMED,			/* in the hook, not yet decided */
	PGOV_SLOT_GOVERNED,			/* admitted and counted in its tenant */
	PGOV_SLOT_WAITING,			/* queued for a seat in its tenant */
	PGOV_SLOT_EXEMPT			/* counted apart, never refused */
} PgovSlotState;

/*
 * What a login presented: its login-time role, database, startup-packet
 * application_name and address.  Classification only ever looks at this, so
 * a later SET application_name changes nothing.
 */
typedef struct PgovWho
{
	uint32_t	roleid;			/* Oid */
	bool		has_addr;		/* false for a Unix-socket connection */
	char		role_name[PGOV_NAME_LEN];
	char		database_name[PGOV_NAME_LEN];
	char		application_name[PGOV_NAME_LEN];
	PgovCidr	addr;
} PgovWho;

/* One per PGPROC usable by a backend, indexed by pgprocno. */
typedef struct PgovSlot
{
	int			pid;			/* holder; 0 when free */
	int			last_pid;		/* the last holder that gave it back: a
								 * session that left is never adopted */
	PgovSlotState state;
	bool		ordinary;		/* EXEMPT in a max_connections slot (a
								 * superuser, not a walsender) */
	int			tenant;			/* index, or PGOV_TENANT_NONE */
	int64_t		rule_id;		/* rule that placed it; 0 = default tenant */
	uint64_t	generation;		/* configuration that classified it */
	int64_t		entered_at;		/* timestamps: microseconds, any epoch */
	int64_t		admitted_at;
	int64_t		deadline;		/* WAITING: when the wait ends */
	int			waited_ms;		/* time spent waiting for the seat */
	bool		woken;			/* WAITING: woken to take a seat, has not
								 * decided yet */
	int64_t		woken_at;		/* when; its turn ends PGOV_TURN_US later */
	bool		ending;			/* GOVERNED: the drain asked it to end */
	int			wait_prev;		/* tenant's waiter queue, slot indexes */
	int			wait_next;
	PgovWho		who;
} PgovSlot;

/*
 * What a tenant's logins did recently, for health: per-tenant counters in
 * PGOV_RECENT_BUCKETS time steps of width totals.recent_width_us (the
 * health window over PGOV_RECENT_BUCKETS - 1), exact for every tenant and
 * touched by no other tenant's traffic.  stamp is now / width of the step
 * a bucket counts; a bucket of an older step is zeroed when reused.
 */
#define PGOV_RECENT_BUCKETS 16

typedef struct PgovRecentBucket
{
	int64_t		stamp;
	int32_t		admitted;
	int32_t		refused;		/* refusals and wait timeouts */
	int32_t		waits;			/* logins that waited and left the queue:
								 * admitted, timed out or gone */
} PgovRecentBucket;

typedef struct PgovRecent
{
	int64_t		admitted;
	int64_t		refused;
	int64_t		waits;
} PgovRecent;

/* One per tenant of the configuration in force (a removed tenant's entry
 * is freed at once: its sessions move to where the rules now place them). */
typedef struct PgovTenant
{
	bool		in_use;
	bool		configured;		/* publication's scratch: the new
								 * configuration has this tenant */
	uint32_t	incarnation;	/* bumped when the entry is reused */
	char		name[PGOV_NAME_LEN];
	int			max_connections;	/* PGOV_NO_CAP = none */
	int			reserved_connections;	/* in force (maybe scaled down) */
	int			max_waiting;
	int64_t		wait_timeout_ms;
	int			weight;			/* fair share of the shared seats */
	int			drain;			/* PgovDrain */
	int64_t		drain_grace_ms;
	int			refusal;		/* PgovRefusal: its refusals' SQLSTATE */
	PgovNodeNumbers by_role[PGOV_NROLES];	/* this node's numbers in each
											 * role (reserves fitted): the
											 * ones above follow the role */

	int			connected;
	int			waiting;
	int			wait_head;		/* oldest waiter's slot, -1 = none */
	int			wait_tail;
	int			wq_prev;		/* the tenants with waiters, in the order */
	int			wq_next;		/* their queues began; -1 = none */
	int			peak_connected;
	int64_t		peak_at;
	int64_t		admitted;
	int64_t		rejected;
	int64_t		would_reject;
	int64_t		waited;			/* logins admitted after a wait */
	int64_t		wait_timeouts;
	double		wait_ms_total;	/* over the logins admitted after a wait */
	double		wait_ms_max;
	int64_t		stats_reset;
	int64_t		above_cap_since;	/* connected > cap since then; 0 = not.
									 * Noted at every change of either */
	int			ac_prev;		/* the tenants above their cap (listed */
	int			ac_next;		/* while above_cap_since != 0); -1 = none */
	int64_t		drained;		/* idle sessions ended above the cap */
	PgovPace	pace;			/* its run of refusals (policy.h) */
	int64_t		paced;			/* refusals answered late by pacing */
	int			cluster_quota;	/* tenants.cluster_max_connections; 0 = none */
	int			cluster_granted;	/* seats etcd granted this node */
	int64_t		cluster_until;	/* when this node stops using the grant */
	int			cluster_held;	/* every node's floor and grant as etcd
								 * last said; -1 = not known */
	int			share_given;	/* pgov_seat_wakeable's scratch (lock held
								 * EXCLUSIVE, even without mark): seats */
	int			share_next;		/* handed in its simulation, next slot, */
	int			share_room;		/* and how many its cap leaves room for */
	PgovRecentBucket recent[PGOV_RECENT_BUCKETS];
} PgovTenant;

/* Server-wide totals, kept equal to what the slots and tenants say. */
typedef struct PgovSeatTotals
{
	int			ntenants;		/* high-water mark of used entries */
	int			default_tenant; /* index; -1 before any publication */
	int			connected;		/* governed sessions, all tenants */
	int			sum_held;		/* sum over tenants of max(connected,
								 * reserved) */
	int			exempt_connected;
	int			exempt_ordinary;	/* of which in max_connections slots */
	int64_t		rejected_total;
	int64_t		recent_width_us;	/* of a step of the tenants' recent[] */
	int			wq_head;		/* first tenant with waiters, -1 = none */
	int			wq_tail;
	int			ac_head;		/* first tenant above its cap, -1 = none */
	int			role;			/* PgovRole whose numbers are in force;
								 * PGOV_ROLE_UNKNOWN until a login says */
	int64_t		role_since;		/* when it was last switched */
	int			cluster_on;		/* pool_governor.etcd_endpoints is set: a
								 * tenant with a cluster quota has at most
								 * its floor and its grant on this node */
} PgovSeatTotals;

/* A backend's handle on the arrays (pointers are per process). */
typedef struct PgovBoard
{
	PgovSeatTotals *totals;
	PgovTenant *tenants;		/* [max_tenants] */
	int			max_tenants;
	PgovSlot   *slots;			/* [nslots] */
	int			nslots;
	struct PgovShareEntry *heap;	/* [max_tenants]: pgov_seat_wakeable's
									 * scratch, the fair hand-off's heap */
} PgovBoard;

/* An entry of that heap: a tenant and the share key of its next waiter. */
typedef struct PgovShareEntry
{
	PgovShareKey key;
	int			tenant;
} PgovShareEntry;

/* Are at least n backend slots free?  (PostgreSQL's HaveNFreeProcs.) */
typedef bool (*PgovFreeSlotsFn) (void *ctx, int n);

/* What a login in the hook asks of decide(). */
typedef struct PgovAsk
{
	int			tenant;			/* what the rules in force say */
	int64_t		rule_id;
	uint64_t	generation;		/* of those rules */
	int64_t		now;
	int			capacity;		/* governed seats configured */
	int			slot_limit;		/* max_connections slots a non-superuser can
								 * use; exempt sessions take from them */
	bool		monitor;		/* admit anyway, count would_reject */
	int64_t		deadline_cap;	/* no wait lasts past this */
	int			keep_free;		/* slots kept free beyond the tenants'
								 * unused reserves before anyone waits (or
								 * a refusal is held back) */
	int			pace_max_ms;	/* pool_governor.refusal_pacing; 0 = off */
	PgovFreeSlotsFn have_free_slots;
	void	   *ctx;
} PgovAsk;

typedef enum PgovSeatOutcome
{
	PGOV_SEAT_ADMITTED,
	PGOV_SEAT_QUEUED,
	PGOV_SEAT_REFUSED
} PgovSeatOutcome;

/*
 * The decision taken, with the numbers it was taken on: the refusal message
 * and the events are built from this, never recomputed.
 */
typedef struct PgovVerdict
{
	PgovSeatOutcome outcome;
	PgovDecision decision;		/* the policy's answer */
	bool		after_wait;		/* admitted or refused after queueing */
	bool		timed_out;
	bool		would_refuse;	/* monitor mode admitted a refusal */
	char		tenant[PGOV_NAME_LEN];
	int			connected;
	int			max_connections;
	int			reserved;
	int			weight;
	int			refusal;		/* PgovRefusal: the SQLSTATE to refuse with */
	int			waiting;		/* the tenant's queue */
	int			sum_held;
	int			capacity;		/* governed seats in force */
	int			waited_ms;
	int64_t		deadline;		/* QUEUED: when the wait ends */
	int			pace_ms;		/* REFUSED: hold the answer back this long */
	int			cluster_quota;	/* the tenant's, when its cap here is its
								 * floor and grant (else 0) */
} PgovVerdict;

/* What release() gave back, for the event it logs. */
typedef struct PgovReleased
{
	PgovSlotState state;		/* what the slot held */
	char		tenant[PGOV_NAME_LEN];
	PgovWho		who;
} PgovReleased;

extern void pgov_board_init(PgovBoard *b);
extern int	pgov_capacity_in_force(const PgovBoard *b, int capacity,
								   int slot_limit);
extern int	pgov_reserved_unused(const PgovBoard *b);
extern int	pgov_find_tenant_entry(const PgovBoard *b, const char *name);

extern int	pgov_seat_claim(PgovBoard *b, int slotno, int pid,
							const PgovWho *who, int64_t now);
extern void pgov_seat_exempt(PgovBoard *b, int slotno, bool ordinary,
							 int64_t now);
extern void pgov_seat_decide(PgovBoard *b, int slotno, const PgovAsk *ask,
							 PgovVerdict *v);
extern bool pgov_seat_release(PgovBoard *b, int slotno, int pid,
							  int64_t now, PgovReleased *out);
extern bool pgov_seat_reclassify(PgovBoard *b, int slotno, int tenant,
								 int64_t rule_id, uint64_t generation,
								 int64_t now);
extern bool pgov_seat_make_exempt(PgovBoard *b, int slotno, int64_t now);
extern bool pgov_seat_make_governed(PgovBoard *b, int slotno, int tenant,
									int64_t rule_id, uint64_t generation,
									int64_t now);
extern int	pgov_seat_strays(const PgovBoard *b, int *pids, int n,
							 int *scratch);
extern bool pgov_seat_adopt(PgovBoard *b, int slotno, int pid,
							const PgovWho *who, bool exempt, bool ordinary,
							int tenant, int64_t rule_id, uint64_t generation,
							int64_t now);


/*
 * Draining above the cap: a tenant with drain 'idle' that has been above
 * its cap for its drain_grace is due; excess is how many sessions it holds
 * above the cap.
 */
typedef struct PgovDrainDue
{
	int			tenant;			/* entry */
	uint32_t	incarnation;	/* of the entry, to count into the right one */
	int			excess;
	int			connected;
	int			max_connections;
	int64_t		above_since;
} PgovDrainDue;

extern int	pgov_seat_drain_due(const PgovBoard *b, int64_t now,
								PgovDrainDue *due, int max);
extern void pgov_seat_count_drained(PgovBoard *b, int tenant,
									uint32_t incarnation, int n);

extern void pgov_seat_note_above_cap(PgovBoard *b, int64_t now);
extern bool pgov_seat_set_role(PgovBoard *b, int role, int64_t now);
extern int	pgov_tenant_cap(const PgovBoard *b, const PgovTenant *t, int role);
extern void pgov_board_reset_stats(PgovBoard *b, int tenant, int64_t now);
extern void pgov_board_window(PgovBoard *b, int64_t window_us);
extern void pgov_tenant_recent(const PgovBoard *b, int tenant, int64_t now,
							   PgovRecent *out);

#endif							/* PGOV_SEATS_H */
