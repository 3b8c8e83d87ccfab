-- hnsw with quantization = sq8: 8-bit codes in the index, exact order
-- from the heap (the executor re-ranks rows returned with lower bounds).
SET enable_seqscan = off;
SET hnsw.ef_search = 400;

-- the reloption
CREATE TABLE sq (id int PRIMARY KEY, v vector(24), h halfvec(24));
CREATE INDEX sq_bad ON sq USING hnsw (v vector_l2_ops) WITH (quantization = 'sq4');
CREATE INDEX sq_none ON sq USING hnsw (v vector_l2_ops) WITH (quantization = none);
DROP INDEX sq_none;

-- 2,000 rows of mixed scale, negative values, exact duplicates, a row whose
-- elements are all equal (scale 0), a zero vector, NULLs
INSERT INTO sq SELECT i, v, v::halfvec FROM (
  SELECT i, (SELECT array_agg(((i * 7919 + j * 104729) % 1000) / 100.0 * (1 + (i % 5)) - 20 * (j % 3)
                              ORDER BY j)
             FROM generate_series(1, 24) j)::vector(24) AS v
  FROM generate_series(1, 2000) i) s;
INSERT INTO sq SELECT 3000 + id, v, h FROM sq WHERE id <= 20;
INSERT INTO sq VALUES (5000, array_fill(3.5, ARRAY[24])::vector, array_fill(3.5, ARRAY[24])::halfvec),
  (5001, array_fill(0, ARRAY[24])::vector, array_fill(0, ARRAY[24])::halfvec),
  (5002, NULL, NULL);

-- k rows through the index in exactly the exact order (distances compared,
-- so ties may swap ids), and at least min_hits of the exact k ids
CREATE FUNCTION sq_check(col text, q text, op text, k int, min_hits int) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE a float8[]; ai int[]; b float8[]; bi int[]; hits int; sorted bool; exact bool;
BEGIN
  EXECUTE format('SELECT array_agg(d ORDER BY n), array_agg(id ORDER BY n) FROM (SELECT id, %I %s %L AS d, row_number() OVER () AS n FROM (SELECT id, %I FROM sq ORDER BY %I %s %L LIMIT %s) s) t',
                 col, op, q, col, col, op, q, k) INTO a, ai;
  SET LOCAL enable_indexscan = off;
  EXECUTE format('SELECT array_agg(d ORDER BY d, id), array_agg(id ORDER BY d, id) FROM (SELECT id, %I %s %L AS d FROM sq WHERE %I IS NOT NULL AND NOT ((%I %s %L) = ''NaN'') ORDER BY (%I %s %L) + 0 LIMIT %s) s',
                 col, op, q, col, col, op, q, col, op, q, k) INTO b, bi;
  SELECT bool_and(x <= y) INTO sorted FROM unnest(a[1:k-1], a[2:k]) AS u(x, y);
  SELECT count(*) INTO hits FROM unnest(ai) x WHERE x = ANY (bi);
  exact := a = b;
  -- ties may swap ids: the exact distances agreeing is as good as all hits
  RETURN format('rows %s sorted %s found %s', array_length(a, 1), coalesce(sorted, true),
                exact OR hits >= min_hits) ||
         CASE WHEN NOT (exact OR hits >= min_hits) OR NOT coalesce(sorted, true)
              THEN format(' (hits %s of %s)', hits, k) ELSE '' END;
END $$;

-- vector, each opclass
CREATE INDEX sq_l2 ON sq USING hnsw (v vector_l2_ops) WITH (quantization = sq8);
EXPLAIN (COSTS OFF) SELECT id FROM sq ORDER BY v <-> '[1,2,3,4,5,6,7,8,9,10,11,12,1,2,3,4,5,6,7,8,9,10,11,12]' LIMIT 5;
SELECT sq_check('v', (SELECT v::text FROM sq WHERE id = 17), '<->', 10, 10);
SELECT sq_check('v', '[1,2,3,4,5,6,7,8,9,10,11,12,1,2,3,4,5,6,7,8,9,10,11,12]', '<->', 50, 48);
-- exact matches come first at distance 0 (rows 5, 1005 and 3005 are equal;
-- which two of them is up to the graph)
SELECT count(*) AS rows, bool_and(d = 0) AS exact, bool_and(id % 1000 = 5) AS copies_of_5
  FROM (SELECT id, v <-> (SELECT v FROM sq WHERE id = 5) AS d FROM sq
        ORDER BY v <-> (SELECT v FROM sq WHERE id = 5) LIMIT 2) s;
SELECT id, v <-> array_fill(3.5, ARRAY[24])::vector AS d FROM sq
  ORDER BY v <-> array_fill(3.5, ARRAY[24])::vector LIMIT 1;
-- every non-NULL row comes back, in order but for at most one step back
-- where the exact pass takes over
SELECT count(*) = (SELECT count(v) FROM sq) AS all_rows,
       count(*) FILTER (WHERE NOT ok) <= 1 AS one_step_back_at_most FROM (
  SELECT d >= lag(d, 1, 0::float8) OVER (ORDER BY n) AS ok FROM (
    SELECT v <-> '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' AS d, row_number() OVER () AS n
    FROM (SELECT v FROM sq ORDER BY v <-> '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 5000) s) t) u;
-- OFFSET: the reorder queue keeps the order past the first rows
SELECT sq_check('v', (SELECT v::text FROM sq WHERE id = 999), '<->', 200, 190);
SELECT vecx_index_check('sq_l2');
DROP INDEX sq_l2;

CREATE INDEX sq_ip ON sq USING hnsw (v vector_ip_ops) WITH (quantization = sq8);
SELECT sq_check('v', (SELECT v::text FROM sq WHERE id = 17), '<#>', 10, 9);
SELECT sq_check('v', '[1,-2,3,-4,5,-6,7,-8,9,-10,11,-12,1,2,3,4,5,6,7,8,9,10,11,12]', '<#>', 50, 45);
SELECT vecx_index_check('sq_ip');
DROP INDEX sq_ip;

CREATE INDEX sq_cos ON sq USING hnsw (v vector_cosine_ops) WITH (quantization = sq8);
SELECT sq_check('v', (SELECT v::text FROM sq WHERE id = 17), '<=>', 10, 10);
SELECT sq_check('v', '[1,-2,3,-4,5,-6,7,-8,9,-10,11,-12,1,2,3,4,5,6,7,8,9,10,11,12]', '<=>', 50, 48);
-- the zero vector is not indexed under cosine; a zero query ties every row
SELECT count(*) = (SELECT count(*) FROM sq WHERE vector_norm(v) > 0) AS all_rows
  FROM (SELECT id FROM sq ORDER BY v <=> array_fill(1, ARRAY[24])::vector LIMIT 5000) s;
SELECT count(*) FROM (SELECT id FROM sq ORDER BY v <=> array_fill(0, ARRAY[24])::vector LIMIT 5) s;
SELECT vecx_index_check('sq_cos');
DROP INDEX sq_cos;

CREATE INDEX sq_l1 ON sq USING hnsw (v vector_l1_ops) WITH (quantization = sq8);
SELECT sq_check('v', (SELECT v::text FROM sq WHERE id = 17), '<+>', 10, 10);
SELECT sq_check('v', '[1,2,3,4,5,6,7,8,9,10,11,12,1,2,3,4,5,6,7,8,9,10,11,12]', '<+>', 50, 48);
SELECT vecx_index_check('sq_l1');
DROP INDEX sq_l1;

-- halfvec
CREATE INDEX sq_hl2 ON sq USING hnsw (h halfvec_l2_ops) WITH (quantization = sq8);
SELECT sq_check('h', (SELECT h::text FROM sq WHERE id = 17), '<->', 10, 10);
SELECT sq_check('h', '[1,2,3,4,5,6,7,8,9,10,11,12,1,2,3,4,5,6,7,8,9,10,11,12]', '<->', 50, 48);
SELECT vecx_index_check('sq_hl2');
DROP INDEX sq_hl2;
CREATE INDEX sq_hcos ON sq USING hnsw (h halfvec_cosine_ops) WITH (quantization = sq8);
SELECT sq_check('h', '[1,-2,3,-4,5,-6,7,-8,9,-10,11,-12,1,2,3,4,5,6,7,8,9,10,11,12]', '<=>', 50, 48);
DROP INDEX sq_hcos;
CREATE INDEX sq_hip ON sq USING hnsw (h halfvec_ip_ops) WITH (quantization = sq8);
SELECT sq_check('h', '[1,-2,3,-4,5,-6,7,-8,9,-10,11,-12,1,2,3,4,5,6,7,8,9,10,11,12]', '<#>', 50, 45);
DROP INDEX sq_hip;
CREATE INDEX sq_hl1 ON sq USING hnsw (h halfvec_l1_ops) WITH (quantization = sq8);
SELECT sq_check('h', '[1,2,3,4,5,6,7,8,9,10,11,12,1,2,3,4,5,6,7,8,9,10,11,12]', '<+>', 50, 48);
DROP INDEX sq_hl1;

-- inserts into an empty index quantize each vector on its own (no
-- training); then deletes and vacuum.  Every row must be reachable: relaxed
-- order, which never drops a late row
SET hnsw.iterative_scan = relaxed_order;
CREATE TABLE sq2 (id int, v vector(24));
CREATE INDEX sq2_v ON sq2 USING hnsw (v vector_l2_ops) WITH (quantization = sq8);
INSERT INTO sq2 SELECT id, v FROM sq WHERE v IS NOT NULL;
SELECT count(*) FROM (SELECT id FROM sq2 ORDER BY v <-> (SELECT v FROM sq WHERE id = 3) LIMIT 3000) s;
DELETE FROM sq2 WHERE id % 3 = 0;
VACUUM sq2;
SELECT count(*), count(*) FILTER (WHERE id % 3 = 0) FROM (SELECT id FROM sq2 ORDER BY v <-> (SELECT v FROM sq WHERE id = 3) LIMIT 3000) s;
SELECT vecx_index_check('sq2_v', heapallindexed => true);
-- the metapage, not a changed reloption, says how vectors are stored
ALTER INDEX sq2_v SET (quantization = none);
INSERT INTO sq2 SELECT id + 10000, v FROM sq WHERE id % 3 = 0 AND v IS NOT NULL;
SELECT vecx_index_check('sq2_v', heapallindexed => true);
SELECT count(*), count(*) FILTER (WHERE id > 10000) FROM (SELECT id FROM sq2 ORDER BY v <-> (SELECT v FROM sq WHERE id = 3) LIMIT 3000) s;

RESET hnsw.iterative_scan;

-- a filter column, and the exact pass of a selective filter
CREATE TABLE sq3 (id int, cat int, v vector(24));
INSERT INTO sq3 SELECT id, id % 50, v FROM sq WHERE v IS NOT NULL;
CREATE INDEX sq3_v ON sq3 USING hnsw (v vector_l2_ops, cat) WITH (quantization = sq8);
SET hnsw.ef_search = 40;
SELECT count(*), bool_and(cat = 7), bool_and(ok) FROM (
  SELECT cat, d >= lag(d, 1, 0::float8) OVER (ORDER BY n) AS ok FROM (
    SELECT cat, v <-> '[1,2,3,4,5,6,7,8,9,10,11,12,1,2,3,4,5,6,7,8,9,10,11,12]' AS d, row_number() OVER () AS n
    FROM (SELECT cat, v FROM sq3 WHERE cat = 7
          ORDER BY v <-> '[1,2,3,4,5,6,7,8,9,10,11,12,1,2,3,4,5,6,7,8,9,10,11,12]' LIMIT 30) s) t) u;
SELECT vecx_index_check('sq3_v');

-- large vectors: sq8 codes of 16,000 dimensions go to overflow pages
CREATE TABLE sq4 (id int, v vector(16000));
INSERT INTO sq4 SELECT i, (SELECT array_agg((i + (j % 7) * 0.1)::float4) FROM generate_series(1, 16000) j)::vector
  FROM generate_series(1, 20) i;
CREATE INDEX sq4_v ON sq4 USING hnsw (v vector_l2_ops) WITH (quantization = sq8);
SELECT id FROM sq4 ORDER BY v <-> array_fill(7.2, ARRAY[16000])::vector LIMIT 3;
SELECT vecx_index_check('sq4_v', heapallindexed => true);

-- many equal bounds, a filter the index cannot see matching a handful of
-- rows: every bound of a batch ties, so the strict order holds them all,
-- and each further batch must grow until the walk expands again.  (The
-- differential test's seed 18, a table of this shape, searched the same
-- batch forever on some builds of its graph; this one finishes either way.)
CREATE TABLE sq5 (id int, a int, b int, v halfvec(1));
INSERT INTO sq5 SELECT i, (i * 7919) % 700, i % 100,
  CASE WHEN i % 2 = 0 THEN '[-3]'::halfvec ELSE '[-3.3105469]'::halfvec END
  FROM generate_series(1, 5600) i;
CREATE INDEX sq5_v ON sq5 USING hnsw (v halfvec_l2_ops, b) WITH (m = 8, ef_construction = 16, quantization = sq8);
SET enable_seqscan = off;
SET statement_timeout = '60s';
SELECT count(*), bool_and(a < 1), bool_and(ok) FROM (
  SELECT a, d >= lag(d, 1, 0::float8) OVER (ORDER BY n) AS ok FROM (
    SELECT a, v <-> '[-3.3105469]' AS d, row_number() OVER () AS n
    FROM (SELECT a, v FROM sq5 WHERE a < 1 ORDER BY v <-> '[-3.3105469]' LIMIT 10) s) t) u;
RESET statement_timeout;
RESET enable_seqscan;

DROP TABLE sq, sq2, sq3, sq4, sq5;
DROP FUNCTION sq_check;
