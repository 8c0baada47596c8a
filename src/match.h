/*-------------------------------------------------------------------------
 *
 * match.h
 *		Globs and client addresses: parsing and matching (match.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGOV_MATCH_H
#define PGOV_MATCH_H

#include <stdbool.h>
#include <stdint.h>

/* Same as PostgreSQL's NAMEDATALEN: role, database and application names
 * (a glob is one: application_name is cut at NAMEDATALEN - 1). */
#define PGOV_NAME_LEN 64

/* An address or a network: family 4 or 6, prefix length in bits. */
typedef struct PgovCidr
{
	uint8_t		family;			/* 4 or 6; 0 = none */
	uint8_t		bits;			/* prefix length */
	uint8_t		addr[16];		/* network byte order; 4 bytes used for v4 */
} PgovCidr;

extern bool pgov_glob_valid(const char *pattern);
extern bool pgov_glob_match(const char *pattern, const char *text);
extern bool pgov_cidr_parse(const char *text, PgovCidr *out);
extern bool pgov_cidr_contains(const PgovCidr *net, const PgovCidr *addr);

#endif							/* PGOV_MATCH_H */
