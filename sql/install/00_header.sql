-- vecx install script, assembled from sql/install/*.sql by the Makefile.
--
-- Rules for every piece: objects are created in @extschema@ and every
-- reference to one of our objects is qualified with @extschema@, so the
-- script means the same thing whatever search_path the caller has; no
-- SECURITY DEFINER anywhere; C functions are STRICT and IMMUTABLE or
-- STABLE as their behaviour demands, and PARALLEL SAFE.

\echo Use "CREATE EXTENSION vecx" to load this file. \quit
