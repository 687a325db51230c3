# The client socket while an upload part is read (netread.c): reads wake
# once 256 KiB, or what is left of a Content-Length body, is queued
# (SO_RCVLOWAT).  What must hold: nothing after the body waits for bytes
# that will not come -- a keep-alive request after a part, a request
# pipelined behind one, a body that arrives in slow pieces, and one that
# ends early -- all answered at once, never after the 30 s Timeout.
use strict;
use warnings FATAL => 'all';
use Test::More tests => 19;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time sleep);
use Lenz::Test;

my $hp = Apache::TestRequest::hostport();
my $SIZE = 2_500_000;        # one part (10 MiB parts here), ten 256 KiB reads

sub initiate {
    my ($size) = @_;
    my $res = post_json('/upload/guest/encrypted/initiate',
                        { filename => 'netread.bin', size => $size, content_type => 'application/octet-stream' });
    die 'initiate: ' . $res->code . ' ' . $res->content unless $res->code == 201;
    return json_of($res)->{token};
}

sub part_head {
    my ($token, $len, $extra) = @_;
    return "POST /upload/guest/encrypted/upload-part?token=" . esc($token) . "&part=1 HTTP/1.1\r\n"
        . "Host: $hp\r\nContent-Type: application/octet-stream\r\nContent-Length: $len\r\n"
        . ($extra // '') . "\r\n";
}

# Reads one HTTP/1.1 answer (Content-Length framed) within $limit seconds:
# (status, body, seconds), status undef when none came in time.
sub answer {
    my ($s, $buf, $limit) = @_;
    my $t0 = time;
    my $sel = IO::Select->new($s);
    while (1) {
        if ($$buf =~ /^HTTP\/1\.1 (\d+)[^\r]*\r\n(.*?)\r\n\r\n/s) {
            my ($st, $h, $hl) = ($1, $2, $+[0]);
            my ($cl) = $h =~ /^Content-Length:\s*(\d+)/mi;
            if (defined $cl && length($$buf) >= $hl + $cl) {
                my $body = substr($$buf, $hl, $cl);
                substr($$buf, 0, $hl + $cl) = '';
                return ($st, $body, time - $t0);
            }
        }
        my $left = $limit - (time - $t0);
        return (undef, undef, time - $t0) if $left <= 0 || !$sel->can_read($left);
        my $n = sysread $s, my $chunk, 65536;
        return (undef, undef, time - $t0) unless $n;
        $$buf .= $chunk;
    }
}

sub connect_httpd {
    my ($to) = @_;
    $to //= $hp;
    my $s = IO::Socket::INET->new(PeerAddr => $to, Timeout => 10) or die "connect $to: $!";
    $s->autoflush(1);
    binmode $s;
    return $s;
}

my $body = 'x' x $SIZE;

# A part, then a keep-alive request on the same connection.
{
    my $s = connect_httpd();
    my $buf = '';
    print $s part_head(initiate($SIZE), $SIZE), $body;
    my ($st, $b, $secs) = answer($s, \$buf, 20);
    is($st, 200, 'a 2.5 MB part: 200');
    like($b // '', qr/"size":$SIZE/, '... all of it taken');
    print $s "GET /health HTTP/1.1\r\nHost: $hp\r\n\r\n";
    ($st, undef, $secs) = answer($s, \$buf, 5);
    is($st, 200, 'then a small request on the same connection: 200');
    cmp_ok($secs, '<', 2, sprintf('... at once (%.3f s): the socket wakes for its few bytes', $secs));
    close $s;
}

# A request pipelined behind a part, in the same write.
{
    my $s = connect_httpd();
    my $buf = '';
    my $t0 = time;
    print $s part_head(initiate($SIZE), $SIZE) . $body . "GET /health HTTP/1.1\r\nHost: $hp\r\n\r\n";
    my ($st1) = answer($s, \$buf, 20);
    my ($st2) = answer($s, \$buf, 5);
    my $secs = time - $t0;
    is($st1, 200, 'a part with a request pipelined behind it: 200');
    is($st2, 200, '... and the pipelined request: 200');
    cmp_ok($secs, '<', 5, sprintf('... both within %.3f s', $secs));
    close $s;
}

# A body in slow pieces: each read waits for what is left, and every piece
# still arrives.
{
    my $s = connect_httpd();
    my $buf = '';
    my $size = 300_000;
    print $s part_head(initiate($size), $size);
    for my $i (0 .. 4) {
        sleep 0.2;
        print $s substr('y' x $size, $i * 60_000, 60_000);
    }
    my ($st, $b) = answer($s, \$buf, 20);
    is($st, 200, 'a part in five pieces 0.2 s apart: 200');
    like($b // '', qr/"size":$size/, '... all of it taken');
    close $s;
}

# A body that ends early: the client stops sending and half-closes; the
# wait for "what is left" ends at EOF with a 400, not at the Timeout.
{
    my $s = connect_httpd();
    my $buf = '';
    my $t0 = time;
    print $s part_head(initiate($SIZE), $SIZE), substr($body, 0, 1_000_000);
    shutdown $s, 1;
    my ($st, $b) = answer($s, \$buf, 20);
    my $secs = time - $t0;
    is($st, 400, 'a part that ends 1.5 MB early (half-close): 400');
    like($b // '', qr/size-mismatch|truncated-body/, '... size-mismatch or truncated-body');
    cmp_ok($secs, '<', 10, sprintf('... after %.3f s, not the 30 s Timeout', $secs));
    close $s;
}

# Chunked: no lowat (the length is not known up front); still read whole.
{
    my $s = connect_httpd();
    my $buf = '';
    my $size = 300_000;
    print $s part_head(initiate($size), 0, "Transfer-Encoding: chunked\r\n") =~ s/Content-Length: 0\r\n//r;
    for my $i (0 .. 2) {
        print $s sprintf("%x\r\n", 100_000), 'z' x 100_000, "\r\n";
        sleep 0.1;
    }
    print $s "0\r\n\r\n";
    my ($st, $b) = answer($s, \$buf, 20);
    is($st, 200, 'a chunked part (no Content-Length): 200');
    like($b // '', qr/"size":$size/, '... all of it taken');
    print $s "GET /health HTTP/1.1\r\nHost: $hp\r\n\r\n";
    ($st) = answer($s, \$buf, 5);
    is($st, 200, '... and a keep-alive request after it: 200');
    close $s;
}

# The part that waited for its bytes was not stored short: complete needs
# every part, and the three taken above were whole (size checked); one more
# end to end: initiate, one part in slow pieces, complete.
{
    my $size = 600_000;
    my $tok = initiate($size);
    my $s = connect_httpd();
    my $buf = '';
    print $s part_head($tok, $size);
    for my $i (0 .. 5) {
        sleep 0.1;
        print $s 'q' x 100_000;
    }
    my ($st) = answer($s, \$buf, 20);
    close $s;
    my $res = post_json('/upload/guest/encrypted/complete', { token => $tok });
    is($res->code, 201, 'complete after a part sent in slow pieces: 201');
}

# A client that slows down: the wait for 256 KiB after a fast start would
# take 2.6 s at 100 KB/s, longer than this instance's Timeout of 2 s; after
# 100 ms the read takes what comes instead (netread.c, PATIENCE).
{
    my ($url, $stop) = second_httpd(offset => 300, config => "Timeout 2");
    my ($to) = $url =~ m{^http://(.+)$};
    my $size = 600_000;
    my $s = connect_httpd($to);
    my $buf = '';
    my $t0 = time;
    print $s part_head(initiate($size), $size), 'f' x 300_000;
    for my $i (1 .. 30) {
        sleep 0.1;
        print $s 's' x 10_000;
    }
    my ($st, $b) = answer($s, \$buf, 20);
    my $secs = time - $t0;
    close $s;
    $stop->();
    is($st, 200, 'a part that slows to 100 KB/s after 300 KB, on an httpd with Timeout 2: 200');
    like($b // '', qr/"size":$size/, '... all of it taken');
    cmp_ok($secs, '<', 6, sprintf('... in %.1f s', $secs));
}
