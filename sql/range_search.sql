-- Range search through the index: l2_within(v, q, r) and friends become an
-- index condition (v <<->> ROW(q, r)::vector_range) for hnsw, ivfpq and
-- ivfflat, alone or with ORDER BY ... LIMIT; the rows equal a sequential
-- scan's in the exact modes, and the scan stops at the radius.
SET client_min_messages = notice;

-- the functions themselves: distance below r
SELECT l2_within('[0,0]', '[3,4]', 5) AS at_5, l2_within('[0,0]', '[3,4]', 5.0001) AS above_5,
	cosine_within('[1,0]', '[0,1]', 1.01) AS cos, ip_within('[1,2]', '[3,4]', -10) AS ip_strict,
	ip_within('[1,2]', '[3,4]', -10.5) AS ip_below, l1_within('[0,0]', '[1,1]', 2.5) AS l1,
	cosine_within('[0,0]', '[1,1]', 10) AS zero_cos;
SELECT '[1,1]'::vector <<->> ROW('[1,2]', 1.5)::vector_range AS op,
	'[1,1]'::vector <<->> ROW('[1,2]', NULL)::vector_range AS null_radius;
SELECT l2_within('[1,2]', '[1,2,3]', 1);

CREATE TABLE rs (id int PRIMARY KEY, v vector(4), a int);
INSERT INTO rs SELECT i, ARRAY[sin(i), cos(i * 1.3), sin(i * 0.7) * 2, cos(i * 0.11)]::real[]::vector, i % 10
	FROM generate_series(1, 3000) i;
INSERT INTO rs VALUES (0, NULL, 0);
CREATE TABLE rq (qid int, q vector(4));
INSERT INTO rq SELECT i, ARRAY[sin(i * 5), cos(i), 0.5, sin(i)]::real[]::vector FROM generate_series(1, 10) i;

-- the exact answers (a sequential scan), for every metric
SET enable_indexscan = off;
CREATE TEMP TABLE rs_exact AS
SELECT qid, m,
	ARRAY(SELECT id FROM rs WHERE CASE m
		WHEN 'l2' THEN v <-> q < 0.6 WHEN 'cosine' THEN v <=> q < 0.05
		WHEN 'ip' THEN v <#> q < -2 ELSE v <+> q < 0.9 END ORDER BY id) AS ids
FROM rq, unnest(ARRAY['l2', 'cosine', 'ip', 'l1']) m;
CREATE TEMP TABLE rs_exact_order AS
SELECT ARRAY(SELECT id FROM rs WHERE v <-> '[0.5,0.5,0.5,0.5]' < 0.6
	ORDER BY v <-> '[0.5,0.5,0.5,0.5]') AS ids;
RESET enable_indexscan;
SELECT m, sum(cardinality(ids)) BETWEEN 10 AND 2000 AS some_rows,
	count(*) FILTER (WHERE cardinality(ids) > 0) AS queries_with_rows
	FROM rs_exact GROUP BY m ORDER BY m;
SELECT cardinality(ids) FROM rs_exact_order;

SET enable_seqscan = off;

-- hnsw
CREATE INDEX rs_l2 ON rs USING hnsw (v vector_l2_ops);
CREATE INDEX rs_cos ON rs USING hnsw (v vector_cosine_ops);
CREATE INDEX rs_ip ON rs USING hnsw (v vector_ip_ops);
CREATE INDEX rs_l1 ON rs USING hnsw (v vector_l1_ops);
EXPLAIN (costs off) SELECT id FROM rs WHERE l2_within(v, '[0.5,0.5,0.5,0.5]', 0.6);
EXPLAIN (costs off) SELECT id FROM rs WHERE l2_within(v, '[0.5,0.5,0.5,0.5]', 0.6)
	ORDER BY v <-> '[0.5,0.5,0.5,0.5]' LIMIT 3;
-- either argument may be the column
EXPLAIN (costs off) SELECT id FROM rs WHERE cosine_within('[0.5,0.5,0.5,0.5]', v, 0.1);
-- a query from another table: a runtime key
EXPLAIN (costs off) SELECT qid, id FROM rq, LATERAL (SELECT id FROM rs WHERE ip_within(v, q, -2.5)) s;

CREATE FUNCTION rs_got(m text) RETURNS TABLE (qid int, ids int[]) LANGUAGE sql AS $$
	SELECT qid, ARRAY(SELECT id FROM rs WHERE CASE m
		WHEN 'l2' THEN l2_within(v, q, 0.6) WHEN 'cosine' THEN cosine_within(v, q, 0.05)
		WHEN 'ip' THEN ip_within(v, q, -2) ELSE l1_within(v, q, 0.9) END ORDER BY id)
	FROM rq $$;
-- (a plan of its own per metric: the CASE above is folded by inlining)
CREATE FUNCTION rs_check(metric text) RETURNS TABLE (same_rows bigint, queries bigint)
LANGUAGE sql AS $$
	SELECT count(*) FILTER (WHERE g.ids = e.ids), count(*)
	FROM rs_got($1) g JOIN rs_exact e ON e.qid = g.qid AND e.m = $1 $$;

-- strict_order with the exact fallback (the defaults): a sequential scan's rows
SELECT m, r.* FROM unnest(ARRAY['l2', 'cosine', 'ip', 'l1']) m, rs_check(m) r;
-- relaxed_order too
SET hnsw.iterative_scan = relaxed_order;
SELECT m, r.* FROM unnest(ARRAY['l2', 'ip']) m, rs_check(m) r;
RESET hnsw.iterative_scan;

-- with ORDER BY: the nearest rows within the radius, in order
SELECT ARRAY(SELECT id FROM rs WHERE l2_within(v, '[0.5,0.5,0.5,0.5]', 0.6)
		ORDER BY v <-> '[0.5,0.5,0.5,0.5]', id)
	= ARRAY(SELECT id FROM rs WHERE l2_within(v, '[0.5,0.5,0.5,0.5]', 0.6)
		ORDER BY v <-> '[0.5,0.5,0.5,0.5]') AS ordered;
SELECT count(*) FROM (SELECT id FROM rs WHERE l2_within(v, '[0.5,0.5,0.5,0.5]', 0.6)
	ORDER BY v <-> '[0.5,0.5,0.5,0.5]' LIMIT 3) s;
-- with a filter on the table
SELECT count(*) = (SELECT count(*) FROM rs WHERE a = 3 AND v <-> '[0.5,0.5,0.5,0.5]' < 0.9)
	AS filtered FROM rs WHERE l2_within(v, '[0.5,0.5,0.5,0.5]', 0.9) AND a = 3;

-- the walk stops at the radius: without the exact fallback it visits a
-- small part of the graph and takes no exact pass (approximate)
SET hnsw.exact_fallback = off;
SELECT vecx_stat_reset('rs_l2');
SELECT count(*) > 0 AS found FROM rs WHERE l2_within(v, '[0.5,0.5,0.5,0.5]', 0.5);
SELECT scans, visited < 1500 AS stopped_early, exact_passes
	FROM vecx_stat_indexes WHERE indexrelname = 'rs_l2';
RESET hnsw.exact_fallback;

-- degenerate radii and queries: NaN and NULL match nothing, infinity all
SELECT count(*) FROM rs WHERE l2_within(v, '[0.5,0.5,0.5,0.5]', 'NaN');
SELECT count(*) FROM rs WHERE l2_within(v, '[0.5,0.5,0.5,0.5]', 'Infinity');
SELECT count(*) FROM rs WHERE v <<->> ROW(NULL, 1)::vector_range;
SELECT count(*) FROM rs WHERE cosine_within(v, '[0,0,0,0]', 2);
SELECT count(*) FROM rs WHERE l2_within(v, '[1,2]', 1);
DROP INDEX rs_l2, rs_cos, rs_ip, rs_l1;

-- ivfpq: strict_order reads lists until none can hold a row within the
-- radius (as exact_order does), so the rows are a sequential scan's
CREATE INDEX rs_pq_l2 ON rs USING ivfpq (v vector_l2_ops) WITH (lists = 16);
CREATE INDEX rs_pq_cos ON rs USING ivfpq (v vector_cosine_ops) WITH (lists = 16);
CREATE INDEX rs_pq_ip ON rs USING ivfpq (v vector_ip_ops) WITH (lists = 16);
EXPLAIN (costs off) SELECT id FROM rs WHERE l2_within(v, '[0.5,0.5,0.5,0.5]', 0.6);
SELECT m, r.* FROM unnest(ARRAY['l2', 'cosine', 'ip']) m, rs_check(m) r;
SELECT ARRAY(SELECT id FROM rs WHERE l2_within(v, '[0.5,0.5,0.5,0.5]', 0.6)
		ORDER BY v <-> '[0.5,0.5,0.5,0.5]') = ids AS exact_order FROM rs_exact_order;
-- and stops at the radius: a small one reads few lists
SELECT vecx_stat_reset('rs_pq_l2');
SELECT count(*) > 0 AS found FROM rs WHERE l2_within(v, '[0.5,0.5,0.5,0.5]', 0.5);
SELECT scans, visited < 16 AS fewer_lists FROM vecx_stat_indexes WHERE indexrelname = 'rs_pq_l2';
-- iterative_scan = off: the probed lists only (approximate)
SET ivfpq.iterative_scan = off;
SELECT count(*) <= (SELECT count(*) FROM rs WHERE v <-> '[0.5,0.5,0.5,0.5]' < 0.6) AS subset
	FROM rs WHERE l2_within(v, '[0.5,0.5,0.5,0.5]', 0.6);
RESET ivfpq.iterative_scan;
DROP INDEX rs_pq_l2, rs_pq_cos, rs_pq_ip;

-- ivfflat: exact with an iterative mode; its default (off) probes
-- ivfflat.probes lists only
CREATE INDEX rs_flat ON rs USING ivfflat (v vector_l2_ops) WITH (lists = 16);
SET ivfflat.iterative_scan = strict_order;
SELECT * FROM rs_check('l2');
RESET ivfflat.iterative_scan;
SELECT count(*) <= (SELECT count(*) FROM rs WHERE v <-> '[0.5,0.5,0.5,0.5]' < 0.6) AS subset
	FROM rs WHERE l2_within(v, '[0.5,0.5,0.5,0.5]', 0.6);
-- ivfflat has no l1 operator class: no index condition for l1_within
EXPLAIN (costs off) SELECT id FROM rs WHERE l1_within(v, '[0.5,0.5,0.5,0.5]', 0.6);

DROP TABLE rs, rq;
DROP FUNCTION rs_got(text), rs_check(text);
