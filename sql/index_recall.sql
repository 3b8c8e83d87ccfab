-- index_recall: vecx_index_recall(), recall@k and latency of an index
-- against an exact scan, for hnsw and ivfpq indexes, with filters, partial
-- and expression indexes, caller-supplied queries, and its refusals.
-- Timings vary from run to run: only their sanity is shown.

CREATE TABLE recall_items (id int PRIMARY KEY, v vector(3), cat int, note text);
INSERT INTO recall_items
SELECT i, ARRAY[(i * 7) % 101, (i * 13) % 97, (i * 3) % 89]::vector, i % 4, 'row ' || i
FROM generate_series(1, 2000) i;
CREATE INDEX recall_hnsw ON recall_items USING hnsw (v vector_l2_ops);
CREATE INDEX recall_ivfpq ON recall_items USING ivfpq (v vector_l2_ops) WITH (lists = 8);
CREATE INDEX recall_btree ON recall_items (id, v);

-- A hand-computed case: four points on a line, the query at 0.  Its two
-- nearest are 1 and 2 (distances 1 and 2): an index that answers exactly
-- has recall 1; rows tied with the k-th distance count as found whichever
-- of them the exact scan returned (3 and -3 tie at k = 3).
CREATE TABLE recall_line (id int, v vector(1));
INSERT INTO recall_line VALUES (1, '[1]'), (2, '[2]'), (3, '[3]'), (4, '[-3]'), (5, '[10]');
CREATE INDEX recall_line_hnsw ON recall_line USING hnsw (v vector_l2_ops);
SELECT n_queries, recall, recall_min FROM vecx_index_recall('recall_line_hnsw', $$SELECT '[0]'::vector$$, 2);
SELECT n_queries, recall, recall_min FROM vecx_index_recall('recall_line_hnsw', $$SELECT '[0]'::vector$$, 3);
-- rows of an inheritance child are not in the parent's index, and not in
-- the exact answer either (FROM ONLY)
CREATE TABLE recall_child () INHERITS (recall_line);
INSERT INTO recall_child VALUES (9, '[0.5]');
SELECT n_queries, recall FROM vecx_index_recall('recall_line_hnsw', $$SELECT '[0]'::vector$$, 2);
DROP TABLE recall_child;
-- zero vectors have no cosine distance: in neither answer
CREATE TABLE recall_cos (v vector(2));
INSERT INTO recall_cos VALUES ('[1,0]'), ('[0,1]'), ('[1,1]'), ('[0,0]');
CREATE INDEX recall_cos_hnsw ON recall_cos USING hnsw (v vector_cosine_ops);
SELECT n_queries, recall FROM vecx_index_recall('recall_cos_hnsw', $$SELECT '[1,0.1]'::vector$$, 5);
DROP TABLE recall_cos;
-- the sample of the table's own rows: 5 rows, each its own nearest
SELECT n_queries, recall FROM vecx_index_recall('recall_line_hnsw', k => 1);
SELECT n_queries FROM vecx_index_recall('recall_line_hnsw', k => 1, sample => 2);

-- At a high ef_search the hnsw graph of 2,000 rows answers exactly.
SET hnsw.ef_search = 400;
SELECT n_queries, recall, recall_min,
	index_mean_ms > 0 AND exact_mean_ms > 0 AS timed,
	index_p99_ms > 0 AND exact_p99_ms > 0 AS p99
FROM vecx_index_recall('recall_hnsw');
SELECT n_queries, recall FROM vecx_index_recall('recall_hnsw', k => 50, sample => 20);
-- ivfpq probing every list (rescoring with the exact distance) too
SET ivfpq.probes = 8;
SELECT n_queries, recall, recall_min FROM vecx_index_recall('recall_ivfpq', k => 5);
-- one list of eight finds less; the function says so
SET ivfpq.probes = 1;
SELECT n_queries, recall < 1 AS misses, recall_min < 1 AS some_query_misses
FROM vecx_index_recall('recall_ivfpq', k => 20);
RESET ivfpq.probes;

-- a filter, applied to both runs: every answer row matches it, and the
-- exact answer is of the matching rows only
SELECT n_queries, recall FROM vecx_index_recall('recall_hnsw', filter => 'cat = 1');
SELECT n_queries, recall FROM vecx_index_recall('recall_hnsw', filter => $$note LIKE 'row 1%' AND cat <> 3$$);
-- a filter no row passes: no recall to speak of, times still measured
SELECT n_queries, recall, recall_min, index_mean_ms >= 0 AS timed
FROM vecx_index_recall('recall_hnsw', filter => 'cat = 99');

-- caller-supplied queries: any SELECT of one column castable to the
-- index's type; NULL queries are skipped
SELECT n_queries, recall FROM vecx_index_recall('recall_hnsw',
	$$SELECT '[1,2,3]'::vector UNION ALL SELECT NULL UNION ALL SELECT '[50,50,50]'$$);
SELECT n_queries, recall FROM vecx_index_recall('recall_hnsw',
	$$SELECT unnest('{"[0,0,0]","[100,90,80]"}'::vector[])$$);
SELECT n_queries, recall FROM vecx_index_recall('recall_hnsw', queries => $$SELECT '{1,2,3}'::real[]$$);
SELECT n_queries, recall FROM vecx_index_recall('recall_hnsw', queries => 'SELECT v FROM recall_items WHERE false');

-- a multicolumn hnsw index with a filter column, a partial index and an
-- expression index
CREATE INDEX recall_hnsw_cat ON recall_items USING hnsw (v vector_l2_ops, cat);
SELECT n_queries, recall FROM vecx_index_recall('recall_hnsw_cat', filter => 'cat = 2', sample => 30);
DROP INDEX recall_hnsw_cat;
CREATE INDEX recall_hnsw_part ON recall_items USING hnsw (v vector_cosine_ops) WHERE cat = 0;
SELECT n_queries, recall > 0.9 AS high FROM vecx_index_recall('recall_hnsw_part', sample => 30);
CREATE INDEX recall_hnsw_half ON recall_items USING hnsw ((v::halfvec(3)) halfvec_ip_ops);
SELECT n_queries, recall > 0.9 AS high FROM vecx_index_recall('recall_hnsw_half', sample => 30);
DROP INDEX recall_hnsw_part, recall_hnsw_half;

-- sparsevec and bit indexes
CREATE TABLE recall_types (id int, s sparsevec(4), b bit(8));
INSERT INTO recall_types
SELECT i, ARRAY[i % 5, i % 7, 0, i % 3]::vector::sparsevec, (i % 256)::bit(8)
FROM generate_series(1, 300) i;
CREATE INDEX recall_sparse ON recall_types USING hnsw (s sparsevec_l2_ops);
CREATE INDEX recall_bits ON recall_types USING hnsw (b bit_hamming_ops);
SELECT n_queries, recall FROM vecx_index_recall('recall_sparse', sample => 20);
SELECT n_queries, recall FROM vecx_index_recall('recall_bits', sample => 20);
-- bit queries given as text become bit of any length, not bit(1)
SELECT n_queries, recall FROM vecx_index_recall('recall_bits', $$SELECT '10101010' UNION ALL SELECT '00000001'$$);
SELECT * FROM vecx_index_recall('recall_bits', $$SELECT '101'$$);

-- the session's settings are its own again afterwards, and the measured
-- table's other indexes are usable again
SHOW enable_seqscan;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM recall_items WHERE id = 5;
RESET enable_seqscan;

-- refusals
SELECT * FROM vecx_index_recall('recall_btree');
SELECT * FROM vecx_index_recall('recall_items');
SELECT * FROM vecx_index_recall('recall_hnsw', k => 0);
SELECT * FROM vecx_index_recall('recall_hnsw', k => 10001);
SELECT * FROM vecx_index_recall('recall_hnsw', sample => 0);
SELECT * FROM vecx_index_recall('recall_hnsw', queries => 'SELECT 1, 2');
SELECT * FROM vecx_index_recall('recall_hnsw', queries => 'SELECT 1; SELECT 2');
SELECT * FROM vecx_index_recall('recall_hnsw', queries => 'DELETE FROM recall_items RETURNING v');
SELECT * FROM vecx_index_recall('recall_hnsw', queries => $$SELECT 'not a vector'::text$$);
SELECT * FROM vecx_index_recall('recall_hnsw', filter => 'no_such_column = 1');
-- (the filter is pasted in parentheses on lines of its own: a stray
-- parenthesis or a trailing comment cannot change the rest)
SELECT n_queries, recall FROM vecx_index_recall('recall_hnsw', filter => 'true) AND (true');
SELECT n_queries, recall FROM vecx_index_recall('recall_hnsw', filter => 'cat = 1 -- a comment');
SELECT * FROM vecx_index_recall('recall_hnsw', filter => 'id IN (SELECT 1 FROM recall_items LIMIT 1); DELETE FROM recall_items');
SELECT count(*) FROM recall_items;
-- NULL arguments: STRICT, a null result
SELECT * FROM vecx_index_recall('recall_hnsw', NULL);
-- a hash index: not one of ours
CREATE INDEX recall_hash ON recall_items USING hash (id);
SELECT * FROM vecx_index_recall('recall_hash');
-- an invalid index
CREATE INDEX recall_bad ON recall_items USING hnsw (v vector_l2_ops);
UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'recall_bad'::regclass;
SELECT * FROM vecx_index_recall('recall_bad');
DROP INDEX recall_bad, recall_hash;

-- it runs as the caller: without SELECT on the table, no answer
CREATE ROLE regress_recall_user;
SET ROLE regress_recall_user;
SELECT * FROM vecx_index_recall('recall_hnsw');
RESET ROLE;
GRANT SELECT ON recall_items TO regress_recall_user;
SET ROLE regress_recall_user;
SELECT n_queries, recall FROM vecx_index_recall('recall_hnsw', sample => 10);
RESET ROLE;
REVOKE SELECT ON recall_items FROM regress_recall_user;
DROP ROLE regress_recall_user;

-- inside a transaction that fails after it, and in a plpgsql exception
-- block: nothing is left behind
BEGIN;
SELECT n_queries FROM vecx_index_recall('recall_hnsw', sample => 5);
SELECT * FROM vecx_index_recall('recall_hnsw', k => -1);
ROLLBACK;
DO $$
BEGIN
	PERFORM vecx_index_recall('recall_hnsw', filter => 'nope');
EXCEPTION WHEN undefined_column THEN
	RAISE NOTICE 'caught: %', SQLERRM;
END
$$;
SHOW enable_seqscan;
SHOW enable_bitmapscan;

RESET hnsw.ef_search;
DROP TABLE recall_items, recall_line, recall_types;
