# The security review's account findings (issue 15), each against the real
# servers:
#   1  starting TOTP set-up no longer switches two-factor off; with it on,
#      set-up needs the password and a code; disable is throttled
#   4  sign-in tries are counted before the password is checked: parallel
#      tries get no more guesses than sequential ones
#   6  recovery codes are stored keyed, not as their plain SHA-256
#   7  one TOTP code signs in once, also in parallel
#   8  failures from elsewhere do not lock the owner out of an address they
#      signed in from before
#   9  "sign out on every device" ends API token families too
#   15 verify answers the same whether a sign-up waits or not
# Several client addresses come from binding 127.0.0.x (all loopback).
use strict;
use warnings FATAL => 'all';
use Test::More;
use JSON::PP;
use Digest::SHA qw(hmac_sha1 sha256_hex);
use LWP::UserAgent;
use HTTP::Request;
use Lenz::Test;
use Lenz::Jobs;

my $env = stack_env();
my $top = top_dir();
my $J = JSON::PP->new->canonical;
my $tag = uniq('sec');
my $PW = 'correct horse battery';
my $base = Apache::TestRequest::resolve_url('/');
$base =~ s{/$}{};
local $ENV{LENZ_MASTER_KEY_FILE} = "$env->{LENZ_STACK_DIR}/master.key";

sub user {
    my ($email) = @_;
    my $out = `echo '$PW' | $top/build/lenzctl -e $env->{LENZ_STACK_DIR}/stack.env create-user $email --password-stdin 2>&1`;
    die "create-user: $out" if $?;
    return $email;
}
# A request from one loopback address (127.0.0.N).
sub from {
    my ($n, $method, $path, $body, @h) = @_;
    my $ua = LWP::UserAgent->new(timeout => 60, local_address => "127.0.0.$n");
    $ua->requests_redirectable([]);
    return $ua->request(HTTP::Request->new($method => "$base$path",
        [ 'Content-Type' => 'application/json', @h ], ref $body ? $J->encode($body) : $body));
}
sub login_from { my ($n, $email, $pw, %o) = @_; from($n, 'POST', '/api/v1/auth/login', { email => $email, password => $pw, %o }) }
# Runs the subs in parallel (one process each, released together); their results.
sub parallel {
    my @subs = @_;
    my (@pipes, @pids);
    my $go = time + 1;
    for my $s (@subs) {
        pipe(my $r, my $w) or die;
        my $pid = fork // die;
        if (!$pid) {
            close $r;
            select undef, undef, undef, 0.01 while time < $go;
            print $w $s->() // '';
            close $w;
            require POSIX;
            POSIX::_exit(0);
        }
        close $w;
        push @pipes, $r;
        push @pids, $pid;
    }
    my @out = map { local $/; my $fh = $_; my $v = <$fh>; close $fh; $v } @pipes;
    waitpid $_, 0 for @pids;
    return @out;
}
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
sub token_of { my ($res) = @_; $res->code == 200 ? json_of($res)->{access_token} : die 'login: ' . $res->code . ' ' . $res->content }

# --- 1: TOTP set-up keeps the active secret; with 2FA on it needs proof -----------
{
    my $u = user("totp-$tag\@example.org");
    my $tok = token_of(login_from(11, $u, $PW));
    my $s1 = base32_decode(json_of(from(11, 'POST', '/api/v1/me/totp', '', bearer($tok)))->{secret});
    my $res = from(11, 'POST', '/api/v1/me/totp/enable', { code => totp($s1, time) }, bearer($tok));
    is($res->code, 200, '1: two-factor on');
    my @recovery = @{ json_of($res)->{recovery_codes} };
    like(mail_to($u, 10, qr/^Subject: Two-factor sign-in changed/m) // '', qr/switched on/,
         '1: the member is mailed a notice');

    # A thief with the access token only.
    $res = from(11, 'POST', '/api/v1/me/totp', '', bearer($tok));
    is($res->code, 403, '1: with 2FA on, set-up without the password and a code: 403');
    $res = from(11, 'POST', '/api/v1/me/totp', { password => 'wrong password!', code => totp($s1, time) }, bearer($tok));
    is($res->code, 403, '1: ... with a wrong password: 403');
    $res = login_from(11, $u, $PW);
    is($res->code, 401, '1: two-factor is still on after the refused set-ups');
    ok(json_of($res)->{totp_required}, '1: ... totp_required');

    # The owner replaces their authenticator.
    $res = from(11, 'POST', '/api/v1/me/totp', { password => $PW, code => $recovery[0] }, bearer($tok));
    is($res->code, 200, '1: set-up with the password and a recovery code: 200');
    my $s2 = base32_decode(json_of($res)->{secret});
    isnt($s2, $s1, '1: ... a new secret');
    $res = login_from(11, $u, $PW, totp => totp($s1, time + 30));
    is($res->code, 200, '1: until it is confirmed, the old secret still signs in');
    $res = login_from(15, $u, $PW, totp => totp($s2, time));
    is($res->code, 401, '1: ... and the new one does not yet');
    $res = from(11, 'POST', '/api/v1/me/totp/enable', { code => totp($s2, time) }, bearer($tok));
    is($res->code, 200, '1: confirmed with a code from the new secret');
    $res = login_from(11, $u, $PW, totp => totp($s2, time + 30));
    is($res->code, 200, '1: now the new secret signs in');
    like(mail_to($u, 10, qr/A new authenticator app was set up/) // '', qr/from 127\.0\.0\.11/,
         '1: ... and the member is told of the new authenticator');
    $res = login_from(16, $u, $PW, totp => totp($s1, time));
    is($res->code, 401, '1: ... and the old one no longer');

    # Disable is no oracle: wrong tries count as sign-in failures.
    my @codes = map { from(12, 'POST', '/api/v1/me/totp/disable', { password => "guess number $_", code => '123456' },
                           bearer($tok))->code } 1 .. 6;
    is("@codes[0..4]", '403 403 403 403 403', '1: five wrong disables from one address: 403 each');
    is($codes[5], 429, '1: the sixth is refused before checking: 429');
    $res = from(12, 'POST', '/api/v1/me/totp/disable', { password => $PW, code => totp($s2, time + 150) }, bearer($tok));
    is($res->code, 429, '1: ... even with the right password and code, from there');
    is(login_from(11, $u, $PW)->code, 401, '1: two-factor is still on');
}

# --- 6 and 7: recovery codes keyed; one TOTP code once, in parallel ----------------
{
    my $u = user("rec-$tag\@example.org");
    my $tok = token_of(login_from(13, $u, $PW));
    my $s = base32_decode(json_of(from(13, 'POST', '/api/v1/me/totp', '', bearer($tok)))->{secret});
    my $res = from(13, 'POST', '/api/v1/me/totp/enable', { code => totp($s, time) }, bearer($tok));
    my @recovery = @{ json_of($res)->{recovery_codes} };
    my $id = psql("SELECT id FROM users WHERE email = '$u'");
    my @stored = split /\n/, psql("SELECT encode(code_hash, 'hex') FROM recovery_codes WHERE user_id = '$id'");
    is(scalar @stored, 10, '6: ten recovery codes stored');
    my %plain = map { (my $c = uc $_) =~ s/-//g; (sha256_hex($c) => 1) } @recovery;
    is(scalar(grep { $plain{$_} } @stored), 0, '6: none of them is its plain SHA-256 (a dump alone tests nothing)');
    is(psql("SELECT count(*) FROM recovery_codes WHERE user_id = '$id' AND kek_version IS NOT NULL"), 10,
       '6: ... each keyed under a KEK version');
    is(login_from(13, $u, $PW, totp => $recovery[3])->code, 200, '6: a keyed recovery code signs in');
    is(login_from(13, $u, $PW, totp => $recovery[3])->code, 401, '6: ... once');

    my $t30 = time + 30;
    my $code = totp($s, $t30);
    my @st = parallel(map { sub { login_from(14, $u, $PW, totp => $code)->code } } 1 .. 6);
    is(scalar(grep { $_ == 200 } @st), 1, "7: one code in six parallel sign-ins signs in once (@st)");
    my ($last) = psql("SELECT totp_last_step FROM users WHERE id = '$id'");
    is($last, int($t30 / 30), '7: the replay guard holds that step');
}

# --- 4: parallel guesses get no more tries than sequential ones --------------------
{
    my $u = user("par-$tag\@example.org");
    my @st = parallel(map { my $n = $_; sub { login_from(21, $u, "wrong guess $n")->code } } 1 .. 16);
    my $checked = grep { $_ == 401 } @st;
    my $paused = grep { $_ == 429 } @st;
    is($checked, 5, "4: sixteen parallel wrong passwords: five checked (401), as sequentially (@st)");
    is($paused, 11, '4: ... the rest refused before any hash (429)');
    is(login_from(21, $u, $PW)->code, 429, '4: the right password from there waits too');
}

# --- 8: the owner's known address is not locked by failures from elsewhere ---------
{
    my $u = user("lock-$tag\@example.org");
    is(login_from(31, $u, $PW)->code, 200, '8: the owner signs in from 127.0.0.31');
    my $fails = 0;
    for my $n (40 .. 43) {                      # twenty failures from four addresses
        $fails += login_from($n, $u, "guess $n-$_")->code == 401 ? 1 : 0 for 1 .. 5;
    }
    is($fails, 20, '8: twenty wrong passwords from four other addresses');
    is(login_from(44, $u, $PW)->code, 429, '8: the account is paused for new addresses');
    is(login_from(31, $u, $PW)->code, 200, '8: ... but the owner signs in from where they did before');
}

# --- 9: sign out on every device ends API token families too -----------------------
{
    my $u = user("out-$tag\@example.org");
    my $api = json_of(login_from(51, $u, $PW));
    my $res = form('/account/login', { email => $u, password => $PW }, Accept => 'text/html');
    my $cookie = cookie_of($res);
    ok($cookie, '9: a browser session');
    $res = http_get('/account', Cookie => $cookie, Accept => 'text/html');
    my $csrf = csrf_of($res);
    $res = form('/account/logout-all', { csrf => $csrf }, Cookie => $cookie, Accept => 'text/html');
    ok($res->code == 303 || $res->code == 200, '9: "sign out on every device" (' . $res->code . ')');
    is(from(51, 'GET', '/api/v1/me', undef, bearer($api->{access_token}))->code, 401,
       '9: the API access token of the same member stops working');
    $res = from(51, 'POST', '/api/v1/auth/refresh', { refresh_token => $api->{refresh_token} });
    is($res->code, 401, '9: ... and its refresh token too');
}

# --- 15: verify tells nothing about who signed up ----------------------------------
{
    my $pending = "pend-$tag\@example.org";
    is(from(61, 'POST', '/api/v1/auth/register', { email => $pending, password => $PW })->code, 202,
       '15: a sign-up waits for its code');
    my $active = user("act-$tag\@example.org");
    my $nobody = "nobody-$tag\@example.org";
    my %seen;
    for my $who ($pending, $active, $nobody) {
        my @a = map {
            my $r = from(62 + (keys %seen), 'POST', '/api/v1/auth/verify', { email => $who, code => '000001' });
            my $j = json_of($r);
            join ' ', $r->code, $j->{type} // '', $j->{detail} // '';
        } 1 .. 6;
        $seen{$who} = join "\n", @a;
    }
    is($seen{$nobody}, $seen{$pending}, '15: an address without a sign-up gets the answers a waiting one gets');
    is($seen{$active}, $seen{$pending}, '15: ... and so does an active account');
    like($seen{$pending}, qr/^400 .*\n400 .*\n400 .*\n400 .*\n400 .*\n410 /, '15: 400 five times, then 410');

    # Each resend brings a code of five tries; wrong codes are capped at ten
    # a day across resends, and an address without a sign-up answers alike.
    my %after;
    for my $who ($pending, $nobody) {
        my @a;
        for my $round (1, 2) {
            push @a, from(70, 'POST', '/api/v1/auth/resend', { email => $who })->code;
            push @a, map { from(71, 'POST', '/api/v1/auth/verify', { email => $who, code => '000002' })->code }
                     1 .. ($round == 1 ? 5 : 1);
        }
        $after{$who} = "@a";
    }
    is($after{$pending}, '202 400 400 400 400 400 202 429', '15: a resend brings five tries, ten wrong a day at most (then 429)');
    is($after{$nobody}, $after{$pending}, '15: ... and an address without a sign-up answers the same');
}

done_testing();
