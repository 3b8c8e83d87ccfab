-- vector distances, norms, arithmetic, comparison and helper functions
SET extra_float_digits = 0;

-- distances: functions and operators agree
SELECT l2_distance('[0,0]'::vector, '[3,4]'), '[0,0]'::vector <-> '[3,4]';
SELECT l2_distance('[1,2,3]'::vector, '[1,2,3]'), vector_l2_squared_distance('[0,0]', '[3,4]');
SELECT inner_product('[1,2,3]'::vector, '[4,5,6]'), '[1,2,3]'::vector <#> '[4,5,6]',
       vector_negative_inner_product('[1,2,3]', '[4,5,6]');
SELECT cosine_distance('[1,2]'::vector, '[2,4]'), '[1,2]'::vector <=> '[2,4]';
SELECT cosine_distance('[1,0]'::vector, '[0,1]'), cosine_distance('[1,1]'::vector, '[-1,-1]');
SELECT '[1,1]'::vector <=> '[1,0]';
SELECT l1_distance('[0,0]'::vector, '[3,-4]'), '[0,0]'::vector <+> '[3,-4]';
SELECT vector_spherical_distance('[1,0]', '[0,1]'), vector_spherical_distance('[1,0]', '[-1,0]');
-- cosine with a zero vector is NaN (no direction), as in pgvector
SELECT cosine_distance('[0,0]'::vector, '[1,1]'), '[0,0]'::vector <=> '[0,0]';
-- float32 accumulation: squares beyond float range give Infinity
SELECT '[3e38]'::vector <-> '[-3e38]', '[1e20]'::vector <#> '[1e20]';
-- every element counts past the SIMD block boundaries (dims 1..40)
SELECT d, array_to_vector(array_fill(1, ARRAY[d]), -1, false) <-> array_to_vector(array_fill(0, ARRAY[d]), -1, false) = sqrt(d) AS l2,
       array_to_vector(array_fill(2, ARRAY[d]), -1, false) <#> array_to_vector(array_fill(3, ARRAY[d]), -1, false) = -6 * d AS ip,
       array_to_vector(array_fill(2, ARRAY[d]), -1, false) <+> array_to_vector(array_fill(-1, ARRAY[d]), -1, false) = 3 * d AS l1
  FROM generate_series(1, 40) d WHERE d IN (1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 40);
-- symmetric operators declare themselves commutators
-- the portable scalar kernels give the same answers
SET vecx.simd = scalar;
SELECT d, array_to_vector(array_fill(1, ARRAY[d]), -1, false) <-> array_to_vector(array_fill(0, ARRAY[d]), -1, false) = sqrt(d) AS l2,
       array_to_vector(array_fill(2, ARRAY[d]), -1, false) <#> array_to_vector(array_fill(3, ARRAY[d]), -1, false) = -6 * d AS ip,
       array_to_vector(array_fill(2, ARRAY[d]), -1, false) <+> array_to_vector(array_fill(-1, ARRAY[d]), -1, false) = 3 * d AS l1,
       array_to_vector(array_fill(2, ARRAY[d]), -1, false) <=> array_to_vector(array_fill(5, ARRAY[d]), -1, false) AS cos
  FROM generate_series(1, 40) d WHERE d IN (1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 40);
SELECT '[1,2,3]'::vector <-> '[3,2,1]', '[1,2,3]'::vector <#> '[3,2,1]', '[1,2,3]'::vector <=> '[3,2,1]', '[1,2,3]'::vector <+> '[3,2,1]';
RESET vecx.simd;
SELECT '[1,2,3]'::vector <-> '[3,2,1]', '[1,2,3]'::vector <#> '[3,2,1]', '[1,2,3]'::vector <=> '[3,2,1]', '[1,2,3]'::vector <+> '[3,2,1]';
SELECT oprname, oprcode, oprcom::regoperator IS NOT NULL AS has_commutator
  FROM pg_operator WHERE oprleft = 'vector'::regtype AND oprname IN ('<->', '<#>', '<=>', '<+>', '+', '*', '-', '||')
  ORDER BY oprname;

-- different dimensions
SELECT '[1,2]'::vector <-> '[1,2,3]';
SELECT '[1,2]'::vector <#> '[1,2,3]';
SELECT '[1,2]'::vector <=> '[1,2,3]';
SELECT '[1,2]'::vector <+> '[1,2,3]';
SELECT vector_l2_squared_distance('[1,2]', '[1,2,3]');
SELECT vector_negative_inner_product('[1,2]', '[1,2,3]');
SELECT vector_spherical_distance('[1,2]', '[1,2,3]');
\set VERBOSITY sqlstate
SELECT '[1,2]'::vector <-> '[1,2,3]';
\set VERBOSITY default

-- norms and normalisation
SELECT vector_norm('[3,4]'), vector_norm('[0,0,0]'), vector_norm('[1,1]');
SELECT vector_norm('[3e20,4e20]'), vector_norm('[3e-30,4e-30]');
SELECT l2_normalize('[3,4]'::vector), l2_normalize('[0,0]'::vector), l2_normalize('[-2,0,0]'::vector);
SELECT l2_normalize('[1e-45]'::vector), l2_normalize('[3e30,4e30]'::vector);
SELECT vector_norm(l2_normalize('[1,2,3,4,5,6,7,8,9]'::vector)) BETWEEN 0.9999999 AND 1.0000001 AS unit;

-- dims, subvector (1-based, clipped like substring), binary_quantize
SELECT vector_dims('[1]'::vector), vector_dims('[1,2,3,4,5]'::vector);
SELECT subvector('[1,2,3,4,5]'::vector, 1, 5), subvector('[1,2,3,4,5]'::vector, 2, 3),
       subvector('[1,2,3,4,5]'::vector, 5, 1);
SELECT subvector('[1,2,3,4,5]'::vector, 3, 100), subvector('[1,2,3,4,5]'::vector, 0, 3),
       subvector('[1,2,3,4,5]'::vector, -5, 10), subvector('[1,2,3,4,5]'::vector, 2, 2147483647);
SELECT subvector('[1,2,3,4,5]'::vector, 6, 1);
SELECT subvector('[1,2,3,4,5]'::vector, 1, 0);
SELECT subvector('[1,2,3,4,5]'::vector, 1, -1);
SELECT subvector('[1,2,3,4,5]'::vector, 0, 1);
SELECT subvector('[1,2,3,4,5]'::vector, -2147483648, 2147483647);
SELECT subvector('[1,2,3,4,5]'::vector, 2147483647, 2147483647);
SELECT binary_quantize('[1,-1,0,0.5,-0.5,2,3,4,5,-6]'::vector);
SELECT binary_quantize('[0]'::vector), binary_quantize('[1e-45]'::vector), length(binary_quantize(array_to_vector(array_fill(1, ARRAY[16000]), -1, false)));

-- element-wise arithmetic
SELECT '[1,2,3]'::vector + '[4,5,6]', '[1,2,3]'::vector - '[4,5,6]', '[1,2,3]'::vector * '[4,5,6]';
SELECT '[1,2]'::vector + '[1,2,3]';
SELECT '[1,2]'::vector - '[1,2,3]';
SELECT '[1,2]'::vector * '[1,2,3]';
-- overflow and underflow are errors (22003), never Infinity or a silent 0
SELECT '[3e38]'::vector + '[3e38]';
SELECT '[-3e38]'::vector - '[3e38]';
SELECT '[1e20]'::vector * '[1e20]';
SELECT '[1e-30]'::vector * '[1e-30]';
SELECT '[0,1e-30]'::vector * '[1e-30,0]';
\set VERBOSITY sqlstate
SELECT '[3e38]'::vector + '[3e38]';
SELECT '[1e-30]'::vector * '[1e-30]';
\set VERBOSITY default

-- concatenation
SELECT '[1,2]'::vector || '[3]', '[1]'::vector || '[2]' || '[3,4]';
SELECT vector_dims(array_to_vector(array_fill(1, ARRAY[8000]), -1, false) || array_to_vector(array_fill(1, ARRAY[8000]), -1, false));
SELECT array_to_vector(array_fill(1, ARRAY[8000]), -1, false) || array_to_vector(array_fill(1, ARRAY[8001]), -1, false);

-- comparison: element by element, then the shorter vector first
SELECT '[1,2]'::vector < '[1,3]', '[1,2]'::vector <= '[1,2]', '[1,2]'::vector = '[1,2]',
       '[1,2]'::vector <> '[1,2]', '[1,3]'::vector >= '[1,2]', '[2]'::vector > '[1,9]';
SELECT '[1,2]'::vector < '[1,2,0]', '[1,2]'::vector = '[1,2,0]', '[-0]'::vector = '[0]';
SELECT vector_cmp('[1,2]', '[1,3]'), vector_cmp('[1,2]', '[1,2]'), vector_cmp('[2]', '[1,2]'), vector_cmp('[1]', '[1,2]');
CREATE TABLE vcmp (id int, v vector);
INSERT INTO vcmp VALUES (1, '[3,1]'), (2, '[1,2,3]'), (3, '[1,2]'), (4, '[-1,5]'), (5, NULL), (6, '[1,2]');
SELECT id, v FROM vcmp ORDER BY v, id;
CREATE INDEX vcmp_v ON vcmp USING btree (v);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM vcmp WHERE v = '[1,2]';
SELECT id FROM vcmp WHERE v = '[1,2]' ORDER BY id;
SELECT id FROM vcmp WHERE v > '[1,2]' ORDER BY v;
RESET enable_seqscan;
SELECT DISTINCT v FROM vcmp ORDER BY v;
SELECT count(*) FROM vcmp a JOIN vcmp b ON a.v = b.v;
DROP TABLE vcmp;
