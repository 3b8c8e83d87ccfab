/*-------------------------------------------------------------------------
 *
 * hnswcost.c
 *	  Planner cost estimate for hnsw index scans.
 *
 * The work of an hnsw scan is almost all done before the first tuple: a
 * greedy descent plus a best-first search of level 0 that computes about
 * ef_search * m distances.  So the startup cost carries everything and
 * the planner's LIMIT interpolation does not make the index look cheaper
 * than it is.  Graph pages are charged at a fraction of random_page_cost
 * because the hot part of the graph stays in shared buffers; the heap
 * scan it competes with pays for TOAST reads the planner never sees.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/relation.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "utils/rel.h"
#include "utils/selfuncs.h"
#include "utils/spccache.h"

#include "hnsw.h"

/* Share of visited graph pages assumed not to be in shared buffers */
#define HNSW_UNCACHED_PAGE_FRACTION 0.025

void
hnswcostestimate(PlannerInfo *root, IndexPath *path, double loop_count,
				 Cost *indexStartupCost, Cost *indexTotalCost,
				 Selectivity *indexSelectivity, double *indexCorrelation,
				 double *indexPages)
{
	GenericCosts costs;
	IndexOptInfo *index = path->indexinfo;
	Relation	rel;
	int			m;
	double		ntuples;
	double		visited;
	double		spc_random_page_cost;
	Cost		pageCost;

	/*
	 * Only ordered scans: the index cannot evaluate quals by itself.  Cost it
	 * above disable_cost so even enable_seqscan = off never picks it.
	 */
	if (path->indexorderbys == NIL)
	{
		*indexStartupCost = 1.0e15;
		*indexTotalCost = 1.0e15;
		*indexSelectivity = 0;
		*indexCorrelation = 0;
		*indexPages = 0;
		return;
	}

	rel = index_open(index->indexoid, NoLock);
	m = HnswGetM(rel);
	index_close(rel, NoLock);

	ntuples = Max(index->tuples, 1.0);
	/* descent: ~m distances per level; level 0: ~ef_search * m */
	visited = (log(ntuples) / log((double) m) + 1.0) * m + (double) hnsw_ef_search * m;
	visited = Min(visited, ntuples);

	MemSet(&costs, 0, sizeof(costs));
	costs.numIndexTuples = visited;
	genericcostestimate(root, path, loop_count, &costs);

	get_tablespace_page_costs(index->reltablespace, &spc_random_page_cost, NULL);
	pageCost = costs.numIndexPages * spc_random_page_cost;
	costs.indexTotalCost -= pageCost * (1.0 - HNSW_UNCACHED_PAGE_FRACTION);

	/*
	 * Each visited node also costs a buffer pin and lock and a distance over
	 * all dimensions, more than an ordinary index tuple: charge it like a
	 * few heap tuple visits.  This lets a seq scan win on small tables
	 * (below about 1,500 rows with the defaults).
	 */
	costs.indexTotalCost += visited * 4.0 * cpu_tuple_cost;

	*indexStartupCost = costs.indexTotalCost;
	*indexTotalCost = costs.indexTotalCost + cpu_index_tuple_cost * hnsw_ef_search;
	*indexSelectivity = costs.indexSelectivity;
	*indexCorrelation = 0;
	*indexPages = costs.numIndexPages;
}
