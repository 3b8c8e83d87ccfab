/*-------------------------------------------------------------------------
 *
 * fake_pgvector.c
 *	  Test stand-in for pgvector's library: defines the parameter by which
 *	  vecx recognises it (hnsw.ef_search) and nothing else.
 *
 * Built by `make test/vecname/fake_pgvector.so` and loaded by path in
 * test/vecname/sql/fake_pgvector.sql; never installed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

static int	fake_ef_search = 40;

void
_PG_init(void)
{
	DefineCustomIntVariable("hnsw.ef_search",
							"Stand-in for pgvector's hnsw.ef_search.",
							NULL,
							&fake_ef_search,
							40, 1, 1000,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);
}
