/*-------------------------------------------------------------------------
 *
 * settings.c
 *		pool_governor's settings (GUCs): their variables, definitions and
 *		check hooks.  Every module reads them through settings.h; only this
 *		file defines them, and _PG_init asks it to.
 *
 * The README's settings table says what each is for, its default and
 * whether it needs a restart.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/guc.h"

#include "compat.h"
#include "etcdmsg.h"
#include "settings.h"

int			pgov_mode = PGOV_MODE_ENFORCE;
char	   *pgov_database = NULL;
int			pgov_capacity_setting = -1;
char	   *pgov_default_tenant = NULL;
char	   *pgov_node_name = NULL;
bool		pgov_exempt_superusers = true;
int			pgov_max_tenants = 1024;
int			pgov_max_rules = 4096;
int			pgov_sample_interval_ms = 1000;
int			pgov_health_window_s = 60;
int			pgov_history_size = 3600;
int			pgov_history_tenants = 64;
int			pgov_event_log_size = 1024;
int			pgov_refusal_pacing_ms = 1000;
int			pgov_drain_test_pause_ms = 0;
char	   *pgov_etcd_endpoints = NULL;
char	   *pgov_cluster_name = NULL;
int			pgov_lease_ttl_s = 10;

static const struct config_enum_entry mode_options[] = {
	{"enforce", PGOV_MODE_ENFORCE, false},
	{"monitor", PGOV_MODE_MONITOR, false},
	{"off", PGOV_MODE_OFF, false},
	{NULL, 0, false}
};

const char *
pgov_mode_name(int mode)
{
	const struct config_enum_entry *e;

	for (e = mode_options; e->name; e++)
		if (e->val == mode)
			return e->name;
	return "unknown";
}

/* A node's name: what node_limits.node matches, and not a role's. */
static bool
check_node_name(char **newval, void **extra, GucSource source)
{
	size_t		len = *newval ? strlen(*newval) : 0;

	if (len >= NAMEDATALEN)
	{
		GUC_check_errdetail("A node name must be at most %d bytes long.",
							NAMEDATALEN - 1);
		return false;
	}
	if (len > 0 && (strcmp(*newval, "primary") == 0 || strcmp(*newval, "standby") == 0))
	{
		GUC_check_errdetail("\"%s\" names a role in pool_governor.node_limits, not a node.",
							*newval);
		GUC_check_errhint("Give the node its own name, such as its Patroni member name.");
		return false;
	}
	return true;
}

/*
 * etcd's client URLs, separated by commas (or spaces): each http:// or
 * https://, at most PGOV_ETCD_MAX_ENDPOINTS.  Empty: no cluster quota.
 */
static bool
check_etcd_endpoints(char **newval, void **extra, GucSource source)
{
	int			n = pgov_etcd_endpoint(*newval, -1, NULL, NULL);
	int			i;

	if (n > PGOV_ETCD_MAX_ENDPOINTS)
	{
		GUC_check_errdetail("At most %d endpoints are used.", PGOV_ETCD_MAX_ENDPOINTS);
		return false;
	}
	for (i = 0; i < n; i++)
	{
		const char *start;
		size_t		len;

		pgov_etcd_endpoint(*newval, i, &start, &len);
		if (!((len > 7 && strncmp(start, "http://", 7) == 0) ||
			  (len > 8 && strncmp(start, "https://", 8) == 0)))
		{
			GUC_check_errdetail("\"%.*s\" is not an http:// or https:// URL.", (int) len, start);
			GUC_check_errhint("Give etcd's client URLs, comma-separated, such as http://10.0.0.1:2379,http://10.0.0.2:2379.");
			return false;
		}
		if (len > PGOV_ETCD_URL_LEN)
		{
			GUC_check_errdetail("An endpoint must be at most %d bytes long.", PGOV_ETCD_URL_LEN);
			return false;
		}
	}
	return true;
}

/* The cluster's name: the prefix of its keys in etcd. */
static bool
check_cluster_name(char **newval, void **extra, GucSource source)
{
	const char *p = *newval ? *newval : "";
	size_t		len = strlen(p);

	if (len == 0 || len >= NAMEDATALEN)
	{
		GUC_check_errdetail("A cluster name must be 1 to %d bytes long.", NAMEDATALEN - 1);
		return false;
	}
	for (; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			  (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
		{
			GUC_check_errdetail("A cluster name is letters, digits, '-', '_' and '.' only (it begins the keys in etcd).");
			return false;
		}
	return true;
}

/* A tenant name: what pool_governor.tenants.name accepts. */
static bool
check_default_tenant(char **newval, void **extra, GucSource source)
{
	size_t		len = *newval ? strlen(*newval) : 0;

	if (len == 0 || len >= NAMEDATALEN)
	{
		GUC_check_errdetail("A tenant name must be 1 to %d bytes long.",
							NAMEDATALEN - 1);
		return false;
	}
	return true;
}

void
pgov_define_settings(void)
{
	DefineCustomEnumVariable("pool_governor.mode",
							 gettext_noop("What the governor does with a login that finds no seat."),
							 gettext_noop("enforce refuses it (or makes it wait, where its tenant allows); "
										  "monitor admits it and counts it in would_reject; "
										  "off does nothing at all."),
							 &pgov_mode, PGOV_MODE_ENFORCE, mode_options,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);

	DefineCustomStringVariable("pool_governor.database",
							   gettext_noop("Database that holds the governor's configuration tables."),
							   gettext_noop("The worker connects to it; CREATE EXTENSION pool_governor is only allowed there."),
							   &pgov_database, "postgres",
							   PGC_POSTMASTER, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("pool_governor.capacity",
							gettext_noop("Connection seats shared by all tenants."),
							gettext_noop("-1 means max_connections minus superuser_reserved_connections."),
							&pgov_capacity_setting, -1, -1, MAX_BACKENDS,
							PGC_SIGHUP, 0, NULL, NULL, NULL);

	DefineCustomStringVariable("pool_governor.default_tenant",
							   gettext_noop("Tenant of the connections that no rule matches."),
							   gettext_noop("When pool_governor.tenants has no such tenant, it exists with no cap and no reserved seats."),
							   &pgov_default_tenant, "default",
							   PGC_SIGHUP, 0, check_default_tenant, NULL, NULL);

	DefineCustomStringVariable("pool_governor.node_name",
							   gettext_noop("This node's name in pool_governor.node_limits."),
							   gettext_noop("A tenant's numbers on this node come from the node_limits row with this name, else the row for the node's role (primary or standby), else pool_governor.tenants. Empty: the node has no name."),
							   &pgov_node_name, "",
							   PGC_SIGHUP, 0, check_node_name, NULL, NULL);

	DefineCustomBoolVariable("pool_governor.exempt_superusers",
							 gettext_noop("Superusers are counted apart and never refused."),
							 NULL,
							 &pgov_exempt_superusers, true,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("pool_governor.max_tenants",
							gettext_noop("Most tenants the governor can hold, counting the default tenant."),
							gettext_noop("Each costs about 700 bytes of shared memory, health's per-tenant counters included."),
							&pgov_max_tenants, 1024, 1, PGOV_MAX_TENANTS_LIMIT,
							PGC_POSTMASTER, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("pool_governor.max_rules",
							gettext_noop("Most classification rules the governor can hold."),
							gettext_noop("Each costs 256 bytes of shared memory."),
							&pgov_max_rules, 4096, 1, PGOV_MAX_RULES_LIMIT,
							PGC_POSTMASTER, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("pool_governor.sample_interval",
							gettext_noop("How often the worker reconciles seats and samples history."),
							NULL,
							&pgov_sample_interval_ms, 1000, 100, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);

	DefineCustomIntVariable("pool_governor.health_window",
							gettext_noop("How far back health looks for refusals and waits."),
							gettext_noop("A tenant is critical when more than 0.1% of its logins in this window were refused."),
							&pgov_health_window_s, 60, 1, 86400,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);

	DefineCustomIntVariable("pool_governor.history_size",
							gettext_noop("History samples kept per tenant."),
							gettext_noop("Shared memory grows with history_size times history_tenants."),
							&pgov_history_size, 3600, 0, 1000000,
							PGC_POSTMASTER, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("pool_governor.history_tenants",
							gettext_noop("Tenants whose history is kept at once."),
							gettext_noop("A tenant with sessions or logins takes a history ring; the ring of the tenant idle the longest goes to it when none is free."),
							&pgov_history_tenants, 64, 0, PGOV_MAX_TENANTS_LIMIT,
							PGC_POSTMASTER, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("pool_governor.event_log_size",
							gettext_noop("Admission events kept in pool_governor.events."),
							NULL,
							&pgov_event_log_size, 1024, 0, 1000000,
							PGC_POSTMASTER, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("pool_governor.refusal_pacing",
							gettext_noop("Longest time a refusal is held back while a tenant's logins keep being refused."),
							gettext_noop("A client that reconnects at once when refused gets its next refusal later, as long as the refusals have kept coming, up to this; each held refusal keeps its backend slot meanwhile, only while the slots the reserves need stay free. 0 answers every refusal at once."),
							&pgov_refusal_pacing_ms, 1000, 0, 10000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);

	DefineCustomStringVariable("pool_governor.etcd_endpoints",
							   gettext_noop("etcd's client URLs, comma-separated, where the nodes hold the tenants' cluster quotas."),
							   gettext_noop("Empty: no cluster quota (tenants.cluster_max_connections is not enforced)."),
							   &pgov_etcd_endpoints, "",
							   PGC_SIGHUP, 0, check_etcd_endpoints, NULL, NULL);
	DefineCustomStringVariable("pool_governor.cluster_name",
							   gettext_noop("The cluster's name: the prefix of its keys in etcd."),
							   gettext_noop("Every node of one cluster must have the same; two clusters sharing an etcd must differ."),
							   &pgov_cluster_name, "pool_governor",
							   PGC_SIGHUP, 0, check_cluster_name, NULL, NULL);
	DefineCustomIntVariable("pool_governor.lease_ttl",
							gettext_noop("How long etcd keeps a node's grants after its last renewal."),
							gettext_noop("The node renews every third of it and stops using its grants before it ends."),
							&pgov_lease_ttl_s, 10, 3, 300,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("pool_governor.drain_test_pause",
							gettext_noop("For tests only: how long the drain pass waits between choosing the sessions it ends and ending them."),
							gettext_noop("Lets a test change a session's state in between. 0, the default, never waits."),
							&pgov_drain_test_pause_ms, 0, 0, 60 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS | GUC_NOT_IN_SAMPLE | GUC_NO_SHOW_ALL,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("pool_governor");
}

