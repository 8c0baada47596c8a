/*-------------------------------------------------------------------------
 *
 * settings.h
 *		pool_governor's settings, as every module reads them (settings.c
 *		defines them).  The ground floor: it includes no module's header.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGOV_SETTINGS_H
#define PGOV_SETTINGS_H

#include "postgres.h"

typedef enum PgovMode
{
	PGOV_MODE_ENFORCE,
	PGOV_MODE_MONITOR,
	PGOV_MODE_OFF
} PgovMode;

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
extern char *pgov_etcd_endpoints;
extern char *pgov_cluster_name;
extern int	pgov_lease_ttl_s;

/* pool_governor.etcd_endpoints: how many, how long each */
#define PGOV_ETCD_MAX_ENDPOINTS 8
#define PGOV_ETCD_URL_LEN 255
extern const char *pgov_mode_name(int mode);

/* Upper bounds of pool_governor.max_tenants and max_rules. */
#define PGOV_MAX_TENANTS_LIMIT 100000
#define PGOV_MAX_RULES_LIMIT 100000

extern void pgov_define_settings(void);

#endif							/* PGOV_SETTINGS_H */
