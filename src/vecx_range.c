/*-------------------------------------------------------------------------
 *
 * vecx_range.c
 *	  Range search through the index: l2_within(v, q, r) and friends, the
 *	  search operators they become, and the scan-key helpers of the AMs.
 *
 * WHERE v <-> q < r has float8's < at the top: no operator class of ours
 * sees it.  So range search is spelled as a function of the indexed
 * column, l2_within(v, q, r) (also cosine_within, ip_within, l1_within;
 * ip_within(v, q, r) is v <#> q < r, the negative inner product below r),
 * whose planner support function (SupportRequestIndexCondition, as
 * PostGIS's ST_DWithin) rewrites it into the index condition
 *
 *     v <<->> ROW(q, r)::vector_range
 *
 * an operator the opfamilies of hnsw, ivfpq and ivfflat know as search
 * strategy 2.  The original call stays as a filter (lossy), and the AMs
 * ask the executor to re-check their key as well, so the rows returned are
 * exactly those with distance < r whatever rounding the index's distances
 * have; the index only has to never drop a matching row (see the AM
 * READMEs for when it does not).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/supportnodes.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "utils/spccache.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "vecx.h"
#include "vecx_range.h"

/* the distance operators' functions (src/types/vector.c) */
extern Datum vector_l2_distance(PG_FUNCTION_ARGS);
extern Datum vector_cosine_distance(PG_FUNCTION_ARGS);
extern Datum vector_negative_inner_product(PG_FUNCTION_ARGS);
extern Datum vector_l1_distance(PG_FUNCTION_ARGS);

PG_FUNCTION_INFO_V1(vector_l2_within);
PG_FUNCTION_INFO_V1(vector_cosine_within);
PG_FUNCTION_INFO_V1(vector_ip_within);
PG_FUNCTION_INFO_V1(vector_l1_within);
PG_FUNCTION_INFO_V1(vector_l2_within_range);
PG_FUNCTION_INFO_V1(vector_cosine_within_range);
PG_FUNCTION_INFO_V1(vector_ip_within_range);
PG_FUNCTION_INFO_V1(vector_l1_within_range);
PG_FUNCTION_INFO_V1(vecx_within_support);

/* distance < radius, NaN never within */
static inline bool
Within(PGFunction dist, Datum a, Datum b, double radius)
{
	double		d = DatumGetFloat8(DirectFunctionCall2(dist, a, b));

	return d < radius;
}

/*
 * The query and radius of a vector_range value; false when either is NULL
 * (the operator is then NULL, the scan key matches nothing).
 */
static bool
RangeFields(HeapTupleHeader range, Datum *query, double *radius)
{
	bool		qnull,
				rnull;
	Datum		r;

	*query = GetAttributeByNum(range, 1, &qnull);
	r = GetAttributeByNum(range, 2, &rnull);
	if (qnull || rnull)
		return false;
	*radius = DatumGetFloat8(r);
	return true;
}

#define WITHIN_FN(name, dist) \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	PG_RETURN_BOOL(Within(dist, PG_GETARG_DATUM(0), PG_GETARG_DATUM(1), \
						  PG_GETARG_FLOAT8(2))); \
}

#define WITHIN_RANGE_FN(name, dist) \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	Datum		query; \
	double		radius; \
\
	if (!RangeFields(PG_GETARG_HEAPTUPLEHEADER(1), &query, &radius)) \
		PG_RETURN_NULL(); \
	PG_RETURN_BOOL(Within(dist, PG_GETARG_DATUM(0), query, radius)); \
}

/* l2_within(a, b, r) etc.: the functions users write */
WITHIN_FN(vector_l2_within, vector_l2_distance)
WITHIN_FN(vector_cosine_within, vector_cosine_distance)
WITHIN_FN(vector_ip_within, vector_negative_inner_product)
WITHIN_FN(vector_l1_within, vector_l1_distance)

/* a <<->> vector_range etc.: the index search operators */
WITHIN_RANGE_FN(vector_l2_within_range, vector_l2_distance)
WITHIN_RANGE_FN(vector_cosine_within_range, vector_cosine_distance)
WITHIN_RANGE_FN(vector_ip_within_range, vector_negative_inner_product)
WITHIN_RANGE_FN(vector_l1_within_range, vector_l1_distance)

/* The search operator of each within function, by C symbol */
static const struct
{
	const char *prosrc;
	const char *opname;
}			within_ops[] =
{
	{"vector_l2_within", "<<->>"},
	{"vector_cosine_within", "<<=>>"},
	{"vector_ip_within", "<<#>>"},
	{"vector_l1_within", "<<+>>"},
};

/*
 * vecx_within_support
 *		SupportRequestIndexCondition for l2_within(v, q, r) and friends:
 *		when v (either of the first two arguments: distances are
 *		symmetric) is the index column and the other two arguments do not
 *		read the index's table, the index condition
 *		v <op> ROW(q, r)::vector_range, where <op> is the within
 *		function's search operator in the extension's schema and belongs
 *		to the index's operator family.  Lossy: the call stays as a filter.
 */
Datum
vecx_within_support(PG_FUNCTION_ARGS)
{
	Node	   *rawreq = (Node *) PG_GETARG_POINTER(0);
	SupportRequestIndexCondition *req;
	FuncExpr   *fexpr;
	HeapTuple	proctup;
	char	   *prosrc;
	Oid			nsp;
	Oid			vectype;
	Oid			rangetype;
	Oid			opoid = InvalidOid;
	const char *opname = NULL;
	Node	   *indexarg;
	Node	   *query;
	Node	   *radius;
	RowExpr    *row;
	Datum		d;
	bool		isnull;
	int			i;

	if (!IsA(rawreq, SupportRequestIndexCondition))
		PG_RETURN_POINTER(NULL);
	req = (SupportRequestIndexCondition *) rawreq;
	if (!is_funcclause(req->node))
		PG_RETURN_POINTER(NULL);
	fexpr = (FuncExpr *) req->node;
	if (list_length(fexpr->args) != 3 || req->indexarg > 1)
		PG_RETURN_POINTER(NULL);

	proctup = SearchSysCache1(PROCOID, ObjectIdGetDatum(req->funcid));
	if (!HeapTupleIsValid(proctup))
		PG_RETURN_POINTER(NULL);
	d = SysCacheGetAttr(PROCOID, proctup, Anum_pg_proc_prosrc, &isnull);
	prosrc = isnull ? NULL : TextDatumGetCString(d);
	nsp = ((Form_pg_proc) GETSTRUCT(proctup))->pronamespace;
	ReleaseSysCache(proctup);
	for (i = 0; prosrc != NULL && i < lengthof(within_ops); i++)
		if (strcmp(prosrc, within_ops[i].prosrc) == 0)
			opname = within_ops[i].opname;
	if (opname == NULL)
		PG_RETURN_POINTER(NULL);

	indexarg = (Node *) list_nth(fexpr->args, req->indexarg);
	query = (Node *) list_nth(fexpr->args, 1 - req->indexarg);
	radius = (Node *) list_nth(fexpr->args, 2);
	/* the query and radius must be known before the scan reads the table */
	if (bms_is_member(req->index->rel->relid, pull_varnos(req->root, query)) ||
		bms_is_member(req->index->rel->relid, pull_varnos(req->root, radius)) ||
		contain_volatile_functions(query) || contain_volatile_functions(radius))
		PG_RETURN_POINTER(NULL);

	vectype = exprType(indexarg);
	rangetype = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
								CStringGetDatum("vector_range"), ObjectIdGetDatum(nsp));
	if (!OidIsValid(rangetype))
		PG_RETURN_POINTER(NULL);
	opoid = OpernameGetOprid(list_make2(makeString(get_namespace_name(nsp)),
										makeString(pstrdup(opname))),
							 vectype, rangetype);
	if (!OidIsValid(opoid) || !op_in_opfamily(opoid, req->opfamily))
		PG_RETURN_POINTER(NULL);

	row = makeNode(RowExpr);
	row->args = list_make2(copyObject(query), copyObject(radius));
	row->row_typeid = rangetype;
	row->row_format = COERCE_EXPLICIT_CAST;
	row->colnames = NIL;
	row->location = -1;

	req->lossy = true;
	PG_RETURN_POINTER(list_make1(make_opclause(opoid, BOOLOID, false,
											   (Expr *) copyObject(indexarg),
											   (Expr *) row,
											   InvalidOid, InvalidOid)));
}

/*
 * VecxRangeSplit
 *		Take the range keys (the vector column's, strategy 2) out of a
 *		scan's keys: the first one's query and radius in *range, the
 *		filter-column keys left in *rest.  Further range keys are left to
 *		the executor's re-check.
 */
void
VecxRangeSplit(ScanKey keys, int nkeys, VecxRange *range, ScanKey *rest, int *nrest)
{
	int			i;

	memset(range, 0, sizeof(*range));
	*rest = palloc(sizeof(ScanKeyData) * Max(nkeys, 1));
	*nrest = 0;
	for (i = 0; i < nkeys; i++)
	{
		ScanKey		k = &keys[i];

		/* filter columns' keys, and IS [NOT] NULL on the vector column */
		if (k->sk_attno != 1 || (k->sk_flags & (SK_SEARCHNULL | SK_SEARCHNOTNULL)))
		{
			(*rest)[(*nrest)++] = *k;
			continue;
		}
		if (k->sk_strategy != VECX_RANGE_STRATEGY)
			elog(ERROR, "unexpected scan key strategy %d on the vector column", k->sk_strategy);
		if (k->sk_flags & SK_ISNULL)
			range->empty = true;
		else if (range->nkeys == 0 &&
				 !RangeFields(DatumGetHeapTupleHeader(k->sk_argument),
							  &range->query, &range->radius))
			range->empty = true;
		else if (range->nkeys == 0 && isnan(range->radius))
			range->empty = true;	/* d < NaN is never true */
		range->nkeys++;
	}
}

/* Whether two vector datums hold the same vector (bytes) */
bool
VecxRangeSameQuery(Datum a, Datum b)
{
	struct varlena *x = PG_DETOAST_DATUM(a);
	struct varlena *y = PG_DETOAST_DATUM(b);

	return VARSIZE_ANY_EXHDR(x) == VARSIZE_ANY_EXHDR(y) &&
		memcmp(VARDATA_ANY(x), VARDATA_ANY(y), VARSIZE_ANY_EXHDR(x)) == 0;
}

/*
 * The largest index value (in the operator's units) that may still be a
 * row within the radius: the index's float32 distances may round
 * differently from the operator's, so a margin; rows in it are re-checked
 * by the executor.
 */
double
VecxRangeLimit(double radius)
{
	if (isinf(radius))
		return radius;
	return radius + 1e-4 * fabs(radius) + 1e-5;
}

/*
 * VecxRangeCost
 *		amcostestimate of a scan with range keys and no ORDER BY (false when
 *		the path has no range key).  Priced as reading the whole index and
 *		computing every distance, which is what the exact modes may do at
 *		worst; the rows within the radius cost their heap fetches in the
 *		planner's own costing, at the selectivity of the quals.
 */
bool
VecxRangeCost(PlannerInfo *root, IndexPath *path, Cost *startup, Cost *total,
			  Selectivity *sel, double *pages)
{
	IndexOptInfo *index = path->indexinfo;
	List	   *quals = NIL;
	bool		range = false;
	ListCell   *lc;
	double		spc_random_page_cost,
				spc_seq_page_cost;
	double		ntuples = Max(index->tuples, 1.0);

	foreach(lc, path->indexclauses)
	{
		IndexClause *iclause = lfirst_node(IndexClause, lc);

		/* the vector column's conditions: ranges, or IS [NOT] NULL */
		if (iclause->indexcol == 0 && !IsA(iclause->rinfo->clause, NullTest))
			range = true;
		quals = lappend(quals, iclause->rinfo);
	}
	if (!range)
		return false;
	get_tablespace_page_costs(index->reltablespace, &spc_random_page_cost,
							  &spc_seq_page_cost);
	*sel = clauselist_selectivity(root, quals, index->rel->relid, JOIN_INNER, NULL);
	*sel = Max(Min(*sel, 1.0), 1.0 / ntuples);
	*startup = 0;
	*total = Max(index->pages, 1) * spc_seq_page_cost +
		ntuples * (cpu_index_tuple_cost + 4 * cpu_operator_cost);
	*pages = Max(index->pages, 1);
	return true;
}
