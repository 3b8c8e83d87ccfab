/*-------------------------------------------------------------------------
 *
 * hnsw.c
 *	  hnsw access method handler, options, settings and shared helpers.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/amapi.h"
#include "access/reloptions.h"
#include "catalog/pg_type.h"
#include "commands/progress.h"
#include "commands/vacuum.h"
#include "common/pg_prng.h"
#include "utils/guc.h"
#include "utils/rel.h"
#include "utils/varbit.h"

#include "hnsw.h"
#include "types/bitdist.h"
#include "hnswfilter.h"
#include "hnswfmap.h"
#include "am/common/vecxexplain.h"
#include "am/common/vecxplan.h"

int			hnsw_ef_search = HNSW_DEFAULT_EF_SEARCH;
int			hnsw_iterative_scan = HNSW_ITERATIVE_STRICT;
int			hnsw_max_scan_tuples = 20000;
double		hnsw_scan_mem_multiplier = 1.0;
int			hnsw_visited_bitmap_limit = 1 << 18;

static relopt_kind hnsw_relopt_kind;

static relopt_enum_elt_def hnsw_quant_values[] = {
	{"none", HNSW_QUANT_NONE},
	{"sq8", HNSW_QUANT_SQ8},
	{(const char *) NULL}
};

static const struct config_enum_entry hnsw_iterative_options[] = {
	{"off", HNSW_ITERATIVE_OFF, false},
	{"relaxed_order", HNSW_ITERATIVE_RELAXED, false},
	{"strict_order", HNSW_ITERATIVE_STRICT, false},
	{NULL, 0, false}
};

/*
 * HnswInit
 *		Register reloptions and settings; called once from _PG_init.
 */
void
HnswInit(void)
{
	VecxPlanRegisterAm(hnswcostestimate);
	VecxExplainRegisterAm(hnswcostestimate, hnswexplain);
	hnsw_relopt_kind = add_reloption_kind();
	add_int_reloption(hnsw_relopt_kind, "m",
					  "Max number of connections per node (2 * m at level 0)",
					  HNSW_DEFAULT_M, HNSW_MIN_M, HNSW_MAX_M,
					  AccessExclusiveLock);
	add_int_reloption(hnsw_relopt_kind, "ef_construction",
					  "Size of the dynamic candidate list used while building",
					  HNSW_DEFAULT_EF_CONSTRUCTION, HNSW_MIN_EF_CONSTRUCTION,
					  HNSW_MAX_EF_CONSTRUCTION, AccessExclusiveLock);
	add_enum_reloption(hnsw_relopt_kind, "quantization",
					   "How node vectors are stored: none (as they are) or sq8 (8-bit codes, exact order from the heap)",
					   hnsw_quant_values, HNSW_QUANT_NONE,
					   "Valid values are \"none\" and \"sq8\".",
					   AccessExclusiveLock);

	DefineCustomIntVariable("hnsw.ef_search",
							"Sets the size of the dynamic candidate list for search.",
							"Larger values give better recall and slower scans.",
							&hnsw_ef_search, HNSW_DEFAULT_EF_SEARCH,
							HNSW_MIN_EF_SEARCH, HNSW_MAX_EF_SEARCH,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomEnumVariable("hnsw.iterative_scan",
							 "Continues the graph search when more tuples are needed.",
							 NULL,
							 &hnsw_iterative_scan, HNSW_ITERATIVE_STRICT,
							 hnsw_iterative_options,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("hnsw.max_scan_tuples",
							"Sets the max number of tuples an iterative scan visits.",
							NULL,
							&hnsw_max_scan_tuples, 20000, 1, INT_MAX,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("hnsw.scan_mem_multiplier",
							 "Sets the multiple of work_mem an iterative scan may use.",
							 NULL,
							 &hnsw_scan_mem_multiplier, 1.0, 1.0, 1000.0,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("hnsw.cache_size",
							"Sets the memory each backend may use for read-only copies of hnsw graphs it scans.",
							"Scans walk a local copy instead of the index pages; 0 disables.",
							&hnsw_cache_size, 0, 0, MAX_KILOBYTES,
							PGC_USERSET, GUC_UNIT_KB, NULL, NULL, NULL);
	DefineCustomIntVariable("hnsw.visited_bitmap_limit",
							"Sets the most node keys a scan's visited set keeps as a bitmap; beyond, a hash set.",
							"For testing the hash set on small indexes; not for tuning.",
							&hnsw_visited_bitmap_limit, 1 << 18, 0, INT_MAX,
							PGC_USERSET, GUC_NOT_IN_SAMPLE | GUC_NO_SHOW_ALL, NULL, NULL, NULL);
	HnswFilterInit();
	HnswCacheInit();
	MarkGUCPrefixReserved("hnsw");
}

static bytea *
hnswoptions(Datum reloptions, bool validate)
{
	static const relopt_parse_elt tab[] = {
		{"m", RELOPT_TYPE_INT, offsetof(HnswOptions, m)},
		{"ef_construction", RELOPT_TYPE_INT, offsetof(HnswOptions, efConstruction)},
		{"quantization", RELOPT_TYPE_ENUM, offsetof(HnswOptions, quantization)},
	};

	return (bytea *) build_reloptions(reloptions, validate, hnsw_relopt_kind,
									  sizeof(HnswOptions), tab, lengthof(tab));
}

static char *
hnswbuildphasename(int64 phasenum)
{
	switch (phasenum)
	{
		case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
			return "initializing";
		case HNSW_PHASE_LOAD:
			return "loading tuples";
		case HNSW_PHASE_WRITE:
			return "writing index";
		default:
			return NULL;
	}
}

PG_FUNCTION_INFO_V1(hnswhandler);
Datum
hnswhandler(PG_FUNCTION_ARGS)
{
	IndexAmRoutine *am = makeNode(IndexAmRoutine);

	am->amstrategies = 0;
	am->amsupport = HNSW_NPROC;
	am->amoptsprocnum = 0;
	am->amcanorder = false;
	am->amcanorderbyop = true;
	am->amcanbackward = false;
	am->amcanunique = false;
	am->amcanmulticol = true;	/* vector first, then filter columns */
	am->amoptionalkey = true;
	am->amsearcharray = true;	/* filter columns: = ANY (array) */
	am->amsearchnulls = true;	/* filter columns: IS [NOT] NULL */
	am->amstorage = false;
	am->amclusterable = false;
	am->ampredlocks = false;
	am->amcanparallel = false;
	am->amcaninclude = false;
	am->amusemaintenanceworkmem = false;
	am->amparallelvacuumoptions = VACUUM_OPTION_PARALLEL_BULKDEL;
	am->amkeytype = InvalidOid;

	am->ambuild = hnswbuild;
	am->ambuildempty = hnswbuildempty;
	am->aminsert = hnswinsert;
	am->ambulkdelete = hnswbulkdelete;
	am->amvacuumcleanup = hnswvacuumcleanup;
	am->amcanreturn = NULL;
	am->amcostestimate = hnswcostestimate;
	am->amoptions = hnswoptions;
	am->amproperty = NULL;
	am->ambuildphasename = hnswbuildphasename;
	am->amvalidate = hnswvalidate;
	am->amadjustmembers = NULL;
	am->ambeginscan = hnswbeginscan;
	am->amrescan = hnswrescan;
	am->amgettuple = hnswgettuple;
	am->amgetbitmap = NULL;
	am->amendscan = hnswendscan;
	am->ammarkpos = NULL;
	am->amrestrpos = NULL;
	am->amestimateparallelscan = NULL;
	am->aminitparallelscan = NULL;
	am->amparallelrescan = NULL;

	PG_RETURN_POINTER(am);
}

/*
 * Opclass info support functions (support procedure 3): each returns a
 * pointer to a static description of the element type and metric
 * (common/vecxam.h).
 */
VECX_OPINFO_FUNC(hnsw_vector_l2_info, HNSW_ELEM_F32, HNSW_METRIC_L2)
VECX_OPINFO_FUNC(hnsw_vector_ip_info, HNSW_ELEM_F32, HNSW_METRIC_IP)
VECX_OPINFO_FUNC(hnsw_vector_cosine_info, HNSW_ELEM_F32, HNSW_METRIC_COSINE)
VECX_OPINFO_FUNC(hnsw_vector_l1_info, HNSW_ELEM_F32, HNSW_METRIC_L1)
VECX_OPINFO_FUNC(hnsw_halfvec_l2_info, HNSW_ELEM_F16, HNSW_METRIC_L2)
VECX_OPINFO_FUNC(hnsw_halfvec_ip_info, HNSW_ELEM_F16, HNSW_METRIC_IP)
VECX_OPINFO_FUNC(hnsw_halfvec_cosine_info, HNSW_ELEM_F16, HNSW_METRIC_COSINE)
VECX_OPINFO_FUNC(hnsw_halfvec_l1_info, HNSW_ELEM_F16, HNSW_METRIC_L1)
VECX_OPINFO_FUNC(hnsw_bit_hamming_info, HNSW_ELEM_BIT, HNSW_METRIC_HAMMING)
VECX_OPINFO_FUNC(hnsw_bit_jaccard_info, HNSW_ELEM_BIT, HNSW_METRIC_JACCARD)
VECX_OPINFO_FUNC(hnsw_sparsevec_l2_info, HNSW_ELEM_SPARSE, HNSW_METRIC_L2)
VECX_OPINFO_FUNC(hnsw_sparsevec_ip_info, HNSW_ELEM_SPARSE, HNSW_METRIC_IP)
VECX_OPINFO_FUNC(hnsw_sparsevec_cosine_info, HNSW_ELEM_SPARSE, HNSW_METRIC_COSINE)
VECX_OPINFO_FUNC(hnsw_sparsevec_l1_info, HNSW_ELEM_SPARSE, HNSW_METRIC_L1)

const HnswOpInfo *
HnswGetOpInfo(Relation index)
{
	return VecxGetOpInfoTypes(index, HNSW_INFO_PROC,
							  VECX_ELEMS_DENSE | VECX_ELEM_BIT_OF(HNSW_ELEM_BIT) |
							  VECX_ELEM_BIT_OF(HNSW_ELEM_SPARSE),
							  VECX_METRICS_ALL | VECX_METRICS_BITS, "hnsw");
}

int
HnswGetM(Relation index)
{
	HnswOptions *opts = (HnswOptions *) index->rd_options;

	return opts ? opts->m : HNSW_DEFAULT_M;
}

int
HnswGetEfConstruction(Relation index)
{
	HnswOptions *opts = (HnswOptions *) index->rd_options;

	return opts ? opts->efConstruction : HNSW_DEFAULT_EF_CONSTRUCTION;
}

int
HnswGetQuantization(Relation index)
{
	HnswOptions *opts = (HnswOptions *) index->rd_options;

	return opts ? opts->quantization : HNSW_QUANT_NONE;
}

/* The stored element type of an index of values of srcElem */
int
HnswStoredElem(int srcElem, int quantization)
{
	return quantization == HNSW_QUANT_SQ8 ? HNSW_ELEM_SQ8 : srcElem;
}

/*
 * HnswIndexDims
 *		Dimensions of the indexed column, from its type modifier.
 */
int
HnswIndexDims(Relation index)
{
	int32		typmod = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;

	if (typmod <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("column does not have dimensions")));
	return typmod;
}

void
HnswInitDist(HnswDist *d, int dims, int elemtype, int srcElem, int metric, bool ovf)
{
	d->overflow = ovf;
	d->dims = dims;
	d->elemtype = elemtype;
	d->srcElem = srcElem;
	d->metric = metric;
	d->vbytes = HnswVecBytes(dims, elemtype);
	d->k = vecx_kernels;
}

/*
 * HnswLayoutFromMeta
 *		The layout of the index whose metapage is meta: the metapage, not
 *		the reloptions, says how its nodes are stored.
 */
void
HnswLayoutFromMeta(HnswLayout *lay, const HnswMetaPageData *meta)
{
	HnswLayoutInit(lay, meta->dims, meta->elemtype, meta->srcElem, meta->metric,
				   meta->storage == HNSW_STORAGE_OVERFLOW, meta->m,
				   meta->efConstruction, meta->nfilter);
}

/* A layout from its parts (a build's, before there is a metapage) */
void
HnswLayoutInit(HnswLayout *lay, int dims, int elemtype, int srcElem, int metric,
			   bool ovf, int m, int efc, int nfilter)
{
	HnswInitDist(&lay->d, dims, elemtype, srcElem, metric, ovf);
	lay->m = m;
	lay->efConstruction = efc;
	lay->nfilter = nfilter;
	lay->fbytes = HnswFilterBytes(nfilter);
}

/*
 * HnswDetoastValue
 *		Detoast an indexed or query datum of the index's element type
 *		(d->srcElem) and check its size and dimensions.
 */
struct varlena *
HnswDetoastValue(const HnswDist *d, Datum value)
{
	struct varlena *v = PG_DETOAST_DATUM(value);
	Size		elsize = d->srcElem == HNSW_ELEM_F16 ? 2 : 4;
	int			dims;

	if (VARSIZE_ANY(v) < offsetof(Vector, x))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid vector value")));
	dims = ((Vector *) v)->dim;
	if (dims != d->dims)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", d->dims, dims)));
	if (VARSIZE_ANY(v) < offsetof(Vector, x) + elsize * (Size) dims)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid vector value")));
	return v;
}

/*
 * PrepareBits
 *		A bit(n) datum as its packed bytes, padded with zeros to the slot.
 *		The padding bits of the last byte are zero as PostgreSQL keeps them,
 *		so the popcount kernels see exactly the operators' input.
 */
static void
PrepareBits(const HnswDist *d, Datum value, void *out)
{
	VarBit	   *v = DatumGetVarBitP(value);

	if (VARBITLEN(v) != d->dims)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different bit lengths %u and %u",
						(unsigned int) d->dims, (unsigned int) VARBITLEN(v))));
	memset(out, 0, d->vbytes);
	memcpy(out, VARBITS(v), VARBITBYTES(v));
	if ((Pointer) v != DatumGetPointer(value))
		pfree(v);
}

/*
 * HnswPrepareSparse
 *		A sparsevec datum in the stored form (cap = HNSW_SPARSE_MAX_NNZ: a
 *		value above it is refused) or the query form (cap =
 *		VECX_SPARSE_MAX_NNZ, every legal value), zero-padded to the form's
 *		size.  Returns false for a zero vector under cosine.
 */
bool
HnswPrepareSparse(const HnswDist *d, Datum value, void *out, int cap)
{
	SparseVector *v = DatumGetSparseVector(value);
	HnswSparseHeader *h = (HnswSparseHeader *) out;
	int32	   *idx = (int32 *) (h + 1);
	bool		ok;

	if (VARSIZE_ANY(v) < offsetof(SparseVector, indices) || v->nnz < 0 ||
		v->nnz > VECX_SPARSE_MAX_NNZ || VARSIZE_ANY(v) < SPARSEVEC_SIZE(v->nnz))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid sparsevec value")));
	if (v->dim != d->dims)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", d->dims, v->dim)));
	if (v->nnz > cap)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("sparsevec cannot have more than %d non-zero elements for hnsw index",
						cap)));
	memset(out, 0, HnswSparseBytes(d->dims, cap));
	h->nnz = v->nnz;
	memcpy(idx, v->indices, sizeof(int32) * v->nnz);
	memcpy(idx + v->nnz, SPARSEVEC_VALUES(v), sizeof(float) * v->nnz);
	h->normsq = VecxSparseNormSq(SPARSEVEC_VALUES(v), v->nnz);
	/* the <=> operator's value is NaN for a zero norm: not indexed */
	ok = d->metric != HNSW_METRIC_COSINE || h->normsq > 0.0f;
	if ((Pointer) v != DatumGetPointer(value))
		pfree(v);
	return ok;
}

/*
 * HnswDistanceExt
 *		HnswDistance for bit strings and sparse vectors: the values the SQL
 *		operators return (src/types/bitdist.c, sparsevec.c compute them with
 *		the same functions), as float; smaller is closer, l2 squared.
 */
float
HnswDistanceExt(const HnswDist *d, const void *a, const void *b)
{
	const int32 *ai,
			   *bi;
	int			an,
				bn;
	VecxSparseSums s;

	if (d->elemtype == HNSW_ELEM_BIT)
	{
		Size		n = ((Size) d->dims + 7) / 8;

		if (d->metric == HNSW_METRIC_HAMMING)
			return (float) VecxBitHamming(a, b, n);
		return (float) VecxBitJaccard(a, b, n);
	}
	Assert(d->elemtype == HNSW_ELEM_SPARSE);
	ai = HnswSparseIndices(a);
	bi = HnswSparseIndices(b);
	an = ((const HnswSparseHeader *) a)->nnz;
	bn = ((const HnswSparseHeader *) b)->nnz;
	switch (d->metric)
	{
		case HNSW_METRIC_IP:
			return -VecxSparseDot(ai, HnswSparseValues(a), an, bi, HnswSparseValues(b), bn);
		case HNSW_METRIC_COSINE:
			return (float) (1.0 -
							VecxSparseCosineSim(VecxSparseDot(ai, HnswSparseValues(a), an,
															  bi, HnswSparseValues(b), bn),
												((const HnswSparseHeader *) a)->normsq,
												((const HnswSparseHeader *) b)->normsq));
		case HNSW_METRIC_L2:
			VecxSparseMerge(ai, HnswSparseValues(a), an, bi, HnswSparseValues(b), bn, &s);
			return s.l2sq;
		default:
			VecxSparseMerge(ai, HnswSparseValues(a), an, bi, HnswSparseValues(b), bn, &s);
			return s.l1;
	}
}

/*
 * HnswPrepareValue
 *		Convert an indexed or query datum into the stored element form
 *		(unit length for float32 cosine; float16, bit and sparse values are
 *		kept as they are).  Returns false for a zero vector under
 *		cosine, which is neither indexed nor searchable.
 */
bool
HnswPrepareValue(const HnswDist *d, Datum value, void *out)
{
	struct varlena *v;
	int			dims = d->dims;

	if (d->elemtype == HNSW_ELEM_SQ8)
		return HnswSq8PrepareValue(d, value, out);
	if (d->elemtype == HNSW_ELEM_BIT)
	{
		PrepareBits(d, value, out);
		return true;
	}
	if (d->elemtype == HNSW_ELEM_SPARSE)
		return HnswPrepareSparse(d, value, out, HNSW_SPARSE_MAX_NNZ);
	v = HnswDetoastValue(d, value);

	if (d->elemtype == HNSW_ELEM_F32)
	{
		float	   *dst = (float *) out;

		memcpy(dst, ((Vector *) v)->x, sizeof(float) * dims);
		if (d->metric == HNSW_METRIC_COSINE)
		{
			double		norm = 0.0;
			int			i;

			for (i = 0; i < dims; i++)
				norm += (double) dst[i] * dst[i];
			if (!(norm > 0.0))
				return false;
			norm = sqrt(norm);
			for (i = 0; i < dims; i++)
				dst[i] = (float) (dst[i] / norm);
		}
	}
	else
	{
		half	   *dst = (half *) out;

		/*
		 * Cosine keeps the vector as it is: rounding a unit vector to
		 * float16 moves distances by up to about 1e-4, enough to misorder
		 * close neighbours against the <=> operator, so HnswDistance
		 * divides by the norms instead.  Only zero vectors are refused.
		 */
		if (d->metric == HNSW_METRIC_COSINE)
		{
			float		dot,
						aa,
						bb;

			d->k->cos_f16(((HalfVector *) v)->x, ((HalfVector *) v)->x, dims,
						  &dot, &aa, &bb);
			if (!(aa > 0.0f))
				return false;
		}
		memcpy(dst, ((HalfVector *) v)->x, sizeof(half) * dims);

	}
	if ((Pointer) v != DatumGetPointer(value))
		pfree(v);
	return true;
}

/*
 * HnswRandomLevel
 *		Draw a node level from the paper's distribution, mL = 1 / ln(m),
 *		clamped to maxLevel (the highest level whose node fits on a page).
 *		The clamp is taken here, not by callers with Min(): the macro would
 *		draw twice and could return the second, unclamped draw.
 */
int
HnswRandomLevel(int m, int maxLevel)
{
	double		u = 1.0 - pg_prng_double(&pg_global_prng_state);	/* (0, 1] */
	double		l = -log(u) / log((double) m);

	if (l > Min(maxLevel, HNSW_MAX_LEVEL))
		return Min(maxLevel, HNSW_MAX_LEVEL);
	return (int) l;
}

/* Highest level whose node still fits on a page; -1 if none does. */
int
HnswMaxLevelFor(int dims, int elemtype, int m, bool ovf)
{
	int			l;

	for (l = HNSW_MAX_LEVEL; l >= 0; l--)
		if (HnswNodeSize(dims, elemtype, m, l, ovf) <= HNSW_MAX_ITEM_SIZE)
			return l;
	return -1;
}

void
HnswInitPage(Page page, uint32 flags)
{
	HnswPageOpaque opaque;

	PageInit(page, BLCKSZ, sizeof(HnswPageOpaqueData));
	opaque = HnswPageGetOpaque(page);
	opaque->flags = flags;
	opaque->unused = 0;
	opaque->page_id = HNSW_PAGE_ID;
}

void
HnswCorrupt(Relation index, BlockNumber blkno, OffsetNumber off, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INDEX_CORRUPTED),
			 errmsg("index \"%s\" contains a corrupted page at block %u offset %u",
					RelationGetRelationName(index), blkno, off),
			 errdetail("%s", what),
			 errhint("Please REINDEX it.")));
}

/*
 * HnswMetaTypesValid
 *		Do a metapage's stored and indexed element types and metric go
 *		together?  Only float32 and float16 values may be stored as sq8
 *		codes; bit strings take Hamming and Jaccard, the others the four
 *		float metrics.
 */
bool
HnswMetaTypesValid(int elemtype, int srcElem, int metric)
{
	if (srcElem != HNSW_ELEM_F32 && srcElem != HNSW_ELEM_F16 &&
		srcElem != HNSW_ELEM_BIT && srcElem != HNSW_ELEM_SPARSE)
		return false;
	if (elemtype != srcElem && !(elemtype == HNSW_ELEM_SQ8 && HnswElemDense(srcElem)))
		return false;
	if (srcElem == HNSW_ELEM_BIT)
		return metric == HNSW_METRIC_HAMMING || metric == HNSW_METRIC_JACCARD;
	return metric >= HNSW_METRIC_L2 && metric <= HNSW_METRIC_L1;
}

void
HnswCheckMetaPage(Relation index, Page page)
{
	HnswMetaPage meta;

	if (PageIsNew(page) ||
		PageGetSpecialSize(page) != MAXALIGN(sizeof(HnswPageOpaqueData)) ||
		HnswPageGetOpaque(page)->page_id != HNSW_PAGE_ID ||
		!(HnswPageGetOpaque(page)->flags & HNSW_PAGE_META))
		HnswCorrupt(index, HNSW_METAPAGE_BLKNO, 0, "metapage is not an hnsw metapage");
	meta = HnswPageGetMeta(page);
	if (meta->magic != HNSW_MAGIC)
		HnswCorrupt(index, HNSW_METAPAGE_BLKNO, 0, "bad magic number in metapage");
	if (meta->version < HNSW_MIN_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("index \"%s\" has development format version %u, which is no longer read",
						RelationGetRelationName(index), meta->version),
				 errdetail("Only development snapshots before vecx 0.1.0 wrote hnsw formats before version %u.",
						   HNSW_MIN_VERSION),
				 errhint("REINDEX it.")));
	if (meta->version > HNSW_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has format version %u, expected %u to %u",
						RelationGetRelationName(index), meta->version,
						HNSW_MIN_VERSION, HNSW_VERSION),
				 errhint("REINDEX it.")));
	if (meta->m < HNSW_MIN_M || meta->m > HNSW_MAX_M ||
		meta->dims < 1 || meta->dims > HnswMaxDims(meta->srcElem) ||
		!HnswMetaTypesValid(meta->elemtype, meta->srcElem, meta->metric) ||
		meta->entryLevel < -1 || meta->entryLevel > HNSW_MAX_LEVEL ||
		meta->storage > HNSW_STORAGE_OVERFLOW)
		HnswCorrupt(index, HNSW_METAPAGE_BLKNO, 0, "metapage fields out of range");
	HnswMapCheckMeta(index, meta);
}

/*
 * HnswMetaLowerHint
 *		Lower a "first page that may have room" hint of the metapage (the
 *		BlockNumber field at byte offset field of HnswMetaPageData) to blkno,
 *		unless it already points at or before it.  Used by vacuum for free
 *		node slots and free filter map entries.
 */
void
HnswMetaLowerHint(Relation index, Size field, BlockNumber blkno)
{
	Buffer		buf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	BlockNumber cur;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	HnswCheckMetaPage(index, BufferGetPage(buf));
	memcpy(&cur, (char *) HnswPageGetMeta(BufferGetPage(buf)) + field, sizeof(BlockNumber));
	if (cur == InvalidBlockNumber || cur > blkno)
	{
		GenericXLogState *state = GenericXLogStart(index);
		Page		page = GenericXLogRegisterBuffer(state, buf, 0);

		memcpy((char *) HnswPageGetMeta(page) + field, &blkno, sizeof(BlockNumber));
		GenericXLogFinish(state);
	}
	UnlockReleaseBuffer(buf);
}

void
HnswReadMeta(Relation index, HnswMetaPageData *out)
{
	Buffer		buf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	Page		page;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	HnswCheckMetaPage(index, page);
	memcpy(out, HnswPageGetMeta(page), sizeof(HnswMetaPageData));
	UnlockReleaseBuffer(buf);
}

/*
 * HnswGetNode
 *		Return the node at (blkno, off) of a locked page, after checking
 *		everything a scan relies on.  Corruption is an ERROR, never a crash.
 */
HnswNodeHeader *
HnswGetNode(Relation index, Page page, BlockNumber blkno, OffsetNumber off,
			int dims, int elemtype, int m)
{
	ItemId		iid;
	HnswNodeHeader *node;
	Size		len;
	uint8	   *counts;
	int			l;

	if (PageIsNew(page) ||
		PageGetSpecialSize(page) != MAXALIGN(sizeof(HnswPageOpaqueData)) ||
		HnswPageGetOpaque(page)->page_id != HNSW_PAGE_ID ||
		!(HnswPageGetOpaque(page)->flags & HNSW_PAGE_NODES))
		HnswCorrupt(index, blkno, off, "not an hnsw data page");
	if (off < FirstOffsetNumber || off > PageGetMaxOffsetNumber(page))
		HnswCorrupt(index, blkno, off, "item offset out of range");
	iid = PageGetItemId(page, off);
	if (!ItemIdIsNormal(iid))
		HnswCorrupt(index, blkno, off, "item pointer is not in use");
	len = ItemIdGetLength(iid);
	if (len < HNSW_NODE_HDRSZ ||
		ItemIdGetOffset(iid) + len > ((PageHeader) page)->pd_special ||
		ItemIdGetOffset(iid) < ((PageHeader) page)->pd_upper)
		HnswCorrupt(index, blkno, off, "item length out of range");
	node = (HnswNodeHeader *) PageGetItem(page, iid);
	if (node->dims != HnswNodeDims(dims, elemtype) || node->level > HNSW_MAX_LEVEL ||
		node->state < HNSW_NODE_LIVE || node->state > HNSW_NODE_FREE ||
		node->ntids > HNSW_HEAPTIDS || (node->flags & ~HNSW_NODEF_OVERFLOW) != 0 ||
		(node->state == HNSW_NODE_LIVE && node->ntids == 0))
		HnswCorrupt(index, blkno, off, "node header fields out of range");
	if (len < HnswNodeSize(dims, elemtype, m, node->level, HnswNodeIsOvf(node)))
		HnswCorrupt(index, blkno, off, "node shorter than its level requires");
	counts = HnswNodeCounts(node, dims, elemtype);
	for (l = 0; l <= node->level; l++)
		if (counts[l] > HnswLevelCap(m, l))
			HnswCorrupt(index, blkno, off, "neighbour count out of range");
	return node;
}
