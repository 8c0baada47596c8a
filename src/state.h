/*-------------------------------------------------------------------------
 *
 * state.h
 *		pool_governor's shared memory: the published configuration, the seat
 *		board (tenants, slots, totals: seats.h), the event ring and the
 *		history ring, and the operations on them.  The locking protocol is
 *		described in state.c, the only file that changes any of it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGOV_STATE_H
#define PGOV_STATE_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "port/atomics.h"
#include "storage/condition_variable.h"
#include "storage/lwlock.h"
#include "storage/proc.h"

#include "policy.h"
#include "seats.h"

/* Event kinds shown by pool_governor.events. */
typedef enum PgovEventKind
{
	PGOV_EV_REFUSED,
	PGOV_EV_WAIT_TIMEOUT,
	PGOV_EV_ADMITTED_AFTER_WAIT,
	PGOV_EV_WOULD_REFUSE,
	PGOV_EV_CONFIG_LOADED,
	PGOV_EV_CONFIG_REFUSED,
	PGOV_EV_SLOT_RECLAIMED,
	PGOV_EV_WAIT_ABANDONED,
	PGOV_EV_ADOPTED
} PgovEventKind;

#define PGOV_DETAIL_LEN 160
#define PGOV_PROBLEM_LEN 256

/*
 * The time the hook takes for a login that does not wait, as a histogram:
 * bucket i counts logins decided in under 2^i microseconds, the last one
 * the rest.  Updated with atomics, outside any lock.
 */
#define PGOV_TIMING_BUCKETS 20

/* Upper bounds of pool_governor.max_tenants and max_rules. */
#define PGOV_MAX_TENANTS_LIMIT 100000
#define PGOV_MAX_RULES_LIMIT 100000

typedef struct PgovEvent
{
	TimestampTz time;
	PgovEventKind kind;
	char		tenant[NAMEDATALEN];
	bool		has_who;
	PgovWho		who;
	char		detail[PGOV_DETAIL_LEN];
} PgovEvent;

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

/*
 * A tenant's history: history_size samples, one per tick, in a ring of the
 * pool of history_tenants rings.  A tenant with sessions, waiters or logins
 * takes a free ring, or the ring of the tenant idle the longest; it keeps
 * it while it has traffic.  Written by the worker alone (history_lock).
 */
typedef struct PgovHistoryRing
{
	int			tenant;			/* entry, -1 = free */
	uint32		incarnation;	/* of the entry when the ring was taken */
	uint64		since_tick;		/* first tick sampled for this owner */
	uint64		last_traffic;	/* last tick it had traffic */
} PgovHistoryRing;

/* Why health is not ok, beyond what the tenants' counters say. */
typedef enum PgovProblemLevel
{
	PGOV_PROBLEM_NONE = 0,
	PGOV_PROBLEM_WARNING,		/* the tables were refused; last good in force */
	PGOV_PROBLEM_CRITICAL		/* what is enforced is not what was written */
} PgovProblemLevel;

/* What the worker found of pool_governor.database (pgov_db_state). */
typedef enum PgovDbState
{
	PGOV_DB_QUERY = -1,			/* only ask */
	PGOV_DB_UNKNOWN = 0,
	PGOV_DB_READY,
	PGOV_DB_MISSING
} PgovDbState;

typedef struct PgovShared
{
	LWLock	   *lock;			/* the board and everything marked "lock" */
	LWLock	   *config_lock;	/* the published rules */
	LWLock	   *event_lock;		/* event ring */
	LWLock	   *history_lock;	/* history ring */
	ConditionVariable load_cv;	/* broadcast when the worker ends a load */

	/* lock */
	PgovSeatTotals totals;
	uint64		generation;		/* written holding config_lock too */
	TimestampTz loaded_at;
	int			worker_pid;
	PGPROC	   *worker_proc;
	bool		config_dirty;	/* a committed change awaits loading */
	uint64		load_requested; /* reload() tickets handed out */
	uint64		load_done;		/* tickets the worker has served */
	bool		load_ok;		/* how the last served load went */
	char		load_problem[PGOV_PROBLEM_LEN];
	PgovProblemLevel problem_level;
	char		problem[PGOV_PROBLEM_LEN];
	PgovDbState db_state;
	int			db_misses;		/* checks that found no database, in a row */

	/* config_lock */
	int			nrules;
	int			first_group;	/* of the rules' index */

	/* atomics, no lock */
	pg_atomic_uint64 hook_logins;
	pg_atomic_uint64 hook_ns_total;
	pg_atomic_uint64 hook_ns_max;	/* approximate: last writer wins */
	pg_atomic_uint64 hook_hist[PGOV_TIMING_BUCKETS];
	pg_atomic_uint64 wakeups;	/* waiters woken for a seat or new rules */
	pg_atomic_uint64 wakeups_admitted;	/* woken, then admitted */
	pg_atomic_uint64 wakeups_requeued;	/* woken, then still waiting */
	pg_atomic_uint64 worker_ticks;	/* ticks the worker has ended */
	pg_atomic_uint64 worker_loads;	/* reads of the tables it has ended */

	/* event_lock */
	uint64		events_written;

	/* history_lock */
	uint64		ticks_written;
} PgovShared;

/* Backend-local pointers into shared memory, set at attach. */
extern PgovShared *pgov;
extern PgovBoard pgov_board;	/* tenants [max_tenants], slots [nslots] */
extern PgovRule *pgov_rules;	/* [pgov_max_rules] */
extern PgovRuleKey *pgov_rule_keys;	/* [pgov_max_rules], the rules' index */
extern PgovEvent *pgov_events;	/* [pgov_event_log_size] */
extern PgovHistoryRing *pgov_history_rings;	/* [history_tenants] */
extern PgovSample *pgov_samples;	/* [history_tenants][history_size] */
extern TimestampTz *pgov_tick_times;	/* [history_size] */

/* A configuration read from the tables (or the snapshot file). */
typedef struct PgovConfig
{
	int			ntenants;
	PgovTenantDef *tenants;
	int			nrules;
	PgovRule   *rules;			/* sorted; tenant = index in tenants */
	char		default_tenant[NAMEDATALEN];
	int			capacity;		/* what it was validated against */
} PgovConfig;

/*
 * A login role's memberships (itself included), computed outside our locks
 * when a +group rule needs them: classification under a lock never reads a
 * catalog.
 */
typedef struct PgovGroups
{
	bool		computed;
	int			n;
	Oid		   *oids;			/* sorted */
} PgovGroups;

/* Where the rules in force place a login. */
typedef struct PgovPlace
{
	int			tenant;
	int64		rule_id;
	uint64		generation;
} PgovPlace;

/* state.c */
extern void pgov_shmem_request(void);
extern void pgov_shmem_startup(void);
extern int	pgov_capacity(void);
extern int	pgov_slot_limit(void);
extern bool pgov_classify_published(const PgovWho *who, PgovGroups *groups,
									PgovPlace *place);
extern void pgov_login_exempt(int slotno, const PgovWho *who, TimestampTz now,
							  bool ordinary);
extern bool pgov_login_decide(int slotno, const PgovWho *who,
							  const PgovPlace *place, TimestampTz entered,
							  TimestampTz deadline_cap, PgovVerdict *v);
extern void pgov_login_release(int slotno, int pid);
extern void pgov_wake_waiters(void);
extern TimestampTz pgov_turn_ends(void);
extern void pgov_count_wakeup(bool admitted);
extern uint64 pgov_publish(const PgovConfig *cfg);
extern void pgov_sync_sessions(bool adopt);
extern void pgov_reconcile(void);
extern int	pgov_tenant_entries_for(const PgovConfig *cfg);
extern bool pgov_set_problem(PgovProblemLevel level, const char *problem);
extern uint64 pgov_load_begin(void);
extern void pgov_load_end(uint64 ticket, bool ok, const char *problem);
extern uint64 pgov_request_load(void);
extern bool pgov_wait_load(uint64 ticket, int timeout_ms, bool *ok,
						   char *problem, uint64 *generation);
extern int	pgov_db_state(PgovDbState note);
extern void pgov_worker_attach(void);
extern void pgov_worker_detach(void);
extern bool pgov_take_dirty(void);
extern void pgov_wake_worker(void);
extern bool pgov_reset_stats(const char *tenant);
extern void pgov_event_add(PgovEventKind kind, const char *tenant,
						   const PgovWho *who, const char *fmt,...)
			pg_attribute_printf(4, 5);
extern const char *pgov_cap_text(int max_connections, char *buf, size_t len);
extern const char *pgov_event_kind_name(PgovEventKind kind);
extern const char *pgov_slot_state_name(PgovSlotState state);
extern void pgov_timing_record(uint64 ns);
extern void pgov_timing_reset(void);
extern void pgov_worker_progress(bool tick, bool load);

#endif							/* PGOV_STATE_H */
