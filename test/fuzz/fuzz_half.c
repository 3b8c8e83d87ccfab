/*-------------------------------------------------------------------------
 *
 * fuzz_half.c
 *	  libFuzzer harness: every kernel table converts like the scalar one.
 *
 * The input is read both as binary32 values and as binary16 values.  For
 * every table the CPU supports, f32_to_f16 and f16_to_f32 must match the
 * scalar reference bit for bit (NaN payloads included: the scalar code
 * quietens NaNs the way F16C does), must not write past n (ASan), and
 * half -> float -> half must give back the same half for non-NaN values.
 * The length n takes every value up to the input size, so vector tails
 * are covered.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simd/simd.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const VecxKernels *cand[3] = {
		vecx_kernels_avx2, vecx_kernels_avx512, vecx_kernels_neon
	};
	int			nf = (int) (size / sizeof(float));
	int			nh = (int) (size / sizeof(vecx_half));
	float	   *f = malloc(sizeof(float) * (nf + 1));
	vecx_half  *h = malloc(sizeof(vecx_half) * (nh + 1));
	vecx_half  *hr = malloc(sizeof(vecx_half) * (nf + 1));
	vecx_half  *ht = malloc(sizeof(vecx_half) * (nf + 1));
	float	   *fr = malloc(sizeof(float) * (nh + 1));
	float	   *ft = malloc(sizeof(float) * (nh + 1));
	vecx_half  *back = malloc(sizeof(vecx_half) * (nh + 1));
	int			t,
				i;

	memcpy(f, data, sizeof(float) * nf);
	memcpy(h, data, sizeof(vecx_half) * nh);

	vecx_kernels_scalar.f32_to_f16(f, hr, nf);
	vecx_kernels_scalar.f16_to_f32(h, fr, nh);
	for (i = 0; i < nf; i++)
		if (hr[i] != vecx_float_to_half(f[i]))
			abort();
	/* half -> float -> half is the identity except for NaN */
	vecx_kernels_scalar.f32_to_f16(fr, back, nh);
	for (i = 0; i < nh; i++)
		if (!((h[i] & 0x7c00) == 0x7c00 && (h[i] & 0x3ff)) && back[i] != h[i])
		{
			fprintf(stderr, "round trip %04x -> %04x\n", h[i], back[i]);
			abort();
		}

	for (t = 0; t < 3; t++)
	{
		const VecxKernels *k = cand[t];

		if (!vecx_simd_supported(k))
			continue;
		k->f32_to_f16(f, ht, nf);
		if (memcmp(ht, hr, sizeof(vecx_half) * nf) != 0)
		{
			for (i = 0; i < nf; i++)
				if (ht[i] != hr[i])
				{
					uint32_t	u;

					memcpy(&u, &f[i], 4);
					fprintf(stderr, "%s f32_to_f16(%08x) = %04x, scalar %04x\n",
							k->name, u, ht[i], hr[i]);
				}
			abort();
		}
		k->f16_to_f32(h, ft, nh);
		if (memcmp(ft, fr, sizeof(float) * nh) != 0)
		{
			fprintf(stderr, "%s f16_to_f32 differs from scalar\n", k->name);
			abort();
		}
	}
	free(f);
	free(h);
	free(hr);
	free(ht);
	free(fr);
	free(ft);
	free(back);
	return 0;
}
