/*-------------------------------------------------------------------------
 *
 * hnswfilter.c
 *	  Filter key columns of hnsw indexes and the exhaustive (exact) pass.
 *
 * Filter columns are kept in an 8-byte slot per column in every node:
 * integers, bool, date and timestamps exactly (as int64, so every
 * comparison strategy works across int2/int4/int8); text and uuid as a
 * 64-bit hash (equality only, the executor rechecks); int4[] as a 64-bit
 * signature, one bit per element hash (&& and @> are answered by bit
 * tests, the executor rechecks).
 *
 * The exhaustive pass returns the live, matching, not yet returned nodes in
 * distance order: with scan keys on an index with a filter map, through
 * the map (hnswfmap.c); otherwise by reading every index page once.  It makes an
 * iterative scan exact once the graph walk is out of budget, and serves
 * scans that have no ORDER BY.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/amvalidate.h"
#include "access/hash.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "catalog/pg_amop.h"
#include "catalog/pg_amproc.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/pg_locale.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/date.h"
#include "utils/uuid.h"

#include "hnswfilter.h"
#include "hnswfmap.h"

bool		hnsw_exact_fallback = true;

/*
 * HnswFilterInit
 *		Register the filter settings; called from HnswInit.
 */
void
HnswFilterInit(void)
{
	DefineCustomBoolVariable("hnsw.exact_fallback",
							 "Finishes an iterative scan with an exact pass over the index once its graph walk is out of budget.",
							 "With it, an iterative scan returns every row the query asks for; "
							 "without it, a scan stops at hnsw.max_scan_tuples as in pgvector.",
							 &hnsw_exact_fallback, true,
							 PGC_USERSET, 0, NULL, NULL, NULL);
}

/* ---- index shape ---- */

/*
 * HnswFilterKind
 *		How a value of this type is kept in a filter slot; 0 if the type
 *		cannot be a filter column.
 */
int
HnswFilterKind(Oid typid)
{
	switch (typid)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case BOOLOID:
		case DATEOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			return HNSW_FKIND_INT;
		case TEXTOID:
		case VARCHAROID:
		case UUIDOID:
			return HNSW_FKIND_HASH;
		case INT4ARRAYOID:
			return HNSW_FKIND_SIG;
		default:
			return 0;
	}
}

int
HnswFilterColumns(Relation index)
{
	return IndexRelationGetNumberOfKeyAttributes(index) - 1;
}

/*
 * VecxCheckFilterColumns
 *		Shared by hnsw and ivfpq: the first column must be the vector (its
 *		opclass has support function vecproc); every other column a
 *		supported filter type with a deterministic collation.
 */
void
VecxCheckFilterColumns(Relation index, const char *amname, uint16 vecproc)
{
	int			natts = IndexRelationGetNumberOfKeyAttributes(index);
	int			i;

	if (!OidIsValid(index_getprocid(index, 1, vecproc)))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("first column of an %s index must be a vector or halfvec column with a distance operator class",
						amname)));
	if (natts - 1 > HNSW_MAX_FILTER_COLS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s indexes support at most %d filter columns", amname,
						HNSW_MAX_FILTER_COLS)));
	for (i = 1; i < natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(RelationGetDescr(index), i);

		if (OidIsValid(index_getprocid(index, i + 1, vecproc)) ||
			HnswFilterKind(att->atttypid) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("column %d of %s index \"%s\" cannot be a filter column",
							i + 1, amname, RelationGetRelationName(index)),
					 errdetail("Only the first column is searched by distance; filter columns may be int2, int4, int8, bool, date, timestamp, timestamptz, text, varchar, uuid or int4[].")));
		if ((att->atttypid == TEXTOID || att->atttypid == VARCHAROID) &&
			OidIsValid(index->rd_indcollation[i]) &&
			!get_collation_isdeterministic(index->rd_indcollation[i]))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("nondeterministic collations are not supported for %s filter columns",
							amname)));
	}
}

void
HnswCheckIndexColumns(Relation index)
{
	VecxCheckFilterColumns(index, "hnsw", HNSW_INFO_PROC);
}

/* ---- encoding ---- */

static uint64
SigOfArray(Datum value)
{
	ArrayType  *arr = DatumGetArrayTypeP(value);
	int			nitems = ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr));
	int32	   *data = (int32 *) ARR_DATA_PTR(arr);
	bits8	   *nulls = ARR_NULLBITMAP(arr);
	uint64		sig = 0;
	int			i;

	if (ARR_ELEMTYPE(arr) != INT4OID)
		elog(ERROR, "hnsw filter: int4[] expected");
	for (i = 0; i < nitems; i++)
	{
		if (nulls && !(nulls[i / 8] & (1 << (i % 8))))
			continue;			/* NULL elements match nothing */
		sig |= UINT64CONST(1) << (hash_bytes_uint32((uint32) *data) & 63);
		data++;
	}
	return sig;
}

/* Encode a non-null datum of type typid for a slot of the given kind. */
static int64
EncodeValue(Oid typid, int kind, Datum value)
{
	switch (typid)
	{
		case INT2OID:
			return DatumGetInt16(value);
		case INT4OID:
			return DatumGetInt32(value);
		case INT8OID:
			return DatumGetInt64(value);
		case BOOLOID:
			return DatumGetBool(value) ? 1 : 0;
		case DATEOID:
			return DatumGetDateADT(value);
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			return DatumGetInt64(value);
		case TEXTOID:
		case VARCHAROID:
			{
				text	   *t = DatumGetTextPP(value);

				return (int64) hash_bytes_extended((const unsigned char *) VARDATA_ANY(t),
												   VARSIZE_ANY_EXHDR(t), 0);
			}
		case UUIDOID:
			return (int64) hash_bytes_extended((const unsigned char *) DatumGetUUIDP(value),
											   UUID_LEN, 0);
		case INT4ARRAYOID:
			return (int64) SigOfArray(value);
		default:
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("type %s cannot be compared with an hnsw filter column",
							format_type_be(typid))));
	}
	return 0;					/* keep compiler quiet */
}

/*
 * HnswFormFilter
 *		Build the payload of one index tuple from the filter columns
 *		(values[1..], isnull[1..]).
 */
void
HnswFormFilter(Relation index, Datum *values, bool *isnull, char *out)
{
	int			nf = HnswFilterColumns(index);
	uint32		nullmask = 0;
	int			i;

	memset(out, 0, HnswFilterBytes(nf));
	for (i = 0; i < nf; i++)
	{
		Oid			typid = TupleDescAttr(RelationGetDescr(index), i + 1)->atttypid;
		int64		v = 0;

		if (isnull[i + 1])
			nullmask |= (uint32) 1 << i;
		else
			v = EncodeValue(typid, HnswFilterKind(typid), values[i + 1]);
		memcpy(out + 4 + 8 * i, &v, sizeof(int64));
	}
	memcpy(out, &nullmask, sizeof(uint32));
}

/*
 * HnswNodeFilter
 *		The filter payload of a node on a locked page, after checking that
 *		the item is long enough to hold it.
 */
const char *
HnswNodeFilter(Relation index, Page page, BlockNumber blkno, OffsetNumber off,
			   HnswNodeHeader *node, int dims, int elemtype, int m, int nfilter)
{
	Size		at = HnswNodeSize(dims, elemtype, m, node->level, HnswNodeIsOvf(node));

	if (ItemIdGetLength(PageGetItemId(page, off)) < at + HnswFilterBytes(nfilter))
		HnswCorrupt(index, blkno, off, "node too short for its filter payload");
	return (const char *) node + at;
}

/* ---- scan keys ---- */

HnswFilter *
HnswFilterPrepare(Relation index, ScanKey keys, int nkeys)
{
	HnswFilter *f = palloc0(offsetof(HnswFilter, keys) + sizeof(HnswFilterKey) * Max(nkeys, 1));
	int			nf = HnswFilterColumns(index);
	int			i;

	for (i = 0; i < nkeys; i++)
	{
		ScanKey		k = &keys[i];
		HnswFilterKey *fk = &f->keys[f->nkeys];
		Oid			coltype;
		Oid			argtype;

		if (k->sk_attno < 2 || k->sk_attno > nf + 1)
			elog(ERROR, "hnsw scan key on unexpected column %d", k->sk_attno);
		if (k->sk_flags & SK_ISNULL)
		{
			f->empty = true;	/* strict operator with a NULL argument */
			continue;
		}
		if (k->sk_strategy < 1 || k->sk_strategy > HNSW_FILTER_NSTRAT)
			elog(ERROR, "hnsw scan key with unexpected strategy %d", k->sk_strategy);
		coltype = TupleDescAttr(RelationGetDescr(index), k->sk_attno - 1)->atttypid;
		argtype = OidIsValid(k->sk_subtype) ? k->sk_subtype : coltype;
		if (argtype == ANYARRAYOID)
			argtype = coltype;	/* int4[] && and @> are declared on anyarray */
		fk->col = k->sk_attno - 2;
		fk->strategy = k->sk_strategy;
		fk->kind = HnswFilterKind(coltype);
		if (fk->kind != HnswFilterKind(argtype))
			elog(ERROR, "hnsw scan key type %u does not match column type %u", argtype, coltype);
		if (fk->kind == HNSW_FKIND_HASH && fk->strategy != HNSW_FILTER_EQ)
			elog(ERROR, "hnsw scan key strategy %d on a hashed column", fk->strategy);
		fk->arg = EncodeValue(argtype, fk->kind, k->sk_argument);
		if (fk->kind != HNSW_FKIND_INT)
			f->lossy = true;
		f->nkeys++;
	}
	return f;
}

/* Does a payload satisfy every key?  (Lossy keys may say yes wrongly.) */
bool
HnswFilterMatch(const HnswFilter *f, const char *payload)
{
	uint32		nullmask;
	int			i;

	if (f->empty)
		return false;
	memcpy(&nullmask, payload, sizeof(uint32));
	for (i = 0; i < f->nkeys; i++)
	{
		const HnswFilterKey *k = &f->keys[i];
		int64		v;
		bool		ok;

		if (nullmask & ((uint32) 1 << k->col))
			return false;		/* every filter operator is strict */
		memcpy(&v, payload + 4 + 8 * k->col, sizeof(int64));
		if (k->kind == HNSW_FKIND_SIG)
		{
			uint64		node = (uint64) v;
			uint64		q = (uint64) k->arg;

			if (k->strategy == HNSW_FILTER_OVERLAP)
				ok = (node & q) != 0;
			else
				ok = (q & ~node) == 0;
		}
		else
		{
			switch (k->strategy)
			{
				case HNSW_FILTER_LT:
					ok = v < k->arg;
					break;
				case HNSW_FILTER_LE:
					ok = v <= k->arg;
					break;
				case HNSW_FILTER_EQ:
					ok = v == k->arg;
					break;
				case HNSW_FILTER_GE:
					ok = v >= k->arg;
					break;
				case HNSW_FILTER_GT:
					ok = v > k->arg;
					break;
				default:
					ok = false;
					break;
			}
		}
		if (!ok)
			return false;
	}
	return true;
}

/* ---- exhaustive pass ---- */

static int
CompareEmitted(const void *a, const void *b)
{
	return ItemPointerCompare(&((HnswEmitted *) a)->tid,
							  &((HnswEmitted *) b)->tid);
}

static int
CompareItems(const void *a, const void *b)
{
	HnswExhaustItem *x = (HnswExhaustItem *) a;
	HnswExhaustItem *y = (HnswExhaustItem *) b;

	if (x->dist < y->dist)
		return -1;
	if (x->dist > y->dist)
		return 1;
	return ItemPointerCompare(&x->heaptid, &y->heaptid);
}

/* Sort emitted[] by node TID for HnswExhaustAddNode's lookups. */
void
HnswEmittedSort(HnswEmitted *emitted, int nemitted)
{
	if (nemitted > 1)
		qsort(emitted, nemitted, sizeof(HnswEmitted), CompareEmitted);
}

/*
 * HnswExhaustAddNode
 *		Append the heap TIDs of the live node at nodetid (locked by the
 *		caller) that the scan has not returned yet (emitted[], sorted by
 *		HnswEmittedSort), all at the node's distance (its lower bound in the
 *		operator's units for sq8 indexes); *cap is the size of ex->items.  The distance is computed only if some TID remains.
 */
void
HnswExhaustAddNode(HnswExhaust *ex, Size *cap, Relation index, const HnswDist *d,
				   const void *query, ItemPointer nodetid, HnswNodeHeader *node,
				   const HnswEmitted *emitted, int nemitted)
{
	int			skip = 0;
	int			j;
	float		dist;

	if (nemitted > 0)
	{
		HnswEmitted key;
		HnswEmitted *hit;

		key.tid = *nodetid;
		hit = bsearch(&key, emitted, nemitted, sizeof(HnswEmitted), CompareEmitted);
		if (hit)
			skip = hit->ntids;
	}
	if (skip >= node->ntids)
		return;
	dist = 0.0f;
	if (query)
	{
		const void *vec = HnswNodeVec(index, d, node, ItemPointerGetBlockNumber(nodetid),
									  ItemPointerGetOffsetNumber(nodetid));

		dist = HnswDistanceQ(d, query, vec);
		/* lossy order: items are sorted and returned by their lower bound */
		if (HnswLossyOrder(d))
			dist = HnswFloatBelow(HnswSq8LowerBound(d, query, vec, dist));
	}
	for (j = skip; j < node->ntids; j++)
	{
		if (ex->n >= *cap)
		{
			*cap *= 2;
			ex->items = repalloc_huge(ex->items, sizeof(HnswExhaustItem) * *cap);
		}
		ex->items[ex->n].dist = dist;
		ex->items[ex->n].heaptid = node->heaptids[j];
		ex->n++;
	}
}

/*
 * HnswExhaustRun
 *		Read every data page and collect (distance, heap TID) of each live
 *		node that passes the filter, skipping the heap TIDs listed in
 *		emitted[] (already returned by the graph walk), sorted by distance.
 *		query == NULL: no ordering (every distance is 0).
 */
HnswExhaust *
HnswExhaustRun(Relation index, const HnswMetaPageData *meta, const HnswDist *d,
			   const void *query, const HnswFilter *filter,
			   HnswEmitted *emitted, int nemitted)
{
	HnswExhaust *ex = palloc0(sizeof(HnswExhaust));
	Size		cap = 1024;
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	BlockNumber blkno;
	int			nfilter = HnswFilterColumns(index);
	BufferAccessStrategy bas;

	/* with scan keys, the filter map finds the matching nodes (hnswfmap.c) */
	if (filter != NULL && filter->nkeys > 0 && meta->nfilter > 0)
		return HnswMapRun(index, meta, d, query, filter, emitted, nemitted, false);

	bas = GetAccessStrategy(BAS_BULKREAD);
	HnswEmittedSort(emitted, nemitted);
	ex->items = palloc(sizeof(HnswExhaustItem) * cap);

	for (blkno = HNSW_METAPAGE_BLKNO + 1; blkno < nblocks; blkno++)
	{
		Buffer		buf;
		Page		page;
		OffsetNumber off,
					maxoff;

		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, bas);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (PageIsNew(page) || PageGetSpecialSize(page) != MAXALIGN(sizeof(HnswPageOpaqueData)) ||
			HnswPageGetOpaque(page)->page_id != HNSW_PAGE_ID ||
			!(HnswPageGetOpaque(page)->flags & HNSW_PAGE_NODES))
		{
			UnlockReleaseBuffer(buf);
			continue;			/* a page being added by a concurrent insert */
		}
		maxoff = PageGetMaxOffsetNumber(page);
		for (off = FirstOffsetNumber; off <= maxoff; off++)
		{
			HnswNodeHeader *node;
			ItemPointerData nodetid;

			if (!ItemIdIsNormal(PageGetItemId(page, off)))
				continue;
			node = HnswGetNode(index, page, blkno, off, meta->dims, meta->elemtype, meta->m);
			if (node->state != HNSW_NODE_LIVE)
				continue;
			if (filter && nfilter > 0 &&
				!HnswFilterMatch(filter, HnswNodeFilter(index, page, blkno, off, node,
														meta->dims, meta->elemtype,
														meta->m, nfilter)))
				continue;
			ItemPointerSet(&nodetid, blkno, off);
			HnswExhaustAddNode(ex, &cap, index, d, query, &nodetid, node,
							   emitted, nemitted);
		}
		UnlockReleaseBuffer(buf);
		CHECK_FOR_INTERRUPTS();
	}
	FreeAccessStrategy(bas);
	if (query && ex->n > 1)
		qsort(ex->items, ex->n, sizeof(HnswExhaustItem), CompareItems);
	ex->sorted = ex->n;
	return ex;
}

/*
 * HnswExhaustNext
 *		The next item of an exhaustive pass in order, or NULL.  Items past
 *		ex->sorted are unordered: the next chunk (doubling, from 64) is
 *		selected and sorted only when the scan gets there, since most
 *		queries want a few rows out of many matches.
 */
HnswExhaustItem *
HnswExhaustNext(HnswExhaust *ex)
{
	if (ex->pos >= ex->n)
		return NULL;
	if (ex->pos >= ex->sorted)
	{
		Size		chunk = Max(64, ex->sorted);
		Size		lo = ex->sorted;
		Size		hi = ex->n;
		Size		want = Min(lo + chunk, ex->n);

		/*
		 * Quickselect: narrow [lo, hi) around want, keeping everything in
		 * [sorted, lo) below [lo, hi) below [hi, n); then sort [sorted, hi)
		 * (at least want - sorted items, all smaller than the rest).  Each
		 * Hoare step on more than 2 items shrinks the range.
		 */
		while (hi - lo > 32 && lo < want && want < hi)
		{
			HnswExhaustItem pivot = ex->items[lo + (hi - lo) / 2];
			Size		i = lo,
						j = hi - 1;

			for (;;)
			{
				HnswExhaustItem t;

				while (CompareItems(&ex->items[i], &pivot) < 0)
					i++;
				while (CompareItems(&ex->items[j], &pivot) > 0)
					j--;
				if (i >= j)
					break;
				t = ex->items[i];
				ex->items[i] = ex->items[j];
				ex->items[j] = t;
				i++;
				j--;
			}
			/* items[lo, j] <= pivot <= items[j + 1, hi) */
			if (want <= j + 1)
				hi = j + 1;
			else
				lo = j + 1;
		}
		if (want > lo)
			want = hi;
		if (want - ex->sorted > 1)
			qsort(ex->items + ex->sorted, want - ex->sorted, sizeof(HnswExhaustItem),
				  CompareItems);
		ex->sorted = want;
	}
	return &ex->items[ex->pos++];
}

/*
 * HnswMaxLevelForFilter
 *		Highest level whose node, with its filter payload, fits on a page;
 *		-1 if none does.
 */
int
HnswMaxLevelForFilter(int dims, int elemtype, int m, Size fbytes, bool ovf)
{
	int			l;

	for (l = HNSW_MAX_LEVEL; l >= 0; l--)
		if (HnswNodeSize(dims, elemtype, m, l, ovf) + fbytes <= HNSW_MAX_ITEM_SIZE)
			return l;
	return -1;
}

/*
 * HnswValidateFilterOpclass
 *		amvalidate for filter column opclasses: search operators only
 *		(strategies 1-5 comparison, 6 &&, 7 @>) returning bool, no support
 *		functions; hashed types allow only equality, int4[] only && and @>.
 */
bool
HnswValidateFilterOpclass(Oid opclassoid)
{
	bool		result = true;
	HeapTuple	classtup;
	Form_pg_opclass classform;
	Oid			opfamilyoid;
	Oid			opcintype;
	char	   *opclassname;
	CatCList   *proclist,
			   *oprlist;
	int			kind;
	int			i;
	bool		hasOp = false;

	classtup = SearchSysCache1(CLAOID, ObjectIdGetDatum(opclassoid));
	if (!HeapTupleIsValid(classtup))
		elog(ERROR, "cache lookup failed for operator class %u", opclassoid);
	classform = (Form_pg_opclass) GETSTRUCT(classtup);
	opfamilyoid = classform->opcfamily;
	opcintype = classform->opcintype;
	opclassname = NameStr(classform->opcname);
	kind = HnswFilterKind(opcintype);

	proclist = SearchSysCacheList1(AMPROCNUM, ObjectIdGetDatum(opfamilyoid));
	for (i = 0; i < proclist->n_members; i++)
	{
		Form_pg_amproc procform = (Form_pg_amproc) GETSTRUCT(&proclist->members[i]->tuple);

		if (procform->amproclefttype != opcintype)
			continue;
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("hnsw filter operator class \"%s\" contains support function %s, which it does not use",
						opclassname, format_procedure(procform->amproc))));
		result = false;
	}

	oprlist = SearchSysCacheList1(AMOPSTRATEGY, ObjectIdGetDatum(opfamilyoid));
	for (i = 0; i < oprlist->n_members; i++)
	{
		Form_pg_amop oprform = (Form_pg_amop) GETSTRUCT(&oprlist->members[i]->tuple);
		int			st = oprform->amopstrategy;
		bool		ok;

		if (oprform->amoplefttype != opcintype &&
			!(kind == HNSW_FKIND_SIG && oprform->amoplefttype == ANYARRAYOID))
			continue;
		ok = oprform->amoppurpose == AMOP_SEARCH &&
			st >= 1 && st <= HNSW_FILTER_NSTRAT &&
			(HnswFilterKind(oprform->amoprighttype) == kind ||
			 (kind == HNSW_FKIND_SIG && oprform->amoprighttype == ANYARRAYOID)) &&
			check_amop_signature(oprform->amopopr, BOOLOID,
								 oprform->amoplefttype, oprform->amoprighttype);
		if (ok && kind == HNSW_FKIND_HASH)
			ok = st == HNSW_FILTER_EQ;
		else if (ok && kind == HNSW_FKIND_SIG)
			ok = st == HNSW_FILTER_OVERLAP || st == HNSW_FILTER_CONTAINS;
		else if (ok)
			ok = st <= HNSW_FILTER_GT;
		if (!ok)
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("hnsw filter operator class \"%s\" contains invalid operator %s with strategy %d",
							opclassname, format_operator(oprform->amopopr), st)));
			result = false;
		}
		else
			hasOp = true;
	}
	if (!hasOp)
	{
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("hnsw filter operator class \"%s\" has no operators", opclassname)));
		result = false;
	}

	ReleaseCatCacheList(proclist);
	ReleaseCatCacheList(oprlist);
	ReleaseSysCache(classtup);
	return result;
}
