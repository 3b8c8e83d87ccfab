-- avg() and sum() over vector, including parallel aggregation
SET extra_float_digits = 0;

SELECT avg(v), sum(v) FROM (VALUES ('[1,2,3]'::vector), ('[3,4,5]'), ('[5,9,-2]')) t(v);
SELECT avg(v), sum(v) FROM (VALUES ('[1,2]'::vector), (NULL), ('[2,4]')) t(v);
-- no rows (or only NULLs): NULL
SELECT avg(v), sum(v) FROM (SELECT '[1]'::vector v WHERE false) t;
SELECT avg(v), sum(v) FROM (VALUES (NULL::vector)) t(v);
-- avg accumulates in double precision
SELECT avg(v) FROM (VALUES ('[16777216]'::vector), ('[1]'), ('[1]'), ('[0]')) t(v);
SELECT avg(v) FROM (VALUES ('[3e38]'::vector), ('[3e38]')) t(v);
-- sum accumulates in double precision too: exact for integers, and only a
-- final sum beyond float range is an error
SELECT sum(v) FROM (VALUES ('[16777216]'::vector), ('[1]'), ('[1]')) t(v);
SELECT sum(v) FROM (VALUES ('[3e38]'::vector), ('[3e38]'), ('[-3e38]')) t(v);
SELECT sum(v) FROM (VALUES ('[3e38]'::vector), ('[3e38]')) t(v);
SELECT sum(v) FROM (VALUES ('[-3e38]'::vector), ('[-3e38]')) t(v);
-- different dimensions
SELECT avg(v) FROM (VALUES ('[1,2]'::vector), ('[1,2,3]')) t(v);
SELECT sum(v) FROM (VALUES ('[1,2]'::vector), ('[1,2,3]')) t(v);
-- grouped
SELECT g, avg(v), sum(v) FROM (VALUES (1, '[1,1]'::vector), (2, '[2,2]'), (1, '[3,3]'), (2, '[4,8]')) t(g, v)
  GROUP BY g ORDER BY g;
-- as window aggregates (moving frames restart from the initial state)
SELECT i, avg(v) OVER w, sum(v) OVER w, avg(v) OVER (ORDER BY i)
  FROM (SELECT i, ARRAY[i, 10 * i]::vector v FROM generate_series(1, 5) i) t
  WINDOW w AS (ORDER BY i ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) ORDER BY i;
-- the support functions can be called directly; outside an aggregate they
-- leave their input state alone
SELECT vector_accum('{0}', '[1,2]'), vector_accum('{1,1,2}', '[1,2]'), vector_avg('{2,3,5}'), vector_sum('{2,3,5}');
WITH s(a) AS (SELECT '{1,1,2}'::float8[])
  SELECT vector_accum(a, '[1,2]'), vector_combine(a, a), a FROM s;
SELECT vector_sum('{0}');
SELECT vector_combine('{0}', '{1,1,2}'), vector_combine('{1,1,2}', '{0}'), vector_combine('{1,1,2}', '{2,3,4}');
SELECT vector_avg('{0}');
SELECT vector_combine('{1,1,2}', '{1,1}');
-- malformed states are errors, not crashes
SELECT vector_avg('{}');
SELECT vector_avg('{{1,2}}');
SELECT vector_avg('{-1,2}');
SELECT vector_accum('{1,NULL}', '[1]');
SELECT vector_avg('{1}');
SELECT vector_sum('{1,1e300}');

-- parallel aggregation gives the same answer
CREATE TABLE vagg (id int, v vector(3));
INSERT INTO vagg SELECT i, ARRAY[i, i % 7, -i]::vector FROM generate_series(1, 30000) i;
ANALYZE vagg;
SELECT avg(v), sum(v) FROM vagg;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT avg(v), sum(v) FROM vagg;
SELECT avg(v), sum(v) FROM vagg;
SELECT id % 3 AS g, avg(v) FROM vagg GROUP BY 1 ORDER BY 1;
RESET ALL;
SELECT proname, proparallel FROM pg_proc WHERE proname IN ('avg', 'sum')
  AND proargtypes[0] = 'vector'::regtype ORDER BY 1;
SELECT aggfnoid::regprocedure, aggcombinefn, agginitval FROM pg_aggregate
  WHERE aggfnoid IN ('avg(vector)'::regprocedure, 'sum(vector)'::regprocedure) ORDER BY aggfnoid::regprocedure::text;
DROP TABLE vagg;
