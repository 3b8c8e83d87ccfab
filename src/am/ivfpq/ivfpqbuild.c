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
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/tableam.h"
#include "access/xloginsert.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "common/pg_prng.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "storage/smgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "ivfpq.h"
#include "simd/simd.h"

#define IVFPQ_LOAD_BATCH	1024

typedef struct IvfpqBuildState
{
	Relation	index;
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
	int		   *batchassign;
	float	   *work;
	float	   *residual;
	IvfpqEntry *entry;
	int			nbatch;
	int			batchcap;		/* rows per assignment block */
	double		indtuples;

	MemoryContext tmpcxt;
} IvfpqBuildState;

static Size
MaintenanceBytes(void)
{
	return mul_size((Size) maintenance_work_mem, 1024);
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
	int			slot;

	if (isnull[0])
		return;

	oldcxt = MemoryContextSwitchTo(bs->tmpcxt);
	if (bs->dims == 0)
		bs->dims = IvfpqDatumDims(bs->kind, values[0]);
	MemoryContextSwitchTo(oldcxt);
	if (bs->sample == NULL)
		InitSample(bs);

	oldcxt = MemoryContextSwitchTo(bs->tmpcxt);
	dst = palloc(sizeof(float) * bs->dims);
	if (IvfpqDatumToFloat(NULL, bs->kind, values[0], dst, bs->dims, bs->normalize, &norm))
	{
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

/* Append one entry to a list during build (no WAL yet). */
static void
BuildAppend(IvfpqBuildState *bs, int list, IvfpqEntry *entry)
{
	Relation	index = bs->index;
	IvfpqListDir *dir = &bs->dir[list];
	Buffer		buf;
	Buffer		newbuf;

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

/* Assign, encode and append the buffered rows. */
static void
FlushBatch(IvfpqBuildState *bs)
{
	IvfpqState *st = bs->st;
	int			i;

	if (bs->nbatch == 0)
		return;
	IvfpqAssign(bs->batch, bs->nbatch, st->dims, st->centroids, st->cnorms,
				st->lists, bs->batchassign, bs->work);
	for (i = 0; i < bs->nbatch; i++)
	{
		IvfpqMakeEntry(st, bs->batch + (Size) i * st->dims, bs->batchnorms[i],
					   bs->batchassign[i], &bs->batchtids[i], bs->entry, bs->residual);
		BuildAppend(bs, bs->batchassign[i], bs->entry);
	}
	bs->indtuples += bs->nbatch;
	bs->nbatch = 0;
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) bs->indtuples);
}

static void
LoadCallback(Relation index, ItemPointer tid, Datum *values,
			 bool *isnull, bool tupleIsAlive, void *state)
{
	IvfpqBuildState *bs = (IvfpqBuildState *) state;
	MemoryContext oldcxt;
	float		norm;

	if (isnull[0])
		return;

	oldcxt = MemoryContextSwitchTo(bs->tmpcxt);
	if (IvfpqDatumToFloat(bs->st, bs->kind, values[0],
						  bs->batch + (Size) bs->nbatch * bs->st->dims,
						  bs->st->dims, bs->normalize, &norm))
	{
		bs->batchtids[bs->nbatch] = *tid;
		bs->batchnorms[bs->nbatch] = norm;
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
InitMeta(IvfpqMetaPageData *meta, int kind, int dims, int lists, int m, int nbits, bool trained)
{
	memset(meta, 0, sizeof(*meta));
	meta->magic = IVFPQ_MAGIC;
	meta->version = IVFPQ_VERSION;
	meta->kind = kind;
	meta->dims = dims;
	meta->lists = lists;
	meta->m = m;
	meta->nbits = nbits;
	meta->trained = trained ? 1 : 0;
	meta->entrysize = IVFPQ_ENTRY_SIZE(trained ? IvfpqCodeBytes(m, nbits) : 0);
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
		dir[i].reserved = 0;
	}
	return dir;
}

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
	int			m = 0;
	int			nbits;
	int			typmod;
	bool		trained;
	MemoryContext buildcxt,
				oldcxt;

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));

	buildcxt = AllocSetContextCreate(CurrentMemoryContext, "ivfpq build",
									 ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(buildcxt);

	memset(&bs, 0, sizeof(bs));
	bs.index = index;
	bs.kind = IvfpqGetKind(index);
	bs.normalize = IVFPQ_KIND_METRIC(bs.kind) == IVFPQ_METRIC_COSINE;
	bs.lists = opts ? opts->lists : IVFPQ_DEFAULT_LISTS;
	nbits = opts ? opts->pq_bits : IVFPQ_DEFAULT_BITS;
	typmod = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;
	bs.dims = typmod > 0 ? typmod : 0;
	bs.tmpcxt = AllocSetContextCreate(buildcxt, "ivfpq build tuple", ALLOCSET_DEFAULT_SIZES);
	pg_prng_seed(&bs.rng, IVFPQ_SEED);

	if (bs.dims > VECX_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("column cannot have more than %d dimensions for ivfpq index", VECX_MAX_DIM)));

	/* Block 0 is the metapage; filled in last */
	metabuf = NewPage(index, IVFPQ_PAGE_META, 0);

	/* Pass 1: sample */
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, IVFPQ_PHASE_SAMPLE);
	reltuples = table_index_build_scan(heap, index, indexInfo, true, true,
									   SampleCallback, &bs, NULL);

	lists = bs.lists;
	trained = bs.nsample > 0;
	if (bs.seen > bs.samplecap && bs.samplecap < bs.samplewant)
		ereport(NOTICE,
				(errmsg("ivfpq training sample limited to %d rows by maintenance_work_mem", bs.samplecap),
				 errhint("Increase maintenance_work_mem to train on up to %d rows.", bs.samplewant)));
	if (!trained)
	{
		ereport(NOTICE,
				(errmsg("ivfpq index \"%s\" created without training data", RelationGetRelationName(index)),
				 errdetail("Until it is rebuilt, scans of the index read every entry and re-check each row."),
				 errhint("REINDEX the index after loading data.")));
		lists = 1;
	}
	else if (bs.nsample < lists)
	{
		ereport(NOTICE,
				(errmsg("ivfpq index \"%s\" created with little data", RelationGetRelationName(index)),
				 errdetail("%d rows for %d lists; using %d lists.", bs.nsample, lists, bs.nsample),
				 errhint("REINDEX the index after loading more rows.")));
		lists = bs.nsample;
	}

	if (trained)
	{
		IvfpqState *st;
		Size		cbsize,
					csize;
		int		   *assign;
		int			npq;
		int			i;

		/*
		 * Training memory: centroids (float), sums (double), the sgemm
		 * distance block and the codebook, beside the sample.
		 */
		{
			double		need = (double) lists * bs.dims * (sizeof(float) * 2 + sizeof(double)) +
				(double) IvfpqAssignWorkSize(Max(Min(bs.nsample, IVFPQ_PQ_MAX_SAMPLES), IVFPQ_LOAD_BATCH), lists) +
				(double) bs.dims * 256 * sizeof(float) +
				(double) bs.samplealloc * bs.dims * sizeof(float);

			if (need > (double) MaintenanceBytes())
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("memory required to build ivfpq index with %d lists of %d dimensions exceeds maintenance_work_mem",
								lists, bs.dims),
						 errdetail("About %.0f kB are needed.", need / 1024),
						 errhint("Increase maintenance_work_mem or use fewer lists.")));
		}

		m = (opts && opts->pq_m > 0) ? opts->pq_m : IvfpqAutoM(bs.dims, nbits);
		if (m > bs.dims)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("pq_m (%d) cannot exceed the number of dimensions (%d)", m, bs.dims)));
		if (IVFPQ_ENTRY_SIZE(IvfpqCodeBytes(m, nbits)) > BLCKSZ / 3)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("ivfpq entries of %d sub-vectors of %d bits do not fit on a page", m, nbits),
					 errhint("Use a smaller pq_m.")));

		st = palloc0(sizeof(IvfpqState));
		st->dims = bs.dims;
		st->kind = bs.kind;
		st->metric = IVFPQ_KIND_METRIC(bs.kind);
		st->type = IVFPQ_KIND_TYPE(bs.kind);
		st->lists = lists;
		st->m = m;
		st->nbits = nbits;
		st->ksub = 1 << nbits;
		st->trained = true;
		st->codebytes = IvfpqCodeBytes(m, nbits);
		st->entrysize = IVFPQ_ENTRY_SIZE(st->codebytes);
		st->ngroups = (m + 3) / 4;
		st->blocksize = IVFPQ_FS_SIZE(st->ngroups);
		st->fastscan = nbits == 4 && m <= IVFPQ_FS_MAX_M;
		st->blocksperpage = st->fastscan ? (int) (IVFPQ_RAW_BYTES / st->blocksize) : 0;
		st->suboff = palloc(sizeof(int) * (m + 1));
		IvfpqSubOffsets(bs.dims, m, st->suboff);
		cbsize = mul_size(mul_size(sizeof(float), bs.dims), st->ksub);
		csize = mul_size(mul_size(sizeof(float), bs.dims), lists);
		st->codebook = palloc_extended(cbsize, MCXT_ALLOC_HUGE);
		st->centroids = palloc_extended(csize, MCXT_ALLOC_HUGE);
		st->cnorms = palloc(mul_size(sizeof(float), lists));
		bs.st = st;

		/* Coarse quantizer */
		pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, IVFPQ_PHASE_KMEANS);
		IvfpqKmeans(bs.sample, bs.nsample, bs.dims, lists, IVFPQ_KMEANS_ITERS,
					st->centroids, IVFPQ_SEED);
		for (i = 0; i < lists; i++)
		{
			const float *c = st->centroids + (Size) i * bs.dims;

			st->cnorms[i] = vecx_kernels->dot_f32(c, c, bs.dims);
		}

		/* Product quantizer on residuals of (part of) the sample */
		pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, IVFPQ_PHASE_PQ);
		npq = Min(bs.nsample, IVFPQ_PQ_MAX_SAMPLES);
		assign = palloc(mul_size(sizeof(int), npq));
		bs.work = palloc_extended(IvfpqAssignWorkSize(Max(npq, IVFPQ_LOAD_BATCH), lists),
								  MCXT_ALLOC_HUGE);
		IvfpqAssign(bs.sample, npq, bs.dims, st->centroids, st->cnorms, lists, assign, bs.work);
		for (i = 0; i < npq; i++)
		{
			float	   *row = bs.sample + (Size) i * bs.dims;
			const float *c = st->centroids + (Size) assign[i] * bs.dims;
			int			t;

			for (t = 0; t < bs.dims; t++)
				row[t] -= c[t];
		}
		IvfpqTrainPQ(bs.sample, npq, bs.dims, m, st->ksub, st->suboff, st->codebook,
					 IVFPQ_SEED + 1);
		pfree(assign);
		pfree(bs.sample);
		bs.sample = NULL;

		InitMeta(&meta, bs.kind, bs.dims, lists, m, nbits, true);
		meta.fastscan = st->fastscan ? 1 : 0;
		meta.codebookStart = WriteRaw(index, IVFPQ_PAGE_CODEBOOK, (char *) st->codebook,
									  cbsize, &meta.codebookPages);
		meta.centroidStart = WriteRaw(index, IVFPQ_PAGE_CENTROID, (char *) st->centroids,
									  csize, &meta.centroidPages);
	}
	else
		InitMeta(&meta, bs.kind, bs.dims, lists, 0, nbits, false);

	bs.dir = EmptyDir(lists);
	meta.dirStart = WriteRaw(index, IVFPQ_PAGE_DIRECTORY, (char *) bs.dir,
							 mul_size(sizeof(IvfpqListDir), lists), &meta.dirPages);

	/* Pass 2: assign and encode every row */
	if (trained)
	{
		IvfpqState *st = bs.st;

		pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, IVFPQ_PHASE_LOAD);
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, (int64) bs.seen);
		/* a block of rows within a quarter of maintenance_work_mem */
		bs.batchcap = (int) Max(16.0, Min((double) IVFPQ_LOAD_BATCH,
										  (double) MaintenanceBytes() / 4 / ((double) st->dims * sizeof(float))));
		bs.batch = palloc_extended(mul_size(mul_size(sizeof(float), bs.batchcap), st->dims),
								   MCXT_ALLOC_HUGE);
		bs.batchtids = palloc(sizeof(ItemPointerData) * bs.batchcap);
		bs.batchnorms = palloc(sizeof(float) * bs.batchcap);
		bs.batchassign = palloc(sizeof(int) * bs.batchcap);
		bs.residual = palloc(mul_size(sizeof(float), st->dims));
		bs.entry = palloc0(st->entrysize);
		table_index_build_scan(heap, index, indexInfo, true, true,
							   LoadCallback, &bs, NULL);
		FlushBatch(&bs);
		RewriteRaw(index, meta.dirStart, (char *) bs.dir,
				   mul_size(sizeof(IvfpqListDir), lists));
	}

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

	InitMeta(&meta, IvfpqGetKind(index), typmod > 0 ? typmod : 0, 1, 0,
			 opts ? opts->pq_bits : IVFPQ_DEFAULT_BITS, false);
	meta.dirStart = 1;
	meta.dirPages = 1;

	IvfpqInitPage(metapage, IVFPQ_PAGE_META, 0);
	memcpy(PageGetContents(metapage), &meta, sizeof(meta));
	((PageHeader) metapage)->pd_lower =
		((char *) PageGetContents(metapage) + sizeof(IvfpqMetaPageData)) - (char *) metapage;

	IvfpqInitPage(dirpage, IVFPQ_PAGE_DIRECTORY, 0);
	dir.head = dir.tail = dir.insertpage = InvalidBlockNumber;
	dir.reserved = 0;
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
