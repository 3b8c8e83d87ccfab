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
#include "vecx.h"

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
	uint64		d;

	bit_check_same_length(a, b);
	d = vecx_kernels->hamming_bits(VARBITS(a), VARBITS(b), VARBITBYTES(a));
	PG_FREE_IF_COPY(a, 0);
	PG_FREE_IF_COPY(b, 1);
	PG_RETURN_FLOAT8((float8) d);
}

/*
 * 1 - |a AND b| / |a OR b|.  Vectors without a common set bit (including
 * two all-zero vectors, where the ratio is undefined) are at distance 1.
 */
PG_FUNCTION_INFO_V1(vecx_jaccard_distance);
Datum
vecx_jaccard_distance(PG_FUNCTION_ARGS)
{
	VarBit	   *a = PG_GETARG_VARBIT_P(0);
	VarBit	   *b = PG_GETARG_VARBIT_P(1);
	uint64		inter,
				uni;

	bit_check_same_length(a, b);
	vecx_kernels->jaccard_bits(VARBITS(a), VARBITS(b), VARBITBYTES(a),
							   &inter, &uni);
	PG_FREE_IF_COPY(a, 0);
	PG_FREE_IF_COPY(b, 1);
	if (inter == 0)
		PG_RETURN_FLOAT8(1.0);
	PG_RETURN_FLOAT8(1.0 - (float8) inter / (float8) uni);
}
