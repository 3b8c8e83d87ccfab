-- hnsw with halfvec_cosine_ops orders rows like the <=> operator: with the
-- vectors on a circle, neighbours are closer together than float16 rounding
-- of unit vectors could separate, so an index that stored float16 unit
-- vectors ranked other rows ahead of a row searching for itself.
CREATE TABLE hc (id int PRIMARY KEY, h halfvec(16));
INSERT INTO hc SELECT i, ARRAY(SELECT sin(i * 0.7311 + j * 1.37) FROM generate_series(1, 16) j)::real[]::halfvec(16)
FROM generate_series(1, 3000) i;
CREATE INDEX hc_cos ON hc USING hnsw (h halfvec_cosine_ops) WITH (m = 8, ef_construction = 32);
SET enable_seqscan = off;
SET hnsw.ef_search = 100;
EXPLAIN (COSTS OFF) SELECT id FROM hc ORDER BY h <=> '[1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 1;
-- every row finds itself (distance 0) first
SELECT count(*) AS rows_not_first FROM hc s
WHERE (SELECT t.h <=> s.h FROM hc t ORDER BY t.h <=> s.h LIMIT 1) > 1e-6;
-- the top 10 come back in the operator's order for 100 queries
SELECT count(*) AS out_of_order FROM (
	SELECT q.id, d, lag(d) OVER (PARTITION BY q.id ORDER BY rn) AS prev
	FROM (SELECT id, h FROM hc WHERE id <= 100) q,
		LATERAL (SELECT t.h <=> q.h AS d, row_number() OVER () AS rn
				 FROM (SELECT h FROM hc ORDER BY h <=> q.h LIMIT 10) t) n
) s WHERE d < prev;
-- zero vectors are not indexed; a zero query ties every row (NaN) and returns them
INSERT INTO hc VALUES (0, '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]');
SELECT count(*) FROM (SELECT id FROM hc ORDER BY h <=> '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 5) s;
SELECT vecx_index_check('hc_cos', true);
RESET enable_seqscan;
RESET hnsw.ef_search;
DROP TABLE hc;
