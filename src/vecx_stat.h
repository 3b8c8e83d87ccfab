/*-------------------------------------------------------------------------
 *
 * vecx_stat.h
 *	  Per-index scan counters of the vecx access methods (vecx_stat.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECX_STAT_H
#define VECX_STAT_H

#include "utils/relcache.h"

/* What one scan adds to its index's counters */
typedef struct VecxStatCounts
{
	int64		scans;			/* scans started */
	int64		tuples;			/* heap TIDs returned */
	int64		visited;		/* hnsw: nodes visited (distances computed);
								 * ivfpq/ivfflat: lists probed */
	int64		exact;			/* scans that took an exact pass */
	int64		cache_hits;		/* hnsw: scans that walked a graph copy */
} VecxStatCounts;

extern void VecxStatInit(void);
extern void VecxStatReport(Relation index, const VecxStatCounts *c);

#endif							/* VECX_STAT_H */
