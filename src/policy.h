/*-------------------------------------------------------------------------
 *
 * policy.h
 *		The pure decision logic of pool_governor: rule matching and the
 *		admission arithmetic.
 *
 * Nothing here includes a PostgreSQL header, so the unit tests and the fuzz
 * target build this code alone.  The PostgreSQL side translates a Port into
 * a PgovLogin and the configuration tables into PgovTenantDef / PgovRule.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGOV_POLICY_H
#define PGOV_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "match.h"

/* "No cap" for a tenant's max_connections (SQL NULL). */
#define PGOV_NO_CAP (-1)

/* Weights of the fair hand-off of shared seats (tenants.weight). */
#define PGOV_WEIGHT_MIN 1
#define PGOV_WEIGHT_MAX 1000

/* The longest drain_grace: a week.  A tenant above its cap that long has
 * outlived any reason to wait (drain 'natural' never ends a session). */
#define PGOV_DRAIN_GRACE_MAX_MS ((int64_t) 7 * 24 * 3600 * 1000)

/* What happens to a tenant's sessions above its cap (tenants.drain). */
typedef enum PgovDrain
{
	PGOV_DRAIN_NATURAL = 0,		/* they leave when they disconnect */
	PGOV_DRAIN_IDLE				/* the worker ends idle ones, longest idle
								 * first, after drain_grace above the cap */
} PgovDrain;

/*
 * The SQLSTATE a tenant's refusals carry (tenants.refusal_sqlstate): what
 * the client in front does with a refusal depends on it.  PgBouncer 1.21
 * and later keep their clients queued on 57P03, as on "the database system
 * is starting up", and fail them all on 53300.
 */
typedef enum PgovRefusal
{
	PGOV_REFUSAL_TOO_MANY = 0,	/* 53300 too_many_connections, the default */
	PGOV_REFUSAL_CANNOT_CONNECT /* 57P03 cannot_connect_now */
} PgovRefusal;

/* One tenant as configured (a row of pool_governor.tenants). */
typedef struct PgovTenantDef
{
	char		name[PGOV_NAME_LEN];
	int			max_connections;	/* PGOV_NO_CAP = none */
	int			reserved_connections;
	int			max_waiting;
	int64_t		wait_timeout_ms;
	int32_t		weight;			/* 1..1000; 0 (a zeroed entry) counts as 1 */
	int32_t		drain;			/* PgovDrain */
	int64_t		drain_grace_ms;
	int32_t		refusal;		/* PgovRefusal */
	int32_t		cluster_quota;	/* tenants.cluster_max_connections, at
								 * least 1; 0 = none (SQL NULL) */
} PgovTenantDef;

/*
 * Per-node budgets (pool_governor.node_limits): a row replaces a tenant's
 * max_connections and reserved_connections on the nodes it names, by the
 * node's name (pool_governor.node_name) or by its role.
 */
typedef enum PgovRole
{
	PGOV_ROLE_PRIMARY = 0,
	PGOV_ROLE_STANDBY = 1
} PgovRole;

/* Most node_limits rows a configuration may have (what its snapshot file
 * can hold). */
#define PGOV_MAX_NODE_LIMITS 200000

#define PGOV_NROLES 2
#define PGOV_ROLE_UNKNOWN (-1)	/* no login has said yet */

/* Whose numbers a node in role enforces: the primary's until it is known
 * to be a standby. */
static inline int
pgov_numbers_role(int role)
{
	return role == PGOV_ROLE_STANDBY ? PGOV_ROLE_STANDBY : PGOV_ROLE_PRIMARY;
}

typedef struct PgovNodeLimit
{
	char		node[PGOV_NAME_LEN];	/* 'primary', 'standby' or a name */
	int32_t		tenant;			/* index in the tenants */
	int32_t		max_connections;	/* PGOV_NO_CAP = none */
	int32_t		reserved_connections;
	int32_t		cluster_floor;	/* seats the node may use without asking
								 * (a named node's row only) */
} PgovNodeLimit;

/* Where a tenant's numbers on a node come from. */
typedef enum PgovLimitsFrom
{
	PGOV_FROM_TENANTS = 0,		/* the tenants row */
	PGOV_FROM_ROLE,				/* node_limits, the node's role */
	PGOV_FROM_NAME				/* node_limits, the node's name */
} PgovLimitsFrom;

/* A tenant's numbers in force for one role of this node. */
typedef struct PgovNodeNumbers
{
	int32_t		max_connections;
	int32_t		reserved_connections;
	int32_t		from;			/* PgovLimitsFrom */
	int32_t		cluster_floor;	/* this node's floor (its named row's) */
	int32_t		cluster_floors;	/* every node's floor, summed */
} PgovNodeNumbers;

/* One classification rule (a row of pool_governor.rules); NULL = "" + flag */
typedef struct PgovRule
{
	int64_t		id;
	int			priority;
	int			tenant;			/* index of the tenant it places logins in */
	bool		has_role;
	bool		role_is_group;	/* role_name was "+group" */
	bool		has_database;
	bool		has_application;
	bool		has_client_addr;
	uint32_t	group_oid;		/* role OID of a +group, set by the loader */
	char		role_name[PGOV_NAME_LEN];	/* without the leading '+' */
	char		database_name[PGOV_NAME_LEN];
	char		application_name[PGOV_NAME_LEN];	/* a glob */
	PgovCidr	client_addr;
} PgovRule;

/*
 * What a login presents.  addr is NULL for a Unix-socket connection.
 * groups are the OIDs of every role the login's role is a member of, sorted
 * (pgov_classify_indexed's +group rules); NULL while they are not known.
 */
typedef struct PgovLogin
{
	const char *role_name;
	const char *database_name;
	const char *application_name;	/* "" when the client sent none */
	const PgovCidr *addr;
	const uint32_t *groups;
	int			ngroups;
} PgovLogin;

/*
 * The rules indexed by what a login can be looked up by exactly.  Each rule
 * has one key: its role name (a hash), else its +group's OID, else its
 * database name (a hash), else none (a "wildcard" rule, looked at by every
 * login).  keys[] holds one entry per rule, sorted by (key, rule), so each
 * key's rules are a run in first-match order.
 */
typedef struct PgovRuleKey
{
	uint64_t	key;			/* kind << 32 | hash or OID */
	int32_t		rule;			/* position in the sorted rules */
} PgovRuleKey;

typedef struct PgovRuleIndex
{
	const PgovRule *rules;		/* sorted by pgov_sort_rules */
	int			nrules;
	const PgovRuleKey *keys;	/* [nrules] */
	int			first_group;	/* position of the first +group rule that can
								 * match (its group exists), nrules if none */
} PgovRuleIndex;

/* pgov_classify_indexed: a +group rule may match; pass login->groups. */
#define PGOV_NEED_GROUPS (-2)

/*
 * Answers "is the login's role a member of the rule's group?" (pg_hba.conf's
 * +group).  The rule carries the group's name and, resolved when the
 * configuration was loaded, its role OID (0 when no such role existed).
 */
typedef bool (*PgovMemberFn) (void *ctx, const char *group, uint32_t group_oid);

/* The outcome of the admission arithmetic. */
typedef enum PgovDecision
{
	PGOV_ADMIT,
	PGOV_REFUSE_CAP,			/* the tenant is at its own cap */
	PGOV_REFUSE_CAPACITY,		/* no shared seat is left for it */
	PGOV_REFUSE_QUEUE,			/* a seat is free, but earlier logins of the
								 * tenant are waiting for it (first come,
								 * first served) */
	PGOV_REFUSE_SHARE			/* the free shared seats go to waiting logins
								 * of tenants holding fewer shared seats per
								 * weight (fair share) */
} PgovDecision;

/* What is wrong with a configuration; PGOV_OK when nothing is. */
typedef enum PgovProblemCode
{
	PGOV_OK = 0,
	PGOV_BAD_TENANT_NAME,
	PGOV_NEGATIVE_VALUE,
	PGOV_RESERVED_ABOVE_CAP,
	PGOV_RESERVED_ABOVE_CAPACITY,
	PGOV_TOO_MANY_TENANTS,
	PGOV_TOO_MANY_RULES,
	PGOV_UNKNOWN_TENANT,
	PGOV_BAD_ROLE,
	PGOV_BAD_DATABASE,
	PGOV_BAD_GLOB,
	PGOV_BAD_CIDR,
	PGOV_WAIT_TOO_LONG,
	PGOV_NON_ASCII_GLOB,
	PGOV_MISSING_VALUE,
	PGOV_BAD_COLUMN,
	PGOV_WAIT_TOO_SHORT,
	PGOV_BAD_WEIGHT,
	PGOV_BAD_DRAIN,
	PGOV_BAD_NODE_NAME,			/* node_limits.node empty or too long */
	PGOV_NODE_NEGATIVE_VALUE,	/* a node_limits row; text = its node */
	PGOV_NODE_RESERVED_ABOVE_CAP,
	PGOV_NODE_RESERVED_ABOVE_CAPACITY,	/* this node's numbers, as resolved */
	PGOV_TOO_MANY_NODE_LIMITS,
	PGOV_GRACE_TOO_LONG,
	PGOV_BAD_REFUSAL,			/* refusal_sqlstate; text = the value */
	PGOV_BAD_CLUSTER_QUOTA,		/* cluster_max_connections below 1 */
	PGOV_FLOOR_ON_ROLE,			/* a cluster_floor on a role's row; text =
								 * the role */
	PGOV_FLOOR_WITHOUT_QUOTA,	/* text = the node */
	PGOV_FLOORS_ABOVE_QUOTA		/* value = their sum, limit = the quota */
} PgovProblemCode;

typedef struct PgovProblem
{
	PgovProblemCode code;
	char		tenant[PGOV_NAME_LEN];	/* the tenant concerned, if any */
	int64_t		rule_id;		/* the rule concerned, if any */
	const char *field;			/* the column concerned, if any */
	int64_t		value;			/* the offending number, if any */
	int64_t		limit;			/* what it was measured against */
	char		text[128];		/* the offending text, if any */
} PgovProblem;

/* --- matching (globs and addresses: match.h) --- */
extern bool pgov_rule_matches(const PgovRule *rule, const PgovLogin *login,
							  PgovMemberFn is_member, void *ctx);
extern int	pgov_classify(const PgovRule *rules, int nrules,
						  const PgovLogin *login,
						  PgovMemberFn is_member, void *ctx);
extern void pgov_sort_rules(PgovRule *rules, int nrules);
extern int	pgov_index_rules(const PgovRule *rules, int nrules,
							 PgovRuleKey *keys);
extern int	pgov_classify_indexed(const PgovRuleIndex *ix,
								  const PgovLogin *login);
extern bool pgov_rule_build(PgovRule *out, int64_t id, int priority,
							const char *role_name, const char *database_name,
							const char *application_name,
							const char *client_addr, PgovProblem *p);

/* --- admission arithmetic --- */
extern int	pgov_held(int connected, int reserved);
extern PgovDecision pgov_decide(int connected, int max_connections,
								int reserved, int sum_held, int capacity,
								int waiters_ahead);

/*
 * Pacing a tenant's refusals (pool_governor.refusal_pacing).  A client that
 * reconnects as soon as it is refused, without back-off, costs the server a
 * fork and a backend start per attempt, and every other tenant pays for it;
 * only an answer that comes later slows such a client down.  While a
 * tenant's logins keep being refused (no gap between two refusals longer
 * than max_ms + PGOV_PACE_QUIET_MS), each refusal is answered after
 * PGOV_PACE_RAMP times as long as the refusals have kept coming, at most
 * max_ms: a single refusal is answered at once, a burst over in a few
 * milliseconds within tens of them; a storm is answered after max_ms
 * within max_ms / PGOV_PACE_RAMP of its start.  Times in microseconds, any
 * epoch.
 */
#define PGOV_PACE_QUIET_MS	1000
#define PGOV_PACE_RAMP		32

typedef struct PgovPace
{
	int64_t		since;			/* the first refusal of the run; 0 = none */
	int64_t		last;			/* the latest refusal */
} PgovPace;

extern int	pgov_pace_refusal(PgovPace *pace, int64_t now, int max_ms);
extern int	pgov_pace_spread(int pace_ms, uint32_t seed);

/*
 * Who takes the next free shared seat: each login that wants one stands as
 * its tenant's shared seats held (max(0, connected - reserved), counting
 * the seats handed before it), its tenant's weight, and when it began
 * waiting.  The lowest held / weight goes first, then the oldest login;
 * order (its slot) settles the rest, so no two keys are equal.
 */
typedef struct PgovShareKey
{
	int			held;
	int			weight;
	int64_t		since;
	int			order;
} PgovShareKey;

static inline bool
pgov_share_before(const PgovShareKey *a, const PgovShareKey *b)
{
	int64_t		wa = a->weight > 0 ? a->weight : 1;
	int64_t		wb = b->weight > 0 ? b->weight : 1;
	int64_t		l = (int64_t) a->held * wb;
	int64_t		r = (int64_t) b->held * wa;

	if (l != r)
		return l < r;
	if (a->since != b->since)
		return a->since < b->since;
	return a->order < b->order;
}

/* --- validation --- */
extern bool pgov_validate_tenant(const PgovTenantDef *t,
								 int64_t max_wait_ms, PgovProblem *p);

/* What a configuration is checked against. */
typedef struct PgovLimits
{
	int			capacity;		/* governed seats */
	int			max_tenants;	/* tenant entries in shared memory */
	int			extra_tenants;	/* entries needed besides the table's: the
								 * implicit default tenant */
	int			max_rules;
	int64_t		max_wait_ms;	/* a wait ends before authentication_timeout */
} PgovLimits;

extern bool pgov_validate_config(const PgovTenantDef *tenants, int ntenants,
								 const char *const *rule_tenants,
								 const PgovRule *rules, int nrules,
								 const PgovLimits *limits, PgovProblem *p);
extern int	pgov_scale_reserves(PgovTenantDef *tenants, int ntenants,
								int capacity);
extern const char *pgov_role_name(int role);
extern const char *pgov_cap_text(int max_connections, char *buf, size_t len);
extern bool pgov_validate_cluster_floors(const PgovNodeLimit *limits,
										 int nlimits,
										 const PgovTenantDef *tenants,
										 int ntenants, int64_t *sums,
										 PgovProblem *p);
extern bool pgov_validate_node_limits(const PgovNodeLimit *limits, int nlimits,
									  const PgovTenantDef *tenants, int ntenants,
									  PgovProblem *p);
extern void pgov_resolve_node(const PgovTenantDef *tenants, int ntenants,
							  const PgovNodeLimit *limits, int nlimits,
							  const char *node_name, int role,
							  PgovNodeNumbers *out);
extern void pgov_apply_numbers(PgovTenantDef *tenants, int ntenants,
							   const PgovNodeNumbers *numbers);
extern void pgov_sort_tenants(PgovTenantDef *tenants, int ntenants);

/* --- health --- */

/*
 * A tenant's health, the one rule tenant_status.health and health.status
 * share: critical when more than 0.1% of its logins over the health window
 * were refused, or it is at its cap with logins waiting; warning when it
 * uses 80% of its cap (or of the capacity, without one), logins waited
 * over the window, or logins wait now; else ok.
 */
typedef enum PgovHealth
{
	PGOV_HEALTH_OK = 0,
	PGOV_HEALTH_WARNING,
	PGOV_HEALTH_CRITICAL
} PgovHealth;

typedef struct PgovHealthInput
{
	int			connected;
	int			max_connections;	/* PGOV_NO_CAP = none */
	int			waiting;
	int			utilization_milli;	/* pgov_utilization_milli; -1 = none */
	int64_t		admitted;		/* over the health window */
	int64_t		refused;
	int64_t		waits;
} PgovHealthInput;

extern int	pgov_utilization_milli(int connected, int max_connections,
								   int capacity);
extern PgovHealth pgov_tenant_health(const PgovHealthInput *in);
extern const char *pgov_health_name(PgovHealth h);
extern int	pgov_find_tenant(const PgovTenantDef *tenants, int ntenants,
							 const char *name);

#endif							/* PGOV_POLICY_H */
