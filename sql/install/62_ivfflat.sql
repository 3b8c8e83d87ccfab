-- 62_ivfflat.sql: the ivfflat index access method, the reference
-- extension's IVF index under its own name: ivfpq's inverted lists whose
-- entries hold the whole vector, scored exactly by the scan (no
-- re-check).  Operator classes for vector and halfvec (L2, inner product,
-- cosine) and for bit (Hamming distance).
--
-- Support function 1 of each class tells the access method the metric
-- and element type.

CREATE FUNCTION @extschema@.ivfflathandler(internal) RETURNS index_am_handler
	AS 'MODULE_PATHNAME' LANGUAGE C;

CREATE ACCESS METHOD ivfflat TYPE INDEX HANDLER @extschema@.ivfflathandler;

COMMENT ON ACCESS METHOD ivfflat IS 'inverted file with flat (exact) lists';

CREATE FUNCTION @extschema@.ivfflat_vector_l2_support(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.ivfflat_vector_ip_support(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.ivfflat_vector_cosine_support(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.ivfflat_halfvec_l2_support(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.ivfflat_halfvec_ip_support(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.ivfflat_halfvec_cosine_support(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.ivfflat_bit_hamming_support(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR CLASS @extschema@.vector_l2_ops
	FOR TYPE @extschema@.vector USING ivfflat AS
	OPERATOR 1 @extschema@.<-> (@extschema@.vector, @extschema@.vector) FOR ORDER BY float_ops,
	FUNCTION 1 @extschema@.ivfflat_vector_l2_support(internal);

CREATE OPERATOR CLASS @extschema@.vector_ip_ops
	FOR TYPE @extschema@.vector USING ivfflat AS
	OPERATOR 1 @extschema@.<#> (@extschema@.vector, @extschema@.vector) FOR ORDER BY float_ops,
	FUNCTION 1 @extschema@.ivfflat_vector_ip_support(internal);

CREATE OPERATOR CLASS @extschema@.vector_cosine_ops
	FOR TYPE @extschema@.vector USING ivfflat AS
	OPERATOR 1 @extschema@.<=> (@extschema@.vector, @extschema@.vector) FOR ORDER BY float_ops,
	FUNCTION 1 @extschema@.ivfflat_vector_cosine_support(internal);

CREATE OPERATOR CLASS @extschema@.halfvec_l2_ops
	FOR TYPE @extschema@.halfvec USING ivfflat AS
	OPERATOR 1 @extschema@.<-> (@extschema@.halfvec, @extschema@.halfvec) FOR ORDER BY float_ops,
	FUNCTION 1 @extschema@.ivfflat_halfvec_l2_support(internal);

CREATE OPERATOR CLASS @extschema@.halfvec_ip_ops
	FOR TYPE @extschema@.halfvec USING ivfflat AS
	OPERATOR 1 @extschema@.<#> (@extschema@.halfvec, @extschema@.halfvec) FOR ORDER BY float_ops,
	FUNCTION 1 @extschema@.ivfflat_halfvec_ip_support(internal);

CREATE OPERATOR CLASS @extschema@.halfvec_cosine_ops
	FOR TYPE @extschema@.halfvec USING ivfflat AS
	OPERATOR 1 @extschema@.<=> (@extschema@.halfvec, @extschema@.halfvec) FOR ORDER BY float_ops,
	FUNCTION 1 @extschema@.ivfflat_halfvec_cosine_support(internal);

-- bit is PostgreSQL's own type (pg_catalog), the operator ours (35_bit.sql)
CREATE OPERATOR CLASS @extschema@.bit_hamming_ops
	FOR TYPE bit USING ivfflat AS
	OPERATOR 1 @extschema@.<~> (bit, bit) FOR ORDER BY float_ops,
	FUNCTION 1 @extschema@.ivfflat_bit_hamming_support(internal);
