/*-------------------------------------------------------------------------
 *
 * gpu.h
 *	  Optional CUDA kernels: nearest-centroid assignment for k-means.
 *
 * The extension is built without CUDA by default; "make WITH_CUDA=1"
 * compiles the .cu files in src/gpu with nvcc and links the CUDA runtime statically,
 * so the library still loads on machines with no driver.  Every entry
 * point returns false when no device can be used, and callers then take
 * their CPU path: results never depend on whether a GPU was present.
 *
 * Plain C (no postgres.h) so unit tests can link it without a server.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECX_GPU_H
#define VECX_GPU_H

#include <stdbool.h>
#include <stdint.h>

/* True when built with CUDA and a device answers. */
extern bool vecx_gpu_available(void);

/*
 * For each of the n rows of x (n x d floats, row-major) find the nearest of
 * the k centroids c (k x d) by squared L2 distance; write its index to
 * assign[i] and the distance to dist[i] (dist may be NULL).  Ties go to the
 * lower centroid index, as on the CPU.  Returns false, touching nothing,
 * when no device is usable or the device reports an error.
 */
extern bool vecx_gpu_assign(const float *x, int64_t n, const float *c,
							int k, int d, int32_t *assign, float *dist);

/* Name of the device in use, or a reason there is none. */
extern const char *vecx_gpu_describe(void);

#endif							/* VECX_GPU_H */
