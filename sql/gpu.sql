-- gpu: vecx.gpu and vecx_gpu_info(), with the same output on any machine,
-- with or without vecx_gpu.so, a driver or a device.  What "on" does with
-- and without a device, and builds under auto against off, are in
-- test/tap/410_gpu.pl, which can branch on the machine.

-- The library first: before it is loaded vecx.gpu is a placeholder.
LOAD 'vecx';
SHOW vecx.gpu;
SET vecx.gpu = sometimes;
SET vecx.gpu = off;
SHOW vecx.gpu;
RESET vecx.gpu;

-- One row per usable device, or one row with no device and the reason.
SELECT count(*) >= 1 AS has_rows,
	bool_and(CASE WHEN device IS NULL
		THEN name IS NULL AND total_memory IS NULL AND compute_capability IS NULL
			AND status ~ '^(library missing|library unusable|driver missing|driver unusable|cuInit failed|no device|CUDA runtime|device [0-9]+)'
		ELSE name <> '' AND total_memory > 0 AND compute_capability ~ '^[0-9]+\.[0-9]+$'
		END) AS consistent,
	count(*) FILTER (WHERE device IS NULL) = 0 OR count(*) = 1 AS devices_or_one_reason
FROM vecx_gpu_info();

-- Probing twice gives the same answer (kept for the backend's life).
SELECT (SELECT array_agg(status ORDER BY device) FROM vecx_gpu_info()) =
	(SELECT array_agg(status ORDER BY device) FROM vecx_gpu_info()) AS stable;

-- auto: a build works whatever was found.
CREATE TABLE gput (id int, v vector(8));
INSERT INTO gput SELECT i, ARRAY[sin(i), cos(i), sin(i * 0.3), cos(i * 0.7), sin(i * 1.1), cos(i * 1.9), sin(i * 0.05), i % 7]::real[]::vector
	FROM generate_series(1, 1500) i;
SET vecx.gpu = auto;
CREATE INDEX gput_pq ON gput USING ivfpq (v vector_l2_ops) WITH (lists = 8);
CREATE INDEX gput_flat ON gput USING ivfflat (v vector_l2_ops) WITH (lists = 8);
SELECT vecx_index_check('gput_pq', true);
SELECT vecx_index_check('gput_flat', true);
RESET vecx.gpu;
DROP TABLE gput;
