/*-------------------------------------------------------------------------
 *
 * simd.c
 *	  Runtime selection of the distance kernel table; scalar half helpers.
 *
 * The vector tables are defined (non-NULL) by simd_avx2.c, simd_avx512.c
 * and simd_neon.c when compiled for a matching architecture; here we only
 * decide which one the CPU can run.  No postgres.h: see simd.h.
 *
 *-------------------------------------------------------------------------
 */
#include <stddef.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "simd.h"
#include "simd_internal.h"

const VecxKernels *vecx_kernels = &vecx_kernels_scalar;

#if defined(__x86_64__) && defined(__GNUC__)
/*
 * F16C (CPUID.1:ECX bit 29).  clang 14's __builtin_cpu_supports does not
 * know "f16c", so ask CPUID directly; the OS support for the YMM state it
 * needs is covered by the "avx2" check.
 */
static int
vecx_cpu_has_f16c(void)
{
#if defined(__clang__)
	unsigned int eax,
				ebx,
				ecx,
				edx;

	if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx))
		return 0;
	return (ecx & bit_F16C) != 0;
#else
	return __builtin_cpu_supports("f16c");
#endif
}
#endif

/*
 * Whether the CPU (and OS, for the wider register state) supports each
 * vector table.  __builtin_cpu_supports checks the OS-enabled XSAVE state
 * for AVX and AVX-512 as well as the CPUID bits.
 */
static int
vecx_cpu_has_avx2(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2") &&
		__builtin_cpu_supports("fma") &&
		vecx_cpu_has_f16c();
#else
	return 0;
#endif
}

static int
vecx_cpu_has_avx512(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
	__builtin_cpu_init();
	return vecx_cpu_has_avx2() &&
		__builtin_cpu_supports("avx512f") &&
		__builtin_cpu_supports("avx512bw") &&
		__builtin_cpu_supports("avx512vl");
#else
	return 0;
#endif
}

int
vecx_simd_supported(const VecxKernels *k)
{
	if (k == NULL)
		return 0;
	if (k == &vecx_kernels_scalar)
		return 1;
	if (k == vecx_kernels_avx512)
		return vecx_cpu_has_avx512();
	if (k == vecx_kernels_avx2)
		return vecx_cpu_has_avx2();
	/* every AArch64 CPU has Advanced SIMD with half conversions */
	if (k == vecx_kernels_neon)
		return 1;
	return 0;
}

const VecxKernels *
vecx_simd_best(void)
{
	if (vecx_simd_supported(vecx_kernels_avx512))
		return vecx_kernels_avx512;
	if (vecx_simd_supported(vecx_kernels_avx2))
		return vecx_kernels_avx2;
	if (vecx_simd_supported(vecx_kernels_neon))
		return vecx_kernels_neon;
	return &vecx_kernels_scalar;
}

const VecxKernels *
vecx_simd_select(int force_scalar)
{
	vecx_kernels = force_scalar ? &vecx_kernels_scalar : vecx_simd_best();
	return vecx_kernels;
}

float
vecx_half_to_float(vecx_half h)
{
	return vecx_h2f_inline(h);
}

vecx_half
vecx_float_to_half(float f)
{
	return vecx_f2h_inline(f);
}
