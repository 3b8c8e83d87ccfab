-- 66_range.sql: range search through hnsw, ivfpq and ivfflat indexes
-- (src/vecx_range.c).  Users write l2_within(v, q, r) (same as
-- v <-> q < r), cosine_within, ip_within (v <#> q < r) or l1_within; the
-- functions' planner support turns a call on an indexed column into the
-- search operator of the index's operator family,
-- v <<->> ROW(q, r)::vector_range, strategy 2 of the vector opclasses.

CREATE TYPE @extschema@.vector_range AS (query @extschema@.vector, radius float8);

COMMENT ON TYPE @extschema@.vector_range IS
	'a query vector and a radius: the right side of the range search operators';

CREATE FUNCTION @extschema@.vecx_within_support(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.l2_within(@extschema@.vector, @extschema@.vector, float8) RETURNS boolean
	AS 'MODULE_PATHNAME', 'vector_l2_within' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
	SUPPORT @extschema@.vecx_within_support;
CREATE FUNCTION @extschema@.cosine_within(@extschema@.vector, @extschema@.vector, float8) RETURNS boolean
	AS 'MODULE_PATHNAME', 'vector_cosine_within' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
	SUPPORT @extschema@.vecx_within_support;
CREATE FUNCTION @extschema@.ip_within(@extschema@.vector, @extschema@.vector, float8) RETURNS boolean
	AS 'MODULE_PATHNAME', 'vector_ip_within' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
	SUPPORT @extschema@.vecx_within_support;
CREATE FUNCTION @extschema@.l1_within(@extschema@.vector, @extschema@.vector, float8) RETURNS boolean
	AS 'MODULE_PATHNAME', 'vector_l1_within' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
	SUPPORT @extschema@.vecx_within_support;

COMMENT ON FUNCTION @extschema@.l2_within(@extschema@.vector, @extschema@.vector, float8) IS
	'a <-> b < r, answered through an hnsw, ivfpq or ivfflat index on a';
COMMENT ON FUNCTION @extschema@.cosine_within(@extschema@.vector, @extschema@.vector, float8) IS
	'a <=> b < r, answered through an hnsw, ivfpq or ivfflat index on a';
COMMENT ON FUNCTION @extschema@.ip_within(@extschema@.vector, @extschema@.vector, float8) IS
	'a <#> b < r (negative inner product below r), answered through an hnsw, ivfpq or ivfflat index on a';
COMMENT ON FUNCTION @extschema@.l1_within(@extschema@.vector, @extschema@.vector, float8) IS
	'a <+> b < r, answered through an hnsw index on a';

CREATE FUNCTION @extschema@.vector_l2_within_range(@extschema@.vector, @extschema@.vector_range) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.vector_cosine_within_range(@extschema@.vector, @extschema@.vector_range) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.vector_ip_within_range(@extschema@.vector, @extschema@.vector_range) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.vector_l1_within_range(@extschema@.vector, @extschema@.vector_range) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR @extschema@.<<->> (LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector_range,
	FUNCTION = @extschema@.vector_l2_within_range);
CREATE OPERATOR @extschema@.<<=>> (LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector_range,
	FUNCTION = @extschema@.vector_cosine_within_range);
CREATE OPERATOR @extschema@.<<#>> (LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector_range,
	FUNCTION = @extschema@.vector_ip_within_range);
CREATE OPERATOR @extschema@.<<+>> (LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector_range,
	FUNCTION = @extschema@.vector_l1_within_range);

ALTER OPERATOR FAMILY @extschema@.vector_l2_ops USING hnsw ADD
	OPERATOR 2 @extschema@.<<->> (@extschema@.vector, @extschema@.vector_range);
ALTER OPERATOR FAMILY @extschema@.vector_cosine_ops USING hnsw ADD
	OPERATOR 2 @extschema@.<<=>> (@extschema@.vector, @extschema@.vector_range);
ALTER OPERATOR FAMILY @extschema@.vector_ip_ops USING hnsw ADD
	OPERATOR 2 @extschema@.<<#>> (@extschema@.vector, @extschema@.vector_range);
ALTER OPERATOR FAMILY @extschema@.vector_l1_ops USING hnsw ADD
	OPERATOR 2 @extschema@.<<+>> (@extschema@.vector, @extschema@.vector_range);

ALTER OPERATOR FAMILY @extschema@.vector_l2_ops USING ivfpq ADD
	OPERATOR 2 @extschema@.<<->> (@extschema@.vector, @extschema@.vector_range);
ALTER OPERATOR FAMILY @extschema@.vector_cosine_ops USING ivfpq ADD
	OPERATOR 2 @extschema@.<<=>> (@extschema@.vector, @extschema@.vector_range);
ALTER OPERATOR FAMILY @extschema@.vector_ip_ops USING ivfpq ADD
	OPERATOR 2 @extschema@.<<#>> (@extschema@.vector, @extschema@.vector_range);

ALTER OPERATOR FAMILY @extschema@.vector_l2_ops USING ivfflat ADD
	OPERATOR 2 @extschema@.<<->> (@extschema@.vector, @extschema@.vector_range);
ALTER OPERATOR FAMILY @extschema@.vector_cosine_ops USING ivfflat ADD
	OPERATOR 2 @extschema@.<<=>> (@extschema@.vector, @extschema@.vector_range);
ALTER OPERATOR FAMILY @extschema@.vector_ip_ops USING ivfflat ADD
	OPERATOR 2 @extschema@.<<#>> (@extschema@.vector, @extschema@.vector_range);
