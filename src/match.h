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

#include "policy.h"

extern bool pgov_glob_valid(const char *pattern);
extern bool pgov_glob_match(const char *pattern, const char *text);
extern bool pgov_cidr_parse(const char *text, PgovCidr *out);
extern bool pgov_cidr_contains(const PgovCidr *net, const PgovCidr *addr);

#endif							/* PGOV_MATCH_H */
