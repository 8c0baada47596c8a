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

#include "miscadmin.h"
#include "postmaster/postmaster.h"

#include "compat.h"
#include "configuration.h"
#include "pool_governor.h"
#include "seats.h"

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

/*
 * Makes a configuration that was valid when written fit the server as it is
 * now (after a restart with a smaller max_connections, or a lowered
 * pool_governor.capacity): caps stay, and reserves that no longer fit are
 * scaled down (pgov_scale_reserves).  Returns the problem level, with why
 * filled when it is not NONE.
 */
PgovProblemLevel
pgov_fit_config(PgovConfig *cfg, char *why, size_t len)
{
	int			capacity = pgov_capacity();
	int			sum;

	cfg->capacity = capacity;
	if (pgov_tenant_entries_for(cfg) > pgov_max_tenants || cfg->nrules > pgov_max_rules)
	{
		snprintf(why, len,
				 "the configuration has %d tenants and %d rules, more than pool_governor.max_tenants (%d) or max_rules (%d) allow; no limits are enforced",
				 cfg->ntenants, cfg->nrules, pgov_max_tenants, pgov_max_rules);
		cfg->ntenants = 0;
		cfg->nrules = 0;
		return PGOV_PROBLEM_CRITICAL;
	}
	sum = pgov_scale_reserves(cfg->tenants, cfg->ntenants, capacity);
	if (sum > capacity)
	{
		snprintf(why, len,
				 "the tenants reserve %d seats but the governed capacity is %d: caps are enforced and every reserve is scaled by %d/%d; lower reserved_connections or raise max_connections",
				 sum, capacity, capacity, sum);
		return PGOV_PROBLEM_CRITICAL;
	}
	why[0] = '\0';
	return PGOV_PROBLEM_NONE;
}
