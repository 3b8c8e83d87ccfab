/*-------------------------------------------------------------------------
 *
 * hnswbuild.c
 *	  Index build: the graph is built in memory, then written out page by
 *	  page and WAL-logged in bulk.
 *
 * The in-memory graph uses dense node numbers (int32) and an epoch-stamped
 * visited array.  Once it would exceed maintenance_work_mem the graph built
 * so far is written out, a NOTICE is raised, and the remaining tuples are
 * inserted with the on-disk insert path.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xloginsert.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "miscadmin.h"
#include "optimizer/optimizer.h"
#include "optimizer/plancat.h"
#include "port/atomics.h"
#include "storage/spin.h"
#include "utils/snapmgr.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "storage/smgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "hnsw.h"
#include "am/common/vecxparallel.h"
#include "hnswfilter.h"
#include "hnswfmap.h"
#include "hnswwalk.h"

/*
 * The state of a layer walk over a build graph (hnswwalk.h), the first
 * member of both the serial and the parallel build state: nodes are build
 * node numbers, the visited set an epoch-stamped array.
 */
typedef struct BuildWalk
{
	uint32	   *epochs;
	uint32		epoch;
	HnswHeap	cand;
	HnswHeap	res;
	const char *q;				/* the vector being inserted */
	const int32 *nbrs;			/* neighbours of the node being expanded */
	int32		cur;			/* greedy descent: the current entry */
	float		curDist;
	/* selection scratch, Max(efc, 2m) + 2 each, reused by every insertion */
	HnswHeapItem *found;
	char	  **vecs;
	float	   *dists;
	int		   *pick;
} BuildWalk;

typedef struct BuildNode
{
	uint8		ntids;
	ItemPointerData heaptids[HNSW_HEAPTIDS];
	ItemPointerData tid;		/* location once written */
	int			level;
	char	   *vec;
	char	   *filter;			/* filter payload, NULL without filter columns */
	uint8	   *counts;
	int32	   *nbrs;			/* HnswTotalSlots(m, level) slots */
} BuildNode;

typedef struct HnswBuildState
{
	BuildWalk	w;				/* first: the walk's ops get a BuildWalk */
	Relation	heap;
	Relation	index;
	const HnswOpInfo *info;
	HnswDist	d;
	int			elemtype;		/* of the stored form */
	int			dims;
	int			m;
	int			efc;
	int			maxLevel;
	Size		vbytes;
	int			nfilter;		/* filter key columns */
	Size		fbytes;			/* their payload per node */

	BuildNode  *nodes;
	int			nnodes;
	int			maxnodes;
	int			entry;
	int			entryLevel;


	MemoryContext graphCxt;
	MemoryContext tmpCxt;
	Size		memLimit;
	bool		onDisk;			/* graph flushed; insert on disk from now */
	double		reltuples;
	double		indtuples;
} HnswBuildState;

static inline int32 *
NodeLevelNbrs(HnswBuildState *bs, BuildNode *n, int level)
{
	return n->nbrs + HnswLevelStart(bs->m, level);
}

/* Start a new walk: a fresh epoch (the array of n stamps is cleared on wrap) */
static void
BuildNewEpoch(BuildWalk *w, Size n)
{
	w->epoch++;
	if (w->epoch == 0)
	{
		memset(w->epochs, 0, sizeof(uint32) * n);
		w->epoch = 1;
	}
}

/* Test-and-set node e's visited stamp */
static inline bool
BuildVisited(BuildWalk *w, int32 e)
{
	if (w->epochs[e] == w->epoch)
		return true;
	w->epochs[e] = w->epoch;
	return false;
}

/* ---- the walk's operations (hnswwalk.h) on build graphs ---- */

/* A node is pushed once per walk (it is marked visited first) */
static inline bool
BuildClaim(void *g, int32 idx)
{
	return true;
}

/* An evicted node is simply forgotten */
static inline void
BuildEvict(void *g, int32 idx)
{
}

/* Visit the i'th neighbour of the node expanded, vec its vector */
static inline bool
BuildVisit(BuildWalk *w, const HnswDist *d, int32 e, const char *vec, int ef,
		   HnswHeapItem *item)
{
	float		dist;

	dist = HnswDistance(d, w->q, vec);
	if (!HnswWalkAdmits(&w->res, ef, dist, false))
		return false;
	item->dist = dist;
	item->idx = e;
	return true;
}

/* Seed a walk at a level with the current entry alone */
static inline void
BuildSeed(BuildWalk *w, Size nstamps)
{
	BuildNewEpoch(w, nstamps);
	w->epochs[w->cur] = w->epoch;
	w->cand.n = 0;
	w->res.n = 0;
	HnswHeapPush(&w->cand, w->curDist, w->cur);
	HnswHeapPush(&w->res, w->curDist, w->cur);
}

static inline void
BuildSettle(void *g)
{
	BuildWalk  *w = (BuildWalk *) g;

	w->cur = HnswHeapTop(&w->res)->idx;
	w->curDist = HnswHeapTop(&w->res)->dist;
}

/* The stored vector of build node id */
typedef const char *(*BuildVecFn) (void *g, int32 id);

/* Drain the result heap into found[], closest first; returns the count */
static inline int
BuildDrain(BuildWalk *w)
{
	int			n = w->res.n,
				i;

	for (i = n - 1; i >= 0; i--)
		w->found[i] = HnswHeapPop(&w->res);
	return n;
}

/*
 * BuildSearchLevel
 *		The search of one level in an insertion: a walk with ef = efc from
 *		the nseeds nodes in found[] (the results of the level above), node
 *		self never visited.  found[] receives the results, closest first;
 *		returns their count.
 */
static pg_attribute_always_inline int
BuildSearchLevel(const HnswWalkOps *ops, void *g, Size nstamps, int32 self,
				 int nseeds, int level, int efc)
{
	BuildWalk  *w = (BuildWalk *) g;
	int			i;

	BuildNewEpoch(w, nstamps);
	w->epochs[self] = w->epoch;
	w->cand.n = 0;
	w->res.n = 0;
	for (i = 0; i < nseeds; i++)
	{
		w->epochs[w->found[i].idx] = w->epoch;
		HnswHeapPush(&w->cand, w->found[i].dist, w->found[i].idx);
		HnswHeapPush(&w->res, w->found[i].dist, w->found[i].idx);
	}
	while (w->res.n > efc)
		HnswHeapPop(&w->res);
	HnswWalkLayer(ops, g, &w->cand, &w->res, level, efc);
	return BuildDrain(w);
}

/*
 * BuildSelect
 *		The neighbour heuristic (HnswSelectNeighbours) over the n nodes in
 *		found[], closest first: pick[] receives the indices into found[] of
 *		at most cap nodes kept; returns how many.
 */
static pg_attribute_always_inline int
BuildSelect(void *g, const HnswDist *d, BuildVecFn vecOf, int n, int cap)
{
	BuildWalk  *w = (BuildWalk *) g;
	int			i;

	for (i = 0; i < n; i++)
	{
		w->vecs[i] = (char *) vecOf(g, w->found[i].idx);
		w->dists[i] = w->found[i].dist;
	}
	return HnswSelectNeighbours(d, w->vecs, w->dists, n, cap, w->pick, NULL);
}

/*
 * BuildPrune
 *		Node from's full list (the cnt nodes in list[]) gains node to at
 *		dist: the heuristic over the old neighbours and the new one.
 *		pick[] indexes found[]; returns how many are kept.
 */
static pg_attribute_always_inline int
BuildPrune(void *g, const HnswDist *d, BuildVecFn vecOf, int32 from,
		   const int32 *list, int cnt, int32 to, float dist, int cap)
{
	BuildWalk  *w = (BuildWalk *) g;
	const char *fv = vecOf(g, from);
	int			i;

	w->res.n = 0;
	for (i = 0; i < cnt; i++)
		HnswHeapPush(&w->res, HnswDistance(d, fv, vecOf(g, list[i])), list[i]);
	HnswHeapPush(&w->res, dist, to);
	return BuildSelect(g, d, vecOf, BuildDrain(w), cap);
}

/* Serial build: the lists are read in place, visited is tested in MemVisit */
static inline int
MemExpand(void *g, int32 idx, int level)
{
	HnswBuildState *bs = (HnswBuildState *) g;
	BuildNode  *cn = &bs->nodes[idx];

	if (cn->level < level)
		return 0;
	bs->w.nbrs = NodeLevelNbrs(bs, cn, level);
	return cn->counts[level];
}

static inline bool
MemVisit(void *g, int i, int nt, int level, int ef, HnswHeapItem *item)
{
	HnswBuildState *bs = (HnswBuildState *) g;
	int32		e = bs->w.nbrs[i];

	if (BuildVisited(&bs->w, e))
		return false;
	return BuildVisit(&bs->w, &bs->d, e, bs->nodes[e].vec, ef, item);
}

static inline bool
MemSeed(void *g, int level)
{
	HnswBuildState *bs = (HnswBuildState *) g;

	BuildSeed(&bs->w, bs->maxnodes);
	return true;
}

static inline const char *
MemVec(void *g, int32 id)
{
	return ((HnswBuildState *) g)->nodes[id].vec;
}

static const HnswWalkOps MemWalkOps = {
	BuildClaim, MemExpand, MemVisit, BuildEvict, MemSeed, BuildSettle
};

/* Make node 'from' link to node 'to' at level, pruning if full. */
static void
MemAddLink(HnswBuildState *bs, int32 from, int32 to, int level, float dist)
{
	BuildNode  *fn = &bs->nodes[from];
	int32	   *nb = NodeLevelNbrs(bs, fn, level);
	int			cap = HnswLevelCap(bs->m, level);
	int			cnt = fn->counts[level];
	int			i,
				k;

	if (cnt < cap)
	{
		nb[cnt] = to;
		fn->counts[level] = cnt + 1;
		return;
	}

	/* full: heuristic selection over old neighbours plus the new one */
	k = BuildPrune(bs, &bs->d, MemVec, from, nb, cnt, to, dist, cap);
	for (i = 0; i < k; i++)
		nb[i] = bs->w.found[bs->w.pick[i]].idx;
	fn->counts[level] = k;
}

/*
 * Insert node number 'id' (already stored in bs->nodes) into the graph.
 * Returns false if it was an exact duplicate of a node found by the search
 * of its top level: its heap TID was added to that node instead.
 */
static bool
MemInsert(HnswBuildState *bs, int32 id)
{
	BuildNode  *node = &bs->nodes[id];
	const char *q = node->vec;
	int			l;
	int			top;
	int			nseeds;
	int32		spliced;

	if (bs->entry < 0)
	{
		bs->entry = id;
		bs->entryLevel = node->level;
		return true;
	}

	bs->w.q = q;
	bs->w.cur = bs->entry;
	bs->w.curDist = HnswDistance(&bs->d, q, bs->nodes[bs->entry].vec);
	HnswWalkDescend(&MemWalkOps, bs, &bs->w.cand, &bs->w.res, bs->entryLevel, node->level);

	top = Min(node->level, bs->entryLevel);
	bs->w.found[0].idx = bs->w.cur;
	bs->w.found[0].dist = bs->w.curDist;
	nseeds = 1;
	for (l = top; l >= 0; l--)
	{
		int			i,
					n,
					k;
		int			cap = HnswLevelCap(bs->m, l);
		int32	   *nb = NodeLevelNbrs(bs, node, l);

		n = BuildSearchLevel(&MemWalkOps, bs, bs->maxnodes, id, nseeds, l, bs->efc);
		nseeds = n;

		for (i = 0; l == top && i < n && i < 4; i++)
		{
			BuildNode  *dup = &bs->nodes[bs->w.found[i].idx];

			if (dup->ntids < HNSW_HEAPTIDS && memcmp(dup->vec, q, bs->vbytes) == 0 &&
				(bs->fbytes == 0 || memcmp(dup->filter, node->filter, bs->fbytes) == 0))
			{
				dup->heaptids[dup->ntids++] = node->heaptids[0];
				return false;
			}
		}
		k = BuildSelect(bs, &bs->d, MemVec, n, cap);
		for (i = 0; i < k; i++)
			nb[i] = bs->w.found[bs->w.pick[i]].idx;
		node->counts[l] = k;

		/*
		 * Identical vectors form a cycle through their level-0 links (see
		 * README): if we copy neighbour P, take P's identical neighbour Q
		 * instead of P and make P point to us in Q's place.
		 */
		spliced = -1;
		if (l == 0 && bs->d.metric != HNSW_METRIC_IP)
		{
			for (i = 0; i < k; i++)
			{
				BuildNode  *pn = &bs->nodes[nb[i]];
				int32	   *pl = NodeLevelNbrs(bs, pn, 0);
				int			j,
							qj = -1;

				if (!HnswIdentical(&bs->d, pn->vec, q))
					continue;
				spliced = nb[i];
				for (j = 0; j < pn->counts[0]; j++)
					if (pl[j] != id && HnswIdentical(&bs->d, bs->nodes[pl[j]].vec, q))
					{
						qj = j;
						break;
					}
				if (qj >= 0)
				{
					int			t;

					for (t = 0; t < k && nb[t] != pl[qj]; t++)
						;
					if (t == k)
						nb[i] = pl[qj];
					pl[qj] = id;
				}
				else
					MemAddLink(bs, spliced, id, 0, 0.0f);
				break;
			}
		}

		/* backlinks; MemAddLink reuses res, found survives via copies */
		{
			HnswHeapItem *chosen = palloc(sizeof(HnswHeapItem) * Max(k, 1));
			HnswHeapItem *seeds = palloc(sizeof(HnswHeapItem) * Max(n, 1));

			for (i = 0; i < k; i++)
				chosen[i] = bs->w.found[bs->w.pick[i]];
			memcpy(seeds, bs->w.found, sizeof(HnswHeapItem) * n);
			for (i = 0; i < k; i++)
				if (chosen[i].idx != spliced)
					MemAddLink(bs, chosen[i].idx, id, l, chosen[i].dist);
			memcpy(bs->w.found, seeds, sizeof(HnswHeapItem) * n);
			pfree(chosen);
			pfree(seeds);
		}
	}

	if (node->level > bs->entryLevel)
	{
		bs->entry = id;
		bs->entryLevel = node->level;
	}
	return true;
}

/* Bytes one in-memory node of this level costs. */
static Size
BuildNodeBytes(HnswBuildState *bs, int level)
{
	Size		s = sizeof(BuildNode);

	s = add_size(s, MAXALIGN(bs->vbytes));
	s = add_size(s, MAXALIGN(bs->fbytes));
	s = add_size(s, MAXALIGN(level + 1));
	s = add_size(s, mul_size(sizeof(int32), HnswTotalSlots(bs->m, level)));
	return add_size(s, 3 * 16);	/* allocator chunk headers */
}

/*
 * WriteGraph
 *		Lay the in-memory nodes out on pages in node order, write them
 *		through shared buffers without WAL, and log them all at the end
 *		with log_newpage_range.
 */
static void
WriteGraph(HnswBuildState *bs)
{
	Size		avail = BLCKSZ - MAXALIGN(SizeOfPageHeaderData) -
		MAXALIGN(sizeof(HnswPageOpaqueData));
	Size		free = 0;
	BlockNumber blkno = HNSW_METAPAGE_BLKNO;
	OffsetNumber off = 0;
	int			i;
	Buffer		buf = InvalidBuffer;
	Page		page = NULL;
	char	   *tup;
	Size		maxsize = HnswNodeSize(bs->dims, bs->elemtype, bs->m, bs->maxLevel,
									   bs->d.overflow) + bs->fbytes;
	BlockNumber ovflBase;
	int			nslices = bs->d.overflow ? HnswOvflSlices(&bs->d) : 0;
	HnswMapWriter mapw;

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, HNSW_PHASE_WRITE);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, bs->nnodes);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, 0);

	/* pass 1: assign locations */
	for (i = 0; i < bs->nnodes; i++)
	{
		Size		need = MAXALIGN(HnswNodeSize(bs->dims, bs->elemtype, bs->m,
												 bs->nodes[i].level, bs->d.overflow) +
										bs->fbytes) +
			sizeof(ItemIdData);

		if (blkno == HNSW_METAPAGE_BLKNO || need > free)
		{
			blkno++;
			off = 0;
			free = avail;
		}
		free -= need;
		off++;
		ItemPointerSet(&bs->nodes[i].tid, blkno, off);
	}
	/* overflow chains follow the node pages: node i's on nslices pages */
	ovflBase = blkno + 1;
	if (bs->d.overflow &&
		(double) ovflBase + (double) bs->nnodes * nslices >= (double) MaxBlockNumber)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("hnsw index would exceed the maximum relation size")));

	/* pass 2: write pages */
	tup = palloc(maxsize);
	for (i = 0; i < bs->nnodes; i++)
	{
		BuildNode  *n = &bs->nodes[i];
		Size		size = HnswNodeSize(bs->dims, bs->elemtype, bs->m, n->level,
										bs->d.overflow) + bs->fbytes;
		HnswNodeHeader *hdr = (HnswNodeHeader *) tup;
		uint8	   *counts;
		ItemPointerData *nbrs;
		int			l,
					j;
		OffsetNumber got;

		if (page == NULL || ItemPointerGetBlockNumber(&n->tid) != BufferGetBlockNumber(buf))
		{
			if (BufferIsValid(buf))
			{
				MarkBufferDirty(buf);
				UnlockReleaseBuffer(buf);
			}
			LockRelationForExtension(bs->index, ExclusiveLock);
			buf = ReadBufferExtended(bs->index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, NULL);
			LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
			UnlockRelationForExtension(bs->index, ExclusiveLock);
			if (BufferGetBlockNumber(buf) != ItemPointerGetBlockNumber(&n->tid))
				elog(ERROR, "hnsw build: unexpected block %u, expected %u",
					 BufferGetBlockNumber(buf), ItemPointerGetBlockNumber(&n->tid));
			page = BufferGetPage(buf);
			HnswInitPage(page, HNSW_PAGE_NODES);
		}

		memset(tup, 0, size);
		/* a node whose TID went to an identical one (parallel) is a free slot */
		hdr->state = n->ntids > 0 ? HNSW_NODE_LIVE : HNSW_NODE_FREE;
		hdr->level = n->level;
		hdr->dims = bs->dims;
		hdr->ntids = n->ntids;
		memcpy(hdr->heaptids, n->heaptids, sizeof(ItemPointerData) * n->ntids);
		if (bs->d.overflow)
		{
			HnswOvflRef ref;

			hdr->flags = HNSW_NODEF_OVERFLOW;
			ItemPointerSet(&ref.first, ovflBase + (BlockNumber) i * nslices, FirstOffsetNumber);
			ref.nslices = nslices;
			memcpy(HnswNodeVector(hdr), &ref, sizeof(HnswOvflRef));
		}
		else
			memcpy(HnswNodeVector(hdr), n->vec, bs->vbytes);
		counts = HnswNodeCounts(hdr, bs->dims, bs->elemtype);
		nbrs = HnswNodeNbrs(hdr, bs->dims, bs->elemtype, n->level);
		for (j = 0; j < HnswTotalSlots(bs->m, n->level); j++)
			ItemPointerSetInvalid(&nbrs[j]);
		for (l = 0; l <= n->level; l++)
		{
			int32	   *src = NodeLevelNbrs(bs, n, l);
			ItemPointerData *dst = nbrs + HnswLevelStart(bs->m, l);

			counts[l] = n->counts[l];
			for (j = 0; j < n->counts[l]; j++)
				dst[j] = bs->nodes[src[j]].tid;
		}
		if (bs->fbytes > 0)
			memcpy((char *) tup + size - bs->fbytes, n->filter, bs->fbytes);
		got = PageAddItem(page, (Item) tup, size, InvalidOffsetNumber, false, false);
		if (got != ItemPointerGetOffsetNumber(&n->tid))
			elog(ERROR, "hnsw build: node placed at offset %u, expected %u",
				 got, ItemPointerGetOffsetNumber(&n->tid));
		if ((i & 1023) == 0)
		{
			pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, i);
			CHECK_FOR_INTERRUPTS();
		}
	}
	if (BufferIsValid(buf))
	{
		MarkBufferDirty(buf);
		UnlockReleaseBuffer(buf);
	}
	pfree(tup);

	/* pass 3: overflow pages, one slice each, in node order */
	if (bs->d.overflow && bs->nnodes > 0)
	{
		Size		max = HnswOvflSliceMax();
		char	   *item = palloc(HNSW_MAX_ITEM_SIZE);

		for (i = 0; i < bs->nnodes; i++)
		{
			int			k;

			for (k = 0; k < nslices; k++)
			{
				BlockNumber want = ovflBase + (BlockNumber) i * nslices + k;
				Size		start = (Size) k * max;
				HnswOvflSlice sh;

				sh.seq = k;
				sh.len = Min(max, bs->vbytes - start);
				sh.unused = 0;
				if (k + 1 < nslices)
					ItemPointerSet(&sh.next, want + 1, FirstOffsetNumber);
				else
					ItemPointerSetInvalid(&sh.next);
				memcpy(item, &sh, HNSW_OVFL_HDRSZ);
				memcpy(item + HNSW_OVFL_HDRSZ, bs->nodes[i].vec + start, sh.len);

				LockRelationForExtension(bs->index, ExclusiveLock);
				buf = ReadBufferExtended(bs->index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, NULL);
				LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
				UnlockRelationForExtension(bs->index, ExclusiveLock);
				if (BufferGetBlockNumber(buf) != want)
					elog(ERROR, "hnsw build: unexpected block %u, expected %u",
						 BufferGetBlockNumber(buf), want);
				page = BufferGetPage(buf);
				HnswInitPage(page, HNSW_PAGE_OVERFLOW);
				if (PageAddItem(page, (Item) item, HNSW_OVFL_HDRSZ + sh.len, InvalidOffsetNumber,
								false, false) != FirstOffsetNumber)
					elog(ERROR, "hnsw build: could not place overflow slice on block %u", want);
				MarkBufferDirty(buf);
				UnlockReleaseBuffer(buf);
			}
			if ((i & 255) == 0)
				CHECK_FOR_INTERRUPTS();
		}
		pfree(item);
	}

	/* pass 4: the filter map, one entry per live node, in node order */
	HnswMapWriterStart(&mapw, bs->index, bs->nfilter);
	if (bs->nfilter > 0)
	{
		for (i = 0; i < bs->nnodes; i++)
		{
			if (bs->nodes[i].ntids == 0)
				continue;		/* a free slot has no entry */
			HnswMapWriterAdd(&mapw, &bs->nodes[i].tid, bs->nodes[i].filter);
			if ((i & 4095) == 0)
				CHECK_FOR_INTERRUPTS();
		}
	}

	/* metapage: entry point, insert page and filter map */
	buf = ReadBuffer(bs->index, HNSW_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	{
		HnswMetaPage meta = HnswPageGetMeta(BufferGetPage(buf));

		if (bs->nfilter > 0)
			HnswMapWriterFinish(&mapw, meta);

		if (bs->entry >= 0)
		{
			meta->entryBlkno = ItemPointerGetBlockNumber(&bs->nodes[bs->entry].tid);
			meta->entryOffno = ItemPointerGetOffsetNumber(&bs->nodes[bs->entry].tid);
			meta->entryLevel = bs->entryLevel;
		}
		meta->insertPage = blkno == HNSW_METAPAGE_BLKNO ? InvalidBlockNumber : blkno;
		meta->nodeCount = bs->nnodes;
	}
	MarkBufferDirty(buf);
	UnlockReleaseBuffer(buf);

	if (RelationNeedsWAL(bs->index))
		log_newpage_range(bs->index, MAIN_FORKNUM, 0,
						  RelationGetNumberOfBlocks(bs->index), true);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, bs->nnodes);
}

/* Write the in-memory graph and switch to on-disk inserts. */
static void
FlushToDisk(HnswBuildState *bs)
{
	WriteGraph(bs);
	bs->onDisk = true;
	MemoryContextReset(bs->graphCxt);
	bs->nodes = NULL;
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, HNSW_PHASE_LOAD);
}

static void
BuildCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			  bool tupleIsAlive, void *state)
{
	HnswBuildState *bs = (HnswBuildState *) state;
	MemoryContext old;
	char	   *vec;
	int			level;
	Size		need;
	BuildNode  *n;
	char	   *filter = NULL;

	if (isnull[0])
		return;

	old = MemoryContextSwitchTo(bs->tmpCxt);
	if (bs->fbytes > 0)
	{
		filter = palloc(bs->fbytes);
		HnswFormFilter(index, values, isnull, filter);
	}
	vec = palloc(bs->vbytes);
	if (!HnswPrepareValue(&bs->d, values[0], vec))
	{
		MemoryContextSwitchTo(old);
		MemoryContextReset(bs->tmpCxt);
		return;
	}

	if (bs->onDisk)
	{
		HnswInsertOnDisk(index, vec, filter, tid, true);
		MemoryContextSwitchTo(old);
		MemoryContextReset(bs->tmpCxt);
		bs->indtuples++;
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) bs->indtuples);
		return;
	}

	level = HnswRandomLevel(bs->m, bs->maxLevel);
	need = BuildNodeBytes(bs, level);
	if (bs->nnodes >= bs->maxnodes)
		need = add_size(need, mul_size(bs->maxnodes, sizeof(BuildNode) + sizeof(uint32)));
	if (add_size(MemoryContextMemAllocated(bs->graphCxt, true), need) > bs->memLimit)
	{
		ereport(NOTICE,
				(errmsg("hnsw graph no longer fits into maintenance_work_mem"),
				 errdetail("Building will take significantly more time."),
				 errhint("Increase maintenance_work_mem to speed up builds.")));
		MemoryContextSwitchTo(old);
		FlushToDisk(bs);
		MemoryContextSwitchTo(bs->tmpCxt);
		HnswInsertOnDisk(index, vec, filter, tid, true);
		MemoryContextSwitchTo(old);
		MemoryContextReset(bs->tmpCxt);
		bs->indtuples++;
		return;
	}

	MemoryContextSwitchTo(bs->graphCxt);
	if (bs->nnodes >= bs->maxnodes)
	{
		int			newmax = bs->maxnodes * 2;

		bs->nodes = repalloc_huge(bs->nodes, mul_size(sizeof(BuildNode), newmax));
		bs->w.epochs = repalloc_huge(bs->w.epochs, mul_size(sizeof(uint32), newmax));
		memset(bs->w.epochs + bs->maxnodes, 0, sizeof(uint32) * (newmax - bs->maxnodes));
		bs->maxnodes = newmax;
	}
	n = &bs->nodes[bs->nnodes];
	n->ntids = 1;
	n->heaptids[0] = *tid;
	n->level = level;
	n->vec = palloc(bs->vbytes);
	memcpy(n->vec, vec, bs->vbytes);
	n->filter = NULL;
	if (bs->fbytes > 0)
	{
		n->filter = palloc(bs->fbytes);
		memcpy(n->filter, filter, bs->fbytes);
	}
	n->counts = palloc0(level + 1);
	n->nbrs = palloc(sizeof(int32) * HnswTotalSlots(bs->m, level));
	MemoryContextSwitchTo(bs->tmpCxt);

	if (MemInsert(bs, bs->nnodes))
		bs->nnodes++;
	/* else: a duplicate; its few bytes stay allocated until the end */
	bs->indtuples++;
	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->tmpCxt);
	if (((int64) bs->indtuples & 255) == 0)
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) bs->indtuples);
}

static void
CheckBuildParams(Relation index, int dims, const HnswOpInfo *info, int m, int efc)
{
	int			maxLevel;

	if (efc < 2 * m)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ef_construction must be greater than or equal to 2 * m")));
	/* nodes of vectors too large to be inline keep only a reference */
	maxLevel = HnswMaxLevelFor(dims, info->elemtype, m, true);
	if (maxLevel < 0 || dims > VECX_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("column cannot have more than %d dimensions for hnsw index",
						VECX_MAX_DIM)));
}

/*
 * ChooseOverflow
 *		Vectors go to overflow pages when a level-0 node carrying the vector
 *		inline (with its filter payload) would not fit on a page.  Indexes
 *		whose nodes fit keep the inline layout unchanged.
 */
static bool
ChooseOverflow(int dims, int elemtype, int m, Size fbytes)
{
	return HnswMaxLevelForFilter(dims, elemtype, m, fbytes, false) < 0;
}

/* ---------------------------------------------------------------------
 * Parallel build
 *
 * The leader and max_parallel_maintenance_workers workers scan the heap
 * with a parallel table scan and insert into one graph in dynamic shared
 * memory: a node array (ids handed out by an atomic counter) and a bump
 * arena for vectors and neighbour lists, addressed by offsets.  Every node
 * has a spinlock guarding its neighbour lists; lists are copied under it
 * and rewritten optimistically (re-checked under the lock), as on disk.
 * Vectors never change once written.  The leader then writes the pages as
 * in a serial build.  A parallel build is only tried when the estimated
 * graph fits in maintenance_work_mem; otherwise the serial path (which can
 * spill to disk) runs.
 * ---------------------------------------------------------------------
 */

typedef struct HnswSharedNode
{
	slock_t		lock;
	uint8		ntids;
	uint8		level;
	ItemPointerData heaptids[HNSW_HEAPTIDS];
	Size		vecOff;
	Size		nbrOff;			/* uint8 counts[level + 1], then int32 lists */
	Size		filterOff;		/* filter payload (fbytes), if any */
} HnswSharedNode;

typedef struct HnswShared
{
	Oid			heaprelid;
	Oid			indexrelid;
	bool		isconcurrent;
	int			dims;
	int			m;
	int			efc;
	int			elemtype;		/* of the stored form */
	int			srcElem;
	int			metric;
	int			maxLevel;
	Size		fbytes;			/* filter payload per node, 0 without filter columns */
	uint32		maxnodes;
	Size		arenaSize;
	slock_t		mutex;			/* entry point, totals, full */
	int32		entry;
	int			entryLevel;
	double		reltuples;
	double		indtuples;
	bool		full;
	pg_atomic_uint32 nnodes;
	pg_atomic_uint64 arenaUsed;
} HnswShared;

typedef struct HnswPBuild
{
	BuildWalk	w;				/* first: the walk's ops get a BuildWalk */
	HnswShared *sh;
	HnswSharedNode *nodes;
	char	   *arena;
	HnswDist	d;
	int			m;
	int			efc;
	int32	   *tmp;			/* a copied neighbour list */
	int32	   *tmp2;
	MemoryContext tmpCxt;
	double		indtuples;
} HnswPBuild;

static inline HnswSharedNode *
SharedNodes(HnswShared *sh)
{
	return (HnswSharedNode *) ((char *) sh + MAXALIGN(sizeof(HnswShared)));
}

static inline char *
SharedArena(HnswShared *sh)
{
	return (char *) SharedNodes(sh) + MAXALIGN(mul_size(sizeof(HnswSharedNode), sh->maxnodes));
}

static inline char *
PVec(HnswPBuild *pb, int32 id)
{
	return pb->arena + pb->nodes[id].vecOff;
}

static inline const char *
PFilter(HnswPBuild *pb, int32 id)
{
	return pb->arena + pb->nodes[id].filterOff;
}

static inline uint8 *
PCounts(HnswPBuild *pb, int32 id)
{
	return (uint8 *) (pb->arena + pb->nodes[id].nbrOff);
}

static inline int32 *
PList(HnswPBuild *pb, int32 id, int level)
{
	HnswSharedNode *n = &pb->nodes[id];

	return (int32 *) (pb->arena + n->nbrOff + MAXALIGN(n->level + 1)) +
		HnswLevelStart(pb->m, level);
}

/* Copy node id's list at level into out[]; returns its length. */
static int
PReadList(HnswPBuild *pb, int32 id, int level, int32 *out)
{
	HnswSharedNode *n = &pb->nodes[id];
	int			cnt;

	if (n->level < level)
		return 0;
	SpinLockAcquire(&n->lock);
	cnt = PCounts(pb, id)[level];
	memcpy(out, PList(pb, id, level), sizeof(int32) * cnt);
	SpinLockRelease(&n->lock);
	return cnt;
}

/* Parallel build: a list is copied under the node's spinlock */
static inline int
PExpand(void *g, int32 idx, int level)
{
	HnswPBuild *pb = (HnswPBuild *) g;

	pb->w.nbrs = pb->tmp;
	return PReadList(pb, idx, level, pb->tmp);
}

static inline bool
PVisit(void *g, int i, int nt, int level, int ef, HnswHeapItem *item)
{
	HnswPBuild *pb = (HnswPBuild *) g;
	int32		e = pb->w.nbrs[i];

	if (BuildVisited(&pb->w, e))
		return false;
	return BuildVisit(&pb->w, &pb->d, e, PVec(pb, e), ef, item);
}

static inline bool
PSeed(void *g, int level)
{
	HnswPBuild *pb = (HnswPBuild *) g;

	BuildSeed(&pb->w, pb->sh->maxnodes);
	return true;
}

static inline const char *
PVecOf(void *g, int32 id)
{
	return PVec((HnswPBuild *) g, id);
}

static const HnswWalkOps PWalkOps = {
	BuildClaim, PExpand, PVisit, BuildEvict, PSeed, BuildSettle
};

/* Make 'from' link to 'to' at level (optimistic, like the disk path). */
static void
PAddLink(HnswPBuild *pb, int32 from, int32 to, int level, float dist)
{
	HnswSharedNode *fn = &pb->nodes[from];
	int			cap = HnswLevelCap(pb->m, level);
	int			attempt;

	if (fn->level < level)
		return;
	for (attempt = 0; attempt < 8; attempt++)
	{
		int			cnt,
					i,
					k;
		int32	   *list = PList(pb, from, level);
		bool		keeps = false;

		SpinLockAcquire(&fn->lock);
		cnt = PCounts(pb, from)[level];
		for (i = 0; i < cnt; i++)
			if (list[i] == to)
				break;
		if (i < cnt)
		{
			SpinLockRelease(&fn->lock);
			return;
		}
		if (cnt < cap)
		{
			list[cnt] = to;
			PCounts(pb, from)[level] = cnt + 1;
			SpinLockRelease(&fn->lock);
			return;
		}
		memcpy(pb->tmp2, list, sizeof(int32) * cnt);
		SpinLockRelease(&fn->lock);

		k = BuildPrune(pb, &pb->d, PVecOf, from, pb->tmp2, cnt, to, dist, cap);
		for (i = 0; i < k; i++)
			if (pb->w.found[pb->w.pick[i]].idx == to)
				keeps = true;
		if (!keeps)
			return;

		SpinLockAcquire(&fn->lock);
		if (PCounts(pb, from)[level] != cnt ||
			memcmp(list, pb->tmp2, sizeof(int32) * cnt) != 0)
		{
			SpinLockRelease(&fn->lock);
			continue;
		}
		for (i = 0; i < k; i++)
			list[i] = pb->w.found[pb->w.pick[i]].idx;
		PCounts(pb, from)[level] = k;
		SpinLockRelease(&fn->lock);
		return;
	}
}

/* Insert node id (initialised, unlinked) into the shared graph. */
static void
PInsert(HnswPBuild *pb, int32 id)
{
	HnswShared *sh = pb->sh;
	HnswSharedNode *node = &pb->nodes[id];
	const char *q = PVec(pb, id);
	int32		ep;
	int			entryLevel;
	int			l,
				top,
				nseeds;

	SpinLockAcquire(&sh->mutex);
	ep = sh->entry;
	entryLevel = sh->entryLevel;
	if (ep < 0)
	{
		sh->entry = id;
		sh->entryLevel = node->level;
		SpinLockRelease(&sh->mutex);
		return;
	}
	SpinLockRelease(&sh->mutex);

	pb->w.q = q;
	pb->w.cur = ep;
	pb->w.curDist = HnswDistance(&pb->d, q, PVec(pb, ep));
	HnswWalkDescend(&PWalkOps, pb, &pb->w.cand, &pb->w.res, entryLevel, node->level);

	top = Min(node->level, entryLevel);
	pb->w.found[0].idx = pb->w.cur;
	pb->w.found[0].dist = pb->w.curDist;
	nseeds = 1;
	for (l = top; l >= 0; l--)
	{
		int			i,
					n,
					k;
		int			cap = HnswLevelCap(pb->m, l);
		int32		chosen[2 * HNSW_MAX_M];
		float		cdist[2 * HNSW_MAX_M];
		int32		spliced = -1;

		n = BuildSearchLevel(&PWalkOps, pb, pb->sh->maxnodes, id, nseeds, l, pb->efc);
		nseeds = n;

		/*
		 * An identical vector with room takes our heap TID, if the filter
		 * payloads agree too: the node's payload stands for all its TIDs.
		 */
		for (i = 0; l == top && i < n && i < 4; i++)
		{
			HnswSharedNode *dup = &pb->nodes[pb->w.found[i].idx];

			if (memcmp(PVec(pb, pb->w.found[i].idx), q, pb->d.vbytes) != 0)
				continue;
			if (sh->fbytes > 0 &&
				memcmp(PFilter(pb, pb->w.found[i].idx), PFilter(pb, id), sh->fbytes) != 0)
				continue;
			SpinLockAcquire(&dup->lock);
			if (dup->ntids > 0 && dup->ntids < HNSW_HEAPTIDS)
			{
				dup->heaptids[dup->ntids++] = node->heaptids[0];
				SpinLockRelease(&dup->lock);
				node->ntids = 0;	/* unlinked; written as a free slot */
				return;
			}
			SpinLockRelease(&dup->lock);
		}

		k = BuildSelect(pb, &pb->d, PVecOf, n, cap);
		for (i = 0; i < k; i++)
		{
			chosen[i] = pb->w.found[pb->w.pick[i]].idx;
			cdist[i] = pb->w.found[pb->w.pick[i]].dist;
		}

		/* identical vectors: splice into their cycle (see README) */
		for (i = 0; l == 0 && pb->d.metric != HNSW_METRIC_IP && i < k; i++)
		{
			HnswSharedNode *pn = &pb->nodes[chosen[i]];
			int32	   *pl = PList(pb, chosen[i], 0);
			int			j,
						t;

			if (!HnswIdentical(&pb->d, PVec(pb, chosen[i]), q))
				continue;
			spliced = chosen[i];
			SpinLockAcquire(&pn->lock);
			for (j = 0; j < PCounts(pb, spliced)[0]; j++)
				if (pl[j] != id && HnswIdentical(&pb->d, PVec(pb, pl[j]), q))
					break;
			if (j < PCounts(pb, spliced)[0])
			{
				int32		qn = pl[j];

				pl[j] = id;
				SpinLockRelease(&pn->lock);
				for (t = 0; t < k && chosen[t] != qn; t++)
					;
				if (t == k)
					chosen[i] = qn;
			}
			else
			{
				SpinLockRelease(&pn->lock);
				PAddLink(pb, spliced, id, 0, 0.0f);
			}
			break;
		}

		SpinLockAcquire(&node->lock);
		memcpy(PList(pb, id, l), chosen, sizeof(int32) * k);
		PCounts(pb, id)[l] = k;
		SpinLockRelease(&node->lock);

		{
			HnswHeapItem *seeds = palloc(sizeof(HnswHeapItem) * Max(n, 1));

			memcpy(seeds, pb->w.found, sizeof(HnswHeapItem) * n);
			for (i = 0; i < k; i++)
				if (chosen[i] != spliced && pb->w.found != NULL)
					PAddLink(pb, chosen[i], id, l, cdist[i]);
			memcpy(pb->w.found, seeds, sizeof(HnswHeapItem) * n);
			pfree(seeds);
		}
	}

	if (node->level > entryLevel)
	{
		SpinLockAcquire(&sh->mutex);
		if (node->level > sh->entryLevel)
		{
			sh->entry = id;
			sh->entryLevel = node->level;
		}
		SpinLockRelease(&sh->mutex);
	}
}

static void
PBuildCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			   bool tupleIsAlive, void *state)
{
	HnswPBuild *pb = (HnswPBuild *) state;
	HnswShared *sh = pb->sh;
	MemoryContext old;
	char	   *vec;
	uint32		id;
	int			level;
	Size		need;
	uint64		off;
	HnswSharedNode *node;

	if (isnull[0])
		return;
	old = MemoryContextSwitchTo(pb->tmpCxt);
	vec = palloc(pb->d.vbytes);
	if (!HnswPrepareValue(&pb->d, values[0], vec))
	{
		MemoryContextSwitchTo(old);
		MemoryContextReset(pb->tmpCxt);
		return;
	}
	level = HnswRandomLevel(pb->m, sh->maxLevel);
	need = MAXALIGN(pb->d.vbytes) + MAXALIGN(level + 1) +
		MAXALIGN(sizeof(int32) * HnswTotalSlots(pb->m, level)) + MAXALIGN(sh->fbytes);
	id = pg_atomic_fetch_add_u32(&sh->nnodes, 1);
	off = pg_atomic_fetch_add_u64(&sh->arenaUsed, need);
	if (id >= sh->maxnodes || off + need > sh->arenaSize)
	{
		SpinLockAcquire(&sh->mutex);
		sh->full = true;
		SpinLockRelease(&sh->mutex);
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("parallel hnsw build ran out of its shared graph memory"),
				 errhint("Increase maintenance_work_mem or set max_parallel_maintenance_workers = 0.")));
	}
	node = &pb->nodes[id];
	SpinLockInit(&node->lock);
	node->ntids = 1;
	node->level = level;
	node->heaptids[0] = *tid;
	node->vecOff = off;
	node->nbrOff = off + MAXALIGN(pb->d.vbytes);
	node->filterOff = need - MAXALIGN(sh->fbytes) + off;
	memcpy(pb->arena + off, vec, pb->d.vbytes);
	memset(pb->arena + node->nbrOff, 0, level + 1);
	if (sh->fbytes > 0)
		HnswFormFilter(index, values, isnull, pb->arena + node->filterOff);

	PInsert(pb, id);
	pb->indtuples++;
	MemoryContextSwitchTo(old);
	MemoryContextReset(pb->tmpCxt);
}

/* The work of one participant: scan its share of the heap and insert. */
static void
PScanAndInsert(HnswShared *sh, ParallelTableScanDesc pscan, Relation heap,
			   Relation index, bool progress)
{
	HnswPBuild	pb;
	IndexInfo  *indexInfo;
	TableScanDesc scan;
	double		reltuples;
	int			big = Max(sh->efc, 2 * sh->m) + 2;

	memset(&pb, 0, sizeof(pb));
	pb.sh = sh;
	pb.nodes = SharedNodes(sh);
	pb.arena = SharedArena(sh);
	pb.m = sh->m;
	pb.efc = sh->efc;
	/* in-memory distances only: where the leader stores vectors is moot */
	HnswInitDist(&pb.d, sh->dims, sh->elemtype, sh->srcElem, sh->metric, false);
	pb.w.epochs = palloc_extended(mul_size(sizeof(uint32), sh->maxnodes),
								MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	HnswHeapInit(&pb.w.cand, sh->efc * 4, false);
	HnswHeapInit(&pb.w.res, sh->efc * 4, true);
	pb.w.found = palloc(sizeof(HnswHeapItem) * big);
	pb.w.vecs = palloc(sizeof(char *) * big);
	pb.w.dists = palloc(sizeof(float) * big);
	pb.w.pick = palloc(sizeof(int) * big);
	pb.tmp = palloc(sizeof(int32) * 2 * sh->m);
	pb.tmp2 = palloc(sizeof(int32) * 2 * sh->m);
	pb.tmpCxt = AllocSetContextCreate(CurrentMemoryContext, "hnsw parallel build temp",
									  ALLOCSET_DEFAULT_SIZES);

	indexInfo = BuildIndexInfo(index);
	indexInfo->ii_Concurrent = sh->isconcurrent;
	scan = table_beginscan_parallel(heap, pscan);
	reltuples = table_index_build_scan(heap, index, indexInfo, true, progress,
									   PBuildCallback, &pb, scan);
	SpinLockAcquire(&sh->mutex);
	sh->reltuples += reltuples;
	sh->indtuples += pb.indtuples;
	SpinLockRelease(&sh->mutex);
	MemoryContextDelete(pb.tmpCxt);
}

/* Entry point of a parallel build worker. */
void
HnswParallelBuildMain(dsm_segment *seg, shm_toc *toc)
{
	ParallelTableScanDesc pscan;
	HnswShared *sh = VecxParallelShared(toc, &pscan, NULL);
	Relation	heap;
	Relation	index;

	VecxParallelOpen(sh->heaprelid, sh->indexrelid, sh->isconcurrent, &heap, &index);
	PScanAndInsert(sh, pscan, heap, index, false);
	VecxParallelClose(heap, index, sh->isconcurrent);
}

/*
 * ParallelBuild
 *		Build the graph with parallel workers into bs->nodes and write it.
 *		Returns false (nothing done) when a parallel build does not apply.
 */
static bool
ParallelBuild(HnswBuildState *bs, Relation heap, Relation index, IndexInfo *indexInfo)
{
	int			nworkers;
	BlockNumber pages;
	double		tuples,
				allvisfrac;
	double		maxnodes;
	Size		perNode,
				arena,
				total;
	VecxParallel vp;
	ParallelContext *pcxt;
	HnswShared *sh;
	uint32		n,
				i;

	if (!IsUnderPostmaster)
		return false;
	estimate_rel_size(heap, NULL, &pages, &tuples, &allvisfrac);
	nworkers = plan_create_index_workers(RelationGetRelid(heap), RelationGetRelid(index));

	/*
	 * The planner sizes workers by heap pages, but vectors live mostly in
	 * TOAST, so a big table can have a small heap: count tuples instead.
	 */
	if (nworkers <= 0 && tuples >= 20000 && max_parallel_maintenance_workers > 0 &&
		RelationGetForm(heap)->relpersistence != RELPERSISTENCE_TEMP)
		nworkers = max_parallel_maintenance_workers;
	if (nworkers <= 0)
		return false;
	maxnodes = tuples * 1.25 + 1024;
	if (maxnodes > (double) (INT32_MAX / 2))
		return false;
	/* a level-0 node, plus upper levels for about 1 / (m - 1) of nodes */
	perNode = MAXALIGN(bs->vbytes) + 8 + MAXALIGN(sizeof(int32) * 3 * bs->m) +
		MAXALIGN(bs->fbytes);
	arena = add_size(mul_size(perNode, (Size) maxnodes), 1024 * 1024);
	total = add_size(add_size(MAXALIGN(sizeof(HnswShared)),
							  MAXALIGN(mul_size(sizeof(HnswSharedNode), (Size) maxnodes))),
					 arena);
	if (total > bs->memLimit)
		return false;			/* the serial build can spill to disk */

	if (!VecxParallelBegin(&vp, "HnswParallelBuildMain", nworkers, heap, indexInfo, total, 0))
		return false;
	pcxt = vp.pcxt;
	sh = vp.shared;
	memset(sh, 0, sizeof(HnswShared));
	sh->heaprelid = RelationGetRelid(heap);
	sh->indexrelid = RelationGetRelid(index);
	sh->isconcurrent = indexInfo->ii_Concurrent;
	sh->dims = bs->dims;
	sh->m = bs->m;
	sh->efc = bs->efc;
	sh->elemtype = bs->elemtype;
	sh->srcElem = bs->info->elemtype;
	sh->metric = bs->info->metric;
	sh->maxLevel = bs->maxLevel;
	sh->fbytes = bs->fbytes;
	sh->maxnodes = (uint32) maxnodes;
	sh->arenaSize = arena;
	SpinLockInit(&sh->mutex);
	sh->entry = -1;
	sh->entryLevel = -1;
	pg_atomic_init_u32(&sh->nnodes, 0);
	pg_atomic_init_u64(&sh->arenaUsed, 0);

	LaunchParallelWorkers(pcxt);
	ereport(DEBUG1,
			(errmsg("building hnsw index \"%s\" with %d parallel workers",
					RelationGetRelationName(index), pcxt->nworkers_launched)));
	PScanAndInsert(sh, vp.pscan, heap, index, true);
	WaitForParallelWorkersToFinish(pcxt);
	if (sh->full)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("parallel hnsw build ran out of its shared graph memory")));

	/* hand the shared graph to the serial writer */
	n = Min(pg_atomic_read_u32(&sh->nnodes), sh->maxnodes);
	bs->nodes = MemoryContextAllocHuge(bs->graphCxt, sizeof(BuildNode) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		HnswSharedNode *sn = &SharedNodes(sh)[i];
		BuildNode  *bn = &bs->nodes[i];

		bn->ntids = sn->ntids;
		memcpy(bn->heaptids, sn->heaptids, sizeof(ItemPointerData) * sn->ntids);
		bn->level = sn->level;
		bn->vec = SharedArena(sh) + sn->vecOff;
		bn->counts = (uint8 *) (SharedArena(sh) + sn->nbrOff);
		bn->nbrs = (int32 *) (SharedArena(sh) + sn->nbrOff + MAXALIGN(sn->level + 1));
		bn->filter = sh->fbytes > 0 ? SharedArena(sh) + sn->filterOff : NULL;
	}
	bs->nnodes = n;
	bs->maxnodes = Max(n, 1);
	bs->entry = sh->entry;
	bs->entryLevel = sh->entryLevel;
	bs->reltuples = sh->reltuples;
	bs->indtuples = sh->indtuples;
	WriteGraph(bs);

	VecxParallelEnd(&vp);
	return true;
}

IndexBuildResult *
hnswbuild(Relation heap, Relation index, IndexInfo *indexInfo)
{
	IndexBuildResult *result;
	HnswBuildState bs;
	Buffer		buf;

	memset(&bs, 0, sizeof(bs));
	bs.heap = heap;
	bs.index = index;
	HnswCheckIndexColumns(index);
	bs.nfilter = HnswFilterColumns(index);
	bs.fbytes = HnswFilterBytes(bs.nfilter);
	bs.info = HnswGetOpInfo(index);
	bs.dims = HnswIndexDims(index);
	bs.m = HnswGetM(index);
	bs.efc = HnswGetEfConstruction(index);
	CheckBuildParams(index, bs.dims, bs.info, bs.m, bs.efc);
	bs.elemtype = HnswStoredElem(bs.info->elemtype, HnswGetQuantization(index));
	HnswInitDist(&bs.d, bs.dims, bs.elemtype, bs.info->elemtype, bs.info->metric,
				 ChooseOverflow(bs.dims, bs.elemtype, bs.m, bs.fbytes));
	bs.maxLevel = HnswMaxLevelForFilter(bs.dims, bs.elemtype, bs.m, bs.fbytes,
										bs.d.overflow);
	if (bs.maxLevel < 0)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("hnsw node of %d dimensions with %d filter columns does not fit on a page",
						bs.dims, bs.nfilter)));
	bs.vbytes = HnswVecBytes(bs.dims, bs.elemtype);
	bs.entry = -1;
	bs.entryLevel = -1;
	bs.memLimit = mul_size((Size) maintenance_work_mem, 1024);

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));

	/* metapage (logged by log_newpage_range with the graph) */
	LockRelationForExtension(index, ExclusiveLock);
	buf = ReadBufferExtended(index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, NULL);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	UnlockRelationForExtension(index, ExclusiveLock);
	HnswFillMetaPage(BufferGetPage(buf), bs.dims, bs.m, bs.efc, bs.info,
					 HnswGetQuantization(index));
	HnswMapInitMeta(HnswPageGetMeta(BufferGetPage(buf)), bs.nfilter);
	HnswPageGetMeta(BufferGetPage(buf))->storage =
		bs.d.overflow ? HNSW_STORAGE_OVERFLOW : HNSW_STORAGE_INLINE;
	MarkBufferDirty(buf);
	UnlockReleaseBuffer(buf);

	bs.graphCxt = AllocSetContextCreate(CurrentMemoryContext, "hnsw build graph",
										ALLOCSET_DEFAULT_SIZES);
	bs.tmpCxt = AllocSetContextCreate(CurrentMemoryContext, "hnsw build temp",
									  ALLOCSET_DEFAULT_SIZES);
	bs.maxnodes = 1024;
	bs.nodes = MemoryContextAllocHuge(bs.graphCxt, sizeof(BuildNode) * bs.maxnodes);
	bs.w.epochs = MemoryContextAllocZero(bs.graphCxt, sizeof(uint32) * bs.maxnodes);
	HnswHeapInit(&bs.w.cand, bs.efc * 4, false);
	HnswHeapInit(&bs.w.res, bs.efc * 4, true);
	bs.w.found = palloc(sizeof(HnswHeapItem) * (Max(bs.efc, 2 * bs.m) + 2));
	bs.w.vecs = palloc(sizeof(char *) * (Max(bs.efc, 2 * bs.m) + 2));
	bs.w.dists = palloc(sizeof(float) * (Max(bs.efc, 2 * bs.m) + 2));
	bs.w.pick = palloc(sizeof(int) * (Max(bs.efc, 2 * bs.m) + 2));

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, HNSW_PHASE_LOAD);
	if (!ParallelBuild(&bs, heap, index, indexInfo))
	{
		bs.reltuples = table_index_build_scan(heap, index, indexInfo, true, true,
											  BuildCallback, &bs, NULL);
		if (!bs.onDisk)
			WriteGraph(&bs);
	}

	MemoryContextDelete(bs.graphCxt);
	MemoryContextDelete(bs.tmpCxt);

	result = palloc(sizeof(IndexBuildResult));
	result->heap_tuples = bs.reltuples;
	result->index_tuples = bs.indtuples;
	return result;
}

/*
 * hnswbuildempty
 *		Write the metapage of an unlogged index's init fork, WAL-log it and
 *		sync it, so the index is valid after a crash-restart resets it.
 */
void
hnswbuildempty(Relation index)
{
	Page		page = (Page) palloc(BLCKSZ);
	const HnswOpInfo *info;
	int			dims = HnswIndexDims(index);
	int			m = HnswGetM(index);
	int			efc = HnswGetEfConstruction(index);

	HnswCheckIndexColumns(index);
	info = HnswGetOpInfo(index);
	CheckBuildParams(index, dims, info, m, efc);
	HnswFillMetaPage(page, dims, m, efc, info, HnswGetQuantization(index));
	HnswMapInitMeta(HnswPageGetMeta(page), HnswFilterColumns(index));
	HnswPageGetMeta(page)->storage =
		ChooseOverflow(dims, HnswPageGetMeta(page)->elemtype, m,
					   HnswFilterBytes(HnswFilterColumns(index))) ?
		HNSW_STORAGE_OVERFLOW : HNSW_STORAGE_INLINE;
	PageSetChecksumInplace(page, HNSW_METAPAGE_BLKNO);
	smgrwrite(RelationGetSmgr(index), INIT_FORKNUM, HNSW_METAPAGE_BLKNO,
			  (char *) page, true);
	log_newpage(&(RelationGetSmgr(index))->smgr_rnode.node, INIT_FORKNUM,
				HNSW_METAPAGE_BLKNO, page, true);
	smgrimmedsync(RelationGetSmgr(index), INIT_FORKNUM);
	pfree(page);
}
