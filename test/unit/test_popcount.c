/*-------------------------------------------------------------------------
 *
 * test_popcount.c
 *	  Unit tests for the bit-string kernels (hamming_bits, jaccard_bits).
 *
 * Every table this CPU runs (and on AVX-512 both popcount variants, the
 * VPOPCNTQ one where the CPU has it) is compared with a bit-by-bit
 * reference for every length 0..300 bytes and a few large ones, at every
 * start offset 0..7 (unaligned loads), on random, all-ones and sparse
 * data.  Each operand sits at the very end of a page followed by an
 * inaccessible page, so a read past the end faults.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "simd/simd.h"
#include "simd/simd_internal.h"
#include "unit.h"

static uint64_t pc_state = 0x2545f4914f6cdd1dULL;

static uint64_t
pc_rng(void)
{
	pc_state ^= pc_state >> 12;
	pc_state ^= pc_state << 25;
	pc_state ^= pc_state >> 27;
	return pc_state * 0x9e3779b97f4a7c15ULL;
}

static void
ref_counts(const uint8_t *a, const uint8_t *b, size_t n,
		   uint64_t *ham, uint64_t *inter, uint64_t *uni)
{
	*ham = *inter = *uni = 0;
	for (size_t i = 0; i < n; i++)
	{
		for (int bit = 0; bit < 8; bit++)
		{
			int			x = (a[i] >> bit) & 1;
			int			y = (b[i] >> bit) & 1;

			*ham += x != y;
			*inter += x && y;
			*uni += x || y;
		}
	}
}

/* n bytes ending exactly at a guard page */
static uint8_t *
guarded(size_t n, uint8_t **base, size_t *maplen)
{
	long		pg = sysconf(_SC_PAGESIZE);
	size_t		len = ((n + pg - 1) / pg + 1) * pg;
	uint8_t    *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
						 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
	{
		perror("mmap");
		exit(2);
	}
	mprotect(m + len - pg, pg, PROT_NONE);
	*base = m;
	*maplen = len;
	return m + len - pg - n;
}

static void
fill(uint8_t *p, size_t n, int kind)
{
	for (size_t i = 0; i < n; i++)
	{
		uint64_t	r = pc_rng();

		switch (kind)
		{
			case 0:
				p[i] = (uint8_t) r;
				break;
			case 1:
				p[i] = 0xff;
				break;
			default:
				p[i] = (r % 97 == 0) ? (uint8_t) (1u << (r % 8)) : 0;
				break;
		}
	}
}

static void
check_table(const VecxKernels *t, const char *label, size_t n, int kind)
{
	uint8_t    *ba,
			   *bb;
	size_t		la,
				lb;
	uint8_t    *a = guarded(n + 7, &ba, &la);
	uint8_t    *b = guarded(n + 7, &bb, &lb);

	for (int off = 0; off < 8; off++)
	{
		uint64_t	ham,
					inter,
					uni,
					ki = 12345,
					ku = 12345;

		fill(a + 7 - off, n, kind);
		fill(b + 7 - off, n, kind == 1 ? 0 : kind);
		ref_counts(a + 7 - off, b + 7 - off, n, &ham, &inter, &uni);
		CHECK(t->hamming_bits(a + 7 - off, b + 7 - off, n) == ham,
			  "%s hamming n=%zu kind=%d off=%d", label, n, kind, off);
		t->jaccard_bits(a + 7 - off, b + 7 - off, n, &ki, &ku);
		CHECK(ki == inter && ku == uni,
			  "%s jaccard n=%zu kind=%d off=%d: %llu/%llu, expected %llu/%llu",
			  label, n, kind, off, (unsigned long long) ki,
			  (unsigned long long) ku, (unsigned long long) inter,
			  (unsigned long long) uni);
	}
	munmap(ba, la);
	munmap(bb, lb);
}

static void
check_all_lengths(const VecxKernels *t, const char *label)
{
	static const size_t big[] = {1000, 4096, 8000, 8191, 100003};

	for (size_t n = 0; n <= 300; n++)
		for (int kind = 0; kind < 3; kind++)
			check_table(t, label, n, kind);
	for (int i = 0; i < (int) (sizeof(big) / sizeof(big[0])); i++)
		for (int kind = 0; kind < 3; kind++)
			check_table(t, label, big[i], kind);
}

void
test_popcount(void)
{
	const VecxKernels *cand[] = {
		&vecx_kernels_scalar, vecx_kernels_avx2, vecx_kernels_avx512,
		vecx_kernels_neon
	};
	long		before = unit_passed;

	CHECK(vecx_popcount64(~0ULL) == 64 && vecx_popcount64(0) == 0 &&
		  vecx_popcount64(0x8000000000000001ULL) == 2, "popcount64");

	for (int i = 0; i < 4; i++)
	{
		if (cand[i] == NULL || !vecx_simd_supported(cand[i]))
			continue;
		if (cand[i] == vecx_kernels_avx512)
		{
			int			has = vecx_cpu_has_vpopcnt();

			vecx_avx512_vpopcnt = 0;
			check_all_lengths(cand[i], "avx512bw");
			if (has)
			{
				vecx_avx512_vpopcnt = 1;
				check_all_lengths(cand[i], "avx512vpopcnt");
			}
			else
				printf("popcount: no AVX512_VPOPCNTDQ, VPOPCNTQ variant skipped\n");
			vecx_avx512_vpopcnt = -1;
		}
		else
			check_all_lengths(cand[i], cand[i]->name);
	}
	printf("popcount: %ld checks\n", unit_passed - before);
}
