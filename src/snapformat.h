/*-------------------------------------------------------------------------
 *
 * snapformat.h
 *		The bytes of pool_governor.snapshot: how a configuration is written
 *		and how a file is checked before anything is read out of it.
 *
 * Like policy.h, nothing here includes a PostgreSQL header: the unit test
 * feeds the checker every truncation and every single-byte corruption of a
 * real snapshot, and a libFuzzer target feeds it anything.  snapshot.c
 * does the file work (open, fstat, read, write, fsync, rename) around it.
 *
 * The file is a 32-byte header and a payload:
 *
 *		offset  0  uint32 magic "PGOV"
 *		        4  uint32 format (6; 1 to 5 are still read)
 *		        8  uint32 sizeof(PgovTenantDef)   layout of the payload
 *		       12  uint32 sizeof(PgovRule)
 *		       16  uint64 generation
 *		       24  uint32 payload length
 *		       28  uint32 CRC-32C of bytes 0-27 and the payload (format 1:
 *		                  of the payload alone)
 *
 * Formats 1 and 2 (pool_governor 1.0 to 1.3) hold tenants without weight
 * and drain (PgovTenantDefV2); they are read with weight 1, drain
 * 'natural' and drain_grace 30 s, the columns' defaults.
 *		       32  payload: PgovSnapHead, tenants[ntenants], rules[nrules],
 *		                  and from format 4 int32 nlimits, int32 0,
 *		                  node_limits[nlimits] (PgovNodeLimit)
 *
 * Format 3 (pool_governor 1.4) has no node_limits: read as none.  Formats
 * 3 and 4 (1.4, 1.5) hold tenants without refusal_sqlstate
 * (PgovTenantDefV4): read with 53300, the column's default.  Format 6
 * (1.7) has format 5's layout, its zero fields now the cluster quota
 * (PgovTenantDef.cluster_quota) and the floors (PgovNodeLimit.cluster_floor):
 * in a file of format 5 or before they must be zero (none).
 *
 * Every number in the header is checked against the file's real length
 * before the caller allocates anything, and every index and string in the
 * payload before it is used: a damaged file is "no snapshot", never a crash
 * and never an allocation the header asks for.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGOV_SNAPFORMAT_H
#define PGOV_SNAPFORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"

#define PGOV_SNAP_MAGIC		0x564f4750	/* "PGOV" */
#define PGOV_SNAP_FORMAT	6
#define PGOV_SNAP_HEADER_SIZE 32

/* Upper bounds of what a snapshot may hold (pool_governor.max_tenants and
 * max_rules can be set no higher). */
#define PGOV_SNAP_MAX_TENANTS 100000
#define PGOV_SNAP_MAX_RULES 100000
#define PGOV_SNAP_MAX_LIMITS PGOV_MAX_NODE_LIMITS

/* A tenant as formats 1 and 2 wrote it. */
typedef struct PgovTenantDefV2
{
	char		name[PGOV_NAME_LEN];
	int			max_connections;
	int			reserved_connections;
	int			max_waiting;
	int64_t		wait_timeout_ms;
} PgovTenantDefV2;

/* A tenant as formats 3 and 4 wrote it. */
typedef struct PgovTenantDefV4
{
	char		name[PGOV_NAME_LEN];
	int			max_connections;
	int			reserved_connections;
	int			max_waiting;
	int64_t		wait_timeout_ms;
	int32_t		weight;
	int32_t		drain;
	int64_t		drain_grace_ms;
} PgovTenantDefV4;

/* drain_grace of a tenant read from a format 1 or 2 file. */
#define PGOV_SNAP_DEFAULT_GRACE_MS 30000

/* The payload's head: the counts, the capacity validated against, and the
 * default tenant's name. */
typedef struct PgovSnapHead
{
	int32_t		ntenants;
	int32_t		nrules;
	int32_t		capacity;
	char		default_tenant[PGOV_NAME_LEN];
} PgovSnapHead;

typedef enum PgovSnapStatus
{
	PGOV_SNAP_OK = 0,
	PGOV_SNAP_SHORT,			/* shorter than a header */
	PGOV_SNAP_NOT_SNAPSHOT,		/* wrong magic */
	PGOV_SNAP_OTHER_VERSION,	/* another format or layout */
	PGOV_SNAP_BAD_LENGTH,		/* the header's length is not the file's */
	PGOV_SNAP_BAD_CHECKSUM,
	PGOV_SNAP_BAD_LAYOUT		/* counts, indexes or strings out of range */
} PgovSnapStatus;

/* What a checked file holds; the arrays are copied out by pgov_snap_copy. */
typedef struct PgovSnapInfo
{
	uint32_t	format;
	uint64_t	generation;
	PgovSnapHead head;
	int32_t		nlimits;
} PgovSnapInfo;

extern uint32_t pgov_crc32c(uint32_t crc, const void *data, size_t len);
extern size_t pgov_snap_max_size(void);
extern size_t pgov_snap_payload_size(int ntenants, int nrules, int nlimits);
extern void pgov_snap_payload(char *buf, int capacity,
							  const char *default_tenant,
							  const PgovTenantDef *tenants, int ntenants,
							  const PgovRule *rules, int nrules,
							  const PgovNodeLimit *limits, int nlimits);
extern void pgov_snap_header(char *header, uint64_t generation,
							 const char *payload, size_t payload_len);
extern PgovSnapStatus pgov_snap_check(const char *file, size_t len,
									  PgovSnapInfo *info);
extern void pgov_snap_copy(const char *file, const PgovSnapInfo *info,
						   PgovTenantDef *tenants, PgovRule *rules,
						   PgovNodeLimit *limits);
extern const char *pgov_snap_status_text(PgovSnapStatus status);

#endif							/* PGOV_SNAPFORMAT_H */
