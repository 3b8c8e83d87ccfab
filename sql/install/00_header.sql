-- vecx install script, assembled from sql/install/*.sql by the Makefile.
--
-- Rules for every piece: every object created and every reference to one
-- of our objects is qualified with the extension schema placeholder, so
-- the piece means the same thing whatever search_path the caller has; the
-- Makefile strips the qualifiers when it assembles the scripts of the
-- relocatable versions (0.2.0 on), which run with the target schema alone
-- in search_path.  No SECURITY DEFINER anywhere; no function bodies looked
-- up at call time (C and internal only); C functions are STRICT and
-- IMMUTABLE or STABLE as their behaviour demands, and PARALLEL SAFE.

\echo Use "CREATE EXTENSION @vecx_name@" to load this file. \quit
