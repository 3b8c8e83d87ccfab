# 105_ivfpq_parallel.pl: a parallel ivfpq build (pass 2 by parallel
# workers) on a Fashion-MNIST subset gives the same index as a serial
# build: same recall, same size, same answers; the workers were launched.
use strict;
use warnings;
use IPC::Run;
use Time::HiRes qw(time);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use VecxTest;
use Test::More;

my $tmp = PostgreSQL::Test::Utils::tempdir;

my $node = vecx_node('ivfpq_parallel', conf => qq{
maintenance_work_mem = 256MB
shared_buffers = 256MB
max_worker_processes = 8
max_parallel_workers = 8
max_parallel_maintenance_workers = 2
});

# 20000 rows: enough for workers without a parallel_workers reloption
my $nbase = 20000;
my $nq = 100;
fmnist_tables($node, $tmp, $nbase, $nq);
$node->safe_psql('postgres', q{
	SET enable_indexscan = off;
	CREATE TABLE gt AS SELECT q.id, array(SELECT f.id FROM fm f ORDER BY f.v <-> q.v, f.id LIMIT 10) ids FROM fq q;
});
is($node->safe_psql('postgres', 'SELECT count(*) FROM fm'), $nbase, 'base rows loaded');

sub recall
{
	my ($probes) = @_;
	return $node->safe_psql('postgres', qq{
		SET enable_seqscan = off;
		SET ivfpq.probes = $probes;
		SELECT round(sum(cardinality(array(SELECT unnest(a.ids) INTERSECT SELECT unnest(g.ids))))::numeric / (10 * count(*)), 4)
		FROM (SELECT q.id, array(SELECT f.id FROM fm f ORDER BY f.v <-> q.v LIMIT 10) ids FROM fq q) a
		JOIN gt g USING (id)});
}

sub answers
{
	my ($probes) = @_;
	return $node->safe_psql('postgres', qq{
		SET enable_seqscan = off;
		SET ivfpq.probes = $probes;
		SELECT string_agg(q.id || ':' || array(SELECT f.id FROM fm f ORDER BY f.v <-> q.v LIMIT 10)::text, ' ' ORDER BY q.id)
		FROM fq q});
}

# build with the given number of workers; returns seconds and psql's stderr
sub build
{
	my ($workers) = @_;
	my ($out, $err);
	my $t0 = time;
	my $rc = $node->psql('postgres', qq{
		SET max_parallel_maintenance_workers = $workers;
		SET client_min_messages = debug1;
		CREATE INDEX fm_l2 ON fm USING ivfpq (v vector_l2_ops) WITH (lists = 64)},
		stdout => \$out, stderr => \$err);
	my $secs = time - $t0;
	is($rc, 0, "build with max_parallel_maintenance_workers = $workers") or diag($err);
	return ($secs, $err);
}

# serial
my ($tser, $eser) = build(0);
unlike($eser, qr/ivfpq build: \d+ parallel workers/, 'serial build launched no workers');
my $size_ser = $node->safe_psql('postgres', q{SELECT pg_relation_size('fm_l2')});
my %rser = map { $_ => recall($_) } (2, 8);
my $ans_ser = answers(2);
$node->safe_psql('postgres', 'DROP INDEX fm_l2');

# parallel: two workers plus the leader
my ($tpar, $epar) = build(2);
like($epar, qr/ivfpq build: 2 parallel workers for index "fm_l2"/, 'parallel build launched two workers');
my $size_par = $node->safe_psql('postgres', q{SELECT pg_relation_size('fm_l2')});
$node->safe_psql('postgres', q{SELECT vecx_index_check('fm_l2', true)});
pass('vecx_index_check with heapallindexed accepts the parallel-built index');
my %rpar = map { $_ => recall($_) } (2, 8);
my $ans_par = answers(2);

diag(sprintf('build seconds: serial %.2f, parallel (2 workers) %.2f', $tser, $tpar));
foreach my $p (2, 8)
{
	diag("recall\@10 probes=$p: serial $rser{$p}, parallel $rpar{$p}");
	cmp_ok(abs($rser{$p} - $rpar{$p}), '<=', 0.002, "same recall with $p of 64 lists probed");
}
cmp_ok($rpar{8}, '>=', 0.95, 'parallel build recall@10 with 8 of 64 lists');
is($size_par, $size_ser, 'same index size');
my @as = split / /, $ans_ser;
my @ap = split / /, $ans_par;
my $same = grep { $as[$_] eq $ap[$_] } 0 .. $#as;
cmp_ok($same, '>=', $nq - 1, "same top-10 for $same of $nq queries with 2 probes");

# every row indexed once
is($node->safe_psql('postgres', q{
	SET enable_seqscan = off; SET ivfpq.probes = 64;
	SELECT count(DISTINCT id) FROM (SELECT id FROM fm ORDER BY v <-> (SELECT v FROM fq WHERE id = 1) LIMIT 30000) s}),
	$nbase, 'every row reachable once through the parallel-built index');

# progress of a parallel build: tuples_done counts every participant's rows
$node->safe_psql('postgres', 'DROP INDEX fm_l2');
my ($bout, $berr) = ('', '');
my $bg = IPC::Run::start(
	[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', $node->host, '-p', $node->port, '-d', 'postgres',
	  '-c', 'CREATE INDEX fm_l2 ON fm USING ivfpq (v vector_l2_ops) WITH (lists = 64)' ],
	'>', \$bout, '2>', \$berr);
my ($maxdone, $total, $bad) = (-1, -1, 0);
while ($bg->pumpable)
{
	my $p = $node->safe_psql('postgres',
		"SELECT tuples_done || ' ' || tuples_total FROM pg_stat_progress_create_index WHERE phase = 'building index: assigning and encoding tuples'");
	if ($p =~ /^(\d+) (\d+)$/)
	{
		$maxdone = $1 if $1 > $maxdone;
		$total = $2;
		$bad++ if $1 > $2;
	}
	$bg->pump_nb;
	select(undef, undef, undef, 0.01);
}
$bg->finish;
is($bg->result(0), 0, 'background parallel build succeeded') or diag($berr);
diag("progress: largest tuples_done seen $maxdone of $total");
is($total, $nbase, 'tuples_total is the row count');
ok($maxdone >= 0 && $bad == 0, 'tuples_done stays within tuples_total');

# the parallel_workers reloption is obeyed: 0 keeps the build serial
$node->safe_psql('postgres', 'DROP INDEX fm_l2; ALTER TABLE fm SET (parallel_workers = 0)');
my (undef, $ezero) = build(2);
unlike($ezero, qr/ivfpq build: \d+ parallel workers/, 'parallel_workers = 0 keeps the build serial');
is(recall(8), $rser{8}, 'serial rebuild gives the serial recall');

$node->stop;
done_testing();
