/*-------------------------------------------------------------------------
 *
 * vecxam.h
 *	  Metric and element-type description shared by every vecx index AM.
 *
 * Every distance operator class of a vecx AM has an "info" support
 * function (declared RETURNS internal) that returns a pointer to a static
 * VecxOpInfo: the element type of the indexed column and the metric of the
 * operator.  The AMs compute distances with the kernels of src/simd from
 * that, without fmgr calls.  The support procedure's number is each AM's
 * own (hnsw keeps 1 for the distance function, as pgvector does).
 *
 * The values are recorded in metapages (hnsw directly, ivfpq packed into
 * its "kind"), so they never change.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECX_VECXAM_H
#define VECX_VECXAM_H

#include "fmgr.h"
#include "utils/relcache.h"

/* Element types */
#define VECX_ELEM_F32			1	/* vector */
#define VECX_ELEM_F16			2	/* halfvec */
#define VECX_ELEM_SQ8			3	/* stored form only: 8-bit codes (hnsw) */
#define VECX_ELEM_BIT			4	/* PostgreSQL's bit (hnsw, ivfflat) */
#define VECX_ELEM_SPARSE		5	/* sparsevec (hnsw) */

/* Metrics */
#define VECX_METRIC_L2			1
#define VECX_METRIC_IP			2
#define VECX_METRIC_COSINE		3
#define VECX_METRIC_L1			4
#define VECX_METRIC_HAMMING		5	/* bit only */
#define VECX_METRIC_JACCARD		6	/* bit only */

/* Sets of metrics an AM supports, for VecxGetOpInfo */
#define VECX_METRIC_BIT(mt)		((uint32) 1 << (mt))
#define VECX_METRICS_ALL \
	(VECX_METRIC_BIT(VECX_METRIC_L2) | VECX_METRIC_BIT(VECX_METRIC_IP) | \
	 VECX_METRIC_BIT(VECX_METRIC_COSINE) | VECX_METRIC_BIT(VECX_METRIC_L1))
#define VECX_METRICS_BITS \
	(VECX_METRIC_BIT(VECX_METRIC_HAMMING) | VECX_METRIC_BIT(VECX_METRIC_JACCARD))

/* Sets of element types an AM indexes, for VecxGetOpInfoTypes */
#define VECX_ELEM_BIT_OF(et)	((uint32) 1 << (et))
#define VECX_ELEMS_DENSE \
	(VECX_ELEM_BIT_OF(VECX_ELEM_F32) | VECX_ELEM_BIT_OF(VECX_ELEM_F16))

/* Guards against a support function that is not ours */
#define VECX_OPINFO_MAGIC		0x48A5F17Cu

/* What an operator class's info support function returns */
typedef struct VecxOpInfo
{
	uint32		magic;			/* VECX_OPINFO_MAGIC */
	uint8		elemtype;		/* VECX_ELEM_*, never VECX_ELEM_SQ8 */
	uint8		metric;			/* VECX_METRIC_* */
} VecxOpInfo;

/* Defines one info support function (SQL: fname(internal) RETURNS internal) */
#define VECX_OPINFO_FUNC(fname, et, mt) \
PG_FUNCTION_INFO_V1(fname); \
Datum \
fname(PG_FUNCTION_ARGS) \
{ \
	static const VecxOpInfo info = {VECX_OPINFO_MAGIC, et, mt}; \
	PG_RETURN_POINTER(&info); \
}

extern const VecxOpInfo *VecxGetOpInfo(Relation index, uint16 procnum,
									   uint32 metrics, const char *amname);
extern const VecxOpInfo *VecxGetOpInfoTypes(Relation index, uint16 procnum,
											uint32 elems, uint32 metrics,
											const char *amname);

#endif							/* VECX_VECXAM_H */
