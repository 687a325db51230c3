# The one policy point, route by route: every route in every route table
# of the sources (read from mod_lenz/*/h_*.c, so a new route cannot escape this
# test) is called as a guest, a member, a lab member and an admin, and must
# answer as its declared access says: public routes never ask for a
# sign-in; member routes refuse guests; admin routes refuse members and the
# lab; lab routes refuse members.
use strict;
use warnings FATAL => 'all';
use Test::More;
use JSON::PP;
use Lenz::Test;

my $env = stack_env();
my $top = top_dir();
my $ctl = "$top/build/lenzctl -e $env->{LENZ_STACK_DIR}/stack.env";
local $ENV{LENZ_MASTER_KEY_FILE} = "$env->{LENZ_STACK_DIR}/master.key";

# Where each file's tables are mounted (the test configuration's Locations).
my %mount = (
    'h_status.c' => '', 'h_account.c' => '/account', 'h_upload.c' => '/upload',
    'h_download.c' => '/download', 'h_api_auth.c' => '/api/v1', 'h_api_links.c' => '/api/v1',
    'h_api_admin.c' => '/api/v1', 'h_notify.c' => '/events', 'h_files.c' => '/api/v1', 'h_api_content.c' => '/api/v1',
    'h_files_page.c' => '/files', 'h_home.c' => '', 'h_request.c' => '/upload', 'h_requests.c' => '/api/v1',
    'h_share_page.c' => '/files', 'h_tokens.c' => '/account', 'h_settings.c' => '/account', 'h_prefs.c' => '/account',
    'h_shares.c' => '/api/v1', 'h_comments.c' => '/api/v1', 'h_activity.c' => '/api/v1', 'h_pages.c' => '/collab', 'h_topics.c' => '/api/v1', 'h_topic_pages.c' => '/topics', 'h_search.c' => '/search', 'h_messages.c' => '/api/v1',
    'h_admin.c' => '/admin', 'h_jobs.c' => '/admin', 'h_audit.c' => '/admin', 'h_links.c' => '/admin', 'h_system.c' => '/admin',
);
my @routes;
for my $file (sort glob "$top/mod_lenz/*/h_*.c") {
    (my $base = $file) =~ s{.*/}{};
    my $src = do { local $/; open my $fh, '<', $file or die; <$fh> };
    my $table = 0;
    for my $line (split /\n/, $src) {
        # lenz_api_*_routes tables are mounted under /api/v1 by areas.c.
        $table = ($line =~ /^const lenz_route lenz_api_\w+_routes/) ? 2
               : ($line =~ /^static const lenz_route routes/ ? 1 : $table);
        next unless $line =~ /\{\s*LENZ_(GET|POST|PUT|DELETE|PATCH),\s*"([^"]+)",\s*\w+,\s*LENZ_ACCESS_(\w+)\s*\}/;
        die "no mount for $base" unless exists $mount{$base};
        my $m = $table == 2 ? '/api/v1' : $mount{$base};
        push @routes, [$1, $m . ($2 eq '/' && $m ? '' : $2), $3, $base];
    }
}
ok(@routes >= 40, scalar(@routes) . ' routes found in the sources');

sub user {
    my ($email, @flags) = @_;
    `echo 'correct horse battery' | $ctl create-user $email --password-stdin @flags 2>&1`;
    my $res = http_req('POST', '/api/v1/auth/login', ['Content-Type' => 'application/json'],
                       encode_json({ email => $email, password => 'correct horse battery' }));
    return json_of($res)->{access_token};
}
my $tag = sprintf('%d%d', time, $$);
my %who = (
    guest  => [],
    member => ['Authorization' => 'Bearer ' . user("rt-member-$tag\@example.org")],
    admin  => ['Authorization' => 'Bearer ' . user("rt-admin-$tag\@example.org", '--admin')],
    lab    => ['Authorization' => 'Bearer ' . user("rt-lab-$tag\@example.org", '--lab')],
);

my %fill = (token => 'A' x 43, file => '00000000-0000-0000-0000-000000000000',
            id => '00000000-0000-0000-0000-000000000000');
for my $r (@routes) {
    my ($method, $path, $access, $src) = @$r;
    (my $p = $path) =~ s/\{(\w+)\}/$fill{$1} \/\/ 'x'/ge;
    $p = '/health' if $p eq '/health';
    for my $who (qw(guest member lab admin)) {
        my @cred = @{ $who{$who} };
        # Signing out would end the shared tokens: use a throwaway one.
        @cred = ('Authorization' => 'Bearer ' . user("rt-$who-$tag-" . int(rand(1e9)) . '@example.org',
                 $who eq 'admin' ? '--admin' : $who eq 'lab' ? '--lab' : ())) if $who ne 'guest' && $path =~ /logout/;
        my @h = (@cred, 'Content-Type' => 'application/json', Accept => 'application/json');
        my $code;
        if ($p eq '/events/stream' && $who ne 'guest') {
            # A live stream: read its status line, then hang up.
            my ($sock, $status) = sse_open($p, @cred);
            close $sock;
            $code = $status;
        }
        else {
            $code = http_req($method, $p, \@h, $method eq 'GET' ? undef : '{}')->code;
        }
        my $want;
        if ($path =~ m{^/account/sso(?:/|$)}) {
            is($code, 401, "$method $path as $who: the SSO module asks first");
        }
        elsif ($access eq 'PUBLIC') {
            ok($code != 401 && $code != 403 && $code != 405 && $code < 500,
               "$method $path as $who: public, no sign-in asked ($code)");
        }
        elsif ($access eq 'MEMBER') {
            if ($who eq 'guest') { is($code, 401, "$method $path as guest: 401") }
            else { ok($code != 401 && $code != 403 && $code != 405 && $code < 500, "$method $path as $who: allowed ($code)") }
        }
        elsif ($access eq 'ADMIN' || $access eq 'LAB') {
            my $may = $who eq 'admin' || ($who eq 'lab' && $access eq 'LAB');
            if ($who eq 'guest') { is($code, 401, "$method $path as guest: 401") }
            elsif (!$may) { is($code, 403, "$method $path as $who: 403") }
            else { ok($code != 401 && $code != 403 && $code < 500, "$method $path as $who: allowed ($code)") }
        }
        else {
            fail("$method $path: unknown access $access");
        }
    }
}

# Admin routes do what they say.
my $victim = "rt-victim-$tag\@example.org";
my $vtok = user($victim);
my $res = http_req('GET', "/api/v1/admin/users?q=rt-victim-$tag", [@{ $who{admin} }]);
my ($v) = @{ json_of($res)->{users} };
is($v->{email}, $victim, 'admin: the user list finds the account');
$res = http_req('POST', "/api/v1/admin/users/$v->{id}/status", ['Content-Type' => 'application/json',
                @{ $who{admin} }], '{"status":"disabled"}');
is($res->code, 200, 'admin: disable an account');
is(http_req('GET', '/api/v1/me', ['Authorization' => "Bearer $vtok"])->code, 401,
   "... its access tokens stop at once");
is(http_req('POST', '/api/v1/auth/login', ['Content-Type' => 'application/json'],
            encode_json({ email => $victim, password => 'correct horse battery' }))->code, 403,
   '... and it cannot sign in');
$res = http_req('POST', "/api/v1/admin/users/$v->{id}/status", ['Content-Type' => 'application/json',
                @{ $who{admin} }], '{"status":"sideways"}');
is($res->code, 400, 'admin: an unknown status is refused');

done_testing();
