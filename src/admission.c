/*-------------------------------------------------------------------------
 *
 * admission.c
 *		The authentication hook: classify a new connection into a tenant,
 *		then admit it, make it wait for a seat, or refuse it.
 *
 * The hook runs inside InitPostgres, in the start-up transaction, after a
 * successful authentication and before PostgreSQL's own role, reserved-slot
 * and database limits are checked.  Only shared catalogs can be read here,
 * which is all that classification needs (pg_authid, pg_auth_members).
 *
 * The exit callback that gives the seat back is registered before any
 * counter moves, so a backend that dies of a later FATAL (a role's or a
 * database's CONNECTION LIMIT, a missing database, another extension,
 * pg_terminate_backend) still returns its seat.  It is a before_shmem_exit
 * callback registered after InitPostgres's own ShutdownPostgres, so it runs
 * first, while shared memory is intact; it touches nothing else.
 *
 * The work done holding pool_governor's exclusive lock is O(1): the rules
 * are matched beforehand under the shared config lock.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include "libpq/auth.h"
#include "libpq/libpq.h"
#include "libpq/libpq-be.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "pgstat.h"
#include "postmaster/postmaster.h"
#include "replication/walsender.h"
#include "storage/ipc.h"
#include "utils/acl.h"
#include "utils/timestamp.h"

#include "pool_governor.h"

/* Free backend slots kept beyond superuser_reserved_connections before
 * anyone may wait: waiters hold a slot each. */
#define PGOV_WAIT_SLOT_MARGIN	2

/* How often a waiter looks whether its client is still there. */
#define PGOV_CLIENT_CHECK_MS	250

/* What a refusal message reports, copied under the lock. */
typedef struct PgovRefusal
{
	PgovDecision decision;
	char		tenant[NAMEDATALEN];
	int			connected;
	int			max_connections;
	int			reserved;
	int			sum_held;
	int			capacity;
	int			waited_ms;
	bool		timed_out;
} PgovRefusal;

static ClientAuthentication_hook_type prev_ClientAuthentication_hook = NULL;

/* This backend's slot, -1 while it holds none. */
static int	my_slot = -1;
static bool exit_callback_registered = false;

/*
 * Membership through the group's OID resolved at load: PostgreSQL caches the
 * login role's whole membership list on the first call, so any number of
 * +group rules costs one catalog walk per login, not one lookup per rule.
 */
static bool
is_member_cb(void *ctx, const char *group, uint32 group_oid)
{
	Oid			roleid = *(const Oid *) ctx;

	return OidIsValid(roleid) && OidIsValid(group_oid) &&
		is_member_of_role_nosuper(roleid, (Oid) group_oid);
}

/*
 * The tenant index for a login, or PGOV_TENANT_UNCLASSIFIED while no
 * configuration (or no default tenant) is published.  Caller holds
 * config_lock, at least SHARED.
 */
int
pgov_classify_who(const PgovWho *who, int64 *rule_id)
{
	PgovLogin	login;
	int			r;

	*rule_id = 0;
	if (pgov->generation == 0)
		return PGOV_TENANT_UNCLASSIFIED;

	login.role_name = who->role_name;
	login.database_name = who->database_name;
	login.application_name = who->application_name;
	login.addr = who->has_addr ? &who->addr : NULL;

	r = pgov_classify(pgov_rules, pgov->nrules, &login, is_member_cb,
					  (void *) &who->roleid);
	if (r >= 0)
	{
		*rule_id = pgov_rules[r].id;
		return pgov_rules[r].tenant;
	}
	r = pgov_find_tenant_locked(pgov_default_tenant);
	return r >= 0 ? r : PGOV_TENANT_UNCLASSIFIED;
}

static void
who_from_port(Port *port, PgovWho *who)
{
	const struct sockaddr_storage *ss = &port->raddr.addr;

	memset(who, 0, sizeof(*who));
	who->roleid = get_role_oid(port->user_name, true);
	strlcpy(who->role_name, port->user_name ? port->user_name : "", NAMEDATALEN);
	strlcpy(who->database_name, port->database_name ? port->database_name : "",
			NAMEDATALEN);
	strlcpy(who->application_name,
			port->application_name ? port->application_name : "", NAMEDATALEN);

	if (ss->ss_family == AF_INET)
	{
		const struct sockaddr_in *sin = (const struct sockaddr_in *) ss;

		who->has_addr = true;
		who->addr.family = 4;
		who->addr.bits = 32;
		memcpy(who->addr.addr, &sin->sin_addr, 4);
	}
	else if (ss->ss_family == AF_INET6)
	{
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) ss;

		who->has_addr = true;
		who->addr.family = 6;
		who->addr.bits = 128;
		memcpy(who->addr.addr, &sin6->sin6_addr, 16);
	}
}

/*
 * Gives back whatever this backend holds, on any exit.  Cancels a
 * condition-variable sleep first: the exit may interrupt a wait.
 */
static void
pgov_exit_callback(int code, Datum arg)
{
	bool		released;
	bool		was_waiting;
	PgovWho		who = {0};
	char		tenant[NAMEDATALEN] = "";

	if (my_slot < 0 || pgov == NULL)
		return;
	ConditionVariableCancelSleep();

	LWLockAcquire(pgov->lock, LW_EXCLUSIVE);
	if (pgov_slots[my_slot].state == PGOV_SLOT_WAITING)
	{
		/* only an abandoned wait is logged: copy what the event needs */
		who = pgov_slots[my_slot].who;
		strlcpy(tenant, pgov_tenants[pgov_slots[my_slot].tenant].name, NAMEDATALEN);
	}
	released = pgov_slot_release(my_slot, MyProcPid, &was_waiting);
	LWLockRelease(pgov->lock);
	my_slot = -1;

	if (!released)
		return;
	/* a seat or a queue place is free: the next waiter re-checks */
	ConditionVariableBroadcast(&pgov->seat_cv);
	if (was_waiting)
		pgov_event_add(PGOV_EV_WAIT_ABANDONED, tenant, &who,
					   "login left while waiting for a seat");
}

/*
 * Takes this backend's slot.  A slot still marked with another pid belongs
 * to a backend that exited without its callback; its counts are returned
 * here, so the slot can never leak a seat.  Caller holds lock EXCLUSIVE.
 * Returns the pid reclaimed, or 0.
 */
static int
claim_slot(const PgovWho *who, TimestampTz entered)
{
	PgovSlot   *s = &pgov_slots[my_slot];
	int			stale = 0;

	if (s->pid != 0 && s->pid != MyProcPid)
	{
		stale = s->pid;
		pgov_slot_release(my_slot, stale, NULL);
	}
	s->pid = MyProcPid;
	s->entered_at = entered;
	s->waited_ms = 0;
	s->who = *who;
	return stale;
}

static void
report_reclaimed(int stale)
{
	if (stale)
		pgov_event_add(PGOV_EV_SLOT_RECLAIMED, NULL, NULL,
					   "slot of process %d, which exited without returning it, reclaimed at login",
					   stale);
}

/* Records how long the hook took for a login that did not wait. */
static void
timing_done(instr_time start)
{
	instr_time	now;

	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, start);
	pgov_timing_record((uint64) (INSTR_TIME_GET_DOUBLE(now) * 1e9));
}

/* Seat taken: counts and slot.  Caller holds lock EXCLUSIVE. */
static void
seat_take(PgovTenant *t, int tenant, int64 rule_id, TimestampTz now)
{
	PgovSlot   *s = &pgov_slots[my_slot];

	pgov_slot_fill(s, PGOV_SLOT_GOVERNED, tenant, rule_id);
	s->admitted_at = now;
	pgov_tenant_count(t, 1, now);
	t->admitted++;
}

/* "cap 40" or "no cap", for messages (a static buffer: one at a time). */
static const char *
cap_text(int max_connections)
{
	static char buf[32];

	if (max_connections == PGOV_NO_CAP)
		return "no cap";
	snprintf(buf, sizeof(buf), "cap %d", max_connections);
	return buf;
}

static void
refuse(const PgovRefusal *r)
{
	const char *cap = cap_text(r->max_connections);

	if (r->decision == PGOV_REFUSE_CAP)
		ereport(FATAL,
				(errcode(ERRCODE_TOO_MANY_CONNECTIONS),
				 errmsg("too many connections for tenant \"%s\"", r->tenant),
				 r->timed_out ?
				 errdetail("Tenant \"%s\" holds %d of its %d connections (%d reserved); the login waited %d ms for a seat.",
						   r->tenant, r->connected, r->max_connections,
						   r->reserved, r->waited_ms) :
				 errdetail("Tenant \"%s\" holds %d of its %d connections (%d reserved).",
						   r->tenant, r->connected, r->max_connections,
						   r->reserved),
				 errhint("Close idle connections of this application, or raise max_connections of tenant \"%s\" in pool_governor.tenants.",
						 r->tenant)));
	else
		ereport(FATAL,
				(errcode(ERRCODE_TOO_MANY_CONNECTIONS),
				 errmsg("no free connection seat for tenant \"%s\"", r->tenant),
				 r->timed_out ?
				 errdetail("Tenant \"%s\" holds %d connections (%s, %d reserved) and all %d governed seats are held or reserved; the login waited %d ms for a seat.",
						   r->tenant, r->connected, cap, r->reserved,
						   r->capacity, r->waited_ms) :
				 errdetail("Tenant \"%s\" holds %d connections (%s, %d reserved) and all %d governed seats are held or reserved.",
						   r->tenant, r->connected, cap, r->reserved,
						   r->capacity),
				 errhint("Raise reserved_connections of tenant \"%s\" to guarantee it seats, lower other tenants' max_connections, or raise pool_governor.capacity.",
						 r->tenant)));
}

/* When a wait must end: the tenant's timeout, kept below the server's
 * authentication_timeout so the refusal is ours and says why. */
static TimestampTz
wait_deadline(const PgovTenant *t, TimestampTz entered)
{
	TimestampTz by_tenant = TimestampTzPlusMilliseconds(entered, t->wait_timeout_ms);
	TimestampTz by_auth = TimestampTzPlusMilliseconds(MyStartTimestamp,
													  (int64) AuthenticationTimeout * 1000 - 1000);

	return Min(by_tenant, by_auth);
}

static int
ms_between(TimestampTz from, TimestampTz to)
{
	return (int) Max((to - from) / 1000, 0);
}

/*
 * Classifies and admits this login, making it wait for a seat when its
 * tenant allows.  Returns when admitted; refuses with FATAL otherwise.
 */
static void
admit(const PgovWho *who, TimestampTz entered, instr_time start)
{
	bool		queued = false;
	bool		ever_queued = false;
	bool		claimed = false;
	int			stale = 0;
	TimestampTz deadline = 0;
	PgovRefusal refusal;
	char		tname[NAMEDATALEN];

	for (;;)
	{
		uint64		gen;
		int			tenant;
		int64		rule_id;
		PgovTenant *t;
		PgovDecision decision;
		TimestampTz now;
		bool		room_to_wait;
		int			capacity = pgov_capacity();
		PgovEventKind event;

		LWLockAcquire(pgov->config_lock, LW_SHARED);
		gen = pgov->generation;
		tenant = pgov_classify_who(who, &rule_id);
		LWLockRelease(pgov->config_lock);

		now = GetCurrentTimestamp();

		LWLockAcquire(pgov->lock, LW_EXCLUSIVE);
		if (pgov->generation != gen)
		{
			/* a new configuration: leave the queue, classify again */
			if (queued)
			{
				pgov_waiter_dequeue(&pgov_tenants[pgov_slots[my_slot].tenant],
									my_slot);
				pgov_slots[my_slot].state = PGOV_SLOT_FREE;
				queued = false;
			}
			LWLockRelease(pgov->lock);
			continue;
		}
		if (!claimed)
		{
			stale = claim_slot(who, entered);
			claimed = true;
		}

		if (tenant < 0)
		{
			/* no configuration yet: admit, classify when one is loaded */
			pgov_slot_fill(&pgov_slots[my_slot], PGOV_SLOT_GOVERNED, tenant, 0);
			pgov_slots[my_slot].admitted_at = now;
			pgov->unclassified++;
			LWLockRelease(pgov->lock);
			if (!ever_queued)
				timing_done(start);
			break;
		}

		t = &pgov_tenants[tenant];
		strlcpy(tname, t->name, NAMEDATALEN);
		decision = pgov_decide(t->connected, t->max_connections,
							   t->reserved_connections, pgov->sum_held, capacity);
		/* first come, first served: only the oldest waiter may take a seat */
		if (decision == PGOV_ADMIT &&
			(queued ? t->wait_head != my_slot : t->waiting > 0))
			decision = PGOV_REFUSE_CAP;

		if (decision == PGOV_ADMIT || pgov_mode == PGOV_MODE_MONITOR)
		{
			PgovSlot   *s = &pgov_slots[my_slot];
			bool		would = decision != PGOV_ADMIT;
			int			connected = t->connected;
			int			waited_ms = 0;

			if (queued)
			{
				pgov_waiter_dequeue(t, my_slot);
				waited_ms = s->waited_ms = ms_between(entered, now);
				t->waited++;
				t->wait_ms_total += waited_ms;
				t->wait_ms_max = Max(t->wait_ms_max, waited_ms);
			}
			seat_take(t, tenant, rule_id, now);
			if (would)
				t->would_reject++;
			LWLockRelease(pgov->lock);

			if (queued)
			{
				/* the next waiter may fit too */
				ConditionVariableCancelSleep();
				ConditionVariableBroadcast(&pgov->seat_cv);
				pgov_event_add(PGOV_EV_ADMITTED_AFTER_WAIT, tname, who,
							   "admitted after waiting %d ms", waited_ms);
			}
			if (would)
				pgov_event_add(PGOV_EV_WOULD_REFUSE, tname, who,
							   "monitor mode: would refuse (%s), %d connected",
							   decision == PGOV_REFUSE_CAP ? "tenant at its cap" :
							   "no shared seat free", connected);
			if (!ever_queued)
				timing_done(start);
			break;
		}

		/*
		 * Only a login about to wait asks how many backend slots are free:
		 * a short walk under ProcStructLock, a spinlock, which may be taken
		 * while holding an LWLock.  Admissions never pay for it.
		 */
		room_to_wait = !queued && t->wait_timeout_ms > 0 &&
			t->waiting < t->max_waiting &&
			HaveNFreeProcs(ReservedBackends + PGOV_WAIT_SLOT_MARGIN);
		if (room_to_wait)
		{
			deadline = wait_deadline(t, entered);
			if (now < deadline)
			{
				PgovSlot   *s = &pgov_slots[my_slot];

				pgov_slot_fill(s, PGOV_SLOT_WAITING, tenant, rule_id);
				pgov_waiter_enqueue(t, my_slot);
				queued = ever_queued = true;
			}
		}

		if (!queued || now >= deadline)
		{
			/* refused, at once or after waiting */
			event = queued ? PGOV_EV_WAIT_TIMEOUT : PGOV_EV_REFUSED;
			if (queued)
			{
				pgov_waiter_dequeue(t, my_slot);
				pgov_slots[my_slot].state = PGOV_SLOT_FREE;
				t->wait_timeouts++;
			}
			t->rejected++;
			pgov->rejected_total++;

			refusal.decision = pgov_decide(t->connected, t->max_connections,
										   t->reserved_connections,
										   pgov->sum_held, capacity);
			if (refusal.decision == PGOV_ADMIT)
				refusal.decision = PGOV_REFUSE_CAP;	/* lost to older waiters */
			strlcpy(refusal.tenant, t->name, NAMEDATALEN);
			refusal.connected = t->connected;
			refusal.max_connections = t->max_connections;
			refusal.reserved = t->reserved_connections;
			refusal.sum_held = pgov->sum_held;
			refusal.capacity = capacity;
			refusal.timed_out = queued;
			refusal.waited_ms = ms_between(entered, now);
			pgov_slots[my_slot].pid = 0;
			pgov_slots[my_slot].state = PGOV_SLOT_FREE;
			LWLockRelease(pgov->lock);
			my_slot = -1;
			if (queued)
				ConditionVariableBroadcast(&pgov->seat_cv);

			if (!ever_queued)
				timing_done(start);
			pgov_event_add(event, refusal.tenant, who,
						   "%d connected, %s, %d reserved, %d of %d seats held%s",
						   refusal.connected, cap_text(refusal.max_connections),
						   refusal.reserved, refusal.sum_held, refusal.capacity,
						   queued ? ", wait timed out" : "");
			refuse(&refusal);
		}
		LWLockRelease(pgov->lock);

		/*
		 * Sleep until a seat is released or the deadline comes.  Waking up is
		 * driven by the release broadcast; the short slice only lets us notice
		 * a client that went away (nobody reads its socket meanwhile).
		 */
		(void) ConditionVariableTimedSleep(&pgov->seat_cv,
										   Min(PGOV_CLIENT_CHECK_MS,
											   Max(ms_between(GetCurrentTimestamp(), deadline), 1)),
										   PG_WAIT_EXTENSION);
		if (!pq_check_connection())
			ereport(FATAL,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("client went away while waiting for a seat in tenant \"%s\"",
							tname)));
	}
	ConditionVariableCancelSleep();
	report_reclaimed(stale);
}

static void
pgov_client_authentication(Port *port, int status)
{
	PgovWho		who;
	TimestampTz entered;
	bool		exempt;
	instr_time	start;

	if (prev_ClientAuthentication_hook)
		prev_ClientAuthentication_hook(port, status);

	/* only successful authentications take a seat */
	if (status != STATUS_OK || pgov == NULL || pgov_mode == PGOV_MODE_OFF)
		return;
	if (MyProc == NULL || MyProc->pgprocno < 0 || MyProc->pgprocno >= pgov_nslots)
		return;

	INSTR_TIME_SET_CURRENT(start);
	entered = GetCurrentTimestamp();
	who_from_port(port, &who);
	exempt = am_walsender ||
		(pgov_exempt_superusers && OidIsValid(who.roleid) &&
		 superuser_arg(who.roleid));

	/* before any counter moves: the seat must come back on every exit */
	if (!exit_callback_registered)
	{
		before_shmem_exit(pgov_exit_callback, (Datum) 0);
		exit_callback_registered = true;
	}
	my_slot = MyProc->pgprocno;

	if (exempt)
	{
		int			stale;

		LWLockAcquire(pgov->lock, LW_EXCLUSIVE);
		stale = claim_slot(&who, entered);
		pgov_slot_fill(&pgov_slots[my_slot], PGOV_SLOT_EXEMPT,
					   PGOV_TENANT_EXEMPT, 0);
		pgov_slots[my_slot].admitted_at = entered;
		pgov->exempt_connected++;
		LWLockRelease(pgov->lock);
		timing_done(start);
		report_reclaimed(stale);
		return;
	}
	admit(&who, entered, start);
}

void
pgov_install_auth_hook(void)
{
	prev_ClientAuthentication_hook = ClientAuthentication_hook;
	ClientAuthentication_hook = pgov_client_authentication;
}
