-- Filtered ivfpq search: correct by default (iterative strict_order scans
-- up to every list), the plans the cost model picks at 0.1%, 1%, 10% and
-- 100% selectivity, multicolumn indexes with in-index filtering.
SET client_min_messages = notice;

-- 20,000 rows, 8 dims; c1000 keeps 0.1%, c100 1%, c10 10%.  ANALYZE reads
-- every row of a table this small, so the statistics are deterministic.
CREATE TABLE f (id int, c1000 int, c100 int, c10 int, v vector(8));
INSERT INTO f SELECT i, (i * 7919) % 1000, (i * 7919) % 100, (i * 7919) % 10,
  ARRAY(SELECT round(sin(i * j * 0.37 + j)::numeric, 3) FROM generate_series(1, 8) j)::vector(8)
  FROM generate_series(1, 20000) i;
CREATE INDEX f_c1000 ON f (c1000);
CREATE INDEX f_c100 ON f (c100);
CREATE INDEX f_c10 ON f (c10);
CREATE INDEX f_v ON f USING ivfpq (v vector_l2_ops) WITH (lists = 100);
ANALYZE f;
SHOW ivfpq.iterative_scan;
SHOW ivfpq.max_probes;
SHOW ivfpq.probes;

-- exact answers to compare with
CREATE TABLE q (qid int, v vector(8));
INSERT INTO q SELECT i, ARRAY(SELECT round(cos(i * j * 0.71 + 2 * j)::numeric, 3)
  FROM generate_series(1, 8) j)::vector(8) FROM generate_series(1, 5) i;
CREATE FUNCTION f_exact(qv vector, cond text, k int) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE r int[];
BEGIN
  SET LOCAL enable_indexscan = off;
  EXECUTE format('SELECT array_agg(id ORDER BY d, id) FROM (SELECT id, v <-> $1 AS d FROM f
    WHERE %s ORDER BY d, id LIMIT $2) s', cond) INTO r USING qv, k;
  RETURN r;
END $$;
-- rows returned, whether in distance order, and hits against the exact answer
CREATE FUNCTION f_check(cond text, k int) RETURNS TABLE (qid int, nrows int, ordered bool, hits int)
LANGUAGE plpgsql AS $$
DECLARE r record; got int[]; want int[]; dists float8[];
BEGIN
  FOR r IN SELECT * FROM q ORDER BY q.qid LOOP
    EXECUTE format('SELECT array_agg(id), array_agg(d) FROM (SELECT id, v <-> $1 AS d FROM f WHERE %s
      ORDER BY v <-> $1 LIMIT $2) s', cond) INTO got, dists USING r.v, k;
    want := f_exact(r.v, cond, k);
    qid := r.qid;
    nrows := coalesce(array_length(got, 1), 0);
    ordered := coalesce((SELECT bool_and(dists[i] <= dists[i + 1]) FROM generate_series(1, nrows - 1) i), true);
    hits := (SELECT count(*) FROM unnest(got) g WHERE g = ANY (want));
    RETURN NEXT;
  END LOOP;
END $$;

-- plan choice through the plain index: exact plans for 0.1% and 1% (the
-- executor would discard about 100 and 1,000 rows per row returned), the
-- index for 10% and 100%
EXPLAIN (COSTS OFF) SELECT id FROM f WHERE c1000 = 7 ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM f WHERE c100 = 7 ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM f WHERE c10 = 7 ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM f ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 10;
-- a larger LIMIT needs more lists: 10% with LIMIT 1000 is exact
EXPLAIN (COSTS OFF) SELECT id FROM f WHERE c10 = 7 ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 1000;

-- rows with the plans chosen: always k rows, in distance order
SELECT min(nrows), bool_and(ordered), min(hits) >= 9 AS recall_ok FROM f_check('c1000 = 7', 10);
SELECT min(nrows), bool_and(ordered), min(hits) >= 9 AS recall_ok FROM f_check('c100 = 7', 10);
SELECT min(nrows), bool_and(ordered), min(hits) >= 9 AS recall_ok FROM f_check('c10 = 7', 10);
SELECT min(nrows), bool_and(ordered), min(hits) >= 8 AS recall_ok FROM f_check('true', 10);

-- forced through the plain index: a 0.1% filter makes the scan probe
-- list after list (ivfpq.probes = 1); k rows, still in exact order
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SET enable_sort = off;
EXPLAIN (COSTS OFF) SELECT id FROM f WHERE c1000 = 7 ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 10;
SELECT min(nrows), bool_and(ordered), avg(hits) >= 7 AS recall_ok FROM f_check('c1000 = 7', 10);
SELECT min(nrows), bool_and(ordered), avg(hits) >= 8 AS recall_ok FROM f_check('c100 = 7', 10);
-- all 20 rows of a 0.1% filter, in order, when asked for more
SELECT min(nrows), bool_and(ordered) FROM f_check('c1000 = 7', 100);
-- none of an empty filter
SELECT max(nrows) FROM f_check('c1000 = 1000', 10);
-- relaxed_order never skips a row: every match, possibly out of order
SET ivfpq.iterative_scan = relaxed_order;
SELECT min(nrows), min(hits) = 20 AS all_found FROM f_check('c1000 = 7', 100);
-- off: one round of ivfpq.probes lists, fewer rows than asked (pgvector's ivfflat default)
SET ivfpq.iterative_scan = off;
SELECT max(nrows) < 10 AS too_few FROM f_check('c1000 = 7', 10);
RESET ivfpq.iterative_scan;
-- ivfpq.max_probes bounds the lists probed one by one; the exact pass over
-- the rest still returns every row
SET ivfpq.max_probes = 2;
SELECT min(nrows) = 10 AS complete FROM f_check('c1000 = 7', 10);
SET ivfpq.max_probes = 100;
SELECT min(nrows) FROM f_check('c1000 = 7', 10);
RESET ivfpq.max_probes;

-- strict order across rounds: rows of later lists whose bound lies below
-- one already returned are checked against the heap; relaxed_order shows
-- that such rows exist here (some answer goes back in distance)
SET ivfpq.iterative_scan = relaxed_order;
SELECT bool_and(ordered) AS relaxed_all_ordered FROM f_check('c10 = 7', 300);
SET ivfpq.iterative_scan = strict_order;
SELECT min(nrows), bool_and(ordered) AS strict_ordered, avg(hits) >= 270 AS recall_ok FROM f_check('c10 = 7', 300);
RESET enable_seqscan;
RESET enable_bitmapscan;
RESET enable_sort;

-- a multicolumn index filters while it scans the lists (Index Cond) and is
-- preferred to the plain one
CREATE INDEX f_vm ON f USING ivfpq (v vector_l2_ops, c10, c100, c1000) WITH (lists = 100);
SELECT vecx_index_check('f_vm', true);
EXPLAIN (COSTS OFF) SELECT id FROM f WHERE c1000 = 7 ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM f WHERE c100 = 7 ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM f WHERE c10 = 7 ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM f ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM f WHERE c10 = 7 AND c100 > 50 ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 10;
SELECT min(nrows), bool_and(ordered), min(hits) >= 9 AS recall_ok FROM f_check('c100 = 7', 10);
SELECT min(nrows), bool_and(ordered), min(hits) >= 9 AS recall_ok FROM f_check('c10 = 7', 10);
SELECT min(nrows), bool_and(ordered), min(hits) >= 9 AS recall_ok FROM f_check('c10 = 7 AND c100 > 50', 10);
SELECT min(nrows), bool_and(ordered), min(hits) >= 9 AS recall_ok FROM f_check('c10 >= 3 AND c10 < 5', 10);
-- forced at 0.1% (the planner prefers the btree): every match, exact
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SET enable_sort = off;
DROP INDEX f_v;
EXPLAIN (COSTS OFF) SELECT id FROM f WHERE c1000 = 7 ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 10;
SELECT min(nrows), bool_and(ordered), min(hits) = 10 AS exact FROM f_check('c1000 = 7', 10);
SELECT min(nrows), bool_and(ordered), min(hits) = 20 AS all_found FROM f_check('c1000 = 7', 50);
-- a filter on a column that is not in the index stays a Filter
EXPLAIN (COSTS OFF) SELECT id FROM f WHERE id % 1000 = 7 ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 10;
SELECT min(nrows), bool_and(ordered) FROM f_check('id % 1000 = 7', 10);
-- ivfpq.probes = all lists: the scan is exact
SET ivfpq.probes = 100;
SELECT min(nrows), bool_and(ordered), min(hits) = 10 AS exact FROM f_check('c100 = 7', 10);
RESET ivfpq.probes;

-- prepared statements with generic plans: the filter value is a parameter
-- (hits_ok: at least 8 of the exact 10 by default, all 10 with
-- ivfpq.exact_order)
SET plan_cache_mode = force_generic_plan;
PREPARE pf(vector, int) AS
  SELECT count(*) AS nrows, count(*) FILTER (WHERE id = ANY (w.want)) >=
    CASE WHEN current_setting('ivfpq.exact_order')::bool THEN 10 ELSE 8 END AS hits_ok
  FROM (SELECT id FROM f WHERE c100 = $2 ORDER BY v <-> $1 LIMIT 10) s,
    (SELECT f_exact($1, format('c100 = %s', $2), 10) AS want OFFSET 0) w;
PREPARE pg(vector, int) AS SELECT id FROM f WHERE c100 = $2 ORDER BY v <-> $1 LIMIT 10;
EXPLAIN (COSTS OFF) EXECUTE pg('[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]', 7);
EXECUTE pf('[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]', 7);
EXECUTE pf('[0.1,0.9,0.1,0.9,0.1,0.9,0.1,0.9]', 42);
EXECUTE pf('[0.1,0.9,0.1,0.9,0.1,0.9,0.1,0.9]', 100);
SET ivfpq.exact_order = on;
EXECUTE pf('[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]', 7);
EXECUTE pf('[0.1,0.9,0.1,0.9,0.1,0.9,0.1,0.9]', 42);
RESET ivfpq.exact_order;
DEALLOCATE pf;
DEALLOCATE pg;
RESET plan_cache_mode;

-- joins: the k nearest matching rows for each query row (LATERAL)
EXPLAIN (COSTS OFF) SELECT q.qid, n.id FROM q CROSS JOIN LATERAL
  (SELECT id FROM f WHERE f.c100 = q.qid ORDER BY f.v <-> q.v LIMIT 5) n;
SELECT q.qid, count(*) AS nrows, count(*) FILTER (WHERE n.id = ANY (w.want)) >= 4 AS recall_ok
  FROM q CROSS JOIN LATERAL
  (SELECT id FROM f WHERE f.c100 = q.qid ORDER BY f.v <-> q.v LIMIT 5) n CROSS JOIN LATERAL
  (SELECT f_exact(q.v, format('c100 = %s', q.qid), 5) AS want OFFSET 0) w
  GROUP BY q.qid ORDER BY q.qid;
RESET enable_seqscan;
RESET enable_bitmapscan;
RESET enable_sort;

-- a partial multicolumn index answers the queries its predicate implies
-- (forced: the btree indexes win at this selectivity)
CREATE INDEX f_vp ON f USING ivfpq (v vector_l2_ops, c100) WITH (lists = 20) WHERE c10 = 3;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SET enable_sort = off;
EXPLAIN (COSTS OFF) SELECT id FROM f WHERE c10 = 3 AND c100 = 13 ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 5;
SELECT min(nrows), bool_and(ordered), min(hits) >= 4 AS recall_ok FROM f_check('c10 = 3 AND c100 = 13', 5);
-- a query the predicate does not imply cannot use it
EXPLAIN (COSTS OFF) SELECT id FROM f WHERE c10 = 4 AND c100 = 13 ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 5;
RESET enable_seqscan;
RESET enable_bitmapscan;
RESET enable_sort;
DROP INDEX f_vp;

-- inserts, deletes and vacuum keep the index valid and the payloads right
INSERT INTO f SELECT i, i % 1000, i % 100, i % 10, ARRAY[0.5,0.5,0.5,0.5,0.5,0.5,0.5,(i - 20000) * 0.001]::vector(8)
  FROM generate_series(20001, 20300) i;
DELETE FROM f WHERE id % 7 = 0;
VACUUM f;
SELECT vecx_index_check('f_vm', true);
SET enable_seqscan = off;
SELECT array_agg(id) FROM (SELECT id FROM f WHERE c100 = 33 ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0]' LIMIT 3) s;
RESET enable_seqscan;
DROP TABLE f, q;
DROP FUNCTION f_exact, f_check;

-- every filter column type and operator, NULL filter values, item pages
-- (8-bit codes) and fast-scan pages, and an untrained (empty) index
CREATE TABLE ft (id int, v vector(4), i2 int2, i4 int4, i8 int8, b bool, d date,
  ts timestamp, tz timestamptz, t text, vc varchar(10), u uuid, a int4[]);
INSERT INTO ft SELECT i, ARRAY[sin(i), cos(i), sin(i * 0.3), cos(i * 0.7)]::real[]::vector,
  (i % 5)::int2, i % 7, i % 11, i % 2 = 0, date '2024-01-01' + i % 30,
  timestamp '2024-01-01' + (i % 24) * interval '1 hour', timestamptz '2024-01-01 00:00+00' + (i % 10) * interval '1 day',
  'w' || (i % 13), 'v' || (i % 3), ('00000000-0000-0000-0000-' || lpad((i % 4)::text, 12, '0'))::uuid,
  ARRAY[i % 10, (i / 10) % 10]
  FROM generate_series(1, 3000) i;
UPDATE ft SET i4 = NULL, t = NULL, a = NULL WHERE id % 50 = 0;
CREATE FUNCTION ft_check(cond text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE got int[]; want int[];
BEGIN
  SET LOCAL enable_seqscan = off;
  SET LOCAL enable_bitmapscan = off;
  EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM ft WHERE %s ORDER BY v <-> ''[0.3,0.3,0.3,0.3]'' LIMIT 20) s', cond) INTO got;
  SET LOCAL enable_indexscan = off;
  SET LOCAL enable_seqscan = on;
  EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM ft WHERE %s ORDER BY v <-> ''[0.3,0.3,0.3,0.3]'', id LIMIT 20) s', cond) INTO want;
  RETURN coalesce(cardinality(got), 0) || CASE WHEN got IS NOT DISTINCT FROM want THEN ' exact' ELSE ' differs' END;
END $$;
CREATE INDEX ft_all ON ft USING ivfpq (v vector_l2_ops, i2, i4, i8, b, d, ts, tz, t, vc, u, a) WITH (lists = 8);
SELECT vecx_index_check('ft_all', true);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM ft WHERE a && '{3}' AND t = 'w5' ORDER BY v <-> '[0.3,0.3,0.3,0.3]' LIMIT 20;
RESET enable_seqscan;
SET ivfpq.probes = 8;
SELECT c, ft_check(c) FROM unnest(ARRAY[
  'i2 = 3', 'i2 < 2', 'i2 >= 4::int8', 'i4 = 3', 'i4 <= 1', 'i4 > 5::int2', 'i8 = 10', 'i8 BETWEEN 2 AND 4',
  'b = false', 'd = ''2024-01-05''', 'd > ''2024-01-25''', 'ts < ''2024-01-01 03:00''',
  'tz >= ''2024-01-08 00:00+00''', 't = ''w7''', 'vc = ''v1''',
  'u = ''00000000-0000-0000-0000-000000000002''', 'a && ''{3}''', 'a @> ''{3,4}''', 'a && ''{3,NULL}''',
  'a @> ''{}''', 'i4 IS NULL', 'i4 = NULL', 't = ''nothing''', 'i4 = 3 AND t = ''w7'' AND a && ''{1,2,3}''']) c;
-- IN / = ANY, bare booleans and null tests as index conditions
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM ft WHERE i4 IN (1, 3) AND NOT b AND t IS NOT NULL ORDER BY v <-> '[0.3,0.3,0.3,0.3]' LIMIT 20;
RESET enable_seqscan;
SELECT c, ft_check(c) FROM unnest(ARRAY[
  'i4 IN (1, 3)', 'i4 = ANY (''{2,NULL}''::int[])', 'i4 = ANY (''{}''::int[])', 'i8 < ANY (''{3,5}''::int8[])',
  't IN (''w1'', ''w7'')', 'u IN (''00000000-0000-0000-0000-000000000001'', ''00000000-0000-0000-0000-000000000003'')',
  'b', 'NOT b', 'b AND i2 IN (0, 2)', 'i4 IS NOT NULL AND t IS NULL', 'a IS NULL', 'v IS NOT NULL AND i4 IN (4, 5)']) c;
-- the same on item pages (8-bit codes) and on an index built before any row
CREATE INDEX ft_items ON ft USING ivfpq (v vector_l2_ops, i4, t, a) WITH (lists = 8, pq_bits = 8);
DROP INDEX ft_all;
SELECT vecx_index_check('ft_items', true);
SELECT c, ft_check(c) FROM unnest(ARRAY['i4 = 3', 't = ''w7''', 'a @> ''{3,4}''', 'i4 > 2 AND a && ''{5}''']) c;
DROP INDEX ft_items;
CREATE TABLE ft2 (LIKE ft);
CREATE INDEX ft2_idx ON ft2 USING ivfpq (v vector_l2_ops, i4, a);
INSERT INTO ft2 SELECT * FROM ft WHERE id <= 200;
SELECT vecx_index_check('ft2_idx', true);
SET enable_seqscan = off;
SELECT array_agg(id) = (SELECT array_agg(id) FROM (SELECT id FROM ft WHERE id <= 200 AND i4 = 2 AND a && '{1}'
    ORDER BY v <-> '[0.3,0.3,0.3,0.3]', id LIMIT 5) s) AS untrained_exact
  FROM (SELECT id FROM ft2 WHERE i4 = 2 AND a && '{1}' ORDER BY v <-> '[0.3,0.3,0.3,0.3]' LIMIT 5) s;
RESET enable_seqscan;
RESET ivfpq.probes;

-- parallel build of a multicolumn index: same size, same answers
SET max_parallel_maintenance_workers = 0;
CREATE INDEX ft_s ON ft USING ivfpq (v vector_l2_ops, i4, a) WITH (lists = 8);
ALTER TABLE ft SET (parallel_workers = 2);
SET max_parallel_maintenance_workers = 2;
CREATE INDEX ft_p ON ft USING ivfpq (v vector_l2_ops, i4, a) WITH (lists = 8);
RESET max_parallel_maintenance_workers;
SELECT pg_relation_size('ft_s') = pg_relation_size('ft_p') AS same_size;
SELECT vecx_index_check('ft_p', true);
DROP INDEX ft_s;
SET ivfpq.probes = 8;
SELECT ft_check('i4 = 4 AND a && ''{2}''');
RESET ivfpq.probes;

-- unsupported shapes
CREATE INDEX ON ft USING ivfpq (i4, v vector_l2_ops);
CREATE INDEX ON ft USING ivfpq (v vector_l2_ops, v vector_l2_ops);
CREATE INDEX ON ft USING ivfpq (v vector_l2_ops, id, (id::float8));
-- filter operator classes validate
SELECT opcname, amvalidate(c.oid) FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
  WHERE a.amname = 'ivfpq' AND opcname LIKE '%filter%' ORDER BY opcname;
DROP TABLE ft, ft2;
DROP FUNCTION ft_check;
