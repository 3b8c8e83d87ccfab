-- hybrid_search: the recipe of docs/hybrid-search.md, full-text search
-- (tsvector) and vector search combined by reciprocal rank fusion, run
-- through the indexes and checked against the same fusion computed by
-- brute force over the whole table.

CREATE TABLE hs_docs (
	id int PRIMARY KEY,
	body text NOT NULL,
	embedding vector(3) NOT NULL,
	tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', body)) STORED
);
INSERT INTO hs_docs (id, body, embedding) VALUES
	(1, 'PostgreSQL vector search with an hnsw index', '[1, 0, 0]'),
	(2, 'Full text search ranks documents by their words', '[0, 1, 0]'),
	(3, 'An hnsw graph finds approximate nearest neighbours', '[0.9, 0.1, 0]'),
	(4, 'Cooking pasta: boil water, add salt', '[0, 0, 1]'),
	(5, 'Reciprocal rank fusion merges ranked lists', '[0.5, 0.5, 0]'),
	(6, 'Vector databases and text search engines', '[0.7, 0.3, 0.1]'),
	(7, 'Salt and water', '[0.1, 0, 0.9]'),
	(8, 'Nearest neighbour search in high dimensions', '[0.95, 0, 0.05]');
-- more rows so the indexes have something to skip (each at its own
-- distance, further from every query than the documents: no ties)
INSERT INTO hs_docs (id, body, embedding)
SELECT i, 'filler row number ' || i, ARRAY[-0.1 - i / 1000.0, 0.3, 1]::vector
FROM generate_series(100, 400) i;
CREATE INDEX hs_docs_tsv ON hs_docs USING gin (tsv);
CREATE INDEX hs_docs_embedding ON hs_docs USING hnsw (embedding vector_cosine_ops);
ANALYZE hs_docs;

-- The recipe: $1 the query embedding, $2 the query text, $3 how many rows.
-- Each branch takes its own top 40 through its index; the fused score of
-- a row is the sum over the branches that found it of 1 / (60 + rank).
PREPARE hybrid(vector, text, int) AS
WITH semantic AS (
	SELECT id, row_number() OVER (ORDER BY distance, id) AS rank
	FROM (SELECT id, embedding <=> $1 AS distance
		  FROM hs_docs
		  ORDER BY embedding <=> $1
		  LIMIT 40) s
),
keyword AS (
	SELECT id, row_number() OVER (ORDER BY score DESC, id) AS rank
	FROM (SELECT id, ts_rank_cd(tsv, query) AS score
		  FROM hs_docs, websearch_to_tsquery('english', $2) query
		  WHERE tsv @@ query
		  ORDER BY score DESC
		  LIMIT 40) k
)
SELECT coalesce(s.id, k.id) AS id,
	coalesce(1.0 / (60 + s.rank), 0) + coalesce(1.0 / (60 + k.rank), 0) AS rrf_score,
	s.rank AS semantic_rank, k.rank AS keyword_rank
FROM semantic s
	FULL OUTER JOIN keyword k ON s.id = k.id
ORDER BY rrf_score DESC, id
LIMIT $3;

-- "hnsw or search" near [1,0,0]: documents 1, 8, 3 and 6 are nearest;
-- 1, 2, 3, 6 and 8 match a word; fused, the rows both lists rank high
-- lead, and 2, far but a keyword match, is still among them.
SET hnsw.ef_search = 100;
EXECUTE hybrid('[1, 0, 0]', 'hnsw or search', 5);
-- words only a far document has: it still makes the list through its
-- keyword rank
EXECUTE hybrid('[1, 0, 0]', 'pasta', 3);
-- no word matches: the semantic ranking alone
EXECUTE hybrid('[0, 0, 1]', 'xylophone', 3);

-- Both branches use their index (forced off a sequential scan, which a
-- table this small would otherwise prefer).
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) EXECUTE hybrid('[1, 0, 0]', 'hnsw or search', 5);

-- The same fusion by brute force: ranks over every row, no index, no
-- LIMIT per branch.  The recipe's answer is the same while each branch's
-- top 40 holds every row that can make the fused top 5.
SET enable_indexscan = off;
SET enable_bitmapscan = off;
CREATE TEMP TABLE brute AS
WITH s AS (SELECT id, row_number() OVER (ORDER BY embedding <=> '[1,0,0]', id) AS rank FROM hs_docs),
	k AS (SELECT id, row_number() OVER (ORDER BY ts_rank_cd(tsv, query) DESC, id) AS rank
		  FROM hs_docs, websearch_to_tsquery('english', 'hnsw or search') query WHERE tsv @@ query)
SELECT s.id, 1.0 / (60 + s.rank) + coalesce(1.0 / (60 + k.rank), 0) AS rrf_score
FROM s LEFT JOIN k ON s.id = k.id
ORDER BY rrf_score DESC, id LIMIT 5;
RESET enable_indexscan;
RESET enable_bitmapscan;
CREATE TEMP TABLE recipe AS EXECUTE hybrid('[1, 0, 0]', 'hnsw or search', 5);
RESET enable_seqscan;
SELECT b.id AS brute_id, r.id AS recipe_id, b.rrf_score = r.rrf_score AS same_score
FROM (SELECT *, row_number() OVER (ORDER BY rrf_score DESC, id) n FROM brute) b
	FULL JOIN (SELECT *, row_number() OVER (ORDER BY rrf_score DESC, id) n FROM recipe) r USING (n)
ORDER BY n;

RESET hnsw.ef_search;
DEALLOCATE hybrid;
DROP TABLE hs_docs;
