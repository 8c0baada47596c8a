/*
 * check.h: the tiny assertion harness of the plain C unit tests.  Each test
 * program counts passes and failures and ends with "N passed, N failed".
 */
#ifndef PGOV_CHECK_H
#define PGOV_CHECK_H

#include <stdio.h>

static int	passed = 0;
static int	failed = 0;

#define CHECK(cond) \
	do { \
		if (cond) \
			passed++; \
		else \
		{ \
			failed++; \
			fprintf(stderr, "FAILED %s:%d: %s\n", __FILE__, __LINE__, #cond); \
		} \
	} while (0)

/* Prints the closing line; the program's exit status. */
static inline int
check_summary(void)
{
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}

#endif
