/*-------------------------------------------------------------------------
 *
 * vecx.c
 *	  Module entry point: settings and one-time initialisation.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "vecx.h"
#include "simd/simd.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

typedef enum VecxSimdMode
{
	VECX_SIMD_AUTO,
	VECX_SIMD_SCALAR
} VecxSimdMode;

static const struct config_enum_entry vecx_simd_options[] = {
	{"auto", VECX_SIMD_AUTO, false},
	{"scalar", VECX_SIMD_SCALAR, false},
	{NULL, 0, false}
};

static int	vecx_simd_mode = VECX_SIMD_AUTO;

/*
 * Switching kernels is only a pointer swap, so it is safe at any time; the
 * index scans that cached a table keep using it until they end, which is
 * harmless because every table computes the same function.
 */
static void
vecx_simd_assign(int newval, void *extra)
{
	vecx_simd_select(newval == VECX_SIMD_SCALAR);
}

/*
 * VecxSimdInit
 *		Choose distance kernels by CPU feature and define vecx.simd.
 */
void
VecxSimdInit(void)
{
	vecx_simd_select(false);

	DefineCustomEnumVariable("vecx.simd",
							 "Selects the distance kernels: auto (best for this CPU) or scalar (portable reference).",
							 NULL,
							 &vecx_simd_mode,
							 VECX_SIMD_AUTO,
							 vecx_simd_options,
							 PGC_USERSET,
							 0,
							 NULL,
							 vecx_simd_assign,
							 NULL);
	MarkGUCPrefixReserved("vecx");
}

void
_PG_init(void)
{
	VecxSimdInit();
	HnswInit();
	IvfpqInit();
	IvfflatInit();
}
