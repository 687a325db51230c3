# /api/v1/auth and /api/v1/me: sign-in, access and refresh tokens (rotation,
# reuse detection, revocation), forged tokens, brute-force limits, TOTP,
# and bad input.  Accounts are made with lenzctl (registration by mail has
# its own test).
use strict;
use warnings FATAL => 'all';
use Test::More tests => 61;
use JSON::PP;
use MIME::Base64 qw(encode_base64url decode_base64url);
use Digest::SHA qw(hmac_sha256 hmac_sha1);
use Lenz::Test;

my $env = stack_env();
my $top = top_dir();
my $ctl = "$top/build/lenzctl -e $env->{LENZ_STACK_DIR}/stack.env";
local $ENV{LENZ_MASTER_KEY_FILE} = "$env->{LENZ_STACK_DIR}/master.key";
my $J = JSON::PP->new->canonical;

sub user {
    my ($email, @flags) = @_;
    my $out = `echo 'correct horse battery' | $ctl create-user $email --name 'Test User' --password-stdin @flags 2>&1`;
    $out =~ /user ([0-9a-f-]{36}) created/ or die "create-user: $out";
    return $1;
}

my $tag = sprintf('%d%d', time, $$);
my $alice = "alice-$tag\@example.org";
my $dave  = "dave-$tag\@example.org";
my $alice_id = user($alice);
user($dave);

# Sign-in.
my $res = post_json('/api/v1/auth/login', { email => $alice, password => 'wrong password!' });
is($res->code, 401, 'wrong password: 401');
is(json_of($res)->{type}, 'urn:lenz:problem:invalid-credentials', '... invalid-credentials');
$res = post_json('/api/v1/auth/login', { email => "nobody-$tag\@example.org", password => 'whatever-pass' });
is($res->code, 401, 'unknown account: the same 401');
is(json_of($res)->{detail}, 'wrong e-mail address or password', '... and the same words');

$res = post_json('/api/v1/auth/login', { email => uc($alice), password => 'correct horse battery' });
is($res->code, 200, 'sign-in (address in another case)');
my $t = json_of($res);
is_deeply([sort keys %$t], [qw(access_token expires_in refresh_token token_type)], '... the contract fields');
is($t->{token_type}, 'Bearer', '... Bearer');
is($t->{expires_in}, 900, '... 15 minutes');
my ($h64, $p64) = split /\./, $t->{access_token};
my $hdr = decode_json(decode_base64url($h64));
is($hdr->{alg}, 'HS256', 'JWT: HS256');
like($hdr->{kid}, qr/^mk\d+$/, '... kid names the master key version');
my $claims = decode_json(decode_base64url($p64));
is($claims->{sub}, $alice_id, '... sub is the user id');
is($claims->{exp} - $claims->{iat}, 900, '... expires after 15 minutes');

$res = http_get('/api/v1/me', bearer($t->{access_token}));
is($res->code, 200, '/me with the access token');
is_deeply(json_of($res), { id => $alice_id, email => $alice, name => 'Test User', roles => ['member'] },
          '... id, email, name, roles');
$res = http_get('/api/v1/me');
is($res->code, 401, '/me without a token: 401');
like($res->header('WWW-Authenticate') // '', qr/^Bearer/, '... with WWW-Authenticate: Bearer');
is(http_get('/api/v1/me', bearer('garbage'))->code, 401, 'a garbage token: 401');

# Forged tokens.
my $none = encode_base64url('{"alg":"none","typ":"JWT","kid":"mk1"}') . ".$p64.";
$res = http_get('/api/v1/me', bearer($none));
is($res->code, 401, 'alg none: 401');
is(json_of($res)->{type}, 'urn:lenz:problem:invalid-token', '... invalid-token');
my $other = "$h64.$p64." . encode_base64url(hmac_sha256("$h64.$p64", 'another key'));
is(http_get('/api/v1/me', bearer($other))->code, 401, 'signed with another key: 401');
my $hs512 = encode_base64url('{"alg":"HS512","typ":"JWT","kid":"' . $hdr->{kid} . '"}');
is(http_get('/api/v1/me', bearer("$hs512.$p64." . (split /\./, $t->{access_token})[2]))->code, 401,
   'alg changed to HS512: 401');
my %c2 = (%$claims, sub => '00000000-0000-0000-0000-000000000000');
my $p2 = encode_base64url($J->encode(\%c2));
is(http_get('/api/v1/me', bearer("$h64.$p2." . (split /\./, $t->{access_token})[2]))->code, 401,
   'claims changed, old signature: 401');

# Refresh rotation and reuse detection.
$res = post_json('/api/v1/auth/refresh', { refresh_token => $t->{refresh_token} });
is($res->code, 200, 'refresh');
my $t2 = json_of($res);
isnt($t2->{refresh_token}, $t->{refresh_token}, '... rotates the refresh token');
is(http_get('/api/v1/me', bearer($t2->{access_token}))->code, 200, '... the new access token works');
$res = post_json('/api/v1/auth/refresh', { refresh_token => $t->{refresh_token} });
is($res->code, 401, 'the spent refresh token again: 401');
expect_log('LENZ2202');
is(http_get('/api/v1/me', bearer($t2->{access_token}))->code, 401, '... and the whole family is revoked');
is(post_json('/api/v1/auth/refresh', { refresh_token => $t2->{refresh_token} })->code, 401,
   '... the newest refresh token too');
like(error_log_since(0), qr/LENZ2202: refresh token reuse: token family \S+ revoked/, '... logged');

# Logout revokes.
$t = json_of(post_json('/api/v1/auth/login', { email => $alice, password => 'correct horse battery' }));
$res = post_json('/api/v1/auth/logout', '', bearer($t->{access_token}));
is($res->code, 204, 'logout: 204');
is(http_get('/api/v1/me', bearer($t->{access_token}))->code, 401, '... the access token stops working');
is(post_json('/api/v1/auth/refresh', { refresh_token => $t->{refresh_token} })->code, 401,
   '... and so does the refresh token');
is(post_json('/api/v1/auth/logout', '')->code, 401, 'logout without a token: 401');

# Bad input.
$res = post_json('/api/v1/auth/login', '{"email":');
is($res->code, 400, 'truncated JSON: 400');
is(json_of($res)->{type}, 'urn:lenz:problem:bad-json', '... bad-json');
$res = http_req('POST', '/api/v1/auth/login', ['Content-Type' => 'text/plain'], 'x');
is($res->code, 415, 'wrong content type: 415');
$res = post_json('/api/v1/auth/login', { email => $alice });
is($res->code, 400, 'missing password: 400');
is(json_of($res)->{field}, 'password', '... naming the field');
$res = post_json('/api/v1/auth/login', { email => $alice, password => ['x'] });
is(json_of($res)->{detail}, 'password: must be a string', 'wrong type named');
$res = post_json('/api/v1/auth/login', '[1,2]');
is($res->code, 400, 'an array instead of an object: 400');
$res = post_json('/api/v1/auth/login', '{"email":"a","password":"' . ('x' x 70000) . '"}');
is($res->code, 413, 'a body over LenzJSONLimit: 413');
$res = post_json('/api/v1/auth/login', "{\"email\":\"a\x{ff}\",\"password\":\"b\"}");
is($res->code, 400, 'invalid UTF-8: 400');
is(http_req('GET', '/api/v1/auth/login')->code, 405, 'GET on a POST route: 405');
is(http_get('/api/v1/nothing')->code, 404, 'unknown API path: 404 problem');

# Brute force: five failures for one account from one address pause it
# there; another account from the same address is not affected.
for (1 .. 5) { post_json('/api/v1/auth/login', { email => $dave, password => "guess number $_" }) }
$res = post_json('/api/v1/auth/login', { email => $dave, password => 'correct horse battery' });
is($res->code, 429, 'after 5 failures even the right password waits: 429');
ok(($res->header('Retry-After') // 0) > 0, '... with Retry-After');
is(post_json('/api/v1/auth/login', { email => $alice, password => 'correct horse battery' })->code, 200,
   'another account from the same address still signs in');

# TOTP.
$t = json_of(post_json('/api/v1/auth/login', { email => $alice, password => 'correct horse battery' }));
$res = post_json('/api/v1/me/totp', '', bearer($t->{access_token}));
is($res->code, 200, 'TOTP set-up');
my $setup = json_of($res);
like($setup->{otpauth_uri}, qr{^otpauth://totp/Lenzeye:}, '... otpauth URI');
my $secret = base32_decode($setup->{secret});
is(length $secret, 20, '... a 160-bit secret');
$res = post_json('/api/v1/me/totp/enable', { code => '000000' }, bearer($t->{access_token}));
is($res->code, 400, 'enabling with a wrong code: 400');
$res = post_json('/api/v1/me/totp/enable', { code => totp($secret, time) }, bearer($t->{access_token}));
is($res->code, 200, 'enabled with the current code');
my $codes = json_of($res)->{recovery_codes};
is(scalar @$codes, 10, '... ten recovery codes');
$res = post_json('/api/v1/auth/login', { email => $alice, password => 'correct horse battery' });
is($res->code, 401, 'now the password alone is not enough');
ok(json_of($res)->{totp_required}, '... totp_required');
$res = post_json('/api/v1/auth/login', { email => $alice, password => 'correct horse battery',
                                         totp => totp($secret, time + 30) });
is($res->code, 200, 'password + the next code: signed in');
$res = post_json('/api/v1/auth/login', { email => $alice, password => 'correct horse battery',
                                         totp => totp($secret, time + 30) });
is($res->code, 401, 'the same code again is a replay: 401');
$res = post_json('/api/v1/auth/login', { email => $alice, password => 'correct horse battery',
                                         totp => $codes->[0] });
is($res->code, 200, 'a recovery code works');
$res = post_json('/api/v1/auth/login', { email => $alice, password => 'correct horse battery',
                                         totp => $codes->[0] });
is($res->code, 401, '... once');
$t = json_of(post_json('/api/v1/auth/login', { email => $alice, password => 'correct horse battery',
                                               totp => $codes->[1] }));
$res = post_json('/api/v1/me/totp/disable', { password => 'correct horse battery', code => $codes->[2] },
                 bearer($t->{access_token}));
is($res->code, 204, 'TOTP disabled with password + recovery code');
is(post_json('/api/v1/auth/login', { email => $alice, password => 'correct horse battery' })->code, 200,
   'the password alone works again');

sub base32_decode {
    my ($s) = @_;
    my $bits = join '', map { sprintf '%05b', index('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', $_) } split //, $s;
    return pack 'B*', substr($bits, 0, int(length($bits) / 8) * 8);
}
sub totp {
    my ($key, $t) = @_;
    my $mac = hmac_sha1(pack('NN', 0, int($t / 30)), $key);
    my $off = ord(substr $mac, -1) & 0x0f;
    return sprintf '%06d', (unpack('N', substr $mac, $off, 4) & 0x7fffffff) % 1000000;
}
