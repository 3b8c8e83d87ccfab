/*-------------------------------------------------------------------------
 *
 * hnswutils.c
 *	  Binary heaps, neighbour selection and the on-disk graph search.
 *
 * The on-disk search touches each visited node's page once: while the
 * page is share-locked it computes the distance and, if the node enters
 * the candidate set, copies the neighbour list of the current level into
 * an arena, so expanding it later needs no second buffer access.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "port/pg_bitutils.h"

#include "access/generic_xlog.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/smgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "hnsw.h"
#include "hnswfilter.h"
#include "hnswwalk.h"

/* ---- heaps ---- */

void
HnswHeapInit(HnswHeap *h, int cap, bool max)
{
	h->cap = Max(cap, 16);
	h->n = 0;
	h->max = max;
	h->items = palloc(sizeof(HnswHeapItem) * h->cap);
}

static inline bool
HeapBefore(const HnswHeap *h, float a, float b)
{
	return h->max ? a > b : a < b;
}

void
HnswHeapPush(HnswHeap *h, float dist, int32 idx)
{
	int			i;

	if (h->n >= h->cap)
	{
		h->cap = h->cap * 2;
		h->items = repalloc_huge(h->items, sizeof(HnswHeapItem) * (Size) h->cap);
	}
	i = h->n++;
	while (i > 0)
	{
		int			p = (i - 1) / 2;

		if (!HeapBefore(h, dist, h->items[p].dist))
			break;
		h->items[i] = h->items[p];
		i = p;
	}
	h->items[i].dist = dist;
	h->items[i].idx = idx;
}

HnswHeapItem
HnswHeapPop(HnswHeap *h)
{
	HnswHeapItem top = h->items[0];
	HnswHeapItem last;
	int			i = 0;

	Assert(h->n > 0);
	last = h->items[--h->n];
	for (;;)
	{
		int			c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && HeapBefore(h, h->items[c + 1].dist, h->items[c].dist))
			c++;
		if (!HeapBefore(h, h->items[c].dist, last.dist))
			break;
		h->items[i] = h->items[c];
		i = c;
	}
	if (h->n > 0)
		h->items[i] = last;
	return top;
}

/* ---- neighbour selection (the paper's heuristic, Algorithm 4) ---- */

/*
 * Does candidate i repeat an earlier candidate exactly?  Identical vectors
 * have the same distance to the base, so only the run of equal distances
 * just before i needs comparing.
 */
static bool
RepeatsEarlier(const HnswDist *d, char **vecs, const float *dists, int i)
{
	int			j;

	for (j = i - 1; j >= 0 && dists[j] == dists[i]; j--)
	{
		if (HnswIdentical(d, vecs[i], vecs[j]))
			return true;
	}
	return false;
}

/*
 * HnswSelectNeighbours
 *		Candidates 0..n-1 are sorted by ascending distance dists[] to the
 *		base node.  A candidate is kept only if it is closer to the base than
 *		to every candidate already kept, which keeps edges spread over
 *		directions.  An exact duplicate of a kept candidate is redundant too
 *		(otherwise a set of identical vectors fills each other's lists and
 *		cuts itself off from the rest of the graph).
 *
 *		Inner product is no metric: a node of large norm is "closer" to
 *		everything than the base is, so there the heuristic alone prunes
 *		nearly every edge but the one to such a hub.  Under inner product
 *		the choice is therefore topped up to cap with the closest of the
 *		pruned candidates (the paper's keepPrunedConnections), exact
 *		repeats left out, both for a new node's own lists and when a full
 *		list gains a back link (README, "Inner product").  Re-selecting a
 *		full list with the heuristic alone cut it from 2m + 1 members to a
 *		few at every overflow, taking in-links away from the nodes dropped;
 *		with the top-up an overflow drops only the farthest non-pick
 *		(recall@20 at ef_search 40 on 10,000 random non-negative 3-dim
 *		vectors 0.967 -> 0.997; filling only new nodes' lists had lifted
 *		it from 0.89).  Not for sparse vectors: on 20,000 Zipf sparsevecs
 *		filling made the build 3.5 times slower and queries slower at
 *		equal recall, for +0.01 recall at equal ef.  Not under the
 *		metrics: there the heuristic keeps enough edges, and lists that
 *		are always full overflow at every back link (measured: filling
 *		under L2 lost nodes' only in-links on small graphs; README).
 *
 *		Writes the chosen indices to out[], ascending, and returns their
 *		count.
 */
int
HnswSelectNeighbours(const HnswDist *d, char **vecs, float *dists, int n,
					 int cap, int *out)
{
	int			nsel = 0;
	int			i;

	for (i = 0; i < n && nsel < cap; i++)
	{
		bool		good = true;
		int			j;

		for (j = 0; j < nsel; j++)
		{
			float		dcr = HnswDistance(d, vecs[i], vecs[out[j]]);

			if (dcr < dists[i] || (dcr == 0.0f && HnswIdentical(d, vecs[i], vecs[out[j]])))
			{
				good = false;
				break;
			}
		}
		if (good)
			out[nsel++] = i;
	}

	if (d->metric == VECX_METRIC_IP && d->elemtype != HNSW_ELEM_SPARSE &&
		nsel < cap && nsel < n)
	{
		int		   *merged = palloc(sizeof(int) * Min(n, cap));
		int			nm = 0;
		int			kj = 0;
		int			extra = cap - nsel;

		for (i = 0; i < n && (kj < nsel || extra > 0); i++)
		{
			if (kj < nsel && out[kj] == i)
			{
				merged[nm++] = i;
				kj++;
			}
			else if (extra > 0 && !RepeatsEarlier(d, vecs, dists, i))
			{
				merged[nm++] = i;
				extra--;
			}
		}
		memcpy(out, merged, sizeof(int) * nm);
		pfree(merged);
		nsel = nm;
	}
	return nsel;
}

/* ---- on-disk search ---- */

/*
 * Backend-local memory of which shared buffer last held each index block,
 * kept in rd_amcache.  ReadRecentBuffer() pins that buffer if it still holds
 * the block, skipping the buffer mapping table (a hash lookup under a
 * partition lock, and the costliest cache misses of a visit).  The cache is
 * looked up afresh on every call because a relcache rebuild frees it.
 */
typedef struct HnswRecentCache
{
	BlockNumber n;
	Buffer		buf[FLEXIBLE_ARRAY_MEMBER];
} HnswRecentCache;

/*
 * Prefetch the line pointer of item off on index block blkno into the CPU
 * cache, if we know which shared buffer held the block last (public buffer
 * manager calls only: the buffer descriptor, which pinning touches too, is
 * private to it).  A stale guess costs nothing but bandwidth.
 */
static inline void
PrefetchRecent(Relation index, BlockNumber blkno, OffsetNumber off)
{
	HnswRecentCache *c = (HnswRecentCache *) index->rd_amcache;
	Buffer		b;

	if (c == NULL || blkno >= c->n)
		return;
	b = c->buf[blkno];
	if (b <= 0)
		return;					/* unknown, or a local buffer */
	__builtin_prefetch(PageGetItemId((Page) BufferGetBlock(b), off));
}

/* PrefetchRecent for other files (hnswfmap.c pipelines its node visits) */
void
HnswPrefetchRecent(Relation index, BlockNumber blkno, OffsetNumber off)
{
	PrefetchRecent(index, blkno, off);
}

Buffer
HnswReadBuffer(Relation index, BlockNumber blkno)
{
	HnswRecentCache *c = (HnswRecentCache *) index->rd_amcache;
	Buffer		b;

	if (c != NULL && blkno < c->n)
	{
		b = c->buf[blkno];
		if (b != InvalidBuffer &&
			ReadRecentBuffer(RelationGetSmgr(index)->smgr_rnode.node, MAIN_FORKNUM, blkno, b))
			return b;
	}
	b = ReadBuffer(index, blkno);
	if (c == NULL || blkno >= c->n)
	{
		BlockNumber n = Max(blkno + 1, RelationGetNumberOfBlocks(index)) + 64;
		HnswRecentCache *nc;

		nc = MemoryContextAllocExtended(index->rd_indexcxt,
										add_size(offsetof(HnswRecentCache, buf),
												 mul_size(sizeof(Buffer), n)),
										MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
		nc->n = n;
		if (c != NULL)
		{
			memcpy(nc->buf, c->buf, sizeof(Buffer) * c->n);
			pfree(c);
		}
		index->rd_amcache = nc;
		c = nc;
	}
	c->buf[blkno] = b;
	return b;
}

/*
 * The visited set.  Keys are dense node numbers (block * perPage + offset
 * - 1 on pages, the node number in a graph copy).  Up to
 * hnsw.visited_bitmap_limit possible keys (2^18: 32 kB) a bitmap is fastest, and
 * clearing it at every level of the descent costs little; beyond that, a
 * bitmap would make every scan allocate and clear memory in proportion to
 * the index (137 kB, five times a query, at 1M rows of 128 dimensions), so
 * the keys visited go into an open-addressing hash set kept at most half
 * full.
 */
#define HNSW_VISITED_HASH_MIN		1024

static void
VisitedInit(HnswSearch *s, Size nkeys)
{
	s->visitedCount = 0;
	s->visitedHashed = nkeys > (Size) hnsw_visited_bitmap_limit;
	s->visitedWords = s->visitedHashed ? HNSW_VISITED_HASH_MIN : (nkeys + 63) / 64;
	s->visited = palloc_extended(s->visitedWords * sizeof(uint64),
								 MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
}

static inline Size
VisitedSlot(uint64 key, Size cap)
{
	/* multiplicative (Fibonacci) hashing: bits above the low 32 of the mix */
	return (Size) ((key * UINT64CONST(0x9E3779B97F4A7C15)) >> 32) & (cap - 1);
}

static bool VisitedTestSet(HnswSearch *s, uint64 key);

/* Double the hash set (or turn a bitmap that must grow into one) */
static void
VisitedGrow(HnswSearch *s, Size minKeys)
{
	uint64	   *old = s->visited;
	Size		oldWords = s->visitedWords;
	bool		wasHashed = s->visitedHashed;
	Size		cap = wasHashed ? oldWords * 2 : HNSW_VISITED_HASH_MIN;
	Size		i;

	if (!wasHashed && minKeys <= (Size) hnsw_visited_bitmap_limit)
	{
		/* a bitmap still small enough: extend it */
		Size		nw = (minKeys + 63) / 64 + 64;

		s->visited = repalloc_huge(s->visited, nw * sizeof(uint64));
		memset(s->visited + oldWords, 0, (nw - oldWords) * sizeof(uint64));
		s->memUsed += (nw - oldWords) * 8;
		s->visitedWords = nw;
		return;
	}
	if (!wasHashed)
	{
		Size		bits = 0;

		for (i = 0; i < oldWords; i++)
			bits += pg_popcount64(old[i]);
		while (cap < bits * 2)
			cap *= 2;
	}
	s->visited = palloc_extended(cap * sizeof(uint64), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	s->visitedWords = cap;
	s->visitedHashed = true;
	s->visitedCount = 0;
	s->memUsed += cap * 8;
	s->memUsed -= oldWords * 8;
	for (i = 0; i < oldWords; i++)
	{
		if (wasHashed)
		{
			if (old[i] != 0)
				(void) VisitedTestSet(s, old[i] - 1);
		}
		else
		{
			uint64		w = old[i];

			while (w != 0)
			{
				int			b = pg_rightmost_one_pos64(w);

				(void) VisitedTestSet(s, (uint64) i * 64 + b);
				w &= w - 1;
			}
		}
	}
	pfree(old);
}

/* Mark key visited; true if it was already */
static bool
VisitedTestSet(HnswSearch *s, uint64 key)
{
	Size		i;

	if (!s->visitedHashed)
	{
		uint64		mask = UINT64CONST(1) << (key % 64);

		if (key / 64 >= s->visitedWords)
			VisitedGrow(s, key + 1);
		if (!s->visitedHashed)
		{
			if (s->visited[key / 64] & mask)
				return true;
			s->visited[key / 64] |= mask;
			return false;
		}
	}
	if ((s->visitedCount + 1) * 2 > s->visitedWords)
		VisitedGrow(s, 0);
	for (i = VisitedSlot(key, s->visitedWords);; i = (i + 1) & (s->visitedWords - 1))
	{
		if (s->visited[i] == key + 1)
			return true;
		if (s->visited[i] == 0)
		{
			s->visited[i] = key + 1;
			s->visitedCount++;
			return false;
		}
	}
}

/* How much of each neighbour node to prefetch before computing distances */
#define HNSW_PREFETCH_BYTES		256

HnswSearch *
HnswSearchCreate(Relation index, const HnswLayout *lay)
{
	HnswSearch *s = palloc0(sizeof(HnswSearch));
	const HnswDist *d = &lay->d;
	int			m = lay->m;
	Size		minItem;

	s->index = index;
	s->lay = lay;
	s->dist = *d;
	s->m = m;
	s->nblocks = RelationGetNumberOfBlocks(index);
	s->walkBudget = hnsw_max_scan_tuples;
	minItem = MAXALIGN(HnswNodeSize(d->dims, d->elemtype, m, 0, d->overflow)) + sizeof(ItemIdData);
	s->perPage = (BLCKSZ - SizeOfPageHeaderData) / minItem + 1;
	VisitedInit(s, (Size) Max(s->nblocks, 1) * s->perPage);
	s->maxpool = 256;
	s->pool = palloc(sizeof(HnswEntry) * s->maxpool);
	s->maxarena = 256 * (Size) (2 * m);
	s->arena = palloc(sizeof(ItemPointerData) * s->maxarena);
	HnswHeapInit(&s->cand, 256, false);
	HnswHeapInit(&s->res, 256, true);
	s->memUsed = s->visitedWords * 8 + sizeof(HnswEntry) * s->maxpool +
		sizeof(ItemPointerData) * s->maxarena;
	return s;
}

void
HnswSearchReset(HnswSearch *s)
{
	/* an empty hash set is clear already */
	if (!s->visitedHashed || s->visitedCount > 0)
		memset(s->visited, 0, s->visitedWords * sizeof(uint64));
	s->visitedCount = 0;
	s->npool = 0;
	s->narena = 0;
	s->cand.n = 0;
	s->res.n = 0;
}

/* Test-and-set the visited mark of a node on the pages */
static bool
SearchMarkVisited(HnswSearch *s, BlockNumber blkno, OffsetNumber off)
{
	if (blkno == HNSW_METAPAGE_BLKNO || off < FirstOffsetNumber || off > s->perPage)
		HnswCorrupt(s->index, blkno, off, "neighbour pointer out of range");
	if (blkno >= s->nblocks)
	{
		/* the index may have grown through concurrent inserts */
		s->nblocks = RelationGetNumberOfBlocks(s->index);
		if (blkno >= s->nblocks)
			HnswCorrupt(s->index, blkno, off, "neighbour pointer beyond end of index");
	}
	return VisitedTestSet(s, (uint64) blkno * s->perPage + (off - 1));
}

static int32
SearchNewEntry(HnswSearch *s)
{
	if (s->npool >= s->maxpool)
	{
		s->memUsed += sizeof(HnswEntry) * s->maxpool;
		s->maxpool *= 2;
		s->pool = repalloc_huge(s->pool, sizeof(HnswEntry) * (Size) s->maxpool);
	}
	return s->npool++;
}

static void
SearchCopyNeighbours(HnswSearch *s, HnswEntry *e, HnswNodeHeader *node, int level)
{
	int			cnt;
	ItemPointerData *nbrs;

	e->nbrLevel = level;
	if (node->level < level)
	{
		e->nbrStart = 0;
		e->nbrCount = 0;
		return;
	}
	cnt = HnswLayoutCounts(s->lay, node)[level];
	nbrs = HnswLayoutList(s->lay, node, level);
	if (s->narena + cnt > s->maxarena)
	{
		s->memUsed += sizeof(ItemPointerData) * s->maxarena;
		s->maxarena = s->maxarena * 2 + cnt;
		s->arena = repalloc_huge(s->arena, sizeof(ItemPointerData) * s->maxarena);
	}
	memcpy(s->arena + s->narena, nbrs, sizeof(ItemPointerData) * cnt);
	e->nbrStart = s->narena;
	e->nbrCount = cnt;
	s->narena += cnt;
}

/* The fields of a new pool entry that page and copy walks set alike */
static inline void
SearchFillEntry(HnswSearch *s, HnswEntry *e, const void *vec, float dist, int level)
{
	e->tidpos = 0;
	e->dist = dist;
	e->lb = HnswLossyOrder(&s->dist) ?
		HnswFloatBelow(HnswSq8LowerBound(&s->dist, s->query, vec, dist)) : dist;
	e->expanded = false;
	e->emitted = false;
	e->inresult = false;
	e->nbrCount = 0;
	e->nbrLevel = level;
}

/*
 * Push a new entry on both heaps if it was admitted; returns what
 * HnswSearchVisit returns for it.
 */
/*
 * A node failing the scan's filter keys is walked through but never
 * returned: it joins the candidates only, so the ef results the walk
 * gathers before it stops are ef matching nodes, not ef nodes of which a
 * fraction match (at 10% selectivity, four).  The walk goes as deep as the
 * filter needs, within hnsw.max_scan_tuples distances (PageExpand); the
 * iterative scan's later batches and its exact pass take over from there.
 * True if the admitted node idx was such a node (and is now a candidate).
 */
static inline bool
SearchWalkThrough(HnswSearch *s, int32 idx)
{
	if (!s->pool[idx].nomatch)
		return false;
	HnswHeapPush(&s->cand, s->pool[idx].dist, idx);
	return true;
}

static inline int32
SearchAdmit(HnswSearch *s, int32 idx, bool admit)
{
	if (!admit)
		return -2 - idx;
	if (SearchWalkThrough(s, idx))
		return idx;
	HnswHeapPush(&s->cand, s->pool[idx].dist, idx);
	HnswHeapPush(&s->res, s->pool[idx].dist, idx);
	s->pool[idx].inresult = true;
	return idx;
}

/*
 * VisitPinned
 *		The part of a visit done with the node's buffer pinned (and already
 *		marked visited): lock, distance, pool, unlock, unpin.  Returns the
 *		pool index (-1 for a free node) and in *admit whether the node joins
 *		the ef results; the caller pushes it.
 */
static int32
VisitPinned(HnswSearch *s, ItemPointer tid, Buffer buf, int level, int ef, bool force,
			bool *admit)
{
	BlockNumber blkno = ItemPointerGetBlockNumber(tid);
	OffsetNumber off = ItemPointerGetOffsetNumber(tid);
	Page		page;
	HnswNodeHeader *node;
	float		dist;
	int32		idx;
	HnswEntry  *e;
	const void *vec;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	node = HnswLayoutGetNode(s->index, page, blkno, off, s->lay);
	if (node->state == HNSW_NODE_FREE)
	{
		UnlockReleaseBuffer(buf);
		return -1;
	}
	vec = HnswNodeVec(s->index, &s->dist, node, blkno, off);
	dist = HnswDistanceQ(&s->dist, s->query, vec);
	s->ndistances++;
	*admit = HnswWalkAdmits(&s->res, ef, dist, force);

	idx = SearchNewEntry(s);
	e = &s->pool[idx];
	SearchFillEntry(s, e, vec, dist, level);
	e->tid = *tid;
	e->ntids = 0;
	if (node->state == HNSW_NODE_LIVE && node->ntids <= HNSW_HEAPTIDS)
	{
		e->ntids = node->ntids;
		memcpy(e->heaptids, node->heaptids, sizeof(ItemPointerData) * node->ntids);
	}
	/* a node failing the scan's filter is walked like any other, never returned */
	e->nomatch = s->filter != NULL && node->state == HNSW_NODE_LIVE &&
		!HnswFilterMatch(s->filter,
						 HnswNodeFilter(s->index, page, blkno, off, node, s->lay));
	e->nbrStart = -1;
	e->gidx = -1;
	if (*admit)
		SearchCopyNeighbours(s, e, node, level);
	UnlockReleaseBuffer(buf);
	return idx;
}

/* ---- walking a graph copy (hnswcache.c) ---- */

/*
 * HnswSearchUseGraph
 *		Walk g instead of the index pages: the visited set is indexed by
 *		node number.
 */
void
HnswSearchUseGraph(HnswSearch *s, const HnswGraph *g, const void *walkQuery)
{
	pfree(s->visited);
	s->memUsed -= s->visitedWords * 8;
	VisitedInit(s, (Size) Max(g->nnodes, 1));
	s->memUsed += s->visitedWords * 8;
	s->graph = g;
	if (g->codes != NULL)
	{
		/* walk the codes with the query in sq8 query form */
		HnswInitDist(&s->walkDist, s->dist.dims, HNSW_ELEM_SQ8, g->srcElem,
					 s->dist.metric, false);
		s->walkQuery = walkQuery;
		s->walkVecs = g->codes;
		s->walkStride = g->cstride;
	}
	else
	{
		s->walkDist = s->dist;
		s->walkQuery = s->query;
		s->walkVecs = g->vecs;
		s->walkStride = g->vstride;
	}
}

static inline bool
GraphMarkVisited(HnswSearch *s, int32 gi)
{
	return VisitedTestSet(s, (uint64) gi);
}

/*
 * VisitPinned for a graph copy: no page to lock, nothing to check.  Never
 * called for a free node (the copy has no links to them; the entry point
 * is checked by HnswSearchVisit).
 */
static int32
GraphVisit(HnswSearch *s, int32 gi, int level, int ef, bool force, bool *admit)
{
	const char *vec = s->walkVecs + (Size) gi * s->walkStride;
	float		dist;
	int32		idx;
	HnswEntry  *e;

	dist = HnswDistanceQ(&s->walkDist, s->walkQuery, vec);
	s->ndistances++;
	*admit = HnswWalkAdmits(&s->res, ef, dist, force);

	/*
	 * The node's TIDs stay in the copy (HnswEntryTid, HnswEntryHeapTid), so
	 * a visit reads no more than the vector.  A copy walked on codes
	 * re-ranks its batches exactly (hnswscan.c), which then sets lb.
	 */
	idx = SearchNewEntry(s);
	e = &s->pool[idx];
	SearchFillEntry(s, e, vec, dist, level);
	ItemPointerSetInvalid(&e->tid);
	e->ntids = s->graph->ntids[gi];
	e->nomatch = false;
	e->nbrStart = 0;			/* the copy has them */
	e->gidx = gi;
	return idx;
}

/* How much of each neighbour's vector to prefetch in a graph copy */
#define HNSW_GRAPH_PREFETCH_BYTES	256

/*
 * HnswSearchVisit
 *		Compute the distance of an unvisited node and, if it belongs in the
 *		result set of size ef (or force), add it to the pool with a copy of
 *		its neighbours at this level and push it on both heaps.  Returns the
 *		pool index, or -1 if the node was visited or free; a node not
 *		admitted is still pooled (without neighbours, for iterative scans)
 *		and -2 - its index is returned.
 */
int32
HnswSearchVisit(HnswSearch *s, ItemPointer tid, int level, int ef, bool force)
{
	int32		idx;
	bool		admit;

	if (s->graph != NULL)
	{
		int32		gi = HnswGraphIndex(s->graph, tid);

		if (gi < 0 || s->graph->nodes[gi].state == HNSW_NODE_FREE ||
			GraphMarkVisited(s, gi))
			return -1;
		idx = GraphVisit(s, gi, level, ef, force, &admit);
	}
	else
	{
		if (SearchMarkVisited(s, ItemPointerGetBlockNumber(tid),
							  ItemPointerGetOffsetNumber(tid)))
			return -1;
		idx = VisitPinned(s, tid, HnswReadBuffer(s->index, ItemPointerGetBlockNumber(tid)),
						  level, ef, force, &admit);
		if (idx < 0)
			return -1;
	}
	return SearchAdmit(s, idx, admit);
}

/* Load the neighbours of an entry pooled without them. */
static void
SearchLoadNeighbours(HnswSearch *s, int32 idx, int level)
{
	HnswEntry  *e = &s->pool[idx];
	BlockNumber blkno = ItemPointerGetBlockNumber(&e->tid);
	OffsetNumber off = ItemPointerGetOffsetNumber(&e->tid);
	Buffer		buf;
	HnswNodeHeader *node;

	buf = HnswReadBuffer(s->index, blkno);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	node = HnswLayoutGetNode(s->index, BufferGetPage(buf), blkno, off, s->lay);
	e = &s->pool[idx];
	if (node->state == HNSW_NODE_FREE)
	{
		e->nbrStart = 0;
		e->nbrCount = 0;
	}
	else
		SearchCopyNeighbours(s, e, node, level);
	UnlockReleaseBuffer(buf);
}

/* ---- the walk's operations (hnswwalk.h) on pages and on graph copies ---- */

/* Pooled entries can be pushed again by iterative scans: expand once */
static inline bool
SearchClaim(void *g, int32 idx)
{
	HnswSearch *s = (HnswSearch *) g;

	if (s->pool[idx].expanded)
		return false;
	s->pool[idx].expanded = true;
	return true;
}

/* Evicted entries stay pooled, so an iterative scan can return them later */
static inline void
SearchEvict(void *g, int32 idx)
{
	((HnswSearch *) g)->pool[idx].inresult = false;
}

static inline bool
SearchSeed(void *g, int level)
{
	HnswSearch *s = (HnswSearch *) g;

	HnswSearchReset(s);
	return HnswSearchVisit(s, &s->cur, level, 1, true) >= 0;
}

static inline void
SearchSettle(void *g)
{
	HnswSearch *s = (HnswSearch *) g;

	s->cur = HnswEntryTid(s, &s->pool[HnswHeapTop(&s->res)->idx]);
}

/* Push a pooled node the walk admitted */
static inline bool
SearchWalkItem(HnswSearch *s, int32 idx, bool admit, HnswHeapItem *item)
{
	if (idx < 0 || !admit)
		return false;
	s->pool[idx].inresult = true;
	item->dist = s->pool[idx].dist;
	item->idx = idx;
	return true;
}

/*
 * PageExpand
 *		Gather the unvisited neighbours of pool entry ci and get their memory
 *		on its way before we need it, in three passes: prefetch the buffer
 *		descriptors and line pointers we expect; pin every buffer; prefetch
 *		each node.  PageVisit then locks and computes one by one.  Only pins
 *		are held together, never two buffer locks.
 */
static inline int
PageExpand(void *g, int32 ci, int level)
{
	HnswSearch *s = (HnswSearch *) g;
	HnswEntry  *e = &s->pool[ci];
	int			i,
				nt;
	Size		nbrBytes = 2 + sizeof(ItemPointerData) * 2 * s->m;
	Size		inlineBytes = HnswInlineBytes(s->dist.dims, s->dist.elemtype, s->dist.overflow);

	/*
	 * A filtered walk out of budget expands nothing more: it ends with the
	 * results it has, and the scan moves on to its exact pass or (the first
	 * batch's probe budget, hnswscan.c) resumes the walk.  The node stays
	 * unexpanded, so a resumed walk expands it then.
	 */
	if (s->filter != NULL && s->ndistances >= s->walkBudget)
	{
		e->expanded = false;
		return 0;
	}
	if (e->nbrStart < 0 || e->nbrLevel != level)
		SearchLoadNeighbours(s, ci, level);

	nt = 0;
	for (i = 0; i < s->pool[ci].nbrCount; i++)
	{
		ItemPointerData tid = s->arena[s->pool[ci].nbrStart + i];

		if (!ItemPointerIsValid(&tid) ||
			SearchMarkVisited(s, ItemPointerGetBlockNumber(&tid),
							  ItemPointerGetOffsetNumber(&tid)))
			continue;
		s->todo[nt++] = tid;
		PrefetchRecent(s->index, ItemPointerGetBlockNumber(&tid),
					   ItemPointerGetOffsetNumber(&tid));
	}
	for (i = 0; i < nt; i++)
		s->todoBufs[i] = HnswReadBuffer(s->index, ItemPointerGetBlockNumber(&s->todo[i]));
	for (i = 0; i < nt; i++)
	{
		Page		page = BufferGetPage(s->todoBufs[i]);
		ItemId		iid = PageGetItemId(page, ItemPointerGetOffsetNumber(&s->todo[i]));
		Size		start = ItemIdGetOffset(iid);
		Size		len = Min(ItemIdGetLength(iid), HNSW_PREFETCH_BYTES);
		Size		o;

		/* the special space, checked by HnswGetNode */
		__builtin_prefetch((char *) page + BLCKSZ - sizeof(HnswPageOpaqueData));
		/* unlocked read: only a prefetch address, bounded to the page */
		if (start >= BLCKSZ)
			continue;
		len = Min(len, BLCKSZ - start);
		for (o = 0; o < len; o += 64)
			__builtin_prefetch((char *) page + start + o);
		/* counts and level-0 neighbours follow the vector */
		o = start + HNSW_NODE_HDRSZ + inlineBytes;
		for (; o < start + HNSW_NODE_HDRSZ + inlineBytes + nbrBytes && o < BLCKSZ; o += 64)
			__builtin_prefetch((char *) page + o);
	}
	return nt;
}

/* A node failing the filter keys becomes a candidate here (SearchWalkThrough) */
static inline bool
PageVisit(void *g, int i, int nt, int level, int ef, HnswHeapItem *item)
{
	HnswSearch *s = (HnswSearch *) g;
	bool		admit;
	int32		idx;

	idx = VisitPinned(s, &s->todo[i], s->todoBufs[i], level, ef, false, &admit);
	if (idx >= 0 && admit && SearchWalkThrough(s, idx))
		return false;
	return SearchWalkItem(s, idx, admit, item);
}

/*
 * GraphExpand
 *		Gather the unvisited neighbours of pool entry ci in a graph copy and
 *		prefetch the first lines of each; the rest of a vector is fetched two
 *		visits ahead (GraphWalkVisit), so a distance does not stall line by
 *		line (fetching every whole vector at once is slower).
 */
static inline int
GraphExpand(void *g, int32 ci, int level)
{
	HnswSearch *s = (HnswSearch *) g;
	const HnswGraph *gr = s->graph;
	Size		pf = Min(HNSW_GRAPH_PREFETCH_BYTES, s->walkStride);
	const int32 *nbrs;
	int			cnt,
				nt = 0,
				i;

	nbrs = HnswGraphNbrs(gr, s->pool[ci].gidx, level, &cnt);
	for (i = 0; i < cnt; i++)
	{
		int32		gi = nbrs[i];

		if (GraphMarkVisited(s, gi))
			continue;
		s->todoGraph[nt++] = gi;
		HnswPrefetch(s->walkVecs + (Size) gi * s->walkStride, 0, pf);
		__builtin_prefetch(&gr->ntids[gi]);
	}
	if (nt > 1)
		HnswPrefetch(s->walkVecs + (Size) s->todoGraph[1] * s->walkStride, pf, s->walkStride);
	return nt;
}

static inline bool
GraphWalkVisit(void *g, int i, int nt, int level, int ef, HnswHeapItem *item)
{
	HnswSearch *s = (HnswSearch *) g;
	Size		pf = Min(HNSW_GRAPH_PREFETCH_BYTES, s->walkStride);
	bool		admit;
	int32		idx;

	if (i + 2 < nt)
		HnswPrefetch(s->walkVecs + (Size) s->todoGraph[i + 2] * s->walkStride,
					 pf, s->walkStride);
	idx = GraphVisit(s, s->todoGraph[i], level, ef, false, &admit);
	return SearchWalkItem(s, idx, admit, item);
}

static const HnswWalkOps PageWalkOps = {
	SearchClaim, PageExpand, PageVisit, SearchEvict, SearchSeed, SearchSettle
};

static const HnswWalkOps GraphWalkOps = {
	SearchClaim, GraphExpand, GraphWalkVisit, SearchEvict, SearchSeed, SearchSettle
};

/*
 * HnswSearchLayer
 *		Best-first search of one layer (HnswWalkLayer) from the entries
 *		already on the candidate heap.  Entries evicted from the result heap
 *		keep inresult = false; they stay in the pool so an iterative scan
 *		can return them later.
 */
void
HnswSearchLayer(HnswSearch *s, int level, int ef)
{
	if (s->graph != NULL)
		HnswWalkLayer(&GraphWalkOps, s, &s->cand, &s->res, level, ef);
	else
		HnswWalkLayer(&PageWalkOps, s, &s->cand, &s->res, level, ef);
}

/*
 * HnswSearchGreedyDescend
 *		Walk from the entry point down to targetLevel + 1 keeping only the
 *		closest node (HnswWalkDescend); *out receives the node to start the
 *		search of targetLevel from (the entry itself if it was freed under
 *		us).
 */
void
HnswSearchGreedyDescend(HnswSearch *s, ItemPointer entry, int entryLevel,
						int targetLevel, ItemPointer out)
{
	s->cur = *entry;
	if (s->graph != NULL)
		HnswWalkDescend(&GraphWalkOps, s, &s->cand, &s->res, entryLevel, targetLevel);
	else
		HnswWalkDescend(&PageWalkOps, s, &s->cand, &s->res, entryLevel, targetLevel);
	*out = s->cur;
}

/*
 * HnswSearchCollect
 *		Drain the result heap into out[] in ascending distance order
 *		(pool indices); with liveOnly, drop nodes that are not live.
 */
int
HnswSearchCollect(HnswSearch *s, int32 *out, int max, bool liveOnly)
{
	int			n = s->res.n;
	int32	   *tmp = palloc(sizeof(int32) * Max(n, 1));
	int			i,
				k = 0;

	for (i = n - 1; i >= 0; i--)
		tmp[i] = HnswHeapPop(&s->res).idx;
	for (i = 0; i < n && k < max; i++)
	{
		if (liveOnly && s->pool[tmp[i]].ntids == 0)
			continue;
		out[k++] = tmp[i];
	}
	pfree(tmp);
	return k;
}

/*
 * HnswWriteNbrList
 *		Replace the level-"level" neighbour list of the node at off on buf
 *		(locked exclusively by the caller) with upd[0..nupd), unused slots
 *		invalid, in one generic WAL record: the write of an insert's
 *		backlink and of vacuum's repairs.
 */
void
HnswWriteNbrList(Relation index, Buffer buf, OffsetNumber off,
				 const HnswLayout *lay, int level,
				 const ItemPointerData *upd, int nupd)
{
	GenericXLogState *state = GenericXLogStart(index);
	Page		page = GenericXLogRegisterBuffer(state, buf, 0);
	HnswNodeHeader *node = (HnswNodeHeader *) PageGetItem(page, PageGetItemId(page, off));
	uint8	   *counts = HnswLayoutCounts(lay, node);
	ItemPointerData *list = HnswLayoutList(lay, node, level);
	int			i;

	memcpy(list, upd, sizeof(ItemPointerData) * nupd);
	for (i = nupd; i < HnswLevelCap(lay->m, level); i++)
		ItemPointerSetInvalid(&list[i]);
	counts[level] = nupd;
	GenericXLogFinish(state);
}
