-- 90_check.sql: vecx_index_check(), structural verification of hnsw and
-- ivfpq indexes in the spirit of amcheck.  Like amcheck's functions it is
-- not executable by PUBLIC: superusers run it, and may GRANT EXECUTE to a
-- monitoring role.  It raises ERRCODE_INDEX_CORRUPTED (XX002) naming the
-- block and offset of the first inconsistency; with heapallindexed it also
-- checks that every visible table row the index should hold is in it.

CREATE FUNCTION @extschema@.vecx_index_check(index regclass, heapallindexed boolean DEFAULT false)
	RETURNS void
	AS 'MODULE_PATHNAME', 'vecx_index_check' LANGUAGE C STRICT PARALLEL RESTRICTED;

COMMENT ON FUNCTION @extschema@.vecx_index_check(regclass, boolean) IS
	'verify the structure of an hnsw or ivfpq index (and with heapallindexed, that it holds every table row)';

REVOKE ALL ON FUNCTION @extschema@.vecx_index_check(regclass, boolean) FROM PUBLIC;
