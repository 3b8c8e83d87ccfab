-- sparsevec: text and binary input/output, typmod and input hardening

-- text form: 1-based indices, any order and zeros in, canonical form out
SELECT '{1:1.5,3:2,5:3}/6'::sparsevec;
SELECT ' { 5 : 3 , 1:1.5,3:2 } / 6 '::sparsevec;
SELECT '{1:0,2:-0,3:1e-3}/3'::sparsevec;
SELECT '{}/1'::sparsevec, '{}/1000000000'::sparsevec;
SELECT '{1000000000:1}/1000000000'::sparsevec;
SELECT '{1:0.1,2:-3.4028235e38,3:1e-45}/3'::sparsevec;
SELECT '{1:1,2:2}/2'::sparsevec::text::sparsevec = '{1:1,2:2}/2';

-- malformed text: 22P02
SELECT ''::sparsevec;
SELECT '{1:1}'::sparsevec;
SELECT '{1:1}/'::sparsevec;
SELECT '1:1}/2'::sparsevec;
SELECT '{1:1/2'::sparsevec;
SELECT '{1:1,}/2'::sparsevec;
SELECT '{,1:1}/2'::sparsevec;
SELECT '{1}/2'::sparsevec;
SELECT '{:1}/2'::sparsevec;
SELECT '{1:}/2'::sparsevec;
SELECT '{1.5:1}/2'::sparsevec;
SELECT '{1:1 2:2}/2'::sparsevec;
SELECT '{1:1}/2 x'::sparsevec;
SELECT '{1:1}/2.5'::sparsevec;
SELECT '{a:1}/2'::sparsevec;

-- NaN, infinity, out of range values
SELECT '{1:NaN}/2'::sparsevec;
SELECT '{1:Infinity}/2'::sparsevec;
SELECT '{1:-inf}/2'::sparsevec;
SELECT '{1:1e39}/2'::sparsevec;

-- dimensions and indices
SELECT '{}/0'::sparsevec;
SELECT '{}/-1'::sparsevec;
SELECT '{}/1000000001'::sparsevec;
SELECT '{}/99999999999999999999999'::sparsevec;
SELECT '{0:1}/2'::sparsevec;
SELECT '{-1:1}/2'::sparsevec;
SELECT '{3:1}/2'::sparsevec;
SELECT '{99999999999999999999:1}/2'::sparsevec;
SELECT '{1:1,2:2,1:3}/3'::sparsevec;
SELECT '{2:0,2:0}/3'::sparsevec;

-- non-zero element limit: 16000 stored elements, zeros do not count
SELECT ('{' || string_agg(i || ':1', ',') || '}/20000')::sparsevec = ('{' || string_agg(i || ':1', ',') || '}/20000')::sparsevec AS ok
FROM generate_series(1, 16000) i;
SELECT ('{' || string_agg(i || ':1', ',') || '}/20000')::sparsevec FROM generate_series(1, 16001) i;
SELECT length(('{' || string_agg(i || ':' || (i % 2), ',') || '}/40000')::sparsevec::text) FROM generate_series(1, 32000) i;

-- typmod
SELECT '{1:1}/3'::sparsevec(3);
SELECT '{1:1}/3'::sparsevec(4);
SELECT '{}/1'::sparsevec(1000000000);
SELECT '{}/1'::sparsevec(1000000001);
SELECT '{}/1'::sparsevec(0);
SELECT '{}/1'::sparsevec(2, 3);
CREATE TABLE sv_typmod (v sparsevec(3));
INSERT INTO sv_typmod VALUES ('{1:1}/3');
INSERT INTO sv_typmod VALUES ('{1:1}/4');
SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'sv_typmod'::regclass AND attname = 'v';
DROP TABLE sv_typmod;

-- binary receive: a binary COPY of a bytea column carries the raw bytes
-- as the field, which a sparsevec column then receives
CREATE TABLE sv_raw (id int, b bytea);
CREATE TABLE sv_recv (id int, v sparsevec);
SELECT '/tmp/vecx_sv_recv_' || current_setting('port') || '.bin' AS binfile \gset
SELECT set_config('vecx_test.sv_binfile', :'binfile', false) IS NOT NULL AS ok;

-- round trip through send and receive
INSERT INTO sv_recv VALUES (1, '{1:1.5,3:-2,6:3}/6'), (2, '{}/5'), (3, '{1000000000:7}/1000000000');
COPY sv_recv TO :'binfile' (FORMAT binary);
COPY sv_raw FROM :'binfile' (FORMAT binary);
SELECT id, b FROM sv_raw ORDER BY id;
TRUNCATE sv_recv;
COPY sv_raw TO :'binfile' (FORMAT binary);
COPY sv_recv FROM :'binfile' (FORMAT binary);
SELECT * FROM sv_recv ORDER BY id;

CREATE FUNCTION sv_try_recv(payload bytea) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	f text := current_setting('vecx_test.sv_binfile');
	r text;
BEGIN
	TRUNCATE sv_raw, sv_recv;
	INSERT INTO sv_raw VALUES (1, payload);
	EXECUTE format('COPY sv_raw TO %L (FORMAT binary)', f);
	EXECUTE format('COPY sv_recv FROM %L (FORMAT binary)', f);
	SELECT v::text INTO r FROM sv_recv;
	RETURN 'accepted: ' || r;
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

-- header: int32 dim, int32 nnz, int32 unused; nnz indices; nnz values
SELECT p, sv_try_recv(p::bytea) FROM (VALUES
	('\x'),                                                        -- nothing
	('\x00000003000000'),                                          -- header cut short
	('\x000000030000000000000000'),                                -- empty vector: fine
	('\x000000000000000000000000'),                                -- zero dimensions
	('\xffffffff0000000000000000'),                                -- negative dimensions
	('\x3b9aca010000000000000000'),                                -- 1000000001 dimensions
	('\x000000030000000100000000000000003f800000'),                -- index 0 = position 1: fine
	('\x00000003000000010000000100000000'),                        -- unused not zero, too short
	('\x000000030000000100000001000000003f800000'),                -- unused not zero
	('\x0000000300000001000000000000000000'),                      -- value missing
	('\x000000030000000100000000000000003f80000000'),              -- trailing byte
	('\x00000003ffffffff00000000'),                                -- negative nnz
	('\x000000030000000400000000'),                                -- nnz above dim
	('\x3b9aca0000003e8100000000'),                                -- nnz 16001
	('\x7fffffff7fffffff00000000'),                                -- huge both
	('\x0000000300000001000000000000000300000000'),                -- index = dim
	('\x00000003000000010000000080000000'),                        -- value missing
	('\x0000000300000001000000008000000000000000'),                -- index negative
	('\x000000030000000200000000000000000000000140000000400000'),   -- value cut short
	('\x00000003000000020000000000000002000000013f8000003f800000'), -- descending
	('\x00000003000000020000000000000001000000013f8000003f800000'), -- duplicate
	('\x000000030000000100000000000000017fc00000'),                -- NaN
	('\x00000003000000010000000000000001ff800000'),                -- -Infinity
	('\x000000030000000200000000000000000000000200000000bf800000'), -- explicit zero: dropped
	('\x0000000300000001000000000000000180000000')                 -- -0: dropped
) t(p);

DROP FUNCTION sv_try_recv(bytea);
DROP TABLE sv_raw, sv_recv;
