# 016_hnsw_highdim.pl: hnsw indexes on 16000-dimension vectors (vectors in
# overflow pages) replay on a streaming standby under
# wal_consistency_checking = generic (build, inserts writing new chains,
# vacuum, inserts reusing freed nodes' chains), survive an immediate stop
# during concurrent inserts, and report damaged overflow pages as
# index corruption naming block and offset.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use VecxTest;
use Test::More;

my $tmp = PostgreSQL::Test::Utils::tempdir;
my $primary = vecx_node('primary', streaming => 1,
	conf => "wal_consistency_checking = 'generic'\nmax_wal_size = 1GB\nshared_buffers = 256MB");

sub rows
{
	my ($tbl, $typ, $dims, $lo, $hi) = @_;
	return "INSERT INTO $tbl SELECT i, ARRAY(SELECT random() - 0.5 + 0 * i FROM generate_series(1, $dims))::$typ($dims) FROM generate_series($lo, $hi) i;";
}

$primary->safe_psql('postgres', join("\n",
	'CREATE TABLE t (id int PRIMARY KEY, v vector(16000));',
	rows('t', 'vector', 16000, 1, 120),
	'CREATE INDEX t_v ON t USING hnsw (v vector_l2_ops) WITH (m = 16, ef_construction = 64);',
	'CREATE TABLE h (id int PRIMARY KEY, v halfvec(16000));',
	rows('h', 'halfvec', 16000, 1, 80),
	'CREATE INDEX h_v ON h USING hnsw (v halfvec_cosine_ops) WITH (m = 8, ef_construction = 32);'));

$primary->backup('bk');
my $standby = vecx_standby($primary, 'standby', 'bk', conf => "wal_consistency_checking = 'generic'");

# new chains (several records per vector), node writes, backlinks; vacuum;
# inserts into freed slots (chains rewritten in place)
$primary->safe_psql('postgres', join("\n",
	rows('t', 'vector', 16000, 121, 160),
	rows('h', 'halfvec', 16000, 81, 110),
	'DELETE FROM t WHERE id % 3 = 0;',
	'DELETE FROM h WHERE id % 3 = 0;',
	'VACUUM t;', 'VACUUM h;',
	rows('t', 'vector', 16000, 161, 190),
	rows('h', 'halfvec', 16000, 111, 130)));
$primary->wait_for_catchup($standby);

my $q = qq{
	SET enable_seqscan = off;
	SET hnsw.ef_search = 400;
	SELECT string_agg(id::text, ',') FROM
		(SELECT id FROM t ORDER BY v <-> (SELECT v FROM t WHERE id = 17) LIMIT 20) s;
	SELECT string_agg(id::text, ',') FROM
		(SELECT id FROM t ORDER BY v <-> (SELECT v FROM t WHERE id = 185) LIMIT 20) s;
	SELECT string_agg(id::text, ',') FROM
		(SELECT id FROM h ORDER BY v <=> (SELECT v FROM h WHERE id = 125) LIMIT 20) s;
	SET hnsw.iterative_scan = relaxed_order;
	SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> (SELECT v FROM t WHERE id = 1) LIMIT 1000) s;
};
my $p = $primary->safe_psql('postgres', $q);
my $s = $standby->safe_psql('postgres', $q);
is($s, $p, 'standby returns the same rows as the primary');
like($p, qr/^17,.*\n185,.*\n125,.*\n\d+$/, 'each query row is its own nearest neighbour');
my $n = $primary->safe_psql('postgres', 'SELECT count(*) FROM t');
like($p, qr/\n$n$/, "the index returns every row, reading every chain ($n)");
my $exact = $primary->safe_psql('postgres', qq{
	SELECT string_agg(id::text, ',') FROM
		(SELECT id FROM t ORDER BY v <-> (SELECT v FROM t WHERE id = 17) LIMIT 20) s});
like($p, qr/^\Q$exact\E\n/, 'index order equals exact order');

my $log = slurp_file($standby->logfile);
unlike($log, qr/inconsistent page found/, 'no page inconsistency during replay');
$standby->stop;

# crash during concurrent inserts of 16000-dimension vectors
my $before = $primary->safe_psql('postgres', 'SELECT count(*) FROM t');
my @bg;
for my $c (0 .. 1)
{
	my ($out, $err) = ('', '');
	my $sql = '';
	for my $b (0 .. 200)
	{
		my $lo = 1000 + $c * 100000 + $b * 2;
		$sql .= rows('t', 'vector', 16000, $lo, $lo + 1) . "\n";
	}
	push @bg, psql_file_bg($primary, write_file("$tmp/ins$c.sql", $sql), \$out, \$err);
}
$primary->poll_query_until('postgres', "SELECT count(*) > $before + 20 FROM t")
	or die "background inserts made no progress";
$primary->stop('immediate');
$_->kill_kill for @bg;
$primary->start;

my $after = $primary->safe_psql('postgres', 'SELECT count(*) FROM t');
cmp_ok($after, '>', $before + 20, "rows committed before the crash survive ($after)");
# every committed row has its node and a readable chain: a relaxed_order
# scan ends with the exact pass over every node, so it returns them all
my $full = qq{SET enable_seqscan = off; SET hnsw.iterative_scan = relaxed_order;
	SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> (SELECT v FROM t WHERE id = 1) LIMIT 100000) s};
is($primary->safe_psql('postgres', $full), $after, 'every committed row is in the index after recovery');
# and the graph walk finds them: on random 16000-dimension data
# a concurrent-insert graph may leave a node without in-links (not a storage
# matter), so allow one or two
my $missing = $primary->safe_psql('postgres', qq{
	SET enable_seqscan = off;
	SET hnsw.ef_search = 1000;
	SELECT count(*) FROM t WHERE id <> (SELECT id FROM t t2 ORDER BY t2.v <-> t.v LIMIT 1);
});
cmp_ok($missing, '<=', 2, "committed rows are their own nearest neighbour through the walk ($missing misses)");
$primary->safe_psql('postgres', rows('t', 'vector', 16000, 5000, 5002));
is($primary->safe_psql('postgres', qq{SET enable_seqscan = off;
	SELECT id FROM t ORDER BY v <-> (SELECT v FROM t WHERE id = 5001) LIMIT 1}), '5001',
	'inserts after recovery are found');
is($primary->safe_psql('postgres', $full), $primary->safe_psql('postgres', 'SELECT count(*) FROM t'),
	'the index still returns every row');

# damaged overflow pages: build layout is metapage, one node page, then
# node i's 8 slices on blocks 2 + 8i .. 9 + 8i, one item each at byte 32
$primary->safe_psql('postgres', join("\n",
	'CREATE TABLE c (id int PRIMARY KEY, v vector(16000));',
	rows('c', 'vector', 16000, 1, 20),
	'CREATE INDEX c_v ON c USING hnsw (v vector_l2_ops);',
	'CHECKPOINT;'));
is($primary->safe_psql('postgres', 'SELECT pg_relation_size(\'c_v\') / 8192'), 2 + 20 * 8,
	'index layout: metapage, one node page, 8 overflow pages per vector');
my $path = relation_path($primary, 'c_v');
my $cq = qq{SET enable_seqscan = off; SET hnsw.ef_search = 100;
	SELECT count(*) FROM (SELECT id FROM c ORDER BY v <-> (SELECT v FROM c WHERE id = 3) LIMIT 100) s};
is($primary->safe_psql('postgres', $cq), '20', 'intact index answers');

# slice sequence number of node 0's first slice
smash_page($primary, $path, 2, 32, "\x05\x05");
my ($rc, $out, $err) = $primary->psql('postgres', $cq);
isnt($rc, 0, 'a damaged slice header fails the scan');
like($err, qr/index "c_v" contains a corrupted page at block 2 offset 1/, 'naming block and offset');
like($err, qr/overflow slice header out of range/, 'and what is wrong');
$primary->safe_psql('postgres', 'REINDEX INDEX c_v');
is($primary->safe_psql('postgres', $cq), '20', 'REINDEX repairs it');
$path = relation_path($primary, 'c_v');

# page flags of node 1's third slice: no longer an overflow page
smash_page($primary, $path, 2 + 8 + 2, 8192 - 8, "\x02\x00\x00\x00");
($rc, $out, $err) = $primary->psql('postgres', $cq);
isnt($rc, 0, 'a page that is not an overflow page fails the scan');
like($err, qr/corrupted page at block 12 offset 1.*\n.*not an hnsw overflow page/, 'naming block, offset and the problem');
is($primary->safe_psql('postgres', 'SELECT 1'), '1', 'the server is still up');

$primary->stop;
done_testing();
