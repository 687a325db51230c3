# Accounts end to end through the mail: sign-up -> the code arrives in the
# SMTP sink -> verify -> welcome mail -> sign-in; a second sign-up for a
# taken address mails its owner instead; five wrong codes lock the code;
# an expired code is refused; a reset link works once and ends every
# session and token family; events reach the audit log.  Through the API
# and through the browser pages.
use strict;
use warnings FATAL => 'all';
use Test::More;
use JSON::PP;
use MIME::QuotedPrint ();
use Lenz::Test;
use Lenz::Jobs;

my $J = JSON::PP->new->canonical;
my $tag = uniq('reg');
my $PW = 'correct horse battery';

# The decoded text of the newest mail to rcpt whose subject matches.
sub mail_text {
    my ($rcpt, $subject) = @_;
    my $m = mail_to($rcpt, 10, qr/^Subject: .*\Q$subject\E/m) // return '';
    return MIME::QuotedPrint::decode((split /\r?\n\r?\n/, $m, 2)[1] // '');
}
sub code_in { $_[0] =~ /^\s+(\d{6})\s*$/m ? $1 : undef }
sub mails_to { scalar grep { read_file($_) =~ /^X-Envelope-To: <\Q$_[0]\E>\r?$/m } mail_files() }
sub uid { psql("SELECT id FROM users WHERE email = '$_[0]'") }

# --- Sign-up through the API ---------------------------------------------------------
my $alice = "alice-$tag\@example.org";
my $res = post_json('/api/v1/auth/register', { email => $alice, password => $PW, name => "Alice O'Hara" });
is($res->code, 202, 'register: 202');
is(json_of($res)->{status}, 'verification_sent', '... verification_sent');
my $text = mail_text($alice, 'code');
my $code = code_in($text);
like($code // '', qr/^\d{6}$/, 'the sign-up code arrives by mail');
like($text, qr/Hello Alice O'Hara,/, "... greeting the name as written (no HTML escaping in text)");
is(post_json('/api/v1/auth/login', { email => $alice, password => $PW })->code, 403,
   'sign-in before verifying: 403 not-verified');
my $wrong = $code eq '000000' ? '111111' : '000000';
$res = post_json('/api/v1/auth/verify', { email => $alice, code => $wrong });
is($res->code, 400, 'a wrong code: 400');
is(json_of($res)->{type}, 'urn:lenz:problem:invalid-code', '... invalid-code');
$res = post_json('/api/v1/auth/verify', { email => $alice, code => $code });
is($res->code, 200, 'the right code: 200');
is(json_of($res)->{status}, 'active', '... active');
is(post_json('/api/v1/auth/verify', { email => $alice, code => $code })->code, 400, 'the code works once');
my $welcome = mail_text($alice, 'Welcome');
like($welcome, qr{/upload/}, 'a welcome mail follows (the mail subscriber of user.registered)');
my $aid = uid($alice);
ok(wait_until(sub { psql("SELECT count(*) FROM audit_log WHERE type = 'user.registered' AND subject = '$aid'") }, 10),
   'user.registered is in the audit log');
$res = post_json('/api/v1/auth/login', { email => $alice, password => $PW });
is($res->code, 200, 'sign-in: 200');
my $tokens = json_of($res);
ok(wait_until(sub { psql("SELECT count(*) FROM audit_log WHERE type = 'user.login' AND actor_id = '$aid'") }, 10),
   'user.login is in the audit log');
is(psql("SELECT payload->>'ip' FROM audit_log WHERE type = 'user.login' AND actor_id = '$aid' LIMIT 1"),
   '127.0.0.1', '... with the client address');

# --- A second sign-up for a taken address ----------------------------------------------
my $before = mails_to($alice);
$res = post_json('/api/v1/auth/register', { email => $alice, password => 'another password 1', name => 'Mallory' });
is($res->code, 202, 'registering a taken address: the same 202');
like(mail_text($alice, 'Someone tried'), qr/already has one/, '... and its owner is told by mail');
is(mails_to($alice), $before + 1, '... one mail, no code');
is(post_json('/api/v1/auth/login', { email => $alice, password => $PW })->code, 200, '... the account is unchanged');

# --- Five wrong codes lock the code; resend gives a new one ----------------------------
my $bob = "bob-$tag\@example.org";
post_json('/api/v1/auth/register', { email => $bob, password => $PW, name => 'Bob' });
my $bcode = code_in(mail_text($bob, 'code'));
ok($bcode, "bob's code arrives");
my $bwrong = $bcode eq '000000' ? '111111' : '000000';
my @codes = map { post_json('/api/v1/auth/verify', { email => $bob, code => $bwrong })->code } 1 .. 5;
is_deeply(\@codes, [400, 400, 400, 400, 400], 'five wrong codes: 400 each');
$res = post_json('/api/v1/auth/verify', { email => $bob, code => $bcode });
is($res->code, 410, 'then even the right code: 410');
is(json_of($res)->{type}, 'urn:lenz:problem:code-expired', '... code-expired');
my $n = mails_to($bob);
is(post_json('/api/v1/auth/resend', { email => $bob })->code, 202, 'resend: 202');
ok(wait_until(sub { mails_to($bob) > $n }, 10), '... a new mail');
my @files = grep { read_file($_) =~ /^X-Envelope-To: <\Q$bob\E>\r?$/m } mail_files();
my $bcode2 = code_in(MIME::QuotedPrint::decode((split /\r?\n\r?\n/, read_file($files[-1]), 2)[1]));
is(post_json('/api/v1/auth/verify', { email => $bob, code => $bcode2 })->code, 200, '... whose code works');

# --- An expired code -------------------------------------------------------------------
my $carol = "carol-$tag\@example.org";
post_json('/api/v1/auth/register', { email => $carol, password => $PW, name => 'Carol' });
my $ccode = code_in(mail_text($carol, 'code'));
ok($ccode, "carol's code arrives");
psql("UPDATE otps SET expires_at = now() - interval '1 second' WHERE purpose = 'register' "
     . "AND subject IN ('$carol', (SELECT id::text FROM users WHERE email = '$carol'))");
$res = post_json('/api/v1/auth/verify', { email => $carol, code => $ccode });
is($res->code, 410, 'an expired code: 410');
is(uid($carol) && psql("SELECT status FROM users WHERE email = '$carol'"), 'pending', '... the account stays pending');

# --- Password reset: the link works once and ends every way in ------------------------
my $nobody = "nobody-$tag\@example.org";
is(post_json('/api/v1/auth/reset', { email => $nobody })->code, 202, 'reset for an unknown address: the same 202');
is(post_json('/api/v1/auth/reset', { email => $alice })->code, 202, 'reset: 202');
my $rtext = mail_text($alice, 'Reset');
my ($rtoken) = $rtext =~ m{/account/reset/([A-Za-z0-9_-]+)};
ok($rtoken, 'the reset link arrives by mail');
my $NEW = 'a brand new passphrase';
$res = post_json('/api/v1/auth/reset/confirm', { token => $rtoken, password => $NEW });
is($res->code, 200, 'reset confirm: 200');
is(json_of($res)->{status}, 'password_changed', '... password_changed');
$res = post_json('/api/v1/auth/reset/confirm', { token => $rtoken, password => 'yet another passphrase' });
is($res->code, 410, 'the link a second time: 410');
is(json_of($res)->{type}, 'urn:lenz:problem:link-expired', '... link-expired');
is(post_json('/api/v1/auth/login', { email => $alice, password => $PW })->code, 401, 'the old password: 401');
is(post_json('/api/v1/auth/login', { email => $alice, password => $NEW })->code, 200, 'the new one: 200');
is(post_json('/api/v1/auth/refresh', { refresh_token => $tokens->{refresh_token} })->code, 401,
   'the refresh token from before the reset: 401 (its family ended)');
is(http_get('/api/v1/me', Authorization => "Bearer $tokens->{access_token}")->code, 401,
   'the access token from before the reset: 401');
is(mails_to($nobody), 0, 'the unknown address got no mail');

# --- The same through the pages ------------------------------------------------------
my $dana = "dana-$tag\@example.org";
$res = form('/account/register', { email => $dana, password => $PW, name => 'Dana' }, Accept => 'text/html');
is($res->code, 200, 'register form: 200');
like($res->content, qr{action="[^"]*/account/verify"}, '... answering with the code form');
my $dcode = code_in(mail_text($dana, 'code'));
ok($dcode, "the page's sign-up code arrives");
$res = form('/account/verify', { email => $dana, code => $dcode }, Accept => 'text/html');
ok($res->code == 200 || $res->code == 303, 'verify form: accepted (' . $res->code . ')');
is(psql("SELECT status FROM users WHERE email = '$dana'"), 'active', '... and the account is active');
$res = form('/account/login', { email => $dana, password => $PW }, Accept => 'text/html');
is($res->code, 303, 'and she signs in with the form');
ok(cookie_of($res), '... getting a session');

done_testing();
