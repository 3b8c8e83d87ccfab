/*-------------------------------------------------------------------------
 *
 * vectypes.h
 *	  Helpers shared by the vector and halfvec type implementations.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECX_VECTYPES_H
#define VECX_VECTYPES_H

#include "vecx.h"

#include "lib/stringinfo.h"
#include "utils/array.h"

/* Longest text of one element: shortest float text plus a separator. */
#define VECX_ELEM_TEXT_LEN 16

extern void VecxCheckDimFor(int dim, const char *typname);
extern void VecxCheckExpectedDim(int32 typmod, int dim);
extern void VecxCheckSameDim(int a, int b, const char *typname);
extern void VecxCheckElement(float v, const char *typname);
extern int32 VecxTypmodIn(ArrayType *ta, const char *typname, int32 maxdim);
extern float *VecxParseText(const char *str, const char *typname, int *dim);
extern float *VecxArrayToFloats(ArrayType *array, const char *typname,
								int *dim);
extern float *VecxArrayToFloatsMax(ArrayType *array, const char *typname,
								   int maxdim, int *dim);
extern ArrayType *VecxFloatsToArray(const float *x, int dim);
extern void VecxAppendFloat(StringInfo buf, float v);
extern int	VecxRecvHeader(StringInfo buf, int32 typmod, const char *typname,
						   int elemsize);
extern void VecxSubvectorRange(int dim, int32 start, int32 count,
							   const char *typname, int *from, int *n);

/* avg() support: float8[] state {count, sum_1, ..., sum_dim} */
extern float8 *VecxAccumBegin(FunctionCallInfo fcinfo, ArrayType *state,
							  int dim, const char *typname,
							  ArrayType **result);
extern ArrayType *VecxCombineStates(FunctionCallInfo fcinfo, ArrayType *a,
									ArrayType *b, const char *typname);
extern float8 *VecxStateValues(ArrayType *state, int *nelems);

#endif							/* VECX_VECTYPES_H */
