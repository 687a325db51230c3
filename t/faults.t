# S3 and SMTP misbehaving, through the fault-injecting proxies of
# t/faults/s3proxy.py in front of the real servers: the lenz_faults virtual
# host talks to S3 and SMTP through them (timeouts 1 s connect, 2 s stall,
# 3 s operation; breaker 3 failures, 2 s cool-down).  Files are uploaded
# through the main server, straight to RGW, and read back through the
# proxy.
#
#   - 500 InternalError / 503 SlowDown: 503 problem+json with Retry-After;
#     the breaker opens, calls then fail at once without reaching S3, and
#     it closes by itself once S3 answers again;
#   - a stalled S3 (no answer; stops reading an upload; stops mid-body)
#     ends at the stall timeout, within a bound, and httpd lets go of its
#     connection;
#   - a body cut or corrupted on the way: never a clean short 200, nothing
#     false delivered, logged;
#   - SMTP refusing, stalling or answering 4xx/5xx: /health says so within
#     its probe timeout.
use strict;
use warnings FATAL => 'all';
use Test::More tests => 84;
use Digest::SHA qw(sha256_hex);
use HTTP::Request;
use JSON::PP;
use LWP::UserAgent;
use Time::HiRes qw(time sleep);
use Lenz::Test qw(:DEFAULT vhost_url psql guest_upload raw_get raw_request random_bytes);
use Lenz::FaultProxy;

my $SEG = 65536;
my $CSEG = $SEG + 16;             # a sealed segment: plaintext + GCM tag
my $STALL = 2;                    # LenzS3Timeouts' stall in the lenz_faults vhost
my $J = JSON::PP->new->canonical;
my $ua = LWP::UserAgent->new(timeout => 60);
my $fbase = vhost_url('lenz_faults');
my $s3 = Lenz::FaultProxy->start('s3');
my $smtp = Lenz::FaultProxy->start('smtp');
my $breaker = "s3:http://127.0.0.1:" . $s3->port . "/lenz";
expect_log(qw(LENZ1001 LENZ1003 LENZ2110 LENZ0302));

sub fget { my ($path, @h) = @_; $ua->request(HTTP::Request->new(GET => "$fbase$path", [@h])) }
sub fpost {
    my ($path, $body, @h) = @_;
    $ua->request(HTTP::Request->new(POST => "$fbase$path", ['Content-Type' => 'application/json', @h],
                                    ref $body ? $J->encode($body) : $body));
}
sub breaker_state {
    my ($m) = fget('/metrics')->content =~ /^lenz_s3_breaker_state\{breaker="\Q$breaker\E"\} (\d)$/m;
    return $m // -1;
}
sub timed { my $t0 = time; my @r = $_[0]->(); return (time - $t0, @r) }
sub initiate { fpost('/upload/guest/encrypted/initiate', { filename => 'f.bin', size => 1000 }) }
sub is_problem {
    my ($res, $status, $type, $name) = @_;
    is($res->code, $status, "$name: $status");
    is($res->header('Content-Type'), 'application/problem+json', '... problem+json');
    is(eval { json_of($res)->{type} } // '', "urn:lenz:problem:$type", "... $type");
}
# Until GET PATH answers 200 (the breaker's cool-down running out); seconds.
sub until_ok {
    my ($path, $limit) = @_;
    my $t0 = time;
    while (time - $t0 < $limit) {
        return time - $t0 if fget($path)->code == 200;
        sleep 0.1;
    }
    return undef;
}

# Files uploaded straight to RGW (main server): 20 segments and a bit.
my $data = random_bytes(20 * $SEG + 12345);
my $up = guest_upload($data, name => 'faults.bin');
my $dl = "/download/$up->{token}";
my $res = fget($dl);
is($res->code, 200, 'through the proxy (passing): the download works');
is(sha256_hex($res->content), sha256_hex($data), '... byte for byte (the signed Host names the proxy; RGW takes it)');
is($s3->stats->{faults}, 0, '... and the proxy injected nothing');

# --- S3 answering errors: 503 with Retry-After; the breaker ------------------------------------
$s3->rule(action => 'error', status => 500, code => 'InternalError');
$res = initiate();
is_problem($res, 503, 'storage-unavailable', 'S3 answers 500 InternalError to CreateMultipartUpload');
ok(($res->header('Retry-After') // 0) >= 1, '... with Retry-After: ' . ($res->header('Retry-After') // 'none'));
is(breaker_state(), 0, '... one failure: the breaker stays closed');

$s3->rule(action => 'error', status => 503, code => 'SlowDown');
my $before = $s3->stats;
$res = fget($dl);
is_problem($res, 503, 'storage-unavailable', 'S3 answers 503 SlowDown to GetObject');
ok(($res->header('Retry-After') // 0) >= 1, '... with Retry-After');
my $t_open = time;
is($s3->stats->{faults} - $before->{faults}, 2,
   '... retried once, then the third failure in a row opened the breaker (no third try)');
is(breaker_state(), 1, 'lenz_s3_breaker_state shows it open');
like(error_log_since(0), qr/LENZ1001: S3 GetObject: storage unavailable \(unavailable, 0 BreakerOpen/,
     '... and the log says so');

$before = $s3->stats;
my ($took) = timed(sub { $res = initiate() });
is($res->code, 503, 'while open, calls fail: 503');
ok($took < 0.3, sprintf('... at once (%.3f s)', $took));
is($s3->stats->{requests}, $before->{requests}, '... without a request reaching S3');
my $ra = $res->header('Retry-After') // 0;
ok($ra >= 1 && $ra <= 2, "... Retry-After is the cool-down left ($ra s)");
is(json_of(http_get('/health'))->{s3}, 'ok', "the main server's breaker (another endpoint) is unaffected");
{
    my $m = error_log_mark();
    my @codes = map { fget($dl)->code } 1 .. 12;
    my $lines = () = error_log_since($m) =~ /LENZ1001: S3 GetObject: storage unavailable \(unavailable, 0 BreakerOpen/g;
    ok(!grep({ $_ != 503 } @codes) && $lines <= 3,
       "12 refusals while open: 503 each, $lines LENZ1001 warnings (at most one per process and 10 s)");
}

$s3->pass;
my $closed = until_ok($dl, 5);
ok(defined $closed, sprintf('S3 answers again: the breaker closes by itself (first 200 %.2f s after it opened)',
                            defined $closed ? time - $t_open : -1));
is(breaker_state(), 0, '... lenz_s3_breaker_state 0');

# --- Stalled S3 ----------------------------------------------------------------------------------
$s3->rule(action => 'stall');
($took, $res) = timed(\&initiate);
is($res->code, 503, 'S3 never answers CreateMultipartUpload: 503');
ok($took >= $STALL - 0.5 && $took < $STALL + 1.5,
   sprintf('... after the %d s stall timeout, not later (%.2f s)', $STALL, $took));
ok(defined $s3->wait_released(2), '... and httpd closed its connection to S3');

($took, $res) = timed(sub { fget($dl) });
is($res->code, 503, 'S3 never answers GetObject: 503');
ok($took < 2 * ($STALL + 1) + 0.5,
   sprintf('... two tries of %d s each (then the breaker opened), bounded (%.2f s)', $STALL, $took));
ok(defined $s3->wait_released(2), '... connections released');
$s3->pass;
ok(defined until_ok($dl, 5), 'S3 back: downloads work again');

# Stalls mid-body: the head and three segments, then nothing.
$s3->rule(action => 'stall_body', after => 3 * $CSEG + 100, method => 'GET');
my $r = raw_get($fbase, $dl);
is($r->{status}, 200, 'S3 stalls mid-body: the answer had started (200)');
is($r->{headers}{'content-length'}, length $data, '... announcing the whole length');
is(length $r->{body}, 3 * $SEG, '... but ends after the three segments that arrived: broken, not short and clean');
ok($r->{body} eq substr($data, 0, 3 * $SEG), '... every byte sent genuine');
ok($r->{seconds} < $STALL + 1.5, sprintf('... ended by the stall timeout (%.2f s)', $r->{seconds}));
ok(defined $s3->wait_released(2), '... connection released');

# S3 stops reading an upload's body after 100 KiB.
$s3->pass;
my $small = random_bytes(1024 * 1024);
my $i = json_of(fpost('/upload/guest/encrypted/initiate', { filename => 's.bin', size => length $small }));
$s3->rule(action => 'stall', after => 100 * 1024, method => 'PUT');
($took, $res) = timed(sub {
    $ua->request(HTTP::Request->new(POST => "$fbase/upload/guest/encrypted/upload-part?token=$i->{token}&part=1",
                                    [], $small)) });
is_problem($res, 503, 'storage-unavailable', 'S3 stops reading an UploadPart body');
ok($took < $STALL + 1.5, sprintf('... ended by the stall timeout (%.2f s)', $took));
is(psql("SELECT count(*) FROM upload_parts WHERE file_id = '$i->{file_id}'"), 0, '... no part recorded');
$s3->pass;
$res = $ua->request(HTTP::Request->new(POST => "$fbase/upload/guest/encrypted/upload-part?token=$i->{token}&part=1",
                                       [], $small));
is($res->code, 200, '... sent again once S3 reads: 200');
$res = fpost('/upload/guest/encrypted/complete', { token => $i->{token} });
is($res->code, 201, '... and the upload completes');
is(sha256_hex(fget('/download/' . json_of($res)->{token})->content), sha256_hex($small), '... with the right bytes');

# --- Bodies cut or corrupted on the way ----------------------------------------------------------
my $mark = error_log_mark();
$s3->rule(action => 'cut', after => 4 * $CSEG + 1000, method => 'GET');
$r = raw_get($fbase, $dl);
is($r->{status}, 200, 'body cut after four segments and a bit: the answer had started');
is(length $r->{body}, 4 * $SEG, '... it ends after the four whole segments, short of Content-Length ('
   . ($r->{headers}{'content-length'} // '?') . ')');
ok($r->{body} eq substr($data, 0, 4 * $SEG), '... every byte sent genuine');
like(error_log_since($mark), qr/LENZ1001: S3 GetObject: storage unavailable/, '... logged');

$s3->rule(action => 'cut', after => 1000, method => 'GET');
$res = fget($dl);
is_problem($res, 503, 'storage-unavailable', 'body cut inside the first segment (nothing sent yet): a proper answer');

$mark = error_log_mark();
$s3->rule(action => 'corrupt', at => 100, method => 'GET');
$res = fget($dl);
is_problem($res, 502, 'integrity-error', 'a byte of the first segment corrupted on the way');
like(error_log_since($mark), qr/LENZ2110: file \Q$up->{file_id}\E: the stored object failed authentication/,
     '... logged (LENZ2110)');

$s3->rule(action => 'corrupt', at => 5 * $CSEG + 7, method => 'GET');
$r = raw_get($fbase, $dl);
is($r->{status}, 200, 'a byte of segment 5 corrupted: the answer had started');
is(length $r->{body}, 5 * $SEG, '... it stops before the damaged segment (broken, short of Content-Length)');
ok($r->{body} eq substr($data, 0, 5 * $SEG), '... nothing false delivered');

# In a range the body starts at segment 2: body byte 2 * CSEG + 7 is in segment 4.
$s3->rule(action => 'corrupt', at => 2 * $CSEG + 7, method => 'GET');
$r = raw_get($fbase, $dl, Range => 'bytes=' . (2 * $SEG) . '-' . (7 * $SEG));
is($r->{status}, 206, 'the same inside a range: 206 had started');
ok($r->{body} eq substr($data, 2 * $SEG, 2 * $SEG), '... it ends where the damage starts, all genuine');

$s3->rule(action => 'delay', ms => 400, method => 'GET');
($took, $res) = timed(sub { fget($dl) });
is($res->code, 200, 'a slow S3 (400 ms before each answer): 200');
ok($took >= 0.4 && sha256_hex($res->content) eq sha256_hex($data), sprintf('... whole and right (%.2f s)', $took));

$s3->rule(action => 'close');
$res = fget($dl);
is_problem($res, 503, 'storage-unavailable', 'S3 drops the connection without an answer');
$s3->pass;
ok(defined until_ok($dl, 5), '... and once it answers again, downloads work');

# --- SMTP ---------------------------------------------------------------------------------------
# (Mail itself goes through the job queue, not in this branch yet; the
# SMTP path here is /health's probe: greeting and EHLO.)
is(json_of(fget('/health'))->{smtp}, 'ok', 'SMTP through its proxy, passing: /health says ok');
for my $case ([ refuse => { action => 'refuse' } ],
              [ 'a 421 greeting' => { action => 'reply', code => 421, text => 'too busy' } ],
              [ 'a 554 greeting' => { action => 'reply', code => 554, text => 'no service' } ],
              [ 'a 550 to EHLO and HELO' => { action => 'reply', on => 'EHLO|HELO', code => 550 } ],
              [ stall => { action => 'stall' } ]) {
    $smtp->rule(%{ $case->[1] });
    # /health answers from a result up to a second old (issue 17): wait
    # that out, so this request makes the probe.
    Time::HiRes::sleep(1.1);
    ($took, $res) = timed(sub { fget('/health') });
    is($res->code, 503, "SMTP $case->[0]: /health 503");
    is(json_of($res)->{smtp}, 'down', '... naming smtp');
    ok($took < 4.5, sprintf('... within the 3 s probe timeout (%.2f s)', $took));
}
$smtp->pass;
Time::HiRes::sleep(1.1);
is(fget('/health')->code, 200, 'SMTP passing again: /health 200');
ok(defined $smtp->wait_released(3), '... and no SMTP connection is left open');
