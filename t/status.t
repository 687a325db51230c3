# lenz-status: /health with real PostgreSQL, RGW and SMTP; /metrics;
# security headers; per-server and per-directory configuration merging.
use strict;
use warnings FATAL => 'all';
use Time::HiRes ();
use Test::More tests => 49;
use Apache::TestRequest ();
use Lenz::Test;

my $res = http_get('/health');
is($res->code, 200, '/health answers 200 with every backend up');
like($res->header('Content-Type'), qr{^application/json}, '... as JSON');
is_deeply(json_of($res), { db => 'ok', s3 => 'ok', smtp => 'ok' }, '... naming db, s3 and smtp');

is($res->header('X-Content-Type-Options'), 'nosniff', 'X-Content-Type-Options');
is($res->header('Referrer-Policy'), 'no-referrer', 'Referrer-Policy');
like($res->header('Content-Security-Policy') // '', qr/frame-ancestors 'none'/, 'CSP with frame-ancestors');
is($res->header('X-Frame-Options'), 'DENY', 'X-Frame-Options');
is($res->header('Cache-Control'), 'no-store', 'Cache-Control no-store');

$res = http_req('HEAD', '/health');
is($res->code, 200, 'HEAD /health answers 200');
is($res->content, '', '... without a body');

# Per-directory merging: a <Location> is its own base ...
is(http_get('/plain/health')->code, 200, '<Location /plain> routes /plain/health');
# ... an inner LenzBase wins over the outer one ...
is(http_get('/st/health')->code, 200, 'outer LenzBase /st routes /st/health');
is(http_get('/st/inner/health')->code, 200, 'inner LenzBase /st/inner wins for /st/inner/health');
is(http_get('/st/inner/metrics')->code, 200, '... and /st/inner/metrics');
# ... and an inner section that does not set it inherits the outer one.
is(http_get('/st/other/health')->code, 404, 'inner section without LenzBase inherits /st');

# /metrics in Prometheus text format.
$res = http_get('/metrics');
is($res->code, 200, '/metrics answers 200');
like($res->header('Content-Type'), qr{^text/plain; version=0\.0\.4}, '... Prometheus text format');
my $m = $res->content;
like($m, qr/^lenz_requests_total\{handler="status",status="200"\} [1-9]\d*$/m,
     'requests counted by handler and status');
like($m, qr/^lenz_requests_total\{handler="status",status="404"\} [1-9]\d*$/m,
     '... including the 404 above');
like($m, qr/^lenz_s3_request_duration_seconds_bucket\{op="HeadBucket",le="\+Inf"\} [1-9]\d*$/m,
     'S3 latency histogram');
like($m, qr/^lenz_s3_request_duration_seconds_count\{op="HeadBucket"\} [1-9]\d*$/m, '... with a count');
like($m, qr/^lenz_s3_request_duration_seconds_sum\{op="HeadBucket"\} \d+\.\d+$/m, '... and a sum');
like($m, qr/^lenz_db_connections_in_use \d+$/m, 'DB pool use gauge');
like($m, qr/^lenz_db_acquired_total [1-9]\d*$/m, 'DB acquisitions counted');
like($m, qr/^lenz_bytes_out_total\{handler="status"\} [1-9]\d*$/m, 'bytes out by handler');
like($m, qr/^lenz_bytes_in_total\{handler="status"\} \d+$/m, 'bytes in by handler');
like($m, qr/^# TYPE lenz_s3_request_duration_seconds histogram$/m, 'TYPE lines present');

# Per-server merging: the virtual host overrides only LenzS3Bucket (to a
# bucket that does not exist) and inherits every other directive.
expect_log('LENZ1002');
Apache::TestRequest::module('lenz_vhost');
$res = http_get('/health');
is($res->code, 503, 'vhost with its own (missing) bucket: /health answers 503');
my $j = json_of($res);
is($j->{s3}, 'down', '... naming s3');
is($j->{db}, 'ok', '... db inherited from the main server');
is($j->{smtp}, 'ok', '... smtp inherited from the main server');
ok(defined $res->header('Retry-After'), '... with Retry-After');
Apache::TestRequest::module('default');
is(http_get('/health')->code, 200, 'the main server still uses its own bucket');

# The failing probe is logged with its tag, S3's code and what to check.
my $log = error_log_since(0);
like($log, qr/LENZ1002: S3 health check: S3 refused the configured bucket or keys \(404 NoSuchBucket: .*check LenzS3Bucket, LenzS3AccessKey and LenzS3SecretKeyFile/,
     'a missing bucket is logged as a configuration error naming the directives');

# A wrong secret: S3 refuses the signature; reported as configuration.
Apache::TestRequest::module('lenz_badkey');
$res = http_get('/health');
is($res->code, 503, 'vhost with a wrong S3 secret: /health answers 503');
is(json_of($res)->{s3}, 'down', '... naming s3');
Apache::TestRequest::module('default');
$log = error_log_since(0);
like($log, qr/LENZ1002: S3 health check: S3 refused the configured bucket or keys \(403 (SignatureDoesNotMatch|AccessDenied): /,
     '... logged as refused credentials, a configuration error');
unlike($log, qr/not-the-secret/, '... and the secret never reaches the log');

# Answer shape stays exactly the contract's.
$res = http_get('/health');
my @keys = sort keys %{ json_of($res) // {} };
is_deeply(\@keys, [qw(db s3 smtp)], 'no other members in the health answer');
$res = http_get('/metrics');
like($res->content, qr/^lenz_health_checks_total [1-9]\d*$/m, 'health checks counted');
unlike($res->content, qr/secret|password/i, 'metrics carry no secrets');

# /health answers from a probe shared by the host's processes: a burst of
# 200 costs at most a probe a second, never one per hit (issue 17).
{
    my $checks = sub { (http_get('/metrics')->content =~ /^lenz_health_checks_total (\d+)$/m)[0] // -1 };
    my $before = $checks->();
    my $t0 = Time::HiRes::time();
    my @codes = map { http_get('/health')->code } 1 .. 200;
    my $secs = Time::HiRes::time() - $t0;
    is(scalar(grep { $_ == 200 } @codes), 200, '200 /health in a row: all 200');
    my $probes = $checks->() - $before;
    ok($probes >= 0 && $probes <= int($secs) + 2,
       sprintf('... made %d probes in %.1f s (at most one a second, and a first)', $probes, $secs));
    my $r1 = http_get('/health');
    like($r1->header('Age') // '', qr/^\d+$/, '... each says how old its result is (Age)');
    $before = $checks->();
    is(http_get('/health?fresh=1')->code, 200, '?fresh=1 probes at once');
    is($checks->() - $before, 1, '... one probe');
    my @fresh = map { http_get('/health?fresh=1')->code } 1 .. 6;
    is($fresh[-1], 429, '... rate-limited: the 7th in a minute from one address is 429');
}

# Our socket bucket (LenzNetworkRead) keeps what one read brought beyond a
# request: three pipelined requests in one write get three answers, in
# order, and a body sent a few bytes at a time (small reads) still arrives.
{
    require IO::Socket::INET;
    my $hp = Apache::TestRequest::hostport();
    my $s = IO::Socket::INET->new(PeerAddr => $hp, Timeout => 10) or die "connect $hp: $!";
    print $s join '', map { "GET /health HTTP/1.1\r\nHost: $hp\r\n" . ($_ == 3 ? "Connection: close\r\n" : '') . "\r\n" } 1 .. 3;
    my $raw = '';
    while (sysread $s, my $buf, 65536) { $raw .= $buf }
    close $s;
    my @st = $raw =~ m{^HTTP/1\.1 (\d+)}mg;
    is("@st", '200 200 200', 'three pipelined requests in one write: three 200s');

    my $body = '{"email":"dribble@example.org","password":"wrong horse battery staple"}';
    $s = IO::Socket::INET->new(PeerAddr => $hp, Timeout => 10) or die "connect $hp: $!";
    $s->autoflush(1);
    print $s "POST /api/v1/auth/login HTTP/1.1\r\nHost: $hp\r\nContent-Type: application/json\r\n"
        . "Content-Length: " . length($body) . "\r\nConnection: close\r\n\r\n";
    for (my $i = 0; $i < length $body; $i += 7) {
        print $s substr($body, $i, 7);
        select undef, undef, undef, 0.01;
    }
    $raw = '';
    while (sysread $s, my $buf, 65536) { $raw .= $buf }
    close $s;
    like($raw, qr{^HTTP/1\.1 401 }, 'a JSON body sent 7 bytes at a time is read whole (401 for the wrong password)');
}
