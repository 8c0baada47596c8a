/*-------------------------------------------------------------------------
 *
 * status.c
 *		pool_governor.tenant_status and pool_governor.health (1.6): every
 *		number of a read from one copy of the board taken under one hold of
 *		its lock, each tenant's health from the one rule of policy.c.
 *
 * Like views.c, it asks the owners for copies (boardread.c, control.c) and
 * builds its tuples after; nothing here touches shared memory itself.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "board.h"
#include "boardread.h"
#include "compat.h"
#include "settings.h"
#include "views.h"

PG_FUNCTION_INFO_V1(pgov_tenant_status_1_6);
PG_FUNCTION_INFO_V1(pgov_tenant_status_1_7);
PG_FUNCTION_INFO_V1(pgov_health_1_6);

/*
 * One moment of the board, as a view reads it (1.6): every number of
 * tenant_status and of health comes from one copy taken under one hold of
 * the board's lock (pgov_board_view), and each tenant's health from the
 * one rule (pgov_tenant_health).  The backends' states, for active / idle /
 * idle_in_transaction, are read once after, as pg_stat_activity reads them.
 */
typedef struct Moment
{
	PgovTenant *tenants;
	int			n;
	PgovSeatTotals totals;
	PgovBoardState st;
	PgovSlotOwner *owners;		/* the governed slots, when asked */
	int			nowners;
	TimestampTz now;
	int			capacity;		/* configured: utilization's denominator
								 * for a tenant without a cap */
} Moment;

static void
take_moment(Moment *m, bool owners)
{
	m->tenants = palloc(sizeof(PgovTenant) * pgov_max_tenants);
	m->owners = owners ? palloc(sizeof(PgovSlotOwner) * pgov_board_nslots()) : NULL;
	m->now = GetCurrentTimestamp();
	m->capacity = pgov_capacity();
	m->n = pgov_board_view(m->tenants, &m->totals, &m->st, m->owners, &m->nowners);
}

/* Entry i's health at the moment; its recent logins and utilization. */
static PgovHealth
moment_health(const Moment *m, int i, PgovRecent *recent, int *util)
{
	const PgovTenant *t = &m->tenants[i];
	PgovBoard	b;
	PgovHealthInput in;

	memset(&b, 0, sizeof(b));
	b.totals = (PgovSeatTotals *) &m->totals;
	b.tenants = m->tenants;
	b.max_tenants = m->n;
	pgov_tenant_recent(&b, i, (int64) m->now, recent);
	*util = pgov_utilization_milli(t->connected, t->max_connections, m->capacity);
	in.connected = t->connected;
	in.max_connections = t->max_connections;
	in.waiting = t->waiting;
	in.utilization_milli = *util;
	in.admitted = recent->admitted;
	in.refused = recent->refused;
	in.waits = recent->waits;
	return pgov_tenant_health(&in);
}

typedef struct StateCounts
{
	int64		active;
	int64		idle;
	int64		idle_in_transaction;
} StateCounts;

static int
owner_cmp(const void *a, const void *b)
{
	int			x = ((const PgovSlotOwner *) a)->pid;
	int			y = ((const PgovSlotOwner *) b)->pid;

	return (x > y) - (x < y);
}

/* Each tenant entry's governed sessions by state, into counts[n]. */
static void
count_states(Moment *m, StateCounts *counts)
{
	int			nbackends = pgstat_fetch_stat_numbackends();
	int			i;

	qsort(m->owners, m->nowners, sizeof(PgovSlotOwner), owner_cmp);
	for (i = 1; i <= nbackends; i++)
	{
		LocalPgBackendStatus *l = PGOV_LOCAL_BEENTRY(i);
		PgovSlotOwner key;
		PgovSlotOwner *o;
		StateCounts *c;

		if (l == NULL)
			continue;
		key.pid = l->backendStatus.st_procpid;
		o = bsearch(&key, m->owners, m->nowners, sizeof(PgovSlotOwner), owner_cmp);
		if (o == NULL || o->tenant < 0 || o->tenant >= m->n)
			continue;
		c = &counts[o->tenant];
		switch (l->backendStatus.st_state)
		{
			case STATE_RUNNING:
			case STATE_FASTPATH:
				c->active++;
				break;
			case STATE_IDLE:
				c->idle++;
				break;
			case STATE_IDLEINTRANSACTION:
			case STATE_IDLEINTRANSACTION_ABORTED:
				c->idle_in_transaction++;
				break;
			default:
				break;
		}
	}
}

/* round(x::numeric, scale), as the 1.5 views computed it. */
static Datum
rounded(double x, int scale)
{
	return DirectFunctionCall2(numeric_round,
							   DirectFunctionCall1(float8_numeric, Float8GetDatum(x)),
							   Int32GetDatum(scale));
}

/* thousandths as a numeric of scale 3 (0.800) */
static Datum
milli_numeric(int milli)
{
	char		buf[32];

	snprintf(buf, sizeof(buf), "%d.%03d", milli / 1000, milli % 1000);
	return DirectFunctionCall3(numeric_in, CStringGetDatum(buf),
							   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
}

/* pool_governor.tenant_status, every column (1.5's, in 1.5's order, and
 * refusal_sqlstate; 1.7 adds paced). */
#define PGOV_TENANT_STATUS_COLS_V1_6 28
#define PGOV_TENANT_STATUS_COLS_V1_7 29
#define PGOV_TENANT_STATUS_COLS		PGOV_TENANT_STATUS_COLS_V1_7

static void
tenant_status_internal(FunctionCallInfo fcinfo, int natts)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Moment		m;
	StateCounts *counts;
	int			in_force;
	int			i;

	pgov_require_loaded();
	InitMaterializedSRF(fcinfo, 0);
	if (rsinfo->setDesc->natts != natts)
		elog(ERROR, "incorrect number of output arguments");

	take_moment(&m, true);
	counts = palloc0(sizeof(StateCounts) * Max(m.n, 1));
	count_states(&m, counts);
	in_force = pgov_numbers_role(m.st.role);
	for (i = 0; i < m.n; i++)
	{
		PgovTenant *t = &m.tenants[i];
		Datum		v[PGOV_TENANT_STATUS_COLS];
		bool		nulls[PGOV_TENANT_STATUS_COLS] = {0};
		PgovRecent	recent;
		PgovHealth	health;
		Interval   *grace;
		int			util;
		int			c = 0;

		if (!t->in_use)
			continue;
		health = moment_health(&m, i, &recent, &util);
		v[c++] = CStringGetTextDatum(t->name);
		nulls[c] = (t->max_connections == PGOV_NO_CAP);
		v[c++] = Int32GetDatum(t->max_connections);
		v[c++] = Int32GetDatum(t->reserved_connections);
		v[c++] = Int32GetDatum(t->connected);
		v[c++] = Int64GetDatum(counts[i].active);
		v[c++] = Int64GetDatum(counts[i].idle);
		v[c++] = Int64GetDatum(counts[i].idle_in_transaction);
		v[c++] = Int32GetDatum(t->waiting);
		pgov_put_counters(t, v, nulls, &c);
		nulls[c] = (t->waited <= 0);
		v[c++] = t->waited > 0 ? rounded(t->wait_ms_total / t->waited, 1) : (Datum) 0;
		v[c++] = rounded(t->wait_ms_max, 1);
		nulls[c] = (util < 0);
		v[c++] = util >= 0 ? milli_numeric(util) : (Datum) 0;
		v[c++] = CStringGetTextDatum(pgov_health_name(health));
		v[c] = pgov_ts_or_null(t->stats_reset, &nulls[c]);
		c++;
		v[c++] = BoolGetDatum(true);	/* every entry is configured since 1.1 */
		v[c++] = Int32GetDatum(t->weight > 0 ? t->weight : 1);
		v[c++] = CStringGetTextDatum(t->drain == PGOV_DRAIN_IDLE ? "idle" : "natural");
		grace = palloc0(sizeof(Interval));
		grace->time = t->drain_grace_ms * 1000;
		v[c++] = IntervalPGetDatum(grace);
		v[c++] = Int64GetDatum(t->drained);
		v[c] = pgov_ts_or_null(t->above_cap_since, &nulls[c]);
		c++;
		v[c++] = CStringGetTextDatum(pgov_limits_from_text(t->by_role[in_force].from,
													  in_force, m.st.node_name));
		v[c++] = CStringGetTextDatum(t->refusal == PGOV_REFUSAL_CANNOT_CONNECT ?
									 "57P03" : "53300");
		if (natts >= PGOV_TENANT_STATUS_COLS_V1_7)
			v[c++] = Int64GetDatum(t->paced);
		Assert(c == natts);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
}

Datum
pgov_tenant_status_1_6(PG_FUNCTION_ARGS)
{
	tenant_status_internal(fcinfo, PGOV_TENANT_STATUS_COLS_V1_6);
	return (Datum) 0;
}

Datum
pgov_tenant_status_1_7(PG_FUNCTION_ARGS)
{
	tenant_status_internal(fcinfo, PGOV_TENANT_STATUS_COLS_V1_7);
	return (Datum) 0;
}

/* pool_governor.health, every column (1.1's, in 1.1's order). */
#define PGOV_HEALTH_COLS_V1_6 15

Datum
pgov_health_1_6(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		v[PGOV_HEALTH_COLS_V1_6];
	bool		nulls[PGOV_HEALTH_COLS_V1_6] = {0};
	Moment		m;
	PgovHealth	worst = PGOV_HEALTH_OK;
	int			connected = 0;
	int			waiting = 0;
	int			i;
	int			c = 0;

	pgov_require_loaded();
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (desc->natts != PGOV_HEALTH_COLS_V1_6)
		elog(ERROR, "incorrect number of output arguments");

	take_moment(&m, false);
	for (i = 0; i < m.n; i++)
	{
		PgovRecent	recent;
		PgovHealth	h;
		int			util;

		if (!m.tenants[i].in_use)
			continue;
		h = moment_health(&m, i, &recent, &util);
		worst = Max(worst, h);
		connected += m.tenants[i].connected;
		waiting += m.tenants[i].waiting;
	}
	if (m.st.level == PGOV_PROBLEM_CRITICAL)
		worst = PGOV_HEALTH_CRITICAL;
	else if (m.st.level == PGOV_PROBLEM_WARNING)
		worst = Max(worst, PGOV_HEALTH_WARNING);

	v[c++] = CStringGetTextDatum(pgov_health_name(worst));
	v[c++] = CStringGetTextDatum(pgov_mode_name(pgov_mode));
	v[c++] = Int32GetDatum(m.st.capacity);
	v[c++] = Int32GetDatum(MaxConnections);
	v[c++] = Int32GetDatum(connected);
	v[c++] = Int32GetDatum(m.st.exempt_connected);
	v[c++] = Int32GetDatum(m.st.reserved_unused);
	v[c++] = Int32GetDatum(Max(m.st.capacity - m.st.sum_held, 0));
	v[c++] = Int32GetDatum(waiting);
	v[c++] = Int64GetDatum(m.st.rejected);
	v[c++] = Int32GetDatum(m.st.tenants);
	v[c++] = Int64GetDatum((int64) m.st.generation);
	v[c] = pgov_ts_or_null(m.st.loaded_at, &nulls[c]);
	c++;
	nulls[c] = (m.st.worker_pid == 0);
	v[c++] = Int32GetDatum(m.st.worker_pid);
	v[c] = pgov_text_or_null(m.st.level == PGOV_PROBLEM_NONE ? NULL : m.st.problem, &nulls[c]);
	c++;
	Assert(c == PGOV_HEALTH_COLS_V1_6);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, v, nulls)));
}
