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
#include "catalog/pg_type.h"
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
#include "hnswinsert.h"
#include "hnswwalk.h"

/*
 * The state of a layer walk over a build graph (hnswwalk.h), the first
 * member of both the serial and the parallel build state: nodes are build
 * node numbers, the visited set an epoch-stamped array.
 */
typedef struct BuildNodeOps BuildNodeOps;

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
	HnswHeapItem *found;		/* a level's results: the next one's seeds */
	int			nseeds;
	HnswInsertWork iw;			/* the insertion's (hnswinsert.h) */
	const BuildNodeOps *nodes;	/* the kind's nodes (below) */
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
	HnswLayout	lay;			/* the index being built */
	int			maxLevel;

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
	return n->nbrs + HnswLevelStart(bs->lay.m, level);
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

/* The stored vector of build node id */
typedef const char *(*BuildVecFn) (void *g, int32 id);

/*
 * Prefetch the first lines of a vector the walk will score next.  A build's
 * distances read vectors scattered over the whole graph, so each one stalls
 * on memory unless its fetch overlaps the previous distance (the vectors
 * are read sequentially from there, which the hardware prefetcher follows).
 */
#define BUILD_PREFETCH_BYTES 512
#define BUILD_PREFETCH_AHEAD 3

static inline void
BuildPrefetchVec(const char *v, Size bytes)
{
	Size		off;

	for (off = 0; off < Min(bytes, BUILD_PREFETCH_BYTES); off += 64)
		__builtin_prefetch(v + off);
}

/*
 * While visiting neighbour i of nt (nbrs[]), prefetch the vector of the one
 * BUILD_PREFETCH_AHEAD on, whose node entry (read by vec) has arrived by
 * then; the first visit also prefetches those before it.
 */
static pg_attribute_always_inline void
BuildPrefetchAhead(void *g, BuildVecFn vec, Size vbytes, const int32 *nbrs,
				   int i, int nt)
{
	if (i == 0)
		for (int j = 1; j < Min(nt, BUILD_PREFETCH_AHEAD); j++)
			BuildPrefetchVec(vec(g, nbrs[j]), vbytes);
	if (i + BUILD_PREFETCH_AHEAD < nt)
		BuildPrefetchVec(vec(g, nbrs[i + BUILD_PREFETCH_AHEAD]), vbytes);
}

/*
 * On expanding a node, prefetch its neighbours' node entries (array nodes
 * of entries of nodesize bytes) and visited stamps, which the visits read
 * next (then each visit prefetches the following neighbour's vector).
 */
static inline void
BuildPrefetchNbrs(const BuildWalk *w, const void *nodes, Size nodesize,
				  const int32 *nbrs, int cnt)
{
	for (int i = 0; i < cnt; i++)
	{
		if (nodes)
			__builtin_prefetch((const char *) nodes + nodesize * nbrs[i]);
		__builtin_prefetch(&w->epochs[nbrs[i]]);
	}
}

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

/* Allocate a walk's scratch (not its visited stamps: each kind sizes them) */
static void
BuildWalkInit(BuildWalk *w, const BuildNodeOps *nodes, const HnswLayout *lay)
{
	int			efc = lay->efConstruction;

	w->nodes = nodes;
	HnswHeapInit(&w->cand, efc * 4, false);
	HnswHeapInit(&w->res, efc * 4, true);
	w->found = palloc(sizeof(HnswHeapItem) * (Max(efc, 2 * lay->m) + 2));
	HnswInsertWorkInit(&w->iw, lay, 8, false);
}

/*
 * How the insertion (hnswinsert.h) reaches a build graph: the serial
 * build's local memory or the parallel build's DSM, both arrays of nodes
 * numbered from 0, whose vectors stay put and are read in place.  The
 * parallel kind guards each node's lists with its spinlock (lock/unlock);
 * the serial kind's do nothing.  g starts with a BuildWalk, which points
 * to its kind's BuildNodeOps.  The descent and the search (the walk's hot
 * loop) are specialised per kind with a constant table; the rest of the
 * HnswGraphOps (lists, the splice, placing the node) are shared.
 */
struct BuildNodeOps
{
	const HnswWalkOps *walk;
	BuildVecFn	vec;
	int			(*level) (void *g, int32 id);
	uint8	   *(*counts) (void *g, int32 id);
	int32	   *(*list) (void *g, int32 id, int level);
	void		(*lock) (void *g, int32 id);
	void		(*unlock) (void *g, int32 id);
};

/* Greedy descent: its closest node seeds the search of level top */
static pg_attribute_always_inline void
BuildDescend(const BuildNodeOps *ops, void *g, const char *q, HnswRef ep,
			 int epLevel, int top)
{
	BuildWalk  *w = (BuildWalk *) g;

	w->q = q;
	w->cur = (int32) ep;
	w->curDist = HnswDistance(w->iw.d, q, ops->vec(g, w->cur));
	HnswWalkDescend(ops->walk, g, &w->cand, &w->res, epLevel, top);
	w->found[0].idx = w->cur;
	w->found[0].dist = w->curDist;
	w->nseeds = 1;
}

/* A level's search; every build node is live: all results are candidates */
static pg_attribute_always_inline int
BuildSearch(const BuildNodeOps *ops, void *g, Size nstamps, HnswInsertWork *iw,
			HnswRef self, int level)
{
	BuildWalk  *w = (BuildWalk *) g;
	int			n,
				i;

	n = BuildSearchLevel(ops->walk, g, nstamps, (int32) self, w->nseeds, level,
						 iw->efc);
	w->nseeds = n;
	for (i = 0; i < n; i++)
	{
		iw->ref[i] = w->found[i].idx;
		iw->dist[i] = w->found[i].dist;
		iw->vec[i] = (char *) ops->vec(g, w->found[i].idx);
	}
	return n;
}

/*
 * The insertion's operations that both build kinds share: g's BuildWalk
 * names the kind's node access (a few indirect calls per backlink, beside
 * the distances of a pruning).
 */
static int
BuildReadList(void *g, HnswRef n, int level, HnswRef *out, char *vecbuf,
			  const char **vec)
{
	const BuildNodeOps *ops = ((BuildWalk *) g)->nodes;
	int32		id = (int32) n;
	const int32 *list;
	int			cnt,
				i;

	if (ops->level(g, id) < level)
		return -1;
	list = ops->list(g, id, level);
	ops->lock(g, id);
	cnt = ops->counts(g, id)[level];
	for (i = 0; i < cnt; i++)
		out[i] = list[i];
	ops->unlock(g, id);
	if (vec)
		*vec = ops->vec(g, id);
	return cnt;
}

/* Build nodes are live and stay put: their vectors are read in place */
static const char *
BuildReadVec(void *g, HnswRef n, int level, char *buf)
{
	return ((BuildWalk *) g)->nodes->vec(g, (int32) n);
}

static int
BuildWriteList(void *g, HnswRef n, int level, const HnswRef *old, int cnt,
			   const HnswRef *upd, int nupd)
{
	const BuildNodeOps *ops = ((BuildWalk *) g)->nodes;
	int32		id = (int32) n;
	int32	   *list = ops->list(g, id, level);
	int			i;

	ops->lock(g, id);
	for (i = 0; i < cnt && list[i] == (int32) old[i]; i++)
		;
	if (ops->counts(g, id)[level] != cnt || i < cnt)
	{
		ops->unlock(g, id);
		return 0;				/* changed meanwhile */
	}
	for (i = 0; i < nupd; i++)
		list[i] = (int32) upd[i];
	ops->counts(g, id)[level] = nupd;
	ops->unlock(g, id);
	return 1;
}

static bool
BuildReplace(void *g, HnswRef p, HnswRef q, HnswRef self)
{
	const BuildNodeOps *ops = ((BuildWalk *) g)->nodes;
	int32	   *list = ops->list(g, (int32) p, 0);
	bool		found = false;
	int			cnt,
				i;

	ops->lock(g, (int32) p);
	cnt = ops->counts(g, (int32) p)[0];
	for (i = 0; i < cnt && !found; i++)
		if (list[i] == (int32) q)
		{
			list[i] = (int32) self;
			found = true;
		}
	ops->unlock(g, (int32) p);
	return found;
}

/* The node is in the graph already: give it its lists */
static HnswRef
BuildPlace(void *g, const HnswInsertWork *iw, HnswRef self)
{
	const BuildNodeOps *ops = ((BuildWalk *) g)->nodes;
	int32		id = (int32) self;
	int			l,
				i;

	for (l = iw->top; l >= 0; l--)
	{
		int32	   *list = ops->list(g, id, l);
		const HnswRef *sel = HnswPlanList(iw, l);

		ops->lock(g, id);
		for (i = 0; i < iw->nsel[l]; i++)
			list[i] = (int32) sel[i];
		ops->counts(g, id)[l] = iw->nsel[l];
		ops->unlock(g, id);
	}
	return self;
}

static inline const char *
MemVec(void *g, int32 id)
{
	return ((HnswBuildState *) g)->nodes[id].vec;
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
	BuildPrefetchNbrs(&bs->w, bs->nodes, sizeof(BuildNode), bs->w.nbrs,
					  cn->counts[level]);
	return cn->counts[level];
}

static inline bool
MemVisit(void *g, int i, int nt, int level, int ef, HnswHeapItem *item)
{
	HnswBuildState *bs = (HnswBuildState *) g;
	int32		e = bs->w.nbrs[i];

	BuildPrefetchAhead(g, MemVec, bs->lay.d.vbytes, bs->w.nbrs, i, nt);
	if (BuildVisited(&bs->w, e))
		return false;
	return BuildVisit(&bs->w, &bs->lay.d, e, bs->nodes[e].vec, ef, item);
}

static inline bool
MemSeed(void *g, int level)
{
	HnswBuildState *bs = (HnswBuildState *) g;

	BuildSeed(&bs->w, bs->maxnodes);
	return true;
}

static const HnswWalkOps MemWalkOps = {
	BuildClaim, MemExpand, MemVisit, BuildEvict, MemSeed, BuildSettle
};

/* ---- the insertion's operations (hnswinsert.h) on the serial build ---- */

static inline int
MemLevel(void *g, int32 id)
{
	return ((HnswBuildState *) g)->nodes[id].level;
}

static inline uint8 *
MemCounts(void *g, int32 id)
{
	return ((HnswBuildState *) g)->nodes[id].counts;
}

static inline int32 *
MemList(void *g, int32 id, int level)
{
	HnswBuildState *bs = (HnswBuildState *) g;

	return NodeLevelNbrs(bs, &bs->nodes[id], level);
}

/* One process owns the graph: nothing to lock */
static inline void
MemNoLock(void *g, int32 id)
{
}

static const BuildNodeOps MemNodeOps = {
	&MemWalkOps, MemVec, MemLevel, MemCounts, MemList, MemNoLock, MemNoLock
};

static inline bool
MemEntry(void *g, HnswRef self, HnswRef *ep, int *epLevel)
{
	HnswBuildState *bs = (HnswBuildState *) g;

	if (bs->entry < 0)
	{
		bs->entry = (int32) self;
		bs->entryLevel = bs->nodes[self].level;
		return false;
	}
	*ep = bs->entry;
	*epLevel = bs->entryLevel;
	return true;
}

static inline void
MemDescend(void *g, const char *q, HnswRef ep, int epLevel, int top)
{
	BuildDescend(&MemNodeOps, g, q, ep, epLevel, top);
}

static inline int
MemSearch(void *g, HnswInsertWork *iw, HnswRef self, int level)
{
	return BuildSearch(&MemNodeOps, g, ((HnswBuildState *) g)->maxnodes, iw, self, level);
}

static inline bool
MemTakeDuplicate(void *g, HnswRef dup, HnswRef self)
{
	HnswBuildState *bs = (HnswBuildState *) g;
	BuildNode  *dn = &bs->nodes[dup];
	BuildNode  *node = &bs->nodes[self];

	if (dn->ntids >= HNSW_HEAPTIDS ||
		(bs->lay.fbytes > 0 && memcmp(dn->filter, node->filter, bs->lay.fbytes) != 0))
		return false;
	dn->heaptids[dn->ntids++] = node->heaptids[0];
	return true;
}

static inline void
MemRaise(void *g, HnswRef self)
{
	HnswBuildState *bs = (HnswBuildState *) g;

	bs->entry = (int32) self;
	bs->entryLevel = bs->nodes[self].level;
}

static const HnswGraphOps MemGraphOps = {
	MemEntry, MemDescend, MemSearch, MemTakeDuplicate, BuildReadList, BuildReadVec,
	BuildWriteList, BuildReplace, BuildPlace, MemRaise
};

/*
 * Insert node number id (already stored in bs->nodes) into the graph.
 * Returns false if it was an exact duplicate of a node found by the search
 * of its top level: its heap TID was added to that node instead.
 */
static bool
MemInsert(HnswBuildState *bs, int32 id)
{
	return HnswInsertNode(&MemGraphOps, bs, &bs->w.iw, id, bs->nodes[id].vec,
						  bs->nodes[id].level);
}

/* Bytes one in-memory node of this level costs. */
static Size
BuildNodeBytes(HnswBuildState *bs, int level)
{
	Size		s = sizeof(BuildNode);

	s = add_size(s, MAXALIGN(bs->lay.d.vbytes));
	s = add_size(s, MAXALIGN(bs->lay.fbytes));
	s = add_size(s, MAXALIGN(level + 1));
	s = add_size(s, mul_size(sizeof(int32), HnswTotalSlots(bs->lay.m, level)));
	return add_size(s, 3 * 16);	/* allocator chunk headers */
}

/* The bytes node n takes on its page, filter payload included */
static inline Size
BuildTupleSize(HnswBuildState *bs, BuildNode *n)
{
	return HnswLayoutNodeSize(&bs->lay, n->level);
}

/*
 * WriteAssign
 *		Give every node its location, in node order, filling pages from
 *		block 1.  Returns the last node page (the metapage if none).
 */
static BlockNumber
WriteAssign(HnswBuildState *bs)
{
	Size		avail = BLCKSZ - MAXALIGN(SizeOfPageHeaderData) -
		MAXALIGN(sizeof(HnswPageOpaqueData));
	Size		free = 0;
	BlockNumber blkno = HNSW_METAPAGE_BLKNO;
	OffsetNumber off = 0;
	int			i;

	for (i = 0; i < bs->nnodes; i++)
	{
		Size		need = MAXALIGN(BuildTupleSize(bs, &bs->nodes[i])) + sizeof(ItemIdData);

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
	return blkno;
}

/*
 * Extend the index by one page, which must be block want (the build is
 * the only writer), initialised with the given page flags and locked.
 */
static Buffer
NewBuildPage(Relation index, BlockNumber want, uint32 flags)
{
	Buffer		buf;

	LockRelationForExtension(index, ExclusiveLock);
	buf = ReadBufferExtended(index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, NULL);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	UnlockRelationForExtension(index, ExclusiveLock);
	if (BufferGetBlockNumber(buf) != want)
		elog(ERROR, "hnsw build: unexpected block %u, expected %u",
			 BufferGetBlockNumber(buf), want);
	HnswInitPage(BufferGetPage(buf), flags);
	return buf;
}

/*
 * FormBuildTuple
 *		Node i as it goes on its page, into tup (size bytes): its vector
 *		or, with overflow storage, a reference to its nslices slices from
 *		block ovflBase + i * nslices; its lists as TIDs; its payload.
 */
static void
FormBuildTuple(HnswBuildState *bs, int i, BlockNumber ovflBase, int nslices,
			   char *tup, Size size)
{
	BuildNode  *n = &bs->nodes[i];
	HnswNodeHeader *hdr = (HnswNodeHeader *) tup;
	uint8	   *counts;
	ItemPointerData *nbrs;
	int			l,
				j;

	memset(tup, 0, size);
	/* a node whose TID went to an identical one (parallel) is a free slot */
	hdr->state = n->ntids > 0 ? HNSW_NODE_LIVE : HNSW_NODE_FREE;
	hdr->level = n->level;
	hdr->dims = HnswNodeDims(bs->lay.d.dims, bs->lay.d.elemtype);
	hdr->ntids = n->ntids;
	memcpy(hdr->heaptids, n->heaptids, sizeof(ItemPointerData) * n->ntids);
	if (bs->lay.d.overflow)
	{
		HnswOvflRef ref;

		hdr->flags = HNSW_NODEF_OVERFLOW;
		ItemPointerSet(&ref.first, ovflBase + (BlockNumber) i * nslices, FirstOffsetNumber);
		ref.nslices = nslices;
		memcpy(HnswNodeVector(hdr), &ref, sizeof(HnswOvflRef));
	}
	else
		memcpy(HnswNodeVector(hdr), n->vec, bs->lay.d.vbytes);
	counts = HnswLayoutCounts(&bs->lay, hdr);
	nbrs = HnswLayoutNbrs(&bs->lay, hdr);
	for (j = 0; j < HnswTotalSlots(bs->lay.m, n->level); j++)
		ItemPointerSetInvalid(&nbrs[j]);
	for (l = 0; l <= n->level; l++)
	{
		int32	   *src = NodeLevelNbrs(bs, n, l);
		ItemPointerData *dst = nbrs + HnswLevelStart(bs->lay.m, l);

		counts[l] = n->counts[l];
		for (j = 0; j < n->counts[l]; j++)
			dst[j] = bs->nodes[src[j]].tid;
	}
	if (bs->lay.fbytes > 0)
		memcpy(tup + size - bs->lay.fbytes, n->filter, bs->lay.fbytes);
}

/* Write every node to the location WriteAssign gave it */
static void
WriteNodes(HnswBuildState *bs, BlockNumber ovflBase, int nslices)
{
	Size		maxsize = HnswLayoutNodeSize(&bs->lay, bs->maxLevel);
	char	   *tup = palloc(maxsize);
	Buffer		buf = InvalidBuffer;
	int			i;

	for (i = 0; i < bs->nnodes; i++)
	{
		BuildNode  *n = &bs->nodes[i];
		BlockNumber blkno = ItemPointerGetBlockNumber(&n->tid);
		Size		size = BuildTupleSize(bs, n);
		OffsetNumber got;

		if (!BufferIsValid(buf) || blkno != BufferGetBlockNumber(buf))
		{
			if (BufferIsValid(buf))
			{
				MarkBufferDirty(buf);
				UnlockReleaseBuffer(buf);
			}
			buf = NewBuildPage(bs->index, blkno, HNSW_PAGE_NODES);
		}
		FormBuildTuple(bs, i, ovflBase, nslices, tup, size);
		got = PageAddItem(BufferGetPage(buf), (Item) tup, size, InvalidOffsetNumber,
						  false, false);
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
}

/* Overflow storage: node i's vector in nslices pages from ovflBase + i * nslices */
static void
WriteOverflow(HnswBuildState *bs, BlockNumber ovflBase, int nslices)
{
	Size		max = HnswOvflSliceMax();
	char	   *item = palloc(HNSW_MAX_ITEM_SIZE);
	int			i;

	for (i = 0; i < bs->nnodes; i++)
	{
		int			k;

		for (k = 0; k < nslices; k++)
		{
			BlockNumber want = ovflBase + (BlockNumber) i * nslices + k;
			Size		start = (Size) k * max;
			HnswOvflSlice sh;
			Buffer		buf;

			sh.seq = k;
			sh.len = Min(max, bs->lay.d.vbytes - start);
			sh.unused = 0;
			if (k + 1 < nslices)
				ItemPointerSet(&sh.next, want + 1, FirstOffsetNumber);
			else
				ItemPointerSetInvalid(&sh.next);
			memcpy(item, &sh, HNSW_OVFL_HDRSZ);
			memcpy(item + HNSW_OVFL_HDRSZ, bs->nodes[i].vec + start, sh.len);

			buf = NewBuildPage(bs->index, want, HNSW_PAGE_OVERFLOW);
			if (PageAddItem(BufferGetPage(buf), (Item) item, HNSW_OVFL_HDRSZ + sh.len,
							InvalidOffsetNumber, false, false) != FirstOffsetNumber)
				elog(ERROR, "hnsw build: could not place overflow slice on block %u", want);
			MarkBufferDirty(buf);
			UnlockReleaseBuffer(buf);
		}
		if ((i & 255) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	pfree(item);
}

/*
 * WriteMeta
 *		The filter map (one entry per live node, in node order), then the
 *		metapage: entry point, insert page (lastNodePage) and map.
 */
static void
WriteMeta(HnswBuildState *bs, BlockNumber lastNodePage)
{
	HnswMapWriter mapw;
	HnswMetaPage meta;
	Buffer		buf;
	int			i;

	HnswMapWriterStart(&mapw, bs->index, bs->lay.nfilter);
	for (i = 0; bs->lay.nfilter > 0 && i < bs->nnodes; i++)
	{
		if (bs->nodes[i].ntids == 0)
			continue;			/* a free slot has no entry */
		HnswMapWriterAdd(&mapw, &bs->nodes[i].tid, bs->nodes[i].filter);
		if ((i & 4095) == 0)
			CHECK_FOR_INTERRUPTS();
	}

	buf = ReadBuffer(bs->index, HNSW_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	meta = HnswPageGetMeta(BufferGetPage(buf));
	if (bs->lay.nfilter > 0)
		HnswMapWriterFinish(&mapw, meta);
	if (bs->entry >= 0)
	{
		meta->entryBlkno = ItemPointerGetBlockNumber(&bs->nodes[bs->entry].tid);
		meta->entryOffno = ItemPointerGetOffsetNumber(&bs->nodes[bs->entry].tid);
		meta->entryLevel = bs->entryLevel;
	}
	meta->insertPage = lastNodePage == HNSW_METAPAGE_BLKNO ? InvalidBlockNumber : lastNodePage;
	meta->nodeCount = bs->nnodes;
	MarkBufferDirty(buf);
	UnlockReleaseBuffer(buf);
}

/*
 * Reachability of the finished graph.  A node keeps in-links only while
 * its neighbours' lists keep it: each back link into a full list re-selects
 * that list with the heuristic, and a node can lose every in-link that way
 * and be found by no walk however large ef_search is (0.4% of Fashion-
 * MNIST's nodes; several percent of near-orthogonal sparse rows; README,
 * "Build").  Before the graph is written, a breadth-first walk of level 0
 * from the entry point marks what is reached; each live node left out is
 * linked from the closest reached node a search finds that has a free slot,
 * with a link back if it has room, and the walk goes on from it.  Vacuum
 * does the same on the pages after deletions (hnswvacuum.c,
 * RestoreReachability), where it may also replace a well-linked neighbour.
 */
typedef struct BuildReach
{
	bool	   *reached;
	int32	   *queue;
	int64		nlinked;
} BuildReach;

/* Mark start reached and walk level 0 from it */
static void
BuildReachFrom(HnswBuildState *bs, BuildReach *r, int32 start)
{
	int32		head = 0,
				tail = 0;

	if (r->reached[start])
		return;
	r->reached[start] = true;
	r->queue[tail++] = start;
	while (head < tail)
	{
		BuildNode  *c = &bs->nodes[r->queue[head++]];
		int32	   *list = NodeLevelNbrs(bs, c, 0);

		for (int j = 0; j < c->counts[0]; j++)
		{
			int32		nb = list[j];

			if (!r->reached[nb])
			{
				r->reached[nb] = true;
				r->queue[tail++] = nb;
			}
		}
	}
}

/*
 * Make x link to o at level 0, in a free slot.  Never in place of another
 * neighbour (as vacuum may): replacing well-linked members of the lists the
 * walk relies on cost recall where lists are full (inner product, whose
 * lists are topped up: hnsw_vector's recall fell below its bounds), while
 * a free slot only adds a path.
 */
static bool
BuildReachLink(HnswBuildState *bs, int32 x, int32 o)
{
	BuildNode  *n = &bs->nodes[x];
	int32	   *list = NodeLevelNbrs(bs, n, 0);
	int			cnt = n->counts[0];
	int			j;

	for (j = 0; j < cnt; j++)
		if (list[j] == o)
			return true;
	if (cnt >= HnswLevelCap(bs->lay.m, 0))
		return false;
	list[cnt] = o;
	n->counts[0]++;
	return true;
}

/* Link the unreached node o from the closest reached node found, and back */
static void
BuildReachOrphan(HnswBuildState *bs, BuildReach *r, int32 o)
{
	BuildWalk  *w = &bs->w;
	int			n;

	BuildDescend(&MemNodeOps, bs, bs->nodes[o].vec, bs->entry, bs->entryLevel, 0);
	n = BuildSearchLevel(MemNodeOps.walk, bs, bs->maxnodes, o, w->nseeds, 0,
						 bs->lay.efConstruction);
	for (int i = 0; i <= n; i++)
	{
		/* the search stays among reached nodes; else the entry point */
		int32		x = i < n ? w->found[i].idx : bs->entry;

		if (x == o || !r->reached[x] || !BuildReachLink(bs, x, o))
			continue;
		(void) BuildReachLink(bs, o, x);
		r->nlinked++;
		BuildReachFrom(bs, r, o);
		return;
	}
}

static void
BuildRestoreReachability(HnswBuildState *bs)
{
	BuildReach	r;
	int32		n = bs->nnodes;

	if (bs->entry < 0 || n < 2)
		return;
	r.reached = MemoryContextAllocExtended(CurrentMemoryContext, n,
										   MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	r.queue = MemoryContextAllocExtended(CurrentMemoryContext,
										 mul_size(sizeof(int32), n), MCXT_ALLOC_HUGE);
	r.nlinked = 0;
	BuildReachFrom(bs, &r, bs->entry);
	for (int32 o = 0; o < n; o++)
	{
		/* a parallel build's duplicates (no heap TID) are free slots */
		if (!r.reached[o] && bs->nodes[o].ntids > 0)
			BuildReachOrphan(bs, &r, o);
		if ((o & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	elog(DEBUG1, "hnsw build of \"%s\": linked " INT64_FORMAT " unreached nodes",
		 RelationGetRelationName(bs->index), r.nlinked);
	pfree(r.reached);
	pfree(r.queue);
}

/*
 * WriteGraph
 *		Restore the graph's reachability, then lay the in-memory nodes out
 *		on pages in node order, write them through shared buffers without
 *		WAL (node pages, then the overflow pages, then the filter map and
 *		the metapage), and log them all at the end with log_newpage_range.
 */
static void
WriteGraph(HnswBuildState *bs)
{
	int			nslices = bs->lay.d.overflow ? HnswOvflSlices(&bs->lay.d) : 0;
	BlockNumber lastNodePage;
	BlockNumber ovflBase;

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, HNSW_PHASE_WRITE);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, bs->nnodes);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, 0);

	BuildRestoreReachability(bs);

	lastNodePage = WriteAssign(bs);
	/* overflow chains follow the node pages */
	ovflBase = lastNodePage + 1;
	if (bs->lay.d.overflow &&
		(double) ovflBase + (double) bs->nnodes * nslices >= (double) MaxBlockNumber)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("hnsw index would exceed the maximum relation size")));

	WriteNodes(bs, ovflBase, nslices);
	if (bs->lay.d.overflow)
		WriteOverflow(bs, ovflBase, nslices);
	WriteMeta(bs, lastNodePage);

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
	if (bs->lay.fbytes > 0)
	{
		filter = palloc(bs->lay.fbytes);
		HnswFormFilter(index, values, isnull, filter);
	}
	vec = palloc(bs->lay.d.vbytes);
	if (!HnswPrepareValue(&bs->lay.d, values[0], vec))
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

	level = HnswRandomLevel(bs->lay.m, bs->maxLevel);
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
	n->vec = palloc(bs->lay.d.vbytes);
	memcpy(n->vec, vec, bs->lay.d.vbytes);
	n->filter = NULL;
	if (bs->lay.fbytes > 0)
	{
		n->filter = palloc(bs->lay.fbytes);
		memcpy(n->filter, filter, bs->lay.fbytes);
	}
	n->counts = palloc0(level + 1);
	n->nbrs = palloc(sizeof(int32) * HnswTotalSlots(bs->lay.m, level));
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
	/* bit(n) only: a varbit column's values may differ in length */
	if (info->elemtype == HNSW_ELEM_BIT &&
		TupleDescAttr(RelationGetDescr(index), 0)->atttypid != BITOID)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("type not supported for hnsw index"),
				 errhint("Index a bit(n) column.")));
	if (!HnswElemDense(info->elemtype) &&
		HnswGetQuantization(index) != HNSW_QUANT_NONE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("quantization = sq8 is not supported for %s values",
						info->elemtype == HNSW_ELEM_BIT ? "bit" : "sparsevec"),
				 errhint("Only vector and halfvec indexes can be quantized.")));
	/* nodes of vectors too large to be inline keep only a reference */
	maxLevel = HnswMaxLevelFor(dims, info->elemtype, m, true);
	if (maxLevel < 0 || dims > HnswMaxDims(info->elemtype))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("column cannot have more than %lld dimensions for hnsw index",
						(long long) HnswMaxDims(info->elemtype))));
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
 * memory: a node array (ids handed out by an atomic counter), a vector
 * array indexed by node id, and a bump arena for neighbour lists and
 * filter payloads, addressed by offsets.  A walk scores neighbours it
 * knows only by id: their vectors' addresses follow from the id, with no
 * load of the node entry first (a dependent cache miss per neighbour, the
 * largest stall of the build walk at 128 dimensions).  Every node
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
	int			nfilter;		/* filter columns */
	Size		fbytes;			/* filter payload per node, 0 without filter columns */
	uint32		maxnodes;
	Size		vecStride;		/* bytes per vector slot */
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
	char	   *vecs;			/* SharedVecs */
	Size		vecStride;
	char	   *arena;
	HnswLayout	lay;			/* in-memory distances: vectors inline */
	int32	   *tmp;			/* a copied neighbour list */
	MemoryContext tmpCxt;
	double		indtuples;
} HnswPBuild;

static inline HnswSharedNode *
SharedNodes(HnswShared *sh)
{
	return (HnswSharedNode *) ((char *) sh + MAXALIGN(sizeof(HnswShared)));
}

static inline char *
SharedVecs(HnswShared *sh)
{
	char	   *p = (char *) SharedNodes(sh) +
		MAXALIGN(mul_size(sizeof(HnswSharedNode), sh->maxnodes));

	return (char *) CACHELINEALIGN(p);
}

static inline char *
SharedArena(HnswShared *sh)
{
	return SharedVecs(sh) + sh->vecStride * sh->maxnodes;
}

static inline char *
PVec(HnswPBuild *pb, int32 id)
{
	return pb->vecs + pb->vecStride * (Size) id;
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
		HnswLevelStart(pb->lay.m, level);
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

static inline const char *
PVecOf(void *g, int32 id)
{
	return PVec((HnswPBuild *) g, id);
}

/* Parallel build: a list is copied under the node's spinlock */
static inline int
PExpand(void *g, int32 idx, int level)
{
	HnswPBuild *pb = (HnswPBuild *) g;
	int			cnt;

	pb->w.nbrs = pb->tmp;
	cnt = PReadList(pb, idx, level, pb->tmp);
	/* a visit reads no node entry: the stamps only */
	BuildPrefetchNbrs(&pb->w, NULL, 0, pb->tmp, cnt);
	return cnt;
}

static inline bool
PVisit(void *g, int i, int nt, int level, int ef, HnswHeapItem *item)
{
	HnswPBuild *pb = (HnswPBuild *) g;
	int32		e = pb->w.nbrs[i];

	BuildPrefetchAhead(g, PVecOf, pb->lay.d.vbytes, pb->w.nbrs, i, nt);
	if (BuildVisited(&pb->w, e))
		return false;
	return BuildVisit(&pb->w, &pb->lay.d, e, PVec(pb, e), ef, item);
}

static inline bool
PSeed(void *g, int level)
{
	HnswPBuild *pb = (HnswPBuild *) g;

	BuildSeed(&pb->w, pb->sh->maxnodes);
	return true;
}

static const HnswWalkOps PWalkOps = {
	BuildClaim, PExpand, PVisit, BuildEvict, PSeed, BuildSettle
};

/* ---- the insertion's operations (hnswinsert.h) on the parallel build ---- */

static inline int
PLevel(void *g, int32 id)
{
	return ((HnswPBuild *) g)->nodes[id].level;
}

static inline uint8 *
PCountsOf(void *g, int32 id)
{
	return PCounts((HnswPBuild *) g, id);
}

static inline int32 *
PListOf(void *g, int32 id, int level)
{
	return PList((HnswPBuild *) g, id, level);
}

static inline void
PLock(void *g, int32 id)
{
	SpinLockAcquire(&((HnswPBuild *) g)->nodes[id].lock);
}

static inline void
PUnlock(void *g, int32 id)
{
	SpinLockRelease(&((HnswPBuild *) g)->nodes[id].lock);
}

static const BuildNodeOps PNodeOps = {
	&PWalkOps, PVecOf, PLevel, PCountsOf, PListOf, PLock, PUnlock
};

static inline bool
PEntry(void *g, HnswRef self, HnswRef *ep, int *epLevel)
{
	HnswPBuild *pb = (HnswPBuild *) g;
	HnswShared *sh = pb->sh;
	bool		found = true;

	SpinLockAcquire(&sh->mutex);
	if (sh->entry < 0)
	{
		sh->entry = (int32) self;
		sh->entryLevel = pb->nodes[self].level;
		found = false;
	}
	*ep = sh->entry;
	*epLevel = sh->entryLevel;
	SpinLockRelease(&sh->mutex);
	return found;
}

static inline void
PDescend(void *g, const char *q, HnswRef ep, int epLevel, int top)
{
	BuildDescend(&PNodeOps, g, q, ep, epLevel, top);
}

static inline int
PSearch(void *g, HnswInsertWork *iw, HnswRef self, int level)
{
	return BuildSearch(&PNodeOps, g, ((HnswPBuild *) g)->sh->maxnodes, iw, self, level);
}

/* A node with no TID left is being freed by nobody: ntids > 0 */
static inline bool
PTakeDuplicate(void *g, HnswRef dup, HnswRef self)
{
	HnswPBuild *pb = (HnswPBuild *) g;
	HnswSharedNode *dn = &pb->nodes[dup];
	bool		taken = false;

	if (pb->lay.fbytes > 0 &&
		memcmp(PFilter(pb, dup), PFilter(pb, self), pb->lay.fbytes) != 0)
		return false;
	SpinLockAcquire(&dn->lock);
	if (dn->ntids > 0 && dn->ntids < HNSW_HEAPTIDS)
	{
		dn->heaptids[dn->ntids++] = pb->nodes[self].heaptids[0];
		taken = true;
	}
	SpinLockRelease(&dn->lock);
	return taken;
}

/* Another participant may have raised the entry point meanwhile */
static inline void
PRaise(void *g, HnswRef self)
{
	HnswPBuild *pb = (HnswPBuild *) g;
	HnswShared *sh = pb->sh;

	SpinLockAcquire(&sh->mutex);
	if (pb->nodes[self].level > sh->entryLevel)
	{
		sh->entry = (int32) self;
		sh->entryLevel = pb->nodes[self].level;
	}
	SpinLockRelease(&sh->mutex);
}

static const HnswGraphOps PGraphOps = {
	PEntry, PDescend, PSearch, PTakeDuplicate, BuildReadList, BuildReadVec,
	BuildWriteList, BuildReplace, BuildPlace, PRaise
};

/* Insert node id (initialised, unlinked) into the shared graph. */
static void
PInsert(HnswPBuild *pb, int32 id)
{
	if (!HnswInsertNode(&PGraphOps, pb, &pb->w.iw, id, PVec(pb, id),
						pb->nodes[id].level))
		pb->nodes[id].ntids = 0;	/* unlinked; written as a free slot */
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

	/* out of room (an unlocked read: a late stop only costs a lookup) */
	if (isnull[0] || sh->full)
		return;
	old = MemoryContextSwitchTo(pb->tmpCxt);
	vec = palloc(pb->lay.d.vbytes);
	if (!HnswPrepareValue(&pb->lay.d, values[0], vec))
	{
		MemoryContextSwitchTo(old);
		MemoryContextReset(pb->tmpCxt);
		return;
	}
	level = HnswRandomLevel(pb->lay.m, sh->maxLevel);
	need = MAXALIGN(level + 1) +
		MAXALIGN(sizeof(int32) * HnswTotalSlots(pb->lay.m, level)) + MAXALIGN(sh->fbytes);
	id = pg_atomic_fetch_add_u32(&sh->nnodes, 1);
	off = pg_atomic_fetch_add_u64(&sh->arenaUsed, need);
	if (id >= sh->maxnodes || off + need > sh->arenaSize)
	{
		/*
		 * The table holds more than its estimate said (never analyzed, or
		 * grown since): stop, and let the leader build serially.  Node id,
		 * if below maxnodes, stays uninitialised: no list links to it.
		 */
		SpinLockAcquire(&sh->mutex);
		sh->full = true;
		SpinLockRelease(&sh->mutex);
		MemoryContextSwitchTo(old);
		MemoryContextReset(pb->tmpCxt);
		return;
	}
	node = &pb->nodes[id];
	SpinLockInit(&node->lock);
	node->ntids = 1;
	node->level = level;
	node->heaptids[0] = *tid;
	node->nbrOff = off;
	node->filterOff = need - MAXALIGN(sh->fbytes) + off;
	memcpy(PVec(pb, (int32) id), vec, pb->lay.d.vbytes);
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
	memset(&pb, 0, sizeof(pb));
	pb.sh = sh;
	pb.nodes = SharedNodes(sh);
	pb.vecs = SharedVecs(sh);
	pb.vecStride = sh->vecStride;
	pb.arena = SharedArena(sh);
	/* in-memory distances only: where the leader stores vectors is moot */
	HnswLayoutInit(&pb.lay, sh->dims, sh->elemtype, sh->srcElem, sh->metric, false,
				   sh->m, sh->efc, sh->nfilter);
	pb.w.epochs = palloc_extended(mul_size(sizeof(uint32), sh->maxnodes),
								MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	BuildWalkInit(&pb.w, &PNodeOps, &pb.lay);
	pb.tmp = palloc(sizeof(int32) * 2 * sh->m);
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
				vecStride,
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
	/* slots of a cache line or more start on one; small vectors stay small */
	vecStride = bs->lay.d.vbytes >= PG_CACHE_LINE_SIZE ?
		CACHELINEALIGN(bs->lay.d.vbytes) : MAXALIGN(bs->lay.d.vbytes);
	perNode = 8 + MAXALIGN(sizeof(int32) * 3 * bs->lay.m) + MAXALIGN(bs->lay.fbytes);
	arena = add_size(mul_size(perNode, (Size) maxnodes), 1024 * 1024);
	total = add_size(add_size(MAXALIGN(sizeof(HnswShared)),
							  MAXALIGN(mul_size(sizeof(HnswSharedNode), (Size) maxnodes))),
					 add_size(add_size(mul_size(vecStride, (Size) maxnodes),
									   PG_CACHE_LINE_SIZE),
							  arena));
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
	sh->dims = bs->lay.d.dims;
	sh->m = bs->lay.m;
	sh->efc = bs->lay.efConstruction;
	sh->elemtype = bs->lay.d.elemtype;
	sh->srcElem = bs->info->elemtype;
	sh->metric = bs->info->metric;
	sh->maxLevel = bs->maxLevel;
	sh->nfilter = bs->lay.nfilter;
	sh->fbytes = bs->lay.fbytes;
	sh->maxnodes = (uint32) maxnodes;
	sh->vecStride = vecStride;
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
	{
		ereport(DEBUG1,
				(errmsg("parallel hnsw build of \"%s\" ran out of its shared graph memory (estimate %.0f rows): building serially",
						RelationGetRelationName(index), tuples)));
		VecxParallelEnd(&vp);
		return false;
	}

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
		bn->vec = SharedVecs(sh) + sh->vecStride * (Size) i;
		bn->counts = (uint8 *) (SharedArena(sh) + sn->nbrOff);
		bn->nbrs = (int32 *) (SharedArena(sh) + sn->nbrOff + MAXALIGN(sn->level + 1));
		bn->filter = sh->fbytes > 0 ? SharedArena(sh) + sn->filterOff : NULL;
	}
	bs->nnodes = n;
	bs->maxnodes = Max(n, 1);
	/* the leader's own walk (reachability) stamps every node */
	bs->w.epochs = MemoryContextAllocExtended(bs->graphCxt,
											  mul_size(sizeof(uint32), bs->maxnodes),
											  MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	bs->w.epoch = 0;
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
	int			dims,
				elemtype,
				m,
				efc,
				nfilter;

	memset(&bs, 0, sizeof(bs));
	bs.heap = heap;
	bs.index = index;
	HnswCheckIndexColumns(index);
	nfilter = HnswFilterColumns(index);
	bs.info = HnswGetOpInfo(index);
	dims = HnswIndexDims(index);
	m = HnswGetM(index);
	efc = HnswGetEfConstruction(index);
	CheckBuildParams(index, dims, bs.info, m, efc);
	elemtype = HnswStoredElem(bs.info->elemtype, HnswGetQuantization(index));
	HnswLayoutInit(&bs.lay, dims, elemtype, bs.info->elemtype, bs.info->metric,
				   ChooseOverflow(dims, elemtype, m, HnswFilterBytes(nfilter)),
				   m, efc, nfilter);
	bs.maxLevel = HnswLayoutMaxLevel(&bs.lay);
	if (bs.maxLevel < 0)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("hnsw node of %d dimensions with %d filter columns does not fit on a page",
						dims, nfilter)));
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
	HnswFillMetaPage(BufferGetPage(buf), dims, m, efc, bs.info,
					 HnswGetQuantization(index));
	HnswMapInitMeta(HnswPageGetMeta(BufferGetPage(buf)), nfilter);
	HnswPageGetMeta(BufferGetPage(buf))->storage =
		bs.lay.d.overflow ? HNSW_STORAGE_OVERFLOW : HNSW_STORAGE_INLINE;
	MarkBufferDirty(buf);
	UnlockReleaseBuffer(buf);

	bs.graphCxt = AllocSetContextCreate(CurrentMemoryContext, "hnsw build graph",
										ALLOCSET_DEFAULT_SIZES);
	bs.tmpCxt = AllocSetContextCreate(CurrentMemoryContext, "hnsw build temp",
									  ALLOCSET_DEFAULT_SIZES);
	bs.maxnodes = 1024;
	bs.nodes = MemoryContextAllocHuge(bs.graphCxt, sizeof(BuildNode) * bs.maxnodes);
	bs.w.epochs = MemoryContextAllocZero(bs.graphCxt, sizeof(uint32) * bs.maxnodes);
	BuildWalkInit(&bs.w, &MemNodeOps, &bs.lay);

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
