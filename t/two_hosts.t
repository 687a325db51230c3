# Two hosts behind one (imaginary) load balancer: two more httpd instances
# of the test configuration (ports +100 and +200), sharing PostgreSQL, S3,
# the master key -- and a memcached this test starts, as LenzSharedCache
# (socache memcache; the main test server keeps shmcb).  Shown:
#   - an upload started on one host and finished on the other;
#   - a browser session (cookie) valid on both, and signed out on both;
#   - rate limits counted across both (guest uploads per hour; sign-in
#     failures, for an address long enough to need its key hashed);
#   - the S3 breaker opened by one host is open on the other;
#   - memcached restarting: the hosts keep answering, sharing resumes.
# (Jobs and scheduled jobs running once across hosts: t/jobs_hosts.t.)
use strict;
use warnings FATAL => 'all';
use Test::More tests => 30;
use Digest::SHA qw(sha256_hex);
use HTTP::Request;
use JSON::PP;
use LWP::UserAgent;
use POSIX ();
use Time::HiRes qw(time sleep);
use Lenz::Test qw(:DEFAULT guest_upload raw_get random_bytes);
use Lenz::FaultProxy;

my $env = stack_env();
my $top = top_dir();
my $vars = Apache::Test::vars();
my $J = JSON::PP->new->canonical;
my $ua = LWP::UserAgent->new(timeout => 60, max_redirect => 0);
my $mcport = $ENV{LENZ_MEMCACHE_PORT} or die "LENZ_MEMCACHE_PORT not set (run through scripts/test.sh)\n";
my $GUEST_PER_HOUR = 5;
local $ENV{LENZ_MASTER_KEY_FILE} = "$env->{LENZ_STACK_DIR}/master.key";
my $ctl = "$top/build/lenzctl -e $env->{LENZ_STACK_DIR}/stack.env";

# --- memcached, started here --------------------------------------------------------------------
my $mc_pid;
sub mc_start {
    my $log = "$vars->{t_logs}/memcached.log";
    $mc_pid = fork // die "fork: $!";
    if (!$mc_pid) {
        POSIX::setsid();
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $log;
        open STDERR, '>&', \*STDOUT;
        exec 'memcached', '-l', '127.0.0.1', '-p', $mcport, '-U', '0', '-m', '16', '-u', 'memcache'
            or POSIX::_exit(127);
    }
    for (1 .. 100) {
        return 1 if IO::Socket::INET->new(PeerAddr => "127.0.0.1:$mcport", Timeout => 1);
        sleep 0.05;
    }
    die "memcached did not start on port $mcport (see $log)\n";
}
sub mc_stop { return unless $mc_pid; kill 'TERM', $mc_pid; waitpid $mc_pid, 0; undef $mc_pid }
END { mc_stop() }
require IO::Socket::INET;
mc_start();

my $shared = "memcache:127.0.0.1:$mcport";
my $config = "LenzGuestLimits 1G 5 $GUEST_PER_HOUR";
my ($ha, $stop_a, $dir_a) = second_httpd(offset => 100, shared_cache => $shared, config => $config);
# B: digests of every part, and httpd's own 8000-byte socket reads.
my ($hb, $stop_b, $dir_b) = second_httpd(offset => 200, shared_cache => $shared,
                                         config => "$config\nLenzUploadPartDigest always\nLenzNetworkRead off");
END { $stop_a->() if $stop_a; $stop_b->() if $stop_b }
ok(raw_get($ha, '/health')->{status} == 200 && raw_get($hb, '/health')->{status} == 200,
   "two hosts up ($ha, $hb), LenzSharedCache $shared");
my $guest_uploads = 0;

sub req {
    my ($method, $url, $body, @h) = @_;
    return $ua->request(HTTP::Request->new($method => $url, [@h], $body));
}
sub post_to { my ($url, $body, @h) = @_; req('POST', $url, $J->encode($body), 'Content-Type' => 'application/json', @h) }

# --- An upload started on one host and finished on the other -----------------------------------------
my $data = random_bytes(12 * 1024 * 1024 + 4321);
my $res = post_to("$ha/upload/guest/encrypted/initiate", { filename => 'both.bin', size => length $data });
$guest_uploads++;
is($res->code, 201, 'initiate on host A');
my $i = json_of($res);
my $p1 = substr($data, 0, $i->{part_size});
my $p2 = substr($data, $i->{part_size});
$res = req('POST', "$ha/upload/guest/encrypted/upload-part?token=$i->{token}&part=1", $p1);
ok($res->code == 200 && !exists json_of($res)->{sha256}, 'part 1 to A: 200, no digest sent, none made');
$res = req('POST', "$hb/upload/guest/encrypted/upload-part?token=$i->{token}&part=2", $p2);
ok($res->code == 200 && (json_of($res)->{sha256} // '') eq sha256_hex($p2),
   'part 2 to B: 200 with its SHA-256 (LenzUploadPartDigest always, read through LenzNetworkRead off)');
is_deeply([map { $_->{part} } @{ json_of(req('GET', "$hb/upload/guest/parts?token=$i->{token}"))->{parts} }],
          [1, 2], 'B lists both parts');
$res = post_to("$hb/upload/guest/encrypted/complete", { token => $i->{token} });
is($res->code, 201, 'complete on B');
my $token = json_of($res)->{token};
my $r = raw_get($ha, "/download/$token");
is(sha256_hex($r->{body}), sha256_hex($data), 'download from A: byte for byte');

# --- One browser session, two hosts ----------------------------------------------------------------------
my $email = sprintf('both-%d%d@example.org', time, $$);
`echo 'correct horse battery' | $ctl create-user $email --password-stdin 2>&1`;
my $origin = "http://$vars->{servername}:$vars->{port}";     # LenzPublicURL, the balancer's
$res = req('POST', "$ha/account/login", "email=" . esc($email) . "&password=correct+horse+battery&next=%2Faccount",
           'Content-Type' => 'application/x-www-form-urlencoded', Origin => $origin);
is($res->code, 303, 'signed in on A');
my ($cookie) = map { /^(lenz=[^;]+)/ ? $1 : () } $res->header('Set-Cookie');
ok($cookie, '... a session cookie');
$res = req('GET', "$hb/account", undef, Cookie => $cookie, Accept => 'text/html');
is($res->code, 200, 'the cookie is a session on B');
like($res->content, qr/\Q$email\E/, '... the same account');
my ($csrf) = $res->content =~ /name="csrf" value="([^"]+)"/;
$res = req('POST', "$hb/account/logout", "csrf=$csrf", 'Content-Type' => 'application/x-www-form-urlencoded',
           Origin => $origin, Cookie => $cookie);
is($res->code, 303, 'signed out on B (with the CSRF token A issued)');
is(req('GET', "$ha/account", undef, Cookie => $cookie, Accept => 'text/html')->code, 303,
   '... and the session is gone on A too');

# --- The S3 breaker, opened on A, is open on B ----------------------------------------------------------
my $px = Lenz::FaultProxy->start('s3');
my ($fa, $fb) = map { my $u = vhost_url_of($_); $u } (100, 200);
sub vhost_url_of {
    my ($off) = @_;
    my ($port) = Lenz::Test::vhost_url('lenz_faults') =~ /:(\d+)$/;
    return 'http://127.0.0.1:' . ($port + $off);
}
my $small = guest_upload(random_bytes(70000), base => $ha, name => 'breaker.bin');
$guest_uploads++;
my $breaker = 's3:http://127.0.0.1:' . $px->port . '/lenz';
sub state_on {
    my ($base) = @_;
    my ($s) = req('GET', "$base/metrics")->content =~ /^lenz_s3_breaker_state\{breaker="\Q$breaker\E"\} (\d)$/m;
    return $s // -1;
}
is(req('GET', "$fa/download/$small->{token}")->code, 200, 'through the proxy, from A: 200');
$px->rule(action => 'error', status => 503, code => 'SlowDown');
is(req('GET', "$fa/download/$small->{token}")->code, 503, 'S3 slows down: A answers 503, its breaker opens');
is(state_on($fb), 1, 'B sees the breaker open (it never called S3 itself)');
my $seen = $px->stats->{requests};
my $t0 = time;
$res = req('GET', "$fb/download/$small->{token}");
my $took = time - $t0;
is($res->code, 503, 'B fails at once');
ok($took < 0.3 && $px->stats->{requests} == $seen, sprintf('... without calling S3 (%.3f s)', $took));
$px->pass;
my $ok;
for (1 .. 50) { last if ($ok = req('GET', "$fb/download/$small->{token}")->code == 200); sleep 0.1 }
ok($ok, 'S3 back: after the cool-down B closes the breaker');
is(state_on($fa), 0, '... and A sees it closed');
$px->stop;

# --- Rate limits across hosts -----------------------------------------------------------------------------
# Guests: LenzGuestLimits' uploads per address and hour, counted by both.
my %ok_on = (A => 0, B => 0);
my @codes;
for my $n (1 .. 2 * $GUEST_PER_HOUR) {
    my ($name, $base) = $n % 2 ? ('B', $hb) : ('A', $ha);
    my $c = post_to("$base/upload/guest/encrypted/initiate", { filename => "g$n", size => 1 })->code;
    push @codes, "$name:$c";
    $ok_on{$name}++ if $c == 201;
}
is($ok_on{A} + $ok_on{B} + $guest_uploads, $GUEST_PER_HOUR,
   "guest uploads: $GUEST_PER_HOUR an hour from one address, whichever host takes them (@codes)");
ok($ok_on{A} >= 1 && $ok_on{B} >= 1, '... both hosts took some');
like($codes[-1] . $codes[-2], qr/429.*429/, '... then both answer 429');

# Sign-in failures: five for one account from one address pause it, on
# every host -- with an address long enough that its counter's key would
# not fit memcache's 250 bytes unless hashed.
my $long = ('l' x 60) . sprintf('-%d%d@', time, $$) . ('d' x 50) . '.example.org';
`echo 'correct horse battery' | $ctl create-user $long --password-stdin 2>&1`;
for my $n (1 .. 5) {
    post_to(($n % 2 ? $ha : $hb) . '/api/v1/auth/login', { email => $long, password => "guess $n" });
}
$res = post_to("$hb/api/v1/auth/login", { email => $long, password => 'correct horse battery' });
is($res->code, 429, 'five failed sign-ins spread over A and B (a ' . length($long) . '-byte address): B pauses it');
is(post_to("$ha/api/v1/auth/login", { email => $long, password => 'correct horse battery' })->code, 429,
   '... and so does A');

# --- memcached restarts ----------------------------------------------------------------------------------------
mc_stop();
is(raw_get($ha, '/health')->{status}, 200, 'memcached down: A still answers');
my $who = sprintf('mc-%d%d@example.org', time, $$);
`echo 'correct horse battery' | $ctl create-user $who --password-stdin 2>&1`;
is(post_to("$hb/api/v1/auth/login", { email => $who, password => 'correct horse battery' })->code, 200,
   '... B signs in (limits cannot be counted: they let requests through)');
mc_start();
$t0 = time;
my $shared_again;
while (time - $t0 < 15) {
    my $e = sprintf('mc%d-%d@example.org', int((time - $t0) * 10), $$);
    `echo 'correct horse battery' | $ctl create-user $e --password-stdin 2>&1`;
    post_to(($_ % 2 ? $ha : $hb) . '/api/v1/auth/login', { email => $e, password => "guess $_" }) for 1 .. 5;
    if (post_to("$ha/api/v1/auth/login", { email => $e, password => 'correct horse battery' })->code == 429) {
        $shared_again = time - $t0;
        last;
    }
    sleep 0.5;
}
ok(defined $shared_again, sprintf('memcached back (empty): counting across hosts resumes (%.1f s)', $shared_again // -1));

# --- Nothing unexpected in the two hosts' logs ----------------------------------------------------------------
for ([A => $dir_a], [B => $dir_b]) {
    my ($name, $dir) = @$_;
    open my $fh, '<', "$dir/error_log" or die;
    my @bad = grep { /\[(?:lenz:)?(?:error|crit|alert|emerg)\]|exit signal|Segmentation/
                     && !/LENZ1001|LENZ0400|LENZ2290/ } <$fh>;
    ok(!@bad, "host $name: no error in its log") or diag @bad[0 .. ($#bad < 5 ? $#bad : 5)];
}
