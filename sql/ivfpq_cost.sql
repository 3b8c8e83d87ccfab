-- ivfpq_cost: ivfpq and ivfflat estimates charge the misses expected at
-- the current probes setting (the recall calibration the build stores in
-- the metapage, README "Cost model"), so that beside an index answering
-- right a low-recall setting is not the cheapest plan; at a high setting,
-- or with no other index, the ivf index is still used.
SET client_min_messages = warning;

-- 20,000 random 8-dimensional rows: 100 lists at probes = 1 find about
-- half of the 10 nearest neighbours
SELECT setseed(0.42);
CREATE TABLE ic (id int, v vector(8), label int);
INSERT INTO ic SELECT i, ARRAY(SELECT random() FROM generate_series(1, 8) WHERE i > 0)::vector(8), i % 10
	FROM generate_series(1, 20000) i;
ANALYZE ic;
CREATE INDEX ic_ivf ON ic USING ivfpq (v vector_l2_ops, label) WITH (lists = 100);
CREATE INDEX ic_hnsw ON ic USING hnsw (v vector_l2_ops, label);
-- the calibration is checked with the rest of the metapage
SELECT vecx_index_check('ic_ivf');

-- probes = 1: hnsw (without the charge ivfpq looked 4x cheaper)
EXPLAIN (COSTS OFF) SELECT id FROM ic ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 10;
-- probes = 10 answers well: ivfpq is cheaper again
SET ivfpq.probes = 10;
EXPLAIN (COSTS OFF) SELECT id FROM ic ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 10;
RESET ivfpq.probes;

-- the charge falls as probes rise and vanishes at every list
CREATE FUNCTION ic_cost(am text, probes int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
	j json;
BEGIN
	PERFORM set_config(am || '.probes', probes::text, true);
	EXECUTE 'EXPLAIN (FORMAT JSON) SELECT id FROM ic ORDER BY v <-> ''[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]'' LIMIT 10'
		INTO j;
	RETURN (j->0->'Plan'->>'Total Cost')::float8;
END $$;

-- only the ivfpq index: it is still used at probes = 1 (cheaper than the
-- exact plan even with its misses charged)
DROP INDEX ic_hnsw;
EXPLAIN (COSTS OFF) SELECT id FROM ic ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 10;
SELECT ic_cost('ivfpq', 1) > 3 * ic_cost('ivfpq', 10) AS misses_charged,
	ic_cost('ivfpq', 10) < ic_cost('ivfpq', 100) AS full_scan_dearer;
BEGIN;
SET LOCAL enable_indexscan = off;
SELECT ic_cost('ivfpq', 1) AS exact_plan \gset
COMMIT;
SELECT ic_cost('ivfpq', 1) < :exact_plan AS index_beats_exact;
-- an exact-order scan is not charged
SET ivfpq.iterative_scan = strict_order;
SET ivfpq.exact_order = on;
SELECT ic_cost('ivfpq', 1) < ic_cost('ivfpq', 2) AS exact_order_uncharged;
RESET ivfpq.iterative_scan;
RESET ivfpq.exact_order;

-- ivfflat shares the calibration and the charge
DROP INDEX ic_ivf;
CREATE INDEX ic_flat ON ic USING ivfflat (v vector_l2_ops) WITH (lists = 100);
CREATE INDEX ic_hnsw ON ic USING hnsw (v vector_l2_ops);
SELECT vecx_index_check('ic_flat');
EXPLAIN (COSTS OFF) SELECT id FROM ic ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 10;
SET ivfflat.probes = 10;
EXPLAIN (COSTS OFF) SELECT id FROM ic ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 10;
RESET ivfflat.probes;
DROP INDEX ic_hnsw;
SELECT ic_cost('ivfflat', 1) > 3 * ic_cost('ivfflat', 10) AS misses_charged;

-- one list: nothing to calibrate, nothing charged
DROP INDEX ic_flat;
CREATE INDEX ic_one ON ic USING ivfpq (v vector_l2_ops) WITH (lists = 1);
SELECT vecx_index_check('ic_one');
EXPLAIN (COSTS OFF) SELECT id FROM ic ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 10;

DROP TABLE ic;
DROP FUNCTION ic_cost(text, int);
