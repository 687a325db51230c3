# The e-mail OTP gate of share links, end to end through the SMTP sink: a
# link with recipients asks for a code; only a recipient gets one (every
# caller gets the same 202); the code from the mail opens the link once,
# as a grant bound to that link; wrong codes lock it after five; an
# expired code is refused; a password and the OTP together need both; the
# browser gets the gate page.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Digest::SHA qw(sha256_hex);
use MIME::QuotedPrint ();
use Lenz::Test;
use Lenz::Jobs;

my $tag = uniq('otp');
my $rcpt = "rcpt-$tag\@example.org";
my $other = "other-$tag\@example.org";
my $data = join '', map { chr(($_ * 7) % 256) } 0 .. 70000;

# The code in the newest mail to $to, once more than $before mails reached it.
sub code_mail {
    my ($to, $before) = @_;
    wait_until(sub { n_mails($to) > $before }, 10) or return undef;
    my @f = grep { read_file($_) =~ /^X-Envelope-To: <\Q$to\E>\r?$/m } mail_files();
    my $text = MIME::QuotedPrint::decode((split /\r?\n\r?\n/, read_file($f[-1]), 2)[1] // '');
    return $text =~ /^\s+(\d{6})\s*$/m ? $1 : undef;
}
sub n_mails { my $to = shift; scalar grep { read_file($_) =~ /^X-Envelope-To: <\Q$to\E>\r?$/m } mail_files() }
sub problem_type { (json_of($_[0]) // {})->{type} // '' }

my $up = guest_upload($data, name => "otp-$tag.bin", recipients => [$rcpt]);
my $t = $up->{token};

# --- The gate ------------------------------------------------------------------------
my $res = http_get("/download/$t", Accept => 'application/json');
is($res->code, 401, 'a link with recipients: 401');
is(problem_type($res), 'urn:lenz:problem:gate-required', '... gate-required');
is_deeply(json_of($res)->{requires}, ['email_otp'], '... requiring email_otp');
$res = http_get("/download/$t", Accept => 'text/html');
is($res->code, 401, 'a browser gets the gate page (401)');
like($res->content, qr{<form[^>]+action="[^"]*/download/\Q$t\E/otp"}, '... with the address form');
like($res->content, qr{<label for="email">}, '... labelled');

# --- Only a recipient gets a code; everyone gets the same answer ----------------------
$res = post_json("/download/$t/otp", { email => $other });
is($res->code, 202, 'a code for a non-recipient: 202');
is(json_of($res)->{status}, 'code_sent_if_allowed', '... code_sent_if_allowed');
$res = post_json("/download/$t/otp", { email => uc $rcpt });
is($res->code, 202, 'a code for the recipient (any letter case): the same 202');
my $code = code_mail($rcpt, 0);
like($code // '', qr/^\d{6}$/, 'the recipient gets the code by mail');
ok(!mail_to($other, 1), 'the non-recipient gets nothing');
is(post_json("/download/$t/otp", { email => 'not an address' })->code, 202, 'a malformed address: the same 202');
is(post_json("/download/$t/otp", '{"email": ')->code, 400, 'malformed JSON: 400');

# --- Verify: wrong, right, once; the grant is bound to its link ----------------------
my $wrong = $code eq '000000' ? '111111' : '000000';
$res = post_json("/download/$t/verify", { email => $rcpt, code => $wrong });
is($res->code, 403, 'a wrong code: 403');
is(problem_type($res), 'urn:lenz:problem:invalid-code', '... invalid-code');
$res = post_json("/download/$t/verify", { email => $other, code => $code });
is($res->code, 410, "the right code with another address (none was issued to it): 410");
$res = post_json("/download/$t/verify", { email => $rcpt, code => $code });
is($res->code, 200, 'the right code: 200');
my $grant = json_of($res)->{grant};
ok($grant, '... a grant');
like(join("\n", $res->header('Set-Cookie')), qr/HttpOnly/, '... also as an HttpOnly cookie');
is(post_json("/download/$t/verify", { email => $rcpt, code => $code })->code, 410, 'the code works once (then 410)');
$res = http_get("/download/$t", Authorization => "Grant $grant");
is($res->code, 200, 'with the grant (Authorization: Grant): 200');
is(sha256_hex($res->content), sha256_hex($data), '... every byte');
is(http_get("/download/$t?grant=$grant")->code, 200, 'with ?grant=: 200');
is(http_get("/download/$t", Authorization => 'Grant ' . ('A' x length $grant))->code, 401, 'a forged grant: 401');
my $up2 = guest_upload('second', name => "otp2-$tag.bin", recipients => [$rcpt]);
is(http_get("/download/$up2->{token}", Authorization => "Grant $grant", Accept => 'application/json')->code, 401,
   "a grant opens only its own link");

# --- Five wrong codes lock the code ---------------------------------------------------
my $start = n_mails($rcpt);
post_json("/download/$up2->{token}/otp", { email => $rcpt });
my $code2 = code_mail($rcpt, $start);
ok($code2, 'a code for the second link');
my $w2 = $code2 eq '000000' ? '111111' : '000000';
my @st = map { post_json("/download/$up2->{token}/verify", { email => $rcpt, code => $w2 })->code } 1 .. 5;
is_deeply(\@st, [403, 403, 403, 403, 403], 'five wrong codes: 403 each');
$res = post_json("/download/$up2->{token}/verify", { email => $rcpt, code => $code2 });
is($res->code, 410, 'then the right code: 410');
is(problem_type($res), 'urn:lenz:problem:code-expired', '... code-expired');

# --- An expired code -------------------------------------------------------------------
$start = n_mails($rcpt);
post_json("/download/$up2->{token}/otp", { email => $rcpt });
my $code3 = code_mail($rcpt, $start);
ok($code3, 'a new code is mailed');
psql("UPDATE otps SET expires_at = now() - interval '1 second' WHERE purpose LIKE 'link:%' AND subject = '$rcpt'");
$res = post_json("/download/$up2->{token}/verify", { email => $rcpt, code => $code3 });
is($res->code, 410, 'an expired code: 410');

# --- Password and OTP together --------------------------------------------------------
my $both = guest_upload('both gates', name => "both-$tag.bin", recipients => [$rcpt], password => 'open sesame');
my $bt = $both->{token};
is_deeply([sort @{ json_of(http_get("/download/$bt", Accept => 'application/json'))->{requires} }],
          ['email_otp', 'password'], 'password and recipients: both required');
$res = post_json("/download/$bt/unlock", { password => 'open sesame' });
is($res->code, 200, 'the password: 200');
my $g1 = json_of($res)->{grant};
$res = http_get("/download/$bt", Authorization => "Grant $g1", Accept => 'application/json');
is($res->code, 401, 'the password alone is not enough');
is_deeply(json_of($res)->{requires}, ['email_otp'], '... the OTP is still required');
$start = n_mails($rcpt);
post_json("/download/$bt/otp", { email => $rcpt }, Authorization => "Grant $g1");
my $c4 = code_mail($rcpt, $start);
$res = post_json("/download/$bt/verify", { email => $rcpt, code => $c4 }, Authorization => "Grant $g1");
is($res->code, 200, 'then the code: 200');
my $g2 = json_of($res)->{grant};
$res = http_get("/download/$bt", Authorization => "Grant $g2");
is($res->code, 200, 'a grant holding both: 200');
is($res->content, 'both gates', '... the file');

done_testing();
