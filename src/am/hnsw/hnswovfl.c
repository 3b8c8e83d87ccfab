/*-------------------------------------------------------------------------
 *
 * hnswovfl.c
 *	  Vectors too large for a node: slices on overflow pages.
 *
 * When a level-0 node with its vector inline would not fit on a page, the
 * index stores every vector out of line (metapage storage = overflow): the
 * node keeps an HnswOvflRef (first slice, slice count) where the vector
 * would be, and the vector's bytes are a chain of slices, one item per
 * overflow page.  Distances are always computed on the full vector read
 * from the chain, so results are exact-distance ordered like inline
 * indexes.  See src/am/hnsw/README ("Large vectors").
 *
 * Locking: an overflow page lock is a leaf: it is taken alone or under one
 * node page lock and nothing is waited for while holding it.  A chain is
 * written either before any node references it (new chains) or under the
 * exclusive lock of its node's page (a free slot's chain being reused), so
 * a reader holding the node page share lock always sees a whole vector.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"

#include "hnsw.h"

/* Largest payload of one slice: a slice fills an empty page */
Size
HnswOvflSliceMax(void)
{
	return HNSW_MAX_ITEM_SIZE - HNSW_OVFL_HDRSZ;
}

/* Slices of one vector of this index */
int
HnswOvflSlices(const HnswDist *d)
{
	Size		max = HnswOvflSliceMax();

	return (int) ((d->vbytes + max - 1) / max);
}

/*
 * OvflWalk
 *		Follow the chain of ref, checking every page and slice, and copy the
 *		vector out (dst) or overwrite it in place with WAL (src).  (nblk,
 *		noff) name the node, for errors about the reference itself.
 */
static void
OvflWalk(Relation index, const HnswDist *d, const HnswOvflRef *ref, char *dst,
		 const char *src, BlockNumber nblk, OffsetNumber noff)
{
	ItemPointerData cur = ref->first;
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	Size		done = 0;
	int			seq;
	BlockNumber blkno = nblk;
	OffsetNumber off = noff;

	if (ref->nslices != HnswOvflSlices(d))
		HnswCorrupt(index, nblk, noff, "overflow reference has a wrong slice count");
	for (seq = 0; seq < ref->nslices; seq++)
	{
		Buffer		buf;
		Page		page;
		ItemId		iid;
		Size		len;
		HnswOvflSlice hdr;
		char	   *item;

		if (!ItemPointerIsValid(&cur))
			HnswCorrupt(index, blkno, off, "overflow chain ends early");
		blkno = ItemPointerGetBlockNumber(&cur);
		off = ItemPointerGetOffsetNumber(&cur);
		if (blkno == HNSW_METAPAGE_BLKNO || blkno >= nblocks)
			HnswCorrupt(index, blkno, off, "overflow pointer out of range");
		buf = ReadBuffer(index, blkno);
		LockBuffer(buf, src ? BUFFER_LOCK_EXCLUSIVE : BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (PageIsNew(page) ||
			PageGetSpecialSize(page) != MAXALIGN(sizeof(HnswPageOpaqueData)) ||
			HnswPageGetOpaque(page)->page_id != HNSW_PAGE_ID ||
			!(HnswPageGetOpaque(page)->flags & HNSW_PAGE_OVERFLOW))
			HnswCorrupt(index, blkno, off, "not an hnsw overflow page");
		if (off < FirstOffsetNumber || off > PageGetMaxOffsetNumber(page))
			HnswCorrupt(index, blkno, off, "overflow item offset out of range");
		iid = PageGetItemId(page, off);
		if (!ItemIdIsNormal(iid))
			HnswCorrupt(index, blkno, off, "overflow item pointer is not in use");
		len = ItemIdGetLength(iid);
		if (len < HNSW_OVFL_HDRSZ ||
			ItemIdGetOffset(iid) + len > ((PageHeader) page)->pd_special ||
			ItemIdGetOffset(iid) < ((PageHeader) page)->pd_upper)
			HnswCorrupt(index, blkno, off, "overflow item length out of range");
		item = (char *) PageGetItem(page, iid);
		memcpy(&hdr, item, HNSW_OVFL_HDRSZ);
		if (hdr.seq != seq || hdr.len == 0 || HNSW_OVFL_HDRSZ + (Size) hdr.len > len ||
			hdr.len > d->vbytes - done)
			HnswCorrupt(index, blkno, off, "overflow slice header out of range");
		if (src)
		{
			GenericXLogState *state = GenericXLogStart(index);

			page = GenericXLogRegisterBuffer(state, buf, 0);
			memcpy((char *) PageGetItem(page, PageGetItemId(page, off)) + HNSW_OVFL_HDRSZ,
				   src + done, hdr.len);
			GenericXLogFinish(state);
		}
		else
			memcpy(dst + done, item + HNSW_OVFL_HDRSZ, hdr.len);
		done += hdr.len;
		cur = hdr.next;
		UnlockReleaseBuffer(buf);
	}
	if (done != d->vbytes || ItemPointerIsValid(&cur))
		HnswCorrupt(index, blkno, off, "overflow chain length does not match the vector");
}

/*
 * HnswNodeVec
 *		The vector of a node on a locked page: inline, or read from its
 *		overflow chain into a buffer valid until the next call.
 */
const void *
HnswNodeVec(Relation index, const HnswDist *d, const HnswNodeHeader *node,
			BlockNumber blkno, OffsetNumber off)
{
	static char *vbuf = NULL;
	HnswOvflRef ref;

	if (HnswNodeIsOvf(node) != d->overflow)
		HnswCorrupt(index, blkno, off, "node vector storage does not match the index");
	if (!d->overflow)
		return HnswNodeVector(node);
	if (vbuf == NULL)
		vbuf = MemoryContextAlloc(TopMemoryContext,
								  HnswVecBytes(VECX_MAX_DIM, HNSW_ELEM_F32));
	Assert(d->vbytes <= HnswVecBytes(VECX_MAX_DIM, HNSW_ELEM_F32));
	memcpy(&ref, HnswNodeVector(node), sizeof(HnswOvflRef));
	OvflWalk(index, d, &ref, vbuf, NULL, blkno, off);
	return vbuf;
}

/*
 * HnswOvflRewrite
 *		Overwrite the chain of a free node slot with a new vector (same
 *		length: every vector of an index has the same size).  The caller
 *		holds the node's page exclusively.
 */
void
HnswOvflRewrite(Relation index, const HnswDist *d, const HnswOvflRef *ref,
				const void *vec, BlockNumber blkno, OffsetNumber off)
{
	OvflWalk(index, d, ref, NULL, vec, blkno, off);
}

/*
 * HnswOvflWriteNew
 *		Write a vector into a new chain on new pages, one GenericXLog record
 *		per page, last slice first so each slice can name its successor.
 *		The caller then writes the node that references it: a crash before
 *		that leaves only unreferenced pages.
 */
void
HnswOvflWriteNew(Relation index, const HnswDist *d, const void *vec, HnswOvflRef *ref)
{
	int			nslices = HnswOvflSlices(d);
	Size		max = HnswOvflSliceMax();
	ItemPointerData next;
	int			k;
	char	   *item = palloc(HNSW_MAX_ITEM_SIZE);

	ItemPointerSetInvalid(&next);
	for (k = nslices - 1; k >= 0; k--)
	{
		Size		start = (Size) k * max;
		Size		len = Min(max, d->vbytes - start);
		HnswOvflSlice hdr;
		Buffer		buf;
		Page		page;
		GenericXLogState *state;
		OffsetNumber off;

		hdr.seq = k;
		hdr.len = len;
		hdr.next = next;
		hdr.unused = 0;
		memcpy(item, &hdr, HNSW_OVFL_HDRSZ);
		memcpy(item + HNSW_OVFL_HDRSZ, (const char *) vec + start, len);

		LockRelationForExtension(index, ExclusiveLock);
		buf = ReadBufferExtended(index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, NULL);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		UnlockRelationForExtension(index, ExclusiveLock);

		state = GenericXLogStart(index);
		page = GenericXLogRegisterBuffer(state, buf, GENERIC_XLOG_FULL_IMAGE);
		HnswInitPage(page, HNSW_PAGE_OVERFLOW);
		off = PageAddItem(page, (Item) item, HNSW_OVFL_HDRSZ + len, InvalidOffsetNumber,
						  false, false);
		if (off == InvalidOffsetNumber)
			elog(ERROR, "failed to add hnsw overflow slice to a new page");
		GenericXLogFinish(state);
		ItemPointerSet(&next, BufferGetBlockNumber(buf), off);
		UnlockReleaseBuffer(buf);
	}
	ref->first = next;
	ref->nslices = nslices;
	pfree(item);
}
