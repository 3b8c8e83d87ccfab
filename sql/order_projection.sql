-- An ordered vecx index scan already returns rows in distance order; the
-- executor need not compute the ORDER BY distance again for each row only
-- to drop it (src/am/common/vecxjunk.c).  EXPLAIN VERBOSE shows the skipped
-- column as NULL; wherever something reads it, it stays.
CREATE TABLE op (id int PRIMARY KEY, v vector(3));
INSERT INTO op SELECT i, ARRAY[i % 7, i % 11, i % 13]::vector FROM generate_series(1, 1000) i;
CREATE INDEX op_hnsw ON op USING hnsw (v vector_l2_ops);
ANALYZE op;
SET enable_seqscan = off;
SET hnsw.ef_search = 200;

-- the top of the plan: only the junk filter would read it
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM op ORDER BY v <-> '[1,2,3]' LIMIT 5;
-- a distance the query returns is computed
EXPLAIN (VERBOSE, COSTS OFF) SELECT id, v <-> '[1,2,3]' AS d FROM op ORDER BY v <-> '[1,2,3]' LIMIT 5;
-- a LIMIT subquery under an aggregate, under a join (LATERAL)
EXPLAIN (VERBOSE, COSTS OFF)
  SELECT string_agg(id::text, ',') FROM (SELECT id FROM op ORDER BY v <-> '[1,2,3]' LIMIT 5) s;
CREATE TABLE opq (qid int, qv vector(3));
INSERT INTO opq VALUES (1, '[1,2,3]'), (2, '[0,0,0]');
EXPLAIN (VERBOSE, COSTS OFF)
  SELECT qid, x.id FROM opq CROSS JOIN LATERAL (SELECT id FROM op ORDER BY v <-> opq.qv LIMIT 3) x;
-- read by the parent: a subquery filter on the distance, a returned one
EXPLAIN (VERBOSE, COSTS OFF)
  SELECT * FROM (SELECT id, v <-> '[1,2,3]' AS d FROM op ORDER BY v <-> '[1,2,3]' LIMIT 5) s WHERE d < 2;
EXPLAIN (VERBOSE, COSTS OFF)
  SELECT qid, x.id, x.d FROM opq CROSS JOIN LATERAL (SELECT id, v <-> opq.qv AS d FROM op ORDER BY v <-> opq.qv LIMIT 3) x;
-- row locks, scrollable cursors: left as planned
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM op ORDER BY v <-> '[1,2,3]' LIMIT 5 FOR UPDATE;
EXPLAIN (VERBOSE, COSTS OFF) DECLARE c SCROLL CURSOR FOR SELECT id FROM op ORDER BY v <-> '[1,2,3]' LIMIT 5;
-- partitions: the Merge Append reads every child's distance
CREATE TABLE opp (id int, v vector(3)) PARTITION BY RANGE (id);
CREATE TABLE opp1 PARTITION OF opp FOR VALUES FROM (0) TO (500);
CREATE TABLE opp2 PARTITION OF opp FOR VALUES FROM (500) TO (1001);
INSERT INTO opp SELECT * FROM op;
CREATE INDEX ON opp USING hnsw (v vector_l2_ops);
ANALYZE opp;
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM opp ORDER BY v <-> '[1,2,3]' LIMIT 5;
SELECT array_agg(d) AS partitioned FROM
  (SELECT v <-> '[1,2,3]' AS d FROM opp ORDER BY v <-> '[1,2,3]' LIMIT 5) s;
DROP TABLE opp;
-- ordered by a btree: not ours, left alone
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM op ORDER BY id LIMIT 5;

-- the same answers either way (distances have ties: compare sets per
-- distance rank through the returned distances)
CREATE TABLE op_on AS
  SELECT n, id FROM (SELECT row_number() OVER () AS n, id FROM
    (SELECT id FROM op ORDER BY v <-> '[3,1,4]' LIMIT 50) s) t;
SET vecx.skip_order_projection = off;
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM op ORDER BY v <-> '[3,1,4]' LIMIT 50;
CREATE TABLE op_off AS
  SELECT n, id FROM (SELECT row_number() OVER () AS n, id FROM
    (SELECT id FROM op ORDER BY v <-> '[3,1,4]' LIMIT 50) s) t;
RESET vecx.skip_order_projection;
-- each rank's distance is the same, and the ranks are in order
SELECT count(*) AS ranks, bool_and(a.v <-> '[3,1,4]' = b.v <-> '[3,1,4]') AS same_distances
  FROM op_on x JOIN op_off y USING (n) JOIN op a ON a.id = x.id JOIN op b ON b.id = y.id;
SELECT bool_and(d >= lag_d) AS ordered FROM
  (SELECT o.v <-> '[3,1,4]' AS d, lag(o.v <-> '[3,1,4]') OVER (ORDER BY n) AS lag_d
     FROM op_on JOIN op o USING (id)) s WHERE lag_d IS NOT NULL;
-- the exact answer, from a sequential scan
RESET enable_seqscan;
SET enable_indexscan = off;
SELECT (SELECT array_agg(v <-> '[3,1,4]' ORDER BY n) FROM op_on JOIN op USING (id)) =
       (SELECT array_agg(d) FROM (SELECT v <-> '[3,1,4]' AS d FROM op ORDER BY 1 LIMIT 50) s) AS exact;
RESET enable_indexscan;

-- ivfpq (re-checked distances) and ivfflat
DROP INDEX op_hnsw;
CREATE INDEX op_ivfpq ON op USING ivfpq (v vector_l2_ops) WITH (lists = 4);
SET enable_seqscan = off;
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM op ORDER BY v <-> '[1,2,3]' LIMIT 5;
SET ivfpq.probes = 4;
SELECT array_agg(v <-> '[1,2,3]') AS ivfpq_distances FROM (SELECT v FROM op ORDER BY v <-> '[1,2,3]' LIMIT 5) s;
DROP INDEX op_ivfpq;
CREATE INDEX op_ivfflat ON op USING ivfflat (v vector_l2_ops) WITH (lists = 4);
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM op ORDER BY v <=> '[1,2,3]' LIMIT 5;
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM op ORDER BY v <-> '[1,2,3]' LIMIT 5;
DROP TABLE op, opq, op_on, op_off;
