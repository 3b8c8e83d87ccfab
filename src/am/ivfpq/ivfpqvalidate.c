/*-------------------------------------------------------------------------
 *
 * ivfpqvalidate.c
 *	  Operator class validator for ivfpq and ivfflat.
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
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"

#include "vecx_range.h"
#include "ivfpq.h"
#include "am/common/vecxfilter.h"

static bool
IvfValidate(Oid opclassoid, const char *amname, bool filters)
{
	bool		result = true;
	HeapTuple	classtup;
	Form_pg_opclass classform;
	Oid			opfamilyoid;
	Oid			opcintype;
	char	   *opclassname;
	CatCList   *proclist,
			   *oprlist;
	bool		hasproc = false;
	bool		hasop = false;
	int			i;

	classtup = SearchSysCache1(CLAOID, ObjectIdGetDatum(opclassoid));
	if (!HeapTupleIsValid(classtup))
		elog(ERROR, "cache lookup failed for operator class %u", opclassoid);
	classform = (Form_pg_opclass) GETSTRUCT(classtup);
	opfamilyoid = classform->opcfamily;
	opcintype = classform->opcintype;
	opclassname = NameStr(classform->opcname);

	/* filter column opclasses: common to every AM (common/vecxfilter.c) */
	if (filters && VecxFilterKind(opcintype) != 0)
	{
		ReleaseSysCache(classtup);
		return VecxValidateFilterOpclass(opclassoid);
	}

	proclist = SearchSysCacheList1(AMPROCNUM, ObjectIdGetDatum(opfamilyoid));
	oprlist = SearchSysCacheList1(AMOPSTRATEGY, ObjectIdGetDatum(opfamilyoid));

	for (i = 0; i < proclist->n_members; i++)
	{
		Form_pg_amproc procform = (Form_pg_amproc) GETSTRUCT(&proclist->members[i]->tuple);

		if (procform->amprocnum != IVFPQ_INFO_PROC ||
			!check_amproc_signature(procform->amproc, INTERNALOID, false, 1, 1, INTERNALOID))
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("%s operator family contains function %s with invalid support number %d or signature",
							amname, format_procedure(procform->amproc), procform->amprocnum)));
			result = false;
		}
		else if (procform->amproclefttype == opcintype &&
				 procform->amprocrighttype == opcintype)
			hasproc = true;
	}

	for (i = 0; i < oprlist->n_members; i++)
	{
		Form_pg_amop oprform = (Form_pg_amop) GETSTRUCT(&oprlist->members[i]->tuple);

		/* strategy 2: the range search operator (src/vecx_range.c) */
		if (oprform->amopstrategy == VECX_RANGE_STRATEGY &&
			oprform->amoppurpose == AMOP_SEARCH &&
			check_amop_signature(oprform->amopopr, BOOLOID,
								 oprform->amoplefttype, oprform->amoprighttype))
			continue;
		if (oprform->amopstrategy != 1 ||
			oprform->amoppurpose != AMOP_ORDER ||
			!check_amop_signature(oprform->amopopr, FLOAT8OID,
								  oprform->amoplefttype, oprform->amoprighttype))
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("%s operator family contains invalid operator %s: only an ordering operator returning double precision with strategy 1 is allowed",
							amname, format_operator(oprform->amopopr))));
			result = false;
		}
		else if (oprform->amoplefttype == opcintype &&
				 oprform->amoprighttype == opcintype)
			hasop = true;
	}

	if (!hasproc || !hasop)
	{
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("%s operator class \"%s\" needs support function 1 and ordering operator 1",
						amname, opclassname)));
		result = false;
	}

	ReleaseCatCacheList(proclist);
	ReleaseCatCacheList(oprlist);
	ReleaseSysCache(classtup);
	return result;
}

bool
ivfpqvalidate(Oid opclassoid)
{
	return IvfValidate(opclassoid, "ivfpq", true);
}

/* ivfflat indexes have one column: no filter operator classes */
bool
ivfflatvalidate(Oid opclassoid)
{
	return IvfValidate(opclassoid, "ivfflat", false);
}
