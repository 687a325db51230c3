# A member's e-mail change (issue 19): the new address and the password ->
# a code to the new address; the code and the address again -> the
# account has the new address (sign-in with it, not the old one), the old
# address is told; a wrong code is 400, an address another account has
# 409 (after the code proves the asker holds it), the same address 400, a
# wrong password 403; a personal access token may not; the settings
# page's forms do the same.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Lenz::Test;
use Lenz::Jobs;
use Lenz::Member;

my $PW = 'correct horse battery';
my $tag = uniq('em');
my $old = "old-$tag\@example.org";
my $new = "new-$tag\@example.org";
my $A = member($old);
my $B = member("b-$tag\@example.org");
sub type_of { (J($_[0])->{type} // '') =~ s{.*[/:]}{}r }
sub code_for {
    my ($to, $not) = @_;
    my $code;
    wait_until(sub {
        for my $f (reverse mail_files()) {
            my $m = read_file($f);
            next unless $m =~ /^X-Envelope-To: <\Q$to\E>\r?$/m && $m =~ /^\s+(\d{6})\r?$/m;
            next if $not && $1 eq $not;
            $code = $1;
            return 1;
        }
        0 }, 10);
    return $code;
}

my $res = api($A, 'POST', '/me/email', { email => $new, password => 'wrong password!' });
is($res->code . ' ' . type_of($res), '403 invalid-credentials', 'a wrong password: 403');
$res = api($A, 'POST', '/me/email', { email => $old, password => $PW });
is($res->code . ' ' . (J($res)->{field} // ''), '400 email', 'the same address: 400');
$res = api($A, 'POST', '/me/email', { email => 'not an address', password => $PW });
is($res->code . ' ' . (J($res)->{field} // ''), '400 email', 'not an address: 400');
$res = api($A, 'POST', '/me/email', { email => $new, password => $PW });
is($res->code, 202, 'POST /me/email with the password: 202');
is(J($res)->{status}, 'code_sent', '... {"status":"code_sent"}');
my $code = code_for($new);
like($code // '', qr/^\d{6}$/, '... a six-digit code reaches the new address');
is(J(api($A, 'GET', '/me'))->{email}, $old, '... and nothing changed yet');
my $wrong = $code eq '000000' ? '111111' : '000000';
$res = api($A, 'POST', '/me/email/confirm', { email => $new, code => $wrong });
is($res->code . ' ' . type_of($res), '400 invalid-code', 'a wrong code: 400');
$res = api($A, 'POST', '/me/email/confirm', { email => "other-$tag\@example.org", code => $code });
is($res->code, 410, "the code for another address than the one asked: 410 (no code for that one)");
$res = api($A, 'POST', '/me/email/confirm', { email => $new, code => $code });
is($res->code, 200, 'POST /me/email/confirm with the code: 200');
is(J($res)->{email}, $new, '... answering with the new address');
is(J(api($A, 'GET', '/me'))->{email}, $new, '... kept');
is(post_json('/api/v1/auth/login', { email => $new, password => $PW })->code, 200, 'the new address signs in');
is(post_json('/api/v1/auth/login', { email => $old, password => $PW })->code, 401, 'the old one does not');
(my $notice = mail_to($old, 10, qr/^Subject: Your e-mail address was changed/m) // '') =~ s/=\r?\n//g;   # quoted-printable
like($notice, qr/changed to \Q$new\E .*\(from 127\.0\.0\.1\)/s, 'the old address is told: to what, and from where');
is(api($A, 'POST', '/me/email/confirm', { email => $new, code => $code })->code, 410, 'the code again: 410');
is(psql("SELECT count(*) FROM events WHERE type = 'user.email_changed' AND payload->>'to' = '$new'"), 1,
   'a user.email_changed event (the audit log)');

# An address another account has: refused once the code proves it is held.
$res = api($A, 'POST', '/me/email', { email => "b-$tag\@example.org", password => $PW });
is($res->code, 202, "B's address: 202 like any other");
$code = code_for("b-$tag\@example.org");
$res = api($A, 'POST', '/me/email/confirm', { email => "b-$tag\@example.org", code => $code });
is($res->code . ' ' . type_of($res), '409 email-taken', '... the code given: 409 email-taken');
is(J(api($A, 'GET', '/me'))->{email}, $new, '... nothing changed');

my $pat = J(api($A, 'POST', '/me/tokens', { name => 's', scopes => ['read', 'write'] }))->{token};
is(api($pat, 'POST', '/me/email', { email => "x-$tag\@example.org", password => $PW })->code, 403,
   'with a personal access token: 403');

# --- The page's forms ------------------------------------------------------------------------------
my $third = "third-$tag\@example.org";
$res = form('/account/login', { email => $new, password => $PW, next => '/account/settings' });
my $cookie = cookie_of($res);
my $csrf = csrf_of(http_get('/account/settings', Cookie => $cookie, Accept => 'text/html'));
$res = form('/account/settings/email', { csrf => $csrf, email => $third, password => $PW }, Cookie => $cookie, Accept => 'text/html');
is($res->code, 200, 'the form: a page asking for the code');
like($res->content, qr/\Q$third\E/, '... naming the new address');
$code = code_for($third);
$res = form('/account/settings/email/confirm', { csrf => $csrf, email => $third, code => $code }, Cookie => $cookie,
            Accept => 'text/html');
is($res->code, 303, '... and its code: 303');
like(http_get('/account/settings?saved=email', Cookie => $cookie, Accept => 'text/html')->content,
     qr/id="current-email">\Q$third\E</, '... the settings show the new address');

done_testing();
