-- vecx upgrade script 0.1.0 -> 0.2.0, assembled by the Makefile from this
-- header and the install pieces that 0.2.0 added (UPGRADE_0_2_0_PARTS):
-- the sparsevec type, the bit distances and the hnsw opclasses of both
-- (52_hnsw_types.sql), vecx_index_recall (92_tools.sql), vecx_gpu_info
-- (93_gpu.sql), the scan counters (94_stat.sql), range search
-- (66_range.sql) and the cost support of the distance functions
-- (25_distcost.sql).  The pieces follow the rules
-- of 00_header.sql.  A fresh 0.2.0 install and an updated 0.1.0 install
-- have the same members (sql/upgrade.sql checks it).

\echo Use "ALTER EXTENSION vecx UPDATE TO '0.2.0'" to load this file. \quit
