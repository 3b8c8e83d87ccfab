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

#include "access/tableam.h"
#include "access/xloginsert.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "storage/smgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "hnsw.h"

typedef struct BuildNode
{
	uint8		ntids;
	ItemPointerData heaptids[HNSW_HEAPTIDS];
	ItemPointerData tid;		/* location once written */
	int			level;
	char	   *vec;
	uint8	   *counts;
	int32	   *nbrs;			/* HnswTotalSlots(m, level) slots */
} BuildNode;

typedef struct HnswBuildState
{
	Relation	heap;
	Relation	index;
	const HnswOpInfo *info;
	HnswDist	d;
	int			dims;
	int			m;
	int			efc;
	int			maxLevel;
	Size		vbytes;

	BuildNode  *nodes;
	int			nnodes;
	int			maxnodes;
	int			entry;
	int			entryLevel;

	/* search scratch, reused by every insertion */
	uint32	   *epochs;
	uint32		epoch;
	HnswHeap	cand;
	HnswHeap	res;
	HnswHeapItem *found;
	char	  **vecs;
	float	   *dists;
	int		   *pick;

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

static void
NewEpoch(HnswBuildState *bs)
{
	bs->epoch++;
	if (bs->epoch == 0)
	{
		memset(bs->epochs, 0, sizeof(uint32) * bs->maxnodes);
		bs->epoch = 1;
	}
}

/* Search one layer of the in-memory graph from the seeds in res/cand. */
static void
MemSearchLayer(HnswBuildState *bs, const char *q, int level, int ef)
{
	while (bs->cand.n > 0)
	{
		HnswHeapItem c = HnswHeapPop(&bs->cand);
		BuildNode  *cn;
		int32	   *nb;
		int			i,
					cnt;

		if (bs->res.n >= ef && c.dist > HnswHeapTop(&bs->res)->dist)
			break;
		cn = &bs->nodes[c.idx];
		if (cn->level < level)
			continue;
		nb = NodeLevelNbrs(bs, cn, level);
		cnt = cn->counts[level];
		for (i = 0; i < cnt; i++)
		{
			int32		e = nb[i];
			float		dist;

			if (bs->epochs[e] == bs->epoch)
				continue;
			bs->epochs[e] = bs->epoch;
			dist = HnswDistance(&bs->d, q, bs->nodes[e].vec);
			if (bs->res.n < ef || dist < HnswHeapTop(&bs->res)->dist)
			{
				HnswHeapPush(&bs->cand, dist, e);
				HnswHeapPush(&bs->res, dist, e);
				if (bs->res.n > ef)
					HnswHeapPop(&bs->res);
			}
		}
	}
}

/* Make node 'from' link to node 'to' at level, pruning if full. */
static void
MemAddLink(HnswBuildState *bs, int32 from, int32 to, int level, float dist)
{
	BuildNode  *fn = &bs->nodes[from];
	int32	   *nb = NodeLevelNbrs(bs, fn, level);
	int			cap = HnswLevelCap(bs->m, level);
	int			cnt = fn->counts[level];
	int			i,
				n,
				k;

	if (cnt < cap)
	{
		nb[cnt] = to;
		fn->counts[level] = cnt + 1;
		return;
	}

	/* full: heuristic selection over old neighbours plus the new one */
	bs->res.n = 0;
	for (i = 0; i < cnt; i++)
		HnswHeapPush(&bs->res, HnswDistance(&bs->d, fn->vec, bs->nodes[nb[i]].vec), nb[i]);
	HnswHeapPush(&bs->res, dist, to);
	n = bs->res.n;
	for (i = n - 1; i >= 0; i--)
		bs->found[i] = HnswHeapPop(&bs->res);
	for (i = 0; i < n; i++)
	{
		bs->vecs[i] = bs->nodes[bs->found[i].idx].vec;
		bs->dists[i] = bs->found[i].dist;
	}
	k = HnswSelectNeighbours(&bs->d, bs->vecs, bs->dists, n, cap, bs->pick, NULL);
	for (i = 0; i < k; i++)
		nb[i] = bs->found[bs->pick[i]].idx;
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
	int32		ep;
	float		epd;
	int			l;
	int			top;
	int			nseeds;

	if (bs->entry < 0)
	{
		bs->entry = id;
		bs->entryLevel = node->level;
		return true;
	}

	ep = bs->entry;
	epd = HnswDistance(&bs->d, q, bs->nodes[ep].vec);
	for (l = bs->entryLevel; l > node->level; l--)
	{
		bool		changed = true;

		while (changed)
		{
			BuildNode  *en = &bs->nodes[ep];
			int32	   *nb = NodeLevelNbrs(bs, en, l);
			int			i;

			changed = false;
			for (i = 0; i < en->counts[l]; i++)
			{
				float		dd = HnswDistance(&bs->d, q, bs->nodes[nb[i]].vec);

				if (dd < epd)
				{
					epd = dd;
					ep = nb[i];
					changed = true;
				}
			}
		}
	}

	top = Min(node->level, bs->entryLevel);
	bs->found[0].idx = ep;
	bs->found[0].dist = epd;
	nseeds = 1;
	for (l = top; l >= 0; l--)
	{
		int			i,
					n,
					k;
		int			cap = HnswLevelCap(bs->m, l);
		int32	   *nb = NodeLevelNbrs(bs, node, l);

		NewEpoch(bs);
		bs->epochs[id] = bs->epoch;
		bs->cand.n = 0;
		bs->res.n = 0;
		for (i = 0; i < nseeds; i++)
		{
			bs->epochs[bs->found[i].idx] = bs->epoch;
			HnswHeapPush(&bs->cand, bs->found[i].dist, bs->found[i].idx);
			HnswHeapPush(&bs->res, bs->found[i].dist, bs->found[i].idx);
		}
		while (bs->res.n > bs->efc)
			HnswHeapPop(&bs->res);
		MemSearchLayer(bs, q, l, bs->efc);

		n = bs->res.n;
		for (i = n - 1; i >= 0; i--)
			bs->found[i] = HnswHeapPop(&bs->res);
		nseeds = n;

		for (i = 0; l == top && i < n && bs->found[i].dist == 0.0f; i++)
		{
			BuildNode  *dup = &bs->nodes[bs->found[i].idx];

			if (dup->ntids < HNSW_HEAPTIDS && memcmp(dup->vec, q, bs->vbytes) == 0)
			{
				dup->heaptids[dup->ntids++] = node->heaptids[0];
				return false;
			}
		}
		for (i = 0; i < n; i++)
		{
			bs->vecs[i] = bs->nodes[bs->found[i].idx].vec;
			bs->dists[i] = bs->found[i].dist;
		}
		k = HnswSelectNeighbours(&bs->d, bs->vecs, bs->dists, n, cap, bs->pick, NULL);
		for (i = 0; i < k; i++)
			nb[i] = bs->found[bs->pick[i]].idx;
		node->counts[l] = k;

		/* backlinks; MemAddLink reuses res, found survives via copies */
		{
			HnswHeapItem *chosen = palloc(sizeof(HnswHeapItem) * Max(k, 1));
			HnswHeapItem *seeds = palloc(sizeof(HnswHeapItem) * Max(n, 1));

			for (i = 0; i < k; i++)
				chosen[i] = bs->found[bs->pick[i]];
			memcpy(seeds, bs->found, sizeof(HnswHeapItem) * n);
			for (i = 0; i < k; i++)
				MemAddLink(bs, chosen[i].idx, id, l, chosen[i].dist);
			memcpy(bs->found, seeds, sizeof(HnswHeapItem) * n);
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
	Size		maxsize = HnswNodeSize(bs->dims, bs->info->elemtype, bs->m, bs->maxLevel);

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, HNSW_PHASE_WRITE);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, bs->nnodes);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, 0);

	/* pass 1: assign locations */
	for (i = 0; i < bs->nnodes; i++)
	{
		Size		need = MAXALIGN(HnswNodeSize(bs->dims, bs->info->elemtype, bs->m,
												 bs->nodes[i].level)) + sizeof(ItemIdData);

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

	/* pass 2: write pages */
	tup = palloc(maxsize);
	for (i = 0; i < bs->nnodes; i++)
	{
		BuildNode  *n = &bs->nodes[i];
		Size		size = HnswNodeSize(bs->dims, bs->info->elemtype, bs->m, n->level);
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
		hdr->state = HNSW_NODE_LIVE;
		hdr->level = n->level;
		hdr->dims = bs->dims;
		hdr->ntids = n->ntids;
		memcpy(hdr->heaptids, n->heaptids, sizeof(ItemPointerData) * n->ntids);
		memcpy(HnswNodeVector(hdr), n->vec, bs->vbytes);
		counts = HnswNodeCounts(hdr, bs->dims, bs->info->elemtype);
		nbrs = HnswNodeNbrs(hdr, bs->dims, bs->info->elemtype, n->level);
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

	/* metapage: entry point and insert page */
	buf = ReadBuffer(bs->index, HNSW_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	{
		HnswMetaPage meta = HnswPageGetMeta(BufferGetPage(buf));

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

	if (isnull[0])
		return;

	old = MemoryContextSwitchTo(bs->tmpCxt);
	vec = palloc(bs->vbytes);
	if (!HnswPrepareValue(&bs->d, values[0], vec))
	{
		MemoryContextSwitchTo(old);
		MemoryContextReset(bs->tmpCxt);
		return;
	}

	if (bs->onDisk)
	{
		HnswInsertOnDisk(index, vec, tid, true);
		MemoryContextSwitchTo(old);
		MemoryContextReset(bs->tmpCxt);
		bs->indtuples++;
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) bs->indtuples);
		return;
	}

	level = Min(HnswRandomLevel(bs->m), bs->maxLevel);
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
		HnswInsertOnDisk(index, vec, tid, true);
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
		bs->epochs = repalloc_huge(bs->epochs, mul_size(sizeof(uint32), newmax));
		memset(bs->epochs + bs->maxnodes, 0, sizeof(uint32) * (newmax - bs->maxnodes));
		bs->maxnodes = newmax;
	}
	n = &bs->nodes[bs->nnodes];
	n->ntids = 1;
	n->heaptids[0] = *tid;
	n->level = level;
	n->vec = palloc(bs->vbytes);
	memcpy(n->vec, vec, bs->vbytes);
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
	maxLevel = HnswMaxLevelFor(dims, info->elemtype, m);
	if (maxLevel < 0)
	{
		Size		el = info->elemtype == HNSW_ELEM_F16 ? 2 : 4;
		Size		fixed = HNSW_NODE_HDRSZ + 2 + sizeof(ItemPointerData) * 2 * m;
		int			maxdims = (HNSW_MAX_ITEM_SIZE - fixed) / el;

		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("column cannot have more than %d dimensions for hnsw index with m = %d",
						maxdims, m)));
	}
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
	bs.info = HnswGetOpInfo(index);
	bs.dims = HnswIndexDims(index);
	bs.m = HnswGetM(index);
	bs.efc = HnswGetEfConstruction(index);
	CheckBuildParams(index, bs.dims, bs.info, bs.m, bs.efc);
	bs.maxLevel = HnswMaxLevelFor(bs.dims, bs.info->elemtype, bs.m);
	bs.vbytes = HnswVecBytes(bs.dims, bs.info->elemtype);
	HnswInitDist(&bs.d, bs.dims, bs.info->elemtype, bs.info->metric);
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
	HnswFillMetaPage(BufferGetPage(buf), bs.dims, bs.m, bs.efc, bs.info);
	MarkBufferDirty(buf);
	UnlockReleaseBuffer(buf);

	bs.graphCxt = AllocSetContextCreate(CurrentMemoryContext, "hnsw build graph",
										ALLOCSET_DEFAULT_SIZES);
	bs.tmpCxt = AllocSetContextCreate(CurrentMemoryContext, "hnsw build temp",
									  ALLOCSET_DEFAULT_SIZES);
	bs.maxnodes = 1024;
	bs.nodes = MemoryContextAllocHuge(bs.graphCxt, sizeof(BuildNode) * bs.maxnodes);
	bs.epochs = MemoryContextAllocZero(bs.graphCxt, sizeof(uint32) * bs.maxnodes);
	HnswHeapInit(&bs.cand, bs.efc * 4, false);
	HnswHeapInit(&bs.res, bs.efc * 4, true);
	bs.found = palloc(sizeof(HnswHeapItem) * (Max(bs.efc, 2 * bs.m) + 2));
	bs.vecs = palloc(sizeof(char *) * (Max(bs.efc, 2 * bs.m) + 2));
	bs.dists = palloc(sizeof(float) * (Max(bs.efc, 2 * bs.m) + 2));
	bs.pick = palloc(sizeof(int) * (Max(bs.efc, 2 * bs.m) + 2));

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, HNSW_PHASE_LOAD);
	bs.reltuples = table_index_build_scan(heap, index, indexInfo, true, true,
										  BuildCallback, &bs, NULL);

	if (!bs.onDisk)
		WriteGraph(&bs);

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
	const HnswOpInfo *info = HnswGetOpInfo(index);
	int			dims = HnswIndexDims(index);
	int			m = HnswGetM(index);
	int			efc = HnswGetEfConstruction(index);

	CheckBuildParams(index, dims, info, m, efc);
	HnswFillMetaPage(page, dims, m, efc, info);
	PageSetChecksumInplace(page, HNSW_METAPAGE_BLKNO);
	smgrwrite(RelationGetSmgr(index), INIT_FORKNUM, HNSW_METAPAGE_BLKNO,
			  (char *) page, true);
	log_newpage(&(RelationGetSmgr(index))->smgr_rnode.node, INIT_FORKNUM,
				HNSW_METAPAGE_BLKNO, page, true);
	smgrimmedsync(RelationGetSmgr(index), INIT_FORKNUM);
	pfree(page);
}
