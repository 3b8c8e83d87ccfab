/*-------------------------------------------------------------------------
 *
 * ivfpqinsert.c
 *	  Insertion of one vector into an ivfpq index after it was built.
 *
 * A list is a chain of data pages.  Its directory entry names the head,
 * the tail and the first page that may have free space (vacuum moves it
 * back when it frees space).  An insert holds the directory page's lock
 * while it walks from that page to the tail, so the chain of one list is
 * only ever extended by one backend at a time; data page locks are never
 * held while waiting for the directory lock, so there is no deadlock with
 * vacuum or scans, which take one data page lock at a time.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>

#include "access/generic_xlog.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "ivfpq.h"
#include "am/common/vecxfilter.h"
#include "simd/simd.h"

/*
 * IvfpqNearestList
 *		The list a vector belongs to: its nearest centroid (L2; vectors of
 *		cosine indexes are unit length, and inner-product indexes cluster
 *		by L2 too).
 */
int
IvfpqNearestList(IvfpqState *st, const float *x)
{
	float		best = FLT_MAX;
	int			bestl = 0;
	int			l;
	float		(*l2sq) (const float *, const float *, int) = vecx_kernels->l2sq_f32;

	if (!st->trained)
		return 0;
	for (l = 0; l < st->lists; l++)
	{
		float		d = l2sq(x, st->centroids + (Size) l * st->dims, st->dims);

		if (d < best)
		{
			best = d;
			bestl = l;
		}
	}
	return bestl;
}

/*
 * IvfpqMakeEntry
 *		Fill an entry (entrysize bytes) for vector x of list "list", with
 *		the filter payload (st->fbytes, NULL when none); residual is
 *		scratch space of dims floats.  A trained FLAT entry stores raw,
 *		the vector as the column holds it (st->vecbytes).  A trained PQ
 *		entry gets pqbytes (one code per byte) and pqerr when the caller
 *		encoded the residual already (a build on the GPU), else
 *		IvfpqEncode's codes.
 */
void
IvfpqMakeEntry(IvfpqState *st, const float *x, const char *raw, float norm, int list,
			   ItemPointer tid, const char *filter, IvfpqEntry *entry, float *residual,
			   const uint8 *pqbytes, float pqerr)
{
	memset(entry, 0, st->entrysize);
	if (st->fbytes > 0 && filter != NULL)
		memcpy(IvfpqEntryFilter(st, entry), filter, st->fbytes);
	entry->tid = *tid;
	if (st->encoding == IVFPQ_ENC_FLAT && st->trained)
	{
		memcpy(IvfflatEntryVec(entry), raw, st->vecbytes);
		return;
	}
	entry->norm = norm;
	if (st->trained && pqbytes != NULL)
	{
		IvfpqPackCodes(st, pqbytes, entry->codes);
		entry->err = pqerr;
	}
	else if (st->trained)
	{
		const float *c = st->centroids + (Size) list * st->dims;
		int			i;

		for (i = 0; i < st->dims; i++)
			residual[i] = x[i] - c[i];
		IvfpqEncode(st, residual, entry->codes, &entry->err);
	}
	else
		entry->flags = IVFPQ_ENTRY_UNENCODED;
}

static void
SetDir(Page dirpage, int list, const IvfpqListDir *dir)
{
	memcpy(IvfpqRawData(dirpage) + sizeof(IvfpqListDir) * (list % IVFPQ_DIR_PER_PAGE),
		   dir, sizeof(IvfpqListDir));
}

/*
 * IvfpqAddEntry
 *		Append an entry to a list, WAL-logged with generic WAL.  The list's
 *		radius in the directory grows to cover the entry in the same record,
 *		under the directory page's exclusive lock: a scan whose snapshot sees
 *		the row read the directory after this and sees the radius too.
 */
void
IvfpqAddEntry(Relation index, IvfpqState *cached, int list, IvfpqEntry *entry)
{
	/*
	 * Work on a copy of the cached state's scalar fields: taking the
	 * relation extension lock below must not leave us reading freed memory
	 * should the relcache entry be rebuilt meanwhile.
	 */
	IvfpqState	stcopy = *cached;
	IvfpqState *st = &stcopy;
	BlockNumber dirblk = st->dirStart + list / IVFPQ_DIR_PER_PAGE;
	Buffer		dirbuf;
	Buffer		buf = InvalidBuffer;
	Buffer		newbuf;
	Page		page;
	IvfpqListDir dir;
	IvfpqChainWalk walk;
	BlockNumber blkno;
	GenericXLogState *state;
	float		reach = 0;
	bool		grow;

	/* before any lock wait: the codebook lives in the relcache entry */
	if (st->trained && st->hasradius)	/* PQ only */
		reach = IvfpqEntryReach(cached, entry->codes, NULL, 0, entry->err);

	dirbuf = ReadBuffer(index, dirblk);
	LockBuffer(dirbuf, BUFFER_LOCK_EXCLUSIVE);
	IvfpqCheckPage(index, BufferGetPage(dirbuf), dirblk, IVFPQ_PAGE_DIRECTORY);
	memcpy(&dir, IvfpqRawData(BufferGetPage(dirbuf)) + sizeof(IvfpqListDir) * (list % IVFPQ_DIR_PER_PAGE),
		   sizeof(IvfpqListDir));
	grow = reach > dir.radius;
	if (grow)
		dir.radius = reach;

	blkno = BlockNumberIsValid(dir.insertpage) ? dir.insertpage : dir.head;
	IvfpqChainStart(&walk, list);
	while (BlockNumberIsValid(blkno))
	{
		IvfpqPageOpaque opaque;

		IvfpqChainStep(index, &walk, blkno);
		buf = ReadBuffer(index, blkno);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		page = BufferGetPage(buf);
		IvfpqCheckDataPage(index, st, page, blkno, list);
		opaque = IvfpqPageGetOpaque(page);

		if (IvfpqDataPageHasRoom(st, page))
		{
			state = GenericXLogStart(index);
			page = GenericXLogRegisterBuffer(state, buf, 0);
			if (!IvfpqDataPageAdd(st, page, entry))
				elog(ERROR, "failed to add entry to index \"%s\" block %u",
					 RelationGetRelationName(index), blkno);
			if (dir.insertpage != blkno || grow)
			{
				Page		dirpage = GenericXLogRegisterBuffer(state, dirbuf, 0);

				dir.insertpage = blkno;
				SetDir(dirpage, list, &dir);
			}
			GenericXLogFinish(state);
			UnlockReleaseBuffer(buf);
			UnlockReleaseBuffer(dirbuf);
			return;
		}
		if (!BlockNumberIsValid(opaque->nextblkno))
			break;				/* tail: keep it locked to link a new page */
		blkno = opaque->nextblkno;
		UnlockReleaseBuffer(buf);
		buf = InvalidBuffer;
	}

	/* No room anywhere: extend the relation by one page for this list */
	LockRelationForExtension(index, ExclusiveLock);
	newbuf = ReadBuffer(index, P_NEW);
	LockBuffer(newbuf, BUFFER_LOCK_EXCLUSIVE);
	UnlockRelationForExtension(index, ExclusiveLock);

	state = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(state, newbuf, GENERIC_XLOG_FULL_IMAGE);
	IvfpqInitDataPage(st, page, list);
	if (!IvfpqDataPageAdd(st, page, entry))
		elog(ERROR, "failed to add entry to a new page of index \"%s\"",
			 RelationGetRelationName(index));
	if (BufferIsValid(buf))
	{
		Page		tailpage = GenericXLogRegisterBuffer(state, buf, 0);

		IvfpqPageGetOpaque(tailpage)->nextblkno = BufferGetBlockNumber(newbuf);
	}
	{
		Page		dirpage = GenericXLogRegisterBuffer(state, dirbuf, 0);

		if (!BlockNumberIsValid(dir.head))
			dir.head = BufferGetBlockNumber(newbuf);
		dir.tail = BufferGetBlockNumber(newbuf);
		dir.insertpage = BufferGetBlockNumber(newbuf);
		SetDir(dirpage, list, &dir);
	}
	GenericXLogFinish(state);

	UnlockReleaseBuffer(newbuf);
	if (BufferIsValid(buf))
		UnlockReleaseBuffer(buf);
	UnlockReleaseBuffer(dirbuf);
}

bool
ivfpqinsert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid,
			Relation heap, IndexUniqueCheck checkUnique,
			bool indexUnchanged, struct IndexInfo *indexInfo)
{
	MemoryContext tmpcxt,
				oldcxt;
	IvfpqState *st;
	int			dims;
	float	   *x;
	float	   *residual;
	float		norm;
	double		rawnorm;
	IvfpqEntry *entry;
	int			list;

	if (isnull[0])
		return false;

	st = IvfpqGetState(index);

	tmpcxt = AllocSetContextCreate(CurrentMemoryContext, "ivfpq insert",
								   ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(tmpcxt);

	dims = st->trained ? st->dims : IvfpqDatumDims(st->kind, values[0]);
	x = palloc(sizeof(float) * dims);
	residual = palloc(sizeof(float) * dims);
	if (IvfpqDatumToFloat(st, st->kind, values[0], x, dims,
						  st->metric == VECX_METRIC_COSINE, &norm, &rawnorm))
	{
		char	   *filter = NULL;
		char	   *raw = NULL;

		IvfpqCheckIndexable(rawnorm, st->encoding);
		if (st->vecbytes > 0)
		{
			raw = palloc(st->vecbytes);
			IvfpqDatumRaw(st->kind, values[0], dims, raw);
		}
		if (st->fbytes > 0)
		{
			filter = palloc(st->fbytes);
			VecxFormFilter(index, values, isnull, filter);
		}
		list = IvfpqNearestList(st, x);
		entry = palloc(st->entrysize);
		IvfpqMakeEntry(st, x, raw, norm, list, heap_tid, filter, entry, residual,
					   NULL, 0);
		IvfpqAddEntry(index, st, list, entry);
	}

	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(tmpcxt);
	return false;
}
