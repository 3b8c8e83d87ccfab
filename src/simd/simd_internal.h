/*-------------------------------------------------------------------------
 *
 * simd_internal.h
 *	  Helpers shared by the kernel files (not part of the public API).
 *
 * Like simd.h this does not include postgres.h: the kernels are linked
 * into unit tests, fuzzers and benchmarks without a server.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECX_SIMD_INTERNAL_H
#define VECX_SIMD_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "simd.h"

/*
 * The scalar reference must stay a plain loop: it defines the results the
 * vector variants are tested against and the baseline the benchmark
 * measures.  GCC may vectorize plain loops at -O2 (version 12 and later)
 * and always at -O3, so we switch the vectorizer off on those functions.
 * clang does not know the attribute; there the reductions stay scalar
 * anyway because reassociating float sums needs -ffast-math.
 */
#if defined(__GNUC__) && !defined(__clang__)
#define VECX_NO_VECTORIZE __attribute__((optimize("no-tree-vectorize")))
#else
#define VECX_NO_VECTORIZE
#endif

/* scalar sq8 kernels (simd_scalar.c), for tables without their own */
extern float vecx_scalar_l2sq_sq8(const float *q, const uint8_t *c, float lo,
								  float scale, int n);
extern float vecx_scalar_dot_sq8(const float *q, const uint8_t *c, int n);
extern float vecx_scalar_l1_sq8(const float *q, const uint8_t *c, float lo,
								float scale, int n);
extern uint32_t vecx_scalar_dot_u8(const uint8_t *a, const uint8_t *b, int n);
extern float vecx_scalar_l1_sq8_sym(const uint8_t *a, float alo, float ascale,
									const uint8_t *b, float blo, float bscale,
									int n);

/* scalar bit-string kernels (simd_scalar.c), for tables without their own */
extern uint64_t vecx_scalar_hamming_bits(const uint8_t *a, const uint8_t *b,
										 size_t n);
extern void vecx_scalar_jaccard_bits(const uint8_t *a, const uint8_t *b,
									 size_t n, uint64_t *inter, uint64_t *uni);

/*
 * AVX-512 popcount variant (simd_avx512.c): -1 until the CPU is probed,
 * then 1 when VPOPCNTQ (AVX512_VPOPCNTDQ) is used, 0 for the AVX512BW
 * nibble-table code.  Unit tests set it to run both variants.
 */
extern int	vecx_avx512_vpopcnt;
extern int	vecx_cpu_has_vpopcnt(void);

/* Population count of a 64-bit word without any instruction-set help */
static inline uint64_t
vecx_popcount64(uint64_t x)
{
	x = x - ((x >> 1) & 0x5555555555555555ULL);
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (x * 0x0101010101010101ULL) >> 56;
}

/* Load up to 8 bytes as a zero-padded word (alignment-free) */
static inline uint64_t
vecx_load_word(const uint8_t *p, size_t n)
{
	uint64_t	w = 0;

	memcpy(&w, p, n < 8 ? n : 8);
	return w;
}

/*
 * Scalar bit-string counts over n bytes; the scalar kernels and the tails
 * of the vector kernels.  The padding of a partial word is zero in both
 * operands, so it counts nothing.
 */
static inline uint64_t
vecx_hamming_tail(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint64_t	d = 0;

	for (size_t i = 0; i < n; i += 8)
		d += vecx_popcount64(vecx_load_word(a + i, n - i) ^
							 vecx_load_word(b + i, n - i));
	return d;
}

static inline void
vecx_jaccard_tail(const uint8_t *a, const uint8_t *b, size_t n,
				  uint64_t *inter, uint64_t *uni)
{
	uint64_t	in = 0,
				un = 0;

	for (size_t i = 0; i < n; i += 8)
	{
		uint64_t	x = vecx_load_word(a + i, n - i);
		uint64_t	y = vecx_load_word(b + i, n - i);

		in += vecx_popcount64(x & y);
		un += vecx_popcount64(x | y);
	}
	*inter += in;
	*uni += un;
}

static inline uint32_t
vecx_f32_bits(float f)
{
	uint32_t	u;

	memcpy(&u, &f, sizeof(u));
	return u;
}

static inline float
vecx_bits_f32(uint32_t u)
{
	float		f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

/*
 * binary16 -> binary32.  Exact: every half value is representable as a
 * float.  NaN payloads are kept (shifted into the top of the float
 * mantissa) and signalling NaNs are quietened, which is what F16C's
 * VCVTPH2PS does too, so all tables agree bit for bit.
 */
static inline float
vecx_h2f_inline(vecx_half h)
{
	uint32_t	sign = (uint32_t) (h & 0x8000) << 16;
	uint32_t	exp = (h >> 10) & 0x1f;
	uint32_t	mant = h & 0x3ff;

	if (exp == 0)
	{
		int			e = -1;

		if (mant == 0)
			return vecx_bits_f32(sign);
		/* subnormal: normalise so the leading 1 reaches bit 10 */
		do
		{
			e++;
			mant <<= 1;
		} while ((mant & 0x400) == 0);
		/* value = 1.m * 2^(-15 - e) */
		return vecx_bits_f32(sign | ((uint32_t) (127 - 15 - e) << 23) |
							 ((mant & 0x3ff) << 13));
	}
	if (exp == 31)
		return vecx_bits_f32(sign | 0x7f800000 | (mant << 13) |
							 (mant != 0 ? 0x400000u : 0));
	return vecx_bits_f32(sign | ((exp - 15 + 127) << 23) | (mant << 13));
}

/*
 * binary32 -> binary16, round to nearest, ties to even.  Values at or above
 * 65520 (half way between the largest half 65504 and 65536) become
 * infinity; NaN stays NaN (quiet bit set, top payload bits kept, like
 * F16C's VCVTPS2PH).
 */
static inline vecx_half
vecx_f2h_inline(float f)
{
	uint32_t	u = vecx_f32_bits(f);
	uint32_t	sign = (u >> 16) & 0x8000;
	uint32_t	h;

	u &= 0x7fffffff;
	if (u >= 0x7f800000)
	{
		if (u == 0x7f800000)
			return (vecx_half) (sign | 0x7c00);
		return (vecx_half) (sign | 0x7e00 | ((u >> 13) & 0x3ff));
	}
	if (u >= 0x477ff000)
		return (vecx_half) (sign | 0x7c00);
	if (u < 0x38800000)
	{
		/* result is subnormal (or rounds up to the smallest normal) */
		uint32_t	e = u >> 23;
		uint32_t	m = (u & 0x7fffff) | 0x800000;
		uint32_t	s = 126 - e;	/* value = m >> s units of 2^-24 */
		uint32_t	rem,
					halfway;

		if (e == 0 || s > 24)
			return (vecx_half) sign;	/* below 2^-25: rounds to zero */
		h = m >> s;
		rem = m & ((1u << s) - 1);
		halfway = 1u << (s - 1);
		if (rem > halfway || (rem == halfway && (h & 1)))
			h++;
		return (vecx_half) (sign | h);
	}
	/* normal: rebias the exponent, round the 13 dropped mantissa bits */
	h = (u >> 13) - (112u << 10);
	if ((u & 0x1fff) > 0x1000 || ((u & 0x1fff) == 0x1000 && (h & 1)))
		h++;					/* a carry into the exponent is correct */
	return (vecx_half) (sign | h);
}

#endif							/* VECX_SIMD_INTERNAL_H */
