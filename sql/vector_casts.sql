-- casts to and from vector, type modifier coercion
SET extra_float_digits = 0;

-- arrays of each supported element type
SELECT '{1,2,3}'::integer[]::vector, '{1.5,-2.25}'::real[]::vector,
       '{0.1,1e-3}'::double precision[]::vector, '{1.25,3}'::numeric[]::vector;
SELECT ARRAY[1,2,3]::vector(3), ARRAY[1.5,2]::vector(2);
SELECT array_to_vector('{1,2}'::integer[], -1, false), array_to_vector('{1,2}'::real[], 2, true);
SELECT ARRAY[2147483647, -2147483648]::vector;
SELECT ARRAY[3.4028234e38]::double precision[]::vector;
-- assignment casts into a vector column
CREATE TABLE vcast (v vector(2));
INSERT INTO vcast VALUES (ARRAY[1,2]), ('{3.5,4}'::real[]), ('{5,6}'::float8[]), ('{7,8}'::numeric[]);
INSERT INTO vcast VALUES (ARRAY[1,2,3]);
SELECT * FROM vcast;
DROP TABLE vcast;

-- rejected arrays
SELECT ARRAY[1,NULL,3]::vector;
SELECT '{{1,2},{3,4}}'::integer[]::vector;
SELECT '{}'::integer[]::vector;
SELECT ARRAY[1,2]::vector(3);
SELECT array_fill(1, ARRAY[16001])::vector;
SELECT '{NaN}'::real[]::vector;
SELECT '{Infinity}'::real[]::vector;
SELECT '{-Infinity}'::double precision[]::vector;
SELECT '{NaN}'::double precision[]::vector;
SELECT '{1e39}'::double precision[]::vector;
SELECT '{-1e300}'::double precision[]::vector;
SELECT '{1e39}'::numeric[]::vector;
SELECT '{NaN}'::numeric[]::vector;
SELECT '{Infinity}'::numeric[]::vector;
\set VERBOSITY sqlstate
SELECT ARRAY[1,NULL,3]::vector;
SELECT '{{1,2},{3,4}}'::integer[]::vector;
SELECT '{}'::integer[]::vector;
SELECT '{NaN}'::real[]::vector;
SELECT '{1e39}'::double precision[]::vector;
\set VERBOSITY default
-- tiny doubles underflow to zero, as when casting to real
SELECT '{1e-50}'::double precision[]::vector;

-- vector to real[]
SELECT '[1,2.5,-3]'::vector::real[];
SELECT pg_typeof('[1]'::vector::real[]), array_length('[1,2,3]'::vector::real[], 1);
SELECT vector_to_float4('[1e-45,3.4028235e38]', -1, false);
-- round trip through an array is exact
SELECT count(*) FROM generate_series(1, 200) i
  WHERE (ARRAY[i * 0.1234567, -i * 7.654321]::real[]::vector)::real[]::vector
     <> ARRAY[i * 0.1234567, -i * 7.654321]::real[]::vector;

-- type modifier coercion function
SELECT vector('[1,2,3]'::vector, 3, true), vector('[1,2,3]'::vector, -1, false);
SELECT vector('[1,2,3]'::vector, 2, true);
SELECT '[1,2,3]'::vector::vector(2);
SELECT ('[1,2,3]'::vector(3))::vector(3);

-- the cast catalogue: context of each cast
SELECT castsource::regtype, casttarget::regtype, castfunc::regproc, castcontext
  FROM pg_cast WHERE castsource = 'vector'::regtype OR casttarget = 'vector'::regtype
  ORDER BY castsource::regtype::text, casttarget::regtype::text;
