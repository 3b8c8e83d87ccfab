# 362_check_standby.pl: vecx_index_check() on a hot standby: logged hnsw and
# ivfpq indexes are checked (heapallindexed too); an unlogged index, which
# has no main fork during recovery, is skipped with a NOTICE.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use VecxTest;
use Test::More;

my $primary = vecx_node('primary', streaming => 1);
$primary->safe_psql('postgres', qq{
	CREATE TABLE t (id int, v vector(4));
	INSERT INTO t SELECT i, ARRAY[sin(i), cos(i), i % 5, 1]::vector(4) FROM generate_series(1, 1000) i;
	CREATE INDEX t_h ON t USING hnsw (v vector_l2_ops);
	CREATE INDEX t_i ON t USING ivfpq (v vector_l2_ops) WITH (lists = 4);
	CREATE UNLOGGED TABLE u (v vector(4));
	INSERT INTO u SELECT ARRAY[i, 1, 2, 3]::vector(4) FROM generate_series(1, 100) i;
	CREATE INDEX u_h ON u USING hnsw (v vector_l2_ops);
});
$primary->backup('b');
my $standby = vecx_standby($primary, 'standby', 'b');
$primary->safe_psql('postgres', qq{
	INSERT INTO t SELECT i, ARRAY[sin(i), cos(i), i % 5, 2]::vector(4) FROM generate_series(1001, 1500) i;
	DELETE FROM t WHERE id % 4 = 0;
	VACUUM t;
});
$primary->wait_for_catchup($standby);

is($standby->safe_psql('postgres', "SELECT vecx_index_check('t_h', true), vecx_index_check('t_i', true)"),
	'|', 'logged indexes pass on the standby with heapallindexed');
my ($rc, $out, $err) = $standby->psql('postgres', "SELECT vecx_index_check('u_h')");
is($rc, 0, 'an unlogged index does not fail on the standby');
like($err, qr/NOTICE:\s+cannot verify unlogged index "u_h" during recovery, skipping/, 'it is skipped with a notice');
is($primary->safe_psql('postgres', "SELECT vecx_index_check('u_h', true)"), '', 'and checked on the primary');

$standby->stop;
$primary->stop;
done_testing();
