/*-------------------------------------------------------------------------
 *
 * identity.h
 *		Who a connection is: a login (from its Port) or a live backend (from
 *		its status entry), the roles it belongs to, whether it is exempt, and
 *		the one loop that classifies it when a +group rule needs its groups.
 *
 * Below every owner of shared memory: nothing here takes a lock of
 * pool_governor's or touches its shared state.  Its functions may read
 * catalogs (pg_authid, pg_auth_members, pg_database), so they are called
 * before a lock is taken, never under one.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGOV_IDENTITY_H
#define PGOV_IDENTITY_H

#include "postgres.h"

#include <sys/socket.h>

#include "libpq/libpq-be.h"
#include "utils/backend_status.h"

#include "seats.h"

/*
 * A login role's memberships (itself included), computed outside our locks
 * when a +group rule needs them: classification under a lock never reads a
 * catalog.
 */
typedef struct PgovGroups
{
	bool		computed;
	int			n;
	Oid		   *oids;			/* sorted */
} PgovGroups;

/*
 * Classifies who by some rules: returns false, deciding nothing, when a
 * +group rule needs groups (not computed yet).
 */
typedef bool (*PgovClassifyFn) (const PgovWho *who, const PgovGroups *groups,
								void *arg);

extern void pgov_who_from_port(Port *port, PgovWho *who);
extern void pgov_who_from_backend(PgBackendStatus *be, PgovWho *who);
extern bool pgov_who_is_exempt(const PgovWho *who, bool walsender);
extern void pgov_groups_free(PgovGroups *groups);
extern void pgov_login_of(const PgovWho *who, const PgovGroups *groups,
						  PgovLogin *login);
extern void pgov_classify_with_groups(const PgovWho *who, PgovGroups *groups,
									  PgovClassifyFn fn, void *arg);

#endif							/* PGOV_IDENTITY_H */
