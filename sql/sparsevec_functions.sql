-- sparsevec: distances, norms, comparison, btree, casts

-- distances agree with the dense vectors
CREATE TABLE sv_pairs (id int, a vector(5), b vector(5));
INSERT INTO sv_pairs VALUES
	(1, '[1,2,0,0,3]', '[0,1,5,0,0]'),
	(2, '[1,0,0,0,0]', '[1,0,0,0,0]'),
	(3, '[0,0,0,0,1.5]', '[-2,0,0,0,0]'),
	(4, '[0,-1,2,0,-3]', '[4,0,-2,0.5,1]'),
	(5, '[0,0,0,0,0]', '[1,2,3,4,5]');
SELECT id,
	a::sparsevec <-> b::sparsevec = a <-> b AS l2,
	a::sparsevec <#> b::sparsevec = a <#> b AS ip,
	(a::sparsevec <=> b::sparsevec = a <=> b) OR (a <=> b) IS NULL OR (a <=> b = 'NaN' AND a::sparsevec <=> b::sparsevec = 'NaN') AS cos,
	a::sparsevec <+> b::sparsevec = a <+> b AS l1,
	l2_distance(a::sparsevec, b::sparsevec) = l2_distance(a, b) AS l2f,
	inner_product(a::sparsevec, b::sparsevec) = inner_product(a, b) AS ipf,
	l1_distance(a::sparsevec, b::sparsevec) = l1_distance(a, b) AS l1f,
	sparsevec_l2_squared_distance(a::sparsevec, b::sparsevec) = vector_l2_squared_distance(a, b) AS l2sq
FROM sv_pairs ORDER BY id;
SELECT id, a::sparsevec <-> b::sparsevec AS l2, a::sparsevec <#> b::sparsevec AS nip,
	a::sparsevec <=> b::sparsevec AS cos, a::sparsevec <+> b::sparsevec AS l1,
	cosine_distance(a::sparsevec, b::sparsevec) AS cosf
FROM sv_pairs ORDER BY id;
DROP TABLE sv_pairs;

-- large dimensions cost nothing: only stored elements are visited
SELECT '{1:1,999999999:2}/1000000000'::sparsevec <-> '{999999999:1,1000000000:1}/1000000000';
SELECT '{1:1}/2'::sparsevec <-> '{1:1}/3';
SELECT '{1:1}/2'::sparsevec <#> '{1:1}/3';
SELECT '{1:1}/2'::sparsevec <=> '{1:1}/3';
SELECT '{1:1}/2'::sparsevec <+> '{1:1}/3';

-- norms
SELECT l2_norm('{1:3,5:4}/5'::sparsevec), l2_norm('{}/5'::sparsevec);
SELECT l2_normalize('{1:3,5:4}/5'::sparsevec), l2_normalize('{}/5'::sparsevec);
SELECT l2_normalize('{1:1e38,2:1e38,3:1e-45}/3'::sparsevec);
SELECT l2_norm('{1:3e38,2:3e38}/2'::sparsevec);

-- comparison: like the dense vectors, then by dimensions
SELECT a, b, a < b AS lt, a <= b AS le, a = b AS eq, a <> b AS ne, a >= b AS ge, a > b AS gt,
	sparsevec_cmp(a, b) AS cmp, sparsevec_cmp(a, b) = vector_cmp(a::vector, b::vector) AS same_as_dense
FROM (VALUES
	('{1:1}/3'::sparsevec, '{1:1}/3'::sparsevec),
	('{1:1}/3', '{2:1}/3'),
	('{2:-1}/3', '{}/3'),
	('{3:1}/3', '{}/3'),
	('{1:1}/2', '{1:1}/3'),
	('{1:1,3:5}/3', '{1:1}/2'),
	('{2:1}/3', '{1:1}/2'),
	('{}/3', '{}/4')
) t(a, b);

CREATE TABLE sv_btree (id int, v sparsevec);
INSERT INTO sv_btree SELECT i, ('{' || (i % 7 + 1) || ':' || (i % 3 - 1) || '}/8')::sparsevec FROM generate_series(1, 30) i;
CREATE INDEX ON sv_btree (v);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM sv_btree WHERE v = '{3:1}/8';
SELECT count(*) FROM sv_btree WHERE v = '{3:1}/8';
SELECT DISTINCT v FROM sv_btree ORDER BY v;
RESET enable_seqscan;
DROP TABLE sv_btree;

-- casts
SELECT '[1,0,2]'::vector::sparsevec, '[1,0,2]'::halfvec::sparsevec, '[0,0]'::vector::sparsevec;
SELECT '{1:1,3:2}/3'::sparsevec::vector, '{1:1,3:2}/3'::sparsevec::halfvec;
SELECT '{1:1}/3'::sparsevec::vector(3), '{1:1}/3'::sparsevec::halfvec(3);
SELECT '{1:1}/3'::sparsevec::vector(2);
SELECT '{1:1}/3'::sparsevec::halfvec(4);
SELECT '[1,2]'::vector::sparsevec(3);
SELECT '[1,2]'::halfvec::sparsevec(3);
SELECT '{1:1}/16001'::sparsevec::vector;
SELECT '{1:1}/16001'::sparsevec::halfvec;
SELECT '{1:70000}/3'::sparsevec::halfvec;
SELECT '{1:1e-8}/3'::sparsevec::halfvec;
SELECT '{0,1,0,2}'::int[]::sparsevec, '{0,1.5,0}'::real[]::sparsevec,
	'{0,1.5,0}'::float8[]::sparsevec, '{0,1.5,0}'::numeric[]::sparsevec;
SELECT '{1,2}'::int[]::sparsevec(2);
SELECT '{1,2}'::int[]::sparsevec(3);
SELECT '{}'::int[]::sparsevec;
SELECT '{{1,2}}'::int[]::sparsevec;
SELECT '{1,NULL}'::int[]::sparsevec;
SELECT '{NaN}'::real[]::sparsevec;
SELECT '{Infinity}'::float8[]::sparsevec;
SELECT '{1e300}'::float8[]::sparsevec;
SELECT '{1e50}'::numeric[]::sparsevec;
SELECT array_fill(1, ARRAY[16001])::sparsevec;
SELECT array_fill(0, ARRAY[20000])::sparsevec = '{}/20000' AS zeros_ok;
SELECT '{1:1}/3'::sparsevec::sparsevec(3), '{1:1}/3'::sparsevec(3)::sparsevec;
SELECT '{1:1}/3'::sparsevec::sparsevec(2);

-- assignment: dense values go into sparsevec columns implicitly
CREATE TABLE sv_assign (v sparsevec(3));
INSERT INTO sv_assign VALUES ('[1,0,2]'::vector), ('[0,3,0]'::halfvec), ('{0,0,4}'::int[]);
INSERT INTO sv_assign VALUES ('[1,0]'::vector);
SELECT v, v <-> '[0,0,0]'::vector AS l2_to_dense FROM sv_assign ORDER BY v;
DROP TABLE sv_assign;

-- no call may lose precision through an implicit cast: l2_norm(vector)
-- could mean halfvec or sparsevec and is rejected (use vector_norm)
SELECT l2_norm('[3,4]'::vector);
SELECT vector_norm('[3,4]'::vector), l2_norm('[3,4]'::halfvec);
