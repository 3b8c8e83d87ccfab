-- 35_bit.sql: distances on PostgreSQL's own bit type (bit(n) and
-- varbit values of equal length): Hamming and Jaccard, and their
-- operators.

CREATE FUNCTION @extschema@.hamming_distance(bit, bit) RETURNS float8
	AS 'MODULE_PATHNAME', 'vecx_hamming_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.jaccard_distance(bit, bit) RETURNS float8
	AS 'MODULE_PATHNAME', 'vecx_jaccard_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR @extschema@.<~> (
	LEFTARG = bit, RIGHTARG = bit,
	FUNCTION = @extschema@.hamming_distance, COMMUTATOR = OPERATOR(@extschema@.<~>)
);

CREATE OPERATOR @extschema@.<%> (
	LEFTARG = bit, RIGHTARG = bit,
	FUNCTION = @extschema@.jaccard_distance, COMMUTATOR = OPERATOR(@extschema@.<%>)
);
