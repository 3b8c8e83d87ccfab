-- hnsw graph copies (hnsw.cache_size): scans walk a backend-local copy of
-- the graph; every change of the index retires it.
SET enable_seqscan = off;
SET hnsw.iterative_scan = relaxed_order;

CREATE TABLE hc (id int PRIMARY KEY, v vector(8));
INSERT INTO hc SELECT i, ARRAY(SELECT (hashint4(i * 8 + j) % 10000) / 100.0
                             FROM generate_series(1, 8) j)::real[]::vector
  FROM generate_series(1, 1500) i;
CREATE INDEX hc_l2 ON hc USING hnsw (v vector_l2_ops);
CREATE TABLE hcq (qid int, v vector(8));
INSERT INTO hcq SELECT i, ARRAY(SELECT (hashint4(-i * 8 - j) % 10000) / 100.0
                                FROM generate_series(1, 8) j)::real[]::vector
  FROM generate_series(1, 50) i;
-- exact answers, from a sequential scan
CREATE TEMP TABLE hc_exact AS
  SELECT q.qid, ARRAY(SELECT h.id FROM hc h ORDER BY h.v <-> q.v, h.id LIMIT 10) AS ids
  FROM hcq q;

-- off by default: no copy
SHOW hnsw.cache_size;
SELECT count(*) FROM (SELECT id FROM hc ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 5) s;
SELECT count(*) FROM vecx_hnsw_cache_status();

-- shared copies need vecx in shared_preload_libraries (TAP 019); without
-- it there are none and hnsw.shared_cache_size is not defined
SELECT count(*) FROM vecx_hnsw_shared_cache_status();

-- on: scans walk the pages until they have read as many nodes as the
-- index has pages; the next one takes the copy
SET hnsw.cache_size = '64MB';
SELECT count(*) FROM (SELECT id FROM hc ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 5) s;
SELECT index, current, nodes, hits, builds FROM vecx_hnsw_cache_status();
SELECT count(*) FROM hcq q, LATERAL (SELECT id FROM hc ORDER BY v <-> q.v LIMIT 1) s;
SELECT index, current, nodes, bytes > 0 AS has_bytes, hits > 0 AS has_hits, builds
  FROM vecx_hnsw_cache_status();

-- the copy's answers: exact distance order, and the exact top 10 for
-- nearly every query (the graph is random; 50 queries on 1,500 points)
CREATE TEMP TABLE hc_got AS
  SELECT q.qid, ARRAY(SELECT h.id FROM hc h ORDER BY h.v <-> q.v LIMIT 10) AS ids
  FROM hcq q;
SELECT hits > 50 AS copy_served_them FROM vecx_hnsw_cache_status();
SELECT sum(cardinality(ARRAY(SELECT unnest(g.ids) INTERSECT SELECT unnest(e.ids)))) >= 490 AS recall_ok
  FROM hc_got g JOIN hc_exact e USING (qid);
-- iterative batches: relaxed order returns every row once; strict order
-- returns every row too, in distance order but for at most one step back
-- where the exact pass takes over (README: what each mode promises)
SELECT count(*) AS rows, count(DISTINCT id) AS distinct_rows
  FROM (SELECT id FROM hc ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 1500) s;
SET hnsw.iterative_scan = strict_order;
SELECT count(*) = 1500 AS all_rows, count(*) FILTER (WHERE NOT ordered) <= 1 AS one_step_back_at_most
  FROM (SELECT d >= lag(d, 1, 0) OVER (ORDER BY n) AS ordered
          FROM (SELECT v <-> '[1,2,3,4,5,6,7,8]' AS d, row_number() OVER () AS n
                  FROM (SELECT v FROM hc ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 1500) s) t) u;
SET hnsw.iterative_scan = relaxed_order;
-- the distance the scan orders by is the exact one
SELECT bool_and(abs(d - (v <-> '[10,20,30,40,50,60,70,80]')) = 0) AS exact
  FROM (SELECT v, v <-> '[10,20,30,40,50,60,70,80]' AS d FROM hc
        ORDER BY v <-> '[10,20,30,40,50,60,70,80]' LIMIT 20) s;

-- an insert retires the copy at once; the new row is found, first by a
-- page walk, then by a new copy
INSERT INTO hc VALUES (5000, '[7,7,7,7,7,7,7,7]');
SELECT current, builds FROM vecx_hnsw_cache_status();
SELECT id FROM hc ORDER BY v <-> '[7,7,7,7,7,7,7,7]' LIMIT 1;
SELECT count(*) FROM hcq q, LATERAL (SELECT id FROM hc ORDER BY v <-> q.v LIMIT 1) s;
SELECT current, nodes, builds FROM vecx_hnsw_cache_status();
SELECT id FROM hc ORDER BY v <-> '[7,7,7,7,7,7,7,7]' LIMIT 1;

-- delete and vacuum retire it too; the dead row is gone from the copy
DELETE FROM hc WHERE id = 5000;
VACUUM hc;
SELECT current FROM vecx_hnsw_cache_status();
SELECT id = 5000 AS dead_row FROM hc ORDER BY v <-> '[7,7,7,7,7,7,7,7]' LIMIT 1;
SELECT count(*) FROM hcq q, LATERAL (SELECT id FROM hc ORDER BY v <-> q.v LIMIT 1) s;
SELECT current, builds FROM vecx_hnsw_cache_status();
SELECT id = 5000 AS dead_row FROM hc ORDER BY v <-> '[7,7,7,7,7,7,7,7]' LIMIT 1;

-- in a transaction: the copy never shows rows the snapshot cannot see,
-- and the transaction's own insert is found
BEGIN;
INSERT INTO hc VALUES (5001, '[8,8,8,8,8,8,8,8]');
SELECT id FROM hc ORDER BY v <-> '[8,8,8,8,8,8,8,8]' LIMIT 1;
SELECT id FROM hc ORDER BY v <-> '[8,8,8,8,8,8,8,8]' LIMIT 1;
ROLLBACK;
SELECT id = 5001 AS rolled_back_row FROM hc ORDER BY v <-> '[8,8,8,8,8,8,8,8]' LIMIT 1;

-- REINDEX gives the index new storage: the copy starts over
REINDEX INDEX hc_l2;
SELECT current, builds FROM vecx_hnsw_cache_status();
SELECT count(*) FROM hcq q, LATERAL (SELECT id FROM hc ORDER BY v <-> q.v LIMIT 1) s;
SELECT current, builds FROM vecx_hnsw_cache_status();

-- a budget too small for the graph: scans walk the pages, and work
SET hnsw.cache_size = '64kB';
DROP INDEX hc_l2;
CREATE INDEX hc_l2 ON hc USING hnsw (v vector_l2_ops);
SELECT count(*) FROM hcq q, LATERAL (SELECT id FROM hc ORDER BY v <-> q.v LIMIT 1) s;
SELECT id FROM hc ORDER BY v <-> (SELECT v FROM hc WHERE id = 77) LIMIT 1;
-- the dropped index's entry is gone; the new one has no copy
SELECT count(*) AS entries, bool_or(current) AS any_current, sum(builds) AS builds
  FROM vecx_hnsw_cache_status();
SET hnsw.cache_size = '64MB';

-- other opclasses: sq8 nodes (bounds re-ranked by the executor), halfvec
-- cosine (codes of unit vectors), inner product and l1
CREATE INDEX hc_sq8 ON hc USING hnsw (v vector_l2_ops) WITH (quantization = sq8);
DROP INDEX hc_l2;
SELECT count(*) FROM hcq q, LATERAL (SELECT id FROM hc ORDER BY v <-> q.v LIMIT 1) s;
CREATE TEMP TABLE hc_got_sq8 AS
  SELECT q.qid, ARRAY(SELECT h.id FROM hc h ORDER BY h.v <-> q.v LIMIT 10) AS ids
  FROM hcq q;
SELECT current, builds, hits >= 50 AS copy_served_them FROM vecx_hnsw_cache_status()
  WHERE index = 'hc_sq8'::regclass;
SELECT sum(cardinality(ARRAY(SELECT unnest(g.ids) INTERSECT SELECT unnest(e.ids)))) >= 490 AS recall_ok
  FROM hc_got_sq8 g JOIN hc_exact e USING (qid);
SET hnsw.iterative_scan = strict_order;
SELECT count(*) = 1500 AS all_rows, count(*) FILTER (WHERE NOT ordered) <= 1 AS one_step_back_at_most
  FROM (SELECT d >= lag(d, 1, 0) OVER (ORDER BY n) AS ordered
          FROM (SELECT v <-> '[1,2,3,4,5,6,7,8]' AS d, row_number() OVER () AS n
                  FROM (SELECT v FROM hc ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 1500) s) t) u;
SET hnsw.iterative_scan = relaxed_order;
DROP INDEX hc_sq8;

CREATE TABLE hch (id int, h halfvec(8));
INSERT INTO hch SELECT id, v::halfvec FROM hc;
CREATE INDEX ON hch USING hnsw (h halfvec_cosine_ops);
CREATE INDEX hc_ip ON hc USING hnsw (v vector_ip_ops);
CREATE INDEX hc_l1 ON hc USING hnsw (v vector_l1_ops);
-- warm the copies, then compare with exact answers
SELECT count(*) FROM hcq q, LATERAL (SELECT id FROM hch ORDER BY h <=> q.v::halfvec LIMIT 1) s;
SELECT count(*) FROM hcq q, LATERAL (SELECT id FROM hc ORDER BY v <#> q.v LIMIT 1) s;
SELECT count(*) FROM hcq q, LATERAL (SELECT id FROM hc ORDER BY v <+> q.v LIMIT 1) s;
CREATE TEMP TABLE hc_other AS
  SELECT q.qid,
         ARRAY(SELECT id FROM hch ORDER BY h <=> q.v::halfvec LIMIT 10) AS cos_got,
         ARRAY(SELECT id FROM hc ORDER BY v <#> q.v LIMIT 10) AS ip_got,
         ARRAY(SELECT id FROM hc ORDER BY v <+> q.v LIMIT 10) AS l1_got
  FROM hcq q;
SET enable_indexscan = off;
CREATE TEMP TABLE hc_other_exact AS
  SELECT q.qid,
         ARRAY(SELECT id FROM hch ORDER BY h <=> q.v::halfvec, id LIMIT 10) AS cos_ids,
         ARRAY(SELECT id FROM hc ORDER BY v <#> q.v, id LIMIT 10) AS ip_ids,
         ARRAY(SELECT id FROM hc ORDER BY v <+> q.v, id LIMIT 10) AS l1_ids
  FROM hcq q;
RESET enable_indexscan;
SELECT index::text, current, builds FROM vecx_hnsw_cache_status() ORDER BY 1;
SELECT sum(cardinality(ARRAY(SELECT unnest(g.cos_got) INTERSECT SELECT unnest(e.cos_ids)))) >= 480 AS cos_ok,
       sum(cardinality(ARRAY(SELECT unnest(g.ip_got) INTERSECT SELECT unnest(e.ip_ids)))) >= 480 AS ip_ok,
       sum(cardinality(ARRAY(SELECT unnest(g.l1_got) INTERSECT SELECT unnest(e.l1_ids)))) >= 480 AS l1_ok
  FROM hc_other g JOIN hc_other_exact e USING (qid);

-- copies replaced within one transaction are freed as soon as no scan
-- holds them: repeated insert-then-search does not pile them up
CREATE TEMP TABLE hc_ctx AS
  SELECT count(*) AS n FROM pg_backend_memory_contexts WHERE name = 'hnsw graph copy';
BEGIN;
DO $$
BEGIN
  FOR i IN 1..4 LOOP
    INSERT INTO hc VALUES (6000 + i, '[1,1,1,1,1,1,1,1]');
    PERFORM count(*) FROM hcq q, LATERAL (SELECT id FROM hc ORDER BY v <#> q.v LIMIT 1) s;
  END LOOP;
END
$$;
SELECT builds >= 5 AS rebuilt FROM vecx_hnsw_cache_status() WHERE index = 'hc_ip'::regclass;
SELECT (SELECT count(*) FROM pg_backend_memory_contexts WHERE name = 'hnsw graph copy') = n
  AS no_copies_pile_up FROM hc_ctx;
ROLLBACK;

-- 128 dimensions and more: float32 and float16 copies are walked on
-- sq8 codes, then re-ranked with their vectors
CREATE TABLE hw (id int, v vector(160));
INSERT INTO hw SELECT i, ARRAY(SELECT (hashint4(i * 1000 + j) % 1000) / 10.0
                             FROM generate_series(1, 160) j)::real[]::vector
  FROM generate_series(1, 1000) i;
CREATE TABLE hwq (qid int, v vector(160));
INSERT INTO hwq SELECT i, ARRAY(SELECT (hashint4(-i * 1000 - j) % 1000) / 10.0
                              FROM generate_series(1, 160) j)::real[]::vector
  FROM generate_series(1, 30) i;
CREATE TABLE hwh (id int, h halfvec(160));
INSERT INTO hwh SELECT id, v::halfvec FROM hw;
CREATE TEMP TABLE hw_exact AS
  SELECT q.qid,
         ARRAY(SELECT id FROM hw ORDER BY v <-> q.v, id LIMIT 10) AS l2_ids,
         ARRAY(SELECT id FROM hwh ORDER BY h <=> q.v::halfvec, id LIMIT 10) AS cos_ids
  FROM hwq q;
CREATE INDEX hw_l2 ON hw USING hnsw (v vector_l2_ops);
CREATE INDEX hwh_cos ON hwh USING hnsw (h halfvec_cosine_ops);
SET hnsw.ef_search = 100;
SELECT count(*) FROM hwq q, LATERAL (SELECT id FROM hw ORDER BY v <-> q.v LIMIT 1) s;
SELECT count(*) FROM hwq q, LATERAL (SELECT id FROM hwh ORDER BY h <=> q.v::halfvec LIMIT 1) s;
CREATE TEMP TABLE hw_got AS
  SELECT q.qid,
         ARRAY(SELECT id FROM hw ORDER BY v <-> q.v LIMIT 10) AS l2_got,
         ARRAY(SELECT id FROM hwh ORDER BY h <=> q.v::halfvec LIMIT 10) AS cos_got
  FROM hwq q;
SELECT index::text, current, builds FROM vecx_hnsw_cache_status()
  WHERE index IN ('hw_l2'::regclass, 'hwh_cos'::regclass) ORDER BY 1;
SELECT sum(cardinality(ARRAY(SELECT unnest(g.l2_got) INTERSECT SELECT unnest(e.l2_ids)))) >= 285 AS l2_ok,
       sum(cardinality(ARRAY(SELECT unnest(g.cos_got) INTERSECT SELECT unnest(e.cos_ids)))) >= 285 AS cos_ok
  FROM hw_got g JOIN hw_exact e USING (qid);
-- re-ranked: the rows come in exact order, with exact distances
SELECT bool_and(d >= prev) AS in_order, count(*) AS rows
  FROM (SELECT d, lag(d, 1, 0) OVER (ORDER BY n) AS prev
          FROM (SELECT v <-> (SELECT v FROM hwq WHERE qid = 3) AS d, row_number() OVER () AS n
                  FROM (SELECT v FROM hw ORDER BY v <-> (SELECT v FROM hwq WHERE qid = 3) LIMIT 50) s) t) u;
RESET hnsw.ef_search;
DROP TABLE hw, hwq, hwh;

-- an index with filter columns walks its pages: no copy
CREATE TABLE hcf (id int, v vector(8), c int);
INSERT INTO hcf SELECT id, v, id % 10 FROM hc;
CREATE INDEX hcf_v ON hcf USING hnsw (v vector_l2_ops, c);
SELECT count(*) FROM hcq q, LATERAL (SELECT id FROM hcf WHERE c = 3 ORDER BY v <-> q.v LIMIT 3) s;
SELECT bool_and(id % 10 = 3) AS filtered, count(*)
  FROM (SELECT id FROM hcf WHERE c = 3 ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 10) s;
SELECT count(*) AS hcf_entries FROM vecx_hnsw_cache_status() WHERE index = 'hcf_v'::regclass;
DROP TABLE hcf;

-- the setting's bounds
SET hnsw.cache_size = -1;
SET hnsw.cache_size = '3TB';

DROP TABLE hc, hcq, hch;
SELECT count(*) FROM vecx_hnsw_cache_status();
RESET hnsw.cache_size;
RESET hnsw.iterative_scan;
RESET enable_seqscan;
