/*-------------------------------------------------------------------------
 *
 * hnswvalidate.c
 *	  Opclass validator for hnsw.
 *
 * An hnsw opclass has one ordering operator (strategy 1, ORDER BY,
 * returning float8), support function 1 (the SQL distance function of two
 * opclass-type arguments) and support function 3 (the info function,
 * internal -> internal).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/amvalidate.h"
#include "access/htup_details.h"
#include "catalog/pg_amop.h"
#include "catalog/pg_amproc.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/regproc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "vecx_range.h"
#include "hnsw.h"
#include "hnswfilter.h"

bool
hnswvalidate(Oid opclassoid)
{
	bool		result = true;
	HeapTuple	classtup;
	Form_pg_opclass classform;
	Oid			opfamilyoid;
	Oid			opcintype;
	char	   *opclassname;
	CatCList   *proclist,
			   *oprlist;
	int			i;
	bool		hasInfo = false;
	bool		hasOp = false;

	classtup = SearchSysCache1(CLAOID, ObjectIdGetDatum(opclassoid));
	if (!HeapTupleIsValid(classtup))
		elog(ERROR, "cache lookup failed for operator class %u", opclassoid);
	classform = (Form_pg_opclass) GETSTRUCT(classtup);
	opfamilyoid = classform->opcfamily;
	opcintype = classform->opcintype;
	opclassname = NameStr(classform->opcname);

	/* filter column opclasses (hnswfilter.c) */
	if (HnswFilterKind(opcintype) != 0)
	{
		ReleaseSysCache(classtup);
		return HnswValidateFilterOpclass(opclassoid);
	}

	proclist = SearchSysCacheList1(AMPROCNUM, ObjectIdGetDatum(opfamilyoid));
	for (i = 0; i < proclist->n_members; i++)
	{
		Form_pg_amproc procform = (Form_pg_amproc) GETSTRUCT(&proclist->members[i]->tuple);
		bool		ok;

		if (procform->amproclefttype != opcintype || procform->amprocrighttype != opcintype)
			continue;
		switch (procform->amprocnum)
		{
			case HNSW_DISTANCE_PROC:
				ok = check_amproc_signature(procform->amproc, FLOAT8OID, true,
											2, 2, opcintype, opcintype);
				break;
			case HNSW_INFO_PROC:
				ok = check_amproc_signature(procform->amproc, INTERNALOID, true,
											1, 1, INTERNALOID);
				hasInfo = true;
				break;
			default:
				ereport(INFO,
						(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
						 errmsg("hnsw operator class \"%s\" contains invalid support function number %d",
								opclassname, procform->amprocnum)));
				result = false;
				continue;
		}
		if (!ok)
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("hnsw operator class \"%s\" contains function %s with wrong signature for support number %d",
							opclassname, format_procedure(procform->amproc),
							procform->amprocnum)));
			result = false;
		}
	}

	oprlist = SearchSysCacheList1(AMOPSTRATEGY, ObjectIdGetDatum(opfamilyoid));
	for (i = 0; i < oprlist->n_members; i++)
	{
		Form_pg_amop oprform = (Form_pg_amop) GETSTRUCT(&oprlist->members[i]->tuple);

		if (oprform->amoplefttype != opcintype)
			continue;
		/* strategy 2: the range search operator (src/vecx_range.c) */
		if (oprform->amopstrategy == VECX_RANGE_STRATEGY &&
			oprform->amoppurpose == AMOP_SEARCH &&
			check_amop_signature(oprform->amopopr, BOOLOID,
								 oprform->amoplefttype, oprform->amoprighttype))
			continue;
		if (oprform->amopstrategy != 1 || oprform->amoppurpose != AMOP_ORDER ||
			oprform->amopsortfamily == InvalidOid ||
			!check_amop_signature(oprform->amopopr, FLOAT8OID,
								  oprform->amoplefttype, oprform->amoprighttype))
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("hnsw operator class \"%s\" contains invalid operator %s",
							opclassname, format_operator(oprform->amopopr))));
			result = false;
		}
		else
			hasOp = true;
	}

	if (!hasInfo || !hasOp)
	{
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("hnsw operator class \"%s\" is missing its ordering operator or info function",
						opclassname)));
		result = false;
	}

	ReleaseCatCacheList(proclist);
	ReleaseCatCacheList(oprlist);
	ReleaseSysCache(classtup);
	return result;
}
