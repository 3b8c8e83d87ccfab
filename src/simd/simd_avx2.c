/*-------------------------------------------------------------------------
 *
 * simd_avx2.c
 *	  AVX2 + FMA + F16C kernels (placeholder: not yet implemented).
 *
 *-------------------------------------------------------------------------
 */
#include <stddef.h>

#include "simd.h"

const VecxKernels *vecx_kernels_avx2 = NULL;
