/*-------------------------------------------------------------------------
 *
 * vecx_stat.c
 *	  Per-index scan counters of the vecx access methods, read from SQL.
 *
 * Every hnsw, ivfpq and ivfflat scan adds, when it ends (or is rescanned),
 * what it did to its index's counters: one scan, the heap TIDs it
 * returned, the nodes (hnsw) or lists (ivf) it visited, whether it took an
 * exact pass, whether it walked a graph copy.  The view vecx_stat_indexes
 * shows them beside the index's name, as pg_stat_user_indexes does.
 *
 * Where they live depends on how the library was loaded.  PostgreSQL 15
 * hands out shared memory only to libraries in shared_preload_libraries
 * (no DSM registry yet), so:
 *
 *   preloaded       a hash table in shared memory, keyed by database and
 *                   index, vecx.stat_max_indexes entries at most (further
 *                   indexes are not counted until a reset frees room):
 *                   every backend's scans, kept until a reset or a
 *                   restart.
 *   loaded on use   a hash table in this backend's memory: this session's
 *                   scans only, lost when it ends.
 *
 * The shared table is read and updated under one LWLock, taken shared to
 * find an entry (its counters are added under the entry's spinlock) and
 * exclusive only to add or remove entries; a scan reports once, so the
 * cost is one lock round trip per scan.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "vecx.h"
#include "vecx_stat.h"

typedef struct VecxStatKey
{
	Oid			dbid;
	Oid			indexid;
} VecxStatKey;

typedef struct VecxStatEntry
{
	VecxStatKey key;			/* hash key: must be first */
	slock_t		mutex;			/* shared table: protects c */
	VecxStatCounts c;
} VecxStatEntry;

typedef struct VecxStatShared
{
	LWLock	   *lock;			/* protects the table's membership */
} VecxStatShared;

static int	vecx_stat_max_indexes = 1000;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static VecxStatShared *stat_shared = NULL;
static HTAB *stat_hash = NULL;	/* shared table, when preloaded */
static HTAB *local_hash = NULL; /* this backend's, otherwise */

PG_FUNCTION_INFO_V1(vecx_stat_index_counters);
PG_FUNCTION_INFO_V1(vecx_stat_reset);
PG_FUNCTION_INFO_V1(vecx_stat_reset_index);
PG_FUNCTION_INFO_V1(vecx_stat_shared);

static Size
StatShmemSize(void)
{
	return add_size(MAXALIGN(sizeof(VecxStatShared)),
					hash_estimate_size(vecx_stat_max_indexes, sizeof(VecxStatEntry)));
}

static void
StatShmemRequest(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(StatShmemSize());
	RequestNamedLWLockTranche("vecx_stat", 1);
}

static void
StatShmemStartup(void)
{
	bool		found;
	HASHCTL		info;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	stat_shared = ShmemInitStruct("vecx_stat", sizeof(VecxStatShared), &found);
	if (!found)
		stat_shared->lock = &(GetNamedLWLockTranche("vecx_stat"))->lock;
	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(VecxStatKey);
	info.entrysize = sizeof(VecxStatEntry);
	stat_hash = ShmemInitHash("vecx_stat hash", vecx_stat_max_indexes,
							  vecx_stat_max_indexes, &info, HASH_ELEM | HASH_BLOBS);
	LWLockRelease(AddinShmemInitLock);
}

/*
 * VecxStatInit
 *		Define vecx.stat_max_indexes and, when preloaded, ask for the shared
 *		table.  Called from _PG_init before the "vecx" prefix is reserved,
 *		so that a postgresql.conf value of the setting is kept.
 */
void
VecxStatInit(void)
{
	/* a PGC_POSTMASTER setting can only be defined while preloading */
	if (!process_shared_preload_libraries_in_progress)
		return;
	DefineCustomIntVariable("vecx.stat_max_indexes",
							"Sets the number of indexes whose scan counters are kept in shared memory.",
							"Used only when vecx is in shared_preload_libraries; otherwise each session counts its own scans.",
							&vecx_stat_max_indexes,
							1000, 16, 1000000,
							PGC_POSTMASTER,
							0,
							NULL, NULL, NULL);
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = StatShmemRequest;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = StatShmemStartup;
}

static inline void
AddCounts(VecxStatCounts *to, const VecxStatCounts *c)
{
	to->scans += c->scans;
	to->tuples += c->tuples;
	to->visited += c->visited;
	to->exact += c->exact;
	to->cache_hits += c->cache_hits;
}

static HTAB *
LocalHash(void)
{
	if (local_hash == NULL)
	{
		HASHCTL		info;

		memset(&info, 0, sizeof(info));
		info.keysize = sizeof(VecxStatKey);
		info.entrysize = sizeof(VecxStatEntry);
		info.hcxt = TopMemoryContext;
		local_hash = hash_create("vecx_stat local", 64, &info,
								 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	return local_hash;
}

/*
 * VecxStatReport
 *		Add one scan's counts to its index's entry.  Never raises an error
 *		of its own: a full shared table just drops the counts.
 */
void
VecxStatReport(Relation index, const VecxStatCounts *c)
{
	VecxStatKey key;
	VecxStatEntry *e;
	bool		found;

	if (c->scans == 0 && c->tuples == 0 && c->visited == 0)
		return;
	memset(&key, 0, sizeof(key));
	key.dbid = MyDatabaseId;
	key.indexid = RelationGetRelid(index);

	if (stat_hash == NULL)
	{
		e = hash_search(LocalHash(), &key, HASH_ENTER, &found);
		if (!found)
			memset(&e->c, 0, sizeof(e->c));
		AddCounts(&e->c, c);
		return;
	}

	LWLockAcquire(stat_shared->lock, LW_SHARED);
	e = hash_search(stat_hash, &key, HASH_FIND, NULL);
	if (e == NULL)
	{
		LWLockRelease(stat_shared->lock);
		LWLockAcquire(stat_shared->lock, LW_EXCLUSIVE);
		if (hash_get_num_entries(stat_hash) < vecx_stat_max_indexes)
		{
			e = hash_search(stat_hash, &key, HASH_ENTER_NULL, &found);
			if (e != NULL && !found)
			{
				SpinLockInit(&e->mutex);
				memset(&e->c, 0, sizeof(e->c));
			}
		}
		else
			e = hash_search(stat_hash, &key, HASH_FIND, NULL);
	}
	if (e != NULL)
	{
		SpinLockAcquire(&e->mutex);
		AddCounts(&e->c, c);
		SpinLockRelease(&e->mutex);
	}
	LWLockRelease(stat_shared->lock);
}

/*
 * vecx_stat_index_counters()
 *		The counters of this database's indexes: the shared table's when
 *		preloaded, this backend's otherwise.  The view vecx_stat_indexes
 *		joins them with the catalogs.
 */
Datum
vecx_stat_index_counters(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HTAB	   *h = stat_hash != NULL ? stat_hash : local_hash;
	HASH_SEQ_STATUS seq;
	VecxStatEntry *e;

	InitMaterializedSRF(fcinfo, 0);
	if (h == NULL)
		PG_RETURN_VOID();
	if (stat_hash != NULL)
		LWLockAcquire(stat_shared->lock, LW_SHARED);
	hash_seq_init(&seq, h);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		Datum		values[6];
		bool		nulls[6] = {0};
		VecxStatCounts c;

		if (e->key.dbid != MyDatabaseId)
			continue;
		if (stat_hash != NULL)
		{
			SpinLockAcquire(&e->mutex);
			c = e->c;
			SpinLockRelease(&e->mutex);
		}
		else
			c = e->c;
		values[0] = ObjectIdGetDatum(e->key.indexid);
		values[1] = Int64GetDatum(c.scans);
		values[2] = Int64GetDatum(c.tuples);
		values[3] = Int64GetDatum(c.visited);
		values[4] = Int64GetDatum(c.exact);
		values[5] = Int64GetDatum(c.cache_hits);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	if (stat_hash != NULL)
		LWLockRelease(stat_shared->lock);
	PG_RETURN_VOID();
}

/* Remove this database's entries, or the one of index indexid */
static void
StatReset(Oid indexid)
{
	HTAB	   *h = stat_hash != NULL ? stat_hash : local_hash;
	HASH_SEQ_STATUS seq;
	VecxStatEntry *e;

	if (h == NULL)
		return;
	if (stat_hash != NULL)
		LWLockAcquire(stat_shared->lock, LW_EXCLUSIVE);
	hash_seq_init(&seq, h);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		if (e->key.dbid != MyDatabaseId)
			continue;
		if (OidIsValid(indexid) && e->key.indexid != indexid)
			continue;
		/* removing the entry just returned is allowed during a seq scan */
		(void) hash_search(h, &e->key, HASH_REMOVE, NULL);
	}
	if (stat_hash != NULL)
		LWLockRelease(stat_shared->lock);
}

/* vecx_stat_reset(): zero the counters of every index of this database */
Datum
vecx_stat_reset(PG_FUNCTION_ARGS)
{
	StatReset(InvalidOid);
	PG_RETURN_VOID();
}

/* vecx_stat_reset(index regclass): zero one index's counters */
Datum
vecx_stat_reset_index(PG_FUNCTION_ARGS)
{
	Oid			indexid = PG_GETARG_OID(0);

	if (OidIsValid(indexid))
		StatReset(indexid);
	PG_RETURN_VOID();
}

/* vecx_stat_shared(): whether the counters are the server's (preloaded) */
Datum
vecx_stat_shared(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(stat_hash != NULL);
}
