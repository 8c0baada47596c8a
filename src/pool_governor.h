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

#include <sys/socket.h>

#include "fmgr.h"

#include "state.h"

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
extern bool pgov_exempt_superusers;
extern int	pgov_max_tenants;
extern int	pgov_max_rules;
extern int	pgov_sample_interval_ms;
extern int	pgov_health_window_s;
extern int	pgov_history_size;
extern int	pgov_history_tenants;
extern int	pgov_event_log_size;
extern const char *pgov_mode_name(int mode);

/* admission.c */
extern void pgov_install_auth_hook(void);
extern void pgov_role_groups(Oid roleid, PgovGroups *groups);
extern void pgov_who_set_addr(PgovWho *who, const struct sockaddr_storage *ss);

/* config.c */
extern PgovProblemLevel pgov_fit_config(PgovConfig *cfg, char *why,
										size_t len);
extern void pgov_load_config(void);
extern void pgov_unpublish(void);

/* snapshot.c */
extern char *pgov_config_bytes(const PgovConfig *cfg, Size *len);
extern void pgov_snapshot_write(const PgovConfig *cfg, uint64 generation);
extern void pgov_snapshot_remove(void);
extern bool pgov_snapshot_read(PgovConfig *cfg, uint64 *generation,
							   char *problem, size_t problem_len);
extern char *pgov_snapshot_bytes(Size *len);

/* worker.c */
extern void pgov_register_worker(void);
PGDLLEXPORT void pgov_worker_main(Datum arg);

#endif							/* PGOV_POOL_GOVERNOR_H */
