/*-------------------------------------------------------------------------
 *
 * vecx_recall.c
 *	  vecx_index_recall(): recall@k and latency of an index, measured in SQL.
 *
 * Each query vector is answered twice through SPI, as the caller: once
 * through the named index at the session's current settings (ef_search,
 * probes, ...), and once exactly (the same statement with no index on the
 * table, so a sequential scan and a sort).  Recall counts the index's rows
 * whose distance is within the k-th exact distance, so rows tied with the
 * k-th nearest count as found whichever of them the exact scan returned.
 *
 * The statement is built from the catalogs, not from the access method's
 * name: the index's first key column (a column or an expression), the
 * ordering operator of its operator family, and its predicate for a
 * partial index.  Any index of an access method of this extension works,
 * present or future.
 *
 * Which plan each run gets is decided by a get_relation_info_hook that,
 * while a run is in progress, leaves the table with the named index only
 * (index run) or with no index (exact run); sequential scans are disabled
 * for the index run in a GUC nest level of their own, undone after it.
 * The index run's plan is checked to scan the named index, so the numbers
 * can never silently be those of another plan.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/index.h"
#include "catalog/pg_am.h"
#include "catalog/pg_amop.h"
#include "catalog/pg_index.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_proc.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/pathnodes.h"
#include "nodes/plannodes.h"
#include "optimizer/plancat.h"
#include "portability/instr_time.h"
#include "utils/builtins.h"
#include "utils/catcache.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/plancache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "vecx.h"

PG_FUNCTION_INFO_V1(vecx_index_recall);

/* Most neighbours asked for, and most sampled queries. */
#define RECALL_MAX_K		10000
#define RECALL_MAX_SAMPLE	1000000

typedef enum RecallMode
{
	RECALL_OFF,					/* no run in progress: the hook does nothing */
	RECALL_INDEX,				/* the table has the named index only */
	RECALL_EXACT				/* the table has no index */
} RecallMode;

static RecallMode recall_mode = RECALL_OFF;
static Oid	recall_heap = InvalidOid;
static Oid	recall_index = InvalidOid;
static get_relation_info_hook_type prev_get_relation_info_hook = NULL;

/* One row of an answer: which row, and its exact distance to the query */
typedef struct RecallHit
{
	ItemPointerData tid;
	double		dist;
} RecallHit;

/*
 * RecallRelationInfo
 *		Trim the indexes the planner may consider for the measured table
 *		while a run is in progress.  Other tables (in a filter's subquery)
 *		are left alone.
 */
static void
RecallRelationInfo(PlannerInfo *root, Oid relationObjectId, bool inhparent,
				   RelOptInfo *rel)
{
	if (prev_get_relation_info_hook)
		prev_get_relation_info_hook(root, relationObjectId, inhparent, rel);

	if (recall_mode == RECALL_OFF || relationObjectId != recall_heap)
		return;

	if (recall_mode == RECALL_EXACT)
		rel->indexlist = NIL;
	else
	{
		List	   *keep = NIL;
		ListCell   *lc;

		foreach(lc, rel->indexlist)
		{
			IndexOptInfo *info = lfirst_node(IndexOptInfo, lc);

			if (info->indexoid == recall_index)
				keep = lappend(keep, info);
		}
		rel->indexlist = keep;
	}
}

/* VecxRecallInit: called from _PG_init */
void
VecxRecallInit(void)
{
	prev_get_relation_info_hook = get_relation_info_hook;
	get_relation_info_hook = RecallRelationInfo;
}

/*
 * EnterMode / LeaveMode
 *		Bracket one execution.  The index run also gets sequential and
 *		bitmap scans disabled and index scans enabled, in a GUC nest level
 *		that LeaveMode pops (an error pops it with the transaction or
 *		subtransaction).  Set around every execution, not only planning: a
 *		cached plan invalidated meanwhile is replanned at execution.
 */
static int
EnterMode(RecallMode mode)
{
	int			nest = -1;

	recall_mode = mode;
	if (mode == RECALL_INDEX)
	{
		nest = NewGUCNestLevel();
		(void) set_config_option("enable_seqscan", "off", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
		(void) set_config_option("enable_bitmapscan", "off", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
		(void) set_config_option("enable_indexscan", "on", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
	}
	return nest;
}

static void
LeaveMode(int nest)
{
	if (nest >= 0)
		AtEOXact_GUC(true, nest);
	recall_mode = RECALL_OFF;
}

/* PlanScansIndex: does the plan tree scan the index (directly or below)? */
static bool
PlanScansIndex(Plan *plan, Oid indexoid)
{
	ListCell   *lc;

	if (plan == NULL)
		return false;
	if (IsA(plan, IndexScan) && ((IndexScan *) plan)->indexid == indexoid)
		return true;
	if (IsA(plan, IndexOnlyScan) && ((IndexOnlyScan *) plan)->indexid == indexoid)
		return true;
	if (IsA(plan, SubqueryScan) && PlanScansIndex(((SubqueryScan *) plan)->subplan, indexoid))
		return true;
	if (IsA(plan, Append))
	{
		foreach(lc, ((Append *) plan)->appendplans)
		{
			if (PlanScansIndex(lfirst(lc), indexoid))
				return true;
		}
	}
	if (IsA(plan, MergeAppend))
	{
		foreach(lc, ((MergeAppend *) plan)->mergeplans)
		{
			if (PlanScansIndex(lfirst(lc), indexoid))
				return true;
		}
	}
	return PlanScansIndex(plan->lefttree, indexoid) ||
		PlanScansIndex(plan->righttree, indexoid);
}

/*
 * PrepareSelect
 *		Prepare one SELECT (a generic plan: planned once, so the timings
 *		are of execution), refusing anything else a user-supplied piece of
 *		text could have turned it into.  what names the piece in errors.
 */
static SPIPlanPtr
PrepareSelect(const char *sql, int nargs, Oid *argtypes, const char *what)
{
	SPIPlanPtr	plan;
	List	   *sources;

	plan = SPI_prepare_cursor(sql, nargs, argtypes, CURSOR_OPT_GENERIC_PLAN);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare_cursor failed: %s", SPI_result_code_string(SPI_result));
	sources = SPI_plan_get_plan_sources(plan);
	if (list_length(sources) != 1 ||
		((CachedPlanSource *) linitial(sources))->commandTag != CMDTAG_SELECT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must make a single SELECT statement", what)));
	return plan;
}

/*
 * IndexOrderOperator
 *		The ordering operator of the index's first column: an AMOP_ORDER
 *		member of its operator family taking the opclass's input type on
 *		the left.  Returns the operator and sets *righttype.
 */
static Oid
IndexOrderOperator(Relation index, Oid *righttype)
{
	Oid			opfamily = index->rd_opfamily[0];
	Oid			lefttype = index->rd_opcintype[0];
	CatCList   *list;
	Oid			result = InvalidOid;
	int16		best = 0;

	list = SearchSysCacheList1(AMOPSTRATEGY, ObjectIdGetDatum(opfamily));
	for (int i = 0; i < list->n_members; i++)
	{
		Form_pg_amop amop = (Form_pg_amop) GETSTRUCT(&list->members[i]->tuple);

		if (amop->amoppurpose != AMOP_ORDER || amop->amoplefttype != lefttype)
			continue;
		/* the lowest strategy when a family has several */
		if (!OidIsValid(result) || amop->amopstrategy < best)
		{
			result = amop->amopopr;
			best = amop->amopstrategy;
			*righttype = amop->amoprighttype;
		}
	}
	ReleaseSysCacheList(list);
	return result;
}

/* OperatorSql: OPERATOR(schema.name), usable whatever search_path is */
static char *
OperatorSql(Oid opoid)
{
	HeapTuple	tup;
	Form_pg_operator op;
	char	   *result;

	tup = SearchSysCache1(OPEROID, ObjectIdGetDatum(opoid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for operator %u", opoid);
	op = (Form_pg_operator) GETSTRUCT(tup);
	result = psprintf("OPERATOR(%s.%s)",
					  quote_identifier(get_namespace_name(op->oprnamespace)),
					  NameStr(op->oprname));
	ReleaseSysCache(tup);
	return result;
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

static int
cmp_tid(const void *a, const void *b)
{
	return ItemPointerCompare((ItemPointer) a, (ItemPointer) b);
}

/* Run a prepared statement with one argument; returns its milliseconds */
static double
TimedRun(SPIPlanPtr plan, Datum arg, RecallMode mode, RecallHit *hits, int *nhits)
{
	instr_time	start,
				elapsed;
	int			nest,
				rc;
	char		isnull = ' ';

	nest = EnterMode(mode);
	INSTR_TIME_SET_CURRENT(start);
	rc = SPI_execute_plan(plan, &arg, &isnull, true, 0);
	INSTR_TIME_SET_CURRENT(elapsed);
	INSTR_TIME_SUBTRACT(elapsed, start);
	LeaveMode(nest);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));

	*nhits = 0;
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		bool		tidnull,
					distnull;
		Datum		tid = SPI_getbinval(tup, SPI_tuptable->tupdesc, 1, &tidnull);
		Datum		dist = SPI_getbinval(tup, SPI_tuptable->tupdesc, 2, &distnull);

		/*
		 * NULL or NaN distances (a zero vector under cosine) are not
		 * distances at all, and such rows are not in the index either.
		 */
		if (tidnull || distnull || isnan(DatumGetFloat8(dist)))
			continue;
		ItemPointerCopy((ItemPointer) DatumGetPointer(tid), &hits[*nhits].tid);
		hits[*nhits].dist = DatumGetFloat8(dist);
		(*nhits)++;
	}
	SPI_freetuptable(SPI_tuptable);
	return INSTR_TIME_GET_MILLISEC(elapsed);
}

/*
 * QueryRecall
 *		Fraction of the exact answer found: the index's distinct rows whose
 *		distance is at most the k-th exact distance (ties count), out of the
 *		number of exact rows.  -1 when the exact answer is empty.
 */
static double
QueryRecall(RecallHit *exact, int nexact, RecallHit *found, int nfound)
{
	double		limit;
	int			good = 0;

	if (nexact == 0)
		return -1;
	limit = exact[nexact - 1].dist;
	qsort(found, nfound, sizeof(RecallHit), cmp_tid);
	for (int i = 0; i < nfound; i++)
	{
		if (i > 0 && ItemPointerEquals(&found[i].tid, &found[i - 1].tid))
			continue;
		if (found[i].dist <= limit)
			good++;
	}
	return (double) Min(good, nexact) / nexact;
}

/* Percentile by nearest rank of sorted values */
static double
Percentile(double *sorted, int n, double p)
{
	int			rank = (int) ceil(p * n);

	if (n == 0)
		return 0;
	return sorted[Max(rank, 1) - 1];
}

/*
 * OpenRecallTarget
 *		Lock the table, then the index (the lock order of everything else),
 *		and refuse what cannot be measured: anything but a valid index of one
 *		of this extension's access methods (funcoid: our own function, to
 *		find the extension whatever its name).
 */
static void
OpenRecallTarget(Oid indexoid, Oid funcoid, Relation *heapp, Relation *indexp)
{
	Oid			heapoid = IndexGetRelation(indexoid, true);
	Relation	heap;
	Relation	index;
	Oid			ourext;

	heap = OidIsValid(heapoid) ? try_table_open(heapoid, AccessShareLock) : NULL;
	index = try_relation_open(indexoid, AccessShareLock);
	if (index == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("could not open relation with OID %u", indexoid)));
	if (index->rd_rel->relkind == RELKIND_PARTITIONED_INDEX)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot measure partitioned index \"%s\"", RelationGetRelationName(index)),
				 errhint("Measure the index of each partition.")));
	if (index->rd_rel->relkind != RELKIND_INDEX)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not an index", RelationGetRelationName(index))));

	/* an index of an access method of this extension, whatever its name */
	ourext = getExtensionOfObject(ProcedureRelationId, funcoid);
	if (!OidIsValid(ourext) ||
		getExtensionOfObject(AccessMethodRelationId, index->rd_rel->relam) != ourext)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not an index of a vecx access method", RelationGetRelationName(index)),
				 errdetail("Its access method is %s.", get_am_name(index->rd_rel->relam))));
	if (heap == NULL || heapoid != IndexGetRelation(indexoid, false))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("could not open table of index \"%s\"", RelationGetRelationName(index))));
	if (!index->rd_index->indisvalid || !index->rd_index->indisready)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("index \"%s\" is not valid", RelationGetRelationName(index))));
	*heapp = heap;
	*indexp = index;
}

/* The pieces of SQL both runs are made of, each usable whatever search_path is */
typedef struct RecallSql
{
	char	   *table;			/* ONLY schema.table */
	char	   *key;			/* the index's key column or expression */
	char	   *op;				/* OPERATOR(schema.op) */
	char	   *pred;			/* the index's predicate, or NULL */
	char	   *where;			/* key not null, predicate, caller's filter */
	Oid			argtype;		/* the operator's right-hand type */
} RecallSql;

static void
BuildRecallSql(Relation heap, Relation index, const char *filter, RecallSql *rs)
{
	Oid			orderop = IndexOrderOperator(index, &rs->argtype);
	StringInfoData buf;

	if (!OidIsValid(orderop))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("index \"%s\" cannot order by distance", RelationGetRelationName(index)),
				 errdetail("The operator class of its first column has no ordering operator.")));

	/* ONLY: the index holds this table's rows, not its inheritance children's */
	rs->table = psprintf("ONLY %s", quote_qualified_identifier(get_namespace_name(RelationGetNamespace(heap)),
															   RelationGetRelationName(heap)));
	rs->key = TextDatumGetCString(DirectFunctionCall3(pg_get_indexdef_ext,
													  ObjectIdGetDatum(RelationGetRelid(index)),
													  Int32GetDatum(1),
													  BoolGetDatum(false)));
	rs->op = OperatorSql(orderop);
	rs->pred = NULL;
	if (!heap_attisnull(index->rd_indextuple, Anum_pg_index_indpred, NULL))
	{
		bool		isnull;
		Datum		pred = SysCacheGetAttr(INDEXRELID, index->rd_indextuple,
										   Anum_pg_index_indpred, &isnull);

		rs->pred = TextDatumGetCString(DirectFunctionCall2(pg_get_expr, pred,
														   ObjectIdGetDatum(RelationGetRelid(heap))));
	}

	/*
	 * The WHERE clause of both runs: the index's predicate (so the planner
	 * can use a partial index) and the caller's filter, on lines of their
	 * own so that a trailing comment in the filter cannot swallow the rest.
	 */
	initStringInfo(&buf);
	appendStringInfo(&buf, "(%s) IS NOT NULL", rs->key);
	if (rs->pred)
		appendStringInfo(&buf, " AND (%s)", rs->pred);
	if (filter[0] != '\0')
		appendStringInfo(&buf, " AND (\n%s\n)", filter);
	rs->where = buf.data;
}

/*
 * ReadQueryVectors
 *		The query vectors: the key column's own values (a type the operator
 *		takes, the opclass's input type or binary-coercible to it), a
 *		deterministic sample spread over the table; or the caller's, cast to
 *		the operator's right-hand type when they are of another type.
 *		Returns SPI's table of them (*nq rows).
 */
static SPITupleTable *
ReadQueryVectors(const RecallSql *rs, const char *queries, int32 sample, uint64 *nq)
{
	StringInfoData buf;
	SPIPlanPtr	qplan;

	initStringInfo(&buf);
	if (queries[0] == '\0')
		appendStringInfo(&buf,
						 "SELECT (%s) FROM %s WHERE (%s) IS NOT NULL%s%s%s "
						 "ORDER BY pg_catalog.hashtext(ctid::pg_catalog.text), ctid LIMIT %d",
						 rs->key, rs->table, rs->key,
						 rs->pred ? " AND (" : "", rs->pred ? rs->pred : "", rs->pred ? ")" : "",
						 sample);
	else
	{
		SPIPlanPtr	check = PrepareSelect(queries, 0, NULL, "queries");
		CachedPlanSource *src = linitial(SPI_plan_get_plan_sources(check));

		if (src->resultDesc == NULL || src->resultDesc->natts != 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("queries must return a single column of query vectors")));
		if (TupleDescAttr(src->resultDesc, 0)->atttypid == rs->argtype)
			appendStringInfo(&buf, "SELECT q.v FROM (\n%s\n) AS q(v)", queries);
		else
		{
			/* typmod -1 given: bit, not bit(1) */
			appendStringInfo(&buf, "SELECT CAST(q.v AS %s) FROM (\n%s\n) AS q(v)",
							 format_type_extended(rs->argtype, -1,
												  FORMAT_TYPE_TYPEMOD_GIVEN |
												  FORMAT_TYPE_FORCE_QUALIFY),
							 queries);
		}
		SPI_freeplan(check);
	}
	qplan = PrepareSelect(buf.data, 0, NULL, "queries");
	if (SPI_execute_plan(qplan, NULL, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the query vectors");
	*nq = SPI_processed;
	if (queries[0] != '\0' && *nq > RECALL_MAX_SAMPLE)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("queries returned more than %d rows", RECALL_MAX_SAMPLE)));
	return SPI_tuptable;
}

/* Refuse a measurement whose index run would not scan the index */
static void
CheckPlanUsesIndex(SPIPlanPtr iplan, Relation index)
{
	int			nest = EnterMode(RECALL_INDEX);
	CachedPlan *cplan = SPI_plan_get_cached_plan(iplan);
	bool		uses = false;
	ListCell   *lc;

	foreach(lc, cplan->stmt_list)
	{
		PlannedStmt *stmt = lfirst_node(PlannedStmt, lc);

		uses |= PlanScansIndex(stmt->planTree, RelationGetRelid(index));
	}
	/* an unsaved plan's cached plan has no resource owner */
	ReleaseCachedPlan(cplan, NULL);
	LeaveMode(nest);
	if (!uses)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("the planner does not scan index \"%s\" for these queries",
						RelationGetRelationName(index)),
				 errhint("The filter may be one the index cannot be used with.")));
}

/*
 * RunQueries
 *		Each query through both plans; fills the seven result columns
 *		(n_queries, recall, recall_min, index mean/p99 ms, exact mean/p99 ms).
 */
static void
RunQueries(SPIPlanPtr iplan, SPIPlanPtr eplan, SPITupleTable *qtable, uint64 nq,
		   int32 k, Datum *values, bool *nulls)
{
	RecallHit  *exact = palloc(sizeof(RecallHit) * k);
	RecallHit  *found = palloc(sizeof(RecallHit) * k);
	double	   *itimes = palloc(sizeof(double) * Max(nq, 1));
	double	   *etimes = palloc(sizeof(double) * Max(nq, 1));
	double		recall_sum = 0;
	double		recall_min = 1;
	int			nrecall = 0;
	int			nrun = 0;
	double		isum = 0,
				esum = 0;

	for (uint64 i = 0; i < nq; i++)
	{
		bool		isnull;
		Datum		q = SPI_getbinval(qtable->vals[i], qtable->tupdesc, 1, &isnull);
		int			nexact,
					nfound;
		double		r;

		if (isnull)
			continue;
		CHECK_FOR_INTERRUPTS();
		itimes[nrun] = TimedRun(iplan, q, RECALL_INDEX, found, &nfound);
		etimes[nrun] = TimedRun(eplan, q, RECALL_EXACT, exact, &nexact);
		isum += itimes[nrun];
		esum += etimes[nrun];
		nrun++;
		r = QueryRecall(exact, nexact, found, nfound);
		if (r >= 0)
		{
			recall_sum += r;
			recall_min = Min(recall_min, r);
			nrecall++;
		}
	}
	qsort(itimes, nrun, sizeof(double), cmp_double);
	qsort(etimes, nrun, sizeof(double), cmp_double);

	values[0] = Int32GetDatum(nrun);
	values[1] = Float8GetDatum(nrecall ? recall_sum / nrecall : 0);
	nulls[1] = nrecall == 0;
	values[2] = Float8GetDatum(recall_min);
	nulls[2] = nrecall == 0;
	values[3] = Float8GetDatum(nrun ? isum / nrun : 0);
	values[4] = Float8GetDatum(Percentile(itimes, nrun, 0.99));
	values[5] = Float8GetDatum(nrun ? esum / nrun : 0);
	values[6] = Float8GetDatum(Percentile(etimes, nrun, 0.99));
	for (int i = 3; i <= 6; i++)
		nulls[i] = nrun == 0;
}

/*
 * vecx_index_recall(index regclass, queries text, k int, filter text,
 *					 sample int)
 *		OUT n_queries int, OUT recall float8, OUT recall_min float8,
 *		OUT index_mean_ms float8, OUT index_p99_ms float8,
 *		OUT exact_mean_ms float8, OUT exact_p99_ms float8
 *
 * queries: a SELECT returning one column of query vectors ('' to sample
 * the table's own rows); filter: a WHERE condition on the table ('' for
 * none); sample: how many rows to sample when queries is ''.
 */
Datum
vecx_index_recall(PG_FUNCTION_ARGS)
{
	Oid			indexoid = PG_GETARG_OID(0);
	char	   *queries = text_to_cstring(PG_GETARG_TEXT_PP(1));
	int32		k = PG_GETARG_INT32(2);
	char	   *filter = text_to_cstring(PG_GETARG_TEXT_PP(3));
	int32		sample = PG_GETARG_INT32(4);
	TupleDesc	resultdesc;
	Relation	heap;
	Relation	index;
	RecallSql	rs;
	Datum		values[7];
	bool		nulls[7] = {false};
	RecallMode	save_mode = recall_mode;
	Oid			save_heap = recall_heap;
	Oid			save_index = recall_index;

	if (get_call_result_type(fcinfo, NULL, &resultdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (k < 1 || k > RECALL_MAX_K)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k must be between 1 and %d", RECALL_MAX_K)));
	if (sample < 1 || sample > RECALL_MAX_SAMPLE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sample must be between 1 and %d", RECALL_MAX_SAMPLE)));

	OpenRecallTarget(indexoid, fcinfo->flinfo->fn_oid, &heap, &index);
	BuildRecallSql(heap, index, filter, &rs);

	SPI_connect();

	PG_TRY();
	{
		SPITupleTable *qtable;
		uint64		nq;
		StringInfoData buf;
		SPIPlanPtr	iplan;
		SPIPlanPtr	eplan;

		recall_heap = RelationGetRelid(heap);
		recall_index = indexoid;
		recall_mode = RECALL_OFF;

		qtable = ReadQueryVectors(&rs, queries, sample, &nq);

		/* both runs: the same statement, planned in their own modes */
		initStringInfo(&buf);
		appendStringInfo(&buf,
						 "SELECT ctid, ((%s) %s $1)::pg_catalog.float8 FROM %s WHERE %s "
						 "ORDER BY (%s) %s $1 LIMIT %d",
						 rs.key, rs.op, rs.table, rs.where, rs.key, rs.op, k);
		iplan = PrepareSelect(buf.data, 1, &rs.argtype, "filter");
		eplan = PrepareSelect(buf.data, 1, &rs.argtype, "filter");
		CheckPlanUsesIndex(iplan, index);

		RunQueries(iplan, eplan, qtable, nq, k, values, nulls);
	}
	PG_FINALLY();
	{
		recall_mode = save_mode;
		recall_heap = save_heap;
		recall_index = save_index;
	}
	PG_END_TRY();

	SPI_finish();

	/* locks are kept to the end of the transaction */
	relation_close(index, NoLock);
	table_close(heap, NoLock);

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(resultdesc, values, nulls)));
}
