-- The filter map of hnsw indexes with filter columns (hnswfmap.c): exact
-- answers for selective filters, always k rows when k match, kept right by
-- inserts, deletes, vacuum and builds that spill; vecx_index_check checks it.

CREATE TABLE m (id int, a int, b int, tag text, v vector(4));
-- empty at CREATE INDEX: the first insert creates the map
CREATE INDEX m_v ON m USING hnsw (v vector_l2_ops, a, b, tag);
SELECT vecx_index_check('m_v');
INSERT INTO m SELECT i, i % 100, i % 1000, 't' || (i % 10),
  ARRAY[sin(i), cos(i * 1.3), sin(i * 0.7), cos(i * 2.1)]::vector
  FROM generate_series(1, 5000) i;
SELECT vecx_index_check('m_v', true);

CREATE TABLE mq (qid int, v vector(4));
INSERT INTO mq SELECT i, ARRAY[cos(i * 0.9), sin(i * 1.7), cos(i * 0.4), sin(i * 3.1)]::vector
  FROM generate_series(1, 8) i;

-- for each query: rows through the index (forced) and the exact answer
CREATE FUNCTION m_cmp(cond text, k int) RETURNS TABLE (minrows int, maxrows int, exact bool)
LANGUAGE plpgsql AS $$
DECLARE r record; got int[]; want int[]; allsame bool := true; mn int := NULL; mx int := NULL; n int;
BEGIN
  FOR r IN SELECT * FROM mq ORDER BY qid LOOP
    SET LOCAL enable_seqscan = off;
    SET LOCAL enable_bitmapscan = off;
    SET LOCAL enable_indexscan = on;
    EXECUTE format('SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM m WHERE %s
      ORDER BY v <-> $1 LIMIT $2) s', cond) INTO got USING r.v, k;
    SET LOCAL enable_seqscan = on;
    SET LOCAL enable_indexscan = off;
    EXECUTE format('SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM m WHERE %s
      ORDER BY v <-> $1 LIMIT $2) s', cond) INTO want USING r.v, k;
    n := coalesce(array_length(got, 1), 0);
    mn := least(coalesce(mn, n), n);
    mx := greatest(coalesce(mx, n), n);
    allsame := allsame AND got IS NOT DISTINCT FROM want;
  END LOOP;
  minrows := mn; maxrows := mx; exact := allsame;
  RETURN NEXT;
END $$;

-- the plan: an index scan with the filter as index condition
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM m WHERE a = 7 AND b = 107 ORDER BY v <-> '[0,0,0,0]' LIMIT 10;
RESET enable_seqscan;
RESET enable_bitmapscan;

-- 1% (50 rows), 0.1% (5 rows), 0.02% (1 row), none, ranges, text (hashed:
-- the executor rechecks), a NULL argument
SELECT * FROM m_cmp('a = 7', 10);
SELECT * FROM m_cmp('a = 7', 100);
SELECT * FROM m_cmp('b = 7', 10);
SELECT * FROM m_cmp('a = 7 AND b = 107', 10);
SELECT * FROM m_cmp('a = 7 AND b = 8', 10);
SELECT * FROM m_cmp('a < 2', 10);
SELECT * FROM m_cmp('a >= 98 AND b > 990', 10);
SELECT * FROM m_cmp('tag = ''t3'' AND a = 13', 10);
SELECT * FROM m_cmp('tag = ''t3'' AND a = 14', 10);
SELECT * FROM m_cmp('a = NULL::int', 10);
-- 10% is 500 matches, still fewer than the map's crossover here
-- (sqrt(10 * m * N) = 894 for N = 5000): exact
SELECT * FROM m_cmp('tag = ''t3''', 10);
-- half the rows match: the map pass gives up and the graph is walked
SELECT minrows, maxrows FROM m_cmp('a < 50', 10);

-- NULL filter values never match a key; IS NULL stays a heap filter
INSERT INTO m SELECT 5000 + i, NULL, 7, 't3', ARRAY[sin(i), cos(i), 0.5, 0.5]::vector
  FROM generate_series(1, 20) i;
SELECT * FROM m_cmp('b = 7', 30);
SELECT * FROM m_cmp('a IS NULL AND b = 7', 10);
SELECT vecx_index_check('m_v', true);

-- deleted rows are never returned, before and after vacuum
DELETE FROM m WHERE id % 3 = 0;
SELECT * FROM m_cmp('a = 7', 10);
SELECT * FROM m_cmp('a = 7 AND b = 107', 10);
VACUUM m;
SELECT vecx_index_check('m_v', true);
SELECT * FROM m_cmp('a = 7', 10);

-- delete/insert cycles with vacuum: slots and map space are reused, the
-- index does not keep growing
CREATE TEMP TABLE sizes (cycle int, pages int);
\set ECHO none
SELECT s FROM generate_series(1, 6) c, LATERAL (VALUES
  (1, format('DELETE FROM m WHERE id %% 6 = %s', c % 6)),
  (2, 'VACUUM m'),
  (3, format('INSERT INTO m SELECT 10000 * %s + i, i %% 100, i %% 1000, ''t'' || (i %% 10),
      ARRAY[sin(i + %s), cos(i * 1.3 + %s), sin(i * 0.7), cos(i * 2.1)]::vector
      FROM generate_series(1, 900) i', c, c, c)),
  (4, format('INSERT INTO sizes VALUES (%s, pg_relation_size(''m_v'') / 8192)', c))) v(o, s)
  ORDER BY c, o \gexec
\set ECHO all
SELECT (SELECT pages FROM sizes WHERE cycle = 6) <= 1.2 * (SELECT pages FROM sizes WHERE cycle = 2) AS bounded;
SELECT vecx_index_check('m_v', true);
SELECT * FROM m_cmp('a = 7', 10);
SELECT * FROM m_cmp('b = 7', 10);

-- a build that spills to disk: the map of the written graph, then inserts
SET maintenance_work_mem = '1MB';
CREATE INDEX m_v2 ON m USING hnsw (v vector_l2_ops, b, a);
RESET maintenance_work_mem;
DROP INDEX m_v;
SELECT vecx_index_check('m_v2', true);
SELECT * FROM m_cmp('a = 7 AND b = 107', 10);
SELECT * FROM m_cmp('b = 7', 10);

-- REINDEX and an index without filter columns (no map) beside it
REINDEX INDEX m_v2;
SELECT vecx_index_check('m_v2', true);
CREATE INDEX m_plain ON m USING hnsw (v vector_l2_ops);
SELECT vecx_index_check('m_plain', true);
DROP INDEX m_plain;
SELECT * FROM m_cmp('a = 7', 10);

DROP TABLE m, mq;
DROP FUNCTION m_cmp;
