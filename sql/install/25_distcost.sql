
-- planner cost of the distance functions (src/types/distcost.c): the
-- arithmetic by dimensions, and the reading of vectors kept out of line

CREATE FUNCTION @extschema@.vector_distance_support(internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'vector_distance_support' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_distance_support(internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'halfvec_distance_support' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

ALTER FUNCTION @extschema@.l2_distance(@extschema@.vector, @extschema@.vector)
	SUPPORT @extschema@.vector_distance_support;
ALTER FUNCTION @extschema@.inner_product(@extschema@.vector, @extschema@.vector)
	SUPPORT @extschema@.vector_distance_support;
ALTER FUNCTION @extschema@.vector_negative_inner_product(@extschema@.vector, @extschema@.vector)
	SUPPORT @extschema@.vector_distance_support;
ALTER FUNCTION @extschema@.cosine_distance(@extschema@.vector, @extschema@.vector)
	SUPPORT @extschema@.vector_distance_support;
ALTER FUNCTION @extschema@.l1_distance(@extschema@.vector, @extschema@.vector)
	SUPPORT @extschema@.vector_distance_support;

ALTER FUNCTION @extschema@.l2_distance(@extschema@.halfvec, @extschema@.halfvec)
	SUPPORT @extschema@.halfvec_distance_support;
ALTER FUNCTION @extschema@.inner_product(@extschema@.halfvec, @extschema@.halfvec)
	SUPPORT @extschema@.halfvec_distance_support;
ALTER FUNCTION @extschema@.halfvec_negative_inner_product(@extschema@.halfvec, @extschema@.halfvec)
	SUPPORT @extschema@.halfvec_distance_support;
ALTER FUNCTION @extschema@.cosine_distance(@extschema@.halfvec, @extschema@.halfvec)
	SUPPORT @extschema@.halfvec_distance_support;
ALTER FUNCTION @extschema@.l1_distance(@extschema@.halfvec, @extschema@.halfvec)
	SUPPORT @extschema@.halfvec_distance_support;
