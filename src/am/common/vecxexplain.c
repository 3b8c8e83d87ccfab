/*-------------------------------------------------------------------------
 *
 * vecxexplain.c
 *	  EXPLAIN ANALYZE says how each vecx index scan searched.
 *
 * One hnsw scan may walk the graph, read its filter map and score just the
 * matching rows, or end in an exact pass over the whole index; an ivfpq
 * scan probes some lists and re-ranks some candidates.  Which of these ran
 * decides both the time and the recall of a query, so EXPLAIN ANALYZE adds
 * a line to every vecx index scan in its text output:
 *
 *	 ->  Index Scan using items_v_label on items (actual ...)
 *		   Vector Search: graph walk, 1 further batch; distances=1214
 *		   Index Cond: (label = 3)
 *
 * PostgreSQL 15 has no hook into a plan node's EXPLAIN details, so three
 * hooks cooperate:
 *
 * - ExplainOneQuery_hook plans the query as PostgreSQL does (its code is
 *	 in the else branch the hook replaces) and remembers the ExplainState
 *	 while ExplainOnePlan runs, when the options are ANALYZE, text format;
 * - ExecutorFinish_hook, which ExplainOnePlan calls after running the
 *	 plan and before printing it, walks the plan state tree and asks each
 *	 vecx index scan's access method for its line (VecxExplainRegisterAm),
 *	 in tree order;
 * - explain_get_index_name_hook, called while a scan's "Index Scan using"
 *	 line is printed, notes where that line is in the output; when
 *	 ExplainOnePlan returns, each noted line gets its scan's line below it,
 *	 indented as the node's details are.
 *
 * Lines are matched to scans by index and order: ExplainNode prints scans
 * in the order the walker visits them (init plans, outer, inner, sub
 * plans).  Other formats (JSON, YAML, XML), plain EXPLAIN, EXPLAIN EXECUTE
 * and auto_explain, which do not pass through ExplainOneQuery_hook, are
 * left unchanged.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relscan.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "lib/stringinfo.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/planner.h"
#include "tcop/tcopprot.h"
#include "utils/rel.h"

#include "vecxexplain.h"

#define VECX_EXPLAIN_MAX_AMS	4

typedef struct ExplainAm
{
	amcostestimate_function costfn; /* names the AM (vecxplan.c) */
	VecxExplainScanFn fn;
} ExplainAm;

/* A scan's line, and where its node's line was printed */
typedef struct ScanLine
{
	Oid			indexoid;
	char	   *text;
	int			at;				/* offset in the output, or -1 */
} ScanLine;

static ExplainAm explain_ams[VECX_EXPLAIN_MAX_AMS];
static int	explain_am_count = 0;

static ExplainOneQuery_hook_type prev_explain_one_query = NULL;
static ExecutorFinish_hook_type prev_executor_finish = NULL;
static explain_get_index_name_hook_type prev_index_name = NULL;

/*
 * The EXPLAIN ANALYZE in progress (text format), its scans' lines, and the
 * memory they live in: the EXPLAIN's own, which outlives the queries run
 * inside the explained one (functions, triggers), whose ExecutorFinish
 * also passes here before the explained query's.
 */
static ExplainState *cur_es = NULL;
static List *cur_lines = NIL;
static MemoryContext cur_cxt = NULL;

/*
 * VecxExplainRegisterAm
 *		An AM (named by its cost estimate function, as in vecxplan.c) says
 *		how to describe one of its scans.
 */
void
VecxExplainRegisterAm(amcostestimate_function costfn, VecxExplainScanFn fn)
{
	for (int i = 0; i < explain_am_count; i++)
		if (explain_ams[i].costfn == costfn)
			return;
	if (explain_am_count >= VECX_EXPLAIN_MAX_AMS)
		elog(ERROR, "too many vecx access methods registered");
	explain_ams[explain_am_count].costfn = costfn;
	explain_ams[explain_am_count].fn = fn;
	explain_am_count++;
}

static VecxExplainScanFn
ExplainFnFor(Relation index)
{
	for (int i = 0; i < explain_am_count; i++)
		if (index->rd_indam->amcostestimate == explain_ams[i].costfn)
			return explain_ams[i].fn;
	return NULL;
}

/* Collect a line for every vecx index scan of a plan state tree */
static bool
CollectScanLines(PlanState *ps, void *context)
{
	if (ps == NULL)
		return false;
	if (IsA(ps, IndexScanState))
	{
		IndexScanDesc scan = ((IndexScanState *) ps)->iss_ScanDesc;
		VecxExplainScanFn fn = scan != NULL ? ExplainFnFor(scan->indexRelation) : NULL;

		if (fn != NULL)
		{
			StringInfoData buf;
			ScanLine   *line = palloc(sizeof(ScanLine));

			initStringInfo(&buf);
			fn(scan, &buf);
			line->indexoid = RelationGetRelid(scan->indexRelation);
			line->text = buf.data;
			line->at = -1;
			cur_lines = lappend(cur_lines, line);
		}
	}
	return planstate_tree_walker(ps, CollectScanLines, context);
}

/*
 * The top-level query of the EXPLAIN ANALYZE finishes last (queries run
 * inside it, by functions or triggers, finish before it): its lines are the
 * ones left when printing starts.
 */
static void
VecxExecutorFinish(QueryDesc *queryDesc)
{
	if (prev_executor_finish)
		prev_executor_finish(queryDesc);
	else
		standard_ExecutorFinish(queryDesc);
	if (cur_es != NULL && queryDesc->planstate != NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(cur_cxt);

		cur_lines = NIL;		/* an inner query's, left to the context */
		(void) CollectScanLines(queryDesc->planstate, NULL);
		MemoryContextSwitchTo(old);
	}
}

/* Note where the node line of a scan with a line is being printed */
static const char *
VecxIndexName(Oid indexId)
{
	ListCell   *lc;

	if (cur_es != NULL)
	{
		foreach(lc, cur_lines)
		{
			ScanLine   *line = lfirst(lc);

			if (line->indexoid == indexId && line->at < 0)
			{
				line->at = cur_es->str->len;
				break;
			}
		}
	}
	return prev_index_name ? prev_index_name(indexId) : NULL;
}

static int
CompareAt(const ListCell *a, const ListCell *b)
{
	int			x = ((ScanLine *) lfirst(a))->at;
	int			y = ((ScanLine *) lfirst(b))->at;

	return (x > y) - (x < y);
}

/*
 * Rewrite str with each noted scan's line after its node's line, in one
 * pass in output order.  A node's details are indented two columns past
 * the start of its name (after the "->  " arrow, if any).
 */
static void
InsertScanLines(StringInfo str, List *lines)
{
	StringInfoData out;
	ListCell   *lc;
	int			copied = 0;

	list_sort(lines, CompareAt);
	initStringInfo(&out);
	foreach(lc, lines)
	{
		ScanLine   *line = lfirst(lc);
		char	   *eol;
		int			start,
					col,
					after;

		if (line->at < copied || line->at > str->len)
			continue;			/* not printed (-1), or out of range */
		eol = memchr(str->data + line->at, '\n', str->len - line->at);
		if (eol == NULL)
			continue;
		after = eol - str->data + 1;
		for (start = line->at; start > 0 && str->data[start - 1] != '\n'; start--)
			;
		col = 0;
		while (start + col < line->at && str->data[start + col] == ' ')
			col++;
		if (strncmp(str->data + start + col, "->  ", 4) == 0)
			col += 4;

		appendBinaryStringInfo(&out, str->data + copied, after - copied);
		appendStringInfoSpaces(&out, col + 2);
		appendStringInfo(&out, "Vector Search: %s\n", line->text);
		copied = after;
	}
	appendBinaryStringInfo(&out, str->data + copied, str->len - copied);
	resetStringInfo(str);
	appendBinaryStringInfo(str, out.data, out.len);
	pfree(out.data);
}

/* PostgreSQL's own planning of an EXPLAINed query (explain.c) */
static void
PlanAndExplain(Query *query, int cursorOptions, IntoClause *into,
			   ExplainState *es, const char *queryString,
			   ParamListInfo params, QueryEnvironment *queryEnv)
{
	PlannedStmt *plan;
	instr_time	planstart,
				planduration;
	BufferUsage bufusage_start,
				bufusage;

	if (prev_explain_one_query)
	{
		prev_explain_one_query(query, cursorOptions, into, es, queryString,
							   params, queryEnv);
		return;
	}
	if (es->buffers)
		bufusage_start = pgBufferUsage;
	INSTR_TIME_SET_CURRENT(planstart);
	plan = pg_plan_query(query, queryString, cursorOptions, params);
	INSTR_TIME_SET_CURRENT(planduration);
	INSTR_TIME_SUBTRACT(planduration, planstart);
	if (es->buffers)
	{
		memset(&bufusage, 0, sizeof(BufferUsage));
		BufferUsageAccumDiff(&bufusage, &pgBufferUsage, &bufusage_start);
	}
	ExplainOnePlan(plan, into, es, queryString, params, queryEnv,
				   &planduration, (es->buffers ? &bufusage : NULL));
}

static void
VecxExplainOneQuery(Query *query, int cursorOptions, IntoClause *into,
					ExplainState *es, const char *queryString,
					ParamListInfo params, QueryEnvironment *queryEnv)
{
	ExplainState *save_es = cur_es;
	List	   *save_lines = cur_lines;
	MemoryContext save_cxt = cur_cxt;

	if (!es->analyze || es->format != EXPLAIN_FORMAT_TEXT || explain_am_count == 0)
	{
		PlanAndExplain(query, cursorOptions, into, es, queryString, params, queryEnv);
		return;
	}
	cur_es = es;
	cur_lines = NIL;
	cur_cxt = CurrentMemoryContext;
	PG_TRY();
	{
		PlanAndExplain(query, cursorOptions, into, es, queryString, params, queryEnv);
		InsertScanLines(es->str, cur_lines);
	}
	PG_FINALLY();
	{
		cur_es = save_es;
		cur_lines = save_lines;
		cur_cxt = save_cxt;
	}
	PG_END_TRY();
}

/* VecxExplainInit: called from _PG_init */
void
VecxExplainInit(void)
{
	prev_explain_one_query = ExplainOneQuery_hook;
	ExplainOneQuery_hook = VecxExplainOneQuery;
	prev_executor_finish = ExecutorFinish_hook;
	ExecutorFinish_hook = VecxExecutorFinish;
	prev_index_name = explain_get_index_name_hook;
	explain_get_index_name_hook = VecxIndexName;
}
