/*-------------------------------------------------------------------------
 *
 * vecxexplain.h
 *	  EXPLAIN ANALYZE says how each vecx index scan searched.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECX_VECXEXPLAIN_H
#define VECX_VECXEXPLAIN_H

#include "access/amapi.h"
#include "access/relscan.h"
#include "lib/stringinfo.h"

/*
 * Append what a scan did, over all its loops so far, to out: one line, no
 * newline (printed as "Vector Search: ..." under the scan's node).
 */
typedef void (*VecxExplainScanFn) (IndexScanDesc scan, StringInfo out);

extern void VecxExplainRegisterAm(amcostestimate_function costfn,
								  VecxExplainScanFn fn);
extern void VecxExplainInit(void);

/* "name" or "name xN" for a strategy that ran n times in loops loops */
static inline void
VecxExplainStrategy(StringInfo out, const char *name, int64 n, int64 loops)
{
	if (n <= 0)
		return;
	if (out->len > 0)
		appendStringInfoString(out, ", ");
	appendStringInfoString(out, name);
	if (loops > 1)
		appendStringInfo(out, " x" INT64_FORMAT, n);
}

#endif							/* VECX_VECXEXPLAIN_H */
