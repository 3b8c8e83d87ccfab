-- binary receive of hostile payloads, for vector and halfvec
--
-- A binary COPY of a bytea column carries the raw bytes as the field, so
-- copying such a file into a vector or halfvec column hands exactly those
-- bytes to the type's receive function.
CREATE TABLE raw (id int, b bytea);
CREATE TABLE rv (id int, v vector);
CREATE TABLE rh (id int, v halfvec);
SELECT '/tmp/vecx_recv_' || current_setting('port') || '.bin' AS binfile \gset

-- well-formed payloads are accepted
INSERT INTO raw VALUES (1, '\x000200003f80000040000000'), (2, '\x00010000bf000000');
COPY raw TO :'binfile' (FORMAT binary);
COPY rv FROM :'binfile' (FORMAT binary);
SELECT * FROM rv ORDER BY id;
TRUNCATE raw, rv;
INSERT INTO raw VALUES (1, '\x000200003c004000'), (2, '\x00010000b800');
COPY raw TO :'binfile' (FORMAT binary);
COPY rh FROM :'binfile' (FORMAT binary);
SELECT * FROM rh ORDER BY id;
TRUNCATE raw, rh;

-- each bad payload in its own file; every one must fail cleanly
CREATE FUNCTION try_recv(payload bytea, typ text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	f text := current_setting('vecx_test.binfile');
BEGIN
	TRUNCATE raw;
	INSERT INTO raw VALUES (1, payload);
	EXECUTE format('COPY raw TO %L (FORMAT binary)', f);
	EXECUTE format('TRUNCATE %I', CASE typ WHEN 'vector' THEN 'rv' ELSE 'rh' END);
	EXECUTE format('COPY %I FROM %L (FORMAT binary)', CASE typ WHEN 'vector' THEN 'rv' ELSE 'rh' END, f);
	RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
SELECT set_config('vecx_test.binfile', :'binfile', false) IS NOT NULL AS ok;

SELECT t, p, try_recv(p::bytea, t) FROM (VALUES
	('vector', '\x'),                                  -- nothing at all
	('vector', '\x0001'),                              -- header cut short
	('vector', '\x00000000'),                          -- zero dimensions
	('vector', '\xffff0000'),                          -- negative dimensions
	('vector', '\x3e810000'),                          -- 16001 dimensions
	('vector', '\x00020000'),                          -- elements missing
	('vector', '\x000200003f800000'),                  -- one element short
	('vector', '\x000200003f800000400000'),            -- element cut short
	('vector', '\x000100003f80000040000000'),          -- trailing bytes
	('vector', '\x000100013f800000'),                  -- unused not zero
	('vector', '\x0001ffff3f800000'),                  -- unused negative
	('vector', '\x000100007fc00000'),                  -- NaN
	('vector', '\x00010000ffc00001'),                  -- NaN with payload
	('vector', '\x000100007f800000'),                  -- +Infinity
	('vector', '\x00010000ff800000'),                  -- -Infinity
	('vector', '\x0001000000000001'),                  -- smallest subnormal: fine
	('halfvec', '\x00000000'),
	('halfvec', '\x00020000'),
	('halfvec', '\x000200003c00'),
	('halfvec', '\x000100003c003c00'),
	('halfvec', '\x000100013c00'),
	('halfvec', '\x000100007e00'),                     -- NaN
	('halfvec', '\x00010000fc01'),                     -- NaN
	('halfvec', '\x000100007c00'),                     -- +Infinity
	('halfvec', '\x00010000fc00'),                     -- -Infinity
	('halfvec', '\x000100007bff'),                     -- 65504: fine
	('halfvec', '\x000100000001')                      -- smallest subnormal: fine
) AS c(t, p);

-- receive applies the column's type modifier
TRUNCATE rv, rh;
ALTER TABLE rv ALTER COLUMN v TYPE vector(3);
SELECT try_recv('\x000200003f80000040000000', 'vector');
ALTER TABLE rh ALTER COLUMN v TYPE halfvec(3);
SELECT try_recv('\x000200003c004000', 'halfvec');

DROP FUNCTION try_recv;
DROP TABLE raw, rv, rh;
