/*-------------------------------------------------------------------------
 *
 * clusterseats.c
 *		The cluster quota on the seat board (seats.h): a tenant with one
 *		has its floor and its grant as its cap here while the quota is on,
 *		a grant whose time is up is given up at the tenant's next login,
 *		and the worker's word on a grant moves the cap.  Pure like seats.c:
 *		board.c calls these holding the board's lock.
 *
 *-------------------------------------------------------------------------
 */
#include <stdbool.h>
#include <stdint.h>

#include "clusterseats.h"
#include "seats.h"

/*
 * Recomputes t's cap in force after its grant or role changed, keeping the
 * totals and the above-cap list true.  Returns whether the cap rose.
 */
static bool
cluster_recap(PgovBoard *b, PgovTenant *t, int64_t now)
{
	int			was = t->max_connections;

	t->max_connections = pgov_tenant_cap(b, t, b->totals->role);
	if (t->max_connections == was)
		return false;
	pgov_seat_note_above_cap(b, now);
	return was != PGOV_NO_CAP &&
		(t->max_connections == PGOV_NO_CAP || t->max_connections > was);
}

/* A grant this node may no longer use (its time is up) is none: its
 * floor alone.  Returns whether it was given up.  O(1). */
bool
pgov_seat_cluster_lapse(PgovBoard *b, PgovTenant *t, int64_t now)
{
	if (!b->totals->cluster_on || t->cluster_quota <= 0 ||
		t->cluster_granted == 0 || now < t->cluster_until)
		return false;
	t->cluster_granted = 0;
	cluster_recap(b, t, now);
	return true;
}

/*
 * The cluster quota is turned on (pool_governor.etcd_endpoints set) or off:
 * every tenant with one has its floor and its grant as its cap, or its own
 * numbers again.  Returns whether anything changed (a raised cap may let
 * waiters in).  O(tenants).
 */
bool
pgov_seat_cluster_on(PgovBoard *b, bool on, int64_t now)
{
	bool		raised = false;
	int			i;

	if ((b->totals->cluster_on != 0) == on)
		return false;
	b->totals->cluster_on = on;
	for (i = 0; i < b->totals->ntenants; i++)
	{
		PgovTenant *t = &b->tenants[i];

		if (t->in_use && t->cluster_quota > 0)
			raised |= cluster_recap(b, t, now);
	}
	return raised;
}

/*
 * The worker's word on tenant's grant: granted seats, usable until until,
 * held in the whole cluster (floors and grants) as etcd said.  Returns
 * whether the cap rose.  O(1).
 */
bool
pgov_seat_cluster_grant(PgovBoard *b, int tenant, int granted, int64_t until,
						int held, int64_t now)
{
	PgovTenant *t = &b->tenants[tenant];

	if (!t->in_use || t->cluster_quota <= 0)
		return false;
	t->cluster_granted = granted < 0 ? 0 : granted;
	t->cluster_until = until;
	t->cluster_held = held;
	return cluster_recap(b, t, now);
}

/* pgov_board_change's form of pgov_seat_cluster_on: arg is a bool. */
bool
pgov_seat_cluster_on_change(PgovBoard *b, int64_t now, void *arg)
{
	return pgov_seat_cluster_on(b, *(const bool *) arg, now);
}

/* pgov_board_change's form of pgov_seat_cluster_grant, for the entry the
 * worker copied if it is still that tenant with a quota (else ->same is
 * false and nothing changes). */
bool
pgov_seat_grant_change(PgovBoard *b, int64_t now, void *arg)
{
	PgovGrantChange *g = arg;
	const PgovTenant *t = &b->tenants[g->entry];

	g->same = g->entry >= 0 && g->entry < b->max_tenants && t->in_use &&
		t->incarnation == g->incarnation && t->cluster_quota > 0;
	return g->same && pgov_seat_cluster_grant(b, g->entry, g->granted, g->until,
											  g->held, now);
}
