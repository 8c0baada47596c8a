/*
 * Unit tests of the policy code (src/policy.c) with no server: rule
 * matching, globs, CIDR, the admission arithmetic and validation.  Built
 * plain and with the sanitizers by `make unit`.  Ends with the line
 * "N passed, N failed" and exits non-zero on any failure.
 */
#include <stdio.h>
#include <string.h>

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

static int
classify(PgovRule *rules, int n, const char *role, const char *db,
		 const char *app, const char *ip)
{
	PgovLogin	l;
	PgovCidr	a;
	int			r;

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
		PgovLogin	l = {"shop_batch", "shopdb", "", NULL};

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

	memset(t, 0, sizeof(t));
	strcpy(t[0].name, "shop");
	t[0].max_connections = 40;
	t[0].reserved_connections = 20;
	strcpy(t[1].name, "inventory");
	t[1].max_connections = 30;
	t[1].reserved_connections = 10;
	strcpy(t[2].name, "reporting");
	t[2].max_connections = PGOV_NO_CAP;
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
	t[1].wait_timeout_ms = 120001;
	CHECK(!pgov_validate_config(t, 3, rt, r, 1, limits(97, 64, 256), &p));
	CHECK(p.code == PGOV_WAIT_TOO_LONG && p.limit == 120000);
	t[1].wait_timeout_ms = INT64_MAX;
	CHECK(!pgov_validate_config(t, 3, rt, r, 1, limits(97, 64, 256), &p));
	t[1].wait_timeout_ms = 120000;
	CHECK(pgov_validate_config(t, 3, rt, r, 1, limits(97, 64, 256), &p));
	t[1].wait_timeout_ms = 0;

	/* reserves that no longer fit are scaled down, caps untouched */
	{
		PgovTenantDef s2[3];

		memcpy(s2, t, sizeof(s2));
		CHECK(pgov_scale_reserves(s2, 3, 97) == 30);
		CHECK(s2[0].reserved_connections == 20 && s2[1].reserved_connections == 10);
		CHECK(pgov_scale_reserves(s2, 3, 15) == 30);
		CHECK(s2[0].reserved_connections == 10 && s2[1].reserved_connections == 5);
		CHECK(s2[0].max_connections == 40 && s2[1].max_connections == 30);
		CHECK(pgov_scale_reserves(s2, 3, 0) == 15);
		CHECK(s2[0].reserved_connections == 0 && s2[1].reserved_connections == 0);
	}

	/* reserved above cap, negative numbers */
	t[0].reserved_connections = 41;
	CHECK(!pgov_validate_config(t, 3, rt, r, 1, limits(97, 64, 256), &p));
	CHECK(p.code == PGOV_RESERVED_ABOVE_CAP && strcmp(p.tenant, "shop") == 0);
	t[0].reserved_connections = 40;
	CHECK(pgov_validate_tenant(&t[0], 120000, &p));
	t[0].reserved_connections = -1;
	CHECK(!pgov_validate_tenant(&t[0], 120000, &p));
	CHECK(p.code == PGOV_NEGATIVE_VALUE && strcmp(p.field, "reserved_connections") == 0);
	t[0].reserved_connections = 0;
	t[0].max_waiting = -5;
	CHECK(!pgov_validate_tenant(&t[0], 120000, &p));
	CHECK(p.code == PGOV_NEGATIVE_VALUE && p.value == -5);
	t[0].max_waiting = 0;
	t[0].wait_timeout_ms = -1;
	CHECK(!pgov_validate_tenant(&t[0], 120000, &p));
	t[0].wait_timeout_ms = 0;
	t[0].max_connections = -3;
	CHECK(!pgov_validate_tenant(&t[0], 120000, &p));
	t[0].max_connections = 0;	/* cap 0 is valid: a tenant kept out */
	CHECK(pgov_validate_tenant(&t[0], 120000, &p));
	t[0].name[0] = '\0';
	CHECK(!pgov_validate_tenant(&t[0], 120000, &p));
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

int
main(void)
{
	test_glob();
	test_cidr();
	test_classify();
	test_decide();
	test_founding_case();
	test_validate();
	test_glob_random();
	test_cidr_random();
	test_admission_random();
	return check_summary();
}
