/*-------------------------------------------------------------------------
 *
 * kernels.c
 *	  Time each distance kernel of each available table at 784 dimensions.
 *
 * Prints nanoseconds per distance (best of several runs over a working set
 * that fits in L2, so the figure is the kernel, not memory) and the
 * speedup over the scalar reference.  Build and run with bench/kernels.sh.
 *
 *	  kernels [dim [milliseconds per measurement]]
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "simd/simd.h"

#ifndef NVEC
#define NVEC 64				/* working set: 64 vectors (200 KB at 784 dims) */
#endif

static volatile float sink;

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

typedef struct Data
{
	int			dim;
	float	   *f;				/* NVEC vectors */
	vecx_half  *h;
	float	   *fout;
	vecx_half  *hout;
} Data;

/* One pass: every consecutive pair of the working set; returns calls. */
static long
run_kernel(const VecxKernels *k, int which, const Data *d)
{
	int			dim = d->dim;
	float		acc = 0,
				x,
				y,
				z;
	int			i;

	for (i = 0; i < NVEC; i++)
	{
		const float *a = d->f + (size_t) i * dim;
		const float *b = d->f + (size_t) ((i + 1) % NVEC) * dim;
		const vecx_half *ha = d->h + (size_t) i * dim;
		const vecx_half *hb = d->h + (size_t) ((i + 1) % NVEC) * dim;

		switch (which)
		{
			case 0:
				acc += k->l2sq_f32(a, b, dim);
				break;
			case 1:
				acc += k->dot_f32(a, b, dim);
				break;
			case 2:
				k->cos_f32(a, b, dim, &x, &y, &z);
				acc += x + y + z;
				break;
			case 3:
				acc += k->l1_f32(a, b, dim);
				break;
			case 4:
				acc += k->l2sq_f16(ha, hb, dim);
				break;
			case 5:
				acc += k->dot_f16(ha, hb, dim);
				break;
			case 6:
				k->cos_f16(ha, hb, dim, &x, &y, &z);
				acc += x + y + z;
				break;
			case 7:
				acc += k->l1_f16(ha, hb, dim);
				break;
			case 8:
				k->f16_to_f32(ha, d->fout, dim);
				acc += d->fout[dim - 1];
				break;
			case 9:
				k->f32_to_f16(a, d->hout, dim);
				acc += d->hout[dim - 1];
				break;
		}
	}
	sink = acc;
	return NVEC;
}

static double
measure(const VecxKernels *k, int which, const Data *d, double budget_ms)
{
	double		best = 1e30;
	int			rep;

	for (rep = 0; rep < 5; rep++)
	{
		double		t0 = now_ns(),
					t;
		long		calls = 0;

		do
		{
			calls += run_kernel(k, which, d);
			t = now_ns();
		} while (t - t0 < budget_ms * 1e6 / 5);
		if ((t - t0) / calls < best)
			best = (t - t0) / calls;
	}
	return best;
}

int
main(int argc, char **argv)
{
	static const char *const names[] = {
		"l2sq_f32", "dot_f32", "cos_f32", "l1_f32",
		"l2sq_f16", "dot_f16", "cos_f16", "l1_f16",
		"f16_to_f32", "f32_to_f16"
	};
	const VecxKernels *cand[] = {
		vecx_kernels_avx2, vecx_kernels_avx512, vecx_kernels_neon
	};
	const VecxKernels *tables[4];
	int			ntables = 0;
	Data		d;
	double		budget = 200;
	size_t		i;
	int			w,
				t;

	d.dim = argc > 1 ? atoi(argv[1]) : 784;
	if (argc > 2)
		budget = atof(argv[2]);
	if (d.dim < 1 || d.dim > 16000)
		return 2;
	d.f = malloc(sizeof(float) * NVEC * d.dim);
	d.h = malloc(sizeof(vecx_half) * NVEC * d.dim);
	d.fout = malloc(sizeof(float) * d.dim);
	d.hout = malloc(sizeof(vecx_half) * d.dim);
	srand(1);
	for (i = 0; i < (size_t) NVEC * d.dim; i++)
	{
		/* pixel-like values, as Fashion-MNIST */
		d.f[i] = (float) (rand() % 256) / 255.0f;
		d.h[i] = vecx_float_to_half(d.f[i]);
	}

	tables[ntables++] = &vecx_kernels_scalar;
	for (t = 0; t < 3; t++)
		if (vecx_simd_supported(cand[t]))
			tables[ntables++] = cand[t];

	printf("dim %d, ns per call (best of 5), speedup vs scalar; best table: %s\n",
		   d.dim, vecx_simd_best()->name);
	printf("%-11s", "kernel");
	for (t = 0; t < ntables; t++)
		printf(" %10s", tables[t]->name);
	for (t = 1; t < ntables; t++)
		printf(" %9s", "x");
	printf("\n");
	for (w = 0; w < 10; w++)
	{
		double		ns[4];

		printf("%-11s", names[w]);
		for (t = 0; t < ntables; t++)
		{
			ns[t] = measure(tables[t], w, &d, budget);
			printf(" %10.1f", ns[t]);
		}
		for (t = 1; t < ntables; t++)
			printf(" %8.1fx", ns[0] / ns[t]);
		printf("\n");
	}
	return 0;
}
