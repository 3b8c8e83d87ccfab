/*-------------------------------------------------------------------------
 *
 * gpu_cuda.cu
 *	  CUDA kernels of vecx_gpu.so: k-means assignment and update, PQ encoding,
 *	  batched exact distances.
 *
 * Built only into vecx_gpu.so (never into vecx.so), by nvcc with
 * -fmad=false so that the arithmetic of gpu_math.h rounds on the device as
 * it does on the host.  The CUDA runtime is linked statically; the driver
 * is opened with dlopen in probe(), so a host without one gets a reason
 * ("driver missing") instead of a library that fails to load.
 *
 * Kernels:
 * - assign: one block per row; the block's threads stride over the
 *   centroids (vecx_gm_assign_range) and reduce in a tree with the
 *   order-independent tie rule of vecx_gm_better.
 * - update: one thread per (cluster, coordinate), summing in double the
 *   rows of its cluster in ascending row order (the host sorts each chunk's
 *   rows by cluster, stably), then dividing (vecx_gm_mean).
 * - pq_encode: one thread per row (vecx_gm_pq_encode).
 * - l2sq_rows: one thread per row, the distance of the row to the one row
 *   of c it names (vecx_gm_l2sq_row), summed in coordinate order.
 * Every entry point moves rows to the device in chunks that fit the
 * caller's memory budget, so device memory stays bounded whatever n is.
 *
 *-------------------------------------------------------------------------
 */
#include <cuda_runtime.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern "C"
{
#include "gpu/gpu.h"
}
#include "gpu/gpu_math.h"

#define VECX_GPU_THREADS	256
#define VECX_GPU_SMEM_DIMS	8192	/* 32 KB of shared memory per block */

/* ---- kernels --------------------------------------------------------- */

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

	vecx_gm_assign_range(xi, c, d, threadIdx.x, k, blockDim.x, &bd, &bi);
	best_d[threadIdx.x] = bd;
	best_i[threadIdx.x] = bi;
	__syncthreads();

	for (int step = blockDim.x / 2; step > 0; step >>= 1)
	{
		if (threadIdx.x < step)
			vecx_gm_reduce_step(best_d, best_i, threadIdx.x, step);
		__syncthreads();
	}
	if (threadIdx.x == 0)
	{
		assign[i] = best_i[0];
		if (dist)
			dist[i] = best_d[0];
	}
}

/* sums[j*d+t] += the rows order[start[j]..start[j+1]) of the chunk, in order */
__global__ static void
vecx_update_sum_kernel(const float *x, int d, int k, const int32_t *order,
					   const int32_t *start, double *sums)
{
	int64_t		idx = (int64_t) blockIdx.x * blockDim.x + threadIdx.x;
	int			j,
				t;
	double		s;

	if (idx >= (int64_t) k * d)
		return;
	j = (int) (idx / d);
	t = (int) (idx % d);
	s = sums[idx];
	for (int p = start[j]; p < start[j + 1]; p++)
		s = vecx_gm_accum(s, x[(int64_t) order[p] * d + t]);
	sums[idx] = s;
}

__global__ static void
vecx_update_mean_kernel(const double *sums, const int32_t *counts, int k, int d,
						float *c)
{
	int64_t		idx = (int64_t) blockIdx.x * blockDim.x + threadIdx.x;

	if (idx >= (int64_t) k * d || counts[idx / d] == 0)
		return;
	c[idx] = vecx_gm_mean(sums[idx], counts[idx / d]);
}

__global__ static void
vecx_pq_encode_kernel(const float *r, int64_t n, int dims, int m, const int *suboff,
					  int ksub, const float *codebook, uint8_t *codes, double *sqerr)
{
	int64_t		i = (int64_t) blockIdx.x * blockDim.x + threadIdx.x;

	if (i >= n)
		return;
	sqerr[i] = vecx_gm_pq_encode(r + i * dims, m, suboff, ksub, codebook,
								 codes + i * m);
}

__global__ static void
vecx_l2sq_rows_kernel(const float *x, int64_t n, const float *c, int d,
					  const int32_t *idx, float *out)
{
	int64_t		i = (int64_t) blockIdx.x * blockDim.x + threadIdx.x;

	if (i >= n)
		return;
	out[i] = vecx_gm_l2sq_row(x, c, d, idx, i);
}

/* ---- helpers ------------------------------------------------------------ */

#define CK(call) \
	do { \
		cudaError_t ck_err = (call); \
		if (ck_err != cudaSuccess) \
		{ \
			snprintf(err, errlen, "%s: %s", #call, cudaGetErrorString(ck_err)); \
			goto done; \
		} \
	} while (0)

static unsigned
blocks_for(int64_t threads)
{
	return (unsigned) ((threads + VECX_GPU_THREADS - 1) / VECX_GPU_THREADS);
}

/* ---- probe ------------------------------------------------------------- */

typedef int (*cu_init_fn) (unsigned int);
typedef int (*cu_count_fn) (int *);
typedef int (*cu_errstr_fn) (int, const char **);

static int
vecx_gpu_probe(VecxGpuDevice *devs, int max, char *why, size_t whylen)
{
	void	   *drv;
	cu_init_fn	cu_init;
	cu_count_fn cu_count;
	cu_errstr_fn cu_errstr;
	int			rc,
				count = 0,
				usable = 0;
	cudaError_t cerr;

	/* The driver first, by dlopen: its absence is a reason, not a failure. */
	drv = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
	if (drv == NULL)
	{
		snprintf(why, whylen, "driver missing: cannot open libcuda.so.1 (%s)", dlerror());
		return 0;
	}
	cu_init = (cu_init_fn) dlsym(drv, "cuInit");
	cu_count = (cu_count_fn) dlsym(drv, "cuDeviceGetCount");
	cu_errstr = (cu_errstr_fn) dlsym(drv, "cuGetErrorString");
	if (cu_init == NULL || cu_count == NULL)
	{
		snprintf(why, whylen, "driver unusable: libcuda.so.1 lacks cuInit or cuDeviceGetCount");
		return 0;
	}
	if ((rc = cu_init(0)) != 0)
	{
		const char *s = NULL;

		if (cu_errstr)
			cu_errstr(rc, &s);
		snprintf(why, whylen, "cuInit failed: error %d (%s)", rc, s ? s : "unknown");
		return 0;
	}
	if ((rc = cu_count(&count)) != 0 || count == 0)
	{
		snprintf(why, whylen, "no device: the driver reports %d CUDA devices (error %d)", count, rc);
		return 0;
	}

	/* The runtime must agree, and the kernels must have an image for the device. */
	if ((cerr = cudaGetDeviceCount(&count)) != cudaSuccess || count == 0)
	{
		snprintf(why, whylen, "CUDA runtime: %s",
				 cerr != cudaSuccess ? cudaGetErrorString(cerr) : "no device");
		return 0;
	}
	for (int i = 0; i < count && usable < max; i++)
	{
		cudaDeviceProp prop;
		cudaFuncAttributes attr;

		if ((cerr = cudaGetDeviceProperties(&prop, i)) != cudaSuccess)
		{
			snprintf(why, whylen, "device %d: %s", i, cudaGetErrorString(cerr));
			continue;
		}
		if ((cerr = cudaSetDevice(i)) != cudaSuccess ||
			(cerr = cudaFuncGetAttributes(&attr, vecx_assign_kernel)) != cudaSuccess)
		{
			snprintf(why, whylen, "device %d (%s, compute capability %d.%d): %s",
					 i, prop.name, prop.major, prop.minor, cudaGetErrorString(cerr));
			continue;
		}
		devs[usable].ordinal = i;
		snprintf(devs[usable].name, sizeof(devs[usable].name), "%s", prop.name);
		devs[usable].total_memory = prop.totalGlobalMem;
		devs[usable].cc_major = prop.major;
		devs[usable].cc_minor = prop.minor;
		usable++;
	}
	if (usable > 0)
	{
		cudaSetDevice(devs[0].ordinal);
		snprintf(why, whylen, "ok");
	}
	return usable;
}

/* ---- entry points ---------------------------------------------------------- */

static int
vecx_gpu_assign(const float *x, int64_t n, const float *c, int k, int d,
				size_t budget, int32_t *assign, float *dist, char *err, size_t errlen)
{
	float	   *dx = NULL,
			   *dc = NULL,
			   *dd = NULL;
	int32_t    *da = NULL;
	int			ok = -1;
	size_t		csize = sizeof(float) * (size_t) k * d;
	int64_t		chunk;

	snprintf(err, errlen, "invalid arguments");
	if (n <= 0 || k <= 0 || d <= 0)
		return -1;
	chunk = vecx_gm_chunk_rows(n, budget, csize, sizeof(float) * (size_t) d + 8);

	CK(cudaMalloc(&dc, csize));
	CK(cudaMalloc(&dx, sizeof(float) * (size_t) chunk * d));
	CK(cudaMalloc(&da, sizeof(int32_t) * (size_t) chunk));
	CK(cudaMalloc(&dd, sizeof(float) * (size_t) chunk));
	CK(cudaMemcpy(dc, c, csize, cudaMemcpyHostToDevice));

	for (int64_t off = 0; off < n; off += chunk)
	{
		int64_t		rows = n - off < chunk ? n - off : chunk;

		CK(cudaMemcpy(dx, x + off * d, sizeof(float) * (size_t) rows * d,
					  cudaMemcpyHostToDevice));
		vecx_assign_kernel<<<(unsigned) rows, VECX_GPU_THREADS>>>(dx, rows, dc, k, d, da, dd);
		CK(cudaGetLastError());
		CK(cudaMemcpy(assign + off, da, sizeof(int32_t) * (size_t) rows,
					  cudaMemcpyDeviceToHost));
		if (dist)
			CK(cudaMemcpy(dist + off, dd, sizeof(float) * (size_t) rows,
						  cudaMemcpyDeviceToHost));
	}
	ok = 0;

done:
	cudaFree(dx);
	cudaFree(dc);
	cudaFree(da);
	cudaFree(dd);
	return ok;
}

static int
vecx_gpu_update(const float *x, int64_t n, int d, const int32_t *assign, int k,
				size_t budget, float *centroids, int32_t *counts, char *err, size_t errlen)
{
	float	   *dx = NULL,
			   *dc = NULL;
	double	   *dsums = NULL;
	int32_t    *dorder = NULL,
			   *dstart = NULL,
			   *dcounts = NULL,
			   *order = NULL,
			   *start = NULL;
	int			ok = -1;
	size_t		kd = (size_t) k * d;
	int64_t		chunk;

	snprintf(err, errlen, "invalid arguments");
	if (n <= 0 || k <= 0 || d <= 0)
		return -1;
	chunk = vecx_gm_chunk_rows(n, budget, kd * (sizeof(double) + sizeof(float)) + 8 * (size_t) k,
					   sizeof(float) * (size_t) d + 4);
	order = (int32_t *) malloc(sizeof(int32_t) * (size_t) chunk);
	start = (int32_t *) malloc(sizeof(int32_t) * ((size_t) k + 1));
	if (order == NULL || start == NULL)
	{
		snprintf(err, errlen, "out of host memory");
		goto done;
	}
	memset(counts, 0, sizeof(int32_t) * (size_t) k);

	CK(cudaMalloc(&dsums, sizeof(double) * kd));
	CK(cudaMemset(dsums, 0, sizeof(double) * kd));
	CK(cudaMalloc(&dx, sizeof(float) * (size_t) chunk * d));
	CK(cudaMalloc(&dorder, sizeof(int32_t) * (size_t) chunk));
	CK(cudaMalloc(&dstart, sizeof(int32_t) * ((size_t) k + 1)));

	for (int64_t off = 0; off < n; off += chunk)
	{
		int64_t		rows = n - off < chunk ? n - off : chunk;
		int64_t		bad = vecx_gm_sort_chunk(assign + off, rows, k, order, start, counts);

		if (bad >= 0)
		{
			snprintf(err, errlen, "assignment %d of row %lld out of range",
					 (int) assign[off + bad], (long long) (off + bad));
			goto done;
		}
		CK(cudaMemcpy(dx, x + off * d, sizeof(float) * (size_t) rows * d,
					  cudaMemcpyHostToDevice));
		CK(cudaMemcpy(dorder, order, sizeof(int32_t) * (size_t) rows, cudaMemcpyHostToDevice));
		CK(cudaMemcpy(dstart, start, sizeof(int32_t) * ((size_t) k + 1), cudaMemcpyHostToDevice));
		vecx_update_sum_kernel<<<blocks_for((int64_t) kd), VECX_GPU_THREADS>>>(dx, d, k, dorder, dstart, dsums);
		CK(cudaGetLastError());
	}

	CK(cudaMalloc(&dc, sizeof(float) * kd));
	CK(cudaMalloc(&dcounts, sizeof(int32_t) * (size_t) k));
	CK(cudaMemcpy(dc, centroids, sizeof(float) * kd, cudaMemcpyHostToDevice));
	CK(cudaMemcpy(dcounts, counts, sizeof(int32_t) * (size_t) k, cudaMemcpyHostToDevice));
	vecx_update_mean_kernel<<<blocks_for((int64_t) kd), VECX_GPU_THREADS>>>(dsums, dcounts, k, d, dc);
	CK(cudaGetLastError());
	CK(cudaMemcpy(centroids, dc, sizeof(float) * kd, cudaMemcpyDeviceToHost));
	ok = 0;

done:
	free(order);
	free(start);
	cudaFree(dx);
	cudaFree(dc);
	cudaFree(dsums);
	cudaFree(dorder);
	cudaFree(dstart);
	cudaFree(dcounts);
	return ok;
}

static int
vecx_gpu_pq_encode(const float *r, int64_t n, int dims, int m, const int *suboff,
				   int ksub, const float *codebook, size_t budget, uint8_t *codes,
				   double *sqerr, char *err, size_t errlen)
{
	float	   *dr = NULL,
			   *dcb = NULL;
	int		   *dsuboff = NULL;
	uint8_t    *dcodes = NULL;
	double	   *derr = NULL;
	int			ok = -1;
	size_t		cbsize = sizeof(float) * (size_t) ksub * dims;
	int64_t		chunk;

	snprintf(err, errlen, "invalid arguments");
	if (n <= 0 || dims <= 0 || m <= 0 || ksub <= 0 || ksub > 256)
		return -1;
	chunk = vecx_gm_chunk_rows(n, budget, cbsize, sizeof(float) * (size_t) dims + m + sizeof(double));

	CK(cudaMalloc(&dcb, cbsize));
	CK(cudaMalloc(&dsuboff, sizeof(int) * ((size_t) m + 1)));
	CK(cudaMalloc(&dr, sizeof(float) * (size_t) chunk * dims));
	CK(cudaMalloc(&dcodes, (size_t) chunk * m));
	CK(cudaMalloc(&derr, sizeof(double) * (size_t) chunk));
	CK(cudaMemcpy(dcb, codebook, cbsize, cudaMemcpyHostToDevice));
	CK(cudaMemcpy(dsuboff, suboff, sizeof(int) * ((size_t) m + 1), cudaMemcpyHostToDevice));

	for (int64_t off = 0; off < n; off += chunk)
	{
		int64_t		rows = n - off < chunk ? n - off : chunk;

		CK(cudaMemcpy(dr, r + off * dims, sizeof(float) * (size_t) rows * dims,
					  cudaMemcpyHostToDevice));
		vecx_pq_encode_kernel<<<blocks_for(rows), VECX_GPU_THREADS>>>(dr, rows, dims, m, dsuboff,
																   ksub, dcb, dcodes, derr);
		CK(cudaGetLastError());
		CK(cudaMemcpy(codes + off * m, dcodes, (size_t) rows * m, cudaMemcpyDeviceToHost));
		CK(cudaMemcpy(sqerr + off, derr, sizeof(double) * (size_t) rows, cudaMemcpyDeviceToHost));
	}
	ok = 0;

done:
	cudaFree(dr);
	cudaFree(dcb);
	cudaFree(dsuboff);
	cudaFree(dcodes);
	cudaFree(derr);
	return ok;
}

static int
vecx_gpu_l2sq_rows(const float *x, int64_t n, const float *c, int k, int d,
				   const int32_t *idx, size_t budget, float *out, char *err,
				   size_t errlen)
{
	float	   *dx = NULL,
			   *dc = NULL,
			   *dout = NULL;
	int32_t    *didx = NULL;
	int			ok = -1;
	size_t		csize = sizeof(float) * (size_t) k * d;
	int64_t		chunk,
				bad;

	snprintf(err, errlen, "invalid arguments");
	if (n <= 0 || k <= 0 || d <= 0)
		return -1;
	if ((bad = vecx_gm_check_rows(idx, n, k)) >= 0)
	{
		snprintf(err, errlen, "row %d named by row %lld out of range",
				 (int) idx[bad], (long long) bad);
		return -1;
	}
	chunk = vecx_gm_chunk_rows(n, budget, csize, sizeof(float) * (size_t) d + 8);

	CK(cudaMalloc(&dc, csize));
	CK(cudaMalloc(&dx, sizeof(float) * (size_t) chunk * d));
	CK(cudaMalloc(&didx, sizeof(int32_t) * (size_t) chunk));
	CK(cudaMalloc(&dout, sizeof(float) * (size_t) chunk));
	CK(cudaMemcpy(dc, c, csize, cudaMemcpyHostToDevice));

	for (int64_t off = 0; off < n; off += chunk)
	{
		int64_t		rows = n - off < chunk ? n - off : chunk;

		CK(cudaMemcpy(dx, x + off * d, sizeof(float) * (size_t) rows * d,
					  cudaMemcpyHostToDevice));
		CK(cudaMemcpy(didx, idx + off, sizeof(int32_t) * (size_t) rows,
					  cudaMemcpyHostToDevice));
		vecx_l2sq_rows_kernel<<<blocks_for(rows), VECX_GPU_THREADS>>>(dx, rows, dc, d, didx, dout);
		CK(cudaGetLastError());
		CK(cudaMemcpy(out + off, dout, sizeof(float) * (size_t) rows,
					  cudaMemcpyDeviceToHost));
	}
	ok = 0;

done:
	cudaFree(dx);
	cudaFree(dc);
	cudaFree(didx);
	cudaFree(dout);
	return ok;
}

static const VecxGpuApi vecx_gpu_table = {
	VECX_GPU_ABI_VERSION,
	vecx_gpu_probe,
	vecx_gpu_assign,
	vecx_gpu_update,
	vecx_gpu_pq_encode,
	vecx_gpu_l2sq_rows,
};

extern "C" __attribute__((visibility("default"))) const VecxGpuApi *
vecx_gpu_api(void)
{
	return &vecx_gpu_table;
}
