/*-------------------------------------------------------------------------
 *
 * problems.h
 *		A configuration's problems put into words (problems.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGOV_PROBLEMS_H
#define PGOV_PROBLEMS_H

#include "postgres.h"

#include "policy.h"

extern bool pgov_problem(PgovProblem *p, PgovProblemCode code,
						 const char *tenant, const char *field,
						 const char *text);
extern void pgov_report_problem(int elevel, const PgovProblem *problem);
extern void pgov_format_problem(const PgovProblem *problem, char *buf,
								size_t len);

#endif							/* PGOV_PROBLEMS_H */
