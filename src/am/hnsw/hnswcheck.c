/*-------------------------------------------------------------------------
 *
 * hnswcheck.c
 *	  vecx_index_check() for hnsw indexes: metapage, pages, nodes, links.
 *
 * Pass 1 reads every page and checks its header, special space and each
 * node (line pointer bounds, no overlap, state, level, dimensions, heap
 * TIDs, neighbour counts, unused slots, stored vector), remembering how
 * many nodes each page holds.  Pass 2 checks every neighbour reference
 * against that map (a reference must name an existing node; pages and
 * nodes are never removed, so a node seen in pass 1 still exists) and that
 * no list names a node twice; a reference beyond the map (the index grew
 * meanwhile) is checked by reading the target page.  Then, with filter
 * columns, the filter map (CheckMap): its chain, pages and entries, and
 * exactly one entry per live node holding that node's payload.  Then the
 * entry point.
 * References to free nodes, or to nodes below the list's level, are legal:
 * searches skip them (see README).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "hnsw.h"
#include "hnswfmap.h"
#include "am/common/vecxcheck.h"

/* A node's filter payload seen in pass 1, or a filter map entry */
typedef struct HnswCheckFEnt
{
	ItemPointerData tid;		/* the node */
	uint8		state;			/* node state (nodes only) */
	BlockNumber mapblk;			/* map page and entry number (entries only) */
	int			mapidx;
	char	   *payload;
} HnswCheckFEnt;

typedef struct HnswCheck
{
	VecxCheckState *cs;
	HnswMetaPageData meta;
	HnswLayout	lay;			/* from meta */
	HnswDist	dist;			/* lay.d */
	BlockNumber nblocks;		/* blocks mapped by pass 1 */
	uint16	   *nitems;			/* per block: nodes seen in pass 1 */
	Page		page;			/* scratch copies */
	Page		page2;
	void	   *vec;			/* a prepared heap value */
	float	   *f1;				/* halfvec comparison scratch */
	float	   *f2;
	/* filter map check (indexes with filter columns) */
	Size		fbytes;
	bool	   *ismap;			/* per block: a map page in pass 1 */
	HnswCheckFEnt *fnodes;		/* live and deleted nodes, in TID order */
	Size		nfnodes;
	Size		maxfnodes;
} HnswCheck;

static bool
HalfIsFinite(uint16 h)
{
	return (h & 0x7C00) != 0x7C00;
}

/*
 * Check the metapage copy in hc->page and keep its contents.
 */
static void
CheckMeta(HnswCheck *hc)
{
	VecxCheckState *cs = hc->cs;
	Page		page = hc->page;
	HnswPageOpaque opaque;
	HnswMetaPage meta;
	const HnswOpInfo *info;
	int32		typmod;
	Size		metaEnd;

	if (PageIsNew(page))
		VecxCheckCorrupt(cs, HNSW_METAPAGE_BLKNO, 0, "metapage is uninitialized");
	VecxCheckPageHeader(cs, page, HNSW_METAPAGE_BLKNO, sizeof(HnswPageOpaqueData));
	opaque = HnswPageGetOpaque(page);
	if (opaque->page_id != HNSW_PAGE_ID)
		VecxCheckCorrupt(cs, HNSW_METAPAGE_BLKNO, 0, "page id is %04X, expected %04X",
						 opaque->page_id, HNSW_PAGE_ID);
	if (opaque->flags != HNSW_PAGE_META)
		VecxCheckCorrupt(cs, HNSW_METAPAGE_BLKNO, 0, "page flags are %u, expected metapage (%u)",
						 opaque->flags, HNSW_PAGE_META);
	meta = HnswPageGetMeta(page);
	metaEnd = ((char *) meta - (char *) page) + sizeof(HnswMetaPageData);
	if (meta->magic != HNSW_MAGIC)
		VecxCheckCorrupt(cs, HNSW_METAPAGE_BLKNO, 0, "metapage magic is %08X, expected %08X",
						 meta->magic, HNSW_MAGIC);
	if (meta->version < HNSW_MIN_VERSION || meta->version > HNSW_VERSION)
		VecxCheckCorrupt(cs, HNSW_METAPAGE_BLKNO, 0, "metapage format version is %u, expected %u to %u",
						 meta->version, HNSW_MIN_VERSION, HNSW_VERSION);
	if (((PageHeader) page)->pd_lower < metaEnd)
		VecxCheckCorrupt(cs, HNSW_METAPAGE_BLKNO, 0, "pd_lower %u does not cover the metapage data (%zu bytes)",
						 ((PageHeader) page)->pd_lower, metaEnd);
	if (meta->m < HNSW_MIN_M || meta->m > HNSW_MAX_M)
		VecxCheckCorrupt(cs, HNSW_METAPAGE_BLKNO, 0, "m = %u is out of range", meta->m);
	if (meta->efConstruction < HNSW_MIN_EF_CONSTRUCTION ||
		meta->efConstruction > HNSW_MAX_EF_CONSTRUCTION)
		VecxCheckCorrupt(cs, HNSW_METAPAGE_BLKNO, 0, "ef_construction = %u is out of range",
						 meta->efConstruction);
	if (meta->dims < 1 || meta->dims > HnswMaxDims(meta->srcElem))
		VecxCheckCorrupt(cs, HNSW_METAPAGE_BLKNO, 0, "dimensions = %u are out of range", meta->dims);
	typmod = TupleDescAttr(RelationGetDescr(cs->index), 0)->atttypmod;
	if (typmod > 0 && meta->dims != (uint32) typmod)
		VecxCheckCorrupt(cs, HNSW_METAPAGE_BLKNO, 0, "metapage has %u dimensions, the indexed column %d",
						 meta->dims, typmod);
	info = HnswGetOpInfo(cs->index);
	if (meta->srcElem != info->elemtype || meta->metric != info->metric)
		VecxCheckCorrupt(cs, HNSW_METAPAGE_BLKNO, 0,
						 "element type %u and metric %u differ from the operator class's (%u, %u)",
						 meta->srcElem, meta->metric, info->elemtype, info->metric);
	if (!HnswMetaTypesValid(meta->elemtype, meta->srcElem, meta->metric))
		VecxCheckCorrupt(cs, HNSW_METAPAGE_BLKNO, 0,
						 "stored element type %u is invalid for element type %u",
						 meta->elemtype, meta->srcElem);
	if (meta->entryLevel < -1 ||
		meta->entryLevel > HnswMaxLevelFor(meta->dims, meta->elemtype, meta->m,
										   meta->storage == HNSW_STORAGE_OVERFLOW))
		VecxCheckCorrupt(cs, HNSW_METAPAGE_BLKNO, 0, "entry level %d is out of range",
						 meta->entryLevel);
	if (meta->entryLevel >= 0 &&
		(meta->entryBlkno == HNSW_METAPAGE_BLKNO || meta->entryBlkno == InvalidBlockNumber ||
		 meta->entryOffno < FirstOffsetNumber))
		VecxCheckCorrupt(cs, HNSW_METAPAGE_BLKNO, 0, "entry point (%u,%u) is not a node location",
						 meta->entryBlkno, meta->entryOffno);
	if (meta->storage > HNSW_STORAGE_OVERFLOW)
		VecxCheckCorrupt(cs, HNSW_METAPAGE_BLKNO, 0, "vector storage %u is invalid",
						 meta->storage);
	if (meta->nfilter != IndexRelationGetNumberOfKeyAttributes(cs->index) - 1)
		VecxCheckCorrupt(cs, HNSW_METAPAGE_BLKNO, 0, "metapage has %u filter columns, the index %d",
						 meta->nfilter, IndexRelationGetNumberOfKeyAttributes(cs->index) - 1);
	if (meta->mapEntrySize != (meta->nfilter > 0 ? HnswMapEntrySize(meta->nfilter) : 0))
		VecxCheckCorrupt(cs, HNSW_METAPAGE_BLKNO, 0, "filter map entry size %u is invalid",
						 meta->mapEntrySize);
	if ((meta->mapHead == InvalidBlockNumber) != (meta->mapPages == 0) ||
		meta->mapHead == HNSW_METAPAGE_BLKNO)
		VecxCheckCorrupt(cs, HNSW_METAPAGE_BLKNO, 0, "filter map head %u with %u pages is invalid",
						 meta->mapHead, meta->mapPages);
	memcpy(&hc->meta, meta, sizeof(HnswMetaPageData));
	HnswLayoutFromMeta(&hc->lay, meta);
	hc->dist = hc->lay.d;
}

/* A data page's header and special space; false for a new (zero) page. */
static bool
CheckDataPage(HnswCheck *hc, Page page, BlockNumber blkno)
{
	HnswPageOpaque opaque;

	if (PageIsNew(page))
		return false;			/* extension whose first write was lost */
	VecxCheckPageHeader(hc->cs, page, blkno, sizeof(HnswPageOpaqueData));
	opaque = HnswPageGetOpaque(page);
	if (opaque->page_id != HNSW_PAGE_ID)
		VecxCheckCorrupt(hc->cs, blkno, 0, "page id is %04X, expected %04X",
						 opaque->page_id, HNSW_PAGE_ID);
	/* overflow pages are checked through the nodes that reference them */
	if (opaque->flags == HNSW_PAGE_OVERFLOW && hc->dist.overflow)
		return false;
	/* map pages by the walk of the map chain (CheckMap) */
	if (opaque->flags == HNSW_PAGE_MAP && hc->meta.nfilter > 0)
		return false;
	if (!(opaque->flags & HNSW_PAGE_NODES) || (opaque->flags & HNSW_PAGE_META))
		VecxCheckCorrupt(hc->cs, blkno, 0, "page flags are %u, expected a node page (%u)",
						 opaque->flags, HNSW_PAGE_NODES);
	return true;
}

/* The node at (blkno, off): bounds and header fields. */
static HnswNodeHeader *
CheckNodeHeader(HnswCheck *hc, Page page, BlockNumber blkno, OffsetNumber off)
{
	VecxCheckState *cs = hc->cs;
	HnswNodeHeader *node;
	Size		len;
	Size		need;

	VecxCheckItemBounds(cs, page, blkno, off, HNSW_NODE_HDRSZ);
	len = ItemIdGetLength(PageGetItemId(page, off));
	node = (HnswNodeHeader *) PageGetItem(page, PageGetItemId(page, off));
	if (node->state < HNSW_NODE_LIVE || node->state > HNSW_NODE_FREE)
		VecxCheckCorrupt(cs, blkno, off, "node state %u is invalid", node->state);
	if (node->level > HNSW_MAX_LEVEL)
		VecxCheckCorrupt(cs, blkno, off, "node level %u exceeds %d", node->level, HNSW_MAX_LEVEL);
	if (node->dims != HnswNodeDims(hc->meta.dims, hc->meta.elemtype))
		VecxCheckCorrupt(cs, blkno, off, "node has %u dimensions, the index %u",
						 node->dims, HnswNodeDims(hc->meta.dims, hc->meta.elemtype));
	if ((node->flags & ~HNSW_NODEF_OVERFLOW) != 0 || HnswNodeIsOvf(node) != hc->dist.overflow)
		VecxCheckCorrupt(cs, blkno, off, "node flags %u do not match the index's vector storage",
						 node->flags);
	need = HnswNodeSize(hc->meta.dims, hc->meta.elemtype, hc->meta.m, node->level,
						HnswNodeIsOvf(node));
	if (len < need)
		VecxCheckCorrupt(cs, blkno, off, "item length %zu is shorter than a level %u node (%zu bytes)",
						 len, node->level, need);
	if (node->state == HNSW_NODE_LIVE ?
		(node->ntids < 1 || node->ntids > HNSW_HEAPTIDS) : node->ntids != 0)
		VecxCheckCorrupt(cs, blkno, off, "node in state %u holds %u heap TIDs",
						 node->state, node->ntids);
	return node;
}

/* A bit string: padding bits of the last byte and the slot's padding zero */
static void
CheckBits(HnswCheck *hc, const void *vec, BlockNumber blkno, OffsetNumber off)
{
	const uint8 *b = (const uint8 *) vec;
	Size		nbytes = ((Size) hc->meta.dims + 7) / 8;
	int			pad = (int) (nbytes * 8 - hc->meta.dims);
	Size		i;

	if (pad > 0 && (b[nbytes - 1] & ((1 << pad) - 1)) != 0)
		VecxCheckCorrupt(hc->cs, blkno, off, "bit string has padding bits set");
	for (i = nbytes; i < hc->dist.vbytes; i++)
		if (b[i] != 0)
			VecxCheckCorrupt(hc->cs, blkno, off, "bit string slot padding is not zero");
}

/*
 * A sparse slot: nnz within the slot, indices ascending and below the
 * dimensions, values finite and non-zero, the stored squared norm equal to
 * the values', the rest of the slot zero; under cosine not zero.
 */
static void
CheckSparse(HnswCheck *hc, const void *vec, BlockNumber blkno, OffsetNumber off)
{
	VecxCheckState *cs = hc->cs;
	const HnswSparseHeader *h = (const HnswSparseHeader *) vec;
	int			cap = HnswNodeDims(hc->meta.dims, HNSW_ELEM_SPARSE);
	const int32 *idx;
	const float *val;
	float		normsq;
	Size		used;
	Size		i;

	if (h->nnz < 0 || h->nnz > cap)
		VecxCheckCorrupt(cs, blkno, off, "sparse vector has %d elements, the slot holds %d",
						 h->nnz, cap);
	idx = HnswSparseIndices(h);
	val = HnswSparseValues(h);
	for (i = 0; i < (Size) h->nnz; i++)
	{
		if (idx[i] < 0 || (uint32) idx[i] >= hc->meta.dims || (i > 0 && idx[i] <= idx[i - 1]))
			VecxCheckCorrupt(cs, blkno, off, "sparse vector index %d at position %zu is out of order or range",
							 idx[i], i);
		if (!isfinite(val[i]) || val[i] == 0.0f)
			VecxCheckCorrupt(cs, blkno, off, "sparse vector value at position %zu is zero or not finite", i);
	}
	normsq = VecxSparseNormSq(val, h->nnz);
	if (memcmp(&normsq, &h->normsq, sizeof(float)) != 0)
		VecxCheckCorrupt(cs, blkno, off, "sparse vector squared norm is %g, its values give %g",
						 h->normsq, normsq);
	if (hc->meta.metric == HNSW_METRIC_COSINE && !(normsq > 0.0f))
		VecxCheckCorrupt(cs, blkno, off, "vector of a cosine index is zero");
	used = sizeof(HnswSparseHeader) + (sizeof(int32) + sizeof(float)) * (Size) h->nnz;
	for (i = used; i < hc->dist.vbytes; i++)
		if (((const uint8 *) vec)[i] != 0)
			VecxCheckCorrupt(cs, blkno, off, "sparse vector slot padding is not zero");
}

/* sq8 codes: a finite header that agrees with the codes */
static void
CheckSq8(HnswCheck *hc, const void *vec, BlockNumber blkno, OffsetNumber off)
{
	VecxCheckState *cs = hc->cs;
	const HnswSq8Header *h = (const HnswSq8Header *) vec;
	const uint8 *c = HnswSq8Codes(vec);
	uint32		sumc = 0;
	double		n2 = 0;
	int			i;

	if (!isfinite(h->lo) || !isfinite(h->scale) || !(h->scale >= 0) ||
		!isfinite(h->err) || !(h->err >= 0) || !isfinite(h->norm))
		VecxCheckCorrupt(cs, blkno, off, "quantized vector header is invalid (lo %g, scale %g, norm %g, err %g)",
						 h->lo, h->scale, h->norm, h->err);
	for (i = 0; i < hc->meta.dims; i++)
	{
		double		x = h->lo + h->scale * (float) c[i];

		sumc += c[i];
		n2 += x * x;
	}
	if (sumc != h->sumc)
		VecxCheckCorrupt(cs, blkno, off, "quantized vector code sum is %u, the codes add up to %u",
						 h->sumc, sumc);
	if (fabs(sqrt(n2) - h->norm) > 1e-4 * Max(1.0, sqrt(n2)))
		VecxCheckCorrupt(cs, blkno, off, "quantized vector norm is %g, the codes give %g",
						 h->norm, sqrt(n2));
}

/* A float32 or float16 vector: finite; under cosine non-zero, and unit for float32 */
static void
CheckDense(HnswCheck *hc, const void *vec, BlockNumber blkno, OffsetNumber off)
{
	VecxCheckState *cs = hc->cs;
	int			dims = hc->meta.dims;
	int			et = hc->meta.elemtype;
	double		norm = 0;
	int			i;

	for (i = 0; i < dims; i++)
	{
		double		x;

		if (et == HNSW_ELEM_F32)
		{
			float		f = ((const float *) vec)[i];

			if (!isfinite(f))
				VecxCheckCorrupt(cs, blkno, off, "vector element %d is not finite", i);
			x = f;
		}
		else
		{
			uint16		h = ((const uint16 *) vec)[i];

			if (!HalfIsFinite(h))
				VecxCheckCorrupt(cs, blkno, off, "vector element %d is not finite", i);
			x = 0;
		}
		norm += x * x;
	}
	if (et == HNSW_ELEM_F16 && hc->meta.metric == HNSW_METRIC_COSINE)
	{
		hc->dist.k->f16_to_f32(vec, hc->f1, dims);
		for (i = 0; i < dims; i++)
			norm += (double) hc->f1[i] * hc->f1[i];
	}
	/* float32 cosine vectors are stored unit; float16 ones as they are */
	if (hc->meta.metric == HNSW_METRIC_COSINE && et == HNSW_ELEM_F32 &&
		fabs(sqrt(norm) - 1.0) > 1e-2)
		VecxCheckCorrupt(cs, blkno, off, "vector of a cosine index has norm %g, expected 1",
						 sqrt(norm));
	if (hc->meta.metric == HNSW_METRIC_COSINE && !(norm > 0))
		VecxCheckCorrupt(cs, blkno, off, "vector of a cosine index is zero");
}

/* Neighbour lists: counts within capacity, valid and distinct locations, unused slots empty */
static void
CheckLists(HnswCheck *hc, HnswNodeHeader *node, BlockNumber blkno, OffsetNumber off)
{
	VecxCheckState *cs = hc->cs;
	int			m = hc->meta.m;
	uint8	   *counts = HnswLayoutCounts(&hc->lay, node);
	ItemPointerData *nbrs = HnswLayoutNbrs(&hc->lay, node);
	int			l,
				i,
				j;

	for (l = 0; l <= node->level; l++)
	{
		ItemPointerData *list = nbrs + HnswLevelStart(m, l);
		int			cap = HnswLevelCap(m, l);

		if (counts[l] > cap)
			VecxCheckCorrupt(cs, blkno, off, "level %d has %u neighbours, at most %d fit",
							 l, counts[l], cap);
		for (i = 0; i < cap; i++)
		{
			BlockNumber nb = ItemPointerGetBlockNumberNoCheck(&list[i]);
			OffsetNumber no = ItemPointerGetOffsetNumberNoCheck(&list[i]);

			if (i >= counts[l])
			{
				if (no != InvalidOffsetNumber)
					VecxCheckCorrupt(cs, blkno, off,
									 "unused level %d neighbour slot %d holds (%u,%u)",
									 l, i, nb, no);
				continue;
			}
			if (nb == HNSW_METAPAGE_BLKNO || nb == InvalidBlockNumber || no < FirstOffsetNumber)
				VecxCheckCorrupt(cs, blkno, off, "level %d neighbour %d (%u,%u) is not a node location",
								 l, i, nb, no);
			for (j = 0; j < i; j++)
				if (ItemPointerEquals(&list[i], &list[j]))
					VecxCheckCorrupt(cs, blkno, off, "level %d lists neighbour (%u,%u) twice",
									 l, nb, no);
		}
	}
}

/* Everything inside one node that needs no other page. */
static void
CheckNodeBody(HnswCheck *hc, HnswNodeHeader *node, BlockNumber blkno, OffsetNumber off)
{
	VecxCheckState *cs = hc->cs;
	const void *vec;
	int			i;

	for (i = 0; i < node->ntids; i++)
	{
		VecxCheckHeapTid(cs, &node->heaptids[i], blkno, off);
		VecxCheckAddEntry(cs, &node->heaptids[i], blkno, off);
	}
	if (node->state == HNSW_NODE_FREE)
		return;					/* counts zeroed, the rest is stale */

	vec = HnswNodeVec(cs->index, &hc->dist, node, blkno, off);
	switch (hc->meta.elemtype)
	{
		case HNSW_ELEM_SQ8:
			CheckSq8(hc, vec, blkno, off);
			break;
		case HNSW_ELEM_BIT:
			CheckBits(hc, vec, blkno, off);
			break;
		case HNSW_ELEM_SPARSE:
			CheckSparse(hc, vec, blkno, off);
			break;
		default:
			CheckDense(hc, vec, blkno, off);
			break;
	}
	CheckLists(hc, node, blkno, off);
}

/*
 * Is (nb, no) a node?  First from the pass 1 map; beyond it (the index
 * grew, or the page gained nodes, since) by reading the page now.
 */
static bool
IsNode(HnswCheck *hc, BlockNumber nb, OffsetNumber no)
{
	BlockNumber n;

	if (nb == HNSW_METAPAGE_BLKNO || nb == InvalidBlockNumber || no < FirstOffsetNumber)
		return false;
	if (nb < hc->nblocks && no <= hc->nitems[nb])
		return true;
	n = VecxCheckIndexBlocks(hc->cs, hc->nblocks, nb);
	if (nb >= n)
		return false;
	VecxCheckReadPage(hc->cs, nb, hc->page2);
	if (!CheckDataPage(hc, hc->page2, nb) || no > PageGetMaxOffsetNumber(hc->page2))
		return false;
	(void) CheckNodeHeader(hc, hc->page2, nb, no);
	return true;
}

static void
CheckLinks(HnswCheck *hc, HnswNodeHeader *node, BlockNumber blkno, OffsetNumber off)
{
	uint8	   *counts;
	ItemPointerData *nbrs;
	int			l,
				i;

	if (node->state == HNSW_NODE_FREE)
		return;
	counts = HnswLayoutCounts(&hc->lay, node);
	nbrs = HnswLayoutNbrs(&hc->lay, node);
	for (l = 0; l <= node->level; l++)
	{
		ItemPointerData *list = nbrs + HnswLevelStart(hc->meta.m, l);

		for (i = 0; i < counts[l]; i++)
		{
			ItemPointerData t = list[i];	/* list lives in a page we may reuse */

			if (!IsNode(hc, ItemPointerGetBlockNumberNoCheck(&t),
						ItemPointerGetOffsetNumberNoCheck(&t)))
				VecxCheckCorrupt(hc->cs, blkno, off,
								 "level %d neighbour (%u,%u) does not point at a node",
								 l, ItemPointerGetBlockNumberNoCheck(&t),
								 ItemPointerGetOffsetNumberNoCheck(&t));
		}
	}
}

/*
 * The entry point names a node that is not free and reaches the entry
 * level.  A failure is re-read against the current metapage: vacuum or an
 * insert may have moved the entry point since we read it.
 */
static void
CheckEntry(HnswCheck *hc)
{
	VecxCheckState *cs = hc->cs;
	int			attempt;

	for (attempt = 0; attempt < 2; attempt++)
	{
		HnswMetaPage meta;
		const char *problem = NULL;
		BlockNumber eb;
		OffsetNumber eo;
		int			el;

		VecxCheckReadPage(cs, HNSW_METAPAGE_BLKNO, hc->page);
		CheckMeta(hc);
		meta = &hc->meta;
		el = meta->entryLevel;
		eb = meta->entryBlkno;
		eo = meta->entryOffno;
		if (el < 0)
			return;
		if (!IsNode(hc, eb, eo))
			problem = "entry point (%u,%u) at level %d does not point at a node";
		else
		{
			HnswNodeHeader *node;

			VecxCheckReadPage(cs, eb, hc->page2);
			CheckDataPage(hc, hc->page2, eb);
			node = CheckNodeHeader(hc, hc->page2, eb, eo);
			if (node->state == HNSW_NODE_FREE)
				problem = "entry point (%u,%u) at level %d is a free node";
			else if (node->level < el)
				problem = "entry point (%u,%u) at level %d is a node of a lower level";
		}
		if (problem == NULL)
			return;
		if (attempt == 1)
			VecxCheckCorrupt(cs, HNSW_METAPAGE_BLKNO, 0, problem, eb, eo, el);
	}
}

/* ---- the filter map ---- */

/* Pass 1: remember a live or deleted node's filter payload. */
static void
RememberFilter(HnswCheck *hc, Page page, HnswNodeHeader *node, BlockNumber blkno,
			   OffsetNumber off)
{
	Size		at = HnswNodeSize(hc->meta.dims, hc->meta.elemtype, hc->meta.m, node->level,
								  HnswNodeIsOvf(node));
	HnswCheckFEnt *e;

	if (ItemIdGetLength(PageGetItemId(page, off)) < at + hc->fbytes)
		VecxCheckCorrupt(hc->cs, blkno, off, "node is too short for its filter payload");
	if (hc->nfnodes >= hc->maxfnodes)
	{
		hc->maxfnodes = Max(hc->maxfnodes * 2, 1024);
		hc->fnodes = repalloc_huge(hc->fnodes, mul_size(sizeof(HnswCheckFEnt), hc->maxfnodes));
	}
	e = &hc->fnodes[hc->nfnodes++];
	ItemPointerSet(&e->tid, blkno, off);
	e->state = node->state;
	e->mapblk = InvalidBlockNumber;
	e->mapidx = 0;
	e->payload = palloc(hc->fbytes);
	memcpy(e->payload, (char *) node + at, hc->fbytes);
}

static int
CompareFEnt(const void *a, const void *b)
{
	const HnswCheckFEnt *x = (const HnswCheckFEnt *) a;
	const HnswCheckFEnt *y = (const HnswCheckFEnt *) b;
	int			c = ItemPointerCompare((ItemPointer) &x->tid, (ItemPointer) &y->tid);

	if (c != 0)
		return c;
	if (x->mapblk != y->mapblk)
		return x->mapblk < y->mapblk ? -1 : 1;
	return x->mapidx < y->mapidx ? -1 : (x->mapidx > y->mapidx ? 1 : 0);
}

/*
 * Walk the map chain from the current metapage and return its entries
 * (only those of node only, if only is valid).  Every page and entry is
 * checked; with onchain, the map pages seen are marked there.
 */
static HnswCheckFEnt *
WalkMap(HnswCheck *hc, ItemPointer only, bool *onchain, Size *nout)
{
	VecxCheckState *cs = hc->cs;
	Page		page = palloc(BLCKSZ);
	Size		entsize = hc->meta.mapEntrySize;
	uint32		nullok = hc->meta.nfilter >= 32 ? ~(uint32) 0 :
		(((uint32) 1 << hc->meta.nfilter) - 1);
	HnswCheckFEnt *out;
	Size		n = 0,
				max = 64;
	BlockNumber known = hc->nblocks;
	BlockNumber blk;
	BlockNumber prev = HNSW_METAPAGE_BLKNO;

	out = palloc(sizeof(HnswCheckFEnt) * max);
	VecxCheckReadPage(cs, HNSW_METAPAGE_BLKNO, page);
	blk = HnswPageGetMeta(page)->mapHead;
	while (blk != InvalidBlockNumber)
	{
		const char *problem;
		int			bad;
		int			i;
		HnswMapPageHeader *hdr;

		if (blk <= prev)
			VecxCheckCorrupt(cs, prev, 0, "filter map link to block %u does not go forward", blk);
		known = VecxCheckIndexBlocks(cs, known, blk);
		if (blk >= known)
			VecxCheckCorrupt(cs, prev, 0, "filter map link to block %u is beyond the end of the index",
							 blk);
		VecxCheckReadPage(cs, blk, page);
		if (!PageIsNew(page))
			VecxCheckPageHeader(cs, page, blk, sizeof(HnswPageOpaqueData));
		problem = HnswMapPageProblem(page, blk, entsize, &bad);
		if (problem)
			VecxCheckCorrupt(cs, blk, bad, "%s", problem);
		hdr = HnswMapGetHeader(page);
		for (i = 0; i < hdr->nentries; i++)
		{
			const char *e = HnswMapEntries(page) + (Size) i * entsize;
			ItemPointerData tid;
			uint32		nullmask;

			memcpy(&tid, e, HNSW_MAP_TID_BYTES);
			memcpy(&nullmask, e + HNSW_MAP_TID_BYTES, sizeof(uint32));
			if (ItemPointerGetBlockNumberNoCheck(&tid) == HNSW_METAPAGE_BLKNO ||
				ItemPointerGetBlockNumberNoCheck(&tid) == InvalidBlockNumber ||
				ItemPointerGetOffsetNumberNoCheck(&tid) < FirstOffsetNumber ||
				ItemPointerGetOffsetNumberNoCheck(&tid) > MaxOffsetNumber)
				VecxCheckCorrupt(cs, blk, i + 1, "filter map entry names (%u,%u), not a node location",
								 ItemPointerGetBlockNumberNoCheck(&tid),
								 ItemPointerGetOffsetNumberNoCheck(&tid));
			if ((nullmask & ~nullok) != 0)
				VecxCheckCorrupt(cs, blk, i + 1, "filter map entry null bitmap %08X names missing columns",
								 nullmask);
			if (only != NULL && !ItemPointerEquals(only, &tid))
				continue;
			if (n >= max)
			{
				max *= 2;
				out = repalloc_huge(out, mul_size(sizeof(HnswCheckFEnt), max));
			}
			out[n].tid = tid;
			out[n].state = 0;
			out[n].mapblk = blk;
			out[n].mapidx = i + 1;
			out[n].payload = palloc(hc->fbytes);
			memcpy(out[n].payload, e + HNSW_MAP_TID_BYTES, hc->fbytes);
			n++;
		}
		if (onchain != NULL && blk < hc->nblocks)
			onchain[blk] = true;
		prev = blk;
		blk = hdr->next;
	}
	pfree(page);
	*nout = n;
	return out;
}

/*
 * A disagreement between the nodes seen in pass 1 and the map may be a
 * concurrent insert or vacuum: read the node and the map again now and
 * report only what is still wrong.
 */
static void
RecheckMapNode(HnswCheck *hc, ItemPointer tid)
{
	VecxCheckState *cs = hc->cs;
	BlockNumber blkno = ItemPointerGetBlockNumber(tid);
	OffsetNumber off = ItemPointerGetOffsetNumber(tid);
	HnswCheckFEnt *ents;
	Size		n;
	int			state = 0;		/* 0: not a node */
	char	   *payload = NULL;

	if (IsNode(hc, blkno, off))
	{
		HnswNodeHeader *node;

		VecxCheckReadPage(cs, blkno, hc->page2);
		if (CheckDataPage(hc, hc->page2, blkno) && off <= PageGetMaxOffsetNumber(hc->page2))
		{
			Size		at;

			node = CheckNodeHeader(hc, hc->page2, blkno, off);
			state = node->state;
			at = HnswNodeSize(hc->meta.dims, hc->meta.elemtype, hc->meta.m, node->level,
							  HnswNodeIsOvf(node));
			if (state != HNSW_NODE_FREE)
			{
				if (ItemIdGetLength(PageGetItemId(hc->page2, off)) < at + hc->fbytes)
					VecxCheckCorrupt(cs, blkno, off, "node is too short for its filter payload");
				payload = palloc(hc->fbytes);
				memcpy(payload, (char *) node + at, hc->fbytes);
			}
		}
	}
	ents = WalkMap(hc, tid, NULL, &n);
	if (state == HNSW_NODE_LIVE && n == 0)
		VecxCheckCorrupt(cs, blkno, off, "live node has no filter map entry");
	if (n > 1)
		VecxCheckCorrupt(cs, ents[1].mapblk, ents[1].mapidx,
						 "node (%u,%u) has %zu filter map entries", blkno, off, n);
	if (n == 1 && (state == 0 || state == HNSW_NODE_FREE))
		VecxCheckCorrupt(cs, ents[0].mapblk, ents[0].mapidx,
						 "filter map entry names (%u,%u), which is not a live or deleted node",
						 blkno, off);
	if (n == 1 && state == HNSW_NODE_LIVE && memcmp(payload, ents[0].payload, hc->fbytes) != 0)
		VecxCheckCorrupt(cs, ents[0].mapblk, ents[0].mapidx,
						 "filter map entry of node (%u,%u) differs from the node's filter payload",
						 blkno, off);
}

/*
 * Is the node at tid, read now, live with this payload?  (The cheap test
 * for entries added by inserts after pass 1.)
 */
static bool
NodeNowMatches(HnswCheck *hc, ItemPointer tid, const char *payload, bool *live)
{
	BlockNumber blkno = ItemPointerGetBlockNumber(tid);
	OffsetNumber off = ItemPointerGetOffsetNumber(tid);
	HnswNodeHeader *node;
	Size		at;

	*live = false;
	if (!IsNode(hc, blkno, off))
		return false;
	VecxCheckReadPage(hc->cs, blkno, hc->page2);
	if (!CheckDataPage(hc, hc->page2, blkno) || off > PageGetMaxOffsetNumber(hc->page2))
		return false;
	node = CheckNodeHeader(hc, hc->page2, blkno, off);
	if (node->state != HNSW_NODE_LIVE)
		return false;
	*live = true;
	at = HnswNodeSize(hc->meta.dims, hc->meta.elemtype, hc->meta.m, node->level,
					  HnswNodeIsOvf(node));
	if (ItemIdGetLength(PageGetItemId(hc->page2, off)) < at + hc->fbytes)
		return false;
	return payload == NULL || memcmp((char *) node + at, payload, hc->fbytes) == 0;
}

/*
 * CheckMap
 *		Every map page is on the chain; every chain page and entry is well
 *		formed; each live node has exactly one entry, holding its payload;
 *		no entry names anything but a live or deleted node.
 */
static void
CheckMap(HnswCheck *hc)
{
	bool	   *onchain = palloc0(sizeof(bool) * Max(hc->nblocks, 1));
	HnswCheckFEnt *ents;
	Size		nents;
	Size		i,
				j;
	BlockNumber b;

	ents = WalkMap(hc, NULL, onchain, &nents);
	for (b = 1; b < hc->nblocks; b++)
		if (hc->ismap[b] && !onchain[b])
			VecxCheckCorrupt(hc->cs, b, 0, "map page is not on the filter map chain");
	if (nents > 1)
		qsort(ents, nents, sizeof(HnswCheckFEnt), CompareFEnt);

	i = j = 0;
	while (i < hc->nfnodes || j < nents)
	{
		int			c;

		CHECK_FOR_INTERRUPTS();
		if (i >= hc->nfnodes)
			c = 1;
		else if (j >= nents)
			c = -1;
		else
			c = ItemPointerCompare(&hc->fnodes[i].tid, &ents[j].tid);

		if (c < 0)
		{
			/* a node without an entry: wrong if it is (still) live */
			bool		live;

			if (hc->fnodes[i].state == HNSW_NODE_LIVE)
			{
				(void) NodeNowMatches(hc, &hc->fnodes[i].tid, NULL, &live);
				if (live)
					RecheckMapNode(hc, &hc->fnodes[i].tid);
			}
			i++;
		}
		else if (c > 0)
		{
			/* an entry without a node in pass 1: an insert since? */
			bool		live;

			if (!NodeNowMatches(hc, &ents[j].tid, ents[j].payload, &live) ||
				(j + 1 < nents && ItemPointerEquals(&ents[j].tid, &ents[j + 1].tid)))
				RecheckMapNode(hc, &ents[j].tid);
			while (j + 1 < nents && ItemPointerEquals(&ents[j].tid, &ents[j + 1].tid))
				j++;
			j++;
		}
		else
		{
			HnswCheckFEnt *node = &hc->fnodes[i];
			bool		dup = j + 1 < nents && ItemPointerEquals(&ents[j].tid, &ents[j + 1].tid);

			if (dup ||
				(node->state == HNSW_NODE_LIVE &&
				 memcmp(node->payload, ents[j].payload, hc->fbytes) != 0))
				RecheckMapNode(hc, &node->tid);
			while (j + 1 < nents && ItemPointerEquals(&ents[j].tid, &ents[j + 1].tid))
				j++;
			i++;
			j++;
		}
	}
}

/* heapallindexed: the row's node is live, holds it, and has its vector */
static bool
HnswCheckHeapRow(VecxCheckState *cs, Datum value, ItemPointer htid,
				 const VecxCheckEntry *found)
{
	HnswCheck  *hc = (HnswCheck *) cs->amstate;
	HnswNodeHeader *node;
	int			i;
	bool		holds = false;
	const void *nvec;

	if (!HnswPrepareValue(&hc->dist, value, hc->vec))
		return false;			/* zero vector under cosine: not indexed */
	if (found == NULL)
		return true;

	VecxCheckReadPage(cs, found->blkno, hc->page2);
	CheckDataPage(hc, hc->page2, found->blkno);
	if (found->off > PageGetMaxOffsetNumber(hc->page2))
		VecxCheckCorrupt(cs, found->blkno, found->off, "node vanished from its page");
	node = CheckNodeHeader(hc, hc->page2, found->blkno, found->off);
	for (i = 0; i < node->ntids; i++)
		if (ItemPointerEquals(&node->heaptids[i], htid))
			holds = true;
	if (node->state != HNSW_NODE_LIVE || !holds)
		VecxCheckCorrupt(cs, found->blkno, found->off,
						 "node no longer holds visible heap tuple (%u,%u)",
						 ItemPointerGetBlockNumber(htid), ItemPointerGetOffsetNumber(htid));
	/* overflow chains are read (and checked) through the buffer manager */
	nvec = HnswNodeVec(cs->index, &hc->dist, node, found->blkno, found->off);
	if (memcmp(nvec, hc->vec, hc->dist.vbytes) == 0)
		return true;
	/* bit and sparse values are stored as they are */
	if (hc->meta.elemtype == HNSW_ELEM_BIT || hc->meta.elemtype == HNSW_ELEM_SPARSE)
		VecxCheckCorrupt(cs, found->blkno, found->off,
						 "node vector differs from heap tuple (%u,%u)",
						 ItemPointerGetBlockNumber(htid), ItemPointerGetOffsetNumber(htid));
	/* quantizing is deterministic: the codes must be the heap value's */
	if (hc->meta.elemtype == HNSW_ELEM_SQ8)
		VecxCheckCorrupt(cs, found->blkno, found->off,
						 "node quantized vector differs from heap tuple (%u,%u)",
						 ItemPointerGetBlockNumber(htid), ItemPointerGetOffsetNumber(htid));

	/* not bit-identical: allow rounding differences of a normalisation */
	if (hc->meta.elemtype == HNSW_ELEM_F32)
	{
		memcpy(hc->f1, nvec, sizeof(float) * hc->meta.dims);
		memcpy(hc->f2, hc->vec, sizeof(float) * hc->meta.dims);
	}
	else
	{
		hc->dist.k->f16_to_f32(nvec, hc->f1, hc->meta.dims);
		hc->dist.k->f16_to_f32(hc->vec, hc->f2, hc->meta.dims);
	}
	for (i = 0; i < (int) hc->meta.dims; i++)
	{
		double		tol = (hc->meta.elemtype == HNSW_ELEM_F32 ? 1e-5 : 2e-3) *
			Max(1.0, fabs(hc->f2[i]));

		if (fabs((double) hc->f1[i] - hc->f2[i]) > tol)
			VecxCheckCorrupt(cs, found->blkno, found->off,
							 "node vector differs from heap tuple (%u,%u) at element %d (%g, expected %g)",
							 ItemPointerGetBlockNumber(htid), ItemPointerGetOffsetNumber(htid),
							 i, hc->f1[i], hc->f2[i]);
	}
	return true;
}

void
HnswCheckIndex(VecxCheckState *cs)
{
	HnswCheck  *hc = palloc0(sizeof(HnswCheck));
	BlockNumber nblocks;
	BlockNumber blkno;

	hc->cs = cs;
	hc->page = palloc(BLCKSZ);
	hc->page2 = palloc(BLCKSZ);

	nblocks = RelationGetNumberOfBlocks(cs->index);
	if (nblocks == 0)
		VecxCheckCorrupt(cs, HNSW_METAPAGE_BLKNO, 0, "index has no metapage");
	VecxCheckReadPage(cs, HNSW_METAPAGE_BLKNO, hc->page);
	CheckMeta(hc);
	if (HnswElemDense(hc->meta.srcElem))
	{
		hc->f1 = palloc(sizeof(float) * hc->meta.dims);
		hc->f2 = palloc(sizeof(float) * hc->meta.dims);
	}
	hc->vec = palloc(hc->dist.vbytes);

	/* after the metapage: the index only grows */
	nblocks = RelationGetNumberOfBlocks(cs->index);
	hc->nblocks = nblocks;
	hc->nitems = palloc0(mul_size(sizeof(uint16), nblocks));
	hc->ismap = palloc0(mul_size(sizeof(bool), Max(nblocks, 1)));
	hc->fbytes = HnswFilterBytes(hc->meta.nfilter);
	hc->maxfnodes = 1024;
	hc->fnodes = palloc(sizeof(HnswCheckFEnt) * hc->maxfnodes);

	/* pass 1: pages and nodes */
	for (blkno = 1; blkno < nblocks; blkno++)
	{
		OffsetNumber maxoff;
		OffsetNumber off;

		VecxCheckReadPage(cs, blkno, hc->page);
		if (!CheckDataPage(hc, hc->page, blkno))
		{
			if (!PageIsNew(hc->page) && HnswPageGetOpaque(hc->page)->flags == HNSW_PAGE_MAP)
				hc->ismap[blkno] = true;
			continue;
		}
		maxoff = PageGetMaxOffsetNumber(hc->page);
		for (off = FirstOffsetNumber; off <= maxoff; off++)
		{
			HnswNodeHeader *node = CheckNodeHeader(hc, hc->page, blkno, off);

			CheckNodeBody(hc, node, blkno, off);
			if (hc->fbytes > 0 && node->state != HNSW_NODE_FREE)
				RememberFilter(hc, hc->page, node, blkno, off);
		}
		VecxCheckItemOverlap(cs, hc->page, blkno);
		hc->nitems[blkno] = maxoff;
	}

	/* pass 2: every link names a node */
	for (blkno = 1; blkno < nblocks; blkno++)
	{
		OffsetNumber maxoff;
		OffsetNumber off;

		VecxCheckReadPage(cs, blkno, hc->page);
		if (!CheckDataPage(hc, hc->page, blkno))
			continue;
		maxoff = PageGetMaxOffsetNumber(hc->page);
		for (off = FirstOffsetNumber; off <= maxoff; off++)
		{
			HnswNodeHeader *node = CheckNodeHeader(hc, hc->page, blkno, off);

			CheckLinks(hc, node, blkno, off);
		}
	}

	if (hc->meta.nfilter > 0)
		CheckMap(hc);
	CheckEntry(hc);

	cs->heaprow = HnswCheckHeapRow;
	cs->amstate = hc;
}

/* Is this open index one of ours?  (vecxcheck.c's dispatch) */
bool
HnswCheckOwns(Relation index)
{
	return index->rd_indam != NULL && index->rd_indam->ambuild == hnswbuild;
}
