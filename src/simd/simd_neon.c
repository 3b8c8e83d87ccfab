/*-------------------------------------------------------------------------
 *
 * simd_neon.c
 *	  AArch64 Advanced SIMD kernels (placeholder: not yet implemented).
 *
 *-------------------------------------------------------------------------
 */
#include <stddef.h>

#include "simd.h"

const VecxKernels *vecx_kernels_neon = NULL;
