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
#include "hnswinsert.h"

/* How many pages an insert scans for a slot freed by vacuum. */
#define HNSW_FREE_SCAN_PAGES	32

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
HnswReadNodeInfo(Relation index, const HnswLayout *lay, ItemPointer tid,
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
	node = HnswLayoutGetNode(index, BufferGetPage(buf), blkno, off, lay);
	*state = node->state;
	if (node->state != HNSW_NODE_FREE && node->level >= level)
	{
		if (vec)
			memcpy(vec, HnswNodeVec(index, &lay->d, node, blkno, off), lay->d.vbytes);
		if (nbrs)
		{
			*count = HnswLayoutCounts(lay, node)[level];
			memcpy(nbrs, HnswLayoutList(lay, node, level),
				   sizeof(ItemPointerData) * *count);
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
FinishPlace(Relation index, const HnswLayout *lay, GenericXLogState *state,
			Buffer buf, ItemPointer tid, const char *payload)
{
	HnswMapAdd	madd;

	if (lay->nfilter > 0)
		HnswMapAppend(index, state, tid, payload, &madd);
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
	if (lay->nfilter > 0)
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
PlaceInFreeSlot(Relation index, const HnswMetaPageData *meta, const HnswLayout *lay,
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
			n = HnswLayoutGetNode(index, page, blkno, off, lay);
			if (n->state != HNSW_NODE_FREE)
				continue;
			if (firstSeen == InvalidBlockNumber)
				firstSeen = blkno;
			if (ItemIdGetLength(iid) < size)
				continue;		/* too small for this node's level */

			if (lay->d.overflow)
			{
				HnswOvflRef ref;

				if (!HnswNodeIsOvf(n))
					HnswCorrupt(index, blkno, off, "node vector storage does not match the index");
				memcpy(&ref, HnswNodeVector(n), sizeof(HnswOvflRef));
				HnswOvflRewrite(index, &lay->d, &ref, vec, blkno, off);
				memcpy(HnswNodeVector(node), &ref, sizeof(HnswOvflRef));
			}
			state = GenericXLogStart(index);
			page = GenericXLogRegisterBuffer(state, buf, 0);
			iid = PageGetItemId(page, off);
			n = (HnswNodeHeader *) PageGetItem(page, iid);
			memset(n, 0, ItemIdGetLength(iid));
			memcpy(n, node, size);
			ItemPointerSet(result, blkno, off);
			FinishPlace(index, lay, state, buf, result, payload);
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
PlaceOnInsertPage(Relation index, const HnswMetaPageData *meta, const HnswLayout *lay,
				  HnswNodeHeader *node, Size size, const char *payload,
				  BlockNumber nblocks, ItemPointer result)
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
	FinishPlace(index, lay, state, buf, result, payload);
	return true;
}

/* Store the node on a new page, which becomes the insert page */
static void
PlaceOnNewPage(Relation index, const HnswLayout *lay, HnswNodeHeader *node,
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
	FinishPlace(index, lay, state, buf, result, payload);
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
PlaceNode(Relation index, const HnswMetaPageData *meta, const HnswLayout *lay,
		  HnswNodeHeader *node, Size size, const void *vec)
{
	ItemPointerData result;
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	const char *payload = (const char *) node + size - lay->fbytes;

	if (meta->freeBlkno != InvalidBlockNumber && meta->freeBlkno < nblocks &&
		PlaceInFreeSlot(index, meta, lay, node, size, vec, payload, nblocks, &result))
		return result;

	if (lay->d.overflow)
	{
		HnswOvflRef ref;

		HnswOvflWriteNew(index, &lay->d, vec, &ref);
		memcpy(HnswNodeVector(node), &ref, sizeof(HnswOvflRef));
		nblocks = RelationGetNumberOfBlocks(index);
	}
	if (!PlaceOnInsertPage(index, meta, lay, node, size, payload, nblocks, &result))
		PlaceOnNewPage(index, lay, node, size, payload, &result);
	return result;
}

/*
 * HnswTryAddDuplicate
 *		Add a heap TID to the live node at tid if it holds exactly this
 *		vector and has room.  Identical vectors share one node, so that many
 *		duplicates do not crowd each other out of neighbour lists and leave
 *		nodes unreachable.
 */
bool
HnswTryAddDuplicate(Relation index, const HnswLayout *lay, ItemPointer tid,
					const void *vec, const char *filter, ItemPointer heaptid)
{
	BlockNumber blkno = ItemPointerGetBlockNumber(tid);
	OffsetNumber off = ItemPointerGetOffsetNumber(tid);
	Buffer		buf;
	HnswNodeHeader *node;
	GenericXLogState *state;
	Page		page;

	buf = ReadBuffer(index, blkno);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	node = HnswLayoutGetNode(index, BufferGetPage(buf), blkno, off, lay);
	if (node->state != HNSW_NODE_LIVE || node->ntids >= HNSW_HEAPTIDS ||
		memcmp(HnswNodeVec(index, &lay->d, node, blkno, off), vec, lay->d.vbytes) != 0 ||
		(lay->nfilter > 0 &&
		 memcmp(HnswNodeFilter(index, BufferGetPage(buf), blkno, off, node, lay),
				filter, lay->fbytes) != 0))
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
SpliceBacklink(Relation index, const HnswLayout *lay, ItemPointer p,
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
	node = HnswLayoutGetNode(index, BufferGetPage(buf), blkno, off, lay);
	if (node->state != HNSW_NODE_LIVE)
	{
		UnlockReleaseBuffer(buf);
		return false;
	}
	count = HnswLayoutCounts(lay, node)[0];
	list = HnswLayoutList(lay, node, 0);
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
	HnswLayoutList(lay, node, 0)[i] = *newtid;
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
	return true;
}

/*
 * An insertion into the index on disk: the state of its HnswGraphOps
 * (hnswinsert.h).  Nodes are HnswTidRef of their locations; the new node
 * has none until PlaceNode stores it.
 */
typedef struct DiskInsert
{
	Relation	index;
	const HnswMetaPageData *meta;	/* entry point, placement hints */
	const HnswLayout *lay;
	const void *vec;			/* the new node's, stored form */
	const char *filter;			/* its filter payload, or NULL */
	ItemPointer heaptid;
	int			level;
	LOCKMODE	lockmode;		/* of HNSW_UPDATE_LOCK */
	/* the search of the levels */
	HnswSearch *s;
	int32	   *found;			/* pool entries, efc + 1 */
	ItemPointerData *seeds;		/* a level's results: the next one's seeds */
	int			nseeds;
	ItemPointerData ep;			/* where the descent ended */
	char	   *vecbuf;			/* the candidates' vectors, efc + 1 */
	ItemPointerData *tids;		/* a list in TIDs, 2m */
} DiskInsert;

static inline ItemPointerData
RefTid(HnswRef r)
{
	ItemPointerData tid;

	HnswRefTid(r, &tid);
	return tid;
}

static bool
DiskEntry(void *g, HnswRef self, HnswRef *ep, int *epLevel)
{
	const HnswMetaPageData *meta = ((DiskInsert *) g)->meta;
	ItemPointerData entry;

	if (meta->entryLevel < 0)
		return false;
	ItemPointerSet(&entry, meta->entryBlkno, meta->entryOffno);
	*ep = HnswTidRef(&entry);
	*epLevel = meta->entryLevel;
	return true;
}

/* The search's buffers, then the greedy descent on the query form of q */
static void
DiskDescend(void *g, const char *q, HnswRef ep, int epLevel, int top)
{
	DiskInsert *di = (DiskInsert *) g;
	int			efc = di->lay->efConstruction;
	void	   *query = palloc(HnswQueryBytes(&di->lay->d));
	ItemPointerData entry = RefTid(ep);

	di->s = HnswSearchCreate(di->index, di->lay);
	di->found = palloc(sizeof(int32) * (efc + 1));
	di->seeds = palloc(sizeof(ItemPointerData) * (efc + 1));
	di->vecbuf = palloc(mul_size(di->lay->d.vbytes, efc + 1));
	HnswQueryFromStored(&di->lay->d, q, query);
	di->s->query = query;
	HnswSearchGreedyDescend(di->s, &entry, epLevel, top, &di->ep);
	di->seeds[0] = di->ep;
	di->nseeds = 1;
}

/*
 * DiskSearch
 *		A level's search from the seeds: the results become the next
 *		level's seeds (the descent's end if there are none), and those
 *		live (never link to deleted nodes) the candidates, with their
 *		vectors.
 */
static int
DiskSearch(void *g, HnswInsertWork *w, HnswRef self, int level)
{
	DiskInsert *di = (DiskInsert *) g;
	int			efc = di->lay->efConstruction;
	Size		vbytes = di->lay->d.vbytes;
	int			n,
				nlive = 0,
				i;

	HnswSearchReset(di->s);
	for (i = 0; i < di->nseeds; i++)
		(void) HnswSearchVisit(di->s, &di->seeds[i], level, efc, true);
	HnswSearchLayer(di->s, level, efc);
	n = HnswSearchCollect(di->s, di->found, efc, false);
	di->nseeds = 0;
	for (i = 0; i < n; i++)
	{
		HnswEntry  *e = &di->s->pool[di->found[i]];
		uint8		st;

		di->seeds[di->nseeds++] = e->tid;
		if (e->ntids == 0)
			continue;
		if (!HnswReadNodeInfo(di->index, di->lay, &e->tid, 0, &st,
							  di->vecbuf + vbytes * nlive, NULL, NULL) ||
			st != HNSW_NODE_LIVE)
			continue;
		w->ref[nlive] = HnswTidRef(&e->tid);
		w->vec[nlive] = di->vecbuf + vbytes * nlive;
		w->dist[nlive] = e->dist;
		nlive++;
	}
	if (di->nseeds == 0)
		di->seeds[di->nseeds++] = di->ep;
	return nlive;
}

static bool
DiskTakeDuplicate(void *g, HnswRef dup, HnswRef self)
{
	DiskInsert *di = (DiskInsert *) g;
	ItemPointerData tid = RefTid(dup);

	return HnswTryAddDuplicate(di->index, di->lay, &tid, di->vec, di->filter,
							   di->heaptid);
}

static int
DiskReadList(void *g, HnswRef n, int level, HnswRef *out, char *vecbuf,
			 const char **vec)
{
	DiskInsert *di = (DiskInsert *) g;
	ItemPointerData tid = RefTid(n);
	uint8		st;
	int			cnt = 0,
				i;

	if (!HnswReadNodeInfo(di->index, di->lay, &tid, level, &st, vec ? vecbuf : NULL,
						  di->tids, &cnt))
		return -1;
	for (i = 0; i < cnt; i++)
		out[i] = HnswTidRef(&di->tids[i]);
	if (vec)
		*vec = vecbuf;
	return cnt;
}

static const char *
DiskReadVec(void *g, HnswRef n, int level, char *buf)
{
	DiskInsert *di = (DiskInsert *) g;
	ItemPointerData tid = RefTid(n);
	uint8		st;

	if (!ItemPointerIsValid(&tid) ||
		!HnswReadNodeInfo(di->index, di->lay, &tid, level, &st, buf, NULL, NULL) ||
		st != HNSW_NODE_LIVE)
		return NULL;
	return buf;
}

/*
 * DiskWriteList
 *		Under the page's exclusive lock, rewrite the list (one WAL record)
 *		if it is still the one read.
 */
static int
DiskWriteList(void *g, HnswRef n, int level, const HnswRef *old, int cnt,
			  const HnswRef *upd, int nupd)
{
	DiskInsert *di = (DiskInsert *) g;
	ItemPointerData tid = RefTid(n);
	BlockNumber blkno = ItemPointerGetBlockNumber(&tid);
	OffsetNumber off = ItemPointerGetOffsetNumber(&tid);
	Buffer		buf = ReadBuffer(di->index, blkno);
	HnswNodeHeader *node;
	ItemPointerData *list;
	int			i;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	node = HnswLayoutGetNode(di->index, BufferGetPage(buf), blkno, off, di->lay);
	if (node->state == HNSW_NODE_FREE || node->level < level)
	{
		UnlockReleaseBuffer(buf);
		return -1;
	}
	list = HnswLayoutList(di->lay, node, level);
	for (i = 0; i < cnt && HnswTidRef(&list[i]) == old[i]; i++)
		;
	if (HnswLayoutCounts(di->lay, node)[level] != cnt || i < cnt)
	{
		UnlockReleaseBuffer(buf);
		return 0;				/* changed under us: retry */
	}
	for (i = 0; i < nupd; i++)
		HnswRefTid(upd[i], &di->tids[i]);
	HnswWriteNbrList(di->index, buf, off, di->lay, level, di->tids, nupd);
	UnlockReleaseBuffer(buf);
	return 1;
}

static bool
DiskReplace(void *g, HnswRef p, HnswRef q, HnswRef self)
{
	DiskInsert *di = (DiskInsert *) g;
	ItemPointerData pt = RefTid(p);
	ItemPointerData qt = RefTid(q);
	ItemPointerData st = RefTid(self);

	return SpliceBacklink(di->index, di->lay, &pt, &qt, &st);
}

/* The new node as it goes on its page, its lists from the plan */
static HnswNodeHeader *
FormInsertNode(const DiskInsert *di, const HnswInsertWork *w, Size size)
{
	const HnswLayout *lay = di->lay;
	HnswNodeHeader *node = palloc0(size);
	uint8	   *counts;
	int			l,
				i;

	if (lay->nfilter > 0)
		memcpy((char *) node + size - lay->fbytes, di->filter, lay->fbytes);
	node->state = HNSW_NODE_LIVE;
	node->level = di->level;
	node->dims = HnswNodeDims(lay->d.dims, lay->d.elemtype);
	node->ntids = 1;
	node->heaptids[0] = *di->heaptid;
	if (lay->d.overflow)
		node->flags = HNSW_NODEF_OVERFLOW;	/* PlaceNode stores the reference */
	else
		memcpy(HnswNodeVector(node), di->vec, lay->d.vbytes);
	/* where the lists are depends on the flags: set them first */
	counts = HnswLayoutCounts(lay, node);
	for (l = 0; l <= di->level; l++)
	{
		ItemPointerData *ln = HnswLayoutList(lay, node, l);

		for (i = 0; i < HnswLevelCap(lay->m, l); i++)
			ItemPointerSetInvalid(&ln[i]);

		counts[l] = (l <= w->top) ? w->nsel[l] : 0;
		for (i = 0; i < counts[l]; i++)
			HnswRefTid(HnswPlanList(w, l)[i], &ln[i]);
	}
	return node;
}

static HnswRef
DiskPlace(void *g, const HnswInsertWork *w, HnswRef self)
{
	DiskInsert *di = (DiskInsert *) g;
	Size		size = HnswLayoutNodeSize(di->lay, di->level);
	HnswNodeHeader *node = FormInsertNode(di, w, size);
	ItemPointerData newtid = PlaceNode(di->index, di->meta, di->lay, node, size,
									   di->vec);

	return HnswTidRef(&newtid);
}

/* Make the new node the entry point; the update lock is held exclusively */
static void
DiskRaise(void *g, HnswRef self)
{
	DiskInsert *di = (DiskInsert *) g;
	ItemPointerData newtid = RefTid(self);
	Buffer		buf = ReadBuffer(di->index, HNSW_METAPAGE_BLKNO);
	GenericXLogState *state;
	Page		page;
	HnswMetaPage mp;

	Assert(di->lockmode == ExclusiveLock);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	HnswCheckMetaPage(di->index, BufferGetPage(buf));
	state = GenericXLogStart(di->index);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	mp = HnswPageGetMeta(page);
	mp->entryBlkno = ItemPointerGetBlockNumber(&newtid);
	mp->entryOffno = ItemPointerGetOffsetNumber(&newtid);
	mp->entryLevel = di->level;
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
}

static const HnswGraphOps DiskGraphOps = {
	DiskEntry, DiskDescend, DiskSearch, DiskTakeDuplicate, DiskReadList,
	DiskReadVec, DiskWriteList, DiskReplace, DiskPlace, DiskRaise
};

/*
 * HnswInsertOnDisk
 *		Insert one prepared element (stored form, unit length for cosine)
 *		with the insertion of hnswinsert.h: plan its lists, store the node,
 *		link back to it.  Inserts hold the update lock shared; one that may
 *		become the entry point holds it exclusively (README, "Insert and
 *		lock order").
 */
void
HnswInsertOnDisk(Relation index, const void *vec, const char *filter,
				 ItemPointer heaptid, bool building)
{
	HnswMetaPageData meta;
	HnswLayout	lay;
	int			maxLevel;
	DiskInsert	di;
	HnswInsertWork w;

	HnswReadMeta(index, &meta);
	HnswLayoutFromMeta(&lay, &meta);
	maxLevel = HnswLayoutMaxLevel(&lay);
	if (maxLevel < 0)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("hnsw node of %u dimensions does not fit on a page", meta.dims)));
	memset(&di, 0, sizeof(di));
	di.level = HnswRandomLevel(lay.m, maxLevel);

	di.lockmode = ShareLock;
	LockPage(index, HNSW_UPDATE_LOCK, di.lockmode);
	HnswReadMeta(index, &meta);
	if (meta.entryLevel < 0 || di.level > meta.entryLevel)
	{
		/* this insert may change the entry point: serialise it */
		UnlockPage(index, HNSW_UPDATE_LOCK, di.lockmode);
		di.lockmode = ExclusiveLock;
		LockPage(index, HNSW_UPDATE_LOCK, di.lockmode);
		HnswReadMeta(index, &meta);
	}

	di.index = index;
	di.meta = &meta;
	di.lay = &lay;
	di.vec = vec;
	di.filter = filter;
	di.heaptid = heaptid;
	di.tids = palloc(sizeof(ItemPointerData) * 2 * lay.m);
	HnswInsertWorkInit(&w, &lay, 3, true);
	(void) HnswInsertNode(&DiskGraphOps, &di, &w, HNSW_NOREF, vec, di.level);
	UnlockPage(index, HNSW_UPDATE_LOCK, di.lockmode);
}

bool
hnswinsert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid,
		   Relation heap, IndexUniqueCheck checkUnique, bool indexUnchanged,
		   IndexInfo *indexInfo)
{
	MemoryContext cxt;
	MemoryContext old;
	HnswMetaPageData meta;
	HnswLayout	lay;
	void	   *vec;
	char	   *filter = NULL;

	if (isnull[0])
		return false;

	cxt = AllocSetContextCreate(CurrentMemoryContext, "hnsw insert",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);

	/* the metapage, not the reloption, says how vectors are stored */
	HnswReadMeta(index, &meta);
	HnswLayoutFromMeta(&lay, &meta);
	vec = palloc(lay.d.vbytes);
	if (HnswFilterColumns(index) > 0)
	{
		filter = palloc(HnswFilterBytes(HnswFilterColumns(index)));
		HnswFormFilter(index, values, isnull, filter);
	}
	if (HnswPrepareValue(&lay.d, values[0], vec))
	{
		HnswInsertOnDisk(index, vec, filter, heap_tid, false);
		/* after the last page change: retires graph copies (hnswcache.c) */
		HnswBumpChangeCount(index);
	}

	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return false;
}
