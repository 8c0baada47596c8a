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

#include "catalog/pg_authid.h"
#include "postmaster/postmaster.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/backend_status.h"
#include "utils/wait_event.h"

#if PG_VERSION_NUM < 150000
#error "pool_governor needs PostgreSQL 15 or later"
#endif

/* get_database_name() moved from commands/dbcommands.h to lsyscache.h in 19 */
#if PG_VERSION_NUM >= 190000
#include "utils/lsyscache.h"
#else
#include "commands/dbcommands.h"
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

/*
 * Is this backend still starting (authenticating, perhaps in our hook)?
 * From 18 on, such backends are listed in pg_stat_activity; before, they
 * appear only once started.  The worker never adopts one.
 */
#if PG_VERSION_NUM >= 180000
#define PGOV_BACKEND_STARTING(be) ((be)->st_state == STATE_STARTING)
#else
#define PGOV_BACKEND_STARTING(be) false
#endif

/* A PGPROC's index: pgprocno until 16, ProcNumber from 17. */
#if PG_VERSION_NUM >= 170000
#define PGOV_PROCNO(proc) GetNumberFromPGProc(proc)
#define PGOV_MY_PROCNO() (MyProcNumber)
#else
#define PGOV_PROCNO(proc) ((proc)->pgprocno)
#define PGOV_MY_PROCNO() (MyProc->pgprocno)
#endif

/*
 * Roles that PostgreSQL itself lets into its reserved slots are exempt like
 * superusers: superusers everywhere, and from 16 on the members of
 * pg_use_reserved_connections.  Reads the catalog: call it outside our
 * locks.
 */
static inline bool
pgov_role_is_exempt(Oid roleid)
{
	if (!OidIsValid(roleid))
		return false;
	if (superuser_arg(roleid))
		return true;
#if PG_VERSION_NUM >= 160000
	return has_privs_of_role(roleid, ROLE_PG_USE_RESERVED_CONNECTIONS);
#else
	return false;
#endif
}

/*
 * What a login waiting for a seat shows in pg_stat_activity: from 17 on a
 * wait event of its own, PoolGovernorSeat; before, the generic Extension.
 */
#if PG_VERSION_NUM >= 170000
static inline uint32
pgov_seat_wait_event(void)
{
	static uint32 event = 0;

	if (event == 0)
		event = WaitEventExtensionNew("PoolGovernorSeat");
	return event;
}
#else
#define pgov_seat_wait_event() PG_WAIT_EXTENSION
#endif

/* The module's magic block: from 18 on it names the module and version. */
#if PG_VERSION_NUM >= 180000
#define PGOV_MODULE_MAGIC PG_MODULE_MAGIC_EXT(.name = "pool_governor", .version = PGOV_VERSION)
#else
#define PGOV_MODULE_MAGIC PG_MODULE_MAGIC
#endif

#endif							/* PGOV_COMPAT_H */
