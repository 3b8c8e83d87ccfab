/*-------------------------------------------------------------------------
 *
 * hnswinsert.h
 *	  The HNSW insertion, written once over a small graph-access interface.
 *
 * Three kinds of graph take insertions: the index on disk (hnswinsert.c:
 * aminsert and a build that spilled), the serial build's local memory and
 * the parallel build's DSM (hnswbuild.c).  The steps are the same for all
 * (README, "One walk, four graphs"): the greedy descent and a search per
 * level (each kind runs them with the walk of hnswwalk.h), duplicates,
 * the neighbour heuristic, the identical-vector splice, storing the node
 * and the backlinks, a full list being re-selected and rewritten only if
 * it did not change meanwhile.  A kind supplies only how to reach its
 * nodes (HnswGraphOps); as in hnswwalk.h the functions are always inlined
 * and each kind passes a constant ops table.
 *
 * The node is stored only once every level has been searched and its
 * lists chosen, then the backlinks follow, level by level, the splice
 * last: on disk that makes the node one WAL record written before any
 * page points to it (README, "Insert and lock order").
 *
 *-------------------------------------------------------------------------
 */
#ifndef HNSWINSERT_H
#define HNSWINSERT_H

#include "hnsw.h"

/*
 * A node of the graph being inserted into: a build node number, or the
 * location of a node on disk (HnswTidRef).
 */
typedef uint64 HnswRef;

#define HNSW_NOREF	PG_UINT64_MAX

static inline HnswRef
HnswTidRef(const ItemPointerData *tid)
{
	return ((uint64) ItemPointerGetBlockNumberNoCheck(tid) << 16) |
		ItemPointerGetOffsetNumberNoCheck(tid);
}

static inline void
HnswRefTid(HnswRef r, ItemPointerData *tid)
{
	ItemPointerSet(tid, (BlockNumber) (r >> 16), (OffsetNumber) (r & 0xFFFF));
}

/*
 * An insertion's state: the candidates of a selection (the results of a
 * level's search, or a full list and the new node), and the plan (the
 * lists chosen per level and the splice) that the node is stored with.
 */
typedef struct HnswInsertWork
{
	const HnswDist *d;
	int			m;
	int			efc;
	int			attempts;		/* rewrites of a list that keeps changing */

	/* candidates: n, closest first */
	int			n;
	HnswRef    *ref;
	float	   *dist;
	char	  **vec;
	int		   *pick;			/* the heuristic's choice, into the above */
	HnswHeap	order;			/* sorts a full list's candidates */
	HnswRef    *cref;			/* a full list's candidates, unsorted */
	char	  **cvec;

	/* the plan: lists of levels top..0 */
	int			top;			/* -1: the graph was empty */
	HnswRef    *sel;			/* level l at HnswLevelStart(m, l) */
	float	   *seldist;
	int			nsel[HNSW_MAX_LEVEL + 1];
	HnswRef		spliceP;		/* the identical-vector splice, or NOREF */
	HnswRef		spliceQ;

	/* a list being extended: as read, as rewritten */
	HnswRef    *old;
	HnswRef    *upd;
	char	   *vecbuf;			/* 2m + 2 vectors when the kind copies them */
} HnswInsertWork;

/* How an insertion reaches the nodes of one kind of graph (g: its state) */
typedef struct HnswGraphOps
{
	/*
	 * The entry point and its level (serialised against other entries by
	 * the kind); false if the graph is empty.  A build's node self becomes
	 * the entry point then.
	 */
	bool		(*entry) (void *g, HnswRef self, HnswRef *ep, int *epLevel);

	/* Greedy descent for q from ep down to level top + 1 */
	void		(*descend) (void *g, const char *q, HnswRef ep, int epLevel, int top);

	/*
	 * Search level (ef = efc) from the results of the level above (or of
	 * the descent), self never visited; put into w's candidates the
	 * results a node may link to (live ones), closest first, with their
	 * vectors.  Returns how many.
	 */
	int			(*search) (void *g, HnswInsertWork *w, HnswRef self, int level);

	/*
	 * Node dup holds self's vector: add self's heap TID to it if it is
	 * live, has room and the filter payloads agree (true).
	 */
	bool		(*takeDuplicate) (void *g, HnswRef dup, HnswRef self);

	/*
	 * Copy node n's list at level into out[] and return its length; with
	 * vec, *vec its vector (copied into vecbuf if the kind copies).  -1 if
	 * the node is free or below level.
	 */
	int			(*readList) (void *g, HnswRef n, int level, HnswRef *out,
							 char *vecbuf, const char **vec);

	/*
	 * The vector of node n if it is live and of at least level (copied
	 * into buf if the kind copies), else NULL.
	 */
	const char *(*readVec) (void *g, HnswRef n, int level, char *buf);

	/*
	 * Replace n's list at level by upd[0..nupd) if it still equals
	 * old[0..cnt): 1 if written, 0 if it changed (retry), -1 if the node
	 * is free or below level now.
	 */
	int			(*writeList) (void *g, HnswRef n, int level, const HnswRef *old,
							  int cnt, const HnswRef *upd, int nupd);

	/* In p's level-0 list, replace q by self; false if q is not there */
	bool		(*replace) (void *g, HnswRef p, HnswRef q, HnswRef self);

	/* Store node self with w's plan as its lists; returns where it is */
	HnswRef		(*place) (void *g, const HnswInsertWork *w, HnswRef self);

	/* self's level is above the entry point's: make self the entry point */
	void		(*raise) (void *g, HnswRef self);
} HnswGraphOps;

/* The plan's list at level */
static inline HnswRef *
HnswPlanList(const HnswInsertWork *w, int level)
{
	return w->sel + HnswLevelStart(w->m, level);
}

/*
 * HnswInsertWorkInit
 *		Allocate an insertion's buffers, once per build or insert (copies:
 *		the kind's readList/readVec copy vectors into vecbuf).
 */
static inline void
HnswInsertWorkInit(HnswInsertWork *w, const HnswLayout *lay, int attempts, bool copies)
{
	const HnswDist *d = &lay->d;
	int			m = lay->m;
	int			efc = lay->efConstruction;
	int			big = Max(efc, 2 * m) + 2;
	int			slots = HnswTotalSlots(m, HNSW_MAX_LEVEL);

	w->d = d;
	w->m = m;
	w->efc = efc;
	w->attempts = attempts;
	w->ref = palloc(sizeof(HnswRef) * big);
	w->dist = palloc(sizeof(float) * big);
	w->vec = palloc(sizeof(char *) * big);
	w->pick = palloc(sizeof(int) * big);
	HnswHeapInit(&w->order, 2 * m + 2, true);
	w->cref = palloc(sizeof(HnswRef) * (2 * m + 1));
	w->cvec = palloc(sizeof(char *) * (2 * m + 1));
	w->sel = palloc(sizeof(HnswRef) * slots);
	w->seldist = palloc(sizeof(float) * slots);
	w->old = palloc(sizeof(HnswRef) * 2 * m);
	w->upd = palloc(sizeof(HnswRef) * 2 * m);
	w->vecbuf = copies ? palloc(mul_size(d->vbytes, 2 * m + 2)) : NULL;
}

/* The i'th vector buffer of vecbuf, NULL if the kind does not copy */
static inline char *
HnswWorkVecBuf(HnswInsertWork *w, int i)
{
	return w->vecbuf ? w->vecbuf + w->d->vbytes * i : NULL;
}

/*
 * HnswPruneList
 *		Node from (vector fv) has a full list, old[0..cnt), and gains node
 *		to (vector tv) at dist: the heuristic over its live members and
 *		the new one, closest first (members that are not live, or no
 *		longer reach the level, are dropped).  upd[] receives the list
 *		kept; returns its length, or -1 if to is not kept (nothing to
 *		write).
 */
static pg_attribute_always_inline int
HnswPruneList(const HnswGraphOps *ops, void *g, HnswInsertWork *w,
			  const char *fv, int cnt, HnswRef to, const char *tv, float dist,
			  int level)
{
	int			cap = HnswLevelCap(w->m, level);
	HnswRef    *cref = w->cref;
	char	  **cvec = w->cvec;
	int			n = 0,
				i,
				k;
	bool		keeps = false;

	w->order.n = 0;
	for (i = 0; i < cnt; i++)
	{
		const char *v = ops->readVec(g, w->old[i], level, HnswWorkVecBuf(w, n));

		if (v == NULL)
			continue;			/* drop links to deleted and free nodes */
		cref[n] = w->old[i];
		cvec[n] = (char *) v;
		HnswHeapPush(&w->order, HnswDistance(w->d, fv, v), n);
		n++;
	}
	cref[n] = to;
	cvec[n] = (char *) tv;
	HnswHeapPush(&w->order, dist, n);
	n++;
	/* drain the max-heap: closest first */
	for (i = n - 1; i >= 0; i--)
	{
		HnswHeapItem it = HnswHeapPop(&w->order);

		w->dist[i] = it.dist;
		w->pick[i] = it.idx;
	}
	for (i = 0; i < n; i++)
	{
		int			c = w->pick[i];

		w->ref[i] = cref[c];
		w->vec[i] = cvec[c];
	}
	k = HnswSelectNeighbours(w->d, w->vec, w->dist, n, cap, w->pick);
	for (i = 0; i < k; i++)
	{
		w->upd[i] = w->ref[w->pick[i]];
		if (w->upd[i] == to)
			keeps = true;
	}
	return keeps ? k : -1;
}

/*
 * HnswAddLink
 *		Make node from link to node to (vector tv) at level, at distance
 *		dist: append if the list has room, else re-select it with the
 *		heuristic over its members and the new one, and rewrite it only if
 *		the new one is kept.  The list is read (a copy), the new list
 *		decided without locks, and written only if the list did not change
 *		meanwhile, else retried (w->attempts times).
 */
static pg_attribute_always_inline void
HnswAddLink(const HnswGraphOps *ops, void *g, HnswInsertWork *w, HnswRef from,
			HnswRef to, const char *tv, int level, float dist)
{
	int			cap = HnswLevelCap(w->m, level);
	int			attempt;

	for (attempt = 0; attempt < w->attempts; attempt++)
	{
		const char *fv;
		int			cnt,
					nupd,
					i;

		cnt = ops->readList(g, from, level, w->old,
							HnswWorkVecBuf(w, 2 * w->m + 1), &fv);
		if (cnt < 0)
			return;
		for (i = 0; i < cnt && w->old[i] != to; i++)
			;
		if (i < cnt)
			return;				/* linked already */
		if (cnt < cap)
		{
			memcpy(w->upd, w->old, sizeof(HnswRef) * cnt);
			w->upd[cnt] = to;
			nupd = cnt + 1;
		}
		else if ((nupd = HnswPruneList(ops, g, w, fv, cnt, to, tv, dist, level)) < 0)
			return;
		if (ops->writeList(g, from, level, w->old, cnt, w->upd, nupd) != 0)
			return;				/* written, or the node has gone */
	}
}

/*
 * HnswPlanSplice
 *		Identical vectors form a cycle through their level-0 links (README,
 *		"Duplicates"): if the new node (vector q) is to link to a node P of
 *		its own vector, it takes P's identical neighbour Q instead, and P
 *		will point to it in Q's place (HnswLinkBack).  The k chosen level-0
 *		neighbours (candidates pick[]) are in the plan.
 */
static pg_attribute_always_inline void
HnswPlanSplice(const HnswGraphOps *ops, void *g, HnswInsertWork *w, int k,
			   const char *q)
{
	HnswRef    *sel = HnswPlanList(w, 0);
	int			i;

	for (i = 0; i < k; i++)
	{
		int			cnt,
					j;

		if (!HnswIdentical(w->d, w->vec[w->pick[i]], q))
			continue;
		w->spliceP = sel[i];
		cnt = ops->readList(g, w->spliceP, 0, w->old, NULL, NULL);
		for (j = 0; j < cnt; j++)
		{
			const char *qv = ops->readVec(g, w->old[j], 0, HnswWorkVecBuf(w, 0));
			int			t;

			if (qv == NULL || !HnswIdentical(w->d, qv, q))
				continue;
			w->spliceQ = w->old[j];
			for (t = 0; t < k && sel[t] != w->spliceQ; t++)
				;
			if (t == k)
				sel[i] = w->spliceQ;
			break;
		}
		return;
	}
}

/*
 * HnswPlanLevels
 *		The search of an insertion (vector q, its node's level): greedy
 *		descent from the entry point ep, then at each level from top =
 *		min(level, epLevel) down a search with ef = efc, the heuristic's
 *		choice into the plan, and at level 0 the splice.  Returns false if
 *		an identical node found on the top level took self's heap TID
 *		(nothing more to do).
 */
static pg_attribute_always_inline bool
HnswPlanLevels(const HnswGraphOps *ops, void *g, HnswInsertWork *w, HnswRef self,
			   const char *q, int level, HnswRef ep, int epLevel)
{
	int			l;

	w->top = Min(level, epLevel);
	ops->descend(g, q, ep, epLevel, w->top);
	for (l = w->top; l >= 0; l--)
	{
		HnswRef    *sel = HnswPlanList(w, l);
		float	   *seldist = w->seldist + HnswLevelStart(w->m, l);
		int			n,
					k,
					i;

		n = ops->search(g, w, self, l);
		for (i = 0; l == w->top && i < n && i < 4; i++)
		{
			if (memcmp(w->vec[i], q, w->d->vbytes) == 0 &&
				ops->takeDuplicate(g, w->ref[i], self))
				return false;
		}
		k = HnswSelectNeighbours(w->d, w->vec, w->dist, n, HnswLevelCap(w->m, l),
								 w->pick);
		for (i = 0; i < k; i++)
		{
			sel[i] = w->ref[w->pick[i]];
			seldist[i] = w->dist[w->pick[i]];
		}
		w->nsel[l] = k;
		if (l == 0 && w->d->metric != HNSW_METRIC_IP)
			HnswPlanSplice(ops, g, w, k, q);
	}
	return true;
}

/*
 * HnswLinkBack
 *		Link back to the new node self (vector q) from the neighbours it
 *		chose, level by level; then the splice: P points to self in Q's
 *		place (Q is self's neighbour, and P self's predecessor, on the
 *		cycle), or, if Q has left P's list, P links to self as any other.
 */
static pg_attribute_always_inline void
HnswLinkBack(const HnswGraphOps *ops, void *g, HnswInsertWork *w, HnswRef self,
			 const char *q)
{
	int			l;

	for (l = w->top; l >= 0; l--)
	{
		const HnswRef *sel = HnswPlanList(w, l);
		const float *seldist = w->seldist + HnswLevelStart(w->m, l);
		int			i;

		for (i = 0; i < w->nsel[l]; i++)
		{
			/* Q is linked through the splice below, P by it */
			if (l == 0 && w->spliceP != HNSW_NOREF &&
				(sel[i] == w->spliceQ || sel[i] == w->spliceP))
				continue;
			HnswAddLink(ops, g, w, sel[i], self, q, l, seldist[i]);
		}
	}
	if (w->spliceP != HNSW_NOREF &&
		!(w->spliceQ != HNSW_NOREF && ops->replace(g, w->spliceP, w->spliceQ, self)))
		HnswAddLink(ops, g, w, w->spliceP, self, q, 0, 0.0f);
}

/*
 * HnswInsertNode
 *		Insert a node (vector q, level; self: a build's node number, the
 *		disk's NOREF) into a graph: plan its lists, store it, link back to
 *		it, and make it the entry point if it is above the old one (the
 *		paper's Algorithm 1).  Returns false if an identical node took its
 *		heap TID instead: the node is not in the graph.
 */
static pg_attribute_always_inline bool
HnswInsertNode(const HnswGraphOps *ops, void *g, HnswInsertWork *w, HnswRef self,
			   const char *q, int level)
{
	HnswRef		ep;
	int			epLevel;

	w->spliceP = HNSW_NOREF;
	w->spliceQ = HNSW_NOREF;
	w->top = -1;
	if (!ops->entry(g, self, &ep, &epLevel))
		epLevel = -1;
	else if (!HnswPlanLevels(ops, g, w, self, q, level, ep, epLevel))
		return false;
	self = ops->place(g, w, self);
	HnswLinkBack(ops, g, w, self, q);
	if (level > epLevel)
		ops->raise(g, self);
	return true;
}

#endif							/* HNSWINSERT_H */
