/*-------------------------------------------------------------------------
 *
 * ivfpqcheck.c
 *	  vecx_index_check() for ivfpq indexes: metapage, raw pages, lists.
 *
 * The metapage fields must agree with each other and with the operator
 * class; the codebook, centroid and directory regions must lie inside the
 * index, not overlap, have the page type they should and hold finite
 * numbers.  Each list's chain (from its directory entry) must visit data
 * pages of that list only, each page at most once (no cycles, no page in
 * two lists), and contain the directory's tail and insert page.  Every
 * entry is checked (line pointer bounds, length, flags, heap TID, error
 * bound and norm).  Pages reached by no chain must be new (all zero) or,
 * if the index grew meanwhile, on their list's chain now.  With
 * heapallindexed each indexed row's entry must also agree with the row:
 * its norm, and its codes must decode to within the entry's error bound
 * of the row's residual from its list's centroid (the bound scans rely on).
 *
 * ivfflat indexes (FLAT encoding, metapage version 4) have no codebook and
 * their trained entries hold the vector itself: its elements must be
 * finite (bit strings: padding bits zero), and with heapallindexed equal
 * to the row's, byte for byte.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "utils/memutils.h"
#include "utils/rel.h"

#include "ivfpq.h"
#include "simd/pq.h"
#include "simd/simd.h"
#include "am/common/vecxcheck.h"

/* What owns a block (IvfpqCheck.owner) */
#define OWN_NONE		0
#define OWN_META		1
#define OWN_CODEBOOK	2
#define OWN_CENTROID	3
#define OWN_DIRECTORY	4
#define OWN_LIST		5

typedef struct IvfpqCheck
{
	VecxCheckState *cs;
	IvfpqMetaPageData meta;
	int			metric;
	int			type;
	bool		flat;			/* FLAT encoding (ivfflat) */
	bool		trained;
	bool		fastscan;
	bool		radii;			/* trained, format with list radii */
	int			codebytes;
	Size		blocksize;
	int			blocksperpage;	/* fast-scan blocks on a data page */
	IvfpqState	layout;			/* entry and block layout */
	BlockNumber nblocks;		/* size of owner[] */
	uint8	   *owner;
	Page		page;
	Page		page2;
	IvfpqListDir *dir;			/* copy of the directory */
	float	   *codebook;		/* heapallindexed or radii only */
	float	   *centroids;
	int		   *suboff;
	float	   *x;
	float	   *r;
} IvfpqCheck;

static const char *
OwnerName(uint8 o)
{
	switch (o)
	{
		case OWN_META:
			return "the metapage";
		case OWN_CODEBOOK:
			return "the codebook";
		case OWN_CENTROID:
			return "the centroids";
		case OWN_DIRECTORY:
			return "the directory";
		default:
			return "another list";
	}
}

/* Grow the owner map when the index grew under us. */
static void
EnsureMap(IvfpqCheck *hc, BlockNumber n)
{
	if (n <= hc->nblocks)
		return;
	hc->owner = repalloc_huge(hc->owner, n);
	memset(hc->owner + hc->nblocks, 0, n - hc->nblocks);
	hc->nblocks = n;
}

/* Header, special space, page id and type of a page that must not be new. */
static void
CheckPageType(IvfpqCheck *hc, Page page, BlockNumber blkno, uint16 type)
{
	IvfpqPageOpaque opaque;

	if (PageIsNew(page))
		VecxCheckCorrupt(hc->cs, blkno, 0, "page is uninitialized, expected page type %u", type);
	VecxCheckPageHeader(hc->cs, page, blkno, sizeof(IvfpqPageOpaqueData));
	opaque = IvfpqPageGetOpaque(page);
	if (opaque->page_id != IVFPQ_PAGE_ID)
		VecxCheckCorrupt(hc->cs, blkno, 0, "page id is %04X, expected %04X",
						 opaque->page_id, IVFPQ_PAGE_ID);
	if (opaque->type != type)
		VecxCheckCorrupt(hc->cs, blkno, 0, "page type is %u, expected %u", opaque->type, type);
}

/*
 * The recall calibration (version 5): one entry per power of two below
 * lists (none while untrained), recalls that never fall as the probes
 * double, zero past ncalib.
 */
static void
CheckCalibration(IvfpqCheck *hc, IvfpqMetaPage meta)
{
	VecxCheckState *cs = hc->cs;
	Size		off = offsetof(IvfpqMetaPageData, calib) + MAXALIGN(SizeOfPageHeaderData);
	int			want = meta->trained ? IvfpqCalibEntries(meta->lists) : 0;
	int			i;

	if (meta->ncalib != (uint32) want)
		VecxCheckCorrupt(cs, 0, offsetof(IvfpqMetaPageData, ncalib) + MAXALIGN(SizeOfPageHeaderData),
						 "recall calibration has %u entries, expected %d for %d lists",
						 meta->ncalib, want, meta->lists);
	for (i = 1; i < want; i++)
		if (meta->calib[i] < meta->calib[i - 1])
			VecxCheckCorrupt(cs, 0, off + i * sizeof(uint16),
							 "recall calibration entry %d (%u) is below entry %d (%u)",
							 i, meta->calib[i], i - 1, meta->calib[i - 1]);
	for (i = want; i < IVFPQ_NCALIB; i++)
		if (meta->calib[i] != 0)
			VecxCheckCorrupt(cs, 0, off + i * sizeof(uint16),
							 "unused recall calibration entry %d is %u, expected 0", i, meta->calib[i]);
}

static void
CheckMeta(IvfpqCheck *hc)
{
	VecxCheckState *cs = hc->cs;
	IvfpqMetaPage meta;
	int			kind;
	int32		typmod;
	Size		metaEnd;
	int			codebytes;
	bool		fastscan;
	int			encoding;
	IvfpqMetaPageData shape;

	CheckPageType(hc, hc->page, IVFPQ_METAPAGE_BLKNO, IVFPQ_PAGE_META);
	meta = IvfpqPageGetMeta(hc->page);
	if (meta->magic != IVFPQ_MAGIC)
		VecxCheckCorrupt(cs, 0, 0, "metapage magic is %08X, expected %08X", meta->magic, IVFPQ_MAGIC);
	if (!IvfpqVersionReadable(meta->version))
		VecxCheckCorrupt(cs, 0, 0, "metapage format version is %u, expected %u, %u or %u",
						 meta->version, IVFPQ_VERSION_RELEASED, IVFPQ_VERSION_RADIUS, IVFPQ_VERSION);
	metaEnd = ((char *) meta + IvfpqMetaSize(meta->version)) - (char *) hc->page;
	if (((PageHeader) hc->page)->pd_lower < metaEnd)
		VecxCheckCorrupt(cs, 0, 0, "pd_lower %u does not cover the metapage data (%zu bytes)",
						 ((PageHeader) hc->page)->pd_lower, metaEnd);
	encoding = meta->version < IVFPQ_VERSION_RADIUS ? IVFPQ_ENC_PQ : (int) meta->encoding;
	if (encoding != IvfpqIndexEncoding(cs->index))
		VecxCheckCorrupt(cs, 0, 0, "metapage list encoding %u does not belong to access method %s",
						 meta->encoding, IvfpqAmName(IvfpqIndexEncoding(cs->index)));
	if (meta->version >= IVFPQ_VERSION_RADIUS && meta->reserved != 0)
		VecxCheckCorrupt(cs, 0, 0, "reserved metapage word is %u, expected 0", meta->reserved);
	if (meta->nfilter != (uint32) (IndexRelationGetNumberOfKeyAttributes(cs->index) - 1))
		VecxCheckCorrupt(cs, 0, 0, "metapage records %u filter columns, the index has %d",
						 meta->nfilter, IndexRelationGetNumberOfKeyAttributes(cs->index) - 1);
	kind = IvfpqGetKind(cs->index);
	if (meta->kind != kind)
		VecxCheckCorrupt(cs, 0, 0, "metapage kind %d differs from the operator class's %d",
						 meta->kind, kind);
	if (meta->dims < 0 ||
		meta->dims > (encoding == IVFPQ_ENC_FLAT ? IVFFLAT_MAX_BITS : VECX_MAX_DIM))
		VecxCheckCorrupt(cs, 0, 0, "dimensions = %d are out of range", meta->dims);
	typmod = TupleDescAttr(RelationGetDescr(cs->index), 0)->atttypmod;
	if (typmod > 0 && meta->dims != typmod)
		VecxCheckCorrupt(cs, 0, 0, "metapage has %d dimensions, the indexed column %d",
						 meta->dims, typmod);
	if (meta->trained != 0 && meta->trained != 1)
		VecxCheckCorrupt(cs, 0, 0, "trained flag is %d", meta->trained);
	if (meta->lists < IVFPQ_MIN_LISTS || meta->lists > IVFPQ_MAX_LISTS ||
		(!meta->trained && meta->lists != 1))
		VecxCheckCorrupt(cs, 0, 0, "lists = %d is out of range", meta->lists);
	if (encoding == IVFPQ_ENC_FLAT)
	{
		if (meta->nbits != 0 || meta->m != 0)
			VecxCheckCorrupt(cs, 0, 0, "%d sub-vectors of %d bits in an index of whole vectors",
							 meta->m, meta->nbits);
		shape = *meta;
		shape.encoding = IVFPQ_ENC_FLAT;
		if (!IvfpqMetaShapeValid(&shape) || (meta->trained && meta->dims < 1))
			VecxCheckCorrupt(cs, 0, 0, "%d dimensions are out of range for ivfflat (trained %d)",
							 meta->dims, meta->trained);
	}
	else
	{
		if (meta->nbits != 4 && meta->nbits != 8)
			VecxCheckCorrupt(cs, 0, 0, "bits per code = %d, expected 4 or 8", meta->nbits);
		if (meta->trained ?
			(meta->dims < 1 || meta->m < 1 || meta->m > IVFPQ_MAX_M || meta->m > meta->dims) :
			meta->m != 0)
			VecxCheckCorrupt(cs, 0, 0, "%d sub-vectors of %d dimensions are out of range (trained %d)",
							 meta->m, meta->dims, meta->trained);
	}
	IvfpqSetLayout(&hc->layout, encoding, IVFPQ_KIND_ELEM(kind), meta->dims, meta->m,
				   meta->nbits, meta->trained != 0, (int) meta->nfilter);
	codebytes = hc->layout.codebytes;
	/* PQ entries take at most a third of a page, FLAT ones a page */
	if (meta->entrysize != hc->layout.entrysize ||
		meta->entrysize > (encoding == IVFPQ_ENC_FLAT ?
						   (int) (BLCKSZ - MAXALIGN(SizeOfPageHeaderData) -
								  MAXALIGN(sizeof(IvfpqPageOpaqueData)) - sizeof(ItemIdData)) :
						   BLCKSZ / 3))
		VecxCheckCorrupt(cs, 0, 0, "entry size %d, expected %d", meta->entrysize,
						 hc->layout.entrysize);
	fastscan = hc->layout.fastscan;
	if (meta->fastscan != (fastscan ? 1 : 0))
		VecxCheckCorrupt(cs, 0, 0, "fast-scan flag %u, expected %d", meta->fastscan, fastscan ? 1 : 0);

	if (meta->version >= IVFPQ_VERSION_CALIB)
		CheckCalibration(hc, meta);
	IvfpqCopyMeta(hc->page, &hc->meta);
	hc->metric = IVFPQ_KIND_METRIC(kind);
	hc->type = IVFPQ_KIND_ELEM(kind);
	hc->flat = encoding == IVFPQ_ENC_FLAT;
	hc->trained = meta->trained != 0;
	hc->radii = hc->trained && meta->version >= IVFPQ_VERSION_RADIUS && !hc->flat;
	hc->fastscan = fastscan;
	hc->codebytes = codebytes;
	hc->blocksize = hc->layout.blocksize;
	hc->blocksperpage = fastscan ? (int) (IVFPQ_RAW_BYTES / hc->blocksize) : 0;
}

/*
 * One raw region (codebook, centroids, directory): placement, page count,
 * page types, pd_lower covering the data, finite floats.  Returns a copy of
 * the data when keep is set (allocated only once the region is known to
 * lie inside the index, so a damaged metapage cannot ask for gigabytes).
 */
static char *
CheckRegion(IvfpqCheck *hc, BlockNumber start, uint32 npages, Size nbytes, uint16 type,
			uint8 own, bool floats, bool keep)
{
	char	   *dst = NULL;
	VecxCheckState *cs = hc->cs;
	uint32		want = (nbytes + IVFPQ_RAW_BYTES - 1) / IVFPQ_RAW_BYTES;
	Size		done = 0;
	uint32		i;

	if (npages != want)
		VecxCheckCorrupt(cs, 0, 0, "%s has %u pages, expected %u for %zu bytes",
						 OwnerName(own), npages, want, nbytes);
	if (npages == 0)
		return keep ? palloc(1) : NULL;
	if (start == IVFPQ_METAPAGE_BLKNO || start == InvalidBlockNumber ||
		(uint64) start + npages > hc->nblocks)
		VecxCheckCorrupt(cs, 0, 0, "%s at blocks %u..%u lies outside the index (%u blocks)",
						 OwnerName(own), start, (uint32) ((uint64) start + npages - 1), hc->nblocks);
	if (keep)
		dst = MemoryContextAllocHuge(CurrentMemoryContext, nbytes);
	for (i = 0; i < npages; i++)
	{
		BlockNumber blkno = start + i;
		Size		chunk = Min(nbytes - done, IVFPQ_RAW_BYTES);
		char	   *raw;

		if (hc->owner[blkno] != OWN_NONE)
			VecxCheckCorrupt(cs, blkno, 0, "block belongs to %s and to %s",
							 OwnerName(hc->owner[blkno]), OwnerName(own));
		hc->owner[blkno] = own;
		VecxCheckReadPage(cs, blkno, hc->page);
		CheckPageType(hc, hc->page, blkno, type);
		if (((PageHeader) hc->page)->pd_lower < MAXALIGN(SizeOfPageHeaderData) + chunk)
			VecxCheckCorrupt(cs, blkno, 0, "pd_lower %u does not cover %zu bytes of data",
							 ((PageHeader) hc->page)->pd_lower, chunk);
		raw = IvfpqRawData(hc->page);
		if (floats)
		{
			const float *f = (const float *) raw;
			Size		k;

			for (k = 0; k < chunk / sizeof(float); k++)
				if (!isfinite(f[k]))
					VecxCheckCorrupt(cs, blkno, 0, "%s value at byte %zu is not finite",
									 OwnerName(own), (size_t) (MAXALIGN(SizeOfPageHeaderData) + k * sizeof(float)));
		}
		if (dst)
			memcpy(dst + done, raw, chunk);
		done += chunk;
	}
	return dst;
}

/*
 * The filter payload of one entry: no null bit beyond the filter columns,
 * a NULL column's slot zero (as VecxFormFilter writes it).
 */
static void
CheckPayload(IvfpqCheck *hc, BlockNumber blkno, OffsetNumber off, const char *payload)
{
	uint32		nullmask;
	int			nf = hc->layout.nfilter;
	int			i;

	if (nf == 0)
		return;
	memcpy(&nullmask, payload, sizeof(uint32));
	if (nf < 32 && (nullmask >> nf) != 0)
		VecxCheckCorrupt(hc->cs, blkno, off, "filter null bitmap %08X has bits beyond %d columns",
						 nullmask, nf);
	for (i = 0; i < nf; i++)
	{
		int64		v;

		memcpy(&v, payload + 4 + 8 * i, sizeof(int64));
		if ((nullmask & ((uint32) 1 << i)) && v != 0)
			VecxCheckCorrupt(hc->cs, blkno, off, "filter column %d is NULL but its slot is not zero",
							 i + 2);
	}
}

/* Scalar fields of one entry at (blkno, off). */
static void
CheckEntryFields(IvfpqCheck *hc, BlockNumber blkno, OffsetNumber off, ItemPointer tid,
				 uint16 flags, float err, float norm, const uint8 *codes)
{
	VecxCheckState *cs = hc->cs;

	if (flags != (hc->trained ? 0 : IVFPQ_ENTRY_UNENCODED))
		VecxCheckCorrupt(cs, blkno, off, "entry flags are %u in a%s index",
						 flags, hc->trained ? " trained" : "n untrained");
	if (hc->flat && hc->trained)
	{
		/* no error bound or norm: the vector follows the flags (FlatVector) */
		VecxCheckHeapTid(cs, tid, blkno, off);
		VecxCheckAddEntry(cs, tid, blkno, off);
		return;
	}
	if (!isfinite(err) || err < 0)
		VecxCheckCorrupt(cs, blkno, off, "entry error bound %g is invalid", err);
	if (!isfinite(norm) || norm < 0 ||
		(hc->metric == VECX_METRIC_COSINE && fabs(norm - 1.0) > 1e-3))
		VecxCheckCorrupt(cs, blkno, off, "entry norm %g is invalid", norm);
	if (codes && hc->meta.nbits == 4 && (hc->meta.m & 1) && (codes[hc->codebytes - 1] >> 4) != 0)
		VecxCheckCorrupt(cs, blkno, off, "unused half of the last code byte is %u",
						 codes[hc->codebytes - 1] >> 4);
	VecxCheckHeapTid(cs, tid, blkno, off);
	VecxCheckAddEntry(cs, tid, blkno, off);
}

/*
 * The vector of a trained FLAT entry: finite elements (as every input path
 * of the types guarantees), bit strings without bits past their length.
 */
static void
CheckFlatVector(IvfpqCheck *hc, BlockNumber blkno, OffsetNumber off, const char *vec)
{
	int			dims = hc->meta.dims;
	int			i;

	if (hc->type == VECX_ELEM_BIT)
	{
		uint8		last = (uint8) vec[hc->layout.vecbytes - 1];

		if ((dims & 7) != 0 && (last & (0xFF >> (dims & 7))) != 0)
			VecxCheckCorrupt(hc->cs, blkno, off, "bit string has bits set past its length %d", dims);
		return;
	}
	for (i = 0; i < dims; i++)
	{
		float		f;

		if (hc->type == VECX_ELEM_F16)
		{
			uint16		h;

			memcpy(&h, vec + sizeof(uint16) * i, sizeof(uint16));
			f = vecx_half_to_float(h);
		}
		else
			memcpy(&f, vec + sizeof(float) * i, sizeof(float));
		if (!isfinite(f))
			VecxCheckCorrupt(hc->cs, blkno, off, "vector element %d is not finite", i + 1);
	}
}

/*
 * An entry of list "list" must lie within the list's radius, as the scan's
 * list bounds assume: the directory's radius is at least the entry's reach,
 * computed as build and insert do.  An insert grows the radius after our
 * copy of the directory was taken, so a larger reach is compared with the
 * directory as it is now before it is reported.
 */
static void
CheckReach(IvfpqCheck *hc, BlockNumber blkno, OffsetNumber off, int list,
		   const uint8 *codes, const char *fsblk, int slot, float err)
{
	float		reach;
	BlockNumber dirblk;

	if (!hc->radii)
		return;
	reach = IvfpqEntryReach(&hc->layout, codes, fsblk, slot, err);
	if (reach <= hc->dir[list].radius)
		return;
	dirblk = hc->meta.dirStart + list / IVFPQ_DIR_PER_PAGE;
	VecxCheckReadPage(hc->cs, dirblk, hc->page2);
	CheckPageType(hc, hc->page2, dirblk, IVFPQ_PAGE_DIRECTORY);
	memcpy(&hc->dir[list].radius, IvfpqRawData(hc->page2) +
		   sizeof(IvfpqListDir) * (list % IVFPQ_DIR_PER_PAGE) + offsetof(IvfpqListDir, radius),
		   sizeof(float));
	if (!(reach <= hc->dir[list].radius))
		VecxCheckCorrupt(hc->cs, blkno, off, "entry reaches %g from its centroid, beyond the radius %g of list %d",
						 reach, hc->dir[list].radius, list);
}

/* Entries of a data page of list "list" already known to be of this index's format. */
static void
CheckEntries(IvfpqCheck *hc, Page page, BlockNumber blkno, int list)
{
	VecxCheckState *cs = hc->cs;

	if (hc->fastscan)
	{
		Size		bytes = hc->blocksize * hc->blocksperpage;
		int			b;

		if (((PageHeader) page)->pd_lower != MAXALIGN(SizeOfPageHeaderData) + bytes)
			VecxCheckCorrupt(cs, blkno, 0, "pd_lower %u, expected %zu for %d fast-scan blocks",
							 ((PageHeader) page)->pd_lower,
							 (size_t) (MAXALIGN(SizeOfPageHeaderData) + bytes), hc->blocksperpage);
		/* entry "offsets" of fast-scan pages: block * 16 + slot + 1 */
		for (b = 0; b < hc->blocksperpage; b++)
		{
			char	   *blk = IvfpqRawData(page) + (Size) b * hc->blocksize;
			int			n = IvfpqBlockCount(blk);
			int			i;

			if (n > IVFPQ_FS_SLOTS)
				VecxCheckCorrupt(cs, blkno, b * IVFPQ_FS_SLOTS + 1,
								 "fast-scan block %d holds %d entries, at most %d fit",
								 b, n, IVFPQ_FS_SLOTS);
			for (i = 0; i < n; i++)
			{
				ItemPointerData tid;

				memcpy(&tid, IvfpqBlockTid(blk, i), sizeof(ItemPointerData));
				CheckEntryFields(hc, blkno, b * IVFPQ_FS_SLOTS + i + 1, &tid, 0,
								 IvfpqBlockErr(blk)[i], IvfpqBlockNorm(blk)[i], NULL);
				CheckPayload(hc, blkno, b * IVFPQ_FS_SLOTS + i + 1,
							 IvfpqBlockFilter(&hc->layout, blk, i));
				CheckReach(hc, blkno, b * IVFPQ_FS_SLOTS + i + 1, list, NULL, blk, i,
						   IvfpqBlockErr(blk)[i]);
			}
		}
	}
	else
	{
		OffsetNumber maxoff = PageGetMaxOffsetNumber(page);
		OffsetNumber off;

		for (off = FirstOffsetNumber; off <= maxoff; off++)
		{
			ItemId		iid = PageGetItemId(page, off);
			IvfpqEntry *e;

			if (!ItemIdIsUsed(iid))
				continue;
			VecxCheckItemBounds(cs, page, blkno, off, hc->meta.entrysize);
			if (ItemIdGetLength(iid) != hc->meta.entrysize)
				VecxCheckCorrupt(cs, blkno, off, "item length %u, expected entry size %d",
								 ItemIdGetLength(iid), hc->meta.entrysize);
			e = (IvfpqEntry *) PageGetItem(page, iid);
			CheckEntryFields(hc, blkno, off, &e->tid, e->flags, e->err, e->norm,
							 hc->trained && !hc->flat ? e->codes : NULL);
			if (hc->flat && hc->trained)
				CheckFlatVector(hc, blkno, off, IvfflatEntryVec(e));
			CheckPayload(hc, blkno, off, IvfpqEntryFilter(&hc->layout, e));
			if (hc->trained && !hc->flat)
				CheckReach(hc, blkno, off, list, e->codes, NULL, 0, e->err);
		}
		VecxCheckItemOverlap(cs, page, blkno);
	}
}

/* A data page of list "list": header, type, list number. */
static void
CheckDataPage(IvfpqCheck *hc, Page page, BlockNumber blkno, int list)
{
	IvfpqPageOpaque opaque;

	CheckPageType(hc, page, blkno, hc->fastscan ? IVFPQ_PAGE_BLOCK : IVFPQ_PAGE_DATA);
	opaque = IvfpqPageGetOpaque(page);
	if (opaque->list != (uint32) list)
		VecxCheckCorrupt(hc->cs, blkno, 0, "data page belongs to list %u, but is on the chain of list %d",
						 opaque->list, list);
}

/* Walk one list's chain. */
static void
CheckList(IvfpqCheck *hc, int list)
{
	VecxCheckState *cs = hc->cs;
	IvfpqListDir *d = &hc->dir[list];
	BlockNumber dirblk = hc->meta.dirStart + list / IVFPQ_DIR_PER_PAGE;
	BlockNumber blkno = d->head;
	BlockNumber prev = dirblk;
	bool		seenTail = false;
	bool		seenInsert = !BlockNumberIsValid(d->insertpage);

	if (hc->radii && (!(d->radius >= 0) || isinf(d->radius)))
		VecxCheckCorrupt(cs, dirblk, 0, "radius %g of list %d is invalid", d->radius, list);
	if (hc->flat && d->radius != 0)
		VecxCheckCorrupt(cs, dirblk, 0, "radius %g of list %d of an ivfflat index is not zero",
						 d->radius, list);
	if (!BlockNumberIsValid(d->head))
	{
		if (BlockNumberIsValid(d->tail) || BlockNumberIsValid(d->insertpage))
			VecxCheckCorrupt(cs, dirblk, 0, "list %d has no pages but tail %u and insert page %u",
							 list, d->tail, d->insertpage);
		return;
	}
	while (BlockNumberIsValid(blkno))
	{
		if (blkno == IVFPQ_METAPAGE_BLKNO ||
			blkno >= VecxCheckIndexBlocks(cs, hc->nblocks, blkno))
			VecxCheckCorrupt(cs, prev, 0, "list %d links to block %u, which is not a data page location",
							 list, blkno);
		EnsureMap(hc, VecxCheckIndexBlocks(cs, hc->nblocks, blkno));
		if (hc->owner[blkno] != OWN_NONE)
			VecxCheckCorrupt(cs, prev, 0, "list %d links to block %u, which belongs to %s%s",
							 list, blkno, OwnerName(hc->owner[blkno]),
							 hc->owner[blkno] == OWN_LIST ? " or this list (a cycle)" : "");
		hc->owner[blkno] = OWN_LIST;
		VecxCheckReadPage(cs, blkno, hc->page);
		CheckDataPage(hc, hc->page, blkno, list);
		CheckEntries(hc, hc->page, blkno, list);
		if (blkno == d->tail)
			seenTail = true;
		if (blkno == d->insertpage)
			seenInsert = true;
		prev = blkno;
		blkno = IvfpqPageGetOpaque(hc->page)->nextblkno;
	}
	/* pages are never unlinked: what the directory named is still there */
	if (!seenTail)
		VecxCheckCorrupt(cs, dirblk, 0, "tail block %u of list %d is not on its chain", d->tail, list);
	if (!seenInsert)
		VecxCheckCorrupt(cs, dirblk, 0, "insert page %u of list %d is not on its chain",
						 d->insertpage, list);
}

/*
 * A data page no chain reached: legal only if it was added to its list
 * after we walked that list.  Walk the list's current chain to find it.
 */
static void
CheckStray(IvfpqCheck *hc, BlockNumber blkno)
{
	VecxCheckState *cs = hc->cs;
	IvfpqPageOpaque opaque;
	uint32		list;
	BlockNumber dirblk;
	IvfpqListDir d;
	BlockNumber b;
	BlockNumber steps = 0;

	VecxCheckReadPage(cs, blkno, hc->page);
	if (PageIsNew(hc->page))
		return;					/* extension whose first write was lost */
	CheckPageType(hc, hc->page, blkno, hc->fastscan ? IVFPQ_PAGE_BLOCK : IVFPQ_PAGE_DATA);
	opaque = IvfpqPageGetOpaque(hc->page);
	list = opaque->list;
	if (list >= (uint32) hc->meta.lists)
		VecxCheckCorrupt(cs, blkno, 0, "data page belongs to list %u, but the index has %d lists",
						 list, hc->meta.lists);
	dirblk = hc->meta.dirStart + list / IVFPQ_DIR_PER_PAGE;
	VecxCheckReadPage(cs, dirblk, hc->page2);
	CheckPageType(hc, hc->page2, dirblk, IVFPQ_PAGE_DIRECTORY);
	memcpy(&d, IvfpqRawData(hc->page2) + sizeof(IvfpqListDir) * (list % IVFPQ_DIR_PER_PAGE),
		   sizeof(IvfpqListDir));
	for (b = d.head; BlockNumberIsValid(b) && b != blkno; steps++)
	{
		if (b == IVFPQ_METAPAGE_BLKNO || steps > hc->nblocks ||
			b >= VecxCheckIndexBlocks(cs, hc->nblocks, b))
			break;
		VecxCheckReadPage(cs, b, hc->page2);
		if (PageIsNew(hc->page2))
			break;
		b = IvfpqPageGetOpaque(hc->page2)->nextblkno;
	}
	if (b != blkno)
		VecxCheckCorrupt(cs, blkno, 0, "data page of list %u is not on the list's chain", list);
	/* a page that joined meanwhile: check its contents too */
	VecxCheckReadPage(cs, blkno, hc->page);
	CheckDataPage(hc, hc->page, blkno, list);
	CheckEntries(hc, hc->page, blkno, list);
}

/* A heap row's entry, as FindRowEntry finds it on its page */
typedef struct IvfpqRowEntry
{
	OffsetNumber off;			/* InvalidOffsetNumber: not on the page */
	float		err;
	float		norm;
	const uint8 *codes;			/* item pages: PQ codes */
	const char *vec;			/* item pages: FLAT vector */
	char	   *fsblk;			/* fast-scan: the block holding it */
	int			slot;			/* and its slot there */
} IvfpqRowEntry;

/*
 * Find the entry of heap TID htid on the page read into "page" (block
 * blkno): in a fast-scan page's blocks or among an item page's entries.
 */
static void
FindRowEntry(VecxCheckState *cs, IvfpqCheck *hc, Page page, BlockNumber blkno,
			 ItemPointer htid, IvfpqRowEntry *re)
{
	ItemPointerData etid;

	memset(re, 0, sizeof(IvfpqRowEntry));
	re->off = InvalidOffsetNumber;
	re->slot = -1;
	if (hc->fastscan)
	{
		int			b;
		int			i;

		for (b = 0; b < hc->blocksperpage && re->slot < 0; b++)
		{
			char	   *blk = IvfpqRawData(page) + (Size) b * hc->blocksize;
			int			n = Min(IvfpqBlockCount(blk), IVFPQ_FS_SLOTS);

			for (i = 0; i < n && re->slot < 0; i++)
			{
				memcpy(&etid, IvfpqBlockTid(blk, i), sizeof(ItemPointerData));
				if (ItemPointerEquals(&etid, htid))
				{
					re->slot = i;
					re->fsblk = blk;
					re->err = IvfpqBlockErr(blk)[i];
					re->norm = IvfpqBlockNorm(blk)[i];
					re->off = b * IVFPQ_FS_SLOTS + i + 1;
				}
			}
		}
	}
	else
	{
		OffsetNumber maxoff = PageGetMaxOffsetNumber(page);
		OffsetNumber o;

		for (o = FirstOffsetNumber; o <= maxoff && re->off == InvalidOffsetNumber; o++)
		{
			ItemId		iid = PageGetItemId(page, o);
			IvfpqEntry *e;

			if (!ItemIdIsNormal(iid) || ItemIdGetLength(iid) != hc->meta.entrysize)
				continue;
			VecxCheckItemBounds(cs, page, blkno, o, hc->meta.entrysize);
			e = (IvfpqEntry *) PageGetItem(page, iid);
			if (ItemPointerEquals(&e->tid, htid))
			{
				re->off = o;
				re->err = e->err;
				re->norm = e->norm;
				re->codes = e->codes;
				re->vec = IvfflatEntryVec(e);
			}
		}
	}
}

/*
 * A PQ entry's codes decode to within its error bound of the residual of
 * the row's vector x from the centroid of list "list".
 */
static void
CheckRowCodes(VecxCheckState *cs, IvfpqCheck *hc, const float *x, float norm,
			  uint32 list, BlockNumber blkno, ItemPointer htid,
			  const IvfpqRowEntry *re)
{
	int			dims = hc->meta.dims;
	const float *c = hc->centroids + (Size) list * dims;
	int			ksub = 1 << hc->meta.nbits;
	double		total = 0;
	double		e;
	int			i,
				j;

	for (i = 0; i < dims; i++)
		hc->r[i] = x[i] - c[i];
	for (j = 0; j < hc->meta.m; j++)
	{
		int			so = hc->suboff[j];
		int			dsub = hc->suboff[j + 1] - so;
		int			code;
		const float *w;
		int			t;

		if (hc->fastscan)
			code = vecx_pq_block_get(IvfpqBlockCodes(re->fsblk), j, re->slot);
		else if (hc->meta.nbits == 4)
			code = (re->codes[j >> 1] >> ((j & 1) * 4)) & 15;
		else
			code = re->codes[j];
		w = hc->codebook + (Size) ksub * so + (Size) code * dsub;
		for (t = 0; t < dsub; t++)
		{
			double		diff = (double) hc->r[so + t] - w[t];

			total += diff * diff;
		}
	}
	e = sqrt(total);
	if (e > (double) re->err * (1 + 1e-3) + 1e-6 * (1.0 + norm))
		VecxCheckCorrupt(cs, blkno, re->off,
						 "codes decode to distance %g from heap tuple (%u,%u) in list %u, beyond the entry's error bound %g",
						 e, ItemPointerGetBlockNumber(htid), ItemPointerGetOffsetNumber(htid),
						 list, re->err);
}

/*
 * heapallindexed: the row's entry agrees with the row: FLAT, the same
 * vector; PQ, the same norm, and its codes decode to within its error
 * bound of the residual from the centroid of the list holding it.
 */
static bool
IvfpqCheckHeapRow(VecxCheckState *cs, Datum value, ItemPointer htid,
				  const VecxCheckEntry *found)
{
	IvfpqCheck *hc = (IvfpqCheck *) cs->amstate;
	int			dims;
	float		norm;
	Page		page = hc->page2;
	IvfpqPageOpaque opaque;
	IvfpqRowEntry re;
	float	   *x;

	dims = hc->trained ? hc->meta.dims : IvfpqDatumDims(hc->meta.kind, value);
	x = hc->trained ? hc->x : palloc(sizeof(float) * Max(dims, 1));
	if (!IvfpqDatumToFloat(NULL, hc->meta.kind, value, x, dims,
						   hc->metric == VECX_METRIC_COSINE, &norm, NULL))
		return false;			/* zero vector under cosine: not indexed */
	if (found == NULL || !hc->trained)
		return true;

	/* find the entry on its page (vacuum compacts pages, never moves entries off them) */
	VecxCheckReadPage(cs, found->blkno, page);
	CheckPageType(hc, page, found->blkno, hc->fastscan ? IVFPQ_PAGE_BLOCK : IVFPQ_PAGE_DATA);
	opaque = IvfpqPageGetOpaque(page);
	if (opaque->list >= (uint32) hc->meta.lists)
		VecxCheckCorrupt(cs, found->blkno, 0, "data page belongs to list %u, but the index has %d lists",
						 opaque->list, hc->meta.lists);
	FindRowEntry(cs, hc, page, found->blkno, htid, &re);
	if (re.off == InvalidOffsetNumber)
		VecxCheckCorrupt(cs, found->blkno, found->off,
						 "entry for visible heap tuple (%u,%u) left its page",
						 ItemPointerGetBlockNumber(htid), ItemPointerGetOffsetNumber(htid));

	if (hc->flat)
	{
		/* the entry holds the row's vector itself */
		char	   *raw = palloc(hc->layout.vecbytes);

		IvfpqDatumRaw(hc->meta.kind, value, dims, raw);
		if (memcmp(raw, re.vec, hc->layout.vecbytes) != 0)
			VecxCheckCorrupt(cs, found->blkno, re.off,
							 "entry vector differs from heap tuple (%u,%u)",
							 ItemPointerGetBlockNumber(htid), ItemPointerGetOffsetNumber(htid));
		return true;
	}

	if (fabs((double) re.norm - norm) > 1e-3 * Max(1.0, norm))
		VecxCheckCorrupt(cs, found->blkno, re.off,
						 "entry norm %g differs from %g of heap tuple (%u,%u)",
						 re.norm, norm, ItemPointerGetBlockNumber(htid), ItemPointerGetOffsetNumber(htid));
	CheckRowCodes(cs, hc, x, norm, opaque->list, found->blkno, htid, &re);
	return true;
}

void
IvfpqCheckIndex(VecxCheckState *cs)
{
	IvfpqCheck *hc = palloc0(sizeof(IvfpqCheck));
	BlockNumber nblocks;
	BlockNumber blkno;
	Size		cbsize = 0,
				csize = 0,
				dsize;
	int			list;

	hc->cs = cs;
	hc->page = palloc(BLCKSZ);
	hc->page2 = palloc(BLCKSZ);

	if (RelationGetNumberOfBlocks(cs->index) == 0)
		VecxCheckCorrupt(cs, IVFPQ_METAPAGE_BLKNO, 0, "index has no metapage");
	VecxCheckReadPage(cs, IVFPQ_METAPAGE_BLKNO, hc->page);
	CheckMeta(hc);

	nblocks = RelationGetNumberOfBlocks(cs->index);
	hc->nblocks = nblocks;
	hc->owner = MemoryContextAllocHuge(CurrentMemoryContext, nblocks);
	memset(hc->owner, 0, nblocks);
	hc->owner[IVFPQ_METAPAGE_BLKNO] = OWN_META;

	if (hc->trained)
	{
		cbsize = hc->flat ? 0 :
			mul_size(mul_size(sizeof(float), hc->meta.dims), 1 << hc->meta.nbits);
		csize = mul_size(mul_size(sizeof(float), hc->meta.dims), hc->meta.lists);
	}
	if ((cs->heapallindexed || hc->radii) && hc->trained)
	{
		hc->suboff = palloc0(sizeof(int) * (hc->meta.m + 1));
		if (hc->meta.m > 0)
			IvfpqSubOffsets(hc->meta.dims, hc->meta.m, hc->suboff);
		hc->x = palloc(sizeof(float) * hc->meta.dims);
		hc->r = palloc(sizeof(float) * hc->meta.dims);
	}
	/* copies are kept for heapallindexed; CheckRegion bounds them by the index size first */
	hc->codebook = (float *) CheckRegion(hc, hc->meta.codebookStart, hc->meta.codebookPages, cbsize,
										 IVFPQ_PAGE_CODEBOOK, OWN_CODEBOOK, true,
										 (cs->heapallindexed || hc->radii) && hc->trained);
	hc->centroids = (float *) CheckRegion(hc, hc->meta.centroidStart, hc->meta.centroidPages, csize,
										  IVFPQ_PAGE_CENTROID, OWN_CENTROID, true,
										  cs->heapallindexed && hc->trained);
	dsize = mul_size(sizeof(IvfpqListDir), hc->meta.lists);
	hc->dir = (IvfpqListDir *) CheckRegion(hc, hc->meta.dirStart, hc->meta.dirPages, dsize,
										   IVFPQ_PAGE_DIRECTORY, OWN_DIRECTORY, false, true);
	hc->layout.suboff = hc->suboff;
	hc->layout.codebook = hc->codebook;

	for (list = 0; list < hc->meta.lists; list++)
		CheckList(hc, list);

	/* pages no region or chain claimed */
	for (blkno = 1; blkno < nblocks; blkno++)
		if (hc->owner[blkno] == OWN_NONE)
			CheckStray(hc, blkno);

	cs->heaprow = IvfpqCheckHeapRow;
	cs->amstate = hc;
}

/* Is this open index one of ours?  (vecxcheck.c's dispatch) */
bool
IvfpqCheckOwns(Relation index)
{
	return index->rd_indam != NULL && index->rd_indam->ambuild == ivfpqbuild;
}
