/*
 * Unit tests of the policy code (src/policy.c) with no server: rule
 * matching, globs, CIDR, the admission arithmetic and validation.  Built
 * plain and with the sanitizers by `make unit`.  Ends with the line
 * "N passed, N failed" and exits non-zero on any failure.
 */
#include <stdio.h>
#include <string.h>

#include "match.h"
#include "policy.h"
#include "check.h"


static void
test_glob(void)
{
	CHECK(pgov_glob_match("shop-*", "shop-web"));
	CHECK(pgov_glob_match("shop-*", "shop-"));
	CHECK(!pgov_glob_match("shop-*", "shop"));
	CHECK(pgov_glob_match("*", ""));
	CHECK(pgov_glob_match("", ""));
	CHECK(!pgov_glob_match("", "x"));
	CHECK(pgov_glob_match("?", "a"));
	CHECK(!pgov_glob_match("?", ""));
	CHECK(!pgov_glob_match("?", "ab"));
	CHECK(pgov_glob_match("a*b*c", "aXXbYYc"));
	CHECK(pgov_glob_match("a*b*c", "abc"));
	CHECK(!pgov_glob_match("a*b*c", "acb"));
	CHECK(pgov_glob_match("*worker?", "report-worker7"));
	CHECK(!pgov_glob_match("*worker?", "report-worker"));
	CHECK(pgov_glob_match("**a**", "bab"));
	CHECK(pgov_glob_match("a\\*", "a*"));
	CHECK(!pgov_glob_match("a\\*", "ab"));
	CHECK(pgov_glob_match("a\\?b", "a?b"));
	CHECK(!pgov_glob_match("a\\?b", "axb"));
	CHECK(pgov_glob_match("Shop", "Shop"));
	CHECK(!pgov_glob_match("Shop", "shop"));	/* case matters */
	/* a pathological pattern stays fast and correct */
	CHECK(!pgov_glob_match("*a*a*a*a*a*a*a*a*b",
						   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));

	CHECK(pgov_glob_valid("shop-*"));
	CHECK(pgov_glob_valid(""));
	CHECK(pgov_glob_valid("a\\\\"));
	CHECK(!pgov_glob_valid("abc\\"));
	CHECK(!pgov_glob_valid("0123456789012345678901234567890123456789012345678901234567890123"));
	CHECK(pgov_glob_valid("012345678901234567890123456789012345678901234567890123456789012"));
}

static PgovCidr
addr(const char *s)
{
	PgovCidr	c;

	if (!pgov_cidr_parse(s, &c))
		memset(&c, 0, sizeof(c));
	return c;
}

static void
test_cidr(void)
{
	PgovCidr	net;
	PgovCidr	a;

	CHECK(pgov_cidr_parse("10.0.0.0/8", &net));
	CHECK(net.family == 4 && net.bits == 8);
	a = addr("10.1.2.3");
	CHECK(a.family == 4 && a.bits == 32);
	CHECK(pgov_cidr_contains(&net, &a));
	a = addr("11.1.2.3");
	CHECK(!pgov_cidr_contains(&net, &a));

	CHECK(pgov_cidr_parse("192.168.1.128/25", &net));
	a = addr("192.168.1.200");
	CHECK(pgov_cidr_contains(&net, &a));
	a = addr("192.168.1.127");
	CHECK(!pgov_cidr_contains(&net, &a));

	CHECK(pgov_cidr_parse("0.0.0.0/0", &net));
	a = addr("203.0.113.9");
	CHECK(pgov_cidr_contains(&net, &a));

	CHECK(pgov_cidr_parse("127.0.0.1/32", &net));
	a = addr("127.0.0.1");
	CHECK(pgov_cidr_contains(&net, &a));
	a = addr("127.0.0.2");
	CHECK(!pgov_cidr_contains(&net, &a));

	/* IPv6 */
	CHECK(pgov_cidr_parse("2001:db8::/32", &net));
	CHECK(net.family == 6 && net.bits == 32);
	a = addr("2001:db8:1::5");
	CHECK(pgov_cidr_contains(&net, &a));
	a = addr("2001:db9::5");
	CHECK(!pgov_cidr_contains(&net, &a));
	CHECK(pgov_cidr_parse("::1/128", &net));
	a = addr("::1");
	CHECK(pgov_cidr_contains(&net, &a));
	CHECK(pgov_cidr_parse("fe80::/10", &net));
	a = addr("febf::1");
	CHECK(pgov_cidr_contains(&net, &a));
	a = addr("fec0::1");
	CHECK(!pgov_cidr_contains(&net, &a));

	/* families never match each other, except IPv4-mapped IPv6 */
	CHECK(pgov_cidr_parse("10.0.0.0/8", &net));
	a = addr("::1");
	CHECK(!pgov_cidr_contains(&net, &a));
	a = addr("::ffff:10.9.8.7");
	CHECK(a.family == 4);
	CHECK(pgov_cidr_contains(&net, &a));

	/* malformed */
	CHECK(!pgov_cidr_parse("10.0.0.0/33", &net));
	CHECK(!pgov_cidr_parse("10.0.0.0/", &net));
	CHECK(!pgov_cidr_parse("10.0.0/8", &net));
	CHECK(!pgov_cidr_parse("::1/129", &net));
	CHECK(!pgov_cidr_parse("host.example", &net));
	CHECK(!pgov_cidr_parse("10.0.0.0/8x", &net));
	CHECK(!pgov_cidr_parse("", &net));
}

/* group membership for the tests: "shop" and "shop_batch" are in "+shoppers" */
static bool
member(void *ctx, const char *group, uint32_t group_oid)
{
	(void) group_oid;
	const char *role = ctx;

	if (strcmp(group, "shoppers") == 0)
		return strcmp(role, "shop") == 0 || strcmp(role, "shop_batch") == 0;
	return strcmp(group, role) == 0;	/* a role is a member of itself */
}

static PgovRule
rule(int64_t id, int priority, int tenant, const char *role, const char *db,
	 const char *app, const char *cidr)
{
	PgovRule	r;
	PgovProblem p;

	if (!pgov_rule_build(&r, id, priority, role, db, app, cidr, &p))
	{
		fprintf(stderr, "rule %lld did not build\n", (long long) id);
		failed++;
	}
	r.tenant = tenant;
	return r;
}

/* The OID of group "shoppers" for the indexed classifier. */
#define SHOPPERS_OID 100

/*
 * Classifies with the plain classifier and with the index, which must agree;
 * returns the tenant (-1: none).
 */
static int
classify(PgovRule *rules, int n, const char *role, const char *db,
		 const char *app, const char *ip)
{
	static const uint32_t shoppers[1] = {SHOPPERS_OID};
	PgovLogin	l;
	PgovCidr	a;
	PgovRuleKey keys[16];
	PgovRuleIndex ix;
	int			r;
	int			ri;
	int			i;

	memset(&l, 0, sizeof(l));
	for (i = 0; i < n; i++)
		if (rules[i].role_is_group && strcmp(rules[i].role_name, "shoppers") == 0)
			rules[i].group_oid = SHOPPERS_OID;
	l.role_name = role;
	l.database_name = db;
	l.application_name = app;
	if (ip)
	{
		a = addr(ip);
		l.addr = &a;
	}
	else
		l.addr = NULL;
	r = pgov_classify(rules, n, &l, member, (void *) role);

	ix.rules = rules;
	ix.nrules = n;
	ix.keys = keys;
	ix.first_group = pgov_index_rules(rules, n, keys);
	ri = pgov_classify_indexed(&ix, &l);
	if (ri == PGOV_NEED_GROUPS)
	{
		bool		in = strcmp(role, "shop") == 0 || strcmp(role, "shop_batch") == 0;

		l.groups = shoppers;
		l.ngroups = in ? 1 : 0;
		ri = pgov_classify_indexed(&ix, &l);
	}
	CHECK(ri == r);
	return r < 0 ? -1 : rules[r].tenant;
}

static void
test_classify(void)
{
	PgovRule	rules[8];
	int			n = 0;

	rules[n++] = rule(5, 100, 3, NULL, NULL, NULL, "10.9.0.0/16");
	rules[n++] = rule(1, 10, 0, "shop", NULL, NULL, NULL);
	rules[n++] = rule(2, 20, 1, "+shoppers", "shopdb", NULL, NULL);
	rules[n++] = rule(3, 30, 2, NULL, NULL, "report-*", NULL);
	rules[n++] = rule(4, 30, 4, NULL, NULL, "report-a?", NULL);
	pgov_sort_rules(rules, n);

	CHECK(rules[0].id == 1 && rules[1].id == 2 && rules[2].id == 3 &&
		  rules[3].id == 4 && rules[4].id == 5);

	/* first match by priority wins: shop matches rules 1 and 2 */
	CHECK(classify(rules, n, "shop", "shopdb", "", NULL) == 0);
	/* +group membership */
	CHECK(classify(rules, n, "shop_batch", "shopdb", "", NULL) == 1);
	/* every non-NULL field must match: wrong database */
	CHECK(classify(rules, n, "shop_batch", "other", "", NULL) == -1);
	/* equal priority: lower id first */
	CHECK(classify(rules, n, "bi", "x", "report-ab", NULL) == 2);
	/* glob */
	CHECK(classify(rules, n, "bi", "x", "reporting", NULL) == -1);
	/* CIDR, and a Unix-socket login never matches a client_addr rule */
	CHECK(classify(rules, n, "bi", "x", "psql", "10.9.3.4") == 3);
	CHECK(classify(rules, n, "bi", "x", "psql", NULL) == -1);
	CHECK(classify(rules, n, "bi", "x", "psql", "10.8.3.4") == -1);
	/* exact role names are exact */
	CHECK(classify(rules, n, "shopx", "y", "", NULL) == -1);
	/* a rule with no fields matches everyone */
	rules[n++] = rule(9, 1000, 7, NULL, NULL, NULL, NULL);
	CHECK(classify(rules, n, "anyone", "anydb", "", "127.0.0.1") == 7);
	/* no membership callback: +group never matches */
	{
		PgovLogin	l = {"shop_batch", "shopdb", "", NULL, NULL, 0};

		CHECK(!pgov_rule_matches(&rules[1], &l, NULL, NULL));
	}
}

static void
test_decide(void)
{
	/* capacity 97, the founding case */
	CHECK(pgov_decide(39, 40, 20, 50, 97, 0) == PGOV_ADMIT);
	CHECK(pgov_decide(40, 40, 20, 50, 97, 0) == PGOV_REFUSE_CAP);
	/* below the reserve: admitted even with capacity exhausted */
	CHECK(pgov_decide(5, 40, 20, 97, 97, 0) == PGOV_ADMIT);
	CHECK(pgov_decide(19, 40, 20, 97, 97, 0) == PGOV_ADMIT);
	/* fair share: lowest held / weight, then the oldest, then the slot */
	{
		PgovShareKey a = {2, 2, 100, 1};
		PgovShareKey b = {1, 1, 50, 2};

		CHECK(!pgov_share_before(&a, &b) && pgov_share_before(&b, &a));
		a.since = 40;			/* 2/2 = 1/1: the older first */
		CHECK(pgov_share_before(&a, &b) && !pgov_share_before(&b, &a));
		a.held = 3;				/* 1.5 > 1 */
		CHECK(pgov_share_before(&b, &a));
		a.held = 1;				/* 0.5 < 1, however young */
		a.since = 1000;
		CHECK(pgov_share_before(&a, &b));
		a.held = 2;
		a.since = 50;			/* equal in all but the slot */
		CHECK(pgov_share_before(&a, &b) && !pgov_share_before(&b, &a));
		a.weight = 0;			/* a zeroed weight counts as 1 */
		b.held = 2;
		CHECK(pgov_share_before(&a, &b));
	}

	/* at the reserve: needs a shared seat */
	CHECK(pgov_decide(20, 40, 20, 97, 97, 0) == PGOV_REFUSE_CAPACITY);
	CHECK(pgov_decide(20, 40, 20, 96, 97, 0) == PGOV_ADMIT);
	/* no cap */
	CHECK(pgov_decide(1000, PGOV_NO_CAP, 0, 96, 97, 0) == PGOV_ADMIT);
	CHECK(pgov_decide(1000, PGOV_NO_CAP, 0, 97, 97, 0) == PGOV_REFUSE_CAPACITY);
	/* cap 0: nobody, whatever is free */
	CHECK(pgov_decide(0, 0, 0, 0, 97, 0) == PGOV_REFUSE_CAP);
	/* reserved = cap: always admitted up to the cap, never beyond */
	CHECK(pgov_decide(9, 10, 10, 97, 97, 0) == PGOV_ADMIT);
	CHECK(pgov_decide(10, 10, 10, 50, 97, 0) == PGOV_REFUSE_CAP);
	/* capacity exhausted by reserved seats alone */
	CHECK(pgov_decide(0, PGOV_NO_CAP, 0, 97, 97, 0) == PGOV_REFUSE_CAPACITY);
	CHECK(pgov_decide(0, 50, 50, 97, 97, 0) == PGOV_ADMIT);
	/* capacity 0 */
	CHECK(pgov_decide(0, PGOV_NO_CAP, 0, 0, 0, 0) == PGOV_REFUSE_CAPACITY);

	/* first come, first served: a free seat goes to the waiters ahead */
	CHECK(pgov_decide(3, 40, 20, 50, 97, 2) == PGOV_REFUSE_QUEUE);
	CHECK(pgov_decide(3, PGOV_NO_CAP, 0, 50, 97, 1) == PGOV_REFUSE_QUEUE);
	/* but a tenant at its cap, or with no seat, is told that */
	CHECK(pgov_decide(40, 40, 20, 50, 97, 3) == PGOV_REFUSE_CAP);
	CHECK(pgov_decide(20, 40, 20, 97, 97, 3) == PGOV_REFUSE_CAPACITY);

	CHECK(pgov_held(3, 10) == 10);
	CHECK(pgov_held(12, 10) == 12);
	CHECK(pgov_held(0, 0) == 0);
}

/*
 * Plays the founding case through the arithmetic: shop (40, 20), inventory
 * (30, 10), reporting (no cap), capacity 97.  Exact counts, in any order.
 */
static void
test_founding_case(void)
{
	int			max[3] = {40, 30, PGOV_NO_CAP};
	int			res[3] = {20, 10, 0};
	int			conn[3] = {0, 0, 0};
	int			sum_held = 30;
	int			admitted[3] = {0, 0, 0};
	int			i;

	/* shop asks for 45 */
	for (i = 0; i < 45; i++)
		if (pgov_decide(conn[0], max[0], res[0], sum_held, 97, 0) == PGOV_ADMIT)
		{
			int			before = pgov_held(conn[0], res[0]);

			conn[0]++;
			sum_held += pgov_held(conn[0], res[0]) - before;
			admitted[0]++;
		}
	CHECK(admitted[0] == 40);
	/* reporting asks for 100 */
	for (i = 0; i < 100; i++)
		if (pgov_decide(conn[2], max[2], res[2], sum_held, 97, 0) == PGOV_ADMIT)
		{
			conn[2]++;
			sum_held++;
			admitted[2]++;
		}
	CHECK(admitted[2] == 97 - 40 - 10);
	/* inventory still gets its 10 reserved seats, and no more */
	for (i = 0; i < 15; i++)
		if (pgov_decide(conn[1], max[1], res[1], sum_held, 97, 0) == PGOV_ADMIT)
		{
			int			before = pgov_held(conn[1], res[1]);

			conn[1]++;
			sum_held += pgov_held(conn[1], res[1]) - before;
			admitted[1]++;
		}
	CHECK(admitted[1] == 10);
	CHECK(sum_held == 97);
}

static const PgovLimits *
limits(int capacity, int max_tenants, int max_rules)
{
	static PgovLimits l;

	l.capacity = capacity;
	l.max_tenants = max_tenants;
	l.extra_tenants = 0;
	l.max_rules = max_rules;
	l.max_wait_ms = 120000;
	return &l;
}

static void
test_validate(void)
{
	PgovTenantDef t[3];
	PgovRule	r[1];
	const char *rt[1];
	PgovProblem p;
	PgovRule	built;

	/* tenants are kept sorted by name */
	enum
	{
		INV, REP, SHOP
	};

	memset(t, 0, sizeof(t));
	strcpy(t[SHOP].name, "shop");
	t[SHOP].max_connections = 40;
	t[SHOP].reserved_connections = 20;
	strcpy(t[INV].name, "inventory");
	t[INV].max_connections = 30;
	t[INV].reserved_connections = 10;
	strcpy(t[REP].name, "reporting");
	t[REP].max_connections = PGOV_NO_CAP;
	for (int i = 0; i < 3; i++)
		t[i].weight = 1;
	r[0] = rule(1, 100, -1, "shop", NULL, NULL, NULL);
	rt[0] = "shop";

	CHECK(pgov_validate_config(t, 3, rt, r, 1, limits(97, 64, 256), &p));
	CHECK(p.code == PGOV_OK);

	/* reserved seats summing above capacity */
	CHECK(!pgov_validate_config(t, 3, rt, r, 1, limits(29, 64, 256), &p));
	CHECK(p.code == PGOV_RESERVED_ABOVE_CAPACITY && p.value == 30 && p.limit == 29);
	CHECK(pgov_validate_config(t, 3, rt, r, 1, limits(30, 64, 256), &p));

	/* unknown tenant */
	rt[0] = "nobody";
	CHECK(!pgov_validate_config(t, 3, rt, r, 1, limits(97, 64, 256), &p));
	CHECK(p.code == PGOV_UNKNOWN_TENANT && strcmp(p.tenant, "nobody") == 0 &&
		  p.rule_id == 1);
	rt[0] = "shop";

	/* limits of the shared memory */
	CHECK(!pgov_validate_config(t, 3, rt, r, 1, limits(97, 2, 256), &p));
	CHECK(p.code == PGOV_TOO_MANY_TENANTS);
	CHECK(!pgov_validate_config(t, 3, rt, r, 1, limits(97, 64, 0), &p));
	CHECK(p.code == PGOV_TOO_MANY_RULES);

	/* the implicit default tenant counts against max_tenants too */
	{
		PgovLimits	l = *limits(97, 3, 256);

		CHECK(pgov_validate_config(t, 3, rt, r, 1, &l, &p));
		l.extra_tenants = 1;
		CHECK(!pgov_validate_config(t, 3, rt, r, 1, &l, &p));
		CHECK(p.code == PGOV_TOO_MANY_TENANTS && p.value == 4 && p.limit == 3);
	}

	/* a wait longer than authentication_timeout, however written */
	t[INV].wait_timeout_ms = 120001;
	CHECK(!pgov_validate_config(t, 3, rt, r, 1, limits(97, 64, 256), &p));
	CHECK(p.code == PGOV_WAIT_TOO_LONG && p.limit == 120000);
	t[INV].wait_timeout_ms = INT64_MAX;
	CHECK(!pgov_validate_config(t, 3, rt, r, 1, limits(97, 64, 256), &p));
	t[INV].wait_timeout_ms = 120000;
	CHECK(pgov_validate_config(t, 3, rt, r, 1, limits(97, 64, 256), &p));
	t[INV].wait_timeout_ms = 0;

	/* reserves that no longer fit are scaled down, caps untouched */
	{
		PgovTenantDef s2[3];

		memcpy(s2, t, sizeof(s2));
		CHECK(pgov_scale_reserves(s2, 3, 97) == 30);
		CHECK(s2[SHOP].reserved_connections == 20 && s2[INV].reserved_connections == 10);
		CHECK(pgov_scale_reserves(s2, 3, 15) == 30);
		CHECK(s2[SHOP].reserved_connections == 10 && s2[INV].reserved_connections == 5);
		CHECK(s2[SHOP].max_connections == 40 && s2[INV].max_connections == 30);
		CHECK(pgov_scale_reserves(s2, 3, 0) == 15);
		CHECK(s2[SHOP].reserved_connections == 0 && s2[INV].reserved_connections == 0);
	}

	/* reserved above cap, negative numbers */
	t[SHOP].reserved_connections = 41;
	CHECK(!pgov_validate_config(t, 3, rt, r, 1, limits(97, 64, 256), &p));
	CHECK(p.code == PGOV_RESERVED_ABOVE_CAP && strcmp(p.tenant, "shop") == 0);
	t[SHOP].reserved_connections = 40;
	CHECK(pgov_validate_tenant(&t[SHOP], 120000, &p));
	t[SHOP].reserved_connections = -1;
	CHECK(!pgov_validate_tenant(&t[SHOP], 120000, &p));
	CHECK(p.code == PGOV_NEGATIVE_VALUE && strcmp(p.field, "reserved_connections") == 0);
	t[SHOP].reserved_connections = 0;
	t[SHOP].max_waiting = -5;
	CHECK(!pgov_validate_tenant(&t[SHOP], 120000, &p));
	CHECK(p.code == PGOV_NEGATIVE_VALUE && p.value == -5);
	t[SHOP].max_waiting = 0;
	t[SHOP].wait_timeout_ms = -1;
	CHECK(!pgov_validate_tenant(&t[SHOP], 120000, &p));
	t[SHOP].wait_timeout_ms = 0;
	t[SHOP].max_connections = -3;
	CHECK(!pgov_validate_tenant(&t[SHOP], 120000, &p));
	t[SHOP].max_connections = 0;	/* cap 0 is valid: a tenant kept out */
	CHECK(pgov_validate_tenant(&t[SHOP], 120000, &p));
	/* weight 1 to 1000, a known drain, a grace not negative */
	t[SHOP].weight = 0;
	CHECK(!pgov_validate_tenant(&t[SHOP], 120000, &p));
	CHECK(p.code == PGOV_BAD_WEIGHT && strcmp(p.field, "weight") == 0 && p.value == 0);
	t[SHOP].weight = 1001;
	CHECK(!pgov_validate_tenant(&t[SHOP], 120000, &p));
	CHECK(p.code == PGOV_BAD_WEIGHT && p.value == 1001 && p.limit == 1000);
	t[SHOP].weight = 1000;
	CHECK(pgov_validate_tenant(&t[SHOP], 120000, &p));
	t[SHOP].drain = 7;
	CHECK(!pgov_validate_tenant(&t[SHOP], 120000, &p));
	CHECK(p.code == PGOV_BAD_DRAIN);
	t[SHOP].drain = PGOV_DRAIN_IDLE;
	t[SHOP].drain_grace_ms = -1;
	CHECK(!pgov_validate_tenant(&t[SHOP], 120000, &p));
	CHECK(p.code == PGOV_NEGATIVE_VALUE && strcmp(p.field, "drain_grace") == 0);
	t[SHOP].drain_grace_ms = 0;
	CHECK(pgov_validate_tenant(&t[SHOP], 120000, &p));
	t[SHOP].name[0] = '\0';
	CHECK(!pgov_validate_tenant(&t[SHOP], 120000, &p));
	CHECK(p.code == PGOV_BAD_TENANT_NAME);

	/* a pattern with non-ASCII bytes could never match what a client sends */
	CHECK(!pgov_rule_build(&built, 8, 1, NULL, NULL, "caf\xc3\xa9*", NULL, &p));
	CHECK(p.code == PGOV_NON_ASCII_GLOB && p.rule_id == 8);
	CHECK(pgov_rule_build(&built, 8, 1, NULL, NULL, "caf??*", NULL, &p));

	/* rule fields */
	CHECK(!pgov_rule_build(&built, 7, 1, "+", NULL, NULL, NULL, &p));
	CHECK(p.code == PGOV_BAD_ROLE && p.rule_id == 7);
	CHECK(!pgov_rule_build(&built, 7, 1, "", NULL, NULL, NULL, &p));
	CHECK(!pgov_rule_build(&built, 7, 1, NULL, "", NULL, NULL, &p));
	CHECK(p.code == PGOV_BAD_DATABASE);
	CHECK(!pgov_rule_build(&built, 7, 1, NULL, NULL, "bad\\", NULL, &p));
	CHECK(p.code == PGOV_BAD_GLOB && strcmp(p.text, "bad\\") == 0);
	CHECK(!pgov_rule_build(&built, 7, 1, NULL, NULL, NULL, "10.0.0.0/40", &p));
	CHECK(p.code == PGOV_BAD_CIDR);
	CHECK(pgov_rule_build(&built, 7, 1, "+admins", "db", "app*", "::/0", &p));
	CHECK(built.role_is_group && strcmp(built.role_name, "admins") == 0);
}

/* --- randomized checks against simple references --- */

static unsigned rng_state = 12345;

static unsigned
rng(void)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return (rng_state >> 16) & 0x7fff;
}

/* The obvious recursive matcher: exponential, but plainly right. */
static bool
glob_reference(const char *p, const char *t)
{
	if (*p == '\0')
		return *t == '\0';
	if (*p == '*')
		return glob_reference(p + 1, t) || (*t && glob_reference(p, t + 1));
	if (*t == '\0')
		return false;
	if (*p == '?')
		return glob_reference(p + 1, t + 1);
	if (*p == '\\' && p[1])
		return p[1] == *t && glob_reference(p + 2, t + 1);
	return *p == *t && glob_reference(p + 1, t + 1);
}

static void
test_glob_random(void)
{
	static const char alphabet[] = "ab*?\\";
	int			mismatches = 0;
	int			i;

	for (i = 0; i < 200000; i++)
	{
		char		pat[12];
		char		txt[12];
		int			plen = rng() % 10;
		int			tlen = rng() % 10;
		int			k;

		for (k = 0; k < plen; k++)
			pat[k] = alphabet[rng() % 5];
		pat[plen] = '\0';
		for (k = 0; k < tlen; k++)
			txt[k] = "ab*?"[rng() % 4];
		txt[tlen] = '\0';
		if (!pgov_glob_valid(pat))
			continue;
		if (pgov_glob_match(pat, txt) != glob_reference(pat, txt))
		{
			if (mismatches++ < 5)
				fprintf(stderr, "glob mismatch: pattern \"%s\" text \"%s\"\n", pat, txt);
		}
	}
	CHECK(mismatches == 0);
}

static void
test_cidr_random(void)
{
	int			wrong = 0;
	int			i;

	for (i = 0; i < 50000; i++)
	{
		PgovCidr	a,
					net;
		int			v6 = rng() % 2;
		int			len = v6 ? 16 : 4;
		int			bits = rng() % (len * 8 + 1);
		int			k,
					b;
		bool		expect = true;

		memset(&a, 0, sizeof(a));
		a.family = v6 ? 6 : 4;
		a.bits = len * 8;
		for (k = 0; k < len; k++)
			a.addr[k] = (uint8_t) rng();
		if (v6)
			a.addr[0] = 0x20;	/* not v4-mapped */
		net = a;
		net.bits = (uint8_t) bits;
		/* flip one random bit: inside the prefix it must no longer match */
		b = rng() % (len * 8);
		a.addr[b / 8] ^= (uint8_t) (0x80 >> (b % 8));
		if (b < bits)
			expect = false;
		if (v6 && b < 8)
			continue;			/* may have made it v4-mapped */
		if (pgov_cidr_contains(&net, &a) != expect)
			wrong++;
	}
	CHECK(wrong == 0);
}

/*
 * The indexed classifier against the plain one: 100,000 random
 * configurations, each asked by a random login.  Names come from small sets
 * so that rules collide and match often; +group rules name groups with an
 * OID (or none: a group that did not exist); priorities repeat, so ids
 * decide.  The index may ask for the login's groups (PGOV_NEED_GROUPS) and
 * must then answer the same as the plain classifier, whose membership test
 * is written here independently.
 */
#define RAND_MAX_RULES 48

typedef struct RandLogin
{
	PgovLogin	login;
	PgovCidr	addr;
	uint32_t	groups[4];
} RandLogin;

static bool
rand_member(void *ctx, const char *group, uint32_t group_oid)
{
	const RandLogin *rl = ctx;
	int			i;

	(void) group;
	for (i = 0; i < rl->login.ngroups; i++)
		if (group_oid != 0 && rl->groups[i] == group_oid)
			return true;
	return false;
}

static const char *
pick(const char *const *set, int n)
{
	return set[rng() % n];
}

static void
test_classify_indexed_random(void)
{
	static const char *const roles[] = {"alice", "bob", "carol", "dave", "shop"};
	static const char *const dbs[] = {"app", "shopdb", "postgres"};
	static const char *const groups[] = {"readers", "writers", "ghosts"};
	static const uint32_t group_oids[] = {11, 12, 0};	/* ghosts: no such role */
	static const char *const globs[] = {"*", "web-*", "web-?", "batch", "", "w*b*"};
	static const char *const apps[] = {"web-1", "web-12", "batch", "", "wxb"};
	static const char *const nets[] = {"10.0.0.0/8", "10.1.0.0/16", "192.168.1.7", "::1", "0.0.0.0/0"};
	static const char *const ips[] = {"10.1.2.3", "10.2.0.1", "192.168.1.7", "::1", NULL};
	int			wrong = 0;
	int			needed = 0;
	int			matched = 0;
	int			iter;

	for (iter = 0; iter < 100000; iter++)
	{
		PgovRule	rules[RAND_MAX_RULES];
		PgovRuleKey keys[RAND_MAX_RULES];
		PgovRuleIndex ix;
		RandLogin	rl;
		PgovProblem p;
		int			n = 1 + (int) (rng() % RAND_MAX_RULES);
		int			i;
		int			plain;
		int			indexed;
		const char *ip;

		for (i = 0; i < n; i++)
		{
			const char *role = NULL;
			char		grp[PGOV_NAME_LEN];
			int			g = -1;

			switch (rng() % 4)
			{
				case 0:
					role = pick(roles, 5);
					break;
				case 1:
					g = (int) (rng() % 3);
					snprintf(grp, sizeof(grp), "+%s", groups[g]);
					role = grp;
					break;
				default:
					break;
			}
			if (!pgov_rule_build(&rules[i], 1 + (int64_t) (rng() % 1000) * RAND_MAX_RULES + i,
								 (int) (rng() % 4) * 10, role,
								 rng() % 3 == 0 ? pick(dbs, 3) : NULL,
								 rng() % 4 == 0 ? pick(globs, 6) : NULL,
								 rng() % 5 == 0 ? pick(nets, 5) : NULL, &p))
			{
				wrong++;
				continue;
			}
			rules[i].tenant = i;
			if (g >= 0)
				rules[i].group_oid = group_oids[g];
		}
		pgov_sort_rules(rules, n);

		memset(&rl, 0, sizeof(rl));
		rl.login.role_name = pick(roles, 5);
		rl.login.database_name = pick(dbs, 3);
		rl.login.application_name = pick(apps, 5);
		ip = ips[rng() % 5];
		if (ip && pgov_cidr_parse(ip, &rl.addr))
			rl.login.addr = &rl.addr;
		/* sorted memberships: a subset of readers (11) and writers (12) */
		if (rng() % 2)
			rl.groups[rl.login.ngroups++] = 11;
		if (rng() % 2)
			rl.groups[rl.login.ngroups++] = 12;

		plain = pgov_classify(rules, n, &rl.login, rand_member, &rl);

		ix.rules = rules;
		ix.nrules = n;
		ix.keys = keys;
		ix.first_group = pgov_index_rules(rules, n, keys);
		{
			PgovLogin	unknown = rl.login;

			unknown.groups = NULL;
			indexed = pgov_classify_indexed(&ix, &unknown);
		}
		if (indexed == PGOV_NEED_GROUPS)
		{
			needed++;
			rl.login.groups = rl.groups;
			indexed = pgov_classify_indexed(&ix, &rl.login);
		}
		if (indexed != plain)
			wrong++;
		if (plain >= 0)
			matched++;
	}
	CHECK(wrong == 0);
	/* the draw exercises both outcomes and both paths */
	CHECK(matched > 10000 && 100000 - matched > 1000);
	CHECK(needed > 1000 && needed < 99000);
	printf("indexed classifier: 100000 configurations, %d matched, %d needed groups, %d disagreements\n",
		   matched, needed, wrong);
}

/*
 * Random logins and logouts over three tenants: the invariants the
 * admission contract promises hold after every step.
 */
static void
test_admission_random(void)
{
	int			capacity = 20;
	int			max[3] = {8, PGOV_NO_CAP, 5};
	int			res[3] = {4, 0, 5};
	int			conn[3] = {0, 0, 0};
	int			sum_held = 9;
	int			violations = 0;
	int			i;

	for (i = 0; i < 200000; i++)
	{
		int			t = rng() % 3;
		int			before = pgov_held(conn[t], res[t]);

		if (rng() % 2)
		{
			PgovDecision d = pgov_decide(conn[t], max[t], res[t], sum_held, capacity, 0);

			/* below its reserve a tenant is never refused */
			if (conn[t] < res[t] && d != PGOV_ADMIT)
				violations++;
			if (d == PGOV_ADMIT)
				conn[t]++;
		}
		else if (conn[t] > 0)
			conn[t]--;
		sum_held += pgov_held(conn[t], res[t]) - before;

		if (sum_held > capacity)
			violations++;
		if (max[t] != PGOV_NO_CAP && conn[t] > max[t])
			violations++;
		if (sum_held != pgov_held(conn[0], res[0]) + pgov_held(conn[1], res[1]) +
			pgov_held(conn[2], res[2]))
			violations++;
	}
	CHECK(violations == 0);
}

/*
 * Per-node budgets: a node's numbers come from its name's row, else its
 * role's, else the tenants row; each row is checked on its own.
 */
static void
test_node_limits(void)
{
	PgovTenantDef t[3];
	PgovNodeLimit l[4];
	PgovNodeNumbers n[3];
	PgovProblem p;
	enum
	{
		INV, REP, SHOP
	};

	memset(t, 0, sizeof(t));
	strcpy(t[INV].name, "inventory");
	t[INV].max_connections = 30;
	strcpy(t[REP].name, "reporting");
	t[REP].max_connections = 30;
	t[REP].reserved_connections = 5;
	strcpy(t[SHOP].name, "shop");
	t[SHOP].max_connections = 40;
	t[SHOP].reserved_connections = 10;
	memset(l, 0, sizeof(l));
	strcpy(l[0].node, "primary");
	l[0].tenant = REP;
	l[0].max_connections = 0;
	strcpy(l[1].node, "standby");
	l[1].tenant = SHOP;
	l[1].max_connections = 20;
	strcpy(l[2].node, "pg3");
	l[2].tenant = SHOP;
	l[2].max_connections = 10;
	l[2].reserved_connections = 2;
	strcpy(l[3].node, "pg9");
	l[3].tenant = INV;
	l[3].max_connections = PGOV_NO_CAP;

	/* a primary without a name: reporting only on the standbys */
	pgov_resolve_node(t, 3, l, 4, "", PGOV_ROLE_PRIMARY, n);
	CHECK(n[REP].max_connections == 0 && n[REP].reserved_connections == 0 &&
		  n[REP].from == PGOV_FROM_ROLE);
	CHECK(n[SHOP].max_connections == 40 && n[SHOP].reserved_connections == 10 &&
		  n[SHOP].from == PGOV_FROM_TENANTS);
	CHECK(n[INV].max_connections == 30 && n[INV].from == PGOV_FROM_TENANTS);
	/* a standby without a name */
	pgov_resolve_node(t, 3, l, 4, "", PGOV_ROLE_STANDBY, n);
	CHECK(n[SHOP].max_connections == 20 && n[SHOP].reserved_connections == 0 &&
		  n[SHOP].from == PGOV_FROM_ROLE);
	CHECK(n[REP].max_connections == 30 && n[REP].reserved_connections == 5 &&
		  n[REP].from == PGOV_FROM_TENANTS);
	/* pg3: its name's row beats its role's, in either role */
	pgov_resolve_node(t, 3, l, 4, "pg3", PGOV_ROLE_STANDBY, n);
	CHECK(n[SHOP].max_connections == 10 && n[SHOP].reserved_connections == 2 &&
		  n[SHOP].from == PGOV_FROM_NAME);
	pgov_resolve_node(t, 3, l, 4, "pg3", PGOV_ROLE_PRIMARY, n);
	CHECK(n[SHOP].max_connections == 10 && n[SHOP].from == PGOV_FROM_NAME);
	CHECK(n[REP].max_connections == 0 && n[REP].from == PGOV_FROM_ROLE);
	/* the same rows, in another order, say the same */
	{
		PgovNodeLimit r[4] = {l[2], l[1], l[3], l[0]};
		PgovNodeNumbers m[3];

		pgov_resolve_node(t, 3, r, 4, "pg3", PGOV_ROLE_STANDBY, m);
		pgov_resolve_node(t, 3, l, 4, "pg3", PGOV_ROLE_STANDBY, n);
		CHECK(memcmp(m, n, sizeof(m)) == 0);
	}
	/* pg9: no cap there */
	pgov_resolve_node(t, 3, l, 4, "pg9", PGOV_ROLE_PRIMARY, n);
	CHECK(n[INV].max_connections == PGOV_NO_CAP && n[INV].from == PGOV_FROM_NAME);
	/* applied to a copy, the validation of this node's numbers sees them */
	{
		PgovTenantDef c[3];

		memcpy(c, t, sizeof(c));
		pgov_resolve_node(t, 3, l, 4, "", PGOV_ROLE_PRIMARY, n);
		pgov_apply_numbers(c, 3, n);
		CHECK(c[REP].max_connections == 0 && c[REP].reserved_connections == 0);
		CHECK(strcmp(c[REP].name, "reporting") == 0 && t[REP].max_connections == 30);
	}

	CHECK(pgov_validate_node_limits(l, 4, t, 3, &p));
	l[1].reserved_connections = 21;
	CHECK(!pgov_validate_node_limits(l, 4, t, 3, &p));
	CHECK(p.code == PGOV_NODE_RESERVED_ABOVE_CAP && p.value == 21 && p.limit == 20 &&
		  strcmp(p.tenant, "shop") == 0 && strcmp(p.text, "standby") == 0);
	l[1].reserved_connections = -1;
	CHECK(!pgov_validate_node_limits(l, 4, t, 3, &p));
	CHECK(p.code == PGOV_NODE_NEGATIVE_VALUE && p.value == -1);
	l[1].reserved_connections = 0;
	l[1].max_connections = -2;
	CHECK(!pgov_validate_node_limits(l, 4, t, 3, &p));
	CHECK(p.code == PGOV_NODE_NEGATIVE_VALUE && strcmp(p.field, "max_connections") == 0);
	l[1].max_connections = 20;
	l[2].node[0] = '\0';
	CHECK(!pgov_validate_node_limits(l, 4, t, 3, &p));
	CHECK(p.code == PGOV_BAD_NODE_NAME);
	strcpy(l[2].node, "pg3");
	l[3].tenant = 3;
	CHECK(!pgov_validate_node_limits(l, 4, t, 3, &p));
	CHECK(p.code == PGOV_UNKNOWN_TENANT);
	/* more rows than the snapshot holds: refused before any is read */
	CHECK(!pgov_validate_node_limits(l, PGOV_MAX_NODE_LIMITS + 1, t, 3, &p));
	CHECK(p.code == PGOV_TOO_MANY_NODE_LIMITS && p.value == PGOV_MAX_NODE_LIMITS + 1);
	CHECK(strcmp(pgov_role_name(PGOV_ROLE_PRIMARY), "primary") == 0 &&
		  strcmp(pgov_role_name(PGOV_ROLE_STANDBY), "standby") == 0);
	l[3].tenant = INV;

	/*
	 * Cluster floors: on named rows, of tenants with a cluster quota,
	 * summing to at most the quota; a node's floor is its named row's.
	 */
	{
		int64_t		sums[3];

		t[SHOP].cluster_quota = 12;
		l[2].cluster_floor = 4;	/* pg3's */
		CHECK(pgov_validate_cluster_floors(l, 4, t, 3, sums, &p));
		CHECK(sums[SHOP] == 4 && sums[INV] == 0);
		pgov_resolve_node(t, 3, l, 4, "pg3", PGOV_ROLE_STANDBY, n);
		CHECK(n[SHOP].cluster_floor == 4 && n[INV].cluster_floor == 0);
		CHECK(n[SHOP].cluster_floors == 4 && n[INV].cluster_floors == 0);
		/* another node: no floor of its own, the same sum of all */
		pgov_resolve_node(t, 3, l, 4, "pg9", PGOV_ROLE_STANDBY, n);
		CHECK(n[SHOP].cluster_floor == 0 && n[SHOP].cluster_floors == 4);
		/* a role's row: every node in the role would have it */
		l[1].cluster_floor = 1;
		CHECK(!pgov_validate_cluster_floors(l, 4, t, 3, sums, &p));
		CHECK(p.code == PGOV_FLOOR_ON_ROLE && strcmp(p.text, "standby") == 0 &&
			  strcmp(p.tenant, "shop") == 0);
		l[1].cluster_floor = 0;
		/* a tenant without a quota */
		l[3].cluster_floor = 2;
		CHECK(!pgov_validate_cluster_floors(l, 4, t, 3, sums, &p));
		CHECK(p.code == PGOV_FLOOR_WITHOUT_QUOTA && strcmp(p.text, "pg9") == 0 &&
			  strcmp(p.tenant, "inventory") == 0);
		l[3].cluster_floor = 0;
		/* floors above the quota: refused with their sum */
		l[2].cluster_floor = 13;
		CHECK(!pgov_validate_cluster_floors(l, 4, t, 3, sums, &p));
		CHECK(p.code == PGOV_FLOORS_ABOVE_QUOTA && p.value == 13 && p.limit == 12);
		l[2].cluster_floor = 12;
		CHECK(pgov_validate_cluster_floors(l, 4, t, 3, sums, &p));
		/* a negative floor is a node_limits value like the others */
		l[2].cluster_floor = -1;
		CHECK(!pgov_validate_node_limits(l, 4, t, 3, &p));
		CHECK(p.code == PGOV_NODE_NEGATIVE_VALUE && strcmp(p.field, "cluster_floor") == 0);
		l[2].cluster_floor = 0;
		/* and a negative quota is refused with the tenant */
		{
			PgovTenantDef q = t[SHOP];

			q.weight = 1;
			q.cluster_quota = 1;
			CHECK(pgov_validate_tenant(&q, INT64_MAX, &p));
			q.cluster_quota = -1;
			CHECK(!pgov_validate_tenant(&q, INT64_MAX, &p) &&
				  p.code == PGOV_BAD_CLUSTER_QUOTA && p.value == -1);
		}
		t[SHOP].cluster_quota = 0;
	}
}

/*
 * The health rule, once for tenant_status and health: the founding case's
 * shop (cap 40), and the edges of each clause.
 */
static PgovHealth
health_of(int connected, int cap, int waiting, int capacity, int64_t admitted,
		  int64_t refused, int64_t waits)
{
	PgovHealthInput in;

	in.connected = connected;
	in.max_connections = cap;
	in.waiting = waiting;
	in.utilization_milli = pgov_utilization_milli(connected, cap, capacity);
	in.admitted = admitted;
	in.refused = refused;
	in.waits = waits;
	return pgov_tenant_health(&in);
}

static void
test_health(void)
{
	/* utilization: round(connected / cap, 3), the capacity without a cap */
	CHECK(pgov_utilization_milli(32, 40, 97) == 800);
	CHECK(pgov_utilization_milli(1, 3, 97) == 333);
	CHECK(pgov_utilization_milli(2, 3, 97) == 667);
	CHECK(pgov_utilization_milli(1, 2000, 97) == 1);	/* 0.0005 rounds up */
	CHECK(pgov_utilization_milli(50, PGOV_NO_CAP, 97) == 515);
	CHECK(pgov_utilization_milli(3, 0, 97) == -1);	/* a cap of 0: none */
	CHECK(pgov_utilization_milli(0, PGOV_NO_CAP, 0) == -1);

	/* the shop during the flash sale: 40 of 40 with logins waiting */
	CHECK(health_of(40, 40, 3, 97, 1000, 0, 0) == PGOV_HEALTH_CRITICAL);
	/* more than 0.1% refused: 2 of 1,001 is, 1 of 1,001 is not */
	CHECK(health_of(10, 40, 0, 97, 999, 2, 0) == PGOV_HEALTH_CRITICAL);
	CHECK(health_of(10, 40, 0, 97, 1000, 1, 0) == PGOV_HEALTH_OK);
	/* 80% of the cap, waits over the window, waiting now: warning */
	CHECK(health_of(32, 40, 0, 97, 100, 0, 0) == PGOV_HEALTH_WARNING);
	CHECK(health_of(31, 40, 0, 97, 100, 0, 0) == PGOV_HEALTH_OK);
	CHECK(health_of(10, 40, 0, 97, 100, 0, 1) == PGOV_HEALTH_WARNING);
	CHECK(health_of(10, 40, 1, 97, 100, 0, 0) == PGOV_HEALTH_WARNING);
	/* no cap: 80% of the capacity; a cap of 0 never warns by utilization */
	CHECK(health_of(78, PGOV_NO_CAP, 0, 97, 100, 0, 0) == PGOV_HEALTH_WARNING);
	CHECK(health_of(0, 0, 0, 97, 0, 0, 0) == PGOV_HEALTH_OK);
	CHECK(strcmp(pgov_health_name(PGOV_HEALTH_CRITICAL), "critical") == 0 &&
		  strcmp(pgov_health_name(PGOV_HEALTH_WARNING), "warning") == 0 &&
		  strcmp(pgov_health_name(PGOV_HEALTH_OK), "ok") == 0);
}

static void
test_drain_grace(void)
{
	PgovTenantDef t;
	PgovProblem p;

	memset(&t, 0, sizeof(t));
	strcpy(t.name, "reporting");
	t.max_connections = 20;
	t.weight = 1;
	t.drain = PGOV_DRAIN_IDLE;
	t.drain_grace_ms = PGOV_DRAIN_GRACE_MAX_MS;
	CHECK(pgov_validate_tenant(&t, 60000, &p));
	t.drain_grace_ms = PGOV_DRAIN_GRACE_MAX_MS + 1;
	CHECK(!pgov_validate_tenant(&t, 60000, &p));
	CHECK(p.code == PGOV_GRACE_TOO_LONG && p.value == PGOV_DRAIN_GRACE_MAX_MS + 1 &&
		  p.limit == PGOV_DRAIN_GRACE_MAX_MS);
	t.drain_grace_ms = -1;
	CHECK(!pgov_validate_tenant(&t, 60000, &p) && p.code == PGOV_NEGATIVE_VALUE);
}

/*
 * Pacing refusals: a lone refusal and a burst over in a moment are
 * answered at once; a run of refusals is held back as long as it has kept
 * coming, up to the most; a quiet gap starts a new run; 0 turns it off.
 */
static void
test_pace_refusal(void)
{
	PgovPace	p = {0, 0};
	const int64_t ms = 1000;
	int64_t		t = 5000 * ms;
	int			i;

	CHECK(pgov_pace_refusal(&p, t, 1000) == 0);	/* the first */
	/* a burst: PGOV_PACE_RAMP times its age so far */
	CHECK(pgov_pace_refusal(&p, t + 2 * ms, 1000) == 2 * PGOV_PACE_RAMP);
	CHECK(pgov_pace_refusal(&p, t + 20 * ms, 1000) == 20 * PGOV_PACE_RAMP);
	/* the most, once the run is max_ms / PGOV_PACE_RAMP old */
	CHECK(pgov_pace_refusal(&p, t + (1000 / PGOV_PACE_RAMP) * ms, 1000) == 1000);
	/* a storm: one every 20 ms for 3 s reaches the most and stays there */
	for (i = 31; i <= 150; i++)
		pgov_pace_refusal(&p, t + i * 20 * ms, 1000);
	CHECK(pgov_pace_refusal(&p, t + 3020 * ms, 1000) == 1000);
	/* a client held 1000 ms and back at once keeps the run going */
	CHECK(pgov_pace_refusal(&p, t + 4030 * ms, 1000) == 1000);
	/* a gap of the most plus the quiet time ends the run ... */
	CHECK(pgov_pace_refusal(&p, t + 4030 * ms + (1000 + PGOV_PACE_QUIET_MS) * ms, 1000) == 1000);
	t += 4030 * ms + 2 * (1000 + PGOV_PACE_QUIET_MS) * ms + 1;
	CHECK(pgov_pace_refusal(&p, t, 1000) == 0);
	/* ... and the run starts again from nothing */
	CHECK(pgov_pace_refusal(&p, t + 5 * ms, 1000) == 5 * PGOV_PACE_RAMP);
	/* a smaller most bounds a run already going; 0 turns pacing off */
	CHECK(pgov_pace_refusal(&p, t + 400 * ms, 100) == 100);
	CHECK(pgov_pace_refusal(&p, t + 420 * ms, 0) == 0);
	CHECK(p.since == 0 && p.last == 0);
	CHECK(pgov_pace_refusal(&p, t + 440 * ms, 1000) == 0);
	/* a refusal that read the time before the latest one did (logins take
	 * the lock out of order) belongs to the same run: no new run, no
	 * negative hold */
	CHECK(pgov_pace_refusal(&p, t + 460 * ms, 1000) == 20 * PGOV_PACE_RAMP);
	CHECK(pgov_pace_refusal(&p, t + 450 * ms, 1000) == 20 * PGOV_PACE_RAMP);
	CHECK(p.last == t + 460 * ms);
	/* the longest setting, 10 s, after a long storm */
	for (i = 1; i <= 1000; i++)
		pgov_pace_refusal(&p, t + 300 * ms + i * 20 * ms, 10000);
	CHECK(pgov_pace_refusal(&p, t + 300 * ms + 20001 * ms, 10000) == 10000);
}

/*
 * A storm's holds spread between half and all of the hold, by pid, so that
 * its clients do not all come back at once; the same pid, the same hold.
 */
static void
test_pace_spread(void)
{
	int			lo = 1000;
	int			hi = 0;
	int			bucket[10] = {0};
	bool		inside = true;
	uint32_t	pid;

	CHECK(pgov_pace_spread(0, 1234) == 0);
	CHECK(pgov_pace_spread(1, 1234) == 1);
	CHECK(pgov_pace_spread(1000, 4321) == pgov_pace_spread(1000, 4321));
	for (pid = 100; pid < 100100; pid++)
	{
		int			h = pgov_pace_spread(1000, pid);

		inside = inside && h >= 500 && h <= 1000;
		if (h < lo)
			lo = h;
		if (h > hi)
			hi = h;
		if (h >= 500 && h < 1000)
			bucket[(h - 500) / 50]++;
	}
	CHECK(inside);
	CHECK(lo <= 505 && hi >= 995);
	/* consecutive pids (a storm's new backends) cover the range evenly */
	for (int i = 0; i < 10; i++)
		CHECK(bucket[i] > 8000 && bucket[i] < 12000);
}

int
main(void)
{
	test_glob();
	test_cidr();
	test_classify();
	test_classify_indexed_random();
	test_decide();
	test_founding_case();
	test_validate();
	test_glob_random();
	test_cidr_random();
	test_admission_random();
	test_node_limits();
	test_health();
	test_drain_grace();
	test_pace_refusal();
	test_pace_spread();
	return check_summary();
}
