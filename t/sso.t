# Single sign-on (LenzTrustRemoteUser; mod_auth_basic stands in for the
# identity provider) after the security review (issue 15, item 10):
#   - a REMOTE_USER is found by the id the sign-on gave it (external_id)
#     only: an address it asserts never opens the local account that
#     has it; that account's owner links it once with its password;
#   - requests authenticated by the sign-on need the CSRF token for unsafe
#     methods, as cookie sessions do (a browser sends the sign-on's
#     credentials by itself).
use strict;
use warnings FATAL => 'all';
use Test::More;
use JSON::PP;
use MIME::Base64 ();
use Lenz::Test;
use Lenz::Jobs;

my $env = stack_env();
my $top = top_dir();
my $PW = 'correct horse battery';
local $ENV{LENZ_MASTER_KEY_FILE} = "$env->{LENZ_STACK_DIR}/master.key";
my $basic = 'Basic ' . MIME::Base64::encode_base64('link-user@example.org:link-pass', '');

# A local account with the address the sign-on will assert, an admin (made
# anew: the test database outlives a run).
psql("DELETE FROM users WHERE email = 'link-user\@example.org'");
my $out = `echo '$PW' | $top/build/lenzctl -e $env->{LENZ_STACK_DIR}/stack.env create-user link-user\@example.org --admin --password-stdin 2>&1`;
is($?, 0, 'a local admin account link-user@example.org') or diag($out);

my $res = http_get('/account/sso', Authorization => $basic, Accept => 'text/html');
is($res->code, 409, 'the sign-on asserting its address does not open that account: 409');
ok(!cookie_of($res), '... no session');
like($res->content, qr{action="[^"]*/account/sso/link"}, '... the page asks its owner to link it');
like($res->content, qr{<label for="password">}, '... with the password');
is(psql("SELECT count(*) FROM users WHERE email = 'link-user\@example.org'"), 1, '... no second account');
$res = http_get('/account/sso', Authorization => $basic, Accept => 'application/json');
is(json_of($res)->{type}, 'urn:lenz:problem:link-required', '... problem link-required for API clients');

$res = form('/account/sso/link', { password => 'not the password' }, Authorization => $basic, Accept => 'text/html');
is($res->code, 403, 'linking with a wrong password: 403');
ok(!cookie_of($res), '... no session');
is(psql("SELECT external_id IS NULL FROM users WHERE email = 'link-user\@example.org'"), 't', '... not linked');

$res = form('/account/sso/link', { password => $PW }, Authorization => $basic, Accept => 'text/html');
is($res->code, 303, 'linking with the password: signed in (303)');
ok(cookie_of($res), '... with a session');
is(psql("SELECT external_id FROM users WHERE email = 'link-user\@example.org'"), 'link-user@example.org',
   '... the account now carries the sign-on\'s id');
$res = http_get('/account/sso', Authorization => $basic, Accept => 'text/html');
is($res->code, 303, 'from then on the sign-on opens it directly');

# CSRF for sign-on identities (the /sso-api location trusts REMOTE_USER).
$res = http_get('/sso-api/me', Authorization => $basic);
is($res->code, 200, 'the API behind the sign-on knows the member');
my $csrf = json_of($res)->{csrf_token};
ok($csrf, '... and gives scripts the CSRF token (csrf_token)');
$res = http_req('POST', '/sso-api/notifications/read-all', [Authorization => $basic]);
is($res->code, 403, 'an unsafe request by the sign-on alone: 403');
is(json_of($res)->{type}, 'urn:lenz:problem:csrf', '... csrf');
$res = http_req('POST', '/sso-api/notifications/read-all', [Authorization => $basic, 'X-CSRF-Token' => 'x' x 43]);
is($res->code, 403, '... a wrong token: 403');
$res = http_req('POST', '/sso-api/notifications/read-all', [Authorization => $basic, 'X-CSRF-Token' => $csrf]);
ok($res->code == 200 || $res->code == 204, 'with the token: done (' . $res->code . ')');

# The sign-on made on first sight still works as before.
$res = http_get('/account/sso', Authorization => 'Basic ' . MIME::Base64::encode_base64('sso-user@example.org:sso-pass', ''));
is($res->code, 303, 'a REMOTE_USER without a local account gets its own on first sight');

done_testing();
