# A member's own settings (issue 19), through the API and the page's forms:
# devices (each browser session and app sign-in, with client, address,
# first and last use) ended one at a time or all but the caller's, which
# stops them at their very next request; the name; the password with the
# current one (a notice mailed, others signed out on request); new
# recovery codes (the old ones stop); none of the security changes with a
# personal access token; other members' devices are "not found"; the
# forms need the CSRF token.  (Two-factor set-up through the page's QR
# code in Chromium: t/settings_browser.t.)
use strict;
use warnings FATAL => 'all';
use Test::More;
use Lenz::Test qw(:DEFAULT raw_get);
use Lenz::Jobs;
use Lenz::Member;
use JSON::PP ();

my $PW = 'correct horse battery';
my $tag = uniq('set');
my $email = "a-$tag\@example.org";
my $A1 = member($email);                       # app sign-in 1 (this test's "own" device)
my $B = member("b-$tag\@example.org");
sub type_of { (J($_[0])->{type} // '') =~ s{.*[/:]}{}r }
sub app_login {
    my ($pw, $ua) = @_;
    my $res = post_json('/api/v1/auth/login', { email => $email, password => $pw }, 'User-Agent' => $ua);
    return $res->code == 200 ? json_of($res)->{access_token} : undef;
}
sub browser_login {
    my ($pw, $ua) = @_;
    my $res = form('/account/login', { email => $email, password => $pw, next => '/account' }, 'User-Agent' => $ua);
    return $res->code == 303 ? cookie_of($res) : undef;
}
sub page { http_get($_[0], Cookie => $_[1], Accept => 'text/html') }
sub signed_in { page('/account', $_[0])->code == 200 }
sub devices { @{ J(api($_[0], 'GET', '/me/devices'))->{devices} // [] } }

my $A2 = app_login($PW, "LenzApp/2.1 (Android 14; Pixel $tag)");
my $C1 = browser_login($PW, "Mozilla/5.0 (X11; Linux) Firefox/$tag");
my $C2 = browser_login($PW, "Mozilla/5.0 (iPhone) Safari/$tag");
ok($A2 && $C1 && $C2, 'A signed in from two more apps... and two browsers');

# --- The list --------------------------------------------------------------------------------------
my $res = api($A1, 'GET', '/me/devices');
is($res->code, 200, 'GET /me/devices: 200');
my @d = @{ J($res)->{devices} };
is(scalar @d, 4, '... four: two browsers and two apps');
is_deeply([sort keys %{ $d[0] }], [sort qw(id kind client ip created_at last_used_at current)], '... each with its fields');
is(scalar(grep { $_->{kind} eq 'session' } @d), 2, '... two sessions');
is(scalar(grep { $_->{current} } @d), 1, '... one marked current');
my ($cur) = grep { $_->{current} } @d;
is($cur->{kind}, 'app', '... the caller\'s own app sign-in');
my ($iphone) = grep { ($_->{client} // '') =~ /iPhone/ } @d;
my ($pixel) = grep { ($_->{client} // '') =~ /Pixel/ } @d;
ok($iphone && $iphone->{kind} eq 'session' && $iphone->{ip} eq '127.0.0.1', 'the iPhone browser: its client and address');
ok($pixel && $pixel->{kind} eq 'app', 'the Pixel app: its client');
like($iphone->{created_at}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, '... times as ISO');
ok(!grep({ /[0-9a-f]{64}/ } map { values %$_ } @d), 'no session hash is shown');

# --- Ending one --------------------------------------------------------------------------------------
is(api($B, 'DELETE', "/me/devices/$iphone->{id}")->code, 404, "B ending A's device: 404");
my $ghost = api($B, 'DELETE', '/me/devices/00000000-0000-4000-8000-000000000000');
is($ghost->code . ' ' . type_of($ghost), '404 not-found', '... as an id that does not exist');
is(api($B, 'DELETE', '/me/devices/nope')->code, 404, '... or a malformed one');
ok(signed_in($C2), 'the iPhone browser is still signed in');
is(api($A1, 'DELETE', "/me/devices/$iphone->{id}")->code, 204, 'DELETE /me/devices/{id}: 204');
$res = page('/account', $C2);
is($res->code, 303, '... its very next request is signed out (to the sign-in page)');
like($res->header('Location') // '', qr{/account/login}, '... to /account/login');
ok(signed_in($C1), 'the other browser is not');
is(api($A1, 'DELETE', "/me/devices/$pixel->{id}")->code, 204, 'ending the Pixel app: 204');
$res = api($A2, 'GET', '/me');
is($res->code . ' ' . type_of($res), '401 invalid-token', "... its access token stops at once (401)");
is(api($A1, 'GET', '/me')->code, 200, "... the caller's own still works");
is(scalar(devices($A1)), 2, 'two devices left');

# --- All but this one -----------------------------------------------------------------------------------
my $A3 = app_login($PW, 'curl/8');
is(api($A1, 'POST', '/me/devices/sign-out-others')->code, 204, 'POST /me/devices/sign-out-others: 204');
ok(!signed_in($C1), '... the browser is signed out');
is(api($A3, 'GET', '/me')->code, 401, '... and the other app');
is(api($A1, 'GET', '/me')->code, 200, '... not the caller');
is(scalar(devices($A1)), 1, '... one device left');
is(scalar(grep { $_->{id} eq $cur->{id} } devices($A1)), 1, '... the caller\'s own');

# --- The name ----------------------------------------------------------------------------------------------
$res = api($A1, 'PATCH', '/me', { name => "Petra Q. $tag" });
is($res->code . ' ' . (J($res)->{name} // ''), "200 Petra Q. $tag", 'PATCH /me {"name"}: 200 with the new name');
is(J(api($A1, 'GET', '/me'))->{name}, "Petra Q. $tag", '... kept');
for my $bad (['', 'empty'], ["a\nb", 'with a newline'], ["a\x{202e}b", 'with a bidi control'], ['x' x 101, 'of 101 bytes']) {
    $res = api($A1, 'PATCH', '/me', { name => $bad->[0] });
    is($res->code . ' ' . (J($res)->{field} // ''), '400 name', "a name $bad->[1]: 400 naming it");
}

# --- Personal access tokens may not make security changes ----------------------------------------------------
my $pat = J(api($A1, 'POST', '/me/tokens', { name => 'script', scopes => ['read', 'write'] }))->{token};
ok($pat, 'a read-write personal access token');
for my $c (['POST', '/me/password', { current_password => $PW, password => 'x' x 12 }],
           ['POST', '/me/totp', undef], ['POST', '/me/totp/enable', { code => '123456' }],
           ['POST', '/me/totp/disable', { password => $PW, code => '123456' }],
           ['POST', '/me/totp/recovery-codes', { password => $PW, code => '123456' }],
           ['POST', '/me/devices/sign-out-others', undef], ['DELETE', "/me/devices/$cur->{id}", undef]) {
    $res = api($pat, @$c);
    is($res->code . ' ' . type_of($res), '403 token-not-allowed', "$c->[0] $c->[1] with a personal access token: 403");
}
is(api($pat, 'GET', '/me/devices')->code, 200, '... listing devices is fine');
is(api($A1, 'GET', '/me')->code, 200, '... and nothing was ended');

# --- The password ---------------------------------------------------------------------------------------------
$C1 = browser_login($PW, 'Firefox/again');
$res = api($A1, 'POST', '/me/password', { current_password => 'wrong password!', password => 'a new long password' });
is($res->code . ' ' . type_of($res), '403 invalid-credentials', 'a wrong current password: 403');
$res = api($A1, 'POST', '/me/password', { current_password => $PW, password => 'short' });
is($res->code . ' ' . (J($res)->{field} // ''), '400 password', 'a new password of 5 characters: 400');
$res = api($A1, 'POST', '/me/password', { current_password => $PW, password => 'a new long password', sign_out_others => 'yes' });
is($res->code . ' ' . (J($res)->{field} // ''), '400 sign_out_others', 'sign_out_others not a boolean: 400');
ok(signed_in($C1), '... nothing changed');
my $mark = scalar mail_files();
$res = api($A1, 'POST', '/me/password', { current_password => $PW, password => 'a new long password', sign_out_others => JSON::PP::true() });
is($res->code, 204, 'POST /me/password with the current one: 204');
ok(!signed_in($C1), '... other devices signed out (sign_out_others)');
is(api($A1, 'GET', '/me')->code, 200, '... the caller stays');
ok(!app_login($PW, 'x'), '... the old password no longer signs in');
my $A4 = app_login('a new long password', 'x');
ok($A4, '... the new one does');
like(mail_to($email, 10, qr/Your password was changed/) // '', qr/from 127\.0\.0\.1/, '... and a notice was mailed, naming the address');
my @ev = split /\n/, psql("SELECT type FROM events e JOIN users u ON u.id = e.actor_id WHERE u.email = '$email' "
                          . "AND type LIKE 'user.%' ORDER BY e.id");
ok((grep { $_ eq 'user.password_changed' } @ev) && (grep { $_ eq 'user.device_ended' } @ev)
   && (grep { $_ eq 'user.devices_ended' } @ev) && (grep { $_ eq 'user.renamed' } @ev),
   'events for the audit log: renamed, device(s) ended, password changed') or diag "@ev";
$PW = 'a new long password';

# --- Recovery codes ---------------------------------------------------------------------------------------------
$res = api($A1, 'POST', '/me/totp/recovery-codes', { password => $PW, code => '123456' });
is($res->code . ' ' . type_of($res), '409 totp-not-enabled', 'new recovery codes with two-factor off: 409');
my $secret_b32 = J(api($A1, 'POST', '/me/totp'))->{secret};
my $key = base32_decode($secret_b32);
$res = api($A1, 'POST', '/me/totp/enable', { code => totp($key, time - 30) });
is($res->code, 200, 'two-factor on (a code of the step before)');
my @old = @{ J($res)->{recovery_codes} };
$res = api($A1, 'POST', '/me/totp/recovery-codes', { password => $PW, code => totp($key, time) });
is($res->code, 200, 'POST /me/totp/recovery-codes with the password and a code: 200');
my @new = @{ J($res)->{recovery_codes} // [] };
is(scalar @new, 10, '... ten codes');
like($new[0], qr/^[A-Z2-7]{6}-[A-Z2-7]{6}$/, '... as XXXXXX-XXXXXX');
like($res->header('Cache-Control') // '', qr/no-store/, '... not cached');
$res = post_json('/api/v1/auth/login', { email => $email, password => $PW, totp => $old[0] });
is($res->code, 401, 'an old recovery code no longer signs in');
$res = post_json('/api/v1/auth/login', { email => $email, password => $PW, totp => $new[0] });
is($res->code, 200, 'a new one does');

# --- The page's forms ----------------------------------------------------------------------------------------------
# (Three wrong tries from this address so far, one more below: a fifth would be 429.)
$res = form('/account/login', { email => $email, password => $PW, totp => $new[1], next => '/account/settings' });
my $C = cookie_of($res);
ok($res->code == 303 && $C, 'signed in with a recovery code through the form');
$res = page('/account/settings', $C);
is($res->code, 200, '/account/settings: 200');
like($res->content, qr/id="profile".*id="password".*id="two-factor".*id="devices".*id="tokens"/s,
     '... with profile, password, two-factor, devices and tokens');
like($res->content, qr/8 unused recovery codes left/, '... counting the recovery codes left');
like($res->content, qr/this device/, '... marking this device');
my $csrf = csrf_of($res);
sub post_form { form($_[0], $_[1], Cookie => $C, Accept => 'text/html') }
is(post_form('/account/settings/name', { name => 'Formed' })->code, 403, 'the name form without the CSRF token: 403');
$res = post_form('/account/settings/name', { csrf => $csrf, name => 'Formed' });
is($res->code, 303, 'the name form: 303');
like($res->header('Location') // '', qr{/account/settings\?saved=name#profile$}, '... back to the page');
like(page('/account/settings?saved=name', $C)->content, qr/role="status">Your name was saved/, '... which says so');
is(J(api($A1, 'GET', '/me'))->{name}, 'Formed', '... saved');
$res = post_form('/account/settings/password', { csrf => $csrf, current_password => $PW, password => 'another long one',
                                                 password_again => 'another long one!' });
is($res->code, 400, 'the password form with two different new ones: 400');
like($res->content, qr/Check the new password/, '... a page saying so');
$res = form('/account/login', { email => $email, password => $PW, totp => $new[3], next => '/account' },
           'User-Agent' => "Other/$tag");
my $C9 = cookie_of($res);
ok($C9 && signed_in($C9), 'another browser signed in (a recovery code)');
my ($dev) = grep { ($_->{client} // '') eq "Other/$tag" } devices($A1);
$res = post_form("/account/settings/devices/$dev->{id}/end", { csrf => $csrf });
is($res->code, 303, 'a device signed out through its form: 303');
ok(!signed_in($C9), '... it is signed out');
ok(signed_in($C), '... this one is not');
$res = post_form('/account/settings/devices/00000000-0000-4000-8000-000000000000/end', { csrf => $csrf });
is($res->code, 404, '... an unknown one: 404 (a page)');
like($res->header('Content-Type') // '', qr{^text/html}, '... as HTML');
$res = post_form('/account/settings/recovery-codes', { csrf => $csrf, password => $PW, code => $new[2] });
is($res->code, 200, 'new recovery codes through the form: 200');
is(scalar(() = $res->content =~ /<li><code>[A-Z2-7]{6}-[A-Z2-7]{6}<\/code><\/li>/g), 10, '... ten shown');
$res = post_form('/account/settings/totp/disable', { csrf => $csrf, password => $PW, code => '000000' });
is($res->code, 403, 'switching two-factor off with a wrong code: 403');
$res = post_form('/account/settings/totp/disable', { csrf => $csrf, password => $PW, code => totp($key, time + 30) });
is($res->code, 303, 'switching it off through the form: 303');
like(page('/account/settings?saved=totp-off', $C)->content, qr/Two-factor sign-in is off/, '... said on the page');
$res = post_form('/account/settings/devices/end-others', { csrf => $csrf });
is($res->code, 303, '"Sign out every other device": 303');
is(api($A1, 'GET', '/me')->code, 401, '... the app sign-in is gone');
ok(signed_in($C), '... this browser stays');
is(page('/account/settings', undef)->code, 303, 'a guest is sent to sign in');

# The two-factor secret and the recovery codes never reach httpd's logs.
my $logs = join '', map { local $/; open my $fh, '<', $_ or next; <$fh> } map { Apache::Test::vars()->{t_logs} . "/$_" }
           qw(error_log access_log);
ok(length($logs) > 0 && index($logs, $secret_b32) < 0 && !grep({ index($logs, $_) >= 0 } @new, @old),
   'the two-factor secret and the recovery codes appear in no log');

# A browser session ended from another device stops at once on another
# host too: sessions are rows every host looks up on each request.
my ($base2, $stop2) = second_httpd(offset => 800);
is(raw_get($base2, '/account', Cookie => $C, Accept => 'text/html')->{status}, 200,
   "a session made on host 1 works on host 2");
my $sid = psql("SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = '$email' "
               . "ORDER BY s.last_seen_at DESC LIMIT 1");
my $A5 = app_login($PW, "App5/$tag");
is(api($A5, 'DELETE', "/me/devices/$sid")->code, 204, 'ended from an app on host 1');
is(raw_get($base2, '/account', Cookie => $C, Accept => 'text/html')->{status}, 303,
   '... host 2 refuses it at its next request');
$stop2->();

done_testing();
