/*-------------------------------------------------------------------------
 *
 * test_gpu.c
 *	  Compare the CUDA nearest-centroid assignment with a CPU reference.
 *
 * Without a usable device every entry point must say so (return false and
 * leave the outputs alone); with one, the assignments must match the CPU's
 * exactly except where two centroids are within rounding of each other.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/gpu.h"

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

static float
l2sq(const float *a, const float *b, int d)
{
	double		s = 0;

	for (int j = 0; j < d; j++)
		s += (double) (a[j] - b[j]) * (a[j] - b[j]);
	return (float) s;
}

static void
run_case(int64_t n, int k, int d, unsigned seed)
{
	float	   *x = malloc(sizeof(float) * n * d);
	float	   *c = malloc(sizeof(float) * (size_t) k * d);
	int32_t    *a = malloc(sizeof(int32_t) * n);
	float	   *dist = malloc(sizeof(float) * n);
	int			bad = 0;
	char		what[128];

	srand(seed);
	for (int64_t i = 0; i < n * d; i++)
		x[i] = (float) rand() / RAND_MAX * 2 - 1;
	for (int64_t i = 0; i < (int64_t) k * d; i++)
		c[i] = (float) rand() / RAND_MAX * 2 - 1;
	memset(a, 0xff, sizeof(int32_t) * n);

	if (!vecx_gpu_assign(x, n, c, k, d, a, dist))
	{
		check(0, "vecx_gpu_assign failed with a device present");
		goto out;
	}
	for (int64_t i = 0; i < n; i++)
	{
		float		best = INFINITY,
					got;

		for (int j = 0; j < k; j++)
		{
			float		t = l2sq(x + i * d, c + (int64_t) j * d, d);

			if (t < best)
				best = t;
		}
		if (a[i] < 0 || a[i] >= k)
		{
			bad++;
			continue;
		}
		got = l2sq(x + i * d, c + (int64_t) a[i] * d, d);
		/* float32 sums in another order: allow a relative 1e-4 */
		if (got > best * (1 + 1e-4f) + 1e-6f || fabsf(dist[i] - got) > 1e-3f * (1 + got))
			bad++;
	}
	snprintf(what, sizeof(what), "n=%ld k=%d d=%d: %d wrong assignments", (long) n, k, d, bad);
	check(bad == 0, what);
out:
	free(x);
	free(c);
	free(a);
	free(dist);
}

int
main(void)
{
	int32_t		a = 42;

	if (!vecx_gpu_available())
	{
		/* The no-device contract: false, outputs untouched. */
		float		x[4] = {0},
					c[4] = {0};

		check(!vecx_gpu_assign(x, 1, c, 1, 4, &a, NULL) && a == 42,
			  "assign without a device returns false and leaves output alone");
		printf("gpu: no device (%s); device tests skipped\n", vecx_gpu_describe());
	}
	else
	{
		printf("gpu: device %s\n", vecx_gpu_describe());
		run_case(1000, 16, 8, 1);
		run_case(5000, 256, 784, 2);
		run_case(300, 7, 10000, 3);	/* row larger than shared memory */
		run_case(40000, 3, 5, 4);	/* several chunks */
	}
	printf("gpu: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}
