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
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
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
	HnswDist	d;
	BufferAccessStrategy strategy;
	int			perPage;
	BlockNumber nblocks;
	uint64	   *deleted;		/* bitmap of deleted nodes */
	uint64	   *seen;			/* scratch bitmap for de-duplication */
	Size		nwords;
	Size		vbytes;
} VacState;

typedef struct RepairCand
{
	ItemPointerData tid;
	float		dist;
	char	   *vec;
	bool		survivor;		/* a live neighbour the node already had */
	bool		chosen;
} RepairCand;

static inline Size
BitOf(VacState *vs, ItemPointer tid)
{
	return (Size) ItemPointerGetBlockNumber(tid) * vs->perPage +
		(ItemPointerGetOffsetNumber(tid) - 1);
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
 * FindIdenticalLive
 *		Follow the level-0 links between identical vectors from the deleted
 *		node 'from' until a live one other than 'self' is found.
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

		if (!HnswReadNodeInfo(vs->index, &vs->meta, &cur, 0, &st, NULL, nb, &count))
			return false;
		for (j = 0; j < count; j++)
		{
			if (!ItemPointerIsValid(&nb[j]) || !InRange(vs, &nb[j]) ||
				ItemPointerEquals(&nb[j], self) || ItemPointerEquals(&nb[j], from))
				continue;
			if (!HnswReadNodeInfo(vs->index, &vs->meta, &nb[j], 0, &st, v, NULL, NULL) ||
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

/*
 * RepairNode
 *		Rebuild the level-l neighbour list of a live node that links to
 *		deleted nodes, from its surviving neighbours and the neighbours of
 *		the deleted ones.
 */
static void
RepairNode(VacState *vs, ItemPointer tid, int level)
{
	int			cap = HnswLevelCap(vs->meta.m, level);
	ItemPointerData *old = palloc(sizeof(ItemPointerData) * cap);
	ItemPointerData *tmp = palloc(sizeof(ItemPointerData) * cap);
	char	   *nvec = palloc(vs->vbytes);
	char	   *dvec = palloc(vs->vbytes);
	int			attempt;

	for (attempt = 0; attempt < 3; attempt++)
	{
		int			count,
					i,
					n = 0,
					maxc,
					nsel;
		uint8		st;
		RepairCand *cands;
		int		   *chosen;
		ItemPointerData *upd;
		Buffer		buf;
		Page		page;
		HnswNodeHeader *node;
		uint8	   *counts;
		ItemPointerData *list;
		GenericXLogState *state;
		BlockNumber blkno = ItemPointerGetBlockNumber(tid);
		OffsetNumber off = ItemPointerGetOffsetNumber(tid);

		if (!HnswReadNodeInfo(vs->index, &vs->meta, tid, level, &st, nvec, old, &count) ||
			st != HNSW_NODE_LIVE)
			return;

		maxc = cap + cap * cap;
		cands = palloc(sizeof(RepairCand) * maxc);
		SetBit(vs->seen, BitOf(vs, tid));	/* never link to itself */
		for (i = 0; i < count; i++)
		{
			if (!ItemPointerIsValid(&old[i]) || !InRange(vs, &old[i]))
				continue;
			if (IsDeleted(vs, &old[i]))
			{
				int			c2,
							j;

				if (!HnswReadNodeInfo(vs->index, &vs->meta, &old[i], level, &st, dvec, tmp, &c2))
					continue;
				if (level == 0 && HnswIdentical(&vs->d, dvec, nvec))
				{
					ItemPointerData live;

					/* keep the cycle of identical vectors closed */
					if (FindIdenticalLive(vs, &old[i], nvec, tid, &live) &&
						!TestBit(vs->seen, BitOf(vs, &live)) && n < maxc)
					{
						SetBit(vs->seen, BitOf(vs, &live));
						cands[n].survivor = false;
						cands[n++].tid = live;
					}
				}
				for (j = 0; j < c2 && n < maxc; j++)
				{
					if (!ItemPointerIsValid(&tmp[j]) || !InRange(vs, &tmp[j]) ||
						IsDeleted(vs, &tmp[j]) || TestBit(vs->seen, BitOf(vs, &tmp[j])))
						continue;
					SetBit(vs->seen, BitOf(vs, &tmp[j]));
					cands[n].survivor = false;
					cands[n++].tid = tmp[j];
				}
			}
			else if (!TestBit(vs->seen, BitOf(vs, &old[i])) && n < maxc)
			{
				SetBit(vs->seen, BitOf(vs, &old[i]));
				cands[n].survivor = true;
				cands[n++].tid = old[i];
			}
		}
		/* reset scratch bits */
		ClearBit(vs->seen, BitOf(vs, tid));
		for (i = 0; i < n; i++)
			ClearBit(vs->seen, BitOf(vs, &cands[i].tid));

		/* distances from the node to each candidate */
		{
			int			k = 0;
			char	   *vbuf = palloc(vs->vbytes * Max(n, 1));

			for (i = 0; i < n; i++)
			{
				char	   *v = vbuf + vs->vbytes * k;

				if (!HnswReadNodeInfo(vs->index, &vs->meta, &cands[i].tid, level, &st, v, NULL, NULL) ||
					st != HNSW_NODE_LIVE)
					continue;
				cands[k].tid = cands[i].tid;
				cands[k].survivor = cands[i].survivor;
				cands[k].chosen = false;
				cands[k].vec = v;
				cands[k].dist = HnswDistance(&vs->d, nvec, v);
				k++;
			}
			n = k;
		}
		qsort(cands, n, sizeof(RepairCand), CompareCand);
		upd = palloc(sizeof(ItemPointerData) * cap);
		chosen = palloc(sizeof(int) * cap);
		nsel = 0;

		/*
		 * Keep every surviving edge: re-pruning them would take in-links
		 * away from nodes that may have no other.  Fill the slots of the
		 * deleted neighbours with the heuristic's picks among the deleted
		 * nodes' neighbours, then with the closest remaining candidates.
		 */
		for (i = 0; i < n && nsel < cap; i++)
			if (cands[i].survivor)
			{
				cands[i].chosen = true;
				chosen[nsel] = i;
				upd[nsel++] = cands[i].tid;
			}
		for (i = 0; i < n && nsel < cap; i++)
		{
			bool		good = true;
			int			j;

			if (cands[i].chosen)
				continue;
			for (j = 0; j < nsel; j++)
			{
				float		dcr = HnswDistance(&vs->d, cands[i].vec, cands[chosen[j]].vec);

				if (dcr < cands[i].dist ||
					(dcr == 0.0f && HnswIdentical(&vs->d, cands[i].vec, cands[chosen[j]].vec)))
				{
					good = false;
					break;
				}
			}
			if (good)
			{
				cands[i].chosen = true;
				chosen[nsel] = i;
				upd[nsel++] = cands[i].tid;
			}
		}
		for (i = 0; i < n && nsel < cap; i++)
			if (!cands[i].chosen)
			{
				cands[i].chosen = true;
				chosen[nsel] = i;
				upd[nsel++] = cands[i].tid;
			}

		buf = ReadBufferExtended(vs->index, MAIN_FORKNUM, blkno, RBM_NORMAL, vs->strategy);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		node = HnswGetNode(vs->index, BufferGetPage(buf), blkno, off, vs->meta.dims,
						   vs->meta.elemtype, vs->meta.m);
		if (node->state != HNSW_NODE_LIVE || node->level < level)
		{
			UnlockReleaseBuffer(buf);
			return;
		}
		counts = HnswNodeCounts(node, vs->meta.dims, vs->meta.elemtype);
		list = HnswNodeNbrs(node, vs->meta.dims, vs->meta.elemtype, node->level) +
			HnswLevelStart(vs->meta.m, level);
		if (counts[level] != count ||
			memcmp(list, old, sizeof(ItemPointerData) * count) != 0)
		{
			/* a concurrent insert changed the list: start over */
			UnlockReleaseBuffer(buf);
			continue;
		}
		state = GenericXLogStart(vs->index);
		page = GenericXLogRegisterBuffer(state, buf, 0);
		node = (HnswNodeHeader *) PageGetItem(page, PageGetItemId(page, off));
		counts = HnswNodeCounts(node, vs->meta.dims, vs->meta.elemtype);
		list = HnswNodeNbrs(node, vs->meta.dims, vs->meta.elemtype, node->level) +
			HnswLevelStart(vs->meta.m, level);
		memcpy(list, upd, sizeof(ItemPointerData) * nsel);
		for (i = nsel; i < cap; i++)
			ItemPointerSetInvalid(&list[i]);
		counts[level] = nsel;
		GenericXLogFinish(state);
		UnlockReleaseBuffer(buf);

		/*
		 * Offer the reverse edge to each new neighbour, so that a region
		 * reachable only through the deleted node (a bridge) gets an
		 * in-link back, not just an out-link.
		 */
		for (i = 0; i < nsel; i++)
			if (!cands[chosen[i]].survivor)
				HnswAddBacklink(vs->index, &vs->meta, &vs->d, &cands[chosen[i]].tid,
								level, tid, nvec, cands[chosen[i]].dist);
		return;
	}
}

/* Breadth-first walk of level 0 from 'start' over live nodes. */
static void
MarkReachable(VacState *vs, ItemPointer start, uint64 *reached, uint8 *indeg,
			  ItemPointerData *queue)
{
	int			cap = HnswLevelCap(vs->meta.m, 0);
	ItemPointerData *nb = palloc(sizeof(ItemPointerData) * cap);
	Size		head = 0,
				tail = 0;

	if (!InRange(vs, start) || TestBit(reached, BitOf(vs, start)))
		return;
	SetBit(reached, BitOf(vs, start));
	queue[tail++] = *start;
	while (head < tail)
	{
		ItemPointerData cur = queue[head++];
		int			cnt,
					j;
		uint8		st;

		if (!HnswReadNodeInfo(vs->index, &vs->meta, &cur, 0, &st, NULL, nb, &cnt) ||
			st != HNSW_NODE_LIVE)
			continue;
		for (j = 0; j < cnt; j++)
		{
			Size		b;

			if (!ItemPointerIsValid(&nb[j]) || !InRange(vs, &nb[j]) || IsDeleted(vs, &nb[j]))
				continue;
			b = BitOf(vs, &nb[j]);
			if (indeg[b] < 255)
				indeg[b]++;
			if (TestBit(reached, b))
				continue;
			SetBit(reached, b);
			queue[tail++] = nb[j];
		}
		if ((head & 1023) == 0)
			vacuum_delay_point();
	}
	pfree(nb);
}

/*
 * Make X (reached) link to O at level 0: into a free slot, or in place of
 * the neighbour with the most in-links if it can spare one.
 */
static bool
LinkFrom(VacState *vs, ItemPointer x, ItemPointer o, uint8 *indeg)
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
	node = HnswGetNode(vs->index, BufferGetPage(buf), xb, xo, vs->meta.dims,
					   vs->meta.elemtype, vs->meta.m);
	counts = HnswNodeCounts(node, vs->meta.dims, vs->meta.elemtype);
	list = HnswNodeNbrs(node, vs->meta.dims, vs->meta.elemtype, node->level);
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
		/*
		 * Replace the neighbour with the most in-links.  In-links are only
		 * counted from reached nodes, so require a clear surplus.
		 */
		for (j = 0; j < counts[0]; j++)
			if (InRange(vs, &list[j]) &&
				(victim < 0 || indeg[BitOf(vs, &list[j])] > indeg[BitOf(vs, &list[victim])]))
				victim = j;
		if (victim < 0 || indeg[BitOf(vs, &list[victim])] < 3)
		{
			UnlockReleaseBuffer(buf);
			return false;
		}
	}
	state = GenericXLogStart(vs->index);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	node = (HnswNodeHeader *) PageGetItem(page, PageGetItemId(page, xo));
	counts = HnswNodeCounts(node, vs->meta.dims, vs->meta.elemtype);
	list = HnswNodeNbrs(node, vs->meta.dims, vs->meta.elemtype, node->level);
	if (victim >= 0)
	{
		indeg[BitOf(vs, &list[victim])]--;
		list[victim] = *o;
	}
	else
		list[counts[0]++] = *o;
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
	return true;
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
	uint64	   *reached = palloc_extended((nbits + 63) / 64 * 8 + 8, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	uint8	   *indeg = palloc_extended(nbits + 1, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	ItemPointerData *queue = palloc_extended(sizeof(ItemPointerData) * (nbits + 1), MCXT_ALLOC_HUGE);
	char	   *ovec = palloc(vs->vbytes);
	BlockNumber blkno;
	HnswSearch *s = NULL;
	int32	   *found = palloc(sizeof(int32) * (4 * vs->meta.m + 1));

	MarkReachable(vs, entry, reached, indeg, queue);
	for (blkno = 1; blkno < vs->nblocks; blkno++)
	{
		Buffer		buf;
		Page		page;
		OffsetNumber off,
					maxoff;
		ItemPointerData orphans[MaxOffsetNumber];
		int			norphans = 0,
					o;

		buf = ReadBufferExtended(vs->index, MAIN_FORKNUM, blkno, RBM_NORMAL, vs->strategy);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (!IsDataPage(page))
		{
			UnlockReleaseBuffer(buf);
			continue;
		}
		maxoff = PageGetMaxOffsetNumber(page);
		for (off = FirstOffsetNumber; off <= maxoff && off <= vs->perPage; off++)
		{
			HnswNodeHeader *node = HnswGetNode(vs->index, page, blkno, off, vs->meta.dims,
											   vs->meta.elemtype, vs->meta.m);
			ItemPointerData tid;

			ItemPointerSet(&tid, blkno, off);
			if (node->state == HNSW_NODE_LIVE && !IsDeleted(vs, &tid) &&
				!TestBit(reached, BitOf(vs, &tid)))
				orphans[norphans++] = tid;
		}
		UnlockReleaseBuffer(buf);

		for (o = 0; o < norphans; o++)
		{
			uint8		st;
			int			n,
						i;
			ItemPointerData ep;

			if (TestBit(reached, BitOf(vs, &orphans[o])))
				continue;		/* reached through an earlier orphan */
			if (!HnswReadNodeInfo(vs->index, &vs->meta, &orphans[o], 0, &st, ovec, NULL, NULL) ||
				st != HNSW_NODE_LIVE)
				continue;
			if (s == NULL)
			{
				s = HnswSearchCreate(vs->index, &vs->d, vs->meta.m);
				s->query = palloc(HnswQueryBytes(&vs->d));
			}
			HnswQueryFromStored(&vs->d, ovec, (void *) s->query);
			HnswSearchGreedyDescend(s, entry, vs->meta.entryLevel, 0, &ep);
			HnswSearchReset(s);
			(void) HnswSearchVisit(s, &ep, 0, 4 * vs->meta.m, true);
			HnswSearchLayer(s, 0, 4 * vs->meta.m);
			n = HnswSearchCollect(s, found, 4 * vs->meta.m, true);
			for (i = 0; i <= n; i++)
			{
				/* the search may stay among unreached nodes: then the entry */
				ItemPointer x = i < n ? &s->pool[found[i]].tid : entry;

				if (ItemPointerEquals(x, &orphans[o]) || !InRange(vs, x) ||
					IsDeleted(vs, x) || !TestBit(reached, BitOf(vs, x)))
					continue;
				if (LinkFrom(vs, x, &orphans[o], indeg))
				{
					/* and a way back, so a search that lands there can leave */
					if (LinkFrom(vs, &orphans[o], x, indeg))
						indeg[BitOf(vs, x)]++;
					indeg[BitOf(vs, &orphans[o])]++;
					ClearBit(reached, BitOf(vs, &orphans[o]));
					MarkReachable(vs, &orphans[o], reached, indeg, queue);
					break;
				}
			}
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

IndexBulkDeleteResult *
hnswbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
			   IndexBulkDeleteCallback callback, void *callback_state)
{
	Relation	index = info->index;
	VacState	vs;
	BlockNumber blkno;
	double		ndeleted = 0;
	double		nlive = 0;
	BlockNumber firstFree = InvalidBlockNumber;
	ItemPointerData best;
	int			bestLevel = -1;
	MemoryContext cxt;
	MemoryContext old;

	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));

	cxt = AllocSetContextCreate(CurrentMemoryContext, "hnsw vacuum", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);

	memset(&vs, 0, sizeof(vs));
	vs.index = index;
	vs.strategy = info->strategy;
	HnswReadMeta(index, &vs.meta);
	HnswInitDist(&vs.d, vs.meta.dims, vs.meta.elemtype, vs.meta.srcElem, vs.meta.metric,
				 vs.meta.storage == HNSW_STORAGE_OVERFLOW);
	vs.vbytes = HnswVecBytes(vs.meta.dims, vs.meta.elemtype);
	vs.perPage = (BLCKSZ - SizeOfPageHeaderData) /
		(MAXALIGN(HnswNodeSize(vs.meta.dims, vs.meta.elemtype, vs.meta.m, 0, vs.d.overflow)) +
		 sizeof(ItemIdData)) + 1;
	vs.nblocks = RelationGetNumberOfBlocks(index);
	vs.nwords = 1;
	vs.deleted = palloc0(sizeof(uint64));
	vs.seen = palloc0(sizeof(uint64));
	ResizeMaps(&vs);
	ItemPointerSetInvalid(&best);

	/* pass 1: mark dead nodes deleted */
	for (blkno = 1; blkno < vs.nblocks; blkno++)
	{
		Buffer		buf;
		Page		page;
		OffsetNumber off,
					maxoff;
		OffsetNumber dead[MaxOffsetNumber];
		int			ndead = 0;
		int			i;

		vacuum_delay_point();
		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, info->strategy);
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
			HnswNodeHeader *node = HnswGetNode(index, page, blkno, off, vs.meta.dims,
											   vs.meta.elemtype, vs.meta.m);
			ItemPointerData tid;

			ItemPointerSet(&tid, blkno, off);
			if (off > vs.perPage)
				HnswCorrupt(index, blkno, off, "too many items on page");
			if (node->state == HNSW_NODE_DELETED)
				SetBit(vs.deleted, BitOf(&vs, &tid));	/* left by an earlier run */
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
						SetBit(vs.deleted, BitOf(&vs, &tid));
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
	}

	stats->tuples_removed += ndeleted;
	stats->num_index_tuples = nlive;

	/* anything to repair?  (also finishes an interrupted earlier run) */
	for (blkno = 0; blkno < vs.nwords && vs.deleted[blkno] == 0; blkno++)
		;
	if (blkno < vs.nwords)
	{
		WaitForInserts(index);

		/* pass 2: repair; inserts that linked to deleted nodes are done */
		vs.nblocks = RelationGetNumberOfBlocks(index);
		ResizeMaps(&vs);
		for (blkno = 1; blkno < vs.nblocks; blkno++)
		{
			Buffer		buf;
			Page		page;
			OffsetNumber off,
						maxoff;
			ItemPointerData todo[MaxOffsetNumber];
			uint32		todoLevels[MaxOffsetNumber];
			int			ntodo = 0;
			int			i;

			vacuum_delay_point();
			buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, info->strategy);
			LockBuffer(buf, BUFFER_LOCK_SHARE);
			page = BufferGetPage(buf);
			if (!IsDataPage(page))
			{
				UnlockReleaseBuffer(buf);
				continue;
			}
			maxoff = PageGetMaxOffsetNumber(page);
			for (off = FirstOffsetNumber; off <= maxoff; off++)
			{
				HnswNodeHeader *node = HnswGetNode(index, page, blkno, off, vs.meta.dims,
												   vs.meta.elemtype, vs.meta.m);
				uint8	   *counts;
				ItemPointerData *nbrs;
				int			l;
				uint32		mask = 0;

				if (node->state != HNSW_NODE_LIVE)
					continue;
				if (node->level > bestLevel)
				{
					bestLevel = node->level;
					ItemPointerSet(&best, blkno, off);
				}
				counts = HnswNodeCounts(node, vs.meta.dims, vs.meta.elemtype);
				nbrs = HnswNodeNbrs(node, vs.meta.dims, vs.meta.elemtype, node->level);
				for (l = 0; l <= node->level; l++)
				{
					ItemPointerData *ln = nbrs + HnswLevelStart(vs.meta.m, l);
					int			j;

					for (j = 0; j < counts[l]; j++)
						if (IsDeleted(&vs, &ln[j]))
						{
							mask |= 1u << l;
							break;
						}
				}
				if (mask)
				{
					ItemPointerSet(&todo[ntodo], blkno, off);
					todoLevels[ntodo++] = mask;
				}
			}
			UnlockReleaseBuffer(buf);

			for (i = 0; i < ntodo; i++)
			{
				int			l;

				for (l = 0; l <= HNSW_MAX_LEVEL; l++)
					if (todoLevels[i] & (1u << l))
						RepairNode(&vs, &todo[i], l);
			}
		}

		/* entry point */
		LockPage(index, HNSW_UPDATE_LOCK, ExclusiveLock);
		{
			Buffer		buf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
			HnswMetaPage meta;
			ItemPointerData ep;

			LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
			HnswCheckMetaPage(index, BufferGetPage(buf));
			meta = HnswPageGetMeta(BufferGetPage(buf));
			ItemPointerSet(&ep, meta->entryBlkno, meta->entryOffno);
			if (meta->entryLevel >= 0 && IsDeleted(&vs, &ep))
			{
				GenericXLogState *state = GenericXLogStart(index);
				Page		page = GenericXLogRegisterBuffer(state, buf, 0);

				meta = HnswPageGetMeta(page);
				if (bestLevel >= 0)
				{
					meta->entryBlkno = ItemPointerGetBlockNumber(&best);
					meta->entryOffno = ItemPointerGetOffsetNumber(&best);
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
		}
		UnlockPage(index, HNSW_UPDATE_LOCK, ExclusiveLock);

		/* every live node must be reachable from the (new) entry point */
		HnswReadMeta(index, &vs.meta);
		if (vs.meta.entryLevel >= 0)
		{
			ItemPointerData ep;

			ItemPointerSet(&ep, vs.meta.entryBlkno, vs.meta.entryOffno);
			RestoreReachability(&vs, &ep);
		}

		/* inserts that started from the old entry point are done */
		WaitForInserts(index);

		/*
		 * The deleted nodes leave the filter map before they become free:
		 * an insert reusing a slot then never finds a stale entry for it.
		 */
		if (vs.meta.nfilter > 0)
			HnswMapVacuum(index, info->strategy, MapEntryDead, &vs);

		/* pass 3: free the deleted slots */
		for (blkno = 1; blkno < vs.nblocks; blkno++)
		{
			Buffer		buf;
			Page		page;
			OffsetNumber off,
						maxoff;
			GenericXLogState *state = NULL;
			bool		any = false;

			if (blkno * (Size) vs.perPage / 64 < vs.nwords)
			{
				Size		w0 = (Size) blkno * vs.perPage / 64;
				Size		w1 = Min(vs.nwords - 1, ((Size) (blkno + 1) * vs.perPage) / 64);
				Size		w;

				for (w = w0; w <= w1; w++)
					if (vs.deleted[w])
						break;
				if (w > w1)
					continue;
			}
			vacuum_delay_point();
			buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, info->strategy);
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
				ItemPointerData tid;
				HnswNodeHeader *node;

				ItemPointerSet(&tid, blkno, off);
				if (!IsDeleted(&vs, &tid))
					continue;
				node = HnswGetNode(index, page, blkno, off, vs.meta.dims,
								   vs.meta.elemtype, vs.meta.m);
				if (node->state != HNSW_NODE_DELETED)
					continue;
				if (!any)
				{
					state = GenericXLogStart(index);
					page = GenericXLogRegisterBuffer(state, buf, 0);
					any = true;
				}
				node = (HnswNodeHeader *) PageGetItem(page, PageGetItemId(page, off));
				node->state = HNSW_NODE_FREE;
				memset(HnswNodeCounts(node, vs.meta.dims, vs.meta.elemtype), 0, node->level + 1);
			}
			if (any)
			{
				GenericXLogFinish(state);
				if (firstFree == InvalidBlockNumber)
					firstFree = blkno;
			}
			UnlockReleaseBuffer(buf);
		}

		/* tell inserts where the free slots start */
		if (firstFree != InvalidBlockNumber)
			HnswMetaLowerHint(index, offsetof(HnswMetaPageData, freeBlkno), firstFree);
	}

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
		BlockNumber nblocks = RelationGetNumberOfBlocks(index);
		BlockNumber blkno;

		stats = palloc0(sizeof(IndexBulkDeleteResult));
		HnswReadMeta(index, &meta);
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
					HnswNodeHeader *node = HnswGetNode(index, page, blkno, off, meta.dims,
													   meta.elemtype, meta.m);

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
