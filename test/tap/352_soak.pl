# 352_soak.pl: a pgbench soak on hnsw and ivfpq indexes over vector and
# halfvec columns: inserts, updates, deletes, searches (plain and
# filtered, iterative) and VACUUM from
# several clients, while one more client runs REINDEX INDEX CONCURRENTLY
# on each index in turn (and VACUUM).  pgbench must report no error and no
# failed transaction; afterwards every index agrees with an exact scan
# and vecx_index_check() (when the extension has it) is clean.
#
# The soak lasts VECX_SOAK_SECONDS seconds (60 by default: the test
# command); scripts/soak.sh runs it for 600 seconds.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use VecxTest;
use Test::More;

my $secs = $ENV{VECX_SOAK_SECONDS} // 60;
die "VECX_SOAK_SECONDS must be a positive integer" unless $secs =~ /^[1-9]\d*$/;
my $tmp = PostgreSQL::Test::Utils::tempdir;
my $dims = 16;

# sv (vector): hnsw on <->, ivfpq on <=>; sh (halfvec): hnsw on <=>,
# ivfpq on <->.  Every write goes through both AMs; the operator chooses
# the index of a query.
my %tables = (
	sv => { type => 'vector', hnsw => '<->', ivfpq => '<=>' },
	sh => { type => 'halfvec', hnsw => '<=>', ivfpq => '<->' });

sub rand_vec
{
	my ($type, $corr) = @_;
	$corr = defined $corr ? " WHERE $corr > 0" : '';
	return "ARRAY(SELECT random() FROM generate_series(1, $dims)$corr)::real[]::$type($dims)";
}

my $node = vecx_node('soak', conf => qq{
autovacuum = off
max_connections = 30
deadlock_timeout = 200ms
log_min_messages = warning
log_statement = none
log_min_duration_statement = -1
});

$node->safe_psql('postgres', qq{
	CREATE TABLE sv (id bigserial PRIMARY KEY, v vector($dims));
	CREATE TABLE sh (id bigserial PRIMARY KEY, v halfvec($dims));
	INSERT INTO sv (v) SELECT @{[ rand_vec('vector', 'i') ]} FROM generate_series(1, 3000) i;
	INSERT INTO sh (v) SELECT @{[ rand_vec('halfvec', 'i') ]} FROM generate_series(1, 3000) i;
	CREATE INDEX sv_hnsw ON sv USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 32);
	CREATE INDEX sv_ivfpq ON sv USING ivfpq (v vector_cosine_ops) WITH (lists = 8);
	CREATE INDEX sh_hnsw ON sh USING hnsw (v halfvec_cosine_ops) WITH (m = 8, ef_construction = 32);
	CREATE INDEX sh_ivfpq ON sh USING ivfpq (v halfvec_l2_ops) WITH (lists = 8);
});

# the DML and search mix: one statement per transaction; a row to update
# or delete is picked at random among the live ids through the primary key
my %mix;
for my $t (sort keys %tables)
{
	my $ty = $tables{$t}{type};
	my $pick = "(SELECT id FROM $t WHERE id >= (random() * (SELECT max(id) FROM $t))::bigint ORDER BY id LIMIT 1)";
	$mix{"ins_$t\@4"} = "INSERT INTO $t (v) VALUES (@{[ rand_vec($ty) ]});\n";
	$mix{"upd_$t\@2"} = "UPDATE $t SET v = @{[ rand_vec($ty) ]} WHERE id = $pick;\n";
	$mix{"del_$t\@2"} = "DELETE FROM $t WHERE id = $pick;\n";
	$mix{"shnsw_$t\@3"} = "SET enable_seqscan = off;\nSELECT id FROM $t ORDER BY v $tables{$t}{hnsw} @{[ rand_vec($ty) ]} LIMIT 10;\n";
	$mix{"sivf_$t\@3"} = "SET enable_seqscan = off;\nSET ivfpq.probes = 2;\nSELECT id FROM $t ORDER BY v $tables{$t}{ivfpq} @{[ rand_vec($ty) ]} LIMIT 10;\n";
	$mix{"vac_$t\@1"} = "VACUUM $t;\n";
	# filtered searches: hnsw and ivfpq iterative scans
	$mix{"fhnsw_$t\@1"} = "SET enable_seqscan = off;\nSET hnsw.iterative_scan = relaxed_order;\nSELECT id FROM $t WHERE id % 7 = 0 ORDER BY v $tables{$t}{hnsw} @{[ rand_vec($ty) ]} LIMIT 10;\n";
	$mix{"fivf_$t\@1"} = "SET enable_seqscan = off;\nSET ivfpq.probes = 1;\nSET ivfpq.max_probes = 8;\nSELECT id FROM $t WHERE id % 7 = 0 ORDER BY v $tables{$t}{ivfpq} @{[ rand_vec($ty) ]} LIMIT 10;\n";
}
my @mix = pgbench_scripts($tmp, 'mix_', %mix);

# maintenance: REINDEX CONCURRENTLY cannot run in a transaction block, so
# each is a script of its own (pgbench runs each statement by itself)
my %maint;
for my $t (sort keys %tables)
{
	for my $am ('hnsw', 'ivfpq')
	{
		$maint{"reindex_${t}_$am\@2"} = "REINDEX INDEX CONCURRENTLY ${t}_$am;\n";
	}
	$maint{"vac_$t\@1"} = "\\sleep 200 ms\nVACUUM $t;\n";
}
my @maint = pgbench_scripts($tmp, 'maint_', %maint);

my $relfilenodes_before = $node->safe_psql('postgres',
	q{SELECT string_agg(relfilenode::text, ',' ORDER BY relname) FROM pg_class WHERE relname ~ '^s[vh]_(hnsw|ivfpq)$'});

my @conn = ('-h', $node->host, '-p', $node->port, 'postgres');
my ($mout, $merr, $rout, $rerr) = ('', '', '', '');
diag("soak: $secs seconds");
my $hmix = IPC::Run::start([ 'pgbench', '-n', '-c', '4', '-j', '2', '-T', $secs, @mix, @conn ],
	'>', \$mout, '2>', \$merr);
my $hmaint = IPC::Run::start([ 'pgbench', '-n', '-c', '1', '-T', $secs, @maint, @conn ],
	'>', \$rout, '2>', \$rerr);
$hmix->finish;
$hmaint->finish;

my %count;
for my $r ([ 'mix', $hmix, $mout, $merr ], [ 'reindex/vacuum', $hmaint, $rout, $rerr ])
{
	my ($what, $h, $out, $err) = @$r;
	my ($n) = $out =~ /number of transactions actually processed: (\d+)/;
	my ($failed) = $out =~ /number of failed transactions: (\d+)/;
	is($h->result(0), 0, "$what: pgbench exit status 0") or diag($err);
	is($failed, '0', "$what: no failed transactions");
	unlike($err, qr/ERROR|FATAL|PANIC|aborted/, "$what: no error reported by pgbench") or diag($err);
	$count{$what} = $n // 0;
	# per-script counts: "SQL script 3: /path/maint_reindex_sh_hnsw.sql"
	# followed by " - weight: 2 (...)" and " - 12 transactions (...)"
	while ($out =~ m{SQL script \d+: \S*/(\w+)\.sql\n - weight: \d+[^\n]*\n - (\d+) transactions}g)
	{
		$count{$1} = $2;
	}
}
my $reindexes = 0;
$reindexes += $count{$_} for grep { /^maint_reindex_/ } keys %count;
diag("soak: $count{mix} mix transactions, $count{'reindex/vacuum'} maintenance transactions ($reindexes REINDEX CONCURRENTLY) in $secs s");
cmp_ok($count{mix}, '>', 10 * $secs, 'the mix made progress');
for my $t (sort keys %tables)
{
	for my $am ('hnsw', 'ivfpq')
	{
		cmp_ok($count{"maint_reindex_${t}_$am"} // 0, '>=', 1, "${t}_$am was reindexed concurrently during the soak");
	}
}
isnt($node->safe_psql('postgres',
	q{SELECT string_agg(relfilenode::text, ',' ORDER BY relname) FROM pg_class WHERE relname ~ '^s[vh]_(hnsw|ivfpq)$'}),
	$relfilenodes_before, 'the indexes were rebuilt');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
	WHERE c.relname ~ '^s[vh]_' AND (NOT i.indisvalid OR NOT i.indisready)}), '0',
	'no invalid index left behind by REINDEX CONCURRENTLY');

# Afterwards: every index agrees with the table.
$node->safe_psql('postgres', 'VACUUM sv; VACUUM sh;');
my $has_checker = $node->safe_psql('postgres',
	q{SELECT count(*) FROM pg_proc WHERE proname = 'vecx_index_check'}) ne '0';
for my $t (sort keys %tables)
{
	my $rows = $node->safe_psql('postgres', "SELECT count(*) FROM $t");
	diag("soak: $t has $rows rows");
	for my $am ('hnsw', 'ivfpq')
	{
		my $idx = "${t}_$am";
		my $op = $tables{$t}{$am};
		like($node->safe_psql('postgres', qq{SET enable_seqscan = off;
			EXPLAIN (COSTS OFF) SELECT id FROM $t ORDER BY v $op (SELECT v FROM $t LIMIT 1) LIMIT 10}),
			qr/Index Scan using $idx/, "$idx is used for $op");
		if ($has_checker)
		{
			my ($rc, $o, $e) = $node->psql('postgres', "SELECT vecx_index_check('$idx'::regclass, true)");
			ok($rc == 0 && $o ne 'f', "vecx_index_check($idx) is clean") or diag("rc $rc: $o $e");
		}
		# every row is its own nearest neighbour through the index
		# (ivfpq probing all lists is exact; hnsw may miss a very few)
		my $missing = $node->safe_psql('postgres', qq{
			SET enable_seqscan = off; SET hnsw.ef_search = 100; SET ivfpq.probes = 8;
			SELECT count(*) FROM $t WHERE
				coalesce((SELECT t2.v $op $t.v FROM $t t2 ORDER BY t2.v $op $t.v LIMIT 1), 1) > 1e-6});
		if ($am eq 'ivfpq')
		{
			is($missing, '0', "every row of $t found through $idx");
		}
		else
		{
			cmp_ok($missing, '<=', int($rows * 0.002), "rows of $t found through $idx (missed $missing of $rows)");
		}
		# the index holds exactly the live rows (ivfpq: all lists; hnsw:
		# an iterative scan)
		is($node->safe_psql('postgres', qq{SET enable_seqscan = off; SET ivfpq.probes = 8;
			SET hnsw.iterative_scan = relaxed_order; SET hnsw.ef_search = 1000; SET work_mem = '256MB'; SET hnsw.max_scan_tuples = 100000000;
			SELECT count(*) || ',' || count(DISTINCT id) FROM (SELECT id FROM $t ORDER BY v $op (SELECT v FROM $t ORDER BY id LIMIT 1) LIMIT 10000000) s}),
			"$rows,$rows", "$idx returns every live row once") if $am eq 'ivfpq' || $missing == 0;
		# top-10 of 20 queries against an exact scan
		my $q = sub {
			my ($set, $tie) = @_;
			return $node->safe_psql('postgres', qq{$set
				SELECT string_agg(a, ';' ORDER BY q) FROM (
					SELECT q, array(SELECT id FROM $t ORDER BY v $op (SELECT v FROM $t ORDER BY id OFFSET q * 37 LIMIT 1)$tie LIMIT 10)::text a
					FROM generate_series(1, 20) q) s});
		};
		my $exact = $q->('SET enable_indexscan = off; SET enable_bitmapscan = off;', ', id');
		my $viaidx = $q->('SET enable_seqscan = off; SET hnsw.ef_search = 200; SET ivfpq.probes = 8;', '');
		my @e = $exact =~ /(\d+)/g;
		my @i = $viaidx =~ /(\d+)/g;
		is(scalar(@e), 200, "exact top-10 of 20 queries on $t");
		if ($am eq 'ivfpq')
		{
			is($viaidx, $exact, "$idx answers equal an exact scan");
		}
		else
		{
			my %in = map { $_ => 1 } @e;
			my $hits = grep { $in{$_} } @i;
			cmp_ok($hits, '>=', 190, "$idx recall\@10 against an exact scan: $hits/200");
		}
	}
}

ok(!grep({ /PANIC|TRAP:|deadlock|corrupt|could not read block|unexpected data beyond EOF/ } split /\n/, slurp_file($node->logfile)),
	'no PANIC, assertion, deadlock or corruption message in the server log');

$node->stop;
done_testing();
