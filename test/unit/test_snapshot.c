/*
 * test_snapshot.c: the snapshot file's checker (snapformat.c) against real
 * snapshots.  A file written by pgov_snap_payload / pgov_snap_header reads
 * back as it was written; every truncation of it, every single-byte
 * corruption (three different flips at every offset), a header whose
 * length asks for gigabytes, and files whose checksum is right but whose
 * contents point out of range are all refused, never read.  Run under the
 * sanitizers too (make unit): any out-of-bounds read fails the run.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "snapformat.h"

#define NTENANTS 3
#define NRULES 4
#define NLIMITS 2

static PgovTenantDef tenants[NTENANTS];
static PgovRule rules[NRULES];
static PgovNodeLimit limits[NLIMITS];

static void
make_config(void)
{
	static const char *names[NTENANTS] = {"inventory", "reporting", "shop"};
	PgovProblem p;
	int			i;

	memset(tenants, 0, sizeof(tenants));
	memset(rules, 0, sizeof(rules));
	for (i = 0; i < NTENANTS; i++)
	{
		strcpy(tenants[i].name, names[i]);
		tenants[i].max_connections = i == 1 ? PGOV_NO_CAP : 30 + i * 10;
		tenants[i].reserved_connections = 10 * i;
		tenants[i].max_waiting = i;
		tenants[i].wait_timeout_ms = 1000 * i;
		tenants[i].weight = 1 + i;
		tenants[i].drain = i == 2 ? PGOV_DRAIN_IDLE : PGOV_DRAIN_NATURAL;
		tenants[i].drain_grace_ms = 2000 * i;
		tenants[i].refusal = i == 2 ? PGOV_REFUSAL_CANNOT_CONNECT : PGOV_REFUSAL_TOO_MANY;
	}
	CHECK(pgov_rule_build(&rules[0], 1, 100, "shop", NULL, NULL, NULL, &p));
	CHECK(pgov_rule_build(&rules[1], 2, 100, "+readers", "postgres", NULL, NULL, &p));
	CHECK(pgov_rule_build(&rules[2], 3, 50, NULL, NULL, "report*", "10.0.0.0/8", &p));
	CHECK(pgov_rule_build(&rules[3], 4, 10, NULL, NULL, NULL, "::1/128", &p));
	for (i = 0; i < NRULES; i++)
		rules[i].tenant = i % NTENANTS;
	pgov_sort_rules(rules, NRULES);
	/* the founding case's budgets: reporting only on the standbys */
	memset(limits, 0, sizeof(limits));
	strcpy(limits[0].node, "primary");
	limits[0].tenant = 1;
	limits[0].max_connections = 0;
	strcpy(limits[1].node, "pg2");
	limits[1].tenant = 2;
	limits[1].max_connections = PGOV_NO_CAP;
	limits[1].reserved_connections = 5;
}

/* A whole file for the configuration above, malloc'd. */
static char *
make_file(uint64_t generation, size_t *len)
{
	size_t		plen = pgov_snap_payload_size(NTENANTS, NRULES, NLIMITS);
	char	   *file;

	*len = PGOV_SNAP_HEADER_SIZE + plen;
	file = calloc(1, *len);
	pgov_snap_payload(file + PGOV_SNAP_HEADER_SIZE, 97, "default", tenants,
					  NTENANTS, rules, NRULES, limits, NLIMITS);
	pgov_snap_header(file, generation, file + PGOV_SNAP_HEADER_SIZE, plen);
	return file;
}

/* Checks a copy of exactly len bytes, so that ASan sees any read past it. */
static PgovSnapStatus
check_copy(const char *file, size_t len, PgovSnapInfo *info)
{
	char	   *copy = malloc(len ? len : 1);
	PgovSnapStatus st;

	memcpy(copy, file, len);
	st = pgov_snap_check(copy, len, info);
	free(copy);
	return st;
}

/* Seals a payload that was changed after the header was written. */
static void
reseal(char *file, size_t len)
{
	uint64_t	generation;

	memcpy(&generation, file + 16, sizeof(generation));
	pgov_snap_header(file, generation, file + PGOV_SNAP_HEADER_SIZE,
					 len - PGOV_SNAP_HEADER_SIZE);
}

static void
test_round_trip(void)
{
	size_t		len;
	char	   *file = make_file(42, &len);
	PgovSnapInfo info;
	PgovTenantDef t[NTENANTS];
	PgovRule	r[NRULES];
	PgovNodeLimit l[NLIMITS];

	CHECK(pgov_snap_check(file, len, &info) == PGOV_SNAP_OK);
	CHECK(info.generation == 42);
	CHECK(info.head.ntenants == NTENANTS && info.head.nrules == NRULES);
	CHECK(info.nlimits == NLIMITS);
	CHECK(info.head.capacity == 97);
	CHECK(strcmp(info.head.default_tenant, "default") == 0);
	pgov_snap_copy(file, &info, t, r, l);
	CHECK(memcmp(t, tenants, sizeof(t)) == 0);
	CHECK(memcmp(r, rules, sizeof(r)) == 0);
	CHECK(memcmp(l, limits, sizeof(l)) == 0);
	/* the checksum is PostgreSQL's CRC-32C: the standard check value */
	CHECK((pgov_crc32c(0xFFFFFFFF, "123456789", 9) ^ 0xFFFFFFFF) == 0xE3069283);
	free(file);
}

static void
test_truncations(void)
{
	size_t		len;
	char	   *file = make_file(7, &len);
	PgovSnapInfo info;
	size_t		cut;
	int			refused = 0;

	for (cut = 0; cut < len; cut++)
		refused += check_copy(file, cut, &info) != PGOV_SNAP_OK;
	CHECK(refused == (int) len);
	printf("truncations: %zu of %zu refused\n", (size_t) refused, len);
	free(file);
}

static void
test_corruptions(void)
{
	static const unsigned char flips[] = {0x01, 0x80, 0xFF};
	size_t		len;
	char	   *file = make_file(7, &len);
	PgovSnapInfo info;
	size_t		at;
	int			f;
	int			tried = 0;
	int			refused = 0;

	for (at = 0; at < len; at++)
		for (f = 0; f < (int) sizeof(flips); f++)
		{
			file[at] ^= flips[f];
			tried++;
			refused += check_copy(file, len, &info) != PGOV_SNAP_OK;
			file[at] ^= flips[f];
		}
	CHECK(refused == tried);
	CHECK(pgov_snap_check(file, len, &info) == PGOV_SNAP_OK);
	printf("single-byte corruptions: %d of %d refused\n", refused, tried);
	free(file);
}

static void
test_hostile_headers(void)
{
	size_t		len;
	char	   *file = make_file(7, &len);
	PgovSnapInfo info;
	uint32_t	v;

	/* the header asks for 2 GiB, 1 GiB, or more than the file holds */
	v = 0x7fffffff;
	memcpy(file + 24, &v, 4);
	CHECK(pgov_snap_check(file, len, &info) == PGOV_SNAP_BAD_LENGTH);
	v = 0x40000000;
	memcpy(file + 24, &v, 4);
	CHECK(pgov_snap_check(file, len, &info) == PGOV_SNAP_BAD_LENGTH);
	v = (uint32_t) (len - PGOV_SNAP_HEADER_SIZE + 1);
	memcpy(file + 24, &v, 4);
	CHECK(pgov_snap_check(file, len, &info) == PGOV_SNAP_BAD_LENGTH);
	free(file);

	/* another version's layout */
	file = make_file(7, &len);
	v = 99;
	memcpy(file + 4, &v, 4);
	CHECK(pgov_snap_check(file, len, &info) == PGOV_SNAP_OTHER_VERSION);
	free(file);
	file = make_file(7, &len);
	memcpy(file, "XXXX", 4);
	CHECK(pgov_snap_check(file, len, &info) == PGOV_SNAP_NOT_SNAPSHOT);
	free(file);
	CHECK(pgov_snap_max_size() > 1000 && pgov_snap_max_size() < 100 * 1024 * 1024);
}

/*
 * Files whose checksum is right (a tool rewrote them, or a bug did) but
 * whose contents would index out of range.
 */
static void
test_sealed_nonsense(void)
{
	size_t		len;
	char	   *file;
	PgovSnapInfo info;
	size_t		tenant0 = PGOV_SNAP_HEADER_SIZE + sizeof(PgovSnapHead);
	size_t		rule0 = tenant0 + sizeof(PgovTenantDef) * NTENANTS;
	PgovSnapHead head;
	PgovTenantDef t;
	PgovRule	r;

	/* a tenant refusing with a code that is neither, a negative cluster
	 * quota, a cluster quota in a file of format 5 (before it had one) */
	for (int k = 0; k < 3; k++)
	{
		uint32_t	five = 5;

		file = make_file(7, &len);
		memcpy(&t, file + tenant0, sizeof(t));
		if (k == 0)
			t.refusal = 2;
		else
			t.cluster_quota = k == 1 ? -1 : 3;
		memcpy(file + tenant0, &t, sizeof(t));
		reseal(file, len);
		if (k == 2)
		{
			uint32_t	crc;

			memcpy(file + 4, &five, 4);
			crc = pgov_crc32c(0xFFFFFFFF, file, 28);
			crc = pgov_crc32c(crc, file + PGOV_SNAP_HEADER_SIZE,
							  len - PGOV_SNAP_HEADER_SIZE) ^ 0xFFFFFFFF;
			memcpy(file + 28, &crc, 4);
		}
		CHECK(check_copy(file, len, &info) == PGOV_SNAP_BAD_LAYOUT);
		free(file);
	}
	/* the same quota in format 6 is read back */
	file = make_file(7, &len);
	memcpy(&t, file + tenant0, sizeof(t));
	t.cluster_quota = 3;
	memcpy(file + tenant0, &t, sizeof(t));
	reseal(file, len);
	CHECK(check_copy(file, len, &info) == PGOV_SNAP_OK);
	free(file);

	/* a node_limits row for tenant 3 of 3, one for no node, a negative
	 * reserve, a count beyond the rows, a nonzero pad, a negative floor */
	for (int k = 0; k < 6; k++)
	{
		size_t		limit0 = rule0 + sizeof(PgovRule) * NRULES;
		PgovNodeLimit l;
		int32_t		n = NLIMITS + 1;
		int32_t		one = 1;

		file = make_file(7, &len);
		memcpy(&l, file + limit0 + 8, sizeof(l));
		if (k == 0)
			l.tenant = NTENANTS;
		else if (k == 1)
			l.node[0] = '\0';
		else if (k == 2)
			l.reserved_connections = -1;
		else if (k == 5)
			l.cluster_floor = -1;
		memcpy(file + limit0 + 8, &l, sizeof(l));
		if (k == 3)
			memcpy(file + limit0, &n, 4);
		if (k == 4)
			memcpy(file + limit0 + 4, &one, 4);
		reseal(file, len);
		CHECK(pgov_snap_check(file, len, &info) == PGOV_SNAP_BAD_LAYOUT);
		free(file);
	}

	/* a rule placing logins in tenant 3 of 3 */
	file = make_file(7, &len);
	memcpy(&r, file + rule0, sizeof(r));
	r.tenant = NTENANTS;
	memcpy(file + rule0, &r, sizeof(r));
	reseal(file, len);
	CHECK(pgov_snap_check(file, len, &info) == PGOV_SNAP_BAD_LAYOUT);
	free(file);

	/* a weight of 0 or 1001, a drain of 2, a negative grace */
	for (int k = 0; k < 4; k++)
	{
		file = make_file(7, &len);
		memcpy(&t, file + tenant0, sizeof(t));
		if (k < 2)
			t.weight = k == 0 ? 0 : 1001;
		else if (k == 2)
			t.drain = 2;
		else
			t.drain_grace_ms = -1;
		memcpy(file + tenant0, &t, sizeof(t));
		reseal(file, len);
		CHECK(pgov_snap_check(file, len, &info) == PGOV_SNAP_BAD_LAYOUT);
		free(file);
	}

	/* a negative tenant index */
	file = make_file(7, &len);
	memcpy(&r, file + rule0, sizeof(r));
	r.tenant = -1;
	memcpy(file + rule0, &r, sizeof(r));
	reseal(file, len);
	CHECK(pgov_snap_check(file, len, &info) == PGOV_SNAP_BAD_LAYOUT);
	free(file);

	/* a name without its terminating NUL */
	file = make_file(7, &len);
	memcpy(&t, file + tenant0, sizeof(t));
	memset(t.name, 'x', PGOV_NAME_LEN);
	memcpy(file + tenant0, &t, sizeof(t));
	reseal(file, len);
	CHECK(pgov_snap_check(file, len, &info) == PGOV_SNAP_BAD_LAYOUT);
	free(file);

	/* tenants out of order (they are found by binary search) */
	file = make_file(7, &len);
	memcpy(&t, file + tenant0, sizeof(t));
	strcpy(t.name, "zzz");
	memcpy(file + tenant0, &t, sizeof(t));
	reseal(file, len);
	CHECK(pgov_snap_check(file, len, &info) == PGOV_SNAP_BAD_LAYOUT);
	free(file);

	/* counts that do not add up to the length, and absurd counts */
	file = make_file(7, &len);
	memcpy(&head, file + PGOV_SNAP_HEADER_SIZE, sizeof(head));
	head.nrules = NRULES + 1;
	memcpy(file + PGOV_SNAP_HEADER_SIZE, &head, sizeof(head));
	reseal(file, len);
	CHECK(pgov_snap_check(file, len, &info) == PGOV_SNAP_BAD_LAYOUT);
	head.nrules = -5;
	memcpy(file + PGOV_SNAP_HEADER_SIZE, &head, sizeof(head));
	reseal(file, len);
	CHECK(pgov_snap_check(file, len, &info) == PGOV_SNAP_BAD_LAYOUT);
	head.nrules = NRULES;
	head.ntenants = 0x7fffffff;
	memcpy(file + PGOV_SNAP_HEADER_SIZE, &head, sizeof(head));
	reseal(file, len);
	CHECK(pgov_snap_check(file, len, &info) == PGOV_SNAP_BAD_LAYOUT);
	free(file);
}

/*
 * Files that 1.0 to 1.5 wrote still read, with the new columns' defaults:
 * the first start after an upgrade is governed.  Formats 1 and 2 hold
 * PgovTenantDefV2 (format 1's CRC covers the payload alone, format 2's the
 * header too), 3 and 4 PgovTenantDefV4, and 4 a node_limits part.
 */
static char *
make_old_file(uint32_t format, uint64_t generation, size_t *len)
{
	size_t		tone = format >= 3 ? sizeof(PgovTenantDefV4) : sizeof(PgovTenantDefV2);
	size_t		rsize = sizeof(PgovRule) * NRULES;
	size_t		lsize = format >= 4 ? 8 + sizeof(PgovNodeLimit) * NLIMITS : 0;
	size_t		plen = sizeof(PgovSnapHead) + tone * NTENANTS + rsize + lsize;
	char	   *file;
	char	   *p;
	PgovSnapHead head;
	uint32_t	v;
	uint32_t	crc;
	int			i;

	*len = PGOV_SNAP_HEADER_SIZE + plen;
	file = calloc(1, *len + 8);
	p = file + PGOV_SNAP_HEADER_SIZE;
	memset(&head, 0, sizeof(head));
	head.ntenants = NTENANTS;
	head.nrules = NRULES;
	head.capacity = 97;
	strcpy(head.default_tenant, "default");
	memcpy(p, &head, sizeof(head));
	p += sizeof(head);
	for (i = 0; i < NTENANTS; i++)
	{
		PgovTenantDefV4 old;

		memset(&old, 0, sizeof(old));
		memcpy(old.name, tenants[i].name, PGOV_NAME_LEN);
		old.max_connections = tenants[i].max_connections;
		old.reserved_connections = tenants[i].reserved_connections;
		old.max_waiting = tenants[i].max_waiting;
		old.wait_timeout_ms = tenants[i].wait_timeout_ms;
		old.weight = tenants[i].weight;
		old.drain = tenants[i].drain;
		old.drain_grace_ms = tenants[i].drain_grace_ms;
		if (format < 3)
		{
			PgovTenantDefV2 v2;

			memset(&v2, 0, sizeof(v2));
			memcpy(&v2, &old, offsetof(PgovTenantDefV2, wait_timeout_ms));
			v2.wait_timeout_ms = old.wait_timeout_ms;
			memcpy(p, &v2, sizeof(v2));
		}
		else
			memcpy(p, &old, sizeof(old));
		p += tone;
	}
	memcpy(p, rules, rsize);
	p += rsize;
	if (format >= 4)
	{
		v = NLIMITS;
		memcpy(p, &v, 4);
		memcpy(p + 8, limits, sizeof(PgovNodeLimit) * NLIMITS);
	}
	v = 0x564f4750;
	memcpy(file, &v, 4);
	memcpy(file + 4, &format, 4);
	v = (uint32_t) tone;
	memcpy(file + 8, &v, 4);
	v = sizeof(PgovRule);
	memcpy(file + 12, &v, 4);
	memcpy(file + 16, &generation, 8);
	v = (uint32_t) plen;
	memcpy(file + 24, &v, 4);
	crc = 0xFFFFFFFF;
	if (format >= 2)
		crc = pgov_crc32c(crc, file, 28);
	crc = pgov_crc32c(crc, file + PGOV_SNAP_HEADER_SIZE, plen) ^ 0xFFFFFFFF;
	memcpy(file + 28, &crc, 4);
	return file;
}

static void
test_old_formats(void)
{
	for (uint32_t format = 3; format <= 4; format++)
	{
		size_t		len;
		char	   *file = make_old_file(format, 8, &len);
		PgovSnapInfo info;
		PgovTenantDef t[NTENANTS];
		PgovTenantDef expect[NTENANTS];
		PgovRule	r[NRULES];
		PgovNodeLimit l[NLIMITS];

		CHECK(pgov_snap_check(file, len, &info) == PGOV_SNAP_OK);
		CHECK(info.format == format && info.generation == 8 &&
			  info.nlimits == (format >= 4 ? NLIMITS : 0));
		pgov_snap_copy(file, &info, t, r, l);
		/* every tenant as written, refusing with 53300, the default */
		memcpy(expect, tenants, sizeof(expect));
		for (int i = 0; i < NTENANTS; i++)
			expect[i].refusal = PGOV_REFUSAL_TOO_MANY;
		CHECK(memcmp(t, expect, sizeof(t)) == 0);
		CHECK(memcmp(r, rules, sizeof(r)) == 0);
		CHECK(format < 4 || memcmp(l, limits, sizeof(l)) == 0);
		/* a format 3 file with a node_limits part is damage */
		if (format == 3)
			CHECK(pgov_snap_check(file, len + 8, &info) != PGOV_SNAP_OK);
		/* and one that says this version's tenant size */
		{
			uint32_t	v = sizeof(PgovTenantDef);

			memcpy(file + 8, &v, 4);
			CHECK(pgov_snap_check(file, len, &info) == PGOV_SNAP_OTHER_VERSION);
		}
		free(file);
	}
	for (uint32_t format = 1; format <= 2; format++)
	{
		size_t		len;
		char	   *file = make_old_file(format, 9, &len);
		PgovSnapInfo info;
		PgovTenantDef t[NTENANTS];
		PgovRule	r[NRULES];
		int			same = 0;

		CHECK(pgov_snap_check(file, len, &info) == PGOV_SNAP_OK);
		CHECK(info.generation == 9 && info.format == format);
		pgov_snap_copy(file, &info, t, r, NULL);
		for (int i = 0; i < NTENANTS; i++)
			same += strcmp(t[i].name, tenants[i].name) == 0 &&
				t[i].max_connections == tenants[i].max_connections &&
				t[i].reserved_connections == tenants[i].reserved_connections &&
				t[i].max_waiting == tenants[i].max_waiting &&
				t[i].wait_timeout_ms == tenants[i].wait_timeout_ms &&
				t[i].weight == 1 && t[i].drain == PGOV_DRAIN_NATURAL &&
				t[i].drain_grace_ms == 30000;
		CHECK(same == NTENANTS);
		CHECK(memcmp(r, rules, sizeof(r)) == 0);
		/* a format 2 header with this version's tenant size is damage */
		if (format == 2)
		{
			uint32_t	v = sizeof(PgovTenantDef);

			memcpy(file + 8, &v, 4);
			CHECK(pgov_snap_check(file, len, &info) == PGOV_SNAP_OTHER_VERSION);
		}
		free(file);
	}
}

int
main(void)
{
	make_config();
	test_round_trip();
	test_truncations();
	test_corruptions();
	test_hostile_headers();
	test_sealed_nonsense();
	test_old_formats();
	return check_summary();
}
