# 015_hnsw_corrupt.pl: damaged hnsw pages give ERRCODE_INDEX_CORRUPTED
# naming the block, never a crash.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use VecxTest;
use Test::More;

my $node = vecx_node('corrupt');
$node->safe_psql('postgres', qq{
	CREATE TABLE t (id int, v vector(8));
	INSERT INTO t SELECT i, ARRAY(SELECT sin(i * 1.3 + j) FROM generate_series(1, 8) j)::vector(8)
		FROM generate_series(1, 2000) i;
	CREATE INDEX t_v ON t USING hnsw (v vector_l2_ops);
	CHECKPOINT;
});
my $path = relation_path($node, 't_v');
my $nblocks = $node->safe_psql('postgres', "SELECT pg_relation_size('t_v') / 8192");
my $q = qq{SET enable_seqscan = off; SET hnsw.ef_search = 200;
	SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> '[1,1,1,1,1,1,1,1]' LIMIT 100) s};
is($node->safe_psql('postgres', $q), '100', 'intact index answers');

# 1. garbage over the middle of the first data page's nodes
cmp_ok($nblocks, '>', 2, 'index has data pages');
smash_page($node, $path, 1, 2000, "\xff" x 4000);
my ($rc, $out, $err) = $node->psql('postgres', $q);
# the damaged page may or may not be on the search path; insert until it is
for my $i (1 .. 20)
{
	last if $rc != 0;
	($rc, $out, $err) = $node->psql('postgres', qq{SET enable_seqscan = off;
		SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> (SELECT v FROM t WHERE id = $i * 97) LIMIT 100) s});
}
isnt($rc, 0, 'a query over a smashed node page fails');
like($err, qr/index "t_v" contains a corrupted page at block \d+ offset \d+/, 'with an index-corrupted error naming block and offset');
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server is still up');

# 2. bad metapage magic
smash_page($node, $path, 0, 24, "\0\0\0\0");
($rc, $out, $err) = $node->psql('postgres', $q);
isnt($rc, 0, 'a bad metapage fails the scan');
like($err, qr/bad magic number in metapage|corrupted page at block 0/, 'and says so');
($rc, $out, $err) = $node->psql('postgres', "INSERT INTO t VALUES (0, '[1,2,3,4,5,6,7,8]')");
isnt($rc, 0, 'inserts fail too');
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server is still up');

# REINDEX repairs it
$node->safe_psql('postgres', 'REINDEX INDEX t_v');
is($node->safe_psql('postgres', $q), '100', 'REINDEX gives a working index');

# 3. format versions of development snapshots (hnsw 2 and 3, ivfpq 1
# before 0.1.0, ivfpq 3 before 0.2.0) are refused with a REINDEX hint; the
# version word follows the magic at the start of the metapage contents
$node->safe_psql('postgres', qq{
	CREATE INDEX t_i ON t USING ivfpq (v vector_cosine_ops) WITH (lists = 4);
	CREATE INDEX t_i3 ON t USING ivfpq (v vector_ip_ops) WITH (lists = 4);
	CHECKPOINT;
});
my $ipath = relation_path($node, 't_i');
$path = relation_path($node, 't_v');
smash_page($node, $path, 0, 28, pack('V', 3));
smash_page($node, $ipath, 0, 28, pack('V', 1));
smash_page($node, relation_path($node, 't_i3'), 0, 28, pack('V', 3));
for my $c ([ 't_v', '<->', 3 ], [ 't_i', '<=>', 1 ], [ 't_i3', '<#>', 3 ])
{
	my ($idx, $op, $version) = @$c;
	($rc, $out, $err) = $node->psql('postgres', qq{\\set VERBOSITY verbose
		SET enable_seqscan = off; SELECT id FROM t ORDER BY v $op '[1,1,1,1,1,1,1,1]' LIMIT 1});
	like($err, qr/ERROR:\s+0A000: index "$idx" has development format version $version, which is no longer read/,
		"$idx: development format version $version is refused");
	like($err, qr/HINT:\s+REINDEX/, "$idx: with a REINDEX hint");
	($rc, $out, $err) = $node->psql('postgres', "SELECT vecx_index_check('$idx')");
	like($err, qr/metapage format version is $version, expected/, "$idx: vecx_index_check reports it");
	$node->safe_psql('postgres', "REINDEX INDEX $idx");
	is($node->safe_psql('postgres', "SELECT vecx_index_check('$idx')"), '', "$idx: REINDEX repairs it");
}

$node->stop;
done_testing();
