/*-------------------------------------------------------------------------
 *
 * sparsevec.h
 *	  The sparsevec datum layout and limits.
 *
 * A sparsevec is a varlena: header (varlena length, dim, nnz, a reserved
 * int32 that must be zero), nnz int32 indices (0-based, strictly
 * ascending, each < dim), then nnz float values, none zero, NaN or
 * infinite.  Every input path establishes these invariants, so readers
 * (distances, casts, future index support) may rely on them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECX_SPARSEVEC_H
#define VECX_SPARSEVEC_H

#include "vecx.h"

/* Largest dimension and number of non-zero elements of a sparsevec */
#define VECX_SPARSE_MAX_DIM		1000000000
#define VECX_SPARSE_MAX_NNZ		16000

typedef struct SparseVector
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int32		dim;			/* number of dimensions */
	int32		nnz;			/* number of stored (non-zero) elements */
	int32		unused;			/* reserved, always 0 */
	int32		indices[FLEXIBLE_ARRAY_MEMBER];
	/* followed by float values[nnz] */
} SparseVector;

#define SPARSEVEC_SIZE(_nnz) \
	(offsetof(SparseVector, indices) + \
	 (sizeof(int32) + sizeof(float)) * (Size) (_nnz))
#define SPARSEVEC_VALUES(_v)	((float *) ((_v)->indices + (_v)->nnz))

#define DatumGetSparseVector(x)		((SparseVector *) PG_DETOAST_DATUM(x))
#define PG_GETARG_SPARSEVEC_P(x)	DatumGetSparseVector(PG_GETARG_DATUM(x))
#define PG_RETURN_SPARSEVEC_P(x)	PG_RETURN_POINTER(x)

/* A zeroed sparsevec with room for nnz elements; dim and nnz are checked */
extern SparseVector *InitSparseVector(int dim, int nnz);

/*
 * Distances by merging two sorted index lists (ai[an], ax[an] and bi[bn],
 * bx[bn]).  The SQL operators and the hnsw index both call these, so an
 * index ranks rows by exactly the values the operators return (the same
 * float32 sums in the same order).
 *
 * VecxSparseMerge: sums over the union of the stored elements (a missing
 * element is zero): dot over the common indices, squared and absolute
 * differences over all, both squared norms.  VecxSparseDot: the dot
 * product alone.  VecxSparseNormSq: the squared norm, equal to the merge's
 * aa for the same list.  VecxSparseCosineSim: the cosine similarity from a
 * dot and two squared norms, clamped to [-1, 1] (NaN for a zero norm).
 */
typedef struct VecxSparseSums
{
	float		dot;
	float		l2sq;
	float		l1;
	float		aa;
	float		bb;
} VecxSparseSums;

extern void VecxSparseMerge(const int32 *ai, const float *ax, int an,
							const int32 *bi, const float *bx, int bn,
							VecxSparseSums *s);
extern float VecxSparseDot(const int32 *ai, const float *ax, int an,
						   const int32 *bi, const float *bx, int bn);
extern float VecxSparseNormSq(const float *x, int n);
extern double VecxSparseCosineSim(float dot, float aa, float bb);

#endif							/* VECX_SPARSEVEC_H */
