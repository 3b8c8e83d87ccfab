/*-------------------------------------------------------------------------
 *
 * vecxparallel.c
 *	  Parallel index build setup shared by every vecx AM (vecxparallel.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "utils/snapmgr.h"

#include "vecxparallel.h"

/* DSM keys; every AM uses the same, as one build has one context */
#define VECX_PKEY_SHARED	UINT64CONST(0xA5F0000000000001)
#define VECX_PKEY_SCAN		UINT64CONST(0xA5F0000000000002)
#define VECX_PKEY_EXTRA		UINT64CONST(0xA5F0000000000003)

/*
 * VecxParallelBegin
 *		Enter parallel mode and set up a context whose workers start at
 *		entry (a function of the vecx library), with the AM's shared chunk,
 *		an optional extra chunk and an initialised parallel heap scan.
 *		Workers are not launched yet: the caller fills vp->shared first.
 *		Returns false, having undone everything, when no DSM segment could
 *		be had (the caller builds serially then).
 */
bool
VecxParallelBegin(VecxParallel *vp, const char *entry, int nworkers,
				  Relation heap, IndexInfo *indexInfo, Size sharedSize, Size extraSize)
{
	Size		estscan;

	memset(vp, 0, sizeof(VecxParallel));
	EnterParallelMode();
	vp->pcxt = CreateParallelContext("$libdir/vecx", entry, nworkers);
	vp->snapshot = indexInfo->ii_Concurrent ?
		RegisterSnapshot(GetTransactionSnapshot()) : SnapshotAny;
	estscan = table_parallelscan_estimate(heap, vp->snapshot);
	shm_toc_estimate_chunk(&vp->pcxt->estimator, sharedSize);
	shm_toc_estimate_chunk(&vp->pcxt->estimator, estscan);
	if (extraSize > 0)
		shm_toc_estimate_chunk(&vp->pcxt->estimator, extraSize);
	shm_toc_estimate_keys(&vp->pcxt->estimator, extraSize > 0 ? 3 : 2);
	InitializeParallelDSM(vp->pcxt);
	if (vp->pcxt->seg == NULL)
	{
		VecxParallelEnd(vp);
		return false;
	}

	vp->shared = shm_toc_allocate(vp->pcxt->toc, sharedSize);
	shm_toc_insert(vp->pcxt->toc, VECX_PKEY_SHARED, vp->shared);
	vp->pscan = shm_toc_allocate(vp->pcxt->toc, estscan);
	table_parallelscan_initialize(heap, vp->pscan, vp->snapshot);
	shm_toc_insert(vp->pcxt->toc, VECX_PKEY_SCAN, vp->pscan);
	if (extraSize > 0)
	{
		vp->extra = shm_toc_allocate(vp->pcxt->toc, extraSize);
		shm_toc_insert(vp->pcxt->toc, VECX_PKEY_EXTRA, vp->extra);
	}
	return true;
}

/* Tear down what VecxParallelBegin set up (after the workers finished). */
void
VecxParallelEnd(VecxParallel *vp)
{
	DestroyParallelContext(vp->pcxt);
	if (IsMVCCSnapshot(vp->snapshot))
		UnregisterSnapshot(vp->snapshot);
	ExitParallelMode();
}

/* A worker's view of the chunks: returns the shared one. */
void *
VecxParallelShared(shm_toc *toc, ParallelTableScanDesc *pscan, void **extra)
{
	*pscan = shm_toc_lookup(toc, VECX_PKEY_SCAN, false);
	if (extra)
		*extra = shm_toc_lookup(toc, VECX_PKEY_EXTRA, false);
	return shm_toc_lookup(toc, VECX_PKEY_SHARED, false);
}

/*
 * A worker opens the heap and index with the locks the leader holds, so
 * the group's locks never conflict.
 */
void
VecxParallelOpen(Oid heaprelid, Oid indexrelid, bool isconcurrent,
				 Relation *heap, Relation *index)
{
	*heap = table_open(heaprelid, isconcurrent ? ShareUpdateExclusiveLock : ShareLock);
	*index = index_open(indexrelid, RowExclusiveLock);
}

void
VecxParallelClose(Relation heap, Relation index, bool isconcurrent)
{
	index_close(index, RowExclusiveLock);
	table_close(heap, isconcurrent ? ShareUpdateExclusiveLock : ShareLock);
}
