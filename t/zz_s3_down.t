# The S3 server goes away: /health turns 503 naming s3 (db and smtp still
# ok), and recovers once RGW is back, without restarting httpd.  Runs last
# (zz_) because it stops the test stack's radosgw and starts it again.
use strict;
use warnings FATAL => 'all';
use Test::More tests => 8;
use Time::HiRes qw(sleep);
use Lenz::Test;

my $env = stack_env();
my $pidfile = "$env->{LENZ_STACK_DIR}/ceph/run/rgw.pid";
ok(-s $pidfile, 'radosgw pid file exists');
chomp(my $pid = do { open my $fh, '<', $pidfile or die $!; <$fh> });
ok($pid =~ /^\d+$/ && kill(0, $pid), "radosgw runs (pid $pid)");

expect_log('LENZ0301');
kill 'TERM', $pid;
for (1 .. 100) { last unless kill 0, $pid; sleep 0.1 }
ok(!kill(0, $pid), 'radosgw stopped');

my $res = http_get('/health');
is($res->code, 503, 'with S3 gone /health answers 503');
is_deeply(json_of($res), { db => 'ok', s3 => 'down', smtp => 'ok' }, '... naming s3 only');

my $top = top_dir();
my $out = `$top/scripts/stack.sh start test 2>&1`;
is($? >> 8, 0, 'the stack script starts radosgw again') or diag $out;

my $code = 0;
for (1 .. 150) {
    $code = http_get('/health')->code;
    last if $code == 200;
    sleep 0.2;
}
is($code, 200, '/health recovers without restarting httpd');
is_deeply(json_of(http_get('/health')), { db => 'ok', s3 => 'ok', smtp => 'ok' }, '... all ok');
