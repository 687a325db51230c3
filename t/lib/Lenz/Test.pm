package Lenz::Test;
# Helpers shared by the Apache::Test files.  Use with Test::More (never
# import Apache::Test's own plan/ok: they clash with Test::More's).
use strict;
use warnings FATAL => 'all';
use Exporter 'import';
use Time::HiRes qw(time);
use JSON::PP ();
use File::Spec;
use Apache::Test ();
use Apache::TestRequest ();

our @EXPORT = qw(json_of expect_log stack_env top_dir error_log_since error_log_mark
                 http_get http_post http_req second_httpd
                 sse_open sse_next form esc cookie_of csrf_of origin post_json bearer
                 guest_upload node_ok run_node);
# On request (older test files have their own subs of these names):
#   use Lenz::Test qw(:DEFAULT psql ...);
our @EXPORT_OK = qw(vhost_url psql guest_upload raw_get raw_request random_bytes children_rss_kib);

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
# Every second httpd is stopped when its test file ends, also when it dies.
my @second_httpds;
END { my $rc = $?; $_->() for @second_httpds; $? = $rc }
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
        # mpm => 'worker': the same server under mpm_worker.
        if ($f eq 'httpd.conf' && ($o{mpm} // '') eq 'worker') {
            $c =~ s/mpm_event_module/mpm_worker_module/g;
            $c =~ s/mod_mpm_event\.(so|c)/mod_mpm_worker.$1/g;
        }
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
    my $stopped = 0;
    my $stop = sub {
        return if $stopped++;
        system("$httpd -f $dir/httpd.conf -k stop");
        for (1 .. 100) {
            last unless -e "$dir/httpd.pid";
            select undef, undef, undef, 0.1;
        }
    };
    push @second_httpds, $stop;
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
# Server-Sent Events over a plain socket (LWP would wait for the end).
# sse_open(PATH, HEADER => VALUE, ...) -> ($sock, $status, \%headers);
# sse_next($sock, $timeout) -> { id, event, data, comments => [...] } or
# undef when nothing complete arrived in time (or the stream ended).
sub sse_open {
    my ($path, @h) = @_;
    require IO::Socket::INET;
    my $url = Apache::TestRequest::resolve_url($path);
    my ($hostport, $rest) = $url =~ m{^https?://([^/]+)(/.*)$} or die "bad url $url";
    my $sock = IO::Socket::INET->new(PeerAddr => $hostport, Timeout => 5) or die "connect: $!";
    my $req = "GET $rest HTTP/1.1\r\nHost: $hostport\r\nAccept: text/event-stream\r\n";
    while (my ($k, $v) = splice @h, 0, 2) { $req .= "$k: $v\r\n" }
    print $sock "$req\r\n";
    my $buf = '';
    my $deadline = time + 10;
    while ($buf !~ /\r\n\r\n/ && time < $deadline) {
        my $n = _read_some($sock, \$buf, 1) // last;
        last if $n == 0 && !_readable($sock, 0);
    }
    my ($head, $body) = split /\r\n\r\n/, $buf, 2;
    my ($status) = ($head // '') =~ m{^HTTP/1\.\d (\d+)};
    my %hdr;
    for (split /\r\n/, $head // '') { $hdr{lc $1} = $2 if /^([^:]+):\s*(.*)$/ }
    ${*$sock}{lenz_chunked} = ($hdr{'transfer-encoding'} // '') =~ /chunked/i;
    ${*$sock}{lenz_raw} = $body // '';
    ${*$sock}{lenz_text} = '';
    return ($sock, $status // 0, \%hdr);
}

sub _readable {
    my ($sock, $t) = @_;
    my $rin = '';
    vec($rin, fileno($sock), 1) = 1;
    return select($rin, undef, undef, $t);
}

sub _read_some {
    my ($sock, $bufref, $t) = @_;
    return 0 unless _readable($sock, $t) > 0;
    my $n = sysread($sock, my $chunk, 65536);
    return undef unless $n;         # closed or error
    $$bufref .= $chunk;
    return $n;
}

# Moves complete chunks of the raw (maybe chunked) body into the text.
sub _dechunk {
    my ($sock) = @_;
    my $raw = \${*$sock}{lenz_raw};
    unless (${*$sock}{lenz_chunked}) { ${*$sock}{lenz_text} .= $$raw; $$raw = ''; return }
    while ($$raw =~ /^([0-9a-fA-F]+)[^\r\n]*\r\n/) {
        my ($len, $hl) = (hex $1, length($&));
        last if length($$raw) < $hl + $len + 2;
        ${*$sock}{lenz_text} .= substr($$raw, $hl, $len);
        substr($$raw, 0, $hl + $len + 2, '');
        ${*$sock}{lenz_eof} = 1 if $len == 0;
    }
}

sub sse_next {
    my ($sock, $timeout) = @_;
    my $deadline = time + $timeout;
    for (;;) {
        _dechunk($sock);
        my $text = \${*$sock}{lenz_text};
        if ($$text =~ /^(.*?)\n\n/s) {
            my $block = $1;
            substr($$text, 0, length($block) + 2, '');
            my %ev = (comments => []);
            for my $line (split /\n/, $block) {
                if ($line =~ /^:\s?(.*)$/) { push @{ $ev{comments} }, $1; next }
                my ($k, $v) = $line =~ /^([^:]+):\s?(.*)$/ or next;
                $ev{$k} = exists $ev{$k} && $k eq 'data' ? "$ev{$k}\n$v" : $v;
            }
            return \%ev;
        }
        return undef if ${*$sock}{lenz_eof};
        my $left = $deadline - time;
        return undef if $left <= 0;
        my $n = _read_some($sock, \${*$sock}{lenz_raw}, $left > 0.2 ? 0.2 : $left);
        return undef unless defined $n;
    }
}

# Browser-style helpers: a form POST with the site's Origin, the session
# cookie a response set, the CSRF token a page holds.
sub origin {
    my $vars = Apache::Test::vars();
    return "http://$vars->{servername}:$vars->{port}";
}
sub esc { my $s = shift // ''; $s =~ s/([^A-Za-z0-9_.~-])/sprintf '%%%02X', ord $1/ge; $s }
sub form {
    my ($path, $fields, @h) = @_;
    my $body = join '&', map { "$_=" . esc($fields->{$_}) } sort keys %$fields;
    return http_req('POST', $path, ['Content-Type' => 'application/x-www-form-urlencoded',
                                    Origin => origin(), @h], $body);
}
sub cookie_of {
    my ($res) = @_;
    for ($res->header('Set-Cookie')) { return $1 if defined && /^(lenz=[^;]*)/ }
    return undef;
}
sub csrf_of { $_[0]->content =~ /name="csrf" value="([^"]+)"/ ? $1 : undef }

# POST of JSON: a reference is encoded (canonical; strings go as they are,
# so byte strings stay bytes), anything else is sent as given.
my $POST_JSON = JSON::PP->new->canonical;
sub post_json {
    my ($path, $body, @h) = @_;
    return http_req('POST', $path, ['Content-Type' => 'application/json', @h],
                    ref $body ? $POST_JSON->encode($body) : $body);
}
sub bearer { ('Authorization' => "Bearer $_[0]") }

# Uploads bytes as a guest to the server at base => URL (default: the main
# server): encrypted unless plain => 1; name, password, recipients,
# transfer_id, content_type as options.  Returns complete's answer plus
# the transfer id; dies on any unexpected status.  Plain parts go
# straight to S3.
sub guest_upload {
    my ($data, %o) = @_;
    require LWP::UserAgent;
    require HTTP::Request;
    my $base = $o{base} // vhost_url('default');
    my $ua = LWP::UserAgent->new(timeout => 120);
    my $req = sub {
        my ($method, $url, $body, @h) = @_;
        return $ua->request(HTTP::Request->new($method => $url =~ /^http/ ? $url : "$base$url", [@h], $body));
    };
    my $json = sub { $req->('POST', $_[0], $POST_JSON->encode($_[1]), 'Content-Type' => 'application/json') };
    my $path = $o{plain} ? '/upload/guest' : '/upload/guest/encrypted';
    my %init = (filename => $o{name} // 'file.bin', size => length $data);
    $init{$_} = $o{$_} for grep { exists $o{$_} } qw(password recipients transfer_id content_type);
    my $res = $json->("$path/initiate", \%init);
    die 'initiate: ' . $res->code . ' ' . $res->content unless $res->code == 201;
    my $i = json_of($res);
    my @parts;
    for my $n (1 .. $i->{part_count}) {
        my $p = substr($data, ($n - 1) * $i->{part_size}, $i->{part_size});
        if ($o{plain}) {
            my $u = json_of($req->('GET', "/upload/guest/presigned-url?token=$i->{token}&part=$n"));
            $res = $req->('PUT', $u->{url}, $p);
            push @parts, { part => $n, etag => $res->header('ETag') };
        }
        else {
            $res = $req->('POST', "/upload/guest/encrypted/upload-part?token=$i->{token}&part=$n", $p);
        }
        die "part $n: " . $res->code . ' ' . $res->content unless $res->code == 200;
    }
    $res = $json->("$path/complete", { token => $i->{token}, ($o{plain} ? (parts => \@parts) : ()) });
    die 'complete: ' . $res->code . ' ' . $res->content unless $res->code == 201;
    return { %{ json_of($res) }, transfer_id => $i->{transfer_id} };
}

# Node for the browser-side tests (t/js/*.test.mjs, jsdom from Debian).
sub _node { my $n = `command -v node 2>/dev/null`; chomp $n; $n }
sub node_ok {
    my $node = _node() or return 0;
    my $v = `$node --version 2>/dev/null`;
    return $v =~ /^v(\d+)\./ && $1 >= 18;
}

# Runs t/js/SCRIPT (or t/SCRIPT when it names a folder, e.g.
# 'browser/pages.test.mjs') with LENZ_BASE_URL, LENZ_RESULTS and %env: each
# of its TAP lines is a check here (named "WHAT: ..."), and so are a clean
# exit and a complete plan.  Returns what it wrote to LENZ_RESULTS (JSON).
sub run_node {
    my ($script, $what, %env) = @_;
    require Test::More;
    require File::Temp;
    my $node = _node();
    my $results = File::Temp->new(SUFFIX => '.json');
    (my $base = Apache::TestRequest::resolve_url('/')) =~ s{/$}{};
    local $ENV{LENZ_BASE_URL} = $base;
    local $ENV{LENZ_RESULTS} = "$results";
    local $ENV{NODE_PATH} = join ':', grep { $_ } '/usr/share/nodejs', $ENV{NODE_PATH};
    local @ENV{keys %env} = values %env;
    my ($plan, $seen) = (undef, 0);
    my $file = top_dir() . ($script =~ m{/} ? "/t/$script" : "/t/js/$script");
    if ($node && open my $fh, '-|', "$node $file 2>&1") {
        while (my $line = <$fh>) {
            chomp $line;
            if ($line =~ /^(not )?ok \d+(?: - (.*))?$/) {
                $seen++;
                Test::More::ok(!$1, "$what: " . ($2 // ''));
            }
            elsif ($line =~ /^1\.\.(\d+)$/) {
                $plan = $1;
            }
            elsif ($line =~ /\S/) {
                Test::More::diag($line =~ /^#/ ? $line : "# $line");
            }
        }
        close $fh;
    }
    else {
        $? = -1;
    }
    Test::More::is($?, 0, "$script exited with 0");
    # Which Node ran it goes with the figures (Debian 12's is 18: the scripts
    # must load there too, scripts/node18.sh).
    if ($node && open my $fig, '>>', top_dir() . '/t/logs/figures.txt') {
        chomp(my $v = `$node --version 2>/dev/null` // '');
        (my $t = $0) =~ s{.*/}{};
        print $fig "t/$t: $script ran under Node $v ($node)\n";
    }
    Test::More::ok(defined $plan && $plan == $seen && $seen > 0,
                   "$script ran its whole plan ($seen of " . ($plan // '?') . ')');
    open my $r, '<', "$results" or return {};
    local $/;
    my $text = <$r>;
    return length $text ? JSON::PP->new->decode($text) : {};
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

# The resident memory of the test httpd's children, summed (KiB).
sub children_rss_kib {
    my $pidf = Apache::Test::vars()->{t_logs} . "/httpd.pid";
    chomp(my $ppid = `cat $pidf 2>/dev/null`);
    my $kib = 0;
    for my $pid (split ' ', `pgrep -P $ppid 2>/dev/null`) {
        open my $fh, '<', "/proc/$pid/status" or next;
        while (<$fh>) { $kib += $1 if /^VmRSS:\s+(\d+)/ }
    }
    return $kib;
}

sub random_bytes {
    my ($n) = @_;
    my $b = '';
    open my $fh, '<:raw', '/dev/urandom' or die;
    read($fh, $b, $n) if $n;
    return $b;
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
