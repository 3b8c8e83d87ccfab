/*-------------------------------------------------------------------------
 *
 * vecxjunk.c
 *	  Skip the executor's own distance for rows a vecx scan returns in order.
 *
 * For "SELECT id FROM items ORDER BY v <-> q LIMIT 10" the planner puts
 * "v <-> q" into the scan's target list as a resjunk column: a Sort would
 * need it.  An ordered index scan needs no Sort, yet the executor still
 * projects the column for every row it returns, and only to drop it again
 * (the junk filter).  For a vector kept out of line that is one TOAST fetch
 * and one full distance per row: 10 to 20 percent of a default hnsw query's
 * backend time at 784 dimensions, more when the scan re-checks distances
 * (hnsw with quantization = sq8, ivfpq), where the executor has already
 * computed the same distance once for its reorder queue.
 *
 * After the planner has finished (planner_hook), an ordered scan of a vecx
 * index, optionally under a Limit, gets each resjunk target that repeats
 * one of the scan's ORDER BY expressions replaced by a NULL of the same
 * type, where nothing reads that column:
 *
 * - at the top of a SELECT's plan: a Limit passes tuples through without
 *   projecting, and the top-level junk filter removes resjunk columns
 *   before any row reaches the client;
 * - below a Subquery Scan, an Aggregate or a Nested Loop that does not
 *   name the column (a LIMIT subquery: "FROM (SELECT id ... ORDER BY
 *   v <-> q LIMIT 10) s", "CROSS JOIN LATERAL (...)").
 *
 * Any other reader (a Sort, a Merge Append over partitions, LockRows, a
 * Material or Memoize, a SubPlan, DML) keeps the column as it is.  EXPLAIN VERBOSE shows the replaced column as
 * "NULL::double precision"; vecx.skip_order_projection = off turns it off.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/amapi.h"
#include "access/sysattr.h"
#include "catalog/pg_class.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/plannodes.h"
#include "nodes/primnodes.h"
#include "miscadmin.h"
#include "optimizer/optimizer.h"
#include "optimizer/planner.h"
#include "utils/guc.h"
#include "utils/syscache.h"

#include "vecxplan.h"

static planner_hook_type prev_planner_hook = NULL;
static bool vecx_skip_order_projection = true;

/* Is the index one of ours?  Asked only of ordered index scans. */
static bool
IsVecxIndexOid(Oid indexoid)
{
	HeapTuple	tup;
	Oid			amoid;
	IndexAmRoutine *routine;
	bool		result;

	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(indexoid));
	if (!HeapTupleIsValid(tup))
		return false;
	amoid = ((Form_pg_class) GETSTRUCT(tup))->relam;
	ReleaseSysCache(tup);
	if (!OidIsValid(amoid))
		return false;
	routine = GetIndexAmRoutineByAmId(amoid, true);
	if (routine == NULL)
		return false;
	result = VecxPlanIsVecxCost(routine->amcostestimate);
	pfree(routine);
	return result;
}

/*
 * OrderedVecxScan
 *		The index scan of "[Limit ->] IndexScan", if it is an ordered scan of
 *		a vecx index; else NULL.
 */
static IndexScan *
OrderedVecxScan(Plan *plan)
{
	if (plan != NULL && IsA(plan, Limit))
		plan = outerPlan(plan);
	if (plan == NULL || !IsA(plan, IndexScan))
		return NULL;
	if (((IndexScan *) plan)->indexorderbyorig == NIL ||
		!IsVecxIndexOid(((IndexScan *) plan)->indexid))
		return NULL;
	return (IndexScan *) plan;
}

/* Does an expression tree name column attno of the input numbered varno? */
typedef struct JunkColumnRef
{
	int			varno;
	AttrNumber	attno;
} JunkColumnRef;

static bool
NamesColumn(Node *node, JunkColumnRef *ref)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
		return ((Var *) node)->varno == ref->varno &&
			((Var *) node)->varattno == ref->attno;
	return expression_tree_walker(node, NamesColumn, (void *) ref);
}

/*
 * ParentReads
 *		Does the parent read column attno of its child (outer, inner, or a
 *		Subquery Scan's subplan)?  Only parents whose every reference to a
 *		child column is known are answered "no": a Subquery Scan (target
 *		list, quals), an Aggregate (also its grouping columns) and a Nested
 *		Loop (also its join quals and, on the outer side, the parameters it
 *		hands the inner side).
 */
static bool
ParentReads(Plan *parent, Plan *child, AttrNumber attno)
{
	JunkColumnRef	ref;
	List	   *exprs = list_make2(parent->targetlist, parent->qual);
	bool		reads = false;

	ref.attno = attno;
	if (IsA(parent, SubqueryScan))
		ref.varno = ((SubqueryScan *) parent)->scan.scanrelid;
	else if (IsA(parent, Agg))
	{
		Agg		   *agg = (Agg *) parent;

		ref.varno = OUTER_VAR;
		for (int i = 0; i < agg->numCols; i++)
			if (agg->grpColIdx[i] == attno)
				reads = true;
	}
	else if (IsA(parent, NestLoop))
	{
		NestLoop   *nl = (NestLoop *) parent;
		ListCell   *lc;

		exprs = lappend(exprs, nl->join.joinqual);
		if (child == outerPlan(parent))
		{
			ref.varno = OUTER_VAR;
			foreach(lc, nl->nestParams)
				exprs = lappend(exprs, lfirst_node(NestLoopParam, lc)->paramval);
		}
		else
			ref.varno = INNER_VAR;
	}
	else
		reads = true;

	if (!reads)
		reads = NamesColumn((Node *) exprs, &ref);
	list_free(exprs);
	return reads;
}

/*
 * SkipOrderProjection
 *		Replace the resjunk copies of the scan's ORDER BY expressions in its
 *		target list that the scan's reader does not read (parent NULL: the
 *		top of the plan, read only by the junk filter).
 */
static void
SkipOrderProjection(IndexScan *scan, Plan *parent, Plan *child)
{
	ListCell   *lc;

	foreach(lc, scan->scan.plan.targetlist)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);
		Expr	   *e = tle->expr;

		if (!tle->resjunk || IsA(e, Const))
			continue;
		if (!list_member(scan->indexorderbyorig, e))
			continue;
		if (parent != NULL && ParentReads(parent, child, tle->resno))
			continue;
		tle->expr = (Expr *) makeNullConst(exprType((Node *) e),
										   exprTypmod((Node *) e),
										   exprCollation((Node *) e));
	}
}

static void WalkPlan(Plan *plan);

/* A child of plan: an ordered vecx scan to trim, or a subtree to walk */
static void
WalkChild(Plan *plan, Plan *child)
{
	IndexScan  *scan = OrderedVecxScan(child);

	if (scan != NULL)
		SkipOrderProjection(scan, plan, child);
	else
		WalkPlan(child);
}

/*
 * WalkPlan
 *		Look for ordered vecx scans below the top: a LIMIT subquery ("SELECT
 *		string_agg(...) FROM (SELECT id FROM t ORDER BY v <-> q LIMIT 10) s",
 *		"CROSS JOIN LATERAL (SELECT ... ORDER BY v <-> q.v LIMIT 10)").
 */
static void
WalkPlan(Plan *plan)
{
	ListCell   *lc;

	check_stack_depth();
	if (plan == NULL)
		return;
	switch (nodeTag(plan))
	{
		case T_SubqueryScan:
			WalkChild(plan, ((SubqueryScan *) plan)->subplan);
			break;
		case T_Append:
			foreach(lc, ((Append *) plan)->appendplans)
				WalkPlan(lfirst(lc));
			break;
		case T_MergeAppend:
			foreach(lc, ((MergeAppend *) plan)->mergeplans)
				WalkPlan(lfirst(lc));
			break;
		default:
			break;
	}
	if (outerPlan(plan) != NULL)
		WalkChild(plan, outerPlan(plan));
	if (innerPlan(plan) != NULL)
		WalkChild(plan, innerPlan(plan));
}

static PlannedStmt *
VecxPlanner(Query *parse, const char *query_string, int cursorOptions,
			ParamListInfo boundParams)
{
	PlannedStmt *stmt;
	IndexScan  *scan;

	if (prev_planner_hook)
		stmt = prev_planner_hook(parse, query_string, cursorOptions,
								 boundParams);
	else
		stmt = standard_planner(parse, query_string, cursorOptions,
								boundParams);

	if (!vecx_skip_order_projection || stmt->commandType != CMD_SELECT ||
		stmt->hasModifyingCTE || stmt->rowMarks != NIL)
		return stmt;

	/*
	 * At the top, only a Limit (which hands its child's tuples up
	 * unprojected) may sit above the scan: the resjunk columns then reach
	 * only the junk filter.
	 */
	scan = OrderedVecxScan(stmt->planTree);
	if (scan != NULL)
		SkipOrderProjection(scan, NULL, NULL);
	else
		WalkPlan(stmt->planTree);
	return stmt;
}

/* VecxJunkInit: called from _PG_init */
void
VecxJunkInit(void)
{
	DefineCustomBoolVariable("vecx.skip_order_projection",
							 "Skips computing ORDER BY distances that an ordered vecx index scan already provides.",
							 "The resjunk distance column of a plan topped by an ordered hnsw, ivfpq or ivfflat scan is "
							 "replaced by NULL; nothing reads it.",
							 &vecx_skip_order_projection,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	prev_planner_hook = planner_hook;
	planner_hook = VecxPlanner;
}
