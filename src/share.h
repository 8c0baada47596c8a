/*-------------------------------------------------------------------------
 *
 * share.h
 *		The fair hand-off of the shared seats and the wake-up set
 *		(share.c), over the seat board of seats.h.  Pure: no PostgreSQL
 *		header.  Every function is given a board whose lock the caller
 *		holds (board.c; seats.c's decision).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGOV_SHARE_H
#define PGOV_SHARE_H

#include "seats.h"

/* Did a woken waiter let its turn pass (woken, and not decided in time)? */
static inline bool
pgov_turn_passed(const PgovSlot *s, int64_t now)
{
	return s->woken && now - s->woken_at >= PGOV_TURN_US;
}

/* A tenant's weight in the fair share (tenants.weight, at least 1). */
static inline int
pgov_tenant_weight(const PgovTenant *t)
{
	return t->weight > 0 ? t->weight : 1;
}

extern void pgov_share_key(const PgovBoard *b, const PgovTenant *t,
						   int handed, int slotno, PgovShareKey *key);
extern int	pgov_seats_handed_before(const PgovBoard *b, int tenant,
									 const PgovShareKey *key, int limit,
									 int64_t now);
extern int	pgov_seat_wakeable(PgovBoard *b, int capacity, bool mark,
							   int64_t now, int *slots, int max);
extern int64_t pgov_seat_turn_ends(const PgovBoard *b, int64_t now);

#endif							/* PGOV_SHARE_H */
