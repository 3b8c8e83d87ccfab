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

/* Filter strategies (operator class strategy numbers) */
#define HNSW_FILTER_LT			1
#define HNSW_FILTER_LE			2
#define HNSW_FILTER_EQ			3
#define HNSW_FILTER_GE			4
#define HNSW_FILTER_GT			5
#define HNSW_FILTER_OVERLAP		6	/* int4[] && */
#define HNSW_FILTER_CONTAINS	7	/* int4[] @> */
#define HNSW_FILTER_NSTRAT		7

/* How a filter column's value is kept in its 8-byte slot */
#define HNSW_FKIND_INT			1	/* exact, as int64: full order */
#define HNSW_FKIND_HASH			2	/* 64-bit hash: equality, lossy */
#define HNSW_FKIND_SIG			3	/* int4[] 64-bit signature: lossy */

/*
 * Rows a filtered query is assumed to need when the scan decides, after its
 * first batch, whether walking the graph or one exact pass over the index
 * is cheaper (the executor does not tell an index scan its LIMIT).
 */
#define HNSW_FILTER_TYPICAL_K	10

/* Most filter columns an index can have (INDEX_MAX_KEYS minus the vector) */
#define HNSW_MAX_FILTER_COLS	31

/* Payload: uint32 null bitmap, then 8 bytes per filter column */
static inline Size
HnswFilterBytes(int nfilter)
{
	return nfilter > 0 ? 4 + 8 * (Size) nfilter : 0;
}

/* One prepared scan key */
typedef struct HnswFilterKey
{
	int			col;			/* filter column, 0-based */
	int			strategy;
	int			kind;
	int64		arg;
} HnswFilterKey;

typedef struct HnswFilter
{
	int			nkeys;
	bool		empty;			/* some key can never match (NULL argument) */
	bool		lossy;			/* some key needs a heap recheck */
	HnswFilterKey keys[FLEXIBLE_ARRAY_MEMBER];
} HnswFilter;

/* Settings */
extern bool hnsw_exact_fallback;

extern void HnswFilterInit(void);

/* Index shape */
extern int	HnswFilterColumns(Relation index);
extern void HnswCheckIndexColumns(Relation index);
extern void VecxCheckFilterColumns(Relation index, const char *amname, uint16 vecproc);
extern bool VecxFilterSelectivity(PlannerInfo *root, IndexPath *path, double ntuples,
								  double *sIdx, double *sAll);
extern bool HnswValidateFilterOpclass(Oid opclassoid);
extern int	HnswFilterKind(Oid typid);
extern int	HnswMaxLevelForFilter(int dims, int elemtype, int m, Size fbytes, bool ovf);

/* Payload of one heap tuple (values/isnull of the index columns) */
extern void HnswFormFilter(Relation index, Datum *values, bool *isnull, char *out);
extern const char *HnswNodeFilter(Relation index, Page page, BlockNumber blkno,
								  OffsetNumber off, HnswNodeHeader *node, int dims,
								  int elemtype, int m, int nfilter);

/* Scan keys */
extern HnswFilter *HnswFilterPrepare(Relation index, ScanKey keys, int nkeys);
extern bool HnswFilterMatch(const HnswFilter *f, const char *payload);

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
								   const HnswDist *d, const void *query,
								   const HnswFilter *filter,
								   HnswEmitted *emitted, int nemitted);

#endif							/* VECX_HNSWFILTER_H */
