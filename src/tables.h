/*-------------------------------------------------------------------------
 *
 * tables.h
 *		Reading the configuration tables and publishing them (tables.c); its
 *		SQL-callable functions (the write trigger, reload()) need no declaration.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGOV_TABLES_H
#define PGOV_TABLES_H

#include "postgres.h"

extern void pgov_load_config(void);
extern void pgov_unpublish(void);

#endif							/* PGOV_TABLES_H */
