-- 94_stat.sql: per-index scan counters of the vecx access methods
-- (src/vecx_stat.c), in the style of pg_stat_user_indexes.  With vecx in
-- shared_preload_libraries they count every backend's scans; otherwise
-- each session sees only its own (vecx_stat_shared() says which).
--
-- The view is written without table-qualified column references: each
-- catalog is read through a subquery whose columns are renamed apart, so
-- nothing in the script names a schema but pg_catalog and the extension's.

CREATE FUNCTION @extschema@.vecx_stat_index_counters(
		OUT counter_index oid, OUT scans bigint, OUT tuples_returned bigint,
		OUT visited bigint, OUT exact_passes bigint, OUT cache_hits bigint)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'vecx_stat_index_counters' LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION @extschema@.vecx_stat_index_counters() IS
	'scan counters of the vecx indexes of this database (the view vecx_stat_indexes shows them with names)';

CREATE FUNCTION @extschema@.vecx_stat_reset() RETURNS void
	AS 'MODULE_PATHNAME', 'vecx_stat_reset' LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION @extschema@.vecx_stat_reset() IS
	'zero the scan counters of every vecx index of this database';

CREATE FUNCTION @extschema@.vecx_stat_reset(index regclass) RETURNS void
	AS 'MODULE_PATHNAME', 'vecx_stat_reset_index' LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION @extschema@.vecx_stat_reset(regclass) IS
	'zero the scan counters of one vecx index';

-- Resetting is for the administrator, as pg_stat_reset() is.
REVOKE ALL ON FUNCTION @extschema@.vecx_stat_reset() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.vecx_stat_reset(regclass) FROM PUBLIC;

CREATE FUNCTION @extschema@.vecx_stat_shared() RETURNS boolean
	AS 'MODULE_PATHNAME', 'vecx_stat_shared' LANGUAGE C STRICT STABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.vecx_stat_shared() IS
	'whether the scan counters are the server''s (vecx preloaded) or only this session''s';

CREATE VIEW @extschema@.vecx_stat_indexes AS
SELECT relid, indexrelid, schemaname, relname, indexrelname, amname AS access_method,
	coalesce(scans, 0) AS scans,
	coalesce(tuples_returned, 0) AS tuples_returned,
	coalesce(visited, 0) AS visited,
	coalesce(exact_passes, 0) AS exact_passes,
	coalesce(cache_hits, 0) AS cache_hits
FROM (SELECT oid AS indexrelid, relname AS indexrelname, relnamespace, relam
		FROM pg_catalog.pg_class WHERE relkind = 'i') ic
	JOIN (SELECT oid AS am_oid, amname FROM pg_catalog.pg_am
		WHERE amname IN ('hnsw', 'ivfpq', 'ivfflat')) am ON am_oid = relam
	JOIN (SELECT indexrelid AS ix_oid, indrelid AS relid FROM pg_catalog.pg_index) ix
		ON ix_oid = indexrelid
	JOIN (SELECT oid AS tab_oid, relname FROM pg_catalog.pg_class) tc ON tab_oid = relid
	JOIN (SELECT oid AS nsp_oid, nspname AS schemaname FROM pg_catalog.pg_namespace) ns
		ON nsp_oid = relnamespace
	LEFT JOIN @extschema@.vecx_stat_index_counters() st ON counter_index = indexrelid;

COMMENT ON VIEW @extschema@.vecx_stat_indexes IS
	'scans, rows returned, nodes (hnsw) or lists (ivfpq, ivfflat) visited, exact passes and graph-copy hits of each vecx index';
