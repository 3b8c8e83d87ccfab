/*-------------------------------------------------------------------------
 *
 * vecx_range.h
 *	  Range search: "every row within distance r" as an index search key.
 *
 * The opclasses of vector know one search operator per metric (strategy
 * VECX_RANGE_STRATEGY), vector <op> vector_range, true when the distance
 * from the row to the range's query is below its radius.  The functions
 * l2_within(v, q, r) etc. are rewritten into it by their planner support
 * function (src/vecx_range.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECX_RANGE_H
#define VECX_RANGE_H

#include "access/skey.h"
#include "nodes/pathnodes.h"

#define VECX_RANGE_STRATEGY 2

/* The range keys of one scan, split from the filter-column keys */
typedef struct VecxRange
{
	int			nkeys;			/* range keys (0: none) */
	bool		empty;			/* a NULL key, query or radius: no row */
	Datum		query;			/* the first key's query (a vector datum) */
	double		radius;			/* and radius */
} VecxRange;

extern void VecxRangeSplit(ScanKey keys, int nkeys, VecxRange *range,
						   ScanKey *rest, int *nrest);
extern bool VecxRangeSameQuery(Datum a, Datum b);
extern double VecxRangeLimit(double radius);

extern bool VecxRangeCost(PlannerInfo *root, IndexPath *path,
						  Cost *startup, Cost *total, Selectivity *sel, double *pages);

#endif							/* VECX_RANGE_H */
