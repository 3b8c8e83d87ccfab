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
	HnswHeapItem *seeds;		/* found[] kept across a level's backlinks */
	char	  **vecs;
	float	   *dists;
	int		   *pick;
	int32	   *copy;			/* a neighbour list being pruned, 2m */
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
 *		at most cap nodes kept (fill: see HnswSelectNeighbours); returns
 *		how many.
 */
static pg_attribute_always_inline int
BuildSelect(void *g, const HnswDist *d, BuildVecFn vecOf, int n, int cap,
			bool fill)
{
	BuildWalk  *w = (BuildWalk *) g;
	int			i;

	for (i = 0; i < n; i++)
	{
		w->vecs[i] = (char *) vecOf(g, w->found[i].idx);
		w->dists[i] = w->found[i].dist;
	}
	return HnswSelectNeighbours(d, w->vecs, w->dists, n, cap, fill, w->pick);
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
	return BuildSelect(g, d, vecOf, BuildDrain(w), cap, false);
}

/* Allocate a walk's scratch (not its visited stamps: each kind sizes them) */
static void
BuildWalkInit(BuildWalk *w, int efc, int m)
{
	int			big = Max(efc, 2 * m) + 2;

	HnswHeapInit(&w->cand, efc * 4, false);
	HnswHeapInit(&w->res, efc * 4, true);
	w->found = palloc(sizeof(HnswHeapItem) * big);
	w->seeds = palloc(sizeof(HnswHeapItem) * big);
	w->vecs = palloc(sizeof(char *) * big);
	w->dists = palloc(sizeof(float) * big);
	w->pick = palloc(sizeof(int) * big);
	w->copy = palloc(sizeof(int32) * 2 * m);
}

/*
 * How the insertion reaches a build graph: the serial build's local memory
 * or the parallel build's DSM, both arrays of nodes numbered from 0.  The
 * parallel kind guards each node's lists with its spinlock (lock/unlock);
 * the serial kind's do nothing.  g starts with a BuildWalk.
 */
typedef struct BuildGraphOps
{
	const HnswWalkOps *walk;
	BuildVecFn	vec;
	int			(*level) (void *g, int32 id);
	uint8	   *(*counts) (void *g, int32 id);
	int32	   *(*list) (void *g, int32 id, int level);
	void		(*lock) (void *g, int32 id);
	void		(*unlock) (void *g, int32 id);

	/*
	 * Node id is being inserted: false if the graph was empty (id is now
	 * the entry point), else the entry point and its level.
	 */
	bool		(*entry) (void *g, int32 id, int32 *ep, int *epLevel);
	/* id's level is above the entry point's: make id the entry point */
	void		(*raise) (void *g, int32 id);

	/*
	 * Node dup has id's vector: take id's heap TID if the filter payloads
	 * agree and dup has room (true), else leave both alone (false).
	 */
	bool		(*takeDuplicate) (void *g, int32 dup, int32 id);
} BuildGraphOps;

/* The parameters every build insertion needs */
typedef struct BuildParams
{
	const HnswDist *d;
	int			m;
	int			efc;
	Size		nstamps;		/* visited stamps allocated */
} BuildParams;

/*
 * BuildAddLink
 *		Make node from link to node to at level, at distance dist.  A full
 *		list is re-selected with the heuristic over its members and the new
 *		one, and only rewritten if the new one is kept.  The list is copied
 *		under the node's lock and written back only if it did not change
 *		meanwhile (else retried), as inserts do on disk.  Overwrites the
 *		walk's found[] and pick[].
 */
static pg_attribute_always_inline void
BuildAddLink(const BuildGraphOps *ops, void *g, const BuildParams *p,
			 int32 from, int32 to, int level, float dist)
{
	BuildWalk  *w = (BuildWalk *) g;
	int			cap = HnswLevelCap(p->m, level);
	int32	   *list;
	int			attempt;

	if (ops->level(g, from) < level)
		return;
	list = ops->list(g, from, level);
	for (attempt = 0; attempt < 8; attempt++)
	{
		int			cnt,
					i,
					k;
		bool		keeps = false;

		ops->lock(g, from);
		cnt = ops->counts(g, from)[level];
		for (i = 0; i < cnt && list[i] != to; i++)
			;
		if (i < cnt)
		{
			ops->unlock(g, from);
			return;				/* linked already */
		}
		if (cnt < cap)
		{
			list[cnt] = to;
			ops->counts(g, from)[level] = cnt + 1;
			ops->unlock(g, from);
			return;
		}
		memcpy(w->copy, list, sizeof(int32) * cnt);
		ops->unlock(g, from);

		k = BuildPrune(g, p->d, ops->vec, from, w->copy, cnt, to, dist, cap);
		for (i = 0; i < k; i++)
			if (w->found[w->pick[i]].idx == to)
				keeps = true;
		if (!keeps)
			return;

		ops->lock(g, from);
		if (ops->counts(g, from)[level] != cnt ||
			memcmp(list, w->copy, sizeof(int32) * cnt) != 0)
		{
			ops->unlock(g, from);
			continue;			/* changed meanwhile */
		}
		for (i = 0; i < k; i++)
			list[i] = w->found[w->pick[i]].idx;
		ops->counts(g, from)[level] = k;
		ops->unlock(g, from);
		return;
	}
}

/*
 * BuildSpliceIdentical
 *		Identical vectors form a cycle through their level-0 links (README,
 *		"Duplicates"): if node id (vector q) is to link to a neighbour P of
 *		its own vector, it takes P's identical neighbour Q instead, and P
 *		points to id in Q's place; if P has no identical neighbour, P simply
 *		links to id.  chosen[] (k level-0 neighbours) is updated; returns P
 *		(which needs no backlink), or -1.
 */
static pg_attribute_always_inline int32
BuildSpliceIdentical(const BuildGraphOps *ops, void *g, const BuildParams *p,
					 int32 *chosen, int k, int32 id, const char *q)
{
	int			i;

	for (i = 0; i < k; i++)
	{
		int32		pn = chosen[i];
		int32	   *pl;
		int32		qn = -1;
		int			j,
					cnt;

		if (!HnswIdentical(p->d, ops->vec(g, pn), q))
			continue;
		pl = ops->list(g, pn, 0);
		ops->lock(g, pn);
		cnt = ops->counts(g, pn)[0];
		for (j = 0; j < cnt; j++)
			if (pl[j] != id && HnswIdentical(p->d, ops->vec(g, pl[j]), q))
			{
				qn = pl[j];
				pl[j] = id;
				break;
			}
		ops->unlock(g, pn);
		if (qn >= 0)
		{
			for (j = 0; j < k && chosen[j] != qn; j++)
				;
			if (j == k)
				chosen[i] = qn;
		}
		else
			BuildAddLink(ops, g, p, pn, id, 0, 0.0f);
		return pn;
	}
	return -1;
}

/*
 * BuildInsert
 *		Insert node id (stored, level set, lists empty) into a build graph:
 *		greedy descent to its level, then at each level down to 0 a search
 *		with ef = efc, the heuristic's choice as its list, and a backlink
 *		from each chosen node (the paper's Algorithm 1).  Returns false if
 *		id's vector and payload equal a node found on its top level that had
 *		room for id's heap TID, which took it: id stays out of the graph.
 */
static pg_attribute_always_inline bool
BuildInsert(const BuildGraphOps *ops, void *g, const BuildParams *p, int32 id)
{
	BuildWalk  *w = (BuildWalk *) g;
	const char *q = ops->vec(g, id);
	int			level = ops->level(g, id);
	int32		ep;
	int			epLevel;
	int			l,
				top,
				nseeds;

	if (!ops->entry(g, id, &ep, &epLevel))
		return true;

	w->q = q;
	w->cur = ep;
	w->curDist = HnswDistance(p->d, q, ops->vec(g, ep));
	HnswWalkDescend(ops->walk, g, &w->cand, &w->res, epLevel, level);

	top = Min(level, epLevel);
	w->found[0].idx = w->cur;
	w->found[0].dist = w->curDist;
	nseeds = 1;
	for (l = top; l >= 0; l--)
	{
		int32		chosen[2 * HNSW_MAX_M];
		float		cdist[2 * HNSW_MAX_M];
		int32		spliced = -1;
		int			i,
					n,
					k;

		n = BuildSearchLevel(ops->walk, g, p->nstamps, id, nseeds, l, p->efc);
		nseeds = n;

		for (i = 0; l == top && i < n && i < 4; i++)
		{
			int32		dup = w->found[i].idx;

			if (memcmp(ops->vec(g, dup), q, p->d->vbytes) == 0 &&
				ops->takeDuplicate(g, dup, id))
				return false;
		}

		k = BuildSelect(g, p->d, ops->vec, n, HnswLevelCap(p->m, l), true);
		for (i = 0; i < k; i++)
		{
			chosen[i] = w->found[w->pick[i]].idx;
			cdist[i] = w->found[w->pick[i]].dist;
		}
		/* the backlinks overwrite found[]: the next level starts from it */
		memcpy(w->seeds, w->found, sizeof(HnswHeapItem) * n);

		if (l == 0 && p->d->metric != HNSW_METRIC_IP)
			spliced = BuildSpliceIdentical(ops, g, p, chosen, k, id, q);

		ops->lock(g, id);
		memcpy(ops->list(g, id, l), chosen, sizeof(int32) * k);
		ops->counts(g, id)[l] = k;
		ops->unlock(g, id);

		for (i = 0; i < k; i++)
			if (chosen[i] != spliced)
				BuildAddLink(ops, g, p, chosen[i], id, l, cdist[i]);
		memcpy(w->found, w->seeds, sizeof(HnswHeapItem) * n);
	}

	if (level > epLevel)
		ops->raise(g, id);
	return true;
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

/* ---- the insertion's operations (BuildGraphOps) on the serial build ---- */

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

static inline bool
MemEntry(void *g, int32 id, int32 *ep, int *epLevel)
{
	HnswBuildState *bs = (HnswBuildState *) g;

	if (bs->entry < 0)
	{
		bs->entry = id;
		bs->entryLevel = bs->nodes[id].level;
		return false;
	}
	*ep = bs->entry;
	*epLevel = bs->entryLevel;
	return true;
}

static inline void
MemRaise(void *g, int32 id)
{
	HnswBuildState *bs = (HnswBuildState *) g;

	bs->entry = id;
	bs->entryLevel = bs->nodes[id].level;
}

static inline bool
MemTakeDuplicate(void *g, int32 dup, int32 id)
{
	HnswBuildState *bs = (HnswBuildState *) g;
	BuildNode  *dn = &bs->nodes[dup];
	BuildNode  *node = &bs->nodes[id];

	if (dn->ntids >= HNSW_HEAPTIDS ||
		(bs->fbytes > 0 && memcmp(dn->filter, node->filter, bs->fbytes) != 0))
		return false;
	dn->heaptids[dn->ntids++] = node->heaptids[0];
	return true;
}

static const BuildGraphOps MemGraphOps = {
	&MemWalkOps, MemVec, MemLevel, MemCounts, MemList, MemNoLock, MemNoLock,
	MemEntry, MemRaise, MemTakeDuplicate
};

/*
 * Insert node number id (already stored in bs->nodes) into the graph.
 * Returns false if it was an exact duplicate of a node found by the search
 * of its top level: its heap TID was added to that node instead.
 */
static bool
MemInsert(HnswBuildState *bs, int32 id)
{
	BuildParams p = {&bs->d, bs->m, bs->efc, bs->maxnodes};

	return BuildInsert(&MemGraphOps, bs, &p, id);
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

/* The bytes node n takes on its page, filter payload included */
static inline Size
BuildTupleSize(HnswBuildState *bs, BuildNode *n)
{
	return HnswNodeSize(bs->dims, bs->elemtype, bs->m, n->level, bs->d.overflow) +
		bs->fbytes;
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
	hdr->dims = HnswNodeDims(bs->dims, bs->elemtype);
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
		memcpy(tup + size - bs->fbytes, n->filter, bs->fbytes);
}

/* Write every node to the location WriteAssign gave it */
static void
WriteNodes(HnswBuildState *bs, BlockNumber ovflBase, int nslices)
{
	Size		maxsize = HnswNodeSize(bs->dims, bs->elemtype, bs->m, bs->maxLevel,
									   bs->d.overflow) + bs->fbytes;
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
			sh.len = Min(max, bs->vbytes - start);
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

	HnswMapWriterStart(&mapw, bs->index, bs->nfilter);
	for (i = 0; bs->nfilter > 0 && i < bs->nnodes; i++)
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
	if (bs->nfilter > 0)
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
 * WriteGraph
 *		Lay the in-memory nodes out on pages in node order, write them
 *		through shared buffers without WAL (node pages, then the overflow
 *		pages, then the filter map and the metapage), and log them all at
 *		the end with log_newpage_range.
 */
static void
WriteGraph(HnswBuildState *bs)
{
	int			nslices = bs->d.overflow ? HnswOvflSlices(&bs->d) : 0;
	BlockNumber lastNodePage;
	BlockNumber ovflBase;

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, HNSW_PHASE_WRITE);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, bs->nnodes);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, 0);

	lastNodePage = WriteAssign(bs);
	/* overflow chains follow the node pages */
	ovflBase = lastNodePage + 1;
	if (bs->d.overflow &&
		(double) ovflBase + (double) bs->nnodes * nslices >= (double) MaxBlockNumber)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("hnsw index would exceed the maximum relation size")));

	WriteNodes(bs, ovflBase, nslices);
	if (bs->d.overflow)
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

/* ---- the insertion's operations (BuildGraphOps) on the parallel build ---- */

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

static inline bool
PEntry(void *g, int32 id, int32 *ep, int *epLevel)
{
	HnswPBuild *pb = (HnswPBuild *) g;
	HnswShared *sh = pb->sh;
	bool		found = true;

	SpinLockAcquire(&sh->mutex);
	if (sh->entry < 0)
	{
		sh->entry = id;
		sh->entryLevel = pb->nodes[id].level;
		found = false;
	}
	*ep = sh->entry;
	*epLevel = sh->entryLevel;
	SpinLockRelease(&sh->mutex);
	return found;
}

/* Another participant may have raised the entry point meanwhile */
static inline void
PRaise(void *g, int32 id)
{
	HnswPBuild *pb = (HnswPBuild *) g;
	HnswShared *sh = pb->sh;

	SpinLockAcquire(&sh->mutex);
	if (pb->nodes[id].level > sh->entryLevel)
	{
		sh->entry = id;
		sh->entryLevel = pb->nodes[id].level;
	}
	SpinLockRelease(&sh->mutex);
}

/* A node with no TID left is being freed by nobody: ntids > 0 */
static inline bool
PTakeDuplicate(void *g, int32 dup, int32 id)
{
	HnswPBuild *pb = (HnswPBuild *) g;
	HnswSharedNode *dn = &pb->nodes[dup];
	bool		taken = false;

	if (pb->sh->fbytes > 0 &&
		memcmp(PFilter(pb, dup), PFilter(pb, id), pb->sh->fbytes) != 0)
		return false;
	SpinLockAcquire(&dn->lock);
	if (dn->ntids > 0 && dn->ntids < HNSW_HEAPTIDS)
	{
		dn->heaptids[dn->ntids++] = pb->nodes[id].heaptids[0];
		taken = true;
	}
	SpinLockRelease(&dn->lock);
	return taken;
}

static const BuildGraphOps PGraphOps = {
	&PWalkOps, PVecOf, PLevel, PCountsOf, PListOf, PLock, PUnlock,
	PEntry, PRaise, PTakeDuplicate
};

/* Insert node id (initialised, unlinked) into the shared graph. */
static void
PInsert(HnswPBuild *pb, int32 id)
{
	BuildParams p = {&pb->d, pb->m, pb->efc, pb->sh->maxnodes};

	if (!BuildInsert(&PGraphOps, pb, &p, id))
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
	BuildWalkInit(&pb.w, sh->efc, sh->m);
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
	BuildWalkInit(&bs.w, bs.efc, bs.m);

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
