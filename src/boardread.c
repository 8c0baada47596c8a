/*-------------------------------------------------------------------------
 *
 * boardread.c
 *		The copies of the seat board that the views and the sampler read:
 *		each is a reader that board.c runs under the board's lock, SHARED
 *		(pgov_board_read), copying into memory its caller allocated before
 *		and doing nothing else, so that what a view shows is one moment.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "boardread.h"
#include "configuration.h"
#include "control.h"

/* The governed slots' pids and tenants into owners[nslots]. */
static void
copy_owners(const PgovBoard *b, PgovSlotOwner *owners, int *nowners)
{
	int			i;

	*nowners = 0;
	for (i = 0; i < b->nslots; i++)
	{
		const PgovSlot *s = &b->slots[i];

		if (s->pid != 0 && s->tenant >= 0 && s->state == PGOV_SLOT_GOVERNED)
		{
			owners[*nowners].pid = s->pid;
			owners[*nowners].tenant = s->tenant;
			(*nowners)++;
		}
	}
}

typedef struct CountsCopy
{
	PgovTenantCounts *tenants;
	PgovSlotOwner *owners;
	int		   *nowners;
	int			n;
} CountsCopy;

static void
read_counts(const PgovBoardMoment *m, void *arg)
{
	CountsCopy *c = arg;
	int			i;

	c->n = m->board->totals->ntenants;
	for (i = 0; i < c->n; i++)
	{
		const PgovTenant *t = &m->board->tenants[i];
		PgovTenantCounts *out = &c->tenants[i];

		out->in_use = t->in_use;
		out->incarnation = t->incarnation;
		memcpy(out->name, t->name, NAMEDATALEN);
		out->connected = t->connected;
		out->waiting = t->waiting;
		out->admitted = t->admitted;
		out->rejected = t->rejected;
	}
	if (c->owners)
		copy_owners(m->board, c->owners, c->nowners);
}

/* Every tenant entry's numbers into tenants[max_tenants] (returns how many
 * entries are in use, the high-water mark); with owners[nslots], also the
 * governed slots' pids and tenants, *nowners of them. */
int
pgov_board_counts(PgovTenantCounts *tenants, PgovSlotOwner *owners,
				  int *nowners)
{
	CountsCopy	c = {tenants, owners, nowners, 0};

	pgov_board_read(read_counts, &c);
	return c.n;
}

typedef struct TenantsCopy
{
	PgovTenant *out;
	int			n;
} TenantsCopy;

static void
read_tenants(const PgovBoardMoment *m, void *arg)
{
	TenantsCopy *c = arg;

	c->n = m->board->totals->ntenants;
	memcpy(c->out, m->board->tenants, sizeof(PgovTenant) * c->n);
}

/* The tenant entries into out[max_tenants]; returns the high-water mark. */
int
pgov_board_tenants(PgovTenant *out)
{
	TenantsCopy c = {out, 0};

	pgov_board_read(read_tenants, &c);
	return c.n;
}

typedef struct BackendsCopy
{
	PgovSlot   *out;
	char		(*names)[NAMEDATALEN];
	int			n;
} BackendsCopy;

static void
read_backends(const PgovBoardMoment *m, void *arg)
{
	BackendsCopy *c = arg;
	const PgovBoard *b = m->board;
	int			i;

	for (i = 0; i < b->nslots; i++)
	{
		const PgovSlot *s = &b->slots[i];

		if (s->pid == 0 || s->state == PGOV_SLOT_FREE)
			continue;
		c->out[c->n] = *s;
		if (s->tenant >= 0)
			memcpy(c->names[c->n], b->tenants[s->tenant].name, NAMEDATALEN);
		else
			c->names[c->n][0] = '\0';
		c->n++;
	}
}

/* The slots held by a backend into out[nslots], with their tenant's name
 * ("" for none) in names[nslots]; returns how many. */
int
pgov_board_backends(PgovSlot *out, char (*names)[NAMEDATALEN])
{
	BackendsCopy c = {out, names, 0};

	pgov_board_read(read_backends, &c);
	return c.n;
}

/* The board's part of the server-wide numbers behind pool_governor.health. */
static void
state_of(const PgovBoardMoment *m, PgovBoardState *st)
{
	const PgovBoard *b = m->board;
	int			i;

	memset(st, 0, sizeof(*st));
	st->sum_held = b->totals->sum_held;
	st->exempt_connected = b->totals->exempt_connected;
	st->capacity = pgov_capacity_in_force(b, pgov_capacity(), pgov_slot_limit());
	st->reserved_unused = pgov_reserved_unused(b);
	st->rejected = b->totals->rejected_total;
	st->generation = m->generation;
	st->loaded_at = m->loaded_at;
	st->role = b->totals->role;
	st->role_since = (TimestampTz) b->totals->role_since;
	for (i = 0; i < b->totals->ntenants; i++)
		st->tenants += b->tenants[i].in_use;
}

/* The control block's part of st (worker, problems, node name), in the
 * role the board's copy says is in force: its own lock, after the board's. */
static void
state_control(PgovBoardState *st)
{
	PgovControlState c;

	pgov_control_state(pgov_numbers_role(st->role), &c);
	st->worker_pid = c.worker_pid;
	st->level = c.level;
	strlcpy(st->problem, c.problem, sizeof(st->problem));
	strlcpy(st->node_name, c.node_name, NAMEDATALEN);
}

static void
read_state(const PgovBoardMoment *m, void *arg)
{
	state_of(m, arg);
}

/* The server-wide numbers behind pool_governor.health. */
void
pgov_board_state(PgovBoardState *st)
{
	pgov_board_read(read_state, st);
	state_control(st);
}

typedef struct ViewCopy
{
	PgovTenant *tenants;
	PgovSeatTotals *totals;
	PgovBoardState *st;
	PgovSlotOwner *owners;
	int		   *nowners;
	int			n;
} ViewCopy;

static void
read_view(const PgovBoardMoment *m, void *arg)
{
	ViewCopy   *c = arg;

	c->n = m->board->totals->ntenants;
	memcpy(c->tenants, m->board->tenants, sizeof(PgovTenant) * c->n);
	*c->totals = *m->board->totals;
	state_of(m, c->st);
	*c->nowners = 0;
	if (c->owners)
		copy_owners(m->board, c->owners, c->nowners);
}

/*
 * One moment of the board, for a view: the tenant entries into
 * tenants[max_tenants] (returns the high-water mark), the totals, the
 * server-wide numbers and, with owners[nslots], each governed slot's pid
 * and tenant (*nowners), all under one hold of the lock, so that no row
 * mixes moments.
 */
int
pgov_board_view(PgovTenant *tenants, PgovSeatTotals *totals,
				PgovBoardState *st, PgovSlotOwner *owners, int *nowners)
{
	ViewCopy	c = {tenants, totals, st, owners, nowners, 0};

	pgov_board_read(read_view, &c);
	state_control(st);
	return c.n;
}

typedef struct RecentCopy
{
	char		(*names)[NAMEDATALEN];
	PgovRecent *sums;
	TimestampTz now;
	int			n;
} RecentCopy;

static void
read_recent(const PgovBoardMoment *m, void *arg)
{
	RecentCopy *c = arg;
	const PgovBoard *b = m->board;
	int			i;

	for (i = 0; i < b->totals->ntenants; i++)
	{
		if (!b->tenants[i].in_use)
			continue;
		memcpy(c->names[c->n], b->tenants[i].name, NAMEDATALEN);
		pgov_tenant_recent(b, i, c->now, &c->sums[c->n]);
		c->n++;
	}
}

/* Each tenant's logins over the health window at now: names and sums into
 * arrays of max_tenants; returns how many tenants. */
int
pgov_board_recent(char (*names)[NAMEDATALEN], PgovRecent *sums, TimestampTz now)
{
	RecentCopy	c = {names, sums, now, 0};

	pgov_board_read(read_recent, &c);
	return c.n;
}

typedef struct ClusterCopy
{
	PgovClusterTenant *out;
	int			n;
} ClusterCopy;

static void
read_cluster(const PgovBoardMoment *m, void *arg)
{
	ClusterCopy *c = arg;
	const PgovBoard *b = m->board;
	int			i;

	for (i = 0; i < b->totals->ntenants; i++)
	{
		const PgovTenant *t = &b->tenants[i];
		const PgovNodeNumbers *n = &t->by_role[pgov_numbers_role(b->totals->role)];
		PgovClusterTenant *o = &c->out[c->n];

		if (!t->in_use || t->cluster_quota <= 0)
			continue;
		o->entry = i;
		o->incarnation = t->incarnation;
		memcpy(o->name, t->name, NAMEDATALEN);
		o->quota = t->cluster_quota;
		o->floor = n->cluster_floor;
		o->floors = n->cluster_floors;
		o->cap = n->max_connections;
		o->connected = t->connected;
		o->waiting = t->waiting;
		o->granted = t->cluster_granted;
		o->until = (TimestampTz) t->cluster_until;
		o->held = t->cluster_held;
		c->n++;
	}
}

/* The tenants with a cluster quota into out[max_tenants]; returns how
 * many. */
int
pgov_board_cluster_tenants(PgovClusterTenant *out)
{
	ClusterCopy c = {out, 0};

	pgov_board_read(read_cluster, &c);
	return c.n;
}
