# Personal access tokens (issue 19): POST/GET/DELETE /api/v1/me/tokens in
# the fixed shapes; the token shown once and stored only as a hash; it
# works as "Authorization: Bearer" and as the password of Basic auth; the
# scopes hold (read: GET/HEAD, write: the rest); revoking, expiry and a
# disabled member stop it at the next request; it cannot make tokens; at
# most 50 live; other members' tokens are "not found"; bad input is 400;
# the settings page's forms need the CSRF token.  (The page in Chromium:
# t/browser/pages.test.mjs, section settings.)
use strict;
use warnings FATAL => 'all';
use Test::More;
use Digest::SHA qw(sha256_hex);
use MIME::Base64 qw(encode_base64);
use POSIX ();
use Lenz::Test qw(:DEFAULT random_bytes);
use Lenz::Jobs;
use Lenz::Member;

my $tag = uniq('pat');
my $emailA = "a-$tag\@example.org";
my $A = member($emailA);
my $B = member("b-$tag\@example.org");
sub mk { api($_[0], 'POST', '/me/tokens', $_[1]) }
sub basic { ('Authorization' => 'Basic ' . encode_base64("$_[0]:$_[1]", '')) }
sub type_of { (J($_[0])->{type} // '') =~ s{.*[/:]}{}r }

# --- Made: the fixed shape, shown once -------------------------------------------------------------
my $res = mk($A, { name => 'backup script', scopes => ['read'], expires_in => 86400 });
is($res->code, 201, 'POST /me/tokens: 201');
my $t = J($res);
is_deeply([sort keys %$t], [sort qw(id token name scopes expires_at created_at last_used_at last_used_ip expired)],
          '... with id, token, name, scopes, expires_at (and when made, last used, expired)');
like($t->{token}, qr/^lenz_pat_[A-Za-z0-9_-]{43}$/, '... the token: lenz_pat_ and 43 base64url characters');
is_deeply($t->{scopes}, ['read'], '... scopes as asked');
is($t->{name}, 'backup script', '... the name');
like($t->{expires_at}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, '... expires_at as an ISO time');
is($res->header('Location'), "/api/v1/me/tokens/$t->{id}", '... Location');
like($res->header('Cache-Control') // '', qr/no-store/, '... Cache-Control: no-store');
my $READ = $t->{token};

$res = api($A, 'GET', '/me/tokens');
is($res->code, 200, 'GET /me/tokens: 200');
my ($listed) = grep { $_->{id} eq $t->{id} } @{ J($res)->{tokens} };
ok($listed && $listed->{name} eq 'backup script', '... lists it');
ok(!exists $listed->{token} && index($res->content, substr($READ, 9)) < 0, '... never the token again');

# Only SHA-256 of the 43 characters is kept.
my $row = psql("SELECT encode(hash, 'hex') || ' ' || row_to_json(t)::text FROM personal_tokens t WHERE id = '$t->{id}'");
my ($hash) = split / /, $row;
is($hash, sha256_hex(substr($READ, 9)), 'the database keeps SHA-256 of the token');
ok(index($row, substr($READ, 9)) < 0, '... and nothing of the token itself');

# --- Bearer, scopes -------------------------------------------------------------------------------
$res = api($READ, 'GET', '/me');
is($res->code . ' ' . (J($res)->{email} // ''), "200 $emailA", 'a read token: GET /me answers as its member');
is(api($READ, 'GET', '/folders/root')->code, 200, '... lists the root folder');
is(http_req('HEAD', '/api/v1/folders/root', [bearer($READ)])->code, 200, '... HEAD too');
$res = api($READ, 'POST', '/folders', { name => "No $tag" });
is($res->code, 403, '... POST /folders: 403');
is(type_of($res), 'insufficient-scope', '... insufficient-scope');
like($res->header('WWW-Authenticate') // '', qr/error="insufficient_scope", scope="write"/, '... WWW-Authenticate names the scope');
ok(!grep({ $_->{name} eq "No $tag" } @{ J(api($A, 'GET', '/folders/root'))->{children} }), '... and no folder was made');

my $W = J(mk($A, { name => 'uploader', scopes => ['write'] }))->{token};
ok($W, 'a write-only token without expires_in');
is(api($W, 'GET', '/folders/root')->code, 403, 'a write-only token: GET: 403');
is(api($W, 'POST', '/folders', { name => "W $tag" })->code, 201, '... POST /folders: 201');

$res = mk($A, { name => 'sync', scopes => ['read', 'write'], expires_in => undef });
is($res->code, 201, 'a read-write token, expires_in null');
is(J($res)->{expires_at}, undef, '... does not expire');
is_deeply(J($res)->{scopes}, ['read', 'write'], '... scopes read and write');
my $RW = J($res)->{token};
my $RW_ID = J($res)->{id};
my $data = random_bytes(70_000);
my $up = eval { upload_small($RW, '/api/v1/uploads', "pat-$tag.bin", $data) };
ok($up && $up->{file_id}, 'an encrypted upload with it (initiate, part, complete)') or diag $@;
$res = api($RW, 'GET', "/files/$up->{file_id}/content");
ok($res->code == 200 && $res->content eq $data, '... and its content read back, whole');

# --- Basic: e-mail and token ----------------------------------------------------------------------
$res = http_get('/api/v1/me', basic($emailA, $RW));
is($res->code . ' ' . (J($res)->{email} // ''), "200 $emailA", 'Basic with the e-mail and the token: 200');
is(http_get('/api/v1/me', basic(uc $emailA, $RW))->code, 200, '... the e-mail in any case');
$res = http_get('/api/v1/me', basic("b-$tag\@example.org", $RW));
is($res->code, 401, "... another member's e-mail: 401");
like($res->header('WWW-Authenticate') // '', qr/^Bearer /, '... asking for Bearer (no Basic prompt a browser would cache)');
is(http_get('/api/v1/me', basic($emailA, 'correct horse battery'))->code, 401,
   '... the account password is not a token: 401 (a guest)');
is(http_req('POST', '/api/v1/folders', [basic($emailA, $READ), 'Content-Type' => 'application/json'], '{"name":"x"}')->code,
   403, '... the scopes hold under Basic too');

# --- Garbage ----------------------------------------------------------------------------------------
for my $bad ('lenz_pat_', 'lenz_pat_short', 'lenz_pat_' . ('A' x 43), 'lenz_pat_' . substr($READ, 9, 42) . '!',
             $READ . 'x') {
    $res = api($bad, 'GET', '/me');
    is($res->code . ' ' . type_of($res), '401 invalid-token', "a made-up token (" . length($bad) . " chars): 401");
}

# --- A token cannot make tokens; revoke and list ----------------------------------------------------
$res = mk($RW, { name => 'child', scopes => ['read'] });
is($res->code . ' ' . type_of($res), '403 token-cannot-make-tokens', 'a token cannot make a token: 403');
is(api($READ, 'GET', '/me/tokens')->code, 200, '... (a read token may list them)');

is(api($B, 'DELETE', "/me/tokens/$t->{id}")->code, 404, "another member revoking A's token: 404");
my $ghost = api($B, 'DELETE', '/me/tokens/00000000-0000-4000-8000-000000000000');
is($ghost->code, 404, '... as for an id that does not exist');
is(type_of($ghost), type_of(api($B, 'DELETE', "/me/tokens/$t->{id}")), '... the same problem');
is(api($B, 'DELETE', '/me/tokens/not-a-uuid')->code, 404, '... a malformed id: 404');
ok(!grep({ $_->{id} eq $t->{id} } @{ J(api($B, 'GET', '/me/tokens'))->{tokens} }), "B's list has none of A's");
is(api($READ, 'GET', '/me')->code, 200, "A's token still works");

is(api($A, 'DELETE', "/me/tokens/$t->{id}")->code, 204, 'DELETE /me/tokens/{id}: 204');
$res = api($READ, 'GET', '/me');
is($res->code . ' ' . type_of($res), '401 invalid-token', '... the next request with it: 401');
is(api($A, 'DELETE', "/me/tokens/$t->{id}")->code, 404, '... revoking again: 404');
ok(!grep({ $_->{id} eq $t->{id} } @{ J(api($A, 'GET', '/me/tokens'))->{tokens} }), '... gone from the list');
my @ev = split /\n/, psql("SELECT type FROM events WHERE subject = '$t->{id}' ORDER BY id");
is_deeply(\@ev, ['token.created', 'token.revoked'], 'events token.created and token.revoked (the audit log)');

# --- Last use, expiry, a disabled member -----------------------------------------------------------
($listed) = grep { $_->{id} eq $RW_ID } @{ J(api($A, 'GET', '/me/tokens'))->{tokens} };
ok($listed->{last_used_at} && $listed->{last_used_ip} eq '127.0.0.1', 'last use recorded: when and from where')
    or diag explain $listed;
my $E = J(mk($A, { name => 'soon', scopes => ['read'], expires_in => 3600 }));
is(api($E->{token}, 'GET', '/me')->code, 200, 'a token with an hour left works');
psql("UPDATE personal_tokens SET expires_at = now() - interval '1 second' WHERE id = '$E->{id}'");
is(api($E->{token}, 'GET', '/me')->code, 401, '... past its expiry: 401');
($listed) = grep { $_->{id} eq $E->{id} } @{ J(api($A, 'GET', '/me/tokens'))->{tokens} };
ok($listed && $listed->{expired}, '... listed as expired');

# --- Bad input --------------------------------------------------------------------------------------
my @bad = (
    [{ scopes => ['read'] }, 'name', 'no name'],
    [{ name => '', scopes => ['read'] }, 'name', 'an empty name'],
    [{ name => 'x' x 101, scopes => ['read'] }, 'name', 'a name of 101 characters'],
    [{ name => "a\x{202e}b", scopes => ['read'] }, 'name', 'a name with a bidirectional control'],
    [{ name => "a\tb", scopes => ['read'] }, 'name', 'a name with a tab'],
    [{ name => 'n' }, 'scopes', 'no scopes'],
    [{ name => 'n', scopes => [] }, 'scopes', 'no scope in the list'],
    [{ name => 'n', scopes => ['admin'] }, 'scopes', 'an unknown scope'],
    [{ name => 'n', scopes => 'read' }, 'scopes', 'scopes as a string'],
    [{ name => 'n', scopes => ['read'], expires_in => 10 }, 'expires_in', 'expires_in under an hour'],
    [{ name => 'n', scopes => ['read'], expires_in => 10**12 }, 'expires_in', 'expires_in past five years'],
    [{ name => 'n', scopes => ['read'], expires_in => 'soon' }, 'expires_in', 'expires_in as text'],
);
for my $b (@bad) {
    $res = mk($A, $b->[0]);
    is($res->code . ' ' . (J($res)->{field} // ''), "400 $b->[1]", "$b->[2]: 400 naming $b->[1]");
}
$res = http_req('POST', '/api/v1/me/tokens', [bearer($A), 'Content-Type' => 'application/json'], '{"name":');
is($res->code, 400, 'a broken body: 400');
is(api(undef, 'GET', '/me/tokens')->code, 401, 'without signing in: 401');

# --- At most 50 live --------------------------------------------------------------------------------
my $live = () = grep { !$_->{expired} } @{ J(api($B, 'GET', '/me/tokens'))->{tokens} };
my @made;
push @made, J(mk($B, { name => "t$_", scopes => ['read'] }))->{id} for $live + 1 .. 50;
is(scalar(grep { defined } @made), 50 - $live, 'B makes tokens up to 50 live');
$res = mk($B, { name => 'one too many', scopes => ['read'] });
is($res->code . ' ' . type_of($res), '409 too-many-tokens', 'the 51st: 409 too-many-tokens');
is(api($B, 'DELETE', "/me/tokens/$made[0]")->code, 204, 'one revoked');
is(mk($B, { name => 'again', scopes => ['read'] })->code, 201, '... makes room for one more');

# Twenty made at once by B (with one place free after revoking two):
# never more than 50 live.
api($B, 'DELETE', "/me/tokens/$_") for @made[1, 2];
my @pids;
for my $i (1 .. 20) {
    my $pid = fork // die "fork: $!";
    if (!$pid) { my $c = mk($B, { name => "race$i", scopes => ['read'] })->code; POSIX::_exit($c == 201 ? 0 : 1) }
    push @pids, $pid;
}
my $won = 0;
for (@pids) { waitpid $_, 0; $won++ if $? == 0 }
is($won, 2, 'twenty at once for two places: two made');
is(psql("SELECT count(*) FROM personal_tokens t JOIN users u ON u.id = t.user_id "
        . "WHERE u.email = 'b-$tag\@example.org' AND revoked_at IS NULL"), 50, '... 50 live, not more');

# A disabled member's tokens stop at once.
my $Bt = J(api($B, 'GET', '/me/tokens'))->{tokens}[0];
is(api($B, 'DELETE', "/me/tokens/$Bt->{id}")->code, 204, 'B revokes one');
$Bt = J(mk($B, { name => 'last', scopes => ['read'] }));
my $BT = $Bt->{token};
is(api($BT, 'GET', '/me')->code, 200, "B's token works");
psql("UPDATE users SET status = 'disabled' WHERE email = 'b-$tag\@example.org'");
is(api($BT, 'GET', '/me')->code, 401, '... B disabled: 401 at the next request');

# --- The settings page's forms -------------------------------------------------------------------------
$res = form('/account/login', { email => $emailA, password => 'correct horse battery', next => '/account/settings' });
is($res->code, 303, 'signed in through the form');
my $cookie = cookie_of($res);
$res = http_get('/account/settings', Cookie => $cookie, Accept => 'text/html');
is($res->code, 200, '/account/settings: 200');
like($res->content, qr/uploader/, '... lists the tokens by name');
my $csrf = csrf_of($res);
sub post_form { form($_[0], $_[1], Cookie => $cookie, Accept => 'text/html') }
$res = post_form('/account/settings/tokens', { name => 'from the form', read => 1, expires => '30' });
is($res->code, 403, 'making one without the CSRF token: 403');
$res = post_form('/account/settings/tokens', { csrf => $csrf, name => 'from the form', read => 1, expires => '30' });
is($res->code, 201, 'with it: 201, a page');
like($res->content, qr/value="(lenz_pat_[A-Za-z0-9_-]{43})"/, '... showing the token');
my ($FT) = $res->content =~ /value="(lenz_pat_[A-Za-z0-9_-]{43})"/;
is(api($FT, 'GET', '/me')->code, 200, '... which works');
$res = post_form('/account/settings/tokens', { csrf => $csrf, name => 'x', expires => '30' });
is($res->code, 400, 'no scope ticked: 400');
like($res->content, qr/<h1[^>]*>[^<]*Choose a scope/, '... a page saying so');
$res = post_form('/account/settings/tokens', { csrf => $csrf, name => 'x', read => 1, expires => '12' });
is($res->code, 400, 'an expiry not offered: 400');
my $fid = (grep { $_->{name} eq 'from the form' } @{ J(api($A, 'GET', '/me/tokens'))->{tokens} })[0]{id};
is(post_form("/account/settings/tokens/$RW_ID/revoke", {})->code, 403, 'revoking without the CSRF token: 403');
$res = post_form("/account/settings/tokens/$fid/revoke", { csrf => $csrf });
is($res->code, 303, 'revoked through the form: 303');
is(api($FT, 'GET', '/me')->code, 401, '... the token stops');
is(post_form("/account/settings/tokens/$Bt->{id}/revoke", { csrf => $csrf })->code, 404,
   "... B's token through A's form: 404");
is(http_get('/account/settings', Accept => 'text/html')->code, 303, 'a guest is sent to sign in');

done_testing();
