# Uploads through the real S3 server: a 64 MiB file in 7 parts sent out of
# order on both paths (plain: browser-direct presigned PUTs; encrypted:
# streamed through httpd), resume, abort, members over /api/v1, a part sent
# to a second httpd instance, and every bad input the issue lists.
use strict;
use warnings FATAL => 'all';
use Test::More tests => 109;
use JSON::PP;
use Digest::SHA qw(sha256_hex);
use File::Temp qw(tempdir);
use HTTP::Request;
use LWP::UserAgent;
use Lenz::Test;

my $env = stack_env();
my $top = top_dir();
my $dir = tempdir(CLEANUP => 1);
my $J = JSON::PP->new->canonical;
my $MiB = 1024 * 1024;
my $PART = 10 * $MiB;
my $ua = LWP::UserAgent->new(timeout => 120);
my $s3env = "--env $env->{LENZ_STACK_DIR}/stack.env";
local $ENV{LENZ_MASTER_KEY_FILE} = "$env->{LENZ_STACK_DIR}/master.key";
my $ctl = "$top/build/lenzctl -e $env->{LENZ_STACK_DIR}/stack.env";

sub psql { my $o = `psql -X -q -A -t -d '$env->{LENZ_PG_CONNINFO}' -c "$_[0]" 2>&1`; chomp $o; $o }
sub part_of { my ($data, $n) = @_; substr($$data, ($n - 1) * $PART, $PART) }
sub put_part {
    my ($base, $token, $n, $body, @h) = @_;
    my $q = "token=$token&part=$n";
    return http_req('POST', "$base/encrypted/upload-part?$q", [@h], $body);
}
sub s3_get {
    my ($key) = @_;
    my $out = `/usr/bin/python3 $top/scripts/s3-admin.py $s3env get '$key' $dir/obj 2>&1`;
    return $? == 0 ? do { local $/; open my $fh, '<:raw', "$dir/obj" or die; <$fh> } : undef;
}

# 64 MiB of random bytes: 7 parts of 10 MiB (the last 4 MiB).
my $data = do { open my $fh, '<:raw', '/dev/urandom' or die; read $fh, my $b, 64 * $MiB; $b };
my $want = sha256_hex($data);
my @order = (7, 3, 1, 5, 2, 6, 4);

# --- Guest, encrypted ---------------------------------------------------------
my $res = post_json('/upload/guest/encrypted/initiate',
                    { filename => 'holiday photos.zip', size => length $data, content_type => 'application/zip' });
is($res->code, 201, 'encrypted initiate: 201');
my $init = json_of($res);
ok(defined $init->{$_}, "... has $_") for qw(token part_size part_count expires_at);
is($init->{part_size}, $PART, '... 10 MiB parts');
is($init->{part_count}, 7, '... 7 parts');
like($init->{expires_at}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, '... expiry in ISO 8601');
my $tok = $init->{token};
my ($all, $digests) = (1, 1);
my %nodigest = (3 => 1, 7 => 1);    # sent without X-Part-SHA256
for my $n (@order) {
    my $p = part_of(\$data, $n);
    $res = put_part('/upload/guest', $tok, $n, $p, $nodigest{$n} ? () : ('X-Part-SHA256' => sha256_hex($p)));
    my $j = $res->code == 200 ? json_of($res) : {};
    $all = 0 unless $res->code == 200 && $j->{part} == $n && $j->{size} == length($p) && $j->{etag};
    $digests = 0 unless $nodigest{$n} ? !exists $j->{sha256} : ($j->{sha256} // '') eq sha256_hex($p);
}
ok($all, 'seven parts out of order: 200 {part, size, etag} each');
ok($digests, '... "sha256" answered for the five sent with X-Part-SHA256, none for the other two');
$res = http_get("/upload/guest/parts?token=$tok");
is($res->code, 200, 'parts received (resume)');
is_deeply([map { $_->{part} } @{ json_of($res)->{parts} }], [1 .. 7], '... all seven');
$res = post_json('/upload/guest/encrypted/complete', { token => $tok });
is($res->code, 201, 'encrypted complete: 201');
my $done = json_of($res);
ok($done->{file_id} && $done->{token}, '... file_id and token');
like($done->{download_url}, qr{^http://127\.0\.0\.1:\d+/download/\Q$done->{token}\E$}, '... download_url');
is(post_json('/upload/guest/encrypted/complete', { token => $tok })->code, 409, 'a second complete: 409');
is(psql("SELECT state || ' ' || size || ' ' || storage FROM files WHERE id = '$done->{file_id}'"),
   "ready 67108864 enc", 'recorded: ready, size, encrypted');
is(psql("SELECT string_agg(part || ':' || (sha256 IS NOT NULL)::text, ' ' ORDER BY part) FROM upload_parts "
        . "WHERE file_id = '$done->{file_id}'"), '1:true 2:true 3:false 4:true 5:true 6:true 7:false',
   '... with the digest of each part that came with one (LenzUploadPartDigest client)');
my $obj = s3_get("files/$done->{file_id}");
is(length($obj // ''), length($data) + 16 * 1024, 'the S3 object: plaintext + 16 bytes per 64 KiB segment');
is(index($obj // '', substr($data, 123456, 4096)), -1, '... holds no plaintext');
my $plain = `$ctl decrypt $done->{file_id}`;
is(sha256_hex($plain), $want, '... and decrypts (lenzctl) to the original');
undef $plain;

# --- Guest, plain (parts straight to S3) ------------------------------------------
$res = post_json('/upload/guest/initiate', { filename => 'raw.bin', size => length $data });
is($res->code, 201, 'plain initiate: 201');
$init = json_of($res);
ok($init->{upload_id}, '... upload_id');
is($init->{part_count}, 7, '... 7 parts');
$tok = $init->{token};
my @etags;
$all = 1;
for my $n (@order) {
    $res = http_get("/upload/guest/presigned-url?token=$tok&part=$n");
    my $j = $res->code == 200 ? json_of($res) : {};
    $all = 0 unless $j->{method} && $j->{method} eq 'PUT' && $j->{url} =~ /X-Amz-Signature=/;
    my $put = $ua->request(HTTP::Request->new(PUT => $j->{url}, [], part_of(\$data, $n)));
    $all = 0 unless $put->code == 200 && $put->header('ETag');
    push @etags, { part => $n, etag => $put->header('ETag') };
}
ok($all, 'presigned URL per part; the parts PUT straight to S3');
my @short = grep { $_->{part} != 4 } @etags;
$res = post_json('/upload/guest/complete', { token => $tok, parts => \@short });
is($res->code, 400, 'complete with a part missing: 400');
is(json_of($res)->{missing_parts}, '4', '... naming it');
$res = post_json('/upload/guest/complete', { token => $tok,
                 parts => [ map { { %$_, etag => $_->{part} == 2 ? '"0000"' : $_->{etag} } } @etags ] });
is($res->code, 400, 'complete with a wrong ETag: 400');
$res = post_json('/upload/guest/complete', { token => $tok, parts => [reverse @etags] });
is($res->code, 201, 'plain complete (parts listed in any order): 201');
$done = json_of($res);
$obj = s3_get("files/$done->{file_id}");
is(sha256_hex($obj // ''), $want, 'the S3 object equals the plaintext');
undef $obj;

# --- Plain parts bound to their SHA-256 (S3 checks the bytes) -----------------------
my $bound = substr($data, 0, 1 * $MiB);
my $bsha = sha256_hex($bound);
$init = json_of(post_json('/upload/guest/initiate', { filename => 'bound.bin', size => length $bound }));
$res = http_get("/upload/guest/presigned-url?token=$init->{token}&part=1&sha256=" . uc $bsha);
is($res->code, 200, 'a part URL bound to a SHA-256: 200');
my $bj = json_of($res);
is_deeply($bj->{headers}, { 'x-amz-content-sha256' => $bsha }, '... naming the header to send (lower-case hex)');
like($bj->{url}, qr/X-Amz-SignedHeaders=content-length%3Bhost%3Bx-amz-content-sha256/, '... signed into the URL');
my $wrongbytes = $bound;
substr($wrongbytes, 1000, 1) ^= "\x01";
$res = $ua->request(HTTP::Request->new(PUT => $bj->{url}, ['x-amz-content-sha256' => $bsha], $wrongbytes));
is($res->code, 400, 'other bytes to the bound URL: S3 refuses them (400)');
like($res->content, qr/XAmzContentSHA256Mismatch/, '... XAmzContentSHA256Mismatch');
$res = $ua->request(HTTP::Request->new(PUT => $bj->{url}, [], $bound));
is($res->code, 403, '... the right bytes without the header: 403');
$res = $ua->request(HTTP::Request->new(PUT => $bj->{url}, ['x-amz-content-sha256' => $bsha], $bound));
is($res->code, 200, '... the right bytes with it: 200');
my $betag = $res->header('ETag');
is(http_get("/upload/guest/presigned-url?token=$init->{token}&part=1&sha256=xyz")->code, 400,
   'a malformed sha256 for a part URL: 400');
is(post_json('/upload/guest/complete', { token => $init->{token},
                                         parts => [{ part => 1, etag => $betag, sha256 => 'zz' }] })->code,
   400, 'complete with a malformed sha256: 400');
$res = post_json('/upload/guest/complete', { token => $init->{token},
                                             parts => [{ part => 1, etag => $betag, sha256 => $bsha }] });
is($res->code, 201, 'complete reporting the digest: 201');
is(psql("SELECT encode(sha256, 'hex') FROM upload_parts WHERE file_id = '" . json_of($res)->{file_id} . "'"),
   $bsha, '... which the file records per part');

# --- Resume and abort ---------------------------------------------------------------
my $small = substr($data, 0, 15 * $MiB);
$init = json_of(post_json('/upload/guest/encrypted/initiate', { filename => 'r.bin', size => length $small }));
$tok = $init->{token};
is(put_part('/upload/guest', $tok, 2, part_of(\$small, 2))->code, 200, 'resume: part 2 of 2 sent');
$res = http_get("/upload/guest/parts?token=$tok");
is_deeply([map { $_->{part} } @{ json_of($res)->{parts} }], [2], '... the server says part 2 arrived');
is(put_part('/upload/guest', $tok, 1, part_of(\$small, 1))->code, 200, '... the rest is sent');
is(post_json('/upload/guest/encrypted/complete', { token => $tok })->code, 201, '... and completed');

$init = json_of(post_json('/upload/guest/encrypted/initiate', { filename => 'a.bin', size => length $small }));
$tok = $init->{token};
put_part('/upload/guest', $tok, 1, part_of(\$small, 1));
is(post_json('/upload/guest/abort', { token => $tok })->code, 204, 'abort: 204');
is(post_json('/upload/guest/encrypted/complete', { token => $tok })->code, 409, '... complete after it: 409');
is(psql("SELECT state FROM files WHERE id = '$init->{file_id}'"), 'deleted', '... the file is marked deleted');
is(post_json('/upload/guest/abort', { token => $tok })->code, 409, '... a second abort: 409');

# --- Members, over /api/v1 with a bearer token -----------------------------------------
my $email = sprintf('uploader-%d%d@example.org', time, $$);
`echo 'correct horse battery' | $ctl create-user $email --password-stdin 2>&1`;
my $tk = json_of(post_json('/api/v1/auth/login', { email => $email, password => 'correct horse battery' }));
my @auth = (Authorization => "Bearer $tk->{access_token}");
$res = post_json('/api/v1/uploads/encrypted/initiate', { filename => 'm.bin', size => length $small }, @auth);
is($res->code, 201, 'member initiate over the API');
my $mtok = json_of($res)->{token};
is(post_json('/api/v1/uploads/encrypted/initiate', { filename => 'm.bin', size => 1 })->code, 401,
   '... needs the bearer token');
is(put_part('/api/v1/uploads', $mtok, 1, part_of(\$small, 1), @auth)->code, 200, 'member part 1');
is(put_part('/upload/guest', $mtok, 2, part_of(\$small, 2))->code, 403,
   "a member's token on the guest route: 403");
my $other = sprintf('other-%d%d@example.org', time, $$);
`echo 'correct horse battery' | $ctl create-user $other --password-stdin 2>&1`;
my $tk2 = json_of(post_json('/api/v1/auth/login', { email => $other, password => 'correct horse battery' }));
is(put_part('/api/v1/uploads', $mtok, 2, part_of(\$small, 2), Authorization => "Bearer $tk2->{access_token}")->code,
   403, "another member's token: 403");

# Any httpd takes any part: part 2 goes to a second instance.
my ($base2, $stop2) = second_httpd();
my $req = HTTP::Request->new(POST => "$base2/api/v1/uploads/encrypted/upload-part?token=$mtok&part=2",
                             [@auth], part_of(\$small, 2));
$res = $ua->request($req);
is($res->code, 200, 'a part sent to a second httpd instance is accepted');
$stop2->();
$res = post_json('/api/v1/uploads/encrypted/complete', { token => $mtok }, @auth);
is($res->code, 201, 'member complete');
my $mdone = json_of($res);
is(psql("SELECT owner_id FROM files WHERE id = '$mdone->{file_id}'"),
   psql("SELECT id FROM users WHERE email = '$email'"), '... the file is the member\'s');
is(sha256_hex(`$ctl decrypt $mdone->{file_id}`), sha256_hex($small), '... and decrypts to what was sent');

# --- Bad input --------------------------------------------------------------------------
$init = json_of(post_json('/upload/guest/encrypted/initiate', { filename => 'b.bin', size => length $small }));
$tok = $init->{token};
for my $n (0, 3, 10001, 'x', '') {
    $res = put_part('/upload/guest', $tok, $n, 'x');
    is($res->code, 400, "part '$n': 400");
}
is(json_of(put_part('/upload/guest', $tok, 0, 'x'))->{field}, 'part', '... naming the field');
$res = put_part('/upload/guest', $tok, 1, substr($small, 0, 1000));
is($res->code, 400, 'a body shorter than the part (Content-Length): 400');
is(json_of($res)->{type}, 'urn:lenz:problem:size-mismatch', '... size-mismatch');
my $chunks = sub { my @c = @_; sub { shift @c } };
$res = $ua->request(HTTP::Request->new(POST => Apache::TestRequest::resolve_url(
           "/upload/guest/encrypted/upload-part?token=$tok&part=1"), [],
           $chunks->(substr($small, 0, 4 * $MiB), substr($small, 4 * $MiB, 4 * $MiB))));
is($res->code, 400, 'a chunked body that ends early: 400');
$res = $ua->request(HTTP::Request->new(POST => Apache::TestRequest::resolve_url(
           "/upload/guest/encrypted/upload-part?token=$tok&part=1"), [],
           $chunks->(part_of(\$small, 1), 'one byte too many')));
is($res->code, 400, 'a chunked body that goes on too long: 400');
is(json_of($res)->{type}, 'urn:lenz:problem:size-mismatch', '... size-mismatch');
$res = put_part('/upload/guest', $tok, 1, part_of(\$small, 1), 'X-Part-SHA256' => sha256_hex('something else'));
is($res->code, 400, 'a part whose SHA-256 differs: 400');
is(json_of($res)->{type}, 'urn:lenz:problem:checksum-mismatch', '... checksum-mismatch');
$res = put_part('/upload/guest', $tok, 1, part_of(\$small, 1), 'X-Part-SHA256' => 'zz');
is($res->code, 400, 'a malformed checksum: 400');
$res = http_get("/upload/guest/parts?token=$tok");
is_deeply(json_of($res)->{parts}, [], 'none of those parts was recorded');
$res = post_json('/upload/guest/encrypted/complete', { token => $tok });
is($res->code, 400, 'complete with no parts: 400');
like(json_of($res)->{missing_parts}, qr/^1, 2$/, '... missing 1, 2');

(my $forged = $tok) =~ s/^(.{20})(.)/$1 . ($2 eq 'A' ? 'B' : 'A')/e;
is(put_part('/upload/guest', $forged, 1, 'x')->code, 403, 'a forged token: 403');
is(put_part('/upload/guest', 'not-a-token', 1, 'x')->code, 403, 'a garbage token: 403');
is(put_part('/upload/guest', '', 1, 'x')->code, 400, 'no token: 400');
is(http_get("/upload/guest/presigned-url?token=$tok&part=1")->code, 400,
   'presigned URL for an encrypted upload: 400');
$init = json_of(post_json('/upload/guest/initiate', { filename => 'p.bin', size => 10 }));
is(put_part('/upload/guest', $init->{token}, 1, 'x' x 10)->code, 400, 'upload-part on a plain upload: 400');
is(http_get("/upload/guest/presigned-url?token=$init->{token}&part=2")->code, 400, 'presigned URL for part 2 of 1: 400');

my $files_before = psql('SELECT count(*) FROM files');
my @bad = (
    [ '{"filename":', 400, 'truncated JSON' ],
    [ { size => 10 }, 400, 'no filename' ],
    [ { filename => 'x' x 256, size => 10 }, 400, 'a 256-byte filename' ],
    [ { filename => 'a/b', size => 10 }, 400, 'a slash in the filename' ],
    [ { filename => 'a\\b', size => 10 }, 400, 'a backslash in the filename' ],
    [ { filename => "a\x01b", size => 10 }, 400, 'a control character in the filename' ],
    [ { filename => '..', size => 10 }, 400, 'the filename ..' ],
    [ { filename => 'a', size => -1 }, 400, 'a negative size' ],
    [ { filename => 'a', size => '10' }, 400, 'a size as a string' ],
    [ { filename => 'a', size => 2 * 1024 * $MiB }, 413, 'over the guest size limit' ],
    [ { filename => 'a', size => 10, content_type => 'text/html; x=<y>' }, 400, 'a bad content type' ],
    [ { filename => 'a', size => 10, recipients => ['not an address'] }, 400, 'a bad recipient' ],
    [ { filename => 'a', size => 10, recipients => 'a@b.org' }, 400, 'recipients not an array' ],
    [ { filename => 'a', size => 10, transfer_id => 'nope' }, 400, 'a malformed transfer id' ],
    [ { filename => 'a', size => 10, transfer_id => '00000000-0000-0000-0000-000000000000' }, 404,
      'an unknown transfer' ],
);
for my $b (@bad) {
    $res = post_json('/upload/guest/encrypted/initiate', $b->[0]);
    is($res->code, $b->[1], "initiate, $b->[2]: $b->[1]");
}
like(json_of(post_json('/upload/guest/encrypted/initiate', { filename => 'a/b', size => 1 }))->{detail},
     qr/^filename: /, 'the problem names the field');
is(psql('SELECT count(*) FROM files'), $files_before, 'no refused initiate left a file row behind');

# --- Transfers: several files, one link ---------------------------------------------------
$res = post_json('/upload/guest/encrypted/initiate', { filename => 'one.txt', size => 5,
                 recipients => ['friend@example.org'], password => 'open sesame' });
my $t1 = json_of($res);
$res = post_json('/upload/guest/encrypted/initiate', { filename => 'two.txt', size => 5,
                 transfer_id => $t1->{transfer_id} });
is($res->code, 201, 'a second file joins the transfer');
my $t2 = json_of($res);
is($t2->{transfer_id}, $t1->{transfer_id}, '... same transfer');
put_part('/upload/guest', $t1->{token}, 1, 'hello');
put_part('/upload/guest', $t2->{token}, 1, 'world');
my $c1 = json_of(post_json('/upload/guest/encrypted/complete', { token => $t1->{token} }));
my $c2 = json_of(post_json('/upload/guest/encrypted/complete', { token => $t2->{token} }));
is($c1->{token}, $c2->{token}, 'both files answer with the one share link');
is(psql("SELECT count(*) FROM files WHERE transfer_id = '$t1->{transfer_id}' AND state = 'ready'"), 2,
   '... two ready files in the transfer');
like(psql("SELECT password_hash FROM links l JOIN transfers t ON t.link_id = l.id WHERE t.id = '$t1->{transfer_id}'"),
     qr/^\$scrypt\$/, '... the link has the password gate (hashed)');
is(psql("SELECT email FROM link_recipients r JOIN transfers t ON t.link_id = r.link_id WHERE t.id = '$t1->{transfer_id}'"),
   'friend@example.org', '... and the recipient gate');
ok(psql("SELECT expires_at > now() + interval '6 days' FROM files WHERE id = '$c1->{file_id}'") eq 't',
   "... guest files expire (in 7 days)");
for (3 .. 5) {
    post_json('/upload/guest/encrypted/initiate', { filename => "f$_", size => 1, transfer_id => $t1->{transfer_id} });
}
$res = post_json('/upload/guest/encrypted/initiate', { filename => 'f6', size => 1, transfer_id => $t1->{transfer_id} });
is($res->code, 409, 'a sixth file in a guest transfer (limit 5): 409');
$res = post_json('/api/v1/uploads/encrypted/initiate', { filename => 'x', size => 1, transfer_id => $t1->{transfer_id} }, @auth);
is($res->code, 404, "a member cannot add to a guest's transfer: 404");

# Members' quota (10G by default): far beyond it is refused at initiate.
$res = post_json('/api/v1/uploads/encrypted/initiate', { filename => 'big', size => 11 * 1024 * $MiB }, @auth);
is($res->code, 413, 'over the member quota: 413');
is(json_of($res)->{type}, 'urn:lenz:problem:quota-exceeded', '... quota-exceeded');
