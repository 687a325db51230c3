# Notification preferences (issue 19): per kind in the app and/or by mail,
# and mails at once or as a digest.  Through GET/PATCH
# /api/v1/me/notification-preferences and the settings page's form:
# mails for downloads turned off -> the first download of a link mails
# nothing while the in-app notification still comes; in-app off -> no
# notification; a digest -> no mail at once, then one mail listing what
# waited when lenz-mail-digest runs (and none before the hour is up);
# security notices stay mailed; bad input is 400.
use strict;
use warnings FATAL => 'all';
use Test::More;
use JSON::PP ();
use Lenz::Test;
use Lenz::Jobs;
use Lenz::Member;

my $tag = uniq('np');
my $email = "a-$tag\@example.org";
my $A = member($email);
my $id = psql("SELECT id FROM users WHERE email = '$email'");
my $T = JSON::PP::true();
my $F = JSON::PP::false();
sub prefs { J(api($A, 'GET', '/me/notification-preferences')) }
# A new file with a link, downloaded once (its first download): the link's id.
sub shared_and_downloaded {
    my ($name) = @_;
    my $f = upload_small($A, '/api/v1/uploads', $name, "content of $name")->{file_id};
    my $l = J(api($A, 'POST', '/links', { file_ids => [$f] }));
    my $res = http_get("/download/$l->{token}");
    die 'download: ' . $res->code unless $res->code == 200;
    return $l->{id};
}
sub notes_for { psql("SELECT count(*) FROM notifications WHERE user_id = '$id' AND type = 'link.downloaded' "
                     . "AND title = 'Downloaded: $_[0]'") }
sub dispatched { my ($n) = @_; wait_until(sub { psql("SELECT count(*) FROM events WHERE type = 'link.downloaded' "
                                                     . "AND payload->>'name' = '$n' AND dispatched_at IS NOT NULL") }, 10) }
sub mails_about { my ($n) = @_; scalar grep { my $m = read_file($_); $m =~ /^X-Envelope-To: <\Q$email\E>\r?$/m && $m =~ /\Q$n\E/ } mail_files() }

# --- Defaults ----------------------------------------------------------------------------------------
my $p = prefs();
is_deeply($p, { digest => 'off', kinds => { downloads => { in_app => $T, mail => $T },
                                           requests => { in_app => $T, mail => $T },
                                           (map { $_ => { in_app => $T, mail => $T } } qw(shares comments topics)),
                                           security => { in_app => $F, mail => $T, fixed => $T } } },
          'GET /me/notification-preferences: everything on, mails at once, security fixed');
shared_and_downloaded("one-$tag.txt");
ok(mail_to($email, 10, qr/Downloaded: one-\Q$tag\E/), 'by default the first download is mailed');
ok(wait_until(sub { notes_for("one-$tag.txt") == 1 }, 10), '... and notified in the app');

# --- Mails for downloads off ----------------------------------------------------------------------------
my $res = api($A, 'PATCH', '/me/notification-preferences', { kinds => { downloads => { mail => $F } } });
is($res->code, 200, 'PATCH kinds.downloads.mail false: 200');
is_deeply(J($res)->{kinds}{downloads}, { in_app => $T, mail => $F }, '... answered with the new choices');
is_deeply(J($res)->{kinds}{requests}, { in_app => $T, mail => $T }, '... the other kind untouched');
shared_and_downloaded("two-$tag.txt");
ok(dispatched("two-$tag.txt"), 'a first download after that: its event dispatched');
ok(wait_until(sub { notes_for("two-$tag.txt") == 1 }, 10), '... the in-app notification comes');
sleep 1;
is(mails_about("two-$tag.txt"), 0, '... and no mail (none queued either)');
is(psql("SELECT count(*) FROM jobs WHERE kind = 'mail' AND payload::text LIKE '%two-$tag%'"), 0, '... no mail job');

# --- In-app off ---------------------------------------------------------------------------------------------
api($A, 'PATCH', '/me/notification-preferences', { kinds => { downloads => { in_app => $F, mail => $T } } });
shared_and_downloaded("three-$tag.txt");
ok(dispatched("three-$tag.txt"), 'in-app off, mail on: the event dispatched');
ok(mail_to($email, 10, qr/Downloaded: three-\Q$tag\E/), '... the mail comes');
is(notes_for("three-$tag.txt"), 0, '... no in-app notification');

# --- A digest --------------------------------------------------------------------------------------------
$res = api($A, 'PATCH', '/me/notification-preferences', { digest => 'hourly', kinds => { downloads => { in_app => $T } } });
is(J($res)->{digest}, 'hourly', 'digest hourly');
shared_and_downloaded("four-$tag.txt");
shared_and_downloaded("five-$tag.txt");
ok(dispatched("four-$tag.txt") && dispatched("five-$tag.txt"), 'two first downloads dispatched');
is(mails_about("four-$tag.txt") + mails_about("five-$tag.txt"), 0, '... no mail at once');
is(psql("SELECT count(*) FROM digest_items WHERE user_id = '$id'"), 2, '... both wait for the digest');
psql("UPDATE users SET digest_sent_at = now() - interval '10 minutes' WHERE id = '$id'");
my ($rc, $out) = ctl('run-schedule', 'lenz-mail-digest');
is($rc, 0, 'lenz-mail-digest run now') or diag $out;
ok(wait_until(sub { psql("SELECT count(*) FROM jobs WHERE kind = 'lenz-mail-digest' AND state = 'done'") > 0 }, 10),
   '... done');
is(psql("SELECT count(*) FROM digest_items WHERE user_id = '$id'"), 2, '... but ten minutes after the last one: nothing sent');
psql("UPDATE users SET digest_sent_at = now() - interval '61 minutes' WHERE id = '$id'");
my $before = psql("SELECT count(*) FROM jobs WHERE kind = 'lenz-mail-digest' AND state = 'done'");
($rc, $out) = ctl('run-schedule', 'lenz-mail-digest');
ok(wait_until(sub { psql("SELECT count(*) FROM jobs WHERE kind = 'lenz-mail-digest' AND state = 'done'") > $before }, 10),
   'an hour after the last one: run again');
my $digest = mail_to($email, 10, qr/^Subject: Lenzeye: 2 new notices/m);
ok($digest, 'one digest mail: "2 new notices"');
like($digest // '', qr/Downloaded: four-\Q$tag\E.*Downloaded: five-\Q$tag\E/s, '... listing both downloads in order');
is(psql("SELECT count(*) FROM digest_items WHERE user_id = '$id'"), 0, '... taken from the queue');
ok(psql("SELECT digest_sent_at > now() - interval '1 minute' FROM users WHERE id = '$id'") eq 't', '... and the time noted');

# Turned off with items waiting: they go at the next run.
shared_and_downloaded("six-$tag.txt");
ok(dispatched("six-$tag.txt") && psql("SELECT count(*) FROM digest_items WHERE user_id = '$id'") == 1, 'one more waits');
api($A, 'PATCH', '/me/notification-preferences', { digest => 'off' });
$before = psql("SELECT count(*) FROM jobs WHERE kind = 'lenz-mail-digest' AND state = 'done'");
ctl('run-schedule', 'lenz-mail-digest');
ok(mail_to($email, 10, qr/^Subject: Lenzeye: 1 new notice\r?$/m), 'the digest turned off: what waited is sent at the next run');

# --- Security notices stay mailed --------------------------------------------------------------------------
$res = api($A, 'PATCH', '/me/notification-preferences', { kinds => { security => { mail => $F } } });
is($res->code . ' ' . (J($res)->{field} // ''), '400 kinds.security', 'security mails cannot be turned off: 400');
$res = api($A, 'POST', '/me/password', { current_password => 'correct horse battery', password => 'another long password' });
is($res->code, 204, 'a password change...');
ok(mail_to($email, 10, qr/Your password was changed/), '... is mailed whatever the choices');

# --- Bad input -------------------------------------------------------------------------------------------------
for my $b ([{ digest => 'weekly' }, 'digest'], [{ digest => 1 }, 'digest'], [{ kinds => [] }, 'kinds'],
           [{ kinds => { uploads => { mail => $F } } }, 'kinds.uploads'],
           [{ kinds => { downloads => { mail => 'no' } } }, 'kinds.downloads.mail'],
           [{ kinds => { downloads => 'off' } }, 'kinds.downloads']) {
    $res = api($A, 'PATCH', '/me/notification-preferences', $b->[0]);
    is($res->code . ' ' . (J($res)->{field} // ''), "400 $b->[1]", "bad $b->[1]: 400 naming it");
}
is(api(undef, 'GET', '/me/notification-preferences')->code, 401, 'a guest: 401');

# --- The page's form -------------------------------------------------------------------------------------------
$res = form('/account/login', { email => $email, password => 'another long password', next => '/account/settings' });
my $cookie = cookie_of($res);
$res = http_get('/account/settings', Cookie => $cookie, Accept => 'text/html');
like($res->content, qr/id="notifications".*name="downloads_in_app" value="1"[^>]* checked/s, 'the page shows the choices');
my $csrf = csrf_of($res);
$res = form('/account/settings/notifications', { csrf => $csrf, requests_in_app => 1, digest => 'daily' },
            Cookie => $cookie, Accept => 'text/html');
is($res->code, 303, 'the form: 303');
$p = prefs();
is_deeply([$p->{digest}, $p->{kinds}{downloads}, $p->{kinds}{requests}],
          ['daily', { in_app => $F, mail => $F }, { in_app => $T, mail => $F }], '... unticked boxes turn things off');
$res = form('/account/settings/notifications', { csrf => $csrf, digest => 'sometimes' }, Cookie => $cookie, Accept => 'text/html');
is($res->code, 400, '... a digest not offered: 400');
is(form('/account/settings/notifications', { digest => 'off' }, Cookie => $cookie)->code, 403, '... without the CSRF token: 403');

done_testing();
