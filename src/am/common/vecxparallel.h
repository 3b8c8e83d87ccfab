/*-------------------------------------------------------------------------
 *
 * vecxparallel.h
 *	  Parallel index build setup shared by every vecx AM.
 *
 * A parallel build of any vecx AM has the same frame: a parallel context
 * whose DSM holds the AM's shared state, a parallel heap scan under the
 * build's snapshot (an MVCC one, registered, for CREATE INDEX
 * CONCURRENTLY; SnapshotAny otherwise), and optionally one more chunk (a
 * shared tuplesort).  Workers open the heap and index with the locks the
 * leader holds.  What the participants do in between is the AM's.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECX_VECXPARALLEL_H
#define VECX_VECXPARALLEL_H

#include "access/parallel.h"
#include "access/relscan.h"
#include "nodes/execnodes.h"
#include "storage/lockdefs.h"
#include "utils/relcache.h"
#include "utils/snapshot.h"

typedef struct VecxParallel
{
	ParallelContext *pcxt;
	Snapshot	snapshot;
	void	   *shared;			/* sharedSize bytes, not zeroed */
	void	   *extra;			/* extraSize bytes, or NULL */
	ParallelTableScanDesc pscan;
} VecxParallel;

/* Leader */
extern bool VecxParallelBegin(VecxParallel *vp, const char *entry, int nworkers,
							  Relation heap, IndexInfo *indexInfo,
							  Size sharedSize, Size extraSize);
extern void VecxParallelEnd(VecxParallel *vp);

/* Worker */
extern void *VecxParallelShared(shm_toc *toc, ParallelTableScanDesc *pscan, void **extra);
extern void VecxParallelOpen(Oid heaprelid, Oid indexrelid, bool isconcurrent,
							 Relation *heap, Relation *index);
extern void VecxParallelClose(Relation heap, Relation index, bool isconcurrent);

#endif							/* VECX_VECXPARALLEL_H */
