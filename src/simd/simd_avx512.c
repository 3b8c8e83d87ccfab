/*-------------------------------------------------------------------------
 *
 * simd_avx512.c
 *	  AVX-512F/BW/VL + F16C kernels.
 *
 * Compiled with function target attributes, never -mavx512f, so this file
 * builds with any x86-64 compiler flags and the code is only reached after
 * vecx_simd_best() has checked the CPU.  Four independent accumulators
 * (64 floats per iteration) hide the FMA latency; the remainder below one
 * register is read with a masked load (masked-off lanes read as zero and
 * are never touched in memory, so no read past the end of the arrays).
 *
 *-------------------------------------------------------------------------
 */
#include <stddef.h>

#include "simd.h"
#include "simd_internal.h"

#if defined(__x86_64__) && defined(__GNUC__)

#include <cpuid.h>
#include <immintrin.h>

#define VECX_AVX512 \
	__attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))

VECX_AVX512 static inline __mmask16
avx512_mask(int r)
{
	return (__mmask16) ((1u << r) - 1);
}

VECX_AVX512 static inline __m512
avx512_load_f16(const vecx_half *p)
{
	return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *) p));
}

VECX_AVX512 static inline __m512
avx512_tail_f16(const vecx_half *p, int r)
{
	return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(avx512_mask(r), p));
}

VECX_AVX512 static inline __m512
avx512_abs(__m512 v)
{
	return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(v),
												_mm512_set1_epi32(0x7fffffff)));
}

/*
 * The f32 and f16 kernels share their bodies: LOAD(p, i) gives 16 floats
 * starting at element i, TAIL(p, i, r) the last r of them zero padded.
 */
#define AVX512_L2SQ_BODY(LOAD, TAIL) \
	__m512		s0 = _mm512_setzero_ps(), \
				s1 = _mm512_setzero_ps(), \
				s2 = _mm512_setzero_ps(), \
				s3 = _mm512_setzero_ps(), \
				d; \
	int			i = 0; \
	for (; i + 64 <= n; i += 64) \
	{ \
		d = _mm512_sub_ps(LOAD(a, i), LOAD(b, i)); \
		s0 = _mm512_fmadd_ps(d, d, s0); \
		d = _mm512_sub_ps(LOAD(a, i + 16), LOAD(b, i + 16)); \
		s1 = _mm512_fmadd_ps(d, d, s1); \
		d = _mm512_sub_ps(LOAD(a, i + 32), LOAD(b, i + 32)); \
		s2 = _mm512_fmadd_ps(d, d, s2); \
		d = _mm512_sub_ps(LOAD(a, i + 48), LOAD(b, i + 48)); \
		s3 = _mm512_fmadd_ps(d, d, s3); \
	} \
	for (; i + 16 <= n; i += 16) \
	{ \
		d = _mm512_sub_ps(LOAD(a, i), LOAD(b, i)); \
		s0 = _mm512_fmadd_ps(d, d, s0); \
	} \
	if (i < n) \
	{ \
		d = _mm512_sub_ps(TAIL(a, i, n - i), TAIL(b, i, n - i)); \
		s1 = _mm512_fmadd_ps(d, d, s1); \
	} \
	return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), \
											  _mm512_add_ps(s2, s3)))

#define AVX512_DOT_BODY(LOAD, TAIL) \
	__m512		s0 = _mm512_setzero_ps(), \
				s1 = _mm512_setzero_ps(), \
				s2 = _mm512_setzero_ps(), \
				s3 = _mm512_setzero_ps(); \
	int			i = 0; \
	for (; i + 64 <= n; i += 64) \
	{ \
		s0 = _mm512_fmadd_ps(LOAD(a, i), LOAD(b, i), s0); \
		s1 = _mm512_fmadd_ps(LOAD(a, i + 16), LOAD(b, i + 16), s1); \
		s2 = _mm512_fmadd_ps(LOAD(a, i + 32), LOAD(b, i + 32), s2); \
		s3 = _mm512_fmadd_ps(LOAD(a, i + 48), LOAD(b, i + 48), s3); \
	} \
	for (; i + 16 <= n; i += 16) \
		s0 = _mm512_fmadd_ps(LOAD(a, i), LOAD(b, i), s0); \
	if (i < n) \
		s1 = _mm512_fmadd_ps(TAIL(a, i, n - i), TAIL(b, i, n - i), s1); \
	return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), \
											  _mm512_add_ps(s2, s3)))

#define AVX512_COS_STEP(x, y, d, p, q) \
	do { \
		__m512		x_ = (x), \
					y_ = (y); \
		d = _mm512_fmadd_ps(x_, y_, d); \
		p = _mm512_fmadd_ps(x_, x_, p); \
		q = _mm512_fmadd_ps(y_, y_, q); \
	} while (0)

#define AVX512_COS_BODY(LOAD, TAIL) \
	__m512		d0 = _mm512_setzero_ps(), \
				d1 = _mm512_setzero_ps(), \
				p0 = _mm512_setzero_ps(), \
				p1 = _mm512_setzero_ps(), \
				q0 = _mm512_setzero_ps(), \
				q1 = _mm512_setzero_ps(); \
	int			i = 0; \
	for (; i + 32 <= n; i += 32) \
	{ \
		AVX512_COS_STEP(LOAD(a, i), LOAD(b, i), d0, p0, q0); \
		AVX512_COS_STEP(LOAD(a, i + 16), LOAD(b, i + 16), d1, p1, q1); \
	} \
	for (; i + 16 <= n; i += 16) \
		AVX512_COS_STEP(LOAD(a, i), LOAD(b, i), d0, p0, q0); \
	if (i < n) \
		AVX512_COS_STEP(TAIL(a, i, n - i), TAIL(b, i, n - i), d1, p1, q1); \
	*dot = _mm512_reduce_add_ps(_mm512_add_ps(d0, d1)); \
	*aa = _mm512_reduce_add_ps(_mm512_add_ps(p0, p1)); \
	*bb = _mm512_reduce_add_ps(_mm512_add_ps(q0, q1))

#define AVX512_L1_BODY(LOAD, TAIL) \
	__m512		s0 = _mm512_setzero_ps(), \
				s1 = _mm512_setzero_ps(), \
				s2 = _mm512_setzero_ps(), \
				s3 = _mm512_setzero_ps(); \
	int			i = 0; \
	for (; i + 64 <= n; i += 64) \
	{ \
		s0 = _mm512_add_ps(s0, avx512_abs(_mm512_sub_ps(LOAD(a, i), LOAD(b, i)))); \
		s1 = _mm512_add_ps(s1, avx512_abs(_mm512_sub_ps(LOAD(a, i + 16), LOAD(b, i + 16)))); \
		s2 = _mm512_add_ps(s2, avx512_abs(_mm512_sub_ps(LOAD(a, i + 32), LOAD(b, i + 32)))); \
		s3 = _mm512_add_ps(s3, avx512_abs(_mm512_sub_ps(LOAD(a, i + 48), LOAD(b, i + 48)))); \
	} \
	for (; i + 16 <= n; i += 16) \
		s0 = _mm512_add_ps(s0, avx512_abs(_mm512_sub_ps(LOAD(a, i), LOAD(b, i)))); \
	if (i < n) \
		s1 = _mm512_add_ps(s1, avx512_abs(_mm512_sub_ps(TAIL(a, i, n - i), \
														TAIL(b, i, n - i)))); \
	return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), \
											  _mm512_add_ps(s2, s3)))

#define LD32(p, i) _mm512_loadu_ps((p) + (i))
#define TL32(p, i, r) _mm512_maskz_loadu_ps(avx512_mask(r), (p) + (i))
#define LD16(p, i) avx512_load_f16((p) + (i))
#define TL16(p, i, r) avx512_tail_f16((p) + (i), (r))

VECX_AVX512 static float
avx512_l2sq_f32(const float *a, const float *b, int n)
{
	AVX512_L2SQ_BODY(LD32, TL32);
}

VECX_AVX512 static float
avx512_dot_f32(const float *a, const float *b, int n)
{
	AVX512_DOT_BODY(LD32, TL32);
}

VECX_AVX512 static void
avx512_cos_f32(const float *a, const float *b, int n,
			   float *dot, float *aa, float *bb)
{
	AVX512_COS_BODY(LD32, TL32);
}

VECX_AVX512 static float
avx512_l1_f32(const float *a, const float *b, int n)
{
	AVX512_L1_BODY(LD32, TL32);
}

VECX_AVX512 static float
avx512_l2sq_f16(const vecx_half *a, const vecx_half *b, int n)
{
	AVX512_L2SQ_BODY(LD16, TL16);
}

VECX_AVX512 static float
avx512_dot_f16(const vecx_half *a, const vecx_half *b, int n)
{
	AVX512_DOT_BODY(LD16, TL16);
}

VECX_AVX512 static void
avx512_cos_f16(const vecx_half *a, const vecx_half *b, int n,
			   float *dot, float *aa, float *bb)
{
	AVX512_COS_BODY(LD16, TL16);
}

VECX_AVX512 static float
avx512_l1_f16(const vecx_half *a, const vecx_half *b, int n)
{
	AVX512_L1_BODY(LD16, TL16);
}

VECX_AVX512 static void
avx512_f16_to_f32(const vecx_half *src, float *dst, int n)
{
	int			i = 0;

	for (; i + 16 <= n; i += 16)
		_mm512_storeu_ps(dst + i, avx512_load_f16(src + i));
	if (i < n)
		_mm512_mask_storeu_ps(dst + i, avx512_mask(n - i),
							  avx512_tail_f16(src + i, n - i));
}

VECX_AVX512 static void
avx512_f32_to_f16(const float *src, vecx_half *dst, int n)
{
	int			i = 0;

	for (; i + 16 <= n; i += 16)
		_mm256_storeu_si256((__m256i *) (dst + i),
							_mm512_cvtps_ph(_mm512_loadu_ps(src + i),
											_MM_FROUND_TO_NEAREST_INT |
											_MM_FROUND_NO_EXC));
	if (i < n)
	{
		__mmask16	m = avx512_mask(n - i);

		_mm256_mask_storeu_epi16(dst + i, m,
								 _mm512_cvtps_ph(_mm512_maskz_loadu_ps(m, src + i),
												 _MM_FROUND_TO_NEAREST_INT |
												 _MM_FROUND_NO_EXC));
	}
}

/*
 * sq8 kernels.  Codes are widened 16 at a time (vpmovzxbd from memory,
 * then int -> float, exact) and dequantized as fma(scale, c, lo), one
 * rounding where the scalar reference has two; otherwise they differ from
 * it only by summation order.  The last partial register is read with
 * masked loads, and its difference is computed with a zero-masked
 * subtraction, because a padding code would dequantize to lo, not zero.
 */

/* 16 codes starting at p, as floats */
VECX_AVX512 static inline __m512
avx512_load_u8(const uint8_t *p)
{
	return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *) p)));
}

/* The codes of mask m (the last r < 16), zero elsewhere, as floats. */
VECX_AVX512 static inline __m512
avx512_tail_u8(const uint8_t *p, __mmask16 m)
{
	return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, p)));
}

/* q[i..i+15] minus the dequantized codes c[i..i+15] */
#define AVX512_SQ8_DIFF(i) \
	_mm512_sub_ps(_mm512_loadu_ps(q + (i)), \
				  _mm512_fmadd_ps(vs, avx512_load_u8(c + (i)), vl))

/* the same for the lanes of m, zero in the others */
#define AVX512_SQ8_TAIL_DIFF(i, m) \
	_mm512_maskz_sub_ps((m), _mm512_maskz_loadu_ps((m), q + (i)), \
						_mm512_fmadd_ps(vs, avx512_tail_u8(c + (i), (m)), vl))

VECX_AVX512 static float
avx512_l2sq_sq8(const float *q, const uint8_t *c, float lo, float scale, int n)
{
	__m512		vl = _mm512_set1_ps(lo),
				vs = _mm512_set1_ps(scale),
				s0 = _mm512_setzero_ps(),
				s1 = _mm512_setzero_ps(),
				s2 = _mm512_setzero_ps(),
				s3 = _mm512_setzero_ps(),
				d;
	int			i = 0;

	for (; i + 64 <= n; i += 64)
	{
		d = AVX512_SQ8_DIFF(i);
		s0 = _mm512_fmadd_ps(d, d, s0);
		d = AVX512_SQ8_DIFF(i + 16);
		s1 = _mm512_fmadd_ps(d, d, s1);
		d = AVX512_SQ8_DIFF(i + 32);
		s2 = _mm512_fmadd_ps(d, d, s2);
		d = AVX512_SQ8_DIFF(i + 48);
		s3 = _mm512_fmadd_ps(d, d, s3);
	}
	for (; i + 16 <= n; i += 16)
	{
		d = AVX512_SQ8_DIFF(i);
		s0 = _mm512_fmadd_ps(d, d, s0);
	}
	if (i < n)
	{
		d = AVX512_SQ8_TAIL_DIFF(i, avx512_mask(n - i));
		s1 = _mm512_fmadd_ps(d, d, s1);
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1),
											  _mm512_add_ps(s2, s3)));
}

VECX_AVX512 static float
avx512_dot_sq8(const float *q, const uint8_t *c, int n)
{
	__m512		s0 = _mm512_setzero_ps(),
				s1 = _mm512_setzero_ps(),
				s2 = _mm512_setzero_ps(),
				s3 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 64 <= n; i += 64)
	{
		s0 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i), avx512_load_u8(c + i), s0);
		s1 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i + 16), avx512_load_u8(c + i + 16), s1);
		s2 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i + 32), avx512_load_u8(c + i + 32), s2);
		s3 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i + 48), avx512_load_u8(c + i + 48), s3);
	}
	for (; i + 16 <= n; i += 16)
		s0 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i), avx512_load_u8(c + i), s0);
	if (i < n)
	{
		/* both operands read as zero outside the mask: adds 0 * 0 */
		__mmask16	m = avx512_mask(n - i);

		s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, q + i),
							 avx512_tail_u8(c + i, m), s1);
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1),
											  _mm512_add_ps(s2, s3)));
}

VECX_AVX512 static float
avx512_l1_sq8(const float *q, const uint8_t *c, float lo, float scale, int n)
{
	__m512		vl = _mm512_set1_ps(lo),
				vs = _mm512_set1_ps(scale),
				s0 = _mm512_setzero_ps(),
				s1 = _mm512_setzero_ps(),
				s2 = _mm512_setzero_ps(),
				s3 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 64 <= n; i += 64)
	{
		s0 = _mm512_add_ps(s0, avx512_abs(AVX512_SQ8_DIFF(i)));
		s1 = _mm512_add_ps(s1, avx512_abs(AVX512_SQ8_DIFF(i + 16)));
		s2 = _mm512_add_ps(s2, avx512_abs(AVX512_SQ8_DIFF(i + 32)));
		s3 = _mm512_add_ps(s3, avx512_abs(AVX512_SQ8_DIFF(i + 48)));
	}
	for (; i + 16 <= n; i += 16)
		s0 = _mm512_add_ps(s0, avx512_abs(AVX512_SQ8_DIFF(i)));
	if (i < n)
		s1 = _mm512_add_ps(s1, avx512_abs(AVX512_SQ8_TAIL_DIFF(i, avx512_mask(n - i))));
	return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1),
											  _mm512_add_ps(s2, s3)));
}

/* dequantized a[i..i+15] minus dequantized b[i..i+15] */
#define AVX512_SQ8_SYM_DIFF(i) \
	_mm512_sub_ps(_mm512_fmadd_ps(as, avx512_load_u8(a + (i)), al), \
				  _mm512_fmadd_ps(bs, avx512_load_u8(b + (i)), bl))

VECX_AVX512 static float
avx512_l1_sq8_sym(const uint8_t *a, float alo, float ascale,
				  const uint8_t *b, float blo, float bscale, int n)
{
	__m512		al = _mm512_set1_ps(alo),
				as = _mm512_set1_ps(ascale),
				bl = _mm512_set1_ps(blo),
				bs = _mm512_set1_ps(bscale),
				s0 = _mm512_setzero_ps(),
				s1 = _mm512_setzero_ps(),
				s2 = _mm512_setzero_ps(),
				s3 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 64 <= n; i += 64)
	{
		s0 = _mm512_add_ps(s0, avx512_abs(AVX512_SQ8_SYM_DIFF(i)));
		s1 = _mm512_add_ps(s1, avx512_abs(AVX512_SQ8_SYM_DIFF(i + 16)));
		s2 = _mm512_add_ps(s2, avx512_abs(AVX512_SQ8_SYM_DIFF(i + 32)));
		s3 = _mm512_add_ps(s3, avx512_abs(AVX512_SQ8_SYM_DIFF(i + 48)));
	}
	for (; i + 16 <= n; i += 16)
		s0 = _mm512_add_ps(s0, avx512_abs(AVX512_SQ8_SYM_DIFF(i)));
	if (i < n)
	{
		__mmask16	m = avx512_mask(n - i);
		__m512		d;

		d = _mm512_maskz_sub_ps(m,
								_mm512_fmadd_ps(as, avx512_tail_u8(a + i, m), al),
								_mm512_fmadd_ps(bs, avx512_tail_u8(b + i, m), bl));
		s1 = _mm512_add_ps(s1, avx512_abs(d));
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1),
											  _mm512_add_ps(s2, s3)));
}

/*
 * Exact integer dot product of two code vectors, 64 codes per step:
 * interleaving with zero widens them to 16 bits (within 128-bit lanes, so
 * the order is permuted, identically for both operands) and vpmaddwd
 * multiplies pairs into 32-bit lanes (a pair sum is at most
 * 2 * 255 * 255).  Lane sums wrap modulo 2^32 as the scalar uint32_t sum
 * does, so the result equals the scalar one for every n and is the true
 * dot product while that is below 2^32 (always for n <= 66,000).  The
 * reduction uses wrapping vector adds, not signed scalar arithmetic.
 */
VECX_AVX512 static inline __m512i
avx512_dot_u8_step(__m512i x, __m512i y, __m512i s)
{
	__m512i		z = _mm512_setzero_si512();

	s = _mm512_add_epi32(s, _mm512_madd_epi16(_mm512_unpacklo_epi8(x, z),
											  _mm512_unpacklo_epi8(y, z)));
	return _mm512_add_epi32(s, _mm512_madd_epi16(_mm512_unpackhi_epi8(x, z),
												 _mm512_unpackhi_epi8(y, z)));
}

VECX_AVX512 static uint32_t
avx512_dot_u8(const uint8_t *a, const uint8_t *b, int n)
{
	__m512i		s0 = _mm512_setzero_si512(),
				s1 = _mm512_setzero_si512();
	__m256i		h8;
	__m128i		h;
	int			i = 0;

	for (; i + 128 <= n; i += 128)
	{
		s0 = avx512_dot_u8_step(_mm512_loadu_si512(a + i),
								_mm512_loadu_si512(b + i), s0);
		s1 = avx512_dot_u8_step(_mm512_loadu_si512(a + i + 64),
								_mm512_loadu_si512(b + i + 64), s1);
	}
	for (; i + 64 <= n; i += 64)
		s0 = avx512_dot_u8_step(_mm512_loadu_si512(a + i),
								_mm512_loadu_si512(b + i), s0);
	if (i < n)
	{
		/* masked-off bytes read as zero and add 0 * 0 */
		__mmask64	m = (__mmask64) ((1ULL << (n - i)) - 1);

		s1 = avx512_dot_u8_step(_mm512_maskz_loadu_epi8(m, a + i),
								_mm512_maskz_loadu_epi8(m, b + i), s1);
	}
	s0 = _mm512_add_epi32(s0, s1);
	h8 = _mm256_add_epi32(_mm512_castsi512_si256(s0),
						  _mm512_extracti64x4_epi64(s0, 1));
	h = _mm_add_epi32(_mm256_castsi256_si128(h8), _mm256_extracti128_si256(h8, 1));
	h = _mm_add_epi32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(1, 0, 3, 2)));
	h = _mm_add_epi32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(2, 3, 0, 1)));
	return (uint32_t) _mm_cvtsi128_si32(h);
}

/*
 * Bit strings.  With AVX512_VPOPCNTDQ (Ice Lake and later, Zen 4) VPOPCNTQ
 * counts 64-bit lanes directly; otherwise a nibble table (VPSHUFB, BW)
 * and VPSADBW do it, as in the AVX2 code.  The variant is chosen once, at
 * the first call, from CPUID.  The tail is a masked load, zero beyond n.
 */
#define VECX_AVX512_VPOPCNT \
	__attribute__((target("avx512f,avx512bw,avx512vl,avx512vpopcntdq,avx2,fma,f16c")))

int			vecx_avx512_vpopcnt = -1;

int
vecx_cpu_has_vpopcnt(void)
{
	unsigned int eax,
				ebx,
				ecx,
				edx;

	if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx))
		return 0;
	return (ecx & (1u << 14)) != 0;	/* AVX512_VPOPCNTDQ */
}

VECX_AVX512 static inline __mmask64
avx512_byte_mask(size_t r)
{
	return r >= 64 ? ~(__mmask64) 0 : (((__mmask64) 1 << r) - 1);
}

VECX_AVX512 static inline __m512i
avx512_popcount_bw(__m512i v)
{
	const __m512i lut = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3,
															 1, 2, 2, 3, 2, 3, 3, 4));
	const __m512i low = _mm512_set1_epi8(0x0f);
	__m512i		lo = _mm512_and_si512(v, low);
	__m512i		hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), low);
	__m512i		cnt = _mm512_add_epi8(_mm512_shuffle_epi8(lut, lo),
									  _mm512_shuffle_epi8(lut, hi));

	return _mm512_sad_epu8(cnt, _mm512_setzero_si512());
}

VECX_AVX512_VPOPCNT static inline __m512i
avx512_popcount_vp(__m512i v)
{
	return _mm512_popcnt_epi64(v);
}

/*
 * One body for both variants: POPCNT(v) gives per-64-bit-lane counts.
 * The loop runs over whole registers and one masked final register.
 */
#define AVX512_HAMMING_BODY(POPCNT) \
	__m512i		acc = _mm512_setzero_si512(); \
	for (size_t i = 0; i < n; i += 64) \
	{ \
		__mmask64	m = avx512_byte_mask(n - i); \
		__m512i		x = _mm512_maskz_loadu_epi8(m, a + i); \
		__m512i		y = _mm512_maskz_loadu_epi8(m, b + i); \
		acc = _mm512_add_epi64(acc, POPCNT(_mm512_xor_si512(x, y))); \
	} \
	return (uint64_t) _mm512_reduce_add_epi64(acc)

#define AVX512_JACCARD_BODY(POPCNT) \
	__m512i		in = _mm512_setzero_si512(); \
	__m512i		un = _mm512_setzero_si512(); \
	for (size_t i = 0; i < n; i += 64) \
	{ \
		__mmask64	m = avx512_byte_mask(n - i); \
		__m512i		x = _mm512_maskz_loadu_epi8(m, a + i); \
		__m512i		y = _mm512_maskz_loadu_epi8(m, b + i); \
		in = _mm512_add_epi64(in, POPCNT(_mm512_and_si512(x, y))); \
		un = _mm512_add_epi64(un, POPCNT(_mm512_or_si512(x, y))); \
	} \
	*inter = (uint64_t) _mm512_reduce_add_epi64(in); \
	*uni = (uint64_t) _mm512_reduce_add_epi64(un)

VECX_AVX512 static uint64_t
avx512_hamming_bw(const uint8_t *a, const uint8_t *b, size_t n)
{
	AVX512_HAMMING_BODY(avx512_popcount_bw);
}

VECX_AVX512_VPOPCNT static uint64_t
avx512_hamming_vp(const uint8_t *a, const uint8_t *b, size_t n)
{
	AVX512_HAMMING_BODY(avx512_popcount_vp);
}

VECX_AVX512 static void
avx512_jaccard_bw(const uint8_t *a, const uint8_t *b, size_t n,
				  uint64_t *inter, uint64_t *uni)
{
	AVX512_JACCARD_BODY(avx512_popcount_bw);
}

VECX_AVX512_VPOPCNT static void
avx512_jaccard_vp(const uint8_t *a, const uint8_t *b, size_t n,
				  uint64_t *inter, uint64_t *uni)
{
	AVX512_JACCARD_BODY(avx512_popcount_vp);
}

static inline int
avx512_use_vpopcnt(void)
{
	if (vecx_avx512_vpopcnt < 0)
		vecx_avx512_vpopcnt = vecx_cpu_has_vpopcnt();
	return vecx_avx512_vpopcnt;
}

static uint64_t
avx512_hamming_bits(const uint8_t *a, const uint8_t *b, size_t n)
{
	if (avx512_use_vpopcnt())
		return avx512_hamming_vp(a, b, n);
	return avx512_hamming_bw(a, b, n);
}

static void
avx512_jaccard_bits(const uint8_t *a, const uint8_t *b, size_t n,
					uint64_t *inter, uint64_t *uni)
{
	if (avx512_use_vpopcnt())
		avx512_jaccard_vp(a, b, n, inter, uni);
	else
		avx512_jaccard_bw(a, b, n, inter, uni);
}

static const VecxKernels vecx_kernels_avx512_table = {
	"avx512",
	avx512_l2sq_f32,
	avx512_dot_f32,
	avx512_cos_f32,
	avx512_l1_f32,
	avx512_l2sq_f16,
	avx512_dot_f16,
	avx512_cos_f16,
	avx512_l1_f16,
	avx512_f16_to_f32,
	avx512_f32_to_f16,
	avx512_l2sq_sq8,
	avx512_dot_sq8,
	avx512_l1_sq8,
	avx512_dot_u8,
	avx512_l1_sq8_sym,
	avx512_hamming_bits,
	avx512_jaccard_bits
};

const VecxKernels *vecx_kernels_avx512 = &vecx_kernels_avx512_table;

#else							/* not x86-64 */

const VecxKernels *vecx_kernels_avx512 = NULL;
int			vecx_avx512_vpopcnt = 0;

int
vecx_cpu_has_vpopcnt(void)
{
	return 0;
}

#endif
