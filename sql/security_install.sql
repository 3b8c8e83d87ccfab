-- security_install: the install script and the catalog entries it creates.
--
-- 1. Lint of every installed vecx--*.sql script: no SECURITY DEFINER, no
--    CREATE OR REPLACE, no search_path changes.  Scripts of the fixed-schema
--    version (0.1.0): every object created and every function or operator
--    referenced is qualified with @extschema@.  Scripts of relocatable
--    versions (0.2.0 on): no @extschema@ at all (PostgreSQL leaves it
--    unsubstituted there) and no schema named but pg_catalog; they run with
--    search_path = the target schema alone, and part 2 checks that every
--    reference resolved to the extension or pg_catalog.
-- 2. In a separate database, with decoy functions and operators earlier in
--    search_path than the extension, CREATE EXTENSION vecx SCHEMA vec:
--    the catalogs must show every member in the extension's schema, no
--    SECURITY DEFINER, STRICT C functions, no mutable search_path
--    dependencies, and every reference (operator functions, aggregate
--    support, casts, type I/O, operator classes) resolving to the
--    extension itself or pg_catalog.  The objects must work with the
--    hostile search_path and never call a decoy.
-- 3. A non-superuser can use the types and functions.

-- ---- 1. install script lint -------------------------------------------

CREATE TEMP TABLE script_lines AS
SELECT f AS script, v.relocatable, n, line
FROM (SELECT setting || '/extension' AS dir FROM pg_config WHERE name = 'SHAREDIR') d,
	pg_ls_dir(d.dir) f
	-- the version a script installs or updates to decides its rules
	JOIN pg_available_extension_versions v
		ON v.name = 'vecx' AND v.version = substring(f FROM '([^-]+)\.sql$'),
	regexp_split_to_table(pg_read_file(d.dir || '/' || f), E'\n') WITH ORDINALITY AS l(line, n)
WHERE f ~ '^vecx--.*\.sql$';

-- The lint reads something: every script, each with its rules; the
-- fixed-schema script references @extschema@ a lot, the others never.
SELECT f AS script, v.relocatable,
	count(l.line) FILTER (WHERE l.line ~ '@extschema@\.') > 100 AS many_qualified_lines,
	count(l.line) FILTER (WHERE l.line ~ '@extschema@') AS extschema_lines
FROM (SELECT setting || '/extension' AS dir FROM pg_config WHERE name = 'SHAREDIR') d,
	pg_ls_dir(d.dir) f
	LEFT JOIN pg_available_extension_versions v
		ON v.name = 'vecx' AND v.version = substring(f FROM '([^-]+)\.sql$')
	LEFT JOIN script_lines l ON l.script = f
WHERE f ~ '^vecx--.*\.sql$'
GROUP BY 1, 2 ORDER BY 1;

-- Violations (comment lines are skipped; each should list nothing).
SELECT script, n, line, problem FROM (
	SELECT script, n, line, CASE
		WHEN line ~* 'security\s+definer' THEN 'SECURITY DEFINER'
		WHEN line ~* 'create\s+or\s+replace' THEN 'CREATE OR REPLACE can take over an existing object'
		WHEN line ~* '(^|\s)set\s+(local\s+)?search_path|set_config\s*\(\s*''search_path' THEN 'changes search_path'
		WHEN line ~* '\m(pg_read_file|pg_read_binary_file|pg_ls_dir|lo_import|lo_export|copy\s+\w+\s+(from|to)\s+''|dblink|pg_stat_file)\M'
			THEN 'touches server files'
		-- fixed schema: everything qualified with @extschema@
		WHEN relocatable THEN NULL
		WHEN line ~* '^\s*create\s+(function|procedure|type|operator|aggregate|operator\s+class|operator\s+family|domain|table|view|sequence)\s'
			AND line !~* '^\s*create\s+(function|procedure|type|operator|aggregate|operator\s+class|operator\s+family|domain|table|view|sequence)\s+@extschema@\.'
			THEN 'object created without @extschema@'
		WHEN line ~* '\m(function|procedure|sfunc|finalfunc|combinefunc|serialfunc|deserialfunc|msfunc|minvfunc|mfinalfunc|input|output|receive|send|typmod_in|typmod_out|analyze|subscript|handler)\s*=\s*(?!\s|@extschema@\.)'
			THEN 'function reference without @extschema@'
		WHEN line ~* '\mwith\s+function\s+(?!\s|@extschema@\.)' THEN 'cast function without @extschema@'
		WHEN line ~* '\mhandler\s+(?!\s|@extschema@\.)\w' THEN 'access method handler without @extschema@'
		WHEN line ~* '\m(commutator|negator)\s*=\s*(?!\s|operator\s*\(\s*@extschema@\.)' THEN 'operator reference without OPERATOR(@extschema@.)'
		WHEN line ~* '^\s*(operator|function)\s+\d+\s+(?!\s|@extschema@\.|pg_catalog\.)' THEN 'opclass member without @extschema@'
	END AS problem
	FROM script_lines
	WHERE line !~ '^\s*--'
	UNION ALL
	-- relocatable: no placeholder, and no schema named but pg_catalog
	-- (string literals and trailing comments aside)
	SELECT script, n, line, CASE
		WHEN line ~ '@extschema@' THEN '@extschema@ in a relocatable script'
		WHEN regexp_replace(regexp_replace(regexp_replace(line, '''[^'']*''', '''''', 'g'),
				'--.*$', ''), '\mpg_catalog\s*\.', '', 'gi')
			~* '(^|[^a-z0-9_$."])("[^"]+"|[a-z_][a-z0-9_$]*)\s*\.\s*("|[a-z_<>=!~#%+*/@^&|?-])'
			THEN 'names a schema other than pg_catalog in a relocatable script'
	END
	FROM script_lines
	WHERE relocatable AND line !~ '^\s*--'
) v WHERE problem IS NOT NULL ORDER BY 1, 2;

-- ---- 2. hostile search_path, extension in a non-public schema ----------

\set origdb :DBNAME
-- (leftovers of an interrupted run)
SET client_min_messages = warning;
DROP DATABASE IF EXISTS regress_vecx_security;
DROP ROLE IF EXISTS regress_vecx_user;
RESET client_min_messages;
CREATE DATABASE regress_vecx_security;
\c regress_vecx_security

CREATE SCHEMA decoy;
CREATE SCHEMA vec;
CREATE TABLE decoy.calls (fn text);

-- Decoys: polymorphic look-alikes of vecx's functions and operators, which
-- would be picked by any unqualified reference that failed to match
-- exactly, and which record that they were called.
DO $do$
DECLARE
	f text;
BEGIN
	FOREACH f IN ARRAY ARRAY['l2_distance', 'inner_product', 'cosine_distance',
		'l1_distance', 'vector_add', 'vector_sub', 'vector_mul', 'vector_concat',
		'vector_lt', 'vector_le', 'vector_eq', 'vector_ne', 'vector_ge', 'vector_gt',
		'vector_cmp', 'vector_negative_inner_product', 'halfvec_add', 'halfvec_sub',
		'halfvec_mul', 'halfvec_concat', 'halfvec_negative_inner_product',
		'halfvec_lt', 'halfvec_le', 'halfvec_eq', 'halfvec_ne', 'halfvec_ge',
		'halfvec_gt', 'halfvec_cmp', 'sparsevec_negative_inner_product',
		'sparsevec_l2_squared_distance', 'sparsevec_lt', 'sparsevec_le',
		'sparsevec_eq', 'sparsevec_ne', 'sparsevec_ge', 'sparsevec_gt',
		'sparsevec_cmp', 'hamming_distance', 'jaccard_distance']
	LOOP
		EXECUTE format($f$CREATE FUNCTION decoy.%I(anyelement, anyelement) RETURNS float8
			LANGUAGE plpgsql AS $b$BEGIN INSERT INTO decoy.calls VALUES (%L); RETURN 42; END$b$$f$, f, f);
	END LOOP;
	FOREACH f IN ARRAY ARRAY['vector_accum', 'halfvec_accum', 'vector_combine',
		'halfvec_combine']
	LOOP
		EXECUTE format($f$CREATE FUNCTION decoy.%I(float8[], anyelement) RETURNS float8[]
			LANGUAGE plpgsql AS $b$BEGIN INSERT INTO decoy.calls VALUES (%L); RETURN $1; END$b$$f$, f, f);
	END LOOP;
	FOREACH f IN ARRAY ARRAY['vector_avg', 'halfvec_avg', 'vector_dims',
		'vector_norm', 'l2_norm', 'l2_normalize', 'binary_quantize']
	LOOP
		EXECUTE format($f$CREATE FUNCTION decoy.%I(anyelement) RETURNS float8
			LANGUAGE plpgsql AS $b$BEGIN INSERT INTO decoy.calls VALUES (%L); RETURN 42; END$b$$f$, f, f);
	END LOOP;
	FOREACH f IN ARRAY ARRAY['<->', '<#>', '<=>', '<+>', '+', '-', '*', '||',
		'<', '<=', '=', '<>', '>=', '>', '<~>', '<%>']
	LOOP
		EXECUTE format('CREATE OPERATOR decoy.%s (LEFTARG = anyelement, RIGHTARG = anyelement, FUNCTION = decoy.l2_distance)', f);
	END LOOP;
END
$do$;
CREATE AGGREGATE decoy.avg(anyelement) (SFUNC = decoy.vector_accum, STYPE = float8[], INITCOND = '{0}');
CREATE AGGREGATE decoy.sum(anyelement) (SFUNC = decoy.vector_accum, STYPE = float8[], INITCOND = '{0}');

-- Install with the decoys first in search_path.
SET search_path = decoy, vec, public;
CREATE EXTENSION vecx SCHEMA vec;
SELECT extname, extnamespace::regnamespace, extrelocatable FROM pg_extension WHERE extname = 'vecx';
-- Relocatable: the checks below also hold after a move there and back.
ALTER EXTENSION vecx SET SCHEMA public;
SELECT extnamespace::regnamespace FROM pg_extension WHERE extname = 'vecx';
ALTER EXTENSION vecx SET SCHEMA vec;

-- Members of the extension, by catalog.
CREATE TEMP VIEW members AS
SELECT d.classid, d.objid
FROM pg_depend d JOIN pg_extension e ON d.refclassid = 'pg_extension'::regclass AND d.refobjid = e.oid
WHERE e.extname = 'vecx' AND d.deptype = 'e';
CREATE TEMP VIEW member_procs AS
SELECT p.* FROM pg_proc p JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid;

SELECT count(*) > 50 AS many_functions FROM member_procs;

-- Every member lives in the extension's schema.
SELECT pg_describe_object(m.classid, m.objid, 0) AS outside_extension_schema
FROM members m
LEFT JOIN pg_proc p ON m.classid = 'pg_proc'::regclass AND p.oid = m.objid
LEFT JOIN pg_type t ON m.classid = 'pg_type'::regclass AND t.oid = m.objid
LEFT JOIN pg_operator o ON m.classid = 'pg_operator'::regclass AND o.oid = m.objid
LEFT JOIN pg_opclass c ON m.classid = 'pg_opclass'::regclass AND c.oid = m.objid
LEFT JOIN pg_opfamily f ON m.classid = 'pg_opfamily'::regclass AND f.oid = m.objid
WHERE coalesce(p.pronamespace, t.typnamespace, o.oprnamespace, c.opcnamespace, f.opfnamespace)
	IS DISTINCT FROM 'vec'::regnamespace
	AND m.classid IN ('pg_proc'::regclass, 'pg_type'::regclass, 'pg_operator'::regclass,
					  'pg_opclass'::regclass, 'pg_opfamily'::regclass);

-- No SECURITY DEFINER, no SET clauses (proconfig), no languages other than
-- C and internal (aggregates), whose bodies could depend on search_path.
SELECT oid::regprocedure AS suspicious, prosecdef, proconfig, prolang::regproc
FROM member_procs p
WHERE prosecdef OR proconfig IS NOT NULL
	OR prolang NOT IN (SELECT oid FROM pg_language WHERE lanname IN ('c', 'internal'));

-- C functions are STRICT (they do not check for NULL), except access
-- method handlers, which are called with an internal argument only.
SELECT oid::regprocedure AS c_function_not_strict FROM member_procs
WHERE prolang = (SELECT oid FROM pg_language WHERE lanname = 'c') AND NOT proisstrict
	AND prorettype NOT IN ('index_am_handler'::regtype, 'table_am_handler'::regtype);

-- Nothing returns internal unless it also takes internal: otherwise SQL
-- could hand the server a fabricated pointer.
SELECT oid::regprocedure AS returns_internal_unsafely FROM member_procs
WHERE prorettype = 'internal'::regtype AND NOT 'internal'::regtype = ANY (proargtypes);

-- Volatility and parallel safety: all of today's functions are pure.
-- Anything else must be a deliberate choice and is listed here.
SELECT oid::regprocedure AS not_immutable_or_parallel_safe, provolatile, proparallel
FROM member_procs
WHERE (provolatile <> 'i' OR proparallel <> 's')
	AND prorettype NOT IN ('index_am_handler'::regtype, 'table_am_handler'::regtype)
ORDER BY 1::text;

-- Argument and result types: the extension's own or pg_catalog's.
SELECT DISTINCT p.oid::regprocedure AS foreign_type_in_signature, t.oid::regtype
FROM member_procs p,
	unnest(p.proargtypes::oid[] || p.prorettype) a(typ)
	JOIN pg_type t ON t.oid = a.typ
WHERE t.typnamespace NOT IN ('vec'::regnamespace, 'pg_catalog'::regnamespace);

-- Every function or operator a member refers to is the extension's own
-- or pg_catalog's (never a decoy, never public).
CREATE TEMP VIEW refs AS
SELECT 'operator ' || o.oid::regoperator AS owner, 'function' AS kind, o.oprcode::oid AS ref
	FROM pg_operator o JOIN members m ON m.classid = 'pg_operator'::regclass AND m.objid = o.oid
UNION ALL SELECT 'operator ' || o.oid::regoperator, 'restrict', o.oprrest::oid
	FROM pg_operator o JOIN members m ON m.classid = 'pg_operator'::regclass AND m.objid = o.oid
UNION ALL SELECT 'operator ' || o.oid::regoperator, 'join', o.oprjoin::oid
	FROM pg_operator o JOIN members m ON m.classid = 'pg_operator'::regclass AND m.objid = o.oid
UNION ALL SELECT 'operator ' || o.oid::regoperator, 'commutator', o.oprcom
	FROM pg_operator o JOIN members m ON m.classid = 'pg_operator'::regclass AND m.objid = o.oid
UNION ALL SELECT 'operator ' || o.oid::regoperator, 'negator', o.oprnegate
	FROM pg_operator o JOIN members m ON m.classid = 'pg_operator'::regclass AND m.objid = o.oid
UNION ALL SELECT 'aggregate ' || a.aggfnoid::regprocedure, 'sfunc', a.aggtransfn::oid
	FROM pg_aggregate a JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = a.aggfnoid
UNION ALL SELECT 'aggregate ' || a.aggfnoid::regprocedure, 'finalfunc', a.aggfinalfn::oid
	FROM pg_aggregate a JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = a.aggfnoid
UNION ALL SELECT 'aggregate ' || a.aggfnoid::regprocedure, 'combinefunc', a.aggcombinefn::oid
	FROM pg_aggregate a JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = a.aggfnoid
UNION ALL SELECT 'aggregate ' || a.aggfnoid::regprocedure, 'serialfunc', a.aggserialfn::oid
	FROM pg_aggregate a JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = a.aggfnoid
UNION ALL SELECT 'aggregate ' || a.aggfnoid::regprocedure, 'deserialfunc', a.aggdeserialfn::oid
	FROM pg_aggregate a JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = a.aggfnoid
UNION ALL SELECT 'aggregate ' || a.aggfnoid::regprocedure, 'msfunc', a.aggmtransfn::oid
	FROM pg_aggregate a JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = a.aggfnoid
UNION ALL SELECT 'aggregate ' || a.aggfnoid::regprocedure, 'sortop', a.aggsortop
	FROM pg_aggregate a JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = a.aggfnoid
UNION ALL SELECT 'cast ' || c.castsource::regtype || ' -> ' || c.casttarget::regtype, 'function', c.castfunc
	FROM pg_cast c JOIN members m ON m.classid = 'pg_cast'::regclass AND m.objid = c.oid
UNION ALL SELECT 'type ' || t.oid::regtype, io.kind, io.fn
	FROM pg_type t JOIN members m ON m.classid = 'pg_type'::regclass AND m.objid = t.oid,
	LATERAL (VALUES ('input', t.typinput::oid), ('output', t.typoutput::oid),
			('receive', t.typreceive::oid), ('send', t.typsend::oid),
			('typmod_in', t.typmodin::oid), ('typmod_out', t.typmodout::oid),
			('analyze', t.typanalyze::oid), ('subscript', t.typsubscript::oid)) io(kind, fn)
UNION ALL SELECT 'opfamily ' || f.opfname, 'operator', ao.amopopr
	FROM pg_amop ao JOIN pg_opfamily f ON f.oid = ao.amopfamily
	JOIN members m ON m.classid = 'pg_opfamily'::regclass AND m.objid = f.oid
UNION ALL SELECT 'opfamily ' || f.opfname, 'support', ap.amproc::oid
	FROM pg_amproc ap JOIN pg_opfamily f ON f.oid = ap.amprocfamily
	JOIN members m ON m.classid = 'pg_opfamily'::regclass AND m.objid = f.oid
UNION ALL SELECT 'access method ' || am.amname, 'handler', am.amhandler::oid
	FROM pg_am am JOIN members m ON m.classid = 'pg_am'::regclass AND m.objid = am.oid;

SELECT count(*) > 100 AS many_references FROM refs WHERE ref <> 0;

SELECT owner, kind, coalesce(p.oid::regprocedure::text, o.oid::regoperator::text) AS target
FROM refs r
LEFT JOIN pg_proc p ON p.oid = r.ref AND r.kind NOT IN ('commutator', 'negator', 'sortop', 'operator')
LEFT JOIN pg_operator o ON o.oid = r.ref AND r.kind IN ('commutator', 'negator', 'sortop', 'operator')
WHERE r.ref <> 0
	AND coalesce(p.pronamespace, o.oprnamespace) IS DISTINCT FROM 'pg_catalog'::regnamespace
	AND NOT EXISTS (SELECT 1 FROM members m
		WHERE (m.classid = 'pg_proc'::regclass AND m.objid = p.oid)
		   OR (m.classid = 'pg_operator'::regclass AND m.objid = o.oid))
ORDER BY 1, 2;

-- The objects work with the decoys first in search_path.
CREATE TABLE public.items (id int, v vec.vector(3), h vec.halfvec(3));
INSERT INTO items VALUES (1, '[1,2,3]', '[1,2,3]'), (2, '[4,5,6]', '[4,5,6]'),
	(3, '{7,8,9}'::int[], '{7,8,9}'::real[]), (4, ARRAY[1.5, 2.5, 3.5], '[1.5,2.5,3.5]');
CREATE INDEX ON items (v);
CREATE INDEX ON items (h);
SELECT id, v <-> '[0,0,0]' AS l2, v <#> '[1,1,1]' AS ip, v <=> '[1,1,1]' < 0.1 AS near_cos,
	v <+> '[0,0,0]' AS l1, (v + v)::text AS plus, (v - v)::text AS minus, (v * v)::text AS times,
	(v || v)::text AS concat, h <-> '[0,0,0]' AS h_l2, (h + h)::text AS h_plus
FROM items ORDER BY v <-> '[1,2,3]';
SELECT avg(v)::text, sum(v)::text, avg(h)::text, sum(h)::text, vector_dims(sum(v)),
	vector_norm(avg(v)) > 0 AS norm, l2_normalize(sum(h))::text AS h_normalized
FROM items;
SET enable_seqscan = off;
SELECT id FROM items WHERE v = '[4,5,6]' AND h = '[4,5,6]';
SELECT id FROM items ORDER BY v DESC, h LIMIT 2;
RESET enable_seqscan;
SELECT v::real[], h::vec.vector::text, v::vec.halfvec::text, subvector(v, 2, 2)::text,
	binary_quantize(v - '[2,2,2]')
FROM items WHERE id = 1;
CREATE TABLE public.sitems (id int, s vec.sparsevec(3), b bit(3));
INSERT INTO sitems VALUES (1, '{1:1,3:2}/3', B'101'), (2, '[0,2,0]'::vec.vector, B'010'),
	(3, '{1,0,1}'::int[], B'111'), (4, '[0,0,3]'::vec.halfvec, B'000');
CREATE INDEX ON sitems (s);
SELECT id, s::text, s <-> '{1:1}/3' AS l2, s <#> '{1:1}/3' AS ip, s <=> '{1:1}/3' AS cos,
	s <+> '{1:1}/3' AS l1, l2_norm(s), l2_normalize(s)::text AS normalized,
	s::vec.vector::text AS v, s::vec.halfvec::text AS h, b <~> B'110' AS hamming,
	b <%> B'110' AS jaccard, hamming_distance(b, B'000') AS hd, jaccard_distance(b, B'111') AS jd
FROM sitems ORDER BY id;
SET enable_seqscan = off;
SELECT id FROM sitems WHERE s = '{2:2}/3';
RESET enable_seqscan;
-- No decoy was ever called ...
SELECT count(*) AS decoy_calls FROM decoy.calls;
-- ... although they work when asked for (the check above can fail).
SELECT 1 OPERATOR(decoy.<->) 2 AS decoy_operator, decoy.vector_dims('[1]'::vec.vector) AS decoy_function;
SELECT fn, count(*) FROM decoy.calls GROUP BY fn ORDER BY fn;

-- ---- 3. a non-superuser uses the extension ------------------------------

CREATE ROLE regress_vecx_user;
GRANT USAGE ON SCHEMA vec TO regress_vecx_user;
GRANT SELECT ON public.items TO regress_vecx_user;
SET ROLE regress_vecx_user;
SET search_path = vec;
SELECT count(*), sum(v <-> '[1,1,1]') > 0 FROM public.items;
SELECT '[1,2]'::vector <-> '[4,6]', ('[1,2]'::halfvec + '[1,1]')::text;
CREATE TEMP TABLE mine (v vector(2));
INSERT INTO mine VALUES ('[1,2]');
SELECT v::text FROM mine;
-- The extension's objects belong to the installing superuser and cannot
-- be altered or dropped by others.
DROP FUNCTION vec.l2_distance(vec.vector, vec.vector);
ALTER FUNCTION vec.l2_distance(vec.vector, vec.vector) SECURITY DEFINER;
CREATE OR REPLACE FUNCTION vec.l2_distance(vec.vector, vec.vector) RETURNS float8 LANGUAGE sql AS 'SELECT 0::float8';
RESET ROLE;
RESET search_path;

\c :origdb
DROP DATABASE regress_vecx_security;
DROP ROLE regress_vecx_user;
