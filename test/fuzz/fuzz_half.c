/*-------------------------------------------------------------------------
 *
 * fuzz_half.c
 *	  libFuzzer harness: every kernel table converts like the scalar one.
 *
 * The input is read both as binary32 values and as binary16 values.  For
 * every table the CPU supports, f32_to_f16 and f16_to_f32 must match the
 * scalar reference bit for bit (NaN payloads included: the scalar code
 * quietens NaNs the way F16C does), must not write past n (ASan), and
 * half -> float -> half must give back the same half for non-NaN values.
 * The distance kernels of every table must agree with the scalar ones
 * within the summation-order bound used by the unit tests (see
 * tolerance() in test/unit/test_simd.c) whenever the exact sum is far
 * enough from FLT_MAX that neither order can overflow.
 *
 *-------------------------------------------------------------------------
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simd/simd.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* |x - y| within the two-order summation bound for n terms of sum s */
static int
agree(float x, float y, int n, double s)
{
	double		tol = 2.0 * (n + 16) * ldexp(1.0, -24) * s + n * ldexp(1.0, -140);

	if (s * 1.01 > FLT_MAX || isnan(s))
		return 1;				/* either order may overflow: no claim */
	if (isnan(x) || isnan(y))
		return isnan(x) && isnan(y);
	return fabs((double) x - (double) y) <= tol;
}

#define AGREE(k, what, x, y, n, s) \
	do { \
		if (!agree((x), (y), (n), (s))) \
		{ \
			fprintf(stderr, "%s %s n=%d: %.9g vs scalar %.9g (S %g)\n", \
					(k)->name, (what), (n), (x), (y), (s)); \
			abort(); \
		} \
	} while (0)

/*
 * Compare every distance kernel of k with the scalar table on the first
 * n elements of a and b (the two halves of the input).
 */
static void
check_distances(const VecxKernels *k, const float *a, const float *b,
				const vecx_half *ha, const vecx_half *hb, int n, int nh)
{
	const VecxKernels *r = &vecx_kernels_scalar;
	double		sl2 = 0,
				sdot = 0,
				saa = 0,
				sbb = 0,
				sl1 = 0;
	float		x1,
				y1,
				z1,
				x2,
				y2,
				z2;
	int			i;

	for (i = 0; i < n; i++)
	{
		double		d = (double) a[i] - b[i];

		sl2 += d * d;
		sl1 += fabs(d);
		sdot += fabs((double) a[i] * b[i]);
		saa += (double) a[i] * a[i];
		sbb += (double) b[i] * b[i];
	}
	AGREE(k, "l2sq_f32", k->l2sq_f32(a, b, n), r->l2sq_f32(a, b, n), n, sl2);
	AGREE(k, "dot_f32", k->dot_f32(a, b, n), r->dot_f32(a, b, n), n, sdot);
	AGREE(k, "l1_f32", k->l1_f32(a, b, n), r->l1_f32(a, b, n), n, sl1);
	k->cos_f32(a, b, n, &x1, &y1, &z1);
	r->cos_f32(a, b, n, &x2, &y2, &z2);
	AGREE(k, "cos_f32.dot", x1, x2, n, sdot);
	AGREE(k, "cos_f32.aa", y1, y2, n, saa);
	AGREE(k, "cos_f32.bb", z1, z2, n, sbb);

	sl2 = sdot = saa = sbb = sl1 = 0;
	for (i = 0; i < nh; i++)
	{
		double		u = vecx_half_to_float(ha[i]),
					v = vecx_half_to_float(hb[i]);

		sl2 += (u - v) * (u - v);
		sl1 += fabs(u - v);
		sdot += fabs(u * v);
		saa += u * u;
		sbb += v * v;
	}
	AGREE(k, "l2sq_f16", k->l2sq_f16(ha, hb, nh), r->l2sq_f16(ha, hb, nh), nh, sl2);
	AGREE(k, "dot_f16", k->dot_f16(ha, hb, nh), r->dot_f16(ha, hb, nh), nh, sdot);
	AGREE(k, "l1_f16", k->l1_f16(ha, hb, nh), r->l1_f16(ha, hb, nh), nh, sl1);
	k->cos_f16(ha, hb, nh, &x1, &y1, &z1);
	r->cos_f16(ha, hb, nh, &x2, &y2, &z2);
	AGREE(k, "cos_f16.dot", x1, x2, nh, sdot);
	AGREE(k, "cos_f16.aa", y1, y2, nh, saa);
	AGREE(k, "cos_f16.bb", z1, z2, nh, sbb);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const VecxKernels *cand[3] = {
		vecx_kernels_avx2, vecx_kernels_avx512, vecx_kernels_neon
	};
	int			nf = (int) (size / sizeof(float));
	int			nh = (int) (size / sizeof(vecx_half));
	float	   *f = malloc(sizeof(float) * (nf + 1));
	vecx_half  *h = malloc(sizeof(vecx_half) * (nh + 1));
	vecx_half  *hr = malloc(sizeof(vecx_half) * (nf + 1));
	vecx_half  *ht = malloc(sizeof(vecx_half) * (nf + 1));
	float	   *fr = malloc(sizeof(float) * (nh + 1));
	float	   *ft = malloc(sizeof(float) * (nh + 1));
	vecx_half  *back = malloc(sizeof(vecx_half) * (nh + 1));
	int			t,
				i;

	memcpy(f, data, sizeof(float) * nf);
	memcpy(h, data, sizeof(vecx_half) * nh);

	vecx_kernels_scalar.f32_to_f16(f, hr, nf);
	vecx_kernels_scalar.f16_to_f32(h, fr, nh);
	for (i = 0; i < nf; i++)
		if (hr[i] != vecx_float_to_half(f[i]))
			abort();
	/* half -> float -> half is the identity except for NaN */
	vecx_kernels_scalar.f32_to_f16(fr, back, nh);
	for (i = 0; i < nh; i++)
		if (!((h[i] & 0x7c00) == 0x7c00 && (h[i] & 0x3ff)) && back[i] != h[i])
		{
			fprintf(stderr, "round trip %04x -> %04x\n", h[i], back[i]);
			abort();
		}

	for (t = 0; t < 3; t++)
	{
		const VecxKernels *k = cand[t];

		if (!vecx_simd_supported(k))
			continue;
		k->f32_to_f16(f, ht, nf);
		if (memcmp(ht, hr, sizeof(vecx_half) * nf) != 0)
		{
			for (i = 0; i < nf; i++)
				if (ht[i] != hr[i])
				{
					uint32_t	u;

					memcpy(&u, &f[i], 4);
					fprintf(stderr, "%s f32_to_f16(%08x) = %04x, scalar %04x\n",
							k->name, u, ht[i], hr[i]);
				}
			abort();
		}
		k->f16_to_f32(h, ft, nh);
		if (memcmp(ft, fr, sizeof(float) * nh) != 0)
		{
			fprintf(stderr, "%s f16_to_f32 differs from scalar\n", k->name);
			abort();
		}
		/* operands: the first and second half of the input */
		check_distances(k, f, f + nf / 2, h, h + nh / 2, nf / 2, nh / 2);
	}
	free(f);
	free(h);
	free(hr);
	free(ht);
	free(fr);
	free(ft);
	free(back);
	return 0;
}
