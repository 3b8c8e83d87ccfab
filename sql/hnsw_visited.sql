-- A scan's visited set is a bitmap over every node key for small indexes
-- and a hash set of the keys visited for large ones (hnswutils.c), so its
-- memory and clearing follow the walk, not the index.  The two must walk
-- identically: the same rows in the same order, for plain, filtered,
-- iterative and graph-copy scans.
SELECT setseed(0.5);
CREATE TABLE vs (id int, c int, v vector(4));
INSERT INTO vs SELECT i, i % 10, ARRAY[random(), random(), random(), random()]::vector
  FROM generate_series(1, 5000) i;
CREATE INDEX vs_v ON vs USING hnsw (v vector_l2_ops) WITH (m = 8);
CREATE INDEX vs_vc ON vs USING hnsw (v vector_l2_ops, c) WITH (m = 8);
CREATE TABLE vsq AS SELECT i AS qid, ARRAY[random(), random(), random(), random()]::vector(4) AS q
  FROM generate_series(1, 20) i;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SET enable_sort = off;

CREATE FUNCTION vs_run(run text) RETURNS TABLE (tag text, qid int, kind text, ids int[])
LANGUAGE plpgsql AS $$
BEGIN
  -- plain, LIMIT within the first batch and well past it (iterative)
  RETURN QUERY SELECT run, vsq.qid, 'plain',
    (SELECT array_agg(id) FROM (SELECT id FROM vs ORDER BY v <-> vsq.q LIMIT 10) s) FROM vsq;
  RETURN QUERY SELECT run, vsq.qid, 'deep',
    (SELECT array_agg(id) FROM (SELECT id FROM vs ORDER BY v <-> vsq.q LIMIT 300) s) FROM vsq;
  -- a filter the index applies (multicolumn) and one the executor applies
  RETURN QUERY SELECT run, vsq.qid, 'indexfilter',
    (SELECT array_agg(id) FROM (SELECT id FROM vs WHERE c = 3 ORDER BY v <-> vsq.q LIMIT 20) s) FROM vsq;
  RETURN QUERY SELECT run, vsq.qid, 'tablefilter',
    (SELECT array_agg(id) FROM (SELECT id FROM vs WHERE id % 7 = 1 ORDER BY v <-> vsq.q LIMIT 20) s) FROM vsq;
END $$;

CREATE TEMP TABLE got AS SELECT * FROM vs_run('bitmap');
SET hnsw.visited_bitmap_limit = 0;
INSERT INTO got SELECT * FROM vs_run('hash');
-- graph copies keep node numbers: the same walk again
SET hnsw.cache_size = '64MB';
INSERT INTO got SELECT * FROM vs_run('hash+copy');
INSERT INTO got SELECT * FROM vs_run('hash+copy');
SELECT count(*) > 0 AS copy_taken FROM vecx_hnsw_cache_status();
RESET hnsw.cache_size;
RESET hnsw.visited_bitmap_limit;

-- every run returned rows, each kind as many as asked
SELECT tag, kind, count(*) AS queries, min(cardinality(ids)) AS min_rows
  FROM got GROUP BY tag, kind ORDER BY tag, kind;
-- the hash set walks exactly as the bitmap does
SELECT b.kind, count(*) AS queries, bool_and(b.ids = h.ids) AS same
  FROM got b JOIN got h USING (qid, kind)
  WHERE b.tag = 'bitmap' AND h.tag = 'hash' GROUP BY b.kind ORDER BY b.kind;
-- and the rows are the right ones: the exact answer for the plain queries
RESET enable_seqscan;
RESET enable_sort;
SET enable_indexscan = off;
SELECT count(*) AS queries,
  avg(cardinality(array(SELECT unnest(g.ids) INTERSECT
    SELECT id FROM (SELECT id FROM vs ORDER BY v <-> vsq.q LIMIT 10) e))) >= 9.5 AS recall_ok
  FROM got g JOIN vsq USING (qid) WHERE g.tag = 'hash' AND g.kind = 'plain';
RESET enable_indexscan;
RESET enable_bitmapscan;
DROP TABLE vs, vsq;
DROP FUNCTION vs_run(text);
