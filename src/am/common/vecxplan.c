/*-------------------------------------------------------------------------
 *
 * vecxplan.c
 *	  Filter conditions PostgreSQL's planner does not hand a vecx index.
 *
 * A vecx index is ordered by an operator (ORDER BY v <-> q) and may carry
 * filter columns (USING hnsw (v, label)).  The planner matches most filter
 * conditions to those columns itself, but two common shapes never reach an
 * ordered vecx scan in PostgreSQL 15:
 *
 * - "label = ANY (array)" and "label IN (...)": build_index_paths() keeps
 *   a ScalarArrayOpExpr on a non-leading column out of every ordered path
 *   (btree's ordering would break; ours does not, the order comes from the
 *   ORDER BY operator), and puts it only in an unordered path.
 * - a bare boolean column ("WHERE active", "WHERE NOT active"): the planner
 *   turns it into an index condition only for the built-in boolean btree
 *   and hash operator families.
 *
 * Left as table filters they make a filtered walk pass rows the index could
 * have skipped.  After the planner has made its paths for a relation
 * (set_rel_pathlist_hook), every unparameterized ordered path of a vecx
 * index gets a sibling that also checks those conditions in the index;
 * add_path() keeps whichever is cheaper by the AM's own cost estimate.
 *
 * The same hook drops vecx index paths that would test the vector column
 * with IS NULL: rows whose vector is NULL are not in the index.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/restrictinfo.h"
#include "utils/lsyscache.h"

#include "vecxfilter.h"
#include "vecxplan.h"

#define VECX_PLAN_MAX_AMS	4

static set_rel_pathlist_hook_type prev_set_rel_pathlist_hook = NULL;
static amcostestimate_function vecx_am_costs[VECX_PLAN_MAX_AMS];
static int	vecx_am_count = 0;

/*
 * VecxPlanRegisterAm
 *		An AM names itself by its cost estimate function, which the planner
 *		copies into every IndexOptInfo: no catalog lookup per relation.
 */
void
VecxPlanRegisterAm(amcostestimate_function costfn)
{
	for (int i = 0; i < vecx_am_count; i++)
		if (vecx_am_costs[i] == costfn)
			return;
	if (vecx_am_count >= VECX_PLAN_MAX_AMS)
		elog(ERROR, "too many vecx access methods registered");
	vecx_am_costs[vecx_am_count++] = costfn;
}

/* VecxPlanIsVecxCost: is this the cost estimate of a registered vecx AM? */
bool
VecxPlanIsVecxCost(amcostestimate_function costfn)
{
	for (int i = 0; i < vecx_am_count; i++)
		if (costfn == vecx_am_costs[i])
			return true;
	return false;
}

static bool
IsVecxIndex(IndexOptInfo *index)
{
	return VecxPlanIsVecxCost(index->amcostestimate);
}

/*
 * Does the relation have a vecx index?  The hook runs for every relation of
 * every query: most have none, and leave before any list is copied.
 */
static bool
HasVecxIndex(RelOptInfo *rel)
{
	ListCell   *lc;

	foreach(lc, rel->indexlist)
		if (IsVecxIndex(lfirst_node(IndexOptInfo, lc)))
			return true;
	return false;
}

/* Is the clause already one of the path's index clauses? */
static bool
InIndexClauses(IndexPath *path, RestrictInfo *rinfo)
{
	ListCell   *lc;

	foreach(lc, path->indexclauses)
		if (lfirst_node(IndexClause, lc)->rinfo == rinfo)
			return true;
	return false;
}

static IndexClause *
MakeIndexClause(RestrictInfo *rinfo, RestrictInfo *qual, int indexcol)
{
	IndexClause *ic = makeNode(IndexClause);

	ic->rinfo = rinfo;
	ic->indexquals = list_make1(qual);
	ic->lossy = false;
	ic->indexcol = indexcol;
	ic->indexcols = NIL;
	return ic;
}

/*
 * SaopClause
 *		"col op ANY (array)" on filter column indexcol, op in the column's
 *		operator family, the array free of the relation's own columns and of
 *		volatile functions.
 */
static IndexClause *
SaopClause(PlannerInfo *root, RelOptInfo *rel, IndexOptInfo *index, int indexcol,
		   RestrictInfo *rinfo)
{
	ScalarArrayOpExpr *saop = (ScalarArrayOpExpr *) rinfo->clause;
	Node	   *rightop;

	if (!saop->useOr || list_length(saop->args) != 2)
		return NULL;
	rightop = (Node *) lsecond(saop->args);
	if (!match_index_to_operand((Node *) linitial(saop->args), indexcol, index) ||
		!op_in_opfamily(saop->opno, index->opfamily[indexcol]) ||
		bms_is_member(rel->relid, pull_varnos(root, rightop)) ||
		contain_volatile_functions(rightop))
		return NULL;
	return MakeIndexClause(rinfo, rinfo, indexcol);
}

/*
 * BoolClause
 *		A bare boolean filter column, or its negation, as "col = true" or
 *		"col = false" with the column's own equality operator.
 */
static IndexClause *
BoolClause(PlannerInfo *root, IndexOptInfo *index, int indexcol, RestrictInfo *rinfo)
{
	Node	   *arg = (Node *) rinfo->clause;
	bool		value = true;
	Oid			eqop;
	Expr	   *qual;

	if (is_notclause(arg))
	{
		arg = (Node *) get_notclausearg((Expr *) arg);
		value = false;
	}
	if (exprType(arg) != BOOLOID || !match_index_to_operand(arg, indexcol, index))
		return NULL;
	eqop = get_opfamily_member(index->opfamily[indexcol], BOOLOID, BOOLOID,
							   VECX_FILTER_EQ);
	if (!OidIsValid(eqop))
		return NULL;
	qual = make_opclause(eqop, BOOLOID, false, (Expr *) copyObject(arg),
						 (Expr *) makeBoolConst(value, false),
						 InvalidOid, InvalidOid);
	set_opfuncid((OpExpr *) qual);
	return MakeIndexClause(rinfo, make_simple_restrictinfo(root, qual), indexcol);
}

/* Index clauses on filter columns the planner left out of path */
static List *
ExtraClauses(PlannerInfo *root, RelOptInfo *rel, IndexPath *path)
{
	IndexOptInfo *index = path->indexinfo;
	List	   *extra = NIL;
	ListCell   *lc;

	foreach(lc, rel->baserestrictinfo)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);

		if (rinfo->pseudoconstant || InIndexClauses(path, rinfo))
			continue;
		for (int col = 1; col < index->nkeycolumns; col++)
		{
			IndexClause *ic = NULL;

			if (IsA(rinfo->clause, ScalarArrayOpExpr))
				ic = SaopClause(root, rel, index, col, rinfo);
			else
				ic = BoolClause(root, index, col, rinfo);
			if (ic != NULL)
			{
				extra = lappend(extra, ic);
				break;
			}
		}
	}
	return extra;
}

static int
CmpIndexCol(const ListCell *a, const ListCell *b)
{
	int			x = lfirst_node(IndexClause, a)->indexcol;
	int			y = lfirst_node(IndexClause, b)->indexcol;

	return (x > y) - (x < y);
}

/* Does the path test the vector column (the first) with IS NULL? */
static bool
AsksNullVector(IndexPath *path)
{
	ListCell   *lc;

	foreach(lc, path->indexclauses)
	{
		IndexClause *ic = lfirst_node(IndexClause, lc);
		Node	   *clause = (Node *) ic->rinfo->clause;

		if (ic->indexcol == 0 && IsA(clause, NullTest) &&
			((NullTest *) clause)->nulltesttype == IS_NULL)
			return true;
	}
	return false;
}

static void
VecxSetRelPathlist(PlannerInfo *root, RelOptInfo *rel, Index rti, RangeTblEntry *rte)
{
	List	   *paths;
	ListCell   *lc;
	bool		dropped = false;

	if (prev_set_rel_pathlist_hook)
		prev_set_rel_pathlist_hook(root, rel, rti, rte);
	if (vecx_am_count == 0 || !IS_SIMPLE_REL(rel) || rte->rtekind != RTE_RELATION ||
		!HasVecxIndex(rel))
		return;

	/* add_path() may free or reorder entries: walk a copy */
	paths = list_copy(rel->pathlist);
	foreach(lc, paths)
	{
		IndexPath  *path = (IndexPath *) lfirst(lc);
		IndexPath  *np;
		List	   *extra;

		if (!IsA(path, IndexPath) || !IsVecxIndex(path->indexinfo))
			continue;
		if (AsksNullVector(path))
		{
			rel->pathlist = list_delete_ptr(rel->pathlist, path);
			dropped = true;
			continue;
		}
		if (path->indexorderbys == NIL || path->path.param_info != NULL ||
			rel->baserestrictinfo == NIL)
			continue;
		extra = ExtraClauses(root, rel, path);
		if (extra == NIL)
			continue;
		extra = list_concat_copy(path->indexclauses, extra);
		list_sort(extra, CmpIndexCol);
		np = create_index_path(root, path->indexinfo, extra,
							   path->indexorderbys, path->indexorderbycols,
							   path->path.pathkeys, path->indexscandir,
							   false, NULL, 1.0, false);
		add_path(rel, (Path *) np);
	}
	list_free(paths);

	/*
	 * A dropped path may have been the one that made add_path() discard the
	 * sequential scan (under enable_seqscan = off): offer it again.
	 */
	if (dropped)
		add_path(rel, create_seqscan_path(root, rel, NULL, 0));
}

/* VecxPlanInit: called from _PG_init, after the AMs registered */
void
VecxPlanInit(void)
{
	prev_set_rel_pathlist_hook = set_rel_pathlist_hook;
	set_rel_pathlist_hook = VecxSetRelPathlist;
}
