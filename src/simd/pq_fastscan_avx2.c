/*-------------------------------------------------------------------------
 *
 * pq_fastscan_avx2.c
 *	  AVX2 4-bit fast-scan kernel (vpshufb lookups, uint16 sums).
 *
 * Compiled with a function target attribute, reached only after
 * vecx_pq_fastscan_select() checked the CPU.  Per group of four
 * sub-quantizers: one load of 32 code bytes; the low nibbles index the
 * first 32-byte table and the high nibbles the second (one vpshufb each);
 * the uint8 results are widened into two uint16 accumulators (vectors 0-7
 * and 8-15, with different sub-quantizers in the two lanes), whose lanes
 * are added at the end.
 *-------------------------------------------------------------------------
 */
#include <stddef.h>

#include "pq.h"

#if defined(__x86_64__) && defined(__GNUC__)

#include <immintrin.h>

__attribute__((target("avx2")))
static void
pq_fastscan_avx2(const uint8_t *codes, const uint8_t *lut, int ngroups, uint16_t *sums)
{
	const __m256i mask = _mm256_set1_epi8(0x0F);
	const __m256i zero = _mm256_setzero_si256();
	__m256i		a0 = zero,
				a1 = zero;
	__m128i		r;
	int			g;

	for (g = 0; g < ngroups; g++)
	{
		__m256i		c = _mm256_loadu_si256((const __m256i *) (codes + g * 32));
		__m256i		llo = _mm256_loadu_si256((const __m256i *) (lut + g * 64));
		__m256i		lhi = _mm256_loadu_si256((const __m256i *) (lut + g * 64 + 32));
		__m256i		rl = _mm256_shuffle_epi8(llo, _mm256_and_si256(c, mask));
		__m256i		rh = _mm256_shuffle_epi8(lhi, _mm256_and_si256(_mm256_srli_epi16(c, 4), mask));

		a0 = _mm256_add_epi16(a0, _mm256_unpacklo_epi8(rl, zero));
		a1 = _mm256_add_epi16(a1, _mm256_unpackhi_epi8(rl, zero));
		a0 = _mm256_add_epi16(a0, _mm256_unpacklo_epi8(rh, zero));
		a1 = _mm256_add_epi16(a1, _mm256_unpackhi_epi8(rh, zero));
	}

	/* the two lanes hold different sub-quantizers' shares: add them */
	r = _mm_add_epi16(_mm256_castsi256_si128(a0), _mm256_extracti128_si256(a0, 1));
	_mm_storeu_si128((__m128i *) (sums + 0), r);
	r = _mm_add_epi16(_mm256_castsi256_si128(a1), _mm256_extracti128_si256(a1, 1));
	_mm_storeu_si128((__m128i *) (sums + 8), r);
}

/* 16 floats per table: two registers, converted and packed to 16 bytes */
__attribute__((target("avx2")))
static void
pq_quantize_avx2(const float *lut, const float *mins, int m, float scale, uint8_t *qlut)
{
	const __m256 vs = _mm256_set1_ps(scale);
	const __m256 half = _mm256_set1_ps(0.5f);
	int			j;

	for (j = 0; j < m; j++)
	{
		__m256		mn = _mm256_set1_ps(mins[j]);
		__m256		v0 = _mm256_add_ps(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(lut + j * 16), mn), vs), half);
		__m256		v1 = _mm256_add_ps(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(lut + j * 16 + 8), mn), vs), half);
		__m256i		i0 = _mm256_cvttps_epi32(v0);
		__m256i		i1 = _mm256_cvttps_epi32(v1);
		__m128i		a = _mm_packs_epi32(_mm256_castsi256_si128(i0), _mm256_extracti128_si256(i0, 1));
		__m128i		b = _mm_packs_epi32(_mm256_castsi256_si128(i1), _mm256_extracti128_si256(i1, 1));

		_mm_storeu_si128((__m128i *) (qlut + vecx_pq_lut_index(j, 0)), _mm_packus_epi16(a, b));
	}
}

/* Horizontal min / max of 16 floats held in two registers */
__attribute__((target("avx2")))
static void
pq_minmax_avx2(const float *lut, int m, float *mins, float *ranges)
{
	int			j;

	for (j = 0; j < m; j++)
	{
		__m256		a = _mm256_loadu_ps(lut + j * 16);
		__m256		b = _mm256_loadu_ps(lut + j * 16 + 8);
		__m128		mn = _mm_min_ps(_mm256_castps256_ps128(_mm256_min_ps(a, b)),
									_mm256_extractf128_ps(_mm256_min_ps(a, b), 1));
		__m128		mx = _mm_max_ps(_mm256_castps256_ps128(_mm256_max_ps(a, b)),
									_mm256_extractf128_ps(_mm256_max_ps(a, b), 1));

		mn = _mm_min_ps(mn, _mm_movehl_ps(mn, mn));
		mn = _mm_min_ss(mn, _mm_shuffle_ps(mn, mn, 1));
		mx = _mm_max_ps(mx, _mm_movehl_ps(mx, mx));
		mx = _mm_max_ss(mx, _mm_shuffle_ps(mx, mx, 1));
		mins[j] = _mm_cvtss_f32(mn);
		ranges[j] = _mm_cvtss_f32(mx) - mins[j];
	}
}

const vecx_pq_fastscan_fn vecx_pq_fastscan_avx2 = pq_fastscan_avx2;
const vecx_pq_quantize_fn vecx_pq_quantize_avx2 = pq_quantize_avx2;
const vecx_pq_minmax_fn vecx_pq_minmax_avx2 = pq_minmax_avx2;

#else

const vecx_pq_fastscan_fn vecx_pq_fastscan_avx2 = NULL;
const vecx_pq_quantize_fn vecx_pq_quantize_avx2 = NULL;
const vecx_pq_minmax_fn vecx_pq_minmax_avx2 = NULL;

#endif
