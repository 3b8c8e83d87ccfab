/*-------------------------------------------------------------------------
 *
 * simd.h
 *	  Distance and conversion kernels with runtime CPU dispatch.
 *
 * Every kernel exists as a portable scalar reference (simd_scalar.c) and
 * in one or more vector variants compiled with function target attributes
 * (simd_avx2.c, simd_avx512.c, simd_neon.c), so the extension never needs
 * -march=native.  VecxSimdInit() picks the best table once at load time;
 * the vecx.simd setting can force the scalar table.
 *
 * Callers fetch the table once (for example at index scan start) and call
 * through it in their inner loops: no fmgr, no palloc on the hot path.
 *
 * All float32 kernels accumulate in float32, as the reference does; the
 * float16 kernels convert to float32 and accumulate in float32.
 *
 * This header does not include postgres.h so that unit tests, fuzzers and
 * benchmarks can link the kernels without a server.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECX_SIMD_H
#define VECX_SIMD_H

#include <stddef.h>
#include <stdint.h>

typedef uint16_t vecx_half;

typedef struct VecxKernels
{
	const char *name;			/* "scalar", "avx2", "avx512", "neon" */

	/* float32 */
	float		(*l2sq_f32) (const float *a, const float *b, int n);
	float		(*dot_f32) (const float *a, const float *b, int n);
	/* dot product and both squared norms in one pass, for cosine */
	void		(*cos_f32) (const float *a, const float *b, int n,
							float *dot, float *aa, float *bb);
	float		(*l1_f32) (const float *a, const float *b, int n);

	/* float16 (both operands binary16) */
	float		(*l2sq_f16) (const vecx_half *a, const vecx_half *b, int n);
	float		(*dot_f16) (const vecx_half *a, const vecx_half *b, int n);
	void		(*cos_f16) (const vecx_half *a, const vecx_half *b, int n,
							float *dot, float *aa, float *bb);
	float		(*l1_f16) (const vecx_half *a, const vecx_half *b, int n);

	/* conversions; f32->f16 rounds to nearest even, overflow gives inf */
	void		(*f16_to_f32) (const vecx_half *src, float *dst, int n);
	void		(*f32_to_f16) (const float *src, vecx_half *dst, int n);

	/*
	 * 8-bit scalar-quantized vectors (hnsw quantization = sq8): code c[i]
	 * stands for lo + scale * c[i], with lo and scale per vector.  q is a
	 * float32 query; the _sym kernels compare two quantized vectors.
	 * dot_u8 is exact (n <= 66,000 cannot overflow 32 bits).
	 */
	float		(*l2sq_sq8) (const float *q, const uint8_t *c, float lo,
							 float scale, int n);
	float		(*dot_sq8) (const float *q, const uint8_t *c, int n);
	float		(*l1_sq8) (const float *q, const uint8_t *c, float lo,
						   float scale, int n);
	uint32_t	(*dot_u8) (const uint8_t *a, const uint8_t *b, int n);
	float		(*l1_sq8_sym) (const uint8_t *a, float alo, float ascale,
							   const uint8_t *b, float blo, float bscale,
							   int n);

	/*
	 * Bit strings (PostgreSQL's bit(n)): n bytes each, padding bits zero.
	 * hamming_bits counts the bits that differ; jaccard_bits counts the
	 * bits set in both (*inter) and in either (*uni).  Exact.
	 */
	uint64_t	(*hamming_bits) (const uint8_t *a, const uint8_t *b, size_t n);
	void		(*jaccard_bits) (const uint8_t *a, const uint8_t *b, size_t n,
								 uint64_t *inter, uint64_t *uni);
} VecxKernels;

/* The scalar reference table: always present. */
extern const VecxKernels vecx_kernels_scalar;

/* Vector tables; NULL when not compiled for this architecture. */
extern const VecxKernels *vecx_kernels_avx2;	/* AVX2 + FMA + F16C */
extern const VecxKernels *vecx_kernels_avx512;	/* AVX-512F/BW/VL (+ F16C) */
extern const VecxKernels *vecx_kernels_neon;

/* The table in use; never NULL after vecx_simd_select(). */
extern const VecxKernels *vecx_kernels;

/*
 * Choose the best table this CPU supports (force_scalar: use the scalar
 * reference).  Returns the chosen table.  Safe to call repeatedly.
 */
extern const VecxKernels *vecx_simd_select(int force_scalar);

/* Best table the CPU supports, ignoring vecx.simd. */
extern const VecxKernels *vecx_simd_best(void);

/*
 * Whether this CPU can run the given table (NULL: no).  For tests and
 * benchmarks that run every available table.
 */
extern int	vecx_simd_supported(const VecxKernels *k);

/* Scalar helpers for single values (exact IEEE round to nearest even). */
extern float vecx_half_to_float(vecx_half h);
extern vecx_half vecx_float_to_half(float f);

#endif							/* VECX_SIMD_H */
