/*-------------------------------------------------------------------------
 *
 * test_pq.c
 *	  Unit tests of the 4-bit fast-scan kernels: the scalar reference
 *	  against a naive per-vector sum, and the AVX2 variant against the
 *	  scalar one, on random and extreme codes and tables.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simd/pq.h"

static long passed;
static long failed;

#define CHECK(cond, ...) \
	do { \
		if (cond) \
			passed++; \
		else if (failed++ < 20) \
		{ \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__); \
			fputc('\n', stderr); \
		} \
	} while (0)

static uint32_t rng = 12345;

static uint32_t
next(void)
{
	rng = rng * 1664525u + 1013904223u;
	return rng >> 8;
}

/* Sum for vector v the naive way, through the set/get helpers. */
static uint32_t
naive(const uint8_t *codes, const uint8_t *lut, int m, int v)
{
	uint32_t	s = 0;
	int			j;

	for (j = 0; j < m; j++)
		s += lut[vecx_pq_lut_index(j, vecx_pq_block_get(codes, j, v))];
	return s;
}

static void
check_case(int m, int mode)
{
	int			ngroups = (m + 3) / 4;
	uint8_t    *codes = calloc(ngroups * 32, 1);
	uint8_t    *lut = calloc(ngroups * 64, 1);
	uint16_t	s1[VECX_PQ_BLOCK],
				s2[VECX_PQ_BLOCK];
	int			j,
				v;
	vecx_pq_fastscan_fn best = vecx_pq_fastscan_select(0);

	for (j = 0; j < m; j++)
		for (v = 0; v < VECX_PQ_BLOCK; v++)
			vecx_pq_block_set(codes, j, v, mode == 1 ? 15 : (int) (next() & 15));
	/* set/get round trip */
	for (j = 0; j < m; j++)
		for (v = 0; v < VECX_PQ_BLOCK; v++)
		{
			int			c = (int) (next() & 15);

			vecx_pq_block_set(codes, j, v, c);
			CHECK(vecx_pq_block_get(codes, j, v) == c, "set/get m=%d j=%d v=%d", m, j, v);
		}
	for (j = 0; j < ngroups * 64; j++)
		lut[j] = mode == 1 ? 255 : (uint8_t) (next() & 255);
	/* m not a multiple of 4: the phantom sub-quantizers' tables are zero */
	for (j = m; j < ngroups * 4; j++)
		memset(lut + vecx_pq_lut_index(j, 0), 0, 16);
	/* every table position belongs to exactly one (j, k) */
	{
		static unsigned char seen[64 * 256];
		int			k;

		memset(seen, 0, sizeof(seen));

		for (j = 0; j < ngroups * 4; j++)
			for (k = 0; k < 16; k++)
				seen[vecx_pq_lut_index(j, k)]++;
		for (j = 0; j < ngroups * 64; j++)
			CHECK(seen[j] == 1, "lut index m=%d pos=%d", m, j);
	}

	vecx_pq_fastscan_scalar(codes, lut, ngroups, s1);
	best(codes, lut, ngroups, s2);
	for (v = 0; v < VECX_PQ_BLOCK; v++)
	{
		uint32_t	n = naive(codes, lut, m, v);

		CHECK(s1[v] == (uint16_t) n, "scalar m=%d v=%d: %u != %u", m, v, s1[v], n);
		CHECK(s2[v] == s1[v], "best m=%d v=%d: %u != %u", m, v, s2[v], s1[v]);
	}
	free(codes);
	free(lut);
}

/* Quantization: AVX2 against scalar on tables of random floats */
static void
check_quantize(int m)
{
	int			ngroups = (m + 3) / 4;
	float	   *lut = malloc(sizeof(float) * 16 * m);
	float	   *mins = malloc(sizeof(float) * m);
	uint8_t    *q1 = calloc(ngroups * 64, 1);
	uint8_t    *q2 = calloc(ngroups * 64, 1);
	float		maxrange = 0;
	float		scale;
	int			j,
				k;
	vecx_pq_quantize_fn best = vecx_pq_quantize_select(0);

	for (j = 0; j < m; j++)
	{
		float		mx;

		mins[j] = 1e30f;
		mx = -1e30f;
		for (k = 0; k < 16; k++)
		{
			float		v = (float) (next() % 100000) / 7.0f - 5000.0f;

			lut[j * 16 + k] = v;
			if (v < mins[j])
				mins[j] = v;
			if (v > mx)
				mx = v;
		}
		if (mx - mins[j] > maxrange)
			maxrange = mx - mins[j];
	}
	scale = 255.0f / maxrange;
	{
		float	   *mn1 = malloc(sizeof(float) * m),
				   *mn2 = malloc(sizeof(float) * m),
				   *r1 = malloc(sizeof(float) * m),
				   *r2 = malloc(sizeof(float) * m);

		vecx_pq_minmax_scalar(lut, m, mn1, r1);
		vecx_pq_minmax_select(0) (lut, m, mn2, r2);
		for (j = 0; j < m; j++)
		{
			CHECK(mn1[j] == mins[j], "minmax scalar min m=%d j=%d", m, j);
			CHECK(mn2[j] == mn1[j] && r2[j] == r1[j], "minmax best m=%d j=%d", m, j);
		}
		free(mn1);
		free(mn2);
		free(r1);
		free(r2);
	}
	vecx_pq_quantize_scalar(lut, mins, m, scale, q1);
	best(lut, mins, m, scale, q2);
	for (j = 0; j < m; j++)
		for (k = 0; k < 16; k++)
		{
			int			pos = vecx_pq_lut_index(j, k);
			float		exact = (lut[j * 16 + k] - mins[j]) * scale;

			CHECK(q1[pos] == q2[pos], "quantize m=%d j=%d k=%d: %d != %d", m, j, k, q1[pos], q2[pos]);
			CHECK(q1[pos] >= exact - 0.5001f && q1[pos] <= exact + 0.5001f,
				  "quantize m=%d j=%d k=%d: %d for %f", m, j, k, q1[pos], exact);
		}
	free(lut);
	free(mins);
	free(q1);
	free(q2);
}

int
main(void)
{
	int			ms[] = {1, 2, 3, 4, 5, 7, 16, 33, 64, 127, 256, 392, 784, 988};
	int			i,
				mode;

	for (i = 0; i < (int) (sizeof(ms) / sizeof(ms[0])); i++)
	{
		for (mode = 0; mode < 2; mode++)
			check_case(ms[i], mode);
		check_quantize(ms[i]);
	}
	printf("test_pq: kernel %s, %ld passed, %ld failed\n",
		   vecx_pq_fastscan_select(0) == vecx_pq_fastscan_scalar ? "scalar" : "avx2",
		   passed, failed);
	return failed ? 1 : 0;
}
