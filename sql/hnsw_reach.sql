-- hnsw_reach: CREATE INDEX leaves no node that no walk can reach.  A node
-- whose every in-link was pruned as its neighbours' lists overflowed is
-- linked from the closest reached node before the graph is written
-- (hnswbuild.c, BuildRestoreReachability).  A tiny m and ef_construction
-- make such nodes common: without the repair a quarter of these rows are
-- never found, even searching for their own vector with ef_search larger
-- than the table (70-77% found over eight builds, 92-96% with it; the rest
-- are reached from the entry point but not from where the walk starts).

CREATE TABLE hr (i int, v vector(16));
INSERT INTO hr SELECT i, (SELECT array_agg(sin(i * 12.9898 + j * 78.233) * 43758.5453
    - floor(sin(i * 12.9898 + j * 78.233) * 43758.5453)) FROM generate_series(1, 16) j)::vector
  FROM generate_series(1, 1000) i;
CREATE INDEX hr_v ON hr USING hnsw (v vector_l2_ops) WITH (m = 2, ef_construction = 4);
SELECT vecx_index_check('hr_v', true);

SET enable_seqscan = off;
SET hnsw.ef_search = 1000;
SELECT count(*) FILTER (WHERE (SELECT i FROM hr ORDER BY v <-> q.v LIMIT 1) = q.i) >= 870 AS most_rows_find_themselves
  FROM hr q;
RESET hnsw.ef_search;
RESET enable_seqscan;
DROP TABLE hr;
