-- 92_tools.sql: vecx_index_recall(), recall@k and latency of an hnsw,
-- ivfpq (or any vecx) index at the session's current settings, measured
-- against an exact scan of the same queries (src/vecx_recall.c).  It runs
-- the caller's queries as the caller, through SPI: executable by PUBLIC,
-- since it can read nothing the caller could not read with SELECT.
--
--   queries  a SELECT returning one column of query vectors; '' samples
--            the table's own rows (sample of them, deterministically)
--   filter   a WHERE condition on the table applied to both runs; '' none
--
-- STRICT like every C function of the extension: '' rather than NULL
-- means "not given".

CREATE FUNCTION @extschema@.vecx_index_recall(index regclass, queries text DEFAULT '',
		k integer DEFAULT 10, filter text DEFAULT '', sample integer DEFAULT 100,
		OUT n_queries integer, OUT recall double precision, OUT recall_min double precision,
		OUT index_mean_ms double precision, OUT index_p99_ms double precision,
		OUT exact_mean_ms double precision, OUT exact_p99_ms double precision)
	RETURNS record
	AS 'MODULE_PATHNAME', 'vecx_index_recall' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.vecx_index_recall(regclass, text, integer, text, integer) IS
	'recall@k and mean / p99 latency of an index at the current settings, against an exact scan';
