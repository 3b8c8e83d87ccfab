/*-------------------------------------------------------------------------
 *
 * gpu_emul.c
 *	  vecx_gpu.so's entry points emulated on the CPU, for tests only.
 *
 * The same table as src/gpu/gpu_cuda.cu (vecx_gpu_api(), VecxGpuApi), with
 * each launch replaced by loops that run gpu_math.h the way the kernel's
 * threads do: the assignment's threads striding over centroids and the
 * tree reduction, the update's chunks sorted by cluster and summed per
 * (cluster, coordinate), one row per thread for PQ encoding and exact
 * distances.  Chunks are cut with the library's own vecx_gm_chunk_rows, so
 * the batching and its memory bound are exercised as well.
 *
 * Uses:
 * - test/unit (gpu.mk) links it with test/gpu/test_gpu.c, so that test's
 *   device checks run here against the host arithmetic;
 * - test/tap/410_gpu.pl builds it as a shared library and starts a server
 *   with VECX_GPU_LIBRARY pointing at it (src/gpu/gpuload.c): builds then
 *   take their GPU paths, on the CPU.  Every call is logged to stderr (the
 *   server log) as "vecx_gpu_emul: <entry> n=... pid=..." so the test can
 *   see what was called, and by which process; when the file named by VECX_GPU_EMUL_FAIL exists, every
 *   entry point fails as a device would ("emulated device failure").
 *
 * Never installed; it reports a device named "CPU emulation".
 *
 *-------------------------------------------------------------------------
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpu/gpu.h"
#include "gpu/gpu_math.h"

#define EMUL_THREADS	256		/* VECX_GPU_THREADS of gpu_cuda.cu */

/* An emulated device error, when the test asks for one. */
static int
emul_fails(const char *what, char *err, size_t errlen)
{
	const char *f = getenv("VECX_GPU_EMUL_FAIL");

	if (f != NULL && f[0] != '\0' && access(f, F_OK) == 0)
	{
		snprintf(err, errlen, "%s: emulated device failure", what);
		fprintf(stderr, "vecx_gpu_emul: %s failed (emulated)\n", what);
		return 1;
	}
	return 0;
}

static int
emul_probe(VecxGpuDevice *devs, int max, char *why, size_t whylen)
{
	if (max < 1)
		return 0;
	memset(&devs[0], 0, sizeof(devs[0]));
	devs[0].ordinal = 0;
	snprintf(devs[0].name, sizeof(devs[0].name), "CPU emulation (test/gpu/gpu_emul.c)");
	devs[0].total_memory = (uint64_t) 1 << 30;
	devs[0].cc_major = 0;
	devs[0].cc_minor = 0;
	snprintf(why, whylen, "ok");
	return 1;
}

/* vecx_assign_kernel for one row: a block of EMUL_THREADS threads */
static void
emul_assign_row(const float *x, const float *c, int k, int d, float *bd, int *bi,
				int32_t *assign, float *dist)
{
	for (int t = 0; t < EMUL_THREADS; t++)
	{
		bd[t] = FLT_MAX;
		bi[t] = -1;
		vecx_gm_assign_range(x, c, d, t, k, EMUL_THREADS, &bd[t], &bi[t]);
	}
	for (int step = EMUL_THREADS / 2; step > 0; step >>= 1)
		for (int t = 0; t < step; t++)
			vecx_gm_reduce_step(bd, bi, t, step);
	*assign = bi[0];
	if (dist)
		*dist = bd[0];
}

static int
emul_assign(const float *x, int64_t n, const float *c, int k, int d,
			size_t budget, int32_t *assign, float *dist, char *err, size_t errlen)
{
	float		bd[EMUL_THREADS];
	int			bi[EMUL_THREADS];
	int64_t		chunk,
				chunks = 0;

	snprintf(err, errlen, "invalid arguments");
	if (n <= 0 || k <= 0 || d <= 0)
		return -1;
	if (emul_fails("assign", err, errlen))
		return -1;
	chunk = vecx_gm_chunk_rows(n, budget, sizeof(float) * (size_t) k * d,
							   sizeof(float) * (size_t) d + 8);
	for (int64_t off = 0; off < n; off += chunk, chunks++)
	{
		int64_t		rows = n - off < chunk ? n - off : chunk;

		for (int64_t i = off; i < off + rows; i++)
			emul_assign_row(x + i * d, c, k, d, bd, bi, assign + i, dist ? dist + i : NULL);
	}
	fprintf(stderr, "vecx_gpu_emul: assign n=%lld k=%d d=%d chunks=%lld pid=%d\n",
			(long long) n, k, d, (long long) chunks, (int) getpid());
	return 0;
}

static int
emul_update(const float *x, int64_t n, int d, const int32_t *assign, int k,
			size_t budget, float *centroids, int32_t *counts, char *err, size_t errlen)
{
	size_t		kd = (size_t) k * d;
	double	   *sums;
	int32_t    *order,
			   *start;
	int64_t		chunk,
				chunks = 0;
	int			ok = -1;

	snprintf(err, errlen, "invalid arguments");
	if (n <= 0 || k <= 0 || d <= 0)
		return -1;
	if (emul_fails("update", err, errlen))
		return -1;
	chunk = vecx_gm_chunk_rows(n, budget, kd * (sizeof(double) + sizeof(float)) + 8 * (size_t) k,
							   sizeof(float) * (size_t) d + 4);
	sums = calloc(kd, sizeof(double));
	order = malloc(sizeof(int32_t) * (size_t) chunk);
	start = malloc(sizeof(int32_t) * ((size_t) k + 1));
	if (sums == NULL || order == NULL || start == NULL)
	{
		snprintf(err, errlen, "out of host memory");
		goto done;
	}
	memset(counts, 0, sizeof(int32_t) * (size_t) k);
	for (int64_t off = 0; off < n; off += chunk, chunks++)
	{
		int64_t		rows = n - off < chunk ? n - off : chunk;
		int64_t		bad = vecx_gm_sort_chunk(assign + off, rows, k, order, start, counts);
		const float *xc = x + off * d;

		if (bad >= 0)
		{
			snprintf(err, errlen, "assignment %d of row %lld out of range",
					 (int) assign[off + bad], (long long) (off + bad));
			goto done;
		}
		/* vecx_update_sum_kernel: one thread per (cluster, coordinate) */
		for (size_t idx = 0; idx < kd; idx++)
		{
			int			j = (int) (idx / d),
						t = (int) (idx % d);
			double		s = sums[idx];

			for (int p = start[j]; p < start[j + 1]; p++)
				s = vecx_gm_accum(s, xc[(int64_t) order[p] * d + t]);
			sums[idx] = s;
		}
	}
	/* vecx_update_mean_kernel */
	for (size_t idx = 0; idx < kd; idx++)
		if (counts[idx / d] != 0)
			centroids[idx] = vecx_gm_mean(sums[idx], counts[idx / d]);
	fprintf(stderr, "vecx_gpu_emul: update n=%lld k=%d d=%d chunks=%lld pid=%d\n",
			(long long) n, k, d, (long long) chunks, (int) getpid());
	ok = 0;
done:
	free(sums);
	free(order);
	free(start);
	return ok;
}

static int
emul_pq_encode(const float *r, int64_t n, int dims, int m, const int *suboff,
			   int ksub, const float *codebook, size_t budget, uint8_t *codes,
			   double *sqerr, char *err, size_t errlen)
{
	int64_t		chunk,
				chunks = 0;

	snprintf(err, errlen, "invalid arguments");
	if (n <= 0 || dims <= 0 || m <= 0 || ksub <= 0 || ksub > 256)
		return -1;
	if (emul_fails("pq_encode", err, errlen))
		return -1;
	chunk = vecx_gm_chunk_rows(n, budget, sizeof(float) * (size_t) ksub * dims,
							   sizeof(float) * (size_t) dims + m + sizeof(double));
	for (int64_t off = 0; off < n; off += chunk, chunks++)
	{
		int64_t		rows = n - off < chunk ? n - off : chunk;

		for (int64_t i = off; i < off + rows; i++)
			sqerr[i] = vecx_gm_pq_encode(r + i * dims, m, suboff, ksub, codebook,
										 codes + i * m);
	}
	fprintf(stderr, "vecx_gpu_emul: pq_encode n=%lld dims=%d m=%d ksub=%d chunks=%lld pid=%d\n",
			(long long) n, dims, m, ksub, (long long) chunks, (int) getpid());
	return 0;
}

static int
emul_l2sq_rows(const float *x, int64_t n, const float *c, int k, int d,
			   const int32_t *idx, size_t budget, float *out, char *err, size_t errlen)
{
	int64_t		chunk,
				chunks = 0,
				bad;

	snprintf(err, errlen, "invalid arguments");
	if (n <= 0 || k <= 0 || d <= 0)
		return -1;
	if ((bad = vecx_gm_check_rows(idx, n, k)) >= 0)
	{
		snprintf(err, errlen, "row %d named by row %lld out of range",
				 (int) idx[bad], (long long) bad);
		return -1;
	}
	if (emul_fails("l2sq_rows", err, errlen))
		return -1;
	chunk = vecx_gm_chunk_rows(n, budget, sizeof(float) * (size_t) k * d,
							   sizeof(float) * (size_t) d + 8);
	for (int64_t off = 0; off < n; off += chunk, chunks++)
	{
		int64_t		rows = n - off < chunk ? n - off : chunk;

		for (int64_t i = 0; i < rows; i++)
			out[off + i] = vecx_gm_l2sq_row(x + off * d, c, d, idx + off, i);
	}
	fprintf(stderr, "vecx_gpu_emul: l2sq_rows n=%lld k=%d d=%d chunks=%lld pid=%d\n",
			(long long) n, k, d, (long long) chunks, (int) getpid());
	return 0;
}

static const VecxGpuApi emul_table = {
	VECX_GPU_ABI_VERSION,
	emul_probe,
	emul_assign,
	emul_update,
	emul_pq_encode,
	emul_l2sq_rows,
};

__attribute__((visibility("default"))) const VecxGpuApi *
vecx_gpu_api(void)
{
	return &emul_table;
}
