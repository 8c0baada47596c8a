/*-------------------------------------------------------------------------
 *
 * columns.c
 *		The tables' values as the loader reads them (tables.c): the columns'
 *		types checked against what the install scripts made, int4 and
 *		interval values, a negative interval put in the loader's words.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "columns.h"
#include "problems.h"

/* Are the columns what the install script made?  Else a problem. */
bool
pgov_check_columns(TupleDesc desc, const char *table, const PgovColumnSpec *spec,
			  int n, PgovProblem *p)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		Oid			type = SPI_gettypeid(desc, i + 1);

		if (type != spec[i].type)
		{
			char		text[128];

			snprintf(text, sizeof(text),
					 "column \"%s\" of pool_governor.%s has type %s, expected %s",
					 spec[i].name, table, format_type_be(type),
					 format_type_be(spec[i].type));
			return pgov_problem(p, PGOV_BAD_COLUMN, NULL, spec[i].name, text);
		}
	}
	return true;
}

bool
pgov_get_int4(HeapTuple tup, TupleDesc desc, int col, int *out)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);

	if (!isnull)
		*out = DatumGetInt32(d);
	return !isnull;
}

/* An interval in milliseconds, saturated: months count 30 days. */
int64
pgov_interval_ms(const Interval *iv)
{
	double		ms = ((double) iv->month * DAYS_PER_MONTH + iv->day) *
		(double) SECS_PER_DAY * 1000.0 + (double) iv->time / 1000.0;

	if (ms >= (double) PG_INT64_MAX)
		return PG_INT64_MAX;
	if (ms <= (double) PG_INT64_MIN)
		return PG_INT64_MIN;
	return (int64) ms;
}

/* Is an interval shorter than zero (months count 30 days)?  pgov_interval_ms()
 * alone cannot tell: less than a millisecond below zero rounds to 0. */
bool
pgov_interval_negative(const Interval *iv)
{
	return ((double) iv->month * DAYS_PER_MONTH + iv->day) *
		(double) USECS_PER_DAY + (double) iv->time < 0;
}

/* A negative interval column: refused with its value in milliseconds,
 * to the microsecond when it is less than one below zero. */
bool
pgov_negative_interval(PgovProblem *p, const char *tenant, const char *field,
				  const Interval *iv)
{
	int64		ms = pgov_interval_ms(iv);
	char		text[64];

	text[0] = '\0';
	if (ms == 0)
		snprintf(text, sizeof(text), "%.3f ms",
				 (((double) iv->month * DAYS_PER_MONTH + iv->day) *
				  (double) USECS_PER_DAY + (double) iv->time) / 1000.0);
	pgov_problem(p, PGOV_NEGATIVE_VALUE, tenant, field, text[0] ? text : NULL);
	p->value = ms;
	return false;
}

/* Is an interval longer than zero (months count 30 days)? */
bool
pgov_interval_positive(const Interval *iv)
{
	return ((double) iv->month * DAYS_PER_MONTH + iv->day) *
		(double) USECS_PER_DAY + (double) iv->time > 0;
}
