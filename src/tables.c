/*-------------------------------------------------------------------------
 *
 * tables.c
 *		The configuration tables: reading and validating them, refusing bad
 *		writes, and loading the committed configuration (worker only).
 *
 * One reader and one validator serve both the write-time trigger (refuses
 * a bad statement with ERROR) and the worker's loader (keeps the last good
 * configuration with a WARNING), so what a write is checked against is
 * exactly what a load enforces.
 *
 * Integrity and safety
 * --------------------
 * - The reader runs no expression: it selects the columns as stored, checks
 *   their types, and converts them in C.  No function, operator or cast is
 *   looked up by name, so nothing planted in a schema on the search_path can
 *   run, and the worker's session runs with search_path = pg_catalog,
 *   pg_temp besides.
 * - The tables (tenants, rules, node_limits) are read under one snapshot:
 *   a load never sees half of a transaction.
 * - Writers serialize on an ExclusiveLock on the extension's own object
 *   (pg_extension row), taken by the statement trigger and held to commit.
 *   Only ALTER/DROP EXTENSION take locks on that object, which needs
 *   ownership: no login role, pg_monitor included, can take or hold it.
 *   The trigger then validates against the latest committed state plus its
 *   own changes, so two concurrent writers are checked one after the other.
 * - Only the worker publishes, and only what is committed: reload() asks it
 *   and waits, and refuses inside a transaction that changed the tables.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "catalog/namespace.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "libpq/auth.h"
#include "postmaster/postmaster.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/datetime.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "board.h"
#include "columns.h"
#include "control.h"
#include "events.h"
#include "problems.h"
#include "settings.h"
#include "snapshot.h"
#include "tables.h"

PG_FUNCTION_INFO_V1(pgov_config_trigger);
PG_FUNCTION_INFO_V1(pgov_reload);

/* How long reload() waits for the worker. */
#define PGOV_RELOAD_TIMEOUT_MS	30000

static const PgovColumnSpec tenant_columns[] = {
	{"name", TEXTOID},
	{"max_connections", INT4OID},
	{"reserved_connections", INT4OID},
	{"max_waiting", INT4OID},
	{"wait_timeout", INTERVALOID},
	{"weight", INT4OID},		/* since 1.4 */
	{"drain", TEXTOID},
	{"drain_grace", INTERVALOID},
	{"refusal_sqlstate", TEXTOID},	/* since 1.6 */
	{"cluster_max_connections", INT4OID},	/* since 1.7 */
};

/* The columns of tenants before 1.4 (the library is newer than the SQL
 * objects until ALTER EXTENSION ... UPDATE). */
#define TENANT_COLUMNS_1_3 5
#define TENANT_COLUMNS_1_5 8
#define TENANT_COLUMNS_1_6 9

static const PgovColumnSpec rule_columns[] = {
	{"id", INT8OID},
	{"priority", INT4OID},
	{"tenant", TEXTOID},
	{"role_name", TEXTOID},
	{"database_name", TEXTOID},
	{"application_name", TEXTOID},
	{"client_addr", CIDROID},
};

static const PgovColumnSpec node_limit_columns[] = {
	{"node", TEXTOID},
	{"tenant", TEXTOID},
	{"max_connections", INT4OID},
	{"reserved_connections", INT4OID},
	{"cluster_floor", INT4OID},	/* since 1.7 */
};
#define NODE_LIMIT_COLUMNS_1_6 4

static bool wake_at_commit = false;
static bool xact_callback_registered = false;

static const char *tenants_query =
"SELECT name, max_connections, reserved_connections, max_waiting, wait_timeout, "
"weight, drain, drain_grace, refusal_sqlstate, cluster_max_connections "
"FROM pool_governor.tenants";
static const char *tenants_query_1_6 =
"SELECT name, max_connections, reserved_connections, max_waiting, wait_timeout, "
"weight, drain, drain_grace, refusal_sqlstate "
"FROM pool_governor.tenants";
static const char *tenants_query_1_5 =
"SELECT name, max_connections, reserved_connections, max_waiting, wait_timeout, "
"weight, drain, drain_grace "
"FROM pool_governor.tenants";
static const char *tenants_query_1_3 =
"SELECT name, max_connections, reserved_connections, max_waiting, wait_timeout "
"FROM pool_governor.tenants";

/*
 * Which SQL version's columns pool_governor.tenants has, as 13 (1.3:
 * before weight, drain and drain_grace), 14 (1.4 and 1.5: with them), 16
 * (1.6: with refusal_sqlstate too) or 17 (1.7: cluster_max_connections,
 * and node_limits.cluster_floor with it); the library is newer than the
 * SQL objects until ALTER EXTENSION ... UPDATE.
 */
static int
tenants_version(void)
{
	static const char *q =
	"SELECT pg_catalog.count(*) FILTER (WHERE attname OPERATOR(pg_catalog.=) ANY ('{weight,drain,drain_grace}'::pg_catalog.name[])), "
	"pg_catalog.count(*) FILTER (WHERE attname OPERATOR(pg_catalog.=) 'refusal_sqlstate'), "
	"pg_catalog.count(*) FILTER (WHERE attname OPERATOR(pg_catalog.=) 'cluster_max_connections') "
	"FROM pg_catalog.pg_attribute "
	"WHERE attrelid OPERATOR(pg_catalog.=) 'pool_governor.tenants'::pg_catalog.regclass "
	"AND attnum OPERATOR(pg_catalog.>) 0 AND NOT attisdropped";
	bool		isnull;

	if (SPI_execute(q, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read the columns of pool_governor.tenants");
	if (DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
									SPI_tuptable->tupdesc, 1, &isnull)) != 3)
		return 13;
	if (DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
									SPI_tuptable->tupdesc, 2, &isnull)) != 1)
		return 14;
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
									   SPI_tuptable->tupdesc, 3, &isnull)) == 1 ? 17 : 16;
}
/* pool_governor.node_limits, where it exists (since 1.5); each row once,
 * in a stable order (equal tables give equal snapshot bytes). */
static const char *node_limits_query =
"SELECT node, tenant, max_connections, reserved_connections, cluster_floor "
"FROM pool_governor.node_limits ORDER BY node, tenant";
static const char *node_limits_query_1_6 =
"SELECT node, tenant, max_connections, reserved_connections "
"FROM pool_governor.node_limits ORDER BY node, tenant";

static bool
have_node_limits(void)
{
	static const char *q =
	"SELECT pg_catalog.to_regclass('pool_governor.node_limits') IS NOT NULL";
	bool		isnull;

	if (SPI_execute(q, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not look for pool_governor.node_limits");
	return DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
									  SPI_tuptable->tupdesc, 1, &isnull));
}

/* Reads node_limits into cfg, its tenants already read and sorted. */
static bool
read_node_limits(PgovConfig *cfg, MemoryContext mcxt, int version, PgovProblem *p)
{
	TupleDesc	desc;
	uint64		i;

	if (!have_node_limits())
		return true;
	if (SPI_execute(version >= 17 ? node_limits_query : node_limits_query_1_6,
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read pool_governor.node_limits");
	desc = SPI_tuptable->tupdesc;
	if (!pgov_check_columns(desc, "node_limits", node_limit_columns,
					   version >= 17 ? lengthof(node_limit_columns) :
					   NODE_LIMIT_COLUMNS_1_6, p))
		return false;
	cfg->nlimits = (int) SPI_processed;
	cfg->limits = MemoryContextAllocZero(mcxt, sizeof(PgovNodeLimit) * Max(cfg->nlimits, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		PgovNodeLimit *l = &cfg->limits[i];
		char	   *node = SPI_getvalue(tup, desc, 1);
		char	   *tenant = SPI_getvalue(tup, desc, 2);

		if (node == NULL)
			return pgov_problem(p, PGOV_MISSING_VALUE, NULL, "node", "node_limits");
		if (tenant == NULL)
			return pgov_problem(p, PGOV_MISSING_VALUE, NULL, "tenant", "node_limits");
		l->tenant = pgov_find_tenant(cfg->tenants, cfg->ntenants, tenant);
		if (l->tenant < 0)
		{
			pgov_problem(p, PGOV_UNKNOWN_TENANT, tenant, "tenant", NULL);
			return false;
		}
		if (strlen(node) == 0 || strlen(node) >= NAMEDATALEN)
		{
			pgov_problem(p, PGOV_BAD_NODE_NAME, tenant, "node", node);
			return false;
		}
		strlcpy(l->node, node, NAMEDATALEN);
		if (!pgov_get_int4(tup, desc, 3, &l->max_connections))
			l->max_connections = PGOV_NO_CAP;
		else if (l->max_connections < 0)
		{
			pgov_problem(p, PGOV_NODE_NEGATIVE_VALUE, tenant, "max_connections", node);
			p->value = l->max_connections;
			return false;
		}
		if (!pgov_get_int4(tup, desc, 4, &l->reserved_connections))
		{
			pgov_problem(p, PGOV_MISSING_VALUE, NULL, "reserved_connections", "node_limits");
			return false;
		}
		if (version >= 17 && !pgov_get_int4(tup, desc, 5, &l->cluster_floor))
		{
			pgov_problem(p, PGOV_MISSING_VALUE, NULL, "cluster_floor", "node_limits");
			return false;
		}
	}
	return true;
}

static const char *rules_query =
"SELECT id, priority, tenant, role_name, database_name, application_name, client_addr "
"FROM pool_governor.rules";

/*
 * Reads the tables (tenants, rules, node_limits), under the caller's active
 * snapshot, into cfg (allocated in the caller's memory context).  Caller is connected to SPI.  Returns
 * false with *p filled when a value cannot be used.
 */
static bool
read_tables(PgovConfig *cfg, MemoryContext mcxt, PgovProblem *p)
{
	TupleDesc	desc;
	uint64		i;
	bool		share;
	int			version;

	memset(cfg, 0, sizeof(*cfg));
	cfg->capacity = pgov_capacity();
	strlcpy(cfg->default_tenant, pgov_default_tenant, NAMEDATALEN);

	version = tenants_version();
	share = version >= 14;
	if (SPI_execute(version >= 17 ? tenants_query :
					version >= 16 ? tenants_query_1_6 :
					share ? tenants_query_1_5 : tenants_query_1_3, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read pool_governor.tenants");
	desc = SPI_tuptable->tupdesc;
	if (!pgov_check_columns(desc, "tenants", tenant_columns,
					   version >= 17 ? lengthof(tenant_columns) :
					   version >= 16 ? TENANT_COLUMNS_1_6 :
					   share ? TENANT_COLUMNS_1_5 : TENANT_COLUMNS_1_3, p))
		return false;
	cfg->ntenants = (int) SPI_processed;
	cfg->tenants = MemoryContextAllocZero(mcxt, sizeof(PgovTenantDef) * Max(cfg->ntenants, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		PgovTenantDef *t = &cfg->tenants[i];
		char	   *name = SPI_getvalue(tup, desc, 1);
		char	   *drain;
		char	   *refusal;
		bool		isnull;
		Datum		d;

		if (name == NULL)
			return pgov_problem(p, PGOV_MISSING_VALUE, NULL, "name", "tenants");
		if (strlen(name) == 0 || strlen(name) >= NAMEDATALEN)
			return pgov_problem(p, PGOV_BAD_TENANT_NAME, NULL, "name", name);
		strlcpy(t->name, name, NAMEDATALEN);
		if (!pgov_get_int4(tup, desc, 2, &t->max_connections))
			t->max_connections = PGOV_NO_CAP;
		else if (t->max_connections < 0)
		{
			/* a negative cap, not SQL NULL: say so with its value */
			pgov_problem(p, PGOV_NEGATIVE_VALUE, t->name, "max_connections", NULL);
			p->value = t->max_connections;
			return false;
		}
		if (!pgov_get_int4(tup, desc, 3, &t->reserved_connections))
			return pgov_problem(p, PGOV_MISSING_VALUE, t->name, "reserved_connections", NULL);
		if (!pgov_get_int4(tup, desc, 4, &t->max_waiting))
			return pgov_problem(p, PGOV_MISSING_VALUE, t->name, "max_waiting", NULL);
		d = SPI_getbinval(tup, desc, 5, &isnull);
		if (isnull)
			return pgov_problem(p, PGOV_MISSING_VALUE, t->name, "wait_timeout", NULL);
		if (pgov_interval_negative(DatumGetIntervalP(d)))
			return pgov_negative_interval(p, t->name, "wait_timeout", DatumGetIntervalP(d));
		t->wait_timeout_ms = pgov_interval_ms(DatumGetIntervalP(d));
		if (t->wait_timeout_ms == 0 && pgov_interval_positive(DatumGetIntervalP(d)))
			return pgov_problem(p, PGOV_WAIT_TOO_SHORT, t->name, "wait_timeout", NULL);
		if (!share)
		{
			t->weight = 1;
			t->drain = PGOV_DRAIN_NATURAL;
			t->drain_grace_ms = 30000;
			continue;
		}
		if (!pgov_get_int4(tup, desc, 6, &t->weight))
			return pgov_problem(p, PGOV_MISSING_VALUE, t->name, "weight", NULL);
		drain = SPI_getvalue(tup, desc, 7);
		if (drain == NULL)
			return pgov_problem(p, PGOV_MISSING_VALUE, t->name, "drain", NULL);
		if (strcmp(drain, "natural") == 0)
			t->drain = PGOV_DRAIN_NATURAL;
		else if (strcmp(drain, "idle") == 0)
			t->drain = PGOV_DRAIN_IDLE;
		else
			return pgov_problem(p, PGOV_BAD_DRAIN, t->name, "drain", drain);
		d = SPI_getbinval(tup, desc, 8, &isnull);
		if (isnull)
			return pgov_problem(p, PGOV_MISSING_VALUE, t->name, "drain_grace", NULL);
		if (pgov_interval_negative(DatumGetIntervalP(d)))
			return pgov_negative_interval(p, t->name, "drain_grace", DatumGetIntervalP(d));
		t->drain_grace_ms = pgov_interval_ms(DatumGetIntervalP(d));
		if (version < 16)
			continue;
		refusal = SPI_getvalue(tup, desc, 9);
		if (refusal == NULL)
			return pgov_problem(p, PGOV_MISSING_VALUE, t->name, "refusal_sqlstate", NULL);
		if (strcmp(refusal, "53300") == 0)
			t->refusal = PGOV_REFUSAL_TOO_MANY;
		else if (strcmp(refusal, "57P03") == 0)
			t->refusal = PGOV_REFUSAL_CANNOT_CONNECT;
		else
			return pgov_problem(p, PGOV_BAD_REFUSAL, t->name, "refusal_sqlstate", refusal);
		if (version < 17)
			continue;
		/* NULL: no cluster quota (0); a quota is at least 1 */
		if (pgov_get_int4(tup, desc, 10, &t->cluster_quota) && t->cluster_quota < 1)
		{
			pgov_problem(p, PGOV_BAD_CLUSTER_QUOTA, t->name, "cluster_max_connections", NULL);
			p->value = t->cluster_quota;
			return false;
		}
	}
	pgov_sort_tenants(cfg->tenants, cfg->ntenants);

	if (SPI_execute(rules_query, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read pool_governor.rules");
	desc = SPI_tuptable->tupdesc;
	if (!pgov_check_columns(desc, "rules", rule_columns, lengthof(rule_columns), p))
		return false;
	cfg->nrules = (int) SPI_processed;
	cfg->rules = MemoryContextAllocZero(mcxt, sizeof(PgovRule) * Max(cfg->nrules, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		PgovRule   *r = &cfg->rules[i];
		bool		isnull;
		int64		id;
		int			priority;
		char	   *tenant;
		int			t;

		id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		if (isnull)
			return pgov_problem(p, PGOV_MISSING_VALUE, NULL, "id", "rules");
		if (!pgov_get_int4(tup, desc, 2, &priority))
		{
			pgov_problem(p, PGOV_MISSING_VALUE, NULL, "priority", "rules");
			p->rule_id = id;
			return false;
		}
		tenant = SPI_getvalue(tup, desc, 3);
		if (tenant == NULL)
		{
			pgov_problem(p, PGOV_MISSING_VALUE, NULL, "tenant", "rules");
			p->rule_id = id;
			return false;
		}
		if (!pgov_rule_build(r, id, priority,
							 SPI_getvalue(tup, desc, 4), SPI_getvalue(tup, desc, 5),
							 SPI_getvalue(tup, desc, 6), SPI_getvalue(tup, desc, 7),
							 p))
			return false;
		t = pgov_find_tenant(cfg->tenants, cfg->ntenants, tenant);
		if (t < 0)
		{
			pgov_problem(p, PGOV_UNKNOWN_TENANT, tenant, "tenant", NULL);
			p->rule_id = id;
			return false;
		}
		r->tenant = t;
		/* +group rules match by the group's OID, resolved now */
		if (r->has_role && r->role_is_group)
			r->group_oid = get_role_oid(r->role_name, true);
	}
	pgov_sort_rules(cfg->rules, cfg->nrules);
	return read_node_limits(cfg, mcxt, version, p);
}

/*
 * Validates cfg against the limits in force now: the tables as written,
 * each node_limits row, and the numbers this node resolves in the role it
 * has (node_limits applied), whose reserves must fit capacity.  On the
 * primary, where the tables are written, that is the primary's capacity for
 * its 'primary' rows and its own name's; a standby's rows are checked on
 * the standby when it loads them.
 */
static bool
validate(const PgovConfig *cfg, int capacity, PgovProblem *p)
{
	PgovLimits	limits;
	const char **names = palloc(sizeof(char *) * Max(cfg->nrules, 1));
	PgovTenantDef *resolved;
	int			role = pgov_node_role();
	int			i;
	bool		ok;

	for (i = 0; i < cfg->nrules; i++)
		names[i] = cfg->tenants[cfg->rules[i].tenant].name;
	/* without node_limits the tables are this node's numbers: one pass */
	limits.capacity = cfg->nlimits > 0 ? INT_MAX : capacity;
	limits.max_tenants = pgov_max_tenants;
	limits.extra_tenants = pgov_tenant_entries_for(cfg) - cfg->ntenants;
	limits.max_rules = pgov_max_rules;
	limits.max_wait_ms = (int64) AuthenticationTimeout * 1000;
	ok = pgov_validate_config(cfg->tenants, cfg->ntenants, names, cfg->rules,
							  cfg->nrules, &limits, p) &&
		pgov_validate_node_limits(cfg->limits, cfg->nlimits, cfg->tenants,
								  cfg->ntenants, p);
	if (ok && cfg->nlimits > 0)
	{
		int64	   *sums = palloc(sizeof(int64) * Max(cfg->ntenants, 1));

		ok = pgov_validate_cluster_floors(cfg->limits, cfg->nlimits, cfg->tenants,
										  cfg->ntenants, sums, p);
		pfree(sums);
	}
	if (ok && cfg->nlimits > 0)
	{
		resolved = palloc(sizeof(PgovTenantDef) * Max(cfg->ntenants, 1));
		pgov_resolve_config(cfg, role, resolved);
		limits.capacity = capacity;
		ok = pgov_validate_config(resolved, cfg->ntenants, names, cfg->rules,
								  cfg->nrules, &limits, p);
		if (!ok && p->code == PGOV_RESERVED_ABOVE_CAPACITY)
		{
			p->code = PGOV_NODE_RESERVED_ABOVE_CAPACITY;
			strlcpy(p->text, pgov_role_name(role), sizeof(p->text));
		}
		pfree(resolved);
	}
	pfree(names);
	return ok;
}

/* Reads the tables under one fresh snapshot.  Caller is in a transaction
 * and connected to SPI. */
static bool
read_committed(PgovConfig *cfg, MemoryContext mcxt, PgovProblem *p)
{
	bool		ok;

	/* our own earlier commands (a trigger's statement) must be visible */
	CommandCounterIncrement();
	PushActiveSnapshot(GetLatestSnapshot());
	ok = read_tables(cfg, mcxt, p);
	PopActiveSnapshot();
	return ok;
}

/*
 * The worker's load: reads the committed tables, validates them and, when
 * they differ from the configuration in force, publishes them and writes
 * the snapshot file.  A configuration that cannot be read (a damaged or
 * altered table: any error) or is invalid is refused with one WARNING per
 * distinct problem; the last good one stays.  Caller is in a transaction.
 */
static char *published_bytes = NULL;
static Size published_len = 0;
static char last_warning[PGOV_PROBLEM_LEN] = "";

/*
 * The bytes of the configuration in force, kept across the worker's passes
 * (TopMemoryContext): after a restart, what the snapshot file holds.
 */
static void
remember_published(const char *bytes, Size len)
{
	if (published_bytes)
		pfree(published_bytes);
	published_bytes = NULL;
	published_len = 0;
	if (bytes)
	{
		published_bytes = MemoryContextAlloc(TopMemoryContext, len);
		memcpy(published_bytes, bytes, len);
		published_len = len;
	}
}

static void
recall_published(void)
{
	static bool recalled = false;
	char	   *bytes;
	Size		len = 0;

	if (recalled)
		return;
	bytes = pgov_snapshot_bytes(&len);
	remember_published(bytes, len);
	if (bytes)
		pfree(bytes);
	recalled = true;
}

static void
refuse_load(uint64 ticket, const char *text)
{
	uint64		current;

	current = pgov_generation();
	if (strcmp(text, last_warning) != 0)
	{
		ereport(WARNING,
				(errmsg("pool_governor refused its configuration; generation " UINT64_FORMAT " stays in force",
						current),
				 errdetail_internal("%s", text)));
		strlcpy(last_warning, text, sizeof(last_warning));
		pgov_event_add(PGOV_EV_CONFIG_REFUSED, NULL, NULL, "%s", text);
		pgov_set_problem(PGOV_PROBLEM_WARNING, text);
	}
	pgov_load_end(ticket, false, text);
}

/*
 * Records what is wrong with cfg's numbers in each role, for health, and
 * logs the problem of the role in force once, when it changed.
 */
static void
note_fit(const PgovConfig *cfg)
{
	int			role = pgov_numbers_role(pgov_board_role());

	if (pgov_set_fit(cfg, role))
		ereport(LOG, (errmsg("pool_governor: %s", cfg->problem[role])));
}

void
pgov_load_config(void)
{
	MemoryContext mcxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	uint64		ticket = pgov_load_begin();
	PgovConfig	cfg;
	PgovProblem problem;
	char		text[PGOV_PROBLEM_LEN];
	char		node_name[NAMEDATALEN];
	volatile bool ok = false;
	volatile bool failed = false;
	char	   *bytes;
	Size		len;
	uint64		generation;

	recall_published();
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(mcxt);
	PG_TRY();
	{
		SPI_connect();
		ok = read_committed(&cfg, mcxt, &problem);
		SPI_finish();
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(mcxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(mcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(mcxt);
		CurrentResourceOwner = owner;
		snprintf(text, sizeof(text), "the configuration tables cannot be read: %s",
				 edata->message);
		FreeErrorData(edata);
		failed = true;
	}
	PG_END_TRY();

	if (failed)
	{
		refuse_load(ticket, text);
		return;
	}
	if (ok && !validate(&cfg, INT_MAX, &problem))
		ok = false;
	if (!ok)
	{
		pgov_format_problem(&problem, text, sizeof(text));
		refuse_load(ticket, text);
		return;
	}

	/* this node's numbers in each role; reserves above the capacity are
	 * enforced scaled */
	pgov_fit_config(&cfg);
	last_warning[0] = '\0';

	bytes = pgov_config_bytes(&cfg, &len);
	pgov_control_node_name(node_name);
	if (published_bytes != NULL && len == published_len &&
		memcmp(bytes, published_bytes, len) == 0 &&
		strcmp(node_name, cfg.node_name) == 0)
	{
		/* nothing changed: no new generation, but the problem may have */
		pfree(bytes);
		pgov_set_problem(PGOV_PROBLEM_NONE, NULL);
		note_fit(&cfg);
		pgov_load_end(ticket, true, NULL);
		return;
	}

	generation = pgov_publish(&cfg);
	pgov_set_problem(PGOV_PROBLEM_NONE, NULL);
	note_fit(&cfg);
	pgov_snapshot_write(&cfg, generation);
	remember_published(bytes, len);
	pfree(bytes);

	pgov_event_add(PGOV_EV_CONFIG_LOADED, NULL, NULL,
				   "generation " UINT64_FORMAT ": %d tenants, %d rules, capacity %d",
				   generation, cfg.ntenants, cfg.nrules, cfg.capacity);
	pgov_load_end(ticket, true, NULL);
}

/*
 * The extension is gone from pool_governor.database (DROP EXTENSION): its
 * configuration must not stay enforced, invisible and unchangeable.  The
 * default tenant alone, with no cap, is published and the snapshot file
 * removed.
 */
void
pgov_unpublish(void)
{
	PgovConfig	cfg;
	char	   *bytes;
	Size		len;
	uint64		generation;

	recall_published();
	memset(&cfg, 0, sizeof(cfg));
	strlcpy(cfg.default_tenant, pgov_default_tenant, NAMEDATALEN);
	pgov_fit_config(&cfg);
	bytes = pgov_config_bytes(&cfg, &len);
	if (published_bytes == NULL ||
		(len == published_len && memcmp(bytes, published_bytes, len) == 0))
	{
		pfree(bytes);
		return;
	}
	generation = pgov_publish(&cfg);
	pgov_set_problem(PGOV_PROBLEM_NONE, NULL);
	note_fit(&cfg);
	pgov_snapshot_remove();
	remember_published(NULL, 0);
	pfree(bytes);
	ereport(LOG,
			(errmsg("pool_governor: the extension is not installed in database \"%s\"; its configuration is no longer enforced (generation " UINT64_FORMAT ")",
					pgov_database, generation),
			 errhint("Run CREATE EXTENSION pool_governor in database \"%s\" to configure limits again.",
					 pgov_database)));
}

static void
pgov_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			if (wake_at_commit)
				pgov_wake_worker();
			wake_at_commit = false;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			wake_at_commit = false;
			break;
		default:
			break;
	}
}

/*
 * A rule placed by application_name alone can be claimed by any role, as
 * the client chooses that name: say so when it leads to reserved seats.
 */
static void
notice_unsafe_rules(const PgovConfig *cfg)
{
	int			i;

	for (i = 0; i < cfg->nrules; i++)
	{
		const PgovRule *r = &cfg->rules[i];
		const PgovTenantDef *t = &cfg->tenants[r->tenant];

		if (r->has_application && !r->has_role && !r->has_client_addr &&
			t->reserved_connections > 0)
		{
			ereport(NOTICE,
					(errmsg("rule %lld places logins in tenant \"%s\" by application_name alone",
							(long long) r->id, t->name),
					 errdetail("Any role that can log in can send application_name \"%s\" and take the %d seats reserved for \"%s\".",
							   r->application_name, t->reserved_connections, t->name),
					 errhint("Add role_name (a role or +group) to the rule.")));
			return;
		}
	}
}

/*
 * AFTER ... FOR EACH STATEMENT on both configuration tables: serializes
 * writers, refuses a statement that leaves the configuration invalid, and
 * asks the worker to load it when the transaction commits.
 */
Datum
pgov_config_trigger(PG_FUNCTION_ARGS)
{
	MemoryContext mcxt = CurrentMemoryContext;
	PgovConfig	cfg;
	PgovProblem problem;
	bool		ok;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("pool_governor.config_trigger() must be called as a trigger")));

	/* one writer at a time, to commit: the next sees this one's rows */
	LockDatabaseObject(ExtensionRelationId,
					   get_extension_oid("pool_governor", false), 0,
					   ExclusiveLock);

	SPI_connect();
	ok = read_committed(&cfg, mcxt, &problem);
	SPI_finish();
	if (ok)
		ok = validate(&cfg, pgov_capacity(), &problem);
	if (!ok)
		pgov_report_problem(ERROR, &problem);
	notice_unsafe_rules(&cfg);

	if (!xact_callback_registered)
	{
		RegisterXactCallback(pgov_xact_callback, NULL);
		xact_callback_registered = true;
	}
	wake_at_commit = true;
	return PointerGetDatum(NULL);
}

/* Has this transaction written (or locked for writing) a configuration
 * table?  Triggers may have been disabled, so ask the lock manager. */
static bool
changed_in_this_transaction(void)
{
	const char *tables[] = {"tenants", "rules", "node_limits"};
	int			i;

	for (i = 0; i < lengthof(tables); i++)
	{
		Oid			relid = get_relname_relid(tables[i],
											  get_namespace_oid("pool_governor", false));

		if (OidIsValid(relid))
		{
			Relation	rel = RelationIdGetRelation(relid);
			bool		locked = CheckRelationLockedByMe(rel, RowExclusiveLock, true);

			RelationClose(rel);
			if (locked)
				return true;
		}
	}
	return false;
}

/*
 * pool_governor.reload(): has the worker load the committed configuration
 * now, and returns the generation in force.
 */
Datum
pgov_reload(PG_FUNCTION_ARGS)
{
	uint64		ticket;
	uint64		generation;
	bool		ok;
	char		problem[PGOV_PROBLEM_LEN];

	if (!pgov_attached())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pool_governor is not loaded"),
				 errhint("Add pool_governor to shared_preload_libraries and restart the server.")));
	if (wake_at_commit || changed_in_this_transaction())
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("cannot reload the configuration in a transaction that changed it"),
				 errdetail("Only committed configuration is enforced."),
				 errhint("Commit first: a committed change is applied without reload().")));

	ticket = pgov_request_load();
	if (!pgov_wait_load(ticket, PGOV_RELOAD_TIMEOUT_MS, &ok, problem))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("could not reload the configuration: the pool_governor worker did not answer within %d s",
						PGOV_RELOAD_TIMEOUT_MS / 1000),
				 errhint("pool_governor.health shows the worker's pid; the server log says why it is not running.")));
	/* the worker publishes before it ends the load */
	generation = pgov_generation();
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pool_governor refused the committed configuration"),
				 errdetail_internal("%s", problem),
				 errhint("Generation " UINT64_FORMAT " stays in force.", generation)));
	PG_RETURN_INT64((int64) generation);
}
