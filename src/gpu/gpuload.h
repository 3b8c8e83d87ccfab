/*-------------------------------------------------------------------------
 *
 * gpuload.h
 *	  The server side of the optional GPU: vecx.gpu and the calls to it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECX_GPULOAD_H
#define VECX_GPULOAD_H

/* vecx.gpu */
typedef enum VecxGpuMode
{
	VECX_GPU_AUTO,
	VECX_GPU_ON,
	VECX_GPU_OFF
} VecxGpuMode;

extern int	vecx_gpu_mode;

extern void VecxGpuInit(void);

/*
 * Whether the GPU is to be used: false with vecx.gpu = off, or with auto
 * and no usable device; ERROR with on and no usable device.  The first
 * call in a backend loads vecx_gpu.so and probes.
 */
extern bool VecxGpuEnabled(void);

/*
 * k-means assignment on the GPU (see IvfpqAssign): true when done, false
 * when the caller must compute it on the CPU (not enabled, or a device
 * error under auto, which is logged at DEBUG1).
 */
extern bool VecxGpuAssign(const float *x, int n, int d, const float *centroids,
						  int k, int *assign);

/*
 * Centroid update (see KmeansUpdate): centroids of non-empty clusters
 * become the means of their rows, bitwise the CPU's (double sums in row
 * order); counts gets the cluster sizes.  Same contract as VecxGpuAssign.
 */
extern bool VecxGpuUpdate(const float *x, int n, int d, const int *assign, int k,
						  float *centroids, int *counts);

/*
 * PQ encoding of n residuals (see IvfpqEncode): m codes per row, one byte
 * each (not packed), and the rounded-up error norm of each row in errs;
 * bitwise IvfpqEncode's.
 */
extern bool VecxGpuPqEncode(const float *r, int n, int dims, int m, const int *suboff,
							int ksub, const float *codebook, uint8 *codes, float *errs);

/*
 * Batched exact distances: out[i] = squared L2 distance of row i of x to
 * row idx[i] of c, summed in coordinate order (the scalar kernel's order).
 */
extern bool VecxGpuL2sqRows(const float *x, int n, int d, const float *c, int k,
							const int *idx, float *out);

#endif							/* VECX_GPULOAD_H */
