/*-------------------------------------------------------------------------
 *
 * gpu_none.c
 *	  GPU entry points for builds without CUDA: report "no device".
 *
 * Compiled only when VECX_WITH_CUDA is not defined; with WITH_CUDA=1 the
 * same symbols come from gpu_cuda.cu instead.
 *
 *-------------------------------------------------------------------------
 */
#include "gpu/gpu.h"

#ifndef VECX_WITH_CUDA

bool
vecx_gpu_available(void)
{
	return false;
}

bool
vecx_gpu_assign(const float *x, int64_t n, const float *c, int k, int d,
				int32_t *assign, float *dist)
{
	return false;
}

const char *
vecx_gpu_describe(void)
{
	return "built without CUDA";
}

#endif							/* !VECX_WITH_CUDA */
