/*-------------------------------------------------------------------------
 *
 * vecxfilter.h
 *	  Filter key columns shared by every vecx index AM.
 *
 * A vecx index may have extra key columns after its vector column
 * (USING hnsw (v vector_l2_ops, label, bucket)).  Each index entry then
 * carries a fixed-size filter payload: a uint32 null bitmap and one 8-byte
 * slot per filter column.  Scan keys on those columns are prepared once per
 * scan and tested against payloads without fmgr calls.  Where the payload
 * sits in an entry is each AM's business; this module only forms, prepares,
 * matches and validates.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECX_VECXFILTER_H
#define VECX_VECXFILTER_H

#include "access/skey.h"
#include "nodes/pathnodes.h"
#include "utils/relcache.h"

/* Filter strategies (operator class strategy numbers) */
#define VECX_FILTER_LT			1
#define VECX_FILTER_LE			2
#define VECX_FILTER_EQ			3
#define VECX_FILTER_GE			4
#define VECX_FILTER_GT			5
#define VECX_FILTER_OVERLAP		6	/* int4[] && */
#define VECX_FILTER_CONTAINS	7	/* int4[] @> */
#define VECX_FILTER_NSTRAT		7

/* Null tests (IS NULL / IS NOT NULL scan keys): not opclass strategies */
#define VECX_FILTER_ISNULL		100
#define VECX_FILTER_NOTNULL		101

/* How a filter column's value is kept in its 8-byte slot */
#define VECX_FKIND_INT			1	/* exact, as int64: full order */
#define VECX_FKIND_HASH			2	/* 64-bit hash: equality, lossy */
#define VECX_FKIND_SIG			3	/* int4[] 64-bit signature: lossy */

/* Most filter columns an index can have (the null bitmap is a uint32) */
#define VECX_MAX_FILTER_COLS	31

/* Payload: uint32 null bitmap, then 8 bytes per filter column */
static inline Size
VecxFilterBytes(int nfilter)
{
	return nfilter > 0 ? 4 + 8 * (Size) nfilter : 0;
}

/*
 * One prepared scan key.  A key from "col op ANY (array)" keeps every
 * non-null element when it takes more than one (nargs > 1: equality, sorted
 * and distinct for a binary search; signature keys as given); an ANY of an
 * order comparison is reduced to one bound (col < ANY (a) is col < max(a)).
 */
typedef struct VecxFilterKey
{
	int			col;			/* filter column, 0-based */
	int			strategy;		/* VECX_FILTER_* */
	int			kind;
	int64		arg;			/* the argument, or args[0] */
	int			nargs;			/* 1, or the elements of an ANY array */
	int64	   *args;			/* nargs > 1 only */
} VecxFilterKey;

typedef struct VecxFilter
{
	int			nkeys;
	bool		empty;			/* some key can never match (NULL argument) */
	bool		lossy;			/* some key needs a heap recheck */
	VecxFilterKey keys[FLEXIBLE_ARRAY_MEMBER];
} VecxFilter;

/* Index shape */
extern int	VecxFilterKind(Oid typid);
extern int	VecxFilterColumns(Relation index);
extern void VecxCheckFilterColumns(Relation index, const char *amname, uint16 vecproc);
extern bool VecxValidateFilterOpclass(Oid opclassoid);

/* Payload of one heap tuple (values/isnull of the index columns) */
extern void VecxFormFilter(Relation index, Datum *values, bool *isnull, char *out);

/* Scan keys */
extern VecxFilter *VecxFilterPrepare(Relation index, ScanKey keys, int nkeys);
extern bool VecxFilterMatch(const VecxFilter *f, const char *payload);
extern bool VecxFilterKeyMatch(const VecxFilterKey *k, int64 v);

/* Planner: selectivity of the quals the index checks, and of all */
extern bool VecxFilterSelectivity(PlannerInfo *root, IndexPath *path, double ntuples,
								  double *sIdx, double *sAll);

#endif							/* VECX_VECXFILTER_H */
