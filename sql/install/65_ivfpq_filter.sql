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
