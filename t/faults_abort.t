# Clients that go away: 20 uploads dropped half-way through a part's body
# and 20 downloads dropped after the first 100 KiB (every other one with a
# TCP reset instead of a close).  Afterwards httpd's children hold no more
# connections to S3 or PostgreSQL and no more descriptors than before,
# allowing for pooled connections (at most one more per child); the
# aborted part left no row behind; the upload carries on and completes;
# what was committed before is still there, byte for byte.
use strict;
use warnings FATAL => 'all';
use Test::More tests => 17;
use Digest::SHA qw(sha256_hex);
use IO::Socket::INET;
use JSON::PP;
use Socket qw(SOL_SOCKET SO_LINGER);
use Time::HiRes qw(time sleep);
use Lenz::Test qw(:DEFAULT vhost_url psql guest_upload raw_get raw_request random_bytes);

my $MiB = 1024 * 1024;
my $env = stack_env();
my $base = vhost_url('default');
my ($hostport) = $base =~ m{^http://(.*)$};
my $vars = Apache::Test::vars();

# --- What httpd's children hold ------------------------------------------------------------
sub children {
    open my $fh, '<', "$vars->{t_logs}/httpd.pid" or die "httpd.pid: $!";
    chomp(my $parent = <$fh>);
    my @kids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $s, '<', $stat or next;
        my $l = <$s> // next;
        push @kids, $1 if $l =~ /^(\d+) \(.*\) \S (\d+) / && $2 == $parent;
    }
    return sort { $a <=> $b } @kids;
}

# inode => [local port, remote port, state] for every TCP socket.
sub tcp_sockets {
    my %t;
    for my $f ('/proc/net/tcp', '/proc/net/tcp6') {
        open my $fh, '<', $f or next;
        <$fh>;
        while (<$fh>) {
            my @c = split;
            my ($lp) = $c[1] =~ /:([0-9A-F]+)$/;
            my ($rp) = $c[2] =~ /:([0-9A-F]+)$/;
            $t{$c[9]} = [hex $lp, hex $rp, $c[3]];
        }
    }
    return \%t;
}

# Descriptors of all children: total, sockets to S3 / PostgreSQL, and
# client connections (this test's own, kept alive or closing).
sub snapshot {
    my $tcp = tcp_sockets();
    my %s = (fds => 0, s3 => 0, pg => 0, clients => 0, children => [children()]);
    for my $pid (@{ $s{children} }) {
        opendir my $d, "/proc/$pid/fd" or next;
        for my $fd (grep { /^\d+$/ } readdir $d) {
            $s{fds}++;
            my $l = readlink("/proc/$pid/fd/$fd") // next;
            my ($ino) = $l =~ /^socket:\[(\d+)\]$/ or next;
            my $t = $tcp->{$ino} or next;
            if ($t->[1] == $env->{LENZ_S3_PORT}) { $s{s3}++ }
            elsif ($t->[1] == $env->{LENZ_PG_PORT}) { $s{pg}++ }
            elsif ($t->[0] >= 8529 && $t->[0] < 8600 && $t->[2] ne '0A') { $s{clients}++ }
        }
    }
    $s{own} = $s{fds} - $s{clients};
    return \%s;
}
sub show { my $s = shift; sprintf 'fds %d (without client connections %d), to S3 %d, to PostgreSQL %d',
                                   @$s{qw(fds own s3 pg)} }

sub raw_conn { IO::Socket::INET->new(PeerAddr => $hostport) or die "connect: $!" }
# Leaves with a TCP reset (SO_LINGER 0) or a plain close.
sub leave {
    my ($s, $reset) = @_;
    setsockopt($s, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0)) if $reset;
    close $s;
}

# --- Committed before: a file that must stay whole -------------------------------------------
my $big = random_bytes(16 * $MiB);
my $kept = guest_upload($big, name => 'kept.bin');
# Warm every child's pools: requests on new connections land on any child.
raw_get($base, "/download/$kept->{token}", Range => 'bytes=0-9') for 1 .. 15;
my $before = snapshot();
my $nkids = @{ $before->{children} };

# --- 20 uploads dropped half-way through a 10 MiB part --------------------------------------------
my $data = random_bytes(12 * $MiB);
my $res = http_post('/upload/guest/encrypted/initiate', JSON::PP->new->encode({ filename => 'a.bin', size => length $data }),
                    'Content-Type' => 'application/json');
my $init = json_of($res);
my $PART = $init->{part_size};
my $half = substr($data, 0, $PART / 2);
my $mark = error_log_mark();
my $alog = "$vars->{t_logs}/access_log";
my $amark = -s $alog;
my $t0 = time;
for my $n (1 .. 20) {
    my $s = raw_conn();
    print $s "POST /upload/guest/encrypted/upload-part?token=$init->{token}&part=1 HTTP/1.1\r\n"
           . "Host: $hostport\r\nContent-Length: $PART\r\n\r\n";
    print $s $half;
    leave($s, $n % 2);
}
# --- 20 downloads dropped after 100 KiB --------------------------------------------------------------
for my $n (1 .. 20) {
    my $s = raw_conn();
    print $s "GET /download/$kept->{token} HTTP/1.1\r\nHost: $hostport\r\n\r\n";
    my $got = 0;
    while ($got < 100 * 1024) {
        my $r = sysread $s, my $buf, 65536;
        last unless $r;
        $got += $r;
    }
    leave($s, $n % 2);
}
my $loop = time - $t0;

# Until httpd has finished with all 40 (they are in the access log), or 20 s.
my $done = 0;
for (1 .. 200) {
    open my $fh, '<', $alog or die "$alog: $!";
    seek $fh, $amark, 0;
    $done = grep { m{"(POST /upload/guest/encrypted/upload-part\?token=\Q$init->{token}\E|GET /download/\Q$kept->{token}\E)(?=[ &])} }
            <$fh>;
    last if $done >= 40;
    sleep 0.1;
}
my $settled = time - $t0;
my $after = snapshot();
diag sprintf('40 aborts sent in %.1f s, all handled after %.1f s; %d children; before: %s',
             $loop, $settled, $nkids, show($before));
diag sprintf('after: %s', show($after));
is($done, 40, 'httpd finished all 40 dropped requests');
is_deeply($after->{children}, $before->{children}, "the same $nkids children throughout");
ok($after->{s3} <= $before->{s3} + $nkids, "connections to S3: $before->{s3} before, $after->{s3} after (pooled: at most one more per child)");
ok($after->{pg} <= $before->{pg} + $nkids, "connections to PostgreSQL: $before->{pg} before, $after->{pg} after");
ok($after->{own} <= $before->{own} + 2 * $nkids, "descriptors (without client connections): $before->{own} before, $after->{own} after");
my $log = error_log_since($mark);
my $gone = () = $log =~ /client went away after \d+ bytes/g;
ok($gone >= 10, "the dropped downloads are logged as such (info): $gone");

# --- The rows, and the upload carrying on --------------------------------------------------------------
is(psql("SELECT count(*) FROM upload_parts WHERE file_id = '$init->{file_id}'"), 0,
   'no upload_parts row for the dropped part');
is(psql("SELECT state FROM files WHERE id = '$init->{file_id}'"), 'uploading', '... the file is still uploading');
$res = http_get("/upload/guest/parts?token=$init->{token}");
is_deeply(json_of($res)->{parts}, [], '... and resume says no part arrived');
for my $n (1, 2) {
    $res = http_post("/upload/guest/encrypted/upload-part?token=$init->{token}&part=$n",
                     substr($data, ($n - 1) * $PART, $PART));
    is($res->code, 200, "part $n sent whole: 200");
}
$res = http_post('/upload/guest/encrypted/complete', JSON::PP->new->encode({ token => $init->{token} }),
                 'Content-Type' => 'application/json');
is($res->code, 201, 'the upload completes');
my $r = raw_get($base, '/download/' . json_of($res)->{token});
is($r->{status}, 200, '... and downloads');
is(sha256_hex($r->{body}), sha256_hex($data), '... byte for byte');
$r = raw_get($base, "/download/$kept->{token}");
is(length $r->{body}, length $big, 'the file committed before is still whole');
is(sha256_hex($r->{body}), sha256_hex($big), '... byte for byte');
is(psql("SELECT state FROM files WHERE id = '$kept->{file_id}'"), 'ready', '... and ready');
