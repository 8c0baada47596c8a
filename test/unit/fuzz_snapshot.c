/*
 * libFuzzer target for the snapshot file's checker: any bytes may be a
 * pool_governor.snapshot left in a data directory.  Nothing may crash or
 * read out of bounds, and a file the checker accepts must be copyable and
 * hold only what the loader can index.  Build and run: make fuzz (clang).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "snapformat.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	PgovSnapInfo info;
	PgovTenantDef *tenants;
	PgovRule   *rules;
	PgovNodeLimit *limits;
	int			i;

	if (pgov_snap_check((const char *) data, size, &info) != PGOV_SNAP_OK)
		return 0;
	tenants = calloc(info.head.ntenants + 1, sizeof(PgovTenantDef));
	rules = calloc(info.head.nrules + 1, sizeof(PgovRule));
	limits = calloc(info.nlimits + 1, sizeof(PgovNodeLimit));
	pgov_snap_copy((const char *) data, &info, tenants, rules, limits);
	for (i = 0; i < info.nlimits; i++)
		if (limits[i].tenant < 0 || limits[i].tenant >= info.head.ntenants ||
			strlen(limits[i].node) >= PGOV_NAME_LEN)
			abort();
	for (i = 0; i < info.head.nrules; i++)
		if (rules[i].tenant < 0 || rules[i].tenant >= info.head.ntenants)
			abort();
	for (i = 0; i < info.head.ntenants; i++)
		if (strlen(tenants[i].name) >= PGOV_NAME_LEN)
			abort();
	free(tenants);
	free(rules);
	free(limits);
	return 0;
}
