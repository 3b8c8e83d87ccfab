/*-------------------------------------------------------------------------
 *
 * gpuload.c
 *	  vecx.gpu, loading of vecx_gpu.so on first use, and vecx_gpu_info().
 *
 * vecx.so has no CUDA in it.  The first time a backend may use a GPU
 * (vecx.gpu is auto or on and a build reaches a step the GPU can do, or
 * vecx_gpu_info() is called) it dlopens $libdir/vecx_gpu.so and asks it
 * for devices; the answer, or the reason there is none (library missing,
 * driver missing, cuInit error, no device, no kernel image), is kept for
 * the backend's life.  With auto, no device means the CPU, silently; with
 * on it is an error: at SET time in a session, and at first use for a
 * value that came from elsewhere (postgresql.conf, ALTER ROLE).
 *
 * The CPU code stays the reference: every GPU entry point here returns
 * false when the caller must compute the result itself.
 *
 * VECX_GPU_LIBRARY in the server's environment replaces the library's
 * path (tests: test/gpu/gpu_emul.c, the entry points emulated on the CPU,
 * so that the builds' GPU paths run where there is no device).  Whoever
 * sets the postmaster's environment can already preload any library, so
 * this opens nothing an SQL user could choose.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <dlfcn.h>

#include "access/parallel.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "gpu/gpu.h"
#include "gpu/gpu_math.h"
#include "gpu/gpuload.h"

/* Device memory one call may use for rows in flight (the rest is fixed). */
#define VECX_GPU_MEM_BUDGET		((size_t) 512 * 1024 * 1024)

/* Rows per call into the library: interrupts are checked between calls. */
#define VECX_GPU_CALL_ROWS		(1 << 18)

int			vecx_gpu_mode = VECX_GPU_AUTO;

static const struct config_enum_entry vecx_gpu_options[] = {
	{"auto", VECX_GPU_AUTO, false},
	{"on", VECX_GPU_ON, false},
	{"off", VECX_GPU_OFF, false},
	{"true", VECX_GPU_ON, true},
	{"false", VECX_GPU_OFF, true},
	{"yes", VECX_GPU_ON, true},
	{"no", VECX_GPU_OFF, true},
	{"1", VECX_GPU_ON, true},
	{"0", VECX_GPU_OFF, true},
	{NULL, 0, false}
};

/*
 * False while DefineCustomEnumVariable applies a value set before the
 * library was loaded: a rejected value would only be a WARNING and
 * silently become auto, so it is accepted and fails at first use.
 */
static bool gpu_guc_ready = false;

/* The probe's result, once per backend. */
static bool gpu_probed = false;
static const VecxGpuApi *gpu_api = NULL;
static int	gpu_ndevices = 0;
static VecxGpuDevice gpu_devices[VECX_GPU_MAX_DEVICES];
static char gpu_why[VECX_GPU_MSG_LEN];

static void
GpuProbe(void)
{
	char		path[MAXPGPATH];
	void	   *handle;
	VecxGpuApiFn fn;
	const VecxGpuApi *api;

	if (gpu_probed)
		return;
	gpu_probed = true;
	gpu_ndevices = 0;

	if (getenv("VECX_GPU_LIBRARY") != NULL && getenv("VECX_GPU_LIBRARY")[0] != '\0')
		strlcpy(path, getenv("VECX_GPU_LIBRARY"), sizeof(path));
	else
		snprintf(path, sizeof(path), "%s/%s%s", pkglib_path, VECX_GPU_LIBRARY, DLSUFFIX);
	handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (handle == NULL)
	{
		const char *e = dlerror();

		snprintf(gpu_why, sizeof(gpu_why), "library missing: %s",
				 e ? e : path);
		return;
	}
	fn = (VecxGpuApiFn) dlsym(handle, VECX_GPU_SYMBOL);
	api = fn ? fn() : NULL;
	if (api == NULL || api->abi_version != VECX_GPU_ABI_VERSION)
	{
		snprintf(gpu_why, sizeof(gpu_why),
				 "library unusable: %s is not the GPU library of this vecx build (interface %d, expected %d)",
				 path, api ? api->abi_version : -1, VECX_GPU_ABI_VERSION);
		dlclose(handle);
		return;
	}
	gpu_api = api;
	gpu_ndevices = api->probe(gpu_devices, VECX_GPU_MAX_DEVICES, gpu_why, sizeof(gpu_why));
	if (gpu_ndevices < 0)
		gpu_ndevices = 0;
}

/*
 * SET vecx.gpu = on in a session checks for a device at once, so the
 * error comes where the setting was made.  Only SET (source session): not
 * in parallel workers (the leader checked), not for values from
 * configuration files (read in the postmaster), connection options, ALTER
 * ROLE / DATABASE SET (validated with source test, and restored by
 * pg_dump on other machines), or a SET made before the library was loaded
 * in the session: those fail at first use (VecxGpuEnabled).
 */
static bool
vecx_gpu_check(int *newval, void **extra, GucSource source)
{
	if (*newval != VECX_GPU_ON || source != PGC_S_SESSION || !gpu_guc_ready ||
		IsParallelWorker() || !IsNormalProcessingMode() || !IsUnderPostmaster)
		return true;
	GpuProbe();
	if (gpu_ndevices > 0)
		return true;
	GUC_check_errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE);
	GUC_check_errmsg("vecx.gpu cannot be \"on\": no usable GPU");
	GUC_check_errdetail("%s.", gpu_why);
	GUC_check_errhint("Use vecx.gpu = auto to use a GPU when there is one and the CPU otherwise; vecx_gpu_info() shows what was found.");
	return false;
}

void
VecxGpuInit(void)
{
	DefineCustomEnumVariable("vecx.gpu",
							 "Use a GPU for index builds: auto (when one is found), on (required) or off.",
							 NULL,
							 &vecx_gpu_mode,
							 VECX_GPU_AUTO,
							 vecx_gpu_options,
							 PGC_USERSET,
							 0,
							 vecx_gpu_check,
							 NULL,
							 NULL);
	gpu_guc_ready = true;
}

bool
VecxGpuEnabled(void)
{
	if (vecx_gpu_mode == VECX_GPU_OFF)
		return false;
	GpuProbe();
	if (gpu_ndevices > 0)
		return true;
	if (vecx_gpu_mode == VECX_GPU_ON)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("vecx.gpu is \"on\" but there is no usable GPU"),
				 errdetail("%s.", gpu_why),
				 errhint("Use vecx.gpu = auto to use a GPU when there is one and the CPU otherwise; vecx_gpu_info() shows what was found.")));
	return false;
}

/* A device call failed: an error with on, the CPU with auto. */
static bool
GpuFailed(const char *what, const char *err)
{
	if (vecx_gpu_mode == VECX_GPU_ON)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("GPU %s failed: %s", what, err),
				 errhint("Use vecx.gpu = auto to fall back to the CPU when the GPU fails.")));
	ereport(DEBUG1,
			(errmsg_internal("GPU %s failed, using the CPU: %s", what, err)));
	return false;
}

bool
VecxGpuAssign(const float *x, int n, int d, const float *centroids, int k,
			  int *assign)
{
	char		err[VECX_GPU_MSG_LEN];

	StaticAssertStmt(sizeof(int) == sizeof(int32_t), "assign arrays are int32");

	if (n <= 0 || !VecxGpuEnabled())
		return false;
	for (int start = 0; start < n; start += VECX_GPU_CALL_ROWS)
	{
		int			rows = Min(VECX_GPU_CALL_ROWS, n - start);

		CHECK_FOR_INTERRUPTS();
		if (gpu_api->assign(x + (Size) start * d, rows, centroids, k, d,
							VECX_GPU_MEM_BUDGET, (int32_t *) assign + start, NULL,
							err, sizeof(err)) != 0)
			return GpuFailed("k-means assignment", err);
	}
	return true;
}

bool
VecxGpuUpdate(const float *x, int n, int d, const int *assign, int k,
			  float *centroids, int *counts)
{
	char		err[VECX_GPU_MSG_LEN];

	float	   *saved;
	Size		csize = mul_size(mul_size(sizeof(float), k), d);

	if (n <= 0 || !VecxGpuEnabled())
		return false;
	CHECK_FOR_INTERRUPTS();

	/*
	 * One call: the sums run over every row, so the library cannot be
	 * left between chunks; it bounds device memory itself.  The centroids
	 * are kept: after a failure the CPU starts again from them (empty
	 * clusters keep theirs).
	 */
	saved = palloc_extended(csize, MCXT_ALLOC_HUGE);
	memcpy(saved, centroids, csize);
	if (gpu_api->update(x, n, d, (const int32_t *) assign, k, VECX_GPU_MEM_BUDGET,
						centroids, (int32_t *) counts, err, sizeof(err)) != 0)
	{
		memcpy(centroids, saved, csize);
		pfree(saved);
		return GpuFailed("k-means centroid update", err);
	}
	pfree(saved);
	return true;
}

bool
VecxGpuPqEncode(const float *r, int n, int dims, int m, const int *suboff,
				int ksub, const float *codebook, uint8 *codes, float *errs)
{
	char		err[VECX_GPU_MSG_LEN];
	double	   *sqerr;

	if (n <= 0 || !VecxGpuEnabled())
		return false;
	sqerr = palloc(mul_size(sizeof(double), Min(n, VECX_GPU_CALL_ROWS)));
	for (int start = 0; start < n; start += VECX_GPU_CALL_ROWS)
	{
		int			rows = Min(VECX_GPU_CALL_ROWS, n - start);

		CHECK_FOR_INTERRUPTS();
		if (gpu_api->pq_encode(r + (Size) start * dims, rows, dims, m, suboff, ksub,
							   codebook, VECX_GPU_MEM_BUDGET, codes + (Size) start * m,
							   sqerr, err, sizeof(err)) != 0)
		{
			pfree(sqerr);
			return GpuFailed("PQ encoding", err);
		}
		/* IvfpqEncode's error norm, rounded up (bitwise: test_gpu_math.c) */
		for (int i = 0; i < rows; i++)
			errs[start + i] = vecx_gm_pq_err(sqerr[i]);
	}
	pfree(sqerr);
	return true;
}

bool
VecxGpuL2sqRows(const float *x, int n, int d, const float *c, int k,
				const int *idx, float *out)
{
	char		err[VECX_GPU_MSG_LEN];

	if (n <= 0 || !VecxGpuEnabled())
		return false;
	for (int start = 0; start < n; start += VECX_GPU_CALL_ROWS)
	{
		int			rows = Min(VECX_GPU_CALL_ROWS, n - start);

		CHECK_FOR_INTERRUPTS();
		if (gpu_api->l2sq_rows(x + (Size) start * d, rows, c, k, d,
							   (const int32_t *) idx + start, VECX_GPU_MEM_BUDGET,
							   out + start, err, sizeof(err)) != 0)
			return GpuFailed("exact distances", err);
	}
	return true;
}

/*
 * vecx_gpu_info()
 *		The devices vecx_gpu.so found, one row each, or one row with NULL
 *		device and the reason there is none.  Probes whatever vecx.gpu is.
 */
PG_FUNCTION_INFO_V1(vecx_gpu_info);
Datum
vecx_gpu_info(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum		values[5];
	bool		nulls[5];

	InitMaterializedSRF(fcinfo, 0);
	GpuProbe();

	if (gpu_ndevices == 0)
	{
		memset(nulls, true, sizeof(nulls));
		nulls[4] = false;
		values[4] = CStringGetTextDatum(gpu_why);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	for (int i = 0; i < gpu_ndevices; i++)
	{
		VecxGpuDevice *dev = &gpu_devices[i];

		memset(nulls, false, sizeof(nulls));
		values[0] = Int32GetDatum(dev->ordinal);
		values[1] = CStringGetTextDatum(dev->name);
		values[2] = Int64GetDatum((int64) Min(dev->total_memory, (uint64) PG_INT64_MAX));
		values[3] = CStringGetTextDatum(psprintf("%d.%d", dev->cc_major, dev->cc_minor));
		values[4] = CStringGetTextDatum(i == 0 ? "in use" : "found (vecx uses the first device)");
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
