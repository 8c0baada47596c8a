/*-------------------------------------------------------------------------
 *
 * configuration.c
 *		What a configuration needs of the server it is enforced on: the
 *		governed capacity, the tenant entries it takes, and how it is fitted
 *		to a server that changed under it.  Runs no SQL and touches no
 *		shared memory: the loader, the snapshot reader at postmaster start
 *		and the write trigger all ask the same questions here.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog.h"
#include "miscadmin.h"
#include "postmaster/postmaster.h"

#include "compat.h"
#include "configuration.h"
#include "publish.h"
#include "seats.h"
#include "settings.h"

/* Governed seats as configured: the setting, or every max_connections slot
 * PostgreSQL does not keep for its own reserves. */
int
pgov_capacity(void)
{
	if (pgov_capacity_setting >= 0)
		return Min(pgov_capacity_setting, pgov_slot_limit());
	return pgov_slot_limit();
}

/* max_connections slots a non-superuser can have. */
int
pgov_slot_limit(void)
{
	return Max(MaxConnections - PGOV_RESERVED_SLOTS, 0);
}

/* Tenant entries cfg needs in shared memory: the one count that the write
 * trigger and the loader both check against max_tenants. */
int
pgov_tenant_entries_for(const PgovConfig *cfg)
{
	return pgov_tenant_entries_needed(cfg->tenants, cfg->ntenants,
									  cfg->default_tenant);
}

/* This node's role now: a standby until its recovery ends. */
int
pgov_node_role(void)
{
	return RecoveryInProgress() ? PGOV_ROLE_STANDBY : PGOV_ROLE_PRIMARY;
}

/*
 * cfg's tenants as this node enforces them in role: node_limits applied
 * (pgov_resolve_node) with pool_governor.node_name, reserves as written.
 * out has cfg->ntenants entries.
 */
void
pgov_resolve_config(const PgovConfig *cfg, int role, PgovTenantDef *out)
{
	PgovNodeNumbers *numbers = palloc(sizeof(PgovNodeNumbers) * Max(cfg->ntenants, 1));

	memcpy(out, cfg->tenants, sizeof(PgovTenantDef) * cfg->ntenants);
	pgov_resolve_node(cfg->tenants, cfg->ntenants, cfg->limits, cfg->nlimits,
					  pgov_node_name, role, numbers);
	pgov_apply_numbers(out, cfg->ntenants, numbers);
	pfree(numbers);
}

/*
 * Makes a configuration that was valid when written fit this node as it is
 * now, for each role it can have: the node's numbers (pgov_resolve_node,
 * with pool_governor.node_name), then reserves that do not fit the governed
 * capacity (after a restart with a smaller max_connections, a lowered
 * pool_governor.capacity, or a standby's own node_limits) are scaled down
 * (pgov_scale_reserves) while caps stay: cfg->numbers, with cfg->level and
 * cfg->problem saying what is wrong in each role.  cfg->tenants is left as
 * the tables say.
 */
void
pgov_fit_config(PgovConfig *cfg)
{
	int			capacity = pgov_capacity();
	PgovTenantDef *fitted = palloc(sizeof(PgovTenantDef) * Max(cfg->ntenants, 1));
	int			role;

	cfg->capacity = capacity;
	strlcpy(cfg->node_name, pgov_node_name, NAMEDATALEN);
	for (role = 0; role < PGOV_NROLES; role++)
	{
		cfg->level[role] = PGOV_PROBLEM_NONE;
		cfg->problem[role][0] = '\0';
	}
	if (pgov_tenant_entries_for(cfg) > pgov_max_tenants || cfg->nrules > pgov_max_rules)
	{
		for (role = 0; role < PGOV_NROLES; role++)
		{
			snprintf(cfg->problem[role], PGOV_PROBLEM_LEN,
					 "the configuration has %d tenants and %d rules, more than pool_governor.max_tenants (%d) or max_rules (%d) allow; no limits are enforced",
					 cfg->ntenants, cfg->nrules, pgov_max_tenants, pgov_max_rules);
			cfg->level[role] = PGOV_PROBLEM_CRITICAL;
		}
		cfg->ntenants = 0;
		cfg->nrules = 0;
		cfg->nlimits = 0;
	}
	for (role = 0; role < PGOV_NROLES; role++)
	{
		PgovNodeNumbers *n;
		char	   *why = cfg->problem[role];
		int			sum;
		int			i;

		if (cfg->numbers[role] == NULL)
			cfg->numbers[role] = palloc(sizeof(PgovNodeNumbers) * Max(cfg->ntenants, 1));
		n = cfg->numbers[role];
		pgov_resolve_node(cfg->tenants, cfg->ntenants, cfg->limits, cfg->nlimits,
						  cfg->node_name, role, n);
		if (cfg->level[role] != PGOV_PROBLEM_NONE)
			continue;
		memcpy(fitted, cfg->tenants, sizeof(PgovTenantDef) * cfg->ntenants);
		pgov_apply_numbers(fitted, cfg->ntenants, n);
		why[0] = '\0';
		sum = pgov_scale_reserves(fitted, cfg->ntenants, capacity);
		for (i = 0; i < cfg->ntenants; i++)
			n[i].reserved_connections = fitted[i].reserved_connections;
		if (sum > capacity)
		{
			snprintf(why, PGOV_PROBLEM_LEN,
					 "the tenants reserve %d seats but the governed capacity is %d: caps are enforced and every reserve is scaled by %d/%d; lower reserved_connections or raise max_connections",
					 sum, capacity, capacity, sum);
			cfg->level[role] = PGOV_PROBLEM_CRITICAL;
		}
	}
	pfree(fitted);
}

/* Frees what cfg points to (not cfg). */
void
pgov_free_config(PgovConfig *cfg)
{
	int			role;

	if (cfg->tenants)
		pfree(cfg->tenants);
	if (cfg->rules)
		pfree(cfg->rules);
	if (cfg->limits)
		pfree(cfg->limits);
	for (role = 0; role < PGOV_NROLES; role++)
		if (cfg->numbers[role])
			pfree(cfg->numbers[role]);
	memset(cfg, 0, sizeof(*cfg));
}
