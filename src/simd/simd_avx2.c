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

/*
 * sq8 kernels.  Codes are widened 8 at a time (vpmovzxbd straight from
 * memory, then int -> float, exact) and dequantized as fma(scale, c, lo),
 * one rounding where the scalar reference has two; otherwise they differ
 * from it only by summation order.  In the last partial register the
 * padding codes would dequantize to lo, not zero, so the difference there
 * is masked to the r real lanes before it is accumulated.
 */

/* 8 codes starting at p, as floats */
VECX_AVX2 static inline __m256
avx2_load_u8(const uint8_t *p)
{
	return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *) p)));
}

/* The last r (< 8) codes as floats, zero padded. */
VECX_AVX2 static inline __m256
avx2_tail_u8(const uint8_t *p, int r)
{
	uint8_t		buf[8] = {0};

	memcpy(buf, p, r);
	return avx2_load_u8(buf);
}

/* All bits set in the first r lanes, clear in the others. */
VECX_AVX2 static inline __m256
avx2_lanes(int r)
{
	return _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(r),
												  _mm256_setr_epi32(0, 1, 2, 3,
																	4, 5, 6, 7)));
}

/* q[i..i+7] minus the dequantized codes c[i..i+7] */
#define AVX2_SQ8_DIFF(i) \
	_mm256_sub_ps(_mm256_loadu_ps(q + (i)), \
				  _mm256_fmadd_ps(vs, avx2_load_u8(c + (i)), vl))

VECX_AVX2 static float
avx2_l2sq_sq8(const float *q, const uint8_t *c, float lo, float scale, int n)
{
	__m256		vl = _mm256_set1_ps(lo),
				vs = _mm256_set1_ps(scale),
				s0 = _mm256_setzero_ps(),
				s1 = _mm256_setzero_ps(),
				s2 = _mm256_setzero_ps(),
				s3 = _mm256_setzero_ps(),
				d;
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		d = AVX2_SQ8_DIFF(i);
		s0 = _mm256_fmadd_ps(d, d, s0);
		d = AVX2_SQ8_DIFF(i + 8);
		s1 = _mm256_fmadd_ps(d, d, s1);
		d = AVX2_SQ8_DIFF(i + 16);
		s2 = _mm256_fmadd_ps(d, d, s2);
		d = AVX2_SQ8_DIFF(i + 24);
		s3 = _mm256_fmadd_ps(d, d, s3);
	}
	for (; i + 8 <= n; i += 8)
	{
		d = AVX2_SQ8_DIFF(i);
		s0 = _mm256_fmadd_ps(d, d, s0);
	}
	if (i < n)
	{
		d = _mm256_sub_ps(avx2_tail_f32(q + i, n - i),
						  _mm256_fmadd_ps(vs, avx2_tail_u8(c + i, n - i), vl));
		d = _mm256_and_ps(d, avx2_lanes(n - i));
		s1 = _mm256_fmadd_ps(d, d, s1);
	}
	return avx2_hsum(_mm256_add_ps(_mm256_add_ps(s0, s1),
								   _mm256_add_ps(s2, s3)));
}

VECX_AVX2 static float
avx2_dot_sq8(const float *q, const uint8_t *c, int n)
{
	__m256		s0 = _mm256_setzero_ps(),
				s1 = _mm256_setzero_ps(),
				s2 = _mm256_setzero_ps(),
				s3 = _mm256_setzero_ps();
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		s0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), avx2_load_u8(c + i), s0);
		s1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8), avx2_load_u8(c + i + 8), s1);
		s2 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 16), avx2_load_u8(c + i + 16), s2);
		s3 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 24), avx2_load_u8(c + i + 24), s3);
	}
	for (; i + 8 <= n; i += 8)
		s0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), avx2_load_u8(c + i), s0);
	/* both operands zero padded: the padding adds 0 * 0 */
	if (i < n)
		s1 = _mm256_fmadd_ps(avx2_tail_f32(q + i, n - i),
							 avx2_tail_u8(c + i, n - i), s1);
	return avx2_hsum(_mm256_add_ps(_mm256_add_ps(s0, s1),
								   _mm256_add_ps(s2, s3)));
}

VECX_AVX2 static float
avx2_l1_sq8(const float *q, const uint8_t *c, float lo, float scale, int n)
{
	__m256		vl = _mm256_set1_ps(lo),
				vs = _mm256_set1_ps(scale),
				s0 = _mm256_setzero_ps(),
				s1 = _mm256_setzero_ps(),
				s2 = _mm256_setzero_ps(),
				s3 = _mm256_setzero_ps(),
				d;
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		s0 = _mm256_add_ps(s0, avx2_abs(AVX2_SQ8_DIFF(i)));
		s1 = _mm256_add_ps(s1, avx2_abs(AVX2_SQ8_DIFF(i + 8)));
		s2 = _mm256_add_ps(s2, avx2_abs(AVX2_SQ8_DIFF(i + 16)));
		s3 = _mm256_add_ps(s3, avx2_abs(AVX2_SQ8_DIFF(i + 24)));
	}
	for (; i + 8 <= n; i += 8)
		s0 = _mm256_add_ps(s0, avx2_abs(AVX2_SQ8_DIFF(i)));
	if (i < n)
	{
		d = _mm256_sub_ps(avx2_tail_f32(q + i, n - i),
						  _mm256_fmadd_ps(vs, avx2_tail_u8(c + i, n - i), vl));
		d = _mm256_and_ps(d, avx2_lanes(n - i));
		s1 = _mm256_add_ps(s1, avx2_abs(d));
	}
	return avx2_hsum(_mm256_add_ps(_mm256_add_ps(s0, s1),
								   _mm256_add_ps(s2, s3)));
}

/* dequantized a[i..i+7] minus dequantized b[i..i+7] */
#define AVX2_SQ8_SYM_DIFF(i) \
	_mm256_sub_ps(_mm256_fmadd_ps(as, avx2_load_u8(a + (i)), al), \
				  _mm256_fmadd_ps(bs, avx2_load_u8(b + (i)), bl))

VECX_AVX2 static float
avx2_l1_sq8_sym(const uint8_t *a, float alo, float ascale,
				const uint8_t *b, float blo, float bscale, int n)
{
	__m256		al = _mm256_set1_ps(alo),
				as = _mm256_set1_ps(ascale),
				bl = _mm256_set1_ps(blo),
				bs = _mm256_set1_ps(bscale),
				s0 = _mm256_setzero_ps(),
				s1 = _mm256_setzero_ps(),
				s2 = _mm256_setzero_ps(),
				s3 = _mm256_setzero_ps(),
				d;
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		s0 = _mm256_add_ps(s0, avx2_abs(AVX2_SQ8_SYM_DIFF(i)));
		s1 = _mm256_add_ps(s1, avx2_abs(AVX2_SQ8_SYM_DIFF(i + 8)));
		s2 = _mm256_add_ps(s2, avx2_abs(AVX2_SQ8_SYM_DIFF(i + 16)));
		s3 = _mm256_add_ps(s3, avx2_abs(AVX2_SQ8_SYM_DIFF(i + 24)));
	}
	for (; i + 8 <= n; i += 8)
		s0 = _mm256_add_ps(s0, avx2_abs(AVX2_SQ8_SYM_DIFF(i)));
	if (i < n)
	{
		d = _mm256_sub_ps(_mm256_fmadd_ps(as, avx2_tail_u8(a + i, n - i), al),
						  _mm256_fmadd_ps(bs, avx2_tail_u8(b + i, n - i), bl));
		d = _mm256_and_ps(d, avx2_lanes(n - i));
		s1 = _mm256_add_ps(s1, avx2_abs(d));
	}
	return avx2_hsum(_mm256_add_ps(_mm256_add_ps(s0, s1),
								   _mm256_add_ps(s2, s3)));
}

/*
 * Exact integer dot product of two code vectors.  32 codes per step are
 * widened to 16 bits by interleaving with zero (unpacklo/hi work within
 * 128-bit lanes, so the element order is permuted, the same way for both
 * operands), and vpmaddwd multiplies pairs into 32-bit lanes: each pair
 * sum is at most 2 * 255 * 255, far from the signed 16 x 16 corner case.
 * Lane sums wrap modulo 2^32 exactly as the scalar uint32_t sum does, so
 * the result equals the scalar one for every n, and is the true dot
 * product while that stays below 2^32 (always for n <= 66,000, since
 * 255 * 255 * 66,000 < 2^32).
 */
VECX_AVX2 static inline __m256i
avx2_dot_u8_step(__m256i x, __m256i y, __m256i s)
{
	__m256i		z = _mm256_setzero_si256();

	s = _mm256_add_epi32(s, _mm256_madd_epi16(_mm256_unpacklo_epi8(x, z),
											  _mm256_unpacklo_epi8(y, z)));
	return _mm256_add_epi32(s, _mm256_madd_epi16(_mm256_unpackhi_epi8(x, z),
												 _mm256_unpackhi_epi8(y, z)));
}

VECX_AVX2 static uint32_t
avx2_dot_u8(const uint8_t *a, const uint8_t *b, int n)
{
	__m256i		s0 = _mm256_setzero_si256(),
				s1 = _mm256_setzero_si256();
	__m128i		h;
	int			i = 0;

	for (; i + 64 <= n; i += 64)
	{
		s0 = avx2_dot_u8_step(_mm256_loadu_si256((const __m256i *) (a + i)),
							  _mm256_loadu_si256((const __m256i *) (b + i)), s0);
		s1 = avx2_dot_u8_step(_mm256_loadu_si256((const __m256i *) (a + i + 32)),
							  _mm256_loadu_si256((const __m256i *) (b + i + 32)), s1);
	}
	for (; i + 32 <= n; i += 32)
		s0 = avx2_dot_u8_step(_mm256_loadu_si256((const __m256i *) (a + i)),
							  _mm256_loadu_si256((const __m256i *) (b + i)), s0);
	if (i < n)
	{
		/* zero padding adds 0 * 0 */
		uint8_t		ba[32] = {0},
					bb[32] = {0};

		memcpy(ba, a + i, n - i);
		memcpy(bb, b + i, n - i);
		s1 = avx2_dot_u8_step(_mm256_loadu_si256((const __m256i *) ba),
							  _mm256_loadu_si256((const __m256i *) bb), s1);
	}
	s0 = _mm256_add_epi32(s0, s1);
	h = _mm_add_epi32(_mm256_castsi256_si128(s0), _mm256_extracti128_si256(s0, 1));
	h = _mm_add_epi32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(1, 0, 3, 2)));
	h = _mm_add_epi32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(2, 3, 0, 1)));
	return (uint32_t) _mm_cvtsi128_si32(h);
}

/*
 * Bit strings: per-byte popcount by two lookups of a nibble table
 * (VPSHUFB), summed into four 64-bit lanes by VPSADBW against zero.  The
 * last partial register goes through the scalar word loop.
 */
VECX_AVX2 static inline __m256i
avx2_popcount_sum(__m256i v)
{
	const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3,
										 1, 2, 2, 3, 2, 3, 3, 4,
										 0, 1, 1, 2, 1, 2, 2, 3,
										 1, 2, 2, 3, 2, 3, 3, 4);
	const __m256i low = _mm256_set1_epi8(0x0f);
	__m256i		lo = _mm256_and_si256(v, low);
	__m256i		hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
	__m256i		cnt = _mm256_add_epi8(_mm256_shuffle_epi8(lut, lo),
									  _mm256_shuffle_epi8(lut, hi));

	return _mm256_sad_epu8(cnt, _mm256_setzero_si256());
}

VECX_AVX2 static inline uint64_t
avx2_hsum_u64(__m256i v)
{
	__m128i		h = _mm_add_epi64(_mm256_castsi256_si128(v),
								  _mm256_extracti128_si256(v, 1));

	return (uint64_t) _mm_cvtsi128_si64(h) +
		(uint64_t) _mm_extract_epi64(h, 1);
}

VECX_AVX2 static uint64_t
avx2_hamming_bits(const uint8_t *a, const uint8_t *b, size_t n)
{
	__m256i		acc = _mm256_setzero_si256();
	size_t		i = 0;

	for (; i + 32 <= n; i += 32)
	{
		__m256i		x = _mm256_loadu_si256((const __m256i *) (a + i));
		__m256i		y = _mm256_loadu_si256((const __m256i *) (b + i));

		acc = _mm256_add_epi64(acc, avx2_popcount_sum(_mm256_xor_si256(x, y)));
	}
	return avx2_hsum_u64(acc) + vecx_hamming_tail(a + i, b + i, n - i);
}

VECX_AVX2 static void
avx2_jaccard_bits(const uint8_t *a, const uint8_t *b, size_t n,
				  uint64_t *inter, uint64_t *uni)
{
	__m256i		in = _mm256_setzero_si256();
	__m256i		un = _mm256_setzero_si256();
	size_t		i = 0;

	for (; i + 32 <= n; i += 32)
	{
		__m256i		x = _mm256_loadu_si256((const __m256i *) (a + i));
		__m256i		y = _mm256_loadu_si256((const __m256i *) (b + i));

		in = _mm256_add_epi64(in, avx2_popcount_sum(_mm256_and_si256(x, y)));
		un = _mm256_add_epi64(un, avx2_popcount_sum(_mm256_or_si256(x, y)));
	}
	*inter = avx2_hsum_u64(in);
	*uni = avx2_hsum_u64(un);
	vecx_jaccard_tail(a + i, b + i, n - i, inter, uni);
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
	avx2_l2sq_sq8,
	avx2_dot_sq8,
	avx2_l1_sq8,
	avx2_dot_u8,
	avx2_l1_sq8_sym,
	avx2_hamming_bits,
	avx2_jaccard_bits
};

const VecxKernels *vecx_kernels_avx2 = &vecx_kernels_avx2_table;

#else							/* not x86-64 */

const VecxKernels *vecx_kernels_avx2 = NULL;

#endif
