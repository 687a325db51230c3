# Downloads through the real S3 server: whole files of edge sizes, 200
# random ranges, HTTP semantics (HEAD, ETag, If-None-Match, If-Range,
# Content-Disposition), a tampered object, password gates and grants,
# download counting, transfers as ZIP, plain files by redirect, the links
# API, and bad tokens.  (The e-mail OTP gate is in t/download_otp.t.)
use strict;
use warnings FATAL => 'all';
use Test::More;
use JSON::PP;
use Digest::SHA qw(sha256_hex);
use File::Temp qw(tempdir);
use HTTP::Request;
use IO::Socket::INET;
use LWP::UserAgent;
use Lenz::Test qw(:DEFAULT psql);

my $env = stack_env();
my $top = top_dir();
my $dir = tempdir(CLEANUP => 1);
my $J = JSON::PP->new->canonical;
my $MiB = 1024 * 1024;
my $PART = 10 * $MiB;
my $ua = LWP::UserAgent->new(timeout => 120, max_redirect => 0);
my $s3env = "--env $env->{LENZ_STACK_DIR}/stack.env";
local $ENV{LENZ_MASTER_KEY_FILE} = "$env->{LENZ_STACK_DIR}/master.key";
my $ctl = "$top/build/lenzctl -e $env->{LENZ_STACK_DIR}/stack.env";
my $vars = Apache::Test::vars();
my $base = "http://$vars->{servername}:$vars->{port}";

sub rnd {
    my ($n) = @_;
    my $b = '';
    open my $fh, '<:raw', '/dev/urandom' or die;
    read($fh, $b, $n) if $n;
    return $b;
}

sub get { my ($path, @h) = @_; $ua->request(HTTP::Request->new(GET => "$base$path", [@h])) }

# --- Whole files of edge sizes ------------------------------------------------------------
my @sizes = (0, 1, 65535, 65536, 65537, $PART - 1, $PART, $PART + 1, 100 * $MiB);
for my $size (@sizes) {
    my $data = rnd($size);
    my $up = guest_upload($data, name => "size-$size.bin");
    my $res = get("/download/$up->{token}");
    is($res->code, 200, "size $size: 200");
    is(length($res->content), $size, "size $size: every byte");
    is(sha256_hex($res->content), sha256_hex($data), "size $size: SHA-256 matches");
}

# --- Ranges -------------------------------------------------------------------------------------
my $data = rnd(3 * $MiB + 12345);
my $up = guest_upload($data, name => "Grüße \"quoted\".bin");
my $url = "/download/$up->{token}";
my $bad = 0;
srand(42);
for (1 .. 200) {
    my $a = int(rand(length $data));
    my $b = $a + int(rand(length($data) - $a));
    my $res = get($url, Range => "bytes=$a-$b");
    $bad++ unless $res->code == 206 && $res->content eq substr($data, $a, $b - $a + 1)
        && $res->header('Content-Range') eq "bytes $a-$b/" . length($data);
}
is($bad, 0, '200 random ranges: 206, the exact slice, Content-Range');
my $res = get($url, Range => 'bytes=-100');
is($res->content, substr($data, -100), 'suffix range');
$res = get($url, Range => 'bytes=0-1,5-6');
is($res->code, 200, 'several ranges: the whole file (200)');
is(length $res->content, length $data, '... all of it');
$res = get($url, Range => 'bytes=' . length($data) . '-');
is($res->code, 416, 'unsatisfiable range: 416');
is($res->header('Content-Range'), 'bytes */' . length($data), '... with Content-Range: bytes */size');
is(get($url, Range => 'bytes=abc')->code, 416, 'garbage range: 416');
is(get($url, Range => 'lines=1-2')->code, 200, 'another unit: ignored (200)');

# --- HTTP semantics --------------------------------------------------------------------------------
$res = get($url);
my $etag = $res->header('ETag');
like($etag, qr/^"[0-9a-f-]{36}"$/, 'strong ETag');
ok($res->header('Last-Modified'), 'Last-Modified');
is($res->header('Accept-Ranges'), 'bytes', 'Accept-Ranges: bytes');
is($res->header('Content-Disposition'),
   q{attachment; filename="Gr____e _quoted_.bin"; filename*=UTF-8''Gr%C3%BC%C3%9Fe%20%22quoted%22.bin},
   'Content-Disposition with an RFC 6266 filename*');
is($res->header('X-Content-Type-Options'), 'nosniff', 'nosniff');
is(get($url, 'If-None-Match' => $etag)->code, 304, 'If-None-Match: 304');
$res = get($url, Range => 'bytes=0-9', 'If-Range' => $etag);
is($res->code, 206, 'If-Range with the current ETag: the range');
$res = get($url, Range => 'bytes=0-9', 'If-Range' => '"something-else"');
is($res->code, 200, 'If-Range with another ETag: the whole file');
$res = $ua->request(HTTP::Request->new(HEAD => "$base$url"));
is($res->code, 200, 'HEAD: 200');
is($res->header('Content-Length'), length($data), '... Content-Length');
is($res->content, '', '... no body');
$up = guest_upload('<html><script>alert(1)</script></html>', name => 'x.html', content_type => 'text/html');
$res = get("/download/$up->{token}");
like($res->header('Content-Disposition'), qr/^attachment;/, 'HTML is only ever an attachment');

# --- A tampered object ----------------------------------------------------------------------------
$data = rnd(10 * 65536);
$up = guest_upload($data, name => 'tamper.bin');
my $fid = $up->{file_id};
system("/usr/bin/python3 $top/scripts/s3-admin.py $s3env get files/$fid $dir/obj") == 0 or die;
my $obj = do { local $/; open my $fh, '<:raw', "$dir/obj" or die; <$fh> };
substr($obj, 4 * 65552 + 10, 1) ^= "\x01";
open my $fh, '>:raw', "$dir/bad" or die; print $fh $obj; close $fh;
system("/usr/bin/python3 $top/scripts/s3-admin.py $s3env put files/$fid $dir/bad") == 0 or die;
expect_log('LENZ2110');
my $sock = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$vars->{port}") or die;
print $sock "GET /download/$up->{token} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
my $raw = do { local $/; <$sock> };
my ($head, $body) = split /\r\n\r\n/, $raw, 2;
like($head, qr{^HTTP/1\.1 200}, 'tampered segment 4: the response had started (200)');
is(length($body), 4 * 65536, '... and stops after exactly the four good segments');
is($body, substr($data, 0, 4 * 65536), '... every byte sent is genuine');
like(error_log_since(0), qr/LENZ2110: file \Q$fid\E: the stored object failed authentication/,
     '... logged with the file id');
like(http_get('/metrics')->content, qr/^lenz_aead_auth_failures_total [1-9]/m, '... and counted');
substr($obj, 4 * 65552 + 10, 1) ^= "\x01";
substr($obj, 5, 1) ^= "\x01";
open $fh, '>:raw', "$dir/bad" or die; print $fh $obj; close $fh;
system("/usr/bin/python3 $top/scripts/s3-admin.py $s3env put files/$fid $dir/bad") == 0 or die;
$res = get("/download/$up->{token}");
is($res->code, 502, 'tampered first segment: nothing sent, 502');
is(json_of($res)->{type}, 'urn:lenz:problem:integrity-error', '... integrity-error');

# --- Password gate and grants -------------------------------------------------------------------
$data = rnd(1000);
$up = guest_upload($data, name => 'secret.txt', password => 'open sesame');
$url = "/download/$up->{token}";
$res = get($url);
is($res->code, 401, 'password link without a grant: 401');
is_deeply(json_of($res)->{requires}, ['password'], '... naming what is required');
is(json_of($res)->{files}[0]{name}, 'secret.txt', '... with what is behind it');
$res = get($url, Accept => 'text/html');
is($res->code, 401, 'a browser gets the gate page');
like($res->content, qr{<label for="password">}, '... with a labelled password field');
$res = post_json("$url/unlock", { password => 'wrong' });
is($res->code, 403, 'wrong password: 403');
$res = post_json("$url/unlock", { password => 'open sesame' });
is($res->code, 200, 'right password: 200');
my $grant = json_of($res)->{grant};
ok($grant, '... a grant');
my ($cookie) = ($res->header('Set-Cookie') =~ /^(lenz_grant=[^;]+)/);
like($res->header('Set-Cookie'), qr{Path=/download/\Q$up->{token}\E; HttpOnly}, '... and a cookie for this link only');
is(get($url, Cookie => $cookie)->content, $data, 'the cookie opens it');
is(get("$url?grant=$grant")->content, $data, '?grant= opens it');
is(get($url, Authorization => "Grant $grant")->content, $data, 'Authorization: Grant opens it');
my $other = guest_upload('x', name => 'other.txt', password => 'open sesame');
is(get("/download/$other->{token}", Authorization => "Grant $grant")->code, 401,
   "a grant for one link does not open another");
$res = http_req('POST', "$url/unlock", ['Content-Type' => 'application/x-www-form-urlencoded', Origin => $base],
                'password=open+sesame');
is($res->code, 303, 'the browser form: 303 back to the link');

# --- Counting (what a limit withstands: t/download_limits.t) --------------------------------
my $email = sprintf('sharer-%d%d@example.org', time, $$);
`echo 'correct horse battery' | $ctl create-user $email --password-stdin 2>&1`;
my $tk = json_of(post_json('/api/v1/auth/login', { email => $email, password => 'correct horse battery' }));
my @auth = (Authorization => "Bearer $tk->{access_token}");
# 16 MiB: more than socket buffers hold, so an abandoned download is seen.
$data = rnd(16 * $MiB);
my $i = json_of(post_json('/api/v1/uploads/encrypted/initiate', { filename => 'mine.bin', size => length $data }, @auth));
for my $n (1 .. $i->{part_count}) {
    http_req('POST', "/api/v1/uploads/encrypted/upload-part?token=$i->{token}&part=$n", [@auth],
             substr($data, ($n - 1) * $i->{part_size}, $i->{part_size}));
}
my $mine = json_of(post_json('/api/v1/uploads/encrypted/complete', { token => $i->{token} }, @auth));
$res = post_json('/api/v1/links', { file_id => $mine->{file_id}, max_downloads => 2, expires_in => 3600 }, @auth);
is($res->code, 201, 'links API: create');
my $link = json_of($res);
ok($link->{token} && $link->{url} =~ m{/download/\Q$link->{token}\E$}, '... token and url');
is($link->{max_downloads}, 2, '... max_downloads');
$url = "/download/$link->{token}";
$ua->request(HTTP::Request->new(HEAD => "$base$url"));
is(json_of(get("$url/info"))->{downloads_left}, 2, 'HEAD does not count');
get($url, Range => 'bytes=0-' . (8 * $MiB - 1));
is(json_of(get("$url/info"))->{downloads_left}, 1, 'half a file from its first byte starts a download');
get($url, Range => 'bytes=' . (8 * $MiB) . '-');
is(json_of(get("$url/info"))->{downloads_left}, 1, '... the other half takes no second one');
$sock = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$vars->{port}") or die;
print $sock "GET $url HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
sysread $sock, my $buf, 1000;
select undef, undef, undef, 0.5;
close $sock;
# (until the server sees the client gone, the whole file stays reserved)
for (1 .. 100) { last if get("$url/info")->code == 200; select undef, undef, undef, 0.1 }
my $after = json_of(get("$url/info"));
is($after->{downloads_left}, 0, 'a download the client abandoned counts: taken before its first byte');
ok($after->{bytes_left} > 0 && $after->{bytes_left} < 16 * $MiB, '... what it did not send is left for a resume');
is(get($url)->code, 410, 'the third whole download: the limit is reached (410)');

$res = post_json('/api/v1/links', { file_id => $mine->{file_id} }, @auth);
my $l2 = json_of($res);
ok(!defined $l2->{max_downloads}, 'a link without a limit: max_downloads null');
$res = http_req('GET', '/api/v1/links', [@auth]);
my @mine = @{ json_of($res)->{links} };
ok((grep { $_->{id} eq $l2->{id} } @mine), 'GET /api/v1/links lists it');
ok(!(grep { exists $_->{token} } @mine), '... without tokens');
$res = http_req('PATCH', "/api/v1/links/$l2->{token}", ['Content-Type' => 'application/json', @auth],
                '{"max_downloads":5}');
is(json_of($res)->{max_downloads}, 5, 'PATCH changes the limit');
is(http_req('DELETE', "/api/v1/links/$l2->{token}", [@auth])->code, 204, 'DELETE revokes: 204');
is(get("/download/$l2->{token}")->code, 410, 'a revoked link: 410');
is(http_req('DELETE', "/api/v1/links/$l2->{token}", [@auth])->code, 404, 'revoking again: 404');
$res = post_json('/api/v1/links', { file_id => $up->{file_id} }, @auth);
is($res->code, 404, "a link on someone else's file: 404");
# Another member sees none of it and can change none of it.
my $l3 = json_of(post_json('/api/v1/links', { file_id => $mine->{file_id} }, @auth));
(my $eve = $email) =~ s/^sharer/eve/;
`echo 'correct horse battery' | $ctl create-user $eve --password-stdin 2>&1`;
my @eve = bearer(json_of(post_json('/api/v1/auth/login', { email => $eve,
                                                           password => 'correct horse battery' }))->{access_token});
is_deeply(json_of(http_req('GET', '/api/v1/links', [@eve]))->{links}, [], "another member lists none of her links");
for my $ref ($l3->{token}, $l3->{id}) {
    is(http_req('PATCH', "/api/v1/links/$ref", ['Content-Type' => 'application/json', @eve], '{"max_downloads":1}')->code,
       404, "... cannot change her link (by " . ($ref eq $l3->{id} ? 'id' : 'token') . "): 404");
    is(http_req('DELETE', "/api/v1/links/$ref", [@eve])->code, 404, '... nor revoke it: 404');
}
is(post_json('/api/v1/links', { transfer_id => $mine->{transfer_id} }, @eve)->code, 404,
   '... nor link her transfer: 404');
is(get("/download/$l3->{token}")->code, 200, '... and the link still works');
is(post_json('/api/v1/links', { file_id => $mine->{file_id}, expires_in => 99999999 }, @auth)->code, 400,
   'beyond the longest allowed expiry: 400');
is(post_json('/api/v1/links', { file_id => $mine->{file_id}, transfer_id => $mine->{transfer_id} }, @auth)->code,
   400, 'both a file and a transfer: 400');

# --- Transfers as ZIP ---------------------------------------------------------------------------------
my @files = (['Grüße.txt', rnd(5000)], ['photo.jpg', rnd(300000)], ['empty', '']);
my $first = guest_upload($files[0][1], name => $files[0][0]);
guest_upload($_->[1], name => $_->[0], transfer_id => $first->{transfer_id}) for @files[1, 2];
$res = get("/download/$first->{token}");
is($res->code, 200, 'a 3-file transfer: 200');
is($res->header('Content-Type'), 'application/zip', '... as a ZIP');
open $fh, '>:raw', "$dir/t.zip" or die; print $fh $res->content; close $fh;
my $test = `unzip -t $dir/t.zip 2>&1`;
like($test, qr/No errors detected/, '... that unzip -t accepts');
mkdir "$dir/x";
system("cd $dir/x && unzip -q ../t.zip") == 0 or diag 'unzip failed';
for (@files) {
    is(sha256_hex(do { local $/; open my $f, '<:raw', "$dir/x/$_->[0]" or die "$_->[0]: $!"; <$f> } // ''),
       sha256_hex($_->[1]), "... $_->[0] matches");
}
my $one = json_of(get("/download/$first->{token}/info"))->{files}[1]{id};
is(get("/download/$first->{token}/files/$one")->content, $files[1][1], 'one file of a transfer on its own');

# --- Files gone from behind a link (the link and its files come in one query) ---------------------
my @pair = (rnd(1000), rnd(2000));
my $p1 = guest_upload($pair[0], name => 'stays.bin');
my $p2 = guest_upload($pair[1], name => 'goes.bin', transfer_id => $p1->{transfer_id});
is(scalar @{ json_of(get("/download/$p1->{token}/info"))->{files} }, 2, 'a 2-file transfer lists 2 files');
psql("UPDATE files SET state = 'deleted' WHERE id = '$p2->{file_id}'");
my $left = json_of(get("/download/$p1->{token}/info"))->{files};
is(join(',', map { $_->{name} } @$left), 'stays.bin', '... one deleted: the other is left');
$res = get("/download/$p1->{token}");
ok($res->code == 200 && $res->content eq $pair[0], '... and is served on its own (no ZIP of one)');
psql("UPDATE files SET state = 'deleted' WHERE id = '$p1->{file_id}'");
$res = get("/download/$p1->{token}");
is($res->code, 410, 'both deleted: 410');
like($res->content, qr/files behind this link are gone/, '... saying the files are gone');

# --- Plain files: a presigned redirect --------------------------------------------------------------
$data = rnd(70000);
$up = guest_upload($data, plain => 1, name => 'plain.bin');
$res = get("/download/$up->{token}");
is($res->code, 302, 'a plain file: 302');
like($res->header('Location'), qr/X-Amz-Signature=.*/, '... to a presigned S3 URL');
like($res->header('Location'), qr/response-content-disposition=attachment/, '... that sets the disposition');
$res = $ua->request(HTTP::Request->new(GET => $res->header('Location')));
is($res->content, $data, '... which serves the bytes');

# --- Bad tokens ------------------------------------------------------------------------------------------
is(get('/download/' . ('A' x 43))->code, 404, 'an unknown token: 404');
is(get('/download/short')->code, 404, 'a malformed token: 404');
is(get('/download/' . ('A' x 43) . '/info')->code, 404, '... also for info');
is(post_json('/download/' . ('A' x 43) . '/unlock', { password => 'x' })->code, 404, '... and unlock');
$res = get("/download/$first->{token}", Range => 'bytes=0-1');
is($res->code, 200, 'a Range on a ZIP is ignored (200)');

done_testing();
