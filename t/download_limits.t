# A link's download limit holds against clients that try to get more than
# it allows (the security review's issue 15, item 2; docs/security.md,
# "Download limits"): closing early and fetching the tail with Range,
# ranges from many addresses, many requests at once, a plain file's
# presigned URL used again or gained by HEAD, and a transfer's ZIP and
# files.  Links without a limit count as before and reserve nothing.
use strict;
use warnings FATAL => 'all';
use Test::More;
use JSON::PP;
use Digest::SHA qw(sha256_hex);
use IO::Socket::INET;
use IO::Select;
use LWP::UserAgent;
use Time::HiRes qw(time sleep);
use Lenz::Test qw(:DEFAULT random_bytes);
use Lenz::Jobs qw(psql wait_until figure);

my $top = top_dir();
my $env = stack_env();
local $ENV{LENZ_MASTER_KEY_FILE} = "$env->{LENZ_STACK_DIR}/master.key";
my $ctl = "$top/build/lenzctl -e $env->{LENZ_STACK_DIR}/stack.env";
my $vars = Apache::Test::vars();
my $port = $vars->{port};
my $MiB = 1024 * 1024;
my $S = 16 * $MiB;          # more than socket buffers hold, so an early close is seen
my $data = random_bytes($S);

# A request over its own socket, from a loopback address of our choice
# (from => '127.0.0.N'), read to the end or, with read => N, closed as soon
# as N body bytes arrived.  { status, body, headers }.
sub fetch {
    my ($path, %o) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", LocalAddr => $o{from} // '127.0.0.1',
                                  Timeout => 30) or die "connect: $!";
    my $h = join '', map { "$_->[0]: $_->[1]\r\n" } @{ $o{headers} // [] };
    print $s ($o{method} // 'GET') . " $path HTTP/1.1\r\nHost: 127.0.0.1\r\n${h}Connection: close\r\n\r\n";
    my $raw = '';
    while (1) {
        my $n = sysread $s, my $buf, 65536;
        last unless $n;
        $raw .= $buf;
        last if $o{read} && $raw =~ /\r\n\r\n/ && length($raw) - $+[0] >= $o{read};
    }
    close $s;
    return parse($raw);
}

sub parse {
    my ($raw) = @_;
    my ($head, $body) = split /\r\n\r\n/, $raw, 2;
    my ($status) = ($head // '') =~ m{^HTTP/1\.\d (\d+)};
    my %hdr;
    for (split /\r\n/, $head // '') { $hdr{lc $1} = $2 if /^([^:]+):\s*(.*)$/ }
    return { status => $status // 0, headers => \%hdr, body => $body // '' };
}

# N requests sent at once on N sockets, then all read to their ends.
sub parallel {
    my ($n, $path, @h) = @_;
    my (@socks, %raw);
    for (1 .. $n) {
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 30) or die "connect: $!";
        push @socks, $s;
    }
    my $h = join '', map { "$_->[0]: $_->[1]\r\n" } @h;
    print $_ "GET $path HTTP/1.1\r\nHost: 127.0.0.1\r\n${h}Connection: close\r\n\r\n" for @socks;
    my $sel = IO::Select->new(@socks);
    my $deadline = time + 120;
    while ($sel->count && time < $deadline) {
        for my $s ($sel->can_read(1)) {
            my $n = sysread $s, my $buf, 65536;
            if ($n) { $raw{"$s"} .= $buf } else { $sel->remove($s); close $s }
        }
    }
    return map { parse($raw{"$_"} // '') } @socks;
}

sub info { json_of(http_get("/download/$_[0]/info")) }
sub served {
    my $n = 0;
    $n += length $_->{body} for grep { $_->{status} == 200 || $_->{status} == 206 } @_;
    return $n;
}

# A member, one 16 MiB encrypted file of hers, and links on it.
my $email = sprintf('limits-%d%d@example.org', time, $$);
`echo 'correct horse battery' | $ctl create-user $email --password-stdin 2>&1`;
my @auth = bearer(json_of(post_json('/api/v1/auth/login', { email => $email,
                                                            password => 'correct horse battery' }))->{access_token});
my $i = json_of(post_json('/api/v1/uploads/encrypted/initiate', { filename => 'limits.bin', size => $S }, @auth));
for my $n (1 .. $i->{part_count}) {
    http_req('POST', "/api/v1/uploads/encrypted/upload-part?token=$i->{token}&part=$n", [@auth],
             substr($data, ($n - 1) * $i->{part_size}, $i->{part_size}));
}
my $file = json_of(post_json('/api/v1/uploads/encrypted/complete', { token => $i->{token} }, @auth));
sub link_on {
    my (%o) = @_;
    my $res = post_json('/api/v1/links', { file_id => $file->{file_id}, %o }, @auth);
    die 'link: ' . $res->code . ' ' . $res->content unless $res->code == 201;
    return json_of($res)->{token};
}
# A guest's upload whose link gets a limit (guests' links have none).
sub limited_guest {
    my ($max, @uploads) = @_;
    my $first = guest_upload(@{ shift @uploads });
    guest_upload(@$_, transfer_id => $first->{transfer_id}) for @uploads;
    psql("UPDATE links SET max_downloads = $max WHERE transfer_id = '$first->{transfer_id}'");
    return $first;
}

# --- A plain file's presigned URL (first: its expiry is waited for at the end) ---------------
my $plain = random_bytes(70000);
my $pl = limited_guest(1, [$plain, plain => 1, name => 'plain.bin']);
my $head = fetch("/download/$pl->{token}", method => 'HEAD');
is($head->{status}, 302, 'plain, limited: HEAD answers 302');
my $head_url = $head->{headers}{location};
my $ua = LWP::UserAgent->new(timeout => 30, max_redirect => 0);
is($ua->get($head_url)->code, 403, '... to a URL signed for HEAD: S3 refuses it a GET');
is($ua->head($head_url)->code, 200, '... and answers it a HEAD');
is(info($pl->{token})->{downloads_left}, 1, '... and the HEAD took no download');
my $t_redirect = time;
my $r = fetch("/download/$pl->{token}");
is($r->{status}, 302, 'plain, limited: GET answers 302');
my $url = $r->{headers}{location};
like($url, qr/[?&]X-Amz-Expires=30(&|$)/, '... to a URL that lives 30 s');
my $res = $ua->get($url);
ok($res->code == 200 && $res->content eq $plain, '... which serves the file');
is(fetch("/download/$pl->{token}")->{status}, 410, 'the one download was taken at the redirect: 410 after');

# --- Closing early, then fetching the tail with Range ---------------------------------------------
my $tok = link_on(max_downloads => 1);
$r = fetch("/download/$tok", read => 100_000);
my $got = length $r->{body};
is($r->{status}, 200, 'early close: the download had started (200)');
my ($settled) = wait_until(sub { my $j = info($tok); $j && $j->{bytes_left} ? $j : undef }, 15);
ok($settled, '... and what was not sent is given back when the server sees the client gone');
is($settled && $settled->{downloads_left}, 0, '... but the download stays taken');
my $charged = $S - ($settled ? $settled->{bytes_left} : 0);
ok($charged >= $got, "... at least what the client read ($got) stays counted ($charged)");
figure(sprintf('early close: the client read %d bytes and closed; %d were counted (%.1f MiB in flight)',
               $got, $charged, ($charged - $got) / $MiB));
my @recv = ($r);
my $tail = fetch("/download/$tok", headers => [[Range => "bytes=$got-"]]);
push @recv, $tail;
if ($tail->{status} == 206) {
    is($charged, $got, 'the tail from where the client stopped: 206 only if nothing was in flight');
}
else {
    is($tail->{status}, 410, 'the tail from where the client stopped: 410 (what was in flight counts)');
    like($tail->{body}, qr/"bytes_left":\s*$settled->{bytes_left}\b/, '... saying how many bytes are left');
    ok(!$tail->{headers}{'content-disposition'} && !$tail->{headers}{'content-range'},
       '... a problem about the link, not an attachment or a range');
    my $rest = fetch("/download/$tok", headers => [[Range => "bytes=$charged-"]]);
    push @recv, $rest;
    is($rest->{status}, 206, 'the tail from where the count stopped: 206');
    ok($rest->{body} eq substr($data, $charged), '... exactly the rest of the file');
}
is(fetch("/download/$tok", headers => [[Range => 'bytes=-1']])->{status}, 410, 'then even the last byte: 410');
is(fetch("/download/$tok")->{status}, 410, '... and a whole download: 410');
ok(served(@recv) <= $S, 'early close and tails: at most one copy went out (' . served(@recv) . " of $S bytes)");

# --- Ranges from many addresses -----------------------------------------------------------------
# (The old count added ranges up per link and address: four addresses per
# copy made every copy free.)
$tok = link_on(max_downloads => 1);
my $Q = $S / 4;
my @copies;
for my $copy (0 .. 2) {
    my @parts = map { fetch("/download/$tok", from => '127.0.0.' . (10 + 4 * $copy + $_),
                            headers => [[Range => 'bytes=' . ($_ * $Q) . '-' . (($_ + 1) * $Q - 1)]]) } 0 .. 3;
    push @copies, \@parts;
}
is(join(',', map { $_->{status} } @{ $copies[0] }), '206,206,206,206', 'four ranges from four addresses: one copy');
is(join('', map { $_->{body} } @{ $copies[0] }), $data, '... whole and right');
is(join(',', map { $_->{status} } map { @$_ } @copies[1, 2]), join(',', (410) x 8),
   'the same from eight more addresses: 410 every time');
ok(served(map { @$_ } @copies) <= $S, '... at most one copy went out');

# The tail alone, over and over, from changing addresses.
my $small = random_bytes(100_000);
my $sm = limited_guest(1, [$small, name => 'small.bin']);
my @tails = map { fetch("/download/$sm->{token}", from => '127.0.0.' . (30 + $_), headers => [[Range => 'bytes=-10000']]) }
            1 .. 30;
is(scalar(grep { $_->{status} == 206 } @tails), 10, 'the last 10000 bytes asked 30 times: served 10 times');
is(scalar(grep { $_->{status} == 410 } @tails), 20, '... then 410');
ok(served(@tails) <= length $small, '... at most one copy\'s worth of bytes');

# --- Many requests at once ------------------------------------------------------------------------
$tok = link_on(max_downloads => 1);
my @par = parallel(8, "/download/$tok");
my @st = sort map { $_->{status} } @par;
is("@st", '200 410 410 410 410 410 410 410', 'eight whole downloads at once on a one-download link: one 200');
ok(served(@par) == $S && (grep { $_->{status} == 200 && $_->{body} eq $data } @par),
   '... one whole copy and nothing more');
ok(!(grep { $_->{status} == 410 && $_->{headers}{'content-disposition'} } @par),
   '... the 410s are no attachments (a browser shows them)');
figure("8 parallel GETs, max_downloads 1: @st; " . served(@par) . " body bytes (one copy: $S)");
$tok = link_on(max_downloads => 1);
@par = parallel(8, "/download/$tok", [Range => 'bytes=1-']);
@st = sort map { $_->{status} } @par;
is("@st", '206 410 410 410 410 410 410 410', 'eight "bytes=1-" at once: one 206');
ok(served(@par) <= $S, '... at most one copy\'s worth of bytes');
$tok = link_on(max_downloads => 3);
@par = parallel(8, "/download/$tok");
@st = sort map { $_->{status} } @par;
is("@st", '200 200 200 410 410 410 410 410', 'eight at once on a three-download link: three 200');

# --- A range from byte 0 starts a download; the rest of it does not ------------------------------------
$tok = link_on(max_downloads => 2);
is(fetch("/download/$tok", method => 'HEAD')->{status}, 200, 'HEAD: 200');
is(info($tok)->{downloads_left}, 2, '... and takes nothing');
is(fetch("/download/$tok", headers => [['If-None-Match', "\"$file->{file_id}\""]])->{status}, 304,
   'a 304 takes nothing either');
$r = fetch("/download/$tok", headers => [[Range => 'bytes=0-' . ($S / 2 - 1)]]);
is($r->{status}, 206, 'the first half: 206');
is_deeply([@{ info($tok) }{qw(downloads_left bytes_left)}], [1, 1.5 * $S], '... started a download');
$r = fetch("/download/$tok", headers => [[Range => 'bytes=' . ($S / 2) . '-']]);
is($r->{status}, 206, 'the second half: 206');
is_deeply([@{ info($tok) }{qw(downloads_left bytes_left)}], [1, $S], '... took only its bytes');
is(fetch("/download/$tok")->{status}, 200, 'the second download: 200');
is(fetch("/download/$tok", headers => [[Range => 'bytes=5-9']])->{status}, 410, 'then nothing: 410');

# --- Transfers --------------------------------------------------------------------------------------------
my @two = ([random_bytes(300_000), name => 'one.bin'], [random_bytes(200_000), name => 'two.bin']);
my $tr = limited_guest(1, @two);
my $files = info($tr->{token})->{files};
$r = fetch("/download/$tr->{token}");
is($r->{status}, 200, 'a transfer with one download: the ZIP, 200');
is(fetch("/download/$tr->{token}")->{status}, 410, '... a second ZIP: 410');
is(fetch("/download/$tr->{token}/files/$files->[1]{id}")->{status}, 410, '... and its files one by one: 410');
$tr = limited_guest(1, @two);
$files = info($tr->{token})->{files};
$r = fetch("/download/$tr->{token}/files/$files->[0]{id}");
ok($r->{status} == 200 && $r->{body} eq $two[0][0], 'the other way: the first file on its own, 200');
is_deeply([@{ info($tr->{token}) }{qw(downloads_left bytes_left)}], [0, 200_000],
          '... leaves the second file\'s bytes and no whole download');
is(fetch("/download/$tr->{token}")->{status}, 410, '... so no ZIP (410)');
$r = fetch("/download/$tr->{token}/files/$files->[1]{id}");
ok($r->{status} == 200 && $r->{body} eq $two[1][0], '... but the second file: 200');
is(fetch("/download/$tr->{token}/files/$files->[0]{id}")->{status}, 410, 'then the first again: 410');

# --- Links without a limit: as before, and nothing reserved ---------------------------------------------
my $l = json_of(post_json('/api/v1/links', { file_id => $file->{file_id} }, @auth));
fetch("/download/$l->{token}", read => 100_000);
sleep 0.5;
is(fetch("/download/$l->{token}")->{status}, 200, 'no limit: a whole download');
fetch("/download/$l->{token}", headers => [[Range => 'bytes=0-99']]);
my ($row) = wait_until(sub {
    my ($x) = grep { $_->{id} eq $l->{id} } @{ json_of(http_req('GET', '/api/v1/links', [@auth]))->{links} };
    $x && $x->{downloads} == 1 ? $x : undef }, 5);
is($row && $row->{downloads}, 1, '... counted once it completed (not the early close, not the range)');
is($row && $row->{bytes_served}, 0, '... and nothing reserved (bytes_served 0)');
ok(!defined info($l->{token})->{bytes_left}, '... bytes_left null');
# A limit put on it later: the downloads so far count as whole copies.
$res = http_req('PATCH', "/api/v1/links/$l->{token}", ['Content-Type' => 'application/json', @auth],
                '{"max_downloads":2}');
is($res->code, 200, 'a limit of 2 put on it afterwards');
is_deeply([@{ info($l->{token}) }{qw(downloads_left bytes_left)}], [1, $S],
          '... leaves one download: the one made counts as a whole copy');
is(fetch("/download/$l->{token}", headers => [[Range => 'bytes=1-']])->{status}, 206, '... a range');
is(fetch("/download/$l->{token}", headers => [[Range => 'bytes=0-0']])->{status}, 206, '... and its first byte');
is(fetch("/download/$l->{token}", headers => [[Range => 'bytes=0-0']])->{status}, 410, '... then nothing');

# --- The presigned URL once its 30 s are over -------------------------------------------------------------
my $wait = $t_redirect + 32 - time;
sleep $wait if $wait > 0;
$res = $ua->get($url);
is($res->code, 403, sprintf('the plain file\'s URL %.0f s after the redirect: S3 refuses it', time - $t_redirect));
like($res->content, qr/AccessDenied|expired/i, '... as expired');

done_testing();
