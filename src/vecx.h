/*-------------------------------------------------------------------------
 *
 * vecx.h
 *	  Shared definitions of the vecx extension: the vector and halfvec
 *	  datum layouts, dimension limits and helpers used by every module.
 *
 * Both types are varlenas with a fixed 8-byte header (varlena length, dim,
 * a reserved int16 that must be zero) followed by the elements.  Keeping
 * the header 8 bytes long keeps the float array 4-byte aligned for the
 * SIMD kernels when the datum is detoasted into palloc'd memory.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECX_H
#define VECX_H

#include "postgres.h"

#include "fmgr.h"

/* Largest number of elements a vector or halfvec may hold. */
#define VECX_MAX_DIM 16000

/* IEEE 754 binary16, kept as its raw bit pattern. */
typedef uint16 half;

typedef struct Vector
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int16		dim;			/* number of elements */
	int16		unused;			/* reserved, always 0 */
	float		x[FLEXIBLE_ARRAY_MEMBER];
} Vector;

typedef struct HalfVector
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int16		dim;			/* number of elements */
	int16		unused;			/* reserved, always 0 */
	half		x[FLEXIBLE_ARRAY_MEMBER];
} HalfVector;

#define VECTOR_SIZE(_dim)		(offsetof(Vector, x) + sizeof(float) * (Size) (_dim))
#define HALFVEC_SIZE(_dim)		(offsetof(HalfVector, x) + sizeof(half) * (Size) (_dim))

#define DatumGetVector(x)		((Vector *) PG_DETOAST_DATUM(x))
#define PG_GETARG_VECTOR_P(x)	DatumGetVector(PG_GETARG_DATUM(x))
#define PG_RETURN_VECTOR_P(x)	PG_RETURN_POINTER(x)

#define DatumGetHalfVector(x)	((HalfVector *) PG_DETOAST_DATUM(x))
#define PG_GETARG_HALFVEC_P(x)	DatumGetHalfVector(PG_GETARG_DATUM(x))
#define PG_RETURN_HALFVEC_P(x)	PG_RETURN_POINTER(x)

/* Constructors (src/types/vector.c, src/types/halfvec.c); dim is checked. */
extern Vector *InitVector(int dim);
extern HalfVector *InitHalfVector(int dim);

/* Raise 22000/54000 unless 1 <= dim <= VECX_MAX_DIM. */
extern void CheckVectorDim(int dim);

/* Module initialisation hooks called from _PG_init (src/vecx.c). */
extern void VecxSimdInit(void);
extern void HnswInit(void);
extern void IvfpqInit(void);
extern void IvfflatInit(void);

/* vecx_index_recall's planner hook (src/vecx_recall.c) */
extern void VecxRecallInit(void);

#endif							/* VECX_H */
