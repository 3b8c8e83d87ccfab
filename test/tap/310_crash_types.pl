# 310_crash_types.pl: crash recovery of tables with vector and halfvec
# columns (no index).
#
# A client inserts rows (one transaction each, values of 1..2000 dimensions,
# some TOASTed, some NULL) while the postmaster is stopped in immediate mode
# (SIGQUIT to every process, no checkpoint: what a crash looks like to
# recovery); after restart every committed row is present with exactly
# the committed value, and the table keeps working.  An UNLOGGED table with
# vectors comes back empty and usable after the crash.  The AM engineers
# add their indexes to tests of the same shape.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use VecxTest;
use Test::More;
use IPC::Run;

srand(310);

# A checkpoint mid-run must not hide anything: keep them rare, so redo
# replays most of the inserts, and log them to see one if it happens.
my $node = vecx_node('crash_types',
	conf => "checkpoint_timeout = '1h'\nmax_wal_size = '1GB'\nlog_checkpoints = on\n");

$node->safe_psql('postgres', q{
CREATE TABLE items (id int PRIMARY KEY, v vector, h halfvec, v3 vector(3));
CREATE UNLOGGED TABLE scratch (id int, v vector, h halfvec);
INSERT INTO scratch SELECT i, ARRAY[i, i + 1]::vector, ARRAY[i, 0.5]::halfvec FROM generate_series(1, 1000) i;
});

# Values are generated in SQL from the id, so both the writer and the
# check can compute them: dimension cycles through 1..2000 (large ones are
# TOASTed), every 17th value is NULL.  Elements are exact in binary16 for
# the halfvec column.
my $value_sql = q{
	CASE WHEN id % 17 = 0 THEN NULL ELSE
	(SELECT array_agg(((id * 31 + i * 7) % 2001 - 1000) / 8.0 ORDER BY i)
	 FROM generate_series(1, 1 + (id * 37) % 2000) i)::vector END};
my $hvalue_sql = q{
	CASE WHEN id % 13 = 0 THEN NULL ELSE
	(SELECT array_agg(((id * 17 + i * 3) % 4001 - 2000) / 4.0 ORDER BY i)
	 FROM generate_series(1, 1 + (id * 53) % 1500) i)::halfvec END};

# The writer: one psql session committing one row per transaction and
# printing the id after each COMMIT returns, so every printed id is
# known to be committed.
my $script = '';
for my $id (1 .. 3000)
{
	$script .= "INSERT INTO items SELECT id, $value_sql, $hvalue_sql, ARRAY[id, -id, id / 2.0]::vector(3) FROM (SELECT $id AS id) s;\n";
	$script .= "\\echo committed $id\n";
}
my ($stdout, $stderr) = ('', '');
my $writer = IPC::Run::start(
	[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'), '-f', '-' ],
	'<', \$script, '>', \$stdout, '2>', \$stderr);

# Let it commit a few hundred rows, then crash.
my $deadline = time + 120;
while (time < $deadline)
{
	$writer->pump_nb;
	my @c = ($stdout =~ /committed (\d+)/g);
	last if @c && $c[-1] >= 300;
	select(undef, undef, undef, 0.05);
}
$node->stop('immediate');
# psql fails now that its server is gone, and stops reading its script.
{
	local $SIG{PIPE} = 'IGNORE';
	eval { $writer->finish; };
}
my @committed = ($stdout =~ /committed (\d+)/g);
my $last = @committed ? $committed[-1] : 0;
cmp_ok($last, '>=', 300, "writer committed $last rows before the crash");
cmp_ok($last, '<', 3000, 'the crash interrupted the writer');

$node->start;

# Every committed row is there.  The session inserted ids in order, so
# the table holds exactly ids 1..N with N at least the last id reported
# committed (N may be larger: the report of a commit can be lost in the
# crash, never the commit).
my ($count, $maxid) = split /\|/, $node->safe_psql('postgres', 'SELECT count(*), max(id) FROM items');
ok($count == $maxid && $count >= $last, "rows after recovery: ids 1..$count without gaps (committed $last)");
is($node->safe_psql('postgres', "SELECT count(*) FROM items WHERE id <= $last"),
	$last, 'every committed id is present');

# Exact values: compare with the values recomputed from the id.
is($node->safe_psql('postgres', qq{
SELECT count(*) FROM items t
WHERE t.v IS DISTINCT FROM (SELECT $value_sql FROM (SELECT t.id AS id) s)
   OR t.h IS DISTINCT FROM (SELECT $hvalue_sql FROM (SELECT t.id AS id) s)
   OR t.v3 IS DISTINCT FROM ARRAY[t.id, -t.id, t.id / 2.0]::vector(3)}),
	'0', 'every recovered value is exactly the committed one');
# The comparison above is not vacuous: sizes vary and some are TOASTed.
is($node->safe_psql('postgres', qq{
SELECT count(DISTINCT vector_dims(v)) > 100 AND max(vector_dims(v)) > 1500
   AND count(*) FILTER (WHERE v IS NULL) > 0
   AND count(*) FILTER (WHERE pg_column_size(v) > 2000) > 0
FROM items WHERE id <= $last}), 't', 'recovered rows cover many sizes, NULLs and TOASTed values');

# The table is usable after recovery.
$node->safe_psql('postgres', q{
INSERT INTO items VALUES (100000, '[1,2,3]', '[1,2,3]', '[4,5,6]');
UPDATE items SET v = v + v WHERE id = 100000;
DELETE FROM items WHERE id % 2 = 0 AND id < 100000;
VACUUM items;});
is($node->safe_psql('postgres', q{SELECT v::text, (v <-> '[0,0,0]')::numeric(10,4) FROM items WHERE id = 100000}),
	'[2,4,6]|7.4833', 'writes and distances work after recovery');

# UNLOGGED: reset to empty by the crash, and usable.
is($node->safe_psql('postgres', 'SELECT count(*) FROM scratch'), '0', 'UNLOGGED table is empty after the crash');
$node->safe_psql('postgres', q{INSERT INTO scratch VALUES (1, '[1,2]', '[3,4]')});
is($node->safe_psql('postgres', q{SELECT v::text, h::text, v <-> '[4,6]' FROM scratch}),
	'[1,2]|[3,4]|5', 'UNLOGGED table works after the crash');

# A clean restart keeps UNLOGGED data (only crashes reset it).
$node->restart;
is($node->safe_psql('postgres', 'SELECT count(*) FROM scratch'), '1', 'UNLOGGED rows survive a clean restart');

# A second crash right after recovery: still consistent.
$node->safe_psql('postgres', q{INSERT INTO items SELECT 200000 + i, ARRAY[i, i]::vector, ARRAY[i, i]::halfvec, ARRAY[i, i, i]::vector(3) FROM generate_series(1, 500) i});
$node->stop('immediate');
$node->start;
is($node->safe_psql('postgres', q{SELECT count(*), sum(vector_dims(v)), sum((v::real[])[1]) FROM items WHERE id > 200000}),
	'500|1000|125250', 'a batch committed before a second crash is intact');
is($node->safe_psql('postgres', 'SELECT count(*) FROM scratch'), '0', 'the second crash empties the UNLOGGED table again');

ok(!grep({ /PANIC|TRAP:/ } split /\n/, slurp_file($node->logfile)), 'no PANIC or assertion failure in the server log');

$node->stop;
done_testing();
