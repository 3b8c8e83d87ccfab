/*-------------------------------------------------------------------------
 *
 * ivfpq.c
 *	  ivfpq access method handler, reloptions, settings and shared helpers.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <cblas.h>
#include <math.h>

#include "access/amapi.h"
#include "access/reloptions.h"
#include "commands/progress.h"
#include "commands/vacuum.h"
#include "fmgr.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "catalog/pg_type.h"
#include "utils/float.h"
#include "utils/varbit.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

#include "am/common/vecxexplain.h"
#include "am/common/vecxplan.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "ivfpq.h"
#include "am/common/vecxfilter.h"
#include "simd/pq.h"
#include "simd/simd.h"

int			ivfpq_probes = 1;
int			ivfpq_rerank = 0;
int			ivfpq_max_probes = 0;
int			ivfpq_iterative_scan = IVFPQ_ITERATIVE_STRICT;
bool		ivfpq_exact_order = false;

static const struct config_enum_entry ivfpq_iterative_options[] = {
	{"off", IVFPQ_ITERATIVE_OFF, false},
	{"strict_order", IVFPQ_ITERATIVE_STRICT, false},
	{"relaxed_order", IVFPQ_ITERATIVE_RELAXED, false},
	{NULL, 0, false}
};

static relopt_kind ivfpq_relopt_kind;

/*
 * IvfpqInit
 *		Reloptions, settings and the BLAS thread count; called by _PG_init.
 */
void
IvfpqInit(void)
{
	VecxPlanRegisterAm(ivfpqcostestimate);
	VecxExplainRegisterAm(ivfpqcostestimate, ivfpqexplain);

	/*
	 * A backend is single-threaded by design: OpenBLAS worker threads would
	 * compete with other backends and are not safe across fork.
	 */
	openblas_set_num_threads(1);

	ivfpq_relopt_kind = add_reloption_kind();
	add_int_reloption(ivfpq_relopt_kind, "lists",
					  "Number of inverted lists (k-means centroids)",
					  IVFPQ_DEFAULT_LISTS, IVFPQ_MIN_LISTS, IVFPQ_MAX_LISTS,
					  AccessExclusiveLock);
	add_int_reloption(ivfpq_relopt_kind, "pq_m",
					  "Number of product-quantizer sub-vectors (0: half the dimensions)",
					  0, 0, IVFPQ_MAX_M, AccessExclusiveLock);
	add_int_reloption(ivfpq_relopt_kind, "pq_bits",
					  "Bits per sub-vector code (4 or 8)",
					  IVFPQ_DEFAULT_BITS, 4, 8, AccessExclusiveLock);

	DefineCustomIntVariable("ivfpq.probes",
							"Number of lists an index scan visits.",
							"Higher values give better recall and slower scans.",
							&ivfpq_probes, 1, 1, IVFPQ_MAX_LISTS,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("ivfpq.rerank",
							"Most candidates per probe round handed to the executor for exact re-ranking (0: all).",
							"Candidates are returned by increasing lower bound of their exact distance; the executor "
							"re-computes exact distances from the table.",
							&ivfpq_rerank, 0, 0, INT_MAX,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomEnumVariable("ivfpq.iterative_scan",
							 "Continues an index scan into further lists while the query needs rows.",
							 "strict_order (default) returns every row, in order but for at most one step back "
							 "(rows found late come in a final exact pass); relaxed_order returns every row, "
							 "rows of later lists possibly out of order; off stops after ivfpq.probes lists.",
							 &ivfpq_iterative_scan, IVFPQ_ITERATIVE_STRICT, ivfpq_iterative_options,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("ivfpq.max_probes",
							"Lists an iterative scan probes round by round before it reads every list left at once (0: all lists).",
							"When the first ivfpq.probes lists are exhausted (for example by a filter), the scan "
							"continues with the next nearest lists; past this many it finishes with an exact pass.",
							&ivfpq_max_probes, 0, 0, IVFPQ_MAX_LISTS,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("ivfpq.exact_order",
							 "Makes strict_order scans exact: rows in the order and with the distances of a sequential scan.",
							 "A row is returned only once no unread list can hold a closer one (per-list bounds); "
							 "slower, as the scan reads more lists.",
							 &ivfpq_exact_order, false,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	MarkGUCPrefixReserved("ivfpq");
}

static bytea *
ivfpqoptions(Datum reloptions, bool validate)
{
	static const relopt_parse_elt tab[] = {
		{"lists", RELOPT_TYPE_INT, offsetof(IvfpqOptions, lists)},
		{"pq_m", RELOPT_TYPE_INT, offsetof(IvfpqOptions, pq_m)},
		{"pq_bits", RELOPT_TYPE_INT, offsetof(IvfpqOptions, pq_bits)},
	};
	IvfpqOptions *opts;

	opts = (IvfpqOptions *) build_reloptions(reloptions, validate, ivfpq_relopt_kind,
											 sizeof(IvfpqOptions), tab, lengthof(tab));
	if (validate && opts != NULL && opts->pq_bits != 4 && opts->pq_bits != 8)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("value %d out of bounds for option \"pq_bits\"", opts->pq_bits),
				 errdetail("Valid values are 4 and 8.")));
	return (bytea *) opts;
}

static char *
ivfpqbuildphasename(int64 phasenum)
{
	switch (phasenum)
	{
		case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
			return "initializing";
		case IVFPQ_PHASE_SAMPLE:
			return "sampling rows";
		case IVFPQ_PHASE_KMEANS:
			return "performing k-means";
		case IVFPQ_PHASE_PQ:
			return "training product quantizer";
		case IVFPQ_PHASE_LOAD:
			return "assigning and encoding tuples";
		default:
			return NULL;
	}
}

/*
 * IvfpqMakeRoutine
 *		The IndexAmRoutine of ivfpq and of ivfflat (ivfflat.c): the same
 *		callbacks but for options, validation and build phase names, which
 *		the caller sets.  IvfpqIndexEncoding() tells the two apart by
 *		amoptions.
 */
IndexAmRoutine *
IvfpqMakeRoutine(bool multicol)
{
	IndexAmRoutine *amroutine = makeNode(IndexAmRoutine);

	amroutine->amstrategies = 0;
	amroutine->amsupport = IVFPQ_NPROC;
	amroutine->amoptsprocnum = 0;
	amroutine->amcanorder = false;
	amroutine->amcanorderbyop = true;
	amroutine->amcanbackward = false;
	amroutine->amcanunique = false;
	amroutine->amcanmulticol = multicol;
	amroutine->amoptionalkey = true;
	amroutine->amsearcharray = true;	/* filter columns: = ANY (array) */
	amroutine->amsearchnulls = true;	/* filter columns: IS [NOT] NULL */
	amroutine->amstorage = false;
	amroutine->amclusterable = false;
	amroutine->ampredlocks = false;
	amroutine->amcanparallel = false;
	amroutine->amcaninclude = false;
	amroutine->amusemaintenanceworkmem = false;
	amroutine->amparallelvacuumoptions = VACUUM_OPTION_PARALLEL_BULKDEL;
	amroutine->amkeytype = InvalidOid;

	amroutine->ambuild = ivfpqbuild;
	amroutine->ambuildempty = ivfpqbuildempty;
	amroutine->aminsert = ivfpqinsert;
	amroutine->ambulkdelete = ivfpqbulkdelete;
	amroutine->amvacuumcleanup = ivfpqvacuumcleanup;
	amroutine->amcanreturn = NULL;
	amroutine->amcostestimate = ivfpqcostestimate;
	amroutine->amoptions = NULL;
	amroutine->amproperty = NULL;
	amroutine->ambuildphasename = NULL;
	amroutine->amvalidate = NULL;
	amroutine->amadjustmembers = NULL;
	amroutine->ambeginscan = ivfpqbeginscan;
	amroutine->amrescan = ivfpqrescan;
	amroutine->amgettuple = ivfpqgettuple;
	amroutine->amgetbitmap = NULL;
	amroutine->amendscan = ivfpqendscan;
	amroutine->ammarkpos = NULL;
	amroutine->amrestrpos = NULL;
	amroutine->amestimateparallelscan = NULL;
	amroutine->aminitparallelscan = NULL;
	amroutine->amparallelrescan = NULL;
	return amroutine;
}

PG_FUNCTION_INFO_V1(ivfpqhandler);
Datum
ivfpqhandler(PG_FUNCTION_ARGS)
{
	/* vector first, then filter columns */
	IndexAmRoutine *amroutine = IvfpqMakeRoutine(true);

	amroutine->amoptions = ivfpqoptions;
	amroutine->amvalidate = ivfpqvalidate;
	amroutine->ambuildphasename = ivfpqbuildphasename;
	PG_RETURN_POINTER(amroutine);
}

/*
 * Support function 1 of each operator class: tells the access method the
 * metric and element type (common/vecxam.h), so that distances are
 * computed by our kernels without fmgr calls.
 */
VECX_OPINFO_FUNC(ivfpq_vector_l2_support, VECX_ELEM_F32, VECX_METRIC_L2)
VECX_OPINFO_FUNC(ivfpq_vector_ip_support, VECX_ELEM_F32, VECX_METRIC_IP)
VECX_OPINFO_FUNC(ivfpq_vector_cosine_support, VECX_ELEM_F32, VECX_METRIC_COSINE)
VECX_OPINFO_FUNC(ivfpq_halfvec_l2_support, VECX_ELEM_F16, VECX_METRIC_L2)
VECX_OPINFO_FUNC(ivfpq_halfvec_ip_support, VECX_ELEM_F16, VECX_METRIC_IP)
VECX_OPINFO_FUNC(ivfpq_halfvec_cosine_support, VECX_ELEM_F16, VECX_METRIC_COSINE)

/*
 * IvfpqGetSettings
 *		The scan settings of the access method of an encoding: ivfpq.* for
 *		PQ, ivfflat.* for FLAT (whose max_probes, as the reference
 *		extension's, ends the scan; it has no rerank cap or exact order).
 */
void
IvfpqGetSettings(int encoding, IvfpqSettings *out)
{
	if (encoding == IVFPQ_ENC_FLAT)
	{
		out->probes = ivfflat_probes;
		out->rerank = 0;
		out->max_probes = ivfflat_max_probes;
		out->iterative = ivfflat_iterative_scan;
		out->exact_order = false;
		out->hardmax = true;
	}
	else
	{
		out->probes = ivfpq_probes;
		out->rerank = ivfpq_rerank;
		out->max_probes = ivfpq_max_probes;
		out->iterative = ivfpq_iterative_scan;
		out->exact_order = ivfpq_exact_order;
		out->hardmax = false;
	}
}

/*
 * IvfpqIndexEncoding
 *		The encoding an index's access method writes: both handlers share
 *		every callback but their reloptions parser.
 */
int
IvfpqIndexEncoding(Relation index)
{
	if (index->rd_indam != NULL && index->rd_indam->amoptions == ivfflatoptions)
		return IVFPQ_ENC_FLAT;
	return IVFPQ_ENC_PQ;
}

const char *
IvfpqAmName(int encoding)
{
	return encoding == IVFPQ_ENC_FLAT ? "ivfflat" : "ivfpq";
}

/* Bytes of a vector of dims elements as a FLAT entry stores it */
int
IvfpqVecBytes(int elemtype, int dims)
{
	switch (elemtype)
	{
		case VECX_ELEM_F16:
			return (int) sizeof(half) * dims;
		case VECX_ELEM_BIT:
			return (dims + 7) / 8;
		default:
			return (int) sizeof(float) * dims;
	}
}

/*
 * The operator class's metric and element type, packed as IVFPQ_KIND():
 * vector and halfvec with L2, inner product and cosine; ivfflat also bit
 * with Hamming distance.
 */
int
IvfpqGetKind(Relation index)
{
	int			encoding = IvfpqIndexEncoding(index);
	const char *amname = IvfpqAmName(encoding);
	const VecxOpInfo *info;

	/* VecxGetOpInfoTypes also pairs bit with Hamming/Jaccard only */
	if (encoding == IVFPQ_ENC_FLAT)
		info = VecxGetOpInfoTypes(index, IVFPQ_INFO_PROC,
								  VECX_ELEMS_DENSE | VECX_ELEM_BIT_OF(VECX_ELEM_BIT),
								  IVFFLAT_METRICS, amname);
	else
		info = VecxGetOpInfo(index, IVFPQ_INFO_PROC, IVFPQ_METRICS, amname);
	return IVFPQ_KIND(info->metric, info->elemtype);
}

/*
 * IvfpqSubOffsets
 *		Split dims dimensions into m contiguous sub-vectors whose sizes
 *		differ by at most one, so that any m <= dims works.
 */
void
IvfpqSubOffsets(int dims, int m, int *suboff)
{
	int			j;

	for (j = 0; j <= m; j++)
		suboff[j] = (int) (((int64) j * dims) / m);
}

/*
 * Default sub-vector count.  4 bits: one dimension per code (16 levels
 * each) while that fits a fast-scan block page, else the fewest dimensions
 * per code that fit.  8 bits: two dimensions per code, entries within a
 * third of a page.  Coarser codes only loosen the re-rank bound (more heap
 * re-checks); recall does not depend on them.
 */
int
IvfpqAutoM(int dims, int nbits, Size fbytes)
{
	if (nbits == 4)
	{
		int			maxm = IVFPQ_FS_MAX_M_F(fbytes);
		int			per = (dims + maxm - 1) / maxm;

		return (dims + per - 1) / per;
	}
	return Min((dims + 1) / 2, 2700);
}

int
IvfpqCodeBytes(int m, int nbits)
{
	return nbits == 4 ? (m + 1) / 2 : m;
}

/*
 * IvfpqSetLayout
 *		Derive the entry and block layout of an index from its code shape
 *		and number of filter columns (the metapage stores the results too,
 *		and readers check that they agree).
 */
void
IvfpqSetLayout(IvfpqState *st, int encoding, int elemtype, int dims,
			   int m, int nbits, bool trained, int nfilter)
{
	bool		flat = encoding == IVFPQ_ENC_FLAT;

	st->encoding = encoding;
	st->m = m;
	st->nbits = nbits;
	st->ksub = flat ? 0 : 1 << nbits;
	st->trained = trained;
	st->nfilter = nfilter;
	st->fbytes = VecxFilterBytes(nfilter);
	st->codebytes = trained && !flat ? IvfpqCodeBytes(m, nbits) : 0;
	st->vecbytes = trained && flat ? IvfpqVecBytes(elemtype, dims) : 0;
	if (flat && trained)
		st->entryfoff = IVFFLAT_ENTRY_HDR + st->vecbytes;
	else
		st->entryfoff = IVFPQ_ENTRY_SIZE(st->codebytes);
	st->entrysize = (int) (st->entryfoff + st->fbytes);
	st->ngroups = (m + 3) / 4;
	st->blockfoff = IVFPQ_FS_SIZE(st->ngroups);
	st->blocksize = IVFPQ_FS_BLOCK_SIZE(st->ngroups, st->fbytes);
	st->fastscan = !flat && trained && nbits == 4 && m >= 1 &&
		m <= IVFPQ_FS_MAX_M_F(st->fbytes);
	st->blocksperpage = st->fastscan ? (int) (IVFPQ_RAW_BYTES / st->blocksize) : 0;
}

/* See VecxCheckFilterColumns (common/vecxfilter.c). */
void
IvfpqCheckIndexColumns(Relation index)
{
	VecxCheckFilterColumns(index, IvfpqAmName(IvfpqIndexEncoding(index)), IVFPQ_INFO_PROC);
}

void
IvfpqInitPage(Page page, uint16 type, uint32 list)
{
	IvfpqPageOpaque opaque;

	PageInit(page, BLCKSZ, sizeof(IvfpqPageOpaqueData));
	opaque = IvfpqPageGetOpaque(page);
	opaque->nextblkno = InvalidBlockNumber;
	opaque->list = list;
	opaque->type = type;
	opaque->page_id = IVFPQ_PAGE_ID;
}

/*
 * IvfpqCheckPage
 *		Validate a page just read, before trusting anything on it.
 */
void
IvfpqCheckPage(Relation index, Page page, BlockNumber blkno, uint16 type)
{
	IvfpqPageOpaque opaque;

	if (PageIsNew(page) ||
		PageGetSpecialSize(page) != MAXALIGN(sizeof(IvfpqPageOpaqueData)) ||
		((PageHeader) page)->pd_lower > ((PageHeader) page)->pd_upper ||
		((PageHeader) page)->pd_upper > ((PageHeader) page)->pd_special)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" contains corrupted page at block %u",
						RelationGetRelationName(index), blkno)));
	opaque = IvfpqPageGetOpaque(page);
	if (opaque->page_id != IVFPQ_PAGE_ID || opaque->type != type)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" contains unexpected page at block %u",
						RelationGetRelationName(index), blkno),
				 errdetail("Expected page type %u, found page id %04X type %u.",
						   type, opaque->page_id, opaque->type)));
}

/*
 * IvfpqGetEntry
 *		Return the entry at an offset of a data page, or NULL when the
 *		line pointer is unused; checks its size.
 */
IvfpqEntry *
IvfpqGetEntry(Relation index, Page page, BlockNumber blkno, OffsetNumber off, int entrysize)
{
	ItemId		iid = PageGetItemId(page, off);

	if (!ItemIdIsUsed(iid) || ItemIdIsDead(iid))
		return NULL;
	if (ItemIdGetLength(iid) != entrysize ||
		ItemIdGetOffset(iid) + entrysize > BLCKSZ - MAXALIGN(sizeof(IvfpqPageOpaqueData)) ||
		ItemIdGetOffset(iid) < MAXALIGN(SizeOfPageHeaderData))
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" contains corrupted entry at block %u offset %u",
						RelationGetRelationName(index), blkno, off)));
	return (IvfpqEntry *) PageGetItem(page, iid);
}

/*
 * IvfpqInitDataPage
 *		A new, empty data page of a list: an item page, or an empty
 *		fast-scan block.
 */
void
IvfpqInitDataPage(IvfpqState *st, Page page, uint32 list)
{
	if (st->fastscan)
	{
		Size		bytes = st->blocksize * st->blocksperpage;

		IvfpqInitPage(page, IVFPQ_PAGE_BLOCK, list);
		memset(IvfpqRawData(page), 0, bytes);
		((PageHeader) page)->pd_lower = MAXALIGN(SizeOfPageHeaderData) + bytes;
	}
	else
		IvfpqInitPage(page, IVFPQ_PAGE_DATA, list);
}

/*
 * IvfpqChainStart / IvfpqChainStep
 *		Count the pages of one list's chain walk; ERROR on a loop.
 *
 * The relation size is looked up again only when the count passes the size
 * last seen, because concurrent inserts may extend the chain while we walk.
 */
void
IvfpqChainStart(IvfpqChainWalk *walk, int list)
{
	walk->list = list;
	walk->steps = 0;
	walk->limit = 0;
}

void
IvfpqChainStep(Relation index, IvfpqChainWalk *walk, BlockNumber blkno)
{
	if (++walk->steps <= walk->limit)
		return;
	walk->limit = RelationGetNumberOfBlocks(index);
	if (walk->steps > walk->limit)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" block %u offset 0: page chain of list %d loops",
						RelationGetRelationName(index), blkno, walk->list)));
}

/*
 * IvfpqCheckDataPage
 *		Validate a data page of list "list"; returns the first block for
 *		fast-scan pages (NULL for item pages).
 */
char *
IvfpqCheckDataPage(Relation index, IvfpqState *st, Page page, BlockNumber blkno, int list)
{
	IvfpqPageOpaque opaque;
	int			b;

	IvfpqCheckPage(index, page, blkno, st->fastscan ? IVFPQ_PAGE_BLOCK : IVFPQ_PAGE_DATA);
	opaque = IvfpqPageGetOpaque(page);
	if (opaque->list != (uint32) list)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" block %u belongs to list %u, expected %d",
						RelationGetRelationName(index), blkno, opaque->list, list)));
	if (!st->fastscan)
		return NULL;
	if (((PageHeader) page)->pd_lower !=
		MAXALIGN(SizeOfPageHeaderData) + st->blocksize * st->blocksperpage)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" contains corrupted block page %u",
						RelationGetRelationName(index), blkno),
				 errdetail("pd_lower is %u.", ((PageHeader) page)->pd_lower)));
	for (b = 0; b < st->blocksperpage; b++)
	{
		char	   *blk = IvfpqPageBlock(st, page, b);

		if (IvfpqBlockCount(blk) > IVFPQ_FS_SLOTS)
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("index \"%s\" contains corrupted block page %u",
							RelationGetRelationName(index), blkno),
					 errdetail("%u entries in the block at offset %zu.",
							   IvfpqBlockCount(blk), (size_t) (blk - (char *) page))));
	}
	return IvfpqRawData(page);
}

bool
IvfpqDataPageHasRoom(IvfpqState *st, Page page)
{
	if (st->fastscan)
	{
		int			b;

		for (b = 0; b < st->blocksperpage; b++)
			if (IvfpqBlockCount(IvfpqPageBlock(st, page, b)) < IVFPQ_FS_SLOTS)
				return true;
		return false;
	}
	return PageGetFreeSpace(page) >= MAXALIGN(st->entrysize);
}

/* Add an entry to a data page known to have room; false if it had none. */
bool
IvfpqDataPageAdd(IvfpqState *st, Page page, IvfpqEntry *entry)
{
	if (st->fastscan)
	{
		int			b;

		for (b = 0; b < st->blocksperpage; b++)
		{
			char	   *blk = IvfpqPageBlock(st, page, b);
			int			n = IvfpqBlockCount(blk);

			if (n < IVFPQ_FS_SLOTS)
			{
				IvfpqBlockSet(st, blk, n, entry);
				IvfpqBlockCount(blk) = n + 1;
				return true;
			}
		}
		return false;
	}
	return PageAddItem(page, (Item) entry, st->entrysize, InvalidOffsetNumber,
					   false, false) != InvalidOffsetNumber;
}

/* Store an entry (codes packed two per byte) in a block slot. */
void
IvfpqBlockSet(IvfpqState *st, char *blk, int slot, IvfpqEntry *entry)
{
	uint8	   *codes = IvfpqBlockCodes(blk);
	int			j;

	memcpy(IvfpqBlockTid(blk, slot), &entry->tid, 6);
	IvfpqBlockErr(blk)[slot] = entry->err;
	IvfpqBlockNorm(blk)[slot] = entry->norm;
	for (j = 0; j < st->m; j++)
		vecx_pq_block_set(codes, j, slot, (entry->codes[j >> 1] >> ((j & 1) * 4)) & 15);
	if (st->fbytes > 0)
		memcpy(IvfpqBlockFilter(st, blk, slot), IvfpqEntryFilter(st, entry), st->fbytes);
}

/* Copy slot "from" over slot "to" (vacuum fills holes with the last). */
void
IvfpqBlockMove(IvfpqState *st, char *blk, int from, int to)
{
	uint8	   *codes = IvfpqBlockCodes(blk);
	int			j;

	memmove(IvfpqBlockTid(blk, to), IvfpqBlockTid(blk, from), 6);
	IvfpqBlockErr(blk)[to] = IvfpqBlockErr(blk)[from];
	IvfpqBlockNorm(blk)[to] = IvfpqBlockNorm(blk)[from];
	for (j = 0; j < st->m; j++)
		vecx_pq_block_set(codes, j, to, vecx_pq_block_get(codes, j, from));
	if (st->fbytes > 0)
		memmove(IvfpqBlockFilter(st, blk, to), IvfpqBlockFilter(st, blk, from), st->fbytes);
}

/*
 * IvfpqReadDir
 *		Copy one list's directory entry.
 */
void
IvfpqReadDir(Relation index, BlockNumber dirStart, int list, IvfpqListDir *out)
{
	BlockNumber blkno = dirStart + list / IVFPQ_DIR_PER_PAGE;
	Buffer		buf;
	Page		page;

	buf = ReadBuffer(index, blkno);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	IvfpqCheckPage(index, page, blkno, IVFPQ_PAGE_DIRECTORY);
	memcpy(out, IvfpqRawData(page) + sizeof(IvfpqListDir) * (list % IVFPQ_DIR_PER_PAGE),
		   sizeof(IvfpqListDir));
	UnlockReleaseBuffer(buf);
}

/*
 * Copy nbytes of raw payload stored from block start on.
 */
static void
IvfpqReadRaw(Relation index, BlockNumber start, uint32 npages, uint16 type,
			 char *dst, Size nbytes)
{
	BlockNumber blkno;
	Size		done = 0;

	if (npages != (nbytes + IVFPQ_RAW_BYTES - 1) / IVFPQ_RAW_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has a corrupted metapage",
						RelationGetRelationName(index)),
				 errdetail("%u pages recorded for %zu bytes at block %u.", npages, nbytes, start)));
	for (blkno = start; done < nbytes; blkno++)
	{
		Buffer		buf = ReadBuffer(index, blkno);
		Page		page;
		Size		chunk = Min(nbytes - done, IVFPQ_RAW_BYTES);

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		IvfpqCheckPage(index, page, blkno, type);
		memcpy(dst + done, IvfpqRawData(page), chunk);
		UnlockReleaseBuffer(buf);
		done += chunk;
	}
}

/*
 * IvfpqMetaShapeValid
 *		The metapage's shape fields are in range and agree with each other
 *		and with the encoding (metapage encoding already known valid or
 *		set): PQ has 1..8000 sub-vectors of 4 or 8 bits once trained,
 *		FLAT neither sub-vectors nor bits, and dimensions within what an
 *		entry holds.  The metapage reader and the checker share it.
 */
bool
IvfpqMetaShapeValid(const IvfpqMetaPageData *meta)
{
	int			elem = IVFPQ_KIND_ELEM(meta->kind);
	int			metric = IVFPQ_KIND_METRIC(meta->kind);

	if (meta->nfilter > VECX_MAX_FILTER_COLS || meta->dims < 0 ||
		(meta->trained != 0 && meta->trained != 1) ||
		(meta->trained && meta->dims < 1))
		return false;
	if (meta->encoding == IVFPQ_ENC_FLAT)
	{
		int			maxdims;

		if (elem == VECX_ELEM_BIT)
			maxdims = metric == VECX_METRIC_HAMMING ? IVFFLAT_MAX_BITS : -1;
		else if (elem == VECX_ELEM_F16)
			maxdims = metric != VECX_METRIC_HAMMING ? IVFFLAT_MAX_HALF_DIM : -1;
		else if (elem == VECX_ELEM_F32)
			maxdims = metric != VECX_METRIC_HAMMING ? IVFFLAT_MAX_DIM : -1;
		else
			maxdims = -1;
		return meta->m == 0 && meta->nbits == 0 && meta->dims <= maxdims &&
			metric >= VECX_METRIC_L2 && metric <= VECX_METRIC_HAMMING &&
			metric != VECX_METRIC_L1;
	}
	if (meta->encoding != IVFPQ_ENC_PQ)
		return false;
	return meta->dims <= VECX_MAX_DIM &&
		(meta->nbits == 4 || meta->nbits == 8) &&
		meta->m >= 0 && meta->m <= IVFPQ_MAX_M && meta->m <= Max(meta->dims, 1) &&
		(!meta->trained || meta->m >= 1);
}

/*
 * IvfpqCopyMeta
 *		Copy a metapage's data: as many bytes as its format version has,
 *		the rest zero (formats before 5 have no calibration: ncalib 0).
 */
void
IvfpqCopyMeta(Page page, IvfpqMetaPageData *meta)
{
	IvfpqMetaPage src = IvfpqPageGetMeta(page);

	memset(meta, 0, sizeof(IvfpqMetaPageData));
	memcpy(meta, src, IvfpqMetaSize(src->version));
	if (meta->ncalib > IVFPQ_NCALIB)
		meta->ncalib = 0;		/* the checker reports it; the planner ignores it */
}

/*
 * IvfpqCalibEntries
 *		Calibration entries of an index of "lists" lists: one per power of
 *		two below lists (2^i probes, i = 0 .. ncalib - 1).
 */
int
IvfpqCalibEntries(int lists)
{
	int			n = 0;

	while (n < IVFPQ_NCALIB && ((int64) 1 << n) < lists)
		n++;
	return n;
}

/*
 * ReadStateMeta
 *		Read the metapage into *meta and check that this code reads it: a
 *		supported version, the access method's encoding, and shape fields
 *		consistent with each other and with the index's columns.
 */
static void
ReadStateMeta(Relation index, IvfpqMetaPageData *meta)
{
	IvfpqState	layout;
	Buffer		buf;
	Page		page;

	buf = ReadBuffer(index, IVFPQ_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	IvfpqCheckPage(index, page, IVFPQ_METAPAGE_BLKNO, IVFPQ_PAGE_META);
	IvfpqCopyMeta(page, meta);
	UnlockReleaseBuffer(buf);

	if (meta->magic == IVFPQ_MAGIC && meta->version <= IVFPQ_VERSION &&
		!IvfpqVersionReadable(meta->version))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("index \"%s\" has development format version %u, which is no longer read",
						RelationGetRelationName(index), meta->version),
				 errdetail("Only development snapshots of vecx wrote ivfpq formats other than versions %u, %u and %u.",
						   IVFPQ_VERSION_RELEASED, IVFPQ_VERSION_RADIUS, IVFPQ_VERSION),
				 errhint("REINDEX the index.")));
	if (meta->magic != IVFPQ_MAGIC || meta->version > IVFPQ_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" is not a valid %s index",
						RelationGetRelationName(index), IvfpqAmName(IvfpqIndexEncoding(index))),
				 errdetail("Magic %08X version %u at block 0 offset 0.", meta->magic, meta->version),
				 errhint("REINDEX the index.")));
	/* the released format has no encoding word (it was zero: PQ) */
	if (meta->version < IVFPQ_VERSION_RADIUS)
		meta->encoding = IVFPQ_ENC_PQ;
	if (meta->encoding != (uint32) IvfpqIndexEncoding(index))
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has a corrupted metapage",
						RelationGetRelationName(index)),
				 errdetail("List encoding %u at block 0 does not belong to access method %s.",
						   meta->encoding, IvfpqAmName(IvfpqIndexEncoding(index)))));
	memset(&layout, 0, sizeof(layout));
	if (!IvfpqMetaShapeValid(meta))
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has a corrupted metapage",
						RelationGetRelationName(index)),
				 errdetail("Inconsistent header fields at block 0 offset %zu.",
						   (size_t) MAXALIGN(SizeOfPageHeaderData))));
	IvfpqSetLayout(&layout, meta->encoding, IVFPQ_KIND_ELEM(meta->kind), meta->dims, meta->m,
				   meta->nbits, meta->trained != 0, (int) meta->nfilter);
	if (meta->lists < 1 || meta->lists > IVFPQ_MAX_LISTS ||
		meta->entrysize != layout.entrysize ||
		meta->dirPages != (uint32) ((meta->lists + IVFPQ_DIR_PER_PAGE - 1) / IVFPQ_DIR_PER_PAGE) ||
		(meta->fastscan != 0) != layout.fastscan)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has a corrupted metapage",
						RelationGetRelationName(index)),
				 errdetail("Inconsistent header fields at block 0 offset %zu.",
						   (size_t) MAXALIGN(SizeOfPageHeaderData))));
	if ((int) meta->nfilter != IndexRelationGetNumberOfKeyAttributes(index) - 1)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has a corrupted metapage",
						RelationGetRelationName(index)),
				 errdetail("%u filter columns recorded at block 0, the index has %d.",
						   meta->nfilter, IndexRelationGetNumberOfKeyAttributes(index) - 1)));
}

/*
 * Slots of the state's table of recent list buffers: a power of two near
 * the index's size when the state is loaded, at most IVFPQ_RECENT_MAX
 * (256 kB per index and backend); none for temporary indexes (their local
 * buffers are cheap to look up).  An index that grows later shares slots
 * between blocks: hints then miss more often, nothing else.
 */
#define IVFPQ_RECENT_MAX	65536

static uint32
RecentSlots(Relation index)
{
	BlockNumber nblocks;
	uint32		n = 64;

	if (RelationUsesLocalBuffers(index))
		return 0;
	nblocks = RelationGetNumberOfBlocks(index);
	while (n < nblocks && n < IVFPQ_RECENT_MAX)
		n *= 2;
	return n;
}

/*
 * IvfpqReadListPage
 *		ReadBuffer of a list page (pinned, not locked), through the state's
 *		table of recent buffers.
 *
 * A scan of ivfflat lists reads about one page per two entries (784
 * dimensions), and on Fashion-MNIST a fifth of a query's time went to the
 * shared buffer mapping lookup of ReadBuffer (BufTableLookup's cache
 * misses).  The buffer that held the block last time is tried first with
 * ReadRecentBuffer, which pins it only if it still holds this block
 * (checking the tag under the buffer header lock), so a stale or shared
 * slot costs one failed check and the ordinary ReadBuffer.  Statistics
 * count the page as ReadBuffer would (a hit).
 */
Buffer
IvfpqReadListPage(Relation index, IvfpqState *st, BlockNumber blkno)
{
	Buffer	   *slot;
	Buffer		buf;

	if (st->nrecent == 0)
		return ReadBuffer(index, blkno);
	slot = &st->recent[blkno & (st->nrecent - 1)];
	if (BufferIsValid(*slot) &&
		ReadRecentBuffer(index->rd_node, MAIN_FORKNUM, blkno, *slot))
	{
		pgstat_count_buffer_read(index);
		pgstat_count_buffer_hit(index);
		return *slot;
	}
	buf = ReadBuffer(index, blkno);
	*slot = buf;
	return buf;
}

/*
 * IvfpqGetState
 *		The cached immutable part of the index (metapage, codebook,
 *		centroids), loaded on first use by this relcache entry: the
 *		metapage checked by ReadStateMeta, then one allocation holding the
 *		state and its arrays, filled from the codebook and centroid pages.
 */
IvfpqState *
IvfpqGetState(Relation index)
{
	IvfpqState *st;
	IvfpqMetaPageData meta;
	Size		size,
				cbsize,
				csize;
	uint32		nrecent;
	char	   *p;

	if (index->rd_amcache != NULL)
		return (IvfpqState *) index->rd_amcache;

	ReadStateMeta(index, &meta);

	cbsize = meta.trained && meta.encoding == IVFPQ_ENC_PQ ?
		mul_size(mul_size(sizeof(float), meta.dims), 1 << meta.nbits) : 0;
	csize = meta.trained ? mul_size(mul_size(sizeof(float), meta.dims), meta.lists) : 0;
	size = MAXALIGN(sizeof(IvfpqState));
	size = add_size(size, MAXALIGN(mul_size(sizeof(int), meta.m + 1)));
	size = add_size(size, MAXALIGN(cbsize));
	size = add_size(size, MAXALIGN(csize));
	size = add_size(size, MAXALIGN(mul_size(sizeof(float), meta.lists)));
	nrecent = RecentSlots(index);
	size = add_size(size, MAXALIGN(mul_size(sizeof(Buffer), nrecent)));

	p = MemoryContextAllocHuge(index->rd_indexcxt, size);
	st = (IvfpqState *) p;
	p += MAXALIGN(sizeof(IvfpqState));
	st->suboff = (int *) p;
	p += MAXALIGN(sizeof(int) * (meta.m + 1));
	st->codebook = (float *) p;
	p += MAXALIGN(cbsize);
	st->centroids = (float *) p;
	p += MAXALIGN(csize);
	st->cnorms = (float *) p;
	p += MAXALIGN(sizeof(float) * meta.lists);
	st->recent = nrecent > 0 ? (Buffer *) p : NULL;
	st->nrecent = nrecent;
	if (nrecent > 0)
		memset(st->recent, 0, sizeof(Buffer) * nrecent);	/* InvalidBuffer */

	st->dims = meta.dims;
	st->kind = meta.kind;
	st->metric = IVFPQ_KIND_METRIC(meta.kind);
	st->type = IVFPQ_KIND_ELEM(meta.kind);
	st->lists = meta.lists;
	IvfpqSetLayout(st, meta.encoding, st->type, meta.dims, meta.m, meta.nbits,
				   meta.trained != 0, (int) meta.nfilter);
	st->dirStart = meta.dirStart;
	/* FLAT scans compute exact distances: no list bounds needed */
	st->hasradius = meta.version >= IVFPQ_VERSION_RADIUS && meta.encoding == IVFPQ_ENC_PQ;

	PG_TRY();
	{
		if (st->trained)
		{
			int			i;

			if (st->encoding == IVFPQ_ENC_PQ)
			{
				IvfpqSubOffsets(st->dims, st->m, st->suboff);
				IvfpqReadRaw(index, meta.codebookStart, meta.codebookPages,
							 IVFPQ_PAGE_CODEBOOK, (char *) st->codebook, cbsize);
			}
			IvfpqReadRaw(index, meta.centroidStart, meta.centroidPages,
						 IVFPQ_PAGE_CENTROID, (char *) st->centroids, csize);
			for (i = 0; i < st->lists; i++)
			{
				const float *c = st->centroids + (Size) i * st->dims;

				st->cnorms[i] = vecx_kernels->dot_f32(c, c, st->dims);
			}
		}
	}
	PG_CATCH();
	{
		pfree(st);
		PG_RE_THROW();
	}
	PG_END_TRY();

	index->rd_amcache = st;
	return st;
}

/*
 * IvfpqDatumDims
 *		Dimensions of a vector or halfvec datum, or bits of a bit string
 *		(detoasting as needed).
 */
int
IvfpqDatumDims(int kind, Datum value)
{
	if (IVFPQ_KIND_ELEM(kind) == VECX_ELEM_F16)
		return DatumGetHalfVector(value)->dim;
	if (IVFPQ_KIND_ELEM(kind) == VECX_ELEM_BIT)
		return VARBITLEN(DatumGetVarBitP(value));
	return DatumGetVector(value)->dim;
}

/*
 * IvfpqDatumRaw
 *		The elements of a datum of dims elements (already checked by
 *		IvfpqDatumToFloat) as a FLAT entry stores them: IvfpqVecBytes()
 *		bytes of float32, float16 or bit string (padding bits are zero in
 *		PostgreSQL's bit values).
 */
void
IvfpqDatumRaw(int kind, Datum value, int dims, char *out)
{
	int			elem = IVFPQ_KIND_ELEM(kind);
	Size		n = IvfpqVecBytes(elem, dims);
	Pointer		p;

	if (elem == VECX_ELEM_F16)
	{
		HalfVector *hv = DatumGetHalfVector(value);

		memcpy(out, hv->x, n);
		p = (Pointer) hv;
	}
	else if (elem == VECX_ELEM_BIT)
	{
		VarBit	   *vb = DatumGetVarBitP(value);

		memcpy(out, VARBITS(vb), n);
		p = (Pointer) vb;
	}
	else
	{
		Vector	   *v = DatumGetVector(value);

		memcpy(out, v->x, n);
		p = (Pointer) v;
	}
	if (p != DatumGetPointer(value))
		pfree(p);
}

/*
 * IvfpqDatumToFloat
 *		Convert a vector or halfvec datum to float32 in out (dims elements,
 *		checked).  For cosine, normalize when asked; returns false for a
 *		zero vector that cannot be normalized.  *norm gets |x| (after
 *		normalization); *rawnorm, when not NULL, |x| before it, in double.
 */
bool
IvfpqDatumToFloat(IvfpqState *st, int kind, Datum value, float *out, int dims,
				  bool normalize, float *norm, double *rawnorm)
{
	int			vdim;
	double		nn;
	int			i;

	if (IVFPQ_KIND_ELEM(kind) == VECX_ELEM_BIT)
	{
		/* unpacked to 0/1: squared L2 distances are Hamming distances */
		VarBit	   *vb = DatumGetVarBitP(value);
		const bits8 *bits = VARBITS(vb);

		vdim = VARBITLEN(vb);
		if (vdim != dims)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("expected %d bits, not %d", dims, vdim)));
		for (i = 0; i < dims; i++)
			out[i] = (bits[i >> 3] >> (7 - (i & 7))) & 1 ? 1.0f : 0.0f;
		if ((Pointer) vb != DatumGetPointer(value))
			pfree(vb);
	}
	else if (IVFPQ_KIND_ELEM(kind) == VECX_ELEM_F16)
	{
		HalfVector *hv = DatumGetHalfVector(value);

		vdim = hv->dim;
		if (vdim != dims)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("expected %d dimensions, not %d", dims, vdim)));
		vecx_kernels->f16_to_f32(hv->x, out, dims);
		if ((Pointer) hv != DatumGetPointer(value))
			pfree(hv);
	}
	else
	{
		Vector	   *v = DatumGetVector(value);

		vdim = v->dim;
		if (vdim != dims)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("expected %d dimensions, not %d", dims, vdim)));
		memcpy(out, v->x, sizeof(float) * dims);
		if ((Pointer) v != DatumGetPointer(value))
			pfree(v);
	}

	nn = 0;
	for (i = 0; i < dims; i++)
		nn += (double) out[i] * out[i];
	nn = sqrt(nn);
	if (rawnorm)
		*rawnorm = nn;
	if (normalize)
	{
		if (nn == 0 || !isfinite(nn))
			return false;
		for (i = 0; i < dims; i++)
			out[i] = (float) (out[i] / nn);
		nn = 1.0;
	}
	*norm = (float) nn;
	return true;
}

/*
 * IvfpqCheckIndexable
 *		Refuse a vector too long for float32 arithmetic (IVFPQ_MAX_NORM):
 *		its norm, k-means sums, residuals or the executor's exact distance
 *		could overflow, leaving no valid bound (and non-finite norms or
 *		codebooks that vecx_index_check rightly reports).
 */
void
IvfpqCheckIndexable(double norm, int encoding)
{
	const char *amname = IvfpqAmName(encoding);

	if (!(norm <= IVFPQ_MAX_NORM))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("vector norm %g is too large for an %s index", norm, amname),
				 errdetail("%s indexes vectors whose norm is at most %g.", amname, IVFPQ_MAX_NORM),
				 errhint("Scale the vectors down.")));
}

/*
 * IvfpqEntryReach
 *		An upper bound of |x - c| for an entry of a trained index: the norm
 *		of its decoded residual plus its error bound (|x - x'| <= err), in
 *		double, rounded up to float.  Packed codes, or with fsblk the
 *		codes of fast-scan block slot "slot".  Build, insert and
 *		vecx_index_check compute it the same way, so the directory's
 *		radius of a list can be checked exactly against its entries.
 */
float
IvfpqEntryReach(IvfpqState *st, const uint8 *codes, const char *fsblk, int slot, float err)
{
	double		sq = 0;
	float		reach;
	int			j;

	for (j = 0; j < st->m; j++)
	{
		int			off = st->suboff[j];
		int			dsub = st->suboff[j + 1] - off;
		int			code;
		const float *w;
		int			t;

		if (fsblk)
			code = vecx_pq_block_get(IvfpqBlockCodes(fsblk), j, slot);
		else if (st->nbits == 4)
			code = (codes[j >> 1] >> ((j & 1) * 4)) & 15;
		else
			code = codes[j];
		w = st->codebook + (Size) st->ksub * off + (Size) code * dsub;
		for (t = 0; t < dsub; t++)
			sq += (double) w[t] * w[t];
	}
	reach = (float) (sqrt(sq) + (double) err);
	if ((double) reach < sqrt(sq) + (double) err)
		reach = nextafterf(reach, get_float4_infinity());
	return reach;
}
