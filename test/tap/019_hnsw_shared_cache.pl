# 019_hnsw_shared_cache.pl: shared graph copies (hnsw.shared_cache_size,
# vecx in shared_preload_libraries).  Two sessions walk one copy; a third
# session's insert retires it and scans see the new row; a copy pinned by
# an open cursor outlives its retirement and is freed at the cursor's
# transaction end, and a terminated backend leaves no pin; a temporary
# index gets no shared copy; a standby's copies follow replay; a budget
# that holds one copy retires the least recently used unpinned one; a
# budget smaller than the graph takes no copy and scans stay correct.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use VecxTest;
use Test::More;

my $primary = vecx_node('primary', streaming => 1,
	conf => "shared_preload_libraries = 'vecx'\nhnsw.shared_cache_size = '64MB'\n");
is($primary->safe_psql('postgres', 'SHOW hnsw.shared_cache_size'), '64MB',
	'hnsw.shared_cache_size is set');
$primary->safe_psql('postgres', qq{
	CREATE TABLE t (id int PRIMARY KEY, v vector(16));
	INSERT INTO t SELECT i, ARRAY(SELECT sin(i * 7.1 + j) FROM generate_series(1, 16) j)::vector(16)
		FROM generate_series(1, 2000) i;
	CREATE INDEX t_v ON t USING hnsw (v vector_l2_ops);
	CREATE TABLE w (id int PRIMARY KEY, v vector(128));
	INSERT INTO w SELECT i, ARRAY(SELECT sin(i * 1.3 + j * 0.7) FROM generate_series(1, 128) j)::vector(128)
		FROM generate_series(1, 400) i;
	CREATE INDEX w_v ON w USING hnsw (v vector_l2_ops);
});
$primary->backup('bk');
my $standby = vecx_standby($primary, 'standby', 'bk');

my $warm = qq{SELECT count(*) FROM generate_series(1, 40) g, LATERAL
	(SELECT id FROM t ORDER BY v <-> (SELECT v FROM t ORDER BY id OFFSET g LIMIT 1) LIMIT 1) s};
my $shared = q{SELECT state || ' ' || current || ' ' || nodes || ' ' || pins
	FROM vecx_hnsw_shared_cache_status() WHERE index = 't_v'::regclass};
my $five = '[' . join(',', (5) x 16) . ']';
my $near = "SELECT id FROM t ORDER BY v <-> '$five' LIMIT 1";
my $top = q{SELECT string_agg(id::text, ',') FROM
	(SELECT id FROM t ORDER BY v <-> (SELECT v FROM t WHERE id = 17) LIMIT 10) s};

# two sessions, one copy: the first takes it, the second walks it
my $a = $primary->background_psql('postgres');
my $b = $primary->background_psql('postgres');
$a->query_safe('SET enable_seqscan = off');
$b->query_safe('SET enable_seqscan = off');
my $top_pages = $a->query_safe($top);	# before any copy: a walk of the pages
is($a->query_safe($warm), '40', 'session A scans');
is($a->query_safe($shared), 'ready true 2000 0', 'session A took a shared copy');
is($a->query_safe("SELECT builds FROM vecx_hnsw_cache_status() WHERE index = 't_v'::regclass"),
	'1', 'session A copied the index once');
is($b->query_safe($warm), '40', 'session B scans');
is($b->query_safe("SELECT hits || ' ' || builds FROM vecx_hnsw_cache_status() WHERE index = 't_v'::regclass"),
	'40 0', 'session B walked the shared copy without copying');
my $a_hits = $a->query_safe("SELECT hits FROM vecx_hnsw_cache_status() WHERE index = 't_v'::regclass");
is($b->query_safe(q{SELECT count(*) || ' ' || min(hits)
	FROM vecx_hnsw_shared_cache_status() WHERE index = 't_v'::regclass}),
	'1 ' . ($a_hits + 40), 'one shared copy served both sessions');
is($b->query_safe($top), $top_pages, 'the copy walk returns what the page walk returned');

# the 128-dimensional index: a copy walked on sq8 codes, re-ranked exactly
my $wq = q{SELECT string_agg(id::text, ',') FROM
	(SELECT id FROM w ORDER BY v <-> (SELECT v FROM w WHERE id = %d) LIMIT 5) s};
my $wexact = $primary->safe_psql('postgres',
	"SET enable_indexscan = off; " . join('; ', map { sprintf($wq, $_) } (3, 77, 150, 333)));
$b->query_safe(qq{SELECT count(*) FROM generate_series(1, 30) g, LATERAL
	(SELECT id FROM w ORDER BY v <-> (SELECT v FROM w ORDER BY id OFFSET g LIMIT 1) LIMIT 1) s});
is($a->query_safe(q{SELECT state || ' ' || nodes FROM vecx_hnsw_shared_cache_status()
	WHERE index = 'w_v'::regclass}), 'ready 400', 'a shared copy of the 128-dim index');
is(join("\n", map { $a->query_safe(sprintf($wq, $_)) } (3, 77, 150, 333)), $wexact,
	'its walk finds the exact neighbours');

# a temporary index, which no other backend can scan, gets no shared copy
$b->query_safe(qq{CREATE TEMP TABLE tt AS SELECT * FROM t;
	CREATE INDEX tt_v ON tt USING hnsw (v vector_l2_ops)});
is($b->query_safe(qq{SELECT count(*) FROM generate_series(1, 40) g, LATERAL
	(SELECT id FROM tt ORDER BY v <-> (SELECT v FROM tt ORDER BY id OFFSET g LIMIT 1) LIMIT 1) s}),
	'40', 'scans of a temporary index');
is($b->query_safe(q{SELECT count(*) FROM vecx_hnsw_shared_cache_status()}), '2',
	'no shared copy of the temporary index');
$b->query_safe('DROP TABLE tt');

# an insert in a third session retires the copy; the scans see the row
$primary->safe_psql('postgres', "INSERT INTO t VALUES (5000, '$five')");
is($a->query_safe($shared), 'ready false 2000 0', 'the insert left the copy behind the index');
is($a->query_safe($near), '5000', 'session A finds the new row');
is($a->query_safe("SELECT count(*) FROM vecx_hnsw_shared_cache_status() WHERE index = 't_v'::regclass"),
	'0', 'the stale copy was retired and freed');
$a->query_safe($warm);
$b->query_safe($warm);
is($b->query_safe($shared), 'ready true 2001 0', 'a new shared copy is taken');
is($b->query_safe($near), '5000', 'session B finds the new row in it');

# pins: an open cursor keeps its copy through retirement and frees it at
# its transaction's end
$a->query_safe(qq{BEGIN; DECLARE c CURSOR FOR SELECT id FROM t ORDER BY v <-> '$five'});
is($a->query_safe('FETCH 1 FROM c'), '5000', 'a cursor walks the copy');
is($b->query_safe($shared), 'ready true 2001 1', 'the cursor pins the copy');
my $seven = '[' . join(',', (7) x 16) . ']';
$primary->safe_psql('postgres', "INSERT INTO t VALUES (5001, '$seven')");
is($b->query_safe("SELECT id FROM t ORDER BY v <-> '$seven' LIMIT 1"), '5001',
	'session B scans past the insert');
is($b->query_safe($shared), 'retired false 2001 1', 'the pinned copy is retired, not freed');
$a->query_safe('FETCH 5 FROM c');
$a->query_safe('ROLLBACK');
is($b->query_safe("SELECT count(*) FROM vecx_hnsw_shared_cache_status() WHERE index = 't_v'::regclass"),
	'0', 'the retired copy is freed at the end of the cursor\'s transaction');

# a backend that ends with a pin held leaves none behind
$a->query_safe($warm);
$b->query_safe($warm);
is($b->query_safe($shared), 'ready true 2002 0', 'a copy again');
$a->query_safe(qq{BEGIN; DECLARE c CURSOR FOR SELECT id FROM t ORDER BY v <-> '$five'; FETCH 1 FROM c});
is($b->query_safe($shared), 'ready true 2002 1', 'pinned by session A');
my $apid = $a->query_safe('SELECT pg_backend_pid()');
$b->query_safe("SELECT pg_terminate_backend($apid, 10000)");
$b->query_safe($warm);
is($b->query_safe($shared), 'ready true 2002 0', 'the terminated backend left no pin');
is($b->query_safe("SELECT sum(pins) FROM vecx_hnsw_shared_cache_status()"), '0', 'no pins at all');
$a->{run}->kill_kill;
$b->quit;

# scans and inserts at once: copies are taken, retired and freed over and
# over; nothing fails, no pin or claim is left, no row is lost
$primary->safe_psql('postgres', qq{
	CREATE TABLE u (id serial PRIMARY KEY, v vector(16));
	INSERT INTO u (v) SELECT ARRAY(SELECT random() + 0 * g FROM generate_series(1, 16))::vector(16)
		FROM generate_series(1, 1000) g;
	CREATE INDEX u_v ON u USING hnsw (v vector_l2_ops);
});
$primary->pgbench('-n -c 4 -j 2 -T 6', 0, [qr/processed: [1-9]/], [qr/^$/],
	'concurrent scans and inserts',
	{
		'scan@9' => "\\set q random(1, 1000)\nSET enable_seqscan = off;\n"
		  . "SELECT id FROM u ORDER BY v <-> (SELECT v FROM u WHERE id = :q) LIMIT 5;",
		'ins@1' => "INSERT INTO u (v) SELECT ARRAY(SELECT random() FROM generate_series(1, 16))::vector(16);"
	});
is($primary->safe_psql('postgres', q{SELECT coalesce(sum(pins), 0) || ' '
	|| count(*) FILTER (WHERE state <> 'ready') FROM vecx_hnsw_shared_cache_status()}),
	'0 0', 'no pin or unfinished copy is left');
ok($primary->safe_psql('postgres', q{SELECT cache_hits FROM vecx_stat_indexes
	WHERE indexrelname = 'u_v'}) > 0, 'scans walked shared copies');
is($primary->safe_psql('postgres', q{SET enable_seqscan = off; SET hnsw.ef_search = 100;
	SELECT count(*) <= 3 FROM u WHERE id <> (SELECT id FROM u u2 ORDER BY u2.v <-> u.v LIMIT 1)}),
	't', 'every row but at most a few finds itself');

# a standby's backends share copies that follow replay
$primary->wait_for_catchup($standby);
my $s1 = $standby->background_psql('postgres');
my $s2 = $standby->background_psql('postgres');
$s1->query_safe('SET enable_seqscan = off');
$s2->query_safe('SET enable_seqscan = off');
$s1->query_safe($warm);
$s2->query_safe($warm);
is($s2->query_safe($shared), 'ready true 2002 0', 'the standby takes a shared copy');
is($s2->query_safe("SELECT hits || ' ' || builds FROM vecx_hnsw_cache_status() WHERE index = 't_v'::regclass"),
	'40 0', 'the second standby session walked it');
my $six = '[' . join(',', (6) x 16) . ']';
$primary->safe_psql('postgres', "INSERT INTO t VALUES (6000, '$six')");
$primary->wait_for_catchup($standby);
is($s1->query_safe($shared), 'ready false 2002 0', 'replaying the insert leaves the copy behind');
is($s1->query_safe("SELECT id FROM t ORDER BY v <-> '$six' LIMIT 1"), '6000',
	'a standby scan finds the replayed row');
$s1->query_safe($warm);
$s2->query_safe($warm);
is($s2->query_safe($shared), 'ready true 2003 0', 'the standby takes a new copy');
is($s2->query_safe("SELECT id FROM t ORDER BY v <-> '$six' LIMIT 1"), '6000',
	'and finds the replayed row in it');
$s1->quit;
$s2->quit;

# a budget that holds one copy of the two: the least recently used one
# is retired to make room, unless a scan pins it
$primary->append_conf('postgresql.conf', "hnsw.shared_cache_size = '700kB'");
$primary->restart;
my $l = $primary->background_psql('postgres');
$l->query_safe('SET enable_seqscan = off');
my $wwarm = qq{SELECT count(*) FROM generate_series(1, 30) g, LATERAL
	(SELECT id FROM w ORDER BY v <-> (SELECT v FROM w ORDER BY id OFFSET g LIMIT 1) LIMIT 1) s};
my $copies = q{SELECT string_agg(index::text || ' ' || state, ',' ORDER BY index::text)
	FROM vecx_hnsw_shared_cache_status()};
$l->query_safe($warm);
is($l->query_safe($copies), 't_v ready', 'a copy of t_v');
$l->query_safe($wwarm);
is($l->query_safe($copies), 'w_v ready', 'the copy of w_v took the place of t_v\'s');
is($l->query_safe(q{SELECT sum(bytes) <= 700 * 1024 FROM vecx_hnsw_shared_cache_status()}), 't',
	'within the budget');
my $m = $primary->background_psql('postgres');
$m->query_safe(qq{SET enable_seqscan = off; BEGIN;
	DECLARE c CURSOR FOR SELECT id FROM w ORDER BY v <-> (SELECT v FROM w WHERE id = 3); FETCH 1 FROM c});
$l->query_safe($warm);
$l->query_safe($warm);
is($l->query_safe($copies), 'w_v ready', 'a pinned copy is not retired to make room');
is($l->query_safe("SELECT id FROM t ORDER BY v <-> '$six' LIMIT 1"), '6000',
	't_v scans walk the pages meanwhile');
$m->query_safe('COMMIT');
$m->quit;
$l->query_safe($warm);
is($l->query_safe($copies), 't_v ready', 'once unpinned it is');
$l->quit;

# a budget smaller than the graph: no copy, the same answers
my $top_before = $primary->safe_psql('postgres', "SET enable_seqscan = off; $top");
$primary->append_conf('postgresql.conf', "hnsw.shared_cache_size = '256kB'");
$primary->restart;
my $c = $primary->background_psql('postgres');
$c->query_safe('SET enable_seqscan = off');
$c->query_safe($warm);
$c->query_safe($warm);
is($c->query_safe("SELECT count(*) FROM vecx_hnsw_shared_cache_status()"), '0',
	'a graph larger than the budget is not copied');
is($c->query_safe("SELECT hits FROM vecx_hnsw_cache_status() WHERE index = 't_v'::regclass"),
	'0', 'its scans walk the pages');
is($c->query_safe($top), $top_before, 'and return what they returned before');
is($c->query_safe("SELECT id FROM t ORDER BY v <-> '$six' LIMIT 1"), '6000', 'including new rows');
$c->quit;

done_testing();
