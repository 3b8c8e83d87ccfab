/*-------------------------------------------------------------------------
 *
 * typesutil.c
 *	  Checks, parsing, array conversion and aggregate state shared by the
 *	  vector and halfvec types.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <math.h>

#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/lsyscache.h"

#include "types/vecparse.h"
#include "types/vectypes.h"

/*
 * VecxCheckDimFor
 *		Raise an error unless 1 <= dim <= VECX_MAX_DIM.
 */
void
VecxCheckDimFor(int dim, const char *typname)
{
	if (dim < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s must have at least 1 dimension", typname)));
	if (dim > VECX_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s cannot have more than %d dimensions",
						typname, VECX_MAX_DIM)));
}

void
CheckVectorDim(int dim)
{
	VecxCheckDimFor(dim, "vector");
}

/*
 * VecxCheckExpectedDim
 *		Enforce a vector(n) / halfvec(n) type modifier (-1: none).
 */
void
VecxCheckExpectedDim(int32 typmod, int dim)
{
	if (typmod != -1 && typmod != dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", typmod, dim)));
}

void
VecxCheckSameDim(int a, int b, const char *typname)
{
	if (a != b)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different %s dimensions %d and %d", typname, a, b)));
}

/*
 * VecxCheckElement
 *		Reject NaN and infinities, which no input path may produce.
 */
void
VecxCheckElement(float v, const char *typname)
{
	if (isnan(v))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("NaN not allowed in %s", typname)));
	if (isinf(v))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("infinite value not allowed in %s", typname)));
}

/*
 * VecxTypmodIn
 *		Common typmod_in: exactly one integer in 1..maxdim (VECX_MAX_DIM for
 *		the dense types, VECX_SPARSE_MAX_DIM for sparsevec).
 */
int32
VecxTypmodIn(ArrayType *ta, const char *typname, int32 maxdim)
{
	int32	   *tl;
	int			n;

	tl = ArrayGetIntegerTypmods(ta, &n);

	if (n != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid type modifier")));
	if (*tl < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions for type %s must be at least 1", typname)));
	if (*tl > maxdim)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions for type %s cannot exceed %d",
						typname, maxdim)));
	return *tl;
}

/*
 * VecxParseText
 *		Parse the text form into a palloc'd float array; *dim gets the
 *		number of elements.  Reports every failure with its SQLSTATE.
 */
float *
VecxParseText(const char *str, const char *typname, int *dim)
{
	float	   *buf;
	const char *errpos;
	VecxParseStatus st;
	int			maxdim = 1;

	/*
	 * Every element after the first needs a comma, so the commas bound the
	 * element count: size the buffer by them rather than allocating room
	 * for 16000 elements per value (COPY of many short vectors).  Past the
	 * limit the parser itself reports too many dimensions.
	 */
	for (const char *p = str; *p != '\0' && maxdim <= VECX_MAX_DIM; p++)
	{
		if (*p == ',')
			maxdim++;
	}
	maxdim = Min(maxdim, VECX_MAX_DIM);
	buf = palloc(sizeof(float) * maxdim);

	st = vecx_parse_vector(str, buf, maxdim, dim, &errpos);
	switch (st)
	{
		case VECX_PARSE_OK:
			break;
		case VECX_PARSE_SYNTAX:
			{
				const char *prev = errpos;

				/* Point out the two common mistakes the way pgvector does */
				while (prev > str && isspace((unsigned char) prev[-1]))
					prev--;
				if (prev == str)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
							 errmsg("invalid input syntax for type %s: \"%s\"",
									typname, str),
							 errdetail("Vector contents must start with \"[\".")));
				if (prev[-1] == ']' && prev - 1 != errpos)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
							 errmsg("invalid input syntax for type %s: \"%s\"",
									typname, str),
							 errdetail("Junk after closing right brace.")));
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						 errmsg("invalid input syntax for type %s: \"%s\"",
								typname, str)));
			}
			break;
		case VECX_PARSE_EMPTY:
			VecxCheckDimFor(0, typname);
			break;
		case VECX_PARSE_TOO_MANY:
			/* only possible with maxdim == VECX_MAX_DIM, see above */
			VecxCheckDimFor(VECX_MAX_DIM + 1, typname);
			break;
		case VECX_PARSE_OUT_OF_RANGE:
			{
				char	   *end;

				(void) strtof(errpos, &end);
				ereport(ERROR,
						(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						 errmsg("\"%s\" is out of range for type %s",
								pnstrdup(errpos, end - errpos), typname)));
			}
			break;
		case VECX_PARSE_NOT_FINITE:
			{
				char	   *end;

				VecxCheckElement(strtof(errpos, &end), typname);
				/* strtof disagreed with itself: still refuse */
				ereport(ERROR,
						(errcode(ERRCODE_DATA_EXCEPTION),
						 errmsg("infinite value not allowed in %s", typname)));
			}
			break;
	}
	return buf;
}

/*
 * VecxArrayToFloats
 *		Convert a one-dimensional integer[], real[], double precision[] or
 *		numeric[] without NULLs into a palloc'd float array.
 */
float *
VecxArrayToFloats(ArrayType *array, const char *typname, int *dim)
{
	return VecxArrayToFloatsMax(array, typname, VECX_MAX_DIM, dim);
}

/*
 * VecxArrayToFloatsMax
 *		The same with another limit on the number of elements (sparsevec).
 */
float *
VecxArrayToFloatsMax(ArrayType *array, const char *typname, int maxdim,
					 int *dim)
{
	Oid			elemtype = ARR_ELEMTYPE(array);
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	float	   *x;

	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("array must be 1-D")));

	if (elemtype != INT4OID && elemtype != FLOAT4OID &&
		elemtype != FLOAT8OID && elemtype != NUMERICOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("unsupported array type")));

	if (array_contains_nulls(array))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("array must not contain nulls")));

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(array, elemtype, typlen, typbyval, typalign,
					  &elems, &nulls, &nelems);

	if (nelems < 1)
		VecxCheckDimFor(nelems, typname);
	if (nelems > maxdim)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s cannot have more than %d dimensions",
						typname, maxdim)));

	x = palloc(mul_size(sizeof(float), nelems));
	for (int i = 0; i < nelems; i++)
	{
		switch (elemtype)
		{
			case INT4OID:
				x[i] = (float) DatumGetInt32(elems[i]);
				break;
			case FLOAT4OID:
				x[i] = DatumGetFloat4(elems[i]);
				break;
			case FLOAT8OID:
				{
					float8		d = DatumGetFloat8(elems[i]);

					x[i] = (float) d;
					/* finite double beyond float range */
					if (isinf(x[i]) && !isinf(d))
						float_overflow_error();
				}
				break;
			case NUMERICOID:
				/* numeric_float4 reports values beyond float range */
				x[i] = DatumGetFloat4(DirectFunctionCall1(numeric_float4,
														  elems[i]));
				break;
		}
		VecxCheckElement(x[i], typname);
	}

	pfree(elems);
	pfree(nulls);
	*dim = nelems;
	return x;
}

/*
 * VecxFloatsToArray
 *		Build a real[] from dim floats.
 */
ArrayType *
VecxFloatsToArray(const float *x, int dim)
{
	Datum	   *d = palloc(sizeof(Datum) * dim);
	ArrayType  *result;

	for (int i = 0; i < dim; i++)
		d[i] = Float4GetDatum(x[i]);
	result = construct_array(d, dim, FLOAT4OID, sizeof(float4),
							 true, TYPALIGN_INT);
	pfree(d);
	return result;
}

/*
 * VecxAppendFloat
 *		Append the shortest text that reads back as exactly v.
 */
void
VecxAppendFloat(StringInfo buf, float v)
{
	enlargeStringInfo(buf, FLOAT_SHORTEST_DECIMAL_LEN);
	buf->len += float_to_shortest_decimal_bufn(v, buf->data + buf->len);
	buf->data[buf->len] = '\0';
}

/*
 * VecxRecvHeader
 *		Read and check the binary header (int16 dim, int16 unused) and make
 *		sure exactly dim elements of elemsize bytes follow.  Returns dim.
 */
int
VecxRecvHeader(StringInfo buf, int32 typmod, const char *typname,
			   int elemsize)
{
	int16		dim;
	int16		unused;
	int			remaining;

	dim = (int16) pq_getmsgint(buf, sizeof(int16));
	unused = (int16) pq_getmsgint(buf, sizeof(int16));

	VecxCheckDimFor(dim, typname);
	VecxCheckExpectedDim(typmod, dim);

	if (unused != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected unused to be 0, not %d", unused)));

	remaining = buf->len - buf->cursor;
	if ((int64) dim * elemsize != remaining)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary data for type %s", typname),
				 errdetail("Expected %d bytes for %d dimensions, got %d.",
						   dim * elemsize, dim, remaining)));
	return dim;
}

/*
 * VecxStateValues
 *		Validate an avg() transition state and return its values.
 *
 * The state is user-reachable (the transition functions are callable from
 * SQL), so a malformed array is an error, not an assertion.
 */
float8 *
VecxStateValues(ArrayType *state, int *nelems)
{
	float8	   *v;

	if (ARR_NDIM(state) != 1 || ARR_ELEMTYPE(state) != FLOAT8OID ||
		ARR_HASNULL(state) || ARR_DIMS(state)[0] < 1 ||
		ARR_DIMS(state)[0] > VECX_MAX_DIM + 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid aggregate state: expected a one-dimensional float8 array of at most %d elements without nulls",
						VECX_MAX_DIM + 1)));
	*nelems = ARR_DIMS(state)[0];
	v = (float8 *) ARR_DATA_PTR(state);
	if (!(v[0] >= 0) || isinf(v[0]))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid aggregate state: bad count")));
	return v;
}

/* A fresh zeroed float8[] of n elements */
static ArrayType *
new_state(int n)
{
	Size		size = add_size(ARR_OVERHEAD_NONULLS(1),
								mul_size(sizeof(float8), n));
	ArrayType  *a = palloc0(size);

	SET_VARSIZE(a, size);
	a->ndim = 1;
	a->dataoffset = 0;
	a->elemtype = FLOAT8OID;
	ARR_DIMS(a)[0] = n;
	ARR_LBOUND(a)[0] = 1;
	return a;
}

static ArrayType *
copy_state(ArrayType *s)
{
	ArrayType  *a = palloc(VARSIZE(s));

	memcpy(a, s, VARSIZE(s));
	return a;
}

/*
 * VecxAccumBegin
 *		Prepare the avg() state for one more value of dim elements: count
 *		the value and return the sums to add it to.  *result is the state
 *		to return.  Inside an aggregate the state is updated in place, as
 *		float8_accum does, to avoid copying it for every row.
 */
float8 *
VecxAccumBegin(FunctionCallInfo fcinfo, ArrayType *state, int dim,
			   const char *typname, ArrayType **result)
{
	int			nelems;
	float8	   *v = VecxStateValues(state, &nelems);
	ArrayType  *r;

	if (v[0] == 0 && nelems == 1)
		r = new_state(dim + 1);
	else
	{
		VecxCheckSameDim(nelems - 1, dim, typname);
		if (AggCheckCallContext(fcinfo, NULL))
			r = state;
		else
			r = copy_state(state);
	}
	v = (float8 *) ARR_DATA_PTR(r);
	v[0] += 1;
	*result = r;
	return v + 1;
}

/*
 * VecxCombineStates
 *		Combine two avg() states (parallel aggregation).
 */
ArrayType *
VecxCombineStates(FunctionCallInfo fcinfo, ArrayType *a, ArrayType *b,
				  const char *typname)
{
	int			na,
				nb;
	float8	   *va = VecxStateValues(a, &na);
	float8	   *vb = VecxStateValues(b, &nb);
	ArrayType  *r;
	float8	   *vr;

	if (vb[0] == 0)
		return a;
	if (va[0] == 0)
		return copy_state(b);

	VecxCheckSameDim(na - 1, nb - 1, typname);
	r = AggCheckCallContext(fcinfo, NULL) ? a : copy_state(a);
	vr = (float8 *) ARR_DATA_PTR(r);
	for (int i = 0; i < na; i++)
		vr[i] += vb[i];
	return r;
}
