/*-------------------------------------------------------------------------
 *
 * drain.h
 *		The worker's drain pass: idle sessions above a cap (drain.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGOV_DRAIN_H
#define PGOV_DRAIN_H

#include "postgres.h"

extern void pgov_drain_idle(void);

#endif							/* PGOV_DRAIN_H */
