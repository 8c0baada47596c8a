/*-------------------------------------------------------------------------
 *
 * match.c
 *		Globs (rules' application_name) and client addresses (rules'
 *		client_addr, CIDR): parsing and matching.  Pure, like policy.c,
 *		which matches rules with them: built alone by the unit tests and
 *		fuzzed.
 *
 *-------------------------------------------------------------------------
 */
#include "match.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

/*
 * A glob is made of literal characters, '*' (any run, possibly empty), '?'
 * (any one character) and '\' which makes the next character literal.  The
 * only malformed glob is one that ends in a lone '\', or one too long to
 * have come from a client (application_name is cut at NAMEDATALEN - 1).
 * Non-ASCII bytes are refused apart (pgov_glob_ascii): PostgreSQL turns
 * every non-ASCII byte of a client's application_name into '?', so such a
 * pattern could never match what it says.
 */
bool
pgov_glob_valid(const char *pattern)
{
	size_t		len = strlen(pattern);
	size_t		i;

	if (len >= PGOV_NAME_LEN)
		return false;
	for (i = 0; i < len; i++)
	{
		if (pattern[i] == '\\')
		{
			if (i + 1 == len)
				return false;
			i++;
		}
	}
	return true;
}

/*
 * Iterative matcher with one backtrack point: linear in practice, never
 * exponential whatever the pattern, which matters because it runs on every
 * login.
 */
bool
pgov_glob_match(const char *pattern, const char *text)
{
	const char *p = pattern;
	const char *t = text;
	const char *star_p = NULL;
	const char *star_t = NULL;

	while (*t)
	{
		if (*p == '*')
		{
			while (*p == '*')
				p++;
			if (*p == '\0')
				return true;
			star_p = p;
			star_t = t;
			continue;
		}
		if (*p == '?' ||
			(*p == '\\' && p[1] != '\0' && p[1] == *t) ||
			(*p != '\\' && *p != '\0' && *p == *t))
		{
			p += (*p == '\\') ? 2 : 1;
			t++;
			continue;
		}
		if (star_p == NULL)
			return false;
		/* let the last '*' swallow one more character and retry */
		p = star_p;
		t = ++star_t;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

/* An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is treated as IPv4. */
static void
cidr_normalize(PgovCidr *c)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (c->family == 6 && memcmp(c->addr, mapped, 12) == 0 && c->bits >= 96)
	{
		memmove(c->addr, c->addr + 12, 4);
		memset(c->addr + 4, 0, 12);
		c->family = 4;
		c->bits -= 96;
	}
}

/*
 * Parses "a.b.c.d[/n]" or an IPv6 address "[/n]", as PostgreSQL prints the
 * cidr and inet types.  Without "/n" the prefix covers the whole address.
 */
bool
pgov_cidr_parse(const char *text, PgovCidr *out)
{
	char		buf[64];
	char	   *slash;
	long		bits;
	int			maxbits;

	if (text == NULL || strlen(text) >= sizeof(buf))
		return false;
	strcpy(buf, text);
	memset(out, 0, sizeof(*out));

	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';

	if (inet_pton(AF_INET, buf, out->addr) == 1)
	{
		out->family = 4;
		maxbits = 32;
	}
	else if (inet_pton(AF_INET6, buf, out->addr) == 1)
	{
		out->family = 6;
		maxbits = 128;
	}
	else
		return false;

	if (slash)
	{
		char	   *end;

		if (slash[1] == '\0')
			return false;
		bits = strtol(slash + 1, &end, 10);
		if (*end != '\0' || bits < 0 || bits > maxbits)
			return false;
	}
	else
		bits = maxbits;
	out->bits = (uint8_t) bits;
	cidr_normalize(out);
	return true;
}

/* Does network net contain address addr?  Families must agree. */
bool
pgov_cidr_contains(const PgovCidr *net, const PgovCidr *addr)
{
	PgovCidr	a = *addr;
	int			full;
	int			rest;

	cidr_normalize(&a);
	if (net->family == 0 || net->family != a.family)
		return false;
	full = net->bits / 8;
	rest = net->bits % 8;
	if (memcmp(net->addr, a.addr, full) != 0)
		return false;
	if (rest)
	{
		uint8_t		mask = (uint8_t) (0xff << (8 - rest));

		if ((net->addr[full] & mask) != (a.addr[full] & mask))
			return false;
	}
	return true;
}
