/*-------------------------------------------------------------------------
 *
 * identity.c
 *		Who a connection is (identity.h): the governor's one view of a
 *		login's role, database, application_name and address, taken from
 *		its Port at login or from its backend status entry for a session
 *		that passed no hook; its groups; whether it is exempt.
 *
 * Classification looks only at a PgovWho, so a later SET application_name
 * changes nothing.  This file holds no state and takes no lock of
 * pool_governor's: it reads catalogs, and so runs before any lock is taken.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <netinet/in.h>

#include "access/htup_details.h"
#include "catalog/pg_auth_members.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/catcache.h"
#include "utils/syscache.h"

#include "compat.h"
#include "identity.h"
#include "settings.h"

static int
oid_cmp(const void *a, const void *b)
{
	Oid			x = *(const Oid *) a;
	Oid			y = *(const Oid *) b;

	return (x > y) - (x < y);
}

/*
 * Every role roleid is a member of, directly or not, itself included: what
 * +group rules match against (pg_hba.conf's +group, and PostgreSQL's
 * is_member_of_role_nosuper).  Reads pg_auth_members.
 */
static void
role_groups(Oid roleid, PgovGroups *groups)
{
	List	   *roles = list_make1_oid(roleid);
	ListCell   *lc;
	int			i = 0;

	foreach(lc, roles)
	{
		CatCList   *members = SearchSysCacheList1(AUTHMEMMEMROLE,
												  ObjectIdGetDatum(lfirst_oid(lc)));
		int			m;

		for (m = 0; m < members->n_members; m++)
		{
			Form_pg_auth_members form = (Form_pg_auth_members)
				GETSTRUCT(&members->members[m]->tuple);

			roles = list_append_unique_oid(roles, form->roleid);
		}
		ReleaseSysCacheList(members);
	}
	groups->n = list_length(roles);
	groups->oids = palloc(sizeof(Oid) * groups->n);
	foreach(lc, roles)
		groups->oids[i++] = lfirst_oid(lc);
	qsort(groups->oids, groups->n, sizeof(Oid), oid_cmp);
	groups->computed = true;
	list_free(roles);
}

void
pgov_groups_free(PgovGroups *groups)
{
	if (groups->oids)
		pfree(groups->oids);
	memset(groups, 0, sizeof(*groups));
}

/* A client address as a PgovCidr (none for a Unix socket). */
static void
who_set_addr(PgovWho *who, const struct sockaddr_storage *ss)
{
	who->has_addr = false;
	if (ss->ss_family == AF_INET)
	{
		const struct sockaddr_in *sin = (const struct sockaddr_in *) ss;

		who->has_addr = true;
		who->addr.family = 4;
		who->addr.bits = 32;
		memcpy(who->addr.addr, &sin->sin_addr, 4);
	}
	else if (ss->ss_family == AF_INET6)
	{
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) ss;

		who->has_addr = true;
		who->addr.family = 6;
		who->addr.bits = 128;
		memcpy(who->addr.addr, &sin6->sin6_addr, 16);
	}
}

/* A login, from its startup packet and address (the hook). */
void
pgov_who_from_port(Port *port, PgovWho *who)
{
	memset(who, 0, sizeof(*who));
	who->roleid = get_role_oid(port->user_name, true);
	strlcpy(who->role_name, port->user_name ? port->user_name : "", NAMEDATALEN);
	strlcpy(who->database_name, port->database_name ? port->database_name : "",
			NAMEDATALEN);
	strlcpy(who->application_name,
			port->application_name ? port->application_name : "", NAMEDATALEN);
	who_set_addr(who, &port->raddr.addr);
}

/*
 * A session that passed no hook (it logged in while the governor was off),
 * from its backend status: its role, database, address and its *current*
 * application_name (the startup packet's is no longer known).
 */
void
pgov_who_from_backend(PgBackendStatus *be, PgovWho *who)
{
	char	   *name;

	memset(who, 0, sizeof(*who));
	who->roleid = be->st_userid;
	name = GetUserNameFromId(be->st_userid, true);
	strlcpy(who->role_name, name ? name : "", NAMEDATALEN);
	name = get_database_name(be->st_databaseid);
	strlcpy(who->database_name, name ? name : "", NAMEDATALEN);
	strlcpy(who->application_name, be->st_appname ? be->st_appname : "", NAMEDATALEN);
	who_set_addr(who, &be->st_clientaddr.addr);
}

/* Counted apart and never refused: replication connections, and superusers
 * while pool_governor.exempt_superusers is on. */
bool
pgov_who_is_exempt(const PgovWho *who, bool walsender)
{
	return walsender ||
		(pgov_exempt_superusers && pgov_role_is_exempt(who->roleid));
}

/* What the pure classifier sees of who. */
void
pgov_login_of(const PgovWho *who, const PgovGroups *groups, PgovLogin *login)
{
	login->role_name = who->role_name;
	login->database_name = who->database_name;
	login->application_name = who->application_name;
	login->addr = who->has_addr ? &who->addr : NULL;
	login->groups = groups->computed ? groups->oids : NULL;
	login->ngroups = groups->computed ? groups->n : 0;
}

/*
 * Classifies who with fn, computing its groups (a catalog read) only if a
 * +group rule asks for them, and then once: the caller keeps groups, and
 * frees them (pgov_groups_free).
 */
void
pgov_classify_with_groups(const PgovWho *who, PgovGroups *groups,
						  PgovClassifyFn fn, void *arg)
{
	if (fn(who, groups, arg))
		return;
	if (!groups->computed)
		role_groups(who->roleid, groups);
	(void) fn(who, groups, arg);
}
