/*-------------------------------------------------------------------------
 *
 * snapshot.c
 *		The configuration in force, on disk: written at every publication,
 *		read at postmaster start, so the first login after a restart or a
 *		crash is governed by the last configuration, not by none.
 *
 * The file, pool_governor.snapshot in the data directory, is a header and
 * the configuration's canonical bytes (tenants, rules, default tenant,
 * capacity), protected by a CRC; snapformat.c writes and checks the bytes,
 * this file does the file work.  It is written as PostgreSQL writes its own
 * state files: a temporary file, fsync, durable rename.  The same canonical
 * bytes tell the worker whether the tables changed: an exact comparison.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/fd.h"

#include "settings.h"
#include "snapformat.h"
#include "snapshot.h"

#define PGOV_SNAPSHOT_FILE	"pool_governor.snapshot"
#define PGOV_SNAPSHOT_TMP	"pool_governor.snapshot.tmp"

/*
 * The canonical bytes of cfg (palloc'd): the snapshot's payload.  Equal
 * configurations give equal bytes (snapformat.c).
 */
char *
pgov_config_bytes(const PgovConfig *cfg, Size *len)
{
	char	   *buf;

	*len = pgov_snap_payload_size(cfg->ntenants, cfg->nrules, cfg->nlimits);
	buf = palloc(*len);
	pgov_snap_payload(buf, cfg->capacity, cfg->default_tenant,
					  cfg->tenants, cfg->ntenants, cfg->rules, cfg->nrules,
					  cfg->limits, cfg->nlimits);
	return buf;
}

/*
 * Writes cfg as generation, atomically.  A failure is reported at WARNING
 * and leaves the previous file: the configuration in force is not affected,
 * only what a restart would start with.
 */
void
pgov_snapshot_write(const PgovConfig *cfg, uint64 generation)
{
	char		header[PGOV_SNAP_HEADER_SIZE];
	Size		len;
	char	   *payload = pgov_config_bytes(cfg, &len);
	int			fd;

	pgov_snap_header(header, generation, payload, len);
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
	if (write(fd, header, sizeof(header)) != sizeof(header) ||
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
 * The whole file, read after its size was checked (palloc'd), or NULL with
 * *why set; NULL with *why NULL when there is no file.
 */
static char *
read_whole(Size *len, const char **why)
{
	struct stat st;
	char	   *buf;
	int			fd;

	*why = NULL;
	fd = OpenTransientFile(PGOV_SNAPSHOT_FILE, O_RDONLY | PG_BINARY);
	if (fd < 0)
	{
		if (errno != ENOENT)
			*why = "cannot be opened";
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		*why = "is not a regular file";
	else if ((uint64) st.st_size > pgov_snap_max_size())
		*why = "is damaged (larger than any snapshot can be)";
	else
	{
		*len = (Size) st.st_size;
		buf = palloc(Max(*len, 1));
		if (read(fd, buf, *len) == (ssize_t) *len)
		{
			CloseTransientFile(fd);
			return buf;
		}
		pfree(buf);
		*why = "cannot be read";
	}
	CloseTransientFile(fd);
	return NULL;
}

/*
 * Reads the file into cfg and *generation.  Returns false when there is no
 * file (problem left empty) or it cannot be used: then problem says why, and
 * the log says so once, at WARNING, naming the file.  Any damage (length,
 * magic, version, checksum, truncation, a directory, an unreadable file)
 * is "no snapshot": nothing the file says is allocated or indexed before
 * it is checked against the file's real size (snapformat.c), so the file
 * can never keep the server from starting.
 */
static bool
read_snapshot(PgovConfig *cfg, uint64 *generation, char *problem,
			  size_t problem_len, int elevel)
{
	PgovSnapInfo info;
	PgovSnapStatus status;
	const char *why;
	Size		len = 0;
	char	   *file = read_whole(&len, &why);

	if (file == NULL && why == NULL)
		return false;
	if (file != NULL)
	{
		status = pgov_snap_check(file, len, &info);
		if (status == PGOV_SNAP_OK)
		{
			memset(cfg, 0, sizeof(*cfg));
			cfg->ntenants = info.head.ntenants;
			cfg->nrules = info.head.nrules;
			cfg->capacity = info.head.capacity;
			strlcpy(cfg->default_tenant, info.head.default_tenant, NAMEDATALEN);
			cfg->tenants = palloc0(sizeof(PgovTenantDef) * Max(cfg->ntenants, 1));
			cfg->rules = palloc0(sizeof(PgovRule) * Max(cfg->nrules, 1));
			cfg->nlimits = info.nlimits;
			cfg->limits = palloc0(sizeof(PgovNodeLimit) * Max(cfg->nlimits, 1));
			pgov_snap_copy(file, &info, cfg->tenants, cfg->rules, cfg->limits);
			*generation = info.generation;
			pfree(file);
			return true;
		}
		why = pgov_snap_status_text(status);
		pfree(file);
	}
	snprintf(problem, problem_len,
			 "the configuration snapshot \"%s\" %s; no limits are enforced until the worker loads the tables",
			 PGOV_SNAPSHOT_FILE, why);
	ereport(elevel,
			(errmsg("pool_governor: %s", problem),
			 errhint("The worker rewrites the file at its next load of pool_governor's tables; remove it if it is in the way.")));
	return false;
}

bool
pgov_snapshot_read(PgovConfig *cfg, uint64 *generation, char *problem,
				   size_t problem_len)
{
	return read_snapshot(cfg, generation, problem, problem_len, WARNING);
}

/*
 * The canonical bytes of the configuration in the file, for the worker's
 * change detection after a restart (NULL when there is none).  A damaged
 * file was reported at start: it is not reported again.
 */
char *
pgov_snapshot_bytes(Size *len)
{
	PgovConfig	cfg;
	uint64		generation;
	char		problem[PGOV_PROBLEM_LEN];
	char	   *bytes;

	if (!read_snapshot(&cfg, &generation, problem, sizeof(problem), DEBUG1))
		return NULL;
	bytes = pgov_config_bytes(&cfg, len);
	pgov_free_config(&cfg);
	return bytes;
}
