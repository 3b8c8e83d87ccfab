-- halfvec text and binary I/O, type modifiers, input errors
SET extra_float_digits = 0;

-- text form: values are rounded to binary16 and printed as the shortest
-- float32 text of that binary16 value
SELECT '[1,2,3]'::halfvec;
SELECT ' [ 1.5 ,-2e3,	0.1 ] '::halfvec;
SELECT '[65504,-65504,6e-8,6.1035156e-05,-0]'::halfvec;
SELECT '[1.0009765625,1.00048828125,1.000732421875,2049,2051]'::halfvec;
SELECT '[1e-10,3e-8]'::halfvec;
SELECT '[1,2,3]'::halfvec::text::halfvec = '[1,2,3]'::halfvec;
SELECT vector_dims('[1,2,3]'::halfvec);

-- malformed text: 22P02
SELECT '[1,,2]'::halfvec;
SELECT '[1 2]'::halfvec;
SELECT '1,2'::halfvec;
SELECT '[1,2]x'::halfvec;
SELECT '[1,2'::halfvec;
SELECT '[a]'::halfvec;

-- empty, too many, out of range, not finite
SELECT '[]'::halfvec;
SELECT ('[' || array_to_string(array_fill(1, ARRAY[16001]), ',') || ']')::halfvec;
SELECT vector_dims(('[' || array_to_string(array_fill(1, ARRAY[16000]), ',') || ']')::halfvec);
-- beyond binary16 range (|x| >= 65520 rounds to infinity): an error
SELECT '[65519]'::halfvec;
SELECT '[65520]'::halfvec;
SELECT '[-70000]'::halfvec;
SELECT '[1e39]'::halfvec;
SELECT '[NaN]'::halfvec;
SELECT '[inf]'::halfvec;
\set VERBOSITY sqlstate
SELECT '[1,,2]'::halfvec;
SELECT '[]'::halfvec;
SELECT ('[' || array_to_string(array_fill(1, ARRAY[16001]), ',') || ']')::halfvec;
SELECT '[65520]'::halfvec;
SELECT '[NaN]'::halfvec;
SELECT '[1,2]'::halfvec(3);
\set VERBOSITY default

-- type modifiers
SELECT '[1,2,3]'::halfvec(3);
SELECT '[1,2]'::halfvec(3);
SELECT '[1,2]'::halfvec(0);
SELECT '[1,2]'::halfvec(16001);
SELECT '[1,2]'::halfvec(1, 2);
SELECT format_type('halfvec'::regtype, 7), format_type('halfvec'::regtype, -1);
CREATE TABLE hio (v halfvec(3));
INSERT INTO hio VALUES ('[1,2,3]');
INSERT INTO hio VALUES ('[1,2]');
SELECT v, pg_typeof(v) FROM hio;
SELECT halfvec('[1,2]'::halfvec, 2, true), halfvec('[1,2]'::halfvec, -1, false);
SELECT halfvec('[1,2]'::halfvec, 3, true);
SELECT '[1,2]'::halfvec::halfvec(3);
SELECT typstorage, typalign, typlen FROM pg_type WHERE typname = 'halfvec';

-- binary send: int16 dim, int16 zero, binary16 bit patterns, big-endian
SELECT halfvec_send('[1,2,-0.5]');
SELECT halfvec_send('[65504,6e-8,-0]');

-- binary recv through a COPY round trip
CREATE TABLE hbin (id int, v halfvec);
INSERT INTO hbin VALUES (1, '[1,2,3]'), (2, '[-0.1,6e-8,65504]'), (3, NULL),
  (4, ('[' || array_to_string(array_fill(0.5, ARRAY[16000]), ',') || ']')::halfvec);
SELECT '/tmp/vecx_halfvec_io_' || current_setting('port') || '.bin' AS binfile \gset
COPY hbin TO :'binfile' (FORMAT binary);
CREATE TABLE hbin2 (id int, v halfvec);
COPY hbin2 FROM :'binfile' (FORMAT binary);
SELECT a.id, a.v IS NOT DISTINCT FROM b.v AS same, vector_dims(b.v)
  FROM hbin a JOIN hbin2 b USING (id) ORDER BY id;
CREATE TABLE hbin3 (id int, v halfvec(3));
COPY hbin3 FROM :'binfile' (FORMAT binary);
-- a halfvec payload is not a vector payload: the length check catches it
CREATE TABLE hbin4 (id int, v vector);
COPY hbin4 FROM :'binfile' (FORMAT binary);
DELETE FROM hbin WHERE id <> 2;
COPY hbin TO :'binfile' (FORMAT binary);
COPY hbin3 FROM :'binfile' (FORMAT binary);
SELECT * FROM hbin3;

DROP TABLE hio, hbin, hbin2, hbin3, hbin4;
