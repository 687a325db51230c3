# The guard on open event streams (LenzEventStreams): a host that would
# otherwise give every worker to open /events/stream connections answers a
# stream past its cap, or past a member's, with 503 and Retry-After, and
# keeps answering downloads and sign-ins at once.  A second httpd with
# eight workers (two processes of four threads) and LenzEventStreams 3 2;
# without the cap the ninth stream would leave nothing for anyone.  Also
# checks the default (a quarter of MaxRequestWorkers) on the main server's
# start-up line, and that a closed stream gives its place back.
use strict;
use warnings FATAL => 'all';
use Test::More;
use JSON::PP;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time sleep);
use LWP::UserAgent;
use Lenz::Test qw(:DEFAULT guest_upload);
use Lenz::Jobs;

my $env = stack_env();
my $top = top_dir();
my $tag = uniq('cap');
expect_log('LENZ2402');             # the refusals are logged (once a minute per process)

# The main server's start-up line: the default cap from its workers.
{
    my $log = do { local $/; open my $fh, '<', Apache::Test::vars()->{t_logs} . '/error_log' or die; <$fh> };
    my @l = $log =~ /LENZ0031: live streams: at most (\d+) open at once on this host \(a quarter of (\d+) workers\), (\d+) per member/g;
    ok(@l >= 3, 'the main server logs its streams cap at start (LENZ0031)');
    is($l[-3], int($l[-2] / 4), "... a quarter of its $l[-2] workers by default ($l[-3])");
    is($l[-1], 25, '... and 25 per member (LenzEventStreams auto 25 in the test configuration)');
}

unlink Apache::Test::vars()->{t_logs} . '/second-400/error_log';   # an earlier run's
my ($base, $stop, $dir) = second_httpd(offset => 400, config => join "\n",
    'ServerLimit 2', 'StartServers 2', 'ThreadsPerChild 4', 'MaxRequestWorkers 8',
    'MinSpareThreads 4', 'MaxSpareThreads 8', 'LenzEventStreams 3 2');
my $ua = LWP::UserAgent->new(timeout => 10);
my $J = JSON::PP->new->canonical;

{
    my $log = do { local $/; open my $fh, '<', "$dir/error_log" or die; <$fh> };
    like($log, qr/LENZ0031: live streams: at most 3 open at once on this host \(LenzEventStreams; 8 workers\), 2 per member/,
         'the second httpd logs its configured cap');
}

sub login {
    my ($email) = @_;
    my $t0 = time;
    my $res = $ua->post("$base/api/v1/auth/login", 'Content-Type' => 'application/json',
                        Content => $J->encode({ email => $email, password => 'correct horse battery' }));
    return ($res, time - $t0);
}
sub member {
    my ($email) = @_;
    my $out = `echo 'correct horse battery' | $top/build/lenzctl -e $env->{LENZ_STACK_DIR}/stack.env create-user $email --password-stdin 2>&1`;
    die "create-user: $out" if $?;
    my ($res) = login($email);
    die 'login: ' . $res->content unless $res->code == 200;
    return json_of($res)->{access_token};
}
local $ENV{LENZ_MASTER_KEY_FILE} = "$env->{LENZ_STACK_DIR}/master.key";

# Opens a stream; returns (socket, status, headers, body so far).
sub stream {
    my ($token) = @_;
    my ($hostport) = $base =~ m{^http://([^/]+)};
    my $s = IO::Socket::INET->new(PeerAddr => $hostport, Timeout => 5) or die "connect: $!";
    print $s "GET /events/stream HTTP/1.1\r\nHost: $hostport\r\nAccept: text/event-stream\r\n" .
             "Authorization: Bearer $token\r\n\r\n";
    my ($buf, $sel, $until) = ('', IO::Select->new($s), time + 10);
    while ($buf !~ /\r\n\r\n/ && time < $until) {
        last unless $sel->can_read($until - time);
        my $n = sysread($s, $buf, 65536, length $buf);
        last unless $n;
    }
    my ($head, $body) = split /\r\n\r\n/, $buf, 2;
    my ($status) = ($head // '') =~ m{^HTTP/1\.\d (\d+)};
    my %h;
    for (split /\r\n/, $head // '') { $h{lc $1} = $2 if /^([^:]+):\s*(.*)$/ }
    return ($s, $status // 0, \%h, $body // '');
}

my %tok = map { $_ => member("$tag-$_\@example.org") } qw(a b c);

my ($a1, $st1) = stream($tok{a});
my ($a2, $st2) = stream($tok{a});
is("$st1 $st2", '200 200', "member a's first two streams are open");
my ($a3, $st3, $h3, $b3) = stream($tok{a});
is($st3, 503, "a's third stream: 503 (two per member)");
is($h3->{'retry-after'}, 30, '... with Retry-After: 30');
like($h3->{'content-type'} // '', qr{^application/problem\+json}, '... as problem+json');
like($b3, qr/member-streams-full/, '... naming the member\'s cap');
close $a3;

my ($b1, $sb1) = stream($tok{b});
is($sb1, 200, "member b's stream is open: the host holds three, its most");
my ($c1, $sc1, $hc1, $bc1) = stream($tok{c});
is($sc1, 503, "member c's stream: 503 (three per host)");
is($hc1->{'retry-after'}, 30, '... with Retry-After');
like($bc1, qr/streams-full/, '... naming the host\'s cap');
close $c1;

# With the cap reached, ordinary requests still find workers at once.
{
    my ($res, $secs) = login("$tag-a\@example.org");
    is($res->code, 200, 'a sign-in is answered while the streams are at their cap');
    cmp_ok($secs, '<', 2, sprintf('... at once (%.3f s)', $secs));
    my $data = 'x' x 4096;
    my $up = guest_upload($data, base => $base, name => 'cap.txt');
    my $t0 = time;
    my $dl = $ua->get("$base/download/$up->{token}");
    my $dsecs = time - $t0;
    is($dl->code, 200, 'a download is answered while the streams are at their cap');
    is($dl->content, $data, '... whole');
    cmp_ok($dsecs, '<', 2, sprintf('... at once (%.3f s)', $dsecs));
    # More streams than workers remain refused at once, never queued.
    my @more = map { [stream($tok{c})] } 1 .. 8;
    is(scalar(grep { $_->[1] == 503 } @more), 8, 'eight more streams (as many as the workers) are all refused');
    close $_->[0] for @more;
    ($res, $secs) = login("$tag-b\@example.org");
    is($res->code, 200, '... and a sign-in after them is still answered');
}

# A closed stream gives its place back (the handler sees the client gone
# within its poll interval).
close $b1;
my ($c2, $sc2);
my $t0 = time;
while (time - $t0 < 12) {
    ($c2, $sc2) = stream($tok{c});
    last if $sc2 == 200;
    close $c2;
    sleep 0.5;
}
is($sc2, 200, sprintf('after b closed its stream, c gets one (%.1f s)', time - $t0));
close $_ for grep { defined } ($a1, $a2, $c2);

$stop->();
my $log = do { local $/; open my $fh, '<', "$dir/error_log" or die; <$fh> };
like($log, qr/LENZ2402: live stream refused: this (?:host|member) has/, 'the refusals were logged with their tag');
my @logged = $log =~ /LENZ2402/g;
cmp_ok(scalar(@logged), '<=', 2, 'at most one refusal line a minute per process (' . scalar(@logged) . ')');
unlike($log, qr/LENZ\d+: (?!live stream refused|live streams|connections: MPM)/, 'no other LENZ line in its log')
    or diag(join "\n", grep { /LENZ\d+/ && !/LENZ0031|LENZ0032|LENZ2402/ } split /\n/, $log);

done_testing();
