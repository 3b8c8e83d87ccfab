/*-------------------------------------------------------------------------
 *
 * hnswcache.c
 *	  Backend-local read-only copies of hnsw graphs (hnsw.cache_size).
 *
 * A graph walk through the buffer manager pays, for every visited node, a
 * buffer pin, a share lock, the node checks, the unlock and the unpin:
 * about as much as the distance itself.  When hnsw.cache_size allows, a
 * backend that keeps scanning the same index copies the graph once into
 * local memory (node vectors in stored form, neighbour lists as dense
 * node numbers, heap TIDs) and walks that copy instead, exactly as an
 * in-process HNSW library would.
 *
 * Validity.  Every change of an index's graph ends with a bump of the
 * metapage's changeCount (HnswBumpChangeCount, WAL-logged, so standbys see
 * it too): inserts after their last page change, vacuum after its last.
 * A copy remembers the count it was taken at, read before its first page
 * and checked again after its last one, and is used only by scans that
 * read the same count from the metapage.  A change that was still under
 * way while a copy was taken has not bumped the count yet; it is no more
 * visible in the copy than it would be, half done, to a buffer walk, and
 * its bump retires the copy before its transaction can commit, so a scan
 * whose snapshot sees the change never uses the copy.  Heap TIDs that a
 * running vacuum removes stay in a copy until its bump; an MVCC snapshot
 * taken before then cannot see a tuple that later reuses such a TID, so
 * only MVCC scans use copies.
 *
 * When to copy.  Taking a copy reads every page of the index once; a stale
 * or missing copy is retaken only after buffer walks of the index have
 * read as many nodes as the index has pages (the ski-rental rule), so an
 * index that keeps changing costs at most about twice its buffer walks.
 *
 * Memory.  hnsw.cache_size bounds the copies of one backend together; the
 * least recently used ones are dropped to make room, and a graph larger
 * than the whole budget is never copied.  Scans pin the copy they walk; a
 * dropped copy (stale, evicted, its index dropped or rewritten) is freed
 * when its last pin goes, at the latest at transaction end.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"

#include "hnsw.h"

int			hnsw_cache_size = 0;	/* kB; 0 disables */

/* What one backend knows about one index */
typedef struct HnswCacheEntry
{
	Oid			relid;
	RelFileNode node;			/* a rewrite gets a new one */
	HnswGraph  *graph;			/* NULL: no copy */
	uint64		lastUse;		/* LRU clock */
	double		staleWork;		/* nodes read by buffer walks since the
								 * last copy was taken or found stale */
	BlockNumber tooBigBlocks;	/* index size at which the copy did not
								 * fit the budget tooBigBudget */
	int			tooBigBudget;
	bool		checkDropped;	/* relcache invalidation seen */
	int64		hits;			/* scans that walked the copy */
	int64		builds;			/* copies taken */
} HnswCacheEntry;

#define HNSW_CACHE_MAX_ENTRIES	64

/*
 * Copies of float32 and float16 indexes with at least this many dimensions
 * are walked on sq8 codes and re-ranked with their vectors.  Shorter
 * vectors take only a few cache lines, so codes would save little, and
 * their quantization noise is larger against the gaps between neighbours
 * of dense low-dimensional data (a walk on codes found 481 of 500 true
 * neighbours of points on a curve in 8 dimensions, against 499).
 */
#define HNSW_CACHE_CODES_MIN_DIMS	128

static HnswCacheEntry entries[HNSW_CACHE_MAX_ENTRIES];
static int	nentries;
static uint64 lruClock;
static List *toFree;			/* retired copies still pinned by a scan */

/*
 * Free retired copies that scans still pinned: no scan survives its
 * transaction (a scan that failed never unpinned).  Pins of live copies
 * held by failed scans are forgotten too.
 */
static void
CacheXactCallback(XactEvent event, void *arg)
{
	ListCell   *lc;
	int			i;

	if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT &&
		event != XACT_EVENT_PARALLEL_COMMIT && event != XACT_EVENT_PARALLEL_ABORT)
		return;
	for (i = 0; i < nentries; i++)
		if (entries[i].graph != NULL)
			entries[i].graph->pins = 0;
	if (toFree == NIL)
		return;
	foreach(lc, toFree)
		MemoryContextDelete(((HnswGraph *) lfirst(lc))->cxt);
	list_free(toFree);
	toFree = NIL;
}

/* Invalidation callbacks may not read catalogs: remember, check later. */
static void
CacheRelcacheCallback(Datum arg, Oid relid)
{
	int			i;

	for (i = 0; i < nentries; i++)
		if (relid == InvalidOid || entries[i].relid == relid)
			entries[i].checkDropped = true;
}

void
HnswCacheInit(void)
{
	RegisterXactCallback(CacheXactCallback, NULL);
	CacheRegisterRelcacheCallback(CacheRelcacheCallback, (Datum) 0);
}

/*
 * Retire an entry's copy: freed now if no scan holds it, else when the
 * last one lets go (HnswCacheRelease) or at transaction end.
 */
static void
CacheRetire(HnswCacheEntry *e)
{
	HnswGraph  *g = e->graph;

	e->graph = NULL;
	if (g == NULL)
		return;
	if (g->pins == 0)
		MemoryContextDelete(g->cxt);
	else
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		g->retired = true;
		toFree = lappend(toFree, g);
		MemoryContextSwitchTo(old);
	}
}

/* A scan is done with a copy HnswCacheGet gave it. */
void
HnswCacheRelease(const HnswGraph *graph)
{
	HnswGraph  *g = (HnswGraph *) graph;

	if (g->pins > 0)
		g->pins--;
	if (g->retired && g->pins == 0)
	{
		toFree = list_delete_ptr(toFree, g);
		MemoryContextDelete(g->cxt);
	}
}

static void
CacheRemove(int i)
{
	CacheRetire(&entries[i]);
	entries[i] = entries[--nentries];
}

/* Drop the entries of indexes that no longer exist. */
static void
CacheSweepDropped(void)
{
	int			i = 0;

	while (i < nentries)
	{
		if (entries[i].checkDropped)
		{
			entries[i].checkDropped = false;
			if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(entries[i].relid)))
			{
				CacheRemove(i);
				continue;
			}
		}
		i++;
	}
}

static HnswCacheEntry *
CacheFind(Relation index, bool create)
{
	int			i;
	HnswCacheEntry *e = NULL;

	for (i = 0; i < nentries; i++)
		if (entries[i].relid == RelationGetRelid(index))
		{
			e = &entries[i];
			break;
		}
	if (e == NULL)
	{
		if (!create)
			return NULL;
		if (nentries == HNSW_CACHE_MAX_ENTRIES)
		{
			int			lru = 0;

			for (i = 1; i < nentries; i++)
				if (entries[i].lastUse < entries[lru].lastUse)
					lru = i;
			CacheRemove(lru);
		}
		e = &entries[nentries++];
		memset(e, 0, sizeof(HnswCacheEntry));
		e->relid = RelationGetRelid(index);
		e->node = index->rd_node;
	}
	if (!RelFileNodeEquals(e->node, index->rd_node))
	{
		/* rewritten (REINDEX, TRUNCATE): start over */
		CacheRetire(e);
		e->node = index->rd_node;
		e->staleWork = 0;
		e->tooBigBlocks = 0;
	}
	return e;
}

/*
 * Make room for need bytes by retiring the least recently used copies of
 * other indexes.  Returns false if the budget cannot hold need at all.
 */
static bool
CacheMakeRoom(HnswCacheEntry *self, Size need)
{
	Size		budget = (Size) hnsw_cache_size * 1024;

	if (need > budget)
		return false;
	for (;;)
	{
		Size		used = 0;
		int			lru = -1;
		int			i;

		for (i = 0; i < nentries; i++)
		{
			if (entries[i].graph == NULL || &entries[i] == self)
				continue;
			used += entries[i].graph->bytes;
			if (lru < 0 || entries[i].lastUse < entries[lru].lastUse)
				lru = i;
		}
		if (used + need <= budget || lru < 0)
			return true;
		CacheRetire(&entries[lru]);
	}
}

/* Read the metapage's change count. */
static uint64
CacheChangeCount(Relation index)
{
	HnswMetaPageData meta;

	HnswReadMeta(index, &meta);
	return meta.changeCount;
}

/* Bytes of a copy of nnodes nodes, without the upper levels */
static Size
CacheBaseBytes(Size nnodes, BlockNumber nblocks, Size vstride, Size cstride, int m)
{
	Size		sz = 0;

	sz = add_size(sz, mul_size((Size) nblocks + 1, sizeof(uint32)));
	sz = add_size(sz, mul_size(nnodes, sizeof(HnswGraphNode) + 1));
	sz = add_size(sz, mul_size(nnodes, vstride));
	sz = add_size(sz, mul_size(mul_size(nnodes, 2 * m + 1), sizeof(int32)));
	sz = add_size(sz, mul_size(nnodes, sizeof(int32)));
	sz = add_size(sz, mul_size(nnodes, cstride));
	return sz;
}

static void *
CacheAlloc(Size sz)
{
	return palloc_extended(Max(sz, 1), MCXT_ALLOC_HUGE);
}

/* The state of one CacheBuild */
typedef struct CopyState
{
	Relation	index;
	const HnswMetaPageData *meta;
	HnswLayout	lay;			/* from meta */
	HnswGraph  *g;
	BufferAccessStrategy strategy;
	HnswDist	d;				/* the stored vectors */
	HnswDist	cd;				/* their sq8 codes, when g->codes */
	float	   *xf;				/* encoding scratch, dims floats */
	Size		nup;			/* entries of g->up used */
	Size		maxup;			/* and allocated */
} CopyState;

/* Is this a page of nodes? (A new or foreign page holds no slot.) */
static bool
IsNodePage(Page page)
{
	return !PageIsNew(page) &&
		PageGetSpecialSize(page) == MAXALIGN(sizeof(HnswPageOpaqueData)) &&
		HnswPageGetOpaque(page)->page_id == HNSW_PAGE_ID &&
		(HnswPageGetOpaque(page)->flags & HNSW_PAGE_NODES);
}

/*
 * CountSlots
 *		Pass 1: number the node slots, page by page, into g->slotBase.
 *		Returns false if there are too many for int32 node numbers.
 */
static bool
CountSlots(CopyState *cs)
{
	HnswGraph  *g = cs->g;
	Size		total = 0;
	BlockNumber blkno;

	g->slotBase[0] = 0;
	for (blkno = 1; blkno < g->nblocks; blkno++)
	{
		Buffer		buf;
		OffsetNumber n = 0;

		CHECK_FOR_INTERRUPTS();
		buf = ReadBufferExtended(cs->index, MAIN_FORKNUM, blkno, RBM_NORMAL, cs->strategy);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		if (IsNodePage(BufferGetPage(buf)))
			n = PageGetMaxOffsetNumber(BufferGetPage(buf));
		UnlockReleaseBuffer(buf);
		g->slotBase[blkno] = (uint32) total;
		total += n;
		if (total > (Size) PG_INT32_MAX / (2 * HNSW_MAX_M + 1))
			return false;
	}
	g->slotBase[g->nblocks] = (uint32) total;
	g->nnodes = (int32) total;
	return true;
}

/* Allocate the copy's arrays for g->nnodes slots, all free and unlinked */
static void
AllocCopy(CopyState *cs)
{
	HnswGraph  *g = cs->g;
	Size		total = g->nnodes;
	int			cap0 = 2 * g->m + 1;
	Size		i;

	g->nodes = CacheAlloc(mul_size(total, sizeof(HnswGraphNode)));
	g->ntids = CacheAlloc(total);
	g->vecs = CacheAlloc(mul_size(total, g->vstride));
	if (g->cstride > 0)
		g->codes = CacheAlloc(mul_size(total, g->cstride));
	g->nbr0 = CacheAlloc(mul_size(mul_size(total, cap0), sizeof(int32)));
	g->upStart = CacheAlloc(mul_size(total, sizeof(int32)));
	cs->maxup = Max(total / 8, 16) * (g->m + 1);
	g->up = CacheAlloc(mul_size(cs->maxup, sizeof(int32)));
	for (i = 0; i < total; i++)
	{
		g->nodes[i].state = HNSW_NODE_FREE;
		g->nodes[i].level = 0;
		g->ntids[i] = 0;
		g->nbr0[i * cap0] = 0;
		g->upStart[i] = -1;
	}
}

/*
 * CopyLists
 *		Node gi's lists (of a non-free node) as node numbers, each list
 *		preceded by its length; a neighbour not in the copy is left out.
 *		Returns false if the upper-level lists outgrow int32 offsets.
 */
static bool
CopyLists(CopyState *cs, HnswNodeHeader *node, Size gi)
{
	HnswGraph  *g = cs->g;
	int			m = g->m;
	uint8	   *counts = HnswLayoutCounts(&cs->lay, node);
	ItemPointerData *nbrs = HnswLayoutNbrs(&cs->lay, node);
	int			l;

	if (node->level > 0)
	{
		Size		need = (Size) node->level * (m + 1);

		if (cs->nup + need > (Size) PG_INT32_MAX)
			return false;
		if (cs->nup + need > cs->maxup)
		{
			cs->maxup = Max(cs->maxup * 2, cs->nup + need);
			g->up = repalloc_huge(g->up, mul_size(cs->maxup, sizeof(int32)));
		}
		g->upStart[gi] = (int32) cs->nup;
		cs->nup += need;
	}
	for (l = 0; l <= node->level; l++)
	{
		int32	   *dst = l == 0 ? g->nbr0 + gi * (2 * m + 1) :
			g->up + g->upStart[gi] + (Size) (l - 1) * (m + 1);
		ItemPointerData *src = nbrs + HnswLevelStart(m, l);
		int			j,
					k = 0;

		for (j = 0; j < counts[l]; j++)
		{
			int32		t;

			if (!ItemPointerIsValid(&src[j]))
				continue;
			t = HnswGraphIndex(g, &src[j]);
			if (t >= 0)
				dst[1 + k++] = t;
		}
		dst[0] = k;
	}
	return true;
}

/*
 * CopyPage
 *		Pass 2 on one page: copy its nodes (state, heap TIDs, vector, codes,
 *		lists).  Returns false if the copy would be too big.
 */
static bool
CopyPage(CopyState *cs, BlockNumber blkno)
{
	HnswGraph  *g = cs->g;
	uint32		nslots = g->slotBase[blkno + 1] - g->slotBase[blkno];
	Buffer		buf;
	Page		page;
	OffsetNumber off,
				maxoff;
	bool		ok = true;

	if (nslots == 0)
		return true;
	CHECK_FOR_INTERRUPTS();
	buf = ReadBufferExtended(cs->index, MAIN_FORKNUM, blkno, RBM_NORMAL, cs->strategy);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	maxoff = Min(PageGetMaxOffsetNumber(page), nslots);
	for (off = FirstOffsetNumber; ok && off <= maxoff; off++)
	{
		HnswNodeHeader *node = HnswLayoutGetNode(cs->index, page, blkno, off, &cs->lay);
		Size		gi = g->slotBase[blkno] + off - 1;
		HnswGraphNode *gn = &g->nodes[gi];

		ItemPointerSet(&gn->tid, blkno, off);
		gn->state = node->state;
		gn->level = node->level;
		if (node->state == HNSW_NODE_FREE)
			continue;
		if (HnswNodeIsOvf(node))
			HnswCorrupt(cs->index, blkno, off, "overflow node in an index with inline storage");
		if (node->state == HNSW_NODE_LIVE)
		{
			g->ntids[gi] = node->ntids;
			memcpy(gn->heaptids, node->heaptids, sizeof(ItemPointerData) * node->ntids);
		}
		memcpy(g->vecs + gi * g->vstride, HnswNodeVector(node), cs->d.vbytes);
		if (g->codes != NULL)
			HnswSq8EncodeStored(&cs->d, &cs->cd, HnswNodeVector(node), cs->xf,
								g->codes + gi * g->cstride);
		ok = CopyLists(cs, node, gi);
	}
	UnlockReleaseBuffer(buf);
	return ok;
}

/* Pass 3: drop the links to free slots (a slot freed after its referrer was read) */
static void
DropFreeLinks(HnswGraph *g)
{
	int32		i;

	for (i = 0; i < g->nnodes; i++)
	{
		int			l;

		if (g->nodes[i].state == HNSW_NODE_FREE)
		{
			g->nbr0[(Size) i * (2 * g->m + 1)] = 0;
			continue;
		}
		for (l = 0; l <= g->nodes[i].level; l++)
		{
			int			cnt;
			int32	   *p = (int32 *) HnswGraphNbrs(g, i, l, &cnt);
			int			j,
						k = 0;

			for (j = 0; j < cnt; j++)
				if (g->nodes[p[j]].state != HNSW_NODE_FREE)
					p[k++] = p[j];
			p[-1] = k;
		}
	}
}

/* Read the index into g (allocated in the current context); false if too big */
static bool
CopyIndex(CopyState *cs, HnswCacheEntry *self)
{
	HnswGraph  *g = cs->g;
	BlockNumber blkno;

	g->slotBase = CacheAlloc(mul_size((Size) g->nblocks + 1, sizeof(uint32)));
	if (!CountSlots(cs) ||
		!CacheMakeRoom(self, CacheBaseBytes(g->nnodes, g->nblocks, g->vstride, g->cstride,
											g->m)))
		return false;
	AllocCopy(cs);
	for (blkno = 1; blkno < g->nblocks; blkno++)
		if (!CopyPage(cs, blkno))
			return false;
	DropFreeLinks(g);
	return true;
}

/*
 * CacheBuild
 *		Copy the graph of index into a new memory context under the current
 *		one.  Returns NULL if the index changed while it was read (the copy
 *		would have no single change count), or if it does not fit the budget
 *		(*tooBig set).
 */
static HnswGraph *
CacheBuild(Relation index, const HnswMetaPageData *meta, HnswCacheEntry *self,
		   MemoryContext *cxtOut, bool *tooBig)
{
	MemoryContext cxt;
	MemoryContext old;
	CopyState	cs;
	HnswGraph  *g;
	uint64		count0 = meta->changeCount;
	bool		ok;

	*tooBig = false;
	memset(&cs, 0, sizeof(cs));
	cs.index = index;
	cs.meta = meta;
	HnswLayoutFromMeta(&cs.lay, meta);
	cs.strategy = GetAccessStrategy(BAS_BULKREAD);
	HnswInitDist(&cs.d, meta->dims, meta->elemtype, meta->srcElem, meta->metric, false);
	cxt = AllocSetContextCreate(CurrentMemoryContext, "hnsw graph copy",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	g = cs.g = palloc0(sizeof(HnswGraph));
	g->changeCount = count0;
	g->m = meta->m;
	g->vstride = TYPEALIGN(64, cs.d.vbytes);
	g->srcElem = meta->srcElem;
	g->nblocks = RelationGetNumberOfBlocks(index);
	if (HnswElemDense(meta->elemtype) && meta->dims >= HNSW_CACHE_CODES_MIN_DIMS)
	{
		/* walk codes, re-rank with the vectors (see the file header) */
		HnswInitDist(&cs.cd, meta->dims, HNSW_ELEM_SQ8, meta->srcElem, meta->metric, false);
		g->cstride = TYPEALIGN(64, cs.cd.vbytes);
		cs.xf = palloc(sizeof(float) * meta->dims);
	}
	ok = CopyIndex(&cs, self);
	FreeAccessStrategy(cs.strategy);
	MemoryContextSwitchTo(old);
	if (!ok)
	{
		*tooBig = true;
		MemoryContextDelete(cxt);
		return NULL;
	}

	/* a change while we read: the copy is no state the index was in */
	if (CacheChangeCount(index) != count0)
	{
		MemoryContextDelete(cxt);
		return NULL;
	}
	g->bytes = MemoryContextMemAllocated(cxt, true);
	if (!CacheMakeRoom(self, g->bytes))
	{
		*tooBig = true;
		MemoryContextDelete(cxt);
		return NULL;
	}
	*cxtOut = cxt;
	return g;
}

/*
 * HnswCacheGet
 *		The copy of index to walk for a scan that read *meta, or NULL to
 *		walk the pages.  May take a new copy (see the file header for when).
 *		The caller checks that the scan may use a copy at all.
 */
const HnswGraph *
HnswCacheGet(Relation index, const HnswMetaPageData *meta)
{
	HnswCacheEntry *e;
	BlockNumber nblocks;
	MemoryContext cxt = NULL;
	HnswGraph  *g;
	bool		tooBig;

	if (hnsw_cache_size <= 0)
		return NULL;
	CacheSweepDropped();
	e = CacheFind(index, true);
	e->lastUse = ++lruClock;
	if (e->graph != NULL)
	{
		if (e->graph->changeCount == meta->changeCount)
		{
			e->hits++;
			e->graph->pins++;
			return e->graph;
		}
		CacheRetire(e);			/* stale */
	}
	nblocks = RelationGetNumberOfBlocks(index);
	if (e->tooBigBlocks > 0 && nblocks <= e->tooBigBlocks &&
		hnsw_cache_size <= e->tooBigBudget)
		return NULL;
	if (e->staleWork < (double) nblocks)
		return NULL;

	/* the walks since the copy went stale have cost as much as a new one */
	e->staleWork = 0;
	g = CacheBuild(index, meta, e, &cxt, &tooBig);
	if (g == NULL)
	{
		if (tooBig)
		{
			e->tooBigBlocks = nblocks;
			e->tooBigBudget = hnsw_cache_size;
		}
		return NULL;
	}
	MemoryContextSetParent(cxt, TopMemoryContext);
	g->cxt = cxt;
	e->graph = g;
	e->tooBigBlocks = 0;
	e->builds++;
	/* the scan's metapage may be older than the copy */
	if (g->changeCount != meta->changeCount)
		return NULL;
	e->hits++;
	g->pins++;
	return g;
}

/* A scan walked nodes nodes through the buffer manager. */
void
HnswCacheNoteWalk(Relation index, int64 nodes)
{
	HnswCacheEntry *e;

	if (hnsw_cache_size <= 0)
		return;
	e = CacheFind(index, true);
	e->lastUse = ++lruClock;
	e->staleWork += (double) nodes;
}

/*
 * HnswBumpChangeCount
 *		Retire every backend's copy of index: called once a change of the
 *		graph is complete, with no buffer lock held (the metapage is locked
 *		last, see the README's lock order).
 */
void
HnswBumpChangeCount(Relation index)
{
	Buffer		buf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	Page		page;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	page = BufferGetPage(buf);
	HnswCheckMetaPage(index, page);
	{
		GenericXLogState *state = GenericXLogStart(index);

		page = GenericXLogRegisterBuffer(state, buf, 0);
		HnswPageGetMeta(page)->changeCount++;
		GenericXLogFinish(state);
	}
	UnlockReleaseBuffer(buf);
}

/* Does e hold a copy of its index as the index is now? */
static bool
CacheIsCurrent(HnswCacheEntry *e)
{
	Relation	index;
	bool		current = false;

	if (e->graph == NULL)
		return false;
	index = try_relation_open(e->relid, AccessShareLock);
	if (index == NULL)
		return false;
	if (index->rd_rel->relkind == RELKIND_INDEX && index->rd_indam != NULL &&
		index->rd_indam->ambuild == hnswbuild &&
		RelFileNodeEquals(index->rd_node, e->node))
		current = CacheChangeCount(index) == e->graph->changeCount;
	relation_close(index, AccessShareLock);
	return current;
}

/*
 * vecx_hnsw_cache_status
 *		This backend's graph copies: one row per hnsw index it has scanned
 *		with hnsw.cache_size set.
 */
PG_FUNCTION_INFO_V1(vecx_hnsw_cache_status);
Datum
vecx_hnsw_cache_status(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	CacheSweepDropped();
	for (i = 0; i < nentries; i++)
	{
		HnswCacheEntry *e = &entries[i];
		Datum		values[6];
		bool		nulls[6] = {false, false, false, false, false, false};

		values[0] = ObjectIdGetDatum(e->relid);
		values[1] = BoolGetDatum(CacheIsCurrent(e));
		if (e->graph != NULL)
		{
			values[2] = Int64GetDatum(e->graph->nnodes);
			values[3] = Int64GetDatum((int64) e->graph->bytes);
		}
		else
			nulls[2] = nulls[3] = true;
		values[4] = Int64GetDatum(e->hits);
		values[5] = Int64GetDatum(e->builds);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
