/*-------------------------------------------------------------------------
 *
 * pq_fastscan.c
 *	  Scalar reference of the 4-bit fast-scan kernel, and its dispatch.
 *
 *-------------------------------------------------------------------------
 */
#include <stddef.h>

#include "pq.h"

void
vecx_pq_fastscan_scalar(const uint8_t *codes, const uint8_t *lut, int ngroups,
						uint16_t *sums)
{
	int			g,
				i;

	for (i = 0; i < VECX_PQ_BLOCK; i++)
		sums[i] = 0;
	for (g = 0; g < ngroups; g++)
	{
		const uint8_t *c = codes + g * 32;
		const uint8_t *lo = lut + g * 64;	/* sub-q 4g | 4g + 2 */
		const uint8_t *hi = lo + 32;	/* sub-q 4g + 1 | 4g + 3 */

		for (i = 0; i < 16; i++)
			sums[i] = (uint16_t) (sums[i] +
								  lo[c[i] & 15] + hi[c[i] >> 4] +
								  lo[16 + (c[16 + i] & 15)] + hi[16 + (c[16 + i] >> 4)]);
	}
}

void
vecx_pq_quantize_scalar(const float *lut, const float *mins, int m, float scale,
						uint8_t *qlut)
{
	int			j,
				k;

	for (j = 0; j < m; j++)
	{
		uint8_t    *q = qlut + vecx_pq_lut_index(j, 0);

		for (k = 0; k < 16; k++)
		{
			float		v = (lut[j * 16 + k] - mins[j]) * scale + 0.5f;

			q[k] = v >= 255.0f ? 255 : v > 0.0f ? (uint8_t) (int) v : 0;
		}
	}
}

void
vecx_pq_minmax_scalar(const float *lut, int m, float *mins, float *ranges)
{
	int			j,
				k;

	for (j = 0; j < m; j++)
	{
		const float *l = lut + j * 16;
		float		mn = l[0],
					mx = l[0];

		for (k = 1; k < 16; k++)
		{
			mn = l[k] < mn ? l[k] : mn;
			mx = l[k] > mx ? l[k] : mx;
		}
		mins[j] = mn;
		ranges[j] = mx - mn;
	}
}

vecx_pq_minmax_fn
vecx_pq_minmax_select(int force_scalar)
{
#if defined(__x86_64__) && defined(__GNUC__)
	if (!force_scalar && vecx_pq_minmax_avx2 != NULL &&
		__builtin_cpu_supports("avx2"))
		return vecx_pq_minmax_avx2;
#endif
	return vecx_pq_minmax_scalar;
}

vecx_pq_quantize_fn
vecx_pq_quantize_select(int force_scalar)
{
#if defined(__x86_64__) && defined(__GNUC__)
	if (!force_scalar && vecx_pq_quantize_avx2 != NULL &&
		__builtin_cpu_supports("avx2"))
		return vecx_pq_quantize_avx2;
#endif
	return vecx_pq_quantize_scalar;
}

vecx_pq_fastscan_fn
vecx_pq_fastscan_select(int force_scalar)
{
#if defined(__x86_64__) && defined(__GNUC__)
	if (!force_scalar && vecx_pq_fastscan_avx2 != NULL &&
		__builtin_cpu_supports("avx2"))
		return vecx_pq_fastscan_avx2;
#endif
	return vecx_pq_fastscan_scalar;
}
