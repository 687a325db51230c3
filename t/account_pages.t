# /account pages: sign-in form and session cookie, CSRF on every
# state-changing request, cross-site refusal, session fixation, sign-out
# (one device, all devices), and single sign-on through mod_auth_basic.
use strict;
use warnings FATAL => 'all';
use Test::More tests => 37;
use Lenz::Test;
use MIME::Base64 ();
use Apache::Test ();

my $env = stack_env();
my $top = top_dir();
my $ctl = "$top/build/lenzctl -e $env->{LENZ_STACK_DIR}/stack.env";
local $ENV{LENZ_MASTER_KEY_FILE} = "$env->{LENZ_STACK_DIR}/master.key";
my $tag = sprintf('%d%d', time, $$);
my $email = "pat-$tag\@example.org";
`echo 'correct horse battery' | $ctl create-user $email --name Pat --password-stdin 2>&1`;
my $vars = Apache::Test::vars();
my $origin = "http://$vars->{servername}:$vars->{port}";


my $res = http_get('/account', Accept => 'text/html');
is($res->code, 303, 'the account page needs a sign-in: 303');
like($res->header('Location'), qr{/account/login\?next=/account$}, '... to the sign-in page, and back');

$res = http_get('/account/login', Accept => 'text/html');
is($res->code, 200, 'sign-in form');
like($res->content, qr{<label for="email">}, '... labelled fields');
like($res->content, qr{<label for="password">}, '... for the password too');

$res = form('/account/login', { email => $email, password => 'not the password' });
is($res->code, 401, 'wrong password: the form again, 401');
like($res->content, qr{role="alert"}, '... with the reason in an alert');
like($res->content, qr{value="\Q$email\E"}, '... keeping the address');

my $planted = 'lenz=' . ('A' x 43);
$res = form('/account/login', { email => $email, password => 'correct horse battery', next => '/account' },
            Cookie => $planted);
is($res->code, 303, 'sign-in: 303');
like($res->header('Location'), qr{/account$}, '... to next');
my $set = join "\n", $res->header('Set-Cookie');
like($set, qr/^lenz=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+$/m,
     'session cookie: HttpOnly, SameSite=Lax, Path=/');
my $cookie = cookie_of($res);
isnt($cookie, $planted, 'a planted cookie is never reused as the session (fixation)');
unlike($set, qr/Secure/, '... no Secure flag on a plain-http site (the test site)');

$res = http_get('/account', Cookie => $cookie, Accept => 'text/html');
is($res->code, 200, 'the account page with the cookie');
like($res->content, qr/\Q$email\E/, '... shows the account');
my $csrf = csrf_of($res);
ok($csrf && length($csrf) == 43, '... and carries a CSRF token');
is(http_get('/account', Cookie => $planted, Accept => 'text/html')->code, 303,
   'the planted cookie is no session');

# CSRF and cross-site requests.
$res = form('/account/logout', {}, Cookie => $cookie);
is($res->code, 403, 'sign-out without the CSRF token: 403');
$res = form('/account/logout', { csrf => 'x' x 43 }, Cookie => $cookie);
is($res->code, 403, 'with a wrong token: 403');
$res = http_req('POST', '/account/logout', ['Content-Type' => 'application/x-www-form-urlencoded',
                Origin => 'http://evil.example', Cookie => $cookie], "csrf=$csrf");
is($res->code, 403, 'from another origin, even with the token: 403');
$res = http_req('POST', '/account/logout', ['Content-Type' => 'application/x-www-form-urlencoded',
                'Sec-Fetch-Site' => 'cross-site', Cookie => $cookie], "csrf=$csrf");
is($res->code, 403, 'Sec-Fetch-Site: cross-site: 403');
$res = http_req('POST', '/api/v1/me/totp', ['Content-Type' => 'application/json', Cookie => $cookie], '{}');
is($res->code, 403, 'an API call riding on the session cookie without X-CSRF-Token: 403');
is(json_of($res)->{type}, 'urn:lenz:problem:csrf', '... csrf');
$res = http_req('GET', '/api/v1/me', [Cookie => $cookie]);
is($res->code, 200, 'a safe API call with the session cookie works');

# Sign-out.
$res = form('/account/logout', { csrf => $csrf }, Cookie => $cookie);
is($res->code, 303, 'sign-out with the token: 303');
like(join("\n", $res->header('Set-Cookie')), qr/^lenz=; .*Max-Age=0$/m, '... the cookie is cleared');
is(http_get('/account', Cookie => $cookie, Accept => 'text/html')->code, 303, '... and the session is over');

# Sign-out on every device.
my @c = map { cookie_of(form('/account/login', { email => $email, password => 'correct horse battery' })) } 1 .. 2;
is(http_get('/account', Cookie => $c[1], Accept => 'text/html')->code, 200, 'two sessions');
$csrf = csrf_of(http_get('/account', Cookie => $c[0], Accept => 'text/html'));
is(form('/account/logout-all', { csrf => $csrf }, Cookie => $c[0])->code, 303, 'sign out everywhere');
is(http_get('/account', Cookie => $c[1], Accept => 'text/html')->code, 303, '... ends the other session too');

# Open redirects are refused.
$res = form('/account/login', { email => $email, password => 'correct horse battery', next => '//evil.example/' });
like($res->header('Location') // '', qr{/account$}, '"next" to another host is ignored');

# Single sign-on: mod_auth_basic authenticates, mod_lenz signs in REMOTE_USER.
$res = http_get('/account/sso');
is($res->code, 401, 'SSO location asks the auth module for credentials');
$res = http_get('/account/sso', Authorization => 'Basic ' . MIME::Base64::encode_base64('sso-user@example.org:sso-pass', ''));
is($res->code, 303, 'REMOTE_USER signs in: 303');
my $sso = cookie_of($res);
ok($sso, '... with a session cookie');
$res = http_get('/api/v1/me', Cookie => $sso);
is($res->code, 200, 'the SSO session is a normal session');
is(json_of($res)->{email}, 'sso-user@example.org', '... of the account made on first sight');
is(http_get('/account/sso', Authorization => 'Basic ' . MIME::Base64::encode_base64('sso-user@example.org:wrong', ''))->code,
   401, 'a wrong SSO password never reaches mod_lenz');
