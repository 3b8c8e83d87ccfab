/*-------------------------------------------------------------------------
 *
 * hnswvacuum.c
 *	  Bulk delete with local graph repair, and vacuum cleanup.
 *
 * Three passes (README, "Vacuum"):
 *	1. mark nodes whose heap tuple is dead DELETED (still traversable);
 *	   then wait for in-flight inserts (they may have linked to them);
 *	2. repair every live node that links to a deleted one from its own
 *	   neighbourhood: surviving neighbours plus the deleted neighbours'
 *	   neighbours, re-selected with the heuristic; move the entry point
 *	   off a deleted node; wait for in-flight inserts again;
 *	3. mark the deleted nodes FREE so inserts can reuse their slots.
 *
 * Pass 1 also copies each live node's vector into a backend-local cache
 * (as it is when the copies fit, else as 8-bit codes): pass 2 then finds
 * the candidates of a repair there (~35 per repaired node) instead of
 * pinning their pages at random, which was most of its time once the
 * index outgrew shared_buffers.
 *
 * Memory: the work of one node (repair, orphan link) runs in a context
 * reset after it; what lives for the whole call is a few bits per node
 * slot, the vector cache (pass 2 only) and the reachability queue, capped
 * by maintenance_work_mem.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "postmaster/autovacuum.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "hnsw.h"
#include "hnswfmap.h"

typedef struct VacState
{
	Relation	index;
	HnswMetaPageData meta;
	HnswLayout	lay;			/* from meta */
	HnswDist	d;				/* lay.d */
	BufferAccessStrategy strategy;
	int			perPage;
	BlockNumber nblocks;		/* the bitmaps cover these blocks */
	BlockNumber relBlocks;		/* index size last asked (ReadNode) */
	uint64	   *deleted;		/* bitmap of deleted nodes */
	uint64	   *seen;			/* scratch bitmap for de-duplication */
	Size		nwords;
	Size		vbytes;
	Size		memBudget;		/* maintenance_work_mem (or autovacuum's), bytes */
	MemoryContext nodeCxt;		/* one node's work, reset after it */
	struct RepairScratch *sc;	/* buffers of the repair, reused per node */
	struct RepairOffer *offers; /* reverse edges not yet written (pass 2) */
	Size		noffers;
	int64		nunreached;		/* live nodes no walk reached (pass 2) */
	Size		maxOffers;

	/*
	 * Vector cache of pass 2 (CacheInit): the repair compares vectors in
	 * the form of cdist, either the stored form (cd unused) or sq8 codes.
	 */
	const HnswDist *cdist;		/* &d or &cd */
	HnswDist	cd;				/* sq8 context when the cache holds codes */
	Size		cbytes;			/* bytes of one vector in cache form */
	float	   *xf;				/* scratch for encoding, dims floats */
	uint32	   *slotIdx;		/* cache entry of each slot, or CACHE_NONE */
	Size		cacheSlots;		/* slots covered by slotIdx */
	char	   *cvec;			/* the entries */
	uint32		ncached;
	uint32		cacheCap;
} VacState;

#define CACHE_NONE	PG_UINT32_MAX

static void ApplyOffers(VacState *vs);

/* A repair candidate; vec is set only for survivors and picks */
typedef struct RepairCand
{
	ItemPointerData tid;
	float		dist;
	char	   *vec;
	bool		survivor;		/* a live neighbour the node already had */
	bool		chosen;
} RepairCand;

/*
 * The buffers of one node's repair and of its reverse edges, sized for
 * level 0 (the largest lists) and allocated once per call: allocating and
 * freeing them per node costs more than the repair (malloc gives the
 * memory back to the kernel and faults it in again).
 */
typedef struct RepairScratch
{
	int			maxc;			/* cap + cap^2 candidates */
	RepairCand *cands;
	ItemPointerData *old;		/* the node's list as read */
	ItemPointerData *upd;		/* the list written */
	ItemPointerData *tmp;		/* a deleted neighbour's list */
	int		   *chosen;
	char	   *nvec;			/* the node's vector */
	char	   *v;				/* one candidate's vector */
	char	   *nform;			/* the node's vector in cache form, if not
								 * cached */
	const char *nformp;			/* the cached one or nform */
	char	   *vform;			/* one candidate's, in cache form */
	int			ncvecs;			/* uncached candidates whose vectors are kept */
	char	   *cvecs;			/* their vectors (cache form); the rest are
								 * read again */
	char	   *pvecs;			/* vectors of picks beyond ncvecs, cap */
} RepairScratch;

/* A reverse edge queued by a repair (QueueOffer) */
typedef struct RepairOffer
{
	ItemPointerData target;		/* the node whose list gets ... */
	ItemPointerData tid;		/* ... this one */
	uint16		level;
} RepairOffer;

/*
 * Reachability walk state.  Whole-pass: two bitmaps and 2-bit in-link
 * counters per node slot; the queue is a ring of at most a quarter of the
 * memory budget.  A node that does not fit in a full queue stays reached
 * but unexpanded and is picked up by a sweep of the bitmaps.
 */
typedef struct ReachState
{
	uint64	   *reached;
	uint64	   *expanded;
	uint64	   *indeg;			/* 2-bit saturating counters, 32 per word */
	ItemPointerData *queue;
	Size		qcap;
	Size		qhead;
	Size		qlen;
	bool		overflowed;		/* some reached node was not queued */
	ItemPointerData *nb;		/* scratch level-0 list */
} ReachState;

static inline Size
BitOf(VacState *vs, ItemPointer tid)
{
	return (Size) ItemPointerGetBlockNumber(tid) * vs->perPage +
		(ItemPointerGetOffsetNumber(tid) - 1);
}

static inline void
TidOfBit(VacState *vs, Size bit, ItemPointer tid)
{
	ItemPointerSet(tid, (BlockNumber) (bit / vs->perPage),
				   (OffsetNumber) (bit % vs->perPage + 1));
}

static inline bool
InRange(VacState *vs, ItemPointer tid)
{
	return ItemPointerGetBlockNumber(tid) < vs->nblocks &&
		ItemPointerGetOffsetNumber(tid) >= 1 &&
		ItemPointerGetOffsetNumber(tid) <= vs->perPage;
}

static inline bool
TestBit(uint64 *map, Size bit)
{
	return (map[bit / 64] >> (bit % 64)) & 1;
}

static inline void
SetBit(uint64 *map, Size bit)
{
	map[bit / 64] |= UINT64CONST(1) << (bit % 64);
}

static inline void
ClearBit(uint64 *map, Size bit)
{
	map[bit / 64] &= ~(UINT64CONST(1) << (bit % 64));
}

static inline int
GetIndeg(uint64 *c, Size bit)
{
	return (int) ((c[bit / 32] >> ((bit % 32) * 2)) & 3);
}

/* saturates at 3: LinkFrom only needs to know "at least three" */
static inline void
IncIndeg(uint64 *c, Size bit)
{
	if (GetIndeg(c, bit) < 3)
		c[bit / 32] += UINT64CONST(1) << ((bit % 32) * 2);
}

static inline void
DecIndeg(uint64 *c, Size bit)
{
	if (GetIndeg(c, bit) > 0)
		c[bit / 32] -= UINT64CONST(1) << ((bit % 32) * 2);
}

static bool
IsDeleted(VacState *vs, ItemPointer tid)
{
	return InRange(vs, tid) && TestBit(vs->deleted, BitOf(vs, tid));
}

/* HnswMapDeadFn: is the node of a filter map entry deleted? */
static bool
MapEntryDead(void *arg, ItemPointer nodetid)
{
	return ItemPointerIsValid(nodetid) && IsDeleted((VacState *) arg, nodetid);
}

static int
CompareCand(const void *a, const void *b)
{
	float		da = ((const RepairCand *) a)->dist;
	float		db = ((const RepairCand *) b)->dist;

	return da < db ? -1 : (da > db ? 1 : 0);
}

static bool
IsDataPage(Page page)
{
	return !PageIsNew(page) &&
		PageGetSpecialSize(page) == MAXALIGN(sizeof(HnswPageOpaqueData)) &&
		HnswPageGetOpaque(page)->page_id == HNSW_PAGE_ID &&
		(HnswPageGetOpaque(page)->flags & HNSW_PAGE_NODES);
}

/*
 * LockNode
 *		Pin and lock (mode) the page of the node a neighbour pointer names,
 *		checking the pointer against the relation size first (re-read when
 *		the index grew); *node is the validated node.
 */
static Buffer
LockNode(VacState *vs, BlockNumber blkno, OffsetNumber off, int mode,
		 HnswNodeHeader **node)
{
	Buffer		buf;

	if (blkno >= vs->relBlocks)
		vs->relBlocks = RelationGetNumberOfBlocks(vs->index);
	if (blkno == HNSW_METAPAGE_BLKNO || blkno >= vs->relBlocks)
		HnswCorrupt(vs->index, blkno, off, "neighbour pointer out of range");
	buf = HnswReadBuffer(vs->index, blkno);
	LockBuffer(buf, mode);
	*node = HnswLayoutGetNode(vs->index, BufferGetPage(buf), blkno, off, &vs->lay);
	return buf;
}

/*
 * ReadDataPage
 *		The page loop of every pass: read block blkno through the vacuum's
 *		strategy and lock it in mode; InvalidBuffer (nothing held) when it is
 *		not a node page.
 */
static Buffer
ReadDataPage(VacState *vs, BlockNumber blkno, int mode)
{
	Buffer		buf;

	vacuum_delay_point();
	buf = ReadBufferExtended(vs->index, MAIN_FORKNUM, blkno, RBM_NORMAL, vs->strategy);
	LockBuffer(buf, mode);
	if (!IsDataPage(BufferGetPage(buf)))
	{
		UnlockReleaseBuffer(buf);
		return InvalidBuffer;
	}
	return buf;
}

/* The memory a vacuum may use, as lazy vacuum reads it */
static Size
VacMemBudget(void)
{
	int			kb = maintenance_work_mem;

	if (IsAutoVacuumWorkerProcess() && autovacuum_work_mem != -1)
		kb = autovacuum_work_mem;
	return mul_size((Size) kb, 1024);
}

static uint64 *
AllocBits(Size nbits, int bitsPerSlot)
{
	Size		words = add_size(mul_size(nbits, bitsPerSlot) / 64, 2);

	return palloc_extended(mul_size(words, sizeof(uint64)), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
}

/*
 * ReadNode
 *		Copy a node's state, vector and level-l list (as HnswReadNodeInfo),
 *		without asking the kernel for the index size on every read.
 *		Returns false if the node is free or has no such level.
 */
static bool
ReadNode(VacState *vs, ItemPointer tid, int level, uint8 *state, void *vec,
		 ItemPointerData *nbrs, int *count)
{
	BlockNumber blkno = ItemPointerGetBlockNumber(tid);
	OffsetNumber off = ItemPointerGetOffsetNumber(tid);
	Buffer		buf;
	HnswNodeHeader *node;
	bool		ok = false;

	buf = LockNode(vs, blkno, off, BUFFER_LOCK_SHARE, &node);
	*state = node->state;
	if (node->state != HNSW_NODE_FREE && node->level >= level)
	{
		if (vec)
			memcpy(vec, HnswNodeVec(vs->index, &vs->d, node, blkno, off), vs->vbytes);
		if (nbrs)
		{
			*count = HnswLayoutCounts(&vs->lay, node)[level];
			memcpy(nbrs, HnswLayoutList(&vs->lay, node, level),
				   sizeof(ItemPointerData) * *count);
		}
		ok = true;
	}
	UnlockReleaseBuffer(buf);
	return ok;
}

/*
 * CacheInit
 *		Choose the form of the vector cache and allocate it in three
 *		quarters of the budget (the rest: the repair's candidate buffers
 *		and the bitmaps): the stored vectors when a copy per node slot fits
 *		(or the index stores sq8 codes already), so that the repair is
 *		exactly as from the pages; else sq8 codes of the float32/float16
 *		vectors, a quarter or half their size, which rank a repair's
 *		candidates with each element rounded to 1/255 of its vector's
 *		range.  Nodes beyond the capacity are read from their pages.
 */
static void
CacheInit(VacState *vs)
{
	Size		budget = vs->memBudget / 4 * 3;
	Size		slots = (Size) vs->nblocks * vs->perPage;
	Size		mapBytes = mul_size(slots, sizeof(uint32));

	vs->cdist = &vs->d;
	vs->cbytes = vs->vbytes;
	if (HnswElemDense(vs->meta.elemtype) &&
		add_size(mapBytes, mul_size(slots, vs->vbytes)) > budget)
	{
		HnswInitDist(&vs->cd, vs->meta.dims, HNSW_ELEM_SQ8, vs->meta.srcElem,
					 vs->meta.metric, false);
		vs->cdist = &vs->cd;
		vs->cbytes = vs->cd.vbytes;
		vs->xf = palloc(mul_size(sizeof(float), vs->meta.dims));
	}
	if (add_size(mapBytes, vs->cbytes) > budget)
		return;					/* no room: every vector is read from its page */
	vs->cacheCap = (uint32) Min(Min((budget - mapBytes) / vs->cbytes, slots),
								(Size) PG_UINT32_MAX - 1);
	vs->slotIdx = palloc_extended(mapBytes, MCXT_ALLOC_HUGE);
	memset(vs->slotIdx, 0xFF, mapBytes);
	vs->cvec = palloc_extended(mul_size(vs->cacheCap, vs->cbytes), MCXT_ALLOC_HUGE);
	vs->cacheSlots = slots;
}

/* Convert a stored vector to the cache form */
static void
ToCacheForm(VacState *vs, const void *stored, char *out)
{
	if (vs->cdist == &vs->d)
		memcpy(out, stored, vs->vbytes);
	else
		HnswSq8EncodeStored(&vs->d, &vs->cd, stored, vs->xf, out);
}

/*
 * CachePage
 *		Cache the vectors of the live nodes of block blkno (pass 1, after
 *		marking it).  A cached node stays live with the same vector until
 *		pass 3 frees it: only vacuum frees slots, and inserts fill only
 *		free ones.
 */
static void
CachePage(VacState *vs, BlockNumber blkno)
{
	Buffer		buf;
	Page		page;
	OffsetNumber off,
				maxoff;

	if (vs->ncached >= vs->cacheCap)
		return;
	buf = ReadBufferExtended(vs->index, MAIN_FORKNUM, blkno, RBM_NORMAL, vs->strategy);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	maxoff = IsDataPage(page) ? PageGetMaxOffsetNumber(page) : InvalidOffsetNumber;
	for (off = FirstOffsetNumber; off <= maxoff && vs->ncached < vs->cacheCap; off++)
	{
		HnswNodeHeader *node = HnswLayoutGetNode(vs->index, page, blkno, off, &vs->lay);
		ItemPointerData tid;
		Size		bit;

		ItemPointerSet(&tid, blkno, off);
		bit = BitOf(vs, &tid);
		if (node->state != HNSW_NODE_LIVE || bit >= vs->cacheSlots)
			continue;
		ToCacheForm(vs, HnswNodeVec(vs->index, &vs->d, node, blkno, off),
					vs->cvec + (Size) vs->ncached * vs->cbytes);
		vs->slotIdx[bit] = vs->ncached++;
	}
	UnlockReleaseBuffer(buf);
}

/* The cached vector of a node, or NULL */
static inline const char *
CachedVec(VacState *vs, ItemPointer tid)
{
	Size		bit = BitOf(vs, tid);

	if (bit >= vs->cacheSlots || vs->slotIdx[bit] == CACHE_NONE)
		return NULL;
	return vs->cvec + (Size) vs->slotIdx[bit] * vs->cbytes;
}

/*
 * FormVec
 *		A live node's vector in cache form: the cached one, else read from
 *		its page into out.  NULL if the node is not live or has no level l.
 */
static const char *
FormVec(VacState *vs, ItemPointer tid, int level, char *out)
{
	const char *cv = CachedVec(vs, tid);
	uint8		st;

	if (cv != NULL)
		return cv;
	if (!ReadNode(vs, tid, level, &st, vs->sc->v, NULL, NULL) || st != HNSW_NODE_LIVE)
		return NULL;
	ToCacheForm(vs, vs->sc->v, out);
	return out;
}

static void
CacheFree(VacState *vs)
{
	if (vs->slotIdx)
		pfree(vs->slotIdx);
	if (vs->cvec)
		pfree(vs->cvec);
	vs->slotIdx = NULL;
	vs->cvec = NULL;
	vs->cacheSlots = 0;
	vs->cacheCap = vs->ncached = 0;
}

static RepairScratch *
CreateScratch(VacState *vs)
{
	RepairScratch *sc = palloc0(sizeof(RepairScratch));
	int			cap = HnswLevelCap(vs->meta.m, 0);
	Size		capv = mul_size(vs->cbytes, cap + 1);

	sc->maxc = cap + cap * cap;
	sc->cands = palloc(mul_size(sizeof(RepairCand), sc->maxc));
	sc->old = palloc(sizeof(ItemPointerData) * cap);
	sc->upd = palloc(sizeof(ItemPointerData) * cap);
	sc->tmp = palloc(sizeof(ItemPointerData) * cap);
	sc->chosen = palloc(sizeof(int) * (cap + 1));
	sc->nvec = palloc(vs->vbytes);
	sc->v = palloc(vs->vbytes);
	sc->nform = palloc(vs->cbytes);
	sc->vform = palloc(vs->cbytes);
	/* every uncached candidate's vector if an eighth of the budget allows */
	sc->ncvecs = Min(sc->maxc, Max(cap, vs->memBudget / 8 / vs->cbytes));
	sc->cvecs = palloc_extended(mul_size(vs->cbytes, sc->ncvecs), MCXT_ALLOC_HUGE);
	sc->pvecs = palloc(capv);
	return sc;
}

/*
 * FindIdenticalLive
 *		Follow the level-0 links between identical vectors from the deleted
 *		node 'from' until a live one other than 'self' is found.  Runs in
 *		vs->nodeCxt.
 */
static bool
FindIdenticalLive(VacState *vs, ItemPointer from, const char *vec, ItemPointer self,
				  ItemPointer out)
{
	int			cap = HnswLevelCap(vs->meta.m, 0);
	ItemPointerData *nb = palloc(sizeof(ItemPointerData) * cap);
	char	   *v = palloc(vs->vbytes);
	ItemPointerData cur = *from;
	int			steps;

	for (steps = 0; steps < 1000; steps++)
	{
		int			count,
					j;
		uint8		st;
		bool		moved = false;

		if (!ReadNode(vs, &cur, 0, &st, NULL, nb, &count))
			return false;
		for (j = 0; j < count; j++)
		{
			if (!ItemPointerIsValid(&nb[j]) || !InRange(vs, &nb[j]) ||
				ItemPointerEquals(&nb[j], self) || ItemPointerEquals(&nb[j], from))
				continue;
			if (!ReadNode(vs, &nb[j], 0, &st, v, NULL, NULL) ||
				!HnswIdentical(&vs->d, v, vec))
				continue;
			if (st == HNSW_NODE_LIVE && !IsDeleted(vs, &nb[j]))
			{
				*out = nb[j];
				return true;
			}
			cur = nb[j];
			moved = true;
			break;
		}
		if (!moved)
			return false;
	}
	return false;
}

/* Add a candidate unless it is already one (vs->seen) or there is no room */
static inline void
AddCand(VacState *vs, RepairCand *cands, int *n, int maxc, ItemPointer tid, bool survivor)
{
	if (*n >= maxc || TestBit(vs->seen, BitOf(vs, tid)))
		return;
	SetBit(vs->seen, BitOf(vs, tid));
	cands[*n].tid = *tid;
	cands[*n].survivor = survivor;
	cands[*n].chosen = false;
	cands[*n].vec = NULL;
	(*n)++;
}

/*
 * CollectCandidates
 *		The candidates for the level-l list of node tid (list sc->old,
 *		count entries): its live neighbours (survivors) and the live
 *		neighbours of its deleted ones, each once.
 */
static int
CollectCandidates(VacState *vs, ItemPointer tid, int level, int count)
{
	RepairScratch *sc = vs->sc;
	RepairCand *cands = sc->cands;
	int			n = 0,
				i;

	SetBit(vs->seen, BitOf(vs, tid));	/* never link to itself */
	/* survivors first: they keep their flag and their vectors (Measure) */
	for (i = 0; i < count; i++)
		if (ItemPointerIsValid(&sc->old[i]) && InRange(vs, &sc->old[i]) &&
			!IsDeleted(vs, &sc->old[i]))
			AddCand(vs, cands, &n, sc->maxc, &sc->old[i], true);
	for (i = 0; i < count; i++)
	{
		ItemPointerData o = sc->old[i];
		uint8		st;
		int			c2,
					j;

		if (!ItemPointerIsValid(&o) || !InRange(vs, &o) || !IsDeleted(vs, &o))
			continue;
		if (!ReadNode(vs, &o, level, &st, level == 0 ? sc->v : NULL, sc->tmp, &c2))
			continue;
		if (level == 0 && HnswIdentical(&vs->d, sc->v, sc->nvec))
		{
			ItemPointerData live;

			/* keep the cycle of identical vectors closed */
			if (FindIdenticalLive(vs, &o, sc->nvec, tid, &live))
				AddCand(vs, cands, &n, sc->maxc, &live, false);
		}
		for (j = 0; j < c2; j++)
			if (ItemPointerIsValid(&sc->tmp[j]) && InRange(vs, &sc->tmp[j]) &&
				!IsDeleted(vs, &sc->tmp[j]))
				AddCand(vs, cands, &n, sc->maxc, &sc->tmp[j], false);
	}
	/* reset the scratch bits */
	ClearBit(vs->seen, BitOf(vs, tid));
	for (i = 0; i < n; i++)
		ClearBit(vs->seen, BitOf(vs, &cands[i].tid));
	return n;
}

/*
 * MeasureCandidates
 *		Distance from the node to each candidate, dropping those no longer
 *		live, then sort by distance.  Cached vectors are used in place;
 *		of the others, the first sc->ncvecs are kept (survivors first: the
 *		selection compares with all of them), the rest read again if the
 *		selection needs them.
 */
static int
MeasureCandidates(VacState *vs, int level, int n)
{
	RepairScratch *sc = vs->sc;
	RepairCand *cands = sc->cands;
	int			k = 0,
				nkept = 0,
				i;

	/* survivors come first in cands (CollectCandidates) */
	for (i = 0; i < n; i++)
	{
		char	   *dst = nkept < sc->ncvecs ? sc->cvecs + vs->cbytes * nkept : sc->vform;
		const char *cv = FormVec(vs, &cands[i].tid, level, dst);

		if (cv == NULL)
			continue;
		cands[k] = cands[i];
		cands[k].dist = HnswDistance(vs->cdist, sc->nformp, cv);
		cands[k].vec = cv == sc->vform ? NULL : (char *) cv;
		if (cv == dst && cv != sc->vform)
			nkept++;
		k++;
	}
	qsort(cands, k, sizeof(RepairCand), CompareCand);
	return k;
}

/*
 * SelectRepair
 *		Keep every surviving edge: re-pruning them would take in-links away
 *		from nodes that may have no other.  Fill the slots of the deleted
 *		neighbours with the heuristic's picks among the deleted nodes'
 *		neighbours, then with the closest remaining candidates.  Returns
 *		the number chosen; sc->chosen[] indexes sc->cands.
 */
static int
SelectRepair(VacState *vs, int level, int n, int cap)
{
	RepairScratch *sc = vs->sc;
	RepairCand *cands = sc->cands;
	int		   *chosen = sc->chosen;
	int			nsel = 0,
				npick = 0,
				i;

	for (i = 0; i < n && nsel < cap; i++)
		if (cands[i].survivor)
		{
			cands[i].chosen = true;
			chosen[nsel++] = i;
		}
	for (i = 0; i < n && nsel < cap; i++)
	{
		const char *v = cands[i].vec;
		int			j;

		if (cands[i].chosen)
			continue;
		if (v == NULL &&
			(v = FormVec(vs, &cands[i].tid, level, sc->pvecs + vs->cbytes * npick)) == NULL)
			continue;
		for (j = 0; j < nsel; j++)
		{
			const char *cv = cands[chosen[j]].vec;
			float		dcr = HnswDistance(vs->cdist, v, cv);

			if (dcr < cands[i].dist || (dcr == 0.0f && HnswIdentical(vs->cdist, v, cv)))
				break;
		}
		if (j == nsel)
		{
			if (cands[i].vec == NULL)
				npick++;
			cands[i].chosen = true;
			cands[i].vec = (char *) v;
			chosen[nsel++] = i;
		}
	}
	for (i = 0; i < n && nsel < cap; i++)
		if (!cands[i].chosen)
		{
			cands[i].chosen = true;
			chosen[nsel++] = i;
		}
	return nsel;
}

/*
 * WriteList
 *		Replace the level-l list of node tid with upd (nupd entries) if it
 *		still equals old (count entries).  Returns false if a concurrent
 *		insert changed it (try again); true when written or when the node
 *		is gone.
 */
static bool
WriteList(VacState *vs, ItemPointer tid, int level, const ItemPointerData *old, int count,
		  const ItemPointerData *upd, int nupd)
{
	BlockNumber blkno = ItemPointerGetBlockNumber(tid);
	OffsetNumber off = ItemPointerGetOffsetNumber(tid);
	Buffer		buf;
	HnswNodeHeader *node;
	uint8	   *counts;
	ItemPointerData *list;

	buf = HnswReadBuffer(vs->index, blkno);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	node = HnswLayoutGetNode(vs->index, BufferGetPage(buf), blkno, off, &vs->lay);
	if (node->state != HNSW_NODE_LIVE || node->level < level)
	{
		UnlockReleaseBuffer(buf);
		return true;
	}
	counts = HnswLayoutCounts(&vs->lay, node);
	list = HnswLayoutList(&vs->lay, node, level);
	if (counts[level] != count ||
		memcmp(list, old, sizeof(ItemPointerData) * count) != 0)
	{
		UnlockReleaseBuffer(buf);
		return false;
	}
	HnswWriteNbrList(vs->index, buf, off, &vs->lay, level, upd, nupd);
	UnlockReleaseBuffer(buf);
	return true;
}

/*
 * QueueOffer
 *		Offer node tid as a level-l neighbour of target, whose list gets it
 *		if it has room when ApplyOffers runs.  A new neighbour of a repaired
 *		node gets the reverse edge too, so that a region reachable only
 *		through the deleted node (a bridge) may get an in-link back, not
 *		just an out-link.  A full list is left alone: re-selecting it reads
 *		every member's vector, which doubled the time of a repair without a
 *		measurable gain in recall; a region that only a deleted node led to
 *		is linked back by RestoreReachability.
 *
 * The offers are queued rather than written at once: each write is a
 * generic WAL record, whose cost is a byte-by-byte comparison of the
 * whole 8 kB page with its copy, and one record per offer was a quarter
 * of the vacuum's time.  Sorted by page, all the offers to one page cost
 * one record.
 */
static void
QueueOffer(VacState *vs, ItemPointer target, int level, ItemPointer tid)
{
	RepairOffer *o;

	if (vs->noffers == vs->maxOffers)
		ApplyOffers(vs);
	o = &vs->offers[vs->noffers++];
	o->target = *target;
	o->tid = *tid;
	o->level = level;
}

static int
CompareOffer(const void *a, const void *b)
{
	const RepairOffer *x = a;
	const RepairOffer *y = b;

	return ItemPointerCompare(unconstify(ItemPointerData *, &x->target),
							  unconstify(ItemPointerData *, &y->target));
}

/*
 * ApplyOfferToNode
 *		Append tid to the level-l list of node if it is live, has the level,
 *		room and no such link yet; *state starts the page's WAL record at the
 *		first change, and *page becomes the record's copy of the page.
 */
static void
ApplyOfferToNode(VacState *vs, Buffer buf, Page *page, GenericXLogState **state,
				 const RepairOffer *o)
{
	BlockNumber blkno = ItemPointerGetBlockNumber(&o->target);
	OffsetNumber off = ItemPointerGetOffsetNumber(&o->target);
	HnswNodeHeader *node = HnswLayoutGetNode(vs->index, *page, blkno, off, &vs->lay);
	uint8	   *counts;
	ItemPointerData *list;
	int			i;

	if (node->state != HNSW_NODE_LIVE || node->level < o->level)
		return;
	counts = HnswLayoutCounts(&vs->lay, node);
	list = HnswLayoutList(&vs->lay, node, o->level);
	if (counts[o->level] >= HnswLevelCap(vs->meta.m, o->level))
		return;
	for (i = 0; i < counts[o->level]; i++)
		if (ItemPointerEquals(&list[i], unconstify(ItemPointerData *, &o->tid)))
			return;				/* already linked */
	if (*state == NULL)
	{
		*state = GenericXLogStart(vs->index);
		*page = GenericXLogRegisterBuffer(*state, buf, 0);
		node = (HnswNodeHeader *) PageGetItem(*page, PageGetItemId(*page, off));
		counts = HnswLayoutCounts(&vs->lay, node);
		list = HnswLayoutList(&vs->lay, node, o->level);
	}
	list[counts[o->level]++] = o->tid;
}

/*
 * ApplyOffers
 *		Write the queued offers in page order, one WAL record per page.
 */
static void
ApplyOffers(VacState *vs)
{
	Size		i = 0;

	qsort(vs->offers, vs->noffers, sizeof(RepairOffer), CompareOffer);
	while (i < vs->noffers)
	{
		BlockNumber blkno = ItemPointerGetBlockNumber(&vs->offers[i].target);
		GenericXLogState *state = NULL;
		HnswNodeHeader *node;
		Buffer		buf;
		Page		page;

		buf = LockNode(vs, blkno, ItemPointerGetOffsetNumber(&vs->offers[i].target),
					   BUFFER_LOCK_EXCLUSIVE, &node);
		page = BufferGetPage(buf);
		for (; i < vs->noffers &&
			 ItemPointerGetBlockNumber(&vs->offers[i].target) == blkno; i++)
			ApplyOfferToNode(vs, buf, &page, &state, &vs->offers[i]);
		if (state != NULL)
			GenericXLogFinish(state);
		UnlockReleaseBuffer(buf);
		vacuum_delay_point();
	}
	vs->noffers = 0;
}

/*
 * RepairNode
 *		Rebuild the level-l neighbour list of a live node that links to
 *		deleted nodes, from its surviving neighbours and the neighbours of
 *		the deleted ones.
 */
static void
RepairNode(VacState *vs, ItemPointer tid, int level)
{
	RepairScratch *sc = vs->sc;
	int			cap = HnswLevelCap(vs->meta.m, level);
	int			attempt;

	for (attempt = 0; attempt < 3; attempt++)
	{
		int			count,
					n,
					nsel,
					i;
		uint8		st;

		if (!ReadNode(vs, tid, level, &st, sc->nvec, sc->old, &count) ||
			st != HNSW_NODE_LIVE)
			return;
		if ((sc->nformp = CachedVec(vs, tid)) == NULL)
		{
			ToCacheForm(vs, sc->nvec, sc->nform);
			sc->nformp = sc->nform;
		}
		n = CollectCandidates(vs, tid, level, count);
		n = MeasureCandidates(vs, level, n);
		nsel = SelectRepair(vs, level, n, cap);
		for (i = 0; i < nsel; i++)
			sc->upd[i] = sc->cands[sc->chosen[i]].tid;
		if (!WriteList(vs, tid, level, sc->old, count, sc->upd, nsel))
			continue;			/* a concurrent insert changed the list */

		/* the reverse edge to each new neighbour */
		for (i = 0; i < nsel; i++)
		{
			RepairCand *c = &sc->cands[sc->chosen[i]];

			if (!c->survivor)
				QueueOffer(vs, &c->tid, level, tid);
		}
		return;
	}
}

/* Mark a node reached and queue it for expansion if the queue has room */
static void
ReachPush(VacState *vs, ReachState *rs, ItemPointer tid)
{
	SetBit(rs->reached, BitOf(vs, tid));
	if (rs->qlen >= rs->qcap)
	{
		rs->overflowed = true;	/* left for a sweep */
		return;
	}
	rs->queue[(rs->qhead + rs->qlen) % rs->qcap] = *tid;
	rs->qlen++;
}

/* Count the in-links a reached node gives and reach its live neighbours */
static void
ReachExpand(VacState *vs, ReachState *rs, ItemPointer cur)
{
	int			cnt,
				j;
	uint8		st;

	SetBit(rs->expanded, BitOf(vs, cur));
	if (!ReadNode(vs, cur, 0, &st, NULL, rs->nb, &cnt) ||
		st != HNSW_NODE_LIVE)
		return;
	for (j = 0; j < cnt; j++)
	{
		ItemPointer nb = &rs->nb[j];

		if (!ItemPointerIsValid(nb) || !InRange(vs, nb) || IsDeleted(vs, nb))
			continue;
		IncIndeg(rs->indeg, BitOf(vs, nb));
		if (!TestBit(rs->reached, BitOf(vs, nb)))
			ReachPush(vs, rs, nb);
	}
}

/*
 * Queue every reached node not yet expanded, while the queue has room.
 * Called with an empty queue, so no node is queued twice.
 */
static void
ReachSweep(VacState *vs, ReachState *rs)
{
	Size		nwords = ((Size) vs->nblocks * vs->perPage + 63) / 64;
	Size		w;

	for (w = 0; w < nwords; w++)
	{
		uint64		pending = rs->reached[w] & ~rs->expanded[w];

		while (pending != 0)
		{
			ItemPointerData tid;

			if (rs->qlen >= rs->qcap)
			{
				rs->overflowed = true;
				return;
			}
			TidOfBit(vs, w * 64 + pg_rightmost_one_pos64(pending), &tid);
			rs->queue[(rs->qhead + rs->qlen) % rs->qcap] = tid;
			rs->qlen++;
			pending &= pending - 1;
		}
	}
}

/* Breadth-first walk of level 0 from 'start' over live nodes. */
static void
MarkReachable(VacState *vs, ReachState *rs, ItemPointer start)
{
	Size		done = 0;

	if (!InRange(vs, start) || TestBit(rs->reached, BitOf(vs, start)))
		return;
	ReachPush(vs, rs, start);
	for (;;)
	{
		while (rs->qlen > 0)
		{
			ItemPointerData cur = rs->queue[rs->qhead];

			rs->qhead = (rs->qhead + 1) % rs->qcap;
			rs->qlen--;
			ReachExpand(vs, rs, &cur);
			if ((++done & 1023) == 0)
				vacuum_delay_point();
		}
		if (!rs->overflowed)
			break;
		rs->overflowed = false;
		ReachSweep(vs, rs);
	}
}

/*
 * Make X (reached) link to O at level 0: into a free slot, or in place of
 * a neighbour with at least three in-links (counted from reached nodes).
 */
static bool
LinkFrom(VacState *vs, ReachState *rs, ItemPointer x, ItemPointer o)
{
	int			cap = HnswLevelCap(vs->meta.m, 0);
	BlockNumber xb = ItemPointerGetBlockNumber(x);
	OffsetNumber xo = ItemPointerGetOffsetNumber(x);
	Buffer		buf;
	HnswNodeHeader *node;
	uint8	   *counts;
	ItemPointerData *list;
	GenericXLogState *state;
	Page		page;
	int			victim = -1,
				j;

	buf = ReadBufferExtended(vs->index, MAIN_FORKNUM, xb, RBM_NORMAL, vs->strategy);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	node = HnswLayoutGetNode(vs->index, BufferGetPage(buf), xb, xo, &vs->lay);
	counts = HnswLayoutCounts(&vs->lay, node);
	list = HnswLayoutNbrs(&vs->lay, node);
	if (node->state != HNSW_NODE_LIVE)
	{
		UnlockReleaseBuffer(buf);
		return false;
	}
	for (j = 0; j < counts[0]; j++)
		if (ItemPointerEquals(&list[j], o))
		{
			UnlockReleaseBuffer(buf);
			return true;		/* already there */
		}
	if (counts[0] >= cap)
	{
		for (j = 0; j < counts[0] && victim < 0; j++)
			if (InRange(vs, &list[j]) && GetIndeg(rs->indeg, BitOf(vs, &list[j])) >= 3)
				victim = j;
		if (victim < 0)
		{
			UnlockReleaseBuffer(buf);
			return false;
		}
	}
	state = GenericXLogStart(vs->index);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	node = (HnswNodeHeader *) PageGetItem(page, PageGetItemId(page, xo));
	counts = HnswLayoutCounts(&vs->lay, node);
	list = HnswLayoutNbrs(&vs->lay, node);
	if (victim >= 0)
	{
		DecIndeg(rs->indeg, BitOf(vs, &list[victim]));
		list[victim] = *o;
	}
	else
		list[counts[0]++] = *o;
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
	return true;
}

/*
 * LinkOrphan
 *		Link the unreached live node o from the closest reached node a
 *		search from the entry point finds (or the entry point), and back;
 *		then walk on from it.  Runs in vs->nodeCxt.
 */
static void
LinkOrphan(VacState *vs, ReachState *rs, HnswSearch *s, ItemPointer entry, ItemPointer o)
{
	char	   *ovec = palloc(vs->vbytes);
	int			ef = 4 * vs->meta.m;
	int32	   *found = palloc(sizeof(int32) * (ef + 1));
	ItemPointerData ep;
	uint8		st;
	int			n,
				i;

	if (!ReadNode(vs, o, 0, &st, ovec, NULL, NULL) ||
		st != HNSW_NODE_LIVE)
		return;
	HnswQueryFromStored(&vs->d, ovec, (void *) s->query);
	HnswSearchGreedyDescend(s, entry, vs->meta.entryLevel, 0, &ep);
	HnswSearchReset(s);
	(void) HnswSearchVisit(s, &ep, 0, ef, true);
	HnswSearchLayer(s, 0, ef);
	n = HnswSearchCollect(s, found, ef, true);
	for (i = 0; i <= n; i++)
	{
		/* the search may stay among unreached nodes: then the entry */
		ItemPointer x = i < n ? &s->pool[found[i]].tid : entry;

		if (ItemPointerEquals(x, o) || !InRange(vs, x) ||
			IsDeleted(vs, x) || !TestBit(rs->reached, BitOf(vs, x)))
			continue;
		if (LinkFrom(vs, rs, x, o))
		{
			/* and a way back, so a search that lands there can leave */
			if (LinkFrom(vs, rs, o, x))
				IncIndeg(rs->indeg, BitOf(vs, x));
			IncIndeg(rs->indeg, BitOf(vs, o));
			MarkReachable(vs, rs, o);
			return;
		}
	}
}

/*
 * RestoreReachability
 *		Local repair can cut a node, or a small group, off from the rest of
 *		level 0: unreachable however large ef is.  Walk level 0 from the
 *		entry point; link every live node not reached from the closest
 *		reached node a search finds, then walk on from it.
 */
static void
RestoreReachability(VacState *vs, ItemPointer entry)
{
	Size		nbits = (Size) vs->nblocks * vs->perPage;
	ReachState	rs;
	HnswSearch *s;
	BlockNumber blkno;

	rs.reached = AllocBits(nbits, 1);
	rs.expanded = AllocBits(nbits, 1);
	rs.indeg = AllocBits(nbits, 2);
	rs.qcap = Min(nbits + 1, Max(1024, vs->memBudget / 4 / sizeof(ItemPointerData)));
	rs.queue = palloc_extended(mul_size(rs.qcap, sizeof(ItemPointerData)), MCXT_ALLOC_HUGE);
	rs.qhead = rs.qlen = 0;
	rs.overflowed = false;
	rs.nb = palloc(sizeof(ItemPointerData) * HnswLevelCap(vs->meta.m, 0));
	s = HnswSearchCreate(vs->index, &vs->lay);
	s->query = palloc(HnswQueryBytes(&vs->d));

	MarkReachable(vs, &rs, entry);
	for (blkno = 1; blkno < vs->nblocks; blkno++)
	{
		Buffer		buf;
		Page		page;
		OffsetNumber off,
					maxoff;
		ItemPointerData orphans[MaxOffsetNumber];
		int			norphans = 0,
					o;

		buf = ReadDataPage(vs, blkno, BUFFER_LOCK_SHARE);
		if (!BufferIsValid(buf))
			continue;
		page = BufferGetPage(buf);
		maxoff = PageGetMaxOffsetNumber(page);
		for (off = FirstOffsetNumber; off <= maxoff && off <= vs->perPage; off++)
		{
			HnswNodeHeader *node = HnswLayoutGetNode(vs->index, page, blkno, off, &vs->lay);
			ItemPointerData tid;

			ItemPointerSet(&tid, blkno, off);
			if (node->state == HNSW_NODE_LIVE && !IsDeleted(vs, &tid) &&
				!TestBit(rs.reached, BitOf(vs, &tid)))
				orphans[norphans++] = tid;
		}
		UnlockReleaseBuffer(buf);

		for (o = 0; o < norphans; o++)
		{
			MemoryContext old;

			if (TestBit(rs.reached, BitOf(vs, &orphans[o])))
				continue;		/* reached through an earlier orphan */
			old = MemoryContextSwitchTo(vs->nodeCxt);
			vs->nunreached++;
			LinkOrphan(vs, &rs, s, entry, &orphans[o]);
			MemoryContextSwitchTo(old);
			MemoryContextReset(vs->nodeCxt);
		}
	}
}

static void
WaitForInserts(Relation index)
{
	LockPage(index, HNSW_UPDATE_LOCK, ExclusiveLock);
	UnlockPage(index, HNSW_UPDATE_LOCK, ExclusiveLock);
}

static void
ResizeMaps(VacState *vs)
{
	Size		nw = ((Size) vs->nblocks * vs->perPage + 63) / 64 + 1;

	if (nw <= vs->nwords)
		return;
	vs->deleted = repalloc_huge(vs->deleted, nw * sizeof(uint64));
	vs->seen = repalloc_huge(vs->seen, nw * sizeof(uint64));
	memset(vs->deleted + vs->nwords, 0, (nw - vs->nwords) * sizeof(uint64));
	memset(vs->seen + vs->nwords, 0, (nw - vs->nwords) * sizeof(uint64));
	vs->nwords = nw;
}

/*
 * MarkDeadPass
 *		Pass 1: remove dead heap TIDs from live nodes; a node left with none
 *		becomes DELETED.  Sets vs->deleted (also for nodes left DELETED by
 *		an interrupted earlier run) and the statistics.
 */
static void
MarkDeadPass(VacState *vs, IndexBulkDeleteResult *stats,
			 IndexBulkDeleteCallback callback, void *callback_state)
{
	Relation	index = vs->index;
	BlockNumber blkno;
	double		ndeleted = 0;
	double		nlive = 0;

	for (blkno = 1; blkno < vs->nblocks; blkno++)
	{
		Buffer		buf;
		Page		page;
		OffsetNumber off,
					maxoff;
		OffsetNumber dead[MaxOffsetNumber];
		int			ndead = 0;
		int			i;

		vacuum_delay_point();
		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, vs->strategy);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		page = BufferGetPage(buf);
		if (!IsDataPage(page))
		{
			UnlockReleaseBuffer(buf);
			continue;
		}
		maxoff = PageGetMaxOffsetNumber(page);
		for (off = FirstOffsetNumber; off <= maxoff; off++)
		{
			HnswNodeHeader *node = HnswLayoutGetNode(index, page, blkno, off, &vs->lay);
			ItemPointerData tid;

			ItemPointerSet(&tid, blkno, off);
			if (off > vs->perPage)
				HnswCorrupt(index, blkno, off, "too many items on page");
			if (node->state == HNSW_NODE_DELETED)
				SetBit(vs->deleted, BitOf(vs, &tid));	/* left by an earlier run */
			else if (node->state == HNSW_NODE_LIVE)
			{
				int			j,
							ndeadtids = 0;

				for (j = 0; j < node->ntids; j++)
					if (callback(&node->heaptids[j], callback_state))
						ndeadtids++;
				if (ndeadtids > 0)
				{
					dead[ndead++] = off;
					ndeleted += ndeadtids;
					if (ndeadtids == node->ntids)
						SetBit(vs->deleted, BitOf(vs, &tid));
				}
				nlive += node->ntids - ndeadtids;
			}
		}
		if (ndead > 0)
		{
			GenericXLogState *state = GenericXLogStart(index);

			page = GenericXLogRegisterBuffer(state, buf, 0);
			for (i = 0; i < ndead; i++)
			{
				HnswNodeHeader *node = (HnswNodeHeader *)
				PageGetItem(page, PageGetItemId(page, dead[i]));
				int			j,
							k = 0;

				/* the callback is deterministic: same answers as above */
				for (j = 0; j < node->ntids; j++)
					if (!callback(&node->heaptids[j], callback_state))
						node->heaptids[k++] = node->heaptids[j];
				for (j = k; j < HNSW_HEAPTIDS; j++)
					ItemPointerSetInvalid(&node->heaptids[j]);
				node->ntids = k;
				if (k == 0)
					node->state = HNSW_NODE_DELETED;
			}
			GenericXLogFinish(state);
		}
		UnlockReleaseBuffer(buf);
		CachePage(vs, blkno);
	}
	stats->tuples_removed += ndeleted;
	stats->num_index_tuples = nlive;
}

/* Repair one node's lists (levels: bit l set for level l) in vs->nodeCxt */
static void
RepairTodo(VacState *vs, ItemPointer tid, uint32 levels)
{
	MemoryContext old = MemoryContextSwitchTo(vs->nodeCxt);
	int			l;

	for (l = 0; l <= HNSW_MAX_LEVEL; l++)
		if (levels & (1u << l))
			RepairNode(vs, tid, l);
	MemoryContextSwitchTo(old);
	MemoryContextReset(vs->nodeCxt);
}

/* Levels at which a node on a locked page links to a deleted node */
static uint32
LevelsToRepair(VacState *vs, HnswNodeHeader *node)
{
	uint8	   *counts = HnswLayoutCounts(&vs->lay, node);
	ItemPointerData *nbrs = HnswLayoutNbrs(&vs->lay, node);
	uint32		mask = 0;
	int			l;

	for (l = 0; l <= node->level; l++)
	{
		ItemPointerData *ln = nbrs + HnswLevelStart(vs->meta.m, l);
		int			j;

		for (j = 0; j < counts[l]; j++)
			if (IsDeleted(vs, &ln[j]))
			{
				mask |= 1u << l;
				break;
			}
	}
	return mask;
}

/*
 * RepairPass
 *		Pass 2: repair every live node that links to a deleted one, page by
 *		page.  Returns the highest-level live node in *best (the entry
 *		point's replacement if it was deleted).
 */
static int
RepairPass(VacState *vs, ItemPointer best)
{
	BlockNumber blkno;
	int			bestLevel = -1;

	for (blkno = 1; blkno < vs->nblocks; blkno++)
	{
		Buffer		buf;
		Page		page;
		OffsetNumber off,
					maxoff;
		ItemPointerData todo[MaxOffsetNumber];
		uint32		todoLevels[MaxOffsetNumber];
		int			ntodo = 0;
		int			i;

		buf = ReadDataPage(vs, blkno, BUFFER_LOCK_SHARE);
		if (!BufferIsValid(buf))
			continue;
		page = BufferGetPage(buf);
		maxoff = PageGetMaxOffsetNumber(page);
		for (off = FirstOffsetNumber; off <= maxoff; off++)
		{
			HnswNodeHeader *node = HnswLayoutGetNode(vs->index, page, blkno, off, &vs->lay);
			uint32		mask;

			if (node->state != HNSW_NODE_LIVE)
				continue;
			if (node->level > bestLevel)
			{
				bestLevel = node->level;
				ItemPointerSet(best, blkno, off);
			}
			mask = LevelsToRepair(vs, node);
			if (mask)
			{
				ItemPointerSet(&todo[ntodo], blkno, off);
				todoLevels[ntodo++] = mask;
			}
		}
		UnlockReleaseBuffer(buf);

		for (i = 0; i < ntodo; i++)
			RepairTodo(vs, &todo[i], todoLevels[i]);
	}
	return bestLevel;
}

/* Move the entry point off a deleted node, under the exclusive update lock */
static void
MoveEntryPoint(VacState *vs, ItemPointer best, int bestLevel)
{
	Buffer		buf;
	HnswMetaPage meta;
	ItemPointerData ep;

	LockPage(vs->index, HNSW_UPDATE_LOCK, ExclusiveLock);
	buf = ReadBuffer(vs->index, HNSW_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	HnswCheckMetaPage(vs->index, BufferGetPage(buf));
	meta = HnswPageGetMeta(BufferGetPage(buf));
	ItemPointerSet(&ep, meta->entryBlkno, meta->entryOffno);
	if (meta->entryLevel >= 0 && IsDeleted(vs, &ep))
	{
		GenericXLogState *state = GenericXLogStart(vs->index);
		Page		page = GenericXLogRegisterBuffer(state, buf, 0);

		meta = HnswPageGetMeta(page);
		if (bestLevel >= 0)
		{
			meta->entryBlkno = ItemPointerGetBlockNumber(best);
			meta->entryOffno = ItemPointerGetOffsetNumber(best);
			meta->entryLevel = bestLevel;
		}
		else
		{
			meta->entryBlkno = InvalidBlockNumber;
			meta->entryOffno = InvalidOffsetNumber;
			meta->entryLevel = -1;
		}
		GenericXLogFinish(state);
	}
	UnlockReleaseBuffer(buf);
	UnlockPage(vs->index, HNSW_UPDATE_LOCK, ExclusiveLock);
}

/* Does block blkno hold a slot marked in vs->deleted? */
static bool
BlockHasDeleted(VacState *vs, BlockNumber blkno)
{
	Size		b0 = (Size) blkno * vs->perPage;
	Size		b;

	for (b = b0; b < b0 + vs->perPage; b++)
		if (b / 64 < vs->nwords && TestBit(vs->deleted, b))
			return true;
	return false;
}

/*
 * FreePass
 *		Pass 3: DELETED nodes become FREE (counts zeroed).  Returns the
 *		first block with a freed slot.
 */
static BlockNumber
FreePass(VacState *vs)
{
	BlockNumber blkno;
	BlockNumber firstFree = InvalidBlockNumber;

	for (blkno = 1; blkno < vs->nblocks; blkno++)
	{
		Buffer		buf;
		Page		page;
		OffsetNumber off,
					maxoff;
		GenericXLogState *state = NULL;
		bool		any = false;

		if (!BlockHasDeleted(vs, blkno))
			continue;
		buf = ReadDataPage(vs, blkno, BUFFER_LOCK_EXCLUSIVE);
		if (!BufferIsValid(buf))
			continue;
		page = BufferGetPage(buf);
		maxoff = PageGetMaxOffsetNumber(page);
		for (off = FirstOffsetNumber; off <= maxoff; off++)
		{
			ItemPointerData tid;
			HnswNodeHeader *node;

			ItemPointerSet(&tid, blkno, off);
			if (!IsDeleted(vs, &tid))
				continue;
			node = HnswLayoutGetNode(vs->index, page, blkno, off, &vs->lay);
			if (node->state != HNSW_NODE_DELETED)
				continue;
			if (!any)
			{
				state = GenericXLogStart(vs->index);
				page = GenericXLogRegisterBuffer(state, buf, 0);
				any = true;
			}
			node = (HnswNodeHeader *) PageGetItem(page, PageGetItemId(page, off));
			node->state = HNSW_NODE_FREE;
			memset(HnswLayoutCounts(&vs->lay, node), 0, node->level + 1);
		}
		if (any)
		{
			GenericXLogFinish(state);
			if (firstFree == InvalidBlockNumber)
				firstFree = blkno;
		}
		UnlockReleaseBuffer(buf);
	}
	return firstFree;
}

/* Is any node marked deleted? */
static bool
AnyDeleted(VacState *vs)
{
	Size		w;

	for (w = 0; w < vs->nwords; w++)
		if (vs->deleted[w] != 0)
			return true;
	return false;
}

/* Passes 2 and 3, when pass 1 found deleted nodes */
static void
RepairAndFree(VacState *vs)
{
	ItemPointerData best;
	int			bestLevel;
	BlockNumber firstFree;

	WaitForInserts(vs->index);

	/* pass 2: repair; inserts that linked to deleted nodes are done */
	vs->nblocks = RelationGetNumberOfBlocks(vs->index);
	ResizeMaps(vs);
	vs->sc = CreateScratch(vs);
	/* a sixteenth of the budget: ~300k offers at the default 64 MB */
	vs->maxOffers = Max(1024, vs->memBudget / 16 / sizeof(RepairOffer));
	vs->maxOffers = Min(vs->maxOffers, MaxAllocSize / sizeof(RepairOffer));
	vs->offers = palloc(vs->maxOffers * sizeof(RepairOffer));
	ItemPointerSetInvalid(&best);
	bestLevel = RepairPass(vs, &best);
	ApplyOffers(vs);
	pfree(vs->offers);
	MoveEntryPoint(vs, &best, bestLevel);
	CacheFree(vs);				/* the reachability queue takes its place */

	/* every live node must be reachable from the (new) entry point */
	HnswReadMeta(vs->index, &vs->meta);
	if (vs->meta.entryLevel >= 0)
	{
		ItemPointerData ep;

		ItemPointerSet(&ep, vs->meta.entryBlkno, vs->meta.entryOffno);
		RestoreReachability(vs, &ep);
		elog(DEBUG1, "hnsw vacuum of \"%s\": linked " INT64_FORMAT " unreached nodes",
			 RelationGetRelationName(vs->index), vs->nunreached);
	}

	/* inserts that started from the old entry point are done */
	WaitForInserts(vs->index);

	/*
	 * The deleted nodes leave the filter map before they become free: an
	 * insert reusing a slot then never finds a stale entry for it.
	 */
	if (vs->meta.nfilter > 0)
		HnswMapVacuum(vs->index, vs->strategy, MapEntryDead, vs);

	/* pass 3: free the deleted slots, and tell inserts where they start */
	firstFree = FreePass(vs);
	if (firstFree != InvalidBlockNumber)
		HnswMetaLowerHint(vs->index, offsetof(HnswMetaPageData, freeBlkno), firstFree);
}

IndexBulkDeleteResult *
hnswbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
			   IndexBulkDeleteCallback callback, void *callback_state)
{
	Relation	index = info->index;
	VacState	vs;
	MemoryContext cxt;
	MemoryContext old;

	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));

	cxt = AllocSetContextCreate(CurrentMemoryContext, "hnsw vacuum", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);

	memset(&vs, 0, sizeof(vs));
	vs.index = index;
	vs.strategy = info->strategy;
	vs.memBudget = VacMemBudget();
	vs.nodeCxt = AllocSetContextCreate(cxt, "hnsw vacuum node", ALLOCSET_DEFAULT_SIZES);
	HnswReadMeta(index, &vs.meta);
	HnswLayoutFromMeta(&vs.lay, &vs.meta);
	vs.d = vs.lay.d;
	vs.vbytes = HnswVecBytes(vs.meta.dims, vs.meta.elemtype);
	vs.perPage = (BLCKSZ - SizeOfPageHeaderData) /
		(MAXALIGN(HnswNodeSize(vs.meta.dims, vs.meta.elemtype, vs.meta.m, 0, vs.d.overflow)) +
		 sizeof(ItemIdData)) + 1;
	vs.nblocks = RelationGetNumberOfBlocks(index);
	vs.nwords = 1;
	vs.deleted = palloc0(sizeof(uint64));
	vs.seen = palloc0(sizeof(uint64));
	ResizeMaps(&vs);
	CacheInit(&vs);

	/* pass 1, then (also finishing an interrupted earlier run) 2 and 3 */
	MarkDeadPass(&vs, stats, callback, callback_state);
	if (AnyDeleted(&vs))
		RepairAndFree(&vs);

	/* after the last page change: retires graph copies (hnswcache.c) */
	HnswBumpChangeCount(index);

	stats->num_pages = RelationGetNumberOfBlocks(index);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return stats;
}

IndexBulkDeleteResult *
hnswvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	Relation	index = info->index;

	if (info->analyze_only)
		return stats;

	if (stats == NULL)
	{
		HnswMetaPageData meta;
		HnswLayout	lay;
		BlockNumber nblocks = RelationGetNumberOfBlocks(index);
		BlockNumber blkno;

		stats = palloc0(sizeof(IndexBulkDeleteResult));
		HnswReadMeta(index, &meta);
		HnswLayoutFromMeta(&lay, &meta);
		for (blkno = 1; blkno < nblocks; blkno++)
		{
			Buffer		buf;
			Page		page;
			OffsetNumber off,
						maxoff;

			vacuum_delay_point();
			buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, info->strategy);
			LockBuffer(buf, BUFFER_LOCK_SHARE);
			page = BufferGetPage(buf);
			if (IsDataPage(page))
			{
				maxoff = PageGetMaxOffsetNumber(page);
				for (off = FirstOffsetNumber; off <= maxoff; off++)
				{
					HnswNodeHeader *node = HnswLayoutGetNode(index, page, blkno, off, &lay);

					if (node->state == HNSW_NODE_LIVE)
						stats->num_index_tuples += node->ntids;
				}
			}
			UnlockReleaseBuffer(buf);
		}
	}
	stats->num_pages = RelationGetNumberOfBlocks(index);
	return stats;
}
