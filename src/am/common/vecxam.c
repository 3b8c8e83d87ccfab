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
	FmgrInfo   *proc = index_getprocinfo(index, 1, procnum);
	const VecxOpInfo *info;

	info = (const VecxOpInfo *) DatumGetPointer(FunctionCall1(proc, (Datum) 0));
	if (info == NULL || info->magic != VECX_OPINFO_MAGIC ||
		info->elemtype < VECX_ELEM_F32 || info->elemtype > VECX_ELEM_SPARSE ||
		info->elemtype == VECX_ELEM_SQ8 ||
		info->metric < VECX_METRIC_L2 || info->metric > VECX_METRIC_JACCARD ||
		(VECX_METRIC_BIT(info->metric) & metrics) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("operator class of index \"%s\" has an invalid %s info function",
						RelationGetRelationName(index), amname)));
	return info;
}
