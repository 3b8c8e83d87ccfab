-- 30_sparsevec.sql: the sparsevec type (sparse float4 vectors of up to
-- 1,000,000,000 dimensions with up to 16,000 non-zero elements), its
-- distances, norms, btree operator class and casts to and from vector,
-- halfvec and arrays.

CREATE TYPE @extschema@.sparsevec;

CREATE FUNCTION @extschema@.sparsevec_in(cstring, oid, integer) RETURNS @extschema@.sparsevec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.sparsevec_out(@extschema@.sparsevec) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.sparsevec_typmod_in(cstring[]) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.sparsevec_recv(internal, oid, integer) RETURNS @extschema@.sparsevec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.sparsevec_send(@extschema@.sparsevec) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- STORAGE = external as for vector and halfvec: never compressed, moved
-- out of line only when a row exceeds the TOAST threshold.
CREATE TYPE @extschema@.sparsevec (
	INPUT = @extschema@.sparsevec_in,
	OUTPUT = @extschema@.sparsevec_out,
	TYPMOD_IN = @extschema@.sparsevec_typmod_in,
	TYPMOD_OUT = @extschema@.vector_typmod_out,
	RECEIVE = @extschema@.sparsevec_recv,
	SEND = @extschema@.sparsevec_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = int4,
	STORAGE = external
);

-- distances and norms

CREATE FUNCTION @extschema@.l2_distance(@extschema@.sparsevec, @extschema@.sparsevec) RETURNS float8
	AS 'MODULE_PATHNAME', 'sparsevec_l2_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.inner_product(@extschema@.sparsevec, @extschema@.sparsevec) RETURNS float8
	AS 'MODULE_PATHNAME', 'sparsevec_inner_product' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.cosine_distance(@extschema@.sparsevec, @extschema@.sparsevec) RETURNS float8
	AS 'MODULE_PATHNAME', 'sparsevec_cosine_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.l1_distance(@extschema@.sparsevec, @extschema@.sparsevec) RETURNS float8
	AS 'MODULE_PATHNAME', 'sparsevec_l1_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.l2_norm(@extschema@.sparsevec) RETURNS float8
	AS 'MODULE_PATHNAME', 'sparsevec_l2_norm' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.l2_normalize(@extschema@.sparsevec) RETURNS @extschema@.sparsevec
	AS 'MODULE_PATHNAME', 'sparsevec_l2_normalize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- index support: squared L2 and negated inner product order like the
-- distances but are cheaper
CREATE FUNCTION @extschema@.sparsevec_l2_squared_distance(@extschema@.sparsevec, @extschema@.sparsevec) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.sparsevec_negative_inner_product(@extschema@.sparsevec, @extschema@.sparsevec) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- comparison

CREATE FUNCTION @extschema@.sparsevec_lt(@extschema@.sparsevec, @extschema@.sparsevec) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.sparsevec_le(@extschema@.sparsevec, @extschema@.sparsevec) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.sparsevec_eq(@extschema@.sparsevec, @extschema@.sparsevec) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.sparsevec_ne(@extschema@.sparsevec, @extschema@.sparsevec) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.sparsevec_ge(@extschema@.sparsevec, @extschema@.sparsevec) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.sparsevec_gt(@extschema@.sparsevec, @extschema@.sparsevec) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.sparsevec_cmp(@extschema@.sparsevec, @extschema@.sparsevec) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- casts

CREATE FUNCTION @extschema@.sparsevec(@extschema@.sparsevec, integer, boolean) RETURNS @extschema@.sparsevec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.array_to_sparsevec(integer[], integer, boolean) RETURNS @extschema@.sparsevec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.array_to_sparsevec(real[], integer, boolean) RETURNS @extschema@.sparsevec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.array_to_sparsevec(double precision[], integer, boolean) RETURNS @extschema@.sparsevec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.array_to_sparsevec(numeric[], integer, boolean) RETURNS @extschema@.sparsevec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_to_sparsevec(@extschema@.vector, integer, boolean) RETURNS @extschema@.sparsevec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_to_sparsevec(@extschema@.halfvec, integer, boolean) RETURNS @extschema@.sparsevec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.sparsevec_to_vector(@extschema@.sparsevec, integer, boolean) RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.sparsevec_to_halfvec(@extschema@.sparsevec, integer, boolean) RETURNS @extschema@.halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE CAST (@extschema@.sparsevec AS @extschema@.sparsevec)
	WITH FUNCTION @extschema@.sparsevec(@extschema@.sparsevec, integer, boolean) AS IMPLICIT;

-- dense -> sparse is implicit (no precision is lost), so a dense query
-- value works against sparsevec columns; sparse -> dense is assignment
-- only: it may fail (dimensions, halfvec range)
CREATE CAST (@extschema@.vector AS @extschema@.sparsevec)
	WITH FUNCTION @extschema@.vector_to_sparsevec(@extschema@.vector, integer, boolean) AS IMPLICIT;

CREATE CAST (@extschema@.halfvec AS @extschema@.sparsevec)
	WITH FUNCTION @extschema@.halfvec_to_sparsevec(@extschema@.halfvec, integer, boolean) AS IMPLICIT;

CREATE CAST (@extschema@.sparsevec AS @extschema@.vector)
	WITH FUNCTION @extschema@.sparsevec_to_vector(@extschema@.sparsevec, integer, boolean) AS ASSIGNMENT;

CREATE CAST (@extschema@.sparsevec AS @extschema@.halfvec)
	WITH FUNCTION @extschema@.sparsevec_to_halfvec(@extschema@.sparsevec, integer, boolean) AS ASSIGNMENT;

CREATE CAST (integer[] AS @extschema@.sparsevec)
	WITH FUNCTION @extschema@.array_to_sparsevec(integer[], integer, boolean) AS ASSIGNMENT;

CREATE CAST (real[] AS @extschema@.sparsevec)
	WITH FUNCTION @extschema@.array_to_sparsevec(real[], integer, boolean) AS ASSIGNMENT;

CREATE CAST (double precision[] AS @extschema@.sparsevec)
	WITH FUNCTION @extschema@.array_to_sparsevec(double precision[], integer, boolean) AS ASSIGNMENT;

CREATE CAST (numeric[] AS @extschema@.sparsevec)
	WITH FUNCTION @extschema@.array_to_sparsevec(numeric[], integer, boolean) AS ASSIGNMENT;

-- operators

CREATE OPERATOR @extschema@.<-> (
	LEFTARG = @extschema@.sparsevec, RIGHTARG = @extschema@.sparsevec,
	FUNCTION = @extschema@.l2_distance, COMMUTATOR = OPERATOR(@extschema@.<->)
);

CREATE OPERATOR @extschema@.<#> (
	LEFTARG = @extschema@.sparsevec, RIGHTARG = @extschema@.sparsevec,
	FUNCTION = @extschema@.sparsevec_negative_inner_product, COMMUTATOR = OPERATOR(@extschema@.<#>)
);

CREATE OPERATOR @extschema@.<=> (
	LEFTARG = @extschema@.sparsevec, RIGHTARG = @extschema@.sparsevec,
	FUNCTION = @extschema@.cosine_distance, COMMUTATOR = OPERATOR(@extschema@.<=>)
);

CREATE OPERATOR @extschema@.<+> (
	LEFTARG = @extschema@.sparsevec, RIGHTARG = @extschema@.sparsevec,
	FUNCTION = @extschema@.l1_distance, COMMUTATOR = OPERATOR(@extschema@.<+>)
);

CREATE OPERATOR @extschema@.< (
	LEFTARG = @extschema@.sparsevec, RIGHTARG = @extschema@.sparsevec,
	FUNCTION = @extschema@.sparsevec_lt,
	COMMUTATOR = OPERATOR(@extschema@.>), NEGATOR = OPERATOR(@extschema@.>=),
	RESTRICT = scalarltsel, JOIN = scalarltjoinsel
);

CREATE OPERATOR @extschema@.<= (
	LEFTARG = @extschema@.sparsevec, RIGHTARG = @extschema@.sparsevec,
	FUNCTION = @extschema@.sparsevec_le,
	COMMUTATOR = OPERATOR(@extschema@.>=), NEGATOR = OPERATOR(@extschema@.>),
	RESTRICT = scalarlesel, JOIN = scalarlejoinsel
);

CREATE OPERATOR @extschema@.= (
	LEFTARG = @extschema@.sparsevec, RIGHTARG = @extschema@.sparsevec,
	FUNCTION = @extschema@.sparsevec_eq,
	COMMUTATOR = OPERATOR(@extschema@.=), NEGATOR = OPERATOR(@extschema@.<>),
	RESTRICT = eqsel, JOIN = eqjoinsel
);

CREATE OPERATOR @extschema@.<> (
	LEFTARG = @extschema@.sparsevec, RIGHTARG = @extschema@.sparsevec,
	FUNCTION = @extschema@.sparsevec_ne,
	COMMUTATOR = OPERATOR(@extschema@.<>), NEGATOR = OPERATOR(@extschema@.=),
	RESTRICT = neqsel, JOIN = neqjoinsel
);

CREATE OPERATOR @extschema@.>= (
	LEFTARG = @extschema@.sparsevec, RIGHTARG = @extschema@.sparsevec,
	FUNCTION = @extschema@.sparsevec_ge,
	COMMUTATOR = OPERATOR(@extschema@.<=), NEGATOR = OPERATOR(@extschema@.<),
	RESTRICT = scalargesel, JOIN = scalargejoinsel
);

CREATE OPERATOR @extschema@.> (
	LEFTARG = @extschema@.sparsevec, RIGHTARG = @extschema@.sparsevec,
	FUNCTION = @extschema@.sparsevec_gt,
	COMMUTATOR = OPERATOR(@extschema@.<), NEGATOR = OPERATOR(@extschema@.<=),
	RESTRICT = scalargtsel, JOIN = scalargtjoinsel
);

CREATE OPERATOR CLASS @extschema@.sparsevec_ops
	DEFAULT FOR TYPE @extschema@.sparsevec USING btree AS
	OPERATOR 1 @extschema@.<,
	OPERATOR 2 @extschema@.<=,
	OPERATOR 3 @extschema@.=,
	OPERATOR 4 @extschema@.>=,
	OPERATOR 5 @extschema@.>,
	FUNCTION 1 @extschema@.sparsevec_cmp(@extschema@.sparsevec, @extschema@.sparsevec);
