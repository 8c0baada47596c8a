/*-------------------------------------------------------------------------
 *
 * rules.c
 *		Owner of the published rules: classification of a login by them,
 *		and their installation by a publication.  The locking protocol is in
 *		rules.h.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "storage/shmem.h"

#include "rules.h"
#include "settings.h"

typedef struct RulesShared
{
	LWLock	   *lock;
	int			nrules;
	int			first_group;	/* of the index */
	int			default_tenant; /* board entry of unmatched logins */
	uint64		generation;		/* of the rules in force */
} RulesShared;

static RulesShared *rs = NULL;
static PgovRule *rules = NULL;	/* [pgov_max_rules] */
static PgovRuleKey *keys = NULL;	/* [pgov_max_rules] */

Size
pgov_rules_shmem_size(void)
{
	Size		size = MAXALIGN(sizeof(RulesShared));

	size = add_size(size, MAXALIGN(mul_size(pgov_max_rules, sizeof(PgovRule))));
	size = add_size(size, MAXALIGN(mul_size(pgov_max_rules, sizeof(PgovRuleKey))));
	return size;
}

void
pgov_rules_attach(void *base, LWLock *lock, bool init)
{
	char	   *p = base;

	rs = (RulesShared *) p;
	p += MAXALIGN(sizeof(RulesShared));
	rules = (PgovRule *) p;
	p += MAXALIGN(mul_size(pgov_max_rules, sizeof(PgovRule)));
	keys = (PgovRuleKey *) p;
	if (init)
	{
		memset(rs, 0, sizeof(*rs));
		rs->lock = lock;
		rs->default_tenant = -1;
	}
}

/* Classifies under the lock (a PgovClassifyFn): false if groups are needed. */
static bool
classify_published(const PgovWho *who, const PgovGroups *groups, void *arg)
{
	PgovPlace  *place = arg;
	PgovRuleIndex ix;
	PgovLogin	login;
	int			r;

	pgov_login_of(who, groups, &login);
	LWLockAcquire(rs->lock, LW_SHARED);
	ix.rules = rules;
	ix.nrules = rs->nrules;
	ix.keys = keys;
	ix.first_group = rs->first_group;
	r = pgov_classify_indexed(&ix, &login);
	place->generation = rs->generation;
	if (r >= 0)
	{
		place->tenant = rules[r].tenant;
		place->rule_id = rules[r].id;
	}
	else
	{
		place->tenant = rs->default_tenant;
		place->rule_id = 0;
	}
	LWLockRelease(rs->lock);
	return r != PGOV_NEED_GROUPS;
}

/*
 * Where the rules in force place who, with the generation they belong to.
 * groups is computed here if a +group rule needs it (outside the lock), and
 * kept by the caller for its next call.
 */
void
pgov_rules_place(const PgovWho *who, PgovGroups *groups, PgovPlace *place)
{
	pgov_classify_with_groups(who, groups, classify_published, place);
}

/* Builds cfg's index outside the locks (it allocates). */
void
pgov_rules_prepare(PgovPrepared *pp, const PgovConfig *cfg)
{
	pp->cfg = cfg;
	pp->keys = palloc(sizeof(PgovRuleKey) * Max(cfg->nrules, 1));
	pp->first_group = pgov_index_rules(cfg->rules, cfg->nrules, pp->keys);
}

void
pgov_rules_unprepare(PgovPrepared *pp)
{
	pfree(pp->keys);
}

typedef struct PreparedAsk
{
	const PgovPrepared *pp;
	int			rule;
} PreparedAsk;

static bool
classify_prepared(const PgovWho *who, const PgovGroups *groups, void *arg)
{
	PreparedAsk *ask = arg;
	PgovRuleIndex ix;
	PgovLogin	login;

	pgov_login_of(who, groups, &login);
	ix.rules = ask->pp->cfg->rules;
	ix.nrules = ask->pp->cfg->nrules;
	ix.keys = ask->pp->keys;
	ix.first_group = ask->pp->first_group;
	ask->rule = pgov_classify_indexed(&ix, &login);
	return ask->rule != PGOV_NEED_GROUPS;
}

/* Where pp's rules place who: *def the configuration's tenant (-1: the
 * default one), *rule_id the rule's (0: none).  No lock: pp is the
 * publisher's own. */
void
pgov_rules_place_prepared(const PgovPrepared *pp, const PgovWho *who,
						  int *def, int64 *rule_id)
{
	PreparedAsk ask = {pp, -1};
	PgovGroups	groups;

	memset(&groups, 0, sizeof(groups));
	pgov_classify_with_groups(who, &groups, classify_prepared, &ask);
	pgov_groups_free(&groups);
	*def = ask.rule >= 0 ? pp->cfg->rules[ask.rule].tenant : -1;
	*rule_id = ask.rule >= 0 ? pp->cfg->rules[ask.rule].id : 0;
}

/* A publication begins: no login classifies until pgov_rules_unlock(). */
void
pgov_rules_lock(void)
{
	LWLockAcquire(rs->lock, LW_EXCLUSIVE);
}

/*
 * Makes pp's rules the ones in force, as generation; map[i] is the board
 * entry of the configuration's tenant i, default_tenant that of unmatched
 * logins.  Between pgov_rules_lock() and pgov_rules_unlock().  O(rules).
 */
void
pgov_rules_install(const PgovPrepared *pp, const int *map, int default_tenant,
				   uint64 generation)
{
	const PgovConfig *cfg = pp->cfg;
	int			i;

	Assert(LWLockHeldByMeInMode(rs->lock, LW_EXCLUSIVE));
	for (i = 0; i < cfg->nrules; i++)
	{
		rules[i] = cfg->rules[i];
		rules[i].tenant = map[cfg->rules[i].tenant];
	}
	memcpy(keys, pp->keys, sizeof(PgovRuleKey) * cfg->nrules);
	rs->first_group = pp->first_group;
	rs->nrules = cfg->nrules;
	rs->default_tenant = default_tenant;
	rs->generation = generation;
}

void
pgov_rules_unlock(void)
{
	LWLockRelease(rs->lock);
}
