/*-------------------------------------------------------------------------
 *
 * gpu_math.h
 *	  Per-element arithmetic of the CUDA kernels, shared with the CPU tests.
 *
 * Every number a kernel in gpu_cuda.cu computes comes from one of these
 * functions: the kernels only decide which thread calls which function on
 * which rows.  Compiled by nvcc they are __host__ __device__; compiled by
 * a C compiler they are plain static inline functions, so the unit tests
 * (test/unit/test_gpu_math.c) run exactly this code on the CPU and compare
 * it with src/simd and with the ivfpq build's own arithmetic.
 *
 * Orders of operations are spelled out and must not change: nvcc builds
 * vecx_gpu.so with -fmad=false, so a device evaluates these expressions
 * with the same IEEE roundings as the host, in the same order, and the
 * results are bitwise equal (test/gpu checks that on a device).
 *
 * Plain C (no postgres.h, no CUDA headers needed from C).
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECX_GPU_MATH_H
#define VECX_GPU_MATH_H

#include <float.h>
#include <math.h>
#include <stdint.h>

#ifdef __CUDACC__
#define VECX_HD __host__ __device__ static inline
#else
#define VECX_HD static inline
#endif

/*
 * Host side of every entry point: rows per chunk sent to the device, what
 * is left of the memory budget after the fixed part (centroids, codebook,
 * sums) divided by the bytes each row needs there, at least
 * VECX_GM_MIN_CHUNK (so a budget smaller than the fixed part still
 * progresses) and at most n and 2^31 - 1 (grid x dimension, row indexes
 * in int32).  Device memory of a call: fixed + chunk * per_row.
 */
#define VECX_GM_MIN_CHUNK	1024

static inline int64_t
vecx_gm_chunk_rows(int64_t n, size_t budget, size_t fixed, size_t per_row)
{
	int64_t		rows = VECX_GM_MIN_CHUNK;

	if (budget > fixed && per_row > 0)
		rows = (int64_t) ((budget - fixed) / per_row);
	if (rows < VECX_GM_MIN_CHUNK)
		rows = VECX_GM_MIN_CHUNK;
	if (rows > n)
		rows = n;
	if (rows > 0x7fffffff)
		rows = 0x7fffffff;
	return rows;
}

/*
 * Squared L2 distance in float32, accumulated left to right: the same
 * expression and order as the scalar reference kernel (simd_scalar.c,
 * l2sq_f32), so bitwise equal to it; the vector kernels sum in another
 * order and agree within float32 rounding.
 */
VECX_HD float
vecx_gm_l2sq(const float *a, const float *b, int d)
{
	float		s = 0.0f;

	for (int j = 0; j < d; j++)
	{
		float		t = a[j] - b[j];

		s += t * t;
	}
	return s;
}

/*
 * Batched exact distances, one row per thread: row i of x against row
 * idx[i] of c (the caller checked idx with vecx_gm_check_rows).
 */
VECX_HD float
vecx_gm_l2sq_row(const float *x, const float *c, int d, const int32_t *idx,
				 int64_t i)
{
	return vecx_gm_l2sq(x + i * d, c + (int64_t) idx[i] * d, d);
}

/* Host side: the first of n row numbers outside [0, k), or -1. */
static inline int64_t
vecx_gm_check_rows(const int32_t *idx, int64_t n, int k)
{
	for (int64_t i = 0; i < n; i++)
		if (idx[i] < 0 || idx[i] >= k)
			return i;
	return -1;
}

/*
 * Whether candidate (dist, idx) beats the current best (bd, bi): smaller
 * distance, ties to the lower index, and no best yet (bi < 0) loses to
 * anything.  The argmin this gives does not depend on the order in which
 * candidates are offered, which lets the kernel reduce in a tree.
 */
VECX_HD int
vecx_gm_better(float dist, int idx, float bd, int bi)
{
	if (idx < 0)
		return 0;
	if (bi < 0)
		return 1;
	return dist < bd || (dist == bd && idx < bi);
}

/*
 * Nearest of the centroids [from, to) (stride step) to row x: the work of
 * one kernel thread.  bd and bi carry the best so far.
 */
VECX_HD void
vecx_gm_assign_range(const float *x, const float *c, int d, int from, int to,
					 int step, float *bd, int *bi)
{
	for (int j = from; j < to; j += step)
	{
		float		s = vecx_gm_l2sq(x, c + (int64_t) j * d, d);

		if (vecx_gm_better(s, j, *bd, *bi))
		{
			*bd = s;
			*bi = j;
		}
	}
}

/*
 * One step of the block's tree reduction: slot tid takes slot tid + step
 * when that is better.  Run for step = blocksize/2, /4, ... 1 over every
 * tid < step (in any order within a step), it leaves the block's argmin
 * in slot 0.
 */
VECX_HD void
vecx_gm_reduce_step(float *best_d, int *best_i, int tid, int step)
{
	if (vecx_gm_better(best_d[tid + step], best_i[tid + step],
					   best_d[tid], best_i[tid]))
	{
		best_d[tid] = best_d[tid + step];
		best_i[tid] = best_i[tid + step];
	}
}

/*
 * Centroid update, k-means' second step: a cluster's coordinate is the
 * double-precision sum of its rows' coordinates in ascending row order,
 * divided by the count and rounded to float, as IvfpqKmeans does.  A
 * device thread owns one (cluster, coordinate) and walks its rows in that
 * order, so the sums are bitwise the CPU's.
 */
VECX_HD double
vecx_gm_accum(double s, float v)
{
	return s + (double) v;
}

VECX_HD float
vecx_gm_mean(double s, int count)
{
	return (float) (s / count);
}

/*
 * Host side of the update: a stable counting sort of a chunk's rows by
 * cluster.  order gets the chunk's row numbers (0 .. rows-1) grouped by
 * cluster, ascending within a cluster; start[j] .. start[j+1]-1 are the
 * positions of cluster j (start has k+1 entries); counts[j] is increased
 * by the cluster's rows.  Returns the first row whose assignment is out of
 * range, or -1.
 */
static inline int64_t
vecx_gm_sort_chunk(const int32_t *assign, int64_t rows, int k,
				   int32_t *order, int32_t *start, int32_t *counts)
{
	for (int j = 0; j <= k; j++)
		start[j] = 0;
	for (int64_t i = 0; i < rows; i++)
	{
		if (assign[i] < 0 || assign[i] >= k)
			return i;
		start[assign[i] + 1]++;
	}
	for (int j = 0; j < k; j++)
	{
		counts[j] += start[j + 1];
		start[j + 1] += start[j];
	}
	for (int64_t i = 0; i < rows; i++)
		order[start[assign[i]]++] = (int32_t) i;
	/* each start[j] now holds the end of cluster j: shift back */
	for (int j = k; j > 0; j--)
		start[j] = start[j - 1];
	start[0] = 0;
	return -1;
}

/*
 * Squared distance of a sub-vector to a PQ codeword in double precision,
 * as IvfpqEncode computes it.
 */
VECX_HD double
vecx_gm_sub_l2sq(const float *r, const float *w, int dsub)
{
	double		s = 0;

	for (int t = 0; t < dsub; t++)
	{
		double		diff = (double) r[t] - w[t];

		s += diff * diff;
	}
	return s;
}

/*
 * PQ encoding of one residual: for each of the m sub-vectors (coordinates
 * suboff[j] .. suboff[j+1]-1) the nearest of ksub codewords, the first
 * minimum winning; codebook holds ksub codewords of each sub-vector, the
 * codewords of sub-vector j at codebook + ksub * suboff[j].  codes gets
 * one code per sub-vector; returns the sum of the chosen squared distances
 * (the caller turns it into IvfpqEncode's rounded-up error norm with
 * vecx_gm_pq_err).
 */
VECX_HD double
vecx_gm_pq_encode(const float *r, int m, const int *suboff, int ksub,
				  const float *codebook, uint8_t *codes)
{
	double		total = 0;

	for (int j = 0; j < m; j++)
	{
		int			off = suboff[j];
		int			dsub = suboff[j + 1] - off;
		const float *cb = codebook + (int64_t) ksub * off;
		double		best = DBL_MAX;
		int			bestc = 0;

		for (int c = 0; c < ksub; c++)
		{
			double		dist = vecx_gm_sub_l2sq(r + off, cb + (int64_t) c * dsub, dsub);

			if (dist < best)
			{
				best = dist;
				bestc = c;
			}
		}
		total += best;
		codes[j] = (uint8_t) bestc;
	}
	return total;
}

/* The quantization error norm, rounded up (the scan's bound stays a bound). */
VECX_HD float
vecx_gm_pq_err(double total)
{
	return nextafterf((float) sqrt(total), FLT_MAX);
}

#endif							/* VECX_GPU_MATH_H */
