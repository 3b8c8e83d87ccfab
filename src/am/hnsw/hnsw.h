/*-------------------------------------------------------------------------
 *
 * hnsw.h
 *	  Private definitions of the hnsw index access method.
 *
 * See src/am/hnsw/README for the algorithm, the page layout, the lock
 * order and the WAL protocol.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECX_HNSW_H
#define VECX_HNSW_H

#include "postgres.h"

#include <float.h>
#include <math.h>

#include "access/amapi.h"
#include "access/generic_xlog.h"
#include "access/itup.h"
#include "access/reloptions.h"
#include "nodes/execnodes.h"
#include "nodes/pathnodes.h"
#include "storage/bufmgr.h"
#include "storage/dsm.h"
#include "storage/shm_toc.h"
#include "storage/bufpage.h"
#include "utils/relcache.h"

#include "vecx.h"
#include "am/common/vecxam.h"
#include "simd/simd.h"
#include "types/sparsevec.h"

/* On-disk format identification */
#define HNSW_MAGIC				0x48A5F17Cu
#define HNSW_VERSION			4	/* 2: filter map pages (hnswfmap.c); 3: sq8;
									 * 4: changeCount (hnswcache.c) */
#define HNSW_MIN_VERSION		4	/* oldest format read: 0.1.0's (2 and 3
									 * were development states) */
#define HNSW_PAGE_ID			0xFF93	/* in every page's special space */

#define HNSW_METAPAGE_BLKNO		0

/* Heavyweight lock "page" numbers (never real pages: see README) */
#define HNSW_UPDATE_LOCK		0

/* Reloption bounds (pgvector-compatible) */
#define HNSW_DEFAULT_M			16
#define HNSW_MIN_M				2
#define HNSW_MAX_M				100
#define HNSW_DEFAULT_EF_CONSTRUCTION	64
#define HNSW_MIN_EF_CONSTRUCTION	4
#define HNSW_MAX_EF_CONSTRUCTION	1000

#define HNSW_DEFAULT_EF_SEARCH	40
#define HNSW_MIN_EF_SEARCH		1
#define HNSW_MAX_EF_SEARCH		1000

/* Heap TIDs one node can carry (exact duplicates share a node) */
#define HNSW_HEAPTIDS			8

/* Highest level a node may have; levels above are clamped. */
#define HNSW_MAX_LEVEL			15

/* Support functions */
#define HNSW_DISTANCE_PROC		1
#define HNSW_INFO_PROC			3
#define HNSW_NPROC				3

/* Element types and metrics, as recorded in the metapage */
#define HNSW_ELEM_F32			VECX_ELEM_F32
#define HNSW_ELEM_F16			VECX_ELEM_F16
#define HNSW_ELEM_SQ8			VECX_ELEM_SQ8	/* stored form only: 8-bit codes (hnswsq8.c) */
#define HNSW_ELEM_BIT			VECX_ELEM_BIT	/* bit(n): packed bits */
#define HNSW_ELEM_SPARSE		VECX_ELEM_SPARSE	/* sparsevec: (index, value) pairs */

#define HNSW_METRIC_L2			VECX_METRIC_L2
#define HNSW_METRIC_IP			VECX_METRIC_IP
#define HNSW_METRIC_COSINE		VECX_METRIC_COSINE
#define HNSW_METRIC_L1			VECX_METRIC_L1
#define HNSW_METRIC_HAMMING		VECX_METRIC_HAMMING
#define HNSW_METRIC_JACCARD		VECX_METRIC_JACCARD

/* Largest bit length of an indexed bit(n) value */
#define HNSW_MAX_BITS			64000
/* Most non-zero elements of an indexed sparsevec value (pgvector's limit) */
#define HNSW_SPARSE_MAX_NNZ		1000

/* Node states */
#define HNSW_NODE_LIVE			1	/* indexes a heap tuple */
#define HNSW_NODE_DELETED		2	/* heap tuple dead; still traversable */
#define HNSW_NODE_FREE			3	/* unlinked; slot may be reused */

/* Iterative scan modes (hnsw.iterative_scan) */
#define HNSW_ITERATIVE_OFF		0
#define HNSW_ITERATIVE_RELAXED	1
#define HNSW_ITERATIVE_STRICT	2

/* Progress subphases (pg_stat_progress_create_index.phase) */
#define HNSW_PHASE_LOAD			2
#define HNSW_PHASE_WRITE		3

/* What the opclass's info support function returns (common/vecxam.h) */
typedef VecxOpInfo HnswOpInfo;

/* Reloptions */
typedef struct HnswOptions
{
	int32		vl_len_;
	int			m;
	int			efConstruction;
	int			quantization;	/* HNSW_QUANT_* */
} HnswOptions;

/* HnswOptions.quantization */
#define HNSW_QUANT_NONE			0
#define HNSW_QUANT_SQ8			1

/*
 * Metapage contents, at PageGetContents(block 0).  pd_lower always points
 * just past this struct so that generic WAL keeps it (it zeroes the hole).
 */
typedef struct HnswMetaPageData
{
	uint32		magic;
	uint32		version;
	uint32		dims;
	uint16		m;
	uint16		efConstruction;
	uint8		elemtype;
	uint8		metric;
	int16		entryLevel;		/* -1: empty graph */
	BlockNumber entryBlkno;
	OffsetNumber entryOffno;
	uint16		nfilter;		/* filter key columns (hnswfilter.h) */
	BlockNumber insertPage;		/* last page known to have free space */
	BlockNumber freeBlkno;		/* first page that may hold a free slot */
	uint8		storage;		/* HNSW_STORAGE_*: where node vectors live */
	uint8		srcElem;		/* element type of the indexed values */
	uint16		unused4;
	uint64		nodeCount;		/* informational */
	/* filter map (hnswfmap.c), only when nfilter > 0 */
	BlockNumber mapHead;		/* first map page; invalid: no map pages yet */
	BlockNumber mapTail;		/* hint: last map page */
	BlockNumber mapFree;		/* hint: first map page that may have room */
	uint32		mapPages;		/* map pages in the chain */
	uint16		mapEntrySize;	/* bytes per map entry: 6 + filter payload */
	uint16		unused5;
	uint64		changeCount;	/* bumped after every change of the graph;
								 * starts at a random value (hnswcache.c) */
} HnswMetaPageData;

typedef HnswMetaPageData *HnswMetaPage;

/* Special space of every page */
typedef struct HnswPageOpaqueData
{
	uint32		flags;
	uint16		unused;
	uint16		page_id;		/* HNSW_PAGE_ID */
} HnswPageOpaqueData;

typedef HnswPageOpaqueData *HnswPageOpaque;

#define HNSW_PAGE_META			1
#define HNSW_PAGE_NODES			2
#define HNSW_PAGE_OVERFLOW		4	/* slices of vectors too large for a node */
#define HNSW_PAGE_MAP			8	/* filter map entries (hnswfmap.c) */

/* HnswMetaPageData.storage */
#define HNSW_STORAGE_INLINE		0	/* the vector is inside the node */
#define HNSW_STORAGE_OVERFLOW	1	/* the node holds an HnswOvflRef */

#define HnswPageGetOpaque(page) ((HnswPageOpaque) PageGetSpecialPointer(page))
#define HnswPageGetMeta(page)	((HnswMetaPage) PageGetContents(page))

/*
 * A graph node: one item on a data page.  Layout (all offsets from the
 * item start, which PageAddItem MAXALIGNs):
 *
 *	0	HnswNodeHeader (56 bytes: state, level, dims, ntids, 8 heap TIDs)
 *	56	vector elements (dims * 4 or dims * 2 bytes, padded to 4), or, when
 *		flags has HNSW_NODEF_OVERFLOW, an HnswOvflRef (8 bytes) to the vector
 *		in overflow pages (hnswovfl.c)
 *	..	uint8 count[level + 1], padded to 2
 *	..	ItemPointerData nbr[2m + level * m]: level 0 first (2m slots),
 *		then m slots per upper level
 */
typedef struct HnswNodeHeader
{
	uint8		state;			/* HNSW_NODE_* */
	uint8		level;
	uint16		dims;
	uint8		ntids;			/* valid entries of heaptids[] */
	uint8		flags;			/* HNSW_NODEF_* */
	uint16		unused2;
	ItemPointerData heaptids[HNSW_HEAPTIDS];	/* identical vectors share a node */
} HnswNodeHeader;

#define HNSW_NODE_HDRSZ		sizeof(HnswNodeHeader)

/* HnswNodeHeader.flags */
#define HNSW_NODEF_OVERFLOW		0x01	/* vector in overflow pages */

/*
 * Where an out-of-line vector lives (stored in the node in place of the
 * vector): the first slice of a chain of nslices slices on overflow pages.
 */
typedef struct HnswOvflRef
{
	ItemPointerData first;
	uint16		nslices;
} HnswOvflRef;

/*
 * Header of one slice: an item on an overflow page, followed by len bytes
 * of the vector.  Slices of one vector are chained through next.
 */
typedef struct HnswOvflSlice
{
	uint16		seq;			/* 0 for the first slice of a vector */
	uint16		len;			/* payload bytes that follow the header */
	ItemPointerData next;		/* next slice; invalid after the last */
	uint16		unused;
} HnswOvflSlice;

#define HNSW_OVFL_HDRSZ			sizeof(HnswOvflSlice)
#define HNSW_OVFL_MAX_SLICES	64

/*
 * A quantized (HNSW_ELEM_SQ8) vector: this header, then one code byte per
 * dimension; code c stands for lo + scale * c.  norm and err serve the
 * distance lower bounds that let the executor re-rank from the heap (see
 * hnswsq8.c and the README, "Quantization").
 */
typedef struct HnswSq8Header
{
	float		lo;
	float		scale;
	float		norm;			/* euclidean norm of the decoded vector */
	float		err;			/* distance from the value to its decoding,
								 * in the metric's norm (l1 for l1, else
								 * l2), rounded up */
	uint32		sumc;			/* sum of the codes */
} HnswSq8Header;

#define HNSW_SQ8_HDRSZ			sizeof(HnswSq8Header)
#define HnswSq8Codes(v)			((const uint8 *) (v) + HNSW_SQ8_HDRSZ)

/*
 * A sparsevec (HNSW_ELEM_SPARSE) in stored or query form: this header,
 * int32 indices[nnz] (0-based, ascending), float values[nnz], then zeros
 * up to the slot's size.  The values follow the indices actually used, so
 * equal values are equal byte for byte whatever the slot's capacity: a
 * stored slot holds min(dims, 1,000) pairs, a query up to 16,000.
 */
typedef struct HnswSparseHeader
{
	int32		nnz;
	float		normsq;			/* VecxSparseNormSq of the values */
} HnswSparseHeader;

#define HnswSparseIndices(h)	((const int32 *) ((const char *) (h) + sizeof(HnswSparseHeader)))
#define HnswSparseValues(h) \
	((const float *) (HnswSparseIndices(h) + ((const HnswSparseHeader *) (h))->nnz))

/* Pairs a sparse slot holds: at most the dimensions, at most cap */
static inline Size
HnswSparseBytes(int dims, int cap)
{
	return sizeof(HnswSparseHeader) +
		(sizeof(int32) + sizeof(float)) * (Size) Min(dims, cap);
}

/*
 * Bytes of one stored vector: float32 and float16 elements, sq8 codes, bit
 * strings (bit length dims, padding bits zero), all padded to 4; or a
 * sparse slot.
 */
static inline Size
HnswVecBytes(int dims, int elemtype)
{
	if (elemtype == HNSW_ELEM_F32)
		return (Size) dims * 4;
	if (elemtype == HNSW_ELEM_F16)
		return TYPEALIGN(4, (Size) dims * 2);
	if (elemtype == HNSW_ELEM_SQ8)
		return TYPEALIGN(4, HNSW_SQ8_HDRSZ + (Size) dims);
	if (elemtype == HNSW_ELEM_BIT)
		return TYPEALIGN(4, ((Size) dims + 7) / 8);
	return HnswSparseBytes(dims, HNSW_SPARSE_MAX_NNZ);
}

/*
 * What a node header's dims field holds: the dimensions, or for sparse
 * indexes (up to 10^9 dimensions) the pairs of the slot.
 */
static inline uint16
HnswNodeDims(uint32 dims, int elemtype)
{
	return elemtype == HNSW_ELEM_SPARSE ? Min(dims, HNSW_SPARSE_MAX_NNZ) : dims;
}

/* Largest dimensions (bit length for bit) an index of srcElem may have */
static inline int64
HnswMaxDims(int srcElem)
{
	if (srcElem == HNSW_ELEM_BIT)
		return HNSW_MAX_BITS;
	if (srcElem == HNSW_ELEM_SPARSE)
		return VECX_SPARSE_MAX_DIM;
	return VECX_MAX_DIM;
}

/* Element types whose stored form may be quantized (sq8) or copied as codes */
#define HnswElemDense(et)	((et) == HNSW_ELEM_F32 || (et) == HNSW_ELEM_F16)

/*
 * The query form of an sq8 index: the float32 query (unit length under
 * cosine) and the sums its lower bounds use.
 */
typedef struct HnswSq8Query
{
	float		norm;			/* euclidean norm */
	float		sum;			/* sum of the elements */
	float		x[FLEXIBLE_ARRAY_MEMBER];
} HnswSq8Query;

/* Bytes the vector takes inside the node: the vector or its reference */
static inline Size
HnswInlineBytes(int dims, int elemtype, bool ovf)
{
	return ovf ? TYPEALIGN(4, sizeof(HnswOvflRef)) : HnswVecBytes(dims, elemtype);
}

#define HnswNodeIsOvf(node)	((((const HnswNodeHeader *) (node))->flags & HNSW_NODEF_OVERFLOW) != 0)

static inline int
HnswLevelCap(int m, int level)
{
	return level == 0 ? 2 * m : m;
}

static inline int
HnswLevelStart(int m, int level)
{
	return level == 0 ? 0 : 2 * m + (level - 1) * m;
}

static inline int
HnswTotalSlots(int m, int level)
{
	return 2 * m + level * m;
}

static inline Size
HnswNodeSize(int dims, int elemtype, int m, int level, bool ovf)
{
	return HNSW_NODE_HDRSZ + HnswInlineBytes(dims, elemtype, ovf) +
		TYPEALIGN(2, level + 1) +
		sizeof(ItemPointerData) * (Size) HnswTotalSlots(m, level);
}

#define HnswNodeVector(node)	((void *) ((char *) (node) + HNSW_NODE_HDRSZ))
#define HnswNodeCounts(node, dims, et) \
	((uint8 *) ((char *) (node) + HNSW_NODE_HDRSZ + \
				HnswInlineBytes(dims, et, HnswNodeIsOvf(node))))
#define HnswNodeNbrs(node, dims, et, level) \
	((ItemPointerData *) ((char *) HnswNodeCounts(node, dims, et) + TYPEALIGN(2, (level) + 1)))

/* Largest item that fits on an otherwise empty data page */
#define HNSW_MAX_ITEM_SIZE \
	MAXALIGN_DOWN(BLCKSZ - MAXALIGN(SizeOfPageHeaderData + sizeof(ItemIdData)) - \
				  MAXALIGN(sizeof(HnswPageOpaqueData)))

/* Distance context: chosen once per scan/build/insert */
typedef struct HnswDist
{
	int			dims;
	uint8		elemtype;		/* of the stored form */
	uint8		srcElem;		/* of the indexed values (never SQ8) */
	uint8		metric;
	Size		vbytes;			/* bytes of one stored vector */
	bool		overflow;		/* vectors live in overflow pages */
	const VecxKernels *k;
} HnswDist;

/*
 * HnswLayout
 *		What an index's nodes and distances depend on, computed once from
 *		the metapage (HnswLayoutFromMeta) and passed whole, instead of dims,
 *		element type, m, ... one by one.  The node accessors below take it.
 */
typedef struct HnswLayout
{
	HnswDist	d;				/* dims, element types, metric, storage */
	int			m;
	int			efConstruction;
	int			nfilter;		/* filter columns */
	Size		fbytes;			/* their payload per node */
} HnswLayout;

/* Bytes of a node of level, its filter payload included */
static inline Size
HnswLayoutNodeSize(const HnswLayout *lay, int level)
{
	return HnswNodeSize(lay->d.dims, lay->d.elemtype, lay->m, level, lay->d.overflow) +
		lay->fbytes;
}

/* The neighbour counts of a node (one per level) */
static inline uint8 *
HnswLayoutCounts(const HnswLayout *lay, const HnswNodeHeader *node)
{
	return HnswNodeCounts(node, lay->d.dims, lay->d.elemtype);
}

/* All of a node's neighbour slots, level 0 first (HnswLevelStart) */
static inline ItemPointerData *
HnswLayoutNbrs(const HnswLayout *lay, const HnswNodeHeader *node)
{
	return HnswNodeNbrs(node, lay->d.dims, lay->d.elemtype, node->level);
}

/* A node's neighbour list at level (capacity HnswLevelCap) */
static inline ItemPointerData *
HnswLayoutList(const HnswLayout *lay, const HnswNodeHeader *node, int level)
{
	return HnswNodeNbrs(node, lay->d.dims, lay->d.elemtype, node->level) +
		HnswLevelStart(lay->m, level);
}

/*
 * Are two stored vectors identical?  Under L2, L1, cosine and Hamming these
 * are points at distance 0 from each other, and under Jaccard unless they
 * are zero; inner product has no such notion, so identical vectors get no
 * special treatment there.
 */
static inline bool
HnswIdentical(const HnswDist *d, const void *a, const void *b)
{
	if (d->metric == HNSW_METRIC_IP || memcmp(a, b, d->vbytes) != 0)
		return false;
	/* two all-zero bit strings are at Jaccard distance 1, not 0 */
	if (d->metric == HNSW_METRIC_JACCARD)
	{
		Size		i;

		for (i = 0; i < d->vbytes; i++)
			if (((const uint8 *) a)[i] != 0)
				return true;
		return false;
	}
	return true;
}

extern float HnswSq8Distance(const HnswDist *d, const void *a, const void *b);
extern float HnswDistanceExt(const HnswDist *d, const void *a, const void *b);

/*
 * Distance between two stored vectors (a query in stored form included);
 * smaller is closer.  l2 is squared; cosine and inner product are 1 - dot
 * and -dot (float32 vectors); bit and sparse distances are the operators'
 * own values (HnswDistanceExt).  Searches use HnswDistanceQ instead.
 */
static inline float
HnswDistance(const HnswDist *d, const void *a, const void *b)
{
	if (d->elemtype == HNSW_ELEM_SQ8)
		return HnswSq8Distance(d, a, b);
	if (d->elemtype == HNSW_ELEM_F32)
	{
		switch (d->metric)
		{
			case HNSW_METRIC_L2:
				return d->k->l2sq_f32(a, b, d->dims);
			case HNSW_METRIC_IP:
				return -d->k->dot_f32(a, b, d->dims);
			case HNSW_METRIC_COSINE:
				return 1.0f - d->k->dot_f32(a, b, d->dims);
			default:
				return d->k->l1_f32(a, b, d->dims);
		}
	}
	if (d->elemtype != HNSW_ELEM_F16)
		return HnswDistanceExt(d, a, b);	/* bit, sparse */
	switch (d->metric)
	{
		case HNSW_METRIC_L2:
			return d->k->l2sq_f16(a, b, d->dims);
		case HNSW_METRIC_IP:
			return -d->k->dot_f16(a, b, d->dims);
		case HNSW_METRIC_COSINE:
			{
				/* float16 cosine vectors are stored as they are, not unit */
				float		dot,
							aa,
							bb;

				d->k->cos_f16(a, b, d->dims, &dot, &aa, &bb);
				return 1.0f - dot / sqrtf(aa * bb);
			}
		default:
			return d->k->l1_f16(a, b, d->dims);
	}
}

/*
 * HnswDistanceQ
 *		Distance from a query in query form (HnswPrepareQuery) to a stored
 *		vector.  The same as HnswDistance except for sq8 indexes, whose
 *		queries stay float32: only the stored side is approximate.
 */
static inline float
HnswDistanceQ(const HnswDist *d, const void *q, const void *b)
{
	if (d->elemtype == HNSW_ELEM_SQ8)
	{
		const HnswSq8Query *qq = (const HnswSq8Query *) q;
		const HnswSq8Header *h = (const HnswSq8Header *) b;

		switch (d->metric)
		{
			case HNSW_METRIC_L2:
				return d->k->l2sq_sq8(qq->x, HnswSq8Codes(b), h->lo, h->scale, d->dims);
			case HNSW_METRIC_IP:
				return -(h->lo * qq->sum + h->scale * d->k->dot_sq8(qq->x, HnswSq8Codes(b), d->dims));
			case HNSW_METRIC_COSINE:
				return 1.0f - (h->lo * qq->sum + h->scale * d->k->dot_sq8(qq->x, HnswSq8Codes(b), d->dims));
			default:
				return d->k->l1_sq8(qq->x, HnswSq8Codes(b), h->lo, h->scale, d->dims);
		}
	}
	return HnswDistance(d, q, b);
}

/* Prefetch bytes [from, to) of p, one cache line at a time */
static inline void
HnswPrefetch(const void *p, Size from, Size to)
{
	Size		o;

	for (o = from; o < to; o += 64)
		__builtin_prefetch((const char *) p + o);
}

/* The largest float not above v (lower bounds must stay lower) */
static inline float
HnswFloatBelow(double v)
{
	float		f = (float) v;

	if ((double) f > v)
		f = nextafterf(f, -FLT_MAX);
	return f;
}

/* Is the scan's order only approximate (rows re-ranked by the executor)? */
#define HnswLossyOrder(d)	((d)->elemtype == HNSW_ELEM_SQ8)

/*
 * Binary heap of (distance, index) pairs; min-heap or max-heap.  Storage is
 * allocated once and grown by doubling, never in the inner loop's steady
 * state.
 */
typedef struct HnswHeapItem
{
	float		dist;
	int32		idx;
} HnswHeapItem;

typedef struct HnswHeap
{
	HnswHeapItem *items;
	int			n;
	int			cap;
	bool		max;			/* max-heap if true */
} HnswHeap;

/* Settings */
extern int	hnsw_ef_search;
extern int	hnsw_iterative_scan;
extern int	hnsw_max_scan_tuples;
extern int	hnsw_visited_bitmap_limit;
extern double hnsw_scan_mem_multiplier;

/* hnsw.c */
extern void HnswInitDist(HnswDist *d, int dims, int elemtype, int srcElem, int metric,
						 bool ovf);
extern int	HnswGetQuantization(Relation index);
extern int	HnswStoredElem(int srcElem, int quantization);
extern const HnswOpInfo *HnswGetOpInfo(Relation index);
extern int	HnswGetM(Relation index);
extern int	HnswGetEfConstruction(Relation index);
extern int	HnswIndexDims(Relation index);
extern struct varlena *HnswDetoastValue(const HnswDist *d, Datum value);
extern bool HnswPrepareValue(const HnswDist *d, Datum value, void *out);
extern bool HnswPrepareSparse(const HnswDist *d, Datum value, void *out, int cap);
extern bool HnswMetaTypesValid(int elemtype, int srcElem, int metric);

/* hnswsq8.c: quantized node vectors */
extern Size HnswQueryBytes(const HnswDist *d);
extern bool HnswSq8PrepareValue(const HnswDist *d, Datum value, void *out);
extern bool HnswPrepareQuery(const HnswDist *d, Datum value, void *out);
extern void HnswQueryFromStored(const HnswDist *d, const void *stored, void *out);
extern void HnswSq8Encode(const HnswDist *d, const float *x, void *out);
extern void HnswSq8EncodeStored(const HnswDist *d, const HnswDist *cd,
								const void *stored, float *x, void *out);
extern double HnswSq8LowerBound(const HnswDist *d, const void *q, const void *stored,
								float dist);
extern double HnswOrderValue(const HnswDist *d, float dist);
extern int	HnswRandomLevel(int m, int maxLevel);
extern int	HnswMaxLevelFor(int dims, int elemtype, int m, bool ovf);
extern void HnswInitPage(Page page, uint32 flags);
extern void HnswReadMeta(Relation index, HnswMetaPageData *meta);
extern void HnswCheckMetaPage(Relation index, Page page);
extern void HnswMetaLowerHint(Relation index, Size field, BlockNumber blkno);
extern HnswNodeHeader *HnswGetNode(Relation index, Page page, BlockNumber blkno,
								   OffsetNumber off, int dims, int elemtype, int m);
extern void HnswLayoutFromMeta(HnswLayout *lay, const HnswMetaPageData *meta);
extern void HnswLayoutInit(HnswLayout *lay, int dims, int elemtype, int srcElem,
						   int metric, bool ovf, int m, int efc, int nfilter);

/* HnswGetNode with the layout's dims, element type and m */
static inline HnswNodeHeader *
HnswLayoutGetNode(Relation index, Page page, BlockNumber blkno, OffsetNumber off,
				  const HnswLayout *lay)
{
	return HnswGetNode(index, page, blkno, off, lay->d.dims, lay->d.elemtype, lay->m);
}
extern void HnswCorrupt(Relation index, BlockNumber blkno, OffsetNumber off,
						const char *what) pg_attribute_noreturn();

/* hnswovfl.c: vectors in overflow pages */
extern const void *HnswNodeVec(Relation index, const HnswDist *d, const HnswNodeHeader *node,
							   BlockNumber blkno, OffsetNumber off);
extern void HnswOvflWriteNew(Relation index, const HnswDist *d, const void *vec,
							 HnswOvflRef *ref);
extern void HnswOvflRewrite(Relation index, const HnswDist *d, const HnswOvflRef *ref,
							const void *vec, BlockNumber blkno, OffsetNumber off);
extern int	HnswOvflSlices(const HnswDist *d);
extern Size HnswOvflSliceMax(void);

/* hnswutils.c: heaps */
extern void HnswHeapInit(HnswHeap *h, int cap, bool max);
extern void HnswHeapPush(HnswHeap *h, float dist, int32 idx);
extern HnswHeapItem HnswHeapPop(HnswHeap *h);
static inline HnswHeapItem *
HnswHeapTop(HnswHeap *h)
{
	return &h->items[0];
}

/* hnswutils.c: on-disk graph search */
typedef struct HnswEntry
{
	ItemPointerData tid;		/* node location */
	float		dist;
	uint8		ntids;			/* 0 unless the node is live */
	uint8		tidpos;			/* next heap TID a scan returns */
	bool		expanded;
	bool		emitted;
	bool		inresult;
	bool		nomatch;		/* fails the scan's filter (hnswfilter.c) */
	float		lb;				/* lossy order: lower bound of the operator's
								 * value (HnswSq8LowerBound) */
	ItemPointerData heaptids[HNSW_HEAPTIDS];
	int32		nbrStart;		/* into nbrArena, -1 if not copied */
	int16		nbrCount;
	int16		nbrLevel;
	int32		gidx;			/* node number in a graph copy (hnswcache.c) */
} HnswEntry;

typedef struct HnswSearch
{
	Relation	index;
	HnswDist	dist;
	int			m;
	BlockNumber nblocks;		/* cached relation size */
	int			perPage;		/* max items per page, for visited keys */

	/*
	 * The visited set (hnswutils.c): a bitmap over every possible node key
	 * while that is small, else a hash set of the keys visited, so a scan's
	 * memory and its per-level clearing follow the nodes it visits, not the
	 * size of the index.
	 */
	uint64	   *visited;		/* bitmap words, or hash slots (key + 1) */
	Size		visitedWords;	/* words, or slots (a power of two) */
	Size		visitedCount;	/* keys in the hash set */
	bool		visitedHashed;
	HnswEntry  *pool;
	int			npool;
	int			maxpool;
	ItemPointerData *arena;
	Size		narena;
	Size		maxarena;
	HnswHeap	cand;			/* min-heap of unexpanded pool indices */
	HnswHeap	res;			/* max-heap of at most ef pool indices */
	int64		ndistances;
	int64		walkBudget;		/* filtered walk: expand nothing once
								 * ndistances reaches it (hnswscan.c) */
	bool		skipDeleted;	/* (insert) do not return deleted nodes */
	const void *query;
	Size		memUsed;
	/* filtered search (hnswfilter.c); NULL filter: none */
	const struct VecxFilter *filter;
	const HnswLayout *lay;		/* the index's (the caller's, outlives s) */
	/* walk a backend-local copy instead of the pages (hnswcache.c) */
	const struct HnswGraph *graph;
	HnswDist	walkDist;		/* of the walk: sq8 if the copy has codes */
	const void *walkQuery;
	const char *walkVecs;
	Size		walkStride;
	/* the walk's pending neighbours (hnswwalk.h): pages, or a copy's */
	ItemPointerData todo[2 * HNSW_MAX_M];
	Buffer		todoBufs[2 * HNSW_MAX_M];
	int32		todoGraph[2 * HNSW_MAX_M];
	ItemPointerData cur;		/* greedy descent: the current entry */
} HnswSearch;

extern Buffer HnswReadBuffer(Relation index, BlockNumber blkno);
extern void HnswWriteNbrList(Relation index, Buffer buf, OffsetNumber off,
							 const HnswLayout *lay, int level,
							 const ItemPointerData *upd, int nupd);
extern void HnswPrefetchRecent(Relation index, BlockNumber blkno, OffsetNumber off);
extern HnswSearch *HnswSearchCreate(Relation index, const HnswLayout *lay);
extern void HnswSearchReset(HnswSearch *s);
extern int32 HnswSearchVisit(HnswSearch *s, ItemPointer tid, int level, int ef,
							 bool force);
extern void HnswSearchLayer(HnswSearch *s, int level, int ef);
extern void HnswSearchGreedyDescend(HnswSearch *s, ItemPointer entry, int entryLevel,
									int targetLevel, ItemPointer out);
extern int	HnswSearchCollect(HnswSearch *s, int32 *out, int max, bool liveOnly);
extern void HnswSearchUseGraph(HnswSearch *s, const struct HnswGraph *g,
							   const void *walkQuery);
extern int	HnswSelectNeighbours(const HnswDist *d, char **vecs, float *dists,
								 int n, int cap, int *out);

/*
 * hnswcache.c: a backend-local read-only copy of a graph.  Nodes are
 * numbered densely in page order: node i of block b is slotBase[b] + i.
 */
typedef struct HnswGraphNode
{
	ItemPointerData tid;		/* where the node lives */
	uint8		state;			/* HNSW_NODE_* */
	uint8		level;
	ItemPointerData heaptids[HNSW_HEAPTIDS];	/* ntids[] of them */
} HnswGraphNode;

typedef struct HnswGraph
{
	uint64		changeCount;	/* of the metapage the copy was taken at */
	int32		nnodes;
	int			m;
	Size		vstride;		/* bytes between vectors in vecs */
	Size		bytes;			/* memory the copy takes */
	BlockNumber nblocks;
	uint32	   *slotBase;		/* nblocks + 1 entries */
	HnswGraphNode *nodes;
	uint8	   *ntids;			/* heap TIDs of node i, 0 unless live; apart
								 * from nodes[], so a walk reads only this,
								 * the vectors and the lists */
	char	   *vecs;			/* stored form, as on the pages */
	/* float32 and float16 indexes: sq8 codes to walk, vecs to re-rank */
	char	   *codes;			/* NULL for sq8 indexes */
	Size		cstride;
	uint8		srcElem;		/* for the walk's sq8 distance context */
	int32	   *nbr0;			/* per node 2m + 1: count, then node numbers */
	int32	   *upStart;		/* per node: into up, or -1 at level 0 */
	int32	   *up;				/* per upper level m + 1: count, numbers */
	Size		nup;			/* entries of up used */
	MemoryContext cxt;			/* holds all of the above (of a shared copy:
								 * only this header) */
	int			pins;			/* scans using it (HnswCacheRelease) */
	bool		retired;		/* stale or evicted: freed when unpinned */

	/*
	 * A shared copy (hnsw.shared_cache_size) is walked through a header of
	 * this backend's whose arrays point into shared memory; -1 for a
	 * backend-local copy.
	 */
	int			shSlot;
	uint32		shGen;			/* the slot's incarnation */
} HnswGraph;

extern int	hnsw_cache_size;
extern int	hnsw_shared_cache_size;

/* Node number of the node at tid, or -1 if the copy has no such slot */
static inline int32
HnswGraphIndex(const HnswGraph *g, ItemPointer tid)
{
	BlockNumber blkno = ItemPointerGetBlockNumber(tid);
	OffsetNumber off = ItemPointerGetOffsetNumber(tid);

	if (blkno >= g->nblocks || off < FirstOffsetNumber ||
		off > g->slotBase[blkno + 1] - g->slotBase[blkno])
		return -1;
	return (int32) (g->slotBase[blkno] + off - 1);
}

/* Neighbour list of node gi at level: *count entries */
static inline const int32 *
HnswGraphNbrs(const HnswGraph *g, int32 gi, int level, int *count)
{
	const int32 *p;

	if (level == 0)
		p = g->nbr0 + (Size) gi * (2 * g->m + 1);
	else if (g->nodes[gi].level < level)
	{
		*count = 0;
		return NULL;
	}
	else
		p = g->up + g->upStart[gi] + (Size) (level - 1) * (g->m + 1);
	*count = p[0];
	return p + 1;
}

/* The node TID of a pooled entry (a copy's entries keep only gidx) */
static inline ItemPointerData
HnswEntryTid(const HnswSearch *s, const HnswEntry *e)
{
	return e->gidx >= 0 ? s->graph->nodes[e->gidx].tid : e->tid;
}

/* The pos'th heap TID of a pooled entry (a copy's entries keep none) */
static inline ItemPointerData
HnswEntryHeapTid(const HnswSearch *s, const HnswEntry *e, int pos)
{
	return e->gidx >= 0 ? s->graph->nodes[e->gidx].heaptids[pos] : e->heaptids[pos];
}

extern void HnswCacheInit(void);
extern bool HnswCacheEnabled(void);
extern const HnswGraph *HnswCacheGet(Relation index, const HnswMetaPageData *meta);
extern void HnswCacheRelease(const HnswGraph *g);
extern void HnswCacheNoteWalk(Relation index, int64 nodes);
extern void HnswBumpChangeCount(Relation index);

/* hnswbuild.c */
extern IndexBuildResult *hnswbuild(Relation heap, Relation index, IndexInfo *indexInfo);
extern void hnswbuildempty(Relation index);
extern PGDLLEXPORT void HnswParallelBuildMain(dsm_segment *seg, shm_toc *toc);

/* hnswinsert.c */
extern bool hnswinsert(Relation index, Datum *values, bool *isnull,
					   ItemPointer heap_tid, Relation heap,
					   IndexUniqueCheck checkUnique, bool indexUnchanged,
					   IndexInfo *indexInfo);
extern void HnswInsertOnDisk(Relation index, const void *vec, const char *filter,
							 ItemPointer heaptid, bool building);
extern bool HnswTryAddDuplicate(Relation index, const HnswLayout *lay,
								ItemPointer tid, const void *vec, const char *filter,
								ItemPointer heaptid);
extern bool HnswReadNodeInfo(Relation index, const HnswLayout *lay,
							 ItemPointer tid, int level, uint8 *state, void *vec,
							 ItemPointerData *nbrs, int *count);
extern void HnswFillMetaPage(Page page, int dims, int m, int efc,
							 const HnswOpInfo *info, int quantization);

/* hnswscan.c */
extern IndexScanDesc hnswbeginscan(Relation index, int nkeys, int norderbys);
extern void hnswrescan(IndexScanDesc scan, ScanKey keys, int nkeys,
					   ScanKey orderbys, int norderbys);
extern bool hnswgettuple(IndexScanDesc scan, ScanDirection dir);
extern void hnswendscan(IndexScanDesc scan);
extern void hnswexplain(IndexScanDesc scan, StringInfo out);

/* hnswvacuum.c */
extern IndexBulkDeleteResult *hnswbulkdelete(IndexVacuumInfo *info,
											 IndexBulkDeleteResult *stats,
											 IndexBulkDeleteCallback callback,
											 void *callback_state);
extern IndexBulkDeleteResult *hnswvacuumcleanup(IndexVacuumInfo *info,
												IndexBulkDeleteResult *stats);

/* hnswcost.c */
extern void hnswcostestimate(PlannerInfo *root, IndexPath *path, double loop_count,
							 Cost *indexStartupCost, Cost *indexTotalCost,
							 Selectivity *indexSelectivity, double *indexCorrelation,
							 double *indexPages);

/* hnswvalidate.c */
extern bool hnswvalidate(Oid opclassoid);

#endif							/* VECX_HNSW_H */
