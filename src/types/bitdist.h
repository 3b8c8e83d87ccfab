/*-------------------------------------------------------------------------
 *
 * bitdist.h
 *	  Hamming and Jaccard distances of packed bit strings.
 *
 * The bit operators and the hnsw index both call these, so an index ranks
 * rows by exactly the values the operators return.  a and b are nbytes
 * bytes of bits with their padding bits zero (as PostgreSQL keeps them).
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECX_BITDIST_H
#define VECX_BITDIST_H

#include "postgres.h"

extern double VecxBitHamming(const uint8 *a, const uint8 *b, Size nbytes);
extern double VecxBitJaccard(const uint8 *a, const uint8 *b, Size nbytes);

#endif							/* VECX_BITDIST_H */
