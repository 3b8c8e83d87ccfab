/*-------------------------------------------------------------------------
 *
 * ivfflat.c
 *	  The ivfflat access method: ivfpq's inverted lists holding whole
 *	  vectors (the FLAT list encoding), scored exactly by the scan.
 *
 * Only what makes ivfflat an access method of its own lives here: the
 * handler, its reloption (lists), its settings (ivfflat.probes,
 * ivfflat.iterative_scan, ivfflat.max_probes) and the info functions of
 * its operator classes.  Build, insert, scan, vacuum, cost estimate,
 * validation and vecx_index_check are ivfpq's callbacks; they tell the
 * two apart by the handler's reloptions parser (IvfpqIndexEncoding) and
 * by the encoding recorded in the metapage.  See src/am/ivfpq/README.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/amapi.h"
#include "access/reloptions.h"
#include "commands/progress.h"
#include "commands/vacuum.h"
#include "fmgr.h"
#include "utils/guc.h"

#include "ivfpq.h"

int			ivfflat_probes = 1;
int			ivfflat_max_probes = IVFPQ_MAX_LISTS;
int			ivfflat_iterative_scan = IVFPQ_ITERATIVE_OFF;

/* off and relaxed_order as the reference extension; strict_order is ours */
static const struct config_enum_entry ivfflat_iterative_options[] = {
	{"off", IVFPQ_ITERATIVE_OFF, false},
	{"relaxed_order", IVFPQ_ITERATIVE_RELAXED, false},
	{"strict_order", IVFPQ_ITERATIVE_STRICT, false},
	{NULL, 0, false}
};

static relopt_kind ivfflat_relopt_kind;

/*
 * IvfflatInit
 *		Reloption and settings; called by _PG_init.
 */
void
IvfflatInit(void)
{
	ivfflat_relopt_kind = add_reloption_kind();
	add_int_reloption(ivfflat_relopt_kind, "lists",
					  "Number of inverted lists",
					  IVFPQ_DEFAULT_LISTS, IVFPQ_MIN_LISTS, IVFPQ_MAX_LISTS,
					  AccessExclusiveLock);

	DefineCustomIntVariable("ivfflat.probes",
							"Sets the number of probes.",
							"Lists an ivfflat index scan visits; higher values give better recall and slower scans.",
							&ivfflat_probes, 1, 1, IVFPQ_MAX_LISTS,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomEnumVariable("ivfflat.iterative_scan",
							 "Sets the mode for iterative scans.",
							 "off (default) returns only the rows of the ivfflat.probes nearest lists; "
							 "relaxed_order goes on into further lists while the query needs rows, "
							 "possibly out of order between lists; strict_order goes on in exact "
							 "order but for at most one step back.",
							 &ivfflat_iterative_scan, IVFPQ_ITERATIVE_OFF, ivfflat_iterative_options,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("ivfflat.max_probes",
							"Sets the max number of probes for iterative scans.",
							"An iterative scan stops after this many lists (a value below ivfflat.probes "
							"counts as ivfflat.probes).",
							&ivfflat_max_probes, IVFPQ_MAX_LISTS, 1, IVFPQ_MAX_LISTS,
							PGC_USERSET, 0, NULL, NULL, NULL);
	MarkGUCPrefixReserved("ivfflat");
}

bytea *
ivfflatoptions(Datum reloptions, bool validate)
{
	static const relopt_parse_elt tab[] = {
		{"lists", RELOPT_TYPE_INT, offsetof(IvfflatOptions, lists)},
	};

	return (bytea *) build_reloptions(reloptions, validate, ivfflat_relopt_kind,
									  sizeof(IvfflatOptions), tab, lengthof(tab));
}

static char *
ivfflatbuildphasename(int64 phasenum)
{
	switch (phasenum)
	{
		case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
			return "initializing";
		case IVFPQ_PHASE_SAMPLE:
			return "sampling rows";
		case IVFPQ_PHASE_KMEANS:
			return "performing k-means";
		case IVFPQ_PHASE_LOAD:
			return "assigning tuples";
		default:
			return NULL;
	}
}

PG_FUNCTION_INFO_V1(ivfflathandler);
Datum
ivfflathandler(PG_FUNCTION_ARGS)
{
	/* one column, as the reference extension */
	IndexAmRoutine *amroutine = IvfpqMakeRoutine(false);

	amroutine->amoptions = ivfflatoptions;
	amroutine->amvalidate = ivfflatvalidate;
	amroutine->ambuildphasename = ivfflatbuildphasename;
	PG_RETURN_POINTER(amroutine);
}

/* Support function 1 of each operator class (common/vecxam.h) */
VECX_OPINFO_FUNC(ivfflat_vector_l2_support, VECX_ELEM_F32, VECX_METRIC_L2)
VECX_OPINFO_FUNC(ivfflat_vector_ip_support, VECX_ELEM_F32, VECX_METRIC_IP)
VECX_OPINFO_FUNC(ivfflat_vector_cosine_support, VECX_ELEM_F32, VECX_METRIC_COSINE)
VECX_OPINFO_FUNC(ivfflat_halfvec_l2_support, VECX_ELEM_F16, VECX_METRIC_L2)
VECX_OPINFO_FUNC(ivfflat_halfvec_ip_support, VECX_ELEM_F16, VECX_METRIC_IP)
VECX_OPINFO_FUNC(ivfflat_halfvec_cosine_support, VECX_ELEM_F16, VECX_METRIC_COSINE)
VECX_OPINFO_FUNC(ivfflat_bit_hamming_support, VECX_ELEM_BIT, VECX_METRIC_HAMMING)
