-- A parallel hnsw build sizes its shared graph from the table's row
-- estimate (1.25 x the estimate plus 1,024 nodes).  A table never
-- analyzed can hold more rows than that: the build must not fail, but
-- finish serially and index every row.
SET max_parallel_maintenance_workers = 2;
SET min_parallel_table_scan_size = 0;
CREATE TABLE hpe (v halfvec(2));
INSERT INTO hpe SELECT ARRAY[i % 211, i / 211]::halfvec(2) FROM generate_series(1, 40000) i;
-- the estimate a plan of the table gets is the build's (estimate_rel_size)
CREATE FUNCTION hpe_estimate() RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
	j json;
BEGIN
	EXECUTE 'EXPLAIN (FORMAT JSON) SELECT * FROM hpe' INTO j;
	RETURN (j -> 0 -> 'Plan' ->> 'Plan Rows')::float8;
END $$;
SELECT reltuples < 0 AS never_analyzed, hpe_estimate() * 1.25 + 1024 < 40000 AS graph_too_small
FROM pg_class WHERE relname = 'hpe';
CREATE INDEX hpe_v ON hpe USING hnsw (v halfvec_l2_ops);
SELECT vecx_index_check('hpe_v', true);
-- every row through the index: an iterative scan returns all of them
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT 1 FROM hpe ORDER BY v <-> '[100.3,100.2]' LIMIT 50000) s;
-- and the nearest rows are right (no ties)
SELECT v FROM hpe ORDER BY v <-> '[100.3,100.2]' LIMIT 4;
RESET enable_seqscan;
RESET max_parallel_maintenance_workers;
RESET min_parallel_table_scan_size;
DROP TABLE hpe;
DROP FUNCTION hpe_estimate();
