/*-------------------------------------------------------------------------
 *
 * snapshot.h
 *		The configuration on disk, read at postmaster start (snapshot.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGOV_SNAPSHOT_H
#define PGOV_SNAPSHOT_H

#include "postgres.h"

#include "configuration.h"

extern char *pgov_config_bytes(const PgovConfig *cfg, Size *len);
extern void pgov_snapshot_write(const PgovConfig *cfg, uint64 generation);
extern void pgov_snapshot_remove(void);
extern bool pgov_snapshot_read(PgovConfig *cfg, uint64 *generation,
							   char *problem, size_t problem_len);
extern char *pgov_snapshot_bytes(Size *len);

#endif							/* PGOV_SNAPSHOT_H */
