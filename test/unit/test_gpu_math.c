/*-------------------------------------------------------------------------
 *
 * test_gpu_math.c
 *	  The GPU kernels' arithmetic (src/gpu/gpu_math.h), run on the CPU.
 *
 * gpu_math.h holds every expression the CUDA kernels evaluate; here the
 * same functions run on the host, driven the way the kernels drive them
 * (threads striding over centroids and a tree reduction, chunks sorted by
 * cluster, one row per thread), and are compared with:
 * - src/simd's scalar l2sq_f32: bitwise (same expression, same order);
 *   the vector tables (avx2, avx512) sum in another order: relative
 *   tolerance 2 * d * FLT_EPSILON of the sum;
 * - the exact-L2 argmin over the scalar kernel: bitwise (index and
 *   distance), ties to the lower centroid index;
 * - IvfpqKmeans' centroid update and IvfpqEncode's PQ encoding, whose
 *   arithmetic is restated below (they need a server): bitwise;
 * - PQ codes chosen with the SIMD kernel instead: equal except where the
 *   two best codewords are within the float32 tolerance above;
 * - batched exact distances (vecx_gm_l2sq_row, as the k-means re-seed of
 *   bit indexes uses them): bitwise the scalar kernel, the vector tables
 *   within the tolerance above, and on 0/1 rows bitwise every table (the
 *   sums are small integers, exact in any order);
 * - the chunking of every entry point (vecx_gm_chunk_rows): within the
 *   memory budget whenever the budget allows the minimum chunk.
 * No device is needed; test/gpu runs the kernels themselves where one is.
 *
 *-------------------------------------------------------------------------
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/gpu_math.h"
#include "simd/simd.h"
#include "unit.h"

long		unit_passed;
long		unit_failed;

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static float
frand(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (float) ((rng_state >> 40) / (double) (1 << 24)) * 2.0f - 1.0f;
}

static void
fill(float *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		v[i] = frand();
}

static int
same_bits(float a, float b)
{
	return memcmp(&a, &b, sizeof(float)) == 0;
}

/* 1. Squared L2 against every SIMD table. */
static void
test_l2sq(void)
{
	static const int dims[] = {1, 2, 3, 7, 8, 15, 16, 17, 31, 64, 100, 128, 768, 1536, 2000};
	const VecxKernels *tables[] = {&vecx_kernels_scalar, vecx_kernels_avx2, vecx_kernels_avx512};

	for (int di = 0; di < (int) (sizeof(dims) / sizeof(dims[0])); di++)
	{
		int			d = dims[di];
		float	   *a = malloc(sizeof(float) * d),
				   *b = malloc(sizeof(float) * d);

		for (int rep = 0; rep < 20; rep++)
		{
			float		g;

			fill(a, d);
			fill(b, d);
			g = vecx_gm_l2sq(a, b, d);
			CHECK(same_bits(g, vecx_kernels_scalar.l2sq_f32(a, b, d)),
				  "l2sq d=%d: %.9g vs scalar %.9g", d, g, vecx_kernels_scalar.l2sq_f32(a, b, d));
			for (int t = 1; t < 3; t++)
			{
				float		s;

				if (!vecx_simd_supported(tables[t]))
					continue;
				s = tables[t]->l2sq_f32(a, b, d);
				CHECK(fabsf(g - s) <= 2.0f * d * FLT_EPSILON * g,
					  "l2sq d=%d: %.9g vs %s %.9g", d, g, tables[t]->name, s);
			}
		}
		free(a);
		free(b);
	}
}

/*
 * 2. Assignment as the kernel runs it: threads t = 0..T-1 each take the
 * centroids t, t+T, ... (vecx_gm_assign_range), then the tree reduction.
 */
static int
kernel_assign(const float *x, const float *c, int k, int d, int threads, float *dist)
{
	float	   *bd = malloc(sizeof(float) * threads);
	int		   *bi = malloc(sizeof(int) * threads);
	int			r;

	for (int t = 0; t < threads; t++)
	{
		bd[t] = FLT_MAX;
		bi[t] = -1;
		vecx_gm_assign_range(x, c, d, t, k, threads, &bd[t], &bi[t]);
	}
	for (int step = threads / 2; step > 0; step >>= 1)
		for (int t = step - 1; t >= 0; t--)	/* any order within a step */
			vecx_gm_reduce_step(bd, bi, t, step);
	r = bi[0];
	*dist = bd[0];
	free(bd);
	free(bi);
	return r;
}

static void
test_assign(void)
{
	static const int shapes[][2] = {{1, 4}, {3, 8}, {16, 8}, {256, 16}, {300, 128}, {1000, 3}, {257, 33}};

	for (int si = 0; si < (int) (sizeof(shapes) / sizeof(shapes[0])); si++)
	{
		int			k = shapes[si][0],
					d = shapes[si][1];
		float	   *c = malloc(sizeof(float) * k * d),
				   *x = malloc(sizeof(float) * d);
		int			wrong = 0;

		fill(c, (size_t) k * d);
		/* duplicate centroids: ties must go to the lower index */
		if (k >= 4)
		{
			memcpy(c + (size_t) (k - 1) * d, c + (size_t) 1 * d, sizeof(float) * d);
			memcpy(c + (size_t) (k / 2) * d, c + (size_t) 1 * d, sizeof(float) * d);
		}
		for (int rep = 0; rep < 200; rep++)
		{
			float		ref = FLT_MAX,
						got;
			int			refj = 0,
						j;

			if (rep % 10 == 0 && k >= 4)
				memcpy(x, c + (size_t) (k / 2) * d, sizeof(float) * d);	/* exact tie at 0 */
			else
				fill(x, d);
			for (int l = 0; l < k; l++)
			{
				float		v = vecx_kernels_scalar.l2sq_f32(x, c + (size_t) l * d, d);

				if (v < ref)
				{
					ref = v;
					refj = l;
				}
			}
			j = kernel_assign(x, c, k, d, 256, &got);
			if (j != refj || !same_bits(got, ref))
				wrong++;
			j = kernel_assign(x, c, k, d, 32, &got);
			if (j != refj || !same_bits(got, ref))
				wrong++;
		}
		CHECK(wrong == 0, "assign k=%d d=%d: %d rows differ from the scalar argmin", k, d, wrong);
		free(c);
		free(x);
	}
}

/* 3. Centroid update in chunks vs IvfpqKmeans' loop. */
static void
test_update(void)
{
	int			n = 5000,
				k = 37,
				d = 24;
	float	   *x = malloc(sizeof(float) * n * d);
	int32_t    *assign = malloc(sizeof(int32_t) * n);
	float	   *cref = malloc(sizeof(float) * k * d),
			   *cgot = malloc(sizeof(float) * k * d);
	double	   *sums = calloc((size_t) k * d, sizeof(double));
	int32_t    *counts = calloc(k, sizeof(int32_t)),
			   *gcounts = calloc(k, sizeof(int32_t));
	int32_t    *order = malloc(sizeof(int32_t) * n),
			   *start = malloc(sizeof(int32_t) * (k + 1));
	int			chunk = 777,
				bad = 0;

	fill(x, (size_t) n * d);
	fill(cref, (size_t) k * d);
	memcpy(cgot, cref, sizeof(float) * k * d);
	for (int i = 0; i < n; i++)
		assign[i] = (int32_t) ((rng_state = rng_state * 6364136223846793005ull + 1) >> 33) % (k - 1);	/* k-1 left empty */

	/* IvfpqKmeans */
	for (int i = 0; i < n; i++)
	{
		for (int t = 0; t < d; t++)
			sums[(size_t) assign[i] * d + t] += x[(size_t) i * d + t];
		counts[assign[i]]++;
	}
	for (int j = 0; j < k; j++)
		if (counts[j] > 0)
			for (int t = 0; t < d; t++)
				cref[(size_t) j * d + t] = (float) (sums[(size_t) j * d + t] / counts[j]);

	/* the kernels' way */
	memset(sums, 0, sizeof(double) * k * d);
	for (int off = 0; off < n; off += chunk)
	{
		int			rows = n - off < chunk ? n - off : chunk;

		CHECK(vecx_gm_sort_chunk(assign + off, rows, k, order, start, gcounts) == -1,
			  "sort_chunk rejected a valid chunk");
		for (int j = 0; j < k; j++)
		{
			for (int p = start[j]; p < start[j + 1]; p++)
			{
				CHECK(assign[off + order[p]] == j && (p == start[j] || order[p] > order[p - 1]),
					  "sort_chunk: position %d of cluster %d", p, j);
			}
			for (int t = 0; t < d; t++)
				for (int p = start[j]; p < start[j + 1]; p++)
					sums[(size_t) j * d + t] = vecx_gm_accum(sums[(size_t) j * d + t],
															 x[(size_t) (off + order[p]) * d + t]);
		}
	}
	for (int j = 0; j < k; j++)
	{
		if (gcounts[j] != counts[j])
			bad++;
		if (gcounts[j] > 0)
			for (int t = 0; t < d; t++)
				cgot[(size_t) j * d + t] = vecx_gm_mean(sums[(size_t) j * d + t], gcounts[j]);
	}
	for (size_t i = 0; i < (size_t) k * d; i++)
		if (!same_bits(cgot[i], cref[i]))
			bad++;
	CHECK(bad == 0, "update: %d counts or coordinates differ from IvfpqKmeans", bad);

	assign[100] = k;
	CHECK(vecx_gm_sort_chunk(assign, n, k, order, start, gcounts) == 100,
		  "sort_chunk: out-of-range assignment not reported");

	free(x);
	free(assign);
	free(cref);
	free(cgot);
	free(sums);
	free(counts);
	free(gcounts);
	free(order);
	free(start);
}

/* 4. PQ encoding vs IvfpqEncode's loop, and vs the SIMD kernel's choice. */
static void
test_pq_encode(void)
{
	static const int shapes[][3] = {{128, 16, 256}, {128, 8, 16}, {100, 7, 256}, {3, 3, 2}, {768, 96, 256}};

	for (int si = 0; si < (int) (sizeof(shapes) / sizeof(shapes[0])); si++)
	{
		int			dims = shapes[si][0],
					m = shapes[si][1],
					ksub = shapes[si][2];
		int		   *suboff = malloc(sizeof(int) * (m + 1));
		float	   *cb = malloc(sizeof(float) * ksub * dims),
				   *r = malloc(sizeof(float) * dims);
		uint8_t    *codes = malloc(m);
		int			bad = 0,
					near = 0;

		/* uneven sub-vectors when m does not divide dims, as IvfpqSetLayout */
		for (int j = 0; j <= m; j++)
			suboff[j] = (int) ((int64_t) dims * j / m);
		fill(cb, (size_t) ksub * dims);
		for (int rep = 0; rep < 50; rep++)
		{
			double		total = 0,
						got;

			fill(r, dims);
			got = vecx_gm_pq_encode(r, m, suboff, ksub, cb, codes);
			for (int j = 0; j < m; j++)
			{
				int			off = suboff[j],
							dsub = suboff[j + 1] - off;
				const float *w0 = cb + (size_t) ksub * off;
				double		best = DBL_MAX;
				int			bestc = 0;
				float		sbest = FLT_MAX,
							scode;
				int			sc = 0;

				/* IvfpqEncode */
				for (int c = 0; c < ksub; c++)
				{
					double		dist = 0;

					for (int t = 0; t < dsub; t++)
					{
						double		diff = (double) r[off + t] - w0[(size_t) c * dsub + t];

						dist += diff * diff;
					}
					if (dist < best)
					{
						best = dist;
						bestc = c;
					}
				}
				total += best;
				if (codes[j] != bestc)
					bad++;

				/* the SIMD kernel's choice: same up to float32 rounding */
				for (int c = 0; c < ksub; c++)
				{
					float		v = vecx_kernels->l2sq_f32(r + off, w0 + (size_t) c * dsub, dsub);

					if (v < sbest)
					{
						sbest = v;
						sc = c;
					}
				}
				scode = vecx_kernels->l2sq_f32(r + off, w0 + (size_t) codes[j] * dsub, dsub);
				if (sc != codes[j] &&
					fabsf(scode - sbest) > 2.0f * dsub * FLT_EPSILON * scode)
					near++;
			}
			if (memcmp(&got, &total, sizeof(double)) != 0)
				bad++;
			if (!same_bits(vecx_gm_pq_err(got), nextafterf((float) sqrt(total), FLT_MAX)))
				bad++;
		}
		CHECK(bad == 0, "pq_encode dims=%d m=%d ksub=%d: %d differences from IvfpqEncode",
			  dims, m, ksub, bad);
		CHECK(near == 0, "pq_encode dims=%d m=%d ksub=%d: %d codes differ from the %s kernel beyond rounding",
			  dims, m, ksub, near, vecx_kernels->name);
		free(suboff);
		free(cb);
		free(r);
		free(codes);
	}
}

/* 5. Batched exact distances, row i against row idx[i], vs every table. */
static void
test_l2sq_rows(void)
{
	static const int dims[] = {1, 7, 16, 33, 128, 784, 1536};
	const VecxKernels *tables[] = {&vecx_kernels_scalar, vecx_kernels_avx2, vecx_kernels_avx512};
	int			n = 300,
				k = 17;

	for (int di = 0; di < (int) (sizeof(dims) / sizeof(dims[0])); di++)
	{
		int			d = dims[di];
		float	   *x = malloc(sizeof(float) * n * d),
				   *c = malloc(sizeof(float) * k * d);
		int32_t    *idx = malloc(sizeof(int32_t) * n);

		for (int binary = 0; binary <= 1; binary++)
		{
			int			bad = 0;

			fill(x, (size_t) n * d);
			fill(c, (size_t) k * d);
			if (binary)
			{
				for (size_t i = 0; i < (size_t) n * d; i++)
					x[i] = x[i] > 0 ? 1.0f : 0.0f;
				for (size_t i = 0; i < (size_t) k * d; i++)
					c[i] = c[i] > 0 ? 1.0f : 0.0f;
				memcpy(x, c + (size_t) 3 * d, sizeof(float) * d);	/* a zero distance */
			}
			for (int i = 0; i < n; i++)
				idx[i] = (int32_t) ((i * 31 + 3) % k);
			idx[0] = 3;
			CHECK(vecx_gm_check_rows(idx, n, k) == -1, "check_rows rejected valid rows");
			for (int i = 0; i < n; i++)
			{
				float		g = vecx_gm_l2sq_row(x, c, d, idx, i);
				const float *a = x + (size_t) i * d,
						   *b = c + (size_t) idx[i] * d;

				if (!same_bits(g, vecx_kernels_scalar.l2sq_f32(a, b, d)))
					bad++;
				for (int t = 1; t < 3; t++)
				{
					float		v;

					if (!vecx_simd_supported(tables[t]))
						continue;
					v = tables[t]->l2sq_f32(a, b, d);
					if (binary ? !same_bits(g, v) : fabsf(g - v) > 2.0f * d * FLT_EPSILON * g)
						bad++;
				}
			}
			if (binary)
				CHECK(vecx_gm_l2sq_row(x, c, d, idx, 0) == 0.0f, "l2sq_rows: a row equal to its centroid");
			CHECK(bad == 0, "l2sq_rows d=%d binary=%d: %d distances differ from the SIMD kernels",
				  d, binary, bad);
		}
		idx[n - 1] = k;
		CHECK(vecx_gm_check_rows(idx, n, k) == n - 1, "check_rows: out-of-range row not reported");
		idx[n - 1] = -1;
		CHECK(vecx_gm_check_rows(idx, n, k) == n - 1, "check_rows: negative row not reported");
		free(x);
		free(c);
		free(idx);
	}
}

/* 6. Chunks within the device memory budget. */
static void
test_chunks(void)
{
	static const size_t budgets[] = {(size_t) 1 << 16, (size_t) 1 << 22, (size_t) 512 << 20};
	static const int64_t ns[] = {1, 1000, 65536, 262144, 5000000};

	for (int bi = 0; bi < 3; bi++)
		for (int ni = 0; ni < 5; ni++)
		{
			size_t		fixed = 4 * 1000 * 128,
						per_row = 4 * 128 + 8;
			int64_t		rows = vecx_gm_chunk_rows(ns[ni], budgets[bi], fixed, per_row);

			CHECK(rows >= 1 && rows <= ns[ni], "chunk_rows n=%lld: %lld rows", (long long) ns[ni], (long long) rows);
			CHECK(rows == ns[ni] || rows >= VECX_GM_MIN_CHUNK, "chunk_rows: a chunk below the minimum");
			if (budgets[bi] >= fixed + VECX_GM_MIN_CHUNK * per_row)
				CHECK(fixed + rows * per_row <= budgets[bi],
					  "chunk_rows: %lld rows exceed the budget %zu", (long long) rows, budgets[bi]);
		}
}

int
main(void)
{
	vecx_simd_select(0);
	test_l2sq();
	test_assign();
	test_update();
	test_pq_encode();
	test_l2sq_rows();
	test_chunks();
	printf("gpu_math: %ld passed, %ld failed (simd table %s)\n",
		   unit_passed, unit_failed, vecx_kernels->name);
	return unit_failed != 0;
}
