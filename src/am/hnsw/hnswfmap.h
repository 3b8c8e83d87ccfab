/*-------------------------------------------------------------------------
 *
 * hnswfmap.h
 *	  Filter map of hnsw indexes with filter columns: (node TID, payload).
 *
 * An index with filter columns keeps, besides its graph, a dense list of
 * small entries, one per live node: the node's location and a copy of its
 * filter payload.  The entries live on map pages chained from the metapage
 * in block order.  A very selective filter is answered by reading the map,
 * evaluating the filter on each entry, and visiting only the matching
 * nodes (see README, "Filter map").
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECX_HNSWFMAP_H
#define VECX_HNSWFMAP_H

#include "hnsw.h"
#include "hnswfilter.h"

/*
 * Map page contents, at PageGetContents: this header, then nentries
 * entries of entsize bytes each, densely packed (unaligned, read with
 * memcpy).  pd_lower ends exactly after the last entry, since generic WAL
 * zeroes the hole between pd_lower and pd_upper.
 */
typedef struct HnswMapPageHeader
{
	BlockNumber next;			/* next map page (a higher block); invalid at the tail */
	uint16		nentries;
	uint16		entsize;		/* HnswMapEntrySize(nfilter) */
} HnswMapPageHeader;

#define HNSW_MAP_TID_BYTES		6	/* ItemPointerData, unaligned */

/* Map pages an insert looks at from the free hint before going to the tail */
#define HNSW_MAP_FREE_SCAN_PAGES	8

static inline Size
HnswMapEntrySize(int nfilter)
{
	return HNSW_MAP_TID_BYTES + HnswFilterBytes(nfilter);
}

static inline Size
HnswMapHeaderEnd(void)
{
	return MAXALIGN(SizeOfPageHeaderData) + sizeof(HnswMapPageHeader);
}

/* Entries one map page holds */
static inline int
HnswMapCapacity(Size entsize)
{
	return (int) ((BLCKSZ - MAXALIGN(sizeof(HnswPageOpaqueData)) - HnswMapHeaderEnd()) / entsize);
}

#define HnswMapGetHeader(page)	((HnswMapPageHeader *) PageGetContents(page))
#define HnswMapEntries(page)	((char *) (page) + HnswMapHeaderEnd())

/* An insert's map pages, held until the caller's WAL record is finished */
typedef struct HnswMapAdd
{
	int			nbufs;
	Buffer		bufs[3];
	BlockNumber oldFree;		/* free hint we started from */
	BlockNumber newFree;		/* free hint to publish, or invalid */
} HnswMapAdd;

/* metapage */
extern void HnswMapInitMeta(HnswMetaPage meta, int nfilter);
extern void HnswMapCheckMeta(Relation index, const HnswMetaPageData *meta);

/* page checks: ERRCODE_INDEX_CORRUPTED naming the block */
extern const char *HnswMapPageProblem(Page page, BlockNumber blkno, Size entsize,
									  int *badEntry);
extern void HnswMapCheckPage(Relation index, Page page, BlockNumber blkno, Size entsize);

/* build: entries in node order, written after every other page */
typedef struct HnswMapWriter
{
	Relation	index;
	Size		entsize;
	Buffer		buf;
	Page		page;
	BlockNumber head;
	BlockNumber tail;
	uint32		npages;
} HnswMapWriter;

extern void HnswMapWriterStart(HnswMapWriter *w, Relation index, int nfilter);
extern void HnswMapWriterAdd(HnswMapWriter *w, ItemPointer nodetid, const char *payload);
extern void HnswMapWriterFinish(HnswMapWriter *w, HnswMetaPage meta);

/* insert: add the new node's entry to the caller's WAL record */
extern void HnswMapAppend(Relation index, GenericXLogState *state, ItemPointer nodetid,
						  const char *payload, HnswMapAdd *add);
extern void HnswMapAppendDone(Relation index, HnswMapAdd *add);

/* vacuum: drop the entries of nodes isdead() says are deleted */
typedef bool (*HnswMapDeadFn) (void *arg, ItemPointer nodetid);
extern void HnswMapVacuum(Relation index, BufferAccessStrategy strategy,
						  HnswMapDeadFn isdead, void *arg);

/* scans */
extern HnswExhaust *HnswMapRun(Relation index, const HnswMetaPageData *meta,
							   const HnswLayout *lay, const void *query,
							   const HnswFilter *filter, HnswEmitted *emitted,
							   int nemitted, double limit);
extern double HnswMapEntryCount(const HnswMetaPageData *meta);

/* cost model: map pages for ntuples entries */
extern double HnswMapPagesFor(double ntuples, int nfilter);

/*
 * A map pass with a limit gives up once its first HNSW_MAP_FIRST_PAGES pages
 * project more than HNSW_MAP_CLEAR_MARGIN x the limit in matches, or its
 * first eighth more than the limit (hnswfmap.c MapCollect; hnswcost.c
 * charges the part read).
 */
#define HNSW_MAP_FIRST_PAGES	4
#define HNSW_MAP_CLEAR_MARGIN	4.0
extern double HnswMapGiveUpFraction(double mapPages, double nmatch, double limit);
extern double HnswMapCrossover(double ntuples, int m);

#endif							/* VECX_HNSWFMAP_H */
