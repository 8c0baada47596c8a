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
	int			i;

	if (pgov_snap_check((const char *) data, size, &info) != PGOV_SNAP_OK)
		return 0;
	tenants = calloc(info.head.ntenants + 1, sizeof(PgovTenantDef));
	rules = calloc(info.head.nrules + 1, sizeof(PgovRule));
	pgov_snap_copy((const char *) data, &info, tenants, rules);
	for (i = 0; i < info.head.nrules; i++)
		if (rules[i].tenant < 0 || rules[i].tenant >= info.head.ntenants)
			abort();
	for (i = 0; i < info.head.ntenants; i++)
		if (strlen(tenants[i].name) >= PGOV_NAME_LEN)
			abort();
	free(tenants);
	free(rules);
	return 0;
}
