/*-------------------------------------------------------------------------
 *
 * gpu.h
 *	  Interface between vecx.so and the optional CUDA library vecx_gpu.so.
 *
 * vecx.so never links CUDA.  The kernels live in a separate library,
 * $libdir/vecx_gpu.so, built by nvcc where it exists (gpu_cuda.cu, the
 * CUDA runtime linked statically so that only the driver, libcuda.so.1,
 * is needed at run time, and it is itself opened with dlopen).  vecx.so
 * dlopens the library the first time vecx.gpu lets it look for a device
 * (gpuload.c) and finds everything through the one exported symbol,
 * vecx_gpu_api().  The table carries an ABI version: a vecx_gpu.so from
 * another build of vecx is refused, not called.
 *
 * The environment variable VECX_GPU_LIBRARY (the server's environment,
 * read once per backend) names another library file to load instead: the
 * tests point it at test/gpu/gpu_emul.c, a CPU emulation of this table, to
 * run the builds' GPU paths on machines without a device.
 *
 * Every entry point returns 0 on success or -1 with a message in err; on
 * failure the outputs are undefined and the caller takes its CPU path (or
 * raises an error when vecx.gpu = on).
 *
 * Plain C (no postgres.h) so the test programs can use it without a server.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECX_GPU_H
#define VECX_GPU_H

#include <stddef.h>
#include <stdint.h>

#define VECX_GPU_ABI_VERSION	2
#define VECX_GPU_MAX_DEVICES	16
#define VECX_GPU_MSG_LEN		256

/* The name of the library under $libdir and of its one symbol. */
#define VECX_GPU_LIBRARY		"vecx_gpu"
#define VECX_GPU_SYMBOL			"vecx_gpu_api"

typedef struct VecxGpuDevice
{
	int			ordinal;
	char		name[VECX_GPU_MSG_LEN];
	uint64_t	total_memory;	/* bytes */
	int			cc_major;		/* compute capability */
	int			cc_minor;
} VecxGpuDevice;

typedef struct VecxGpuApi
{
	int			abi_version;	/* VECX_GPU_ABI_VERSION */

	/*
	 * Look for devices the kernels can run on.  Fills up to max entries of
	 * devs and returns how many there are; 0 with the reason in why
	 * (driver missing, cuInit error, no device, no kernel image for the
	 * device's architecture).
	 */
	int			(*probe) (VecxGpuDevice *devs, int max, char *why, size_t whylen);

	/*
	 * k-means assignment: for each of the n rows of x (n x d floats,
	 * row-major) the nearest of the k centroids c (k x d) by squared L2
	 * distance, ties to the lower index (gpu_math.h); assign[i] gets its
	 * index and dist[i] (dist may be NULL) the distance.  Rows go to the
	 * device in chunks of at most mem_budget bytes.
	 */
	int			(*assign) (const float *x, int64_t n, const float *c, int k, int d,
						   size_t mem_budget, int32_t *assign, float *dist,
						   char *err, size_t errlen);

	/*
	 * k-means update: centroids[j] = mean of the rows assigned to j (sums
	 * in double, in row order, as the CPU does); counts[j] gets the number
	 * of rows.  Centroids of empty clusters are left as they are.
	 */
	int			(*update) (const float *x, int64_t n, int d, const int32_t *assign,
						   int k, size_t mem_budget, float *centroids, int32_t *counts,
						   char *err, size_t errlen);

	/*
	 * PQ encoding of n residuals (n x dims): codes gets m codes per row
	 * (one byte each, whatever nbits) and sqerr the squared quantization
	 * error of each row (gpu_math.h, vecx_gm_pq_encode).
	 */
	int			(*pq_encode) (const float *r, int64_t n, int dims, int m,
							  const int *suboff, int ksub, const float *codebook,
							  size_t mem_budget, uint8_t *codes, double *sqerr,
							  char *err, size_t errlen);

	/*
	 * Batched exact distances: out[i] = squared L2 distance of row i of x
	 * (n x d) to row idx[i] of c (k x d), accumulated in float in
	 * coordinate order (gpu_math.h, vecx_gm_l2sq: bitwise the scalar
	 * kernel's).  Rows go to the device in chunks within mem_budget; c
	 * stays on the device.
	 */
	int			(*l2sq_rows) (const float *x, int64_t n, const float *c, int k, int d,
							  const int32_t *idx, size_t mem_budget, float *out,
							  char *err, size_t errlen);
} VecxGpuApi;

typedef const VecxGpuApi *(*VecxGpuApiFn) (void);

/* Exported by vecx_gpu.so. */
extern const VecxGpuApi *vecx_gpu_api(void);

#endif							/* VECX_GPU_H */
