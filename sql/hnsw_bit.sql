-- hnsw on bit(n): bit_hamming_ops and bit_jaccard_ops against the exact
-- order, limits and errors with their SQLSTATEs, inserts after the build,
-- vacuum, a filter column and the checker.
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SET hnsw.ef_search = 400;

-- a statement's SQLSTATE and message, or 'ok'
CREATE FUNCTION hb_try(stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE stmt;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- 300 rows of 64 bits, clustered around 4 centres (bit flips of one), a
-- NULL and an all-zero row
CREATE TABLE hb (id int PRIMARY KEY, label int, v bit(64));
SELECT setseed(0.31);
INSERT INTO hb SELECT i, i % 5,
	((CASE i % 4 WHEN 0 THEN x'0123456789ABCDEF' WHEN 1 THEN x'F0F0F0F0F0F0F0F0'
	  WHEN 2 THEN x'FFFF0000FFFF0000' ELSE x'8000000000000001' END)::bit(64) #
	 (SELECT bit_or((1::bit(64) << (random() * 63)::int)) FROM generate_series(1, 1 + i % 9) WHERE i > 0))
FROM generate_series(1, 300) i;
INSERT INTO hb VALUES (1001, 0, NULL), (1002, 0, 0::bit(64));

-- the index's first k distances equal the exact ones (ids may differ
-- among ties: distances are small integers or ratios)
CREATE FUNCTION hb_check(q bit, op text, k int) RETURNS bool LANGUAGE plpgsql AS $$
DECLARE a float8[]; b float8[];
BEGIN
	EXECUTE format('SELECT array_agg(d) FROM (SELECT v %s $1 AS d FROM hb ORDER BY v %s $1 LIMIT %s) s', op, op, k) INTO a USING q;
	SET LOCAL enable_indexscan = off;
	SET LOCAL enable_seqscan = on;
	EXECUTE format('SELECT array_agg(d ORDER BY d) FROM (SELECT v %s $1 AS d FROM hb WHERE v IS NOT NULL ORDER BY d LIMIT %s) s', op, k) INTO b USING q;
	RETURN a = b;
END $$;

CREATE INDEX hb_ham ON hb USING hnsw (v bit_hamming_ops);
EXPLAIN (COSTS OFF) SELECT id FROM hb ORDER BY v <~> x'0123456789ABCDEF' LIMIT 5;
SELECT hb_check(x'0123456789ABCDEF', '<~>', 10), hb_check(x'FFFFFFFF00000000', '<~>', 50),
	hb_check(0::bit(64), '<~>', 301);
SELECT id, v <~> x'8000000000000003' AS d FROM hb ORDER BY v <~> x'8000000000000003', id LIMIT 3;
-- every indexed row, NULL excluded; a NULL query returns them unordered
SELECT count(*) FROM (SELECT id FROM hb ORDER BY v <~> x'0000000000000001') s;
SELECT count(*) FROM (SELECT id FROM hb ORDER BY v <~> NULL::bit(64)) s;
SELECT vecx_index_check('hb_ham', true);
DROP INDEX hb_ham;

CREATE INDEX hb_jac ON hb USING hnsw (v bit_jaccard_ops);
EXPLAIN (COSTS OFF) SELECT id FROM hb ORDER BY v <%> x'0123456789ABCDEF' LIMIT 5;
SELECT hb_check(x'0123456789ABCDEF', '<%>', 10), hb_check(x'FFFFFFFF00000000', '<%>', 50),
	hb_check(x'8000000000000001', '<%>', 301);
-- the zero row is at distance 1 from everything, the zero query too
SELECT count(*) FROM (SELECT id FROM hb ORDER BY v <%> 0::bit(64)) s;
SELECT vecx_index_check('hb_jac', true);

-- inserts after the build (with the zero row twice more), then the order
INSERT INTO hb SELECT i, i % 5, ((i * 7919)::bit(64) << 3) | x'00000000000000FF'
FROM generate_series(2001, 2200) i;
INSERT INTO hb VALUES (2201, 1, 0::bit(64)), (2202, 2, 0::bit(64));
SELECT hb_check(x'0123456789ABCDEF', '<%>', 10), hb_check(x'00000000000000F0', '<%>', 100);
SELECT vecx_index_check('hb_jac', true);
-- vacuum after deletes
DELETE FROM hb WHERE id % 3 = 0;
VACUUM hb;
SELECT hb_check(x'0123456789ABCDEF', '<%>', 10), hb_check(x'00000000000000F0', '<%>', 100);
SELECT vecx_index_check('hb_jac', true);
SELECT count(*) FROM (SELECT id FROM hb ORDER BY v <%> x'0F00000000000000') s;
DROP INDEX hb_jac;

-- Hamming after inserts and vacuum, built on the changed table
CREATE INDEX hb_ham ON hb USING hnsw (v bit_hamming_ops) WITH (m = 4, ef_construction = 16);
INSERT INTO hb SELECT i, i % 5, (i * 104729)::bit(64) FROM generate_series(3001, 3100) i;
DELETE FROM hb WHERE id % 7 = 0;
VACUUM hb;
SELECT hb_check(x'0123456789ABCDEF', '<~>', 10), hb_check(x'00000000000000F0', '<~>', 100);
SELECT vecx_index_check('hb_ham', true);
DROP INDEX hb_ham;

-- a filter column
CREATE INDEX hb_f ON hb USING hnsw (v bit_hamming_ops, label);
EXPLAIN (COSTS OFF) SELECT id FROM hb WHERE label = 2 ORDER BY v <~> x'0123456789ABCDEF' LIMIT 5;
SELECT array_agg(d) = (SELECT array_agg(d ORDER BY d) FROM (SELECT v <~> x'0123456789ABCDEF' AS d
		FROM hb WHERE label = 2 AND v IS NOT NULL ORDER BY v <~> x'0123456789ABCDEF' LIMIT 20) t) AS filter_exact
FROM (SELECT v <~> x'0123456789ABCDEF' AS d FROM hb WHERE label = 2
	ORDER BY v <~> x'0123456789ABCDEF' LIMIT 20) s;
SELECT vecx_index_check('hb_f', true);
DROP INDEX hb_f;

-- limits and errors
SELECT hb_try('CREATE TABLE hb_big (v bit(64001)); CREATE INDEX ON hb_big USING hnsw (v bit_hamming_ops)');
SELECT hb_try('CREATE TABLE hb_var (v varbit(64)); CREATE INDEX ON hb_var USING hnsw (v bit_hamming_ops)');
SELECT hb_try('CREATE INDEX ON hb USING hnsw (v bit_hamming_ops) WITH (quantization = sq8)');
SELECT hb_try('CREATE INDEX ON hb USING hnsw (v bit_jaccard_ops) WITH (quantization = sq8)');
CREATE INDEX hb_ham ON hb USING hnsw (v bit_hamming_ops);
SELECT hb_try('SELECT id FROM hb ORDER BY v <~> B''101'' LIMIT 1');
DROP INDEX hb_ham;

-- 64,000 bits: the largest, its vectors in overflow pages
CREATE TABLE hb_max (id int, v bit(64000));
INSERT INTO hb_max SELECT i, repeat(CASE WHEN i % 2 = 0 THEN '1100' ELSE '0101' END, 16000)::bit(64000)
	# (1::bit(64000) << i * 100) FROM generate_series(1, 20) i;
CREATE INDEX hb_max_ham ON hb_max USING hnsw (v bit_hamming_ops);
INSERT INTO hb_max SELECT i, repeat('1110', 16000)::bit(64000) # (1::bit(64000) << i) FROM generate_series(21, 25) i;
SELECT array_agg(d) FROM (SELECT v <~> repeat('1110', 16000)::bit(64000) AS d FROM hb_max
	ORDER BY v <~> repeat('1110', 16000)::bit(64000) LIMIT 7) s;
SELECT vecx_index_check('hb_max_ham', true);
DROP TABLE hb_max;

-- a bit index of 1 bit (plain "bit" is bit(1))
CREATE TABLE hb1 (id int, v bit);
INSERT INTO hb1 SELECT i, (i % 2)::bit FROM generate_series(1, 50) i;
CREATE INDEX ON hb1 USING hnsw (v bit_hamming_ops);
SELECT count(*), min(d), max(d) FROM (SELECT v <~> B'1' AS d FROM hb1 ORDER BY v <~> B'1' LIMIT 25) s;
DROP TABLE hb1;

DROP TABLE hb;
DROP FUNCTION hb_check, hb_try;
