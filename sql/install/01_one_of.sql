-- 01_one_of.sql: one of vecx and vector per database.
--
-- vecx installs under two names, vecx and vector (make install-vector-name),
-- and pgvector is called vector too.  All of them define the same types,
-- operators and access methods, so a database can hold only one.  Without
-- this check the second one fails on whichever object collides first (in
-- another schema, only on the access methods, after creating half its
-- types); with it, on one clear error before anything is created.

DO $vecx_one_of$
BEGIN
	IF EXISTS (SELECT FROM pg_catalog.pg_extension
			   WHERE extname OPERATOR(pg_catalog.=) '@vecx_other@') THEN
		RAISE EXCEPTION USING
			ERRCODE = 'duplicate_object',
			MESSAGE = 'cannot create extension "@vecx_name@": extension "@vecx_other@" is already installed in this database',
			DETAIL = 'Extensions "vecx" and "vector" (vecx under the name vector, or pgvector) define the same types, operators and access methods; a database can have only one of them.',
			HINT = 'Use extension "@vecx_other@", or drop it first.';
	END IF;
END
$vecx_one_of$;
