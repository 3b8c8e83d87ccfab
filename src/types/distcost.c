/*-------------------------------------------------------------------------
 *
 * distcost.c
 *	  Planner cost of the distance functions behind <->, <#>, <=> and <+>.
 *
 * A function's cost is a constant (pg_proc.procost) unless a planner
 * support function says otherwise.  For a distance the constant is wrong
 * twice over: the arithmetic grows with the dimensions, and a vector kept
 * out of line (TOAST: the vector and halfvec types default to external
 * storage, so any row over about 2 kB has its vector moved to the TOAST
 * table) must be fetched chunk by chunk before the first subtraction.  The
 * planner's estimate of a sequential scan counts only the table's own
 * pages, so "ORDER BY v <-> $1 LIMIT 10" over 2,000 rows of vector(1536)
 * looked cheaper as a sequential scan and sort (costed at 81) than as an
 * index scan (128), and took 15-35 ms instead of 7: 2,000 detoastings the
 * estimate never saw.  With the sort's input charged for them, the plan
 * that reads 10 vectors wins.
 *
 * A detoasting is charged like the pages and tuples it reads: the value's
 * chunks (TOAST_MAX_CHUNK_SIZE bytes each, about four to a page) as a
 * quarter of a sequential page each, plus a TOAST index probe and a tuple
 * per chunk.  Whether an argument is out of line is read from the column's
 * statistics (pg_statistic's stawidth is the stored width: a TOAST pointer
 * is 18 bytes), or, without statistics, from its declared dimensions and
 * storage.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/heaptoast.h"
#include "catalog/pg_attribute.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pathnodes.h"
#include "nodes/supportnodes.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "vecx.h"

/* Bytes of a vector or halfvec of dims elements (header: int16 dim, int16 unused, varlena) */
static double
RawBytes(int32 dims, int elemsize)
{
	return 8.0 + (double) dims * elemsize;
}

/* The column's storage strategy ('p', 'e', 'm', 'x'), or 0 if unknown */
static char
AttStorage(Oid relid, AttrNumber attnum)
{
	HeapTuple	tp;
	char		storage = 0;

	tp = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid), Int16GetDatum(attnum));
	if (HeapTupleIsValid(tp))
	{
		storage = ((Form_pg_attribute) GETSTRUCT(tp))->attstorage;
		ReleaseSysCache(tp);
	}
	return storage;
}

/*
 * Is the argument a table column whose values are kept out of line?  raw
 * is the size of one value, from the declared dimensions.
 */
static bool
ArgOutOfLine(PlannerInfo *root, Node *arg, double raw)
{
	Var		   *var;
	RangeTblEntry *rte;
	int32		width;

	if (root == NULL || !IsA(arg, Var) || raw <= TOAST_TUPLE_THRESHOLD)
		return false;
	var = (Var *) arg;
	if (var->varlevelsup != 0 || var->varattno <= 0 ||
		var->varno < 1 || var->varno >= root->simple_rel_array_size)
		return false;
	rte = planner_rt_fetch(var->varno, root);
	if (rte == NULL || rte->rtekind != RTE_RELATION)
		return false;
	width = get_attavgwidth(rte->relid, var->varattno);
	if (width > 0)
		return width < raw / 2;
	/* no statistics: only plain storage keeps a value this large inline */
	return AttStorage(rte->relid, var->varattno) != TYPSTORAGE_PLAIN;
}

/*
 * DistanceCost
 *		Per-call cost of a distance between two values of elemsize-byte
 *		elements: the arithmetic, and the detoasting of each argument kept
 *		out of line.  Returns false when the dimensions are unknown (no
 *		typmod on either side): procost applies then.
 */
static bool
DistanceCost(PlannerInfo *root, List *args, int elemsize, Cost *per_call)
{
	int32		dims = 0;
	double		raw;
	Cost		cost;
	ListCell   *lc;

	foreach(lc, args)
		dims = Max(dims, exprTypmod((Node *) lfirst(lc)));
	if (dims <= 0)
		return false;
	raw = RawBytes(dims, elemsize);
	cost = cpu_operator_cost * (1.0 + dims / 64.0);
	foreach(lc, args)
	{
		double		chunks;

		if (!ArgOutOfLine(root, (Node *) lfirst(lc), raw))
			continue;
		chunks = ceil(raw / TOAST_MAX_CHUNK_SIZE);
		cost += chunks * (seq_page_cost / 4.0 + cpu_index_tuple_cost + cpu_tuple_cost);
	}
	*per_call = cost;
	return true;
}

static Datum
DistanceSupport(Node *rawreq, int elemsize)
{
	SupportRequestCost *req;
	List	   *args;
	Cost		per_call;

	if (!IsA(rawreq, SupportRequestCost))
		PG_RETURN_POINTER(NULL);
	req = (SupportRequestCost *) rawreq;
	if (req->node == NULL)
		PG_RETURN_POINTER(NULL);
	if (IsA(req->node, FuncExpr))
		args = ((FuncExpr *) req->node)->args;
	else if (IsA(req->node, OpExpr))
		args = ((OpExpr *) req->node)->args;
	else
		PG_RETURN_POINTER(NULL);
	if (!DistanceCost(req->root, args, elemsize, &per_call))
		PG_RETURN_POINTER(NULL);
	req->startup = 0;
	req->per_tuple = per_call;
	PG_RETURN_POINTER(req);
}

PG_FUNCTION_INFO_V1(vector_distance_support);
Datum
vector_distance_support(PG_FUNCTION_ARGS)
{
	return DistanceSupport((Node *) PG_GETARG_POINTER(0), sizeof(float));
}

PG_FUNCTION_INFO_V1(halfvec_distance_support);
Datum
halfvec_distance_support(PG_FUNCTION_ARGS)
{
	return DistanceSupport((Node *) PG_GETARG_POINTER(0), sizeof(uint16));
}
