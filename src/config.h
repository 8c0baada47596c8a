/*-------------------------------------------------------------------------
 *
 * config.h
 *		Reading the configuration tables and publishing them (config.c); its
 *		SQL-callable functions (the write trigger, reload()) need no declaration.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGOV_CONFIG_H
#define PGOV_CONFIG_H

#include "postgres.h"

extern void pgov_load_config(void);
extern void pgov_unpublish(void);

#endif							/* PGOV_CONFIG_H */
