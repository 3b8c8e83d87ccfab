-- hnsw on sparsevec: the four opclasses against the exact order, the
-- 1,000 non-zero limit and other errors with their SQLSTATEs, inserts
-- after the build, vacuum, a filter column and the checker.
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SET hnsw.ef_search = 400;

-- a statement's SQLSTATE and message, or 'ok'
CREATE FUNCTION hs_try(stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE stmt;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- a random sparse vector: n draws of indices below d, skewed to the low
-- ones (so that vectors share elements), values in [-1, 1)
CREATE FUNCTION hs_rand(n int, d int) RETURNS sparsevec LANGUAGE sql VOLATILE AS $$
	SELECT ('{' || string_agg(k::text || ':' || round((random() * 2 - 1)::numeric, 3)::text, ',') || '}/' || d)::sparsevec
	FROM (SELECT DISTINCT 1 + floor(d * random() ^ 3)::int AS k FROM generate_series(1, n)) s
	WHERE n > 0
$$;

CREATE TABLE hs (id int PRIMARY KEY, label int, v sparsevec(40));
SELECT setseed(0.77);
INSERT INTO hs SELECT i, i % 5, hs_rand(2 + i % 9, 40) FROM generate_series(1, 400) i;
INSERT INTO hs VALUES (1001, 0, NULL), (1002, 0, '{}/40');

-- the index's first k distances equal the exact ones (ids may differ
-- among ties; cosine distances are ranked as float4)
CREATE FUNCTION hs_check(q sparsevec, op text, k int) RETURNS bool LANGUAGE plpgsql AS $$
DECLARE a float8[]; b float8[];
BEGIN
	EXECUTE format('SELECT array_agg(d) FROM (SELECT v %s $1 AS d FROM hs ORDER BY v %s $1 LIMIT %s) s', op, op, k) INTO a USING q;
	SET LOCAL enable_indexscan = off;
	SET LOCAL enable_seqscan = on;
	EXECUTE format('SELECT array_agg(d ORDER BY d) FROM (SELECT v %s $1 AS d FROM hs WHERE v IS NOT NULL AND NOT (v %s $1 = ''NaN'') ORDER BY d LIMIT %s) s', op, op, k) INTO b USING q;
	RETURN array_length(a, 1) = array_length(b, 1) AND
		(SELECT bool_and(abs(x - y) <= 1e-6 * greatest(1, abs(y))) FROM unnest(a, b) AS u(x, y));
END $$;

CREATE INDEX hs_l2 ON hs USING hnsw (v sparsevec_l2_ops);
EXPLAIN (COSTS OFF) SELECT id FROM hs ORDER BY v <-> '{1:1,2:1}/40' LIMIT 5;
SELECT hs_check('{1:1,2:1}/40', '<->', 10), hs_check('{1:-0.5,3:0.25,40:1}/40', '<->', 100),
	hs_check((SELECT v FROM hs WHERE id = 17), '<->', 401);
SELECT count(*) FROM (SELECT id FROM hs ORDER BY v <-> '{}/40') s;
SELECT vecx_index_check('hs_l2', true);
DROP INDEX hs_l2;

CREATE INDEX hs_ip ON hs USING hnsw (v sparsevec_ip_ops);
EXPLAIN (COSTS OFF) SELECT id FROM hs ORDER BY v <#> '{1:1,2:1}/40' LIMIT 5;
SELECT hs_check('{1:1,2:1}/40', '<#>', 10), hs_check('{1:-0.5,3:0.25,40:1}/40', '<#>', 100),
	hs_check((SELECT v FROM hs WHERE id = 17), '<#>', 20);
SELECT vecx_index_check('hs_ip', true);
DROP INDEX hs_ip;

-- cosine: the zero row is not indexed, a zero query ties every row
CREATE INDEX hs_cos ON hs USING hnsw (v sparsevec_cosine_ops);
EXPLAIN (COSTS OFF) SELECT id FROM hs ORDER BY v <=> '{1:1,2:1}/40' LIMIT 5;
SELECT hs_check('{1:1,2:1}/40', '<=>', 10), hs_check('{1:-0.5,3:0.25,40:1}/40', '<=>', 100),
	hs_check((SELECT v FROM hs WHERE id = 17), '<=>', 400);
SELECT count(*) FROM (SELECT id FROM hs ORDER BY v <=> '{1:1}/40') s;
SELECT count(*) FROM (SELECT id FROM hs ORDER BY v <=> '{}/40') s;
SELECT vecx_index_check('hs_cos', true);
DROP INDEX hs_cos;

CREATE INDEX hs_l1 ON hs USING hnsw (v sparsevec_l1_ops);
EXPLAIN (COSTS OFF) SELECT id FROM hs ORDER BY v <+> '{1:1,2:1}/40' LIMIT 5;
SELECT hs_check('{1:1,2:1}/40', '<+>', 10), hs_check('{1:-0.5,3:0.25,40:1}/40', '<+>', 100),
	hs_check((SELECT v FROM hs WHERE id = 17), '<+>', 401);
SELECT vecx_index_check('hs_l1', true);

-- inserts after the build (duplicates included), then vacuum
INSERT INTO hs SELECT i, i % 5, hs_rand(1 + i % 12, 40) FROM generate_series(2001, 2300) i;
INSERT INTO hs SELECT i, 1, '{5:1,7:-2}/40' FROM generate_series(2301, 2320) i;
SELECT hs_check('{1:1,2:1}/40', '<+>', 10), hs_check('{5:1,7:-2}/40', '<+>', 50);
SELECT vecx_index_check('hs_l1', true);
DELETE FROM hs WHERE id % 3 = 0;
VACUUM hs;
SELECT hs_check('{1:1,2:1}/40', '<+>', 10), hs_check('{5:1,7:-2}/40', '<+>', 50);
SELECT vecx_index_check('hs_l1', true);
SELECT count(*) = (SELECT count(v) FROM hs) AS all_rows FROM (SELECT id FROM hs ORDER BY v <+> '{3:1}/40') s;
DROP INDEX hs_l1;

-- every opclass after inserts and vacuum, built on the changed table
-- (inner product with m = 8: at m = 4, with lists filled under inner
-- product as dense vectors have them, one build in ten missed a top-10 row)
CREATE INDEX hs_ip ON hs USING hnsw (v sparsevec_ip_ops) WITH (m = 8, ef_construction = 32);
CREATE INDEX hs_cos ON hs USING hnsw (v sparsevec_cosine_ops) WITH (m = 4, ef_construction = 16);
INSERT INTO hs SELECT i, i % 5, hs_rand(3, 40) FROM generate_series(3001, 3100) i;
DELETE FROM hs WHERE id % 7 = 0;
VACUUM hs;
SELECT hs_check('{1:1,2:1}/40', '<#>', 10), hs_check('{1:1,2:1}/40', '<=>', 10);
SELECT vecx_index_check('hs_ip', true), vecx_index_check('hs_cos', true);
DROP INDEX hs_ip, hs_cos;

-- a filter column
CREATE INDEX hs_f ON hs USING hnsw (v sparsevec_l2_ops, label);
EXPLAIN (COSTS OFF) SELECT id FROM hs WHERE label = 2 ORDER BY v <-> '{1:1}/40' LIMIT 5;
SELECT array_agg(d) = (SELECT array_agg(d ORDER BY d) FROM (SELECT v <-> '{1:1}/40' AS d
		FROM hs WHERE label = 2 AND v IS NOT NULL ORDER BY v <-> '{1:1}/40' LIMIT 20) t) AS filter_exact
FROM (SELECT v <-> '{1:1}/40' AS d FROM hs WHERE label = 2 ORDER BY v <-> '{1:1}/40' LIMIT 20) s;
SELECT vecx_index_check('hs_f', true);
DROP INDEX hs_f;

-- limits and errors: 1,000 non-zero elements per indexed value, on build
-- and on insert; a query may have more
CREATE TABLE hs_big (id int, v sparsevec(100000));
INSERT INTO hs_big SELECT i, ('{' || (SELECT string_agg((k * 7 + i)::text || ':1', ',')
	FROM generate_series(1, 1000) k) || '}/100000')::sparsevec FROM generate_series(1, 5) i;
CREATE INDEX hs_big_ip ON hs_big USING hnsw (v sparsevec_ip_ops);
SELECT hs_try($$INSERT INTO hs_big SELECT 6, ('{' || (SELECT string_agg((k * 7)::text || ':1', ',')
	FROM generate_series(1, 1001) k) || '}/100000')::sparsevec$$);
SELECT array_agg(d) FROM (SELECT v <#> q AS d FROM hs_big, (SELECT ('{' || (SELECT string_agg(k::text || ':1', ',')
	FROM generate_series(1, 5000) k) || '}/100000')::sparsevec AS q) s
	ORDER BY v <#> q LIMIT 3) t;
SELECT vecx_index_check('hs_big_ip', true);
DROP INDEX hs_big_ip;
INSERT INTO hs_big SELECT 6, ('{' || (SELECT string_agg((k * 7)::text || ':1', ',')
	FROM generate_series(1, 1001) k) || '}/100000')::sparsevec;
SELECT hs_try('CREATE INDEX ON hs_big USING hnsw (v sparsevec_ip_ops)');
DROP TABLE hs_big;
SELECT hs_try('CREATE TABLE hs_nodim (v sparsevec); CREATE INDEX ON hs_nodim USING hnsw (v sparsevec_l2_ops)');
SELECT hs_try('CREATE INDEX ON hs USING hnsw (v sparsevec_l2_ops) WITH (quantization = sq8)');
CREATE INDEX hs_l2 ON hs USING hnsw (v sparsevec_l2_ops);
SELECT hs_try($$SELECT id FROM hs ORDER BY v <-> '{1:1}/41' LIMIT 1$$);
DROP INDEX hs_l2;

-- the largest dimensions
CREATE TABLE hs_wide (id int, v sparsevec(1000000000));
INSERT INTO hs_wide SELECT i, ('{' || (i * 9973) || ':1,' || (1000000000 - i) || ':' || i || '}/1000000000')::sparsevec
FROM generate_series(1, 50) i;
CREATE INDEX hs_wide_l2 ON hs_wide USING hnsw (v sparsevec_l2_ops);
SELECT id FROM hs_wide ORDER BY v <-> '{999999990:10}/1000000000' LIMIT 3;
SELECT vecx_index_check('hs_wide_l2', true);
DROP TABLE hs_wide;

DROP TABLE hs;
DROP FUNCTION hs_check, hs_try, hs_rand;
