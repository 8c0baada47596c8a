/*-------------------------------------------------------------------------
 *
 * columns.h
 *		The tables' values as the loader reads them (columns.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGOV_COLUMNS_H
#define PGOV_COLUMNS_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "datatype/timestamp.h"

#include "policy.h"

/* A column the reader expects: its name and type. */
typedef struct PgovColumnSpec
{
	const char *name;
	Oid			type;
} PgovColumnSpec;

extern bool pgov_check_columns(TupleDesc desc, const char *table,
							   const PgovColumnSpec *spec, int n, PgovProblem *p);
extern bool pgov_get_int4(HeapTuple tup, TupleDesc desc, int col, int *out);
extern int64 pgov_interval_ms(const Interval *iv);
extern bool pgov_interval_negative(const Interval *iv);
extern bool pgov_interval_positive(const Interval *iv);
extern bool pgov_negative_interval(PgovProblem *p, const char *tenant,
								   const char *field, const Interval *iv);

#endif							/* PGOV_COLUMNS_H */
