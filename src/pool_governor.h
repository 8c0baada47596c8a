/*-------------------------------------------------------------------------
 *
 * pool_governor.h
 *		Settings and entry points shared between pool_governor's modules,
 *		grouped by the file that defines them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGOV_POOL_GOVERNOR_H
#define PGOV_POOL_GOVERNOR_H

#include "postgres.h"

#include "fmgr.h"

#include "configuration.h"

typedef enum PgovMode
{
	PGOV_MODE_ENFORCE,
	PGOV_MODE_MONITOR,
	PGOV_MODE_OFF
} PgovMode;

/* pool_governor.c: settings */
extern int	pgov_mode;
extern char *pgov_database;
extern int	pgov_capacity_setting;
extern char *pgov_default_tenant;
extern char *pgov_node_name;
extern bool pgov_exempt_superusers;
extern int	pgov_max_tenants;
extern int	pgov_max_rules;
extern int	pgov_sample_interval_ms;
extern int	pgov_health_window_s;
extern int	pgov_history_size;
extern int	pgov_history_tenants;
extern int	pgov_event_log_size;
extern int	pgov_refusal_pacing_ms;
extern int	pgov_drain_test_pause_ms;
extern const char *pgov_mode_name(int mode);

/* Upper bounds of pool_governor.max_tenants and max_rules. */
#define PGOV_MAX_TENANTS_LIMIT 100000
#define PGOV_MAX_RULES_LIMIT 100000

/* admission.c */
extern void pgov_install_auth_hook(void);

/* config.c */
extern void pgov_load_config(void);
extern void pgov_unpublish(void);

/* snapshot.c */
extern char *pgov_config_bytes(const PgovConfig *cfg, Size *len);
extern void pgov_snapshot_write(const PgovConfig *cfg, uint64 generation);
extern void pgov_snapshot_remove(void);
extern bool pgov_snapshot_read(PgovConfig *cfg, uint64 *generation,
							   char *problem, size_t problem_len);
extern char *pgov_snapshot_bytes(Size *len);

/* shmem.c */
extern void pgov_shmem_request(void);
extern void pgov_shmem_startup(void);

/* worker.c */
extern void pgov_register_worker(void);
PGDLLEXPORT void pgov_worker_main(Datum arg);

#endif							/* PGOV_POOL_GOVERNOR_H */
