/*-------------------------------------------------------------------------
 *
 * views.c
 *		Set-returning functions over pool_governor's shared memory, and
 *		reset_stats().  The views in pool_governor--1.0.sql derive health and
 *		per-state counts from these raw rows.
 *
 * Each function copies what it needs under the lock into local memory and
 * builds its tuples after releasing it, so a slow reader never holds up a
 * login for longer than a memcpy.  Entry points are versioned (_1_0) so a
 * later install script can change the columns without breaking a library
 * loaded with an older one.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <arpa/inet.h>

#include "access/htup_details.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "pool_governor.h"

PG_FUNCTION_INFO_V1(pgov_tenants_1_0);
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

static void
require_loaded(void)
{
	if (pgov == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pool_governor must be loaded via shared_preload_libraries"),
				 errhint("Add pool_governor to shared_preload_libraries and restart the server.")));
}

static Datum
text_or_null(const char *s, bool *isnull)
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

static Datum
ts_or_null(TimestampTz ts, bool *isnull)
{
	*isnull = (ts == 0);
	return TimestampTzGetDatum(ts);
}

/* Raw per-tenant counters and limits. */
Datum
pgov_tenants_1_0(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PgovTenant *copy;
	int			n;
	int			i;

	require_loaded();
	InitMaterializedSRF(fcinfo, 0);

	copy = palloc(sizeof(PgovTenant) * pgov_max_tenants);
	LWLockAcquire(pgov->lock, LW_SHARED);
	n = pgov->totals.ntenants;
	memcpy(copy, pgov_board.tenants, sizeof(PgovTenant) * n);
	LWLockRelease(pgov->lock);

	for (i = 0; i < n; i++)
	{
		PgovTenant *t = &copy[i];
		Datum		v[18];
		bool		nulls[18] = {0};
		int			c = 0;

		if (!t->in_use)
			continue;
		v[c++] = CStringGetTextDatum(t->name);
		v[c++] = BoolGetDatum(t->configured);
		nulls[c] = (t->max_connections == PGOV_NO_CAP);
		v[c++] = Int32GetDatum(t->max_connections);
		v[c++] = Int32GetDatum(t->reserved_connections);
		v[c++] = Int32GetDatum(t->max_waiting);
		v[c++] = Int64GetDatum(t->wait_timeout_ms);
		v[c++] = Int32GetDatum(t->connected);
		v[c++] = Int32GetDatum(t->waiting);
		v[c++] = Int32GetDatum(t->peak_connected);
		v[c] = ts_or_null(t->peak_at, &nulls[c]);
		c++;
		v[c++] = Int64GetDatum(t->admitted);
		v[c++] = Int64GetDatum(t->rejected);
		v[c++] = Int64GetDatum(t->would_reject);
		v[c++] = Int64GetDatum(t->waited);
		v[c++] = Int64GetDatum(t->wait_timeouts);
		v[c++] = Float8GetDatum(t->wait_ms_total);
		v[c++] = Float8GetDatum(t->wait_ms_max);
		v[c] = ts_or_null(t->stats_reset, &nulls[c]);
		c++;
		Assert(c == 18);
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
	TimestampTz now = GetCurrentTimestamp();
	int			n = 0;
	int			ntenants;
	int			i;

	require_loaded();
	InitMaterializedSRF(fcinfo, 0);

	sums = palloc(sizeof(PgovRecent) * pgov_max_tenants);
	names = palloc(NAMEDATALEN * (Size) pgov_max_tenants);
	LWLockAcquire(pgov->lock, LW_SHARED);
	ntenants = pgov->totals.ntenants;
	for (i = 0; i < ntenants; i++)
	{
		if (!pgov_board.tenants[i].in_use)
			continue;
		memcpy(names[n], pgov_board.tenants[i].name, NAMEDATALEN);
		pgov_tenant_recent(&pgov_board, i, now, &sums[n]);
		n++;
	}
	LWLockRelease(pgov->lock);

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

/* The worker's progress: (pid, ticks, loads). */
#define PGOV_WORKER_COLS_V1_3 3

Datum
pgov_worker_1_3(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		v[PGOV_WORKER_COLS_V1_3];
	bool		nulls[PGOV_WORKER_COLS_V1_3] = {0};
	int			pid;

	require_loaded();
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	LWLockAcquire(pgov->lock, LW_SHARED);
	pid = pgov->worker_pid;
	LWLockRelease(pgov->lock);
	nulls[0] = (pid == 0);
	v[0] = Int32GetDatum(pid);
	v[1] = Int64GetDatum((int64) pg_atomic_read_u64(&pgov->worker_ticks));
	v[2] = Int64GetDatum((int64) pg_atomic_read_u64(&pgov->worker_loads));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, v, nulls)));
}

/* One row per governed, waiting or exempt backend. */
Datum
pgov_backends_1_0(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PgovSlot   *copy;
	char	  (*names)[NAMEDATALEN];
	int			n = 0;
	int			i;

	require_loaded();
	InitMaterializedSRF(fcinfo, 0);

	copy = palloc(sizeof(PgovSlot) * pgov_board.nslots);
	names = palloc(sizeof(*names) * pgov_board.nslots);
	LWLockAcquire(pgov->lock, LW_SHARED);
	for (i = 0; i < pgov_board.nslots; i++)
	{
		PgovSlot   *s = &pgov_board.slots[i];

		if (s->pid == 0 || s->state == PGOV_SLOT_FREE)
			continue;
		copy[n] = *s;
		if (s->tenant >= 0)
			strlcpy(names[n], pgov_board.tenants[s->tenant].name, NAMEDATALEN);
		else
			names[n][0] = '\0';
		n++;
	}
	LWLockRelease(pgov->lock);

	for (i = 0; i < n; i++)
	{
		PgovSlot   *s = &copy[i];
		Datum		v[11];
		bool		nulls[11] = {0};
		int			c = 0;

		v[c++] = Int32GetDatum(s->pid);
		v[c] = text_or_null(names[i][0] ? names[i] : NULL, &nulls[c]);
		c++;
		nulls[c] = (s->rule_id == 0);
		v[c++] = Int64GetDatum(s->rule_id);
		v[c++] = CStringGetTextDatum(s->who.role_name);
		v[c++] = CStringGetTextDatum(s->who.database_name);
		v[c++] = CStringGetTextDatum(s->who.application_name);
		v[c] = addr_text(&s->who, &nulls[c]);
		c++;
		v[c++] = CStringGetTextDatum(pgov_slot_state_name(s->state));
		v[c] = ts_or_null(s->entered_at, &nulls[c]);
		c++;
		nulls[c] = (s->state == PGOV_SLOT_WAITING);
		v[c] = TimestampTzGetDatum(s->admitted_at);
		c++;
		v[c++] = Int32GetDatum(s->state == PGOV_SLOT_WAITING ?
							   (int) ((GetCurrentTimestamp() - s->entered_at) / 1000) :
							   s->waited_ms);
		Assert(c == 11);
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
static Datum
state_internal(FunctionCallInfo fcinfo, int natts)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum		v[16];
	bool		nulls[16] = {0};
	int			c = 0;
	int			sum_held,
				exempt,
				capacity,
				reserved_unused,
				ntenants = 0,
				worker_pid,
				i;
	int64		rejected;
	uint64		generation;
	TimestampTz loaded_at;
	PgovProblemLevel level;
	char		problem[PGOV_PROBLEM_LEN];

	require_loaded();
	InitMaterializedSRF(fcinfo, 0);
	if (rsinfo->setDesc->natts != natts)
		elog(ERROR, "incorrect number of output arguments");

	LWLockAcquire(pgov->lock, LW_SHARED);
	sum_held = pgov->totals.sum_held;
	exempt = pgov->totals.exempt_connected;
	capacity = pgov_capacity_in_force(&pgov_board, pgov_capacity(), pgov_slot_limit());
	reserved_unused = pgov_reserved_unused(&pgov_board);
	rejected = pgov->totals.rejected_total;
	generation = pgov->generation;
	loaded_at = pgov->loaded_at;
	worker_pid = pgov->worker_pid;
	level = pgov->problem_level;
	strlcpy(problem, pgov->problem, sizeof(problem));
	for (i = 0; i < pgov->totals.ntenants; i++)
		if (pgov_board.tenants[i].in_use && pgov_board.tenants[i].configured)
			ntenants++;
	LWLockRelease(pgov->lock);

	v[c++] = CStringGetTextDatum(pgov_mode_name(pgov_mode));
	v[c++] = Int32GetDatum(capacity);
	v[c++] = Int32GetDatum(MaxConnections);
	v[c++] = Int32GetDatum(sum_held);
	v[c++] = Int32GetDatum(exempt);
	v[c++] = Int32GetDatum(0);
	v[c++] = Int64GetDatum(rejected);
	v[c++] = Int32GetDatum(ntenants);
	v[c++] = Int64GetDatum((int64) generation);
	v[c] = ts_or_null(loaded_at, &nulls[c]);
	c++;
	nulls[c] = (worker_pid == 0);
	v[c++] = Int32GetDatum(worker_pid);
	v[c++] = Int32GetDatum(pgov_event_log_size);
	if (natts > c)
	{
		v[c++] = Int32GetDatum(pgov_slot_limit());
		v[c++] = Int32GetDatum(reserved_unused);
		v[c++] = CStringGetTextDatum(level == PGOV_PROBLEM_CRITICAL ? "critical" :
									 level == PGOV_PROBLEM_WARNING ? "warning" : "ok");
		v[c] = text_or_null(level == PGOV_PROBLEM_NONE ? NULL : problem, &nulls[c]);
		c++;
	}
	Assert(c == natts);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	return (Datum) 0;
}

Datum
pgov_state_1_0(PG_FUNCTION_ARGS)
{
	return state_internal(fcinfo, 12);
}

Datum
pgov_state_1_1(PG_FUNCTION_ARGS)
{
	return state_internal(fcinfo, 16);
}

/* The event ring, oldest first. */
Datum
pgov_events_1_0(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PgovEvent  *copy;
	uint64		written;
	uint64		first;
	uint64		k;
	int			n = 0;

	require_loaded();
	InitMaterializedSRF(fcinfo, 0);
	if (pgov_event_log_size <= 0)
		return (Datum) 0;

	copy = palloc(sizeof(PgovEvent) * pgov_event_log_size);
	LWLockAcquire(pgov->event_lock, LW_SHARED);
	written = pgov->events_written;
	first = written > (uint64) pgov_event_log_size ? written - pgov_event_log_size : 0;
	for (k = first; k < written; k++)
		copy[n++] = pgov_events[k % pgov_event_log_size];
	LWLockRelease(pgov->event_lock);

	for (k = 0; k < (uint64) n; k++)
	{
		PgovEvent  *e = &copy[k];
		Datum		v[8];
		bool		nulls[8] = {0};
		int			c = 0;

		v[c++] = TimestampTzGetDatum(e->time);
		v[c++] = CStringGetTextDatum(pgov_event_kind_name(e->kind));
		v[c] = text_or_null(e->tenant[0] ? e->tenant : NULL, &nulls[c]);
		c++;
		v[c] = text_or_null(e->has_who ? e->who.role_name : NULL, &nulls[c]);
		c++;
		v[c] = text_or_null(e->has_who ? e->who.database_name : NULL, &nulls[c]);
		c++;
		v[c] = text_or_null(e->has_who ? e->who.application_name : NULL, &nulls[c]);
		c++;
		if (e->has_who)
			v[c] = addr_text(&e->who, &nulls[c]);
		else
			nulls[c] = true;
		c++;
		v[c++] = CStringGetTextDatum(e->detail);
		Assert(c == 8);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
	pfree(copy);
	return (Datum) 0;
}

/* A tenant's history ring as the view reads it. */
typedef struct RingCopy
{
	int			ringno;
	int			tenant;
	uint64		since_tick;
} RingCopy;

static int
ring_tenant_cmp(const void *a, const void *b)
{
	int			ta = ((const RingCopy *) a)->tenant;
	int			tb = ((const RingCopy *) b)->tenant;

	return (ta > tb) - (ta < tb);
}

/*
 * The history sampled after since (0: all of it), oldest tick first, one
 * row per tenant with a history ring and tick.  A ring belongs to the
 * tenant whose entry had the same incarnation when it took the ring, from
 * since_tick on; a removed tenant's history is not shown.  Rows are bounded
 * by history_size times history_tenants whatever the number of tenants,
 * and the work by the rows of the ticks after since.
 */
static Datum
history_rows(FunctionCallInfo fcinfo, TimestampTz since)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PgovTenant *tenants;
	RingCopy   *rings;
	int			ntenants;
	int			nrings = 0;
	uint64		written;
	uint64		first;
	uint64		k;
	int			r;

	require_loaded();
	InitMaterializedSRF(fcinfo, 0);
	if (pgov_history_size <= 0 || pgov_history_tenants <= 0)
		return (Datum) 0;

	tenants = palloc(sizeof(PgovTenant) * pgov_max_tenants);
	LWLockAcquire(pgov->lock, LW_SHARED);
	ntenants = pgov->totals.ntenants;
	memcpy(tenants, pgov_board.tenants, sizeof(PgovTenant) * ntenants);
	LWLockRelease(pgov->lock);

	rings = palloc(sizeof(RingCopy) * pgov_history_tenants);
	LWLockAcquire(pgov->history_lock, LW_SHARED);
	for (r = 0; r < pgov_history_tenants; r++)
	{
		PgovHistoryRing *ring = &pgov_history_rings[r];

		if (ring->tenant < 0 || ring->tenant >= ntenants ||
			!tenants[ring->tenant].in_use ||
			tenants[ring->tenant].incarnation != ring->incarnation)
			continue;
		rings[nrings].ringno = r;
		rings[nrings].tenant = ring->tenant;
		rings[nrings].since_tick = ring->since_tick;
		nrings++;
	}
	/* rows of one tick in tenant order */
	qsort(rings, nrings, sizeof(RingCopy), ring_tenant_cmp);

	written = pgov->ticks_written;
	first = written > (uint64) pgov_history_size ? written - pgov_history_size : 0;
	/* ticks are in time order: skip back over those after since */
	if (since != 0)
	{
		uint64		oldest = first;

		first = written;
		while (first > oldest &&
			   pgov_tick_times[(first - 1) % pgov_history_size] > since)
			first--;
	}
	for (k = first; k < written; k++)
	{
		int			tick = (int) (k % pgov_history_size);

		for (r = 0; r < nrings; r++)
		{
			PgovSample *s;
			Datum		v[9];
			bool		nulls[9] = {0};

			if (k < rings[r].since_tick)
				continue;
			s = &pgov_samples[(Size) rings[r].ringno * pgov_history_size + tick];
			v[0] = TimestampTzGetDatum(pgov_tick_times[tick]);
			v[1] = CStringGetTextDatum(tenants[rings[r].tenant].name);
			v[2] = Int32GetDatum(s->connected);
			v[3] = Int32GetDatum(s->active);
			v[4] = Int32GetDatum(s->idle);
			v[5] = Int32GetDatum(s->idle_in_transaction);
			v[6] = Int32GetDatum(s->waiting);
			v[7] = Int32GetDatum(s->admitted);
			v[8] = Int32GetDatum(s->rejected);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
		}
	}
	LWLockRelease(pgov->history_lock);
	pfree(rings);
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

	require_loaded();
	if (!pgov_reset_stats(name))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("tenant \"%s\" does not exist", name),
				 errhint("The tenants are listed in pool_governor.tenant_status.")));
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
	int			i;

	require_loaded();
	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < PGOV_TIMING_BUCKETS; i++)
	{
		Datum		v[2];
		bool		nulls[2] = {false, false};

		nulls[0] = (i == PGOV_TIMING_BUCKETS - 1);
		v[0] = Int64GetDatum(INT64CONST(1) << i);
		v[1] = Int64GetDatum((int64) pg_atomic_read_u64(&pgov->hook_hist[i]));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
	return (Datum) 0;
}

/* Mean time in the hook per timed login, in microseconds (NULL: none yet). */
Datum
pgov_admission_mean_us_1_0(PG_FUNCTION_ARGS)
{
	uint64		n;

	require_loaded();
	n = pg_atomic_read_u64(&pgov->hook_logins);
	if (n == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8((double) pg_atomic_read_u64(&pgov->hook_ns_total) / n / 1000.0);
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

	require_loaded();
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	v[0] = Int64GetDatum((int64) pg_atomic_read_u64(&pgov->wakeups));
	v[1] = Int64GetDatum((int64) pg_atomic_read_u64(&pgov->wakeups_admitted));
	v[2] = Int64GetDatum((int64) pg_atomic_read_u64(&pgov->wakeups_requeued));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), v, nulls)));
}
