-- ivfpq: build, scan order against exact, each operator class and type,
-- inserts after build, vacuum, NULLs, empty and tiny tables.
SET client_min_messages = notice;

CREATE TABLE ivt (id int, v vector(4));
INSERT INTO ivt SELECT i, ARRAY[sin(i), cos(i * 1.3), sin(i * 0.7) * 2, cos(i * 0.11)]::real[]::vector
	FROM generate_series(1, 2000) i;
INSERT INTO ivt VALUES (0, NULL);

CREATE INDEX ivt_l2 ON ivt USING ivfpq (v vector_l2_ops) WITH (lists = 16);
SET enable_seqscan = off;

-- the planner uses the index for ORDER BY distance LIMIT
EXPLAIN (costs off) SELECT id FROM ivt ORDER BY v <-> '[0.5, 0.5, 0.5, 0.5]' LIMIT 5;

-- helpers: ids of the k nearest through the index and exactly
CREATE FUNCTION ivt_knn(q vector, k int) RETURNS int[] LANGUAGE sql AS
	'SELECT array_agg(id) FROM (SELECT id FROM ivt ORDER BY v <-> q LIMIT k) s';
CREATE FUNCTION ivt_exact(q vector, k int) RETURNS int[] LANGUAGE sql AS
	'SELECT array_agg(id ORDER BY d, id) FROM (SELECT id, l2_distance(v, q) d FROM ivt WHERE v IS NOT NULL ORDER BY d, id LIMIT k) s';

-- probing every list gives the exact answer, in exact order
SET ivfpq.probes = 16;
SELECT ivt_knn(q, 10) = ivt_exact(q, 10) AS exact_order
	FROM (VALUES ('[0.5, 0.5, 0.5, 0.5]'::vector), ('[-1, 0, 2, 1]'), ('[0, 0, 0, 0]'), ('[3, -3, 3, -3]')) x(q);

-- with few probes the rows still come in exact distance order
SET ivfpq.probes = 2;
SELECT bool_and(d >= prev) AS ordered, count(*) FROM (
	SELECT d, lag(d, 1, 0::float8) OVER () AS prev FROM (
		SELECT v <-> '[0.1, 0.2, 0.3, 0.4]' AS d FROM ivt ORDER BY v <-> '[0.1, 0.2, 0.3, 0.4]' LIMIT 50) s) t;
-- and recall is high with a quarter of the lists
SET ivfpq.probes = 4;
SELECT cardinality(array(SELECT unnest(ivt_knn('[0.1, 0.2, 0.3, 0.4]', 10)) INTERSECT
	SELECT unnest(ivt_exact('[0.1, 0.2, 0.3, 0.4]', 10)))) >= 8 AS good_recall;

-- a NULL query vector cannot use the index (the order is constant)
SELECT count(*) FROM (SELECT id FROM ivt ORDER BY v <-> NULL LIMIT 5) s;
-- wrong dimensions
SELECT id FROM ivt ORDER BY v <-> '[1, 2, 3]' LIMIT 1;

-- inserts after the build are found
INSERT INTO ivt VALUES (5001, '[10, 10, 10, 10]'), (5002, '[10, 10, 10, 10.5]');
SET ivfpq.probes = 1;
SELECT id FROM ivt ORDER BY v <-> '[10, 10, 10, 10.1]' LIMIT 2;

-- deleted rows disappear; vacuum removes their entries and inserts reuse the space
DELETE FROM ivt WHERE id > 1000;
VACUUM ivt;
SET ivfpq.probes = 16;
SELECT ivt_knn('[10, 10, 10, 10]', 5) = ivt_exact('[10, 10, 10, 10]', 5) AS exact_after_vacuum;
SELECT max(id) FROM (SELECT id FROM ivt ORDER BY v <-> '[0, 0, 0, 0]' LIMIT 2000) s;
SELECT pg_relation_size('ivt_l2') AS size_before \gset
INSERT INTO ivt SELECT i, ARRAY[sin(i), cos(i * 1.3), sin(i * 0.7) * 2, cos(i * 0.11)]::real[]::vector
	FROM generate_series(1001, 2000) i;
SELECT pg_relation_size('ivt_l2') <= :size_before AS space_reused;
SELECT ivt_knn('[0.5, 0.5, 0.5, 0.5]', 10) = ivt_exact('[0.5, 0.5, 0.5, 0.5]', 10) AS exact_after_reinsert;

-- iterative scan: a selective filter still gets its rows (by default; with
-- ivfpq.iterative_scan = off only those of the ivfpq.probes lists)
SET ivfpq.probes = 1;
SET ivfpq.iterative_scan = off;
SELECT count(*) FROM (SELECT id FROM ivt WHERE id % 100 = 0 ORDER BY v <-> '[0.5, 0.5, 0.5, 0.5]' LIMIT 10) s;
RESET ivfpq.iterative_scan;
SET ivfpq.max_probes = 16;
SELECT count(*) FROM (SELECT id FROM ivt WHERE id % 100 = 0 ORDER BY v <-> '[0.5, 0.5, 0.5, 0.5]' LIMIT 10) s;
RESET ivfpq.max_probes;
SELECT count(*) FROM (SELECT id FROM ivt WHERE id % 100 = 0 ORDER BY v <-> '[0.5, 0.5, 0.5, 0.5]' LIMIT 10) s;

-- the rerank cap limits how many candidates a probe round returns
-- (iterative_scan = off; strict_order ignores it, relaxed_order goes on)
SET ivfpq.probes = 16;
SET ivfpq.rerank = 3;
SET ivfpq.iterative_scan = off;
SELECT count(*) FROM (SELECT id FROM ivt ORDER BY v <-> '[0.5, 0.5, 0.5, 0.5]' LIMIT 10) s;
RESET ivfpq.iterative_scan;
RESET ivfpq.rerank;

-- other page formats and code shapes: item pages (8-bit codes) and a
-- sub-vector count that is not a multiple of four; insert, delete, vacuum
CREATE TABLE ivi AS SELECT * FROM ivt;
CREATE FUNCTION ivi_check(q vector) RETURNS bool LANGUAGE sql AS $$
	SELECT array(SELECT id FROM ivi ORDER BY v <-> q LIMIT 10) =
		array(SELECT id FROM ivi WHERE v IS NOT NULL ORDER BY l2_distance(v, q), id LIMIT 10) $$;
SET ivfpq.probes = 4;
CREATE INDEX ivi_idx ON ivi USING ivfpq (v vector_l2_ops) WITH (lists = 4, pq_bits = 8);
DELETE FROM ivi WHERE id % 3 = 0;
VACUUM ivi;
INSERT INTO ivi VALUES (7001, '[0.5, 0.5, 0.5, 0.5]');
SELECT ivi_check('[0.5, 0.5, 0.5, 0.5]') AS items_exact, ivi_check('[1, -1, 1, -1]') AS items_exact2;
DROP INDEX ivi_idx;
CREATE INDEX ivi_idx ON ivi USING ivfpq (v vector_l2_ops) WITH (lists = 4, pq_m = 3);
DELETE FROM ivi WHERE id % 5 = 0;
VACUUM ivi;
INSERT INTO ivi VALUES (7002, '[0.4, 0.5, 0.5, 0.5]');
SELECT ivi_check('[0.5, 0.5, 0.5, 0.5]') AS m3_exact, ivi_check('[1, -1, 1, -1]') AS m3_exact2;
-- the scalar kernels give the same answers
SET vecx.simd = scalar;
SELECT ivi_check('[0.5, 0.5, 0.5, 0.5]') AS scalar_exact;
RESET vecx.simd;
DROP TABLE ivi;
DROP FUNCTION ivi_check;

-- inner product and cosine, vector and halfvec
CREATE INDEX ivt_ip ON ivt USING ivfpq (v vector_ip_ops) WITH (lists = 8);
CREATE INDEX ivt_cos ON ivt USING ivfpq (v vector_cosine_ops) WITH (lists = 8);
SET ivfpq.probes = 8;
SELECT array(SELECT id FROM ivt ORDER BY v <#> '[1, 2, 3, 4]' LIMIT 10) =
	array(SELECT id FROM ivt WHERE v IS NOT NULL ORDER BY inner_product(v, '[1, 2, 3, 4]') DESC, id LIMIT 10) AS ip_exact;
SELECT array(SELECT id FROM ivt ORDER BY v <=> '[1, 2, 3, 4]' LIMIT 10) =
	array(SELECT id FROM ivt WHERE v IS NOT NULL ORDER BY cosine_distance(v, '[1, 2, 3, 4]'), id LIMIT 10) AS cosine_exact;
EXPLAIN (costs off) SELECT id FROM ivt ORDER BY v <#> '[1, 2, 3, 4]' LIMIT 5;
EXPLAIN (costs off) SELECT id FROM ivt ORDER BY v <=> '[1, 2, 3, 4]' LIMIT 5;
DROP INDEX ivt_ip, ivt_cos, ivt_l2;

CREATE TABLE ivh (id int, v halfvec(4));
INSERT INTO ivh SELECT id, v::halfvec FROM ivt;
CREATE INDEX ON ivh USING ivfpq (v halfvec_l2_ops) WITH (lists = 8);
CREATE INDEX ON ivh USING ivfpq (v halfvec_ip_ops) WITH (lists = 8);
CREATE INDEX ON ivh USING ivfpq (v halfvec_cosine_ops) WITH (lists = 8);
SELECT array(SELECT id FROM ivh ORDER BY v <-> '[1, 2, 3, 4]' LIMIT 10) =
	array(SELECT id FROM ivh WHERE v IS NOT NULL ORDER BY l2_distance(v, '[1, 2, 3, 4]'), id LIMIT 10) AS half_l2_exact;
SELECT array(SELECT id FROM ivh ORDER BY v <#> '[1, 2, 3, 4]' LIMIT 10) =
	array(SELECT id FROM ivh WHERE v IS NOT NULL ORDER BY inner_product(v, '[1, 2, 3, 4]') DESC, id LIMIT 10) AS half_ip_exact;
SELECT array(SELECT id FROM ivh ORDER BY v <=> '[1, 2, 3, 4]' LIMIT 10) =
	array(SELECT id FROM ivh WHERE v IS NOT NULL ORDER BY cosine_distance(v, '[1, 2, 3, 4]'), id LIMIT 10) AS half_cosine_exact;
EXPLAIN (costs off) SELECT id FROM ivh ORDER BY v <=> '[1, 2, 3, 4]' LIMIT 5;

-- zero vectors are not indexed for cosine
CREATE TABLE ivz (id int, v vector(2));
INSERT INTO ivz VALUES (1, '[0, 0]'), (2, '[1, 0]'), (3, '[0, 1]'), (4, '[1, 1]');
CREATE INDEX ON ivz USING ivfpq (v vector_cosine_ops) WITH (lists = 1);
SELECT id FROM ivz ORDER BY v <=> '[1, 0.1]' LIMIT 10;
DROP TABLE ivz;

-- empty table: an untrained index that works (exactly) after inserts
CREATE TABLE ive (id int, v vector);
CREATE INDEX ive_idx ON ive USING ivfpq (v vector_l2_ops);
SELECT id FROM ive ORDER BY v <-> '[1, 1, 1]' LIMIT 3;
INSERT INTO ive SELECT i, ARRAY[i, i * 2, 3]::real[]::vector FROM generate_series(1, 50) i;
SELECT id FROM ive ORDER BY v <-> '[7, 14, 3]' LIMIT 3;
-- once trained, a different dimension is rejected
REINDEX INDEX ive_idx;
SELECT id FROM ive ORDER BY v <-> '[7, 14, 3]' LIMIT 3;
INSERT INTO ive VALUES (99, '[1, 2]');

-- tiny table: fewer rows than lists
CREATE TABLE ivs (id int, v vector(3));
INSERT INTO ivs VALUES (1, '[1, 0, 0]'), (2, '[0, 1, 0]'), (3, '[0, 0, 1]');
CREATE INDEX ON ivs USING ivfpq (v vector_l2_ops) WITH (lists = 10);
SELECT id FROM ivs ORDER BY v <-> '[0, 0.9, 0.1]' LIMIT 3;

-- unlogged tables
CREATE UNLOGGED TABLE ivu (id int, v vector(3));
CREATE INDEX ON ivu USING ivfpq (v vector_l2_ops) WITH (lists = 2);
INSERT INTO ivu VALUES (1, '[1, 0, 0]'), (2, '[0, 1, 0]');
SELECT id FROM ivu ORDER BY v <-> '[0, 1, 0]' LIMIT 1;

-- reloptions and settings
CREATE INDEX ON ivs USING ivfpq (v vector_l2_ops) WITH (lists = 0);
CREATE INDEX ON ivs USING ivfpq (v vector_l2_ops) WITH (lists = 32769);
CREATE INDEX ON ivs USING ivfpq (v vector_l2_ops) WITH (pq_bits = 5);
CREATE INDEX ON ivs USING ivfpq (v vector_l2_ops) WITH (pq_m = -1);
CREATE INDEX ON ivs USING ivfpq (v vector_l2_ops) WITH (pq_m = 4);
CREATE INDEX ON ivs USING ivfpq (v vector_l2_ops) WITH (nonsense = 4);
CREATE INDEX ivs_8 ON ivs USING ivfpq (v vector_l2_ops) WITH (lists = 1, pq_m = 3, pq_bits = 8);
SELECT id FROM ivs ORDER BY v <-> '[0, 0.9, 0.1]' LIMIT 3;
CREATE INDEX ON ivs USING ivfpq (id, v vector_l2_ops);
CREATE INDEX ON ivs USING ivfpq (v);
SET ivfpq.probes = 0;
SET ivfpq.probes = 32769;
SET ivfpq.rerank = -1;
SET ivfpq.max_probes = -1;
SET ivfpq.iterative_scan = sideways;
SHOW ivfpq.probes;

-- memory limits: an error with a hint, never an overflow
CREATE TABLE ivm (id int, v vector(4));
INSERT INTO ivm SELECT i, ARRAY[sin(i), cos(i), sin(i * 3), cos(i * 5)]::real[]::vector FROM generate_series(1, 3000) i;
SET maintenance_work_mem = '1MB';
CREATE INDEX ON ivm USING ivfpq (v vector_l2_ops) WITH (lists = 2500);
RESET maintenance_work_mem;
DROP TABLE ivm;

-- the largest dimension: 16000 (codes of 17 dimensions each)
CREATE TABLE ivd (id int, v vector(16000));
INSERT INTO ivd SELECT i, ARRAY(SELECT sin(i * j * 0.001) FROM generate_series(1, 16000) j)::real[]::vector
	FROM generate_series(1, 40) i;
CREATE INDEX ON ivd USING ivfpq (v vector_l2_ops) WITH (lists = 4);
SET ivfpq.probes = 4;
SELECT array(SELECT id FROM ivd ORDER BY v <-> (SELECT v FROM ivd WHERE id = 7) LIMIT 5) =
	array(SELECT id FROM ivd ORDER BY l2_distance(v, (SELECT v FROM ivd WHERE id = 7)), id LIMIT 5) AS dim16000_exact;
DROP TABLE ivd;

-- operator classes validate
SELECT opcname, amvalidate(c.oid) FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
	WHERE a.amname = 'ivfpq' ORDER BY opcname;

DROP TABLE ivt, ivh, ive, ivs, ivu;
DROP FUNCTION ivt_knn, ivt_exact;
