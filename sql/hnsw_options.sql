-- hnsw reloptions, settings, errors, unlogged tables, reindex, catalog.
CREATE TABLE ho (id int, v vector(3), w vector);
INSERT INTO ho SELECT i, ARRAY[i % 7, i % 11, i % 13]::vector(3) FROM generate_series(1, 200) i;

-- reloption bounds
CREATE INDEX ON ho USING hnsw (v vector_l2_ops) WITH (m = 1);
CREATE INDEX ON ho USING hnsw (v vector_l2_ops) WITH (m = 101);
CREATE INDEX ON ho USING hnsw (v vector_l2_ops) WITH (ef_construction = 3);
CREATE INDEX ON ho USING hnsw (v vector_l2_ops) WITH (ef_construction = 1001);
CREATE INDEX ON ho USING hnsw (v vector_l2_ops) WITH (m = 16, ef_construction = 31);
CREATE INDEX ON ho USING hnsw (v vector_l2_ops) WITH (foo = 1);
-- column without dimensions
CREATE INDEX ON ho USING hnsw (w vector_l2_ops);
-- too many dimensions for a node on one page: vectors go to overflow pages
-- (sql/hnsw_highdim.sql); the limit is the type's, 16000
CREATE TABLE hbig (v vector(3000));
CREATE INDEX ON hbig USING hnsw (v vector_l2_ops);
INSERT INTO hbig SELECT array_fill(i::real, ARRAY[3000]) FROM generate_series(1, 3) i;
SELECT v[1:1] FROM (SELECT v::real[] AS v FROM hbig ORDER BY v <-> array_fill(2.2::real, ARRAY[3000])::vector LIMIT 2) s;
DROP TABLE hbig;
-- no default opclass; only one column
CREATE INDEX ON ho USING hnsw (v);
CREATE INDEX ON ho USING hnsw (v vector_l2_ops, v vector_l2_ops);
-- extreme but valid settings
CREATE INDEX ho_v ON ho USING hnsw (v vector_l2_ops) WITH (m = 2, ef_construction = 4);
DROP INDEX ho_v;
CREATE INDEX ho_v ON ho USING hnsw (v vector_l2_ops) WITH (m = 100, ef_construction = 1000);
DROP INDEX ho_v;

-- settings bounds
SET hnsw.ef_search = 0;
SET hnsw.ef_search = 1001;
SET hnsw.iterative_scan = sideways;
SET hnsw.max_scan_tuples = 0;
SET hnsw.scan_mem_multiplier = 0.5;
SHOW hnsw.ef_search;
SHOW hnsw.iterative_scan;
SHOW hnsw.max_scan_tuples;
SHOW hnsw.scan_mem_multiplier;

-- a tiny build with a tiny maintenance_work_mem goes to disk with a notice
CREATE TABLE hm (v vector(300));
INSERT INTO hm SELECT ARRAY(SELECT sin(i * j) FROM generate_series(1, 300) j)::vector(300)
  FROM generate_series(1, 1500) i;
SET maintenance_work_mem = '1MB';
CREATE INDEX hm_v ON hm USING hnsw (v vector_l2_ops);
RESET maintenance_work_mem;
SET enable_seqscan = off;
SET hnsw.ef_search = 100;
SELECT count(*) FROM (SELECT v FROM hm ORDER BY v <-> (SELECT v FROM hm LIMIT 1) LIMIT 50) s;
RESET hnsw.ef_search;
-- exact duplicates: up to 8 share a node, the nodes of one vector form a
-- cycle through their links, so every copy stays reachable.  (When an
-- insert's search misses every copy among the many equal distances here, its
-- node starts a cycle of its own, reachable through ordinary links: about
-- one build in 15 then returns a few copies after rows of the next value,
-- which relaxed_order allows; hence >= 200 of the 240 first.)
CREATE TABLE hd (id int, v vector(3));
INSERT INTO hd SELECT i, ARRAY[i % 5, 0, 1]::vector(3) FROM generate_series(1, 600) i;
CREATE INDEX hd_v ON hd USING hnsw (v vector_l2_ops) WITH (m = 4, ef_construction = 8);
INSERT INTO hd SELECT i, ARRAY[i % 5, 0, 1]::vector(3) FROM generate_series(601, 1200) i;
SET hnsw.ef_search = 100;
SELECT count(*) FROM (SELECT id FROM hd ORDER BY v <-> '[2,0,1]' LIMIT 8) s WHERE id % 5 = 2;
SET hnsw.iterative_scan = relaxed_order;
SET hnsw.max_scan_tuples = 1000000;
SELECT count(*) FROM (SELECT id FROM hd ORDER BY v <-> '[2,0,1]' LIMIT 5000) s;
SELECT count(*) >= 200 AS copies_first FROM (SELECT id FROM hd ORDER BY v <-> '[2,0,1]' LIMIT 240) s WHERE id % 5 = 2;
SELECT count(*) FROM (SELECT id FROM hd ORDER BY v <-> '[0,0,1]' LIMIT 5000) s;
DELETE FROM hd WHERE id % 3 = 0;
VACUUM hd;
SELECT count(*) FROM (SELECT id FROM hd ORDER BY v <-> '[2,0,1]' LIMIT 5000) s;
SELECT count(*) >= 130 AS copies_first FROM (SELECT id FROM hd ORDER BY v <-> '[2,0,1]' LIMIT 160) s WHERE id % 5 = 2;
RESET hnsw.iterative_scan;
RESET hnsw.max_scan_tuples;
RESET hnsw.ef_search;
DROP TABLE hd;
DROP TABLE hm;

-- the planner prefers a seq scan on a tiny table, the index on a big one
RESET enable_seqscan;
CREATE INDEX ho_v ON ho USING hnsw (v vector_l2_ops);
ANALYZE ho;
EXPLAIN (COSTS OFF) SELECT id FROM ho ORDER BY v <-> '[1,2,3]' LIMIT 5;
-- no index for descending order or without ORDER BY
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM ho ORDER BY v <-> '[1,2,3]' DESC LIMIT 5;
-- a plain scan never uses it, even with seq scans disabled
EXPLAIN (COSTS OFF) SELECT count(*) FROM ho;
SELECT count(*) FROM ho;
RESET enable_seqscan;
CREATE TABLE hp (id int, v vector(3));
INSERT INTO hp SELECT i, ARRAY[sin(i), cos(i), sin(i * 0.3)]::vector(3) FROM generate_series(1, 20000) i;
CREATE INDEX hp_v ON hp USING hnsw (v vector_l2_ops);
ANALYZE hp;
EXPLAIN (COSTS OFF) SELECT id FROM hp ORDER BY v <-> '[1,2,3]' LIMIT 5;
DROP TABLE hp;

-- REINDEX, CREATE/REINDEX CONCURRENTLY
SET enable_seqscan = off;
SELECT id FROM ho ORDER BY v <-> '[1,2,3]', id LIMIT 3;
REINDEX INDEX ho_v;
SELECT id FROM ho ORDER BY v <-> '[1,2,3]' LIMIT 1;
REINDEX INDEX CONCURRENTLY ho_v;
SELECT id FROM ho ORDER BY v <-> '[1,2,3]' LIMIT 1;
DROP INDEX ho_v;
CREATE INDEX CONCURRENTLY ho_v ON ho USING hnsw (v vector_l2_ops);
SELECT indisvalid FROM pg_index WHERE indexrelid = 'ho_v'::regclass;
SELECT id FROM ho ORDER BY v <-> '[1,2,3]' LIMIT 1;

-- UNLOGGED table
CREATE UNLOGGED TABLE hu (id int, v vector(3));
INSERT INTO hu SELECT i, ARRAY[i, i, i]::vector(3) FROM generate_series(1, 100) i;
CREATE INDEX hu_v ON hu USING hnsw (v vector_l2_ops);
INSERT INTO hu VALUES (0, '[0.5,0.5,0.5]');
SELECT id FROM hu ORDER BY v <-> '[0,0,0]' LIMIT 3;
DROP TABLE hu;

-- opclasses validate
SELECT opcname, amvalidate(c.oid) FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
  WHERE amname = 'hnsw' ORDER BY opcname;

DROP TABLE ho;

-- nodes that barely fit a page (m = 4, 2,001 dims: levels 0 and 1 fit,
-- level 2 does not): every drawn level is clamped, in the build and on
-- insert (a double draw once let level 2 through and overran the page)
CREATE TABLE ho_fit (id int, v vector(2001));
INSERT INTO ho_fit SELECT g, (SELECT array_agg(((g * 31 + j * 17) % 101)::real) FROM generate_series(1, 2001) j)::vector
FROM generate_series(1, 60) g;
CREATE INDEX ho_fit_v ON ho_fit USING hnsw (v vector_l2_ops) WITH (m = 4, ef_construction = 16);
INSERT INTO ho_fit SELECT g, (SELECT array_agg(((g * 37 + j * 13) % 103)::real) FROM generate_series(1, 2001) j)::vector
FROM generate_series(61, 120) g;
SELECT vecx_index_check('ho_fit_v');
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM ho_fit ORDER BY v <-> (SELECT v FROM ho_fit WHERE id = 7) LIMIT 200) s;
RESET enable_seqscan;
DROP TABLE ho_fit;
