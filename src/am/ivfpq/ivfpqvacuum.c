/*-------------------------------------------------------------------------
 *
 * ivfpqvacuum.c
 *	  Bulk deletion and cleanup for ivfpq indexes.
 *
 * Dead entries are removed page by page (PageIndexMultiDelete compacts the
 * page, so the freed space is usable at once).  Pages stay in their list's
 * chain even when empty; the directory's insert page of each list is moved
 * back to the first page with room, so later inserts refill freed space
 * before the list grows.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"

#include "ivfpq.h"

/* What one VACUUM pass over the lists carries from page to page */
typedef struct IvfpqVacuum
{
	IndexVacuumInfo *info;
	IndexBulkDeleteResult *stats;
	IndexBulkDeleteCallback callback;	/* NULL: only count */
	void	   *callback_state;
	IvfpqState *st;
} IvfpqVacuum;

/*
 * VacuumBlockPage
 *		A page of fast-scan blocks: find the dead slots first, then fill
 *		each block's holes from its end.
 */
static void
VacuumBlockPage(IvfpqVacuum *vac, Buffer buf, Page page)
{
	IvfpqState *st = vac->st;
	bool		dead[IVFPQ_FS_MAX_BLOCKS][IVFPQ_FS_SLOTS];
	int			ndeletable = 0;
	int			b,
				i;
	GenericXLogState *state;
	Page		wpage;

	for (b = 0; b < st->blocksperpage; b++)
	{
		char	   *bb = IvfpqPageBlock(st, page, b);
		int			n = IvfpqBlockCount(bb);

		for (i = 0; i < n; i++)
		{
			ItemPointerData tid;

			memcpy(&tid, IvfpqBlockTid(bb, i), 6);
			dead[b][i] = vac->callback && vac->callback(&tid, vac->callback_state);
			if (dead[b][i])
				ndeletable++;
			else
				vac->stats->num_index_tuples += 1;
		}
	}
	if (ndeletable == 0)
		return;

	state = GenericXLogStart(vac->info->index);
	wpage = GenericXLogRegisterBuffer(state, buf, 0);
	for (b = 0; b < st->blocksperpage; b++)
	{
		char	   *wblk = IvfpqPageBlock(st, wpage, b);
		int			n = IvfpqBlockCount(wblk);

		/* downwards: the last slot moved into a hole is alive */
		for (i = n - 1; i >= 0; i--)
		{
			if (!dead[b][i])
				continue;
			if (i != n - 1)
				IvfpqBlockMove(st, wblk, n - 1, i);
			n--;
			dead[b][i] = dead[b][n];
		}
		IvfpqBlockCount(wblk) = n;
	}
	GenericXLogFinish(state);
	vac->stats->tuples_removed += ndeletable;
}

/* A page of entries as items: delete the dead ones (compacting the page). */
static void
VacuumItemPage(IvfpqVacuum *vac, Buffer buf, Page page, BlockNumber blkno)
{
	Relation	index = vac->info->index;
	OffsetNumber deletable[MaxOffsetNumber];
	int			ndeletable = 0;
	OffsetNumber off,
				maxoff = PageGetMaxOffsetNumber(page);

	for (off = FirstOffsetNumber; off <= maxoff; off++)
	{
		IvfpqEntry *e = IvfpqGetEntry(index, page, blkno, off, vac->st->entrysize);

		if (e == NULL)
			continue;
		if (vac->callback && vac->callback(&e->tid, vac->callback_state))
			deletable[ndeletable++] = off;
		else
			vac->stats->num_index_tuples += 1;
	}

	if (ndeletable > 0)
	{
		GenericXLogState *state = GenericXLogStart(index);
		Page		wpage = GenericXLogRegisterBuffer(state, buf, 0);

		PageIndexMultiDelete(wpage, deletable, ndeletable);
		GenericXLogFinish(state);
		vac->stats->tuples_removed += ndeletable;
	}
}

/* Point the list's inserts at firstfree, the first page with room. */
static void
SetInsertPage(IvfpqVacuum *vac, int list, BlockNumber firstfree)
{
	Relation	index = vac->info->index;
	BlockNumber dirblk = vac->st->dirStart + list / IVFPQ_DIR_PER_PAGE;
	Buffer		dirbuf = ReadBufferExtended(index, MAIN_FORKNUM, dirblk,
											RBM_NORMAL, vac->info->strategy);
	IvfpqListDir dir;
	char	   *slot;

	LockBuffer(dirbuf, BUFFER_LOCK_EXCLUSIVE);
	IvfpqCheckPage(index, BufferGetPage(dirbuf), dirblk, IVFPQ_PAGE_DIRECTORY);
	slot = IvfpqRawData(BufferGetPage(dirbuf)) +
		sizeof(IvfpqListDir) * (list % IVFPQ_DIR_PER_PAGE);
	memcpy(&dir, slot, sizeof(dir));
	if (dir.insertpage != firstfree)
	{
		GenericXLogState *state = GenericXLogStart(index);
		Page		dirpage = GenericXLogRegisterBuffer(state, dirbuf, 0);

		dir.insertpage = firstfree;
		memcpy(IvfpqRawData(dirpage) + sizeof(IvfpqListDir) * (list % IVFPQ_DIR_PER_PAGE),
			   &dir, sizeof(dir));
		GenericXLogFinish(state);
	}
	UnlockReleaseBuffer(dirbuf);
}

/*
 * VacuumList
 *		Walk one list's chain page by page; then, when deleting, point its
 *		inserts at the first page with room.
 */
static void
VacuumList(IvfpqVacuum *vac, int list)
{
	Relation	index = vac->info->index;
	IvfpqState *st = vac->st;
	IvfpqListDir dir;
	IvfpqChainWalk walk;
	BlockNumber blkno;
	BlockNumber firstfree = InvalidBlockNumber;

	IvfpqReadDir(index, st->dirStart, list, &dir);
	blkno = dir.head;
	IvfpqChainStart(&walk, list);
	while (BlockNumberIsValid(blkno))
	{
		Buffer		buf;
		Page		page;

		vacuum_delay_point();
		IvfpqChainStep(index, &walk, blkno);
		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, vac->info->strategy);
		LockBuffer(buf, vac->callback ? BUFFER_LOCK_EXCLUSIVE : BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (IvfpqCheckDataPage(index, st, page, blkno, list) != NULL)
			VacuumBlockPage(vac, buf, page);
		else
			VacuumItemPage(vac, buf, page, blkno);
		if (!BlockNumberIsValid(firstfree) && IvfpqDataPageHasRoom(st, page))
			firstfree = blkno;
		blkno = IvfpqPageGetOpaque(page)->nextblkno;
		UnlockReleaseBuffer(buf);
	}

	if (vac->callback && BlockNumberIsValid(firstfree))
		SetInsertPage(vac, list, firstfree);
}

/*
 * Walk every list; remove entries the callback reports dead (when given)
 * and count the rest.
 */
static void
VacuumLists(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
			IndexBulkDeleteCallback callback, void *callback_state)
{
	IvfpqState	stcopy = *IvfpqGetState(info->index);
	IvfpqVacuum vac;
	int			list;

	/*
	 * The cached state may be freed by an invalidation while we wait for
	 * locks: work on a copy of its scalar fields (the arrays it points to
	 * are not used here).
	 */
	stcopy.suboff = NULL;
	stcopy.codebook = NULL;
	stcopy.centroids = NULL;
	stcopy.cnorms = NULL;

	vac.info = info;
	vac.stats = stats;
	vac.callback = callback;
	vac.callback_state = callback_state;
	vac.st = &stcopy;
	for (list = 0; list < stcopy.lists; list++)
		VacuumList(&vac, list);
}

IndexBulkDeleteResult *
ivfpqbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
				IndexBulkDeleteCallback callback, void *callback_state)
{
	if (stats == NULL)
		stats = (IndexBulkDeleteResult *) palloc0(sizeof(IndexBulkDeleteResult));
	stats->num_index_tuples = 0;
	VacuumLists(info, stats, callback, callback_state);
	stats->num_pages = RelationGetNumberOfBlocks(info->index);
	return stats;
}

IndexBulkDeleteResult *
ivfpqvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	if (info->analyze_only)
		return stats;
	if (stats == NULL)
	{
		/* No bulk delete this time: count the entries */
		stats = (IndexBulkDeleteResult *) palloc0(sizeof(IndexBulkDeleteResult));
		VacuumLists(info, stats, NULL, NULL);
	}
	stats->num_pages = RelationGetNumberOfBlocks(info->index);
	stats->estimated_count = false;
	return stats;
}
