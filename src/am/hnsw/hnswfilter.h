/*-------------------------------------------------------------------------
 *
 * hnswfilter.h
 *	  Filtered hnsw search: filter key columns, scan keys, exact fallback.
 *
 * An hnsw index may have extra key columns after its vector column
 * (USING hnsw (v vector_l2_ops, label, bucket)).  Each node then carries a
 * fixed-size filter payload after its neighbour lists (see README, "Filter
 * payload"): a null bitmap and one 8-byte slot per filter column.  Scan
 * keys on those columns are evaluated while the graph is walked.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECX_HNSWFILTER_H
#define VECX_HNSWFILTER_H

#include "hnsw.h"
#include "am/common/vecxfilter.h"

/*
 * Filter columns themselves are common to every AM (common/vecxfilter.h).
 * The hnsw names below are the one place that maps them for the hnsw
 * sources, which still spell them the hnsw way; a later mechanical rename
 * can drop this block.
 */
#define HNSW_FILTER_LT			VECX_FILTER_LT
#define HNSW_FILTER_LE			VECX_FILTER_LE
#define HNSW_FILTER_EQ			VECX_FILTER_EQ
#define HNSW_FILTER_GE			VECX_FILTER_GE
#define HNSW_FILTER_GT			VECX_FILTER_GT
#define HNSW_FILTER_OVERLAP		VECX_FILTER_OVERLAP
#define HNSW_FILTER_CONTAINS	VECX_FILTER_CONTAINS
#define HNSW_FILTER_NSTRAT		VECX_FILTER_NSTRAT
#define HNSW_FKIND_INT			VECX_FKIND_INT
#define HNSW_FKIND_HASH			VECX_FKIND_HASH
#define HNSW_FKIND_SIG			VECX_FKIND_SIG
#define HNSW_MAX_FILTER_COLS	VECX_MAX_FILTER_COLS
#define HnswFilterBytes			VecxFilterBytes
#define HnswFilterKind			VecxFilterKind
#define HnswFilterColumns		VecxFilterColumns
#define HnswFormFilter			VecxFormFilter
#define HnswFilterPrepare		VecxFilterPrepare
#define HnswFilterMatch			VecxFilterMatch
#define HnswFilterKeyMatch		VecxFilterKeyMatch
#define HnswValidateFilterOpclass VecxValidateFilterOpclass
typedef VecxFilterKey HnswFilterKey;
typedef VecxFilter HnswFilter;

/*
 * Rows a filtered query is assumed to need when the scan decides, after its
 * first batch, whether walking the graph or one exact pass over the index
 * is cheaper (the executor does not tell an index scan its LIMIT).
 */
#define HNSW_FILTER_TYPICAL_K	10

/*
 * A filtered walk where few nodes near the query match (hnswscan.c,
 * SettleFilteredWalk; charged alike by hnswcost.c): its first walk stops
 * after HNSW_FILTER_PROBE x m x ef distances; it gathers up to
 * HNSW_FILTER_WIDEN x ef matches, or takes the filter map pass when that
 * visits fewer nodes than the walk still would.
 */
#define HNSW_FILTER_WIDEN		2.0
#define HNSW_FILTER_PROBE		4
#define HNSW_FILTER_WIDEN_RATE	0.3
extern double HnswFilterProbe(int m, int ef);
extern int	HnswFilterWalkEf(int ef, double rate);
extern double HnswFilterWalkVisits(int m, int ef, double rate);

/* Settings */
extern bool hnsw_exact_fallback;

extern void HnswFilterInit(void);

/* Index shape */
extern void HnswCheckIndexColumns(Relation index);
extern int	HnswMaxLevelForFilter(int dims, int elemtype, int m, Size fbytes, bool ovf);

/* The highest level a node of this layout may have (-1: none fits) */
static inline int
HnswLayoutMaxLevel(const HnswLayout *lay)
{
	return HnswMaxLevelForFilter(lay->d.dims, lay->d.elemtype, lay->m, lay->fbytes,
								 lay->d.overflow);
}

/* Where a node keeps its payload */
extern const char *HnswNodeFilter(Relation index, Page page, BlockNumber blkno,
								  OffsetNumber off, HnswNodeHeader *node,
								  const HnswLayout *lay);

/*
 * Exhaustive pass: every live node (matching the filter) not returned yet,
 * in distance order (through the filter map when there are scan keys).  Used for very selective filters, when the graph
 * walk's budget is spent, and for scans without ORDER BY.
 */
typedef struct HnswExhaustItem
{
	float		dist;
	ItemPointerData heaptid;
} HnswExhaustItem;

typedef struct HnswExhaust
{
	HnswExhaustItem *items;
	Size		n;
	Size		pos;
	Size		sorted;			/* items[0, sorted) are the smallest, in order */
} HnswExhaust;

typedef struct HnswEmitted
{
	ItemPointerData tid;		/* node */
	int			ntids;			/* heap TIDs of it already returned */
} HnswEmitted;

extern HnswExhaustItem *HnswExhaustNext(HnswExhaust *ex);
extern void HnswEmittedSort(HnswEmitted *emitted, int nemitted);
extern void HnswExhaustAddNode(HnswExhaust *ex, Size *cap, Relation index, const HnswDist *d,
							   const void *query, ItemPointer nodetid, HnswNodeHeader *node,
							   const HnswEmitted *emitted, int nemitted);
extern HnswExhaust *HnswExhaustRun(Relation index, const HnswMetaPageData *meta,
								   const HnswLayout *lay, const void *query,
								   const HnswFilter *filter,
								   HnswEmitted *emitted, int nemitted);

#endif							/* VECX_HNSWFILTER_H */
