/*-------------------------------------------------------------------------
 *
 * views.h
 *		What the set-returning functions of views.c and status.c share:
 *		the check that the library is loaded and the columns several views
 *		build alike (views.c).  Their SQL-callable functions need no
 *		declaration.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGOV_VIEWS_H
#define PGOV_VIEWS_H

#include "postgres.h"

#include "datatype/timestamp.h"

#include "seats.h"

extern void pgov_require_loaded(void);
extern Datum pgov_text_or_null(const char *s, bool *isnull);
extern Datum pgov_ts_or_null(TimestampTz ts, bool *isnull);
extern void pgov_put_counters(const PgovTenant *t, Datum *v, bool *nulls,
							  int *c);
extern const char *pgov_limits_from_text(int from, int role,
										 const char *node_name);

#endif							/* PGOV_VIEWS_H */
