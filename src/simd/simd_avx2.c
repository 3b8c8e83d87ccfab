/*-------------------------------------------------------------------------
 *
 * simd_avx2.c
 *	  AVX2 + FMA + F16C kernels.
 *
 * Compiled with function target attributes, never -mavx2, so this file
 * builds with any x86-64 compiler flags and the code is only reached after
 * vecx_simd_best() has checked the CPU.  Four independent accumulators
 * (32 floats per iteration) hide the FMA latency; the remainder below one
 * register is padded with zeros in a small buffer, which adds exactly
 * zero to every sum.
 *
 *-------------------------------------------------------------------------
 */
#include <stddef.h>

#include "simd.h"
#include "simd_internal.h"

#if defined(__x86_64__) && defined(__GNUC__)

#include <immintrin.h>

#define VECX_AVX2 __attribute__((target("avx2,fma,f16c")))

VECX_AVX2 static inline float
avx2_hsum(__m256 v)
{
	__m128		lo = _mm256_castps256_ps128(v);
	__m128		hi = _mm256_extractf128_ps(v, 1);

	lo = _mm_add_ps(lo, hi);
	lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
	lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
	return _mm_cvtss_f32(lo);
}

/* Load the last r (< 8) floats, zero padded. */
VECX_AVX2 static inline __m256
avx2_tail_f32(const float *p, int r)
{
	float		buf[8] = {0};

	memcpy(buf, p, sizeof(float) * r);
	return _mm256_loadu_ps(buf);
}

VECX_AVX2 static inline __m256
avx2_load_f16(const vecx_half *p)
{
	return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) p));
}

/* Load the last r (< 8) halves as floats, zero padded. */
VECX_AVX2 static inline __m256
avx2_tail_f16(const vecx_half *p, int r)
{
	vecx_half	buf[8] = {0};

	memcpy(buf, p, sizeof(vecx_half) * r);
	return avx2_load_f16(buf);
}

VECX_AVX2 static inline __m256
avx2_abs(__m256 v)
{
	return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v);
}

/*
 * The f32 and f16 kernels share their bodies: LOAD(p, i) gives 8 floats
 * starting at element i, TAIL(p, i, r) the last r of them zero padded.
 */
#define AVX2_L2SQ_BODY(LOAD, TAIL) \
	__m256		s0 = _mm256_setzero_ps(), \
				s1 = _mm256_setzero_ps(), \
				s2 = _mm256_setzero_ps(), \
				s3 = _mm256_setzero_ps(), \
				d; \
	int			i = 0; \
	for (; i + 32 <= n; i += 32) \
	{ \
		d = _mm256_sub_ps(LOAD(a, i), LOAD(b, i)); \
		s0 = _mm256_fmadd_ps(d, d, s0); \
		d = _mm256_sub_ps(LOAD(a, i + 8), LOAD(b, i + 8)); \
		s1 = _mm256_fmadd_ps(d, d, s1); \
		d = _mm256_sub_ps(LOAD(a, i + 16), LOAD(b, i + 16)); \
		s2 = _mm256_fmadd_ps(d, d, s2); \
		d = _mm256_sub_ps(LOAD(a, i + 24), LOAD(b, i + 24)); \
		s3 = _mm256_fmadd_ps(d, d, s3); \
	} \
	for (; i + 8 <= n; i += 8) \
	{ \
		d = _mm256_sub_ps(LOAD(a, i), LOAD(b, i)); \
		s0 = _mm256_fmadd_ps(d, d, s0); \
	} \
	if (i < n) \
	{ \
		d = _mm256_sub_ps(TAIL(a, i, n - i), TAIL(b, i, n - i)); \
		s1 = _mm256_fmadd_ps(d, d, s1); \
	} \
	return avx2_hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), \
								   _mm256_add_ps(s2, s3)))

#define AVX2_DOT_BODY(LOAD, TAIL) \
	__m256		s0 = _mm256_setzero_ps(), \
				s1 = _mm256_setzero_ps(), \
				s2 = _mm256_setzero_ps(), \
				s3 = _mm256_setzero_ps(); \
	int			i = 0; \
	for (; i + 32 <= n; i += 32) \
	{ \
		s0 = _mm256_fmadd_ps(LOAD(a, i), LOAD(b, i), s0); \
		s1 = _mm256_fmadd_ps(LOAD(a, i + 8), LOAD(b, i + 8), s1); \
		s2 = _mm256_fmadd_ps(LOAD(a, i + 16), LOAD(b, i + 16), s2); \
		s3 = _mm256_fmadd_ps(LOAD(a, i + 24), LOAD(b, i + 24), s3); \
	} \
	for (; i + 8 <= n; i += 8) \
		s0 = _mm256_fmadd_ps(LOAD(a, i), LOAD(b, i), s0); \
	if (i < n) \
		s1 = _mm256_fmadd_ps(TAIL(a, i, n - i), TAIL(b, i, n - i), s1); \
	return avx2_hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), \
								   _mm256_add_ps(s2, s3)))

#define AVX2_COS_STEP(x, y, d, p, q) \
	do { \
		__m256		x_ = (x), \
					y_ = (y); \
		d = _mm256_fmadd_ps(x_, y_, d); \
		p = _mm256_fmadd_ps(x_, x_, p); \
		q = _mm256_fmadd_ps(y_, y_, q); \
	} while (0)

#define AVX2_COS_BODY(LOAD, TAIL) \
	__m256		d0 = _mm256_setzero_ps(), \
				d1 = _mm256_setzero_ps(), \
				p0 = _mm256_setzero_ps(), \
				p1 = _mm256_setzero_ps(), \
				q0 = _mm256_setzero_ps(), \
				q1 = _mm256_setzero_ps(); \
	int			i = 0; \
	for (; i + 16 <= n; i += 16) \
	{ \
		AVX2_COS_STEP(LOAD(a, i), LOAD(b, i), d0, p0, q0); \
		AVX2_COS_STEP(LOAD(a, i + 8), LOAD(b, i + 8), d1, p1, q1); \
	} \
	for (; i + 8 <= n; i += 8) \
		AVX2_COS_STEP(LOAD(a, i), LOAD(b, i), d0, p0, q0); \
	if (i < n) \
		AVX2_COS_STEP(TAIL(a, i, n - i), TAIL(b, i, n - i), d1, p1, q1); \
	*dot = avx2_hsum(_mm256_add_ps(d0, d1)); \
	*aa = avx2_hsum(_mm256_add_ps(p0, p1)); \
	*bb = avx2_hsum(_mm256_add_ps(q0, q1))

#define AVX2_L1_BODY(LOAD, TAIL) \
	__m256		s0 = _mm256_setzero_ps(), \
				s1 = _mm256_setzero_ps(), \
				s2 = _mm256_setzero_ps(), \
				s3 = _mm256_setzero_ps(); \
	int			i = 0; \
	for (; i + 32 <= n; i += 32) \
	{ \
		s0 = _mm256_add_ps(s0, avx2_abs(_mm256_sub_ps(LOAD(a, i), LOAD(b, i)))); \
		s1 = _mm256_add_ps(s1, avx2_abs(_mm256_sub_ps(LOAD(a, i + 8), LOAD(b, i + 8)))); \
		s2 = _mm256_add_ps(s2, avx2_abs(_mm256_sub_ps(LOAD(a, i + 16), LOAD(b, i + 16)))); \
		s3 = _mm256_add_ps(s3, avx2_abs(_mm256_sub_ps(LOAD(a, i + 24), LOAD(b, i + 24)))); \
	} \
	for (; i + 8 <= n; i += 8) \
		s0 = _mm256_add_ps(s0, avx2_abs(_mm256_sub_ps(LOAD(a, i), LOAD(b, i)))); \
	if (i < n) \
		s1 = _mm256_add_ps(s1, avx2_abs(_mm256_sub_ps(TAIL(a, i, n - i), \
													  TAIL(b, i, n - i)))); \
	return avx2_hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), \
								   _mm256_add_ps(s2, s3)))

#define LD32(p, i) _mm256_loadu_ps((p) + (i))
#define TL32(p, i, r) avx2_tail_f32((p) + (i), (r))
#define LD16(p, i) avx2_load_f16((p) + (i))
#define TL16(p, i, r) avx2_tail_f16((p) + (i), (r))

VECX_AVX2 static float
avx2_l2sq_f32(const float *a, const float *b, int n)
{
	AVX2_L2SQ_BODY(LD32, TL32);
}

VECX_AVX2 static float
avx2_dot_f32(const float *a, const float *b, int n)
{
	AVX2_DOT_BODY(LD32, TL32);
}

VECX_AVX2 static void
avx2_cos_f32(const float *a, const float *b, int n,
			 float *dot, float *aa, float *bb)
{
	AVX2_COS_BODY(LD32, TL32);
}

VECX_AVX2 static float
avx2_l1_f32(const float *a, const float *b, int n)
{
	AVX2_L1_BODY(LD32, TL32);
}

VECX_AVX2 static float
avx2_l2sq_f16(const vecx_half *a, const vecx_half *b, int n)
{
	AVX2_L2SQ_BODY(LD16, TL16);
}

VECX_AVX2 static float
avx2_dot_f16(const vecx_half *a, const vecx_half *b, int n)
{
	AVX2_DOT_BODY(LD16, TL16);
}

VECX_AVX2 static void
avx2_cos_f16(const vecx_half *a, const vecx_half *b, int n,
			 float *dot, float *aa, float *bb)
{
	AVX2_COS_BODY(LD16, TL16);
}

VECX_AVX2 static float
avx2_l1_f16(const vecx_half *a, const vecx_half *b, int n)
{
	AVX2_L1_BODY(LD16, TL16);
}

VECX_AVX2 static void
avx2_f16_to_f32(const vecx_half *src, float *dst, int n)
{
	int			i = 0;

	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(dst + i, avx2_load_f16(src + i));
	for (; i < n; i++)
		dst[i] = vecx_h2f_inline(src[i]);
}

VECX_AVX2 static void
avx2_f32_to_f16(const float *src, vecx_half *dst, int n)
{
	int			i = 0;

	for (; i + 8 <= n; i += 8)
		_mm_storeu_si128((__m128i *) (dst + i),
						 _mm256_cvtps_ph(_mm256_loadu_ps(src + i),
										 _MM_FROUND_TO_NEAREST_INT |
										 _MM_FROUND_NO_EXC));
	for (; i < n; i++)
		dst[i] = vecx_f2h_inline(src[i]);
}

static const VecxKernels vecx_kernels_avx2_table = {
	"avx2",
	avx2_l2sq_f32,
	avx2_dot_f32,
	avx2_cos_f32,
	avx2_l1_f32,
	avx2_l2sq_f16,
	avx2_dot_f16,
	avx2_cos_f16,
	avx2_l1_f16,
	avx2_f16_to_f32,
	avx2_f32_to_f16,
	vecx_scalar_l2sq_sq8,
	vecx_scalar_dot_sq8,
	vecx_scalar_l1_sq8,
	vecx_scalar_dot_u8,
	vecx_scalar_l1_sq8_sym
};

const VecxKernels *vecx_kernels_avx2 = &vecx_kernels_avx2_table;

#else							/* not x86-64 */

const VecxKernels *vecx_kernels_avx2 = NULL;

#endif
