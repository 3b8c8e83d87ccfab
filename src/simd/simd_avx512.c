/*-------------------------------------------------------------------------
 *
 * simd_avx512.c
 *	  AVX-512F/BW/VL + F16C kernels (placeholder: not yet implemented).
 *
 *-------------------------------------------------------------------------
 */
#include <stddef.h>

#include "simd.h"

const VecxKernels *vecx_kernels_avx512 = NULL;
