-- bit: Hamming and Jaccard distances on PostgreSQL's bit type

SELECT hamming_distance(B'1010', B'0110'), B'1010' <~> B'0110', B'1111' <~> B'1111';
SELECT jaccard_distance(B'1010', B'0110'), B'1010' <%> B'0110', B'1111' <%> B'1111';
-- no common set bit (also two zero vectors): distance 1
SELECT B'0000' <%> B'0000', B'1000' <%> B'0001', B'0000' <~> B'0000';
-- varbit values and lengths that are not a multiple of 8 (padding bits)
SELECT '101'::varbit <~> '011'::varbit, B'1' <~> B'0', B'1' <%> B'1';
SELECT B'10101010101' <~> B'01010101010', B'10101010101' <%> B'11111111111';
SELECT B'101' <~> B'1010';
SELECT jaccard_distance(B'101', B'10');
SELECT B'' <~> B'', B'' <%> B'';

-- long values exercise the vector kernels and their tails: compare with
-- a count over the text form
CREATE TABLE bits (id int, a bit(1000), b bit(1000));
INSERT INTO bits
SELECT i,
	(SELECT string_agg(CASE WHEN (g * 7 + i * 13) % 5 < 2 THEN '1' ELSE '0' END, '') FROM generate_series(1, 1000) g)::bit(1000),
	(SELECT string_agg(CASE WHEN (g * 11 + i) % 3 = 0 THEN '1' ELSE '0' END, '') FROM generate_series(1, 1000) g)::bit(1000)
FROM generate_series(1, 20) i;
SELECT count(*) FILTER (WHERE a <~> b = length(replace((a # b)::text, '0', ''))) AS hamming_ok,
	count(*) FILTER (WHERE a <%> b = 1 - length(replace((a & b)::text, '0', ''))::float8
		/ length(replace((a | b)::text, '0', ''))) AS jaccard_ok
FROM bits;
SELECT length(replace(x::text, '0', '')) = x <~> (x # x) AS all_lengths_ok
FROM (SELECT substring(a FROM 1 FOR n) AS x FROM bits, generate_series(1, 1000, 37) n WHERE id = 3) s
GROUP BY 1;
SELECT id, a <~> b AS hamming, round((a <%> b)::numeric, 6) AS jaccard FROM bits ORDER BY a <~> b, id LIMIT 5;
DROP TABLE bits;
