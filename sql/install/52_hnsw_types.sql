-- 52_hnsw_types.sql: hnsw operator classes for PostgreSQL's bit(n) (up to
-- 64,000 bits; Hamming and Jaccard) and for sparsevec (up to 1,000
-- non-zero elements per indexed value), src/am/hnsw.  Part of the
-- 0.1.0 -> 0.2.0 upgrade too (Makefile).

-- Support function 3 of each opclass: the element type and metric
CREATE FUNCTION @extschema@.hnsw_bit_hamming_info(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.hnsw_bit_jaccard_info(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.hnsw_sparsevec_l2_info(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.hnsw_sparsevec_ip_info(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.hnsw_sparsevec_cosine_info(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.hnsw_sparsevec_l1_info(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR CLASS @extschema@.bit_hamming_ops
	FOR TYPE pg_catalog.bit USING hnsw AS
	OPERATOR 1 @extschema@.<~> (pg_catalog.bit, pg_catalog.bit) FOR ORDER BY float_ops,
	FUNCTION 1 @extschema@.hamming_distance(pg_catalog.bit, pg_catalog.bit),
	FUNCTION 3 @extschema@.hnsw_bit_hamming_info(internal);

CREATE OPERATOR CLASS @extschema@.bit_jaccard_ops
	FOR TYPE pg_catalog.bit USING hnsw AS
	OPERATOR 1 @extschema@.<%> (pg_catalog.bit, pg_catalog.bit) FOR ORDER BY float_ops,
	FUNCTION 1 @extschema@.jaccard_distance(pg_catalog.bit, pg_catalog.bit),
	FUNCTION 3 @extschema@.hnsw_bit_jaccard_info(internal);

CREATE OPERATOR CLASS @extschema@.sparsevec_l2_ops
	FOR TYPE @extschema@.sparsevec USING hnsw AS
	OPERATOR 1 @extschema@.<-> (@extschema@.sparsevec, @extschema@.sparsevec) FOR ORDER BY float_ops,
	FUNCTION 1 @extschema@.sparsevec_l2_squared_distance(@extschema@.sparsevec, @extschema@.sparsevec),
	FUNCTION 3 @extschema@.hnsw_sparsevec_l2_info(internal);

CREATE OPERATOR CLASS @extschema@.sparsevec_ip_ops
	FOR TYPE @extschema@.sparsevec USING hnsw AS
	OPERATOR 1 @extschema@.<#> (@extschema@.sparsevec, @extschema@.sparsevec) FOR ORDER BY float_ops,
	FUNCTION 1 @extschema@.sparsevec_negative_inner_product(@extschema@.sparsevec, @extschema@.sparsevec),
	FUNCTION 3 @extschema@.hnsw_sparsevec_ip_info(internal);

CREATE OPERATOR CLASS @extschema@.sparsevec_cosine_ops
	FOR TYPE @extschema@.sparsevec USING hnsw AS
	OPERATOR 1 @extschema@.<=> (@extschema@.sparsevec, @extschema@.sparsevec) FOR ORDER BY float_ops,
	FUNCTION 1 @extschema@.cosine_distance(@extschema@.sparsevec, @extschema@.sparsevec),
	FUNCTION 3 @extschema@.hnsw_sparsevec_cosine_info(internal);

CREATE OPERATOR CLASS @extschema@.sparsevec_l1_ops
	FOR TYPE @extschema@.sparsevec USING hnsw AS
	OPERATOR 1 @extschema@.<+> (@extschema@.sparsevec, @extschema@.sparsevec) FOR ORDER BY float_ops,
	FUNCTION 1 @extschema@.l1_distance(@extschema@.sparsevec, @extschema@.sparsevec),
	FUNCTION 3 @extschema@.hnsw_sparsevec_l1_info(internal);
