/*-------------------------------------------------------------------------
 *
 * vecxplan.h
 *	  Filter conditions PostgreSQL's planner does not hand a vecx index.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECX_VECXPLAN_H
#define VECX_VECXPLAN_H

#include "access/amapi.h"

extern void VecxPlanRegisterAm(amcostestimate_function costfn);
extern bool VecxPlanIsVecxCost(amcostestimate_function costfn);
extern void VecxPlanInit(void);

/* vecxjunk.c */
extern void VecxJunkInit(void);

#endif							/* VECX_VECXPLAN_H */
