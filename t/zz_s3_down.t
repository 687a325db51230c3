# The S3 server goes away: /health turns 503 naming s3 (db and smtp still
# ok), and recovers once RGW is back, without restarting httpd.  Runs last
# (zz_) because it stops the test stack's radosgw and starts it again.
use strict;
use warnings FATAL => 'all';
use Test::More tests => 14;
use Time::HiRes qw(sleep);
use Lenz::Test;

my $env = stack_env();
my $pidfile = "$env->{LENZ_STACK_DIR}/ceph/run/rgw.pid";
ok(-s $pidfile, 'radosgw pid file exists');
chomp(my $pid = do { open my $fh, '<', $pidfile or die $!; <$fh> });
ok($pid =~ /^\d+$/ && kill(0, $pid), "radosgw runs (pid $pid)");

expect_log('LENZ1001');
kill 'TERM', $pid;
for (1 .. 100) { last unless kill 0, $pid; sleep 0.1 }
ok(!kill(0, $pid), 'radosgw stopped');

# ?fresh=1: /health answers from a result up to a second old (issue 17).
my $res = http_get('/health?fresh=1');
is($res->code, 503, 'with S3 gone /health answers 503');
is_deeply(json_of($res), { db => 'ok', s3 => 'down', smtp => 'ok' }, '... naming s3 only');
ok($res->header('Retry-After') >= 1, '... with Retry-After');

# The breaker (3 failures, 2 s cool-down in the test config) is open now:
# the three tries of that one health check were enough.
like(http_get('/metrics')->content, qr/^lenz_s3_breaker_state\{breaker="s3:[^"]+"\} 1$/m,
     'the S3 breaker is open (shared state, seen from any process)');
my $t0 = Time::HiRes::time();
$res = http_get('/health?fresh=1');
my $took = Time::HiRes::time() - $t0;
is($res->code, 503, 'while open, /health still answers 503');
ok($took < 0.5, sprintf('... at once, without waiting on S3 (%.3f s)', $took));
like(error_log_since(0), qr/LENZ1001: S3 health check: storage unavailable \(unavailable, 0 BreakerOpen/,
     '... logged as the breaker being open');

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
like(http_get('/metrics')->content, qr/^lenz_s3_breaker_state\{breaker="s3:[^"]+"\} 0$/m,
     'the breaker closed again by itself');
