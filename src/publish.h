/*-------------------------------------------------------------------------
 *
 * publish.h
 *		A configuration into the seat board (publish.c).  Pure: no
 *		PostgreSQL header.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGOV_PUBLISH_H
#define PGOV_PUBLISH_H

#include "seats.h"

/*
 * Where a publication puts one live session: computed for the new rules
 * outside the lock, applied under it if the slot still holds the same
 * session (pid and entered_at).  def is an index into the published tenant
 * definitions, or -1 for the default tenant; pid 0 = no plan.
 */
typedef struct PgovPlan
{
	int			pid;
	int64_t		entered_at;
	int			def;
	int64_t		rule_id;
} PgovPlan;

extern int	pgov_tenant_entries_needed(const PgovTenantDef *defs, int ndefs,
									   const char *default_name);
extern bool pgov_seat_publish(PgovBoard *b, const PgovTenantDef *defs,
							  int ndefs,
							  PgovNodeNumbers *const *numbers, int role,
							  const char *default_name,
							  const PgovPlan *plan, uint64_t generation,
							  int64_t now, int *map);

#endif							/* PGOV_PUBLISH_H */
