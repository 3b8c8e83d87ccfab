-- vector text and binary I/O, type modifiers, input errors
SET extra_float_digits = 0;

-- text form, whitespace, shortest round-trip output
SELECT '[1,2,3]'::vector;
SELECT ' [ 1.5 ,-2e3,	0.1 ] '::vector;
SELECT '[-0,1e-45,3.4028235e38,-3.4028235e38]'::vector;
SELECT '[0.1,0.2,0.30000001,1.0000001,123456789]'::vector;
SELECT '[+1,1.,.5,0x10]'::vector;
SELECT '[1,2,3]'::vector::text::vector = '[1,2,3]'::vector;
SELECT vector_dims('[1,2,3]'::vector);

-- the shortest text reads back as exactly the same float
SELECT count(*) FROM generate_series(1, 1000) i
  WHERE ('[' || (i * 0.001234567)::real || ']')::vector::text::vector
     <> ('[' || (i * 0.001234567)::real || ']')::vector;

-- malformed text: 22P02
SELECT '[1,,2]'::vector;
SELECT '[1 2]'::vector;
SELECT '1,2'::vector;
SELECT '[1,2]x'::vector;
SELECT '[1,2]]'::vector;
SELECT '[1,2'::vector;
SELECT '['::vector;
SELECT ''::vector;
SELECT '[1,]'::vector;
SELECT '[,1]'::vector;
SELECT '[a]'::vector;
SELECT '[1e]'::vector;
SELECT '[]x'::vector;
SELECT '{1,2}'::vector;

-- empty, too many, out of range, not finite
SELECT '[]'::vector;
SELECT ' [ ] '::vector;
SELECT ('[' || array_to_string(array_fill(1, ARRAY[16001]), ',') || ']')::vector;
SELECT vector_dims(('[' || array_to_string(array_fill(1, ARRAY[16000]), ',') || ']')::vector);
SELECT '[1e39]'::vector;
SELECT '[-1e39]'::vector;
SELECT '[1e-50]'::vector;
SELECT '[NaN]'::vector;
SELECT '[1,nan]'::vector;
SELECT '[Infinity]'::vector;
SELECT '[-inf]'::vector;

-- error codes
\set VERBOSITY sqlstate
SELECT '[1,,2]'::vector;
SELECT '[]'::vector;
SELECT ('[' || array_to_string(array_fill(1, ARRAY[16001]), ',') || ']')::vector;
SELECT '[1e39]'::vector;
SELECT '[NaN]'::vector;
SELECT '[1,2]'::vector(3);
SELECT '[1,2]'::vector(0);
\set VERBOSITY default

-- type modifiers
SELECT '[1,2,3]'::vector(3);
SELECT '[1,2]'::vector(3);
SELECT '[1,2]'::vector(0);
SELECT '[1,2]'::vector(16001);
SELECT '[1,2]'::vector(2, 3);
SELECT format_type('vector'::regtype, 16000), format_type('vector'::regtype, -1);
CREATE TABLE vio (v vector(3));
INSERT INTO vio VALUES ('[1,2,3]');
INSERT INTO vio VALUES ('[1,2]');
INSERT INTO vio VALUES ('[1,2,3,4]'::vector);
SELECT v, pg_typeof(v) FROM vio;
SELECT atttypmod FROM pg_attribute WHERE attrelid = 'vio'::regclass AND attname = 'v';
SELECT '[1,2]'::vector::vector(2), '[1,2]'::vector::vector(3);

-- storage: never compressed, may move out of line
SELECT typstorage, typalign, typlen FROM pg_type WHERE typname = 'vector';

-- binary send: int16 dim, int16 zero, float4 big-endian
SELECT vector_send('[1,2,-0.5]');
SELECT vector_send('[3.4028235e38]');

-- binary recv through a COPY round trip
CREATE TABLE vbin (id int, v vector);
INSERT INTO vbin VALUES (1, '[1,2,3]'), (2, '[-0.1,1e-45,3.4028235e38]'), (3, NULL),
  (4, ('[' || array_to_string(array_fill(0.5, ARRAY[16000]), ',') || ']')::vector);
-- a per-cluster file name, so concurrent test runs do not collide
SELECT '/tmp/vecx_vector_io_' || current_setting('port') || '.bin' AS binfile \gset
COPY vbin TO :'binfile' (FORMAT binary);
CREATE TABLE vbin2 (id int, v vector);
COPY vbin2 FROM :'binfile' (FORMAT binary);
SELECT a.id, a.v IS NOT DISTINCT FROM b.v AS same, vector_dims(b.v)
  FROM vbin a JOIN vbin2 b USING (id) ORDER BY id;
-- recv applies the column's type modifier
CREATE TABLE vbin3 (id int, v vector(3));
COPY vbin3 FROM :'binfile' (FORMAT binary);
DELETE FROM vbin WHERE id <> 1;
COPY vbin TO :'binfile' (FORMAT binary);
COPY vbin3 FROM :'binfile' (FORMAT binary);
SELECT * FROM vbin3;

DROP TABLE vio, vbin, vbin2, vbin3;
