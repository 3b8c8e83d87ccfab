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
#include "utils/memutils.h"
#include "utils/rel.h"

#include "hnsw.h"

typedef struct HnswScanOpaqueData
{
	MemoryContext cxt;
	bool		started;
	bool		done;
	HnswDist	d;
	HnswMetaPageData meta;
	HnswSearch *s;
	void	   *query;
	int32	   *batch;
	int			nbatch;
	int			pos;
	float		lastDist;
	Datum		value;
	bool		valueNull;
} HnswScanOpaqueData;

typedef HnswScanOpaqueData *HnswScanOpaque;

IndexScanDesc
hnswbeginscan(Relation index, int nkeys, int norderbys)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	HnswScanOpaque so = palloc0(sizeof(HnswScanOpaqueData));

	so->cxt = AllocSetContextCreate(CurrentMemoryContext, "hnsw scan",
									ALLOCSET_DEFAULT_SIZES);
	scan->opaque = so;
	return scan;
}

void
hnswrescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys,
		   int norderbys)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;

	if (keys && scan->numberOfKeys > 0)
		memmove(scan->keyData, keys, scan->numberOfKeys * sizeof(ScanKeyData));
	if (orderbys && scan->numberOfOrderBys > 0)
		memmove(scan->orderByData, orderbys, scan->numberOfOrderBys * sizeof(ScanKeyData));

	MemoryContextReset(so->cxt);
	so->started = false;
	so->done = false;
	so->s = NULL;
	so->batch = NULL;
	so->nbatch = 0;
	so->pos = 0;
	so->lastDist = -FLT_MAX;
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
	if (scan->numberOfOrderBys == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot scan hnsw index without order"),
				 errhint("Use ORDER BY column <-> constant LIMIT k.")));
	if (scan->orderByData[0].sk_flags & SK_ISNULL)
	{
		so->done = true;		/* NULL query: nothing is at a distance */
		return;
	}
	HnswReadMeta(index, &so->meta);
	if (so->meta.entryLevel < 0)
	{
		so->done = true;
		return;
	}
	HnswInitDist(&so->d, so->meta.dims, so->meta.elemtype, so->meta.metric);
	so->query = palloc(HnswVecBytes(so->meta.dims, so->meta.elemtype));
	if (!HnswPrepareValue(&so->d, scan->orderByData[0].sk_argument, so->query))
	{
		so->done = true;		/* zero query vector under cosine */
		return;
	}
	so->s = HnswSearchCreate(index, &so->d, so->meta.m);
	so->s->query = so->query;
	ItemPointerSet(&entry, so->meta.entryBlkno, so->meta.entryOffno);
	HnswSearchGreedyDescend(so->s, &entry, so->meta.entryLevel, 0, &ep);
	HnswSearchReset(so->s);
	(void) HnswSearchVisit(so->s, &ep, 0, ef, true);
	HnswSearchLayer(so->s, 0, ef);
	so->batch = palloc(sizeof(int32) * Max(so->s->res.n, 1));
	so->nbatch = HnswSearchCollect(so->s, so->batch, so->s->res.n, true);
	so->pos = 0;
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
	int			ef = hnsw_ef_search;
	double		memLimit = (double) work_mem * 1024.0 * hnsw_scan_mem_multiplier;
	int			i;

	if (hnsw_iterative_scan == HNSW_ITERATIVE_OFF || s == NULL)
		return false;
	if (s->ndistances >= hnsw_max_scan_tuples || (double) s->memUsed > memLimit)
		return false;

	s->cand.n = 0;
	s->res.n = 0;
	for (i = 0; i < s->npool; i++)
	{
		HnswEntry  *e = &s->pool[i];

		e->inresult = false;
		if (!e->expanded)
			HnswHeapPush(&s->cand, e->dist, i);
		if (!e->emitted && e->ntids > 0)
		{
			HnswHeapPush(&s->res, e->dist, i);
			if (s->res.n > ef)
				HnswHeapPop(&s->res);
		}
	}
	if (s->cand.n == 0 && s->res.n == 0)
		return false;

	HnswSearchLayer(s, 0, ef);
	so->batch = repalloc(so->batch, sizeof(int32) * Max(s->res.n, 1));
	so->nbatch = HnswSearchCollect(s, so->batch, s->res.n, true);
	so->pos = 0;
	return true;
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
		while (so->pos < so->nbatch)
		{
			HnswEntry  *e = &so->s->pool[so->batch[so->pos]];

			if (e->emitted || e->tidpos >= e->ntids)
			{
				e->emitted = true;
				so->pos++;
				continue;
			}
			if (hnsw_iterative_scan == HNSW_ITERATIVE_STRICT && e->dist < so->lastDist)
			{
				e->emitted = true;	/* strict order: never go back */
				continue;
			}
			so->lastDist = e->dist;
			scan->xs_heaptid = e->heaptids[e->tidpos++];
			scan->xs_recheck = false;
			scan->xs_recheckorderby = false;
			MemoryContextSwitchTo(old);
			return true;
		}
		CHECK_FOR_INTERRUPTS();
		if (!NextBatch(scan))
			so->done = true;
	}
	MemoryContextSwitchTo(old);
	return false;
}

void
hnswendscan(IndexScanDesc scan)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;

	MemoryContextDelete(so->cxt);
	pfree(so);
	scan->opaque = NULL;
}
