/*-------------------------------------------------------------------------
 *
 * cluster.c
 *		The worker's side of the cluster quota: this node's lease in etcd,
 *		renewed every third of pool_governor.lease_ttl, and its grant of
 *		each tenant's quota (tenants.cluster_max_connections), asked for
 *		when the tenant's logins wait or it is near its grant here, given
 *		back when no session uses it.
 *
 * Only the worker runs this, between its other duties.  A login never
 * touches the network: it reads the board, where set_grant (through
 * pgov_board_change) puts what etcd granted, and a login that finds the
 * node at its floor and grant waits (if its tenant waits) and is woken by
 * a grant as by a freed seat; it nudges the worker, which asks at once.
 *
 * Every request is one POST to etcd's JSON gateway through libcurl,
 * bounded: PGOV_ETCD_CONNECT_MS to connect and PGOV_ETCD_REQUEST_MS in
 * all, so an unreachable or slow etcd delays the worker's other duties by
 * at most that much a request.  A failed request moves to the next of the
 * endpoints.  A pass makes one request for the lease when one is due and,
 * per tenant with a quota, a range and a transaction when its grant
 * changes (and a range at each renewal, for what the cluster holds).
 *
 * Why the quota holds: a node takes seats only through a transaction
 * conditioned on the tenant's rev key (etcdmsg.h), so two nodes cannot
 * both take the last ones; it gives seats back only after its board
 * stopped using them; and it stops using every grant at lease_until, the
 * time it sent the last renewal that held plus the TTL less
 * PGOV_LEASE_MARGIN_MS, before etcd can let the lease expire (etcd counts
 * the TTL from when it received the renewal, which is later).  Logins
 * enforce lease_until themselves, with their own clock reading: a worker
 * that is late cannot stretch a grant.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>

#include "miscadmin.h"
#include "utils/timestamp.h"

#include "board.h"
#include "boardread.h"
#include "cluster.h"
#include "clusterseats.h"
#include "control.h"
#include "etcdmsg.h"
#include "events.h"
#include "settings.h"

/* Bounds of one request to etcd. */
#define PGOV_ETCD_CONNECT_MS	500
#define PGOV_ETCD_REQUEST_MS	1000

/* A node stops using its grants this long before its lease can expire. */
#define PGOV_LEASE_MARGIN_MS	1000

/* The longest answer read (a range over one tenant's keys: a few hundred
 * bytes a node). */
#define PGOV_ETCD_ANSWER_MAX	(256 * 1024)

static CURL *curl = NULL;
static char answer[PGOV_ETCD_ANSWER_MAX + 1];
static size_t answer_len;
static bool answer_cut;
static int	endpoint = 0;		/* the one in use, of the list */

/* this worker's view of its lease; kept in the control block too, so that
 * a restarted worker renews the same lease */
static PgovClusterNode node;
static TimestampTz next_renewal = 0;
static bool started = false;

static size_t
take_answer(char *data, size_t size, size_t nmemb, void *ctx)
{
	size_t		len = size * nmemb;

	if (answer_len + len > PGOV_ETCD_ANSWER_MAX)
	{
		answer_cut = true;
		return 0;				/* curl fails the transfer */
	}
	memcpy(answer + answer_len, data, len);
	answer_len += len;
	return len;
}

/* The i-th endpoint of pool_governor.etcd_endpoints into url; returns how
 * many there are. */
static int
endpoint_at(int i, char *url, size_t len)
{
	const char *start = NULL;
	size_t		n = 0;
	int			count = pgov_etcd_endpoint(pgov_etcd_endpoints, i, &start, &n);

	url[0] = '\0';
	if (start)
		snprintf(url, len, "%.*s", (int) n, start);
	return count;
}

/*
 * POSTs body to path on the endpoint in use; the answer is in answer[].
 * Returns true for an answer of etcd (HTTP 200), false otherwise, with
 * node.reachable saying whether etcd answered at all; a failure moves to
 * the next endpoint.
 */
static bool
etcd_post(const char *path, const char *body)
{
	char		url[PGOV_ETCD_URL_LEN + 64];
	int			n;
	long		status = 0;
	CURLcode	rc;
	struct curl_slist *headers = NULL;
	bool		ok;

	n = endpoint_at(endpoint, url, sizeof(url) - 32);
	if (n == 0)
		return false;
	if (endpoint >= n)
	{
		endpoint = 0;
		endpoint_at(0, url, sizeof(url) - 32);
	}
	strlcat(url, path, sizeof(url));
	answer_len = 0;
	answer_cut = false;
	headers = curl_slist_append(headers, "Content-Type: application/json");
	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, take_answer);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long) PGOV_ETCD_CONNECT_MS);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long) PGOV_ETCD_REQUEST_MS);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	/* etcd is reached directly, whatever the environment says of proxies */
	curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
	rc = curl_easy_perform(curl);
	if (rc == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(headers);
	answer[answer_len] = '\0';

	ok = rc == CURLE_OK && status == 200 && !answer_cut;
	if (rc != CURLE_OK && !answer_cut)
	{
		if (node.reachable)
			pgov_event_add(PGOV_EV_ETCD_UNREACHABLE, NULL, NULL, "%s: %s", url,
						   curl_easy_strerror(rc));
		node.reachable = false;
		endpoint = (endpoint + 1) % n;
		return false;
	}
	if (!node.reachable)
		pgov_event_add(PGOV_EV_ETCD_BACK, NULL, NULL, "%s answers", url);
	node.reachable = true;
	if (!ok)
		ereport(LOG,
				(errmsg("pool_governor: etcd refused a request to %s", url),
				 errdetail("HTTP status %ld: %.200s", status, answer)));
	return ok;
}

/* The grant of the tenant ct copied: granted seats until until, held in
 * the whole cluster as etcd said; a raised cap wakes its waiters. */
static void
set_grant(const PgovClusterTenant *ct, int granted, TimestampTz until, int held)
{
	PgovGrantChange g;

	g.entry = ct->entry;
	g.incarnation = ct->incarnation;
	g.granted = granted;
	g.until = (int64) until;
	g.held = held;
	pgov_board_change(pgov_seat_grant_change, &g);
}

/* Says where the lease stands (pool_governor.cluster_status). */
static void
publish_node(void)
{
	pgov_set_cluster_node(&node);
}

/* The lease is gone or lapsed: no grant is used from now on, whatever
 * time the board gave it (etcd may have dropped it early). */
static void
lose_lease(const char *why, TimestampTz now)
{
	PgovClusterTenant *tenants = palloc(sizeof(PgovClusterTenant) * pgov_max_tenants);
	int			n = pgov_board_cluster_tenants(tenants);
	int			i;

	if (node.lease != 0)
		pgov_event_add(PGOV_EV_LEASE_LOST, NULL, NULL, "lease %lld %s",
					   (long long) node.lease, why);
	node.lease = 0;
	node.lease_until = 0;
	for (i = 0; i < n; i++)
		if (tenants[i].granted > 0)
			set_grant(&tenants[i], 0, 0, tenants[i].held);
	pfree(tenants);
	publish_node();
}

/*
 * Grants this node holds in etcd for a tenant that no longer has a quota
 * here (removed, renamed, its quota dropped) are deleted: attached to the
 * lease this node renews, they would stay for ever.  At each renewal, one
 * range over the cluster's keys; at most 64 deleted a time.
 */
static void
sweep_grants(const PgovClusterTenant *tenants, int n)
{
	char		body[1024];
	char		(*mine)[64] = palloc(sizeof(*mine) * 64);
	int			k;
	int			i;
	int			j;

	if (!pgov_etcd_all_body(body, sizeof(body), pgov_cluster_name) ||
		!etcd_post("/v3/kv/range", body))
		return;
	k = pgov_etcd_my_tenants(answer, pgov_cluster_name, pgov_node_name, mine, 64);
	for (i = 0; i < k; i++)
	{
		for (j = 0; j < n; j++)
			if (strcmp(tenants[j].name, mine[i]) == 0)
				break;
		if (j < n ||
			!pgov_etcd_delete_body(body, sizeof(body), pgov_cluster_name, mine[i], pgov_node_name) ||
			!etcd_post("/v3/kv/deleterange", body))
			continue;
		pgov_event_add(PGOV_EV_GRANT_SHRANK, mine[i], NULL,
					   "given back: the tenant has no cluster quota here any more");
	}
	pfree(mine);
}

/* A new lease.  now: when the request is sent. */
static bool
take_lease(TimestampTz now)
{
	char		body[64];
	int64_t		lease;
	int			ttl;

	pgov_etcd_grant_body(body, sizeof(body), pgov_lease_ttl_s);
	if (!etcd_post("/v3/lease/grant", body) ||
		!pgov_etcd_read_grant(answer, &lease, &ttl))
		return false;
	node.lease = lease;
	node.last_renewal = now;
	node.lease_until = TimestampTzPlusMilliseconds(now, (int64) ttl * 1000 - PGOV_LEASE_MARGIN_MS);
	next_renewal = TimestampTzPlusMilliseconds(now, (int64) ttl * 1000 / 3);
	node.problem[0] = '\0';
	publish_node();
	return true;
}

/* Renews the lease: false when etcd did not answer (nothing changes) or
 * no longer has it (the lease is lost). */
static bool
renew_lease(TimestampTz now)
{
	char		body[64];
	int			ttl;

	pgov_etcd_keepalive_body(body, sizeof(body), node.lease);
	if (!etcd_post("/v3/lease/keepalive", body))
		return false;
	ttl = pgov_etcd_read_keepalive(answer);
	if (ttl < 0)
		return false;
	if (ttl == 0)
	{
		lose_lease("expired in etcd", now);
		return false;
	}
	node.last_renewal = now;
	node.lease_until = TimestampTzPlusMilliseconds(now, (int64) ttl * 1000 - PGOV_LEASE_MARGIN_MS);
	next_renewal = TimestampTzPlusMilliseconds(now, (int64) pgov_lease_ttl_s * 1000 / 3);
	publish_node();
	return true;
}

/*
 * Brings tenant ct's grant here to what it wants, within what etcd says the
 * other nodes hold; refresh: also when it wants what it has (a renewal:
 * the grant's time and what the cluster holds are refreshed).
 */
static void
follow_tenant(const PgovClusterTenant *ct, bool refresh)
{
	char		body[4096];
	PgovEtcdTenant e;
	int			want = pgov_grant_want(ct->floor, ct->connected, ct->waiting, ct->cap);
	int			next;
	int			in_use = Max(ct->connected - ct->floor, 0);
	bool		succeeded;

	if (want == ct->granted && !refresh)
		return;
	if (!pgov_etcd_range_body(body, sizeof(body), pgov_cluster_name, ct->name) ||
		!etcd_post("/v3/kv/range", body) ||
		!pgov_etcd_read_range(answer, pgov_cluster_name, ct->name, pgov_node_name, &e))
		return;
	next = pgov_grant_next(want, ct->quota, ct->floors, e.others);
	/* seats a session uses are never given back: the board would go on
	 * using them */
	if (next < ct->granted && next < in_use)
		next = Min(in_use, ct->granted);
	if (next == e.mine && next == ct->granted)
	{
		set_grant(ct, next, node.lease_until, ct->floors + e.others + next);
		return;
	}
	/* giving back: the board stops using the seats first */
	if (next < ct->granted)
		set_grant(ct, next, node.lease_until, ct->floors + e.others + ct->granted);
	if (!pgov_etcd_txn_body(body, sizeof(body), pgov_cluster_name, ct->name,
							pgov_node_name, e.rev_mod, next, node.lease) ||
		!etcd_post("/v3/kv/txn", body) ||
		!pgov_etcd_read_txn(answer, &succeeded) || !succeeded)
		return;					/* another node moved first: next pass */
	if (next > ct->granted)
	{
		set_grant(ct, next, node.lease_until, ct->floors + e.others + next);
		pgov_event_add(PGOV_EV_GRANT_GREW, ct->name, NULL,
					   "granted %d here (floor %d), %d held in the cluster of a quota of %d",
					   next, ct->floor, ct->floors + e.others + next, ct->quota);
	}
	else
	{
		set_grant(ct, next, node.lease_until, ct->floors + e.others + next);
		if (next < ct->granted)
			pgov_event_add(PGOV_EV_GRANT_SHRANK, ct->name, NULL,
						   "granted %d here (floor %d), %d held in the cluster of a quota of %d",
						   next, ct->floor, ct->floors + e.others + next, ct->quota);
	}
}

/*
 * One pass of the worker (each turn of its loop): the quota turned on or
 * off, the lease taken, renewed or given up, and each tenant's grant
 * followed.  Allocates in the caller's (the pass's) memory context.
 */
void
pgov_cluster_pass(void)
{
	bool		on = pgov_etcd_endpoints[0] != '\0';
	TimestampTz now = GetCurrentTimestamp();
	bool		renewed = false;
	PgovClusterTenant *tenants;
	int			n;
	int			i;

	if (!started)
	{
		/* a restarted worker goes on with the lease the last one held */
		pgov_cluster_node(&node);
		node.reachable = true;
		next_renewal = now;
		started = true;
	}
	if (on != node.on)
	{
		node.on = on;
		pgov_board_change(pgov_seat_cluster_on_change, &on);
		if (!on)
		{
			node.lease = 0;
			node.lease_until = 0;
			node.problem[0] = '\0';
		}
		publish_node();
	}
	if (!on)
		return;
	if (curl == NULL)
	{
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || (curl = curl_easy_init()) == NULL)
		{
			strlcpy(node.problem, "libcurl could not be initialized", sizeof(node.problem));
			publish_node();
			return;
		}
	}
	if (pgov_node_name[0] == '\0')
	{
		if (node.problem[0] == '\0')
			ereport(LOG,
					(errmsg("pool_governor: this node holds only its cluster floors: pool_governor.node_name is empty"),
					 errhint("Give every node its own pool_governor.node_name: its grants in etcd are kept under it.")));
		strlcpy(node.problem, "pool_governor.node_name is empty: this node holds only its floors",
				sizeof(node.problem));
		if (node.lease != 0)
			lose_lease("given up: pool_governor.node_name was emptied", now);
		publish_node();
		return;
	}

	/* the lease: lapsed, taken, renewed */
	if (node.lease != 0 && now >= node.lease_until)
		lose_lease("lapsed: not renewed in time", now);
	if (node.lease == 0)
	{
		if (!take_lease(now))
		{
			if (!node.reachable)
				snprintf(node.problem, sizeof(node.problem),
						 "etcd does not answer: this node holds only its floors");
			publish_node();
			return;
		}
		renewed = true;
	}
	else if (now >= next_renewal)
		renewed = renew_lease(now);
	if (node.lease == 0)
		return;

	/* each tenant: grown when it needs more, given back at a renewal */
	tenants = palloc(sizeof(PgovClusterTenant) * pgov_max_tenants);
	n = pgov_board_cluster_tenants(tenants);
	if (renewed)
		sweep_grants(tenants, n);
	for (i = 0; i < n && node.reachable; i++)
	{
		int			want = pgov_grant_want(tenants[i].floor, tenants[i].connected,
										   tenants[i].waiting, tenants[i].cap);

		if (want > tenants[i].granted || renewed)
			follow_tenant(&tenants[i], renewed);
	}
	pfree(tenants);
}

/* How long the worker may sleep before the next pass has work: the next
 * renewal (or the end of the lease, if it comes first). */
long
pgov_cluster_sleep_ms(TimestampTz now)
{
	TimestampTz next;

	if (!node.on || pgov_node_name[0] == '\0')
		return LONG_MAX;
	if (node.lease == 0)
		return 1000;			/* a lease is tried again each second */
	next = Min(next_renewal, node.lease_until);
	return next <= now ? 0 : (long) ((next - now + 999) / 1000);
}
