-- upgrade: CREATE EXTENSION vecx VERSION '0.1.0', data and indexes, then
-- ALTER EXTENSION vecx UPDATE.  The old data must still answer, the new
-- objects must exist and work on it, and the updated extension must have
-- exactly the members of a fresh install of the default version.

\set origdb :DBNAME
SET client_min_messages = warning;
DROP DATABASE IF EXISTS regress_vecx_fresh;
DROP DATABASE IF EXISTS regress_vecx_upgrade;
RESET client_min_messages;

-- members of the extension, described (no oids), one per line
CREATE DATABASE regress_vecx_fresh;
\c regress_vecx_fresh
CREATE EXTENSION vecx;
SELECT extversion AS fresh_version FROM pg_extension WHERE extname = 'vecx';
SELECT string_agg(d, E'\n' ORDER BY d) AS fresh_members,
	count(*) > 100 AS many_members
FROM (SELECT pg_describe_object(dep.classid, dep.objid, dep.objsubid) AS d
	FROM pg_depend dep JOIN pg_extension e
		ON dep.refclassid = 'pg_extension'::regclass AND dep.refobjid = e.oid
	WHERE e.extname = 'vecx' AND dep.deptype = 'e') s \gset
SELECT :'many_members' AS many_members;
\c :origdb
DROP DATABASE regress_vecx_fresh;

CREATE DATABASE regress_vecx_upgrade;
\c regress_vecx_upgrade
CREATE EXTENSION vecx VERSION '0.1.0';
SELECT extversion FROM pg_extension WHERE extname = 'vecx';
SELECT to_regtype('sparsevec') AS sparsevec_before,
	to_regprocedure('hamming_distance(bit, bit)') AS hamming_before;

CREATE TABLE items (id int PRIMARY KEY, v vector(3), h halfvec(3));
INSERT INTO items
SELECT i, ARRAY[i % 7, i % 5, i % 3]::vector, ARRAY[i % 3, i % 5, i % 7]::halfvec
FROM generate_series(1, 300) i;
CREATE INDEX items_hnsw ON items USING hnsw (v vector_l2_ops);
CREATE INDEX items_hnsw_h ON items USING hnsw (h halfvec_cosine_ops);
CREATE INDEX items_ivfpq ON items USING ivfpq (v vector_l2_ops) WITH (lists = 4);
CREATE INDEX items_btree ON items (v);
CREATE VIEW nearest AS SELECT id, v <-> '[1,1,1]' AS d FROM items;

SET enable_seqscan = off;
SET enable_bitmapscan = off;
CREATE TEMP TABLE before AS
SELECT 'knn' AS q, array_agg(id ORDER BY v <-> '[1,2,0]', id) AS ids FROM (SELECT id, v FROM items ORDER BY v <-> '[1,2,0]' LIMIT 5) s
UNION ALL SELECT 'hnsw_h', array_agg(id ORDER BY id) FROM (SELECT id FROM items ORDER BY h <=> '[1,2,3]' LIMIT 5) s
UNION ALL SELECT 'btree', array_agg(id ORDER BY id) FROM items WHERE v = '[1,1,1]'
UNION ALL SELECT 'view', array_agg(id ORDER BY d, id) FROM (SELECT * FROM nearest ORDER BY d, id LIMIT 5) s;

ALTER EXTENSION vecx UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'vecx';
\dx vecx

-- the new objects exist and work, also on the old data
SELECT to_regtype('sparsevec') AS sparsevec_after,
	to_regprocedure('hamming_distance(bit, bit)') AS hamming_after,
	to_regprocedure('jaccard_distance(bit, bit)') AS jaccard_after;
SELECT id, v::sparsevec, v::sparsevec <-> '{1:1,2:2}/3' AS l2, h::sparsevec <=> v::sparsevec AS cos,
	binary_quantize(v) <~> binary_quantize(h::vector) AS hamming
FROM items ORDER BY id LIMIT 3;
CREATE TABLE sv (id int, s sparsevec(3));
INSERT INTO sv SELECT id, v FROM items WHERE id <= 10;
SELECT count(*), string_agg(s::text, ' ' ORDER BY s, id) FROM sv;

-- the old data answers as before, through the same indexes (the index
-- scans are forced)
CREATE TEMP TABLE after AS
SELECT 'knn' AS q, array_agg(id ORDER BY v <-> '[1,2,0]', id) AS ids FROM (SELECT id, v FROM items ORDER BY v <-> '[1,2,0]' LIMIT 5) s
UNION ALL SELECT 'hnsw_h', array_agg(id ORDER BY id) FROM (SELECT id FROM items ORDER BY h <=> '[1,2,3]' LIMIT 5) s
UNION ALL SELECT 'btree', array_agg(id ORDER BY id) FROM items WHERE v = '[1,1,1]'
UNION ALL SELECT 'view', array_agg(id ORDER BY d, id) FROM (SELECT * FROM nearest ORDER BY d, id LIMIT 5) s;
SELECT b.q, b.ids = a.ids AS same_answer, cardinality(b.ids) AS n FROM before b JOIN after a USING (q) ORDER BY 1;
SELECT count(*) FROM items WHERE v <-> '[1,1,1]' < 1;
RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT vecx_index_check('items_hnsw'), vecx_index_check('items_ivfpq');

-- an updated 0.1.0 has exactly the members of a fresh install
CREATE TEMP TABLE fresh AS SELECT unnest(string_to_array(:'fresh_members', E'\n')) AS d;
CREATE TEMP TABLE updated AS
SELECT pg_describe_object(dep.classid, dep.objid, dep.objsubid) AS d
FROM pg_depend dep JOIN pg_extension e
	ON dep.refclassid = 'pg_extension'::regclass AND dep.refobjid = e.oid
WHERE e.extname = 'vecx' AND dep.deptype = 'e';
SELECT (SELECT count(*) FROM fresh) = (SELECT count(*) FROM updated) AS same_count;
SELECT 'only in fresh install' AS diff, d FROM (SELECT d FROM fresh EXCEPT SELECT d FROM updated) x
UNION ALL
SELECT 'only in updated install', d FROM (SELECT d FROM updated EXCEPT SELECT d FROM fresh) y
ORDER BY 1, 2;
-- and the new members are the sparsevec and bit objects
SELECT count(*) FILTER (WHERE d ~ 'sparsevec') > 40 AS sparsevec_members,
	count(*) FILTER (WHERE d ~ '(hamming|jaccard)_distance|<~>|<%>') AS bit_members
FROM updated;

-- updating again is a no-op; there is no downgrade
ALTER EXTENSION vecx UPDATE;
ALTER EXTENSION vecx UPDATE TO '0.1.0';

\c :origdb
DROP DATABASE regress_vecx_upgrade;
