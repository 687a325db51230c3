# Two-factor sign-in set up through the settings page in a real browser
# (t/browser/settings.test.mjs): Debian's chromium, headless, driven by
# puppeteer-core with axe-core.  The QR code the server draws as SVG is
# read back with zbarimg (zbar-tools); the member switches two-factor on
# with a code from it, signs in again with the password and a code, and
# makes new recovery codes, and turns mails for downloads off.  Here,
# afterwards: the new codes sign in through the API and the old ones do
# not; a download of their link mails nothing but still notifies.  A missing browser, npm package
# or zbarimg fails, never skips.
use strict;
use warnings FATAL => 'all';
use Test::More;
use File::Temp ();
use JSON::PP ();
use Lenz::Test qw(:DEFAULT psql);
use Lenz::Jobs ();
use Lenz::Member ();

my $env = stack_env();
my $top = top_dir();
my $chromium = $ENV{LENZ_CHROMIUM} // '/usr/bin/chromium';
my $modules = `$top/scripts/fetch-browser-deps.sh`;
chomp $modules;
ok(-x $chromium && node_ok() && -f "$modules/puppeteer-core/package.json",
   "chromium, node and puppeteer-core are there ($modules)");
ok(-x '/usr/bin/zbarimg', "zbarimg is installed (Debian's zbar-tools: scripts/deps.sh)");

my $tag = sprintf('%d%d', time, $$);
my $email = "settings-browser-$tag\@example.org";
my $password = 'correct horse battery';
my $out = `echo '$password' | $top/build/lenzctl -e $env->{LENZ_STACK_DIR}/stack.env create-user $email --name 'Sam Settings' --password-stdin 2>&1`;
is($?, 0, 'a member for the settings page') or diag($out);

my $codes = File::Temp->new(SUFFIX => '.json');
my $t0 = time;
my $r = run_node('browser/settings.test.mjs', 'browser',
                 LENZ_BROWSER_MODULES => $modules, LENZ_CHROMIUM => $chromium,
                 LENZ_MEMBER_EMAIL => $email, LENZ_MEMBER_PASSWORD => $password, LENZ_CODES => "$codes");
Lenz::Jobs::figure(sprintf('two-factor set-up in Chromium: %d pages checked in %d s', $r->{pages} // 0, time - $t0));
ok($r->{pid} && (!kill(0, $r->{pid}) || `cat /proc/$r->{pid}/stat 2>/dev/null` =~ /\) Z/),
   'its Chromium is no longer running');
ok($r->{profile} && !-e $r->{profile}, '... and its profile directory is removed');

my $c = do { local $/; open my $fh, '<', "$codes" or die; my $t = <$fh>; length $t ? JSON::PP->new->decode($t) : {} };
is(scalar @{ $c->{fresh} // [] }, 10, 'the page reported its ten new recovery codes');
my $login = sub { post_json('/api/v1/auth/login', { email => $email, password => $password, totp => $_[0] })->code };
is($login->($password), 401, 'the password alone no longer signs in (two-factor is on)');
is($login->($c->{old}[1] // 'x'), 401, 'an old recovery code does not sign in');
is($login->($c->{fresh}[0] // 'x'), 200, 'a new one does');

# Mails for downloads were turned off in the page: the first download of a
# link of theirs mails nothing, and the in-app notification still comes.
my $res = post_json('/api/v1/auth/login', { email => $email, password => $password, totp => $c->{fresh}[1] // 'x' });
my $tok = json_of($res)->{access_token};
my $name = "quiet-$tag.txt";
my $up = Lenz::Member::upload_small($tok, '/api/v1/uploads', $name, 'not mailed');
my $link = json_of(post_json('/api/v1/links', { file_ids => [$up->{file_id}] }, bearer($tok)));
is(http_get("/download/$link->{token}")->code, 200, 'a first download of one of their links');
ok(Lenz::Jobs::wait_until(sub { psql("SELECT count(*) FROM notifications n JOIN users u ON u.id = n.user_id "
                                     . "WHERE u.email = '$email' AND n.title = 'Downloaded: $name'") == 1 }, 10),
   '... the in-app notification comes');
ok(Lenz::Jobs::wait_until(sub { psql("SELECT dispatched_at IS NOT NULL FROM events WHERE type = 'link.downloaded' "
                                     . "AND payload->>'name' = '$name'") eq 't' }, 10), '... its event fully handled');
ok(!Lenz::Jobs::mail_to($email, 2, qr/Downloaded: \Q$name\E/), '... and no mail about it');

done_testing();
