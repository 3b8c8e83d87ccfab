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
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "access/relscan.h"
#include "access/tableam.h"
#include "catalog/index.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "utils/float.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "ivfpq.h"
#include "../hnsw/hnswfilter.h"
#include "simd/pq.h"
#include "simd/simd.h"

typedef struct IvfpqCandidate
{
	double		lb;				/* lower bound of the exact distance */
	ItemPointerData tid;
	bool		refine;			/* lb is the loose fast-scan bound */
	bool		exact;			/* lb is the exact distance (read from the heap) */
	uint8		slot;			/* slot in the block copy */
	int32		block;			/* block copy index */
	int32		probe;			/* index into the per-list data */
} IvfpqCandidate;

/* What refinement needs of each probed list */
typedef struct IvfpqProbe
{
	double		qc;				/* q . c (inner product) */
	double		cnorm;			/* |c| */
	float	   *lut;			/* m * ksub float table (L2; NULL for ip) */
} IvfpqProbe;

typedef struct IvfpqListOrder
{
	float		dist;
	int			list;
} IvfpqListOrder;

/* A returned row whose exact distance may still matter (strict order) */
typedef struct IvfpqReturned
{
	ItemPointerData tid;
	bool		known;			/* dist is its exact distance */
	double		dist;
} IvfpqReturned;

typedef struct IvfpqScanOpaqueData
{
	MemoryContext cxt;			/* reset by rescan */
	MemoryContext tmpcxt;		/* per heap fetch */
	HnswFilter *filter;			/* scan keys on filter columns, or NULL */
	int			maxlists;		/* lists the scan may visit in all */
	int			firstlists;		/* lists of the first round (ivfpq.probes) */
	int			firstcands;		/* candidates of the first round */

	/*
	 * Merging later lists by bound: how much lower than its centroid's
	 * score (ListKey) the best bound of a probed list came out, at most.
	 * The next list is probed once the best candidate's bound passes the
	 * next centroid's score minus this, so that an iterative scan returns
	 * rows of nearby lists in bound order instead of draining each round.
	 */
	double		delta;

	/*
	 * Strict order across probe rounds (see README): maxret is the largest
	 * bound returned so far; no row the executor has emitted is farther.
	 * A candidate of a later round whose bound is below it is checked
	 * against the heap: kept if its exact distance is at least that of
	 * every row the executor may have emitted (emitted, computed lazily
	 * from ret[]), else skipped.
	 */
	double		maxret;
	double		emitted;
	double		emittedAt;		/* maxret when emitted was computed */
	IvfpqReturned *ret;
	int			nret;
	int			maxretrows;

	/* heap access for those checks, kept across rescans */
	IndexFetchTableData *fetch;
	TupleTableSlot *slot;
	IndexInfo  *indexInfo;		/* expression indexes */
	EState	   *estate;

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
	IvfpqProbe *probes;			/* per probed list, indexed by probe number */
	char	   *blocks;			/* copies of fast-scan blocks */
	int			nblocks;
	int			maxblocks;
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
	int64		nheap;			/* heap reads for strict order */
	int64		nskipped;		/* rows skipped for strict order */
} IvfpqScanOpaqueData;

typedef IvfpqScanOpaqueData *IvfpqScanOpaque;

IndexScanDesc
ivfpqbeginscan(Relation index, int nkeys, int norderbys)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	IvfpqScanOpaque so = palloc0(sizeof(IvfpqScanOpaqueData));

	so->cxt = AllocSetContextCreate(CurrentMemoryContext, "ivfpq scan",
									ALLOCSET_DEFAULT_SIZES);
	so->tmpcxt = AllocSetContextCreate(CurrentMemoryContext, "ivfpq scan tuple",
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
	so->ncands = so->maxcands = so->returned = 0;
	so->norder = so->nprobed = 0;
	so->nrefined = so->nreturned = so->nscored = 0;
	so->nfiltered = so->nheap = so->nskipped = 0;
	so->filter = NULL;
	so->maxlists = 0;
	so->delta = -get_float8_infinity();
	so->firstlists = 0;
	so->firstcands = 0;
	so->maxret = -get_float8_infinity();
	so->emitted = -get_float8_infinity();
	so->emittedAt = -get_float8_infinity();
	so->ret = NULL;
	so->nret = so->maxretrows = 0;
	if (so->slot)
		ExecClearTuple(so->slot);
	so->lut = so->rq = NULL;
	so->qlut = NULL;
	so->probes = NULL;
	so->blocks = NULL;
	so->nblocks = so->maxblocks = 0;

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

static IvfpqCandidate *
AddCandidate(IvfpqScanOpaque so)
{
	IvfpqCandidate *c;

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
	c = &so->cands[so->ncands++];
	c->refine = false;
	c->exact = false;
	c->slot = 0;
	c->block = -1;
	c->probe = -1;
	return c;
}

/*
 * Block copies take about a megabyte per query.  Allocating that afresh
 * for every scan costs page faults (large chunks are mmap'ed), so one
 * buffer per backend is kept across scans and lent to one scan at a time;
 * a callback on the scan's memory context returns it, also on error.
 */
static char *block_cache = NULL;
static Size block_cache_size = 0;
static bool block_cache_busy = false;

#define IVFPQ_BLOCK_CACHE_MAX	((Size) 64 * 1024 * 1024)

static void
ReleaseBlockCache(void *arg)
{
	block_cache_busy = false;
}

/* Room for one more block copy; returns its address. */
static char *
AddBlock(IvfpqScanOpaque so, Size blocksize)
{
	if (so->nblocks == so->maxblocks)
	{
		int			newmax = so->maxblocks == 0 ? 256 : so->maxblocks * 2;
		Size		bytes = mul_size(blocksize, newmax);

		if (so->blocks == NULL && !block_cache_busy && bytes <= IVFPQ_BLOCK_CACHE_MAX)
		{
			/* borrow the backend's buffer */
			MemoryContextCallback *cb = MemoryContextAlloc(so->cxt, sizeof(MemoryContextCallback));

			if (block_cache_size < bytes)
			{
				if (block_cache)
					pfree(block_cache);
				block_cache = NULL;
				block_cache_size = 0;
				block_cache = MemoryContextAllocHuge(TopMemoryContext, bytes);
				block_cache_size = bytes;
			}
			block_cache_busy = true;
			cb->func = ReleaseBlockCache;
			cb->arg = NULL;
			MemoryContextRegisterResetCallback(so->cxt, cb);
			so->blocks = block_cache;
			so->maxblocks = (int) (block_cache_size / blocksize);
		}
		else if (so->blocks == NULL)
		{
			so->blocks = MemoryContextAllocHuge(so->cxt, bytes);
			so->maxblocks = newmax;
		}
		else if (so->blocks == block_cache && bytes <= IVFPQ_BLOCK_CACHE_MAX)
		{
			/* grow the borrowed buffer, keeping its contents */
			block_cache = repalloc_huge(block_cache, bytes);
			block_cache_size = bytes;
			so->blocks = block_cache;
			so->maxblocks = newmax;
		}
		else
		{
			char	   *nb = MemoryContextAllocHuge(so->cxt, bytes);

			memcpy(nb, so->blocks, blocksize * so->nblocks);
			if (so->blocks != block_cache)
				pfree(so->blocks);
			so->blocks = nb;
			so->maxblocks = newmax;
		}
	}
	return so->blocks + blocksize * so->nblocks++;
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

	if (so->st.metric == IVFPQ_METRIC_IP)
		lb = -est - (double) so->qnorm * err -
			rel * so->qnorm * ((double) norm + cnorm + err);
	else
	{
		double		d = sqrt(Max(0.0, est));
		double		l2 = d - err - rel * (d + err) - 1e-5 * ((double) so->qnorm + norm);

		if (so->st.metric == IVFPQ_METRIC_COSINE)
		{
			l2 = Max(l2, 0.0);
			lb = l2 * l2 / 2 - 1e-4;
		}
		else
			lb = l2;
	}

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
		case IVFPQ_METRIC_IP:
			return -d;			/* order[].dist holds q . c */
		case IVFPQ_METRIC_COSINE:
			return Max(d, 0.0) / 2;
		default:
			return sqrt(Max(d, 0.0));
	}
}

/*
 * Score every entry of one list and add it to the candidates.
 */
static void
ScanList(IndexScanDesc scan, IvfpqState *st, int probe, int list, float cdist)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	Relation	index = scan->indexRelation;
	IvfpqProbe *pr = &so->probes[probe];
	IvfpqListDir dir;
	IvfpqChainWalk walk;
	BlockNumber blkno;
	double		neg_inf = -get_float8_infinity();
	bool		ip = so->st.metric == IVFPQ_METRIC_IP;
	const float *lut = NULL;
	double		scale = 1,
				bias = 0;
	/* score every entry of the first lists, matching or not, for delta */
	bool		calibrate = so->filter != NULL && probe < so->firstlists;
	double		minall = get_float8_infinity();

	pr->qc = 0;
	pr->cnorm = 0;
	pr->lut = NULL;
	if (so->st.trained)
	{
		const float *c = st->centroids + (Size) list * so->st.dims;
		int			i;

		pr->cnorm = sqrt((double) st->cnorms[list]);
		if (ip)
		{
			pr->qc = cdist;		/* q . c, computed when ordering lists */
			lut = so->lut;
		}
		else
		{
			for (i = 0; i < so->st.dims; i++)
				so->rq[i] = so->query[i] - c[i];
			pr->lut = MemoryContextAlloc(so->cxt, sizeof(float) * so->st.m * so->st.ksub);
			BuildLut(st, so->rq, pr->lut, false);
			lut = pr->lut;
		}
		if (so->st.fastscan)
			scale = QuantizeLut(so, lut, so->qlut, &bias);
	}

	IvfpqReadDir(index, so->st.dirStart, list, &dir);
	blkno = dir.head;
	IvfpqChainStart(&walk, list);
	while (BlockNumberIsValid(blkno))
	{
		Buffer		buf;
		Page		page;
		char	   *blk;
		BlockNumber next;

		CHECK_FOR_INTERRUPTS();
		IvfpqChainStep(index, &walk, blkno);
		buf = ReadBuffer(index, blkno);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		blk = IvfpqCheckDataPage(index, &so->st, page, blkno, list);
		next = IvfpqPageGetOpaque(page)->nextblkno;

		if (blk != NULL)
		{
			/*
			 * Fast-scan blocks: score 16 entries at once.  Each block is
			 * copied for later refinement while the copies stay within
			 * work_mem; past that, entries keep their loose (valid) bound,
			 * so memory stays bounded however many lists are probed.
			 */
			double		half = 0.51 * so->st.m;
			int			b;

			for (b = 0; b < so->st.blocksperpage; b++)
			{
				char	   *src = IvfpqPageBlock(&so->st, page, b);
				int			n = IvfpqBlockCount(src);
				bool		keep;
				uint16		sums[IVFPQ_FS_SLOTS];
				bool		match[IVFPQ_FS_SLOTS];
				int			i;

				if (n == 0)
					continue;
				if (so->filter)
				{
					int			nmatch = 0;

					for (i = 0; i < n; i++)
					{
						match[i] = HnswFilterMatch(so->filter, IvfpqBlockFilter(&so->st, src, i));
						nmatch += match[i] ? 1 : 0;
					}
					so->nfiltered += n - nmatch;
					if (nmatch == 0 && !calibrate)
						continue;	/* nothing here can be a candidate */
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
					if (ip)
						est = pr->qc + bias + (sums[i] + half) / scale;
					else
						est = bias + (sums[i] - half) / scale;
					lb = LowerBound(so, est, err, norm, pr->cnorm);
					minall = Min(minall, lb);
					if (so->filter && !match[i])
						continue;
					cand = AddCandidate(so);
					memcpy(&cand->tid, IvfpqBlockTid(src, i), 6);
					cand->lb = lb;
					cand->refine = keep;
					cand->slot = i;
					cand->block = so->nblocks - 1;
					cand->probe = probe;
				}
			}
			UnlockReleaseBuffer(buf);
		}
		else
		{
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
					HnswFilterMatch(so->filter, IvfpqEntryFilter(&so->st, e));
				if (!match)
					so->nfiltered++;
				if (!match && !calibrate)
					continue;
				if ((e->flags & IVFPQ_ENTRY_UNENCODED) || !so->st.trained)
					lb = neg_inf;
				else
				{
					double		est = AdcSum(lut, e->codes, so->st.m, so->st.nbits);

					if (ip)
						est += pr->qc;
					lb = LowerBound(so, est, e->err, e->norm, pr->cnorm);
				}
				minall = Min(minall, lb);
				if (!match)
					continue;
				cand = AddCandidate(so);
				cand->tid = e->tid;
				cand->lb = lb;
			}
			UnlockReleaseBuffer(buf);
		}
		blkno = next;
	}

	/*
	 * Calibrate the merging of later lists (not for untrained indexes):
	 * from every entry of the first round's lists, from the candidates of
	 * later ones.
	 */
	if (so->st.trained && so->order != NULL && minall < get_float8_infinity() &&
		!isnan(minall))
		so->delta = Max(so->delta, ListKey(so, probe) - minall);
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
	const float *lut = so->st.metric == IVFPQ_METRIC_IP ? so->lut : pr->lut;
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
	if (so->st.metric == IVFPQ_METRIC_IP)
		est += pr->qc;
	lb = LowerBound(so, est, IvfpqBlockErr(blk)[slot], IvfpqBlockNorm(blk)[slot], pr->cnorm);
	/* both are valid bounds: keep the larger */
	cand->lb = Max(cand->lb, lb);
	cand->refine = false;
	so->nrefined++;
}

/*
 * HeapDistance
 *		The exact distance of a row, read from the heap as the executor
 *		would compute it (the ordering operator's function on the indexed
 *		value); false if the row is not visible to the scan's snapshot.
 */
static bool
HeapDistance(IndexScanDesc scan, ItemPointer tid, double *dist)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	Relation	index = scan->indexRelation;
	ScanKey		key = &scan->orderByData[0];
	ItemPointerData t = *tid;
	bool		call_again = false;
	bool		all_dead = false;
	bool		found;
	Datum		value;
	bool		isnull;
	MemoryContext oldcxt;

	if (so->fetch == NULL)
	{
		/* in the scan's long-lived context: rescans keep them */
		oldcxt = MemoryContextSwitchTo(GetMemoryChunkContext(so));
		so->fetch = table_index_fetch_begin(scan->heapRelation);
		so->slot = table_slot_create(scan->heapRelation, NULL);
		if (index->rd_index->indkey.values[0] == 0)
		{
			so->indexInfo = BuildIndexInfo(index);
			so->estate = CreateExecutorState();
		}
		MemoryContextSwitchTo(oldcxt);
	}

	oldcxt = MemoryContextSwitchTo(so->tmpcxt);
	found = table_index_fetch_tuple(so->fetch, &t, scan->xs_snapshot, so->slot,
									&call_again, &all_dead);
	so->nheap++;
	if (found)
	{
		if (so->indexInfo)
		{
			Datum		values[INDEX_MAX_KEYS];
			bool		isnulls[INDEX_MAX_KEYS];
			ExprContext *econtext = GetPerTupleExprContext(so->estate);

			econtext->ecxt_scantuple = so->slot;
			FormIndexDatum(so->indexInfo, so->slot, so->estate, values, isnulls);
			value = values[0];
			isnull = isnulls[0];
		}
		else
			value = slot_getattr(so->slot, index->rd_index->indkey.values[0], &isnull);
		if (isnull)
			found = false;
		else
			*dist = DatumGetFloat8(FunctionCall2Coll(&key->sk_func, key->sk_collation,
													 value, key->sk_argument));
	}
	ExecClearTuple(so->slot);
	if (so->estate)
		ResetPerTupleExprContext(so->estate);
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(so->tmpcxt);
	return found;
}

/* Remember a returned row for EmittedBound. */
static void
RememberReturned(IvfpqScanOpaque so, ItemPointer tid, bool known, double dist)
{
	IvfpqReturned *r;

	if (so->nret == so->maxretrows)
	{
		int			newmax = so->maxretrows == 0 ? 256 : so->maxretrows * 2;

		if ((Size) newmax > MaxAllocHugeSize / sizeof(IvfpqReturned))
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("too many rows returned by an ivfpq scan")));
		if (so->ret == NULL)
			so->ret = MemoryContextAllocHuge(so->cxt, sizeof(IvfpqReturned) * newmax);
		else
			so->ret = repalloc_huge(so->ret, sizeof(IvfpqReturned) * newmax);
		so->maxretrows = newmax;
	}
	r = &so->ret[so->nret++];
	r->tid = *tid;
	r->known = known;
	r->dist = dist;
}

/*
 * EmittedBound
 *		An upper bound of the exact distance of every row the executor may
 *		have emitted so far.  The executor emits a row once its exact
 *		distance is at most the bound the index returned last, so only rows
 *		returned with an exact distance <= maxret can have been emitted.
 *		Their exact distances are read from the heap once; a row farther
 *		than maxret stays listed (a later, larger maxret may cover it).
 */
static double
EmittedBound(IndexScanDesc scan)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	int			i,
				keep = 0;

	if (so->emittedAt == so->maxret)
		return so->emitted;
	for (i = 0; i < so->nret; i++)
	{
		IvfpqReturned *r = &so->ret[i];

		CHECK_FOR_INTERRUPTS();
		if (!r->known)
		{
			if (!HeapDistance(scan, &r->tid, &r->dist))
				continue;		/* not visible: never emitted */
			r->known = true;
		}
		if (r->dist <= so->maxret)
			so->emitted = Max(so->emitted, r->dist);
		else
			so->ret[keep++] = *r;
	}
	so->nret = keep;
	so->emittedAt = so->maxret;
	return so->emitted;
}

/*
 * Probe the next lists (up to "count") and heap the new candidates: a new
 * round (the candidates left are dropped, as with ivfpq.rerank), or, with
 * merge, in addition to the candidates in the heap.
 */
static void
ProbeLists(IndexScanDesc scan, IvfpqState *st, int count, bool merge)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	int			end = Min(so->norder, so->nprobed + count);
	int			before;

	if (!merge)
	{
		so->ncands = 0;
		so->nblocks = 0;
		so->returned = 0;
	}
	before = so->ncands;
	for (; so->nprobed < end; so->nprobed++)
		ScanList(scan, st, so->nprobed, so->order[so->nprobed].list, so->order[so->nprobed].dist);
	so->nscored += so->ncands - before;
	Heapify(so->cands, so->ncands);
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
	so->st = *st;
	so->dims = st->dims;
	so->fastscan = vecx_pq_fastscan_select(vecx_kernels == &vecx_kernels_scalar);
	so->quantize = vecx_pq_quantize_select(vecx_kernels == &vecx_kernels_scalar);
	so->minmax = vecx_pq_minmax_select(vecx_kernels == &vecx_kernels_scalar);
	if (key->sk_flags & SK_ISNULL)
	{
		so->done = true;
		MemoryContextSwitchTo(oldcxt);
		return;
	}
	if (scan->numberOfKeys > 0)
	{
		so->filter = HnswFilterPrepare(scan->indexRelation, scan->keyData, scan->numberOfKeys);
		if (so->filter->empty)
		{
			/* a NULL comparison value: nothing matches */
			so->done = true;
			MemoryContextSwitchTo(oldcxt);
			return;
		}
	}

	if (!st->trained)
	{
		/* Every entry is in list 0 and gets an unknown bound */
		so->order = palloc(sizeof(IvfpqListOrder));
		so->order[0].list = 0;
		so->order[0].dist = 0;
		so->norder = 1;
		so->qnorm = 0;
		so->probes = palloc0(sizeof(IvfpqProbe));
		so->maxlists = 1;
		MemoryContextSwitchTo(oldcxt);
		ProbeLists(scan, st, 1, false);
		return;
	}

	so->query = palloc(mul_size(sizeof(float), st->dims));
	so->rq = palloc(mul_size(sizeof(float), st->dims));
	so->qlut = palloc0(mul_size(st->ngroups, 64));
	so->mins = palloc(mul_size(sizeof(float), Max(st->m, 1)));
	so->ranges = palloc(mul_size(sizeof(float), Max(st->m, 1)));
	so->probes = palloc0(mul_size(sizeof(IvfpqProbe), st->lists));
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
		so->lut = palloc(mul_size(mul_size(sizeof(float), st->m), st->ksub));
		BuildLut(st, so->query, so->lut, true);
	}
	MemoryContextSwitchTo(oldcxt);

	/* how far an iterative scan may go */
	if (ivfpq_iterative_scan == IVFPQ_ITERATIVE_OFF)
		so->maxlists = Min(ivfpq_probes, st->lists);
	else if (ivfpq_max_probes == 0)
		so->maxlists = st->lists;
	else
		so->maxlists = Min(Max(ivfpq_max_probes, ivfpq_probes), st->lists);

	so->firstlists = Min(ivfpq_probes, st->lists);
	ProbeLists(scan, st, so->firstlists, false);
	so->firstcands = so->ncands;
}

bool
ivfpqgettuple(IndexScanDesc scan, ScanDirection dir)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	IvfpqCandidate *top;

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

	for (;;)
	{
		if (so->ncands == 0 || (ivfpq_rerank > 0 && so->returned >= ivfpq_rerank))
		{
			/* Iterative scan: continue with the next lists, if allowed */
			if (so->nprobed >= so->maxlists)
			{
				so->done = true;
				return false;
			}
			ProbeLists(scan, IvfpqGetState(scan->indexRelation),
					   Min(ivfpq_probes, so->maxlists - so->nprobed), false);
			continue;
		}
		top = &so->cands[0];

		/*
		 * Past the first round, the next list joins the heap once the best
		 * candidate's bound passes what its entries' best bound is likely
		 * to be (its centroid's score less the largest offset seen, with
		 * half of it again as a margin: lists differ in spread), so that
		 * rows come in bound order across lists rather than list by list;
		 * strict order then rarely has to skip a row.  Only for scans that
		 * filter in the index, or once the executor has taken half of the
		 * first round's candidates (a filter on the table, or a large
		 * LIMIT): an unfiltered LIMIT k needs only the first round, and
		 * merging would probe lists for rows it never asks for.
		 */
		if (so->nprobed < so->maxlists && so->nprobed >= so->firstlists &&
			(so->filter != NULL || so->nreturned >= so->firstcands / 2) &&
			so->nprobed < so->norder &&
			top->lb > ListKey(so, so->nprobed) - so->delta - 0.5 * Max(so->delta, 0.0))
		{
			ProbeLists(scan, IvfpqGetState(scan->indexRelation), 1, true);
			continue;
		}
		if (top->refine)
		{
			Refine(so, top);
			SiftDown(so->cands, so->ncands, 0);
			continue;
		}

		/*
		 * Strict order: a candidate of a later round whose bound is below
		 * one already returned may be closer than rows the executor has
		 * emitted.  Its exact distance decides: at least that of every
		 * row possibly emitted, it is returned in order (its bound becomes
		 * its exact distance); else it is skipped.  Within one round,
		 * bounds come out of the heap in order and this never triggers.
		 */
		if (!top->exact && top->lb < so->maxret &&
			ivfpq_iterative_scan == IVFPQ_ITERATIVE_STRICT)
		{
			double		d;
			bool		keep = false;

			if (scan->heapRelation != NULL && HeapDistance(scan, &top->tid, &d))
			{
				keep = d >= so->maxret || d >= EmittedBound(scan);
				top->lb = d;
				top->exact = true;
			}
			if (!keep)
			{
				so->nskipped++;
				so->cands[0] = so->cands[--so->ncands];
			}
			SiftDown(so->cands, so->ncands, 0);
			continue;
		}
		break;
	}

	scan->xs_heaptid = top->tid;
	scan->xs_recheck = so->filter != NULL && so->filter->lossy;
	scan->xs_recheckorderby = true;
	/* overflowing magnitudes give no usable bound: let the executor decide */
	if (isnan(top->lb))
		top->lb = -get_float8_infinity();
	scan->xs_orderbyvals[0] = Float8GetDatum(top->lb);
	scan->xs_orderbynulls[0] = false;
	so->maxret = Max(so->maxret, top->lb);
	if (ivfpq_iterative_scan == IVFPQ_ITERATIVE_STRICT && so->maxlists > so->nprobed)
		RememberReturned(so, &top->tid, top->exact, top->lb);
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

	elog(DEBUG2, "ivfpq scan: %d lists, %lld entries scored, %lld filtered out, %lld refined, %lld returned, %lld heap reads, %lld skipped",
		 so->nprobed, (long long) so->nscored, (long long) so->nfiltered, (long long) so->nrefined,
		 (long long) so->nreturned, (long long) so->nheap, (long long) so->nskipped);
	if (so->slot)
		ExecDropSingleTupleTableSlot(so->slot);
	if (so->fetch)
		table_index_fetch_end(so->fetch);
	if (so->estate)
		FreeExecutorState(so->estate);
	MemoryContextDelete(so->tmpcxt);
	MemoryContextDelete(so->cxt);
	pfree(so);
	scan->opaque = NULL;
}
