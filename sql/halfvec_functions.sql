-- halfvec distances, norms, arithmetic, comparison, casts and aggregates
SET extra_float_digits = 0;

-- distances: functions and operators agree
SELECT l2_distance('[0,0]'::halfvec, '[3,4]'), '[0,0]'::halfvec <-> '[3,4]',
       halfvec_l2_squared_distance('[0,0]', '[3,4]');
SELECT inner_product('[1,2,3]'::halfvec, '[4,5,6]'), '[1,2,3]'::halfvec <#> '[4,5,6]',
       halfvec_negative_inner_product('[1,2,3]', '[4,5,6]');
SELECT cosine_distance('[1,2]'::halfvec, '[2,4]'), '[1,2]'::halfvec <=> '[2,4]',
       cosine_distance('[1,0]'::halfvec, '[0,1]'), cosine_distance('[1,1]'::halfvec, '[-1,-1]');
SELECT '[1,1]'::halfvec <=> '[1,0]';
SELECT l1_distance('[0,0]'::halfvec, '[3,-4]'), '[0,0]'::halfvec <+> '[3,-4]';
SELECT halfvec_spherical_distance('[1,0]', '[0,1]'), halfvec_spherical_distance('[1,0]', '[-1,0]');
SELECT cosine_distance('[0,0]'::halfvec, '[1,1]'), '[0,0]'::halfvec <=> '[0,0]';
-- sums of binary16 products are exact in float32 here: no overflow
SELECT '[65504]'::halfvec <-> '[-65504]', '[65504,65504]'::halfvec <#> '[65504,65504]';
SELECT d, array_to_halfvec(array_fill(1, ARRAY[d]), -1, false) <-> array_to_halfvec(array_fill(0, ARRAY[d]), -1, false) = sqrt(d) AS l2,
       array_to_halfvec(array_fill(2, ARRAY[d]), -1, false) <#> array_to_halfvec(array_fill(3, ARRAY[d]), -1, false) = -6 * d AS ip,
       array_to_halfvec(array_fill(2, ARRAY[d]), -1, false) <+> array_to_halfvec(array_fill(-1, ARRAY[d]), -1, false) = 3 * d AS l1,
       array_to_halfvec(array_fill(2, ARRAY[d]), -1, false) <=> array_to_halfvec(array_fill(5, ARRAY[d]), -1, false) AS cos
  FROM generate_series(1, 40) d WHERE d IN (1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 40);
-- the portable scalar kernels give the same answers
SET vecx.simd = scalar;
SELECT d, array_to_halfvec(array_fill(1, ARRAY[d]), -1, false) <-> array_to_halfvec(array_fill(0, ARRAY[d]), -1, false) = sqrt(d) AS l2,
       array_to_halfvec(array_fill(2, ARRAY[d]), -1, false) <#> array_to_halfvec(array_fill(3, ARRAY[d]), -1, false) = -6 * d AS ip,
       array_to_halfvec(array_fill(2, ARRAY[d]), -1, false) <+> array_to_halfvec(array_fill(-1, ARRAY[d]), -1, false) = 3 * d AS l1,
       array_to_halfvec(array_fill(2, ARRAY[d]), -1, false) <=> array_to_halfvec(array_fill(5, ARRAY[d]), -1, false) AS cos
  FROM generate_series(1, 40) d WHERE d IN (1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 40);
SELECT '[1,2,3]'::halfvec <-> '[3,2,1]', '[1,2,3]'::halfvec <#> '[3,2,1]', '[1,2,3]'::halfvec <=> '[3,2,1]', '[1,2,3]'::halfvec <+> '[3,2,1]';
RESET vecx.simd;
SELECT '[1,2,3]'::halfvec <-> '[3,2,1]', '[1,2,3]'::halfvec <#> '[3,2,1]', '[1,2,3]'::halfvec <=> '[3,2,1]', '[1,2,3]'::halfvec <+> '[3,2,1]';
SELECT oprname, oprcode, oprcom::regoperator IS NOT NULL AS has_commutator
  FROM pg_operator WHERE oprleft = 'halfvec'::regtype AND oprname IN ('<->', '<#>', '<=>', '<+>', '+', '*', '-', '||')
  ORDER BY oprname;
-- a vector operand is converted implicitly
SELECT '[1,2]'::halfvec <-> '[1,4]'::vector;

-- different dimensions
SELECT '[1,2]'::halfvec <-> '[1,2,3]';
SELECT '[1,2]'::halfvec <#> '[1,2,3]';
SELECT '[1,2]'::halfvec <=> '[1,2,3]';
SELECT '[1,2]'::halfvec <+> '[1,2,3]';
SELECT halfvec_l2_squared_distance('[1,2]', '[1,2,3]');
SELECT halfvec_negative_inner_product('[1,2]', '[1,2,3]');
SELECT halfvec_spherical_distance('[1,2]', '[1,2,3]');
\set VERBOSITY sqlstate
SELECT '[1,2]'::halfvec <-> '[1,2,3]';
\set VERBOSITY default

-- norms and normalisation
SELECT l2_norm('[3,4]'::halfvec), l2_norm('[0,0]'::halfvec), l2_norm('[65504,65504]'::halfvec);
SELECT l2_normalize('[3,4]'::halfvec), l2_normalize('[0,0]'::halfvec), l2_normalize('[6e-8]'::halfvec);

-- dims, subvector, binary_quantize
SELECT vector_dims('[1,2,3,4,5]'::halfvec);
SELECT subvector('[1,2,3,4,5]'::halfvec, 2, 3), subvector('[1,2,3,4,5]'::halfvec, 3, 100),
       subvector('[1,2,3,4,5]'::halfvec, 0, 3), subvector('[1,2,3,4,5]'::halfvec, -5, 10);
SELECT subvector('[1,2,3,4,5]'::halfvec, 6, 1);
SELECT subvector('[1,2,3,4,5]'::halfvec, 1, 0);
SELECT subvector('[1,2,3,4,5]'::halfvec, -2147483648, 2147483647);
SELECT binary_quantize('[1,-1,0,0.5,-0.5,2,3,4,5,-6]'::halfvec), binary_quantize('[6e-8,-0]'::halfvec);

-- element-wise arithmetic, rounded to binary16
SELECT '[1,2,3]'::halfvec + '[4,5,6]', '[1,2,3]'::halfvec - '[4,5,6]', '[1,2,3]'::halfvec * '[4,5,6]';
SELECT '[1]'::halfvec + '[0.0001]', '[2048]'::halfvec + '[1]';
SELECT '[1,2]'::halfvec + '[1,2,3]';
SELECT '[1,2]'::halfvec - '[1,2,3]';
SELECT '[1,2]'::halfvec * '[1,2,3]';
-- results beyond binary16 range are errors (22003)
SELECT '[65504]'::halfvec + '[65504]';
SELECT '[-65504]'::halfvec - '[65504]';
SELECT '[300]'::halfvec * '[300]';
SELECT '[0.0001]'::halfvec * '[0.0001]';
SELECT '[65504]'::halfvec + '[15]', '[0,0.0001]'::halfvec * '[0.0001,0]';
\set VERBOSITY sqlstate
SELECT '[65504]'::halfvec + '[65504]';
SELECT '[0.0001]'::halfvec * '[0.0001]';
\set VERBOSITY default
SELECT '[1,2]'::halfvec || '[3]';
SELECT array_to_halfvec(array_fill(1, ARRAY[8000]), -1, false) || array_to_halfvec(array_fill(1, ARRAY[8001]), -1, false);

-- comparison and btree
SELECT '[1,2]'::halfvec < '[1,3]', '[1,2]'::halfvec <= '[1,2]', '[1,2]'::halfvec = '[1,2]',
       '[1,2]'::halfvec <> '[1,2]', '[1,3]'::halfvec >= '[1,2]', '[2]'::halfvec > '[1,9]';
SELECT '[1,2]'::halfvec < '[1,2,0]', '[-0]'::halfvec = '[0]', '[-1]'::halfvec < '[0.5]', '[-2]'::halfvec < '[-1]';
SELECT halfvec_cmp('[1,2]', '[1,3]'), halfvec_cmp('[1,2]', '[1,2]'), halfvec_cmp('[2]', '[1,2]'), halfvec_cmp('[1]', '[1,2]');
CREATE TABLE hcmp (id int, v halfvec);
INSERT INTO hcmp VALUES (1, '[3,1]'), (2, '[1,2,3]'), (3, '[1,2]'), (4, '[-1,5]'), (5, NULL), (6, '[1,2]'), (7, '[-2,0]');
CREATE INDEX hcmp_v ON hcmp USING btree (v);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM hcmp WHERE v = '[1,2]';
SELECT id FROM hcmp WHERE v = '[1,2]' ORDER BY id;
SELECT id, v FROM hcmp ORDER BY v, id;
RESET enable_seqscan;
DROP TABLE hcmp;

-- casts
SELECT '{1,2,3}'::integer[]::halfvec, '{1.5,-2.25}'::real[]::halfvec,
       '{0.1,1e-3}'::double precision[]::halfvec, '{1.25,3}'::numeric[]::halfvec;
SELECT ARRAY[1,2,3]::halfvec(3), array_to_halfvec('{1,2}'::integer[], 2, true);
SELECT ARRAY[1,2]::halfvec(3);
SELECT ARRAY[1,NULL]::halfvec;
SELECT '{{1,2},{3,4}}'::real[]::halfvec;
SELECT '{}'::real[]::halfvec;
SELECT '{NaN}'::real[]::halfvec;
SELECT '{Infinity}'::double precision[]::halfvec;
SELECT ARRAY[65520]::halfvec;
SELECT '{1e39}'::double precision[]::halfvec;
SELECT '{-1e5}'::numeric[]::halfvec;
\set VERBOSITY sqlstate
SELECT ARRAY[65520]::halfvec;
\set VERBOSITY default
SELECT '[1,2.5,-3]'::halfvec::real[], halfvec_to_float4('[0.1]', -1, false);
SELECT '[1.5,2]'::halfvec::vector, halfvec_to_vector('[1,2]', 2, true), '[0.1,2]'::vector::halfvec,
       vector_to_halfvec('[1,2]', 2, true);
SELECT halfvec_to_vector('[1,2]', 3, true);
SELECT vector_to_halfvec('[1,2]', 3, true);
SELECT '[1,2]'::vector::halfvec(3);
SELECT '[65520]'::vector::halfvec;
SELECT '[1e-10]'::vector::halfvec;
-- vector -> halfvec -> vector is the identity on binary16 values
SELECT count(*) FROM generate_series(-2000, 2000) i
  WHERE (ARRAY[i * 0.37]::halfvec::vector)::halfvec <> ARRAY[i * 0.37]::halfvec;
CREATE TABLE hcast (v halfvec(2));
INSERT INTO hcast VALUES (ARRAY[1,2]), ('{3.5,4}'::real[]), ('{5,6}'::float8[]), ('{7,8}'::numeric[]), ('[9,10]'::vector);
SELECT * FROM hcast;
DROP TABLE hcast;
SELECT castsource::regtype, casttarget::regtype, castfunc::regproc, castcontext
  FROM pg_cast WHERE castsource = 'halfvec'::regtype OR casttarget = 'halfvec'::regtype
  ORDER BY castsource::regtype::text, casttarget::regtype::text;

-- aggregates
SELECT avg(v), sum(v) FROM (VALUES ('[1,2,3]'::halfvec), ('[3,4,5]'), ('[5,9,-2]'), (NULL)) t(v);
SELECT avg(v), sum(v) FROM (SELECT '[1]'::halfvec v WHERE false) t;
SELECT avg(v) FROM (VALUES ('[65504]'::halfvec), ('[65504]')) t(v);
SELECT sum(v) FROM (VALUES ('[65504]'::halfvec), ('[65504]')) t(v);
SELECT sum(v) FROM (VALUES ('[65504]'::halfvec), ('[65504]'), ('[-65504]')) t(v);
SELECT avg(v) FROM (VALUES ('[1,2]'::halfvec), ('[1,2,3]')) t(v);
SELECT halfvec_accum('{0}', '[1,2]'), halfvec_combine('{1,1,2}', '{2,3,4}'), halfvec_avg('{2,3,5}'), halfvec_sum('{2,3,5}');
SELECT halfvec_avg('{0}'), halfvec_sum('{0}');
SELECT halfvec_sum('{1,70000}');
CREATE TABLE hagg (id int, v halfvec(3));
INSERT INTO hagg SELECT i, ARRAY[(i % 5) * 0.25, i % 2, -(i % 3)]::halfvec FROM generate_series(1, 30000) i;
ANALYZE hagg;
SELECT avg(v), sum(v) FROM hagg;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT avg(v), sum(v) FROM hagg;
SELECT avg(v), sum(v) FROM hagg;
RESET ALL;
SELECT aggfnoid::regprocedure, aggcombinefn, agginitval FROM pg_aggregate
  WHERE aggfnoid IN ('avg(halfvec)'::regprocedure, 'sum(halfvec)'::regprocedure) ORDER BY aggfnoid::regprocedure::text;
DROP TABLE hagg;
