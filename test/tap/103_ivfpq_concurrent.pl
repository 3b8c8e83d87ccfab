# 103_ivfpq_concurrent.pl: concurrent inserts, searches, deletes and vacuum
# on an ivfpq index (pgbench), then the index must match the table.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use VecxTest;
use Test::More;

my $node = vecx_node('ivfpq_concurrent', conf => "autovacuum = off\nmax_connections = 20");

$node->safe_psql('postgres', q{
	CREATE TABLE t (id serial, v vector(8));
	INSERT INTO t (v) SELECT ARRAY(SELECT random() FROM generate_series(1, 8) WHERE i > 0)::real[]::vector
		FROM generate_series(1, 1000) i;
	CREATE INDEX t_idx ON t USING ivfpq (v vector_l2_ops) WITH (lists = 4);
});

$node->pgbench(
	'--no-vacuum --client=4 --transactions=150',
	0, [qr{actually processed}], [qr{^$}], 'concurrent insert, search, delete, vacuum',
	{
		'ins@6' => q{INSERT INTO t (v) SELECT ARRAY(SELECT random() FROM generate_series(1, 8) WHERE g > 0)::real[]::vector FROM generate_series(1, 5) g;},
		'sel@3' => q{SET enable_seqscan = off;
SELECT id FROM t ORDER BY v <-> ARRAY(SELECT random() FROM generate_series(1, 8))::real[]::vector LIMIT 5;},
		'del@1' => q{DELETE FROM t WHERE id IN (SELECT id FROM t ORDER BY random() LIMIT 3);},
		'vac@1' => q{VACUUM t;},
	});

my $rows = $node->safe_psql('postgres', 'SELECT count(*) FROM t');
is($node->safe_psql('postgres', q{SET enable_seqscan = off; SET ivfpq.probes = 4;
	SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> array_fill(0.5, ARRAY[8])::vector LIMIT 1000000) s}),
	$rows, 'index holds exactly the live rows');
$node->safe_psql('postgres', 'VACUUM t');
is($node->safe_psql('postgres', q{SET enable_seqscan = off; SET ivfpq.probes = 4;
	SELECT array(SELECT id FROM t ORDER BY v <-> array_fill(0.3, ARRAY[8])::vector LIMIT 20)}),
	$node->safe_psql('postgres', q{SET enable_indexscan = off;
	SELECT array(SELECT id FROM t ORDER BY v <-> array_fill(0.3, ARRAY[8])::vector, id LIMIT 20)}),
	'index answers match an exact scan');

$node->stop;
done_testing();
