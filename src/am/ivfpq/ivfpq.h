/*-------------------------------------------------------------------------
 *
 * ivfpq.h
 *	  Private declarations of the ivfpq index access method.
 *
 * See src/am/ivfpq/README for the design: inverted lists over k-means
 * centroids, product-quantized residuals, exact re-ranking from the heap
 * through the executor's reorder queue.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IVFPQ_H
#define IVFPQ_H

#include "postgres.h"

#include "access/amapi.h"
#include "access/genam.h"
#include "access/generic_xlog.h"
#include "access/itup.h"
#include "lib/pairingheap.h"
#include "nodes/execnodes.h"
#include "nodes/pathnodes.h"
#include "storage/bufmgr.h"
#include "storage/bufpage.h"
#include "storage/dsm.h"
#include "storage/shm_toc.h"
#include "utils/relcache.h"

#include "vecx.h"
#include "am/common/vecxam.h"

#define IVFPQ_MAGIC				0x51504649	/* "IFPQ" */
/*
 * 5: the recall calibration (ncalib, calib[]) after the reserved word;
 * 4: list radii in the directory and the list encoding (PQ codes or full
 * vectors, the ivfflat access method) in the metapage, read as having no
 * calibration; 2: filter columns (nfilter), 0.1.0's format, read as a PQ
 * index with no known radius (its scans cannot skip lists: REINDEX to get
 * radii) and no calibration.  Versions 1 and 3 were development states
 * between releases and are not read.
 */
#define IVFPQ_VERSION			5
#define IVFPQ_MIN_VERSION		2	/* oldest format read */
#define IVFPQ_VERSION_RELEASED	2	/* the one older format read (0.1.0) */
#define IVFPQ_VERSION_RADIUS	4	/* first version read with list radii */
#define IVFPQ_VERSION_CALIB		5	/* first version with a recall calibration */

/* Readable format versions: 2, 4 and 5 */
#define IvfpqVersionReadable(v) \
	((v) == IVFPQ_VERSION_RELEASED || (v) == IVFPQ_VERSION_RADIUS || (v) == IVFPQ_VERSION)

/*
 * Recall calibration (metapage, version 5; ivfpqbuild.c measures it,
 * ivfpqcost.c uses it): calib[i] is the fraction of the true k nearest
 * neighbours of sampled rows found within the 2^i lists nearest to the
 * query, scaled so that IVFPQ_CALIB_ONE is 1.  ncalib entries are stored,
 * one for each power of two below lists (probing every list finds every
 * neighbour); the rest are zero.
 */
#define IVFPQ_NCALIB			16	/* 15 powers of two below IVFPQ_MAX_LISTS, one spare */
#define IVFPQ_CALIB_ONE			65535
#define IVFPQ_CALIB_QUERIES		48	/* sampled rows used as queries */
#define IVFPQ_CALIB_K			10	/* neighbours per query */
#define IVFPQ_CALIB_BASE		16384	/* sample rows searched exactly */

/*
 * List encodings (metapage "encoding", version 4): what a list entry holds.
 * PQ: product-quantization codes of the residual (ivfpq; the executor
 * re-ranks from the table).  FLAT: the whole vector as stored in the table
 * (float32, float16 or bit words; the ivfflat access method), scored
 * exactly by the scan.  Everything else (lists, k-means, scans, vacuum,
 * WAL, checker) is the same machinery.
 */
#define IVFPQ_ENC_PQ			0
#define IVFPQ_ENC_FLAT			1
#define IVFPQ_PAGE_ID			0xFF91

#define IVFPQ_METAPAGE_BLKNO	0

/* Page types (IvfpqPageOpaqueData.type) */
#define IVFPQ_PAGE_META			1
#define IVFPQ_PAGE_CODEBOOK		2
#define IVFPQ_PAGE_CENTROID		3
#define IVFPQ_PAGE_DIRECTORY	4
#define IVFPQ_PAGE_DATA			5	/* entries as page items */
#define IVFPQ_PAGE_BLOCK		6	/* one fast-scan block of 32 entries */

/* Support function: the operator class's VecxOpInfo (common/vecxam.h) */
#define IVFPQ_INFO_PROC			1
#define IVFPQ_NPROC				1

/* Metrics ivfpq supports; ivfflat also Hamming distance on bit */
#define IVFPQ_METRICS \
	(VECX_METRIC_BIT(VECX_METRIC_L2) | VECX_METRIC_BIT(VECX_METRIC_IP) | \
	 VECX_METRIC_BIT(VECX_METRIC_COSINE))
#define IVFFLAT_METRICS \
	(IVFPQ_METRICS | VECX_METRIC_BIT(VECX_METRIC_HAMMING))

/*
 * Largest indexed dimensions of ivfflat (an entry holds the whole vector
 * and must fit on one page), the reference extension's limits.
 */
#define IVFFLAT_MAX_DIM			2000
#define IVFFLAT_MAX_HALF_DIM	4000
#define IVFFLAT_MAX_BITS		64000

/* Metric (VECX_METRIC_*) and element type (VECX_ELEM_*) packed as in the metapage */
#define IVFPQ_KIND(metric, elem)	((metric) | ((elem) << 8))
#define IVFPQ_KIND_METRIC(kind)		((kind) & 0xFF)
#define IVFPQ_KIND_ELEM(kind)		(((kind) >> 8) & 0xFF)

/* Reloption limits and defaults */
#define IVFPQ_DEFAULT_LISTS		100
#define IVFPQ_MIN_LISTS			1
#define IVFPQ_MAX_LISTS			32768
#define IVFPQ_DEFAULT_BITS		4
#define IVFPQ_MAX_M				8000

/* k-means */
#define IVFPQ_KMEANS_ITERS		10
#define IVFPQ_PQ_ITERS			12
#define IVFPQ_SAMPLES_PER_LIST	50
#define IVFPQ_MIN_SAMPLES		10000
#define IVFPQ_PQ_MAX_SAMPLES	16384
#define IVFPQ_SEED				0x1F5A9C3B7E12D4A6ULL

/* Build progress subphases */
#define IVFPQ_PHASE_SAMPLE		2
#define IVFPQ_PHASE_KMEANS		3
#define IVFPQ_PHASE_PQ			4
#define IVFPQ_PHASE_LOAD		5

typedef struct IvfpqPageOpaqueData
{
	BlockNumber nextblkno;		/* data pages: next page of the same list */
	uint32		list;			/* data pages: list number */
	uint16		type;			/* IVFPQ_PAGE_* */
	uint16		page_id;		/* IVFPQ_PAGE_ID */
} IvfpqPageOpaqueData;

typedef IvfpqPageOpaqueData *IvfpqPageOpaque;

#define IvfpqPageGetOpaque(page) ((IvfpqPageOpaque) PageGetSpecialPointer(page))

/* Bytes of raw payload on codebook, centroid and directory pages */
#define IVFPQ_RAW_BYTES \
	((BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(IvfpqPageOpaqueData))) & ~((Size) 15))
#define IvfpqRawData(page) ((char *) (page) + MAXALIGN(SizeOfPageHeaderData))

typedef struct IvfpqMetaPageData
{
	uint32		magic;
	uint32		version;
	int32		dims;			/* 0 while untrained and no typmod */
	int32		kind;			/* IVFPQ_KIND() of the operator class */
	int32		lists;			/* lists in use (1 when untrained) */
	int32		m;				/* sub-quantizers */
	int32		nbits;			/* bits per code: 4 or 8 */
	int32		trained;		/* 0: entries carry no codes */
	int32		entrysize;		/* bytes of one IvfpqEntry */
	BlockNumber codebookStart;
	uint32		codebookPages;
	BlockNumber centroidStart;
	uint32		centroidPages;
	BlockNumber dirStart;
	uint32		dirPages;
	uint32		fastscan;		/* data pages are fast-scan blocks */
	uint32		nfilter;		/* filter key columns after the vector (v2) */
	uint32		encoding;		/* IVFPQ_ENC_* (v4; zero before) */
	uint32		reserved;
	uint32		ncalib;			/* calib[] entries in use (v5) */
	uint16		calib[IVFPQ_NCALIB];	/* recall at 2^i probes (v5) */
} IvfpqMetaPageData;

/* Bytes of the metapage data before version 5 (no calibration) */
#define IVFPQ_META_SIZE_V4		offsetof(IvfpqMetaPageData, ncalib)
#define IvfpqMetaSize(version) \
	((version) >= IVFPQ_VERSION_CALIB ? sizeof(IvfpqMetaPageData) : IVFPQ_META_SIZE_V4)

typedef IvfpqMetaPageData *IvfpqMetaPage;

#define IvfpqPageGetMeta(page) ((IvfpqMetaPage) PageGetContents(page))

/* One list's entry in the directory */
typedef struct IvfpqListDir
{
	BlockNumber head;			/* first data page, or InvalidBlockNumber */
	BlockNumber tail;			/* last data page */
	BlockNumber insertpage;		/* first page that may have free space */
	float		radius;			/* v3: >= IvfpqEntryReach() of every entry */
} IvfpqListDir;

#define IVFPQ_DIR_PER_PAGE	((int) (IVFPQ_RAW_BYTES / sizeof(IvfpqListDir)))

/*
 * One indexed vector on a data page (stored as a page item).  With filter
 * columns the entry is followed, at IVFPQ_ENTRY_SIZE(codebytes), by the
 * filter payload of src/am/common/vecxfilter.h (null bitmap, 8-byte slots).
 */
typedef struct IvfpqEntry
{
	ItemPointerData tid;		/* heap tuple */
	uint16		flags;
	float		err;			/* |x - decoded(x)|, rounded up */
	float		norm;			/* |x| (after normalization for cosine) */
	uint8		codes[FLEXIBLE_ARRAY_MEMBER];
} IvfpqEntry;

#define IVFPQ_ENTRY_UNENCODED	0x0001	/* no codes: lower bound unknown */

#define IVFPQ_ENTRY_SIZE(codebytes) (offsetof(IvfpqEntry, codes) + (codebytes))

/*
 * A trained FLAT (ivfflat) entry is the heap TID and flags (zero) followed
 * at IVFFLAT_ENTRY_HDR by the vector as the column stores it: float32 or
 * float16 elements, or the bytes of a bit string (padding bits zero); then
 * the filter payload, if any.  Items are MAXALIGNed, so the elements are
 * aligned.  Untrained FLAT entries have the PQ untrained layout.
 */
#define IVFFLAT_ENTRY_HDR		offsetof(IvfpqEntry, err)
#define IvfflatEntryVec(e)		((char *) (e) + IVFFLAT_ENTRY_HDR)

/*
 * Fast-scan block pages (4-bit codes): the raw payload holds as many
 * blocks as fit (IVFPQ_RAW_BYTES / block size, at least one), each of up to
 * 16 entries, columns first, codes transposed as src/simd/pq.h describes.
 * Block layout, from the block's start:
 *
 *   offset  size          field
 *   0       2             number of entries n (0..16); slots 0..n-1 in use
 *   2       6             reserved
 *   8       16 * 6        heap TIDs
 *   104     16 * 4        err
 *   168     16 * 4        norm
 *   232     32 * ngroups  codes (ngroups = ceil(m / 4))
 */
#define IVFPQ_FS_SLOTS			16
#define IVFPQ_FS_TIDS			8
#define IVFPQ_FS_ERR			(IVFPQ_FS_TIDS + IVFPQ_FS_SLOTS * 6)
#define IVFPQ_FS_NORM			(IVFPQ_FS_ERR + IVFPQ_FS_SLOTS * 4)
#define IVFPQ_FS_CODES			(IVFPQ_FS_NORM + IVFPQ_FS_SLOTS * 4)
#define IVFPQ_FS_SIZE(ngroups)	(IVFPQ_FS_CODES + 32 * (Size) (ngroups))
/* with filter columns, 16 payloads of fbytes each follow the codes */
#define IVFPQ_FS_BLOCK_SIZE(ngroups, fbytes) \
	(IVFPQ_FS_SIZE(ngroups) + IVFPQ_FS_SLOTS * (Size) (fbytes))
#define IVFPQ_FS_MAX_M_F(fbytes) \
	((int) ((IVFPQ_RAW_BYTES - IVFPQ_FS_CODES - IVFPQ_FS_SLOTS * (Size) (fbytes)) / 32) * 4)
#define IVFPQ_FS_MAX_M			IVFPQ_FS_MAX_M_F(0)
#define IVFPQ_FS_MAX_BLOCKS		((int) (IVFPQ_RAW_BYTES / IVFPQ_FS_SIZE(1)))

#define IvfpqBlockCount(blk)	(*(uint16 *) (blk))
#define IvfpqPageBlock(st, page, b)	(IvfpqRawData(page) + (Size) (b) * (st)->blocksize)
#define IvfpqBlockTid(blk, i)	((ItemPointer) ((blk) + IVFPQ_FS_TIDS + 6 * (i)))
#define IvfpqBlockErr(blk)		((float *) ((blk) + IVFPQ_FS_ERR))
#define IvfpqBlockNorm(blk)		((float *) ((blk) + IVFPQ_FS_NORM))
#define IvfpqBlockCodes(blk)	((uint8 *) ((blk) + IVFPQ_FS_CODES))
#define IvfpqBlockFilter(st, blk, i) \
	((blk) + (st)->blockfoff + (Size) (i) * (st)->fbytes)
#define IvfpqEntryFilter(st, e)	((char *) (e) + (st)->entryfoff)

/* Reloptions; ivfflat's (IvfflatOptions) are the first two fields */
typedef struct IvfpqOptions
{
	int32		vl_len_;
	int			lists;
	int			pq_m;			/* 0: automatic */
	int			pq_bits;
} IvfpqOptions;

typedef struct IvfflatOptions
{
	int32		vl_len_;
	int			lists;
} IvfflatOptions;

/*
 * What a relcache entry caches (rd_amcache): the immutable part of the
 * index, read once from the metapage, codebook and centroid pages.  One
 * palloc chunk so that the relcache can free it.
 */
typedef struct IvfpqState
{
	int			encoding;		/* IVFPQ_ENC_* */
	int			dims;
	int			kind;
	int			metric;
	int			type;
	int			lists;
	int			m;
	int			nbits;
	int			ksub;			/* 1 << nbits */
	bool		trained;
	bool		fastscan;		/* block pages */
	int			ngroups;		/* ceil(m / 4) */
	Size		blocksize;		/* IVFPQ_FS_BLOCK_SIZE(ngroups, fbytes) */
	int			nfilter;		/* filter key columns */
	Size		fbytes;			/* filter payload bytes per entry (0: none) */
	Size		entryfoff;		/* payload offset in an item entry */
	Size		blockfoff;		/* payload offset in a fast-scan block */
	int			blocksperpage;	/* IVFPQ_RAW_BYTES / blocksize */
	int			entrysize;
	int			codebytes;
	int			vecbytes;		/* FLAT, trained: bytes of a stored vector */
	bool		hasradius;		/* directory radii are maintained (v3) */
	BlockNumber dirStart;
	int		   *suboff;			/* m + 1 offsets into a vector */
	float	   *codebook;		/* ksub * dims: subq j at ksub * suboff[j] */
	float	   *centroids;		/* lists * dims */
	float	   *cnorms;			/* |c|^2 per list */

	/*
	 * Buffers that last held list pages, direct-mapped by block number
	 * (nrecent slots, a power of two; 0: none kept): hints for
	 * IvfpqReadListPage, checked by ReadRecentBuffer, never trusted.
	 */
	Buffer	   *recent;
	uint32		nrecent;
} IvfpqState;

/* GUCs */
extern int	ivfpq_probes;
extern int	ivfpq_rerank;
extern int	ivfpq_max_probes;
extern int	ivfpq_iterative_scan;
extern bool ivfpq_exact_order;
extern int	ivfflat_probes;
extern int	ivfflat_max_probes;
extern int	ivfflat_iterative_scan;

/* The scan settings of one encoding's access method (its GUCs) */
typedef struct IvfpqSettings
{
	int			probes;
	int			rerank;			/* 0: no cap */
	int			max_probes;		/* 0: every list */
	int			iterative;		/* IVFPQ_ITERATIVE_* */
	bool		exact_order;
	bool		hardmax;		/* max_probes stops the scan (ivfflat) */
} IvfpqSettings;

/*
 * Largest norm of an indexed vector (any metric): below it every float32
 * computation of build, scan and the executor's exact distance stays
 * finite (squared norms and distances stay below 1e31).
 */
#define IVFPQ_MAX_NORM			1e15

#define IVFPQ_ITERATIVE_OFF		0
#define IVFPQ_ITERATIVE_STRICT	1
#define IVFPQ_ITERATIVE_RELAXED	2

/* ivfpq.c */
extern void IvfpqGetSettings(int encoding, IvfpqSettings *out);
extern int	IvfpqIndexEncoding(Relation index);
extern const char *IvfpqAmName(int encoding);
extern int	IvfpqVecBytes(int elemtype, int dims);
extern bool IvfpqMetaShapeValid(const IvfpqMetaPageData *meta);
extern void IvfpqCopyMeta(Page page, IvfpqMetaPageData *meta);
extern int	IvfpqCalibEntries(int lists);
extern IvfpqState *IvfpqGetState(Relation index);
extern void IvfpqInitPage(Page page, uint16 type, uint32 list);
extern void IvfpqCheckPage(Relation index, Page page, BlockNumber blkno, uint16 type);
extern IvfpqEntry *IvfpqGetEntry(Relation index, Page page, BlockNumber blkno,
								 OffsetNumber off, int entrysize);
extern int	IvfpqGetKind(Relation index);
extern bool IvfpqDatumToFloat(IvfpqState *st, int kind, Datum value, float *out, int dims,
							  bool normalize, float *norm, double *rawnorm);
extern void IvfpqDatumRaw(int kind, Datum value, int dims, char *out);
extern int	IvfpqDatumDims(int kind, Datum value);
extern void IvfpqCheckIndexable(double norm, int encoding);
extern float IvfpqEntryReach(IvfpqState *st, const uint8 *codes, const char *fsblk,
							 int slot, float err);
extern void IvfpqSubOffsets(int dims, int m, int *suboff);
extern int	IvfpqAutoM(int dims, int nbits, Size fbytes);
extern void IvfpqSetLayout(IvfpqState *st, int encoding, int elemtype, int dims,
						   int m, int nbits, bool trained, int nfilter);
extern void IvfpqCheckIndexColumns(Relation index);
extern int	IvfpqCodeBytes(int m, int nbits);
extern void IvfpqReadDir(Relation index, BlockNumber dirStart, int list, IvfpqListDir *out);
extern Buffer IvfpqReadListPage(Relation index, IvfpqState *st, BlockNumber blkno);
extern void IvfpqInitDataPage(IvfpqState *st, Page page, uint32 list);
/*
 * Walking a list's page chain: a damaged next-page link could form a loop,
 * and a walk that follows it would never end.  A chain visits each page at
 * most once, so more steps than the relation has blocks means a loop.
 */
typedef struct IvfpqChainWalk
{
	int			list;
	uint32		steps;
	BlockNumber limit;			/* relation size when last looked up */
} IvfpqChainWalk;

extern void IvfpqChainStart(IvfpqChainWalk *walk, int list);
extern void IvfpqChainStep(Relation index, IvfpqChainWalk *walk, BlockNumber blkno);

extern char *IvfpqCheckDataPage(Relation index, IvfpqState *st, Page page,
								BlockNumber blkno, int list);
extern bool IvfpqDataPageHasRoom(IvfpqState *st, Page page);
extern bool IvfpqDataPageAdd(IvfpqState *st, Page page, IvfpqEntry *entry);
extern void IvfpqBlockSet(IvfpqState *st, char *blk, int slot, IvfpqEntry *entry);
extern void IvfpqBlockMove(IvfpqState *st, char *blk, int from, int to);

/* ivfpqkmeans.c */
extern void IvfpqKmeans(const float *x, int n, int d, int k, int iters,
						float *centroids, uint64 seed, bool binary);
extern void IvfpqAssign(const float *x, int n, int d, const float *centroids,
						const float *cnorms, int k, int *assign, float *work);
extern Size IvfpqAssignWorkSize(int n, int k);
extern void IvfpqTrainPQ(const float *residuals, int n, int dims, int m, int ksub,
						 const int *suboff, float *codebook, uint64 seed);
extern void IvfpqEncode(IvfpqState *st, const float *residual, uint8 *codes, float *err);
extern void IvfpqPackCodes(IvfpqState *st, const uint8 *bytes, uint8 *codes);

/* ivfpqbuild.c */
extern IndexBuildResult *ivfpqbuild(Relation heap, Relation index, IndexInfo *indexInfo);
extern void ivfpqbuildempty(Relation index);
extern PGDLLEXPORT void IvfpqParallelBuildMain(dsm_segment *seg, shm_toc *toc);

/* ivfpqinsert.c */
extern bool ivfpqinsert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid,
						Relation heap, IndexUniqueCheck checkUnique,
						bool indexUnchanged, struct IndexInfo *indexInfo);
extern void IvfpqAddEntry(Relation index, IvfpqState *st, int list, IvfpqEntry *entry);
extern void IvfpqMakeEntry(IvfpqState *st, const float *x, const char *raw, float norm,
						   int list, ItemPointer tid, const char *filter,
						   IvfpqEntry *entry, float *residual,
						   const uint8 *pqbytes, float pqerr);
extern int	IvfpqNearestList(IvfpqState *st, const float *x);

/* ivfpq.c: the IndexAmRoutine both handlers start from */
extern IndexAmRoutine *IvfpqMakeRoutine(bool multicol);

/* ivfpqscan.c */
extern IndexScanDesc ivfpqbeginscan(Relation index, int nkeys, int norderbys);
extern void ivfpqrescan(IndexScanDesc scan, ScanKey keys, int nkeys,
						ScanKey orderbys, int norderbys);
extern bool ivfpqgettuple(IndexScanDesc scan, ScanDirection dir);
extern void ivfpqendscan(IndexScanDesc scan);
extern void ivfpqexplain(IndexScanDesc scan, StringInfo out);

/* ivfpqvacuum.c */
extern IndexBulkDeleteResult *ivfpqbulkdelete(IndexVacuumInfo *info,
											  IndexBulkDeleteResult *stats,
											  IndexBulkDeleteCallback callback,
											  void *callback_state);
extern IndexBulkDeleteResult *ivfpqvacuumcleanup(IndexVacuumInfo *info,
												 IndexBulkDeleteResult *stats);

/* ivfpqcost.c */
extern void ivfpqcostestimate(PlannerInfo *root, IndexPath *path, double loop_count,
							  Cost *indexStartupCost, Cost *indexTotalCost,
							  Selectivity *indexSelectivity, double *indexCorrelation,
							  double *indexPages);

/* ivfpqvalidate.c */
extern bool ivfpqvalidate(Oid opclassoid);
extern bool ivfflatvalidate(Oid opclassoid);

/* ivfflat.c */
extern bytea *ivfflatoptions(Datum reloptions, bool validate);

#endif							/* IVFPQ_H */
