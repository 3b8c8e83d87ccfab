-- 51_hnsw_shared.sql: the shared hnsw graph copies (hnsw.shared_cache_size,
-- src/am/hnsw/hnswcache.c), which exist only with vecx in
-- shared_preload_libraries; otherwise the function returns no rows.

CREATE FUNCTION @extschema@.vecx_hnsw_shared_cache_status(
		OUT database oid, OUT index regclass, OUT state text, OUT current boolean,
		OUT nodes bigint, OUT bytes bigint, OUT pins integer, OUT hits bigint)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'vecx_hnsw_shared_cache_status' LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION @extschema@.vecx_hnsw_shared_cache_status() IS
	'hnsw graph copies in shared memory (hnsw.shared_cache_size): database, index (NULL for other databases), state (building, ready, retired), whether it is the index as it is now, its nodes and bytes, scans walking it now and scans served';
