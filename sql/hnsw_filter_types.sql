-- hnsw filter columns of every supported type, NULLs, inserts after the
-- build, duplicates, vacuum, and the errors for unsupported shapes.
CREATE TABLE ft (id int, v vector(3), i2 int2, i4 int4, i8 int8, b bool, d date,
  ts timestamptz, t text, vc varchar(10), u uuid, tags int4[]);
INSERT INTO ft SELECT i, ARRAY[sin(i * 0.3), cos(i * 0.7), sin(i * 0.11)]::vector(3),
  (i % 5)::int2, i % 7, i % 11, i % 2 = 0, date '2024-01-01' + i % 30,
  timestamptz '2024-01-01 00:00+00' + (i % 24) * interval '1 hour',
  'cat' || (i % 4), 'v' || (i % 3), md5((i % 6)::text)::uuid, ARRAY[i % 5, 10 + i % 3]
  FROM generate_series(1, 3000) i;
-- NULLs in every filter column
INSERT INTO ft SELECT 3000 + i, ARRAY[sin(i * 0.5), cos(i * 0.5), 0]::vector(3)
  FROM generate_series(1, 50) i;
CREATE INDEX ft_idx ON ft USING hnsw (v vector_l2_ops, i2, i4, i8, b, d, ts, t, vc, u, tags);
ANALYZE ft;
SET enable_seqscan = off;

-- conditions become index conditions and give the exact answer
CREATE FUNCTION ft_cmp(cond text) RETURNS TABLE (idx_cond bool, nrows int, same bool) LANGUAGE plpgsql AS $$
DECLARE got int[]; want int[]; line text;
BEGIN
  idx_cond := false;
  FOR line IN EXECUTE format('EXPLAIN (COSTS OFF) SELECT id FROM ft WHERE %s ORDER BY v <-> ''[0.2,0.9,0.1]'' LIMIT 20', cond) LOOP
    idx_cond := idx_cond OR line LIKE '%Index Cond%';
  END LOOP;
  EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM ft WHERE %s ORDER BY v <-> ''[0.2,0.9,0.1]'' LIMIT 20) s', cond) INTO got;
  SET LOCAL enable_indexscan = off;
  SET LOCAL enable_seqscan = on;
  EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM ft WHERE %s ORDER BY v <-> ''[0.2,0.9,0.1]'' LIMIT 20) s', cond) INTO want;
  nrows := coalesce(array_length(got, 1), 0);
  same := (SELECT count(*) FROM unnest(got) g WHERE g = ANY (want)) >= nrows - 1
    AND nrows = coalesce(array_length(want, 1), 0);
  RETURN NEXT;
END $$;
EXPLAIN (COSTS OFF) SELECT id FROM ft WHERE i4 = 3 AND t = 'cat1' AND tags && '{2}' ORDER BY v <-> '[0.2,0.9,0.1]' LIMIT 20;
SELECT * FROM ft_cmp('i2 = 3');
SELECT * FROM ft_cmp('i2 < 2');
SELECT * FROM ft_cmp('i4 = 3');
SELECT * FROM ft_cmp('i4 >= 5');
SELECT * FROM ft_cmp('i4 <= 1::int2');
SELECT * FROM ft_cmp('i8 = 7');
SELECT * FROM ft_cmp('i8 > 8::int4');
-- (the planner reduces b = true to plain b, which it gives only btree and
-- hash as a condition; vecx's planner hook gives it to the index as b = true)
SELECT * FROM ft_cmp('b = true');
SELECT * FROM ft_cmp('NOT b');
SELECT * FROM ft_cmp('d = date ''2024-01-10''');
SELECT * FROM ft_cmp('d < date ''2024-01-04''');
SELECT * FROM ft_cmp('ts >= timestamptz ''2024-01-01 20:00+00''');
SELECT * FROM ft_cmp('t = ''cat2''');
SELECT * FROM ft_cmp('vc = ''v1''');
SELECT * FROM ft_cmp('u = md5(''4'')::uuid');
SELECT * FROM ft_cmp('tags && ''{3}''');
SELECT * FROM ft_cmp('tags @> ''{4,11}''');
SELECT * FROM ft_cmp('tags @> ''{}''');
SELECT * FROM ft_cmp('i4 = 3 AND t = ''cat1'' AND tags && ''{2}''');
SELECT * FROM ft_cmp('i4 = 3 AND i8 = 4 AND b');
-- no match, NULL arguments, IS NULL (a heap filter)
SELECT * FROM ft_cmp('i4 = 99');
SELECT * FROM ft_cmp('i4 = NULL::int');
SELECT * FROM ft_cmp('t = ''nosuch''');
SELECT count(*) FROM (SELECT id FROM ft WHERE i4 IS NULL ORDER BY v <-> '[0.2,0.9,0.1]' LIMIT 100) s;
-- IN, = ANY, ranges and null tests are index conditions too (an ordered
-- scan gets IN from vecx's planner hook: PostgreSQL 15 keeps an array
-- condition on a second index column out of ordered paths)
SELECT * FROM ft_cmp('i4 IN (1, 3)');
SELECT * FROM ft_cmp('i2 IN (0, 4) AND i8 IN (1, 2, 3, 4, 5)');
SELECT * FROM ft_cmp('i4 = ANY (''{2,5,NULL}''::int[])');
SELECT * FROM ft_cmp('i4 = ANY (''{NULL}''::int[])');
SELECT * FROM ft_cmp('i4 = ANY (''{}''::int[])');
SELECT * FROM ft_cmp('i8 < ANY (''{2,5}''::int8[])');
SELECT * FROM ft_cmp('i8 >= ANY (''{9,7}''::int8[])');
SELECT * FROM ft_cmp('d IN (date ''2024-01-03'', date ''2024-01-09'')');
SELECT * FROM ft_cmp('t IN (''cat1'', ''cat3'')');
SELECT * FROM ft_cmp('vc IN (''v0'', ''nosuch'')');
SELECT * FROM ft_cmp('u IN (md5(''1'')::uuid, md5(''2'')::uuid)');
SELECT * FROM ft_cmp('b AND i4 IN (2, 4)');
SELECT * FROM ft_cmp('i4 BETWEEN 2 AND 4');
SELECT * FROM ft_cmp('i4 BETWEEN 2 AND 4 AND ts < timestamptz ''2024-01-01 06:00+00''');
SELECT * FROM ft_cmp('i4 IS NULL');
SELECT * FROM ft_cmp('i4 IS NOT NULL');
SELECT * FROM ft_cmp('i4 IS NOT NULL AND t IS NULL');
SELECT * FROM ft_cmp('tags IS NULL AND u IS NULL');
-- a parameter array, as clients send IN lists
PREPARE ft_any(int[]) AS SELECT count(*) FROM (SELECT id FROM ft WHERE i4 = ANY ($1) ORDER BY v <-> '[0.2,0.9,0.1]' LIMIT 50) s;
SET plan_cache_mode = force_generic_plan;
EXPLAIN (COSTS OFF) EXECUTE ft_any('{1,2}');
EXECUTE ft_any('{1,2}');
EXECUTE ft_any('{}');
EXECUTE ft_any(NULL);
RESET plan_cache_mode;
DEALLOCATE ft_any;
EXPLAIN (COSTS OFF) SELECT id FROM ft WHERE i4 IN (1, 3) AND NOT b ORDER BY v <-> '[0.2,0.9,0.1]' LIMIT 20;
-- lossy columns are rechecked on the heap: no wrong rows
SELECT bool_and(t = 'cat3') FROM (SELECT t FROM ft WHERE t = 'cat3' ORDER BY v <-> '[0.2,0.9,0.1]' LIMIT 100) s;
SELECT bool_and(tags @> '{1,12}') FROM (SELECT tags FROM ft WHERE tags @> '{1,12}' ORDER BY v <-> '[0.2,0.9,0.1]' LIMIT 100) s;

-- inserts after the build carry their filter values; identical vectors with
-- different filter values keep separate nodes
INSERT INTO ft (id, v, i4, t) SELECT 5000 + i, '[9,9,9]', i % 3, 'dup' FROM generate_series(1, 30) i;
SELECT count(*) FROM (SELECT id FROM ft WHERE i4 = 1 AND t = 'dup' ORDER BY v <-> '[9,9,9]' LIMIT 100) s;
SELECT count(*) FROM (SELECT id FROM ft WHERE i4 = 2 ORDER BY v <-> '[9,9,9]' LIMIT 10) s WHERE id > 5000;
-- after a vacuum, deleted rows are gone and the rest still found
DELETE FROM ft WHERE id > 5000 AND i4 = 1;
VACUUM ft;
SELECT count(*) FROM (SELECT id FROM ft WHERE i4 = 1 AND t = 'dup' ORDER BY v <-> '[9,9,9]' LIMIT 100) s;
SELECT * FROM ft_cmp('i4 = 2 AND t = ''dup''');
-- a rebuild that spills to disk keeps the filter values too
SET maintenance_work_mem = '1MB';
REINDEX INDEX ft_idx;
RESET maintenance_work_mem;
-- the checker accepts nodes with a filter payload
SELECT vecx_index_check('ft_idx', true);
SELECT * FROM ft_cmp('i4 = 3 AND t = ''cat1''');
SELECT * FROM ft_cmp('i4 = 2 AND t = ''dup''');

-- no ORDER BY: the index is never chosen (the scan could answer, unordered)
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM ft WHERE i4 = 3;
SELECT count(*) FROM ft WHERE i4 = 3 AND t = 'cat1';
RESET enable_bitmapscan;
RESET enable_seqscan;
SELECT count(*) FROM ft WHERE i4 = 3 AND t = 'cat1';
SET enable_seqscan = off;
RESET enable_seqscan;

-- unsupported shapes
CREATE INDEX ON ft USING hnsw (i4, v vector_l2_ops);
CREATE INDEX ON ft USING hnsw (v vector_l2_ops, v vector_l2_ops);
CREATE TABLE ft2 (v vector(3), f float8, n numeric);
CREATE INDEX ON ft2 USING hnsw (v vector_l2_ops, f);
CREATE INDEX ON ft2 USING hnsw (v vector_l2_ops, n);
DROP TABLE ft2;
-- halfvec and cosine with filter columns
CREATE TABLE fh (id int, v halfvec(3), k int);
INSERT INTO fh SELECT i, ARRAY[sin(i), cos(i), 1]::halfvec(3), i % 4 FROM generate_series(1, 500) i;
CREATE INDEX ON fh USING hnsw (v halfvec_cosine_ops, k);
SET enable_seqscan = off;
SELECT count(*), bool_and(k = 2) FROM (SELECT k FROM fh WHERE k = 2 ORDER BY v <=> '[1,0,1]' LIMIT 50) s;
RESET enable_seqscan;
DROP TABLE fh;

SELECT opcname, amvalidate(c.oid) FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
  WHERE amname = 'hnsw' AND opcname LIKE '%filter%' ORDER BY opcname;
-- rows whose vector is NULL are not in the index: "v IS NULL" never uses it,
-- "v IS NOT NULL" may (every entry qualifies)
INSERT INTO ft (id, v, i4) VALUES (9001, NULL, 3), (9002, NULL, NULL);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM ft WHERE v IS NULL ORDER BY v <-> '[0.2,0.9,0.1]' LIMIT 5;
SELECT id FROM ft WHERE v IS NULL ORDER BY v <-> '[0.2,0.9,0.1]', id LIMIT 5;
SELECT id FROM ft WHERE v IS NULL AND i4 = 3 ORDER BY v <-> '[0.2,0.9,0.1]' LIMIT 5;
SELECT count(*) FROM (SELECT id FROM ft WHERE v IS NOT NULL AND i4 = 3 ORDER BY v <-> '[0.2,0.9,0.1]' LIMIT 5000) s;
SELECT count(*) FROM ft WHERE v IS NOT NULL AND i4 = 3;
RESET enable_seqscan;
DROP TABLE ft;
DROP FUNCTION ft_cmp;
