/*-------------------------------------------------------------------------
 *
 * clusterseats.h
 *		The cluster quota on the seat board (clusterseats.c): pure, called
 *		holding the board's lock.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGOV_CLUSTERSEATS_H
#define PGOV_CLUSTERSEATS_H

#include <stdbool.h>
#include <stdint.h>

#include "seats.h"

extern bool pgov_seat_cluster_on(PgovBoard *b, bool on, int64_t now);
extern bool pgov_seat_cluster_grant(PgovBoard *b, int tenant, int granted,
									int64_t until, int held, int64_t now);
extern bool pgov_seat_cluster_lapse(PgovBoard *b, PgovTenant *t, int64_t now);

/* The worker's grant for an entry it copied (pgov_seat_grant_change). */
typedef struct PgovGrantChange
{
	int			entry;
	uint32_t	incarnation;
	int			granted;
	int64_t		until;
	int			held;
	bool		same;			/* out: the entry was still that tenant */
} PgovGrantChange;

/* pgov_board_change's forms of the two changes */
extern bool pgov_seat_cluster_on_change(PgovBoard *b, int64_t now, void *arg);
extern bool pgov_seat_grant_change(PgovBoard *b, int64_t now, void *arg);

#endif							/* PGOV_CLUSTERSEATS_H */
