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

#endif							/* VECX_GPULOAD_H */
