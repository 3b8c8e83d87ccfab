-- vecx_stat_indexes: per-index scan counters, moved by known amounts by
-- known queries, and reset.  The regression server does not preload vecx,
-- so the counters are this session's (vecx_stat_shared() is false); the
-- shared table is checked by test/tap/411_stat_shared.pl.
SET enable_seqscan = off;

CREATE TABLE st (id int PRIMARY KEY, v vector(4));
INSERT INTO st SELECT i, ARRAY[sin(i), cos(i * 1.3), sin(i * 0.7) * 2, cos(i * 0.11)]::real[]::vector
	FROM generate_series(1, 300) i;
CREATE INDEX st_hnsw ON st USING hnsw (v vector_l2_ops);
CREATE INDEX st_flat ON st USING ivfflat (v vector_cosine_ops) WITH (lists = 4);
CREATE INDEX st_pq ON st USING ivfpq (v vector_ip_ops) WITH (lists = 4);

SELECT vecx_stat_shared();

-- every vecx index is listed, with zeros before any scan
SELECT indexrelname, relname, schemaname = current_schema() AS in_schema, access_method,
	scans, tuples_returned, visited, exact_passes, cache_hits
	FROM vecx_stat_indexes WHERE relid = 'st'::regclass ORDER BY indexrelname;

-- hnsw: one scan of LIMIT 5 returns 5 rows and visits some nodes
SELECT count(*) FROM (SELECT id FROM st ORDER BY v <-> '[0.5,0.5,0.5,0.5]' LIMIT 5) s;
SELECT scans, tuples_returned, visited BETWEEN 5 AND 300 AS visited_some, exact_passes, cache_hits
	FROM vecx_stat_indexes WHERE indexrelid = 'st_hnsw'::regclass;

-- three more scans; then one reading every row: the walk runs out of
-- nodes, so the scan takes the exact pass for the rest
SET hnsw.ef_search = 10;
SELECT count(*) FROM generate_series(1, 3) g,
	LATERAL (SELECT id FROM st ORDER BY v <-> ARRAY[g, 0, 0, 0]::real[]::vector LIMIT 2) s;
SELECT count(*) FROM (SELECT id FROM st ORDER BY v <-> '[0.5,0.5,0.5,0.5]') s;
SELECT scans, tuples_returned, exact_passes, cache_hits
	FROM vecx_stat_indexes WHERE indexrelid = 'st_hnsw'::regclass;
RESET hnsw.ef_search;

-- graph copies: once the scans have read enough pages a copy is taken,
-- and the scans that walk it are counted
SELECT vecx_stat_reset('st_hnsw');
SET hnsw.cache_size = '16MB';
SELECT count(*) FROM generate_series(1, 40) g,
	LATERAL (SELECT id FROM st ORDER BY v <-> ARRAY[g, g % 3, 0, 1]::real[]::vector LIMIT 3) s;
SELECT scans, tuples_returned, cache_hits > 0 AS copy_hits, cache_hits < scans AS not_all,
	(SELECT hits FROM vecx_hnsw_cache_status() WHERE index = 'st_hnsw'::regclass) = cache_hits
		AS matches_cache_status
	FROM vecx_stat_indexes WHERE indexrelid = 'st_hnsw'::regclass;
RESET hnsw.cache_size;

-- ivfflat: distances are exact, so LIMIT 5 takes exactly 5 rows; one
-- probe by default, so one list visited per scan
SELECT count(*) FROM (SELECT id FROM st ORDER BY v <=> '[0.5,0.5,0.5,0.5]' LIMIT 5) s;
SET ivfflat.probes = 3;
SELECT count(*) FROM (SELECT id FROM st ORDER BY v <=> '[0.5,0.5,0.5,0.5]' LIMIT 5) s;
RESET ivfflat.probes;
SELECT scans, tuples_returned, visited, exact_passes, cache_hits
	FROM vecx_stat_indexes WHERE indexrelid = 'st_flat'::regclass;

-- ivfpq: the executor re-checks bounds, so it may take more rows than
-- LIMIT; ivfpq.probes = 4 of 4 lists visits all of them
SET ivfpq.probes = 4;
SELECT count(*) FROM (SELECT id FROM st ORDER BY v <#> '[0.5,0.5,0.5,0.5]' LIMIT 5) s;
RESET ivfpq.probes;
SELECT scans, tuples_returned >= 5 AS took_rows, visited, cache_hits
	FROM vecx_stat_indexes WHERE indexrelid = 'st_pq'::regclass;

-- resetting one index leaves the others
SELECT vecx_stat_reset('st_flat'::regclass);
SELECT indexrelname, scans > 0 AS scanned, tuples_returned > 0 AS returned
	FROM vecx_stat_indexes WHERE relid = 'st'::regclass ORDER BY indexrelname;
-- and resetting all zeroes every one
SELECT vecx_stat_reset();
SELECT indexrelname, scans, tuples_returned, visited, exact_passes, cache_hits
	FROM vecx_stat_indexes WHERE relid = 'st'::regclass ORDER BY indexrelname;

-- a dropped index's counters are not shown; reset is for superusers
DROP INDEX st_pq;
SELECT count(*) FROM vecx_stat_indexes WHERE relid = 'st'::regclass;
SELECT has_function_privilege('public', 'vecx_stat_reset()', 'execute') AS public_may_reset,
	has_function_privilege('public', 'vecx_stat_index_counters()', 'execute') AS public_may_read;

DROP TABLE st;
