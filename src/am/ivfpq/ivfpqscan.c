/*-------------------------------------------------------------------------
 *
 * ivfpqscan.c
 *	  Index scan of an ivfpq index: probe the nearest lists, score entries
 *	  by asymmetric distance, return them by increasing lower bound.
 *
 * The codes give d(q, x'), the distance to the decoded vector x'; each
 * entry also stores e = |x - x'|, so d(q, x) >= d(q, x') - e.  Entries are
 * returned ordered by that lower bound with xs_recheckorderby set: the
 * executor computes the exact distance from the heap tuple and its reorder
 * queue emits rows in exact order once no later entry can beat them.  The
 * index thus needs no copy of the vectors, and results within the probed
 * lists are exactly ordered.
 *
 * The bound is shrunk by a margin covering float32 rounding in both our
 * estimate and the executor's exact distance: the executor raises an error
 * if an exact distance is below the value the index returned.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "access/relscan.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "utils/float.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "ivfpq.h"
#include "simd/simd.h"

typedef struct IvfpqCandidate
{
	double		lb;
	ItemPointerData tid;
} IvfpqCandidate;

typedef struct IvfpqListOrder
{
	float		dist;
	int			list;
} IvfpqListOrder;

typedef struct IvfpqScanOpaqueData
{
	MemoryContext cxt;			/* reset by rescan */
	bool		started;
	bool		done;
	float	   *query;
	float		qnorm;
	int			dims;
	IvfpqListOrder *order;		/* lists by increasing distance to query */
	int			norder;
	int			nprobed;
	IvfpqCandidate *cands;
	int			ncands;
	int			maxcands;
	int			next;
	float	   *lut;
	float	   *rq;
} IvfpqScanOpaqueData;

typedef IvfpqScanOpaqueData *IvfpqScanOpaque;

IndexScanDesc
ivfpqbeginscan(Relation index, int nkeys, int norderbys)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	IvfpqScanOpaque so = palloc0(sizeof(IvfpqScanOpaqueData));

	so->cxt = AllocSetContextCreate(CurrentMemoryContext, "ivfpq scan",
									ALLOCSET_DEFAULT_SIZES);
	scan->opaque = so;
	scan->xs_orderbyvals = palloc0(sizeof(Datum) * Max(norderbys, 1));
	scan->xs_orderbynulls = palloc(sizeof(bool) * Max(norderbys, 1));
	memset(scan->xs_orderbynulls, true, sizeof(bool) * Max(norderbys, 1));
	return scan;
}

void
ivfpqrescan(IndexScanDesc scan, ScanKey keys, int nkeys,
			ScanKey orderbys, int norderbys)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;

	MemoryContextReset(so->cxt);
	so->started = false;
	so->done = false;
	so->query = NULL;
	so->order = NULL;
	so->cands = NULL;
	so->ncands = so->maxcands = so->next = 0;
	so->norder = so->nprobed = 0;

	if (keys && scan->numberOfKeys > 0)
		memmove(scan->keyData, keys, scan->numberOfKeys * sizeof(ScanKeyData));
	if (orderbys && scan->numberOfOrderBys > 0)
		memmove(scan->orderByData, orderbys, scan->numberOfOrderBys * sizeof(ScanKeyData));
}

static int
CompareListOrder(const void *a, const void *b)
{
	const IvfpqListOrder *x = a;
	const IvfpqListOrder *y = b;

	if (x->dist != y->dist)
		return x->dist < y->dist ? -1 : 1;
	return x->list - y->list;
}

static int
CompareCandidates(const void *a, const void *b)
{
	const IvfpqCandidate *x = a;
	const IvfpqCandidate *y = b;

	if (x->lb != y->lb)
		return x->lb < y->lb ? -1 : 1;
	return ItemPointerCompare((ItemPointer) &x->tid, (ItemPointer) &y->tid);
}

static void
AddCandidate(IvfpqScanOpaque so, double lb, ItemPointer tid)
{
	if (so->ncands == so->maxcands)
	{
		int			newmax = so->maxcands == 0 ? 1024 : so->maxcands * 2;

		if ((Size) newmax > MaxAllocHugeSize / sizeof(IvfpqCandidate))
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("too many ivfpq scan candidates")));
		if (so->cands == NULL)
			so->cands = MemoryContextAllocHuge(so->cxt, sizeof(IvfpqCandidate) * newmax);
		else
			so->cands = repalloc_huge(so->cands, sizeof(IvfpqCandidate) * newmax);
		so->maxcands = newmax;
	}
	so->cands[so->ncands].lb = lb;
	so->cands[so->ncands].tid = *tid;
	so->ncands++;
}

/*
 * Sum of the lookup-table entries named by an entry's codes: the squared
 * distance (L2) or inner product between the query part and x' - c.
 */
static inline float
AdcSum(const float *lut, const uint8 *codes, int m, int nbits)
{
	float		s0 = 0,
				s1 = 0,
				s2 = 0,
				s3 = 0;
	int			j = 0;

	if (nbits == 4)
	{
		int			nb = m / 2;
		int			b = 0;

		for (; b + 1 < nb; b += 2)
		{
			uint8		c0 = codes[b];
			uint8		c1 = codes[b + 1];

			s0 += lut[c0 & 15];
			s1 += lut[16 + (c0 >> 4)];
			s2 += lut[32 + (c1 & 15)];
			s3 += lut[48 + (c1 >> 4)];
			lut += 64;
		}
		for (; b < nb; b++)
		{
			s0 += lut[codes[b] & 15];
			s1 += lut[16 + (codes[b] >> 4)];
			lut += 32;
		}
		if (m & 1)
			s2 += lut[codes[nb] & 15];
	}
	else
	{
		for (; j + 3 < m; j += 4)
		{
			s0 += lut[codes[j]];
			s1 += lut[256 + codes[j + 1]];
			s2 += lut[512 + codes[j + 2]];
			s3 += lut[768 + codes[j + 3]];
			lut += 1024;
		}
		for (; j < m; j++)
		{
			s0 += lut[codes[j]];
			lut += 256;
		}
	}
	return (s0 + s1) + (s2 + s3);
}

/*
 * Lookup table for one query part: per sub-vector j and codeword k,
 * |v_j - w_jk|^2 (L2) or v_j . w_jk (inner product).
 */
static void
BuildLut(IvfpqState *st, const float *v, float *lut, bool ip)
{
	int			j;

	for (j = 0; j < st->m; j++)
	{
		int			off = st->suboff[j];
		int			dsub = st->suboff[j + 1] - off;
		const float *cb = st->codebook + (Size) st->ksub * off;
		const float *vs = v + off;
		float	   *out = lut + (Size) j * st->ksub;
		int			k;

		for (k = 0; k < st->ksub; k++)
		{
			const float *w = cb + (Size) k * dsub;
			float		acc = 0;
			int			t;

			if (ip)
				for (t = 0; t < dsub; t++)
					acc += vs[t] * w[t];
			else
				for (t = 0; t < dsub; t++)
				{
					float		diff = vs[t] - w[t];

					acc += diff * diff;
				}
			out[k] = acc;
		}
	}
}

/*
 * Score every entry of one list and add it to the candidates.
 */
static void
ScanList(IndexScanDesc scan, IvfpqState *st, int list, float cdist)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	Relation	index = scan->indexRelation;
	IvfpqListDir dir;
	BlockNumber blkno;
	double		rel = 1e-4 + 1.2e-7 * Max(st->dims, 1);
	double		qc = 0;
	double		cnorm = 0;
	double		neg_inf = -get_float8_infinity();
	bool		ip = st->metric == IVFPQ_METRIC_IP;
	bool		cosine = st->metric == IVFPQ_METRIC_COSINE;

	if (st->trained)
	{
		const float *c = st->centroids + (Size) list * st->dims;
		int			i;

		cnorm = sqrt((double) st->cnorms[list]);
		if (ip)
			qc = cdist;			/* q . c, computed when ordering lists */
		else
		{
			for (i = 0; i < st->dims; i++)
				so->rq[i] = so->query[i] - c[i];
			BuildLut(st, so->rq, so->lut, false);
		}
	}

	IvfpqReadDir(index, st->dirStart, list, &dir);
	blkno = dir.head;
	while (BlockNumberIsValid(blkno))
	{
		Buffer		buf;
		Page		page;
		OffsetNumber off,
					maxoff;
		IvfpqPageOpaque opaque;

		CHECK_FOR_INTERRUPTS();
		buf = ReadBuffer(index, blkno);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		IvfpqCheckPage(index, page, blkno, IVFPQ_PAGE_DATA);
		opaque = IvfpqPageGetOpaque(page);
		if (opaque->list != (uint32) list)
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("index \"%s\" block %u belongs to list %u, expected %d",
							RelationGetRelationName(index), blkno, opaque->list, list)));

		maxoff = PageGetMaxOffsetNumber(page);
		for (off = FirstOffsetNumber; off <= maxoff; off++)
		{
			IvfpqEntry *e = IvfpqGetEntry(index, page, blkno, off, st->entrysize);
			double		lb;

			if (e == NULL)
				continue;
			if ((e->flags & IVFPQ_ENTRY_UNENCODED) || !st->trained)
				lb = neg_inf;
			else if (ip)
			{
				double		est = qc + AdcSum(so->lut, e->codes, st->m, st->nbits);
				double		slack = (double) so->qnorm * e->err;

				lb = -est - slack - rel * so->qnorm * (e->norm + cnorm + e->err);
			}
			else
			{
				double		d = sqrt(Max(0.0, (double) AdcSum(so->lut, e->codes, st->m, st->nbits)));
				double		l2 = d - e->err - rel * (d + e->err) - 1e-5 * (so->qnorm + e->norm);

				if (cosine)
				{
					l2 = Max(l2, 0.0);
					lb = l2 * l2 / 2 - 1e-4;
				}
				else
					lb = l2;
			}
			AddCandidate(so, lb, &e->tid);
		}
		blkno = opaque->nextblkno;
		UnlockReleaseBuffer(buf);
	}
}

/*
 * Probe the next lists (up to "count") and sort the new candidates.
 */
static void
ProbeLists(IndexScanDesc scan, IvfpqState *st, int count)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	int			end = Min(so->norder, so->nprobed + count);

	so->ncands = 0;
	so->next = 0;
	for (; so->nprobed < end; so->nprobed++)
		ScanList(scan, st, so->order[so->nprobed].list, so->order[so->nprobed].dist);
	if (so->ncands > 1)
		qsort(so->cands, so->ncands, sizeof(IvfpqCandidate), CompareCandidates);
	if (ivfpq_rerank > 0 && so->ncands > ivfpq_rerank)
		so->ncands = ivfpq_rerank;
}

/*
 * First call: read the query, order the lists, probe the first ones.
 */
static void
StartScan(IndexScanDesc scan, IvfpqState *st)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	ScanKey		key = &scan->orderByData[0];
	MemoryContext oldcxt = MemoryContextSwitchTo(so->cxt);
	int			l;

	so->started = true;
	if (key->sk_flags & SK_ISNULL)
	{
		so->done = true;
		MemoryContextSwitchTo(oldcxt);
		return;
	}

	if (!st->trained)
	{
		/* Every entry is in list 0 and gets an unknown bound */
		so->order = palloc(sizeof(IvfpqListOrder));
		so->order[0].list = 0;
		so->order[0].dist = 0;
		so->norder = 1;
		so->qnorm = 0;
		MemoryContextSwitchTo(oldcxt);
		ProbeLists(scan, st, 1);
		return;
	}

	so->dims = st->dims;
	so->query = palloc(mul_size(sizeof(float), st->dims));
	so->rq = palloc(mul_size(sizeof(float), st->dims));
	so->lut = palloc(mul_size(mul_size(sizeof(float), st->m), st->ksub));
	if (IvfpqDatumDims(st->kind, key->sk_argument) != st->dims)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different vector dimensions %d and %d",
						st->dims, IvfpqDatumDims(st->kind, key->sk_argument))));
	if (!IvfpqDatumToFloat(st, st->kind, key->sk_argument, so->query, st->dims,
						   st->metric == IVFPQ_METRIC_COSINE, &so->qnorm))
	{
		/* zero query vector: every cosine distance is NaN, nothing to order */
		so->done = true;
		MemoryContextSwitchTo(oldcxt);
		return;
	}

	so->order = palloc(mul_size(sizeof(IvfpqListOrder), st->lists));
	so->norder = st->lists;
	for (l = 0; l < st->lists; l++)
	{
		const float *c = st->centroids + (Size) l * st->dims;

		so->order[l].list = l;
		if (st->metric == IVFPQ_METRIC_IP)
			so->order[l].dist = -vecx_kernels->dot_f32(so->query, c, st->dims);
		else
			so->order[l].dist = vecx_kernels->l2sq_f32(so->query, c, st->dims);
	}
	qsort(so->order, st->lists, sizeof(IvfpqListOrder), CompareListOrder);
	if (st->metric == IVFPQ_METRIC_IP)
	{
		/* ScanList wants q . c */
		for (l = 0; l < st->lists; l++)
			so->order[l].dist = -so->order[l].dist;
		BuildLut(st, so->query, so->lut, true);
	}
	MemoryContextSwitchTo(oldcxt);

	ProbeLists(scan, st, Min(ivfpq_probes, st->lists));
}

bool
ivfpqgettuple(IndexScanDesc scan, ScanDirection dir)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;

	if (scan->numberOfOrderBys != 1)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot scan ivfpq index without order")));
	if (!ScanDirectionIsForward(dir))
		elog(ERROR, "ivfpq index scans only go forward");

	if (!so->started)
	{
		/*
		 * The cached state is only used within this call: a relcache
		 * invalidation between calls may free it.
		 */
		StartScan(scan, IvfpqGetState(scan->indexRelation));
		pgstat_count_index_scan(scan->indexRelation);
	}
	if (so->done)
		return false;

	while (so->next >= so->ncands)
	{
		IvfpqState *st;

		/* Iterative scan: continue with the next lists, if allowed */
		if (ivfpq_max_probes <= so->nprobed || so->nprobed >= so->norder)
		{
			so->done = true;
			return false;
		}
		st = IvfpqGetState(scan->indexRelation);
		ProbeLists(scan, st, Min(ivfpq_probes, ivfpq_max_probes - so->nprobed));
	}

	scan->xs_heaptid = so->cands[so->next].tid;
	scan->xs_recheck = false;
	scan->xs_recheckorderby = true;
	scan->xs_orderbyvals[0] = Float8GetDatum(so->cands[so->next].lb);
	scan->xs_orderbynulls[0] = false;
	so->next++;
	return true;
}

void
ivfpqendscan(IndexScanDesc scan)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;

	MemoryContextDelete(so->cxt);
	pfree(so);
	scan->opaque = NULL;
}
