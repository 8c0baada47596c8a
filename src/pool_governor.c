/*-------------------------------------------------------------------------
 *
 * pool_governor.c
 *		Module load: _PG_init, and the shared-memory hooks it installs.  It
 *		asks settings.c to define the settings, shmem.c to size and attach
 *		shared memory, admission.c to install the authentication hook and
 *		worker.c to register the worker.  Nothing includes this file's
 *		symbols: it has no header.
 *
 * pool_governor must be in shared_preload_libraries: it sizes shared memory
 * at server start, and every backend must run its authentication hook, so
 * loading it any other way is refused.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "storage/ipc.h"

#include "admission.h"
#include "compat.h"
#include "settings.h"
#include "shmem.h"
#include "worker.h"

PGOV_MODULE_MAGIC;

void		_PG_init(void);

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void
pgov_shmem_request_hook(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	pgov_shmem_request();
}

static void
pgov_shmem_startup_hook(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	pgov_shmem_startup();
}

void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pool_governor must be loaded via shared_preload_libraries"),
				 errhint("Add pool_governor to shared_preload_libraries in postgresql.conf and restart the server.")));

	pgov_define_settings();

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = pgov_shmem_request_hook;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = pgov_shmem_startup_hook;
	pgov_install_auth_hook();

	pgov_register_worker();
}
