/*-------------------------------------------------------------------------
 *
 * config.c
 *		The configuration tables: reading, validating and publishing them,
 *		refusing bad writes, and waking the worker when a change commits.
 *
 * One reader and one validator serve three callers: the write-time trigger
 * (refuses a bad statement with ERROR), pool_governor.reload() (applies the
 * committed configuration now) and the worker (applies it after a commit and
 * periodically, keeping the last good one with a WARNING when it is bad).
 * So the rules a write is checked against are exactly the ones a load
 * enforces.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/trigger.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "pool_governor.h"

PG_FUNCTION_INFO_V1(pgov_config_trigger);
PG_FUNCTION_INFO_V1(pgov_reload);

/* Key of the advisory lock that serializes loads (any two loads, anywhere). */
#define PGOV_LOAD_LOCK_KEY	INT64CONST(0x706f6f6c676f76)	/* "poolgov" */

/* A problem put into words, once, for ereport and for the event log alike. */
typedef struct PgovProblemText
{
	int			sqlstate;
	char		msg[256];
	char		detail[256];
	char		hint[256];
} PgovProblemText;

static bool wake_at_commit = false;
static bool xact_callback_registered = false;

static void
problem_text(const PgovProblem *p, PgovProblemText *out)
{
	long long	value = (long long) p->value;
	long long	limit = (long long) p->limit;
	long long	rule = (long long) p->rule_id;

	memset(out, 0, sizeof(*out));
	out->sqlstate = ERRCODE_INVALID_PARAMETER_VALUE;
	switch (p->code)
	{
		case PGOV_OK:
			break;
		case PGOV_BAD_TENANT_NAME:
			snprintf(out->msg, sizeof(out->msg), "invalid tenant name \"%s\"", p->text);
			snprintf(out->detail, sizeof(out->detail),
					 "A tenant name must be 1 to %d bytes long.", NAMEDATALEN - 1);
			break;
		case PGOV_NEGATIVE_VALUE:
			snprintf(out->msg, sizeof(out->msg),
					 "%s of tenant \"%s\" must not be negative", p->field, p->tenant);
			if (strcmp(p->field, "wait_timeout") == 0)
				snprintf(out->detail, sizeof(out->detail),
						 "The value given is %lld ms.", value);
			else
				snprintf(out->detail, sizeof(out->detail),
						 "The value given is %lld.", value);
			break;
		case PGOV_RESERVED_ABOVE_CAP:
			snprintf(out->msg, sizeof(out->msg),
					 "reserved_connections of tenant \"%s\" exceeds its max_connections",
					 p->tenant);
			snprintf(out->detail, sizeof(out->detail),
					 "reserved_connections is %lld but max_connections is %lld.",
					 value, limit);
			snprintf(out->hint, sizeof(out->hint),
					 "Lower reserved_connections or raise max_connections.");
			break;
		case PGOV_RESERVED_ABOVE_CAPACITY:
			snprintf(out->msg, sizeof(out->msg),
					 "reserved connections of all tenants exceed the governed capacity");
			snprintf(out->detail, sizeof(out->detail),
					 "The tenants reserve %lld seats in all, but the capacity is %lld.",
					 value, limit);
			snprintf(out->hint, sizeof(out->hint),
					 "Lower some tenant's reserved_connections, or raise pool_governor.capacity or max_connections.");
			break;
		case PGOV_TOO_MANY_TENANTS:
			out->sqlstate = ERRCODE_CONFIGURATION_LIMIT_EXCEEDED;
			snprintf(out->msg, sizeof(out->msg), "too many tenants");
			snprintf(out->detail, sizeof(out->detail),
					 "%lld tenants would be in use (counting removed ones still draining), but pool_governor.max_tenants is %lld.",
					 value, limit);
			snprintf(out->hint, sizeof(out->hint),
					 "Raise pool_governor.max_tenants; changing it requires a server restart.");
			break;
		case PGOV_TOO_MANY_RULES:
			out->sqlstate = ERRCODE_CONFIGURATION_LIMIT_EXCEEDED;
			snprintf(out->msg, sizeof(out->msg), "too many rules");
			snprintf(out->detail, sizeof(out->detail),
					 "%lld rules are configured, but pool_governor.max_rules is %lld.",
					 value, limit);
			snprintf(out->hint, sizeof(out->hint),
					 "Raise pool_governor.max_rules; changing it requires a server restart.");
			break;
		case PGOV_UNKNOWN_TENANT:
			out->sqlstate = ERRCODE_FOREIGN_KEY_VIOLATION;
			snprintf(out->msg, sizeof(out->msg),
					 "tenant \"%s\" does not exist", p->tenant);
			snprintf(out->detail, sizeof(out->detail),
					 "Rule %lld places logins in it.", rule);
			snprintf(out->hint, sizeof(out->hint),
					 "Add the tenant to pool_governor.tenants first.");
			break;
		case PGOV_BAD_ROLE:
			snprintf(out->msg, sizeof(out->msg),
					 "invalid role_name \"%s\" in rule %lld", p->text, rule);
			snprintf(out->detail, sizeof(out->detail),
					 "role_name is a role name or \"+\" and a group name, 1 to %d bytes long; NULL matches any role.",
					 NAMEDATALEN - 1);
			break;
		case PGOV_BAD_DATABASE:
			snprintf(out->msg, sizeof(out->msg),
					 "invalid database_name \"%s\" in rule %lld", p->text, rule);
			snprintf(out->detail, sizeof(out->detail),
					 "database_name is 1 to %d bytes long; NULL matches any database.",
					 NAMEDATALEN - 1);
			break;
		case PGOV_BAD_GLOB:
			snprintf(out->msg, sizeof(out->msg),
					 "invalid application_name pattern \"%s\" in rule %lld", p->text, rule);
			snprintf(out->detail, sizeof(out->detail),
					 "A pattern is at most %d bytes; \"*\" matches any run of characters, \"?\" any one, and \"\\\" makes the next character literal, so it cannot end a pattern.",
					 NAMEDATALEN - 1);
			break;
		case PGOV_BAD_CIDR:
			snprintf(out->msg, sizeof(out->msg),
					 "invalid client_addr \"%s\" in rule %lld", p->text, rule);
			break;
	}
}

void
pgov_report_problem(int elevel, const PgovProblem *problem)
{
	PgovProblemText t;

	problem_text(problem, &t);
	ereport(elevel,
			(errcode(t.sqlstate),
			 errmsg_internal("%s", t.msg),
			 t.detail[0] ? errdetail_internal("%s", t.detail) : 0,
			 t.hint[0] ? errhint("%s", t.hint) : 0));
}

void
pgov_format_problem(const PgovProblem *problem, char *buf, size_t len)
{
	PgovProblemText t;

	problem_text(problem, &t);
	snprintf(buf, len, "%s%s%s", t.msg, t.detail[0] ? ": " : "", t.detail);
}

static char *
get_text(HeapTuple tup, TupleDesc desc, int col)
{
	return SPI_getvalue(tup, desc, col);	/* NULL for SQL NULL */
}

static int64
get_int(HeapTuple tup, TupleDesc desc, int col, int64 if_null)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);

	return isnull ? if_null : DatumGetInt64(d);
}

/*
 * Reads the configuration tables into cfg (palloc'd in the current memory
 * context) and validates them.  Caller is connected to SPI.  Each query
 * takes a fresh snapshot (read_only = false), so a load that waited for the
 * load lock sees every commit before it.  Returns false
 * and fills *problem when the configuration is not valid.
 */
bool
pgov_read_config(PgovConfig *cfg, PgovProblem *problem)
{
	TupleDesc	desc;
	uint64		i;
	int			ret;

	memset(cfg, 0, sizeof(*cfg));
	cfg->capacity = pgov_capacity();

	ret = SPI_execute("SELECT name, max_connections::int8, "
					  "reserved_connections::int8, max_waiting::int8, "
					  "(extract(epoch FROM wait_timeout) * 1000)::int8 "
					  "FROM pool_governor.tenants ORDER BY name",
					  false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read pool_governor.tenants: SPI_execute returned %d", ret);
	desc = SPI_tuptable->tupdesc;
	cfg->ntenants = (int) SPI_processed;
	cfg->tenants = palloc0(sizeof(PgovTenantDef) * Max(cfg->ntenants, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		PgovTenantDef *t = &cfg->tenants[i];
		char	   *name = get_text(tup, desc, 1);

		if (strlen(name) >= NAMEDATALEN)
		{
			memset(problem, 0, sizeof(*problem));
			problem->code = PGOV_BAD_TENANT_NAME;
			strlcpy(problem->text, name, sizeof(problem->text));
			return false;
		}
		strlcpy(t->name, name, NAMEDATALEN);
		t->max_connections = (int) get_int(tup, desc, 2, PGOV_NO_CAP);
		if (t->max_connections < 0 && get_int(tup, desc, 2, 0) < 0)
		{
			/* a negative cap, not SQL NULL: say so with its value */
			memset(problem, 0, sizeof(*problem));
			problem->code = PGOV_NEGATIVE_VALUE;
			strlcpy(problem->tenant, t->name, sizeof(problem->tenant));
			problem->field = "max_connections";
			problem->value = t->max_connections;
			return false;
		}
		t->reserved_connections = (int) get_int(tup, desc, 3, 0);
		t->max_waiting = (int) get_int(tup, desc, 4, 0);
		t->wait_timeout_ms = get_int(tup, desc, 5, 0);
	}

	ret = SPI_execute("SELECT id, priority, tenant, role_name, database_name, "
					  "application_name, host(client_addr) || '/' || masklen(client_addr) "
					  "FROM pool_governor.rules ORDER BY priority, id",
					  false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read pool_governor.rules: SPI_execute returned %d", ret);
	desc = SPI_tuptable->tupdesc;
	cfg->nrules = (int) SPI_processed;
	cfg->rules = palloc0(sizeof(PgovRule) * Max(cfg->nrules, 1));
	cfg->rule_tenants = palloc0(sizeof(char *) * Max(cfg->nrules, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];

		cfg->rule_tenants[i] = get_text(tup, desc, 3);
		if (!pgov_rule_build(&cfg->rules[i], get_int(tup, desc, 1, 0),
							 (int) get_int(tup, desc, 2, 0),
							 get_text(tup, desc, 4), get_text(tup, desc, 5),
							 get_text(tup, desc, 6), get_text(tup, desc, 7),
							 problem))
			return false;
	}

	if (!pgov_validate_config(cfg->tenants, cfg->ntenants,
							  (const char *const *) cfg->rule_tenants,
							  cfg->rules, cfg->nrules, cfg->capacity,
							  pgov_max_tenants, pgov_max_rules, problem))
		return false;

	/*
	 * Already in (priority, id) order from the query.  Resolve each rule's
	 * tenant, and each +group to its role OID so that logins match by OID;
	 * a group created later is picked up by the worker's periodic re-read,
	 * since the resolved OID is part of what it compares.
	 */
	for (i = 0; i < (uint64) cfg->nrules; i++)
	{
		PgovRule   *r = &cfg->rules[i];

		r->tenant = pgov_find_tenant(cfg->tenants, cfg->ntenants,
									 cfg->rule_tenants[i]);
		if (r->has_role && r->role_is_group)
			r->group_oid = get_role_oid(r->role_name, true);
	}

	cfg->hash = hash_bytes((const unsigned char *) cfg->tenants,
						   sizeof(PgovTenantDef) * cfg->ntenants);
	cfg->hash = hash_combine(cfg->hash,
							 hash_bytes((const unsigned char *) cfg->rules,
										sizeof(PgovRule) * cfg->nrules));
	cfg->hash = hash_combine(cfg->hash,
							 hash_bytes((const unsigned char *) pgov_default_tenant,
										strlen(pgov_default_tenant)));
	cfg->hash = hash_combine(cfg->hash, (uint32) cfg->capacity);
	return true;
}

/*
 * Logins admitted before any configuration was loaded are placed in their
 * tenants now.  Classification may read the catalogs (group membership), so
 * it happens outside our locks, slot by slot.
 */
static void
classify_early_logins(void)
{
	int			i;

	for (i = 0; i < pgov_nslots; i++)
	{
		PgovSlot   *s = &pgov_slots[i];
		PgovWho		who;
		int			pid;
		int			tenant;
		int64		rule_id;
		uint64		gen;

		LWLockAcquire(pgov->lock, LW_SHARED);
		if (pgov->unclassified == 0)
		{
			LWLockRelease(pgov->lock);
			return;
		}
		pid = s->pid;
		who = s->who;
		if (pid == 0 || s->state != PGOV_SLOT_GOVERNED ||
			s->tenant != PGOV_TENANT_UNCLASSIFIED)
		{
			LWLockRelease(pgov->lock);
			continue;
		}
		LWLockRelease(pgov->lock);

		LWLockAcquire(pgov->config_lock, LW_SHARED);
		gen = pgov->generation;
		tenant = pgov_classify_who(&who, &rule_id);
		LWLockRelease(pgov->config_lock);
		if (tenant < 0)
			continue;

		LWLockAcquire(pgov->lock, LW_EXCLUSIVE);
		if (s->pid == pid && s->state == PGOV_SLOT_GOVERNED &&
			s->tenant == PGOV_TENANT_UNCLASSIFIED && pgov->generation == gen)
		{
			s->tenant = tenant;
			s->rule_id = rule_id;
			pgov->unclassified--;
			pgov_tenant_count(&pgov_tenants[tenant], 1, GetCurrentTimestamp());
			pgov_tenants[tenant].admitted++;
		}
		LWLockRelease(pgov->lock);
	}
}

/*
 * Reads, validates and publishes the committed configuration.  Caller is in
 * a transaction in pool_governor.database.  A bad configuration is reported
 * at elevel (ERROR for reload(), WARNING for the worker) and the published
 * one stays.  With only_if_changed, an unchanged configuration is not
 * published again.  Returns the generation in force afterwards.
 */
uint64
pgov_load_config(int elevel, bool only_if_changed)
{
	PgovConfig	cfg;
	PgovProblem problem;
	uint64		generation;
	uint64		current;
	uint32		current_hash;
	char		text[PGOV_DETAIL_LEN];

	SPI_connect();
	/* loads one at a time, each seeing every commit before it */
	DirectFunctionCall1(pg_advisory_xact_lock_int8, Int64GetDatum(PGOV_LOAD_LOCK_KEY));

	LWLockAcquire(pgov->config_lock, LW_SHARED);
	current = pgov->generation;
	current_hash = pgov->config_hash;
	LWLockRelease(pgov->config_lock);

	if (!pgov_read_config(&cfg, &problem))
	{
		SPI_finish();
		pgov_format_problem(&problem, text, sizeof(text));
		pgov_event_add(PGOV_EV_CONFIG_REFUSED, problem.tenant[0] ? problem.tenant : NULL,
					   NULL, "%s", text);
		if (elevel < ERROR)
			ereport(elevel,
					(errmsg("pool_governor refused its configuration; generation " UINT64_FORMAT " stays in force",
							current)));
		pgov_report_problem(elevel, &problem);
		return current;
	}

	if (only_if_changed && current != 0 && cfg.hash == current_hash)
	{
		SPI_finish();
		return current;
	}

	generation = pgov_publish(&cfg, pgov_default_tenant);
	SPI_finish();
	if (generation == 0)
	{
		int			in_use = 0;
		int			i;

		LWLockAcquire(pgov->lock, LW_SHARED);
		for (i = 0; i < pgov->ntenants; i++)
			if (pgov_tenants[i].in_use && !pgov_tenants[i].configured)
				in_use++;
		LWLockRelease(pgov->lock);
		memset(&problem, 0, sizeof(problem));
		problem.code = PGOV_TOO_MANY_TENANTS;
		problem.value = cfg.ntenants + in_use;
		problem.limit = pgov_max_tenants;
		pgov_format_problem(&problem, text, sizeof(text));
		pgov_event_add(PGOV_EV_CONFIG_REFUSED, NULL, NULL, "%s", text);
		pgov_report_problem(elevel, &problem);
		return current;
	}

	classify_early_logins();
	pgov_event_add(PGOV_EV_CONFIG_LOADED, NULL, NULL,
				   "generation " UINT64_FORMAT ": %d tenants, %d rules, capacity %d",
				   generation, cfg.ntenants, cfg.nrules, cfg.capacity);
	return generation;
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
 * AFTER ... FOR EACH STATEMENT on both configuration tables: refuses a
 * statement that leaves the configuration invalid, and asks for the worker
 * to load it when the transaction commits.
 */
Datum
pgov_config_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	PgovConfig	cfg;
	PgovProblem problem;
	bool		ok;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("pool_governor.config_trigger() must be called as a trigger")));

	SPI_connect();
	ok = pgov_read_config(&cfg, &problem);
	SPI_finish();
	if (!ok)
		pgov_report_problem(ERROR, &problem);

	if (!xact_callback_registered)
	{
		RegisterXactCallback(pgov_xact_callback, NULL);
		xact_callback_registered = true;
	}
	wake_at_commit = true;

	(void) trigdata;
	return PointerGetDatum(NULL);
}

/* pool_governor.reload(): apply the committed configuration now. */
Datum
pgov_reload(PG_FUNCTION_ARGS)
{
	if (pgov == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pool_governor is not loaded"),
				 errhint("Add pool_governor to shared_preload_libraries and restart the server.")));
	PG_RETURN_INT64((int64) pgov_load_config(ERROR, false));
}
