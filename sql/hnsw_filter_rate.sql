-- hnsw_filter_rate: a filtered walk where few nodes near the query match
-- (hnswscan.c, SettleFilteredWalk).  Clustered vectors; a label drawn
-- independently of them (10% each) and one shared by each cluster's rows
-- (correlated with the vectors, 10% too).

SELECT setseed(0.25);
CREATE TABLE fr (id int, ind int, cor int, v vector(8));
CREATE TEMP TABLE fr_c AS
  SELECT c, array_agg(random() * 4 - 2) AS ctr
  FROM generate_series(0, 199) c, generate_series(1, 8) d GROUP BY c;
INSERT INTO fr
  SELECT i, (random() * 10)::int % 10, c % 10,
    (SELECT array_agg(x + (random() - 0.5) * 0.6) FROM unnest(ctr) x)::vector
  FROM generate_series(1, 20000) i JOIN fr_c ON c = i % 200;
CREATE INDEX fr_v ON fr USING hnsw (v vector_l2_ops, ind, cor);
ANALYZE fr;

CREATE FUNCTION fr_explain(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE l text;
BEGIN
  FOR l IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
    RETURN NEXT regexp_replace(l, '(=|: )[0-9]+', '\1N', 'g');
  END LOOP;
END $$;

-- queries: 20 points near the cluster centres
CREATE TEMP TABLE fr_q AS
  SELECT c AS qid, (SELECT array_agg(x + 0.1) FROM unnest(ctr) x)::vector(8) AS qv
  FROM fr_c WHERE c < 20;

-- the exact answers (sequential scan)
SET enable_indexscan = off;
CREATE TEMP TABLE fr_ex AS
  SELECT qid,
    ARRAY(SELECT id FROM fr WHERE ind = 3 ORDER BY v <-> qv, id LIMIT 10) AS ind_ids,
    ARRAY(SELECT id FROM fr WHERE cor = qid % 10 ORDER BY v <-> qv, id LIMIT 10) AS cor_ids
  FROM fr_q;
RESET enable_indexscan;
SET enable_seqscan = off;
SET enable_bitmapscan = off;

-- independent 10%: the first walk sees one node in ten match; it stops
-- after its probe and the filter map's exact pass (2,000 nodes) costs
-- less than the walk would still take
SELECT * FROM fr_explain($$SELECT id FROM fr WHERE ind = 3 ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 10$$);
-- ... so every answer is exact
SELECT count(*) AS queries, sum((x.ids = e.ind_ids)::int) AS exact
  FROM fr_ex e,
  LATERAL (SELECT ARRAY(SELECT id FROM fr WHERE ind = 3 ORDER BY v <-> e_q.qv LIMIT 10) AS ids
           FROM fr_q e_q WHERE e_q.qid = e.qid) x;

-- correlated 10%: most nodes near the query match; the walk alone
SELECT * FROM fr_explain($$SELECT id FROM fr WHERE cor = 5 ORDER BY v <-> (SELECT qv FROM fr_q WHERE qid = 5) LIMIT 10$$);
SELECT count(*) AS queries,
  avg((SELECT count(*) FROM unnest(x.ids) i WHERE i = ANY (e.cor_ids)) / 10.0) >= 0.95 AS recall_ok
  FROM fr_ex e,
  LATERAL (SELECT ARRAY(SELECT id FROM fr WHERE cor = e_q.qid % 10 ORDER BY v <-> e_q.qv LIMIT 10) AS ids
           FROM fr_q e_q WHERE e_q.qid = e.qid) x;

-- hnsw.iterative_scan = off returns the walk's one batch: no probe, no
-- widening, no switch
SET hnsw.iterative_scan = off;
SELECT * FROM fr_explain($$SELECT id FROM fr WHERE ind = 3 ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 10$$);
RESET hnsw.iterative_scan;

-- hnsw.exact_fallback = off: no map pass; the walk, widened
SET hnsw.exact_fallback = off;
SELECT * FROM fr_explain($$SELECT id FROM fr WHERE ind = 3 ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 10$$);
SELECT count(*) AS queries,
  avg((SELECT count(*) FROM unnest(x.ids) i WHERE i = ANY (e.ind_ids)) / 10.0) >= 0.9 AS recall_ok
  FROM fr_ex e,
  LATERAL (SELECT ARRAY(SELECT id FROM fr WHERE ind = 3 ORDER BY v <-> e_q.qv LIMIT 10) AS ids
           FROM fr_q e_q WHERE e_q.qid = e.qid) x;
RESET hnsw.exact_fallback;

DROP TABLE fr;
