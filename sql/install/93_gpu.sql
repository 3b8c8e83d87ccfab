-- 93_gpu.sql: vecx_gpu_info(), what the optional GPU library found
-- (src/gpu/gpuload.c): one row per usable device, or one row with a NULL
-- device and the reason there is none (library missing, driver missing,
-- cuInit error, no device, no kernel image for the device).  Loads
-- $libdir/vecx_gpu.so when it exists; reads nothing from the database.

CREATE FUNCTION @extschema@.vecx_gpu_info(OUT device integer, OUT name text,
		OUT total_memory bigint, OUT compute_capability text, OUT status text)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'vecx_gpu_info' LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;

COMMENT ON FUNCTION @extschema@.vecx_gpu_info() IS
	'GPU devices vecx can use for index builds, or why there are none';
