/*-------------------------------------------------------------------------
 *
 * state.h
 *		pool_governor's shared memory: the published configuration, the
 *		per-tenant counters, one slot per backend, the event ring and the
 *		history ring.  The locking protocol is described in state.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGOV_STATE_H
#define PGOV_STATE_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "storage/condition_variable.h"
#include "port/atomics.h"
#include "storage/lwlock.h"
#include "storage/proc.h"

#include "policy.h"

/* Slot.tenant values that are not tenant indexes. */
#define PGOV_TENANT_EXEMPT			(-1)	/* superuser or replication */
#define PGOV_TENANT_UNCLASSIFIED	(-2)	/* admitted before any config */

/* What a backend slot holds. */
typedef enum PgovSlotState
{
	PGOV_SLOT_FREE = 0,
	PGOV_SLOT_GOVERNED,			/* admitted and counted in its tenant */
	PGOV_SLOT_WAITING,			/* waiting for a seat in its tenant */
	PGOV_SLOT_EXEMPT			/* counted apart, never refused */
} PgovSlotState;

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
	PGOV_EV_WAIT_ABANDONED
} PgovEventKind;

#define PGOV_DETAIL_LEN 160

/*
 * The time the hook takes for a login that does not wait, as a histogram:
 * bucket i counts logins decided in under 2^i microseconds, the last one
 * the rest.  Updated with atomics, outside any lock.
 */
#define PGOV_TIMING_BUCKETS 20

/* Upper bound of pool_governor.max_tenants. */
#define PGOV_MAX_TENANTS_LIMIT 1024

/*
 * What a login presented, kept in its slot for the sessions view and for
 * classifying it later when it arrived before any configuration.
 */
typedef struct PgovWho
{
	Oid			roleid;
	bool		has_addr;		/* false for a Unix-socket connection */
	char		role_name[NAMEDATALEN];
	char		database_name[NAMEDATALEN];
	char		application_name[NAMEDATALEN];
	PgovCidr	addr;
} PgovWho;

/* One per PGPROC usable by a backend, indexed by pgprocno. */
typedef struct PgovSlot
{
	int			pid;			/* 0 when free */
	PgovSlotState state;
	int			tenant;			/* index, or PGOV_TENANT_* */
	int64		rule_id;		/* rule that placed it; 0 = default tenant */
	TimestampTz entered_at;		/* when it entered the hook */
	TimestampTz admitted_at;
	int			waited_ms;		/* time spent waiting for the seat */
	int			wait_prev;		/* tenant's waiter queue, slot indexes */
	int			wait_next;
	PgovWho		who;
} PgovSlot;

/* One per tenant, configured or retired-but-draining. */
typedef struct PgovTenant
{
	bool		in_use;
	bool		configured;		/* false: removed, still draining */
	uint32		incarnation;	/* bumped when the entry is reused */
	char		name[NAMEDATALEN];
	int			max_connections;	/* PGOV_NO_CAP = none */
	int			reserved_connections;
	int			max_waiting;
	int64		wait_timeout_ms;

	int			connected;
	int			waiting;
	int			wait_head;		/* oldest waiter's slot, -1 = none */
	int			wait_tail;
	int			peak_connected;
	TimestampTz peak_at;
	int64		admitted;
	int64		rejected;
	int64		would_reject;
	int64		waited;			/* logins admitted after a wait */
	int64		wait_timeouts;
	double		wait_ms_total;	/* over the logins admitted after a wait */
	double		wait_ms_max;
	TimestampTz stats_reset;
} PgovTenant;

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
	uint32		incarnation;	/* of the tenant entry when sampled */
	int32		connected;
	int32		active;
	int32		idle;
	int32		idle_in_transaction;
	int32		waiting;
	int32		admitted;		/* since the previous sample */
	int32		rejected;
} PgovSample;

typedef struct PgovShared
{
	LWLock	   *lock;			/* tenants, slots, the totals below */
	LWLock	   *config_lock;	/* rules, nrules; generation & tenant names
								 * are written holding both locks */
	LWLock	   *event_lock;		/* event ring */
	LWLock	   *history_lock;	/* history ring */
	ConditionVariable seat_cv;	/* broadcast whenever a seat may be free */

	/* protected by lock (and config_lock where said above) */
	uint64		generation;		/* 0 until a configuration is loaded */
	uint32		config_hash;	/* of what generation holds */
	TimestampTz loaded_at;
	int			ntenants;		/* high-water mark of used entries */
	int			sum_held;		/* sum over tenants of max(connected,
								 * reserved) */
	int			exempt_connected;
	int			unclassified;	/* admitted before any configuration */
	int64		rejected_total;
	int			worker_pid;
	PGPROC	   *worker_proc;
	bool		config_dirty;	/* a committed change awaits loading */

	/* protected by config_lock */
	int			nrules;

	/* atomics, no lock */
	pg_atomic_uint64 hook_logins;
	pg_atomic_uint64 hook_ns_total;
	pg_atomic_uint64 hook_ns_max;	/* approximate: last writer wins */
	pg_atomic_uint64 hook_hist[PGOV_TIMING_BUCKETS];

	/* protected by event_lock */
	uint64		events_written;

	/* protected by history_lock */
	uint64		ticks_written;
} PgovShared;

/* Backend-local pointers into shared memory, set at attach. */
extern PgovShared *pgov;
extern PgovTenant *pgov_tenants;	/* [pgov_max_tenants] */
extern PgovRule *pgov_rules;	/* [pgov_max_rules] */
extern PgovSlot *pgov_slots;	/* [pgov_nslots] */
extern PgovEvent *pgov_events;	/* [pgov_event_log_size] */
extern PgovSample *pgov_samples;	/* [history_size][max_tenants] */
extern TimestampTz *pgov_tick_times;	/* [history_size] */
extern int	pgov_nslots;

/* A configuration read from the tables, ready to publish. */
typedef struct PgovConfig
{
	int			ntenants;
	PgovTenantDef *tenants;
	int			nrules;
	PgovRule   *rules;			/* sorted, tenant resolved */
	char	  **rule_tenants;
	int			capacity;
	uint32		hash;			/* of all the above and the default tenant */
} PgovConfig;

/* state.c */
extern void pgov_shmem_request(void);
extern void pgov_shmem_startup(void);
extern int	pgov_capacity(void);
extern void pgov_tenant_count(PgovTenant *t, int delta, TimestampTz now);
extern void pgov_slot_fill(PgovSlot *slot, PgovSlotState state, int tenant,
						   int64 rule_id);
extern bool pgov_slot_release(int slotno, int pid, bool *was_waiting);
extern void pgov_waiter_enqueue(PgovTenant *t, int slotno);
extern void pgov_waiter_dequeue(PgovTenant *t, int slotno);
extern int	pgov_find_tenant_locked(const char *name);
extern uint64 pgov_publish(const PgovConfig *cfg, const char *default_tenant);
extern void pgov_event_add(PgovEventKind kind, const char *tenant,
						   const PgovWho *who, const char *fmt,...)
			pg_attribute_printf(4, 5);
extern const char *pgov_event_kind_name(PgovEventKind kind);
extern const char *pgov_slot_state_name(PgovSlotState state);
extern void pgov_wake_worker(void);
extern void pgov_timing_record(uint64 ns);
extern void pgov_timing_reset(void);

#endif							/* PGOV_STATE_H */
