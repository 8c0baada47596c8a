/*-------------------------------------------------------------------------
 *
 * configuration.h
 *		A configuration as the governor holds it outside shared memory: read
 *		from the tables (tables.c) or the snapshot file (snapshot.c), fitted
 *		to the server as it is now, then published (board.c).  No SQL here.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGOV_CONFIGURATION_H
#define PGOV_CONFIGURATION_H

#include "postgres.h"

#include "policy.h"

/* Why health is not ok, beyond what the tenants' counters say. */
typedef enum PgovProblemLevel
{
	PGOV_PROBLEM_NONE = 0,
	PGOV_PROBLEM_WARNING,		/* the tables were refused; last good in force */
	PGOV_PROBLEM_CRITICAL		/* what is enforced is not what was written */
} PgovProblemLevel;

#define PGOV_PROBLEM_LEN 256

typedef struct PgovConfig
{
	int			ntenants;
	PgovTenantDef *tenants;		/* sorted by name */
	int			nrules;
	PgovRule   *rules;			/* sorted; tenant = index in tenants */
	char		default_tenant[NAMEDATALEN];
	int			capacity;		/* what it was validated against */
	int			nlimits;
	PgovNodeLimit *limits;		/* node_limits; tenant = index in tenants */

	/* pgov_fit_config: this node's numbers for each tenant in each role,
	 * reserves fitted, and what is wrong with them */
	char		node_name[NAMEDATALEN]; /* resolved for */
	PgovNodeNumbers *numbers[PGOV_NROLES];	/* [ntenants] each */
	PgovProblemLevel level[PGOV_NROLES];
	char		problem[PGOV_NROLES][PGOV_PROBLEM_LEN];
} PgovConfig;

extern int	pgov_capacity(void);
extern int	pgov_slot_limit(void);
extern int	pgov_node_role(void);
extern int	pgov_tenant_entries_for(const PgovConfig *cfg);
extern void pgov_resolve_config(const PgovConfig *cfg, int role,
								PgovTenantDef *out);
extern void pgov_fit_config(PgovConfig *cfg);
extern void pgov_free_config(PgovConfig *cfg);

#endif							/* PGOV_CONFIGURATION_H */
