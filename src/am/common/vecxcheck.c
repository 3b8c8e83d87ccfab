/*-------------------------------------------------------------------------
 *
 * vecxcheck.c
 *	  vecx_index_check(): structural verification of hnsw, ivfpq and ivfflat indexes.
 *
 * In the spirit of contrib/amcheck: the index is read under AccessShareLock
 * (concurrent reads and writes go on), pages are copied out of shared
 * buffers through a bulk-read strategy and checked from the copy, and any
 * inconsistency raises ERRCODE_INDEX_CORRUPTED naming the block and offset.
 * With heapallindexed, every heap row visible to a snapshot taken before
 * the index is read must have an index entry.  Index expressions and
 * predicates are evaluated as the table owner in a restricted security
 * context, as amcheck does.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/transam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/index.h"
#include "catalog/pg_class.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "vecxcheck.h"

PG_FUNCTION_INFO_V1(vecx_index_check);

/* Heap pass state beyond VecxCheckState */
typedef struct HeapPassState
{
	VecxCheckState *cs;
	MemoryContext rowcxt;
} HeapPassState;

/*
 * VecxCheckCorrupt
 *		Report damage at (blkno, off); off 0 means the page as a whole.
 */
void
VecxCheckCorrupt(VecxCheckState *cs, BlockNumber blkno, OffsetNumber off,
				 const char *fmt,...)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (;;)
	{
		va_list		args;
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&buf, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&buf, needed);
	}
	ereport(ERROR,
			(errcode(ERRCODE_INDEX_CORRUPTED),
			 errmsg("index \"%s\" block %u offset %u: %s",
					RelationGetRelationName(cs->index), blkno, off, buf.data),
			 errhint("REINDEX the index.")));
	pg_unreachable();
}

/*
 * VecxCheckReadPage
 *		Copy block blkno (which must exist) into dst, under a share lock.
 *		Checking a copy means no lock is held while we inspect, and a
 *		report (ERROR) never leaves a buffer locked.
 */
void
VecxCheckReadPage(VecxCheckState *cs, BlockNumber blkno, Page dst)
{
	Buffer		buf;

	CHECK_FOR_INTERRUPTS();
	buf = ReadBufferExtended(cs->index, MAIN_FORKNUM, blkno, RBM_NORMAL, cs->strategy);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	memcpy(dst, BufferGetPage(buf), BLCKSZ);
	UnlockReleaseBuffer(buf);
}

/*
 * VecxCheckIndexBlocks
 *		The index may have grown since we looked: re-read its size when a
 *		block at or beyond what we knew is referenced.
 */
BlockNumber
VecxCheckIndexBlocks(VecxCheckState *cs, BlockNumber known, BlockNumber want)
{
	if (want < known)
		return known;
	return RelationGetNumberOfBlocks(cs->index);
}

/*
 * VecxCheckPageHeader
 *		Standard page header sanity, for a page that is not new.
 */
void
VecxCheckPageHeader(VecxCheckState *cs, Page page, BlockNumber blkno, Size specialSize)
{
	PageHeader	ph = (PageHeader) page;

	if (PageGetPageSize(page) != BLCKSZ ||
		PageGetPageLayoutVersion(page) != PG_PAGE_LAYOUT_VERSION)
		VecxCheckCorrupt(cs, blkno, 0, "page header has size %zu and layout version %u",
						 (size_t) PageGetPageSize(page), PageGetPageLayoutVersion(page));
	if (ph->pd_lower < SizeOfPageHeaderData || ph->pd_lower > ph->pd_upper ||
		ph->pd_upper > ph->pd_special ||
		ph->pd_special != BLCKSZ - MAXALIGN(specialSize))
		VecxCheckCorrupt(cs, blkno, 0,
						 "page bounds are invalid (lower %u, upper %u, special %u, expected special %zu)",
						 ph->pd_lower, ph->pd_upper, ph->pd_special,
						 (size_t) (BLCKSZ - MAXALIGN(specialSize)));
}

/*
 * VecxCheckItemBounds
 *		The line pointer at off (<= PageGetMaxOffsetNumber, so inside
 *		pd_lower) is a normal item lying between pd_upper and the special
 *		space, MAXALIGNed, at least minlen bytes long.
 */
void
VecxCheckItemBounds(VecxCheckState *cs, Page page, BlockNumber blkno,
					OffsetNumber off, Size minlen)
{
	PageHeader	ph = (PageHeader) page;
	ItemId		iid = PageGetItemId(page, off);
	Size		start = ItemIdGetOffset(iid);
	Size		len = ItemIdGetLength(iid);

	if (!ItemIdIsNormal(iid))
		VecxCheckCorrupt(cs, blkno, off, "line pointer has flags %u, expected a normal item",
						 ItemIdGetFlags(iid));
	if (start != MAXALIGN(start) || start < ph->pd_upper ||
		start + len > ph->pd_special)
		VecxCheckCorrupt(cs, blkno, off,
						 "line pointer (offset %zu, length %zu) lies outside the item area %u..%u",
						 start, len, ph->pd_upper, ph->pd_special);
	if (len < minlen)
		VecxCheckCorrupt(cs, blkno, off, "item length %zu is below the minimum %zu",
						 len, minlen);
}

typedef struct ItemSpan
{
	uint16		start;
	uint16		len;
	OffsetNumber off;
} ItemSpan;

static int
CmpSpan(const void *a, const void *b)
{
	const ItemSpan *x = a;
	const ItemSpan *y = b;

	return (int) x->start - (int) y->start;
}

/*
 * VecxCheckItemOverlap
 *		No two normal items of a page share bytes (bounds already checked).
 */
void
VecxCheckItemOverlap(VecxCheckState *cs, Page page, BlockNumber blkno)
{
	OffsetNumber maxoff = PageGetMaxOffsetNumber(page);
	ItemSpan	spans[MaxOffsetNumber];
	int			n = 0;
	int			i;
	OffsetNumber off;

	for (off = FirstOffsetNumber; off <= maxoff && n < MaxOffsetNumber; off++)
	{
		ItemId		iid = PageGetItemId(page, off);

		if (!ItemIdIsNormal(iid))
			continue;
		spans[n].start = ItemIdGetOffset(iid);
		spans[n].len = ItemIdGetLength(iid);
		spans[n].off = off;
		n++;
	}
	qsort(spans, n, sizeof(ItemSpan), CmpSpan);
	for (i = 1; i < n; i++)
		if ((int) spans[i - 1].start + spans[i - 1].len > (int) spans[i].start)
			VecxCheckCorrupt(cs, blkno, spans[i].off,
							 "item at %u overlaps item %u (%u..%u)",
							 spans[i].start, spans[i - 1].off, spans[i - 1].start,
							 spans[i - 1].start + spans[i - 1].len);
}

/*
 * VecxCheckHeapTid
 *		A heap TID stored at (blkno, off) of the index is well formed and
 *		inside the table.  The table cannot shrink while we hold our lock
 *		(truncation needs AccessExclusiveLock), but it can grow.
 */
void
VecxCheckHeapTid(VecxCheckState *cs, ItemPointer htid, BlockNumber blkno, OffsetNumber off)
{
	BlockNumber hblk = ItemPointerGetBlockNumberNoCheck(htid);
	OffsetNumber hoff = ItemPointerGetOffsetNumberNoCheck(htid);

	if (hoff < FirstOffsetNumber || hoff > MaxHeapTuplesPerPage ||
		hblk == InvalidBlockNumber)
		VecxCheckCorrupt(cs, blkno, off, "heap TID (%u,%u) is invalid", hblk, hoff);
	if (hblk >= cs->heapBlocks)
	{
		cs->heapBlocks = RelationGetNumberOfBlocks(cs->heap);
		if (hblk >= cs->heapBlocks)
			VecxCheckCorrupt(cs, blkno, off,
							 "heap TID (%u,%u) points past the end of table \"%s\" (%u blocks)",
							 hblk, hoff, RelationGetRelationName(cs->heap), cs->heapBlocks);
	}
}

/* Remember a heap TID held by the index (heapallindexed only). */
void
VecxCheckAddEntry(VecxCheckState *cs, ItemPointer htid, BlockNumber blkno, uint16 off)
{
	VecxCheckEntry *e;

	if (!cs->heapallindexed)
		return;
	if (cs->nentries == cs->maxentries)
	{
		Size		newmax = cs->maxentries == 0 ? 1024 : mul_size(cs->maxentries, 2);
		Size		bytes = mul_size(newmax, sizeof(VecxCheckEntry));

		if (cs->entries == NULL)
			cs->entries = MemoryContextAllocHuge(CurrentMemoryContext, bytes);
		else
			cs->entries = repalloc_huge(cs->entries, bytes);
		cs->maxentries = newmax;
	}
	e = &cs->entries[cs->nentries++];
	e->htid = *htid;
	e->blkno = blkno;
	e->off = off;
}

static int
CmpEntry(const void *a, const void *b)
{
	return ItemPointerCompare(&((VecxCheckEntry *) a)->htid,
							  &((VecxCheckEntry *) b)->htid);
}

static void
HeapRowCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
				bool tupleIsAlive, void *state)
{
	HeapPassState *hs = (HeapPassState *) state;
	VecxCheckState *cs = hs->cs;
	VecxCheckEntry key;
	VecxCheckEntry *found;
	MemoryContext old;
	bool		wanted;

	if (isnull[0])
		return;					/* NULLs are never indexed */
	CHECK_FOR_INTERRUPTS();
	key.htid = *tid;
	found = cs->nentries == 0 ? NULL :
		bsearch(&key, cs->entries, cs->nentries, sizeof(VecxCheckEntry), CmpEntry);
	old = MemoryContextSwitchTo(hs->rowcxt);
	wanted = cs->heaprow(cs, values[0], tid, found);
	MemoryContextSwitchTo(old);
	MemoryContextReset(hs->rowcxt);
	cs->nrows++;
	if (wanted && found == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("heap tuple (%u,%u) from table \"%s\" lacks a matching entry in index \"%s\"",
						ItemPointerGetBlockNumber(tid), ItemPointerGetOffsetNumber(tid),
						RelationGetRelationName(cs->heap), RelationGetRelationName(index)),
				 errhint("REINDEX the index.")));
}

/*
 * VecxCheckHeapPass
 *		Every row of the table visible to our snapshot (registered before
 *		the index was read, so every such row had its entry inserted
 *		before we looked) whose value the AM indexes must be among the
 *		collected TIDs.  table_index_build_scan evaluates expressions and
 *		the predicate of a partial index, and hands us the root TID of a
 *		HOT chain, which is what the index holds.
 */
void
VecxCheckHeapPass(VecxCheckState *cs, Snapshot snapshot)
{
	IndexInfo  *ii;
	TableScanDesc scan;
	HeapPassState hs;

	if (cs->nentries > 1)
		qsort(cs->entries, cs->nentries, sizeof(VecxCheckEntry), CmpEntry);

	hs.cs = cs;
	hs.rowcxt = AllocSetContextCreate(CurrentMemoryContext, "vecx_index_check row",
									  ALLOCSET_DEFAULT_SIZES);
	ii = BuildIndexInfo(cs->index);
	/* an MVCC scan: no OldestXmin logic for recently dead tuples */
	ii->ii_Concurrent = true;
	scan = table_beginscan_strat(cs->heap, snapshot, 0, NULL, true, true);
	table_index_build_scan(cs->heap, cs->index, ii, true, false,
						   HeapRowCallback, &hs, scan);
	MemoryContextDelete(hs.rowcxt);
}

/*
 * The checker of every vecx AM; each one recognises its own indexes by
 * their build callback, so an AM of another extension under the same
 * name is never taken for ours.
 */
static const struct
{
	bool		(*owns) (Relation index);
	VecxCheckIndexFn check;
}			VecxCheckers[] =
{
	{HnswCheckOwns, HnswCheckIndex},
	{IvfpqCheckOwns, IvfpqCheckIndex},
};

static VecxCheckIndexFn
CheckerOf(Relation index)
{
	int			i;

	if (index->rd_indam == NULL)
		return NULL;
	for (i = 0; i < lengthof(VecxCheckers); i++)
		if (VecxCheckers[i].owns(index))
			return VecxCheckers[i].check;
	return NULL;
}

/* What vecx_index_check opens, and restores when done */
typedef struct CheckTarget
{
	Relation	heap;
	Relation	index;
	VecxCheckIndexFn check;
	Oid			saveUserid;
	int			saveSecContext;
	int			saveNestlevel;
} CheckTarget;

/*
 * OpenCheckTarget
 *		Lock the table, then the index (the order everything else uses, so
 *		that we cannot deadlock against DDL), and refuse what cannot be
 *		checked.  Index expressions and predicates run as the table owner.
 */
static void
OpenCheckTarget(Oid indrelid, CheckTarget *t)
{
	Oid			heapid;

	t->heap = NULL;
	t->saveUserid = InvalidOid;
	t->saveSecContext = 0;
	t->saveNestlevel = -1;
	heapid = IndexGetRelation(indrelid, true);
	if (OidIsValid(heapid))
	{
		t->heap = try_table_open(heapid, AccessShareLock);
		if (t->heap != NULL)
		{
			GetUserIdAndSecContext(&t->saveUserid, &t->saveSecContext);
			SetUserIdAndSecContext(t->heap->rd_rel->relowner,
								   t->saveSecContext | SECURITY_RESTRICTED_OPERATION);
			t->saveNestlevel = NewGUCNestLevel();
		}
	}

	t->index = try_relation_open(indrelid, AccessShareLock);
	if (t->index == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("could not open relation with OID %u", indrelid)));
	if (t->index->rd_rel->relkind != RELKIND_INDEX &&
		t->index->rd_rel->relkind != RELKIND_PARTITIONED_INDEX)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not an index", RelationGetRelationName(t->index))));
	if (t->index->rd_rel->relkind == RELKIND_PARTITIONED_INDEX)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot check partitioned index \"%s\"", RelationGetRelationName(t->index)),
				 errhint("Check each partition's index.")));
	t->check = CheckerOf(t->index);
	if (t->check == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not an hnsw, ivfpq or ivfflat index", RelationGetRelationName(t->index))));

	/* the index might have been dropped and its OID reused meanwhile */
	if (t->heap == NULL || heapid != IndexGetRelation(indrelid, false))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("could not open parent table of index \"%s\"",
						RelationGetRelationName(t->index))));
	if (RELATION_IS_OTHER_TEMP(t->index))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot access temporary indexes of other sessions")));
	if (!t->index->rd_index->indisvalid || !t->index->rd_index->indisready)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot check index \"%s\"", RelationGetRelationName(t->index)),
				 errdetail("Index is not valid.")));
}

/* CloseCheckTarget: undo OpenCheckTarget */
static void
CloseCheckTarget(CheckTarget *t)
{
	AtEOXact_GUC(false, t->saveNestlevel);
	SetUserIdAndSecContext(t->saveUserid, t->saveSecContext);
	relation_close(t->index, AccessShareLock);
	table_close(t->heap, AccessShareLock);
}

/*
 * HeapAllIndexedSnapshot
 *		Taken before the index is read: every row this snapshot sees had
 *		its entry inserted before its transaction committed.
 */
static Snapshot
HeapAllIndexedSnapshot(Relation index)
{
	Snapshot	snapshot = RegisterSnapshot(GetTransactionSnapshot());

	if (IsolationUsesXactSnapshot() && index->rd_index->indcheckxmin &&
		!TransactionIdPrecedes(HeapTupleHeaderGetXmin(index->rd_indextuple->t_data),
							   snapshot->xmin))
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("index \"%s\" cannot be verified using transaction snapshot",
						RelationGetRelationName(index))));
	return snapshot;
}

/*
 * vecx_index_check(index regclass, heapallindexed bool)
 */
Datum
vecx_index_check(PG_FUNCTION_ARGS)
{
	Oid			indrelid = PG_GETARG_OID(0);
	bool		heapallindexed = PG_GETARG_BOOL(1);
	CheckTarget t;
	VecxCheckState cs;
	Snapshot	snapshot = InvalidSnapshot;

	OpenCheckTarget(indrelid, &t);

	/*
	 * An unlogged index has only its init fork during recovery: nothing to
	 * check (as amcheck).
	 */
	if (RecoveryInProgress() && t.index->rd_rel->relpersistence == RELPERSISTENCE_UNLOGGED)
	{
		ereport(NOTICE,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot verify unlogged index \"%s\" during recovery, skipping",
						RelationGetRelationName(t.index))));
		CloseCheckTarget(&t);
		PG_RETURN_VOID();
	}

	memset(&cs, 0, sizeof(cs));
	cs.index = t.index;
	cs.heap = t.heap;
	cs.heapallindexed = heapallindexed;
	cs.strategy = GetAccessStrategy(BAS_BULKREAD);
	cs.heapBlocks = RelationGetNumberOfBlocks(t.heap);

	if (heapallindexed)
		snapshot = HeapAllIndexedSnapshot(t.index);

	t.check(&cs);

	if (heapallindexed)
	{
		if (cs.heaprow == NULL)
			elog(ERROR, "index checker did not set a heap row callback");
		VecxCheckHeapPass(&cs, snapshot);
		UnregisterSnapshot(snapshot);
	}

	FreeAccessStrategy(cs.strategy);
	if (cs.entries)
		pfree(cs.entries);
	CloseCheckTarget(&t);

	PG_RETURN_VOID();
}
