package Lenz::Member;
# Members and their API calls for the storage tests: an account made with
# lenzctl and signed in through the API, JSON calls with its bearer token,
# and a small encrypted upload in one part.
use strict;
use warnings FATAL => 'all';
use Exporter 'import';
use JSON::PP ();
use Lenz::Test;

our @EXPORT = qw(member api J upload_small base32_decode totp);

my $PW = 'correct horse battery';
my $JSON = JSON::PP->new->canonical->utf8;

# A new active member; returns their access token.
sub member {
    my ($email) = @_;
    my $env = stack_env();
    my $top = top_dir();
    my $out = `echo '$PW' | $top/build/lenzctl -e $env->{LENZ_STACK_DIR}/stack.env create-user $email --password-stdin 2>&1`;
    die "create-user: $out" if $?;
    my $res = post_json('/api/v1/auth/login', { email => $email, password => $PW });
    die 'login: ' . $res->content unless $res->code == 200;
    return json_of($res)->{access_token};
}

# api($token, METHOD, '/path below /api/v1', $body or undef, extra headers)
sub api {
    my ($tok, $method, $path, $body, @h) = @_;
    return http_req($method, "/api/v1$path", [ ($tok ? bearer($tok) : ()), 'Content-Type' => 'application/json', @h ],
                    defined $body ? $JSON->encode($body) : undef);
}

# A response's JSON body, or {} when it has none.
sub J { my $r = shift; my $j = eval { JSON::PP->new->decode($r->content) }; $j // {} }

# Uploads $data as one encrypted part through $base ('/api/v1/uploads' with
# a token, or a file request's '/upload/request/TOKEN'); returns complete's
# answer.  Dies on any other status.
sub upload_small {
    my ($tok, $base, $name, $data, %o) = @_;
    my @auth = $tok ? bearer($tok) : ();
    my @h = (@auth, 'Content-Type' => 'application/json', @{ delete $o{headers} // [] });
    my $res = http_req('POST', "$base/encrypted/initiate", [@h],
                       $JSON->encode({ filename => $name, size => length $data, %o }));
    die 'initiate: ' . $res->code . ' ' . $res->content unless $res->code == 201;
    my $i = J($res);
    $res = http_req('POST', "$base/encrypted/upload-part?token=$i->{token}&part=1", [@h[0 .. $#auth]], $data);
    die 'part: ' . $res->code . ' ' . $res->content unless $res->code == 200;
    $res = http_req('POST', "$base/encrypted/complete", [@h], $JSON->encode({ token => $i->{token} }));
    die 'complete: ' . $res->code . ' ' . $res->content unless $res->code == 201;
    return J($res);
}

# TOTP (RFC 6238, SHA-1, 6 digits, 30 s) for the tests that sign in with
# a second factor: the key from the set-up's base32 secret, the code for
# unix time $t.
sub base32_decode {
    my ($s) = @_;
    $s =~ s/\s+//g;
    my $bits = join '', map { sprintf '%05b', index('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', $_) } split //, uc $s;
    return pack 'B*', substr($bits, 0, int(length($bits) / 8) * 8);
}
sub totp {
    my ($key, $t) = @_;
    require Digest::SHA;
    my $mac = Digest::SHA::hmac_sha1(pack('NN', 0, int($t / 30)), $key);
    my $off = ord(substr $mac, -1) & 0x0f;
    return sprintf '%06d', (unpack('N', substr $mac, $off, 4) & 0x7fffffff) % 1000000;
}

1;
