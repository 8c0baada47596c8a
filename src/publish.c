/*-------------------------------------------------------------------------
 *
 * publish.c
 *		A configuration into the seat board: which tenant entries stay,
 *		which are freed and which are taken for new tenants, each entry's
 *		numbers in each role, and every live session placed and counted
 *		again (a removed tenant's sessions go where the rules now place
 *		them).  board.c's pgov_publish calls it holding the board's lock.
 *
 * Pure, like seats.c: no PostgreSQL header, the unit tests check it against
 * their model after every publication.  Nothing allocates or fails: the
 * number of entries was checked against max_tenants when the configuration
 * was validated (pgov_tenant_entries_needed).
 *
 *-------------------------------------------------------------------------
 */
#include "publish.h"

#include <string.h>

static int
find_def(const PgovTenantDef *defs, int ndefs, const char *name)
{
	return pgov_find_tenant(defs, ndefs, name);
}

/* Tenant entries a configuration needs: its tenants, and the default one
 * when the tables do not name it. */
int
pgov_tenant_entries_needed(const PgovTenantDef *defs, int ndefs,
						   const char *default_name)
{
	return ndefs + (find_def(defs, ndefs, default_name) < 0 ? 1 : 0);
}

/* def, with this node's numbers in each role (numbers NULL: def's), into
 * t, the numbers of role in force. */
static void
apply_def(const PgovBoard *b, PgovTenant *t, const PgovTenantDef *def,
		  PgovNodeNumbers *const *numbers, int d, int role)
{
	int			r;

	for (r = 0; r < PGOV_NROLES; r++)
	{
		PgovNodeNumbers *n = &t->by_role[r];

		if (numbers && d >= 0)
			*n = numbers[r][d];
		else
		{
			n->max_connections = def->max_connections;
			n->reserved_connections = def->reserved_connections;
			n->from = PGOV_FROM_TENANTS;
			n->cluster_floor = 0;
			n->cluster_floors = 0;
		}
	}
	t->configured = true;
	/* a tenant that loses its cluster quota keeps no grant */
	if (def->cluster_quota <= 0)
	{
		t->cluster_granted = 0;
		t->cluster_until = 0;
		t->cluster_held = -1;
	}
	t->cluster_quota = def->cluster_quota;
	t->max_connections = pgov_tenant_cap(b, t, role);
	t->reserved_connections = t->by_role[pgov_numbers_role(role)].reserved_connections;
	t->max_waiting = def->max_waiting;
	t->wait_timeout_ms = def->wait_timeout_ms;
	t->weight = def->weight > 0 ? def->weight : 1;
	t->drain = def->drain;
	t->drain_grace_ms = def->drain_grace_ms;
	t->refusal = def->refusal;
}

/* Takes the first free entry at or after *cursor (entries before it are
 * known to be in use), so that n allocations cost O(max_tenants). */
static int
allocate_entry(PgovBoard *b, const char *name, int64_t now, int *cursor)
{
	int			i;

	for (i = *cursor; i < b->max_tenants; i++)
	{
		PgovTenant *t = &b->tenants[i];
		uint32_t	incarnation = t->incarnation + 1;

		if (t->in_use)
			continue;
		memset(t, 0, sizeof(*t));
		t->in_use = true;
		t->incarnation = incarnation;
		memcpy(t->name, name, PGOV_NAME_LEN);
		t->wait_head = t->wait_tail = -1;
		t->wq_prev = t->wq_next = -1;
		t->ac_prev = t->ac_next = -1;
		t->cluster_held = -1;
		t->stats_reset = now;
		if (i + 1 > b->totals->ntenants)
			b->totals->ntenants = i + 1;
		*cursor = i + 1;
		return i;
	}
	return -1;
}

/*
 * Makes defs the tenants every login is judged by, and places every live
 * session where the new rules put it.
 *
 * Tenants that stay keep their entry and statistics; removed ones are freed
 * (their sessions move to where the rules now place them, which is never a
 * removed tenant); new ones take free entries.  The default tenant always
 * exists, with no cap and no reserve when defs does not name it.  Waiters
 * leave their queues and decide again under the new rules.  A governed
 * session with a plan (matching pid and entered_at) moves to the planned
 * tenant; one without (it logged in after the plan was made) stays where it
 * was if that tenant remains, else goes to the default tenant, and keeps its
 * old generation so that the worker classifies it again.  The counters are
 * then recounted from the slots.  map[i] receives the entry of defs[i].
 * defs are sorted by name (pgov_sort_tenants): the work is O(tenants log
 * tenants + slots).  Returns false, changing nothing, if the tenants do not
 * fit.
 */
bool
pgov_seat_publish(PgovBoard *b, const PgovTenantDef *defs, int ndefs,
				   PgovNodeNumbers *const *numbers, int role,
				   const char *default_name, const PgovPlan *plan,
				   uint64_t generation, int64_t now, int *map)
{
	PgovSeatTotals *tot = b->totals;
	PgovTenantDef dflt;
	int			dflt_def = find_def(defs, ndefs, default_name);
	int			dflt_entry = -1;
	int			cursor = 0;
	int			i;

	if (pgov_tenant_entries_needed(defs, ndefs, default_name) > b->max_tenants)
		return false;
	if (role != PGOV_ROLE_UNKNOWN && role != tot->role)
	{
		tot->role = role;
		tot->role_since = now;
	}
	memset(&dflt, 0, sizeof(dflt));
	strncpy(dflt.name, default_name, PGOV_NAME_LEN - 1);
	dflt.max_connections = PGOV_NO_CAP;

	/* which entries stay, and for which definition */
	for (i = 0; i < ndefs; i++)
		map[i] = -1;
	for (i = 0; i < tot->ntenants; i++)
	{
		PgovTenant *t = &b->tenants[i];
		int			d = t->in_use ? find_def(defs, ndefs, t->name) : -1;

		t->configured = false;
		if (d >= 0)
		{
			map[d] = i;
			t->configured = true;
		}
		else if (t->in_use && strcmp(t->name, dflt.name) == 0)
		{
			dflt_entry = i;
			t->configured = true;
		}
	}

	/* waiters decide again; sessions of removed tenants lose their entry */
	for (i = 0; i < b->nslots; i++)
	{
		PgovSlot   *s = &b->slots[i];

		if (s->state == PGOV_SLOT_WAITING)
		{
			s->state = PGOV_SLOT_CLAIMED;
			s->tenant = PGOV_TENANT_NONE;
			s->wait_prev = s->wait_next = -1;
		}
		else if (s->state == PGOV_SLOT_GOVERNED && !b->tenants[s->tenant].configured)
			s->tenant = PGOV_TENANT_NONE;
	}
	for (i = 0; i < tot->ntenants; i++)
		if (!b->tenants[i].configured)
			b->tenants[i].in_use = false;

	/* entries for the tenants, the default one last */
	for (i = 0; i <= ndefs; i++)
	{
		const PgovTenantDef *def = i < ndefs ? &defs[i] : &dflt;
		int			idx;

		if (i == ndefs && dflt_def >= 0)
			break;
		idx = i < ndefs ? map[i] : dflt_entry;
		if (idx < 0)
			idx = allocate_entry(b, def->name, now, &cursor);
		/* cannot fail: removed entries were freed and the count checked */
		apply_def(b, &b->tenants[idx], def, numbers, i < ndefs ? i : -1, tot->role);
		if (i < ndefs)
			map[i] = idx;
		else
			tot->default_tenant = idx;
	}
	if (dflt_def >= 0)
		tot->default_tenant = map[dflt_def];

	/* place every governed session, then recount from the slots */
	for (i = 0; i < tot->ntenants; i++)
	{
		PgovTenant *t = &b->tenants[i];

		t->connected = 0;
		t->waiting = 0;
		t->wait_head = t->wait_tail = -1;
		t->wq_prev = t->wq_next = -1;
	}
	tot->wq_head = tot->wq_tail = -1;
	tot->connected = 0;
	for (i = 0; i < b->nslots; i++)
	{
		PgovSlot   *s = &b->slots[i];

		if (s->state != PGOV_SLOT_GOVERNED)
			continue;
		if (plan && plan[i].pid == s->pid && plan[i].entered_at == s->entered_at)
		{
			s->tenant = plan[i].def >= 0 ? map[plan[i].def] : tot->default_tenant;
			s->rule_id = plan[i].rule_id;
			s->generation = generation;
		}
		else if (s->tenant == PGOV_TENANT_NONE)
			s->tenant = tot->default_tenant;
		b->tenants[s->tenant].connected++;
		tot->connected++;
	}
	tot->sum_held = 0;
	for (i = 0; i < tot->ntenants; i++)
	{
		PgovTenant *t = &b->tenants[i];

		if (!t->in_use)
			continue;
		tot->sum_held += pgov_held(t->connected, t->reserved_connections);
		if (t->connected > t->peak_connected)
		{
			t->peak_connected = t->connected;
			t->peak_at = now;
		}
	}
	pgov_seat_note_above_cap(b, now);
	return true;
}

