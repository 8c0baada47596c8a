/*-------------------------------------------------------------------------
 *
 * compat.h
 *		Every difference between the PostgreSQL versions pool_governor
 *		builds against, in one place.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGOV_COMPAT_H
#define PGOV_COMPAT_H

#include "postgres.h"

#include "postmaster/postmaster.h"
#include "storage/proc.h"
#include "utils/backend_status.h"

#if PG_VERSION_NUM < 150000
#error "pool_governor needs PostgreSQL 15 or later"
#endif

/*
 * The max_connections slots PostgreSQL keeps from ordinary roles:
 * superuser_reserved_connections, and from 16 on reserved_connections too.
 */
#if PG_VERSION_NUM >= 160000
#define PGOV_RESERVED_SLOTS (SuperuserReservedConnections + ReservedConnections)
static inline bool
pgov_have_free_procs(int n)
{
	int			nfree;

	return HaveNFreeProcs(n, &nfree);
}
#define PGOV_HAVE_FREE_PROCS(n) pgov_have_free_procs(n)
#define PGOV_LOCAL_BEENTRY(i) pgstat_get_local_beentry_by_index(i)
#else
#define PGOV_RESERVED_SLOTS ReservedBackends
#define PGOV_HAVE_FREE_PROCS(n) HaveNFreeProcs(n)
#define PGOV_LOCAL_BEENTRY(i) pgstat_fetch_stat_local_beentry(i)
#endif

/* A PGPROC's index: pgprocno until 16, ProcNumber from 17. */
#if PG_VERSION_NUM >= 170000
#define PGOV_PROCNO(proc) GetNumberFromPGProc(proc)
#define PGOV_MY_PROCNO() (MyProcNumber)
#else
#define PGOV_PROCNO(proc) ((proc)->pgprocno)
#define PGOV_MY_PROCNO() (MyProc->pgprocno)
#endif

#endif							/* PGOV_COMPAT_H */
