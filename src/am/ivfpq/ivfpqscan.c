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
 * Fast-scan (block pages, 4-bit codes): per list the float lookup table is
 * quantized to uint8 and block entries are scored together with the SIMD
 * kernel of src/simd/pq.h (16 entries per call).  The quantized sum gives a looser, still valid,
 * bound.  Candidates sit in a min-heap on their bound; when a candidate
 * with only the loose bound reaches the top, its exact float ADC is
 * computed from the copy of its block kept in scan memory (refinement) and
 * it goes back into the heap.  Only candidates that reach the top are ever
 * refined, which is a few times k.
 *
 * FLAT lists (ivfflat) hold whole vectors: an entry's value is its exact
 * distance, computed with the kernels the distance operators use, so the
 * rows need no re-check (xs_recheckorderby false) and come out in the
 * order a sequential scan sorts them in.  Everything else -- list order,
 * probe rounds, iterative modes -- is shared.
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
#include "vecx_range.h"
#include "vecx_stat.h"
#include "am/common/vecxexplain.h"
#include "am/common/vecxfilter.h"
#include "simd/pq.h"
#include "simd/simd.h"

typedef struct IvfpqCandidate
{
	double		lb;				/* lower bound of the exact distance */
	ItemPointerData tid;
	bool		refine;			/* lb is the loose fast-scan bound */
	uint8		slot;			/* slot in the block copy */
	int32		block;			/* block copy index */
	int32		probe;			/* index into the per-list data */
} IvfpqCandidate;

/* What refinement needs of each probed list */
typedef struct IvfpqProbe
{
	double		qc;				/* q . c (inner product) */
	double		cnorm;			/* |c| */
	int			lutno;			/* its m * ksub float table (L2; ProbeLut) */
} IvfpqProbe;

typedef struct IvfpqListOrder
{
	float		dist;
	int			list;
} IvfpqListOrder;

/* What the loops of a scan did, for EXPLAIN ANALYZE (ivfpqexplain) */
typedef struct IvfpqScanTotals
{
	int64		loops;
	int64		probes;			/* loops that probed lists */
	int64		exact;			/* loops that took an exact pass */
	int64		unordered;		/* loops without a usable query */
	int64		lists;			/* lists probed */
	int64		exactLists;		/* of which in exact passes */
	int64		scored;			/* entries scored */
	int64		filtered;		/* entries rejected by the scan keys */
	int64		refined;		/* fast-scan bounds made exact ADC bounds */
} IvfpqScanTotals;

typedef struct IvfpqScanOpaqueData
{
	MemoryContext cxt;			/* reset by rescan */
	IvfpqScanTotals tot;		/* loops finished (not reset by rescan) */
	IvfpqSettings set;			/* the access method's settings at rescan */
	bool		flat;			/* FLAT encoding: exact distances */
	char	   *rawquery;		/* FLAT: the query as entries store vectors */
	VecxFilter *filter;			/* scan keys on filter columns, or NULL */
	int			mode;			/* ivfpq.iterative_scan at the scan's start */
	bool		exact;			/* strict_order with ivfpq.exact_order */
	int			maxlists;		/* lists probed before the exact pass */
	int			firstlists;		/* lists of the first round (ivfpq.probes) */
	int			firstcands;		/* candidates of the first round */

	/*
	 * Merging later lists by bound (relaxed_order): how much lower than its
	 * centroid's score (ListKey) the best bound of a probed list came out,
	 * at most.  The next list is probed once the best candidate's bound
	 * passes the next centroid's score minus this, so that rows of nearby
	 * lists come out in bound order instead of round by round.
	 */
	double		delta;

	/*
	 * Strict order, first run (see README): maxret is the bound returned
	 * last, above the exact distance of every row the executor may have
	 * emitted.  A candidate whose bound is below it is late: kept in late[]
	 * for the final exact pass (final), which returns every row not yet
	 * returned in one ordered run.
	 */
	double		maxret;
	IvfpqCandidate *late;
	int			nlate;
	int			maxlate;
	bool		final;

	/*
	 * Exact order (see README): listlb[i] bounds from below the distance
	 * of every row of list order[i] (centroid distance minus radius);
	 * bylb lists the order indexes by increasing listlb, nextlb is the
	 * first of them that may be unprobed.  A candidate is returned only
	 * once its bound is at most every unprobed list's bound.
	 */
	double	   *listlb;
	int		   *bylb;
	int			nextlb;
	bool	   *probed;			/* per order index */
	int			nextorder;		/* first order index that may be unprobed */

	/*
	 * A query with no usable order (NULL, zero under cosine, too long for
	 * float32): every entry is returned with this order value.
	 */
	bool		unordered;
	double		orderval;
	bool		ordernull;

	bool		started;
	bool		done;
	float	   *query;
	float		qnorm;
	int			dims;
	IvfpqListOrder *order;		/* lists by increasing distance to query */
	int			norder;
	int			nprobed;
	IvfpqCandidate *cands;		/* min-heap on lb */
	int			ncands;
	int			maxcands;
	int			returned;		/* this round */
	float	   *lut;			/* inner product: the query's table */
	float	   *rq;
	uint8	   *qlut;			/* quantized table, ngroups * 64 */
	IvfpqProbe *probes;			/* per probed list, indexed by order index */
	char	   *blocks;			/* copies of fast-scan blocks */
	int			nblocks;
	int			maxblocks;
	char	   *luts;			/* the probed lists' float tables (L2) */
	Size		lutbytes;		/* bytes of one */
	int			nluts;
	int			maxluts;
	vecx_pq_fastscan_fn fastscan;
	vecx_pq_quantize_fn quantize;
	vecx_pq_minmax_fn minmax;
	float	   *mins;			/* per sub-quantizer table minimums */
	float	   *ranges;			/* and ranges */
	IvfpqState	st;				/* scalar fields of the cached state */
	int64		nrefined;		/* statistics for DEBUG2 */
	int64		nreturned;
	int64		nscored;
	int64		nfiltered;		/* entries rejected by the scan keys */
	int64		nexact;			/* lists of the exact pass */
	int64		nlaterows;		/* rows deferred to the exact pass */

	/*
	 * Range keys (vecx_range.c).  A range whose query is the scan's ends it
	 * at the first candidate beyond the radius; in the iterative modes
	 * such a scan runs in exact order, so that it reads only the lists
	 * that can hold a row within the radius and misses none.
	 */
	VecxRange	range;
	bool		rangeDrive;
	double		rangeLimit;
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

/* Add the loop in progress (started) to totals t */
static void
AddTotals(IvfpqScanTotals *t, IvfpqScanOpaque so)
{
	t->loops++;
	if (so->unordered)
		t->unordered++;
	else if (so->nprobed > so->nexact)
		t->probes++;
	if (so->final || so->nexact > 0)
		t->exact++;
	t->lists += so->nprobed;
	t->exactLists += so->nexact;
	t->scored += so->nscored;
	t->filtered += so->nfiltered;
	t->refined += so->nrefined;
}

/*
 * ivfpqexplain
 *		EXPLAIN ANALYZE's line for a scan (vecxexplain.c), the loop in
 *		progress included.
 */
void
ivfpqexplain(IndexScanDesc scan, StringInfo out)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	IvfpqScanTotals t = so->tot;

	if (so->started)
		AddTotals(&t, so);
	if (t.loops == 0)
	{
		appendStringInfoString(out, "never started");
		return;
	}
	VecxExplainStrategy(out, "list probes", t.probes, t.loops);
	VecxExplainStrategy(out, "exact pass", t.exact, t.loops);
	VecxExplainStrategy(out, "unordered pass", t.unordered, t.loops);
	if (out->len == 0)
		appendStringInfoString(out, "nothing to search");
	appendStringInfo(out, "; lists=" INT64_FORMAT, t.lists);
	if (t.exactLists > 0)
		appendStringInfo(out, " (exact pass " INT64_FORMAT ")", t.exactLists);
	appendStringInfo(out, " entries scored=" INT64_FORMAT, t.scored);
	if (t.filtered > 0)
		appendStringInfo(out, " filtered out=" INT64_FORMAT, t.filtered);
	if (t.refined > 0)
		appendStringInfo(out, " refined=" INT64_FORMAT, t.refined);
}

/* Tell vecx_stat.c what the scan did */
static void
ReportStats(IndexScanDesc scan, IvfpqScanOpaque so)
{
	VecxStatCounts c;

	if (!so->started)
		return;
	AddTotals(&so->tot, so);
	memset(&c, 0, sizeof(c));
	c.scans = 1;
	c.tuples = so->nreturned;
	c.visited = so->nprobed;
	c.exact = (so->final || so->nexact > 0) ? 1 : 0;
	VecxStatReport(scan->indexRelation, &c);
}

void
ivfpqrescan(IndexScanDesc scan, ScanKey keys, int nkeys,
			ScanKey orderbys, int norderbys)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;

	ReportStats(scan, so);
	MemoryContextReset(so->cxt);
	so->started = false;
	so->done = false;
	so->query = NULL;
	so->order = NULL;
	so->cands = NULL;
	so->ncands = so->maxcands = so->returned = 0;
	so->norder = so->nprobed = 0;
	so->nrefined = so->nreturned = so->nscored = 0;
	so->nfiltered = so->nexact = so->nlaterows = 0;
	so->filter = NULL;
	so->flat = IvfpqIndexEncoding(scan->indexRelation) == IVFPQ_ENC_FLAT;
	IvfpqGetSettings(so->flat ? IVFPQ_ENC_FLAT : IVFPQ_ENC_PQ, &so->set);
	so->rawquery = NULL;
	so->mode = so->set.iterative;
	so->exact = so->mode == IVFPQ_ITERATIVE_STRICT && so->set.exact_order;
	so->maxret = -get_float8_infinity();
	so->late = NULL;
	so->nlate = so->maxlate = 0;
	so->final = false;
	so->maxlists = 0;
	so->delta = -get_float8_infinity();
	so->firstlists = 0;
	so->firstcands = 0;
	so->listlb = NULL;
	so->bylb = NULL;
	so->nextlb = 0;
	so->probed = NULL;
	so->nextorder = 0;
	so->unordered = false;
	so->orderval = 0;
	so->ordernull = false;
	so->lut = so->rq = NULL;
	so->qlut = NULL;
	so->probes = NULL;
	so->blocks = NULL;
	so->nblocks = so->maxblocks = 0;
	so->luts = NULL;
	so->lutbytes = 0;
	so->nluts = so->maxluts = 0;
	memset(&so->range, 0, sizeof(so->range));
	so->rangeDrive = false;
	so->rangeLimit = 0;

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

/* Binary min-heap on lb over so->cands[0..ncands) */
static inline bool
CandLess(const IvfpqCandidate *a, const IvfpqCandidate *b)
{
	if (a->lb != b->lb)
		return a->lb < b->lb;
	return ItemPointerCompare((ItemPointer) &a->tid, (ItemPointer) &b->tid) < 0;
}

static void
SiftDown(IvfpqCandidate *h, int n, int i)
{
	IvfpqCandidate x = h[i];

	for (;;)
	{
		int			c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && CandLess(&h[c + 1], &h[c]))
			c++;
		if (!CandLess(&h[c], &x))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = x;
}

static void
Heapify(IvfpqCandidate *h, int n)
{
	int			i;

	for (i = n / 2 - 1; i >= 0; i--)
		SiftDown(h, n, i);
}

/*
 * Restore the heap after candidates were appended from "before" on: sift
 * a few new ones up, or rebuild when they are many (one list merged into
 * a large heap must not cost the whole heap).
 */
static void
HeapMerge(IvfpqCandidate *h, int before, int n)
{
	int			j;

	if (n - before > before / 4)
	{
		Heapify(h, n);
		return;
	}
	for (j = before; j < n; j++)
	{
		IvfpqCandidate x = h[j];
		int			i = j;

		while (i > 0 && CandLess(&x, &h[(i - 1) / 2]))
		{
			h[i] = h[(i - 1) / 2];
			i = (i - 1) / 2;
		}
		h[i] = x;
	}
}

/*
 * Per-backend buffers lent to one scan at a time: the block copies (about
 * a megabyte per query), the per-list lookup tables (50 kB a list at 784
 * dimensions) and the candidates.  Allocated afresh for every scan, they
 * cost page faults, and TLB shootdowns when the allocator hands them back
 * to the kernel at the scan's end: a fifth of a query's time at
 * ivfpq.probes = 8 on Fashion-MNIST.  So each is kept across scans; a
 * callback on the borrowing scan's memory context returns it, also on
 * error.  A scan that finds one lent already (nested scans) or needs more
 * than its cap allocates its own.
 */
typedef struct ScanBuffer
{
	char	   *buf;
	Size		size;
	bool		busy;
} ScanBuffer;

static ScanBuffer block_buffer;
static ScanBuffer lut_buffer;
static ScanBuffer cand_buffer;

#define IVFPQ_BLOCK_BUFFER_MAX	((Size) 64 * 1024 * 1024)
#define IVFPQ_LUT_BUFFER_MAX	((Size) 16 * 1024 * 1024)
#define IVFPQ_CAND_BUFFER_MAX	((Size) 16 * 1024 * 1024)

static void
ReturnScanBuffer(void *arg)
{
	((ScanBuffer *) arg)->busy = false;
}

/*
 * Grow the scan's area *area, of which the first "used" bytes are in use
 * (NULL at first), to at least "need" bytes, keeping its contents:
 * borrowing sb's buffer while it is free and need <= cap.  Returns the
 * area's size.
 */
static Size
GrowScanArea(ScanBuffer *sb, MemoryContext cxt, char **area, Size used,
			 Size need, Size cap)
{
	char	   *nb;

	if (*area == NULL && !sb->busy && need <= cap)
	{
		MemoryContextCallback *cb = MemoryContextAlloc(cxt, sizeof(MemoryContextCallback));

		if (sb->size < need)
		{
			if (sb->buf)
				pfree(sb->buf);
			sb->buf = NULL;
			sb->size = 0;
			sb->buf = MemoryContextAllocHuge(TopMemoryContext, need);
			sb->size = need;
		}
		sb->busy = true;
		cb->func = ReturnScanBuffer;
		cb->arg = sb;
		MemoryContextRegisterResetCallback(cxt, cb);
		*area = sb->buf;
		return sb->size;
	}
	if (*area != NULL && *area == sb->buf && need <= cap)
	{
		/* the borrowed buffer: grow it in place of a private copy */
		sb->buf = repalloc_huge(sb->buf, need);
		sb->size = need;
		*area = sb->buf;
		return need;
	}
	nb = MemoryContextAllocHuge(cxt, need);
	if (used > 0)
		memcpy(nb, *area, used);
	if (*area != NULL && *area != sb->buf)
		pfree(*area);
	*area = nb;
	return need;
}

/* Room for one more block copy; returns its address. */
static char *
AddBlock(IvfpqScanOpaque so, Size blocksize)
{
	if (so->nblocks == so->maxblocks)
	{
		int			newmax = so->maxblocks == 0 ? 256 : so->maxblocks * 2;

		so->maxblocks = (int) Min(GrowScanArea(&block_buffer, so->cxt, &so->blocks,
											   blocksize * so->nblocks,
											   mul_size(blocksize, newmax),
											   IVFPQ_BLOCK_BUFFER_MAX) / blocksize,
								  INT_MAX / 2);
	}
	return so->blocks + blocksize * so->nblocks++;
}

/* A probed list's lookup table (L2, PQ) */
static inline float *
ProbeLut(IvfpqScanOpaque so, IvfpqProbe *pr)
{
	return (float *) (so->luts + so->lutbytes * pr->lutno);
}

/* Room for one more list's lookup table; returns its number */
static int
AddLut(IvfpqScanOpaque so)
{
	if (so->nluts == so->maxluts)
	{
		int			newmax = so->maxluts == 0 ? 16 : so->maxluts * 2;

		so->maxluts = (int) Min(GrowScanArea(&lut_buffer, so->cxt, &so->luts,
											 so->lutbytes * so->nluts,
											 mul_size(so->lutbytes, newmax),
											 IVFPQ_LUT_BUFFER_MAX) / so->lutbytes,
								INT_MAX / 2);
	}
	return so->nluts++;
}

/* Room for at least one more candidate in *arr (capacity *max, n used) */
static IvfpqCandidate *
GrowCandidates(MemoryContext cxt, IvfpqCandidate *arr, int n, int *max,
			   ScanBuffer *sb)
{
	int			newmax;
	char	   *area = (char *) arr;

	if (n < *max)
		return arr;
	newmax = *max == 0 ? 1024 : *max * 2;
	if ((Size) newmax > MaxAllocHugeSize / sizeof(IvfpqCandidate))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many ivfpq scan candidates")));
	if (sb == NULL)
	{
		*max = newmax;
		if (arr == NULL)
			return MemoryContextAllocHuge(cxt, sizeof(IvfpqCandidate) * newmax);
		return repalloc_huge(arr, sizeof(IvfpqCandidate) * newmax);
	}
	*max = (int) Min(GrowScanArea(sb, cxt, &area, sizeof(IvfpqCandidate) * n,
								  sizeof(IvfpqCandidate) * newmax,
								  IVFPQ_CAND_BUFFER_MAX) / sizeof(IvfpqCandidate),
					 INT_MAX / 2);
	return (IvfpqCandidate *) area;
}

static IvfpqCandidate *
AddCandidate(IvfpqScanOpaque so)
{
	IvfpqCandidate *c;

	so->cands = GrowCandidates(so->cxt, so->cands, so->ncands, &so->maxcands,
								&cand_buffer);
	c = &so->cands[so->ncands++];
	c->refine = false;
	c->slot = 0;
	c->block = -1;
	c->probe = -1;
	return c;
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

		/* the common case, in a form the compiler vectorizes */
		if (dsub == 1 && !ip && st->ksub == 16)
		{
			float		v0 = vs[0];
			float		tmp[16];

			for (k = 0; k < 16; k++)
				tmp[k] = (v0 - cb[k]) * (v0 - cb[k]);
			memcpy(out, tmp, sizeof(tmp));
			continue;
		}
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

/* Margin for float32 rounding, relative to the magnitudes involved */
static inline double
RelMargin(int dims)
{
	return 1e-4 + 1.2e-7 * Max(dims, 1);
}

/*
 * Lower bound of the exact distance from an estimate of d(q, x')^2 (L2,
 * cosine) or of q . x' (inner product; pass an upper bound of it).
 */
static inline double
LowerBound(IvfpqScanOpaque so, double est, float err, float norm, double cnorm)
{
	double		rel = RelMargin(so->dims);
	double		lb;

	if (so->st.metric == VECX_METRIC_IP)
		lb = -est - (double) so->qnorm * err -
			rel * so->qnorm * ((double) norm + cnorm + err);
	else
	{
		double		d = sqrt(Max(0.0, est));
		double		l2 = d - err - rel * (d + err) - 1e-5 * ((double) so->qnorm + norm);

		if (so->st.metric == VECX_METRIC_COSINE)
		{
			l2 = Max(l2, 0.0);
			lb = l2 * l2 / 2 - 1e-4;
		}
		else
			lb = l2;
	}

	/* an overflow gives no bound (the executor decides) */
	if (isnan(lb) || isinf(lb))
		lb = -get_float8_infinity();
	return lb;
}

/*
 * Quantize a float table (m x 16) to uint8 in fast-scan order so that the
 * largest possible sum fits in uint16.  Returns the scale; *bias gets the
 * sum of the per-sub-quantizer minimums.
 */
static double
QuantizeLut(IvfpqScanOpaque so, const float *lut, uint8 *qlut, double *bias)
{
	int			m = so->st.m;
	float	   *mins = so->mins;
	double		maxrange = 0,
				sumrange = 0,
				scale;
	int			j;

	so->minmax(lut, m, mins, so->ranges);
	*bias = 0;
	for (j = 0; j < m; j++)
	{
		*bias += mins[j];
		maxrange = Max(maxrange, (double) so->ranges[j]);
		sumrange += so->ranges[j];
	}
	if (maxrange <= 0 || !isfinite(maxrange) || !isfinite(sumrange))
		scale = 1.0;
	else
		scale = Min(255.0 / maxrange, (65535.0 - m) / sumrange);

	/*
	 * Round to nearest in float; the caller allows 0.51 quanta of error per
	 * sub-quantizer, which covers the rounding of this arithmetic too.
	 * Entries of the phantom sub-quantizers past m stay zero.
	 */
	memset(qlut, 0, so->st.ngroups * 64);
	so->quantize(lut, mins, m, (float) scale, qlut);
	return scale;
}

/*
 * A centroid's score in the units of the candidates' bounds: its distance
 * (L2), half its squared distance (cosine, as bounds on unit vectors), or
 * its negative inner product.
 */
static double
ListKey(IvfpqScanOpaque so, int idx)
{
	double		d = so->order[idx].dist;

	switch (so->st.metric)
	{
		case VECX_METRIC_IP:
			return -d;			/* order[].dist holds q . c */
		case VECX_METRIC_COSINE:
			return Max(d, 0.0) / 2;
		case VECX_METRIC_HAMMING:
			return Max(d, 0.0);	/* squared L2 of 0/1 vectors: bits */
		default:
			return sqrt(Max(d, 0.0));
	}
}

/*
 * The exact distance of a FLAT entry's vector from the query, computed as
 * the distance operator computes "column <op> query" (same kernels, same
 * operand order and rounding), so the index's order is the sort order of
 * a sequential scan.
 */
static double
FlatDistance(IvfpqScanOpaque so, const char *vec)
{
	int			d = so->dims;
	float		dot,
				aa,
				bb;
	double		sim;

	if (so->st.type == VECX_ELEM_BIT)
		return (double) vecx_kernels->hamming_bits((const uint8_t *) vec,
												   (const uint8_t *) so->rawquery,
												   so->st.vecbytes);
	if (so->st.type == VECX_ELEM_F16)
	{
		const vecx_half *x = (const vecx_half *) vec;
		const vecx_half *q = (const vecx_half *) so->rawquery;

		switch (so->st.metric)
		{
			case VECX_METRIC_L2:
				return sqrt((double) vecx_kernels->l2sq_f16(x, q, d));
			case VECX_METRIC_IP:
				return -(double) vecx_kernels->dot_f16(x, q, d);
			default:
				vecx_kernels->cos_f16(x, q, d, &dot, &aa, &bb);
				break;
		}
	}
	else
	{
		const float *x = (const float *) vec;
		const float *q = (const float *) so->rawquery;

		switch (so->st.metric)
		{
			case VECX_METRIC_L2:
				return sqrt((double) vecx_kernels->l2sq_f32(x, q, d));
			case VECX_METRIC_IP:
				return -(double) vecx_kernels->dot_f32(x, q, d);
			default:
				vecx_kernels->cos_f32(x, q, d, &dot, &aa, &bb);
				break;
		}
	}
	/* cosine, clamped as the operator does */
	sim = (double) dot / sqrt((double) aa * (double) bb);
	if (sim > 1.0)
		sim = 1.0;
	else if (sim < -1.0)
		sim = -1.0;
	return 1.0 - sim;
}

/*
 * How the entries of one probed list are scored: what ScanList's phases
 * (ListScoreBegin, then ScanBlockPage or ScanEntryPage for each page of
 * the list's chain) share.
 */
typedef struct IvfpqListScore
{
	IvfpqProbe *pr;				/* the list's refinement data */
	int			probe;			/* order index of the list */
	bool		score;			/* entries get a bound (trained, ordered) */
	bool		ip;				/* inner product */
	/* score every entry of the first lists, matching or not, for delta */
	bool		calibrate;
	const float *lut;			/* PQ: the float lookup table */
	double		scale;			/* fast-scan: quantization of the table */
	double		bias;
	/* no entry of the list is closer (exact order; see README) */
	double		listfloor;
	double		minall;			/* least bound seen, matching or not */
} IvfpqListScore;

/*
 * Prepare the scoring of list "list" (order index "probe", centroid
 * distance cdist): PQ lists get their lookup table (L2: from the residual
 * of the query; inner product: the query's table) and, for fast-scan, its
 * quantized copy.
 */
static void
ListScoreBegin(IvfpqScanOpaque so, IvfpqState *st, int probe, int list,
			   float cdist, IvfpqListScore *ls)
{
	IvfpqProbe *pr = &so->probes[probe];

	ls->pr = pr;
	ls->probe = probe;
	ls->ip = so->st.metric == VECX_METRIC_IP;
	ls->calibrate = so->filter != NULL && probe < so->firstlists &&
		so->mode != IVFPQ_ITERATIVE_OFF && !so->exact;
	ls->minall = get_float8_infinity();
	ls->listfloor = so->listlb ? so->listlb[probe] : -get_float8_infinity();
	ls->score = so->st.trained && !so->unordered;
	ls->lut = NULL;
	ls->scale = 1;
	ls->bias = 0;

	pr->qc = 0;
	pr->cnorm = 0;
	pr->lutno = -1;
	if (ls->score && !so->flat)
	{
		const float *c = st->centroids + (Size) list * so->st.dims;
		int			i;

		pr->cnorm = sqrt((double) st->cnorms[list]);
		if (ls->ip)
		{
			pr->qc = cdist;		/* q . c, computed when ordering lists */
			ls->lut = so->lut;
		}
		else
		{
			float	   *lut;

			for (i = 0; i < so->st.dims; i++)
				so->rq[i] = so->query[i] - c[i];
			so->lutbytes = sizeof(float) * so->st.m * so->st.ksub;
			pr->lutno = AddLut(so);
			lut = ProbeLut(so, pr);
			BuildLut(st, so->rq, lut, false);
			ls->lut = lut;
		}
		if (so->st.fastscan)
			ls->scale = QuantizeLut(so, ls->lut, so->qlut, &ls->bias);
	}
}

/*
 * Score the (at most 16) entries of one fast-scan block at src together.
 * The block is copied for later refinement while the copies stay within
 * work_mem; past that, entries keep their loose (valid) bound, so memory
 * stays bounded however many lists are probed.
 */
static void
ScanBlock(IvfpqScanOpaque so, IvfpqListScore *ls, char *src)
{
	double		neg_inf = -get_float8_infinity();
	double		half = 0.51 * so->st.m;
	int			n = IvfpqBlockCount(src);
	bool		keep;
	uint16		sums[IVFPQ_FS_SLOTS];
	bool		match[IVFPQ_FS_SLOTS];
	int			i;

	if (n == 0)
		return;
	if (so->filter)
	{
		int			nmatch = 0;

		for (i = 0; i < n; i++)
		{
			match[i] = VecxFilterMatch(so->filter, IvfpqBlockFilter(&so->st, src, i));
			nmatch += match[i] ? 1 : 0;
		}
		so->nfiltered += n - nmatch;
		if (nmatch == 0 && !ls->calibrate)
			return;				/* nothing here can be a candidate */
	}
	if (!ls->score)
	{
		/* an unordered scan: every entry, no bound */
		for (i = 0; i < n; i++)
		{
			IvfpqCandidate *cand;

			if (so->filter && !match[i])
				continue;
			cand = AddCandidate(so);
			memcpy(&cand->tid, IvfpqBlockTid(src, i), 6);
			cand->lb = neg_inf;
		}
		return;
	}
	keep = mul_size(so->nblocks + 1, so->st.blocksize) <=
		mul_size((Size) work_mem, 1024);
	if (keep)
	{
		char	   *copy = AddBlock(so, so->st.blocksize);

		memcpy(copy, src, so->st.blocksize);
		src = copy;
	}
	so->fastscan(IvfpqBlockCodes(src), so->qlut, so->st.ngroups, sums);
	for (i = 0; i < n; i++)
	{
		IvfpqCandidate *cand;
		float		err = IvfpqBlockErr(src)[i];
		float		norm = IvfpqBlockNorm(src)[i];
		double		est;
		double		lb;

		/* sum of the float table within the quantization error */
		if (ls->ip)
			est = ls->pr->qc + ls->bias + (sums[i] + half) / ls->scale;
		else
			est = ls->bias + (sums[i] - half) / ls->scale;
		lb = LowerBound(so, est, err, norm, ls->pr->cnorm);
		ls->minall = Min(ls->minall, lb);
		if (so->filter && !match[i])
			continue;
		cand = AddCandidate(so);
		memcpy(&cand->tid, IvfpqBlockTid(src, i), 6);
		cand->lb = Max(lb, ls->listfloor);
		cand->refine = keep;
		cand->slot = i;
		cand->block = so->nblocks - 1;
		cand->probe = ls->probe;
	}
}

/* Score every block of a fast-scan page (checked by IvfpqCheckDataPage). */
static void
ScanBlockPage(IvfpqScanOpaque so, IvfpqListScore *ls, Page page)
{
	int			b;

	for (b = 0; b < so->st.blocksperpage; b++)
		ScanBlock(so, ls, IvfpqPageBlock(&so->st, page, b));
}

/*
 * Score every entry of an item page: the float ADC bound (PQ), the exact
 * distance (FLAT), or no bound (unencoded entries, unordered scans).
 */
static void
ScanEntryPage(Relation index, IvfpqScanOpaque so, IvfpqListScore *ls,
			  Page page, BlockNumber blkno)
{
	double		neg_inf = -get_float8_infinity();
	OffsetNumber off,
				maxoff = PageGetMaxOffsetNumber(page);

	for (off = FirstOffsetNumber; off <= maxoff; off++)
	{
		IvfpqEntry *e = IvfpqGetEntry(index, page, blkno, off, so->st.entrysize);
		IvfpqCandidate *cand;
		double		lb;
		bool		match;

		if (e == NULL)
			continue;
		match = so->filter == NULL ||
			VecxFilterMatch(so->filter, IvfpqEntryFilter(&so->st, e));
		if (!match)
			so->nfiltered++;
		if (!match && !ls->calibrate)
			continue;
		if ((e->flags & IVFPQ_ENTRY_UNENCODED) || !ls->score)
			lb = neg_inf;
		else if (so->flat)
			lb = FlatDistance(so, IvfflatEntryVec(e));
		else
		{
			double		est = AdcSum(ls->lut, e->codes, so->st.m, so->st.nbits);

			if (ls->ip)
				est += ls->pr->qc;
			lb = LowerBound(so, est, e->err, e->norm, ls->pr->cnorm);
		}
		ls->minall = Min(ls->minall, lb);
		if (!match)
			continue;
		cand = AddCandidate(so);
		cand->tid = e->tid;
		cand->lb = Max(lb, ls->listfloor);
	}
}

/*
 * Ask the CPU for a page's memory ahead of its use.  Scoring FLAT entries
 * streams whole vectors from shared buffers (about 6 MB a query at probes
 * 8 on Fashion-MNIST), and the hardware prefetcher does not cross into a
 * page it has not seen: the next page of a list is requested while the
 * current one is scored.  Only the lines that hold data: the header and
 * line pointers, and from "upper" (the current page's pd_upper, a guess
 * that the next page of the list is filled alike) to the end: at 784
 * dimensions a quarter of a page is free space, and the scan is bound by
 * memory bandwidth.  The lines go to the L2 cache (locality 2: prefetcht1
 * on x86-64): a page's worth of prefetches into L1 (prefetcht0) stalled on
 * the few L1 fill buffers and left a query slower than no prefetch at all
 * (bench/results/README.md, ivfflat).  Prefetches are hints; they never
 * fault.
 */
static inline void
PrefetchPage(Page page, Size upper)
{
#if defined(__GNUC__)
	const char *p = (const char *) page;
	Size		off;

	__builtin_prefetch(p, 0, 2);
	for (off = Min(upper, BLCKSZ) & ~(Size) 63; off < BLCKSZ; off += 64)
		__builtin_prefetch(p + off, 0, 2);
#endif
}

/*
 * Score every entry of one list and add it to the candidates: prepare the
 * list's scoring, walk its chain page by page, then calibrate the merging
 * of later lists.
 */
static void
ScanList(IndexScanDesc scan, IvfpqState *st, int probe, int list, float cdist)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	Relation	index = scan->indexRelation;
	IvfpqListScore ls;
	IvfpqListDir dir;
	IvfpqChainWalk walk;
	BlockNumber blkno;
	Buffer		buf = InvalidBuffer;

	ListScoreBegin(so, st, probe, list, cdist, &ls);

	IvfpqReadDir(index, so->st.dirStart, list, &dir);
	blkno = dir.head;
	IvfpqChainStart(&walk, list);
	if (BlockNumberIsValid(blkno))
	{
		IvfpqChainStep(index, &walk, blkno);
		buf = IvfpqReadListPage(index, st, blkno);
	}
	while (BlockNumberIsValid(blkno))
	{
		Page		page;
		BlockNumber next;
		Buffer		nextbuf = InvalidBuffer;
		bool		fastscan;

		CHECK_FOR_INTERRUPTS();
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		fastscan = IvfpqCheckDataPage(index, &so->st, page, blkno, list) != NULL;
		next = IvfpqPageGetOpaque(page)->nextblkno;

		/*
		 * Pin the next page of the chain now and ask for its memory while
		 * this one is scored (see PrefetchPage).  Its contents are read
		 * only once it is locked, in the next turn.
		 */
		if (BlockNumberIsValid(next))
		{
			IvfpqChainStep(index, &walk, next);
			nextbuf = IvfpqReadListPage(index, st, next);
			PrefetchPage(BufferGetPage(nextbuf), ((PageHeader) page)->pd_upper);
		}
		if (fastscan)
			ScanBlockPage(so, &ls, page);
		else
			ScanEntryPage(index, so, &ls, page, blkno);
		UnlockReleaseBuffer(buf);
		buf = nextbuf;
		blkno = next;
	}

	/*
	 * Calibrate the merging of later lists (not for untrained indexes):
	 * from every entry of the first round's lists, from the candidates of
	 * later ones.
	 */
	if (ls.score && ls.minall < get_float8_infinity())
		so->delta = Max(so->delta, ListKey(so, probe) - ls.minall);
}

/*
 * Replace a candidate's fast-scan bound by the exact float ADC bound.
 */
static void
Refine(IvfpqScanOpaque so, IvfpqCandidate *cand)
{
	const char *blk = so->blocks + so->st.blocksize * cand->block;
	const uint8 *codes = IvfpqBlockCodes(blk);
	IvfpqProbe *pr = &so->probes[cand->probe];
	const float *lut = so->st.metric == VECX_METRIC_IP ? so->lut : ProbeLut(so, pr);
	int			slot = cand->slot;
	int			m = so->st.m;
	int			full = m / 4;
	float		s0 = 0,
				s1 = 0,
				s2 = 0,
				s3 = 0;
	double		est,
				lb;
	int			g,
				j;

	/* whole groups of four sub-vectors: two code bytes each */
	for (g = 0; g < full; g++)
	{
		uint8		b0 = codes[g * 32 + slot];
		uint8		b1 = codes[g * 32 + 16 + slot];
		const float *l = lut + g * 64;

		s0 += l[b0 & 15];
		s1 += l[16 + (b0 >> 4)];
		s2 += l[32 + (b1 & 15)];
		s3 += l[48 + (b1 >> 4)];
	}
	for (j = full * 4; j < m; j++)
		s0 += lut[j * 16 + vecx_pq_block_get(codes, j, slot)];
	est = ((double) s0 + s1) + ((double) s2 + s3);
	if (so->st.metric == VECX_METRIC_IP)
		est += pr->qc;
	lb = LowerBound(so, est, IvfpqBlockErr(blk)[slot], IvfpqBlockNorm(blk)[slot], pr->cnorm);
	/* both are valid bounds: keep the larger */
	cand->lb = Max(cand->lb, lb);
	cand->refine = false;
	so->nrefined++;
}

/* Probe one list (order index idx), merging its candidates into the heap. */
static void
ProbeOne(IndexScanDesc scan, IvfpqState *st, int idx)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	int			before = so->ncands;

	Assert(!so->probed[idx]);
	ScanList(scan, st, idx, so->order[idx].list, so->order[idx].dist);
	so->probed[idx] = true;
	so->nprobed++;
	so->nscored += so->ncands - before;
}

/* The next unprobed list in centroid order, or -1 */
static int
NextInOrder(IvfpqScanOpaque so)
{
	while (so->nextorder < so->norder && so->probed[so->nextorder])
		so->nextorder++;
	return so->nextorder < so->norder ? so->nextorder : -1;
}

/*
 * Probe the next "count" lists in centroid order (every list left if
 * count < 0) and heap the candidates: for iterative_scan = off a new round
 * (the candidates left are dropped, as with ivfpq.rerank), otherwise in
 * addition to those in the heap.
 */
static void
ProbeRound(IndexScanDesc scan, IvfpqState *st, int count)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	int			idx;

	if (so->mode == IVFPQ_ITERATIVE_OFF)
	{
		so->ncands = 0;
		so->nblocks = 0;
	}
	so->returned = 0;
	while (count != 0 && (idx = NextInOrder(so)) >= 0)
	{
		ProbeOne(scan, st, idx);
		count--;
	}
	Heapify(so->cands, so->ncands);
}

/*
 * The least bound of an unprobed list (exact order): no row of a list
 * not yet probed is closer.  +infinity once every list is probed.
 */
static double
NextListBound(IvfpqScanOpaque so)
{
	while (so->nextlb < so->norder && so->probed[so->bylb[so->nextlb]])
		so->nextlb++;
	if (so->nextlb >= so->norder)
		return get_float8_infinity();
	return so->listlb[so->bylb[so->nextlb]];
}

/*
 * Exact order: probe the unprobed list of least bound; once the scan has
 * probed ivfpq.max_probes lists, the exact pass: every list left at once.
 */
static void
ProbeExact(IndexScanDesc scan, IvfpqState *st)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	int			before = so->ncands;

	if (so->nprobed < so->maxlists)
	{
		(void) NextListBound(so);
		ProbeOne(scan, st, so->bylb[so->nextlb]);
		HeapMerge(so->cands, before, so->ncands);
		return;
	}
	else
	{
		int			idx;

		while ((idx = NextInOrder(so)) >= 0)
		{
			ProbeOne(scan, st, idx);
			so->nexact++;
		}
	}
	Heapify(so->cands, so->ncands);
}

static int
CompareListBound(const void *a, const void *b, void *arg)
{
	const double *keys = arg;
	double		x = keys[*(const int *) a];
	double		y = keys[*(const int *) b];

	if (x != y)
		return x < y ? -1 : 1;
	return *(const int *) a - *(const int *) b;
}

/*
 * Voronoi bounds (L2, cosine): every entry of list B was assigned to its
 * nearest centroid, so it lies in the half-space where c_B is at least as
 * near as c_A, A the query's nearest centroid, up to the float32 rounding
 * of the assignment (E below, from |x| <= |c_B| + r_B).  The query's
 * distance to that half-space bounds every row of B from below.
 */
#define VORONOI_SITES 4

static void
VoronoiBounds(IvfpqScanOpaque so, IvfpqState *st, const float *radius, int ai)
{
	int			a = so->order[ai].list;
	const float *ca = st->centroids + (Size) a * st->dims;
	double		ca2 = st->cnorms[a];
	double		da2 = so->order[ai].dist;
	double		gamma = 2.4e-7 * Max(st->dims, 1);
	double		rel = RelMargin(st->dims);
	int			i;

	for (i = ai + 1; i < so->norder; i++)
	{
		int			b = so->order[i].list;
		double		cb2 = st->cnorms[b];
		double		db2 = so->order[i].dist;
		double		ab2,
					sep,
					xmax,
					e,
					num,
					l2,
					lb;

		if (isinf(radius[b]))
			continue;
		ab2 = ca2 + cb2 - 2.0 * vecx_kernels->dot_f32(ca, st->centroids + (Size) b * st->dims, st->dims);
		sep = sqrt(Max(ab2, 0.0) + gamma * (ca2 + cb2 + 2 * sqrt(ca2 * cb2)));
		xmax = sqrt(cb2) + radius[b];
		e = gamma * (ca2 + cb2 + 2 * xmax * (sqrt(ca2) + sqrt(cb2))) + gamma * (da2 + db2);
		num = db2 - da2 - e;
		if (!(num > 0) || !(sep > 0))
			continue;
		l2 = num / (2 * sep);
		l2 = l2 - rel * l2 - 1e-5 * ((double) so->qnorm + xmax);
		if (!(l2 > 0))
			continue;
		lb = st->metric == VECX_METRIC_COSINE ? l2 * l2 / 2 - 1e-4 : l2;
		if (lb > so->listlb[i])
			so->listlb[i] = lb;
	}
}

/*
 * Per-list lower bounds for exact order: for list order[i] with centroid
 * c and radius r (every entry's IvfpqEntryReach, so |x - c| <= r), the
 * triangle inequality (L2, and cosine on unit vectors) and Cauchy-Schwarz
 * (inner product: -q.x >= -q.c - |q| r) bound every row's distance, with
 * LowerBound's rounding margins.  Radii are read from the directory after
 * the scan's snapshot was taken: a row visible to it was inserted, and its
 * list's radius grown, before.  Indexes without radii (version < 3) get no
 * bound: every list is probed before a row is returned.
 */
static void
ListBounds(IndexScanDesc scan, IvfpqState *st)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	Relation	index = scan->indexRelation;
	float	   *radius = palloc(mul_size(sizeof(float), st->lists));
	int			l,
				i;

	for (l = 0; l < st->lists; l++)
		radius[l] = get_float4_infinity();
	if (st->trained && st->hasradius)
	{
		for (l = 0; l < st->lists; l += IVFPQ_DIR_PER_PAGE)
		{
			BlockNumber blkno = st->dirStart + l / IVFPQ_DIR_PER_PAGE;
			Buffer		buf = ReadBuffer(index, blkno);
			Page		page;
			int			n = Min(IVFPQ_DIR_PER_PAGE, st->lists - l);

			LockBuffer(buf, BUFFER_LOCK_SHARE);
			page = BufferGetPage(buf);
			IvfpqCheckPage(index, page, blkno, IVFPQ_PAGE_DIRECTORY);
			for (i = 0; i < n; i++)
				memcpy(&radius[l + i], IvfpqRawData(page) + sizeof(IvfpqListDir) * i +
					   offsetof(IvfpqListDir, radius), sizeof(float));
			UnlockReleaseBuffer(buf);
		}
	}

	so->listlb = palloc(mul_size(sizeof(double), so->norder));
	so->bylb = palloc(mul_size(sizeof(int), so->norder));
	for (i = 0; i < so->norder; i++)
	{
		int			list = so->order[i].list;
		float		r = radius[list];
		double		cnorm = st->trained ? sqrt((double) st->cnorms[list]) : 0;

		if (!st->trained || !(r >= 0) || isinf(r) || so->unordered)
			so->listlb[i] = -get_float8_infinity();
		else
			so->listlb[i] = LowerBound(so, so->order[i].dist, r,
									   (float) (cnorm + r), cnorm);
		so->bylb[i] = i;
	}
	if (st->trained && st->metric != VECX_METRIC_IP && !so->unordered && so->norder > 1)
	{
		int			ai;

		for (ai = 0; ai < Min(VORONOI_SITES, so->norder - 1); ai++)
			VoronoiBounds(so, st, radius, ai);
	}
	qsort_arg(so->bylb, so->norder, sizeof(int), CompareListBound, so->listlb);
	pfree(radius);
}

/*
 * Order the lists by centroid distance (L2, or inner product for <#>).
 */
static void
OrderLists(IvfpqScanOpaque so, IvfpqState *st)
{
	int			l;

	so->order = palloc(mul_size(sizeof(IvfpqListOrder), st->lists));
	so->norder = st->lists;
	for (l = 0; l < st->lists; l++)
	{
		const float *c = st->centroids + (Size) l * st->dims;

		so->order[l].list = l;
		if (so->unordered)
			so->order[l].dist = 0;
		else if (st->metric == VECX_METRIC_IP)
			so->order[l].dist = -vecx_kernels->dot_f32(so->query, c, st->dims);
		else
			so->order[l].dist = vecx_kernels->l2sq_f32(so->query, c, st->dims);
	}
	qsort(so->order, st->lists, sizeof(IvfpqListOrder), CompareListOrder);
	if (st->metric == VECX_METRIC_IP)
	{
		/* ScanList and ListBounds want q . c */
		for (l = 0; l < st->lists; l++)
			so->order[l].dist = -so->order[l].dist;
	}
}

/*
 * Read the query into so->query.  A NULL query, a zero vector under cosine
 * and one too long for float32 arithmetic (IVFPQ_MAX_NORM) have no usable
 * order: the scan is then unordered, returning every entry with the
 * distance the executor will find (NULL; NaN for a zero cosine query) or,
 * for a long query, -infinity, below any distance, so that the executor
 * sorts the rows itself.
 */
static void
ReadQuery(IndexScanDesc scan, IvfpqState *st, Datum qdatum, bool qnull)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	double		rawnorm;

	if (qnull)
	{
		so->unordered = true;
		so->ordernull = true;
		return;
	}
	if (!st->trained)
		return;
	if (IvfpqDatumDims(st->kind, qdatum) != st->dims)
	{
		if (st->type == VECX_ELEM_BIT)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("different bit lengths %u and %u",
							(unsigned int) st->dims,
							(unsigned int) IvfpqDatumDims(st->kind, qdatum))));
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different vector dimensions %d and %d",
						st->dims, IvfpqDatumDims(st->kind, qdatum))));
	}
	if (so->flat)
	{
		so->rawquery = palloc(Max(st->vecbytes, 1));
		IvfpqDatumRaw(st->kind, qdatum, st->dims, so->rawquery);
	}
	so->query = palloc(mul_size(sizeof(float), st->dims));
	if (!IvfpqDatumToFloat(st, st->kind, qdatum, so->query, st->dims,
						   st->metric == VECX_METRIC_COSINE, &so->qnorm, &rawnorm))
	{
		so->unordered = true;
		so->orderval = get_float8_nan();
	}
	else if (!(rawnorm <= IVFPQ_MAX_NORM))
	{
		so->unordered = true;
		so->orderval = -get_float8_infinity();
	}
}

/*
 * First call: read the query, order the lists, probe the first ones.
 */
static void
StartScan(IndexScanDesc scan, IvfpqState *st)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	MemoryContext oldcxt = MemoryContextSwitchTo(so->cxt);

	so->started = true;
	so->st = *st;
	so->dims = st->dims;
	so->fastscan = vecx_pq_fastscan_select(vecx_kernels == &vecx_kernels_scalar);
	so->quantize = vecx_pq_quantize_select(vecx_kernels == &vecx_kernels_scalar);
	so->minmax = vecx_pq_minmax_select(vecx_kernels == &vecx_kernels_scalar);
	if (scan->numberOfKeys > 0)
	{
		ScanKey		rest;
		int			nrest;

		VecxRangeSplit(scan->keyData, scan->numberOfKeys, &so->range, &rest, &nrest);
		if (!so->range.empty && nrest > 0)
			so->filter = VecxFilterPrepare(scan->indexRelation, rest, nrest);
		if (so->range.empty || (so->filter != NULL && so->filter->empty))
		{
			/* a NULL comparison value, query or radius: nothing matches */
			so->done = true;
			MemoryContextSwitchTo(oldcxt);
			return;
		}
		if (so->filter != NULL && so->filter->nkeys == 0)
			so->filter = NULL;	/* only "vector IS NOT NULL": every entry */
	}
	if (scan->numberOfOrderBys > 0)
	{
		ScanKey		key = &scan->orderByData[0];

		ReadQuery(scan, st, key->sk_argument, (key->sk_flags & SK_ISNULL) != 0);
		so->rangeDrive = so->range.nkeys > 0 && !(key->sk_flags & SK_ISNULL) &&
			VecxRangeSameQuery(key->sk_argument, so->range.query);
	}
	else if (so->range.nkeys > 0)
	{
		ReadQuery(scan, st, so->range.query, false);
		so->rangeDrive = true;
	}
	else
	{
		/* no order and no range (the planner avoids it): every row, unordered */
		ReadQuery(scan, st, (Datum) 0, true);
	}
	/* without a usable order the executor's re-check does the filtering */
	if (so->unordered || !st->trained)
		so->rangeDrive = false;
	so->rangeLimit = VecxRangeLimit(so->range.radius);
	if (so->rangeDrive && so->mode != IVFPQ_ITERATIVE_OFF)
		so->exact = true;

	if (!st->trained)
	{
		/* Every entry is in list 0 and gets an unknown bound */
		so->order = palloc(sizeof(IvfpqListOrder));
		so->order[0].list = 0;
		so->order[0].dist = 0;
		so->norder = 1;
		so->qnorm = 0;
	}
	else
	{
		if (!so->unordered && !so->flat)
		{
			so->rq = palloc(mul_size(sizeof(float), st->dims));
			so->qlut = palloc0(mul_size(st->ngroups, 64));
			so->mins = palloc(mul_size(sizeof(float), Max(st->m, 1)));
			so->ranges = palloc(mul_size(sizeof(float), Max(st->m, 1)));
		}
		OrderLists(so, st);
		if (st->metric == VECX_METRIC_IP && !so->unordered && !so->flat)
		{
			so->lut = palloc(mul_size(mul_size(sizeof(float), st->m), st->ksub));
			BuildLut(st, so->query, so->lut, true);
		}
	}
	so->probes = palloc0(mul_size(sizeof(IvfpqProbe), so->norder));
	so->probed = palloc0(mul_size(sizeof(bool), so->norder));
	if (so->exact && !so->unordered)
		ListBounds(scan, st);
	MemoryContextSwitchTo(oldcxt);

	/* lists probed in rounds; past them, the exact pass (not for off) */
	if (so->mode == IVFPQ_ITERATIVE_OFF)
		so->maxlists = Min(so->set.probes, so->norder);
	else if (so->set.max_probes == 0)
		so->maxlists = so->norder;
	else
		so->maxlists = Min(Max(so->set.max_probes, so->set.probes), so->norder);

	so->firstlists = Min(so->set.probes, so->norder);
	if (so->unordered)
		ProbeRound(scan, st, -1);
	else
		ProbeRound(scan, st, so->firstlists);
	so->firstcands = so->ncands;
}

/*
 * Exact order: the next candidate that is final, i.e. whose bound no
 * unprobed list can undercut, probing lists until there is one.  NULL
 * when every list is probed and the heap is empty.
 */
static IvfpqCandidate *
NextExact(IndexScanDesc scan)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;

	for (;;)
	{
		IvfpqCandidate *top = so->ncands > 0 ? &so->cands[0] : NULL;
		double		next = NextListBound(so);

		if (top == NULL ? next < get_float8_infinity() : top->lb > next)
		{
			ProbeExact(scan, IvfpqGetState(scan->indexRelation));
			continue;
		}
		if (top == NULL)
			return NULL;
		if (top->refine)
		{
			Refine(so, top);
			SiftDown(so->cands, so->ncands, 0);
			continue;
		}
		return top;
	}
}

/*
 * Strict order, first run: put the heap's top aside for the exact pass
 * (it may be closer than a row the executor has emitted).
 */
static void
DeferTop(IvfpqScanOpaque so)
{
	so->late = GrowCandidates(so->cxt, so->late, so->nlate, &so->maxlate, NULL);
	so->late[so->nlate++] = so->cands[0];
	so->nlaterows++;
	so->cands[0] = so->cands[--so->ncands];
	SiftDown(so->cands, so->ncands, 0);
}

/*
 * The exact pass of the iterative modes: every list left at once, and,
 * under strict_order, the late rows back in the heap; from here on the
 * heap holds every row not yet returned and is drained by bound.
 */
static void
ExactPass(IndexScanDesc scan)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	int			before = so->nprobed;
	int			i;

	/* ivfflat.max_probes ends the scan: only the late rows are left */
	if (!so->set.hardmax || so->nprobed < so->maxlists)
		ProbeRound(scan, IvfpqGetState(scan->indexRelation), -1);
	so->nexact += so->nprobed - before;
	for (i = 0; i < so->nlate; i++)
		*AddCandidate(so) = so->late[i];
	if (so->nlate > 0)
		Heapify(so->cands, so->ncands);
	so->nlate = 0;
	so->final = true;
}

/*
 * off, relaxed_order and strict_order without exact_order: candidates by
 * bound, probing rounds of ivfpq.probes lists when the heap runs out (or
 * the rerank cap is reached).  off stops after the first round.  The
 * iterative modes keep what is left in the heap, merge nearby lists early
 * (delta) and end in the exact pass once ivfpq.max_probes lists are
 * probed or every list is; strict_order defers late rows to that pass.
 * So both return every row.
 */
static IvfpqCandidate *
NextByRounds(IndexScanDesc scan)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	bool		iterative = so->mode != IVFPQ_ITERATIVE_OFF;
	bool		strict = so->mode == IVFPQ_ITERATIVE_STRICT;

	for (;;)
	{
		IvfpqCandidate *top;
		int			next = NextInOrder(so);

		if (so->ncands == 0 || (so->set.rerank > 0 && so->returned >= so->set.rerank &&
								(!iterative || next >= 0)))
		{
			if (!iterative)
			{
				if (next < 0 || so->nprobed >= so->maxlists)
					return NULL;
				ProbeRound(scan, IvfpqGetState(scan->indexRelation),
						   Min(so->set.probes, so->maxlists - so->nprobed));
			}
			else if (so->final || (next < 0 && so->nlate == 0))
				return NULL;
			else if (next < 0 || so->nprobed >= so->maxlists)
				ExactPass(scan);
			else
				ProbeRound(scan, IvfpqGetState(scan->indexRelation),
						   Min(so->set.probes, so->maxlists - so->nprobed));
			continue;
		}
		top = &so->cands[0];

		/*
		 * Past the first round, the next list joins the heap once the best
		 * candidate's bound passes what its entries' best bound is likely
		 * to be (its centroid's score less the largest offset seen, with
		 * half of it again as a margin: lists differ in spread), so that
		 * rows come in bound order across lists rather than list by list,
		 * and strict_order rarely has to defer a row.  Only for scans that
		 * filter in the index, or once the executor has taken half of the
		 * first round's candidates (a filter on the table, or a large
		 * LIMIT): an unfiltered LIMIT k needs only the first round, and
		 * merging would probe lists for rows it never asks for.
		 */
		if (iterative && next >= 0 && so->nprobed < so->maxlists &&
			so->nprobed >= so->firstlists &&
			(so->filter != NULL || so->nreturned >= so->firstcands / 2) &&
			top->lb > ListKey(so, next) - so->delta - 0.5 * Max(so->delta, 0.0))
		{
			int			before = so->ncands;

			ProbeOne(scan, IvfpqGetState(scan->indexRelation), next);
			HeapMerge(so->cands, before, so->ncands);
			continue;
		}
		if (top->refine)
		{
			Refine(so, top);
			SiftDown(so->cands, so->ncands, 0);
			continue;
		}

		/*
		 * Strict order: the executor may have emitted every row whose
		 * exact distance is at most the bound returned last (maxret).  A
		 * candidate bounded below it (from a list probed after that) may
		 * be closer than one of them: it is late, kept for the exact
		 * pass rather than returned out of order or dropped.  Bounds of
		 * the first run thus never decrease.
		 */
		if (strict && !so->final && top->lb < so->maxret)
		{
			DeferTop(so);
			continue;
		}
		so->maxret = Max(so->maxret, top->lb);
		return top;
	}
}

bool
ivfpqgettuple(IndexScanDesc scan, ScanDirection dir)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	IvfpqCandidate *top;

	if (scan->numberOfOrderBys != 1 && !(scan->numberOfOrderBys == 0 && scan->numberOfKeys > 0 &&
											 scan->keyData[0].sk_attno == 1))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot scan %s index without order",
						so->flat ? "ivfflat" : "ivfpq")));
	if (!ScanDirectionIsForward(dir))
		elog(ERROR, "ivfpq index scans only go forward");

	if (!so->started)
	{
		/*
		 * The cached state is only used within this call: a relcache
		 * invalidation between calls may free it.
		 */
		pgstat_count_index_scan(scan->indexRelation);
		StartScan(scan, IvfpqGetState(scan->indexRelation));
	}
	if (so->done)
		return false;

	if (so->unordered)
		top = so->ncands > 0 ? &so->cands[0] : NULL;	/* all lists probed */
	else if (so->exact)
		top = NextExact(scan);
	else
		top = NextByRounds(scan);
	if (top == NULL || (so->rangeDrive && top->lb > so->rangeLimit))
	{
		/* in exact order and off, every later row is as far: the end */
		so->done = true;
		return false;
	}

	scan->xs_heaptid = top->tid;
	scan->xs_recheck = (so->filter != NULL && so->filter->lossy) || so->range.nkeys > 0;
	/* FLAT values are the exact distances; untrained entries have none */
	scan->xs_recheckorderby = !(so->flat && so->st.trained && !so->unordered);
	if (so->unordered)
	{
		scan->xs_orderbyvals[0] = Float8GetDatum(so->orderval);
		scan->xs_orderbynulls[0] = so->ordernull;
	}
	else
	{
		scan->xs_orderbyvals[0] = Float8GetDatum(top->lb);
		scan->xs_orderbynulls[0] = false;
	}
	so->returned++;
	so->nreturned++;

	/* pop */
	so->cands[0] = so->cands[--so->ncands];
	SiftDown(so->cands, so->ncands, 0);
	return true;
}

void
ivfpqendscan(IndexScanDesc scan)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;

	elog(DEBUG2, "ivfpq scan: %d lists (%lld in the exact pass), %lld entries scored, %lld filtered out, %lld refined, %lld returned, %lld deferred",
		 so->nprobed, (long long) so->nexact, (long long) so->nscored,
		 (long long) so->nfiltered, (long long) so->nrefined, (long long) so->nreturned,
		 (long long) so->nlaterows);
	ReportStats(scan, so);
	MemoryContextDelete(so->cxt);
	pfree(so);
	scan->opaque = NULL;
}
