-- vector_name: vecx installed under pgvector's extension name (make
-- install-vector-name).  CREATE EXTENSION vector and CREATE EXTENSION IF
-- NOT EXISTS vector create exactly the objects of CREATE EXTENSION vecx;
-- a database holds one of the two, refused in either order with SQLSTATE
-- 42710 before anything is created; vector is relocatable like vecx.

\set origdb :DBNAME
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP DATABASE IF EXISTS regress_vecname_vector;
DROP DATABASE IF EXISTS regress_vecname_vecx;
RESET client_min_messages;

-- both names available, same version, same library
SELECT name, default_version = (SELECT default_version FROM pg_available_extensions
	WHERE name = 'vecx') AS same_version, comment
FROM pg_available_extensions WHERE name IN ('vecx', 'vector') ORDER BY name;

-- the two install scripts differ only where they name themselves
CREATE TEMP TABLE script_lines AS
SELECT e.name, l.n, l.line
FROM (SELECT setting || '/extension' AS dir FROM pg_config WHERE name = 'SHAREDIR') d,
	pg_available_extensions e,
	regexp_split_to_table(pg_read_file(d.dir || '/' || e.name || '--' || e.default_version || '.sql'),
		E'\n') WITH ORDINALITY AS l(line, n)
WHERE e.name IN ('vecx', 'vector');
SELECT count(*) > 1000 AS long_scripts,
	count(*) FILTER (WHERE name = 'vecx') = count(*) FILTER (WHERE name = 'vector') AS same_length
FROM script_lines;
SELECT n, a.line AS vecx, b.line AS vector
FROM (SELECT * FROM script_lines WHERE name = 'vecx') a
	FULL JOIN (SELECT * FROM script_lines WHERE name = 'vector') b USING (n)
WHERE a.line IS DISTINCT FROM b.line ORDER BY n;

-- members of each, described, in a database of its own
CREATE DATABASE regress_vecname_vecx;
\c regress_vecname_vecx
CREATE EXTENSION vecx;
SELECT string_agg(pg_describe_object(dep.classid, dep.objid, dep.objsubid), E'\n'
		ORDER BY pg_describe_object(dep.classid, dep.objid, dep.objsubid)) AS vecx_members
FROM pg_depend dep JOIN pg_extension e
	ON dep.refclassid = 'pg_extension'::regclass AND dep.refobjid = e.oid
WHERE e.extname = 'vecx' AND dep.deptype = 'e' \gset

CREATE DATABASE regress_vecname_vector;
\c regress_vecname_vector
CREATE EXTENSION vector;
SELECT extname, extnamespace::regnamespace, extrelocatable,
	extversion = (SELECT default_version FROM pg_available_extensions WHERE name = 'vecx') AS same_version
FROM pg_extension WHERE extname <> 'plpgsql';
CREATE TEMP TABLE vector_members AS
SELECT pg_describe_object(dep.classid, dep.objid, dep.objsubid) AS d
FROM pg_depend dep JOIN pg_extension e
	ON dep.refclassid = 'pg_extension'::regclass AND dep.refobjid = e.oid
WHERE e.extname = 'vector' AND dep.deptype = 'e';
CREATE TEMP TABLE vecx_members AS
SELECT unnest(string_to_array(:'vecx_members', E'\n')) AS d;
SELECT (SELECT count(*) FROM vecx_members) = (SELECT count(*) FROM vector_members) AS same_count,
	(SELECT count(*) FROM vecx_members) > 200 AS many;
SELECT 'only in vecx' AS diff, d FROM (SELECT d FROM vecx_members EXCEPT SELECT d FROM vector_members) x
UNION ALL
SELECT 'only in vector', d FROM (SELECT d FROM vector_members EXCEPT SELECT d FROM vecx_members) y
ORDER BY 1, 2;
-- the same library
SELECT DISTINCT probin FROM pg_proc WHERE probin IS NOT NULL AND pronamespace = 'public'::regnamespace;

-- it works
CREATE TABLE items (id int, v vector(3), h halfvec(3), s sparsevec(3), b bit(3));
INSERT INTO items SELECT i, ARRAY[i, i % 3, 1], ARRAY[1, i % 5, i], ARRAY[i % 2, 0, 1], (i % 8)::bit(3)
FROM generate_series(1, 100) i;
CREATE INDEX ON items USING hnsw (v vector_l2_ops);
CREATE INDEX ON items USING ivfpq (h halfvec_cosine_ops) WITH (lists = 2);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v <-> '[3,0,1]' LIMIT 3;
SELECT id, v <-> '[3,0,1]' AS d FROM items ORDER BY v <-> '[3,0,1]', id LIMIT 3;
RESET enable_seqscan;
SELECT s <#> '{1:1}/3' AS sip, b <~> B'101' AS ham FROM items WHERE id = 5;

-- IF NOT EXISTS with vector present: a no-op, as ORM migrations expect
CREATE EXTENSION IF NOT EXISTS vector;
-- vecx beside it: refused, in any schema, before anything is created
CREATE EXTENSION vecx;
\echo :LAST_ERROR_SQLSTATE
CREATE EXTENSION IF NOT EXISTS vecx;
CREATE SCHEMA other;
CREATE EXTENSION vecx SCHEMA other;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS objects_in_other FROM pg_type WHERE typnamespace = 'other'::regnamespace;

-- relocatable, like pgvector
ALTER EXTENSION vector SET SCHEMA other;
SELECT extnamespace::regnamespace FROM pg_extension WHERE extname = 'vector';
SET enable_seqscan = off;
SELECT id FROM items ORDER BY v OPERATOR(other.<->) '[3,0,1]', id LIMIT 3;
RESET enable_seqscan;
ALTER EXTENSION vector SET SCHEMA public;
DROP SCHEMA other;

-- the other order: vector beside vecx is refused, IF NOT EXISTS included
\c regress_vecname_vecx
CREATE EXTENSION vector;
\echo :LAST_ERROR_SQLSTATE
CREATE EXTENSION IF NOT EXISTS vector;
\echo :LAST_ERROR_SQLSTATE
-- switching names: drop one, create the other
DROP EXTENSION vecx;
CREATE EXTENSION IF NOT EXISTS vector;
SELECT extname FROM pg_extension WHERE extname IN ('vecx', 'vector');
SELECT '[1,2]'::vector <-> '[4,6]' AS l2;

\c :origdb
DROP DATABASE regress_vecname_vector;
DROP DATABASE regress_vecname_vecx;
