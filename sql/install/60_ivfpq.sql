-- 60_ivfpq.sql: the ivfpq index access method (inverted lists with
-- product-quantized residuals; exact re-ranking from the table) and its
-- operator classes for vector and halfvec (L2, inner product, cosine).
--
-- Support function 1 of each class tells the access method the metric
-- and element type; the ordering operator is what the executor uses to
-- re-check the exact distance of every row the index returns.

CREATE FUNCTION @extschema@.ivfpqhandler(internal) RETURNS index_am_handler
	AS 'MODULE_PATHNAME' LANGUAGE C;

CREATE ACCESS METHOD ivfpq TYPE INDEX HANDLER @extschema@.ivfpqhandler;

COMMENT ON ACCESS METHOD ivfpq IS 'inverted file with product quantization, exact re-ranking';

CREATE FUNCTION @extschema@.ivfpq_vector_l2_support(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.ivfpq_vector_ip_support(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.ivfpq_vector_cosine_support(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.ivfpq_halfvec_l2_support(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.ivfpq_halfvec_ip_support(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.ivfpq_halfvec_cosine_support(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR CLASS @extschema@.vector_l2_ops
	FOR TYPE @extschema@.vector USING ivfpq AS
	OPERATOR 1 @extschema@.<-> (@extschema@.vector, @extschema@.vector) FOR ORDER BY float_ops,
	FUNCTION 1 @extschema@.ivfpq_vector_l2_support(internal);

CREATE OPERATOR CLASS @extschema@.vector_ip_ops
	FOR TYPE @extschema@.vector USING ivfpq AS
	OPERATOR 1 @extschema@.<#> (@extschema@.vector, @extschema@.vector) FOR ORDER BY float_ops,
	FUNCTION 1 @extschema@.ivfpq_vector_ip_support(internal);

CREATE OPERATOR CLASS @extschema@.vector_cosine_ops
	FOR TYPE @extschema@.vector USING ivfpq AS
	OPERATOR 1 @extschema@.<=> (@extschema@.vector, @extschema@.vector) FOR ORDER BY float_ops,
	FUNCTION 1 @extschema@.ivfpq_vector_cosine_support(internal);

CREATE OPERATOR CLASS @extschema@.halfvec_l2_ops
	FOR TYPE @extschema@.halfvec USING ivfpq AS
	OPERATOR 1 @extschema@.<-> (@extschema@.halfvec, @extschema@.halfvec) FOR ORDER BY float_ops,
	FUNCTION 1 @extschema@.ivfpq_halfvec_l2_support(internal);

CREATE OPERATOR CLASS @extschema@.halfvec_ip_ops
	FOR TYPE @extschema@.halfvec USING ivfpq AS
	OPERATOR 1 @extschema@.<#> (@extschema@.halfvec, @extschema@.halfvec) FOR ORDER BY float_ops,
	FUNCTION 1 @extschema@.ivfpq_halfvec_ip_support(internal);

CREATE OPERATOR CLASS @extschema@.halfvec_cosine_ops
	FOR TYPE @extschema@.halfvec USING ivfpq AS
	OPERATOR 1 @extschema@.<=> (@extschema@.halfvec, @extschema@.halfvec) FOR ORDER BY float_ops,
	FUNCTION 1 @extschema@.ivfpq_halfvec_cosine_support(internal);
