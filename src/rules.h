/*-------------------------------------------------------------------------
 *
 * rules.h
 *		The published rules in shared memory, with their index: the only
 *		code that reads or writes them, and the only taker of their lock.
 *
 * Locking protocol (rules.c)
 * --------------------------
 * The rules' lock guards the rules, their index, their count, the entry of
 * the default tenant they send unmatched logins to, and the generation they
 * belong to.  A login holds it SHARED while it classifies itself (a few
 * binary searches of the index, then the candidate rules); only a
 * publication takes it EXCLUSIVE, through pgov_rules_lock(), and then takes
 * the board's lock inside it (board.c): lock order rules, then board.
 * Nothing under it reads a catalog: a login's memberships are computed
 * before (identity.c), and only when a +group rule is reached.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGOV_RULES_H
#define PGOV_RULES_H

#include "postgres.h"

#include "storage/lwlock.h"

#include "configuration.h"
#include "identity.h"
#include "policy.h"

/* Where rules place a login. */
typedef struct PgovPlace
{
	int			tenant;			/* board entry */
	int64		rule_id;		/* 0: the default tenant */
	uint64		generation;		/* of the rules that placed it */
} PgovPlace;

/* A configuration's rules, indexed outside any lock, ready to install. */
typedef struct PgovPrepared
{
	const PgovConfig *cfg;
	PgovRuleKey *keys;			/* the rules' index [nrules] */
	int			first_group;
} PgovPrepared;

extern Size pgov_rules_shmem_size(void);
extern void pgov_rules_attach(void *base, LWLock *lock, bool init);

extern void pgov_rules_place(const PgovWho *who, PgovGroups *groups,
							 PgovPlace *place);
extern void pgov_rules_prepare(PgovPrepared *pp, const PgovConfig *cfg);
extern void pgov_rules_unprepare(PgovPrepared *pp);
extern void pgov_rules_place_prepared(const PgovPrepared *pp,
									  const PgovWho *who, int *def,
									  int64 *rule_id);
extern void pgov_rules_lock(void);
extern void pgov_rules_install(const PgovPrepared *pp, const int *map,
							   int default_tenant, uint64 generation);
extern void pgov_rules_unlock(void);

#endif							/* PGOV_RULES_H */
