# 104_ivfpq_vacuum.pl: cycles of delete, vacuum and re-insert keep an ivfpq
# index bounded in size (freed space is reused) and its answers exact.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use VecxTest;
use Test::More;

my $node = vecx_node('ivfpq_vacuum', conf => "autovacuum = off");

$node->safe_psql('postgres', q{
	CREATE TABLE t (id serial, v vector(32));
	INSERT INTO t (v) SELECT ARRAY(SELECT random() FROM generate_series(1, 32) WHERE i > 0)::real[]::vector
		FROM generate_series(1, 5000) i;
	CREATE INDEX t_idx ON t USING ivfpq (v vector_l2_ops) WITH (lists = 10);
});
my $size0 = $node->safe_psql('postgres', q{SELECT pg_relation_size('t_idx')});

for my $cycle (1 .. 5)
{
	$node->safe_psql('postgres', q{
		DELETE FROM t WHERE id IN (SELECT id FROM t ORDER BY random() LIMIT 1500);
		VACUUM t;
		INSERT INTO t (v) SELECT ARRAY(SELECT random() FROM generate_series(1, 32) WHERE i > 0)::real[]::vector
			FROM generate_series(1, 1500) i;
	});
}
my $size = $node->safe_psql('postgres', q{SELECT pg_relation_size('t_idx')});
note("index size before: $size0, after 5 cycles: $size");
cmp_ok($size, '<=', 1.25 * $size0, 'index size stays bounded across vacuum cycles');

my $rows = $node->safe_psql('postgres', 'SELECT count(*) FROM t');
is($rows, '5000', 'row count unchanged');
is($node->safe_psql('postgres', q{SET enable_seqscan = off; SET ivfpq.probes = 10;
	SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> array_fill(0.5, ARRAY[32])::vector LIMIT 1000000) s}),
	$rows, 'index holds exactly the live rows');
is($node->safe_psql('postgres', q{SET enable_seqscan = off; SET ivfpq.probes = 10;
	SELECT array(SELECT id FROM t ORDER BY v <-> array_fill(0.3, ARRAY[32])::vector LIMIT 20)}),
	$node->safe_psql('postgres', q{SET enable_indexscan = off;
	SELECT array(SELECT id FROM t ORDER BY v <-> array_fill(0.3, ARRAY[32])::vector, id LIMIT 20)}),
	'index answers match an exact scan');

# VACUUM reports the right number of index tuples
$node->safe_psql('postgres', 'DELETE FROM t WHERE id % 2 = 0; VACUUM t');
is($node->safe_psql('postgres', q{SELECT reltuples::bigint FROM pg_class WHERE relname = 't_idx'}),
	$node->safe_psql('postgres', 'SELECT count(*) FROM t'), 'vacuum counts the remaining entries');

$node->stop;
done_testing();
