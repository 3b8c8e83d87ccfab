/*-------------------------------------------------------------------------
 *
 * bitdist.c
 *	  Hamming and Jaccard distances on PostgreSQL's bit type.
 *
 * The bits of a bit(n) value are stored MSB first in VARBITBYTES bytes
 * whose padding bits PostgreSQL keeps at zero, so both distances are
 * population counts over whole bytes: the popcount kernels of src/simd.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/varbit.h"

#include "simd/simd.h"
#include "types/bitdist.h"
#include "vecx.h"

double
VecxBitHamming(const uint8 *a, const uint8 *b, Size nbytes)
{
	return (double) vecx_kernels->hamming_bits(a, b, nbytes);
}

/*
 * 1 - |a AND b| / |a OR b|.  Vectors without a common set bit (including
 * two all-zero vectors, where the ratio is undefined) are at distance 1.
 */
double
VecxBitJaccard(const uint8 *a, const uint8 *b, Size nbytes)
{
	uint64		inter,
				uni;

	vecx_kernels->jaccard_bits(a, b, nbytes, &inter, &uni);
	if (inter == 0)
		return 1.0;
	return 1.0 - (double) inter / (double) uni;
}

static void
bit_check_same_length(const VarBit *a, const VarBit *b)
{
	if (VARBITLEN(a) != VARBITLEN(b))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different bit lengths %u and %u",
						(unsigned int) VARBITLEN(a),
						(unsigned int) VARBITLEN(b))));
}

PG_FUNCTION_INFO_V1(vecx_hamming_distance);
Datum
vecx_hamming_distance(PG_FUNCTION_ARGS)
{
	VarBit	   *a = PG_GETARG_VARBIT_P(0);
	VarBit	   *b = PG_GETARG_VARBIT_P(1);
	float8		d;

	bit_check_same_length(a, b);
	d = VecxBitHamming(VARBITS(a), VARBITS(b), VARBITBYTES(a));
	PG_FREE_IF_COPY(a, 0);
	PG_FREE_IF_COPY(b, 1);
	PG_RETURN_FLOAT8(d);
}

PG_FUNCTION_INFO_V1(vecx_jaccard_distance);
Datum
vecx_jaccard_distance(PG_FUNCTION_ARGS)
{
	VarBit	   *a = PG_GETARG_VARBIT_P(0);
	VarBit	   *b = PG_GETARG_VARBIT_P(1);
	float8		d;

	bit_check_same_length(a, b);
	d = VecxBitJaccard(VARBITS(a), VARBITS(b), VARBITBYTES(a));
	PG_FREE_IF_COPY(a, 0);
	PG_FREE_IF_COPY(b, 1);
	PG_RETURN_FLOAT8(d);
}
