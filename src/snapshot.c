/*-------------------------------------------------------------------------
 *
 * snapshot.c
 *		The configuration in force, on disk: written at every publication,
 *		read at postmaster start, so the first login after a restart or a
 *		crash is governed by the last configuration, not by none.
 *
 * The file, pool_governor.snapshot in the data directory, is a header and
 * the configuration's canonical bytes (tenants, rules, default tenant,
 * capacity), protected by a CRC.  It is written as PostgreSQL writes its own
 * state files: a temporary file, fsync, durable rename.  The same canonical
 * bytes tell the worker whether the tables changed: an exact comparison.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <unistd.h>

#include "port/pg_crc32c.h"
#include "storage/fd.h"

#include "pool_governor.h"

#define PGOV_SNAPSHOT_FILE	"pool_governor.snapshot"
#define PGOV_SNAPSHOT_TMP	"pool_governor.snapshot.tmp"
#define PGOV_SNAPSHOT_MAGIC 0x564f4750	/* "PGOV" */
#define PGOV_SNAPSHOT_FORMAT 1

typedef struct SnapshotHeader
{
	uint32		magic;
	uint32		format;
	uint32		tenant_size;	/* layout of what follows */
	uint32		rule_size;
	uint64		generation;
	uint32		payload_len;
	pg_crc32c	crc;			/* of the payload */
} SnapshotHeader;

typedef struct PayloadHead
{
	int32		ntenants;
	int32		nrules;
	int32		capacity;
	char		default_tenant[NAMEDATALEN];
} PayloadHead;

/*
 * The canonical bytes of cfg (palloc'd).  Everything in them was zeroed
 * before it was filled, padding included, so equal configurations give
 * equal bytes.
 */
char *
pgov_config_bytes(const PgovConfig *cfg, Size *len)
{
	PayloadHead head;
	Size		tsize = sizeof(PgovTenantDef) * cfg->ntenants;
	Size		rsize = sizeof(PgovRule) * cfg->nrules;
	char	   *buf;

	memset(&head, 0, sizeof(head));
	head.ntenants = cfg->ntenants;
	head.nrules = cfg->nrules;
	head.capacity = cfg->capacity;
	strlcpy(head.default_tenant, cfg->default_tenant, NAMEDATALEN);
	*len = sizeof(head) + tsize + rsize;
	buf = palloc(*len);
	memcpy(buf, &head, sizeof(head));
	if (tsize)
		memcpy(buf + sizeof(head), cfg->tenants, tsize);
	if (rsize)
		memcpy(buf + sizeof(head) + tsize, cfg->rules, rsize);
	return buf;
}

static bool
config_from_bytes(const char *buf, Size len, PgovConfig *cfg)
{
	PayloadHead head;
	Size		tsize;
	Size		rsize;

	if (len < sizeof(head))
		return false;
	memcpy(&head, buf, sizeof(head));
	if (head.ntenants < 0 || head.nrules < 0 ||
		head.ntenants > PGOV_MAX_TENANTS_LIMIT || head.nrules > 10000000)
		return false;
	tsize = sizeof(PgovTenantDef) * head.ntenants;
	rsize = sizeof(PgovRule) * head.nrules;
	if (len != sizeof(head) + tsize + rsize)
		return false;
	memset(cfg, 0, sizeof(*cfg));
	cfg->ntenants = head.ntenants;
	cfg->nrules = head.nrules;
	cfg->capacity = head.capacity;
	memcpy(cfg->default_tenant, head.default_tenant, NAMEDATALEN);
	cfg->default_tenant[NAMEDATALEN - 1] = '\0';
	cfg->tenants = palloc0(Max(tsize, 1));
	cfg->rules = palloc0(Max(rsize, 1));
	memcpy(cfg->tenants, buf + sizeof(head), tsize);
	memcpy(cfg->rules, buf + sizeof(head) + tsize, rsize);
	return true;
}

/*
 * Writes cfg as generation, atomically.  A failure is reported at WARNING
 * and leaves the previous file: the configuration in force is not affected,
 * only what a restart would start with.
 */
void
pgov_snapshot_write(const PgovConfig *cfg, uint64 generation)
{
	SnapshotHeader h;
	Size		len;
	char	   *payload = pgov_config_bytes(cfg, &len);
	int			fd;

	memset(&h, 0, sizeof(h));
	h.magic = PGOV_SNAPSHOT_MAGIC;
	h.format = PGOV_SNAPSHOT_FORMAT;
	h.tenant_size = sizeof(PgovTenantDef);
	h.rule_size = sizeof(PgovRule);
	h.generation = generation;
	h.payload_len = (uint32) len;
	INIT_CRC32C(h.crc);
	COMP_CRC32C(h.crc, payload, len);
	FIN_CRC32C(h.crc);

	fd = OpenTransientFile(PGOV_SNAPSHOT_TMP, O_WRONLY | O_CREAT | O_TRUNC | PG_BINARY);
	if (fd < 0)
	{
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("could not create file \"%s\": %m", PGOV_SNAPSHOT_TMP)));
		pfree(payload);
		return;
	}
	errno = 0;
	if (write(fd, &h, sizeof(h)) != sizeof(h) ||
		write(fd, payload, len) != (ssize_t) len)
	{
		if (errno == 0)
			errno = ENOSPC;
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("could not write file \"%s\": %m", PGOV_SNAPSHOT_TMP)));
		CloseTransientFile(fd);
		pfree(payload);
		return;
	}
	if (pg_fsync(fd) != 0)
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("could not fsync file \"%s\": %m", PGOV_SNAPSHOT_TMP)));
	CloseTransientFile(fd);
	(void) durable_rename(PGOV_SNAPSHOT_TMP, PGOV_SNAPSHOT_FILE, WARNING);
	pfree(payload);
}

/* The configuration is gone (DROP EXTENSION): so is its file. */
void
pgov_snapshot_remove(void)
{
	(void) durable_unlink(PGOV_SNAPSHOT_FILE, LOG);
}

/*
 * Reads the file into cfg and *generation.  Returns false when there is no
 * file (problem left empty) or it cannot be used (problem says why, and the
 * log says so at WARNING).
 */
bool
pgov_snapshot_read(PgovConfig *cfg, uint64 *generation, char *problem,
				   size_t problem_len)
{
	SnapshotHeader h;
	pg_crc32c	crc;
	char	   *payload;
	int			fd;
	const char *why = NULL;

	fd = OpenTransientFile(PGOV_SNAPSHOT_FILE, O_RDONLY | PG_BINARY);
	if (fd < 0)
	{
		if (errno != ENOENT)
			why = "cannot be opened";
		else
			return false;
	}
	else if (read(fd, &h, sizeof(h)) != sizeof(h) ||
			 h.magic != PGOV_SNAPSHOT_MAGIC)
		why = "is not a pool_governor snapshot";
	else if (h.format != PGOV_SNAPSHOT_FORMAT ||
			 h.tenant_size != sizeof(PgovTenantDef) ||
			 h.rule_size != sizeof(PgovRule))
		why = "was written by another version of pool_governor";
	else
	{
		payload = palloc(Max(h.payload_len, 1));
		if (read(fd, payload, h.payload_len) != (ssize_t) h.payload_len)
			why = "is truncated";
		else
		{
			INIT_CRC32C(crc);
			COMP_CRC32C(crc, payload, h.payload_len);
			FIN_CRC32C(crc);
			if (!EQ_CRC32C(crc, h.crc))
				why = "is damaged (checksum mismatch)";
			else if (!config_from_bytes(payload, h.payload_len, cfg))
				why = "is damaged (bad layout)";
		}
		pfree(payload);
	}
	if (fd >= 0)
		CloseTransientFile(fd);

	if (why)
	{
		snprintf(problem, problem_len,
				 "the configuration snapshot \"%s\" %s; no limits are enforced until the worker loads the tables",
				 PGOV_SNAPSHOT_FILE, why);
		ereport(WARNING,
				(errmsg("pool_governor: %s", problem)));
		return false;
	}
	*generation = h.generation;
	return true;
}

/*
 * The canonical bytes of the configuration in the file, for the worker's
 * change detection after a restart (NULL when there is none).
 */
char *
pgov_snapshot_bytes(Size *len)
{
	PgovConfig	cfg;
	uint64		generation;
	char		problem[PGOV_PROBLEM_LEN];
	char	   *bytes;

	if (!pgov_snapshot_read(&cfg, &generation, problem, sizeof(problem)))
		return NULL;
	bytes = pgov_config_bytes(&cfg, len);
	pfree(cfg.tenants);
	pfree(cfg.rules);
	return bytes;
}
