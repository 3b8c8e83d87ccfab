/*-------------------------------------------------------------------------
 *
 * hnswcost.c
 *	  Planner cost estimate for hnsw index scans.
 *
 * The work of an hnsw scan is the number of nodes it visits (a buffer
 * access and a distance over all dimensions each).  To hand the executor
 * k rows the walk must pass k / s rows in distance order, s being the
 * selectivity of all quals on the table (those on filter columns of the
 * index are checked in the walk, the others on the heap), at about m
 * visits per row passed, and at least one batch of ef_search rows matching
 * the index quals (selectivity s_idx; failing nodes are walked through):
 *
 *	visits(k) = descent + m * max(ef_search, k) / s
 *
 * (a walk filtered by the table's quals passes only k / s rows, but its
 * answer is as good as the index-filtered walk's only at that depth: both
 * are charged the work of equal recall).
 *
 * Past hnsw.max_scan_tuples the graph walk stops and the scan finishes with
 * an exact pass over the whole index (hnswfilter.c), or, with that
 * disabled, returns too few rows: both are charged as the budget plus the
 * exact pass, which is what steers very selective filters to exact plans
 * (a btree or bitmap scan on the filter, then a sort).  A scan with index
 * quals takes the exact pass right after its first batch when the filter
 * looks that selective (m * HNSW_FILTER_TYPICAL_K / s_idx over the budget).  Rows that
 * fail the index quals cost no heap access: indexSelectivity is s_idx.
 *
 * An index with filter columns has a filter map (hnswfmap.c): with index
 * quals the scan reads it first and, when the matches c = s_idx * N are
 * few enough (c <= HnswMapCrossover), visits only them; that map pass is
 * also what a walk out of budget finishes with.  Its cost: the map pages
 * (small and read by every selective query, so charged mostly as cached),
 * one filter test per entry, a visit and a distance per match, the sort.
 * Above the crossover the walk is charged plus the part of the map read
 * before the scan gives the map up.
 *
 * A walk that would pass more than HNSW_DEEP_WALK_FACTOR * ef_search rows
 * rejected by table quals for each row wanted is charged the exact pass
 * as well: its order decays that deep (recall 0.59 at 1% selectivity with
 * labels independent of the vectors), so an exact plan must win there.
 *
 * With a constant LIMIT the whole cost is startup cost, so the planner's
 * linear LIMIT interpolation (which would assume the cost of returning all
 * rows spreads evenly) does not make a selective filter look cheap.
 * Without one, startup covers the first ef_search rows and the total the
 * walk of the whole graph.  Graph pages are charged at a fraction of
 * random_page_cost because the hot part of the graph stays in shared
 * buffers.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/relation.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/restrictinfo.h"
#include "utils/rel.h"
#include "utils/selfuncs.h"
#include "utils/spccache.h"

#include "vecx_range.h"
#include "hnsw.h"
#include "hnswfilter.h"
#include "hnswfmap.h"

/* Share of visited graph pages assumed not to be in shared buffers */
#define HNSW_UNCACHED_PAGE_FRACTION 0.025

/* ... and of filter map pages, read in sequence by every selective scan */
#define HNSW_MAP_PAGE_FRACTION 0.1

/* A filter test on a map entry (a few compares, no fmgr call) */
#define HNSW_MAP_ENTRY_COST_FRACTION 0.25

/*
 * Rows rejected by table quals, per row wanted, in units of ef_search, past
 * which a walk's recall is no longer worth its speed (bench/filtered.sh,
 * labels independent of the vectors, plain hnsw (v), k = 10, ef_search 40:
 * 2.5 x ef_search passed gave recall 0.936, 25 x gave 0.591).
 */
#define HNSW_DEEP_WALK_FACTOR 5.0

/* What the phases of the estimate share */
typedef struct HnswCostInput
{
	double		ntuples;		/* index tuples */
	double		pages;			/* index pages */
	int			m;
	int			nfilter;		/* filter columns of the index */
	bool		hasIdxQuals;	/* quals on filter columns */
	double		sIdx;			/* selectivity of the index quals */
	double		sAll;			/* ... of all quals on the table */
	double		k;				/* rows the executor wants */
	bool		limited;		/* a constant LIMIT gave k */
	double		distCost;		/* one distance */
	double		visitCost;		/* one visit: buffer access, checks, distance */
	double		seqPageCost;
} HnswCostInput;

/* Result of HnswExactPassCost */
typedef struct HnswExactPass
{
	double		cost;			/* the whole pass, sort included */
	double		mapScan;		/* its map part (0 without a map pass) */
	double		crossover;		/* matches up to which the map pass is taken */
	bool		useMap;			/* the scan may take the map pass alone */
} HnswExactPass;

/*
 * HnswExactPassCost: cost of the scan's exact pass: the filter map pass
 * (index quals on filter columns) or a pass over every page otherwise.
 */
static void
HnswExactPassCost(const HnswCostInput *in, HnswExactPass *ex)
{
	double		nmatch = in->ntuples * in->sIdx;

	ex->mapScan = 0;
	ex->crossover = 0;
	if (in->nfilter > 0 && in->hasIdxQuals)
	{
		/* the map pass: map pages and entries, then only the matches */
		ex->mapScan = HnswMapPagesFor(in->ntuples, in->nfilter) *
			HNSW_MAP_PAGE_FRACTION * in->seqPageCost +
			in->ntuples * HNSW_MAP_ENTRY_COST_FRACTION * cpu_operator_cost;
		ex->cost = ex->mapScan + nmatch * in->visitCost;
		ex->crossover = HnswMapCrossover(in->ntuples, in->m);
	}
	else
	{
		/* the exact pass: every page, every node's filter, matching distances */
		ex->cost = in->pages * in->seqPageCost +
			in->ntuples * cpu_index_tuple_cost +
			nmatch * (in->distCost + cpu_tuple_cost);
	}
	if (nmatch > 1.0)
		ex->cost += 2.0 * cpu_operator_cost * nmatch * log2(nmatch);
	ex->useMap = in->nfilter > 0 && in->hasIdxQuals && hnsw_exact_fallback &&
		hnsw_iterative_scan != HNSW_ITERATIVE_OFF;
}

/*
 * HnswWalkStartup: startup cost of the scan (the walk, or the exact pass
 * where the scan takes it); *visits is set to the visits charged.
 */
static Cost
HnswWalkStartup(const HnswCostInput *in, const HnswExactPass *ex,
				double randomPageCost, double *visits)
{
	double		descent = (log(in->ntuples) / log((double) in->m) + 1.0) * in->m;
	double		budget = (double) hnsw_max_scan_tuples;
	double		nmatch = in->ntuples * in->sIdx;
	bool		mapAlone = ex->useMap && nmatch <= ex->crossover;
	int			ef = hnsw_ef_search;
	double		probe = 0;
	Cost		startup;

	/*
	 * A walk with index quals gathers ef_search matching rows, passing
	 * ef_search / sIdx nodes.  A walk whose rows the table's quals filter
	 * passes only k / sAll before the executor has its k rows, but answers
	 * as well only at the same depth: charge both ef_search / sAll, the
	 * work for the recall an unfiltered search of ef_search has, so that
	 * the planner does not prefer a shallow walk for being shallow.
	 */
	/*
	 * A walk under index quals gathers more matches where few nodes match
	 * (hnswscan.c, SettleFilteredWalk); one under table quals is charged
	 * the same depth, the work for the same recall.
	 */
	if (in->sAll < 1.0 && hnsw_iterative_scan != HNSW_ITERATIVE_OFF)
		ef = HnswFilterWalkEf(ef, in->sAll);
	if (in->hasIdxQuals && in->sIdx < 1.0 && hnsw_iterative_scan != HNSW_ITERATIVE_OFF)
		probe = Min(HnswFilterProbe(in->m, hnsw_ef_search), in->ntuples);
	*visits = descent + in->m * Max((double) ef, in->k) / in->sAll;
	if (mapAlone)
	{
		/* few matches: the map pass alone */
		*visits = nmatch;
		startup = ex->cost;
	}
	else if (ex->useMap && probe > 0 &&
			 nmatch < Min(HnswFilterWalkVisits(in->m, ef, in->sIdx), in->ntuples) - probe)
	{
		/* the first walk's probe, then the map pass */
		*visits = descent + probe + nmatch;
		startup = (descent + probe) * in->visitCost + ex->cost;
	}
	else if (in->sIdx < 1.0 &&
			 in->m * (double) HNSW_FILTER_TYPICAL_K / in->sIdx > budget)
	{
		/* the exact pass after the first batch */
		*visits = descent + in->m * (double) hnsw_ef_search;
		startup = Min(*visits, in->ntuples) * in->visitCost + ex->cost;
	}
	else if (in->sAll < in->sIdx &&
			 in->k * in->sIdx / in->sAll > HNSW_DEEP_WALK_FACTOR * hnsw_ef_search)
	{
		/*
		 * The walk would pass more than HNSW_DEEP_WALK_FACTOR * ef_search
		 * rows that the table's quals (invisible to the index) reject: its
		 * order decays that deep, so its answer would lose rows it should
		 * have.  Charge it the exact pass on top, so that an exact plan
		 * (a btree or bitmap on the filter and a sort, or a sequential
		 * scan) wins.
		 */
		startup = Min(*visits, in->ntuples) * in->visitCost + ex->cost;
	}
	else if (*visits > budget)
		startup = Min(budget, in->ntuples) * in->visitCost + ex->cost;
	else
		startup = Min(*visits, in->ntuples) * in->visitCost;

	if (!mapAlone && in->limited && in->sAll < in->sIdx)
	{
		/*
		 * Rows the walk passes that satisfy the index quals but not the
		 * others are fetched from the heap and rejected by the executor
		 * before the k rows are found: k * sIdx / sAll - k of them.  (Rows
		 * failing index quals cost nothing: in-index filtering's gain.)
		 */
		startup += (in->k * in->sIdx / in->sAll - in->k) *
			(cpu_tuple_cost + HNSW_UNCACHED_PAGE_FRACTION * randomPageCost);
	}
	if (ex->useMap && nmatch > ex->crossover)
	{
		/* the part of the map read before the scan gives it up */
		startup += ex->mapScan *
			HnswMapGiveUpFraction(HnswMapPagesFor(in->ntuples, in->nfilter),
								  nmatch, ex->crossover);
	}
	return startup;
}

void
hnswcostestimate(PlannerInfo *root, IndexPath *path, double loop_count,
				 Cost *indexStartupCost, Cost *indexTotalCost,
				 Selectivity *indexSelectivity, double *indexCorrelation,
				 double *indexPages)
{
	IndexOptInfo *index = path->indexinfo;
	Relation	rel;
	int			dims;
	int			elemtype;
	double		spc_random_page_cost;
	HnswCostInput in;
	HnswExactPass ex;
	double		visits;
	Cost		startup;
	Cost		total;

	/*
	 * Only ordered scans: the index cannot evaluate quals by itself.  Cost it
	 * above disable_cost so even enable_seqscan = off never picks it.
	 */
	if (path->indexorderbys == NIL && VecxRangeCost(root, path, indexStartupCost, indexTotalCost,
												 indexSelectivity, indexPages))
	{
		*indexCorrelation = 0;
		return;
	}
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
	in.m = HnswGetM(rel);
	dims = Max(TupleDescAttr(RelationGetDescr(rel), 0)->atttypmod, 1);
	/* distance work in float elements: popcounts of bits, merges of pairs */
	elemtype = HnswGetOpInfo(rel)->elemtype;
	if (elemtype == HNSW_ELEM_BIT)
		dims = Max(dims / 32, 1);
	else if (elemtype == HNSW_ELEM_SPARSE)
		dims = Min(dims, HNSW_SPARSE_MAX_NNZ);
	index_close(rel, NoLock);

	in.ntuples = Max(index->tuples, 1.0);
	in.pages = Max(index->pages, 1.0);
	in.nfilter = index->nkeycolumns - 1;
	get_tablespace_page_costs(index->reltablespace, &spc_random_page_cost,
							  &in.seqPageCost);
	in.hasIdxQuals = VecxFilterSelectivity(root, path, in.ntuples,
										   &in.sIdx, &in.sAll);
	in.limited = root->limit_tuples > 0;
	in.k = in.limited ? root->limit_tuples : (double) hnsw_ef_search;
	in.distCost = cpu_operator_cost * (1.0 + dims / 64.0);
	in.visitCost = 2.0 * cpu_tuple_cost + in.distCost +
		HNSW_UNCACHED_PAGE_FRACTION * spc_random_page_cost;

	HnswExactPassCost(&in, &ex);
	startup = HnswWalkStartup(&in, &ex, spc_random_page_cost, &visits);

	if (in.limited)
		total = startup + cpu_index_tuple_cost * in.k;
	else
		total = Max(startup, in.ntuples * in.visitCost) +
			cpu_index_tuple_cost * in.ntuples * in.sIdx;

	*indexStartupCost = startup;
	*indexTotalCost = total;
	*indexSelectivity = in.sIdx;
	*indexCorrelation = 0;
	*indexPages = Min(in.pages, Min(visits, in.ntuples));
}
