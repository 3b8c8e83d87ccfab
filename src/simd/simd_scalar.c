/*-------------------------------------------------------------------------
 *
 * simd_scalar.c
 *	  Portable scalar reference kernels (the correctness reference).
 *
 * Each kernel is a plain loop with a single float32 accumulator, summing
 * in index order.  The vector variants are tested against these, and the
 * benchmark measures them as the baseline, so they are kept free of
 * auto-vectorization (see VECX_NO_VECTORIZE).
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>

#include "simd.h"
#include "simd_internal.h"

VECX_NO_VECTORIZE static float
scalar_l2sq_f32(const float *a, const float *b, int n)
{
	float		s = 0.0f;
	int			i;

	for (i = 0; i < n; i++)
	{
		float		d = a[i] - b[i];

		s += d * d;
	}
	return s;
}

VECX_NO_VECTORIZE static float
scalar_dot_f32(const float *a, const float *b, int n)
{
	float		s = 0.0f;
	int			i;

	for (i = 0; i < n; i++)
		s += a[i] * b[i];
	return s;
}

VECX_NO_VECTORIZE static void
scalar_cos_f32(const float *a, const float *b, int n,
			   float *dot, float *aa, float *bb)
{
	float		d = 0.0f,
				x = 0.0f,
				y = 0.0f;
	int			i;

	for (i = 0; i < n; i++)
	{
		d += a[i] * b[i];
		x += a[i] * a[i];
		y += b[i] * b[i];
	}
	*dot = d;
	*aa = x;
	*bb = y;
}

VECX_NO_VECTORIZE static float
scalar_l1_f32(const float *a, const float *b, int n)
{
	float		s = 0.0f;
	int			i;

	for (i = 0; i < n; i++)
		s += fabsf(a[i] - b[i]);
	return s;
}

VECX_NO_VECTORIZE static float
scalar_l2sq_f16(const vecx_half *a, const vecx_half *b, int n)
{
	float		s = 0.0f;
	int			i;

	for (i = 0; i < n; i++)
	{
		float		d = vecx_h2f_inline(a[i]) - vecx_h2f_inline(b[i]);

		s += d * d;
	}
	return s;
}

VECX_NO_VECTORIZE static float
scalar_dot_f16(const vecx_half *a, const vecx_half *b, int n)
{
	float		s = 0.0f;
	int			i;

	for (i = 0; i < n; i++)
		s += vecx_h2f_inline(a[i]) * vecx_h2f_inline(b[i]);
	return s;
}

VECX_NO_VECTORIZE static void
scalar_cos_f16(const vecx_half *a, const vecx_half *b, int n,
			   float *dot, float *aa, float *bb)
{
	float		d = 0.0f,
				x = 0.0f,
				y = 0.0f;
	int			i;

	for (i = 0; i < n; i++)
	{
		float		fa = vecx_h2f_inline(a[i]);
		float		fb = vecx_h2f_inline(b[i]);

		d += fa * fb;
		x += fa * fa;
		y += fb * fb;
	}
	*dot = d;
	*aa = x;
	*bb = y;
}

VECX_NO_VECTORIZE static float
scalar_l1_f16(const vecx_half *a, const vecx_half *b, int n)
{
	float		s = 0.0f;
	int			i;

	for (i = 0; i < n; i++)
		s += fabsf(vecx_h2f_inline(a[i]) - vecx_h2f_inline(b[i]));
	return s;
}

VECX_NO_VECTORIZE static void
scalar_f16_to_f32(const vecx_half *src, float *dst, int n)
{
	int			i;

	for (i = 0; i < n; i++)
		dst[i] = vecx_h2f_inline(src[i]);
}

VECX_NO_VECTORIZE static void
scalar_f32_to_f16(const float *src, vecx_half *dst, int n)
{
	int			i;

	for (i = 0; i < n; i++)
		dst[i] = vecx_f2h_inline(src[i]);
}

/*
 * sq8 kernels.  A code's value is computed as lo + scale * c in float, the
 * same expression every table uses, so the vector variants differ from
 * these only by summation order (and fused multiply-adds).  Exported for
 * tables that have no vector variant of them.
 */
VECX_NO_VECTORIZE float
vecx_scalar_l2sq_sq8(const float *q, const uint8_t *c, float lo, float scale, int n)
{
	float		s = 0.0f;
	int			i;

	for (i = 0; i < n; i++)
	{
		float		d = q[i] - (lo + scale * (float) c[i]);

		s += d * d;
	}
	return s;
}

VECX_NO_VECTORIZE float
vecx_scalar_dot_sq8(const float *q, const uint8_t *c, int n)
{
	float		s = 0.0f;
	int			i;

	for (i = 0; i < n; i++)
		s += q[i] * (float) c[i];
	return s;
}

VECX_NO_VECTORIZE float
vecx_scalar_l1_sq8(const float *q, const uint8_t *c, float lo, float scale, int n)
{
	float		s = 0.0f;
	int			i;

	for (i = 0; i < n; i++)
		s += fabsf(q[i] - (lo + scale * (float) c[i]));
	return s;
}

VECX_NO_VECTORIZE uint32_t
vecx_scalar_dot_u8(const uint8_t *a, const uint8_t *b, int n)
{
	uint32_t	s = 0;
	int			i;

	for (i = 0; i < n; i++)
		s += (uint32_t) a[i] * b[i];
	return s;
}

VECX_NO_VECTORIZE float
vecx_scalar_l1_sq8_sym(const uint8_t *a, float alo, float ascale,
					   const uint8_t *b, float blo, float bscale, int n)
{
	float		s = 0.0f;
	int			i;

	for (i = 0; i < n; i++)
		s += fabsf((alo + ascale * (float) a[i]) - (blo + bscale * (float) b[i]));
	return s;
}

VECX_NO_VECTORIZE uint64_t
vecx_scalar_hamming_bits(const uint8_t *a, const uint8_t *b, size_t n)
{
	return vecx_hamming_tail(a, b, n);
}

VECX_NO_VECTORIZE void
vecx_scalar_jaccard_bits(const uint8_t *a, const uint8_t *b, size_t n,
						 uint64_t *inter, uint64_t *uni)
{
	*inter = 0;
	*uni = 0;
	vecx_jaccard_tail(a, b, n, inter, uni);
}

const VecxKernels vecx_kernels_scalar = {
	"scalar",
	scalar_l2sq_f32,
	scalar_dot_f32,
	scalar_cos_f32,
	scalar_l1_f32,
	scalar_l2sq_f16,
	scalar_dot_f16,
	scalar_cos_f16,
	scalar_l1_f16,
	scalar_f16_to_f32,
	scalar_f32_to_f16,
	vecx_scalar_l2sq_sq8,
	vecx_scalar_dot_sq8,
	vecx_scalar_l1_sq8,
	vecx_scalar_dot_u8,
	vecx_scalar_l1_sq8_sym,
	vecx_scalar_hamming_bits,
	vecx_scalar_jaccard_bits
};
