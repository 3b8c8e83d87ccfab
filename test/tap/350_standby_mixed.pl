# 350_standby_mixed.pl: hnsw and ivfpq indexes on vector and halfvec
# columns under a concurrent pgbench mix (inserts, deletes, searches,
# VACUUM) on a primary with a streaming standby, both checking every
# replayed generic WAL record against its full-page image
# (wal_consistency_checking = 'generic', full_page_writes on), while
# other clients search through every index on the standby.  Then:
#   - the standby replayed everything without an inconsistent page, is still
#     up and answers the same top-k as the primary through the indexes;
#   - a pg_basebackup taken while the mix runs starts, catches up by
#     streaming and answers like the primary;
#   - the standby is promoted and a second mix on it (inserts, deletes,
#     searches, vacuum) leaves its indexes consistent.
# The index checker vecx_index_check() is used when the extension has it;
# otherwise (and in any case) the indexes are compared with exact scans.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use VecxTest;
use Test::More;

my $tmp = PostgreSQL::Test::Utils::tempdir;
my $total_xacts = 0;    # transactions run under wal_consistency_checking

# Two tables, each with an hnsw and an ivfpq index on different operators,
# so that every write goes through both access methods and a query picks
# its index by operator: tv (vector) hnsw on <->, ivfpq on <=>; th
# (halfvec) hnsw on <=>, ivfpq on <->.
my %tables = (
	tv => { cast => 'vector(16)', hnsw => '<->', ivfpq => '<=>' },
	th => { cast => 'halfvec(16)', hnsw => '<=>', ivfpq => '<->' });
my $dims = 16;

sub rand_vec
{
	my ($cast, $corr) = @_;
	$corr = defined $corr ? " WHERE $corr > 0" : '';
	return "ARRAY(SELECT random() FROM generate_series(1, $dims)$corr)::real[]::$cast";
}

my $primary = vecx_node('primary', streaming => 1, conf => qq{
wal_consistency_checking = 'generic'
full_page_writes = on
autovacuum = off
max_connections = 40
max_wal_senders = 6
# the node started from the online backup streams from the backup's end:
# keep its WAL (full-page images of every record make a lot of it)
wal_keep_size = '1GB'
deadlock_timeout = 200ms
});

$primary->safe_psql('postgres', qq{
	SELECT setseed(0.35);
	CREATE TABLE tv (id bigserial PRIMARY KEY, v vector(16));
	CREATE TABLE th (id bigserial PRIMARY KEY, v halfvec(16));
	INSERT INTO tv (v) SELECT @{[ rand_vec('vector(16)', 'i') ]} FROM generate_series(1, 2000) i;
	INSERT INTO th (v) SELECT @{[ rand_vec('halfvec(16)', 'i') ]} FROM generate_series(1, 2000) i;
	CREATE INDEX tv_hnsw ON tv USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 32);
	CREATE INDEX tv_ivfpq ON tv USING ivfpq (v vector_cosine_ops) WITH (lists = 8);
	CREATE INDEX th_hnsw ON th USING hnsw (v halfvec_cosine_ops) WITH (m = 8, ef_construction = 32);
	CREATE INDEX th_ivfpq ON th USING ivfpq (v halfvec_l2_ops) WITH (lists = 8);
});

$primary->backup('before');
# searches run on the standby during replay: keep recovery conflicts from
# cancelling them (a cancelled search would count as a pgbench failure)
my $standby = vecx_standby($primary, 'standby', 'before',
	conf => "hot_standby_feedback = on\nmax_standby_streaming_delay = -1");

# pgbench scripts: one transaction each, weights in the file names.
my @scripts;
for my $t (sort keys %tables)
{
	my $c = $tables{$t}{cast};
	my %s = (
		"ins_$t\@6" => "INSERT INTO $t (v) VALUES (@{[ rand_vec($c) ]});\n",
		"del_$t\@2" => "\\set k random(1, 6000)\nDELETE FROM $t WHERE id = :k;\n",
		"upd_$t\@1" => "\\set k random(1, 6000)\nUPDATE $t SET v = @{[ rand_vec($c) ]} WHERE id = :k;\n",
		"shnsw_$t\@3" => "SET enable_seqscan = off;\nSELECT id FROM $t ORDER BY v $tables{$t}{hnsw} @{[ rand_vec($c) ]} LIMIT 10;\n",
		"sivf_$t\@3" => "SET enable_seqscan = off;\nSET ivfpq.probes = 2;\nSELECT id FROM $t ORDER BY v $tables{$t}{ivfpq} @{[ rand_vec($c) ]} LIMIT 10;\n",
		"vac_$t\@1" => "VACUUM $t;\n");
	push @scripts, pgbench_scripts($tmp, '', %s);
}

# read-only scripts for the standby (searches through every index)
my @ro_scripts;
for my $t (sort keys %tables)
{
	my $c = $tables{$t}{cast};
	for my $am ('hnsw', 'ivfpq')
	{
		push @ro_scripts, '-f', write_file("$tmp/ro_${t}_$am.sql",
			"SET enable_seqscan = off;\nSET ivfpq.probes = 2;\nSELECT id FROM $t ORDER BY v $tables{$t}{$am} @{[ rand_vec($c) ]} LIMIT 10;\n");
	}
}

# Run pgbench against a node; returns the harness (background) or checks
# the result (foreground).
sub pgbench_cmd
{
	my ($node, @opts) = @_;
	return [ 'pgbench', '-n', @opts, @scripts, '-h', $node->host, '-p', $node->port, 'postgres' ];
}

sub pgbench_result
{
	my ($what, $rc, $out, $err) = @_;
	my ($n) = $out =~ /number of transactions actually processed: (\d+)/;
	my ($failed) = $out =~ /number of failed transactions: (\d+)/;
	$n //= 0;
	$failed //= 0 if $rc == 0;
	is($rc, 0, "$what: pgbench exit status 0");
	is($failed, 0, "$what: no failed transactions");
	unlike($err, qr/ERROR|FATAL|PANIC|aborted/, "$what: no errors reported by pgbench")
	  or diag($err);
	diag("$what: $n transactions");
	return $n;
}

# First mix: 6 clients for a fixed number of transactions, while a base
# backup is taken from the primary.
my ($out, $err) = ('', '');
my $bench = IPC::Run::start(pgbench_cmd($primary, '-c', '6', '-j', '2', '-t', '1000'),
	'>', \$out, '2>', \$err);
# searches on the standby while it replays the mix
my ($sout, $serr) = ('', '');
my $sbench = IPC::Run::start([ 'pgbench', '-n', '-c', '2', '-j', '1', '-t', '1500', @ro_scripts,
	'-h', $standby->host, '-p', $standby->port, 'postgres' ], '>', \$sout, '2>', \$serr);
# let the mix get going, then back up while it runs
$primary->poll_query_until('postgres', 'SELECT max(id) > 2030 FROM tv')
  or die 'pgbench made no progress';
$primary->backup('during');
my $still_running = $bench->pumpable;
$bench->finish;
$total_xacts += pgbench_result('mix on the primary', $bench->result(0), $out, $err);
$sbench->finish;
my $standby_searches = pgbench_result('searches on the standby during replay', $sbench->result(0), $sout, $serr);
ok($still_running, 'the base backup was taken while pgbench was writing');

my $copy = vecx_standby($primary, 'from_backup', 'during');

$primary->wait_for_catchup($standby);
$primary->wait_for_catchup($copy);

# The same top-k from primary, standby and the node started from the
# backup, through each index (checked with EXPLAIN), for 12 queries.
sub topk_sql
{
	my ($t, $am) = @_;
	my $op = $tables{$t}{$am};
	return qq{SET enable_seqscan = off; SET hnsw.ef_search = 64; SET ivfpq.probes = 3;
		SELECT string_agg(a, ';' ORDER BY q) FROM (
			SELECT q, array(SELECT id FROM $t ORDER BY v $op (SELECT v FROM $t WHERE id >= q * 150 ORDER BY id LIMIT 1) LIMIT 10)::text a
			FROM generate_series(1, 12) q) s};
}

for my $t (sort keys %tables)
{
	for my $am ('hnsw', 'ivfpq')
	{
		my $op = $tables{$t}{$am};
		for my $n ($standby, $copy)
		{
			like($n->safe_psql('postgres', qq{SET enable_seqscan = off;
				EXPLAIN (COSTS OFF) SELECT id FROM $t ORDER BY v $op (SELECT v FROM $t LIMIT 1) LIMIT 10}),
				qr/Index Scan using ${t}_$am/, $n->name . ": $t $op uses ${t}_$am");
		}
		my $p = $primary->safe_psql('postgres', topk_sql($t, $am));
		like($p, qr/^\{\d+(,\d+){9}\}(;\{\d+(,\d+){9}\}){11}$/, "primary: 12 top-10 answers from ${t}_$am");
		is($standby->safe_psql('postgres', topk_sql($t, $am)), $p, "standby answers like the primary (${t}_$am)");
		is($copy->safe_psql('postgres', topk_sql($t, $am)), $p, "node from the online backup answers like the primary (${t}_$am)");
	}
}

# Consistency of one node's indexes: the checker when present, and the
# index compared with the table: every row is its own nearest neighbour
# through each index (ivfpq probing every list is exact; hnsw is
# approximate, allow a tiny miss rate and report it), and the top-10 of
# sample queries equal an exact scan (ivfpq) or nearly (hnsw).
my $has_checker;

sub check_indexes
{
	my ($node, $what) = @_;
	$has_checker //= $node->safe_psql('postgres',
		q{SELECT count(*) FROM pg_proc WHERE proname = 'vecx_index_check'}) ne '0';
	for my $t (sort keys %tables)
	{
		my $rows = $node->safe_psql('postgres', "SELECT count(*) FROM $t");
		for my $am ('hnsw', 'ivfpq')
		{
			my $idx = "${t}_$am";
			my $op = $tables{$t}{$am};
			if ($has_checker)
			{
				my ($rc, $o, $e) = $node->psql('postgres',
					"SELECT vecx_index_check('$idx'::regclass, true)");
				ok($rc == 0 && $o ne 'f', "$what: vecx_index_check($idx) is clean")
				  or diag("rc $rc out $o err $e");
			}
			my $missing = $node->safe_psql('postgres', qq{
				SET enable_seqscan = off; SET hnsw.ef_search = 100; SET ivfpq.probes = 8;
				SELECT count(*) FROM $t WHERE
					coalesce((SELECT t2.v $op $t.v FROM $t t2 ORDER BY t2.v $op $t.v LIMIT 1), 1) > 1e-6});
			if ($am eq 'ivfpq')
			{
				is($missing, '0', "$what: every row of $t found through $idx");
			}
			else
			{
				cmp_ok($missing, '<=', int($rows * 0.002), "$what: rows of $t found through $idx (missed $missing of $rows)");
			}
			my $exact = $node->safe_psql('postgres', qq{SET enable_indexscan = off; SET enable_bitmapscan = off;
				SELECT array_agg(id ORDER BY q, r) FROM (
					SELECT q, r, id FROM generate_series(1, 10) q, LATERAL (
						SELECT id, row_number() OVER () r FROM (
							SELECT id FROM $t ORDER BY v $op (SELECT v FROM $t ORDER BY id OFFSET q * 97 LIMIT 1), id LIMIT 10) x) y) z});
			my $viaidx = $node->safe_psql('postgres', qq{SET enable_seqscan = off; SET hnsw.ef_search = 200; SET ivfpq.probes = 8;
				SELECT array_agg(id ORDER BY q, r) FROM (
					SELECT q, r, id FROM generate_series(1, 10) q, LATERAL (
						SELECT id, row_number() OVER () r FROM (
							SELECT id FROM $t ORDER BY v $op (SELECT v FROM $t ORDER BY id OFFSET q * 97 LIMIT 1) LIMIT 10) x) y) z});
			my @e = $exact =~ /(\d+)/g;
			my @i = $viaidx =~ /(\d+)/g;
			is(scalar(@e), 100, "$what: exact top-10 of 10 queries on $t");
			if ($am eq 'ivfpq')
			{
				is($viaidx, $exact, "$what: $idx answers equal an exact scan");
			}
			else
			{
				my %in = map { $_ => 1 } @e;
				my $hits = grep { $in{$_} } @i;
				cmp_ok($hits, '>=', 95, "$what: $idx recall\@10 vs exact: $hits/100");
			}
		}
	}
}

check_indexes($primary, 'primary');
check_indexes($standby, 'standby');
check_indexes($copy, 'node from the online backup');

# The standby (and the copy) replayed everything with consistency checks.
$primary->safe_psql('postgres', 'CHECKPOINT');
$primary->wait_for_catchup($standby);
$primary->wait_for_catchup($copy);
for my $n ($standby, $copy)
{
	is($n->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', $n->name . ' is still up and in recovery');
	my $log = slurp_file($n->logfile);
	unlike($log, qr/inconsistent page found|PANIC|TRAP:/, $n->name . ': no inconsistent page, PANIC or assertion in the log');
}
$copy->stop;

# Promote the standby and run a second mix on it.
$standby->promote;
$standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()') or die 'promotion failed';
($out, $err) = ('', '');
$bench = IPC::Run::start(pgbench_cmd($standby, '-c', '4', '-j', '2', '-t', '500'), '>', \$out, '2>', \$err);
$bench->finish;
$total_xacts += pgbench_result('mix on the promoted standby', $bench->result(0), $out, $err);
$standby->safe_psql('postgres', 'VACUUM tv; VACUUM th;');
check_indexes($standby, 'promoted');
ok(!grep({ /inconsistent page found|PANIC|TRAP:/ } split /\n/, slurp_file($standby->logfile)),
	'promoted node: no inconsistent page, PANIC or assertion in the log');
ok(!grep({ /PANIC|TRAP:/ } split /\n/, slurp_file($primary->logfile)), 'primary: no PANIC or assertion in the log');

diag("transactions run under wal_consistency_checking: $total_xacts (plus $standby_searches searches on the standby during replay)");
cmp_ok($total_xacts, '>=', 8000, "transactions under wal_consistency_checking: $total_xacts");

$standby->stop;
$primary->stop;
done_testing();
