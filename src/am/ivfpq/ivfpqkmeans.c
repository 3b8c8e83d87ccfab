/*-------------------------------------------------------------------------
 *
 * ivfpqkmeans.c
 *	  k-means for the coarse quantizer and the product-quantizer codebooks,
 *	  and encoding of residuals.
 *
 * Assignment is a matrix product: |x - c|^2 = |x|^2 + |c|^2 - 2 x.c, and
 * |x|^2 does not change the argmin, so the distances of a block of rows to
 * every centroid come from one cblas_sgemm call.
 *
 * Under vecx.gpu (auto with a device, or on) the assignment, the centroid
 * update, the bit re-seed's distances and the PQ encoding of rows go to
 * vecx_gpu.so (src/gpu/gpuload.c); the code here stays the reference and
 * runs whenever the GPU is off, absent, or failed under auto.  Update,
 * re-seed and encoding give bitwise these functions' results; the
 * assignment is the exact L2 argmin, which the sgemm expansion can miss
 * at near-ties (README, "GPU").
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <cblas.h>
#include <float.h>
#include <math.h>

#include "common/pg_prng.h"
#include "miscadmin.h"
#include "utils/memutils.h"

#include "gpu/gpuload.h"
#include "ivfpq.h"
#include "simd/simd.h"

/* Rows per sgemm call: bounded so that the distance block stays small. */
static int
AssignChunk(int n, int k)
{
	int			chunk = (int) Max(1, Min(1024, (1 << 22) / Max(k, 1)));

	return Min(chunk, Max(n, 1));
}

Size
IvfpqAssignWorkSize(int n, int k)
{
	return mul_size(mul_size(sizeof(float), AssignChunk(n, k)), k);
}

/*
 * IvfpqAssign
 *		Nearest centroid (L2) of each of n rows.  work holds
 *		IvfpqAssignWorkSize(n, k) bytes.
 */
void
IvfpqAssign(const float *x, int n, int d, const float *centroids,
			const float *cnorms, int k, int *assign, float *work)
{
	int			chunk = AssignChunk(n, k);
	int			start;

	/* vecx.gpu: exact L2 argmin on a device, when there is one */
	if (VecxGpuAssign(x, n, d, centroids, k, assign))
		return;

	for (start = 0; start < n; start += chunk)
	{
		int			rows = Min(chunk, n - start);
		int			i;

		CHECK_FOR_INTERRUPTS();
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, k, d,
					-2.0f, x + (Size) start * d, d, centroids, d,
					0.0f, work, k);
		for (i = 0; i < rows; i++)
		{
			const float *dist = work + (Size) i * k;
			float		best = FLT_MAX;
			int			bestj = 0;
			int			j;

			for (j = 0; j < k; j++)
			{
				float		v = dist[j] + cnorms[j];

				if (v < best)
				{
					best = v;
					bestj = j;
				}
			}
			assign[start + i] = bestj;
		}
	}
}

/*
 * Binary centroids (bit vectors, unpacked to 0/1): each coordinate becomes
 * the majority of its cluster, 1 when at least half the rows have it set.
 * That is the centroid minimizing the sum of Hamming distances to the
 * rows, so Lloyd's iterations with it are k-medians in Hamming space, and
 * squared L2 distances between 0/1 rows and 0/1 centroids are exact
 * Hamming distances (also through sgemm: small integers are exact in
 * float32).
 */
static void
Binarize(float *c, Size n)
{
	Size		i;

	for (i = 0; i < n; i++)
		c[i] = c[i] >= 0.5f ? 1.0f : 0.0f;
}

/* Seed the k centroids with k distinct rows (partial Fisher-Yates shuffle) */
static void
KmeansSeed(const float *x, int n, int d, int k, float *centroids, pg_prng_state *rng)
{
	int		   *perm = palloc_extended(mul_size(sizeof(int), n), MCXT_ALLOC_HUGE);
	int			i;

	for (i = 0; i < n; i++)
		perm[i] = i;
	for (i = 0; i < k; i++)
	{
		int			j = (int) pg_prng_uint64_range(rng, i, n - 1);
		int			t = perm[i];

		perm[i] = perm[j];
		perm[j] = t;
		memcpy(centroids + (Size) i * d, x + (Size) perm[i] * d, sizeof(float) * d);
	}
	pfree(perm);
}

/*
 * Lloyd's update: every non-empty cluster's centroid becomes the mean of
 * its rows (binary: their majority); counts[] gets the cluster sizes.
 */
static void
KmeansUpdate(const float *x, int n, int d, int k, const int *assign,
			 float *centroids, int *counts, double *sums, bool binary)
{
	int			i,
				j;

	/* vecx.gpu: the same double sums in row order, on a device */
	if (VecxGpuUpdate(x, n, d, assign, k, centroids, counts))
	{
		if (binary)
			for (j = 0; j < k; j++)
				if (counts[j] != 0)
					Binarize(centroids + (Size) j * d, d);
		return;
	}

	memset(counts, 0, sizeof(int) * k);
	memset(sums, 0, sizeof(double) * (Size) k * d);
	for (i = 0; i < n; i++)
	{
		const float *row = x + (Size) i * d;
		double	   *s = sums + (Size) assign[i] * d;
		int			t;

		for (t = 0; t < d; t++)
			s[t] += row[t];
		counts[assign[i]]++;
	}
	for (j = 0; j < k; j++)
	{
		float	   *c = centroids + (Size) j * d;
		const double *s = sums + (Size) j * d;
		int			t;

		if (counts[j] == 0)
			continue;
		for (t = 0; t < d; t++)
			c[t] = (float) (s[t] / counts[j]);
		if (binary)
			Binarize(c, d);
	}
}

/*
 * Re-seed empty clusters by splitting the largest: its centroid is
 * perturbed in two opposite directions (binary: the new one takes a row
 * of the cluster that differs from it).
 *
 * The binary search for such a row is where k-means computes many exact
 * distances (each row of the cluster to its centroid, for every empty
 * cluster): under vecx.gpu they come in one batch, the distance of every
 * row to its own centroid, kept current as rows move (a moved row equals
 * its new centroid).  0/1 coordinates make every sum an exact integer, so
 * the row chosen is the CPU's.
 */
static void
KmeansReseed(const float *x, int n, int d, int k, int *assign,
			 float *centroids, int *counts, bool binary)
{
	int			j;
	float	   *dist = NULL;
	bool		trygpu = true;

	for (j = 0; j < k; j++)
	{
		int			big = 0;
		int			l;
		float	   *c,
				   *cb;
		int			i,
					t;

		if (counts[j] != 0)
			continue;
		for (l = 1; l < k; l++)
			if (counts[l] > counts[big])
				big = l;
		if (counts[big] < 2)
			break;
		c = centroids + (Size) j * d;
		cb = centroids + (Size) big * d;
		if (binary)
		{
			/*
			 * A perturbed 0/1 centroid binarizes back to its parent: take a
			 * row of the cluster that differs from it instead.
			 */
			if (dist == NULL && trygpu)
			{
				dist = palloc_extended(mul_size(sizeof(float), n), MCXT_ALLOC_HUGE);
				if (!VecxGpuL2sqRows(x, n, d, centroids, k, assign, dist))
				{
					pfree(dist);
					dist = NULL;
					trygpu = false;
				}
			}
			for (i = 0; i < n; i++)
				if (assign[i] == big &&
					(dist ? dist[i] :
					 vecx_kernels->l2sq_f32(x + (Size) i * d, cb, d)) > 0)
					break;
			if (i == n)
				break;			/* every row equals its centroid */
			memcpy(c, x + (Size) i * d, sizeof(float) * d);
			assign[i] = j;
			if (dist)
				dist[i] = 0;
			counts[j] = 1;
			counts[big]--;
			continue;
		}
		for (t = 0; t < d; t++)
		{
			float		eps = (t % 2 == 0) ? 1.0f / 1024 : -1.0f / 1024;
			float		base = cb[t];
			float		delta = fabsf(base) * eps + eps * 1e-3f;

			c[t] = base + delta;
			cb[t] = base - delta;
		}
		counts[j] = counts[big] / 2;
		counts[big] -= counts[j];
	}
	if (dist)
		pfree(dist);
}

/*
 * IvfpqKmeans
 *		Lloyd's k-means of n rows of d floats into k <= n centroids, seeded
 *		with k distinct rows chosen by a deterministic generator.  Empty
 *		clusters are re-seeded by splitting the largest one.  With binary,
 *		the rows are 0/1 and the centroids are kept 0/1 (Binarize).
 */
void
IvfpqKmeans(const float *x, int n, int d, int k, int iters,
			float *centroids, uint64 seed, bool binary)
{
	pg_prng_state rng;
	int		   *assign;
	int		   *counts;
	double	   *sums;
	float	   *cnorms;
	float	   *work;
	int			it;

	Assert(k >= 1 && k <= n);
	pg_prng_seed(&rng, seed);
	KmeansSeed(x, n, d, k, centroids, &rng);

	assign = palloc_extended(mul_size(sizeof(int), n), MCXT_ALLOC_HUGE);
	counts = palloc(mul_size(sizeof(int), k));
	sums = palloc_extended(mul_size(mul_size(sizeof(double), k), d), MCXT_ALLOC_HUGE);
	cnorms = palloc(mul_size(sizeof(float), k));
	work = palloc_extended(IvfpqAssignWorkSize(n, k), MCXT_ALLOC_HUGE);

	for (it = 0; it < iters; it++)
	{
		int			j;

		for (j = 0; j < k; j++)
		{
			const float *c = centroids + (Size) j * d;

			cnorms[j] = vecx_kernels->dot_f32(c, c, d);
		}
		IvfpqAssign(x, n, d, centroids, cnorms, k, assign, work);
		KmeansUpdate(x, n, d, k, assign, centroids, counts, sums, binary);
		KmeansReseed(x, n, d, k, assign, centroids, counts, binary);
	}

	if (binary)
		Binarize(centroids, (Size) k * d);

	pfree(assign);
	pfree(counts);
	pfree(sums);
	pfree(cnorms);
	pfree(work);
}

/*
 * IvfpqTrainPQ
 *		Train one codebook of ksub codewords per sub-vector on n residuals.
 *		With fewer than ksub residuals the missing codewords repeat the
 *		first (they are never chosen, encoding picks the first minimum).
 */
void
IvfpqTrainPQ(const float *residuals, int n, int dims, int m, int ksub,
			 const int *suboff, float *codebook, uint64 seed)
{
	int			j;
	int			maxsub = 0;
	float	   *sub;

	for (j = 0; j < m; j++)
		maxsub = Max(maxsub, suboff[j + 1] - suboff[j]);
	sub = palloc_extended(mul_size(mul_size(sizeof(float), n), maxsub), MCXT_ALLOC_HUGE);

	for (j = 0; j < m; j++)
	{
		int			dsub = suboff[j + 1] - suboff[j];
		float	   *cb = codebook + (Size) ksub * suboff[j];
		int			k = Min(ksub, n);
		int			i;

		for (i = 0; i < n; i++)
			memcpy(sub + (Size) i * dsub, residuals + (Size) i * dims + suboff[j],
				   sizeof(float) * dsub);
		IvfpqKmeans(sub, n, dsub, k, IVFPQ_PQ_ITERS, cb, seed + j, false);
		for (i = k; i < ksub; i++)
			memcpy(cb + (Size) i * dsub, cb, sizeof(float) * dsub);
	}
	pfree(sub);
}

/*
 * IvfpqPackCodes
 *		Entry codes from one byte per sub-vector (VecxGpuPqEncode's output):
 *		IvfpqEncode's layout, two 4-bit codes per byte with 16 levels.
 */
void
IvfpqPackCodes(IvfpqState *st, const uint8 *bytes, uint8 *codes)
{
	int			j;

	memset(codes, 0, st->codebytes);
	for (j = 0; j < st->m; j++)
	{
		if (st->nbits == 4)
			codes[j >> 1] |= (uint8) (bytes[j] << ((j & 1) * 4));
		else
			codes[j] = bytes[j];
	}
}

/*
 * IvfpqEncode
 *		Codes of a residual and the norm of the quantization error, rounded
 *		up so that the scan's lower bound stays a lower bound.
 */
void
IvfpqEncode(IvfpqState *st, const float *residual, uint8 *codes, float *err)
{
	double		total = 0;
	int			j;

	memset(codes, 0, st->codebytes);
	for (j = 0; j < st->m; j++)
	{
		int			off = st->suboff[j];
		int			dsub = st->suboff[j + 1] - off;
		const float *cb = st->codebook + (Size) st->ksub * off;
		const float *r = residual + off;
		double		best = DBL_MAX;
		int			bestc = 0;
		int			c;

		for (c = 0; c < st->ksub; c++)
		{
			const float *w = cb + (Size) c * dsub;
			double		dist = 0;
			int			t;

			for (t = 0; t < dsub; t++)
			{
				double		diff = (double) r[t] - w[t];

				dist += diff * diff;
			}
			if (dist < best)
			{
				best = dist;
				bestc = c;
			}
		}
		total += best;
		if (st->nbits == 4)
			codes[j >> 1] |= (uint8) (bestc << ((j & 1) * 4));
		else
			codes[j] = (uint8) bestc;
	}
	*err = nextafterf((float) sqrt(total), FLT_MAX);
}
