-- hnsw index access method (src/am/hnsw).

CREATE FUNCTION @extschema@.hnswhandler(internal) RETURNS index_am_handler
	AS 'MODULE_PATHNAME' LANGUAGE C;

CREATE ACCESS METHOD hnsw TYPE INDEX HANDLER @extschema@.hnswhandler;

COMMENT ON ACCESS METHOD hnsw IS 'hnsw index access method';

-- Support function 3 of each opclass: tells the index its element type
-- and metric (the C side never compares function names).
CREATE FUNCTION @extschema@.hnsw_vector_l2_info(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.hnsw_vector_ip_info(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.hnsw_vector_cosine_info(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.hnsw_vector_l1_info(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.hnsw_halfvec_l2_info(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.hnsw_halfvec_ip_info(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.hnsw_halfvec_cosine_info(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.hnsw_halfvec_l1_info(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR CLASS @extschema@.vector_l2_ops
	FOR TYPE @extschema@.vector USING hnsw AS
	OPERATOR 1 @extschema@.<-> (@extschema@.vector, @extschema@.vector) FOR ORDER BY float_ops,
	FUNCTION 1 @extschema@.vector_l2_squared_distance(@extschema@.vector, @extschema@.vector),
	FUNCTION 3 @extschema@.hnsw_vector_l2_info(internal);

CREATE OPERATOR CLASS @extschema@.vector_ip_ops
	FOR TYPE @extschema@.vector USING hnsw AS
	OPERATOR 1 @extschema@.<#> (@extschema@.vector, @extschema@.vector) FOR ORDER BY float_ops,
	FUNCTION 1 @extschema@.vector_negative_inner_product(@extschema@.vector, @extschema@.vector),
	FUNCTION 3 @extschema@.hnsw_vector_ip_info(internal);

CREATE OPERATOR CLASS @extschema@.vector_cosine_ops
	FOR TYPE @extschema@.vector USING hnsw AS
	OPERATOR 1 @extschema@.<=> (@extschema@.vector, @extschema@.vector) FOR ORDER BY float_ops,
	FUNCTION 1 @extschema@.cosine_distance(@extschema@.vector, @extschema@.vector),
	FUNCTION 3 @extschema@.hnsw_vector_cosine_info(internal);

CREATE OPERATOR CLASS @extschema@.vector_l1_ops
	FOR TYPE @extschema@.vector USING hnsw AS
	OPERATOR 1 @extschema@.<+> (@extschema@.vector, @extschema@.vector) FOR ORDER BY float_ops,
	FUNCTION 1 @extschema@.l1_distance(@extschema@.vector, @extschema@.vector),
	FUNCTION 3 @extschema@.hnsw_vector_l1_info(internal);

CREATE OPERATOR CLASS @extschema@.halfvec_l2_ops
	FOR TYPE @extschema@.halfvec USING hnsw AS
	OPERATOR 1 @extschema@.<-> (@extschema@.halfvec, @extschema@.halfvec) FOR ORDER BY float_ops,
	FUNCTION 1 @extschema@.halfvec_l2_squared_distance(@extschema@.halfvec, @extschema@.halfvec),
	FUNCTION 3 @extschema@.hnsw_halfvec_l2_info(internal);

CREATE OPERATOR CLASS @extschema@.halfvec_ip_ops
	FOR TYPE @extschema@.halfvec USING hnsw AS
	OPERATOR 1 @extschema@.<#> (@extschema@.halfvec, @extschema@.halfvec) FOR ORDER BY float_ops,
	FUNCTION 1 @extschema@.halfvec_negative_inner_product(@extschema@.halfvec, @extschema@.halfvec),
	FUNCTION 3 @extschema@.hnsw_halfvec_ip_info(internal);

CREATE OPERATOR CLASS @extschema@.halfvec_cosine_ops
	FOR TYPE @extschema@.halfvec USING hnsw AS
	OPERATOR 1 @extschema@.<=> (@extschema@.halfvec, @extschema@.halfvec) FOR ORDER BY float_ops,
	FUNCTION 1 @extschema@.cosine_distance(@extschema@.halfvec, @extschema@.halfvec),
	FUNCTION 3 @extschema@.hnsw_halfvec_cosine_info(internal);

CREATE OPERATOR CLASS @extschema@.halfvec_l1_ops
	FOR TYPE @extschema@.halfvec USING hnsw AS
	OPERATOR 1 @extschema@.<+> (@extschema@.halfvec, @extschema@.halfvec) FOR ORDER BY float_ops,
	FUNCTION 1 @extschema@.l1_distance(@extschema@.halfvec, @extschema@.halfvec),
	FUNCTION 3 @extschema@.hnsw_halfvec_l1_info(internal);

-- This backend's read-only graph copies (hnsw.cache_size): one row per hnsw
-- index it scanned with the setting on.  Backend-local, so nothing to hide.
CREATE FUNCTION @extschema@.vecx_hnsw_cache_status(
		OUT index regclass, OUT current boolean, OUT nodes bigint, OUT bytes bigint,
		OUT hits bigint, OUT builds bigint)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'vecx_hnsw_cache_status' LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION @extschema@.vecx_hnsw_cache_status() IS
	'graph copies this backend keeps for hnsw scans (hnsw.cache_size): index, whether a copy of the index as it is now is held, its nodes and bytes, scans served and copies taken';
