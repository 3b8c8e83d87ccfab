/*-------------------------------------------------------------------------
 *
 * hnswfilter.c
 *	  Filter key columns of hnsw indexes and the exhaustive (exact) pass.
 *
 * Forming, preparing and matching filter payloads is shared with ivfpq
 * (common/vecxfilter.c); what is hnsw's own is where a node keeps its
 * payload and the exhaustive pass.
 *
 * The exhaustive pass returns the live, matching, not yet returned nodes in
 * distance order: with scan keys on an index with a filter map, through
 * the map (hnswfmap.c); otherwise by reading every index page once.  It makes an
 * iterative scan exact once the graph walk is out of budget, and serves
 * scans that have no ORDER BY.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "hnswfilter.h"
#include "hnswfmap.h"

bool		hnsw_exact_fallback = true;

/*
 * HnswFilterInit
 *		Register the filter settings; called from HnswInit.
 */
void
HnswFilterInit(void)
{
	DefineCustomBoolVariable("hnsw.exact_fallback",
							 "Finishes an iterative scan with an exact pass over the index once its graph walk is out of budget.",
							 "With it, an iterative scan returns every row the query asks for; "
							 "without it, a scan stops at hnsw.max_scan_tuples as in pgvector.",
							 &hnsw_exact_fallback, true,
							 PGC_USERSET, 0, NULL, NULL, NULL);
}

/* ---- index shape ---- */

void
HnswCheckIndexColumns(Relation index)
{
	VecxCheckFilterColumns(index, "hnsw", HNSW_INFO_PROC);
}

/*
 * HnswNodeFilter
 *		The filter payload of a node on a locked page, after checking that
 *		the item is long enough to hold it.
 */
const char *
HnswNodeFilter(Relation index, Page page, BlockNumber blkno, OffsetNumber off,
			   HnswNodeHeader *node, const HnswLayout *lay)
{
	Size		at = HnswNodeSize(lay->d.dims, lay->d.elemtype, lay->m, node->level,
								  HnswNodeIsOvf(node));

	if (ItemIdGetLength(PageGetItemId(page, off)) < at + lay->fbytes)
		HnswCorrupt(index, blkno, off, "node too short for its filter payload");
	return (const char *) node + at;
}

/* ---- exhaustive pass ---- */

static int
CompareEmitted(const void *a, const void *b)
{
	return ItemPointerCompare(&((HnswEmitted *) a)->tid,
							  &((HnswEmitted *) b)->tid);
}

static int
CompareItems(const void *a, const void *b)
{
	HnswExhaustItem *x = (HnswExhaustItem *) a;
	HnswExhaustItem *y = (HnswExhaustItem *) b;

	if (x->dist < y->dist)
		return -1;
	if (x->dist > y->dist)
		return 1;
	return ItemPointerCompare(&x->heaptid, &y->heaptid);
}

/* Sort emitted[] by node TID for HnswExhaustAddNode's lookups. */
void
HnswEmittedSort(HnswEmitted *emitted, int nemitted)
{
	if (nemitted > 1)
		qsort(emitted, nemitted, sizeof(HnswEmitted), CompareEmitted);
}

/*
 * HnswExhaustAddNode
 *		Append the heap TIDs of the live node at nodetid (locked by the
 *		caller) that the scan has not returned yet (emitted[], sorted by
 *		HnswEmittedSort), all at the node's distance (its lower bound in the
 *		operator's units for sq8 indexes); *cap is the size of ex->items.  The distance is computed only if some TID remains.
 */
void
HnswExhaustAddNode(HnswExhaust *ex, Size *cap, Relation index, const HnswDist *d,
				   const void *query, ItemPointer nodetid, HnswNodeHeader *node,
				   const HnswEmitted *emitted, int nemitted)
{
	int			skip = 0;
	int			j;
	float		dist;

	if (nemitted > 0)
	{
		HnswEmitted key;
		HnswEmitted *hit;

		key.tid = *nodetid;
		hit = bsearch(&key, emitted, nemitted, sizeof(HnswEmitted), CompareEmitted);
		if (hit)
			skip = hit->ntids;
	}
	if (skip >= node->ntids)
		return;
	dist = 0.0f;
	if (query)
	{
		const void *vec = HnswNodeVec(index, d, node, ItemPointerGetBlockNumber(nodetid),
									  ItemPointerGetOffsetNumber(nodetid));

		dist = HnswDistanceQ(d, query, vec);
		/* lossy order: items are sorted and returned by their lower bound */
		if (HnswLossyOrder(d))
			dist = HnswFloatBelow(HnswSq8LowerBound(d, query, vec, dist));
	}
	for (j = skip; j < node->ntids; j++)
	{
		if (ex->n >= *cap)
		{
			*cap *= 2;
			ex->items = repalloc_huge(ex->items, sizeof(HnswExhaustItem) * *cap);
		}
		ex->items[ex->n].dist = dist;
		ex->items[ex->n].heaptid = node->heaptids[j];
		ex->n++;
	}
}

/*
 * HnswExhaustRun
 *		Read every data page and collect (distance, heap TID) of each live
 *		node that passes the filter, skipping the heap TIDs listed in
 *		emitted[] (already returned by the graph walk), sorted by distance.
 *		query == NULL: no ordering (every distance is 0).
 */
HnswExhaust *
HnswExhaustRun(Relation index, const HnswMetaPageData *meta, const HnswLayout *lay,
			   const void *query, const HnswFilter *filter,
			   HnswEmitted *emitted, int nemitted)
{
	HnswExhaust *ex = palloc0(sizeof(HnswExhaust));
	Size		cap = 1024;
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	BlockNumber blkno;
	int			nfilter = HnswFilterColumns(index);
	BufferAccessStrategy bas;

	/* with scan keys, the filter map finds the matching nodes (hnswfmap.c) */
	if (filter != NULL && filter->nkeys > 0 && meta->nfilter > 0)
		return HnswMapRun(index, meta, lay, query, filter, emitted, nemitted, 0);

	bas = GetAccessStrategy(BAS_BULKREAD);
	HnswEmittedSort(emitted, nemitted);
	ex->items = palloc(sizeof(HnswExhaustItem) * cap);

	for (blkno = HNSW_METAPAGE_BLKNO + 1; blkno < nblocks; blkno++)
	{
		Buffer		buf;
		Page		page;
		OffsetNumber off,
					maxoff;

		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, bas);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (PageIsNew(page) || PageGetSpecialSize(page) != MAXALIGN(sizeof(HnswPageOpaqueData)) ||
			HnswPageGetOpaque(page)->page_id != HNSW_PAGE_ID ||
			!(HnswPageGetOpaque(page)->flags & HNSW_PAGE_NODES))
		{
			UnlockReleaseBuffer(buf);
			continue;			/* a page being added by a concurrent insert */
		}
		maxoff = PageGetMaxOffsetNumber(page);
		for (off = FirstOffsetNumber; off <= maxoff; off++)
		{
			HnswNodeHeader *node;
			ItemPointerData nodetid;

			if (!ItemIdIsNormal(PageGetItemId(page, off)))
				continue;
			node = HnswLayoutGetNode(index, page, blkno, off, lay);
			if (node->state != HNSW_NODE_LIVE)
				continue;
			if (filter && nfilter > 0 &&
				!HnswFilterMatch(filter, HnswNodeFilter(index, page, blkno, off, node, lay)))
				continue;
			ItemPointerSet(&nodetid, blkno, off);
			HnswExhaustAddNode(ex, &cap, index, &lay->d, query, &nodetid, node,
							   emitted, nemitted);
		}
		UnlockReleaseBuffer(buf);
		CHECK_FOR_INTERRUPTS();
	}
	FreeAccessStrategy(bas);
	if (query && ex->n > 1)
		qsort(ex->items, ex->n, sizeof(HnswExhaustItem), CompareItems);
	ex->sorted = ex->n;
	return ex;
}

/*
 * HnswExhaustNext
 *		The next item of an exhaustive pass in order, or NULL.  Items past
 *		ex->sorted are unordered: the next chunk (doubling, from 64) is
 *		selected and sorted only when the scan gets there, since most
 *		queries want a few rows out of many matches.
 */
HnswExhaustItem *
HnswExhaustNext(HnswExhaust *ex)
{
	if (ex->pos >= ex->n)
		return NULL;
	if (ex->pos >= ex->sorted)
	{
		Size		chunk = Max(64, ex->sorted);
		Size		lo = ex->sorted;
		Size		hi = ex->n;
		Size		want = Min(lo + chunk, ex->n);

		/*
		 * Quickselect: narrow [lo, hi) around want, keeping everything in
		 * [sorted, lo) below [lo, hi) below [hi, n); then sort [sorted, hi)
		 * (at least want - sorted items, all smaller than the rest).  Each
		 * Hoare step on more than 2 items shrinks the range.
		 */
		while (hi - lo > 32 && lo < want && want < hi)
		{
			HnswExhaustItem pivot = ex->items[lo + (hi - lo) / 2];
			Size		i = lo,
						j = hi - 1;

			for (;;)
			{
				HnswExhaustItem t;

				while (CompareItems(&ex->items[i], &pivot) < 0)
					i++;
				while (CompareItems(&ex->items[j], &pivot) > 0)
					j--;
				if (i >= j)
					break;
				t = ex->items[i];
				ex->items[i] = ex->items[j];
				ex->items[j] = t;
				i++;
				j--;
			}
			/* items[lo, j] <= pivot <= items[j + 1, hi) */
			if (want <= j + 1)
				hi = j + 1;
			else
				lo = j + 1;
		}
		if (want > lo)
			want = hi;
		if (want - ex->sorted > 1)
			qsort(ex->items + ex->sorted, want - ex->sorted, sizeof(HnswExhaustItem),
				  CompareItems);
		ex->sorted = want;
	}
	return &ex->items[ex->pos++];
}

/*
 * HnswMaxLevelForFilter
 *		Highest level whose node, with its filter payload, fits on a page;
 *		-1 if none does.
 */
/* Distances the first filtered walk computes before it stops to choose */
double
HnswFilterProbe(int m, int ef)
{
	return Min((double) HNSW_FILTER_PROBE * m * ef, (double) hnsw_max_scan_tuples);
}

/*
 * The ef a filtered walk gathers at match rate rate: ef x
 * HNSW_FILTER_WIDEN_RATE / rate, between ef and HNSW_FILTER_WIDEN x ef.
 * A correlated filter (most nodes near the query match: Fashion-MNIST's
 * own labels, 0.71 on average) keeps ef; the rate 0.3 rather than 0.5
 * spares its less typical queries a wider walk for no measured recall.
 */
int
HnswFilterWalkEf(int ef, double rate)
{
	double		widen = Min(HNSW_FILTER_WIDEN, Max(1.0, HNSW_FILTER_WIDEN_RATE / Max(rate, 1e-9)));

	return (int) Min(ceil(ef * widen), (double) HNSW_MAX_EF_SEARCH);
}

/*
 * What a filtered walk gathering ef matches at match rate rate costs, in
 * map pass visits: it passes about ef / rate nodes in distance order and
 * computes about 0.6 m distances per node passed (measured at m = 16:
 * 8.9-9.7), each costing about 1.4 times a map pass's visit (a walk also
 * reads neighbour lists and keeps two heaps): m x ef / rate.
 */
double
HnswFilterWalkVisits(int m, int ef, double rate)
{
	return (double) m * ef / Max(rate, 1e-9);
}

int
HnswMaxLevelForFilter(int dims, int elemtype, int m, Size fbytes, bool ovf)
{
	int			l;

	for (l = HNSW_MAX_LEVEL; l >= 0; l--)
		if (HnswNodeSize(dims, elemtype, m, l, ovf) + fbytes <= HNSW_MAX_ITEM_SIZE)
			return l;
	return -1;
}
