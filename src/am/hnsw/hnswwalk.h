/*-------------------------------------------------------------------------
 *
 * hnswwalk.h
 *	  The HNSW layer search and greedy descent, written once over a small
 *	  graph-access interface.
 *
 * Four kinds of graph are walked: index pages and backend-local graph
 * copies (hnswutils.c: scans, inserts, vacuum), the serial build's local
 * memory and the parallel build's DSM (hnswbuild.c).  The algorithm lives
 * here; a kind supplies only how to reach its nodes (HnswWalkOps).
 *
 * The walk functions are always inlined and each kind passes a constant
 * ops table, so the compiler specialises the loop per kind with direct
 * (usually inlined) calls: the hot loops pay nothing for sharing the code.
 * Include this only where a kind is implemented.
 *
 *-------------------------------------------------------------------------
 */
#ifndef HNSWWALK_H
#define HNSWWALK_H

#include "miscadmin.h"

#include "hnsw.h"

/*
 * How a walk reaches the nodes of one kind of graph.  A heap item's idx is
 * the kind's own node handle (a pool entry of an HnswSearch, a build node
 * number).  g is the kind's walk state.
 */
typedef struct HnswWalkOps
{
	/*
	 * Candidate idx comes off the candidate heap: false if it was expanded
	 * already (iterative scans re-push pooled entries), else mark it so.
	 */
	bool		(*claim) (void *g, int32 idx);

	/*
	 * Gather the unvisited neighbours of candidate idx at level, marking
	 * them visited (and starting their reads): returns how many.
	 */
	int			(*expand) (void *g, int32 idx, int level);

	/*
	 * Visit the i'th of the nt gathered neighbours: compute its distance
	 * and decide with HnswWalkAdmits whether it joins the ef results.
	 * Returns true and the heap item (distance, handle) if it does.  A
	 * kind may instead push the node on the candidate heap alone and
	 * return false: the page walk does so for nodes failing a scan's
	 * filter keys, which are walked through but hold no result slot.
	 */
	bool		(*visit) (void *g, int i, int nt, int level, int ef,
						  HnswHeapItem *item);

	/* item idx was pushed off the result heap by a closer node */
	void		(*evict) (void *g, int32 idx);

	/*
	 * Greedy descent: restart the walk at level from the current entry
	 * alone (visited set and heaps cleared, the entry visited and on both
	 * heaps); false if the entry has gone (it stays the answer).
	 */
	bool		(*seed) (void *g, int level);

	/* Greedy descent: the closest result becomes the current entry */
	void		(*settle) (void *g);
} HnswWalkOps;

/* Does a node at dist join a result heap of ef (force: always)? */
static inline bool
HnswWalkAdmits(HnswHeap *res, int ef, float dist, bool force)
{
	return force || res->n < ef || dist < HnswHeapTop(res)->dist;
}

/*
 * HnswWalkLayer
 *		Best-first search of one layer (the paper's Algorithm 2) from the
 *		entries already on the candidate heap: expand the closest candidate
 *		until none is closer than the ef'th result.  The candidate heap is
 *		only peeked at when the walk stops, so an iterative scan can resume
 *		from what is left.
 */
static pg_attribute_always_inline void
HnswWalkLayer(const HnswWalkOps *ops, void *g, HnswHeap *cand, HnswHeap *res,
			  int level, int ef)
{
	while (cand->n > 0)
	{
		HnswHeapItem c = *HnswHeapTop(cand);
		int			nt,
					i;

		if (res->n >= ef && c.dist > HnswHeapTop(res)->dist)
			break;
		HnswHeapPop(cand);
		if (!ops->claim(g, c.idx))
			continue;
		nt = ops->expand(g, c.idx, level);
		for (i = 0; i < nt; i++)
		{
			HnswHeapItem it;

			if (!ops->visit(g, i, nt, level, ef, &it))
				continue;
			HnswHeapPush(cand, it.dist, it.idx);
			HnswHeapPush(res, it.dist, it.idx);
			if (res->n > ef)
				ops->evict(g, HnswHeapPop(res).idx);
		}
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * HnswWalkDescend
 *		Greedy descent from the current entry at entryLevel down to
 *		targetLevel + 1: at each level a walk with ef = 1 from the entry,
 *		whose closest node becomes the entry of the next level.
 */
static pg_attribute_always_inline void
HnswWalkDescend(const HnswWalkOps *ops, void *g, HnswHeap *cand, HnswHeap *res,
				int entryLevel, int targetLevel)
{
	int			level;

	for (level = entryLevel; level > targetLevel; level--)
	{
		if (!ops->seed(g, level))
			break;
		HnswWalkLayer(ops, g, cand, res, level, 1);
		ops->settle(g);
	}
}

#endif							/* HNSWWALK_H */
