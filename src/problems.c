/*-------------------------------------------------------------------------
 *
 * problems.c
 *		What is wrong with a configuration, in the PostgreSQL style guide's
 *		words: each problem code of policy.h, configuration.h and the
 *		reader put into a primary message, a DETAIL and a HINT once, for the
 *		write-time trigger (ERROR), the worker's load (WARNING), health and
 *		the event log alike.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "problems.h"

/* A problem put into words, once, for ereport and for the event log alike. */
typedef struct PgovProblemText
{
	int			sqlstate;
	char		msg[256];
	char		detail[256];
	char		hint[256];
} PgovProblemText;

static void
problem_text(const PgovProblem *p, PgovProblemText *out)
{
	long long	value = (long long) p->value;
	long long	limit = (long long) p->limit;
	long long	rule = (long long) p->rule_id;

	memset(out, 0, sizeof(*out));
	out->sqlstate = ERRCODE_INVALID_PARAMETER_VALUE;
	switch (p->code)
	{
		case PGOV_OK:
			break;
		case PGOV_BAD_TENANT_NAME:
			snprintf(out->msg, sizeof(out->msg), "invalid tenant name \"%s\"", p->text);
			snprintf(out->detail, sizeof(out->detail),
					 "A tenant name must be 1 to %d bytes long.", NAMEDATALEN - 1);
			break;
		case PGOV_NEGATIVE_VALUE:
			snprintf(out->msg, sizeof(out->msg),
					 "%s of tenant \"%s\" must not be negative", p->field, p->tenant);
			if (p->text[0] != '\0')
				snprintf(out->detail, sizeof(out->detail),
						 "The value given is %s.", p->text);
			else if (strcmp(p->field, "wait_timeout") == 0 ||
					 strcmp(p->field, "drain_grace") == 0)
				snprintf(out->detail, sizeof(out->detail),
						 "The value given is %lld ms.", value);
			else
				snprintf(out->detail, sizeof(out->detail),
						 "The value given is %lld.", value);
			break;
		case PGOV_RESERVED_ABOVE_CAP:
			snprintf(out->msg, sizeof(out->msg),
					 "reserved_connections of tenant \"%s\" exceeds its max_connections",
					 p->tenant);
			snprintf(out->detail, sizeof(out->detail),
					 "reserved_connections is %lld but max_connections is %lld.",
					 value, limit);
			snprintf(out->hint, sizeof(out->hint),
					 "Lower reserved_connections or raise max_connections.");
			break;
		case PGOV_RESERVED_ABOVE_CAPACITY:
			snprintf(out->msg, sizeof(out->msg),
					 "reserved connections of all tenants exceed the governed capacity");
			snprintf(out->detail, sizeof(out->detail),
					 "The tenants reserve %lld seats in all, but the capacity is %lld.",
					 value, limit);
			snprintf(out->hint, sizeof(out->hint),
					 "Lower some tenant's reserved_connections, or raise pool_governor.capacity or max_connections.");
			break;
		case PGOV_TOO_MANY_TENANTS:
			out->sqlstate = ERRCODE_CONFIGURATION_LIMIT_EXCEEDED;
			snprintf(out->msg, sizeof(out->msg), "too many tenants");
			snprintf(out->detail, sizeof(out->detail),
					 "%lld tenants would be in use (counting the default tenant), but pool_governor.max_tenants is %lld.",
					 value, limit);
			snprintf(out->hint, sizeof(out->hint),
					 "Raise pool_governor.max_tenants; changing it requires a server restart.");
			break;
		case PGOV_TOO_MANY_RULES:
			out->sqlstate = ERRCODE_CONFIGURATION_LIMIT_EXCEEDED;
			snprintf(out->msg, sizeof(out->msg), "too many rules");
			snprintf(out->detail, sizeof(out->detail),
					 "%lld rules are configured, but pool_governor.max_rules is %lld.",
					 value, limit);
			snprintf(out->hint, sizeof(out->hint),
					 "Raise pool_governor.max_rules; changing it requires a server restart.");
			break;
		case PGOV_UNKNOWN_TENANT:
			out->sqlstate = ERRCODE_FOREIGN_KEY_VIOLATION;
			snprintf(out->msg, sizeof(out->msg),
					 "tenant \"%s\" does not exist", p->tenant);
			snprintf(out->detail, sizeof(out->detail),
					 "Rule %lld places logins in it.", rule);
			snprintf(out->hint, sizeof(out->hint),
					 "Add the tenant to pool_governor.tenants first.");
			break;
		case PGOV_BAD_ROLE:
			snprintf(out->msg, sizeof(out->msg),
					 "invalid role_name \"%s\" in rule %lld", p->text, rule);
			snprintf(out->detail, sizeof(out->detail),
					 "role_name is a role name or \"+\" and a group name, 1 to %d bytes long; NULL matches any role.",
					 NAMEDATALEN - 1);
			break;
		case PGOV_BAD_DATABASE:
			snprintf(out->msg, sizeof(out->msg),
					 "invalid database_name \"%s\" in rule %lld", p->text, rule);
			snprintf(out->detail, sizeof(out->detail),
					 "database_name is 1 to %d bytes long; NULL matches any database.",
					 NAMEDATALEN - 1);
			break;
		case PGOV_BAD_GLOB:
			snprintf(out->msg, sizeof(out->msg),
					 "invalid application_name pattern \"%s\" in rule %lld", p->text, rule);
			snprintf(out->detail, sizeof(out->detail),
					 "A pattern is at most %d bytes; \"*\" matches any run of characters, \"?\" any one, and \"\\\" makes the next character literal, so it cannot end a pattern.",
					 NAMEDATALEN - 1);
			break;
		case PGOV_NON_ASCII_GLOB:
			snprintf(out->msg, sizeof(out->msg),
					 "application_name pattern \"%s\" in rule %lld can never match", p->text, rule);
			snprintf(out->detail, sizeof(out->detail),
					 "PostgreSQL replaces every non-ASCII byte of a client's application_name with \"?\".");
			snprintf(out->hint, sizeof(out->hint),
					 "Use \"?\" where the pattern has a non-ASCII character.");
			break;
		case PGOV_BAD_CIDR:
			snprintf(out->msg, sizeof(out->msg),
					 "invalid client_addr \"%s\" in rule %lld", p->text, rule);
			break;
		case PGOV_WAIT_TOO_LONG:
			snprintf(out->msg, sizeof(out->msg),
					 "wait_timeout of tenant \"%s\" exceeds authentication_timeout", p->tenant);
			snprintf(out->detail, sizeof(out->detail),
					 "wait_timeout is %lld ms, but a login must be decided within authentication_timeout (%lld ms).",
					 value, limit);
			snprintf(out->hint, sizeof(out->hint),
					 "Lower wait_timeout, or raise authentication_timeout.");
			break;
		case PGOV_WAIT_TOO_SHORT:
			snprintf(out->msg, sizeof(out->msg),
					 "wait_timeout of tenant \"%s\" is shorter than 1 ms", p->tenant);
			snprintf(out->detail, sizeof(out->detail),
					 "Waits are counted in milliseconds: a shorter wait_timeout would mean that no login waits.");
			snprintf(out->hint, sizeof(out->hint),
					 "Set wait_timeout to 0 for no wait, or to 1 ms or more.");
			break;
		case PGOV_BAD_WEIGHT:
			snprintf(out->msg, sizeof(out->msg),
					 "weight of tenant \"%s\" must be between %d and %d",
					 p->tenant, PGOV_WEIGHT_MIN, PGOV_WEIGHT_MAX);
			snprintf(out->detail, sizeof(out->detail),
					 "The value given is %lld.", value);
			snprintf(out->hint, sizeof(out->hint),
					 "When tenants wait for shared seats, each gets them in proportion to its weight.");
			break;
		case PGOV_GRACE_TOO_LONG:
			snprintf(out->msg, sizeof(out->msg),
					 "drain_grace of tenant \"%s\" exceeds 7 days", p->tenant);
			snprintf(out->detail, sizeof(out->detail),
					 "drain_grace is %lld ms; at most %lld ms (7 days) is accepted.",
					 value, limit);
			snprintf(out->hint, sizeof(out->hint),
					 "Give a shorter drain_grace, or drain 'natural', which never ends a session.");
			break;
		case PGOV_BAD_REFUSAL:
			snprintf(out->msg, sizeof(out->msg),
					 "invalid refusal_sqlstate \"%s\" for tenant \"%s\"", p->text, p->tenant);
			snprintf(out->detail, sizeof(out->detail),
					 "refusal_sqlstate is '53300' (too_many_connections, the default) or '57P03' (cannot_connect_now, which PgBouncer 1.21 and later take as temporary: they keep their clients queued and retry).");
			break;
		case PGOV_BAD_CLUSTER_QUOTA:
			snprintf(out->msg, sizeof(out->msg),
					 "cluster_max_connections of tenant \"%s\" must be at least 1", p->tenant);
			snprintf(out->detail, sizeof(out->detail), "The value given is %lld.", value);
			snprintf(out->hint, sizeof(out->hint),
					 "Leave it NULL for no cluster quota; max_connections = 0 shuts a tenant out of a node.");
			break;
		case PGOV_FLOOR_ON_ROLE:
			snprintf(out->msg, sizeof(out->msg),
					 "cluster_floor of tenant \"%s\" is given for the role \"%s\", not a node",
					 p->tenant, p->text);
			snprintf(out->detail, sizeof(out->detail),
					 "A floor is seats one node may use without asking etcd; a role's row would give it to every node in the role, however many there are.");
			snprintf(out->hint, sizeof(out->hint),
					 "Give each node its floor in a row with its pool_governor.node_name.");
			break;
		case PGOV_FLOOR_WITHOUT_QUOTA:
			snprintf(out->msg, sizeof(out->msg),
					 "cluster_floor of tenant \"%s\" on node \"%s\" needs a cluster quota",
					 p->tenant, p->text);
			snprintf(out->detail, sizeof(out->detail),
					 "The tenant's cluster_max_connections is NULL.");
			snprintf(out->hint, sizeof(out->hint),
					 "Set the tenant's cluster_max_connections, or the floor to 0.");
			break;
		case PGOV_FLOORS_ABOVE_QUOTA:
			snprintf(out->msg, sizeof(out->msg),
					 "cluster floors of tenant \"%s\" exceed its cluster quota", p->tenant);
			snprintf(out->detail, sizeof(out->detail),
					 "Its floors in pool_governor.node_limits sum to %lld; its cluster_max_connections is %lld.",
					 value, limit);
			snprintf(out->hint, sizeof(out->hint),
					 "Lower some floors or raise the quota: the floors are seats each node uses without asking, so they must fit in the quota together.");
			break;
		case PGOV_BAD_DRAIN:
			snprintf(out->msg, sizeof(out->msg),
					 "invalid drain \"%s\" for tenant \"%s\"", p->text, p->tenant);
			snprintf(out->detail, sizeof(out->detail),
					 "drain is 'natural' (sessions above the cap end when their clients disconnect) or 'idle' (the worker ends idle ones above the cap after drain_grace).");
			break;
		case PGOV_BAD_NODE_NAME:
			snprintf(out->msg, sizeof(out->msg),
					 "invalid node \"%s\" in pool_governor.node_limits for tenant \"%s\"",
					 p->text, p->tenant);
			snprintf(out->detail, sizeof(out->detail),
					 "node is 'primary', 'standby' or a node's pool_governor.node_name, 1 to %d bytes long.",
					 NAMEDATALEN - 1);
			break;
		case PGOV_NODE_NEGATIVE_VALUE:
			snprintf(out->msg, sizeof(out->msg),
					 "%s of tenant \"%s\" on node \"%s\" must not be negative",
					 p->field, p->tenant, p->text);
			snprintf(out->detail, sizeof(out->detail),
					 "The value given in pool_governor.node_limits is %lld.", value);
			break;
		case PGOV_NODE_RESERVED_ABOVE_CAP:
			snprintf(out->msg, sizeof(out->msg),
					 "reserved_connections of tenant \"%s\" on node \"%s\" exceeds its max_connections there",
					 p->tenant, p->text);
			snprintf(out->detail, sizeof(out->detail),
					 "The node_limits row reserves %lld but caps the tenant at %lld.",
					 value, limit);
			snprintf(out->hint, sizeof(out->hint),
					 "Lower reserved_connections or raise max_connections in the row.");
			break;
		case PGOV_NODE_RESERVED_ABOVE_CAPACITY:
			snprintf(out->msg, sizeof(out->msg),
					 "reserved connections of all tenants exceed the governed capacity of this node as %s",
					 p->text);
			snprintf(out->detail, sizeof(out->detail),
					 "With pool_governor.node_limits applied, the tenants reserve %lld seats in all on this node, but its capacity is %lld.",
					 value, limit);
			snprintf(out->hint, sizeof(out->hint),
					 "Lower some reserved_connections (in pool_governor.tenants or node_limits), or raise pool_governor.capacity or max_connections.");
			break;
		case PGOV_TOO_MANY_NODE_LIMITS:
			out->sqlstate = ERRCODE_CONFIGURATION_LIMIT_EXCEEDED;
			snprintf(out->msg, sizeof(out->msg), "too many rows in pool_governor.node_limits");
			snprintf(out->detail, sizeof(out->detail),
					 "The table has %lld rows; the governor holds at most %lld.",
					 value, limit);
			snprintf(out->hint, sizeof(out->hint),
					 "Give the nodes that share numbers one row by role ('primary' or 'standby') instead of one each.");
			break;
		case PGOV_MISSING_VALUE:
			out->sqlstate = ERRCODE_NOT_NULL_VIOLATION;
			if (p->tenant[0])
				snprintf(out->msg, sizeof(out->msg),
						 "%s of tenant \"%s\" is null", p->field, p->tenant);
			else
				snprintf(out->msg, sizeof(out->msg),
						 "%s of a row of pool_governor.%s is null", p->field, p->text);
			snprintf(out->hint, sizeof(out->hint),
					 "The table was altered; restore the column's NOT NULL constraint and give it a value.");
			break;
		case PGOV_BAD_COLUMN:
			out->sqlstate = ERRCODE_DATATYPE_MISMATCH;
			snprintf(out->msg, sizeof(out->msg), "%s", p->text);
			snprintf(out->hint, sizeof(out->hint),
					 "pool_governor reads only the table as its install script made it; restore the column.");
			break;
	}
}

/* Reports problem at elevel (ERROR at write time, WARNING on a load). */
void
pgov_report_problem(int elevel, const PgovProblem *problem)
{
	PgovProblemText t;

	problem_text(problem, &t);
	ereport(elevel,
			(errcode(t.sqlstate),
			 errmsg_internal("%s", t.msg),
			 t.detail[0] ? errdetail_internal("%s", t.detail) : 0,
			 t.hint[0] ? errhint("%s", t.hint) : 0));
}

/* The problem in one line (message: detail), for health and the events. */
void
pgov_format_problem(const PgovProblem *problem, char *buf, size_t len)
{
	PgovProblemText t;

	problem_text(problem, &t);
	snprintf(buf, len, "%s%s%s", t.msg, t.detail[0] ? ": " : "", t.detail);
}

/* Fills *p with a problem of the reader's (code, and what it concerns);
 * returns false, for the reader to return. */
bool
pgov_problem(PgovProblem *p, PgovProblemCode code, const char *tenant,
			 const char *field, const char *text)
{
	memset(p, 0, sizeof(*p));
	p->code = code;
	if (tenant)
		strlcpy(p->tenant, tenant, sizeof(p->tenant));
	p->field = field;
	if (text)
		strlcpy(p->text, text, sizeof(p->text));
	return false;
}
