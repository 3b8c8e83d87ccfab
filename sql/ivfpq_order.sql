-- ivfpq_order: what an ordered ivfpq scan returns, checked against a
-- sequential scan of the same query (issue 12).  Under the default
-- ivfpq.iterative_scan = strict_order a scan is complete (every matching
-- row once) and ordered but for at most one step back, after which the
-- rows are exactly the nearest of those not returned before it; with
-- ivfpq.exact_order = on its distances equal, in order, the sequential
-- scan's for any LIMIT.  relaxed_order returns every row.  NULL and zero
-- queries return the indexed rows; vectors too long for float32 are
-- refused; scans are counted.
SET client_min_messages = notice;
SET enable_bitmapscan = off;

-- chk(query): query selects t (ctid) and d (the distance), ORDER BY d, and
-- may end in LIMIT n.  Checked through the index, for each mode:
--   default (exact_order off): as many rows as the sequential scan (up to
--     the LIMIT), each a matching row and returned once; distances
--     non-decreasing but for at most one step back; the rows after a step
--     have exactly the distances of the nearest rows not returned before it;
--   exact_order = on: the distances equal, in order, the sequential scan's.
-- 'ok' when both hold, else what failed.  Fails if no index scan is planned.
CREATE FUNCTION chk(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  lim int := substring(q FROM '\s+LIMIT\s+(\d+)\s*$')::int;
  qall text := regexp_replace(q, '\s+LIMIT\s+\d+\s*$', '');
  ta tid[]; da float8[]; tb tid[]; db float8[]; rest float8[];
  line text; used bool := false; n int; nb int; s int := 0; i int;
BEGIN
  SET LOCAL enable_seqscan = off;
  SET LOCAL enable_indexscan = on;
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
    used := used OR line ~ 'Index Scan using';
  END LOOP;
  IF NOT used THEN RETURN 'no index scan'; END IF;
  SET LOCAL ivfpq.exact_order = off;
  EXECUTE 'SELECT coalesce(array_agg(t), ''{}''), coalesce(array_agg(d), ''{}'') FROM (' || q || ') x'
    INTO ta, da;
  SET LOCAL ivfpq.exact_order = on;
  EXECUTE 'SELECT coalesce(array_agg(d), ''{}'') FROM (' || q || ') x' INTO rest;
  SET LOCAL ivfpq.exact_order = off;
  SET LOCAL enable_seqscan = on;
  SET LOCAL enable_indexscan = off;
  EXECUTE 'SELECT coalesce(array_agg(t), ''{}''), coalesce(array_agg(d), ''{}'') FROM (' || qall || ') x'
    INTO tb, db;
  n := cardinality(da);
  nb := least(cardinality(db), coalesce(lim, cardinality(db)));
  IF rest IS DISTINCT FROM db[1:nb] THEN
    RETURN format('exact: index %s rows, seqscan %s', cardinality(rest), nb);
  END IF;
  IF n <> nb THEN
    RETURN format('default: index %s rows, seqscan %s', n, nb);
  END IF;
  IF EXISTS (SELECT unnest(ta) EXCEPT ALL SELECT unnest(tb)) THEN
    RETURN 'default: a row twice or not matching';
  END IF;
  FOR i IN 2 .. n LOOP
    IF da[i] < da[i - 1] THEN
      IF s > 0 THEN RETURN format('default: steps back at rows %s and %s', s, i); END IF;
      s := i;
    END IF;
  END LOOP;
  IF s > 0 THEN
    SELECT array_agg(d ORDER BY d) INTO rest
    FROM (SELECT unnest(db) d EXCEPT ALL SELECT unnest(da[1:s - 1])) x;
    IF rest[1:n - s + 1] IS DISTINCT FROM da[s:n] THEN
      RETURN format('default: after the step back at row %s, not the nearest rows left', s);
    END IF;
  END IF;
  RETURN 'ok';
END $$;

-- cursor_run(query, step): the index scan's distances fetched through a
-- cursor one row at a time, moving "step" rows between fetches (the rows
-- moved over are NULL in the result).
CREATE FUNCTION cursor_run(q text, step int) RETURNS float8[] LANGUAGE plpgsql AS $$
DECLARE
  c refcursor; d float8; a float8[] := '{}'; moved int;
BEGIN
  SET LOCAL enable_seqscan = off;
  OPEN c NO SCROLL FOR EXECUTE q;
  LOOP
    FETCH c INTO d;
    EXIT WHEN NOT FOUND;
    a := a || d;
    IF step > 0 THEN
      MOVE FORWARD step IN c;
      GET DIAGNOSTICS moved = ROW_COUNT;
      a := a || array_fill(NULL::float8, ARRAY[moved]);
    END IF;
  END LOOP;
  CLOSE c;
  RETURN a;
END $$;

-- cursor_cmp(query, step): cursor_run compared with the sequential scan:
-- by default the same number of rows, the fetched ones with at most one
-- step back; with exact_order the same distances at the fetched rows.
CREATE FUNCTION cursor_cmp(q text, step int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  a float8[]; b float8[]; f float8[]; i int; steps int := 0;
BEGIN
  SET LOCAL ivfpq.exact_order = off;
  a := cursor_run(q, step);
  SET LOCAL enable_seqscan = on;
  SET LOCAL enable_indexscan = off;
  EXECUTE 'SELECT array_agg(CASE WHEN (o - 1) % ' || (step + 1) || ' = 0 THEN d END) FROM (SELECT d, row_number() OVER () o FROM (' || q || ') x) y' INTO b;
  SET LOCAL enable_indexscan = on;
  f := ARRAY(SELECT x FROM unnest(a) x WHERE x IS NOT NULL);
  FOR i IN 2 .. cardinality(f) LOOP
    IF f[i] < f[i - 1] THEN steps := steps + 1; END IF;
  END LOOP;
  IF cardinality(a) <> cardinality(b) OR steps > 1 THEN
    RETURN format('default: cursor %s rows, seqscan %s, %s steps back', cardinality(a), cardinality(b), steps);
  END IF;
  SET LOCAL ivfpq.exact_order = on;
  a := cursor_run(q, step);
  SET LOCAL ivfpq.exact_order = off;
  RETURN CASE WHEN a = b THEN 'ok' ELSE format('exact: cursor %s rows, seqscan %s', cardinality(a), cardinality(b)) END;
END $$;

-- The issue's table: an integer grid with many exact ties.
CREATE TABLE s (id int, label int, v vector(3));
INSERT INTO s SELECT g, g % 30, ARRAY[g % 7, g % 11, g % 13]::vector FROM generate_series(1, 3000) g;
CREATE INDEX s_p ON s USING ivfpq (v vector_l2_ops) WITH (lists = 8);
ANALYZE s;
SHOW ivfpq.iterative_scan;
SHOW ivfpq.exact_order;
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM s ORDER BY v <-> '[1,2,3]') x;
SELECT count(*) FROM (SELECT id FROM s WHERE label = 3 ORDER BY v <-> '[1,2,3]' LIMIT 100) x;
SELECT count(*) FROM (SELECT id FROM s WHERE label = 3 ORDER BY v <-> '[5,5,5]' LIMIT 100) x;
SET ivfpq.exact_order = on;
SELECT count(*) FROM (SELECT id FROM s ORDER BY v <-> '[1,2,3]') x;
SELECT count(*) FROM (SELECT id FROM s WHERE label = 3 ORDER BY v <-> '[5,5,5]' LIMIT 100) x;
RESET ivfpq.exact_order;
RESET enable_seqscan;

SELECT q, chk(format('SELECT ctid t, v <-> %L d FROM s ORDER BY v <-> %L', q, q)) AS all_rows,
       chk(format('SELECT ctid t, v <-> %L d FROM s ORDER BY v <-> %L LIMIT 200', q, q)) AS lim200,
       chk(format('SELECT ctid t, v <-> %L d FROM s WHERE label = 3 ORDER BY v <-> %L LIMIT 100', q, q)) AS filtered,
       chk(format('SELECT ctid t, v <-> %L d FROM s WHERE label < 2 ORDER BY v <-> %L LIMIT 7', q, q)) AS lim7
FROM unnest(ARRAY['[1,2,3]', '[5,5,5]', '[0,0,0]', '[3.5,-1,20]']) q;
SET ivfpq.probes = 2;
SELECT q, chk(format('SELECT ctid t, v <-> %L d FROM s ORDER BY v <-> %L', q, q)) AS all_rows,
       chk(format('SELECT ctid t, v <-> %L d FROM s ORDER BY v <-> %L LIMIT 200', q, q)) AS lim200,
       chk(format('SELECT ctid t, v <-> %L d FROM s WHERE label = 3 ORDER BY v <-> %L LIMIT 100', q, q)) AS filtered,
       chk(format('SELECT ctid t, v <-> %L d FROM s WHERE label < 2 ORDER BY v <-> %L LIMIT 7', q, q)) AS lim7
FROM unnest(ARRAY['[1,2,3]', '[5,5,5]', '[0,0,0]', '[3.5,-1,20]']) q;
SET ivfpq.probes = 5;
SELECT q, chk(format('SELECT ctid t, v <-> %L d FROM s ORDER BY v <-> %L', q, q)) AS all_rows,
       chk(format('SELECT ctid t, v <-> %L d FROM s ORDER BY v <-> %L LIMIT 200', q, q)) AS lim200,
       chk(format('SELECT ctid t, v <-> %L d FROM s WHERE label = 3 ORDER BY v <-> %L LIMIT 100', q, q)) AS filtered,
       chk(format('SELECT ctid t, v <-> %L d FROM s WHERE label < 2 ORDER BY v <-> %L LIMIT 7', q, q)) AS lim7
FROM unnest(ARRAY['[1,2,3]', '[5,5,5]', '[0,0,0]', '[3.5,-1,20]']) q;
RESET ivfpq.probes;

-- LIMIT 1, more than the matches, cursors
SELECT chk('SELECT ctid t, v <-> ''[6,10,12]'' d FROM s ORDER BY v <-> ''[6,10,12]'' LIMIT 1') AS lim1,
       chk('SELECT ctid t, v <-> ''[2,2,2]'' d FROM s WHERE label = 7 ORDER BY v <-> ''[2,2,2]'' LIMIT 500') AS lim_over,
       cursor_cmp('SELECT v <-> ''[4,4,4]'' d FROM s ORDER BY v <-> ''[4,4,4]''', 0) AS cursor1,
       cursor_cmp('SELECT v <-> ''[4,9,1]'' d FROM s WHERE label % 3 = 0 ORDER BY v <-> ''[4,9,1]''', 6) AS cursor7;

-- The budget: one list probed one by one, then the exact pass
SET ivfpq.max_probes = 1;
SELECT chk('SELECT ctid t, v <-> ''[1,2,3]'' d FROM s ORDER BY v <-> ''[1,2,3]''') AS max_probes_1,
       chk('SELECT ctid t, v <-> ''[1,2,3]'' d FROM s WHERE label = 3 ORDER BY v <-> ''[1,2,3]'' LIMIT 50') AS max_probes_1_filter;
RESET ivfpq.max_probes;
-- Under strict_order the rerank cap only starts the next round early
-- (nothing is dropped); exact_order ignores it
SET ivfpq.rerank = 5;
SELECT chk('SELECT ctid t, v <-> ''[1,2,3]'' d FROM s ORDER BY v <-> ''[1,2,3]'' LIMIT 300') AS rerank_strict;
-- relaxed_order returns every row, with or without a cap or a budget
SET ivfpq.iterative_scan = relaxed_order;
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM s ORDER BY v <-> '[1,2,3]') x;
SET ivfpq.max_probes = 2;
RESET ivfpq.rerank;
SELECT count(*) FROM (SELECT id FROM s WHERE label = 3 ORDER BY v <-> '[5,5,5]' LIMIT 100) x;
SELECT count(*) FROM (SELECT id FROM s ORDER BY v <-> '[5,5,5]') x;
RESET ivfpq.max_probes;
RESET ivfpq.iterative_scan;
RESET enable_seqscan;

-- A multicolumn index filtering in the index
CREATE INDEX s_pl ON s USING ivfpq (v vector_l2_ops, label) WITH (lists = 8);
SELECT chk('SELECT ctid t, v <-> ''[5,5,5]'' d FROM s WHERE label = 3 ORDER BY v <-> ''[5,5,5]'' LIMIT 100') AS in_index,
       chk('SELECT ctid t, v <-> ''[0,10,6]'' d FROM s WHERE label > 25 ORDER BY v <-> ''[0,10,6]''') AS in_index_all;
DROP INDEX s_pl;

-- Rows inserted after the build, far from every centroid: their lists'
-- radii grow with them.
INSERT INTO s SELECT 10000 + g, g % 30, ARRAY[40 + g % 3, -30, g % 5]::vector FROM generate_series(1, 60) g;
SELECT chk('SELECT ctid t, v <-> ''[30,-20,2]'' d FROM s ORDER BY v <-> ''[30,-20,2]'' LIMIT 80') AS inserted,
       chk('SELECT ctid t, v <-> ''[1,2,3]'' d FROM s ORDER BY v <-> ''[1,2,3]''') AS inserted_all;
SELECT vecx_index_check('s_p', true);

-- Exact duplicates, and the other operator classes on the grid
CREATE TABLE dup (id int, v vector(4));
INSERT INTO dup SELECT g, CASE WHEN g % 4 = 0 THEN '[1,1,1,1]'::vector
  ELSE ARRAY[g % 3, g % 2, 1, (g % 5) * 0.5]::vector END
FROM generate_series(1, 1000) g;
CREATE INDEX dup_p ON dup USING ivfpq (v vector_l2_ops) WITH (lists = 5);
CREATE INDEX dup_ip ON dup USING ivfpq (v vector_ip_ops) WITH (lists = 5);
SELECT chk('SELECT ctid t, v <-> ''[1,1,1,1]'' d FROM dup ORDER BY v <-> ''[1,1,1,1]'' LIMIT 400') AS dup_l2,
       chk('SELECT ctid t, v <#> ''[1,-1,0.5,2]'' d FROM dup ORDER BY v <#> ''[1,-1,0.5,2]'' LIMIT 300') AS dup_ip;
DROP TABLE dup;

CREATE INDEX s_ip ON s USING ivfpq (v vector_ip_ops) WITH (lists = 8);
CREATE INDEX s_cos ON s USING ivfpq (v vector_cosine_ops) WITH (lists = 8);
SELECT q, chk(format('SELECT ctid t, v <#> %L d FROM s ORDER BY v <#> %L', q, q)) AS ip_all,
       chk(format('SELECT ctid t, v <#> %L d FROM s WHERE label = 4 ORDER BY v <#> %L LIMIT 40', q, q)) AS ip_filtered,
       chk(format('SELECT ctid t, v <=> %L d FROM s WHERE v <> ''[0,0,0]'' ORDER BY v <=> %L', q, q)) AS cos_all,
       chk(format('SELECT ctid t, v <=> %L d FROM s WHERE label = 4 ORDER BY v <=> %L LIMIT 40', q, q)) AS cos_filtered
FROM unnest(ARRAY['[1,2,3]', '[-1,0.5,0]', '[6,0,0]']) q;

-- halfvec
CREATE TABLE h (id int, label int, v halfvec(3));
INSERT INTO h SELECT id, label, v::halfvec FROM s;
CREATE INDEX h_p ON h USING ivfpq (v halfvec_l2_ops) WITH (lists = 6);
CREATE INDEX h_cos ON h USING ivfpq (v halfvec_cosine_ops) WITH (lists = 6);
SELECT chk('SELECT ctid t, v <-> ''[1,2,3]'' d FROM h ORDER BY v <-> ''[1,2,3]''') AS h_l2,
       chk('SELECT ctid t, v <-> ''[2.5,7,0]'' d FROM h WHERE label = 9 ORDER BY v <-> ''[2.5,7,0]'' LIMIT 60') AS h_l2_filtered,
       chk('SELECT ctid t, v <=> ''[1,2,3]'' d FROM h WHERE label < 10 AND v <> ''[0,0,0]'' ORDER BY v <=> ''[1,2,3]'' LIMIT 500') AS h_cos;
DROP TABLE h;

-- Random vectors, 16 dimensions, 4-bit and 8-bit codes
CREATE TABLE r (id int, label int, v vector(16));
SELECT setseed(0.42);
INSERT INTO r SELECT g, g % 50, (SELECT array_agg(random()::real) FROM generate_series(1, 16) WHERE g > 0)::vector
FROM generate_series(1, 3000) g;
CREATE INDEX r_p ON r USING ivfpq (v vector_l2_ops) WITH (lists = 20);
CREATE INDEX r_p8 ON r USING ivfpq (v vector_cosine_ops) WITH (lists = 20, pq_m = 4, pq_bits = 8);
SELECT q, chk(format('SELECT ctid t, v <-> (SELECT v FROM r WHERE id = %s) d FROM r ORDER BY v <-> (SELECT v FROM r WHERE id = %s) LIMIT 10', q, q)) AS r10,
       chk(format('SELECT ctid t, v <-> (SELECT v FROM r WHERE id = %s) d FROM r WHERE label < 5 ORDER BY v <-> (SELECT v FROM r WHERE id = %s) LIMIT 100', q, q)) AS r_filtered,
       chk(format('SELECT ctid t, v <=> (SELECT v FROM r WHERE id = %s) d FROM r WHERE label < 25 ORDER BY v <=> (SELECT v FROM r WHERE id = %s) LIMIT 500', q, q)) AS r_cos8
FROM unnest(ARRAY[1, 123, 2500]) q;

-- The cost model charges the lists exact_order reads to certify the order
-- (compared at 10 of 20 lists, where the scan without it misses little:
-- at fewer probes the misses it is charged outweigh those lists, see
-- ivfpq_cost)
CREATE FUNCTION startup_cost(q text, exact bool) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE j json;
BEGIN
  PERFORM set_config('ivfpq.exact_order', exact::text, true);
  EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO j;
  PERFORM set_config('ivfpq.exact_order', 'off', true);
  RETURN (j -> 0 -> 'Plan' ->> 'Startup Cost')::float8;
END $$;
SET enable_seqscan = off;
SET ivfpq.probes = 10;
SELECT startup_cost(q, true) > startup_cost(q, false) AS exact_costlier
FROM (VALUES ('SELECT id FROM r ORDER BY v <-> ''[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]'' LIMIT 10')) x(q);
RESET ivfpq.probes;
RESET enable_seqscan;
DROP FUNCTION startup_cost(text, bool);

-- NULL and zero queries return every indexed row (their distances are all
-- NULL or NaN, so any order)
SET enable_seqscan = off;
SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM s ORDER BY v <=> '[0,0,0]' LIMIT 10) x;
SELECT count(*) FROM (SELECT id FROM s ORDER BY v <=> '[0,0,0]') x;
SELECT count(*) FROM (SELECT id FROM s WHERE v <> '[0,0,0]') x;
SET plan_cache_mode = force_generic_plan;
PREPARE p(vector) AS SELECT count(*) FROM (SELECT id FROM s ORDER BY v <-> $1 LIMIT 10) x;
EXPLAIN (COSTS OFF) EXECUTE p(NULL);
EXECUTE p(NULL);
PREPARE pall(vector) AS SELECT count(*), count(d) FROM (SELECT id, v <-> $1 d FROM s WHERE label = 1 ORDER BY v <-> $1) x;
EXECUTE pall(NULL);
EXECUTE pall('[1,1,1]');
PREPARE pcos(vector) AS SELECT count(*) FROM (SELECT id FROM s ORDER BY v <=> $1) x;
EXECUTE pcos(NULL);
EXECUTE pcos('[0,0,0]');
RESET plan_cache_mode;
RESET enable_seqscan;

-- Vectors too long for float32 arithmetic are refused, not stored as
-- (falsely) corrupt entries; long queries still scan, in exact order.
CREATE TABLE big (id int, v vector(2));
INSERT INTO big VALUES (1, '[3e38,-3e38]'), (2, '[1,2]'), (3, '[2,1]');
CREATE INDEX ON big USING ivfpq (v vector_l2_ops) WITH (lists = 1);
CREATE INDEX ON big USING ivfpq (v vector_cosine_ops) WITH (lists = 1);
TRUNCATE big;
INSERT INTO big VALUES (2, '[1,2]'), (3, '[2,1]');
INSERT INTO big SELECT g, ARRAY[g * 1e13, -g * 1e13]::vector FROM generate_series(4, 40) g;
CREATE INDEX big_l2 ON big USING ivfpq (v vector_l2_ops) WITH (lists = 2);
CREATE INDEX big_ip ON big USING ivfpq (v vector_ip_ops) WITH (lists = 2);
CREATE INDEX big_cos ON big USING ivfpq (v vector_cosine_ops) WITH (lists = 2);
INSERT INTO big VALUES (100, '[3e38,-3e38]');
INSERT INTO big VALUES (100, '[1e16,0]');
SELECT vecx_index_check('big_l2', true), vecx_index_check('big_ip', true), vecx_index_check('big_cos', true);
SELECT q, chk(format('SELECT ctid t, v <-> %L d FROM big ORDER BY v <-> %L', q, q)) AS l2,
       chk(format('SELECT ctid t, v <#> %L d FROM big ORDER BY v <#> %L', q, q)) AS ip,
       chk(format('SELECT ctid t, v <=> %L d FROM big ORDER BY v <=> %L', q, q)) AS cos
FROM unnest(ARRAY['[1,1]', '[3e38,-3e38]', '[-3e38,3e38]', '[2e13,-1e13]']) q;
DROP TABLE big;

-- Index scans are counted like PostgreSQL's own access methods'
CREATE TABLE st (id int, v vector(2));
INSERT INTO st SELECT g, ARRAY[g % 10, g % 7]::vector FROM generate_series(1, 200) g;
CREATE INDEX st_p ON st USING ivfpq (v vector_l2_ops) WITH (lists = 2);
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM st ORDER BY v <-> '[1,1]' LIMIT 5) x;
SELECT count(*) FROM (SELECT id FROM st ORDER BY v <-> '[2,1]' LIMIT 5) x;
SELECT count(*) FROM (SELECT id FROM st ORDER BY v <-> '[3,1]') x;
RESET enable_seqscan;
SELECT pg_stat_force_next_flush();
SELECT pg_stat_clear_snapshot();
SELECT idx_scan, idx_tup_read >= 210 AS tup_read FROM pg_stat_user_indexes WHERE indexrelname = 'st_p';
DROP TABLE st;

DROP TABLE s, r;
DROP FUNCTION chk(text), cursor_cmp(text, int), cursor_run(text, int);
