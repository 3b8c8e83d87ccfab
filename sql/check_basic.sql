-- check_basic: vecx_index_check() on intact hnsw and ivfpq indexes of every
-- operator class, after inserts, deletes and vacuum, with heapallindexed;
-- and its refusals (wrong relation kinds, missing relations, rights).
SET client_min_messages = warning;

CREATE TABLE ck (id int PRIMARY KEY, v vector(6), h halfvec(6));
INSERT INTO ck SELECT i,
	ARRAY(SELECT round((sin(i * 0.7 + j * 1.3) * 10)::numeric, 2) FROM generate_series(1, 6) j)::vector(6),
	ARRAY(SELECT round((cos(i * 0.3 + j * 0.9) * 5)::numeric, 2) FROM generate_series(1, 6) j)::halfvec(6)
FROM generate_series(1, 600) i;
-- NULLs, a zero vector (not indexed under cosine), exact duplicates
INSERT INTO ck VALUES (1001, NULL, NULL), (1002, '[0,0,0,0,0,0]', '[0,0,0,0,0,0]');
INSERT INTO ck SELECT 2000 + i, '[1,2,3,4,5,6]', '[1,2,3,4,5,6]' FROM generate_series(1, 20) i;

CREATE INDEX ck_hv_l2 ON ck USING hnsw (v vector_l2_ops) WITH (m = 4, ef_construction = 16);
CREATE INDEX ck_hv_ip ON ck USING hnsw (v vector_ip_ops) WITH (m = 4, ef_construction = 16);
CREATE INDEX ck_hv_cos ON ck USING hnsw (v vector_cosine_ops) WITH (m = 4, ef_construction = 16);
CREATE INDEX ck_hv_l1 ON ck USING hnsw (v vector_l1_ops) WITH (m = 4, ef_construction = 16);
CREATE INDEX ck_hh_l2 ON ck USING hnsw (h halfvec_l2_ops) WITH (m = 4, ef_construction = 16);
CREATE INDEX ck_hh_cos ON ck USING hnsw (h halfvec_cosine_ops) WITH (m = 4, ef_construction = 16);
CREATE INDEX ck_iv_l2 ON ck USING ivfpq (v vector_l2_ops) WITH (lists = 8);
CREATE INDEX ck_iv_ip ON ck USING ivfpq (v vector_ip_ops) WITH (lists = 8, pq_bits = 8);
CREATE INDEX ck_iv_cos ON ck USING ivfpq (v vector_cosine_ops) WITH (lists = 8, pq_m = 3);
CREATE INDEX ck_ih_l2 ON ck USING ivfpq (h halfvec_l2_ops) WITH (lists = 8, pq_bits = 8, pq_m = 5);
CREATE INDEX ck_ih_cos ON ck USING ivfpq (h halfvec_cosine_ops) WITH (lists = 4);

CREATE FUNCTION check_all(hai bool) RETURNS TABLE (index_name text, result text)
LANGUAGE plpgsql AS $$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		JOIN pg_am a ON a.oid = c.relam
		WHERE i.indrelid = 'ck'::regclass AND a.amname IN ('hnsw', 'ivfpq') ORDER BY 1
	LOOP
		index_name := r.relname;
		BEGIN
			PERFORM vecx_index_check(r.relname::regclass, hai);
			result := 'ok';
		EXCEPTION WHEN OTHERS THEN
			result := SQLSTATE || ': ' || SQLERRM;
		END;
		RETURN NEXT;
	END LOOP;
END $$;

-- fresh indexes
SELECT * FROM check_all(false);
SELECT * FROM check_all(true);
SELECT vecx_index_check('ck_hv_l2');

-- inserts after the build (on-disk insert paths), deletes, vacuum, updates
INSERT INTO ck SELECT i,
	ARRAY(SELECT round((sin(i * 0.11 + j) * 7)::numeric, 2) FROM generate_series(1, 6) j)::vector(6),
	ARRAY(SELECT round((cos(i * 0.17 + j) * 3)::numeric, 2) FROM generate_series(1, 6) j)::halfvec(6)
FROM generate_series(601, 900) i;
DELETE FROM ck WHERE id % 3 = 0;
VACUUM ck;
SELECT * FROM check_all(true);
UPDATE ck SET v = v + '[1,1,1,1,1,1]' WHERE id % 5 = 1;
INSERT INTO ck SELECT 3000 + i, '[1,2,3,4,5,6]', '[1,2,3,4,5,6]' FROM generate_series(1, 10) i;
DELETE FROM ck WHERE id % 7 = 0;
VACUUM ck;
SELECT * FROM check_all(true);

-- empty and untrained indexes, unlogged tables, expression and partial indexes
CREATE UNLOGGED TABLE ck_empty (v vector(3));
CREATE INDEX ck_empty_h ON ck_empty USING hnsw (v vector_l2_ops);
CREATE INDEX ck_empty_i ON ck_empty USING ivfpq (v vector_l2_ops);
SELECT vecx_index_check('ck_empty_h', true), vecx_index_check('ck_empty_i', true);
INSERT INTO ck_empty SELECT ARRAY[i, i % 7, 1]::vector(3) FROM generate_series(1, 50) i;
SELECT vecx_index_check('ck_empty_h', true), vecx_index_check('ck_empty_i', true);
CREATE INDEX ck_expr ON ck USING hnsw (((v + v)::vector(6)) vector_l2_ops) WHERE id % 2 = 0;
CREATE INDEX ck_part ON ck USING ivfpq (v vector_l2_ops) WITH (lists = 2) WHERE id < 300;
SELECT vecx_index_check('ck_expr', true), vecx_index_check('ck_part', true);

-- refusals, with their SQLSTATEs
CREATE FUNCTION try_check(r regclass) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	PERFORM vecx_index_check(r);
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
CREATE INDEX ck_btree ON ck (id);
SELECT try_check('ck_btree');
SELECT try_check('ck');
SELECT try_check(0);
SELECT vecx_index_check('no_such_index');
SELECT vecx_index_check(NULL);
CREATE TABLE ck_part_parent (id int, v vector(3)) PARTITION BY RANGE (id);
CREATE TABLE ck_part_child PARTITION OF ck_part_parent FOR VALUES FROM (0) TO (100);
INSERT INTO ck_part_parent SELECT i, ARRAY[i, 1, 2]::vector(3) FROM generate_series(0, 99) i;
CREATE INDEX ck_part_parent_h ON ck_part_parent USING hnsw (v vector_l2_ops);
SELECT try_check('ck_part_parent_h');
SELECT try_check(c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
	WHERE i.inhparent = 'ck_part_parent_h'::regclass;
DROP FUNCTION try_check(regclass);

-- not executable by PUBLIC
SELECT has_function_privilege('public', 'vecx_index_check(regclass, boolean)', 'execute') AS public_may_run;
CREATE ROLE regress_vecx_check_user;
SET ROLE regress_vecx_check_user;
SELECT vecx_index_check('ck_hv_l2');
RESET ROLE;
DROP ROLE regress_vecx_check_user;

DROP FUNCTION check_all(bool);
DROP TABLE ck, ck_empty, ck_part_parent;
