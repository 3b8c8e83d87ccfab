# 360_check_corruption.pl: vecx_index_check() finds damage written into
# hnsw, ivfpq and ivfflat index files (metapage magic, page id, line
# pointer, neighbour reference, dimension field, list number, heap TID,
# codes, list encoding, stored vectors),
# raising an index-corrupted error that names the block; queries over the
# damaged index fail cleanly or work, and the server never crashes.  Also:
# heapallindexed reports a row the index lacks, and the refusals (invalid
# index, another session's temporary index).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use VecxTest;
use Test::More;

my $node = vecx_node('check', conf => "autovacuum = off\n");
$node->safe_psql('postgres', qq{
	CREATE TABLE t (id int, v vector(8));
	INSERT INTO t SELECT i, ARRAY(SELECT round((sin(i * 1.3 + j) * 10)::numeric, 3) FROM generate_series(1, 8) j)::vector(8)
		FROM generate_series(1, 2000) i;
	CREATE INDEX t_h ON t USING hnsw (v vector_l2_ops);
	CREATE INDEX t_i ON t USING ivfpq (v vector_l2_ops) WITH (lists = 4);
	CREATE INDEX t_i8 ON t USING ivfpq (v vector_l2_ops) WITH (lists = 4, pq_bits = 8);
	-- a table of its own: the queries over t must keep using t_h, t_i, t_i8
	CREATE TABLE tf AS SELECT * FROM t;
	CREATE INDEX t_f ON tf USING ivfflat (v vector_l2_ops) WITH (lists = 4);
	CHECKPOINT;
});

for my $idx (qw(t_h t_i t_i8 t_f))
{
	is($node->safe_psql('postgres', "SELECT vecx_index_check('$idx', true)"), '',
		"intact $idx passes with heapallindexed");
}

my %path;
$path{$_} = relation_path($node, $_) for qw(t_h t_i t_i8 t_f);

# pristine copies, taken with the server stopped
$node->stop;
my %orig = map { $_ => read_bytes($path{$_}) } keys %path;
$node->start;

# overwrite bytes of an index file in place; restore() puts it back
sub smash
{
	my ($idx, $pos, $bytes) = @_;
	$node->stop;
	my $d = $orig{$idx};
	substr($d, $pos, length($bytes)) = $bytes;
	write_file($path{$idx}, $d);
	$node->start;
}

sub restore
{
	my ($idx) = @_;
	$node->stop;
	write_file($path{$idx}, $orig{$idx});
	$node->start;
}

sub page { my ($idx, $blk) = @_; return substr($orig{$idx}, $blk * 8192, 8192); }

# line pointer $off of a page: (item offset, flags, length)
sub lp
{
	my ($pg, $off) = @_;
	my $v = unpack('V', substr($pg, 24 + 4 * ($off - 1), 4));
	return ($v & 0x7fff, ($v >> 15) & 3, $v >> 17);
}

# the query each case runs over the damaged index: an error or rows, never a crash
my %query = (
	t_h => "SET enable_seqscan = off; SELECT id FROM t ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 5",
	t_i => "SET enable_seqscan = off; SET ivfpq.probes = 4; SELECT id FROM t ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 5",
);
$query{t_i8} = $query{t_i};
$query{t_f} = "SET enable_seqscan = off; SET ivfflat.probes = 4; SELECT id FROM tf ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 5";

# one case: damage, check, query, the server survives, restore
sub case
{
	my ($name, $idx, $pos, $bytes, $hai, $re, $noquery) = @_;
	smash($idx, $pos, $bytes);
	my ($rc, $out, $err) = $node->psql('postgres',
		"SELECT vecx_index_check('$idx', $hai)");
	isnt($rc, 0, "$name: vecx_index_check fails");
	like($err, $re, "$name: reported with block and offset");
	like($err, qr/ERROR:\s+index "$idx" block \d+ offset \d+: /, "$name: as an index error");
	if (!$noquery)
	{
		($rc, $out, $err) = $node->psql('postgres', $query{$idx});
		ok($rc == 0 || $err =~ /ERROR/, "$name: a query over the damaged index errors or works");
	}
	is($node->safe_psql('postgres', 'SELECT 1'), '1', "$name: the server is still up");
	restore($idx);
}

# the SQLSTATE, once
{
	smash('t_h', 24, "\0\0\0\0");
	my ($rc, $out, $err) = $node->psql('postgres',
		"\\set VERBOSITY verbose\nSELECT vecx_index_check('t_h')");
	like($err, qr/ERROR:\s+XX002: index "t_h" block 0 offset 0: metapage magic/, 'ERRCODE_INDEX_CORRUPTED (XX002)');
	restore('t_h');
}

# ---- hnsw --------------------------------------------------------------
case('hnsw metapage magic', 't_h', 24, "\0\0\0\0", 'false',
	qr/block 0 offset 0: metapage magic is 00000000/);
case('hnsw page id', 't_h', 8192 + 8190, "\x11\x11", 'false',
	qr/block 1 offset 0: page id is 1111/);

{
	my $pg = page('t_h', 1);
	my ($ioff, $flags, $len) = lp($pg, 1);
	cmp_ok($len, '>=', 56, 'first node of block 1 found');

	# a line pointer that runs past the special space
	case('hnsw line pointer', 't_h', 8192 + 24,
		pack('V', 8176 | (1 << 15) | ($len << 17)), 'false',
		qr/block 1 offset 1: line pointer \(offset 8176, length $len\) lies outside/);

	# the dimension field of a node
	case('hnsw node dimensions', 't_h', 8192 + $ioff + 2, pack('v', 9), 'false',
		qr/block 1 offset 1: node has 9 dimensions, the index 8/);

	# neighbour references: level-0 list after header (56), vector (32), counts
	my $level = ord(substr($pg, $ioff + 1, 1));
	my $count0 = ord(substr($pg, $ioff + 88, 1));
	my $nbrs = $ioff + 88 + (($level + 2) & ~1);
	cmp_ok($count0, '>=', 2, 'node has level-0 neighbours');
	case('hnsw neighbour past the end', 't_h', 8192 + $nbrs, pack('vvv', 0, 60000, 1), 'false',
		qr/block 1 offset 1: level 0 neighbour \(60000,1\) does not point at a node/);
	case('hnsw neighbour offset', 't_h', 8192 + $nbrs, pack('vvv', 0, 1, 500), 'false',
		qr/block 1 offset 1: level 0 neighbour \(1,500\) does not point at a node/);
	case('hnsw duplicate neighbour', 't_h', 8192 + $nbrs + 6, substr($pg, $nbrs, 6), 'false',
		qr/block 1 offset 1: level 0 lists neighbour \(\d+,\d+\) twice/);
	case('hnsw neighbour count', 't_h', 8192 + $ioff + 88, chr(200), 'false',
		qr/block 1 offset 1: level 0 has 200 neighbours, at most 32 fit/);
	case('hnsw heap TID', 't_h', 8192 + $ioff + 8, pack('vvv', 0, 50000, 1), 'false',
		qr/block 1 offset 1: heap TID \(50000,1\) points past the end of table "t"/);
	# a vector element changed: only the heap comparison can see it
	smash('t_h', 8192 + $ioff + 56, pack('f', 1234.5));
	is($node->safe_psql('postgres', "SELECT vecx_index_check('t_h')"), '',
		'hnsw changed vector element: structure still valid');
	my ($rc, $out, $err) = $node->psql('postgres', "SELECT vecx_index_check('t_h', true)");
	like($err, qr/index "t_h" block 1 offset 1: node vector differs from heap tuple \(\d+,\d+\) at element 0 \(1234\.5,/,
		'hnsw changed vector element: found with heapallindexed');
	restore('t_h');
}

# ---- ivfpq ---------------------------------------------------------------
# find the first data page of each index (special space: next, list, type, id)
sub first_data_page
{
	my ($idx, $type) = @_;
	my $n = length($orig{$idx}) / 8192;
	for my $b (1 .. $n - 1)
	{
		my ($next, $list, $t, $id) = unpack('VVvv', substr($orig{$idx}, $b * 8192 + 8176, 12));
		return ($b, $list) if $t == $type && $id == 0xFF91;
	}
	die "no data page of type $type in $idx";
}

case('ivfpq metapage magic', 't_i', 24, "\0\0\0\0", 'false',
	qr/block 0 offset 0: metapage magic is 00000000/);
{
	my ($b, $list) = first_data_page('t_i', 6);
	case('ivfpq page id', 't_i', $b * 8192 + 8186, "\x22\x22", 'false',
		qr/block $b offset 0: page id is 2222/);
	case('ivfpq list number', 't_i', $b * 8192 + 8180, pack('V', 99999), 'false',
		qr/block $b offset 0: data page belongs to list 99999, but is on the chain of list $list/);
	# a scan, insert or vacuum walking the cyclic chain stops with an error
	case('ivfpq chain cycle', 't_i', $b * 8192 + 8176, pack('V', $b), 'false',
		qr/block $b offset 0: list $list links to block $b, which belongs to another list or this list/);
	# with every list probed the scan reaches the loop: an error, not a hang
	smash('t_i', $b * 8192 + 8176, pack('V', $b));
	my ($rc, $out, $err) = $node->psql('postgres', $query{t_i});
	like($err, qr/index "t_i" block $b offset 0: page chain of list $list loops/,
		'ivfpq chain cycle: a scan stops with an index error');
	restore('t_i');
	case('ivfpq block entry count', 't_i', $b * 8192 + 24, pack('v', 17), 'false',
		qr/block $b offset 1: fast-scan block 0 holds 17 entries/);
	case('ivfpq heap TID', 't_i', $b * 8192 + 32, pack('vvv', 0, 50000, 1), 'false',
		qr/block $b offset 1: heap TID \(50000,1\) points past the end of table "t"/);
	# codes of slot 0 (two groups of four 4-bit codes: bytes 0 and 16 of each group)
	my $pg = page('t_i', $b);
	my $c = 24 + 232;
	my $d = $orig{t_i};
	for my $o ($c, $c + 16, $c + 32, $c + 48)
	{
		substr($d, $b * 8192 + $o, 1) = chr(ord(substr($pg, $o, 1)) ^ 0xFF);
	}
	smash('t_i', $b * 8192, substr($d, $b * 8192, 8192));
	is($node->safe_psql('postgres', "SELECT vecx_index_check('t_i')"), '',
		'ivfpq changed codes: structure still valid');
	($rc, $out, $err) = $node->psql('postgres', "SELECT vecx_index_check('t_i', true)");
	like($err, qr/index "t_i" block $b offset 1: codes decode to distance \S+ from heap tuple \(\d+,\d+\) in list $list, beyond the entry's error bound/,
		'ivfpq changed codes: found with heapallindexed');
	is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server is still up');
	restore('t_i');
}
{
	my ($b, $list) = first_data_page('t_i8', 5);
	my ($ioff, $flags, $len) = lp(page('t_i8', $b), 1);
	case('ivfpq item length', 't_i8', $b * 8192 + 24,
		pack('V', $ioff | (1 << 15) | (($len - 8) << 17)), 'false',
		qr/block $b offset 1: item length @{[$len - 8]} is below the minimum $len/);
	# the 8-bit codes of the first entry (after TID, flags, err and norm)
	my $d = $orig{t_i8};
	for my $o (16 .. $len - 1)
	{
		substr($d, $b * 8192 + $ioff + $o, 1) = chr(ord(substr($d, $b * 8192 + $ioff + $o, 1)) ^ 0xFF);
	}
	smash('t_i8', $b * 8192, substr($d, $b * 8192, 8192));
	is($node->safe_psql('postgres', "SELECT vecx_index_check('t_i8')"), '',
		'ivfpq changed 8-bit codes: structure still valid');
	my ($rc, $out, $err) = $node->psql('postgres', "SELECT vecx_index_check('t_i8', true)");
	like($err, qr/index "t_i8" block $b offset 1: codes decode to distance \S+ from heap tuple \(\d+,\d+\) in list $list, beyond the entry's error bound/,
		'ivfpq changed 8-bit codes: found with heapallindexed');
	restore('t_i8');
}

# ---- ivfpq recall calibration (metapage format 5, contents offset 76) -------
# t_i has 4 lists: two entries, recall at 1 and 2 probes
case('ivfpq calibration entries', 't_i', 24 + 76, pack('V', 9), 'false',
	qr/block 0 offset 100: recall calibration has 9 entries, expected 2 for 4 lists/);
case('ivfpq calibration falls', 't_i', 24 + 80, pack('vv', 65535, 0), 'false',
	qr/block 0 offset 106: recall calibration entry 1 \(0\) is below entry 0 \(65535\)/);
case('ivfpq calibration unused entry', 't_i', 24 + 80 + 2 * 5, pack('v', 7), 'false',
	qr/block 0 offset 114: unused recall calibration entry 5 is 7, expected 0/);
# the calibration prices the misses; a format 4 metapage (no calibration)
# is read, checked and costed as before
{
	my $cost = sub {
		my $j = $node->safe_psql('postgres', qq{
			BEGIN;
			DROP INDEX t_h;
			DROP INDEX t_i8;
			SET LOCAL ivfpq.probes = 1;
			SET LOCAL enable_seqscan = off;
			EXPLAIN (FORMAT JSON) SELECT id FROM t ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 5;
			ROLLBACK;
		});
		return $j =~ /"Index Name": "t_i".*?"Total Cost": ([0-9.]+)/s ? $1 : -1;
	};
	my $calibrated = $cost->();
	cmp_ok($calibrated, '>', 0, 'the index is costed');
	my $want = $node->safe_psql('postgres', $query{t_i});
	# recall 0 at 1 and 2 probes of 4 lists: the misses cost an exact plan
	my $meta = substr($orig{t_i}, 0, 8192);
	substr($meta, 24 + 80, 4) = pack('vv', 0, 0);
	smash('t_i', 0, $meta);
	is($node->safe_psql('postgres', "SELECT vecx_index_check('t_i')"), '',
		'calibration of recall 0: passes the check');
	my $low = $cost->();
	cmp_ok($low, '>', $calibrated, 'calibration of recall 0: misses charged');
	# the same page as format 4: the calibration is not read
	substr($meta, 28, 4) = pack('V', 4);
	smash('t_i', 0, $meta);
	is($node->safe_psql('postgres', "SELECT vecx_index_check('t_i', true)"), '',
		'format 4 metapage: passes the check');
	is($node->safe_psql('postgres', $query{t_i}), $want, 'format 4 metapage: the scan answers as before');
	my $old = $cost->();
	cmp_ok($old, '>', 0, 'format 4 metapage: the index is costed');
	cmp_ok($old, '<', $low, 'format 4 metapage: no calibration, no misses charged');
	cmp_ok($old, '<=', $calibrated, 'format 4 metapage: costs at most the calibrated index');
	restore('t_i');
}

# ---- ivfflat: the list encoding and the stored vectors ----------------------
# the metapage's encoding word (contents offset 68) names the access method
case('ivfflat list encoding', 't_f', 24 + 68, pack('V', 0), 'false',
	qr/block 0 offset 0: metapage list encoding 0 does not belong to access method ivfflat/);
{
	my ($b, $list) = first_data_page('t_f', 5);
	my ($ioff, $flags, $len) = lp(page('t_f', $b), 1);
	# the first element of the first entry's vector (after TID and flags)
	case('ivfflat element not finite', 't_f', $b * 8192 + $ioff + 8, pack('f', 9**9**9), 'false',
		qr/block $b offset 1: vector element 1 is not finite/);
	smash('t_f', $b * 8192 + $ioff + 8, pack('f', 12345.5));
	is($node->safe_psql('postgres', "SELECT vecx_index_check('t_f')"), '',
		'ivfflat changed vector: structure still valid');
	my ($rc, $out, $err) = $node->psql('postgres', "SELECT vecx_index_check('t_f', true)");
	like($err, qr/index "t_f" block $b offset 1: entry vector differs from heap tuple \(\d+,\d+\)/,
		'ivfflat changed vector: found with heapallindexed');
	restore('t_f');
}

# ---- heapallindexed: a row the index lacks --------------------------------
# Rows inserted while the indexes are marked not ready are not indexed.
$node->safe_psql('postgres', qq{
	CREATE TABLE m (id int, v vector(3));
	INSERT INTO m SELECT i, ARRAY[i, i % 7, 1]::vector(3) FROM generate_series(1, 200) i;
	CREATE INDEX m_h ON m USING hnsw (v vector_l2_ops);
	CREATE INDEX m_i ON m USING ivfpq (v vector_l2_ops) WITH (lists = 2);
	UPDATE pg_index SET indisready = false WHERE indexrelid IN ('m_h'::regclass, 'm_i'::regclass);
});
my ($rc, $out, $err) = $node->psql('postgres', "SELECT vecx_index_check('m_h')");
like($err, qr/cannot check index "m_h"/, 'an index that is not ready is refused');
$node->safe_psql('postgres', "INSERT INTO m VALUES (1000, '[5,5,5]'), (1001, NULL)");
$node->safe_psql('postgres',
	"UPDATE pg_index SET indisready = true WHERE indexrelid IN ('m_h'::regclass, 'm_i'::regclass)");
my $ctid = $node->safe_psql('postgres', "SELECT ctid FROM m WHERE id = 1000");
$ctid =~ s/[()]//g;
my ($cb, $co) = split /,/, $ctid;
for my $idx (qw(m_h m_i))
{
	is($node->safe_psql('postgres', "SELECT vecx_index_check('$idx')"), '',
		"$idx: structure is fine without the row");
	($rc, $out, $err) = $node->psql('postgres', "SELECT vecx_index_check('$idx', true)");
	like($err, qr/heap tuple \($cb,$co\) from table "m" lacks a matching entry in index "$idx"/,
		"$idx: heapallindexed reports the missing row");
}
$node->safe_psql('postgres', 'REINDEX TABLE m');
is($node->safe_psql('postgres', "SELECT vecx_index_check('m_h', true), vecx_index_check('m_i', true)"), '|',
	'after REINDEX both pass');

# ---- another session's temporary index -----------------------------------
{
	my $bg = $node->background_psql('postgres');
	$bg->query_safe('CREATE TEMP TABLE tt (v vector(3))');
	$bg->query_safe('CREATE INDEX tt_h ON tt USING hnsw (v vector_l2_ops)');
	($rc, $out, $err) = $node->psql('postgres',
		"SELECT vecx_index_check(oid) FROM pg_class WHERE relname = 'tt_h'");
	like($err, qr/cannot access temporary indexes of other sessions/, "another session's temporary index is refused");
	is($bg->query_safe("SELECT vecx_index_check('tt_h', true)"), '', 'its own session may check it');
	$bg->quit;
}

ok(slurp_file($node->logfile) !~ /terminated by signal/, 'no backend crashed');
$node->stop;
done_testing();
