/*-------------------------------------------------------------------------
 *
 * vecxfilter.c
 *	  Filter key columns shared by every vecx index AM.
 *
 * Filter columns are kept in an 8-byte slot per column in every index
 * entry: integers, bool, date and timestamps exactly (as int64, so every
 * comparison strategy works across int2/int4/int8); text and uuid as a
 * 64-bit hash (equality only, the executor rechecks); int4[] as a 64-bit
 * signature, one bit per element hash (&& and @> are answered by bit
 * tests, the executor rechecks).
 *
 * User-visible messages still say "hnsw filter" for both AMs: the wording
 * is part of the regression output of the first release.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/amvalidate.h"
#include "access/genam.h"
#include "access/hash.h"
#include "access/htup_details.h"
#include "catalog/pg_amop.h"
#include "catalog/pg_amproc.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "optimizer/optimizer.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/uuid.h"

#include "vecxfilter.h"

/* ---- index shape ---- */

/*
 * VecxFilterKind
 *		How a value of this type is kept in a filter slot; 0 if the type
 *		cannot be a filter column.
 */
int
VecxFilterKind(Oid typid)
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
			return VECX_FKIND_INT;
		case TEXTOID:
		case VARCHAROID:
		case UUIDOID:
			return VECX_FKIND_HASH;
		case INT4ARRAYOID:
			return VECX_FKIND_SIG;
		default:
			return 0;
	}
}

int
VecxFilterColumns(Relation index)
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
	if (natts - 1 > VECX_MAX_FILTER_COLS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s indexes support at most %d filter columns", amname,
						VECX_MAX_FILTER_COLS)));
	for (i = 1; i < natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(RelationGetDescr(index), i);

		if (OidIsValid(index_getprocid(index, i + 1, vecproc)) ||
			VecxFilterKind(att->atttypid) == 0)
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
 * VecxFormFilter
 *		Build the payload of one index tuple from the filter columns
 *		(values[1..], isnull[1..]).
 */
void
VecxFormFilter(Relation index, Datum *values, bool *isnull, char *out)
{
	int			nf = VecxFilterColumns(index);
	uint32		nullmask = 0;
	int			i;

	memset(out, 0, VecxFilterBytes(nf));
	for (i = 0; i < nf; i++)
	{
		Oid			typid = TupleDescAttr(RelationGetDescr(index), i + 1)->atttypid;
		int64		v = 0;

		if (isnull[i + 1])
			nullmask |= (uint32) 1 << i;
		else
			v = EncodeValue(typid, VecxFilterKind(typid), values[i + 1]);
		memcpy(out + 4 + 8 * i, &v, sizeof(int64));
	}
	memcpy(out, &nullmask, sizeof(uint32));
}

/* ---- scan keys ---- */

/* qsort comparator for int64 arguments */
static int
CmpInt64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/*
 * PrepareArrayKey
 *		Fill fk from "col op ANY (array)" (SK_SEARCHARRAY).  NULL elements
 *		match nothing (the operators are strict); returns false when no
 *		element is left, so that no row can match.
 */
static bool
PrepareArrayKey(VecxFilterKey *fk, ScanKey k, Oid argtype)
{
	ArrayType  *arr = DatumGetArrayTypeP(k->sk_argument);
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	int64	   *vals;
	int			n = 0;
	int			i;

	if (ARR_ELEMTYPE(arr) != argtype)
		elog(ERROR, "vecx filter: array of type %u where %u was expected",
			 ARR_ELEMTYPE(arr), argtype);
	get_typlenbyvalalign(argtype, &typlen, &typbyval, &typalign);
	deconstruct_array(arr, argtype, typlen, typbyval, typalign, &elems, &nulls, &nelems);
	vals = palloc(sizeof(int64) * Max(nelems, 1));
	for (i = 0; i < nelems; i++)
		if (!nulls[i])
			vals[n++] = EncodeValue(argtype, fk->kind, elems[i]);
	if (n == 0)
		return false;

	if (fk->kind == VECX_FKIND_INT && fk->strategy != VECX_FILTER_EQ)
	{
		/* some element satisfies "v < e" iff the largest does, and so on */
		bool		wantmax = fk->strategy == VECX_FILTER_LT ||
			fk->strategy == VECX_FILTER_LE;

		fk->arg = vals[0];
		for (i = 1; i < n; i++)
			if (wantmax ? vals[i] > fk->arg : vals[i] < fk->arg)
				fk->arg = vals[i];
		return true;
	}
	if (fk->kind != VECX_FKIND_SIG)
	{
		int			m = 1;

		qsort(vals, n, sizeof(int64), CmpInt64);
		for (i = 1; i < n; i++)
			if (vals[i] != vals[m - 1])
				vals[m++] = vals[i];
		n = m;
	}
	fk->arg = vals[0];
	fk->nargs = n;
	fk->args = n > 1 ? vals : NULL;
	return true;
}

/*
 * PrepareNullKey
 *		IS NULL / IS NOT NULL (SK_SEARCHNULL, SK_SEARCHNOTNULL).  Rows whose
 *		vector is NULL are not in a vecx index, so on the vector column IS
 *		NOT NULL holds for every entry and IS NULL for none; the planner is
 *		kept from asking the latter (VecxPlan), since the rows exist in the
 *		table.  Returns false when the key is to be dropped.
 */
static bool
PrepareNullKey(VecxFilterKey *fk, ScanKey k)
{
	if (k->sk_attno == 1)
	{
		if (k->sk_flags & SK_SEARCHNULL)
			elog(ERROR, "vecx index scan for rows whose vector is NULL");
		return false;
	}
	fk->col = k->sk_attno - 2;
	fk->strategy = (k->sk_flags & SK_SEARCHNULL) ? VECX_FILTER_ISNULL : VECX_FILTER_NOTNULL;
	fk->nargs = 1;
	return true;
}

VecxFilter *
VecxFilterPrepare(Relation index, ScanKey keys, int nkeys)
{
	VecxFilter *f = palloc0(offsetof(VecxFilter, keys) + sizeof(VecxFilterKey) * Max(nkeys, 1));
	int			nf = VecxFilterColumns(index);
	int			i;

	for (i = 0; i < nkeys; i++)
	{
		ScanKey		k = &keys[i];
		VecxFilterKey *fk = &f->keys[f->nkeys];
		Oid			coltype;
		Oid			argtype;

		if (k->sk_attno < 1 || k->sk_attno > nf + 1)
			elog(ERROR, "vecx scan key on unexpected column %d", k->sk_attno);
		if (k->sk_flags & (SK_SEARCHNULL | SK_SEARCHNOTNULL))
		{
			if (PrepareNullKey(fk, k))
				f->nkeys++;
			continue;
		}
		if (k->sk_attno == 1)
			elog(ERROR, "vecx scan key on the vector column");
		if (k->sk_flags & SK_ISNULL)
		{
			f->empty = true;	/* strict operator with a NULL argument */
			continue;
		}
		if (k->sk_strategy < 1 || k->sk_strategy > VECX_FILTER_NSTRAT)
			elog(ERROR, "vecx scan key with unexpected strategy %d", k->sk_strategy);
		coltype = TupleDescAttr(RelationGetDescr(index), k->sk_attno - 1)->atttypid;
		argtype = OidIsValid(k->sk_subtype) ? k->sk_subtype : coltype;
		if (argtype == ANYARRAYOID)
			argtype = coltype;	/* int4[] && and @> are declared on anyarray */
		fk->col = k->sk_attno - 2;
		fk->strategy = k->sk_strategy;
		fk->kind = VecxFilterKind(coltype);
		fk->nargs = 1;
		if (fk->kind != VecxFilterKind(argtype))
			elog(ERROR, "vecx scan key type %u does not match column type %u", argtype, coltype);
		if (fk->kind == VECX_FKIND_HASH && fk->strategy != VECX_FILTER_EQ)
			elog(ERROR, "vecx scan key strategy %d on a hashed column", fk->strategy);
		if (k->sk_flags & SK_SEARCHARRAY)
		{
			if (!PrepareArrayKey(fk, k, argtype))
			{
				f->empty = true;	/* ANY of no non-null element */
				continue;
			}
		}
		else
			fk->arg = EncodeValue(argtype, fk->kind, k->sk_argument);
		if (fk->kind != VECX_FKIND_INT)
			f->lossy = true;
		f->nkeys++;
	}
	return f;
}

/* Does one key's argument hold against a single value? */
static inline bool
KeyMatchOne(const VecxFilterKey *k, int64 v, int64 arg)
{
	if (k->kind == VECX_FKIND_SIG)
	{
		if (k->strategy == VECX_FILTER_OVERLAP)
			return ((uint64) v & (uint64) arg) != 0;
		return ((uint64) arg & ~(uint64) v) == 0;
	}
	switch (k->strategy)
	{
		case VECX_FILTER_LT:
			return v < arg;
		case VECX_FILTER_LE:
			return v <= arg;
		case VECX_FILTER_EQ:
			return v == arg;
		case VECX_FILTER_GE:
			return v >= arg;
		case VECX_FILTER_GT:
			return v > arg;
	}
	return false;
}

/*
 * VecxFilterKeyMatch
 *		Does the non-null slot value v satisfy key k (a comparison key, not
 *		a null test)?  Lossy kinds may say yes wrongly.
 */
bool
VecxFilterKeyMatch(const VecxFilterKey *k, int64 v)
{
	int			lo,
				hi;

	if (k->nargs <= 1)
		return KeyMatchOne(k, v, k->arg);
	if (k->kind == VECX_FKIND_SIG)
	{
		for (lo = 0; lo < k->nargs; lo++)
			if (KeyMatchOne(k, v, k->args[lo]))
				return true;
		return false;
	}
	/* equality with any of a sorted set */
	lo = 0;
	hi = k->nargs - 1;
	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (k->args[mid] == v)
			return true;
		if (k->args[mid] < v)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return false;
}

/* Does a payload satisfy every key?  (Lossy keys may say yes wrongly.) */
bool
VecxFilterMatch(const VecxFilter *f, const char *payload)
{
	uint32		nullmask;
	int			i;

	if (f->empty)
		return false;
	memcpy(&nullmask, payload, sizeof(uint32));
	for (i = 0; i < f->nkeys; i++)
	{
		const VecxFilterKey *k = &f->keys[i];
		bool		isnull = (nullmask & ((uint32) 1 << k->col)) != 0;
		int64		v;

		if (k->strategy == VECX_FILTER_ISNULL || k->strategy == VECX_FILTER_NOTNULL)
		{
			if (isnull != (k->strategy == VECX_FILTER_ISNULL))
				return false;
			continue;
		}
		if (isnull)
			return false;		/* every filter operator is strict */
		memcpy(&v, payload + 4 + 8 * k->col, sizeof(int64));
		if (!VecxFilterKeyMatch(k, v))
			return false;
	}
	return true;
}

/*
 * VecxFilterSelectivity
 *		Shared by the hnsw and ivfpq cost models: *sIdx receives the
 *		selectivity of the quals the index checks itself (conditions on its
 *		filter columns), *sAll that of every qual on the table (the rest are
 *		checked on the heap), both clamped to [1 / ntuples, 1] with
 *		*sAll <= *sIdx.  Returns whether the index checks any qual.
 */
bool
VecxFilterSelectivity(PlannerInfo *root, IndexPath *path, double ntuples,
					  double *sIdx, double *sAll)
{
	RelOptInfo *baserel = path->indexinfo->rel;
	List	   *idxquals = NIL;
	ListCell   *lc;

	foreach(lc, path->indexclauses)
	{
		IndexClause *iclause = lfirst_node(IndexClause, lc);

		/* "vector IS NOT NULL" holds for every entry: nothing to filter */
		if (iclause->indexcol == 0)
			continue;
		idxquals = lappend(idxquals, iclause->rinfo);
	}
	*sIdx = idxquals ? clauselist_selectivity(root, idxquals, baserel->relid,
											  JOIN_INNER, NULL) : 1.0;
	*sIdx = Max(Min(*sIdx, 1.0), 1.0 / ntuples);
	*sAll = clauselist_selectivity(root, baserel->baserestrictinfo, baserel->relid,
								   JOIN_INNER, NULL);
	*sAll = Max(Min(*sAll, *sIdx), 1.0 / ntuples);
	return idxquals != NIL;
}

/*
 * VecxValidateFilterOpclass
 *		amvalidate for filter column opclasses: search operators only
 *		(strategies 1-5 comparison, 6 &&, 7 @>) returning bool, no support
 *		functions; hashed types allow only equality, int4[] only && and @>.
 */
bool
VecxValidateFilterOpclass(Oid opclassoid)
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
	kind = VecxFilterKind(opcintype);

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
			!(kind == VECX_FKIND_SIG && oprform->amoplefttype == ANYARRAYOID))
			continue;
		ok = oprform->amoppurpose == AMOP_SEARCH &&
			st >= 1 && st <= VECX_FILTER_NSTRAT &&
			(VecxFilterKind(oprform->amoprighttype) == kind ||
			 (kind == VECX_FKIND_SIG && oprform->amoprighttype == ANYARRAYOID)) &&
			check_amop_signature(oprform->amopopr, BOOLOID,
								 oprform->amoplefttype, oprform->amoprighttype);
		if (ok && kind == VECX_FKIND_HASH)
			ok = st == VECX_FILTER_EQ;
		else if (ok && kind == VECX_FKIND_SIG)
			ok = st == VECX_FILTER_OVERLAP || st == VECX_FILTER_CONTAINS;
		else if (ok)
			ok = st <= VECX_FILTER_GT;
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
