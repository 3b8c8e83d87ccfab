# 107_ivfflat_vacuum.pl: an ivfflat index under concurrent inserts, deletes,
# vacuums and scans stays consistent (vecx_index_check with heapallindexed),
# bounded in size across delete/vacuum/re-insert cycles (freed space is
# reused), and its answers stay those of an exact scan.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use VecxTest;
use Test::More;

my $node = vecx_node('ivfflat_vacuum', conf => "autovacuum = off\nmax_connections = 20");

$node->safe_psql('postgres', q{
	CREATE TABLE t (id serial, v vector(32));
	INSERT INTO t (v) SELECT ARRAY(SELECT random() FROM generate_series(1, 32) WHERE i > 0)::real[]::vector
		FROM generate_series(1, 5000) i;
	CREATE INDEX t_idx ON t USING ivfflat (v vector_l2_ops) WITH (lists = 10);
});
my $size0 = $node->safe_psql('postgres', q{SELECT pg_relation_size('t_idx')});

for my $cycle (1 .. 4)
{
	$node->safe_psql('postgres', q{
		DELETE FROM t WHERE id IN (SELECT id FROM t ORDER BY random() LIMIT 1500);
		VACUUM t;
		INSERT INTO t (v) SELECT ARRAY(SELECT random() FROM generate_series(1, 32) WHERE i > 0)::real[]::vector
			FROM generate_series(1, 1500) i;
	});
}
my $size = $node->safe_psql('postgres', q{SELECT pg_relation_size('t_idx')});
note("index size before: $size0, after 4 cycles: $size");
cmp_ok($size, '<=', 1.25 * $size0, 'index size stays bounded across vacuum cycles');

# concurrent inserts, deletes, vacuums and index scans
$node->pgbench(
	'--no-vacuum --client=4 --transactions=150',
	0, [qr{actually processed}], [qr{^$}], 'concurrent insert, search, delete, vacuum',
	{
		'ins@6' => q{INSERT INTO t (v) SELECT ARRAY(SELECT random() FROM generate_series(1, 32) WHERE g > 0)::real[]::vector FROM generate_series(1, 5) g;},
		'sel@3' => q{SET enable_seqscan = off; SET ivfflat.probes = 3; SET ivfflat.iterative_scan = strict_order;
SELECT id FROM t ORDER BY v <-> ARRAY(SELECT random() FROM generate_series(1, 32))::real[]::vector LIMIT 5;},
		'del@1' => q{DELETE FROM t WHERE id IN (SELECT id FROM t ORDER BY random() LIMIT 3);},
		'vac@1' => q{VACUUM t;},
	});

is($node->safe_psql('postgres', q{SELECT vecx_index_check('t_idx', true)}), '',
	'index consistent after the concurrent workload');
$node->safe_psql('postgres', 'VACUUM t');
my $rows = $node->safe_psql('postgres', 'SELECT count(*) FROM t');
is($node->safe_psql('postgres', q{SET enable_seqscan = off; SET ivfflat.probes = 10;
	SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> array_fill(0.5, ARRAY[32])::vector LIMIT 1000000) s}),
	$rows, 'index holds exactly the live rows');
is($node->safe_psql('postgres', q{SET enable_seqscan = off; SET ivfflat.probes = 10;
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
