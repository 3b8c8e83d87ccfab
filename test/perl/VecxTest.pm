# VecxTest.pm: setup shared by the TAP tests in test/tap (clusters with the
# extension, standbys, Fashion-MNIST data, damaged index files, pgbench
# scripts, background psql sessions).  The Makefile's PG_PROVE_FLAGS puts
# this folder on the include path.
package VecxTest;

use strict;
use warnings;
use Exporter 'import';
use File::Basename qw(dirname);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;

our @EXPORT = qw(vecx_node vecx_standby relation_path smash_page write_file read_bytes
  pgbench_scripts psql_file_bg fmnist_program fmnist_tsv fmnist_tables fmnist_filter_tables
  fmnist_filter_generic);

# bench/, from test/perl
my $bench_dir = dirname(__FILE__) . '/../../bench';

# A started node with vecx created in database postgres.  Options:
# streaming => allows_streaming of init (1 or 'logical'); conf => lines for
# postgresql.conf; extension => 0 to leave the extension out.
sub vecx_node
{
	my ($name, %opt) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(defined $opt{streaming} ? (allows_streaming => $opt{streaming}) : ());
	$node->append_conf('postgresql.conf', $opt{conf}) if defined $opt{conf};
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION vecx') if $opt{extension} // 1;
	return $node;
}

# A started streaming standby of primary from its existing backup named
# backup; conf => lines for its postgresql.conf.
sub vecx_standby
{
	my ($primary, $name, $backup, %opt) = @_;
	my $standby = PostgreSQL::Test::Cluster->new($name);
	$standby->init_from_backup($primary, $backup, has_streaming => 1);
	$standby->append_conf('postgresql.conf', $opt{conf}) if defined $opt{conf};
	$standby->start;
	return $standby;
}

# The file of a relation's main fork.
sub relation_path
{
	my ($node, $rel) = @_;
	return $node->data_dir . '/' . $node->safe_psql('postgres', "SELECT pg_relation_filepath('$rel')");
}

# Overwrite bytes of block blk of a relation file at byte off of the page,
# with the node stopped; then start it again.
sub smash_page
{
	my ($node, $path, $blk, $off, $bytes) = @_;
	$node->stop;
	open(my $fh, '+<', $path) or die "open $path: $!";
	binmode $fh;
	seek($fh, $blk * 8192 + $off, 0) or die "seek $path: $!";
	print $fh $bytes;
	close($fh) or die "close $path: $!";
	$node->start;
}

# Write data (text or bytes) to a file, replacing it; returns the path.
sub write_file
{
	my ($path, $data) = @_;
	open(my $fh, '>', $path) or die "cannot write $path: $!";
	binmode $fh;
	print $fh $data;
	close($fh) or die "close $path: $!";
	return $path;
}

# A whole file's bytes.
sub read_bytes
{
	my ($path) = @_;
	open(my $fh, '<', $path) or die "open $path: $!";
	binmode $fh;
	local $/;
	my $data = <$fh>;
	close($fh);
	return $data;
}

# pgbench script files in dir from a hash "name@weight" => SQL, each written
# to dir/prefix.name.sql; returns pgbench's -f options in name order.
sub pgbench_scripts
{
	my ($dir, $prefix, %scripts) = @_;
	my @opts;
	for my $key (sort keys %scripts)
	{
		my ($name, $w) = split /\@/, $key;
		my $file = write_file("$dir/$prefix$name.sql", $scripts{$key});
		push @opts, '-f', defined $w ? "$file\@$w" : $file;
	}
	return @opts;
}

# psql running an SQL file against a node in the background; its output
# goes to the scalars out and err.  Returns the IPC::Run harness.
sub psql_file_bg
{
	my ($node, $file, $out, $err) = @_;
	# a file, not a pipe: IPC::Run only feeds a pipe while it is pumped
	return IPC::Run::start([ 'psql', '-X', '-q', '-f', $file, '-d', $node->connstr('postgres') ],
		'>', $out, '2>', $err);
}

# bench/fmnist.c built in dir, once (dir made readable by the server, for
# COPY FROM PROGRAM); returns the program's path.  Dies when it cannot.
sub fmnist_program
{
	my ($dir) = @_;
	my $prog = "$dir/fmnist";
	return $prog if -x $prog;
	system('gcc', '-O2', '-o', $prog, "$bench_dir/fmnist.c") == 0
	  or die "cannot build $bench_dir/fmnist.c";
	chmod 0755, $dir;
	return $prog;
}

# The first n rows of Fashion-MNIST's set (train or test) as COPY text
# (id, label, vector(784)) in dir/set.tsv; returns that path.
sub fmnist_tsv
{
	my ($dir, $set, $n) = @_;
	my $prog = fmnist_program($dir);
	system("$prog $set $n > $dir/$set.tsv") == 0 or die "$prog $set $n failed";
	return "$dir/$set.tsv";
}

# Fashion-MNIST tables in node's database postgres: fm, the first nbase
# training rows, and fq, the first nq test rows, each (id, label, v
# vector(784)), read through COPY FROM PROGRAM (the program built in dir);
# fm analyzed.
sub fmnist_tables
{
	my ($node, $dir, $nbase, $nq) = @_;
	my $prog = fmnist_program($dir);
	$node->safe_psql('postgres', qq{
		CREATE TABLE fm (id int, label int, v vector(784));
		COPY fm FROM PROGRAM '$prog train $nbase';
		CREATE TABLE fq (id int, label int, v vector(784));
		COPY fq FROM PROGRAM '$prog test $nq';
		ANALYZE fm;
	});
}

# Tables for filtered searches on Fashion-MNIST in node's database postgres:
# t (10,000 train rows) and q (100 test rows), each (id, label, v, bucket,
# sub), where label is the real class (10%), bucket takes 10 values (with
# label: 1%) and sub 10 more (with both: 0.1%); and the exact answers of
# the top 10 of each q row among the t rows with the same label (gt1),
# label and bucket (gt2), label, bucket and sub (gt3), as (qid, tid).
sub fmnist_filter_tables
{
	my ($node) = @_;
	my $dir = PostgreSQL::Test::Utils::tempdir;
	my $train = fmnist_tsv($dir, 'train', 10000);
	my $test = fmnist_tsv($dir, 'test', 100);
	$node->safe_psql('postgres', qq{
		CREATE TABLE t (id int, label int, v vector(784), bucket int, sub int);
		ALTER TABLE t ALTER v SET STORAGE PLAIN;
		CREATE TEMP TABLE raw (id int, label int, v vector(784));
		COPY raw FROM '$train';
		INSERT INTO t SELECT id, label, v, (id * 7) % 10, (id / 10) % 10 FROM raw;
		CREATE TABLE q (id int, label int, v vector(784), bucket int, sub int);
		CREATE TEMP TABLE rawq (id int, label int, v vector(784));
		COPY rawq FROM '$test';
		INSERT INTO q SELECT id, label, v, id % 10, (id / 10) % 10 FROM rawq;
		ANALYZE t;
		SET enable_indexscan = off;
		CREATE TABLE gt1 AS SELECT q.id AS qid, s.id AS tid FROM q,
			LATERAL (SELECT id FROM t WHERE t.label = q.label ORDER BY t.v <-> q.v LIMIT 10) s;
		CREATE TABLE gt2 AS SELECT q.id AS qid, s.id AS tid FROM q,
			LATERAL (SELECT id FROM t WHERE t.label = q.label AND t.bucket = q.bucket
					 ORDER BY t.v <-> q.v LIMIT 10) s;
		CREATE TABLE gt3 AS SELECT q.id AS qid, s.id AS tid FROM q,
			LATERAL (SELECT id FROM t WHERE t.label = q.label AND t.bucket = q.bucket AND t.sub = q.sub
					 ORDER BY t.v <-> q.v LIMIT 10) s;
	});
}

# Each q row's top 10 among the t rows of its label, queried by PL/pgSQL's
# static SQL, which goes through the plan cache with its variables as
# parameters (generic plans); returns (rows found, recall@10 against gt1)
# over the tables of fmnist_filter_tables.
sub fmnist_filter_generic
{
	my ($node) = @_;
	return split / /, $node->safe_psql('postgres', qq{
		SET plan_cache_mode = force_generic_plan;
		CREATE TEMP TABLE res (qid int, tid int);
		DO \$\$
		DECLARE r record;
		BEGIN
			FOR r IN SELECT * FROM q LOOP
				INSERT INTO res SELECT r.id, s.id FROM (SELECT t.id FROM t WHERE t.label = r.label
					ORDER BY t.v <-> r.v LIMIT 10) s;
			END LOOP;
		END \$\$;
		SELECT count(*) || ' ' || (SELECT round(count(*)::numeric / 1000, 3) FROM gt1 JOIN res USING (qid, tid)) FROM res});
}

1;
