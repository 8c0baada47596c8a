/*-------------------------------------------------------------------------
 *
 * sync.h
 *		The worker's sync of the seat board with the live sessions
 *		(sync.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGOV_SYNC_H
#define PGOV_SYNC_H

#include "postgres.h"

extern void pgov_sync_sessions(bool adopt);
extern int	pgov_sync_exemption(void);
extern void pgov_reconcile(void);

#endif							/* PGOV_SYNC_H */
