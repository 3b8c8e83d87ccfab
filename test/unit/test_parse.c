/*-------------------------------------------------------------------------
 *
 * test_parse.c
 *	  Unit tests for the vector text parser (src/types/vecparse.c).
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>

#include "unit.h"

#ifndef VECX_HAVE_VECPARSE

void
test_parse(void)
{
	printf("parser: src/types/vecparse.c not present, parser tests skipped\n");
}

#else
#error parser tests not written yet
#endif
