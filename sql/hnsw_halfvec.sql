-- hnsw on halfvec: every opclass against the exact order.
SET enable_seqscan = off;
SET hnsw.ef_search = 400;

CREATE TABLE hh (id int PRIMARY KEY, v halfvec(4));
INSERT INTO hh SELECT i, ARRAY[sin(i * 0.37), cos(i * 1.31), sin(i * 0.11 + 1), cos(i * 0.05)]::halfvec(4)
  FROM generate_series(1, 300) i;
INSERT INTO hh VALUES (1001, NULL), (1002, '[0,0,0,0]');

CREATE FUNCTION hh_check(q halfvec, op text, k int) RETURNS bool LANGUAGE plpgsql AS $$
DECLARE a float8[]; b float8[];
BEGIN
  -- compare distances, not ids, with a tolerance: float16 rounding (and,
  -- for cosine, the index's stored unit vectors) may swap near-ties
  EXECUTE format('SELECT array_agg(d ORDER BY d) FROM (SELECT v %s $1 AS d FROM hh ORDER BY v %s $1 LIMIT %s) s', op, op, k) INTO a USING q;
  SET LOCAL enable_indexscan = off;
  EXECUTE format('SELECT array_agg(d) FROM (SELECT v %s $1 AS d FROM hh WHERE v IS NOT NULL AND NOT (v %s $1 = ''NaN'') ORDER BY (v %s $1) + 0 LIMIT %s) s', op, op, op, k) INTO b USING q;
  RETURN array_length(a, 1) = array_length(b, 1) AND
    (SELECT bool_and(abs(x - y) <= 1e-3 * greatest(1, abs(y))) FROM unnest(a, b) AS u(x, y));
END $$;

CREATE INDEX hh_l2 ON hh USING hnsw (v halfvec_l2_ops);
EXPLAIN (COSTS OFF) SELECT id FROM hh ORDER BY v <-> '[0.1,0.2,0.3,0.4]' LIMIT 5;
SELECT hh_check('[0.1,0.2,0.3,0.4]', '<->', 10), hh_check('[-1,0.5,0,1]', '<->', 100);
SELECT count(*) FROM (SELECT id FROM hh ORDER BY v <-> '[0,0,0,0]' LIMIT 1000) s;
DROP INDEX hh_l2;

CREATE INDEX hh_ip ON hh USING hnsw (v halfvec_ip_ops);
EXPLAIN (COSTS OFF) SELECT id FROM hh ORDER BY v <#> '[0.1,0.2,0.3,0.4]' LIMIT 5;
SELECT hh_check('[0.1,0.2,0.3,0.4]', '<#>', 10), hh_check('[-1,0.5,0,1]', '<#>', 100);
DROP INDEX hh_ip;

CREATE INDEX hh_cos ON hh USING hnsw (v halfvec_cosine_ops);
EXPLAIN (COSTS OFF) SELECT id FROM hh ORDER BY v <=> '[0.1,0.2,0.3,0.4]' LIMIT 5;
SELECT count(*) FROM (SELECT id FROM hh ORDER BY v <=> '[1,1,1,1]' LIMIT 1000) s;
SELECT count(*) FROM (SELECT id FROM hh ORDER BY v <=> '[0,0,0,0]' LIMIT 5) s;
SELECT hh_check('[0.1,0.2,0.3,0.4]', '<=>', 10), hh_check('[-1,0.5,0,1]', '<=>', 100);
DROP INDEX hh_cos;

CREATE INDEX hh_l1 ON hh USING hnsw (v halfvec_l1_ops);
EXPLAIN (COSTS OFF) SELECT id FROM hh ORDER BY v <+> '[0.1,0.2,0.3,0.4]' LIMIT 5;
SELECT hh_check('[0.1,0.2,0.3,0.4]', '<+>', 10), hh_check('[-1,0.5,0,1]', '<+>', 100);

-- inserts and vacuum
INSERT INTO hh SELECT i, ARRAY[sin(i * 0.37), cos(i * 1.31), sin(i * 0.11 + 1), cos(i * 0.05)]::halfvec(4)
  FROM generate_series(301, 400) i;
DELETE FROM hh WHERE id % 4 = 0;
VACUUM hh;
SELECT hh_check('[0.1,0.2,0.3,0.4]', '<+>', 10), hh_check('[-1,0.5,0,1]', '<+>', 100);
DROP INDEX hh_l1;

-- a halfvec index is about half the size of the vector one
CREATE TABLE hs (v vector(400));
INSERT INTO hs SELECT ARRAY(SELECT sin(i * j) FROM generate_series(1, 400) j)::vector(400)
  FROM generate_series(1, 400) i;
CREATE INDEX hs_v ON hs USING hnsw (v vector_l2_ops);
CREATE INDEX hs_h ON hs USING hnsw ((v::halfvec(400)) halfvec_l2_ops);
SELECT pg_relation_size('hs_h')::float8 / pg_relation_size('hs_v') BETWEEN 0.45 AND 0.6 AS about_half;
DROP TABLE hs;

DROP TABLE hh;
DROP FUNCTION hh_check;
