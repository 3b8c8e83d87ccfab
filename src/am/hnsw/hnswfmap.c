/*-------------------------------------------------------------------------
 *
 * hnswfmap.c
 *	  Filter map of hnsw indexes: build, insert, vacuum and the map pass.
 *
 * Every live node of an index with filter columns has exactly one map
 * entry (node TID + a copy of its filter payload) on a map page.  Map pages
 * form a chain from the metapage in increasing block order (new map pages
 * are always added at the end of the relation and linked at the tail).
 *
 * Invariants (README, "Filter map"):
 * - an insert writes its node and the node's map entry in one generic WAL
 *   record (node page, map page, and when the map grows the new map page
 *   and the metapage: at most 4 pages), so a live node never lacks its
 *   entry, on the primary, after crash recovery, or on a standby;
 * - vacuum removes the entries of DELETED nodes before it makes them FREE,
 *   so a slot reused by an insert never has a stale entry;
 * - entries never move between pages (vacuum compacts a page in place
 *   under its exclusive lock), so a scan that reads the chain page by page
 *   sees every entry that existed before it started.
 *
 * The map pass reads the chain, evaluates the filter on each entry, then
 * visits the matching nodes in block order (re-checking state and payload
 * on the node itself), computes their distances and sorts them.  Asked
 * with tryOnly, it gives up (returns NULL) as soon as the matches are too
 * many for the pass to beat a graph walk.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/generic_xlog.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "hnswfmap.h"

/* ---- metapage and page checks ---- */

void
HnswMapInitMeta(HnswMetaPage meta, int nfilter)
{
	meta->nfilter = nfilter;
	meta->mapHead = InvalidBlockNumber;
	meta->mapTail = InvalidBlockNumber;
	meta->mapFree = InvalidBlockNumber;
	meta->mapPages = 0;
	meta->mapEntrySize = nfilter > 0 ? HnswMapEntrySize(nfilter) : 0;
	meta->unused5 = 0;
}

void
HnswMapCheckMeta(Relation index, const HnswMetaPageData *meta)
{
	if (meta->nfilter > HNSW_MAX_FILTER_COLS ||
		meta->mapEntrySize != (meta->nfilter > 0 ? HnswMapEntrySize(meta->nfilter) : 0) ||
		(meta->mapHead == InvalidBlockNumber) != (meta->mapPages == 0) ||
		(meta->nfilter == 0 && meta->mapHead != InvalidBlockNumber) ||
		meta->mapHead == HNSW_METAPAGE_BLKNO)
		HnswCorrupt(index, HNSW_METAPAGE_BLKNO, 0, "metapage filter map fields out of range");
}

/*
 * HnswMapPageProblem
 *		What is wrong with a map page, or NULL.  Entries' node TIDs are
 *		checked by their users.
 */
const char *
HnswMapPageProblem(Page page, BlockNumber blkno, Size entsize, int *badEntry)
{
	PageHeader	ph = (PageHeader) page;
	HnswMapPageHeader *hdr;

	*badEntry = 0;
	if (PageIsNew(page))
		return "map page is uninitialized";
	if (PageGetSpecialSize(page) != MAXALIGN(sizeof(HnswPageOpaqueData)) ||
		ph->pd_special != BLCKSZ - MAXALIGN(sizeof(HnswPageOpaqueData)))
		return "map page has a bad special space";
	if (HnswPageGetOpaque(page)->page_id != HNSW_PAGE_ID)
		return "map page has a bad page id";
	if (HnswPageGetOpaque(page)->flags != HNSW_PAGE_MAP)
		return "not an hnsw map page";
	if (ph->pd_upper != ph->pd_special || ph->pd_lower < HnswMapHeaderEnd() ||
		ph->pd_lower > ph->pd_upper)
		return "map page bounds out of range";
	hdr = HnswMapGetHeader(page);
	if (hdr->entsize != entsize)
		return "map page entry size does not match the index";
	if (hdr->nentries > HnswMapCapacity(entsize) ||
		ph->pd_lower != HnswMapHeaderEnd() + (Size) hdr->nentries * entsize)
		return "map page entry count does not match its bounds";
	if (hdr->next != InvalidBlockNumber && hdr->next <= blkno)
		return "map page links to a lower block";
	return NULL;
}

void
HnswMapCheckPage(Relation index, Page page, BlockNumber blkno, Size entsize)
{
	int			bad;
	const char *problem = HnswMapPageProblem(page, blkno, entsize, &bad);

	if (problem)
		HnswCorrupt(index, blkno, bad, problem);
}

static void
MapInitPage(Page page, Size entsize)
{
	HnswMapPageHeader *hdr;

	HnswInitPage(page, HNSW_PAGE_MAP);
	hdr = HnswMapGetHeader(page);
	hdr->next = InvalidBlockNumber;
	hdr->nentries = 0;
	hdr->entsize = entsize;
	((PageHeader) page)->pd_lower = HnswMapHeaderEnd();
}

/* Append an entry to a page known to have room. */
static void
MapPut(Page page, ItemPointer nodetid, const char *payload)
{
	HnswMapPageHeader *hdr = HnswMapGetHeader(page);
	char	   *dst = (char *) page + ((PageHeader) page)->pd_lower;

	memcpy(dst, nodetid, HNSW_MAP_TID_BYTES);
	memcpy(dst + HNSW_MAP_TID_BYTES, payload, hdr->entsize - HNSW_MAP_TID_BYTES);
	hdr->nentries++;
	((PageHeader) page)->pd_lower += hdr->entsize;
}

static Buffer
MapNewBuffer(Relation index)
{
	Buffer		buf;

	LockRelationForExtension(index, ExclusiveLock);
	buf = ReadBufferExtended(index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, NULL);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	UnlockRelationForExtension(index, ExclusiveLock);
	return buf;
}

/* ---- build ---- */

void
HnswMapWriterStart(HnswMapWriter *w, Relation index, int nfilter)
{
	memset(w, 0, sizeof(HnswMapWriter));
	w->index = index;
	w->entsize = HnswMapEntrySize(nfilter);
	w->buf = InvalidBuffer;
	w->head = InvalidBlockNumber;
	w->tail = InvalidBlockNumber;
}

/*
 * HnswMapWriterAdd
 *		Append one entry, starting a new page at the end of the relation
 *		when the current one is full.  Pages are written through shared
 *		buffers without WAL; the build logs the whole relation at the end.
 */
void
HnswMapWriterAdd(HnswMapWriter *w, ItemPointer nodetid, const char *payload)
{
	if (!BufferIsValid(w->buf) ||
		HnswMapGetHeader(w->page)->nentries >= HnswMapCapacity(w->entsize))
	{
		Buffer		nbuf = MapNewBuffer(w->index);
		Page		npage = BufferGetPage(nbuf);

		MapInitPage(npage, w->entsize);
		if (BufferIsValid(w->buf))
		{
			HnswMapGetHeader(w->page)->next = BufferGetBlockNumber(nbuf);
			MarkBufferDirty(w->buf);
			UnlockReleaseBuffer(w->buf);
		}
		else
			w->head = BufferGetBlockNumber(nbuf);
		w->buf = nbuf;
		w->page = npage;
		w->tail = BufferGetBlockNumber(nbuf);
		w->npages++;
	}
	MapPut(w->page, nodetid, payload);
}

void
HnswMapWriterFinish(HnswMapWriter *w, HnswMetaPage meta)
{
	if (BufferIsValid(w->buf))
	{
		MarkBufferDirty(w->buf);
		UnlockReleaseBuffer(w->buf);
		w->buf = InvalidBuffer;
	}
	meta->mapHead = w->head;
	meta->mapTail = w->tail;
	meta->mapFree = InvalidBlockNumber;
	meta->mapPages = w->npages;
}

/* ---- insert ---- */

/*
 * First map page of an index: under the metapage's exclusive lock, so two
 * inserters cannot both create one.  False if another one did meanwhile.
 */
static bool
MapCreateFirst(Relation index, GenericXLogState *state, Size entsize,
			   ItemPointer nodetid, const char *payload, HnswMapAdd *add)
{
	Buffer		metabuf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	Buffer		nbuf;
	Page		page;
	HnswMetaPage mp;

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	HnswCheckMetaPage(index, BufferGetPage(metabuf));
	if (HnswPageGetMeta(BufferGetPage(metabuf))->mapHead != InvalidBlockNumber)
	{
		UnlockReleaseBuffer(metabuf);
		return false;
	}
	/* a new page is private to us: locking it under the metapage is safe */
	nbuf = MapNewBuffer(index);
	page = GenericXLogRegisterBuffer(state, nbuf, GENERIC_XLOG_FULL_IMAGE);
	MapInitPage(page, entsize);
	MapPut(page, nodetid, payload);
	page = GenericXLogRegisterBuffer(state, metabuf, 0);
	mp = HnswPageGetMeta(page);
	mp->mapHead = BufferGetBlockNumber(nbuf);
	mp->mapTail = BufferGetBlockNumber(nbuf);
	mp->mapFree = InvalidBlockNumber;
	mp->mapPages = 1;
	add->bufs[add->nbufs++] = nbuf;
	add->bufs[add->nbufs++] = metabuf;
	add->oldFree = add->newFree = InvalidBlockNumber;	/* nothing to publish */
	return true;
}

/*
 * The tail page (tailbuf, locked exclusively, full) gets a successor:
 * tail, new page and metapage join the caller's record.
 */
static void
MapExtend(Relation index, GenericXLogState *state, Buffer tailbuf, Size entsize,
		  ItemPointer nodetid, const char *payload, HnswMapAdd *add)
{
	Buffer		nbuf = MapNewBuffer(index);
	Buffer		metabuf;
	Page		page;
	HnswMetaPage mp;
	BlockNumber nblk = BufferGetBlockNumber(nbuf);

	metabuf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	HnswCheckMetaPage(index, BufferGetPage(metabuf));

	page = GenericXLogRegisterBuffer(state, tailbuf, 0);
	HnswMapGetHeader(page)->next = nblk;
	page = GenericXLogRegisterBuffer(state, nbuf, GENERIC_XLOG_FULL_IMAGE);
	MapInitPage(page, entsize);
	MapPut(page, nodetid, payload);
	page = GenericXLogRegisterBuffer(state, metabuf, 0);
	mp = HnswPageGetMeta(page);
	mp->mapTail = nblk;
	mp->mapPages++;
	/* the pages we passed were full: the free hint moves on */
	if (mp->mapFree == add->oldFree)
		mp->mapFree = add->newFree;
	add->bufs[add->nbufs++] = tailbuf;
	add->bufs[add->nbufs++] = nbuf;
	add->bufs[add->nbufs++] = metabuf;
	add->oldFree = add->newFree = InvalidBlockNumber;	/* published */
}

/*
 * HnswMapAppend
 *		Add the entry of a node the caller is writing: the caller holds the
 *		node's page exclusively and has it registered in state; the map
 *		page(s) join the same record, so node and entry appear together.
 *		Room is looked for from the metapage's free hint (space left by
 *		vacuum) for a few pages, then at the tail; a full tail gets a new
 *		page.  After GenericXLogFinish the caller calls HnswMapAppendDone.
 *
 *		Lock order: node page, then map pages one at a time (or the tail
 *		and then a new page), then the metapage.  Nothing waits for a node
 *		page while holding a map page.
 */
void
HnswMapAppend(Relation index, GenericXLogState *state, ItemPointer nodetid,
			  const char *payload, HnswMapAdd *add)
{
	HnswMetaPageData meta;
	Size		entsize;
	int			cap;
	BlockNumber blk;
	bool		fromFree;
	int			steps = 0;

	memset(add, 0, sizeof(HnswMapAdd));
	add->oldFree = add->newFree = InvalidBlockNumber;
	HnswReadMeta(index, &meta);
	entsize = meta.mapEntrySize;
	if (meta.nfilter == 0 || entsize == 0)
		elog(ERROR, "hnsw filter map append on an index without filter columns");
	cap = HnswMapCapacity(entsize);
	while (meta.mapHead == InvalidBlockNumber)
	{
		if (MapCreateFirst(index, state, entsize, nodetid, payload, add))
			return;
		HnswReadMeta(index, &meta);
	}

	add->oldFree = meta.mapFree;
	fromFree = meta.mapFree != InvalidBlockNumber && meta.mapFree >= meta.mapHead;
	if (fromFree)
		blk = meta.mapFree;
	else if (meta.mapTail != InvalidBlockNumber && meta.mapTail >= meta.mapHead)
		blk = meta.mapTail;
	else
		blk = meta.mapHead;

	for (;;)
	{
		Buffer		buf;
		Page		page;
		HnswMapPageHeader *hdr;
		BlockNumber next;

		if (blk >= RelationGetNumberOfBlocks(index))
			HnswCorrupt(index, HNSW_METAPAGE_BLKNO, 0, "filter map page beyond the end of the index");
		buf = ReadBuffer(index, blk);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		page = BufferGetPage(buf);
		HnswMapCheckPage(index, page, blk, entsize);
		hdr = HnswMapGetHeader(page);
		if (hdr->nentries < cap)
		{
			page = GenericXLogRegisterBuffer(state, buf, 0);
			MapPut(page, nodetid, payload);
			add->bufs[add->nbufs++] = buf;
			if (fromFree)
				add->newFree = blk;
			return;
		}
		next = hdr->next;
		if (next == InvalidBlockNumber)
		{
			MapExtend(index, state, buf, entsize, nodetid, payload, add);
			return;
		}
		UnlockReleaseBuffer(buf);
		if (fromFree && ++steps >= HNSW_MAP_FREE_SCAN_PAGES)
		{
			/* pages before next are full; the rest waits for later inserts */
			add->newFree = next;
			fromFree = false;
			if (meta.mapTail != InvalidBlockNumber && meta.mapTail > next)
			{
				blk = meta.mapTail;
				continue;
			}
		}
		blk = next;
	}
}

/*
 * HnswMapAppendDone
 *		Release the map pages after the caller's record, then move the
 *		free hint if the search for room passed full pages (only if no one
 *		changed it meanwhile: vacuum may have lowered it).
 */
void
HnswMapAppendDone(Relation index, HnswMapAdd *add)
{
	int			i;

	for (i = 0; i < add->nbufs; i++)
		UnlockReleaseBuffer(add->bufs[i]);
	add->nbufs = 0;
	if (add->newFree != add->oldFree)
	{
		Buffer		buf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
		HnswMetaPage mp;

		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		HnswCheckMetaPage(index, BufferGetPage(buf));
		mp = HnswPageGetMeta(BufferGetPage(buf));
		if (mp->mapFree == add->oldFree)
		{
			GenericXLogState *state = GenericXLogStart(index);
			Page		page = GenericXLogRegisterBuffer(state, buf, 0);

			HnswPageGetMeta(page)->mapFree = add->newFree;
			GenericXLogFinish(state);
		}
		UnlockReleaseBuffer(buf);
	}
}

/* ---- vacuum ---- */

/*
 * HnswMapVacuum
 *		Remove the entries of deleted nodes from every map page (compacting
 *		each page in place: entries never move between pages), then point
 *		the free hint at the first page with room.  Called while the nodes
 *		are DELETED, before they become FREE and reusable.
 */
void
HnswMapVacuum(Relation index, BufferAccessStrategy strategy, HnswMapDeadFn isdead,
			  void *arg)
{
	HnswMetaPageData meta;
	BlockNumber blk;
	BlockNumber firstRoom = InvalidBlockNumber;
	Size		entsize;
	int			cap;

	HnswReadMeta(index, &meta);
	if (meta.nfilter == 0 || meta.mapHead == InvalidBlockNumber)
		return;
	entsize = meta.mapEntrySize;
	cap = HnswMapCapacity(entsize);

	for (blk = meta.mapHead; blk != InvalidBlockNumber;)
	{
		Buffer		buf;
		Page		page;
		HnswMapPageHeader *hdr;
		BlockNumber next;
		int			i,
					ndead = 0;

		vacuum_delay_point();
		if (blk >= RelationGetNumberOfBlocks(index))
			HnswCorrupt(index, blk, 0, "filter map link beyond the end of the index");
		buf = ReadBufferExtended(index, MAIN_FORKNUM, blk, RBM_NORMAL, strategy);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		page = BufferGetPage(buf);
		HnswMapCheckPage(index, page, blk, entsize);
		hdr = HnswMapGetHeader(page);
		for (i = 0; i < hdr->nentries; i++)
		{
			ItemPointerData tid;

			memcpy(&tid, HnswMapEntries(page) + (Size) i * entsize, HNSW_MAP_TID_BYTES);
			if (isdead(arg, &tid))
				ndead++;
		}
		if (ndead > 0)
		{
			GenericXLogState *state = GenericXLogStart(index);
			char	   *ents;
			int			j = 0;

			page = GenericXLogRegisterBuffer(state, buf, 0);
			hdr = HnswMapGetHeader(page);
			ents = HnswMapEntries(page);
			for (i = 0; i < hdr->nentries; i++)
			{
				ItemPointerData tid;

				memcpy(&tid, ents + (Size) i * entsize, HNSW_MAP_TID_BYTES);
				if (isdead(arg, &tid))
					continue;
				if (j != i)
					memmove(ents + (Size) j * entsize, ents + (Size) i * entsize, entsize);
				j++;
			}
			hdr->nentries = j;
			((PageHeader) page)->pd_lower = HnswMapHeaderEnd() + (Size) j * entsize;
			GenericXLogFinish(state);
		}
		hdr = HnswMapGetHeader(BufferGetPage(buf));
		if (firstRoom == InvalidBlockNumber && hdr->nentries < cap && hdr->next != InvalidBlockNumber)
			firstRoom = blk;
		next = hdr->next;
		UnlockReleaseBuffer(buf);
		blk = next;
	}

	if (firstRoom != InvalidBlockNumber)
		HnswMetaLowerHint(index, offsetof(HnswMetaPageData, mapFree), firstRoom);
}

/* ---- scans ---- */

/*
 * The scan keys compiled for the map's inner loop: integer and hashed keys
 * become a closed range [lo, hi], signature keys a bit mask test; a key
 * with a set of arguments (= ANY (array)) is asked as it is
 * (HnswFilterKeyMatch); null tests become masks.
 */
#define MAPKEY_RANGE	0
#define MAPKEY_ANY		1		/* && : some bit in common */
#define MAPKEY_ALL		2		/* @> : every bit of the mask */
#define MAPKEY_SET		3		/* any of several arguments */

typedef struct MapKey
{
	int			op;
	Size		off;			/* slot offset within the payload */
	int64		lo;
	int64		hi;
	uint64		span;			/* hi - lo, as unsigned */
	uint64		mask;
	const HnswFilterKey *key;	/* MAPKEY_SET */
} MapKey;

typedef struct MapFilter
{
	int			nkeys;
	bool		never;			/* no payload can match */
	bool		ranges;			/* every key is MAPKEY_RANGE, no IS NULL */
	uint32		nullmask;		/* columns that must not be NULL */
	uint32		mustnull;		/* columns that must be NULL */
	MapKey		keys[FLEXIBLE_ARRAY_MEMBER];
} MapFilter;

/* Compile one comparison key with a single argument into mk */
static void
MapCompileRange(MapFilter *mf, MapKey *mk, const HnswFilterKey *k)
{
	mk->lo = PG_INT64_MIN;
	mk->hi = PG_INT64_MAX;
	if (k->kind == HNSW_FKIND_SIG)
	{
		mk->op = k->strategy == HNSW_FILTER_OVERLAP ? MAPKEY_ANY : MAPKEY_ALL;
		mk->mask = (uint64) k->arg;
		return;
	}
	mk->op = MAPKEY_RANGE;
	switch (k->strategy)
	{
		case HNSW_FILTER_LT:
			if (k->arg == PG_INT64_MIN)
				mf->never = true;
			else
				mk->hi = k->arg - 1;
			break;
		case HNSW_FILTER_LE:
			mk->hi = k->arg;
			break;
		case HNSW_FILTER_EQ:
			mk->lo = mk->hi = k->arg;
			break;
		case HNSW_FILTER_GE:
			mk->lo = k->arg;
			break;
		case HNSW_FILTER_GT:
			if (k->arg == PG_INT64_MAX)
				mf->never = true;
			else
				mk->lo = k->arg + 1;
			break;
		default:
			mf->never = true;
			break;
	}
	mk->span = (uint64) mk->hi - (uint64) mk->lo;
}

static MapFilter *
MapCompile(const HnswFilter *f)
{
	MapFilter  *mf = palloc0(offsetof(MapFilter, keys) + sizeof(MapKey) * Max(f->nkeys, 1));
	int			i;

	mf->never = f->empty;
	for (i = 0; i < f->nkeys; i++)
	{
		const HnswFilterKey *k = &f->keys[i];
		uint32		bit = (uint32) 1 << k->col;
		MapKey	   *mk;

		if (k->strategy == VECX_FILTER_ISNULL)
		{
			mf->mustnull |= bit;
			continue;
		}
		mf->nullmask |= bit;
		if (k->strategy == VECX_FILTER_NOTNULL)
			continue;
		mk = &mf->keys[mf->nkeys++];
		mk->off = 4 + 8 * (Size) k->col;
		if (k->nargs > 1)
		{
			mk->op = MAPKEY_SET;
			mk->key = k;
		}
		else
			MapCompileRange(mf, mk, k);
	}
	if (mf->nullmask & mf->mustnull)
		mf->never = true;
	mf->ranges = mf->mustnull == 0;
	for (i = 0; i < mf->nkeys; i++)
		if (mf->keys[i].op != MAPKEY_RANGE)
			mf->ranges = false;
	return mf;
}

/*
 * The common case, only range (and equality) keys, without branches per
 * key: v is in [lo, hi] iff (uint64) (v - lo) <= hi - lo.
 */
static inline bool
MapMatchRanges(const MapFilter *mf, const char *payload)
{
	uint32		nullmask;
	bool		ok;
	int			i;

	memcpy(&nullmask, payload, sizeof(uint32));
	ok = (nullmask & mf->nullmask) == 0;
	for (i = 0; i < mf->nkeys; i++)
	{
		const MapKey *k = &mf->keys[i];
		int64		v;

		memcpy(&v, payload + k->off, sizeof(int64));
		ok &= ((uint64) v - (uint64) k->lo) <= k->span;
	}
	return ok;
}

/* MapMatchRanges for exactly two keys, unrolled */
static inline bool
MapMatchRanges2(const MapFilter *mf, const char *payload)
{
	uint32		nullmask;
	int64		v0,
				v1;

	memcpy(&nullmask, payload, sizeof(uint32));
	memcpy(&v0, payload + mf->keys[0].off, sizeof(int64));
	memcpy(&v1, payload + mf->keys[1].off, sizeof(int64));
	return ((nullmask & mf->nullmask) == 0) &
		(((uint64) v0 - (uint64) mf->keys[0].lo) <= mf->keys[0].span) &
		(((uint64) v1 - (uint64) mf->keys[1].lo) <= mf->keys[1].span);
}

/* Same answer as HnswFilterMatch, for the map's inner loop. */
static inline bool
MapMatch(const MapFilter *mf, const char *payload)
{
	uint32		nullmask;
	int			i;

	memcpy(&nullmask, payload, sizeof(uint32));
	if (nullmask & mf->nullmask)
		return false;			/* every filter operator is strict */
	if ((nullmask & mf->mustnull) != mf->mustnull)
		return false;
	for (i = 0; i < mf->nkeys; i++)
	{
		const MapKey *k = &mf->keys[i];
		int64		v;

		memcpy(&v, payload + k->off, sizeof(int64));
		if (k->op == MAPKEY_RANGE)
		{
			if (v < k->lo || v > k->hi)
				return false;
		}
		else if (k->op == MAPKEY_SET)
		{
			if (!HnswFilterKeyMatch(k->key, v))
				return false;
		}
		else if (k->op == MAPKEY_ANY)
		{
			if (((uint64) v & k->mask) == 0)
				return false;
		}
		else if ((k->mask & ~(uint64) v) != 0)
			return false;
	}
	return true;
}

/*
 * Matching entries a map pass should visit at most to beat a graph walk
 * for HNSW_FILTER_TYPICAL_K rows over ntuples entries.  A walk passes about
 * K / s nodes in distance order, m visits each (at least a first batch of
 * m * ef_search), s = c / ntuples for c matches; the map pass visits c
 * nodes.  They cost the same at c = sqrt(K * m * ntuples).  Past
 * hnsw.max_scan_tuples the walk ends in this pass anyway.
 */
double
HnswMapCrossover(double ntuples, int m)
{
	double		k = HNSW_FILTER_TYPICAL_K;
	double		c = sqrt(k * m * Max(ntuples, 1.0));

	c = Max(c, (double) m * hnsw_ef_search);
	c = Max(c, k * m * ntuples / Max(hnsw_max_scan_tuples, 1));
	return c;
}

/*
 * The share of the map a pass with this limit reads before it gives up,
 * nmatch matches spread over mapPages pages (MapCollect's rules).
 */
double
HnswMapGiveUpFraction(double mapPages, double nmatch, double limit)
{
	double		first = Min(1.0, HNSW_MAP_FIRST_PAGES / Max(mapPages, 1.0));

	if (nmatch <= limit)
		return 1.0;
	if (nmatch > HNSW_MAP_CLEAR_MARGIN * limit)
		return first;
	/* until the matches outnumber the limit, at most the first eighth */
	return Max(first, Min(0.125, limit / nmatch));
}

/* Entries the map's pages can hold: an upper bound of the nodes it lists */
double
HnswMapEntryCount(const HnswMetaPageData *meta)
{
	if (meta->nfilter == 0 || meta->mapEntrySize == 0)
		return 0;
	return (double) meta->mapPages * HnswMapCapacity(meta->mapEntrySize);
}

double
HnswMapPagesFor(double ntuples, int nfilter)
{
	if (nfilter <= 0)
		return 0;
	return ceil(Max(ntuples, 0.0) / HnswMapCapacity(HnswMapEntrySize(nfilter)));
}

static int
CompareTid(const void *a, const void *b)
{
	return ItemPointerCompare((ItemPointer) a, (ItemPointer) b);
}

/*
 * Read the map chain and collect the node TIDs of matching entries into
 * *tids.  With limit > 0, give up (false) once the matches exceed limit,
 * or are projected to exceed it from the first eighth of the map, or to
 * exceed it HNSW_MAP_CLEAR_MARGIN times from its first HNSW_MAP_FIRST_PAGES
 * pages (entries are in insertion order; a misjudged projection costs
 * time, not rows).
 */
static bool
MapCollect(Relation index, const HnswMetaPageData *meta, const MapFilter *mf,
		   double limit, ItemPointerData **tids, Size *ntids)
{
	Size		entsize = meta->mapEntrySize;
	Size		cap = 256;
	Size		n = 0;
	ItemPointerData *out = palloc(sizeof(ItemPointerData) * cap);
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	BlockNumber blk = meta->mapHead;
	BlockNumber prev = HNSW_METAPAGE_BLKNO;
	uint32		pagesRead = 0;

	while (blk != InvalidBlockNumber)
	{
		Buffer		buf;
		Page		page;
		HnswMapPageHeader *hdr;
		const char *e;
		int			i,
					nent;

		if (blk <= prev)
			HnswCorrupt(index, prev, 0, "filter map link goes back");
		if (blk >= nblocks)
		{
			nblocks = RelationGetNumberOfBlocks(index);
			if (blk >= nblocks)
				HnswCorrupt(index, prev, 0, "filter map link beyond the end of the index");
		}
		buf = HnswReadBuffer(index, blk);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		HnswMapCheckPage(index, page, blk, entsize);
		hdr = HnswMapGetHeader(page);
		nent = hdr->nentries;
		e = HnswMapEntries(page);
		for (i = 0; i < nent; i++, e += entsize)
		{
			if (mf->ranges ?
				(mf->nkeys == 2 ? !MapMatchRanges2(mf, e + HNSW_MAP_TID_BYTES) :
				 !MapMatchRanges(mf, e + HNSW_MAP_TID_BYTES)) :
				!MapMatch(mf, e + HNSW_MAP_TID_BYTES))
				continue;
			if (n >= cap)
			{
				cap *= 2;
				out = repalloc_huge(out, sizeof(ItemPointerData) * cap);
			}
			memcpy(&out[n], e, HNSW_MAP_TID_BYTES);
			if (ItemPointerGetBlockNumberNoCheck(&out[n]) == HNSW_METAPAGE_BLKNO ||
				ItemPointerGetBlockNumberNoCheck(&out[n]) == InvalidBlockNumber ||
				ItemPointerGetOffsetNumberNoCheck(&out[n]) < FirstOffsetNumber ||
				ItemPointerGetOffsetNumberNoCheck(&out[n]) > MaxOffsetNumber)
				HnswCorrupt(index, blk, i + 1, "filter map entry names no node location");
			n++;
		}
		prev = blk;
		blk = hdr->next;
		UnlockReleaseBuffer(buf);
		pagesRead++;

		if (limit > 0 &&
			((double) n > limit ||
			 (pagesRead >= HNSW_MAP_FIRST_PAGES &&
			  (double) n * meta->mapPages / pagesRead >
			  ((double) pagesRead * 8 >= meta->mapPages ? 1.0 : HNSW_MAP_CLEAR_MARGIN) * limit)))
		{
			pfree(out);
			return false;
		}
		if ((pagesRead & 63) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	*tids = out;
	*ntids = n;
	return true;
}

#define MAP_PIN_AHEAD	8

/* Pin the page of a node visited soon and prefetch what locking it touches. */
static Buffer
MapPinAhead(Relation index, ItemPointer tid, BlockNumber *nblocks)
{
	BlockNumber blkno = ItemPointerGetBlockNumber(tid);
	Buffer		buf;
	char	   *page;

	if (blkno >= *nblocks)
	{
		*nblocks = RelationGetNumberOfBlocks(index);
		if (blkno >= *nblocks)
			HnswCorrupt(index, blkno, ItemPointerGetOffsetNumber(tid),
						"filter map entry points beyond the end of the index");
	}
	buf = HnswReadBuffer(index, blkno);
	page = (char *) BufferGetPage(buf);
	__builtin_prefetch(page);
	__builtin_prefetch(PageGetItemId((Page) page, ItemPointerGetOffsetNumber(tid)));
	__builtin_prefetch(page + BLCKSZ - sizeof(HnswPageOpaqueData));
	return buf;
}

/*
 * Prefetch a pinned node's header, vector and payload.  Its line pointer is
 * read without the lock: only a hint, clamped to the page.
 */
static void
MapPrefetchNode(Buffer buf, ItemPointer tid, int dims, int elemtype)
{
	char	   *page = (char *) BufferGetPage(buf);
	ItemId		iid = PageGetItemId((Page) page, ItemPointerGetOffsetNumber(tid));
	Size		start = ItemIdGetOffset(iid) % BLCKSZ;
	Size		len = Min(BLCKSZ - start, HNSW_NODE_HDRSZ + HnswVecBytes(dims, elemtype) + 64);
	Size		o;

	for (o = 0; o < Min(len, 4096); o += 64)
		__builtin_prefetch(page + start + o);
}

/*
 * HnswMapRun
 *		The map pass: every live node matching the filter, not yet returned
 *		(emitted[], heap TIDs already returned per node), as (distance, heap
 *		TID) sorted by distance; query == NULL: unordered, distance 0.
 *		limit > 0: return NULL instead once more than limit nodes match (or
 *		are projected to), the pass then costing more than the walk the
 *		caller would take instead (HnswMapCrossover, hnswscan.c).
 */
HnswExhaust *
HnswMapRun(Relation index, const HnswMetaPageData *meta, const HnswLayout *lay,
		   const void *query, const HnswFilter *filter, HnswEmitted *emitted,
		   int nemitted, double limit)
{
	MapFilter  *mf = MapCompile(filter);
	HnswExhaust *ex;
	ItemPointerData *tids = NULL;
	Size		ntids = 0;
	Size		i;
	Size		cap;
	Size		u;
	Buffer	   *ring;
	BlockNumber nblocks;

	if (meta->nfilter == 0 || meta->mapEntrySize != HnswMapEntrySize(meta->nfilter))
		elog(ERROR, "hnsw filter map pass on an index without a map");
	if (!mf->never && meta->mapHead != InvalidBlockNumber)
	{
		if (!MapCollect(index, meta, mf, limit, &tids, &ntids))
			return NULL;
	}

	ex = palloc0(sizeof(HnswExhaust));
	cap = Max(ntids, 16);
	ex->items = palloc(sizeof(HnswExhaustItem) * cap);
	if (ntids == 0)
		return ex;

	/* visit in block order; an entry never appears twice, but be sure */
	qsort(tids, ntids, sizeof(ItemPointerData), CompareTid);
	for (i = 1, u = 1; i < ntids; i++)
		if (!ItemPointerEquals(&tids[i], &tids[u - 1]))
			tids[u++] = tids[i];
	ntids = u;
	HnswEmittedSort(emitted, nemitted);

	/*
	 * The nodes' pages are mostly in shared buffers but not in the CPU
	 * cache: 2 * MAP_PIN_AHEAD nodes ahead prefetch the line pointer (if
	 * we know the buffer), MAP_PIN_AHEAD ahead pin the page and prefetch
	 * its page header, line pointer and special space; MAP_PIN_AHEAD / 2
	 * ahead, prefetch the node itself (its line pointer is in cache by
	 * then).
	 */
	ring = palloc(sizeof(Buffer) * MAP_PIN_AHEAD);
	nblocks = RelationGetNumberOfBlocks(index);
	for (i = 0; i < Min(ntids, 2 * MAP_PIN_AHEAD); i++)
		HnswPrefetchRecent(index, ItemPointerGetBlockNumber(&tids[i]),
						   ItemPointerGetOffsetNumber(&tids[i]));
	for (i = 0; i < Min(ntids, MAP_PIN_AHEAD); i++)
		ring[i] = MapPinAhead(index, &tids[i], &nblocks);
	for (i = 0; i < ntids; i++)
	{
		BlockNumber blkno = ItemPointerGetBlockNumber(&tids[i]);
		OffsetNumber off = ItemPointerGetOffsetNumber(&tids[i]);
		Buffer		buf = ring[i % MAP_PIN_AHEAD];
		Page		page;
		HnswNodeHeader *node;

		if (i + 2 * MAP_PIN_AHEAD < ntids)
			HnswPrefetchRecent(index, ItemPointerGetBlockNumber(&tids[i + 2 * MAP_PIN_AHEAD]),
							   ItemPointerGetOffsetNumber(&tids[i + 2 * MAP_PIN_AHEAD]));
		if (i + MAP_PIN_AHEAD / 2 < ntids)
			MapPrefetchNode(ring[(i + MAP_PIN_AHEAD / 2) % MAP_PIN_AHEAD],
							&tids[i + MAP_PIN_AHEAD / 2], meta->dims, meta->elemtype);
		if ((i & 255) == 0)
			CHECK_FOR_INTERRUPTS();
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		node = HnswLayoutGetNode(index, page, blkno, off, lay);
		/* deleted nodes' entries stay until vacuum; the node's payload decides */
		if (node->state == HNSW_NODE_LIVE &&
			MapMatch(mf, HnswNodeFilter(index, page, blkno, off, node, lay)))
			HnswExhaustAddNode(ex, &cap, index, &lay->d, query, &tids[i], node,
							   emitted, nemitted);
		UnlockReleaseBuffer(buf);
		if (i + MAP_PIN_AHEAD < ntids)
			ring[i % MAP_PIN_AHEAD] = MapPinAhead(index, &tids[i + MAP_PIN_AHEAD], &nblocks);
	}
	pfree(ring);
	pfree(tids);
	/* ordered lazily by HnswExhaustNext; without a query every distance is 0 */
	ex->sorted = query ? 0 : ex->n;
	return ex;
}
