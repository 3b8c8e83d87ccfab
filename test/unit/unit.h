/*-------------------------------------------------------------------------
 *
 * unit.h
 *	  Minimal check counting shared by the unit test files.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECX_UNIT_H
#define VECX_UNIT_H

#include <stdio.h>

extern long unit_passed;
extern long unit_failed;

/* Count one check; print the first failures with their context. */
#define CHECK(cond, ...) \
	do { \
		if (cond) \
			unit_passed++; \
		else \
		{ \
			if (unit_failed++ < 50) \
			{ \
				fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
				fprintf(stderr, __VA_ARGS__); \
				fputc('\n', stderr); \
			} \
		} \
	} while (0)

extern void test_parse(void);
extern void test_popcount(void);

#endif
