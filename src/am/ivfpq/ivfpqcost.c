/*-------------------------------------------------------------------------
 *
 * ivfpqcost.c
 *	  Cost estimate of an ivfpq index scan.
 *
 * A scan orders all lists by centroid distance and scores the entries of
 * the lists it probes.  To hand the executor k rows it must find k rows
 * passing every qual: with s the selectivity of all quals on the table and
 * L lists of N/L entries, a list holds about N s / L of them, so the scan
 * probes about
 *
 *	lists(k) = probes + k L / (N s)
 *
 * lists (the first ivfpq.probes always, then as many as hold k matches),
 * at most all lists (or ivfpq.max_probes; ivfpq.probes with
 * ivfpq.iterative_scan = off).  strict_order with ivfpq.exact_order reads
 * more: every list whose bound is below the k-th distance, before it
 * returns a row.  That count depends on the data; it is charged as
 * IVFPQ_EXACT_LISTS sqrt(L) lists more, measured on Fashion-MNIST (see
 * below), and as every list once the scan would pass ivfpq.max_probes
 * (the exact pass).  Each list costs its pages (read in chain
 * order, charged as sequential) and a lookup table; each entry a check of
 * the index's own quals (filter columns) and, if it passes them, its
 * score.  All of that comes before the first row: startup cost.  With a
 * constant LIMIT the planner thus sees that a very selective filter makes
 * the scan read most of the index, and prefers an exact plan (an index on
 * the filter, then a sort) when one exists.
 *
 * Rows passing the index quals are handed to the executor, which fetches
 * each from the heap and computes its exact distance; indexSelectivity is
 * therefore the selectivity of the index quals only (rows failing them
 * cost no heap access).  With a constant LIMIT the rows the executor
 * consumes before it has k (about 2 k s_idx / s; rows failing the other
 * quals, and re-checks of loose bounds) are startup cost too, each a heap
 * page and an exact distance: through a plain index a 1% filter means
 * about 200 rows per row returned, which an exact plan beats.  Without a
 * LIMIT the scan visits every list it may.
 *
 * ivfflat (FLAT lists) has the same shape with its own settings: an
 * entry's score is an exact distance over the whole vector, and the rows
 * need no re-check (the executor fetches only the rows it emits); its
 * list pages are charged at most the table's pages (see below).
 *
 * Recall.  Everything above prices the work the scan does, not whether it
 * finds the right rows: at ivfpq.probes = 1 a scan reads one list in a
 * hundred and is cheap, and returns about half of the true neighbours.
 * Beside an hnsw index that answers exactly at a somewhat higher cost the
 * planner took the cheap wrong answer.  So the estimate includes the work
 * needed to reach the answer: with r the expected recall of the scan at
 * the current settings, the scan is charged (1 - r) times the cost of an
 * exact answer (a sequential scan of the table, its quals, the ORDER BY
 * distance of every matching row and a sort bounded by the LIMIT, priced
 * as the planner prices that plan), as startup cost.  A miss is thus
 * worth the exact plan that would have avoided it: an index scan is
 * chosen only when, recall counted, it beats the exact plan and every
 * other index; at a high probes setting (r near 1) the charge all but
 * vanishes and costs are as before.  r comes from the recall calibration
 * the build stores in the metapage (recall at 1, 2, 4, ... probes of
 * sampled rows' true 10 nearest neighbours, ivfpqbuild.c), interpolated
 * in log2 of the lists the scan reads (CostListsProbed): every list (no
 * LIMIT, or a scan that reads them all) is recall 1, and so is an
 * exact-order scan (ivfpq.exact_order under strict_order).  Indexes built
 * before the calibration existed (format versions 2 and 4) are charged
 * nothing: REINDEX to get it.  The calibration measures unfiltered
 * neighbours within the sample; neighbours among the rows passing a filter
 * are spread over more lists, which the extra lists a filtered scan reads
 * only partly make up for, so filtered recall is estimated optimistically.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/restrictinfo.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"
#include "utils/selfuncs.h"
#include "utils/spccache.h"

#include "vecx_range.h"
#include "ivfpq.h"
#include "am/common/vecxfilter.h"

/*
 * Lists an exact-order scan reads beyond the lists(k) above, per
 * sqrt(lists): on Fashion-MNIST (784 dimensions, 256 lists, probes 8,
 * LIMIT 10, 300 queries) certifying the order read 77 lists per query on
 * average (median 59, 8 to 248): 4 sqrt(256) + 8 + 0.04 = 72.
 */
#define IVFPQ_EXACT_LISTS	4.0

/*
 * CostRecall
 *		Expected recall of a scan reading nlists of the lists (see the
 *		header comment): the metapage's calibration, interpolated linearly
 *		in log2(lists read) between the measured powers of two and 1 at
 *		every list; 1 without a calibration.
 */
static double
CostRecall(const IvfpqMetaPageData *meta, const IvfpqSettings *set, double lists,
		   double nlists)
{
	double		p = Max(nlists, 1.0);
	double		lp;
	double		lo,
				hi,
				lohp,
				hihp;
	int			i;

	if (meta->version < IVFPQ_VERSION_CALIB || !meta->trained || meta->ncalib == 0 ||
		meta->ncalib > IVFPQ_NCALIB)
		return 1.0;
	if (set->iterative == IVFPQ_ITERATIVE_STRICT && set->exact_order)
		return 1.0;
	if (p >= lists)
		return 1.0;
	lp = log2(p);
	i = Min((int) floor(lp), (int) meta->ncalib - 1);
	lo = (double) meta->calib[i] / IVFPQ_CALIB_ONE;
	lohp = (double) i;
	if (i + 1 < (int) meta->ncalib)
	{
		hi = (double) meta->calib[i + 1] / IVFPQ_CALIB_ONE;
		hihp = (double) (i + 1);
	}
	else
	{
		hi = 1.0;
		hihp = log2(lists);
	}
	if (hihp <= lohp)
		return hi;
	return Min(1.0, Max(0.0, lo + (hi - lo) * (lp - lohp) / (hihp - lohp)));
}

/*
 * CostExactPlan
 *		What the planner charges for an exact answer without an index: a
 *		sequential scan of the table with its quals, the ORDER BY distances
 *		of the rows passing them, and a sort of those, bounded by the LIMIT
 *		(cost_seqscan and cost_sort's arithmetic, the distance priced by
 *		its planner support function, TOAST included).
 */
static Cost
CostExactPlan(PlannerInfo *root, IndexPath *path, double spc_seq_page_cost)
{
	RelOptInfo *baserel = path->indexinfo->rel;
	double		tuples = Max(baserel->tuples, 1.0);
	double		rows = Max(baserel->rows, 1.0);
	QualCost	orderCost;
	Cost		input;
	Path		sorted;

	cost_qual_eval(&orderCost, path->indexorderbys, root);
	input = spc_seq_page_cost * Max((double) baserel->pages, 1.0) +
		baserel->baserestrictcost.startup +
		tuples * (cpu_tuple_cost + baserel->baserestrictcost.per_tuple) +
		orderCost.startup + rows * orderCost.per_tuple;
	memset(&sorted, 0, sizeof(sorted));
	cost_sort(&sorted, root, NIL, input, rows, baserel->reltarget->width,
			  0.0, work_mem, root->limit_tuples);
	/* the rows the LIMIT takes, interpolated as for the plan's Limit node */
	if (root->limit_tuples > 0 && root->limit_tuples < rows)
		return sorted.startup_cost +
			(sorted.total_cost - sorted.startup_cost) * root->limit_tuples / rows;
	return sorted.total_cost;
}

/* The index's metapage, read for the estimate (no state is cached). */
static void
CostReadMeta(Oid indexoid, IvfpqMetaPageData *meta)
{
	Relation	index = index_open(indexoid, NoLock);
	Buffer		buf;

	buf = ReadBuffer(index, IVFPQ_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	IvfpqCheckPage(index, BufferGetPage(buf), IVFPQ_METAPAGE_BLKNO, IVFPQ_PAGE_META);
	IvfpqCopyMeta(BufferGetPage(buf), meta);
	UnlockReleaseBuffer(buf);
	index_close(index, NoLock);
}

/*
 * Lists a scan probes to hand the executor k rows when "matches" rows of
 * the table pass every qual: lists(k) of the header comment, within what
 * the settings allow, and for exact order the lists certifying it.
 */
static double
CostListsProbed(const IvfpqSettings *set, double lists, double k, double matches)
{
	double		probes = Min((double) set->probes, lists);
	double		maxlists;
	double		nlists;

	if (set->iterative == IVFPQ_ITERATIVE_OFF)
		maxlists = probes;
	else if (set->max_probes == 0)
		maxlists = lists;
	else
		maxlists = Min(Max((double) set->max_probes, probes), lists);
	nlists = probes + k * lists / matches;
	if (set->iterative == IVFPQ_ITERATIVE_STRICT && set->exact_order)
	{
		nlists += IVFPQ_EXACT_LISTS * sqrt(lists);
		if (nlists > maxlists)
			nlists = lists;
	}
	else
		nlists = Min(nlists, maxlists);
	return nlists;
}

/*
 * Startup cost of probing nlists lists (the fraction frac of the index):
 * ordering the centroids, the lookup tables (PQ), the lists' pages, and
 * each entry's filter checks and score.  sIdx is the selectivity of the
 * index quals.
 */
static Cost
CostListScan(IndexOptInfo *info, bool flat, double lists, double dims,
			 double m, double nlists, double frac, double sIdx,
			 bool hasIdxQuals, double spc_seq_page_cost)
{
	RelOptInfo *baserel = info->rel;
	double		pages = Max((double) info->pages, 1.0);
	double		entries = Max(info->tuples, 1.0) * frac;
	double		distCost = cpu_operator_cost * (1.0 + dims / 64.0);
	double		scoreCost = flat ? distCost : cpu_operator_cost * (0.25 + m / 64.0);
	double		listpages;
	Cost		startup;

	startup = 0;
	/* distances to every centroid; a lookup table per probed list */
	startup += lists * dims * cpu_operator_cost / 64.0;
	if (!flat)
		startup += nlists * dims * 16.0 * cpu_operator_cost / 64.0;
	/* the lists' pages, read in chain order */
	listpages = ceil(pages * frac);

	/*
	 * FLAT lists hold the vectors themselves (1.3x their float32 bytes at
	 * 784 dimensions), while the estimate of the sequential scan we compete
	 * with counts only the table's main fork: the vectors it reads from
	 * TOAST are not charged.  Left as it is, probing 24 of 256 lists on
	 * Fashion-MNIST (bench/ivfflat.sh, default storage) priced the index
	 * above a sequential scan that then took 200 ms a query instead of
	 * 4.8 ms.  So, like for like, a scan of less than half the lists is
	 * charged at most the table's pages.
	 */
	if (flat && frac < 0.5)
		listpages = Min(listpages, Max((double) baserel->pages, 1.0));
	startup += listpages * spc_seq_page_cost;
	/* every entry: its filter checks; those passing them: a score and a heap slot */
	startup += entries * cpu_index_tuple_cost * (hasIdxQuals ? 1.0 : 0.25);
	startup += entries * sIdx * (scoreCost + cpu_operator_cost);
	return startup;
}

void
ivfpqcostestimate(PlannerInfo *root, IndexPath *path, double loop_count,
				  Cost *indexStartupCost, Cost *indexTotalCost,
				  Selectivity *indexSelectivity, double *indexCorrelation,
				  double *indexPages)
{
	IndexOptInfo *info = path->indexinfo;
	RelOptInfo *baserel = info->rel;
	IvfpqMetaPageData meta;
	bool		hasIdxQuals;
	double		ntuples;
	double		pages;
	double		lists;
	double		dims;
	double		m;
	double		sIdx;
	double		sAll;
	double		passIdx;
	double		matches;
	double		k;
	double		nlists;
	double		frac;
	double		distCost;
	double		recall;
	double		spc_seq_page_cost;
	double		spc_random_page_cost;
	Cost		startup;
	Cost		total;
	IvfpqSettings set;
	bool		flat;

	/*
	 * Only ORDER BY distance scans can use the index (it holds no NULLs):
	 * price anything else above even a disabled sequential scan.
	 */
	if (path->indexorderbys == NIL && VecxRangeCost(root, path, indexStartupCost, indexTotalCost,
												 indexSelectivity, indexPages))
	{
		*indexCorrelation = 0;
		return;
	}
	if (path->indexorderbys == NIL)
	{
		*indexStartupCost = 1.0e100;
		*indexTotalCost = 1.0e100;
		*indexSelectivity = 0;
		*indexCorrelation = 0;
		*indexPages = 0;
		return;
	}

	CostReadMeta(info->indexoid, &meta);
	flat = meta.version >= IVFPQ_VERSION_RADIUS && meta.encoding == IVFPQ_ENC_FLAT;
	IvfpqGetSettings(flat ? IVFPQ_ENC_FLAT : IVFPQ_ENC_PQ, &set);

	ntuples = Max(info->tuples, 1.0);
	pages = Max((double) info->pages, 1.0);
	lists = meta.trained ? Max((double) meta.lists, 1.0) : 1.0;
	dims = Max((double) meta.dims, 1.0);
	m = meta.trained ? Max((double) meta.m, 1.0) : 0.0;
	get_tablespace_page_costs(info->reltablespace, &spc_random_page_cost,
							  &spc_seq_page_cost);

	hasIdxQuals = VecxFilterSelectivity(root, path, ntuples, &sIdx, &sAll);

	/* rows the executor wants: the LIMIT, else every matching row */
	k = root->limit_tuples > 0 ? root->limit_tuples :
		Min(Max(baserel->tuples, 1.0) * sAll, ntuples);

	/*
	 * Rows of the index passing the index quals, and those passing every
	 * qual (a partial index holds fewer rows than the table; the
	 * selectivities are relative to the table)
	 */
	passIdx = Max(ntuples * sIdx, 1.0);
	matches = Max(Min(Max(baserel->tuples, 1.0) * sAll, passIdx), 1.0);
	nlists = CostListsProbed(&set, lists, k, matches);
	frac = nlists / lists;

	/* an exact distance (the executor's re-check) */
	distCost = cpu_operator_cost * (1.0 + dims / 64.0);

	startup = CostListScan(info, flat, lists, dims, m, nlists, frac, sIdx,
						   hasIdxQuals, spc_seq_page_cost);

	if (root->limit_tuples > 0)
	{
		/*
		 * With a LIMIT, the executor consumes about k / s rows passing the
		 * index quals (twice that: loose bounds make it re-check about as
		 * many rows again as it emits), each a heap access and an exact
		 * distance before it can emit its k rows.  Charged here rather
		 * than left to the planner's LIMIT interpolation, which would
		 * spread the heap accesses over every row of the table.
		 */
		double		rows = Min((flat ? 1.0 : 2.0) * k * passIdx / matches, passIdx);

		startup += rows * (spc_seq_page_cost + (flat ? 0.0 : distCost) + cpu_tuple_cost);
		total = startup + cpu_index_tuple_cost * k;
	}
	else
	{
		/* every row passing the index quals: the exact distance of each */
		total = startup + ntuples * sIdx * ((flat ? 0.0 : distCost) + cpu_index_tuple_cost);
	}

	/* the misses, each worth the exact plan that would not have missed */
	recall = CostRecall(&meta, &set, lists, nlists);
	if (recall < 1.0)
	{
		Cost		penalty = (1.0 - recall) * CostExactPlan(root, path, spc_seq_page_cost);

		startup += penalty;
		total += penalty;
	}

	*indexStartupCost = startup;
	*indexTotalCost = total;
	/* of the table's rows: a partial index returns only its own */
	*indexSelectivity = Min(1.0, passIdx / Max(baserel->tuples, 1.0));
	*indexCorrelation = 0;
	*indexPages = ceil(pages * frac);
}
