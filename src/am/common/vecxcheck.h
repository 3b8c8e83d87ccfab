/*-------------------------------------------------------------------------
 *
 * vecxcheck.h
 *	  Shared state of vecx_index_check() and the per-AM checkers.
 *
 * The dispatcher (vecxcheck.c) locks the relations, checks the
 * caller's request, and offers the AM checkers page reads through a bulk
 * read strategy, a uniform corruption report, and the heapallindexed
 * machinery: the AM records every heap TID its index holds, and the
 * dispatcher scans the table with an MVCC snapshot, asking the AM for each
 * visible row whether it should be indexed and checking it is.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECX_VECXCHECK_H
#define VECX_VECXCHECK_H

#include "postgres.h"

#include "storage/block.h"
#include "storage/bufmgr.h"
#include "storage/bufpage.h"
#include "storage/itemptr.h"
#include "utils/relcache.h"
#include "utils/snapshot.h"

/* One heap TID found in the index, with where the index holds it */
typedef struct VecxCheckEntry
{
	ItemPointerData htid;
	uint16		off;			/* item offset (ivfpq fast-scan: block * 16 + slot + 1) */
	BlockNumber blkno;
} VecxCheckEntry;

typedef struct VecxCheckState VecxCheckState;

/*
 * Called for every visible heap row with a non-NULL key: return false if
 * the AM does not index such a value (e.g. a zero vector under cosine);
 * otherwise "found" is the index entry holding the row's TID (NULL when
 * there is none, which the dispatcher reports) and the AM may check that
 * the entry agrees with the value.
 */
typedef bool (*VecxCheckHeapRow) (VecxCheckState *cs, Datum value,
								  ItemPointer htid, const VecxCheckEntry *found);

struct VecxCheckState
{
	Relation	index;
	Relation	heap;
	bool		heapallindexed;
	BufferAccessStrategy strategy;
	BlockNumber heapBlocks;		/* heap size; only grows while we hold a lock */

	/* heapallindexed: TIDs collected from the index */
	VecxCheckEntry *entries;
	Size		nentries;
	Size		maxentries;

	/* set by the AM before VecxCheckHeapPass */
	VecxCheckHeapRow heaprow;
	void	   *amstate;
	int64		nrows;			/* heap rows checked */
};

extern void VecxCheckCorrupt(VecxCheckState *cs, BlockNumber blkno, OffsetNumber off,
							 const char *fmt,...) pg_attribute_printf(4, 5) pg_attribute_noreturn();
extern void VecxCheckReadPage(VecxCheckState *cs, BlockNumber blkno, Page dst);
extern BlockNumber VecxCheckIndexBlocks(VecxCheckState *cs, BlockNumber known, BlockNumber want);
extern void VecxCheckPageHeader(VecxCheckState *cs, Page page, BlockNumber blkno,
								Size specialSize);
extern void VecxCheckItemBounds(VecxCheckState *cs, Page page, BlockNumber blkno,
								OffsetNumber off, Size minlen);
extern void VecxCheckItemOverlap(VecxCheckState *cs, Page page, BlockNumber blkno);
extern void VecxCheckHeapTid(VecxCheckState *cs, ItemPointer htid, BlockNumber blkno,
							 OffsetNumber off);
extern void VecxCheckAddEntry(VecxCheckState *cs, ItemPointer htid, BlockNumber blkno,
							  uint16 off);
extern void VecxCheckHeapPass(VecxCheckState *cs, Snapshot snapshot);

/*
 * The AM checkers (src/am/hnsw/hnswcheck.c, src/am/ivfpq/ivfpqcheck.c):
 * whether an open index is theirs, and the check.  A new AM adds its pair
 * here and to the table in vecxcheck.c.
 */
typedef void (*VecxCheckIndexFn) (VecxCheckState *cs);

extern bool HnswCheckOwns(Relation index);
extern void HnswCheckIndex(VecxCheckState *cs);
extern bool IvfpqCheckOwns(Relation index);
extern void IvfpqCheckIndex(VecxCheckState *cs);

#endif							/* VECX_VECXCHECK_H */
