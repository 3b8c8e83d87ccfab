-- explain_search: EXPLAIN ANALYZE says how each vecx index scan searched
-- (vecxexplain.c): a "Vector Search:" line under every hnsw, ivfpq and
-- ivfflat index scan, in text format only.

CREATE TABLE es (id int, a int, v vector(4));
INSERT INTO es SELECT i, i % 100,
  ARRAY[sin(i), cos(i * 1.3), sin(i * 0.7), cos(i * 2.1)]::vector
  FROM generate_series(1, 5000) i;
CREATE INDEX es_v_a ON es USING hnsw (v vector_l2_ops, a);
ANALYZE es;

-- the plan's text with the counts that depend on the graph masked
CREATE FUNCTION es_explain(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE l text;
BEGIN
  FOR l IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
    RETURN NEXT regexp_replace(l, '(=|: )[0-9]+', '\1N', 'g');
  END LOOP;
END $$;

SET enable_seqscan = off;
SET enable_bitmapscan = off;
-- a graph walk
SELECT * FROM es_explain($$SELECT id FROM es ORDER BY v <-> '[0.1,0.2,0.3,0.4]' LIMIT 5$$);
-- a selective filter: the filter map's exact pass
SELECT * FROM es_explain($$SELECT id FROM es WHERE a = 7 ORDER BY v <-> '[0.1,0.2,0.3,0.4]' LIMIT 5$$);
-- loops: counted per strategy
SELECT * FROM es_explain($$SELECT g, (SELECT id FROM es WHERE a = g ORDER BY v <-> '[0,0,0,0]' LIMIT 1)
  FROM generate_series(1, 3) g$$);

-- a plain index under a table filter, its walk's budget too small:
-- further batches, then the exact pass
CREATE INDEX es_v ON es USING hnsw (v vector_l2_ops);
DROP INDEX es_v_a;
SET hnsw.max_scan_tuples = 10;
SELECT * FROM es_explain($$SELECT id FROM es WHERE id % 7 = 0 ORDER BY v <-> '[0.1,0.2,0.3,0.4]' LIMIT 30$$);
RESET hnsw.max_scan_tuples;
DROP INDEX es_v;

-- ivfpq and ivfflat
CREATE INDEX es_pq ON es USING ivfpq (v vector_l2_ops) WITH (lists = 8, pq_m = 2);
SET ivfpq.probes = 2;
SELECT * FROM es_explain($$SELECT id FROM es ORDER BY v <-> '[0.1,0.2,0.3,0.4]' LIMIT 5$$);
DROP INDEX es_pq;
CREATE INDEX es_flat ON es USING ivfflat (v vector_l2_ops) WITH (lists = 8);
SET ivfflat.probes = 2;
SELECT * FROM es_explain($$SELECT id FROM es ORDER BY v <-> '[0.1,0.2,0.3,0.4]' LIMIT 5$$);

-- a query run inside the explained one (a function's) gets no line of its
-- own; the explained query's scans keep theirs
CREATE FUNCTION es_inner() RETURNS int LANGUAGE plpgsql AS $$
DECLARE r int;
BEGIN
  SELECT id INTO r FROM es ORDER BY v <-> '[0,0,0,0]' LIMIT 1;
  RETURN r;
END $$;
SELECT * FROM es_explain($$SELECT es_inner() > 0 AS inner_ok, id FROM es ORDER BY v <-> '[0.1,0.2,0.3,0.4]' LIMIT 2$$);

-- other formats and plain EXPLAIN are as PostgreSQL prints them
EXPLAIN (COSTS OFF) SELECT id FROM es ORDER BY v <-> '[0.1,0.2,0.3,0.4]' LIMIT 5;
CREATE FUNCTION es_json(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE j json;
BEGIN
  EXECUTE 'EXPLAIN (ANALYZE, FORMAT JSON) ' || q INTO j;
  RETURN j::text;
END $$;
SELECT j LIKE '%Vector Search%' AS json_names_it, j LIKE '%"Index Name": "es_flat"%' AS json_index_name
  FROM es_json($$SELECT id FROM es ORDER BY v <-> '[0.1,0.2,0.3,0.4]' LIMIT 5$$) j;
