# The admin console (issue 19), its pages and /api/v1/admin: members found
# by name or address, by prefix or with a typo; one member's roles set by
# exact names (never one's own admin role), their devices ended (at the
# device's next request), their two-factor sign-in reset (they are
# mailed); the job queue (a dead job retried until it is done, a queued
# one cancelled, a schedule run now); the dashboard with its chart and
# table.  Members get 403, guests are sent to sign in; other ids are 404;
# every change is an admin.* event naming the administrator.  (In
# Chromium: t/admin_browser.t.)
use strict;
use warnings FATAL => 'all';
use Test::More;
use JSON::PP ();
use Lenz::Test;
use Lenz::Jobs;
use Lenz::Member;

my $PW = 'correct horse battery';
my $tag = uniq('adm');
my $env = stack_env();
sub mk {
    my ($email, $name, @flags) = @_;
    my ($rc, $out) = (0, '');
    $out = `echo '$PW' | $ENV{LENZ_TOP}/build/lenzctl -e $env->{LENZ_STACK_DIR}/stack.env create-user $email --name '$name' @flags --password-stdin 2>&1`;
    die "create-user: $out" if $?;
    my $res = post_json('/api/v1/auth/login', { email => $email, password => $PW }, 'User-Agent' => "App/$name");
    return json_of($res)->{access_token};
}
sub type_of { (J($_[0])->{type} // '') =~ s{.*[/:]}{}r }
sub page { http_get($_[0], Cookie => $_[1], Accept => 'text/html') }
my $admin_email = "boss-$tag\@example.org";
my $ADM = mk($admin_email, 'Ada Boss', '--admin');
my $admin_id = psql("SELECT id FROM users WHERE email = '$admin_email'");
# Names of letters only, new each run: the tag's digits would make every
# member of this run look alike to a trigram search.
sub word { join '', map { ('a' .. 'z')[int rand 26] } 1 .. 9 }
my ($w, $w2) = (ucfirst(word()), ucfirst(word()));
(my $typo = $w) =~ s/^(....)./$1/;              # one letter dropped
my $pemail = "petra-$tag\@example.org";
my $P = mk($pemail, "Petra $w");
my $pid = psql("SELECT id FROM users WHERE email = '$pemail'");
my $OTHER = mk("other-$tag\@example.org", "Otto $w2");

# --- Who may ---------------------------------------------------------------------------------------
is(http_get('/admin/', Accept => 'text/html')->code, 303, 'a guest at /admin: sent to sign in');
my $res = http_get('/admin/users', bearer($P), Accept => 'text/html');
is($res->code, 403, 'a member at /admin/users: 403');
like($res->header('Content-Type') // '', qr{^text/html}, '... a page');
is(api($P, 'GET', '/admin/users')->code, 403, 'a member at /api/v1/admin/users: 403');
is(api($P, 'GET', '/admin/jobs')->code, 403, '... and /api/v1/admin/jobs');

# --- Finding members -----------------------------------------------------------------------------------
sub found { my ($q) = @_; map { $_->{email} } @{ J(api($ADM, 'GET', '/admin/users?q=' . esc($q)))->{users} // [] } }
ok((grep { $_ eq $pemail } found("petra-$tag")), 'by the start of the address');
ok((grep { $_ eq $pemail } found(lc $w)), "by a word of the name ($w)");
ok((grep { $_ eq $pemail } found($typo)), "with a typo ($typo for $w)");
is((found($typo))[0], $pemail, '... the best match first');
ok(!(grep { $_ eq "other-$tag\@example.org" } found($typo)), '... not the others');
is(scalar(found(word())), 0, 'nothing like it: none');
$res = api($ADM, 'GET', "/admin/users?q=petra-$tag");
my ($u) = @{ J($res)->{users} };
is_deeply([sort keys %$u], [sort qw(id email name status roles created_at totp used last_seen_at quota)], 'each with its fields');
ok(exists J($res)->{next_page}, '... and next_page');
is(api($ADM, 'GET', '/admin/users?page=0')->code, 400, 'page 0: 400');

# --- One member, roles -----------------------------------------------------------------------------------
$res = api($ADM, 'GET', "/admin/users/$pid");
is($res->code, 200, 'GET /admin/users/{id}: 200');
is(scalar(@{ J($res)->{devices} }), 1, '... with their device (the app sign-in)');
is(api($ADM, 'GET', '/admin/users/00000000-0000-4000-8000-000000000000')->code, 404, 'an unknown id: 404');
is(api($ADM, 'GET', '/admin/users/nope')->code, 404, 'a malformed one: 404');
$res = api($ADM, 'PATCH', "/admin/users/$pid", { roles => ['member', 'moderator'] });
is($res->code, 200, 'PATCH roles [member, moderator]: 200');
is_deeply(J($res)->{roles}, ['member', 'moderator'], '... answered');
is_deeply(J(api($P, 'GET', '/me'))->{roles}, ['member', 'moderator'], "... the member's next request has them");
for my $bad (['superuser'], ['Admin'], ['member,admin'], 'member', [1]) {
    $res = api($ADM, 'PATCH', "/admin/users/$pid", { roles => $bad });
    is($res->code . ' ' . (J($res)->{field} // ''), '400 roles', 'roles ' . JSON::PP->new->allow_nonref->encode($bad) . ': 400');
}
$res = api($ADM, 'PATCH', "/admin/users/$admin_id", { roles => ['member'] });
is($res->code . ' ' . type_of($res), '409 own-admin-role', 'taking away one\'s own admin role: 409');
is_deeply(J(api($ADM, 'GET', '/me'))->{roles}, ['member', 'admin'], '... still an admin');
is(api($ADM, 'PATCH', '/admin/users/00000000-0000-4000-8000-000000000000', { roles => ['member'] })->code, 404,
   'roles of an unknown id: 404');
psql("UPDATE users SET roles = roles || '{beta-tester}' WHERE id = '$pid'");
api($ADM, 'PATCH', "/admin/users/$pid", { roles => ['member'] });
like(psql("SELECT roles::text FROM users WHERE id = '$pid'"), qr/^\{beta-tester,member\}$/, "a role of another module's is kept");

# --- Devices -------------------------------------------------------------------------------------------------
$res = form('/account/login', { email => $pemail, password => $PW, next => '/account' }, 'User-Agent' => "Browser/$tag");
my $cookie = cookie_of($res);
is(page('/account', $cookie)->code, 200, 'the member signed in with a browser too');
my @dev = @{ J(api($ADM, 'GET', "/admin/users/$pid"))->{devices} };
my ($browser) = grep { ($_->{client} // '') eq "Browser/$tag" } @dev;
my ($app) = grep { $_->{kind} eq 'app' } @dev;
ok($browser && $app, 'the admin sees both devices');
is(api($ADM, 'DELETE', "/admin/users/" . psql("SELECT id FROM users WHERE email = 'other-$tag\@example.org'")
       . "/devices/$browser->{id}")->code, 404, "the device under another member's id: 404");
is(api($ADM, 'DELETE', "/admin/users/$pid/devices/$browser->{id}")->code, 204, 'DELETE the browser session: 204');
is(page('/account', $cookie)->code, 303, "... the member's browser is signed out at its next request");
is(api($P, 'GET', '/me')->code, 200, '... the app is not');
is(api($ADM, 'DELETE', "/admin/users/$pid/devices/$app->{id}")->code, 204, 'DELETE the app sign-in: 204');
is(api($P, 'GET', '/me')->code, 401, '... its token stops at once');
is(api($ADM, 'DELETE', "/admin/users/$pid/devices/$app->{id}")->code, 404, '... again: 404');

# --- Two-factor reset ----------------------------------------------------------------------------------------
my $P2 = post_json('/api/v1/auth/login', { email => $pemail, password => $PW });
$P = json_of($P2)->{access_token};
my $key = base32_decode(J(api($P, 'POST', '/me/totp'))->{secret});
is(api($P, 'POST', '/me/totp/enable', { code => totp($key, time) })->code, 200, 'the member switches two-factor on');
is(post_json('/api/v1/auth/login', { email => $pemail, password => $PW })->code, 401, '... the password alone no longer signs in');
is(api($ADM, 'POST', "/admin/users/$pid/totp-reset")->code, 204, 'POST /admin/users/{id}/totp-reset: 204');
is(post_json('/api/v1/auth/login', { email => $pemail, password => $PW })->code, 200, '... the password alone signs in again');
ok(mail_to($pemail, 10, qr/switched off by an administrator/), '... and the member is mailed');
is(psql("SELECT count(*) FROM recovery_codes WHERE user_id = '$pid'"), 0, '... their recovery codes are gone');

# --- The job queue ---------------------------------------------------------------------------------------------
my $dead = psql("INSERT INTO jobs (kind, state, attempts, last_error, finished_at) "
                . "VALUES ('selftest', 'dead', 5, 'boom $tag', now()) RETURNING id");
$res = api($ADM, 'GET', '/admin/jobs?state=dead');
is($res->code, 200, 'GET /admin/jobs?state=dead: 200');
ok((grep { $_->{id} == $dead && $_->{last_error} eq "boom $tag" } @{ J($res)->{jobs} }), '... lists the dead job with its error');
ok(J($res)->{counts}{dead} >= 1 && @{ J($res)->{schedules} } >= 7, '... with the counts and the schedules');
is(api($ADM, 'GET', '/admin/jobs?state=zombie')->code, 400, 'an unknown state: 400');
is(api($ADM, 'POST', "/admin/jobs/$dead/retry")->code, 204, 'POST /admin/jobs/{id}/retry: 204');
ok(wait_until(sub { psql("SELECT state FROM jobs WHERE id = $dead") eq 'done' }, 10), '... the runners run it: done');
is(api($ADM, 'POST', "/admin/jobs/$dead/retry")->code, 404, '... retrying a job that is not dead: 404');
is(api($ADM, 'POST', '/admin/jobs/abc/retry')->code, 404, 'a malformed job id: 404');
my $later = psql("INSERT INTO jobs (kind, run_at) VALUES ('selftest', now() + interval '1 hour') RETURNING id");
is(api($ADM, 'POST', "/admin/jobs/$later/cancel")->code, 204, 'cancelling a queued job: 204');
is(psql("SELECT state || ' ' || last_error FROM jobs WHERE id = $later"), 'dead cancelled by an administrator', '... dead, saying why');
is(api($ADM, 'POST', '/admin/schedules/lenz-purge-jobs/run')->code, 204, 'a schedule run now: 204');
ok(psql("SELECT next_run_at <= now() + interval '5 seconds' FROM job_schedules WHERE name = 'lenz-purge-jobs'") eq 't'
   || psql("SELECT last_run_at > now() - interval '1 minute' FROM job_schedules WHERE name = 'lenz-purge-jobs'") eq 't',
   '... it is due (or ran)');
is(api($ADM, 'POST', '/admin/schedules/no-such/run')->code, 404, 'an unknown schedule: 404');

# --- Audit ----------------------------------------------------------------------------------------------------
my %ev = map { $_ => 1 } split /\n/, psql("SELECT DISTINCT type FROM events WHERE actor_id = '$admin_id'");
ok($ev{'admin.roles_changed'} && $ev{'admin.device_ended'} && $ev{'admin.totp_reset'} && $ev{'admin.job_retried'}
   && $ev{'admin.job_cancelled'} && $ev{'admin.schedule_run'},
   'every change is an admin.* event naming the administrator') or diag join ' ', sort keys %ev;

# --- Pages ----------------------------------------------------------------------------------------------------
$res = form('/account/login', { email => $admin_email, password => $PW, next => '/admin/' });
my $ac = cookie_of($res);
$res = page('/admin/', $ac);
is($res->code, 200, 'the dashboard: 200');
like($res->content, qr/<svg[^>]+role="img"[^>]+aria-labelledby="chart-t chart-d"/, '... a chart drawn on the server');
is(scalar(() = $res->content =~ /<tr><th scope="row">\d\d-\d\d<\/th>/g), 30, '... and its 30 days as a table');
like($res->content, qr{href="[^"]*/admin/"[^>]*>Admin</a>}, '... the header links to the console');
http_get('/health');
like(page('/admin/', $ac)->content, qr{<dd id="health">database ok, S3 ok, mail ok \(checked \d+ s ago\)},
     "... the host's last health probe: database, S3 and mail");
unlike(page('/account', $cookie)->content, qr{>Admin</a>}, "a member's header does not");
$res = page('/admin/users?q=' . esc($typo), $ac);
like($res->content, qr/Petra \Q$w\E/, 'the members page finds the typo');
$res = page("/admin/users/$pid", $ac);
is($res->code, 200, "a member's page: 200");
my $csrf = csrf_of($res);
$res = form("/admin/users/$pid/roles", { csrf => $csrf, role_member => 1, role_lab => 1 }, Cookie => $ac);
is($res->code, 303, 'the roles form: 303');
is_deeply(J(api($ADM, 'GET', "/admin/users/$pid"))->{roles}, ['member', 'lab'], '... member and lab');
is(form("/admin/users/$pid/roles", { role_member => 1 }, Cookie => $ac)->code, 403, '... without the CSRF token: 403');
my $dead2 = psql("INSERT INTO jobs (kind, state, attempts, last_error, finished_at) "
                 . "VALUES ('selftest', 'dead', 5, 'boom again', now()) RETURNING id");
like(page('/admin/jobs?state=dead', $ac)->content, qr/Retry job \Q$dead2\E/, 'the jobs page offers to retry it');
$res = form("/admin/jobs/$dead2/retry?back=dead", { csrf => $csrf }, Cookie => $ac);
is($res->code, 303, 'the retry form: 303');
ok(wait_until(sub { psql("SELECT state FROM jobs WHERE id = $dead2") eq 'done' }, 10), '... and it runs');

# --- Links ------------------------------------------------------------------------------------------------------
my $M2 = member("linker-$tag\@example.org");
my $f = upload_small($M2, '/api/v1/uploads', "big-$tag.bin", 'x' x 5000)->{file_id};
my $l = J(api($M2, 'POST', '/links', { file_ids => [$f] }));
is(http_get("/download/$l->{token}")->code, 200, 'a member\'s link, downloaded once');
$res = api($ADM, 'GET', '/admin/links?sort=downloads&owner=' . esc("linker-$tag\@example.org"));
is($res->code, 200, 'GET /admin/links?sort=downloads: 200');
my ($al) = grep { $_->{id} eq $l->{id} } @{ J($res)->{links} };
ok($al && $al->{size} == 5000 && $al->{downloads} == 1 && $al->{owner_email} eq "linker-$tag\@example.org"
   && $al->{kind} eq 'files', '... lists it with its size, downloads, kind and owner') or diag explain $al;
is(api($ADM, 'GET', '/admin/links?sort=name')->code, 400, 'an unknown order: 400');
is(api($ADM, 'DELETE', "/admin/links/$l->{id}")->code, 204, 'DELETE /admin/links/{id}: 204');
is(http_get("/download/$l->{token}")->code, 410, '... the link answers 410 from then on');
is(api($ADM, 'DELETE', "/admin/links/$l->{id}")->code, 404, '... revoking again: 404');
is(api($P, 'DELETE', "/admin/links/$l->{id}")->code, 403, 'a member revoking through the admin API: 403');
like(page('/admin/links', $ac)->content, qr/<h1[^>]*>Links</, 'the links page: 200');

# --- System -----------------------------------------------------------------------------------------------------
$res = api($ADM, 'GET', '/admin/system');
is($res->code, 200, 'GET /admin/system: 200');
my $sys = J($res);
like($sys->{version}, qr/^\d+\.\d+\.\d+$/, "the module's version ($sys->{version})");
like($sys->{httpd}, qr{Apache/2\.4}, "httpd's ($sys->{httpd})");
ok($sys->{keys}{current} >= 1 && (grep { $_->{current} && $_->{held} } @{ $sys->{keys}{versions} }),
   'the current master key version, held');
ok($sys->{keys}{user_keys} >= 1 && defined $sys->{keys}{rotated_percent}, '... how many members\' keys, how far rotated');
my %set = map { $_->{name} => $_->{value} } @{ $sys->{settings} };
is($set{LenzS3AccessKey}, substr($env->{LENZ_S3_ACCESS_KEY}, 0, 4) . "\xe2\x80\xa6", 'the S3 access key masked to 4 characters');
my $secret = do { local $/; open my $fh, '<', $env->{LENZ_S3_SECRET_FILE} or die; <$fh> };
chomp $secret;
ok(index($res->content, $secret) < 0 && index(page('/admin/system', $ac)->content, $secret) < 0,
   '... the S3 secret appears nowhere, API or page');
ok((grep { $_->{name} =~ /^020_/ } @{ $sys->{migrations} }), 'the migrations applied, up to 020');
like(page('/admin/system', $ac)->content, qr/<h1[^>]*>System</, 'the system page: 200');

# --- Status through the page ---------------------------------------------------------------------------------------
$res = form("/admin/users/$pid/status", { csrf => $csrf, status => 'disabled' }, Cookie => $ac);
is($res->code, 303, 'the status form: disabled');
is(api($P, 'GET', '/me')->code, 401, "... the member's token stops at once");
is(form("/admin/users/$pid/status", { csrf => $csrf, status => 'active' }, Cookie => $ac)->code, 303, '... and enabled again');
is(form("/admin/users/$admin_id/status", { csrf => $csrf, status => 'disabled' }, Cookie => $ac)->code, 409,
   'one\'s own status: 409');
ok(psql("SELECT count(*) FROM events WHERE actor_id = '$admin_id' AND type IN ('admin.status_changed', 'admin.link_revoked')") >= 3,
   'status changes and the revoke are admin.* events too');

# --- A member's own quota ---------------------------------------------------------------------------------------
my $Q = member("quota-$tag\@example.org");
my $qid = psql("SELECT id FROM users WHERE email = 'quota-$tag\@example.org'");
my $site = J(api($Q, 'GET', '/me/storage'))->{quota};
ok($site > 0, "a member starts with the site's quota ($site bytes)");
$res = api($ADM, 'PATCH', "/admin/users/$qid", { quota => 10000 });
is($res->code . ' ' . (J($res)->{quota} // ''), '200 10000', 'PATCH quota 10000: 200');
is(J(api($Q, 'GET', '/me/storage'))->{quota}, 10000, '... GET /me/storage says 10000');
$res = api($Q, 'POST', '/uploads/encrypted/initiate', { filename => 'big.bin', size => 20000 });
is($res->code . ' ' . ((J($res)->{type} // '') =~ s/.*://r), '413 quota-exceeded', '... an upload of 20000 bytes: 413');
ok(eval { upload_small($Q, '/api/v1/uploads', 'small.bin', 's' x 5000) }, '... one of 5000 goes');
$res = api($Q, 'POST', '/uploads/encrypted/initiate', { filename => 'more.bin', size => 6000 });
is($res->code, 413, '... and 6000 more would pass it: 413');
for my $bad (-1, 'x', 1.5, 2 ** 51) {
    $res = api($ADM, 'PATCH', "/admin/users/$qid", { quota => $bad });
    is($res->code . ' ' . (J($res)->{field} // ''), '400 quota', "quota $bad: 400");
}
$res = api($ADM, 'PATCH', "/admin/users/$qid", { quota => undef });
ok($res->code == 200 && !defined J($res)->{quota}, 'quota null: the site\'s again');
is(J(api($Q, 'GET', '/me/storage'))->{quota}, $site, '... GET /me/storage says so');
is(form("/admin/users/$qid/quota", { csrf => $csrf, quota_mib => 3 }, Cookie => $ac)->code, 303, 'the quota form: 3 MiB');
is(J(api($Q, 'GET', '/me/storage'))->{quota}, 3 * 1048576, '... 3145728 bytes');
like(page("/admin/users/$qid", $ac)->content, qr/id="quota-mib" name="quota_mib" value="3"/, '... shown on the page');
is(form("/admin/users/$qid/quota", { csrf => $csrf, quota_mib => 'lots' }, Cookie => $ac)->code, 400, '... "lots": 400');
is(form("/admin/users/$qid/quota", { csrf => $csrf, quota_mib => '' }, Cookie => $ac)->code, 303, '... empty: the site\'s');
is(J(api($Q, 'GET', '/me/storage'))->{quota}, $site, '... back to it');

# --- Bytes served per day ---------------------------------------------------------------------------------------
my $today_bytes = sub { psql("SELECT coalesce((SELECT bytes_out FROM daily_traffic "
                             . "WHERE day = (now() AT TIME ZONE 'UTC')::date), 0)") };
my $b0 = $today_bytes->();
my $T = member("traffic-$tag\@example.org");
my $tf = upload_small($T, '/api/v1/uploads', 'served.bin', 'S' x 300_000)->{file_id};
my $tl = J(api($T, 'POST', '/links', { file_ids => [$tf] }));
ok(length(http_get("/download/$tl->{token}")->content) >= 300_000, 'a download of 300,000 bytes (and a ZIP\'s framing)');
# The runners add this host's sum on each pass; an event wakes them.
ok(wait_until(sub { api($T, 'PATCH', '/me', { name => 'Tess ' . int(rand 1e6) }); $today_bytes->() >= $b0 + 300_000 }, 15),
   "today's bytes served grow by at least those 300,000 (" . ($today_bytes->() - $b0) . ')');
$res = page('/admin/', $ac);
my ($cell) = $res->content =~ /<td class="num" data-bytes="(\d+)">[^<]*<\/td><\/tr>\s*<\/tbody>/;
ok(defined $cell && $cell >= $b0 + 300_000, "the dashboard's last row (today) shows them ($cell bytes)");
like($res->content, qr/<dd id="served">[^<]+<\/dd>/, '... and the 30 days\' total');

# --- A new sign-up code ---------------------------------------------------------------------------------------
my $pend = "pending-$tag\@example.org";
is(post_json('/api/v1/auth/register', { email => $pend, password => $PW, name => 'Pat Pending' })->code, 202,
   'someone signs up and never types the code');
my $pend_id = psql("SELECT id FROM users WHERE email = '$pend'");
my $codes_for = sub { my @c; for my $f (mail_files()) { my $m = read_file($f);
                      push @c, $1 if $m =~ /^X-Envelope-To: <\Q$pend\E>\r?$/m && $m =~ /^\s+(\d{6})\r?$/m } @c };
ok(wait_until(sub { $codes_for->() == 1 }, 10), '... their first code was mailed');
$res = api($ADM, 'POST', "/admin/users/$pend_id/resend-verification");
is($res->code . ' ' . (J($res)->{status} // ''), '202 verification_sent', 'POST .../resend-verification: 202');
ok(wait_until(sub { $codes_for->() == 2 }, 10), '... a second code is mailed');
my $c2 = ($codes_for->())[-1];
is(post_json('/api/v1/auth/verify', { email => $pend, code => $c2 })->code, 200, '... which verifies the address');
$res = api($ADM, 'POST', "/admin/users/$pend_id/resend-verification");
is($res->code . ' ' . ((J($res)->{type} // '') =~ s/.*://r), '409 not-pending', 'once verified: 409 not-pending');
is(api($ADM, 'POST', '/admin/users/00000000-0000-4000-8000-000000000000/resend-verification')->code, 404, 'an unknown id: 404');

done_testing();
