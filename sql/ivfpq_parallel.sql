-- ivfpq: parallel build (pass 2 with parallel workers) gives the same index
-- content and the same answers as a serial build of the same table.
SET client_min_messages = notice;

CREATE TABLE ivp (id int, v vector(16), h halfvec(16));
INSERT INTO ivp SELECT i, a::vector, a::halfvec FROM (
	SELECT i, array(SELECT (sin(i * 0.37 + j * (1 + i % 7)) * (1 + (i % 5)) + (i % 11) * 0.1)::real
		FROM generate_series(1, 16) j) a
	FROM generate_series(1, 3000) i) s;
INSERT INTO ivp VALUES (0, NULL, NULL);
CREATE TABLE ivp_q AS SELECT id, v, h FROM ivp WHERE id % 150 = 7;

-- answers through whichever ivfpq index exists, for every query row
CREATE TABLE ivp_res (build text, op text, id int, ids int[]);
CREATE FUNCTION ivp_record(build text) RETURNS void LANGUAGE sql AS $$
	INSERT INTO ivp_res SELECT build, 'l2', q.id, array(SELECT t.id FROM ivp t ORDER BY t.v <-> q.v LIMIT 10) FROM ivp_q q;
	INSERT INTO ivp_res SELECT build, 'cos', q.id, array(SELECT t.id FROM ivp t ORDER BY t.v <=> q.v LIMIT 10) FROM ivp_q q;
	INSERT INTO ivp_res SELECT build, 'ip8', q.id, array(SELECT t.id FROM ivp t ORDER BY t.h <#> q.h LIMIT 10) FROM ivp_q q;
$$;
CREATE TABLE ivp_size (build text, name text, bytes bigint);
CREATE FUNCTION ivp_sizes(build text) RETURNS void LANGUAGE sql AS $$
	INSERT INTO ivp_size SELECT build, left(relname, -2), pg_relation_size(oid)
		FROM pg_class WHERE relname LIKE 'ivp\_%\_' || build;
$$;

SET enable_seqscan = off;
SET ivfpq.probes = 2;

-- serial build
SET max_parallel_maintenance_workers = 0;
CREATE INDEX ivp_l2_s ON ivp USING ivfpq (v vector_l2_ops) WITH (lists = 12);
CREATE INDEX ivp_cos_s ON ivp USING ivfpq (v vector_cosine_ops) WITH (lists = 12);
CREATE INDEX ivp_ip8_s ON ivp USING ivfpq (h halfvec_ip_ops) WITH (lists = 12, pq_bits = 8);
SELECT ivp_record('s');
SELECT ivp_sizes('s');
DROP INDEX ivp_l2_s, ivp_cos_s, ivp_ip8_s;

-- parallel build: two workers, the planner told so by the reloption
ALTER TABLE ivp SET (parallel_workers = 2);
SET max_parallel_maintenance_workers = 2;
SET min_parallel_table_scan_size = 0;
SET maintenance_work_mem = '128MB';
SET client_min_messages = debug1;
CREATE INDEX ivp_l2_p ON ivp USING ivfpq (v vector_l2_ops) WITH (lists = 12);
CREATE INDEX ivp_cos_p ON ivp USING ivfpq (v vector_cosine_ops) WITH (lists = 12);
CREATE INDEX ivp_ip8_p ON ivp USING ivfpq (h halfvec_ip_ops) WITH (lists = 12, pq_bits = 8);
SET client_min_messages = notice;
SELECT ivp_record('p');
SELECT ivp_sizes('p');
-- the structure checker accepts the parallel-built indexes, every row in them
SELECT vecx_index_check('ivp_l2_p', true), vecx_index_check('ivp_cos_p', true),
	vecx_index_check('ivp_ip8_p', true);

-- same answers with 2 of 12 lists probed (the lists hold the same rows)
SELECT s.op, count(*) AS queries, count(*) FILTER (WHERE s.ids = p.ids) AS same,
	min(cardinality(s.ids)) AS k
	FROM ivp_res s JOIN ivp_res p USING (op, id) WHERE s.build = 's' AND p.build = 'p'
	GROUP BY s.op ORDER BY s.op;
-- same number of pages (each list has the same entries)
SELECT s.name, s.bytes = p.bytes AS same_size, s.bytes > 8192 * 14 AS has_data
	FROM ivp_size s JOIN ivp_size p USING (name) WHERE s.build = 's' AND p.build = 'p'
	ORDER BY s.name;

-- every indexed row once: probing all lists returns all non-NULL rows
SET ivfpq.probes = 12;
SELECT count(*), count(DISTINCT id) FROM (
	SELECT id FROM ivp ORDER BY v <-> (SELECT v FROM ivp_q ORDER BY id LIMIT 1) LIMIT 5000) s;

-- inserts and vacuum after a parallel build extend and refill the lists
INSERT INTO ivp SELECT id + 3000, v, h FROM ivp WHERE id BETWEEN 1 AND 400;
DELETE FROM ivp WHERE id BETWEEN 1 AND 100;
VACUUM ivp;
SELECT count(*), count(DISTINCT id), min(id), max(id) FROM (
	SELECT id FROM ivp ORDER BY v <-> (SELECT v FROM ivp_q ORDER BY id LIMIT 1) LIMIT 5000) s;
SET ivfpq.probes = 1;
-- every row is in its nearest centroid's list: one probe finds it
SELECT count(*), bool_and((SELECT t.v <-> q.v FROM ivp t ORDER BY t.v <-> q.v LIMIT 1) = 0) AS finds_itself
	FROM ivp_q q WHERE q.id > 100;
DROP INDEX ivp_l2_p, ivp_cos_p, ivp_ip8_p;

-- CREATE INDEX CONCURRENTLY in parallel (an MVCC snapshot for the scan)
SET client_min_messages = debug1;
CREATE INDEX CONCURRENTLY ivp_l2_c ON ivp USING ivfpq (v vector_l2_ops) WITH (lists = 12);
SET client_min_messages = notice;
SELECT vecx_index_check('ivp_l2_c', true);
SET ivfpq.probes = 12;
SELECT count(*) FROM (SELECT id FROM ivp ORDER BY v <-> (SELECT v FROM ivp_q ORDER BY id LIMIT 1) LIMIT 5000) s;

-- parallel_workers = 0 on the table keeps the build serial (no worker message)
ALTER TABLE ivp SET (parallel_workers = 0);
SET client_min_messages = debug1;
REINDEX INDEX ivp_l2_c;
SET client_min_messages = notice;
SELECT count(*) FROM (SELECT id FROM ivp ORDER BY v <-> (SELECT v FROM ivp_q ORDER BY id LIMIT 1) LIMIT 5000) s;

-- an empty table stays serial (untrained index)
CREATE TABLE ivp_empty (v vector(3)) WITH (parallel_workers = 2);
CREATE INDEX ON ivp_empty USING ivfpq (v vector_l2_ops);

DROP TABLE ivp, ivp_q, ivp_res, ivp_size, ivp_empty;
DROP FUNCTION ivp_record(text), ivp_sizes(text);
