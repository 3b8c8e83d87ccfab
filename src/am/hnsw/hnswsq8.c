/*-------------------------------------------------------------------------
 *
 * hnswsq8.c
 *	  8-bit scalar quantization of node vectors (quantization = sq8).
 *
 * Each stored vector keeps its own range: lo is its smallest element and
 * scale its range / 255, so code c stands for lo + scale * c, and no
 * training pass or metapage state is needed (inserts into an empty index
 * quantize as well as a bulk build).  The graph is walked on the codes
 * with the float32 query (HnswDistanceQ), reading a quarter of the bytes
 * of a float32 node.
 *
 * The index does not keep the exact vector.  A scan returns every row with
 * a lower bound of its true distance and xs_recheckorderby set; the
 * executor computes the exact distance from the heap tuple and its reorder
 * queue emits rows in exact order (the mechanism lossy GiST KNN uses).
 * The bounds come from err, the distance between a value and its decoding,
 * stored per vector:
 *
 *	l2:		|q - x| >= |q - x'| - |x - x'|
 *	ip:		-q.x >= -q.x' - |q| |x - x'|	(Cauchy-Schwarz)
 *	cosine: as ip, with unit q and x
 *	l1:		|q - x|_1 >= |q - x'|_1 - |x - x'|_1
 *
 * each less a tolerance for float rounding on both sides, so that a bound
 * never exceeds the executor's own exact value.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "hnsw.h"

/*
 * Relative rounding allowance of the lower bounds.  The kernels sum in
 * float32; errors grow with the dimension count but stay far below this
 * for sums of up to 16,000 terms of like sign, and a looser bound only
 * costs an occasional extra heap fetch.
 */
#define SQ8_REL_TOL		2e-4
#define SQ8_NORM_TOL	2e-5

/*
 * Largest euclidean norm a quantized vector may have.  The header keeps
 * the range, the norm and the error in float32, and decoding computes lo +
 * scale * code in float32: with the norm at most half of FLT_MAX none of
 * them can overflow, so every header of a legal value is finite.
 */
#define SQ8_MAX_NORM	(FLT_MAX / 2)
#define SQ8_MAX_COSINE_N2	((double) FLT_MAX / 2)

/* graph copies clamp elements here instead (norm <= 1e18 * sqrt(16,000)) */
#define SQ8_COPY_CLAMP	1e18f

Size
HnswQueryBytes(const HnswDist *d)
{
	if (d->elemtype == HNSW_ELEM_SQ8)
		return add_size(offsetof(HnswSq8Query, x), mul_size(sizeof(float), d->dims));
	/* a sparse query may have more elements than an indexed value */
	if (d->elemtype == HNSW_ELEM_SPARSE)
		return HnswSparseBytes(d->dims, VECX_SPARSE_MAX_NNZ);
	return d->vbytes;
}

/* Scale x to unit length; false if it is zero (or not finite). */
static bool
Sq8Normalize(float *x, int n)
{
	double		norm = 0.0;
	int			i;

	for (i = 0; i < n; i++)
		norm += (double) x[i] * x[i];
	if (!(norm > 0.0) || isinf(norm))
		return false;
	norm = sqrt(norm);
	for (i = 0; i < n; i++)
		x[i] = (float) (x[i] / norm);
	return true;
}

/*
 * Sq8Decode
 *		The float32 elements of a vector datum of the index's source type,
 *		unit length under cosine.  Returns false for a zero vector under
 *		cosine, and for a query whose distances the operator cannot compute
 *		(below): every row then ties, as for a zero query.  A value too
 *		large to quantize is refused.
 */
static bool
Sq8Decode(const HnswDist *d, Datum value, float *out, bool isQuery)
{
	struct varlena *v = HnswDetoastValue(d, value);
	int			dims = d->dims;
	bool		ok = true;
	double		n2 = 0.0;
	int			i;

	if (d->srcElem == HNSW_ELEM_F16)
		d->k->f16_to_f32(((HalfVector *) v)->x, out, dims);
	else
		memcpy(out, ((Vector *) v)->x, sizeof(float) * dims);
	if ((Pointer) v != DatumGetPointer(value))
		pfree(v);
	for (i = 0; i < dims; i++)
		n2 += (double) out[i] * out[i];

	/*
	 * The <=> operator sums squared norms in float32: past FLT_MAX it
	 * returns 1 or NaN whatever the angle, and no bound from the unit
	 * vectors could stay below that.  Other metrics only need the header
	 * to be finite (SQ8_MAX_NORM).
	 */
	if (d->metric == HNSW_METRIC_COSINE ? n2 > SQ8_MAX_COSINE_N2 : sqrt(n2) > SQ8_MAX_NORM)
	{
		if (isQuery)
			return d->metric != HNSW_METRIC_COSINE;
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("vector norm %g is too large for an hnsw index with quantization = sq8",
						sqrt(n2)),
				 errdetail("Quantized vectors must have a euclidean norm of at most %g under this operator class.",
						   d->metric == HNSW_METRIC_COSINE ? sqrt(SQ8_MAX_COSINE_N2) : (double) SQ8_MAX_NORM),
				 errhint("Use an hnsw index without quantization for such values.")));
	}
	if (d->metric == HNSW_METRIC_COSINE)
		ok = Sq8Normalize(out, dims);
	return ok;
}

static void
Sq8QueryStats(const HnswDist *d, HnswSq8Query *q)
{
	double		n2 = 0.0;
	double		sum = 0.0;
	int			i;

	for (i = 0; i < d->dims; i++)
	{
		n2 += (double) q->x[i] * q->x[i];
		sum += q->x[i];
	}
	q->norm = (float) sqrt(n2);
	q->sum = (float) sum;
}

/*
 * HnswSq8EncodeStored
 *		The codes (per cd, an sq8 context) of a vector stored as float32 or
 *		float16 in an index with context d, for graph copies (hnswcache.c);
 *		x is scratch for dims floats.  Under cosine the unit vector is
 *		quantized, as for sq8 indexes (float16 cosine vectors are stored as
 *		they are; zero vectors are not indexed under cosine).
 */
void
HnswSq8EncodeStored(const HnswDist *d, const HnswDist *cd, const void *stored,
					float *x, void *out)
{
	if (d->elemtype == HNSW_ELEM_F16)
		d->k->f16_to_f32(stored, x, d->dims);
	else
		memcpy(x, stored, sizeof(float) * d->dims);
	if (d->metric == HNSW_METRIC_COSINE)
		(void) Sq8Normalize(x, d->dims);
	else
	{
		int			i;

		/*
		 * Codes of a copy only steer the walk (rows are re-ranked on the
		 * vectors), so a vector too large to quantize is clamped rather
		 * than refused: a scan must not fail on a value the index took.
		 */
		for (i = 0; i < d->dims; i++)
			x[i] = Max(-SQ8_COPY_CLAMP, Min(SQ8_COPY_CLAMP, x[i]));
	}
	HnswSq8Encode(cd, x, out);
}

/*
 * HnswPrepareQuery
 *		Convert a query datum into the query form HnswDistanceQ takes: the
 *		stored form, except for sq8 indexes (float32 plus sums) and sparse
 *		ones (the stored layout with room for every legal value).  Returns
 *		false for a zero query under cosine.
 */
bool
HnswPrepareQuery(const HnswDist *d, Datum value, void *out)
{
	HnswSq8Query *q = (HnswSq8Query *) out;

	if (d->elemtype == HNSW_ELEM_SPARSE)
		return HnswPrepareSparse(d, value, out, VECX_SPARSE_MAX_NNZ);
	if (d->elemtype != HNSW_ELEM_SQ8)
		return HnswPrepareValue(d, value, out);
	if (!Sq8Decode(d, value, q->x, true))
		return false;
	Sq8QueryStats(d, q);
	return true;
}

/*
 * HnswQueryFromStored
 *		The query form of a stored vector, for searches on behalf of a node
 *		(insertion, vacuum's repair).  An sq8 node's query is its decoding.
 */
void
HnswQueryFromStored(const HnswDist *d, const void *stored, void *out)
{
	HnswSq8Query *q = (HnswSq8Query *) out;
	const HnswSq8Header *h = (const HnswSq8Header *) stored;
	const uint8 *c = HnswSq8Codes(stored);
	int			i;

	if (d->elemtype != HNSW_ELEM_SQ8)
	{
		memcpy(out, stored, d->vbytes);
		return;
	}
	for (i = 0; i < d->dims; i++)
		q->x[i] = h->lo + h->scale * (float) c[i];
	Sq8QueryStats(d, q);
}

/*
 * HnswSq8Encode
 *		Quantize x (float32, already unit length under cosine) into the
 *		stored form out (d->vbytes bytes, padding zeroed so that identical
 *		values compare equal byte for byte).
 */
void
HnswSq8Encode(const HnswDist *d, const float *x, void *out)
{
	HnswSq8Header *h = (HnswSq8Header *) out;
	uint8	   *c = (uint8 *) out + HNSW_SQ8_HDRSZ;
	float		lo = x[0];
	float		hi = x[0];
	float		scale;
	double		err2 = 0.0;
	double		err1 = 0.0;
	double		n2 = 0.0;
	uint32		sumc = 0;
	double		err;
	int			i;

	memset(out, 0, d->vbytes);
	for (i = 1; i < d->dims; i++)
	{
		lo = Min(lo, x[i]);
		hi = Max(hi, x[i]);
	}
	scale = (float) (((double) hi - (double) lo) / 255.0);
	if (!(scale > 0.0f) || isinf(scale))
		scale = 0.0f;
	for (i = 0; i < d->dims; i++)
	{
		long		code = 0;
		float		dec;
		double		e;

		if (scale > 0.0f)
		{
			code = lrint(((double) x[i] - (double) lo) / (double) scale);
			code = Max(0, Min(255, code));
		}
		c[i] = (uint8) code;
		sumc += (uint32) code;
		/* the decoding exactly as the scalar kernels compute it */
		dec = lo + scale * (float) c[i];
		e = (double) x[i] - (double) dec;
		err2 += e * e;
		err1 += fabs(e);
		n2 += (double) dec * dec;
	}
	err = d->metric == HNSW_METRIC_L1 ? err1 : sqrt(err2);
	/* cannot happen for values Sq8Decode accepted */
	if (!isfinite(err) || !isfinite(sqrt(n2)) || sqrt(n2) > FLT_MAX)
		elog(ERROR, "sq8 code of a vector out of range");
	h->lo = lo;
	h->scale = scale;
	h->norm = (float) sqrt(n2);
	/* round up: the bound must hold */
	h->err = (float) (err * (1.0 + 1e-6));
	if ((double) h->err < err)
		h->err = nextafterf(h->err, FLT_MAX);
	h->sumc = sumc;
}

/*
 * HnswSq8PrepareValue
 *		HnswPrepareValue for sq8 indexes: decode, quantize.
 */
bool
HnswSq8PrepareValue(const HnswDist *d, Datum value, void *out)
{
	float	   *x = palloc(mul_size(sizeof(float), d->dims));
	bool		ok = Sq8Decode(d, value, x, false);

	if (ok)
		HnswSq8Encode(d, x, out);
	pfree(x);
	return ok;
}

/*
 * HnswSq8Distance
 *		Distance between two stored sq8 vectors (graph construction and
 *		repair).  The dot product of the decodings follows from the exact
 *		integer dot product of the codes:
 *		(la + sa a).(lb + sb b) = n la lb + la sb sum(b) + lb sa sum(a) + sa sb a.b
 */
float
HnswSq8Distance(const HnswDist *d, const void *a, const void *b)
{
	const HnswSq8Header *ha = (const HnswSq8Header *) a;
	const HnswSq8Header *hb = (const HnswSq8Header *) b;
	double		dot;

	if (d->metric == HNSW_METRIC_L1)
		return d->k->l1_sq8_sym(HnswSq8Codes(a), ha->lo, ha->scale,
								HnswSq8Codes(b), hb->lo, hb->scale, d->dims);
	dot = (double) d->dims * ha->lo * hb->lo +
		(double) ha->lo * hb->scale * hb->sumc +
		(double) hb->lo * ha->scale * ha->sumc +
		(double) ha->scale * hb->scale *
		(double) d->k->dot_u8(HnswSq8Codes(a), HnswSq8Codes(b), d->dims);
	switch (d->metric)
	{
		case HNSW_METRIC_L2:
			{
				double		l2 = (double) ha->norm * ha->norm +
					(double) hb->norm * hb->norm - 2.0 * dot;

				return (float) Max(l2, 0.0);
			}
		case HNSW_METRIC_IP:
			return (float) -dot;
		default:
			return (float) (1.0 - dot);
	}
}

/*
 * HnswSq8LowerBound
 *		A lower bound, in the operator's units (l2 not squared), of the
 *		exact distance from the query q (query form) to the value whose
 *		stored form is stored, given dist = HnswDistanceQ(q, stored).
 *		Never NaN; -DBL_MAX when nothing better is known.
 */
double
HnswSq8LowerBound(const HnswDist *d, const void *q, const void *stored, float dist)
{
	const HnswSq8Query *qq = (const HnswSq8Query *) q;
	const HnswSq8Header *h = (const HnswSq8Header *) stored;
	double		err = h->err;
	double		lb;

	switch (d->metric)
	{
		case HNSW_METRIC_L2:
			{
				double		r = sqrt(Max((double) dist, 0.0));

				lb = r - err - SQ8_REL_TOL * (r + err) -
					SQ8_NORM_TOL * ((double) qq->norm + h->norm);
				lb = Max(lb, 0.0);
				break;
			}
		case HNSW_METRIC_IP:
			lb = (double) dist - (double) qq->norm * err -
				SQ8_REL_TOL * (double) qq->norm * ((double) h->norm + err);
			break;
		case HNSW_METRIC_COSINE:
			/* unit vectors: |q| = 1 */
			lb = (double) dist - err - SQ8_REL_TOL * (1.0 + err);
			break;
		default:
			lb = (double) dist - err - SQ8_REL_TOL * ((double) dist + err) -
				SQ8_NORM_TOL * sqrt((double) d->dims) * ((double) qq->norm + h->norm);
			lb = Max(lb, 0.0);
			break;
	}
	if (isnan(lb) || lb < -DBL_MAX)
		return -DBL_MAX;
	return lb;
}

/*
 * HnswOrderValue
 *		An internal distance in the operator's units.
 */
double
HnswOrderValue(const HnswDist *d, float dist)
{
	if (d->metric == HNSW_METRIC_L2)
		return sqrt(Max((double) dist, 0.0));
	return dist;
}
