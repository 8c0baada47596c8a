/*-------------------------------------------------------------------------
 *
 * policy.c
 *		Rule matching and the admission arithmetic of pool_governor.
 *
 * This file is deliberately free of PostgreSQL headers: it is the part of
 * the governor whose correctness everything else rests on, so it is built
 * and tested on its own (test/unit) and fuzzed.  It allocates nothing and
 * keeps no state; every function works on the caller's memory.
 *
 * The admission rule (docs/admission.md): with held(t) =
 * max(connected(t), reserved(t)), a login into tenant t is admitted iff
 * connected(t) < max(t) and (connected(t) < reserved(t) or
 * sum(held) < capacity).  Admitting a login below its reserve does not
 * change sum(held), which is why reserved seats are always available.
 *
 *-------------------------------------------------------------------------
 */
#include "match.h"
#include "policy.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool
pgov_rule_matches(const PgovRule *rule, const PgovLogin *login,
				  PgovMemberFn is_member, void *ctx)
{
	/* cheap tests first: membership may need a catalog lookup */
	if (rule->has_database &&
		strcmp(rule->database_name, login->database_name ? login->database_name : "") != 0)
		return false;
	if (rule->has_application &&
		!pgov_glob_match(rule->application_name,
						 login->application_name ? login->application_name : ""))
		return false;
	if (rule->has_client_addr &&
		(login->addr == NULL || !pgov_cidr_contains(&rule->client_addr, login->addr)))
		return false;
	if (rule->has_role)
	{
		if (!rule->role_is_group)
			return strcmp(rule->role_name, login->role_name ? login->role_name : "") == 0;
		if (is_member == NULL || !is_member(ctx, rule->role_name, rule->group_oid))
			return false;
	}
	return true;
}

/*
 * The plain classifier, one rule after the other: rules must be in
 * (priority, id) order, the first match wins.  The reference the unit tests
 * hold pgov_classify_indexed() to; the server uses the indexed one.
 */
int
pgov_classify(const PgovRule *rules, int nrules, const PgovLogin *login,
			  PgovMemberFn is_member, void *ctx)
{
	int			i;

	for (i = 0; i < nrules; i++)
		if (pgov_rule_matches(&rules[i], login, is_member, ctx))
			return i;
	return -1;
}

/*
 * The rules' index.  A login looks at four kinds of runs of keys[]: the
 * wildcard rules, the rules of its role name, the rules of its database
 * name and, when a +group rule could still come first, the rules of each
 * group it is a member of.  Within a run the rules are in first-match
 * order, so each run is scanned only up to its first match, and never past
 * the best match found so far: the answer is the first match overall,
 * exactly as pgov_classify() finds it by walking every rule.
 */
#define PGOV_KEY_ANY		0
#define PGOV_KEY_ROLE		1
#define PGOV_KEY_GROUP		2
#define PGOV_KEY_DATABASE	3

static uint64_t
make_key(int kind, uint32_t value)
{
	return ((uint64_t) kind << 32) | value;
}

/* FNV-1a: names are looked up by hash, then compared by the match. */
static uint32_t
name_hash(const char *name)
{
	uint32_t	h = 2166136261u;

	for (; name && *name; name++)
		h = (h ^ (unsigned char) *name) * 16777619u;
	return h;
}

static uint64_t
rule_key(const PgovRule *r)
{
	if (r->has_role && !r->role_is_group)
		return make_key(PGOV_KEY_ROLE, name_hash(r->role_name));
	if (r->has_role)
		return make_key(PGOV_KEY_GROUP, r->group_oid);
	if (r->has_database)
		return make_key(PGOV_KEY_DATABASE, name_hash(r->database_name));
	return make_key(PGOV_KEY_ANY, 0);
}

static int
key_cmp(const void *a, const void *b)
{
	const PgovRuleKey *ka = a;
	const PgovRuleKey *kb = b;

	if (ka->key != kb->key)
		return ka->key < kb->key ? -1 : 1;
	return (ka->rule > kb->rule) - (ka->rule < kb->rule);
}

/*
 * Fills keys[nrules] for rules (already sorted by pgov_sort_rules) and
 * returns the index's first_group.  Allocates nothing.
 */
int
pgov_index_rules(const PgovRule *rules, int nrules, PgovRuleKey *keys)
{
	int			first_group = nrules;
	int			i;

	for (i = 0; i < nrules; i++)
	{
		keys[i].key = rule_key(&rules[i]);
		keys[i].rule = i;
		/* a +group whose role did not exist never matches */
		if (rules[i].has_role && rules[i].role_is_group &&
			rules[i].group_oid != 0 && i < first_group)
			first_group = i;
	}
	if (nrules > 1)
		qsort(keys, nrules, sizeof(PgovRuleKey), key_cmp);
	return first_group;
}

/* Membership from the login's sorted group OIDs. */
static bool
login_member(void *ctx, const char *group, uint32_t group_oid)
{
	const PgovLogin *login = ctx;
	int			lo = 0;
	int			hi = login->ngroups - 1;

	(void) group;
	if (group_oid == 0 || login->groups == NULL)
		return false;
	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (login->groups[mid] == group_oid)
			return true;
		if (login->groups[mid] < group_oid)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return false;
}

/* The first rule of key's run that matches, if it comes before best. */
static int
scan_run(const PgovRuleIndex *ix, uint64_t key, const PgovLogin *login,
		 int best)
{
	int			lo = 0;
	int			hi = ix->nrules;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (ix->keys[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < ix->nrules && ix->keys[lo].key == key; lo++)
	{
		int			r = ix->keys[lo].rule;

		if (r >= best)
			break;
		if (pgov_rule_matches(&ix->rules[r], login, login_member, (void *) login))
			return r;
	}
	return best;
}

/*
 * The position of the first rule that matches login, or -1; the same answer
 * as pgov_classify() with a membership test by group OID.  Returns
 * PGOV_NEED_GROUPS when a +group rule may decide and login->groups is NULL:
 * fill them in and ask again.
 */
int
pgov_classify_indexed(const PgovRuleIndex *ix, const PgovLogin *login)
{
	int			best = ix->nrules;
	int			i;

	best = scan_run(ix, make_key(PGOV_KEY_ANY, 0), login, best);
	best = scan_run(ix, make_key(PGOV_KEY_ROLE, name_hash(login->role_name)),
					login, best);
	best = scan_run(ix, make_key(PGOV_KEY_DATABASE,
								 name_hash(login->database_name)),
					login, best);
	if (ix->first_group < best)
	{
		if (login->groups == NULL)
			return PGOV_NEED_GROUPS;
		for (i = 0; i < login->ngroups; i++)
			if (login->groups[i] != 0)
				best = scan_run(ix, make_key(PGOV_KEY_GROUP, login->groups[i]),
								login, best);
	}
	return best < ix->nrules ? best : -1;
}

static int
rule_cmp(const void *a, const void *b)
{
	const PgovRule *ra = a;
	const PgovRule *rb = b;

	if (ra->priority != rb->priority)
		return ra->priority < rb->priority ? -1 : 1;
	if (ra->id != rb->id)
		return ra->id < rb->id ? -1 : 1;
	return 0;
}

void
pgov_sort_rules(PgovRule *rules, int nrules)
{
	if (nrules > 1)
		qsort(rules, nrules, sizeof(PgovRule), rule_cmp);
}

static void
copy_text(char *dst, size_t size, const char *src)
{
	strncpy(dst, src, size - 1);
	dst[size - 1] = '\0';
}

static bool
problem(PgovProblem *p, PgovProblemCode code, const char *tenant,
		int64_t rule_id, const char *field, int64_t value, int64_t limit)
{
	memset(p, 0, sizeof(*p));
	p->code = code;
	if (tenant)
		copy_text(p->tenant, sizeof(p->tenant), tenant);
	p->rule_id = rule_id;
	p->field = field;
	p->value = value;
	p->limit = limit;
	return false;
}

/* Copies a name field; false when it is empty or too long. */
static bool
copy_name(char *dst, const char *src)
{
	size_t		len = strlen(src);

	if (len == 0 || len >= PGOV_NAME_LEN)
		return false;
	memcpy(dst, src, len + 1);
	return true;
}

/*
 * Builds a rule from the text of its columns (NULL = any).  On failure fills
 * *p and returns false; out is then unspecified.
 */
bool
pgov_rule_build(PgovRule *out, int64_t id, int priority,
				const char *role_name, const char *database_name,
				const char *application_name, const char *client_addr,
				PgovProblem *p)
{
	memset(out, 0, sizeof(*out));
	out->id = id;
	out->priority = priority;
	out->tenant = -1;

	if (role_name)
	{
		out->has_role = true;
		out->role_is_group = (role_name[0] == '+');
		if (!copy_name(out->role_name, role_name + (out->role_is_group ? 1 : 0)))
		{
			problem(p, PGOV_BAD_ROLE, NULL, id, "role_name", 0, 0);
			copy_text(p->text, sizeof(p->text), role_name);
			return false;
		}
	}
	if (database_name)
	{
		out->has_database = true;
		if (!copy_name(out->database_name, database_name))
		{
			problem(p, PGOV_BAD_DATABASE, NULL, id, "database_name", 0, 0);
			copy_text(p->text, sizeof(p->text), database_name);
			return false;
		}
	}
	if (application_name)
	{
		const unsigned char *c;

		out->has_application = true;
		for (c = (const unsigned char *) application_name; *c; c++)
			if (*c >= 0x80)
			{
				problem(p, PGOV_NON_ASCII_GLOB, NULL, id, "application_name", 0, 0);
				copy_text(p->text, sizeof(p->text), application_name);
				return false;
			}
		if (!pgov_glob_valid(application_name))
		{
			problem(p, PGOV_BAD_GLOB, NULL, id, "application_name", 0, 0);
			copy_text(p->text, sizeof(p->text), application_name);
			return false;
		}
		strcpy(out->application_name, application_name);
	}
	if (client_addr)
	{
		out->has_client_addr = true;
		if (!pgov_cidr_parse(client_addr, &out->client_addr))
		{
			problem(p, PGOV_BAD_CIDR, NULL, id, "client_addr", 0, 0);
			copy_text(p->text, sizeof(p->text), client_addr);
			return false;
		}
	}
	return true;
}

int
pgov_held(int connected, int reserved)
{
	return connected > reserved ? connected : reserved;
}

/*
 * The admission rule, plus first come, first served: a seat that is free
 * goes to the tenant's oldest waiter, so a login with waiters ahead of it is
 * told so rather than that the tenant is full.  A tenant at its cap or with
 * no seat for it gets that reason whatever the queue.
 */
PgovDecision
pgov_decide(int connected, int max_connections, int reserved, int sum_held,
			int capacity, int waiters_ahead)
{
	if (max_connections != PGOV_NO_CAP && connected >= max_connections)
		return PGOV_REFUSE_CAP;
	if (connected >= reserved && sum_held >= capacity)
		return PGOV_REFUSE_CAPACITY;
	if (waiters_ahead > 0)
		return PGOV_REFUSE_QUEUE;
	return PGOV_ADMIT;
}

/*
 * Notes a refusal at now in a tenant's run of refusals and returns how long
 * its answer is held back, in milliseconds (policy.h).  max_ms <= 0: no
 * pacing, and the run is forgotten.
 */
int
pgov_pace_refusal(PgovPace *pace, int64_t now, int max_ms)
{
	int64_t		run_ms;

	if (max_ms <= 0)
	{
		pace->since = pace->last = 0;
		return 0;
	}
	/*
	 * Logins read the time before they take the board's lock, so they come
	 * here a little out of order: a time before the latest is taken as the
	 * latest (it is part of the same run, not a new one).
	 */
	if (now < pace->last)
		now = pace->last;
	/* a gap longer than the quiet time starts a run */
	if (pace->since == 0 ||
		now - pace->last > ((int64_t) max_ms + PGOV_PACE_QUIET_MS) * 1000)
		pace->since = now;
	pace->last = now;
	run_ms = (now - pace->since) / 1000;
	return run_ms < max_ms / PGOV_PACE_RAMP ? (int) run_ms * PGOV_PACE_RAMP : max_ms;
}

/*
 * One login's hold, between half and all of pace_ms, by seed (its pid): the
 * clients of a storm, held as long as each other, would all come back at
 * once, a burst of forks every pace_ms; spread, they come back one at a
 * time.
 */
int
pgov_pace_spread(int pace_ms, uint32_t seed)
{
	uint32_t	h = seed * 2654435761u;	/* Knuth's multiplicative hash */

	if (pace_ms <= 1)
		return pace_ms;
	return pace_ms - (int) (((uint64_t) (h >> 16) * (uint64_t) (pace_ms / 2)) >> 16);
}

bool
pgov_validate_tenant(const PgovTenantDef *t, int64_t max_wait_ms, PgovProblem *p)
{
	size_t		len = strlen(t->name);

	if (len == 0 || len >= PGOV_NAME_LEN)
	{
		problem(p, PGOV_BAD_TENANT_NAME, NULL, 0, "name", (int64_t) len, 0);
		copy_text(p->text, sizeof(p->text), t->name);
		return false;
	}
	if (t->max_connections < 0 && t->max_connections != PGOV_NO_CAP)
		return problem(p, PGOV_NEGATIVE_VALUE, t->name, 0, "max_connections",
					   t->max_connections, 0);
	if (t->reserved_connections < 0)
		return problem(p, PGOV_NEGATIVE_VALUE, t->name, 0, "reserved_connections",
					   t->reserved_connections, 0);
	if (t->max_waiting < 0)
		return problem(p, PGOV_NEGATIVE_VALUE, t->name, 0, "max_waiting",
					   t->max_waiting, 0);
	if (t->wait_timeout_ms < 0)
		return problem(p, PGOV_NEGATIVE_VALUE, t->name, 0, "wait_timeout",
					   t->wait_timeout_ms, 0);
	if (t->wait_timeout_ms > max_wait_ms)
		return problem(p, PGOV_WAIT_TOO_LONG, t->name, 0, "wait_timeout",
					   t->wait_timeout_ms, max_wait_ms);
	if (t->weight < PGOV_WEIGHT_MIN || t->weight > PGOV_WEIGHT_MAX)
		return problem(p, PGOV_BAD_WEIGHT, t->name, 0, "weight", t->weight,
					   PGOV_WEIGHT_MAX);
	if (t->drain != PGOV_DRAIN_NATURAL && t->drain != PGOV_DRAIN_IDLE)
		return problem(p, PGOV_BAD_DRAIN, t->name, 0, "drain", t->drain, 0);
	if (t->drain_grace_ms < 0)
		return problem(p, PGOV_NEGATIVE_VALUE, t->name, 0, "drain_grace",
					   t->drain_grace_ms, 0);
	if (t->drain_grace_ms > PGOV_DRAIN_GRACE_MAX_MS)
		return problem(p, PGOV_GRACE_TOO_LONG, t->name, 0, "drain_grace",
					   t->drain_grace_ms, PGOV_DRAIN_GRACE_MAX_MS);
	if (t->refusal != PGOV_REFUSAL_TOO_MANY &&
		t->refusal != PGOV_REFUSAL_CANNOT_CONNECT)
		return problem(p, PGOV_BAD_REFUSAL, t->name, 0, "refusal_sqlstate",
					   t->refusal, 0);
	if (t->cluster_quota < 0)
		return problem(p, PGOV_BAD_CLUSTER_QUOTA, t->name, 0,
					   "cluster_max_connections", t->cluster_quota, 0);
	if (t->max_connections != PGOV_NO_CAP &&
		t->reserved_connections > t->max_connections)
		return problem(p, PGOV_RESERVED_ABOVE_CAP, t->name, 0,
					   "reserved_connections", t->reserved_connections,
					   t->max_connections);
	return true;
}

static int
tenant_cmp(const void *a, const void *b)
{
	return strcmp(((const PgovTenantDef *) a)->name,
				  ((const PgovTenantDef *) b)->name);
}

/* Tenants are kept sorted by name, so that they are found in O(log n). */
void
pgov_sort_tenants(PgovTenantDef *tenants, int ntenants)
{
	if (ntenants > 1)
		qsort(tenants, ntenants, sizeof(PgovTenantDef), tenant_cmp);
}

/* The index of name in tenants (sorted by pgov_sort_tenants), or -1. */
int
pgov_find_tenant(const PgovTenantDef *tenants, int ntenants, const char *name)
{
	int			lo = 0;
	int			hi = ntenants - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;
		int			c = strcmp(tenants[mid].name, name);

		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/*
 * Checks a whole configuration (tenants sorted by name), including that each
 * rule's tenant (named by rule_tenants[i]) exists.  The first problem found is reported.
 */
bool
pgov_validate_config(const PgovTenantDef *tenants, int ntenants,
					 const char *const *rule_tenants,
					 const PgovRule *rules, int nrules,
					 const PgovLimits *limits, PgovProblem *p)
{
	int64_t		reserved_sum = 0;
	int			i;

	if (ntenants + limits->extra_tenants > limits->max_tenants)
		return problem(p, PGOV_TOO_MANY_TENANTS, NULL, 0, NULL,
					   ntenants + limits->extra_tenants, limits->max_tenants);
	if (nrules > limits->max_rules)
		return problem(p, PGOV_TOO_MANY_RULES, NULL, 0, NULL, nrules,
					   limits->max_rules);
	for (i = 0; i < ntenants; i++)
	{
		if (!pgov_validate_tenant(&tenants[i], limits->max_wait_ms, p))
			return false;
		reserved_sum += tenants[i].reserved_connections;
	}
	if (reserved_sum > limits->capacity)
		return problem(p, PGOV_RESERVED_ABOVE_CAPACITY, NULL, 0,
					   "reserved_connections", reserved_sum, limits->capacity);
	for (i = 0; i < nrules; i++)
	{
		if (pgov_find_tenant(tenants, ntenants, rule_tenants[i]) < 0)
			return problem(p, PGOV_UNKNOWN_TENANT, rule_tenants[i],
						   rules[i].id, "tenant", 0, 0);
	}
	memset(p, 0, sizeof(*p));
	return true;
}

/*
 * The rule for reserves that no longer fit (the capacity was lowered under a
 * configuration already in force, e.g. by a restart with a smaller
 * max_connections): caps stay, and every reserve is scaled by
 * capacity / sum(reserves), rounded down, so that what is reserved fits.
 * Returns the sum of the reserves before scaling; nothing changes when they
 * fit.
 */
int
pgov_scale_reserves(PgovTenantDef *tenants, int ntenants, int capacity)
{
	int64_t		sum = 0;
	int			i;

	for (i = 0; i < ntenants; i++)
		sum += tenants[i].reserved_connections;
	if (sum <= capacity)
		return (int) sum;
	for (i = 0; i < ntenants; i++)
		tenants[i].reserved_connections = (int)
			((int64_t) tenants[i].reserved_connections * (capacity > 0 ? capacity : 0) / sum);
	return (int) sum;
}

/* "cap 40" or "no cap", for messages: buf when there is a cap. */
const char *
pgov_cap_text(int max_connections, char *buf, size_t len)
{
	if (max_connections == PGOV_NO_CAP)
		return "no cap";
	snprintf(buf, len, "cap %d", max_connections);
	return buf;
}

/* --- per-node budgets --- */

/* The node value of node_limits rows for a role. */
const char *
pgov_role_name(int role)
{
	return role == PGOV_ROLE_STANDBY ? "standby" : "primary";
}

/*
 * Checks each node_limits row on its own: a node named, a tenant that
 * exists, numbers that are not negative, a reserve within the cap.  What
 * the rows add up to is checked on each node, for the numbers it resolves
 * (pgov_validate_config on pgov_apply_numbers' result).
 */
bool
pgov_validate_node_limits(const PgovNodeLimit *limits, int nlimits,
						  const PgovTenantDef *tenants, int ntenants,
						  PgovProblem *p)
{
	int			i;

	if (nlimits > PGOV_MAX_NODE_LIMITS)
		return problem(p, PGOV_TOO_MANY_NODE_LIMITS, NULL, 0, NULL, nlimits,
					   PGOV_MAX_NODE_LIMITS);
	for (i = 0; i < nlimits; i++)
	{
		const PgovNodeLimit *l = &limits[i];
		size_t		len = strnlen(l->node, PGOV_NAME_LEN);
		const char *tenant;

		if (l->tenant < 0 || l->tenant >= ntenants)
			return problem(p, PGOV_UNKNOWN_TENANT, "", 0, "tenant", 0, 0);
		tenant = tenants[l->tenant].name;
		if (len == 0 || len >= PGOV_NAME_LEN)
		{
			problem(p, PGOV_BAD_NODE_NAME, tenant, 0, "node", (int64_t) len, 0);
			copy_text(p->text, sizeof(p->text), l->node);
			return false;
		}
		if (l->max_connections < 0 && l->max_connections != PGOV_NO_CAP)
			problem(p, PGOV_NODE_NEGATIVE_VALUE, tenant, 0, "max_connections",
					l->max_connections, 0);
		else if (l->reserved_connections < 0)
			problem(p, PGOV_NODE_NEGATIVE_VALUE, tenant, 0, "reserved_connections",
					l->reserved_connections, 0);
		else if (l->cluster_floor < 0)
			problem(p, PGOV_NODE_NEGATIVE_VALUE, tenant, 0, "cluster_floor",
					l->cluster_floor, 0);
		else if (l->max_connections != PGOV_NO_CAP &&
				 l->reserved_connections > l->max_connections)
			problem(p, PGOV_NODE_RESERVED_ABOVE_CAP, tenant, 0,
					"reserved_connections", l->reserved_connections,
					l->max_connections);
		else
			continue;
		copy_text(p->text, sizeof(p->text), l->node);
		return false;
	}
	memset(p, 0, sizeof(*p));
	return true;
}

/*
 * The cluster quota's floors (node_limits.cluster_floor): only on a row
 * that names a node (a role's row would give the floor to every node in
 * that role, however many), only for a tenant with a cluster quota, and a
 * tenant's floors over all nodes at most its quota.  sums has ntenants
 * entries (scratch).  O(tenants + rows).
 */
bool
pgov_validate_cluster_floors(const PgovNodeLimit *limits, int nlimits,
							 const PgovTenantDef *tenants, int ntenants,
							 int64_t *sums, PgovProblem *p)
{
	int			i;

	memset(sums, 0, sizeof(int64_t) * (size_t) ntenants);
	for (i = 0; i < nlimits; i++)
	{
		const PgovNodeLimit *l = &limits[i];

		if (l->cluster_floor == 0 || l->tenant < 0 || l->tenant >= ntenants)
			continue;
		if (strcmp(l->node, "primary") == 0 || strcmp(l->node, "standby") == 0)
			problem(p, PGOV_FLOOR_ON_ROLE, tenants[l->tenant].name, 0,
					"cluster_floor", l->cluster_floor, 0);
		else if (tenants[l->tenant].cluster_quota == 0)
			problem(p, PGOV_FLOOR_WITHOUT_QUOTA, tenants[l->tenant].name, 0,
					"cluster_floor", l->cluster_floor, 0);
		else
		{
			sums[l->tenant] += l->cluster_floor;
			continue;
		}
		copy_text(p->text, sizeof(p->text), l->node);
		return false;
	}
	for (i = 0; i < ntenants; i++)
		if (sums[i] > tenants[i].cluster_quota && tenants[i].cluster_quota > 0)
			return problem(p, PGOV_FLOORS_ABOVE_QUOTA, tenants[i].name, 0,
						   "cluster_floor", sums[i], tenants[i].cluster_quota);
	memset(p, 0, sizeof(*p));
	return true;
}

/*
 * A node's numbers for each tenant, in the node's role: the row with the
 * node's name, else the row for its role, else the tenants row.  node_name
 * "" is a node without a name.  out has ntenants entries.  O(tenants +
 * rows).
 */
void
pgov_resolve_node(const PgovTenantDef *tenants, int ntenants,
				  const PgovNodeLimit *limits, int nlimits,
				  const char *node_name, int role, PgovNodeNumbers *out)
{
	const char *role_name = pgov_role_name(role);
	int			i;

	for (i = 0; i < ntenants; i++)
	{
		out[i].max_connections = tenants[i].max_connections;
		out[i].reserved_connections = tenants[i].reserved_connections;
		out[i].from = PGOV_FROM_TENANTS;
		out[i].cluster_floor = 0;
		out[i].cluster_floors = 0;
	}
	for (i = 0; i < nlimits; i++)
	{
		const PgovNodeLimit *l = &limits[i];
		int			from;

		if (l->tenant < 0 || l->tenant >= ntenants)
			continue;
		/* validated: at most the quota, so no overflow */
		out[l->tenant].cluster_floors += l->cluster_floor;
		if (node_name[0] != '\0' && strcmp(l->node, node_name) == 0)
			from = PGOV_FROM_NAME;
		else if (strcmp(l->node, role_name) == 0)
			from = PGOV_FROM_ROLE;
		else
			continue;
		if (from < out[l->tenant].from)
			continue;
		out[l->tenant].max_connections = l->max_connections;
		out[l->tenant].reserved_connections = l->reserved_connections;
		out[l->tenant].from = from;
		out[l->tenant].cluster_floor = from == PGOV_FROM_NAME ? l->cluster_floor : 0;
	}
}

/* Puts resolved numbers into the tenants (a copy: what validation and the
 * reserve scaling work on). */
void
pgov_apply_numbers(PgovTenantDef *tenants, int ntenants,
				   const PgovNodeNumbers *numbers)
{
	int			i;

	for (i = 0; i < ntenants; i++)
	{
		tenants[i].max_connections = numbers[i].max_connections;
		tenants[i].reserved_connections = numbers[i].reserved_connections;
	}
}

/*
 * connected over the cap (the capacity without one), in thousandths,
 * rounded half away from zero as round(x, 3) rounds: tenant_status's
 * utilization.  -1 when there is nothing to divide by (a cap of 0).
 */
int
pgov_utilization_milli(int connected, int max_connections, int capacity)
{
	int64_t		denom = max_connections != PGOV_NO_CAP ? max_connections : capacity;

	if (denom <= 0)
		return -1;
	return (int) (((int64_t) connected * 2000 + denom) / (2 * denom));
}

PgovHealth
pgov_tenant_health(const PgovHealthInput *in)
{
	/* refused > 0.1% of (admitted + refused), in integers */
	if (in->refused * 1000 > in->admitted + in->refused ||
		(in->max_connections != PGOV_NO_CAP &&
		 in->connected >= in->max_connections && in->waiting > 0))
		return PGOV_HEALTH_CRITICAL;
	if (in->utilization_milli >= 800 || in->waits > 0 || in->waiting > 0)
		return PGOV_HEALTH_WARNING;
	return PGOV_HEALTH_OK;
}

const char *
pgov_health_name(PgovHealth h)
{
	switch (h)
	{
		case PGOV_HEALTH_OK:
			return "ok";
		case PGOV_HEALTH_WARNING:
			return "warning";
		case PGOV_HEALTH_CRITICAL:
			return "critical";
	}
	return "unknown";
}
