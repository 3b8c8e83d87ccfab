/*-------------------------------------------------------------------------
 *
 * hnswcache.c
 *	  Read-only copies of hnsw graphs: shared by all backends
 *	  (hnsw.shared_cache_size, with vecx preloaded) or backend-local
 *	  (hnsw.cache_size).
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
 * Shared copies.  With vecx in shared_preload_libraries, the copies live in
 * one region of shared memory (hnsw.shared_cache_size, reserved at server
 * start) instead: one per index, taken by one backend with the same code
 * and the same rules (validity, ski-rental, MVCC only), then written into
 * the region as arrays of node numbers at offsets from their extent, so
 * every backend walks it through a local header (ShHeader).  A table of
 * slots under one LWLock finds them; scans pin a slot (released at scan,
 * transaction or backend end), and a retired copy is freed by its last
 * unpin.  hnsw.cache_size is then unused, but for temporary indexes.  See
 * "Shared copies" in the README for the layout, lock order and budget.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/relfilenodemap.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"

#include "hnsw.h"

int			hnsw_cache_size = 0;	/* kB; 0 disables */
int			hnsw_shared_cache_size = 256 * 1024;	/* kB; 0 disables */

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
 * Shared copies (hnsw.shared_cache_size, with the library preloaded): one
 * region of the main shared memory, reserved at server start, holds the
 * copies; a small table of slots under one LWLock says which copy lies
 * where.  See "Shared copies" in the README.
 */
#define HNSW_SH_SLOTS	64
#define HNSW_SH_ALIGN	64		/* extents and arrays: cache lines */

typedef enum HnswShState
{
	SH_FREE = 0,				/* unused */
	SH_BUILDING,				/* a backend is copying the index */
	SH_READY,					/* scans may pin it */
	SH_RETIRED					/* stale or dropped, freed at its last unpin */
} HnswShState;

typedef struct HnswShSlot
{
	/* changed only under the exclusive lock */
	Oid			dbid;
	RelFileNode node;
	uint64		changeCount;	/* the copy's */
	uint32		gen;			/* bumped whenever the slot is freed */
	HnswShState state;
	int			builder;		/* SH_BUILDING: its pid */
	Size		off;			/* extent in the region (0 bytes: none yet) */
	Size		bytes;
	int32		nnodes;
	/* under the shared lock and mutex, or the exclusive lock */
	slock_t		mutex;
	int			pins;			/* scans walking it */
	uint64		lastUse;		/* LRU clock */
	int64		hits;			/* scans that walked it */
} HnswShSlot;

typedef struct HnswShCtl
{
	LWLock	   *lock;
	Size		size;			/* bytes of the region */
	pg_atomic_uint64 clock;		/* LRU clock */
	HnswShSlot	slots[HNSW_SH_SLOTS];
} HnswShCtl;

/*
 * A copy in the region begins with this header; its arrays follow at
 * offsets from the extent's start, and their contents are node numbers
 * and TIDs, so a copy taken by one backend is walked by every other
 * wherever it maps the region.
 */
typedef struct HnswShGraph
{
	uint64		changeCount;
	int32		nnodes;
	int			m;
	Size		vstride;
	Size		cstride;
	uint8		srcElem;
	BlockNumber nblocks;
	Size		nup;
	Size		offSlotBase;
	Size		offNodes;
	Size		offNtids;
	Size		offVecs;
	Size		offCodes;
	Size		offNbr0;
	Size		offUpStart;
	Size		offUp;
} HnswShGraph;

/* A pin this backend holds on a shared copy */
typedef struct HnswShPin
{
	int			slot;
	uint32		gen;
} HnswShPin;

static HnswShCtl *sh;			/* NULL: no shared copies */
static char *shBase;			/* the region */
static HnswShPin *shPins;		/* pins held, released at scan end or at the
								 * end of the transaction or the backend */
static int	nShPins;
static int	maxShPins;
static int	shBuildSlot = -1;	/* the slot this backend is copying into */
static uint32 shBuildGen;
static bool shExitRegistered;
static shmem_request_hook_type prevShmemRequest;
static shmem_startup_hook_type prevShmemStartup;

static void ShReleaseAll(void);
static void ShAbandonBuild(void);
static void ShUnpin(int slot, uint32 gen);
static void ShUnpinRecorded(int slot, uint32 gen);
static void ShRetireKey(const RelFileNode *node);

/*
 * Free retired copies that scans still pinned: no scan survives its
 * transaction (a scan that failed never unpinned).  Pins of live copies
 * held by failed scans are forgotten too, and shared pins still recorded
 * are released (with a slot this backend was copying into).
 */
static void
CacheXactCallback(XactEvent event, void *arg)
{
	ListCell   *lc;
	int			i;

	if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT &&
		event != XACT_EVENT_PARALLEL_COMMIT && event != XACT_EVENT_PARALLEL_ABORT &&
		event != XACT_EVENT_PREPARE)
		return;
	if (sh != NULL)
		ShReleaseAll();
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

/*
 * A shared copy whose reading failed inside a subtransaction gives up its
 * slot now, not at the end of the top transaction, which may be far off
 * (reading a copy runs no user code, so the claim is the failed one's).
 * Its scans' pins wait for the top transaction's end.
 */
static void
CacheSubXactCallback(SubXactEvent event, SubTransactionId mySubid,
					 SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB && sh != NULL)
		ShAbandonBuild();
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

static Size
ShSize(void)
{
	return add_size(add_size(sizeof(HnswShCtl), HNSW_SH_ALIGN),
					mul_size((Size) hnsw_shared_cache_size, 1024));
}

static void
ShShmemRequest(void)
{
	if (prevShmemRequest)
		prevShmemRequest();
	RequestAddinShmemSpace(ShSize());
	RequestNamedLWLockTranche("vecx_hnsw_cache", 1);
}

static void
ShShmemStartup(void)
{
	bool		found;

	if (prevShmemStartup)
		prevShmemStartup();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	sh = ShmemInitStruct("vecx hnsw graph copies", ShSize(), &found);
	if (!found)
	{
		int			i;

		memset(sh, 0, sizeof(HnswShCtl));
		sh->lock = &(GetNamedLWLockTranche("vecx_hnsw_cache"))->lock;
		sh->size = mul_size((Size) hnsw_shared_cache_size, 1024);
		pg_atomic_init_u64(&sh->clock, 0);
		for (i = 0; i < HNSW_SH_SLOTS; i++)
			SpinLockInit(&sh->slots[i].mutex);
	}
	shBase = (char *) TYPEALIGN(HNSW_SH_ALIGN, (char *) sh + sizeof(HnswShCtl));
	LWLockRelease(AddinShmemInitLock);
}

/*
 * HnswCacheInit
 *		Register the callbacks and, while preloading, define
 *		hnsw.shared_cache_size and ask for its region.  Called from
 *		HnswInit before the "hnsw" prefix is reserved.
 */
void
HnswCacheInit(void)
{
	RegisterXactCallback(CacheXactCallback, NULL);
	RegisterSubXactCallback(CacheSubXactCallback, NULL);
	CacheRegisterRelcacheCallback(CacheRelcacheCallback, (Datum) 0);

	/* shared memory is handed out only to preloaded libraries (PG 15) */
	if (!process_shared_preload_libraries_in_progress)
		return;
	DefineCustomIntVariable("hnsw.shared_cache_size",
							"Sets the shared memory for hnsw graph copies that every backend walks.",
							"Reserved at server start when vecx is in shared_preload_libraries; 0 disables (each backend then uses hnsw.cache_size).",
							&hnsw_shared_cache_size, 256 * 1024, 0, MAX_KILOBYTES,
							PGC_POSTMASTER, GUC_UNIT_KB, NULL, NULL, NULL);
	if (hnsw_shared_cache_size <= 0)
		return;
	prevShmemRequest = shmem_request_hook;
	shmem_request_hook = ShShmemRequest;
	prevShmemStartup = shmem_startup_hook;
	shmem_startup_hook = ShShmemStartup;
}

/* Do scans use graph copies at all (shared, or this backend's)? */
bool
HnswCacheEnabled(void)
{
	return sh != NULL || hnsw_cache_size > 0;
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

	if (g->shSlot >= 0)
		ShUnpinRecorded(g->shSlot, g->shGen);
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
				if (sh != NULL)
					ShRetireKey(&entries[i].node);
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
		if (sh != NULL)
			ShRetireKey(&e->node);
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

	/* a shared copy is placed later (ShPlace); here only: can it fit? */
	if (shBuildSlot >= 0)
		return need <= sh->size;
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
	/* a shared copy is read straight into its extent (ShReserve) */
	char	   *ext;			/* NULL: a local copy */
	HnswShGraph shl;			/* where its arrays go */
	bool		changed;		/* the index outgrew what pass 1 counted */
	bool		noRoom;			/* the region has no room now */
} CopyState;

static bool ShReserve(CopyState *cs);

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
	cs->maxup = 0;
	for (blkno = 1; blkno < g->nblocks; blkno++)
	{
		Buffer		buf;
		Page		page;
		OffsetNumber n = 0;

		CHECK_FOR_INTERRUPTS();
		buf = ReadBufferExtended(cs->index, MAIN_FORKNUM, blkno, RBM_NORMAL, cs->strategy);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (IsNodePage(page))
		{
			n = PageGetMaxOffsetNumber(page);

			/* a shared copy's extent is sized now: count the upper lists */
			if (shBuildSlot >= 0)
			{
				OffsetNumber off;

				for (off = FirstOffsetNumber; off <= n; off++)
				{
					HnswNodeHeader *node = HnswLayoutGetNode(cs->index, page, blkno, off,
															 &cs->lay);

					if (node->state != HNSW_NODE_FREE)
						cs->maxup += (Size) node->level * (g->m + 1);
				}
			}
		}
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

	if (cs->ext != NULL)
	{
		/* into the extent ShReserve placed, up as pass 1 counted it */
		g->nodes = (HnswGraphNode *) (cs->ext + cs->shl.offNodes);
		g->ntids = (uint8 *) (cs->ext + cs->shl.offNtids);
		g->vecs = cs->ext + cs->shl.offVecs;
		if (g->cstride > 0)
			g->codes = cs->ext + cs->shl.offCodes;
		g->nbr0 = (int32 *) (cs->ext + cs->shl.offNbr0);
		g->upStart = (int32 *) (cs->ext + cs->shl.offUpStart);
		g->up = (int32 *) (cs->ext + cs->shl.offUp);
	}
	else
	{
		g->nodes = CacheAlloc(mul_size(total, sizeof(HnswGraphNode)));
		g->ntids = CacheAlloc(total);
		g->vecs = CacheAlloc(mul_size(total, g->vstride));
		if (g->cstride > 0)
			g->codes = CacheAlloc(mul_size(total, g->cstride));
		g->nbr0 = CacheAlloc(mul_size(mul_size(total, cap0), sizeof(int32)));
		g->upStart = CacheAlloc(mul_size(total, sizeof(int32)));
		cs->maxup = Max(total / 8, 16) * (g->m + 1);
		g->up = CacheAlloc(mul_size(cs->maxup, sizeof(int32)));
	}
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
		if (cs->nup + need > cs->maxup && cs->ext != NULL)
		{
			/* a slot was reused meanwhile: its change is not bumped yet */
			cs->changed = true;
			return false;
		}
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

/*
 * Read the index into g (allocated in the current context, or for a shared
 * copy in its extent); false if too big, or cs->changed or cs->noRoom.
 */
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
	if (shBuildSlot >= 0 && !ShReserve(cs))
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
	g->shSlot = -1;
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
	g->nup = cs.ext != NULL ? cs.maxup : cs.nup;	/* a shared copy's: as placed */
	FreeAccessStrategy(cs.strategy);
	MemoryContextSwitchTo(old);
	if (!ok)
	{
		*tooBig = !cs.changed && !cs.noRoom;
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

/* ---- shared copies (hnsw.shared_cache_size) ---- */

/* Free a slot and its extent (exclusive lock held) */
static void
ShFreeSlot(HnswShSlot *s)
{
	s->state = SH_FREE;
	s->off = 0;
	s->bytes = 0;
	s->pins = 0;
	s->gen++;
}

/* Retire a slot's copy: freed now, or by its last unpin (exclusive lock) */
static void
ShRetireSlot(HnswShSlot *s)
{
	if (s->pins == 0)
		ShFreeSlot(s);
	else
		s->state = SH_RETIRED;
}

/* The slot holding or copying index node in this database, or -1 (lock held) */
static int
ShFind(const RelFileNode *node)
{
	int			i;

	for (i = 0; i < HNSW_SH_SLOTS; i++)
	{
		HnswShSlot *s = &sh->slots[i];

		if ((s->state == SH_READY || s->state == SH_BUILDING) &&
			s->dbid == MyDatabaseId && RelFileNodeEquals(s->node, *node))
			return i;
	}
	return -1;
}

/* Retire the copy of a dropped or rewritten index */
static void
ShRetireKey(const RelFileNode *node)
{
	int			i;

	LWLockAcquire(sh->lock, LW_EXCLUSIVE);
	i = ShFind(node);
	if (i >= 0 && sh->slots[i].state == SH_READY)
		ShRetireSlot(&sh->slots[i]);
	LWLockRelease(sh->lock);
}

/*
 * Free the least recently used copy no scan walks (exclusive lock held).
 * Returns false if there is none.
 */
static bool
ShEvictOne(void)
{
	int			lru = -1;
	int			i;

	for (i = 0; i < HNSW_SH_SLOTS; i++)
	{
		HnswShSlot *s = &sh->slots[i];

		if (s->state == SH_READY && s->pins == 0 &&
			(lru < 0 || s->lastUse < sh->slots[lru].lastUse))
			lru = i;
	}
	if (lru < 0)
		return false;
	ShFreeSlot(&sh->slots[lru]);
	return true;
}

static int
ShExtentCmp(const void *a, const void *b)
{
	const HnswShSlot *x = *(HnswShSlot *const *) a;
	const HnswShSlot *y = *(HnswShSlot *const *) b;

	return x->off < y->off ? -1 : x->off > y->off ? 1 : 0;
}

/*
 * ShPlace
 *		Find need bytes of the region (exclusive lock held): the first gap
 *		between the extents in use that fits, retiring the least recently
 *		used unpinned copies until one does.  Returns false if the pinned
 *		and building copies leave no room.
 */
static bool
ShPlace(Size need, Size *off)
{
	for (;;)
	{
		HnswShSlot *used[HNSW_SH_SLOTS];
		int			nused = 0;
		Size		end = 0;
		int			i;

		for (i = 0; i < HNSW_SH_SLOTS; i++)
			if (sh->slots[i].state != SH_FREE && sh->slots[i].bytes > 0)
				used[nused++] = &sh->slots[i];
		qsort(used, nused, sizeof(HnswShSlot *), ShExtentCmp);
		for (i = 0; i < nused; i++)
		{
			if (used[i]->off - end >= need)
				break;
			end = TYPEALIGN(HNSW_SH_ALIGN, used[i]->off + used[i]->bytes);
		}
		if (i < nused || (end <= sh->size && sh->size - end >= need))
		{
			*off = end;
			return true;
		}
		if (!ShEvictOne())
			return false;
	}
}

/* Where each array of g goes in its extent; returns the extent's bytes */
static Size
ShLayout(const HnswGraph *g, HnswShGraph *h)
{
	Size		off = TYPEALIGN(HNSW_SH_ALIGN, sizeof(HnswShGraph));
	Size		n = (Size) g->nnodes;

#define SH_PLACE(field, sz) \
	do { \
		h->field = off; \
		off = TYPEALIGN(HNSW_SH_ALIGN, add_size(off, (sz))); \
	} while (0)

	memset(h, 0, sizeof(HnswShGraph));
	h->changeCount = g->changeCount;
	h->nnodes = g->nnodes;
	h->m = g->m;
	h->vstride = g->vstride;
	h->cstride = g->cstride;	/* > 0 only for copies with codes */
	h->srcElem = g->srcElem;
	h->nblocks = g->nblocks;
	h->nup = g->nup;
	SH_PLACE(offSlotBase, mul_size((Size) g->nblocks + 1, sizeof(uint32)));
	SH_PLACE(offNodes, mul_size(n, sizeof(HnswGraphNode)));
	SH_PLACE(offNtids, n);
	SH_PLACE(offVecs, mul_size(n, g->vstride));
	if (h->cstride > 0)
		SH_PLACE(offCodes, mul_size(n, h->cstride));
	SH_PLACE(offNbr0, mul_size(mul_size(n, 2 * g->m + 1), sizeof(int32)));
	SH_PLACE(offUpStart, mul_size(n, sizeof(int32)));
	SH_PLACE(offUp, mul_size(g->nup, sizeof(int32)));
#undef SH_PLACE
	return off;
}

/*
 * ShReserve
 *		Place the extent of the shared copy CacheBuild is reading (pass 1 is
 *		done, so its size is known) and point cs at it.  False if it cannot
 *		fit the region at all, or (cs->noRoom) not now.
 */
static bool
ShReserve(CopyState *cs)
{
	HnswShSlot *s = &sh->slots[shBuildSlot];
	HnswGraph  *g = cs->g;
	Size		need,
				off;

	g->nup = cs->maxup;
	need = ShLayout(g, &cs->shl);
	if (need > sh->size)
		return false;
	LWLockAcquire(sh->lock, LW_EXCLUSIVE);
	Assert(s->gen == shBuildGen && s->state == SH_BUILDING);
	if (!ShPlace(need, &off))
	{
		LWLockRelease(sh->lock);
		cs->noRoom = true;
		return false;
	}
	s->off = off;
	s->bytes = need;
	s->nnodes = g->nnodes;
	LWLockRelease(sh->lock);
	cs->ext = shBase + off;
	return true;
}

/* This backend's header over the shared copy in slot (pinned) */
static HnswGraph *
ShHeader(int slot, uint32 gen, Size off, Size bytes)
{
	MemoryContext cxt = AllocSetContextCreate(TopMemoryContext, "hnsw shared graph header",
											  ALLOCSET_SMALL_SIZES);
	HnswGraph  *g = MemoryContextAllocZero(cxt, sizeof(HnswGraph));
	char	   *ext = shBase + off;
	const HnswShGraph *h = (const HnswShGraph *) ext;

	g->changeCount = h->changeCount;
	g->nnodes = h->nnodes;
	g->m = h->m;
	g->vstride = h->vstride;
	g->cstride = h->cstride;
	g->srcElem = h->srcElem;
	g->nblocks = h->nblocks;
	g->nup = h->nup;
	g->slotBase = (uint32 *) (ext + h->offSlotBase);
	g->nodes = (HnswGraphNode *) (ext + h->offNodes);
	g->ntids = (uint8 *) (ext + h->offNtids);
	g->vecs = ext + h->offVecs;
	g->codes = h->cstride > 0 ? ext + h->offCodes : NULL;
	g->nbr0 = (int32 *) (ext + h->offNbr0);
	g->upStart = (int32 *) (ext + h->offUpStart);
	g->up = (int32 *) (ext + h->offUp);
	g->bytes = bytes;
	g->cxt = cxt;
	g->shSlot = slot;
	g->shGen = gen;
	return g;
}

/* Give up the slot this backend claimed to copy into */
static void
ShAbandonBuild(void)
{
	HnswShSlot *s;

	if (shBuildSlot < 0)
		return;
	s = &sh->slots[shBuildSlot];
	LWLockAcquire(sh->lock, LW_EXCLUSIVE);
	if (s->gen == shBuildGen && s->state == SH_BUILDING && s->builder == MyProcPid)
		ShFreeSlot(s);
	LWLockRelease(sh->lock);
	shBuildSlot = -1;
}

/* Release the shared state of this backend: pins, a copy under way */
static void
ShReleaseAll(void)
{
	while (nShPins > 0)
	{
		nShPins--;
		ShUnpin(shPins[nShPins].slot, shPins[nShPins].gen);
	}
	ShAbandonBuild();
}

static void
ShExitCallback(int code, Datum arg)
{
	ShReleaseAll();
}

/* Room for one more pin record, made before the pin is taken */
static void
ShReservePin(void)
{
	if (!shExitRegistered)
	{
		before_shmem_exit(ShExitCallback, (Datum) 0);
		shExitRegistered = true;
	}
	if (nShPins < maxShPins)
		return;
	if (shPins == NULL)
	{
		maxShPins = 8;
		shPins = MemoryContextAlloc(TopMemoryContext, maxShPins * sizeof(HnswShPin));
	}
	else
	{
		maxShPins *= 2;
		shPins = repalloc(shPins, maxShPins * sizeof(HnswShPin));
	}
}

/* Forget one pin record of slot and drop the shared pin */
static void
ShUnpinRecorded(int slot, uint32 gen)
{
	int			i;

	for (i = nShPins - 1; i >= 0; i--)
		if (shPins[i].slot == slot && shPins[i].gen == gen)
		{
			shPins[i] = shPins[--nShPins];
			ShUnpin(slot, gen);
			return;
		}
	/* not recorded: released already at the end of its transaction */
}

/* Drop a pin on slot; the last pin of a retired copy frees it */
static void
ShUnpin(int slot, uint32 gen)
{
	HnswShSlot *s = &sh->slots[slot];
	bool		last = false;

	LWLockAcquire(sh->lock, LW_SHARED);
	if (s->gen == gen && s->state != SH_FREE)
	{
		SpinLockAcquire(&s->mutex);
		if (s->pins > 0)
			s->pins--;
		last = s->pins == 0 && s->state == SH_RETIRED;
		SpinLockRelease(&s->mutex);
	}
	LWLockRelease(sh->lock);
	if (last)
	{
		LWLockAcquire(sh->lock, LW_EXCLUSIVE);
		if (s->gen == gen && s->state == SH_RETIRED && s->pins == 0)
			ShFreeSlot(s);
		LWLockRelease(sh->lock);
	}
}

/* A pinned shared copy as this backend's entry e sees it */
static const HnswGraph *
ShUse(HnswCacheEntry *e, int slot, uint32 gen, Size off, Size bytes)
{
	HnswGraph  *g = e->graph;

	if (g == NULL || g->shSlot != slot || g->shGen != gen)
	{
		CacheRetire(e);
		g = e->graph = ShHeader(slot, gen, off, bytes);
	}
	e->hits++;
	g->pins++;
	return g;
}

/*
 * ShClaimSlot
 *		Claim a free slot (evicting the least recently used unpinned copy if
 *		none is free) and mark it being built by us, so that no other backend
 *		copies the index meanwhile; -1 if the index has a slot already or
 *		none can be freed.
 */
static int
ShClaimSlot(Relation index, const HnswMetaPageData *meta, uint32 *gen)
{
	HnswShSlot *s;
	int			slot;

	LWLockAcquire(sh->lock, LW_EXCLUSIVE);
	if (ShFind(&index->rd_node) >= 0)
	{
		LWLockRelease(sh->lock);
		return -1;
	}
	for (slot = 0; slot < HNSW_SH_SLOTS; slot++)
		if (sh->slots[slot].state == SH_FREE)
			break;
	if (slot == HNSW_SH_SLOTS)
	{
		if (!ShEvictOne())
		{
			LWLockRelease(sh->lock);
			return -1;
		}
		for (slot = 0; slot < HNSW_SH_SLOTS; slot++)
			if (sh->slots[slot].state == SH_FREE)
				break;
	}
	s = &sh->slots[slot];
	s->dbid = MyDatabaseId;
	s->node = index->rd_node;
	s->changeCount = meta->changeCount;
	s->state = SH_BUILDING;
	s->builder = MyProcPid;
	s->off = 0;
	s->bytes = 0;
	s->nnodes = 0;
	s->pins = 0;
	s->hits = 0;
	s->lastUse = pg_atomic_add_fetch_u64(&sh->clock, 1);
	shBuildSlot = slot;
	shBuildGen = *gen = s->gen;
	LWLockRelease(sh->lock);
	return slot;
}

/*
 * ShCacheGet
 *		HnswCacheGet with shared copies: pin the copy of index as the scan's
 *		metapage has it, or take one when the ski-rental rule says so.
 */
static const HnswGraph *
ShCacheGet(Relation index, const HnswMetaPageData *meta, HnswCacheEntry *e)
{
	HnswShSlot *s;
	int			slot;
	uint32		gen;
	bool		stale = false;
	BlockNumber nblocks;
	MemoryContext cxt = NULL;
	HnswGraph  *g;
	HnswShGraph h;
	bool		tooBig;
	Size		need,
				off;

	ShReservePin();
	LWLockAcquire(sh->lock, LW_SHARED);
	slot = ShFind(&index->rd_node);
	if (slot >= 0)
	{
		s = &sh->slots[slot];
		if (s->state == SH_READY && s->changeCount == meta->changeCount)
		{
			gen = s->gen;
			off = s->off;
			need = s->bytes;
			SpinLockAcquire(&s->mutex);
			s->pins++;
			s->hits++;
			s->lastUse = pg_atomic_add_fetch_u64(&sh->clock, 1);
			SpinLockRelease(&s->mutex);
			LWLockRelease(sh->lock);
			shPins[nShPins].slot = slot;
			shPins[nShPins].gen = gen;
			nShPins++;
			return ShUse(e, slot, gen, off, need);
		}
		/* counts only grow: a copy behind the scan's metapage is stale */
		stale = s->state == SH_READY &&
			(int64) (meta->changeCount - s->changeCount) > 0;
		gen = s->gen;
	}
	LWLockRelease(sh->lock);
	if (slot >= 0 && !stale)
		return NULL;			/* being copied, or newer than this scan */
	if (stale)
	{
		LWLockAcquire(sh->lock, LW_EXCLUSIVE);
		if (s->gen == gen && s->state == SH_READY)
			ShRetireSlot(s);
		LWLockRelease(sh->lock);
	}

	/* the ski-rental rule, as for this backend's copies */
	nblocks = RelationGetNumberOfBlocks(index);
	if (e->tooBigBlocks > 0 && nblocks <= e->tooBigBlocks &&
		hnsw_shared_cache_size <= e->tooBigBudget)
		return NULL;
	if (e->staleWork < (double) nblocks)
		return NULL;
	e->staleWork = 0;

	slot = ShClaimSlot(index, meta, &gen);
	if (slot < 0)
		return NULL;
	s = &sh->slots[slot];

	/* read the index into an extent of the region (ShReserve) */
	g = CacheBuild(index, meta, e, &cxt, &tooBig);
	if (g == NULL)
	{
		ShAbandonBuild();
		if (tooBig)
		{
			e->tooBigBlocks = nblocks;
			e->tooBigBudget = hnsw_shared_cache_size;
		}
		return NULL;
	}
	need = ShLayout(g, &h);
	Assert(need == s->bytes);
	off = s->off;				/* ours while building: no lock needed */
	memcpy(shBase + off, &h, sizeof(HnswShGraph));
	memcpy(shBase + off + h.offSlotBase, g->slotBase,
		   ((Size) g->nblocks + 1) * sizeof(uint32));
	MemoryContextDelete(cxt);

	/* publish it, pinned for this scan */
	LWLockAcquire(sh->lock, LW_EXCLUSIVE);
	Assert(s->gen == gen && s->state == SH_BUILDING);
	s->state = SH_READY;
	s->pins = 1;
	s->hits = 1;
	s->lastUse = pg_atomic_add_fetch_u64(&sh->clock, 1);
	shBuildSlot = -1;
	shPins[nShPins].slot = slot;
	shPins[nShPins].gen = gen;
	nShPins++;
	LWLockRelease(sh->lock);
	e->tooBigBlocks = 0;
	e->builds++;
	return ShUse(e, slot, gen, off, need);
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

	if (!HnswCacheEnabled())
		return NULL;
	CacheSweepDropped();
	e = CacheFind(index, true);
	e->lastUse = ++lruClock;

	/* no other backend can scan a temporary index: no shared copy */
	if (sh != NULL && index->rd_rel->relpersistence != RELPERSISTENCE_TEMP)
		return ShCacheGet(index, meta, e);
	if (hnsw_cache_size <= 0)
		return NULL;
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

	if (!HnswCacheEnabled())
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

/*
 * vecx_hnsw_shared_cache_status
 *		The shared graph copies (hnsw.shared_cache_size) of every database:
 *		none unless vecx is preloaded.  index and current are NULL for
 *		copies of other databases' indexes.
 */
PG_FUNCTION_INFO_V1(vecx_hnsw_shared_cache_status);
Datum
vecx_hnsw_shared_cache_status(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HnswShSlot	copy[HNSW_SH_SLOTS];
	int			n = 0;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	if (sh == NULL)
		PG_RETURN_VOID();
	LWLockAcquire(sh->lock, LW_SHARED);
	for (i = 0; i < HNSW_SH_SLOTS; i++)
	{
		HnswShSlot *s = &sh->slots[i];

		if (s->state == SH_FREE)
			continue;
		SpinLockAcquire(&s->mutex);
		copy[n++] = *s;
		SpinLockRelease(&s->mutex);
	}
	LWLockRelease(sh->lock);

	for (i = 0; i < n; i++)
	{
		HnswShSlot *s = &copy[i];
		static const char *const states[] = {"free", "building", "ready", "retired"};
		Datum		values[8];
		bool		nulls[8] = {0};
		Oid			relid = InvalidOid;

		values[0] = ObjectIdGetDatum(s->dbid);
		if (s->dbid == MyDatabaseId)
			relid = RelidByRelfilenode(s->node.spcNode, s->node.relNode);
		nulls[1] = nulls[3] = true;
		if (OidIsValid(relid))
		{
			Relation	index = try_relation_open(relid, AccessShareLock);

			values[1] = ObjectIdGetDatum(relid);
			nulls[1] = false;
			if (index != NULL)
			{
				if (index->rd_rel->relkind == RELKIND_INDEX && index->rd_indam != NULL &&
					index->rd_indam->ambuild == hnswbuild &&
					RelFileNodeEquals(index->rd_node, s->node))
				{
					values[3] = BoolGetDatum(s->state == SH_READY &&
											 CacheChangeCount(index) == s->changeCount);
					nulls[3] = false;
				}
				relation_close(index, AccessShareLock);
			}
		}
		values[2] = CStringGetTextDatum(states[s->state]);
		values[4] = Int64GetDatum(s->nnodes);
		values[5] = Int64GetDatum((int64) s->bytes);
		values[6] = Int32GetDatum(s->pins);
		values[7] = Int64GetDatum(s->hits);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	PG_RETURN_VOID();
}
