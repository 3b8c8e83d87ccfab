/*-------------------------------------------------------------------------
 *
 * simd_neon.c
 *	  AArch64 Advanced SIMD (NEON) kernels.
 *
 * Advanced SIMD, FMA and the half <-> single conversions are part of the
 * AArch64 base architecture, so no target attribute or runtime check is
 * needed.  Four independent accumulators (16 floats per iteration) hide
 * the FMA latency; the last n % 4 elements are summed by scalar code.
 * The conversions follow FPCR, whose Linux default (round to nearest even,
 * no flush to zero, NaN payloads propagated) matches the scalar reference.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stddef.h>

#include "simd.h"
#include "simd_internal.h"

#if defined(__aarch64__)

#include <arm_neon.h>

static inline float32x4_t
neon_load_f16(const vecx_half *p)
{
	return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)));
}

/*
 * The f32 and f16 kernels share their bodies: LOAD(p, i) gives 4 floats
 * starting at element i, SCALAR(p, i) one float.
 */
#define NEON_L2SQ_BODY(LOAD, SCALAR) \
	float32x4_t s0 = vdupq_n_f32(0), \
				s1 = vdupq_n_f32(0), \
				s2 = vdupq_n_f32(0), \
				s3 = vdupq_n_f32(0), \
				d; \
	float		s; \
	int			i = 0; \
	for (; i + 16 <= n; i += 16) \
	{ \
		d = vsubq_f32(LOAD(a, i), LOAD(b, i)); \
		s0 = vfmaq_f32(s0, d, d); \
		d = vsubq_f32(LOAD(a, i + 4), LOAD(b, i + 4)); \
		s1 = vfmaq_f32(s1, d, d); \
		d = vsubq_f32(LOAD(a, i + 8), LOAD(b, i + 8)); \
		s2 = vfmaq_f32(s2, d, d); \
		d = vsubq_f32(LOAD(a, i + 12), LOAD(b, i + 12)); \
		s3 = vfmaq_f32(s3, d, d); \
	} \
	for (; i + 4 <= n; i += 4) \
	{ \
		d = vsubq_f32(LOAD(a, i), LOAD(b, i)); \
		s0 = vfmaq_f32(s0, d, d); \
	} \
	s = vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3))); \
	for (; i < n; i++) \
	{ \
		float		e = SCALAR(a, i) - SCALAR(b, i); \
		s += e * e; \
	} \
	return s

#define NEON_DOT_BODY(LOAD, SCALAR) \
	float32x4_t s0 = vdupq_n_f32(0), \
				s1 = vdupq_n_f32(0), \
				s2 = vdupq_n_f32(0), \
				s3 = vdupq_n_f32(0); \
	float		s; \
	int			i = 0; \
	for (; i + 16 <= n; i += 16) \
	{ \
		s0 = vfmaq_f32(s0, LOAD(a, i), LOAD(b, i)); \
		s1 = vfmaq_f32(s1, LOAD(a, i + 4), LOAD(b, i + 4)); \
		s2 = vfmaq_f32(s2, LOAD(a, i + 8), LOAD(b, i + 8)); \
		s3 = vfmaq_f32(s3, LOAD(a, i + 12), LOAD(b, i + 12)); \
	} \
	for (; i + 4 <= n; i += 4) \
		s0 = vfmaq_f32(s0, LOAD(a, i), LOAD(b, i)); \
	s = vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3))); \
	for (; i < n; i++) \
		s += SCALAR(a, i) * SCALAR(b, i); \
	return s

#define NEON_COS_BODY(LOAD, SCALAR) \
	float32x4_t d0 = vdupq_n_f32(0), \
				d1 = vdupq_n_f32(0), \
				p0 = vdupq_n_f32(0), \
				p1 = vdupq_n_f32(0), \
				q0 = vdupq_n_f32(0), \
				q1 = vdupq_n_f32(0), \
				x, \
				y; \
	float		sd, \
				sp, \
				sq; \
	int			i = 0; \
	for (; i + 8 <= n; i += 8) \
	{ \
		x = LOAD(a, i); \
		y = LOAD(b, i); \
		d0 = vfmaq_f32(d0, x, y); \
		p0 = vfmaq_f32(p0, x, x); \
		q0 = vfmaq_f32(q0, y, y); \
		x = LOAD(a, i + 4); \
		y = LOAD(b, i + 4); \
		d1 = vfmaq_f32(d1, x, y); \
		p1 = vfmaq_f32(p1, x, x); \
		q1 = vfmaq_f32(q1, y, y); \
	} \
	for (; i + 4 <= n; i += 4) \
	{ \
		x = LOAD(a, i); \
		y = LOAD(b, i); \
		d0 = vfmaq_f32(d0, x, y); \
		p0 = vfmaq_f32(p0, x, x); \
		q0 = vfmaq_f32(q0, y, y); \
	} \
	sd = vaddvq_f32(vaddq_f32(d0, d1)); \
	sp = vaddvq_f32(vaddq_f32(p0, p1)); \
	sq = vaddvq_f32(vaddq_f32(q0, q1)); \
	for (; i < n; i++) \
	{ \
		float		u = SCALAR(a, i), \
					v = SCALAR(b, i); \
		sd += u * v; \
		sp += u * u; \
		sq += v * v; \
	} \
	*dot = sd; \
	*aa = sp; \
	*bb = sq

#define NEON_L1_BODY(LOAD, SCALAR) \
	float32x4_t s0 = vdupq_n_f32(0), \
				s1 = vdupq_n_f32(0), \
				s2 = vdupq_n_f32(0), \
				s3 = vdupq_n_f32(0); \
	float		s; \
	int			i = 0; \
	for (; i + 16 <= n; i += 16) \
	{ \
		s0 = vaddq_f32(s0, vabdq_f32(LOAD(a, i), LOAD(b, i))); \
		s1 = vaddq_f32(s1, vabdq_f32(LOAD(a, i + 4), LOAD(b, i + 4))); \
		s2 = vaddq_f32(s2, vabdq_f32(LOAD(a, i + 8), LOAD(b, i + 8))); \
		s3 = vaddq_f32(s3, vabdq_f32(LOAD(a, i + 12), LOAD(b, i + 12))); \
	} \
	for (; i + 4 <= n; i += 4) \
		s0 = vaddq_f32(s0, vabdq_f32(LOAD(a, i), LOAD(b, i))); \
	s = vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3))); \
	for (; i < n; i++) \
		s += fabsf(SCALAR(a, i) - SCALAR(b, i)); \
	return s

#define LD32(p, i) vld1q_f32((p) + (i))
#define SC32(p, i) ((p)[i])
#define LD16(p, i) neon_load_f16((p) + (i))
#define SC16(p, i) vecx_h2f_inline((p)[i])

static float
neon_l2sq_f32(const float *a, const float *b, int n)
{
	NEON_L2SQ_BODY(LD32, SC32);
}

static float
neon_dot_f32(const float *a, const float *b, int n)
{
	NEON_DOT_BODY(LD32, SC32);
}

static void
neon_cos_f32(const float *a, const float *b, int n,
			 float *dot, float *aa, float *bb)
{
	NEON_COS_BODY(LD32, SC32);
}

static float
neon_l1_f32(const float *a, const float *b, int n)
{
	NEON_L1_BODY(LD32, SC32);
}

static float
neon_l2sq_f16(const vecx_half *a, const vecx_half *b, int n)
{
	NEON_L2SQ_BODY(LD16, SC16);
}

static float
neon_dot_f16(const vecx_half *a, const vecx_half *b, int n)
{
	NEON_DOT_BODY(LD16, SC16);
}

static void
neon_cos_f16(const vecx_half *a, const vecx_half *b, int n,
			 float *dot, float *aa, float *bb)
{
	NEON_COS_BODY(LD16, SC16);
}

static float
neon_l1_f16(const vecx_half *a, const vecx_half *b, int n)
{
	NEON_L1_BODY(LD16, SC16);
}

static void
neon_f16_to_f32(const vecx_half *src, float *dst, int n)
{
	int			i = 0;

	for (; i + 4 <= n; i += 4)
		vst1q_f32(dst + i, neon_load_f16(src + i));
	for (; i < n; i++)
		dst[i] = vecx_h2f_inline(src[i]);
}

static void
neon_f32_to_f16(const float *src, vecx_half *dst, int n)
{
	int			i = 0;

	for (; i + 4 <= n; i += 4)
		vst1_u16(dst + i,
				 vreinterpret_u16_f16(vcvt_f16_f32(vld1q_f32(src + i))));
	for (; i < n; i++)
		dst[i] = vecx_f2h_inline(src[i]);
}

static const VecxKernels vecx_kernels_neon_table = {
	"neon",
	neon_l2sq_f32,
	neon_dot_f32,
	neon_cos_f32,
	neon_l1_f32,
	neon_l2sq_f16,
	neon_dot_f16,
	neon_cos_f16,
	neon_l1_f16,
	neon_f16_to_f32,
	neon_f32_to_f16,
	vecx_scalar_l2sq_sq8,
	vecx_scalar_dot_sq8,
	vecx_scalar_l1_sq8,
	vecx_scalar_dot_u8,
	vecx_scalar_l1_sq8_sym,
	vecx_scalar_hamming_bits,
	vecx_scalar_jaccard_bits
};

const VecxKernels *vecx_kernels_neon = &vecx_kernels_neon_table;

#else							/* not AArch64 */

const VecxKernels *vecx_kernels_neon = NULL;

#endif
