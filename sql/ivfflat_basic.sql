-- ivfflat: build, exact order against a sequential scan for every operator
-- class, reloption and setting errors (with SQLSTATEs), iterative scans,
-- inserts after build, vacuum, empty and tiny tables, dimension limits.
SET client_min_messages = notice;

CREATE TABLE ift (id int, v vector(4));
INSERT INTO ift SELECT i, ARRAY[sin(i), cos(i * 1.3), sin(i * 0.7) * 2, cos(i * 0.11)]::real[]::vector
	FROM generate_series(1, 2000) i;
INSERT INTO ift VALUES (0, NULL);

CREATE INDEX ift_l2 ON ift USING ivfflat (v vector_l2_ops) WITH (lists = 16);
SET enable_seqscan = off;

-- the planner uses the index for ORDER BY distance LIMIT
EXPLAIN (costs off) SELECT id FROM ift ORDER BY v <-> '[0.5, 0.5, 0.5, 0.5]' LIMIT 5;

-- helpers: the k nearest through the index and exactly (ids and distances)
CREATE FUNCTION ift_knn(q vector, k int) RETURNS int[] LANGUAGE sql AS
	'SELECT array_agg(id) FROM (SELECT id FROM ift ORDER BY v <-> q LIMIT k) s';
CREATE FUNCTION ift_exact(q vector, k int) RETURNS int[] LANGUAGE sql AS
	'SELECT array_agg(id ORDER BY d, id) FROM (SELECT id, l2_distance(v, q) d FROM ift WHERE v IS NOT NULL ORDER BY d, id LIMIT k) s';

-- the default: one probe, no iterative scan
SHOW ivfflat.probes;
SHOW ivfflat.iterative_scan;
SHOW ivfflat.max_probes;

-- probing every list gives the exact answer, in exact order
SET ivfflat.probes = 16;
SELECT ift_knn(q, 10) = ift_exact(q, 10) AS exact_order
	FROM (VALUES ('[0.5, 0.5, 0.5, 0.5]'::vector), ('[-1, 0, 2, 1]'), ('[0, 0, 0, 0]'), ('[3, -3, 3, -3]')) x(q);
-- and the distances are those of the operator, bit for bit
SELECT array(SELECT v <-> '[0.1, 0.2, 0.3, 0.4]' FROM ift ORDER BY v <-> '[0.1, 0.2, 0.3, 0.4]' LIMIT 20) =
	array(SELECT d FROM (SELECT l2_distance(v, '[0.1, 0.2, 0.3, 0.4]') d FROM ift WHERE v IS NOT NULL) s ORDER BY d LIMIT 20)
	AS same_distances;

-- with few probes the rows of the probed lists come in exact order
SET ivfflat.probes = 2;
SELECT bool_and(d >= prev) AS ordered, count(*) FROM (
	SELECT d, lag(d, 1, 0::float8) OVER () AS prev FROM (
		SELECT v <-> '[0.1, 0.2, 0.3, 0.4]' AS d FROM ift ORDER BY v <-> '[0.1, 0.2, 0.3, 0.4]' LIMIT 50) s) t;
-- and recall is high with a quarter of the lists
SET ivfflat.probes = 4;
SELECT cardinality(array(SELECT unnest(ift_knn('[0.1, 0.2, 0.3, 0.4]', 10)) INTERSECT
	SELECT unnest(ift_exact('[0.1, 0.2, 0.3, 0.4]', 10)))) >= 8 AS good_recall;

-- a NULL query vector: every row, in no particular order
SELECT count(*) FROM (SELECT id FROM ift ORDER BY v <-> NULL LIMIT 5) s;
-- wrong dimensions
SELECT id FROM ift ORDER BY v <-> '[1, 2, 3]' LIMIT 1;
\echo :LAST_ERROR_SQLSTATE

-- iterative scans: with off (the default) only the rows of the probed
-- lists; relaxed_order and strict_order go on into further lists
SET ivfflat.probes = 1;
SELECT count(*) FROM (SELECT id FROM ift WHERE id % 100 = 0 ORDER BY v <-> '[0.5, 0.5, 0.5, 0.5]' LIMIT 10) s;
SET ivfflat.iterative_scan = relaxed_order;
SELECT count(*) FROM (SELECT id FROM ift WHERE id % 100 = 0 ORDER BY v <-> '[0.5, 0.5, 0.5, 0.5]' LIMIT 10) s;
SET ivfflat.iterative_scan = strict_order;
SELECT count(*) FROM (SELECT id FROM ift WHERE id % 100 = 0 ORDER BY v <-> '[0.5, 0.5, 0.5, 0.5]' LIMIT 10) s;
-- strict_order: every row, in order but for at most one step back
SELECT count(*) AS rows, sum(CASE WHEN d < prev THEN 1 ELSE 0 END) <= 1 AS at_most_one_step_back FROM (
	SELECT d, lag(d, 1, 0::float8) OVER () AS prev FROM (
		SELECT v <-> '[0.1, 0.2, 0.3, 0.4]' AS d FROM ift ORDER BY v <-> '[0.1, 0.2, 0.3, 0.4]') s) t;
-- ivfflat.max_probes ends an iterative scan: 2 lists hold fewer than 10
-- matching rows here
SET ivfflat.max_probes = 2;
SELECT count(*) < 10 AS stopped FROM (SELECT id FROM ift WHERE id % 100 = 0 ORDER BY v <-> '[0.5, 0.5, 0.5, 0.5]' LIMIT 10) s;
RESET ivfflat.max_probes;
RESET ivfflat.iterative_scan;

-- inserts after the build are found
INSERT INTO ift VALUES (5001, '[10, 10, 10, 10]'), (5002, '[10, 10, 10, 10.5]');
SET ivfflat.probes = 1;
SELECT id FROM ift ORDER BY v <-> '[10, 10, 10, 10.1]' LIMIT 2;

-- deleted rows disappear; vacuum removes their entries and inserts reuse the space
DELETE FROM ift WHERE id > 1000;
VACUUM ift;
SET ivfflat.probes = 16;
SELECT ift_knn('[10, 10, 10, 10]', 5) = ift_exact('[10, 10, 10, 10]', 5) AS exact_after_vacuum;
SELECT max(id), count(*) FROM (SELECT id FROM ift ORDER BY v <-> '[0, 0, 0, 0]' LIMIT 3000) s;
SELECT pg_relation_size('ift_l2') AS size_before \gset
INSERT INTO ift SELECT i, ARRAY[sin(i), cos(i * 1.3), sin(i * 0.7) * 2, cos(i * 0.11)]::real[]::vector
	FROM generate_series(1001, 2000) i;
SELECT pg_relation_size('ift_l2') <= :size_before AS space_reused;
SELECT ift_knn('[0.5, 0.5, 0.5, 0.5]', 10) = ift_exact('[0.5, 0.5, 0.5, 0.5]', 10) AS exact_after_reinsert;
SELECT vecx_index_check('ift_l2', true);

-- the scalar kernels give the same answers
SET vecx.simd = scalar;
SELECT ift_knn('[0.5, 0.5, 0.5, 0.5]', 10) = ift_exact('[0.5, 0.5, 0.5, 0.5]', 10) AS scalar_exact;
RESET vecx.simd;

-- inner product and cosine
CREATE INDEX ift_ip ON ift USING ivfflat (v vector_ip_ops) WITH (lists = 8);
CREATE INDEX ift_cos ON ift USING ivfflat (v vector_cosine_ops) WITH (lists = 8);
SET ivfflat.probes = 8;
SELECT array(SELECT id FROM ift ORDER BY v <#> '[1, 2, 3, 4]' LIMIT 10) =
	array(SELECT id FROM ift WHERE v IS NOT NULL ORDER BY inner_product(v, '[1, 2, 3, 4]') DESC, id LIMIT 10) AS ip_exact;
SELECT array(SELECT id FROM ift ORDER BY v <=> '[1, 2, 3, 4]' LIMIT 10) =
	array(SELECT id FROM ift WHERE v IS NOT NULL ORDER BY cosine_distance(v, '[1, 2, 3, 4]'), id LIMIT 10) AS cosine_exact;
EXPLAIN (costs off) SELECT id FROM ift ORDER BY v <#> '[1, 2, 3, 4]' LIMIT 5;
EXPLAIN (costs off) SELECT id FROM ift ORDER BY v <=> '[1, 2, 3, 4]' LIMIT 5;
SELECT vecx_index_check('ift_ip', true), vecx_index_check('ift_cos', true);
DROP INDEX ift_ip, ift_cos, ift_l2;

-- halfvec
CREATE TABLE ifh (id int, v halfvec(4));
INSERT INTO ifh SELECT id, v::halfvec FROM ift;
CREATE INDEX ifh_l2 ON ifh USING ivfflat (v halfvec_l2_ops) WITH (lists = 8);
CREATE INDEX ifh_ip ON ifh USING ivfflat (v halfvec_ip_ops) WITH (lists = 8);
CREATE INDEX ifh_cos ON ifh USING ivfflat (v halfvec_cosine_ops) WITH (lists = 8);
SELECT array(SELECT v <-> '[1, 2, 3, 4]' FROM ifh ORDER BY v <-> '[1, 2, 3, 4]' LIMIT 10) =
	array(SELECT d FROM (SELECT l2_distance(v, '[1, 2, 3, 4]') d FROM ifh WHERE v IS NOT NULL) s ORDER BY d LIMIT 10) AS half_l2_exact;
SELECT array(SELECT v <#> '[1, 2, 3, 4]' FROM ifh ORDER BY v <#> '[1, 2, 3, 4]' LIMIT 10) =
	array(SELECT d FROM (SELECT -inner_product(v, '[1, 2, 3, 4]') d FROM ifh WHERE v IS NOT NULL) s ORDER BY d LIMIT 10) AS half_ip_exact;
SELECT array(SELECT v <=> '[1, 2, 3, 4]' FROM ifh ORDER BY v <=> '[1, 2, 3, 4]' LIMIT 10) =
	array(SELECT d FROM (SELECT cosine_distance(v, '[1, 2, 3, 4]') d FROM ifh WHERE v IS NOT NULL) s ORDER BY d LIMIT 10) AS half_cosine_exact;
EXPLAIN (costs off) SELECT id FROM ifh ORDER BY v <=> '[1, 2, 3, 4]' LIMIT 5;
SELECT vecx_index_check('ifh_l2', true), vecx_index_check('ifh_ip', true), vecx_index_check('ifh_cos', true);

-- bit strings, Hamming distance (k-means on 0/1, majority centroids)
CREATE TABLE ifb (id int, b bit(100));
INSERT INTO ifb SELECT i, (SELECT string_agg(CASE WHEN (i * 7919 + j * j * 104729 + (i / 7) * j) % 11 < 4
		THEN '1' ELSE '0' END, '' ORDER BY j) FROM generate_series(1, 100) j)::bit(100)
	FROM generate_series(1, 1500) i;
INSERT INTO ifb VALUES (0, NULL);
CREATE INDEX ifb_h ON ifb USING ivfflat (b bit_hamming_ops) WITH (lists = 12);
EXPLAIN (costs off) SELECT id FROM ifb ORDER BY b <~> (repeat('10', 50))::bit(100) LIMIT 5;
SET ivfflat.probes = 12;
-- ties are common: compare the distances
SELECT array(SELECT b <~> (repeat('10', 50))::bit(100) FROM ifb ORDER BY b <~> (repeat('10', 50))::bit(100) LIMIT 30) =
	array(SELECT d FROM (SELECT hamming_distance(b, (repeat('10', 50))::bit(100)) d FROM ifb WHERE b IS NOT NULL) s ORDER BY d LIMIT 30)
	AS bit_exact;
SET ivfflat.probes = 3;
SELECT bool_and(d >= prev) AS bit_ordered FROM (
	SELECT d, lag(d, 1, 0::float8) OVER () AS prev FROM (
		SELECT b <~> (repeat('1100', 25))::bit(100) AS d FROM ifb ORDER BY b <~> (repeat('1100', 25))::bit(100) LIMIT 40) s) t;
INSERT INTO ifb VALUES (9001, repeat('1', 100)::bit(100));
SELECT id FROM ifb ORDER BY b <~> repeat('1', 100)::bit(100) LIMIT 1;
SELECT id FROM ifb ORDER BY b <~> repeat('1', 99)::bit(99) LIMIT 1;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM ifb WHERE id % 2 = 0;
VACUUM ifb;
SELECT vecx_index_check('ifb_h', true);

-- zero vectors are not indexed for cosine
CREATE TABLE ifz (id int, v vector(2));
INSERT INTO ifz VALUES (1, '[0, 0]'), (2, '[1, 0]'), (3, '[0, 1]'), (4, '[1, 1]');
CREATE INDEX ON ifz USING ivfflat (v vector_cosine_ops) WITH (lists = 1);
SELECT id FROM ifz ORDER BY v <=> '[1, 0.1]' LIMIT 10;
DROP TABLE ifz;

-- empty table: an untrained index that works (exactly) after inserts
CREATE TABLE ife (id int, v vector);
CREATE INDEX ife_idx ON ife USING ivfflat (v vector_l2_ops);
SELECT id FROM ife ORDER BY v <-> '[1, 1, 1]' LIMIT 3;
INSERT INTO ife SELECT i, ARRAY[i, i * 2, 3]::real[]::vector FROM generate_series(1, 50) i;
SELECT id FROM ife ORDER BY v <-> '[7, 14, 3]' LIMIT 3;
SELECT vecx_index_check('ife_idx', true);
-- once trained, a different dimension is rejected
REINDEX INDEX ife_idx;
SELECT id FROM ife ORDER BY v <-> '[7, 14, 3]' LIMIT 3;
INSERT INTO ife VALUES (99, '[1, 2]');
\echo :LAST_ERROR_SQLSTATE

-- tiny table: fewer rows than lists
CREATE TABLE ifs (id int, v vector(3));
INSERT INTO ifs VALUES (1, '[1, 0, 0]'), (2, '[0, 1, 0]'), (3, '[0, 0, 1]');
CREATE INDEX ON ifs USING ivfflat (v vector_l2_ops) WITH (lists = 10);
SELECT id FROM ifs ORDER BY v <-> '[0, 0.9, 0.1]' LIMIT 3;

-- unlogged tables
CREATE UNLOGGED TABLE ifu (id int, v vector(3));
CREATE INDEX ON ifu USING ivfflat (v vector_l2_ops) WITH (lists = 2);
INSERT INTO ifu VALUES (1, '[1, 0, 0]'), (2, '[0, 1, 0]');
SELECT id FROM ifu ORDER BY v <-> '[0, 1, 0]' LIMIT 1;

-- reloptions and settings
CREATE INDEX ON ifs USING ivfflat (v vector_l2_ops) WITH (lists = 0);
\echo :LAST_ERROR_SQLSTATE
CREATE INDEX ON ifs USING ivfflat (v vector_l2_ops) WITH (lists = 32769);
\echo :LAST_ERROR_SQLSTATE
CREATE INDEX ON ifs USING ivfflat (v vector_l2_ops) WITH (pq_m = 2);
\echo :LAST_ERROR_SQLSTATE
CREATE INDEX ON ifs USING ivfflat (v vector_l2_ops) WITH (lists = 'many');
\echo :LAST_ERROR_SQLSTATE
CREATE INDEX ifs_one ON ifs USING ivfflat (v vector_l2_ops) WITH (lists = 1);
SELECT reloptions FROM pg_class WHERE relname = 'ifs_one';
ALTER INDEX ifs_one SET (lists = 5);
\d ifs_one
CREATE INDEX ON ifs USING ivfflat (id, v vector_l2_ops);
\echo :LAST_ERROR_SQLSTATE
CREATE INDEX ON ifs USING ivfflat (v);
\echo :LAST_ERROR_SQLSTATE
CREATE INDEX ON ifs USING ivfflat (v vector_l1_ops);
\echo :LAST_ERROR_SQLSTATE
SET ivfflat.probes = 0;
\echo :LAST_ERROR_SQLSTATE
SET ivfflat.probes = 32769;
\echo :LAST_ERROR_SQLSTATE
SET ivfflat.max_probes = 0;
\echo :LAST_ERROR_SQLSTATE
SET ivfflat.iterative_scan = sideways;
\echo :LAST_ERROR_SQLSTATE
SET ivfflat.nonsense = 1;
\echo :LAST_ERROR_SQLSTATE

-- dimension limits: an entry holds the whole vector on one page
CREATE TABLE ifd (v vector(2001), h halfvec(4001), b bit(64001), vv vector, bb bit varying);
CREATE INDEX ON ifd USING ivfflat (v vector_l2_ops);
\echo :LAST_ERROR_SQLSTATE
CREATE INDEX ON ifd USING ivfflat (h halfvec_l2_ops);
\echo :LAST_ERROR_SQLSTATE
CREATE INDEX ON ifd USING ivfflat (b bit_hamming_ops);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO ifd (vv) SELECT ARRAY(SELECT 1 FROM generate_series(1, 2001))::real[]::vector;
CREATE INDEX ON ifd USING ivfflat (vv vector_l2_ops);
\echo :LAST_ERROR_SQLSTATE
DROP TABLE ifd;
-- the largest: 2000 dimensions, 4000 halfvec dimensions, 64000 bits
CREATE TABLE ifx (id int, v vector(2000), h halfvec(4000), b bit(64000));
INSERT INTO ifx SELECT i, ARRAY(SELECT sin(i * j * 0.001) FROM generate_series(1, 2000) j)::real[]::vector,
	ARRAY(SELECT cos(i * j * 0.001) FROM generate_series(1, 4000) j)::real[]::halfvec,
	(SELECT string_agg(CASE WHEN (i * j) % 7 < 3 THEN '1' ELSE '0' END, '') FROM generate_series(1, 64000) j)::bit(64000)
	FROM generate_series(1, 30) i;
CREATE INDEX ifx_v ON ifx USING ivfflat (v vector_l2_ops) WITH (lists = 3);
CREATE INDEX ifx_h ON ifx USING ivfflat (h halfvec_l2_ops) WITH (lists = 3);
CREATE INDEX ifx_b ON ifx USING ivfflat (b bit_hamming_ops) WITH (lists = 3);
SET ivfflat.probes = 3;
SELECT array(SELECT id FROM ifx ORDER BY v <-> (SELECT v FROM ifx WHERE id = 7) LIMIT 5) =
	array(SELECT id FROM ifx ORDER BY l2_distance(v, (SELECT v FROM ifx WHERE id = 7)), id LIMIT 5) AS dim2000_exact;
SELECT array(SELECT id FROM ifx ORDER BY h <-> (SELECT h FROM ifx WHERE id = 7) LIMIT 5) =
	array(SELECT id FROM ifx ORDER BY l2_distance(h, (SELECT h FROM ifx WHERE id = 7)), id LIMIT 5) AS dim4000_exact;
SELECT (SELECT b <~> (SELECT b FROM ifx WHERE id = 7) FROM ifx ORDER BY b <~> (SELECT b FROM ifx WHERE id = 7) LIMIT 1) = 0 AS bits64000_found;
SELECT vecx_index_check('ifx_v', true), vecx_index_check('ifx_h', true), vecx_index_check('ifx_b', true);
DROP TABLE ifx;

-- operator classes validate
SELECT opcname, opcintype::regtype, amvalidate(c.oid) FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
	WHERE a.amname = 'ivfflat' ORDER BY opcname;

DROP TABLE ift, ifh, ifb, ife, ifs, ifu;
DROP FUNCTION ift_knn, ift_exact;
