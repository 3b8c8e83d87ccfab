-- security_limits: oversized and extreme requests through every way of
-- constructing a vector or halfvec.  Each must either succeed with the
-- right size or fail with the right SQLSTATE; nothing may overflow, crash
-- or allocate without bound.  (Index-related limits live with the AMs.)

-- Run a statement, return 'ok: <first column>' or 'SQLSTATE: message'.
CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	r text;
BEGIN
	EXECUTE q INTO r;
	RETURN 'ok: ' || coalesce(r, 'NULL');
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

-- The helper itself reports both outcomes.
SELECT pg_temp.try('SELECT 1'), pg_temp.try('SELECT 1/0');

-- Text input: 16000 elements is the limit for both types.
SELECT t AS type, n, pg_temp.try(format(
	$$SELECT vector_dims(('[' || repeat('1,', %s) || '1]')::%s)$$, n - 1, t))
FROM unnest(ARRAY['vector', 'halfvec']) t, unnest(ARRAY[16000, 16001, 100000]) n
ORDER BY 1, 2;

-- Text that is malformed near the limit: the element buffer is sized from
-- the comma count, so commas and elements disagreeing must stay errors.
-- (Messages quote the input; only their start is shown.)
SELECT t AS type, label, left(pg_temp.try(format($$SELECT vector_dims((%s)::%s)$$, q, t)), 60)
FROM unnest(ARRAY['vector', 'halfvec']) t,
	(VALUES ('16000 elements, trailing comma', $$'[' || repeat('1,', 16000) || ']'$$),
			('16000 elements, 15998 commas', $$'[' || repeat('1,', 15998) || '1 1]'$$),
			('no commas, 16001 elements', $$'[' || repeat('1 ', 16001) || ']'$$),
			('16001 commas, 1 element', $$'[1' || repeat(',', 16001) || ']'$$),
			('16000 elements, no bracket', $$'[' || repeat('1,', 15999) || '1'$$),
			('16000 elements, then junk', $$'[' || repeat('1,', 15999) || '1],'$$),
			('commas after the bracket', $$'[1]' || repeat(',', 20000)$$)) v(label, q)
ORDER BY 1, 2;

-- Type modifiers: 1..16000; anything else is 22023 (22003 beyond int4).
SELECT t AS type, m, pg_temp.try(format($$SELECT '[1]'::%s(%s)::text$$, t, m))
FROM unnest(ARRAY['vector', 'halfvec']) t,
	unnest(ARRAY['0', '-1', '16000', '16001', '2147483647', '-2147483648',
				 '2147483648', '1,2']) m
ORDER BY 1, 2;
CREATE TABLE lim_typmod (v vector(16001));
CREATE TABLE lim_typmod (v halfvec(0));

-- A value of the wrong dimension for the modifier names both sizes.
SELECT pg_temp.try($$SELECT vector_dims(('[' || repeat('1,', 15999) || '1]')::vector(15999))$$);
SELECT pg_temp.try($$SELECT vector_dims(('[' || repeat('1,', 15999) || '1]')::halfvec(16000))$$);

-- Array casts of every element type: 16000 is fine, 16001 is 54000, an
-- empty array 22000, values outside the element type's range 22003.
SELECT t AS type, e AS elem, n, pg_temp.try(format(
	$$SELECT vector_dims(array_fill(1::%s, ARRAY[%s])::%s)$$, e, n, t))
FROM unnest(ARRAY['vector', 'halfvec']) t,
	unnest(ARRAY['integer', 'real', 'double precision', 'numeric']) e,
	unnest(ARRAY[16000, 16001]) n
ORDER BY 1, 2, 3;
SELECT t AS type, pg_temp.try(format($$SELECT '{}'::real[]::%s::text$$, t)) AS empty,
	pg_temp.try(format($$SELECT '{1e300}'::float8[]::%s::text$$, t)) AS float8_huge,
	pg_temp.try(format($$SELECT '{1e39}'::numeric[]::%s::text$$, t)) AS numeric_huge,
	pg_temp.try(format($$SELECT '{{1,2},{3,4}}'::real[]::%s::text$$, t)) AS two_d,
	pg_temp.try(format($$SELECT '[2147483647:2147483647]={5}'::int[]::%s::text$$, t)) AS high_bound
FROM unnest(ARRAY['vector', 'halfvec']) t ORDER BY 1;
-- halfvec's own range: 65504 is the largest finite binary16 value.
SELECT pg_temp.try($$SELECT '{65504}'::real[]::halfvec::text$$),
	pg_temp.try($$SELECT '{65520}'::real[]::halfvec::text$$),
	pg_temp.try($$SELECT '{2147483647}'::int[]::halfvec::text$$),
	pg_temp.try($$SELECT '[3e38]'::vector::halfvec::text$$);

-- Concatenation beyond 16000 dimensions.
SELECT t AS type, a, b, pg_temp.try(format(
	$$SELECT vector_dims(array_fill(1, ARRAY[%s])::%s || array_fill(2, ARRAY[%s])::%s)$$,
	a, t, b, t))
FROM unnest(ARRAY['vector', 'halfvec']) t,
	(VALUES (8000, 8000), (8000, 8001), (16000, 1), (16000, 16000)) s(a, b)
ORDER BY 1, 2, 3;

-- subvector with extreme start and count: clipped like substring(), an
-- empty result is 22000, and no int32 overflow in start + count.
SELECT t AS type, s, c, pg_temp.try(format($$SELECT subvector('[1,2,3,4,5]'::%s, %s, %s)::text$$, t, s, c))
FROM unnest(ARRAY['vector', 'halfvec']) t,
	(VALUES (1, 5), (2, 2), (0, 2), (-5, 8), (4, 100),
			(2147483647, 2147483647), (2147483647, 1), (-2147483648, 2147483647),
			(-2147483648, -2147483648), (1, -2147483648), (1, 0), (6, 1),
			(1, 2147483647), (-2147483647, 2147483647)) v(s, c)
ORDER BY 1, 2, 3;
SELECT pg_temp.try($$SELECT vector_dims(subvector(array_fill(1, ARRAY[16000])::vector, 16000, 2147483647))$$),
	pg_temp.try($$SELECT vector_dims(subvector(array_fill(1, ARRAY[16000])::halfvec, -2147483648, 2147483647))$$);

-- Arithmetic that leaves the element type's range is an error, never an
-- infinity or a silent zero.
SELECT pg_temp.try($$SELECT ('[3e38]'::vector + '[3e38]')::text$$) AS add,
	pg_temp.try($$SELECT ('[-3e38]'::vector - '[3e38]')::text$$) AS sub,
	pg_temp.try($$SELECT ('[1e30]'::vector * '[1e30]')::text$$) AS mul,
	pg_temp.try($$SELECT ('[1e-30]'::vector * '[1e-30]')::text$$) AS mul_underflow;
SELECT pg_temp.try($$SELECT ('[60000]'::halfvec + '[60000]')::text$$) AS add,
	pg_temp.try($$SELECT ('[-60000]'::halfvec - '[60000]')::text$$) AS sub,
	pg_temp.try($$SELECT ('[300]'::halfvec * '[300]')::text$$) AS mul;
-- Norms and distances of huge finite values stay finite.
SELECT vector_norm('[3e38,3e38]') < 'Infinity'::float8 AS norm_finite,
	l2_normalize('[3e38,3e38]'::vector)::text AS normalized,
	'[3e38]'::vector <-> '[-3e38]' AS l2, '[3e38]'::vector <+> '[-3e38]' AS l1;
-- Tiny values: the sum of squares underflows float32 but the norm does not.
SELECT pg_temp.try($$SELECT l2_normalize('[1e-45,0]'::vector)::text$$) AS subnormal,
	vector_norm('[1e-23]') BETWEEN 0.999e-23 AND 1.001e-23 AS tiny_norm,
	l2_normalize('[1e-23,0]'::vector)::text AS tiny_normalized,
	l2_normalize('[0,0]'::vector)::text AS zero;

-- Aggregates: many rows of 16000 dimensions are fine; sums beyond the
-- element range are 22003; avg of huge values does not overflow.
SELECT vector_dims(avg(v)) AS dims, (avg(v)::real[])[16000] AS avg_last,
	(sum(v)::real[])[1] AS sum_first
FROM (SELECT array_fill(i::real, ARRAY[16000])::vector AS v FROM generate_series(1, 200) i) s;
SELECT vector_dims(avg(v)) AS dims, (avg(v)::real[])[1] AS avg_first
FROM (SELECT array_fill(i::real, ARRAY[16000])::halfvec AS v FROM generate_series(1, 200) i) s;
SELECT avg(v)::text AS avg_huge
FROM (SELECT '[3e38,-3e38]'::vector AS v FROM generate_series(1, 1000)) s;
SELECT pg_temp.try($$SELECT sum(v)::text FROM (SELECT '[3e38]'::vector AS v FROM generate_series(1, 2)) s$$) AS sum_vector,
	pg_temp.try($$SELECT sum(v)::text FROM (SELECT '[40000]'::halfvec AS v FROM generate_series(1, 2)) s$$) AS sum_halfvec,
	pg_temp.try($$SELECT avg(v)::text FROM (SELECT '[60000]'::halfvec AS v FROM generate_series(1, 3)) s$$) AS avg_halfvec;

-- The aggregate support functions are callable from SQL, so hostile
-- states must be rejected, not trusted.
SELECT f, pg_temp.try(format('SELECT %s::text', f))
FROM unnest(ARRAY[
	$$vector_avg('{}')$$, $$vector_avg('{0}')$$, $$vector_avg('{1}')$$,
	$$vector_avg('{-1,2}')$$, $$vector_avg('{NaN,2}')$$, $$vector_avg('{Infinity,2}')$$,
	$$vector_avg('{1e-320,1}')$$, $$vector_avg('{{1,2},{3,4}}')$$, $$vector_avg('{1,NULL}')$$,
	$$vector_avg('{2,NaN}')$$, $$vector_avg('{1,Infinity}')$$,
	$$vector_avg(array_fill(1::float8, ARRAY[16002]))$$,
	$$vector_accum('{1,2,3}', '[1]')$$, $$vector_accum('{0,5,5}', '[1,1]')$$,
	$$vector_combine('{1,2}', '{1,2,3}')$$, $$vector_combine('{0}', '{1,2}')$$,
	$$halfvec_avg('{1,1e10}')$$, $$halfvec_avg('{1,NaN}')$$,
	$$halfvec_accum('{1,2}', '[1,2]')$$, $$halfvec_combine('{1,2}', '{-1,2}')$$]) f;
