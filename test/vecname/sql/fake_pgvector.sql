-- fake_pgvector: vecx refuses to load into a session that has pgvector's
-- library loaded, with one error naming both (SQLSTATE 55000), instead of
-- PostgreSQL's "attempt to redefine parameter".  fake_pgvector.so stands
-- in for pgvector: it defines hnsw.ef_search, as pgvector does.

\getenv abs_srcdir PG_ABS_SRCDIR
\set fake :abs_srcdir '/fake_pgvector.so'
CREATE EXTENSION vector;

-- pgvector's library first: vecx refuses, however it is loaded
\c
LOAD :'fake';
SHOW hnsw.ef_search;
LOAD 'vecx';
\echo :LAST_ERROR_SQLSTATE
SELECT '[1,2,3]'::vector;
\echo :LAST_ERROR_SQLSTATE
-- and again (a failed load leaves nothing behind that a retry trips on)
SELECT '[1,2,3]'::vector;
-- the session itself goes on
SELECT 1 AS still_usable;

-- a setting made before vecx loads is a placeholder, not pgvector: vecx
-- loads and takes the value over
\c
SET hnsw.ef_search = 77;
SELECT '[1,2,3]'::vector <-> '[1,2,4]' AS loaded;
SHOW hnsw.ef_search;
-- the other way round pgvector's library is the one that fails, with
-- PostgreSQL's own message (it has no such check)
LOAD :'fake';

\c
DROP EXTENSION vector;
