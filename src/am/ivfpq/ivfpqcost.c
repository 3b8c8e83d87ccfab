/*-------------------------------------------------------------------------
 *
 * ivfpqcost.c
 *	  Cost estimate of an ivfpq index scan.
 *
 * A scan orders all lists by centroid distance, reads ivfpq.probes lists
 * and scores every entry in them before it returns the first row, so all
 * of that is startup cost; the re-check of returned rows against the heap
 * is charged by the executor's index scan costing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"
#include "utils/selfuncs.h"
#include "utils/spccache.h"

#include "ivfpq.h"

void
ivfpqcostestimate(PlannerInfo *root, IndexPath *path, double loop_count,
				  Cost *indexStartupCost, Cost *indexTotalCost,
				  Selectivity *indexSelectivity, double *indexCorrelation,
				  double *indexPages)
{
	GenericCosts costs;
	Relation	index;
	IvfpqMetaPageData meta;
	Buffer		buf;
	double		ratio;
	double		centroidCost;
	double		spc_seq_page_cost;
	double		spc_random_page_cost;

	/*
	 * Only ORDER BY distance scans can use the index (it holds no NULLs):
	 * price anything else above even a disabled sequential scan.
	 */
	if (path->indexorderbys == NIL)
	{
		*indexStartupCost = 1.0e100;
		*indexTotalCost = 1.0e100;
		*indexSelectivity = 0;
		*indexCorrelation = 0;
		*indexPages = 0;
		return;
	}

	index = index_open(path->indexinfo->indexoid, NoLock);
	buf = ReadBuffer(index, IVFPQ_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	IvfpqCheckPage(index, BufferGetPage(buf), IVFPQ_METAPAGE_BLKNO, IVFPQ_PAGE_META);
	meta = *IvfpqPageGetMeta(BufferGetPage(buf));
	UnlockReleaseBuffer(buf);
	index_close(index, NoLock);

	if (meta.lists < 1)
		meta.lists = 1;
	ratio = meta.trained ? Min((double) ivfpq_probes, (double) meta.lists) / meta.lists : 1.0;

	MemSet(&costs, 0, sizeof(costs));
	costs.numIndexTuples = Max(1.0, path->indexinfo->tuples * ratio);
	genericcostestimate(root, path, loop_count, &costs);

	get_tablespace_page_costs(path->indexinfo->reltablespace,
							  &spc_random_page_cost, &spc_seq_page_cost);

	/* List pages are read in chain order, mostly sequentially */
	costs.indexTotalCost -= costs.numIndexPages * (spc_random_page_cost - spc_seq_page_cost);

	/* Distances to every centroid and the lookup tables */
	centroidCost = (double) meta.lists * Max(meta.dims, 1) * cpu_operator_cost / 64;

	*indexStartupCost = costs.indexTotalCost + centroidCost;
	*indexTotalCost = costs.indexTotalCost + centroidCost;
	*indexSelectivity = costs.indexSelectivity;
	*indexCorrelation = 0;
	*indexPages = costs.numIndexPages;
}
