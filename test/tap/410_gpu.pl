# 410_gpu.pl: vecx.gpu on whatever machine this is.  Without a usable GPU:
# SET vecx.gpu = on fails at once with SQLSTATE 55000 and the reason, a
# value of "on" from elsewhere (connection options) fails the first build
# with 55000, and builds under auto are identical to builds under off.
# With a GPU: "on" is accepted, and builds under on find the same
# neighbours as under off (the GPU assigns by exact L2, the CPU through
# sgemm: they may part only at near-ties, so recall is compared).
#
# Then, on any machine, the builds' GPU paths on the CPU: a second server
# loads test/gpu/gpu_emul.c (the entry points emulated with the kernels'
# host arithmetic) through VECX_GPU_LIBRARY.  Under "on" every entry point
# must be called (assignment, centroid update, PQ encoding, the bit
# re-seed's exact distances, seen in the server log), ivfpq and ivfflat
# builds must find the CPU build's neighbours, and bit builds, whose
# arithmetic is exact in any order, must give the CPU's answers exactly;
# the participants of a parallel build encode every row on the GPU.
# With an emulated device failure, auto falls back to the CPU (answers
# identical to off) and on fails with SQLSTATE 38000.
use strict;
use warnings;
use File::Basename qw(dirname);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use VecxTest;
use Test::More;

my $node = vecx_node('gpu');

my $info = $node->safe_psql('postgres',
	q{SELECT coalesce(device::text, '-') || '|' || status FROM vecx_gpu_info()});
my $has_gpu = $info !~ /^-\|/;
diag("vecx_gpu_info: $info");

$node->safe_psql('postgres', q{
	CREATE TABLE g (id int, v vector(16));
	INSERT INTO g SELECT i, array(SELECT sin(i * j * 0.37) + (i % 11) * 0.1 FROM generate_series(1, 16) j)::real[]::vector
		FROM generate_series(1, 6000) i;
	CREATE TABLE gq AS SELECT i AS qid, v FROM g JOIN generate_series(1, 6000, 97) i ON id = i;
});

# The ids of the 10 nearest of each query through an index, as text.
sub answers
{
	my ($am, $mode, $on) = @_;
	my $probes = $am eq 'ivfpq' ? 'SET ivfpq.probes = 3' : 'SET ivfflat.probes = 3';
	return ($on // $node)->safe_psql('postgres', qq{
		SET vecx.gpu = $mode;
		CREATE INDEX gi ON g USING $am (v vector_l2_ops) WITH (lists = 24);
		SET enable_seqscan = off;
		$probes;
		SELECT string_agg(qid || ':' || array(SELECT id FROM g ORDER BY g.v <-> gq.v LIMIT 10)::text, E'\\n' ORDER BY qid) FROM gq;
		DROP INDEX gi;
	});
}

if (!$has_gpu)
{
	my ($rc, $out, $err) = $node->psql('postgres', q{
		\set VERBOSITY verbose
		LOAD 'vecx';
		SET vecx.gpu = on});
	isnt($rc, 0, 'SET vecx.gpu = on fails without a device');
	like($err, qr/ERROR:  55000: vecx\.gpu cannot be "on": no usable GPU/, 'error: SQLSTATE 55000 and message');
	like($err, qr/DETAIL:  (library missing|library unusable|driver missing|driver unusable|cuInit failed|no device|CUDA runtime|device \d+)/,
		'detail gives the reason');
	like($err, qr/HINT:  Use vecx\.gpu = auto/, 'hint points to auto');

	# "on" from a connection option: accepted there, the build fails
	$ENV{PGOPTIONS} = '-c vecx.gpu=on';
	($rc, $out, $err) = $node->psql('postgres', q{
		\set VERBOSITY verbose
		SHOW vecx.gpu;
		CREATE INDEX gi_on ON g USING ivfpq (v vector_l2_ops) WITH (lists = 4)});
	delete $ENV{PGOPTIONS};
	is($out, 'on', 'vecx.gpu = on from connection options is accepted');
	like($err, qr/ERROR:  55000: vecx\.gpu is "on" but there is no usable GPU/, 'the build fails with 55000');

	for my $am ('ivfpq', 'ivfflat')
	{
		my $off = answers($am, 'off');
		my $auto = answers($am, 'auto');
		ok(length($off) > 1000, "$am: answers read");
		is($auto, $off, "$am: build under auto (no device: the CPU) identical to off");
	}
}
else
{
	is($node->safe_psql('postgres', 'SET vecx.gpu = on; SHOW vecx.gpu'), 'on', 'SET vecx.gpu = on accepted with a device');
	for my $am ('ivfpq', 'ivfflat')
	{
		my @off = split /\n/, answers($am, 'off');
		my @on = split /\n/, answers($am, 'on');
		my ($same, $all) = (0, 0);
		for my $i (0 .. $#off)
		{
			my %o = map { $_ => 1 } ($off[$i] =~ /(\d+)/g)[1 .. 10];
			$all += 10;
			$same += grep { $o{$_} } ($on[$i] =~ /(\d+)/g)[1 .. 10];
		}
		cmp_ok($same / $all, '>=', 0.95, "$am: GPU build finds the CPU build's neighbours ($same of $all)");
	}
}

# Fraction of the 10 nearest (lines "qid:{ids}") that two answer sets share.
sub agreement
{
	my ($a, $b) = @_;
	my @a = split /\n/, $a;
	my @b = split /\n/, $b;
	my ($same, $all) = (0, 0);
	for my $i (0 .. $#a)
	{
		my @ia = ($a[$i] =~ /(\d+)/g);
		my @ib = ($b[$i] =~ /(\d+)/g);
		my %o = map { $_ => 1 } @ia[1 .. $#ia];
		$all += $#ia;
		$same += grep { $o{$_} } @ib[1 .. $#ib];
	}
	return $all ? $same / $all : 0;
}

# ---- the GPU paths on the CPU: gpu_emul.c as the library ----
my $top = dirname(__FILE__) . '/../..';
my $emul = PostgreSQL::Test::Utils::tempdir() . '/vecx_gpu_emul.so';
my $failflag = PostgreSQL::Test::Utils::tempdir() . '/fail';
system_or_bail($ENV{CC} // 'cc', '-shared', '-fPIC', '-O2', "-I$top/src", '-o', $emul,
	"$top/test/gpu/gpu_emul.c", '-lm');
$node->stop;
$ENV{VECX_GPU_LIBRARY} = $emul;
$ENV{VECX_GPU_EMUL_FAIL} = $failflag;
my $en = vecx_node('gpu_emul');
delete $ENV{VECX_GPU_LIBRARY};
delete $ENV{VECX_GPU_EMUL_FAIL};

like($en->safe_psql('postgres', q{SELECT device || '|' || name || '|' || status FROM vecx_gpu_info()}),
	qr/^0\|CPU emulation .*\|in use$/, 'emulation: vecx_gpu_info() lists the emulated device');
is($en->safe_psql('postgres', 'SET vecx.gpu = on; SHOW vecx.gpu'), 'on', 'emulation: SET vecx.gpu = on accepted');

$en->safe_psql('postgres', q{
	CREATE TABLE g (id int, v vector(16));
	INSERT INTO g SELECT i, array(SELECT sin(i * j * 0.37) + (i % 11) * 0.1 FROM generate_series(1, 16) j)::real[]::vector
		FROM generate_series(1, 6000) i;
	CREATE TABLE gq AS SELECT i AS qid, v FROM g JOIN generate_series(1, 6000, 97) i ON id = i;
	-- bits: 2,000 rows of 10 values and 1,000 of others, so that k-means
	-- seeds repeat, clusters come out empty and the re-seed runs
	CREATE TABLE b (id int, v bit(64));
	INSERT INTO b SELECT i, CASE WHEN i % 3 = 0
			THEN hashint4(i)::bit(32) || hashint4(i * 7)::bit(32)
			ELSE hashint4(i % 10)::bit(32) || hashint4(i % 10 + 100)::bit(32) END
		FROM generate_series(1, 3000) i;
	CREATE TABLE bq AS SELECT i AS qid, v FROM b JOIN generate_series(1, 3000, 61) i ON id = i;
});

sub bit_answers
{
	my ($mode) = @_;
	return $en->safe_psql('postgres', qq{
		SET vecx.gpu = $mode;
		CREATE INDEX bi ON b USING ivfflat (v bit_hamming_ops) WITH (lists = 40);
		SET enable_seqscan = off;
		SET ivfflat.probes = 4;
		SELECT string_agg(qid || ':' || array(SELECT id FROM b ORDER BY b.v <~> bq.v LIMIT 10)::text, E'\n' ORDER BY qid) FROM bq;
		DROP INDEX bi;
	});
}

my %off;
for my $am ('ivfpq', 'ivfflat')
{
	$off{$am} = answers($am, 'off', $en);
	my $from = -s $en->logfile;
	my $on = answers($am, 'on', $en);
	my $log = substr(slurp_file($en->logfile), $from);
	like($log, qr/vecx_gpu_emul: assign n=/, "emulation: $am build under on assigns on the GPU");
	like($log, qr/vecx_gpu_emul: update n=/, "emulation: $am build under on updates centroids on the GPU");
	if ($am eq 'ivfpq')
	{
		like($log, qr/vecx_gpu_emul: pq_encode n=6000 /, 'emulation: ivfpq build under on encodes the 6,000 rows on the GPU in one block');
	}
	else
	{
		unlike($log, qr/pq_encode/, 'emulation: ivfflat build encodes nothing');
	}
	my $agree = agreement($off{$am}, $on);
	cmp_ok($agree, '>=', 0.95, "emulation: $am build under on finds the CPU build's neighbours ($agree)");
	$en->safe_psql('postgres', qq{
		SET vecx.gpu = on;
		CREATE INDEX gi ON g USING $am (v vector_l2_ops) WITH (lists = 24)});
	is($en->safe_psql('postgres', q{SELECT vecx_index_check('gi', true) IS NOT NULL}), 't',
		"emulation: $am index built under on passes vecx_index_check");
	$en->safe_psql('postgres', 'DROP INDEX gi');
}

like($en->safe_psql('postgres', q{
		CREATE INDEX bi ON b USING ivfflat (v bit_hamming_ops) WITH (lists = 40);
		SET enable_seqscan = off;
		EXPLAIN (COSTS OFF) SELECT id FROM b ORDER BY v <~> (SELECT v FROM bq WHERE qid = 1) LIMIT 10;
		DROP INDEX bi}), qr/Index Scan using bi/, 'emulation: the bit answers come from the index');
my $boff = bit_answers('off');
my $from = -s $en->logfile;
my $bon = bit_answers('on');
my $blog = substr(slurp_file($en->logfile), $from);
like($blog, qr/vecx_gpu_emul: l2sq_rows n=3000 /, 'emulation: bit k-means re-seed takes its exact distances from the GPU');
ok(length($boff) > 500, 'emulation: bit answers read');
is($bon, $boff, 'emulation: ivfflat bit build under on gives exactly the CPU answers');

# A parallel build: every participant takes the GPU path (which of them
# gets rows depends on timing; together they encode every row on the GPU).
$en->safe_psql('postgres', q{
	CREATE TABLE p (id int, v vector(16));
	INSERT INTO p SELECT i, array(SELECT sin(i * j * 0.37) + (i % 11) * 0.1 FROM generate_series(1, 16) j)::real[]::vector
		FROM generate_series(1, 30000) i;
	CREATE TABLE pq AS SELECT i AS qid, v FROM p JOIN generate_series(1, 30000, 499) i ON id = i;
	ALTER TABLE p SET (parallel_workers = 2);
});
sub par_answers
{
	my ($mode) = @_;
	my ($rc, $out, $err) = $en->psql('postgres', qq{
		SET vecx.gpu = $mode;
		SET max_parallel_maintenance_workers = 2;
		SET client_min_messages = debug1;
		CREATE INDEX pi ON p USING ivfpq (v vector_l2_ops) WITH (lists = 32);
		RESET client_min_messages;
		SET enable_seqscan = off;
		SET ivfpq.probes = 3;
		SELECT string_agg(qid || ':' || array(SELECT id FROM p ORDER BY p.v <-> pq.v LIMIT 10)::text, E'\n' ORDER BY qid) FROM pq;
		DROP INDEX pi;
	});
	die "parallel build failed: $err" if $rc != 0;
	return ($out, $err);
}
my ($poff) = par_answers('off');
$from = -s $en->logfile;
my ($pon, $pmsg) = par_answers('on');
like($pmsg, qr/ivfpq build: 2 parallel workers/, 'emulation: parallel build under on launched two workers');
my $encoded = 0;
$encoded += $_ for (substr(slurp_file($en->logfile), $from) =~ /vecx_gpu_emul: pq_encode n=(\d+) /g);
is($encoded, 30000, 'emulation: the participants of a parallel build encode every row on the GPU');
my $pagree = agreement($poff, $pon);
cmp_ok($pagree, '>=', 0.95, "emulation: parallel ivfpq build under on finds the CPU build's neighbours ($pagree)");

# An emulated device failure: auto falls back, on fails with 38000.
write_file($failflag, '');
for my $am ('ivfpq', 'ivfflat')
{
	is(answers($am, 'auto', $en), $off{$am}, "emulation: $am build under auto after device errors identical to off");
}
is(bit_answers('auto'), $boff, 'emulation: bit build under auto after device errors identical to off');
my ($rc, $out, $err) = $en->psql('postgres', q{
	\set VERBOSITY verbose
	SET vecx.gpu = on;
	CREATE INDEX gi ON g USING ivfpq (v vector_l2_ops) WITH (lists = 24)});
like($err, qr/ERROR:  38000: GPU k-means assignment failed: assign: emulated device failure/,
	'emulation: build under on fails with 38000 after a device error');
like($err, qr/HINT:  Use vecx\.gpu = auto to fall back to the CPU/, 'the hint points to auto');
unlink $failflag;

$en->stop;
done_testing();
