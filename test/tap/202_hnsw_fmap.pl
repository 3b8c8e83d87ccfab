# 202_hnsw_fmap.pl: the filter map of hnsw indexes with filter columns
# (src/am/hnsw/hnswfmap.c) under concurrency, replication and damage.
#   - concurrent inserters and deleters (pgbench) with repeated VACUUMs on
#     a primary that streams to a standby, both running
#     wal_consistency_checking = 'generic' (every map record is compared
#     with its full-page image on replay);
#   - after each round: vecx_index_check clean (one map entry per live node,
#     holding its payload), selective filtered searches equal exact ones,
#     and the number of map pages stays bounded over delete/insert rounds;
#   - the standby replayed the map changes: its searches give the primary's
#     answers and its index checks clean;
#   - a damaged map page gives ERRCODE_INDEX_CORRUPTED (XX002) naming the
#     block, from vecx_index_check and from a search, never a crash.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use VecxTest;
use Test::More;

my $tmp = PostgreSQL::Test::Utils::tempdir;

my $primary = vecx_node('fmap_primary', streaming => 1, conf => qq{
wal_consistency_checking = 'generic'
full_page_writes = on
autovacuum = off
max_connections = 30
wal_keep_size = '512MB'
});

$primary->safe_psql('postgres', qq{
	SELECT setseed(0.5);
	CREATE TABLE t (id bigserial PRIMARY KEY, a int, b int, v vector(8));
	-- (the subqueries refer to g so that each row draws its own vector)
	INSERT INTO t (a, b, v) SELECT (random() * 99)::int, (random() * 9)::int,
		ARRAY(SELECT random() FROM generate_series(1, 8) WHERE g > 0)::real[]::vector(8)
		FROM generate_series(1, 3000) g;
	CREATE INDEX t_v ON t USING hnsw (v vector_l2_ops, a, b) WITH (m = 8, ef_construction = 32);
	-- built empty: the first insert creates the map
	CREATE TABLE e (id bigserial PRIMARY KEY, a int, v vector(8));
	CREATE INDEX e_v ON e USING hnsw (v vector_l2_ops, a) WITH (m = 8, ef_construction = 32);
	CREATE TABLE q (qid int, a int, b int, v vector(8));
	-- half the queries filter on a (1%), half on a and b (0.1%)
	INSERT INTO q SELECT i, i % 100, CASE WHEN i % 2 = 0 THEN -1 ELSE i % 10 END,
		ARRAY(SELECT random() FROM generate_series(1, 8) WHERE i > 0)::real[]::vector(8)
		FROM generate_series(1, 12) i;
	-- ids of the 10 nearest rows with a = qa and b = qb, through t_v or exactly
	CREATE FUNCTION ids(qa int, qb int, qv vector, useidx bool) RETURNS int8[]
	LANGUAGE plpgsql AS \$\$
	DECLARE r int8[];
	BEGIN
		IF useidx THEN
			SET LOCAL enable_seqscan = off;
			SET LOCAL enable_bitmapscan = off;
			SET LOCAL enable_indexscan = on;
		ELSE
			SET LOCAL enable_seqscan = on;
			SET LOCAL enable_indexscan = off;
		END IF;
		EXECUTE 'SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM t WHERE a = \$1'
			|| CASE WHEN qb >= 0 THEN ' AND b = \$2' ELSE '' END
			|| ' ORDER BY v <-> \$3 LIMIT 10) x' INTO r USING qa, qb, qv;
		RETURN r;
	END \$\$;
});

$primary->backup('b');
my $standby = vecx_standby($primary, 'fmap_standby', 'b', conf => qq{
wal_consistency_checking = 'generic'
max_standby_streaming_delay = -1
});

# pgbench scripts: inserts (into both tables) and deletes
my $ins = write_file("$tmp/ins.sql", "INSERT INTO t (a, b, v) SELECT (random() * 99)::int, (random() * 9)::int, "
  . "ARRAY(SELECT random() FROM generate_series(1, 8) WHERE g > 0)::real[]::vector(8) FROM generate_series(1, 5) g;\n"
  . "INSERT INTO e (a, v) SELECT (random() * 20)::int, "
  . "ARRAY(SELECT random() FROM generate_series(1, 8))::real[]::vector(8);\n");
my $del = write_file("$tmp/del.sql", "\\set k random(1, 200)\n"
  . "DELETE FROM t WHERE id % 200 = :k AND random() < 0.5;\n"
  . "DELETE FROM e WHERE id % 50 = :k % 50;\n");

# number of map pages (special space flags 8, page id FF93) of an index
sub map_pages
{
	my ($node, $idx) = @_;
	$node->safe_psql('postgres', 'CHECKPOINT');
	my $path = relation_path($node, $idx);
	open(my $f, '<', $path) or die "open $path: $!";
	binmode $f;
	my ($n, $page) = (0, '');
	while (read($f, $page, 8192) == 8192)
	{
		$n++ if unpack('V', substr($page, 8184, 4)) == 8 && unpack('v', substr($page, 8190, 2)) == 0xFF93;
	}
	close($f);
	return $n;
}

# selective searches through the index equal exact searches (12 queries)
sub exact_ok
{
	my ($node, $what) = @_;
	my $res = $node->safe_psql('postgres', q{
		SELECT count(*) FILTER (WHERE ids(a, b, v, true) IS NOT DISTINCT FROM ids(a, b, v, false)),
			count(*), sum(coalesce(array_length(ids(a, b, v, true), 1), 0)) FROM q});
	my ($same, $all, $rows) = split /\|/, $res;
	is($same, $all, "$what: filtered searches equal exact ones ($rows rows)");
	my $plan = $node->safe_psql('postgres',
		"EXPLAIN (COSTS OFF) SELECT id FROM t WHERE a = 3 AND b = 4 ORDER BY v <-> (SELECT v FROM q LIMIT 1) LIMIT 10");
	like($plan, qr/Index Scan using t_v/, "$what: the filtered search uses the index");
	my $e = $node->safe_psql('postgres', q{
		SET enable_seqscan = off;
		SELECT (SELECT count(*) FROM (SELECT id FROM e WHERE a = 7
			ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 1000) x)
			= (SELECT count(*) FROM e WHERE a = 7)});
	is($e, 't', "$what: every matching row of the small table through its index");
}

sub check_ok
{
	my ($node, $what) = @_;
	for my $idx (qw(t_v e_v))
	{
		my ($rc, $out, $err) = $node->psql('postgres', "SELECT vecx_index_check('$idx', true)");
		is($rc, 0, "$what: vecx_index_check('$idx') clean") or diag($err);
	}
}

check_ok($primary, 'after build');
exact_ok($primary, 'after build');
my $pages0 = map_pages($primary, 't_v');
cmp_ok($pages0, '>', 0, "the built index has map pages ($pages0)");

my @sizes;
for my $round (1 .. 4)
{
	my ($out, $err) = ('', '');
	my $bench = IPC::Run::start(
		[ 'pgbench', '-n', '-c', '3', '-j', '2', '-t', '150', '-f', "$ins\@2", '-f', "$del\@1",
		  '-h', $primary->host, '-p', $primary->port, 'postgres' ],
		'>', \$out, '2>', \$err);
	# vacuums while the inserts and deletes run
	for (1 .. 3)
	{
		$primary->safe_psql('postgres', 'VACUUM t; VACUUM e');
	}
	$bench->finish;
	is($bench->result(0), 0, "round $round: pgbench finished");
	unlike($err, qr/ERROR|FATAL|PANIC/, "round $round: no errors") or diag($err);
	# delete a share of the rows, vacuum, so the next round reuses space
	$primary->safe_psql('postgres', "DELETE FROM t WHERE id % 4 = $round % 4; VACUUM t; VACUUM e");
	check_ok($primary, "round $round");
	exact_ok($primary, "round $round");
	push @sizes, map_pages($primary, 't_v');
}
my $rows = $primary->safe_psql('postgres', 'SELECT count(*) FROM t');
my $inserted = $primary->safe_psql('postgres', 'SELECT max(id) FROM t');
note("map pages after build $pages0, after rounds @sizes; rows $rows of $inserted inserted");
# one map page holds 313 entries: without reuse of the space vacuum frees
# the map would hold every row ever inserted; it stays near the most rows
# the table had (3,000 at the start), and later rounds do not grow it
cmp_ok($sizes[-1], '<', int($inserted / 313) * 0.75, 'vacuumed map space is reused');
cmp_ok($sizes[-1], '<=', 2 * int(3000 / 313) + 4, 'the map stays bounded');
cmp_ok($sizes[-1], '<=', $sizes[0] + 2, 'delete/insert rounds do not keep growing the map');

# the standby replayed every map change, with consistency checks
$primary->wait_for_catchup($standby);
ok($standby->safe_psql('postgres', 'SELECT count(*) FROM t') eq $rows, 'standby has the rows');
check_ok($standby, 'standby');
exact_ok($standby, 'standby');
my $q = q{SELECT string_agg(ids(a, b, v, true)::text, ';' ORDER BY qid) FROM q};
is($standby->safe_psql('postgres', $q), $primary->safe_psql('postgres', $q),
	'standby answers like the primary');
unlike(slurp_file($standby->logfile), qr/inconsistent page found/, 'no inconsistent page on replay');
$standby->stop;

# ---- a damaged map page ----
my $mp_path = relation_path($primary, 't_v');
$primary->safe_psql('postgres', 'CHECKPOINT');
$primary->stop;
my $orig = read_bytes($mp_path);
my @mapblocks;
for (my $b = 0; $b * 8192 < length($orig); $b++)
{
	my $pg = substr($orig, $b * 8192, 8192);
	push @mapblocks, $b
	  if unpack('V', substr($pg, 8184, 4)) == 8 && unpack('v', substr($pg, 8190, 2)) == 0xFF93;
}
ok(@mapblocks > 1, 'map pages found in the file');

sub damaged
{
	my ($name, $pos, $bytes, $re) = @_;
	my $d = $orig;
	substr($d, $pos, length($bytes)) = $bytes;
	write_file($mp_path, $d);
	$primary->start;
	my ($rc, $out, $err) = $primary->psql('postgres',
		"\\set VERBOSITY verbose\nSELECT vecx_index_check('t_v')");
	isnt($rc, 0, "$name: vecx_index_check fails");
	like($err, qr/ERROR:\s+XX002: index "t_v" block \d+ offset \d+: /, "$name: index corrupted (XX002)");
	like($err, $re, "$name: names the damage") or diag($err);
	($rc, $out, $err) = $primary->psql('postgres',
		"\\set VERBOSITY verbose\nSET enable_seqscan = off; SET enable_bitmapscan = off;
		 SELECT id FROM t WHERE a = 3 AND b = 4 ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 10");
	ok($rc == 0 || $err =~ /XX002/, "$name: a filtered search errors with XX002 or works")
	  or diag($err);
	is($primary->safe_psql('postgres', 'SELECT 1'), '1', "$name: the server is still up");
	$primary->stop;
}

my $mb = $mapblocks[0];
# the map page header (PageGetContents, offset 24): next block, entry count, entry size
damaged('map page id', $mb * 8192 + 8190, "\x11\x11", qr/block $mb offset 0: .*page id/);
damaged('map entry count', $mb * 8192 + 28, "\xff\x7f", qr/block $mb offset 0: map page entry count/);
damaged('map link backwards', $mb * 8192 + 24, pack('V', 1), qr/block $mb offset 0: map page links to a lower block/);
# the first entry's node TID (block hi, block lo, offset) at offset 32
damaged('map entry node location', $mb * 8192 + 32, "\0\0\0\0\0\0",
	qr/block $mb offset 1: filter map entry names \(0,0\)/);
# its payload (null bitmap at 38, column a at 42): the node disagrees
damaged('map entry payload', $mb * 8192 + 42, pack('V', 12345),
	qr/filter map entry of node \(\d+,\d+\) differs/);

# restore and finish clean
write_file($mp_path, $orig);
$primary->start;
check_ok($primary, 'restored');
$primary->stop;

done_testing();
