/*-------------------------------------------------------------------------
 *
 * ivfpqbuild.c
 *	  Build of an ivfpq index: sample, k-means, product quantizer training,
 *	  assignment and encoding of every row.
 *
 * Two passes over the table: the first keeps a bounded reservoir sample
 * (deterministic) to train on, the second assigns rows in blocks through
 * one sgemm per block and appends their codes to the lists' pages.  Pages
 * are written through shared buffers without WAL and logged in bulk with
 * log_newpage_range at the end.
 *
 * Pass 2 can run in parallel (see "Parallel build" below): participants
 * encode their share of the heap into a coordinated tuplesort ordered by
 * (list, heap TID), and the leader writes the lists one after another.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/parallel.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "access/xloginsert.h"
#include "catalog/index.h"
#include "catalog/pg_operator_d.h"
#include "catalog/pg_type_d.h"
#include "commands/progress.h"
#include "common/pg_prng.h"
#include "miscadmin.h"
#include "optimizer/optimizer.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "portability/instr_time.h"
#include "storage/bufmgr.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/smgr.h"
#include "storage/spin.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/tuplesort.h"

#include "gpu/gpuload.h"
#include "ivfpq.h"
#include "am/common/vecxparallel.h"
#include "am/common/vecxfilter.h"
#include "simd/simd.h"

#define IVFPQ_LOAD_BATCH	1024

/*
 * Rows per block when the GPU assigns and encodes them: a call costs
 * transfers of the centroids and codebook and a launch, so blocks are
 * larger (still within a quarter of the memory, residuals included).
 */
#define IVFPQ_GPU_LOAD_BATCH	65536

/* Tables with at least this many rows get workers even if small on disk */
#define IVFPQ_PARALLEL_MIN_ROWS	20000

/* Sort key in front of an encoded entry: list, block, offset (big-endian) */
#define IVFPQ_SORT_KEY		10

typedef struct IvfpqShared IvfpqShared;

typedef struct IvfpqBuildState
{
	Relation	index;
	int			encoding;		/* IVFPQ_ENC_*: the access method's */
	const char *amname;
	int			kind;
	bool		normalize;
	int			dims;			/* 0 until known */

	/* sampling */
	int			samplecap;		/* sample size limit */
	int			samplewant;		/* sample size k-means would like */
	int			samplealloc;	/* rows allocated in sample */
	int			nsample;
	float	   *sample;
	double		seen;			/* indexable rows seen */
	pg_prng_state rng;
	int			lists;			/* requested */

	/* loading */
	IvfpqState *st;
	IvfpqListDir *dir;
	float	   *batch;
	ItemPointerData *batchtids;
	float	   *batchnorms;
	char	   *batchraw;		/* FLAT: the stored vectors, st->vecbytes each */
	char	   *batchfilters;	/* filter payloads, st->fbytes each */
	int		   *batchassign;
	float	   *batchres;		/* GPU: the block's residuals (PQ) */
	uint8	   *batchcodes;		/* GPU: their codes, one byte each */
	float	   *batcherrs;		/* GPU: their error norms */
	float	   *work;
	float	   *residual;
	IvfpqEntry *entry;
	int			nbatch;
	int			batchcap;		/* rows per assignment block */
	double		indtuples;

	/* recall calibration, measured after k-means (Calibrate) */
	uint32		ncalib;
	uint16		calib[IVFPQ_NCALIB];

	/* parallel pass 2: entries go to a sort instead of pages */
	Tuplesortstate *sortstate;
	bytea	   *sortbuf;		/* one sort datum being built */
	IvfpqShared *shared;
	bool		isleader;

	MemoryContext tmpcxt;
} IvfpqBuildState;

static Size
MaintenanceBytes(void)
{
	return mul_size((Size) maintenance_work_mem, 1024);
}

/*
 * The dimension limit of the access method and element type: an ivfflat
 * entry holds the whole vector and must fit on a page.
 */
static void
CheckBuildDims(IvfpqBuildState *bs, int dims)
{
	int			elem = IVFPQ_KIND_ELEM(bs->kind);
	int			maxdims = VECX_MAX_DIM;

	if (bs->encoding == IVFPQ_ENC_FLAT)
		maxdims = elem == VECX_ELEM_BIT ? IVFFLAT_MAX_BITS :
			elem == VECX_ELEM_F16 ? IVFFLAT_MAX_HALF_DIM : IVFFLAT_MAX_DIM;
	if (dims > maxdims)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("column cannot have more than %d %s for %s index", maxdims,
						elem == VECX_ELEM_BIT ? "bits" : "dimensions", bs->amname)));
}

/*
 * Decide the sample size once the dimensions are known: as many rows as
 * k-means needs, within half of maintenance_work_mem (the other half is
 * for the centroids and the training arrays, checked once the number of
 * lists is known).  The array grows as rows arrive, so small tables cost
 * little.
 */
static void
InitSample(IvfpqBuildState *bs)
{
	double		rowbytes = (double) bs->dims * sizeof(float);
	double		want = Max((double) bs->lists * IVFPQ_SAMPLES_PER_LIST, IVFPQ_MIN_SAMPLES);
	double		fit = floor((double) MaintenanceBytes() / 2 / rowbytes);

	bs->samplewant = (int) Min(want, (double) INT_MAX / 2);
	bs->samplecap = (int) Max(1.0, Min(want, Min(fit, (double) INT_MAX / 2)));
	bs->samplealloc = Min(bs->samplecap, 1024);
	bs->sample = palloc_extended(mul_size(mul_size(sizeof(float), bs->samplealloc), bs->dims),
								 MCXT_ALLOC_HUGE);
}

static void
SampleCallback(Relation index, ItemPointer tid, Datum *values,
			   bool *isnull, bool tupleIsAlive, void *state)
{
	IvfpqBuildState *bs = (IvfpqBuildState *) state;
	MemoryContext oldcxt;
	float	   *dst;
	float		norm;
	double		rawnorm;
	int			slot;

	if (isnull[0])
		return;

	oldcxt = MemoryContextSwitchTo(bs->tmpcxt);
	if (bs->dims == 0)
	{
		bs->dims = IvfpqDatumDims(bs->kind, values[0]);
		CheckBuildDims(bs, bs->dims);
	}
	MemoryContextSwitchTo(oldcxt);
	if (bs->sample == NULL)
		InitSample(bs);

	oldcxt = MemoryContextSwitchTo(bs->tmpcxt);
	dst = palloc(sizeof(float) * bs->dims);
	if (IvfpqDatumToFloat(NULL, bs->kind, values[0], dst, bs->dims, bs->normalize, &norm,
						  &rawnorm))
	{
		IvfpqCheckIndexable(rawnorm, bs->encoding);
		/* Reservoir sampling (algorithm R) */
		if (bs->seen < bs->samplecap)
		{
			if (bs->nsample == bs->samplealloc)
			{
				bs->samplealloc = (int) Min((int64) bs->samplealloc * 2, (int64) bs->samplecap);
				bs->sample = repalloc_huge(bs->sample,
										   mul_size(mul_size(sizeof(float), bs->samplealloc), bs->dims));
			}
			slot = bs->nsample++;
		}
		else
		{
			uint64		j = pg_prng_uint64_range(&bs->rng, 0, (uint64) bs->seen);

			slot = j < (uint64) bs->samplecap ? (int) j : -1;
		}
		if (slot >= 0)
			memcpy(bs->sample + (Size) slot * bs->dims, dst, sizeof(float) * bs->dims);
		bs->seen += 1;
	}
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(bs->tmpcxt);
}

/*
 * New page at the end of the index, exclusively locked, initialized.
 */
static Buffer
NewPage(Relation index, uint16 type, uint32 list)
{
	Buffer		buf;

	LockRelationForExtension(index, ExclusiveLock);
	buf = ReadBuffer(index, P_NEW);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	UnlockRelationForExtension(index, ExclusiveLock);
	IvfpqInitPage(BufferGetPage(buf), type, list);
	return buf;
}

/*
 * Write nbytes of raw data on consecutive new pages; returns the first
 * block and sets *npages.
 */
static BlockNumber
WriteRaw(Relation index, uint16 type, const char *data, Size nbytes, uint32 *npages)
{
	BlockNumber start = InvalidBlockNumber;
	Size		done = 0;

	*npages = 0;
	while (done < nbytes)
	{
		Buffer		buf = NewPage(index, type, 0);
		Page		page = BufferGetPage(buf);
		Size		chunk = Min(nbytes - done, IVFPQ_RAW_BYTES);

		memcpy(IvfpqRawData(page), data + done, chunk);
		((PageHeader) page)->pd_lower = MAXALIGN(SizeOfPageHeaderData) + chunk;
		if (start == InvalidBlockNumber)
			start = BufferGetBlockNumber(buf);
		MarkBufferDirty(buf);
		UnlockReleaseBuffer(buf);
		done += chunk;
		(*npages)++;
	}
	return start;
}

/* Overwrite raw data written by WriteRaw (directory at the end of build). */
static void
RewriteRaw(Relation index, BlockNumber start, const char *data, Size nbytes)
{
	Size		done = 0;
	BlockNumber blkno;

	for (blkno = start; done < nbytes; blkno++)
	{
		Buffer		buf = ReadBuffer(index, blkno);
		Size		chunk = Min(nbytes - done, IVFPQ_RAW_BYTES);

		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		memcpy(IvfpqRawData(BufferGetPage(buf)), data + done, chunk);
		MarkBufferDirty(buf);
		UnlockReleaseBuffer(buf);
		done += chunk;
	}
}

/*
 * Append one entry to a list during build (no WAL yet); the list's radius
 * grows to cover it.
 */
static void
BuildAppend(IvfpqBuildState *bs, int list, IvfpqEntry *entry)
{
	Relation	index = bs->index;
	IvfpqListDir *dir = &bs->dir[list];
	Buffer		buf;
	Buffer		newbuf;

	if (bs->st->trained && bs->st->encoding == IVFPQ_ENC_PQ)
		dir->radius = Max(dir->radius,
						  IvfpqEntryReach(bs->st, entry->codes, NULL, 0, entry->err));

	if (BlockNumberIsValid(dir->tail))
	{
		buf = ReadBuffer(index, dir->tail);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		if (IvfpqDataPageHasRoom(bs->st, BufferGetPage(buf)))
		{
			if (!IvfpqDataPageAdd(bs->st, BufferGetPage(buf), entry))
				elog(ERROR, "failed to add entry to index \"%s\"", RelationGetRelationName(index));
			MarkBufferDirty(buf);
			UnlockReleaseBuffer(buf);
			return;
		}
	}
	else
		buf = InvalidBuffer;

	newbuf = NewPage(index, IVFPQ_PAGE_DATA, list);
	IvfpqInitDataPage(bs->st, BufferGetPage(newbuf), list);
	if (!IvfpqDataPageAdd(bs->st, BufferGetPage(newbuf), entry))
		elog(ERROR, "failed to add entry to index \"%s\"", RelationGetRelationName(index));
	MarkBufferDirty(newbuf);
	if (BufferIsValid(buf))
	{
		IvfpqPageGetOpaque(BufferGetPage(buf))->nextblkno = BufferGetBlockNumber(newbuf);
		MarkBufferDirty(buf);
		UnlockReleaseBuffer(buf);
	}
	else
		dir->head = BufferGetBlockNumber(newbuf);
	dir->tail = BufferGetBlockNumber(newbuf);
	dir->insertpage = dir->tail;
	UnlockReleaseBuffer(newbuf);
}

static void SortPut(IvfpqBuildState *bs, int list);
static uint64 SharedAddDone(IvfpqShared *sh, int n);

/* Assign, encode and append (or, in a parallel build, sort) the buffered rows. */
static void
FlushBatch(IvfpqBuildState *bs)
{
	IvfpqState *st = bs->st;
	int			i;
	bool		gpucoded = false;

	if (bs->nbatch == 0)
		return;
	IvfpqAssign(bs->batch, bs->nbatch, st->dims, st->centroids, st->cnorms,
				st->lists, bs->batchassign, bs->work);

	/*
	 * vecx.gpu: the block's residuals encoded in one batch on a device,
	 * bitwise IvfpqEncode's codes and errors; else row by row below.
	 */
	if (bs->batchres != NULL)
	{
		for (i = 0; i < bs->nbatch; i++)
		{
			const float *x = bs->batch + (Size) i * st->dims;
			const float *c = st->centroids + (Size) bs->batchassign[i] * st->dims;
			float	   *r = bs->batchres + (Size) i * st->dims;
			int			t;

			for (t = 0; t < st->dims; t++)
				r[t] = x[t] - c[t];
		}
		gpucoded = VecxGpuPqEncode(bs->batchres, bs->nbatch, st->dims, st->m,
								   st->suboff, st->ksub, st->codebook,
								   bs->batchcodes, bs->batcherrs);
	}
	for (i = 0; i < bs->nbatch; i++)
	{
		IvfpqMakeEntry(st, bs->batch + (Size) i * st->dims,
					   bs->batchraw + (Size) i * st->vecbytes, bs->batchnorms[i],
					   bs->batchassign[i], &bs->batchtids[i],
					   st->fbytes > 0 ? bs->batchfilters + (Size) i * st->fbytes : NULL,
					   bs->entry, bs->residual,
					   gpucoded ? bs->batchcodes + (Size) i * st->m : NULL,
					   gpucoded ? bs->batcherrs[i] : 0);
		if (bs->sortstate)
			SortPut(bs, bs->batchassign[i]);
		else
			BuildAppend(bs, bs->batchassign[i], bs->entry);
	}
	bs->indtuples += bs->nbatch;
	if (bs->shared)
	{
		uint64		done = SharedAddDone(bs->shared, bs->nbatch);

		if (bs->isleader)
			pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) done);
	}
	else
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) bs->indtuples);
	bs->nbatch = 0;
}

static void
LoadCallback(Relation index, ItemPointer tid, Datum *values,
			 bool *isnull, bool tupleIsAlive, void *state)
{
	IvfpqBuildState *bs = (IvfpqBuildState *) state;
	MemoryContext oldcxt;
	float		norm;
	double		rawnorm;

	if (isnull[0])
		return;

	oldcxt = MemoryContextSwitchTo(bs->tmpcxt);
	if (IvfpqDatumToFloat(bs->st, bs->kind, values[0],
						  bs->batch + (Size) bs->nbatch * bs->st->dims,
						  bs->st->dims, bs->normalize, &norm, &rawnorm))
	{
		IvfpqCheckIndexable(rawnorm, bs->encoding);
		if (bs->st->vecbytes > 0)
			IvfpqDatumRaw(bs->kind, values[0], bs->st->dims,
						  bs->batchraw + (Size) bs->nbatch * bs->st->vecbytes);
		bs->batchtids[bs->nbatch] = *tid;
		bs->batchnorms[bs->nbatch] = norm;
		if (bs->st->fbytes > 0)
			VecxFormFilter(index, values, isnull,
						   bs->batchfilters + (Size) bs->nbatch * bs->st->fbytes);
		bs->nbatch++;
	}
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(bs->tmpcxt);

	if (bs->nbatch == bs->batchcap)
		FlushBatch(bs);
}

/*
 * Fill the metapage (block 0, already allocated).
 */
static void
WriteMeta(Relation index, Buffer metabuf, IvfpqMetaPageData *meta)
{
	Page		page = BufferGetPage(metabuf);

	memcpy(PageGetContents(page), meta, sizeof(IvfpqMetaPageData));
	/* keep pd_lower past the metadata: generic WAL zeroes the hole */
	((PageHeader) page)->pd_lower =
		((char *) PageGetContents(page) + sizeof(IvfpqMetaPageData)) - (char *) page;
	MarkBufferDirty(metabuf);
}

static void
InitMeta(IvfpqMetaPageData *meta, int encoding, int kind, int dims, int lists, int m,
		 int nbits, bool trained, int nfilter)
{
	IvfpqState	layout;

	IvfpqSetLayout(&layout, encoding, IVFPQ_KIND_ELEM(kind), dims, m, nbits, trained, nfilter);
	memset(meta, 0, sizeof(*meta));
	meta->magic = IVFPQ_MAGIC;
	meta->version = IVFPQ_VERSION;
	meta->kind = kind;
	meta->dims = dims;
	meta->lists = lists;
	meta->m = m;
	meta->nbits = nbits;
	meta->trained = trained ? 1 : 0;
	meta->entrysize = layout.entrysize;
	meta->fastscan = layout.fastscan ? 1 : 0;
	meta->nfilter = (uint32) nfilter;
	meta->encoding = (uint32) encoding;
	meta->codebookStart = InvalidBlockNumber;
	meta->centroidStart = InvalidBlockNumber;
	meta->dirPages = (lists + IVFPQ_DIR_PER_PAGE - 1) / IVFPQ_DIR_PER_PAGE;
}

static IvfpqListDir *
EmptyDir(int lists)
{
	IvfpqListDir *dir = palloc(mul_size(sizeof(IvfpqListDir), lists));
	int			i;

	for (i = 0; i < lists; i++)
	{
		dir[i].head = InvalidBlockNumber;
		dir[i].tail = InvalidBlockNumber;
		dir[i].insertpage = InvalidBlockNumber;
		dir[i].radius = 0;
	}
	return dir;
}

/*
 * Buffers for pass 2: a block of rows within a quarter of mem bytes, and
 * the sgemm work area for it.  When the GPU is to assign (vecx.gpu, a
 * trained index) blocks are larger, so that a call's transfers and launch
 * are spread over more rows: the block with its residuals (PQ, encoded
 * on the GPU too) or its stored vectors (FLAT) still within a quarter of
 * mem.
 */
static void
InitLoad(IvfpqBuildState *bs, Size mem)
{
	IvfpqState *st = bs->st;
	bool		gpu = st->trained && VecxGpuEnabled();

	if (gpu)
		bs->batchcap = (int) Max(16.0, Min((double) IVFPQ_GPU_LOAD_BATCH,
										   (double) mem / 8 / ((double) st->dims * sizeof(float))));
	else
		bs->batchcap = (int) Max(16.0, Min((double) IVFPQ_LOAD_BATCH,
										   (double) mem / 4 / ((double) st->dims * sizeof(float))));
	if (gpu && st->encoding == IVFPQ_ENC_PQ)
	{
		bs->batchres = palloc_extended(mul_size(mul_size(sizeof(float), bs->batchcap), st->dims),
									   MCXT_ALLOC_HUGE);
		bs->batchcodes = palloc_extended(mul_size(bs->batchcap, st->m), MCXT_ALLOC_HUGE);
		bs->batcherrs = palloc(mul_size(sizeof(float), bs->batchcap));
	}
	bs->batch = palloc_extended(mul_size(mul_size(sizeof(float), bs->batchcap), st->dims),
								MCXT_ALLOC_HUGE);
	bs->batchtids = palloc(sizeof(ItemPointerData) * bs->batchcap);
	bs->batchnorms = palloc(sizeof(float) * bs->batchcap);
	bs->batchraw = palloc_extended(mul_size(Max(st->vecbytes, 1), bs->batchcap),
								   MCXT_ALLOC_HUGE);
	bs->batchfilters = palloc(mul_size(Max(st->fbytes, 1), bs->batchcap));
	bs->batchassign = palloc(sizeof(int) * bs->batchcap);
	bs->residual = palloc(mul_size(sizeof(float), st->dims));
	bs->entry = palloc0(st->entrysize);
	if (bs->work == NULL)
		bs->work = palloc_extended(IvfpqAssignWorkSize(bs->batchcap, st->lists),
								   MCXT_ALLOC_HUGE);
}

/* ---------------------------------------------------------------------
 * Parallel build
 *
 * Pass 1 and training stay in the leader (the sample is small and the
 * result must not depend on the number of workers).  For pass 2 the leader
 * copies the trained quantizers (centroids, their norms, the codebook and
 * sub-vector offsets) into dynamic shared memory and launches workers;
 * each participant, the leader included, scans its share of the heap with
 * a parallel table scan, assigns and encodes rows exactly as the serial
 * build does, and feeds the entries into its part of a coordinated
 * tuplesort (as nbtsort does).  A sort item is a bytea: list number, heap
 * block and offset in big-endian order, then the IvfpqEntry bytes, so that
 * bytea's memcmp order is (list, heap TID).  The leader merges the sorted
 * runs and appends the entries list by list through the serial build's
 * BuildAppend: pages have the serial format, each list's pages are
 * contiguous, and entries are in heap order within a list, as a serial
 * build scanning the heap in order would place them.
 *
 * Memory: the shared segment holds the quantizers (4 * dims * (lists +
 * 2^pq_bits) bytes plus the norms); each participant sorts within
 * maintenance_work_mem / participants and assigns blocks within a quarter
 * of that; the leader's merge uses maintenance_work_mem.  Sorted runs that
 * do not fit spill to temporary files.
 * ---------------------------------------------------------------------
 */

struct IvfpqShared
{
	Oid			heaprelid;
	Oid			indexrelid;
	bool		isconcurrent;
	bool		normalize;
	int			participants;	/* sorts that will be fed (leader + workers) */
	int			sortmem;		/* kB per participant */
	IvfpqState	st;				/* scalar fields; arrays follow */
	Size		suboffOff;
	Size		codebookOff;
	Size		centroidsOff;
	Size		cnormsOff;
	Size		total;
	slock_t		mutex;
	double		reltuples;		/* heap tuples seen by the workers */
	double		indtuples;		/* entries sorted by the workers */
	int			nparticipantsdone;	/* sorts performed */
	pg_atomic_uint64 tuplesdone;	/* progress: rows encoded by anyone */
};

static uint64
SharedAddDone(IvfpqShared *sh, int n)
{
	return pg_atomic_add_fetch_u64(&sh->tuplesdone, (uint64) n);
}

/* Put bs->entry, assigned to list, into the participant's sort. */
static void
SortPut(IvfpqBuildState *bs, int list)
{
	uint8	   *p = (uint8 *) VARDATA(bs->sortbuf);
	BlockNumber blk = ItemPointerGetBlockNumberNoCheck(&bs->entry->tid);
	OffsetNumber off = ItemPointerGetOffsetNumberNoCheck(&bs->entry->tid);
	uint32		l = (uint32) list;

	p[0] = (uint8) (l >> 24);
	p[1] = (uint8) (l >> 16);
	p[2] = (uint8) (l >> 8);
	p[3] = (uint8) l;
	p[4] = (uint8) (blk >> 24);
	p[5] = (uint8) (blk >> 16);
	p[6] = (uint8) (blk >> 8);
	p[7] = (uint8) blk;
	p[8] = (uint8) (off >> 8);
	p[9] = (uint8) off;
	memcpy(p + IVFPQ_SORT_KEY, bs->entry, bs->st->entrysize);
	tuplesort_putdatum(bs->sortstate, PointerGetDatum(bs->sortbuf), false);
}

static Tuplesortstate *
BeginSort(int workMem, Sharedsort *sharedsort, bool isWorker, int participants)
{
	SortCoordinate coordinate = palloc0(sizeof(SortCoordinateData));

	coordinate->isWorker = isWorker;
	coordinate->nParticipants = isWorker ? -1 : participants;
	coordinate->sharedsort = sharedsort;
	return tuplesort_begin_datum(BYTEAOID, ByteaLessOperator, InvalidOid, false,
								 Max(workMem, 64), coordinate, TUPLESORT_NONE);
}

/*
 * The work of one participant: scan its share of the heap, encode, sort.
 */
static void
ParallelScanAndSort(IvfpqShared *sh, Sharedsort *sharedsort, ParallelTableScanDesc pscan,
					Relation heap, Relation index, bool isleader)
{
	IvfpqBuildState bs;
	IvfpqState	st;
	IndexInfo  *indexInfo;
	TableScanDesc scan;
	double		reltuples;
	MemoryContext cxt,
				oldcxt;

	cxt = AllocSetContextCreate(CurrentMemoryContext, "ivfpq parallel build",
								ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(cxt);

	st = sh->st;
	st.suboff = (int *) ((char *) sh + sh->suboffOff);
	st.codebook = (float *) ((char *) sh + sh->codebookOff);
	st.centroids = (float *) ((char *) sh + sh->centroidsOff);
	st.cnorms = (float *) ((char *) sh + sh->cnormsOff);

	memset(&bs, 0, sizeof(bs));
	bs.index = index;
	bs.encoding = st.encoding;
	bs.amname = IvfpqAmName(st.encoding);
	bs.kind = st.kind;
	bs.normalize = sh->normalize;
	bs.dims = st.dims;
	bs.st = &st;
	bs.shared = sh;
	bs.isleader = isleader;
	bs.tmpcxt = AllocSetContextCreate(cxt, "ivfpq build tuple", ALLOCSET_DEFAULT_SIZES);
	InitLoad(&bs, mul_size((Size) sh->sortmem, 1024));
	bs.sortbuf = palloc(VARHDRSZ + IVFPQ_SORT_KEY + st.entrysize);
	SET_VARSIZE(bs.sortbuf, VARHDRSZ + IVFPQ_SORT_KEY + st.entrysize);
	bs.sortstate = BeginSort(sh->sortmem, sharedsort, true, 0);

	indexInfo = BuildIndexInfo(index);
	indexInfo->ii_Concurrent = sh->isconcurrent;
	scan = table_beginscan_parallel(heap, pscan);
	reltuples = table_index_build_scan(heap, index, indexInfo, true, isleader,
									   LoadCallback, &bs, scan);
	FlushBatch(&bs);
	tuplesort_performsort(bs.sortstate);

	SpinLockAcquire(&sh->mutex);
	sh->reltuples += reltuples;
	sh->indtuples += bs.indtuples;
	sh->nparticipantsdone++;
	SpinLockRelease(&sh->mutex);

	tuplesort_end(bs.sortstate);
	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(cxt);
}

/* Entry point of a parallel build worker (registered by name). */
void
IvfpqParallelBuildMain(dsm_segment *seg, shm_toc *toc)
{
	ParallelTableScanDesc pscan;
	void	   *sharedsort;
	IvfpqShared *sh = VecxParallelShared(toc, &pscan, &sharedsort);
	Relation	heap;
	Relation	index;

	VecxParallelOpen(sh->heaprelid, sh->indexrelid, sh->isconcurrent, &heap, &index);
	tuplesort_attach_shared(sharedsort, seg);
	ParallelScanAndSort(sh, sharedsort, pscan, heap, index, false);
	VecxParallelClose(heap, index, sh->isconcurrent);
}

/*
 * Number of workers for pass 2: the planner's choice (parallel_workers
 * reloption, max_parallel_maintenance_workers, maintenance_work_mem of at
 * least 32MB per participant).  The planner sizes by heap pages, but
 * vectors live mostly in TOAST, so a table with many rows can have a small
 * heap: without a parallel_workers reloption, count rows instead.
 */
static int
ParallelWorkers(Relation heap, Relation index, IndexInfo *indexInfo, double rows)
{
	int			nworkers;

	if (!IsUnderPostmaster || !IsNormalProcessingMode() || IsInParallelMode())
		return 0;
	nworkers = plan_create_index_workers(RelationGetRelid(heap), RelationGetRelid(index));
	if (nworkers <= 0 && rows >= IVFPQ_PARALLEL_MIN_ROWS &&
		RelationGetParallelWorkers(heap, -1) < 0 &&
		max_parallel_maintenance_workers > 0 &&
		indexInfo->ii_Expressions == NIL && indexInfo->ii_Predicate == NIL &&
		RelationGetForm(heap)->relpersistence != RELPERSISTENCE_TEMP)
	{
		nworkers = max_parallel_maintenance_workers;
		while (nworkers > 0 && maintenance_work_mem / (nworkers + 1) < 32768)
			nworkers--;
	}
	return Max(nworkers, 0);
}

/*
 * WaitForParticipants
 *		Wait until every participant has performed its sort, keeping
 *		tuples_done moving meanwhile.  A worker's error reaches us through
 *		CHECK_FOR_INTERRUPTS; one that never started is caught by
 *		WaitForParallelWorkersToAttach.
 */
static void
WaitForParticipants(ParallelContext *pcxt, IvfpqShared *sh)
{
	WaitForParallelWorkersToAttach(pcxt);
	for (;;)
	{
		int			done;

		SpinLockAcquire(&sh->mutex);
		done = sh->nparticipantsdone;
		SpinLockRelease(&sh->mutex);
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE,
									 (int64) pg_atomic_read_u64(&sh->tuplesdone));
		if (done >= pcxt->nworkers_launched + 1)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 100, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	WaitForParallelWorkersToFinish(pcxt);
}

/* Merge the participants' sorted runs and write the lists in order. */
static void
MergeRuns(IvfpqBuildState *bs, Sharedsort *sharedsort, int participants)
{
	IvfpqState *st = bs->st;
	Tuplesortstate *sortstate;
	MemoryContext tmp,
				oldcxt;
	Datum		d;
	bool		isnull;

	sortstate = BeginSort(maintenance_work_mem, sharedsort, false, participants);
	tuplesort_performsort(sortstate);
	bs->entry = palloc0(st->entrysize);
	tmp = AllocSetContextCreate(CurrentMemoryContext, "ivfpq build merge",
								ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(tmp);
	while (tuplesort_getdatum(sortstate, true, &d, &isnull, NULL))
	{
		bytea	   *b = (bytea *) DatumGetPointer(d);
		uint8	   *p = (uint8 *) VARDATA_ANY(b);
		uint32		list;

		CHECK_FOR_INTERRUPTS();
		if (isnull || VARSIZE_ANY_EXHDR(b) != IVFPQ_SORT_KEY + (Size) st->entrysize)
			elog(ERROR, "unexpected item in ivfpq build sort");
		list = ((uint32) p[0] << 24) | ((uint32) p[1] << 16) | ((uint32) p[2] << 8) | p[3];
		if (list >= (uint32) st->lists)
			elog(ERROR, "ivfpq build sort returned list %u of %d", list, st->lists);
		memcpy(bs->entry, p + IVFPQ_SORT_KEY, st->entrysize);
		BuildAppend(bs, (int) list, bs->entry);
		bs->indtuples += 1;
		MemoryContextReset(tmp);
	}
	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(tmp);
	tuplesort_end(sortstate);
}

/*
 * ParallelLoad
 *		Pass 2 with parallel workers; the leader writes the lists.  Returns
 *		false (nothing done) when no worker can be used.
 */
static bool
ParallelLoad(IvfpqBuildState *bs, Relation heap, Relation index, IndexInfo *indexInfo,
			 double *reltuples)
{
	IvfpqState *st = bs->st;
	int			nworkers = ParallelWorkers(heap, index, indexInfo, bs->seen);
	VecxParallel vp;
	ParallelContext *pcxt;
	Size		estsort,
				total;
	Size		suboffsz,
				cbsz,
				csz,
				cnsz;
	IvfpqShared *sh;
	Sharedsort *sharedsort;
	int			participants;

	if (nworkers <= 0)
		return false;

	suboffsz = MAXALIGN(mul_size(sizeof(int), st->m + 1));
	cbsz = MAXALIGN(mul_size(mul_size(sizeof(float), st->dims), st->ksub));
	csz = MAXALIGN(mul_size(mul_size(sizeof(float), st->dims), st->lists));
	cnsz = MAXALIGN(mul_size(sizeof(float), st->lists));
	total = add_size(add_size(add_size(add_size(MAXALIGN(sizeof(IvfpqShared)), suboffsz),
									   cbsz), csz), cnsz);

	participants = nworkers + 1;
	estsort = tuplesort_estimate_shared(participants);
	if (!VecxParallelBegin(&vp, "IvfpqParallelBuildMain", nworkers, heap, indexInfo,
						   total, estsort))
		return false;
	pcxt = vp.pcxt;
	sh = vp.shared;
	memset(sh, 0, sizeof(IvfpqShared));
	sh->heaprelid = RelationGetRelid(heap);
	sh->indexrelid = RelationGetRelid(index);
	sh->isconcurrent = indexInfo->ii_Concurrent;
	sh->normalize = bs->normalize;
	sh->participants = participants;
	sh->sortmem = maintenance_work_mem / participants;
	sh->st = *st;
	sh->st.suboff = NULL;
	sh->st.codebook = NULL;
	sh->st.centroids = NULL;
	sh->st.cnorms = NULL;
	sh->suboffOff = MAXALIGN(sizeof(IvfpqShared));
	sh->codebookOff = sh->suboffOff + suboffsz;
	sh->centroidsOff = sh->codebookOff + cbsz;
	sh->cnormsOff = sh->centroidsOff + csz;
	sh->total = total;
	memcpy((char *) sh + sh->suboffOff, st->suboff, sizeof(int) * (st->m + 1));
	if (st->ksub > 0)
		memcpy((char *) sh + sh->codebookOff, st->codebook,
			   sizeof(float) * (Size) st->dims * st->ksub);
	memcpy((char *) sh + sh->centroidsOff, st->centroids,
		   sizeof(float) * (Size) st->dims * st->lists);
	memcpy((char *) sh + sh->cnormsOff, st->cnorms, sizeof(float) * (Size) st->lists);
	SpinLockInit(&sh->mutex);
	pg_atomic_init_u64(&sh->tuplesdone, 0);

	sharedsort = vp.extra;
	tuplesort_initialize_shared(sharedsort, participants, pcxt->seg);

	LaunchParallelWorkers(pcxt);
	ereport(DEBUG1,
			(errmsg("ivfpq build: %d parallel workers for index \"%s\"",
					pcxt->nworkers_launched, RelationGetRelationName(index))));
	if (pcxt->nworkers_launched == 0)
	{
		/* nothing was scanned yet: the serial pass 2 does the work */
		WaitForParallelWorkersToFinish(pcxt);
		VecxParallelEnd(&vp);
		return false;
	}

	/* the leader takes part as one more worker */
	ParallelScanAndSort(sh, sharedsort, vp.pscan, heap, index, true);

	WaitForParticipants(pcxt, sh);
	MergeRuns(bs, sharedsort, pcxt->nworkers_launched + 1);

	if (bs->indtuples != sh->indtuples)
		elog(ERROR, "ivfpq parallel build sorted %.0f entries but wrote %.0f",
			 sh->indtuples, bs->indtuples);
	*reltuples = sh->reltuples;

	VecxParallelEnd(&vp);
	return true;
}

/*
 * ChooseLists
 *		The number of lists after pass 1: the requested one, or fewer when
 *		the sample has fewer rows (1 without any), with a notice saying so.
 */
static int
ChooseLists(IvfpqBuildState *bs, Relation index)
{
	int			lists = bs->lists;

	if (bs->seen > bs->samplecap && bs->samplecap < bs->samplewant)
		ereport(NOTICE,
				(errmsg("%s training sample limited to %d rows by maintenance_work_mem",
						bs->amname, bs->samplecap),
				 errhint("Increase maintenance_work_mem to train on up to %d rows.", bs->samplewant)));
	if (bs->nsample == 0)
	{
		ereport(NOTICE,
				(errmsg("%s index \"%s\" created without training data", bs->amname,
						RelationGetRelationName(index)),
				 errdetail("Until it is rebuilt, scans of the index read every entry and re-check each row."),
				 errhint("REINDEX the index after loading data.")));
		lists = 1;
	}
	else if (bs->nsample < lists)
	{
		ereport(NOTICE,
				(errmsg("%s index \"%s\" created with little data", bs->amname,
						RelationGetRelationName(index)),
				 errdetail("%d rows for %d lists; using %d lists.", bs->nsample, lists, bs->nsample),
				 errhint("REINDEX the index after loading more rows.")));
		lists = bs->nsample;
	}
	return lists;
}

/*
 * ChooseM
 *		Check that training fits in maintenance_work_mem and choose the
 *		number of sub-vectors (reloption pq_m, or automatic), checking that
 *		an entry fits on a page.
 */
static int
ChooseM(IvfpqBuildState *bs, IvfpqOptions *opts, int lists, int nbits, int nfilter)
{
	/*
	 * Training memory: centroids (float), sums (double), the sgemm distance
	 * block and the codebook, beside the sample.
	 */
	bool		flat = bs->encoding == IVFPQ_ENC_FLAT;
	double		need = (double) lists * bs->dims * (sizeof(float) * 2 + sizeof(double)) +
		(double) IvfpqAssignWorkSize(Max(Min(bs->nsample, IVFPQ_PQ_MAX_SAMPLES), IVFPQ_LOAD_BATCH), lists) +
		(flat ? 0.0 : (double) bs->dims * 256 * sizeof(float)) +
		(double) bs->samplealloc * bs->dims * sizeof(float);
	int			m;

	if (need > (double) MaintenanceBytes())
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("memory required to build %s index with %d lists of %d dimensions exceeds maintenance_work_mem",
						bs->amname, lists, bs->dims),
				 errdetail("About %.0f kB are needed.", need / 1024),
				 errhint("Increase maintenance_work_mem or use fewer lists.")));
	if (flat)
		return 0;

	m = (opts && opts->pq_m > 0) ? opts->pq_m :
		IvfpqAutoM(bs->dims, nbits, VecxFilterBytes(nfilter));
	if (m > bs->dims)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pq_m (%d) cannot exceed the number of dimensions (%d)", m, bs->dims)));
	if (IVFPQ_ENTRY_SIZE(IvfpqCodeBytes(m, nbits)) + VecxFilterBytes(nfilter) > BLCKSZ / 3)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("ivfpq entries of %d sub-vectors of %d bits do not fit on a page", m, nbits),
				 errhint("Use a smaller pq_m.")));
	return m;
}

/* The coarse quantizer: k-means over the sample, and the centroids' norms. */
static void
TrainCoarse(IvfpqBuildState *bs, IvfpqState *st)
{
	int			i;

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, IVFPQ_PHASE_KMEANS);
	IvfpqKmeans(bs->sample, bs->nsample, bs->dims, st->lists, IVFPQ_KMEANS_ITERS,
				st->centroids, IVFPQ_SEED, st->type == VECX_ELEM_BIT);
	for (i = 0; i < st->lists; i++)
	{
		const float *c = st->centroids + (Size) i * bs->dims;

		st->cnorms[i] = vecx_kernels->dot_f32(c, c, bs->dims);
	}
}

/*
 * Calibrate
 *		The recall calibration of the metapage (ivfpq.h, README "Cost
 *		model"): a few sampled rows serve as queries; their exact k nearest
 *		neighbours among (the first IVFPQ_CALIB_BASE rows of) the sample,
 *		the query itself excluded, are found by brute force, each
 *		neighbour's list by the assignment pass 2 uses, and that list's
 *		rank among the lists ordered as a scan orders them for the query.
 *		calib[i] is the fraction of neighbours whose list ranks below 2^i.
 *		Runs before the product quantizer overwrites the sample with
 *		residuals.  Deterministic: the sample is, and so are the query rows
 *		(evenly spaced) and the ties (lower row, lower list first).
 *
 *		Cost: queries x base x dims for the neighbours, plus queries x
 *		lists x dims for the list order and neighbours x lists x dims for
 *		their lists: 48 x 12,800 x 784 + 528 x 256 x 784 flops, about 0.6
 *		GFLOP, at Fashion-MNIST 60k x 784 with 256 lists.
 */
static void
Calibrate(IvfpqBuildState *bs, IvfpqState *st)
{
	int			d = bs->dims;
	int			lists = st->lists;
	bool		ip = st->metric == VECX_METRIC_IP;
	int			base = Min(bs->nsample, IVFPQ_CALIB_BASE);
	int			nq = Min(IVFPQ_CALIB_QUERIES, base);
	int			k = Min(IVFPQ_CALIB_K, base - 1);
	int			ncalib = IvfpqCalibEntries(lists);
	int		   *nn;
	float	   *nnd;
	float	   *nnrows;
	int		   *nnlist;
	float	   *cdist;
	float	   *work;
	double		found[IVFPQ_NCALIB];
	double		total = 0;
	instr_time	start,
				elapsed;
	int			q,
				i;

	bs->ncalib = 0;
	memset(bs->calib, 0, sizeof(bs->calib));
	if (ncalib == 0 || k < 1)
		return;
	INSTR_TIME_SET_CURRENT(start);

	nn = palloc(mul_size(mul_size(sizeof(int), nq), k));
	nnd = palloc(mul_size(sizeof(float), k));
	nnrows = palloc_extended(mul_size(mul_size(mul_size(sizeof(float), nq), k), d),
							 MCXT_ALLOC_HUGE);
	nnlist = palloc(mul_size(mul_size(sizeof(int), nq), k));
	cdist = palloc(mul_size(sizeof(float), lists));
	memset(found, 0, sizeof(found));

	/* the exact neighbours of each query row */
	for (q = 0; q < nq; q++)
	{
		int			qi = (int) (((int64) q * base) / nq);
		const float *x = bs->sample + (Size) qi * d;
		int		   *qnn = nn + (Size) q * k;
		int			have = 0;
		int			r;

		CHECK_FOR_INTERRUPTS();
		for (r = 0; r < base; r++)
		{
			const float *y = bs->sample + (Size) r * d;
			float		dist;
			int			pos;

			if (r == qi)
				continue;
			dist = ip ? -vecx_kernels->dot_f32(x, y, d) : vecx_kernels->l2sq_f32(x, y, d);
			if (have == k && !(dist < nnd[k - 1]))
				continue;
			/* insert, keeping the k nearest in order (earlier rows win ties) */
			pos = have < k ? have++ : k - 1;
			while (pos > 0 && dist < nnd[pos - 1])
			{
				nnd[pos] = nnd[pos - 1];
				qnn[pos] = qnn[pos - 1];
				pos--;
			}
			nnd[pos] = dist;
			qnn[pos] = r;
		}
		for (i = 0; i < k; i++)
			memcpy(nnrows + ((Size) q * k + i) * d, bs->sample + (Size) qnn[i] * d,
				   sizeof(float) * d);
	}

	/* the neighbours' lists, as pass 2 assigns them */
	work = palloc_extended(IvfpqAssignWorkSize(nq * k, lists), MCXT_ALLOC_HUGE);
	IvfpqAssign(nnrows, nq * k, d, st->centroids, st->cnorms, lists, nnlist, work);
	pfree(work);

	/* each neighbour list's rank in the query's list order */
	for (q = 0; q < nq; q++)
	{
		int			qi = (int) (((int64) q * base) / nq);
		const float *x = bs->sample + (Size) qi * d;
		int			l;

		CHECK_FOR_INTERRUPTS();
		for (l = 0; l < lists; l++)
		{
			const float *c = st->centroids + (Size) l * d;

			cdist[l] = ip ? -vecx_kernels->dot_f32(x, c, d) : vecx_kernels->l2sq_f32(x, c, d);
		}
		for (i = 0; i < k; i++)
		{
			int			mine = nnlist[(Size) q * k + i];
			float		md = cdist[mine];
			int			rank = 0;
			int			j;

			for (l = 0; l < lists; l++)
				if (cdist[l] < md || (cdist[l] == md && l < mine))
					rank++;
			for (j = 0; j < ncalib; j++)
				if (rank < (1 << j))
					found[j] += 1;
			total += 1;
		}
	}

	INSTR_TIME_SET_CURRENT(elapsed);
	INSTR_TIME_SUBTRACT(elapsed, start);
	bs->ncalib = (uint32) ncalib;
	for (i = 0; i < ncalib; i++)
	{
		double		r = found[i] / total;

		bs->calib[i] = (uint16) rint(Min(r, 1.0) * IVFPQ_CALIB_ONE);
	}
	elog(DEBUG2, "%s calibration: %d queries, %d neighbours among %d rows, recall %.3f at 1 probe, %.3f at %d, %.1f ms",
		 bs->amname, nq, k, base, found[0] / total, found[ncalib - 1] / total, 1 << (ncalib - 1),
		 INSTR_TIME_GET_MILLISEC(elapsed));

	pfree(nn);
	pfree(nnd);
	pfree(nnrows);
	pfree(nnlist);
	pfree(cdist);
}

/*
 * TrainProduct
 *		The product quantizer, on the residuals of (part of) the sample;
 *		frees the sample.
 */
static void
TrainProduct(IvfpqBuildState *bs, IvfpqState *st)
{
	int			npq = Min(bs->nsample, IVFPQ_PQ_MAX_SAMPLES);
	int		   *assign;
	int			i;

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, IVFPQ_PHASE_PQ);
	assign = palloc(mul_size(sizeof(int), npq));
	bs->work = palloc_extended(IvfpqAssignWorkSize(Max(npq, IVFPQ_LOAD_BATCH), st->lists),
							   MCXT_ALLOC_HUGE);
	IvfpqAssign(bs->sample, npq, bs->dims, st->centroids, st->cnorms, st->lists, assign, bs->work);
	for (i = 0; i < npq; i++)
	{
		float	   *row = bs->sample + (Size) i * bs->dims;
		const float *c = st->centroids + (Size) assign[i] * bs->dims;
		int			t;

		for (t = 0; t < bs->dims; t++)
			row[t] -= c[t];
	}
	IvfpqTrainPQ(bs->sample, npq, bs->dims, st->m, st->ksub, st->suboff, st->codebook,
				 IVFPQ_SEED + 1);
	pfree(assign);
	pfree(bs->sample);
	bs->sample = NULL;
}

/*
 * Train
 *		Train both quantizers on the sample and write the codebook and
 *		centroid pages; fills meta and bs->st.
 */
static void
Train(IvfpqBuildState *bs, Relation index, IvfpqOptions *opts, IvfpqMetaPageData *meta,
	  int lists, int nbits, int nfilter)
{
	int			m = ChooseM(bs, opts, lists, nbits, nfilter);
	IvfpqState *st;
	Size		cbsize,
				csize;

	st = palloc0(sizeof(IvfpqState));
	st->dims = bs->dims;
	st->kind = bs->kind;
	st->metric = IVFPQ_KIND_METRIC(bs->kind);
	st->type = IVFPQ_KIND_ELEM(bs->kind);
	st->lists = lists;
	IvfpqSetLayout(st, bs->encoding, st->type, bs->dims, m, nbits, true, nfilter);
	st->suboff = palloc0(sizeof(int) * (m + 1));
	if (m > 0)
		IvfpqSubOffsets(bs->dims, m, st->suboff);
	cbsize = mul_size(mul_size(sizeof(float), bs->dims), st->ksub);
	csize = mul_size(mul_size(sizeof(float), bs->dims), lists);
	st->codebook = palloc_extended(cbsize, MCXT_ALLOC_HUGE);
	st->centroids = palloc_extended(csize, MCXT_ALLOC_HUGE);
	st->cnorms = palloc(mul_size(sizeof(float), lists));
	bs->st = st;

	TrainCoarse(bs, st);
	Calibrate(bs, st);
	if (bs->encoding == IVFPQ_ENC_PQ)
		TrainProduct(bs, st);
	else
	{
		pfree(bs->sample);
		bs->sample = NULL;
	}

	InitMeta(meta, bs->encoding, bs->kind, bs->dims, lists, m, nbits, true, nfilter);
	meta->ncalib = bs->ncalib;
	memcpy(meta->calib, bs->calib, sizeof(meta->calib));
	meta->codebookStart = WriteRaw(index, IVFPQ_PAGE_CODEBOOK, (char *) st->codebook,
								   cbsize, &meta->codebookPages);
	meta->centroidStart = WriteRaw(index, IVFPQ_PAGE_CENTROID, (char *) st->centroids,
								   csize, &meta->centroidPages);
}

/*
 * Load
 *		Pass 2: assign and encode every row, in parallel where workers can
 *		be had, then rewrite the list directory.
 */
static void
Load(IvfpqBuildState *bs, Relation heap, Relation index, IndexInfo *indexInfo,
	 IvfpqMetaPageData *meta, int lists)
{
	double		ptuples;

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, IVFPQ_PHASE_LOAD);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, (int64) bs->seen);
	if (!ParallelLoad(bs, heap, index, indexInfo, &ptuples))
	{
		InitLoad(bs, MaintenanceBytes());
		table_index_build_scan(heap, index, indexInfo, true, true,
							   LoadCallback, bs, NULL);
		FlushBatch(bs);
	}
	RewriteRaw(index, meta->dirStart, (char *) bs->dir,
			   mul_size(sizeof(IvfpqListDir), lists));
}

/*
 * ivfpqbuild
 *		Pass 1 samples the table, the quantizers are trained on the sample
 *		(Train), pass 2 encodes every row into its list (Load), and the
 *		metapage is written last.
 */
IndexBuildResult *
ivfpqbuild(Relation heap, Relation index, IndexInfo *indexInfo)
{
	IndexBuildResult *result;
	IvfpqBuildState bs;
	IvfpqOptions *opts = (IvfpqOptions *) index->rd_options;
	IvfpqMetaPageData meta;
	Buffer		metabuf;
	double		reltuples;
	int			lists;
	int			nbits;
	int			typmod;
	int			nfilter;
	bool		trained;
	MemoryContext buildcxt,
				oldcxt;

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));
	IvfpqCheckIndexColumns(index);
	nfilter = IndexRelationGetNumberOfKeyAttributes(index) - 1;

	buildcxt = AllocSetContextCreate(CurrentMemoryContext, "ivfpq build",
									 ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(buildcxt);

	memset(&bs, 0, sizeof(bs));
	bs.index = index;
	bs.encoding = IvfpqIndexEncoding(index);
	bs.amname = IvfpqAmName(bs.encoding);
	bs.kind = IvfpqGetKind(index);
	bs.normalize = IVFPQ_KIND_METRIC(bs.kind) == VECX_METRIC_COSINE;
	/* ivfflat's options are the first fields of ivfpq's: only lists */
	bs.lists = opts ? opts->lists : IVFPQ_DEFAULT_LISTS;
	if (bs.encoding == IVFPQ_ENC_FLAT)
	{
		nbits = 0;
		opts = NULL;
	}
	else
		nbits = opts ? opts->pq_bits : IVFPQ_DEFAULT_BITS;
	typmod = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;
	bs.dims = typmod > 0 ? typmod : 0;
	bs.tmpcxt = AllocSetContextCreate(buildcxt, "ivfpq build tuple", ALLOCSET_DEFAULT_SIZES);
	pg_prng_seed(&bs.rng, IVFPQ_SEED);

	CheckBuildDims(&bs, bs.dims);

	/*
	 * Block 0 is the metapage; filled in last.  Its lock is not kept over
	 * the build: holding a buffer lock holds off interrupts (no query
	 * cancel) and would keep parallel workers from being launched.
	 */
	metabuf = NewPage(index, IVFPQ_PAGE_META, 0);
	MarkBufferDirty(metabuf);
	UnlockReleaseBuffer(metabuf);

	/* Pass 1: sample */
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, IVFPQ_PHASE_SAMPLE);
	reltuples = table_index_build_scan(heap, index, indexInfo, true, true,
									   SampleCallback, &bs, NULL);
	lists = ChooseLists(&bs, index);
	trained = bs.nsample > 0;

	if (trained)
		Train(&bs, index, opts, &meta, lists, nbits, nfilter);
	else
		InitMeta(&meta, bs.encoding, bs.kind, bs.dims, lists, 0, nbits, false, nfilter);

	bs.dir = EmptyDir(lists);
	meta.dirStart = WriteRaw(index, IVFPQ_PAGE_DIRECTORY, (char *) bs.dir,
							 mul_size(sizeof(IvfpqListDir), lists), &meta.dirPages);

	/* Pass 2: assign and encode every row */
	if (trained)
		Load(&bs, heap, index, indexInfo, &meta, lists);

	metabuf = ReadBuffer(index, IVFPQ_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	WriteMeta(index, metabuf, &meta);
	UnlockReleaseBuffer(metabuf);

	if (RelationNeedsWAL(index))
		log_newpage_range(index, MAIN_FORKNUM, 0, RelationGetNumberOfBlocks(index), true);

	MemoryContextSwitchTo(oldcxt);

	result = (IndexBuildResult *) palloc(sizeof(IndexBuildResult));
	result->heap_tuples = reltuples;
	result->index_tuples = bs.indtuples;

	MemoryContextDelete(buildcxt);
	return result;
}

/*
 * ivfpqbuildempty
 *		The init fork of an unlogged index: an untrained index (metapage
 *		and one directory page), written and synced directly.
 */
void
ivfpqbuildempty(Relation index)
{
	IvfpqMetaPageData meta;
	PGAlignedBlock metablk;
	PGAlignedBlock dirblk;
	Page		metapage = (Page) metablk.data;
	Page		dirpage = (Page) dirblk.data;
	IvfpqListDir dir;
	int			typmod = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;
	IvfpqOptions *opts = (IvfpqOptions *) index->rd_options;
	int			encoding = IvfpqIndexEncoding(index);

	IvfpqCheckIndexColumns(index);
	InitMeta(&meta, encoding, IvfpqGetKind(index), typmod > 0 ? typmod : 0, 1, 0,
			 encoding == IVFPQ_ENC_FLAT ? 0 : opts ? opts->pq_bits : IVFPQ_DEFAULT_BITS,
			 false, IndexRelationGetNumberOfKeyAttributes(index) - 1);
	meta.dirStart = 1;
	meta.dirPages = 1;

	IvfpqInitPage(metapage, IVFPQ_PAGE_META, 0);
	memcpy(PageGetContents(metapage), &meta, sizeof(meta));
	((PageHeader) metapage)->pd_lower =
		((char *) PageGetContents(metapage) + sizeof(IvfpqMetaPageData)) - (char *) metapage;

	IvfpqInitPage(dirpage, IVFPQ_PAGE_DIRECTORY, 0);
	dir.head = dir.tail = dir.insertpage = InvalidBlockNumber;
	dir.radius = 0;
	memcpy(IvfpqRawData(dirpage), &dir, sizeof(dir));
	((PageHeader) dirpage)->pd_lower = MAXALIGN(SizeOfPageHeaderData) + sizeof(dir);

	PageSetChecksumInplace(metapage, 0);
	smgrextend(RelationGetSmgr(index), INIT_FORKNUM, 0, (char *) metapage, true);
	log_newpage(&(RelationGetSmgr(index))->smgr_rnode.node, INIT_FORKNUM, 0, metapage, true);
	PageSetChecksumInplace(dirpage, 1);
	smgrextend(RelationGetSmgr(index), INIT_FORKNUM, 1, (char *) dirpage, true);
	log_newpage(&(RelationGetSmgr(index))->smgr_rnode.node, INIT_FORKNUM, 1, dirpage, true);

	/*
	 * The writes bypassed shared buffers, so a checkpoint may already have
	 * passed our WAL records: sync now.
	 */
	smgrimmedsync(RelationGetSmgr(index), INIT_FORKNUM);
}
