/*-------------------------------------------------------------------------
 *
 * test_gpu.c
 *	  The CUDA kernels of vecx_gpu.so against the same arithmetic on the CPU.
 *
 * Linked with the library's object (gpu_cuda.o, built by nvcc as for
 * vecx_gpu.so) and called through vecx_gpu_api(), as vecx.so calls it.
 * Without a usable device: probe() must return 0 with a reason, and every
 * entry point must fail cleanly (-1 and a message).  With one: the
 * kernels must give bitwise the results of gpu_math.h run on the host
 * (the library is built with -fmad=false), which test/unit/test_gpu_math.c
 * compares with src/simd and the ivfpq build's arithmetic.
 *
 * test/unit links this file with gpu_emul.c, the CPU emulation of the
 * entry points, instead of the CUDA object: the device checks then run
 * on any machine (they check the emulation, and this test's own logic).
 *
 *-------------------------------------------------------------------------
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/gpu.h"
#include "gpu/gpu_math.h"

static int	passed,
			failed;

static void
check(int ok, const char *what)
{
	if (ok)
		passed++;
	else
	{
		failed++;
		printf("FAIL: %s\n", what);
	}
}

static void
fill(float *v, size_t n, unsigned seed)
{
	srand(seed);
	for (size_t i = 0; i < n; i++)
		v[i] = (float) rand() / RAND_MAX * 2 - 1;
}

static void
assign_case(const VecxGpuApi *api, int64_t n, int k, int d, size_t budget, unsigned seed)
{
	float	   *x = malloc(sizeof(float) * n * d);
	float	   *c = malloc(sizeof(float) * (size_t) k * d);
	int32_t    *a = malloc(sizeof(int32_t) * n);
	float	   *dist = malloc(sizeof(float) * n);
	float	   *cref = malloc(sizeof(float) * (size_t) k * d);
	double	   *sums = calloc((size_t) k * d, sizeof(double));
	int32_t    *counts = calloc(k, sizeof(int32_t)),
			   *gcounts = malloc(sizeof(int32_t) * k);
	char		err[VECX_GPU_MSG_LEN],
				what[300];
	int64_t		bad = 0;

	fill(x, (size_t) n * d, seed);
	fill(c, (size_t) k * d, seed + 1);
	if (api->assign(x, n, c, k, d, budget, a, dist, err, sizeof(err)) != 0)
	{
		snprintf(what, sizeof(what), "assign n=%ld k=%d d=%d: %s", (long) n, k, d, err);
		check(0, what);
		goto out;
	}
	for (int64_t i = 0; i < n; i++)
	{
		float		bd = FLT_MAX;
		int			bi = -1;

		vecx_gm_assign_range(x + i * d, c, d, 0, k, 1, &bd, &bi);
		if (a[i] != bi || memcmp(&dist[i], &bd, sizeof(float)) != 0)
			bad++;
	}
	snprintf(what, sizeof(what), "assign n=%ld k=%d d=%d: %ld rows differ from the host", (long) n, k, d, (long) bad);
	check(bad == 0, what);

	/* update with those assignments */
	memcpy(cref, c, sizeof(float) * (size_t) k * d);
	for (int64_t i = 0; i < n; i++)
	{
		for (int t = 0; t < d; t++)
			sums[(size_t) a[i] * d + t] = vecx_gm_accum(sums[(size_t) a[i] * d + t], x[i * d + t]);
		counts[a[i]]++;
	}
	for (int j = 0; j < k; j++)
		if (counts[j] > 0)
			for (int t = 0; t < d; t++)
				cref[(size_t) j * d + t] = vecx_gm_mean(sums[(size_t) j * d + t], counts[j]);
	if (api->update(x, n, d, a, k, budget, c, gcounts, err, sizeof(err)) != 0)
	{
		snprintf(what, sizeof(what), "update n=%ld k=%d d=%d: %s", (long) n, k, d, err);
		check(0, what);
		goto out;
	}
	bad = memcmp(counts, gcounts, sizeof(int32_t) * k) != 0;
	bad += memcmp(cref, c, sizeof(float) * (size_t) k * d) != 0;
	snprintf(what, sizeof(what), "update n=%ld k=%d d=%d: differs from the host", (long) n, k, d);
	check(bad == 0, what);
out:
	free(x);
	free(c);
	free(a);
	free(dist);
	free(cref);
	free(sums);
	free(counts);
	free(gcounts);
}

static void
pq_case(const VecxGpuApi *api, int64_t n, int dims, int m, int ksub, size_t budget)
{
	float	   *r = malloc(sizeof(float) * n * dims),
			   *cb = malloc(sizeof(float) * (size_t) ksub * dims);
	int		   *suboff = malloc(sizeof(int) * (m + 1));
	uint8_t    *codes = malloc((size_t) n * m),
			   *ref = malloc(m);
	double	   *sqerr = malloc(sizeof(double) * n);
	char		err[VECX_GPU_MSG_LEN],
				what[300];
	int64_t		bad = 0;

	for (int j = 0; j <= m; j++)
		suboff[j] = (int) ((int64_t) dims * j / m);
	fill(r, (size_t) n * dims, 7);
	fill(cb, (size_t) ksub * dims, 8);
	if (api->pq_encode(r, n, dims, m, suboff, ksub, cb, budget, codes, sqerr, err, sizeof(err)) != 0)
	{
		snprintf(what, sizeof(what), "pq_encode n=%ld dims=%d m=%d: %s", (long) n, dims, m, err);
		check(0, what);
		goto out;
	}
	for (int64_t i = 0; i < n; i++)
	{
		double		t = vecx_gm_pq_encode(r + i * dims, m, suboff, ksub, cb, ref);

		if (memcmp(ref, codes + i * m, m) != 0 || memcmp(&t, &sqerr[i], sizeof(double)) != 0)
			bad++;
	}
	snprintf(what, sizeof(what), "pq_encode n=%ld dims=%d m=%d ksub=%d: %ld rows differ from the host",
			 (long) n, dims, m, ksub, (long) bad);
	check(bad == 0, what);
out:
	free(r);
	free(cb);
	free(suboff);
	free(codes);
	free(ref);
	free(sqerr);
}

static void
rows_case(const VecxGpuApi *api, int64_t n, int k, int d, size_t budget, int binary)
{
	float	   *x = malloc(sizeof(float) * n * d),
			   *c = malloc(sizeof(float) * (size_t) k * d),
			   *out = malloc(sizeof(float) * n);
	int32_t    *idx = malloc(sizeof(int32_t) * n);
	char		err[VECX_GPU_MSG_LEN],
				what[300];
	int64_t		bad = 0;

	fill(x, (size_t) n * d, 11);
	fill(c, (size_t) k * d, 12);
	if (binary)
	{
		for (int64_t i = 0; i < n * d; i++)
			x[i] = x[i] > 0 ? 1.0f : 0.0f;
		for (int64_t i = 0; i < (int64_t) k * d; i++)
			c[i] = c[i] > 0 ? 1.0f : 0.0f;
	}
	for (int64_t i = 0; i < n; i++)
		idx[i] = (int32_t) ((i * 7919) % k);
	if (api->l2sq_rows(x, n, c, k, d, idx, budget, out, err, sizeof(err)) != 0)
	{
		snprintf(what, sizeof(what), "l2sq_rows n=%ld k=%d d=%d: %s", (long) n, k, d, err);
		check(0, what);
		goto out;
	}
	for (int64_t i = 0; i < n; i++)
	{
		float		ref = vecx_gm_l2sq(x + i * d, c + (size_t) idx[i] * d, d);

		if (memcmp(&ref, &out[i], sizeof(float)) != 0)
			bad++;
	}
	snprintf(what, sizeof(what), "l2sq_rows n=%ld k=%d d=%d: %ld rows differ from the host",
			 (long) n, k, d, (long) bad);
	check(bad == 0, what);
	idx[n / 2] = k;
	check(api->l2sq_rows(x, n, c, k, d, idx, budget, out, err, sizeof(err)) == -1 && err[0],
		  "l2sq_rows refuses a row number out of range");
out:
	free(x);
	free(c);
	free(out);
	free(idx);
}

int
main(void)
{
	const VecxGpuApi *api = vecx_gpu_api();
	VecxGpuDevice devs[VECX_GPU_MAX_DEVICES];
	char		why[VECX_GPU_MSG_LEN];
	int			ndev;

	check(api != NULL && api->abi_version == VECX_GPU_ABI_VERSION, "vecx_gpu_api() and its ABI version");
	ndev = api->probe(devs, VECX_GPU_MAX_DEVICES, why, sizeof(why));
	if (ndev == 0)
	{
		/* The no-device contract: a reason, and clean failures. */
		float		x[4] = {0},
					c[4] = {0};
		int32_t		a = 42,
					cnt = 0;
		uint8_t		code;
		double		e;
		int			suboff[2] = {0, 4};
		char		err[VECX_GPU_MSG_LEN] = "";

		check(why[0] != '\0' && strcmp(why, "ok") != 0, "probe gives a reason when there is no device");
		check(api->assign(x, 1, c, 1, 4, 1 << 20, &a, NULL, err, sizeof(err)) == -1 && err[0],
			  "assign without a device returns -1 with a message");
		check(api->update(x, 1, 4, &a, 1, 1 << 20, c, &cnt, err, sizeof(err)) == -1 && err[0],
			  "update without a device returns -1 with a message");
		check(api->pq_encode(x, 1, 4, 1, suboff, 1, c, 1 << 20, &code, &e, err, sizeof(err)) == -1 && err[0],
			  "pq_encode without a device returns -1 with a message");
		a = 0;
		check(api->l2sq_rows(x, 1, c, 1, 4, &a, 1 << 20, x, err, sizeof(err)) == -1 && err[0],
			  "l2sq_rows without a device returns -1 with a message");
		printf("gpu: no device (%s); kernels not run\n", why);
	}
	else
	{
		printf("gpu: %d device(s), running on %s (compute capability %d.%d, %llu MB)\n",
			   ndev, devs[0].name, devs[0].cc_major, devs[0].cc_minor,
			   (unsigned long long) (devs[0].total_memory >> 20));
		assign_case(api, 1000, 16, 8, 1 << 30, 1);
		assign_case(api, 5000, 256, 784, 1 << 30, 2);
		assign_case(api, 300, 7, 10000, 1 << 30, 3);	/* row larger than shared memory */
		assign_case(api, 40000, 3, 5, 1 << 16, 4);	/* many chunks */
		assign_case(api, 20000, 1024, 128, 1 << 22, 5);
		pq_case(api, 10000, 128, 16, 256, 1 << 30);
		pq_case(api, 5000, 100, 7, 16, 1 << 16);	/* uneven sub-vectors, chunks */
		rows_case(api, 20000, 300, 128, 1 << 30, 0);
		rows_case(api, 30000, 50, 64, 1 << 16, 1);	/* 0/1 rows, chunks */
	}
	printf("gpu: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}
