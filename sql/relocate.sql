-- relocate: vecx is relocatable from 0.2.0 on.  ALTER EXTENSION vecx SET
-- SCHEMA moves every member; the types, operators, casts, aggregates,
-- operator classes and the indexes and views built on them before the move
-- keep working, also from a search_path without the extension's schema.
-- 0.1.0 (its script names the schema) stays fixed.

\set origdb :DBNAME
SET client_min_messages = warning;
DROP DATABASE IF EXISTS regress_vecx_relocate;
RESET client_min_messages;
CREATE DATABASE regress_vecx_relocate;
\c regress_vecx_relocate

CREATE EXTENSION vecx;
SELECT extname, extversion, extnamespace::regnamespace, extrelocatable
FROM pg_extension WHERE extname = 'vecx';

CREATE TABLE items (id int PRIMARY KEY, v vector(3), h halfvec(3), s sparsevec(3), b bit(3));
INSERT INTO items
SELECT i, ARRAY[i % 7, i % 5, i % 3]::vector, ARRAY[i % 3, i % 5, i % 7]::halfvec,
	ARRAY[i % 2, 0, i % 4]::sparsevec, (i % 8)::bit(3)
FROM generate_series(1, 200) i;
CREATE INDEX items_hnsw ON items USING hnsw (v vector_l2_ops);
CREATE INDEX items_hnsw_h ON items USING hnsw (h halfvec_cosine_ops);
CREATE INDEX items_ivfpq ON items USING ivfpq (v vector_ip_ops) WITH (lists = 2);
CREATE INDEX items_btree ON items (v);
CREATE VIEW nearest AS
SELECT id, v <-> '[1,1,1]' AS d, l2_normalize(h) AS n, s <#> '{1:1}/3' AS sip,
	b <~> B'101' AS ham, avg(v) OVER () AS mean
FROM items;

CREATE TEMP TABLE before AS
SELECT 'view' AS q, array_agg(id || ':' || d || ':' || n::text || ':' || sip || ':' || ham || ':' || mean::text ORDER BY id) AS r
FROM nearest WHERE id <= 5;

CREATE SCHEMA other;
ALTER EXTENSION vecx SET SCHEMA other;
SELECT extnamespace::regnamespace FROM pg_extension WHERE extname = 'vecx';

-- every member moved
SELECT pg_describe_object(d.classid, d.objid, 0) AS not_moved
FROM pg_depend d JOIN pg_extension e ON d.refclassid = 'pg_extension'::regclass AND d.refobjid = e.oid
LEFT JOIN pg_proc p ON d.classid = 'pg_proc'::regclass AND p.oid = d.objid
LEFT JOIN pg_type t ON d.classid = 'pg_type'::regclass AND t.oid = d.objid
LEFT JOIN pg_operator o ON d.classid = 'pg_operator'::regclass AND o.oid = d.objid
LEFT JOIN pg_opclass c ON d.classid = 'pg_opclass'::regclass AND c.oid = d.objid
LEFT JOIN pg_opfamily f ON d.classid = 'pg_opfamily'::regclass AND f.oid = d.objid
WHERE e.extname = 'vecx' AND d.deptype = 'e'
	AND d.classid IN ('pg_proc'::regclass, 'pg_type'::regclass, 'pg_operator'::regclass,
					  'pg_opclass'::regclass, 'pg_opfamily'::regclass)
	AND coalesce(p.pronamespace, t.typnamespace, o.oprnamespace, c.opcnamespace, f.opfnamespace)
		IS DISTINCT FROM 'other'::regnamespace;
SELECT count(*) > 100 AS moved_members FROM pg_proc WHERE pronamespace = 'other'::regnamespace;

-- public alone no longer finds the names ...
SHOW search_path;
SELECT '[1,2,3]'::vector;
-- ... qualified, everything works from here
SELECT '[1,2,3]'::other.vector OPERATOR(other.<->) '[3,2,1]' AS l2,
	other.cosine_distance('[1,2,3]'::other.halfvec, '[3,2,1]') AS cos,
	('{1:1,3:2}/3'::other.sparsevec OPERATOR(other.<#>) '{3:1}/3') AS sip,
	B'101' OPERATOR(other.<~>) B'011' AS ham, other.jaccard_distance(B'101', B'011') AS jac,
	ARRAY[1, 2, 3]::other.vector::other.halfvec::other.sparsevec::text AS casts,
	('[1,2,3]'::other.vector)::real[] AS to_array,
	other.vector_dims(other.subvector('[1,2,3]'::other.vector, 2, 2)) AS dims;
SELECT other.avg(v)::text AS avg, other.sum(h)::text AS sum FROM items;
-- typmods and the typmod check survive the move
SELECT format_type(atttypid, atttypmod) FROM pg_attribute
WHERE attrelid = 'items'::regclass AND attnum > 1 ORDER BY attnum;
INSERT INTO items (id, v) VALUES (1000, '[1,2]');

-- the indexes made before the move answer through their operator classes
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v OPERATOR(other.<->) '[1,2,0]' LIMIT 3;
SELECT id, v::text FROM items ORDER BY v OPERATOR(other.<->) '[1,2,0]', id LIMIT 3;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY h OPERATOR(other.<=>) '[1,2,3]' LIMIT 3;
SELECT count(*) FROM (SELECT id FROM items ORDER BY h OPERATOR(other.<=>) '[1,2,3]' LIMIT 3) s;
SET ivfpq.probes = 2;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v OPERATOR(other.<#>) '[1,2,0]' LIMIT 3;
SELECT v OPERATOR(other.<#>) '[1,2,0]' AS d FROM items ORDER BY v OPERATOR(other.<#>) '[1,2,0]' LIMIT 3;
RESET ivfpq.probes;
DROP INDEX items_hnsw, items_hnsw_h;
EXPLAIN (COSTS OFF) SELECT id FROM items WHERE v OPERATOR(other.=) '[1,1,1]' ORDER BY id;
SELECT id FROM items WHERE v OPERATOR(other.=) '[1,1,1]' ORDER BY id;
-- new indexes with the moved operator classes
CREATE INDEX items_hnsw2 ON items USING hnsw (v other.vector_cosine_ops) WITH (m = 8);
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v OPERATOR(other.<=>) '[1,2,0]' LIMIT 3;
SELECT count(*) FROM (SELECT id FROM items ORDER BY v OPERATOR(other.<=>) '[1,2,0]' LIMIT 3) s;
SELECT other.vecx_index_check('items_hnsw2'), other.vecx_index_check('items_ivfpq');
RESET enable_seqscan;
RESET enable_bitmapscan;

-- the view answers as before
SELECT b.r = a.r AS view_unchanged
FROM before b, (SELECT array_agg(id || ':' || d || ':' || n::text || ':' || sip || ':' || ham || ':' || mean::text ORDER BY id) AS r
	FROM nearest WHERE id <= 5) a;

-- with the schema in search_path, unqualified names work again
SET search_path = other, public;
SELECT '[1,2,3]'::vector <-> '[3,2,1]' AS l2, l2_norm('[3,4]'::halfvec) AS norm;
SELECT id FROM items ORDER BY v <-> '[1,2,0]', id LIMIT 3;
RESET search_path;

-- and back
ALTER EXTENSION vecx SET SCHEMA public;
SELECT '[1,2,3]'::vector <-> '[3,2,1]' AS l2;
DROP SCHEMA other;

-- 0.1.0 is not relocatable: its script hard-codes the schema
DROP VIEW nearest;
DROP TABLE items;
DROP EXTENSION vecx;
CREATE EXTENSION vecx VERSION '0.1.0';
SELECT extversion, extrelocatable FROM pg_extension WHERE extname = 'vecx';
CREATE SCHEMA other;
ALTER EXTENSION vecx SET SCHEMA other;
ALTER EXTENSION vecx UPDATE;
SELECT extversion, extrelocatable FROM pg_extension WHERE extname = 'vecx';
ALTER EXTENSION vecx SET SCHEMA other;
SELECT '[1,2,3]'::other.vector OPERATOR(other.<->) '[3,2,1]' AS l2_after_update;

\c :origdb
DROP DATABASE regress_vecx_relocate;
