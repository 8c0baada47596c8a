/*
 * test_etcd.c: the cluster quota's pure side (etcdmsg.c): base64, the JSON
 * reader on answers etcd 3.4's gateway gave, the keys, the request bodies
 * (read back with the same reader), and a node's grant arithmetic, with
 * the invariant that grants never sum above the quota.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "etcdmsg.h"

/* Answers of etcd 3.4.23's gateway, as it gave them. */
static const char *grant_answer =
"{\"header\":{\"cluster_id\":\"14841639068965178418\",\"member_id\":\"10276657743932975437\","
"\"revision\":\"1\",\"raft_term\":\"2\"},\"ID\":\"7587899424555254789\",\"TTL\":\"10\"}";
static const char *keepalive_answer =
"{\"result\":{\"header\":{\"cluster_id\":\"14841639068965178418\",\"member_id\":\"10276657743932975437\","
"\"revision\":\"1\",\"raft_term\":\"2\"},\"ID\":\"7587899424555254791\",\"TTL\":\"10\"}}";
static const char *keepalive_lost =
"{\"result\":{\"header\":{\"cluster_id\":\"14841639068965178418\",\"member_id\":\"10276657743932975437\","
"\"revision\":\"2\",\"raft_term\":\"2\"},\"ID\":\"12345\"}}";
static const char *txn_ok =
"{\"header\":{\"cluster_id\":\"1\",\"member_id\":\"2\",\"revision\":\"2\",\"raft_term\":\"2\"},"
"\"succeeded\":true,\"responses\":[{\"response_put\":{\"header\":{\"revision\":\"2\"}}},"
"{\"response_put\":{\"header\":{\"revision\":\"2\"}}}]}";
static const char *txn_failed =
"{\"header\":{\"cluster_id\":\"1\",\"member_id\":\"2\",\"revision\":\"2\",\"raft_term\":\"2\"}}";
static const char *etcd_error =
"{\"error\":\"etcdserver: requested lease not found\",\"code\":5,\"message\":\"etcdserver: requested lease not found\"}";

static void
test_base64(void)
{
	char		enc[64];
	char		dec[64];
	const char *samples[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar", "pgov/shop/grant/n1"};
	size_t		i;

	CHECK(pgov_b64_encode("pgov/shop/grant/n1", 18, enc, sizeof(enc)) == 24);
	CHECK(strcmp(enc, "cGdvdi9zaG9wL2dyYW50L24x") == 0);	/* etcd's own */
	CHECK(pgov_b64_encode("3", 1, enc, sizeof(enc)) == 4 && strcmp(enc, "Mw==") == 0);
	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++)
	{
		size_t		len = strlen(samples[i]);

		CHECK(pgov_b64_encode(samples[i], len, enc, sizeof(enc)) == (len + 2) / 3 * 4);
		CHECK(pgov_b64_decode(enc, dec, sizeof(dec)) == (int) len);
		CHECK(strcmp(dec, samples[i]) == 0);
	}
	/* too small, not base64 */
	CHECK(pgov_b64_encode("foobar", 6, enc, 8) == 0);
	CHECK(pgov_b64_decode("Zm9v", dec, 3) == -1);
	CHECK(pgov_b64_decode("Zm9", dec, sizeof(dec)) == -1);
	CHECK(pgov_b64_decode("Zm!v", dec, sizeof(dec)) == -1);
	CHECK(pgov_b64_decode("Z===", dec, sizeof(dec)) == -1);
	CHECK(pgov_b64_decode("Zg==Zg==", dec, sizeof(dec)) == -1);
}

static void
test_json(void)
{
	char		v[64];
	const char *nested = "{ \"a\" : [ 1, {\"b\": \"x\\\"y\\u0041\\/\"}, [true, null] ], \"c\": -2.5e3, \"d\": {} }";

	CHECK(pgov_json_get(grant_answer, "ID", v, sizeof(v)) && strcmp(v, "7587899424555254789") == 0);
	CHECK(pgov_json_get(grant_answer, "header.revision", v, sizeof(v)) && strcmp(v, "1") == 0);
	CHECK(pgov_json_get(keepalive_answer, "result.TTL", v, sizeof(v)) && strcmp(v, "10") == 0);
	CHECK(!pgov_json_get(keepalive_lost, "result.TTL", v, sizeof(v)));
	CHECK(pgov_json_get(txn_ok, "succeeded", v, sizeof(v)) && strcmp(v, "true") == 0);
	CHECK(pgov_json_get(txn_ok, "responses.1.response_put.header.revision", v, sizeof(v)) &&
		  strcmp(v, "2") == 0);
	CHECK(!pgov_json_get(txn_ok, "responses.2", v, sizeof(v)));
	CHECK(pgov_json_count(txn_ok, "responses") == 2);
	CHECK(pgov_json_count(txn_failed, "responses") == 0);
	CHECK(pgov_json_count(txn_ok, "header") == -1);
	CHECK(pgov_json_get(nested, "a.1.b", v, sizeof(v)) && strcmp(v, "x\"yA/") == 0);
	CHECK(pgov_json_get(nested, "a.0", v, sizeof(v)) && strcmp(v, "1") == 0);
	CHECK(pgov_json_get(nested, "a.2.1", v, sizeof(v)) && strcmp(v, "null") == 0);
	CHECK(pgov_json_get(nested, "c", v, sizeof(v)) && strcmp(v, "-2.5e3") == 0);
	CHECK(pgov_json_get(nested, "d", v, sizeof(v)) && strcmp(v, "{}") == 0);
	CHECK(!pgov_json_get(nested, "a.x", v, sizeof(v)));
	CHECK(!pgov_json_get(nested, "d.e", v, sizeof(v)));
	CHECK(!pgov_json_get(nested, "c.e", v, sizeof(v)));
	/* too long for the buffer */
	CHECK(!pgov_json_get(grant_answer, "ID", v, 10));
	/* malformed: cut anywhere, never read past the end */
	{
		size_t		len = strlen(txn_ok);
		char	   *cut = malloc(len + 1);
		size_t		i;
		int			found = 0;

		for (i = 0; i < len; i++)
		{
			memcpy(cut, txn_ok, i);
			cut[i] = '\0';
			found += pgov_json_get(cut, "responses.1.response_put.header.revision", v, sizeof(v));
			CHECK(pgov_json_count(cut, "responses") <= 2);
		}
		CHECK(found == 0);
		free(cut);
	}
	CHECK(pgov_json_count("{\"a\":[1,2", "a") == -1);
	CHECK(pgov_json_count("{\"a\":1", "b") == -1);
	/* nesting deeper than the reader follows */
	{
		char		deep[200];
		int			i;

		for (i = 0; i < 100; i++)
			deep[i] = '[';
		for (; i < 199; i++)
			deep[i] = ']';
		deep[199] = '\0';
		CHECK(pgov_json_count(deep, "x") == -1);
	}
}

static void
test_endpoints(void)
{
	const char *s = NULL;
	size_t		len = 0;

	CHECK(pgov_etcd_endpoint("", 0, &s, &len) == 0 && s == NULL);
	CHECK(pgov_etcd_endpoint(NULL, -1, NULL, NULL) == 0);
	CHECK(pgov_etcd_endpoint(" , ", 0, &s, &len) == 0 && s == NULL);
	CHECK(pgov_etcd_endpoint("http://a:2379", 0, &s, &len) == 1 &&
		  len == 13 && strncmp(s, "http://a:2379", len) == 0);
	CHECK(pgov_etcd_endpoint("http://a:2379, http://b:2379,,http://c:2379 ", 2, &s, &len) == 3 &&
		  len == 13 && strncmp(s, "http://c:2379", len) == 0);
	CHECK(pgov_etcd_endpoint("http://a:2379 http://b:2379", 1, &s, &len) == 2 &&
		  strncmp(s, "http://b:2379", len) == 0);
}

static void
test_keys(void)
{
	char		k[PGOV_ETCD_KEY_LEN];

	CHECK(pgov_etcd_key(k, sizeof(k), PGOV_KEY_REV, "pgov", "shop", NULL) &&
		  strcmp(k, "pgov/quota/shop/rev") == 0);
	CHECK(pgov_etcd_key(k, sizeof(k), PGOV_KEY_GRANT, "pgov", "shop", "n1") &&
		  strcmp(k, "pgov/quota/shop/grant/n1") == 0);
	CHECK(pgov_etcd_key(k, sizeof(k), PGOV_KEY_TENANT, "pgov", "shop", NULL) &&
		  strcmp(k, "pgov/quota/shop/") == 0);
	/* a tenant named like another's keys stays in its own */
	CHECK(pgov_etcd_key(k, sizeof(k), PGOV_KEY_REV, "pgov", "shop/grant/x", NULL) &&
		  strcmp(k, "pgov/quota/shop%2Fgrant%2Fx/rev") == 0);
	CHECK(pgov_etcd_key(k, sizeof(k), PGOV_KEY_GRANT, "pgov", "50%", "a/b") &&
		  strcmp(k, "pgov/quota/50%25/grant/a%2Fb") == 0);
	CHECK(!pgov_etcd_key(k, 20, PGOV_KEY_GRANT, "pgov", "shop", "n1"));
}

/* The value of field in the first element of array path whose own field is
 * there, decoded from base64 when b64. */
static void
test_requests(void)
{
	char		body[4096];
	char		v[256];
	char		d[256];

	CHECK(pgov_etcd_grant_body(body, sizeof(body), 10) && strcmp(body, "{\"TTL\":\"10\"}") == 0);
	CHECK(pgov_etcd_keepalive_body(body, sizeof(body), INT64_C(7587899424555254791)) &&
		  strcmp(body, "{\"ID\":\"7587899424555254791\"}") == 0);
	CHECK(pgov_etcd_range_body(body, sizeof(body), "pgov", "shop"));
	CHECK(pgov_json_get(body, "key", v, sizeof(v)) && pgov_b64_decode(v, d, sizeof(d)) > 0 &&
		  strcmp(d, "pgov/quota/shop/") == 0);
	CHECK(pgov_json_get(body, "range_end", v, sizeof(v)) && pgov_b64_decode(v, d, sizeof(d)) > 0 &&
		  strcmp(d, "pgov/quota/shop0") == 0);

	/* a first grant: the rev key must not exist */
	CHECK(pgov_etcd_txn_body(body, sizeof(body), "pgov", "shop", "n1", 0, 3, 42));
	CHECK(pgov_json_get(body, "compare.0.target", v, sizeof(v)) && strcmp(v, "VERSION") == 0);
	CHECK(pgov_json_get(body, "compare.0.version", v, sizeof(v)) && strcmp(v, "0") == 0);
	CHECK(pgov_json_get(body, "compare.0.key", v, sizeof(v)) && pgov_b64_decode(v, d, sizeof(d)) > 0 &&
		  strcmp(d, "pgov/quota/shop/rev") == 0);
	CHECK(pgov_json_get(body, "success.1.requestPut.key", v, sizeof(v)) &&
		  pgov_b64_decode(v, d, sizeof(d)) > 0 && strcmp(d, "pgov/quota/shop/grant/n1") == 0);
	CHECK(pgov_json_get(body, "success.1.requestPut.value", v, sizeof(v)) &&
		  pgov_b64_decode(v, d, sizeof(d)) > 0 && strcmp(d, "3") == 0);
	CHECK(pgov_json_get(body, "success.1.requestPut.lease", v, sizeof(v)) && strcmp(v, "42") == 0);
	CHECK(pgov_json_get(body, "success.0.requestPut.value", v, sizeof(v)) &&
		  pgov_b64_decode(v, d, sizeof(d)) > 0 && strcmp(d, "n1") == 0);
	/* a later one: conditioned on the rev key's mod_revision */
	CHECK(pgov_etcd_txn_body(body, sizeof(body), "pgov", "shop", "n1", 17, 2, 42));
	CHECK(pgov_json_get(body, "compare.0.target", v, sizeof(v)) && strcmp(v, "MOD") == 0);
	CHECK(pgov_json_get(body, "compare.0.mod_revision", v, sizeof(v)) && strcmp(v, "17") == 0);
	/* a grant of 0 deletes the key */
	CHECK(pgov_etcd_txn_body(body, sizeof(body), "pgov", "shop", "n1", 17, 0, 42));
	CHECK(pgov_json_get(body, "success.1.requestDeleteRange.key", v, sizeof(v)) &&
		  pgov_b64_decode(v, d, sizeof(d)) > 0 && strcmp(d, "pgov/quota/shop/grant/n1") == 0);
	CHECK(!pgov_json_get(body, "success.1.requestPut", v, sizeof(v)));
	CHECK(pgov_json_count(body, "success") == 2);
	/* too small a buffer */
	CHECK(!pgov_etcd_txn_body(body, 100, "pgov", "shop", "n1", 17, 2, 42));
}

static void
test_answers(void)
{
	int64_t		lease;
	int			ttl;
	bool		ok;
	PgovEtcdTenant t;
	char		range[2048];
	char		k1[64];
	char		k2[64];
	char		k3[64];
	char		rk[64];

	CHECK(pgov_etcd_read_grant(grant_answer, &lease, &ttl));
	CHECK(lease == INT64_C(7587899424555254789) && ttl == 10);
	CHECK(!pgov_etcd_read_grant(etcd_error, &lease, &ttl));
	CHECK(!pgov_etcd_read_grant("not json", &lease, &ttl));
	CHECK(pgov_etcd_read_keepalive(keepalive_answer) == 10);
	CHECK(pgov_etcd_read_keepalive(keepalive_lost) == 0);
	CHECK(pgov_etcd_read_keepalive(etcd_error) == -1);
	CHECK(pgov_etcd_read_keepalive("") == -1);
	CHECK(pgov_etcd_read_txn(txn_ok, &ok) && ok);
	CHECK(pgov_etcd_read_txn(txn_failed, &ok) && !ok);
	CHECK(!pgov_etcd_read_txn(etcd_error, &ok));

	/* the range etcd gave for one grant and the rev key */
	CHECK(pgov_etcd_read_range(
			  "{\"header\":{\"cluster_id\":\"1\",\"member_id\":\"2\",\"revision\":\"2\",\"raft_term\":\"2\"},"
			  "\"kvs\":[{\"key\":\"cGdvdi9xdW90YS9zaG9wL2dyYW50L24x\",\"create_revision\":\"2\",\"mod_revision\":\"2\","
			  "\"version\":\"1\",\"value\":\"Mw==\",\"lease\":\"7587899424555254791\"},"
			  "{\"key\":\"cGdvdi9xdW90YS9zaG9wL3Jldg==\",\"create_revision\":\"2\",\"mod_revision\":\"5\","
			  "\"version\":\"1\",\"value\":\"Mw==\"}],\"count\":\"2\"}",
			  "pgov", "shop", "n2", &t));
	CHECK(t.rev_mod == 5 && t.mine == 0 && t.others == 3 && t.nodes == 1);
	/* built: three nodes' grants, the rev key */
	pgov_b64_encode("pgov/quota/shop/grant/n1", 24, k1, sizeof(k1));
	pgov_b64_encode("pgov/quota/shop/grant/n2", 24, k2, sizeof(k2));
	pgov_b64_encode("pgov/quota/shop/grant/n3", 24, k3, sizeof(k3));
	pgov_b64_encode("pgov/quota/shop/rev", 19, rk, sizeof(rk));
	snprintf(range, sizeof(range),
			 "{\"header\":{\"revision\":\"9\"},\"kvs\":["
			 "{\"key\":\"%s\",\"mod_revision\":\"3\",\"value\":\"Mg==\"},"	/* 2 */
			 "{\"key\":\"%s\",\"mod_revision\":\"4\",\"value\":\"MTA=\"},"	/* 10 */
			 "{\"key\":\"%s\",\"mod_revision\":\"7\",\"value\":\"NA==\"},"	/* 4 */
			 "{\"key\":\"%s\",\"mod_revision\":\"9\",\"value\":\"bjI=\"}]}",
			 k1, k2, k3, rk);
	CHECK(pgov_etcd_read_range(range, "pgov", "shop", "n2", &t));
	CHECK(t.rev_mod == 9 && t.mine == 10 && t.others == 6 && t.nodes == 3);
	/* nobody yet: no kvs at all */
	CHECK(pgov_etcd_read_range(txn_failed, "pgov", "shop", "n2", &t));
	CHECK(t.rev_mod == 0 && t.mine == 0 && t.others == 0 && t.nodes == 0);
	/* not an answer; a grant that is not a count */
	CHECK(!pgov_etcd_read_range(etcd_error, "pgov", "shop", "n2", &t));
	snprintf(range, sizeof(range),
			 "{\"header\":{\"revision\":\"9\"},\"kvs\":[{\"key\":\"%s\",\"value\":\"eA==\"}]}", k1);
	CHECK(!pgov_etcd_read_range(range, "pgov", "shop", "n2", &t));
}

/* A range over every grant of the cluster: this node's tenants, decoded. */
static void
test_my_tenants(void)
{
	char		body[1024];
	char		v[256];
	char		d[256];
	char		json[4096];
	char		k[5][128];
	char		names[8][64];
	const char *keys[5] = {"pgov/quota/shop/grant/n1", "pgov/quota/shop/grant/n2",
		"pgov/quota/a%2Fb/grant/n1", "pgov/quota/shop/rev", "pgov/quota/50%25/grant/n1"};

	CHECK(pgov_etcd_all_body(body, sizeof(body), "pgov"));
	CHECK(pgov_json_get(body, "key", v, sizeof(v)) && pgov_b64_decode(v, d, sizeof(d)) > 0 &&
		  strcmp(d, "pgov/quota/") == 0);
	CHECK(pgov_json_get(body, "range_end", v, sizeof(v)) && pgov_b64_decode(v, d, sizeof(d)) > 0 &&
		  strcmp(d, "pgov/quota0") == 0);
	CHECK(pgov_json_get(body, "keys_only", v, sizeof(v)) && strcmp(v, "true") == 0);
	for (int i = 0; i < 5; i++)
		pgov_b64_encode(keys[i], strlen(keys[i]), k[i], sizeof(k[i]));
	snprintf(json, sizeof(json),
			 "{\"header\":{\"revision\":\"9\"},\"kvs\":[{\"key\":\"%s\"},{\"key\":\"%s\"},"
			 "{\"key\":\"%s\"},{\"key\":\"%s\"},{\"key\":\"%s\"}]}",
			 k[0], k[1], k[2], k[3], k[4]);
	CHECK(pgov_etcd_my_tenants(json, "pgov", "n1", names, 8) == 3);
	CHECK(strcmp(names[0], "shop") == 0 && strcmp(names[1], "a/b") == 0 &&
		  strcmp(names[2], "50%") == 0);
	CHECK(pgov_etcd_my_tenants(json, "pgov", "n2", names, 8) == 1);
	CHECK(pgov_etcd_my_tenants(json, "pgov", "n1", names, 2) == 2);
	CHECK(pgov_etcd_my_tenants(json, "other", "n1", names, 8) == 0);
	CHECK(pgov_etcd_my_tenants(txn_failed, "pgov", "n1", names, 8) == 0);
	CHECK(pgov_etcd_my_tenants(etcd_error, "pgov", "n1", names, 8) == -1);
	CHECK(pgov_etcd_delete_body(body, sizeof(body), "pgov", "a/b", "n1"));
	CHECK(pgov_json_get(body, "key", v, sizeof(v)) && pgov_b64_decode(v, d, sizeof(d)) > 0 &&
		  strcmp(d, "pgov/quota/a%2Fb/grant/n1") == 0);
}

/*
 * Grant arithmetic, and the invariant over random traffic: nodes change
 * their grants one at a time against what etcd holds (as the conditioned
 * transaction makes them), and floors plus grants never exceed the quota.
 */
static void
test_grants(void)
{
	unsigned	seed = 12345;
	int			step;
	int			violations = 0;
	int			grown = 0;

	CHECK(pgov_grant_want(0, 0, 0, -1) == 0);
	CHECK(pgov_grant_want(2, 0, 0, -1) == 0);
	CHECK(pgov_grant_want(0, 1, 0, -1) == 2);	/* its session and one more */
	CHECK(pgov_grant_want(2, 1, 0, -1) == 0);	/* within the floor */
	CHECK(pgov_grant_want(2, 2, 0, -1) == 1);
	CHECK(pgov_grant_want(2, 2, 3, -1) == 4);	/* the waiting logins too */
	CHECK(pgov_grant_want(2, 10, 0, 6) == 4);	/* no more than its own cap */
	CHECK(pgov_grant_want(8, 10, 0, 6) == 0);
	CHECK(pgov_grant_next(5, 10, 3, 0) == 5);
	CHECK(pgov_grant_next(5, 10, 3, 4) == 3);
	CHECK(pgov_grant_next(5, 10, 3, 7) == 0);
	CHECK(pgov_grant_next(5, 10, 3, 9) == 0);	/* quota lowered below */
	CHECK(pgov_grant_next(0, 10, 3, 0) == 0);

	{
		enum
		{
			NODES = 3
		};
		int			quota = 12;
		int			floor[NODES] = {1, 2, 0};
		int			floors = 3;
		int			etcd[NODES] = {0, 0, 0};	/* the grants etcd holds */
		int			connected[NODES] = {0, 0, 0};

		for (step = 0; step < 200000; step++)
		{
			int			n = (int) ((seed = seed * 1103515245 + 12345) >> 16) % NODES;
			int			r = (int) ((seed = seed * 1103515245 + 12345) >> 16) % 4;
			int			others = 0;
			int			i;
			int			want;
			int			next;
			int			sum = 0;

			/* a session comes or goes within what the node may admit */
			if (r == 0 && connected[n] < floor[n] + etcd[n])
				connected[n]++;
			else if (r == 1 && connected[n] > 0)
				connected[n]--;
			for (i = 0; i < NODES; i++)
				if (i != n)
					others += etcd[i];
			want = pgov_grant_want(floor[n], connected[n], r == 2 ? 2 : 0, -1);
			next = pgov_grant_next(want, quota, floors, others);
			/* a node gives back only seats no session uses */
			if (next < etcd[n] && connected[n] > floor[n] + next)
				next = etcd[n];
			grown += next > etcd[n];
			etcd[n] = next;
			for (i = 0; i < NODES; i++)
				sum += floor[i] + etcd[i];
			violations += sum > quota;
		}
		CHECK(violations == 0);
		CHECK(grown > 1000);
	}
}

int
main(void)
{
	test_base64();
	test_json();
	test_endpoints();
	test_keys();
	test_requests();
	test_answers();
	test_my_tenants();
	test_grants();
	return check_summary();
}
