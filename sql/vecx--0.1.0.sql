-- vecx install script, assembled from sql/install/*.sql by the Makefile.
--
-- Rules for every piece: objects are created in @extschema@ and every
-- reference to one of our objects is qualified with @extschema@, so the
-- script means the same thing whatever search_path the caller has; no
-- SECURITY DEFINER anywhere; C functions are STRICT and IMMUTABLE or
-- STABLE as their behaviour demands, and PARALLEL SAFE.

\echo Use "CREATE EXTENSION vecx" to load this file. \quit
-- 10_vector.sql: the vector type, its functions, operators, casts,
-- aggregates and btree operator class.

CREATE TYPE @extschema@.vector;

CREATE FUNCTION @extschema@.vector_in(cstring, oid, integer) RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_out(@extschema@.vector) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_typmod_in(cstring[]) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_typmod_out(integer) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_recv(internal, oid, integer) RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_send(@extschema@.vector) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- STORAGE = external: values may be moved out of line (TOAST) but are
-- never compressed.  Float data barely compresses, so trying only costs
-- CPU on every insert, and out-of-line storage is what lets a row hold a
-- 16000-dimension vector (64 kB) at all.  The price is that values over
-- the ~2 kB TOAST threshold (a 784-dim vector is 3,144 bytes) are read
-- from the TOAST table on every exact-scan distance; users who want those
-- scans fast keep values inline with ALTER TABLE ... SET
-- (toast_tuple_target = 8160) or ALTER COLUMN ... SET STORAGE PLAIN (see
-- docs/sql-reference.md).
CREATE TYPE @extschema@.vector (
	INPUT = @extschema@.vector_in,
	OUTPUT = @extschema@.vector_out,
	TYPMOD_IN = @extschema@.vector_typmod_in,
	TYPMOD_OUT = @extschema@.vector_typmod_out,
	RECEIVE = @extschema@.vector_recv,
	SEND = @extschema@.vector_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = int4,
	STORAGE = external
);

-- distances and norms

CREATE FUNCTION @extschema@.l2_distance(@extschema@.vector, @extschema@.vector) RETURNS float8
	AS 'MODULE_PATHNAME', 'vector_l2_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.inner_product(@extschema@.vector, @extschema@.vector) RETURNS float8
	AS 'MODULE_PATHNAME', 'vector_inner_product' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.cosine_distance(@extschema@.vector, @extschema@.vector) RETURNS float8
	AS 'MODULE_PATHNAME', 'vector_cosine_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.l1_distance(@extschema@.vector, @extschema@.vector) RETURNS float8
	AS 'MODULE_PATHNAME', 'vector_l1_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_dims(@extschema@.vector) RETURNS integer
	AS 'MODULE_PATHNAME', 'vector_dims' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_norm(@extschema@.vector) RETURNS float8
	AS 'MODULE_PATHNAME', 'vector_norm' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.l2_normalize(@extschema@.vector) RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME', 'vector_l2_normalize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.binary_quantize(@extschema@.vector) RETURNS bit
	AS 'MODULE_PATHNAME', 'vector_binary_quantize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.subvector(@extschema@.vector, integer, integer) RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME', 'vector_subvector' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- index support: squared L2 and negated inner product order like the
-- distances but are cheaper; spherical distance is the metric form of cosine
CREATE FUNCTION @extschema@.vector_l2_squared_distance(@extschema@.vector, @extschema@.vector) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_negative_inner_product(@extschema@.vector, @extschema@.vector) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_spherical_distance(@extschema@.vector, @extschema@.vector) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- arithmetic

CREATE FUNCTION @extschema@.vector_add(@extschema@.vector, @extschema@.vector) RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_sub(@extschema@.vector, @extschema@.vector) RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_mul(@extschema@.vector, @extschema@.vector) RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_concat(@extschema@.vector, @extschema@.vector) RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- comparison

CREATE FUNCTION @extschema@.vector_lt(@extschema@.vector, @extschema@.vector) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_le(@extschema@.vector, @extschema@.vector) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_eq(@extschema@.vector, @extschema@.vector) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_ne(@extschema@.vector, @extschema@.vector) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_ge(@extschema@.vector, @extschema@.vector) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_gt(@extschema@.vector, @extschema@.vector) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_cmp(@extschema@.vector, @extschema@.vector) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- aggregates: avg keeps float8 sums and a count in a float8[] state, which
-- needs no serialisation and combines across parallel workers

CREATE FUNCTION @extschema@.vector_accum(double precision[], @extschema@.vector) RETURNS double precision[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_combine(double precision[], double precision[]) RETURNS double precision[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_avg(double precision[]) RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE AGGREGATE @extschema@.avg(@extschema@.vector) (
	SFUNC = @extschema@.vector_accum,
	STYPE = double precision[],
	FINALFUNC = @extschema@.vector_avg,
	COMBINEFUNC = @extschema@.vector_combine,
	INITCOND = '{0}',
	PARALLEL = SAFE
);

-- sum: the same state as avg, so the sums are kept in double precision
-- (exact for integer data, independent of row order and parallel plans);
-- only a final sum beyond the type's range is an error
CREATE FUNCTION @extschema@.vector_sum(double precision[]) RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE AGGREGATE @extschema@.sum(@extschema@.vector) (
	SFUNC = @extschema@.vector_accum,
	STYPE = double precision[],
	FINALFUNC = @extschema@.vector_sum,
	COMBINEFUNC = @extschema@.vector_combine,
	INITCOND = '{0}',
	PARALLEL = SAFE
);

-- casts

CREATE FUNCTION @extschema@.vector(@extschema@.vector, integer, boolean) RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.array_to_vector(integer[], integer, boolean) RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.array_to_vector(real[], integer, boolean) RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.array_to_vector(double precision[], integer, boolean) RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.array_to_vector(numeric[], integer, boolean) RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_to_float4(@extschema@.vector, integer, boolean) RETURNS real[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE CAST (@extschema@.vector AS @extschema@.vector)
	WITH FUNCTION @extschema@.vector(@extschema@.vector, integer, boolean) AS IMPLICIT;

CREATE CAST (@extschema@.vector AS real[])
	WITH FUNCTION @extschema@.vector_to_float4(@extschema@.vector, integer, boolean) AS IMPLICIT;

CREATE CAST (integer[] AS @extschema@.vector)
	WITH FUNCTION @extschema@.array_to_vector(integer[], integer, boolean) AS ASSIGNMENT;

CREATE CAST (real[] AS @extschema@.vector)
	WITH FUNCTION @extschema@.array_to_vector(real[], integer, boolean) AS ASSIGNMENT;

CREATE CAST (double precision[] AS @extschema@.vector)
	WITH FUNCTION @extschema@.array_to_vector(double precision[], integer, boolean) AS ASSIGNMENT;

CREATE CAST (numeric[] AS @extschema@.vector)
	WITH FUNCTION @extschema@.array_to_vector(numeric[], integer, boolean) AS ASSIGNMENT;

-- operators

CREATE OPERATOR @extschema@.<-> (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector,
	FUNCTION = @extschema@.l2_distance, COMMUTATOR = OPERATOR(@extschema@.<->)
);

CREATE OPERATOR @extschema@.<#> (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector,
	FUNCTION = @extschema@.vector_negative_inner_product, COMMUTATOR = OPERATOR(@extschema@.<#>)
);

CREATE OPERATOR @extschema@.<=> (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector,
	FUNCTION = @extschema@.cosine_distance, COMMUTATOR = OPERATOR(@extschema@.<=>)
);

CREATE OPERATOR @extschema@.<+> (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector,
	FUNCTION = @extschema@.l1_distance, COMMUTATOR = OPERATOR(@extschema@.<+>)
);

CREATE OPERATOR @extschema@.+ (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector,
	FUNCTION = @extschema@.vector_add, COMMUTATOR = OPERATOR(@extschema@.+)
);

CREATE OPERATOR @extschema@.- (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector,
	FUNCTION = @extschema@.vector_sub
);

CREATE OPERATOR @extschema@.* (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector,
	FUNCTION = @extschema@.vector_mul, COMMUTATOR = OPERATOR(@extschema@.*)
);

CREATE OPERATOR @extschema@.|| (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector,
	FUNCTION = @extschema@.vector_concat
);

CREATE OPERATOR @extschema@.< (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector,
	FUNCTION = @extschema@.vector_lt,
	COMMUTATOR = OPERATOR(@extschema@.>), NEGATOR = OPERATOR(@extschema@.>=),
	RESTRICT = scalarltsel, JOIN = scalarltjoinsel
);

CREATE OPERATOR @extschema@.<= (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector,
	FUNCTION = @extschema@.vector_le,
	COMMUTATOR = OPERATOR(@extschema@.>=), NEGATOR = OPERATOR(@extschema@.>),
	RESTRICT = scalarlesel, JOIN = scalarlejoinsel
);

CREATE OPERATOR @extschema@.= (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector,
	FUNCTION = @extschema@.vector_eq,
	COMMUTATOR = OPERATOR(@extschema@.=), NEGATOR = OPERATOR(@extschema@.<>),
	RESTRICT = eqsel, JOIN = eqjoinsel
);

CREATE OPERATOR @extschema@.<> (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector,
	FUNCTION = @extschema@.vector_ne,
	COMMUTATOR = OPERATOR(@extschema@.<>), NEGATOR = OPERATOR(@extschema@.=),
	RESTRICT = neqsel, JOIN = neqjoinsel
);

CREATE OPERATOR @extschema@.>= (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector,
	FUNCTION = @extschema@.vector_ge,
	COMMUTATOR = OPERATOR(@extschema@.<=), NEGATOR = OPERATOR(@extschema@.<),
	RESTRICT = scalargesel, JOIN = scalargejoinsel
);

CREATE OPERATOR @extschema@.> (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector,
	FUNCTION = @extschema@.vector_gt,
	COMMUTATOR = OPERATOR(@extschema@.<), NEGATOR = OPERATOR(@extschema@.<=),
	RESTRICT = scalargtsel, JOIN = scalargtjoinsel
);

CREATE OPERATOR CLASS @extschema@.vector_ops
	DEFAULT FOR TYPE @extschema@.vector USING btree AS
	OPERATOR 1 @extschema@.<,
	OPERATOR 2 @extschema@.<=,
	OPERATOR 3 @extschema@.=,
	OPERATOR 4 @extschema@.>=,
	OPERATOR 5 @extschema@.>,
	FUNCTION 1 @extschema@.vector_cmp(@extschema@.vector, @extschema@.vector);
-- 20_halfvec.sql: the halfvec type (IEEE binary16 elements), its functions,
-- operators, casts (including those between vector and halfvec),
-- aggregates and btree operator class.

CREATE TYPE @extschema@.halfvec;

CREATE FUNCTION @extschema@.halfvec_in(cstring, oid, integer) RETURNS @extschema@.halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_out(@extschema@.halfvec) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_typmod_in(cstring[]) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_recv(internal, oid, integer) RETURNS @extschema@.halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_send(@extschema@.halfvec) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- STORAGE = external, as for vector (see 10_vector.sql): never compressed,
-- moved out of line only when a row exceeds the TOAST threshold.  A 784-dim
-- halfvec is 1,576 bytes and stays inline by default; from about 1,000
-- dimensions values go to the TOAST table unless the table keeps them
-- inline (docs/sql-reference.md).
CREATE TYPE @extschema@.halfvec (
	INPUT = @extschema@.halfvec_in,
	OUTPUT = @extschema@.halfvec_out,
	TYPMOD_IN = @extschema@.halfvec_typmod_in,
	TYPMOD_OUT = @extschema@.vector_typmod_out,
	RECEIVE = @extschema@.halfvec_recv,
	SEND = @extschema@.halfvec_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = int4,
	STORAGE = external
);

-- distances and norms

CREATE FUNCTION @extschema@.l2_distance(@extschema@.halfvec, @extschema@.halfvec) RETURNS float8
	AS 'MODULE_PATHNAME', 'halfvec_l2_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.inner_product(@extschema@.halfvec, @extschema@.halfvec) RETURNS float8
	AS 'MODULE_PATHNAME', 'halfvec_inner_product' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.cosine_distance(@extschema@.halfvec, @extschema@.halfvec) RETURNS float8
	AS 'MODULE_PATHNAME', 'halfvec_cosine_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.l1_distance(@extschema@.halfvec, @extschema@.halfvec) RETURNS float8
	AS 'MODULE_PATHNAME', 'halfvec_l1_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_dims(@extschema@.halfvec) RETURNS integer
	AS 'MODULE_PATHNAME', 'halfvec_vector_dims' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.l2_norm(@extschema@.halfvec) RETURNS float8
	AS 'MODULE_PATHNAME', 'halfvec_l2_norm' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.l2_normalize(@extschema@.halfvec) RETURNS @extschema@.halfvec
	AS 'MODULE_PATHNAME', 'halfvec_l2_normalize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.binary_quantize(@extschema@.halfvec) RETURNS bit
	AS 'MODULE_PATHNAME', 'halfvec_binary_quantize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.subvector(@extschema@.halfvec, integer, integer) RETURNS @extschema@.halfvec
	AS 'MODULE_PATHNAME', 'halfvec_subvector' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- index support: squared L2 and negated inner product order like the
-- distances but are cheaper; spherical distance is the metric form of cosine
CREATE FUNCTION @extschema@.halfvec_l2_squared_distance(@extschema@.halfvec, @extschema@.halfvec) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_negative_inner_product(@extschema@.halfvec, @extschema@.halfvec) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_spherical_distance(@extschema@.halfvec, @extschema@.halfvec) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- arithmetic

CREATE FUNCTION @extschema@.halfvec_add(@extschema@.halfvec, @extschema@.halfvec) RETURNS @extschema@.halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_sub(@extschema@.halfvec, @extschema@.halfvec) RETURNS @extschema@.halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_mul(@extschema@.halfvec, @extschema@.halfvec) RETURNS @extschema@.halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_concat(@extschema@.halfvec, @extschema@.halfvec) RETURNS @extschema@.halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- comparison

CREATE FUNCTION @extschema@.halfvec_lt(@extschema@.halfvec, @extschema@.halfvec) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_le(@extschema@.halfvec, @extschema@.halfvec) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_eq(@extschema@.halfvec, @extschema@.halfvec) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_ne(@extschema@.halfvec, @extschema@.halfvec) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_ge(@extschema@.halfvec, @extschema@.halfvec) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_gt(@extschema@.halfvec, @extschema@.halfvec) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_cmp(@extschema@.halfvec, @extschema@.halfvec) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- aggregates: avg keeps float8 sums and a count in a float8[] state, which
-- needs no serialisation and combines across parallel workers

CREATE FUNCTION @extschema@.halfvec_accum(double precision[], @extschema@.halfvec) RETURNS double precision[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_combine(double precision[], double precision[]) RETURNS double precision[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_avg(double precision[]) RETURNS @extschema@.halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE AGGREGATE @extschema@.avg(@extschema@.halfvec) (
	SFUNC = @extschema@.halfvec_accum,
	STYPE = double precision[],
	FINALFUNC = @extschema@.halfvec_avg,
	COMBINEFUNC = @extschema@.halfvec_combine,
	INITCOND = '{0}',
	PARALLEL = SAFE
);

-- sum: the same state as avg, so the sums are kept in double precision
-- (exact for integer data, independent of row order and parallel plans);
-- only a final sum beyond the type's range is an error
CREATE FUNCTION @extschema@.halfvec_sum(double precision[]) RETURNS @extschema@.halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE AGGREGATE @extschema@.sum(@extschema@.halfvec) (
	SFUNC = @extschema@.halfvec_accum,
	STYPE = double precision[],
	FINALFUNC = @extschema@.halfvec_sum,
	COMBINEFUNC = @extschema@.halfvec_combine,
	INITCOND = '{0}',
	PARALLEL = SAFE
);

-- casts

CREATE FUNCTION @extschema@.halfvec(@extschema@.halfvec, integer, boolean) RETURNS @extschema@.halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.array_to_halfvec(integer[], integer, boolean) RETURNS @extschema@.halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.array_to_halfvec(real[], integer, boolean) RETURNS @extschema@.halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.array_to_halfvec(double precision[], integer, boolean) RETURNS @extschema@.halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.array_to_halfvec(numeric[], integer, boolean) RETURNS @extschema@.halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_to_float4(@extschema@.halfvec, integer, boolean) RETURNS real[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE CAST (@extschema@.halfvec AS @extschema@.halfvec)
	WITH FUNCTION @extschema@.halfvec(@extschema@.halfvec, integer, boolean) AS IMPLICIT;

CREATE CAST (@extschema@.halfvec AS real[])
	WITH FUNCTION @extschema@.halfvec_to_float4(@extschema@.halfvec, integer, boolean) AS ASSIGNMENT;

-- between vector and halfvec: vector -> halfvec is implicit so that a
-- vector query value works against halfvec columns and expression indexes
CREATE FUNCTION @extschema@.halfvec_to_vector(@extschema@.halfvec, integer, boolean) RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_to_halfvec(@extschema@.vector, integer, boolean) RETURNS @extschema@.halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE CAST (@extschema@.halfvec AS @extschema@.vector)
	WITH FUNCTION @extschema@.halfvec_to_vector(@extschema@.halfvec, integer, boolean) AS ASSIGNMENT;

CREATE CAST (@extschema@.vector AS @extschema@.halfvec)
	WITH FUNCTION @extschema@.vector_to_halfvec(@extschema@.vector, integer, boolean) AS IMPLICIT;

CREATE CAST (integer[] AS @extschema@.halfvec)
	WITH FUNCTION @extschema@.array_to_halfvec(integer[], integer, boolean) AS ASSIGNMENT;

CREATE CAST (real[] AS @extschema@.halfvec)
	WITH FUNCTION @extschema@.array_to_halfvec(real[], integer, boolean) AS ASSIGNMENT;

CREATE CAST (double precision[] AS @extschema@.halfvec)
	WITH FUNCTION @extschema@.array_to_halfvec(double precision[], integer, boolean) AS ASSIGNMENT;

CREATE CAST (numeric[] AS @extschema@.halfvec)
	WITH FUNCTION @extschema@.array_to_halfvec(numeric[], integer, boolean) AS ASSIGNMENT;

-- operators

CREATE OPERATOR @extschema@.<-> (
	LEFTARG = @extschema@.halfvec, RIGHTARG = @extschema@.halfvec,
	FUNCTION = @extschema@.l2_distance, COMMUTATOR = OPERATOR(@extschema@.<->)
);

CREATE OPERATOR @extschema@.<#> (
	LEFTARG = @extschema@.halfvec, RIGHTARG = @extschema@.halfvec,
	FUNCTION = @extschema@.halfvec_negative_inner_product, COMMUTATOR = OPERATOR(@extschema@.<#>)
);

CREATE OPERATOR @extschema@.<=> (
	LEFTARG = @extschema@.halfvec, RIGHTARG = @extschema@.halfvec,
	FUNCTION = @extschema@.cosine_distance, COMMUTATOR = OPERATOR(@extschema@.<=>)
);

CREATE OPERATOR @extschema@.<+> (
	LEFTARG = @extschema@.halfvec, RIGHTARG = @extschema@.halfvec,
	FUNCTION = @extschema@.l1_distance, COMMUTATOR = OPERATOR(@extschema@.<+>)
);

CREATE OPERATOR @extschema@.+ (
	LEFTARG = @extschema@.halfvec, RIGHTARG = @extschema@.halfvec,
	FUNCTION = @extschema@.halfvec_add, COMMUTATOR = OPERATOR(@extschema@.+)
);

CREATE OPERATOR @extschema@.- (
	LEFTARG = @extschema@.halfvec, RIGHTARG = @extschema@.halfvec,
	FUNCTION = @extschema@.halfvec_sub
);

CREATE OPERATOR @extschema@.* (
	LEFTARG = @extschema@.halfvec, RIGHTARG = @extschema@.halfvec,
	FUNCTION = @extschema@.halfvec_mul, COMMUTATOR = OPERATOR(@extschema@.*)
);

CREATE OPERATOR @extschema@.|| (
	LEFTARG = @extschema@.halfvec, RIGHTARG = @extschema@.halfvec,
	FUNCTION = @extschema@.halfvec_concat
);

CREATE OPERATOR @extschema@.< (
	LEFTARG = @extschema@.halfvec, RIGHTARG = @extschema@.halfvec,
	FUNCTION = @extschema@.halfvec_lt,
	COMMUTATOR = OPERATOR(@extschema@.>), NEGATOR = OPERATOR(@extschema@.>=),
	RESTRICT = scalarltsel, JOIN = scalarltjoinsel
);

CREATE OPERATOR @extschema@.<= (
	LEFTARG = @extschema@.halfvec, RIGHTARG = @extschema@.halfvec,
	FUNCTION = @extschema@.halfvec_le,
	COMMUTATOR = OPERATOR(@extschema@.>=), NEGATOR = OPERATOR(@extschema@.>),
	RESTRICT = scalarlesel, JOIN = scalarlejoinsel
);

CREATE OPERATOR @extschema@.= (
	LEFTARG = @extschema@.halfvec, RIGHTARG = @extschema@.halfvec,
	FUNCTION = @extschema@.halfvec_eq,
	COMMUTATOR = OPERATOR(@extschema@.=), NEGATOR = OPERATOR(@extschema@.<>),
	RESTRICT = eqsel, JOIN = eqjoinsel
);

CREATE OPERATOR @extschema@.<> (
	LEFTARG = @extschema@.halfvec, RIGHTARG = @extschema@.halfvec,
	FUNCTION = @extschema@.halfvec_ne,
	COMMUTATOR = OPERATOR(@extschema@.<>), NEGATOR = OPERATOR(@extschema@.=),
	RESTRICT = neqsel, JOIN = neqjoinsel
);

CREATE OPERATOR @extschema@.>= (
	LEFTARG = @extschema@.halfvec, RIGHTARG = @extschema@.halfvec,
	FUNCTION = @extschema@.halfvec_ge,
	COMMUTATOR = OPERATOR(@extschema@.<=), NEGATOR = OPERATOR(@extschema@.<),
	RESTRICT = scalargesel, JOIN = scalargejoinsel
);

CREATE OPERATOR @extschema@.> (
	LEFTARG = @extschema@.halfvec, RIGHTARG = @extschema@.halfvec,
	FUNCTION = @extschema@.halfvec_gt,
	COMMUTATOR = OPERATOR(@extschema@.<), NEGATOR = OPERATOR(@extschema@.<=),
	RESTRICT = scalargtsel, JOIN = scalargtjoinsel
);

CREATE OPERATOR CLASS @extschema@.halfvec_ops
	DEFAULT FOR TYPE @extschema@.halfvec USING btree AS
	OPERATOR 1 @extschema@.<,
	OPERATOR 2 @extschema@.<=,
	OPERATOR 3 @extschema@.=,
	OPERATOR 4 @extschema@.>=,
	OPERATOR 5 @extschema@.>,
	FUNCTION 1 @extschema@.halfvec_cmp(@extschema@.halfvec, @extschema@.halfvec);
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
-- hnsw filter columns (src/am/hnsw/hnswfilter.c): operator classes for the
-- extra key columns of a multicolumn hnsw index, USING hnsw (v vector_l2_ops, label).
-- Strategies: 1 <, 2 <=, 3 =, 4 >=, 5 >, 6 &&, 7 @>.  Integers (one family,
-- cross-type), bool, date and timestamps are kept exactly; text, varchar and
-- uuid as a hash (equality only, rechecked); int4[] as a signature (&&, @>,
-- rechecked).  No support functions.  The operators are the built-in ones,
-- named with pg_catalog.

CREATE OPERATOR FAMILY @extschema@.integer_filter_ops USING hnsw;

CREATE OPERATOR CLASS @extschema@.int2_filter_ops
	DEFAULT FOR TYPE int2 USING hnsw FAMILY @extschema@.integer_filter_ops AS
	OPERATOR 1 pg_catalog.< (int2, int2),
	OPERATOR 2 pg_catalog.<= (int2, int2),
	OPERATOR 3 pg_catalog.= (int2, int2),
	OPERATOR 4 pg_catalog.>= (int2, int2),
	OPERATOR 5 pg_catalog.> (int2, int2);

CREATE OPERATOR CLASS @extschema@.int4_filter_ops
	DEFAULT FOR TYPE int4 USING hnsw FAMILY @extschema@.integer_filter_ops AS
	OPERATOR 1 pg_catalog.< (int4, int4),
	OPERATOR 2 pg_catalog.<= (int4, int4),
	OPERATOR 3 pg_catalog.= (int4, int4),
	OPERATOR 4 pg_catalog.>= (int4, int4),
	OPERATOR 5 pg_catalog.> (int4, int4);

CREATE OPERATOR CLASS @extschema@.int8_filter_ops
	DEFAULT FOR TYPE int8 USING hnsw FAMILY @extschema@.integer_filter_ops AS
	OPERATOR 1 pg_catalog.< (int8, int8),
	OPERATOR 2 pg_catalog.<= (int8, int8),
	OPERATOR 3 pg_catalog.= (int8, int8),
	OPERATOR 4 pg_catalog.>= (int8, int8),
	OPERATOR 5 pg_catalog.> (int8, int8);

ALTER OPERATOR FAMILY @extschema@.integer_filter_ops USING hnsw ADD
	OPERATOR 1 pg_catalog.< (int2, int4),
	OPERATOR 2 pg_catalog.<= (int2, int4),
	OPERATOR 3 pg_catalog.= (int2, int4),
	OPERATOR 4 pg_catalog.>= (int2, int4),
	OPERATOR 5 pg_catalog.> (int2, int4),
	OPERATOR 1 pg_catalog.< (int2, int8),
	OPERATOR 2 pg_catalog.<= (int2, int8),
	OPERATOR 3 pg_catalog.= (int2, int8),
	OPERATOR 4 pg_catalog.>= (int2, int8),
	OPERATOR 5 pg_catalog.> (int2, int8),
	OPERATOR 1 pg_catalog.< (int4, int2),
	OPERATOR 2 pg_catalog.<= (int4, int2),
	OPERATOR 3 pg_catalog.= (int4, int2),
	OPERATOR 4 pg_catalog.>= (int4, int2),
	OPERATOR 5 pg_catalog.> (int4, int2),
	OPERATOR 1 pg_catalog.< (int4, int8),
	OPERATOR 2 pg_catalog.<= (int4, int8),
	OPERATOR 3 pg_catalog.= (int4, int8),
	OPERATOR 4 pg_catalog.>= (int4, int8),
	OPERATOR 5 pg_catalog.> (int4, int8),
	OPERATOR 1 pg_catalog.< (int8, int2),
	OPERATOR 2 pg_catalog.<= (int8, int2),
	OPERATOR 3 pg_catalog.= (int8, int2),
	OPERATOR 4 pg_catalog.>= (int8, int2),
	OPERATOR 5 pg_catalog.> (int8, int2),
	OPERATOR 1 pg_catalog.< (int8, int4),
	OPERATOR 2 pg_catalog.<= (int8, int4),
	OPERATOR 3 pg_catalog.= (int8, int4),
	OPERATOR 4 pg_catalog.>= (int8, int4),
	OPERATOR 5 pg_catalog.> (int8, int4);

CREATE OPERATOR CLASS @extschema@.date_filter_ops
	DEFAULT FOR TYPE date USING hnsw AS
	OPERATOR 1 pg_catalog.< (date, date),
	OPERATOR 2 pg_catalog.<= (date, date),
	OPERATOR 3 pg_catalog.= (date, date),
	OPERATOR 4 pg_catalog.>= (date, date),
	OPERATOR 5 pg_catalog.> (date, date);

CREATE OPERATOR CLASS @extschema@.timestamp_filter_ops
	DEFAULT FOR TYPE timestamp USING hnsw AS
	OPERATOR 1 pg_catalog.< (timestamp, timestamp),
	OPERATOR 2 pg_catalog.<= (timestamp, timestamp),
	OPERATOR 3 pg_catalog.= (timestamp, timestamp),
	OPERATOR 4 pg_catalog.>= (timestamp, timestamp),
	OPERATOR 5 pg_catalog.> (timestamp, timestamp);

CREATE OPERATOR CLASS @extschema@.timestamptz_filter_ops
	DEFAULT FOR TYPE timestamptz USING hnsw AS
	OPERATOR 1 pg_catalog.< (timestamptz, timestamptz),
	OPERATOR 2 pg_catalog.<= (timestamptz, timestamptz),
	OPERATOR 3 pg_catalog.= (timestamptz, timestamptz),
	OPERATOR 4 pg_catalog.>= (timestamptz, timestamptz),
	OPERATOR 5 pg_catalog.> (timestamptz, timestamptz);

CREATE OPERATOR CLASS @extschema@.bool_filter_ops
	DEFAULT FOR TYPE bool USING hnsw AS
	OPERATOR 3 pg_catalog.= (bool, bool);

CREATE OPERATOR CLASS @extschema@.text_filter_ops
	DEFAULT FOR TYPE text USING hnsw AS
	OPERATOR 3 pg_catalog.= (text, text);

CREATE OPERATOR CLASS @extschema@.uuid_filter_ops
	DEFAULT FOR TYPE uuid USING hnsw AS
	OPERATOR 3 pg_catalog.= (uuid, uuid);

CREATE OPERATOR CLASS @extschema@.int4_array_filter_ops
	DEFAULT FOR TYPE int4[] USING hnsw AS
	OPERATOR 6 pg_catalog.&& (anyarray, anyarray),
	OPERATOR 7 pg_catalog.@> (anyarray, anyarray);
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
-- 65_ivfpq_filter.sql: operator classes for the filter columns of a
-- multicolumn ivfpq index, USING ivfpq (v vector_l2_ops, label) (see
-- src/am/ivfpq/README, "Filter columns").  The same classes as hnsw's
-- (55_hnsw_filter.sql) and the same payload encoding: strategies 1 <, 2 <=,
-- 3 =, 4 >=, 5 >, 6 &&, 7 @>; integers (one family, cross-type), bool, date
-- and timestamps exact; text, varchar and uuid hashed (equality only,
-- rechecked); int4[] as a signature (&&, @>, rechecked).  No support
-- functions; the operators are the built-in ones, named with pg_catalog.

CREATE OPERATOR FAMILY @extschema@.integer_filter_ops USING ivfpq;

CREATE OPERATOR CLASS @extschema@.int2_filter_ops
	DEFAULT FOR TYPE int2 USING ivfpq FAMILY @extschema@.integer_filter_ops AS
	OPERATOR 1 pg_catalog.< (int2, int2),
	OPERATOR 2 pg_catalog.<= (int2, int2),
	OPERATOR 3 pg_catalog.= (int2, int2),
	OPERATOR 4 pg_catalog.>= (int2, int2),
	OPERATOR 5 pg_catalog.> (int2, int2);

CREATE OPERATOR CLASS @extschema@.int4_filter_ops
	DEFAULT FOR TYPE int4 USING ivfpq FAMILY @extschema@.integer_filter_ops AS
	OPERATOR 1 pg_catalog.< (int4, int4),
	OPERATOR 2 pg_catalog.<= (int4, int4),
	OPERATOR 3 pg_catalog.= (int4, int4),
	OPERATOR 4 pg_catalog.>= (int4, int4),
	OPERATOR 5 pg_catalog.> (int4, int4);

CREATE OPERATOR CLASS @extschema@.int8_filter_ops
	DEFAULT FOR TYPE int8 USING ivfpq FAMILY @extschema@.integer_filter_ops AS
	OPERATOR 1 pg_catalog.< (int8, int8),
	OPERATOR 2 pg_catalog.<= (int8, int8),
	OPERATOR 3 pg_catalog.= (int8, int8),
	OPERATOR 4 pg_catalog.>= (int8, int8),
	OPERATOR 5 pg_catalog.> (int8, int8);

ALTER OPERATOR FAMILY @extschema@.integer_filter_ops USING ivfpq ADD
	OPERATOR 1 pg_catalog.< (int2, int4),
	OPERATOR 2 pg_catalog.<= (int2, int4),
	OPERATOR 3 pg_catalog.= (int2, int4),
	OPERATOR 4 pg_catalog.>= (int2, int4),
	OPERATOR 5 pg_catalog.> (int2, int4),
	OPERATOR 1 pg_catalog.< (int2, int8),
	OPERATOR 2 pg_catalog.<= (int2, int8),
	OPERATOR 3 pg_catalog.= (int2, int8),
	OPERATOR 4 pg_catalog.>= (int2, int8),
	OPERATOR 5 pg_catalog.> (int2, int8),
	OPERATOR 1 pg_catalog.< (int4, int2),
	OPERATOR 2 pg_catalog.<= (int4, int2),
	OPERATOR 3 pg_catalog.= (int4, int2),
	OPERATOR 4 pg_catalog.>= (int4, int2),
	OPERATOR 5 pg_catalog.> (int4, int2),
	OPERATOR 1 pg_catalog.< (int4, int8),
	OPERATOR 2 pg_catalog.<= (int4, int8),
	OPERATOR 3 pg_catalog.= (int4, int8),
	OPERATOR 4 pg_catalog.>= (int4, int8),
	OPERATOR 5 pg_catalog.> (int4, int8),
	OPERATOR 1 pg_catalog.< (int8, int2),
	OPERATOR 2 pg_catalog.<= (int8, int2),
	OPERATOR 3 pg_catalog.= (int8, int2),
	OPERATOR 4 pg_catalog.>= (int8, int2),
	OPERATOR 5 pg_catalog.> (int8, int2),
	OPERATOR 1 pg_catalog.< (int8, int4),
	OPERATOR 2 pg_catalog.<= (int8, int4),
	OPERATOR 3 pg_catalog.= (int8, int4),
	OPERATOR 4 pg_catalog.>= (int8, int4),
	OPERATOR 5 pg_catalog.> (int8, int4);

CREATE OPERATOR CLASS @extschema@.date_filter_ops
	DEFAULT FOR TYPE date USING ivfpq AS
	OPERATOR 1 pg_catalog.< (date, date),
	OPERATOR 2 pg_catalog.<= (date, date),
	OPERATOR 3 pg_catalog.= (date, date),
	OPERATOR 4 pg_catalog.>= (date, date),
	OPERATOR 5 pg_catalog.> (date, date);

CREATE OPERATOR CLASS @extschema@.timestamp_filter_ops
	DEFAULT FOR TYPE timestamp USING ivfpq AS
	OPERATOR 1 pg_catalog.< (timestamp, timestamp),
	OPERATOR 2 pg_catalog.<= (timestamp, timestamp),
	OPERATOR 3 pg_catalog.= (timestamp, timestamp),
	OPERATOR 4 pg_catalog.>= (timestamp, timestamp),
	OPERATOR 5 pg_catalog.> (timestamp, timestamp);

CREATE OPERATOR CLASS @extschema@.timestamptz_filter_ops
	DEFAULT FOR TYPE timestamptz USING ivfpq AS
	OPERATOR 1 pg_catalog.< (timestamptz, timestamptz),
	OPERATOR 2 pg_catalog.<= (timestamptz, timestamptz),
	OPERATOR 3 pg_catalog.= (timestamptz, timestamptz),
	OPERATOR 4 pg_catalog.>= (timestamptz, timestamptz),
	OPERATOR 5 pg_catalog.> (timestamptz, timestamptz);

CREATE OPERATOR CLASS @extschema@.bool_filter_ops
	DEFAULT FOR TYPE bool USING ivfpq AS
	OPERATOR 3 pg_catalog.= (bool, bool);

CREATE OPERATOR CLASS @extschema@.text_filter_ops
	DEFAULT FOR TYPE text USING ivfpq AS
	OPERATOR 3 pg_catalog.= (text, text);

CREATE OPERATOR CLASS @extschema@.uuid_filter_ops
	DEFAULT FOR TYPE uuid USING ivfpq AS
	OPERATOR 3 pg_catalog.= (uuid, uuid);

CREATE OPERATOR CLASS @extschema@.int4_array_filter_ops
	DEFAULT FOR TYPE int4[] USING ivfpq AS
	OPERATOR 6 pg_catalog.&& (anyarray, anyarray),
	OPERATOR 7 pg_catalog.@> (anyarray, anyarray);
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
