-- The planner's cost of a distance: arithmetic by dimensions, and the
-- reading of vectors kept out of line (TOAST), which a sequential scan's
-- estimate does not count (src/types/distcost.c).
CREATE FUNCTION dc_cost(q text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE j json;
BEGIN
  EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO j;
  RETURN (j->0->'Plan'->>'Total Cost')::float8;
END $$;

-- 2,000 rows of vector(1536): 6 kB a vector, moved to TOAST by default
CREATE TABLE dc (id int, v vector(1536));
INSERT INTO dc SELECT i, ARRAY(SELECT sin(i * j * 0.001) FROM generate_series(1, 1536) j)::vector
  FROM generate_series(1, 2000) i;
CREATE TABLE dc_plain (id int, v vector(1536));
ALTER TABLE dc_plain ALTER COLUMN v SET STORAGE PLAIN;
INSERT INTO dc_plain SELECT * FROM dc;
CREATE INDEX dc_idx ON dc USING hnsw (v vector_l2_ops);
ANALYZE dc, dc_plain;
SELECT avg_width < 100 AS out_of_line FROM pg_stats WHERE tablename = 'dc' AND attname = 'v';

-- the sort's input pays 2,000 detoastings: the index, reading 10, wins
-- (without the support function: a sequential scan and a sort, 2-5x slower)
EXPLAIN (COSTS OFF) SELECT id FROM dc ORDER BY v <-> (SELECT v FROM dc WHERE id = 7) LIMIT 10;
SELECT id FROM dc ORDER BY v <-> (SELECT v FROM dc WHERE id = 7) LIMIT 3;

-- a distance over out-of-line vectors costs more than over inline ones of
-- the same size, and a 1536-dimension distance more than a 3-dimension one
SELECT dc_cost('SELECT v <-> v FROM dc') - dc_cost('SELECT id FROM dc') >
  10 * (dc_cost('SELECT v <-> v FROM dc_plain') - dc_cost('SELECT id FROM dc_plain')) AS toast_charged;
SELECT dc_cost('SELECT v <-> v FROM dc_plain') - dc_cost('SELECT id FROM dc_plain') >
  10 * (dc_cost('SELECT ''[1,2,3]''::vector(3) <-> ''[1,2,3]''::vector(3) FROM dc_plain') - dc_cost('SELECT id FROM dc_plain')) AS dims_charged;
-- every distance function and operator has the support
SELECT p.oid::regprocedure, p.prosupport <> 0 AS supported
  FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
  WHERE p.proname IN ('l2_distance', 'inner_product', 'cosine_distance', 'l1_distance',
    'vector_negative_inner_product', 'halfvec_negative_inner_product')
    AND p.proargtypes[0]::regtype::text IN ('vector', 'halfvec')
  ORDER BY p.oid::regprocedure::text;
DROP TABLE dc, dc_plain;
DROP FUNCTION dc_cost;
