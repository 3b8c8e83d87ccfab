/*-------------------------------------------------------------------------
 *
 * halfvec.c
 *	  The halfvec type: IEEE binary16 elements, I/O, distances,
 *	  arithmetic, comparison, casts and aggregate support.
 *
 * Elements are stored as raw binary16 bit patterns.  Arithmetic is done
 * in float32 and rounded back; a result beyond the binary16 range
 * (|x| >= 65520) is an error, never an infinity.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/varbit.h"

#include "simd/simd.h"
#include "types/vectypes.h"

#define TYPNAME "halfvec"

#define HALF_EXP_MASK	0x7c00
#define HALF_FRAC_MASK	0x03ff
/* exponent all ones: infinity or NaN */
#define HALF_IS_SPECIAL(h) (((h) & HALF_EXP_MASK) == HALF_EXP_MASK)
#define HALF_IS_NAN(h)	(HALF_IS_SPECIAL(h) && ((h) & HALF_FRAC_MASK) != 0)

HalfVector *
InitHalfVector(int dim)
{
	HalfVector *v;
	Size		size;

	VecxCheckDimFor(dim, TYPNAME);
	size = HALFVEC_SIZE(dim);
	v = (HalfVector *) palloc0(size);
	SET_VARSIZE(v, size);
	v->dim = dim;
	return v;
}

/* Report a finite float that does not fit in binary16 */
static void
half_out_of_range(float f)
{
	char		buf[FLOAT_SHORTEST_DECIMAL_LEN];

	float_to_shortest_decimal_buf(f, buf);
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("\"%s\" is out of range for type %s", buf, TYPNAME)));
}

/*
 * Convert n finite floats to binary16, raising 22003 for values outside
 * the binary16 range.
 */
static void
floats_to_halves(const float *src, half *dst, int n)
{
	vecx_kernels->f32_to_f16(src, dst, n);
	for (int i = 0; i < n; i++)
	{
		if (unlikely(HALF_IS_SPECIAL(dst[i])))
		{
			VecxCheckElement(src[i], TYPNAME);
			half_out_of_range(src[i]);
		}
	}
}

/*
 * HalfVectorFromFloats
 *		Build a halfvec from a palloc'd float array (which it frees) after
 *		checking the dimension against the typmod; shared by the text input
 *		and the array casts.
 */
static HalfVector *
HalfVectorFromFloats(float *x, int dim, int32 typmod)
{
	HalfVector *result;

	VecxCheckExpectedDim(typmod, dim);
	result = InitHalfVector(dim);
	floats_to_halves(x, result->x, dim);
	pfree(x);
	return result;
}

/* Arithmetic result to binary16: overflow is 22003 */
static inline half
arith_to_half(float f)
{
	half		h = vecx_float_to_half(f);

	if (unlikely(HALF_IS_SPECIAL(h)))
		float_overflow_error();
	return h;
}

static inline float
h2f(half h)
{
	return vecx_half_to_float(h);
}

/* palloc'd float32 copy of a halfvec's elements */
static float *
halfvec_floats(const HalfVector *v)
{
	float	   *x = palloc(sizeof(float) * v->dim);

	vecx_kernels->f16_to_f32(v->x, x, v->dim);
	return x;
}

/* ----------------------------------------------------------------
 * I/O
 * ----------------------------------------------------------------
 */

PG_FUNCTION_INFO_V1(halfvec_in);
Datum
halfvec_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	int32		typmod = PG_GETARG_INT32(2);
	int			dim;
	float	   *x;

	x = VecxParseText(str, TYPNAME, &dim);
	PG_RETURN_HALFVEC_P(HalfVectorFromFloats(x, dim, typmod));
}

PG_FUNCTION_INFO_V1(halfvec_out);
Datum
halfvec_out(PG_FUNCTION_ARGS)
{
	HalfVector *v = PG_GETARG_HALFVEC_P(0);
	StringInfoData buf;

	initStringInfo(&buf);
	enlargeStringInfo(&buf, v->dim * VECX_ELEM_TEXT_LEN + 3);
	appendStringInfoChar(&buf, '[');
	for (int i = 0; i < v->dim; i++)
	{
		if (i > 0)
			appendStringInfoChar(&buf, ',');
		VecxAppendFloat(&buf, h2f(v->x[i]));
	}
	appendStringInfoChar(&buf, ']');
	PG_FREE_IF_COPY(v, 0);
	PG_RETURN_CSTRING(buf.data);
}

PG_FUNCTION_INFO_V1(halfvec_typmod_in);
Datum
halfvec_typmod_in(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(VecxTypmodIn(PG_GETARG_ARRAYTYPE_P(0), TYPNAME, VECX_MAX_DIM));
}

PG_FUNCTION_INFO_V1(halfvec_recv);
Datum
halfvec_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int32		typmod = PG_GETARG_INT32(2);
	int			dim;
	HalfVector *result;

	dim = VecxRecvHeader(buf, typmod, TYPNAME, sizeof(half));
	result = InitHalfVector(dim);
	for (int i = 0; i < dim; i++)
	{
		half		h = (half) pq_getmsgint(buf, sizeof(half));

		if (HALF_IS_SPECIAL(h))
			VecxCheckElement(HALF_IS_NAN(h) ? NAN : INFINITY, TYPNAME);
		result->x[i] = h;
	}
	PG_RETURN_HALFVEC_P(result);
}

PG_FUNCTION_INFO_V1(halfvec_send);
Datum
halfvec_send(PG_FUNCTION_ARGS)
{
	HalfVector *v = PG_GETARG_HALFVEC_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint16(&buf, v->dim);
	pq_sendint16(&buf, v->unused);
	for (int i = 0; i < v->dim; i++)
		pq_sendint16(&buf, v->x[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* ----------------------------------------------------------------
 * Casts
 * ----------------------------------------------------------------
 */

PG_FUNCTION_INFO_V1(halfvec);
Datum
halfvec(PG_FUNCTION_ARGS)
{
	HalfVector *v = PG_GETARG_HALFVEC_P(0);

	VecxCheckExpectedDim(PG_GETARG_INT32(1), v->dim);
	PG_RETURN_HALFVEC_P(v);
}

PG_FUNCTION_INFO_V1(array_to_halfvec);
Datum
array_to_halfvec(PG_FUNCTION_ARGS)
{
	ArrayType  *array = PG_GETARG_ARRAYTYPE_P(0);
	int32		typmod = PG_GETARG_INT32(1);
	int			dim;
	float	   *x;

	x = VecxArrayToFloats(array, TYPNAME, &dim);
	PG_RETURN_HALFVEC_P(HalfVectorFromFloats(x, dim, typmod));
}

PG_FUNCTION_INFO_V1(halfvec_to_float4);
Datum
halfvec_to_float4(PG_FUNCTION_ARGS)
{
	HalfVector *v = PG_GETARG_HALFVEC_P(0);

	PG_RETURN_ARRAYTYPE_P(VecxFloatsToArray(halfvec_floats(v), v->dim));
}

PG_FUNCTION_INFO_V1(halfvec_to_vector);
Datum
halfvec_to_vector(PG_FUNCTION_ARGS)
{
	HalfVector *v = PG_GETARG_HALFVEC_P(0);
	Vector	   *result;

	VecxCheckExpectedDim(PG_GETARG_INT32(1), v->dim);
	result = InitVector(v->dim);
	vecx_kernels->f16_to_f32(v->x, result->x, v->dim);
	PG_RETURN_VECTOR_P(result);
}

PG_FUNCTION_INFO_V1(vector_to_halfvec);
Datum
vector_to_halfvec(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	HalfVector *result;

	VecxCheckExpectedDim(PG_GETARG_INT32(1), v->dim);
	result = InitHalfVector(v->dim);
	floats_to_halves(v->x, result->x, v->dim);
	PG_RETURN_HALFVEC_P(result);
}

/* ----------------------------------------------------------------
 * Distances and norms
 * ----------------------------------------------------------------
 */

PG_FUNCTION_INFO_V1(halfvec_l2_distance);
Datum
halfvec_l2_distance(PG_FUNCTION_ARGS)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	HalfVector *b = PG_GETARG_HALFVEC_P(1);

	VecxCheckSameDim(a->dim, b->dim, TYPNAME);
	PG_RETURN_FLOAT8(sqrt((double) vecx_kernels->l2sq_f16(a->x, b->x, a->dim)));
}

PG_FUNCTION_INFO_V1(halfvec_l2_squared_distance);
Datum
halfvec_l2_squared_distance(PG_FUNCTION_ARGS)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	HalfVector *b = PG_GETARG_HALFVEC_P(1);

	VecxCheckSameDim(a->dim, b->dim, TYPNAME);
	PG_RETURN_FLOAT8((double) vecx_kernels->l2sq_f16(a->x, b->x, a->dim));
}

PG_FUNCTION_INFO_V1(halfvec_inner_product);
Datum
halfvec_inner_product(PG_FUNCTION_ARGS)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	HalfVector *b = PG_GETARG_HALFVEC_P(1);

	VecxCheckSameDim(a->dim, b->dim, TYPNAME);
	PG_RETURN_FLOAT8((double) vecx_kernels->dot_f16(a->x, b->x, a->dim));
}

PG_FUNCTION_INFO_V1(halfvec_negative_inner_product);
Datum
halfvec_negative_inner_product(PG_FUNCTION_ARGS)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	HalfVector *b = PG_GETARG_HALFVEC_P(1);

	VecxCheckSameDim(a->dim, b->dim, TYPNAME);
	PG_RETURN_FLOAT8(-(double) vecx_kernels->dot_f16(a->x, b->x, a->dim));
}

/* See cosine_similarity in vector.c: zero vectors give NaN */
static inline double
half_cosine_similarity(const HalfVector *a, const HalfVector *b)
{
	float		dot,
				aa,
				bb;
	double		sim;

	vecx_kernels->cos_f16(a->x, b->x, a->dim, &dot, &aa, &bb);
	sim = (double) dot / sqrt((double) aa * (double) bb);
	if (sim > 1.0)
		sim = 1.0;
	else if (sim < -1.0)
		sim = -1.0;
	return sim;
}

PG_FUNCTION_INFO_V1(halfvec_cosine_distance);
Datum
halfvec_cosine_distance(PG_FUNCTION_ARGS)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	HalfVector *b = PG_GETARG_HALFVEC_P(1);

	VecxCheckSameDim(a->dim, b->dim, TYPNAME);
	PG_RETURN_FLOAT8(1.0 - half_cosine_similarity(a, b));
}

PG_FUNCTION_INFO_V1(halfvec_spherical_distance);
Datum
halfvec_spherical_distance(PG_FUNCTION_ARGS)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	HalfVector *b = PG_GETARG_HALFVEC_P(1);

	VecxCheckSameDim(a->dim, b->dim, TYPNAME);
	PG_RETURN_FLOAT8(acos(half_cosine_similarity(a, b)) / M_PI);
}

PG_FUNCTION_INFO_V1(halfvec_l1_distance);
Datum
halfvec_l1_distance(PG_FUNCTION_ARGS)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	HalfVector *b = PG_GETARG_HALFVEC_P(1);

	VecxCheckSameDim(a->dim, b->dim, TYPNAME);
	PG_RETURN_FLOAT8((double) vecx_kernels->l1_f16(a->x, b->x, a->dim));
}

PG_FUNCTION_INFO_V1(halfvec_vector_dims);
Datum
halfvec_vector_dims(PG_FUNCTION_ARGS)
{
	HalfVector *v = PG_GETARG_HALFVEC_P(0);

	PG_RETURN_INT32(v->dim);
}

/*
 * The squares of binary16 values (at most 65504^2 * 16000 ~ 6.9e13 in
 * sum) cannot overflow float32, so the kernel alone suffices.
 */
static double
halfvec_norm_internal(const HalfVector *v)
{
	return sqrt((double) vecx_kernels->dot_f16(v->x, v->x, v->dim));
}

PG_FUNCTION_INFO_V1(halfvec_l2_norm);
Datum
halfvec_l2_norm(PG_FUNCTION_ARGS)
{
	HalfVector *v = PG_GETARG_HALFVEC_P(0);

	PG_RETURN_FLOAT8(halfvec_norm_internal(v));
}

PG_FUNCTION_INFO_V1(halfvec_l2_normalize);
Datum
halfvec_l2_normalize(PG_FUNCTION_ARGS)
{
	HalfVector *v = PG_GETARG_HALFVEC_P(0);
	HalfVector *result = InitHalfVector(v->dim);
	double		norm = halfvec_norm_internal(v);

	if (norm > 0)
	{
		for (int i = 0; i < v->dim; i++)
			result->x[i] = arith_to_half((float) ((double) h2f(v->x[i]) / norm));
	}
	PG_RETURN_HALFVEC_P(result);
}

PG_FUNCTION_INFO_V1(halfvec_binary_quantize);
Datum
halfvec_binary_quantize(PG_FUNCTION_ARGS)
{
	HalfVector *v = PG_GETARG_HALFVEC_P(0);
	int			len = VARBITTOTALLEN(v->dim);
	VarBit	   *result = palloc0(len);
	bits8	   *r;

	SET_VARSIZE(result, len);
	VARBITLEN(result) = v->dim;
	r = VARBITS(result);
	for (int i = 0; i < v->dim; i++)
	{
		if (h2f(v->x[i]) > 0)
			r[i / BITS_PER_BYTE] |= 0x80 >> (i % BITS_PER_BYTE);
	}
	PG_RETURN_VARBIT_P(result);
}

PG_FUNCTION_INFO_V1(halfvec_subvector);
Datum
halfvec_subvector(PG_FUNCTION_ARGS)
{
	HalfVector *v = PG_GETARG_HALFVEC_P(0);
	int			from,
				n;
	HalfVector *result;

	VecxSubvectorRange(v->dim, PG_GETARG_INT32(1), PG_GETARG_INT32(2),
					   TYPNAME, &from, &n);
	result = InitHalfVector(n);
	memcpy(result->x, v->x + from, sizeof(half) * n);
	PG_RETURN_HALFVEC_P(result);
}

/* ----------------------------------------------------------------
 * Arithmetic
 * ----------------------------------------------------------------
 */

PG_FUNCTION_INFO_V1(halfvec_add);
Datum
halfvec_add(PG_FUNCTION_ARGS)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	HalfVector *b = PG_GETARG_HALFVEC_P(1);
	HalfVector *result;

	VecxCheckSameDim(a->dim, b->dim, TYPNAME);
	result = InitHalfVector(a->dim);
	for (int i = 0; i < a->dim; i++)
		result->x[i] = arith_to_half(h2f(a->x[i]) + h2f(b->x[i]));
	PG_RETURN_HALFVEC_P(result);
}

PG_FUNCTION_INFO_V1(halfvec_sub);
Datum
halfvec_sub(PG_FUNCTION_ARGS)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	HalfVector *b = PG_GETARG_HALFVEC_P(1);
	HalfVector *result;

	VecxCheckSameDim(a->dim, b->dim, TYPNAME);
	result = InitHalfVector(a->dim);
	for (int i = 0; i < a->dim; i++)
		result->x[i] = arith_to_half(h2f(a->x[i]) - h2f(b->x[i]));
	PG_RETURN_HALFVEC_P(result);
}

PG_FUNCTION_INFO_V1(halfvec_mul);
Datum
halfvec_mul(PG_FUNCTION_ARGS)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	HalfVector *b = PG_GETARG_HALFVEC_P(1);
	HalfVector *result;

	VecxCheckSameDim(a->dim, b->dim, TYPNAME);
	result = InitHalfVector(a->dim);
	for (int i = 0; i < a->dim; i++)
	{
		float		fa = h2f(a->x[i]);
		float		fb = h2f(b->x[i]);
		half		h = arith_to_half(fa * fb);

		/* a nonzero product that rounds to (signed) zero underflowed */
		if ((h & 0x7fff) == 0 && fa != 0 && fb != 0)
			float_underflow_error();
		result->x[i] = h;
	}
	PG_RETURN_HALFVEC_P(result);
}

PG_FUNCTION_INFO_V1(halfvec_concat);
Datum
halfvec_concat(PG_FUNCTION_ARGS)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	HalfVector *b = PG_GETARG_HALFVEC_P(1);
	HalfVector *result;

	result = InitHalfVector(a->dim + b->dim);
	memcpy(result->x, a->x, sizeof(half) * a->dim);
	memcpy(result->x + a->dim, b->x, sizeof(half) * b->dim);
	PG_RETURN_HALFVEC_P(result);
}

/* ----------------------------------------------------------------
 * Comparison (btree): element by element as numbers, then shorter first
 * ----------------------------------------------------------------
 */

static int
halfvec_cmp_internal(const HalfVector *a, const HalfVector *b)
{
	int			dim = Min(a->dim, b->dim);

	for (int i = 0; i < dim; i++)
	{
		float		fa = h2f(a->x[i]);
		float		fb = h2f(b->x[i]);

		if (fa < fb)
			return -1;
		if (fa > fb)
			return 1;
	}
	if (a->dim < b->dim)
		return -1;
	if (a->dim > b->dim)
		return 1;
	return 0;
}

#define HALFVEC_CMP_FUNC(name, expr) \
PG_FUNCTION_INFO_V1(name); \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	HalfVector *a = PG_GETARG_HALFVEC_P(0); \
	HalfVector *b = PG_GETARG_HALFVEC_P(1); \
	int			c = halfvec_cmp_internal(a, b); \
 \
	PG_FREE_IF_COPY(a, 0); \
	PG_FREE_IF_COPY(b, 1); \
	expr; \
}

HALFVEC_CMP_FUNC(halfvec_lt, PG_RETURN_BOOL(c < 0))
HALFVEC_CMP_FUNC(halfvec_le, PG_RETURN_BOOL(c <= 0))
HALFVEC_CMP_FUNC(halfvec_eq, PG_RETURN_BOOL(c == 0))
HALFVEC_CMP_FUNC(halfvec_ne, PG_RETURN_BOOL(c != 0))
HALFVEC_CMP_FUNC(halfvec_ge, PG_RETURN_BOOL(c >= 0))
HALFVEC_CMP_FUNC(halfvec_gt, PG_RETURN_BOOL(c > 0))
HALFVEC_CMP_FUNC(halfvec_cmp, PG_RETURN_INT32(c))

/* ----------------------------------------------------------------
 * Aggregates
 * ----------------------------------------------------------------
 */

PG_FUNCTION_INFO_V1(halfvec_accum);
Datum
halfvec_accum(PG_FUNCTION_ARGS)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	HalfVector *v = PG_GETARG_HALFVEC_P(1);
	ArrayType  *result;
	float8	   *sums;

	sums = VecxAccumBegin(fcinfo, state, v->dim, TYPNAME, &result);
	for (int i = 0; i < v->dim; i++)
		sums[i] += (double) h2f(v->x[i]);
	PG_RETURN_ARRAYTYPE_P(result);
}

PG_FUNCTION_INFO_V1(halfvec_combine);
Datum
halfvec_combine(PG_FUNCTION_ARGS)
{
	PG_RETURN_ARRAYTYPE_P(VecxCombineStates(fcinfo,
											PG_GETARG_ARRAYTYPE_P(0),
											PG_GETARG_ARRAYTYPE_P(1),
											TYPNAME));
}

PG_FUNCTION_INFO_V1(halfvec_avg);
Datum
halfvec_avg(PG_FUNCTION_ARGS)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	int			nelems;
	float8	   *v = VecxStateValues(state, &nelems);
	HalfVector *result;

	if (v[0] == 0)
		PG_RETURN_NULL();

	result = InitHalfVector(nelems - 1);
	for (int i = 0; i < nelems - 1; i++)
	{
		float		f = (float) (v[i + 1] / v[0]);

		VecxCheckElement(f, TYPNAME);
		result->x[i] = arith_to_half(f);
	}
	PG_RETURN_HALFVEC_P(result);
}

PG_FUNCTION_INFO_V1(halfvec_sum);
Datum
halfvec_sum(PG_FUNCTION_ARGS)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	int			nelems;
	float8	   *v = VecxStateValues(state, &nelems);
	HalfVector *result;

	if (v[0] == 0)
		PG_RETURN_NULL();

	result = InitHalfVector(nelems - 1);
	for (int i = 0; i < nelems - 1; i++)
	{
		float		f = (float) v[i + 1];

		/* a sum beyond float range is out of halfvec range too */
		if (isnan(f))
			VecxCheckElement(f, TYPNAME);
		result->x[i] = arith_to_half(f);
	}
	PG_RETURN_HALFVEC_P(result);
}
