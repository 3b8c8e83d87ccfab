/*-------------------------------------------------------------------------
 *
 * kernels.c
 *	  Time each distance kernel of each available table at 784 dimensions.
 *
 * Prints nanoseconds per distance (best of several runs over a working set
 * that fits in L2, so the figure is the kernel, not memory) and the
 * speedup over the scalar reference.  The sq8 rows (float32 query against
 * 8-bit codes, or codes against codes) follow the float32 rows and also
 * give their time as a fraction of the same table's l2sq_f32, the kernel
 * they replace in a quantized hnsw walk.  Build and run with
 * bench/kernels.sh.
 *
 *	  kernels [dim [milliseconds per measurement]]
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
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
	uint8_t    *codes;			/* NVEC vectors quantized to 8 bits */
	float	   *lo;				/* per vector */
	float	   *scale;
} Data;

enum
{
	K_L2SQ_F32, K_DOT_F32, K_COS_F32, K_L1_F32,
	K_L2SQ_SQ8, K_DOT_SQ8, K_L1_SQ8, K_DOT_U8, K_L1_SQ8_SYM,
	K_L2SQ_F16, K_DOT_F16, K_COS_F16, K_L1_F16,
	K_F16_TO_F32, K_F32_TO_F16,
	K_COUNT
};

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
		int			j = (i + 1) % NVEC;
		const uint8_t *ca = d->codes + (size_t) i * dim;
		const uint8_t *cb = d->codes + (size_t) j * dim;

		switch (which)
		{
			case K_L2SQ_F32:
				acc += k->l2sq_f32(a, b, dim);
				break;
			case K_DOT_F32:
				acc += k->dot_f32(a, b, dim);
				break;
			case K_COS_F32:
				k->cos_f32(a, b, dim, &x, &y, &z);
				acc += x + y + z;
				break;
			case K_L1_F32:
				acc += k->l1_f32(a, b, dim);
				break;
			case K_L2SQ_SQ8:
				acc += k->l2sq_sq8(a, cb, d->lo[j], d->scale[j], dim);
				break;
			case K_DOT_SQ8:
				acc += k->dot_sq8(a, cb, dim);
				break;
			case K_L1_SQ8:
				acc += k->l1_sq8(a, cb, d->lo[j], d->scale[j], dim);
				break;
			case K_DOT_U8:
				acc += (float) k->dot_u8(ca, cb, dim);
				break;
			case K_L1_SQ8_SYM:
				acc += k->l1_sq8_sym(ca, d->lo[i], d->scale[i],
									 cb, d->lo[j], d->scale[j], dim);
				break;
			case K_L2SQ_F16:
				acc += k->l2sq_f16(ha, hb, dim);
				break;
			case K_DOT_F16:
				acc += k->dot_f16(ha, hb, dim);
				break;
			case K_COS_F16:
				k->cos_f16(ha, hb, dim, &x, &y, &z);
				acc += x + y + z;
				break;
			case K_L1_F16:
				acc += k->l1_f16(ha, hb, dim);
				break;
			case K_F16_TO_F32:
				k->f16_to_f32(ha, d->fout, dim);
				acc += d->fout[dim - 1];
				break;
			case K_F32_TO_F16:
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
		"l2sq_sq8", "dot_sq8", "l1_sq8", "dot_u8", "l1_sq8_sym",
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
	double		l2f32[4] = {0};
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
	d.codes = malloc((size_t) NVEC * d.dim);
	d.lo = malloc(sizeof(float) * NVEC);
	d.scale = malloc(sizeof(float) * NVEC);
	srand(1);
	for (i = 0; i < (size_t) NVEC * d.dim; i++)
	{
		/* pixel-like values, as Fashion-MNIST */
		d.f[i] = (float) (rand() % 256) / 255.0f;
		d.h[i] = vecx_float_to_half(d.f[i]);
	}
	/* sq8: per vector min and (max - min) / 255, codes rounded */
	for (i = 0; i < NVEC; i++)
	{
		const float *v = d.f + i * d.dim;
		float		mn = v[0],
					mx = v[0];
		int			j;

		for (j = 1; j < d.dim; j++)
		{
			mn = v[j] < mn ? v[j] : mn;
			mx = v[j] > mx ? v[j] : mx;
		}
		d.lo[i] = mn;
		d.scale[i] = mx > mn ? (mx - mn) / 255.0f : 0.0f;
		for (j = 0; j < d.dim; j++)
			d.codes[i * d.dim + j] = d.scale[i] > 0 ?
				(uint8_t) ((v[j] - mn) / d.scale[i] + 0.5f) : 0;
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
	/* sq8 rows: ns relative to the same table's l2sq_f32 */
	for (t = 0; t < ntables; t++)
	{
		char		h[32];

		snprintf(h, sizeof(h), "%.6s/f32", tables[t]->name);
		printf(" %10s", h);
	}
	printf("\n");
	for (w = 0; w < K_COUNT; w++)
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
		if (w == K_L2SQ_F32)
			memcpy(l2f32, ns, sizeof(ns));
		if (w >= K_L2SQ_SQ8 && w <= K_L1_SQ8_SYM)
			for (t = 0; t < ntables; t++)
				printf(" %10.2f", ns[t] / l2f32[t]);
		printf("\n");
	}
	return 0;
}
