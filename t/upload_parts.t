# Upload parts (security review, issue 15; docs/security.md, "Upload parts"):
#
#   - a presigned part URL is bound to the part's planned length: RGW
#     refuses a longer, a shorter and a chunked body (each measured here
#     against the real server), and takes the right one;
#   - an encrypted part sent again is sealed under a nonce of its own
#     (format 2, docs/format.md): the ciphertexts of three attempts at one
#     part, read on their way to S3 by the recording proxy
#     (t/faults/s3proxy.py, through the lenz_faults virtual host), share no
#     keystream, the recorded nonce prefixes differ, and the file reads
#     back as the attempt S3 holds; a recorded attempt that is not the one
#     S3 holds is dropped at complete and sent again; an upload begun as
#     format 1 still completes and reads.
use strict;
use warnings FATAL => 'all';
use Test::More tests => 35;
use Digest::SHA qw(sha256_hex);
use HTTP::Request;
use LWP::UserAgent;
use JSON::PP;
use Lenz::Test qw(:DEFAULT psql raw_request random_bytes vhost_url guest_upload);
use Lenz::FaultProxy;

my $MiB = 1024 * 1024;
my $PART = 10 * $MiB;                 # LenzUploadPartSize of the test configuration
my $ua = LWP::UserAgent->new(timeout => 120);
$SIG{PIPE} = 'IGNORE';                # RGW may answer before reading a refused body

# --- Item 5: the part's length is signed ------------------------------------------
# Two parts: 10 MiB and 1 MiB + 5.
my $size = $PART + $MiB + 5;
my $data = random_bytes($size);
my $res = post_json('/upload/guest/initiate', { filename => 'len.bin', size => $size });
is($res->code, 201, 'plain initiate (two parts)');
my $init = json_of($res);
sub part_url {
    my ($n, @q) = @_;
    my $r = http_get("/upload/guest/presigned-url?token=$init->{token}&part=$n" . join '', map { "&$_" } @q);
    return $r->code == 200 ? json_of($r) : { code => $r->code };
}
my $u2 = part_url(2);
like($u2->{url} // '', qr/X-Amz-SignedHeaders=content-length%3Bhost&/,
     "part 2's URL signs content-length and host");
is_deeply($u2->{signed_headers}, ['content-length', 'host'], '... and says so in "signed_headers"');
is($u2->{size}, $MiB + 5, '... for its planned size');
ok(!exists $u2->{headers}, '... with nothing for the client to add (Content-Length is its own)');

my $last = substr($data, $PART);
sub put { my ($url, $body, @h) = @_; $ua->request(HTTP::Request->new(PUT => $url, [@h], $body)) }
$res = put($u2->{url}, $last . ('x' x 4096));
is($res->code, 403, 'a body 4 KiB longer than the part: RGW refuses it (403)');
like($res->content, qr/SignatureDoesNotMatch/, '... SignatureDoesNotMatch') or diag $res->as_string;
$res = put($u2->{url}, substr($last, 1));
is($res->code, 403, 'a body one byte short: 403');
# Chunked, with no Content-Length at all: the signed header is missing.
my ($hp, $path) = $u2->{url} =~ m{^(http://[^/]+)(/.*)$};
my $chunked = join('', map { sprintf("%x\r\n", length $_) . "$_\r\n" } unpack '(a65536)*', $last . ('y' x $MiB))
    . "0\r\n\r\n";
my $raw = raw_request($hp, 'PUT', $path, $chunked, 'Transfer-Encoding' => 'chunked');
is($raw->{status}, 403, 'a chunked body without Content-Length: 403')
    or diag 'RGW answered: ' . substr($raw->{body}, 0, 300);

# Part 1 too: its URL takes exactly 10 MiB, not one byte more.
my $u1 = part_url(1);
is(put($u1->{url}, substr($data, 0, $PART) . 'z')->code, 403, "part 1's URL refuses 10 MiB + 1");
my @etags;
for my $n (1, 2) {
    my $u = $n == 1 ? $u1 : $u2;
    $res = put($u->{url}, $n == 1 ? substr($data, 0, $PART) : $last);
    push @etags, { part => $n, etag => $res->header('ETag') } if $res->code == 200;
}
is(scalar @etags, 2, 'the right bytes to both URLs: 200');
# Bound to a SHA-256 as well: both headers signed.
my $u2s = part_url(2, 'sha256=' . sha256_hex($last));
is_deeply($u2s->{signed_headers}, ['content-length', 'host', 'x-amz-content-sha256'],
          'a URL bound to a SHA-256 signs the length too');
is(put($u2s->{url}, $last, 'x-amz-content-sha256' => sha256_hex($last))->code, 200, '... and takes the part');
$res = http_get("/upload/guest/parts?token=$init->{token}");
is_deeply([map { "$_->{part}:$_->{size}" } @{ json_of($res)->{parts} // [] }], ["1:$PART", '2:' . ($MiB + 5)],
          'S3 holds exactly the planned sizes');
$res = post_json('/upload/guest/complete', { token => $init->{token}, parts => \@etags });
is($res->code, 201, 'complete: 201');

# --- Item 16: a part sent again never reuses a (key, nonce) --------------------------
my $SEG = 65536;
my $CSEG = $SEG + 16;
my $J = JSON::PP->new->canonical;
my $px = Lenz::FaultProxy->start('s3');
my $fbase = vhost_url('lenz_faults');
sub freq { my ($m, $path, $body, @h) = @_; $ua->request(HTTP::Request->new($m => "$fbase$path", [@h], $body)) }
sub finit {
    my ($name, $n) = @_;
    my $r = freq('POST', '/upload/guest/encrypted/initiate', $J->encode({ filename => $name, size => $n }),
                 'Content-Type' => 'application/json');
    return $r->code == 201 ? json_of($r) : { code => $r->code };
}
sub part_row {
    my ($fid, $n) = @_;
    return psql("SELECT etag || ' ' || coalesce(encode(nonce_prefix, 'hex'), '-') FROM upload_parts "
                . "WHERE file_id = '$fid' AND part = $n");
}
sub download { my ($token, @h) = @_; $ua->request(HTTP::Request->new(GET => vhost_url('default') . "/download/$token", [@h])) }

# One part of four segments, sent three times: A, B (other bytes), A again.
my $fsize = 3 * $SEG + 1000;
my ($A, $B) = (random_bytes($fsize), random_bytes($fsize));
my $ei = finit('again.bin', $fsize);
is(psql("SELECT format_version || ' ' || (nonce_prefix IS NULL)::text || ' ' || segments_per_part "
        . "FROM files WHERE id = '$ei->{file_id}'"), '2 true 160',
   'a new encrypted upload is format 2: no file-wide prefix, 160 segments a part');
$px->rule(action => 'record', method => 'PUT', path => 'partNumber=1(&|$)', bytes => 2 * $CSEG);
my (@codes, @rows);
for my $body ($A, $B, $A) {
    $res = freq('POST', "/upload/guest/encrypted/upload-part?token=$ei->{token}&part=1", $body,
                'X-Part-SHA256' => sha256_hex($body));
    push @codes, $res->code;
    push @rows, part_row($ei->{file_id}, 1);
}
my $rec = $px->recorded;
$px->reset;
is("@codes", '200 200 200', 'part 1 sent three times (A, B, then A again): 200 each');
is(scalar @$rec, 3, '... and the proxy read three UploadParts of it on their way to S3');
# Under one (key, nonce) two ciphertexts XOR to their plaintexts' XOR, and
# the same plaintext gives the same ciphertext; segments 0 and 1 of each
# pair of attempts must show neither.
my @plain = ($A, $B, $A);
my $shared = 0;
for my $i (0 .. 2) {
    for my $j ($i + 1 .. 2) {
        for my $s (0, 1) {
            my ($ci, $cj) = map { substr($rec->[$_]{body} // '', $s * $CSEG, $SEG) } $i, $j;
            my ($pi, $pj) = map { substr($plain[$_], $s * $SEG, $SEG) } $i, $j;
            $shared++ if length $ci != $SEG || ($ci ^ $cj) eq ($pi ^ $pj);
        }
    }
}
is($shared, 0, '... no two attempts share a keystream (C1^C2 != A^B, and A sealed twice differs)');
my @prefixes = map { (split ' ', $_)[1] // '' } @rows;
ok((grep { /^[0-9a-f]{14}$/ } @prefixes) == 3 && keys %{ { map { $_ => 1 } @prefixes } } == 3,
   '... each attempt recorded its own 7-byte nonce prefix') or diag "@rows";
$res = freq('POST', '/upload/guest/encrypted/complete', $J->encode({ token => $ei->{token} }),
            'Content-Type' => 'application/json');
is($res->code, 201, 'complete: 201');
my $edone = $res->code == 201 ? json_of($res) : {};
is(psql("SELECT encode(part_prefixes, 'hex') FROM files WHERE id = '$ei->{file_id}'"), $prefixes[2],
   "... the file keeps the prefix of the attempt S3 holds");
is(sha256_hex(download($edone->{token} // 'none')->content), sha256_hex($A), '... and downloads as A');
my $env = stack_env();
local $ENV{LENZ_MASTER_KEY_FILE} = "$env->{LENZ_STACK_DIR}/master.key";
my $ctl = top_dir() . "/build/lenzctl -e $env->{LENZ_STACK_DIR}/stack.env";
is(sha256_hex(scalar `$ctl decrypt $ei->{file_id}`), sha256_hex($A), '... and lenzctl decrypts it');

# Two parts (10 MiB + 100 KiB): a range across their boundary reads
# segments sealed under two prefixes.
my $two = random_bytes($PART + 100 * 1024);
my $up = guest_upload($two, name => 'two-parts.bin');
$res = download($up->{token}, Range => 'bytes=' . ($PART - 1000) . '-' . ($PART + 1000));
ok($res->code == 206 && $res->content eq substr($two, $PART - 1000, 2001),
   'two parts, two prefixes: a range across the boundary reads back');

# A recorded attempt that is not the one S3 holds (its record was lost):
# complete finds out, drops the row, and the part is sent again.
$ei = finit('lost.bin', $fsize);
freq('POST', "/upload/guest/encrypted/upload-part?token=$ei->{token}&part=1", $A);
my ($etag_a, $pre_a) = split ' ', part_row($ei->{file_id}, 1);
freq('POST', "/upload/guest/encrypted/upload-part?token=$ei->{token}&part=1", $B);
psql("UPDATE upload_parts SET etag = '$etag_a', nonce_prefix = decode('$pre_a', 'hex') "
     . "WHERE file_id = '$ei->{file_id}' AND part = 1");
$res = freq('POST', '/upload/guest/encrypted/complete', $J->encode({ token => $ei->{token} }),
            'Content-Type' => 'application/json');
ok($res->code == 400 && (json_of($res)->{missing_parts} // '') eq '1',
   'S3 holds B, the row says A: complete answers 400 parts-missing, part 1') or diag $res->content;
is_deeply(json_of(freq('GET', "/upload/guest/parts?token=$ei->{token}"))->{parts}, [],
          '... the row is gone, so a resume sends the part again');
is(freq('POST', "/upload/guest/encrypted/upload-part?token=$ei->{token}&part=1", $B)->code, 200, '... it is');
$res = freq('POST', '/upload/guest/encrypted/complete', $J->encode({ token => $ei->{token} }),
            'Content-Type' => 'application/json');
is($res->code, 201, '... and complete succeeds');
is(sha256_hex(download(json_of($res)->{token} // 'none')->content), sha256_hex($B), '... reading back as B');

# An upload begun before format 2 (format 1: the file's one prefix) still
# completes, records no part prefix, and reads back.
$ei = finit('old.bin', $fsize);
psql("UPDATE files SET format_version = 1, nonce_prefix = decode('a0a1a2a3a4a5a6', 'hex'), "
     . "segments_per_part = NULL WHERE id = '$ei->{file_id}'");
is(freq('POST', "/upload/guest/encrypted/upload-part?token=$ei->{token}&part=1", $B)->code, 200,
   'format 1 upload under way: its part is taken');
is((split ' ', part_row($ei->{file_id}, 1))[1], '-', '... sealed under the file\'s prefix (none recorded)');
$res = freq('POST', '/upload/guest/encrypted/complete', $J->encode({ token => $ei->{token} }),
            'Content-Type' => 'application/json');
is($res->code, 201, '... completes');
is(sha256_hex(download(json_of($res)->{token} // 'none')->content), sha256_hex($B), '... and reads back');
is(sha256_hex(scalar `$ctl decrypt $ei->{file_id}`), sha256_hex($B), '... also with lenzctl');
