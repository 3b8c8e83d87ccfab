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
#include "am/common/vecxexplain.h"
#include "am/common/vecxplan.h"
#include "vecx_stat.h"
#include "gpu/gpuload.h"
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

/*
 * VecxCheckNoReferenceLibrary
 *		Refuse to load into a backend that has pgvector's library loaded.
 *
 * pgvector defines the parameters hnsw.ef_search and ivfflat.probes, as we
 * do, and PostgreSQL answers the second definition of a parameter with
 * "attempt to redefine parameter", which names neither library.  A
 * parameter that exists before our own definitions without being a
 * placeholder was defined by another library's _PG_init: a SET or a
 * postgresql.conf line before the load only makes a placeholder, which
 * DefineCustom*Variable takes over with its value.  Checked before any of
 * our definitions, so a failed load leaves nothing half-registered.
 */
static void
VecxCheckNoReferenceLibrary(void)
{
	static const char *const theirs[] = {"hnsw.ef_search", "ivfflat.probes"};

	for (int i = 0; i < lengthof(theirs); i++)
	{
		if (GetConfigOption(theirs[i], true, false) == NULL)
			continue;
		if (GetConfigOptionFlags(theirs[i], true) & GUC_CUSTOM_PLACEHOLDER)
			continue;
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("vecx cannot be loaded: the library of extension \"vector\" (pgvector) is already loaded in this session"),
				 errdetail("Parameter \"%s\" is already defined by another library.  vecx and pgvector define the same parameters, types and access methods; one session can use only one of them.",
						   theirs[i]),
				 errhint("A database can have only one of the two extensions; do not preload pgvector's library (shared_preload_libraries, session_preload_libraries) where vecx is used.")));
	}
}

void
_PG_init(void)
{
	VecxCheckNoReferenceLibrary();
	/* before VecxSimdInit reserves the prefix, which drops placeholders */
	VecxGpuInit();
	VecxStatInit();
	VecxJunkInit();
	VecxExplainInit();
	VecxSimdInit();
	HnswInit();
	IvfpqInit();
	IvfflatInit();
	VecxRecallInit();
	VecxPlanInit();
}
