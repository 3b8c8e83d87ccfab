/*-------------------------------------------------------------------------
 *
 * vector.c
 *	  The vector type: float4 elements, I/O, distances, arithmetic,
 *	  comparison, casts and aggregate support.
 *
 * Every distance and norm goes through the SIMD kernel table, fetched once
 * per call.  Every value produced is checked to be finite, so NaN and
 * infinity never get into a stored vector.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/varbit.h"

#include "simd/simd.h"
#include "types/vectypes.h"

#define TYPNAME "vector"

/*
 * InitVector
 *		Allocate a zeroed vector of dim elements.
 */
Vector *
InitVector(int dim)
{
	Vector	   *v;
	Size		size;

	CheckVectorDim(dim);
	size = VECTOR_SIZE(dim);
	v = (Vector *) palloc0(size);
	SET_VARSIZE(v, size);
	v->dim = dim;
	return v;
}

/*
 * VectorFromFloats
 *		Build a vector from a palloc'd float array (which it frees) after
 *		checking the dimension against the typmod; shared by every input
 *		path that parses into floats first (text, array casts).
 */
static Vector *
VectorFromFloats(float *x, int dim, int32 typmod)
{
	Vector	   *result;

	VecxCheckExpectedDim(typmod, dim);
	result = InitVector(dim);
	memcpy(result->x, x, sizeof(float) * dim);
	pfree(x);
	return result;
}

/* Raise 22003 if an arithmetic result is infinite */
static inline void
check_overflow(float r)
{
	if (unlikely(isinf(r)))
		float_overflow_error();
}

/* ----------------------------------------------------------------
 * I/O
 * ----------------------------------------------------------------
 */

PG_FUNCTION_INFO_V1(vector_in);
Datum
vector_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	int32		typmod = PG_GETARG_INT32(2);
	int			dim;
	float	   *x;

	x = VecxParseText(str, TYPNAME, &dim);
	PG_RETURN_VECTOR_P(VectorFromFloats(x, dim, typmod));
}

PG_FUNCTION_INFO_V1(vector_out);
Datum
vector_out(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	StringInfoData buf;

	initStringInfo(&buf);
	/* at most 16000 * 16 + 3 bytes: no overflow possible */
	enlargeStringInfo(&buf, v->dim * VECX_ELEM_TEXT_LEN + 3);
	appendStringInfoChar(&buf, '[');
	for (int i = 0; i < v->dim; i++)
	{
		if (i > 0)
			appendStringInfoChar(&buf, ',');
		VecxAppendFloat(&buf, v->x[i]);
	}
	appendStringInfoChar(&buf, ']');
	PG_FREE_IF_COPY(v, 0);
	PG_RETURN_CSTRING(buf.data);
}

PG_FUNCTION_INFO_V1(vector_typmod_in);
Datum
vector_typmod_in(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(VecxTypmodIn(PG_GETARG_ARRAYTYPE_P(0), TYPNAME, VECX_MAX_DIM));
}

/* Shared by vector and halfvec */
PG_FUNCTION_INFO_V1(vector_typmod_out);
Datum
vector_typmod_out(PG_FUNCTION_ARGS)
{
	int32		typmod = PG_GETARG_INT32(0);

	if (typmod < 0)
		PG_RETURN_CSTRING(pstrdup(""));
	PG_RETURN_CSTRING(psprintf("(%d)", typmod));
}

PG_FUNCTION_INFO_V1(vector_recv);
Datum
vector_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int32		typmod = PG_GETARG_INT32(2);
	int			dim;
	Vector	   *result;

	dim = VecxRecvHeader(buf, typmod, TYPNAME, sizeof(float4));
	result = InitVector(dim);
	for (int i = 0; i < dim; i++)
	{
		result->x[i] = pq_getmsgfloat4(buf);
		VecxCheckElement(result->x[i], TYPNAME);
	}
	PG_RETURN_VECTOR_P(result);
}

PG_FUNCTION_INFO_V1(vector_send);
Datum
vector_send(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint16(&buf, v->dim);
	pq_sendint16(&buf, v->unused);
	for (int i = 0; i < v->dim; i++)
		pq_sendfloat4(&buf, v->x[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* ----------------------------------------------------------------
 * Casts
 * ----------------------------------------------------------------
 */

/* vector(vector, typmod, explicit): apply a vector(n) type modifier */
PG_FUNCTION_INFO_V1(vector);
Datum
vector(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);

	VecxCheckExpectedDim(PG_GETARG_INT32(1), v->dim);
	PG_RETURN_VECTOR_P(v);
}

PG_FUNCTION_INFO_V1(array_to_vector);
Datum
array_to_vector(PG_FUNCTION_ARGS)
{
	ArrayType  *array = PG_GETARG_ARRAYTYPE_P(0);
	int32		typmod = PG_GETARG_INT32(1);
	int			dim;
	float	   *x;

	x = VecxArrayToFloats(array, TYPNAME, &dim);
	PG_RETURN_VECTOR_P(VectorFromFloats(x, dim, typmod));
}

PG_FUNCTION_INFO_V1(vector_to_float4);
Datum
vector_to_float4(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);

	PG_RETURN_ARRAYTYPE_P(VecxFloatsToArray(v->x, v->dim));
}

/* ----------------------------------------------------------------
 * Distances and norms
 * ----------------------------------------------------------------
 */

PG_FUNCTION_INFO_V1(vector_l2_distance);
Datum
vector_l2_distance(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);

	VecxCheckSameDim(a->dim, b->dim, TYPNAME);
	PG_RETURN_FLOAT8(sqrt((double) vecx_kernels->l2sq_f32(a->x, b->x, a->dim)));
}

PG_FUNCTION_INFO_V1(vector_l2_squared_distance);
Datum
vector_l2_squared_distance(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);

	VecxCheckSameDim(a->dim, b->dim, TYPNAME);
	PG_RETURN_FLOAT8((double) vecx_kernels->l2sq_f32(a->x, b->x, a->dim));
}

PG_FUNCTION_INFO_V1(vector_inner_product);
Datum
vector_inner_product(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);

	VecxCheckSameDim(a->dim, b->dim, TYPNAME);
	PG_RETURN_FLOAT8((double) vecx_kernels->dot_f32(a->x, b->x, a->dim));
}

PG_FUNCTION_INFO_V1(vector_negative_inner_product);
Datum
vector_negative_inner_product(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);

	VecxCheckSameDim(a->dim, b->dim, TYPNAME);
	PG_RETURN_FLOAT8(-(double) vecx_kernels->dot_f32(a->x, b->x, a->dim));
}

/*
 * Cosine similarity from a dot product and squared norms, clamped to
 * [-1, 1] against rounding.  A zero vector gives 0/0 = NaN, as pgvector
 * does; the comparisons below are false for NaN so it passes through.
 */
static inline double
cosine_similarity(float dot, float aa, float bb)
{
	double		sim = (double) dot / sqrt((double) aa * (double) bb);

	if (sim > 1.0)
		sim = 1.0;
	else if (sim < -1.0)
		sim = -1.0;
	return sim;
}

PG_FUNCTION_INFO_V1(vector_cosine_distance);
Datum
vector_cosine_distance(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	float		dot,
				aa,
				bb;

	VecxCheckSameDim(a->dim, b->dim, TYPNAME);
	vecx_kernels->cos_f32(a->x, b->x, a->dim, &dot, &aa, &bb);
	PG_RETURN_FLOAT8(1.0 - cosine_similarity(dot, aa, bb));
}

/* Angle / pi: the metric form of cosine, for index support */
PG_FUNCTION_INFO_V1(vector_spherical_distance);
Datum
vector_spherical_distance(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	float		dot,
				aa,
				bb;

	VecxCheckSameDim(a->dim, b->dim, TYPNAME);
	vecx_kernels->cos_f32(a->x, b->x, a->dim, &dot, &aa, &bb);
	PG_RETURN_FLOAT8(acos(cosine_similarity(dot, aa, bb)) / M_PI);
}

PG_FUNCTION_INFO_V1(vector_l1_distance);
Datum
vector_l1_distance(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);

	VecxCheckSameDim(a->dim, b->dim, TYPNAME);
	PG_RETURN_FLOAT8((double) vecx_kernels->l1_f32(a->x, b->x, a->dim));
}

PG_FUNCTION_INFO_V1(vector_dims);
Datum
vector_dims(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);

	PG_RETURN_INT32(v->dim);
}

/*
 * Euclidean norm.  The float32 kernel is exact enough for ordinary data;
 * when squares overflow float32 (elements beyond ~1.8e19) or underflow
 * (elements below ~1e-19) recompute in double, so that the norm of any
 * finite vector is finite and that of any nonzero vector is nonzero.
 */
static double
vector_norm_internal(const Vector *v)
{
	float		ss = vecx_kernels->dot_f32(v->x, v->x, v->dim);
	double		dss = 0.0;

	if (likely(ss >= 1e-30f && !isinf(ss)))
		return sqrt((double) ss);
	for (int i = 0; i < v->dim; i++)
		dss += (double) v->x[i] * (double) v->x[i];
	return sqrt(dss);
}

PG_FUNCTION_INFO_V1(vector_norm);
Datum
vector_norm(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);

	PG_RETURN_FLOAT8(vector_norm_internal(v));
}

PG_FUNCTION_INFO_V1(vector_l2_normalize);
Datum
vector_l2_normalize(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	Vector	   *result = InitVector(v->dim);
	double		norm = vector_norm_internal(v);

	/* A zero vector stays zero */
	if (norm > 0)
	{
		for (int i = 0; i < v->dim; i++)
		{
			result->x[i] = (float) ((double) v->x[i] / norm);
			/* subnormal norms can push an element past FLT_MAX */
			check_overflow(result->x[i]);
		}
	}
	PG_RETURN_VECTOR_P(result);
}

PG_FUNCTION_INFO_V1(vector_binary_quantize);
Datum
vector_binary_quantize(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	int			len = VARBITTOTALLEN(v->dim);
	VarBit	   *result = palloc0(len);
	bits8	   *r;

	SET_VARSIZE(result, len);
	VARBITLEN(result) = v->dim;
	r = VARBITS(result);
	for (int i = 0; i < v->dim; i++)
	{
		if (v->x[i] > 0)
			r[i / BITS_PER_BYTE] |= 0x80 >> (i % BITS_PER_BYTE);
	}
	PG_RETURN_VARBIT_P(result);
}

/*
 * subvector(v, start, count): count elements from 1-based start, clipped
 * to the vector like substring(); an empty result is an error.
 * Shared with halfvec through the element size.
 */
void
VecxSubvectorRange(int dim, int32 start, int32 count, const char *typname,
				   int *from, int *n)
{
	int64		end;

	if (count < 1)
		VecxCheckDimFor(0, typname);

	/* int64 arithmetic: start + count cannot overflow */
	end = (int64) start + count;
	if (end > (int64) dim + 1)
		end = (int64) dim + 1;
	if (start < 1)
		start = 1;
	else if (start > dim)
		VecxCheckDimFor(0, typname);

	if (end - start < 1)
		VecxCheckDimFor(0, typname);
	*from = start - 1;
	*n = (int) (end - start);
}

PG_FUNCTION_INFO_V1(vector_subvector);
Datum
vector_subvector(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	int			from,
				n;
	Vector	   *result;

	VecxSubvectorRange(v->dim, PG_GETARG_INT32(1), PG_GETARG_INT32(2),
					   TYPNAME, &from, &n);
	result = InitVector(n);
	memcpy(result->x, v->x + from, sizeof(float) * n);
	PG_RETURN_VECTOR_P(result);
}

/* ----------------------------------------------------------------
 * Arithmetic
 * ----------------------------------------------------------------
 */

PG_FUNCTION_INFO_V1(vector_add);
Datum
vector_add(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *result;

	VecxCheckSameDim(a->dim, b->dim, TYPNAME);
	result = InitVector(a->dim);
	for (int i = 0; i < a->dim; i++)
		result->x[i] = a->x[i] + b->x[i];
	for (int i = 0; i < a->dim; i++)
		check_overflow(result->x[i]);
	PG_RETURN_VECTOR_P(result);
}

PG_FUNCTION_INFO_V1(vector_sub);
Datum
vector_sub(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *result;

	VecxCheckSameDim(a->dim, b->dim, TYPNAME);
	result = InitVector(a->dim);
	for (int i = 0; i < a->dim; i++)
		result->x[i] = a->x[i] - b->x[i];
	for (int i = 0; i < a->dim; i++)
		check_overflow(result->x[i]);
	PG_RETURN_VECTOR_P(result);
}

PG_FUNCTION_INFO_V1(vector_mul);
Datum
vector_mul(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *result;

	VecxCheckSameDim(a->dim, b->dim, TYPNAME);
	result = InitVector(a->dim);
	for (int i = 0; i < a->dim; i++)
		result->x[i] = a->x[i] * b->x[i];
	for (int i = 0; i < a->dim; i++)
	{
		check_overflow(result->x[i]);
		/* like float4mul: a nonzero product must not vanish */
		if (result->x[i] == 0 && a->x[i] != 0 && b->x[i] != 0)
			float_underflow_error();
	}
	PG_RETURN_VECTOR_P(result);
}

PG_FUNCTION_INFO_V1(vector_concat);
Datum
vector_concat(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *result;

	/* each dim <= 16000, so the sum fits; InitVector checks the limit */
	result = InitVector(a->dim + b->dim);
	memcpy(result->x, a->x, sizeof(float) * a->dim);
	memcpy(result->x + a->dim, b->x, sizeof(float) * b->dim);
	PG_RETURN_VECTOR_P(result);
}

/* ----------------------------------------------------------------
 * Comparison (btree): element by element, then shorter first
 * ----------------------------------------------------------------
 */

static int
vector_cmp_internal(const Vector *a, const Vector *b)
{
	int			dim = Min(a->dim, b->dim);

	for (int i = 0; i < dim; i++)
	{
		if (a->x[i] < b->x[i])
			return -1;
		if (a->x[i] > b->x[i])
			return 1;
	}
	if (a->dim < b->dim)
		return -1;
	if (a->dim > b->dim)
		return 1;
	return 0;
}

#define VECTOR_CMP_FUNC(name, expr) \
PG_FUNCTION_INFO_V1(name); \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	Vector	   *a = PG_GETARG_VECTOR_P(0); \
	Vector	   *b = PG_GETARG_VECTOR_P(1); \
	int			c = vector_cmp_internal(a, b); \
 \
	PG_FREE_IF_COPY(a, 0); \
	PG_FREE_IF_COPY(b, 1); \
	expr; \
}

VECTOR_CMP_FUNC(vector_lt, PG_RETURN_BOOL(c < 0))
VECTOR_CMP_FUNC(vector_le, PG_RETURN_BOOL(c <= 0))
VECTOR_CMP_FUNC(vector_eq, PG_RETURN_BOOL(c == 0))
VECTOR_CMP_FUNC(vector_ne, PG_RETURN_BOOL(c != 0))
VECTOR_CMP_FUNC(vector_ge, PG_RETURN_BOOL(c >= 0))
VECTOR_CMP_FUNC(vector_gt, PG_RETURN_BOOL(c > 0))
VECTOR_CMP_FUNC(vector_cmp, PG_RETURN_INT32(c))

/* ----------------------------------------------------------------
 * Aggregates: avg and sum share a float8[] state {count, sums...}.
 * Summing in double keeps sum() exact for integer data and independent
 * of the row order (and so of parallel plans) for practical inputs; only
 * a final result beyond float range is an error.
 * ----------------------------------------------------------------
 */

PG_FUNCTION_INFO_V1(vector_accum);
Datum
vector_accum(PG_FUNCTION_ARGS)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	Vector	   *v = PG_GETARG_VECTOR_P(1);
	ArrayType  *result;
	float8	   *sums;

	sums = VecxAccumBegin(fcinfo, state, v->dim, TYPNAME, &result);
	for (int i = 0; i < v->dim; i++)
		sums[i] += (double) v->x[i];
	PG_RETURN_ARRAYTYPE_P(result);
}

PG_FUNCTION_INFO_V1(vector_combine);
Datum
vector_combine(PG_FUNCTION_ARGS)
{
	PG_RETURN_ARRAYTYPE_P(VecxCombineStates(fcinfo,
											PG_GETARG_ARRAYTYPE_P(0),
											PG_GETARG_ARRAYTYPE_P(1),
											TYPNAME));
}

PG_FUNCTION_INFO_V1(vector_avg);
Datum
vector_avg(PG_FUNCTION_ARGS)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	int			nelems;
	float8	   *v = VecxStateValues(state, &nelems);
	Vector	   *result;

	/* no rows: NULL, like avg() of any type */
	if (v[0] == 0)
		PG_RETURN_NULL();

	result = InitVector(nelems - 1);
	for (int i = 0; i < nelems - 1; i++)
	{
		result->x[i] = (float) (v[i + 1] / v[0]);
		check_overflow(result->x[i]);
		if (isnan(result->x[i]))
			VecxCheckElement(result->x[i], TYPNAME);
	}
	PG_RETURN_VECTOR_P(result);
}

PG_FUNCTION_INFO_V1(vector_sum);
Datum
vector_sum(PG_FUNCTION_ARGS)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	int			nelems;
	float8	   *v = VecxStateValues(state, &nelems);
	Vector	   *result;

	if (v[0] == 0)
		PG_RETURN_NULL();

	result = InitVector(nelems - 1);
	for (int i = 0; i < nelems - 1; i++)
	{
		result->x[i] = (float) v[i + 1];
		check_overflow(result->x[i]);
		if (isnan(result->x[i]))
			VecxCheckElement(result->x[i], TYPNAME);
	}
	PG_RETURN_VECTOR_P(result);
}
