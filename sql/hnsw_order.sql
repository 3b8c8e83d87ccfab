-- hnsw_order: what an ordered hnsw scan promises with default settings
-- (README "Iterative scans: what each mode promises"): every indexed row
-- that matches, in non-decreasing order except for at most one step back
-- where the exact pass begins, which then returns the rest in exact order.
SET client_min_messages = warning;
SET enable_seqscan = off;
SET enable_bitmapscan = off;

-- issue 12, case 1: 16-dim random rows; strict order dropped rows found late
CREATE TABLE ord (id int, label int, v vector(16));
SELECT setseed(0.42);
INSERT INTO ord SELECT g, g % 50,
	(SELECT array_agg(random()::real) FROM generate_series(1, 16) WHERE g > 0)::vector
FROM generate_series(1, 5000) g;
CREATE INDEX ord_h ON ord USING hnsw (v vector_l2_ops);

-- index result of one query, with position, distance and exact rank
CREATE FUNCTION ord_scan(q int, lim int, lab int)
RETURNS TABLE (pos bigint, id int, d float8) LANGUAGE sql AS $$
	SELECT row_number() OVER (), s.id, s.d FROM (
		SELECT o.id, o.v <-> (SELECT v FROM ord WHERE ord.id = q) AS d
		FROM ord o WHERE o.label < lab
		ORDER BY o.v <-> (SELECT v FROM ord WHERE ord.id = q) LIMIT lim) s
$$;

-- rows, distinct rows, step-backs: complete and ordered but for one step
SELECT q, lim, count(*) AS nrows, count(DISTINCT id) AS ndistinct,
	   sum(CASE WHEN d < prev THEN 1 ELSE 0 END) <= 1 AS one_run_or_two
FROM (SELECT q, lim, id, d, lag(d) OVER (PARTITION BY q, lim ORDER BY pos) AS prev
	  FROM unnest(ARRAY[1, 7, 123, 999, 2500, 4444]) q,
		   unnest(ARRAY[10, 100, 2500, 6000]) lim,
		   LATERAL ord_scan(q, lim, 25)) x
GROUP BY q, lim ORDER BY q, lim;

-- without a filter or LIMIT: every row
SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM ord ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]') s;

-- where there is a step back, the rows after it are the nearest of those
-- not yet returned, in exact order
CREATE FUNCTION ord_tail_ok(q int) RETURNS bool LANGUAGE plpgsql AS $$
DECLARE
	r record;
	step bigint;
	bad int;
BEGIN
	CREATE TEMP TABLE res AS SELECT * FROM ord_scan(q, 6000, 50);
	SELECT min(pos) INTO step FROM (SELECT pos, d < lag(d) OVER (ORDER BY pos) AS back FROM res) x WHERE back;
	IF step IS NULL THEN
		DROP TABLE res;
		RETURN true;
	END IF;
	SET LOCAL enable_seqscan = on;
	SET LOCAL enable_indexscan = off;
	SELECT count(*) INTO bad FROM (
		SELECT row_number() OVER (ORDER BY d, id) AS k, d FROM res WHERE pos >= step) a
	FULL JOIN (
		SELECT row_number() OVER (ORDER BY d, id) AS k, d FROM (
			SELECT o.id, o.v <-> (SELECT v FROM ord WHERE ord.id = q) AS d FROM ord o
			WHERE o.id NOT IN (SELECT id FROM res WHERE pos < step)
			ORDER BY d, id LIMIT (SELECT count(*) FROM res WHERE pos >= step)) t) b
	USING (k) WHERE a.d IS DISTINCT FROM b.d;
	DROP TABLE res;
	RETURN bad = 0;
END $$;
SELECT q, ord_tail_ok(q) FROM unnest(ARRAY[1, 7, 123, 999, 2500, 4444]) q;

-- a cursor fetching in steps sees the same rows
BEGIN;
DECLARE c CURSOR FOR SELECT id FROM ord ORDER BY v <-> (SELECT v FROM ord WHERE id = 7);
FETCH 1000 FROM c \g /dev/null
FETCH 1000 FROM c \g /dev/null
MOVE FORWARD ALL IN c;
COMMIT;

-- issue 12, case 3: NULL and zero queries return every indexed row
CREATE TABLE zq (id int, v vector(3));
INSERT INTO zq SELECT g, ARRAY[g % 5, g % 7, g % 3]::vector FROM generate_series(1, 500) g;
INSERT INTO zq VALUES (1000, NULL);
CREATE INDEX zq_cos ON zq USING hnsw (v vector_cosine_ops);
CREATE INDEX zq_l2 ON zq USING hnsw (v vector_l2_ops);
CREATE INDEX zq_sq8 ON zq USING hnsw (v vector_l2_ops) WITH (quantization = sq8);
-- zero vectors are not indexed under cosine
SELECT count(*) AS nonzero FROM zq WHERE v IS NOT NULL AND vector_norm(v) > 0;
SELECT count(*) FROM (SELECT id FROM zq ORDER BY v <=> '[0,0,0]' LIMIT 1000) s;
SELECT count(*) FROM (SELECT id FROM zq ORDER BY v <=> '[0,0,0]' LIMIT 10) s;
SET plan_cache_mode = force_generic_plan;
PREPARE zp(vector) AS SELECT count(*) FROM (SELECT id FROM zq ORDER BY v <-> $1 LIMIT 1000) s;
EXPLAIN (COSTS OFF) EXECUTE zp(NULL);
EXECUTE zp(NULL);
EXECUTE zp('[1,1,1]');
DROP INDEX zq_l2;
EXPLAIN (COSTS OFF) EXECUTE zp(NULL);
EXECUTE zp(NULL);
EXECUTE zp('[1,1,1]');
DEALLOCATE zp;
RESET plan_cache_mode;

-- issue 12, case 4: values near FLT_MAX.  Float indexes store and check
-- them; sq8 refuses a norm it cannot hold in its float32 header.
CREATE TABLE huge (id int, v vector(2));
INSERT INTO huge VALUES (1, '[3e38,-3e38]'), (2, '[-3e38,3e38]'), (3, '[1,2]'), (4, '[3e38,3e38]');
CREATE INDEX huge_l2 ON huge USING hnsw (v vector_l2_ops);
CREATE INDEX huge_cos ON huge USING hnsw (v vector_cosine_ops);
SELECT vecx_index_check('huge_l2'), vecx_index_check('huge_cos');
SELECT id FROM huge ORDER BY v <=> '[1,-1]' LIMIT 2;
CREATE INDEX huge_sq8 ON huge USING hnsw (v vector_l2_ops) WITH (quantization = sq8);
-- under cosine the operator itself overflows past a squared norm of FLT_MAX
CREATE INDEX huge_sq8c ON huge USING hnsw (v vector_cosine_ops) WITH (quantization = sq8);
DELETE FROM huge WHERE id <> 3;
INSERT INTO huge VALUES (5, '[1e18,2e18]'), (6, '[-1e18,1e18]');
CREATE INDEX huge_sq8 ON huge USING hnsw (v vector_l2_ops) WITH (quantization = sq8);
CREATE INDEX huge_sq8c ON huge USING hnsw (v vector_cosine_ops) WITH (quantization = sq8);
SELECT vecx_index_check('huge_sq8'), vecx_index_check('huge_sq8c');
INSERT INTO huge VALUES (7, '[1e38,2e38]');
SELECT id FROM huge ORDER BY v <=> '[1,-1]' LIMIT 2;
-- a query the operator cannot measure: every row ties (distance 1)
SELECT count(*), min(v <=> '[3e38,3e38]'), max(v <=> '[3e38,3e38]')
FROM (SELECT v FROM huge ORDER BY v <=> '[3e38,3e38]' LIMIT 5) s;
DROP INDEX huge_sq8c;
SELECT count(*) FROM (SELECT id FROM huge ORDER BY v <-> '[3e38,3e38]' LIMIT 2) s;

-- issue 12, case 5: scans are counted in pg_stat_user_indexes
SELECT pg_stat_force_next_flush();
CREATE TEMP TABLE before AS SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = 'ord_h';
SELECT count(*) FROM (SELECT id FROM ord ORDER BY v <-> (SELECT v FROM ord WHERE id = 1) LIMIT 5) s;
SELECT count(*) FROM (SELECT id FROM ord ORDER BY v <-> (SELECT v FROM ord WHERE id = 2) LIMIT 5) s;
SELECT pg_stat_force_next_flush();
SELECT s.idx_scan - b.idx_scan AS new_scans, s.idx_tup_read > 0 AS tuples_read
FROM pg_stat_user_indexes s, before b WHERE s.indexrelname = 'ord_h';

DROP TABLE ord, zq, huge;
DROP FUNCTION ord_scan(int, int, int), ord_tail_ok(int);
