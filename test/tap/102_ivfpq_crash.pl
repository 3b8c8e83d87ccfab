# 102_ivfpq_crash.pl: immediate shutdown while clients insert into an ivfpq
# index, then crash recovery; the index must hold every committed row.  An
# unlogged table's index must be usable after the crash (init fork).
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use VecxTest;
use Test::More;

my $node = vecx_node('ivfpq_crash', conf => "autovacuum = off\nmax_connections = 20");

$node->safe_psql('postgres', q{
	CREATE TABLE t (id serial, v vector(8));
	INSERT INTO t (v) SELECT ARRAY(SELECT random() FROM generate_series(1, 8) WHERE i > 0)::real[]::vector
		FROM generate_series(1, 2000) i;
	CREATE INDEX t_idx ON t USING ivfpq (v vector_l2_ops) WITH (lists = 8);
	CREATE UNLOGGED TABLE u (id int, v vector(3));
	CREATE INDEX u_idx ON u USING ivfpq (v vector_l2_ops) WITH (lists = 2);
	INSERT INTO u VALUES (1, '[1,2,3]'), (2, '[3,2,1]');
});

my $tmp = PostgreSQL::Test::Utils::tempdir;
write_file("$tmp/ins.sql",
	"INSERT INTO t (v) SELECT ARRAY(SELECT random() FROM generate_series(1, 8) WHERE g > 0)::real[]::vector FROM generate_series(1, 20) g;\n");

my ($out, $err) = ('', '');
my $h = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '4', '-T', '60', '-f', "$tmp/ins.sql", '-h', $node->host, '-p', $node->port, 'postgres' ],
	'>', \$out, '2>', \$err);
# let the clients insert for a while, then crash
$node->poll_query_until('postgres', 'SELECT count(*) > 6000 FROM t') or die 'inserts did not progress';
$node->stop('immediate');
$h->finish;
$node->start;

my $rows = $node->safe_psql('postgres', 'SELECT count(*) FROM t');
cmp_ok($rows, '>', 6000, 'committed rows survived');
is($node->safe_psql('postgres', q{SET enable_seqscan = off; SET ivfpq.probes = 8;
	SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> array_fill(0.5, ARRAY[8])::vector LIMIT 1000000) s}),
	$rows, 'index holds every row after recovery');
is($node->safe_psql('postgres', q{SET enable_seqscan = off; SET ivfpq.probes = 8;
	SELECT array(SELECT id FROM t ORDER BY v <-> array_fill(0.3, ARRAY[8])::vector LIMIT 10)}),
	$node->safe_psql('postgres', q{SET enable_indexscan = off;
	SELECT array(SELECT id FROM t ORDER BY v <-> array_fill(0.3, ARRAY[8])::vector, id LIMIT 10)}),
	'index answers match an exact scan after recovery');
# and it still takes inserts
$node->safe_psql('postgres', q{INSERT INTO t (v) VALUES ('[9,9,9,9,9,9,9,9]')});
is($node->safe_psql('postgres', q{SET enable_seqscan = off;
	SELECT v FROM t ORDER BY v <-> '[9,9,9,9,9,9,9,9]' LIMIT 1}), '[9,9,9,9,9,9,9,9]', 'inserts work after recovery');

# unlogged: empty after the crash, and the index (reset from its init fork) works
is($node->safe_psql('postgres', 'SELECT count(*) FROM u'), '0', 'unlogged table emptied by crash recovery');
$node->safe_psql('postgres', q{INSERT INTO u VALUES (3, '[1,1,1]'), (4, '[5,5,5]')});
is($node->safe_psql('postgres', q{SET enable_seqscan = off;
	SELECT id FROM u ORDER BY v <-> '[4,4,4]' LIMIT 1}), '4', 'unlogged index works after crash');

$node->stop;
done_testing();
