/*-------------------------------------------------------------------------
 *
 * hnswscan.c
 *	  Ordered index scans: ORDER BY col <op> constant.
 *
 * The first call searches the graph with ef = hnsw.ef_search and returns
 * the result set in distance order.  With hnsw.iterative_scan the search
 * is continued in further batches from the candidates and discarded nodes
 * it kept, until the executor stops asking or hnsw.max_scan_tuples /
 * work_mem * hnsw.scan_mem_multiplier are spent.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>

#include "access/relscan.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "am/common/vecxexplain.h"
#include "vecx_range.h"
#include "vecx_stat.h"
#include "hnsw.h"
#include "hnswfilter.h"
#include "hnswfmap.h"

/*
 * What the loops of a scan did, for EXPLAIN ANALYZE (hnswexplain): the
 * strategies taken, beside the sums of the finished loops' vecx_stat
 * counts (searches started, copies walked, distances).
 */
typedef struct HnswScanTotals
{
	VecxStatCounts sum;
	int64		walks;			/* graph walks */
	int64		maps;			/* filter map passes (exact) */
	int64		exact;			/* exact passes after a walk */
	int64		unordered;		/* passes without a query */
	int64		batches;		/* further batches of iterative scans */
} HnswScanTotals;

typedef struct HnswScanOpaqueData
{
	MemoryContext cxt;
	bool		started;
	bool		done;
	bool		unordered;		/* no distances: NULL or zero query */
	HnswLayout	lay;			/* from meta */
	HnswDist	d;				/* lay.d */
	HnswMetaPageData meta;
	HnswSearch *s;
	void	   *query;
	int32	   *batch;
	int			nbatch;
	int			pos;
	float		lastDist;
	float		holdBound;		/* lossy strict order: return no row of the
								 * batch whose bound exceeds this */
	int			nheld;			/* rows held back at the end of a batch */
	int			efBase;			/* the first batch's ef: hnsw.ef_search, or
								 * more for a filter (SettleFilteredWalk) */
	int			nbatches;		/* batches searched after the first */
	int			ntrimmed;		/* rows KeepNearerHalf left for the next batch */
	double		slack;			/* largest value(distance) - bound of the
								 * live pool entries below slackSeen */
	int			slackSeen;
	Datum		value;
	bool		valueNull;
	HnswFilter *filter;			/* scan keys on filter columns, or NULL */
	HnswExhaust *ex;			/* exact pass, once the graph walk is over */
	int64		pageWalk;		/* nodes visited through the buffer manager */
	const HnswGraph *graph;		/* the copy walked, pinned (hnswcache.c) */
	VecxStatCounts stat;		/* this scan's counters (vecx_stat.c) */
	HnswScanTotals tot;			/* all loops' strategies (hnswexplain) */
	Datum		queryDatum;		/* the ORDER BY query, or the range's */
	VecxRange	range;			/* range keys (vecx_range.c) */
	bool		rangeDrive;		/* the range's query is the walk's: stop
								 * once rows are beyond rangeLimit */
	double		rangeLimit;
	bool		rangeWalkDone;	/* the walk has passed the radius */
} HnswScanOpaqueData;

typedef HnswScanOpaqueData *HnswScanOpaque;

IndexScanDesc
hnswbeginscan(Relation index, int nkeys, int norderbys)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	HnswScanOpaque so = palloc0(sizeof(HnswScanOpaqueData));

	so->cxt = AllocSetContextCreate(CurrentMemoryContext, "hnsw scan",
									ALLOCSET_DEFAULT_SIZES);
	/* sq8 indexes return a lower bound of each row's distance */
	if (norderbys > 0)
	{
		scan->xs_orderbyvals = palloc0(sizeof(Datum) * norderbys);
		scan->xs_orderbynulls = palloc(sizeof(bool) * norderbys);
		memset(scan->xs_orderbynulls, true, sizeof(bool) * norderbys);
	}
	scan->opaque = so;
	return scan;
}

/* The walk is over: count what it visited and free it */
static void
DropWalk(HnswScanOpaque so)
{
	if (so->s->graph == NULL)
		so->pageWalk += so->s->ndistances;
	so->stat.visited += so->s->ndistances;
	so->s = NULL;
	so->nbatch = 0;
	so->pos = 0;
}

/*
 * A finished scan that walked the pages tells hnswcache.c how much that
 * cost, which decides when a graph copy pays; and vecx_stat.c what it did.
 */
static void
NoteWalk(IndexScanDesc scan, HnswScanOpaque so)
{
	if (so->s != NULL)
		DropWalk(so);
	if (so->pageWalk > 0)
		HnswCacheNoteWalk(scan->indexRelation, so->pageWalk);
	so->pageWalk = 0;
	if (so->graph != NULL)
		HnswCacheRelease(so->graph);
	so->graph = NULL;

	if (so->ex != NULL)
		so->stat.exact = 1;
	so->ex = NULL;
	so->tot.sum.scans += so->stat.scans;
	so->tot.sum.cache_hits += so->stat.cache_hits;
	so->tot.sum.visited += so->stat.visited;
	VecxStatReport(scan->indexRelation, &so->stat);
	memset(&so->stat, 0, sizeof(so->stat));
}

void
hnswrescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys,
		   int norderbys)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;

	NoteWalk(scan, so);

	if (keys && scan->numberOfKeys > 0)
		memmove(scan->keyData, keys, scan->numberOfKeys * sizeof(ScanKeyData));
	if (orderbys && scan->numberOfOrderBys > 0)
		memmove(scan->orderByData, orderbys, scan->numberOfOrderBys * sizeof(ScanKeyData));

	MemoryContextReset(so->cxt);
	so->started = false;
	so->done = false;
	so->unordered = false;
	so->s = NULL;
	so->batch = NULL;
	so->nbatch = 0;
	so->pos = 0;
	so->lastDist = -INFINITY;
	so->holdBound = INFINITY;
	so->nheld = 0;
	so->nbatches = 0;
	so->ntrimmed = 0;
	so->slack = 0.0;
	so->slackSeen = 0;
	so->filter = NULL;
	so->ex = NULL;
	so->rangeDrive = false;
	so->rangeWalkDone = false;
	memset(&so->range, 0, sizeof(so->range));
}

static bool StartExhaustive(IndexScanDesc scan);

static HnswEntry *sort_pool;

static int
CompareBound(const void *a, const void *b)
{
	float		x = sort_pool[*(const int32 *) a].lb;
	float		y = sort_pool[*(const int32 *) b].lb;

	return x < y ? -1 : x > y ? 1 : 0;
}

/*
 * SortBatchByBound
 *		Lossy order (sq8): the executor's reorder queue emits a row once no
 *		later index row can have a smaller bound, so the batch, collected in
 *		approximate distance order, is returned in bound order.
 *
 *		Under strict order a row whose bound is below one already returned
 *		would be dropped, and bounds are looser than distances: a node found
 *		by the next batch (at a walk distance of at least the batch's worst,
 *		D) may still have a smaller bound than a row of this batch.  So a
 *		row is returned only while its bound is at most what any later node
 *		can have, holdBound = value(D) - the largest slack (value(distance)
 *		- bound) seen; the rest wait for the next batch, which is searched
 *		with room for them.  Nothing is held once the walk has no
 *		candidates left.
 */
static void
SortBatchByBound(HnswScanOpaque so)
{
	HnswSearch *s = so->s;
	double		worst = -DBL_MAX;
	int			i;

	so->holdBound = INFINITY;
	if (!HnswLossyOrder(&so->d) || so->nbatch == 0)
		return;
	if (so->nbatch > 1)
	{
		sort_pool = s->pool;
		qsort(so->batch, so->nbatch, sizeof(int32), CompareBound);
		sort_pool = NULL;
	}
	if (hnsw_iterative_scan != HNSW_ITERATIVE_STRICT || s->cand.n == 0)
		return;
	for (i = 0; i < so->nbatch; i++)
		worst = Max(worst, HnswOrderValue(&so->d, s->pool[so->batch[i]].dist));
	/* pooled entries never change: each is looked at once per scan */
	for (i = so->slackSeen; i < s->npool; i++)
	{
		HnswEntry  *e = &s->pool[i];

		if (e->ntids > 0)
			so->slack = Max(so->slack, HnswOrderValue(&so->d, e->dist) - (double) e->lb);
	}
	so->slackSeen = s->npool;
	so->holdBound = HnswFloatBelow(worst - so->slack);
}

/*
 * KeepNearerHalf
 *		Under strict order a returned row closes the door on every closer
 *		row found later (hnswgettuple skips it; only the exact pass would
 *		return it).  The last ranks of a converged ef search are its least
 *		certain, and when the executor's filter rejects most rows, later
 *		batches are where the rows it keeps come from: rows the next batch
 *		finds closer than a returned one are lost to the LIMIT.  So while
 *		the walk can go on, a batch hands out only its nearer half; the rest
 *		compete again in the next batch.  A LIMIT of at most ef_search / 2
 *		rows that all pass is answered from the first batch as before.
 */
static void
KeepNearerHalf(HnswScanOpaque so)
{
	int			keep;

	so->ntrimmed = 0;
	if (hnsw_iterative_scan != HNSW_ITERATIVE_STRICT || so->s->cand.n == 0 ||
		so->nbatch < 2)
		return;
	keep = (so->nbatch + 1) / 2;
	so->ntrimmed = so->nbatch - keep;
	so->nbatch = keep;
}

/*
 * RerankBatch
 *		A graph copy with codes (hnswcache.c) was walked on approximate
 *		distances: give the batch's rows their exact distances from the
 *		copy's vectors and return them in that order.
 */
static void
RerankBatch(HnswScanOpaque so)
{
	HnswSearch *s = so->s;
	const HnswGraph *g = s->graph;
	int			i;

	if (g == NULL || g->codes == NULL || so->nbatch == 0)
		return;
	for (i = 0; i < so->nbatch; i++)
	{
		HnswEntry  *e = &s->pool[so->batch[i]];

		/* the vectors are far apart in memory: fetch one ahead, whole */
		if (i + 1 < so->nbatch)
			HnswPrefetch(g->vecs + (Size) s->pool[so->batch[i + 1]].gidx * g->vstride,
						 0, g->vstride);
		e->lb = HnswDistanceQ(&so->d, so->query, g->vecs + (Size) e->gidx * g->vstride);
	}
	sort_pool = s->pool;
	qsort(so->batch, so->nbatch, sizeof(int32), CompareBound);
	sort_pool = NULL;
}

/* Set the row's order-by value: needed only when it is a bound */
static inline void
SetOrderBy(IndexScanDesc scan, HnswScanOpaque so, float value)
{
	scan->xs_recheckorderby = HnswLossyOrder(&so->d) && scan->numberOfOrderBys > 0 &&
		!so->unordered;
	if (scan->xs_recheckorderby)
	{
		scan->xs_orderbyvals[0] = Float8GetDatum((double) value);
		scan->xs_orderbynulls[0] = false;
	}
}

/* A pool or exact-pass value in the operator's units (lossy: already) */
static inline double
RangeValue(HnswScanOpaque so, float value)
{
	return HnswLossyOrder(&so->d) ? (double) value : HnswOrderValue(&so->d, value);
}

/*
 * StartUnordered
 *		Return every indexed row (matching the scan keys) in index order,
 *		with no distance: the exact pass without a query.
 */
static void
StartUnordered(IndexScanDesc scan)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;

	so->unordered = true;
	so->tot.unordered++;
	so->query = NULL;
	so->ex = HnswExhaustRun(scan->indexRelation, &so->meta, &so->lay, NULL,
							so->filter, NULL, 0);
}

/*
 * UseGraphCopy
 *		A copy of the graph (hnswcache.c: shared, or this backend's) serves
 *		MVCC scans of inline-stored indexes without filter columns.
 */
static void
UseGraphCopy(IndexScanDesc scan)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;
	const HnswGraph *g;
	void	   *walkQuery = NULL;

	if (!HnswCacheEnabled() || so->meta.nfilter != 0 ||
		so->meta.storage != HNSW_STORAGE_INLINE ||
		scan->xs_snapshot == InvalidSnapshot || !IsMVCCSnapshot(scan->xs_snapshot))
		return;
	g = HnswCacheGet(scan->indexRelation, &so->meta);
	if (g != NULL && g->codes != NULL)
	{
		HnswDist	wd;

		/* the copy is walked on sq8 codes, then re-ranked exactly */
		HnswInitDist(&wd, so->d.dims, HNSW_ELEM_SQ8, g->srcElem, so->d.metric, false);
		walkQuery = palloc(HnswQueryBytes(&wd));
		if (!HnswPrepareQuery(&wd, so->queryDatum, walkQuery))
		{
			HnswCacheRelease(g);	/* cannot happen: the query passed before */
			g = NULL;
		}
	}
	if (g != NULL)
	{
		HnswSearchUseGraph(so->s, g, walkQuery);
		so->graph = g;
		so->stat.cache_hits = 1;
	}
}

/*
 * The share of the live nodes a filtered walk visited that match its
 * filter keys (half a match at least: never 0).
 */
static double
PoolMatchRate(HnswSearch *s)
{
	int			nlive = 0;
	int			nmatch = 0;
	int			i;

	for (i = 0; i < s->npool; i++)
	{
		if (s->pool[i].ntids == 0)
			continue;
		nlive++;
		if (!s->pool[i].nomatch)
			nmatch++;
	}
	return (double) Max(nmatch, 0.5) / Max(nlive, 1);
}

/*
 * FilterHopeless
 *		With a filter, the nodes the first batch visited show how selective
 *		it is near the query.  If finding HNSW_FILTER_TYPICAL_K matches at
 *		that rate would take more than hnsw.max_scan_tuples visits (at about
 *		m visits per node passed), the walk would end in the exact pass,
 *		after returning rows that may not be the nearest and skipping closer
 *		ones found late: better take the exact pass before anything is
 *		returned.  hnswcost.c charges the same rule.
 */
static bool
FilterHopeless(HnswScanOpaque so)
{
	double		sel = PoolMatchRate(so->s);

	return (double) so->meta.m * HNSW_FILTER_TYPICAL_K / sel > hnsw_max_scan_tuples;
}

/*
 * PrepareScan
 *		Filter keys, metapage, distance and query of the first call.
 *		Returns false when the scan is settled already: no row can match,
 *		the index is empty, or every row ties (an unordered scan started).
 */
static bool
PrepareScan(IndexScanDesc scan)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;
	Relation	index = scan->indexRelation;

	ScanKey		rest = NULL;
	int			nrest = 0;

	if (scan->numberOfOrderBys == 0 && scan->numberOfKeys == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot scan hnsw index without order"),
				 errhint("Use ORDER BY column <-> constant LIMIT k.")));
	if (scan->numberOfKeys > 0)
	{
		VecxRangeSplit(scan->keyData, scan->numberOfKeys, &so->range, &rest, &nrest);
		if (so->range.empty)
		{
			so->done = true;	/* a NULL query or radius */
			return false;
		}
	}
	if (nrest > 0)
	{
		so->filter = HnswFilterPrepare(index, rest, nrest);
		if (so->filter->empty)
		{
			so->done = true;	/* a key compares with NULL */
			return false;
		}
		if (so->filter->nkeys == 0)
			so->filter = NULL;	/* only "vector IS NOT NULL": every entry */
	}
	HnswReadMeta(index, &so->meta);
	if (so->meta.nfilter != HnswFilterColumns(index))
		HnswCorrupt(index, HNSW_METAPAGE_BLKNO, 0, "metapage filter column count does not match the index");
	HnswLayoutFromMeta(&so->lay, &so->meta);
	so->d = so->lay.d;

	/*
	 * The walk's query: ORDER BY's, or without one the range's.  A range
	 * whose query is the walk's ends the walk once rows are beyond its
	 * radius (hnswgettuple); any other only filters, through the
	 * executor's re-check.
	 */
	if (scan->numberOfOrderBys > 0)
	{
		so->queryDatum = scan->orderByData[0].sk_argument;
		so->rangeDrive = so->range.nkeys > 0 &&
			!(scan->orderByData[0].sk_flags & SK_ISNULL) &&
			VecxRangeSameQuery(so->queryDatum, so->range.query);
	}
	else if (so->range.nkeys > 0)
	{
		so->queryDatum = so->range.query;
		so->rangeDrive = true;
	}
	so->rangeLimit = VecxRangeLimit(so->range.radius);

	/*
	 * No ORDER BY nor range (the planner avoids it), a NULL query, or a
	 * zero query under cosine: every distance is NULL or NaN, so every
	 * row ties and a sequential scan returns them all; so does the index,
	 * unordered (a range's re-check then rejects them all).
	 */
	if ((scan->numberOfOrderBys == 0 && so->range.nkeys == 0) ||
		(scan->numberOfOrderBys > 0 && (scan->orderByData[0].sk_flags & SK_ISNULL)))
	{
		so->rangeDrive = false;
		StartUnordered(scan);
		return false;
	}
	so->query = palloc(HnswQueryBytes(&so->d));
	if (!HnswPrepareQuery(&so->d, so->queryDatum, so->query))
	{
		so->rangeDrive = false;
		StartUnordered(scan);
		return false;
	}
	if (so->meta.entryLevel < 0)
	{
		so->done = true;
		return false;
	}
	return true;
}

/*
 * ResumeWalk
 *		Search level 0 again with ef, from where the walk stopped: every
 *		pooled node not yet expanded is a candidate again, every live
 *		matching node not yet returned competes for the ef results.
 *		Returns false when nothing is left to search.
 */
static bool
ResumeWalk(HnswSearch *s, int ef)
{
	int			i;

	s->cand.n = 0;
	s->res.n = 0;
	for (i = 0; i < s->npool; i++)
	{
		HnswEntry  *e = &s->pool[i];

		e->inresult = false;
		if (!e->expanded)
			HnswHeapPush(&s->cand, e->dist, i);
		if (!e->emitted && e->ntids > 0 && !e->nomatch)
		{
			HnswHeapPush(&s->res, e->dist, i);
			if (s->res.n > ef)
				HnswHeapPop(&s->res);
		}
	}
	if (s->cand.n == 0 && s->res.n == 0)
		return false;
	HnswSearchLayer(s, 0, ef);
	return true;
}

/*
 * Filtered walks where few nodes near the query match.
 *
 * A filtered walk gathers ef matching rows (SearchWalkThrough).  When few
 * of the nodes around the query match, the ten it must return lie deep in
 * the distance order (at 10% independent of the vectors, the tenth match
 * is about the hundredth node), across the borders of clusters, where a
 * walk that stops at ef matches is less sure of its ranks: recall@10 at
 * 10%, 5% and 3% selectivity on 200,000 clustered 128-dim vectors was
 * 0.982, 0.952 and 0.941.  Two remedies, chosen by cost once the first
 * walk has shown the match rate:
 *
 *	- widen: gather more matches, up to HNSW_FILTER_WIDEN x ef (0.3 / the
 *	  rate, at least 1: a correlated filter, most of whose nodes near the
 *	  query match, is left as it was): 0.993, 0.986, 0.975 there;
 *	- the filter map pass: exact, one visit per matching node.
 *
 * The map pass is taken when it visits fewer nodes than the widened walk
 * still would (HnswFilterWalkVisits, in map visits).  So that the choice
 * comes before a walk at a low match rate has spent much, the first walk
 * stops after a probe of HNSW_FILTER_PROBE x m x ef distances (PageExpand),
 * and resumes from where it stopped if it goes on.  Only for iterative
 * scans: with hnsw.iterative_scan = off a scan returns its one batch of
 * ef_search.
 */
static bool
FilteredWalkEnabled(HnswScanOpaque so)
{
	return so->s->filter != NULL && hnsw_iterative_scan != HNSW_ITERATIVE_OFF;
}

/*
 * SettleFilteredWalk
 *		After the first filtered walk: widen it, or replace it by the map
 *		pass (returns false: so->ex is set and the walk dropped).
 */
static bool
SettleFilteredWalk(IndexScanDesc scan)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;
	HnswSearch *s = so->s;
	double		rate = PoolMatchRate(s);
	bool		probed = s->ndistances >= s->walkBudget;
	int			ef = so->efBase;
	int			efWide = HnswFilterWalkEf(ef, rate);

	s->walkBudget = hnsw_max_scan_tuples;
	if (efWide <= ef && !probed)
		return true;
	if (so->meta.nfilter > 0 && hnsw_exact_fallback)
	{
		double		limit = HnswFilterWalkVisits(so->meta.m, efWide, rate) - s->ndistances;
		HnswExhaust *ex = NULL;

		/* the rate seen predicts the matches, unless the filter is correlated */
		if (limit > 0 && rate * HnswMapEntryCount(&so->meta) <= limit)
			ex = HnswMapRun(scan->indexRelation, &so->meta, &so->lay, so->query,
							so->filter, NULL, 0, limit);
		if (ex != NULL)
		{
			so->tot.maps++;
			so->ex = ex;
			DropWalk(so);
			return false;
		}
	}
	so->efBase = efWide;
	(void) ResumeWalk(s, efWide);
	return true;
}

/* Run the first search: descend to level 0, search it with ef. */
static void
StartSearch(IndexScanDesc scan)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;
	Relation	index = scan->indexRelation;
	ItemPointerData entry;
	ItemPointerData ep;
	int			ef = hnsw_ef_search;

	so->started = true;
	so->stat.scans = 1;
	pgstat_count_index_scan(index);
	if (!PrepareScan(scan))
		return;

	/*
	 * Filter keys on an index with a filter map: read the map first.  If
	 * few enough nodes match (HnswMapCrossover), visiting just those is
	 * cheaper than a graph walk, and exact; otherwise the map pass stops
	 * early and the graph is walked.
	 */
	if (so->filter != NULL && so->filter->nkeys > 0 && so->meta.nfilter > 0 &&
		hnsw_exact_fallback && hnsw_iterative_scan != HNSW_ITERATIVE_OFF)
	{
		so->ex = HnswMapRun(index, &so->meta, &so->lay, so->query, so->filter,
							NULL, 0, HnswMapCrossover(HnswMapEntryCount(&so->meta),
													  so->meta.m));
		if (so->ex != NULL)
		{
			so->tot.maps++;
			return;
		}
	}
	so->tot.walks++;
	so->efBase = ef;
	so->s = HnswSearchCreate(index, &so->lay);
	so->s->query = so->query;
	UseGraphCopy(scan);

	ItemPointerSet(&entry, so->meta.entryBlkno, so->meta.entryOffno);
	HnswSearchGreedyDescend(so->s, &entry, so->meta.entryLevel, 0, &ep);
	HnswSearchReset(so->s);
	if (so->filter != NULL && so->filter->nkeys > 0)
	{
		/* the filter applies to level 0 only: the descent just navigates */
		so->s->filter = so->filter;
	}
	if (FilteredWalkEnabled(so))
		so->s->walkBudget = (int64) HnswFilterProbe(so->meta.m, ef);
	(void) HnswSearchVisit(so->s, &ep, 0, ef, true);
	HnswSearchLayer(so->s, 0, ef);
	if (FilteredWalkEnabled(so) && !SettleFilteredWalk(scan))
		return;
	so->batch = palloc(sizeof(int32) * Max(so->s->res.n, 1));
	so->nbatch = HnswSearchCollect(so->s, so->batch, so->s->res.n, true);
	RerankBatch(so);
	SortBatchByBound(so);
	KeepNearerHalf(so);
	so->pos = 0;

	if (so->s->filter != NULL && FilterHopeless(so))
		(void) StartExhaustive(scan);
}

/*
 * NextBatch
 *		Continue an iterative scan: every pooled node not yet expanded is a
 *		candidate again, every live node not yet returned competes for the
 *		next result set.  Returns false when nothing is left or a budget is
 *		spent.
 */
static bool
NextBatch(IndexScanDesc scan)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;
	HnswSearch *s = so->s;
	int			ef;
	double		memLimit = (double) work_mem * 1024.0 * hnsw_scan_mem_multiplier;

	if (hnsw_iterative_scan == HNSW_ITERATIVE_OFF || s == NULL)
		return false;

	/*
	 * An executor still asking after a whole batch is filtering rows out
	 * (or wants more than ef_search): the rows it keeps come from ever
	 * deeper in the distance order, where a search of ef_search is less
	 * sure of its ranks.  Each further batch searches with twice the ef of
	 * the last (up to 16 x ef_search), plus room for the rows the last one
	 * held back or left over (KeepNearerHalf): so ef keeps growing while
	 * rows are held, until the walk has room to expand its candidates
	 * again (a batch of many equal bounds, all held, would otherwise be
	 * searched again and again).
	 */
	ef = so->efBase * (1 << Min(so->nbatches + 1, 4)) + so->nheld + so->ntrimmed;
	so->nbatches++;
	so->tot.batches++;
	so->nheld = 0;
	if (s->ndistances >= hnsw_max_scan_tuples || (double) s->memUsed > memLimit)
		return false;
	if (!ResumeWalk(s, ef))
		return false;
	so->batch = repalloc(so->batch, sizeof(int32) * Max(s->res.n, 1));
	so->nbatch = HnswSearchCollect(s, so->batch, s->res.n, true);
	RerankBatch(so);
	SortBatchByBound(so);
	KeepNearerHalf(so);
	so->pos = 0;
	return true;
}

/*
 * StartExhaustive
 *		The graph walk is out of budget (or out of nodes) and the executor
 *		still wants rows: read the whole index once and return the rest in
 *		exact distance order, so an iterative scan never returns fewer rows
 *		than match.  Not with hnsw.iterative_scan = off (pgvector's single
 *		ef_search batch) nor with hnsw.exact_fallback = off.
 */
static bool
StartExhaustive(IndexScanDesc scan)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;
	HnswSearch *s = so->s;
	HnswEmitted *emitted;
	int			nemitted = 0;
	int			i;

	if (s == NULL || !hnsw_exact_fallback || hnsw_iterative_scan == HNSW_ITERATIVE_OFF)
		return false;
	emitted = palloc(sizeof(HnswEmitted) * Max(s->npool, 1));
	for (i = 0; i < s->npool; i++)
	{
		if (s->pool[i].tidpos > 0)
		{
			emitted[nemitted].tid = HnswEntryTid(s, &s->pool[i]);
			emitted[nemitted].ntids = s->pool[i].tidpos;
			nemitted++;
		}
	}
	so->ex = HnswExhaustRun(scan->indexRelation, &so->meta, &so->lay, so->query,
							so->filter, emitted, nemitted);
	so->tot.exact++;
	/* the walk's memory is no longer needed */
	DropWalk(so);
	return true;
}

/* Next row of the exhaustive pass; false at its end. */
static bool
NextExhaustive(IndexScanDesc scan)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;
	HnswExhaust *ex = so->ex;
	HnswExhaustItem *it;

	/*
	 * Every row the walk did not return comes out here in order, including
	 * those it found only after passing their distance: completeness is
	 * worth the one step back (see "Iterative scans: what each mode
	 * promises" in the README).
	 */
	if ((it = HnswExhaustNext(ex)) != NULL)
	{
		/* rows come in order: the first beyond the radius ends the scan */
		if (so->rangeDrive && RangeValue(so, it->dist) > so->rangeLimit)
			return false;
		so->lastDist = it->dist;
		so->stat.tuples++;
		scan->xs_heaptid = it->heaptid;
		scan->xs_recheck = (so->filter != NULL && so->filter->lossy) || so->range.nkeys > 0;
		SetOrderBy(scan, so, it->dist);
		return true;
	}
	return false;
}

bool
hnswgettuple(IndexScanDesc scan, ScanDirection dir)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;
	MemoryContext old = MemoryContextSwitchTo(so->cxt);

	if (!ScanDirectionIsForward(dir))
		elog(ERROR, "hnsw index scans support only forward direction");

	if (!so->started)
		StartSearch(scan);

	while (!so->done)
	{
		if (so->ex != NULL)
		{
			if (NextExhaustive(scan))
			{
				MemoryContextSwitchTo(old);
				return true;
			}
			so->done = true;
			break;
		}
		while (so->pos < so->nbatch)
		{
			HnswEntry  *e = &so->s->pool[so->batch[so->pos]];

			if (e->emitted || e->tidpos >= e->ntids || e->nomatch)
			{
				e->emitted = true;
				so->pos++;
				continue;
			}
			if (hnsw_iterative_scan == HNSW_ITERATIVE_STRICT && e->lb < so->lastDist)
			{
				e->emitted = true;	/* strict order: never go back */
				continue;
			}
			if (so->rangeDrive && RangeValue(so, e->lb) > so->rangeLimit)
			{
				/*
				 * Beyond the radius: so is every later row of the walk
				 * (rows of a batch come in order, and later batches are
				 * not closer but for late rows, which the exact pass
				 * returns), so the walk is over.
				 */
				so->rangeWalkDone = true;
				so->pos = so->nbatch;
				break;
			}
			if (e->lb > so->holdBound)
			{
				/* lossy order: the rest waits for the next batch */
				so->nheld = so->nbatch - so->pos;
				so->pos = so->nbatch;
				break;
			}
			so->lastDist = e->lb;
			so->stat.tuples++;
			scan->xs_heaptid = HnswEntryHeapTid(so->s, e, e->tidpos++);
			scan->xs_recheck = (so->filter != NULL && so->filter->lossy) || so->range.nkeys > 0;
			SetOrderBy(scan, so, e->lb);
			MemoryContextSwitchTo(old);
			return true;
		}
		CHECK_FOR_INTERRUPTS();
		if ((so->rangeWalkDone || !NextBatch(scan)) && !StartExhaustive(scan))
			so->done = true;
	}
	MemoryContextSwitchTo(old);
	return false;
}

void
hnswendscan(IndexScanDesc scan)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;

	NoteWalk(scan, so);
	MemoryContextDelete(so->cxt);
	pfree(so);
	scan->opaque = NULL;
}

/*
 * hnswexplain
 *		EXPLAIN ANALYZE's line for a scan (vecxexplain.c): the strategies
 *		its loops took and the distances its walks computed, the loop in
 *		progress included.
 */
void
hnswexplain(IndexScanDesc scan, StringInfo out)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;
	HnswScanTotals t = so->tot;

	/* the loop in progress: its counts are summed when it ends (NoteWalk) */
	t.sum.scans += so->stat.scans;
	t.sum.cache_hits += so->stat.cache_hits;
	t.sum.visited += so->stat.visited + (so->s != NULL ? so->s->ndistances : 0);
	if (t.sum.scans == 0)
	{
		appendStringInfoString(out, "never started");
		return;
	}
	VecxExplainStrategy(out, t.sum.cache_hits > 0 ? "graph walk (copy)" : "graph walk",
						t.walks, t.sum.scans);
	VecxExplainStrategy(out, "filter map (exact)", t.maps, t.sum.scans);
	VecxExplainStrategy(out, "exact pass", t.exact, t.sum.scans);
	VecxExplainStrategy(out, "unordered pass", t.unordered, t.sum.scans);
	if (out->len == 0)
		appendStringInfoString(out, "nothing to search");
	if (t.batches > 0)
		appendStringInfo(out, "; further batches=" INT64_FORMAT, t.batches);
	if (t.walks > 0)
		appendStringInfo(out, "; distances=" INT64_FORMAT, t.sum.visited);
}
