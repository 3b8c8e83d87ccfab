# 411_stat_shared.pl: with vecx in shared_preload_libraries the scan
# counters of vecx_stat_indexes live in shared memory: every session's
# scans add up, a reset is seen by all, a full table drops new indexes'
# counts, and the counters survive the sessions (not a restart).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use VecxTest;
use Test::More;

my $node = vecx_node('stat', conf => "shared_preload_libraries = 'vecx'\nvecx.stat_max_indexes = 16\n");

is($node->safe_psql('postgres', 'SELECT vecx_stat_shared()'), 't', 'preloaded: the counters are shared');
is($node->safe_psql('postgres', 'SHOW vecx.stat_max_indexes'), '16', 'vecx.stat_max_indexes is set');

$node->safe_psql('postgres', q{
	CREATE TABLE t (id int, v vector(3));
	INSERT INTO t SELECT i, ARRAY[i % 17, i % 5, i % 11]::real[]::vector FROM generate_series(1, 500) i;
	CREATE INDEX t_hnsw ON t USING hnsw (v vector_l2_ops);
});

my $q_hnsw = q{SET enable_seqscan = off;
	SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> '[1,2,3]' LIMIT 4) s};

# three sessions, two scans each: all six counted
for my $i (1 .. 3)
{
	$node->safe_psql('postgres', "$q_hnsw; $q_hnsw");
}
is($node->safe_psql('postgres',
	"SELECT scans || ' ' || tuples_returned FROM vecx_stat_indexes WHERE indexrelname = 't_hnsw'"),
	'6 24', 'scans of three sessions add up');

# concurrent sessions through pgbench: 4 clients x 25 scans
my $script = $node->basedir . '/scan.sql';
PostgreSQL::Test::Utils::append_to_file($script,
	"SET enable_seqscan = off;\nSELECT id FROM t ORDER BY v <-> '[3,2,1]' LIMIT 2;\n");
$node->command_ok([ 'pgbench', '-n', '-c', '4', '-t', '25', '-f', $script, 'postgres' ],
	'pgbench scans');
is($node->safe_psql('postgres',
	"SELECT scans || ' ' || tuples_returned FROM vecx_stat_indexes WHERE indexrelname = 't_hnsw'"),
	'106 224', 'concurrent scans all counted');

# a reset in one session is seen by the next
$node->safe_psql('postgres', "SELECT vecx_stat_reset('t_hnsw')");
is($node->safe_psql('postgres',
	"SELECT scans FROM vecx_stat_indexes WHERE indexrelname = 't_hnsw'"), '0', 'reset seen by others');

# the table holds 16 entries: t_hnsw (scanned, then dropped: its entry
# stays until a reset) and the indexes of 15 of 16 small tables; the
# last one scanned is not counted
$node->safe_psql('postgres', q{
	SET enable_seqscan = off;
	SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> '[1,1,1]' LIMIT 1) s;
	SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> '[1,1,1]' LIMIT 1) s;
	DROP INDEX t_hnsw;
});
for my $i (1 .. 16)
{
	$node->safe_psql('postgres', qq{
		CREATE TABLE s$i (v vector(2));
		INSERT INTO s$i SELECT ARRAY[g, $i]::real[]::vector FROM generate_series(1, 20) g;
		CREATE INDEX s${i}_idx ON s$i USING hnsw (v vector_l2_ops);
		SET enable_seqscan = off;
		SELECT count(*) FROM (SELECT v FROM s$i ORDER BY v <-> '[1,1]' LIMIT 1) s;
	});
}
is($node->safe_psql('postgres',
	"SELECT string_agg(indexrelname, ',' ORDER BY indexrelname) FROM vecx_stat_indexes WHERE scans = 0"),
	's16_idx', 'a full table leaves the next index uncounted (the dropped index keeps its slot)');
$node->safe_psql('postgres', 'SELECT vecx_stat_reset()');
$node->safe_psql('postgres', q{SET enable_seqscan = off;
	SELECT count(*) FROM (SELECT v FROM s16 ORDER BY v <-> '[1,1]' LIMIT 1) s});
is($node->safe_psql('postgres',
	"SELECT string_agg(indexrelname, ',') FROM vecx_stat_indexes WHERE scans > 0"),
	's16_idx', 'after a reset it is counted');

$node->restart;
is($node->safe_psql('postgres',
	"SELECT count(*) FROM vecx_stat_indexes WHERE scans > 0"), '0', 'a restart clears the counters');

$node->stop;
done_testing();
