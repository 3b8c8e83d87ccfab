/*-------------------------------------------------------------------------
 *
 * hnswinsert.c
 *	  Insertion of one element into an on-disk hnsw graph.
 *
 * Lock order (see README): the heavyweight HNSW_UPDATE_LOCK first (share
 * for ordinary inserts, exclusive when the insert may change the entry
 * point), then buffer locks one at a time; the only place two buffer
 * locks are held together is a data page followed by the metapage.
 * Neighbour lists are rewritten with optimistic checks: the list is read,
 * the new list computed without locks, and the write is done only if the
 * list is unchanged when the page is locked exclusively again.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "common/pg_prng.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "hnsw.h"
#include "hnswfilter.h"
#include "hnswfmap.h"

/* How many pages an insert scans for a slot freed by vacuum. */
#define HNSW_FREE_SCAN_PAGES	32

typedef struct HnswNbr
{
	ItemPointerData tid;
	float		dist;
	char	   *vec;
} HnswNbr;

/*
 * HnswFillMetaPage
 *		Initialise a metapage image (entry point empty).
 */
void
HnswFillMetaPage(Page page, int dims, int m, int efc, const HnswOpInfo *info,
				 int quantization)
{
	HnswMetaPage meta;

	HnswInitPage(page, HNSW_PAGE_META);
	meta = HnswPageGetMeta(page);
	memset(meta, 0, sizeof(HnswMetaPageData));
	meta->magic = HNSW_MAGIC;
	meta->version = HNSW_VERSION;
	meta->dims = dims;
	meta->m = m;
	meta->efConstruction = efc;
	meta->elemtype = HnswStoredElem(info->elemtype, quantization);
	meta->srcElem = info->elemtype;
	meta->metric = info->metric;
	meta->entryLevel = -1;
	meta->entryBlkno = InvalidBlockNumber;
	meta->entryOffno = InvalidOffsetNumber;
	meta->insertPage = InvalidBlockNumber;
	meta->freeBlkno = InvalidBlockNumber;
	meta->nodeCount = 0;
	meta->mapHead = InvalidBlockNumber;
	meta->mapTail = InvalidBlockNumber;
	meta->mapFree = InvalidBlockNumber;
	/* random start: a copy of an older index never matches a new one */
	meta->changeCount = pg_prng_uint64(&pg_global_prng_state);
	/* keep pd_lower past the struct: generic WAL zeroes the hole */
	((PageHeader) page)->pd_lower = ((char *) meta + sizeof(HnswMetaPageData)) - (char *) page;
}

/*
 * Copy what an insert needs to know about a node: its state, level,
 * vector and neighbours at one level.  Returns false if the node is free
 * or has no such level.
 */
bool
HnswReadNodeInfo(Relation index, const HnswMetaPageData *meta, ItemPointer tid,
			 int level, uint8 *state, void *vec, ItemPointerData *nbrs, int *count)
{
	BlockNumber blkno = ItemPointerGetBlockNumber(tid);
	OffsetNumber off = ItemPointerGetOffsetNumber(tid);
	Buffer		buf;
	HnswNodeHeader *node;
	bool		ok = false;

	if (blkno == HNSW_METAPAGE_BLKNO || blkno >= RelationGetNumberOfBlocks(index))
		HnswCorrupt(index, blkno, off, "neighbour pointer out of range");
	buf = ReadBuffer(index, blkno);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	node = HnswGetNode(index, BufferGetPage(buf), blkno, off, meta->dims,
					   meta->elemtype, meta->m);
	*state = node->state;
	if (node->state != HNSW_NODE_FREE && node->level >= level)
	{
		if (vec)
		{
			HnswDist	d;

			HnswInitDist(&d, meta->dims, meta->elemtype, meta->srcElem, meta->metric,
						 meta->storage == HNSW_STORAGE_OVERFLOW);
			memcpy(vec, HnswNodeVec(index, &d, node, blkno, off), d.vbytes);
		}
		if (nbrs)
		{
			*count = HnswNodeCounts(node, meta->dims, meta->elemtype)[level];
			memcpy(nbrs, HnswNodeNbrs(node, meta->dims, meta->elemtype, node->level) +
				   HnswLevelStart(meta->m, level), sizeof(ItemPointerData) * *count);
		}
		ok = true;
	}
	UnlockReleaseBuffer(buf);
	return ok;
}

static void
UpdateMetaHints(Relation index, BlockNumber insertPage, bool setInsert,
				BlockNumber freeBlkno, bool setFree)
{
	Buffer		buf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	GenericXLogState *state;
	Page		page;
	HnswMetaPage meta;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	HnswCheckMetaPage(index, BufferGetPage(buf));
	meta = HnswPageGetMeta(BufferGetPage(buf));
	if ((!setInsert || meta->insertPage == insertPage) &&
		(!setFree || meta->freeBlkno == freeBlkno))
	{
		UnlockReleaseBuffer(buf);
		return;
	}
	state = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	meta = HnswPageGetMeta(page);
	if (setInsert)
		meta->insertPage = insertPage;
	if (setFree)
		meta->freeBlkno = freeBlkno;
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
}

/*
 * FinishPlace
 *		The node now at *tid is in the WAL record state (of buf's page): add
 *		its filter map entry (payload) to the same record, write it, release
 *		the page.
 */
static void
FinishPlace(Relation index, const HnswMetaPageData *meta, GenericXLogState *state,
			Buffer buf, ItemPointer tid, const char *payload)
{
	HnswMapAdd	madd;

	if (meta->nfilter > 0)
		HnswMapAppend(index, state, tid, payload, &madd);
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
	if (meta->nfilter > 0)
		HnswMapAppendDone(index, &madd);
}

static bool
IsNodesPage(Page page)
{
	return !PageIsNew(page) && HnswPageGetOpaque(page)->page_id == HNSW_PAGE_ID &&
		(HnswPageGetOpaque(page)->flags & HNSW_PAGE_NODES);
}

/*
 * PlaceInFreeSlot
 *		Store the node in the first slot freed by vacuum, large enough for
 *		its level, in a window of HNSW_FREE_SCAN_PAGES from the metapage's
 *		hint, and move the hint to the first free slot seen (a smaller node
 *		may use one we skipped), or past a window without any.  With
 *		overflow storage the vector goes into the slot's own chain first.
 *		Returns false if no slot fits.
 */
static bool
PlaceInFreeSlot(Relation index, const HnswMetaPageData *meta, const HnswDist *d,
				HnswNodeHeader *node, Size size, const void *vec, const char *payload,
				BlockNumber nblocks, ItemPointer result)
{
	BlockNumber stop = Min(nblocks, meta->freeBlkno + HNSW_FREE_SCAN_PAGES);
	BlockNumber firstSeen = InvalidBlockNumber;
	BlockNumber blkno;

	for (blkno = meta->freeBlkno; blkno < stop; blkno++)
	{
		Buffer		buf = ReadBuffer(index, blkno);
		Page		page;
		OffsetNumber off,
					maxoff;

		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		page = BufferGetPage(buf);
		if (!IsNodesPage(page))
		{
			UnlockReleaseBuffer(buf);
			continue;
		}
		maxoff = PageGetMaxOffsetNumber(page);
		for (off = FirstOffsetNumber; off <= maxoff; off++)
		{
			ItemId		iid = PageGetItemId(page, off);
			HnswNodeHeader *n;
			GenericXLogState *state;

			if (!ItemIdIsNormal(iid))
				continue;
			n = HnswGetNode(index, page, blkno, off, meta->dims, meta->elemtype, meta->m);
			if (n->state != HNSW_NODE_FREE)
				continue;
			if (firstSeen == InvalidBlockNumber)
				firstSeen = blkno;
			if (ItemIdGetLength(iid) < size)
				continue;		/* too small for this node's level */

			if (d->overflow)
			{
				HnswOvflRef ref;

				if (!HnswNodeIsOvf(n))
					HnswCorrupt(index, blkno, off, "node vector storage does not match the index");
				memcpy(&ref, HnswNodeVector(n), sizeof(HnswOvflRef));
				HnswOvflRewrite(index, d, &ref, vec, blkno, off);
				memcpy(HnswNodeVector(node), &ref, sizeof(HnswOvflRef));
			}
			state = GenericXLogStart(index);
			page = GenericXLogRegisterBuffer(state, buf, 0);
			iid = PageGetItemId(page, off);
			n = (HnswNodeHeader *) PageGetItem(page, iid);
			memset(n, 0, ItemIdGetLength(iid));
			memcpy(n, node, size);
			ItemPointerSet(result, blkno, off);
			FinishPlace(index, meta, state, buf, result, payload);
			if (firstSeen != meta->freeBlkno)
				UpdateMetaHints(index, 0, false, firstSeen, true);
			return true;
		}
		UnlockReleaseBuffer(buf);
	}
	if (firstSeen != InvalidBlockNumber)
		UpdateMetaHints(index, 0, false, firstSeen, true);
	else
		UpdateMetaHints(index, 0, false, stop < nblocks ? stop : InvalidBlockNumber, true);
	return false;
}

/* Store the node on the insert page if it has room; false if not */
static bool
PlaceOnInsertPage(Relation index, const HnswMetaPageData *meta, HnswNodeHeader *node,
				  Size size, const char *payload, BlockNumber nblocks, ItemPointer result)
{
	BlockNumber blkno = meta->insertPage;
	Buffer		buf;
	Page		page;
	GenericXLogState *state;
	OffsetNumber off;

	if (blkno == InvalidBlockNumber || blkno >= nblocks || blkno == HNSW_METAPAGE_BLKNO)
		return false;
	buf = ReadBuffer(index, blkno);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	page = BufferGetPage(buf);
	if (!IsNodesPage(page) || PageGetFreeSpace(page) < MAXALIGN(size))
	{
		UnlockReleaseBuffer(buf);
		return false;
	}
	state = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	off = PageAddItem(page, (Item) node, size, InvalidOffsetNumber, false, false);
	if (off == InvalidOffsetNumber)
		elog(ERROR, "failed to add hnsw node to block %u", blkno);
	ItemPointerSet(result, blkno, off);
	FinishPlace(index, meta, state, buf, result, payload);
	return true;
}

/* Store the node on a new page, which becomes the insert page */
static void
PlaceOnNewPage(Relation index, const HnswMetaPageData *meta, HnswNodeHeader *node,
			   Size size, const char *payload, ItemPointer result)
{
	Buffer		buf;
	Page		page;
	GenericXLogState *state;
	OffsetNumber off;

	LockRelationForExtension(index, ExclusiveLock);
	buf = ReadBufferExtended(index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, NULL);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	UnlockRelationForExtension(index, ExclusiveLock);

	state = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(state, buf, GENERIC_XLOG_FULL_IMAGE);
	HnswInitPage(page, HNSW_PAGE_NODES);
	off = PageAddItem(page, (Item) node, size, InvalidOffsetNumber, false, false);
	if (off == InvalidOffsetNumber)
		elog(ERROR, "failed to add hnsw node to a new page");
	ItemPointerSet(result, BufferGetBlockNumber(buf), off);
	FinishPlace(index, meta, state, buf, result, payload);
	UpdateMetaHints(index, ItemPointerGetBlockNumber(result), true, 0, false);
}

/*
 * PlaceNode
 *		Store a new node: in a slot freed by vacuum if one fits, else on the
 *		insert page, else on a new page.  Returns its location.  With
 *		overflow storage the vector goes first: into the free slot's own
 *		chain (under that page's exclusive lock), or into a new chain
 *		written before the node that references it.  The node's filter map
 *		entry goes into the WAL record that writes the node.
 */
static ItemPointerData
PlaceNode(Relation index, const HnswMetaPageData *meta, const HnswDist *d,
		  HnswNodeHeader *node, Size size, const void *vec)
{
	ItemPointerData result;
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	const char *payload = (const char *) node + size - HnswFilterBytes(meta->nfilter);

	if (meta->freeBlkno != InvalidBlockNumber && meta->freeBlkno < nblocks &&
		PlaceInFreeSlot(index, meta, d, node, size, vec, payload, nblocks, &result))
		return result;

	if (d->overflow)
	{
		HnswOvflRef ref;

		HnswOvflWriteNew(index, d, vec, &ref);
		memcpy(HnswNodeVector(node), &ref, sizeof(HnswOvflRef));
		nblocks = RelationGetNumberOfBlocks(index);
	}
	if (!PlaceOnInsertPage(index, meta, node, size, payload, nblocks, &result))
		PlaceOnNewPage(index, meta, node, size, payload, &result);
	return result;
}

static int
CompareNbr(const void *a, const void *b)
{
	float		da = ((const HnswNbr *) a)->dist;
	float		db = ((const HnswNbr *) b)->dist;

	return da < db ? -1 : (da > db ? 1 : 0);
}

/*
 * AddBacklink
 *		Make the new node a neighbour of node ntid at level: append if the
 *		list has room, else re-run the selection heuristic over the old
 *		neighbours plus the new node.  Optimistic: retried if the list
 *		changed between reading and writing.
 */
void
HnswAddBacklink(Relation index, const HnswMetaPageData *meta, const HnswDist *d,
			ItemPointer ntid, int level, ItemPointer newtid, const void *newvec,
			float newdist)
{
	int			cap = HnswLevelCap(meta->m, level);
	Size		vbytes = HnswVecBytes(meta->dims, meta->elemtype);
	ItemPointerData *old = palloc(sizeof(ItemPointerData) * cap);
	ItemPointerData *upd = palloc(sizeof(ItemPointerData) * cap);
	char	   *nvec = palloc(vbytes);
	char	   *vecbuf = palloc(vbytes * (cap + 1));
	HnswNbr    *cands = palloc(sizeof(HnswNbr) * (cap + 1));
	char	  **vecs = palloc(sizeof(char *) * (cap + 1));
	float	   *dists = palloc(sizeof(float) * (cap + 1));
	int		   *sel = palloc(sizeof(int) * (cap + 1));
	int			attempt;

	for (attempt = 0; attempt < 3; attempt++)
	{
		uint8		st;
		int			count = 0;
		int			nupd = 0;
		int			i;
		Buffer		buf;
		HnswNodeHeader *node;
		ItemPointerData *list;
		uint8	   *counts;
		BlockNumber blkno = ItemPointerGetBlockNumber(ntid);
		OffsetNumber off = ItemPointerGetOffsetNumber(ntid);

		if (!HnswReadNodeInfo(index, meta, ntid, level, &st, nvec, old, &count))
			break;
		for (i = 0; i < count; i++)
			if (ItemPointerEquals(&old[i], newtid))
				break;
		if (i < count)
			break;				/* already linked */

		if (count < cap)
		{
			memcpy(upd, old, sizeof(ItemPointerData) * count);
			upd[count] = *newtid;
			nupd = count + 1;
		}
		else
		{
			int			n = 0,
						nsel;
			bool		keepsNew = false;

			/* distances from this node to its neighbours and the new node */
			for (i = 0; i < count; i++)
			{
				uint8		nst;
				char	   *v = vecbuf + vbytes * n;

				if (!HnswReadNodeInfo(index, meta, &old[i], level, &nst, v, NULL, NULL) ||
					nst != HNSW_NODE_LIVE)
					continue;	/* drop links to deleted and free nodes */
				cands[n].tid = old[i];
				cands[n].dist = HnswDistance(d, nvec, v);
				cands[n].vec = v;
				n++;
			}
			cands[n].tid = *newtid;
			cands[n].dist = newdist;
			cands[n].vec = (char *) newvec;
			n++;
			qsort(cands, n, sizeof(HnswNbr), CompareNbr);
			for (i = 0; i < n; i++)
			{
				dists[i] = cands[i].dist;
				vecs[i] = cands[i].vec;
			}
			nsel = HnswSelectNeighbours(d, vecs, dists, n, cap, false, sel);
			for (i = 0; i < nsel; i++)
			{
				upd[nupd++] = cands[sel[i]].tid;
				if (ItemPointerEquals(&cands[sel[i]].tid, newtid))
					keepsNew = true;
			}
			if (!keepsNew)
				break;
		}

		/* write if unchanged since we read it */
		buf = ReadBuffer(index, blkno);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		node = HnswGetNode(index, BufferGetPage(buf), blkno, off, meta->dims,
						   meta->elemtype, meta->m);
		if (node->state == HNSW_NODE_FREE || node->level < level)
		{
			UnlockReleaseBuffer(buf);
			break;
		}
		counts = HnswNodeCounts(node, meta->dims, meta->elemtype);
		list = HnswNodeNbrs(node, meta->dims, meta->elemtype, node->level) +
			HnswLevelStart(meta->m, level);
		if (counts[level] != count ||
			memcmp(list, old, sizeof(ItemPointerData) * count) != 0)
		{
			UnlockReleaseBuffer(buf);
			continue;			/* changed under us: retry */
		}
		HnswWriteNbrList(index, buf, off, meta, level, upd, nupd);
		UnlockReleaseBuffer(buf);
		break;
	}
}

/*
 * HnswTryAddDuplicate
 *		Add a heap TID to the live node at tid if it holds exactly this
 *		vector and has room.  Identical vectors share one node, so that many
 *		duplicates do not crowd each other out of neighbour lists and leave
 *		nodes unreachable.
 */
bool
HnswTryAddDuplicate(Relation index, const HnswMetaPageData *meta, ItemPointer tid,
					const void *vec, const char *filter, ItemPointer heaptid)
{
	BlockNumber blkno = ItemPointerGetBlockNumber(tid);
	OffsetNumber off = ItemPointerGetOffsetNumber(tid);
	Buffer		buf;
	HnswNodeHeader *node;
	GenericXLogState *state;
	Page		page;
	HnswDist	d;

	buf = ReadBuffer(index, blkno);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	node = HnswGetNode(index, BufferGetPage(buf), blkno, off, meta->dims,
					   meta->elemtype, meta->m);
	HnswInitDist(&d, meta->dims, meta->elemtype, meta->srcElem, meta->metric,
				 meta->storage == HNSW_STORAGE_OVERFLOW);
	if (node->state != HNSW_NODE_LIVE || node->ntids >= HNSW_HEAPTIDS ||
		memcmp(HnswNodeVec(index, &d, node, blkno, off), vec, d.vbytes) != 0 ||
		(meta->nfilter > 0 &&
		 memcmp(HnswNodeFilter(index, BufferGetPage(buf), blkno, off, node, meta->dims,
							   meta->elemtype, meta->m, meta->nfilter),
				filter, HnswFilterBytes(meta->nfilter)) != 0))
	{
		UnlockReleaseBuffer(buf);
		return false;
	}
	state = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	node = (HnswNodeHeader *) PageGetItem(page, PageGetItemId(page, off));
	node->heaptids[node->ntids++] = *heaptid;
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
	return true;
}

/*
 * SpliceBacklink
 *		In P's level-0 list, replace Q by the new node.  False if Q is no
 *		longer there (a concurrent change): the caller links normally.
 */
static bool
SpliceBacklink(Relation index, const HnswMetaPageData *meta, ItemPointer p,
			   ItemPointer q, ItemPointer newtid)
{
	BlockNumber blkno = ItemPointerGetBlockNumber(p);
	OffsetNumber off = ItemPointerGetOffsetNumber(p);
	Buffer		buf;
	HnswNodeHeader *node;
	ItemPointerData *list;
	int			count,
				i;
	GenericXLogState *state;
	Page		page;

	buf = ReadBuffer(index, blkno);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	node = HnswGetNode(index, BufferGetPage(buf), blkno, off, meta->dims,
					   meta->elemtype, meta->m);
	if (node->state != HNSW_NODE_LIVE)
	{
		UnlockReleaseBuffer(buf);
		return false;
	}
	count = HnswNodeCounts(node, meta->dims, meta->elemtype)[0];
	list = HnswNodeNbrs(node, meta->dims, meta->elemtype, node->level);
	for (i = 0; i < count; i++)
		if (ItemPointerEquals(&list[i], q))
			break;
	if (i == count)
	{
		UnlockReleaseBuffer(buf);
		return false;
	}
	state = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	node = (HnswNodeHeader *) PageGetItem(page, PageGetItemId(page, off));
	HnswNodeNbrs(node, meta->dims, meta->elemtype, node->level)[i] = *newtid;
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
	return true;
}

/*
 * What an insertion found before it stores its node: at each level up to
 * top, the neighbours chosen (nsel[l] in sel[l]), and the identical-vector
 * splice (README, "Duplicates"): the new node links to spliceQ in place of
 * spliceP, and spliceP will point to the new node in spliceQ's place.
 */
typedef struct InsertPlan
{
	int			top;
	HnswNbr    *sel[HNSW_MAX_LEVEL + 1];
	int			nsel[HNSW_MAX_LEVEL + 1];
	ItemPointerData spliceP;
	ItemPointerData spliceQ;
} InsertPlan;

/* An insertion's search and selection buffers, efc + 1 entries each */
typedef struct InsertSearch
{
	HnswSearch *s;
	int32	   *found;
	ItemPointerData *seeds;
	int			nseeds;
	char	   *vecbuf;
	char	  **vecs;
	float	   *dists;
	int		   *pick;
} InsertSearch;

/*
 * CollectLive
 *		After the search of a level: the results become the next level's
 *		seeds, and those live (never link to deleted nodes) are gathered
 *		with their vectors into vecs/dists/found.  Returns how many.
 */
static int
CollectLive(Relation index, const HnswMetaPageData *meta, InsertSearch *is, int n)
{
	Size		vbytes = HnswVecBytes(meta->dims, meta->elemtype);
	int			nlive = 0;
	int			i;

	is->nseeds = 0;
	for (i = 0; i < n; i++)
	{
		HnswEntry  *e = &is->s->pool[is->found[i]];
		uint8		st;

		is->seeds[is->nseeds++] = e->tid;
		if (e->ntids == 0)
			continue;
		if (!HnswReadNodeInfo(index, meta, &e->tid, 0, &st, is->vecbuf + vbytes * nlive,
							  NULL, NULL) || st != HNSW_NODE_LIVE)
			continue;
		is->vecs[nlive] = is->vecbuf + vbytes * nlive;
		is->dists[nlive] = e->dist;
		is->found[nlive] = is->found[i];
		nlive++;
	}
	return nlive;
}

/*
 * PlanSplice
 *		Identical vectors form a cycle through their level-0 links: if the
 *		new node (vec) is to link to an identical P, it links to P's
 *		identical neighbour Q instead, and P will point to it in Q's place.
 */
static void
PlanSplice(Relation index, const HnswMetaPageData *meta, const HnswDist *d,
		   InsertSearch *is, InsertPlan *plan, int k, const void *vec)
{
	Size		vbytes = HnswVecBytes(meta->dims, meta->elemtype);
	HnswNbr    *sel = plan->sel[0];
	int			i;

	for (i = 0; i < k; i++)
	{
		ItemPointerData *pl;
		char	   *qv;
		int			pc = 0,
					j;
		uint8		st;

		if (!HnswIdentical(d, is->vecs[is->pick[i]], vec))
			continue;
		plan->spliceP = sel[i].tid;
		pl = palloc(sizeof(ItemPointerData) * 2 * meta->m);
		qv = palloc(vbytes);
		if (!HnswReadNodeInfo(index, meta, &plan->spliceP, 0, &st, NULL, pl, &pc))
			pc = 0;
		for (j = 0; j < pc; j++)
		{
			int			t;

			if (!ItemPointerIsValid(&pl[j]) ||
				!HnswReadNodeInfo(index, meta, &pl[j], 0, &st, qv, NULL, NULL) ||
				st != HNSW_NODE_LIVE || !HnswIdentical(d, qv, vec))
				continue;
			plan->spliceQ = pl[j];
			for (t = 0; t < k && !ItemPointerEquals(&sel[t].tid, &plan->spliceQ); t++)
				;
			if (t == k)
				sel[i].tid = plan->spliceQ;
			break;
		}
		return;
	}
}

/*
 * PlanInsert
 *		The search of an insertion at level (its node's level): greedy
 *		descent from the entry point, then at each level from
 *		min(level, entry level) down a search with ef = efConstruction and
 *		the heuristic's choice.  Returns false if an identical node found on
 *		the top level took the heap TID instead (nothing more to do).
 */
static bool
PlanInsert(Relation index, const HnswMetaPageData *meta, const HnswDist *d,
		   const void *vec, const char *filter, ItemPointer heaptid, int level,
		   InsertPlan *plan)
{
	int			efc = meta->efConstruction;
	Size		vbytes = HnswVecBytes(meta->dims, meta->elemtype);
	InsertSearch is;
	ItemPointerData entry;
	ItemPointerData ep;
	void	   *query = palloc(HnswQueryBytes(d));
	int			l;

	is.s = HnswSearchCreate(index, d, meta->m);
	is.found = palloc(sizeof(int32) * (efc + 1));
	is.seeds = palloc(sizeof(ItemPointerData) * (efc + 1));
	is.vecbuf = palloc(vbytes * (efc + 1));
	is.vecs = palloc(sizeof(char *) * (efc + 1));
	is.dists = palloc(sizeof(float) * (efc + 1));
	is.pick = palloc(sizeof(int) * (efc + 1));

	HnswQueryFromStored(d, vec, query);
	is.s->query = query;
	ItemPointerSet(&entry, meta->entryBlkno, meta->entryOffno);
	HnswSearchGreedyDescend(is.s, &entry, meta->entryLevel, plan->top, &ep);
	is.seeds[0] = ep;
	is.nseeds = 1;

	for (l = plan->top; l >= 0; l--)
	{
		int			n,
					nlive,
					i,
					k;

		HnswSearchReset(is.s);
		for (i = 0; i < is.nseeds; i++)
			(void) HnswSearchVisit(is.s, &is.seeds[i], l, efc, true);
		HnswSearchLayer(is.s, l, efc);
		n = HnswSearchCollect(is.s, is.found, efc, false);
		nlive = CollectLive(index, meta, &is, n);
		for (i = 0; l == plan->top && i < nlive && i < 4; i++)
		{
			if (memcmp(is.vecs[i], vec, vbytes) == 0 &&
				HnswTryAddDuplicate(index, meta, &is.s->pool[is.found[i]].tid, vec, filter,
									heaptid))
				return false;
		}
		k = HnswSelectNeighbours(d, is.vecs, is.dists, nlive, HnswLevelCap(meta->m, l),
								 true, is.pick);
		plan->sel[l] = palloc(sizeof(HnswNbr) * Max(k, 1));
		for (i = 0; i < k; i++)
		{
			plan->sel[l][i].tid = is.s->pool[is.found[is.pick[i]]].tid;
			plan->sel[l][i].dist = is.dists[is.pick[i]];
		}
		plan->nsel[l] = k;
		if (l == 0 && d->metric != HNSW_METRIC_IP)
			PlanSplice(index, meta, d, &is, plan, k, vec);
		if (is.nseeds == 0)
		{
			is.seeds[0] = ep;
			is.nseeds = 1;
		}
	}
	return true;
}

/* The new node as it goes on its page, its lists from the plan */
static HnswNodeHeader *
FormInsertNode(const HnswMetaPageData *meta, const HnswDist *d, const void *vec,
			   const char *filter, ItemPointer heaptid, int level,
			   const InsertPlan *plan, Size size)
{
	HnswNodeHeader *node = palloc0(size);
	uint8	   *counts;
	ItemPointerData *nbrs;
	int			l,
				i;

	if (meta->nfilter > 0)
		memcpy((char *) node + size - HnswFilterBytes(meta->nfilter), filter,
			   HnswFilterBytes(meta->nfilter));
	node->state = HNSW_NODE_LIVE;
	node->level = level;
	node->dims = HnswNodeDims(meta->dims, meta->elemtype);
	node->ntids = 1;
	node->heaptids[0] = *heaptid;
	if (d->overflow)
		node->flags = HNSW_NODEF_OVERFLOW;	/* PlaceNode stores the reference */
	else
		memcpy(HnswNodeVector(node), vec, HnswVecBytes(meta->dims, meta->elemtype));
	/* where the lists are depends on the flags: set them first */
	counts = HnswNodeCounts(node, meta->dims, meta->elemtype);
	nbrs = HnswNodeNbrs(node, meta->dims, meta->elemtype, level);
	for (i = 0; i < HnswTotalSlots(meta->m, level); i++)
		ItemPointerSetInvalid(&nbrs[i]);
	for (l = 0; l <= level; l++)
	{
		ItemPointerData *ln = nbrs + HnswLevelStart(meta->m, l);

		counts[l] = (l <= plan->top) ? plan->nsel[l] : 0;
		for (i = 0; i < counts[l]; i++)
			ln[i] = plan->sel[l][i].tid;
	}
	return node;
}

/* Link back to the new node newtid from the neighbours it chose */
static void
LinkBack(Relation index, const HnswMetaPageData *meta, const HnswDist *d,
		 const InsertPlan *plan, int level, ItemPointer newtid, const void *vec)
{
	bool		spliced = ItemPointerIsValid(&plan->spliceP);
	int			l;

	for (l = Min(plan->top, level); l >= 0; l--)
	{
		int			i;

		for (i = 0; i < plan->nsel[l]; i++)
		{
			ItemPointer t = &plan->sel[l][i].tid;

			/* Q is linked through the splice below, P by it */
			if (l == 0 && spliced &&
				((ItemPointerIsValid(&plan->spliceQ) &&
				  ItemPointerEquals(t, unconstify(ItemPointerData *, &plan->spliceQ))) ||
				 ItemPointerEquals(t, unconstify(ItemPointerData *, &plan->spliceP))))
				continue;
			HnswAddBacklink(index, meta, d, t, l, newtid, vec, plan->sel[l][i].dist);
		}
	}
	if (spliced)
	{
		ItemPointerData p = plan->spliceP;
		ItemPointerData q = plan->spliceQ;

		if (!(ItemPointerIsValid(&q) && SpliceBacklink(index, meta, &p, &q, newtid)))
			HnswAddBacklink(index, meta, d, &p, 0, newtid, vec, 0.0f);
	}
}

/* Make newtid (at level) the entry point; the caller holds the update lock exclusively */
static void
SetEntryPoint(Relation index, ItemPointer newtid, int level)
{
	Buffer		buf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	GenericXLogState *state;
	Page		page;
	HnswMetaPage mp;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	HnswCheckMetaPage(index, BufferGetPage(buf));
	state = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	mp = HnswPageGetMeta(page);
	mp->entryBlkno = ItemPointerGetBlockNumber(newtid);
	mp->entryOffno = ItemPointerGetOffsetNumber(newtid);
	mp->entryLevel = level;
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
}

/*
 * HnswInsertOnDisk
 *		Insert one prepared element (stored form, unit length for cosine):
 *		plan its lists, store the node, link back to it.  Inserts hold the
 *		update lock shared; one that may become the entry point holds it
 *		exclusively (README, "Locking").
 */
void
HnswInsertOnDisk(Relation index, const void *vec, const char *filter,
				 ItemPointer heaptid, bool building)
{
	HnswMetaPageData meta;
	HnswDist	d;
	int			level;
	int			maxLevel;
	LOCKMODE	lockmode = ShareLock;
	InsertPlan	plan;
	Size		size;
	HnswNodeHeader *node;
	ItemPointerData newtid;

	HnswReadMeta(index, &meta);
	HnswInitDist(&d, meta.dims, meta.elemtype, meta.srcElem, meta.metric,
				 meta.storage == HNSW_STORAGE_OVERFLOW);
	maxLevel = HnswMaxLevelForFilter(meta.dims, meta.elemtype, meta.m,
									 HnswFilterBytes(meta.nfilter), d.overflow);
	if (maxLevel < 0)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("hnsw node of %u dimensions does not fit on a page", meta.dims)));
	level = HnswRandomLevel(meta.m, maxLevel);

	LockPage(index, HNSW_UPDATE_LOCK, lockmode);
	HnswReadMeta(index, &meta);
	if (meta.entryLevel < 0 || level > meta.entryLevel)
	{
		/* this insert may change the entry point: serialise it */
		UnlockPage(index, HNSW_UPDATE_LOCK, lockmode);
		lockmode = ExclusiveLock;
		LockPage(index, HNSW_UPDATE_LOCK, lockmode);
		HnswReadMeta(index, &meta);
	}

	memset(&plan, 0, sizeof(plan));
	ItemPointerSetInvalid(&plan.spliceP);
	ItemPointerSetInvalid(&plan.spliceQ);
	plan.top = Min(level, meta.entryLevel);
	if (meta.entryLevel >= 0 &&
		!PlanInsert(index, &meta, &d, vec, filter, heaptid, level, &plan))
	{
		UnlockPage(index, HNSW_UPDATE_LOCK, lockmode);
		return;					/* an identical node took the heap TID */
	}

	size = HnswNodeSize(meta.dims, meta.elemtype, meta.m, level, d.overflow) +
		HnswFilterBytes(meta.nfilter);
	node = FormInsertNode(&meta, &d, vec, filter, heaptid, level, &plan, size);
	newtid = PlaceNode(index, &meta, &d, node, size, vec);
	LinkBack(index, &meta, &d, &plan, level, &newtid, vec);

	if (meta.entryLevel < 0 || level > meta.entryLevel)
	{
		Assert(lockmode == ExclusiveLock);
		SetEntryPoint(index, &newtid, level);
	}
	UnlockPage(index, HNSW_UPDATE_LOCK, lockmode);
}

bool
hnswinsert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid,
		   Relation heap, IndexUniqueCheck checkUnique, bool indexUnchanged,
		   IndexInfo *indexInfo)
{
	MemoryContext cxt;
	MemoryContext old;
	HnswMetaPageData meta;
	HnswDist	d;
	void	   *vec;
	char	   *filter = NULL;

	if (isnull[0])
		return false;

	cxt = AllocSetContextCreate(CurrentMemoryContext, "hnsw insert",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);

	/* the metapage, not the reloption, says how vectors are stored */
	HnswReadMeta(index, &meta);
	HnswInitDist(&d, meta.dims, meta.elemtype, meta.srcElem, meta.metric, false);
	vec = palloc(d.vbytes);
	if (HnswFilterColumns(index) > 0)
	{
		filter = palloc(HnswFilterBytes(HnswFilterColumns(index)));
		HnswFormFilter(index, values, isnull, filter);
	}
	if (HnswPrepareValue(&d, values[0], vec))
	{
		HnswInsertOnDisk(index, vec, filter, heap_tid, false);
		/* after the last page change: retires graph copies (hnswcache.c) */
		HnswBumpChangeCount(index);
	}

	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return false;
}
