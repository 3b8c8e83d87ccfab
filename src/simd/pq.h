/*-------------------------------------------------------------------------
 *
 * pq.h
 *	  Product-quantization fast-scan kernels (4-bit codes, uint8 lookup
 *	  tables, uint16 sums) with runtime dispatch.
 *
 * A block holds the 4-bit codes of 16 vectors.  For each group of four
 * sub-quantizers (4g .. 4g+3) it stores 32 bytes:
 *
 *   byte i      (0..15): low nibble = code of vector i for sub-q 4g,
 *                        high nibble = for sub-q 4g + 1
 *   byte 16 + i (0..15): the same for sub-q 4g + 2 and 4g + 3
 *
 * so one 256-bit register holds four sub-quantizers' codes for all 16
 * vectors; the low nibbles index one 32-byte table (sub-q 4g in lane 0,
 * 4g + 2 in lane 1) and the high nibbles another (4g + 1, 4g + 3), one
 * vpshufb each.  The lookup table is 64 bytes per group: the 16 entries of
 * sub-q 4g, 4g + 2, 4g + 1, 4g + 3 in that order (vecx_pq_lut_index).
 * Sums are exact uint16: callers quantize their tables so that the largest
 * possible sum fits.
 *
 * Server-independent (no postgres.h) so that unit tests can link it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECX_PQ_H
#define VECX_PQ_H

#include <stdint.h>

#define VECX_PQ_BLOCK 16

typedef void (*vecx_pq_fastscan_fn) (const uint8_t *codes, const uint8_t *lut,
									 int ngroups, uint16_t *sums);

/*
 * Quantize m float tables of 16 entries (lut[16 j + k]) to uint8 in the
 * kernel's table order: round((lut - mins[j]) * scale) for values in
 * [0, 255.5); the caller chooses scale so that they are.
 */
typedef void (*vecx_pq_quantize_fn) (const float *lut, const float *mins, int m,
									 float scale, uint8_t *qlut);

extern void vecx_pq_quantize_scalar(const float *lut, const float *mins, int m,
									float scale, uint8_t *qlut);
extern const vecx_pq_quantize_fn vecx_pq_quantize_avx2;
extern vecx_pq_quantize_fn vecx_pq_quantize_select(int force_scalar);

/*
 * Minimum and range (max - min) of each of m float tables of 16 entries.
 */
typedef void (*vecx_pq_minmax_fn) (const float *lut, int m, float *mins, float *ranges);

extern void vecx_pq_minmax_scalar(const float *lut, int m, float *mins, float *ranges);
extern const vecx_pq_minmax_fn vecx_pq_minmax_avx2;
extern vecx_pq_minmax_fn vecx_pq_minmax_select(int force_scalar);

/* Portable reference. */
extern void vecx_pq_fastscan_scalar(const uint8_t *codes, const uint8_t *lut,
									int ngroups, uint16_t *sums);

/* AVX2 variant; NULL when not compiled in. */
extern const vecx_pq_fastscan_fn vecx_pq_fastscan_avx2;

/*
 * Best kernel for this CPU (force_scalar: the reference).  The caller
 * fetches it once per scan.
 */
extern vecx_pq_fastscan_fn vecx_pq_fastscan_select(int force_scalar);

/* Byte of sub-quantizer j's code for vector "slot" (0..15) in a block */
static inline int
vecx_pq_code_byte(int j, int slot)
{
	return (j >> 2) * 32 + ((j >> 1) & 1) * 16 + slot;
}

/* Set / get one 4-bit code of vector "slot" (0..15) for sub-quantizer j. */
static inline void
vecx_pq_block_set(uint8_t *codes, int j, int slot, int code)
{
	uint8_t    *b = codes + vecx_pq_code_byte(j, slot);

	if ((j & 1) == 0)
		*b = (uint8_t) ((*b & 0xF0) | (code & 15));
	else
		*b = (uint8_t) ((*b & 0x0F) | ((code & 15) << 4));
}

static inline int
vecx_pq_block_get(const uint8_t *codes, int j, int slot)
{
	uint8_t		b = codes[vecx_pq_code_byte(j, slot)];

	return (j & 1) ? (b >> 4) : (b & 15);
}

/* Position of entry k (0..15) of sub-quantizer j in a lookup table */
static inline int
vecx_pq_lut_index(int j, int k)
{
	return (j >> 2) * 64 + (j & 1) * 32 + ((j >> 1) & 1) * 16 + k;
}

#endif							/* VECX_PQ_H */
