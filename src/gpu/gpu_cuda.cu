/*-------------------------------------------------------------------------
 *
 * gpu_cuda.cu
 *	  CUDA nearest-centroid assignment for k-means (built with WITH_CUDA=1).
 *
 * One thread block per input row: the row is staged in shared memory when
 * it fits, the block's threads stride over the centroids computing squared
 * L2 distances, and a block-wide reduction picks the minimum (ties to the
 * lower centroid index, matching the CPU path).  Rows are sent in chunks so
 * device memory stays bounded whatever n is.
 *
 *-------------------------------------------------------------------------
 */
#include <cuda_runtime.h>
#include <stdio.h>
#include <float.h>

extern "C"
{
#include "gpu/gpu.h"
}

#define VECX_GPU_THREADS	256
#define VECX_GPU_SMEM_DIMS	8192	/* 32 KB of shared memory per block */
#define VECX_GPU_CHUNK_ROWS	16384

static char vecx_gpu_desc[256] = "not probed";

__global__ static void
vecx_assign_kernel(const float *x, int64_t n, const float *c, int k, int d,
				   int32_t *assign, float *dist)
{
	__shared__ float row[VECX_GPU_SMEM_DIMS];
	__shared__ float best_d[VECX_GPU_THREADS];
	__shared__ int best_i[VECX_GPU_THREADS];
	int64_t		i = blockIdx.x;
	const float *xi;
	float		bd = FLT_MAX;
	int			bi = -1;

	if (i >= n)
		return;
	xi = x + i * (int64_t) d;
	if (d <= VECX_GPU_SMEM_DIMS)
	{
		for (int j = threadIdx.x; j < d; j += blockDim.x)
			row[j] = xi[j];
		__syncthreads();
		xi = row;
	}

	for (int cj = threadIdx.x; cj < k; cj += blockDim.x)
	{
		const float *cc = c + (int64_t) cj * d;
		float		s = 0.0f;

		for (int j = 0; j < d; j++)
		{
			float		t = xi[j] - cc[j];

			s += t * t;
		}
		if (s < bd)
		{
			bd = s;
			bi = cj;
		}
	}
	best_d[threadIdx.x] = bd;
	best_i[threadIdx.x] = bi;
	__syncthreads();

	for (int step = blockDim.x / 2; step > 0; step >>= 1)
	{
		if (threadIdx.x < step)
		{
			float		od = best_d[threadIdx.x + step];
			int			oi = best_i[threadIdx.x + step];

			if (oi >= 0 && (best_i[threadIdx.x] < 0 || od < best_d[threadIdx.x] ||
							(od == best_d[threadIdx.x] && oi < best_i[threadIdx.x])))
			{
				best_d[threadIdx.x] = od;
				best_i[threadIdx.x] = oi;
			}
		}
		__syncthreads();
	}
	if (threadIdx.x == 0)
	{
		assign[i] = best_i[0];
		if (dist)
			dist[i] = best_d[0];
	}
}

extern "C" bool
vecx_gpu_available(void)
{
	int			count = 0;
	cudaError_t err = cudaGetDeviceCount(&count);

	if (err != cudaSuccess || count == 0)
	{
		snprintf(vecx_gpu_desc, sizeof(vecx_gpu_desc), "no device: %s",
				 err != cudaSuccess ? cudaGetErrorString(err) : "none found");
		return false;
	}
	else
	{
		cudaDeviceProp prop;

		if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess)
			snprintf(vecx_gpu_desc, sizeof(vecx_gpu_desc), "%s", prop.name);
	}
	return true;
}

extern "C" const char *
vecx_gpu_describe(void)
{
	vecx_gpu_available();
	return vecx_gpu_desc;
}

extern "C" bool
vecx_gpu_assign(const float *x, int64_t n, const float *c, int k, int d,
				int32_t *assign, float *dist)
{
	float	   *dx = NULL,
			   *dc = NULL,
			   *dd = NULL;
	int32_t    *da = NULL;
	bool		ok = false;
	int64_t		chunk;

	if (n <= 0 || k <= 0 || d <= 0 || !vecx_gpu_available())
		return false;
	chunk = n < VECX_GPU_CHUNK_ROWS ? n : VECX_GPU_CHUNK_ROWS;

	if (cudaMalloc(&dc, sizeof(float) * (size_t) k * d) != cudaSuccess ||
		cudaMalloc(&dx, sizeof(float) * (size_t) chunk * d) != cudaSuccess ||
		cudaMalloc(&da, sizeof(int32_t) * (size_t) chunk) != cudaSuccess ||
		cudaMalloc(&dd, sizeof(float) * (size_t) chunk) != cudaSuccess)
		goto done;
	if (cudaMemcpy(dc, c, sizeof(float) * (size_t) k * d, cudaMemcpyHostToDevice) != cudaSuccess)
		goto done;

	for (int64_t off = 0; off < n; off += chunk)
	{
		int64_t		rows = n - off < chunk ? n - off : chunk;

		if (cudaMemcpy(dx, x + off * d, sizeof(float) * (size_t) rows * d,
					   cudaMemcpyHostToDevice) != cudaSuccess)
			goto done;
		vecx_assign_kernel<<<(unsigned) rows, VECX_GPU_THREADS>>>(dx, rows, dc, k, d, da, dd);
		if (cudaGetLastError() != cudaSuccess ||
			cudaMemcpy(assign + off, da, sizeof(int32_t) * (size_t) rows,
					   cudaMemcpyDeviceToHost) != cudaSuccess)
			goto done;
		if (dist &&
			cudaMemcpy(dist + off, dd, sizeof(float) * (size_t) rows,
					   cudaMemcpyDeviceToHost) != cudaSuccess)
			goto done;
	}
	ok = true;

done:
	cudaFree(dx);
	cudaFree(dc);
	cudaFree(da);
	cudaFree(dd);
	return ok;
}
