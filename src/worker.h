/*-------------------------------------------------------------------------
 *
 * worker.h
 *		The governor's background worker (worker.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGOV_WORKER_H
#define PGOV_WORKER_H

#include "postgres.h"

#include "fmgr.h"

extern void pgov_register_worker(void);
PGDLLEXPORT void pgov_worker_main(Datum arg);

#endif							/* PGOV_WORKER_H */
