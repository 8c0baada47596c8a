/*
 * libFuzzer target for the policy code: the input is split into a glob, a
 * text, a CIDR and a rule's fields; nothing may crash, read out of bounds or
 * leak, and the matcher must agree with itself on a literal pattern.
 * Build and run: make fuzz (needs clang).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "match.h"
#include "policy.h"

static bool
member(void *ctx, const char *group, uint32_t group_oid)
{
	(void) ctx;
	return group_oid % 2 == 1 || strcmp(group, "g") == 0;
}

/* Cuts the next field (up to a NUL byte) from the input. */
static const char *
field(const uint8_t **data, size_t *size, char *buf, size_t bufsize)
{
	size_t		n = 0;

	while (*size > 0 && **data != 0 && n < bufsize - 1)
	{
		buf[n++] = (char) **data;
		(*data)++;
		(*size)--;
	}
	if (*size > 0)
	{
		(*data)++;
		(*size)--;
	}
	buf[n] = '\0';
	return buf;
}

/* membership by OID: the login is in group *ctx (0 = no group) */
static bool
in_group(void *ctx, const char *group, uint32_t group_oid)
{
	(void) group;
	return group_oid != 0 && group_oid == *(const uint32_t *) ctx;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		glob[80],
				text[80],
				cidr[80],
				role[80],
				db[80];
	PgovCidr	net,
				addr;
	PgovRule	rule;
	PgovProblem problem;
	PgovLogin	login;
	bool		have_addr;

	field(&data, &size, glob, sizeof(glob));
	field(&data, &size, text, sizeof(text));
	field(&data, &size, cidr, sizeof(cidr));
	field(&data, &size, role, sizeof(role));
	field(&data, &size, db, sizeof(db));

	if (pgov_glob_valid(glob))
		(void) pgov_glob_match(glob, text);
	/* a pattern without metacharacters matches exactly itself */
	if (strpbrk(text, "*?\\") == NULL && strlen(text) < PGOV_NAME_LEN &&
		!pgov_glob_match(text, text))
		abort();

	/* the admission arithmetic never admits past a cap, below nothing, or
	 * ahead of waiters */
	if (size >= 6)
	{
		int			connected = data[0] % 50;
		int			max = data[1] % 51 - 1;	/* -1 = no cap */
		int			reserved = data[2] % 50;
		int			sum_held = data[3] % 100;
		int			capacity = data[4] % 100;
		int			ahead = data[5] % 3;
		PgovDecision d = pgov_decide(connected, max, reserved, sum_held,
									 capacity, ahead);

		if (d == PGOV_ADMIT &&
			((max != PGOV_NO_CAP && connected >= max) || ahead > 0 ||
			 (connected >= reserved && sum_held >= capacity)))
			abort();
		if (d == PGOV_REFUSE_QUEUE && ahead == 0)
			abort();
	}

	have_addr = pgov_cidr_parse(text, &addr);
	if (pgov_cidr_parse(cidr, &net) && have_addr)
		(void) pgov_cidr_contains(&net, &addr);

	if (pgov_rule_build(&rule, 1, 1, role[0] ? role : NULL, db[0] ? db : NULL,
						glob[0] ? glob : NULL, cidr[0] ? cidr : NULL, &problem))
	{
		uint32_t	gid = (uint32_t) size;
		PgovRuleKey key;
		PgovRuleIndex ix = {&rule, 1, &key, 0};
		int			plain;
		int			indexed;

		rule.group_oid = gid;
		memset(&login, 0, sizeof(login));
		login.role_name = text;
		login.database_name = db;
		login.application_name = text;
		login.addr = have_addr ? &addr : NULL;
		(void) pgov_classify(&rule, 1, &login, member, NULL);

		/* the index answers as the plain classifier, the login being in
		 * the rule's group */
		ix.first_group = pgov_index_rules(&rule, 1, &key);
		plain = pgov_classify(&rule, 1, &login, in_group, &gid);
		indexed = pgov_classify_indexed(&ix, &login);
		if (indexed == PGOV_NEED_GROUPS)
		{
			login.groups = &gid;
			login.ngroups = 1;
			indexed = pgov_classify_indexed(&ix, &login);
		}
		if (indexed != plain)
			abort();
	}
	return 0;
}
