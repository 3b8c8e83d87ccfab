# 017_hnsw_vacuum_memory.pl: the memory of VACUUM on hnsw (plain, sq8 with
# a filter column) and ivfpq indexes of a 20,000 x 784 table stays within
# maintenance_work_mem + 64 MB after deleting 10% and then 50% of the rows,
# for a manual VACUUM and for an autovacuum worker.  (An hnsw vacuum that
# kept each repair's buffers grew by megabytes per repaired node: gigabytes
# on this table.)
#
# What is measured: the private memory of the vacuuming process, read from
# /proc/<pid>/status.  VmHWM (peak resident) also counts the pages of
# shared_buffers the process touched, which grow to the size of the
# buffers it reads, so it cannot be compared with a bound as it is.
# RssAnon (private anonymous memory) is what a leak grows, but Linux keeps
# no peak of it.  So the process is sampled every 20 ms while it runs
# (max RssAnon), and once it is done VmHWM - RssShmem - RssFile is added as
# a second estimate: shared and file pages only grow during a vacuum, so
# that difference never exceeds the true private peak (no false failure),
# and shared_buffers is kept small (32 MB) so that it cannot hide much.
# A process past the bound is cancelled at once, so a regression fails
# fast instead of exhausting the machine.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use VecxTest;
use Test::More;
use IPC::Run;
use List::Util qw(max);
use Time::HiRes qw(usleep time);

plan skip_all => 'needs /proc/<pid>/status with RssAnon (Linux)'
  unless -r '/proc/self/status' && `cat /proc/self/status` =~ /^RssAnon:/m;

my $mwm_mb = 64;
my $bound_kb = ($mwm_mb + 64) * 1024;

my $node = vecx_node('vacuum_memory', conf => qq{
shared_buffers = 32MB
maintenance_work_mem = ${mwm_mb}MB
max_parallel_maintenance_workers = 0
autovacuum = on
autovacuum_naptime = 1s
autovacuum_vacuum_cost_delay = 0
autovacuum_vacuum_threshold = 1000000000
autovacuum_analyze_threshold = 1000000000
});

# Fashion-MNIST when installed (real neighbourhoods), else clustered random
# vectors: the memory bound holds for any data.
my $tmp = PostgreSQL::Test::Utils::tempdir;
my $fmnist_dir = '/usr/share/datasets/fashion-mnist';
$node->safe_psql('postgres', q{
	CREATE TABLE src (id int PRIMARY KEY, label int, v vector(784));
});
if (-d $fmnist_dir && eval { fmnist_tsv($tmp, 'train', 20000) })
{
	$node->safe_psql('postgres', "COPY src FROM '$tmp/train.tsv'");
	note('data: Fashion-MNIST');
}
else
{
	$node->safe_psql('postgres', q{
		SELECT setseed(0.17);
		CREATE TEMP TABLE c AS SELECT k, ARRAY(SELECT random() * 255 + 0 * k FROM generate_series(1, 784)) AS a
			FROM generate_series(0, 9) k;
		INSERT INTO src SELECT i, i % 10,
			(SELECT array_agg(x + random() * 60 - 30 + 0 * i) FROM unnest(c.a) x)::vector(784)
			FROM generate_series(1, 20000) i JOIN c ON c.k = i % 10;
	});
	note('data: generated');
}
is($node->safe_psql('postgres', 'SELECT count(*) FROM src'), '20000', '20,000 rows loaded');

# t: a default hnsw index, manual VACUUM.  u: an sq8 hnsw index with a
# filter column and an ivfpq index, vacuumed by autovacuum, then manually.
$node->safe_psql('postgres', q{
	CREATE TABLE t (id int PRIMARY KEY, label int, v vector(784)) WITH (autovacuum_enabled = off);
	ALTER TABLE t ALTER v SET STORAGE PLAIN;
	INSERT INTO t SELECT * FROM src;
	CREATE INDEX t_v ON t USING hnsw (v vector_l2_ops);
	CREATE TABLE u (id int PRIMARY KEY, label int, v vector(784)) WITH (autovacuum_enabled = off);
	ALTER TABLE u ALTER v SET STORAGE PLAIN;
	INSERT INTO u SELECT * FROM src;
	CREATE INDEX u_v ON u USING hnsw (v vector_l2_ops, label) WITH (quantization = sq8);
	CREATE INDEX u_pq ON u USING ivfpq (v vector_l2_ops) WITH (lists = 32);
	DROP TABLE src;
});

sub status_kb
{
	my ($pid) = @_;
	my %m;
	open(my $fh, '<', "/proc/$pid/status") or return undef;
	while (<$fh>)
	{
		$m{$1} = $2 if /^(\w+):\s+(\d+) kB/;
	}
	close $fh;
	return \%m;
}

# Sample process $pid while $running->() is true; cancel it past the bound.
# Returns the largest private memory seen (kB) and whether it was cancelled.
sub watch
{
	my ($pid, $running) = @_;
	my ($peak, $cancelled) = (0, 0);
	while ($running->())
	{
		my $m = status_kb($pid);
		last unless $m;
		$peak = max($peak, $m->{RssAnon}, $m->{VmHWM} - $m->{RssShmem} - $m->{RssFile});
		if ($peak > $bound_kb && !$cancelled)
		{
			$node->psql('postgres', "SELECT pg_cancel_backend($pid)");
			$cancelled = 1;
		}
		usleep(20_000);
	}
	return ($peak, $cancelled);
}

# VACUUM $table in a session of its own, watched; then the session's own
# VmHWM - RssShmem - RssFile.
sub manual_vacuum
{
	my ($table, $what) = @_;
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[
			$node->installed_command('psql'), '-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'),
			'-c', 'SELECT pg_backend_pid()',
			'-c', "VACUUM $table",
			'-c', "SELECT pg_read_file('/proc/self/status')"
		],
		'>', \$out, '2>', \$err);
	my $t0 = time;
	while ($out !~ /^(\d+)$/m && $h->pumpable && time - $t0 < 60)
	{
		$h->pump_nb;
		usleep(10_000);
	}
	my ($pid) = $out =~ /^(\d+)$/m;
	my ($peak, $cancelled) = (0, 0);
	($peak, $cancelled) = watch($pid, sub { $h->pump_nb; $h->pumpable })
	  if defined $pid;
	$h->finish;
	if ($out =~ /VmHWM:\s+(\d+) kB/)
	{
		my %m = $out =~ /^(\w+):\s+(\d+) kB/mg;
		$peak = max($peak, $m{VmHWM} - $m{RssShmem} - $m{RssFile});
	}
	ok(!$cancelled && $err eq '', "$what: VACUUM completed") or diag($err);
	cmp_ok($peak, '<=', $bound_kb,
		"$what: private memory $peak kB <= maintenance_work_mem + 64 MB");
}

# 10% then 50% of the rows (the second vacuum repairs every node)
$node->safe_psql('postgres', 'DELETE FROM t WHERE id % 10 = 3');
manual_vacuum('t', 'hnsw, 10% deleted');
$node->safe_psql('postgres', 'DELETE FROM t WHERE id % 10 IN (0, 1, 2, 4)');
manual_vacuum('t', 'hnsw, 50% deleted');

# autovacuum on u after 10% deletes: watch every worker until u's
# autovacuum count moves
$node->safe_psql('postgres', 'DELETE FROM u WHERE id % 10 = 3');
$node->safe_psql('postgres', q{ALTER TABLE u SET (autovacuum_enabled = on,
	autovacuum_vacuum_threshold = 100, autovacuum_vacuum_scale_factor = 0)});
my ($avpeak, $avcancel, $done) = (0, 0, 0);
my $t0 = time;
while (!$done && time - $t0 < 150)
{
	my $pids = $node->safe_psql('postgres',
		q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'});
	for my $pid (split /\n/, $pids)
	{
		my ($p, $c) = watch($pid, sub { -e "/proc/$pid" });
		$avpeak = max($avpeak, $p);
		$avcancel ||= $c;
	}
	$done = $node->safe_psql('postgres',
		q{SELECT autovacuum_count > 0 FROM pg_stat_user_tables WHERE relname = 'u'}) eq 't';
	usleep(50_000) unless $done;
}
ok($done && !$avcancel, 'autovacuum of the sq8/filter hnsw and ivfpq indexes completed');
cmp_ok($avpeak, '<=', $bound_kb,
	"autovacuum worker: private memory $avpeak kB <= maintenance_work_mem + 64 MB");
$node->safe_psql('postgres', 'ALTER TABLE u SET (autovacuum_enabled = off)');

$node->safe_psql('postgres', 'DELETE FROM u WHERE id % 10 IN (0, 1, 2, 4)');
manual_vacuum('u', 'sq8 hnsw with a filter column and ivfpq, 50% deleted');

# the repaired hnsw graphs still reach every row: remaining rows find
# themselves (or an identical vector: Fashion-MNIST has duplicates) with a
# large ef.  (At ef_search 100 a fresh build of the same rows misses one.)
for my $tbl ('t', 'u')
{
	my $missing = $node->safe_psql('postgres', qq{
		BEGIN;
		DROP INDEX IF EXISTS u_pq;
		SET LOCAL enable_seqscan = off;
		SET LOCAL hnsw.ef_search = 1000;
		SELECT count(*) FROM (SELECT * FROM $tbl WHERE id % 100 = 5) q
		WHERE (SELECT v <-> q.v FROM $tbl ORDER BY v <-> q.v LIMIT 1) <> 0;
		ROLLBACK;});
	is($missing, '0', "$tbl: every sampled row is found as its own nearest neighbour");
}

$node->stop;
done_testing();
