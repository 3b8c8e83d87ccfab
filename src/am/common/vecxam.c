/*-------------------------------------------------------------------------
 *
 * vecxam.c
 *	  Reading an operator class's metric and element type (vecxam.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "utils/rel.h"

#include "vecxam.h"

/*
 * VecxGetOpInfo
 *		Call the info support function procnum of the index's vector column
 *		and check that what it returns is a VecxOpInfo describing an
 *		indexable element type (not the stored-only VECX_ELEM_SQ8) and one
 *		of the metrics the AM supports.  Which element types go with which
 *		metrics is the AM's to check.
 */
const VecxOpInfo *
VecxGetOpInfo(Relation index, uint16 procnum, uint32 metrics, const char *amname)
{
	return VecxGetOpInfoTypes(index, procnum, VECX_ELEMS_DENSE, metrics, amname);
}

/*
 * VecxGetOpInfoTypes
 *		The same for an AM that indexes the element types in elems: the
 *		metric must also suit the element type (Hamming and Jaccard for bit,
 *		the four float metrics for the others).
 */
const VecxOpInfo *
VecxGetOpInfoTypes(Relation index, uint16 procnum, uint32 elems, uint32 metrics,
				   const char *amname)
{
	FmgrInfo   *proc = index_getprocinfo(index, 1, procnum);
	const VecxOpInfo *info;

	info = (const VecxOpInfo *) DatumGetPointer(FunctionCall1(proc, (Datum) 0));
	if (info == NULL || info->magic != VECX_OPINFO_MAGIC ||
		info->elemtype == VECX_ELEM_SQ8 || info->elemtype > VECX_ELEM_SPARSE ||
		(VECX_ELEM_BIT_OF(info->elemtype) & elems) == 0 ||
		info->metric < VECX_METRIC_L2 || info->metric > VECX_METRIC_JACCARD ||
		(VECX_METRIC_BIT(info->metric) & metrics) == 0 ||
		((VECX_METRIC_BIT(info->metric) & VECX_METRICS_BITS) != 0) !=
		(info->elemtype == VECX_ELEM_BIT))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("operator class of index \"%s\" has an invalid %s info function",
						RelationGetRelationName(index), amname)));
	return info;
}
