-- migration: a pgvector 0.8 database moves to vecx by dump and restore.
-- test/migration/pgvector-0.8.sql (a plain pg_dump of such a database,
-- CREATE EXTENSION IF NOT EXISTS vector included) was restored into
-- regress_vecx_migration with psql -v ON_ERROR_STOP=1 by
-- `make installcheck-vector-name` before this test; here the restored
-- database answers.  Statements of the dump marked NEEDS: are commented
-- out until vecx has the feature; their queries run by sequential scan
-- meanwhile (the plan column says so).

\c regress_vecx_migration
SELECT extname, extnamespace::regnamespace, extrelocatable,
	obj_description(oid, 'pg_extension') AS comment
FROM pg_extension WHERE extname IN ('vector', 'vecx') ORDER BY 1;

-- tables, column types and typmods, generated column
SELECT attrelid::regclass AS tab, attname, format_type(atttypid, atttypmod) AS type, attgenerated
FROM pg_attribute WHERE attrelid IN ('items'::regclass, 'documents'::regclass) AND attnum > 0
	AND NOT attisdropped
ORDER BY attrelid::regclass::text, attnum;

-- the data
SELECT count(*), count(embedding), sum(category), round(sum(norm)::numeric, 4) AS norms FROM items;
SELECT id, embedding::text, half::text, sparse::text, bits, category, round(norm::numeric, 6) AS norm
FROM items WHERE id IN (1, 2, 7, 13, 40) ORDER BY id;
SELECT id, title, embedding::text, chunks::text FROM documents ORDER BY id LIMIT 4;

-- the indexes of the dump that vecx builds today
SELECT c.relname, am.amname, pg_get_indexdef(c.oid) ~ 'WHERE' AS partial
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
WHERE i.indrelid = 'items'::regclass ORDER BY 1;
SELECT c.relname, vecx_index_check(c.oid) AS problems
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
WHERE i.indrelid = 'items'::regclass AND am.amname = 'hnsw' ORDER BY 1;

-- the view, the materialized view (refreshed by the dump), the function
SELECT id, round(l2::numeric, 4) AS l2, round(cosine::numeric, 4) AS cosine,
	round(neg_ip::numeric, 4) AS neg_ip, round(half_l1::numeric, 4) AS half_l1,
	round(sparse_l1::numeric, 4) AS sparse_l1, round(sparse_norm::numeric, 4) AS sparse_norm,
	hamming, round(jaccard::numeric, 4) AS jaccard, dims, normalized::text, quantized,
	tail::text, diff::text
FROM nearest_items WHERE id <= 8 ORDER BY id;
SELECT category, centroid::text, half_sum::text, n FROM category_centroids ORDER BY 1;
SELECT id, round(distance::numeric, 6) AS distance FROM match_items('[1,2,3]', 4);

-- nearest neighbours through each restored index give the exact answer
CREATE FUNCTION pg_temp.knn(expr text, op text, q text, k int, pred text DEFAULT 'true',
	OUT plan text, OUT same_as_exact boolean, OUT distances text)
LANGUAGE plpgsql AS $f$
DECLARE
	query text := format('SELECT %1$s %2$s %3$L AS d FROM public.items WHERE %5$s AND %1$s IS NOT NULL ORDER BY %1$s %2$s %3$L LIMIT %4$s',
		expr, op, q, k, pred);
	agg text := 'SELECT array_agg(round(d::numeric, 5) ORDER BY d) FROM (%s) s';
	line text;
	via numeric[];
	exact numeric[];
BEGIN
	PERFORM set_config('enable_seqscan', 'off', true);
	PERFORM set_config('enable_indexscan', 'on', true);
	PERFORM set_config('enable_bitmapscan', 'off', true);
	plan := 'Seq Scan';
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
		IF line ~ 'Index Scan using' THEN
			plan := substring(line FROM 'Index Scan using (\S+)');
		END IF;
	END LOOP;
	EXECUTE format(agg, query) INTO via;
	PERFORM set_config('enable_seqscan', 'on', true);
	PERFORM set_config('enable_indexscan', 'off', true);
	EXECUTE format(agg, query) INTO exact;
	PERFORM set_config('enable_indexscan', 'on', true);
	same_as_exact := via = exact;
	distances := exact::text;
END
$f$;
SET ivfflat.probes = 4;
SELECT c.*, k.* FROM (VALUES
	(1, 'embedding', '<->', '[1,2,3]', 5, 'true'),
	(2, 'embedding', '<=>', '[1,2,3]', 5, 'true'),
	(3, 'embedding', '<+>', '[1,2,3]', 3, 'category = 1'),
	(4, 'embedding', '<#>', '[1,2,3]', 5, 'true'),
	(5, '(embedding)::halfvec(3)', '<->', '[1,2,3]', 5, 'true'),
	(6, 'half', '<#>', '[1,0,1]', 5, 'true'),
	(7, 'half', '<=>', '[1,0,1]', 5, 'true'),
	(8, 'sparse', '<->', '{1:1,3:2}/5', 5, 'true'),
	(9, 'sparse', '<#>', '{1:1,3:2}/5', 5, 'true'),
	(10, 'bits', '<~>', '10101010', 5, 'true'),
	(11, 'bits', '<%>', '10101010', 5, 'true')) c(n, expr, op, q, k, pred),
	LATERAL pg_temp.knn(expr, op, q, k, pred) k
ORDER BY n;
RESET ivfflat.probes;

-- constraints, typmods, defaults and generated columns still apply
INSERT INTO items (embedding) VALUES ('[1,2]');
INSERT INTO documents VALUES (99, 'too long', '[1,2,3,4,5]');
INSERT INTO items (embedding, half, sparse, bits, category)
VALUES ('[3,4,0]', '[1,2,3]', '{2:1}/5', '00000001', 2) RETURNING id, norm;
SET enable_seqscan = off;
SELECT id FROM items WHERE embedding = '[3,4,0]';
RESET enable_seqscan;

\c contrib_regression_vecname
