/*-------------------------------------------------------------------------
 *
 * views.c
 *		Set-returning functions over pool_governor's shared memory, and
 *		reset_stats() (tenant_status and health, each from one moment of
 *		the board, are status.c's).  The views in pool_governor--1.0.sql derive health and
 *		per-state counts from these raw rows.
 *
 * Each function asks the owner of a region for a copy (board.c, events.c,
 * history.c: the owner takes its lock for the copy alone) and builds its
 * tuples after, so a slow reader never holds up a login or the worker for
 * longer than a memcpy.  Nothing here touches shared memory itself.  Entry
 * points are versioned (_1_0) so a later install script can change the
 * columns without breaking a library loaded with an older one; each
 * version's column count is named (PGOV_..._COLS_V1_x).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <arpa/inet.h>

#include "access/htup_details.h"
#include "access/xlog.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "board.h"
#include "boardread.h"
#include "compat.h"
#include "control.h"
#include "events.h"
#include "history.h"
#include "loginstats.h"
#include "settings.h"
#include "views.h"

PG_FUNCTION_INFO_V1(pgov_tenants_1_0);
PG_FUNCTION_INFO_V1(pgov_share_1_4);
PG_FUNCTION_INFO_V1(pgov_node_limits_1_5);
PG_FUNCTION_INFO_V1(pgov_node_1_5);
PG_FUNCTION_INFO_V1(pgov_setup_times_1_4);
PG_FUNCTION_INFO_V1(pgov_backends_1_0);
PG_FUNCTION_INFO_V1(pgov_state_1_0);
PG_FUNCTION_INFO_V1(pgov_state_1_1);
PG_FUNCTION_INFO_V1(pgov_events_1_0);
PG_FUNCTION_INFO_V1(pgov_history_1_0);
PG_FUNCTION_INFO_V1(pgov_history_since_1_2);
PG_FUNCTION_INFO_V1(pgov_reset_stats_1_0);
PG_FUNCTION_INFO_V1(pgov_capacity_1_0);
PG_FUNCTION_INFO_V1(pgov_admission_timing_1_0);
PG_FUNCTION_INFO_V1(pgov_admission_mean_us_1_0);
PG_FUNCTION_INFO_V1(pgov_wakeups_1_2);
PG_FUNCTION_INFO_V1(pgov_recent_1_3);
PG_FUNCTION_INFO_V1(pgov_worker_1_3);
PG_FUNCTION_INFO_V1(pgov_cluster_status_1_7);

/* ERROR unless the library was preloaded; then the role in force is the
 * node's (what a view reads is in force in the role this node has now). */
void
pgov_require_loaded(void)
{
	if (!pgov_attached())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pool_governor must be loaded via shared_preload_libraries"),
				 errhint("Add pool_governor to shared_preload_libraries and restart the server.")));
	/* what is read is in force in the role this node has now */
	pgov_follow_role();
}

Datum
pgov_text_or_null(const char *s, bool *isnull)
{
	*isnull = (s == NULL);
	return s ? CStringGetTextDatum(s) : (Datum) 0;
}

static Datum
addr_text(const PgovWho *who, bool *isnull)
{
	char		buf[INET6_ADDRSTRLEN];

	*isnull = true;
	if (!who->has_addr)
		return (Datum) 0;
	if (inet_ntop(who->addr.family == 4 ? AF_INET : AF_INET6,
				  who->addr.addr, buf, sizeof(buf)) == NULL)
		return (Datum) 0;
	*isnull = false;
	return CStringGetTextDatum(buf);
}

Datum
pgov_ts_or_null(TimestampTz ts, bool *isnull)
{
	*isnull = (ts == 0);
	return TimestampTzGetDatum(ts);
}

/* A tenant's peak and cumulative counters, as raw_tenants and
 * tenant_status give them: peak_connected, peak_at, admitted, rejected,
 * would_reject, waited, wait_timeouts, from column *c on. */
void
pgov_put_counters(const PgovTenant *t, Datum *v, bool *nulls, int *c)
{
	v[(*c)++] = Int32GetDatum(t->peak_connected);
	v[*c] = pgov_ts_or_null(t->peak_at, &nulls[*c]);
	(*c)++;
	v[(*c)++] = Int64GetDatum(t->admitted);
	v[(*c)++] = Int64GetDatum(t->rejected);
	v[(*c)++] = Int64GetDatum(t->would_reject);
	v[(*c)++] = Int64GetDatum(t->waited);
	v[(*c)++] = Int64GetDatum(t->wait_timeouts);
}

/* Raw per-tenant counters and limits. */
#define PGOV_TENANTS_COLS_V1_0 18

Datum
pgov_tenants_1_0(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PgovTenant *copy;
	int			n;
	int			i;

	pgov_require_loaded();
	InitMaterializedSRF(fcinfo, 0);

	copy = palloc(sizeof(PgovTenant) * pgov_max_tenants);
	n = pgov_board_tenants(copy);
	for (i = 0; i < n; i++)
	{
		PgovTenant *t = &copy[i];
		Datum		v[PGOV_TENANTS_COLS_V1_0];
		bool		nulls[PGOV_TENANTS_COLS_V1_0] = {0};
		int			c = 0;

		if (!t->in_use)
			continue;
		v[c++] = CStringGetTextDatum(t->name);
		v[c++] = BoolGetDatum(true);	/* every entry is configured since 1.1 */
		nulls[c] = (t->max_connections == PGOV_NO_CAP);
		v[c++] = Int32GetDatum(t->max_connections);
		v[c++] = Int32GetDatum(t->reserved_connections);
		v[c++] = Int32GetDatum(t->max_waiting);
		v[c++] = Int64GetDatum(t->wait_timeout_ms);
		v[c++] = Int32GetDatum(t->connected);
		v[c++] = Int32GetDatum(t->waiting);
		pgov_put_counters(t, v, nulls, &c);
		v[c++] = Float8GetDatum(t->wait_ms_total);
		v[c++] = Float8GetDatum(t->wait_ms_max);
		v[c] = pgov_ts_or_null(t->stats_reset, &nulls[c]);
		c++;
		Assert(c == PGOV_TENANTS_COLS_V1_0);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
	pfree(copy);
	return (Datum) 0;
}

/*
 * Per tenant, its logins over the health window: admitted, refused (wait
 * timeouts included) and waits that ended, from the tenant's own counters
 * (seats.h, PgovRecent): what health is computed from.
 */
#define PGOV_RECENT_COLS_V1_3 4

Datum
pgov_recent_1_3(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PgovRecent *sums;
	char	  (*names)[NAMEDATALEN];
	int			n;
	int			i;

	pgov_require_loaded();
	InitMaterializedSRF(fcinfo, 0);

	sums = palloc(sizeof(PgovRecent) * pgov_max_tenants);
	names = palloc(NAMEDATALEN * (Size) pgov_max_tenants);
	n = pgov_board_recent(names, sums, GetCurrentTimestamp());
	for (i = 0; i < n; i++)
	{
		Datum		v[PGOV_RECENT_COLS_V1_3];
		bool		nulls[PGOV_RECENT_COLS_V1_3] = {0};

		v[0] = CStringGetTextDatum(names[i]);
		v[1] = Int64GetDatum(sums[i].admitted);
		v[2] = Int64GetDatum(sums[i].refused);
		v[3] = Int64GetDatum(sums[i].waits);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
	pfree(sums);
	pfree(names);
	return (Datum) 0;
}

/*
 * Per tenant, its fair share and drain settings in force and what the drain
 * did: (tenant, weight, drain, drain_grace_ms, drained, above_cap_since).
 */
#define PGOV_SHARE_COLS_V1_4 6

Datum
pgov_share_1_4(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PgovTenant *copy;
	int			n;
	int			i;

	pgov_require_loaded();
	InitMaterializedSRF(fcinfo, 0);

	copy = palloc(sizeof(PgovTenant) * pgov_max_tenants);
	n = pgov_board_tenants(copy);
	for (i = 0; i < n; i++)
	{
		PgovTenant *t = &copy[i];
		Datum		v[PGOV_SHARE_COLS_V1_4];
		bool		nulls[PGOV_SHARE_COLS_V1_4] = {0};
		int			c = 0;

		if (!t->in_use)
			continue;
		v[c++] = CStringGetTextDatum(t->name);
		v[c++] = Int32GetDatum(t->weight > 0 ? t->weight : 1);
		v[c++] = CStringGetTextDatum(t->drain == PGOV_DRAIN_IDLE ? "idle" : "natural");
		v[c++] = Int64GetDatum(t->drain_grace_ms);
		v[c++] = Int64GetDatum(t->drained);
		v[c] = pgov_ts_or_null(t->above_cap_since, &nulls[c]);
		c++;
		Assert(c == PGOV_SHARE_COLS_V1_4);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
	pfree(copy);
	return (Datum) 0;
}

/* Where a tenant's numbers come from, as node_limits names it. */
const char *
pgov_limits_from_text(int from, int role, const char *node_name)
{
	if (from == PGOV_FROM_NAME)
		return node_name;
	if (from == PGOV_FROM_ROLE)
		return pgov_role_name(role);
	return "tenants";
}

/*
 * Per tenant, this node's numbers in each role and where they come from:
 * (tenant, limits_from [in force], primary_max, primary_reserved,
 * primary_from, standby_max, standby_reserved, standby_from).  Reserves
 * are the ones enforced (scaled when they do not fit).
 */
#define PGOV_NODE_LIMITS_COLS_V1_5 8

Datum
pgov_node_limits_1_5(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PgovTenant *copy;
	PgovBoardState st;
	int			n;
	int			i;

	pgov_require_loaded();
	InitMaterializedSRF(fcinfo, 0);

	pgov_board_state(&st);
	copy = palloc(sizeof(PgovTenant) * pgov_max_tenants);
	n = pgov_board_tenants(copy);
	for (i = 0; i < n; i++)
	{
		PgovTenant *t = &copy[i];
		Datum		v[PGOV_NODE_LIMITS_COLS_V1_5];
		bool		nulls[PGOV_NODE_LIMITS_COLS_V1_5] = {0};
		int			in_force = pgov_numbers_role(st.role);
		int			c = 0;
		int			role;

		if (!t->in_use)
			continue;
		v[c++] = CStringGetTextDatum(t->name);
		v[c++] = CStringGetTextDatum(pgov_limits_from_text(t->by_role[in_force].from,
													  in_force, st.node_name));
		for (role = 0; role < PGOV_NROLES; role++)
		{
			const PgovNodeNumbers *nn = &t->by_role[role];

			nulls[c] = nn->max_connections == PGOV_NO_CAP;
			v[c++] = Int32GetDatum(nn->max_connections);
			v[c++] = Int32GetDatum(nn->reserved_connections);
			v[c++] = CStringGetTextDatum(pgov_limits_from_text(nn->from, role, st.node_name));
		}
		Assert(c == PGOV_NODE_LIMITS_COLS_V1_5);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
	pfree(copy);
	return (Datum) 0;
}

/*
 * The cluster quota on this node, a row per tenant with one: its quota,
 * this node's floor and grant, what that allows here now, what the whole
 * cluster holds as etcd last said, and this node's lease.  The lease and
 * etcd's columns are NULL while pool_governor.etcd_endpoints is empty.
 */
#define PGOV_CLUSTER_STATUS_COLS_V1_7 10

Datum
pgov_cluster_status_1_7(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PgovClusterTenant *copy;
	PgovClusterNode node;
	TimestampTz now;
	int			n;
	int			i;

	pgov_require_loaded();
	InitMaterializedSRF(fcinfo, 0);
	copy = palloc(sizeof(PgovClusterTenant) * pgov_max_tenants);
	n = pgov_board_cluster_tenants(copy);
	pgov_cluster_node(&node);
	now = GetCurrentTimestamp();
	for (i = 0; i < n; i++)
	{
		const PgovClusterTenant *t = &copy[i];
		Datum		v[PGOV_CLUSTER_STATUS_COLS_V1_7];
		bool		nulls[PGOV_CLUSTER_STATUS_COLS_V1_7] = {0};
		/* a grant whose time is up counts for nothing, as at a login */
		int			granted = t->granted > 0 && now >= t->until ? 0 : t->granted;
		int			allowed = t->cap;
		int			c = 0;

		if (node.on && (allowed == PGOV_NO_CAP || t->floor + granted < allowed))
			allowed = t->floor + granted;
		v[c++] = CStringGetTextDatum(t->name);
		v[c++] = Int32GetDatum(t->quota);
		v[c++] = Int32GetDatum(t->floor);
		v[c++] = Int32GetDatum(node.on ? granted : 0);
		nulls[c] = allowed == PGOV_NO_CAP;
		v[c++] = Int32GetDatum(allowed);
		nulls[c] = !node.on || t->held < 0;
		v[c++] = Int32GetDatum(t->held);
		v[c] = pgov_ts_or_null(node.on && node.lease != 0 ? node.lease_until : 0, &nulls[c]);
		c++;
		v[c] = pgov_ts_or_null(node.on ? node.last_renewal : 0, &nulls[c]);
		c++;
		nulls[c] = !node.on;
		v[c++] = BoolGetDatum(node.reachable);
		v[c] = pgov_text_or_null(node.on && node.problem[0] ? node.problem : NULL, &nulls[c]);
		c++;
		Assert(c == PGOV_CLUSTER_STATUS_COLS_V1_7);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
	pfree(copy);
	return (Datum) 0;
}

/* This node: (node_name, role, role_since, in_recovery).  role is whose
 * numbers are in force (NULL before the first login said). */
#define PGOV_NODE_COLS_V1_5 4

Datum
pgov_node_1_5(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		v[PGOV_NODE_COLS_V1_5];
	bool		nulls[PGOV_NODE_COLS_V1_5] = {0};
	PgovBoardState st;

	pgov_require_loaded();
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	pgov_board_state(&st);
	v[0] = pgov_text_or_null(st.node_name[0] ? st.node_name : NULL, &nulls[0]);
	v[1] = pgov_text_or_null(st.role == PGOV_ROLE_UNKNOWN ? NULL : pgov_role_name(st.role),
						&nulls[1]);
	v[2] = pgov_ts_or_null(st.role_since, &nulls[2]);
	v[3] = BoolGetDatum(RecoveryInProgress());
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, v, nulls)));
}

/* The worker's progress: (pid, ticks, loads). */
#define PGOV_WORKER_COLS_V1_3 3

Datum
pgov_worker_1_3(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		v[PGOV_WORKER_COLS_V1_3];
	bool		nulls[PGOV_WORKER_COLS_V1_3] = {0};
	int			pid;
	uint64		ticks;
	uint64		loads;

	pgov_require_loaded();
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	pgov_worker_counts(&pid, &ticks, &loads);
	nulls[0] = (pid == 0);
	v[0] = Int32GetDatum(pid);
	v[1] = Int64GetDatum((int64) ticks);
	v[2] = Int64GetDatum((int64) loads);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, v, nulls)));
}

/* A slot state's name in pool_governor.backends. */
static const char *
slot_state_name(PgovSlotState state)
{
	switch (state)
	{
		case PGOV_SLOT_FREE:
			return "free";
		case PGOV_SLOT_CLAIMED:
			return "starting";
		case PGOV_SLOT_GOVERNED:
			return "governed";
		case PGOV_SLOT_WAITING:
			return "waiting";
		case PGOV_SLOT_EXEMPT:
			return "exempt";
	}
	return "unknown";
}


/* One row per governed, waiting or exempt backend. */
#define PGOV_BACKENDS_COLS_V1_0 11

Datum
pgov_backends_1_0(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PgovSlot   *copy;
	char	  (*names)[NAMEDATALEN];
	TimestampTz now = GetCurrentTimestamp();
	int			n;
	int			i;

	pgov_require_loaded();
	InitMaterializedSRF(fcinfo, 0);

	copy = palloc(sizeof(PgovSlot) * pgov_board_nslots());
	names = palloc(sizeof(*names) * pgov_board_nslots());
	n = pgov_board_backends(copy, names);
	for (i = 0; i < n; i++)
	{
		PgovSlot   *s = &copy[i];
		Datum		v[PGOV_BACKENDS_COLS_V1_0];
		bool		nulls[PGOV_BACKENDS_COLS_V1_0] = {0};
		int			c = 0;

		v[c++] = Int32GetDatum(s->pid);
		v[c] = pgov_text_or_null(names[i][0] ? names[i] : NULL, &nulls[c]);
		c++;
		nulls[c] = (s->rule_id == 0);
		v[c++] = Int64GetDatum(s->rule_id);
		v[c++] = CStringGetTextDatum(s->who.role_name);
		v[c++] = CStringGetTextDatum(s->who.database_name);
		v[c++] = CStringGetTextDatum(s->who.application_name);
		v[c] = addr_text(&s->who, &nulls[c]);
		c++;
		v[c++] = CStringGetTextDatum(slot_state_name(s->state));
		v[c] = pgov_ts_or_null(s->entered_at, &nulls[c]);
		c++;
		nulls[c] = (s->state == PGOV_SLOT_WAITING);
		v[c] = TimestampTzGetDatum(s->admitted_at);
		c++;
		v[c++] = Int32GetDatum(s->state == PGOV_SLOT_WAITING ?
							   (int) ((now - s->entered_at) / 1000) :
							   s->waited_ms);
		Assert(c == PGOV_BACKENDS_COLS_V1_0);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
	pfree(copy);
	pfree(names);
	return (Datum) 0;
}

/*
 * The server-wide numbers behind pool_governor.health.  1.0 has the first
 * twelve columns; 1.1 adds the seats PostgreSQL lets non-superusers have,
 * the reserved seats nobody sits in, and why health is not ok.  capacity is
 * the governed seats in force: exempt sessions in ordinary slots take from
 * it.  unclassified is always 0 since 1.1 (every login is classified).
 */
#define PGOV_STATE_COLS_V1_0 12
#define PGOV_STATE_COLS_V1_1 16

static Datum
state_internal(FunctionCallInfo fcinfo, int natts)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum		v[PGOV_STATE_COLS_V1_1];
	bool		nulls[PGOV_STATE_COLS_V1_1] = {0};
	PgovBoardState st;
	int			c = 0;

	pgov_require_loaded();
	InitMaterializedSRF(fcinfo, 0);
	if (rsinfo->setDesc->natts != natts)
		elog(ERROR, "incorrect number of output arguments");

	pgov_board_state(&st);
	v[c++] = CStringGetTextDatum(pgov_mode_name(pgov_mode));
	v[c++] = Int32GetDatum(st.capacity);
	v[c++] = Int32GetDatum(MaxConnections);
	v[c++] = Int32GetDatum(st.sum_held);
	v[c++] = Int32GetDatum(st.exempt_connected);
	v[c++] = Int32GetDatum(0);	/* unclassified */
	v[c++] = Int64GetDatum(st.rejected);
	v[c++] = Int32GetDatum(st.tenants);
	v[c++] = Int64GetDatum((int64) st.generation);
	v[c] = pgov_ts_or_null(st.loaded_at, &nulls[c]);
	c++;
	nulls[c] = (st.worker_pid == 0);
	v[c++] = Int32GetDatum(st.worker_pid);
	v[c++] = Int32GetDatum(pgov_event_log_size);
	Assert(c == PGOV_STATE_COLS_V1_0);
	if (natts == PGOV_STATE_COLS_V1_1)
	{
		v[c++] = Int32GetDatum(pgov_slot_limit());
		v[c++] = Int32GetDatum(st.reserved_unused);
		v[c++] = CStringGetTextDatum(st.level == PGOV_PROBLEM_CRITICAL ? "critical" :
									 st.level == PGOV_PROBLEM_WARNING ? "warning" : "ok");
		v[c] = pgov_text_or_null(st.level == PGOV_PROBLEM_NONE ? NULL : st.problem, &nulls[c]);
		c++;
	}
	Assert(c == natts);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	return (Datum) 0;
}

Datum
pgov_state_1_0(PG_FUNCTION_ARGS)
{
	return state_internal(fcinfo, PGOV_STATE_COLS_V1_0);
}

Datum
pgov_state_1_1(PG_FUNCTION_ARGS)
{
	return state_internal(fcinfo, PGOV_STATE_COLS_V1_1);
}

/* The event ring, oldest first. */
#define PGOV_EVENTS_COLS_V1_0 8

Datum
pgov_events_1_0(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PgovEvent  *copy;
	int			n;
	int			k;

	pgov_require_loaded();
	InitMaterializedSRF(fcinfo, 0);
	if (pgov_event_log_size <= 0)
		return (Datum) 0;

	copy = palloc(sizeof(PgovEvent) * pgov_event_log_size);
	n = pgov_events_copy(copy);
	for (k = 0; k < n; k++)
	{
		PgovEvent  *e = &copy[k];
		Datum		v[PGOV_EVENTS_COLS_V1_0];
		bool		nulls[PGOV_EVENTS_COLS_V1_0] = {0};
		int			c = 0;

		v[c++] = TimestampTzGetDatum(e->time);
		v[c++] = CStringGetTextDatum(pgov_event_kind_name(e->kind));
		v[c] = pgov_text_or_null(e->tenant[0] ? e->tenant : NULL, &nulls[c]);
		c++;
		v[c] = pgov_text_or_null(e->has_who ? e->who.role_name : NULL, &nulls[c]);
		c++;
		v[c] = pgov_text_or_null(e->has_who ? e->who.database_name : NULL, &nulls[c]);
		c++;
		v[c] = pgov_text_or_null(e->has_who ? e->who.application_name : NULL, &nulls[c]);
		c++;
		if (e->has_who)
			v[c] = addr_text(&e->who, &nulls[c]);
		else
			nulls[c] = true;
		c++;
		v[c++] = CStringGetTextDatum(e->detail);
		Assert(c == PGOV_EVENTS_COLS_V1_0);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
	pfree(copy);
	return (Datum) 0;
}

/*
 * The history sampled after since (0: all of it), oldest tick first, one
 * row per tenant with a history ring and tick.  A ring belongs to the
 * tenant whose entry had the same incarnation when it took the ring; a
 * removed tenant's history (its entry gone or reused) is not shown.
 */
#define PGOV_HISTORY_COLS_V1_0 9

static Datum
history_rows(FunctionCallInfo fcinfo, TimestampTz since)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PgovTenantCounts *tenants;
	PgovHistoryRow *rows;
	int			ntenants;
	int			n;
	int			k;

	pgov_require_loaded();
	InitMaterializedSRF(fcinfo, 0);

	tenants = palloc(sizeof(PgovTenantCounts) * pgov_max_tenants);
	ntenants = pgov_board_counts(tenants, NULL, NULL);
	n = pgov_history_copy(since, &rows);
	for (k = 0; k < n; k++)
	{
		PgovHistoryRow *r = &rows[k];
		PgovSample *s = &r->sample;
		Datum		v[PGOV_HISTORY_COLS_V1_0];
		bool		nulls[PGOV_HISTORY_COLS_V1_0] = {0};

		if (r->tenant < 0 || r->tenant >= ntenants ||
			!tenants[r->tenant].in_use ||
			tenants[r->tenant].incarnation != r->incarnation)
			continue;
		v[0] = TimestampTzGetDatum(r->time);
		v[1] = CStringGetTextDatum(tenants[r->tenant].name);
		v[2] = Int32GetDatum(s->connected);
		v[3] = Int32GetDatum(s->active);
		v[4] = Int32GetDatum(s->idle);
		v[5] = Int32GetDatum(s->idle_in_transaction);
		v[6] = Int32GetDatum(s->waiting);
		v[7] = Int32GetDatum(s->admitted);
		v[8] = Int32GetDatum(s->rejected);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
	if (rows)
		pfree(rows);
	pfree(tenants);
	return (Datum) 0;
}

Datum
pgov_history_1_0(PG_FUNCTION_ARGS)
{
	return history_rows(fcinfo, 0);
}

/* raw_history_since(since): the samples taken after since. */
Datum
pgov_history_since_1_2(PG_FUNCTION_ARGS)
{
	return history_rows(fcinfo, PG_GETARG_TIMESTAMPTZ(0));
}

/*
 * reset_stats(tenant): zero the cumulative counters of one tenant, or of
 * all when tenant is NULL.  The peak restarts from what is connected now.
 */
Datum
pgov_reset_stats_1_0(PG_FUNCTION_ARGS)
{
	char	   *name = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));

	pgov_require_loaded();
	if (!pgov_reset_stats(name))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("tenant \"%s\" does not exist", name),
				 errhint("The tenants are listed in pool_governor.tenant_status.")));
	if (name == NULL)
		pgov_login_timing_reset();
	PG_RETURN_VOID();
}

/* The governed capacity this backend computes (for validation in SQL). */
Datum
pgov_capacity_1_0(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(pgov_capacity());
}

/*
 * The time the hook took per login that did not wait, as histogram buckets:
 * (under_us, logins), plus one row with under_us NULL for the slowest bucket.
 */
Datum
pgov_admission_timing_1_0(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	uint64		hist[PGOV_TIMING_BUCKETS];
	uint64		logins;
	uint64		ns_total;
	int			i;

	pgov_require_loaded();
	InitMaterializedSRF(fcinfo, 0);
	pgov_login_timing(hist, &logins, &ns_total);
	for (i = 0; i < PGOV_TIMING_BUCKETS; i++)
	{
		Datum		v[2];
		bool		nulls[2] = {false, false};

		nulls[0] = (i == PGOV_TIMING_BUCKETS - 1);
		v[0] = Int64GetDatum(INT64CONST(1) << i);
		v[1] = Int64GetDatum((int64) hist[i]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
	return (Datum) 0;
}

/* The set-up times of the last logins admitted without a wait, in
 * microseconds (backend start to admission), one row each: (n, setup_us),
 * n the place in the ring. */
Datum
pgov_setup_times_1_4(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int32	   *times;
	int			n;
	int			i;

	pgov_require_loaded();
	InitMaterializedSRF(fcinfo, 0);
	times = palloc(sizeof(int32) * PGOV_SETUP_RING);
	n = pgov_login_setup_times(times);
	for (i = 0; i < n; i++)
	{
		Datum		v[2];
		bool		nulls[2] = {false, false};

		v[0] = Int32GetDatum(i);
		v[1] = Int32GetDatum(times[i]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
	pfree(times);
	return (Datum) 0;
}

/* Mean time in the hook per timed login, in microseconds (NULL: none yet). */
Datum
pgov_admission_mean_us_1_0(PG_FUNCTION_ARGS)
{
	uint64		hist[PGOV_TIMING_BUCKETS];
	uint64		logins;
	uint64		ns_total;

	pgov_require_loaded();
	pgov_login_timing(hist, &logins, &ns_total);
	if (logins == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8((double) ns_total / logins / 1000.0);
}

/*
 * How waiters were woken: (woken, admitted, requeued).  A released seat
 * wakes only waiters that can take it, so requeued (woken, then still
 * waiting) stays small however many wait.
 */
Datum
pgov_wakeups_1_2(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		v[3];
	bool		nulls[3] = {false, false, false};
	uint64		woken,
				admitted,
				requeued;

	pgov_require_loaded();
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	pgov_login_wakeups(&woken, &admitted, &requeued);
	v[0] = Int64GetDatum((int64) woken);
	v[1] = Int64GetDatum((int64) admitted);
	v[2] = Int64GetDatum((int64) requeued);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), v, nulls)));
}
