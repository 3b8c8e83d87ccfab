/*-------------------------------------------------------------------------
 *
 * sparsevec.c
 *	  The sparsevec type: I/O, distances, norms, comparison and casts.
 *
 * Text form "{1:1.5,3:2}/6": index:value pairs with 1-based indices, then
 * the number of dimensions.  Pairs may come in any order and zeros may be
 * written; both are normalised away (sorted, zeros dropped) so that equal
 * vectors have one representation.  Binary form: int32 dim, int32 nnz,
 * int32 unused, nnz 0-based int32 indices, nnz float4 values.
 *
 * Distances walk the two sorted index lists together (a merge), touching
 * only the stored elements, so their cost is nnz(a) + nnz(b) whatever the
 * number of dimensions.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <errno.h>
#include <limits.h>
#include <math.h>

#include "common/shortest_dec.h"
#include "libpq/pqformat.h"
#include "parser/scansup.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"

#include "simd/simd.h"
#include "types/sparsevec.h"
#include "types/vectypes.h"

#define TYPNAME "sparsevec"

/* One index:value pair of the text form, index already 0-based */
typedef struct SparsePair
{
	int32		index;
	float		value;
} SparsePair;

/*
 * SparseCheckDim
 *		Raise an error unless 1 <= dim <= VECX_SPARSE_MAX_DIM.
 */
static void
SparseCheckDim(int64 dim)
{
	if (dim < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("sparsevec must have at least 1 dimension")));
	if (dim > VECX_SPARSE_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("sparsevec cannot have more than %d dimensions",
						VECX_SPARSE_MAX_DIM)));
}

static void
SparseCheckNnz(int64 nnz, int dim)
{
	if (nnz > VECX_SPARSE_MAX_NNZ)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("sparsevec cannot have more than %d non-zero elements",
						VECX_SPARSE_MAX_NNZ)));
	if (nnz < 0 || nnz > dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("sparsevec cannot have %lld non-zero elements in %d dimensions",
						(long long) nnz, dim)));
}

SparseVector *
InitSparseVector(int dim, int nnz)
{
	SparseVector *v;
	Size		size;

	SparseCheckDim(dim);
	SparseCheckNnz(nnz, dim);
	size = SPARSEVEC_SIZE(nnz);
	v = (SparseVector *) palloc0(size);
	SET_VARSIZE(v, size);
	v->dim = dim;
	v->nnz = nnz;
	return v;
}

/*
 * SparseFromDense
 *		Build a sparsevec from dim dense floats, dropping zeros.
 */
static SparseVector *
SparseFromDense(const float *x, int dim)
{
	int			nnz = 0;
	SparseVector *v;
	float	   *values;

	for (int i = 0; i < dim; i++)
		nnz += (x[i] != 0.0f);
	v = InitSparseVector(dim, nnz);
	values = SPARSEVEC_VALUES(v);
	nnz = 0;
	for (int i = 0; i < dim; i++)
	{
		if (x[i] != 0.0f)
		{
			v->indices[nnz] = i;
			values[nnz++] = x[i];
		}
	}
	return v;
}

/* ----------------------------------------------------------------
 * Text input
 * ----------------------------------------------------------------
 */

static void sparse_syntax_error(const char *str) pg_attribute_noreturn();

static void
sparse_syntax_error(const char *str)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type %s: \"%s\"", TYPNAME, str)));
}

static inline const char *
sparse_skip_space(const char *p)
{
	while (scanner_isspace(*p))
		p++;
	return p;
}

/*
 * Read a decimal integer at p (an index or the dimension count).  Values
 * beyond int64 are clamped; the caller's range checks then reject them.
 */
static int64
sparse_parse_int(const char *p, const char *str, const char **end)
{
	char	   *e;
	long long	v;

	errno = 0;
	v = strtoll(p, &e, 10);
	if (e == p)
		sparse_syntax_error(str);
	if (errno == ERANGE)
		v = (v < 0) ? LLONG_MIN : LLONG_MAX;
	*end = e;
	return (int64) v;
}

/* Read one element value at p, rejecting overflow, NaN and infinity */
static float
sparse_parse_value(const char *p, const char *str, const char **end)
{
	char	   *e;
	float		v;

	errno = 0;
	v = strtof(p, &e);
	if (e == p)
		sparse_syntax_error(str);
	if (errno == ERANGE && isinf(v))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("\"%s\" is out of range for type %s",
						pnstrdup(p, e - p), TYPNAME)));
	VecxCheckElement(v, TYPNAME);
	*end = e;
	return v;
}

/*
 * Parse the pairs between the braces into pairs[] (room for every ':' in
 * the string); indices stay 1-based here, as written.  Returns the number
 * of pairs and leaves *pos after the closing brace.
 */
static int
sparse_parse_pairs(const char *str, const char **pos, int64 *idx,
				   float *val)
{
	const char *p = sparse_skip_space(*pos);
	int			n = 0;

	if (*p != '{')
		sparse_syntax_error(str);
	p = sparse_skip_space(p + 1);
	if (*p == '}')
	{
		*pos = p + 1;
		return 0;
	}
	for (;;)
	{
		idx[n] = sparse_parse_int(p, str, &p);
		p = sparse_skip_space(p);
		if (*p != ':')
			sparse_syntax_error(str);
		p = sparse_skip_space(p + 1);
		val[n++] = sparse_parse_value(p, str, &p);
		p = sparse_skip_space(p);
		if (*p == '}')
			break;
		if (*p != ',')
			sparse_syntax_error(str);
		p = sparse_skip_space(p + 1);
	}
	*pos = p + 1;
	return n;
}

static int
sparse_pair_cmp(const void *a, const void *b)
{
	int32		x = ((const SparsePair *) a)->index;
	int32		y = ((const SparsePair *) b)->index;

	return (x > y) - (x < y);
}

/*
 * Check the 1-based indices against dim, sort the pairs, reject
 * duplicates and drop zeros.  Returns the sparsevec.
 */
static SparseVector *
sparse_from_pairs(const int64 *idx, const float *val, int n, int dim)
{
	SparsePair *pairs = palloc_extended(mul_size(sizeof(SparsePair), Max(n, 1)),
										MCXT_ALLOC_HUGE);
	SparseVector *v;
	float	   *values;
	int			nnz = 0;

	for (int i = 0; i < n; i++)
	{
		if (idx[i] < 1 || idx[i] > dim)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("sparsevec index %lld out of range for %d dimensions",
							(long long) idx[i], dim),
					 errdetail("Indices start at 1.")));
		pairs[i].index = (int32) (idx[i] - 1);
		pairs[i].value = val[i];
	}
	qsort(pairs, n, sizeof(SparsePair), sparse_pair_cmp);
	for (int i = 0; i < n; i++)
	{
		if (i > 0 && pairs[i].index == pairs[i - 1].index)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("sparsevec indices must not contain duplicates"),
					 errdetail("Index %d appears more than once.",
							   pairs[i].index + 1)));
		nnz += (pairs[i].value != 0.0f);
	}

	v = InitSparseVector(dim, nnz);
	values = SPARSEVEC_VALUES(v);
	nnz = 0;
	for (int i = 0; i < n; i++)
	{
		if (pairs[i].value != 0.0f)
		{
			v->indices[nnz] = pairs[i].index;
			values[nnz++] = pairs[i].value;
		}
	}
	pfree(pairs);
	return v;
}

PG_FUNCTION_INFO_V1(sparsevec_in);
Datum
sparsevec_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	int32		typmod = PG_GETARG_INT32(2);
	const char *p = str;
	int64		ncolon = 0;
	int64	   *idx;
	float	   *val;
	int			n;
	int64		dim;
	SparseVector *v;

	/* every pair has a colon, which bounds the number of pairs */
	for (const char *c = str; *c != '\0'; c++)
		ncolon += (*c == ':');
	idx = palloc_extended(mul_size(sizeof(int64), ncolon + 1), MCXT_ALLOC_HUGE);
	val = palloc_extended(mul_size(sizeof(float), ncolon + 1), MCXT_ALLOC_HUGE);

	n = sparse_parse_pairs(str, &p, idx, val);
	p = sparse_skip_space(p);
	if (*p != '/')
		sparse_syntax_error(str);
	p = sparse_skip_space(p + 1);
	dim = sparse_parse_int(p, str, &p);
	p = sparse_skip_space(p);
	if (*p != '\0')
		sparse_syntax_error(str);

	SparseCheckDim(dim);
	VecxCheckExpectedDim(typmod, (int) dim);
	v = sparse_from_pairs(idx, val, n, (int) dim);
	pfree(idx);
	pfree(val);
	PG_RETURN_SPARSEVEC_P(v);
}

/* ----------------------------------------------------------------
 * Text output, typmod, binary I/O
 * ----------------------------------------------------------------
 */

PG_FUNCTION_INFO_V1(sparsevec_out);
Datum
sparsevec_out(PG_FUNCTION_ARGS)
{
	SparseVector *v = PG_GETARG_SPARSEVEC_P(0);
	float	   *values = SPARSEVEC_VALUES(v);
	StringInfoData buf;

	initStringInfo(&buf);
	/* index (10 digits), ':' and the value with its separator */
	enlargeStringInfo(&buf, v->nnz * (11 + VECX_ELEM_TEXT_LEN) + 16);
	appendStringInfoChar(&buf, '{');
	for (int i = 0; i < v->nnz; i++)
	{
		if (i > 0)
			appendStringInfoChar(&buf, ',');
		appendStringInfo(&buf, "%d:", v->indices[i] + 1);
		VecxAppendFloat(&buf, values[i]);
	}
	appendStringInfo(&buf, "}/%d", v->dim);
	PG_FREE_IF_COPY(v, 0);
	PG_RETURN_CSTRING(buf.data);
}

PG_FUNCTION_INFO_V1(sparsevec_typmod_in);
Datum
sparsevec_typmod_in(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(VecxTypmodIn(PG_GETARG_ARRAYTYPE_P(0), TYPNAME, VECX_SPARSE_MAX_DIM));
}

/*
 * Read and check the binary header; returns nnz after making sure exactly
 * nnz indices and nnz values follow.
 */
static int
sparse_recv_header(StringInfo buf, int32 typmod, int *dim)
{
	int32		d = (int32) pq_getmsgint(buf, sizeof(int32));
	int32		nnz = (int32) pq_getmsgint(buf, sizeof(int32));
	int32		unused = (int32) pq_getmsgint(buf, sizeof(int32));
	int64		remaining = buf->len - buf->cursor;

	SparseCheckDim(d);
	VecxCheckExpectedDim(typmod, d);
	SparseCheckNnz(nnz, d);
	if (unused != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected unused to be 0, not %d", unused)));
	if ((int64) nnz * 8 != remaining)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary data for type %s", TYPNAME),
				 errdetail("Expected %lld bytes for %d non-zero elements, got %lld.",
						   (long long) nnz * 8, nnz, (long long) remaining)));
	*dim = d;
	return nnz;
}

PG_FUNCTION_INFO_V1(sparsevec_recv);
Datum
sparsevec_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int32		typmod = PG_GETARG_INT32(2);
	int			dim;
	int			nnz = sparse_recv_header(buf, typmod, &dim);
	SparseVector *v = InitSparseVector(dim, nnz);
	float	   *values;
	int			kept = 0;

	for (int i = 0; i < nnz; i++)
	{
		int32		index = (int32) pq_getmsgint(buf, sizeof(int32));

		if (index < 0 || index >= dim)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("sparsevec index %d out of range for %d dimensions",
							index, dim),
					 errdetail("Indices in the binary form start at 0.")));
		if (i > 0 && index <= v->indices[i - 1])
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("sparsevec indices must be in ascending order and unique")));
		v->indices[i] = index;
	}

	/* explicit zeros are dropped, as in the text form */
	values = (float *) (v->indices + nnz);
	for (int i = 0; i < nnz; i++)
	{
		float		x = pq_getmsgfloat4(buf);

		VecxCheckElement(x, TYPNAME);
		if (x == 0.0f)
			continue;
		v->indices[kept] = v->indices[i];
		values[kept++] = x;
	}
	if (kept < nnz)
	{
		SparseVector *c = InitSparseVector(dim, kept);

		memcpy(c->indices, v->indices, sizeof(int32) * kept);
		memcpy(SPARSEVEC_VALUES(c), values, sizeof(float) * kept);
		pfree(v);
		v = c;
	}
	PG_RETURN_SPARSEVEC_P(v);
}

PG_FUNCTION_INFO_V1(sparsevec_send);
Datum
sparsevec_send(PG_FUNCTION_ARGS)
{
	SparseVector *v = PG_GETARG_SPARSEVEC_P(0);
	float	   *values = SPARSEVEC_VALUES(v);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint32(&buf, v->dim);
	pq_sendint32(&buf, v->nnz);
	pq_sendint32(&buf, 0);
	for (int i = 0; i < v->nnz; i++)
		pq_sendint32(&buf, v->indices[i]);
	for (int i = 0; i < v->nnz; i++)
		pq_sendfloat4(&buf, values[i]);
	PG_FREE_IF_COPY(v, 0);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* typmod coercion: sparsevec(sparsevec, typmod, explicit) */
PG_FUNCTION_INFO_V1(sparsevec);
Datum
sparsevec(PG_FUNCTION_ARGS)
{
	SparseVector *v = PG_GETARG_SPARSEVEC_P(0);

	VecxCheckExpectedDim(PG_GETARG_INT32(1), v->dim);
	PG_RETURN_SPARSEVEC_P(v);
}

/* ----------------------------------------------------------------
 * Distances: merges of the two index lists
 * ----------------------------------------------------------------
 */

/*
 * VecxSparseMerge
 *		Sums over the union of the stored elements, in float32 like the
 *		dense kernels (see sparsevec.h).  Not inlined anywhere: the
 *		operators and the index must run the same code.
 */
void
VecxSparseMerge(const int32 *ai, const float *ax, int an,
				const int32 *bi, const float *bx, int bn, VecxSparseSums *s)
{
	int			i = 0,
				j = 0;

	memset(s, 0, sizeof(VecxSparseSums));
	while (i < an || j < bn)
	{
		float		x = 0.0f,
					y = 0.0f;

		if (j >= bn || (i < an && ai[i] < bi[j]))
			x = ax[i++];
		else if (i >= an || bi[j] < ai[i])
			y = bx[j++];
		else
		{
			x = ax[i++];
			y = bx[j++];
			s->dot += x * y;
		}
		s->l2sq += (x - y) * (x - y);
		s->l1 += fabsf(x - y);
		s->aa += x * x;
		s->bb += y * y;
	}
}

/* VecxSparseDot: only the common indices contribute */
float
VecxSparseDot(const int32 *ai, const float *ax, int an,
			  const int32 *bi, const float *bx, int bn)
{
	int			i = 0,
				j = 0;
	float		dot = 0.0f;

	while (i < an && j < bn)
	{
		int32		ia = ai[i],
					ib = bi[j];

		if (ia == ib)
			dot += ax[i++] * bx[j++];
		else if (ia < ib)
			i++;
		else
			j++;
	}
	return dot;
}

/*
 * VecxSparseNormSq
 *		The squared norm summed in element order, as the merge sums aa
 *		(its zero terms for the other list's elements add nothing).
 */
float
VecxSparseNormSq(const float *x, int n)
{
	float		s = 0.0f;

	for (int i = 0; i < n; i++)
		s += x[i] * x[i];
	return s;
}

/* cosine similarity, clamped to [-1, 1]; NaN for a zero norm */
double
VecxSparseCosineSim(float dot, float aa, float bb)
{
	float8		sim = (float8) dot / sqrt((float8) aa * (float8) bb);

	if (sim > 1.0)
		sim = 1.0;
	else if (sim < -1.0)
		sim = -1.0;
	return sim;
}

static void
sparse_merge_sums(const SparseVector *a, const SparseVector *b,
				  VecxSparseSums *s)
{
	VecxCheckSameDim(a->dim, b->dim, TYPNAME);
	VecxSparseMerge(a->indices, SPARSEVEC_VALUES(a), a->nnz,
					b->indices, SPARSEVEC_VALUES(b), b->nnz, s);
}

static float
sparse_dot(const SparseVector *a, const SparseVector *b)
{
	VecxCheckSameDim(a->dim, b->dim, TYPNAME);
	return VecxSparseDot(a->indices, SPARSEVEC_VALUES(a), a->nnz,
						 b->indices, SPARSEVEC_VALUES(b), b->nnz);
}

#define SPARSE_DIST_FUNC(name, expr) \
PG_FUNCTION_INFO_V1(name); \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	SparseVector *a = PG_GETARG_SPARSEVEC_P(0); \
	SparseVector *b = PG_GETARG_SPARSEVEC_P(1); \
	VecxSparseSums s; \
	float8		r; \
 \
	sparse_merge_sums(a, b, &s); \
	r = (expr); \
	PG_FREE_IF_COPY(a, 0); \
	PG_FREE_IF_COPY(b, 1); \
	PG_RETURN_FLOAT8(r); \
}

SPARSE_DIST_FUNC(sparsevec_l2_distance, sqrt((float8) s.l2sq))
SPARSE_DIST_FUNC(sparsevec_l2_squared_distance, (float8) s.l2sq)
SPARSE_DIST_FUNC(sparsevec_l1_distance, (float8) s.l1)

/* cosine from the dot product and the two norms, as the index computes it */
PG_FUNCTION_INFO_V1(sparsevec_cosine_distance);
Datum
sparsevec_cosine_distance(PG_FUNCTION_ARGS)
{
	SparseVector *a = PG_GETARG_SPARSEVEC_P(0);
	SparseVector *b = PG_GETARG_SPARSEVEC_P(1);
	float		dot = sparse_dot(a, b);
	float8		r;

	r = 1.0 - VecxSparseCosineSim(dot, VecxSparseNormSq(SPARSEVEC_VALUES(a), a->nnz),
								  VecxSparseNormSq(SPARSEVEC_VALUES(b), b->nnz));
	PG_FREE_IF_COPY(a, 0);
	PG_FREE_IF_COPY(b, 1);
	PG_RETURN_FLOAT8(r);
}

PG_FUNCTION_INFO_V1(sparsevec_inner_product);
Datum
sparsevec_inner_product(PG_FUNCTION_ARGS)
{
	SparseVector *a = PG_GETARG_SPARSEVEC_P(0);
	SparseVector *b = PG_GETARG_SPARSEVEC_P(1);

	PG_RETURN_FLOAT8((float8) sparse_dot(a, b));
}

PG_FUNCTION_INFO_V1(sparsevec_negative_inner_product);
Datum
sparsevec_negative_inner_product(PG_FUNCTION_ARGS)
{
	SparseVector *a = PG_GETARG_SPARSEVEC_P(0);
	SparseVector *b = PG_GETARG_SPARSEVEC_P(1);

	PG_RETURN_FLOAT8(-(float8) sparse_dot(a, b));
}

/* ----------------------------------------------------------------
 * Norms
 * ----------------------------------------------------------------
 */

static float8
sparse_norm(const SparseVector *v)
{
	const float *x = SPARSEVEC_VALUES(v);
	float8		s = 0.0;

	for (int i = 0; i < v->nnz; i++)
		s += (float8) x[i] * (float8) x[i];
	return sqrt(s);
}

PG_FUNCTION_INFO_V1(sparsevec_l2_norm);
Datum
sparsevec_l2_norm(PG_FUNCTION_ARGS)
{
	SparseVector *v = PG_GETARG_SPARSEVEC_P(0);

	PG_RETURN_FLOAT8(sparse_norm(v));
}

/*
 * Unit vector in the same direction; a zero vector stays zero.  Elements
 * that underflow to zero after the division are dropped.
 */
PG_FUNCTION_INFO_V1(sparsevec_l2_normalize);
Datum
sparsevec_l2_normalize(PG_FUNCTION_ARGS)
{
	SparseVector *v = PG_GETARG_SPARSEVEC_P(0);
	float8		norm = sparse_norm(v);
	const float *x = SPARSEVEC_VALUES(v);
	SparseVector *r;
	float	   *rx;
	int			nnz = 0;

	if (norm == 0.0)
		PG_RETURN_SPARSEVEC_P(v);
	for (int i = 0; i < v->nnz; i++)
		nnz += ((float) (x[i] / norm) != 0.0f);
	r = InitSparseVector(v->dim, nnz);
	rx = SPARSEVEC_VALUES(r);
	nnz = 0;
	for (int i = 0; i < v->nnz; i++)
	{
		float		y = (float) (x[i] / norm);

		if (y != 0.0f)
		{
			r->indices[nnz] = v->indices[i];
			rx[nnz++] = y;
		}
	}
	PG_RETURN_SPARSEVEC_P(r);
}

/* ----------------------------------------------------------------
 * Comparison: as the dense vectors would compare (element by element
 * over the common dimensions, missing elements being zero), then by the
 * number of dimensions, like vector and arrays.
 * ----------------------------------------------------------------
 */

static int
sparse_cmp_internal(const SparseVector *a, const SparseVector *b)
{
	const float *ax = SPARSEVEC_VALUES(a);
	const float *bx = SPARSEVEC_VALUES(b);
	int32		dim = Min(a->dim, b->dim);
	int			i = 0,
				j = 0;

	/* the first index where the two differ decides; stored values are not 0 */
	while (i < a->nnz || j < b->nnz)
	{
		int32		ia = i < a->nnz ? a->indices[i] : INT_MAX;
		int32		ib = j < b->nnz ? b->indices[j] : INT_MAX;
		float		x = 0.0f,
					y = 0.0f;

		if (Min(ia, ib) >= dim)
			break;
		if (ia <= ib)
			x = ax[i++];
		if (ib <= ia)
			y = bx[j++];
		if (x < y)
			return -1;
		if (x > y)
			return 1;
	}
	if (a->dim != b->dim)
		return a->dim < b->dim ? -1 : 1;
	return 0;
}

#define SPARSE_CMP_FUNC(name, expr) \
PG_FUNCTION_INFO_V1(name); \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	SparseVector *a = PG_GETARG_SPARSEVEC_P(0); \
	SparseVector *b = PG_GETARG_SPARSEVEC_P(1); \
	int			c = sparse_cmp_internal(a, b); \
 \
	PG_FREE_IF_COPY(a, 0); \
	PG_FREE_IF_COPY(b, 1); \
	expr; \
}

SPARSE_CMP_FUNC(sparsevec_lt, PG_RETURN_BOOL(c < 0))
SPARSE_CMP_FUNC(sparsevec_le, PG_RETURN_BOOL(c <= 0))
SPARSE_CMP_FUNC(sparsevec_eq, PG_RETURN_BOOL(c == 0))
SPARSE_CMP_FUNC(sparsevec_ne, PG_RETURN_BOOL(c != 0))
SPARSE_CMP_FUNC(sparsevec_ge, PG_RETURN_BOOL(c >= 0))
SPARSE_CMP_FUNC(sparsevec_gt, PG_RETURN_BOOL(c > 0))
SPARSE_CMP_FUNC(sparsevec_cmp, PG_RETURN_INT32(c))

/* ----------------------------------------------------------------
 * Casts
 * ----------------------------------------------------------------
 */

PG_FUNCTION_INFO_V1(vector_to_sparsevec);
Datum
vector_to_sparsevec(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);

	VecxCheckExpectedDim(PG_GETARG_INT32(1), v->dim);
	PG_RETURN_SPARSEVEC_P(SparseFromDense(v->x, v->dim));
}

PG_FUNCTION_INFO_V1(halfvec_to_sparsevec);
Datum
halfvec_to_sparsevec(PG_FUNCTION_ARGS)
{
	HalfVector *v = PG_GETARG_HALFVEC_P(0);
	float	   *x = palloc(sizeof(float) * v->dim);
	SparseVector *r;

	VecxCheckExpectedDim(PG_GETARG_INT32(1), v->dim);
	vecx_kernels->f16_to_f32(v->x, x, v->dim);
	r = SparseFromDense(x, v->dim);
	pfree(x);
	PG_RETURN_SPARSEVEC_P(r);
}

PG_FUNCTION_INFO_V1(array_to_sparsevec);
Datum
array_to_sparsevec(PG_FUNCTION_ARGS)
{
	ArrayType  *array = PG_GETARG_ARRAYTYPE_P(0);
	int			dim;
	float	   *x = VecxArrayToFloatsMax(array, TYPNAME, VECX_SPARSE_MAX_DIM,
										 &dim);
	SparseVector *r;

	VecxCheckExpectedDim(PG_GETARG_INT32(1), dim);
	r = SparseFromDense(x, dim);
	pfree(x);
	PG_RETURN_SPARSEVEC_P(r);
}

/* The dense elements of v (dim <= VECX_MAX_DIM, checked by the caller) */
static float *
sparse_to_dense(const SparseVector *v)
{
	const float *x = SPARSEVEC_VALUES(v);
	float	   *d = palloc0(sizeof(float) * v->dim);

	for (int i = 0; i < v->nnz; i++)
		d[v->indices[i]] = x[i];
	return d;
}

PG_FUNCTION_INFO_V1(sparsevec_to_vector);
Datum
sparsevec_to_vector(PG_FUNCTION_ARGS)
{
	SparseVector *v = PG_GETARG_SPARSEVEC_P(0);
	const float *x = SPARSEVEC_VALUES(v);
	Vector	   *r;

	VecxCheckExpectedDim(PG_GETARG_INT32(1), v->dim);
	r = InitVector(v->dim);
	for (int i = 0; i < v->nnz; i++)
		r->x[v->indices[i]] = x[i];
	PG_RETURN_VECTOR_P(r);
}

PG_FUNCTION_INFO_V1(sparsevec_to_halfvec);
Datum
sparsevec_to_halfvec(PG_FUNCTION_ARGS)
{
	SparseVector *v = PG_GETARG_SPARSEVEC_P(0);
	HalfVector *r;
	float	   *d;

	VecxCheckExpectedDim(PG_GETARG_INT32(1), v->dim);
	r = InitHalfVector(v->dim);
	d = sparse_to_dense(v);
	for (int i = 0; i < v->dim; i++)
	{
		half		h = vecx_float_to_half(d[i]);

		/* exponent all ones: the value is beyond the binary16 range */
		if ((h & 0x7c00) == 0x7c00)
		{
			char		buf[FLOAT_SHORTEST_DECIMAL_LEN];

			float_to_shortest_decimal_buf(d[i], buf);
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("\"%s\" is out of range for type halfvec", buf)));
		}
		r->x[i] = h;
	}
	pfree(d);
	PG_RETURN_HALFVEC_P(r);
}
