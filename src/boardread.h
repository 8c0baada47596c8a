/*-------------------------------------------------------------------------
 *
 * boardread.h
 *		The copies of the seat board that the views and the sampler read,
 *		each one moment of it (board.c runs each under its lock, SHARED).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGOV_BOARDREAD_H
#define PGOV_BOARDREAD_H

#include "postgres.h"

#include "board.h"

/* A tenant's numbers as the sampler and the views copy them. */
typedef struct PgovTenantCounts
{
	bool		in_use;
	uint32		incarnation;
	char		name[NAMEDATALEN];
	int			connected;
	int			waiting;
	int64		admitted;
	int64		rejected;
} PgovTenantCounts;

/* A governed session's slot: whose, and in which tenant. */
typedef struct PgovSlotOwner
{
	int			pid;
	int			tenant;
} PgovSlotOwner;

/* The server-wide numbers behind pool_governor.health. */
typedef struct PgovBoardState
{
	int			sum_held;
	int			exempt_connected;
	int			capacity;		/* in force */
	int			reserved_unused;
	int			tenants;
	int64		rejected;
	uint64		generation;
	TimestampTz loaded_at;
	int			worker_pid;
	PgovProblemLevel level;
	char		problem[PGOV_PROBLEM_LEN];
	int			role;			/* whose numbers are in force; may be
								 * PGOV_ROLE_UNKNOWN */
	TimestampTz role_since;
	char		node_name[NAMEDATALEN]; /* the numbers were resolved for */
} PgovBoardState;

extern int	pgov_board_counts(PgovTenantCounts *tenants, PgovSlotOwner *owners,
							  int *nowners);
extern int	pgov_board_tenants(PgovTenant *out);
extern int	pgov_board_backends(PgovSlot *out, char (*names)[NAMEDATALEN]);
extern void pgov_board_state(PgovBoardState *st);
extern int	pgov_board_view(PgovTenant *tenants, PgovSeatTotals *totals,
							PgovBoardState *st, PgovSlotOwner *owners,
							int *nowners);
extern int	pgov_board_recent(char (*names)[NAMEDATALEN], PgovRecent *sums,
							  TimestampTz now);
extern int	pgov_board_cluster_tenants(PgovClusterTenant *out);

#endif							/* PGOV_BOARDREAD_H */
