-- hnsw on vectors too large for a node (overflow pages): vector(3000),
-- vector(16000), halfvec(5000), halfvec(16000); l2, inner product, cosine.
SET enable_seqscan = off;
SET hnsw.ef_search = 1000;
SELECT setseed(0.25);

-- index order against the exact order: the k nearest distances must be the
-- same (a tolerance for float16 and the index's stored unit vectors)
CREATE FUNCTION hd_check(tbl text, op text, qid int, k int) RETURNS bool LANGUAGE plpgsql AS $$
DECLARE a float8[]; b float8[];
BEGIN
  EXECUTE format('SELECT array_agg(d ORDER BY n) FROM (SELECT v %s (SELECT v FROM %I WHERE id = %s) AS d, row_number() OVER () AS n FROM (SELECT v FROM %I ORDER BY v %s (SELECT v FROM %I WHERE id = %s) LIMIT %s) s0) s',
                 op, tbl, qid, tbl, op, tbl, qid, k) INTO a;
  SET LOCAL enable_indexscan = off;
  SET LOCAL enable_seqscan = on;
  EXECUTE format('SELECT array_agg(d ORDER BY d) FROM (SELECT v %s (SELECT v FROM %I WHERE id = %s) AS d FROM %I ORDER BY 1 LIMIT %s) s',
                 op, tbl, qid, tbl, k) INTO b;
  RETURN array_length(a, 1) = k AND array_length(b, 1) = k AND
    (SELECT bool_and(abs(x - y) <= 1e-4 * greatest(1, abs(y))) FROM unnest(a, b) AS u(x, y));
END $$;

-- per table and metric: build, search, inserts after the build, then
-- delete + VACUUM + insert (reusing freed nodes and their overflow chains)
CREATE FUNCTION hd_dim(typ text) RETURNS text LANGUAGE sql AS $$ SELECT split_part(split_part(typ, '(', 2), ')', 1) $$;
CREATE FUNCTION hd_op(m text) RETURNS text LANGUAGE sql AS $$ SELECT CASE m WHEN 'l2' THEN '<->' WHEN 'ip' THEN '<#>' ELSE '<=>' END $$;
CREATE FUNCTION hd_phase1(tbl text, typ text, ops text, m text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE op text := hd_op(m); ok bool; n int;
BEGIN
  EXECUTE format('CREATE INDEX %I ON %I USING hnsw (v %s_%s_ops)', tbl || '_' || m, tbl, ops, m);
  ok := hd_check(tbl, op, 1, 10) AND hd_check(tbl, op, 77, 50);
  RETURN NEXT format('%s %s build: %s', tbl, m, ok);
  EXECUTE format('INSERT INTO %I SELECT i, ARRAY(SELECT random() - 0.5 + 0 * i FROM generate_series(1, %s))::%s FROM generate_series(1001, 1030) i',
                 tbl, hd_dim(typ), typ);
  ok := hd_check(tbl, op, 1005, 10) AND hd_check(tbl, op, 3, 40);
  EXECUTE format('SELECT count(*) FROM (SELECT id FROM %I ORDER BY v %s (SELECT v FROM %I WHERE id = 1020) LIMIT 1000) s', tbl, op, tbl) INTO n;
  RETURN NEXT format('%s %s insert: %s, rows %s', tbl, m, ok, n);
  EXECUTE format('DELETE FROM %I WHERE id %% 5 = 0 OR id BETWEEN 1001 AND 1030', tbl);
END $$;
CREATE FUNCTION hd_phase2(tbl text, typ text, m text, chain int) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE op text := hd_op(m); ok bool; n int; before bigint; after bigint;
BEGIN
  before := pg_relation_size(format('%I', tbl || '_' || m));
  EXECUTE format('INSERT INTO %I SELECT i, ARRAY(SELECT random() - 0.5 + 0 * i FROM generate_series(1, %s))::%s FROM generate_series(2001, 2020) i',
                 tbl, hd_dim(typ), typ);
  after := pg_relation_size(format('%I', tbl || '_' || m));
  ok := hd_check(tbl, op, 2003, 10) AND hd_check(tbl, op, 4, 40) AND hd_check(tbl, op, 2, 40);
  EXECUTE format('SELECT count(*) FROM (SELECT id FROM %I ORDER BY v %s (SELECT v FROM %I WHERE id = 2010) LIMIT 1000) s', tbl, op, tbl) INTO n;
  -- 20 vectors in fresh chains would add at least 20 * chain pages; a new
  -- node above level 0 may not fit a freed level-0 slot (1 in 16 or so)
  RETURN NEXT format('%s %s vacuum: %s, rows %s, freed space reused: %s', tbl, m, ok, n,
                     (after - before) / 8192 < 10 * chain);
  -- restore the table for the next metric
  EXECUTE format('DELETE FROM %I WHERE id > 1000', tbl);
  EXECUTE format('DROP INDEX %I', tbl || '_' || m);
END $$;

CREATE TABLE hd3 (id int PRIMARY KEY, v vector(3000));
INSERT INTO hd3 SELECT i, ARRAY(SELECT random() - 0.5 + 0 * i FROM generate_series(1, 3000))::vector(3000)
  FROM generate_series(1, 300) i;
CREATE TABLE hd16 (id int PRIMARY KEY, v vector(16000));
INSERT INTO hd16 SELECT i, ARRAY(SELECT random() - 0.5 + 0 * i FROM generate_series(1, 16000))::vector(16000)
  FROM generate_series(1, 200) i;
CREATE TABLE hh5 (id int PRIMARY KEY, v halfvec(5000));
INSERT INTO hh5 SELECT i, ARRAY(SELECT random() - 0.5 + 0 * i FROM generate_series(1, 5000))::halfvec(5000)
  FROM generate_series(1, 300) i;
CREATE TABLE hh16 (id int PRIMARY KEY, v halfvec(16000));
INSERT INTO hh16 SELECT i, ARRAY(SELECT random() - 0.5 + 0 * i FROM generate_series(1, 16000))::halfvec(16000)
  FROM generate_series(1, 200) i;

-- the plan uses the index
CREATE INDEX hd16_plan ON hd16 USING hnsw (v vector_l2_ops);
EXPLAIN (COSTS OFF) SELECT id FROM hd16 ORDER BY v <-> (SELECT v FROM hd16 WHERE id = 1) LIMIT 5;
SELECT id FROM hd16 ORDER BY v <-> (SELECT v FROM hd16 WHERE id = 42) LIMIT 1;
-- nodes keep a reference; vectors are on overflow pages (8 per vector here)
SELECT pg_relation_size('hd16_plan') / 8192 BETWEEN 200 * 8 AND 200 * 8 + 20 AS size_ok;
DROP INDEX hd16_plan;
CREATE INDEX hh16_plan ON hh16 USING hnsw (v halfvec_cosine_ops);
EXPLAIN (COSTS OFF) SELECT id FROM hh16 ORDER BY v <=> (SELECT v FROM hh16 WHERE id = 1) LIMIT 5;
SELECT id FROM hh16 ORDER BY v <=> (SELECT v FROM hh16 WHERE id = 42) LIMIT 1;
DROP INDEX hh16_plan;

SELECT * FROM hd_phase1('hd3', 'vector(3000)', 'vector', 'l2');
VACUUM hd3;
SELECT * FROM hd_phase2('hd3', 'vector(3000)', 'l2', 2);
SELECT * FROM hd_phase1('hd3', 'vector(3000)', 'vector', 'ip');
VACUUM hd3;
SELECT * FROM hd_phase2('hd3', 'vector(3000)', 'ip', 2);
SELECT * FROM hd_phase1('hd3', 'vector(3000)', 'vector', 'cosine');
VACUUM hd3;
SELECT * FROM hd_phase2('hd3', 'vector(3000)', 'cosine', 2);
SELECT * FROM hd_phase1('hd16', 'vector(16000)', 'vector', 'l2');
VACUUM hd16;
SELECT * FROM hd_phase2('hd16', 'vector(16000)', 'l2', 8);
SELECT * FROM hd_phase1('hd16', 'vector(16000)', 'vector', 'ip');
VACUUM hd16;
SELECT * FROM hd_phase2('hd16', 'vector(16000)', 'ip', 8);
SELECT * FROM hd_phase1('hd16', 'vector(16000)', 'vector', 'cosine');
VACUUM hd16;
SELECT * FROM hd_phase2('hd16', 'vector(16000)', 'cosine', 8);
SELECT * FROM hd_phase1('hh5', 'halfvec(5000)', 'halfvec', 'l2');
VACUUM hh5;
SELECT * FROM hd_phase2('hh5', 'halfvec(5000)', 'l2', 2);
SELECT * FROM hd_phase1('hh5', 'halfvec(5000)', 'halfvec', 'ip');
VACUUM hh5;
SELECT * FROM hd_phase2('hh5', 'halfvec(5000)', 'ip', 2);
SELECT * FROM hd_phase1('hh5', 'halfvec(5000)', 'halfvec', 'cosine');
VACUUM hh5;
SELECT * FROM hd_phase2('hh5', 'halfvec(5000)', 'cosine', 2);
SELECT * FROM hd_phase1('hh16', 'halfvec(16000)', 'halfvec', 'l2');
VACUUM hh16;
SELECT * FROM hd_phase2('hh16', 'halfvec(16000)', 'l2', 4);
SELECT * FROM hd_phase1('hh16', 'halfvec(16000)', 'halfvec', 'ip');
VACUUM hh16;
SELECT * FROM hd_phase2('hh16', 'halfvec(16000)', 'ip', 4);
SELECT * FROM hd_phase1('hh16', 'halfvec(16000)', 'halfvec', 'cosine');
VACUUM hh16;
SELECT * FROM hd_phase2('hh16', 'halfvec(16000)', 'cosine', 4);

-- the index checker follows every node's overflow chain and compares it
-- with the heap (second argument: heapallindexed)
CREATE INDEX hd16_chk ON hd16 USING hnsw (v vector_ip_ops);
CREATE INDEX hh5_chk ON hh5 USING hnsw (v halfvec_cosine_ops);
SELECT vecx_index_check('hd16_chk', true), vecx_index_check('hh5_chk', true);
DROP INDEX hd16_chk, hh5_chk;
-- a filter column next to a large vector
CREATE INDEX hd3_f ON hd3 USING hnsw (v vector_l2_ops, id);
SELECT count(*) FROM (SELECT id FROM hd3 WHERE id < 100 ORDER BY v <-> (SELECT v FROM hd3 WHERE id = 9) LIMIT 10) s;
SELECT (SELECT id FROM hd3 WHERE id < 100 ORDER BY v <-> (SELECT v FROM hd3 WHERE id = 9) LIMIT 1) AS nearest;
DROP TABLE hd3, hd16, hh5, hh16;
DROP FUNCTION hd_phase1(text, text, text, text);
DROP FUNCTION hd_phase2(text, text, text, int);
DROP FUNCTION hd_dim(text);
DROP FUNCTION hd_op(text);
DROP FUNCTION hd_check(text, text, int, int);
