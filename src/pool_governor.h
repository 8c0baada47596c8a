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
extern int	pgov_event_log_size;
extern const char *pgov_mode_name(int mode);

/* admission.c */
extern void pgov_install_auth_hook(void);
extern int	pgov_classify_who(const PgovWho *who, int64 *rule_id);

/* config.c */
extern bool pgov_read_config(PgovConfig *cfg, PgovProblem *problem);
extern void pgov_report_problem(int elevel, const PgovProblem *problem);
extern void pgov_format_problem(const PgovProblem *problem, char *buf,
								size_t len);
extern uint64 pgov_load_config(int elevel, bool only_if_changed);

/* worker.c */
extern void pgov_register_worker(void);
PGDLLEXPORT void pgov_worker_main(Datum arg);

#endif							/* PGOV_POOL_GOVERNOR_H */
