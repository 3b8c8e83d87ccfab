# 330_logical_types.pl: vector and halfvec through logical replication,
# in text mode (output then input functions on the subscriber) and binary
# mode (send then recv), and through a physical standby.
#
# Logical replication applies the publisher's text output with the input
# function, so an input function that modified its argument, or output
# that does not read back exactly, shows up here as a diverging
# subscriber.  Values cover extreme and subnormal elements, every size
# class up to 16000 dimensions (TOASTed values, which logical replication
# sends unchanged on UPDATE), NULLs, UPDATE and DELETE.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use VecxTest;
use Test::More;

my $pub = vecx_node('publisher', streaming => 'logical', extension => 0);
$pub->backup('base');
my $standby = vecx_standby($pub, 'standby', 'base');

my $sub = vecx_node('subscriber', extension => 0);

my $schema = q{
CREATE EXTENSION vecx;
CREATE TABLE items (id int PRIMARY KEY, v vector, h halfvec, v3 vector(3), h3 halfvec(3), note text);
};
$pub->safe_psql('postgres', $schema);
$sub->safe_psql('postgres', $schema);
$sub->safe_psql('postgres', 'CREATE DATABASE bin');
$sub->safe_psql('bin', $schema);

# Values with exactly representable extremes, subnormals and negative zero.
$pub->safe_psql('postgres', q{
INSERT INTO items VALUES
	(1, '[1,2,3]', '[1,2,3]', '[1,2,3]', '[1,2,3]', 'small'),
	(2, '[3.4028235e38,-3.4028235e38,1e-45,-1e-45,1.1754944e-38,-0,0.1,1e-7,123456.79]',
		'[65504,-65504,6e-08,-6e-08,6.1035156e-05,-0,0.099975586,1e-3,2048]',
		'[3.4028235e38,1e-45,-0]', '[65504,6e-08,-0]', 'extremes'),
	(3, NULL, NULL, NULL, NULL, 'nulls');
INSERT INTO items
SELECT 100 + d, (SELECT array_agg(((i * 7919 + d) % 10007) / 97.0 - 50 ORDER BY i) FROM generate_series(1, d) i)::vector,
	(SELECT array_agg(((i * 31 + d) % 1001) / 8.0 - 60 ORDER BY i) FROM generate_series(1, d) i)::halfvec,
	ARRAY[d, -d, d / 3.0]::vector(3), ARRAY[d % 100, 0.5, -1]::halfvec(3), 'size ' || d
FROM unnest(ARRAY[1, 2, 100, 500, 1000, 2000, 4000, 8000, 16000]) d;
CREATE PUBLICATION pub FOR TABLE items;
});

my $connstr = $pub->connstr . ' dbname=postgres';
$sub->safe_psql('postgres', "CREATE SUBSCRIPTION sub_text CONNECTION '$connstr' PUBLICATION pub WITH (binary = false)");
$sub->safe_psql('bin', "CREATE SUBSCRIPTION sub_bin CONNECTION '$connstr' PUBLICATION pub WITH (binary = true, slot_name = 'sub_bin')");
$sub->wait_for_subscription_sync($pub, 'sub_text');
$sub->wait_for_subscription_sync($pub, 'sub_bin', 'bin');

# Changes after the initial copy go through the apply worker.
$pub->safe_psql('postgres', q{
INSERT INTO items VALUES (4, '[0.5,-0.25]', '[0.5,-0.25]', '[7,8,9]', '[7,8,9]', 'later');
UPDATE items SET v = v * v, note = note || ' updated' WHERE id = 1;
UPDATE items SET note = note || ' toast unchanged' WHERE id = 16100;
UPDATE items SET h = h + h WHERE id = 1100;
UPDATE items SET v3 = NULL WHERE id = 2;
DELETE FROM items WHERE id = 3;
});
$pub->wait_for_catchup('sub_text');
$pub->wait_for_catchup('sub_bin');
$pub->wait_for_catchup($standby);

# Compare everything, exactly, through the binary send form (text would
# hide nothing here, but binary compares the bits, -0 included).
my $digest = q{
SELECT count(*), md5(string_agg(concat_ws('|', id, vector_send(v), halfvec_send(h),
	vector_send(v3), halfvec_send(h3), note), ';' ORDER BY id)) FROM items};
my $expect = $pub->safe_psql('postgres', $digest);
like($expect, qr/^12\|/, 'publisher has the 12 rows');
is($sub->safe_psql('postgres', $digest), $expect, 'text-mode subscriber has exactly the published values');
is($sub->safe_psql('bin', $digest), $expect, 'binary-mode subscriber has exactly the published values');
is($standby->safe_psql('postgres', $digest), $expect, 'physical standby has exactly the same values');

# Spot checks that the comparison covers what it should.
is($sub->safe_psql('postgres', q{SELECT v::text, h::text FROM items WHERE id = 2}),
	'[3.4028235e+38,-3.4028235e+38,1e-45,-1e-45,1.1754944e-38,-0,0.1,1e-07,123456.79]|[65504,-65504,5.9604645e-08,-5.9604645e-08,6.1035156e-05,-0,0.099975586,0.0010004044,2048]',
	'extreme and subnormal elements survive text-mode replication');
is($sub->safe_psql('bin', q{SELECT vector_dims(v), note FROM items WHERE id = 16100}),
	'16000|size 16000 toast unchanged', 'unchanged TOASTed 16000-dimension value after UPDATE');
is($sub->safe_psql('postgres', q{SELECT v::text, note FROM items WHERE id = 1}),
	'[1,4,9]|small updated', 'UPDATE replicated');
is($sub->safe_psql('bin', 'SELECT count(*) FROM items WHERE id = 3'), '0', 'DELETE replicated');

# The publisher's input strings were not modified: their values read
# back from the subscriber's output.
is($sub->safe_psql('postgres', q{SELECT count(*) FROM items WHERE v::text::vector IS DISTINCT FROM v OR h::text::halfvec IS DISTINCT FROM h}),
	'0', 'every replicated value reads back from its text form');

$sub->stop;
$standby->stop;
$pub->stop;
done_testing();
