# Upload parts (security review, issue 15; docs/security.md, "Upload parts"):
#
#   - a presigned part URL is bound to the part's planned length: RGW
#     refuses a longer, a shorter and a chunked body (each measured here
#     against the real server), and takes the right one.
use strict;
use warnings FATAL => 'all';
use Test::More tests => 15;
use Digest::SHA qw(sha256_hex);
use HTTP::Request;
use LWP::UserAgent;
use Lenz::Test qw(:DEFAULT psql raw_request random_bytes);

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
