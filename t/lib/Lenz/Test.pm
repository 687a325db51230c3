package Lenz::Test;
# Helpers shared by the Apache::Test files.  Use with Test::More (never
# import Apache::Test's own plan/ok: they clash with Test::More's).
use strict;
use warnings FATAL => 'all';
use Exporter 'import';
use JSON::PP ();
use File::Spec;
use Apache::Test ();
use Apache::TestRequest ();

our @EXPORT = qw(json_of expect_log stack_env top_dir error_log_since error_log_mark
                 http_get http_post http_req second_httpd);
# On request (older test files have their own subs of these names):
#   use Lenz::Test qw(:DEFAULT psql ...);
our @EXPORT_OK = qw(vhost_url psql guest_upload raw_get raw_request random_bytes);

my $JSON = JSON::PP->new->utf8->canonical;

sub top_dir {
    my $vars = Apache::Test::vars();
    return File::Spec->rel2abs(File::Spec->catdir($vars->{t_dir}, File::Spec->updir));
}

# Decodes a response body as JSON; undef (and a diagnostic) when it is not.
sub json_of {
    my ($res) = @_;
    my $v = eval { $JSON->decode($res->content) };
    Test::More::diag("not JSON: " . substr($res->content // '', 0, 200)) unless $v;
    return $v;
}

# Declares LENZ tags this test provokes at warn/error level on purpose; the
# runner fails the suite on any other LENZ warning or error in error_log.
sub expect_log {
    my $vars = Apache::Test::vars();
    my $file = File::Spec->catfile($vars->{t_logs}, 'expected-log-tags');
    open my $fh, '>>', $file or die "cannot write $file: $!";
    print $fh "$_\n" for @_;
    close $fh;
}

sub stack_env {
    my $file = File::Spec->catfile(top_dir(), 'var', 'test', 'stack.env');
    my %env;
    open my $fh, '<', $file or die "cannot read $file: $!";
    while (<$fh>) {
        chomp;
        next if /^\s*(#|$)/;
        my ($k, $v) = split /=/, $_, 2;
        $v =~ s/^(['"])(.*)\1$/$2/ if defined $v;
        $env{$k} = $v;
    }
    return \%env;
}

# The error log's size now, and what was written after such a mark.
sub error_log_mark {
    my $vars = Apache::Test::vars();
    return -s File::Spec->catfile($vars->{t_logs}, 'error_log') // 0;
}

sub error_log_since {
    my ($mark) = @_;
    my $vars = Apache::Test::vars();
    open my $fh, '<', File::Spec->catfile($vars->{t_logs}, 'error_log') or return '';
    seek $fh, $mark, 0;
    local $/;
    return <$fh> // '';
}

# A second httpd instance with the same configuration (same PostgreSQL,
# S3 and master key) on ports 100 higher, for "any host can take any
# request" tests.  Returns (base URL, stop function, its log directory).
# Options: offset => N (ports N higher; default 100), shared_cache =>
# 'memcache:HOST:PORT' (LenzSharedCache is global-only, so it is replaced in
# the copy), config => "directives appended to its extra.conf".
sub second_httpd {
    my (%o) = @_;
    my $off = $o{offset} // 100;
    my $vars = Apache::Test::vars();
    my $t = $vars->{t_dir};
    my $dir = $off == 100 ? "$vars->{t_logs}/second" : "$vars->{t_logs}/second-$off";
    mkdir $dir;
    for my $f ('httpd.conf', 'extra.conf') {
        open my $in, '<', "$t/conf/$f" or die "$t/conf/$f: $!";
        local $/;
        my $c = <$in>;
        # Only where httpd listens: the public URL stays the same, as it
        # does for every host behind one load balancer.
        $c =~ s/^(\s*(?:Listen|<VirtualHost|ServerName)\b.*?):(85\d\d)\b/$1 . ':' . ($2 + $off)/gme;
        $c =~ s{\Q$t/conf/extra.conf\E}{$dir/extra.conf}g;
        $c =~ s{\Q$vars->{t_logs}\E/(httpd\.pid|error_log|access_log)}{$dir/$1}g;
        if ($f eq 'extra.conf') {
            $c =~ s/^(\s*LenzSharedCache\s+).*$/$1$o{shared_cache}/m or die "no LenzSharedCache in $f"
                if $o{shared_cache};
            $c .= "\n# second_httpd(config => ...)\n$o{config}\n" if $o{config};
        }
        open my $out, '>', "$dir/$f" or die;
        print $out $c;
    }
    my $httpd = $vars->{httpd};
    system("$httpd -f $dir/httpd.conf -k start") == 0 or die "second httpd did not start";
    my $port = $vars->{port} + $off;
    require IO::Socket::INET;
    for (1 .. 100) {
        last if IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 1);
        select undef, undef, undef, 0.1;
    }
    my $stop = sub {
        system("$httpd -f $dir/httpd.conf -k stop");
        for (1 .. 100) {
            last unless -e "$dir/httpd.pid";
            select undef, undef, undef, 0.1;
        }
    };
    return ("http://127.0.0.1:$port", $stop, $dir);
}

# Requests through Apache::TestRequest's user agent (host and port of the
# module selected with Apache::TestRequest::module()); never follow
# redirects.  http_req(METHOD, PATH, [HEADER => VALUE, ...], BODY).
sub http_req {
    my ($method, $path, $headers, $body) = @_;
    require HTTP::Request;
    my $url = Apache::TestRequest::resolve_url($path);
    my $req = HTTP::Request->new($method => $url, $headers // [], $body);
    my $ua = Apache::TestRequest::user_agent();
    $ua->requests_redirectable([]);
    return $ua->request($req);
}
sub http_get  { my ($path, @h) = @_; http_req('GET', $path, [@h]) }
sub http_post { my ($path, $body, @h) = @_; http_req('POST', $path, [@h], $body) }

# "http://host:port" of a virtual host of the test config ('default' for
# the main server).
sub vhost_url {
    my ($name) = @_;
    my $old = Apache::TestRequest::module();
    Apache::TestRequest::module($name);
    my $hp = Apache::TestRequest::hostport();
    Apache::TestRequest::module($old // 'default');
    return "http://$hp";
}

# One SQL statement through psql as the application's role; its output
# (unaligned, tuples only), chomped.
sub psql {
    my ($sql) = @_;
    my $env = stack_env();
    open my $ph, '-|', 'psql', '-X', '-q', '-A', '-t', '-d', $env->{LENZ_PG_CONNINFO}, '-c', $sql
        or die "psql: $!";
    my $out = do { local $/; <$ph> } // '';
    close $ph;
    chomp $out;
    return $out;
}

sub random_bytes {
    my ($n) = @_;
    my $b = '';
    open my $fh, '<:raw', '/dev/urandom' or die;
    read($fh, $b, $n) if $n;
    return $b;
}

# Uploads bytes as a guest through the encrypted path of the server at
# base => URL (default: the main server) and returns complete's answer
# plus the transfer id.  Dies on any unexpected status.
sub guest_upload {
    my ($data, %o) = @_;
    require LWP::UserAgent;
    require HTTP::Request;
    my $base = $o{base} // vhost_url('default');
    my $ua = LWP::UserAgent->new(timeout => 60);
    my $post = sub {
        my ($path, $body, @h) = @_;
        return $ua->request(HTTP::Request->new(POST => "$base$path", [@h], $body));
    };
    my $res = $post->('/upload/guest/encrypted/initiate',
                      $JSON->encode({ filename => $o{name} // 'file.bin', size => length $data }),
                      'Content-Type' => 'application/json');
    die 'initiate: ' . $res->code . ' ' . $res->content unless $res->code == 201;
    my $i = json_of($res);
    for my $n (1 .. $i->{part_count}) {
        my $p = substr($data, ($n - 1) * $i->{part_size}, $i->{part_size});
        $res = $post->("/upload/guest/encrypted/upload-part?token=$i->{token}&part=$n", $p);
        die "part $n: " . $res->code . ' ' . $res->content unless $res->code == 200;
    }
    $res = $post->('/upload/guest/encrypted/complete', $JSON->encode({ token => $i->{token} }),
                   'Content-Type' => 'application/json');
    die 'complete: ' . $res->code . ' ' . $res->content unless $res->code == 201;
    return { %{ json_of($res) }, transfer_id => $i->{transfer_id} };
}

# A request over a raw socket, read to the end (Connection: close), so a
# body that ends early is seen as such: { status, headers (lower-case
# names), body, seconds }.  raw_get(BASE, PATH, HEADER => VALUE, ...).
sub raw_get { my ($base, $path, @h) = @_; raw_request($base, 'GET', $path, undef, @h) }

sub raw_request {
    my ($base, $method, $path, $body, @h) = @_;
    require IO::Socket::INET;
    require Time::HiRes;
    my ($hp) = $base =~ m{^http://([^/]+)};
    my $t0 = Time::HiRes::time();
    my $s = IO::Socket::INET->new(PeerAddr => $hp, Timeout => 10) or die "connect $hp: $!";
    my $extra = '';
    while (my ($k, $v) = splice @h, 0, 2) { $extra .= "$k: $v\r\n" }
    print $s "$method $path HTTP/1.1\r\nHost: $hp\r\n${extra}Connection: close\r\n\r\n", $body // '';
    my $raw = '';
    while (1) {
        my $n = sysread $s, my $buf, 65536;
        last unless $n;
        $raw .= $buf;
    }
    close $s;
    my ($head, $rbody) = split /\r\n\r\n/, $raw, 2;
    my ($status) = ($head // '') =~ m{^HTTP/1\.\d (\d+)};
    my %hdr;
    for (split /\r\n/, $head // '') { $hdr{lc $1} = $2 if /^([^:]+):\s*(.*)$/ }
    return { status => $status // 0, headers => \%hdr, body => $rbody // '',
             seconds => Time::HiRes::time() - $t0 };
}

1;
