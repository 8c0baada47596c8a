/*-------------------------------------------------------------------------
 *
 * admission.c
 *		The authentication hook: who the login is (identity.c), where the
 *		rules place it (rules.c), then let the board admit it, queue it or
 *		refuse it (board.c).
 *
 * The hook runs inside InitPostgres, in the start-up transaction, after a
 * successful authentication and before PostgreSQL's own role, reserved-slot
 * and database limits are checked.  Only shared catalogs can be read here,
 * which is all classification needs (pg_authid, pg_auth_members), and only
 * outside pool_governor's locks.
 *
 * The exit callback that gives the seat back is registered before any
 * counter moves, so a backend that dies of a later FATAL (a role's or a
 * database's CONNECTION LIMIT, a missing database, another extension,
 * pg_terminate_backend) still returns its seat.  It is a before_shmem_exit
 * callback registered after InitPostgres's own ShutdownPostgres, so it runs
 * first, while shared memory is intact; it touches nothing else.  It is
 * registered even while pool_governor.mode = off, so that a session the
 * worker adopts later also gives its seat back at once.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "libpq/auth.h"
#include "libpq/libpq.h"
#include "libpq/libpq-be.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "pgstat.h"
#include "postmaster/postmaster.h"
#include "replication/walsender.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/timestamp.h"

#include "admission.h"
#include "board.h"
#include "compat.h"
#include "control.h"
#include "identity.h"
#include "loginstats.h"
#include "rules.h"
#include "settings.h"

/* How often a waiter also asks whether its client is still there (its
 * socket wakes it when the client closes: this is a second line). */
#define PGOV_CLIENT_CHECK_MS	5000

static ClientAuthentication_hook_type prev_ClientAuthentication_hook = NULL;

/* This backend's slot, -1 while it holds none. */
static int	my_slot = -1;
static bool exit_callback_registered = false;

/* Gives back whatever this backend holds, on any exit.  Cancels a
 * condition-variable sleep first: the exit may interrupt a wait. */
static void
pgov_exit_callback(int code, Datum arg)
{
	if (my_slot < 0 || !pgov_attached())
		return;
	ConditionVariableCancelSleep();
	pgov_login_release(my_slot, MyProcPid);
	my_slot = -1;
}

/* Records how long the hook took for a login that did not wait. */
static void
timing_done(instr_time start)
{
	instr_time	now;

	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, start);
	pgov_timing_record((uint64) (INSTR_TIME_GET_DOUBLE(now) * 1e9));
	pgov_setup_record(GetCurrentTimestamp() - MyStartTimestamp);
}

/* The refusal, from the decision that was taken and its numbers. */
static void
refuse(const PgovVerdict *v)
{
	char		capbuf[32];
	const char *cap = pgov_cap_text(v->max_connections, capbuf, sizeof(capbuf));
	char		waited[64] = "";
	/* the tenant's refusal_sqlstate: what the client in front acts on */
	int			code = v->refusal == PGOV_REFUSAL_CANNOT_CONNECT ?
		ERRCODE_CANNOT_CONNECT_NOW : ERRCODE_TOO_MANY_CONNECTIONS;

	if (v->after_wait)
		snprintf(waited, sizeof(waited), "; the login waited %d ms for a seat",
				 v->waited_ms);

	switch (v->decision)
	{
		case PGOV_ADMIT:
			/* a seat was free, but the login's wait had ended: it ran too
			 * late (a stopped or starved process) to take it in time */
			ereport(FATAL,
					(errcode(code),
					 errmsg("wait for a connection seat in tenant \"%s\" timed out", v->tenant),
					 errdetail("Tenant \"%s\" holds %d connections (%s, %d reserved)%s, longer than its wait_timeout.",
							   v->tenant, v->connected, cap, v->reserved, waited),
					 errhint("Connect again; raise wait_timeout of tenant \"%s\" in pool_governor.tenants if logins often wait this long.",
							 v->tenant)));
			break;
		case PGOV_REFUSE_CAP:
			if (v->cluster_quota > 0)
				ereport(FATAL,
						(errcode(code),
						 errmsg("too many connections for tenant \"%s\"", v->tenant),
						 errdetail("Tenant \"%s\" holds %d of the %d connections its cluster quota of %d leaves this node now (%d reserved)%s.",
								   v->tenant, v->connected, v->max_connections,
								   v->cluster_quota, v->reserved, waited),
						 errhint("The other nodes hold the rest of the quota; see pool_governor.cluster_status.  Raise cluster_max_connections of tenant \"%s\", or this node's cluster_floor in pool_governor.node_limits.",
								 v->tenant)));
			ereport(FATAL,
					(errcode(code),
					 errmsg("too many connections for tenant \"%s\"", v->tenant),
					 errdetail("Tenant \"%s\" holds %d of its %d connections (%d reserved)%s.",
							   v->tenant, v->connected, v->max_connections,
							   v->reserved, waited),
					 errhint("Close idle connections of this application, or raise max_connections of tenant \"%s\" in pool_governor.tenants.",
							 v->tenant)));
			break;
		case PGOV_REFUSE_QUEUE:
			ereport(FATAL,
					(errcode(code),
					 errmsg("earlier logins are waiting for a connection seat in tenant \"%s\"",
							v->tenant),
					 errdetail("Tenant \"%s\" holds %d connections (%s, %d reserved) and %d earlier logins wait for the next free seat%s.",
							   v->tenant, v->connected, cap, v->reserved,
							   v->waiting, waited),
					 errhint("Raise max_waiting or wait_timeout of tenant \"%s\" in pool_governor.tenants to let more logins wait, or raise its max_connections.",
							 v->tenant)));
			break;
		case PGOV_REFUSE_SHARE:
			ereport(FATAL,
					(errcode(code),
					 errmsg("the free connection seats go to other tenants' waiting logins first"),
					 errdetail("Tenant \"%s\" holds %d connections (%s, %d reserved, weight %d); the %d free shared seats go to waiting logins of tenants holding fewer shared seats per weight%s.",
							   v->tenant, v->connected, cap, v->reserved,
							   v->weight, v->capacity - v->sum_held, waited),
					 errhint("Raise max_waiting or wait_timeout of tenant \"%s\" in pool_governor.tenants to let its logins wait their turn, raise its weight, or raise its reserved_connections.",
							 v->tenant)));
			break;
		default:
			ereport(FATAL,
					(errcode(code),
					 errmsg("no free connection seat for tenant \"%s\"", v->tenant),
					 errdetail("Tenant \"%s\" holds %d connections (%s, %d reserved) and all %d governed seats are held or reserved%s.",
							   v->tenant, v->connected, cap, v->reserved,
							   v->capacity, waited),
					 errhint("Raise reserved_connections of tenant \"%s\" to guarantee it seats, lower other tenants' max_connections, or raise pool_governor.capacity.",
							 v->tenant)));
	}
}

/*
 * Sleeps on this backend's latch until it is woken (a seat it can take, or
 * new rules: true) or its wait ends (false).  The governor wakes only the
 * head of a queue that can be admitted, so a released seat does not wake
 * every waiter, and a waiter does not poll: its client's socket wakes it if
 * the client goes away (nobody reads that socket meanwhile).
 */
static bool
sleep_for_seat(Port *port, const PgovVerdict *v)
{
	for (;;)
	{
		long		left = (long) ((v->deadline - GetCurrentTimestamp()) / 1000);
		int			rc;

		if (left <= 0)
			return false;
		rc = WaitLatchOrSocket(MyLatch,
							   WL_LATCH_SET | WL_TIMEOUT | WL_SOCKET_CLOSED |
							   WL_EXIT_ON_PM_DEATH,
							   port->sock, Max(Min(left, PGOV_CLIENT_CHECK_MS), 1),
							   pgov_seat_wait_event());
		CHECK_FOR_INTERRUPTS();
		if ((rc & WL_SOCKET_CLOSED) || !pq_check_connection())
			ereport(FATAL,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("client went away while waiting for a seat in tenant \"%s\"",
							v->tenant)));
		if (rc & WL_LATCH_SET)
			return true;
	}
}

/*
 * Holds a refusal's answer back (pacing, policy.h), so that a client that
 * reconnects as soon as it is refused tries again later, not at once.  The
 * backend holds no seat and no lock meanwhile, only its slot.  A client
 * that goes away ends the hold; interrupts end it as they end a wait.
 */
static void
hold_refusal(Port *port, int pace_ms)
{
	TimestampTz until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													pace_ms);

	for (;;)
	{
		long		left = (long) ((until - GetCurrentTimestamp()) / 1000);
		int			rc;

		if (left <= 0)
			return;
		rc = WaitLatchOrSocket(MyLatch,
							   WL_LATCH_SET | WL_TIMEOUT | WL_SOCKET_CLOSED |
							   WL_EXIT_ON_PM_DEATH,
							   port->sock, left, pgov_seat_wait_event());
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (rc & WL_SOCKET_CLOSED)
			return;
	}
}

/*
 * Classifies and decides this login until it is admitted (returns) or
 * refused (FATAL), sleeping while it waits for a seat.  A new configuration
 * during a wait sends it back to classification.
 */
static void
admit(Port *port, const PgovWho *who, instr_time start, TimestampTz entered)
{
	PgovGroups	groups = {0};
	bool		waited = false;
	bool		woken = false;
	TimestampTz deadline_cap = TimestampTzPlusMilliseconds(MyStartTimestamp,
														   (int64) AuthenticationTimeout * 1000 - 1000);

	for (;;)
	{
		PgovPlace	place;
		PgovVerdict v;

		/* before deciding: a wake-up that comes after the decision stays */
		ResetLatch(MyLatch);
		/* memberships are read (outside any lock) only for a +group rule */
		pgov_rules_place(who, &groups, &place);
		/* the first decision claims the slot (entered), in the same lock */
		if (!pgov_login_decide(my_slot, who, &place, entered, deadline_cap, &v))
		{
			entered = 0;
			continue;			/* the rules changed meanwhile */
		}
		entered = 0;
		if (woken)
			pgov_count_wakeup(v.outcome == PGOV_SEAT_ADMITTED);

		if (v.outcome == PGOV_SEAT_ADMITTED)
		{
			if (!waited)
				timing_done(start);
			return;
		}
		if (v.outcome == PGOV_SEAT_REFUSED)
		{
			if (!waited)
				timing_done(start);
			if (v.pace_ms > 0)
				hold_refusal(port, v.pace_ms);
			refuse(&v);
		}

		/* queued; at its floor and grant here, the worker asks etcd for
		 * more at once (a grant wakes the login as a freed seat would) */
		if (v.cluster_quota > 0 && !waited)
			pgov_nudge_worker();
		waited = true;
		woken = sleep_for_seat(port, &v);
	}
}

static void
pgov_client_authentication(Port *port, int status)
{
	PgovWho		who;
	bool		exempt;
	instr_time	start;

	if (prev_ClientAuthentication_hook)
		prev_ClientAuthentication_hook(port, status);

	/* only successful authentications take a seat */
	if (status != STATUS_OK || !pgov_attached() || MyProc == NULL)
		return;
	if (PGOV_MY_PROCNO() < 0 || PGOV_MY_PROCNO() >= pgov_board_nslots())
		return;

	/* before any counter moves: the seat must come back on every exit */
	if (!exit_callback_registered)
	{
		before_shmem_exit(pgov_exit_callback, (Datum) 0);
		exit_callback_registered = true;
	}
	my_slot = PGOV_MY_PROCNO();
	if (pgov_mode == PGOV_MODE_OFF)
		return;

	INSTR_TIME_SET_CURRENT(start);
	pgov_who_from_port(port, &who);
	exempt = pgov_who_is_exempt(&who, am_walsender);

	if (exempt)
	{
		pgov_login_exempt(my_slot, &who, GetCurrentTimestamp(), !am_walsender);
		timing_done(start);
	}
	else
		admit(port, &who, start, GetCurrentTimestamp());
	ConditionVariableCancelSleep();
}

void
pgov_install_auth_hook(void)
{
	prev_ClientAuthentication_hook = ClientAuthentication_hook;
	ClientAuthentication_hook = pgov_client_authentication;
}
