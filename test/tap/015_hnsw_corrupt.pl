# 015_hnsw_corrupt.pl: damaged hnsw pages give ERRCODE_INDEX_CORRUPTED
# naming the block, never a crash.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('corrupt');
$node->init;
$node->start;
$node->safe_psql('postgres', qq{
	CREATE EXTENSION vecx;
	CREATE TABLE t (id int, v vector(8));
	INSERT INTO t SELECT i, ARRAY(SELECT sin(i * 1.3 + j) FROM generate_series(1, 8) j)::vector(8)
		FROM generate_series(1, 2000) i;
	CREATE INDEX t_v ON t USING hnsw (v vector_l2_ops);
	CHECKPOINT;
});
my $path = $node->data_dir . '/' . $node->safe_psql('postgres', "SELECT pg_relation_filepath('t_v')");
my $nblocks = $node->safe_psql('postgres', "SELECT pg_relation_size('t_v') / 8192");
my $q = qq{SET enable_seqscan = off; SET hnsw.ef_search = 200;
	SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> '[1,1,1,1,1,1,1,1]' LIMIT 100) s};
is($node->safe_psql('postgres', $q), '100', 'intact index answers');

# overwrite bytes of a page in place
sub smash
{
	my ($blk, $off, $bytes) = @_;
	$node->stop;
	open(my $fh, '+<', $path) or die "open $path: $!";
	binmode $fh;
	seek($fh, $blk * 8192 + $off, 0);
	print $fh $bytes;
	close($fh);
	$node->start;
}

# 1. garbage over the middle of the first data page's nodes
cmp_ok($nblocks, '>', 2, 'index has data pages');
smash(1, 2000, "\xff" x 4000);
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
smash(0, 24, "\0\0\0\0");
($rc, $out, $err) = $node->psql('postgres', $q);
isnt($rc, 0, 'a bad metapage fails the scan');
like($err, qr/bad magic number in metapage|corrupted page at block 0/, 'and says so');
($rc, $out, $err) = $node->psql('postgres', "INSERT INTO t VALUES (0, '[1,2,3,4,5,6,7,8]')");
isnt($rc, 0, 'inserts fail too');
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server is still up');

# REINDEX repairs it
$node->safe_psql('postgres', 'REINDEX INDEX t_v');
is($node->safe_psql('postgres', $q), '100', 'REINDEX gives a working index');

$node->stop;
done_testing();
